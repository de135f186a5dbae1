//! Evidence photos: taken and kept on the device, uploaded apart from records, resumable.
//!
//! Records carry only photo ids (a record field such as `photos` lists them), so a sync of records
//! stays small and never waits on images. The photos go up afterwards, in chunks of
//! [`CHUNK_BYTES`]: the server counts what it has received, and after a cut connection, a closed
//! tab or a restarted server the upload continues from the server's count, never from zero.
//!
//! Server contract (`crates/server`, `/api/evidence`): `POST` creates an upload (the same id again
//! returns its state), `GET {id}/upload` reads the state, `PATCH {id}?offset=N` appends a chunk when
//! N is what the server has (else 409 with the state kept), `GET {id}` serves the complete photo.

use thidua_domain::evidence::{NewEvidence, UploadState};
use thidua_domain::org::UnitCode;
use thidua_domain::protocol::RecordId;

pub use thidua_domain::evidence::{MAX_PHOTOS, PHOTOS_FIELD as PHOTOS};

use crate::api::{get_json, patch_bytes, post_json, ApiError};
use crate::browser::camera::{compress_photo, sha256_hex, PhotoError};
use crate::households::Device;
use crate::storage::photos::PhotoEntry;
use crate::storage::Store;

/// One request's worth of photo: about 5 s at 2G's 50 kbit/s up, so a cut costs little.
pub const CHUNK_BYTES: u64 = 32 * 1024;
/// A chunk may take this long on a bad link before it counts as no answer.
const CHUNK_TIMEOUT_MS: i32 = 60_000;

/// What the officer is told when a photo cannot be kept.
pub fn photo_error(error: &PhotoError, lang: thidua_domain::Lang) -> &'static str {
    let locale = crate::i18n::Locale::from(lang);
    match error {
        PhotoError::NotAnImage => crate::i18n::td_string!(locale, photos.not_an_image),
        PhotoError::Unsupported => crate::i18n::td_string!(locale, photos.unsupported),
    }
}

/// Makes a photo the officer took or chose into evidence: resized and compressed on the device,
/// checksummed, and stored with its bytes. The caller puts the returned id into the record's field.
pub async fn keep_photo(
    store: &Store,
    device: &Device,
    file: &web_sys::Blob,
    unit: &str,
    record_id: &str,
    lang: thidua_domain::Lang,
) -> Result<PhotoEntry, String> {
    let (jpeg, _, _) = compress_photo(file)
        .await
        .map_err(|e| photo_error(&e, lang).to_string())?;
    let sha256 = sha256_hex(&jpeg)
        .await
        .ok_or_else(|| photo_error(&PhotoError::Unsupported, lang).to_string())?;
    let entry = PhotoEntry {
        id: device.new_id().to_string(),
        unit: unit.to_string(),
        record_id: record_id.to_string(),
        size: jpeg.size() as u64,
        content_type: "image/jpeg".into(),
        sha256,
        received: 0,
        complete: false,
        taken_at_ms: js_sys::Date::now(),
    };
    store
        .add_photo(&entry, &jpeg)
        .await
        .map_err(|e| e.message(lang))?;
    Ok(entry)
}

/// Why an upload round stopped.
#[derive(Debug)]
pub enum UploadError {
    Api(ApiError),
    Storage(crate::storage::StorageError),
}

impl From<ApiError> for UploadError {
    fn from(e: ApiError) -> Self {
        UploadError::Api(e)
    }
}

impl From<crate::storage::StorageError> for UploadError {
    fn from(e: crate::storage::StorageError) -> Self {
        UploadError::Storage(e)
    }
}

/// Uploads every photo the server does not have yet, oldest first, calling `progress` after each
/// chunk. Returns how many photos completed. A photo the server refuses for good (its unit is not
/// the officer's any more, say) is skipped and the others go on.
pub async fn upload_pending(
    store: &Store,
    token: &str,
    mut progress: impl FnMut(&PhotoEntry),
) -> Result<usize, UploadError> {
    let mut waiting: Vec<PhotoEntry> = store
        .photos()
        .await?
        .into_iter()
        .filter(|p| !p.complete)
        .collect();
    waiting.sort_by(|a, b| a.taken_at_ms.total_cmp(&b.taken_at_ms));
    let mut completed = 0;
    for photo in waiting {
        match upload_one(store, token, photo, &mut progress).await {
            Ok(true) => completed += 1,
            Ok(false) => {}
            // unreachable, timed out, signed out: stop the round, the next sync resumes
            Err(UploadError::Api(e))
                if matches!(e, ApiError::Unreachable) || e.is_unauthorized() =>
            {
                return Err(e.into())
            }
            Err(UploadError::Api(ApiError::Server { status, .. })) if status < 500 => {
                // refused for this photo only (403, 413, …): leave it for the officer, go on
            }
            Err(e) => return Err(e),
        }
    }
    Ok(completed)
}

/// Sends one photo from where the server is. `Ok(true)` when the server has all of it.
async fn upload_one(
    store: &Store,
    token: &str,
    photo: PhotoEntry,
    progress: &mut impl FnMut(&PhotoEntry),
) -> Result<bool, UploadError> {
    let Some(bytes) = store.photo_bytes(&photo.id).await? else {
        return Ok(false); // removed meanwhile
    };
    // create (or find) the upload: the answer says how much the server already has
    let (Ok(id), Ok(unit), Ok(record)) = (
        uuid::Uuid::try_parse(&photo.id),
        UnitCode::parse(&photo.unit),
        RecordId::parse(&photo.record_id),
    ) else {
        return Ok(false); // not made by this app: nothing the server would take
    };
    let announce = NewEvidence {
        id,
        unit,
        record,
        size: photo.size,
        content_type: photo.content_type.clone(),
        sha256: photo.sha256.clone(),
    };
    let mut state: UploadState =
        post_json("/api/evidence", &announce, Some(token), CHUNK_TIMEOUT_MS).await?;
    let mut entry = note_state(store, &photo.id, &state, true).await?;
    progress(&entry);
    let mut restarts = 0;
    while !state.complete {
        let start = state.received.min(photo.size);
        let end = (start + CHUNK_BYTES).min(photo.size);
        let chunk = bytes
            .slice_with_f64_and_f64(start as f64, end as f64)
            .map_err(|_| ApiError::Unreadable("blob slice".into()))?;
        let path = format!("/api/evidence/{}?offset={start}", photo.id);
        state = match patch_bytes(&path, &chunk, token, CHUNK_TIMEOUT_MS).await {
            Ok(state) => state,
            // the server has a different count (a chunk whose answer was lost did arrive, or
            // another tab sent some): ask, and continue from there
            Err(ApiError::Server { status: 409, .. }) => {
                get_json(
                    &format!("/api/evidence/{}/upload", photo.id),
                    token,
                    CHUNK_TIMEOUT_MS,
                )
                .await?
            }
            // the whole did not match its checksum: the server dropped it; send again, once
            Err(ApiError::Server { status: 422, .. }) if restarts == 0 => {
                restarts += 1;
                UploadState {
                    received: 0,
                    complete: false,
                    ..state
                }
            }
            Err(e) => return Err(e.into()),
        };
        entry = note_state(store, &photo.id, &state, state.received < start).await?;
        progress(&entry);
    }
    Ok(true)
}

async fn note_state(
    store: &Store,
    id: &str,
    state: &UploadState,
    reset: bool,
) -> Result<PhotoEntry, UploadError> {
    Ok(store
        .set_photo_progress(id, state.received, state.complete, reset)
        .await?
        .ok_or_else(|| ApiError::Unreadable("photo removed".into()))?)
}

/// An object URL showing a photo: from the device's copy, else fetched from the server (a photo
/// another device took). The caller revokes it when the thumbnail goes.
pub async fn photo_url(store: &Store, id: &str, token: &str) -> Option<String> {
    if let Ok(Some(blob)) = store.photo_bytes(id).await {
        return web_sys::Url::create_object_url_with_blob(&blob).ok();
    }
    let blob = crate::api::get_blob(&format!("/api/evidence/{id}"), token, CHUNK_TIMEOUT_MS)
        .await
        .ok()?;
    web_sys::Url::create_object_url_with_blob(&blob).ok()
}
