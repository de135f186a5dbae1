//! Evidence photos, uploaded apart from record sync, in chunks, resumable
//! ([`thidua_domain::evidence`] has the rules both sides share):
//!
//! - `POST /api/evidence` `{"id","unit","record","size","content_type","sha256"}` → `201` and the
//!   upload's state `{"id","size","received","complete"}`; the same id again with the same size,
//!   checksum and unit → `200` and its current state (a device that lost the answer asks again); with
//!   another size, checksum or unit → `409 evidence_conflict`. Size 1 byte to 5 MiB (`413
//!   evidence_too_large` above), content type `image/jpeg`, `image/webp` or `image/png`, checksum 64
//!   lower-case hex digits, ids UUIDs (else `400 invalid_evidence`, each field named). Only a commune
//!   officer of `unit` announces a photo (`403` for anyone else).
//! - `GET /api/evidence/{id}/upload` → the state (`404 evidence_not_found`; `403` outside the caller's
//!   scope).
//! - `PATCH /api/evidence/{id}?offset=N`, `Content-Type: application/octet-stream`, body the next
//!   chunk of at most 256 KiB → `200` and the state. `N` other than `received` (a chunk sent ahead, a
//!   copy of one already kept, the upload complete) → `409 offset_mismatch` with `received` in the
//!   error object and the state beside it: nothing is written, the device continues from `received`.
//!   A chunk past `size` → `400 chunk_past_end`; an empty one → `400 empty_chunk`. The last chunk
//!   is checked with the whole against the checksum: a mismatch discards every byte (`received` 0) →
//!   `422 checksum_mismatch`, with the state beside the error. Only a commune officer of the unit.
//! - `GET /api/evidence/{id}` → the photo with its content type and
//!   `Cache-Control: private, max-age=31536000, immutable` once complete (`404 evidence_incomplete`
//!   before); for anyone whose scope covers its unit: the commune's officers, its district's
//!   supervisors, the province.
//!
//! The state lives in the database only (`store/evidence.rs`), so processes behind a proxy share
//! uploads, and an append re-checks `received` in its transaction, so two copies of one chunk arriving
//! at once keep one.

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Path, RawQuery, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use thidua_domain::evidence::{
    is_sha256_hex, ImageType, UploadState, MAX_CHUNK_BYTES, MAX_EVIDENCE_BYTES,
};
use thidua_domain::org::UnitCode;
use thidua_domain::protocol::RecordId;
use thidua_domain::FieldError;
use uuid::Uuid;

use crate::auth::{covers, unix_now, Caller, Role};
use crate::encoding::BodyLimit;
use crate::error::{ApiError, ApiJson};
use crate::store::{Appended, StoredEvidence};
use crate::AppState;

/// The body limit of the evidence routes: a chunk, and a little room (a JSON announcement is far
/// smaller). A chunk between [`MAX_CHUNK_BYTES`] and this is refused by the handler, above it by the
/// limit layer, both as 413.
pub const EVIDENCE_BODY_LIMIT: usize = MAX_CHUNK_BYTES + 4 * 1024;

/// How long a browser may keep a downloaded photo: a photo id never names other bytes (the checksum
/// is fixed at announcement), so for ever, and only in the signed-in user's own cache.
const CACHE_FOREVER: &str = "private, max-age=31536000, immutable";

/// `POST /api/evidence` as sent. Texts are read as text and checked here, so every field's problem
/// is named, in both languages, rather than serde's first.
#[derive(Debug, Deserialize)]
pub struct Announcement {
    id: String,
    unit: String,
    record: String,
    size: i64,
    content_type: String,
    sha256: String,
}

/// A checked announcement.
struct Checked {
    id: Uuid,
    unit: UnitCode,
    record: RecordId,
    size: u64,
    content_type: ImageType,
    sha256: String,
}

impl Announcement {
    /// The checked announcement, or the answer: `413` when the photo is too large, else `400`.
    fn check(self) -> Result<Checked, ApiError> {
        let mut errors = Vec::new();
        let mut field = |name: &str, code: &str, vi: String, en: String| {
            errors.push(FieldError::new(name, code, vi, en));
        };
        let id = Uuid::try_parse(&self.id).ok();
        if id.is_none() {
            field(
                "id",
                "wrong_value",
                "Mã ảnh phải là UUID".into(),
                "The photo id must be a UUID".into(),
            );
        }
        let unit = UnitCode::parse(&self.unit).ok();
        if unit.is_none() {
            field(
                "unit",
                "wrong_value",
                format!("Mã đơn vị «{}» không hợp lệ", self.unit),
                format!("The unit code «{}» is not valid", self.unit),
            );
        }
        let record = RecordId::parse(&self.record).ok();
        if record.is_none() {
            field(
                "record",
                "wrong_value",
                "Mã bản ghi của ảnh phải là UUID".into(),
                "The record id must be a UUID".into(),
            );
        }
        let content_type = ImageType::parse(&self.content_type);
        if content_type.is_none() {
            let shown: String = self.content_type.chars().take(60).collect();
            field(
                "content_type",
                "unsupported_type",
                format!(
                    "Ảnh kiểu «{shown}» không được nhận; chỉ nhận image/jpeg, image/webp hoặc image/png"
                ),
                format!(
                    "Photos of type «{shown}» are not accepted; only image/jpeg, image/webp or image/png"
                ),
            );
        }
        if !is_sha256_hex(&self.sha256) {
            field(
                "sha256",
                "wrong_value",
                "Mã kiểm tra (SHA-256) phải gồm 64 chữ số hệ 16 viết thường".into(),
                "The checksum (SHA-256) must be 64 lower-case hexadecimal digits".into(),
            );
        }
        let too_large = self.size > MAX_EVIDENCE_BYTES as i64;
        if self.size < 1 {
            field(
                "size",
                "empty",
                "Ảnh rỗng (0 byte); hãy chụp lại".into(),
                "The photo is empty (0 bytes); take it again".into(),
            );
        } else if too_large {
            field(
                "size",
                "too_large",
                format!(
                    "Ảnh nặng {} byte, tối đa {MAX_EVIDENCE_BYTES} byte (5 MiB); hãy chụp lại ở độ phân giải thấp hơn",
                    self.size
                ),
                format!(
                    "The photo is {} bytes, at most {MAX_EVIDENCE_BYTES} (5 MiB); take it again at a lower resolution",
                    self.size
                ),
            );
        }
        match (id, unit, record, content_type) {
            (Some(id), Some(unit), Some(record), Some(content_type)) if errors.is_empty() => {
                Ok(Checked {
                    id,
                    unit,
                    record,
                    size: self.size as u64,
                    content_type,
                    sha256: self.sha256,
                })
            }
            _ if too_large => Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "evidence_too_large",
                "Ảnh minh chứng quá lớn (tối đa 5 MiB).",
                "The evidence photo is too large (at most 5 MiB).",
            )
            .with_fields(errors)),
            _ => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_evidence",
                "Thông tin ảnh minh chứng chưa hợp lệ; hãy cập nhật ứng dụng rồi gửi lại.",
                "The evidence photo's description is not valid; update the app and send it again.",
            )
            .with_fields(errors)),
        }
    }
}

pub async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(announcement): ApiJson<Announcement>,
) -> Result<(StatusCode, Json<UploadState>), ApiError> {
    // who, before what: a supervisor learns nothing from the checks of a body it may not send
    if caller.user.role != Role::CommuneOfficer {
        return Err(only_officers());
    }
    let new = announcement.check()?;
    may_upload(&state, &caller, &new.unit).await?;
    let stored = StoredEvidence {
        id: new.id,
        unit: new.unit,
        record: new.record,
        size: new.size,
        content_type: new.content_type,
        sha256: new.sha256,
        received: 0,
        created_by: caller.user.id.clone(),
        created_at: unix_now(),
        completed_at: None,
    };
    if state.store.insert_evidence(&stored).await? {
        tracing::info!(user = %caller.user.id, size = stored.size, "evidence announced");
        return Ok((StatusCode::CREATED, Json(stored.state())));
    }
    // announced before (by this device whose answer was lost, or at the same moment)
    let existing = state
        .store
        .evidence(stored.id)
        .await?
        .ok_or_else(|| ApiError::corrupt("evidence", "an upload cannot be read back"))?;
    let same = existing.size == stored.size
        && existing.sha256 == stored.sha256
        && existing.unit == stored.unit;
    if same {
        Ok((StatusCode::OK, Json(existing.state())))
    } else {
        Err(ApiError::new(
            StatusCode::CONFLICT,
            "evidence_conflict",
            "Đã có một ảnh khác mang mã này (khác kích thước, mã kiểm tra hoặc đơn vị). Hãy cập nhật \
             ứng dụng; ảnh trên máy vẫn được giữ.",
            "Another photo has this id (another size, checksum or unit). Update the app; the photo on \
             the device is kept.",
        ))
    }
}

pub async fn upload_state(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<UploadState>, ApiError> {
    let evidence = readable(&state, &caller, &id).await?;
    Ok(Json(evidence.state()))
}

pub async fn download(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let evidence = readable(&state, &caller, &id).await?;
    if evidence.completed_at.is_none() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "evidence_incomplete",
            "Ảnh này chưa gửi xong lên máy chủ; hãy xem lại sau khi máy của xã đồng bộ.",
            "This photo has not been fully uploaded yet; look again once the commune's device has synced.",
        )
        .with_beside(state_json(evidence.state())));
    }
    let bytes = state.store.evidence_bytes(evidence.id).await?;
    if bytes.len() as u64 != evidence.size {
        return Err(ApiError::corrupt(
            "evidence_chunks",
            format!("{} bytes stored of {}", bytes.len(), evidence.size),
        ));
    }
    let mut response = Response::new(Body::from(bytes));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(evidence.content_type.as_str()),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_FOREVER),
    );
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{}\"", evidence.sha256)) {
        headers.insert(header::ETAG, etag);
    }
    Ok(response)
}

pub async fn append(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    request: Request,
) -> Result<Response, ApiError> {
    let offset = offset_of(query.as_deref())?;
    if caller.user.role != Role::CommuneOfficer {
        return Err(only_officers());
    }
    let evidence = find(&state, &id).await?;
    may_upload(&state, &caller, &evidence.unit).await?;
    let chunk = read_chunk(request).await?;
    if chunk.is_empty() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "empty_chunk",
            "Phần ảnh gửi lên rỗng; hãy gửi tiếp từ vị trí máy chủ đã nhận.",
            "The chunk is empty; continue from the offset the server has received.",
        )
        .with_beside(state_json(evidence.state())));
    }
    if offset.saturating_add(chunk.len() as u64) > evidence.size {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "chunk_past_end",
            format!(
                "Phần ảnh từ byte {offset}, dài {} byte, vượt quá kích thước ảnh đã báo ({} byte).",
                chunk.len(),
                evidence.size
            ),
            format!(
                "The chunk at byte {offset}, {} bytes long, goes past the photo's announced size ({} bytes).",
                chunk.len(),
                evidence.size
            ),
        )
        .with_beside(state_json(evidence.state())));
    }
    // the common case of a mismatch answered without taking the write lock; the transaction
    // re-checks it in any case
    let outcome = if offset != evidence.received || evidence.completed_at.is_some() {
        Appended::OffsetMismatch(evidence.state())
    } else {
        state
            .store
            .append_evidence(&evidence, offset, &chunk, unix_now())
            .await?
    };
    match outcome {
        Appended::Written(now) => Ok(Json(now).into_response()),
        Appended::OffsetMismatch(now) => Err(offset_mismatch(offset, now)),
        Appended::ChecksumMismatch(now) => {
            tracing::warn!(user = %caller.user.id, size = evidence.size, "evidence checksum mismatch");
            Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "checksum_mismatch",
                "Ảnh nhận được không khớp mã kiểm tra (có thể bị hỏng trên đường truyền). Máy chủ đã bỏ \
                 phần đã nhận; hãy gửi lại ảnh từ đầu.",
                "The photo received does not match its checksum (it may have been damaged on the way). \
                 The server discarded what it received; send the photo again from the start.",
            )
            .with_detail("received", now.received)
            .with_beside(state_json(now)))
        }
    }
}

fn offset_mismatch(offset: u64, now: UploadState) -> ApiError {
    let (vi, en) = if now.complete {
        (
            "Ảnh này đã gửi đủ và được máy chủ nhận; không cần gửi thêm.".to_string(),
            "This photo is already complete on the server; nothing more to send.".to_string(),
        )
    } else {
        (
            format!(
                "Máy chủ đã nhận {} byte của ảnh, không phải {offset}; hãy gửi tiếp từ byte {}.",
                now.received, now.received
            ),
            format!(
                "The server has received {} bytes of the photo, not {offset}; continue from byte {}.",
                now.received, now.received
            ),
        )
    };
    ApiError::new(StatusCode::CONFLICT, "offset_mismatch", vi, en)
        .with_detail("received", now.received)
        .with_beside(state_json(now))
}

fn state_json(state: UploadState) -> serde_json::Value {
    serde_json::to_value(state).expect("an upload state serialises")
}

/// `offset=N` from the query: required, a whole number of bytes.
fn offset_of(query: Option<&str>) -> Result<u64, ApiError> {
    let value = query
        .unwrap_or_default()
        .split('&')
        .find_map(|pair| pair.strip_prefix("offset="));
    match value.map(str::parse::<u64>) {
        Some(Ok(offset)) => Ok(offset),
        _ => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_offset",
            "Yêu cầu gửi phần ảnh phải có «?offset=N»: vị trí (byte) bắt đầu của phần này.",
            "A chunk must come with «?offset=N»: the byte it starts at.",
        )),
    }
}

/// The chunk: `application/octet-stream`, read within the route's limit, at most [`MAX_CHUNK_BYTES`].
async fn read_chunk(request: Request) -> Result<Bytes, ApiError> {
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
    if media_type.as_deref() != Some("application/octet-stream") {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "content_type",
            "Phần ảnh phải gửi với tiêu đề «Content-Type: application/octet-stream».",
            "Send a chunk with the header «Content-Type: application/octet-stream».",
        ));
    }
    let limit = BodyLimit::of(&request);
    let bytes = Bytes::from_request(request, &())
        .await
        .map_err(|rejection| {
            ApiError::body_failure(&rejection, limit).unwrap_or_else(|| {
                ApiError::new(
                rejection.status(),
                "bad_body",
                "Không đọc được phần ảnh gửi lên (có thể kết nối bị ngắt giữa chừng). Hãy gửi lại.",
                "The chunk could not be read (the connection may have dropped). Send it again.",
            )
            })
        })?;
    if bytes.len() > MAX_CHUNK_BYTES {
        return Err(chunk_too_large());
    }
    Ok(bytes)
}

fn chunk_too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "chunk_too_large",
        format!(
            "Mỗi lần chỉ gửi tối đa {} KiB của ảnh; hãy chia nhỏ hơn.",
            MAX_CHUNK_BYTES / 1024
        ),
        format!(
            "Send at most {} KiB of a photo at a time; split it smaller.",
            MAX_CHUNK_BYTES / 1024
        ),
    )
}

async fn find(state: &AppState, id: &str) -> Result<StoredEvidence, ApiError> {
    let found = match Uuid::try_parse(id) {
        Ok(id) => state.store.evidence(id).await?,
        Err(_) => None,
    };
    found.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "evidence_not_found",
            "Máy chủ không có ảnh minh chứng mang mã này; nếu ảnh còn trên máy, hãy gửi lại từ đầu.",
            "The server has no evidence photo of this id; if the photo is still on the device, send it again.",
        )
    })
}

/// The upload, if the caller's scope covers its unit (officer of the commune, supervisor of its
/// district, the province).
async fn readable(state: &AppState, caller: &Caller, id: &str) -> Result<StoredEvidence, ApiError> {
    let evidence = find(state, id).await?;
    let reference = state.reference.now(&state.store).await?;
    if caller.covers(&reference.catalog, &evidence.unit) {
        Ok(evidence)
    } else {
        Err(crate::auth::out_of_scope(caller, &evidence.unit))
    }
}

/// A commune officer writes the photos of their own commune: the scope rule of a push.
async fn may_upload(state: &AppState, caller: &Caller, unit: &UnitCode) -> Result<(), ApiError> {
    let reference = state.reference.now(&state.store).await?;
    if covers(&reference.catalog, &caller.user.org_unit, unit) {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        "out_of_scope",
        format!(
            "Tài khoản của bạn chỉ gửi ảnh minh chứng của đơn vị {}; ảnh này thuộc đơn vị {unit}.",
            caller.user.org_unit
        ),
        format!(
            "Your account sends evidence photos of unit {} only; this photo belongs to unit {unit}.",
            caller.user.org_unit
        ),
    ))
}

fn only_officers() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "forbidden",
        "Chỉ cán bộ xã gửi ảnh minh chứng; tài khoản của bạn chỉ xem được ảnh.",
        "Only commune officers send evidence photos; your account can only view them.",
    )
}
