//! Thi Đua's browser app: Leptos with client-side rendering, compiled to wasm.
//!
//! Works with no network: everything is read from and written to IndexedDB (`storage`), and the
//! `sync` loop exchanges changes with the server when it can. The rules come from `thidua_domain`,
//! the same crate the server runs, so what the officer sees here is what the server accepts.

pub mod api;
#[cfg(feature = "bench")]
pub mod bench;
pub mod browser;
pub mod charts;
pub mod components;
pub mod drafts;
pub mod export;
pub mod households;
pub mod i18n;
pub mod pages;
pub mod photos;
pub mod records;
pub mod reference_sets;
pub mod session;
pub mod storage;
pub mod submissions;
pub mod sync;
pub mod units;

use std::cell::{OnceCell, RefCell};
use std::rc::Rc;

use leptos::prelude::*;

use crate::households::Device;
use crate::i18n::{t, tu_string};
use crate::session::Session;
use crate::storage::{Store, DB_VERSION};
use crate::sync::{SyncStatus, SyncTrigger};

/// The device's storage and identity, opened once at start. Browser objects are not `Send`, so they
/// live here rather than in Leptos context.
pub struct Services {
    pub store: Rc<Store>,
    pub device: Device,
    pub trigger: SyncTrigger,
    /// The signed-in user's session; a new sign-in of the same user replaces the token here.
    pub session: Rc<RefCell<Session>>,
}

thread_local! {
    static SERVICES: OnceCell<Rc<Services>> = const { OnceCell::new() };
}

/// Puts the opened services in place (start-up does, once; component tests do with their own
/// store). False when they were already in place.
pub fn install_services(services: Services) -> bool {
    SERVICES.with(|s| s.set(Rc::new(services)).is_ok())
}

/// The opened services. Only called by screens shown after start-up finished.
pub fn services() -> Rc<Services> {
    SERVICES
        .with(|s| s.get().cloned())
        .expect("services are opened before any screen needs them")
}

/// Starts the app: mounts it, opens the signed-in user's storage, starts sync, registers the service worker.
pub fn start() {
    console_error_panic_hook_lite();
    leptos::mount::mount_to_body(App);
}

#[derive(Clone, PartialEq)]
enum Startup {
    Opening,
    /// Nobody is signed in on this browser.
    SignIn,
    Ready,
    Failed(storage::StorageError),
}

/// The signed-in user, for screens that depend on the role. Set once the session is open.
#[derive(Clone, Copy)]
pub struct CurrentUser(pub RwSignal<Option<session::User>>);

#[component]
fn App() -> impl IntoView {
    let i18n = i18n::provide_i18n();
    let lang = i18n::ui_lang();
    let status = SyncStatus::new();
    provide_context(status);
    let user = RwSignal::new(None::<session::User>);
    provide_context(CurrentUser(user));
    let startup = RwSignal::new(Startup::Opening);
    let worker = browser::service_worker::use_service_worker();
    provide_context(worker);
    let storage_manager = browser::storage_manager::use_storage_manager();
    provide_context(storage_manager);
    provide_context(components::device_panel::OpenForms(RwSignal::new(0)));
    // the sign-in form over the app, when the server asked for a new sign-in
    let relogin = RwSignal::new(false);

    leptos::task::spawn_local(async move {
        storage::delete_marked_databases().await;
        let Some(session) = session::load() else {
            startup.set(Startup::SignIn);
            return;
        };
        let opened = async {
            let store = Rc::new(Store::open_named(&session.database_name(), DB_VERSION).await?);
            let device = Device::load(&store).await?;
            api::identify_device(&device.id.to_string());
            units::load(&store).await?;
            reference_sets::load(&store).await?;
            Ok::<_, storage::StorageError>((store, device))
        }
        .await;
        match opened {
            Ok((store, device)) => {
                user.set(Some(session.user.clone()));
                let session = Rc::new(RefCell::new(session));
                let token = {
                    let session = session.clone();
                    move || session.borrow().token.clone()
                };
                let trigger = sync::start(store.clone(), device.id, token, status);
                install_services(Services {
                    store,
                    device,
                    trigger,
                    session,
                });
                startup.set(Startup::Ready);
                // signed in and holding data: now ask the browser to keep it
                storage_manager.request_persistence();
            }
            Err(e) => startup.set(Startup::Failed(e)),
        }
    });

    let sign_out = move |_| {
        // signing out deletes the device's data, drafts included: a half-typed form asks first
        if crate::drafts::any_unsaved()
            && !crate::drafts::confirm(tu_string!(i18n, app.sign_out_unsaved))
        {
            return;
        }
        let pending = status.pending.get_untracked();
        if pending > 0 {
            let warning = tu_string!(i18n, app.sign_out_unsent, n = pending);
            let confirmed = web_sys::window()
                .and_then(|w| w.confirm_with_message(&warning).ok())
                .unwrap_or(false);
            if !confirmed {
                return;
            }
        }
        leptos::task::spawn_local(async move {
            let services = services();
            let token = services.session.borrow().token.clone();
            let database = services.session.borrow().database_name();
            session::logout(&token).await;
            // the database is deleted on the next start, when no connection holds it open
            storage::mark_for_deletion(&database);
            session::clear();
            crate::drafts::leave_page_without_asking();
            reload();
        });
    };

    view! {
        <header class="topbar">
            <h1>{t!(i18n, app.title)}</h1>
            <div class="who">
                {move || user.get().map(|u| view! {
                    <span class="user" data-testid="user">{format!("{} · {}", u.display_name, u.role.label(lang.get()))}</span>
                    <button class="lang" on:click=sign_out data-testid="sign-out">{t!(i18n, app.sign_out)}</button>
                })}
                <button class="lang" data-testid="switch-language" on:click=move |_| crate::i18n::toggle(i18n)>{t!(i18n, app.switch_language)}</button>
            </div>
        </header>
        <components::device_panel::UpdateBanner/>
        {move || match startup.get() {
            Startup::Opening => view! { <p class="notice">{t!(i18n, app.opening)}</p> }.into_any(),
            Startup::SignIn => view! { <components::login::Login relogin=false on_done=Callback::new(|_| reload())/> }.into_any(),
            Startup::Failed(error) => view! {
                <p class="notice error" role="alert">
                    {move || error.message(lang.get())}
                    {t!(i18n, app.private_window_hint)}
                </p>
            }.into_any(),
            Startup::Ready => view! {
                <components::sync_badge::SyncBadge on_relogin=Callback::new(move |_| relogin.set(true))/>
                <Show when=move || relogin.get()>
                    <components::login::Login relogin=true on_done=Callback::new(move |_| relogin.set(false))/>
                </Show>
                <pages::Main/>
                <components::device_panel::DevicePanel/>
            }.into_any(),
        }}
    }
}

/// The signed-in user's role, when known.
pub fn current_role() -> Option<session::Role> {
    use_context::<CurrentUser>()
        .and_then(|u| u.0.get_untracked())
        .map(|u| u.role)
}

/// Starts the page afresh (after a sign-in of another user, or a sign-out).
pub fn reload() {
    if let Some(window) = web_sys::window() {
        let _ = window.location().reload();
    }
}

/// Panics are rare with `panic = "abort"`, but when one happens the console should say where.
fn console_error_panic_hook_lite() {
    std::panic::set_hook(Box::new(|info| {
        web_sys::console::error_1(&info.to_string().into());
    }));
}
