//! `use_storage_manager`: how much room the browser gives the app's data, and whether it promised to
//! keep it (persistent storage). Without that promise a browser short of space may clear an origin's
//! IndexedDB — on a tablet holding a week of unsynced work, the worst thing that can happen — so the
//! app asks for it after sign-in and shows the answer.

use leptos::prelude::*;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

/// Above this share of the quota the app warns before writes start failing.
pub const WARN_AT: f64 = 0.8;

#[derive(Clone, Copy)]
pub struct StorageManager {
    /// Some(true): the browser keeps the data until the user clears it; None: not known (no API).
    pub persisted: RwSignal<Option<bool>>,
    /// Bytes used by this origin, and the most it may use.
    pub usage: RwSignal<Option<f64>>,
    pub quota: RwSignal<Option<f64>>,
}

fn manager() -> Option<web_sys::StorageManager> {
    let navigator = web_sys::window()?.navigator();
    js_sys::Reflect::has(&navigator, &"storage".into())
        .ok()
        .filter(|has| *has)?;
    Some(navigator.storage())
}

async fn boolean(promise: Result<js_sys::Promise, JsValue>) -> Option<bool> {
    JsFuture::from(promise.ok()?).await.ok()?.as_bool()
}

impl StorageManager {
    /// Asks the browser to keep the data (Chromium decides by itself, without a prompt, for an
    /// installed app or a site used often) and records the answer.
    pub fn request_persistence(self) {
        leptos::task::spawn_local(async move {
            let Some(manager) = manager() else { return };
            let granted = match boolean(manager.persisted()).await {
                Some(true) => Some(true),
                _ => boolean(manager.persist()).await,
            };
            self.persisted.set(granted);
        });
    }

    /// Reads usage and quota again.
    pub fn refresh(self) {
        leptos::task::spawn_local(async move {
            let Some(manager) = manager() else { return };
            let Ok(promise) = manager.estimate() else {
                return;
            };
            let Ok(estimate) = JsFuture::from(promise).await else {
                return;
            };
            let number = |key: &str| {
                js_sys::Reflect::get(&estimate, &key.into())
                    .ok()
                    .and_then(|v| v.as_f64())
            };
            self.usage.set(number("usage"));
            self.quota.set(number("quota"));
        });
    }

    /// The share of the quota in use, when known.
    pub fn fill(self) -> Option<f64> {
        match (self.usage.get(), self.quota.get()) {
            (Some(used), Some(quota)) if quota > 0.0 => Some(used / quota),
            _ => None,
        }
    }
}

pub fn use_storage_manager() -> StorageManager {
    let state = StorageManager {
        persisted: RwSignal::new(None),
        usage: RwSignal::new(None),
        quota: RwSignal::new(None),
    };
    state.refresh();
    state
}
