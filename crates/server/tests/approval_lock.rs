//! An accepted report locks its records (see submissions.rs): an edit or a new record that arrives
//! from an offline tablet after the acceptance becomes a visible conflict on the record, never an
//! overwrite; returning the report unlocks it and pushes apply again. Against the real server and
//! database (see common/mod.rs).

mod common;

use common::*;
use serde_json::{json, Value};
use thidua_domain::protocol::{Outcome, PushResponse, Record, ACCEPTED_REPORT};
use thidua_server::auth::Role;

async fn push_ok(
    app: &TestApp,
    token: &str,
    device: thidua_domain::protocol::DeviceId,
    mutations: Vec<thidua_domain::protocol::Mutation>,
) -> PushResponse {
    let response = app.push_as(token, device, mutations).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn post(app: &TestApp, token: &str, path: &str, body: Value) -> reqwest::Response {
    app.anon
        .post(app.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn poor_count(app: &TestApp, token: &str, basis: &str) -> (u64, u64) {
    let response = app
        .anon
        .get(app.url(&format!(
            "/api/dashboard?period=2023&unit=03646&basis={basis}"
        )))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let p = &body["unit"]["figures"]["poverty"];
    (
        p["households"].as_u64().unwrap(),
        p["poor"].as_u64().unwrap(),
    )
}

#[tokio::test]
async fn an_offline_edit_after_acceptance_is_a_conflict_until_the_report_is_returned() {
    let app = spawn_app().await;
    let (_, officer) = app
        .user_with_token("o.03646", Role::CommuneOfficer, "03646")
        .await;
    let (_, supervisor) = app
        .user_with_token("s.116", Role::DistrictSupervisor, "116")
        .await;
    let tablet = new_device();
    let offline = new_device();

    // two households (one poor), sent and accepted
    let poor = household_fields(
        json!({"dep_health_insurance": true, "dep_latrine": true, "dep_domestic_water": true}),
    );
    let a = household(
        thidua_domain::protocol::RecordId(uuid::Uuid::now_v7()),
        "03646",
        poor,
    );
    let b = new_household("03646");
    let answer = push_ok(
        &app,
        &officer,
        tablet,
        vec![create(tablet, a.clone()), create(tablet, b.clone())],
    )
    .await;
    let stored: Vec<Record> = answer
        .results
        .into_iter()
        .map(|r| r.record.unwrap())
        .collect();
    let response = post(
        &app,
        &officer,
        "/api/submissions",
        json!({"org_unit": "03646", "period": "2023", "data_set": "household"}),
    )
    .await;
    assert_eq!(response.status(), 201);
    let id = response.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let response = post(
        &app,
        &supervisor,
        &format!("/api/submissions/{id}/accept"),
        json!({}),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(poor_count(&app, &supervisor, "accepted").await, (2, 1));

    // the offline tablet had the poor household at its first revision and raises the income
    let mut edited = stored[0].clone();
    edited
        .fields
        .insert("income_per_person_month".into(), json!(3_000_000));
    let late = mutation(
        offline,
        edited,
        stored[0].revision,
        &["income_per_person_month"],
    );
    // it also adds a household, and deletes the other
    let added = new_household("03646");
    let mut gone = stored[1].clone();
    gone.deleted = true;
    let answer = push_ok(
        &app,
        &officer,
        offline,
        vec![
            late.clone(),
            create(offline, added.clone()),
            mutation(offline, gone, stored[1].revision, &[]),
        ],
    )
    .await;

    // the edit: a conflict, marked locked; the accepted income is still the record's value
    let result = &answer.results[0];
    let Outcome::Conflict {
        fields,
        locked,
        revision,
    } = &result.outcome
    else {
        panic!("a conflict, got {:?}", result.outcome);
    };
    assert!(locked);
    assert_eq!(fields, &vec!["income_per_person_month".to_string()]);
    let record = result.record.clone().unwrap();
    assert_eq!(record.revision, *revision);
    assert!(
        *revision > stored[0].revision,
        "a new revision, pulled by every device"
    );
    assert_eq!(record.fields["income_per_person_month"], json!(1_200_000));
    let conflict = record
        .conflicts
        .iter()
        .find(|c| c.field == "income_per_person_month")
        .unwrap();
    assert_eq!(
        conflict.winner().unwrap().value,
        json!(1_200_000),
        "the accepted value shown"
    );
    let values: Vec<&Value> = conflict.versions.iter().map(|v| &v.value).collect();
    assert!(
        values.contains(&&json!(3_000_000)),
        "the late value kept: {values:?}"
    );
    // the new household: kept, but deleted (not in the accepted report), its values in view
    let Outcome::Conflict {
        locked: true,
        fields,
        ..
    } = &answer.results[1].outcome
    else {
        panic!("a locked conflict, got {:?}", answer.results[1].outcome);
    };
    assert_eq!(fields, &vec!["_deleted".to_string()]);
    let new_record = answer.results[1].record.clone().unwrap();
    assert!(new_record.deleted);
    assert_eq!(new_record.fields["head_name"], added.fields["head_name"]);
    assert_eq!(new_record.conflicts[0].held, Some(ACCEPTED_REPORT));
    // the deletion: not applied
    assert!(matches!(
        answer.results[2].outcome,
        Outcome::Conflict { locked: true, .. }
    ));
    assert!(!answer.results[2].record.as_ref().unwrap().deleted);

    // nothing the district accepted moved, on either basis; the district sees the conflicts on pull
    assert_eq!(poor_count(&app, &supervisor, "accepted").await, (2, 1));
    assert_eq!(poor_count(&app, &supervisor, "all").await, (2, 1));
    let pulled: Value = app
        .pull_as(&supervisor, Some("03646"))
        .await
        .json()
        .await
        .unwrap();
    let seen = pulled["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == json!(stored[0].id))
        .unwrap();
    assert_eq!(seen["fields"]["income_per_person_month"], 1_200_000);
    assert!(seen["conflicts"][0]["versions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|v| v["value"] == 3_000_000));
    // sent again (an answer lost), the same stored answer
    let again = push_ok(&app, &officer, offline, vec![late]).await;
    assert_eq!(again.results[0].outcome, answer.results[0].outcome);

    // records of another period or data set are not locked
    let mut other = new_household("03646");
    other.period = thidua_domain::protocol::Period::parse("2024").unwrap();
    let answer = push_ok(&app, &officer, tablet, vec![create(tablet, other)]).await;
    assert!(matches!(answer.results[0].outcome, Outcome::Applied { .. }));

    // returned with the reason: unlocked; the officer settles the conflicts and the edits apply
    let response = post(
        &app,
        &supervisor,
        &format!("/api/submissions/{id}/return"),
        json!({"note": "Thu nhập hộ Lò Văn A đã đổi"}),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap()["state"], "returned");
    let mut pick = record.clone();
    pick.fields
        .insert("income_per_person_month".into(), json!(3_000_000));
    let mut keep_new = new_record.clone();
    keep_new.deleted = false;
    let answer = push_ok(
        &app,
        &officer,
        tablet,
        vec![
            mutation(tablet, pick, record.revision, &["income_per_person_month"]),
            mutation(tablet, keep_new, new_record.revision, &[]),
        ],
    )
    .await;
    assert!(
        matches!(answer.results[0].outcome, Outcome::Applied { .. }),
        "{:?}",
        answer.results[0]
    );
    let settled = answer.results[0].record.clone().unwrap();
    assert_eq!(settled.fields["income_per_person_month"], json!(3_000_000));
    assert!(settled.conflicts.is_empty());
    let kept = answer.results[1].record.clone().unwrap();
    assert!(!kept.deleted);
    assert!(kept.conflicts.is_empty());
    // three households now, none poor (the income moved above the line)
    assert_eq!(poor_count(&app, &supervisor, "all").await, (3, 0));
    // and submitted again
    let response = post(
        &app,
        &officer,
        "/api/submissions",
        json!({"org_unit": "03646", "period": "2023", "data_set": "household"}),
    )
    .await;
    assert_eq!(response.status(), 201);
}

#[tokio::test]
async fn an_accepted_ntm_assessment_is_locked_too_and_a_return_unlocks_it() {
    use thidua_domain::protocol::DataSet;
    let app = spawn_app().await;
    let (_, officer) = app
        .user_with_token("o.03646", Role::CommuneOfficer, "03646")
        .await;
    let (_, supervisor) = app
        .user_with_token("s.116", Role::DistrictSupervisor, "116")
        .await;
    let tablet = new_device();
    let offline = new_device();
    let mut fields = thidua_domain::protocol::Fields::new();
    fields.insert("15.3".into(), json!(12.5));
    let assessment = unit_record(DataSet::NtmAssessment, "03646", "2023", fields);
    let answer = push_ok(&app, &officer, tablet, vec![create(tablet, assessment)]).await;
    let stored = answer.results[0].record.clone().unwrap();
    let response = post(
        &app,
        &officer,
        "/api/submissions",
        json!({"org_unit": "03646", "period": "2023", "data_set": "ntm_assessment"}),
    )
    .await;
    assert_eq!(response.status(), 201);
    let id = response.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let accept = post(
        &app,
        &supervisor,
        &format!("/api/submissions/{id}/accept"),
        json!({}),
    )
    .await;
    assert_eq!(accept.status(), 200);

    // an offline tablet's late change of 15.3: a locked conflict, the accepted 12.5 stays
    let mut edited = stored.clone();
    edited.fields.insert("15.3".into(), json!(30.0));
    let late = mutation(offline, edited, stored.revision, &["15.3"]);
    let answer = push_ok(&app, &officer, offline, vec![late.clone()]).await;
    let Outcome::Conflict { locked, fields, .. } = &answer.results[0].outcome else {
        panic!("a conflict, got {:?}", answer.results[0].outcome);
    };
    assert!(locked);
    assert_eq!(fields, &vec!["15.3".to_string()]);
    let record = answer.results[0].record.clone().unwrap();
    assert_eq!(record.fields["15.3"], json!(12.5));
    assert!(record.conflicts[0]
        .versions
        .iter()
        .any(|v| v.value == json!(30.0)));

    // returned with a reason: the same change now applies
    let back = post(
        &app,
        &supervisor,
        &format!("/api/submissions/{id}/return"),
        json!({"note": "Chỉ tiêu 15.3 cần số liệu trạm y tế"}),
    )
    .await;
    assert_eq!(back.status(), 200);
    let mut again = record.clone();
    again.fields.insert("15.3".into(), json!(20.0));
    let answer = push_ok(
        &app,
        &officer,
        offline,
        vec![mutation(offline, again, record.revision, &["15.3"])],
    )
    .await;
    assert!(
        matches!(answer.results[0].outcome, Outcome::Applied { .. }),
        "{:?}",
        answer.results[0].outcome
    );
    assert_eq!(
        answer.results[0].record.as_ref().unwrap().fields["15.3"],
        json!(20.0)
    );
}
