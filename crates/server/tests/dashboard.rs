//! The dashboard over HTTP against the real server and database (see common/mod.rs): a fixture of
//! three communes in two districts whose every figure is computed by hand below, at commune,
//! district, province and 2025 level, on all records and on accepted reports only; scope refusals;
//! the drill-down to the records behind the figures.
//!
//! Units: 03646 (Chiềng Lề) and 03649 (Tô Hiệu) are communes of district 116 (Thành phố Sơn La, 12
//! communes); 03682 (Mường Chiên) of district 118 (Quỳnh Nhai). Under the 2025 structure 03646 and
//! 03649 are part of Phường Tô Hiệu (03646, with 03652 and 03655), 03682 of Xã Mường Chiên (03688).

mod common;

use common::*;
use serde_json::{json, Value};
use thidua_domain::criteria::{CriteriaSet, Requirement, ValueKind};
use thidua_domain::protocol::{DataSet, Fields, Outcome, Period, Record, RecordId};
use thidua_server::auth::Role;
use uuid::Uuid;

pub const AS_OF: &str = "2023-12-31";

/// The NTM set with every requirement configured (yes → met, a percentage ≥ 50, a number ≥ 1, text).
pub fn configured_criteria() -> CriteriaSet {
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

/// An assessment meeting every criterion but those in `missed`.
pub fn assessment(set: &CriteriaSet, missed: &[u16]) -> Fields {
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
                (ValueKind::Text, true) => json!(""),
            };
            fields.insert(indicator.code.clone(), value);
        }
    }
    fields
}

/// A household of `class` ("poor", "near", "avg") named `head`.
pub fn classed_household(unit: &str, period: &str, class: &str, head: &str) -> Record {
    let extra = match class {
        "poor" => json!({"income_per_person_month": 1_200_000, "dep_health_insurance": true,
                          "dep_latrine": true, "dep_domestic_water": true}),
        "near" => json!({"income_per_person_month": 1_200_000}),
        _ => json!({"income_per_person_month": 2_000_000}),
    };
    let mut fields = household_fields(extra);
    fields.insert("head_name".into(), json!(head));
    let mut record = household(RecordId(Uuid::now_v7()), unit, fields);
    record.period = Period::parse(period).unwrap();
    record
}

pub fn report(unit: &str, period: &str, tallies: &[(&str, i64, i64)]) -> Record {
    let fields = tallies
        .iter()
        .map(|(k, n, d)| (k.to_string(), json!({"numerator": n, "denominator": d})))
        .collect();
    unit_record(DataSet::IndicatorReport, unit, period, fields)
}

/// Pushes `records` as the administrator; every one must be applied.
pub async fn store_all(app: &TestApp, records: Vec<Record>) {
    let device = new_device();
    for chunk in records.chunks(100) {
        let answer = app
            .push(
                device,
                chunk.iter().cloned().map(|r| create(device, r)).collect(),
            )
            .await;
        for result in answer.results {
            assert!(
                matches!(result.outcome, Outcome::Applied { .. }),
                "{result:?}"
            );
        }
    }
}

/// Submits (as the administrator) and decides: "accept", "return", or "" to leave it submitted.
pub async fn submission(app: &TestApp, unit: &str, period: &str, data_set: &str, decision: &str) {
    let response = app
        .post_json(
            "/api/submissions",
            &json!({"org_unit": unit, "period": period, "data_set": data_set}),
        )
        .await;
    assert_eq!(response.status(), 201, "submit {unit} {period} {data_set}");
    let id = response.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    if !decision.is_empty() {
        let response = app
            .post_json(
                &format!("/api/submissions/{id}/{decision}"),
                &json!({"note": "kiểm tra"}),
            )
            .await;
        assert_eq!(response.status(), 200, "{decision} {unit} {data_set}");
    }
}

pub async fn configure_criteria(app: &TestApp) {
    let response = app
        .put_json(
            "/api/admin/criteria-sets/ntm-2021-2025",
            &serde_json::to_value(configured_criteria()).unwrap(),
        )
        .await;
    assert!(response.status().is_success(), "criteria stored");
}

/// The fixture: see the hand computations in the tests.
async fn fixture(app: &TestApp) {
    configure_criteria(app).await;
    let set = configured_criteria();
    let mut records = Vec::new();
    for (i, class) in ["poor", "poor", "near", "avg", "avg", "avg"]
        .iter()
        .enumerate()
    {
        records.push(classed_household(
            "03646",
            "2023",
            class,
            &format!("Lò Văn {i}"),
        ));
    }
    for (i, class) in ["poor", "poor", "avg", "avg"].iter().enumerate() {
        records.push(classed_household(
            "03649",
            "2023",
            class,
            &format!("Cầm Thị {i}"),
        ));
    }
    for (i, class) in ["poor", "near", "avg"].iter().enumerate() {
        records.push(classed_household(
            "03682",
            "2023",
            class,
            &format!("Quàng Văn {i}"),
        ));
    }
    for (i, class) in ["poor", "poor", "poor", "avg"].iter().enumerate() {
        records.push(classed_household(
            "03646",
            "2022",
            class,
            &format!("Lò Văn {i}"),
        ));
    }
    records.push(report(
        "03646",
        "2023",
        &[
            ("poverty_rate", 0, 40),
            ("schools_national_standard", 3, 4),
            ("doctors_per_10k", 2, 5000),
        ],
    ));
    records.push(report(
        "03682",
        "2023",
        &[("poverty_rate", 9, 30), ("schools_national_standard", 1, 4)],
    ));
    records.push(report("03682", "2022", &[("poverty_rate", 6, 30)]));
    records.push(unit_record(
        DataSet::NtmAssessment,
        "03646",
        "2023",
        assessment(&set, &[]),
    ));
    records.push(unit_record(
        DataSet::NtmAssessment,
        "03649",
        "2023",
        assessment(&set, &[17, 5]),
    ));
    records.push(unit_record(
        DataSet::NtmAssessment,
        "03682",
        "2023",
        assessment(&set, &[17]),
    ));
    // a household deleted after it was stored counts nowhere
    let gone = classed_household("03646", "2023", "poor", "Đã xóa");
    records.push(gone.clone());
    store_all(app, records).await;
    let device = new_device();
    let stored = app.pull_all().await;
    let gone = stored.into_iter().find(|r| r.id == gone.id).unwrap();
    let mut tombstone = gone.clone();
    tombstone.deleted = true;
    let answer = app
        .push(
            device,
            vec![mutation(device, tombstone, gone.revision, &[])],
        )
        .await;
    assert!(matches!(answer.results[0].outcome, Outcome::Applied { .. }));

    submission(app, "03646", "2023", "household", "accept").await;
    submission(app, "03646", "2023", "indicator_report", "").await;
    submission(app, "03646", "2023", "ntm_assessment", "return").await;
    submission(app, "03649", "2023", "household", "accept").await;
    submission(app, "03649", "2023", "ntm_assessment", "").await;
    submission(app, "03682", "2023", "indicator_report", "accept").await;
    submission(app, "03646", "2022", "household", "accept").await;
}

async fn dashboard_as(app: &TestApp, token: Option<&str>, query: &str) -> reqwest::Response {
    let request = match token {
        Some(token) => app
            .anon
            .get(app.url(&format!("/api/dashboard?{query}")))
            .bearer_auth(token),
        None => app.client.get(app.url(&format!("/api/dashboard?{query}"))),
    };
    request.send().await.expect("sent")
}

async fn dashboard(app: &TestApp, query: &str) -> Value {
    let response = dashboard_as(app, None, query).await;
    assert_eq!(response.status(), 200, "{query}");
    response.json().await.unwrap()
}

fn close(value: &Value, expected: f64) -> bool {
    value.as_f64().is_some_and(|v| (v - expected).abs() < 1e-9)
}

fn target<'a>(unit: &'a Value, key: &str) -> &'a Value {
    unit["figures"]["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["key"] == key)
        .unwrap_or_else(|| panic!("target {key}"))
}

fn child<'a>(body: &'a Value, code: &str) -> &'a Value {
    body["children"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == code)
        .unwrap_or_else(|| panic!("child {code}"))
}

fn missed(unit: &Value) -> Vec<(u64, u64)> {
    unit["figures"]["ntm"]["most_missed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["number"].as_u64().unwrap(),
                m["communes"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn every_figure_of_communes_districts_and_the_province_on_all_records() {
    let app = spawn_app().await;
    fixture(&app).await;

    // --- the province: 12 districts; poverty (2 + 2 + 1) poor over (40 + 4 + 30) households
    let body = dashboard(&app, &format!("period=2023&unit=14&as_of={AS_OF}")).await;
    assert_eq!(body["period"], "2023");
    assert_eq!(body["previous_period"], "2022");
    assert_eq!(body["structure"], "2023");
    assert_eq!(body["unit_list"], "sonla-2023");
    assert_eq!(body["basis"], "all");
    assert_eq!(body["target_set"]["id"], "sonla-2023");
    assert!(close(&body["elapsed"], 1.0));
    let p = &body["unit"];
    assert_eq!(p["code"], "14");
    assert_eq!(p["kind"], "province");
    assert_eq!(body["children"].as_array().unwrap().len(), 12);
    let poverty = &p["figures"]["poverty"];
    assert_eq!(poverty["households"], 13);
    assert_eq!(poverty["poor"], 5);
    assert_eq!(poverty["near_poor"], 2);
    assert_eq!(poverty["numerator"], 5);
    assert_eq!(poverty["denominator"], 74);
    assert_eq!(poverty["denominator_source"], "mixed");
    assert_eq!(poverty["numerator_source"], "household_review");
    assert!(close(&poverty["rate"], 500.0 / 74.0));
    assert!(close(&poverty["target"], 15.66));
    assert_eq!(poverty["status"], "met");
    assert_eq!(poverty["communes_reviewed"], 3);
    // 2022: 03646's review (3 of 4) and 03682's report (6 of 30)
    assert_eq!(poverty["previous"]["period"], "2022");
    assert_eq!(poverty["previous"]["numerator"], 9);
    assert_eq!(poverty["previous"]["denominator"], 34);
    assert!(close(&poverty["previous"]["rate"], 900.0 / 34.0));
    assert!(close(&poverty["change"], 500.0 / 74.0 - 900.0 / 34.0));
    // NTM: 3 assessed, 1 at the standard against 64 (from 59): behind
    let ntm = &p["figures"]["ntm"];
    assert_eq!(ntm["communes"], 204);
    assert_eq!(ntm["assessed"], 3);
    assert_eq!(ntm["at_standard"], 1);
    assert_eq!(ntm["target"], 64.0);
    assert_eq!(ntm["status"], "behind");
    assert_eq!(ntm["criteria_met_total"], 19 + 17 + 18);
    assert_eq!(missed(p), vec![(17, 2), (5, 1)]);
    assert_eq!(
        ntm["most_missed"][0]["name_vi"],
        "Môi trường và an toàn thực phẩm"
    );
    // targets: schools (3 + 1) of (4 + 4) = 50% < 63.3; doctors 2 per 5,000 people = 4 per 10,000
    let schools = target(p, "schools_national_standard");
    assert_eq!(schools["numerator"], 4);
    assert_eq!(schools["denominator"], 8);
    assert!(close(&schools["value"], 50.0));
    assert_eq!(schools["status"], "behind");
    // no baseline: progress is the ratio to the target, and nothing is expected by now
    assert!(close(&schools["fraction"], 50.0 / 63.3));
    assert_eq!(schools["expected"], Value::Null);
    assert_eq!(schools["communes_reporting"], 2);
    assert_eq!(schools["name_vi"], "Tỷ lệ trường đạt chuẩn quốc gia");
    assert_eq!(schools["unit_vi"], "%");
    assert_eq!(schools["direction"], "at_least");
    assert_eq!(schools["measure"], "rate");
    assert!(close(&target(p, "doctors_per_10k")["value"], 4.0));
    let pov = target(p, "poverty_rate");
    assert!(close(&pov["value"], 500.0 / 74.0));
    assert!(close(&pov["baseline"], 19.66));
    assert!(close(&pov["expected"], 15.66)); // the year is over on 31/12
                                             // the way from 19.66 to 15.66 covered: (19.66 − 6.76) / 4, past the target
    assert!(close(
        &pov["fraction"],
        (19.66 - 500.0 / 74.0) / (19.66 - 15.66)
    ));
    let ntm_target = target(p, "ntm_communes");
    assert_eq!(
        (ntm_target["numerator"].clone(), ntm_target["value"].clone()),
        (json!(1), json!(1.0))
    );
    // 1 commune counted against a start of 59: far behind the way to 64, and 64 expected by 31/12
    assert!(close(&ntm_target["fraction"], (1.0 - 59.0) / (64.0 - 59.0)));
    assert!(close(&ntm_target["expected"], 64.0));
    assert_eq!(target(p, "grdp_growth")["status"], "no_data");
    assert_eq!(target(p, "cultural_families")["value"], Value::Null);
    assert_eq!(
        p["reported"],
        json!({"household": true, "ntm_assessment": true, "indicator_report": true})
    );
    assert_eq!(p["submission_counts"]["household"]["accepted"], 2);
    assert_eq!(p["submission_counts"]["household"]["none"], 202);
    assert_eq!(p["submission_counts"]["indicator_report"]["submitted"], 1);
    assert_eq!(p["submission_counts"]["ntm_assessment"]["returned"], 1);

    // --- district 116 (a child of the province, and asked for itself): (2 + 2) poor of (40 + 4)
    let d116 = child(&body, "116");
    assert_eq!(d116["figures"]["poverty"]["numerator"], 4);
    assert_eq!(d116["figures"]["poverty"]["denominator"], 44);
    assert!(close(&d116["figures"]["poverty"]["rate"], 400.0 / 44.0));
    assert!(close(
        &d116["figures"]["poverty"]["change"],
        400.0 / 44.0 - 75.0
    ));
    assert_eq!(d116["figures"]["ntm"]["assessed"], 2);
    assert_eq!(d116["figures"]["ntm"]["at_standard"], 1);
    assert_eq!(d116["figures"]["ntm"]["communes"], 12);
    assert_eq!(missed(d116), vec![(5, 1), (17, 1)]);
    // a count target is the province's: no status below it
    assert_eq!(target(d116, "ntm_communes")["status"], Value::Null);
    assert_eq!(target(d116, "ntm_communes")["numerator"], 1);
    let d118 = child(&body, "118");
    assert!(close(&d118["figures"]["poverty"]["rate"], 100.0 / 30.0));
    assert!(close(&d118["figures"]["poverty"]["previous"]["rate"], 20.0));
    assert_eq!(
        d118["figures"]["poverty"]["denominator_source"],
        "indicator_report"
    );
    let quiet = child(&body, "127");
    assert_eq!(quiet["figures"]["poverty"]["rate"], Value::Null);
    assert_eq!(quiet["figures"]["poverty"]["status"], "no_data");
    assert_eq!(quiet["reported"]["household"], false);

    let district = dashboard(&app, &format!("period=2023&unit=116&as_of={AS_OF}")).await;
    assert_eq!(district["unit"]["figures"], d116["figures"]);
    assert_eq!(district["path"].as_array().unwrap().len(), 2);
    assert_eq!(district["path"][0]["code"], "14");
    let communes = district["children"].as_array().unwrap();
    assert_eq!(communes.len(), 12);

    // --- commune 03646: 2 poor of the report's 40 households; 1 near-poor; 2022: 3 of 4 reviewed
    let c = child(&district, "03646");
    let pov = &c["figures"]["poverty"];
    assert_eq!(
        (
            pov["households"].clone(),
            pov["poor"].clone(),
            pov["near_poor"].clone()
        ),
        (json!(6), json!(2), json!(1))
    );
    assert_eq!(pov["denominator"], 40);
    assert_eq!(pov["denominator_source"], "indicator_report");
    assert!(close(&pov["rate"], 5.0));
    assert!(close(&pov["near_poor_rate"], 2.5));
    assert_eq!(pov["status"], "met");
    assert!(close(&pov["previous"]["rate"], 75.0));
    assert!(close(&pov["change"], -70.0));
    let own = &c["figures"]["ntm"]["commune"];
    assert_eq!(own["criteria_met"], 19);
    assert_eq!(own["meets_standard"], true);
    assert_eq!(own["not_met"], json!([]));
    assert!(close(
        &target(c, "schools_national_standard")["value"],
        75.0
    ));
    assert_eq!(target(c, "schools_national_standard")["status"], "met");
    assert_eq!(c["submissions"]["household"]["state"], "accepted");
    assert_eq!(c["submissions"]["indicator_report"]["state"], "submitted");
    assert_eq!(c["submissions"]["ntm_assessment"]["state"], "returned");
    assert_eq!(c["submissions"]["ntm_assessment"]["note"], "kiểm tra");
    assert_eq!(
        c["reported"],
        json!({"household": true, "ntm_assessment": true, "indicator_report": true})
    );
    // 03649: no report, so the review is the total: 2 of 4; misses criteria 5 and 17
    let c = child(&district, "03649");
    assert!(close(&c["figures"]["poverty"]["rate"], 50.0));
    assert_eq!(
        c["figures"]["poverty"]["denominator_source"],
        "household_review"
    );
    assert_eq!(c["figures"]["poverty"]["status"], "behind");
    assert_eq!(c["figures"]["poverty"]["previous"], Value::Null);
    assert_eq!(c["figures"]["poverty"]["change"], Value::Null);
    assert_eq!(c["figures"]["ntm"]["commune"]["not_met"], json!([5, 17]));
    assert_eq!(c["figures"]["ntm"]["commune"]["criteria_met"], 17);
    assert_eq!(c["reported"]["indicator_report"], false);
    assert_eq!(c["submissions"]["indicator_report"]["state"], "none");
    // a commune asked for itself has no children
    let one = dashboard(&app, "period=2023&unit=03682").await;
    assert_eq!(one["children"], json!([]));
    assert!(close(
        &one["unit"]["figures"]["poverty"]["rate"],
        100.0 / 30.0
    ));
    assert!(close(
        &one["unit"]["figures"]["poverty"]["change"],
        100.0 / 30.0 - 20.0
    ));
    assert_eq!(
        one["unit"]["figures"]["ntm"]["commune"]["not_met"],
        json!([17])
    );
}

#[tokio::test]
async fn accepted_figures_apart_from_drafts_and_the_2025_structure() {
    let app = spawn_app().await;
    fixture(&app).await;

    // accepted only: 03646's review (2 of 6, its report is only submitted), 03649's review (2 of 4),
    // 03682's report (9 of 30, its review never submitted); no assessment is accepted
    let body = dashboard(
        &app,
        &format!("period=2023&unit=14&basis=accepted&as_of={AS_OF}"),
    )
    .await;
    assert_eq!(body["basis"], "accepted");
    let p = &body["unit"]["figures"];
    assert_eq!(p["poverty"]["numerator"], 13);
    assert_eq!(p["poverty"]["denominator"], 40);
    assert!(close(&p["poverty"]["rate"], 32.5));
    assert_eq!(p["poverty"]["status"], "behind");
    assert_eq!(p["ntm"]["assessed"], 0);
    assert_eq!(p["ntm"]["status"], "no_data");
    let schools = target(&body["unit"], "schools_national_standard");
    assert_eq!(
        (schools["numerator"].clone(), schools["denominator"].clone()),
        (json!(1), json!(4))
    );
    // 2022: only 03646's review was accepted
    assert_eq!(p["poverty"]["previous"]["numerator"], 3);
    assert_eq!(p["poverty"]["previous"]["denominator"], 4);
    let district = dashboard(&app, "period=2023&unit=116&basis=accepted").await;
    let c = child(&district, "03646");
    assert!(close(&c["figures"]["poverty"]["rate"], 200.0 / 6.0));
    assert_eq!(
        c["figures"]["poverty"]["denominator_source"],
        "household_review"
    );
    assert_eq!(c["figures"]["ntm"]["commune"], Value::Null);
    assert_eq!(c["reported"]["indicator_report"], false);

    // the 2025 structure: 75 communes under the province, the same province totals
    let body = dashboard(
        &app,
        &format!("period=2023&unit=14&structure=2025&as_of={AS_OF}"),
    )
    .await;
    assert_eq!(body["unit_list"], "sonla-2025-07");
    assert_eq!(body["source_list"], "sonla-2023");
    let children = body["children"].as_array().unwrap();
    assert_eq!(children.len(), 75);
    assert!(children.iter().all(|c| c["level"] == "commune"));
    assert_eq!(body["unit"]["figures"]["poverty"]["numerator"], 5);
    assert_eq!(body["unit"]["figures"]["poverty"]["denominator"], 74);
    assert_eq!(body["unit"]["figures"]["ntm"]["at_standard"], 1);
    // Phường Tô Hiệu 2025 holds 03646 and 03649 (and 03652, 03655): (2 + 2) of (40 + 4)
    let to_hieu = child(&body, "03646");
    assert_eq!(to_hieu["full_name"], "Phường Tô Hiệu");
    assert_eq!(to_hieu["figures"]["poverty"]["numerator"], 4);
    assert_eq!(to_hieu["figures"]["poverty"]["denominator"], 44);
    assert_eq!(to_hieu["figures"]["ntm"]["communes"], 4);
    assert_eq!(to_hieu["figures"]["ntm"]["at_standard"], 1);
    let sources: Vec<&str> = to_hieu["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["code"].as_str().unwrap())
        .collect();
    assert_eq!(sources, ["03646", "03649", "03652", "03655"]);
    assert_eq!(to_hieu["sources"][0]["has_records"], true);
    assert_eq!(to_hieu["sources"][2]["has_records"], false);
    assert_eq!(to_hieu["partial"], false);
    assert_eq!(to_hieu["submission_counts"]["household"]["accepted"], 2);
    assert_eq!(to_hieu["submission_counts"]["household"]["none"], 2);
    assert!(to_hieu.get("submissions").is_none());
    let muong_chien = child(&body, "03688");
    assert!(close(
        &muong_chien["figures"]["poverty"]["rate"],
        100.0 / 30.0
    ));
    // a 2023 commune split between two 2025 units is said
    assert_eq!(child(&body, "03979")["partial"], true);
    let alone = dashboard(&app, "period=2023&unit=03646&structure=2025").await;
    assert_eq!(alone["unit"]["figures"]["poverty"]["denominator"], 44);
    assert_eq!(alone["path"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn each_role_sees_only_its_unit_and_bad_requests_are_refused() {
    let app = spawn_app().await;
    fixture(&app).await;
    let (_, s116) = app
        .user_with_token("s.116", Role::DistrictSupervisor, "116")
        .await;
    let (_, s118) = app
        .user_with_token("s.118", Role::DistrictSupervisor, "118")
        .await;
    let (_, o03646) = app
        .user_with_token("o.03646", Role::CommuneOfficer, "03646")
        .await;

    for (token, query, status) in [
        (&s116, "period=2023&unit=116", 200),
        (&s116, "period=2023", 200), // the caller's own unit by default
        (&s116, "period=2023&unit=03649", 200),
        (&s116, "period=2023&unit=118", 403),
        (&s116, "period=2023&unit=03682", 403),
        (&s116, "period=2023&unit=14", 403),
        (&s118, "period=2023&unit=116", 403),
        (&o03646, "period=2023&unit=03646", 200),
        (&o03646, "period=2023&unit=03649", 403),
        (&o03646, "period=2023&unit=116", 403),
        // 2025: Tô Hiệu is made only of 116's communes; the province is not 116's
        (&s116, "period=2023&unit=03646&structure=2025", 200),
        (&s116, "period=2023&unit=14&structure=2025", 403),
        (&s118, "period=2023&unit=03646&structure=2025", 403),
        // 2023's officer of 03646 (Chiềng Lề) does not see 2025's 03646, which holds 03649 too
        (&o03646, "period=2023&unit=03646&structure=2025", 403),
    ] {
        let response = dashboard_as(&app, Some(token), query).await;
        if status == 200 {
            assert_eq!(response.status(), 200, "{query}");
        } else {
            assert_eq!(
                error_body(response, status).await["code"],
                "out_of_scope",
                "{query}"
            );
        }
    }
    // the default unit of a supervisor is its district, with its communes only
    let body: Value = dashboard_as(&app, Some(&s116), "period=2023")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["unit"]["code"], "116");
    assert_eq!(body["unit"]["figures"]["poverty"]["denominator"], 44);

    for (query, status, code) in [
        ("period=20x3&unit=14", 400, "invalid_period"),
        ("unit=14", 400, "invalid_period"),
        ("period=2023&unit=99999", 404, "unknown_unit"),
        ("period=2023&unit=abc", 404, "unknown_unit"),
        ("period=2023&unit=116&structure=2025", 404, "unknown_unit"),
        (
            "period=2023&unit=14&structure=1999",
            400,
            "invalid_structure",
        ),
        ("period=2023&unit=14&basis=drafts", 400, "invalid_basis"),
        ("period=2023&unit=14&as_of=yesterday", 400, "invalid_as_of"),
        ("period=2023&unit=14&colour=red", 400, "invalid_query"),
    ] {
        let response = dashboard_as(&app, None, query).await;
        assert_eq!(error_body(response, status).await["code"], code, "{query}");
    }
    let response = app
        .anon
        .get(app.url("/api/dashboard?period=2023"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}

async fn drill(app: &TestApp, token: Option<&str>, query: &str) -> reqwest::Response {
    let request = match token {
        Some(token) => app
            .anon
            .get(app.url(&format!("/api/dashboard/records?{query}")))
            .bearer_auth(token),
        None => app
            .client
            .get(app.url(&format!("/api/dashboard/records?{query}"))),
    };
    request.send().await.expect("sent")
}

async fn drilled(app: &TestApp, query: &str) -> Value {
    let response = drill(app, None, query).await;
    assert_eq!(response.status(), 200, "{query}");
    response.json().await.unwrap()
}

#[tokio::test]
async fn every_figure_leads_to_the_records_behind_it() {
    let app = spawn_app().await;
    fixture(&app).await;

    // 03646's 6 households (the deleted one is not there), 2 of them poor
    let all = drilled(&app, "period=2023&unit=03646&data_set=household").await;
    assert_eq!(all["total"], 6);
    assert_eq!(all["records"].as_array().unwrap().len(), 6);
    assert_eq!(all["submission"]["state"], "accepted");
    assert_eq!(all["counted_when_accepted_only"], true);
    assert_eq!(all["next_after"], Value::Null);
    assert!(all["records"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["head_name"] != "Đã xóa"));
    let poor = drilled(
        &app,
        "period=2023&unit=03646&data_set=household&classification=poor",
    )
    .await;
    assert_eq!(poor["total"], 2);
    for record in poor["records"].as_array().unwrap() {
        assert_eq!(record["classification"], "poor");
        assert_eq!(record["deprivations"], 3);
        assert_eq!(record["village"], "Bản Hụm");
        assert!(record["head_name"].as_str().unwrap().starts_with("Lò Văn"));
    }
    // pages of 4 by id
    let first = drilled(&app, "period=2023&unit=03646&data_set=household&limit=4").await;
    assert_eq!(first["records"].as_array().unwrap().len(), 4);
    let after = first["next_after"].as_str().expect("a next page");
    let second = drilled(
        &app,
        &format!("period=2023&unit=03646&data_set=household&limit=4&after={after}"),
    )
    .await;
    assert_eq!(second["records"].as_array().unwrap().len(), 2);
    assert_eq!(second["next_after"], Value::Null);
    let mut ids: Vec<String> = first["records"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second["records"].as_array().unwrap())
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    let listed = ids.clone();
    ids.sort();
    ids.dedup();
    assert_eq!(ids, listed, "in id order, none twice");
    assert_eq!(ids.len(), 6);

    // the report behind the denominator of 40, and the assessment behind "17 of 19"
    let report = drilled(
        &app,
        "period=2023&unit=03646&data_set=indicator_report&target=poverty_rate",
    )
    .await;
    assert_eq!(report["submission"]["state"], "submitted");
    assert_eq!(report["counted_when_accepted_only"], false);
    let targets = report["records"][0]["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 1);
    assert_eq!(targets[0]["key"], "poverty_rate");
    assert_eq!(targets[0]["denominator"], 40);
    assert_eq!(
        targets[0]["name_vi"],
        "Tỷ lệ hộ nghèo (chuẩn nghèo đa chiều 2022–2025)"
    );
    assert_eq!(
        targets[0]["name_en"],
        "Household poverty rate (multidimensional standard)"
    );
    let ntm = drilled(&app, "period=2023&unit=03649&data_set=ntm_assessment").await;
    let record = &ntm["records"][0];
    assert_eq!(record["criteria_met"], 17);
    assert_eq!(record["meets_standard"], false);
    let c5 = record["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["number"] == 5)
        .unwrap();
    assert_eq!(c5["status"], "not_met");
    assert_eq!(c5["indicators"][0]["status"], "not_met");
    assert_eq!(c5["indicators"][0]["requirement"], "≥ 50");

    // scope and bad requests
    let (_, o03649) = app
        .user_with_token("o.03649", Role::CommuneOfficer, "03649")
        .await;
    let response = drill(
        &app,
        Some(&o03649),
        "period=2023&unit=03646&data_set=household",
    )
    .await;
    assert_eq!(error_body(response, 403).await["code"], "out_of_scope");
    let response = drill(
        &app,
        Some(&o03649),
        "period=2023&unit=03649&data_set=household",
    )
    .await;
    assert_eq!(response.status(), 200);
    for (query, status, code) in [
        (
            "period=2023&unit=116&data_set=household",
            404,
            "unknown_commune",
        ),
        (
            "period=2023&unit=03646&data_set=commendation",
            400,
            "invalid_data_set",
        ),
        (
            "period=2023&unit=03646&data_set=household&classification=rich",
            400,
            "invalid_classification",
        ),
        (
            "period=2023&unit=03646&data_set=indicator_report&target=nope",
            400,
            "invalid_target",
        ),
        (
            "period=2023&unit=03646&data_set=household&limit=0",
            400,
            "bad_limit",
        ),
        (
            "period=2023&unit=03646&data_set=household&after=x",
            400,
            "bad_after",
        ),
        (
            "period=x&unit=03646&data_set=household",
            400,
            "invalid_period",
        ),
    ] {
        let response = drill(&app, None, query).await;
        assert_eq!(error_body(response, status).await["code"], code, "{query}");
    }
}

/// Households stored before their class was kept (an older database) get it at start, and count.
#[tokio::test]
async fn classes_missing_from_older_rows_are_filled_in() {
    use sqlx::Connection;
    let app = spawn_app().await;
    store_all(
        &app,
        vec![
            classed_household("03646", "2023", "poor", "A"),
            classed_household("03646", "2023", "avg", "B"),
        ],
    )
    .await;
    let url = match &app.database {
        thidua_server::Database::Sqlite(path) => format!("sqlite://{}", path.display()),
        thidua_server::Database::Postgres(url) => url.clone(),
    };
    let mut db = sqlx::AnyConnection::connect(&url).await.unwrap();
    sqlx::query("UPDATE records SET household_class = NULL")
        .execute(&mut db)
        .await
        .unwrap();
    let before = dashboard(&app, "period=2023&unit=03646").await;
    assert_eq!(before["unit"]["figures"]["poverty"]["households"], 0);
    assert_eq!(before["unit"]["figures"]["poverty"]["unreadable"], 2);
    assert_eq!(
        app.state.store.backfill_household_classes().await.unwrap(),
        2
    );
    assert_eq!(
        app.state.store.backfill_household_classes().await.unwrap(),
        0
    );
    let after = dashboard(&app, "period=2023&unit=03646").await;
    assert_eq!(after["unit"]["figures"]["poverty"]["households"], 2);
    assert_eq!(after["unit"]["figures"]["poverty"]["poor"], 1);
}

fn trend(body: &Value) -> Vec<(String, f64)> {
    body["trend"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["period"].as_str().unwrap().to_string(),
                p["rate"]
                    .as_f64()
                    .unwrap_or_else(|| panic!("a rate: {}", body["trend"])),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_poverty_trend_runs_over_the_last_six_reviews_by_the_same_rules() {
    let app = spawn_app().await;
    fixture(&app).await;
    // 2021: 03646 reviewed 2 poor of 4; 2020: no review; 2017: a review older than six periods
    let mut records = Vec::new();
    for (i, class) in ["poor", "poor", "avg", "avg"].iter().enumerate() {
        records.push(classed_household(
            "03646",
            "2021",
            class,
            &format!("Lò Văn {i}"),
        ));
    }
    records.push(classed_household("03646", "2017", "poor", "Lò Văn Cũ"));
    store_all(&app, records).await;

    // the province: 2021 2 of 4, 2022 (3 + 6) of (4 + 30), 2023 5 of 74; oldest first
    let body = dashboard(&app, "period=2023&unit=14").await;
    let points = trend(&body);
    let periods: Vec<&str> = points.iter().map(|p| p.0.as_str()).collect();
    assert_eq!(periods, ["2021", "2022", "2023"]);
    assert!((points[0].1 - 50.0).abs() < 1e-9);
    assert!((points[1].1 - 900.0 / 34.0).abs() < 1e-9);
    assert!((points[2].1 - 500.0 / 74.0).abs() < 1e-9);
    assert_eq!(body["trend"][0]["households"], 4);
    assert_eq!(body["trend"][0]["poor"], 2);
    // the last two points are the summary's own figures
    let poverty = &body["unit"]["figures"]["poverty"];
    assert_eq!(body["trend"][1]["rate"], poverty["previous"]["rate"]);
    assert_eq!(body["trend"][2]["rate"], poverty["rate"]);

    // a district holds only its communes' figures: 118 has 03682's report of 2022 (6 of 30) and
    // its 2023 review's poor (1) over its report's total (30)
    let district = trend(&dashboard(&app, "period=2023&unit=118").await);
    assert_eq!(district.len(), 2);
    assert_eq!(
        (district[0].0.as_str(), district[1].0.as_str()),
        ("2022", "2023")
    );
    assert!((district[0].1 - 20.0).abs() < 1e-9);
    assert!((district[1].1 - 100.0 / 30.0).abs() < 1e-9);

    // six periods back from 2022 reach 2017, which 2023's trend left out (2022 has no target set,
    // so its rates are not computed, but the reviews are there)
    let body = dashboard(&app, "period=2022&unit=03646").await;
    let points: Vec<(&str, &Value)> = body["trend"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["period"].as_str().unwrap(), &p["households"]))
        .collect();
    assert_eq!(
        points,
        [
            ("2017", &json!(1)),
            ("2021", &json!(4)),
            ("2022", &json!(4))
        ]
    );

    // accepted figures only: 2021's review was never accepted, so it leaves the trend
    let accepted = dashboard(&app, "period=2023&unit=14&basis=accepted").await;
    assert_eq!(
        trend(&accepted),
        [("2022".to_string(), 75.0), ("2023".to_string(), 32.5)]
    );
    submission(&app, "03646", "2021", "household", "accept").await;
    let accepted = dashboard(&app, "period=2023&unit=14&basis=accepted").await;
    let periods: Vec<String> = trend(&accepted).into_iter().map(|p| p.0).collect();
    assert_eq!(periods, ["2021", "2022", "2023"]);
}

#[tokio::test]
async fn mid_year_a_unit_on_the_way_is_on_track_and_each_district_has_its_own_figures() {
    let app = spawn_app().await;
    fixture(&app).await;
    // Quyết Thắng (03652, district 116) reviews 1 poor of 6 households: 16,67 %, short of 15,66 %
    let records = ["poor", "avg", "avg", "avg", "avg", "avg"]
        .iter()
        .enumerate()
        .map(|(i, class)| classed_household("03652", "2023", class, &format!("Lường Văn {i}")))
        .collect();
    store_all(&app, records).await;

    // on 1 July 182 of 365 days are gone: the straight path from 19,66 % stands at
    // 19,66 − 4 × 182/365; 16,67 % is ahead of it
    let expected_mid = 19.66 - 4.0 * 182.0 / 365.0;
    let mid = dashboard(&app, "period=2023&unit=116&as_of=2023-07-01").await;
    assert!(close(&mid["elapsed"], 182.0 / 365.0));
    let quyet_thang = target(child(&mid, "03652"), "poverty_rate");
    assert!(close(&quyet_thang["value"], 100.0 / 6.0));
    assert!(close(&quyet_thang["expected"], expected_mid));
    assert_eq!(quyet_thang["status"], "on_track");
    assert!(close(
        &child(&mid, "03652")["figures"]["poverty"]["expected"],
        expected_mid
    ));
    // at the year's end the same figure is behind: 15,66 % was due
    let end = dashboard(&app, &format!("period=2023&unit=116&as_of={AS_OF}")).await;
    let quyet_thang = target(child(&end, "03652"), "poverty_rate");
    assert!(close(&quyet_thang["expected"], 15.66));
    assert_eq!(quyet_thang["status"], "behind");

    // district 116: (2 + 2 + 1) poor of (40 + 4 + 6); its near-poor 1 (Chiềng Lề's) over the same
    // total; schools only from Chiềng Lề's report (3 of 4)
    let d116 = &mid["unit"]["figures"];
    assert_eq!(d116["poverty"]["numerator"], 5);
    assert_eq!(d116["poverty"]["denominator"], 50);
    assert_eq!(d116["poverty"]["status"], "met");
    assert!(close(&d116["poverty"]["near_poor_rate"], 2.0));
    let schools = target(&mid["unit"], "schools_national_standard");
    assert!(close(&schools["value"], 75.0));
    assert_eq!(schools["status"], "met");
    assert_eq!(schools["communes_reporting"], 1);
    assert_eq!(
        target(&mid["unit"], "cultural_families")["status"],
        "no_data"
    );
    // district 118: Mường Chiên's 1 of 4 schools, behind 63,3 %; its near-poor 1 over 30
    let d118 = dashboard(&app, "period=2023&unit=118&as_of=2023-07-01").await;
    let schools = target(&d118["unit"], "schools_national_standard");
    assert!(close(&schools["value"], 25.0));
    assert_eq!(schools["status"], "behind");
    assert!(close(
        &d118["unit"]["figures"]["poverty"]["near_poor_rate"],
        100.0 / 30.0
    ));
    // with every requirement configured and every indicator answered, no criterion is listed as
    // unconfigured or unanswered
    let ntm = &mid["unit"]["figures"]["ntm"];
    assert_eq!(ntm["not_configured"], json!([]));
    assert_eq!(
        child(&mid, "03649")["figures"]["ntm"]["commune"]["not_assessed"],
        json!([])
    );
}
