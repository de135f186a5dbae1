//! Sync: the outbox goes up in batches, others' changes come down in pages, and the loop that runs it
//! on reconnect, on the button, after a save and periodically while online, with exponential backoff
//! and jitter after failures. A request that gets no answer is the real sign of being offline;
//! `navigator.onLine` is only a hint used to try sooner.

pub mod online;

use std::cell::Cell;
use std::rc::Rc;

use leptos::prelude::*;
use thidua_domain::protocol::{
    DeviceId, PullRequest, PullResponse, PushRequest, PushResponse, MAX_PULL_LIMIT, MAX_PUSH_BATCH,
    PROTOCOL_VERSION,
};

use crate::api::{post_json, post_json_compressed, ApiError};
use crate::storage::{StorageError, Store, META_CURSOR};

/// How long one request may take before it counts as no answer (2G is slow, not dead).
const REQUEST_TIMEOUT_MS: i32 = 45_000;
/// Records per pull page: small pages apply quickly and survive a dropped connection.
const PULL_PAGE: u32 = 200;
/// While online and idle, look for others' changes this often.
const PERIOD_MS: u32 = 60_000;
/// Backoff after a failure: 5 s doubling up to 10 min, each wait scaled by a random 0.5–1.5.
const BACKOFF_BASE_MS: f64 = 5_000.0;
const BACKOFF_MAX_MS: f64 = 600_000.0;

pub const META_LAST_SYNC: &str = "last_sync_ms";

/// What the sync badge shows. All signals, so the badge updates by itself.
#[derive(Clone, Copy)]
pub struct SyncStatus {
    /// The last request got an answer (or, before any request, the browser's hint).
    pub online: RwSignal<bool>,
    /// Changes waiting in the outbox (including ones that need a fix).
    pub pending: RwSignal<usize>,
    /// Changes the server refused, waiting for the officer.
    pub needs_fix: RwSignal<usize>,
    /// Unix ms of the last sync that completed.
    pub last_sync: RwSignal<Option<f64>>,
    pub syncing: RwSignal<bool>,
    /// 0..1 while syncing.
    pub progress: RwSignal<f64>,
    /// What went wrong last (said in the chosen language where shown); None after a success.
    pub error: RwSignal<Option<SyncError>>,
    /// Bumped after every sync that changed local data, so lists reload.
    pub revision: RwSignal<u64>,
    /// The server refused the session's token (expired or revoked): sync waits for a new sign-in.
    pub needs_login: RwSignal<bool>,
    /// Bumped after every chunk of a photo upload, so thumbnails show their progress (apart from
    /// `revision`, which reloads whole lists).
    pub photos: RwSignal<u64>,
}

impl SyncStatus {
    pub fn new() -> SyncStatus {
        SyncStatus {
            online: RwSignal::new(online::navigator_online()),
            pending: RwSignal::new(0),
            needs_fix: RwSignal::new(0),
            last_sync: RwSignal::new(None),
            syncing: RwSignal::new(false),
            progress: RwSignal::new(0.0),
            error: RwSignal::new(None),
            revision: RwSignal::new(0),
            needs_login: RwSignal::new(false),
            photos: RwSignal::new(0),
        }
    }
}

impl Default for SyncStatus {
    fn default() -> Self {
        SyncStatus::new()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum SyncError {
    Api(ApiError),
    Storage(StorageError),
}

impl SyncError {
    /// What to tell the officer, in their language.
    pub fn message(&self, lang: thidua_domain::Lang) -> String {
        match self {
            SyncError::Api(e) => e.message(lang),
            SyncError::Storage(e) => e.message(lang),
        }
    }
}

impl From<ApiError> for SyncError {
    fn from(e: ApiError) -> Self {
        SyncError::Api(e)
    }
}

impl From<StorageError> for SyncError {
    fn from(e: StorageError) -> Self {
        SyncError::Storage(e)
    }
}

/// Counts the outbox into the status.
pub async fn refresh_counts(store: &Store, status: SyncStatus) {
    if let Ok(outbox) = store.outbox().await {
        status.pending.set(outbox.len());
        status
            .needs_fix
            .set(outbox.iter().filter(|e| e.rejected).count());
    }
}

/// One full sync: push every sendable outbox entry, then pull until the server has nothing more.
pub async fn sync_once(
    store: &Store,
    device: DeviceId,
    token: &str,
    status: SyncStatus,
) -> Result<(), SyncError> {
    status.progress.set(0.0);
    let outbox = store.outbox().await?;
    let sendable: Vec<_> = outbox
        .into_iter()
        .filter(|e| !e.rejected)
        .map(|e| e.mutation)
        .collect();
    let total = sendable.len().max(1) as f64;
    let mut sent = 0usize;
    for batch in sendable.chunks(MAX_PUSH_BATCH) {
        let request = PushRequest {
            protocol: PROTOCOL_VERSION,
            device,
            mutations: batch.to_vec(),
        };
        let response: PushResponse =
            post_json_compressed("/api/sync/push", &request, Some(token), REQUEST_TIMEOUT_MS)
                .await?;
        status.online.set(true);
        store.apply_push(batch, &response.results).await?;
        sent += batch.len();
        status.progress.set(0.5 * sent as f64 / total);
        status.revision.update(|r| *r += 1);
    }
    status.progress.set(0.5);

    let mut cursor: Option<String> = store.meta(META_CURSOR).await?;
    let mut pages = 0u32;
    loop {
        let request = PullRequest {
            protocol: PROTOCOL_VERSION,
            cursor: cursor.clone().map(thidua_domain::protocol::Cursor),
            limit: PULL_PAGE.min(MAX_PULL_LIMIT),
            org_unit: None,
        };
        let page: PullResponse =
            post_json("/api/sync/pull", &request, Some(token), REQUEST_TIMEOUT_MS).await?;
        status.online.set(true);
        if !page.records.is_empty() || cursor.as_deref() != Some(page.next_cursor.0.as_str()) {
            store.apply_pull(&page.records, &page.next_cursor.0).await?;
            if !page.records.is_empty() {
                status.revision.update(|r| *r += 1);
            }
        }
        cursor = Some(page.next_cursor.0);
        pages += 1;
        // progress of an unknown number of pages: approach 1 without reaching it
        status
            .progress
            .set(0.5 + 0.5 * (1.0 - 1.0 / (pages as f64 + 1.0)));
        if !page.has_more {
            break;
        }
    }
    // lists of units the province uploaded: new communes become pickable offline
    match crate::units::refresh(store, token).await {
        Ok(true) => status.revision.update(|r| *r += 1),
        Ok(false) => {}
        Err(crate::units::RefreshError::Api(e)) => return Err(e.into()),
        Err(crate::units::RefreshError::Storage(e)) => return Err(e.into()),
    }
    // the province's criteria and target sets: requirements checked offline as the server checks them
    match crate::reference_sets::refresh(store, token).await {
        Ok(true) => status.revision.update(|r| *r += 1),
        Ok(false) => {}
        Err(crate::reference_sets::RefreshError::Api(e)) => return Err(e.into()),
        Err(crate::reference_sets::RefreshError::Storage(e)) => return Err(e.into()),
    }
    // requests for approval made with no signal: sent once every change of the device is on the server
    if store.outbox_len().await? == 0 && crate::submissions::send_queued(store, token).await? > 0 {
        status.revision.update(|r| *r += 1);
    }
    // photos last: records are small and matter first; a photo cut off resumes at the next sync
    let uploaded =
        crate::photos::upload_pending(store, token, |_| status.photos.update(|n| *n += 1)).await;
    match uploaded {
        Ok(_) => {}
        Err(crate::photos::UploadError::Api(e)) => return Err(e.into()),
        Err(crate::photos::UploadError::Storage(e)) => return Err(e.into()),
    }
    let now = js_sys::Date::now();
    store.set_meta(META_LAST_SYNC, &now).await?;
    status.last_sync.set(Some(now));
    status.progress.set(1.0);
    Ok(())
}

/// The delay before retry number `failures` (1, 2, …), with jitter `random` in 0..1.
pub fn backoff_ms(failures: u32, random: f64) -> f64 {
    let exp = BACKOFF_BASE_MS * 2f64.powi(failures.saturating_sub(1).min(16) as i32);
    exp.min(BACKOFF_MAX_MS) * (0.5 + random)
}

/// Asks the loop to sync as soon as it can (button, reconnect, a save).
#[derive(Clone)]
pub struct SyncTrigger(Rc<Cell<bool>>, Rc<Cell<Option<js_sys::Function>>>);

impl SyncTrigger {
    fn new() -> SyncTrigger {
        SyncTrigger(Rc::new(Cell::new(false)), Rc::new(Cell::new(None)))
    }
    /// A trigger with no loop behind it: firing it only marks that a sync was asked for (component
    /// tests, which run no sync).
    pub fn detached() -> SyncTrigger {
        SyncTrigger::new()
    }

    /// True once fired and not yet taken by the loop.
    pub fn is_pending(&self) -> bool {
        self.0.get()
    }

    pub fn fire(&self) {
        self.0.set(true);
        if let Some(wake) = self.1.take() {
            let _ = wake.call0(&wasm_bindgen::JsValue::NULL);
        }
    }
}

/// Sleeps up to `ms`, waking early when the trigger fires.
async fn wait(trigger: &SyncTrigger, ms: f64) {
    if trigger.0.replace(false) {
        return;
    }
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(
                &resolve,
                ms.min(i32::MAX as f64) as i32,
            );
        }
        trigger.1.set(Some(resolve));
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
    trigger.0.set(false);
}

/// Starts the background loop. Returns the trigger that the button, saves and sign-ins use.
/// `token` gives the current session's token each time, so a new sign-in takes effect at once.
pub fn start(
    store: Rc<Store>,
    device: DeviceId,
    token: impl Fn() -> String + 'static,
    status: SyncStatus,
) -> SyncTrigger {
    let trigger = SyncTrigger::new();
    {
        let trigger = trigger.clone();
        online::on_change(move |online| {
            status.online.set(online);
            if online {
                trigger.fire(); // reconnect: try at once
            }
        });
    }
    let looping = trigger.clone();
    leptos::task::spawn_local(async move {
        if let Ok(Some(last)) = store.meta::<f64>(META_LAST_SYNC).await {
            status.last_sync.set(Some(last));
        }
        refresh_counts(&store, status).await;
        let mut failures = 0u32;
        loop {
            if status.needs_login.get_untracked() {
                // nothing can reach the server until the officer signs in again; edits keep queueing
                wait(&looping, f64::from(i32::MAX)).await;
                continue;
            }
            status.syncing.set(true);
            status.error.set(None);
            let result = sync_once(&store, device, &token(), status).await;
            status.syncing.set(false);
            refresh_counts(&store, status).await;
            let delay = match result {
                Ok(()) => {
                    failures = 0;
                    PERIOD_MS as f64
                }
                Err(SyncError::Api(e)) if e.is_unauthorized() => {
                    status.needs_login.set(true);
                    status.error.set(Some(SyncError::Api(e)));
                    continue;
                }
                Err(e) => {
                    failures += 1;
                    if matches!(e, SyncError::Api(ApiError::Unreachable)) {
                        status.online.set(false);
                    }
                    status.error.set(Some(e));
                    backoff_ms(failures, js_sys::Math::random())
                }
            };
            wait(&looping, delay).await;
        }
    });
    trigger
}
