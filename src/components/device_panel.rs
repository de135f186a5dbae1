//! What the device holds and whether it is safe: persistent storage granted or not, space used and
//! the quota (with a warning before it fills), and "Xuất dữ liệu chưa đồng bộ". Also the update
//! banner, which never reloads under an open form.

use leptos::prelude::*;

use crate::browser::service_worker::ServiceWorker;
use crate::browser::storage_manager::{StorageManager, WARN_AT};
use crate::i18n::{t, tr, UiLang};
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
    view! {
        <Show when=move || worker.update_ready.get()>
            <div class="update notice" role="status" data-testid="update-ready">
                <span>{t("Có phiên bản mới.", "A new version is ready.")}</span>
                {move || (open_forms.get() > 0).then(|| view! {
                    <span>{t(" Hãy lưu hoặc hủy biểu mẫu đang mở rồi tải lại.", " Save or cancel the open form, then reload.")}</span>
                })}
                <button class="primary" data-testid="update-reload" disabled=move || { open_forms.get() > 0 }
                    on:click=move |_| worker.apply_update()>
                    {t("Tải lại", "Reload")}
                </button>
            </div>
        </Show>
    }
}

#[component]
pub fn DevicePanel() -> impl IntoView {
    let lang = expect_context::<UiLang>().0;
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
            let result =
                match crate::export::unsynced_export(&services.store, services.device.id, &user)
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
            <summary>{t("Dữ liệu trên máy này", "Data on this device")}</summary>
            <p data-testid="persistence">
                {move || match storage.persisted.get() {
                    Some(true) => tr(lang.get(), "Trình duyệt đã cam kết giữ dữ liệu của ứng dụng (lưu trữ bền vững).",
                        "The browser keeps the app's data (persistent storage granted)."),
                    Some(false) => tr(lang.get(), "Trình duyệt CHƯA cam kết giữ dữ liệu: khi máy thiếu chỗ, dữ liệu chưa gửi có thể bị xóa. Hãy cài ứng dụng ra màn hình chính và đồng bộ thường xuyên.",
                        "The browser has NOT promised to keep the data: when space runs short, unsent data may be cleared. Install the app to the home screen and sync often."),
                    None => tr(lang.get(), "Không rõ trình duyệt có giữ dữ liệu lâu dài hay không.", "Unknown whether the browser keeps the data."),
                }}
            </p>
            <p data-testid="storage-usage">
                {move || match (storage.usage.get(), storage.quota.get()) {
                    (Some(used), Some(quota)) => format!("{} {} / {}", tr(lang.get(), "Bộ nhớ đã dùng:", "Storage used:"),
                        super::device_panel::size_text(used, lang.get()), super::device_panel::size_text(quota, lang.get())),
                    _ => tr(lang.get(), "Không đọc được dung lượng bộ nhớ.", "Storage use is not available.").to_string(),
                }}
            </p>
            {move || storage.fill().filter(|f| *f >= WARN_AT).map(|_| view! {
                <p class="notice warn" role="alert" data-testid="storage-warning">
                    {t("Bộ nhớ dành cho ứng dụng sắp đầy. Hãy đồng bộ ngay; nếu không thể, hãy «Xuất dữ liệu chưa đồng bộ» và gửi tệp cho quản trị tỉnh.",
                       "The app's storage is almost full. Sync now; if you cannot, export the unsynced data and send the file to the province administrator.")}
                </p>
            })}
            <button class="big" on:click=export data-testid="export-unsynced">
                {t("Xuất dữ liệu chưa đồng bộ", "Export unsynced data")}
            </button>
            <p class="hint">{t("Tạo một tệp chứa mọi thay đổi chưa gửi được. Dữ liệu vẫn giữ trên máy. Quản trị tỉnh nhập tệp này vào máy chủ khi máy tính bảng không thể kết nối.",
                "Writes a file with every change not yet sent. The data stays on the device. The province administrator imports it on the server when the tablet cannot connect.")}</p>
            {move || exported.get().map(|r| match r {
                Ok(n) => view! { <p class="notice" role="status" data-testid="export-result">{format!("{} {n} {}", tr(lang.get(), "Đã xuất", "Exported"), tr(lang.get(), "thay đổi chưa đồng bộ.", "unsynced changes."))}</p> }.into_any(),
                Err(e) => view! { <p class="notice error" role="alert">{format!("{} {e}", tr(lang.get(), "Không xuất được:", "Export failed:"))}</p> }.into_any(),
            })}
        </details>
    }
}
