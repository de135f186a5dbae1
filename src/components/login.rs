//! Signing in: the first time on a device (needs the network), or again when the server no longer
//! accepts the session. Signing in as the same user keeps everything and resumes sync; signing in as
//! another user opens that user's own data, never the previous user's.

use leptos::prelude::*;

use crate::api::ApiError;
use crate::i18n::{t, t_string, ui_lang, use_i18n, Locale};
use crate::session;
use crate::sync::SyncStatus;

/// Why the sign-in failed, and what to do.
fn failure_text(error: &ApiError, lang: thidua_domain::Lang) -> String {
    let locale = Locale::from(lang);
    match error {
        ApiError::Server { code, .. } if code == "invalid_credentials" => {
            crate::i18n::td_string!(locale, login.wrong_credentials).into()
        }
        ApiError::Unreachable => crate::i18n::td_string!(locale, login.needs_network).into(),
        other => other.message(lang),
    }
}

#[component]
pub fn Login(relogin: bool, on_done: Callback<()>) -> impl IntoView {
    let current = session::load();
    let username = RwSignal::new(
        current
            .as_ref()
            .map(|s| s.user.username.clone())
            .unwrap_or_default(),
    );
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiError>);
    let i18n = use_i18n();
    let lang = ui_lang();
    let busy = RwSignal::new(false);
    let status = use_context::<SyncStatus>();

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        error.set(None);
        let current = current.clone();
        leptos::task::spawn_local(async move {
            match session::login(&username.get_untracked(), &password.get_untracked()).await {
                Ok(new) => {
                    let same_user = current.as_ref().is_some_and(|c| c.user.id == new.user.id);
                    session::save(&new);
                    if relogin && same_user {
                        // same person: keep the open data, give sync the new token and go on
                        let services = crate::services();
                        *services.session.borrow_mut() = new;
                        if let Some(status) = status {
                            status.needs_login.set(false);
                            status.error.set(None);
                        }
                        services.trigger.fire();
                        on_done.run(());
                    } else {
                        // another person (or the first sign-in): start afresh on their own data
                        crate::reload();
                    }
                }
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };

    view! {
        <section class="card login" data-testid="login">
            <h2>{move || if relogin { t_string!(i18n, login.title_again) } else { t_string!(i18n, login.title) }}</h2>
            {relogin.then(|| view! {
                <p class="notice">{t!(i18n, login.session_expired)}</p>
            })}
            <form on:submit=submit>
                <label class="field">
                    <span>{t!(i18n, login.username)}</span>
                    <input type="text" name="username" autocomplete="username" autocapitalize="none"
                        prop:value=move || username.get() on:input=move |ev| username.set(event_target_value(&ev))/>
                </label>
                <label class="field">
                    <span>{t!(i18n, login.password)}</span>
                    <input type="password" name="password" autocomplete="current-password"
                        prop:value=move || password.get() on:input=move |ev| password.set(event_target_value(&ev))/>
                </label>
                {move || error.get().map(|e| view! { <p class="notice error" role="alert" data-testid="login-error">{failure_text(&e, lang.get())}</p> })}
                <div class="actions">
                    <button class="primary big" type="submit" disabled=move || busy.get() data-testid="sign-in">{t!(i18n, login.submit)}</button>
                    {relogin.then(|| view! { <button class="big" type="button" on:click=move |_| on_done.run(())>{t!(i18n, login.later)}</button> })}
                </div>
            </form>
        </section>
    }
}
