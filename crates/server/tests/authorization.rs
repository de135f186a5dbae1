//! Who may read and write what: every role against every endpoint, as a table (see common/mod.rs for
//! the real server and database behind it).

mod common;

use std::collections::BTreeSet;

use common::*;
use serde_json::{json, Value};
use thidua_domain::criteria::CriteriaSet;
use thidua_domain::protocol::{
    Outcome, PushResponse, Record, UnsyncedExport, PROTOCOL_VERSION, UNSYNCED_EXPORT_FORMAT,
    UNSYNCED_EXPORT_VERSION,
};
use thidua_domain::targets::TargetSet;
use thidua_server::auth::Role;

/// Who sends the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Officer03646,
    Officer03649,
    Supervisor116,
    Supervisor118,
    Admin,
    NoToken,
}

const WHO: [Who; 6] = [
    Who::Officer03646,
    Who::Officer03649,
    Who::Supervisor116,
    Who::Supervisor118,
    Who::Admin,
    Who::NoToken,
];

#[derive(Debug, Clone, Copy)]
enum Endpoint {
    Push03646,
    /// 03682 (Mường Chiên) is a commune of district 118 (Quỳnh Nhai).
    Push03682,
    PullAll,
    Pull03646,
    Pull116,
    Pull118,
    ListUsers,
    CreateUser,
    RevokeSessions,
    Me,
    /// A submission of 03646's households, for a period of the cell's own.
    Submit03646,
    /// `GET /api/submissions?period=2023`: submissions of 03646, 03649 and 03682 are seeded.
    ListSubmissions,
    /// Accepting, then returning, a submission of 03646 made for the cell.
    Accept03646,
    Return03646,
    ListUnitLists,
    /// A later unit list of the cell's own id (a list is never replaced).
    UploadUnitList,
    ListCriteriaSets,
    /// The carried NTM set, sent back whole.
    PutCriteriaSet,
    /// Indicator 1.1 of the NTM set: `{"equals": true}`.
    PutRequirement,
    GetCriteriaSet,
    ListTargetSets,
    /// The carried 2023 targets, sent back whole.
    PutTargetSet,
    GetTargetSet,
    /// An unsynced export of the lost tablet's officer (03646): one new household.
    ImportUnsynced,
}

/// What the cell must answer.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// 200, the mutation applied (and stored).
    Applied,
    /// 200, the mutation rejected with an error on this field; nothing stored.
    Rejected(&'static str),
    /// 200 with records (or submissions) of exactly these communes (all the seeded ones of the
    /// scope, none other).
    Records(&'static [&'static str]),
    /// This status with a JSON error of this code.
    Error(u16, &'static str),
    /// This status (a success of the admin API or of /me).
    Success(u16),
}

use Expect::*;

const UNAUTHORIZED: Expect = Error(401, "unauthorized");
const OUT_OF_SCOPE: Expect = Error(403, "out_of_scope");
const FORBIDDEN: Expect = Error(403, "forbidden");

/// The authorization matrix. Columns: officer of 03646, officer of 03649, supervisor of district 116,
/// supervisor of district 118, province administrator, no token.
#[rustfmt::skip]
const MATRIX: [(Endpoint, [Expect; 6]); 24] = [
    //                           O-03646                 O-03649                 S-116                    S-118                    admin                             none
    (Endpoint::Push03646,      [Applied,               Rejected("org_unit"),   Rejected("role"),        Rejected("role"),        Applied,                          UNAUTHORIZED]),
    (Endpoint::Push03682,      [Rejected("org_unit"),  Rejected("org_unit"),   Rejected("role"),        Rejected("role"),        Applied,                          UNAUTHORIZED]),
    (Endpoint::PullAll,        [Records(&["03646"]),   Records(&["03649"]),    Records(&["03646", "03649"]), Records(&["03682"]), Records(&["03646", "03649", "03682"]), UNAUTHORIZED]),
    (Endpoint::Pull03646,      [Records(&["03646"]),   OUT_OF_SCOPE,           Records(&["03646"]),     OUT_OF_SCOPE,            Records(&["03646"]),              UNAUTHORIZED]),
    (Endpoint::Pull116,        [OUT_OF_SCOPE,          OUT_OF_SCOPE,           Records(&["03646", "03649"]), OUT_OF_SCOPE,      Records(&["03646", "03649"]),     UNAUTHORIZED]),
    (Endpoint::Pull118,        [OUT_OF_SCOPE,          OUT_OF_SCOPE,           OUT_OF_SCOPE,            Records(&["03682"]),     Records(&["03682"]),              UNAUTHORIZED]),
    (Endpoint::ListUsers,      [FORBIDDEN,             FORBIDDEN,              FORBIDDEN,               FORBIDDEN,               Success(200),                          UNAUTHORIZED]),
    (Endpoint::CreateUser,     [FORBIDDEN,             FORBIDDEN,              FORBIDDEN,               FORBIDDEN,               Success(201),                          UNAUTHORIZED]),
    (Endpoint::RevokeSessions, [FORBIDDEN,             FORBIDDEN,              FORBIDDEN,               FORBIDDEN,               Success(200),                          UNAUTHORIZED]),
    (Endpoint::Me,             [Success(200),               Success(200),                Success(200),                 Success(200),                 Success(200),                          UNAUTHORIZED]),
    (Endpoint::Submit03646,    [Success(201),          OUT_OF_SCOPE,           FORBIDDEN,               FORBIDDEN,               Success(201),                     UNAUTHORIZED]),
    (Endpoint::ListSubmissions, [Records(&["03646"]),  Records(&["03649"]),    Records(&["03646", "03649"]), Records(&["03682"]), Records(&["03646", "03649", "03682"]), UNAUTHORIZED]),
    (Endpoint::Accept03646,    [FORBIDDEN,             FORBIDDEN,              Success(200),            OUT_OF_SCOPE,            Success(200),                     UNAUTHORIZED]),
    (Endpoint::Return03646,    [FORBIDDEN,             FORBIDDEN,              Success(200),            OUT_OF_SCOPE,            Success(200),                     UNAUTHORIZED]),
    (Endpoint::ListUnitLists,  [FORBIDDEN,             FORBIDDEN,              FORBIDDEN,               FORBIDDEN,               Success(200),                     UNAUTHORIZED]),
    (Endpoint::UploadUnitList, [FORBIDDEN,             FORBIDDEN,              FORBIDDEN,               FORBIDDEN,               Success(201),                     UNAUTHORIZED]),
    (Endpoint::ListCriteriaSets, [FORBIDDEN,           FORBIDDEN,              FORBIDDEN,               FORBIDDEN,               Success(200),                     UNAUTHORIZED]),
    (Endpoint::PutCriteriaSet, [FORBIDDEN,             FORBIDDEN,              FORBIDDEN,               FORBIDDEN,               Success(200),                     UNAUTHORIZED]),
    (Endpoint::PutRequirement, [FORBIDDEN,             FORBIDDEN,              FORBIDDEN,               FORBIDDEN,               Success(200),                     UNAUTHORIZED]),
    (Endpoint::GetCriteriaSet, [Success(200),          Success(200),           Success(200),            Success(200),            Success(200),                     UNAUTHORIZED]),
    (Endpoint::ListTargetSets, [FORBIDDEN,             FORBIDDEN,              FORBIDDEN,               FORBIDDEN,               Success(200),                     UNAUTHORIZED]),
    (Endpoint::PutTargetSet,   [FORBIDDEN,             FORBIDDEN,              FORBIDDEN,               FORBIDDEN,               Success(200),                     UNAUTHORIZED]),
    (Endpoint::GetTargetSet,   [Success(200),          Success(200),           Success(200),            Success(200),            Success(200),                     UNAUTHORIZED]),
    (Endpoint::ImportUnsynced, [FORBIDDEN,             FORBIDDEN,              FORBIDDEN,               FORBIDDEN,               Success(200),                     UNAUTHORIZED]),
];

/// A period no other cell uses, so each cell's submission is its own report (a second submission of
/// the same report would be a 409, whoever sends it).
fn cell_period(cell: usize) -> String {
    (2100 + cell).to_string()
}

/// What a cell needs before it is sent: for a decision, a fresh submission of 03646 waiting for
/// review (made by the administrator, before the "database unchanged" counts are taken).
async fn prepare(app: &TestApp, endpoint: Endpoint, cell: usize) -> Option<String> {
    if !matches!(endpoint, Endpoint::Accept03646 | Endpoint::Return03646) {
        return None;
    }
    let response = app
        .post_json(
            "/api/submissions",
            &json!({"org_unit": "03646", "period": cell_period(cell), "data_set": "household"}),
        )
        .await;
    assert_eq!(response.status(), 201, "prepare cell {cell}");
    let body: Value = response.json().await.unwrap();
    Some(body["id"].as_str().unwrap().to_string())
}

struct Actors {
    tokens: Vec<(Who, Option<String>, Option<String>)>, // who, token, username
}

impl Actors {
    fn token(&self, who: Who) -> Option<&str> {
        self.tokens
            .iter()
            .find(|(w, _, _)| *w == who)
            .and_then(|(_, t, _)| t.as_deref())
    }

    fn username(&self, who: Who) -> Option<&str> {
        self.tokens
            .iter()
            .find(|(w, _, _)| *w == who)
            .and_then(|(_, _, u)| u.as_deref())
    }
}

async fn send(
    app: &TestApp,
    token: Option<&str>,
    endpoint: Endpoint,
    cell: usize,
    target_id: &str,
    submission: Option<&str>,
) -> (reqwest::Response, Option<Record>) {
    let with_token = |builder: reqwest::RequestBuilder| match token {
        Some(token) => builder.bearer_auth(token),
        None => builder,
    };
    let device = new_device();
    let push = |unit: &str| {
        let mut record = new_household(unit);
        record
            .fields
            .insert("head_name".into(), json!(format!("Hộ ô {cell}")));
        record
    };
    let pull = |unit: Option<&str>| {
        let mut body = json!({"protocol": 1, "limit": 500});
        if let Some(unit) = unit {
            body["org_unit"] = json!(unit);
        }
        with_token(app.anon.post(app.url("/api/sync/pull"))).json(&body)
    };
    let (request, record) = match endpoint {
        Endpoint::Push03646 | Endpoint::Push03682 => {
            let unit = if matches!(endpoint, Endpoint::Push03646) {
                "03646"
            } else {
                "03682"
            };
            let record = push(unit);
            let body = json!({"protocol": 1, "device": device, "mutations": [create(device, record.clone())]});
            (
                with_token(app.anon.post(app.url("/api/sync/push"))).json(&body),
                Some(record),
            )
        }
        Endpoint::PullAll => (pull(None), None),
        Endpoint::Pull03646 => (pull(Some("03646")), None),
        Endpoint::Pull116 => (pull(Some("116")), None),
        Endpoint::Pull118 => (pull(Some("118")), None),
        Endpoint::ListUsers => (with_token(app.anon.get(app.url("/api/admin/users"))), None),
        Endpoint::CreateUser => (
            with_token(app.anon.post(app.url("/api/admin/users"))).json(&json!({
                "username": format!("new.user{cell}"),
                "display_name": "Người mới",
                "role": "commune_officer",
                "org_unit": "03649",
                "password": "a long enough password",
            })),
            None,
        ),
        Endpoint::RevokeSessions => (
            with_token(
                app.anon
                    .post(app.url(&format!("/api/admin/users/{target_id}/revoke-sessions"))),
            ),
            None,
        ),
        Endpoint::Me => (with_token(app.anon.get(app.url("/api/auth/me"))), None),
        Endpoint::Submit03646 => (
            with_token(app.anon.post(app.url("/api/submissions"))).json(&json!({
                "org_unit": "03646",
                "period": cell_period(cell),
                "data_set": "household",
            })),
            None,
        ),
        Endpoint::ListSubmissions => (
            with_token(app.anon.get(app.url("/api/submissions?period=2023"))),
            None,
        ),
        Endpoint::Accept03646 | Endpoint::Return03646 => {
            let action = if matches!(endpoint, Endpoint::Accept03646) {
                "accept"
            } else {
                "return"
            };
            let id = submission.expect("prepared");
            (
                with_token(
                    app.anon
                        .post(app.url(&format!("/api/submissions/{id}/{action}"))),
                )
                .json(&json!({"note": format!("Ô {cell}")})),
                None,
            )
        }
        Endpoint::ListUnitLists => (
            with_token(app.anon.get(app.url("/api/admin/unit-lists"))),
            None,
        ),
        Endpoint::UploadUnitList => (
            with_token(app.anon.post(app.url("/api/admin/unit-lists")))
                .header("content-type", "text/tab-separated-values")
                .body(later_unit_list(&format!("matrix-{cell}"))),
            None,
        ),
        Endpoint::ListCriteriaSets => (
            with_token(app.anon.get(app.url("/api/admin/criteria-sets"))),
            None,
        ),
        Endpoint::PutCriteriaSet => (
            with_token(
                app.anon
                    .put(app.url("/api/admin/criteria-sets/ntm-2021-2025")),
            )
            .json(&CriteriaSet::ntm_2021_2025()),
            None,
        ),
        Endpoint::PutRequirement => (
            with_token(
                app.anon
                    .put(app.url("/api/admin/criteria-sets/ntm-2021-2025/requirements/1.1")),
            )
            .json(&json!({"requirement": {"equals": true}})),
            None,
        ),
        Endpoint::GetCriteriaSet => (
            with_token(app.anon.get(app.url("/api/criteria-sets/ntm-2021-2025"))),
            None,
        ),
        Endpoint::ListTargetSets => (
            with_token(app.anon.get(app.url("/api/admin/target-sets"))),
            None,
        ),
        Endpoint::PutTargetSet => (
            with_token(app.anon.put(app.url("/api/admin/target-sets/sonla-2023")))
                .json(&TargetSet::sonla_2023()),
            None,
        ),
        Endpoint::GetTargetSet => (
            with_token(app.anon.get(app.url("/api/target-sets/sonla-2023"))),
            None,
        ),
        Endpoint::ImportUnsynced => {
            let record = push("03646");
            let export = UnsyncedExport {
                format: UNSYNCED_EXPORT_FORMAT.into(),
                format_version: UNSYNCED_EXPORT_VERSION,
                protocol: PROTOCOL_VERSION,
                device,
                user_id: target_id.to_string(),
                username: "lost.tablet".into(),
                org_unit: record.org_unit.clone(),
                exported_at_ms: 1_700_000_000_000,
                mutations: vec![create(device, record.clone())],
            };
            (
                with_token(app.anon.post(app.url("/api/admin/unsynced-imports"))).json(&export),
                Some(record),
            )
        }
    };
    (request.send().await.expect("sent"), record)
}

#[tokio::test]
async fn every_role_against_every_endpoint() {
    let app = spawn_app().await;

    // records in three communes, pushed by the administrator before anything else
    let admin_device = new_device();
    let seeded = app
        .push(
            admin_device,
            ["03646", "03649", "03682"]
                .iter()
                .map(|unit| create(admin_device, new_household(unit)))
                .collect(),
        )
        .await;
    assert!(seeded
        .results
        .iter()
        .all(|r| matches!(r.outcome, Outcome::Applied { .. })));
    // and a 2023 submission of each of them
    for unit in ["03646", "03649", "03682"] {
        let response = app
            .post_json(
                "/api/submissions",
                &json!({"org_unit": unit, "period": "2023", "data_set": "household"}),
            )
            .await;
        assert_eq!(response.status(), 201, "seed submission of {unit}");
    }

    let mut actors = Actors { tokens: Vec::new() };
    for (who, username, role, unit) in [
        (Who::Officer03646, "o.03646", Role::CommuneOfficer, "03646"),
        (Who::Officer03649, "o.03649", Role::CommuneOfficer, "03649"),
        (Who::Supervisor116, "s.116", Role::DistrictSupervisor, "116"),
        (Who::Supervisor118, "s.118", Role::DistrictSupervisor, "118"),
    ] {
        let (_, token) = app.user_with_token(username, role, unit).await;
        actors
            .tokens
            .push((who, Some(token), Some(username.to_string())));
    }
    actors.tokens.push((
        Who::Admin,
        Some(app.admin_token.clone()),
        Some(ADMIN.to_string()),
    ));
    actors.tokens.push((Who::NoToken, None, None));
    // whose sessions the revoke-sessions cells end (never one of the actors')
    let (target, _) = app
        .user_with_token("lost.tablet", Role::CommuneOfficer, "03646")
        .await;

    let mut cell = 0;
    for (endpoint, row) in MATRIX {
        for (who, expect) in WHO.into_iter().zip(row) {
            cell += 1;
            let context = format!("{endpoint:?} as {who:?}");
            let submission = prepare(&app, endpoint, cell).await;
            let before = app.row_counts().await;
            let revision_before = app.latest_revision().await;
            let (response, pushed) = send(
                &app,
                actors.token(who),
                endpoint,
                cell,
                &target.id,
                submission.as_deref(),
            )
            .await;
            match expect {
                Applied | Rejected(_) => {
                    assert_eq!(response.status(), 200, "{context}");
                    let answer: PushResponse = response.json().await.unwrap();
                    let result = &answer.results[0];
                    let pushed = pushed.unwrap();
                    let all_ids: BTreeSet<_> = app.pull_all().await.iter().map(|r| r.id).collect();
                    match expect {
                        Applied => {
                            assert!(
                                matches!(result.outcome, Outcome::Applied { .. }),
                                "{context}: {:?}",
                                result.outcome
                            );
                            assert!(all_ids.contains(&pushed.id), "{context}: stored");
                        }
                        Rejected(field) => {
                            let Outcome::Rejected { errors } = &result.outcome else {
                                panic!("{context}: rejected, got {:?}", result.outcome);
                            };
                            assert!(
                                errors.iter().any(|e| e.field == field),
                                "{context}: an error on {field}: {errors:?}"
                            );
                            assert!(errors.iter().all(|e| !e.message_vi.is_empty()), "{context}");
                            assert!(result.record.is_none(), "{context}: no record");
                            assert!(!all_ids.contains(&pushed.id), "{context}: nothing stored");
                            assert_eq!(app.latest_revision().await, revision_before, "{context}");
                            let after = app.row_counts().await;
                            assert_eq!(
                                count(&after, "records"),
                                count(&before, "records"),
                                "{context}"
                            );
                            // the answer is kept, so a resend gets the same one
                            assert_eq!(
                                count(&after, "applied_mutations"),
                                count(&before, "applied_mutations") + 1,
                                "{context}"
                            );
                        }
                        _ => unreachable!(),
                    }
                }
                Records(units) => {
                    assert_eq!(response.status(), 200, "{context}");
                    let body: Value = response.json().await.unwrap();
                    let list = match endpoint {
                        Endpoint::ListSubmissions => "submissions",
                        _ => "records",
                    };
                    let seen: BTreeSet<String> = body[list]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|r| r["org_unit"].as_str().unwrap().to_string())
                        .collect();
                    let expected: BTreeSet<String> = units.iter().map(|u| u.to_string()).collect();
                    assert_eq!(seen, expected, "{context}");
                }
                Error(status, code) => {
                    if status == 401 {
                        assert_eq!(
                            response
                                .headers()
                                .get("www-authenticate")
                                .map(|v| v.to_str().unwrap()),
                            Some("Bearer"),
                            "{context}"
                        );
                    }
                    let error = error_body(response, status).await;
                    assert_eq!(error["code"], code, "{context}");
                    let after = app.row_counts().await;
                    assert_eq!(after, before, "{context}: database unchanged");
                    if let Some(id) = &submission {
                        assert_eq!(
                            submission_state(&app, id, cell).await,
                            "submitted",
                            "{context}: still waiting for review"
                        );
                    }
                }
                Success(status) => {
                    assert_eq!(response.status(), status, "{context}");
                    let body: Value = response.json().await.unwrap();
                    match endpoint {
                        Endpoint::Me => {
                            assert_eq!(body["username"].as_str(), actors.username(who), "{context}")
                        }
                        Endpoint::ListUsers => {
                            assert!(body["users"].as_array().unwrap().len() >= 6, "{context}")
                        }
                        Endpoint::CreateUser => {
                            assert_eq!(body["role"], "commune_officer", "{context}")
                        }
                        Endpoint::RevokeSessions => {
                            assert_eq!(body["revoked"], 1, "{context}: the target's one session")
                        }
                        Endpoint::Submit03646 => {
                            assert_eq!(body["state"], "submitted", "{context}");
                            assert_eq!(body["period"], cell_period(cell), "{context}");
                        }
                        Endpoint::Accept03646 | Endpoint::Return03646 => {
                            let state = if matches!(endpoint, Endpoint::Accept03646) {
                                "accepted"
                            } else {
                                "returned"
                            };
                            assert_eq!(body["state"], state, "{context}");
                            assert_eq!(body["id"].as_str(), submission.as_deref(), "{context}");
                            assert_eq!(
                                submission_state(&app, submission.as_deref().unwrap(), cell).await,
                                state,
                                "{context}: stored"
                            );
                        }
                        Endpoint::ListUnitLists => {
                            assert!(
                                body["unit_lists"].as_array().unwrap().len() >= 2,
                                "{context}"
                            )
                        }
                        Endpoint::UploadUnitList => {
                            assert_eq!(body["id"], format!("matrix-{cell}"), "{context}")
                        }
                        Endpoint::ListCriteriaSets => {
                            assert_eq!(body["criteria_sets"][0]["id"], "ntm-2021-2025", "{context}")
                        }
                        Endpoint::PutCriteriaSet | Endpoint::GetCriteriaSet => {
                            assert_eq!(body["id"], "ntm-2021-2025", "{context}")
                        }
                        Endpoint::PutRequirement => {
                            assert_eq!(body["code"], "1.1", "{context}");
                            assert_eq!(body["requirement"], json!({"equals": true}), "{context}");
                        }
                        Endpoint::ListTargetSets => {
                            assert_eq!(body["target_sets"][0]["id"], "sonla-2023", "{context}")
                        }
                        Endpoint::PutTargetSet | Endpoint::GetTargetSet => {
                            assert_eq!(body["id"], "sonla-2023", "{context}")
                        }
                        Endpoint::ImportUnsynced => {
                            assert_eq!(
                                body["counts"],
                                json!({"applied": 1, "merged": 0, "conflict": 0, "rejected": 0}),
                                "{context}"
                            );
                            let imported = pushed.as_ref().unwrap().id;
                            assert!(
                                app.pull_all().await.iter().any(|r| r.id == imported),
                                "{context}: stored"
                            );
                        }
                        _ => unreachable!(),
                    }
                }
            }
        }
    }
    assert_eq!(cell, 144);

    // a resent refused mutation gets the same answer, and still stores nothing
    let officer = actors.token(Who::Officer03646).unwrap().to_string();
    let device = new_device();
    let foreign = create(device, new_household("03649"));
    let first = app.push_as(&officer, device, vec![foreign.clone()]).await;
    let first: PushResponse = first.json().await.unwrap();
    let again: PushResponse = app
        .push_as(&officer, device, vec![foreign.clone()])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again, first);
    assert!(!app
        .pull_all()
        .await
        .iter()
        .any(|r| r.id == foreign.record.id));
}

/// The state of submission `id` (made for `cell`), as the administrator lists it.
async fn submission_state(app: &TestApp, id: &str, cell: usize) -> String {
    let response = app
        .client
        .get(app.url(&format!("/api/submissions?period={}", cell_period(cell))))
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    let found = body["submissions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id)
        .cloned()
        .expect("the submission is listed");
    found["state"].as_str().unwrap().to_string()
}

fn count(counts: &[(&'static str, u64)], table: &str) -> u64 {
    counts
        .iter()
        .find(|(t, _)| *t == table)
        .map(|(_, n)| *n)
        .unwrap()
}

#[tokio::test]
async fn a_resent_mutation_never_shows_another_communes_record() {
    let app = spawn_app().await;
    // the administrator writes a record of 03682 ...
    let device = new_device();
    let m = create(device, new_household("03682"));
    let answer = app.push(device, vec![m.clone()]).await;
    assert!(matches!(answer.results[0].outcome, Outcome::Applied { .. }));
    // ... and an officer of 03646 who learnt that mutation's id resends it as their own commune's
    let (_, token) = app
        .user_with_token("o.03646", Role::CommuneOfficer, "03646")
        .await;
    let mut copy = m.clone();
    copy.record.org_unit = thidua_domain::org::UnitCode::parse("03646").unwrap();
    let response = app.push_as(&token, device, vec![copy]).await;
    let answer: PushResponse = response.json().await.unwrap();
    assert!(answer.results[0].record.is_none());
    let Outcome::Rejected { errors } = &answer.results[0].outcome else {
        panic!("refused, got {:?}", answer.results[0].outcome);
    };
    assert_eq!(errors[0].field, "org_unit");
}

#[tokio::test]
async fn a_pull_filtered_on_an_unknown_unit_is_still_a_400() {
    let app = spawn_app().await;
    let (_, token) = app
        .user_with_token("o.03646", Role::CommuneOfficer, "03646")
        .await;
    let response = app.pull_as(&token, Some("99")).await;
    assert_eq!(error_body(response, 400).await["code"], "unknown_org_unit");
    // a 2025 commune under the province is outside an officer's commune
    let response = app.pull_as(&token, Some("03980")).await;
    assert_eq!(error_body(response, 403).await["code"], "out_of_scope");
}
