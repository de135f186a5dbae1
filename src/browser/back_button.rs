//! `use_back_button`: the device's back button (Android's, or the browser's) inside a form. Without
//! it, back leaves the app's page altogether and a half-typed form is gone without a question. While
//! a form is open it holds one history entry of its own; back pops it, the entry is put back at
//! once, and the form's own "leave" runs: it asks when something is unsaved and closes the form if
//! the officer agrees. Saying no keeps the form, and the next back press asks again. A form closed
//! by its own buttons leaves its entry behind as a plain one: a back press there stays in the app.

use leptos::prelude::*;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

/// The state of the history entry a form holds.
const MARKER: &str = "thidua-form";

fn push_marker(history: &web_sys::History) {
    let _ = history.push_state(&JsValue::from_str(MARKER), "");
}

/// While the calling component is mounted, a back press runs `on_back` instead of leaving the page.
pub fn use_back_button(on_back: impl Fn() + 'static) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let Ok(history) = window.history() else {
        return;
    };
    push_marker(&history);
    let handler = Closure::<dyn Fn(web_sys::PopStateEvent)>::new(move |_| {
        if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
            push_marker(&history);
        }
        on_back();
    });
    let _ = window.add_event_listener_with_callback("popstate", handler.as_ref().unchecked_ref());
    let handler = StoredValue::new_local(handler);
    on_cleanup(move || {
        let Some(window) = web_sys::window() else {
            return;
        };
        handler.with_value(|h| {
            let _ =
                window.remove_event_listener_with_callback("popstate", h.as_ref().unchecked_ref());
        });
        // the form closed by its own buttons: its entry stays (going back on the app's behalf could
        // leave the page if the entries were not what they seem) but is no longer the form's
        if let Ok(history) = window.history() {
            if history.state().ok().and_then(|s| s.as_string()).as_deref() == Some(MARKER) {
                let _ = history.replace_state(&JsValue::NULL, "");
            }
        }
    });
}
