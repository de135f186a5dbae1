//! Starts the real server on 127.0.0.1:0 with a fresh database: a SQLite file in a new temp folder, or,
//! when THIDUA_TEST_POSTGRES_URL is set (postgres://user@host:port/db), a new database created on that
//! PostgreSQL server for this test alone.

#![allow(dead_code)] // each test binary uses a different part of the helpers

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::{json, Value};
use sqlx::Connection;
use tempfile::TempDir;
use thidua_domain::org::{OrgCatalog, UnitCode};
use thidua_domain::protocol::{
    DataSet, DeviceId, Fields, Mutation, MutationId, Period, PullRequest, PullResponse,
    PushRequest, PushResponse, Record, RecordId, PROTOCOL_VERSION,
};
use thidua_server::accounts::{create_account, NewAccount};
use thidua_server::auth::{NewPassword, Role, User, Username};
use thidua_server::config::PasswordCost;
use thidua_server::{AppState, Config, Database, Server};
use tokio::sync::oneshot;
use uuid::Uuid;

pub struct TestApp {
    pub base: String,
    /// Sends the token of [`ADMIN`], a province administrator, with every request (a request's own
    /// `bearer_auth` replaces it): the sync tests act as someone who may read and write everything.
    pub client: reqwest::Client,
    /// Sends no token.
    pub anon: reqwest::Client,
    pub admin_token: String,
    pub state: AppState,
    pub database: Database,
    config: Config,
    stop: Option<oneshot::Sender<()>>,
    // kept alive for the test's duration; removed when dropped
    _data: TempDir,
    _dist: TempDir,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The administrator every [`TestApp`] starts with, and its password.
pub const ADMIN: &str = "test.admin";
pub const PASSWORD: &str = "correct horse battery";

/// Argon2id at its smallest cost: a debug build takes half a second per hash at the real cost, and
/// these tests log in hundreds of times. The cost itself is the `argon2` crate's business.
pub const TEST_PASSWORD_COST: PasswordCost = PasswordCost {
    memory_kib: 64,
    iterations: 1,
    parallelism: 1,
};

/// The app with an empty dist folder (no web app built).
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// The app, after `prepare_dist` has written files into its dist folder.
pub async fn spawn_app_with(prepare_dist: impl FnOnce(&Path)) -> TestApp {
    spawn_app_configured(prepare_dist, |_| {}).await
}

/// A fresh configuration for a test: SQLite in `data` (or a new PostgreSQL database), port 0, cheap
/// password hashing.
pub async fn test_config(data: &Path, dist: &Path) -> Config {
    let mut config = Config::sqlite_in(data, dist);
    config.addr = "127.0.0.1:0".parse().unwrap();
    config.password_cost = TEST_PASSWORD_COST;
    if let Some(url) = std::env::var("THIDUA_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
    {
        config.database = Database::Postgres(fresh_postgres_database(&url).await);
    }
    config
}

/// The app, after `prepare_dist` has written its dist folder and `adjust` changed the configuration
/// (shorter limits, a zero session lifetime).
pub async fn spawn_app_configured(
    prepare_dist: impl FnOnce(&Path),
    adjust: impl FnOnce(&mut Config),
) -> TestApp {
    let data = tempfile::tempdir().expect("temp dir");
    let dist = tempfile::tempdir().expect("temp dir");
    prepare_dist(dist.path());
    let mut config = test_config(data.path(), dist.path()).await;
    adjust(&mut config);
    let (base, state, stop) = start(&config).await;
    let anon = reqwest::Client::new();
    let mut app = TestApp {
        base,
        client: anon.clone(),
        anon,
        admin_token: String::new(),
        state,
        database: config.database.clone(),
        config,
        stop: Some(stop),
        _data: data,
        _dist: dist,
    };
    app.create_user(ADMIN, Role::ProvinceAdmin, "14").await;
    // a zero session lifetime (the expiry test) makes every token dead on arrival: keep the plain client
    if !app.config.session_ttl.is_zero() {
        app.admin_token = app.login(ADMIN, PASSWORD).await;
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            reqwest::header::AUTHORIZATION,
            format!("Bearer {}", app.admin_token).parse().unwrap(),
        );
        app.client = reqwest::Client::builder()
            .default_headers(headers)
            .build()
            .unwrap();
    }
    app
}

async fn start(config: &Config) -> (String, AppState, oneshot::Sender<()>) {
    let server = Server::bind(config).await.expect("server starts");
    let addr = server.local_addr();
    let state = server.state.clone();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(server.run(async {
        let _ = stopped.await;
    }));
    (format!("http://{addr}"), state, stop)
}

/// A second server on the same database, as a second process would be: its own pool and push writer.
pub struct OtherServer {
    pub base: String,
    _stop: oneshot::Sender<()>,
}

impl TestApp {
    pub async fn another_server(&self) -> OtherServer {
        let (base, _state, stop) = start(&self.config).await;
        OtherServer { base, _stop: stop }
    }
}

/// Creates `thidua_test_<uuid>` on the server of `url` and returns its URL.
async fn fresh_postgres_database(url: &str) -> String {
    let mut admin = sqlx::PgConnection::connect(url)
        .await
        .expect("THIDUA_TEST_POSTGRES_URL reachable");
    let name = format!("thidua_test_{}", Uuid::now_v7().simple());
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .expect("create test database");
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let server = match base.rsplit_once('/') {
        // postgres://host/db → keep postgres://host
        Some((server, _db)) if server.contains("://") && !server.ends_with('/') => server,
        _ => base.trim_end_matches('/'),
    };
    format!("{server}/{name}{query}")
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The app's dist folder (tests rewrite index.html in it).
    pub fn dist_dir(&self) -> &Path {
        self._dist.path()
    }

    /// Creates an active account directly through the store (password [`PASSWORD`]).
    pub async fn create_user(&self, username: &str, role: Role, unit: &str) -> User {
        let account = NewAccount {
            username: Username::parse(username).expect("valid username"),
            display_name: format!("Người dùng {username}"),
            role,
            org_unit: UnitCode::parse(unit).unwrap(),
            password: NewPassword::parse(PASSWORD).unwrap(),
        };
        create_account(&self.state, account)
            .await
            .expect("account created")
    }

    /// Logs in and returns the token; panics unless the login succeeds.
    pub async fn login(&self, username: &str, password: &str) -> String {
        let response = self.try_login(username, password).await;
        assert_eq!(response.status(), 200, "login of {username}");
        let body: Value = response.json().await.unwrap();
        body["token"].as_str().expect("a token").to_string()
    }

    pub async fn try_login(&self, username: &str, password: &str) -> reqwest::Response {
        self.anon
            .post(self.url("/api/auth/login"))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .expect("login sent")
    }

    /// A new account of `role` at `unit`, logged in: its user and token.
    pub async fn user_with_token(&self, username: &str, role: Role, unit: &str) -> (User, String) {
        let user = self.create_user(username, role, unit).await;
        let token = self.login(username, PASSWORD).await;
        (user, token)
    }

    /// Rows of every table that requests write to.
    pub async fn row_counts(&self) -> Vec<(&'static str, u64)> {
        self.state.store.row_counts().await.expect("counted")
    }

    /// A pull as the holder of `token`: the raw answer.
    pub async fn pull_as(&self, token: &str, org_unit: Option<&str>) -> reqwest::Response {
        let mut body = json!({"protocol": PROTOCOL_VERSION, "limit": 500});
        if let Some(unit) = org_unit {
            body["org_unit"] = json!(unit);
        }
        self.anon
            .post(self.url("/api/sync/pull"))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .expect("pull sent")
    }

    /// A push as the holder of `token`: the raw answer.
    pub async fn push_as(
        &self,
        token: &str,
        device: DeviceId,
        mutations: Vec<Mutation>,
    ) -> reqwest::Response {
        let request = PushRequest {
            protocol: PROTOCOL_VERSION,
            device,
            mutations,
        };
        self.anon
            .post(self.url("/api/sync/push"))
            .bearer_auth(token)
            .json(&request)
            .send()
            .await
            .expect("push sent")
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn push(&self, device: DeviceId, mutations: Vec<Mutation>) -> PushResponse {
        let request = PushRequest {
            protocol: PROTOCOL_VERSION,
            device,
            mutations,
        };
        let response = self
            .client
            .post(self.url("/api/sync/push"))
            .json(&request)
            .send()
            .await
            .expect("push sent");
        assert_eq!(response.status(), 200, "push answered");
        response.json().await.expect("a PushResponse")
    }

    pub async fn pull(
        &self,
        cursor: Option<&str>,
        limit: u32,
        org_unit: Option<&str>,
    ) -> PullResponse {
        let request = PullRequest {
            protocol: PROTOCOL_VERSION,
            cursor: cursor.map(|c| thidua_domain::protocol::Cursor(c.to_string())),
            limit,
            org_unit: org_unit.map(|c| UnitCode::parse(c).unwrap()),
        };
        let response = self
            .client
            .post(self.url("/api/sync/pull"))
            .json(&request)
            .send()
            .await
            .expect("pull sent");
        assert_eq!(response.status(), 200, "pull answered");
        response.json().await.expect("a PullResponse")
    }

    /// Every record, following cursors to the end.
    pub async fn pull_all(&self) -> Vec<Record> {
        let mut records = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let page = self.pull(cursor.as_deref(), 100, None).await;
            records.extend(page.records);
            cursor = Some(page.next_cursor.0);
            if !page.has_more {
                return records;
            }
        }
    }

    pub async fn latest_revision(&self) -> u64 {
        self.state.store.latest_revision().await.expect("read")
    }
}

pub fn new_device() -> DeviceId {
    DeviceId(Uuid::now_v7())
}

pub fn new_mutation_id() -> MutationId {
    MutationId(Uuid::now_v7())
}

/// A valid household's fields; `overrides` replaces or adds fields.
pub fn household_fields(overrides: Value) -> Fields {
    let mut fields: Fields = serde_json::from_value(json!({
        "head_name": "Lò Văn A",
        "village": "Bản Hụm",
        "area": "rural",
        "members": 4,
        "working_age_members": 2,
        "children_under_16": 2,
        "members_16_to_30": 1,
        "income_per_person_month": 1200000,
        "floor_area_m2": 40
    }))
    .unwrap();
    if let Value::Object(extra) = overrides {
        fields.extend(extra);
    }
    fields
}

pub fn household(id: RecordId, org_unit: &str, fields: Fields) -> Record {
    Record {
        id,
        data_set: DataSet::Household,
        org_unit: UnitCode::parse(org_unit).unwrap(),
        period: Period::parse("2023").unwrap(),
        fields,
        revision: 0,
        deleted: false,
        conflicts: Vec::new(),
    }
}

/// A device's change to `record`, based on `base_revision`, naming the `changed` fields.
pub fn mutation(
    device: DeviceId,
    record: Record,
    base_revision: u64,
    changed: &[&str],
) -> Mutation {
    Mutation {
        id: new_mutation_id(),
        device,
        record,
        base_revision,
        changed: changed.iter().map(|s| s.to_string()).collect(),
    }
}

/// A mutation creating `record`: every field is changed.
pub fn create(device: DeviceId, record: Record) -> Mutation {
    let changed: BTreeSet<String> = record.fields.keys().cloned().collect();
    Mutation {
        id: new_mutation_id(),
        device,
        record,
        base_revision: 0,
        changed,
    }
}

/// A commune's record of a data set for a period (one per commune and period: an NTM assessment,
/// an indicator report), with the id every device gives it.
pub fn unit_record(data_set: DataSet, unit: &str, period: &str, fields: Fields) -> Record {
    let unit = UnitCode::parse(unit).unwrap();
    let period = Period::parse(period).unwrap();
    Record {
        id: RecordId::of_unit_period(data_set, &unit, &period),
        data_set,
        org_unit: unit,
        period,
        fields,
        revision: 0,
        deleted: false,
        conflicts: Vec::new(),
    }
}

pub fn new_household(org_unit: &str) -> Record {
    household(
        RecordId(Uuid::now_v7()),
        org_unit,
        household_fields(json!({})),
    )
}

/// The `error` object of a JSON error answer, after checking its status.
pub async fn error_body(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status(), status, "status");
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    assert!(
        content_type.starts_with("application/json"),
        "JSON error, got {content_type}"
    );
    let body: Value = response.json().await.expect("JSON body");
    let error = body["error"].clone();
    assert!(error["code"].is_string(), "error.code in {body}");
    assert!(error["message"].is_string(), "error.message in {body}");
    assert!(
        error["message_en"].is_string(),
        "error.message_en in {body}"
    );
    error
}

/// A unit list after Sơn La's 2025 one, as the province would upload it: the province and two new
/// units, commune 90001 and ward 90002, that take the 2025 communes between them (the first half by
/// code order, then the rest), so no commune is orphaned. Lines 1–5 are the header, 6 the columns,
/// 7 the province, 8 and 9 the new units.
pub fn later_unit_list(id: &str) -> String {
    let catalog = OrgCatalog::sonla();
    let codes: Vec<String> = catalog
        .list("sonla-2025-07")
        .expect("the carried 2025 list")
        .communes()
        .map(|c| c.code.to_string())
        .collect();
    let (first, rest) = codes.split_at(codes.len() / 2);
    format!(
        "# id: {id}\n\
         # name: Tỉnh Sơn La (danh mục thử)\n\
         # valid_from: 2026-01-01\n\
         # predecessor: sonla-2025-07\n\
         # source: bộ kiểm thử của máy chủ\n\
         code\tkind\tname\tparent\tmerged_from\n\
         14\tTỉnh\tSơn La\t\t\n\
         90001\tXã\tThử Nghiệm Một\t14\t{}\n\
         90002\tPhường\tThử Nghiệm Hai\t14\t{}\n",
        first.join(","),
        rest.join(",")
    )
}

impl TestApp {
    /// Uploads a unit list (TSV) as the holder of `token`, or as the administrator when `None`.
    pub async fn upload_unit_list(&self, token: Option<&str>, text: &str) -> reqwest::Response {
        let request = match token {
            Some(token) => self
                .anon
                .post(self.url("/api/admin/unit-lists"))
                .bearer_auth(token),
            None => self.client.post(self.url("/api/admin/unit-lists")),
        };
        request
            .header("content-type", "text/tab-separated-values; charset=utf-8")
            .body(text.to_string())
            .send()
            .await
            .expect("upload sent")
    }

    pub async fn get_json(&self, path: &str) -> Value {
        let response = self
            .client
            .get(self.url(path))
            .send()
            .await
            .expect("request sent");
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.expect("JSON")
    }

    pub async fn put_json(&self, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .put(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request sent")
    }
}
