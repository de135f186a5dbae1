//! The dashboard's figures: a small fixture computed by hand, and properties over random records
//! (districts add up to the province, rates are recomputed from tallies, the 2025 structure holds
//! the same totals as the 2023 one).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};

use proptest::prelude::*;
use serde_json::{json, Value};
use thidua_domain::criteria::{CriteriaSet, Requirement, Status, ValueKind};
use thidua_domain::dashboard::{self, Accepted, Dashboard, Settings, Source};
use thidua_domain::org::{Level, OrgCatalog, UnitCode};
use thidua_domain::protocol::{DataSet, Fields, Period, Record, RecordId};
use thidua_domain::targets::{TargetSet, TargetStatus};
use thidua_domain::Day;
use uuid::Uuid;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn code(s: &str) -> UnitCode {
    UnitCode::parse(s).unwrap()
}

fn period(s: &str) -> Period {
    Period::parse(s).unwrap()
}

/// The NTM set with every requirement configured: yes → met, a percentage ≥ 50, a number ≥ 1, text given.
fn configured() -> CriteriaSet {
    let mut set = CriteriaSet::ntm_2021_2025();
    for criterion in &mut set.criteria {
        for indicator in &mut criterion.indicators {
            indicator.requirement = Some(match indicator.kind {
                ValueKind::YesNo => Requirement::Equals(true),
                ValueKind::Percent => Requirement::AtLeast(50.0),
                ValueKind::Number => Requirement::AtLeast(1.0),
                ValueKind::Text => Requirement::Provided,
            });
        }
    }
    set
}

/// An assessment meeting every criterion except those in `missed`.
fn assessment_fields(set: &CriteriaSet, missed: &[u16]) -> Fields {
    let mut fields = Fields::new();
    for criterion in &set.criteria {
        let fail = missed.contains(&criterion.number);
        for indicator in &criterion.indicators {
            let value = match (indicator.kind, fail) {
                (ValueKind::YesNo, f) => json!(!f),
                (ValueKind::Percent, false) => json!(80.0),
                (ValueKind::Percent, true) => json!(10.0),
                (ValueKind::Number, false) => json!(3.0),
                (ValueKind::Number, true) => json!(0.0),
                (ValueKind::Text, false) => json!("có"),
                (ValueKind::Text, true) => json!(" "),
            };
            fields.insert(indicator.code.clone(), value);
        }
    }
    fields
}

fn record(data_set: DataSet, unit: &str, p: &str, fields: Fields) -> Record {
    Record {
        id: RecordId(Uuid::from_u128(
            NEXT_ID.fetch_add(1, Ordering::Relaxed) as u128
        )),
        data_set,
        org_unit: code(unit),
        period: period(p),
        fields,
        revision: 1,
        deleted: false,
        conflicts: Vec::new(),
    }
}

/// A household of class: "poor", "near" (near-poor), "avg".
fn household(unit: &str, p: &str, class: &str) -> Record {
    let (income, deprived) = match class {
        "poor" => (1_000_000, 3),
        "near" => (1_000_000, 1),
        _ => (2_000_000, 0),
    };
    let mut fields: Fields = serde_json::from_value(json!({
        "head_name": "Lò Văn A", "village": "Bản Hụm", "area": "rural", "members": 4,
        "working_age_members": 2, "children_under_16": 2, "members_16_to_30": 1,
        "income_per_person_month": income, "floor_area_m2": 40
    }))
    .unwrap();
    for d in ["dep_health_insurance", "dep_latrine", "dep_domestic_water"]
        .iter()
        .take(deprived)
    {
        fields.insert(d.to_string(), Value::Bool(true));
    }
    record(DataSet::Household, unit, p, fields)
}

fn report(unit: &str, p: &str, tallies: &[(&str, i64, i64)]) -> Record {
    let fields = tallies
        .iter()
        .map(|(k, n, d)| (k.to_string(), json!({"numerator": n, "denominator": d})))
        .collect();
    record(DataSet::IndicatorReport, unit, p, fields)
}

fn compute(
    records: &[Record],
    structure: &str,
    accepted: Option<(&Accepted, &Accepted)>,
) -> Dashboard {
    let catalog = OrgCatalog::sonla();
    let targets = TargetSet::sonla_2023();
    let criteria = configured();
    let as_of = Day::parse("2023-07-02").unwrap();
    let settings = Settings {
        catalog: &catalog,
        source_list: "sonla-2023",
        structure,
        targets: Some(&targets),
        criteria: &criteria,
        as_of: &as_of,
    };
    dashboard::compute(&settings, &period("2023"), records, accepted).unwrap()
}

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-9)
}

/// 03646 and 03649 (district 116), 03682 (district 118): figures by hand.
#[test]
fn a_small_fixture_by_hand() {
    let set = configured();
    let mut records = Vec::new();
    // 03646: 4 households, 1 poor, 1 near-poor; report of 20 households in all; at the standard
    for class in ["poor", "near", "avg", "avg"] {
        records.push(household("03646", "2023", class));
    }
    records.push(report(
        "03646",
        "2023",
        &[("poverty_rate", 0, 20), ("schools_national_standard", 3, 4)],
    ));
    records.push(record(
        DataSet::NtmAssessment,
        "03646",
        "2023",
        assessment_fields(&set, &[]),
    ));
    // 03649: 5 households, 2 poor, no report (the review is the total); misses criteria 17 and 2
    for class in ["poor", "poor", "avg", "avg", "near"] {
        records.push(household("03649", "2023", class));
    }
    records.push(record(
        DataSet::NtmAssessment,
        "03649",
        "2023",
        assessment_fields(&set, &[17, 2]),
    ));
    // 03682: a report only (3 poor of 10), schools 1 of 4; misses 17
    records.push(report(
        "03682",
        "2023",
        &[("poverty_rate", 3, 10), ("schools_national_standard", 1, 4)],
    ));
    records.push(record(
        DataSet::NtmAssessment,
        "03682",
        "2023",
        assessment_fields(&set, &[17]),
    ));
    // last year: 03646 had 2 poor of 4 reviewed households (and no report)
    for class in ["poor", "poor", "avg", "avg"] {
        records.push(household("03646", "2022", class));
    }
    // a deleted household and another period's record are not counted
    let mut gone = household("03646", "2023", "poor");
    gone.deleted = true;
    records.push(gone);
    records.push(household("03646", "2021", "poor"));

    let d = compute(&records, "sonla-2023", None);
    let unit = |c: &str| d.unit(&code(c)).unwrap();

    let c = &unit("03646").figures;
    assert_eq!(
        (c.poverty.households, c.poverty.poor, c.poverty.near_poor),
        (4, 1, 1)
    );
    assert_eq!(
        (c.poverty.numerator, c.poverty.denominator),
        (Some(1), Some(20))
    );
    assert_eq!(c.poverty.denominator_source, Some(Source::IndicatorReport));
    assert_eq!(c.poverty.numerator_source, Some(Source::HouseholdReview));
    assert!(close(c.poverty.rate, 5.0));
    assert!(close(c.poverty.near_poor_rate, 5.0));
    assert_eq!(c.poverty.status, Some(TargetStatus::Met));
    let prev = c.poverty.previous.as_ref().unwrap();
    assert_eq!((prev.numerator, prev.denominator), (2, 4));
    assert!(close(c.poverty.change, 5.0 - 50.0));
    let ntm = c.ntm.commune.as_ref().unwrap();
    assert!(ntm.meets_standard);
    assert_eq!(ntm.criteria_met, 19);

    let c = &unit("03649").figures;
    assert_eq!(
        (c.poverty.numerator, c.poverty.denominator),
        (Some(2), Some(5))
    );
    assert_eq!(c.poverty.denominator_source, Some(Source::HouseholdReview));
    assert!(close(c.poverty.rate, 40.0));
    assert_eq!(c.poverty.status, Some(TargetStatus::Behind));
    assert_eq!(c.poverty.previous, None);
    assert_eq!(c.poverty.change, None);
    let ntm = c.ntm.commune.as_ref().unwrap();
    assert_eq!(ntm.not_met, vec![2, 17]);
    assert_eq!(ntm.criteria_met, 17);
    assert!(!ntm.meets_standard);
    assert!(ntm
        .criteria
        .iter()
        .any(|k| k.number == 2 && k.status == Status::NotMet));

    let c = &unit("03682").figures;
    assert_eq!(
        (c.poverty.numerator, c.poverty.denominator),
        (Some(3), Some(10))
    );
    assert_eq!(c.poverty.numerator_source, Some(Source::IndicatorReport));

    // district 116: (1 + 2) poor over (20 + 5) households = 12%, not the mean of 5% and 40%
    let d116 = &unit("116").figures;
    assert_eq!(
        (d116.poverty.numerator, d116.poverty.denominator),
        (Some(3), Some(25))
    );
    assert!(close(d116.poverty.rate, 12.0));
    assert_eq!(d116.poverty.denominator_source, Some(Source::Mixed));
    assert_eq!((d116.ntm.assessed, d116.ntm.at_standard), (2, 1));
    assert_eq!(d116.ntm.communes, 12);
    // a count target does not apply below the province
    let ntm_target = d116
        .targets
        .iter()
        .find(|t| t.key == "ntm_communes")
        .unwrap();
    assert_eq!((ntm_target.numerator, ntm_target.status), (Some(1), None));

    // province: 6 poor of 35; schools 4 of 8; 1 commune at standard of 64 (from 59: behind)
    let p = &unit("14").figures;
    assert_eq!(
        (p.poverty.numerator, p.poverty.denominator),
        (Some(6), Some(35))
    );
    assert!(close(p.poverty.rate, 600.0 / 35.0));
    assert_eq!(p.poverty.communes_reviewed, 2);
    let schools = p
        .targets
        .iter()
        .find(|t| t.key == "schools_national_standard")
        .unwrap();
    assert_eq!((schools.numerator, schools.denominator), (Some(4), Some(8)));
    assert!(close(schools.value, 50.0));
    assert_eq!(schools.communes_reporting, 2);
    assert_eq!(schools.status, Some(TargetStatus::Behind));
    assert_eq!(
        (p.ntm.assessed, p.ntm.at_standard, p.ntm.target),
        (3, 1, Some(64.0))
    );
    assert_eq!(p.ntm.status, Some(TargetStatus::Behind));
    let missed: Vec<(u16, u32)> = p
        .ntm
        .most_missed
        .iter()
        .map(|m| (m.number, m.communes))
        .collect();
    assert_eq!(missed, vec![(17, 2), (2, 1)]);
    assert_eq!(
        p.ntm.most_missed[0].name_vi,
        "Môi trường và an toàn thực phẩm"
    );
    let poverty_target = p.targets.iter().find(|t| t.key == "poverty_rate").unwrap();
    // expected by 2023-07-02 on the path from 19.66 to 15.66: 183/365 of the way
    assert!(close(poverty_target.expected, 19.66 - 4.0 * 183.0 / 365.0));
    let reported = p.targets.iter().find(|t| t.key == "grdp_growth").unwrap();
    assert_eq!(
        (reported.value, reported.status),
        (None, Some(TargetStatus::NoData))
    );
    assert_eq!(p.reporting_communes.communes, 204);
    assert_eq!(p.reporting_communes.household, 2);
    assert_eq!(p.reporting_communes.indicator_report, 2);

    // accepted only: 03649's households and 03682's report
    let accepted: Accepted = BTreeMap::from([
        (code("03649"), BTreeSet::from([DataSet::Household])),
        (code("03682"), BTreeSet::from([DataSet::IndicatorReport])),
    ]);
    let none = Accepted::new();
    let a = compute(&records, "sonla-2023", Some((&accepted, &none)));
    let p = &a.unit(&code("14")).unwrap().figures;
    assert_eq!(
        (p.poverty.numerator, p.poverty.denominator),
        (Some(5), Some(15))
    );
    assert_eq!(p.ntm.assessed, 0);
    assert_eq!(
        a.unit(&code("03646")).unwrap().figures.poverty.previous,
        None
    );
}

#[test]
fn under_the_2025_structure_old_communes_roll_up_under_their_holders() {
    let records = vec![
        // 03646 (Chiềng Lề) and 03649 (Tô Hiệu) both went whole into 2025's Tô Hiệu (03646)
        household("03646", "2023", "poor"),
        household("03649", "2023", "avg"),
        // 03979 went partly into Mộc Châu (03980) and mainly into Mộc Sơn (03979, its main part)
        household("03979", "2023", "poor"),
    ];
    let d = compute(&records, "sonla-2025-07", None);
    let to_hieu = d.unit(&code("03646")).unwrap();
    assert_eq!(to_hieu.parent, Some(code("14")));
    assert_eq!(
        (
            to_hieu.figures.poverty.households,
            to_hieu.figures.poverty.poor
        ),
        (2, 1)
    );
    let sources: Vec<&str> = to_hieu.sources.iter().map(|s| s.code.as_str()).collect();
    assert_eq!(sources, ["03646", "03649", "03652", "03655"]);
    assert!(!to_hieu.partial);
    assert_eq!(to_hieu.figures.reporting_communes.communes, 4);
    let holder = d
        .units
        .values()
        .find(|u| u.sources.iter().any(|s| s.code.as_str() == "03979"))
        .unwrap();
    assert!(holder.partial);
    assert!(
        !holder
            .sources
            .iter()
            .find(|s| s.code.as_str() == "03979")
            .unwrap()
            .whole
    );
    assert_eq!(holder.figures.poverty.poor, 1);
    assert_eq!(d.children(&code("14")).len(), 75);
    assert_eq!(d.unit(&code("14")).unwrap().figures.poverty.households, 3);
}

fn any_class() -> impl Strategy<Value = &'static str> {
    prop_oneof![Just("poor"), Just("near"), Just("avg")]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn districts_add_up_to_the_province_and_rates_are_recomputed(
        communes in proptest::collection::vec(
            (0usize..204, proptest::collection::vec(any_class(), 0..6),
             proptest::option::of((0i64..50, 1i64..80)), proptest::option::of((0i64..5, 5i64..10)),
             proptest::option::of(proptest::collection::vec(1u16..20, 0..3))),
            1..12),
    ) {
        let catalog = OrgCatalog::sonla();
        let list = catalog.list("sonla-2023").unwrap();
        let codes: Vec<String> = list.communes().map(|c| c.code.to_string()).collect();
        let set = configured();
        let mut records = Vec::new();
        let mut seen = BTreeSet::new();
        for (i, classes, poverty, schools, ntm) in communes {
            let unit = &codes[i];
            if !seen.insert(unit.clone()) { continue; }
            for class in classes { records.push(household(unit, "2023", class)); }
            let mut tallies = Vec::new();
            if let Some((n, d)) = poverty { tallies.push(("poverty_rate", n.min(d), d)); }
            if let Some((n, d)) = schools { tallies.push(("schools_national_standard", n, d)); }
            if !tallies.is_empty() { records.push(report(unit, "2023", &tallies)); }
            if let Some(missed) = ntm {
                records.push(record(DataSet::NtmAssessment, unit, "2023", assessment_fields(&set, &missed)));
            }
        }
        let d = compute(&records, "sonla-2023", None);
        let province = &d.unit(&code("14")).unwrap().figures;
        let districts: Vec<_> = d.children(&code("14"));
        prop_assert_eq!(districts.len(), 12);
        prop_assert!(districts.iter().all(|u| u.level == Level::District));
        for target in &province.targets {
            let sum = |f: fn(&dashboard::TargetFigure) -> Option<i64>| -> Option<i64> {
                let parts: Vec<i64> = districts.iter()
                    .filter_map(|u| u.figures.targets.iter().find(|t| t.key == target.key).and_then(f))
                    .collect();
                (!parts.is_empty()).then(|| parts.iter().sum())
            };
            prop_assert_eq!(sum(|t| t.numerator), target.numerator, "{}", &target.key);
            prop_assert_eq!(sum(|t| t.denominator), target.denominator, "{}", &target.key);
            if let (Some(n), Some(den)) = (target.numerator, target.denominator) {
                if (target.key == "poverty_rate" || target.key == "schools_national_standard") && den > 0 {
                        prop_assert!(close(target.value, n as f64 * 100.0 / den as f64), "{}", &target.key);
                }
            }
        }
        let sum_u32 = |f: fn(&dashboard::Figures) -> u32| districts.iter().map(|u| f(&u.figures)).sum::<u32>();
        prop_assert_eq!(sum_u32(|f| f.poverty.households), province.poverty.households);
        prop_assert_eq!(sum_u32(|f| f.poverty.poor), province.poverty.poor);
        prop_assert_eq!(sum_u32(|f| f.poverty.near_poor), province.poverty.near_poor);
        prop_assert_eq!(sum_u32(|f| f.ntm.at_standard), province.ntm.at_standard);
        prop_assert_eq!(sum_u32(|f| f.ntm.assessed), province.ntm.assessed);
        prop_assert_eq!(sum_u32(|f| f.reporting_communes.communes), 204);

        // the same records under the 2025 communes: the same province, and its 75 communes add up to it
        let d25 = compute(&records, "sonla-2025-07", None);
        let p25 = &d25.unit(&code("14")).unwrap().figures;
        prop_assert_eq!(&p25.targets, &province.targets);
        prop_assert_eq!(&p25.poverty, &province.poverty);
        prop_assert_eq!(p25.ntm.at_standard, province.ntm.at_standard);
        let communes25: Vec<_> = d25.children(&code("14"));
        prop_assert_eq!(communes25.len(), 75);
        let poor: u32 = communes25.iter().map(|u| u.figures.poverty.poor).sum();
        prop_assert_eq!(poor, province.poverty.poor);
        let den: i64 = communes25.iter().filter_map(|u| u.figures.poverty.denominator).sum();
        prop_assert_eq!(Some(den).filter(|_| province.poverty.denominator.is_some()), province.poverty.denominator);
    }
}
