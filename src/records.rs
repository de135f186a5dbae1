//! Saving the one record a unit has for a period (an NTM assessment, a target report): built from
//! what the officer saw and what they typed, stored with its outbox entry, then handed to sync.

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
    let services = crate::services();
    let template = Record {
        id: RecordId::of_unit_period(data_set, &selection.commune, &selection.period),
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
        deleted: false,
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
