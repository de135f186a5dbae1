//! Starting twice on the same SQLite file: data kept, unit seeding idempotent, WAL mode on.

use sqlx::Connection;
use thidua_domain::org::{OrgCatalog, UnitCode};
use thidua_domain::protocol::{
    DataSet, DeviceId, Mutation, MutationId, Period, PushRequest, PushResponse, Record, RecordId,
    PROTOCOL_VERSION,
};
use thidua_server::accounts::{create_account, NewAccount};
use thidua_server::auth::{NewPassword, Role, Username};
use thidua_server::config::PasswordCost;
use thidua_server::{Config, Server};
use tokio::sync::oneshot;
use uuid::Uuid;

async fn start(config: &Config) -> (String, oneshot::Sender<()>) {
    let server = Server::bind(config).await.expect("server starts");
    // the first start has no account: create the officer who pushes (the second start keeps it)
    if server.state.store.user_count().await.unwrap() == 0 {
        let account = NewAccount {
            username: Username::parse("xa.officer").unwrap(),
            display_name: "Cán bộ xã".into(),
            role: Role::CommuneOfficer,
            org_unit: UnitCode::parse("03646").unwrap(),
            password: NewPassword::parse("officer password").unwrap(),
        };
        create_account(&server.state, account).await.unwrap();
    }
    let base = format!("http://{}", server.local_addr());
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(server.run(async {
        let _ = stopped.await;
    }));
    (base, stop)
}

async fn login(client: &reqwest::Client, base: &str) -> String {
    let response = client
        .post(format!("{base}/api/auth/login"))
        .json(&serde_json::json!({"username": "xa.officer", "password": "officer password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    body["token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_restart_keeps_the_data_and_reseeds_units_idempotently() {
    let data = tempfile::tempdir().unwrap();
    // a data folder that does not exist yet: created on first start
    let data_dir = data.path().join("nested").join("data");
    let mut config = Config::sqlite_in(&data_dir, &data.path().join("no-dist"));
    config.addr = "127.0.0.1:0".parse().unwrap();
    config.password_cost = PasswordCost {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };
    let client = reqwest::Client::new();

    let device = DeviceId(Uuid::now_v7());
    let fields = serde_json::from_value(serde_json::json!({
        "head_name": "Cầm Thị B", "village": "Bản Cọ", "area": "rural", "members": 3,
        "working_age_members": 2, "children_under_16": 1, "members_16_to_30": 1,
        "income_per_person_month": 2500000, "floor_area_m2": 60
    }))
    .unwrap();
    let record = Record {
        id: RecordId(Uuid::now_v7()),
        data_set: DataSet::Household,
        org_unit: UnitCode::parse("03646").unwrap(),
        period: Period::parse("2024").unwrap(),
        fields,
        revision: 0,
        deleted: false,
        conflicts: Vec::new(),
    };
    let mutation = Mutation {
        id: MutationId(Uuid::now_v7()),
        device,
        changed: record.fields.keys().cloned().collect(),
        record,
        base_revision: 0,
    };
    let request = PushRequest {
        protocol: PROTOCOL_VERSION,
        device,
        mutations: vec![mutation],
    };

    let (base, stop) = start(&config).await;
    let token = login(&client, &base).await;
    let first: PushResponse = client
        .post(format!("{base}/api/sync/push"))
        .bearer_auth(&token)
        .json(&request)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    stop.send(()).unwrap();

    let (base, stop) = start(&config).await;
    // sessions live in the database: the token from before the restart still works
    let again: PushResponse = client
        .post(format!("{base}/api/sync/push"))
        .bearer_auth(&token)
        .json(&request)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again, first, "the first answer survives a restart");
    stop.send(()).unwrap();

    let file = data_dir.join("thidua.db");
    let mut db = sqlx::SqliteConnection::connect(&format!("sqlite://{}", file.display()))
        .await
        .unwrap();
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut db)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    let units: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM org_units")
        .fetch_one(&mut db)
        .await
        .unwrap();
    let expected: usize = OrgCatalog::sonla()
        .lists()
        .iter()
        .map(|l| l.units().len())
        .sum();
    assert_eq!(units as usize, expected);
    let records: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM records")
        .fetch_one(&mut db)
        .await
        .unwrap();
    assert_eq!(records, 1);
}
