use proptest::prelude::*;
use thidua_domain::poverty::{classify, Area, Classification, Deprivation, Household};
use Classification::*;

#[test]
fn classification_at_every_boundary() {
    // (area, income per person per month, deprivations, expected)
    let table = [
        (Area::Rural, 0, 0, NearPoor),
        (Area::Rural, 0, 12, Poor),
        (Area::Rural, 1_499_999, 3, Poor),
        (Area::Rural, 1_500_000, 3, Poor), // exactly on the poverty line: still poor
        (Area::Rural, 1_500_000, 2, NearPoor),
        (Area::Rural, 1_500_001, 3, AverageLivingStandard),
        (Area::Rural, 1_500_001, 12, AverageLivingStandard), // above the line: never poor
        (Area::Rural, 2_250_000, 0, AverageLivingStandard),  // exactly on the upper line
        (Area::Rural, 2_250_001, 0, Above),
        (Area::Urban, 1_500_001, 3, Poor), // urban line is higher
        (Area::Urban, 2_000_000, 3, Poor),
        (Area::Urban, 2_000_000, 2, NearPoor),
        (Area::Urban, 2_000_001, 5, AverageLivingStandard),
        (Area::Urban, 2_250_001, 0, AverageLivingStandard),
        (Area::Urban, 3_000_000, 0, AverageLivingStandard),
        (Area::Urban, 3_000_001, 0, Above),
    ];
    for (area, income, deprivations, expected) in table {
        assert_eq!(
            classify(area, income, deprivations),
            expected,
            "{area:?} {income} VND, {deprivations} deprivations"
        );
    }
}

fn household() -> Household {
    Household {
        head_name: "Lò Văn Minh".into(),
        village: "Bản Hụm".into(),
        area: Area::Rural,
        members: 5,
        working_age_members: 2,
        children_under_16: 3,
        members_16_to_30: 1,
        income_per_person_month: 1_200_000,
        floor_area_m2: Some(30),
        deprivations: vec![
            Deprivation::Nutrition,
            Deprivation::DomesticWater,
            Deprivation::Latrine,
            Deprivation::FloorArea,
        ],
    }
}

#[test]
fn a_valid_household_round_trips_through_record_fields() {
    let h = household();
    assert!(h.validate().is_empty(), "{:?}", h.validate());
    assert_eq!(h.classification(), Poor);
    let fields = h.to_fields();
    assert_eq!(fields.len(), 9 + 12);
    assert_eq!(
        Household::parse_valid(&fields).unwrap(),
        Household {
            deprivations: sorted(h.deprivations.clone()),
            ..h
        }
    );
}

fn sorted(mut d: Vec<Deprivation>) -> Vec<Deprivation> {
    d.sort();
    d
}

fn codes(h: &Household) -> Vec<(String, String)> {
    h.validate()
        .into_iter()
        .map(|e| (e.field, e.code))
        .collect()
}

#[test]
fn validation_names_the_field_and_the_reason_in_both_languages() {
    let h = Household {
        income_per_person_month: -1,
        ..household()
    };
    let errors = h.validate();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].field, "income_per_person_month");
    assert_eq!(errors[0].code, "negative");
    assert!(
        errors[0]
            .message_vi
            .starts_with("Thu nhập bình quân đầu người/tháng: "),
        "{}",
        errors[0].message_vi
    );
    assert!(errors[0].message_vi.contains("không được là số âm"));
    assert!(errors[0]
        .message_en
        .starts_with("Income per person per month: "));

    assert_eq!(
        codes(&Household {
            members: 0,
            working_age_members: 0,
            children_under_16: 0,
            members_16_to_30: 0,
            deprivations: vec![],
            floor_area_m2: None,
            ..household()
        }),
        [("members".into(), "no_members".into())]
    );
    assert_eq!(
        codes(&Household {
            members: 31,
            ..household()
        }),
        [("members".into(), "implausible".into())]
    );
    assert_eq!(
        codes(&Household {
            head_name: "  ".into(),
            ..household()
        }),
        [("head_name".into(), "required".into())]
    );
    assert_eq!(
        codes(&Household {
            village: "x".repeat(121),
            ..household()
        }),
        [("village".into(), "too_long".into())]
    );
    assert_eq!(
        codes(&Household {
            children_under_16: 6,
            ..household()
        }),
        [("children_under_16".into(), "exceeds_members".into())]
    );
    assert_eq!(
        codes(&Household {
            income_per_person_month: 200_000_001,
            ..household()
        }),
        [("income_per_person_month".into(), "implausible".into())]
    );
}

#[test]
fn deprivations_must_agree_with_the_members() {
    let no_children = Household {
        children_under_16: 0,
        ..household()
    };
    assert_eq!(
        codes(&no_children),
        [("dep_nutrition".into(), "inconsistent".into())]
    );
    let schooling = Household {
        children_under_16: 0,
        deprivations: vec![Deprivation::ChildSchooling],
        floor_area_m2: None,
        ..household()
    };
    assert_eq!(
        codes(&schooling),
        [("dep_child_schooling".into(), "inconsistent".into())]
    );
    let employment = Household {
        working_age_members: 0,
        deprivations: vec![Deprivation::Employment],
        floor_area_m2: None,
        ..household()
    };
    assert_eq!(
        codes(&employment),
        [("dep_employment".into(), "inconsistent".into())]
    );
    let adults = Household {
        members_16_to_30: 0,
        deprivations: vec![Deprivation::AdultEducation],
        floor_area_m2: None,
        ..household()
    };
    assert_eq!(
        codes(&adults),
        [("dep_adult_education".into(), "inconsistent".into())]
    );
    let dependants = Household {
        working_age_members: 5,
        children_under_16: 0,
        deprivations: vec![Deprivation::Dependants],
        floor_area_m2: None,
        ..household()
    };
    assert_eq!(
        codes(&dependants),
        [("dep_dependants".into(), "inconsistent".into())]
    );
    // 40 m² for 5 people is exactly 8 m² each: not deprived, so the tick is wrong
    let roomy = Household {
        floor_area_m2: Some(40),
        ..household()
    };
    assert_eq!(
        codes(&roomy),
        [("dep_floor_area".into(), "inconsistent".into())]
    );
    let cramped = Household {
        floor_area_m2: Some(39),
        deprivations: vec![],
        ..household()
    };
    assert_eq!(
        codes(&cramped),
        [("dep_floor_area".into(), "inconsistent".into())]
    );
}

#[test]
fn mistyped_and_unknown_fields_are_named() {
    let mut fields = household().to_fields();
    fields.insert("income_per_person_month".into(), serde_json::json!("nhiều"));
    fields.insert("members".into(), serde_json::json!(2.5));
    fields.insert("area".into(), serde_json::json!("mountain"));
    fields.insert("nickname".into(), serde_json::json!("x"));
    let errors = Household::parse_valid(&fields).unwrap_err();
    let named: Vec<(&str, &str)> = errors
        .iter()
        .map(|e| (e.field.as_str(), e.code.as_str()))
        .collect();
    assert!(
        named.contains(&("income_per_person_month", "wrong_type")),
        "{named:?}"
    );
    assert!(named.contains(&("members", "wrong_type")), "{named:?}");
    assert!(named.contains(&("area", "wrong_value")), "{named:?}");
    assert!(named.contains(&("nickname", "unknown_field")), "{named:?}");

    let mut missing = household().to_fields();
    missing.remove("income_per_person_month");
    let errors = Household::parse_valid(&missing).unwrap_err();
    assert_eq!(errors[0].field, "income_per_person_month");
    assert_eq!(errors[0].code, "required");
}

fn area() -> impl Strategy<Value = Area> {
    prop_oneof![Just(Area::Rural), Just(Area::Urban)]
}

proptest! {
    #[test]
    fn more_income_never_makes_a_household_poorer(area in area(), income in -1_000i64..5_000_000, extra in 0i64..3_000_000, deprivations in 0usize..=12) {
        let before = classify(area, income, deprivations);
        let after = classify(area, income + extra, deprivations);
        prop_assert!(after.severity() <= before.severity(), "{before:?} → {after:?}");
    }

    #[test]
    fn more_deprivations_never_make_a_household_less_poor(area in area(), income in 0i64..5_000_000, deprivations in 0usize..=12, extra in 0usize..=12) {
        let before = classify(area, income, deprivations);
        let after = classify(area, income, (deprivations + extra).min(12));
        prop_assert!(after.severity() >= before.severity(), "{before:?} → {after:?}");
    }

    #[test]
    fn urban_lines_never_class_a_household_better_off_than_rural_ones(income in 0i64..5_000_000, deprivations in 0usize..=12) {
        prop_assert!(classify(Area::Urban, income, deprivations).severity() >= classify(Area::Rural, income, deprivations).severity());
    }

    #[test]
    fn poor_exactly_when_at_or_below_the_line_with_three_or_more(area in area(), income in 0i64..5_000_000, deprivations in 0usize..=12) {
        let poor = classify(area, income, deprivations) == Poor;
        prop_assert_eq!(poor, income <= area.lines().poverty_line && deprivations >= 3);
    }
}

mod review_totals {
    use proptest::prelude::*;
    use thidua_domain::poverty::{Classification, ReviewTotals};

    fn class(n: u8) -> Classification {
        match n % 4 {
            0 => Classification::Poor,
            1 => Classification::NearPoor,
            2 => Classification::AverageLivingStandard,
            _ => Classification::Above,
        }
    }

    #[test]
    fn villages_are_grouped_without_accents_and_rates_are_shares_of_households() {
        let totals = ReviewTotals::of([
            ("Bản Hụm", Classification::Poor),
            ("bản hụm ", Classification::NearPoor),
            ("Ban Hum", Classification::Above),
            ("Bản Cọ", Classification::Poor),
        ]);
        assert_eq!(totals.villages.len(), 2);
        let (name, hum) = &totals.villages["ban hum"];
        assert_eq!(name, "Bản Hụm");
        assert_eq!((hum.households, hum.poor, hum.near_poor), (3, 1, 1));
        assert_eq!(totals.commune.households, 4);
        assert_eq!(totals.commune.poverty_rate(), Some(50.0));
        assert_eq!(totals.commune.near_poverty_rate(), Some(25.0));
        assert_eq!(ReviewTotals::of([]).commune.poverty_rate(), None);
    }

    proptest! {
        #[test]
        fn the_villages_add_up_to_the_commune(list in proptest::collection::vec((0u8..5, 0u8..4), 0..200)) {
            let names = ["Bản A", "Bản B", "bản a", "Bản C", "Bản Đ"];
            let totals = ReviewTotals::of(list.iter().map(|(v, c)| (names[*v as usize], class(*c))));
            let sum = |f: fn(&thidua_domain::poverty::ReviewCount) -> u32| totals.villages.values().map(|(_, c)| f(c)).sum::<u32>();
            prop_assert_eq!(sum(|c| c.households), totals.commune.households);
            prop_assert_eq!(sum(|c| c.poor), totals.commune.poor);
            prop_assert_eq!(sum(|c| c.near_poor), totals.commune.near_poor);
            prop_assert_eq!(totals.commune.households as usize, list.len());
        }
    }
}

#[test]
fn carried_over_households_keep_their_link_and_leaving_poverty_is_counted() {
    use serde_json::json;
    use thidua_domain::poverty::{Classification::*, Escapes, Household, CARRIED_FROM};
    let mut fields =
        serde_json::from_value::<std::collections::BTreeMap<String, serde_json::Value>>(json!({
            "head_name": "Lò Văn A", "village": "Bản Hụm", "area": "rural", "members": 4,
            "working_age_members": 2, "children_under_16": 2, "members_16_to_30": 1,
            "income_per_person_month": 1200000, "floor_area_m2": 40
        }))
        .unwrap();
    fields.insert(
        CARRIED_FROM.into(),
        json!("01890a5d-ac96-774b-bcce-b302099a8057"),
    );
    assert!(Household::parse_valid(&fields).is_ok());
    fields.insert(CARRIED_FROM.into(), json!("năm ngoái"));
    let errors = Household::parse_valid(&fields).unwrap_err();
    assert_eq!(errors[0].field, CARRIED_FROM);

    let e = Escapes::of([
        (Poor, NearPoor),
        (Poor, Poor),
        (Poor, Above),
        (NearPoor, AverageLivingStandard),
        (NearPoor, Poor),
        (Above, Poor),
        (NearPoor, NearPoor),
    ]);
    assert_eq!(
        (e.left_poverty, e.left_near_poverty, e.fell_into_poverty),
        (2, 1, 2)
    );
}

#[test]
fn a_household_may_carry_its_position_with_accuracy() {
    use serde_json::json;
    use thidua_domain::poverty::{Household, POSITION};
    let mut fields =
        serde_json::from_value::<std::collections::BTreeMap<String, serde_json::Value>>(json!({
            "head_name": "Lò Văn A", "village": "Bản Hụm", "area": "rural", "members": 4,
            "working_age_members": 2, "children_under_16": 2, "members_16_to_30": 1,
            "income_per_person_month": 1200000, "floor_area_m2": 40
        }))
        .unwrap();
    fields.insert(
        POSITION.into(),
        json!({"lat": 21.3256, "lon": 103.9188, "accuracy_m": 12.0, "at_ms": 1.7e12}),
    );
    assert!(Household::parse_valid(&fields).is_ok());
    fields.insert(
        POSITION.into(),
        json!({"lat": 121.0, "lon": 103.9, "accuracy_m": 5.0, "at_ms": 0.0}),
    );
    assert_eq!(
        Household::parse_valid(&fields).unwrap_err()[0].field,
        POSITION
    );
    fields.insert(POSITION.into(), json!("ở đầu bản"));
    assert_eq!(
        Household::parse_valid(&fields).unwrap_err()[0].field,
        POSITION
    );
}

#[test]
fn the_yearly_review_runs_from_1_september_to_14_december() {
    use thidua_domain::poverty::ReviewWindow;
    use thidua_domain::Day;
    let on = |d: &str| ReviewWindow::of(2023, &Day::parse(d).unwrap());
    assert_eq!(on("2023-01-15"), ReviewWindow::NotYet { days: 229 });
    assert_eq!(on("2023-08-31"), ReviewWindow::NotYet { days: 1 });
    assert_eq!(on("2023-09-01"), ReviewWindow::Open { days_left: 105 });
    assert_eq!(on("2023-12-14"), ReviewWindow::Open { days_left: 1 });
    assert_eq!(on("2023-12-15"), ReviewWindow::Closed);
    assert_eq!(on("2024-03-01"), ReviewWindow::Closed);
    // a year not yet begun
    assert_eq!(on("2022-12-31"), ReviewWindow::NotYet { days: 244 });
}

#[test]
fn each_village_and_the_commune_say_how_both_rates_moved_since_last_year() {
    use thidua_domain::poverty::{Classification as C, ReviewTotals};
    // last year: Bản Hụm 2 poor, 1 near-poor of 4; this year 1 poor, 2 near-poor of 4
    let before = ReviewTotals::of([
        ("Bản Hụm", C::Poor),
        ("Bản Hụm", C::Poor),
        ("Bản Hụm", C::NearPoor),
        ("Bản Hụm", C::Above),
    ]);
    let now = ReviewTotals::of([
        ("Ban Hum", C::Poor),
        ("Bản Hụm", C::NearPoor),
        ("Bản Hụm", C::NearPoor),
        ("Bản Hụm", C::Above),
        ("Bản Mới", C::Poor),
    ]);
    let key = thidua_domain::text::search_key("Bản Hụm");
    let (poor, near) = now.villages[&key].1.rate_changes(&before.villages[&key].1);
    assert_eq!((poor, near), (Some(-25.0), Some(25.0)));
    // a village new this year has nothing to compare with
    let new_key = thidua_domain::text::search_key("Bản Mới");
    assert!(!before.villages.contains_key(&new_key));
    let (poor, near) = now.villages[&new_key].1.rate_changes(&Default::default());
    assert_eq!((poor, near), (None, None));
    // the commune: 2 of 5 poor now against 2 of 4; 2 of 5 near-poor against 1 of 4
    let (poor, near) = now.commune.rate_changes(&before.commune);
    assert!((poor.unwrap() - (40.0 - 50.0)).abs() < 1e-9);
    assert!((near.unwrap() - (40.0 - 25.0)).abs() < 1e-9);
}
