use thidua_domain::org::{Level, OrgCatalog, UnitCode, UnitList};

fn code(s: &str) -> UnitCode {
    UnitCode::parse(s).unwrap()
}

#[test]
fn old_communes_find_their_2025_holder() {
    let catalog = OrgCatalog::sonla();
    let holder = |c: &str| {
        let h = catalog
            .holder("sonla-2023", &code(c), "sonla-2025-07")
            .unwrap();
        (h.unit.full_name(), h.whole)
    };
    // Phường Chiềng Lề merged whole into Phường Tô Hiệu
    assert_eq!(holder("03646"), ("Phường Tô Hiệu".into(), true));
    // Xã Mường Bằng went whole into Xã Chiềng Mung (not Mường Bang of Phù Yên)
    assert_eq!(holder("04111"), ("Xã Chiềng Mung".into(), true));
    // Xã Chiềng Bôm was split in 2024: its records go to the main part, flagged as not whole
    let (_, whole) = holder("03766");
    assert!(!whole);
    // a unit keeps itself within its own list
    let same = catalog
        .holder("sonla-2023", &code("03646"), "sonla-2023")
        .unwrap();
    assert_eq!(same.unit.code.as_str(), "03646");
    // unknown code, or going backwards in time: no answer rather than a wrong one
    assert!(catalog
        .holder("sonla-2023", &code("99999"), "sonla-2025-07")
        .is_none());
    assert!(catalog
        .holder("sonla-2025-07", &code("03646"), "sonla-2023")
        .is_none());
}

#[test]
fn the_list_in_force_depends_on_the_day() {
    let catalog = OrgCatalog::sonla();
    let on = |d: &str| {
        catalog
            .list_on(&thidua_domain::Day::parse(d).unwrap())
            .map(|l| l.id.clone())
    };
    assert_eq!(on("2023-06-30").as_deref(), Some("sonla-2023"));
    assert_eq!(on("2025-06-30").as_deref(), Some("sonla-2023"));
    assert_eq!(on("2025-07-01").as_deref(), Some("sonla-2025-07"));
    assert_eq!(on("2020-01-01"), None);
}

#[test]
fn tree_questions() {
    let catalog = OrgCatalog::sonla();
    let list = catalog.list("sonla-2023").unwrap();
    let lineage: Vec<&str> = list
        .lineage(&code("03646"))
        .iter()
        .map(|u| u.code.as_str())
        .collect();
    assert_eq!(lineage, ["03646", "116", "14"]);
    assert!(list.is_within(&code("03646"), &code("116")));
    assert!(!list.is_within(&code("03646"), &code("118")));
    assert_eq!(list.children(&code("116")).count(), 12);
    let found: Vec<String> = list
        .search("chieng le")
        .iter()
        .map(|u| u.full_name())
        .collect();
    assert_eq!(found, ["Phường Chiềng Lề"]);
    assert_eq!(list.search("Mường La")[0].level(), Level::Commune);
    assert!(list
        .search("Mường La")
        .iter()
        .any(|u| u.full_name() == "Huyện Mường La"));
}

const LATER: &str = "# id: sonla-2031
# name: Sơn La thử nghiệm
# valid_from: 2031-01-01
# predecessor: sonla-2025-07
# source: danh mục giả định cho kiểm thử
code\tkind\tname\tparent\tmerged_from
14\tTỉnh\tSơn La\t\t
90001\tXã\tHợp Nhất\t14\t03646,03664,03679/part-main
90002\tPhường\tPhần Còn Lại\t14\t03679/part
";

#[test]
fn a_later_list_loads_without_code_change_and_old_records_follow() {
    let mut catalog = OrgCatalog::sonla();
    // every 2025 commune must land somewhere, so this short list is refused with the orphans named
    let err = catalog.add(UnitList::parse(LATER).unwrap()).unwrap_err();
    assert!(err.reason.contains("chưa được gán"), "{err}");
    assert!(err.reason.contains("03670"), "{err}");

    // give every other 2025 commune a place and it loads
    let others: Vec<String> = catalog
        .list("sonla-2025-07")
        .unwrap()
        .communes()
        .map(|c| c.code.to_string())
        .filter(|c| !["03646", "03664", "03679"].contains(&c.as_str()))
        .collect();
    let text = format!("{LATER}90003\tXã\tCòn Lại\t14\t{}\n", others.join(","));
    catalog.add(UnitList::parse(&text).unwrap()).unwrap();
    // Chiềng Lề (2023) → Tô Hiệu (2025) → Hợp Nhất (2031)
    let h = catalog
        .holder("sonla-2023", &code("03646"), "sonla-2031")
        .unwrap();
    assert_eq!(h.unit.name, "Hợp Nhất");
    assert!(h.whole);
}

#[test]
fn bad_lists_say_what_and_where() {
    let err = |text: &str| UnitList::parse(text).unwrap_err().to_string();
    let head = "# id: x\n# name: x\n# valid_from: 2030-01-01\n# source: x\ncode\tkind\tname\tparent\tmerged_from\n";
    assert!(err(&format!("{head}14\tTỉnh\tSơn La\t\t\n1a\tXã\tA\t14\t\n")).contains("dòng 7"));
    assert!(err(&format!(
        "{head}14\tTỉnh\tSơn La\t\t\n90001\tLàng\tA\t14\t\n"
    ))
    .contains("loại đơn vị «Làng» không rõ"));
    assert!(
        err(&format!("{head}14\tTỉnh\tSơn La\t\t\n90001\tXã\tA\t77\t\n")).contains("cấp trên 77")
    );
    assert!(err(&format!("{head}14\tTỉnh\tSơn La\t\t\n14\tXã\tA\t14\t\n")).contains("trùng"));
    assert!(err(&format!(
        "{head}14\tTỉnh\tSơn La\t\t\n90001\tXã\tA\t14\t03646\n"
    ))
    .contains("predecessor"));
    assert!(err("# id: x\ncode\tkind\tname\tparent\n14\tTỉnh\tSơn La\t\n").contains("name"));
    // kinds read with or without accents
    assert!(UnitList::parse(&format!(
        "{head}14\tTinh\tSơn La\t\t\n90001\tthi tran\tA\t14\t\n"
    ))
    .is_ok());
}

#[test]
fn a_district_of_2023_finds_the_2025_communes_its_communes_went_into() {
    let catalog = OrgCatalog::sonla();
    let old = catalog.list("sonla-2023").unwrap();
    let new = catalog.list("sonla-2025-07").unwrap();
    // Quỳnh Nhai: the new Mường Chiên holds its Mường Chiên, Cà Nàng and Chiềng Khay, all its own
    let quynh_nhai = catalog.successors_within("sonla-2023", &code("118"), "sonla-2025-07");
    let muong_chien = quynh_nhai
        .iter()
        .find(|(u, _)| u.code == code("03688"))
        .expect("the new Mường Chiên");
    assert_eq!(muong_chien.0.full_name(), "Xã Mường Chiên");
    assert!(muong_chien.1);
    // every district: each unit listed holds one of its communes, and is "all within" exactly when
    // every commune it holds is the district's
    let mut listed = std::collections::BTreeSet::new();
    let mut shared = 0;
    for district in old.at_level(Level::District) {
        for (unit, all) in catalog.successors_within("sonla-2023", &district.code, "sonla-2025-07")
        {
            let sources: Vec<_> = old
                .communes()
                .filter(|c| {
                    catalog
                        .holder("sonla-2023", &c.code, "sonla-2025-07")
                        .is_some_and(|h| h.unit.code == unit.code)
                })
                .collect();
            assert!(sources
                .iter()
                .any(|c| old.is_within(&c.code, &district.code)));
            assert_eq!(
                all,
                sources
                    .iter()
                    .all(|c| old.is_within(&c.code, &district.code)),
                "{}",
                unit.code
            );
            shared += usize::from(!all);
            listed.insert(unit.code.clone());
        }
    }
    // together the districts reach every new commune
    assert_eq!(listed.len(), new.communes().count());
    // two new communes took communes of two districts: no district supervisor covers them
    assert_eq!(shared, 2);
    assert!(catalog
        .successors_within("sonla-2023", &code("118"), "no-such-list")
        .is_empty());
}
