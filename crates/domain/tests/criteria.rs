use std::collections::BTreeMap;

use thidua_domain::criteria::{CriteriaSet, IndicatorValue, Requirement, Status, ValueKind};

fn all_met_values(set: &CriteriaSet) -> BTreeMap<String, IndicatorValue> {
    let mut values = BTreeMap::new();
    for c in &set.criteria {
        for i in &c.indicators {
            let v = match i.requirement.as_ref().unwrap() {
                Requirement::AtLeast(n) => IndicatorValue::Number(*n),
                Requirement::AtMost(n) => IndicatorValue::Number(*n),
                Requirement::Equals(b) => IndicatorValue::YesNo(*b),
                Requirement::Provided => IndicatorValue::Text("có".into()),
            };
            values.insert(i.code.clone(), v);
        }
    }
    values
}

/// The province configures every requirement: yes/no indicators must be met, numbers at least 50.
fn configured() -> CriteriaSet {
    let mut set = CriteriaSet::ntm_2021_2025();
    let codes: Vec<(String, ValueKind)> = set
        .criteria
        .iter()
        .flat_map(|c| &c.indicators)
        .filter(|i| i.requirement.is_none())
        .map(|i| (i.code.clone(), i.kind))
        .collect();
    for (code, kind) in codes {
        let r = match kind {
            ValueKind::YesNo => Requirement::Equals(true),
            ValueKind::Text => Requirement::Provided,
            _ => Requirement::AtLeast(50.0),
        };
        set.set_requirement(&code, Some(r)).unwrap();
    }
    set
}

#[test]
fn requirements_not_known_stay_not_configured() {
    let set = CriteriaSet::ntm_2021_2025();
    let evaluation = set.evaluate(&BTreeMap::new());
    assert_eq!(evaluation.total, 19);
    assert_eq!(evaluation.met, 0);
    // criterion 15 (health) has two known requirements and two unknown ones
    let health = evaluation.criteria.iter().find(|c| c.number == 15).unwrap();
    let statuses: BTreeMap<&str, Status> = health
        .indicators
        .iter()
        .map(|(c, s)| (c.as_str(), *s))
        .collect();
    assert_eq!(statuses["15.3"], Status::NotAssessed);
    assert_eq!(statuses["15.1"], Status::NotConfigured);
    assert_eq!(health.status, Status::NotConfigured);
    // a failed known indicator fails the criterion even while others are unconfigured
    let values = BTreeMap::from([("15.3".to_string(), IndicatorValue::Number(30.0))]);
    let health = set
        .evaluate(&values)
        .criteria
        .into_iter()
        .find(|c| c.number == 15)
        .unwrap();
    assert_eq!(health.status, Status::NotMet);
}

#[test]
fn a_commune_meeting_all_19_reaches_the_standard() {
    let set = configured();
    let values = all_met_values(&set);
    let evaluation = set.evaluate(&values);
    assert_eq!(evaluation.met, 19);
    assert!(evaluation.meets_standard());
    assert_eq!(evaluation.status_vi(), "Đạt chuẩn nông thôn mới");

    // one indicator short: 18 of 19
    let mut short = values.clone();
    short.insert("2.1".into(), IndicatorValue::Number(49.9));
    let evaluation = set.evaluate(&short);
    assert_eq!(evaluation.met, 18);
    assert!(!evaluation.meets_standard());
    assert_eq!(evaluation.criteria[1].status, Status::NotMet);
    assert_eq!(evaluation.status_vi(), "Chưa đạt chuẩn: đạt 18/19 tiêu chí");

    // a value not yet entered: not assessed
    let mut missing = values.clone();
    missing.remove("19.2");
    let evaluation = set.evaluate(&missing);
    assert_eq!(evaluation.criteria[18].status, Status::NotAssessed);
    assert_eq!(evaluation.met, 18);

    // 15.3 is "at most 24%": exactly 24 meets it, 24.1 does not
    let mut edge = values;
    edge.insert("15.3".into(), IndicatorValue::Number(24.0));
    assert_eq!(set.evaluate(&edge).met, 19);
    edge.insert("15.3".into(), IndicatorValue::Number(24.1));
    assert_eq!(set.evaluate(&edge).met, 18);
}

#[test]
fn values_are_checked_against_their_indicator() {
    let set = CriteriaSet::ntm_2021_2025();
    let values = BTreeMap::from([
        ("1.1".to_string(), IndicatorValue::Number(3.0)),
        ("2.1".to_string(), IndicatorValue::Number(130.0)),
        ("99.9".to_string(), IndicatorValue::YesNo(true)),
        ("2.2".to_string(), IndicatorValue::Number(70.0)),
    ]);
    let errors = set.validate_values(&values);
    let fields: Vec<(&str, &str)> = errors
        .iter()
        .map(|e| (e.field.as_str(), e.code.as_str()))
        .collect();
    assert_eq!(
        fields,
        [
            ("1.1", "wrong_value"),
            ("2.1", "wrong_value"),
            ("99.9", "unknown_indicator")
        ]
    );
    assert!(errors[1].message_vi.contains("từ 0 đến 100"));
    // a requirement that does not suit the indicator is refused
    let mut set = set;
    assert!(set
        .set_requirement("1.1", Some(Requirement::AtLeast(1.0)))
        .is_err());
    assert!(set
        .set_requirement("1.1", Some(Requirement::Equals(true)))
        .is_ok());
}

/// A set shaped like a successor (the 2026–2030 set of Quyết định 51/2025/QĐ-TTg is loaded the same
/// way); the content here is a test fixture, not the decision's text.
const SUCCESSOR_FIXTURE: &str = r#"{
  "id": "fixture-2026-2030", "name_vi": "Bộ tiêu chí thử", "name_en": "Test set",
  "legal_basis": "fixture", "first_year": 2026, "last_year": 2030,
  "groups": [{"id": "a", "name_vi": "Nhóm A", "name_en": "Group A"}, {"id": "b", "name_vi": "Nhóm B", "name_en": "Group B"}],
  "criteria": [
    {"number": 1, "group": "a", "name_vi": "Một", "name_en": "One", "indicators": [
      {"code": "1.1", "name_vi": "Có", "name_en": "Yes", "kind": "yes_no", "requirement": {"equals": true}},
      {"code": "1.2", "name_vi": "Ghi chú", "name_en": "Note", "kind": "text", "requirement": "provided"}]},
    {"number": 2, "group": "b", "name_vi": "Hai", "name_en": "Two", "indicators": [
      {"code": "2.1", "name_vi": "Tỷ lệ", "name_en": "Rate", "kind": "percent", "unit": "%", "requirement": {"at_least": 80}}]},
    {"number": 3, "group": "b", "name_vi": "Ba", "name_en": "Three", "indicators": [
      {"code": "3.1", "name_vi": "Số", "name_en": "Number", "kind": "number", "requirement": null}]}
  ]}"#;

#[test]
fn a_successor_set_loads_from_data() {
    let set = CriteriaSet::from_json(SUCCESSOR_FIXTURE).unwrap();
    assert_eq!(set.criteria.len(), 3);
    let values = BTreeMap::from([
        ("1.1".to_string(), IndicatorValue::YesNo(true)),
        (
            "1.2".to_string(),
            IndicatorValue::Text("biên bản số 5".into()),
        ),
        ("2.1".to_string(), IndicatorValue::Number(80.0)),
        ("3.1".to_string(), IndicatorValue::Number(1.0)),
    ]);
    let evaluation = set.evaluate(&values);
    assert_eq!(evaluation.met, 2);
    assert_eq!(evaluation.criteria[2].status, Status::NotConfigured);
    assert!(!evaluation.meets_standard());

    let broken = SUCCESSOR_FIXTURE.replace(
        r#""group": "b", "name_vi": "Hai""#,
        r#""group": "z", "name_vi": "Hai""#,
    );
    assert!(CriteriaSet::from_json(&broken)
        .unwrap_err()
        .contains("nhóm «z»"));
    let mismatched = SUCCESSOR_FIXTURE.replace(
        r#""requirement": {"equals": true}"#,
        r#""requirement": {"at_least": 1}"#,
    );
    assert!(CriteriaSet::from_json(&mismatched)
        .unwrap_err()
        .contains("1.1"));
}

/// A set like the carried one for other years (its groups and criteria as they are).
fn set_for(id: &str, first_year: u16, last_year: u16) -> CriteriaSet {
    let mut set = CriteriaSet::ntm_2021_2025();
    set.id = id.into();
    set.first_year = first_year;
    set.last_year = last_year;
    set
}

#[test]
fn the_set_of_a_year_is_the_latest_starting_one_that_covers_it() {
    let carried = CriteriaSet::ntm_2021_2025();
    let next = set_for("ntm-2026-2030", 2026, 2030);
    // a province's set stretched from 2024, beside the carried one and the next period's
    let stretched = set_for("ntm-2024-2027", 2024, 2027);
    let sets = [carried.clone(), next.clone(), stretched.clone()];
    let id = |year| CriteriaSet::for_year(&sets, year).map(|s| s.id.as_str());
    assert_eq!(id(2021), Some("ntm-2021-2025"));
    assert_eq!(id(2023), Some("ntm-2021-2025"));
    assert_eq!(
        id(2024),
        Some("ntm-2024-2027"),
        "starts later than the carried one"
    );
    assert_eq!(id(2025), Some("ntm-2024-2027"));
    assert_eq!(id(2026), Some("ntm-2026-2030"));
    assert_eq!(id(2028), Some("ntm-2026-2030"));
    assert_eq!(id(2030), Some("ntm-2026-2030"));
    assert_eq!(id(2031), None, "no set: nothing to check against");
    assert_eq!(id(2020), None);
    assert!(carried.covers(2025) && !carried.covers(2026));
    // equal starts: the last given wins, whatever the order of the others
    let twin = set_for("ntm-2021-2025-bis", 2021, 2025);
    let pair = [carried.clone(), twin.clone()];
    assert_eq!(CriteriaSet::for_year(&pair, 2022).unwrap().id, twin.id);
}
