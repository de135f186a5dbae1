//! The fault-injection harness: simulated devices edit one commune's households at random, offline
//! for stretches, and sync through a loopback proxy that drops, delays, truncates and duplicates
//! traffic, while the real server binary is killed (SIGKILL) and restarted on the same database.
//! The devices are native clients built on the same code as the browser app (`thidua_domain::client`
//! for the device's copy, the protocol types for the wire), so what holds here holds on a tablet.
//!
//! At the end, with faults off, every device syncs; then the harness checks:
//! - convergence: every device holds exactly the server's records, with nothing left to send;
//! - nothing duplicated: one server record per record a device created, and no other;
//! - nothing lost: every value a device wrote that nobody replaced after seeing it is on the server,
//!   as the field's value or as a version of a conflict on that field (so every overlapping edit is
//!   a recorded conflict); and every value on the server was written by some device.
//!
//! `cargo test -p thidua-server --test fault_injection -- --nocapture` prints the counts. The test
//! command runs a small seeded run; `THIDUA_SOAK=1` runs 50 devices × 2,000 mutations
//! (`THIDUA_FAULT_DEVICES`, `THIDUA_FAULT_MUTATIONS` and `THIDUA_FAULT_SEED` set each part).

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use thidua_domain::client::{Edit, Replica};
use thidua_domain::protocol::{
    Cursor, DataSet, DeviceId, Fields, IdGenerator, Mutation, MutationId, MutationResult, Outcome,
    Period, PullRequest, PullResponse, PushRequest, PushResponse, Record, RecordId, DELETED_FIELD,
    PROTOCOL_VERSION,
};
use thidua_server::auth::Role;
use thidua_server::Database;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use uuid::Uuid;

const COMMUNE: &str = "03646";

/// splitmix64: small, seedable, good enough to choose faults and edits.
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
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
    fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        for b in out.iter_mut() {
            *b = self.next() as u8;
        }
        out
    }
    fn fork(&mut self) -> Rng {
        Rng(self.next())
    }
}

// ---------------------------------------------------------------------------------------------
// The proxy

#[derive(Default)]
struct FaultCounts {
    requests: AtomicU64,
    passed: AtomicU64,
    dropped: AtomicU64,
    cut_request: AtomicU64,
    cut_response: AtomicU64,
    delayed: AtomicU64,
    duplicated: AtomicU64,
    server_down: AtomicU64,
}

struct Proxy {
    addr: SocketAddr,
    upstream: Arc<Mutex<Option<SocketAddr>>>,
    faults_on: Arc<AtomicBool>,
    counts: Arc<FaultCounts>,
}

async fn start_proxy(mut rng: Rng) -> Proxy {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy = Proxy {
        addr: listener.local_addr().unwrap(),
        upstream: Arc::new(Mutex::new(None)),
        faults_on: Arc::new(AtomicBool::new(true)),
        counts: Arc::new(FaultCounts::default()),
    };
    let (upstream, faults_on, counts) = (
        proxy.upstream.clone(),
        proxy.faults_on.clone(),
        proxy.counts.clone(),
    );
    tokio::spawn(async move {
        loop {
            let Ok((client, _)) = listener.accept().await else {
                continue;
            };
            let rng = rng.fork();
            let (upstream, faults_on, counts) =
                (upstream.clone(), faults_on.clone(), counts.clone());
            tokio::spawn(async move {
                let _ = relay(client, rng, upstream, faults_on, counts).await;
            });
        }
    });
    proxy
}

/// Reads one HTTP/1.1 request (headers and a Content-Length body) and asks the server to close the
/// connection after answering, so each connection carries exactly one exchange.
async fn read_request(client: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let header_end = loop {
        let n = client.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..header_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while buf.len() < header_end + length {
        let n = client.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let first_line_end = buf.windows(2).position(|w| w == b"\r\n").unwrap() + 2;
    let mut request = buf[..first_line_end].to_vec();
    request.extend_from_slice(b"Connection: close\r\n");
    request.extend_from_slice(&buf[first_line_end..]);
    Ok(request)
}

/// Sends `request` to the server and reads the whole answer (the server closes after it).
async fn exchange(upstream: SocketAddr, request: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut server = TcpStream::connect(upstream).await?;
    server.write_all(request).await?;
    let mut response = Vec::new();
    server.read_to_end(&mut response).await?;
    Ok(response)
}

async fn relay(
    mut client: TcpStream,
    mut rng: Rng,
    upstream: Arc<Mutex<Option<SocketAddr>>>,
    faults_on: Arc<AtomicBool>,
    counts: Arc<FaultCounts>,
) -> std::io::Result<()> {
    let request = read_request(&mut client).await?;
    counts.requests.fetch_add(1, Ordering::Relaxed);
    let Some(target) = *upstream.lock().unwrap() else {
        counts.server_down.fetch_add(1, Ordering::Relaxed);
        return Ok(()); // the server is down: the device sees the connection close
    };
    let fault = if faults_on.load(Ordering::Relaxed) {
        rng.below(100)
    } else {
        99
    };
    match fault {
        // dropped before reaching the server
        0..=7 => {
            counts.dropped.fetch_add(1, Ordering::Relaxed);
            Ok(())
        }
        // cut mid-request: the server gets a part of it
        8..=12 => {
            counts.cut_request.fetch_add(1, Ordering::Relaxed);
            let mut server = TcpStream::connect(target).await?;
            let part = rng.below(request.len() as u64) as usize;
            server.write_all(&request[..part]).await?;
            Ok(())
        }
        // cut mid-response: the server did the work, the device gets part of the answer
        13..=22 => {
            counts.cut_response.fetch_add(1, Ordering::Relaxed);
            let response = match exchange(target, &request).await {
                Ok(r) => r,
                Err(_) => {
                    counts.server_down.fetch_add(1, Ordering::Relaxed);
                    return Ok(());
                }
            };
            let part = rng.below(response.len() as u64) as usize;
            client.write_all(&response[..part]).await
        }
        // delivered twice: the copy arrives later, possibly after newer requests (out of order)
        23..=32 => {
            counts.duplicated.fetch_add(1, Ordering::Relaxed);
            let copy = request.clone();
            let delay = Duration::from_millis(rng.below(1_500));
            let upstream = upstream.clone();
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                let target = *upstream.lock().unwrap();
                if let Some(target) = target {
                    let _ = exchange(target, &copy).await;
                }
            });
            forward(&mut client, target, &request, &counts).await
        }
        // slow: 2G on a bad day
        33..=42 => {
            counts.delayed.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(rng.below(800))).await;
            forward(&mut client, target, &request, &counts).await?;
            Ok(())
        }
        _ => {
            counts.passed.fetch_add(1, Ordering::Relaxed);
            forward(&mut client, target, &request, &counts).await
        }
    }
}

async fn forward(
    client: &mut TcpStream,
    target: SocketAddr,
    request: &[u8],
    counts: &FaultCounts,
) -> std::io::Result<()> {
    match exchange(target, request).await {
        Ok(response) => client.write_all(&response).await,
        Err(_) => {
            counts.server_down.fetch_add(1, Ordering::Relaxed);
            Ok(())
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The server, as a separate process that can be killed

struct ServerProcess {
    child: tokio::process::Child,
    addr: SocketAddr,
}

async fn launch(database: &Database, dist: &std::path::Path) -> ServerProcess {
    let url = match database {
        Database::Sqlite(path) => format!("sqlite:{}", path.display()),
        Database::Postgres(url) => url.clone(),
    };
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_thidua-server"))
        .env("THIDUA_ADDR", "127.0.0.1:0")
        .env("DATABASE_URL", url)
        .env("THIDUA_DIST", dist)
        .env("THIDUA_DEMO", "0")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("server binary starts");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let addr = loop {
        let line = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
            .await
            .expect("server prints its address in time")
            .unwrap()
            .expect("server running");
        if let Some(rest) = line.split("http://").nth(1) {
            let addr: String = rest.chars().take_while(|c| !c.is_whitespace()).collect();
            break addr.parse().expect("an address");
        }
    };
    // keep reading so the server never blocks on a full pipe
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    ServerProcess { child, addr }
}

// ---------------------------------------------------------------------------------------------
// A device

#[derive(Default, Clone, Copy)]
struct DeviceStats {
    edits: u64,
    syncs_tried: u64,
    syncs_completed: u64,
    syncs_abandoned: u64,
    pushes: u64,
    pulls: u64,
    conflicts_seen: u64,
    merged: u64,
    rejected: u64,
    resolutions: u64,
    deletions: u64,
}

struct Device {
    id: DeviceId,
    token: String,
    replicas: BTreeMap<RecordId, Replica>,
    cursor: Option<String>,
    /// The last mutation id made: kept across "reloads", as the app keeps it in IndexedDB.
    last_id: Option<Uuid>,
    /// How wrong the device's clock is; it is set right halfway through (a jump back for a fast clock).
    skew_ms: i64,
    batch: usize,
    rng: Rng,
    created: Vec<Mutation>,
    /// Every mutation put in a push request, answered or not.
    sent: Vec<Mutation>,
    acked: Vec<(Mutation, MutationResult)>,
    stats: DeviceStats,
}

impl Device {
    fn next_id(&mut self) -> Uuid {
        // a fresh generator from the stored last id each time: the same as a page reload
        let mut ids = IdGenerator::new(self.last_id);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64;
        let id = ids.next((now + self.skew_ms).max(0) as u64, self.rng.bytes());
        self.last_id = Some(id);
        id
    }

    fn apply(&mut self, current: Option<Replica>, template: Record, edit: Edit) {
        let id = MutationId(self.next_id());
        if let Some(replica) = Replica::edit(current, template, &edit, id, self.id) {
            self.created
                .push(replica.pending.clone().expect("an edit is pending"));
            self.replicas.insert(replica.record.id, replica);
            self.stats.edits += 1;
        }
    }

    /// One random edit, as an officer would make it.
    fn step(&mut self) {
        let visible: Vec<RecordId> = self
            .replicas
            .values()
            .filter(|r| !r.record.deleted)
            .map(|r| r.record.id)
            .collect();
        let in_conflict: Vec<RecordId> = self
            .replicas
            .values()
            .filter(|r| !r.record.conflicts.is_empty())
            .map(|r| r.record.id)
            .collect();
        if visible.len() < 3 || self.rng.chance(0.12) {
            let id = RecordId(self.next_id());
            let fields = random_household(&mut self.rng);
            let template = household(id, Fields::new());
            self.apply(
                None,
                template,
                Edit {
                    seen: None,
                    fields,
                    deleted: false,
                    resolved: BTreeSet::new(),
                },
            );
        } else if !in_conflict.is_empty() && self.rng.chance(0.5) {
            // settle every conflict of one record, picking a version for each field
            let replica = self.replicas[self.rng.pick(&in_conflict)].clone();
            let mut fields = replica.record.fields.clone();
            let mut deleted = replica.record.deleted;
            let mut resolved = BTreeSet::new();
            for conflict in &replica.record.conflicts {
                let value = self.rng.pick(&conflict.versions).value.clone();
                if conflict.field == DELETED_FIELD {
                    deleted = value.as_bool().unwrap_or(false);
                } else {
                    fields.insert(conflict.field.clone(), value);
                }
                resolved.insert(conflict.field.clone());
            }
            self.stats.resolutions += 1;
            let seen = replica.record.clone();
            self.apply(
                Some(replica),
                seen.clone(),
                Edit {
                    seen: Some(seen),
                    fields,
                    deleted,
                    resolved,
                },
            );
        } else {
            let replica = self.replicas[self.rng.pick(&visible)].clone();
            let seen = replica.record.clone();
            let mut fields = seen.fields.clone();
            let mut deleted = false;
            if self.rng.chance(0.04) {
                deleted = true;
                self.stats.deletions += 1;
            } else {
                for _ in 0..=self.rng.below(2) {
                    let (field, value) = random_change(&mut self.rng);
                    fields.insert(field.into(), value);
                }
            }
            self.apply(
                Some(replica),
                seen.clone(),
                Edit {
                    seen: Some(seen),
                    fields,
                    deleted,
                    resolved: BTreeSet::new(),
                },
            );
        }
    }

    fn sendable(&self) -> Vec<Mutation> {
        self.replicas
            .values()
            .filter_map(|r| r.sendable().cloned())
            .collect()
    }

    /// Pushes everything in batches, then pulls to the end. Any failure stops the attempt; what was
    /// applied before it stays (each answer is applied whole, as one IndexedDB transaction is).
    async fn sync(&mut self, http: &reqwest::Client, base: &str) -> Result<(), String> {
        self.stats.syncs_tried += 1;
        let sendable = self.sendable();
        for batch in sendable.chunks(self.batch) {
            let request = PushRequest {
                protocol: PROTOCOL_VERSION,
                device: self.id,
                mutations: batch.to_vec(),
            };
            self.stats.pushes += 1;
            self.sent.extend(batch.iter().cloned());
            let response: PushResponse =
                post(http, base, "/api/sync/push", &self.token, &request).await?;
            assert_eq!(
                response.results.len(),
                batch.len(),
                "one answer per mutation"
            );
            for (sent, result) in batch.iter().zip(&response.results) {
                assert_eq!(sent.id, result.mutation, "answers in the order sent");
                match &result.outcome {
                    Outcome::Rejected { errors } => {
                        self.stats.rejected += 1;
                        panic!("a valid change was refused: {errors:?}");
                    }
                    Outcome::Conflict { .. } => self.stats.conflicts_seen += 1,
                    Outcome::Merged { .. } => self.stats.merged += 1,
                    Outcome::Applied { .. } => {}
                }
                self.acked.push((sent.clone(), result.clone()));
                if let Some(replica) = self.replicas.get_mut(&sent.record.id) {
                    replica.apply_push_result(result);
                }
            }
        }
        loop {
            let request = PullRequest {
                protocol: PROTOCOL_VERSION,
                cursor: self.cursor.clone().map(Cursor),
                limit: 50,
                org_unit: None,
            };
            self.stats.pulls += 1;
            let page: PullResponse =
                post(http, base, "/api/sync/pull", &self.token, &request).await?;
            for record in &page.records {
                match self.replicas.get_mut(&record.id) {
                    Some(replica) => replica.apply_pull(record),
                    None => {
                        self.replicas
                            .insert(record.id, Replica::from_server(record.clone()));
                    }
                }
            }
            self.cursor = Some(page.next_cursor.0);
            if !page.has_more {
                break;
            }
        }
        self.stats.syncs_completed += 1;
        Ok(())
    }
}

async fn post<T: serde::Serialize, R: serde::de::DeserializeOwned>(
    http: &reqwest::Client,
    base: &str,
    path: &str,
    token: &str,
    body: &T,
) -> Result<R, String> {
    let response = http
        .post(format!("{base}{path}"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    let bytes = response.bytes().await.map_err(|e| e.to_string())?;
    if !status.is_success() {
        // a cut request can reach the server as a shorter body: a 4xx is a failed try, not a result
        return Err(format!("{status}: {}", String::from_utf8_lossy(&bytes)));
    }
    serde_json::from_slice(&bytes).map_err(|e| e.to_string())
}

fn household(id: RecordId, fields: Fields) -> Record {
    Record {
        id,
        data_set: DataSet::Household,
        org_unit: thidua_domain::org::UnitCode::parse(COMMUNE).unwrap(),
        period: Period::parse("2023").unwrap(),
        fields,
        revision: 0,
        deleted: false,
        conflicts: Vec::new(),
    }
}

const VILLAGES: [&str; 4] = ["Bản Hụm", "Bản Nà", "Bản Mòn", "Bản Pá"];

fn random_household(rng: &mut Rng) -> Fields {
    let mut fields = common::household_fields(json!({}));
    for _ in 0..3 {
        let (field, value) = random_change(rng);
        fields.insert(field.into(), value);
    }
    fields
}

/// A change that keeps any household valid, whatever else changed: few enough values that devices
/// often write the same field, and sometimes the same value.
fn random_change(rng: &mut Rng) -> (&'static str, Value) {
    match rng.below(5) {
        0 => ("head_name", json!(format!("Lò Văn {}", rng.below(1_000)))),
        1 => ("village", json!(*rng.pick(&VILLAGES))),
        2 => (
            "income_per_person_month",
            json!(rng.below(30) as i64 * 100_000),
        ),
        3 => ("members", json!(4 + rng.below(2) as i64)),
        _ => ("floor_area_m2", json!(40 + 8 * rng.below(3) as i64)),
    }
}

// ---------------------------------------------------------------------------------------------
// The run

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devices_converge_with_nothing_lost_or_duplicated_through_faults_and_restarts() {
    let soak = std::env::var("THIDUA_SOAK").is_ok_and(|v| v == "1");
    let devices_n = env_number("THIDUA_FAULT_DEVICES", if soak { 50 } else { 10 }) as usize;
    let mutations_n = env_number("THIDUA_FAULT_MUTATIONS", if soak { 2_000 } else { 300 });
    let seed = env_number("THIDUA_FAULT_SEED", 2023);
    let started = Instant::now();
    let mut rng = Rng(seed);

    // accounts and sessions through an in-process server on the same fresh database; the devices
    // then talk only to the separate server process, through the proxy
    let app =
        common::spawn_app_configured(|_| {}, |config| config.login_limits.per_address = 100_000)
            .await;
    let mut devices = Vec::new();
    for i in 0..devices_n {
        let (_, token) = app
            .user_with_token(&format!("sim.{i}"), Role::CommuneOfficer, COMMUNE)
            .await;
        let mut device_rng = rng.fork();
        let skew_ms = match device_rng.below(3) {
            0 => 0,
            1 => 4 * 86_400_000,
            _ => -4 * 86_400_000,
        };
        devices.push(Device {
            id: DeviceId(uuid::Builder::from_random_bytes(device_rng.bytes()).into_uuid()),
            token,
            replicas: BTreeMap::new(),
            cursor: None,
            last_id: None,
            skew_ms,
            batch: 1 + device_rng.below(40) as usize,
            rng: device_rng,
            created: Vec::new(),
            sent: Vec::new(),
            acked: Vec::new(),
            stats: DeviceStats::default(),
        });
    }

    let server = launch(&app.database, app.dist_dir()).await;
    let proxy = start_proxy(rng.fork()).await;
    *proxy.upstream.lock().unwrap() = Some(server.addr);
    let base = format!("http://{}", proxy.addr);

    // the killer: SIGKILL every few seconds, back after a pause, on a new port
    let stop_killing = Arc::new(AtomicBool::new(false));
    let kills = Arc::new(AtomicU64::new(0));
    let killer = {
        let (stop, kills, upstream) = (stop_killing.clone(), kills.clone(), proxy.upstream.clone());
        let database = app.database.clone();
        let dist = app.dist_dir().to_path_buf();
        let mut rng = rng.fork();
        tokio::spawn(async move {
            let mut server = server;
            while !stop.load(Ordering::Relaxed) {
                tokio::time::sleep(Duration::from_millis(1_000 + rng.below(3_000))).await;
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                *upstream.lock().unwrap() = None;
                server.child.kill().await.expect("killed");
                kills.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(100 + rng.below(900))).await;
                server = launch(&database, &dist).await;
                *upstream.lock().unwrap() = Some(server.addr);
            }
            server
        })
    };

    // the devices work at once, each on its own task
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let mut tasks = Vec::new();
    for mut device in devices {
        let (http, base) = (http.clone(), base.clone());
        tasks.push(tokio::spawn(async move {
            for n in 0..mutations_n {
                if n == mutations_n / 2 {
                    device.skew_ms = 0; // the clock is set right: a jump back for a fast one
                }
                device.step();
                if device.rng.chance(0.2) {
                    if device.rng.chance(0.15) {
                        // the tab is closed mid-sync: the attempt stops at whatever point it reached
                        let limit = Duration::from_millis(device.rng.below(400));
                        if tokio::time::timeout(limit, device.sync(&http, &base))
                            .await
                            .is_err()
                        {
                            device.stats.syncs_abandoned += 1;
                        }
                    } else {
                        let _ = device.sync(&http, &base).await;
                    }
                }
                // an officer's pace, compressed: the server restarts happen between and during syncs
                tokio::time::sleep(Duration::from_millis(device.rng.below(150))).await;
            }
            device
        }));
    }
    let mut devices = Vec::new();
    for task in tasks {
        devices.push(task.await.expect("device task"));
    }
    stop_killing.store(true, Ordering::Relaxed);
    let _server = killer.await.expect("killer");
    proxy.faults_on.store(false, Ordering::Relaxed);
    let edit_phase = started.elapsed();

    // everyone sends what is left, then everyone pulls what the others sent last
    for round in 0..2 {
        for device in devices.iter_mut() {
            let mut tries = 0;
            loop {
                tries += 1;
                match device.sync(&http, &base).await {
                    Ok(()) if device.sendable().is_empty() => break,
                    Ok(()) => {}
                    Err(e) => assert!(tries < 20, "round {round}: sync keeps failing: {e}"),
                }
            }
        }
    }

    // ---- checks
    let server_records: BTreeMap<RecordId, Record> = app
        .pull_all()
        .await
        .into_iter()
        .map(|r| (r.id, r))
        .collect();

    // convergence
    for (i, device) in devices.iter().enumerate() {
        let held: BTreeMap<RecordId, &Record> = device
            .replicas
            .iter()
            .map(|(id, r)| (*id, &r.record))
            .collect();
        assert_eq!(
            held.keys().collect::<Vec<_>>(),
            server_records.keys().collect::<Vec<_>>(),
            "device {i} holds the server's records"
        );
        for (id, replica) in &device.replicas {
            assert!(replica.pending.is_none(), "device {i}: {id} still pending");
            assert_eq!(
                &replica.record, &server_records[id],
                "device {i}: {id} converged"
            );
        }
    }

    // nothing duplicated: one record per created record, and none that no device created
    let created_records: BTreeSet<RecordId> = devices
        .iter()
        .flat_map(|d| d.created.iter().map(|m| m.record.id))
        .collect();
    assert_eq!(
        server_records.keys().copied().collect::<BTreeSet<_>>(),
        created_records,
        "the server holds exactly the records devices created"
    );

    // nothing lost, nothing invented
    let acked: HashMap<MutationId, (Mutation, u64)> = devices
        .iter()
        .flat_map(|d| d.acked.iter())
        .filter_map(|(m, r)| r.outcome.revision().map(|rev| (m.id, (m.clone(), rev))))
        .collect();
    let written = |m: &Mutation| -> Vec<(String, Value)> {
        let fields = m.record.merge_fields();
        m.changed
            .iter()
            .map(String::as_str)
            .chain([DELETED_FIELD])
            .map(|f| (f.to_string(), fields.get(f).cloned().unwrap_or(Value::Null)))
            .collect()
    };
    let mut writes_by_record: HashMap<RecordId, Vec<(&Mutation, u64)>> = HashMap::new();
    for (m, rev) in acked.values() {
        writes_by_record
            .entry(m.record.id)
            .or_default()
            .push((m, *rev));
    }
    let mut lost = Vec::new();
    let mut checked_writes = 0u64;
    for (record_id, writes) in &writes_by_record {
        let final_record = &server_records[record_id];
        let final_fields = final_record.merge_fields();
        for (m, rev) in writes {
            for (field, value) in written(m) {
                // When this value was first on the record in this stretch: the same value written
                // earlier counts, since a writer who saw it saw this value.
                let seen_from = writes
                    .iter()
                    .filter(|(x, x_rev)| {
                        *x_rev <= *rev
                            && (x.changed.contains(&field) || field == DELETED_FIELD)
                            && x.record
                                .merge_fields()
                                .get(&field)
                                .cloned()
                                .unwrap_or(Value::Null)
                                == value
                    })
                    .map(|(_, x_rev)| *x_rev)
                    .min()
                    .unwrap_or(*rev);
                let superseded = writes.iter().any(|(other, other_rev)| {
                    let wrote = other.changed.contains(&field) || field == DELETED_FIELD;
                    other.id != m.id
                        && wrote
                        && ((other.base_revision >= seen_from && *other_rev >= *rev)
                            || other.base_revision >= *rev
                            || (other.device == m.device && other.id > m.id))
                });
                if superseded {
                    continue;
                }
                checked_writes += 1;
                let visible = final_fields.get(&field).cloned().unwrap_or(Value::Null) == value
                    || final_record
                        .conflicts
                        .iter()
                        .any(|c| c.field == field && c.versions.iter().any(|v| v.value == value));
                if !visible {
                    let mut story: Vec<_> = writes.iter().collect();
                    story.sort_by_key(|(w, rev)| (*rev, w.id));
                    let story: Vec<String> = story
                        .iter()
                        .map(|(w, rev)| {
                            format!(
                                "    rev {rev} id {} device {} base {} changed {:?} {field}={}",
                                w.id,
                                &w.device.to_string()[..8],
                                w.base_revision,
                                w.changed,
                                w.record
                                    .merge_fields()
                                    .get(&field)
                                    .cloned()
                                    .unwrap_or(Value::Null)
                            )
                        })
                        .collect();
                    let unanswered: Vec<String> = devices
                        .iter()
                        .flat_map(|d| d.sent.iter())
                        .filter(|s| s.record.id == *record_id && !acked.contains_key(&s.id))
                        .map(|w| {
                            format!(
                                "    sent, never answered: id {} device {} base {} changed {:?} {field}={}",
                                w.id,
                                &w.device.to_string()[..8],
                                w.base_revision,
                                w.changed,
                                w.record.merge_fields().get(&field).cloned().unwrap_or(Value::Null)
                            )
                        })
                        .collect();
                    lost.push(format!(
                        "record {record_id} field {field}: {value} by mutation {} (revision {rev}); \
                         now {} with conflicts {:?}; acknowledged writes:\n{}\n{}",
                        m.id,
                        final_fields.get(&field).cloned().unwrap_or(Value::Null),
                        final_record.conflicts,
                        story.join("\n"),
                        unanswered.join("\n")
                    ));
                }
            }
        }
    }
    let mut values_written: HashMap<(RecordId, String), Vec<Value>> = HashMap::new();
    for m in devices.iter().flat_map(|d| d.created.iter()) {
        for (field, value) in m.record.merge_fields() {
            values_written
                .entry((m.record.id, field))
                .or_default()
                .push(value);
        }
    }
    let mut invented = Vec::new();
    for record in server_records.values() {
        let shown = record.merge_fields();
        let versions = record.conflicts.iter().flat_map(|c| {
            c.versions
                .iter()
                .map(move |v| (c.field.clone(), v.value.clone()))
        });
        for (field, value) in shown.into_iter().chain(versions) {
            let known = values_written
                .get(&(record.id, field.clone()))
                .is_some_and(|vs| vs.contains(&value));
            if !known {
                invented.push(format!("record {} field {field}: {value}", record.id));
            }
        }
    }

    // ---- counts
    let total = |f: fn(&DeviceStats) -> u64| devices.iter().map(|d| f(&d.stats)).sum::<u64>();
    let c = &proxy.counts;
    let conflicted_records = server_records
        .values()
        .filter(|r| !r.conflicts.is_empty())
        .count();
    let conflicted_fields: usize = server_records.values().map(|r| r.conflicts.len()).sum();
    println!("fault injection: seed {seed}, {devices_n} devices × {mutations_n} steps");
    println!(
        "  edits {} (deletions {}, conflict resolutions {}), distinct mutations acknowledged {}",
        total(|s| s.edits),
        total(|s| s.deletions),
        total(|s| s.resolutions),
        acked.len()
    );
    println!(
        "  syncs tried {} (completed {}, tab closed mid-sync {}), push requests {}, pull requests {}",
        total(|s| s.syncs_tried),
        total(|s| s.syncs_completed),
        total(|s| s.syncs_abandoned),
        total(|s| s.pushes),
        total(|s| s.pulls)
    );
    println!(
        "  proxy: {} requests — passed {}, dropped {}, cut mid-request {}, cut mid-response {}, \
         duplicated {}, delayed {}, server down {}; server killed {} times",
        c.requests.load(Ordering::Relaxed),
        c.passed.load(Ordering::Relaxed),
        c.dropped.load(Ordering::Relaxed),
        c.cut_request.load(Ordering::Relaxed),
        c.cut_response.load(Ordering::Relaxed),
        c.duplicated.load(Ordering::Relaxed),
        c.delayed.load(Ordering::Relaxed),
        c.server_down.load(Ordering::Relaxed),
        kills.load(Ordering::Relaxed)
    );
    println!(
        "  outcomes: merged {}, conflict {}, rejected {}",
        total(|s| s.merged),
        total(|s| s.conflicts_seen),
        total(|s| s.rejected)
    );
    println!(
        "  server: {} records, {} with open conflicts ({} fields); writes checked {}, lost {}, \
         invented {}, duplicated {}",
        server_records.len(),
        conflicted_records,
        conflicted_fields,
        checked_writes,
        lost.len(),
        invented.len(),
        server_records.len() - created_records.len().min(server_records.len())
    );
    println!(
        "  time: {:.1} s editing under faults, {:.1} s in all",
        edit_phase.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );

    assert!(lost.is_empty(), "lost writes:\n{}", lost.join("\n"));
    assert!(
        invented.is_empty(),
        "values nobody wrote:\n{}",
        invented.join("\n")
    );
    // the run must have exercised what it claims to
    assert!(kills.load(Ordering::Relaxed) > 0, "the server was killed");
    assert!(c.duplicated.load(Ordering::Relaxed) > 0 && c.cut_response.load(Ordering::Relaxed) > 0);
    assert!(total(|s| s.conflicts_seen) > 0, "devices met conflicts");
}
