//! "Xuất dữ liệu chưa đồng bộ": every change this device has not had acknowledged, written to a file
//! the province administrator can import on the server (`POST /api/admin/unsynced-imports`). The way
//! out for a tablet that will never see signal again; the changes stay on the device as well.

use thidua_domain::org::UnitCode;
use thidua_domain::protocol::{
    DeviceId, UnsyncedExport, PROTOCOL_VERSION, UNSYNCED_EXPORT_FORMAT, UNSYNCED_EXPORT_VERSION,
};
use wasm_bindgen::{JsCast, JsValue};

use crate::session::User;
use crate::storage::Store;

/// Builds the export of the outbox (refused changes included: the administrator sees why). A failure
/// is said in `lang`.
pub async fn unsynced_export(
    store: &Store,
    device: DeviceId,
    user: &User,
    lang: thidua_domain::Lang,
) -> Result<UnsyncedExport, String> {
    let outbox = store.outbox().await.map_err(|e| e.message(lang))?;
    let org_unit = UnitCode::parse(&user.org_unit).map_err(|e| e.to_string())?;
    let mut mutations: Vec<_> = outbox.into_iter().map(|e| e.mutation).collect();
    mutations.sort_by_key(|m| m.id); // the order the device made them
    Ok(UnsyncedExport {
        format: UNSYNCED_EXPORT_FORMAT.into(),
        format_version: UNSYNCED_EXPORT_VERSION,
        protocol: PROTOCOL_VERSION,
        device,
        user_id: user.id.clone(),
        username: user.username.clone(),
        org_unit,
        exported_at_ms: js_sys::Date::now() as u64,
        mutations,
    })
}

/// A file name that says what it is and whose, dated in Vietnam:
/// thidua-chua-dong-bo-xa.tohieu-2026-11-27.json
pub fn file_name(export: &UnsyncedExport) -> String {
    let day = thidua_domain::format::vietnam_time(export.exported_at_ms as i64).date;
    format!(
        "thidua-chua-dong-bo-{}-{:04}-{:02}-{:02}.json",
        export.username, day.year, day.month, day.day
    )
}

/// Hands `text` to the browser as a file download.
pub fn download(name: &str, text: &str) -> Result<(), String> {
    let fail = |e: JsValue| format!("{e:?}");
    let parts = js_sys::Array::of1(&JsValue::from_str(text));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("application/json");
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options).map_err(fail)?;
    download_blob(name, &blob)
}

/// Hands a file's bytes to the browser as a download named `name`.
pub fn download_blob(name: &str, blob: &web_sys::Blob) -> Result<(), String> {
    let fail = |e: JsValue| format!("{e:?}");
    let url = web_sys::Url::create_object_url_with_blob(blob).map_err(fail)?;
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let link: web_sys::HtmlAnchorElement =
        document.create_element("a").map_err(fail)?.unchecked_into();
    link.set_href(&url);
    link.set_download(name);
    link.click();
    // the download has started from the object URL; give it a moment before letting it go
    let revoke = wasm_bindgen::closure::Closure::once_into_js(move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    });
    if let Some(window) = web_sys::window() {
        let _ = window
            .set_timeout_with_callback_and_timeout_and_arguments_0(revoke.unchecked_ref(), 10_000);
    }
    Ok(())
}
