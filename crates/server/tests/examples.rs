//! The advanced-example register through sync: a commune reports an example, its district sees and
//! commends it, the commune pulls the commendation; who may commend at which level (see common/mod.rs
//! for the real server and database behind it).

mod common;

use common::*;
use serde_json::{json, Value};
use thidua_domain::examples::{Commendation, CommendationLevel};
use thidua_domain::org::UnitCode;
use thidua_domain::protocol::{
    DataSet, Fields, Mutation, Outcome, Period, PushResponse, Record, RecordId,
};
use thidua_server::auth::Role;
use uuid::Uuid;

/// 03646 (Tô Hiệu) and 03649 are communes of district 116 (Thành phố Sơn La); 03682 is in 118.
const COMMUNE: &str = "03646";

fn example(unit: &str) -> Record {
    let fields: Fields = serde_json::from_value(json!({
        "kind": "sang_kien",
        "title": "Sổ tay số cho tổ hòa giải bản",
        "holder": "Chi đoàn thanh niên bản Hụm",
        "field": "Chuyển đổi số",
        "description": "Mỗi tổ hòa giải ghi vụ việc trên điện thoại; huyện xem được ngay.",
        "photos": [Uuid::now_v7().to_string()]
    }))
    .unwrap();
    Record {
        id: RecordId(Uuid::now_v7()),
        data_set: DataSet::AdvancedExample,
        org_unit: UnitCode::parse(unit).unwrap(),
        period: Period::parse("2023").unwrap(),
        fields,
        revision: 0,
        deleted: false,
        conflicts: vec![],
    }
}

fn commendation(example: &Record, level: CommendationLevel, note: &str) -> Record {
    let c = Commendation {
        example: example.id,
        level,
        note: note.into(),
    };
    Record {
        id: c.record_id(),
        data_set: DataSet::Commendation,
        org_unit: example.org_unit.clone(),
        period: example.period.clone(),
        fields: c.to_fields(),
        revision: 0,
        deleted: false,
        conflicts: vec![],
    }
}

/// Pushes one mutation as the holder of `token` and returns its outcome and the stored record.
async fn push_one(app: &TestApp, token: &str, m: Mutation) -> (Outcome, Option<Record>) {
    let response = app.push_as(token, m.device, vec![m]).await;
    assert_eq!(response.status(), 200);
    let mut body: PushResponse = response.json().await.unwrap();
    let result = body.results.remove(0);
    (result.outcome, result.record)
}

fn refused_on(outcome: &Outcome) -> Vec<(String, String)> {
    match outcome {
        Outcome::Rejected { errors } => errors
            .iter()
            .map(|e| (e.field.clone(), e.code.clone()))
            .collect(),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

async fn pulled(app: &TestApp, token: &str) -> Vec<Record> {
    let response = app.pull_as(token, None).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    serde_json::from_value(body["records"].clone()).unwrap()
}

/// The commune's officer, a supervisor of its district and one of another district.
async fn people(app: &TestApp) -> (String, String, String) {
    let (_, officer) = app
        .user_with_token("xa.tohieu", Role::CommuneOfficer, COMMUNE)
        .await;
    let (_, district) = app
        .user_with_token("huyen.sonla", Role::DistrictSupervisor, "116")
        .await;
    let (_, other) = app
        .user_with_token("huyen.quynhnhai", Role::DistrictSupervisor, "118")
        .await;
    (officer, district, other)
}

#[tokio::test]
async fn a_commune_reports_an_example_and_its_district_commends_it() {
    let app = spawn_app().await;
    let (officer, district, _) = people(&app).await;
    let tablet = new_device();
    let ex = example(COMMUNE);
    let (outcome, _) = push_one(&app, &officer, create(tablet, ex.clone())).await;
    assert!(matches!(outcome, Outcome::Applied { .. }), "{outcome:?}");

    // the district sees it
    let seen = pulled(&app, &district).await;
    let seen_example = seen.iter().find(|r| r.id == ex.id).expect("pulled");
    assert_eq!(seen_example.data_set, DataSet::AdvancedExample);
    assert_eq!(seen_example.fields["title"], ex.fields["title"]);

    // and commends it
    let desk = new_device();
    let c = commendation(&ex, CommendationLevel::District, "Biểu dương toàn huyện");
    let (outcome, stored) = push_one(&app, &district, create(desk, c.clone())).await;
    assert!(matches!(outcome, Outcome::Applied { .. }), "{outcome:?}");
    assert_eq!(stored.unwrap().id, c.id);

    // the commune's devices pull the commendation with the example
    let at_commune = pulled(&app, &officer).await;
    let got = at_commune
        .iter()
        .find(|r| r.data_set == DataSet::Commendation)
        .expect("the commendation reaches the commune");
    assert_eq!(got.id, c.id);
    assert_eq!(got.fields["example"], json!(ex.id.to_string()));
    assert_eq!(got.fields["level"], json!("district"));
    assert_eq!(got.fields["note"], json!("Biểu dương toàn huyện"));

    // withdrawing deletes it, and the commune sees the tombstone
    let mut withdrawn = got.clone();
    withdrawn.deleted = true;
    let (outcome, _) = push_one(
        &app,
        &district,
        mutation(desk, withdrawn, got.revision, &[]),
    )
    .await;
    assert!(matches!(outcome, Outcome::Applied { .. }), "{outcome:?}");
    let again = pulled(&app, &officer).await;
    let tombstone = again.iter().find(|r| r.id == c.id).unwrap();
    assert!(tombstone.deleted);
}

#[tokio::test]
async fn only_the_right_level_of_the_right_place_may_commend() {
    let app = spawn_app().await;
    let (officer, district, other_district) = people(&app).await;
    let ex = example(COMMUNE);
    let (outcome, _) = push_one(&app, &officer, create(new_device(), ex.clone())).await;
    assert!(matches!(outcome, Outcome::Applied { .. }));
    let before = app.row_counts().await;

    // a supervisor of another district
    let (outcome, record) = push_one(
        &app,
        &other_district,
        create(
            new_device(),
            commendation(&ex, CommendationLevel::District, "Tốt"),
        ),
    )
    .await;
    assert_eq!(
        refused_on(&outcome),
        [("org_unit".into(), "out_of_scope".into())]
    );
    assert!(record.is_none());
    // the commune's own officer
    let (outcome, _) = push_one(
        &app,
        &officer,
        create(
            new_device(),
            commendation(&ex, CommendationLevel::District, "Tự khen"),
        ),
    )
    .await;
    assert_eq!(
        refused_on(&outcome),
        [("role".into(), "commendation_not_allowed".into())]
    );
    // the district's supervisor, at province level
    let (outcome, _) = push_one(
        &app,
        &district,
        create(
            new_device(),
            commendation(&ex, CommendationLevel::Province, "Khen cấp tỉnh"),
        ),
    )
    .await;
    assert_eq!(
        refused_on(&outcome),
        [("level".into(), "wrong_level".into())]
    );
    // ... or claiming district level under the province commendation's id
    let mut disguised = commendation(&ex, CommendationLevel::District, "");
    disguised.id = RecordId::commendation(ex.id, CommendationLevel::Province);
    let (outcome, _) = push_one(&app, &district, create(new_device(), disguised.clone())).await;
    assert_eq!(refused_on(&outcome), [("id".into(), "wrong_id".into())]);
    disguised.deleted = true;
    let (outcome, _) = push_one(&app, &district, create(new_device(), disguised)).await;
    assert_eq!(refused_on(&outcome), [("id".into(), "wrong_id".into())]);
    // the province administrator, at district level
    let admin = app.admin_token.clone();
    let (outcome, _) = push_one(
        &app,
        &admin,
        create(
            new_device(),
            commendation(&ex, CommendationLevel::District, ""),
        ),
    )
    .await;
    assert_eq!(
        refused_on(&outcome),
        [("level".into(), "wrong_level".into())]
    );
    // a supervisor still writes nothing else
    let (outcome, _) = push_one(&app, &district, create(new_device(), example(COMMUNE))).await;
    assert_eq!(
        refused_on(&outcome),
        [("role".into(), "read_only_role".into())]
    );
    // a commendation of an example the server does not hold, or away from its commune
    let (outcome, _) = push_one(
        &app,
        &district,
        create(
            new_device(),
            commendation(&example(COMMUNE), CommendationLevel::District, ""),
        ),
    )
    .await;
    assert_eq!(
        refused_on(&outcome),
        [("example".into(), "unknown_example".into())]
    );
    let mut elsewhere = commendation(&ex, CommendationLevel::District, "");
    elsewhere.org_unit = UnitCode::parse("03649").unwrap();
    let (outcome, _) = push_one(&app, &district, create(new_device(), elsewhere)).await;
    assert_eq!(
        refused_on(&outcome),
        [("org_unit".into(), "not_the_examples_unit".into())]
    );

    // the refusals stored nothing but their answers
    let after = app.row_counts().await;
    for ((table, a), (_, b)) in before.iter().zip(&after) {
        if *table != "applied_mutations" {
            assert_eq!(a, b, "{table}");
        }
    }
    assert!(
        !pulled(&app, &admin)
            .await
            .iter()
            .any(|r| r.data_set == DataSet::Commendation),
        "no commendation stored"
    );

    // the province commends at its own level
    let (outcome, _) = push_one(
        &app,
        &admin,
        create(
            new_device(),
            commendation(&ex, CommendationLevel::Province, "Khen cấp tỉnh"),
        ),
    )
    .await;
    assert!(matches!(outcome, Outcome::Applied { .. }), "{outcome:?}");
}

#[tokio::test]
async fn two_supervisors_commending_at_once_make_one_record() {
    let app = spawn_app().await;
    let (officer, first, _) = people(&app).await;
    let (_, second) = app
        .user_with_token("huyen.sonla.2", Role::DistrictSupervisor, "116")
        .await;
    let ex = example(COMMUNE);
    push_one(&app, &officer, create(new_device(), ex.clone())).await;

    // both offline, both commend, both push at once
    let a = create(
        new_device(),
        commendation(&ex, CommendationLevel::District, "Biểu dương"),
    );
    let b = create(
        new_device(),
        commendation(&ex, CommendationLevel::District, "Khen ngợi, nhân rộng"),
    );
    let (ra, rb) = tokio::join!(
        push_one(&app, &first, a.clone()),
        push_one(&app, &second, b.clone())
    );
    let outcomes = [&ra.0, &rb.0];
    assert!(
        outcomes.iter().all(|o| o.revision().is_some()),
        "both kept: {outcomes:?}"
    );
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| matches!(o, Outcome::Applied { .. }))
            .count(),
        1,
        "one creates the record, the other meets it: {outcomes:?}"
    );

    let records = pulled(&app, &officer).await;
    let commendations: Vec<&Record> = records
        .iter()
        .filter(|r| r.data_set == DataSet::Commendation)
        .collect();
    assert_eq!(commendations.len(), 1, "{commendations:?}");
    let one = commendations[0];
    assert_eq!(
        one.id,
        RecordId::commendation(ex.id, CommendationLevel::District)
    );
    // the two notes differ: both kept, as a conflict for a person to settle
    let conflict = one
        .conflicts
        .iter()
        .find(|c| c.field == "note")
        .expect("the notes meet as a conflict");
    let mut notes: Vec<&Value> = conflict.versions.iter().map(|v| &v.value).collect();
    notes.sort_by_key(|v| v.to_string());
    assert_eq!(
        notes,
        [&json!("Biểu dương"), &json!("Khen ngợi, nhân rộng")]
    );
    // the fields both wrote the same are simply one
    assert!(one.conflicts.iter().all(|c| c.field == "note"));
}

async fn examples_as(app: &TestApp, token: &str, query: &str) -> reqwest::Response {
    app.anon
        .get(app.url(&format!("/api/examples?{query}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_district_and_the_province_see_every_communes_examples_side_by_side() {
    let app = spawn_app().await;
    let (officer, district, other) = people(&app).await;
    let (_, officer_03649) = app
        .user_with_token("xa.03649", Role::CommuneOfficer, "03649")
        .await;
    let (_, officer_03682) = app
        .user_with_token("xa.03682", Role::CommuneOfficer, "03682")
        .await;
    let (_, province) = app.user_with_token("tinh", Role::ProvinceAdmin, "14").await;
    // one example in each of three communes, two districts; the first commended by its district
    let first = example(COMMUNE);
    let second = example("03649");
    let third = example("03682");
    for (token, ex) in [
        (&officer, &first),
        (&officer_03649, &second),
        (&officer_03682, &third),
    ] {
        let (outcome, _) = push_one(&app, token, create(new_device(), ex.clone())).await;
        assert!(matches!(outcome, Outcome::Applied { .. }), "{outcome:?}");
    }
    let c = commendation(
        &first,
        CommendationLevel::District,
        "Nhân rộng toàn thành phố",
    );
    let (outcome, _) = push_one(&app, &district, create(new_device(), c)).await;
    assert!(matches!(outcome, Outcome::Applied { .. }), "{outcome:?}");

    // the district: its two communes, by commune, with the commendation beside its example
    let response = examples_as(&app, &district, "period=2023&unit=116").await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let listed: Vec<&str> = body["examples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["org_unit"].as_str().unwrap())
        .collect();
    assert_eq!(listed, [COMMUNE, "03649"]);
    let shown = &body["examples"][0];
    assert_eq!(shown["id"], json!(first.id.to_string()));
    assert_eq!(shown["commune"], "Phường Chiềng Lề");
    assert_eq!(shown["fields"]["title"], first.fields["title"]);
    assert_eq!(shown["commendations"][0]["level"], "district");
    assert_eq!(
        shown["commendations"][0]["note"],
        "Nhân rộng toàn thành phố"
    );
    assert_eq!(body["examples"][1]["commendations"], json!([]));
    // the province: all three; the other district: only its own
    let body: Value = examples_as(&app, &province, "period=2023&unit=14")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["examples"].as_array().unwrap().len(), 3);
    let body: Value = examples_as(&app, &other, "period=2023&unit=118")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["examples"][0]["id"], json!(third.id.to_string()));
    assert_eq!(body["examples"].as_array().unwrap().len(), 1);
    // another year has none
    let body: Value = examples_as(&app, &district, "period=2024&unit=116")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["examples"], json!([]));
    // out of scope: refused, with a JSON error; a bad period too
    let response = examples_as(&app, &other, "period=2023&unit=116").await;
    assert_eq!(response.status(), 403);
    let response = examples_as(&app, &officer, "period=2023&unit=116").await;
    assert_eq!(response.status(), 403);
    let response = examples_as(&app, &district, "period=hai-nghin&unit=116").await;
    assert_eq!(response.status(), 400);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"]["code"], "invalid_period");
}
