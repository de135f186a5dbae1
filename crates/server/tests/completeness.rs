//! Completeness: which communes submitted each data set for the period, the last sync of each
//! device, and the communes that have not synced for N days. Against the real server and database.

mod common;

use common::*;
use serde_json::{json, Value};
use thidua_domain::protocol::{PullRequest, PROTOCOL_VERSION};
use thidua_server::auth::Role;

async fn completeness(app: &TestApp, token: &str, query: &str) -> reqwest::Response {
    app.anon
        .get(app.url(&format!("/api/completeness?{query}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn completeness_ok(app: &TestApp, token: &str, query: &str) -> Value {
    let response = completeness(app, token, query).await;
    assert_eq!(response.status(), 200, "{query}");
    response.json().await.unwrap()
}

fn commune<'a>(body: &'a Value, code: &str) -> &'a Value {
    body["communes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == code)
        .unwrap_or_else(|| panic!("commune {code}"))
}

/// A pull naming its device in the header (or not).
async fn pull_with_device(app: &TestApp, token: &str, device: Option<&str>) {
    let request = PullRequest {
        protocol: PROTOCOL_VERSION,
        cursor: None,
        limit: 10,
        org_unit: None,
    };
    let mut builder = app
        .anon
        .post(app.url("/api/sync/pull"))
        .bearer_auth(token)
        .json(&request);
    if let Some(device) = device {
        builder = builder.header("X-Thidua-Device", device);
    }
    assert_eq!(builder.send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn communes_submissions_devices_and_the_stale_ones() {
    let app = spawn_app().await;
    let (officer_user, officer) = app
        .user_with_token("o.03646", Role::CommuneOfficer, "03646")
        .await;
    let (_, supervisor) = app
        .user_with_token("s.116", Role::DistrictSupervisor, "116")
        .await;
    let (_, other) = app
        .user_with_token("s.118", Role::DistrictSupervisor, "118")
        .await;
    let before = thidua_server::auth::unix_now();

    // 03646's tablet pushes two households; a second tablet only pulls, naming itself
    let tablet = new_device();
    let response = app
        .push_as(
            &officer,
            tablet,
            vec![
                create(tablet, new_household("03646")),
                create(tablet, new_household("03646")),
            ],
        )
        .await;
    assert_eq!(response.status(), 200);
    let reader = new_device();
    pull_with_device(&app, &officer, Some(&reader.to_string())).await;
    let response = app
        .post_json(
            "/api/submissions",
            &json!({"org_unit": "03646", "period": "2023", "data_set": "household"}),
        )
        .await;
    assert_eq!(response.status(), 201);
    // the supervisor's own pulls are not a commune's device
    pull_with_device(&app, &supervisor, Some(&new_device().to_string())).await;

    let body = completeness_ok(&app, &supervisor, "period=2023&unit=116").await;
    assert_eq!(body["stale_days"], 7);
    assert_eq!(body["unit"]["code"], "116");
    let communes = body["communes"].as_array().unwrap();
    assert_eq!(communes.len(), 12);
    let c = commune(&body, "03646");
    assert_eq!(c["full_name"], "Phường Chiềng Lề");
    assert_eq!(c["district"]["code"], "116");
    assert_eq!(c["submissions"]["household"]["state"], "submitted");
    assert_eq!(c["submissions"]["household"]["record_count"], 2);
    assert_eq!(c["submissions"]["ntm_assessment"]["state"], "none");
    assert_eq!(c["records"]["household"], 2);
    assert_eq!(c["stale"], false);
    let devices = c["devices"].as_array().unwrap();
    assert_eq!(devices.len(), 2);
    let pushed = devices
        .iter()
        .find(|d| d["device"] == tablet.to_string())
        .unwrap();
    assert_eq!(pushed["username"], "o.03646");
    assert_eq!(pushed["user_id"], officer_user.id.as_str());
    assert_eq!(pushed["display_name"], "Người dùng o.03646");
    assert!(pushed["last_push_at"].as_i64().unwrap() >= before);
    assert_eq!(pushed["last_pull_at"], Value::Null);
    let pulled = devices
        .iter()
        .find(|d| d["device"] == reader.to_string())
        .unwrap();
    assert!(pulled["last_pull_at"].as_i64().unwrap() >= before);
    assert_eq!(pulled["last_push_at"], Value::Null);
    assert!(c["last_sync_at"].as_i64().unwrap() >= before);
    // 03649 never synced: stale, no device
    let quiet = commune(&body, "03649");
    assert_eq!(quiet["stale"], true);
    assert_eq!(quiet["last_sync_at"], Value::Null);
    assert_eq!(quiet["devices"], json!([]));
    assert_eq!(quiet["submissions"]["household"]["state"], "none");
    assert_eq!(body["summary"]["communes"], 12);
    assert_eq!(body["summary"]["stale"], 11);
    assert_eq!(body["summary"]["never_synced"], 11);
    assert_eq!(body["summary"]["submissions"]["household"]["submitted"], 1);
    assert_eq!(body["summary"]["submissions"]["household"]["none"], 11);

    // a pull without the header refreshes the devices that pushed with this session
    pull_with_device(&app, &officer, None).await;
    let body = completeness_ok(&app, &supervisor, "period=2023&unit=03646").await;
    let devices = commune(&body, "03646")["devices"]
        .as_array()
        .unwrap()
        .clone();
    let pushed = devices
        .iter()
        .find(|d| d["device"] == tablet.to_string())
        .unwrap();
    assert!(pushed["last_pull_at"].as_i64().unwrap() >= before);

    // ten days on, a week without sync is stale, a month is not yet
    let later =
        thidua_server::dashboard::day_of_unix(thidua_server::auth::unix_now() + 10 * 86_400);
    let body = completeness_ok(
        &app,
        &supervisor,
        &format!("period=2023&unit=116&as_of={}", later.as_str()),
    )
    .await;
    assert_eq!(commune(&body, "03646")["stale"], true);
    let body = completeness_ok(
        &app,
        &supervisor,
        &format!(
            "period=2023&unit=116&stale_days=30&as_of={}",
            later.as_str()
        ),
    )
    .await;
    assert_eq!(commune(&body, "03646")["stale"], false);

    // the province sees all 204; the officer its commune; other districts nothing of 116
    let all = completeness_ok(&app, &app.admin_token, "period=2023&unit=14").await;
    assert_eq!(all["communes"].as_array().unwrap().len(), 204);
    let own = completeness_ok(&app, &officer, "period=2023").await;
    assert_eq!(own["communes"].as_array().unwrap().len(), 1);
    let response = completeness(&app, &other, "period=2023&unit=116").await;
    assert_eq!(error_body(response, 403).await["code"], "out_of_scope");
    let response = completeness(&app, &officer, "period=2023&unit=03649").await;
    assert_eq!(error_body(response, 403).await["code"], "out_of_scope");
    for (query, status, code) in [
        (
            "period=2023&unit=116&stale_days=0",
            400,
            "invalid_stale_days",
        ),
        ("period=2023&unit=116&stale_days=x", 400, "invalid_query"),
        ("period=x&unit=116", 400, "invalid_period"),
        ("period=2023&unit=99999", 404, "unknown_unit"),
    ] {
        let response = completeness(&app, &supervisor, query).await;
        assert_eq!(error_body(response, status).await["code"], code, "{query}");
    }
    // under the 2025 structure each old commune names the new one holding its records
    let body = completeness_ok(
        &app,
        &app.admin_token,
        "period=2023&unit=03646&structure=2025",
    )
    .await;
    let codes: Vec<&str> = body["communes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["03646", "03649", "03652", "03655"]);
    assert_eq!(
        commune(&body, "03649")["holder"]["full_name"],
        "Phường Tô Hiệu"
    );
}
