//! The dashboard at the size of Sơn La: 204 communes, 60,000 households of the 2023 review, an NTM
//! assessment and a target report per commune (and 2022's review for the change). Times the domain's
//! computation alone (2023 and 2025 structures) and the whole `GET /api/dashboard` for the province
//! and for a district on SQLite, release build. Not part of the tests:
//!
//! ```text
//! cargo bench -p thidua-server --bench dashboard
//! ```

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::{json, Value};
use sqlx::Connection;
use thidua_domain::criteria::{CriteriaSet, Requirement, ValueKind};
use thidua_domain::dashboard::{self, Settings};
use thidua_domain::merge::{Stamp, StoredRecord};
use thidua_domain::org::{OrgCatalog, UnitCode};
use thidua_domain::protocol::{DataSet, DeviceId, Fields, MutationId, Period, Record, RecordId};
use thidua_domain::targets::TargetSet;
use thidua_domain::Day;
use thidua_server::accounts::{create_account, NewAccount};
use thidua_server::auth::{NewPassword, Role, Username};
use thidua_server::config::PasswordCost;
use thidua_server::{Config, Server};

const HOUSEHOLDS: usize = 60_000;
const PASSWORD: &str = "benchmark password";

fn criteria() -> CriteriaSet {
    let mut set = CriteriaSet::ntm_2021_2025();
    for criterion in &mut set.criteria {
        for indicator in &mut criterion.indicators {
            indicator.requirement = Some(match indicator.kind {
                ValueKind::YesNo => Requirement::Equals(true),
                ValueKind::Percent => Requirement::AtLeast(50.0),
                ValueKind::Number => Requirement::AtLeast(1.0),
                ValueKind::Text => Requirement::Provided,
            });
        }
    }
    set
}

fn record(n: u64, data_set: DataSet, unit: &UnitCode, period: &str, fields: Fields) -> Record {
    Record {
        id: RecordId(uuid::Uuid::from_u128(
            0x0190_0000_0000_7000_8000_0000_0000_0000 + u128::from(n),
        )),
        data_set,
        org_unit: unit.clone(),
        period: Period::parse(period).unwrap(),
        fields,
        revision: n,
        deleted: false,
        conflicts: Vec::new(),
    }
}

/// 60,000 households of 2023 spread over the 204 communes (and a tenth as many for 2022), one NTM
/// assessment and one target report per commune.
fn records() -> Vec<Record> {
    let catalog = OrgCatalog::sonla();
    let communes: Vec<UnitCode> = catalog
        .list("sonla-2023")
        .unwrap()
        .communes()
        .map(|c| c.code.clone())
        .collect();
    let set = criteria();
    let mut out = Vec::with_capacity(HOUSEHOLDS + HOUSEHOLDS / 10 + 500);
    let mut n = 0u64;
    let mut next = || {
        n += 1;
        n
    };
    for i in 0..HOUSEHOLDS + HOUSEHOLDS / 10 {
        let unit = &communes[i % communes.len()];
        let period = if i < HOUSEHOLDS { "2023" } else { "2022" };
        let (income, deprived) = match i % 7 {
            0 | 1 => (1_100_000, 3),
            2 => (1_300_000, 1),
            _ => (2_500_000, 0),
        };
        let mut fields: Fields = serde_json::from_value(json!({
            "head_name": format!("Lò Văn {i}"), "village": format!("Bản {}", i % 13), "area": "rural",
            "members": 4, "working_age_members": 2, "children_under_16": 2, "members_16_to_30": 1,
            "income_per_person_month": income, "floor_area_m2": 40,
        }))
        .unwrap();
        for d in [
            "dep_health_insurance",
            "dep_latrine",
            "dep_domestic_water",
            "dep_telecom_use",
            "dep_nutrition",
            "dep_floor_area",
            "dep_employment",
            "dep_dependants",
            "dep_adult_education",
            "dep_child_schooling",
            "dep_housing_quality",
            "dep_information_devices",
        ]
        .iter()
        .enumerate()
        {
            fields.insert(d.1.to_string(), Value::Bool(d.0 < deprived));
        }
        out.push(record(next(), DataSet::Household, unit, period, fields));
    }
    for (i, unit) in communes.iter().enumerate() {
        let mut fields = Fields::new();
        for criterion in &set.criteria {
            let fail = (i + usize::from(criterion.number)) % 11 == 0;
            for indicator in &criterion.indicators {
                let value = match indicator.kind {
                    ValueKind::YesNo => json!(!fail),
                    ValueKind::Percent => json!(if fail { 20.0 } else { 80.0 }),
                    ValueKind::Number => json!(if fail { 0.0 } else { 2.0 }),
                    ValueKind::Text => json!(if fail { "" } else { "có" }),
                };
                fields.insert(indicator.code.clone(), value);
            }
        }
        out.push(record(next(), DataSet::NtmAssessment, unit, "2023", fields));
        let report: Fields = serde_json::from_value(json!({
            "poverty_rate": {"numerator": 0, "denominator": 1200 + i},
            "schools_national_standard": {"numerator": 3, "denominator": 5},
            "cultural_families": {"numerator": 900, "denominator": 1200 + i},
            "doctors_per_10k": {"numerator": 4, "denominator": 5000},
        }))
        .unwrap();
        out.push(record(
            next(),
            DataSet::IndicatorReport,
            unit,
            "2023",
            report,
        ));
    }
    out
}

fn time<T>(what: &str, runs: u32, mut f: impl FnMut() -> T) -> Duration {
    let _ = f(); // warm
    let mut best = Duration::MAX;
    let mut total = Duration::ZERO;
    for _ in 0..runs {
        let start = Instant::now();
        std::hint::black_box(f());
        let took = start.elapsed();
        best = best.min(took);
        total += took;
    }
    println!(
        "{what}: mean {:.1} ms, best {:.1} ms over {runs} runs",
        total.as_secs_f64() * 1000.0 / f64::from(runs),
        best.as_secs_f64() * 1000.0
    );
    total / runs
}

/// Stores the records straight into a migrated SQLite file, as pushes would have left them.
async fn store(path: &std::path::Path, records: &[Record]) {
    let url = format!("sqlite://{}", path.display());
    let mut db = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let mut tx = db.begin().await.unwrap();
    let device = DeviceId(uuid::Uuid::from_u128(1));
    for r in records {
        let stamps: std::collections::BTreeMap<String, Stamp> = r
            .merge_fields()
            .keys()
            .map(|k| {
                (
                    k.clone(),
                    Stamp {
                        revision: r.revision,
                        mutation: MutationId(r.id.0),
                        device,
                        also: None,
                    },
                )
            })
            .collect();
        let stored = StoredRecord {
            record: r.clone(),
            stamps,
        };
        sqlx::query(
            "INSERT INTO records (id, data_set, org_unit, period, fields, stamps, conflicts, deleted, revision)
             VALUES ($1, $2, $3, $4, $5, $6, '[]', 0, $7)",
        )
        .bind(r.id.to_string())
        .bind(r.data_set.as_str())
        .bind(r.org_unit.as_str())
        .bind(r.period.as_str())
        .bind(serde_json::to_string(&r.fields).unwrap())
        .bind(serde_json::to_string(&stored.stamps).unwrap())
        .bind(r.revision as i64)
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    sqlx::query("UPDATE server_sequence SET value = $1 WHERE name = 'revision'")
        .bind(records.len() as i64)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

fn bench(c: &mut Criterion) {
    let records = records();
    let households = records
        .iter()
        .filter(|r| r.data_set == DataSet::Household && r.period.as_str() == "2023")
        .count();
    println!(
        "records: {} ({households} households of 2023, 204 communes)",
        records.len()
    );
    let catalog = OrgCatalog::sonla();
    let targets = TargetSet::sonla_2023();
    let set = criteria();
    let as_of = Day::parse("2023-12-31").unwrap();
    let period = Period::parse("2023").unwrap();
    let settings = |structure: &'static str| Settings {
        catalog: &catalog,
        source_list: "sonla-2023",
        structure,
        targets: Some(&targets),
        criteria: &set,
        as_of: &as_of,
    };
    let domain_2023 = time(
        "domain, 2023 structure (province, 12 districts, 204 communes)",
        10,
        || dashboard::compute(&settings("sonla-2023"), &period, &records, None).unwrap(),
    );
    time("domain, 2025 structure (75 communes)", 10, || {
        dashboard::compute(&settings("sonla-2025-07"), &period, &records, None).unwrap()
    });
    let mut group = c.benchmark_group("dashboard");
    group.sample_size(10);
    group.bench_function("domain compute, 60,000 households, 2023 structure", |b| {
        b.iter(|| dashboard::compute(&settings("sonla-2023"), &period, &records, None).unwrap())
    });

    // the whole request on SQLite
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let data = tempfile::tempdir().unwrap();
    let dist = tempfile::tempdir().unwrap();
    let mut config = Config::sqlite_in(data.path(), dist.path());
    config.addr = "127.0.0.1:0".parse().unwrap();
    config.password_cost = PasswordCost {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };
    let (base, token, _stop) = runtime.block_on(async {
        let server = Server::bind(&config).await.unwrap();
        let addr = server.local_addr();
        let state = server.state.clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(server.run(async {
            let _ = stopped.await;
        }));
        create_account(
            &state,
            NewAccount {
                username: Username::parse("bench.admin").unwrap(),
                display_name: "Benchmark".into(),
                role: Role::ProvinceAdmin,
                org_unit: UnitCode::parse("14").unwrap(),
                password: NewPassword::parse(PASSWORD).unwrap(),
            },
        )
        .await
        .unwrap();
        let started = Instant::now();
        store(&data.path().join("thidua.db"), &records).await;
        println!(
            "stored {} records in {:.1} s",
            records.len(),
            started.elapsed().as_secs_f64()
        );
        // written behind the server's back: their households' classes are filled in as at a start
        let started = Instant::now();
        let filled = state.store.backfill_household_classes().await.unwrap();
        println!(
            "household classes of {filled} records filled in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        let base = format!("http://{addr}");
        let client = reqwest::Client::new();
        let login: Value = client
            .post(format!("{base}/api/auth/login"))
            .json(&json!({"username": "bench.admin", "password": PASSWORD}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = login["token"].as_str().unwrap().to_string();
        // the benchmark's requirements, as the province would set them
        let response = client
            .put(format!("{base}/api/admin/criteria-sets/ntm-2021-2025"))
            .bearer_auth(&token)
            .json(&serde_json::to_value(criteria()).unwrap())
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success());
        (base, token, stop)
    });
    let client = reqwest::Client::new();
    let get = |query: &str| {
        let url = format!("{base}/api/dashboard?{query}");
        let client = &client;
        let token = &token;
        runtime.block_on(async move {
            let response = client.get(url).bearer_auth(token).send().await.unwrap();
            assert_eq!(response.status(), 200);
            response.bytes().await.unwrap().len()
        })
    };
    let body: Value = runtime.block_on(async {
        client
            .get(format!(
                "{base}/api/dashboard?period=2023&unit=14&as_of=2023-12-31"
            ))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    let poverty = &body["unit"]["figures"]["poverty"];
    println!(
        "province: {} households, {} poor, rate {}, NTM at standard {}",
        poverty["households"],
        poverty["poor"],
        poverty["rate"],
        body["unit"]["figures"]["ntm"]["at_standard"]
    );
    assert_eq!(poverty["households"], HOUSEHOLDS as u64);
    let size = get("period=2023&unit=14&as_of=2023-12-31");
    println!("GET /api/dashboard (province) answers {size} bytes");
    let whole = time(
        "GET /api/dashboard?unit=14 (province, SQLite, whole request)",
        10,
        || get("period=2023&unit=14&as_of=2023-12-31"),
    );
    time(
        "GET /api/dashboard?unit=119 (a district of 29 communes)",
        10,
        || get("period=2023&unit=119&as_of=2023-12-31"),
    );
    time("GET /api/dashboard?unit=14&structure=2025", 10, || {
        get("period=2023&unit=14&structure=2025&as_of=2023-12-31")
    });
    time("GET /api/dashboard?unit=14&basis=accepted", 10, || {
        get("period=2023&unit=14&basis=accepted&as_of=2023-12-31")
    });
    group.bench_function("GET /api/dashboard province, SQLite", |b| {
        b.iter(|| get("period=2023&unit=14&as_of=2023-12-31"))
    });
    group.finish();
    println!(
        "budget 200 ms: domain {:.0} ms, whole request {:.0} ms",
        domain_2023.as_secs_f64() * 1000.0,
        whole.as_secs_f64() * 1000.0
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
