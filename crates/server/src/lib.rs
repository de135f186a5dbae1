//! # Thi Đua's server
//!
//! Serves the sync API that devices push their outboxes to and pull others' changes from, the account
//! API, and the built web app. The rules (validation, merge) are the domain crate's; this crate stores,
//! orders, answers, and decides who may read and write what ([`auth`]).
//!
//! - `GET  /api/health`: `{"status":"ok","protocol":1,"database":"sqlite"|"postgres"}` (no login)
//! - `POST /api/auth/login`: `{"username","password"}` → `{"token","expires_at","user"}` (no login)
//! - `POST /api/auth/logout`, `GET /api/auth/me`
//! - `POST /api/sync/push`: [`PushRequest`](thidua_domain::protocol::PushRequest) →
//!   [`PushResponse`](thidua_domain::protocol::PushResponse), each mutation checked against the
//!   caller's role and unit: a commune officer writes their commune's records but no commendation, a
//!   district supervisor only district commendations of its communes' examples, the province
//!   administrator anything but a district commendation (`scope_errors` in [`sync`])
//! - `POST /api/sync/pull`: [`PullRequest`](thidua_domain::protocol::PullRequest) →
//!   [`PullResponse`](thidua_domain::protocol::PullResponse), only records within the caller's unit
//! - `GET|POST /api/admin/users`, `POST /api/admin/users/{id}/revoke-sessions`,
//!   `POST /api/admin/users/{id}/deactivate`: province administrators only
//! - `POST /api/submissions`, `GET /api/submissions[?period=]`, `POST /api/submissions/{id}/accept`,
//!   `POST /api/submissions/{id}/return`: reports sent up for review ([`submissions`])
//! - `GET|POST /api/admin/unit-lists`, `GET /api/admin/criteria-sets`,
//!   `PUT /api/admin/criteria-sets/{id}`, `PUT /api/admin/criteria-sets/{id}/requirements/{code}`,
//!   `GET /api/admin/target-sets`, `PUT /api/admin/target-sets/{id}`: province administrators only;
//!   `GET /api/criteria-sets/{id}`, `GET /api/target-sets/{id}`, `GET /api/reference-sets`: anyone
//!   signed in ([`admin_data`])
//! - `POST /api/admin/unsynced-imports`: a tablet's exported outbox
//!   ([`UnsyncedExport`](thidua_domain::protocol::UnsyncedExport)), applied as that tablet's push
//!   would be → `{"results", "counts"}`; province administrators only ([`imports`])
//! - `POST /api/evidence`, `GET /api/evidence/{id}/upload`, `PATCH /api/evidence/{id}?offset=N`,
//!   `GET /api/evidence/{id}`: evidence photos, uploaded apart from sync in chunks of at most 256 KiB,
//!   resumable, checked against their SHA-256, served to whoever's scope covers their commune
//!   ([`evidence`])
//! - `GET /api/dashboard`, `GET /api/dashboard/records`: every figure of a commune, district or the
//!   province for a period against the directive's targets, in the 2023 or 2025 structure, on all
//!   records or accepted reports only, and the records behind each figure ([`dashboard`])
//! - `GET /api/completeness`: each commune's submissions per data set, the last sync of its devices,
//!   and whether it has gone `stale_days` without one ([`dashboard`]); pushes and pulls note each
//!   device's last sync (a pull names its device in the `X-Thidua-Device` header; a device's pulls
//!   are noted at most once a minute)
//! - `GET /api/boundaries/2023|2025`: the districts' or the 2025 communes' boundaries for the map,
//!   from the files of THIDUA_BOUNDARIES_DIR, matched to unit codes ([`boundaries`])
//! - `POST /api/export?format=xlsx|csv`: any table the app shows (`{"title","columns","rows"}`) as
//!   a native Excel workbook or a UTF-8 CSV with BOM, as an attachment ([`export`])
//! - anything else under `/api`: 404 JSON; everything outside `/api`: the app from the dist folder.
//!
//! Every route but health and login needs `Authorization: Bearer <token>`. Every response carries the
//! security headers of [`security`]. API answers are compressed when the client accepts it, and request
//! bodies may come gzip-compressed ([`encoding`]). A body may hold at most [`API_BODY_LIMIT`] bytes,
//! [`IMPORT_BODY_LIMIT`] for the import, [`evidence::EVIDENCE_BODY_LIMIT`] on the evidence routes,
//! [`export::EXPORT_BODY_LIMIT`] for an export.
//!
//! Start it with [`build_app`] (tests do, on port 0) or [`serve`] (the binary does).

pub mod accounts;
pub mod admin_data;
pub mod auth;
pub mod boundaries;
pub mod config;
pub mod dashboard;
pub mod demo;
pub mod encoding;
pub mod error;
pub mod evidence;
pub mod export;
pub mod imports;
pub mod push_writer;
pub mod reference;
pub mod security;
pub mod setup;
pub mod static_files;
pub mod store;
pub mod submissions;
pub mod sync;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::extract::State;
use axum::middleware;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde_json::json;
use thidua_domain::protocol::PROTOCOL_VERSION;
use tokio::net::TcpListener;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

pub use config::{Config, Database};
use error::ApiError;
pub use store::{Backend, StartError, Store};

/// Largest request body the API reads, counted after a gzip body is inflated (and no more compressed
/// bytes either): a full push batch of households is far below it.
pub const API_BODY_LIMIT: usize = 1024 * 1024;
/// The same for the import of an unsynced export, the one body that cannot be sent in batches: a
/// tablet's weeks of offline work in one file (2,500 households are about 2 MiB; 32 MiB leaves room
/// for far more, and still bounds what a gzip bomb can make the server hold).
pub const IMPORT_BODY_LIMIT: usize = 32 * 1024 * 1024;

/// What every request handler shares.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    /// Unit lists, criteria sets and target sets in force; the admin API replaces them at run time,
    /// here or in another process on the same database, so a handler takes one snapshot with
    /// `reference.now(&store)` and reads only that.
    pub reference: Arc<reference::LiveReference>,
    /// This process's queue of pushes, written in groups, one transaction per group
    /// ([`push_writer`]). Per process: the database's lock on the revision counter orders merges
    /// across processes (`Store::begin_batch`).
    pub pushes: push_writer::PushWriter,
    pub passwords: Arc<auth::Passwords>,
    /// Per process: with several processes behind a proxy each counts its own failed logins.
    pub login_limiter: Arc<auth::LoginLimiter>,
    pub session_ttl: Duration,
    /// The map's boundary files (THIDUA_BOUNDARIES_DIR), prepared once per file version.
    pub boundaries: Arc<boundaries::Boundaries>,
}

/// Opens (creating and migrating) the database and builds the whole app: API and static files.
pub async fn build_app(config: &Config) -> Result<(Router, AppState), StartError> {
    let store = Store::open(&config.database, &thidua_domain::org::OrgCatalog::sonla()).await?;
    // the carried lists and sets, then what the province stored: needs the migrated database
    let (version, reference) = reference::Reference::load(&store).await?;
    let state = AppState {
        store: store.clone(),
        reference: Arc::new(reference::LiveReference::new(version, reference)),
        pushes: push_writer::PushWriter::start(store.clone()),
        passwords: Arc::new(auth::Passwords::new(config.password_cost).map_err(StartError)?),
        login_limiter: Arc::new(auth::LoginLimiter::new(config.login_limits)),
        session_ttl: config.session_ttl,
        boundaries: Arc::new(boundaries::Boundaries::new(config.boundaries_dir.clone())),
    };
    Ok((router(state.clone(), config), state))
}

fn router(state: AppState, config: &Config) -> Router {
    // Every route here answers only to a live session; the middleware puts its `Caller` in the
    // request. A new route added to this group cannot forget the check.
    let protected = Router::new()
        .route("/auth/logout", post(accounts::logout))
        .route("/auth/me", get(accounts::me))
        .route("/sync/push", post(sync::push))
        .route("/sync/pull", post(sync::pull))
        .route(
            "/admin/users",
            get(accounts::list_users).post(accounts::create_user),
        )
        .route(
            "/admin/users/{id}/revoke-sessions",
            post(accounts::revoke_sessions),
        )
        .route("/admin/users/{id}/deactivate", post(accounts::deactivate))
        .route(
            "/submissions",
            get(submissions::list).post(submissions::submit),
        )
        .route("/submissions/{id}/accept", post(submissions::accept))
        .route("/submissions/{id}/return", post(submissions::send_back))
        .route(
            "/admin/unit-lists",
            get(admin_data::list_unit_lists).post(admin_data::upload_unit_list),
        )
        .route("/admin/criteria-sets", get(admin_data::list_criteria_sets))
        .route(
            "/admin/criteria-sets/{id}",
            put(admin_data::put_criteria_set),
        )
        .route(
            "/admin/criteria-sets/{id}/requirements/{code}",
            put(admin_data::put_requirement),
        )
        .route("/admin/target-sets", get(admin_data::list_target_sets))
        .route("/admin/target-sets/{id}", put(admin_data::put_target_set))
        .route("/unit-lists", get(admin_data::device_unit_lists))
        .route("/reference-sets", get(admin_data::device_sets))
        .route("/criteria-sets/{id}", get(admin_data::get_criteria_set))
        .route("/target-sets/{id}", get(admin_data::get_target_set))
        .route("/dashboard", get(dashboard::dashboard))
        .route("/dashboard/records", get(dashboard::records))
        .route("/completeness", get(dashboard::completeness))
        .route("/examples", get(dashboard::examples))
        .route("/boundaries/{structure}", get(boundaries::boundaries))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_session,
        ));
    // A group of its own so that its body limit is its own (the layers of `read_bodies` apply to the
    // routes of the router they are put on, never to those merged in afterwards); signed in as well.
    let import_routes = Router::new()
        .route("/admin/unsynced-imports", post(imports::import_unsynced))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_session,
        ))
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() });
    // Evidence photos: their own body limit (a chunk), signed in as well.
    let evidence_routes = Router::new()
        .route("/evidence", post(evidence::create))
        .route("/evidence/{id}/upload", get(evidence::upload_state))
        .route(
            "/evidence/{id}",
            get(evidence::download).patch(evidence::append),
        )
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_session,
        ))
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() });
    // Exports: their own body limit (a large table), signed in as well.
    let export_routes = Router::new()
        .route("/export", post(export::export))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_session,
        ))
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() });
    let api = Router::new()
        .route("/health", get(health))
        .route("/auth/login", post(accounts::login))
        .merge(protected)
        .fallback(|| async { ApiError::not_found() })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() });
    let api = read_bodies(api, API_BODY_LIMIT)
        .merge(read_bodies(import_routes, IMPORT_BODY_LIMIT))
        .merge(read_bodies(evidence_routes, evidence::EVIDENCE_BODY_LIMIT))
        .merge(read_bodies(export_routes, export::EXPORT_BODY_LIMIT))
        // on /api only: the app's files come precompressed from the dist folder
        .layer(encoding::compress_answers())
        .with_state(state);
    let app = Router::new()
        .fallback(static_files::serve)
        .with_state(config.dist_dir.clone());
    Router::new()
        .nest("/api", api)
        .merge(app)
        // one line per request: method, path, status, latency. Never bodies or headers: they carry
        // household data and names.
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        // outermost, so errors, 404s and static files all get the headers
        .layer(middleware::from_fn_with_state(
            security::Headers::for_dist(&config.dist_dir),
            security::add_headers,
        ))
}

/// Puts the request-body layers on every route of `routes`, reading at most `limit` bytes. The limit
/// is enforced where a handler reads the body, inside the decompression, so it counts inflated bytes;
/// [`encoding::check_request_encoding`] holds the compressed bytes to it as well (see [`encoding`]).
fn read_bodies(routes: Router<AppState>, limit: usize) -> Router<AppState> {
    routes
        .layer(DefaultBodyLimit::max(limit))
        .layer(middleware::from_fn(encoding::mark_decoding_errors))
        .layer(encoding::inflate_requests())
        .layer(middleware::from_fn_with_state(
            encoding::BodyLimit(limit),
            encoding::check_request_encoding,
        ))
}

async fn health(State(state): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    state.store.ping().await?;
    Ok(Json(json!({
        "status": "ok",
        "protocol": PROTOCOL_VERSION,
        "database": state.store.backend().name(),
    })))
}

/// A server bound to its address, ready to run: the bound address is known before serving, which is
/// how tests on port 0 learn theirs.
pub struct Server {
    listener: TcpListener,
    router: Router,
    pub state: AppState,
}

impl Server {
    pub async fn bind(config: &Config) -> Result<Server, StartError> {
        let (router, state) = build_app(config).await?;
        let listener = TcpListener::bind(config.addr).await.map_err(|e| {
            StartError(format!(
                "Không mở được địa chỉ {} (có thể cổng đang bị chương trình khác dùng; đặt THIDUA_ADDR \
                 để chọn cổng khác) / cannot listen on {}: {e}",
                config.addr, config.addr
            ))
        })?;
        Ok(Server {
            listener,
            router,
            state,
        })
    }

    pub fn local_addr(&self) -> std::net::SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Serves until `shutdown` completes, then finishes the requests in flight.
    pub async fn run(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        // the peer address feeds the per-address login limit
        let app = self
            .router
            .into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(self.listener, app)
            .with_graceful_shutdown(shutdown)
            .await
    }
}

/// The binary's body: binds, prints where the app and the data are, and serves until Ctrl+C or SIGTERM.
pub async fn serve(config: Config) -> Result<(), StartError> {
    let server = Server::bind(&config).await?;
    let notices = setup::on_start(&server.state, &config).await?;
    let addr = server.local_addr();
    let host = if addr.ip().is_unspecified() {
        "127.0.0.1".to_string()
    } else if addr.is_ipv6() {
        format!("[{}]", addr.ip())
    } else {
        addr.ip().to_string()
    };
    let url = format!("http://{host}:{}", addr.port());
    let database = match &config.database {
        Database::Sqlite(path) => store::sqlite_file(path).display().to_string(),
        other => other.describe(),
    };
    println!("Thi Đua đang chạy tại {url} — mở địa chỉ này trong trình duyệt.");
    println!("Thi Đua is running at {url} — open it in a browser.");
    println!(
        "Cơ sở dữ liệu / database ({}): {database}",
        config.database.kind()
    );
    for line in notices {
        println!("{line}");
    }
    println!("Nhấn Ctrl+C để dừng / press Ctrl+C to stop.");
    server
        .run(shutdown_signal())
        .await
        .map_err(|e| StartError(format!("Máy chủ dừng vì lỗi / server stopped: {e}")))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        // if the handler cannot be installed, run until killed rather than stop at once
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}
