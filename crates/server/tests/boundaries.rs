//! The map's boundaries: the deployment's GeoJSON files (copied here at test time from
//! ../shared/data into a temporary THIDUA_BOUNDARIES_DIR, never into the repository) reduced to unit
//! codes and geometry, with cache headers; 404 when none are loaded.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use serde_json::Value;

fn shared(name: &str) -> PathBuf {
    [
        env!("CARGO_MANIFEST_DIR"),
        "..",
        "..",
        "..",
        "shared",
        "data",
        name,
    ]
    .iter()
    .collect()
}

/// A boundary folder with the shared files under the names the deployment uses.
fn boundary_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (from, to) in [
        ("sonla_districts.geojson", "districts-2023.geojson"),
        ("sonla_communes_2025.geojson", "communes-2025.geojson"),
    ] {
        std::fs::copy(shared(from), dir.path().join(to))
            .unwrap_or_else(|e| panic!("reference data {from} is needed for these tests: {e}"));
    }
    dir
}

async fn app_with(dir: Option<&Path>) -> TestApp {
    let dir = dir.map(Path::to_path_buf);
    spawn_app_configured(|_| {}, move |config| config.boundaries_dir = dir).await
}

fn codes(body: &Value) -> Vec<String> {
    let mut codes: Vec<String> = body["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"]["code"].as_str().unwrap().to_string())
        .collect();
    codes.sort();
    codes
}

#[tokio::test]
async fn districts_and_2025_communes_with_their_codes_and_cache_headers() {
    let dir = boundary_dir();
    let app = app_with(Some(dir.path())).await;

    let response = app
        .client
        .get(app.url("/api/boundaries/2023"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/geo+json");
    assert_eq!(response.headers()["cache-control"], "private, max-age=3600");
    let etag = response.headers()["etag"].to_str().unwrap().to_string();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["type"], "FeatureCollection");
    assert_eq!(body["unit_list"], "sonla-2023");
    assert_eq!(body["level"], "district");
    assert_eq!(
        codes(&body),
        ["116", "118", "119", "120", "121", "122", "123", "124", "125", "126", "127", "128"]
    );
    assert_eq!(body["missing"].as_array().unwrap().len(), 0);
    assert_eq!(body["unmatched"].as_array().unwrap().len(), 0);
    let city = body["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "116")
        .unwrap();
    assert_eq!(city["properties"]["full_name"], "Thành phố Sơn La");
    assert_eq!(
        city["properties"].as_object().unwrap().len(),
        3,
        "only what a map needs"
    );
    assert!(city["geometry"]["type"]
        .as_str()
        .unwrap()
        .ends_with("Polygon"));
    assert!(city["geometry"]["coordinates"]
        .as_array()
        .is_some_and(|c| !c.is_empty()));

    // unchanged: 304
    let response = app
        .client
        .get(app.url("/api/boundaries/2023"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 304);

    let body: Value = app.get_json("/api/boundaries/2025").await;
    assert_eq!(body["level"], "commune");
    assert_eq!(codes(&body).len(), 75);
    assert!(codes(&body).contains(&"03646".to_string()));
    assert_eq!(body["missing"].as_array().unwrap().len(), 0);

    // a deployment's file with other property names (a numeric "ma", or only a name) still matches
    let text = std::fs::read_to_string(shared("sonla_districts.geojson")).unwrap();
    let mut other: Value = serde_json::from_str(&text).unwrap();
    let last_code = other["features"].as_array().unwrap().last().unwrap()["properties"]["code"]
        .as_str()
        .unwrap()
        .to_string();
    for (i, feature) in other["features"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .enumerate()
    {
        let props = feature["properties"].as_object_mut().unwrap();
        let code = props.remove("code").unwrap();
        props.remove("name");
        if i % 2 == 0 {
            props.insert(
                "ma".into(),
                code.as_str().unwrap().parse::<u64>().unwrap().into(),
            );
            props.remove("full_name");
        }
    }
    // and one district left out of the file: said in `missing`
    other["features"].as_array_mut().unwrap().pop().unwrap();
    std::fs::write(dir.path().join("districts-2023.geojson"), other.to_string()).unwrap();
    let response = app
        .client
        .get(app.url("/api/boundaries/2023"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "a new file is a new version");
    let body: Value = response.json().await.unwrap();
    assert_eq!(codes(&body).len(), 11);
    assert_eq!(body["missing"], serde_json::json!([last_code]));

    let response = app
        .client
        .get(app.url("/api/boundaries/2030"))
        .send()
        .await
        .unwrap();
    assert_eq!(error_body(response, 404).await["code"], "unknown_structure");
    let response = app
        .anon
        .get(app.url("/api/boundaries/2023"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn without_boundary_files_the_map_says_none_are_loaded() {
    let app = app_with(None).await;
    let response = app
        .client
        .get(app.url("/api/boundaries/2023"))
        .send()
        .await
        .unwrap();
    let error = error_body(response, 404).await;
    assert_eq!(error["code"], "no_boundaries");
    assert!(error["message_en"]
        .as_str()
        .unwrap()
        .contains("No boundaries loaded"));
    let empty = tempfile::tempdir().unwrap();
    let app = app_with(Some(empty.path())).await;
    let response = app
        .client
        .get(app.url("/api/boundaries/2025"))
        .send()
        .await
        .unwrap();
    assert_eq!(error_body(response, 404).await["code"], "no_boundaries");
}
