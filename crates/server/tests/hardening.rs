//! Hostile input and the headers every answer carries (see common/mod.rs for the server and database).

mod common;

use std::time::{Duration, SystemTime};

use base64::Engine;
use common::*;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use thidua_domain::protocol::Outcome;

const SQL: &str = "'); DROP TABLE records;--";
const SCRIPT: &str = "<script>alert(1)</script>";

/// Sends raw bytes as JSON with the administrator's token.
async fn post_raw(app: &TestApp, path: &str, body: Vec<u8>) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("sent")
}

#[tokio::test]
async fn malformed_bodies_are_json_errors_and_change_nothing() {
    let app = spawn_app().await;
    // something to lose: a record and its answer
    let device = new_device();
    app.push(device, vec![create(device, new_household("03646"))])
        .await;
    let before = app.row_counts().await;

    let push = json!({"protocol": 1, "device": device, "mutations": [create(device, new_household("03646"))]})
        .to_string();
    let truncated = push.as_bytes()[..push.len() / 2].to_vec();
    let mut invalid_utf8 = br#"{"username": "xa."#.to_vec();
    invalid_utf8.extend([0xff, 0xfe, 0xc3]);
    invalid_utf8.extend(br#"", "password": "whatever1"}"#);
    let mut invalid_push = br#"{"protocol": 1, "device": ""#.to_vec();
    invalid_push.extend([0xff, 0xfe, 0xc3]);
    invalid_push.extend(br#"", "mutations": []}"#);
    let cases: Vec<(&str, &str, Vec<u8>, u16)> = vec![
        ("truncated push", "/api/sync/push", truncated.clone(), 400),
        (
            "truncated login",
            "/api/auth/login",
            b"{\"username\": \"te".to_vec(),
            400,
        ),
        (
            "truncated user",
            "/api/admin/users",
            b"{\"username\":".to_vec(),
            400,
        ),
        (
            "wrong type",
            "/api/sync/push",
            json!({"protocol": "one", "device": device, "mutations": []})
                .to_string()
                .into_bytes(),
            422,
        ),
        (
            "wrong type in a record",
            "/api/sync/push",
            push.replace("\"revision\":0", "\"revision\":\"zero\"")
                .into_bytes(),
            422,
        ),
        (
            "wrong type login",
            "/api/auth/login",
            json!({"username": ["a"], "password": 5})
                .to_string()
                .into_bytes(),
            422,
        ),
        (
            "unknown field pull",
            "/api/sync/pull",
            json!({"protocol": 1, "limit": 10, "as_admin": true})
                .to_string()
                .into_bytes(),
            422,
        ),
        (
            "unknown field login",
            "/api/auth/login",
            json!({"username": ADMIN, "password": PASSWORD, "role": "province_admin"})
                .to_string()
                .into_bytes(),
            422,
        ),
        (
            "unknown field user",
            "/api/admin/users",
            json!({"username": "new.one", "display_name": "X", "role": "commune_officer",
                   "org_unit": "03646", "password": "long enough", "active": false})
            .to_string()
            .into_bytes(),
            422,
        ),
        (
            "invalid UTF-8 login",
            "/api/auth/login",
            invalid_utf8.clone(),
            400,
        ),
        ("invalid UTF-8 push", "/api/sync/push", invalid_push, 400),
        (
            "not JSON",
            "/api/sync/pull",
            b"protocol=1&limit=10".to_vec(),
            400,
        ),
        ("empty", "/api/admin/users", Vec::new(), 400),
    ];
    assert!(
        push.contains("\"revision\":0"),
        "the wrong-type case edits a real field"
    );
    for (name, path, body, status) in cases {
        let response = post_raw(&app, path, body).await;
        assert_eq!(response.status(), status, "{name}");
        let error = error_body(response, status).await;
        assert!(
            ["malformed_json", "invalid_request"].contains(&error["code"].as_str().unwrap()),
            "{name}: {error}"
        );
        assert_eq!(app.row_counts().await, before, "{name}: database unchanged");
    }

    // 10 MB: refused at 1 MiB, before anything is parsed or stored
    let huge = format!(
        "{{\"protocol\": 1, \"device\": \"{}\", \"mutations\": [], \"pad\": \"{}\"}}",
        device.0,
        "x".repeat(10 * 1024 * 1024)
    );
    for path in ["/api/sync/push", "/api/auth/login", "/api/admin/users"] {
        let response = post_raw(&app, path, huge.clone().into_bytes()).await;
        assert_eq!(
            error_body(response, 413).await["code"],
            "body_too_large",
            "{path}"
        );
        assert_eq!(app.row_counts().await, before, "{path}: database unchanged");
    }
    // and the server carries on
    assert_eq!(app.pull_all().await.len(), 1);
}

#[tokio::test]
async fn sql_and_markup_in_names_are_kept_as_plain_text() {
    let app = spawn_app().await;
    let before = app.row_counts().await;

    // in a username they are refused by the username rules
    let response = app
        .client
        .post(app.url("/api/admin/users"))
        .json(
            &json!({"username": SQL, "display_name": "X", "role": "commune_officer",
                      "org_unit": "03646", "password": "long enough"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_body(response, 422).await["fields"][0]["field"],
        "username"
    );
    // at login they are an unknown name
    for name in [SQL, "' OR '1'='1", SCRIPT] {
        let response = app.try_login(name, "' OR '1'='1").await;
        assert_eq!(
            error_body(response, 401).await["code"],
            "invalid_credentials"
        );
    }
    assert_eq!(app.row_counts().await, before);

    // in display names and household names they are data, stored and answered byte for byte
    for (i, name) in [SQL, SCRIPT].into_iter().enumerate() {
        let response = app
            .client
            .post(app.url("/api/admin/users"))
            .json(&json!({"username": format!("odd.name{i}"), "display_name": name,
                          "role": "commune_officer", "org_unit": "03646", "password": "long enough"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        assert!(response
            .headers()
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("application/json"));
        let created: Value = response.json().await.unwrap();
        assert_eq!(created["display_name"], name);
        let token = app.login(&format!("odd.name{i}"), "long enough").await;
        let me: Value = app
            .anon
            .get(app.url("/api/auth/me"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(me["display_name"], name);
    }
    let list: Value = app
        .client
        .get(app.url("/api/admin/users"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = list["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["display_name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&SQL) && names.contains(&SCRIPT), "{names:?}");

    let device = new_device();
    let mut households = Vec::new();
    for (head, village) in [(SQL, SCRIPT), (SCRIPT, SQL)] {
        households.push(create(
            device,
            household(
                thidua_domain::protocol::RecordId(uuid::Uuid::now_v7()),
                "03646",
                household_fields(json!({"head_name": head, "village": village})),
            ),
        ));
    }
    let answer = app.push(device, households).await;
    assert!(answer
        .results
        .iter()
        .all(|r| matches!(r.outcome, Outcome::Applied { .. })));
    let records = app.pull_all().await;
    assert_eq!(records.len(), 2, "the records table is still there");
    let heads: Vec<&Value> = records.iter().map(|r| &r.fields["head_name"]).collect();
    assert_eq!(heads, vec![&json!(SQL), &json!(SCRIPT)]);
    assert_eq!(records[0].fields["village"], json!(SCRIPT));
}

/// A dist folder like trunk's: index.html with one inline module script.
const INLINE: &str = "\nimport init, * as bindings from '/thidua-app-0123456789abcdef.js';\nconst wasm = await init({ module_or_path: '/thidua-app-0123456789abcdef_bg.wasm' });\n";

fn index_with(script: &str) -> String {
    format!(
        "<!DOCTYPE html><html><head><link rel=\"stylesheet\" href=\"/main-0123456789abcdef.css\" \
         integrity=\"sha384-x\"/><script type=\"module\">{script}</script>\
         <script src=\"/sw-register.js\"></script></head><body></body></html>"
    )
}

fn sha256_source(script: &str) -> String {
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(script.as_bytes()))
    )
}

fn assert_security_headers(response: &reqwest::Response, context: &str) -> String {
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .unwrap_or_else(|| panic!("{context}: {name} missing"))
            .to_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(header("x-content-type-options"), "nosniff", "{context}");
    assert_eq!(header("referrer-policy"), "no-referrer", "{context}");
    assert_eq!(header("x-frame-options"), "DENY", "{context}");
    assert_eq!(
        header("permissions-policy"),
        "camera=(self), microphone=(), geolocation=(self)",
        "{context}"
    );
    let csp = header("content-security-policy");
    for directive in [
        "default-src 'self'",
        "script-src 'self' 'wasm-unsafe-eval'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "worker-src 'self'",
        "manifest-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ] {
        assert!(csp.contains(directive), "{context}: {directive} in {csp}");
    }
    assert!(!csp.contains("unsafe-inline"), "{context}: {csp}");
    for name in response.headers().keys() {
        assert!(
            !name.as_str().starts_with("access-control-"),
            "{context}: no CORS header, got {name}"
        );
    }
    csp
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let app = spawn_app_with(|dist| {
        std::fs::write(dist.join("index.html"), index_with(INLINE)).unwrap();
    })
    .await;
    let hash = sha256_source(INLINE);

    let page = app.anon.get(app.url("/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let csp = assert_security_headers(&page, "/");
    assert!(
        csp.contains(&format!("script-src 'self' 'wasm-unsafe-eval' {hash};")),
        "{csp}"
    );
    assert_eq!(
        csp.matches("'sha256-").count(),
        1,
        "only the inline script: {csp}"
    );

    let health = app.anon.get(app.url("/api/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert_security_headers(&health, "/api/health");
    let not_found = app.anon.get(app.url("/api/nope")).send().await.unwrap();
    assert_eq!(not_found.status(), 404);
    assert_security_headers(&not_found, "404");
    let unauthorized = app.anon.get(app.url("/api/auth/me")).send().await.unwrap();
    assert_eq!(unauthorized.status(), 401);
    assert_security_headers(&unauthorized, "401");
    let missing = app
        .anon
        .get(app.url("/missing-0123456789abcdef.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    assert_security_headers(&missing, "missing file");

    // the app rebuilt while the server runs: the new inline script's hash replaces the old one
    let rebuilt = INLINE.replace("0123456789abcdef", "fedcba9876543210");
    let index = app.dist_dir().join("index.html");
    std::fs::write(&index, index_with(&rebuilt)).unwrap();
    let later = SystemTime::now() + Duration::from_secs(5);
    std::fs::File::options()
        .write(true)
        .open(&index)
        .unwrap()
        .set_modified(later)
        .unwrap();
    let page = app.anon.get(app.url("/")).send().await.unwrap();
    let csp = assert_security_headers(&page, "after a rebuild");
    assert!(csp.contains(&sha256_source(&rebuilt)), "{csp}");
    assert!(!csp.contains(&hash), "{csp}");
}

#[tokio::test]
async fn without_a_built_app_the_policy_allows_no_inline_script() {
    let app = spawn_app().await;
    let page = app.anon.get(app.url("/")).send().await.unwrap();
    let csp = assert_security_headers(&page, "no dist");
    assert!(!csp.contains("'sha256-"), "{csp}");
}

#[tokio::test]
async fn cross_origin_requests_get_no_cors_headers() {
    let app = spawn_app().await;
    for path in ["/api/sync/push", "/api/auth/login", "/api/health"] {
        let preflight = app
            .anon
            .request(reqwest::Method::OPTIONS, app.url(path))
            .header("origin", "https://evil.example")
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization, content-type",
            )
            .send()
            .await
            .unwrap();
        assert!(
            preflight
                .headers()
                .get("access-control-allow-origin")
                .is_none(),
            "{path}"
        );
        assert_security_headers(&preflight, path);
    }
    // a simple cross-origin request is answered, but the browser is not allowed to read it
    let response = app
        .client
        .post(app.url("/api/sync/pull"))
        .header("origin", "https://evil.example")
        .json(&json!({"protocol": 1, "limit": 10}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_security_headers(&response, "cross-origin pull");
}
