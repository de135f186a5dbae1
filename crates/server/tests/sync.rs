//! The sync API against the real server and a real database (see common/mod.rs).

mod common;

use std::collections::BTreeSet;

use common::*;
use serde_json::{json, Value};
use thidua_domain::org::OrgCatalog;
use thidua_domain::protocol::{
    Outcome, PushResponse, RecordId, MAX_PUSH_BATCH, OLDEST_SUPPORTED_PROTOCOL, PROTOCOL_VERSION,
};
use uuid::Uuid;

#[tokio::test]
async fn health_names_protocol_and_database() {
    let app = spawn_app().await;
    let response = app.client.get(app.url("/api/health")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({"status": "ok", "protocol": 1, "database": app.database.kind()})
    );
}

#[tokio::test]
async fn a_repeated_mutation_is_applied_once_and_answered_the_same() {
    let app = spawn_app().await;
    let device = new_device();
    let m = create(device, new_household("03646"));

    let first = app.push(device, vec![m.clone()]).await;
    assert_eq!(first.protocol, PROTOCOL_VERSION);
    assert_eq!(first.results.len(), 1);
    assert_eq!(first.results[0].outcome, Outcome::Applied { revision: 1 });
    let stored = first.results[0].record.clone().expect("record as stored");
    assert_eq!(stored.revision, 1);
    assert_eq!(stored.fields, m.record.fields);
    assert_eq!(app.latest_revision().await, 1);

    // resent, e.g. after the answer was lost: same answer, nothing written again
    let second = app.push(device, vec![m.clone()]).await;
    assert_eq!(second, first);
    assert_eq!(app.latest_revision().await, 1, "sequence not advanced");
    // and twice within one batch
    let third = app.push(device, vec![m.clone(), m.clone()]).await;
    assert_eq!(third.results, vec![first.results[0].clone(); 2]);
    assert_eq!(app.latest_revision().await, 1);

    let records = app.pull_all().await;
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].revision, 1);
}

/// A push batch is one transaction that merges its mutations one after the other: a later mutation
/// sees the earlier ones' writes, a repeated id gets the first answer, and the batch is stored whole.
#[tokio::test]
async fn a_batch_sees_its_own_writes_and_is_stored_whole() {
    let app = spawn_app().await;
    let device = new_device();
    let created = create(device, new_household("03646"));
    // the same record edited later in the same batch (an imported outbox can hold both)
    let mut renamed = created.record.clone();
    renamed
        .fields
        .insert("head_name".into(), json!("Lò Thị Bình"));
    let edit = mutation(device, renamed, 1, &["head_name"]);
    let other = create(device, new_household("03646"));

    let answer = app
        .push(
            device,
            vec![
                created.clone(),
                edit.clone(),
                created.clone(),
                other.clone(),
            ],
        )
        .await;
    let outcomes: Vec<Outcome> = answer.results.iter().map(|r| r.outcome.clone()).collect();
    assert_eq!(
        outcomes[..2],
        [
            Outcome::Applied { revision: 1 },
            Outcome::Applied { revision: 2 }
        ]
    );
    assert_eq!(
        answer.results[2], answer.results[0],
        "a repeat within the batch gets the first answer"
    );
    assert_eq!(outcomes[3], Outcome::Applied { revision: 3 });
    assert_eq!(app.latest_revision().await, 3);

    let records = app.pull_all().await;
    assert_eq!(records.len(), 2);
    let first = records.iter().find(|r| r.id == created.record.id).unwrap();
    assert_eq!(first.revision, 2);
    assert_eq!(first.fields["head_name"], json!("Lò Thị Bình"));

    // the batch sent again (its answer was lost): the same answers, nothing written
    let again = app.push(device, vec![created, edit, other]).await;
    assert_eq!(
        again.results,
        vec![
            answer.results[0].clone(),
            answer.results[1].clone(),
            answer.results[3].clone()
        ]
    );
    assert_eq!(app.latest_revision().await, 3);
}

#[tokio::test]
async fn pulls_page_through_revisions_and_filter_by_unit() {
    let app = spawn_app().await;
    let device = new_device();
    let catalog = OrgCatalog::sonla();
    let list = catalog.list("sonla-2023").unwrap();
    let in_116: Vec<String> = list
        .children(&"116".parse_unit())
        .map(|u| u.code.to_string())
        .collect();
    let in_118: Vec<String> = list
        .children(&"118".parse_unit())
        .map(|u| u.code.to_string())
        .collect();
    assert!(in_116.len() >= 2 && in_118.len() >= 2);
    // 25 households: 15 in district 116 (Sơn La city), 10 in district 118 (Quỳnh Nhai)
    let mutations: Vec<_> = (0..25)
        .map(|i| {
            let unit = if i < 15 {
                &in_116[i % in_116.len()]
            } else {
                &in_118[i % in_118.len()]
            };
            create(device, new_household(unit))
        })
        .collect();
    let pushed = app.push(device, mutations).await;
    assert!(pushed
        .results
        .iter()
        .all(|r| matches!(r.outcome, Outcome::Applied { .. })));

    let mut seen = BTreeSet::new();
    let mut cursor: Option<String> = None;
    let mut pages = Vec::new();
    let mut last_revision = 0;
    for _ in 0..3 {
        let page = app.pull(cursor.as_deref(), 10, None).await;
        for record in &page.records {
            assert!(record.revision > last_revision, "ordered by revision");
            last_revision = record.revision;
            assert!(seen.insert(record.id), "no duplicates");
        }
        assert_eq!(page.next_cursor.0, last_revision.to_string());
        assert_ne!(
            cursor.as_deref(),
            Some(page.next_cursor.0.as_str()),
            "advances"
        );
        pages.push((page.records.len(), page.has_more));
        cursor = Some(page.next_cursor.0);
    }
    assert_eq!(pages, vec![(10, true), (10, true), (5, false)]);
    assert_eq!(seen.len(), 25);

    let end = app.pull(cursor.as_deref(), 10, None).await;
    assert!(end.records.is_empty());
    assert!(!end.has_more);
    assert_eq!(end.next_cursor.0, cursor.unwrap(), "cursor unchanged");

    let district = app.pull(None, 500, Some("116")).await;
    assert_eq!(district.records.len(), 15);
    assert!(district
        .records
        .iter()
        .all(|r| in_116.contains(&r.org_unit.to_string())));
    let commune = app.pull(None, 500, Some(&in_118[0])).await;
    assert!(!commune.records.is_empty());
    assert!(commune
        .records
        .iter()
        .all(|r| r.org_unit.as_str() == in_118[0]));
    let province = app.pull(None, 500, Some("14")).await;
    assert_eq!(province.records.len(), 25);

    // a commune of the 2025 list (03980 exists only there) takes records and filters too
    assert!(app.pull(None, 10, Some("03980")).await.records.is_empty());
    let pushed = app
        .push(device, vec![create(device, new_household("03980"))])
        .await;
    let new_id = pushed.results[0].record.as_ref().unwrap().id;
    let new_commune = app.pull(None, 10, Some("03980")).await;
    assert_eq!(new_commune.records.len(), 1);
    assert_eq!(new_commune.records[0].id, new_id);
    assert_eq!(app.pull(None, 500, Some("14")).await.records.len(), 26);
    assert_eq!(app.pull(None, 500, Some("116")).await.records.len(), 15);
}

#[tokio::test]
async fn an_invalid_household_is_rejected_and_stored_nowhere() {
    let app = spawn_app().await;
    let device = new_device();
    let id = RecordId(Uuid::now_v7());
    let bad = create(
        device,
        household(
            id,
            "03646",
            household_fields(json!({"income_per_person_month": -1})),
        ),
    );

    let answer = app.push(device, vec![bad.clone()]).await;
    let result = &answer.results[0];
    assert_eq!(result.mutation, bad.id);
    assert!(result.record.is_none());
    let Outcome::Rejected { errors } = &result.outcome else {
        panic!("rejected, got {:?}", result.outcome);
    };
    let error = errors
        .iter()
        .find(|e| e.field == "income_per_person_month")
        .expect("names the field");
    assert!(
        error
            .message_vi
            .chars()
            .any(|c| "ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệ".contains(c)),
        "a Vietnamese message: {}",
        error.message_vi
    );
    assert!(app.pull_all().await.is_empty(), "nothing stored");
    assert_eq!(app.latest_revision().await, 0);

    let again = app.push(device, vec![bad.clone()]).await;
    assert_eq!(again, answer, "the same answer to a repeat");

    // the person fixes it: a new mutation for the same record
    let fixed = create(device, household(id, "03646", household_fields(json!({}))));
    let answer = app.push(device, vec![fixed]).await;
    assert_eq!(answer.results[0].outcome, Outcome::Applied { revision: 1 });
    let records = app.pull_all().await;
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].id, id);
    assert_eq!(records[0].fields["income_per_person_month"], 1200000);
}

#[tokio::test]
async fn a_record_outside_the_known_communes_is_rejected() {
    let app = spawn_app().await;
    let device = new_device();
    // five digits, so the domain's own check passes, but no list has this commune
    let answer = app
        .push(device, vec![create(device, new_household("99999"))])
        .await;
    let Outcome::Rejected { errors } = &answer.results[0].outcome else {
        panic!("rejected, got {:?}", answer.results[0].outcome);
    };
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].field, "org_unit");
    // a district is not a commune either
    let answer = app
        .push(device, vec![create(device, new_household("116"))])
        .await;
    let Outcome::Rejected { errors } = &answer.results[0].outcome else {
        panic!("rejected, got {:?}", answer.results[0].outcome);
    };
    assert!(errors.iter().any(|e| e.field == "org_unit"));
    assert!(app.pull_all().await.is_empty());
}

#[tokio::test]
async fn concurrent_edits_conflict_on_the_same_field_and_merge_on_different_ones() {
    let app = spawn_app().await;
    let (a, b, c) = (new_device(), new_device(), new_device());
    let original = new_household("03646");
    let created = app.push(a, vec![create(a, original.clone())]).await;
    let base = created.results[0].record.clone().unwrap();
    assert_eq!(base.revision, 1);

    // B and C both start from revision 1 and change the head's name
    let mut on_b = base.clone();
    on_b.fields.insert("head_name".into(), json!("Lò Văn B"));
    let mut on_c = base.clone();
    on_c.fields.insert("head_name".into(), json!("Lò Văn C"));
    let from_b = mutation(b, on_b, 1, &["head_name"]);
    let from_c = mutation(c, on_c, 1, &["head_name"]);
    let first = app.push(b, vec![from_b.clone()]).await;
    assert!(matches!(first.results[0].outcome, Outcome::Applied { .. }));
    let second = app.push(c, vec![from_c.clone()]).await;
    let Outcome::Conflict {
        fields, revision, ..
    } = &second.results[0].outcome
    else {
        panic!("conflict, got {:?}", second.results[0].outcome);
    };
    assert_eq!(fields, &vec!["head_name".to_string()]);
    let record = second.results[0].record.clone().unwrap();
    assert_eq!(record.revision, *revision);
    let conflict = record
        .conflicts
        .iter()
        .find(|c| c.field == "head_name")
        .expect("the conflict is on the record");
    let values: BTreeSet<String> = conflict
        .versions
        .iter()
        .map(|v| v.value.to_string())
        .collect();
    assert_eq!(
        values,
        BTreeSet::from([json!("Lò Văn B").to_string(), json!("Lò Văn C").to_string()])
    );
    // the greater mutation id (the later edit) wins, whichever arrived first
    let winner = if from_c.id > from_b.id {
        "Lò Văn C"
    } else {
        "Lò Văn B"
    };
    assert_eq!(record.fields["head_name"], json!(winner));
    let pulled = app.pull_all().await;
    assert_eq!(pulled, vec![record.clone()], "pull shows the same record");

    // different fields from the same base: both kept
    let now = record.revision;
    let mut on_b = record.clone();
    on_b.fields.insert("village".into(), json!("Bản Mé"));
    on_b.conflicts.clear();
    let mut on_c = record.clone();
    on_c.fields.insert("floor_area_m2".into(), json!(55));
    on_c.conflicts.clear();
    let first = app
        .push(b, vec![mutation(b, on_b, now, &["village"])])
        .await;
    assert!(matches!(first.results[0].outcome, Outcome::Applied { .. }));
    let second = app
        .push(c, vec![mutation(c, on_c, now, &["floor_area_m2"])])
        .await;
    let Outcome::Merged {
        kept_from_server, ..
    } = &second.results[0].outcome
    else {
        panic!("merged, got {:?}", second.results[0].outcome);
    };
    assert!(kept_from_server.contains(&"village".to_string()));
    let merged = second.results[0].record.clone().unwrap();
    assert_eq!(merged.fields["village"], json!("Bản Mé"));
    assert_eq!(merged.fields["floor_area_m2"], json!(55));
}

#[tokio::test]
async fn request_problems_are_json_errors() {
    let app = spawn_app().await;
    let device = new_device();

    // protocol versions outside the range: see protocol_versions_outside_the_range_are_refused
    let response = app
        .post_json(
            "/api/sync/push",
            &json!({"protocol": 99, "device": device, "mutations": []}),
        )
        .await;
    assert_eq!(error_body(response, 400).await["code"], "server_outdated");

    // too many mutations in one push
    let many: Vec<_> = (0..=MAX_PUSH_BATCH)
        .map(|_| create(device, new_household("03646")))
        .collect();
    let response = app
        .post_json(
            "/api/sync/push",
            &json!({"protocol": 1, "device": device, "mutations": many}),
        )
        .await;
    assert_eq!(error_body(response, 413).await["code"], "batch_too_large");

    // a mutation of another device inside this device's push
    let foreign = create(new_device(), new_household("03646"));
    let response = app
        .post_json(
            "/api/sync/push",
            &json!({"protocol": 1, "device": device, "mutations": [foreign]}),
        )
        .await;
    assert_eq!(error_body(response, 400).await["code"], "device_mismatch");

    // truncated JSON
    let response = app
        .client
        .post(app.url("/api/sync/push"))
        .header("content-type", "application/json")
        .body(r#"{"protocol": 1, "device": "#)
        .send()
        .await
        .unwrap();
    let error = error_body(response, 400).await;
    assert_eq!(error["code"], "malformed_json");
    assert!(error["message_en"].as_str().unwrap().contains("EOF"));

    // an unknown field is named
    let response = app
        .post_json(
            "/api/sync/pull",
            &json!({"protocol": 1, "limit": 10, "since": "5"}),
        )
        .await;
    let error = error_body(response, 422).await;
    assert_eq!(error["code"], "invalid_request");
    assert!(error["message"].as_str().unwrap().contains("since"));

    // a wrong type
    let response = app
        .post_json("/api/sync/pull", &json!({"protocol": 1, "limit": "ten"}))
        .await;
    let error = error_body(response, 422).await;
    assert!(error["message_en"].as_str().unwrap().contains("limit"));

    // no content type
    let response = app
        .client
        .post(app.url("/api/sync/pull"))
        .body(r#"{"protocol": 1, "limit": 10}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(error_body(response, 415).await["code"], "content_type");

    // limits and cursors
    for limit in [0, 501] {
        let response = app
            .post_json("/api/sync/pull", &json!({"protocol": 1, "limit": limit}))
            .await;
        assert_eq!(error_body(response, 400).await["code"], "bad_limit");
    }
    for cursor in ["abc", "-1", "7"] {
        // "7": well formed, but this server has handed out no revision 7
        let response = app
            .post_json(
                "/api/sync/pull",
                &json!({"protocol": 1, "limit": 10, "cursor": cursor}),
            )
            .await;
        assert_eq!(
            error_body(response, 400).await["code"],
            "bad_cursor",
            "{cursor}"
        );
    }
    let response = app
        .post_json(
            "/api/sync/pull",
            &json!({"protocol": 1, "limit": 10, "org_unit": "99"}),
        )
        .await;
    assert_eq!(error_body(response, 400).await["code"], "unknown_org_unit");

    // unknown API route, wrong method
    let response = app.client.get(app.url("/api/nope")).send().await.unwrap();
    assert_eq!(error_body(response, 404).await["code"], "not_found");
    let response = app
        .client
        .get(app.url("/api/sync/push"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_body(response, 405).await["code"],
        "method_not_allowed"
    );

    assert!(app.pull_all().await.is_empty());
}

/// A version below every supported one: `OLDEST_SUPPORTED_PROTOCOL - 1`, which is 0 while the oldest
/// is 1 (no version 0 was ever made, so it is below the range all the same).
const TOO_OLD: u16 = OLDEST_SUPPORTED_PROTOCOL.saturating_sub(1);
const _: () = assert!(TOO_OLD < OLDEST_SUPPORTED_PROTOCOL);

#[tokio::test]
async fn a_push_in_the_oldest_supported_protocol_is_applied() {
    let app = spawn_app().await;
    let device = new_device();
    let m = create(device, new_household("03646"));
    let response = app
        .post_json(
            "/api/sync/push",
            &json!({"protocol": OLDEST_SUPPORTED_PROTOCOL, "device": device, "mutations": [m]}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let answer: PushResponse = response.json().await.unwrap();
    assert_eq!(answer.results[0].outcome, Outcome::Applied { revision: 1 });
    let records = app.pull_all().await;
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].id, m.record.id);
    // and a pull in it too
    let response = app
        .post_json(
            "/api/sync/pull",
            &json!({"protocol": OLDEST_SUPPORTED_PROTOCOL, "limit": 10}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let page: Value = response.json().await.unwrap();
    assert_eq!(page["records"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn protocol_versions_outside_the_range_are_refused() {
    let app = spawn_app().await;
    let device = new_device();
    let before = app.row_counts().await;
    for (version, code, says_vi, says_en) in [
        // an app newer than the server: the server must be updated, the app cannot help it
        (
            PROTOCOL_VERSION + 1,
            "server_outdated",
            "cập nhật máy chủ",
            "update the server",
        ),
        // an app older than the server still reads: it must be updated, and loses nothing
        (
            TOO_OLD,
            "app_outdated",
            "tải lại ứng dụng",
            "Reload the app",
        ),
    ] {
        let m = create(device, new_household("03646"));
        let response = app
            .post_json(
                "/api/sync/push",
                &json!({"protocol": version, "device": device, "mutations": [m]}),
            )
            .await;
        let error = error_body(response, 400).await;
        assert_eq!(error["code"], code, "push {version}");
        let message = error["message"].as_str().unwrap();
        assert!(message.contains(says_vi), "push {version}: {message}");
        assert!(message.contains("vẫn được giữ trên máy"), "{message}");
        let message_en = error["message_en"].as_str().unwrap();
        assert!(message_en.contains(says_en), "push {version}: {message_en}");

        let response = app
            .post_json("/api/sync/pull", &json!({"protocol": version, "limit": 10}))
            .await;
        assert_eq!(
            error_body(response, 400).await["code"],
            code,
            "pull {version}"
        );
    }
    assert_eq!(app.row_counts().await, before, "nothing stored");
    assert!(app.pull_all().await.is_empty());
    assert_eq!(app.latest_revision().await, 0);
}

#[tokio::test]
async fn a_body_over_one_mebibyte_is_refused_and_nothing_changes() {
    let app = spawn_app().await;
    let device = new_device();
    let mut big = new_household("03646");
    big.fields
        .insert("note".into(), json!("x".repeat(2 * 1024 * 1024)));
    let response = app
        .post_json(
            "/api/sync/push",
            &json!({"protocol": 1, "device": device, "mutations": [create(device, big)]}),
        )
        .await;
    let error = error_body(response, 413).await;
    assert_eq!(error["code"], "body_too_large");
    assert!(app.pull_all().await.is_empty());
    assert_eq!(app.latest_revision().await, 0);

    // the server still answers normally afterwards
    let answer = app
        .push(device, vec![create(device, new_household("03646"))])
        .await;
    assert!(matches!(
        answer.results[0].outcome,
        Outcome::Applied { revision: 1 }
    ));
}

trait ParseUnit {
    fn parse_unit(&self) -> thidua_domain::org::UnitCode;
}

impl ParseUnit for str {
    fn parse_unit(&self) -> thidua_domain::org::UnitCode {
        thidua_domain::org::UnitCode::parse(self).unwrap()
    }
}

#[tokio::test]
async fn concurrent_pushes_get_distinct_revisions_in_commit_order() {
    let app = spawn_app().await;
    // half the pushes go to a second server on the same database, as a second process would
    let other = app.another_server().await;
    let pushes = (0..8).map(|i| {
        let device = new_device();
        let mutations = (0..5)
            .map(|_| create(device, new_household("03646")))
            .collect();
        let request = serde_json::to_value(thidua_domain::protocol::PushRequest {
            protocol: PROTOCOL_VERSION,
            device,
            mutations,
        })
        .unwrap();
        let client = app.client.clone();
        let base = if i % 2 == 0 { &app.base } else { &other.base };
        let url = format!("{base}/api/sync/push");
        tokio::spawn(async move {
            let response = client.post(url).json(&request).send().await.unwrap();
            assert_eq!(response.status(), 200);
            response
                .json::<thidua_domain::protocol::PushResponse>()
                .await
                .unwrap()
        })
    });
    let mut revisions = Vec::new();
    for push in pushes.collect::<Vec<_>>() {
        let answer = push.await.unwrap();
        // one push's mutations are applied in order (another server's may come between them)
        let own: Vec<u64> = answer
            .results
            .iter()
            .map(|r| r.outcome.revision().unwrap())
            .collect();
        assert!(own.windows(2).all(|w| w[1] > w[0]), "{own:?}");
        revisions.extend(own);
    }
    revisions.sort();
    assert_eq!(revisions, (1..=40).collect::<Vec<u64>>());
    let pulled: Vec<u64> = app.pull_all().await.iter().map(|r| r.revision).collect();
    assert_eq!(pulled, (1..=40).collect::<Vec<u64>>());
}
