use proptest::prelude::*;
use serde_json::json;
use thidua_domain::criteria::CriteriaSet;
use thidua_domain::protocol::{
    IdGenerator, Mutation, MutationResult, Outcome, Period, PullRequest, PushRequest, Record,
    PROTOCOL_VERSION,
};
use thidua_domain::Day;

fn household_record() -> serde_json::Value {
    json!({
        "id": "01890a5d-ac96-774b-bcce-b302099a8057",
        "data_set": "household",
        "org_unit": "03646",
        "period": "2023",
        "fields": {"head_name": "Lò Thị Ún", "village": "Bản Cọ", "area": "rural", "members": 3,
                   "working_age_members": 2, "children_under_16": 1, "members_16_to_30": 1,
                   "income_per_person_month": 1400000},
        "revision": 0,
        "deleted": false
    })
}

#[test]
fn a_push_reads_from_json_and_unknown_fields_are_refused() {
    let push = json!({
        "protocol": PROTOCOL_VERSION,
        "device": "7d7b1c0e-2f3a-4b55-9c1e-0a1b2c3d4e5f",
        "mutations": [{
            "id": "01890a5d-ac96-774b-bcce-b302099a8058",
            "device": "7d7b1c0e-2f3a-4b55-9c1e-0a1b2c3d4e5f",
            "record": household_record(),
            "base_revision": 0,
            "changed": ["head_name", "members"]
        }]
    });
    let parsed: PushRequest = serde_json::from_value(push.clone()).unwrap();
    assert_eq!(parsed.mutations[0].record.org_unit.as_str(), "03646");
    assert_eq!(serde_json::to_value(&parsed).unwrap(), push);

    let mut extra = push.clone();
    extra["mutations"][0]["record"]["colour"] = json!("red");
    let err = serde_json::from_value::<PushRequest>(extra)
        .unwrap_err()
        .to_string();
    assert!(err.contains("colour"), "{err}");
    let mut bad_unit = push;
    bad_unit["mutations"][0]["record"]["org_unit"] = json!("03646; DROP TABLE");
    assert!(serde_json::from_value::<PushRequest>(bad_unit).is_err());
    assert!(serde_json::from_value::<PullRequest>(
        json!({"protocol": 1, "limit": 10, "cursor": "abc"})
    )
    .is_ok());
}

#[test]
fn outcomes_serialize_with_a_tag() {
    let result = MutationResult {
        mutation: thidua_domain::protocol::MutationId::parse(
            "01890a5d-ac96-774b-bcce-b302099a8058",
        )
        .unwrap(),
        outcome: Outcome::Conflict {
            revision: 7,
            fields: vec!["members".into()],
            locked: false,
        },
        record: None,
    };
    let v = serde_json::to_value(&result).unwrap();
    assert_eq!(v["outcome"]["conflict"]["revision"], 7);
    assert_eq!(v["outcome"]["conflict"]["fields"][0], "members");
    assert_eq!(serde_json::from_value::<MutationResult>(v).unwrap(), result);
}

#[test]
fn records_are_validated_by_their_data_set() {
    let criteria = CriteriaSet::ntm_2021_2025();
    let mut record: Record = serde_json::from_value(household_record()).unwrap();
    assert!(record.validate(&criteria).is_empty());

    record
        .fields
        .insert("income_per_person_month".into(), json!(-5));
    let errors = record.validate(&criteria);
    assert_eq!(errors[0].field, "income_per_person_month");
    assert!(errors[0].message_vi.contains("không được là số âm"));

    // a deleted record need not be valid
    record.deleted = true;
    assert!(record.validate(&criteria).is_empty());

    // records belong to communes, not districts, deleted or not
    let mut district = record.clone();
    district.org_unit = thidua_domain::org::UnitCode::parse("116").unwrap();
    assert_eq!(district.validate(&criteria)[0].field, "org_unit");
    district.deleted = false;
    assert_eq!(district.validate(&criteria)[0].field, "org_unit");

    let mut ntm: Record = serde_json::from_value(household_record()).unwrap();
    ntm.data_set = thidua_domain::protocol::DataSet::NtmAssessment;
    ntm.fields = serde_json::from_value(json!({"2.1": 80.5, "1.1": true, "15.3": null})).unwrap();
    assert!(ntm.validate(&criteria).is_empty());
    ntm.fields.insert("2.1".into(), json!(140));
    assert_eq!(ntm.validate(&criteria)[0].field, "2.1");

    let mut report: Record = serde_json::from_value(household_record()).unwrap();
    report.data_set = thidua_domain::protocol::DataSet::IndicatorReport;
    report.fields =
        serde_json::from_value(json!({"poverty_rate": {"numerator": 12, "denominator": 80}}))
            .unwrap();
    assert!(report.validate(&criteria).is_empty());
    report.fields.insert(
        "cultural_families".into(),
        json!({"numerator": -1, "denominator": 3}),
    );
    assert_eq!(report.validate(&criteria)[0].code, "negative");
}

#[test]
fn periods_and_days_parse_strictly() {
    assert!(Period::parse("2023").is_ok());
    assert!(Period::parse("2023-06").is_ok());
    for bad in ["23", "2023-13", "2023-6", "năm 2023", ""] {
        assert!(Period::parse(bad).is_err(), "{bad}");
    }
    assert!(Day::parse("2023-12-31").is_ok());
    for bad in ["2023-12-32", "2023-00-10", "31/12/2023", "2023-1-1"] {
        assert!(Day::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn a_mutation_without_changed_fields_is_refused() {
    let v = json!({"id": "01890a5d-ac96-774b-bcce-b302099a8058", "device": "7d7b1c0e-2f3a-4b55-9c1e-0a1b2c3d4e5f",
                   "record": household_record(), "base_revision": 0});
    assert!(serde_json::from_value::<Mutation>(v).is_err());
}

proptest! {
    #[test]
    fn ids_from_one_device_always_increase(steps in proptest::collection::vec((0u64..5, any::<[u8; 10]>(), any::<bool>()), 1..200)) {
        // the clock may stall or step back; ids still increase and stay version 7
        let mut generator = IdGenerator::default();
        let mut clock: u64 = 1_700_000_000_000;
        let mut last = None;
        for (delta, random, back) in steps {
            clock = if back { clock.saturating_sub(delta) } else { clock + delta };
            let id = generator.next(clock, random);
            prop_assert_eq!(id.get_version_num(), 7);
            if let Some(last) = last {
                prop_assert!(id > last);
            }
            last = Some(id);
        }
    }
}

#[test]
fn a_units_record_for_a_period_has_one_id_everywhere() {
    use thidua_domain::org::UnitCode;
    use thidua_domain::protocol::{DataSet, Period, RecordId};
    let unit = UnitCode::parse("03646").unwrap();
    let year = Period::parse("2023").unwrap();
    let a = RecordId::of_unit_period(DataSet::NtmAssessment, &unit, &year);
    assert_eq!(
        a,
        RecordId::of_unit_period(DataSet::NtmAssessment, &unit, &year)
    );
    assert_ne!(
        a,
        RecordId::of_unit_period(
            DataSet::NtmAssessment,
            &unit,
            &Period::parse("2024").unwrap()
        )
    );
    assert_ne!(
        a,
        RecordId::of_unit_period(DataSet::IndicatorReport, &unit, &year)
    );
    assert_ne!(
        a,
        RecordId::of_unit_period(
            DataSet::NtmAssessment,
            &UnitCode::parse("03649").unwrap(),
            &year
        )
    );
}

#[test]
fn an_assessment_carries_evidence_notes_beside_its_values() {
    use serde_json::json;
    use thidua_domain::criteria::CriteriaSet;
    use thidua_domain::org::UnitCode;
    use thidua_domain::protocol::{evidence_field, DataSet, Period, Record, RecordId};
    let set = CriteriaSet::ntm_2021_2025();
    let unit = UnitCode::parse("03646").unwrap();
    let period = Period::parse("2023").unwrap();
    let mut record = Record {
        id: RecordId::of_unit_period(DataSet::NtmAssessment, &unit, &period),
        data_set: DataSet::NtmAssessment,
        org_unit: unit,
        period,
        fields: serde_json::from_value(
            json!({"15.3": 12.5, "evidence/15.3": "Báo cáo của trạm y tế xã, 11/2023"}),
        )
        .unwrap(),
        revision: 0,
        deleted: false,
        conflicts: vec![],
    };
    assert!(
        record.validate(&set).is_empty(),
        "{:?}",
        record.validate(&set)
    );
    record
        .fields
        .insert(evidence_field("15.3"), json!("x".repeat(2001)));
    let errors = record.validate(&set);
    assert_eq!(errors[0].field, "evidence/15.3");
    assert_eq!(errors[0].code, "too_long");
    record.fields.insert(evidence_field("15.3"), json!(5));
    assert_eq!(record.validate(&set)[0].code, "wrong_type");
}

#[test]
fn a_report_part_never_exceeds_its_total() {
    use serde_json::json;
    use thidua_domain::criteria::CriteriaSet;
    use thidua_domain::org::UnitCode;
    use thidua_domain::protocol::{DataSet, Period, Record, RecordId};
    let unit = UnitCode::parse("03646").unwrap();
    let period = Period::parse("2023").unwrap();
    let report = |fields: serde_json::Value| Record {
        id: RecordId::of_unit_period(DataSet::IndicatorReport, &unit, &period),
        data_set: DataSet::IndicatorReport,
        org_unit: unit.clone(),
        period: period.clone(),
        fields: serde_json::from_value(fields).unwrap(),
        revision: 0,
        deleted: false,
        conflicts: vec![],
    };
    let set = CriteriaSet::ntm_2021_2025();
    assert!(
        report(json!({"cultural_families": {"numerator": 800, "denominator": 1000}}))
            .validate(&set)
            .is_empty()
    );
    let errors = report(json!({"cultural_families": {"numerator": 1200, "denominator": 1000}}))
        .validate(&set);
    assert_eq!(errors[0].code, "part_exceeds_total");
    assert!(errors[0].message_vi.contains("không được lớn hơn"));
    // doctors per 10,000 people: a count against a population, not a part of it
    assert!(
        report(json!({"doctors_per_10k": {"numerator": 12, "denominator": 9000}}))
            .validate(&set)
            .is_empty()
    );
    assert_eq!(
        report(json!({"nonsense": {"numerator": 1, "denominator": 2}})).validate(&set)[0].code,
        "unknown_target"
    );
    assert_eq!(
        report(json!({"cultural_families": {"numerator": -1, "denominator": 2}})).validate(&set)[0]
            .code,
        "negative"
    );
    // against another target set: its own targets only, by its own rules and words
    let mut other = thidua_domain::targets::TargetSet::sonla_2023();
    other
        .targets
        .retain(|t| t.key == "schools_national_standard");
    other.targets[0].key = "health_insurance_coverage".into();
    let insured = json!({"health_insurance_coverage": {"numerator": 90, "denominator": 100}});
    assert!(report(insured.clone())
        .validate_with(&set, &other)
        .is_empty());
    assert_eq!(report(insured).validate(&set)[0].code, "unknown_target");
    let families = json!({"cultural_families": {"numerator": 8, "denominator": 10}});
    assert_eq!(
        report(families).validate_with(&set, &other)[0].code,
        "unknown_target"
    );
    let over = json!({"health_insurance_coverage": {"numerator": 120, "denominator": 100}});
    let errors = report(over).validate_with(&set, &other);
    assert_eq!(errors[0].code, "part_exceeds_total");
    assert!(errors[0]
        .message_vi
        .contains("Số trường đạt chuẩn quốc gia"));
}
