//! `use_service_worker`: registers the service worker that keeps the app's files for offline starts,
//! and tells the app when a newer version has downloaded and is waiting. The new version takes over
//! only through [`ServiceWorker::apply_update`] (the user pressed "Tải lại"), or by itself at the next
//! start once every tab of the app is closed.

use leptos::prelude::*;
use wasm_bindgen::{closure::Closure, JsCast};
use wasm_bindgen_futures::JsFuture;

/// How often to ask the server for a newer version while the app stays open (the browser also checks
/// at each start).
const CHECK_EVERY_MS: i32 = 30 * 60 * 1000;
/// How often to look whether a downloaded version is waiting (cheap: no network).
const LOOK_EVERY_MS: i32 = 3_000;

#[derive(Clone, Copy)]
pub struct ServiceWorker {
    /// A newer version is downloaded and waiting for the user's go-ahead.
    pub update_ready: RwSignal<bool>,
    /// The page is controlled by the service worker (it will start with no network).
    pub controlling: RwSignal<bool>,
}

impl ServiceWorker {
    /// Lets the waiting version take over; the page reloads when it has.
    pub fn apply_update(&self) {
        leptos::task::spawn_local(async {
            let Some(container) = container() else { return };
            let Ok(ready) = container.ready() else { return };
            let Ok(registration) = JsFuture::from(ready).await else {
                return;
            };
            let registration: web_sys::ServiceWorkerRegistration = registration.unchecked_into();
            match registration.waiting() {
                Some(waiting) => {
                    let reload = Closure::once_into_js(crate::reload);
                    container.set_oncontrollerchange(Some(reload.unchecked_ref()));
                    let _ = waiting.post_message(&"SKIP_WAITING".into());
                }
                None => crate::reload(),
            }
        });
    }
}

fn container() -> Option<web_sys::ServiceWorkerContainer> {
    let window = web_sys::window()?;
    // absent in insecure contexts and very old browsers: the app then simply needs the network
    js_sys::Reflect::has(&window.navigator(), &"serviceWorker".into())
        .ok()
        .filter(|has| *has)?;
    Some(window.navigator().service_worker())
}

/// Registers `/sw.js` and starts watching for updates.
pub fn use_service_worker() -> ServiceWorker {
    let worker = ServiceWorker {
        update_ready: RwSignal::new(false),
        controlling: RwSignal::new(false),
    };
    let Some(sw) = container() else {
        return worker;
    };
    let registering = sw.register("/sw.js");
    leptos::task::spawn_local(async move {
        let Ok(registration) = JsFuture::from(registering).await else {
            return;
        };
        let registration: web_sys::ServiceWorkerRegistration = registration.unchecked_into();
        let look = {
            let registration = registration.clone();
            move || {
                let controlled = container().and_then(|c| c.controller()).is_some();
                worker.controlling.set(controlled);
                // a waiting worker while another controls the page is an update; on the very first
                // install nothing controls the page and the new worker simply takes charge
                if controlled && registration.waiting().is_some() {
                    worker.update_ready.set(true);
                }
            }
        };
        look();
        let Some(window) = web_sys::window() else {
            return;
        };
        let looking = Closure::<dyn Fn()>::new(look);
        let _ = window.set_interval_with_callback_and_timeout_and_arguments_0(
            looking.as_ref().unchecked_ref(),
            LOOK_EVERY_MS,
        );
        looking.forget(); // lives as long as the page
        let checking = Closure::<dyn Fn()>::new(move || {
            if let Ok(promise) = registration.update() {
                leptos::task::spawn_local(async move {
                    let _ = JsFuture::from(promise).await; // offline: fine, try again later
                });
            }
        });
        let _ = window.set_interval_with_callback_and_timeout_and_arguments_0(
            checking.as_ref().unchecked_ref(),
            CHECK_EVERY_MS,
        );
        checking.forget();
    });
    worker
}
