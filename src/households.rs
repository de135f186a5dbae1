//! The officer's operations on households: save, delete, list. Each save writes the record and its
//! outbox entry together (see `storage`), so nothing typed is ever only half kept.

use std::cell::RefCell;

use thidua_domain::org::UnitCode;
use thidua_domain::poverty::Household;
use thidua_domain::protocol::{
    DataSet, DeviceId, IdGenerator, Mutation, MutationId, Period, Record, RecordId,
};
use uuid::Uuid;

use crate::storage::{changes_since_base, LocalRecord, Result, Store, SyncState};

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
    /// Reads the device id from storage, making one on first start.
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
        Ok(Device {
            id,
            ids: RefCell::new(IdGenerator::default()),
        })
    }

    /// A new UUIDv7, greater than every id this page made before.
    pub fn new_id(&self) -> Uuid {
        self.ids
            .borrow_mut()
            .next(js_sys::Date::now() as u64, random_bytes::<10>())
    }
}

/// Saves a household (new when `existing` is None). Returns what was stored.
pub async fn save_household(
    store: &Store,
    device: &Device,
    existing: Option<LocalRecord>,
    commune: &UnitCode,
    period: &Period,
    household: &Household,
) -> Result<LocalRecord> {
    let fields = household.to_fields();
    let (id, base, conflicts) = match &existing {
        Some(local) => (
            local.record.id,
            local.base.clone(),
            local.record.conflicts.clone(),
        ),
        None => (RecordId(device.new_id()), None, Vec::new()),
    };
    let record = Record {
        id,
        data_set: DataSet::Household,
        org_unit: commune.clone(),
        period: period.clone(),
        fields,
        revision: base.as_ref().map_or(0, |b| b.revision),
        deleted: false,
        conflicts,
    };
    store_edit(store, device, record, base).await
}

/// Deletes a household: a tombstone that travels like any other change.
pub async fn delete_household(
    store: &Store,
    device: &Device,
    local: LocalRecord,
) -> Result<LocalRecord> {
    let mut record = local.record.clone();
    record.deleted = true;
    store_edit(store, device, record, local.base).await
}

async fn store_edit(
    store: &Store,
    device: &Device,
    record: Record,
    base: Option<Record>,
) -> Result<LocalRecord> {
    let changed = changes_since_base(base.as_ref(), &record.fields);
    let deletion_changed = base.as_ref().is_some_and(|b| b.deleted != record.deleted);
    let mutation = match changed {
        Some(changed) => Some(changed),
        None if deletion_changed => Some(Default::default()),
        None => None,
    }
    .map(|changed| Mutation {
        id: MutationId(device.new_id()),
        device: device.id,
        record: record.clone(),
        base_revision: base.as_ref().map_or(0, |b| b.revision),
        changed,
    });
    let local = LocalRecord {
        id: record.id.to_string(),
        org_unit: record.org_unit.to_string(),
        sync: if mutation.is_some() {
            SyncState::Pending
        } else {
            SyncState::Synced
        },
        errors: Vec::new(),
        record,
        base,
    };
    store.save(local.clone(), mutation).await?;
    Ok(local)
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
                && !l.record.deleted
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
    list.sort_by_key(key);
    Ok(list)
}
