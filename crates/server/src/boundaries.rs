//! Unit boundaries for the dashboard's map: `GET /api/boundaries/2023` (the 12 districts) and
//! `GET /api/boundaries/2025` (the 75 communes), from the GeoJSON files the deployment puts in
//! `THIDUA_BOUNDARIES_DIR`: `districts-2023.geojson` and `communes-2025.geojson`. Boundary geometry
//! is never part of the release; without the folder or the file the answer is 404 `no_boundaries`.
//!
//! Each feature is matched to a unit of the structure's list: by a code property (`code`, `ma`,
//! `ma_dvhc`, `unit_code`, a number or text, zero-padded to 3 digits for a district and 5 for a
//! commune), or else by its name (`full_name`, `name`, `ten`, accents and case aside). The answer is
//! a FeatureCollection reduced to what a map needs: each feature's `id` and `properties.code` (our
//! unit code), `properties.name` and `full_name` (our names), and its geometry, plus `missing` (units
//! without a feature) and `unmatched` (features that match no unit, left out). It is prepared once per
//! file version (its size and modification time) and served with an `ETag` and
//! `Cache-Control: private, max-age=3600`; `If-None-Match` gets 304.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use axum::extract::{Path as UrlPath, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use thidua_domain::org::{Level, OrgUnit, UnitList};
use thidua_domain::text::search_key;

use crate::error::ApiError;
use crate::AppState;

/// The boundary folder and what was prepared from its files.
#[derive(Debug, Default)]
pub struct Boundaries {
    dir: Option<PathBuf>,
    prepared: Mutex<HashMap<String, Prepared>>,
}

#[derive(Debug, Clone)]
struct Prepared {
    stamp: (u64, Option<SystemTime>),
    list: String,
    body: Arc<Vec<u8>>,
    etag: String,
}

/// A structure's file, list and level.
fn layer(structure: &str) -> Option<(&'static str, &'static str, Level)> {
    match structure {
        "2023" => Some(("districts-2023.geojson", "sonla-2023", Level::District)),
        "2025" => Some(("communes-2025.geojson", "sonla-2025-07", Level::Commune)),
        _ => None,
    }
}

impl Boundaries {
    pub fn new(dir: Option<PathBuf>) -> Boundaries {
        Boundaries {
            dir,
            prepared: Mutex::new(HashMap::new()),
        }
    }

    fn file(&self, name: &str) -> Option<PathBuf> {
        self.dir.as_deref().map(|d| d.join(name))
    }
}

fn no_boundaries(structure: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "no_boundaries",
        format!(
            "Chưa nạp ranh giới đơn vị cho cơ cấu {structure} (no boundaries loaded): người quản trị \
             máy chủ đặt tệp GeoJSON vào thư mục THIDUA_BOUNDARIES_DIR."
        ),
        format!(
            "No boundaries loaded for structure {structure}: the server's operator puts the GeoJSON \
             file in the THIDUA_BOUNDARIES_DIR folder."
        ),
    )
}

const CODE_KEYS: [&str; 6] = ["code", "ma", "ma_dvhc", "unit_code", "MA", "Ma"];
const NAME_KEYS: [&str; 5] = ["full_name", "name", "ten", "TEN", "Ten"];

/// The unit of `level` a feature's properties name.
fn match_unit<'a>(
    list: &'a UnitList,
    level: Level,
    props: &Map<String, Value>,
) -> Option<&'a OrgUnit> {
    let width = if level == Level::District { 3 } else { 5 };
    for key in CODE_KEYS {
        let text = match props.get(key) {
            Some(Value::String(s)) => s.trim().to_string(),
            Some(Value::Number(n)) => n.to_string(),
            _ => continue,
        };
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) || text.len() > width {
            continue;
        }
        let code = format!("{text:0>width$}");
        let found = thidua_domain::org::UnitCode::parse(&code)
            .ok()
            .and_then(|c| list.get(&c))
            .filter(|u| u.level() == level);
        if found.is_some() {
            return found;
        }
    }
    for key in NAME_KEYS {
        let Some(name) = props.get(key).and_then(Value::as_str) else {
            continue;
        };
        let wanted = search_key(name);
        let found = list
            .at_level(level)
            .find(|u| search_key(&u.full_name()) == wanted || u.search_key == wanted);
        if found.is_some() {
            return found;
        }
    }
    None
}

/// The reduced FeatureCollection of a GeoJSON text.
pub fn prepare(
    text: &str,
    list: &UnitList,
    level: Level,
    structure: &str,
) -> Result<Value, String> {
    let value: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let features = value
        .get("features")
        .and_then(Value::as_array)
        .ok_or("not a FeatureCollection")?;
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    let mut unmatched = Vec::new();
    for (i, feature) in features.iter().enumerate() {
        let empty = Map::new();
        let props = feature
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let geometry = feature.get("geometry").cloned().unwrap_or(Value::Null);
        match match_unit(list, level, props) {
            Some(unit) if !geometry.is_null() && seen.insert(unit.code.clone()) => {
                out.push(json!({
                    "type": "Feature",
                    "id": unit.code,
                    "properties": {"code": unit.code, "name": unit.name, "full_name": unit.full_name()},
                    "geometry": geometry,
                }));
            }
            _ => {
                let label = NAME_KEYS
                    .iter()
                    .chain(CODE_KEYS.iter())
                    .find_map(|k| props.get(*k).map(|v| v.to_string()))
                    .unwrap_or_else(|| format!("#{}", i + 1));
                unmatched.push(label);
            }
        }
    }
    let missing: Vec<String> = list
        .at_level(level)
        .filter(|u| !seen.contains(&u.code))
        .map(|u| u.code.to_string())
        .collect();
    Ok(json!({
        "type": "FeatureCollection",
        "structure": structure,
        "unit_list": list.id,
        "level": level,
        "features": out,
        "missing": missing,
        "unmatched": unmatched,
    }))
}

fn stamp(path: &Path) -> Option<(u64, Option<SystemTime>)> {
    let meta = std::fs::metadata(path).ok()?;
    meta.is_file().then(|| (meta.len(), meta.modified().ok()))
}

pub async fn boundaries(
    State(state): State<AppState>,
    UrlPath(structure): UrlPath<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Some((file, list_id, level)) = layer(&structure) else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_structure",
            format!("Không có cơ cấu đơn vị «{structure}»: dùng 2023 hoặc 2025."),
            format!("No unit structure «{structure}»: use 2023 or 2025."),
        ));
    };
    let boundaries = &state.boundaries;
    let path = boundaries
        .file(file)
        .ok_or_else(|| no_boundaries(&structure))?;
    let current = stamp(&path).ok_or_else(|| no_boundaries(&structure))?;
    let cached = boundaries
        .prepared
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&structure)
        .filter(|p| p.stamp == current && p.list == list_id)
        .cloned();
    let prepared = match cached {
        Some(prepared) => prepared,
        None => {
            let reference = state.reference.now(&state.store).await?;
            let list = reference
                .catalog
                .list(list_id)
                .ok_or_else(|| no_boundaries(&structure))?
                .clone();
            let structure_name = structure.clone();
            let prepared = tokio::task::spawn_blocking(move || {
                let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
                let value = prepare(&text, &list, level, &structure_name)?;
                let body = serde_json::to_vec(&value).map_err(|e| e.to_string())?;
                let etag = format!("\"{}\"", &crate::auth::hex(&Sha256::digest(&body))[..32]);
                Ok::<_, String>(Prepared {
                    stamp: current,
                    list: list.id.clone(),
                    body: Arc::new(body),
                    etag,
                })
            })
            .await
            .map_err(|e| ApiError::corrupt("boundaries task", e))?
            .map_err(|e| {
                tracing::error!(structure = %structure, error = %e, "boundary file unreadable");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "bad_boundaries",
                    format!("Tệp ranh giới của cơ cấu {structure} không đọc được: {e}"),
                    format!("The boundary file of structure {structure} cannot be read: {e}"),
                )
            })?;
            boundaries
                .prepared
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(structure.clone(), prepared.clone());
            prepared
        }
    };
    let etag = HeaderValue::from_str(&prepared.etag).map_err(|e| ApiError::corrupt("etag", e))?;
    let cache = HeaderValue::from_static("private, max-age=3600");
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim() == prepared.etag || t.trim() == "*")
        });
    if fresh {
        return Ok((
            StatusCode::NOT_MODIFIED,
            [(header::ETAG, etag), (header::CACHE_CONTROL, cache)],
        )
            .into_response());
    }
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/geo+json"),
            ),
            (header::ETAG, etag),
            (header::CACHE_CONTROL, cache),
        ],
        prepared.body.as_ref().clone(),
    )
        .into_response())
}
