//! The facts Thi Đua carries, checked against the reference data in `../shared/data` (beside the
//! repository, as CI lays it out). A missing reference folder fails loudly: these checks never skip.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde_json::Value;
use thidua_domain::criteria::{CriteriaSet, Requirement};
use thidua_domain::org::{Level, OrgCatalog, UnitCode, UnitKind};
use thidua_domain::poverty::Area;
use thidua_domain::targets::{Direction, TargetSet};
use thidua_domain::text::fold_diacritics;

fn shared(name: &str) -> Value {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "..",
        "..",
        "..",
        "shared",
        "data",
        name,
    ]
    .iter()
    .collect();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "reference data {} is needed for these tests: {e}",
            path.display()
        )
    });
    serde_json::from_str(&text).expect("reference data is JSON")
}

fn code(s: &str) -> UnitCode {
    UnitCode::parse(s).unwrap()
}

#[test]
fn sonla_2023_has_12_districts_and_204_communes_as_gso_lists_them() {
    let reference = shared("sonla_units_2023.json");
    let catalog = OrgCatalog::sonla();
    let list = catalog.list("sonla-2023").unwrap();
    assert_eq!(list.root().code.as_str(), "14");
    assert_eq!(list.root().name, "Sơn La");
    assert_eq!(list.at_level(Level::District).count(), 12);
    assert_eq!(list.communes().count(), 204);
    assert_eq!(list.count_kind(UnitKind::Commune), 188);
    assert_eq!(list.count_kind(UnitKind::Ward), 7);
    assert_eq!(list.count_kind(UnitKind::Township), 9);

    let mut seen = 0;
    for district in reference["districts"].as_array().unwrap() {
        let d = list
            .get(&code(district["code"].as_str().unwrap()))
            .expect("district carried");
        assert_eq!(d.name, district["name"].as_str().unwrap());
        assert_eq!(d.full_name(), district["full_name"].as_str().unwrap());
        assert_eq!(
            d.search_key,
            district["name_ascii"].as_str().unwrap().to_lowercase()
        );
        for commune in district["communes"].as_array().unwrap() {
            let c = list
                .get(&code(commune["code"].as_str().unwrap()))
                .expect("commune carried");
            assert_eq!(c.full_name(), commune["full_name"].as_str().unwrap());
            assert_eq!(
                c.parent.as_ref(),
                Some(&d.code),
                "{} lies in {}",
                c.name,
                d.name
            );
            assert_eq!(
                fold_diacritics(&c.name),
                commune["name_ascii"].as_str().unwrap()
            );
            seen += 1;
        }
    }
    assert_eq!(seen, 204);
}

#[test]
fn sonla_from_july_2025_has_75_communes_under_the_province() {
    let reference = shared("sonla_units_2025.json");
    let catalog = OrgCatalog::sonla();
    let list = catalog.list("sonla-2025-07").unwrap();
    assert_eq!(list.communes().count(), 75);
    assert_eq!(list.at_level(Level::District).count(), 0);
    assert_eq!(list.count_kind(UnitKind::Commune), 67);
    assert_eq!(list.count_kind(UnitKind::Ward), 8);
    for commune in reference["communes"].as_array().unwrap() {
        let c = list
            .get(&code(commune["code"].as_str().unwrap()))
            .expect("commune carried");
        assert_eq!(c.full_name(), commune["full_name"].as_str().unwrap());
        assert_eq!(c.parent.as_ref().map(UnitCode::as_str), Some("14"));
        assert_eq!(
            fold_diacritics(&c.name),
            commune["name_ascii"].as_str().unwrap()
        );
    }
}

#[test]
fn every_2023_commune_rolls_up_under_a_2025_commune() {
    let catalog = OrgCatalog::sonla();
    let old = catalog.list("sonla-2023").unwrap();
    let mut held: BTreeMap<String, usize> = BTreeMap::new();
    for commune in old.communes() {
        let holder = catalog
            .holder("sonla-2023", &commune.code, "sonla-2025-07")
            .unwrap_or_else(|| panic!("{} has no holder", commune.full_name()));
        assert_eq!(holder.unit.level(), Level::Commune);
        *held.entry(holder.unit.code.to_string()).or_default() += 1;
    }
    assert_eq!(held.values().sum::<usize>(), 204);
    // every new commune holds the records of at least one old one
    assert_eq!(held.len(), 75);
}

#[test]
fn the_2025_mapping_agrees_with_the_reference_where_codes_did_not_change_before_2025() {
    // The reference maps 03/2025 codes; for 2023 communes untouched by the 2024 arrangement
    // (NQ 1280/NQ-UBTVQH15) the code is the same, so the holder must be the same new commune.
    let reference = shared("sonla_units_2025.json");
    let catalog = OrgCatalog::sonla();
    let touched_2024: BTreeSet<&str> = [
        "03721", "03748", "03751", "03766", "03898", "03901", "03910", "03913", "03928", "04060",
        "04066", "04075", "03979", "03982", "04033", "03988", "03991", "04003", "04000", "04015",
        "03997",
    ]
    .into();
    // two splits in the reference are name mix-ups (Hắc/Hặc, Bằng/Bang): NQ 1681 merges them whole
    let corrected = [("04012", "03980"), ("04111", "04123")];
    let mut checked = 0;
    for new in reference["communes"].as_array().unwrap() {
        for from in new["merged_from"].as_array().unwrap() {
            let old = from["old_code"].as_str().unwrap();
            if touched_2024.contains(old)
                || catalog
                    .list("sonla-2023")
                    .unwrap()
                    .get(&code(old))
                    .is_none()
            {
                continue;
            }
            let expected = corrected
                .iter()
                .find(|(o, _)| *o == old)
                .map(|(_, n)| *n)
                .unwrap_or(new["code"].as_str().unwrap());
            let holder = catalog
                .holder("sonla-2023", &code(old), "sonla-2025-07")
                .unwrap();
            assert_eq!(holder.unit.code.as_str(), expected, "holder of {old}");
            assert!(holder.whole, "{old} went whole into {expected}");
            checked += 1;
        }
    }
    assert!(checked >= 180, "checked {checked}");
}

#[test]
fn ntm_2021_2025_has_19_criteria_in_5_groups_as_decision_318_lists_them() {
    let reference = shared("ntm_criteria_2021_2025.json");
    let set = CriteriaSet::ntm_2021_2025();
    assert_eq!(set.criteria.len(), 19);
    assert_eq!(set.groups.len(), 5);
    let reference_criteria = reference["criteria"].as_array().unwrap();
    let mut indicators = 0;
    for (ours, theirs) in set.criteria.iter().zip(reference_criteria) {
        assert_eq!(ours.number as u64, theirs["no"].as_u64().unwrap());
        assert_eq!(ours.name_vi, theirs["name_vi"].as_str().unwrap());
        let group = set.groups.iter().find(|g| g.id == ours.group).unwrap();
        assert_eq!(group.name_vi, theirs["group_vi"].as_str().unwrap());
        for (i, r) in ours
            .indicators
            .iter()
            .zip(theirs["indicators"].as_array().unwrap())
        {
            assert_eq!(i.code, r["code"].as_str().unwrap());
            // a requirement is carried only where the reference knows it: never invented
            match r["requirement_region_tdmnpb"].as_str() {
                None => assert_eq!(i.requirement, None, "{} must stay not configured", i.code),
                Some(text) => {
                    let number: f64 = text
                        .trim_matches(|c: char| !c.is_ascii_digit() && c != '.')
                        .parse()
                        .unwrap();
                    let want = if text.starts_with('≤') {
                        Requirement::AtMost(number)
                    } else {
                        Requirement::AtLeast(number)
                    };
                    assert_eq!(i.requirement.as_ref(), Some(&want));
                }
            }
            indicators += 1;
        }
    }
    assert_eq!(indicators, 55);
}

#[test]
fn the_income_lines_are_those_of_decree_07_2021() {
    let reference = shared("poverty_standard_2022_2025.json");
    let lines = &reference["income_thresholds"];
    for (area, key) in [(Area::Rural, "rural"), (Area::Urban, "urban")] {
        assert_eq!(
            area.lines().poverty_line,
            lines[key]["poverty_line"].as_i64().unwrap()
        );
        assert_eq!(
            area.lines().average_upper,
            lines[key]["average_living_standard_upper"]
                .as_i64()
                .unwrap()
        );
    }
    assert_eq!(reference["deprivation_threshold_count"].as_u64(), Some(3));
    let indicators: usize = reference["dimensions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["indicators"].as_array().unwrap().len())
        .sum();
    assert_eq!(indicators, thidua_domain::poverty::Deprivation::ALL.len());
}

#[test]
fn the_2023_directive_has_14_targets_with_the_reference_values() {
    let reference = shared("sonla_targets_2023.json");
    let set = TargetSet::sonla_2023();
    let theirs = reference["indicators"].as_array().unwrap();
    assert_eq!(set.targets.len(), 14);
    assert_eq!(theirs.len(), 14);
    for (ours, r) in set.targets.iter().zip(theirs) {
        assert_eq!(ours.value, r["target"].as_f64().unwrap(), "{}", ours.key);
    }
    assert_eq!(
        set.target("poverty_rate").unwrap().direction,
        Direction::AtMost
    );
    assert_eq!(set.target("ntm_communes").unwrap().baseline, Some(59.0));
    assert_eq!(set.unit_list, "sonla-2023");
    assert!(OrgCatalog::sonla().list(&set.unit_list).is_some());
}
