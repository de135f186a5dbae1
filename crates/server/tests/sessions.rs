//! Logging in and out, tokens that must not work, deactivated accounts, the failed-login limits and
//! the administrators' account API (see common/mod.rs for the server and database behind it).

mod common;

use std::time::Duration;

use common::*;
use serde_json::{json, Value};
use thidua_server::auth::{unix_now, Role, SessionToken};
use thidua_server::config::LoginLimits;

async fn me(app: &TestApp, token: &str) -> reqwest::Response {
    app.anon
        .get(app.url("/api/auth/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn assert_unauthorized(response: reqwest::Response, context: &str) {
    assert_eq!(
        response
            .headers()
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap()),
        Some("Bearer"),
        "{context}"
    );
    let error = error_body(response, 401).await;
    assert_eq!(error["code"], "unauthorized", "{context}");
    assert_eq!(
        error["message"],
        "Phiên đăng nhập đã hết hạn hoặc không hợp lệ. Hãy đăng nhập lại; dữ liệu trên máy vẫn còn.",
        "{context}"
    );
}

#[tokio::test]
async fn login_answers_a_token_its_expiry_and_the_user() {
    let app = spawn_app().await;
    let user = app
        .create_user("xa.tohieu", Role::CommuneOfficer, "03646")
        .await;
    // the username is matched lower-case, spaces around it ignored
    let response = app.try_login(" Xa.ToHieu ", PASSWORD).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let token = body["token"].as_str().unwrap();
    assert_eq!(token.len(), 43, "32 random bytes, base64url");
    let expires_at = body["expires_at"].as_i64().unwrap();
    let week = 168 * 3600;
    assert!((expires_at - unix_now() - week).abs() <= 5, "{expires_at}");
    assert_eq!(
        body["user"],
        json!({"id": user.id, "username": "xa.tohieu", "display_name": user.display_name,
               "role": "commune_officer", "org_unit": "03646"})
    );

    let response = me(&app, token).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap(), body["user"]);

    // the database holds only the token's hash
    let state = &app.state;
    let by_hash = state
        .store
        .session_user(&hash_of(token), unix_now())
        .await
        .unwrap();
    assert_eq!(by_hash.unwrap().id, user.id);
    assert!(state
        .store
        .session_user(token, unix_now())
        .await
        .unwrap()
        .is_none());
}

fn hash_of(token: &str) -> String {
    // the server's own parsing and hashing
    let mut map = axum::http::HeaderMap::new();
    map.insert(
        axum::http::header::AUTHORIZATION,
        format!("Bearer {token}").parse().unwrap(),
    );
    SessionToken::from_headers(&map).unwrap().hash()
}

#[tokio::test]
async fn wrong_passwords_and_unknown_users_get_the_same_answer() {
    let app = spawn_app().await;
    let wrong = app.try_login(ADMIN, "not the password").await;
    let wrong = error_body(wrong, 401).await;
    let unknown = app.try_login("nobody.here", PASSWORD).await;
    let unknown = error_body(unknown, 401).await;
    let malformed = app.try_login("x", "").await;
    let malformed = error_body(malformed, 401).await;
    assert_eq!(wrong["code"], "invalid_credentials");
    assert_eq!(wrong, unknown);
    assert_eq!(wrong, malformed);
}

#[tokio::test]
async fn forged_and_malformed_tokens_are_refused() {
    let app = spawn_app().await;
    let forged = SessionToken::generate();
    assert_unauthorized(me(&app, forged.as_str()).await, "forged").await;

    let valid = app.admin_token.clone();
    for header in [
        String::new(),
        "Bearer".to_string(),
        "Bearer ".to_string(),
        format!("Basic {valid}"),
        format!("Bearer {valid}x"),
        format!("Bearer {}", &valid[1..]),
        format!("Bearer {valid} extra"),
        format!(
            "Bearer {}",
            valid.replace(|c: char| c.is_ascii_alphabetic(), "!")
        ),
        valid.clone(),
    ] {
        let response = app
            .anon
            .get(app.url("/api/auth/me"))
            .header("authorization", header.clone())
            .send()
            .await
            .unwrap();
        assert_unauthorized(response, &format!("header «{header}»")).await;
    }
    // no header at all, on every protected route
    for (method, path) in [
        ("POST", "/api/sync/push"),
        ("POST", "/api/sync/pull"),
        ("POST", "/api/auth/logout"),
        ("GET", "/api/auth/me"),
        ("GET", "/api/admin/users"),
        ("POST", "/api/admin/users"),
        ("POST", "/api/admin/users/x/revoke-sessions"),
        ("POST", "/api/admin/users/x/deactivate"),
        ("GET", "/api/submissions"),
        ("POST", "/api/submissions"),
        ("POST", "/api/submissions/x/accept"),
        ("POST", "/api/submissions/x/return"),
        ("GET", "/api/admin/unit-lists"),
        ("POST", "/api/admin/unit-lists"),
        ("GET", "/api/admin/criteria-sets"),
        ("PUT", "/api/admin/criteria-sets/x"),
        ("PUT", "/api/admin/criteria-sets/x/requirements/1.1"),
        ("GET", "/api/admin/target-sets"),
        ("PUT", "/api/admin/target-sets/x"),
        ("GET", "/api/criteria-sets/x"),
        ("GET", "/api/target-sets/x"),
        ("POST", "/api/admin/unsynced-imports"),
    ] {
        let response = app
            .anon
            .request(method.parse().unwrap(), app.url(path))
            .send()
            .await
            .unwrap();
        assert_unauthorized(response, path).await;
    }
    // and the real token still works
    assert_eq!(me(&app, &valid).await.status(), 200);
}

#[tokio::test]
async fn an_expired_session_is_refused() {
    // sessions that end the moment they start
    let app = spawn_app_configured(|_| {}, |config| config.session_ttl = Duration::ZERO).await;
    let token = app.login(ADMIN, PASSWORD).await;
    assert_unauthorized(me(&app, &token).await, "expired").await;
    let response = app.pull_as(&token, None).await;
    assert_unauthorized(response, "expired pull").await;
}

#[tokio::test]
async fn logout_and_admin_revocation_end_sessions() {
    let app = spawn_app().await;
    let (user, phone) = app
        .user_with_token("xa.officer", Role::CommuneOfficer, "03646")
        .await;
    let tablet = app.login("xa.officer", PASSWORD).await;
    let laptop = app.login("xa.officer", PASSWORD).await;

    // logout ends that session only
    let response = app
        .anon
        .post(app.url("/api/auth/logout"))
        .bearer_auth(&phone)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert_unauthorized(me(&app, &phone).await, "after logout").await;
    let again = app
        .anon
        .post(app.url("/api/auth/logout"))
        .bearer_auth(&phone)
        .send()
        .await
        .unwrap();
    assert_unauthorized(again, "logout twice").await;
    assert_eq!(me(&app, &tablet).await.status(), 200);

    // a lost tablet: the administrator ends every session of the account
    let response = app
        .client
        .post(app.url(&format!("/api/admin/users/{}/revoke-sessions", user.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"revoked": 2})
    );
    assert_unauthorized(me(&app, &tablet).await, "revoked tablet").await;
    assert_unauthorized(me(&app, &laptop).await, "revoked laptop").await;
    // the person can log in again
    let fresh = app.login("xa.officer", PASSWORD).await;
    assert_eq!(me(&app, &fresh).await.status(), 200);

    let response = app
        .client
        .post(app.url("/api/admin/users/no-such-id/revoke-sessions"))
        .send()
        .await
        .unwrap();
    assert_eq!(error_body(response, 404).await["code"], "user_not_found");
}

#[tokio::test]
async fn a_deactivated_account_cannot_log_in_and_its_sessions_stop() {
    let app = spawn_app().await;
    let (user, token) = app
        .user_with_token("xa.leaving", Role::CommuneOfficer, "03646")
        .await;
    let response = app
        .client
        .post(app.url(&format!("/api/admin/users/{}/deactivate", user.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["active"], false);
    assert_eq!(body["username"], "xa.leaving");

    assert_unauthorized(me(&app, &token).await, "deactivated").await;
    let refused = app.try_login("xa.leaving", PASSWORD).await;
    assert_eq!(
        error_body(refused, 401).await["code"],
        "invalid_credentials"
    );

    // an administrator cannot lock themselves out
    let admin_id = me(&app, &app.admin_token.clone())
        .await
        .json::<Value>()
        .await
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let response = app
        .client
        .post(app.url(&format!("/api/admin/users/{admin_id}/deactivate")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_body(response, 409).await["code"],
        "cannot_deactivate_self"
    );
}

fn short_limits(config: &mut thidua_server::Config) {
    config.login_limits = LoginLimits {
        per_account: 3,
        per_address: 6,
        window: Duration::from_secs(3),
    };
}

fn retry_after(response: &reqwest::Response) -> u64 {
    response
        .headers()
        .get("retry-after")
        .expect("a Retry-After header")
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn repeated_wrong_passwords_lock_the_account_for_the_window() {
    let app = spawn_app_configured(|_| {}, short_limits).await;
    app.create_user("xa.target", Role::CommuneOfficer, "03646")
        .await;
    for _ in 0..3 {
        let response = app.try_login("xa.target", "wrong password").await;
        assert_eq!(response.status(), 401);
    }
    // now even the right password is refused, with a time to wait
    let response = app.try_login("xa.target", PASSWORD).await;
    let wait = retry_after(&response);
    assert!((1..=3).contains(&wait), "{wait}");
    let error = error_body(response, 429).await;
    assert_eq!(error["code"], "too_many_attempts");
    // other accounts from the same address are not locked (3 failures < 6)
    assert_eq!(app.try_login(ADMIN, PASSWORD).await.status(), 200);

    tokio::time::sleep(Duration::from_millis(3100)).await;
    assert_eq!(app.try_login("xa.target", PASSWORD).await.status(), 200);
}

#[tokio::test]
async fn many_usernames_from_one_address_lock_the_address() {
    let app = spawn_app_configured(|_| {}, short_limits).await;
    // six different usernames, none tried three times
    for i in 0..6 {
        let response = app.try_login(&format!("guess.{i}"), "wrong password").await;
        assert_eq!(response.status(), 401, "guess {i}");
    }
    // the address is now limited: a real account with the right password waits too
    let response = app.try_login(ADMIN, PASSWORD).await;
    assert!(retry_after(&response) >= 1);
    assert_eq!(error_body(response, 429).await["code"], "too_many_attempts");
    tokio::time::sleep(Duration::from_millis(3100)).await;
    assert_eq!(app.try_login(ADMIN, PASSWORD).await.status(), 200);
}

#[tokio::test]
async fn administrators_create_and_list_accounts() {
    let app = spawn_app().await;
    let create = |body: Value| {
        let app = &app;
        async move {
            app.client
                .post(app.url("/api/admin/users"))
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    let response = create(json!({
        "username": "Huyen.QuynhNhai", "display_name": "Lò Thị Hạnh",
        "role": "district_supervisor", "org_unit": "118", "password": "quỳnh nhai 2025"
    }))
    .await;
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    assert_eq!(created["username"], "huyen.quynhnhai");
    assert_eq!(created["role"], "district_supervisor");
    assert_eq!(created["org_unit"], "118");
    assert_eq!(created["active"], true);
    assert!(created.get("password_hash").is_none());
    // the new account logs in with the password as given
    let token = app.login("huyen.quynhnhai", "quỳnh nhai 2025").await;
    assert_eq!(me(&app, &token).await.status(), 200);

    let response = app
        .client
        .get(app.url("/api/admin/users"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    assert!(!text.contains("argon2"), "no password hashes: {text}");
    assert!(!text.contains("password"), "{text}");
    let list: Value = serde_json::from_str(&text).unwrap();
    let names: Vec<&str> = list["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["huyen.quynhnhai", ADMIN]);

    // the same username again
    let response = create(json!({
        "username": "huyen.quynhnhai", "display_name": "Ai đó",
        "role": "commune_officer", "org_unit": "03682", "password": "another password"
    }))
    .await;
    assert_eq!(error_body(response, 409).await["code"], "username_taken");

    // every field wrong at once: each is named
    let before = app.row_counts().await;
    let response = create(json!({
        "username": "a b", "display_name": " ", "role": "mayor", "org_unit": "99999",
        "password": "short"
    }))
    .await;
    let error = error_body(response, 422).await;
    assert_eq!(error["code"], "invalid_user");
    let fields: Vec<&str> = error["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        vec!["username", "display_name", "role", "org_unit", "password"]
    );
    // a unit of the wrong level for the role
    for (role, unit) in [
        ("commune_officer", "116"),
        ("district_supervisor", "03646"),
        ("province_admin", "116"),
        ("district_supervisor", "14"),
    ] {
        let response = create(json!({
            "username": "level.check", "display_name": "Kiểm tra",
            "role": role, "org_unit": unit, "password": "long enough pw"
        }))
        .await;
        let error = error_body(response, 422).await;
        assert_eq!(error["fields"][0]["field"], "org_unit", "{role} {unit}");
        assert_eq!(error["fields"][0]["code"], "wrong_level", "{role} {unit}");
    }
    // a 2025 commune is a commune too
    let response = create(json!({
        "username": "xa.new2025", "display_name": "Cán bộ xã mới",
        "role": "commune_officer", "org_unit": "03980", "password": "long enough pw"
    }))
    .await;
    assert_eq!(response.status(), 201);
    let after = app.row_counts().await;
    assert_eq!(
        after.iter().find(|(t, _)| *t == "users").unwrap().1,
        before.iter().find(|(t, _)| *t == "users").unwrap().1 + 1
    );
}
