//! A device's side of sync, pure: how an edit becomes the record's pending mutation, and how the
//! server's answers (push results, pulled records) change the device's copy. The browser app keeps
//! these values in IndexedDB and the fault-injection harness keeps them in memory; both call only
//! this, so what the harness proves is what the tablet does.
//!
//! Each record has at most one pending mutation (the outbox entry). Later edits fold into it under a
//! new mutation id, so a replayed or late answer for an older id can never acknowledge the newer
//! edit. A pending mutation keeps the base revision of its first unsent edit: the person never saw
//! what others changed since, so those fields must meet as conflicts at the server, not be
//! overwritten.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::merge::changed_fields;
use crate::protocol::{
    DeviceId, Fields, Mutation, MutationId, MutationResult, Outcome, Record, DELETED_FIELD,
};
use crate::FieldError;

/// One record as a device holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Replica {
    /// What the device shows: the server's latest version it has, with its own unsent edits on top.
    pub record: Record,
    /// The latest server version the device holds (None until the server has answered for it).
    pub base: Option<Record>,
    /// The outbox entry: everything not yet acknowledged, as one mutation.
    pub pending: Option<Mutation>,
    /// Set when the server refused `pending`: the reasons, per field. It is not resent until the
    /// person edits the record again.
    pub rejected: Option<Vec<FieldError>>,
}

/// What a person saved, relative to what they were looking at.
#[derive(Debug, Clone, PartialEq)]
pub struct Edit {
    /// The record as the form showed it when opened (None for a new record).
    pub seen: Option<Record>,
    pub fields: Fields,
    pub deleted: bool,
    /// Fields in conflict that the person settled: written even when the chosen value is the one
    /// already shown, because writing them is what tells the server the conflict is resolved.
    pub resolved: BTreeSet<String>,
}

impl Replica {
    /// A record the server sent that the device did not have.
    pub fn from_server(server: Record) -> Replica {
        Replica {
            record: server.clone(),
            base: Some(server),
            pending: None,
            rejected: None,
        }
    }

    /// Applies an edit to the device's current copy (`current`, None for a new record whose
    /// identity is `template`). `id` must be greater than every mutation id this device made
    /// before. Returns None when the edit changes nothing.
    pub fn edit(
        current: Option<Replica>,
        template: Record,
        edit: &Edit,
        id: MutationId,
        device: DeviceId,
    ) -> Option<Replica> {
        let empty = Fields::new();
        let seen_fields = edit.seen.as_ref().map_or(&empty, |s| &s.fields);
        let mut touched: BTreeSet<String> = match &edit.seen {
            Some(_) => changed_fields(seen_fields, &edit.fields),
            None => edit.fields.keys().cloned().collect(),
        };
        touched.extend(
            edit.resolved
                .iter()
                .filter(|f| f.as_str() != DELETED_FIELD)
                .cloned(),
        );
        // settling a delete-versus-edit conflict is a write of the tombstone, whichever way it goes
        let deletion_changed = edit.resolved.contains(DELETED_FIELD)
            || edit
                .seen
                .as_ref()
                .map_or(edit.deleted, |s| s.deleted != edit.deleted);
        if touched.is_empty() && !deletion_changed {
            return None;
        }

        let Replica {
            mut record,
            base,
            pending,
            ..
        } = current.unwrap_or(Replica {
            record: template,
            base: None,
            pending: None,
            rejected: None,
        });
        // Others' changes pulled since the form opened stay; only what this person touched is theirs.
        for field in &touched {
            match edit.fields.get(field) {
                Some(value) => record.fields.insert(field.clone(), value.clone()),
                None => record.fields.remove(field),
            };
        }
        if deletion_changed {
            record.deleted = edit.deleted;
        }
        record
            .conflicts
            .retain(|c| !edit.resolved.contains(&c.field));

        let (base_revision, mut changed) = match &pending {
            Some(p) => (p.base_revision, p.changed.clone()),
            None => (
                edit.seen
                    .as_ref()
                    .map_or(0, |s| s.revision)
                    .min(base.as_ref().map_or(0, |b| b.revision)),
                BTreeSet::new(),
            ),
        };
        changed.extend(touched);
        let mutation = Mutation {
            id,
            device,
            record: record.clone(),
            base_revision,
            changed,
        };
        Some(Replica {
            record,
            base,
            pending: Some(mutation),
            rejected: None,
        })
    }

    /// The server's answer to a mutation this device sent (possibly an older one, answered late or
    /// twice).
    pub fn apply_push_result(&mut self, result: &MutationResult) {
        let current = self
            .pending
            .as_ref()
            .is_some_and(|p| p.id == result.mutation);
        match (&result.outcome, &result.record) {
            (Outcome::Rejected { errors }, _) => {
                if current {
                    self.rejected = Some(errors.clone());
                }
            }
            (_, Some(server)) => {
                if current {
                    self.pending = None;
                    self.rejected = None;
                }
                self.take_server(server);
            }
            (_, None) => {}
        }
    }

    /// A record from a pull page.
    pub fn apply_pull(&mut self, server: &Record) {
        self.take_server(server);
    }

    /// Adopts a server version unless the device already holds a newer one: a replayed answer
    /// carries the record as it was then, and going back to it would hide later changes that the
    /// pull cursor has already passed.
    fn take_server(&mut self, server: &Record) {
        if self
            .base
            .as_ref()
            .is_some_and(|b| b.revision > server.revision)
        {
            if self.pending.is_none() {
                self.record = self.base.clone().expect("checked above");
            }
            return;
        }
        self.base = Some(server.clone());
        self.record = match &self.pending {
            Some(pending) => rebase(server, pending),
            None => server.clone(),
        };
    }

    /// Whether the device has something to send for this record.
    pub fn sendable(&self) -> Option<&Mutation> {
        self.pending.as_ref().filter(|_| self.rejected.is_none())
    }
}

/// The server's version with the device's unsent changes on top.
pub fn rebase(server: &Record, pending: &Mutation) -> Record {
    let mut record = server.clone();
    for field in &pending.changed {
        match pending.record.fields.get(field) {
            Some(value) => record.fields.insert(field.clone(), value.clone()),
            None => record.fields.remove(field),
        };
    }
    record.deleted = pending.record.deleted;
    record
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::org::UnitCode;
    use crate::protocol::{DataSet, Period, RecordId};
    use serde_json::json;
    use uuid::Uuid;

    fn record(fields: serde_json::Value, revision: u64) -> Record {
        Record {
            id: RecordId(Uuid::from_u128(1)),
            data_set: DataSet::Household,
            org_unit: UnitCode::parse("03646").unwrap(),
            period: Period::parse("2023").unwrap(),
            fields: serde_json::from_value(fields).unwrap(),
            revision,
            deleted: false,
            conflicts: Vec::new(),
        }
    }

    fn edit(seen: &Record, fields: serde_json::Value) -> Edit {
        Edit {
            seen: Some(seen.clone()),
            fields: serde_json::from_value(fields).unwrap(),
            deleted: false,
            resolved: BTreeSet::new(),
        }
    }

    fn mid(n: u128) -> MutationId {
        MutationId(Uuid::from_u128(n))
    }

    #[test]
    fn a_stale_form_does_not_undo_changes_pulled_since_it_opened() {
        let opened = record(json!({"a": 1, "b": 1}), 5);
        let mut replica = Replica::from_server(opened.clone());
        replica.apply_pull(&record(json!({"a": 2, "b": 1}), 8)); // someone changed a meanwhile
        let dev = DeviceId(Uuid::from_u128(9));
        let after = Replica::edit(
            Some(replica),
            opened.clone(),
            &edit(&opened, json!({"a": 1, "b": 7})),
            mid(10),
            dev,
        )
        .unwrap();
        let pending = after.pending.unwrap();
        assert_eq!(pending.changed, BTreeSet::from(["b".to_string()]));
        assert_eq!(pending.base_revision, 5, "based on what the person saw");
        assert_eq!(after.record.fields["a"], json!(2), "the pulled value stays");
        assert_eq!(after.record.fields["b"], json!(7));
    }

    #[test]
    fn folding_keeps_the_first_base_and_every_changed_field() {
        let seen = record(json!({"a": 1, "b": 1}), 5);
        let dev = DeviceId(Uuid::from_u128(9));
        let first = Replica::edit(
            Some(Replica::from_server(seen.clone())),
            seen.clone(),
            &edit(&seen, json!({"a": 2, "b": 1})),
            mid(10),
            dev,
        )
        .unwrap();
        let mut replica = first.clone();
        replica.apply_pull(&record(json!({"a": 1, "b": 3}), 9)); // b changed elsewhere
        let shown = replica.record.clone();
        assert_eq!(shown.fields["a"], json!(2));
        let second = Replica::edit(
            Some(replica),
            seen.clone(),
            &edit(&shown, json!({"a": 2, "b": 4})),
            mid(11),
            dev,
        )
        .unwrap();
        let pending = second.pending.unwrap();
        assert_eq!(pending.id, mid(11));
        assert_eq!(pending.base_revision, 5);
        assert_eq!(
            pending.changed,
            BTreeSet::from(["a".to_string(), "b".to_string()])
        );
    }

    #[test]
    fn a_late_answer_for_an_older_mutation_neither_acknowledges_nor_rewinds() {
        let seen = record(json!({"a": 1}), 5);
        let dev = DeviceId(Uuid::from_u128(9));
        let mut replica = Replica::edit(
            Some(Replica::from_server(seen.clone())),
            seen.clone(),
            &edit(&seen, json!({"a": 2})),
            mid(11),
            dev,
        )
        .unwrap();
        replica.apply_pull(&record(json!({"a": 1, "z": 1}), 12));
        replica.apply_push_result(&MutationResult {
            mutation: mid(10),
            outcome: Outcome::Applied { revision: 7 },
            record: Some(record(json!({"a": 9}), 7)),
        });
        assert_eq!(replica.pending.as_ref().unwrap().id, mid(11));
        assert_eq!(replica.base.as_ref().unwrap().revision, 12);
        assert_eq!(replica.record.fields["a"], json!(2));

        // the current mutation's answer replayed after a newer pull: acknowledged, not rewound
        replica.apply_push_result(&MutationResult {
            mutation: mid(11),
            outcome: Outcome::Applied { revision: 10 },
            record: Some(record(json!({"a": 2}), 10)),
        });
        assert!(replica.pending.is_none());
        assert_eq!(replica.record.revision, 12);
    }

    #[test]
    fn resolving_a_conflict_writes_the_field_even_unchanged() {
        let mut seen = record(json!({"a": 2}), 5);
        seen.conflicts.push(crate::protocol::Conflict {
            field: "a".into(),
            versions: Vec::new(),
            held: None,
        });
        let dev = DeviceId(Uuid::from_u128(9));
        let mut e = edit(&seen, json!({"a": 2}));
        assert!(Replica::edit(
            Some(Replica::from_server(seen.clone())),
            seen.clone(),
            &e,
            mid(10),
            dev
        )
        .is_none());
        e.resolved.insert("a".into());
        let after = Replica::edit(
            Some(Replica::from_server(seen.clone())),
            seen.clone(),
            &e,
            mid(10),
            dev,
        )
        .unwrap();
        assert!(after.record.conflicts.is_empty());
        assert_eq!(after.pending.unwrap().base_revision, 5);
    }

    #[test]
    fn a_refused_change_waits_for_a_new_edit() {
        let seen = record(json!({"a": 1}), 5);
        let dev = DeviceId(Uuid::from_u128(9));
        let mut replica = Replica::edit(
            Some(Replica::from_server(seen.clone())),
            seen.clone(),
            &edit(&seen, json!({"a": -1})),
            mid(10),
            dev,
        )
        .unwrap();
        replica.apply_push_result(&MutationResult {
            mutation: mid(10),
            outcome: Outcome::Rejected { errors: Vec::new() },
            record: None,
        });
        assert!(replica.sendable().is_none());
        let shown = replica.record.clone();
        let fixed = Replica::edit(
            Some(replica),
            seen,
            &edit(&shown, json!({"a": 3})),
            mid(11),
            dev,
        )
        .unwrap();
        assert!(fixed.sendable().is_some());
    }
}
