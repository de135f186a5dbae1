use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use serde_json::{json, Value};
use thidua_domain::merge::{apply, apply_locked, rebase_draft, StoredRecord};
use thidua_domain::org::UnitCode;
use thidua_domain::protocol::{
    DataSet, DeviceId, Fields, Mutation, MutationId, Outcome, Period, Record, RecordId,
    ACCEPTED_REPORT,
};
use uuid::Uuid;

fn id(n: u128) -> Uuid {
    // UUIDv7 layout with a readable counter in the timestamp, so greater n = later
    Uuid::from_u128((n << 80) | (0x7u128 << 76) | (0x8u128 << 60))
}

fn record(fields: Fields, deleted: bool) -> Record {
    Record {
        id: RecordId(id(1)),
        data_set: DataSet::Household,
        org_unit: UnitCode::parse("03646").unwrap(),
        period: Period::parse("2023").unwrap(),
        fields,
        revision: 0,
        deleted,
        conflicts: vec![],
    }
}

fn mutation(n: u128, device: u128, base: u64, changes: &[(&str, Value)]) -> Mutation {
    let fields: Fields = changes
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    Mutation {
        id: MutationId(id(n)),
        device: DeviceId(Uuid::from_u128(device)),
        record: record(fields, false),
        base_revision: base,
        changed: changes.iter().map(|(k, _)| k.to_string()).collect(),
    }
}

fn deletion(n: u128, device: u128, base: u64) -> Mutation {
    let mut m = mutation(n, device, base, &[]);
    m.record.deleted = true;
    m
}

/// The record as created on the server at revision 1: head "A", village "B", members 3.
fn created() -> StoredRecord {
    let m = mutation(
        10,
        1,
        0,
        &[
            ("head_name", json!("A")),
            ("village", json!("B")),
            ("members", json!(3)),
        ],
    );
    let (stored, outcome) = apply(None, &m, 1);
    assert_eq!(outcome, Outcome::Applied { revision: 1 });
    stored.unwrap()
}

#[test]
fn edit_based_on_the_latest_revision_is_applied() {
    let (stored, outcome) = apply(
        Some(&created()),
        &mutation(20, 2, 1, &[("members", json!(4))]),
        2,
    );
    assert_eq!(outcome, Outcome::Applied { revision: 2 });
    let stored = stored.unwrap();
    assert_eq!(stored.record.fields["members"], json!(4));
    assert_eq!(stored.record.fields["head_name"], json!("A"));
    assert_eq!(stored.record.revision, 2);
}

#[test]
fn concurrent_edits_of_different_fields_merge() {
    let (s2, _) = apply(
        Some(&created()),
        &mutation(20, 2, 1, &[("members", json!(4))]),
        2,
    );
    let (s3, outcome) = apply(
        s2.as_ref(),
        &mutation(30, 3, 1, &[("village", json!("Bản Mới"))]),
        3,
    );
    assert_eq!(
        outcome,
        Outcome::Merged {
            revision: 3,
            kept_from_server: vec!["members".into()]
        }
    );
    let r = s3.unwrap().record;
    assert_eq!(
        (r.fields["members"].clone(), r.fields["village"].clone()),
        (json!(4), json!("Bản Mới"))
    );
    assert!(r.conflicts.is_empty());
}

#[test]
fn concurrent_edits_of_the_same_field_keep_both_with_the_later_mutation_winning() {
    let (s2, _) = apply(
        Some(&created()),
        &mutation(30, 2, 1, &[("members", json!(4))]),
        2,
    );
    let (s3, outcome) = apply(
        s2.as_ref(),
        &mutation(20, 3, 1, &[("members", json!(5))]),
        3,
    );
    assert_eq!(
        outcome,
        Outcome::Conflict {
            revision: 3,
            fields: vec!["members".into()],
            locked: false,
        }
    );
    let r = s3.clone().unwrap().record;
    assert_eq!(
        r.fields["members"],
        json!(4),
        "mutation 30 is later than 20, so it wins"
    );
    let versions: Vec<Value> = r.conflicts[0]
        .versions
        .iter()
        .map(|v| v.value.clone())
        .collect();
    assert_eq!(versions, [json!(5), json!(4)]);

    // a person resolves it by writing the field based on the latest revision
    let (s4, outcome) = apply(
        s3.as_ref(),
        &mutation(40, 3, 3, &[("members", json!(5))]),
        4,
    );
    assert_eq!(outcome, Outcome::Applied { revision: 4 });
    let r = s4.unwrap().record;
    assert_eq!(r.fields["members"], json!(5));
    assert!(r.conflicts.is_empty());
}

#[test]
fn same_value_written_on_both_sides_is_no_conflict() {
    let (s2, _) = apply(
        Some(&created()),
        &mutation(20, 2, 1, &[("members", json!(4))]),
        2,
    );
    let (_, outcome) = apply(
        s2.as_ref(),
        &mutation(30, 3, 1, &[("members", json!(4))]),
        3,
    );
    assert!(matches!(outcome, Outcome::Merged { .. }), "{outcome:?}");
}

#[test]
fn deletion_and_concurrent_edit_meet_as_a_conflict() {
    let (s2, _) = apply(
        Some(&created()),
        &mutation(20, 2, 1, &[("members", json!(4))]),
        2,
    );
    let (s3, outcome) = apply(s2.as_ref(), &deletion(30, 3, 1), 3);
    assert_eq!(
        outcome,
        Outcome::Conflict {
            revision: 3,
            fields: vec!["_deleted".into()],
            locked: false,
        }
    );
    let r = s3.unwrap().record;
    assert!(r.deleted, "the later mutation (the deletion) wins");
    assert_eq!(
        r.fields["members"],
        json!(4),
        "the edit is still there to restore"
    );
    assert_eq!(r.conflicts[0].field, "_deleted");
}

#[test]
fn an_older_mutation_of_the_same_device_arriving_late_does_not_undo_a_newer_one() {
    let (s2, _) = apply(
        Some(&created()),
        &mutation(30, 2, 1, &[("members", json!(6))]),
        2,
    );
    let (s3, _) = apply(
        s2.as_ref(),
        &mutation(20, 2, 1, &[("members", json!(5)), ("village", json!("C"))]),
        3,
    );
    let r = s3.unwrap().record;
    assert_eq!(r.fields["members"], json!(6));
    assert_eq!(r.fields["village"], json!("C"));
}

#[test]
fn a_base_revision_the_server_never_made_is_refused() {
    let (s2, _) = apply(
        Some(&created()),
        &mutation(20, 2, 1, &[("members", json!(4))]),
        2,
    );
    let (s3, _) = apply(
        s2.as_ref(),
        &mutation(15, 3, 1, &[("members", json!(5))]),
        3,
    );
    let conflicted = s3.unwrap();
    assert_eq!(conflicted.record.conflicts.len(), 1);
    // claiming to have seen revision 99 must not "resolve" the conflict
    let (stored, outcome) = apply(
        Some(&conflicted),
        &mutation(30, 3, 99, &[("members", json!(5))]),
        4,
    );
    assert!(stored.is_none());
    let Outcome::Rejected { errors } = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(errors[0].field, "base_revision");
}

#[test]
fn a_record_cannot_be_moved_by_an_edit() {
    let mut m = mutation(20, 2, 1, &[("members", json!(4))]);
    m.record.org_unit = UnitCode::parse("03649").unwrap();
    let (stored, outcome) = apply(Some(&created()), &m, 2);
    assert!(stored.is_none());
    let Outcome::Rejected { errors } = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(errors[0].field, "org_unit");
}

const FIELDS: [&str; 4] = ["head_name", "village", "members", "income_per_person_month"];

/// A concurrent mutation from its own device: which fields it changes, to what, and whether it deletes.
fn concurrent() -> impl Strategy<Value = Vec<(Vec<(usize, i64)>, bool)>> {
    proptest::collection::vec(
        (
            proptest::collection::vec((0usize..FIELDS.len(), 0i64..3), 0..4),
            proptest::bool::weighted(0.15),
        ),
        1..6,
    )
}

fn build(spec: &[(Vec<(usize, i64)>, bool)]) -> Vec<Mutation> {
    spec.iter()
        .enumerate()
        .map(|(i, (changes, delete))| {
            let changes: BTreeMap<&str, Value> = changes
                .iter()
                .map(|(f, v)| (FIELDS[*f], json!(v)))
                .collect();
            let changes: Vec<(&str, Value)> = changes.into_iter().collect();
            let mut m = mutation(100 + (i as u128 * 7919) % 97, 1000 + i as u128, 1, &changes);
            m.record.deleted = *delete;
            m
        })
        .collect()
}

fn run(order: &[usize], mutations: &[Mutation]) -> Record {
    let mut stored = created();
    for (n, &i) in order.iter().enumerate() {
        let (next, outcome) = apply(Some(&stored), &mutations[i], 2 + n as u64);
        assert!(!matches!(outcome, Outcome::Rejected { .. }));
        stored = next.unwrap();
    }
    stored.record
}

proptest! {
    #[test]
    fn no_written_value_is_lost(spec in concurrent(), seed in any::<u64>()) {
        let mutations = build(&spec);
        let mut order: Vec<usize> = (0..mutations.len()).collect();
        shuffle(&mut order, seed);
        let r = run(&order, &mutations);
        for m in &mutations {
            for field in m.changed.iter().map(String::as_str).chain(["_deleted"]) {
                let written = if field == "_deleted" { json!(m.record.deleted) } else { m.record.fields[field].clone() };
                let shown = if field == "_deleted" { json!(r.deleted) } else { r.fields.get(field).cloned().unwrap_or(Value::Null) };
                let kept = r.conflicts.iter().any(|c| c.field == field && c.versions.iter().any(|v| v.value == written && v.mutation >= m.id));
                // the value is shown, or kept in a conflict; a value equal to the shown one needs no conflict
                prop_assert!(shown == written || kept, "{field}: wrote {written}, shows {shown}, conflicts {:?}", r.conflicts);
            }
        }
    }

    #[test]
    fn any_order_of_arrival_gives_the_same_record(spec in concurrent(), seed_a in any::<u64>(), seed_b in any::<u64>()) {
        let mutations = build(&spec);
        let mut a: Vec<usize> = (0..mutations.len()).collect();
        let mut b = a.clone();
        shuffle(&mut a, seed_a);
        shuffle(&mut b, seed_b);
        let (ra, rb) = (run(&a, &mutations), run(&b, &mutations));
        prop_assert_eq!(&ra.fields, &rb.fields);
        prop_assert_eq!(ra.deleted, rb.deleted);
        prop_assert_eq!(&ra.conflicts, &rb.conflicts);
        // the conflict winner is always the greatest mutation among the versions
        for c in &ra.conflicts {
            let greatest = c.versions.iter().map(|v| v.mutation).max().unwrap();
            prop_assert_eq!(c.winner().unwrap().mutation, greatest);
            let shown = if c.field == "_deleted" { json!(ra.deleted) } else { ra.fields[&c.field].clone() };
            prop_assert_eq!(&c.winner().unwrap().value, &shown);
        }
        let distinct: BTreeSet<_> = ra.conflicts.iter().map(|c| c.field.clone()).collect();
        prop_assert_eq!(distinct.len(), ra.conflicts.len());
    }
}

fn shuffle(order: &mut [usize], mut seed: u64) {
    for i in (1..order.len()).rev() {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        order.swap(i, (seed >> 33) as usize % (i + 1));
    }
}

/// Found by the fault-injection harness: a device whose own value is shown in an open conflict writes
/// again without having seen the whole conflict; another device then adds a version. The second
/// write of the first device must stay visible, not vanish under the conflict's winner.
#[test]
fn a_write_into_an_open_conflict_joins_its_versions() {
    let base = created(); // revision 1
                          // device 2 writes members 5 (rev 2); device 3, concurrently, 6 with a smaller id: conflict, 5 shown
    let (s, _) = apply(
        Some(&base),
        &mutation(30, 2, 1, &[("members", json!(5))]),
        2,
    );
    let (s, outcome) = apply(s.as_ref(), &mutation(25, 3, 1, &[("members", json!(6))]), 3);
    assert!(matches!(outcome, Outcome::Conflict { .. }));
    // device 2, which saw only its own revision 2, writes 7
    let (s, _) = apply(s.as_ref(), &mutation(40, 2, 2, &[("members", json!(7))]), 4);
    // device 3, which saw revision 3 but not 4, writes 8
    let (s, _) = apply(s.as_ref(), &mutation(50, 3, 3, &[("members", json!(8))]), 5);
    let record = s.unwrap().record;
    let conflict = record
        .conflicts
        .iter()
        .find(|c| c.field == "members")
        .expect("still in conflict");
    let values: Vec<Value> = conflict.versions.iter().map(|v| v.value.clone()).collect();
    for kept in [json!(6), json!(7), json!(8)] {
        assert!(values.contains(&kept), "{kept} kept among {values:?}");
    }
    assert!(values.contains(&record.fields["members"]));
}

// --- records of an accepted report (locked) -------------------------------------------------------

#[test]
fn a_locked_record_keeps_its_accepted_values_and_holds_the_change_as_a_conflict() {
    let s1 = created();
    let late = mutation(20, 2, 1, &[("members", json!(5)), ("village", json!("B"))]);
    let (s2, outcome) = apply_locked(Some(&s1), &late, 2);
    assert_eq!(
        outcome,
        Outcome::Conflict {
            revision: 2,
            fields: vec!["members".into()],
            locked: true,
        }
    );
    let s2 = s2.unwrap();
    let r = &s2.record;
    assert_eq!(r.fields, s1.record.fields, "the accepted values stay");
    assert!(!r.deleted);
    assert_eq!(
        r.revision, 2,
        "a new revision, so every device pulls the conflict"
    );
    let conflict = &r.conflicts[0];
    assert_eq!(conflict.field, "members");
    let values: Vec<&Value> = conflict.versions.iter().map(|v| &v.value).collect();
    assert_eq!(values, [&json!(3), &json!(5)]);
    assert_eq!(conflict.held, Some(MutationId(id(10))));
    assert_eq!(
        conflict.winner().unwrap().value,
        json!(3),
        "the accepted value is shown"
    );
    // a deletion while locked does not delete
    let (s3, outcome) = apply_locked(Some(&s2), &deletion(21, 2, 2), 3);
    assert!(matches!(outcome, Outcome::Conflict { locked: true, .. }));
    let s3 = s3.unwrap();
    assert!(!s3.record.deleted);
    let tombstone = s3
        .record
        .conflicts
        .iter()
        .find(|c| c.field == "_deleted")
        .unwrap();
    assert_eq!(tombstone.winner().unwrap().value, json!(false));

    // writing the accepted value back, having seen everything, settles the conflict
    let keep = mutation(22, 1, 3, &[("members", json!(3))]);
    let (s4, outcome) = apply_locked(Some(&s3), &keep, 4);
    assert_eq!(outcome, Outcome::Applied { revision: 4 });
    let s4 = s4.unwrap();
    assert!(s4.record.conflicts.iter().all(|c| c.field != "members"));
    assert_eq!(s4.record.fields["members"], json!(3));
}

#[test]
fn once_returned_the_held_change_is_settled_or_meets_later_writes_as_usual() {
    let s1 = created();
    let (s2, _) = apply_locked(Some(&s1), &mutation(20, 2, 1, &[("members", json!(5))]), 2);
    let s2 = s2.unwrap();
    // the report is returned: the officer, having pulled revision 2, picks the late value
    let pick = mutation(30, 2, 2, &[("members", json!(5))]);
    let (picked, outcome) = apply(Some(&s2), &pick, 3);
    assert_eq!(outcome, Outcome::Applied { revision: 3 });
    let picked = picked.unwrap().record;
    assert_eq!(picked.fields["members"], json!(5));
    assert!(picked.conflicts.is_empty());
    // a device that never saw the held conflict writes the field: it joins the versions, the hold
    // is over and the greatest mutation wins as in any conflict; nothing is dropped
    let unseen = mutation(40, 3, 1, &[("members", json!(7))]);
    let (joined, outcome) = apply(Some(&s2), &unseen, 3);
    assert!(matches!(outcome, Outcome::Conflict { locked: false, .. }));
    let joined = joined.unwrap().record;
    let conflict = &joined.conflicts[0];
    assert_eq!(conflict.held, None);
    let values: Vec<&Value> = conflict.versions.iter().map(|v| &v.value).collect();
    assert_eq!(values, [&json!(3), &json!(5), &json!(7)]);
    assert_eq!(joined.fields["members"], json!(7));
}

#[test]
fn a_record_created_in_a_locked_report_is_kept_deleted_with_its_values_in_view() {
    let new = mutation(
        50,
        4,
        0,
        &[("head_name", json!("Mới")), ("members", json!(2))],
    );
    let (stored, outcome) = apply_locked(None, &new, 9);
    assert_eq!(
        outcome,
        Outcome::Conflict {
            revision: 9,
            fields: vec!["_deleted".into()],
            locked: true,
        }
    );
    let r = stored.unwrap().record;
    assert!(r.deleted, "not counted: it was not in the accepted report");
    assert_eq!(r.fields["head_name"], json!("Mới"));
    let conflict = &r.conflicts[0];
    assert_eq!(conflict.field, "_deleted");
    assert_eq!(conflict.held, Some(ACCEPTED_REPORT));
    assert_eq!(conflict.winner().unwrap().value, json!(true));
    assert_eq!(conflict.versions[1].value, json!(false));
    // the held version is absent on the wire for ordinary conflicts, present here
    let wire = serde_json::to_value(&r).unwrap();
    assert_eq!(
        wire["conflicts"][0]["held"],
        json!(ACCEPTED_REPORT.to_string())
    );
    let ordinary = serde_json::to_value(Outcome::Conflict {
        revision: 1,
        fields: vec![],
        locked: false,
    })
    .unwrap();
    assert_eq!(ordinary, json!({"conflict": {"revision": 1, "fields": []}}));
}

/// Found by the fault-injection harness (seed 2023): officers A and B both typed 4 members while
/// apart, then B, still not having seen A's write, changed it to 5. B's 5 must meet A's 4 as a
/// conflict: A never saw B's change, and without it A's value would vanish, overwritten by a write
/// that looked sequential only because the two 4s were stored as one. In either arrival order.
#[test]
fn a_value_two_devices_wrote_alike_is_not_overwritten_by_either_unseen() {
    let a = mutation(20, 2, 1, &[("members", json!(4))]);
    let b = mutation(30, 3, 1, &[("members", json!(4))]);
    let b_later = mutation(40, 3, 1, &[("members", json!(5))]);
    for (first, second) in [(&a, &b), (&b, &a)] {
        let (s2, _) = apply(Some(&created()), first, 2);
        let (s3, outcome) = apply(s2.as_ref(), second, 3);
        assert!(matches!(outcome, Outcome::Merged { .. }), "{outcome:?}");
        let (s4, outcome) = apply(s3.as_ref(), &b_later, 4);
        assert!(
            matches!(&outcome, Outcome::Conflict { fields, .. } if fields == &vec!["members".to_string()]),
            "{outcome:?}"
        );
        let record = &s4.unwrap().record;
        let versions: Vec<&Value> = record.conflicts[0]
            .versions
            .iter()
            .map(|v| &v.value)
            .collect();
        assert!(
            versions.contains(&&json!(4)) && versions.contains(&&json!(5)),
            "{versions:?}"
        );
    }
    // once A's value has been seen (B's base is the revision that holds both 4s), B's edit is plain
    let (s2, _) = apply(Some(&created()), &a, 2);
    let (s3, _) = apply(s2.as_ref(), &b, 3);
    let seen = mutation(50, 3, 3, &[("members", json!(5))]);
    let (s4, outcome) = apply(s3.as_ref(), &seen, 4);
    assert_eq!(outcome, Outcome::Applied { revision: 4 });
    assert_eq!(s4.unwrap().record.fields["members"], json!(5));
}

// --- drafts brought forward over newer stored values

fn map(pairs: &[(&str, i64)]) -> BTreeMap<String, i64> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

#[test]
fn a_draft_keeps_what_was_typed_and_takes_a_colleagues_newer_values() {
    // opened with a=1, b=2, c=3; the officer typed a=10 and cleared c; a colleague then synced
    // b=20 and d=4
    let base = map(&[("a", 1), ("b", 2), ("c", 3)]);
    let draft = map(&[("a", 10), ("b", 2)]);
    let stored = map(&[("a", 1), ("b", 20), ("c", 3), ("d", 4)]);
    assert_eq!(
        rebase_draft(&base, &draft, &stored),
        map(&[("a", 10), ("b", 20), ("d", 4)])
    );
    // a key both changed: the officer's typing wins on the device (the sync then settles it)
    let stored = map(&[("a", 7), ("b", 2), ("c", 3)]);
    assert_eq!(
        rebase_draft(&base, &draft, &stored),
        map(&[("a", 10), ("b", 2)])
    );
}

fn small_map() -> impl Strategy<Value = BTreeMap<String, i64>> {
    proptest::collection::btree_map("[a-e]", 0i64..3, 0..5)
}

proptest! {
    #[test]
    fn rebasing_a_draft_changes_exactly_the_typed_keys(
        base in small_map(), draft in small_map(), stored in small_map()
    ) {
        let merged = rebase_draft(&base, &draft, &stored);
        let keys: BTreeSet<&String> = base.keys().chain(draft.keys()).chain(stored.keys()).collect();
        for key in keys {
            if base.get(key) != draft.get(key) {
                prop_assert_eq!(merged.get(key), draft.get(key), "typed {}", key);
            } else {
                prop_assert_eq!(merged.get(key), stored.get(key), "untyped {}", key);
            }
        }
        // nothing typed: the stored record as it is; nothing stored since: the draft as it is
        prop_assert_eq!(rebase_draft(&base, &base, &stored), stored.clone());
        prop_assert_eq!(rebase_draft(&base, &draft, &base), draft.clone());
    }
}
