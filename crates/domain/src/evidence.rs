//! Evidence photos (ảnh minh chứng): what a record says about its photos, and the rules of their
//! upload, shared by the app (which resizes, stores and uploads them) and the server (which checks and
//! keeps them).
//!
//! A photo is taken on the device, resized there (about 200 KB of JPEG), kept in the browser's
//! database and named by a fresh UUID. The record it belongs to (a household, an NTM indicator, an
//! advanced example) lists those UUIDs in a photos field and syncs as any record does; the bytes go
//! up apart from record sync, in chunks, so a weak signal that cuts an upload at 60% costs only the
//! rest. The upload protocol (the server's `/api/evidence` routes):
//!
//! 1. `POST /api/evidence` with a [`NewEvidence`]: the server answers the [`UploadState`] (a repeat
//!    with the same id, size, checksum and unit answers the current state, so a device that lost
//!    the answer asks again).
//! 2. `PATCH /api/evidence/{id}?offset=N`, body the next at most [`MAX_CHUNK_BYTES`] bytes, while
//!    `received < size`. An offset other than `received` is answered `409 offset_mismatch` with the
//!    `received` to continue from; `GET /api/evidence/{id}/upload` answers the state at any time.
//! 3. When the last byte arrives the server checks the whole against `sha256`: a mismatch discards
//!    what it received (`received` back to 0, `422`) so the device sends it again.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::org::UnitCode;
use crate::protocol::RecordId;
use crate::FieldError;

/// Most photos one record (or one NTM indicator) lists: enough evidence, and a bound on what a
/// tablet must keep and send.
pub const MAX_PHOTOS: usize = 10;
/// The photos field of a household or an advanced example: an array of photo UUIDs.
pub const PHOTOS_FIELD: &str = "photos";
/// Largest photo the server keeps, in bytes: far above a resized photo, far below what would
/// make a tablet's upload over 2G hopeless.
pub const MAX_EVIDENCE_BYTES: u64 = 5 * 1024 * 1024;
/// Largest chunk of one `PATCH`: about a minute over a poor 2G link, so a cut costs at most that.
pub const MAX_CHUNK_BYTES: usize = 256 * 1024;

/// The image types the server keeps (what a browser's canvas encodes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ImageType {
    #[serde(rename = "image/jpeg")]
    Jpeg,
    #[serde(rename = "image/webp")]
    Webp,
    #[serde(rename = "image/png")]
    Png,
}

impl ImageType {
    pub const ALL: [ImageType; 3] = [ImageType::Jpeg, ImageType::Webp, ImageType::Png];

    /// The media type as sent and served: "image/jpeg", "image/webp", "image/png".
    pub fn as_str(self) -> &'static str {
        match self {
            ImageType::Jpeg => "image/jpeg",
            ImageType::Webp => "image/webp",
            ImageType::Png => "image/png",
        }
    }

    /// Exactly one of the three names, lower case (what the app sends; anything else is refused,
    /// never guessed at, since the server serves it back with that type).
    pub fn parse(text: &str) -> Option<ImageType> {
        ImageType::ALL.into_iter().find(|t| t.as_str() == text)
    }
}

/// `POST /api/evidence`: the upload of one photo is announced with its size and checksum before
/// its bytes, so the server can tell how much is missing and whether what arrived is whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewEvidence {
    /// The photo's UUID, made on the device; the id records list in their photos fields.
    pub id: Uuid,
    /// The commune the photo is evidence for (the record's org unit).
    pub unit: UnitCode,
    /// The record that lists it.
    pub record: RecordId,
    pub size: u64,
    /// One of [`ImageType`]'s names.
    pub content_type: String,
    /// SHA-256 of the whole photo, 64 lower-case hex digits.
    pub sha256: String,
}

/// What the server holds of one upload: every answer of the upload routes carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadState {
    pub id: Uuid,
    pub size: u64,
    /// Bytes received so far: the offset of the next chunk.
    pub received: u64,
    /// All bytes received and their checksum verified: the photo can be downloaded.
    pub complete: bool,
}

/// True for 64 lower-case hexadecimal digits: a SHA-256 as the server compares it.
pub fn is_sha256_hex(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Reads a photos field: null (no photos) or an array of at most [`MAX_PHOTOS`] UUID strings.
/// `field` is the field's name, `what_vi`/`what_en` name its owner in the messages ("Hộ gia đình").
pub fn parse_photos(
    field: &str,
    value: &Value,
    what_vi: &str,
    what_en: &str,
) -> Result<Vec<Uuid>, FieldError> {
    let items = match value {
        Value::Null => return Ok(Vec::new()),
        Value::Array(items) => items,
        _ => {
            return Err(FieldError::new(
                field,
                "wrong_type",
                format!("{what_vi}: danh sách ảnh minh chứng phải là một mảng mã ảnh"),
                format!("{what_en}: the evidence photos must be an array of photo ids"),
            ))
        }
    };
    if items.len() > MAX_PHOTOS {
        return Err(FieldError::new(
            field,
            "too_many_photos",
            format!(
                "{what_vi}: có {} ảnh, tối đa {MAX_PHOTOS} ảnh; hãy bỏ bớt ảnh",
                items.len()
            ),
            format!(
                "{what_en}: {} photos, at most {MAX_PHOTOS}; remove some",
                items.len()
            ),
        ));
    }
    items
        .iter()
        .map(|item| {
            item.as_str()
                .and_then(|text| Uuid::try_parse(text).ok())
                .ok_or_else(|| {
                    FieldError::new(
                        field,
                        "wrong_value",
                        format!("{what_vi}: mỗi ảnh phải được ghi bằng mã (UUID) của ảnh"),
                        format!("{what_en}: each photo must be given by its id (a UUID)"),
                    )
                })
        })
        .collect()
}
