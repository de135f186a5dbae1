//! Evidence photos: announced, uploaded in chunks apart from sync, resumed where a cut left them,
//! checked against their checksum, read by whoever's scope covers their commune (see common/mod.rs
//! for the real server and database behind it).

mod common;

use common::*;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use thidua_domain::evidence::{MAX_CHUNK_BYTES, MAX_EVIDENCE_BYTES};
use thidua_server::auth::Role;
use uuid::Uuid;

const COMMUNE: &str = "03646";
/// 70 KiB: ten of them make the photo, so six are 60% of it.
const CHUNK: usize = 70 * 1024;

struct Photo {
    id: Uuid,
    bytes: Vec<u8>,
    sha256: String,
}

/// A photo of `chunks` chunks of [`CHUNK`] bytes (a JPEG's first bytes, then noise that differs by
/// `seed`), and its checksum.
fn photo(chunks: usize, seed: u64) -> Photo {
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0];
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    while bytes.len() < chunks * CHUNK {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        bytes.push((x >> 56) as u8);
    }
    let sha256 = hex(&Sha256::digest(&bytes));
    Photo {
        id: Uuid::now_v7(),
        bytes,
        sha256,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn announcement(photo: &Photo, unit: &str) -> Value {
    json!({
        "id": photo.id,
        "unit": unit,
        "record": Uuid::now_v7(),
        "size": photo.bytes.len(),
        "content_type": "image/jpeg",
        "sha256": photo.sha256,
    })
}

async fn announce(app: &TestApp, token: &str, body: &Value) -> reqwest::Response {
    app.anon
        .post(app.url("/api/evidence"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .expect("sent")
}

async fn send_chunk_to(
    base: &str,
    token: &str,
    id: Uuid,
    offset: usize,
    bytes: &[u8],
) -> reqwest::Response {
    reqwest::Client::new()
        .patch(format!("{base}/api/evidence/{id}?offset={offset}"))
        .bearer_auth(token)
        .header("content-type", "application/octet-stream")
        .body(bytes.to_vec())
        .send()
        .await
        .expect("sent")
}

async fn send_chunk(
    app: &TestApp,
    token: &str,
    id: Uuid,
    offset: usize,
    bytes: &[u8],
) -> reqwest::Response {
    send_chunk_to(&app.base, token, id, offset, bytes).await
}

/// Sends chunk number `i` of the photo and checks it was kept.
async fn send_ok(app: &TestApp, token: &str, photo: &Photo, i: usize) -> Value {
    let start = i * CHUNK;
    let end = (start + CHUNK).min(photo.bytes.len());
    let response = send_chunk(app, token, photo.id, start, &photo.bytes[start..end]).await;
    assert_eq!(response.status(), 200, "chunk {i}");
    let state: Value = response.json().await.unwrap();
    assert_eq!(state["received"], json!(end), "chunk {i}");
    state
}

async fn get(app: &TestApp, token: &str, path: &str) -> reqwest::Response {
    app.anon
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .expect("sent")
}

async fn upload_state(app: &TestApp, token: &str, id: Uuid) -> Value {
    let response = get(app, token, &format!("/api/evidence/{id}/upload")).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn officer(app: &TestApp) -> String {
    app.user_with_token("xa.tohieu", Role::CommuneOfficer, COMMUNE)
        .await
        .1
}

#[tokio::test]
async fn an_upload_cut_at_60_percent_continues_from_there() {
    let app = spawn_app().await;
    let token = officer(&app).await;
    let p = photo(10, 1);
    let body = announcement(&p, COMMUNE);

    let response = announce(&app, &token, &body).await;
    assert_eq!(response.status(), 201);
    let state: Value = response.json().await.unwrap();
    assert_eq!(
        state,
        json!({"id": p.id, "size": 10 * CHUNK, "received": 0, "complete": false})
    );
    // the announcement's answer lost and sent again: the same upload
    let again = announce(&app, &token, &body).await;
    assert_eq!(again.status(), 200);
    assert_eq!(again.json::<Value>().await.unwrap(), state);

    // six chunks, then the signal goes
    for i in 0..6 {
        send_ok(&app, &token, &p, i).await;
    }
    // back online: the device asks what the server has
    let state = upload_state(&app, &token, p.id).await;
    assert_eq!(state["received"], json!(6 * CHUNK), "60% kept");
    assert_eq!(state["complete"], json!(false));
    let early = get(&app, &token, &format!("/api/evidence/{}", p.id)).await;
    assert_eq!(
        error_body(early, 404).await["code"],
        "evidence_incomplete",
        "no download before the last byte"
    );

    // and continues from there, not from 0
    let resume_at = state["received"].as_u64().unwrap() as usize / CHUNK;
    for i in resume_at..10 {
        let state = send_ok(&app, &token, &p, i).await;
        assert_eq!(state["complete"], json!(i == 9), "chunk {i}");
    }

    let response = get(&app, &token, &format!("/api/evidence/{}", p.id)).await;
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "image/jpeg");
    assert_eq!(
        headers["cache-control"],
        "private, max-age=31536000, immutable"
    );
    assert!(
        headers.get("content-encoding").is_none(),
        "a JPEG is not compressed again"
    );
    let bytes = response.bytes().await.unwrap();
    assert_eq!(bytes.len(), p.bytes.len());
    assert!(bytes[..] == p.bytes[..], "the exact bytes");
    // the announcement repeated after the end says so
    let done = announce(&app, &token, &body).await;
    assert_eq!(done.status(), 200);
    assert_eq!(done.json::<Value>().await.unwrap()["complete"], json!(true));
}

#[tokio::test]
async fn a_chunk_at_the_wrong_offset_is_answered_with_what_the_server_has() {
    let app = spawn_app().await;
    let token = officer(&app).await;
    let p = photo(4, 2);
    assert_eq!(
        announce(&app, &token, &announcement(&p, COMMUNE))
            .await
            .status(),
        201
    );
    send_ok(&app, &token, &p, 0).await;
    send_ok(&app, &token, &p, 1).await;

    // ahead of what the server has
    let ahead = send_chunk(&app, &token, p.id, 3 * CHUNK, &p.bytes[3 * CHUNK..]).await;
    assert_eq!(ahead.status(), 409);
    let body: Value = ahead.json().await.unwrap();
    assert_eq!(body["error"]["code"], "offset_mismatch");
    assert!(body["error"]["message"].is_string() && body["error"]["message_en"].is_string());
    assert_eq!(body["error"]["received"], json!(2 * CHUNK));
    assert_eq!(
        body["received"],
        json!(2 * CHUNK),
        "the state beside the error"
    );
    assert_eq!(body["complete"], json!(false));

    // a late copy of chunk 1 (its answer was lost), with other bytes even: refused, nothing changed
    let garbage = vec![0u8; CHUNK];
    let late = send_chunk(&app, &token, p.id, CHUNK, &garbage).await;
    let error = error_body(late, 409).await;
    assert_eq!(error["code"], "offset_mismatch");
    assert_eq!(error["received"], json!(2 * CHUNK));
    assert_eq!(
        upload_state(&app, &token, p.id).await["received"],
        json!(2 * CHUNK)
    );

    send_ok(&app, &token, &p, 2).await;
    let last = send_ok(&app, &token, &p, 3).await;
    assert_eq!(last["complete"], json!(true));
    let bytes = get(&app, &token, &format!("/api/evidence/{}", p.id))
        .await
        .bytes()
        .await
        .unwrap();
    assert!(bytes[..] == p.bytes[..], "the late copy corrupted nothing");

    // the last chunk again once complete: nothing to add
    let after = send_chunk(&app, &token, p.id, 3 * CHUNK, &p.bytes[3 * CHUNK..]).await;
    assert_eq!(after.status(), 409);
    let body: Value = after.json().await.unwrap();
    assert_eq!(body["error"]["code"], "offset_mismatch");
    assert_eq!(body["complete"], json!(true));
    assert_eq!(body["received"], json!(4 * CHUNK));
}

#[tokio::test]
async fn a_photo_that_does_not_match_its_checksum_is_sent_again() {
    let app = spawn_app().await;
    let token = officer(&app).await;
    let p = photo(3, 3);
    announce(&app, &token, &announcement(&p, COMMUNE)).await;
    let mut damaged = p.bytes.clone();
    damaged[CHUNK + 17] ^= 0x40; // one bit flipped on the way
    for i in 0..2 {
        let start = i * CHUNK;
        let response = send_chunk(&app, &token, p.id, start, &damaged[start..start + CHUNK]).await;
        assert_eq!(response.status(), 200);
    }
    let response = send_chunk(&app, &token, p.id, 2 * CHUNK, &damaged[2 * CHUNK..]).await;
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "checksum_mismatch");
    assert_eq!(body["received"], json!(0));
    assert_eq!(body["complete"], json!(false));
    let state = upload_state(&app, &token, p.id).await;
    assert_eq!(
        state["received"],
        json!(0),
        "what was received is discarded"
    );
    assert_eq!(state["complete"], json!(false));
    assert_eq!(
        get(&app, &token, &format!("/api/evidence/{}", p.id))
            .await
            .status(),
        404
    );

    // sent again, whole
    for i in 0..3 {
        send_ok(&app, &token, &p, i).await;
    }
    let bytes = get(&app, &token, &format!("/api/evidence/{}", p.id))
        .await
        .bytes()
        .await
        .unwrap();
    assert!(bytes[..] == p.bytes[..]);
}

#[tokio::test]
async fn the_commune_uploads_and_its_district_and_province_read() {
    let app = spawn_app().await;
    let token = officer(&app).await;
    let (_, neighbour) = app
        .user_with_token("xa.chienglr", Role::CommuneOfficer, "03649")
        .await;
    let (_, district) = app
        .user_with_token("huyen.sonla", Role::DistrictSupervisor, "116")
        .await;
    let (_, other_district) = app
        .user_with_token("huyen.quynhnhai", Role::DistrictSupervisor, "118")
        .await;
    let admin = app.admin_token.clone();
    let p = photo(2, 4);
    let body = announcement(&p, COMMUNE);

    // an officer of another commune (same district) cannot announce it, nor can a supervisor or
    // the province
    let refused = announce(&app, &neighbour, &body).await;
    assert_eq!(error_body(refused, 403).await["code"], "out_of_scope");
    for who in [&district, &admin] {
        let refused = announce(&app, who, &body).await;
        assert_eq!(error_body(refused, 403).await["code"], "forbidden");
    }
    let before = app.row_counts().await;
    assert_eq!(announce(&app, &token, &body).await.status(), 201);
    send_ok(&app, &token, &p, 0).await;
    // nobody but the commune's officers adds to it
    for who in [&neighbour, &district, &admin] {
        let refused = send_chunk(&app, who, p.id, CHUNK, &p.bytes[CHUNK..]).await;
        assert_eq!(refused.status(), 403);
    }
    assert_eq!(
        upload_state(&app, &token, p.id).await["received"],
        json!(CHUNK)
    );
    send_ok(&app, &token, &p, 1).await;
    let after = app.row_counts().await;
    let rows =
        |counts: &[(&str, u64)], table: &str| counts.iter().find(|(t, _)| *t == table).unwrap().1;
    assert_eq!(rows(&after, "evidence") - rows(&before, "evidence"), 1);
    assert_eq!(
        rows(&after, "evidence_chunks") - rows(&before, "evidence_chunks"),
        2
    );

    let path = format!("/api/evidence/{}", p.id);
    for (who, name) in [
        (&district, "district"),
        (&admin, "province"),
        (&token, "officer"),
    ] {
        let response = get(&app, who, &path).await;
        assert_eq!(response.status(), 200, "{name} reads it");
        assert!(response.bytes().await.unwrap()[..] == p.bytes[..], "{name}");
        let state = get(&app, who, &format!("{path}/upload")).await;
        assert_eq!(state.status(), 200, "{name} reads its state");
    }
    for who in [&other_district, &neighbour] {
        let response = get(&app, who, &path).await;
        assert_eq!(error_body(response, 403).await["code"], "out_of_scope");
        let response = get(&app, who, &format!("{path}/upload")).await;
        assert_eq!(response.status(), 403);
    }
    let anonymous = app.anon.get(app.url(&path)).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
}

#[tokio::test]
async fn uploads_outside_the_rules_are_refused_with_the_reason() {
    let app = spawn_app().await;
    let token = officer(&app).await;
    let p = photo(2, 5);
    let body = announcement(&p, COMMUNE);

    let mut too_large = body.clone();
    too_large["size"] = json!(MAX_EVIDENCE_BYTES + 1);
    let error = error_body(announce(&app, &token, &too_large).await, 413).await;
    assert_eq!(error["code"], "evidence_too_large");
    assert_eq!(error["fields"][0]["field"], "size");
    let mut at_limit = body.clone();
    at_limit["id"] = json!(Uuid::now_v7());
    at_limit["size"] = json!(MAX_EVIDENCE_BYTES);
    assert_eq!(announce(&app, &token, &at_limit).await.status(), 201);

    for (field, value) in [
        ("content_type", json!("image/gif")),
        ("content_type", json!("text/html")),
        ("size", json!(0)),
        ("sha256", json!("ABC")),
        ("sha256", json!(p.sha256.to_uppercase())),
        ("id", json!("photo-1")),
        ("record", json!("")),
        ("unit", json!("xã")),
    ] {
        let mut bad = body.clone();
        bad[field] = value.clone();
        let error = error_body(announce(&app, &token, &bad).await, 400).await;
        assert_eq!(error["code"], "invalid_evidence", "{field}: {value}");
        assert_eq!(error["fields"][0]["field"], field, "{field}: {value}");
    }
    let unknown = get(&app, &token, &format!("/api/evidence/{}/upload", p.id)).await;
    assert_eq!(error_body(unknown, 404).await["code"], "evidence_not_found");

    assert_eq!(announce(&app, &token, &body).await.status(), 201);
    // the same id for other bytes
    let mut other = body.clone();
    other["sha256"] = json!("0".repeat(64));
    let error = error_body(announce(&app, &token, &other).await, 409).await;
    assert_eq!(error["code"], "evidence_conflict");
    let mut other = body.clone();
    other["size"] = json!(p.bytes.len() + 1);
    assert_eq!(announce(&app, &token, &other).await.status(), 409);
    let mut other = body.clone();
    other["unit"] = json!("03649");
    assert_eq!(
        announce(&app, &token, &other).await.status(),
        403,
        "another commune's unit is out of the officer's scope first"
    );

    // chunks: too large, past the end, empty, without offset or content type
    let big = vec![1u8; MAX_CHUNK_BYTES + 1];
    let whole = photo(5, 6); // 350 KiB: room for a chunk over the limit
    assert_eq!(
        announce(&app, &token, &announcement(&whole, COMMUNE))
            .await
            .status(),
        201
    );
    let error = error_body(send_chunk(&app, &token, whole.id, 0, &big).await, 413).await;
    assert_eq!(error["code"], "chunk_too_large");
    let huge = vec![1u8; MAX_CHUNK_BYTES + 64 * 1024];
    let error = error_body(send_chunk(&app, &token, whole.id, 0, &huge).await, 413).await;
    assert_eq!(error["code"], "body_too_large");
    let past = send_chunk(&app, &token, p.id, CHUNK, &vec![1u8; CHUNK + 1]).await;
    assert_eq!(error_body(past, 400).await["code"], "chunk_past_end");
    let empty = send_chunk(&app, &token, p.id, 0, &[]).await;
    assert_eq!(error_body(empty, 400).await["code"], "empty_chunk");
    let no_offset = app
        .anon
        .patch(app.url(&format!("/api/evidence/{}", p.id)))
        .bearer_auth(&token)
        .header("content-type", "application/octet-stream")
        .body(p.bytes[..CHUNK].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(error_body(no_offset, 400).await["code"], "bad_offset");
    let as_json = app
        .anon
        .patch(app.url(&format!("/api/evidence/{}?offset=0", p.id)))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(p.bytes[..CHUNK].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(error_body(as_json, 415).await["code"], "content_type");
    let unknown = send_chunk(&app, &token, Uuid::now_v7(), 0, &p.bytes[..CHUNK]).await;
    assert_eq!(error_body(unknown, 404).await["code"], "evidence_not_found");
    // none of those wrote a byte
    assert_eq!(upload_state(&app, &token, p.id).await["received"], json!(0));
    assert_eq!(
        upload_state(&app, &token, whole.id).await["received"],
        json!(0)
    );
}

#[tokio::test]
async fn two_copies_of_a_chunk_sent_at_once_to_two_servers_keep_one() {
    let app = spawn_app().await;
    let other = app.another_server().await;
    let token = officer(&app).await;
    let p = photo(6, 7);
    announce(&app, &token, &announcement(&p, COMMUNE)).await;
    for i in 0..6 {
        let start = i * CHUNK;
        let chunk = &p.bytes[start..start + CHUNK];
        let (a, b) = tokio::join!(
            send_chunk_to(&app.base, &token, p.id, start, chunk),
            send_chunk_to(&other.base, &token, p.id, start, chunk)
        );
        let mut statuses = [a.status().as_u16(), b.status().as_u16()];
        statuses.sort();
        assert_eq!(statuses, [200, 409], "chunk {i}: one kept, one refused");
        assert_eq!(
            upload_state(&app, &token, p.id).await["received"],
            json!(start + CHUNK),
            "chunk {i} counted once"
        );
    }
    let state = upload_state(&app, &token, p.id).await;
    assert_eq!(state["complete"], json!(true));
    let bytes = get(&app, &token, &format!("/api/evidence/{}", p.id))
        .await
        .bytes()
        .await
        .unwrap();
    assert!(bytes[..] == p.bytes[..]);
}
