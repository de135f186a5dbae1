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
    DELETED_FIELD,
};
use crate::FieldError;

/// Who last wrote a field, and at which revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
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
        let concurrent = stamps
            .get(field)
            .filter(|s| s.revision > mutation.base_revision && s.device != mutation.device);
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
            Some(theirs) => {
                let theirs = theirs.clone();
                if new_value == old_value && !conflicts.contains_key(field) {
                    // both sides wrote the same value: no conflict; the stamp keeps the greater writer
                    // so that later merges do not depend on which came first
                    if mutation.id > theirs.mutation {
                        stamps.insert(field.to_string(), stamp.clone());
                    }
                    continue;
                }
                let winner = add_version(
                    &mut conflicts,
                    field,
                    mutation,
                    new_value,
                    Some(ConflictVersion {
                        mutation: theirs.mutation,
                        device: theirs.device,
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
        });
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
