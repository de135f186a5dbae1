//! Evidence photos for a record: a big "take photo" button, thumbnails with where each upload
//! stands, and a way to drop one. The photos' ids are the field's value (`photos`); the bytes stay in
//! the device's storage until the sync loop has uploaded them (see `crate::photos`).

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::i18n::{t, t_string, ui_lang, use_i18n};
use crate::photos::{keep_photo, photo_url, MAX_PHOTOS};
use crate::storage::photos::PhotoEntry;

#[component]
pub fn PhotoEvidence(
    /// The commune the photos are evidence for.
    unit: String,
    /// The record whose field lists them.
    record_id: String,
    /// The photo ids of the field; the component adds and removes.
    photos: RwSignal<Vec<String>>,
    /// A name for tests and screen readers ("household", "indicator-15.3").
    name: String,
    #[prop(default = true)] editable: bool,
) -> impl IntoView {
    let status = expect_context::<crate::sync::SyncStatus>();
    let i18n = use_i18n();
    let lang = ui_lang();
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let unit = StoredValue::new(unit);
    let record_id = StoredValue::new(record_id);
    // what the device knows of each photo, reloaded as uploads progress
    let entries = RwSignal::new(Vec::<PhotoEntry>::new());
    Effect::new(move |_| {
        status.photos.track();
        status.revision.track();
        let ids = photos.get();
        leptos::task::spawn_local(async move {
            let store = crate::services().store.clone();
            let mut found = Vec::new();
            for id in &ids {
                if let Ok(Some(entry)) = store.photo(id).await {
                    found.push(entry);
                }
            }
            entries.set(found);
        });
    });
    let on_files = move |ev: leptos::ev::Event| {
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        let Some(files) = input.files() else { return };
        let chosen: Vec<web_sys::File> = (0..files.length()).filter_map(|i| files.get(i)).collect();
        input.set_value(""); // the same photo can be chosen again after removing it
        if chosen.is_empty() {
            return;
        }
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            let services = crate::services();
            for file in chosen {
                if photos.with_untracked(|p| p.len()) >= MAX_PHOTOS {
                    error.set(Some(
                        t_string!(i18n, photos.too_many, max = MAX_PHOTOS).to_string(),
                    ));
                    break;
                }
                match keep_photo(
                    &services.store,
                    &services.device,
                    &file,
                    &unit.get_value(),
                    &record_id.get_value(),
                    lang.get_untracked(),
                )
                .await
                {
                    Ok(entry) => photos.update(|p| p.push(entry.id)),
                    Err(message) => {
                        error.set(Some(message));
                        break;
                    }
                }
            }
            busy.set(false);
        });
    };
    let remove = move |id: String| {
        photos.update(|p| p.retain(|x| *x != id));
        // not yet on the server: nothing else names it, free the space
        let not_sent = entries.with_untracked(|e| e.iter().any(|p| p.id == id && !p.complete));
        if not_sent {
            leptos::task::spawn_local(async move {
                let _ = crate::services().store.remove_photo(&id).await;
            });
        }
    };
    let input_id = format!("photo-input-{name}");
    let list_testid = format!("photos-{name}");
    view! {
        <div class="photos" data-testid=list_testid>
            <ul class="thumbs">
                <For each=move || photos.get() key=|id| id.clone() let:id>
                    <PhotoThumb id=id.clone() entries=entries editable=editable on_remove=Callback::new(remove)/>
                </For>
            </ul>
            <Show when=move || editable>
                // the input first: it takes the keyboard focus, and its label shows the focus ring
                <input id=input_id.clone() class="visually-hidden" type="file" accept="image/*"
                    capture="environment" multiple data-testid=input_id.clone()
                    on:change=on_files disabled=move || busy.get()/>
                <label class="button photo-take" for=input_id.clone()
                    class:disabled=move || busy.get()>
                    {move || if busy.get() { t_string!(i18n, photos.preparing) } else { t_string!(i18n, photos.take) }}
                </label>
            </Show>
            {move || error.get().map(|m| view! { <p class="error" role="alert">{m}</p> })}
        </div>
    }
}

#[component]
fn PhotoThumb(
    id: String,
    entries: RwSignal<Vec<PhotoEntry>>,
    editable: bool,
    on_remove: Callback<String>,
) -> impl IntoView {
    let i18n = use_i18n();
    let url = RwSignal::new(None::<String>);
    {
        let id = id.clone();
        leptos::task::spawn_local(async move {
            let services = crate::services();
            let token = services.session.borrow().token.clone();
            url.set(photo_url(&services.store, &id, &token).await);
        });
    }
    on_cleanup(move || {
        if let Some(u) = url.get_untracked() {
            let _ = web_sys::Url::revoke_object_url(&u);
        }
    });
    let state = {
        let id = id.clone();
        move || {
            entries.with(|e| match e.iter().find(|p| p.id == id) {
                None => t_string!(i18n, photos.on_server).to_string(),
                Some(p) if p.complete => t_string!(i18n, photos.sent).to_string(),
                Some(p) if p.received == 0 => t_string!(i18n, photos.waiting).to_string(),
                Some(p) => t_string!(
                    i18n,
                    photos.sending,
                    percent = (p.progress() * 100.0).round()
                )
                .to_string(),
            })
        }
    };
    let done = {
        let id = id.clone();
        move || entries.with(|e| e.iter().find(|p| p.id == id).is_none_or(|p| p.complete))
    };
    let remove_id = id.clone();
    view! {
        <li class="thumb" data-photo=id.clone()>
            {move || match url.get() {
                Some(u) => view! { <img src=u alt=move || t_string!(i18n, photos.alt)/> }.into_any(),
                None => view! { <span class="thumb-missing">{t!(i18n, photos.unavailable)}</span> }.into_any(),
            }}
            <span class="thumb-state" class:done=done data-testid="photo-state">{state}</span>
            <Show when=move || editable>
                <button type="button" class="secondary" on:click={
                    let id = remove_id.clone();
                    move |_| on_remove.run(id.clone())
                }>{t!(i18n, photos.remove)}</button>
            </Show>
        </li>
    }
}
