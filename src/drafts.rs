//! Drafts that save themselves (bản nháp): what an officer has typed into a form is kept in the
//! device's meta store a moment after they stop typing, so a closed tab, a flat battery or an app
//! update loses nothing, and it comes back when the form opens again. A form back at its saved
//! state has no draft. Leaving a form with unsaved changes asks first, both in the app (the caller
//! asks with [`confirm`]) and when the tab closes (the browser's own question).

use leptos::prelude::*;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;

/// How long typing must pause before the draft is written.
pub const DRAFT_PAUSE_MS: i32 = 600;

/// A form's draft as kept on the device.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Draft<T> {
    pub value: T,
    /// When it was last written (Unix ms), to tell the officer.
    pub saved_at: f64,
}

/// The draft kept under `key`, if any.
pub async fn load<T: DeserializeOwned>(key: &str) -> Option<Draft<T>> {
    crate::services()
        .store
        .meta::<Draft<T>>(key)
        .await
        .ok()
        .flatten()
}

/// Removes the draft under `key` (saved, or discarded by the officer).
pub fn discard(key: String) {
    leptos::task::spawn_local(async move {
        let _ = crate::services().store.delete_meta(&key).await;
    });
}

/// Asks before unsaved changes are thrown away; true when the officer agrees.
pub fn confirm(question: &str) -> bool {
    web_sys::window()
        .and_then(|w| w.confirm_with_message(question).ok())
        .unwrap_or(false)
}

/// Whether a form may be left: at once when nothing is unsaved; otherwise only if the officer agrees
/// to `question`, and then the draft under `key` goes too.
pub fn may_leave(unsaved: bool, question: &str, key: &str) -> bool {
    if !unsaved {
        return true;
    }
    if !confirm(question) {
        return false;
    }
    discard(key.to_string());
    true
}

/// Keeps the draft of a form under `key` while the form is mounted: each change of `value` (a
/// tracked read) writes the draft after [`DRAFT_PAUSE_MS`] when `dirty`, or removes it when not;
/// nothing is written until `ready` (the stored draft has been read back first). While `dirty`, the
/// browser asks before the tab closes.
pub fn use_autosave<T>(
    key: String,
    value: impl Fn() -> T + 'static,
    dirty: Signal<bool>,
    ready: Signal<bool>,
) where
    T: Serialize + Clone + 'static,
{
    let key = StoredValue::new(key);
    let timer = StoredValue::new(None::<i32>);
    Effect::new(move |_| {
        let value = value(); // tracks the form
        let is_dirty = dirty.get();
        if !ready.get() {
            return;
        }
        let Some(window) = web_sys::window() else {
            return;
        };
        if let Some(t) = timer.get_value() {
            window.clear_timeout_with_handle(t);
        }
        let write = Closure::once_into_js(move || {
            leptos::task::spawn_local(async move {
                let store = crate::services().store.clone();
                if is_dirty {
                    let draft = Draft {
                        value,
                        saved_at: js_sys::Date::now(),
                    };
                    let _ = store.set_meta(&key.get_value(), &draft).await;
                } else {
                    let _ = store.delete_meta(&key.get_value()).await;
                }
            });
        });
        timer.set_value(
            window
                .set_timeout_with_callback_and_timeout_and_arguments_0(
                    write.unchecked_ref(),
                    DRAFT_PAUSE_MS,
                )
                .ok(),
        );
    });
    let before_unload = Closure::<dyn Fn(web_sys::BeforeUnloadEvent)>::new(
        move |event: web_sys::BeforeUnloadEvent| {
            if dirty.get_untracked() {
                event.prevent_default();
                event.set_return_value("");
            }
        },
    );
    if let Some(window) = web_sys::window() {
        let _ = window.add_event_listener_with_callback(
            "beforeunload",
            before_unload.as_ref().unchecked_ref(),
        );
    }
    let before_unload = StoredValue::new_local(before_unload);
    on_cleanup(move || {
        if let Some(window) = web_sys::window() {
            before_unload.with_value(|f| {
                let _ = window.remove_event_listener_with_callback(
                    "beforeunload",
                    f.as_ref().unchecked_ref(),
                );
            });
        }
    });
}
