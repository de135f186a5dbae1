//! The built web app: files, precompressed twins, SPA fallback and cache headers.

mod common;

use common::*;

const INDEX: &str = "<!doctype html><title>Thi Đua</title><p>app</p>";
const WASM: &[u8] = b"\0asm\x01\0\0\0";
const WASM_BR: &[u8] = b"pretend-brotli-bytes";

fn dist(dir: &std::path::Path) {
    std::fs::write(dir.join("index.html"), INDEX).unwrap();
    std::fs::write(
        dir.join("sw.js"),
        "self.addEventListener('fetch', () => {});",
    )
    .unwrap();
    std::fs::write(dir.join("app-0123456789abcdef.wasm"), WASM).unwrap();
    std::fs::write(dir.join("app-0123456789abcdef.wasm.br"), WASM_BR).unwrap();
}

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_string())
}

#[tokio::test]
async fn serves_the_app_with_cache_headers_and_precompressed_files() {
    let app = spawn_app_with(dist).await;

    let response = app.client.get(app.url("/")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        header(&response, "cache-control").as_deref(),
        Some("no-cache")
    );
    assert!(header(&response, "content-type")
        .unwrap()
        .starts_with("text/html"));
    assert_eq!(response.text().await.unwrap(), INDEX);

    let response = app.client.get(app.url("/sw.js")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        header(&response, "cache-control").as_deref(),
        Some("no-cache")
    );

    let response = app
        .client
        .get(app.url("/app-0123456789abcdef.wasm"))
        .header("accept-encoding", "br")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "content-encoding").as_deref(), Some("br"));
    assert_eq!(
        header(&response, "cache-control").as_deref(),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(
        header(&response, "content-type").as_deref(),
        Some("application/wasm")
    );
    assert_eq!(response.bytes().await.unwrap().as_ref(), WASM_BR);

    // without br the plain file
    let response = app
        .client
        .get(app.url("/app-0123456789abcdef.wasm"))
        .send()
        .await
        .unwrap();
    assert_eq!(header(&response, "content-encoding"), None);
    assert_eq!(response.bytes().await.unwrap().as_ref(), WASM);

    // the app's own routes get index.html; a missing file does not
    let response = app
        .client
        .get(app.url("/households/x"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        header(&response, "cache-control").as_deref(),
        Some("no-cache")
    );
    assert_eq!(response.text().await.unwrap(), INDEX);
    let response = app
        .client
        .get(app.url("/missing-0123456789abcdef.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);

    // the API keeps its JSON 404
    let response = app.client.get(app.url("/api/nope")).send().await.unwrap();
    assert_eq!(error_body(response, 404).await["code"], "not_found");
}

#[tokio::test]
async fn says_how_to_build_the_app_when_it_is_missing() {
    let app = spawn_app().await; // empty dist folder
    let response = app.client.get(app.url("/")).send().await.unwrap();
    assert!(header(&response, "content-type")
        .unwrap()
        .starts_with("text/html"));
    let page = response.text().await.unwrap();
    assert!(page.contains("chưa được dựng"), "{page}");
    assert!(page.contains("bash scripts/start.sh"), "{page}");
    // the API works meanwhile
    let response = app.client.get(app.url("/api/health")).send().await.unwrap();
    assert_eq!(response.status(), 200);
}
