//! Entry points for the benchmarks in `bench/` (built only with the cargo feature `bench`, never in
//! the shipped app): they run the app's own storage layer from JavaScript so a benchmark page can time
//! it beside a peer (Dexie.js, PouchDB) in the same browser. Each takes plain JSON in and gives JSON
//! out; the parsing of the input is outside the timed part, what is timed is exactly what the app does.
//!
//! From the page (trunk puts the module's exports on `window.wasmBindings`):
//! `await wasmBindings.bench_apply_pull("db", recordsJson, 10000)` and so on.

use serde::Serialize;
use thidua_domain::org::UnitCode;
use thidua_domain::poverty::Household;
use thidua_domain::protocol::{Fields, Period, Record};
use wasm_bindgen::prelude::*;

use crate::households::{save_household, Device};
use crate::storage::{Store, DB_VERSION};

fn now() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or_else(js_sys::Date::now, |p| p.now())
}

fn fail(e: impl std::fmt::Display) -> JsValue {
    JsValue::from_str(&e.to_string())
}

fn answer<T: Serialize>(value: &T) -> Result<String, JsValue> {
    serde_json::to_string(value).map_err(fail)
}

#[derive(Serialize)]
struct Timing {
    /// Records written or read.
    count: usize,
    /// Transactions used.
    transactions: usize,
    ms: f64,
}

/// Writes `records_json` (a JSON array of server records) into database `db` the way sync keeps a
/// pulled page: `Store::apply_pull`, one read-write transaction per `page` records (10,000 in one
/// page = one transaction; 200 = what sync does with a real pull page).
#[wasm_bindgen]
pub async fn bench_apply_pull(
    db: String,
    records_json: String,
    page: u32,
) -> Result<String, JsValue> {
    let records: Vec<Record> = serde_json::from_str(&records_json).map_err(fail)?;
    let store = Store::open_named(&db, DB_VERSION)
        .await
        .map_err(|e| fail(e.0))?;
    let page = (page as usize).max(1);
    let start = now();
    let mut transactions = 0;
    for (i, chunk) in records.chunks(page).enumerate() {
        store
            .apply_pull(chunk, &format!("bench-{i}"))
            .await
            .map_err(|e| fail(e.0))?;
        transactions += 1;
    }
    let ms = now() - start;
    store.close();
    answer(&Timing {
        count: records.len(),
        transactions,
        ms,
    })
}

/// Reads every record of `commune` from database `db` as the household list does: `Store::records_of`
/// (one read transaction, the commune index, every record deserialised into the app's types).
#[wasm_bindgen]
pub async fn bench_records_of(db: String, commune: String) -> Result<String, JsValue> {
    let store = Store::open_named(&db, DB_VERSION)
        .await
        .map_err(|e| fail(e.0))?;
    let start = now();
    let records = store.records_of(&commune).await.map_err(|e| fail(e.0))?;
    let ms = now() - start;
    store.close();
    answer(&Timing {
        count: records.len(),
        transactions: 1,
        ms,
    })
}

/// Saves `households_json` (a JSON array of household field maps) into database `db` through the
/// officer's own save path (`households::save_household`: a new record id, `Store::edit`, one
/// read-write transaction per household writing the record, its outbox entry and the last mutation
/// id), as if typed one by one on the form. Uses the device identity stored in `db` (made on first
/// use), so a signed-in app that opened `db` syncs these households as its own.
#[wasm_bindgen]
pub async fn bench_save_households(
    db: String,
    commune: String,
    period: String,
    households_json: String,
) -> Result<String, JsValue> {
    let list: Vec<Fields> = serde_json::from_str(&households_json).map_err(fail)?;
    let households = list
        .iter()
        .map(|fields| Household::from_fields(fields).map_err(|errors| fail(format!("{errors:?}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let commune = UnitCode::parse(&commune).map_err(fail)?;
    let period = Period::parse(&period).map_err(fail)?;
    let store = Store::open_named(&db, DB_VERSION)
        .await
        .map_err(|e| fail(e.0))?;
    let device = Device::load(&store).await.map_err(|e| fail(e.0))?;
    let start = now();
    for household in &households {
        save_household(
            &store,
            &device,
            None,
            &commune,
            &period,
            household,
            Default::default(),
        )
        .await
        .map_err(|e| fail(e.0))?;
    }
    let ms = now() - start;
    store.close();
    answer(&Timing {
        count: households.len(),
        transactions: households.len(),
        ms,
    })
}

/// The records of `commune` in database `db` as the server would hold them (JSON array), so a peer
/// can be given exactly the same data.
#[wasm_bindgen]
pub async fn bench_export_records(db: String, commune: String) -> Result<String, JsValue> {
    let store = Store::open_named(&db, DB_VERSION)
        .await
        .map_err(|e| fail(e.0))?;
    let records = store.records_of(&commune).await.map_err(|e| fail(e.0))?;
    store.close();
    let records: Vec<&Record> = records.iter().map(|l| &l.record).collect();
    answer(&records)
}

/// How many changes wait in the outbox of database `db`.
#[wasm_bindgen]
pub async fn bench_outbox_len(db: String) -> Result<u32, JsValue> {
    let store = Store::open_named(&db, DB_VERSION)
        .await
        .map_err(|e| fail(e.0))?;
    let n = store.outbox().await.map_err(|e| fail(e.0))?.len();
    store.close();
    Ok(n as u32)
}
