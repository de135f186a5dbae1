//! The server under load: many simulated tablets syncing at once, on SQLite and on PostgreSQL.
//!
//! The server is the built binary (`target/server/thidua-server`, the release `server` profile), run as
//! its own process with its default settings and logging, on a fresh database: a SQLite file in a
//! temporary folder, and a new database on the PostgreSQL server of `THIDUA_BENCH_POSTGRES_URL` (that
//! part is skipped, with a note, when it is unset). One commune officer account per commune of the
//! 2023 list (204); the devices are spread over the communes round robin and each signs in on its own.
//!
//! A device is a native client built on the app's own sync code (`thidua_domain::client::Replica`
//! for its copy, the protocol types on the wire), speaking HTTP/1.1 with keep-alive as the browser
//! does: push bodies gzip-compressed above 1 KiB, answers accepted as brotli or gzip. Each cycle it
//! pushes a batch of 5–15 household changes (about 30% new households, the rest edits of households
//! it created earlier), pulls its commune's changes to the end (pages of 200, as the app), then waits
//! 0.5–1.5 s: far busier than a tablet, which syncs after a save and once a minute.
//!
//! The number of devices is ramped (10, 50, 100, 250, 500, 1,000, 2,000); at each step the new
//! devices first catch up with a full pull (not timed), then all run for a warm-up and a measured
//! window. Reported per step: mutations applied per second, requests per second, latency p50/p95/p99
//! of pushes and of pull pages, errors (non-2xx answers, timeouts after 10 s, broken connections,
//! refused mutations), and the CPU the server and the clients used (of the machine's cores). The
//! largest step held is the largest with p99 under 1 s for both kinds and no error. Then a pure
//! throughput runs: 4, 8 and 16 devices pushing full batches (`MAX_PUSH_BATCH`) back to back, no
//! pulls, no pause (the peak is the best of them: a few devices leave the single writer idle between
//! groups, many only queue).
//!
//! Not a test: it asserts nothing about time. `scripts/bench.sh` runs it and puts its Markdown into
//! BENCHMARKS.md; by hand (after `cargo build --profile server -p thidua-server`):
//!
//! ```text
//! cargo bench --profile server -p thidua-server --bench load -- [--quick] [--out FILE.md]
//!     [--levels 10,50,100] [--window SECONDS] [--only sqlite|postgres] [--perf DIR]
//! ```
//!
//! `--perf DIR` records a CPU profile of the server process (`perf record`) and counts its
//! `fdatasync`/`fsync` calls during the throughput run and the largest step, and adds the top of the
//! profile to the report. `--server-log FILTER DIR` runs the server with `RUST_LOG=FILTER` and keeps
//! its log in DIR (`thidua_server=debug` logs where each push batch's time goes). `THIDUA_SERVER_BIN`
//! names another server binary.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sqlx::Connection;
use thidua_domain::client::{Edit, Replica};
use thidua_domain::criteria::CriteriaSet;
use thidua_domain::org::{OrgCatalog, UnitCode};
use thidua_domain::protocol::{
    Cursor, DataSet, DeviceId, Fields, IdGenerator, Mutation, MutationId, Outcome, Period,
    PullRequest, PullResponse, PushRequest, PushResponse, Record, RecordId, MAX_PUSH_BATCH,
    PROTOCOL_VERSION,
};
use thidua_server::accounts::{create_account, NewAccount};
use thidua_server::auth::{NewPassword, Role, Username};
use thidua_server::config::PasswordCost;
use thidua_server::{Config, Database};

const PASSWORD: &str = "load benchmark password";
/// Cheap hashes for the benchmark's accounts: signing in is not what is measured.
const CHEAP: PasswordCost = PasswordCost {
    memory_kib: 64,
    iterations: 1,
    parallelism: 1,
};
const PULL_PAGE: u32 = 200;
const NEW_SHARE: f64 = 0.3;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
const HELD_P99: Duration = Duration::from_secs(1);
const THROUGHPUT_DEVICES: [usize; 3] = [4, 8, 16];
/// The browser's header (Chromium): the server answers with brotli.
const ACCEPT_ENCODING: &str = "gzip, deflate, br, zstd";
const COMPRESS_ABOVE: usize = 1024;

// ---------------------------------------------------------------------------------------------
// Options

#[derive(Clone)]
struct Options {
    quick: bool,
    out: Option<PathBuf>,
    levels: Vec<usize>,
    /// Devices at a tablet's pace (a sync every 5–15 s), after the ramp.
    fleet: Vec<usize>,
    warmup: Duration,
    window: Duration,
    fleet_window: Duration,
    only: Option<String>,
    perf: Option<PathBuf>,
    /// RUST_LOG for the server, and where its log is kept (`--server-log FILTER DIR`).
    server_log: Option<(String, PathBuf)>,
    server_bin: PathBuf,
    postgres: Option<String>,
}

impl Options {
    fn parse() -> Options {
        let mut args = std::env::args().skip(1);
        let mut quick = false;
        let mut out = None;
        let mut levels = None;
        let mut fleet = None;
        let mut window = None;
        let mut only = None;
        let mut perf = None;
        let mut server_log = None;
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--quick" => quick = true,
                "--out" => out = args.next().map(PathBuf::from),
                "--levels" => {
                    levels = args.next().map(|text| {
                        text.split(',')
                            .map(|n| n.trim().parse().expect("--levels: numbers"))
                            .collect::<Vec<usize>>()
                    })
                }
                "--fleet" => {
                    fleet = args.next().map(|text| {
                        text.split(',')
                            .filter(|n| !n.trim().is_empty())
                            .map(|n| n.trim().parse().expect("--fleet: numbers"))
                            .collect::<Vec<usize>>()
                    })
                }
                "--window" => {
                    window = args
                        .next()
                        .map(|s| Duration::from_secs_f64(s.parse().expect("--window: seconds")))
                }
                "--only" => only = args.next(),
                "--perf" => perf = args.next().map(PathBuf::from),
                "--server-log" => {
                    server_log = args.next().zip(args.next().map(PathBuf::from));
                }
                // cargo bench passes --bench to targets without the test harness
                "--bench" => {}
                other => eprintln!("load: ignoring argument {other}"),
            }
        }
        let server_bin = std::env::var_os("THIDUA_SERVER_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/server/thidua-server")
            });
        Options {
            quick,
            out,
            levels: levels.unwrap_or_else(|| {
                if quick {
                    vec![10, 50, 100]
                } else {
                    vec![10, 50, 100, 250, 500, 1000, 2000]
                }
            }),
            fleet: fleet.unwrap_or_else(|| if quick { vec![250] } else { vec![1000, 2000] }),
            warmup: Duration::from_secs(if quick { 2 } else { 5 }),
            window: window.unwrap_or(Duration::from_secs(if quick { 5 } else { 20 })),
            fleet_window: window.unwrap_or(Duration::from_secs(if quick { 15 } else { 30 })),
            only,
            perf,
            server_log,
            server_bin,
            postgres: std::env::var("THIDUA_BENCH_POSTGRES_URL")
                .ok()
                .filter(|u| !u.is_empty()),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Households

/// splitmix64: small and seedable.
#[derive(Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
    fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        for b in out.iter_mut() {
            *b = self.next() as u8;
        }
        out
    }
}

const VILLAGES: [&str; 6] = [
    "Bản Hụm",
    "Bản Nà",
    "Bản Mòn",
    "Bản Pá",
    "Bản Co Mạ",
    "Bản Phiêng",
];
const DEPRIVATIONS: [&str; 12] = [
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
];

/// A household as an officer enters it: every field of the form, the 12 deprivation indicators,
/// consistent with each other (the members each indicator needs, the floor area per person).
fn random_household(rng: &mut Rng) -> Fields {
    let members = 3 + rng.below(5) as i64;
    let working_age = 1 + rng.below(members as u64 - 1) as i64;
    let mut fields: Fields = serde_json::from_value(json!({
        "head_name": format!("Lò Văn {}", rng.below(100_000)),
        "village": VILLAGES[rng.below(VILLAGES.len() as u64) as usize],
        "area": "rural",
        "members": members,
        "working_age_members": working_age,
        "children_under_16": members - working_age,
        "members_16_to_30": 1,
        "income_per_person_month": (5 + rng.below(30) as i64) * 100_000,
        "floor_area_m2": 16 + 4 * rng.below(15) as i64,
    }))
    .expect("household fields");
    for d in DEPRIVATIONS {
        fields.insert(d.to_string(), Value::Bool(rng.chance(0.2)));
    }
    settle_floor_area(&mut fields);
    fields
}

/// The floor-area deprivation follows from the area and the members (under 8 m² each).
fn settle_floor_area(fields: &mut Fields) {
    let number = |name: &str| fields.get(name).and_then(Value::as_i64).unwrap_or(0);
    let deprived = number("floor_area_m2") < 8 * number("members");
    fields.insert("dep_floor_area".into(), Value::Bool(deprived));
}

/// An edit that keeps a household valid: one or two fields, as a correction would.
fn random_change(rng: &mut Rng, fields: &mut Fields) {
    for _ in 0..=rng.below(2) {
        match rng.below(5) {
            0 => fields.insert(
                "head_name".into(),
                json!(format!("Lò Văn {}", rng.below(100_000))),
            ),
            1 => fields.insert(
                "village".into(),
                json!(VILLAGES[rng.below(VILLAGES.len() as u64) as usize]),
            ),
            2 => fields.insert(
                "income_per_person_month".into(),
                json!((5 + rng.below(30) as i64) * 100_000),
            ),
            3 => fields.insert(
                DEPRIVATIONS[rng.below(12) as usize].into(),
                json!(rng.chance(0.3)),
            ),
            _ => fields.insert("floor_area_m2".into(), json!(16 + 4 * rng.below(15) as i64)),
        };
    }
    settle_floor_area(fields);
}

fn household(id: RecordId, commune: &UnitCode) -> Record {
    Record {
        id,
        data_set: DataSet::Household,
        org_unit: commune.clone(),
        period: Period::parse("2023").expect("period"),
        fields: Fields::new(),
        revision: 0,
        deleted: false,
        conflicts: Vec::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// HTTP as the app speaks it

#[derive(Debug)]
enum Failure {
    Status(u16),
    Timeout,
    Connection,
    Unreadable,
}

impl Failure {
    fn label(&self) -> String {
        match self {
            Failure::Status(code) => format!("HTTP {code}"),
            Failure::Timeout => "timeout".into(),
            Failure::Connection => "connection".into(),
            Failure::Unreadable => "unreadable answer".into(),
        }
    }
}

async fn post<B: serde::Serialize, R: serde::de::DeserializeOwned>(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    device: Option<DeviceId>,
    body: &B,
    compress: bool,
) -> Result<R, Failure> {
    let json = serde_json::to_vec(body).expect("request body");
    let mut request = http
        .post(url)
        .bearer_auth(token)
        .header("accept-encoding", ACCEPT_ENCODING)
        .header("content-type", "application/json");
    if let Some(device) = device {
        request = request.header("x-thidua-device", device.to_string());
    }
    request = if compress && json.len() >= COMPRESS_ABOVE {
        let mut encoder =
            flate2::write::GzEncoder::new(Vec::with_capacity(json.len() / 4), Default::default());
        encoder.write_all(&json).expect("gzip");
        request
            .header("content-encoding", "gzip")
            .body(encoder.finish().expect("gzip"))
    } else {
        request.body(json)
    };
    let response = request.send().await.map_err(|e| {
        if e.is_timeout() {
            Failure::Timeout
        } else {
            Failure::Connection
        }
    })?;
    let status = response.status();
    let encoding = response
        .headers()
        .get("content-encoding")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let bytes = response.bytes().await.map_err(|e| {
        if e.is_timeout() {
            Failure::Timeout
        } else {
            Failure::Connection
        }
    })?;
    if !status.is_success() {
        return Err(Failure::Status(status.as_u16()));
    }
    let mut plain = Vec::with_capacity(bytes.len() * 6);
    let read = match encoding.as_str() {
        "br" => brotli::Decompressor::new(&bytes[..], 4096).read_to_end(&mut plain),
        "gzip" => flate2::read::GzDecoder::new(&bytes[..]).read_to_end(&mut plain),
        _ => {
            plain.extend_from_slice(&bytes);
            Ok(plain.len())
        }
    };
    read.map_err(|_| Failure::Unreadable)?;
    serde_json::from_slice(&plain).map_err(|_| Failure::Unreadable)
}

// ---------------------------------------------------------------------------------------------
// A device

struct Device {
    id: DeviceId,
    commune: UnitCode,
    token: String,
    ids: IdGenerator,
    rng: Rng,
    /// The households it created, as it holds them; only these are edited.
    own: Vec<Replica>,
    index: HashMap<RecordId, usize>,
    /// Own households with a change waiting (sent or not).
    waiting: BTreeSet<usize>,
    cursor: Option<Cursor>,
}

/// What one stretch of work measured, counting only requests started inside the window.
#[derive(Default)]
struct Tally {
    push_us: Vec<u32>,
    pull_us: Vec<u32>,
    mutations: u64,
    merged: u64,
    conflicts: u64,
    rejected: u64,
    records_pulled: u64,
    errors: BTreeMap<String, u64>,
}

impl Tally {
    fn add(&mut self, other: Tally) {
        self.push_us.extend(other.push_us);
        self.pull_us.extend(other.pull_us);
        self.mutations += other.mutations;
        self.merged += other.merged;
        self.conflicts += other.conflicts;
        self.rejected += other.rejected;
        self.records_pulled += other.records_pulled;
        for (k, v) in other.errors {
            *self.errors.entry(k).or_default() += v;
        }
    }
    fn error_count(&self) -> u64 {
        self.errors.values().sum::<u64>() + self.rejected
    }
}

#[derive(Clone, Copy)]
struct Window {
    start: Instant,
    end: Instant,
}

impl Window {
    fn holds(&self, at: Instant) -> bool {
        at >= self.start && at < self.end
    }
}

impl Device {
    fn next_id(&mut self) -> uuid::Uuid {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_millis() as u64;
        let random = self.rng.bytes();
        self.ids.next(now, random)
    }

    /// `size` new changes (about 30% new households, the rest edits of households it created that
    /// have no change waiting), on top of whatever is still waiting: `size` more mutations.
    fn edit(&mut self, size: usize) {
        let target = self.waiting.len() + size;
        // an edit that happens to write the values already there changes nothing: try again
        for _ in 0..size * 3 {
            if self.waiting.len() >= target {
                break;
            }
            let mut pick = None;
            if self.own.len() >= 3 && !self.rng.chance(NEW_SHARE) {
                for _ in 0..8 {
                    let i = self.rng.below(self.own.len() as u64) as usize;
                    if !self.waiting.contains(&i) {
                        pick = Some(i);
                        break;
                    }
                }
            }
            let (current, template, edit) = match pick {
                Some(i) => {
                    let replica = self.own[i].clone();
                    let seen = replica.record.clone();
                    let mut fields = seen.fields.clone();
                    random_change(&mut self.rng, &mut fields);
                    let edit = Edit {
                        seen: Some(seen.clone()),
                        fields,
                        deleted: false,
                        resolved: BTreeSet::new(),
                    };
                    (Some(replica), seen, edit)
                }
                None => {
                    let id = RecordId(self.next_id());
                    let edit = Edit {
                        seen: None,
                        fields: random_household(&mut self.rng),
                        deleted: false,
                        resolved: BTreeSet::new(),
                    };
                    (None, household(id, &self.commune), edit)
                }
            };
            let mutation = MutationId(self.next_id());
            if let Some(replica) = Replica::edit(current, template, &edit, mutation, self.id) {
                let id = replica.record.id;
                let i = match self.index.get(&id) {
                    Some(&i) => {
                        self.own[i] = replica;
                        i
                    }
                    None => {
                        self.own.push(replica);
                        self.index.insert(id, self.own.len() - 1);
                        self.own.len() - 1
                    }
                };
                self.waiting.insert(i);
            }
        }
    }

    fn outbox(&self) -> Vec<Mutation> {
        self.waiting
            .iter()
            .filter_map(|&i| self.own[i].sendable().cloned())
            .take(MAX_PUSH_BATCH)
            .collect()
    }

    async fn push(
        &mut self,
        http: &reqwest::Client,
        base: &str,
        window: Window,
        tally: &mut Tally,
    ) {
        let mutations = self.outbox();
        if mutations.is_empty() {
            return;
        }
        let request = PushRequest {
            protocol: PROTOCOL_VERSION,
            device: self.id,
            mutations,
        };
        let started = Instant::now();
        let answer: Result<PushResponse, Failure> = post(
            http,
            &format!("{base}/api/sync/push"),
            &self.token,
            None,
            &request,
            true,
        )
        .await;
        let took = started.elapsed();
        let counted = window.holds(started);
        match answer {
            Ok(response) => {
                if counted {
                    tally.push_us.push(took.as_micros() as u32);
                }
                for result in &response.results {
                    match &result.outcome {
                        Outcome::Applied { .. } => {}
                        Outcome::Merged { .. } => tally.merged += u64::from(counted),
                        Outcome::Conflict { .. } => tally.conflicts += u64::from(counted),
                        Outcome::Rejected { errors } => {
                            if counted {
                                tally.rejected += 1;
                            }
                            if tally.rejected == 1 {
                                eprintln!("load: a household was refused: {errors:?}");
                            }
                        }
                    }
                    if counted && result.outcome.revision().is_some() {
                        tally.mutations += 1;
                    }
                    let Some(record) = result.record.as_ref().map(|r| r.id).or_else(|| {
                        request
                            .mutations
                            .iter()
                            .find(|m| m.id == result.mutation)
                            .map(|m| m.record.id)
                    }) else {
                        continue;
                    };
                    if let Some(&i) = self.index.get(&record) {
                        self.own[i].apply_push_result(result);
                        if self.own[i].sendable().is_none() {
                            self.waiting.remove(&i);
                        }
                    }
                }
            }
            Err(failure) => {
                if counted {
                    *tally
                        .errors
                        .entry(format!("push: {}", failure.label()))
                        .or_default() += 1;
                }
            }
        }
    }

    /// Pulls to the end; `window` None: not timed (the catch-up of a new device).
    async fn pull(
        &mut self,
        http: &reqwest::Client,
        base: &str,
        window: Option<Window>,
        tally: &mut Tally,
    ) -> Result<(), Failure> {
        loop {
            let request = PullRequest {
                protocol: PROTOCOL_VERSION,
                cursor: self.cursor.clone(),
                limit: PULL_PAGE,
                org_unit: None,
            };
            let started = Instant::now();
            let answer: Result<PullResponse, Failure> = post(
                http,
                &format!("{base}/api/sync/pull"),
                &self.token,
                Some(self.id),
                &request,
                false,
            )
            .await;
            let took = started.elapsed();
            let counted = window.is_some_and(|w| w.holds(started));
            let page = match answer {
                Ok(page) => page,
                Err(failure) => {
                    if counted {
                        *tally
                            .errors
                            .entry(format!("pull: {}", failure.label()))
                            .or_default() += 1;
                    }
                    return Err(failure);
                }
            };
            if counted {
                tally.pull_us.push(took.as_micros() as u32);
                tally.records_pulled += page.records.len() as u64;
            }
            for record in &page.records {
                if let Some(&i) = self.index.get(&record.id) {
                    self.own[i].apply_pull(record);
                }
            }
            self.cursor = Some(page.next_cursor);
            if !page.has_more {
                return Ok(());
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The server process

struct ServerProcess {
    child: std::process::Child,
    base: String,
}

impl ServerProcess {
    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn launch(
    bin: &Path,
    database_url: &str,
    dir: &Path,
    rust_log: Option<&str>,
) -> ServerProcess {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let dist = dir.join("dist");
    std::fs::create_dir_all(&dist).expect("dist folder");
    let log = std::fs::File::create(dir.join("server.log")).expect("server log");
    let mut command = std::process::Command::new(bin);
    command
        .env("THIDUA_ADDR", format!("127.0.0.1:{port}"))
        .env("DATABASE_URL", database_url)
        .env("THIDUA_DIST", &dist)
        .env("THIDUA_DEMO", "0")
        .env_remove("RUST_LOG")
        .env_remove("THIDUA_ADMIN_USERNAME")
        .stdout(log.try_clone().expect("log"))
        .stderr(log);
    if let Some(filter) = rust_log {
        command.env("RUST_LOG", filter);
    }
    let child = command
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
    let server = ServerProcess {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    let http = reqwest::Client::new();
    let started = Instant::now();
    loop {
        if let Ok(r) = http.get(format!("{}/api/health", server.base)).send().await {
            if r.status().is_success() {
                return server;
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the server did not answer; its log: {}",
            dir.join("server.log").display()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// User and system CPU time of a process so far (from /proc), in seconds.
fn cpu_seconds(pid: u32, ticks: f64) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // the fields after the command name (which may hold spaces), from field 3 on
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11).and_then(|v| v.parse().ok()).unwrap_or(0.0);
    let stime: f64 = fields.get(12).and_then(|v| v.parse().ok()).unwrap_or(0.0);
    (utime + stime) / ticks
}

fn clock_ticks() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// Creates `thidua_load_<uuid>` on the server of `url` and returns its URL.
async fn fresh_postgres_database(url: &str) -> Result<String, String> {
    let mut admin = sqlx::PgConnection::connect(url)
        .await
        .map_err(|e| format!("cannot connect to {url}: {e}"))?;
    let name = format!("thidua_load_{}", uuid::Uuid::now_v7().simple());
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .map_err(|e| format!("CREATE DATABASE: {e}"))?;
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let server = match base.rsplit_once('/') {
        Some((server, _db)) if server.contains("://") && !server.ends_with('/') => server,
        _ => base.trim_end_matches('/'),
    };
    Ok(format!("{server}/{name}{query}"))
}

// ---------------------------------------------------------------------------------------------
// Profiles (optional)

struct Profile {
    record: std::process::Child,
    count: std::process::Child,
    data: PathBuf,
    counts: PathBuf,
}

fn start_profile(dir: &Path, pid: u32, name: &str, seconds: f64) -> Option<Profile> {
    std::fs::create_dir_all(dir).ok()?;
    let data = dir.join(format!("{name}.perf.data"));
    let counts = dir.join(format!("{name}.syscalls.txt"));
    let sleep = format!("{seconds:.1}");
    let quiet = || std::process::Stdio::null();
    let record = std::process::Command::new("perf")
        .args(["record", "-q", "-F", "499", "-p"])
        .arg(pid.to_string())
        .arg("-o")
        .arg(&data)
        .args(["--", "sleep", &sleep])
        .stdout(quiet())
        .stderr(quiet())
        .spawn()
        .ok()?;
    let count = std::process::Command::new("perf")
        .args([
            "stat",
            "-x",
            ",",
            "-e",
            "syscalls:sys_enter_fdatasync,syscalls:sys_enter_fsync,syscalls:sys_enter_pwrite64",
            "-p",
        ])
        .arg(pid.to_string())
        .arg("-o")
        .arg(&counts)
        .args(["--", "sleep", &sleep])
        .stdout(quiet())
        .stderr(quiet())
        .spawn()
        .ok()?;
    Some(Profile {
        record,
        count,
        data,
        counts,
    })
}

/// The profile's top functions by own CPU time, and the syscall counts per second.
fn finish_profile(mut profile: Profile, seconds: f64) -> String {
    let _ = profile.record.wait();
    let _ = profile.count.wait();
    let mut out = String::new();
    if let Ok(text) = std::fs::read_to_string(&profile.counts) {
        let counts: Vec<String> = text
            .lines()
            .filter_map(|line| {
                let parts: Vec<&str> = line.split(',').collect();
                let n: f64 = parts.first()?.trim().parse().ok()?;
                let event = parts
                    .get(2)?
                    .trim()
                    .trim_start_matches("syscalls:sys_enter_");
                Some(format!("{event} {:.0}/s", n / seconds))
            })
            .collect();
        if !counts.is_empty() {
            out.push_str(&format!(
                "System calls of the server: {}.\n\n",
                counts.join(", ")
            ));
        }
    }
    let report = std::process::Command::new("perf")
        .args([
            "report",
            "--stdio",
            "--no-children",
            "-g",
            "none",
            "--sort",
            "dso,symbol",
            "--percent-limit",
            "1.5",
            "-i",
        ])
        .arg(&profile.data)
        .output();
    if let Ok(report) = report {
        let text = String::from_utf8_lossy(&report.stdout);
        let lines: Vec<String> = text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .take(25)
            .map(|l| {
                // perf pads its columns to the longest symbol: one space between them is enough
                let mut words: Vec<&str> = l.split_whitespace().collect();
                while words.last() == Some(&"-") {
                    words.pop();
                }
                let l = words.join(" ");
                if l.len() > 140 {
                    format!("{}…", &l[..l.floor_char_boundary(140)])
                } else {
                    l
                }
            })
            .collect();
        if !lines.is_empty() {
            out.push_str("Server CPU by function (perf, own time, above 1.5%):\n\n```text\n");
            out.push_str(&lines.join("\n"));
            out.push_str("\n```\n");
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The run

struct Step {
    devices: usize,
    seconds: f64,
    tally: Tally,
    /// CPU used per second of the window: 1.0 is one core.
    server_cpu: f64,
    client_cpu: f64,
    /// The machine's 1-minute load average at the end of the window.
    load: f64,
    /// The server's profile during the window (`--perf`).
    profile: Option<String>,
}

struct BackendReport {
    name: &'static str,
    /// The ramp, busy devices.
    steps: Vec<Step>,
    /// Devices at a tablet's pace.
    fleet: Vec<Step>,
    throughput: Vec<Step>,
    skipped: Vec<usize>,
    records_at_end: u64,
    /// Where a push batch's time went, from the server's log.
    phases: String,
}

fn percentile(sorted: &[u32], p: f64) -> Option<Duration> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(Duration::from_micros(u64::from(sorted[rank - 1])))
}

fn millis(d: Option<Duration>) -> String {
    match d {
        None => "–".into(),
        Some(d) if d < Duration::from_millis(10) => format!("{:.1}", d.as_secs_f64() * 1000.0),
        Some(d) => format!("{:.0}", d.as_secs_f64() * 1000.0),
    }
}

impl Step {
    fn sorted(&self) -> (Vec<u32>, Vec<u32>) {
        let mut push = self.tally.push_us.clone();
        let mut pull = self.tally.pull_us.clone();
        push.sort_unstable();
        pull.sort_unstable();
        (push, pull)
    }

    fn held(&self) -> bool {
        let (push, pull) = self.sorted();
        let under = |v: &[u32]| percentile(v, 0.99).is_none_or(|p| p < HELD_P99);
        self.tally.error_count() == 0 && !push.is_empty() && under(&push) && under(&pull)
    }

    fn per_second(&self, n: u64) -> f64 {
        n as f64 / self.seconds
    }

    fn row(&self) -> String {
        let (push, pull) = self.sorted();
        let errors = if self.tally.error_count() == 0 {
            "0".to_string()
        } else {
            let mut parts: Vec<String> = self
                .tally
                .errors
                .iter()
                .map(|(k, v)| format!("{v} {k}"))
                .collect();
            if self.tally.rejected > 0 {
                parts.push(format!("{} refused", self.tally.rejected));
            }
            parts.join(", ")
        };
        format!(
            "| {} | {:.0} | {:.0} | {:.0} | {} / {} / {} | {} / {} / {} | {} | {:.0}% | {:.0}% | {:.1} |",
            self.devices,
            self.per_second(self.tally.mutations),
            self.per_second(push.len() as u64),
            self.per_second(pull.len() as u64),
            millis(percentile(&push, 0.5)),
            millis(percentile(&push, 0.95)),
            millis(percentile(&push, 0.99)),
            millis(percentile(&pull, 0.5)),
            millis(percentile(&pull, 0.95)),
            millis(percentile(&pull, 0.99)),
            errors,
            self.server_cpu * 100.0,
            self.client_cpu * 100.0,
            self.load,
        )
    }
}

const TABLE_HEAD: &str = "| devices | mutations/s | pushes/s | pull pages/s | push p50 / p95 / p99 (ms) | pull p50 / p95 / p99 (ms) | errors | server CPU | client CPU | load |\n|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|";

async fn login(http: &reqwest::Client, base: &str, username: &str) -> String {
    for attempt in 0..5 {
        let answer = http
            .post(format!("{base}/api/auth/login"))
            .json(&json!({"username": username, "password": PASSWORD}))
            .send()
            .await;
        if let Ok(response) = answer {
            if response.status().is_success() {
                let body: Value = response.json().await.expect("login answer");
                return body["token"].as_str().expect("token").to_string();
            }
        }
        tokio::time::sleep(Duration::from_millis(200 * (attempt + 1))).await;
    }
    panic!("{username} cannot sign in");
}

fn officer(commune: &UnitCode) -> String {
    format!("xa.{commune}")
}

/// Runs `devices` (moved in and given back) until the window closes; returns the tally.
async fn run_devices(
    devices: Vec<Device>,
    http: &reqwest::Client,
    base: &str,
    window: Window,
    pace: Pace,
) -> (Vec<Device>, Tally) {
    let mut tasks = Vec::with_capacity(devices.len());
    for mut device in devices {
        let (http, base) = (http.clone(), base.to_string());
        tasks.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            // spread the first cycles over the pause, as tablets never start in step
            if let Some((_, high)) = pace.pause {
                let first = device.rng.below(high);
                tokio::time::sleep(Duration::from_millis(first)).await;
            }
            let (low, high) = pace.batch;
            while Instant::now() < window.end {
                let size = low + device.rng.below((high - low + 1) as u64) as usize;
                // what is still waiting goes first: a failed push is sent again with the new changes
                let waiting = device.waiting.len();
                device.edit(size.saturating_sub(waiting));
                device.push(&http, &base, window, &mut tally).await;
                if pace.pulls {
                    let _ = device.pull(&http, &base, Some(window), &mut tally).await;
                }
                if let Some((low, high)) = pace.pause {
                    let pause = low + device.rng.below(high - low);
                    tokio::time::sleep(Duration::from_millis(pause)).await;
                }
            }
            (device, tally)
        }));
    }
    let mut back = Vec::new();
    let mut tally = Tally::default();
    for task in tasks {
        let (device, t) = task.await.expect("device task");
        back.push(device);
        tally.add(t);
    }
    (back, tally)
}

/// One backend's run: the server, the client and the devices signed in so far.
struct Run<'a> {
    name: &'static str,
    options: &'a Options,
    http: reqwest::Client,
    base: String,
    pid: u32,
    ticks: f64,
    communes: Vec<UnitCode>,
    devices: Vec<Device>,
    seed: Rng,
}

/// How the devices of a step behave.
#[derive(Clone, Copy)]
struct Pace {
    /// The pause between cycles, in ms (low, high); None: none.
    pause: Option<(u64, u64)>,
    /// Mutations per push (low, high).
    batch: (usize, usize),
    pulls: bool,
}

impl Run<'_> {
    /// Signs in and catches up (not timed) devices until there are `n`.
    async fn devices_up_to(&mut self, n: usize) {
        let mut fresh = Vec::new();
        while self.devices.len() + fresh.len() < n {
            let k = self.devices.len() + fresh.len();
            let commune = self.communes[k % self.communes.len()].clone();
            let mut rng = Rng(self.seed.next());
            fresh.push(Device {
                id: DeviceId(uuid::Builder::from_random_bytes(rng.bytes()).into_uuid()),
                commune,
                token: String::new(),
                ids: IdGenerator::new(None),
                rng,
                own: Vec::new(),
                index: HashMap::new(),
                waiting: BTreeSet::new(),
                cursor: None,
            });
        }
        let semaphore = Arc::new(tokio::sync::Semaphore::new(32));
        let mut joining = Vec::new();
        for mut device in fresh {
            let (http, base, semaphore) = (self.http.clone(), self.base.clone(), semaphore.clone());
            joining.push(tokio::spawn(async move {
                let _permit = semaphore.acquire().await.expect("semaphore");
                device.token = login(&http, &base, &officer(&device.commune)).await;
                let mut ignored = Tally::default();
                for _ in 0..5 {
                    if device.pull(&http, &base, None, &mut ignored).await.is_ok() {
                        break;
                    }
                }
                device
            }));
        }
        for task in joining {
            self.devices.push(task.await.expect("device joins"));
        }
    }

    /// Runs the first `n` devices at `pace` through a warm-up and a measured window.
    async fn step(
        &mut self,
        n: usize,
        pace: Pace,
        window: Duration,
        profile: Option<String>,
    ) -> Step {
        self.devices_up_to(n).await;
        let start = Instant::now() + self.options.warmup;
        let window = Window {
            start,
            end: start + window,
        };
        let (pid, ticks) = (self.pid, self.ticks);
        let measure = tokio::spawn(async move {
            tokio::time::sleep_until(window.start.into()).await;
            let before = (
                cpu_seconds(pid, ticks),
                cpu_seconds(std::process::id(), ticks),
            );
            tokio::time::sleep_until(window.end.into()).await;
            let after = (
                cpu_seconds(pid, ticks),
                cpu_seconds(std::process::id(), ticks),
            );
            (after.0 - before.0, after.1 - before.1, load_average())
        });
        let seconds = (window.end - window.start).as_secs_f64();
        let profile_task = self
            .options
            .perf
            .clone()
            .zip(profile.clone())
            .map(|(dir, name)| {
                tokio::spawn(async move {
                    tokio::time::sleep_until(window.start.into()).await;
                    start_profile(&dir, pid, &name, seconds)
                })
            });
        let rest = self.devices.split_off(n.min(self.devices.len()));
        let running = std::mem::take(&mut self.devices);
        let (mut back, tally) = run_devices(running, &self.http, &self.base, window, pace).await;
        back.extend(rest);
        self.devices = back;
        let (server_cpu, client_cpu, load) = measure.await.expect("cpu");
        let profile = match profile_task {
            Some(task) => task
                .await
                .expect("profile")
                .map(|p| finish_profile(p, seconds)),
            None => None,
        };
        Step {
            devices: n,
            seconds,
            tally,
            server_cpu: server_cpu / seconds,
            client_cpu: client_cpu / seconds,
            load,
            profile,
        }
    }
}

/// The machine's 1-minute load average (every process, this run's included).
fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(0.0)
}

/// Whether a step is so far past the line that larger ones would only queue longer.
fn hopeless(step: &Step) -> bool {
    let (push, pull) = step.sorted();
    let p99 = percentile(&push, 0.99)
        .max(percentile(&pull, 0.99))
        .unwrap_or_default();
    let requests = (push.len() + pull.len()) as u64;
    p99 > 5 * HELD_P99 || step.tally.error_count() * 10 > requests.max(1)
}

const BUSY: Pace = Pace {
    pause: Some((500, 1500)),
    batch: (5, 15),
    pulls: true,
};
const TABLET: Pace = Pace {
    pause: Some((5_000, 15_000)),
    batch: (5, 15),
    pulls: true,
};
const FLAT_OUT: Pace = Pace {
    pause: None,
    batch: (MAX_PUSH_BATCH, MAX_PUSH_BATCH),
    pulls: false,
};

async fn run_backend(
    name: &'static str,
    database: Database,
    database_url: String,
    dir: &Path,
    options: &Options,
) -> BackendReport {
    let catalog = OrgCatalog::sonla();
    let communes: Vec<UnitCode> = catalog
        .list("sonla-2023")
        .expect("the 2023 list")
        .communes()
        .map(|c| c.code.clone())
        .collect();

    // accounts, written through the library into the fresh database (which it also migrates)
    {
        let mut config = Config::sqlite_in(dir, &dir.join("dist"));
        config.database = database;
        config.password_cost = CHEAP;
        let (_, state) = thidua_server::build_app(&config)
            .await
            .expect("the database opens");
        for commune in &communes {
            create_account(
                &state,
                NewAccount {
                    username: Username::parse(&officer(commune)).expect("username"),
                    display_name: format!("Cán bộ xã {commune}"),
                    role: Role::CommuneOfficer,
                    org_unit: commune.clone(),
                    password: NewPassword::parse(PASSWORD).expect("password"),
                },
            )
            .await
            .expect("account");
        }
    }
    let server = launch(
        &options.server_bin,
        &database_url,
        dir,
        Some(
            options
                .server_log
                .as_ref()
                .map_or(PHASE_LOG, |(filter, _)| filter.as_str()),
        ),
    )
    .await;
    println!(
        "{name}: server at {}, {} officer accounts",
        server.base,
        communes.len()
    );

    let mut run = Run {
        name,
        options,
        http: reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .pool_idle_timeout(Duration::from_secs(300))
            .tcp_nodelay(true)
            .build()
            .expect("client"),
        base: server.base.clone(),
        pid: server.pid(),
        ticks: clock_ticks(),
        communes,
        devices: Vec::new(),
        seed: Rng(0x7417_d0a5),
    };
    let mut report = BackendReport {
        name,
        steps: Vec::new(),
        fleet: Vec::new(),
        throughput: Vec::new(),
        skipped: Vec::new(),
        records_at_end: 0,
        phases: String::new(),
    };
    // the ramp, busy devices
    let mut stop = false;
    for &level in &options.levels {
        if stop {
            report.skipped.push(level);
            continue;
        }
        // every step is profiled; the report shows the last one run (the heaviest)
        let profile = Some(format!("{}-{level}-devices", run.name));
        let step = run.step(level, BUSY, options.window, profile).await;
        println!("{name}: {}", step.row());
        stop = hopeless(&step);
        report.steps.push(step);
    }
    // as many tablets at a tablet's pace
    for &level in &options.fleet {
        let step = run.step(level, TABLET, options.fleet_window, None).await;
        println!("{name}: at a tablet's pace {}", step.row());
        report.fleet.push(step);
    }
    // the storage's ceiling: full batches back to back, from a few devices to more than it can take at once
    for devices in THROUGHPUT_DEVICES {
        // the profile, when asked for, of the largest (the writer busiest)
        let profile = (THROUGHPUT_DEVICES.last() == Some(&devices))
            .then(|| format!("{}-throughput", run.name));
        let step = run.step(devices, FLAT_OUT, options.window, profile).await;
        println!("{name}: throughput {}", step.row());
        report.throughput.push(step);
    }

    drop(run);
    report.records_at_end = count_records(&database_url).await;
    drop(server);
    report.phases = phases(&dir.join("server.log"));
    if let Some((_, keep)) = &options.server_log {
        let _ = std::fs::create_dir_all(keep);
        let _ = std::fs::copy(
            dir.join("server.log"),
            keep.join(format!("{}-server.log", name.to_lowercase())),
        );
    }
    report
}

/// The server's log filter: its default, plus the timing of each group of pushes.
const PHASE_LOG: &str = "info,sqlx=warn,tower_http=info,thidua_server::push_writer=debug";

/// Where pushes spent their time, from the server's debug line "group applied" (one per group of
/// pushes written in one transaction): median and p90 of each phase, for groups of busy devices'
/// pushes (up to 15 mutations each) and of the throughput run's full batches, over the whole run.
fn phases(log: &Path) -> String {
    let Ok(text) = std::fs::read_to_string(log) else {
        return String::new();
    };
    // fields as `name=123`, once the terminal colours are gone
    let mut plain = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            plain.push(c);
        }
    }
    let numbers = |line: &str| -> HashMap<String, u64> {
        line.split_whitespace()
            .filter_map(|w| w.split_once('='))
            .filter_map(|(k, v)| Some((k.to_string(), v.parse().ok()?)))
            .collect()
    };
    let groups: Vec<HashMap<String, u64>> = plain
        .lines()
        .filter(|l| l.contains("group applied"))
        .map(numbers)
        .filter(|m| m.get("pushes").is_some_and(|&n| n > 0) && m.contains_key("mutations"))
        .collect();
    let mut out = String::new();
    // a group is classed by its mutations per push: the busy devices send a handful each, the
    // throughput run full batches
    let classes = [
        ("devices syncing (up to 15 mutations a push)", 0.0..=15.0),
        ("the throughput run (150 or more a push)", 150.0..=f64::MAX),
    ];
    let row = |what: &str, mut values: Vec<u64>, scale: f64, unit: &str| -> String {
        values.sort_unstable();
        let at = |p: f64| values[((values.len() as f64 * p) as usize).min(values.len() - 1)];
        format!(
            "| {what} | {:.1}{unit} | {:.1}{unit} |\n",
            at(0.5) as f64 / scale,
            at(0.9) as f64 / scale
        )
    };
    for (class, fits) in classes {
        let g: Vec<&HashMap<String, u64>> = groups
            .iter()
            .filter(|m| fits.contains(&(m["mutations"] as f64 / m["pushes"] as f64)))
            .collect();
        if g.is_empty() {
            continue;
        }
        let pushes: u64 = g.iter().map(|m| m["pushes"]).sum();
        let mutations: u64 = g.iter().map(|m| m["mutations"]).sum();
        out.push_str(&format!(
            "\n{} groups ({pushes} pushes, {mutations} mutations) from {class}; {:.1} pushes and {:.0} mutations a group on average:\n\n| phase | median | p90 |\n|---|---:|---:|\n",
            g.len(),
            pushes as f64 / g.len() as f64,
            mutations as f64 / g.len() as f64,
        ));
        let get = |k: &str| -> Vec<u64> { g.iter().filter_map(|m| m.get(k).copied()).collect() };
        out.push_str(&row("pushes in the group", get("pushes"), 1.0, ""));
        out.push_str(&row("mutations in the group", get("mutations"), 1.0, ""));
        for (what, key) in [
            (
                "queued, waiting for the group before (longest in the group)",
                "queue_wait_us",
            ),
            ("BEGIN and the revision counter's lock", "begin_us"),
            ("reading earlier answers and stored records", "read_us"),
            ("checking and merging (domain rules)", "check_merge_us"),
            ("writing records and answers (SQL)", "write_us"),
            ("COMMIT (to disk)", "commit_us"),
        ] {
            out.push_str(&row(what, get(key), 1000.0, " ms"));
        }
    }
    if out.is_empty() {
        return out;
    }
    format!(
        "Where a push's time goes inside the server (its own timing of each group of pushes written in one transaction, `RUST_LOG=thidua_server::push_writer=debug`), whole run:\n{out}"
    )
}

async fn count_records(url: &str) -> u64 {
    sqlx::any::install_default_drivers();
    let Ok(mut db) = sqlx::AnyConnection::connect(url).await else {
        return 0;
    };
    sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM records")
        .fetch_one(&mut db)
        .await
        .map_or(0, |n| n as u64)
}

fn section(report: &BackendReport) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "Busy devices (a sync every 0.5–1.5 s, 40 to 120 times a tablet's idle rhythm of one a minute):\n\n{TABLE_HEAD}\n"
    ));
    for step in &report.steps {
        out.push_str(&step.row());
        out.push('\n');
    }
    if !report.skipped.is_empty() {
        out.push_str(&format!(
            "\nNot run: {} devices (the step before was already far past 1 s, or failing).\n",
            report
                .skipped
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let held = report
        .steps
        .iter()
        .filter(|s| s.held())
        .map(|s| s.devices)
        .max();
    let peak = report.steps.iter().max_by(|a, b| {
        a.per_second(a.tally.mutations)
            .total_cmp(&b.per_second(b.tally.mutations))
    });
    out.push_str(&format!(
        "\nLargest step held (p99 under 1 s for pushes and pulls, no error): **{}**. ",
        held.map_or("none".to_string(), |n| format!("{n} devices"))
    ));
    if let Some(peak) = peak {
        out.push_str(&format!(
            "Peak: **{:.0} mutations/s** ({} devices).\n",
            peak.per_second(peak.tally.mutations),
            peak.devices
        ));
    }
    if !report.fleet.is_empty() {
        out.push_str(&format!(
            "\nAt a tablet's pace (a sync every 5–15 s, still 4 to 12 times the idle rhythm):\n\n{TABLE_HEAD}\n"
        ));
        for step in &report.fleet {
            out.push_str(&step.row());
            out.push('\n');
        }
    }
    for t in &report.throughput {
        let (push, _) = t.sorted();
        out.push_str(&format!(
            "\nThroughput ({} devices pushing batches of {MAX_PUSH_BATCH} back to back, no pulls): \
             **{:.0} mutations/s**, {:.1} pushes/s, push p50 {} ms, p99 {} ms, errors {}, server CPU {:.0}%, \
             client CPU {:.0}%, load {:.1}.\n",
            t.devices,
            t.per_second(t.tally.mutations),
            t.per_second(push.len() as u64),
            millis(percentile(&push, 0.5)),
            millis(percentile(&push, 0.99)),
            t.tally.error_count(),
            t.server_cpu * 100.0,
            t.client_cpu * 100.0,
            t.load,
        ));
    }
    let all = || report.steps.iter().chain(&report.fleet);
    let merged: u64 = all().map(|s| s.tally.merged).sum();
    let conflicts: u64 = all().map(|s| s.tally.conflicts).sum();
    out.push_str(&format!(
        "\nRecords on the server at the end: {}. Outcomes other than applied: {merged} merged, {conflicts} conflicts \
         (each device edits only its own households).\n",
        report.records_at_end
    ));
    if !report.phases.is_empty() {
        out.push_str(&format!("\n{}", report.phases));
    }
    let profiled = report
        .steps
        .last()
        .into_iter()
        .map(|s| (format!("{} busy devices", s.devices), s))
        .chain(report.throughput.iter().map(|t| {
            (
                format!(
                    "the throughput run ({} devices × {MAX_PUSH_BATCH})",
                    t.devices
                ),
                t,
            )
        }));
    for (what, step) in profiled {
        if let Some(profile) = step.profile.as_ref().filter(|p| !p.is_empty()) {
            out.push_str(&format!(
                "\nProfile of the server during {what}:\n\n{profile}"
            ));
        }
    }
    out
}

/// The most devices of a step held (p99 under 1 s, no error).
fn largest_held(steps: &[Step]) -> String {
    if steps.is_empty() {
        return "not run".into();
    }
    steps
        .iter()
        .filter(|s| s.held())
        .map(|s| s.devices)
        .max()
        .map_or("none".into(), |n| n.to_string())
}

/// One figure of a backend's report, for the table against the goals.
type Figure = dyn Fn(&BackendReport) -> String;

fn best_throughput(report: &BackendReport) -> f64 {
    report
        .steps
        .iter()
        .chain(&report.fleet)
        .chain(report.throughput.iter())
        .map(|s| s.per_second(s.tally.mutations))
        .fold(0.0, f64::max)
}

fn main() {
    let options = Options::parse();
    assert!(
        options.server_bin.exists(),
        "no server binary at {} (cargo build --profile server -p thidua-server, or set THIDUA_SERVER_BIN)",
        options.server_bin.display()
    );
    // the generated households must be valid, or the run would measure refusals
    let criteria = CriteriaSet::ntm_2021_2025();
    let mut rng = Rng(1);
    let commune = UnitCode::parse("03646").expect("commune");
    for _ in 0..1000 {
        let mut record = household(RecordId(uuid::Uuid::now_v7()), &commune);
        record.fields = random_household(&mut rng);
        let errors = record.validate(&criteria);
        assert!(errors.is_empty(), "invalid household: {errors:?}");
        random_change(&mut rng, &mut record.fields);
        let errors = record.validate(&criteria);
        assert!(errors.is_empty(), "invalid edit: {errors:?}");
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let wanted = |name: &str| options.only.as_deref().is_none_or(|o| o == name);
    let mut reports = Vec::new();
    let mut notes = Vec::new();
    runtime.block_on(async {
        if wanted("sqlite") {
            let dir = tempfile::tempdir().expect("temp dir");
            let file = dir.path().join("thidua.db");
            reports.push(
                run_backend(
                    "SQLite",
                    Database::Sqlite(file.clone()),
                    format!("sqlite:{}", file.display()),
                    dir.path(),
                    &options,
                )
                .await,
            );
        }
        if wanted("postgres") {
            match &options.postgres {
                None => notes.push(
                    "PostgreSQL: not run (no THIDUA_BENCH_POSTGRES_URL; scripts/bench.sh starts a \
                     throwaway cluster when PostgreSQL is installed)."
                        .to_string(),
                ),
                Some(url) => match fresh_postgres_database(url).await {
                    Err(e) => notes.push(format!("PostgreSQL: not run ({e}).")),
                    Ok(db_url) => {
                        let dir = tempfile::tempdir().expect("temp dir");
                        reports.push(
                            run_backend(
                                "PostgreSQL",
                                Database::Postgres(db_url.clone()),
                                db_url,
                                dir.path(),
                                &options,
                            )
                            .await,
                        );
                    }
                },
            }
        }
    });

    let mut md = String::new();
    md.push_str("## Server under load (`40-server`)\n\n");
    md.push_str(&format!(
        "Simulated tablets (a native client on the app's sync code: `Replica` and the protocol types; HTTP/1.1 \
         keep-alive, push bodies gzip, answers brotli) against the built server (`target/server/thidua-server`, \
         release `server` profile, default logging) as its own process on a fresh database; 204 communes with \
         one officer account each, devices spread over them, each signed in on its own. A cycle: push 5–15 \
         household changes (about 30% new households, the rest edits of its own), pull its commune to the end \
         (pages of {PULL_PAGE}), pause. Each step: the new devices catch up first (not timed), {:.0} s warm-up, \
         then {:.0} s measured ({:.0} s at a tablet's pace). Latency is each request's, from sending to the whole \
         answer read; errors are non-2xx answers, timeouts (10 s), broken connections and refused mutations. \
         The client runs on the same {} cores as the server: its CPU is shown (100% = one core), and `load` is \
         the machine's 1-minute load average, other processes included. Durable settings throughout: SQLite \
         WAL with `synchronous=FULL` (its default), PostgreSQL with `fsync` and `synchronous_commit` on; an \
         answer is sent only once its batch is on disk.{}\n\n",
        options.warmup.as_secs_f64(),
        options.window.as_secs_f64(),
        options.fleet_window.as_secs_f64(),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        if options.quick { " **Quick run: small sizes, short windows.**" } else { "" }
    ));
    md.push_str(
        "Goals: at least 10,000 mutations/s on SQLite; 1,000 devices with p99 under 1 s.\n\n",
    );
    for report in &reports {
        md.push_str(&format!("### {}\n\n", report.name));
        md.push_str(&section(report));
        md.push('\n');
    }
    for note in &notes {
        md.push_str(&format!("{note}\n\n"));
    }
    // the goals, and SQLite against PostgreSQL side by side
    md.push_str("### Against the goals\n\n| | SQLite | PostgreSQL |\n|---|---:|---:|\n");
    let find = |name: &str| reports.iter().find(|r| r.name == name);
    let cell = |r: Option<&BackendReport>, f: &dyn Fn(&BackendReport) -> String| {
        r.map_or("not run".to_string(), f)
    };
    let (sqlite, pg) = (find("SQLite"), find("PostgreSQL"));
    let peak = |r: &BackendReport| format!("{:.0}", best_throughput(r));
    let rows: [(&str, &Figure); 3] = [
        ("peak mutations/s (goal: at least 10,000 on SQLite)", &peak),
        (
            "largest step held with busy devices (goal: 1,000 devices)",
            &|r| largest_held(&r.steps),
        ),
        ("largest step held at a tablet's pace", &|r| {
            largest_held(&r.fleet)
        }),
    ];
    for (what, f) in rows {
        md.push_str(&format!(
            "| {what} | {} | {} |\n",
            cell(sqlite, f),
            cell(pg, f)
        ));
    }
    if let (Some(s), Some(p)) = (sqlite, pg) {
        md.push_str(&format!(
            "| PostgreSQL ÷ SQLite, peak mutations/s | | {:.2} |\n",
            best_throughput(p) / best_throughput(s).max(1.0)
        ));
    }
    md.push('\n');
    print!("\n{md}");
    if let Some(out) = &options.out {
        if let Some(dir) = out.parent() {
            std::fs::create_dir_all(dir).expect("output folder");
        }
        std::fs::write(out, md).expect("write the fragment");
        println!("written to {}", out.display());
    }
}
