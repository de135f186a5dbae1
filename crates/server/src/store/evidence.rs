//! Evidence photos in the database ([`crate::evidence`] has the routes). The upload's whole state is
//! in two tables, `evidence` and `evidence_chunks` (migration 0006), so any process behind the proxy
//! may take any chunk. Each append is one transaction that moves `received` only from the chunk's own
//! offset, so two copies of one chunk (a request resent after its answer was lost, reaching two
//! processes at once) can never both be kept.

use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;
use sqlx::Row;
use thidua_domain::evidence::{ImageType, UploadState};
use thidua_domain::org::UnitCode;
use thidua_domain::protocol::RecordId;
use uuid::Uuid;

use super::Store;
use crate::error::ApiError;

/// A photo's upload as the `evidence` table holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvidence {
    pub id: Uuid,
    pub unit: UnitCode,
    pub record: RecordId,
    pub size: u64,
    pub content_type: ImageType,
    pub sha256: String,
    pub received: u64,
    /// A user id.
    pub created_by: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds; set once every byte arrived and matched the checksum.
    pub completed_at: Option<i64>,
}

impl StoredEvidence {
    pub fn state(&self) -> UploadState {
        UploadState {
            id: self.id,
            size: self.size,
            received: self.received,
            complete: self.completed_at.is_some(),
        }
    }
}

/// What became of a chunk ([`Store::append_evidence`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Appended {
    /// Kept: the upload's state after it.
    Written(UploadState),
    /// Not kept: the upload had received another number of bytes than the chunk's offset (a copy of
    /// a chunk already kept, one sent ahead, the loser of two copies sent at once), or was complete.
    OffsetMismatch(UploadState),
    /// It was the last chunk, but the whole did not match its SHA-256: every byte was discarded, so
    /// the device sends the photo again from 0.
    ChecksumMismatch(UploadState),
}

const EVIDENCE_COLUMNS: &str =
    "id, unit, record_id, size, content_type, sha256, received, created_by, created_at, completed_at";

fn evidence_from_row(row: &AnyRow) -> Result<StoredEvidence, ApiError> {
    let corrupt = |e: &dyn std::fmt::Display| ApiError::corrupt("evidence row", e);
    let text = |name: &str| row.try_get::<String, _>(name).map_err(|e| corrupt(&e));
    let int = |name: &str| row.try_get::<i64, _>(name).map_err(|e| corrupt(&e));
    let content_type = text("content_type")?;
    Ok(StoredEvidence {
        id: Uuid::try_parse(&text("id")?).map_err(|e| corrupt(&e))?,
        unit: UnitCode::parse(&text("unit")?).map_err(|e| corrupt(&e))?,
        record: RecordId::parse(&text("record_id")?).map_err(|e| corrupt(&e))?,
        size: int("size")? as u64,
        content_type: ImageType::parse(&content_type)
            .ok_or_else(|| corrupt(&format!("unknown content type {content_type}")))?,
        sha256: text("sha256")?,
        received: int("received")? as u64,
        created_by: text("created_by")?,
        created_at: int("created_at")?,
        completed_at: row
            .try_get::<Option<i64>, _>("completed_at")
            .map_err(|e| corrupt(&e))?,
    })
}

fn chunk_bytes(row: &AnyRow) -> Result<Vec<u8>, ApiError> {
    row.try_get("bytes")
        .map_err(|e| ApiError::corrupt("evidence_chunks row", e))
}

const CHUNKS_IN_ORDER: &str =
    r#"SELECT bytes FROM evidence_chunks WHERE evidence_id = $1 ORDER BY "offset""#;

impl Store {
    /// Adds a new upload; `false` when one of that id exists (nothing is written).
    pub async fn insert_evidence(&self, e: &StoredEvidence) -> Result<bool, ApiError> {
        let inserted = sqlx::query(&format!(
            "INSERT INTO evidence ({EVIDENCE_COLUMNS})
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL)"
        ))
        .bind(e.id.to_string())
        .bind(e.unit.as_str())
        .bind(e.record.to_string())
        .bind(e.size as i64)
        .bind(e.content_type.as_str())
        .bind(e.sha256.as_str())
        .bind(e.received as i64)
        .bind(e.created_by.as_str())
        .bind(e.created_at)
        .execute(&self.pool)
        .await;
        match inserted {
            Ok(_) => Ok(true),
            Err(sqlx::Error::Database(err)) if err.is_unique_violation() => Ok(false),
            Err(err) => Err(ApiError::database(err)),
        }
    }

    pub async fn evidence(&self, id: Uuid) -> Result<Option<StoredEvidence>, ApiError> {
        let row = sqlx::query(&format!(
            "SELECT {EVIDENCE_COLUMNS} FROM evidence WHERE id = $1"
        ))
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(ApiError::database)?;
        row.as_ref().map(evidence_from_row).transpose()
    }

    /// Appends `bytes` at `offset` to the upload `e` (as read before; the transaction re-checks it),
    /// and when they are the last, verifies the whole against its SHA-256. The caller has checked
    /// that the chunk is not empty and ends within the photo's size.
    pub async fn append_evidence(
        &self,
        e: &StoredEvidence,
        offset: u64,
        bytes: &[u8],
        now: i64,
    ) -> Result<Appended, ApiError> {
        let db = ApiError::database;
        let id = e.id.to_string();
        let end = offset + bytes.len() as u64;
        debug_assert!(!bytes.is_empty() && end <= e.size);
        // SQLite: the write lock now, as a push batch takes it. PostgreSQL: the UPDATE below locks
        // the row; a second copy of the chunk waits for it, then finds `received` moved: no row.
        let mut tx = self.begin_write().await?;
        let moved = sqlx::query(
            "UPDATE evidence SET received = $1
             WHERE id = $2 AND received = $3 AND completed_at IS NULL",
        )
        .bind(end as i64)
        .bind(id.as_str())
        .bind(offset as i64)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        if moved.rows_affected() == 0 {
            tx.rollback().await.map_err(db)?;
            let current = self.evidence(e.id).await?.ok_or_else(|| {
                ApiError::corrupt("evidence", "an upload disappeared during an append")
            })?;
            return Ok(Appended::OffsetMismatch(current.state()));
        }
        sqlx::query(
            r#"INSERT INTO evidence_chunks (evidence_id, "offset", bytes) VALUES ($1, $2, $3)"#,
        )
        .bind(id.as_str())
        .bind(offset as i64)
        .bind(bytes.to_vec())
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        let mut state = UploadState {
            received: end,
            ..e.state()
        };
        if end < e.size {
            tx.commit().await.map_err(db)?;
            return Ok(Appended::Written(state));
        }
        let rows = sqlx::query(CHUNKS_IN_ORDER)
            .bind(id.as_str())
            .fetch_all(&mut *tx)
            .await
            .map_err(db)?;
        let mut hash = Sha256::new();
        let mut total = 0u64;
        for row in &rows {
            let chunk = chunk_bytes(row)?;
            total += chunk.len() as u64;
            hash.update(&chunk);
        }
        if total == e.size && crate::auth::hex(&hash.finalize()) == e.sha256 {
            sqlx::query("UPDATE evidence SET completed_at = $1 WHERE id = $2")
                .bind(now)
                .bind(id.as_str())
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            tx.commit().await.map_err(db)?;
            state.complete = true;
            return Ok(Appended::Written(state));
        }
        // Which chunk went wrong cannot be told: keep nothing, so the device sends it all again.
        sqlx::query("DELETE FROM evidence_chunks WHERE evidence_id = $1")
            .bind(id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        sqlx::query("UPDATE evidence SET received = 0 WHERE id = $1")
            .bind(id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)?;
        state.received = 0;
        Ok(Appended::ChecksumMismatch(state))
    }

    /// The bytes of an upload, in order (all of them once it is complete).
    pub async fn evidence_bytes(&self, id: Uuid) -> Result<Vec<u8>, ApiError> {
        let rows = sqlx::query(CHUNKS_IN_ORDER)
            .bind(id.to_string())
            .fetch_all(&self.pool)
            .await
            .map_err(ApiError::database)?;
        let mut bytes = Vec::new();
        for row in &rows {
            bytes.extend_from_slice(&chunk_bytes(row)?);
        }
        Ok(bytes)
    }
}
