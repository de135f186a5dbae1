//! The database: SQLite or PostgreSQL behind one `sqlx::AnyPool`, with the same SQL on both (`$n`
//! placeholders, `ON CONFLICT … DO UPDATE`, text JSON columns). The only dialect difference in the
//! queries is how a writer locks a counter (the revision, the reference data's version) or an
//! upload it appends to (`store/evidence.rs`); the schemas live in `migrations/sqlite` and
//! `migrations/postgres`.

use std::collections::HashMap;
use std::path::Path;

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};
use thidua_domain::merge::{self, StoredRecord};
use thidua_domain::org::{OrgCatalog, UnitCode, UnitList};
use thidua_domain::protocol::{DeviceId, Mutation, MutationResult, Outcome, Record, RecordId};
use thidua_domain::FieldError;

use crate::auth::{Role, User};
use crate::config::Database;
use crate::error::ApiError;
use crate::submissions::{NewSubmission, Note, Submission, SubmissionId, SubmissionState};

mod dashboard;
mod evidence;
pub use dashboard::DeviceRow;
pub use evidence::{Appended, StoredEvidence};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

/// Why the server could not start; said in both languages, since a person reads it in a terminal.
#[derive(Debug)]
pub struct StartError(pub String);

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StartError {}

const RECORD_COLUMNS: &str =
    "id, data_set, org_unit, period, fields, stamps, conflicts, deleted, revision";

impl Store {
    /// Connects (creating the SQLite file and its folder when missing), migrates, and seeds the units.
    pub async fn open(database: &Database, catalog: &OrgCatalog) -> Result<Store, StartError> {
        sqlx::any::install_default_drivers();
        let (url, backend) = match database {
            Database::Sqlite(path) => (sqlite_url(path)?, Backend::Sqlite),
            Database::Postgres(url) => (url.clone(), Backend::Postgres),
        };
        let pool = AnyPoolOptions::new()
            .max_connections(8)
            .connect(&url)
            .await
            .map_err(|e| {
                StartError(format!(
                    "Không kết nối được cơ sở dữ liệu {} / cannot connect to the database: {e}",
                    database.describe()
                ))
            })?;
        if backend == Backend::Sqlite {
            // WAL lets pulls read while a push writes; the mode is stored in the file itself.
            let mode: String = sqlx::query_scalar("PRAGMA journal_mode = WAL")
                .fetch_one(&pool)
                .await
                .map_err(|e| StartError(format!("PRAGMA journal_mode: {e}")))?;
            if !mode.eq_ignore_ascii_case("wal") {
                return Err(StartError(format!(
                    "SQLite không bật được chế độ WAL (đang là {mode}) / SQLite refused WAL mode ({mode})"
                )));
            }
        }
        let migrated = match backend {
            Backend::Sqlite => sqlx::migrate!("./migrations/sqlite").run(&pool).await,
            Backend::Postgres => sqlx::migrate!("./migrations/postgres").run(&pool).await,
        };
        migrated.map_err(|e| {
            StartError(format!(
                "Không cập nhật được cấu trúc cơ sở dữ liệu / migration failed: {e}"
            ))
        })?;
        let store = Store { pool, backend };
        store.backfill_household_classes().await.map_err(|e| {
            StartError(format!(
                "Không ghi được phân loại hộ / storing household classes: {}",
                e.message_en
            ))
        })?;
        store.seed_org_units(catalog).await.map_err(|e| {
            StartError(format!(
                "Không ghi được danh mục đơn vị / seeding org units: {e}"
            ))
        })?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Upserts every unit of every carried list: running it at each start keeps the table equal to the
    /// catalog the server was built with, and a second start changes nothing.
    /// (Uploaded lists are seeded when they are stored, by [`Store::insert_unit_list`].)
    async fn seed_org_units(&self, catalog: &OrgCatalog) -> Result<(), sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        for list in catalog.lists() {
            write_units(&mut tx, list).await?;
        }
        tx.commit().await
    }

    pub async fn ping(&self) -> Result<(), ApiError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(ApiError::database)
    }

    /// The last revision handed out (0 on a fresh database).
    pub async fn latest_revision(&self) -> Result<u64, ApiError> {
        let value: i64 =
            sqlx::query_scalar("SELECT value FROM server_sequence WHERE name = 'revision'")
                .fetch_one(&self.pool)
                .await
                .map_err(ApiError::database)?;
        Ok(value as u64)
    }

    /// Applies one mutation in a transaction of its own ([`BatchWrite`] with one mutation): the demo
    /// and the first run's seeds write this way.
    pub async fn apply_mutation(
        &self,
        mutation: &Mutation,
        check: impl FnOnce(&Mutation) -> Vec<FieldError>,
    ) -> Result<MutationResult, ApiError> {
        let mut batch = self.begin_batch().await?;
        let result = batch.apply(mutation, check).await?;
        batch.commit().await?;
        Ok(result)
    }

    /// Starts a push batch: one transaction, holding the revision counter from now to its commit
    /// ([`Store::begin_ordered`]). The caller serialises pushes within this process; across
    /// processes, SQLite's write lock or PostgreSQL's row lock on the counter does.
    pub async fn begin_batch(&self) -> Result<BatchWrite, ApiError> {
        let (tx, last) = self.begin_ordered().await?;
        Ok(BatchWrite {
            tx,
            last,
            moved: false,
            locks: HashMap::new(),
            records: HashMap::new(),
            answers: HashMap::new(),
            dirty: Vec::new(),
            new_answers: Vec::new(),
        })
    }

    /// Starts a writing transaction: SQLite's `BEGIN IMMEDIATE` (the write lock now, waiting up to
    /// the busy timeout), PostgreSQL's `BEGIN`. In a task of its own, so that it cannot be cancelled
    /// halfway: a request whose client went away is dropped at its next `.await`, and were that
    /// inside the BEGIN, after the database began the transaction but before sqlx handed it over,
    /// the pooled connection would keep the transaction open, on SQLite with the write lock, and
    /// every later write through it would fail (the load benchmark met it: with 2,000 devices whose
    /// requests timed out, pushes were answered 503 "begin_with at non-zero transaction depth").
    /// Begun in its own task, the transaction always reaches a `Transaction`, which rolls back when
    /// dropped.
    pub(crate) async fn begin_write(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>, ApiError> {
        let (pool, backend) = (self.pool.clone(), self.backend);
        let began = tokio::spawn(async move {
            match backend {
                Backend::Sqlite => pool.begin_with("BEGIN IMMEDIATE").await,
                Backend::Postgres => pool.begin().await,
            }
        })
        .await;
        match began {
            Ok(began) => began.map_err(ApiError::database),
            Err(failed) if failed.is_panic() => std::panic::resume_unwind(failed.into_panic()),
            // the runtime is shutting down
            Err(_) => Err(ApiError::database(sqlx::Error::PoolClosed)),
        }
    }

    /// A transaction that holds the revision counter (returned with it) until it ends: writers of
    /// records, and the decisions that lock and unlock them, queue here before reading anything, so
    /// each merge sees the latest committed record and the latest decision, and revisions commit in
    /// increasing order (a pull never skips one).
    async fn begin_ordered(
        &self,
    ) -> Result<(sqlx::Transaction<'static, sqlx::Any>, i64), ApiError> {
        let db = ApiError::database;
        // IMMEDIATE takes SQLite's write lock now (waiting up to the busy timeout); a deferred
        // transaction that read first could fail at its first write if another process wrote.
        let mut tx = self.begin_write().await?;
        let lock_counter = match self.backend {
            Backend::Sqlite => "SELECT value FROM server_sequence WHERE name = 'revision'",
            Backend::Postgres => {
                "SELECT value FROM server_sequence WHERE name = 'revision' FOR UPDATE"
            }
        };
        let last: i64 = sqlx::query_scalar(lock_counter)
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
        Ok((tx, last))
    }

    /// The record of `id` as stored (deleted or not), if the server has it.
    pub async fn record(&self, id: RecordId) -> Result<Option<Record>, ApiError> {
        let row = sqlx::query(&format!(
            "SELECT {RECORD_COLUMNS} FROM records WHERE id = $1"
        ))
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(ApiError::database)?;
        row.as_ref()
            .map(|row| stored_from_row(row).map(|s| s.record))
            .transpose()
    }

    /// Records with a revision above `after`, in revision order, at most `limit` of them; only those
    /// of `units` when given.
    pub async fn records_after(
        &self,
        after: u64,
        limit: u32,
        units: Option<&[String]>,
    ) -> Result<Vec<Record>, ApiError> {
        let mut sql = format!("SELECT {RECORD_COLUMNS} FROM records WHERE revision > $1");
        let mut next_param = 2;
        if let Some(units) = units {
            let placeholders: Vec<String> = (0..units.len())
                .map(|i| format!("${}", next_param + i))
                .collect();
            sql.push_str(&format!(" AND org_unit IN ({})", placeholders.join(", ")));
            next_param += units.len();
        }
        sql.push_str(&format!(" ORDER BY revision LIMIT ${next_param}"));

        let mut query = sqlx::query(&sql).bind(after as i64);
        for unit in units.unwrap_or_default() {
            query = query.bind(unit.as_str());
        }
        let rows = query
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(ApiError::database)?;
        rows.iter()
            .map(|row| stored_from_row(row).map(|s| s.record))
            .collect()
    }
}

/// A push batch being written ([`Store::begin_batch`]): every mutation of the batch, its answers and
/// the device's last push go into one transaction, committed together by [`BatchWrite::commit`] (one
/// write to disk per push, not one per mutation); dropped, nothing of it is kept, and the device
/// sends the batch again (each mutation id is still applied at most once).
///
/// The batch reads what it needs in a few statements ([`BatchWrite::prefetch`]: the earlier answers
/// and the stored records of all its mutations at once), merges in memory, each mutation seeing the
/// ones before it, and writes the records and answers at the commit, a few rows per statement.
pub struct BatchWrite {
    tx: sqlx::Transaction<'static, sqlx::Any>,
    /// The last revision handed out, this batch's included.
    last: i64,
    /// Whether this batch handed out a revision (the counter is written once, at the commit).
    moved: bool,
    /// Whether a (unit, period, data set) belongs to an accepted report, as read in this transaction:
    /// a decision queues on the counter this transaction holds, so the answer cannot change before
    /// the commit.
    locks: HashMap<(String, String, String), bool>,
    /// Records by id as this transaction sees them (None: not stored), once read or written.
    records: HashMap<String, Option<StoredRecord>>,
    /// The stored answer of each mutation id read or given so far (None: never seen).
    answers: HashMap<String, Option<String>>,
    /// Records written by this batch, in order, each once (its latest version is in `records`).
    dirty: Vec<String>,
    /// Answers given by this batch: (mutation id, record id, answer).
    new_answers: Vec<(String, String, String)>,
}

/// Rows per multi-row INSERT: well under SQLite's and PostgreSQL's limits on bound values, and small
/// enough that binding stays cheap (SQLite finds each `$n` by a scan of the statement's parameters).
const ROWS_PER_INSERT: usize = 20;

impl BatchWrite {
    /// Reads, in a few statements, the earlier answers of `mutations` and the stored records they
    /// write, plus the records of `also` (a commendation's example), so that applying them reads
    /// nothing more. Optional: [`BatchWrite::apply`] reads what was not prefetched.
    pub async fn prefetch<'m>(
        &mut self,
        mutations: impl Iterator<Item = &'m Mutation> + Clone,
        also: &[RecordId],
    ) -> Result<(), ApiError> {
        let ids: Vec<String> = mutations.clone().map(|m| m.id.to_string()).collect();
        self.load_answers(&ids).await?;
        let records: Vec<String> = mutations
            .map(|m| m.record.id)
            .chain(also.iter().copied())
            .map(|id| id.to_string())
            .collect();
        self.load_records(&records).await
    }

    /// Reads the answers of the ids not read yet.
    async fn load_answers(&mut self, ids: &[String]) -> Result<(), ApiError> {
        let missing = unique_missing(ids, &self.answers);
        for chunk in missing.chunks(ROWS_PER_INSERT * 4) {
            let sql = format!(
                "SELECT mutation_id, response FROM applied_mutations WHERE mutation_id IN ({})",
                dashboard::placeholders(1, chunk.len())
            );
            let mut query = sqlx::query(&sql);
            for id in chunk {
                query = query.bind(id.as_str());
            }
            let rows = query
                .fetch_all(&mut *self.tx)
                .await
                .map_err(ApiError::database)?;
            for id in chunk {
                self.answers.insert(id.clone(), None);
            }
            for row in rows {
                let corrupt = |e: sqlx::Error| ApiError::corrupt("applied_mutations row", e);
                let id: String = row.try_get("mutation_id").map_err(corrupt)?;
                let response: String = row.try_get("response").map_err(corrupt)?;
                self.answers.insert(id, Some(response));
            }
        }
        Ok(())
    }

    /// Reads the records of the ids not read yet.
    async fn load_records(&mut self, ids: &[String]) -> Result<(), ApiError> {
        let missing = unique_missing(ids, &self.records);
        for chunk in missing.chunks(ROWS_PER_INSERT * 4) {
            let sql = format!(
                "SELECT {RECORD_COLUMNS} FROM records WHERE id IN ({})",
                dashboard::placeholders(1, chunk.len())
            );
            let mut query = sqlx::query(&sql);
            for id in chunk {
                query = query.bind(id.as_str());
            }
            let rows = query
                .fetch_all(&mut *self.tx)
                .await
                .map_err(ApiError::database)?;
            for id in chunk {
                self.records.insert(id.clone(), None);
            }
            for row in &rows {
                let stored = stored_from_row(row)?;
                self.records
                    .insert(stored.record.id.to_string(), Some(stored));
            }
        }
        Ok(())
    }

    /// The record of `id` as stored (deleted or not), with this batch's own writes.
    pub async fn record(&mut self, id: RecordId) -> Result<Option<Record>, ApiError> {
        let key = id.to_string();
        self.load_records(std::slice::from_ref(&key)).await?;
        Ok(self
            .records
            .get(&key)
            .cloned()
            .flatten()
            .map(|stored| stored.record))
    }

    /// Applies one mutation of the batch: the stored answer for a mutation seen before (in an
    /// earlier push or earlier in this one); otherwise `check`'s errors as a rejection, or the merge
    /// against the record as this transaction has it. Mutations are merged one after the other, each
    /// seeing the writes of those before it; nothing is written before [`BatchWrite::commit`].
    pub async fn apply(
        &mut self,
        mutation: &Mutation,
        check: impl FnOnce(&Mutation) -> Vec<FieldError>,
    ) -> Result<MutationResult, ApiError> {
        let mutation_id = mutation.id.to_string();
        let record_id = mutation.record.id.to_string();
        self.load_answers(std::slice::from_ref(&mutation_id))
            .await?;
        if let Some(Some(response)) = self.answers.get(&mutation_id) {
            return serde_json::from_str(response)
                .map_err(|e| ApiError::corrupt("applied_mutations.response", e));
        }

        let errors = check(mutation);
        let result = if !errors.is_empty() {
            MutationResult {
                mutation: mutation.id,
                outcome: Outcome::Rejected { errors },
                record: None,
            }
        } else {
            self.load_records(std::slice::from_ref(&record_id)).await?;
            let current = self.records.get(&record_id).cloned().flatten();
            let next = self.last as u64 + 1;
            // A report the district accepted locks its records until it is returned: read under
            // the counter's lock, which an acceptance or a return also takes, so a change is either
            // in before the decision or meets it.
            let identity = current.as_ref().map_or(&mutation.record, |c| &c.record);
            let locked = self.locked(identity).await?;
            let (stored, outcome) = if locked {
                merge::apply_locked(current.as_ref(), mutation, next)
            } else {
                merge::apply(current.as_ref(), mutation, next)
            };
            if let Some(stored) = stored.as_ref().filter(|s| s.record.revision == next) {
                // something changed: the record takes the next revision
                if !self.dirty.contains(&record_id) {
                    self.dirty.push(record_id.clone());
                }
                self.records.insert(record_id.clone(), Some(stored.clone()));
                self.last = next as i64;
                self.moved = true;
            }
            MutationResult {
                mutation: mutation.id,
                outcome,
                record: stored.map(|s| s.record),
            }
        };

        let response =
            serde_json::to_string(&result).map_err(|e| ApiError::corrupt("MutationResult", e))?;
        self.answers
            .insert(mutation_id.clone(), Some(response.clone()));
        self.new_answers.push((mutation_id, record_id, response));
        Ok(result)
    }

    /// Whether `record`'s unit, period and data set belong to a report the district accepted.
    async fn locked(&mut self, record: &Record) -> Result<bool, ApiError> {
        let key = (
            record.org_unit.as_str().to_string(),
            record.period.as_str().to_string(),
            serde_name(&record.data_set),
        );
        if let Some(&locked) = self.locks.get(&key) {
            return Ok(locked);
        }
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM submissions
             WHERE org_unit = $1 AND period = $2 AND data_set = $3 AND state = $4",
        )
        .bind(key.0.as_str())
        .bind(key.1.as_str())
        .bind(key.2.as_str())
        .bind(SubmissionState::Accepted.as_str())
        .fetch_one(&mut *self.tx)
        .await
        .map_err(ApiError::database)?;
        self.locks.insert(key, count > 0);
        Ok(count > 0)
    }

    /// Notes the pushing device's last push with the batch (the completeness view reads it).
    pub async fn note_push(
        &mut self,
        device: DeviceId,
        user_id: &str,
        org_unit: &UnitCode,
        session_hash: &str,
        now: i64,
    ) -> Result<(), ApiError> {
        dashboard::note_push_query(device, user_id, org_unit, session_hash, now)
            .execute(&mut *self.tx)
            .await
            .map_err(ApiError::database)?;
        Ok(())
    }

    /// Keeps the batch: the records, the answers, the revision counter and the devices' notes, in one
    /// commit. Only then may the answers be sent.
    pub async fn commit(mut self) -> Result<Committed, ApiError> {
        let db = ApiError::database;
        let started = std::time::Instant::now();
        let dirty = std::mem::take(&mut self.dirty);
        let written: Vec<&StoredRecord> = dirty
            .iter()
            .filter_map(|id| self.records.get(id).and_then(Option::as_ref))
            .collect();
        for chunk in written.chunks(ROWS_PER_INSERT) {
            write_records(&mut self.tx, chunk).await?;
        }
        let answers = std::mem::take(&mut self.new_answers);
        for chunk in answers.chunks(ROWS_PER_INSERT * 2) {
            let rows: Vec<String> = (0..chunk.len())
                .map(|i| format!("({})", dashboard::placeholders(3 * i + 1, 3)))
                .collect();
            let sql = format!(
                "INSERT INTO applied_mutations (mutation_id, record_id, response) VALUES {}",
                rows.join(", ")
            );
            let mut query = sqlx::query(&sql);
            for (mutation, record, response) in chunk {
                query = query
                    .bind(mutation.as_str())
                    .bind(record.as_str())
                    .bind(response.as_str());
            }
            query.execute(&mut *self.tx).await.map_err(db)?;
        }
        if self.moved {
            sqlx::query("UPDATE server_sequence SET value = $1 WHERE name = 'revision'")
                .bind(self.last)
                .execute(&mut *self.tx)
                .await
                .map_err(db)?;
        }
        let written = started.elapsed();
        self.tx.commit().await.map_err(db)?;
        Ok(Committed {
            write: written,
            commit: started.elapsed() - written,
        })
    }
}

/// How long a batch's commit took: writing its rows, then the COMMIT itself (to disk).
#[derive(Debug, Clone, Copy)]
pub struct Committed {
    pub write: std::time::Duration,
    pub commit: std::time::Duration,
}

/// The ids of `ids` not yet in `known`, each once.
fn unique_missing<T>(ids: &[String], known: &HashMap<String, T>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    ids.iter()
        .filter(|id| !known.contains_key(*id) && seen.insert(id.as_str()))
        .cloned()
        .collect()
}

/// An account as the `users` table holds it.
#[derive(Debug, Clone)]
pub struct StoredUser {
    pub user: User,
    pub password_hash: String,
    pub active: bool,
    /// Unix seconds.
    pub created_at: i64,
}

const USER_COLUMNS: &str =
    "u.id, u.username, u.display_name, u.role, u.org_unit, u.password_hash, u.active, u.created_at";

fn user_from_row(row: &AnyRow) -> Result<StoredUser, ApiError> {
    let corrupt = |e: &dyn std::fmt::Display| ApiError::corrupt("users row", e);
    let text = |name: &str| row.try_get::<String, _>(name).map_err(|e| corrupt(&e));
    let role = text("role")?;
    let user = User {
        id: text("id")?,
        username: text("username")?,
        display_name: text("display_name")?,
        role: Role::parse(&role).ok_or_else(|| corrupt(&format!("unknown role {role}")))?,
        org_unit: UnitCode::parse(&text("org_unit")?).map_err(|e| corrupt(&e))?,
    };
    Ok(StoredUser {
        user,
        password_hash: text("password_hash")?,
        active: row.try_get::<i64, _>("active").map_err(|e| corrupt(&e))? != 0,
        created_at: row
            .try_get::<i64, _>("created_at")
            .map_err(|e| corrupt(&e))?,
    })
}

/// Accounts and sessions. Usernames arrive already checked and lower-cased ([`crate::auth::Username`]).
impl Store {
    /// Adds an account; a taken username is a 409 the administrator can act on.
    pub async fn insert_user(&self, user: &StoredUser) -> Result<(), ApiError> {
        let result = sqlx::query(
            "INSERT INTO users (id, username, display_name, role, org_unit, password_hash, active, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(user.user.id.as_str())
        .bind(user.user.username.as_str())
        .bind(user.user.display_name.as_str())
        .bind(user.user.role.as_str())
        .bind(user.user.org_unit.as_str())
        .bind(user.password_hash.as_str())
        .bind(i16::from(user.active))
        .bind(user.created_at)
        .execute(&self.pool)
        .await;
        match result {
            Ok(_) => Ok(()),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                Err(username_taken(&user.user.username))
            }
            Err(e) => Err(ApiError::database(e)),
        }
    }

    pub async fn user_by_username(&self, username: &str) -> Result<Option<StoredUser>, ApiError> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users u WHERE u.username = $1"
        ))
        .bind(username)
        .fetch_optional(&self.pool)
        .await
        .map_err(ApiError::database)?;
        row.as_ref().map(user_from_row).transpose()
    }

    pub async fn user_by_id(&self, id: &str) -> Result<Option<StoredUser>, ApiError> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(ApiError::database)?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// Every account, by username.
    pub async fn users(&self) -> Result<Vec<StoredUser>, ApiError> {
        let rows = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users u ORDER BY u.username"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(ApiError::database)?;
        rows.iter().map(user_from_row).collect()
    }

    pub async fn user_count(&self) -> Result<u64, ApiError> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&self.pool)
            .await
            .map_err(ApiError::database)?;
        Ok(count as u64)
    }

    /// Makes an existing account an active province administrator with a new password (create-admin
    /// on a username that exists: the way back in after the last administrator forgot the password).
    pub async fn make_admin(
        &self,
        id: &str,
        province: &UnitCode,
        password_hash: &str,
    ) -> Result<(), ApiError> {
        sqlx::query(
            "UPDATE users SET role = $1, org_unit = $2, password_hash = $3, active = 1 WHERE id = $4",
        )
        .bind(Role::ProvinceAdmin.as_str())
        .bind(province.as_str())
        .bind(password_hash)
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(ApiError::database)?;
        Ok(())
    }

    /// True when the account exists.
    pub async fn set_user_active(&self, id: &str, active: bool) -> Result<bool, ApiError> {
        let done = sqlx::query("UPDATE users SET active = $1 WHERE id = $2")
            .bind(i16::from(active))
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(ApiError::database)?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn insert_session(
        &self,
        token_hash: &str,
        user_id: &str,
        created_at: i64,
        expires_at: i64,
    ) -> Result<(), ApiError> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, created_at, expires_at, revoked_at)
             VALUES ($1, $2, $3, $4, NULL)",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(created_at)
        .bind(expires_at)
        .execute(&self.pool)
        .await
        .map_err(ApiError::database)?;
        Ok(())
    }

    /// The account of a live session: not revoked, not expired at `now`, and the account active.
    pub async fn session_user(&self, token_hash: &str, now: i64) -> Result<Option<User>, ApiError> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > $2 AND u.active = 1"
        ))
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(ApiError::database)?;
        Ok(row.as_ref().map(user_from_row).transpose()?.map(|u| u.user))
    }

    /// Ends one session (logout).
    pub async fn revoke_session(&self, token_hash: &str, now: i64) -> Result<(), ApiError> {
        sqlx::query(
            "UPDATE sessions SET revoked_at = $1 WHERE token_hash = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(token_hash)
        .execute(&self.pool)
        .await
        .map_err(ApiError::database)?;
        Ok(())
    }

    /// Ends every session of an account that was still open (a lost tablet); returns how many.
    pub async fn revoke_user_sessions(&self, user_id: &str, now: i64) -> Result<u64, ApiError> {
        let done = sqlx::query(
            "UPDATE sessions SET revoked_at = $1
             WHERE user_id = $2 AND revoked_at IS NULL AND expires_at > $1",
        )
        .bind(now)
        .bind(user_id)
        .execute(&self.pool)
        .await
        .map_err(ApiError::database)?;
        Ok(done.rows_affected())
    }

    /// Rows of each table that requests write to: what a refused request must leave unchanged.
    pub async fn row_counts(&self) -> Result<Vec<(&'static str, u64)>, ApiError> {
        let mut counts = Vec::new();
        for table in [
            "records",
            "applied_mutations",
            "users",
            "sessions",
            "server_sequence",
            "submissions",
            "unit_lists",
            "criteria_sets",
            "target_sets",
            "evidence",
            "evidence_chunks",
        ] {
            let count: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
                .fetch_one(&self.pool)
                .await
                .map_err(ApiError::database)?;
            counts.push((table, count as u64));
        }
        Ok(counts)
    }

    pub async fn record_count(&self) -> Result<u64, ApiError> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM records")
            .fetch_one(&self.pool)
            .await
            .map_err(ApiError::database)?;
        Ok(count as u64)
    }
}

const SUBMISSION_COLUMNS: &str = "id, org_unit, period, data_set, state, note, record_count, \
     submitted_by, submitted_at, decided_by, decided_at";

fn submission_from_row(row: &AnyRow) -> Result<Submission, ApiError> {
    let corrupt = |e: &dyn std::fmt::Display| ApiError::corrupt("submissions row", e);
    let text = |name: &str| row.try_get::<String, _>(name).map_err(|e| corrupt(&e));
    let state = text("state")?;
    Ok(Submission {
        id: text("id")?,
        org_unit: from_value(text("org_unit")?.into())?,
        period: from_value(text("period")?.into())?,
        data_set: from_value(text("data_set")?.into())?,
        state: SubmissionState::parse(&state)
            .ok_or_else(|| corrupt(&format!("unknown state {state}")))?,
        note: row
            .try_get::<Option<String>, _>("note")
            .map_err(|e| corrupt(&e))?,
        record_count: row
            .try_get::<i64, _>("record_count")
            .map_err(|e| corrupt(&e))? as u64,
        submitted_by: text("submitted_by")?,
        submitted_at: row
            .try_get::<i64, _>("submitted_at")
            .map_err(|e| corrupt(&e))?,
        decided_by: row
            .try_get::<Option<String>, _>("decided_by")
            .map_err(|e| corrupt(&e))?,
        decided_at: row
            .try_get::<Option<i64>, _>("decided_at")
            .map_err(|e| corrupt(&e))?,
    })
}

/// What [`Store::open_submission`] found.
#[derive(Debug)]
pub enum Opened {
    /// A new row, or a returned one submitted again.
    Opened(Submission),
    /// The report is already submitted or accepted: nothing was written.
    Exists(Submission),
}

/// Submissions. Every change is a single statement that checks the state it starts from
/// (`… WHERE state = 'returned'`), so two reviewers, or a reviewer and a resubmitting commune, cannot
/// both win, on SQLite and PostgreSQL alike, without holding a lock across statements.
impl Store {
    /// Records of the commune, period and data set that are not deleted.
    pub async fn live_record_count(
        &self,
        org_unit: &UnitCode,
        period: &thidua_domain::protocol::Period,
        data_set: thidua_domain::protocol::DataSet,
    ) -> Result<u64, ApiError> {
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM records
             WHERE org_unit = $1 AND period = $2 AND data_set = $3 AND deleted = 0",
        )
        .bind(org_unit.as_str())
        .bind(period.as_str())
        .bind(serde_name(&data_set))
        .fetch_one(&self.pool)
        .await
        .map_err(ApiError::database)?;
        Ok(count as u64)
    }

    /// Submits the report: a new row (with `id`), or the returned row of the same commune, period and
    /// data set re-opened with the decision cleared. Anything else is left as it is and answered as
    /// [`Opened::Exists`].
    pub async fn open_submission(
        &self,
        id: SubmissionId,
        new: &NewSubmission,
        record_count: u64,
        by: &str,
        at: i64,
    ) -> Result<Opened, ApiError> {
        let db = ApiError::database;
        let data_set = serde_name(&new.data_set);
        let existing = self.submission_by_key(new).await?;
        let written = match &existing {
            None => {
                let inserted = sqlx::query(&format!(
                    "INSERT INTO submissions ({SUBMISSION_COLUMNS})
                     VALUES ($1, $2, $3, $4, $5, NULL, $6, $7, $8, NULL, NULL)"
                ))
                .bind(id.as_text())
                .bind(new.org_unit.as_str())
                .bind(new.period.as_str())
                .bind(data_set.as_str())
                .bind(SubmissionState::Submitted.as_str())
                .bind(record_count as i64)
                .bind(by)
                .bind(at)
                .execute(&self.pool)
                .await;
                match inserted {
                    Ok(_) => true,
                    // the same report submitted at the same moment from another device: it won
                    Err(sqlx::Error::Database(e)) if e.is_unique_violation() => false,
                    Err(e) => return Err(db(e)),
                }
            }
            Some(current) if current.state == SubmissionState::Returned => {
                let reopened = sqlx::query(
                    "UPDATE submissions SET state = $1, note = NULL, record_count = $2,
                       submitted_by = $3, submitted_at = $4, decided_by = NULL, decided_at = NULL
                     WHERE id = $5 AND state = $6",
                )
                .bind(SubmissionState::Submitted.as_str())
                .bind(record_count as i64)
                .bind(by)
                .bind(at)
                .bind(current.id.as_str())
                .bind(SubmissionState::Returned.as_str())
                .execute(&self.pool)
                .await
                .map_err(db)?;
                reopened.rows_affected() == 1
            }
            Some(current) => return Ok(Opened::Exists(current.clone())),
        };
        let now = self
            .submission_by_key(new)
            .await?
            .ok_or_else(|| ApiError::corrupt("submissions", "a submission cannot be read back"))?;
        Ok(if written {
            Opened::Opened(now)
        } else {
            Opened::Exists(now)
        })
    }

    async fn submission_by_key(&self, key: &NewSubmission) -> Result<Option<Submission>, ApiError> {
        let row = sqlx::query(&format!(
            "SELECT {SUBMISSION_COLUMNS} FROM submissions
             WHERE org_unit = $1 AND period = $2 AND data_set = $3"
        ))
        .bind(key.org_unit.as_str())
        .bind(key.period.as_str())
        .bind(serde_name(&key.data_set))
        .fetch_optional(&self.pool)
        .await
        .map_err(ApiError::database)?;
        row.as_ref().map(submission_from_row).transpose()
    }

    pub async fn submission(&self, id: SubmissionId) -> Result<Option<Submission>, ApiError> {
        let row = sqlx::query(&format!(
            "SELECT {SUBMISSION_COLUMNS} FROM submissions WHERE id = $1"
        ))
        .bind(id.as_text())
        .fetch_optional(&self.pool)
        .await
        .map_err(ApiError::database)?;
        row.as_ref().map(submission_from_row).transpose()
    }

    /// Submissions of `communes` (of `period` when given), newest submission first; of one second,
    /// the row made last first.
    pub async fn submissions_in(
        &self,
        communes: &[String],
        period: Option<&thidua_domain::protocol::Period>,
    ) -> Result<Vec<Submission>, ApiError> {
        if communes.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (1..=communes.len()).map(|i| format!("${i}")).collect();
        let mut sql = format!(
            "SELECT {SUBMISSION_COLUMNS} FROM submissions WHERE org_unit IN ({})",
            placeholders.join(", ")
        );
        if period.is_some() {
            sql.push_str(&format!(" AND period = ${}", communes.len() + 1));
        }
        sql.push_str(" ORDER BY submitted_at DESC, id DESC");
        let mut query = sqlx::query(&sql);
        for commune in communes {
            query = query.bind(commune.as_str());
        }
        if let Some(period) = period {
            query = query.bind(period.as_str());
        }
        let rows = query
            .fetch_all(&self.pool)
            .await
            .map_err(ApiError::database)?;
        rows.iter().map(submission_from_row).collect()
    }

    /// Accepts a submission waiting for review, or returns one waiting or accepted (which unlocks
    /// its records); `None` when it is in no state it can move from, or does not exist. Taken under
    /// the revision counter's lock, as record writes are, so no push straddles the decision.
    pub async fn decide_submission(
        &self,
        id: SubmissionId,
        to: SubmissionState,
        note: Option<&Note>,
        by: &str,
        at: i64,
    ) -> Result<Option<Submission>, ApiError> {
        let db = ApiError::database;
        let from = match to {
            SubmissionState::Returned => SubmissionState::Accepted,
            _ => SubmissionState::Submitted,
        };
        let (mut tx, _) = self.begin_ordered().await?;
        let done = sqlx::query(
            "UPDATE submissions SET state = $1, note = $2, decided_by = $3, decided_at = $4
             WHERE id = $5 AND (state = $6 OR state = $7)",
        )
        .bind(to.as_str())
        .bind(note.map(|n| n.as_str().to_string()))
        .bind(by)
        .bind(at)
        .bind(id.as_text())
        .bind(SubmissionState::Submitted.as_str())
        .bind(from.as_str())
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)?;
        if done.rows_affected() == 0 {
            return Ok(None);
        }
        self.submission(id).await
    }
}

/// A unit list, criteria set or target set as its table holds it: the text the province sent (a
/// list) or the set the server understood (JSON), who stored it and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDocument {
    pub id: String,
    pub body: String,
    /// A user id.
    pub by: String,
    /// Unix seconds.
    pub at: i64,
}

/// The tables of sets that are replaced whole: same columns, same queries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetTable {
    CriteriaSets,
    TargetSets,
}

impl SetTable {
    fn name(self) -> &'static str {
        match self {
            SetTable::CriteriaSets => "criteria_sets",
            SetTable::TargetSets => "target_sets",
        }
    }
}

fn document_from_row(row: &AnyRow, what: &str) -> Result<StoredDocument, ApiError> {
    let corrupt = |e: sqlx::Error| ApiError::corrupt(what, e);
    Ok(StoredDocument {
        id: row.try_get("id").map_err(corrupt)?,
        body: row.try_get("body").map_err(corrupt)?,
        by: row.try_get("stored_by").map_err(corrupt)?,
        at: row.try_get("stored_at").map_err(corrupt)?,
    })
}

/// Reference data the province uploads ([`crate::reference`]). Checking is the caller's: these store
/// what was already parsed and accepted.
impl Store {
    /// Every stored unit list, by id (the caller orders them by `valid_from` after parsing).
    pub async fn unit_lists(&self) -> Result<Vec<StoredDocument>, ApiError> {
        let rows = sqlx::query(
            "SELECT id, text AS body, uploaded_by AS stored_by, uploaded_at AS stored_at
             FROM unit_lists ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(ApiError::database)?;
        rows.iter()
            .map(|row| document_from_row(row, "unit_lists row"))
            .collect()
    }

    /// Every stored set of `table`, by id.
    pub async fn sets(&self, table: SetTable) -> Result<Vec<StoredDocument>, ApiError> {
        let rows = sqlx::query(&format!(
            "SELECT id, json AS body, updated_by AS stored_by, updated_at AS stored_at FROM {} ORDER BY id",
            table.name()
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(ApiError::database)?;
        rows.iter()
            .map(|row| document_from_row(row, table.name()))
            .collect()
    }

    /// The version of the reference data: one more with each change stored through
    /// [`ReferenceWrite::commit`], whichever process made it.
    pub async fn reference_version(&self) -> Result<i64, ApiError> {
        sqlx::query_scalar("SELECT value FROM server_sequence WHERE name = 'reference_data'")
            .fetch_one(&self.pool)
            .await
            .map_err(ApiError::database)
    }

    /// Starts a change of the reference data, holding the lock on its version until the change is
    /// committed or dropped (rolled back): changes from every process are made one at a time, and
    /// [`ReferenceWrite::version`] is the latest, so a change built on it overwrites nobody's.
    pub async fn begin_reference_change(&self) -> Result<ReferenceWrite, ApiError> {
        let db = ApiError::database;
        // as a push batch does (begin_ordered): SQLite's write lock now, or PostgreSQL's lock on the version row
        let mut tx = self.begin_write().await?;
        let lock_version = match self.backend {
            Backend::Sqlite => "SELECT value FROM server_sequence WHERE name = 'reference_data'",
            Backend::Postgres => {
                "SELECT value FROM server_sequence WHERE name = 'reference_data' FOR UPDATE"
            }
        };
        let version: i64 = sqlx::query_scalar(lock_version)
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
        Ok(ReferenceWrite { tx, version })
    }
}

/// A change of the reference data in progress ([`Store::begin_reference_change`]): its writes, and
/// the new version, become visible together at [`ReferenceWrite::commit`]; dropped, nothing is kept.
pub struct ReferenceWrite {
    tx: sqlx::Transaction<'static, sqlx::Any>,
    version: i64,
}

impl ReferenceWrite {
    /// The version the change starts from: the latest, for as long as the change is held.
    pub fn version(&self) -> i64 {
        self.version
    }

    /// Stores an accepted list as uploaded and seeds its units into `org_units`. `false` when a list
    /// of that id is already stored: nothing is written, and the change must be dropped.
    pub async fn insert_unit_list(
        &mut self,
        list: &UnitList,
        text: &str,
        by: &str,
        at: i64,
    ) -> Result<bool, ApiError> {
        let db = ApiError::database;
        let inserted = sqlx::query(
            "INSERT INTO unit_lists (id, text, uploaded_by, uploaded_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(list.id.as_str())
        .bind(text)
        .bind(by)
        .bind(at)
        .execute(&mut *self.tx)
        .await;
        match inserted {
            Ok(_) => {}
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => return Ok(false),
            Err(e) => return Err(db(e)),
        }
        write_units(&mut self.tx, list).await.map_err(db)?;
        Ok(true)
    }

    /// Stores a set, replacing the stored one of the same id.
    pub async fn put_set(&mut self, table: SetTable, set: &StoredDocument) -> Result<(), ApiError> {
        sqlx::query(&format!(
            "INSERT INTO {} (id, json, updated_by, updated_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (id) DO UPDATE
             SET json = excluded.json, updated_by = excluded.updated_by, updated_at = excluded.updated_at",
            table.name()
        ))
        .bind(set.id.as_str())
        .bind(set.body.as_str())
        .bind(set.by.as_str())
        .bind(set.at)
        .execute(&mut *self.tx)
        .await
        .map_err(ApiError::database)?;
        Ok(())
    }

    /// Keeps the change: the writes and the next version, in one commit. Returns that version.
    pub async fn commit(mut self) -> Result<i64, ApiError> {
        let db = ApiError::database;
        let next = self.version + 1;
        sqlx::query("UPDATE server_sequence SET value = $1 WHERE name = 'reference_data'")
            .bind(next)
            .execute(&mut *self.tx)
            .await
            .map_err(db)?;
        self.tx.commit().await.map_err(db)?;
        Ok(next)
    }
}

/// Upserts the units of one list into `org_units`.
async fn write_units(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    list: &UnitList,
) -> Result<(), sqlx::Error> {
    for unit in list.units() {
        sqlx::query(
            "INSERT INTO org_units (list_id, code, kind, name, parent) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (list_id, code) DO UPDATE
             SET kind = excluded.kind, name = excluded.name, parent = excluded.parent",
        )
        .bind(list.id.as_str())
        .bind(unit.code.as_str())
        .bind(serde_name(&unit.kind))
        .bind(unit.name.as_str())
        .bind(unit.parent.as_ref().map(|p| p.as_str().to_string()))
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

pub(crate) fn username_taken(username: &str) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::CONFLICT,
        "username_taken",
        format!("Tên đăng nhập «{username}» đã có người dùng. Hãy chọn tên khác."),
        format!("The username «{username}» is taken. Choose another one."),
    )
    .with_fields(vec![FieldError::new(
        "username",
        "taken",
        "Tên đăng nhập này đã có người dùng; hãy chọn tên khác".into(),
        "This username is taken; choose another one".into(),
    )])
}

/// Upserts `records` (each id once) in one statement.
async fn write_records(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    records: &[&StoredRecord],
) -> Result<(), ApiError> {
    let json = |what: &str, value: Result<String, serde_json::Error>| {
        value.map_err(|e| ApiError::corrupt(what, e))
    };
    let rows: Vec<String> = (0..records.len())
        .map(|i| format!("({})", dashboard::placeholders(10 * i + 1, 10)))
        .collect();
    let sql = format!(
        "INSERT INTO records (id, data_set, org_unit, period, fields, stamps, conflicts, deleted, revision,
                              household_class)
         VALUES {}
         ON CONFLICT (id) DO UPDATE SET
           fields = excluded.fields, stamps = excluded.stamps, conflicts = excluded.conflicts,
           deleted = excluded.deleted, revision = excluded.revision,
           household_class = excluded.household_class",
        rows.join(", ")
    );
    let mut query = sqlx::query(&sql);
    for stored in records {
        let record = &stored.record;
        query = query
            .bind(record.id.to_string())
            .bind(serde_name(&record.data_set))
            .bind(record.org_unit.as_str().to_string())
            .bind(record.period.as_str().to_string())
            .bind(json("fields", serde_json::to_string(&record.fields))?)
            .bind(json("stamps", serde_json::to_string(&stored.stamps))?)
            .bind(json("conflicts", serde_json::to_string(&record.conflicts))?)
            .bind(i16::from(record.deleted))
            .bind(record.revision as i64)
            .bind(household_class(record));
    }
    query.execute(&mut **tx).await.map_err(ApiError::database)?;
    Ok(())
}

/// The stored class of a live household ([`thidua_domain::poverty::classify_fields`]), `unreadable`
/// when it has none; `None` for other records and tombstones.
pub(crate) fn household_class(record: &Record) -> Option<String> {
    (record.data_set == thidua_domain::protocol::DataSet::Household && !record.deleted).then(|| {
        thidua_domain::poverty::classify_fields(&record.fields)
            .map_or_else(|| UNREADABLE.to_string(), |class| serde_name(&class))
    })
}

/// The stored class of a household whose class cannot be read.
pub(crate) const UNREADABLE: &str = "unreadable";

fn from_value<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    serde_json::from_value(value).map_err(|e| ApiError::corrupt("records row", e))
}

fn stored_from_row(row: &AnyRow) -> Result<StoredRecord, ApiError> {
    let corrupt = |e: &dyn std::fmt::Display| ApiError::corrupt("records row", e);
    let text = |name: &str| row.try_get::<String, _>(name).map_err(|e| corrupt(&e));
    let record = Record {
        id: from_value(text("id")?.into())?,
        data_set: from_value(text("data_set")?.into())?,
        org_unit: from_value(text("org_unit")?.into())?,
        period: from_value(text("period")?.into())?,
        fields: json_column(row, "fields")?,
        revision: row.try_get::<i64, _>("revision").map_err(|e| corrupt(&e))? as u64,
        deleted: row.try_get::<i64, _>("deleted").map_err(|e| corrupt(&e))? != 0,
        conflicts: json_column(row, "conflicts")?,
    };
    Ok(StoredRecord {
        record,
        stamps: json_column(row, "stamps")?,
    })
}

/// A JSON text column read straight into its type (a push reads a record per mutation: no
/// intermediate `serde_json::Value`).
fn json_column<T: serde::de::DeserializeOwned>(row: &AnyRow, name: &str) -> Result<T, ApiError> {
    let corrupt = |e: &dyn std::fmt::Display| ApiError::corrupt("records row", e);
    let text = row.try_get::<&str, _>(name).map_err(|e| corrupt(&e))?;
    serde_json::from_str(text).map_err(|e| corrupt(&e))
}

/// The name serde gives a unit enum variant ("household", "commune"): the stored form of domain enums,
/// so the database reads the same words as the protocol.
fn serde_name<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        other => unreachable!("a unit enum variant serialises as a string, got {other:?}"),
    }
}

/// `sqlite://<absolute path>?mode=rwc`, creating the folder first. The path is percent-encoded because
/// sqlx reads the file name from a URL (a folder name with a space or `?` would otherwise break it).
fn sqlite_url(path: &Path) -> Result<String, StartError> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(|e| {
        StartError(format!(
            "Không tạo được thư mục dữ liệu {} / cannot create the data folder: {e}",
            dir.display()
        ))
    })?;
    let dir = dir.canonicalize().map_err(|e| {
        StartError(format!(
            "Thư mục dữ liệu {} / data folder: {e}",
            dir.display()
        ))
    })?;
    let file = dir.join(path.file_name().unwrap_or("thidua.db".as_ref()));
    let text = file.to_str().ok_or_else(|| {
        StartError(format!(
            "Đường dẫn {} có ký tự không đọc được; hãy chọn thư mục khác / the path is not valid UTF-8",
            file.display()
        ))
    })?;
    let mut url = String::from("sqlite://");
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"/-_.~".contains(&byte) {
            url.push(byte as char);
        } else {
            url.push_str(&format!("%{byte:02X}"));
        }
    }
    url.push_str("?mode=rwc");
    Ok(url)
}

/// The absolute path of the SQLite file the server uses, for the start-up message.
pub fn sqlite_file(path: &Path) -> std::path::PathBuf {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    let dir = dir
        .and_then(|d| d.canonicalize().ok())
        .unwrap_or_else(|| dir.map(Path::to_path_buf).unwrap_or_else(|| ".".into()));
    dir.join(path.file_name().unwrap_or("thidua.db".as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_escape_odd_characters() {
        let dir = tempfile::tempdir().unwrap();
        let url = sqlite_url(&dir.path().join("thư mục?/thidua.db")).unwrap();
        assert!(url.starts_with("sqlite:///"), "{url}");
        assert!(
            url.ends_with("/th%C6%B0%20m%E1%BB%A5c%3F/thidua.db?mode=rwc"),
            "{url}"
        );
        assert!(
            dir.path().join("thư mục?").is_dir(),
            "the folder is created"
        );
    }
}
