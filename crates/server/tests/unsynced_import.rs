//! `POST /api/admin/unsynced-imports`: a lost tablet's exported outbox, imported by the province
//! administrator, is applied exactly as the tablet's own push would have been (see common/mod.rs for
//! the real server and database behind it).

mod common;

use std::io::Write;
use std::time::Duration;

use common::*;
use serde::Deserialize;
use serde_json::{json, Value};
use thidua_domain::protocol::{
    DeviceId, Mutation, MutationResult, Outcome, PushResponse, Record, UnsyncedExport,
    OLDEST_SUPPORTED_PROTOCOL, PROTOCOL_VERSION, UNSYNCED_EXPORT_FORMAT, UNSYNCED_EXPORT_VERSION,
};
use thidua_server::auth::{Role, User};
use thidua_server::{API_BODY_LIMIT, IMPORT_BODY_LIMIT};

const IMPORTS: &str = "/api/admin/unsynced-imports";

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
struct ImportAnswer {
    results: Vec<MutationResult>,
    counts: Counts,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
struct Counts {
    applied: usize,
    merged: usize,
    conflict: usize,
    rejected: usize,
}

fn counts(applied: usize, merged: usize, conflict: usize, rejected: usize) -> Counts {
    Counts {
        applied,
        merged,
        conflict,
        rejected,
    }
}

/// What "Xuất dữ liệu chưa đồng bộ" writes for `user` on `device`.
fn export_of(user: &User, device: DeviceId, mutations: Vec<Mutation>) -> UnsyncedExport {
    UnsyncedExport {
        format: UNSYNCED_EXPORT_FORMAT.into(),
        format_version: UNSYNCED_EXPORT_VERSION,
        protocol: PROTOCOL_VERSION,
        device,
        user_id: user.id.clone(),
        username: user.username.clone(),
        org_unit: user.org_unit.clone(),
        exported_at_ms: 1_764_200_000_000,
        mutations,
    }
}

/// Posts `body` as JSON to the import, as the administrator (`token` None) or the holder of `token`.
async fn post_import(app: &TestApp, token: Option<&str>, body: Vec<u8>) -> reqwest::Response {
    let request = match token {
        Some(token) => app.anon.post(app.url(IMPORTS)).bearer_auth(token),
        None => app.client.post(app.url(IMPORTS)),
    };
    request
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("import sent")
}

/// The administrator imports `export`; it must be answered 200.
async fn import(app: &TestApp, export: &UnsyncedExport) -> ImportAnswer {
    let response = post_import(app, None, serde_json::to_vec(export).unwrap()).await;
    assert_eq!(response.status(), 200, "import answered");
    response.json().await.expect("an import answer")
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn with_field(mut record: Record, field: &str, value: Value) -> Record {
    record.fields.insert(field.into(), value);
    record
}

/// An officer of 03646 whose tablet synced two households (A and B), then went offline for good
/// after adding three, editing A and deleting B. Returns the app, the officer and their token, the
/// device, the export of its outbox, and A and B as the server held them when the tablet last synced.
struct Scenario {
    app: TestApp,
    officer: User,
    token: String,
    device: DeviceId,
    export: UnsyncedExport,
    a: Record,
    b: Record,
}

async fn lost_tablet() -> Scenario {
    let app = spawn_app().await;
    let (officer, token) = app
        .user_with_token("xa.tohieu", Role::CommuneOfficer, "03646")
        .await;
    let device = new_device();
    let synced: PushResponse = app
        .push_as(
            &token,
            device,
            vec![
                create(device, new_household("03646")),
                create(device, new_household("03646")),
            ],
        )
        .await
        .json()
        .await
        .unwrap();
    let a = synced.results[0].record.clone().expect("A stored");
    let b = synced.results[1].record.clone().expect("B stored");
    assert_eq!((a.revision, b.revision), (1, 2));

    // offline from here on
    let new = (0..3).map(|i| {
        create(
            device,
            with_field(
                new_household("03646"),
                "head_name",
                json!(format!("Lò Văn Mới {i}")),
            ),
        )
    });
    let edited = with_field(
        with_field(a.clone(), "head_name", json!("Lò Thị Sửa")),
        "income_per_person_month",
        json!(900000),
    );
    let edit = mutation(
        device,
        edited,
        a.revision,
        &["head_name", "income_per_person_month"],
    );
    let mut gone = b.clone();
    gone.deleted = true;
    let deletion = mutation(device, gone, b.revision, &[]);
    let mutations: Vec<Mutation> = new.chain([edit, deletion]).collect();
    let export = export_of(&officer, device, mutations);
    Scenario {
        app,
        officer,
        token,
        device,
        export,
        a,
        b,
    }
}

#[tokio::test]
async fn an_export_is_applied_as_the_tablets_own_push_would_be() {
    let s = lost_tablet().await;
    let app = &s.app;
    let answer = import(app, &s.export).await;

    assert_eq!(answer.counts, counts(5, 0, 0, 0));
    let ids: Vec<_> = answer.results.iter().map(|r| r.mutation).collect();
    let sent: Vec<_> = s.export.mutations.iter().map(|m| m.id).collect();
    assert_eq!(ids, sent, "one result per mutation, in the file's order");
    let revisions: Vec<_> = answer.results.iter().map(|r| r.outcome.clone()).collect();
    assert_eq!(
        revisions,
        (3..=7)
            .map(|revision| Outcome::Applied { revision })
            .collect::<Vec<_>>()
    );
    assert_eq!(app.latest_revision().await, 7);

    // the server holds exactly those changes
    let records = app.pull_all().await;
    assert_eq!(records.len(), 5, "A, B and the three new ones");
    let held = |id| records.iter().find(|r| r.id == id).expect("pulled").clone();
    for (m, result) in s.export.mutations[..3].iter().zip(&answer.results) {
        let record = held(m.record.id);
        assert_eq!(record.fields, m.record.fields, "a new household as sent");
        assert_eq!(record.org_unit, m.record.org_unit);
        assert!(!record.deleted);
        assert_eq!(Some(&record), result.record.as_ref(), "answered as stored");
    }
    let a = held(s.a.id);
    assert_eq!(a.fields["head_name"], json!("Lò Thị Sửa"));
    assert_eq!(a.fields["income_per_person_month"], json!(900000));
    let mut unchanged = a.fields.clone();
    unchanged.insert("head_name".into(), s.a.fields["head_name"].clone());
    unchanged.insert(
        "income_per_person_month".into(),
        s.a.fields["income_per_person_month"].clone(),
    );
    assert_eq!(unchanged, s.a.fields, "no other field of A touched");
    assert_eq!(a.revision, 6);
    let b = held(s.b.id);
    assert!(b.deleted, "B deleted");
    assert_eq!(b.fields, s.b.fields);
    assert_eq!(b.revision, 7);

    // and the officer sees it as their own push would have left it
    let response = app.pull_as(&s.token, None).await;
    let page: thidua_domain::protocol::PullResponse = response.json().await.unwrap();
    assert_eq!(page.records.len(), 5);
}

#[tokio::test]
async fn importing_the_same_file_again_changes_nothing() {
    let s = lost_tablet().await;
    let app = &s.app;
    let first = import(app, &s.export).await;
    let revision = app.latest_revision().await;
    let rows = app.row_counts().await;
    let records = app.pull_all().await;

    let again = import(app, &s.export).await;
    assert_eq!(again, first, "the stored answers");
    assert_eq!(app.latest_revision().await, revision, "no new revision");
    assert_eq!(app.row_counts().await, rows);
    assert_eq!(app.pull_all().await, records);

    // gzip-compressed, as any API body may be: the same
    let response = app
        .client
        .post(app.url(IMPORTS))
        .header("content-type", "application/json")
        .header("content-encoding", "gzip")
        .body(gzip(&serde_json::to_vec(&s.export).unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let zipped: ImportAnswer = response.json().await.unwrap();
    assert_eq!(zipped, first);
    assert_eq!(app.latest_revision().await, revision);
}

#[tokio::test]
async fn the_device_sending_the_same_changes_itself_gets_the_stored_answers() {
    let s = lost_tablet().await;
    let app = &s.app;
    let imported = import(app, &s.export).await;
    let revision = app.latest_revision().await;
    let rows = app.row_counts().await;

    // the tablet found signal after all, and pushes its outbox
    let response = app
        .push_as(&s.token, s.device, s.export.mutations.clone())
        .await;
    assert_eq!(response.status(), 200);
    let pushed: PushResponse = response.json().await.unwrap();
    assert_eq!(pushed.results, imported.results, "replayed answers");
    assert_eq!(app.latest_revision().await, revision);
    assert_eq!(app.row_counts().await, rows, "nothing duplicated");
    assert_eq!(app.pull_all().await.len(), 5);

    // the other way round: the tablet syncs a new change, then its older export is imported
    let late = create(s.device, new_household("03646"));
    let response = app.push_as(&s.token, s.device, vec![late.clone()]).await;
    let pushed: PushResponse = response.json().await.unwrap();
    let revision = app.latest_revision().await;
    let rows = app.row_counts().await;
    let export = export_of(&s.officer, s.device, vec![late]);
    let answer = import(app, &export).await;
    assert_eq!(answer.results, pushed.results);
    assert_eq!(
        answer.counts,
        counts(1, 0, 0, 0),
        "counted as it was answered"
    );
    assert_eq!(app.latest_revision().await, revision);
    assert_eq!(app.row_counts().await, rows);
    assert_eq!(app.pull_all().await.len(), 6);
}

#[tokio::test]
async fn an_export_merges_with_what_others_changed_meanwhile() {
    let s = lost_tablet().await;
    let app = &s.app;
    // while the tablet was lost, the administrator fixed A's village (another field than the tablet's)
    // and B's head of household (a deletion meets it: a conflict, as for a push)
    let desk = new_device();
    let answer = app
        .push(
            desk,
            vec![
                mutation(
                    desk,
                    with_field(s.a.clone(), "village", json!("Bản Mé")),
                    s.a.revision,
                    &["village"],
                ),
                mutation(
                    desk,
                    with_field(s.b.clone(), "head_name", json!("Cà Văn Khác")),
                    s.b.revision,
                    &["head_name"],
                ),
            ],
        )
        .await;
    assert!(answer
        .results
        .iter()
        .all(|r| matches!(r.outcome, Outcome::Applied { .. })));

    let answer = import(app, &s.export).await;
    assert_eq!(answer.counts, counts(3, 1, 1, 0));
    assert!(matches!(answer.results[3].outcome, Outcome::Merged { .. }));
    let Outcome::Conflict { fields, .. } = &answer.results[4].outcome else {
        panic!("a conflict, got {:?}", answer.results[4].outcome);
    };
    assert!(fields.contains(&"_deleted".to_string()), "{fields:?}");
    let records = app.pull_all().await;
    let a = records.iter().find(|r| r.id == s.a.id).unwrap();
    assert_eq!(a.fields["village"], json!("Bản Mé"), "kept from the server");
    assert_eq!(
        a.fields["head_name"],
        json!("Lò Thị Sửa"),
        "from the tablet"
    );
}

#[tokio::test]
async fn a_deactivated_officers_export_is_still_imported() {
    let s = lost_tablet().await;
    let app = &s.app;
    // the tablet was lost, so the administrator locked its account
    assert!(app
        .state
        .store
        .set_user_active(&s.officer.id, false)
        .await
        .unwrap());
    let answer = import(app, &s.export).await;
    assert_eq!(answer.counts, counts(5, 0, 0, 0));
    assert_eq!(app.pull_all().await.len(), 5);
}

#[tokio::test]
async fn a_file_that_cannot_be_imported_is_refused_whole_and_stores_nothing() {
    let s = lost_tablet().await;
    let app = &s.app;
    let (supervisor, supervisor_token) = app
        .user_with_token("huyen.sonla", Role::DistrictSupervisor, "116")
        .await;
    let (_, other_officer) = app
        .user_with_token("xa.chiengngam", Role::CommuneOfficer, "03649")
        .await;
    let admin = app
        .state
        .store
        .user_by_username(ADMIN)
        .await
        .unwrap()
        .unwrap()
        .user;
    let good = serde_json::to_value(&s.export).unwrap();
    let changed = |field: &str, value: Value| {
        let mut body = good.clone();
        body[field] = value;
        body
    };
    let written_by = |user: &User| {
        let mut body = good.clone();
        body["user_id"] = json!(user.id);
        body["username"] = json!(user.username);
        body
    };
    let mut foreign = good.clone();
    foreign["mutations"][1]["device"] = json!(new_device());

    let cases: Vec<(&str, Value, &str, &str)> = vec![
        (
            "another format",
            changed("format", json!("thidua-backup")),
            "unsynced_format",
            "format",
        ),
        (
            "not an export at all",
            json!({"protocol": 1, "limit": 10}),
            "unsynced_format",
            "format",
        ),
        (
            "a later format version",
            changed("format_version", json!(UNSYNCED_EXPORT_VERSION + 1)),
            "unsynced_format_version",
            "format_version",
        ),
        (
            "a newer protocol",
            changed("protocol", json!(PROTOCOL_VERSION + 1)),
            "server_outdated",
            "protocol",
        ),
        (
            "an older protocol",
            changed(
                "protocol",
                json!(OLDEST_SUPPORTED_PROTOCOL.saturating_sub(1)),
            ),
            "app_outdated",
            "protocol",
        ),
        (
            "a mutation of another device",
            foreign,
            "device_mismatch",
            "mutations[1].device",
        ),
        (
            "an unknown user",
            changed("user_id", json!("00000000-0000-4000-8000-000000000000")),
            "unknown_user",
            "user_id",
        ),
        (
            "a username that is not the account's",
            changed("username", json!("xa.chiengngam")),
            "username_mismatch",
            "username",
        ),
        (
            "a district supervisor's file",
            written_by(&supervisor),
            "not_a_commune_officer",
            "user_id",
        ),
        (
            "the administrator's own file",
            written_by(&admin),
            "not_a_commune_officer",
            "user_id",
        ),
    ];
    let before = app.row_counts().await;
    for (what, body, code, field) in cases {
        let response = post_import(app, None, serde_json::to_vec(&body).unwrap()).await;
        let error = error_body(response, 422).await;
        assert_eq!(error["code"], code, "{what}: {error}");
        assert_eq!(error["fields"][0]["field"], field, "{what}: {error}");
        let message = error["message"].as_str().unwrap();
        assert!(
            message.ends_with("Chưa có gì được lưu."),
            "{what}: {message}"
        );
        assert!(
            error["message_en"]
                .as_str()
                .unwrap()
                .ends_with("Nothing was stored."),
            "{what}: {error}"
        );
        assert_eq!(app.row_counts().await, before, "{what}: nothing stored");
    }

    // a body that is not JSON, or not sent as JSON: the API's usual answers
    let response = post_import(app, None, b"{\"format\": \"thidua-unsynced\", ".to_vec()).await;
    assert_eq!(error_body(response, 400).await["code"], "malformed_json");
    let response = app
        .client
        .post(app.url(IMPORTS))
        .body(serde_json::to_vec(&s.export).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(error_body(response, 415).await["code"], "content_type");
    let mut missing = good.clone();
    missing.as_object_mut().unwrap().remove("device");
    let response = post_import(app, None, serde_json::to_vec(&missing).unwrap()).await;
    let error = error_body(response, 422).await;
    assert_eq!(error["code"], "invalid_request");
    assert!(error["message_en"].as_str().unwrap().contains("device"));

    // only the administrator imports, whatever the file holds; no token is a 401
    let file = serde_json::to_vec(&s.export).unwrap();
    for token in [&s.token, &other_officer, &supervisor_token] {
        let response = post_import(app, Some(token), file.clone()).await;
        assert_eq!(error_body(response, 403).await["code"], "forbidden");
    }
    let response = app
        .anon
        .post(app.url(IMPORTS))
        .header("content-type", "application/json")
        .body(file.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(error_body(response, 401).await["code"], "unauthorized");
    let response = app.client.get(app.url(IMPORTS)).send().await.unwrap();
    assert_eq!(
        error_body(response, 405).await["code"],
        "method_not_allowed"
    );
    assert_eq!(app.row_counts().await, before, "nothing stored");
    assert_eq!(app.latest_revision().await, 2);
}

#[tokio::test]
async fn a_change_outside_the_officers_commune_is_refused_alone_as_a_push_refuses_it() {
    let s = lost_tablet().await;
    let app = &s.app;
    // 03649 is outside the officer's commune, though the administrator importing may write it
    let outside = create(s.device, new_household("03649"));
    let inside = create(s.device, new_household("03646"));
    let export = export_of(&s.officer, s.device, vec![outside.clone(), inside.clone()]);

    let answer = import(app, &export).await;
    assert_eq!(answer.counts, counts(1, 0, 0, 1));
    let Outcome::Rejected { errors } = &answer.results[0].outcome else {
        panic!("refused, got {:?}", answer.results[0].outcome);
    };
    assert_eq!(errors[0].field, "org_unit");
    assert_eq!(errors[0].code, "out_of_scope");
    assert!(errors[0].message_vi.contains("03646"), "{:?}", errors[0]);
    assert!(answer.results[0].record.is_none());
    assert!(matches!(answer.results[1].outcome, Outcome::Applied { .. }));
    let ids: Vec<_> = app.pull_all().await.iter().map(|r| r.id).collect();
    assert!(!ids.contains(&outside.record.id), "not stored");
    assert!(ids.contains(&inside.record.id));

    // exactly what the tablet's own push of the same changes is answered
    let response = app.push_as(&s.token, s.device, vec![outside, inside]).await;
    let pushed: PushResponse = response.json().await.unwrap();
    assert_eq!(pushed.results, answer.results);

    // an invalid household is refused by the same rules as a push, field by field
    let bad = create(
        s.device,
        with_field(new_household("03646"), "income_per_person_month", json!(-1)),
    );
    let answer = import(app, &export_of(&s.officer, s.device, vec![bad])).await;
    assert_eq!(answer.counts, counts(0, 0, 0, 1));
    let Outcome::Rejected { errors } = &answer.results[0].outcome else {
        panic!("refused, got {:?}", answer.results[0].outcome);
    };
    assert!(errors.iter().any(|e| e.field == "income_per_person_month"));
}

/// The households' export of 2,500 new households of 03646 by `officer` on `device`.
fn big_export(officer: &User, device: DeviceId) -> UnsyncedExport {
    let mutations = (0..2_500)
        .map(|i| {
            create(
                device,
                with_field(
                    new_household("03646"),
                    "head_name",
                    json!(format!("Lò Văn Thứ {i}")),
                ),
            )
        })
        .collect();
    export_of(officer, device, mutations)
}

/// `bytes` (a JSON object) padded with spaces before its closing brace to exactly `length` bytes.
fn padded(mut bytes: Vec<u8>, length: usize) -> Vec<u8> {
    let end = bytes.pop().unwrap();
    assert_eq!(end, b'}');
    bytes.resize(length - 1, b' ');
    bytes.push(end);
    bytes
}

#[tokio::test]
async fn a_large_export_is_read_up_to_32_mib_and_no_further() {
    let s = lost_tablet().await;
    let app = &s.app;
    let export = big_export(&s.officer, s.device);
    let file = serde_json::to_vec(&export).unwrap();
    assert!(
        file.len() > API_BODY_LIMIT && file.len() < IMPORT_BODY_LIMIT,
        "{} bytes",
        file.len()
    );

    // the rest of the API keeps its 1 MiB, plain or compressed
    let before = app.row_counts().await;
    for coding in [None, Some("gzip")] {
        let mut request = app
            .client
            .post(app.url("/api/sync/push"))
            .header("content-type", "application/json");
        let body = match coding {
            Some(coding) => {
                request = request.header("content-encoding", coding);
                gzip(&file)
            }
            None => file.clone(),
        };
        let response = request.body(body).send().await.unwrap();
        let error = error_body(response, 413).await;
        assert_eq!(error["code"], "body_too_large", "{coding:?}");
        assert!(
            error["message"].as_str().unwrap().contains("1 MiB"),
            "{error}"
        );
    }
    assert_eq!(app.row_counts().await, before);

    let response = post_import(app, None, file.clone()).await;
    assert_eq!(response.status(), 200);
    let answer: ImportAnswer = response.json().await.unwrap();
    assert_eq!(answer.counts, counts(2_500, 0, 0, 0));
    assert_eq!(app.latest_revision().await, 2 + 2_500);
    assert_eq!(app.pull_all().await.len(), 2 + 2_500);

    // a body of exactly 32 MiB is read (JSON may carry spaces), and the file gzip-compressed ...
    let response = post_import(app, None, padded(file.clone(), IMPORT_BODY_LIMIT)).await;
    assert_eq!(response.status(), 200);
    let again: ImportAnswer = response.json().await.unwrap();
    assert_eq!(again, answer);
    let response = app
        .client
        .post(app.url(IMPORTS))
        .header("content-type", "application/json")
        .header("content-encoding", "gzip")
        .body(gzip(&file))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "over 1 MiB once inflated");
    assert_eq!(app.latest_revision().await, 2 + 2_500);

    // ... a byte more is a 413 in JSON, naming the import's limit
    let rows = app.row_counts().await;
    let response = post_import(app, None, padded(file.clone(), IMPORT_BODY_LIMIT + 1)).await;
    let error = error_body(response, 413).await;
    assert_eq!(error["code"], "body_too_large");
    assert!(
        error["message"].as_str().unwrap().contains("32 MiB"),
        "{error}"
    );

    // and a gzip bomb is cut off at 32 MiB inflated, not read to its end
    let mut bomb = br#"{"format": "thidua-unsynced", "mutations": ["#.to_vec();
    bomb.resize(IMPORT_BODY_LIMIT + 8 * 1024 * 1024, b' ');
    let bomb = gzip(&bomb);
    assert!(bomb.len() < 1024 * 1024, "{} bytes", bomb.len());
    let response = tokio::time::timeout(
        Duration::from_secs(30),
        app.client
            .post(app.url(IMPORTS))
            .header("content-type", "application/json")
            .header("content-encoding", "gzip")
            .body(bomb)
            .send(),
    )
    .await
    .expect("answered, not hung")
    .unwrap();
    let error = error_body(response, 413).await;
    assert_eq!(error["code"], "body_too_large");
    assert_eq!(app.row_counts().await, rows, "nothing stored");
    assert_eq!(app.latest_revision().await, 2 + 2_500);
}
