//! Talking to the server: JSON over `fetch`, with a timeout, because on 2G a request can hang for minutes.

use serde::de::DeserializeOwned;
use serde::Serialize;
use thidua_domain::Lang;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::i18n::{td_string, Locale};

/// Why a request did not give an answer.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// No answer at all: no network, server down, or the timeout passed. The real signal of being offline.
    Unreachable,
    /// The server answered with an error (4xx/5xx): its code and Vietnamese message.
    Server {
        status: u16,
        code: String,
        message: String,
    },
    /// An answer we could not read (a proxy's page, a different version).
    Unreadable(String),
}

impl ApiError {
    /// The server no longer accepts the session's token (expired, revoked): sign in again.
    pub fn is_unauthorized(&self) -> bool {
        matches!(self, ApiError::Server { status: 401, .. })
    }

    /// What to tell the officer, in their language. A server error is said in the server's own
    /// words (it writes Vietnamese).
    pub fn message(&self, lang: Lang) -> String {
        let locale = Locale::from(lang);
        match self {
            ApiError::Unreachable => td_string!(locale, error.server_unreachable).into(),
            ApiError::Server { message, .. } => message.clone(),
            ApiError::Unreadable(_) => td_string!(locale, error.server_unreadable).into(),
        }
    }
}

thread_local! {
    /// This device's id, sent with every request (`X-Thidua-Device`) so the server can tell the
    /// district when each tablet last synced, pulls included.
    static DEVICE: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Names this device in every later request.
pub fn identify_device(id: &str) {
    DEVICE.with(|d| *d.borrow_mut() = Some(id.to_string()));
}

/// Server error bodies look like {"error": {"code", "message", …}}.
#[derive(serde::Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(serde::Deserialize)]
struct ErrorDetail {
    code: String,
    message: String,
}

/// POSTs `body` as JSON to `path` (with the session's token) and reads the JSON answer, giving up
/// after `timeout_ms`.
pub async fn post_json<B: Serialize, R: DeserializeOwned>(
    path: &str,
    body: &B,
    token: Option<&str>,
    timeout_ms: i32,
) -> Result<R, ApiError> {
    let text = serde_json::to_string(body).map_err(|e| ApiError::Unreadable(e.to_string()))?;
    let body = send("POST", path, Some(&text), token, timeout_ms).await?;
    serde_json::from_str(&body).map_err(|e| ApiError::Unreadable(e.to_string()))
}

/// Like [`post_json`], but a larger body goes gzip-compressed (`Content-Encoding: gzip`) where the
/// browser has `CompressionStream`: on 2G the upload is the slow half of a sync, and household JSON
/// shrinks about tenfold.
pub async fn post_json_compressed<B: Serialize, R: DeserializeOwned>(
    path: &str,
    body: &B,
    token: Option<&str>,
    timeout_ms: i32,
) -> Result<R, ApiError> {
    let text = serde_json::to_string(body).map_err(|e| ApiError::Unreadable(e.to_string()))?;
    let payload = match gzip(&text).await {
        Some(bytes) if text.len() >= COMPRESS_ABOVE => Payload::Gzip(bytes),
        _ => Payload::Text(&text),
    };
    let body = send_payload("POST", path, Some(payload), token, timeout_ms).await?;
    serde_json::from_str(&body).map_err(|e| ApiError::Unreadable(e.to_string()))
}

/// Below this many bytes compressing saves less than it costs.
const COMPRESS_ABOVE: usize = 1024;

#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    /// The browser's `CompressionStream` (web-sys has it only behind an unstable flag).
    #[wasm_bindgen(js_name = CompressionStream)]
    type GzipStream;
    #[wasm_bindgen(constructor, js_class = "CompressionStream", catch)]
    fn new(format: &str) -> Result<GzipStream, JsValue>;
}

/// `text` gzip-compressed by the browser, or None where it cannot (an old browser: send it plain).
pub async fn gzip(text: &str) -> Option<js_sys::Uint8Array> {
    let has = js_sys::Reflect::has(&js_sys::global(), &JsValue::from_str("CompressionStream"))
        .unwrap_or(false);
    if !has {
        return None;
    }
    let compressor = GzipStream::new("gzip").ok()?;
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(text.as_bytes()));
    let blob = web_sys::Blob::new_with_u8_array_sequence(&parts).ok()?;
    let compressed = blob
        .stream()
        .pipe_through(compressor.unchecked_ref::<web_sys::ReadableWritablePair>());
    let response = web_sys::Response::new_with_opt_readable_stream(Some(&compressed)).ok()?;
    let buffer = JsFuture::from(response.array_buffer().ok()?).await.ok()?;
    Some(js_sys::Uint8Array::new(&buffer))
}

enum Payload<'a> {
    Text(&'a str),
    Gzip(js_sys::Uint8Array),
    /// Raw bytes (a slice of a stored photo), sent as they are.
    Bytes(&'a web_sys::Blob),
}

/// PATCHes raw bytes to `path` and reads the JSON answer: one chunk of a photo upload.
pub async fn patch_bytes<R: DeserializeOwned>(
    path: &str,
    bytes: &web_sys::Blob,
    token: &str,
    timeout_ms: i32,
) -> Result<R, ApiError> {
    let body = send_payload(
        "PATCH",
        path,
        Some(Payload::Bytes(bytes)),
        Some(token),
        timeout_ms,
    )
    .await?;
    serde_json::from_str(&body).map_err(|e| ApiError::Unreadable(e.to_string()))
}

/// GETs `path` (with the session's token) and reads the JSON answer.
pub async fn get_json<R: DeserializeOwned>(
    path: &str,
    token: &str,
    timeout_ms: i32,
) -> Result<R, ApiError> {
    let body = send("GET", path, None, Some(token), timeout_ms).await?;
    serde_json::from_str(&body).map_err(|e| ApiError::Unreadable(e.to_string()))
}

/// POSTs with no body (logout).
pub async fn post_empty(path: &str, token: &str, timeout_ms: i32) -> Result<(), ApiError> {
    send("POST", path, None, Some(token), timeout_ms)
        .await
        .map(|_| ())
}

async fn send(
    method: &str,
    path: &str,
    text: Option<&str>,
    token: Option<&str>,
    timeout_ms: i32,
) -> Result<String, ApiError> {
    send_payload(method, path, text.map(Payload::Text), token, timeout_ms).await
}

async fn send_payload(
    method: &str,
    path: &str,
    payload: Option<Payload<'_>>,
    token: Option<&str>,
    timeout_ms: i32,
) -> Result<String, ApiError> {
    let response = fetch(method, path, payload, token, timeout_ms).await?;
    let body = JsFuture::from(response.text().map_err(|_| ApiError::Unreachable)?)
        .await
        .map_err(|_| ApiError::Unreachable)?;
    Ok(body.as_string().unwrap_or_default())
}

/// POSTs `body` as JSON and takes the answer as a file (an exported table).
pub async fn post_json_for_blob<B: Serialize>(
    path: &str,
    body: &B,
    token: &str,
    timeout_ms: i32,
) -> Result<web_sys::Blob, ApiError> {
    let text = serde_json::to_string(body).map_err(|e| ApiError::Unreadable(e.to_string()))?;
    let response = fetch(
        "POST",
        path,
        Some(Payload::Text(&text)),
        Some(token),
        timeout_ms,
    )
    .await?;
    let blob = JsFuture::from(response.blob().map_err(|_| ApiError::Unreachable)?)
        .await
        .map_err(|_| ApiError::Unreachable)?;
    blob.dyn_into()
        .map_err(|_| ApiError::Unreadable("not a blob".into()))
}

/// GETs `path` as bytes (a photo).
pub async fn get_blob(path: &str, token: &str, timeout_ms: i32) -> Result<web_sys::Blob, ApiError> {
    let response = fetch("GET", path, None, Some(token), timeout_ms).await?;
    let blob = JsFuture::from(response.blob().map_err(|_| ApiError::Unreachable)?)
        .await
        .map_err(|_| ApiError::Unreachable)?;
    blob.dyn_into()
        .map_err(|_| ApiError::Unreadable("not a blob".into()))
}

/// Sends a request; a successful response is returned unread, an error one is read into an
/// [`ApiError`].
async fn fetch(
    method: &str,
    path: &str,
    payload: Option<Payload<'_>>,
    token: Option<&str>,
    timeout_ms: i32,
) -> Result<web_sys::Response, ApiError> {
    let window = web_sys::window().ok_or(ApiError::Unreachable)?;
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    let headers = web_sys::Headers::new().map_err(|_| ApiError::Unreachable)?;
    match payload {
        Some(Payload::Text(text)) => {
            init.set_body(&JsValue::from_str(text));
            let _ = headers.set("content-type", "application/json");
        }
        Some(Payload::Gzip(bytes)) => {
            init.set_body(&bytes);
            let _ = headers.set("content-type", "application/json");
            let _ = headers.set("content-encoding", "gzip");
        }
        Some(Payload::Bytes(blob)) => {
            init.set_body(blob);
            let _ = headers.set("content-type", "application/octet-stream");
        }
        None => {}
    }
    if let Some(token) = token {
        let _ = headers.set("authorization", &format!("Bearer {token}"));
    }
    DEVICE.with(|d| {
        if let Some(device) = d.borrow().as_deref() {
            let _ = headers.set("x-thidua-device", device);
        }
    });
    init.set_headers(&headers);
    let abort = web_sys::AbortController::new().ok();
    if let Some(abort) = &abort {
        init.set_signal(Some(&abort.signal()));
        let abort = abort.clone();
        let timer = wasm_bindgen::closure::Closure::once_into_js(move || abort.abort());
        let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(
            timer.unchecked_ref(),
            timeout_ms,
        );
    }
    let response = JsFuture::from(window.fetch_with_str_and_init(path, &init))
        .await
        .map_err(|_| ApiError::Unreachable)?;
    let response: web_sys::Response = response.dyn_into().map_err(|_| ApiError::Unreachable)?;
    if response.ok() {
        Ok(response)
    } else {
        let body = JsFuture::from(response.text().map_err(|_| ApiError::Unreachable)?)
            .await
            .map_err(|_| ApiError::Unreachable)?
            .as_string()
            .unwrap_or_default();
        match serde_json::from_str::<ErrorBody>(&body) {
            Ok(err) => Err(ApiError::Server {
                status: response.status(),
                code: err.error.code,
                message: err.error.message,
            }),
            // a gateway's page while the server restarts: treat as unreachable, retry later
            Err(_) if response.status() >= 500 => Err(ApiError::Unreachable),
            Err(e) => Err(ApiError::Unreadable(e.to_string())),
        }
    }
}
