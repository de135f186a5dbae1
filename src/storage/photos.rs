//! Evidence photos on the device (ảnh minh chứng).
//!
//! A photo is two entries: its description in `photos` (small, read often: which record it belongs
//! to, its size and checksum, how much of it the server has) and its bytes in `photo_bytes`, a Blob
//! under the photo's id. Keeping the bytes apart means listing a form's photos or the upload queue
//! never reads images into memory; the uploader slices the stored Blob chunk by chunk. Both are
//! written in one transaction, so a photo is never described without its bytes.

use indexed_db_futures::database::Database;
use indexed_db_futures::prelude::*;
use indexed_db_futures::transaction::TransactionMode;
use serde::{Deserialize, Serialize};
use wasm_bindgen::{JsCast, JsValue};

use super::{commit, Result, Store};

const PHOTOS: &str = "photos";
const PHOTO_BYTES: &str = "photo_bytes";
const BY_RECORD: &str = "by_record";

/// A photo taken on this device, and how far its upload has got.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhotoEntry {
    /// A UUID made on the device (the key path); the server keeps it.
    pub id: String,
    /// The commune it is evidence for.
    pub unit: String,
    /// The record (household, NTM assessment, advanced example) whose field names it.
    pub record_id: String,
    pub size: u64,
    pub content_type: String,
    /// SHA-256 of the bytes, lower-case hex: the server checks the whole against it.
    pub sha256: String,
    /// Bytes the server has confirmed: the upload resumes from here.
    pub received: u64,
    pub complete: bool,
    /// When it was taken (Unix ms).
    pub taken_at_ms: f64,
}

impl PhotoEntry {
    /// 0..=1, for a progress bar.
    pub fn progress(&self) -> f64 {
        if self.complete || self.size == 0 {
            1.0
        } else {
            self.received as f64 / self.size as f64
        }
    }
}

/// Creates the two stores (database version 3).
pub(super) fn create_stores(db: &Database) -> indexed_db_futures::Result<()> {
    let photos = db
        .create_object_store(PHOTOS)
        .with_key_path("id".into())
        .build()?;
    photos.create_index(BY_RECORD, "record_id".into()).build()?;
    // out-of-line keys: the value is the Blob itself
    db.create_object_store(PHOTO_BYTES).build()?;
    Ok(())
}

impl Store {
    /// Keeps a new photo: its description and its bytes, in one transaction.
    pub async fn add_photo(&self, entry: &PhotoEntry, bytes: &web_sys::Blob) -> Result<()> {
        let tx = self
            .db
            .transaction([PHOTOS, PHOTO_BYTES])
            .with_mode(TransactionMode::Readwrite)
            .build()?;
        let photos = tx.object_store(PHOTOS)?;
        let blobs = tx.object_store(PHOTO_BYTES)?;
        let put_entry = photos.put(entry).serde()?;
        let put_bytes = blobs
            .put(JsValue::from(bytes.clone()))
            .with_key(entry.id.clone())
            .primitive()?;
        put_entry.await?;
        put_bytes.await?;
        commit(tx).await
    }

    /// The photo's bytes, if this device has them.
    pub async fn photo_bytes(&self, id: &str) -> Result<Option<web_sys::Blob>> {
        let tx = self.db.transaction(PHOTO_BYTES).build()?;
        let store = tx.object_store(PHOTO_BYTES)?;
        let value: Option<JsValue> = store.get(id.to_string()).primitive()?.await?;
        Ok(value.and_then(|v| v.dyn_into::<web_sys::Blob>().ok()))
    }

    pub async fn photo(&self, id: &str) -> Result<Option<PhotoEntry>> {
        let tx = self.db.transaction(PHOTOS).build()?;
        let store = tx.object_store(PHOTOS)?;
        Ok(store.get(id.to_string()).serde()?.await?)
    }

    /// Every photo on the device; the uploader takes the incomplete ones.
    pub async fn photos(&self) -> Result<Vec<PhotoEntry>> {
        let tx = self.db.transaction(PHOTOS).build()?;
        let store = tx.object_store(PHOTOS)?;
        let iter = store.get_all::<PhotoEntry>().serde()?.await?;
        iter.collect::<std::result::Result<Vec<_>, _>>()
            .map_err(Into::into)
    }

    /// Records how much of a photo the server has. Never moves `received` backwards unless the
    /// server said so (`reset`), because answers can arrive out of order.
    pub async fn set_photo_progress(
        &self,
        id: &str,
        received: u64,
        complete: bool,
        reset: bool,
    ) -> Result<Option<PhotoEntry>> {
        let tx = self
            .db
            .transaction(PHOTOS)
            .with_mode(TransactionMode::Readwrite)
            .build()?;
        let store = tx.object_store(PHOTOS)?;
        let found: Option<PhotoEntry> = store.get(id.to_string()).serde()?.await?;
        let Some(mut entry) = found else {
            return Ok(None);
        };
        entry.received = if reset {
            received
        } else {
            entry.received.max(received)
        };
        entry.complete = entry.complete || complete;
        store.put(&entry).serde()?.await?;
        commit(tx).await?;
        Ok(Some(entry))
    }

    /// Forgets a photo the officer removed before it was uploaded (a removed photo that the server
    /// already has stays there: a synced record may still name it).
    pub async fn remove_photo(&self, id: &str) -> Result<()> {
        let tx = self
            .db
            .transaction([PHOTOS, PHOTO_BYTES])
            .with_mode(TransactionMode::Readwrite)
            .build()?;
        let photos = tx.object_store(PHOTOS)?;
        let blobs = tx.object_store(PHOTO_BYTES)?;
        let a = photos.delete(id.to_string()).build()?;
        let b = blobs.delete(id.to_string()).build()?;
        a.await?;
        b.await?;
        commit(tx).await
    }
}
