//! Saving a record built from what the person saw and what they typed (the one record a unit has
//! for a period, like an NTM assessment or a target report, or one of many, like an advanced
//! example): stored with its outbox entry, then handed to sync.

use thidua_domain::client::Edit;
use thidua_domain::protocol::{DataSet, Fields, MutationId, Record, RecordId};

use crate::pages::Selection;
use crate::storage::{LocalRecord, Result};
use crate::sync::SyncStatus;

/// Saves `fields` as the unit's record of `data_set` for the selected period (`seen`: the record as
/// the screen showed it, None before the first save). Returns what was stored; None: nothing changed.
pub async fn save_unit_record(
    selection: &Selection,
    data_set: DataSet,
    seen: Option<&LocalRecord>,
    fields: Fields,
    status: SyncStatus,
) -> Result<Option<LocalRecord>> {
    let id = RecordId::of_unit_period(data_set, &selection.commune, &selection.period);
    save_record(selection, data_set, id, seen, fields, false, status).await
}

/// Saves (or, with `deleted`, deletes) record `id` of `data_set` in the selected unit and period:
/// the edit folds into the device's copy and its outbox entry in one transaction, then sync is
/// asked to send it.
pub async fn save_record(
    selection: &Selection,
    data_set: DataSet,
    id: RecordId,
    seen: Option<&LocalRecord>,
    fields: Fields,
    deleted: bool,
    status: SyncStatus,
) -> Result<Option<LocalRecord>> {
    let services = crate::services();
    let template = Record {
        id,
        data_set,
        org_unit: selection.commune.clone(),
        period: selection.period.clone(),
        fields: Fields::new(),
        revision: 0,
        deleted: false,
        conflicts: Vec::new(),
    };
    let edit = Edit {
        seen: seen.map(|l| l.record.clone()),
        fields,
        deleted,
        resolved: Default::default(),
    };
    let saved = services
        .store
        .edit(
            template,
            &edit,
            MutationId(services.device.new_id()),
            services.device.id,
        )
        .await?;
    // the badge counts the change at once; sync sends it as soon as it can
    crate::sync::refresh_counts(&services.store, status).await;
    services.trigger.fire();
    Ok(saved)
}

/// What a screen says after saving its record: that it is on the device and will be sent, or why not.
pub fn outcome_message(
    result: &Result<Option<LocalRecord>>,
    lang: thidua_domain::Lang,
) -> std::result::Result<String, String> {
    let locale = crate::i18n::Locale::from(lang);
    match result {
        Ok(_) => Ok(crate::i18n::td_string!(locale, records.saved).into()),
        Err(e) => Err(e.message(lang)),
    }
}
