//! The first administrator (create-admin, the THIDUA_ADMIN_* variables) and demo mode, through the
//! library functions the binary calls.

mod common;

use common::*;
use serde_json::Value;
use thidua_domain::protocol::DataSet;
use thidua_server::auth::Role;
use thidua_server::config::{AdminBootstrap, Secret};
use thidua_server::setup::{self, AdminChange, DEMO_DEVICE, DEMO_PASSWORD};
use thidua_server::{build_app, AppState};

/// The app's state on a fresh database with no account at all (TestApp always has one).
async fn empty_state() -> (AppState, thidua_server::Config, tempfile::TempDir) {
    let data = tempfile::tempdir().unwrap();
    let config = test_config(data.path(), &data.path().join("dist")).await;
    let (_, state) = build_app(&config).await.expect("starts");
    (state, config, data)
}

#[tokio::test]
async fn create_admin_creates_then_resets_the_administrator() {
    let app = spawn_app().await;
    let change = setup::create_admin(&app.state, "Chief.Admin", "first password")
        .await
        .unwrap();
    assert_eq!(change, AdminChange::Created);
    let token = app.login("chief.admin", "first password").await;
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
    assert_eq!(me["role"], "province_admin");
    assert_eq!(me["org_unit"], "14");

    // run again with a new password: the same account, the old password and sessions gone
    let change = setup::create_admin(&app.state, "chief.admin", "second password")
        .await
        .unwrap();
    assert_eq!(change, AdminChange::Updated);
    let response = app
        .anon
        .get(app.url("/api/auth/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(
        app.try_login("chief.admin", "first password")
            .await
            .status(),
        401
    );
    app.login("chief.admin", "second password").await;
    let users = app.state.store.users().await.unwrap();
    assert_eq!(
        users
            .iter()
            .filter(|u| u.user.username == "chief.admin")
            .count(),
        1
    );

    // an officer's account named again becomes an active administrator
    let officer = app
        .create_user("xa.promoted", Role::CommuneOfficer, "03646")
        .await;
    app.state
        .store
        .set_user_active(&officer.id, false)
        .await
        .unwrap();
    setup::create_admin(&app.state, "xa.promoted", "promoted password")
        .await
        .unwrap();
    let promoted = app
        .state
        .store
        .user_by_id(&officer.id)
        .await
        .unwrap()
        .unwrap();
    assert!(promoted.active);
    assert_eq!(promoted.user.role, Role::ProvinceAdmin);
    assert_eq!(promoted.user.org_unit.as_str(), "14");

    // the rules of the API hold here too
    assert!(setup::create_admin(&app.state, "chief.admin", "short")
        .await
        .is_err());
    assert!(setup::create_admin(&app.state, "no spaces", "long enough")
        .await
        .is_err());
}

#[tokio::test]
async fn start_up_says_how_to_create_the_administrator_when_nobody_exists() {
    let (state, config, _data) = empty_state().await;
    let lines = setup::on_start(&state, &config).await.unwrap();
    let text = lines.join("\n");
    assert!(text.contains("create-admin --username"), "{text}");
    assert!(text.contains("THIDUA_ADMIN_PASSWORD"), "{text}");
    assert_eq!(
        state.store.user_count().await.unwrap(),
        0,
        "no default account"
    );
}

#[tokio::test]
async fn start_up_creates_the_administrator_from_the_environment_once() {
    let (state, mut config, _data) = empty_state().await;
    config.admin_bootstrap = Some(AdminBootstrap {
        username: "Tinh.QuanTri".into(),
        password: Secret("from the environment".into()),
    });
    let lines = setup::on_start(&state, &config).await.unwrap();
    assert!(lines.join("\n").contains("tinh.quantri"), "{lines:?}");
    assert!(
        !lines.join("\n").contains("from the environment"),
        "the password is never printed"
    );
    let admin = state
        .store
        .user_by_username("tinh.quantri")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(admin.user.role, Role::ProvinceAdmin);
    assert!(state
        .passwords
        .verify("from the environment", Some(&admin.password_hash)));

    // a second start with another password leaves the existing account alone
    config.admin_bootstrap = Some(AdminBootstrap {
        username: "tinh.quantri".into(),
        password: Secret("changed in the environment".into()),
    });
    let lines = setup::on_start(&state, &config).await.unwrap();
    assert!(lines.is_empty(), "{lines:?}");
    let again = state
        .store
        .user_by_username("tinh.quantri")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.password_hash, admin.password_hash);
}

#[tokio::test]
async fn demo_mode_creates_one_account_per_role_and_a_few_households() {
    let app = spawn_app().await;
    let mut config = thidua_server::Config::sqlite_in(app.dist_dir(), app.dist_dir());
    config.demo = true;
    let lines = setup::on_start(&app.state, &config).await.unwrap();
    let banner = lines.join("\n");
    assert!(banner.contains("CHẾ ĐỘ DEMO"), "{banner}");
    assert!(banner.contains("DEMO MODE"), "{banner}");
    for name in ["tinh.admin", "huyen.sonla", "xa.tohieu"] {
        assert!(banner.contains(name), "{banner}");
    }
    assert!(banner.contains(DEMO_PASSWORD), "{banner}");

    for (username, role, unit) in [
        ("tinh.admin", "province_admin", "14"),
        ("huyen.sonla", "district_supervisor", "116"),
        ("xa.tohieu", "commune_officer", "03646"),
    ] {
        let response = app.try_login(username, DEMO_PASSWORD).await;
        assert_eq!(response.status(), 200, "{username}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["user"]["role"], role);
        assert_eq!(body["user"]["org_unit"], unit);
    }

    // households of this year in 03646 and 03649, stamped by the demo device
    let records = app.pull_all().await;
    let year = setup::current_year().to_string();
    let this_year: Vec<_> = records
        .iter()
        .filter(|r| r.period.as_str() == year)
        .collect();
    assert!(this_year.len() >= 4, "{}", this_year.len());
    for record in &this_year {
        assert_eq!(record.data_set, DataSet::Household);
        assert!(["03646", "03649"].contains(&record.org_unit.as_str()));
    }
    assert!(this_year.iter().any(|r| r.org_unit.as_str() == "03646"));
    assert!(this_year.iter().any(|r| r.org_unit.as_str() == "03649"));
    // and the dashboard's demo: 2023 (and 2022, 2021) in five communes of districts 116 and 118
    assert!(banner.contains("dashboard"), "{banner}");
    let admin = app.login("tinh.admin", DEMO_PASSWORD).await;
    let dashboard: Value = app
        .anon
        .get(app.url("/api/dashboard?period=2023&unit=14&as_of=2023-12-31"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let figures = &dashboard["unit"]["figures"];
    assert_eq!(figures["poverty"]["households"], 20 + 20 + 25 + 60 + 40);
    assert_eq!(figures["poverty"]["poor"], 3 + 5 + 9 + 31 + 22);
    assert_eq!(figures["ntm"]["assessed"], 4);
    assert_eq!(figures["ntm"]["at_standard"], 1);
    assert!(figures["poverty"]["previous"]["rate"].is_number());
    // the trend over the demo's three reviews: (8 + 44) of 80 in 2021, (6 + 38) of 80 in 2022
    let trend: Vec<(&str, f64)> = dashboard["trend"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["period"].as_str().unwrap(), p["rate"].as_f64().unwrap()))
        .collect();
    assert_eq!(trend.len(), 3, "{trend:?}");
    assert_eq!(
        (trend[0].0, trend[1].0, trend[2].0),
        ("2021", "2022", "2023")
    );
    assert!((trend[0].1 - 65.0).abs() < 1e-9 && (trend[1].1 - 55.0).abs() < 1e-9);
    assert!(trend[2].1 < trend[1].1, "{trend:?}");
    let counts = &dashboard["unit"]["submission_counts"];
    assert_eq!(counts["household"]["accepted"], 2);
    assert_eq!(counts["household"]["submitted"], 1);
    assert_eq!(counts["ntm_assessment"]["returned"], 1);
    let completeness: Value = app
        .anon
        .get(app.url("/api/completeness?period=2023&unit=03646"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        completeness["communes"][0]["devices"][0]["username"],
        "xa.tohieu"
    );
    let demo_device = DEMO_DEVICE;
    assert!(demo_device.0.to_string().starts_with("de70"));

    // the demo officer sees their commune's households only; the demo supervisor both communes'
    let officer = app.login("xa.tohieu", DEMO_PASSWORD).await;
    let pulled: Value = app.pull_as(&officer, None).await.json().await.unwrap();
    let units: Vec<&str> = pulled["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["org_unit"].as_str().unwrap())
        .collect();
    assert!(
        !units.is_empty() && units.iter().all(|u| *u == "03646"),
        "{units:?}"
    );
    let supervisor = app.login("huyen.sonla", DEMO_PASSWORD).await;
    let pulled: Value = app.pull_as(&supervisor, None).await.json().await.unwrap();
    let of_116 = records
        .iter()
        .filter(|r| ["03646", "03649", "03652"].contains(&r.org_unit.as_str()))
        .count();
    assert_eq!(pulled["records"].as_array().unwrap().len(), of_116);

    // a second start adds nothing
    let users = app.state.store.user_count().await.unwrap();
    setup::on_start(&app.state, &config).await.unwrap();
    assert_eq!(app.state.store.user_count().await.unwrap(), users);
    assert_eq!(app.pull_all().await.len(), records.len());
}

#[tokio::test]
async fn demo_households_are_seeded_only_into_an_empty_database() {
    let app = spawn_app().await;
    let device = new_device();
    app.push(device, vec![create(device, new_household("03682"))])
        .await;
    assert_eq!(setup::seed_demo_households(&app.state).await.unwrap(), 0);
    assert_eq!(app.pull_all().await.len(), 1);
    // an existing account of a demo name is left as it is
    app.create_user("xa.tohieu", Role::CommuneOfficer, "03649")
        .await;
    setup::ensure_demo(&app.state).await.unwrap();
    let kept = app
        .state
        .store
        .user_by_username("xa.tohieu")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept.user.org_unit.as_str(), "03649");
    assert_eq!(
        app.try_login("xa.tohieu", DEMO_PASSWORD).await.status(),
        401
    );
}
