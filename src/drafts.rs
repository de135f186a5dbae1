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

thread_local! {
    /// The `dirty` signal of every form now open, so sign-out can ask about them.
    static OPEN_FORMS: std::cell::RefCell<Vec<(u64, Signal<bool>)>> = const { std::cell::RefCell::new(Vec::new()) };
    static NEXT_FORM: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    /// Set when the app itself leaves the page after asking (sign-out): the browser's own question
    /// would only ask again.
    static LEAVING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether an open form holds changes that are not saved.
pub fn any_unsaved() -> bool {
    OPEN_FORMS.with_borrow(|forms| {
        forms
            .iter()
            .any(|(_, dirty)| dirty.try_get_untracked().unwrap_or(false))
    })
}

/// The app leaves the page on purpose (the officer already agreed): no second question.
pub fn leave_page_without_asking() {
    LEAVING.set(true);
}

/// How long typing must pause before the draft is written.
pub const DRAFT_PAUSE_MS: i32 = 600;

/// A form's draft as kept on the device.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Draft<T> {
    pub value: T,
    /// When it was last written (Unix ms), to tell the officer.
    pub saved_at: f64,
    /// What the form showed from the store when the typing began: what tells the typed values from
    /// the ones a colleague's sync may have changed since (see [`rebase`]). None in drafts written
    /// before version 4 of the app, and for forms with nothing stored under them.
    #[serde(default = "no_base")]
    pub base: Option<T>,
}

// (`#[serde(default)]` would ask `T: Default` of every form)
fn no_base<T>() -> Option<T> {
    None
}

impl<T: Serialize + DeserializeOwned + Clone> Draft<T> {
    /// The draft brought forward over `stored`, the form as the store has it now: only what was
    /// typed goes over it. A draft without a base is taken whole, as before.
    pub fn over(&self, stored: &T) -> T {
        match &self.base {
            Some(base) => rebase(base, &self.value, stored),
            None => self.value.clone(),
        }
    }
}

/// [`thidua_domain::merge::rebase_draft`] for any form whose state is a JSON object: a field typed
/// since `base` keeps the typed value, every other field takes `stored`'s.
pub fn rebase<T: Serialize + DeserializeOwned + Clone>(base: &T, draft: &T, stored: &T) -> T {
    let object = |value: &T| match serde_json::to_value(value) {
        Ok(serde_json::Value::Object(map)) => Some(map.into_iter().collect()),
        _ => None,
    };
    let (Some(base), Some(typed), Some(now)) = (object(base), object(draft), object(stored)) else {
        return draft.clone();
    };
    let merged: std::collections::BTreeMap<String, serde_json::Value> =
        thidua_domain::merge::rebase_draft(&base, &typed, &now);
    serde_json::from_value(serde_json::Value::Object(merged.into_iter().collect()))
        .unwrap_or_else(|_| draft.clone())
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
/// tracked read) writes the draft, with `base` (what the form showed from the store, read
/// untracked), after [`DRAFT_PAUSE_MS`] when `dirty`, or removes it when not; nothing is written
/// until `ready` (the stored draft has been read back first). While `dirty`, the browser asks
/// before the tab closes.
pub fn use_autosave<T>(
    key: String,
    value: impl Fn() -> T + 'static,
    base: impl Fn() -> Option<T> + 'static,
    dirty: Signal<bool>,
    ready: Signal<bool>,
) where
    T: Serialize + Clone + 'static,
{
    let key = StoredValue::new(key);
    let timer = StoredValue::new(None::<i32>);
    Effect::new(move |_| {
        let value = value(); // tracks the form
        let base = leptos::prelude::untrack(&base);
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
                        base,
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
    let form = NEXT_FORM.replace(NEXT_FORM.get() + 1);
    OPEN_FORMS.with_borrow_mut(|forms| forms.push((form, dirty)));
    on_cleanup(move || OPEN_FORMS.with_borrow_mut(|forms| forms.retain(|(f, _)| *f != form)));
    let before_unload = Closure::<dyn Fn(web_sys::BeforeUnloadEvent)>::new(
        move |event: web_sys::BeforeUnloadEvent| {
            if dirty.get_untracked() && !LEAVING.get() {
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
