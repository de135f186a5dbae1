//! Always-visible sync status: online or not, changes waiting, last successful sync, a "sync now"
//! button and a progress bar while syncing.

use leptos::prelude::*;

use crate::i18n::{t, t_string, ui_lang, use_i18n};
use crate::sync::SyncStatus;

/// "27/11/2026 14:05" (Vietnamese) or "27 Nov 2026 14:05" for a Unix ms time, in Vietnam's time.
pub fn date_time(ms: f64, lang: thidua_domain::Lang) -> String {
    thidua_domain::format::date_time(ms as i64, lang)
}

#[component]
pub fn SyncBadge(on_relogin: Callback<()>) -> impl IntoView {
    let i18n = use_i18n();
    let lang = ui_lang();
    let status = expect_context::<SyncStatus>();
    let sync_now = move |_| crate::services().trigger.fire();
    view! {
        <section class="sync" aria-live="polite" data-testid="sync-badge">
            <span class=move || if status.online.get() { "dot online" } else { "dot offline" }></span>
            <span data-testid="online">
                {move || if status.online.get() { t_string!(i18n, sync_badge.online) } else { t_string!(i18n, sync_badge.offline) }}
            </span>
            <span class="pending" data-testid="pending">
                {move || match status.pending.get() {
                    0 => t_string!(i18n, sync_badge.all_sent).to_string(),
                    n => t_string!(i18n, sync_badge.pending, n),
                }}
            </span>
            <Show when=move || { status.needs_fix.get() > 0 }>
                <span class="needs-fix" data-testid="needs-fix">
                    {move || t_string!(i18n, sync_badge.needs_fix, n = status.needs_fix.get())}
                </span>
            </Show>
            <span class="last-sync" data-testid="last-sync">
                {move || match status.last_sync.get() {
                    Some(ms) => t_string!(i18n, sync_badge.synced_at, time = date_time(ms, lang.get())),
                    None => t_string!(i18n, sync_badge.never_synced).to_string(),
                }}
            </span>
            <button class="primary" on:click=sync_now disabled=move || status.syncing.get() data-testid="sync-now">
                {t!(i18n, sync_badge.sync_now)}
            </button>
            <Show when=move || status.needs_login.get()>
                <button class="warn" on:click=move |_| on_relogin.run(()) data-testid="relogin">
                    {t!(i18n, sync_badge.sign_in_again)}
                </button>
            </Show>
            <Show when=move || status.syncing.get()>
                <progress max="1" prop:value=move || status.progress.get()></progress>
            </Show>
            {move || status.error.get().map(|e| view! { <p class="sync-error" role="status">{e.message(lang.get())}</p> })}
        </section>
    }
}
