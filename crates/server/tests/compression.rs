//! Compression both ways (see crates/server/src/encoding.rs): gzip push bodies read like plain ones,
//! the 1 MiB limit counted on inflated bytes (a gzip bomb is a 413) and on compressed ones, broken or
//! unknown codings refused in the API's JSON, answers compressed as the client accepts, and the app's
//! precompressed files left as they are.

mod common;

use std::io::{Read, Write};
use std::time::Duration;

use common::*;
use serde_json::{json, Value};
use thidua_domain::protocol::{Outcome, PushRequest, RecordId, PROTOCOL_VERSION};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use uuid::Uuid;

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("valid gzip");
    out
}

fn unbrotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    brotli::Decompressor::new(bytes, 4096)
        .read_to_end(&mut out)
        .expect("valid brotli");
    out
}

type Decode = fn(&[u8]) -> Vec<u8>;

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_string())
}

/// `body` to `path` as JSON with the administrator's token, marked with `coding` when given.
async fn post_encoded(
    app: &TestApp,
    path: &str,
    coding: Option<&str>,
    body: Vec<u8>,
) -> reqwest::Response {
    let mut request = app
        .client
        .post(app.url(path))
        .header("content-type", "application/json");
    if let Some(coding) = coding {
        request = request.header("content-encoding", coding);
    }
    request.body(body).send().await.expect("sent")
}

/// A push of `count` new households of 03646 from one device, as JSON.
fn push_body(count: usize) -> Vec<u8> {
    let device = new_device();
    let mutations = (0..count)
        .map(|i| {
            let fields = household_fields(json!({"head_name": format!("Lò Văn Thử {i}")}));
            create(device, household(RecordId(Uuid::now_v7()), "03646", fields))
        })
        .collect();
    serde_json::to_vec(&PushRequest {
        protocol: PROTOCOL_VERSION,
        device,
        mutations,
    })
    .unwrap()
}

#[tokio::test]
async fn a_gzip_push_is_applied_as_the_same_push_sent_plain() {
    // the same push to two fresh servers, once plain and once gzip-compressed
    let plain_app = spawn_app().await;
    let gzip_app = spawn_app().await;
    let body = push_body(20);
    let compressed = gzip(&body);
    assert!(compressed.len() * 3 < body.len(), "worth compressing");

    let response = post_encoded(&plain_app, "/api/sync/push", None, body).await;
    assert_eq!(response.status(), 200);
    let plain: Value = response.json().await.unwrap();
    let response = post_encoded(&gzip_app, "/api/sync/push", Some("gzip"), compressed).await;
    assert_eq!(response.status(), 200);
    let zipped: Value = response.json().await.unwrap();

    assert_eq!(zipped, plain);
    let answer: thidua_domain::protocol::PushResponse = serde_json::from_value(zipped).unwrap();
    assert_eq!(answer.results.len(), 20);
    assert!(answer
        .results
        .iter()
        .all(|r| matches!(r.outcome, Outcome::Applied { .. })));
    assert_eq!(gzip_app.pull_all().await, plain_app.pull_all().await);
    assert_eq!(gzip_app.latest_revision().await, 20);
}

#[tokio::test]
async fn pull_answers_come_compressed_as_the_client_accepts() {
    let app = spawn_app().await;
    let response = post_encoded(&app, "/api/sync/push", None, push_body(50)).await;
    assert_eq!(response.status(), 200);
    let pull = json!({"protocol": PROTOCOL_VERSION, "limit": 500});

    // no Accept-Encoding: plain JSON
    let response = app
        .client
        .post(app.url("/api/sync/pull"))
        .json(&pull)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "content-encoding"), None);
    let plain_bytes = response.bytes().await.unwrap();
    let plain: Value = serde_json::from_slice(&plain_bytes).unwrap();
    assert_eq!(plain["records"].as_array().unwrap().len(), 50);

    for (coding, decode) in [("br", unbrotli as Decode), ("gzip", gunzip)] {
        let response = app
            .client
            .post(app.url("/api/sync/pull"))
            .header("accept-encoding", coding)
            .json(&pull)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{coding}");
        assert_eq!(
            header(&response, "content-encoding").as_deref(),
            Some(coding)
        );
        assert!(
            header(&response, "vary")
                .unwrap_or_default()
                .to_ascii_lowercase()
                .contains("accept-encoding"),
            "caches keep the codings apart"
        );
        // compression leaves the security headers alone
        assert_eq!(
            header(&response, "x-content-type-options").as_deref(),
            Some("nosniff")
        );
        assert!(header(&response, "content-type")
            .unwrap()
            .starts_with("application/json"));
        let raw = response.bytes().await.unwrap();
        assert!(
            raw.len() * 3 < plain_bytes.len(),
            "{coding}: {} bytes for {} plain",
            raw.len(),
            plain_bytes.len()
        );
        let decoded: Value = serde_json::from_slice(&decode(&raw)).unwrap();
        assert_eq!(decoded, plain, "{coding}");
    }
}

const SW: &str = "self.addEventListener('fetch', () => {});\n";
const WASM: &[u8] = b"\0asm\x01\0\0\0";
const WASM_BR: &[u8] = b"pretend-brotli-bytes";

#[tokio::test]
async fn the_app_files_are_not_compressed_again() {
    let app = spawn_app_with(|dir| {
        std::fs::write(
            dir.join("index.html"),
            "<!doctype html><p>app</p>".repeat(20),
        )
        .unwrap();
        // long enough that a compressing layer would compress it
        std::fs::write(dir.join("sw.js"), SW.repeat(50)).unwrap();
        std::fs::write(dir.join("app-0123456789abcdef.wasm"), WASM).unwrap();
        std::fs::write(dir.join("app-0123456789abcdef.wasm.br"), WASM_BR).unwrap();
    })
    .await;
    let get = |path: &str, accept: &str| {
        app.anon
            .get(app.url(path))
            .header("accept-encoding", accept)
            .send()
    };

    // no precompressed twin: sent as it is, whatever the client accepts
    for path in ["/sw.js", "/", "/households/x"] {
        let response = get(path, "gzip, br").await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(header(&response, "content-encoding"), None, "{path}");
    }
    let response = get("/sw.js", "gzip, br").await.unwrap();
    assert_eq!(response.text().await.unwrap(), SW.repeat(50));

    // the .br twin, byte for byte: not compressed a second time
    let response = get("/app-0123456789abcdef.wasm", "gzip, br").await.unwrap();
    assert_eq!(header(&response, "content-encoding").as_deref(), Some("br"));
    assert_eq!(response.bytes().await.unwrap().as_ref(), WASM_BR);
    // gzip accepted, but there is no .gz twin: the plain file
    let response = get("/app-0123456789abcdef.wasm", "gzip").await.unwrap();
    assert_eq!(header(&response, "content-encoding"), None);
    assert_eq!(response.bytes().await.unwrap().as_ref(), WASM);
}

#[tokio::test]
async fn the_limit_counts_inflated_bytes_and_a_gzip_bomb_is_a_413() {
    let app = spawn_app().await;
    let before = app.row_counts().await;

    // 16 MiB of spaces inflated from a few KiB: cut off at 1 MiB, not read to the end
    let mut bomb = br#"{"protocol": 1, "mutations": ["#.to_vec();
    bomb.resize(16 * 1024 * 1024, b' ');
    let bomb = gzip(&bomb);
    assert!(bomb.len() < 64 * 1024, "{} bytes", bomb.len());
    let response = tokio::time::timeout(
        Duration::from_secs(20),
        post_encoded(&app, "/api/sync/push", Some("gzip"), bomb),
    )
    .await
    .expect("answered, not hung");
    let error = error_body(response, 413).await;
    assert_eq!(error["code"], "body_too_large");
    assert!(
        error["message"].as_str().unwrap().contains("quá lớn"),
        "{error}"
    );
    assert_eq!(app.row_counts().await, before);

    // the same size just under the limit once inflated is read (JSON may carry spaces)
    let mut under = push_body(1);
    let end = under.pop().unwrap();
    under.resize(1024 * 1024 - 1, b' ');
    under.push(end);
    let response = post_encoded(&app, "/api/sync/push", Some("gzip"), gzip(&under)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(app.latest_revision().await, 1);

    // and a byte over is not
    let mut over = push_body(1);
    let end = over.pop().unwrap();
    over.resize(1024 * 1024, b' ');
    over.push(end);
    let response = post_encoded(&app, "/api/sync/push", Some("gzip"), gzip(&over)).await;
    assert_eq!(error_body(response, 413).await["code"], "body_too_large");
    assert_eq!(app.latest_revision().await, 1);
}

#[tokio::test]
async fn a_body_marked_gzip_that_is_not_gzip_is_a_400() {
    let app = spawn_app().await;
    let before = app.row_counts().await;
    let body = push_body(3);
    let compressed = gzip(&body);
    let mut bad_checksum = compressed.clone();
    let at = bad_checksum.len() - 6; // inside the CRC-32 of the trailer
    bad_checksum[at] ^= 0xff;
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("plain JSON", body.clone()),
        ("cut short", compressed[..compressed.len() / 2].to_vec()),
        ("bad checksum", bad_checksum),
        // (bytes after a whole gzip stream are ignored, as gunzip does, when they arrive with its end)
    ];
    for (what, bytes) in cases {
        let response = post_encoded(&app, "/api/sync/push", Some("gzip"), bytes).await;
        let error = error_body(response, 400).await;
        assert_eq!(error["code"], "bad_encoding", "{what}: {error}");
        assert!(
            error["message"].as_str().unwrap().contains("gzip"),
            "{what}: {error}"
        );
    }
    // an administrator's upload reads its body its own way: the same answer
    let response = app
        .client
        .post(app.url("/api/admin/unit-lists"))
        .header("content-type", "text/tab-separated-values")
        .header("content-encoding", "gzip")
        .body(later_unit_list("sonla-2026-thu"))
        .send()
        .await
        .unwrap();
    assert_eq!(error_body(response, 400).await["code"], "bad_encoding");
    assert_eq!(app.row_counts().await, before);

    // a gzip upload that is gzip is read
    let response = app
        .client
        .post(app.url("/api/admin/unit-lists"))
        .header("content-type", "text/tab-separated-values")
        .header("content-encoding", "gzip")
        .body(gzip(later_unit_list("sonla-2026-thu").as_bytes()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
}

#[tokio::test]
async fn codings_the_server_does_not_read_are_a_415() {
    let app = spawn_app().await;
    let before = app.row_counts().await;
    let body = push_body(1);
    for coding in ["br", "deflate", "zstd", "gzip, gzip", "compress"] {
        let response = post_encoded(&app, "/api/sync/push", Some(coding), body.clone()).await;
        assert_eq!(
            header(&response, "accept-encoding").as_deref(),
            Some("gzip"),
            "{coding}: the 415 names what is read"
        );
        let error = error_body(response, 415).await;
        assert_eq!(error["code"], "content_encoding", "{coding}");
        let first = coding.split(',').next().unwrap();
        assert!(
            error["message"].as_str().unwrap().contains(first),
            "{coding}: {error}"
        );
    }
    assert_eq!(app.row_counts().await, before);

    // codings are case-insensitive, and identity is no coding at all
    let response = post_encoded(&app, "/api/sync/push", Some("GZIP"), gzip(&body)).await;
    assert_eq!(response.status(), 200);
    let response = post_encoded(&app, "/api/sync/push", Some("identity"), push_body(1)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(app.latest_revision().await, 2);
}

/// A gzip stream of `blocks` empty deflate blocks: any length on the wire, nothing once inflated.
fn empty_blocks(blocks: usize) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let header = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    // a stored block, not the last: 3 header bits padded to a byte, then LEN 0 and NLEN !0
    let block = [0x00, 0x00, 0x00, 0xff, 0xff].repeat(blocks);
    // the last (empty) stored block, then CRC-32 and length of nothing
    let end = vec![0x01, 0x00, 0x00, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0];
    (header, block, end)
}

#[tokio::test]
async fn compressed_bytes_over_the_limit_are_refused_too() {
    let app = spawn_app().await;
    let (head, blocks, end) = empty_blocks(13_107); // 64 KiB of blocks
                                                    // a small stream of empty blocks is valid gzip (of nothing: an empty body is not JSON)
    let small = [head.clone(), blocks.clone(), end.clone()].concat();
    assert!(gunzip(&small).is_empty());
    let response = post_encoded(&app, "/api/sync/push", Some("gzip"), small).await;
    assert_eq!(error_body(response, 400).await["code"], "malformed_json");

    // with its length given: refused before it is read
    let big = [head.clone(), blocks.repeat(20), end.clone()].concat();
    assert!(big.len() > 1024 * 1024);
    let response = post_encoded(&app, "/api/sync/push", Some("gzip"), big).await;
    assert_eq!(error_body(response, 413).await["code"], "body_too_large");

    // sent in chunks, with no length: counted as it comes, and cut off past 1 MiB
    let address = app.base.trim_start_matches("http://").to_string();
    let stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let head_text = format!(
        "POST /api/sync/push HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Encoding: gzip\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        app.admin_token
    );
    let sender = tokio::spawn(async move {
        let mut chunks = vec![head];
        chunks.extend(std::iter::repeat_n(blocks, 20));
        chunks.push(end);
        writer.write_all(head_text.as_bytes()).await?;
        for chunk in chunks {
            writer
                .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                .await?;
            writer.write_all(&chunk).await?;
            writer.write_all(b"\r\n").await?;
        }
        writer.write_all(b"0\r\n\r\n").await?;
        Ok::<_, std::io::Error>(())
    });
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), reader.read_to_end(&mut answer))
        .await
        .expect("answered, not hung")
        .expect("the answer is read");
    // the server may stop reading (and the sender meet a closed socket) once it has answered
    let _ = sender.await.unwrap();
    let answer = String::from_utf8(answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").expect("a whole answer");
    assert!(head.starts_with("HTTP/1.1 413"), "{head}");
    let body: Value = serde_json::from_str(body).unwrap();
    assert_eq!(body["error"]["code"], "body_too_large");
    assert_eq!(app.latest_revision().await, 0);
}
