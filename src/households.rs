//! The officer's operations on households: save, delete, list. Each save writes the record and its
//! outbox entry together (see `storage`), so nothing typed is ever only half kept.

use std::cell::RefCell;
use std::collections::BTreeSet;

use thidua_domain::client::Edit;
use thidua_domain::org::UnitCode;
use thidua_domain::poverty::{Household, CARRIED_FROM, POSITION};
use thidua_domain::protocol::{
    DataSet, DeviceId, IdGenerator, MutationId, Period, Record, RecordId,
};
use uuid::Uuid;

use crate::storage::{LocalRecord, Result, Store, META_LAST_MUTATION};

const META_DEVICE: &str = "device_id";

/// Random bytes from the browser's CSPRNG.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    let filled = web_sys::window()
        .and_then(|w| w.crypto().ok())
        .map(|c| c.get_random_values_with_u8_array(&mut bytes).is_ok())
        .unwrap_or(false);
    if !filled {
        // no crypto (very old browser): Math.random is enough to keep ids distinct on one device
        for b in bytes.iter_mut() {
            *b = (js_sys::Math::random() * 256.0) as u8;
        }
    }
    bytes
}

/// This browser profile's identity and id maker.
pub struct Device {
    pub id: DeviceId,
    ids: RefCell<IdGenerator>,
}

impl Device {
    /// Reads the device id from storage, making one on first start, and resumes the id maker after
    /// the last mutation id stored, so ids keep growing even if the clock was set back meanwhile.
    pub async fn load(store: &Store) -> Result<Device> {
        let id = match store.meta::<String>(META_DEVICE).await? {
            Some(text) => DeviceId::parse(&text).ok(),
            None => None,
        };
        let id = match id {
            Some(id) => id,
            None => {
                let id =
                    DeviceId(uuid::Builder::from_random_bytes(random_bytes::<16>()).into_uuid());
                store.set_meta(META_DEVICE, &id.to_string()).await?;
                id
            }
        };
        let last = store
            .meta::<String>(META_LAST_MUTATION)
            .await?
            .and_then(|t| Uuid::parse_str(&t).ok());
        Ok(Device {
            id,
            ids: RefCell::new(IdGenerator::new(last)),
        })
    }

    /// A new UUIDv7, greater than every id this device made before.
    pub fn new_id(&self) -> Uuid {
        self.ids
            .borrow_mut()
            .next(js_sys::Date::now() as u64, random_bytes::<10>())
    }
}

/// Saves a household with the record's fields that are not on the form (`extras`: its position).
#[allow(clippy::too_many_arguments)]
pub async fn save_household_with(
    store: &Store,
    device: &Device,
    seen: Option<&LocalRecord>,
    new_id: RecordId,
    commune: &UnitCode,
    period: &Period,
    household: &Household,
    extras: thidua_domain::protocol::Fields,
    resolved: BTreeSet<String>,
) -> Result<Option<LocalRecord>> {
    save(
        store,
        device,
        seen,
        Some(new_id),
        commune,
        period,
        household,
        extras,
        resolved,
    )
    .await
}

/// Saves a household as the officer saw it (`seen`, None for a new one) and changed it. `resolved`
/// names conflicted fields the officer settled. Returns what was stored (None: nothing changed).
pub async fn save_household(
    store: &Store,
    device: &Device,
    seen: Option<&LocalRecord>,
    commune: &UnitCode,
    period: &Period,
    household: &Household,
    resolved: BTreeSet<String>,
) -> Result<Option<LocalRecord>> {
    // the record's fields that are not the household's answers stay as they were
    let extras = seen
        .map(|l| {
            l.record
                .fields
                .iter()
                .filter(|(k, _)| [POSITION, crate::photos::PHOTOS].contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    save(
        store, device, seen, None, commune, period, household, extras, resolved,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn save(
    store: &Store,
    device: &Device,
    seen: Option<&LocalRecord>,
    new_id: Option<RecordId>,
    commune: &UnitCode,
    period: &Period,
    household: &Household,
    extras: thidua_domain::protocol::Fields,
    resolved: BTreeSet<String>,
) -> Result<Option<LocalRecord>> {
    let template = Record {
        id: seen.map_or_else(
            || new_id.unwrap_or_else(|| RecordId(device.new_id())),
            |l| l.record.id,
        ),
        data_set: DataSet::Household,
        org_unit: commune.clone(),
        period: period.clone(),
        fields: Default::default(),
        revision: 0,
        deleted: false,
        conflicts: Vec::new(),
    };
    let mut fields = household.to_fields();
    fields.extend(extras.into_iter().filter(|(_, v)| !v.is_null()));
    // the link to last year's list is not on the form: it stays as it was
    if let Some(link) = seen.and_then(|l| l.record.fields.get(CARRIED_FROM)) {
        fields.insert(CARRIED_FROM.into(), link.clone());
    }
    let edit = Edit {
        seen: seen.map(|l| l.record.clone()),
        fields,
        deleted: false,
        resolved,
    };
    store
        .edit(template, &edit, MutationId(device.new_id()), device.id)
        .await
}

/// Deletes a household: a tombstone that travels like any other change.
pub async fn delete_household(
    store: &Store,
    device: &Device,
    seen: &LocalRecord,
    resolved: BTreeSet<String>,
) -> Result<Option<LocalRecord>> {
    let edit = Edit {
        seen: Some(seen.record.clone()),
        fields: seen.record.fields.clone(),
        deleted: true,
        resolved,
    };
    store
        .edit(
            seen.record.clone(),
            &edit,
            MutationId(device.new_id()),
            device.id,
        )
        .await
}

/// The commune's households to show: not deleted, ordered by village then head of household.
pub async fn households_of(
    store: &Store,
    commune: &UnitCode,
    period: &Period,
) -> Result<Vec<LocalRecord>> {
    let mut list: Vec<LocalRecord> = store
        .records_of(commune.as_str())
        .await?
        .into_iter()
        .filter(|l| {
            l.record.data_set == DataSet::Household
                && (!l.record.deleted || deletion_in_conflict(&l.record))
                && &l.record.period == period
        })
        .collect();
    let key = |l: &LocalRecord| {
        let text = |f: &str| {
            l.record
                .fields
                .get(f)
                .and_then(|v| v.as_str())
                .map(thidua_domain::text::search_key)
                .unwrap_or_default()
        };
        (text("village"), text("head_name"))
    };
    // each key folds two names' diacritics: computed once per household, not at every comparison
    list.sort_by_cached_key(key);
    Ok(list)
}

/// A deletion that met a concurrent edit: the household stays listed, marked, until someone settles it.
pub fn deletion_in_conflict(record: &Record) -> bool {
    record
        .conflicts
        .iter()
        .any(|c| c.field == thidua_domain::protocol::DELETED_FIELD)
}

/// Carries last year's household list over into this year's review (the review starts from last
/// year's list): each household of `from` not yet carried becomes a record of `to` with the same
/// answers, linked back to it. Returns how many were carried. Safe to repeat, and on two devices at
/// once: a carried household's id is derived from the original's.
pub async fn carry_over(
    store: &Store,
    device: &Device,
    commune: &UnitCode,
    from: &Period,
    to: &Period,
) -> Result<usize> {
    let mut carried = 0;
    for original in households_of(store, commune, from).await? {
        if original.record.deleted {
            continue; // listed only because of an open delete conflict
        }
        let id = RecordId::carried(original.record.id, to);
        if store.record(&id.to_string()).await?.is_some() {
            continue;
        }
        let mut fields = original.record.fields.clone();
        fields.insert(
            CARRIED_FROM.into(),
            serde_json::Value::String(original.record.id.to_string()),
        );
        let template = Record {
            id,
            data_set: DataSet::Household,
            org_unit: commune.clone(),
            period: to.clone(),
            fields: Default::default(),
            revision: 0,
            deleted: false,
            conflicts: Vec::new(),
        };
        let edit = Edit {
            seen: None,
            fields,
            deleted: false,
            resolved: BTreeSet::new(),
        };
        if store
            .edit(template, &edit, MutationId(device.new_id()), device.id)
            .await?
            .is_some()
        {
            carried += 1;
        }
    }
    Ok(carried)
}
