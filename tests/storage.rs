//! Storage in a real browser (headless Chromium): run with
//! `cargo test --target wasm32-unknown-unknown -p thidua-app` (scripts/test.sh does).
#![cfg(target_arch = "wasm32")]

use std::collections::BTreeSet;

use serde_json::json;
use thidua_app::browser::camera::{compress_photo, sha256_hex, PhotoError, TARGET_BYTES};
use thidua_app::households::{delete_household, households_of, save_household, Device};
use thidua_app::storage::photos::PhotoEntry;
use thidua_app::storage::{LocalRecord, OutboxEntry, Store, SyncState, DB_VERSION};
use thidua_domain::org::UnitCode;
use thidua_domain::poverty::{Area, Household};
use thidua_domain::protocol::{MutationResult, Outcome, Period};
use thidua_domain::FieldError;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn commune() -> UnitCode {
    UnitCode::parse("03646").unwrap()
}

fn period() -> Period {
    Period::parse("2023").unwrap()
}

fn household(name: &str, income: i64) -> Household {
    Household {
        head_name: name.into(),
        village: "Bản Hụm".into(),
        area: Area::Rural,
        members: 4,
        working_age_members: 2,
        children_under_16: 2,
        members_16_to_30: 1,
        income_per_person_month: income,
        floor_area_m2: None,
        deprivations: vec![],
    }
}

async fn fresh(name: &str) -> Store {
    Store::open_named(name, DB_VERSION).await.expect("opens")
}

/// The officer's save of `household` in the test commune and period, without photos (new when
/// `existing` is None); None when it changed nothing.
async fn save(
    store: &Store,
    device: &Device,
    existing: Option<&LocalRecord>,
    household: &Household,
) -> Option<LocalRecord> {
    save_household(
        store,
        device,
        existing,
        &commune(),
        &period(),
        household,
        BTreeSet::new(),
    )
    .await
    .unwrap()
}

async fn outbox_of(store: &Store, id: &str) -> Option<OutboxEntry> {
    store
        .outbox()
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.record_id == id)
}

#[wasm_bindgen_test]
async fn a_save_writes_the_record_and_its_outbox_entry_together() {
    let store = fresh("t-save").await;
    let device = Device::load(&store).await.unwrap();
    let saved = save(&store, &device, None, &household("Lò Văn A", 1_200_000))
        .await
        .expect("something changed");
    let stored = store
        .record(&saved.id)
        .await
        .unwrap()
        .expect("record stored");
    assert_eq!(stored.sync, SyncState::Pending);
    let entry = outbox_of(&store, &saved.id)
        .await
        .expect("outbox entry stored");
    assert_eq!(entry.mutation.base_revision, 0);
    assert_eq!(entry.mutation.record.fields["head_name"], json!("Lò Văn A"));
    assert!(entry.mutation.changed.contains("income_per_person_month"));
    store.close();
}

#[wasm_bindgen_test]
async fn when_the_outbox_write_fails_the_record_is_not_kept_either() {
    let store = fresh("t-atomic").await;
    let device = Device::load(&store).await.unwrap();
    let saved = save(&store, &device, None, &household("Lò Văn B", 1_000_000))
        .await
        .expect("something changed");
    // an edit whose outbox entry cannot be stored (a revision beyond what the browser can hold):
    // the record's put was already issued in the same transaction and must roll back with it
    let mut edited = saved.clone();
    edited
        .record
        .fields
        .insert("head_name".into(), json!("Tên mới"));
    let mut mutation = outbox_of(&store, &saved.id).await.unwrap().mutation;
    mutation.base_revision = u64::MAX;
    assert!(store.save(edited, Some(mutation)).await.is_err());
    let kept = store.record(&saved.id).await.unwrap().unwrap();
    assert_eq!(
        kept.record.fields["head_name"],
        json!("Lò Văn B"),
        "the record write rolled back"
    );
    assert_eq!(
        outbox_of(&store, &saved.id)
            .await
            .unwrap()
            .mutation
            .base_revision,
        0
    );
    store.close();
}

#[wasm_bindgen_test]
async fn data_survives_closing_and_reopening_the_database() {
    let store = fresh("t-reopen").await;
    let device = Device::load(&store).await.unwrap();
    let device_id = device.id;
    for (i, name) in ["Hộ Một", "Hộ Hai", "Hộ Ba"].iter().enumerate() {
        save(&store, &device, None, &household(name, 900_000 + i as i64))
            .await
            .expect("something changed");
    }
    store.close();

    let store = fresh("t-reopen").await;
    let listed = households_of(&store, &commune(), &period()).await.unwrap();
    assert_eq!(listed.len(), 3);
    assert_eq!(store.outbox().await.unwrap().len(), 3);
    assert_eq!(
        Device::load(&store).await.unwrap().id,
        device_id,
        "the device keeps its identity"
    );
    // other communes and periods are not mixed in
    assert!(
        households_of(&store, &UnitCode::parse("03649").unwrap(), &period())
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        households_of(&store, &commune(), &Period::parse("2024").unwrap())
            .await
            .unwrap()
            .is_empty()
    );
    store.close();
}

#[wasm_bindgen_test]
async fn upgrading_from_schema_version_1_keeps_records_and_outbox() {
    let v1 = Store::open_named("t-upgrade", 1).await.unwrap();
    assert_eq!(v1.version(), 1);
    // version 1 had records and outbox but no meta store: write through them directly
    let record: thidua_domain::protocol::Record = serde_json::from_value(json!({
        "id": "01890a5d-ac96-774b-bcce-b302099a8057", "data_set": "household", "org_unit": "03646",
        "period": "2023", "fields": household("Hộ Cũ", 800_000).to_fields(), "revision": 0, "deleted": false
    }))
    .unwrap();
    let mutation = thidua_domain::protocol::Mutation {
        id: thidua_domain::protocol::MutationId::parse("01890a5d-ac96-774b-bcce-b302099a8058")
            .unwrap(),
        device: thidua_domain::protocol::DeviceId::parse("7d7b1c0e-2f3a-4b55-9c1e-0a1b2c3d4e5f")
            .unwrap(),
        record: record.clone(),
        base_revision: 0,
        changed: record.fields.keys().cloned().collect::<BTreeSet<_>>(),
    };
    let local = LocalRecord {
        id: record.id.to_string(),
        org_unit: "03646".into(),
        record,
        base: None,
        sync: SyncState::Pending,
        errors: vec![],
    };
    v1.save(local, Some(mutation)).await.unwrap();
    v1.close();

    let v2 = fresh("t-upgrade").await;
    assert_eq!(v2.version(), DB_VERSION);
    let listed = households_of(&v2, &commune(), &period()).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].record.fields["head_name"], json!("Hộ Cũ"));
    assert_eq!(v2.outbox().await.unwrap().len(), 1);
    // the store added in version 2 works
    v2.set_meta("probe", &42).await.unwrap();
    assert_eq!(v2.meta::<i32>("probe").await.unwrap(), Some(42));
    // and the photo stores added in version 3
    let bytes = blob_of(b"not really a jpeg");
    v2.add_photo(
        &photo_entry("0190a5d0-0000-7000-8000-000000000001", 17),
        &bytes,
    )
    .await
    .unwrap();
    assert_eq!(v2.photos().await.unwrap().len(), 1);
    v2.close();
}

#[wasm_bindgen_test]
async fn push_answers_settle_the_outbox_or_mark_the_record_for_a_fix() {
    let store = fresh("t-push").await;
    let device = Device::load(&store).await.unwrap();
    let good = save(&store, &device, None, &household("Hộ Tốt", 1_000_000))
        .await
        .expect("something changed");
    let bad = save(&store, &device, None, &household("Hộ Sai", 1_000_000))
        .await
        .expect("something changed");
    let sent: Vec<_> = store
        .outbox()
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.mutation)
        .collect();
    let results: Vec<MutationResult> = sent
        .iter()
        .map(|m| {
            if m.record.id.to_string() == good.id {
                let mut server = m.record.clone();
                server.revision = 7;
                MutationResult {
                    mutation: m.id,
                    outcome: Outcome::Applied { revision: 7 },
                    record: Some(server),
                }
            } else {
                let error = FieldError::new(
                    "income_per_person_month",
                    "negative",
                    "Thu nhập: không được âm".into(),
                    "Income: negative".into(),
                );
                MutationResult {
                    mutation: m.id,
                    outcome: Outcome::Rejected {
                        errors: vec![error],
                    },
                    record: None,
                }
            }
        })
        .collect();
    store.apply_push(&sent, &results).await.unwrap();

    let good_now = store.record(&good.id).await.unwrap().unwrap();
    assert_eq!(good_now.sync, SyncState::Synced);
    assert_eq!(good_now.base.as_ref().map(|b| b.revision), Some(7));
    assert!(outbox_of(&store, &good.id).await.is_none());

    let bad_now = store.record(&bad.id).await.unwrap().unwrap();
    assert_eq!(bad_now.sync, SyncState::NeedsFix);
    assert_eq!(bad_now.errors[0].field, "income_per_person_month");
    let entry = outbox_of(&store, &bad.id)
        .await
        .expect("a rejected change is kept");
    assert!(entry.rejected);

    // the officer fixes it: a new mutation replaces the rejected one, ready to send
    let fixed = save(
        &store,
        &device,
        Some(&bad_now),
        &household("Hộ Sai", 1_100_000),
    )
    .await
    .expect("something changed");
    assert_eq!(fixed.sync, SyncState::Pending);
    let entry = outbox_of(&store, &bad.id).await.unwrap();
    assert!(!entry.rejected);
    assert_ne!(entry.mutation.id, results[1].mutation);

    // an edit of a synced record sends just that field
    let edited = save(
        &store,
        &device,
        Some(&good_now),
        &household("Hộ Tốt", 1_050_000),
    )
    .await
    .expect("something changed");
    let first = outbox_of(&store, &good.id).await.unwrap().mutation;
    assert_eq!(
        first.changed,
        BTreeSet::from(["income_per_person_month".to_string()])
    );
    // editing it back still sends the value: the first edit may already have reached the server
    // with its answer lost, and only sending the revert keeps the server right
    let back = save(
        &store,
        &device,
        Some(&edited),
        &household("Hộ Tốt", 1_000_000),
    )
    .await
    .expect("something changed");
    assert_eq!(back.sync, SyncState::Pending);
    let folded = outbox_of(&store, &good.id).await.unwrap().mutation;
    assert!(folded.id > first.id, "a new id for the folded edit");
    assert_eq!(folded.base_revision, 7);
    assert_eq!(
        folded.record.fields["income_per_person_month"],
        json!(1_000_000)
    );
    // saving the form unchanged makes nothing to send
    assert!(save(
        &store,
        &device,
        Some(&back),
        &household("Hộ Tốt", 1_000_000)
    )
    .await
    .is_none());
    store.close();
}

#[wasm_bindgen_test]
async fn a_pulled_record_keeps_the_officers_pending_edits_on_top() {
    let store = fresh("t-pull").await;
    let device = Device::load(&store).await.unwrap();
    let saved = save(&store, &device, None, &household("Hộ Kéo", 1_000_000))
        .await
        .expect("something changed");
    let sent: Vec<_> = store
        .outbox()
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.mutation)
        .collect();
    let mut server = sent[0].record.clone();
    server.revision = 3;
    store
        .apply_push(
            &sent,
            &[MutationResult {
                mutation: sent[0].id,
                outcome: Outcome::Applied { revision: 3 },
                record: Some(server.clone()),
            }],
        )
        .await
        .unwrap();
    // the officer changes income; meanwhile someone else changed the village on the server
    let local = store.record(&saved.id).await.unwrap().unwrap();
    save(
        &store,
        &device,
        Some(&local),
        &household("Hộ Kéo", 1_300_000),
    )
    .await
    .expect("something changed");
    server.revision = 4;
    server.fields.insert("village".into(), json!("Bản Mới"));
    store.apply_pull(&[server], "4").await.unwrap();

    let now = store.record(&saved.id).await.unwrap().unwrap();
    assert_eq!(now.record.fields["village"], json!("Bản Mới"));
    assert_eq!(
        now.record.fields["income_per_person_month"],
        json!(1_300_000)
    );
    assert_eq!(now.base.as_ref().unwrap().revision, 4);
    assert_eq!(
        store.meta::<String>("cursor").await.unwrap().as_deref(),
        Some("4")
    );

    // a deletion is a tombstone: gone from the list, still waiting to be sent
    delete_household(&store, &device, &now, BTreeSet::new())
        .await
        .unwrap();
    assert!(households_of(&store, &commune(), &period())
        .await
        .unwrap()
        .is_empty());
    assert!(
        outbox_of(&store, &saved.id)
            .await
            .unwrap()
            .mutation
            .record
            .deleted
    );
    store.close();
}

/// A page mixing what the device lacks, what it holds synced and what it holds with an edit waiting:
/// each record is merged with its own outbox entry (the entries are read for the held records
/// only, so a slip of one would give an edit to the wrong household) and the outbox is untouched.
#[wasm_bindgen_test]
async fn a_mixed_pull_page_keeps_each_pending_edit_on_its_own_record() {
    let store = fresh("t-pull-mixed").await;
    let device = Device::load(&store).await.unwrap();
    let mut saved = Vec::new();
    for name in ["Hộ A", "Hộ B", "Hộ C"] {
        let local = save(&store, &device, None, &household(name, 1_000_000))
            .await
            .expect("something changed");
        saved.push(local);
    }
    let sent: Vec<_> = store
        .outbox()
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.mutation)
        .collect();
    let results: Vec<_> = sent
        .iter()
        .map(|m| {
            let mut record = m.record.clone();
            record.revision = 3;
            MutationResult {
                mutation: m.id,
                outcome: Outcome::Applied { revision: 3 },
                record: Some(record),
            }
        })
        .collect();
    store.apply_push(&sent, &results).await.unwrap();
    assert!(store.outbox().await.unwrap().is_empty(), "all three sent");

    // the officer edits B's income; on the server someone moved A, B and C to other villages, and
    // a household X that this device never had arrives too
    let b = store.record(&saved[1].id).await.unwrap().unwrap();
    save(&store, &device, Some(&b), &household("Hộ B", 1_500_000))
        .await
        .expect("something changed");
    let server = |local: &LocalRecord, village: &str| {
        let mut record = local.base.clone().expect("synced");
        record.revision = 4;
        record.fields.insert("village".into(), json!(village));
        record
    };
    let a = store.record(&saved[0].id).await.unwrap().unwrap();
    let c = store.record(&saved[2].id).await.unwrap().unwrap();
    let mut x = server(&a, "Bản X");
    x.id = thidua_domain::protocol::RecordId::carried(a.record.id, &Period::parse("2024").unwrap());
    x.fields.insert("head_name".into(), json!("Hộ X"));
    let page = [
        server(&a, "Bản A2"),
        x.clone(),
        server(&b, "Bản B2"),
        server(&c, "Bản C2"),
    ];
    store.apply_pull(&page, "9").await.unwrap();

    let now = |id: String| {
        let store = &store;
        async move { store.record(&id).await.unwrap().expect("kept") }
    };
    let a = now(saved[0].id.clone()).await;
    let b = now(saved[1].id.clone()).await;
    let c = now(saved[2].id.clone()).await;
    let x = now(x.id.to_string()).await;
    assert_eq!(a.record.fields["village"], json!("Bản A2"));
    assert_eq!(a.sync, SyncState::Synced);
    assert_eq!(a.record.fields["income_per_person_month"], json!(1_000_000));
    assert_eq!(
        b.record.fields["village"],
        json!("Bản B2"),
        "the server's move"
    );
    assert_eq!(
        b.record.fields["income_per_person_month"],
        json!(1_500_000),
        "the officer's edit on top"
    );
    assert_eq!(b.sync, SyncState::Pending);
    assert_eq!(b.base.as_ref().unwrap().revision, 4);
    assert_eq!(c.record.fields["village"], json!("Bản C2"));
    assert_eq!(c.sync, SyncState::Synced);
    assert_eq!(x.record.fields["head_name"], json!("Hộ X"));
    assert_eq!(x.sync, SyncState::Synced);
    let outbox = store.outbox().await.unwrap();
    assert_eq!(outbox.len(), 1, "only B's edit waits");
    assert_eq!(outbox[0].record_id, saved[1].id);
    assert_eq!(
        store.meta::<String>("cursor").await.unwrap().as_deref(),
        Some("9")
    );
    store.close();
}

#[wasm_bindgen_test]
async fn mutation_ids_keep_growing_across_a_reload_even_when_the_clock_was_set_back() {
    let store = fresh("t-clock").await;
    let device = Device::load(&store).await.unwrap();
    save(&store, &device, None, &household("Hộ Đồng Hồ", 1_000_000))
        .await
        .expect("saved");
    // the tablet's clock was five days ahead when the last edit was made, and has since been fixed:
    // the stored last id is in the "future" compared with the clock now
    let ahead_ms = js_sys::Date::now() as u64 + 5 * 24 * 3_600_000;
    let future = uuid::Builder::from_unix_timestamp_millis(ahead_ms, &[7; 10]).into_uuid();
    store
        .set_meta("last_mutation_id", &future.to_string())
        .await
        .unwrap();
    store.close();

    let store = fresh("t-clock").await;
    let device = Device::load(&store).await.unwrap();
    let local = households_of(&store, &commune(), &period()).await.unwrap()[0].clone();
    save(
        &store,
        &device,
        Some(&local),
        &household("Hộ Đồng Hồ", 1_100_000),
    )
    .await
    .expect("saved");
    let entry = outbox_of(&store, &local.id).await.unwrap();
    assert!(
        entry.mutation.id.0 > future,
        "a later edit gets a greater id, or the server would take it for a stale one and drop it"
    );
    assert_eq!(
        store.meta::<String>("last_mutation_id").await.unwrap(),
        Some(entry.mutation.id.to_string())
    );
    store.close();
}

#[wasm_bindgen_test]
async fn pushes_are_gzip_compressed_by_the_browser() {
    let text = serde_json::to_string(&household("Lò Văn Nén", 1_000_000).to_fields())
        .unwrap()
        .repeat(40);
    let gz = thidua_app::api::gzip(&text)
        .await
        .expect("Chromium has CompressionStream")
        .to_vec();
    assert_eq!(&gz[..2], &[0x1f, 0x8b], "a gzip stream");
    assert!(
        gz.len() * 5 < text.len(),
        "{} bytes from {}",
        gz.len(),
        text.len()
    );
    // and it inflates back to the same text (DecompressionStream through a Response)
    let inflated = js_sys::eval(
        "(async (b) => new TextDecoder().decode(await new Response(new Blob([b]).stream()\
         .pipeThrough(new DecompressionStream('gzip'))).arrayBuffer()))",
    )
    .unwrap()
    .dyn_into::<js_sys::Function>()
    .unwrap()
    .call1(
        &wasm_bindgen::JsValue::NULL,
        &js_sys::Uint8Array::from(gz.as_slice()),
    )
    .unwrap();
    let inflated = wasm_bindgen_futures::JsFuture::from(js_sys::Promise::from(inflated))
        .await
        .unwrap();
    assert_eq!(inflated.as_string().unwrap(), text);
}

#[wasm_bindgen_test]
async fn last_years_list_is_carried_over_once_with_a_link_back() {
    let store = fresh("t-carry").await;
    let device = Device::load(&store).await.unwrap();
    for name in ["Hộ Năm Trước 1", "Hộ Năm Trước 2"] {
        save(&store, &device, None, &household(name, 1_000_000))
            .await
            .expect("saved");
    }
    let next = Period::parse("2024").unwrap();
    assert_eq!(
        thidua_app::households::carry_over(&store, &device, &commune(), &period(), &next)
            .await
            .unwrap(),
        2
    );
    // again (or on a second device): nothing more, the same ids
    assert_eq!(
        thidua_app::households::carry_over(&store, &device, &commune(), &period(), &next)
            .await
            .unwrap(),
        0
    );
    let before = households_of(&store, &commune(), &period()).await.unwrap();
    let after = households_of(&store, &commune(), &next).await.unwrap();
    assert_eq!(after.len(), 2);
    for original in &before {
        let carried = after
            .iter()
            .find(|l| {
                l.record.id == thidua_domain::protocol::RecordId::carried(original.record.id, &next)
            })
            .expect("carried with the derived id");
        assert_eq!(carried.record.fields["carried_from"], json!(original.id));
        assert_eq!(
            carried.record.fields["head_name"],
            original.record.fields["head_name"]
        );
    }
    store.close();
}

// ---- evidence photos ----

fn blob_of(bytes: &[u8]) -> web_sys::Blob {
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    web_sys::Blob::new_with_u8_array_sequence(&parts).unwrap()
}

fn photo_entry(id: &str, size: u64) -> PhotoEntry {
    PhotoEntry {
        id: id.into(),
        unit: "03646".into(),
        record_id: "0190a5d0-0000-7000-8000-0000000000ff".into(),
        size,
        content_type: "image/jpeg".into(),
        sha256: "0".repeat(64),
        received: 0,
        complete: false,
        taken_at_ms: 1.0,
    }
}

async fn blob_bytes(blob: &web_sys::Blob) -> Vec<u8> {
    let buffer = wasm_bindgen_futures::JsFuture::from(blob.array_buffer())
        .await
        .unwrap();
    js_sys::Uint8Array::new(&buffer).to_vec()
}

/// A camera-sized picture encoded as a high-quality JPEG, as a tablet's camera writes it. `noisy`
/// fills it with random pixels, the worst case for JPEG; otherwise smooth gradients, like a photo.
async fn camera_jpeg(width: u32, height: u32, noisy: bool) -> web_sys::Blob {
    let document = web_sys::window().unwrap().document().unwrap();
    let canvas: web_sys::HtmlCanvasElement = document
        .create_element("canvas")
        .unwrap()
        .dyn_into()
        .unwrap();
    canvas.set_width(width);
    canvas.set_height(height);
    let context: web_sys::CanvasRenderingContext2d = canvas
        .get_context("2d")
        .unwrap()
        .unwrap()
        .dyn_into()
        .unwrap();
    if noisy {
        let mut pixels = vec![0u8; (width * height * 4) as usize];
        let mut x: u32 = 2463534242;
        for chunk in pixels.chunks_mut(4) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            chunk[0] = x as u8;
            chunk[1] = (x >> 8) as u8;
            chunk[2] = (x >> 16) as u8;
            chunk[3] = 255;
        }
        let data = web_sys::ImageData::new_with_u8_clamped_array_and_sh(
            wasm_bindgen::Clamped(&pixels),
            width,
            height,
        )
        .unwrap();
        context.put_image_data(&data, 0.0, 0.0).unwrap();
    } else {
        let gradient = context.create_linear_gradient(0.0, 0.0, width as f64, height as f64);
        gradient.add_color_stop(0.0, "#2a6f3a").unwrap();
        gradient.add_color_stop(0.5, "#e0c070").unwrap();
        gradient.add_color_stop(1.0, "#3050a0").unwrap();
        context.set_fill_style_canvas_gradient(&gradient);
        context.fill_rect(0.0, 0.0, width as f64, height as f64);
    }
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let done = wasm_bindgen::closure::Closure::once_into_js(move |b: wasm_bindgen::JsValue| {
            let _ = resolve.call1(&wasm_bindgen::JsValue::NULL, &b);
        });
        canvas
            .to_blob_with_type_and_encoder_options(
                done.unchecked_ref(),
                "image/jpeg",
                &wasm_bindgen::JsValue::from_f64(0.95),
            )
            .unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .unwrap()
        .dyn_into()
        .unwrap()
}

#[wasm_bindgen_test]
async fn a_camera_photo_is_made_about_200_kb_and_at_most_1600_px_on_the_device() {
    // the worst case: a 12-megapixel frame of noise, several megabytes as the camera wrote it
    let original = camera_jpeg(4000, 3000, true).await;
    assert!(
        original.size() > 2_000_000.0,
        "the test photo is camera-sized: {}",
        original.size()
    );
    let (small, width, height) = compress_photo(&original).await.expect("compressed");
    assert!(small.size() <= TARGET_BYTES, "{} bytes", small.size());
    assert!(
        width.max(height) <= 1600 && width.max(height) >= 640,
        "{width}x{height}"
    );
    assert_eq!(
        width * 3,
        height * 4,
        "the aspect ratio is kept: {width}x{height}"
    );
    let bytes = blob_bytes(&small).await;
    assert_eq!(&bytes[..2], &[0xFF, 0xD8], "a JPEG");
    assert_eq!(small.type_(), "image/jpeg");

    // an ordinary photo keeps the full 1600 px: only as much is given up as the size needs
    let smooth = camera_jpeg(3000, 2000, false).await;
    let (small, width, height) = compress_photo(&smooth).await.expect("compressed");
    assert!(small.size() <= TARGET_BYTES);
    assert_eq!((width, height), (1600, 1067));
}

#[wasm_bindgen_test]
async fn a_file_that_is_not_an_image_is_refused() {
    let text = blob_of(b"this is a letter, not a photo");
    assert_eq!(
        compress_photo(&text).await.unwrap_err(),
        PhotoError::NotAnImage
    );
}

#[wasm_bindgen_test]
async fn the_photo_checksum_is_sha256() {
    let hex = sha256_hex(&blob_of(b"abc")).await.unwrap();
    assert_eq!(
        hex,
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}

#[wasm_bindgen_test]
async fn a_photo_is_kept_with_its_bytes_and_its_upload_progress_never_goes_back() {
    let store = fresh("t-photos").await;
    let id = "0190a5d0-0000-7000-8000-000000000002";
    let bytes: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    store
        .add_photo(&photo_entry(id, bytes.len() as u64), &blob_of(&bytes))
        .await
        .unwrap();
    // the bytes come back exactly, and a slice is what the uploader sends
    let kept = store.photo_bytes(id).await.unwrap().expect("kept");
    assert_eq!(blob_bytes(&kept).await, bytes);
    let chunk = kept.slice_with_f64_and_f64(32_768.0, 65_536.0).unwrap();
    assert_eq!(blob_bytes(&chunk).await, bytes[32_768..65_536]);

    // a late answer cannot move the progress back; the server's reset can
    store
        .set_photo_progress(id, 65_536, false, false)
        .await
        .unwrap();
    let after_late = store
        .set_photo_progress(id, 32_768, false, false)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after_late.received, 65_536);
    let after_reset = store
        .set_photo_progress(id, 0, false, true)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after_reset.received, 0);
    let done = store
        .set_photo_progress(id, 100_000, true, false)
        .await
        .unwrap()
        .unwrap();
    assert!(done.complete);
    assert_eq!(done.progress(), 1.0);

    // survives closing the database (a reload)
    store.close();
    let store = fresh("t-photos").await;
    assert_eq!(store.photo(id).await.unwrap().unwrap().received, 100_000);
    store.remove_photo(id).await.unwrap();
    assert!(store.photo(id).await.unwrap().is_none());
    assert!(store.photo_bytes(id).await.unwrap().is_none());
}
