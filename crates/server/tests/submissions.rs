//! Submissions (báo cáo gửi duyệt) over HTTP against the real server and database (see common/mod.rs):
//! the whole review round, who may do what, what each role lists, conflicts, and field errors.
//!
//! Units: 03646 (Chiềng Lề) and 03649 (Tô Hiệu) are communes of district 116 (Thành phố Sơn La);
//! 03682 (Mường Chiên) is a commune of district 118 (Quỳnh Nhai).

mod common;

use common::*;
use serde_json::{json, Value};
use thidua_domain::protocol::{Outcome, PushResponse, Record};
use thidua_server::auth::Role;

async fn submit(app: &TestApp, token: &str, body: Value) -> reqwest::Response {
    app.anon
        .post(app.url("/api/submissions"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("submit sent")
}

/// Submits the households of `unit` for 2023 and returns the 201's body.
async fn submitted(app: &TestApp, token: &str, unit: &str, period: &str) -> Value {
    let response = submit(
        app,
        token,
        json!({"org_unit": unit, "period": period, "data_set": "household"}),
    )
    .await;
    assert_eq!(response.status(), 201, "submit {unit} {period}");
    response.json().await.unwrap()
}

/// `action` is "accept" or "return".
async fn decide(
    app: &TestApp,
    token: &str,
    id: &str,
    action: &str,
    body: Value,
) -> reqwest::Response {
    app.anon
        .post(app.url(&format!("/api/submissions/{id}/{action}")))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("decision sent")
}

async fn list(app: &TestApp, token: &str, query: &str) -> reqwest::Response {
    app.anon
        .get(app.url(&format!("/api/submissions{query}")))
        .bearer_auth(token)
        .send()
        .await
        .expect("list sent")
}

async fn listed(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let response = list(app, token, query).await;
    assert_eq!(response.status(), 200, "list {query}");
    let body: Value = response.json().await.unwrap();
    body["submissions"].as_array().expect("a list").clone()
}

/// (org_unit, period) of each listed submission, in the order listed.
fn units_and_periods(submissions: &[Value]) -> Vec<(String, String)> {
    submissions
        .iter()
        .map(|s| {
            (
                s["org_unit"].as_str().unwrap().to_string(),
                s["period"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Pushes `count` new households of `unit` (period 2023) as the holder of `token`; returns them as
/// stored.
async fn push_households(app: &TestApp, token: &str, unit: &str, count: usize) -> Vec<Record> {
    let device = new_device();
    let mutations = (0..count)
        .map(|_| create(device, new_household(unit)))
        .collect();
    let response = app.push_as(token, device, mutations).await;
    assert_eq!(response.status(), 200);
    let answer: PushResponse = response.json().await.unwrap();
    answer
        .results
        .into_iter()
        .map(|r| {
            assert!(matches!(r.outcome, Outcome::Applied { .. }), "{r:?}");
            r.record.expect("the stored record")
        })
        .collect()
}

fn fields_of(error: &Value) -> Vec<String> {
    error["fields"]
        .as_array()
        .map(|fields| {
            fields
                .iter()
                .map(|f| f["field"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_report_goes_up_comes_back_with_a_reason_and_is_accepted() {
    let app = spawn_app().await;
    let (officer, officer_token) = app
        .user_with_token("o.03646", Role::CommuneOfficer, "03646")
        .await;
    let (supervisor, supervisor_token) = app
        .user_with_token("s.116", Role::DistrictSupervisor, "116")
        .await;

    let households = push_households(&app, &officer_token, "03646", 3).await;
    // what must not be counted: another commune's households, another period's, and a deleted one
    push_households(&app, &app.admin_token, "03649", 2).await;
    let device = new_device();
    let mut other_year = new_household("03646");
    other_year.period = thidua_domain::protocol::Period::parse("2024").unwrap();
    let mut gone = households[2].clone();
    gone.deleted = true;
    let base = gone.revision;
    let answer: PushResponse = app
        .push_as(
            &officer_token,
            device,
            vec![
                create(device, other_year),
                mutation(device, gone, base, &[]),
            ],
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(answer
        .results
        .iter()
        .all(|r| matches!(r.outcome, Outcome::Applied { .. })));
    assert!(answer.results[1].record.as_ref().unwrap().deleted);

    // the officer submits: two households stand behind the report
    let first = submitted(&app, &officer_token, "03646", "2023").await;
    let id = first["id"].as_str().unwrap().to_string();
    assert_eq!(first["org_unit"], "03646");
    assert_eq!(first["commune_name"], "Phường Chiềng Lề");
    assert_eq!(first["period"], "2023");
    assert_eq!(first["data_set"], "household");
    assert_eq!(first["state"], "submitted");
    assert_eq!(first["record_count"], 2);
    assert_eq!(first["submitted_by"], officer.id.as_str());
    assert!(first["submitted_at"].as_i64().unwrap() > 1_700_000_000);
    for empty in ["note", "decided_by", "decided_at"] {
        assert!(first[empty].is_null(), "{empty} in {first}");
    }
    assert_eq!(
        listed(&app, &supervisor_token, "").await,
        vec![first.clone()]
    );

    // the supervisor returns it with the reason
    let reason = "Thiếu hộ ở bản Hụm; hãy bổ sung rồi gửi lại.";
    let response = decide(
        &app,
        &supervisor_token,
        &id,
        "return",
        json!({"note": reason}),
    )
    .await;
    assert_eq!(response.status(), 200);
    let returned: Value = response.json().await.unwrap();
    assert_eq!(returned["state"], "returned");
    assert_eq!(returned["note"], reason);
    assert_eq!(returned["decided_by"], supervisor.id.as_str());
    assert!(returned["decided_at"].as_i64().unwrap() >= first["submitted_at"].as_i64().unwrap());
    // the officer sees the reason in their own list
    assert_eq!(
        listed(&app, &officer_token, "").await,
        vec![returned.clone()]
    );

    // the commune adds the missing household and submits again: the same row, decision cleared
    push_households(&app, &officer_token, "03646", 1).await;
    let again = submitted(&app, &officer_token, "03646", "2023").await;
    assert_eq!(again["id"], id.as_str(), "the same submission re-opened");
    assert_eq!(again["state"], "submitted");
    assert_eq!(again["record_count"], 3);
    for empty in ["note", "decided_by", "decided_at"] {
        assert!(again[empty].is_null(), "{empty} in {again}");
    }

    // and the supervisor accepts it, with a note
    let response = decide(
        &app,
        &supervisor_token,
        &id,
        "accept",
        json!({"note": "Đủ hộ."}),
    )
    .await;
    assert_eq!(response.status(), 200);
    let accepted: Value = response.json().await.unwrap();
    assert_eq!(accepted["state"], "accepted");
    assert_eq!(accepted["note"], "Đủ hộ.");
    assert_eq!(accepted["decided_by"], supervisor.id.as_str());
    assert_eq!(accepted["record_count"], 3);
    assert_eq!(
        listed(&app, &officer_token, "").await,
        vec![accepted.clone()]
    );
    assert_eq!(count(&app, "submissions").await, 1, "one row all along");
}

async fn count(app: &TestApp, table: &str) -> u64 {
    app.row_counts()
        .await
        .into_iter()
        .find(|(t, _)| *t == table)
        .map(|(_, n)| n)
        .unwrap()
}

#[tokio::test]
async fn only_the_communes_officer_or_the_admin_submits() {
    let app = spawn_app().await;
    let (_, other_officer) = app
        .user_with_token("o.03649", Role::CommuneOfficer, "03649")
        .await;
    let (_, supervisor) = app
        .user_with_token("s.116", Role::DistrictSupervisor, "116")
        .await;
    let body = json!({"org_unit": "03646", "period": "2023", "data_set": "household"});
    let before = app.row_counts().await;

    let error = error_body(submit(&app, &other_officer, body.clone()).await, 403).await;
    assert_eq!(error["code"], "out_of_scope");
    let error = error_body(submit(&app, &supervisor, body.clone()).await, 403).await;
    assert_eq!(error["code"], "forbidden");
    let response = app
        .anon
        .post(app.url("/api/submissions"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(error_body(response, 401).await["code"], "unauthorized");
    assert_eq!(app.row_counts().await, before, "nothing written");

    // the administrator submits for any commune, of either list
    let by_admin = submitted(&app, &app.admin_token, "03646", "2023").await;
    assert_eq!(by_admin["state"], "submitted");
    let far = submitted(&app, &app.admin_token, "03682", "2023").await;
    assert_eq!(far["commune_name"], "Xã Mường Chiên");
    let new_commune = submitted(&app, &app.admin_token, "03980", "2025").await;
    assert!(new_commune["commune_name"].is_string());
}

#[tokio::test]
async fn only_the_districts_supervisor_or_the_admin_decides() {
    let app = spawn_app().await;
    let (_, officer) = app
        .user_with_token("o.03646", Role::CommuneOfficer, "03646")
        .await;
    let (_, supervisor_116) = app
        .user_with_token("s.116", Role::DistrictSupervisor, "116")
        .await;
    let (_, supervisor_118) = app
        .user_with_token("s.118", Role::DistrictSupervisor, "118")
        .await;
    let ours = submitted(&app, &officer, "03646", "2023").await;
    let ours = ours["id"].as_str().unwrap().to_string();

    // the commune's own officer may not decide
    for action in ["accept", "return"] {
        let response = decide(&app, &officer, &ours, action, json!({"note": "tự duyệt"})).await;
        assert_eq!(
            error_body(response, 403).await["code"],
            "forbidden",
            "{action}"
        );
    }
    // nor the supervisor of another district, and the answer tells nothing of the report
    for action in ["accept", "return"] {
        let response = decide(&app, &supervisor_118, &ours, action, json!({"note": "x"})).await;
        let error = error_body(response, 403).await;
        assert_eq!(error["code"], "out_of_scope", "{action}");
        let text = error.to_string();
        for secret in ["03646", "Chiềng Lề", "submitted", "chờ duyệt"] {
            assert!(!text.contains(secret), "{action} reveals {secret}: {text}");
        }
    }
    // unknown ids, well-formed or not
    for id in [uuid::Uuid::now_v7().to_string(), "nope".to_string()] {
        let response = decide(&app, &supervisor_116, &id, "accept", json!({})).await;
        assert_eq!(
            error_body(response, 404).await["code"],
            "submission_not_found",
            "{id}"
        );
    }
    assert_eq!(
        listed(&app, &app.admin_token, "").await[0]["state"],
        "submitted"
    );

    // the district's supervisor may
    let response = decide(&app, &supervisor_116, &ours, "accept", json!({})).await;
    assert_eq!(response.status(), 200);
    let accepted: Value = response.json().await.unwrap();
    assert_eq!(accepted["state"], "accepted");
    assert!(accepted["note"].is_null());

    // the administrator decides anywhere: a commune of district 118 and a 2025 commune
    for (unit, period, action) in [
        ("03682", "2023", "accept"),
        ("03980", "2025", "return"),
        ("03649", "2023", "accept"),
    ] {
        let submission = submitted(&app, &app.admin_token, unit, period).await;
        let id = submission["id"].as_str().unwrap();
        let response = decide(
            &app,
            &app.admin_token,
            id,
            action,
            json!({"note": "Quản trị tỉnh"}),
        )
        .await;
        assert_eq!(response.status(), 200, "{unit} {action}");
        let decided: Value = response.json().await.unwrap();
        let state = if action == "accept" {
            "accepted"
        } else {
            "returned"
        };
        assert_eq!(decided["state"], state, "{unit}");
    }
    // and the supervisor of 118 decides for its own commune
    let theirs = submitted(&app, &app.admin_token, "03682", "2024").await;
    let response = decide(
        &app,
        &supervisor_118,
        theirs["id"].as_str().unwrap(),
        "return",
        json!({"note": "Sai kỳ"}),
    )
    .await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn each_role_lists_the_submissions_of_its_scope_newest_first() {
    let app = spawn_app().await;
    let (_, officer) = app
        .user_with_token("o.03646", Role::CommuneOfficer, "03646")
        .await;
    let (_, supervisor_116) = app
        .user_with_token("s.116", Role::DistrictSupervisor, "116")
        .await;
    let (_, supervisor_118) = app
        .user_with_token("s.118", Role::DistrictSupervisor, "118")
        .await;
    let admin = app.admin_token.clone();
    for (unit, period) in [
        ("03646", "2023"),
        ("03649", "2023"),
        ("03682", "2023"),
        ("03646", "2024"),
        ("03980", "2025"),
    ] {
        submitted(&app, &admin, unit, period).await;
    }
    let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
        list.iter()
            .map(|(u, p)| (u.to_string(), p.to_string()))
            .collect()
    };
    // made within the same second or two: newest first is made last first
    assert_eq!(
        units_and_periods(&listed(&app, &officer, "").await),
        pairs(&[("03646", "2024"), ("03646", "2023")])
    );
    assert_eq!(
        units_and_periods(&listed(&app, &supervisor_116, "").await),
        pairs(&[("03646", "2024"), ("03649", "2023"), ("03646", "2023")])
    );
    assert_eq!(
        units_and_periods(&listed(&app, &supervisor_118, "").await),
        pairs(&[("03682", "2023")])
    );
    let all = listed(&app, &admin, "").await;
    assert_eq!(all.len(), 5);
    let times: Vec<i64> = all
        .iter()
        .map(|s| s["submitted_at"].as_i64().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");

    // filtered on a period
    assert_eq!(
        units_and_periods(&listed(&app, &supervisor_116, "?period=2023").await),
        pairs(&[("03649", "2023"), ("03646", "2023")])
    );
    assert_eq!(
        listed(&app, &officer, "?period=2025").await,
        Vec::<Value>::new()
    );
    assert_eq!(listed(&app, &admin, "?period=2025").await.len(), 1);

    // a filter the server does not know is refused, never ignored
    let error = error_body(list(&app, &admin, "?period=2023-13").await, 422).await;
    assert_eq!(error["code"], "invalid_filter");
    assert_eq!(fields_of(&error), ["period"]);
    let error = error_body(list(&app, &admin, "?org_unit=03682").await, 422).await;
    assert_eq!(error["code"], "invalid_filter");
    let response = app
        .anon
        .get(app.url("/api/submissions"))
        .send()
        .await
        .unwrap();
    assert_eq!(error_body(response, 401).await["code"], "unauthorized");
}

#[tokio::test]
async fn a_report_is_submitted_and_decided_once() {
    let app = spawn_app().await;
    let (_, officer) = app
        .user_with_token("o.03646", Role::CommuneOfficer, "03646")
        .await;
    let (_, supervisor) = app
        .user_with_token("s.116", Role::DistrictSupervisor, "116")
        .await;
    let body = json!({"org_unit": "03646", "period": "2023", "data_set": "household"});
    let first = submitted(&app, &officer, "03646", "2023").await;
    let id = first["id"].as_str().unwrap().to_string();

    // submitted twice
    let error = error_body(submit(&app, &officer, body.clone()).await, 409).await;
    assert_eq!(error["code"], "already_submitted");
    // the same commune's other data set, or the same data set's other period, is another report
    let ntm = submit(
        &app,
        &officer,
        json!({"org_unit": "03646", "period": "2023", "data_set": "ntm_assessment"}),
    )
    .await;
    assert_eq!(ntm.status(), 201);
    assert_ne!(ntm.json::<Value>().await.unwrap()["id"], id.as_str());

    // accepted once; accepting again is refused
    let response = decide(&app, &supervisor, &id, "accept", json!({})).await;
    assert_eq!(response.status(), 200);
    let response = decide(&app, &supervisor, &id, "accept", json!({})).await;
    assert_eq!(error_body(response, 409).await["code"], "not_submitted");
    // an accepted report is not submitted again: it stays accepted (and its records locked)
    let error = error_body(submit(&app, &officer, body.clone()).await, 409).await;
    assert_eq!(error["code"], "already_accepted");
    // until the district returns it, with a reason: that unlocks it, once
    let response = decide(&app, &supervisor, &id, "return", json!({})).await;
    assert_eq!(error_body(response, 422).await["code"], "invalid_decision");
    let response = decide(
        &app,
        &supervisor,
        &id,
        "return",
        json!({"note": "sửa hộ bản Hụm"}),
    )
    .await;
    assert_eq!(response.status(), 200);
    let returned: Value = response.json().await.unwrap();
    assert_eq!(returned["state"], "returned");
    assert_eq!(returned["note"], "sửa hộ bản Hụm");
    let response = decide(&app, &supervisor, &id, "return", json!({"note": "muộn"})).await;
    assert_eq!(error_body(response, 409).await["code"], "not_submitted");
    let response = decide(&app, &supervisor, &id, "accept", json!({})).await;
    assert_eq!(error_body(response, 409).await["code"], "not_submitted");
    // submitted again on the same row, and accepted again
    let again = submitted(&app, &officer, "03646", "2023").await;
    assert_eq!(again["id"], id.as_str());
    let response = decide(&app, &supervisor, &id, "accept", json!({})).await;
    assert_eq!(response.status(), 200);

    // returned twice
    let ntm = listed(&app, &supervisor, "").await;
    let ntm_id = ntm
        .iter()
        .find(|s| s["data_set"] == "ntm_assessment")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let response = decide(
        &app,
        &supervisor,
        &ntm_id,
        "return",
        json!({"note": "thiếu"}),
    )
    .await;
    assert_eq!(response.status(), 200);
    let response = decide(
        &app,
        &supervisor,
        &ntm_id,
        "return",
        json!({"note": "thiếu"}),
    )
    .await;
    assert_eq!(error_body(response, 409).await["code"], "not_submitted");
    assert_eq!(count(&app, "submissions").await, 2);
}

#[tokio::test]
async fn two_devices_submitting_at_once_make_one_submission() {
    let app = spawn_app().await;
    let (_, officer) = app
        .user_with_token("o.03646", Role::CommuneOfficer, "03646")
        .await;
    let (_, supervisor) = app
        .user_with_token("s.116", Role::DistrictSupervisor, "116")
        .await;
    let body = json!({"org_unit": "03646", "period": "2023", "data_set": "household"});
    let answers = join_all(
        (0..6)
            .map(|_| submit(&app, &officer, body.clone()))
            .collect(),
    )
    .await;
    let statuses: Vec<u16> = answers.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 409),
        "{statuses:?}"
    );
    assert_eq!(count(&app, "submissions").await, 1);

    // and two reviewers deciding at once: one decision stands
    let id = listed(&app, &supervisor, "").await[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let answers = join_all(vec![
        decide(&app, &supervisor, &id, "accept", json!({})),
        decide(
            &app,
            &app.admin_token,
            &id,
            "return",
            json!({"note": "sai"}),
        ),
        decide(&app, &supervisor, &id, "return", json!({"note": "sai"})),
    ])
    .await;
    // Decisions are taken one at a time, each on the state it finds: one of them decides the
    // submitted report; a return may then unlock an accepted one; nothing else stands.
    let statuses: Vec<u16> = answers.iter().map(|r| r.status().as_u16()).collect();
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 409),
        "{statuses:?}"
    );
    let accepted = statuses[0] == 200;
    let returns = statuses[1..].iter().filter(|s| **s == 200).count();
    assert!(returns <= 1, "a report is returned once: {statuses:?}");
    assert!(
        accepted || returns == 1,
        "one decision at least: {statuses:?}"
    );
    let state = listed(&app, &supervisor, "").await[0]["state"].clone();
    let expected = if returns == 1 { "returned" } else { "accepted" };
    assert_eq!(state, expected, "{statuses:?}");
}

/// Runs the requests at the same time and waits for all of them; answers in the order given. (A
/// hand-made join, so the tests need no futures crate.)
async fn join_all<F: std::future::Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut futures: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(value) => *output = Some(value),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().map(|o| o.expect("ready")).collect()
}

#[tokio::test]
async fn invalid_requests_name_the_field() {
    let app = spawn_app().await;
    let (_, officer) = app
        .user_with_token("o.03646", Role::CommuneOfficer, "03646")
        .await;
    let admin = app.admin_token.clone();
    let before = app.row_counts().await;
    for (body, fields) in [
        (
            json!({"org_unit": "116", "period": "2023", "data_set": "household"}),
            vec!["org_unit"],
        ),
        (
            json!({"org_unit": "14", "period": "2023", "data_set": "household"}),
            vec!["org_unit"],
        ),
        (
            json!({"org_unit": "99999", "period": "2023", "data_set": "household"}),
            vec!["org_unit"],
        ),
        (
            json!({"org_unit": "03646", "period": "2023-13", "data_set": "household"}),
            vec!["period"],
        ),
        (
            json!({"org_unit": "03646", "period": "năm nay", "data_set": "household"}),
            vec!["period"],
        ),
        (
            json!({"org_unit": "03646", "period": "2023", "data_set": "Household"}),
            vec!["data_set"],
        ),
        (
            json!({"org_unit": "03646", "period": "2023", "data_set": "people"}),
            vec!["data_set"],
        ),
        (json!({}), vec!["org_unit", "period", "data_set"]),
        (
            json!({"org_unit": null, "period": "2023", "data_set": "household"}),
            vec!["org_unit"],
        ),
    ] {
        let error = error_body(submit(&app, &admin, body.clone()).await, 422).await;
        assert_eq!(error["code"], "invalid_submission", "{body}");
        assert_eq!(fields_of(&error), fields, "{body}");
        assert!(
            error["fields"][0]["message_vi"].as_str().unwrap().len() > 20,
            "{body}"
        );
    }
    // strict JSON: an unknown field, a wrong type
    for body in [
        json!({"org_unit": "03646", "period": "2023", "data_set": "household", "state": "accepted"}),
        json!({"org_unit": 3646, "period": "2023", "data_set": "household"}),
    ] {
        let error = error_body(submit(&app, &admin, body.clone()).await, 422).await;
        assert_eq!(error["code"], "invalid_request", "{body}");
    }
    assert_eq!(app.row_counts().await, before, "nothing written");

    // decisions: a return needs its reason; a note has at most 500 characters
    let id = submitted(&app, &officer, "03646", "2023").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    for (action, body) in [
        ("return", json!({})),
        ("return", json!({"note": null})),
        ("return", json!({"note": "   "})),
        ("return", json!({"note": "ả".repeat(501)})),
        ("accept", json!({"note": "ả".repeat(501)})),
        ("accept", json!({"note": "a\u{0007}b"})),
    ] {
        let error = error_body(decide(&app, &admin, &id, action, body.clone()).await, 422).await;
        assert_eq!(error["code"], "invalid_decision", "{action} {body}");
        assert_eq!(fields_of(&error), ["note"], "{action} {body}");
    }
    let error = error_body(
        decide(
            &app,
            &admin,
            &id,
            "accept",
            json!({"note": "ok", "by": "x"}),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(error["code"], "invalid_request");
    assert_eq!(listed(&app, &admin, "").await[0]["state"], "submitted");
    // exactly 500 is fine
    let response = decide(
        &app,
        &admin,
        &id,
        "return",
        json!({"note": "ả".repeat(500)}),
    )
    .await;
    assert_eq!(response.status(), 200);
}
