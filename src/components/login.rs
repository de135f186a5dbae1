//! Signing in: the first time on a device (needs the network), or again when the server no longer
//! accepts the session. Signing in as the same user keeps everything and resumes sync; signing in as
//! another user opens that user's own data, never the previous user's.

use leptos::prelude::*;

use crate::api::ApiError;
use crate::i18n::t;
use crate::session;
use crate::sync::SyncStatus;

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
    let error = RwSignal::new(None::<String>);
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
                Err(e) => {
                    let message = match &e {
                        ApiError::Server { code, .. } if code == "invalid_credentials" => {
                            "Sai tên đăng nhập hoặc mật khẩu. Hãy kiểm tra và thử lại.".to_string()
                        }
                        ApiError::Unreachable => "Không kết nối được máy chủ. Cần có mạng để đăng nhập; dữ liệu đã lưu trên máy không mất.".to_string(),
                        other => other.message_vi(),
                    };
                    error.set(Some(message));
                }
            }
            busy.set(false);
        });
    };

    view! {
        <section class="card login" data-testid="login">
            <h2>{if relogin { t("Đăng nhập lại để đồng bộ", "Sign in again to sync") } else { t("Đăng nhập", "Sign in") }}</h2>
            {relogin.then(|| view! {
                <p class="notice">{t("Phiên đăng nhập đã hết hạn. Các thay đổi vẫn nằm trên máy và sẽ được gửi sau khi đăng nhập.",
                    "Your session has expired. Your changes are kept on this device and will be sent after you sign in.")}</p>
            })}
            <form on:submit=submit>
                <label class="field">
                    <span>{t("Tên đăng nhập", "Username")}</span>
                    <input type="text" name="username" autocomplete="username" autocapitalize="none"
                        prop:value=move || username.get() on:input=move |ev| username.set(event_target_value(&ev))/>
                </label>
                <label class="field">
                    <span>{t("Mật khẩu", "Password")}</span>
                    <input type="password" name="password" autocomplete="current-password"
                        prop:value=move || password.get() on:input=move |ev| password.set(event_target_value(&ev))/>
                </label>
                {move || error.get().map(|e| view! { <p class="notice error" role="alert" data-testid="login-error">{e}</p> })}
                <div class="actions">
                    <button class="primary big" type="submit" disabled=move || busy.get() data-testid="sign-in">{t("Đăng nhập", "Sign in")}</button>
                    {relogin.then(|| view! { <button class="big" type="button" on:click=move |_| on_done.run(())>{t("Để sau", "Later")}</button> })}
                </div>
            </form>
        </section>
    }
}
