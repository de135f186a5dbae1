//! Demo data for the dashboard (demo mode only, [`crate::setup::ensure_demo`]): the 2023 review, NTM
//! assessments and target reports of five communes in two districts, last year's review of two of
//! them, submissions in every state and a device's last sync, so that the dashboard, its drill-down
//! and the completeness view show something real from the first start. Every record goes through
//! the same path as a push (validation, merge); made up, deterministic, and written once (when the
//! database has no 2023 record of these data sets).
//!
//! The NTM criteria set 2021–2025 carries almost no requirement (the province sets them), so no
//! commune could meet the standard; demo mode stores requirements of its own for the set, once,
//! when the province has stored none, and says so at start.

use serde_json::{json, Value};
use thidua_domain::criteria::{CriteriaSet, Requirement, ValueKind};
use thidua_domain::dashboard::DATA_SETS;
use thidua_domain::org::UnitCode;
use thidua_domain::protocol::{
    DataSet, DeviceId, Fields, Mutation, MutationId, Outcome, Period, Record, RecordId,
};

use crate::auth::unix_now;
use crate::error::ApiError;
use crate::store::{SetTable, StoredDocument};
use crate::submissions::{NewSubmission, Note, SubmissionId, SubmissionState};
use crate::AppState;

/// The period the directive's targets are set for.
pub const DEMO_PERIOD: &str = "2023";

/// The device the demo commune officer "synced" from.
pub const DEMO_TABLET: DeviceId = DeviceId(uuid::Uuid::from_u128(
    0xde70_0000_0000_7000_8000_0000_0000_0002,
));

/// (commune, households of the review: poor, near-poor, others; total households of the report;
/// NTM criteria missed (None: no assessment)).
type DemoCommune = (&'static str, [u32; 3], i64, Option<&'static [u16]>);
const COMMUNES: [DemoCommune; 5] = [
    ("03646", [3, 4, 13], 1_850, Some(&[])),
    ("03649", [5, 3, 12], 1_420, Some(&[17])),
    ("03652", [9, 6, 10], 640, Some(&[5, 17])),
    ("03682", [31, 12, 17], 410, Some(&[2, 13, 17])),
    ("03685", [22, 9, 9], 0, None),
];

/// What [`seed`] did, for the banner.
#[derive(Debug, Default, Clone, Copy)]
pub struct Seeded {
    pub records: usize,
    pub requirements: bool,
}

fn start_error(what: &str) -> impl Fn(ApiError) -> crate::store::StartError + '_ {
    move |e| crate::store::StartError(format!("{what}: {}", e.message_en))
}

/// The demo's requirement for an indicator that has none: yes, a share of at least 50%, a number of
/// at least 1, some text.
pub fn demo_criteria(mut set: CriteriaSet) -> CriteriaSet {
    for criterion in &mut set.criteria {
        for indicator in &mut criterion.indicators {
            if indicator.requirement.is_none() {
                indicator.requirement = Some(match indicator.kind {
                    ValueKind::YesNo => Requirement::Equals(true),
                    ValueKind::Percent => Requirement::AtLeast(50.0),
                    ValueKind::Number => Requirement::AtLeast(1.0),
                    ValueKind::Text => Requirement::Provided,
                });
            }
        }
    }
    set
}

/// Values meeting every requirement of `set` but those of the criteria `missed`.
pub fn demo_assessment(set: &CriteriaSet, missed: &[u16]) -> Fields {
    let mut fields = Fields::new();
    for criterion in &set.criteria {
        let fail = missed.contains(&criterion.number);
        for indicator in &criterion.indicators {
            let value = match (&indicator.requirement, fail) {
                (Some(Requirement::Equals(want)), _) => json!(*want != fail),
                (Some(Requirement::AtLeast(min)), false) => json!((min + 10.0).min(100.0)),
                (Some(Requirement::AtLeast(min)), true) => json!((min - 10.0).max(0.0)),
                (Some(Requirement::AtMost(max)), false) => json!((max - 5.0).max(0.0)),
                (Some(Requirement::AtMost(max)), true) => json!((max + 5.0).min(100.0)),
                (Some(Requirement::Provided), false) => json!("Có biên bản (demo)"),
                (Some(Requirement::Provided), true) => json!(""),
                (None, _) => continue,
            };
            fields.insert(indicator.code.clone(), value);
        }
    }
    fields
}

/// A made-up household of class 0 (poor), 1 (near-poor) or 2 (above the line), numbered `n`.
fn demo_household(class: usize, n: u32, village: &str) -> Fields {
    let heads = [
        "Lò Văn",
        "Cầm Thị",
        "Quàng Văn",
        "Lường Thị",
        "Tòng Văn",
        "Điêu Thị",
        "Hoàng Văn",
    ];
    let names = [
        "Minh", "Hoa", "Sơn", "Mai", "Hùng", "Lan", "Páo", "Xuân", "Thắm", "Dũng",
    ];
    let head = format!(
        "{} {} {n} (demo)",
        heads[n as usize % heads.len()],
        names[(n as usize / heads.len()) % names.len()]
    );
    let (income, deprivations): (i64, &[&str]) = match class {
        0 => (
            1_100_000,
            &["dep_health_insurance", "dep_latrine", "dep_domestic_water"],
        ),
        1 => (1_350_000, &["dep_telecom_use"]),
        _ => (2_600_000 + i64::from(n % 5) * 150_000, &[]),
    };
    let mut fields: Fields = serde_json::from_value(json!({
        "head_name": head,
        "village": village,
        "area": "rural",
        "members": 4,
        "working_age_members": 2,
        "children_under_16": 2,
        "members_16_to_30": 1,
        "income_per_person_month": income,
        "floor_area_m2": 48,
    }))
    .expect("demo fields");
    for d in deprivations {
        fields.insert(d.to_string(), Value::Bool(true));
    }
    fields
}

fn record(data_set: DataSet, unit: &str, period: &str, id: RecordId, fields: Fields) -> Record {
    Record {
        id,
        data_set,
        org_unit: UnitCode::parse(unit).expect("demo unit"),
        period: Period::parse(period).expect("demo period"),
        fields,
        revision: 0,
        deleted: false,
        conflicts: Vec::new(),
    }
}

/// The demo's records: 2023 reviews, assessments, reports; 2022 and 2021 reviews of 03646 and 03682.
pub fn demo_records(criteria: &CriteriaSet) -> Vec<Record> {
    let mut records = Vec::new();
    let mut n = 0u32;
    let villages = ["Bản Hụm", "Bản Cọ", "Tổ 3", "Bản Mòng"];
    for (unit, classes, total, missed) in COMMUNES {
        for (class, count) in classes.iter().enumerate() {
            for _ in 0..*count {
                n += 1;
                let village = villages[n as usize % villages.len()];
                let id = RecordId(uuid::Uuid::new_v5(
                    &uuid::Uuid::NAMESPACE_URL,
                    format!("thidua:demo:household:{unit}:{n}").as_bytes(),
                ));
                records.push(record(
                    DataSet::Household,
                    unit,
                    DEMO_PERIOD,
                    id,
                    demo_household(class, n, village),
                ));
            }
        }
        if total > 0 {
            let code = UnitCode::parse(unit).expect("demo unit");
            let period = Period::parse(DEMO_PERIOD).expect("demo period");
            let fields: Fields = serde_json::from_value(json!({
                "poverty_rate": {"numerator": classes[0], "denominator": total},
                "schools_national_standard": {"numerator": 4 + (total % 3), "denominator": 7},
                "cultural_families": {"numerator": total * 3 / 4, "denominator": total},
                "safe_residential_areas": {"numerator": 9 + (total % 2), "denominator": 11},
                "doctors_per_10k": {"numerator": 3 + total / 500, "denominator": total * 4},
            }))
            .expect("demo report");
            records.push(record(
                DataSet::IndicatorReport,
                unit,
                DEMO_PERIOD,
                RecordId::of_unit_period(DataSet::IndicatorReport, &code, &period),
                fields,
            ));
        }
        if let Some(missed) = missed {
            let code = UnitCode::parse(unit).expect("demo unit");
            let period = Period::parse(DEMO_PERIOD).expect("demo period");
            records.push(record(
                DataSet::NtmAssessment,
                unit,
                DEMO_PERIOD,
                RecordId::of_unit_period(DataSet::NtmAssessment, &code, &period),
                demo_assessment(criteria, missed),
            ));
        }
    }
    // the two years before: more poor households in 03646 and 03682, so the trend falls
    for (year, unit, classes) in [
        ("2022", "03646", [6u32, 4, 10]),
        ("2022", "03682", [38, 10, 12]),
        ("2021", "03646", [8, 4, 8]),
        ("2021", "03682", [44, 10, 6]),
    ] {
        for (class, count) in classes.iter().enumerate() {
            for _ in 0..*count {
                n += 1;
                let id = RecordId(uuid::Uuid::new_v5(
                    &uuid::Uuid::NAMESPACE_URL,
                    format!("thidua:demo:household-{year}:{unit}:{n}").as_bytes(),
                ));
                records.push(record(
                    DataSet::Household,
                    unit,
                    year,
                    id,
                    demo_household(class, n, "Bản Hụm"),
                ));
            }
        }
    }
    records
}

/// Seeds the dashboard demo once. `officer`, `supervisor` and `admin` are the demo accounts' ids.
pub async fn seed(
    state: &AppState,
    officer: &str,
    supervisor: &str,
    admin: &str,
) -> Result<Seeded, crate::store::StartError> {
    let period = Period::parse(DEMO_PERIOD).expect("demo period");
    let existing = state
        .store
        .live_records(&[&period], &DATA_SETS, None)
        .await
        .map_err(start_error("reading demo records"))?;
    if !existing.is_empty() {
        return Ok(Seeded::default());
    }
    let mut seeded = Seeded::default();

    // requirements for the NTM set, unless the province stored its own
    let stored = state
        .store
        .sets(SetTable::CriteriaSets)
        .await
        .map_err(start_error("reading criteria sets"))?;
    let ntm_id = crate::reference::NTM_SET;
    if !stored.iter().any(|d| d.id == ntm_id) {
        let mut change = state
            .reference
            .begin_change(&state.store)
            .await
            .map_err(start_error("changing the criteria set"))?;
        let set = demo_criteria(change.base().ntm().clone());
        let document = StoredDocument {
            id: ntm_id.to_string(),
            body: serde_json::to_string(&set).expect("a criteria set serialises"),
            by: admin.to_string(),
            at: unix_now(),
        };
        change
            .write()
            .put_set(SetTable::CriteriaSets, &document)
            .await
            .map_err(start_error("storing demo requirements"))?;
        let mut next = change.base().clone();
        next.put_criteria_set(set, &document);
        change
            .commit(next)
            .await
            .map_err(start_error("storing demo requirements"))?;
        seeded.requirements = true;
    }

    let reference = state
        .reference
        .now(&state.store)
        .await
        .map_err(start_error("reading the reference data"))?;
    for record in demo_records(reference.ntm()) {
        let mutation = Mutation {
            id: MutationId(uuid::Uuid::now_v7()),
            device: DEMO_TABLET,
            changed: record.fields.keys().cloned().collect(),
            record,
            base_revision: 0,
        };
        let result = state
            .store
            .apply_mutation(&mutation, |m| crate::sync::check_mutation(&reference, m))
            .await
            .map_err(start_error("seeding demo records"))?;
        if let Outcome::Rejected { errors } = result.outcome {
            return Err(crate::store::StartError(format!(
                "a demo record was refused: {}",
                errors
                    .iter()
                    .map(|e| format!("{}: {}", e.field, e.message_en))
                    .collect::<Vec<_>>()
                    .join("; ")
            )));
        }
        seeded.records += 1;
    }

    // submissions in every state: (commune, period, data set, decision, by)
    let now = unix_now();
    let decisions = [
        (
            "03646",
            "2023",
            DataSet::Household,
            Some(SubmissionState::Accepted),
            supervisor,
        ),
        (
            "03646",
            "2023",
            DataSet::NtmAssessment,
            Some(SubmissionState::Accepted),
            supervisor,
        ),
        ("03646", "2023", DataSet::IndicatorReport, None, supervisor),
        ("03649", "2023", DataSet::Household, None, supervisor),
        (
            "03652",
            "2023",
            DataSet::NtmAssessment,
            Some(SubmissionState::Returned),
            supervisor,
        ),
        (
            "03682",
            "2023",
            DataSet::Household,
            Some(SubmissionState::Accepted),
            admin,
        ),
        (
            "03682",
            "2023",
            DataSet::IndicatorReport,
            Some(SubmissionState::Accepted),
            admin,
        ),
        (
            "03646",
            "2022",
            DataSet::Household,
            Some(SubmissionState::Accepted),
            supervisor,
        ),
    ];
    for (unit, period, data_set, decision, by) in decisions {
        let new = NewSubmission {
            org_unit: UnitCode::parse(unit).expect("demo unit"),
            period: Period::parse(period).expect("demo period"),
            data_set,
        };
        let count = state
            .store
            .live_record_count(&new.org_unit, &new.period, data_set)
            .await
            .map_err(start_error("counting demo records"))?;
        let opened = state
            .store
            .open_submission(SubmissionId::new(), &new, count, officer, now - 3 * 86_400)
            .await
            .map_err(start_error("demo submissions"))?;
        let crate::store::Opened::Opened(submission) = opened else {
            continue;
        };
        if let Some(to) = decision {
            let note = match to {
                SubmissionState::Returned => Note::parse(Some(
                    "Tiêu chí 5 (Trường học) thiếu minh chứng; bổ sung rồi gửi lại (demo)",
                ))
                .ok()
                .flatten(),
                _ => None,
            };
            let id =
                SubmissionId::parse(&submission.id).map_err(start_error("demo submission id"))?;
            state
                .store
                .decide_submission(id, to, note.as_ref(), by, now - 86_400)
                .await
                .map_err(start_error("demo decisions"))?;
        }
    }
    // the demo officer's tablet synced a day ago
    state
        .store
        .note_push(
            DEMO_TABLET,
            officer,
            &UnitCode::parse("03646").expect("demo unit"),
            "demo",
            now - 86_400,
        )
        .await
        .map_err(start_error("demo device"))?;
    Ok(seeded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use thidua_domain::poverty::Household;

    #[test]
    fn demo_records_are_valid() {
        let set = demo_criteria(CriteriaSet::ntm_2021_2025());
        let records = demo_records(&set);
        for record in &records {
            assert_eq!(
                record.validate(&set),
                vec![],
                "{:?} {}",
                record.data_set,
                record.org_unit
            );
        }
        let households = records
            .iter()
            .filter(|r| r.data_set == DataSet::Household)
            .count();
        // 2023's five reviews, then 2022's and 2021's of 03646 and 03682
        assert_eq!(households, 20 + 20 + 25 + 60 + 40 + 20 + 60 + 20 + 60);
        let of_2021 = records
            .iter()
            .filter(|r| r.data_set == DataSet::Household && r.period.as_str() == "2021")
            .count();
        assert_eq!(of_2021, 20 + 60);
        let first = Household::from_fields(&records[0].fields).unwrap();
        assert_eq!(
            first.classification(),
            thidua_domain::poverty::Classification::Poor
        );
        let evaluation = set.evaluate(
            &thidua_domain::protocol::indicator_values(
                &records
                    .iter()
                    .find(|r| {
                        r.data_set == DataSet::NtmAssessment && r.org_unit.as_str() == "03646"
                    })
                    .unwrap()
                    .fields,
            )
            .unwrap(),
        );
        assert!(evaluation.meets_standard());
    }
}
