//! The device's storage: IndexedDB, through indexed_db_futures.
//!
//! Three stores: `records` (what the officer sees, keyed by record id, indexed by commune), `outbox`
//! (at most one pending mutation per record, keyed by record id: later edits fold into it) and `meta`
//! (device id, last mutation id, pull cursor, last sync); `photos` and `photo_bytes` hold evidence
//! photos (see [`photos`]). Every save writes the record and its outbox entry in ONE
//! read-write transaction, all requests issued before the first await and `commit()` called explicitly
//! (indexed_db_futures rolls back otherwise). Nothing here awaits the network.
//!
//! Records and outbox entries cross between Rust and the browser as JSON text ([`to_js`],
//! [`from_js`], [`all_from_js`]): one string and the browser's own `JSON.parse` / `JSON.stringify`
//! per record, or per page, instead of serde-wasm-bindgen building or reading each object one
//! property at a time (every field name and text value a crossing of its own). The storage benchmark
//! profiled that glue as the largest share of a pull's writes and of the start-up's read of a
//! commune's households. The stored objects are the same plain objects as before (a missing
//! optional field reads as absent either way), so a device's existing data reads unchanged.
//!
//! A batch of requests is awaited last first ([`answers`]): one callback for the batch instead of
//! one per request, which took a pull page's writes from 0.57× to 0.77× Dexie's rate.

use indexed_db_futures::database::Database;
use indexed_db_futures::prelude::*;
use indexed_db_futures::transaction::TransactionMode;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use thidua_domain::client::{Edit, Replica};
use thidua_domain::protocol::{DeviceId, Mutation, MutationId, MutationResult, Record};
use thidua_domain::FieldError;
use wasm_bindgen::JsValue;

pub mod photos;

pub const DB_NAME: &str = "thidua";
/// Version 1: records (+ index by commune) and outbox. Version 2: meta. Version 3: photos and their
/// bytes (see `photos`).
pub const DB_VERSION: u32 = 3;

const RECORDS: &str = "records";
const OUTBOX: &str = "outbox";
const META: &str = "meta";
const BY_UNIT: &str = "by_unit";

/// A storage failure, said so an officer knows what happened and that saved data is safe.
#[derive(Debug, Clone, PartialEq)]
pub struct StorageError(pub String);

impl StorageError {
    /// The browser refused the write for lack of space.
    pub fn is_quota(&self) -> bool {
        self.0.contains("QuotaExceeded") || self.0.to_ascii_lowercase().contains("quota")
    }

    /// What to tell the officer, in their language.
    pub fn message(&self, lang: thidua_domain::Lang) -> String {
        let locale = crate::i18n::Locale::from(lang);
        if self.is_quota() {
            return crate::i18n::td_string!(locale, error.storage_full).into();
        }
        crate::i18n::td_string!(locale, error.storage_failed, detail = &self.0)
    }
}

impl<E: std::fmt::Display> From<E> for StorageError {
    fn from(e: E) -> Self {
        StorageError(e.to_string())
    }
}

pub type Result<T> = std::result::Result<T, StorageError>;

/// Where a local record stands with the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncState {
    /// The server has this version.
    Synced,
    /// Saved on the device, waiting in the outbox.
    Pending,
    /// The server refused it: the officer must fix the fields named in `errors`.
    NeedsFix,
}

/// A record as the device keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LocalRecord {
    /// The record id as text (the key path).
    pub id: String,
    /// The commune code (indexed).
    pub org_unit: String,
    /// What the officer sees, local edits included.
    pub record: Record,
    /// The server's version this device last saw; None until first synced.
    pub base: Option<Record>,
    pub sync: SyncState,
    #[serde(default)]
    pub errors: Vec<FieldError>,
}

/// The one pending change of a record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxEntry {
    /// The record id as text (the key path).
    pub record_id: String,
    pub mutation: Mutation,
    /// Set when the server rejected this mutation: it is not sent again until the officer edits it.
    #[serde(default)]
    pub rejected: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct MetaEntry {
    key: String,
    value: serde_json::Value,
}

/// The device's database.
pub struct Store {
    db: Database,
}

impl Store {
    pub async fn open() -> Result<Store> {
        Store::open_named(DB_NAME, DB_VERSION).await
    }

    /// Opens `name` at `version`, creating or upgrading stores step by step, so a device on any
    /// older version keeps its records and outbox.
    pub async fn open_named(name: &str, version: u32) -> Result<Store> {
        let db = Database::open(name)
            .with_version(version)
            .with_on_upgrade_needed(move |event, db| {
                let old = event.old_version() as u32;
                let new = event.new_version().map_or(version, |v| v as u32);
                // each step runs once, in order, up to the version asked for
                let step = |n: u32| old < n && n <= new;
                if step(1) {
                    let records = db
                        .create_object_store(RECORDS)
                        .with_key_path("id".into())
                        .build()?;
                    records.create_index(BY_UNIT, "org_unit".into()).build()?;
                    db.create_object_store(OUTBOX)
                        .with_key_path("record_id".into())
                        .build()?;
                }
                if step(2) {
                    db.create_object_store(META)
                        .with_key_path("key".into())
                        .build()?;
                }
                if step(3) {
                    photos::create_stores(&db)?;
                }
                Ok(())
            })
            .await
            .map_err(|e| StorageError(e.to_string()))?;
        Ok(Store { db })
    }

    pub fn close(self) {
        self.db.close();
    }

    pub fn version(&self) -> u32 {
        self.db.version() as u32
    }

    /// Saves an edit of the officer: the record and its outbox entry, in one transaction. With no
    /// mutation (the record is back to the server's version) the outbox entry is removed instead.
    pub async fn save(&self, local: LocalRecord, mutation: Option<Mutation>) -> Result<()> {
        let tx = self
            .db
            .transaction([RECORDS, OUTBOX])
            .with_mode(TransactionMode::Readwrite)
            .build()?;
        let records = tx.object_store(RECORDS)?;
        let outbox = tx.object_store(OUTBOX)?;
        let id = local.id.clone();
        let put_record = records.put(to_js(&local)?).primitive()?;
        match mutation {
            Some(mutation) => {
                let entry = OutboxEntry {
                    record_id: id,
                    mutation,
                    rejected: false,
                };
                let put_entry = outbox.put(entry_to_js(&entry)?).primitive()?;
                put_record.await?;
                put_entry.await?;
            }
            None => {
                // edited back to the server's version: nothing left to send
                let delete = outbox.delete(id).build()?;
                put_record.await?;
                delete.await?;
            }
        }
        commit(tx).await?;
        Ok(())
    }

    pub async fn record(&self, id: &str) -> Result<Option<LocalRecord>> {
        let tx = self.db.transaction(RECORDS).build()?;
        let store = tx.object_store(RECORDS)?;
        let found: Option<JsValue> = store.get(id.to_string()).primitive()?.await?;
        from_js(found)
    }

    /// All records of a commune (deleted ones included; the caller decides what to show).
    pub async fn records_of(&self, commune: &str) -> Result<Vec<LocalRecord>> {
        let tx = self.db.transaction(RECORDS).build()?;
        let store = tx.object_store(RECORDS)?;
        let index = store.index(BY_UNIT)?;
        let iter = index
            .get_all::<JsValue>()
            .with_query::<String, _>(commune.to_string())
            .primitive()?
            .await?;
        all_from_js(iter)
    }

    pub async fn outbox(&self) -> Result<Vec<OutboxEntry>> {
        let tx = self.db.transaction(OUTBOX).build()?;
        let store = tx.object_store(OUTBOX)?;
        let iter = store.get_all::<JsValue>().primitive()?.await?;
        all_from_js(iter)
    }

    /// How many changes wait in the outbox (rejected ones included), without reading them.
    pub async fn outbox_len(&self) -> Result<usize> {
        let tx = self.db.transaction(OUTBOX).build()?;
        let store = tx.object_store(OUTBOX)?;
        Ok(store.count().primitive()?.await? as usize)
    }

    pub async fn meta<T: for<'de> Deserialize<'de>>(&self, key: &str) -> Result<Option<T>> {
        let tx = self.db.transaction(META).build()?;
        let store = tx.object_store(META)?;
        let entry: Option<MetaEntry> = store.get(key.to_string()).serde()?.await?;
        Ok(entry.and_then(|e| serde_json::from_value(e.value).ok()))
    }

    /// Removes a meta entry (a draft once saved or discarded).
    pub async fn delete_meta(&self, key: &str) -> Result<()> {
        let tx = self
            .db
            .transaction(META)
            .with_mode(TransactionMode::Readwrite)
            .build()?;
        let store = tx.object_store(META)?;
        let delete = store.delete(key.to_string()).build()?;
        delete.await?;
        commit(tx).await?;
        Ok(())
    }

    /// Changes a meta entry in one read-write transaction: `change` is given what is stored (None
    /// when nothing, or what no longer reads as `T`) and returns what to keep. Two changes made at
    /// once (a request for approval queued while a sync sends the queue) so never write over each
    /// other, as a read, then a separate write, would.
    pub async fn update_meta<T: Serialize + DeserializeOwned>(
        &self,
        key: &str,
        change: impl FnOnce(Option<T>) -> T,
    ) -> Result<()> {
        let tx = self
            .db
            .transaction(META)
            .with_mode(TransactionMode::Readwrite)
            .build()?;
        let store = tx.object_store(META)?;
        let entry: Option<MetaEntry> = store.get(key.to_string()).serde()?.await?;
        let current = entry.and_then(|e| serde_json::from_value(e.value).ok());
        let entry = MetaEntry {
            key: key.to_string(),
            value: serde_json::to_value(change(current))?,
        };
        store.put(entry).serde()?.await?;
        commit(tx).await?;
        Ok(())
    }

    pub async fn set_meta<T: Serialize>(&self, key: &str, value: &T) -> Result<()> {
        let tx = self
            .db
            .transaction(META)
            .with_mode(TransactionMode::Readwrite)
            .build()?;
        let store = tx.object_store(META)?;
        let entry = MetaEntry {
            key: key.to_string(),
            value: serde_json::to_value(value)?,
        };
        let put = store.put(entry).serde()?;
        put.await?;
        commit(tx).await?;
        Ok(())
    }

    /// Applies the server's answers to one pushed batch (`results[i]` answers `sent[i]`), in one
    /// transaction. An answer for a mutation that a newer edit has replaced only moves the base.
    /// Applies a person's edit to record `template.id` in one read-write transaction: reads the stored
    /// copy and its outbox entry, folds the edit in (see `thidua_domain::client`), and writes the
    /// record, the outbox entry and the device's last mutation id together. No network inside.
    /// Returns the stored record, or None when the edit changed nothing.
    pub async fn edit(
        &self,
        template: Record,
        edit: &Edit,
        id: MutationId,
        device: DeviceId,
    ) -> Result<Option<LocalRecord>> {
        let tx = self
            .db
            .transaction([RECORDS, OUTBOX, META])
            .with_mode(TransactionMode::Readwrite)
            .build()?;
        let records = tx.object_store(RECORDS)?;
        let outbox = tx.object_store(OUTBOX)?;
        let meta = tx.object_store(META)?;
        let key = template.id.to_string();
        let local = records.get(key.clone()).primitive()?;
        let entry = outbox.get(key.clone()).primitive()?;
        let local: Option<LocalRecord> = from_js(local.await?)?;
        let entry: Option<OutboxEntry> = from_js(entry.await?)?;
        let current = local.map(|l| to_replica(l, entry));
        let Some(replica) = Replica::edit(current, template, edit, id, device) else {
            return Ok(None);
        };
        let (local, entry) = from_replica(replica);
        let put_record = records.put(to_js(&local)?).primitive()?;
        let put_entry = outbox
            .put(entry_to_js(
                &entry.expect("an edit leaves a pending mutation"),
            )?)
            .primitive()?;
        let put_last = meta
            .put(MetaEntry {
                key: META_LAST_MUTATION.into(),
                value: serde_json::Value::from(id.to_string()),
            })
            .serde()?;
        put_record.await?;
        put_entry.await?;
        put_last.await?;
        commit(tx).await?;
        Ok(Some(local))
    }

    /// Applies the server's answers to one pushed batch in one transaction. Answers for a mutation
    /// that a newer edit has replaced only refresh the base (see `Replica::apply_push_result`).
    pub async fn apply_push(&self, sent: &[Mutation], results: &[MutationResult]) -> Result<()> {
        let tx = self
            .db
            .transaction([RECORDS, OUTBOX])
            .with_mode(TransactionMode::Readwrite)
            .build()?;
        let records = tx.object_store(RECORDS)?;
        let outbox = tx.object_store(OUTBOX)?;
        let mut gets = Vec::with_capacity(sent.len() * 2);
        for mutation in sent {
            let id = mutation.record.id.to_string();
            gets.push(records.get(id.clone()).primitive()?);
            gets.push(outbox.get(id).primitive()?);
        }
        let mut found = answers(gets).await?.into_iter();
        let mut locals = Vec::with_capacity(sent.len());
        let mut entries = Vec::with_capacity(sent.len());
        while let (Some(local), Some(entry)) = (found.next(), found.next()) {
            locals.push(local);
            entries.push(entry);
        }
        let locals: Vec<Option<LocalRecord>> = some_from_js(locals)?;
        let entries: Vec<Option<OutboxEntry>> = some_from_js(entries)?;
        let mut puts = Vec::new();
        let mut deletes = Vec::new();
        for ((result, local), entry) in results.iter().zip(locals).zip(entries) {
            let Some(local) = local else { continue };
            let id = local.id.clone();
            let mut replica = to_replica(local, entry);
            replica.apply_push_result(result);
            let (local, entry) = from_replica(replica);
            puts.push(records.put(to_js(&local)?).primitive()?);
            match entry {
                Some(entry) => puts.push(outbox.put(entry_to_js(&entry)?).primitive()?),
                None => deletes.push(outbox.delete(id).build()?),
            }
        }
        // puts and deletes are interleaved: two callbacks at most (the last of each kind)
        answers(deletes).await?;
        answers(puts).await?;
        commit(tx).await?;
        Ok(())
    }

    /// Applies one pull page and moves the cursor past it, in one transaction: a page is either
    /// wholly kept with its cursor or not at all, so a cut connection or a closed tab resumes exactly.
    ///
    /// Two rounds of reads at most: the page's records and the size of the outbox, then, only when
    /// the outbox holds anything, the entries of the records the device already has (an entry never
    /// exists without its record). A device's first sync, or one whose changes are all sent, so
    /// reads each record once, and the records it does not have yet cost a lookup and nothing else.
    pub async fn apply_pull(&self, page: &[Record], cursor: &str) -> Result<()> {
        let tx = self
            .db
            .transaction([RECORDS, OUTBOX, META])
            .with_mode(TransactionMode::Readwrite)
            .build()?;
        let records = tx.object_store(RECORDS)?;
        let outbox = tx.object_store(OUTBOX)?;
        let meta = tx.object_store(META)?;
        let pending = outbox.count().primitive()?;
        let mut gets = Vec::with_capacity(page.len());
        for server in page {
            gets.push(records.get(server.id.to_string()).primitive()?);
        }
        let locals: Vec<Option<LocalRecord>> = some_from_js(answers(gets).await?)?;
        // issued before the record reads, so answered before them
        let pending = pending.await?;
        let mut entries: Vec<Option<OutboxEntry>> = Vec::new();
        if pending > 0 {
            let mut gets = Vec::new();
            for local in locals.iter().flatten() {
                gets.push(outbox.get(local.id.clone()).primitive()?);
            }
            entries = some_from_js(answers(gets).await?)?;
        }
        let mut entries = entries.into_iter();
        let mut merged = Vec::with_capacity(page.len());
        for (server, local) in page.iter().zip(locals) {
            let replica = match local {
                Some(local) => {
                    let entry = entries.next().flatten();
                    let mut replica = to_replica(local, entry);
                    replica.apply_pull(server);
                    replica
                }
                None => Replica::from_server(server.clone()),
            };
            // a pull never touches the outbox: the pending mutation stays as it was
            merged.push(from_replica(replica).0);
        }
        // the whole page as one JSON text, parsed once by the browser
        let objects: js_sys::Array = to_js(&merged)?.into();
        let mut puts = Vec::with_capacity(merged.len() + 1);
        for object in objects.iter() {
            puts.push(records.put(object).primitive()?);
        }
        let entry = MetaEntry {
            key: META_CURSOR.into(),
            value: serde_json::Value::from(cursor),
        };
        puts.push(meta.put(to_js(&entry)?).primitive()?);
        answers(puts).await?;
        commit(tx).await?;
        Ok(())
    }
}

/// Awaits a batch of requests of one transaction, last first, and gives their answers in the order
/// they were made. A transaction runs its requests in that order and reports them in that order,
/// so once the last has answered every earlier one has too; indexed_db_futures looks at a finished
/// request's state before attaching callbacks to it, so the batch costs one callback instead of one
/// per request (for a pull page of 10,000 records, 10,000 closures across the wasm boundary that the
/// storage benchmark profiled). Were a request somehow not finished, awaiting it still waits for it.
async fn answers<F, T>(requests: Vec<F>) -> Result<Vec<T>>
where
    F: std::future::Future<Output = std::result::Result<T, indexed_db_futures::error::Error>>,
{
    let mut out = Vec::with_capacity(requests.len());
    for request in requests.into_iter().rev() {
        out.push(request.await?);
    }
    out.reverse();
    Ok(out)
}

/// The stored shapes (kept as they were in schema 1, so existing devices' data reads unchanged) as
/// the domain's replica, and back.
fn to_replica(local: LocalRecord, entry: Option<OutboxEntry>) -> Replica {
    let rejected = entry
        .as_ref()
        .filter(|e| e.rejected)
        .map(|_| local.errors.clone());
    Replica {
        record: local.record,
        base: local.base,
        pending: entry.map(|e| e.mutation),
        rejected,
    }
}

fn from_replica(replica: Replica) -> (LocalRecord, Option<OutboxEntry>) {
    let sync = match (&replica.pending, &replica.rejected) {
        (None, _) => SyncState::Synced,
        (Some(_), None) => SyncState::Pending,
        (Some(_), Some(_)) => SyncState::NeedsFix,
    };
    let local = LocalRecord {
        id: replica.record.id.to_string(),
        org_unit: replica.record.org_unit.to_string(),
        record: replica.record,
        base: replica.base,
        sync,
        errors: replica.rejected.clone().unwrap_or_default(),
    };
    let entry = replica.pending.map(|mutation| OutboxEntry {
        record_id: local.id.clone(),
        mutation,
        rejected: replica.rejected.is_some(),
    });
    (local, entry)
}

/// A value as the plain object IndexedDB stores: its JSON text, parsed by the browser.
fn to_js<T: Serialize>(value: &T) -> Result<JsValue> {
    let text = serde_json::to_string(value)?;
    js_sys::JSON::parse(&text).map_err(js_error)
}

/// The largest integer a browser's number holds exactly (2^53 − 1).
const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// An outbox entry as a plain object. Its base revision is checked first: JSON text carries any
/// u64, but the browser would round one past 2^53 without a word, and a rounded base revision would
/// send the edit against a version that never existed. Refused, the save fails whole (the
/// transaction is not committed) and the officer is told, instead.
fn entry_to_js(entry: &OutboxEntry) -> Result<JsValue> {
    if entry.mutation.base_revision > MAX_SAFE_INTEGER {
        return Err(StorageError(format!(
            "revision {} is beyond what the browser can hold",
            entry.mutation.base_revision
        )));
    }
    to_js(entry)
}

/// A stored object read back through its JSON text; None when nothing is stored under the key.
fn from_js<T: DeserializeOwned>(value: Option<JsValue>) -> Result<Option<T>> {
    let Some(value) = value.filter(|v| !v.is_undefined() && !v.is_null()) else {
        return Ok(None);
    };
    let text: String = js_sys::JSON::stringify(&value).map_err(js_error)?.into();
    Ok(Some(serde_json::from_str(&text)?))
}

/// Every object of a `getAll` read back through one JSON text for them all.
fn all_from_js<T: DeserializeOwned, E: std::fmt::Display>(
    objects: impl Iterator<Item = std::result::Result<JsValue, E>>,
) -> Result<Vec<T>> {
    let array = js_sys::Array::new();
    for object in objects {
        array.push(&object?);
    }
    let text: String = js_sys::JSON::stringify(&array).map_err(js_error)?.into();
    Ok(serde_json::from_str(&text)?)
}

/// The answers of a batch of gets (None where nothing is stored) read back through one JSON text
/// for all that were found.
fn some_from_js<T: DeserializeOwned>(values: Vec<Option<JsValue>>) -> Result<Vec<Option<T>>> {
    let array = js_sys::Array::new();
    let found: Vec<bool> = values
        .iter()
        .map(|value| match value {
            Some(v) if !v.is_undefined() && !v.is_null() => {
                array.push(v);
                true
            }
            _ => false,
        })
        .collect();
    let mut parsed: std::vec::IntoIter<T> = if array.length() == 0 {
        Vec::new().into_iter()
    } else {
        let text: String = js_sys::JSON::stringify(&array).map_err(js_error)?.into();
        serde_json::from_str::<Vec<T>>(&text)?.into_iter()
    };
    Ok(found
        .into_iter()
        .map(|f| if f { parsed.next() } else { None })
        .collect())
}

fn js_error(error: JsValue) -> StorageError {
    StorageError(format!("{error:?}"))
}

/// Commits a read-write transaction. Every request in it has already succeeded when this runs (each
/// is awaited first), so an abort here comes from the commit itself: in practice the browser refusing
/// to grow the origin's storage (Chromium reports a write over the quota only as an aborted
/// transaction, without the reason). It is reported as the quota error it is, so the officer is told
/// that space, not a fault, kept the change out.
async fn commit(tx: indexed_db_futures::transaction::Transaction<'_>) -> Result<()> {
    tx.commit().await.map_err(|e| {
        let text = e.to_string();
        if text.contains("aborted") {
            StorageError(format!("QuotaExceededError: {text}"))
        } else {
            StorageError(text)
        }
    })
}

const DELETE_KEY: &str = "thidua.delete";

/// The page's localStorage, where the session and the deletion marks live (small, read at start).
pub fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

/// The databases a sign-out marked for deletion.
fn marked(storage: &web_sys::Storage) -> Vec<String> {
    storage
        .get_item(DELETE_KEY)
        .ok()
        .flatten()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

/// Marks a database for deletion at the next start. Deleting now would wait on this page's open
/// connection; at start nothing holds it.
pub fn mark_for_deletion(name: &str) {
    let Some(storage) = local_storage() else {
        return;
    };
    let mut names = marked(&storage);
    names.push(name.to_string());
    let _ = storage.set_item(
        DELETE_KEY,
        &serde_json::to_string(&names).unwrap_or_default(),
    );
}

/// Deletes the databases marked by a sign-out.
pub async fn delete_marked_databases() {
    let Some(storage) = local_storage() else {
        return;
    };
    for name in marked(&storage) {
        if let Ok(request) = Database::delete_by_name(&name) {
            let _ = request.await;
        }
    }
    let _ = storage.remove_item(DELETE_KEY);
}

/// The meta key of the pull cursor.
pub const META_CURSOR: &str = "cursor";

/// The meta key of the last mutation id this device made: ids must keep growing across reloads even
/// when the tablet's clock is set back, or the server would take a new edit for a stale one.
pub const META_LAST_MUTATION: &str = "last_mutation_id";
