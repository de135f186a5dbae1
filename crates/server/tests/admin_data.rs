//! The province administrator's reference data: a later unit list uploaded and used at once (accounts,
//! pushes), refused lists that store nothing, criteria requirements and whole criteria and target sets,
//! all kept across a restart; stored data that no longer fits is skipped at start, not fatal. With two
//! server processes on one database, a change through either is in force on both at once, and changes
//! made through both at the same moment are all kept.

mod common;

use common::*;
use serde_json::{json, Value};
use sqlx::Connection;
use thidua_domain::criteria::{CriteriaSet, ValueKind};
use thidua_domain::protocol::{Outcome, PushRequest, PushResponse, PROTOCOL_VERSION};
use thidua_domain::targets::TargetSet;
use thidua_server::auth::Role;
use thidua_server::Database;

const LATER: &str = "sonla-2026-thu";

fn list_ids(body: &Value) -> Vec<String> {
    body["unit_lists"]
        .as_array()
        .expect("unit_lists")
        .iter()
        .map(|l| l["id"].as_str().unwrap().to_string())
        .collect()
}

fn find<'a>(body: &'a Value, key: &str, id: &str) -> &'a Value {
    body[key]
        .as_array()
        .unwrap_or_else(|| panic!("{key} in {body}"))
        .iter()
        .find(|item| item["id"] == id)
        .unwrap_or_else(|| panic!("{id} in {body}"))
}

async fn create_officer_of(app: &TestApp, username: &str, unit: &str) -> reqwest::Response {
    app.post_json(
        "/api/admin/users",
        &json!({
            "username": username,
            "display_name": "Cán bộ xã mới",
            "role": "commune_officer",
            "org_unit": unit,
            "password": "a long enough password",
        }),
    )
    .await
}

/// A server started afterwards on the same database, as after a restart: it reads what is stored.
async fn get_after_restart(app: &TestApp, path: &str) -> Value {
    let restarted = app.another_server().await;
    let response = app
        .client
        .get(format!("{}{path}", restarted.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "GET {path} after the restart");
    response.json().await.unwrap()
}

#[tokio::test]
async fn a_later_unit_list_is_in_force_at_once_and_after_a_restart() {
    let app = spawn_app().await;
    // before the upload, 90001 is nobody's commune
    let response = create_officer_of(&app, "xa.thunghiem", "90001").await;
    let error = error_body(response, 422).await;
    assert_eq!(error["fields"][0]["code"], "unknown_org_unit");

    // as a spreadsheet saves it: a byte order mark and Windows line ends
    let text = format!("\u{feff}{}", later_unit_list(LATER).replace('\n', "\r\n"));
    let response = app.upload_unit_list(None, &text).await;
    assert_eq!(response.status(), 201);
    let summary: Value = response.json().await.unwrap();
    assert_eq!(summary["id"], LATER);
    assert_eq!(summary["name"], "Tỉnh Sơn La (danh mục thử)");
    assert_eq!(summary["valid_from"], "2026-01-01");
    assert_eq!(summary["predecessor"], "sonla-2025-07");
    assert_eq!(summary["source"], "bộ kiểm thử của máy chủ");
    assert_eq!(summary["communes"], 2);
    assert_eq!(summary["districts"], 0);
    assert_eq!(summary["carried"], false);
    assert!(summary["uploaded_at"].as_i64().unwrap() > 0);

    let lists = app.get_json("/api/admin/unit-lists").await;
    assert_eq!(list_ids(&lists), ["sonla-2023", "sonla-2025-07", LATER]);
    let carried = find(&lists, "unit_lists", "sonla-2025-07");
    assert_eq!(carried["carried"], true);
    assert_eq!(carried["communes"], 75);
    assert_eq!(carried["districts"], 0);
    assert_eq!(find(&lists, "unit_lists", "sonla-2023")["districts"], 12);
    assert_eq!(find(&lists, "unit_lists", LATER), &summary);

    // the new commune is in force for accounts and pushes without a restart
    let response = create_officer_of(&app, "xa.thunghiem", "90001").await;
    assert_eq!(response.status(), 201);
    let token = app.login("xa.thunghiem", "a long enough password").await;
    let device = new_device();
    let record = new_household("90001");
    let response = app
        .push_as(&token, device, vec![create(device, record.clone())])
        .await;
    assert_eq!(response.status(), 200);
    let answer: PushResponse = response.json().await.unwrap();
    assert!(
        matches!(answer.results[0].outcome, Outcome::Applied { .. }),
        "{:?}",
        answer.results[0].outcome
    );
    // and the officer of 90001 writes only 90001
    let response = app
        .push_as(&token, device, vec![create(device, new_household("90002"))])
        .await;
    let answer: PushResponse = response.json().await.unwrap();
    assert!(matches!(
        answer.results[0].outcome,
        Outcome::Rejected { .. }
    ));
    // devices of any role download the uploaded list's text, to offer its communes offline
    let client = reqwest::Client::new();
    let devices: Value = client
        .get(format!("{}/api/unit-lists", app.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let downloaded = devices["unit_lists"].as_array().unwrap();
    assert_eq!(
        downloaded.len(),
        1,
        "only uploaded lists: the app carries the built-in ones"
    );
    assert_eq!(downloaded[0]["id"], LATER);
    let parsed =
        thidua_domain::org::UnitList::parse(downloaded[0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(parsed.communes().count(), 2);
    let anonymous = client
        .get(format!("{}/api/unit-lists", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);

    let pulled = app.pull_as(&token, None).await;
    let pulled: Value = pulled.json().await.unwrap();
    assert_eq!(pulled["records"].as_array().unwrap().len(), 1);
    assert_eq!(pulled["records"][0]["id"], json!(record.id));

    let after = get_after_restart(&app, "/api/admin/unit-lists").await;
    assert_eq!(after, lists, "the same lists after a restart");
}

#[tokio::test]
async fn refused_unit_lists_store_nothing() {
    let app = spawn_app().await;
    let before = app.row_counts().await;
    let refused = |text: String, status: u16| {
        let app = &app;
        async move {
            let response = app.upload_unit_list(None, &text).await;
            error_body(response, status).await
        }
    };

    // a bad line: the message names it
    let text = later_unit_list(LATER).replace("90002\tPhường", "90002\tLàng");
    let error = refused(text, 422).await;
    assert_eq!(error["code"], "invalid_unit_list");
    let message = error["message"].as_str().unwrap();
    assert!(message.contains("dòng 9"), "{message}");
    assert!(message.contains("Làng"), "{message}");
    assert!(error["message_en"].as_str().unwrap().contains("line 9"));

    // a commune of 2025 that goes nowhere
    let full = later_unit_list(LATER);
    let ninety_two = full.lines().nth(8).unwrap();
    let (head, codes) = ninety_two.rsplit_once('\t').unwrap();
    let (kept, dropped) = codes.rsplit_once(',').unwrap();
    let text = full.replace(ninety_two, &format!("{head}\t{kept}"));
    let error = refused(text, 422).await;
    assert_eq!(error["code"], "invalid_unit_list");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains(dropped),
        "names the orphan {dropped}: {message}"
    );

    // an unknown predecessor, and a merged_from code it does not have
    let text =
        later_unit_list(LATER).replace("predecessor: sonla-2025-07", "predecessor: sonla-2030");
    let error = refused(text, 422).await;
    assert!(error["message"].as_str().unwrap().contains("sonla-2030"));
    let text = later_unit_list(LATER).replace("\t14\t03646,", "\t14\t99999,03646,");
    let error = refused(text, 422).await;
    assert!(error["message"].as_str().unwrap().contains("99999"));

    // an id that cannot be an address
    let text = later_unit_list("Sơn La 2026");
    let error = refused(text, 422).await;
    assert_eq!(error["fields"][0]["field"], "id");

    // a carried list's id
    let text = later_unit_list("sonla-2025-07");
    assert_eq!(refused(text, 409).await["code"], "unit_list_exists");

    // not a TSV upload, or too big
    let response = app
        .client
        .post(app.url("/api/admin/unit-lists"))
        .json(&json!({"text": later_unit_list(LATER)}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_body(response, 415).await["code"], "content_type");
    let big = format!(
        "{}{}",
        later_unit_list(LATER),
        "# padding\n".repeat(110_000)
    );
    assert_eq!(refused(big, 413).await["code"], "body_too_large");
    // not UTF-8 (a file saved as Windows-1258): the line is named
    let mut bytes = later_unit_list(LATER).into_bytes();
    bytes.extend_from_slice(b"90003\tX\xe3\tC\xf4\t14\t\n");
    let response = app
        .client
        .post(app.url("/api/admin/unit-lists"))
        .header("content-type", "text/plain")
        .body(bytes)
        .send()
        .await
        .unwrap();
    let error = error_body(response, 422).await;
    assert!(error["message"].as_str().unwrap().contains("dòng 10"));

    // not an administrator
    let (_, officer) = app
        .user_with_token("o.03646", Role::CommuneOfficer, "03646")
        .await;
    let (_, supervisor) = app
        .user_with_token("s.116", Role::DistrictSupervisor, "116")
        .await;
    let before_roles = app.row_counts().await;
    for token in [&officer, &supervisor] {
        let response = app
            .upload_unit_list(Some(token), &later_unit_list(LATER))
            .await;
        assert_eq!(error_body(response, 403).await["code"], "forbidden");
    }
    assert_eq!(app.row_counts().await, before_roles);
    let lists = app.get_json("/api/admin/unit-lists").await;
    assert_eq!(list_ids(&lists), ["sonla-2023", "sonla-2025-07"]);
    let after: Vec<_> = app
        .row_counts()
        .await
        .into_iter()
        .filter(|(table, _)| !["users", "sessions"].contains(table))
        .collect();
    let before: Vec<_> = before
        .into_iter()
        .filter(|(table, _)| !["users", "sessions"].contains(table))
        .collect();
    assert_eq!(after, before, "nothing stored");

    // the same list twice: the second is a conflict
    let response = app.upload_unit_list(None, &later_unit_list(LATER)).await;
    assert_eq!(response.status(), 201);
    let response = app.upload_unit_list(None, &later_unit_list(LATER)).await;
    let error = error_body(response, 409).await;
    assert_eq!(error["code"], "unit_list_exists");
    assert!(error["message"].as_str().unwrap().contains(LATER));
}

#[tokio::test]
async fn a_requirement_is_stored_shown_and_kept() {
    let app = spawn_app().await;
    let path = "/api/admin/criteria-sets/ntm-2021-2025/requirements/1.1";
    let response = app
        .put_json(path, &json!({"requirement": {"equals": true}}))
        .await;
    assert_eq!(response.status(), 200);
    let indicator: Value = response.json().await.unwrap();
    assert_eq!(indicator["code"], "1.1");
    assert_eq!(indicator["kind"], "yes_no");
    assert_eq!(indicator["requirement"], json!({"equals": true}));

    // devices read it: any signed-in user
    let (_, officer) = app
        .user_with_token("o.03646", Role::CommuneOfficer, "03646")
        .await;
    let response = app
        .anon
        .get(app.url("/api/criteria-sets/ntm-2021-2025"))
        .bearer_auth(&officer)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let set: CriteriaSet = response.json().await.unwrap();
    assert_eq!(
        set.indicator("1.1").unwrap().requirement,
        Some(thidua_domain::criteria::Requirement::Equals(true))
    );
    let carried = CriteriaSet::ntm_2021_2025();
    assert_eq!(set.criteria.len(), carried.criteria.len());

    let sets = app.get_json("/api/admin/criteria-sets").await;
    let summary = find(&sets, "criteria_sets", "ntm-2021-2025").clone();
    assert_eq!(summary["criteria"], 19);
    assert_eq!(summary["indicators"], 55);
    assert_eq!(summary["configured"], 3, "two carried requirements and 1.1");
    assert_eq!(summary["first_year"], 2021);
    assert_eq!(summary["last_year"], 2025);
    assert_eq!(summary["carried"], true);
    assert!(summary["updated_at"].is_i64());

    // a requirement that does not suit the indicator, or is not a requirement at all
    let before = app.row_counts().await;
    let response = app
        .put_json(path, &json!({"requirement": {"at_least": 5}}))
        .await;
    let error = error_body(response, 422).await;
    assert_eq!(error["code"], "invalid_requirement");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains(r#"{"equals": true}"#),
        "says what suits: {error}"
    );
    for bad in [
        json!({"requirement": "met"}),
        json!({}),
        json!({"requirement": {"equals": "có"}}),
    ] {
        let response = app.put_json(path, &bad).await;
        assert_eq!(
            error_body(response, 422).await["code"],
            "invalid_requirement"
        );
    }
    // unknown set or indicator
    let response = app
        .put_json(
            "/api/admin/criteria-sets/ntm-2099/requirements/1.1",
            &json!({"requirement": null}),
        )
        .await;
    assert_eq!(
        error_body(response, 404).await["code"],
        "criteria_set_not_found"
    );
    let response = app
        .put_json(
            "/api/admin/criteria-sets/ntm-2021-2025/requirements/99.9",
            &json!({"requirement": null}),
        )
        .await;
    assert_eq!(
        error_body(response, 404).await["code"],
        "indicator_not_found"
    );
    assert_eq!(app.row_counts().await, before);
    let unchanged = app.get_json("/api/admin/criteria-sets").await;
    assert_eq!(unchanged, sets);

    // kept across a restart
    let after = get_after_restart(&app, "/api/criteria-sets/ntm-2021-2025").await;
    assert_eq!(serde_json::from_value::<CriteriaSet>(after).unwrap(), set);

    // and cleared with null
    let response = app.put_json(path, &json!({"requirement": null})).await;
    assert_eq!(response.status(), 200);
    let indicator: Value = response.json().await.unwrap();
    assert_eq!(indicator["requirement"], Value::Null);
}

/// A 2026–2030-shaped set: another id, years, and number of criteria than the carried one.
fn ntm_2026_2030() -> Value {
    json!({
        "id": "ntm-2026-2030",
        "name_vi": "Bộ tiêu chí quốc gia về xã nông thôn mới giai đoạn 2026–2030 (thử)",
        "name_en": "National new rural commune criteria 2026–2030 (test)",
        "legal_basis": "Quyết định 51/2025/QĐ-TTg",
        "first_year": 2026,
        "last_year": 2030,
        "groups": [{"id": "planning", "name_vi": "Quy hoạch", "name_en": "Planning"}],
        "criteria": [
            {"number": 1, "group": "planning", "name_vi": "Quy hoạch", "name_en": "Planning",
             "indicators": [
                {"code": "1.1", "name_vi": "Có quy hoạch", "name_en": "Has a plan", "kind": "yes_no",
                 "requirement": {"equals": true}},
                {"code": "1.2", "name_vi": "Tỷ lệ đường được cứng hoá", "name_en": "Paved roads",
                 "kind": "percent", "unit": "%"}
             ]},
            {"number": 2, "group": "planning", "name_vi": "Ghi chú", "name_en": "Notes",
             "indicators": [
                {"code": "2.1", "name_vi": "Ghi chú của xã", "name_en": "Commune notes", "kind": "text"}
             ]}
        ]
    })
}

#[tokio::test]
async fn a_criteria_set_of_another_shape_is_stored_and_listed() {
    let app = spawn_app().await;
    let path = "/api/admin/criteria-sets/ntm-2026-2030";
    let response = app.put_json(path, &ntm_2026_2030()).await;
    assert_eq!(response.status(), 201, "a new set");
    let summary: Value = response.json().await.unwrap();
    assert_eq!(summary["id"], "ntm-2026-2030");
    assert_eq!(summary["criteria"], 2);
    assert_eq!(summary["indicators"], 3);
    assert_eq!(summary["configured"], 1);
    assert_eq!(summary["first_year"], 2026);
    assert_eq!(summary["carried"], false);

    let sets = app.get_json("/api/admin/criteria-sets").await;
    let ids: Vec<&str> = sets["criteria_sets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["ntm-2021-2025", "ntm-2026-2030"]);
    assert_eq!(find(&sets, "criteria_sets", "ntm-2026-2030"), &summary);
    let full = app.get_json("/api/criteria-sets/ntm-2026-2030").await;
    assert_eq!(
        serde_json::from_value::<CriteriaSet>(full).unwrap(),
        CriteriaSet::from_json(&ntm_2026_2030().to_string()).unwrap()
    );

    // replaced whole: 200
    let mut changed = ntm_2026_2030();
    changed["criteria"][1]["indicators"][0]["requirement"] = json!("provided");
    let response = app.put_json(path, &changed).await;
    assert_eq!(response.status(), 200, "a replaced set");
    let summary: Value = response.json().await.unwrap();
    assert_eq!(summary["configured"], 2);

    // refused: another id than the address, a set its parser refuses, not JSON at all
    let before = app.row_counts().await;
    let response = app
        .put_json("/api/admin/criteria-sets/ntm-2031-2035", &ntm_2026_2030())
        .await;
    let error = error_body(response, 422).await;
    assert_eq!(error["code"], "invalid_criteria_set");
    assert_eq!(error["fields"][0]["code"], "id_mismatch");
    let mut duplicate = ntm_2026_2030();
    duplicate["criteria"][1]["number"] = json!(1);
    let error = error_body(app.put_json(path, &duplicate).await, 422).await;
    assert_eq!(error["code"], "invalid_criteria_set");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("số tiêu chí 1 bị trùng"),
        "the parser's reason: {error}"
    );
    let mut unsuited = ntm_2026_2030();
    unsuited["criteria"][0]["indicators"][1]["requirement"] = json!({"equals": true});
    let error = error_body(app.put_json(path, &unsuited).await, 422).await;
    assert!(error["message"].as_str().unwrap().contains("1.2"));
    let response = app
        .client
        .put(app.url(path))
        .header("content-type", "application/json")
        .body("{\"id\": \"ntm-2026-2030\",")
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_body(response, 422).await["code"],
        "invalid_criteria_set"
    );
    assert_eq!(app.row_counts().await, before);
    let (_, officer) = app
        .user_with_token("o.03646", Role::CommuneOfficer, "03646")
        .await;
    let response = app
        .anon
        .put(app.url(path))
        .bearer_auth(&officer)
        .json(&ntm_2026_2030())
        .send()
        .await
        .unwrap();
    assert_eq!(error_body(response, 403).await["code"], "forbidden");
    let response = app
        .anon
        .get(app.url("/api/criteria-sets/ntm-2099"))
        .bearer_auth(&officer)
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_body(response, 404).await["code"],
        "criteria_set_not_found"
    );

    let after = get_after_restart(&app, "/api/admin/criteria-sets").await;
    assert_eq!(
        find(&after, "criteria_sets", "ntm-2026-2030")["configured"],
        2
    );
}

#[tokio::test]
async fn a_changed_target_set_is_in_force() {
    let app = spawn_app().await;
    let carried = app.get_json("/api/target-sets/sonla-2023").await;
    assert_eq!(
        serde_json::from_value::<TargetSet>(carried.clone()).unwrap(),
        TargetSet::sonla_2023()
    );
    let sets = app.get_json("/api/admin/target-sets").await;
    let summary = find(&sets, "target_sets", "sonla-2023");
    assert_eq!(summary["targets"], 14);
    assert_eq!(summary["unit_list"], "sonla-2023");
    assert_eq!(summary["carried"], true);
    assert_eq!(summary["updated_at"], Value::Null);

    let mut changed = carried.clone();
    assert_ne!(changed["targets"][0]["value"], json!(8.0));
    changed["targets"][0]["value"] = json!(8.0);
    let response = app
        .put_json("/api/admin/target-sets/sonla-2023", &changed)
        .await;
    assert_eq!(response.status(), 200);
    let summary: Value = response.json().await.unwrap();
    assert_eq!(summary["carried"], true);
    assert!(summary["updated_at"].is_i64());

    let (_, supervisor) = app
        .user_with_token("s.116", Role::DistrictSupervisor, "116")
        .await;
    let response = app
        .anon
        .get(app.url("/api/target-sets/sonla-2023"))
        .bearer_auth(&supervisor)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let now: Value = response.json().await.unwrap();
    assert_eq!(now["targets"][0]["value"], json!(8.0));
    assert_eq!(
        serde_json::from_value::<TargetSet>(now.clone()).unwrap(),
        serde_json::from_value::<TargetSet>(changed.clone()).unwrap()
    );

    // refused: a unit list the server lacks, a period that ends before it starts
    let before = app.row_counts().await;
    let mut unknown_list = changed.clone();
    unknown_list["unit_list"] = json!("sonla-2030");
    let response = app
        .put_json("/api/admin/target-sets/sonla-2023", &unknown_list)
        .await;
    let error = error_body(response, 422).await;
    assert_eq!(error["code"], "invalid_target_set");
    assert_eq!(error["fields"][0]["field"], "unit_list");
    let mut backwards = changed.clone();
    backwards["period_end"] = json!("2022-12-31");
    let response = app
        .put_json("/api/admin/target-sets/sonla-2023", &backwards)
        .await;
    assert_eq!(
        error_body(response, 422).await["code"],
        "invalid_target_set"
    );
    assert_eq!(app.row_counts().await, before);

    // a new set against the 2025 list: 201
    let mut later = changed.clone();
    later["id"] = json!("sonla-2026");
    later["unit_list"] = json!("sonla-2025-07");
    let response = app
        .put_json("/api/admin/target-sets/sonla-2026", &later)
        .await;
    assert_eq!(response.status(), 201);

    let after = get_after_restart(&app, "/api/target-sets/sonla-2023").await;
    assert_eq!(after, now);
}

/// A raw connection to the test's database, to change what is stored behind the server's back.
async fn raw_db(app: &TestApp) -> sqlx::AnyConnection {
    sqlx::any::install_default_drivers();
    let url = match &app.database {
        Database::Sqlite(path) => format!("sqlite://{}", path.display()),
        Database::Postgres(url) => url.clone(),
    };
    sqlx::AnyConnection::connect(&url).await.unwrap()
}

#[tokio::test]
async fn stored_data_that_no_longer_fits_is_skipped_at_start() {
    let app = spawn_app().await;
    let response = app.upload_unit_list(None, &later_unit_list(LATER)).await;
    assert_eq!(response.status(), 201);
    let response = app
        .put_json(
            "/api/admin/criteria-sets/ntm-2021-2025/requirements/1.1",
            &json!({"requirement": {"equals": true}}),
        )
        .await;
    assert_eq!(response.status(), 200);

    // as after an upgrade that changed what the stored data relies on
    let mut db = raw_db(&app).await;
    let orphaning =
        later_unit_list(LATER).replace("predecessor: sonla-2025-07", "predecessor: sonla-2024");
    sqlx::query("UPDATE unit_lists SET text = $1 WHERE id = $2")
        .bind(orphaning)
        .bind(LATER)
        .execute(&mut db)
        .await
        .unwrap();
    sqlx::query("UPDATE criteria_sets SET json = $1 WHERE id = $2")
        .bind("{\"id\": \"ntm-2021-2025\"}")
        .bind("ntm-2021-2025")
        .execute(&mut db)
        .await
        .unwrap();
    db.close().await.unwrap();

    // the server still starts, with the carried data
    let restarted = app.another_server().await;
    let get = |path: &str| {
        let url = format!("{}{path}", restarted.base);
        let client = app.client.clone();
        async move {
            let response = client.get(url).send().await.unwrap();
            assert_eq!(response.status(), 200);
            response.json::<Value>().await.unwrap()
        }
    };
    let lists = get("/api/admin/unit-lists").await;
    assert_eq!(list_ids(&lists), ["sonla-2023", "sonla-2025-07"]);
    let set: CriteriaSet =
        serde_json::from_value(get("/api/criteria-sets/ntm-2021-2025").await).unwrap();
    assert_eq!(set, CriteriaSet::ntm_2021_2025());
}

#[tokio::test]
async fn an_upload_through_one_server_is_in_force_on_another_at_once() {
    let app = spawn_app().await;
    // a second process on the same database, running (with its copy of the lists read) before the
    // upload; sessions live in the database, so the administrator's token works on both
    let other = app.another_server().await;
    let on_other = |path: &str| format!("{}{path}", other.base);
    let officer = json!({
        "username": "xa.thunghiem",
        "display_name": "Cán bộ xã mới",
        "role": "commune_officer",
        "org_unit": "90001",
        "password": "a long enough password",
    });
    let response = app
        .client
        .post(on_other("/api/admin/users"))
        .json(&officer)
        .send()
        .await
        .unwrap();
    let error = error_body(response, 422).await;
    assert_eq!(error["fields"][0]["code"], "unknown_org_unit");

    let response = app.upload_unit_list(None, &later_unit_list(LATER)).await;
    assert_eq!(response.status(), 201);

    // the second process, not restarted: the new commune's officer, their sign-in and first push
    let response = app
        .client
        .post(on_other("/api/admin/users"))
        .json(&officer)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let response = app
        .anon
        .post(on_other("/api/auth/login"))
        .json(&json!({"username": "xa.thunghiem", "password": "a long enough password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let token = response.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let device = new_device();
    let push = PushRequest {
        protocol: PROTOCOL_VERSION,
        device,
        mutations: vec![create(device, new_household("90001"))],
    };
    let response = app
        .anon
        .post(on_other("/api/sync/push"))
        .bearer_auth(&token)
        .json(&push)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let answer: PushResponse = response.json().await.unwrap();
    assert!(
        matches!(answer.results[0].outcome, Outcome::Applied { .. }),
        "{:?}",
        answer.results[0].outcome
    );
    let lists: Value = app
        .client
        .get(on_other("/api/admin/unit-lists"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list_ids(&lists), ["sonla-2023", "sonla-2025-07", LATER]);

    // and the other way round: a requirement set through the second is used by the first
    let response = app
        .client
        .put(on_other(
            "/api/admin/criteria-sets/ntm-2021-2025/requirements/1.1",
        ))
        .json(&json!({"requirement": {"equals": true}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let set: CriteriaSet =
        serde_json::from_value(app.get_json("/api/criteria-sets/ntm-2021-2025").await).unwrap();
    assert_eq!(
        serde_json::to_value(&set.indicator("1.1").unwrap().requirement).unwrap(),
        json!({"equals": true})
    );
}

#[tokio::test]
async fn changes_through_two_servers_at_the_same_moment_are_all_kept() {
    let app = spawn_app().await;
    let other = app.another_server().await;
    // eight indicators without a requirement, each given one at the same moment, half through each
    // server: every change stores the whole set, so one built on a stale copy would undo another
    let carried = CriteriaSet::ntm_2021_2025();
    let wanted: Vec<(String, Value)> = carried
        .criteria
        .iter()
        .flat_map(|c| &c.indicators)
        .filter(|i| i.requirement.is_none())
        .take(8)
        .map(|i| {
            let requirement = match i.kind {
                ValueKind::YesNo => json!({"equals": true}),
                ValueKind::Percent => json!({"at_least": 90.0}),
                ValueKind::Number => json!({"at_least": 1.0}),
                ValueKind::Text => json!("provided"),
            };
            (i.code.clone(), requirement)
        })
        .collect();
    assert_eq!(wanted.len(), 8);
    let puts: Vec<_> = wanted
        .iter()
        .enumerate()
        .map(|(n, (code, requirement))| {
            let base = if n % 2 == 0 { &app.base } else { &other.base };
            let url = format!("{base}/api/admin/criteria-sets/ntm-2021-2025/requirements/{code}");
            let request = app
                .client
                .put(url)
                .json(&json!({ "requirement": requirement }));
            tokio::spawn(async move { request.send().await.unwrap().status() })
        })
        .collect();
    for put in puts {
        assert_eq!(put.await.unwrap(), 200);
    }
    for base in [&app.base, &other.base] {
        let set: CriteriaSet = app
            .client
            .get(format!("{base}/api/criteria-sets/ntm-2021-2025"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for (code, requirement) in &wanted {
            assert_eq!(
                &serde_json::to_value(&set.indicator(code).unwrap().requirement).unwrap(),
                requirement,
                "indicator {code} as {base} has it"
            );
        }
    }
}

/// An NTM assessment of `year` for 03646 with these indicator values.
fn assessment_of(year: &str, fields: Value) -> thidua_domain::protocol::Record {
    use thidua_domain::protocol::DataSet;
    unit_record(
        DataSet::NtmAssessment,
        "03646",
        year,
        serde_json::from_value(fields).unwrap(),
    )
}

#[tokio::test]
async fn devices_download_the_stored_sets_and_pushes_are_checked_against_the_set_of_their_year() {
    let app = spawn_app().await;
    let (_, officer) = app
        .user_with_token("o.03646", Role::CommuneOfficer, "03646")
        .await;
    let sets_as_officer = |have: Option<String>| {
        let request = app
            .anon
            .get(app.url("/api/reference-sets"))
            .bearer_auth(&officer);
        let request = match have {
            Some(v) => request.query(&[("have", v)]),
            None => request,
        };
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 200);
            response.json::<Value>().await.unwrap()
        }
    };

    // nothing stored yet: the device's carried sets are all there is
    let first = sets_as_officer(None).await;
    assert_eq!(first["criteria_sets"], json!([]));
    assert_eq!(first["target_sets"], json!([]));
    let v0 = first["version"].as_str().unwrap().to_string();
    let same = sets_as_officer(Some(v0.clone())).await;
    assert_eq!(same, json!({"version": v0, "unchanged": true}));

    // the province sets a requirement: devices holding the old version get the whole set
    let response = app
        .put_json(
            "/api/admin/criteria-sets/ntm-2021-2025/requirements/1.1",
            &json!({"requirement": {"equals": true}}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let changed = sets_as_officer(Some(v0.clone())).await;
    let v1 = changed["version"].as_str().unwrap().to_string();
    assert_ne!(v1, v0);
    let sets: Vec<CriteriaSet> = serde_json::from_value(changed["criteria_sets"].clone()).unwrap();
    assert_eq!(sets.len(), 1);
    assert_eq!(
        sets[0].indicator("1.1").unwrap().requirement,
        Some(thidua_domain::criteria::Requirement::Equals(true))
    );
    assert_eq!(sets[0].criteria.len(), 19);
    assert_eq!(sets_as_officer(Some(v1.clone())).await["unchanged"], true);
    assert_eq!(
        sets_as_officer(Some("not a version".into()))
            .await
            .get("criteria_sets")
            .map(|s| s.as_array().unwrap().len()),
        Some(1),
        "an unknown version gets the sets"
    );

    // a set for the next period and a changed target set come too
    let response = app
        .put_json("/api/admin/criteria-sets/ntm-2026-2030", &ntm_2026_2030())
        .await;
    assert_eq!(response.status(), 201);
    let mut targets = serde_json::to_value(TargetSet::sonla_2023()).unwrap();
    targets["targets"][0]["value"] = json!(70);
    let response = app
        .put_json("/api/admin/target-sets/sonla-2023", &targets)
        .await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    let both = sets_as_officer(Some(v1.clone())).await;
    let ids: Vec<&str> = both["criteria_sets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["ntm-2021-2025", "ntm-2026-2030"]);
    let target_sets: Vec<TargetSet> = serde_json::from_value(both["target_sets"].clone()).unwrap();
    assert_eq!(target_sets.len(), 1);
    assert_eq!(target_sets[0].targets[0].value, 70.0);

    // the server checks an assessment against the set of its year: 2.1 is a percentage until 2025
    // and a text in the 2026–2030 set
    let device = new_device();
    let push = |record| {
        let response = app.push_as(&officer, device, vec![create(device, record)]);
        async move {
            let response = response.await;
            assert_eq!(response.status(), 200);
            response.json::<PushResponse>().await.unwrap()
        }
    };
    let note = json!({"2.1": "Xã đã rà soát"});
    let answer = push(assessment_of("2026", note.clone())).await;
    assert!(
        matches!(answer.results[0].outcome, Outcome::Applied { .. }),
        "{:?}",
        answer.results[0].outcome
    );
    let answer = push(assessment_of("2023", note)).await;
    let Outcome::Rejected { errors } = &answer.results[0].outcome else {
        panic!(
            "a text for a percentage in 2023: {:?}",
            answer.results[0].outcome
        )
    };
    assert_eq!(errors[0].field, "2.1");
    // a year no set covers is checked against the NTM set
    let answer = push(assessment_of("2035", json!({"2.1": 80}))).await;
    assert!(
        matches!(answer.results[0].outcome, Outcome::Applied { .. }),
        "{:?}",
        answer.results[0].outcome
    );
}

#[tokio::test]
async fn a_target_the_province_adds_is_reported_in_its_years_and_refused_in_others() {
    use thidua_domain::protocol::{DataSet, Fields};
    let app = spawn_app().await;
    // the province's 2026 set: the directive's targets and health insurance coverage, a rate
    let mut set = app.get_json("/api/target-sets/sonla-2023").await;
    set["id"] = json!("sonla-2026");
    set["name_vi"] = json!("Chỉ tiêu thi đua năm 2026");
    set["unit_list"] = json!("sonla-2025-07");
    set["period_start"] = json!("2026-01-01");
    set["period_end"] = json!("2026-12-31");
    let mut insurance = set["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["key"] == "schools_national_standard")
        .unwrap()
        .clone();
    insurance["key"] = json!("health_insurance_coverage");
    insurance["name_vi"] = json!("Tỷ lệ dân số tham gia bảo hiểm y tế");
    insurance["name_en"] = json!("Health insurance coverage");
    insurance["value"] = json!(95.0);
    insurance["measure"]["rate"]["numerator_vi"] = json!("Số người có thẻ bảo hiểm y tế");
    insurance["measure"]["rate"]["denominator_vi"] = json!("Dân số");
    set["targets"].as_array_mut().unwrap().push(insurance);
    let response = app
        .put_json("/api/admin/target-sets/sonla-2026", &set)
        .await;
    assert_eq!(response.status(), 201);

    let report = |unit: &str, period: &str, n: i64, d: i64| {
        let mut fields = Fields::new();
        fields.insert(
            "health_insurance_coverage".into(),
            json!({"numerator": n, "denominator": d}),
        );
        unit_record(DataSet::IndicatorReport, unit, period, fields)
    };
    let device = new_device();
    let answer = app
        .push(
            device,
            vec![create(device, report("03646", "2026", 4_700, 5_000))],
        )
        .await;
    assert!(
        matches!(answer.results[0].outcome, Outcome::Applied { .. }),
        "{:?}",
        answer.results[0].outcome
    );
    // checked by the set's own rule: a part above its total, in the set's words
    let other = new_device();
    let over = report("03649", "2026", 5_200, 5_000);
    let answer = app.push(other, vec![create(other, over)]).await;
    let Outcome::Rejected { errors } = &answer.results[0].outcome else {
        panic!("refused, got {:?}", answer.results[0].outcome);
    };
    assert_eq!(errors[0].code, "part_exceeds_total");
    assert!(
        errors[0]
            .message_vi
            .contains("Số người có thẻ bảo hiểm y tế"),
        "{}",
        errors[0].message_vi
    );
    // 2023's directive has no such target: refused there
    let answer = app
        .push(
            device,
            vec![create(device, report("03646", "2023", 4_700, 5_000))],
        )
        .await;
    let Outcome::Rejected { errors } = &answer.results[0].outcome else {
        panic!("refused, got {:?}", answer.results[0].outcome);
    };
    assert_eq!(errors[0].code, "unknown_target");
}
