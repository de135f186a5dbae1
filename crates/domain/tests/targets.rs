use std::collections::BTreeMap;

use proptest::prelude::*;
use thidua_domain::org::{Level, OrgCatalog, UnitCode};
use thidua_domain::targets::{roll_up, Tally, TargetSet, TargetStatus};
use thidua_domain::Day;

fn day(s: &str) -> Day {
    Day::parse(s).unwrap()
}

#[test]
fn elapsed_share_of_the_year() {
    let set = TargetSet::sonla_2023();
    assert_eq!(set.elapsed(&day("2022-12-31")), 0.0);
    assert!((set.elapsed(&day("2023-01-01")) - 1.0 / 365.0).abs() < 1e-9);
    assert!((set.elapsed(&day("2023-07-02")) - 183.0 / 365.0).abs() < 1e-9);
    assert_eq!(set.elapsed(&day("2023-12-31")), 1.0);
    assert_eq!(set.elapsed(&day("2024-03-01")), 1.0);
}

#[test]
fn progress_and_status() {
    let set = TargetSet::sonla_2023();
    let poverty = set.target("poverty_rate").unwrap(); // 15.66%, at most, from 19.66%
    assert_eq!(poverty.progress(None, 0.5).status, TargetStatus::NoData);
    assert_eq!(poverty.progress(Some(15.66), 0.1).status, TargetStatus::Met); // exactly on target
    assert_eq!(
        poverty.progress(Some(17.0), 0.5).status,
        TargetStatus::OnTrack
    ); // 2.66 of 4 points by mid-year
    assert_eq!(
        poverty.progress(Some(19.0), 0.5).status,
        TargetStatus::Behind
    );
    assert_eq!(
        poverty.progress(Some(17.0), 1.0).status,
        TargetStatus::Behind
    ); // year over, not met
    let p = poverty.progress(Some(17.66), 0.5);
    assert!((p.fraction.unwrap() - 0.5).abs() < 1e-9);

    let ntm = set.target("ntm_communes").unwrap(); // 64, at least, from 59
    assert_eq!(ntm.progress(Some(62.0), 0.5).status, TargetStatus::OnTrack);
    assert_eq!(ntm.progress(Some(61.0), 0.5).status, TargetStatus::Behind);
    assert_eq!(ntm.progress(Some(64.0), 0.5).status, TargetStatus::Met);

    let revenue = set.target("budget_revenue").unwrap(); // accumulates from 0 to 4,800
    assert_eq!(
        revenue.progress(Some(2_500.0), 0.5).status,
        TargetStatus::OnTrack
    );
    assert_eq!(
        revenue.progress(Some(4_258.0), 1.0).status,
        TargetStatus::Behind
    );

    let schools = set.target("schools_national_standard").unwrap(); // no baseline: no path to judge
    assert_eq!(
        schools.progress(Some(60.0), 0.2).status,
        TargetStatus::Behind
    );
    assert_eq!(schools.progress(Some(63.3), 0.2).status, TargetStatus::Met);
}

#[test]
fn rates_are_recomputed_not_averaged() {
    let catalog = OrgCatalog::sonla();
    let list = catalog.list("sonla-2023").unwrap();
    let poverty = TargetSet::sonla_2023()
        .target("poverty_rate")
        .unwrap()
        .clone();
    let c = |s: &str| UnitCode::parse(s).unwrap();
    // two communes of Thành phố Sơn La: 10/100 and 90/100 poor; a third with 1 of 800
    let communes = BTreeMap::from([
        (
            c("03646"),
            Tally {
                numerator: 10,
                denominator: 100,
            },
        ),
        (
            c("03649"),
            Tally {
                numerator: 90,
                denominator: 100,
            },
        ),
        (
            c("03658"),
            Tally {
                numerator: 1,
                denominator: 800,
            },
        ),
    ]);
    let rolled = roll_up(list, &communes);
    let city = rolled[&c("116")];
    assert_eq!(
        city,
        Tally {
            numerator: 101,
            denominator: 1000
        }
    );
    assert!((poverty.figure(city).unwrap() - 10.1).abs() < 1e-9); // not (10 + 90 + 0.125) / 3
    assert_eq!(rolled[&c("14")], city);
    // a district with nothing reported has no data, not zero
    assert!(!rolled.contains_key(&c("118")));
    assert_eq!(poverty.figure(Tally::default()), None);
}

fn communes_2023() -> Vec<UnitCode> {
    OrgCatalog::sonla()
        .list("sonla-2023")
        .unwrap()
        .communes()
        .map(|u| u.code.clone())
        .collect()
}

proptest! {
    #[test]
    fn commune_sums_equal_district_and_province(tallies in proptest::collection::vec((0i64..5_000, 0i64..5_000), 204)) {
        let catalog = OrgCatalog::sonla();
        let list = catalog.list("sonla-2023").unwrap();
        let communes: BTreeMap<UnitCode, Tally> = communes_2023()
            .into_iter()
            .zip(tallies)
            .filter(|(_, (n, _))| *n % 7 != 0) // some communes have not reported
            .map(|(code, (n, d))| (code, Tally { numerator: n, denominator: n + d }))
            .collect();
        let rolled = roll_up(list, &communes);
        let province = rolled.get(&UnitCode::parse("14").unwrap()).copied().unwrap_or_default();
        let mut by_districts = Tally::default();
        for district in list.at_level(Level::District) {
            let own: Tally = communes.iter().filter(|(c, _)| list.is_within(c, &district.code)).fold(Tally::default(), |a, (_, t)| a + *t);
            prop_assert_eq!(rolled.get(&district.code).copied().unwrap_or_default(), own);
            by_districts = by_districts + own;
        }
        let all = communes.values().fold(Tally::default(), |a, t| a + *t);
        prop_assert_eq!(province, all);
        prop_assert_eq!(by_districts, all);
        // the province's rate is Σ numerators / Σ denominators
        let poverty = TargetSet::sonla_2023().target("poverty_rate").unwrap().clone();
        if all.denominator > 0 {
            let rate = poverty.figure(province).unwrap();
            prop_assert!((rate - all.numerator as f64 * 100.0 / all.denominator as f64).abs() < 1e-9);
        }
    }

    #[test]
    fn status_is_met_exactly_when_the_figure_reaches_the_target(value in 0.0f64..40.0, elapsed in 0.0f64..=1.0) {
        let set = TargetSet::sonla_2023();
        let poverty = set.target("poverty_rate").unwrap();
        prop_assert_eq!(poverty.progress(Some(value), elapsed).status == TargetStatus::Met, value <= 15.66);
        let schools = set.target("schools_national_standard").unwrap();
        prop_assert_eq!(schools.progress(Some(value * 2.5), elapsed).status == TargetStatus::Met, value * 2.5 >= 63.3);
    }
}

#[test]
fn the_target_set_of_a_year_is_the_latest_starting_one_that_covers_it() {
    let carried = TargetSet::sonla_2023();
    let mut next = TargetSet::sonla_2023();
    next.id = "sonla-2024-2025".into();
    next.period_start = day("2024-01-01");
    next.period_end = day("2025-12-31");
    let mut mid_year = TargetSet::sonla_2023();
    mid_year.id = "sonla-2023-h2".into();
    mid_year.period_start = day("2023-07-01");
    mid_year.period_end = day("2024-06-30");
    let sets = [carried.clone(), next.clone(), mid_year.clone()];
    let id = |year| TargetSet::for_year(&sets, year).map(|s| s.id.as_str());
    assert_eq!(id(2023), Some("sonla-2023-h2"), "starts later within 2023");
    assert_eq!(id(2024), Some("sonla-2024-2025"));
    assert_eq!(id(2025), Some("sonla-2024-2025"));
    assert_eq!(id(2022), None);
    assert_eq!(id(2026), None);
    assert_eq!(
        TargetSet::for_year([&carried], 2023).map(|s| s.id.as_str()),
        Some("sonla-2023")
    );
}
