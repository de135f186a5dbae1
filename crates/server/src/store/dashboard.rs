//! What the dashboard, its drill-down and the completeness view read, and the devices' last syncs.

use sqlx::Row;
use thidua_domain::org::UnitCode;
use thidua_domain::protocol::{DataSet, DeviceId, Fields, Period, Record};

use super::{
    from_value, household_class, serde_name, stored_from_row, submission_from_row, Store,
    SUBMISSION_COLUMNS,
};
use crate::error::ApiError;
use crate::submissions::Submission;

/// A device as the completeness view shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRow {
    pub device: String,
    pub user_id: String,
    pub username: String,
    pub display_name: String,
    pub org_unit: String,
    /// Unix seconds.
    pub last_push_at: Option<i64>,
    pub last_pull_at: Option<i64>,
}

impl DeviceRow {
    /// The later of its last push and last pull.
    pub fn last_sync_at(&self) -> Option<i64> {
        self.last_push_at.max(self.last_pull_at)
    }
}

/// A pull is noted at most once in this many seconds per device ([`Store::note_pull`]).
pub const PULL_NOTE_EVERY: i64 = 60;

/// `$first, $first+1, …` for `count` values.
pub(super) fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Store {
    /// Live (not deleted) records of `data_sets` in `periods`, of `units` only when given, by id.
    /// Only the columns the figures need: no stamps, no conflicts.
    pub async fn live_records(
        &self,
        periods: &[&Period],
        data_sets: &[DataSet],
        units: Option<&[String]>,
    ) -> Result<Vec<Record>, ApiError> {
        if periods.is_empty() || data_sets.is_empty() || units.is_some_and(|u| u.is_empty()) {
            return Ok(Vec::new());
        }
        let mut sql = format!(
            "SELECT id, data_set, org_unit, period, fields, revision FROM records
             WHERE deleted = 0 AND period IN ({}) AND data_set IN ({})",
            placeholders(1, periods.len()),
            placeholders(1 + periods.len(), data_sets.len())
        );
        let mut next = 1 + periods.len() + data_sets.len();
        if let Some(units) = units {
            sql.push_str(&format!(
                " AND org_unit IN ({})",
                placeholders(next, units.len())
            ));
            next += units.len();
        }
        debug_assert!(next > 1);
        sql.push_str(" ORDER BY id");
        let mut query = sqlx::query(&sql);
        for period in periods {
            query = query.bind(period.as_str());
        }
        for data_set in data_sets {
            query = query.bind(serde_name(data_set));
        }
        for unit in units.unwrap_or_default() {
            query = query.bind(unit.as_str());
        }
        let rows = query
            .fetch_all(&self.pool)
            .await
            .map_err(ApiError::database)?;
        rows.iter()
            .map(|row| {
                let corrupt = |e: &dyn std::fmt::Display| ApiError::corrupt("records row", e);
                let text = |name: &str| row.try_get::<String, _>(name).map_err(|e| corrupt(&e));
                let fields: Fields =
                    serde_json::from_str(&text("fields")?).map_err(|e| corrupt(&e))?;
                Ok(Record {
                    id: from_value(text("id")?.into())?,
                    data_set: from_value(text("data_set")?.into())?,
                    org_unit: from_value(text("org_unit")?.into())?,
                    period: from_value(text("period")?.into())?,
                    fields,
                    revision: row.try_get::<i64, _>("revision").map_err(|e| corrupt(&e))? as u64,
                    deleted: false,
                    conflicts: Vec::new(),
                })
            })
            .collect()
    }

    /// Live records of `period` per (commune, data set).
    pub async fn record_counts(
        &self,
        period: &Period,
    ) -> Result<Vec<(String, String, u64)>, ApiError> {
        let rows = sqlx::query(
            "SELECT org_unit, data_set, COUNT(*) AS n FROM records
             WHERE period = $1 AND deleted = 0 GROUP BY org_unit, data_set",
        )
        .bind(period.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(ApiError::database)?;
        rows.iter()
            .map(|row| {
                let corrupt = |e: sqlx::Error| ApiError::corrupt("records count", e);
                Ok((
                    row.try_get("org_unit").map_err(corrupt)?,
                    row.try_get("data_set").map_err(corrupt)?,
                    row.try_get::<i64, _>("n").map_err(corrupt)? as u64,
                ))
            })
            .collect()
    }

    /// Live households of `periods` (of `units` only when given) counted per commune, period and
    /// stored class (`household_class`; `unreadable` for a household without one).
    pub async fn household_counts(
        &self,
        periods: &[&Period],
        units: Option<&[String]>,
    ) -> Result<Vec<(String, String, String, u64)>, ApiError> {
        if periods.is_empty() || units.is_some_and(|u| u.is_empty()) {
            return Ok(Vec::new());
        }
        let mut sql = format!(
            "SELECT org_unit, period, household_class, COUNT(*) AS n FROM records
             WHERE period IN ({}) AND data_set = 'household' AND deleted = 0",
            placeholders(1, periods.len())
        );
        if let Some(units) = units {
            sql.push_str(&format!(
                " AND org_unit IN ({})",
                placeholders(1 + periods.len(), units.len())
            ));
        }
        sql.push_str(" GROUP BY org_unit, period, household_class");
        let mut query = sqlx::query(&sql);
        for period in periods {
            query = query.bind(period.as_str());
        }
        for unit in units.unwrap_or_default() {
            query = query.bind(unit.as_str());
        }
        let rows = query
            .fetch_all(&self.pool)
            .await
            .map_err(ApiError::database)?;
        rows.iter()
            .map(|row| {
                let corrupt = |e: sqlx::Error| ApiError::corrupt("household counts", e);
                Ok((
                    row.try_get("org_unit").map_err(corrupt)?,
                    row.try_get("period").map_err(corrupt)?,
                    row.try_get::<Option<String>, _>("household_class")
                        .map_err(corrupt)?
                        .unwrap_or_else(|| super::UNREADABLE.to_string()),
                    row.try_get::<i64, _>("n").map_err(corrupt)? as u64,
                ))
            })
            .collect()
    }

    /// Stores the class of every live household written before the column existed (at start; a
    /// no-op once done). Returns how many were filled in.
    pub async fn backfill_household_classes(&self) -> Result<u64, ApiError> {
        let db = ApiError::database;
        let mut filled = 0;
        loop {
            let rows = sqlx::query(&format!(
                "SELECT {} FROM records
                 WHERE data_set = 'household' AND deleted = 0 AND household_class IS NULL LIMIT 1000",
                super::RECORD_COLUMNS
            ))
            .fetch_all(&self.pool)
            .await
            .map_err(db)?;
            if rows.is_empty() {
                return Ok(filled);
            }
            let mut tx = self.pool.begin().await.map_err(db)?;
            for row in &rows {
                let record = stored_from_row(row)?.record;
                sqlx::query("UPDATE records SET household_class = $1 WHERE id = $2")
                    .bind(household_class(&record))
                    .bind(record.id.to_string())
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
                filled += 1;
            }
            tx.commit().await.map_err(db)?;
        }
    }

    /// Every submission of `periods`.
    pub async fn submissions_of_periods(
        &self,
        periods: &[&Period],
    ) -> Result<Vec<Submission>, ApiError> {
        if periods.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {SUBMISSION_COLUMNS} FROM submissions WHERE period IN ({})",
            placeholders(1, periods.len())
        );
        let mut query = sqlx::query(&sql);
        for period in periods {
            query = query.bind(period.as_str());
        }
        let rows = query
            .fetch_all(&self.pool)
            .await
            .map_err(ApiError::database)?;
        rows.iter().map(submission_from_row).collect()
    }

    /// Notes a push from `device` by `user_id` (scoped to `org_unit`) at `now`: one upsert.
    pub async fn note_push(
        &self,
        device: DeviceId,
        user_id: &str,
        org_unit: &UnitCode,
        session_hash: &str,
        now: i64,
    ) -> Result<(), ApiError> {
        note_push_query(device, user_id, org_unit, session_hash, now)
            .execute(&self.pool)
            .await
            .map_err(ApiError::database)?;
        Ok(())
    }

    /// Notes a pull at `now`: of `device` when the request named it (one upsert), or else of the
    /// devices that pushed with the same session (one update). A device whose row already holds a
    /// pull by the same account and session less than [`PULL_NOTE_EVERY`] seconds ago is not written
    /// again (only read): the view shows minutes and judges staleness in days, and a tablet paging
    /// through its first sync, or syncing after every save, would otherwise take the database's write
    /// lock and a write to disk for every page.
    pub async fn note_pull(
        &self,
        device: Option<DeviceId>,
        user_id: &str,
        org_unit: &UnitCode,
        session_hash: &str,
        now: i64,
    ) -> Result<(), ApiError> {
        let recent = now - PULL_NOTE_EVERY;
        let query = match device {
            Some(device) => {
                let noted: Option<i64> = sqlx::query_scalar(
                    "SELECT last_pull_at FROM devices
                     WHERE device_id = $1 AND user_id = $2 AND org_unit = $3 AND session_hash = $4
                       AND last_pull_at > $5 AND last_pull_at <= $6",
                )
                .bind(device.to_string())
                .bind(user_id)
                .bind(org_unit.as_str())
                .bind(session_hash)
                .bind(recent)
                .bind(now)
                .fetch_optional(&self.pool)
                .await
                .map_err(ApiError::database)?;
                if noted.is_some() {
                    return Ok(());
                }
                sqlx::query(
                    "INSERT INTO devices (device_id, user_id, org_unit, session_hash, last_push_at, last_pull_at)
                     VALUES ($1, $2, $3, $4, NULL, $5)
                     ON CONFLICT (device_id) DO UPDATE SET user_id = excluded.user_id,
                       org_unit = excluded.org_unit, session_hash = excluded.session_hash,
                       last_pull_at = excluded.last_pull_at",
                )
                .bind(device.to_string())
                .bind(user_id)
                .bind(org_unit.as_str())
                .bind(session_hash)
                .bind(now)
            }
            None => sqlx::query(
                "UPDATE devices SET last_pull_at = $1
                 WHERE session_hash = $2
                   AND (last_pull_at IS NULL OR last_pull_at <= $3 OR last_pull_at > $1)",
            )
            .bind(now)
            .bind(session_hash)
            .bind(recent),
        };
        query
            .execute(&self.pool)
            .await
            .map_err(ApiError::database)?;
        Ok(())
    }

    /// The devices last used for `units`, with their user's name; latest sync first.
    pub async fn devices_of(&self, units: &[String]) -> Result<Vec<DeviceRow>, ApiError> {
        if units.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT d.device_id, d.user_id, u.username, u.display_name, d.org_unit,
                    d.last_push_at, d.last_pull_at
             FROM devices d JOIN users u ON u.id = d.user_id
             WHERE d.org_unit IN ({}) ORDER BY d.device_id",
            placeholders(1, units.len())
        );
        let mut query = sqlx::query(&sql);
        for unit in units {
            query = query.bind(unit.as_str());
        }
        let rows = query
            .fetch_all(&self.pool)
            .await
            .map_err(ApiError::database)?;
        let mut devices = rows
            .iter()
            .map(|row| {
                let corrupt = |e: sqlx::Error| ApiError::corrupt("devices row", e);
                Ok(DeviceRow {
                    device: row.try_get("device_id").map_err(corrupt)?,
                    user_id: row.try_get("user_id").map_err(corrupt)?,
                    username: row.try_get("username").map_err(corrupt)?,
                    display_name: row.try_get("display_name").map_err(corrupt)?,
                    org_unit: row.try_get("org_unit").map_err(corrupt)?,
                    last_push_at: row.try_get("last_push_at").map_err(corrupt)?,
                    last_pull_at: row.try_get("last_pull_at").map_err(corrupt)?,
                })
            })
            .collect::<Result<Vec<_>, ApiError>>()?;
        devices.sort_by_key(|d| std::cmp::Reverse(d.last_sync_at()));
        Ok(devices)
    }
}

/// The upsert that notes a device's push at `now` (one row per device): a push writes it in its
/// batch's transaction ([`super::BatchWrite::note_push`]).
pub(super) fn note_push_query<'q>(
    device: DeviceId,
    user_id: &'q str,
    org_unit: &'q UnitCode,
    session_hash: &'q str,
    now: i64,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    sqlx::query(
        "INSERT INTO devices (device_id, user_id, org_unit, session_hash, last_push_at, last_pull_at)
         VALUES ($1, $2, $3, $4, $5, NULL)
         ON CONFLICT (device_id) DO UPDATE SET user_id = excluded.user_id,
           org_unit = excluded.org_unit, session_hash = excluded.session_hash,
           last_push_at = excluded.last_push_at",
    )
    .bind(device.to_string())
    .bind(user_id)
    .bind(org_unit.as_str())
    .bind(session_hash)
    .bind(now)
}
