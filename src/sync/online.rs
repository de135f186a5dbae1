//! The browser's online/offline hint (`navigator.onLine` and its events). Only a hint: a failed
//! request is what really says "offline".

use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;

pub fn navigator_online() -> bool {
    web_sys::window()
        .map(|w| w.navigator().on_line())
        .unwrap_or(true)
}

/// Calls `f(true)` on the `online` event and `f(false)` on `offline`, for the life of the page.
pub fn on_change(f: impl Fn(bool) + Clone + 'static) {
    let Some(window) = web_sys::window() else {
        return;
    };
    for (event, online) in [("online", true), ("offline", false)] {
        let f = f.clone();
        let handler = Closure::<dyn Fn()>::new(move || f(online));
        let _ = window.add_event_listener_with_callback(event, handler.as_ref().unchecked_ref());
        handler.forget(); // lives as long as the page
    }
}
