//! What the device holds and whether it is safe: persistent storage granted or not, space used and
//! the quota (with a warning before it fills), and "Xuất dữ liệu chưa đồng bộ". Also the update
//! banner, which never reloads under an open form.

use leptos::prelude::*;

use crate::browser::service_worker::ServiceWorker;
use crate::browser::storage_manager::{StorageManager, WARN_AT};
use crate::i18n::{t, t_string, ui_lang, use_i18n};
use crate::sync::SyncStatus;

/// How many forms are open (the main screen sets it): an update waits while any is.
#[derive(Clone, Copy)]
pub struct OpenForms(pub RwSignal<u32>);

/// 1234567 bytes → "1,2 MB" (Vietnamese decimal comma) or "1.2 MB".
pub fn size_text(bytes: f64, lang: thidua_domain::Lang) -> String {
    let (value, unit) = if bytes >= 1e9 {
        (bytes / 1e9, "GB")
    } else if bytes >= 1e6 {
        (bytes / 1e6, "MB")
    } else {
        (bytes / 1e3, "KB")
    };
    format!("{} {unit}", crate::i18n::decimal(value, 1, lang))
}

#[component]
pub fn UpdateBanner() -> impl IntoView {
    let worker = expect_context::<ServiceWorker>();
    let open_forms = expect_context::<OpenForms>().0;
    let i18n = use_i18n();
    view! {
        <Show when=move || worker.update_ready.get()>
            <div class="update notice" role="status" data-testid="update-ready">
                <span>{t!(i18n, update.ready)}</span>
                {move || (open_forms.get() > 0).then(|| view! {
                    <span>{t!(i18n, update.close_form_first)}</span>
                })}
                <button class="primary" data-testid="update-reload" disabled=move || { open_forms.get() > 0 }
                    on:click=move |_| worker.apply_update()>
                    {t!(i18n, update.reload)}
                </button>
            </div>
        </Show>
    }
}

#[component]
pub fn DevicePanel() -> impl IntoView {
    let i18n = use_i18n();
    let lang = ui_lang();
    let storage = expect_context::<StorageManager>();
    let status = expect_context::<SyncStatus>();
    let user = expect_context::<crate::CurrentUser>().0;
    let exported = RwSignal::new(None::<Result<usize, String>>);
    // usage changes with every save and sync
    Effect::new(move |_| {
        status.revision.track();
        status.pending.track();
        storage.refresh();
    });
    let export = move |_| {
        leptos::task::spawn_local(async move {
            let services = crate::services();
            let Some(user) = user.get_untracked() else {
                return;
            };
            let result = match crate::export::unsynced_export(
                &services.store,
                services.device.id,
                &user,
                lang.get_untracked(),
            )
            .await
            {
                Ok(export) => {
                    let text = serde_json::to_string_pretty(&export).unwrap_or_default();
                    crate::export::download(&crate::export::file_name(&export), &text)
                        .map(|_| export.mutations.len())
                }
                Err(e) => Err(e),
            };
            exported.set(Some(result));
        });
    };
    view! {
        <details class="card device" data-testid="device-panel">
            <summary>{t!(i18n, device_panel.title)}</summary>
            <p data-testid="persistence">
                {move || match storage.persisted.get() {
                    Some(true) => t_string!(i18n, device_panel.persisted),
                    Some(false) => t_string!(i18n, device_panel.not_persisted),
                    None => t_string!(i18n, device_panel.persistence_unknown),
                }}
            </p>
            <p data-testid="storage-usage">
                {move || match (storage.usage.get(), storage.quota.get()) {
                    (Some(used), Some(quota)) => t_string!(i18n, device_panel.storage_used,
                        used = size_text(used, lang.get()), quota = size_text(quota, lang.get())),
                    _ => t_string!(i18n, device_panel.storage_unknown).to_string(),
                }}
            </p>
            {move || storage.fill().filter(|f| *f >= WARN_AT).map(|_| view! {
                <p class="notice warn" role="alert" data-testid="storage-warning">
                    {t!(i18n, device_panel.storage_almost_full)}
                </p>
            })}
            <button class="big" on:click=export data-testid="export-unsynced">
                {t!(i18n, device_panel.export)}
            </button>
            <p class="hint">{t!(i18n, device_panel.export_hint)}</p>
            {move || exported.get().map(|r| match r {
                Ok(n) => view! { <p class="notice" role="status" data-testid="export-result">{move || t_string!(i18n, device_panel.exported, n)}</p> }.into_any(),
                Err(e) => view! { <p class="notice error" role="alert">{move || t_string!(i18n, device_panel.export_failed, reason = &e)}</p> }.into_any(),
            })}
        </details>
    }
}
