//! The one error type of the API, and the JSON extractors ([`ApiJson`], [`JsonBody`]) that turn bad
//! requests into it.
//!
//! Every failure a device or a person can meet is answered as
//! `{"error":{"code":"…","message":"<Vietnamese: what happened and what to do>","message_en":"…","fields":[…]}}`
//! with a 4xx/5xx status, so the app can show the message as is and programs can branch on `code`.
//! A few answers add what the client needs to continue: members of the error object
//! ([`ApiError::with_detail`], the `received` of an evidence upload's `offset_mismatch`) and members
//! beside it ([`ApiError::with_beside`], the upload's whole state, as its successful answers carry it).

use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};
use thidua_domain::FieldError;

use crate::encoding::{BodyError, BodyLimit};

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message_vi: String,
    pub message_en: String,
    pub fields: Vec<FieldError>,
    /// What a few answers add; boxed, since most carry none and every handler returns this type.
    pub extra: Option<Box<Extra>>,
}

/// Headers and members a few answers add to the usual error.
#[derive(Debug, Default)]
pub struct Extra {
    /// Sent with the answer: `WWW-Authenticate` on a 401, `Retry-After` on a 429.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// More members of the `error` object.
    pub details: Map<String, Value>,
    /// Members of the body beside `error`.
    pub beside: Map<String, Value>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: BodyInner<'a>,
    #[serde(flatten)]
    beside: &'a Map<String, Value>,
}

#[derive(Serialize)]
struct BodyInner<'a> {
    code: &'a str,
    message: &'a str,
    message_en: &'a str,
    #[serde(skip_serializing_if = "<[FieldError]>::is_empty")]
    fields: &'a [FieldError],
    #[serde(flatten)]
    details: &'a Map<String, Value>,
}

impl ApiError {
    pub fn new(
        status: StatusCode,
        code: &'static str,
        message_vi: impl Into<String>,
        message_en: impl Into<String>,
    ) -> ApiError {
        ApiError {
            status,
            code,
            message_vi: message_vi.into(),
            message_en: message_en.into(),
            fields: Vec::new(),
            extra: None,
        }
    }

    /// Adds `name` to the error object (never `code`, `message`, `message_en` or `fields`).
    pub fn with_detail(mut self, name: &str, value: impl Into<Value>) -> ApiError {
        let extra = self.extra.get_or_insert_with(Box::default);
        extra.details.insert(name.to_string(), value.into());
        self
    }

    /// Adds the members of `value` (an object) to the body beside `error`.
    pub fn with_beside(mut self, value: Value) -> ApiError {
        if let Value::Object(members) = value {
            let extra = self.extra.get_or_insert_with(Box::default);
            extra
                .beside
                .extend(members.into_iter().filter(|(k, _)| k != "error"));
        }
        self
    }

    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> ApiError {
        let extra = self.extra.get_or_insert_with(Box::default);
        extra.headers.push((name, value));
        self
    }

    /// No session, or one that ended: the device must log in again. Its data is never at risk, so the
    /// message says so (an officer offline for a week meets this on reconnecting).
    pub fn unauthorized() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Phiên đăng nhập đã hết hạn hoặc không hợp lệ. Hãy đăng nhập lại; dữ liệu trên máy vẫn còn.",
            "Your session has expired or is not valid. Log in again; the data on this device is kept.",
        )
        .with_header(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))
    }

    /// The same answer for an unknown username and a wrong password, so the answer does not tell
    /// which usernames exist.
    pub fn invalid_credentials() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "Tên đăng nhập hoặc mật khẩu không đúng. Hãy kiểm tra lại (chú ý phím Caps Lock và bộ gõ \
             tiếng Việt); nếu quên mật khẩu, hãy nhờ người quản trị của tỉnh đặt lại.",
            "Wrong username or password. Check them (mind Caps Lock and the Vietnamese keyboard); if you \
             forgot your password, ask the province administrator to reset it.",
        )
        .with_header(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))
    }

    pub fn too_many_attempts(retry_after_secs: u64) -> ApiError {
        let minutes = retry_after_secs.div_ceil(60).max(1);
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
            format!(
                "Đăng nhập sai quá nhiều lần. Hãy đợi khoảng {minutes} phút rồi thử lại, \
                 hoặc nhờ người quản trị kiểm tra tài khoản."
            ),
            format!(
                "Too many failed logins. Wait about {minutes} minute(s) and try again, or ask the \
                 administrator to check the account."
            ),
        )
        .with_header(
            header::RETRY_AFTER,
            HeaderValue::from(retry_after_secs.max(1)),
        )
    }

    /// Logged in, but this role may not do this at all.
    pub fn forbidden() -> ApiError {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Tài khoản của bạn không có quyền làm việc này. Nếu cần, hãy nhờ người quản trị của tỉnh.",
            "Your account is not allowed to do this. Ask the province administrator if you need it.",
        )
    }

    pub fn with_fields(mut self, fields: Vec<FieldError>) -> ApiError {
        self.fields = fields;
        self
    }

    pub fn not_found() -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "Không có địa chỉ API này. Hãy cập nhật ứng dụng lên bản mới nhất rồi thử lại.",
            "There is no such API address. Update the app to its latest version and try again.",
        )
    }

    pub fn method_not_allowed() -> ApiError {
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "Địa chỉ API này không nhận kiểu yêu cầu đó. Hãy cập nhật ứng dụng lên bản mới nhất.",
            "This API address does not accept that kind of request. Update the app to its latest version.",
        )
    }

    /// A device speaks a sync protocol version the server does not read ([`crate::sync`] accepts
    /// `OLDEST_SUPPORTED_PROTOCOL..=PROTOCOL_VERSION`). Which side is behind decides what the person
    /// can do: an app newer than the server waits for the administrator to update the server; an app
    /// older than the oldest version still read must be updated, by reloading it while online. Either
    /// way nothing is lost: the device keeps what it has not sent.
    pub fn protocol_version(got: u16) -> ApiError {
        use thidua_domain::protocol::{OLDEST_SUPPORTED_PROTOCOL, PROTOCOL_VERSION};
        if got > PROTOCOL_VERSION {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "server_outdated",
                format!(
                    "Máy chủ cũ hơn ứng dụng: ứng dụng dùng giao thức đồng bộ phiên bản {got}, máy chủ \
                     chỉ hiểu đến phiên bản {PROTOCOL_VERSION}. Hãy báo người quản trị cập nhật máy \
                     chủ; dữ liệu chưa gửi vẫn được giữ trên máy và sẽ gửi được khi máy chủ đã cập nhật."
                ),
                format!(
                    "The server is older than the app: the app speaks sync protocol version {got}, the \
                     server only up to version {PROTOCOL_VERSION}. Ask the administrator to update the \
                     server; unsent data stays on the device and is sent once the server is updated."
                ),
            )
        } else {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "app_outdated",
                format!(
                    "Ứng dụng trên máy này đã quá cũ: nó dùng giao thức đồng bộ phiên bản {got}, máy \
                     chủ chỉ còn nhận từ phiên bản {OLDEST_SUPPORTED_PROTOCOL} đến {PROTOCOL_VERSION}. \
                     Hãy tải lại ứng dụng khi có mạng để cập nhật; dữ liệu chưa gửi vẫn được giữ trên máy."
                ),
                format!(
                    "The app on this device is too old: it speaks sync protocol version {got}, the \
                     server accepts only versions {OLDEST_SUPPORTED_PROTOCOL} to {PROTOCOL_VERSION}. \
                     Reload the app while online to update it; unsent data stays on the device."
                ),
            )
        }
    }

    /// A database failure: the detail goes to the log (it may name tables or values), not to the device.
    pub fn database(err: sqlx::Error) -> ApiError {
        tracing::error!(error = %err, "database error");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "database_unavailable",
            "Máy chủ tạm thời không ghi hoặc đọc được dữ liệu. Dữ liệu của bạn vẫn nằm trên máy; \
             hãy thử đồng bộ lại sau ít phút, nếu vẫn lỗi hãy báo cho người quản trị.",
            "The server cannot read or write its data right now. Your data is still on the device; \
             try syncing again in a few minutes, and tell the administrator if it keeps failing.",
        )
    }

    /// Data the server itself stored can no longer be read: a bug or a hand edit, never the device's fault.
    pub fn corrupt(what: &str, err: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %err, what, "stored data cannot be read");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Máy chủ gặp lỗi khi đọc dữ liệu đã lưu. Hãy báo cho người quản trị; dữ liệu trên máy của bạn vẫn được giữ.",
            "The server failed to read data it stored. Tell the administrator; the data on your device is kept.",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let extra = self.extra.map(|e| *e).unwrap_or_default();
        let body = Body {
            error: BodyInner {
                code: self.code,
                message: &self.message_vi,
                message_en: &self.message_en,
                fields: &self.fields,
                details: &extra.details,
            },
            beside: &extra.beside,
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        for (name, value) in extra.headers {
            response.headers_mut().insert(name, value);
        }
        response
    }
}

impl ApiError {
    /// A JSON body the extractor refused, read on a route whose body limit is `limit` bytes.
    pub fn json_rejection(rejection: JsonRejection, limit: usize) -> ApiError {
        if let Some(error) = ApiError::body_failure(&rejection, limit) {
            return error;
        }
        // body_text() carries serde's own words (line, column, the unknown field's name): the person
        // fixing the client needs exactly that, and it never contains more than the body's own text.
        let text = rejection.body_text();
        // axum prefixes serde's message with its own English sentence ("Failed to parse the request
        // body as JSON: …"); the Vietnamese message has its own opening, so keep serde's part only
        let detail = text
            .split_once(": ")
            .map_or(text.as_str(), |(_, serde)| serde);
        match rejection {
            JsonRejection::MissingJsonContentType(_) => ApiError::not_json(),
            JsonRejection::JsonSyntaxError(_) => ApiError::new(
                StatusCode::BAD_REQUEST,
                "malformed_json",
                format!("Dữ liệu gửi lên không phải JSON hợp lệ (có thể bị cắt giữa chừng): {detail}. Hãy gửi lại."),
                format!("The request body is not valid JSON (it may be cut short): {detail}. Send it again."),
            ),
            JsonRejection::JsonDataError(_) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_request",
                format!("Dữ liệu gửi lên không đúng mẫu yêu cầu ({detail}). Hãy sửa ô được nêu, hoặc cập nhật ứng dụng, rồi gửi lại."),
                format!("The request does not have the expected shape ({detail}). Fix the field named, or update the app, and send again."),
            ),
            other => ApiError::new(
                other.status(),
                "bad_body",
                format!("Không đọc được dữ liệu gửi lên: {detail}. Hãy gửi lại."),
                format!("The request body could not be read: {detail}. Send it again."),
            ),
        }
    }

    /// A body read that failed for a reason the device can act on: over the route's `limit` (as sent,
    /// or once inflated), or marked gzip without being gzip. `None` for anything else (a dropped
    /// connection), which each caller words itself.
    pub fn body_failure(
        rejection: &(dyn std::error::Error + 'static),
        limit: usize,
    ) -> Option<ApiError> {
        // axum recognises its own limit (a plain body, or a gzip body once inflated) and says 413;
        // the errors of the gzip layers lie deeper than it looks, so they are searched for
        let too_large = rejection
            .downcast_ref::<JsonRejection>()
            .is_some_and(|r| r.status() == StatusCode::PAYLOAD_TOO_LARGE)
            || rejection
                .downcast_ref::<axum::extract::rejection::BytesRejection>()
                .is_some_and(|r| r.status() == StatusCode::PAYLOAD_TOO_LARGE);
        if too_large {
            return Some(ApiError::body_too_large(limit));
        }
        match crate::encoding::find_body_error(rejection)? {
            BodyError::TooLarge => Some(ApiError::body_too_large(limit)),
            BodyError::NotGzip => Some(ApiError::not_gzip()),
        }
    }

    /// A body that should be JSON came without `Content-Type: application/json`.
    pub fn not_json() -> ApiError {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "content_type",
            "Yêu cầu phải gửi dữ liệu JSON với tiêu đề «Content-Type: application/json».",
            "Send the request as JSON with the header «Content-Type: application/json».",
        )
    }

    /// `Content-Encoding: gzip` on bytes that are not gzip (or stop in the middle of it).
    pub fn not_gzip() -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_encoding",
            "Dữ liệu nén gửi lên bị hỏng hoặc bị cắt giữa chừng (tiêu đề ghi «Content-Encoding: gzip» \
             nhưng nội dung không phải gzip hợp lệ). Hãy gửi lại; nếu vẫn lỗi, hãy cập nhật ứng dụng.",
            "The request body is marked «Content-Encoding: gzip» but is not valid gzip (it may be \
             damaged or cut short). Send it again; if it keeps failing, update the app.",
        )
    }

    /// A request body compressed in a way the server does not read: only gzip is.
    pub fn unsupported_encoding(named: &str) -> ApiError {
        // the header's own text, shortened: it is the sender's, and only there to be recognised
        let named: String = named.chars().take(40).collect();
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "content_encoding",
            format!(
                "Máy chủ không đọc được dữ liệu nén kiểu «{named}». Hãy gửi dữ liệu không nén hoặc nén \
                 gzip («Content-Encoding: gzip»), hoặc cập nhật ứng dụng lên bản mới nhất."
            ),
            format!(
                "The server cannot read a request body encoded as «{named}». Send it uncompressed or \
                 gzip-compressed («Content-Encoding: gzip»), or update the app to its latest version."
            ),
        )
        // what RFC 9110 asks of a 415 caused by a content coding: the codings that would be read
        .with_header(header::ACCEPT_ENCODING, HeaderValue::from_static("gzip"))
    }

    /// A body over `limit` bytes: 1 MiB on most routes, more where a route reads larger files, less
    /// on the evidence upload's (a chunk).
    pub fn body_too_large(limit: usize) -> ApiError {
        let size = if limit >= 1024 * 1024 {
            format!("{} MiB", limit / (1024 * 1024))
        } else {
            format!("{} KiB", limit / 1024)
        };
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!(
                "Dữ liệu gửi một lần quá lớn (tối đa {size}). Hãy gửi thành nhiều đợt nhỏ hơn."
            ),
            format!("The request is too large (at most {size}). Send it in smaller batches."),
        )
    }
}

/// `axum::Json`, but a rejected body is answered with [`ApiError`] instead of axum's plain text.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let limit = BodyLimit::of(&req);
        let axum::Json(value) = axum::Json::<T>::from_request(req, state)
            .await
            .map_err(|rejection| ApiError::json_rejection(rejection, limit))?;
        Ok(ApiJson(value))
    }
}

/// A JSON body read as [`ApiJson`] reads one (content type, size limit, gzip), but not parsed yet: for
/// a handler that looks at part of it before reading it whole, as the import of an unsynced export
/// reads what kind of file it is before its contents.
pub struct JsonBody {
    bytes: Bytes,
    limit: usize,
}

impl JsonBody {
    pub async fn read(request: Request) -> Result<JsonBody, ApiError> {
        // axum's rule for a JSON content type: application/json, or an application/…+json type
        let media_type = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            });
        let is_json = media_type.is_some_and(|t| {
            t == "application/json" || (t.starts_with("application/") && t.ends_with("+json"))
        });
        if !is_json {
            return Err(ApiError::not_json());
        }
        let limit = BodyLimit::of(&request);
        let bytes = Bytes::from_request(request, &()).await.map_err(|rejection| {
            ApiError::body_failure(&rejection, limit).unwrap_or_else(|| {
                ApiError::new(
                    rejection.status(),
                    "bad_body",
                    "Không đọc được dữ liệu gửi lên (có thể kết nối bị ngắt giữa chừng). Hãy gửi lại.",
                    "The request body could not be read (the connection may have dropped). Send it again.",
                )
            })
        })?;
        Ok(JsonBody { bytes, limit })
    }

    /// The body as `T`, refused exactly as [`ApiJson`] refuses it.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        axum::Json::<T>::from_bytes(&self.bytes)
            .map(|axum::Json(value)| value)
            .map_err(|rejection| ApiError::json_rejection(rejection, self.limit))
    }
}
