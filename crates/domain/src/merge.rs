//! The merge rule the server applies to each mutation, pure so it is tested without a database.
//!
//! Each stored field carries a stamp: the revision and the mutation that last wrote it. A field the
//! mutation changed is *concurrent* when its stamp is newer than the mutation's base revision and came
//! from another device. Concurrent and equal: nothing to do. Concurrent and different: a conflict, won by
//! the greater mutation id, with every version kept. The tombstone is the pseudo-field `_deleted`, and
//! every mutation writes it, so a deletion and a concurrent edit meet as a conflict, never silently.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::protocol::{
    Conflict, ConflictVersion, DeviceId, Fields, Mutation, MutationId, Outcome, Record,
    ACCEPTED_REPORT, DELETED_FIELD, NO_DEVICE,
};
use crate::FieldError;

/// Who last wrote a field, and at which revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    pub revision: u64,
    pub mutation: MutationId,
    pub device: DeviceId,
    /// Another device that wrote the same value concurrently (two officers typed the same number).
    /// The stamp names one writer; this keeps the other, so that a later write by either device that
    /// has not seen the other's is still concurrent with it, and meets it as a conflict rather than
    /// writing over a value its writer never saw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub also: Option<CoWriter>,
}

/// The other writer of a value two devices wrote alike ([`Stamp::also`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoWriter {
    pub revision: u64,
    pub mutation: MutationId,
    pub device: DeviceId,
}

/// A record as the server stores it: the record plus a stamp per field (including `_deleted`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredRecord {
    pub record: Record,
    pub stamps: BTreeMap<String, Stamp>,
}

/// Applies one mutation to the stored record (None when the server has never seen the record).
/// `revision` is the server's next sequence number; it becomes the record's revision if anything is
/// written. Returns the new stored record (None when rejected) and the outcome for the device.
pub fn apply(
    current: Option<&StoredRecord>,
    mutation: &Mutation,
    revision: u64,
) -> (Option<StoredRecord>, Outcome) {
    let incoming = mutation.record.merge_fields();
    let stamp = Stamp {
        revision,
        mutation: mutation.id,
        device: mutation.device,
        also: None,
    };
    let Some(current) = current else {
        // a new record: everything the device sent is written
        let stamps = incoming
            .keys()
            .map(|k| (k.clone(), stamp.clone()))
            .collect();
        let mut record = mutation.record.clone();
        record.revision = revision;
        record.conflicts.clear();
        return (
            Some(StoredRecord { record, stamps }),
            Outcome::Applied { revision },
        );
    };
    if mutation.base_revision > current.record.revision {
        // a device cannot have seen a revision the server never made; believing it would clear
        // open conflicts as if a person had resolved them
        let errors = vec![FieldError::new(
            "base_revision",
            "unknown_revision",
            format!(
                "Máy này báo đã thấy bản {} nhưng máy chủ mới có bản {}; hãy đồng bộ lại",
                mutation.base_revision, current.record.revision
            ),
            format!(
                "Based on revision {} but the server has only {}; sync again",
                mutation.base_revision, current.record.revision
            ),
        )];
        return (None, Outcome::Rejected { errors });
    }
    if let Some(errors) = identity_errors(&current.record, &mutation.record) {
        return (None, Outcome::Rejected { errors });
    }

    let mut fields = current.record.merge_fields();
    let mut stamps = current.stamps.clone();
    let mut conflicts: BTreeMap<String, Conflict> = current
        .record
        .conflicts
        .iter()
        .map(|c| (c.field.clone(), c.clone()))
        .collect();
    let mut conflicted = Vec::new();
    let mut changed_any = false;

    // the device always states whether the record is deleted
    let changed = mutation
        .changed
        .iter()
        .map(String::as_str)
        .chain([DELETED_FIELD]);
    for field in changed {
        let new_value = incoming.get(field).cloned().unwrap_or(Value::Null);
        let old_value = fields.get(field).cloned().unwrap_or(Value::Null);
        // concurrent: written at a revision this device had not seen, by another device (the stamp's
        // writer, or the co-writer of a value two devices wrote alike)
        let concurrent = stamps.get(field).and_then(|s| {
            if s.revision > mutation.base_revision && s.device != mutation.device {
                Some((s.mutation, s.device, s.revision))
            } else if s.device == mutation.device && s.mutation > mutation.id {
                None // an older write of the stamp's own device: stale, below
            } else {
                s.also
                    .as_ref()
                    .filter(|co| {
                        co.revision > mutation.base_revision && co.device != mutation.device
                    })
                    .map(|co| (co.mutation, co.device, co.revision))
            }
        });
        match concurrent {
            None => {
                // sequential: a later write by this device, or a write based on the latest revision.
                // An older write from the same device arriving late does not undo a newer one.
                let stale = stamps
                    .get(field)
                    .is_some_and(|s| s.device == mutation.device && s.mutation > mutation.id);
                if stale {
                    continue;
                }
                if mutation.base_revision >= stamps.get(field).map_or(0, |s| s.revision) {
                    conflicts.remove(field); // the person saw the latest state: this resolves it
                } else if conflicts.contains_key(field) && new_value != old_value {
                    // The field is in an open conflict this writer has not seen in full (its own
                    // device wrote the shown version, so the write is not "concurrent"): its new
                    // value joins the versions. Overwriting would drop the other side's value.
                    let winner = add_version(&mut conflicts, field, mutation, new_value, None);
                    changed_any |= fields.get(field) != Some(&winner.value);
                    fields.insert(field.to_string(), winner.value.clone());
                    stamps.insert(
                        field.to_string(),
                        Stamp {
                            revision,
                            mutation: winner.mutation,
                            device: winner.device,
                            also: None,
                        },
                    );
                    conflicted.push(field.to_string());
                    continue;
                }
                // a write refreshes the stamp even when the value is unchanged: for `_deleted`, that is
                // how a deletion later learns that someone edited the record concurrently
                changed_any |= new_value != old_value;
                fields.insert(field.to_string(), new_value);
                stamps.insert(field.to_string(), stamp.clone());
            }
            Some((their_mutation, their_device, their_revision)) => {
                if new_value == old_value && !conflicts.contains_key(field) {
                    // both sides wrote the same value: no conflict. The stamp keeps the greater
                    // writer, so that later merges do not depend on which came first, and names the
                    // other as its co-writer (see `Stamp::also`)
                    let current_stamp = stamps.get(field).cloned().expect("concurrent: stamped");
                    let joined = if mutation.id > their_mutation {
                        Stamp {
                            also: Some(CoWriter {
                                revision: their_revision,
                                mutation: their_mutation,
                                device: their_device,
                            }),
                            ..stamp.clone()
                        }
                    } else {
                        Stamp {
                            also: Some(CoWriter {
                                revision,
                                mutation: mutation.id,
                                device: mutation.device,
                            }),
                            ..current_stamp
                        }
                    };
                    stamps.insert(field.to_string(), joined);
                    continue;
                }
                let winner = add_version(
                    &mut conflicts,
                    field,
                    mutation,
                    new_value,
                    Some(ConflictVersion {
                        mutation: their_mutation,
                        device: their_device,
                        value: old_value,
                    }),
                );
                changed_any |= fields.get(field) != Some(&winner.value);
                fields.insert(field.to_string(), winner.value.clone());
                stamps.insert(
                    field.to_string(),
                    Stamp {
                        revision,
                        mutation: winner.mutation,
                        device: winner.device,
                        also: None,
                    },
                );
                conflicted.push(field.to_string());
            }
        }
    }

    let deleted = fields
        .remove(DELETED_FIELD)
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    let conflicts: Vec<Conflict> = conflicts.into_values().collect();
    // any new stamp needs a new revision, or a device holding the old revision would mistake the
    // stamp for a concurrent change
    let touched = changed_any || stamps != current.stamps || conflicts != current.record.conflicts;
    let record = Record {
        fields,
        deleted,
        conflicts,
        revision: if touched {
            revision
        } else {
            current.record.revision
        },
        ..current.record.clone()
    };
    let revision = record.revision;
    let outcome = if !conflicted.is_empty() {
        Outcome::Conflict {
            revision,
            fields: conflicted,
            locked: false,
        }
    } else if mutation.base_revision < current.record.revision {
        let kept_from_server = current
            .stamps
            .iter()
            .filter(|(k, s)| {
                s.revision > mutation.base_revision
                    && k.as_str() != DELETED_FIELD
                    && !mutation.changed.contains(*k)
            })
            .map(|(k, _)| k.clone())
            .collect();
        Outcome::Merged {
            revision,
            kept_from_server,
        }
    } else {
        Outcome::Applied { revision }
    };
    (Some(StoredRecord { record, stamps }), outcome)
}

/// Adds `value`, written by `mutation`, to the conflict on `field` (opened with `theirs`, the stored
/// side, when there is none yet) and returns the winner. A conflict keeps one version per distinct
/// value, written by the greatest mutation that wrote it: a function of the set of writers, not of
/// their order.
fn add_version(
    conflicts: &mut BTreeMap<String, Conflict>,
    field: &str,
    mutation: &Mutation,
    value: Value,
    theirs: Option<ConflictVersion>,
) -> ConflictVersion {
    let entry = conflicts
        .entry(field.to_string())
        .or_insert_with(|| Conflict {
            field: field.to_string(),
            versions: theirs.into_iter().collect(),
            held: None,
        });
    // an ordinary merge: a lock that held a version shown is over (the report was returned)
    entry.held = None;
    match entry.versions.iter_mut().find(|v| v.value == value) {
        Some(v) if v.mutation < mutation.id => {
            v.mutation = mutation.id;
            v.device = mutation.device;
        }
        Some(_) => {}
        None => entry.versions.push(ConflictVersion {
            mutation: mutation.id,
            device: mutation.device,
            value,
        }),
    }
    entry.versions.sort_by_key(|v| v.mutation);
    entry.versions.last().expect("has versions").clone()
}

/// Applies one mutation to a record of a report the district accepted (the commune's records of
/// that data set and period are locked until the report is returned). Nothing the accepted report
/// shows changes: each changed field (the tombstone included) whose value differs from the stored one
/// becomes a conflict whose `held` version is the stored value (still shown) and whose other version
/// is the device's, so the officer and the district see it after the next pull and settle it once
/// the report is returned. A field written with its stored value changes nothing, and settles an
/// open conflict on it when the writer had seen the latest revision. A new record is stored deleted
/// (it was not in the accepted report), with the device's fields and a conflict on `_deleted`
/// between [`ACCEPTED_REPORT`]'s `true` (held) and the device's `false`. The outcome is a conflict
/// marked `locked`, or as [`apply`] would answer when nothing needed to wait.
pub fn apply_locked(
    current: Option<&StoredRecord>,
    mutation: &Mutation,
    revision: u64,
) -> (Option<StoredRecord>, Outcome) {
    let Some(current) = current else {
        if mutation.record.deleted {
            return apply(None, mutation, revision); // a tombstone shows nothing: nothing to hold
        }
        let (stored, _) = apply(None, mutation, revision);
        let mut stored = stored.expect("a new record is always written");
        stored.record.deleted = true;
        stored.stamps.insert(
            DELETED_FIELD.into(),
            Stamp {
                revision,
                mutation: ACCEPTED_REPORT,
                device: NO_DEVICE,
                also: None,
            },
        );
        stored.record.conflicts = vec![Conflict {
            field: DELETED_FIELD.into(),
            versions: vec![
                ConflictVersion {
                    mutation: ACCEPTED_REPORT,
                    device: NO_DEVICE,
                    value: Value::Bool(true),
                },
                ConflictVersion {
                    mutation: mutation.id,
                    device: mutation.device,
                    value: Value::Bool(false),
                },
            ],
            held: Some(ACCEPTED_REPORT),
        }];
        let outcome = Outcome::Conflict {
            revision,
            fields: vec![DELETED_FIELD.into()],
            locked: true,
        };
        return (Some(stored), outcome);
    };
    // the same refusals as an ordinary merge
    if mutation.base_revision > current.record.revision
        || identity_errors(&current.record, &mutation.record).is_some()
    {
        return apply(Some(current), mutation, revision);
    }
    let incoming = mutation.record.merge_fields();
    let fields = current.record.merge_fields();
    let mut conflicts: BTreeMap<String, Conflict> = current
        .record
        .conflicts
        .iter()
        .map(|c| (c.field.clone(), c.clone()))
        .collect();
    let mut stamps = current.stamps.clone();
    let mut held_fields = Vec::new();
    let changed = mutation
        .changed
        .iter()
        .map(String::as_str)
        .chain([DELETED_FIELD]);
    for field in changed {
        let new_value = incoming.get(field).cloned().unwrap_or(Value::Null);
        let old_value = fields.get(field).cloned().unwrap_or(Value::Null);
        let stamp = current.stamps.get(field);
        if stamp.is_some_and(|s| s.device == mutation.device && s.mutation > mutation.id) {
            continue; // an older write of the device that wrote the value shown
        }
        if new_value == old_value {
            if mutation.base_revision >= current.record.revision {
                conflicts.remove(field); // seen in full and kept as accepted: settled
            }
            continue;
        }
        let shown = ConflictVersion {
            mutation: stamp.map_or(ACCEPTED_REPORT, |s| s.mutation),
            device: stamp.map_or(NO_DEVICE, |s| s.device),
            value: old_value.clone(),
        };
        let entry = conflicts
            .entry(field.to_string())
            .or_insert_with(|| Conflict {
                field: field.to_string(),
                versions: Vec::new(),
                held: None,
            });
        // the shown value's version, found by its value, or added from the field's stamp
        let held = match entry.versions.iter().find(|v| v.value == old_value) {
            Some(v) => v.mutation,
            None => {
                entry.versions.push(shown.clone());
                shown.mutation
            }
        };
        match entry.versions.iter_mut().find(|v| v.value == new_value) {
            Some(v) if v.mutation < mutation.id => {
                v.mutation = mutation.id;
                v.device = mutation.device;
            }
            Some(_) => {}
            None => entry.versions.push(ConflictVersion {
                mutation: mutation.id,
                device: mutation.device,
                value: new_value,
            }),
        }
        entry.versions.sort_by_key(|v| v.mutation);
        entry.held = Some(held);
        held_fields.push(field.to_string());
        // the field's stamp moves to this revision (same writer): a device that has not seen the
        // conflict and writes the field later meets it, rather than settling it unseen
        let stamp = stamps.entry(field.to_string()).or_insert(Stamp {
            revision,
            mutation: ACCEPTED_REPORT,
            device: NO_DEVICE,
            also: None,
        });
        stamp.revision = revision;
    }
    let conflicts: Vec<Conflict> = conflicts.into_values().collect();
    let touched = conflicts != current.record.conflicts || stamps != current.stamps;
    let record = Record {
        conflicts,
        revision: if touched {
            revision
        } else {
            current.record.revision
        },
        ..current.record.clone()
    };
    let revision = record.revision;
    let outcome = if !held_fields.is_empty() {
        Outcome::Conflict {
            revision,
            fields: held_fields,
            locked: true,
        }
    } else if mutation.base_revision < current.record.revision {
        Outcome::Merged {
            revision,
            kept_from_server: Vec::new(),
        }
    } else {
        Outcome::Applied { revision }
    };
    (Some(StoredRecord { record, stamps }), outcome)
}

/// A mutation may not move a record to another data set, unit or period.
fn identity_errors(current: &Record, incoming: &Record) -> Option<Vec<FieldError>> {
    let mut errors = Vec::new();
    if current.data_set != incoming.data_set {
        errors.push(FieldError::new(
            "data_set",
            "immutable",
            "Không thể đổi loại dữ liệu của bản ghi đã có".into(),
            "The data set of an existing record cannot change".into(),
        ));
    }
    if current.org_unit != incoming.org_unit {
        errors.push(FieldError::new(
            "org_unit",
            "immutable",
            "Không thể chuyển bản ghi sang đơn vị khác bằng cách sửa".into(),
            "A record cannot be moved to another unit by editing it".into(),
        ));
    }
    if current.period != incoming.period {
        errors.push(FieldError::new(
            "period",
            "immutable",
            "Không thể đổi kỳ báo cáo của bản ghi đã có".into(),
            "The period of an existing record cannot change".into(),
        ));
    }
    (!errors.is_empty()).then_some(errors)
}

/// Convenience for devices: the fields that differ between the base and the local version.
pub fn changed_fields(base: &Fields, local: &Fields) -> std::collections::BTreeSet<String> {
    base.keys()
        .chain(local.keys())
        .filter(|k| base.get(*k) != local.get(*k))
        .cloned()
        .collect()
}

/// A draft brought forward over what is stored now (bản nháp gặp dữ liệu mới): `draft` was typed
/// over `base`, and `stored` is the record as it stands now (a colleague's values may have arrived
/// by sync meanwhile). A key the draft typed keeps the typed value (or stays removed); every other
/// key takes the stored value. So reopening a draft, or a sync arriving while the officer types,
/// never puts back the values the form was opened with over a colleague's newer ones.
pub fn rebase_draft<V: PartialEq + Clone>(
    base: &BTreeMap<String, V>,
    draft: &BTreeMap<String, V>,
    stored: &BTreeMap<String, V>,
) -> BTreeMap<String, V> {
    let mut merged = stored.clone();
    for key in base.keys().chain(draft.keys()) {
        if base.get(key) == draft.get(key) {
            continue;
        }
        match draft.get(key) {
            Some(typed) => merged.insert(key.clone(), typed.clone()),
            None => merged.remove(key),
        };
    }
    merged
}
