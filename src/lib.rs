//! Thi Đua's browser app: Leptos with client-side rendering, compiled to wasm.
//!
//! Works with no network: everything is read from and written to IndexedDB (`storage`), and the
//! `sync` loop exchanges changes with the server when it can. The rules come from `thidua_domain`,
//! the same crate the server runs, so what the officer sees here is what the server accepts.

pub mod api;
pub mod components;
pub mod households;
pub mod i18n;
pub mod pages;
pub mod storage;
pub mod sync;

use std::cell::OnceCell;
use std::rc::Rc;

use leptos::prelude::*;
use thidua_domain::Lang;

use crate::households::Device;
use crate::i18n::UiLang;
use crate::storage::Store;
use crate::sync::{SyncStatus, SyncTrigger};

/// The device's storage and identity, opened once at start. Browser objects are not `Send`, so they
/// live here rather than in Leptos context.
pub struct Services {
    pub store: Rc<Store>,
    pub device: Device,
    pub trigger: SyncTrigger,
}

thread_local! {
    static SERVICES: OnceCell<Rc<Services>> = const { OnceCell::new() };
}

/// The opened services. Only called by screens shown after start-up finished.
pub fn services() -> Rc<Services> {
    SERVICES
        .with(|s| s.get().cloned())
        .expect("services are opened before any screen needs them")
}

/// Starts the app: mounts it, opens storage, starts sync, registers the service worker.
pub fn start() {
    console_error_panic_hook_lite();
    leptos::mount::mount_to_body(App);
    register_service_worker();
}

#[derive(Clone, PartialEq)]
enum Startup {
    Opening,
    Ready,
    Failed(String),
}

#[component]
fn App() -> impl IntoView {
    let lang = RwSignal::new(Lang::Vi);
    provide_context(UiLang(lang));
    let status = SyncStatus::new();
    provide_context(status);
    let startup = RwSignal::new(Startup::Opening);

    leptos::task::spawn_local(async move {
        let opened = async {
            let store = Rc::new(Store::open().await?);
            let device = Device::load(&store).await?;
            Ok::<_, storage::StorageError>((store, device))
        }
        .await;
        match opened {
            Ok((store, device)) => {
                let trigger = sync::start(store.clone(), device.id, status);
                let _ = SERVICES.with(|s| {
                    s.set(Rc::new(Services {
                        store,
                        device,
                        trigger,
                    }))
                });
                startup.set(Startup::Ready);
            }
            Err(e) => startup.set(Startup::Failed(e.message_vi())),
        }
    });

    view! {
        <header class="topbar">
            <h1>"Thi Đua"</h1>
            <button class="lang" on:click=move |_| lang.update(|l| *l = if *l == Lang::Vi { Lang::En } else { Lang::Vi })>
                {move || if lang.get() == Lang::Vi { "English" } else { "Tiếng Việt" }}
            </button>
        </header>
        {move || match startup.get() {
            Startup::Opening => view! { <p class="notice">"Đang mở dữ liệu trên máy…"</p> }.into_any(),
            Startup::Failed(message) => view! {
                <p class="notice error" role="alert">
                    {message}
                    " Nếu đang dùng chế độ ẩn danh, hãy mở trình duyệt bình thường."
                </p>
            }.into_any(),
            Startup::Ready => view! {
                <components::sync_badge::SyncBadge/>
                <pages::Main/>
            }.into_any(),
        }}
    }
}

/// Panics are rare with `panic = "abort"`, but when one happens the console should say where.
fn console_error_panic_hook_lite() {
    std::panic::set_hook(Box::new(|info| {
        web_sys::console::error_1(&info.to_string().into());
    }));
}

/// The service worker keeps the app's files so the app starts with no network.
fn register_service_worker() {
    if let Some(window) = web_sys::window() {
        let container = window.navigator().service_worker();
        let _ = container.register("/sw.js");
    }
}
