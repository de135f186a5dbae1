//! The province administrator's reference data: unit lists (danh mục đơn vị), criteria sets (bộ tiêu
//! chí) and target sets (bộ chỉ tiêu). Each arrives in the domain crate's own format and is checked by
//! the domain's own parser ([`UnitList::parse`] and [`OrgCatalog::add`](thidua_domain::org::OrgCatalog::add),
//! [`CriteriaSet::from_json`], [`TargetSet::from_json`]); the server adds only what an address and a
//! primary key need (the id's characters) and what makes a set usable here (a target set's unit list
//! is known). An accepted one is stored, then put in force for later requests ([`crate::reference`]);
//! a refused one changes nothing, in the database or in memory.
//!
//! - `GET  /api/admin/unit-lists`, `POST /api/admin/unit-lists` (the TSV as the body)
//! - `GET  /api/admin/criteria-sets`, `PUT /api/admin/criteria-sets/{id}` (the whole set),
//!   `PUT /api/admin/criteria-sets/{id}/requirements/{code}` (one requirement)
//! - `GET  /api/admin/target-sets`, `PUT /api/admin/target-sets/{id}`
//! - `GET  /api/criteria-sets/{id}`, `GET /api/target-sets/{id}`: any signed-in user (devices need them)
//! - `GET  /api/reference-sets?have=V`: every set the province stored, for devices to keep offline
//!
//! Handlers take the body as a plain `Request` and read it only after the role check, so a commune
//! officer's upload is a 403 whatever its body, never a parse error that hints at what was checked.

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::{Extension, Json};
use serde_json::{json, Value};
use thidua_domain::criteria::{CriteriaSet, Indicator, Requirement, ValueKind};
use thidua_domain::org::{UnitList, UnitListError};
use thidua_domain::targets::TargetSet;
use thidua_domain::FieldError;

use crate::auth::{unix_now, Caller};
use crate::error::{ApiError, ApiJson};
use crate::reference::{CriteriaSetSummary, TargetSetSummary, UnitListSummary};
use crate::store::{SetTable, StoredDocument};
use crate::AppState;

/// What a request uploads: decides the accepted content types and the words of every refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Upload {
    UnitList,
    CriteriaSet,
    TargetSet,
}

impl Upload {
    fn invalid_code(self) -> &'static str {
        match self {
            Upload::UnitList => "invalid_unit_list",
            Upload::CriteriaSet => "invalid_criteria_set",
            Upload::TargetSet => "invalid_target_set",
        }
    }

    fn name_vi(self) -> &'static str {
        match self {
            Upload::UnitList => "Danh mục đơn vị",
            Upload::CriteriaSet => "Bộ tiêu chí",
            Upload::TargetSet => "Bộ chỉ tiêu",
        }
    }

    fn name_en(self) -> &'static str {
        match self {
            Upload::UnitList => "The unit list",
            Upload::CriteriaSet => "The criteria set",
            Upload::TargetSet => "The target set",
        }
    }

    /// Media types without parameters; `text/plain` too for lists, since that is what a browser's file
    /// input or curl's `--data-binary` sends for a .tsv or .txt file.
    fn content_types(self) -> &'static [&'static str] {
        match self {
            Upload::UnitList => &["text/tab-separated-values", "text/plain"],
            Upload::CriteriaSet | Upload::TargetSet => &["application/json"],
        }
    }

    /// A 422 for an upload its parser (or the catalog) refused, with the parser's reason.
    fn refused(self, reason_vi: &str, what_to_do_vi: &str, what_to_do_en: &str) -> ApiError {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            self.invalid_code(),
            format!(
                "{} chưa dùng được: {reason_vi}. {what_to_do_vi} Chưa có gì thay đổi.",
                self.name_vi()
            ),
            format!(
                "{} cannot be used: {reason_vi} (in Vietnamese). {what_to_do_en} Nothing was changed.",
                self.name_en()
            ),
        )
    }
}

/// The body as text, once its content type is one `upload` accepts. A UTF-8 byte order mark (Excel's
/// "Unicode text" and Notepad write one) is dropped: the parsers would read it as part of line 1.
async fn body_text(request: Request, upload: Upload) -> Result<String, ApiError> {
    let media_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
    let accepted = upload.content_types();
    if !media_type.is_some_and(|t| accepted.contains(&t.as_str())) {
        let (vi, en) = match upload {
            Upload::UnitList => (
                "Hãy gửi danh mục đơn vị dạng văn bản, với tiêu đề «Content-Type: \
                 text/tab-separated-values» (hoặc text/plain), nội dung là cả tệp .tsv.",
                "Send the unit list as text with the header «Content-Type: text/tab-separated-values» \
                 (or text/plain), the whole .tsv file as the body.",
            ),
            Upload::CriteriaSet | Upload::TargetSet => (
                "Hãy gửi cả tệp JSON với tiêu đề «Content-Type: application/json».",
                "Send the whole JSON file with the header «Content-Type: application/json».",
            ),
        };
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "content_type",
            vi,
            en,
        ));
    }
    let limit = crate::encoding::BodyLimit::of(&request);
    let bytes = Bytes::from_request(request, &()).await.map_err(|rejection| {
        ApiError::body_failure(&rejection, limit).unwrap_or_else(|| {
            ApiError::new(
                rejection.status(),
                "bad_body",
                "Không đọc được dữ liệu gửi lên (có thể kết nối bị ngắt giữa chừng). Hãy gửi lại.",
                "The request body could not be read (the connection may have dropped). Send it again.",
            )
        })
    })?;
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(&bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(text.to_string()),
        Err(e) => {
            // the line of the first bad byte: what a person can find in the file
            let line = bytes[..e.valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
                + 1;
            Err(upload.refused(
                &format!(
                    "dòng {line} có ký tự không phải mã UTF-8 (tệp có thể được lưu bằng mã khác)"
                ),
                "Hãy mở tệp và lưu lại với mã hoá «Unicode (UTF-8)», rồi gửi lại.",
                "Save the file again as «Unicode (UTF-8)» and send it again.",
            ))
        }
    }
}

/// The longest id accepted for a list or set.
pub const MAX_ID_CHARS: usize = 64;

/// An id becomes part of an address (`/api/criteria-sets/{id}`) and a primary key, so the server takes
/// 1–64 characters of a-z, 0-9, `.`, `_`, `-`, as the carried ones are ("sonla-2025-07").
fn check_id(upload: Upload, id: &str) -> Result<(), ApiError> {
    let ok = (1..=MAX_ID_CHARS).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if ok {
        return Ok(());
    }
    let (where_vi, where_en) = match upload {
        Upload::UnitList => ("dòng «# id: …» ở đầu tệp", "the «# id: …» line at the top"),
        Upload::CriteriaSet | Upload::TargetSet => ("ô «id»", "the «id» field"),
    };
    Err(upload
        .refused(
            &format!("mã «{id}» dài quá {MAX_ID_CHARS} ký tự hoặc có ký tự không dùng được"),
            &format!(
                "Hãy sửa {where_vi} thành mã gồm chữ thường không dấu, chữ số và các dấu . _ - \
                 (ví dụ sonla-2026-01), rồi gửi lại."
            ),
            &format!(
                "Change {where_en} to lower-case a-z, digits and . _ - (for example sonla-2026-01), and \
                 send it again."
            ),
        )
        .with_fields(vec![FieldError::new(
            "id",
            "invalid_id",
            format!("Mã chỉ gồm chữ thường không dấu, chữ số và . _ -, tối đa {MAX_ID_CHARS} ký tự"),
            format!("Use a-z, digits and . _ -, at most {MAX_ID_CHARS} characters"),
        )]))
}

/// The set's own id must be the one in the address, so a PUT never stores a set under another name.
fn check_same_id(upload: Upload, path: &str, body: &str) -> Result<(), ApiError> {
    check_id(upload, body)?;
    if path == body {
        return Ok(());
    }
    let base = match upload {
        Upload::CriteriaSet => "criteria-sets",
        _ => "target-sets",
    };
    Err(ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        upload.invalid_code(),
        format!(
            "{} gửi lên có mã «{body}» nhưng địa chỉ là của «{path}». Hãy gửi tới \
             /api/admin/{base}/{body}, hoặc sửa ô «id» thành «{path}». Chưa có gì thay đổi.",
            upload.name_vi()
        ),
        format!(
            "{} sent has id «{body}» but the address is that of «{path}». Send it to \
             /api/admin/{base}/{body}, or change its «id» to «{path}». Nothing was changed.",
            upload.name_en()
        ),
    )
    .with_fields(vec![FieldError::new(
        "id",
        "id_mismatch",
        format!("Mã phải là «{path}», như trên địa chỉ"),
        format!("The id must be «{path}», as in the address"),
    )]))
}

fn stored_json<T: serde::Serialize>(
    id: String,
    set: &T,
    caller: &Caller,
) -> Result<StoredDocument, ApiError> {
    // pretty, as the carried files are: a person may read the table
    let body =
        serde_json::to_string_pretty(set).map_err(|e| ApiError::corrupt("a set as JSON", e))?;
    Ok(StoredDocument {
        id,
        body,
        by: caller.user.id.clone(),
        at: unix_now(),
    })
}

// ---------------------------------------------------------------------------------------------------
// Unit lists

/// The unit lists the province uploaded, as their text, for any signed-in device: the app carries
/// only the built-in lists, and an officer of a commune that exists only in a later list must be able
/// to pick it offline. Only lists in force in the catalog are offered, oldest first, so a device can
/// add them in order.
pub async fn device_unit_lists(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let reference = state.reference.now(&state.store).await?;
    let mut lists: Vec<(String, StoredDocument)> = state
        .store
        .unit_lists()
        .await?
        .into_iter()
        .filter_map(|d| {
            let valid_from = reference
                .catalog
                .list(&d.id)?
                .valid_from
                .as_str()
                .to_string();
            Some((valid_from, d))
        })
        .collect();
    lists.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.id.cmp(&b.1.id)));
    let lists: Vec<Value> = lists
        .into_iter()
        .map(|(_, d)| json!({"id": d.id, "text": d.body}))
        .collect();
    Ok(Json(json!({ "unit_lists": lists })))
}

// ---------------------------------------------------------------------------------------------------
// Sets for devices

/// `GET /api/reference-sets?have=V`: the criteria sets and target sets the province stored, for any
/// signed-in device. A tablet checks NTM values and shows report targets offline, against what the
/// province requires, not only against the sets the app carries. `version` names the content; a
/// device that already holds it (`have`) gets no sets back, so a sync over 2G pays a few bytes for
/// this, not the sets again.
pub async fn device_sets(
    State(state): State<AppState>,
    query: Result<Query<DeviceSetsQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    // a query that does not read (`have` twice, say) only costs the sets being sent again
    let have = query.ok().and_then(|Query(q)| q.have);
    let reference = state.reference.now(&state.store).await?;
    let (criteria, targets) = reference.stored_sets();
    let sets = json!({ "criteria_sets": criteria, "target_sets": targets });
    let version = content_version(&sets.to_string());
    if have.as_deref() == Some(version.as_str()) {
        return Ok(Json(json!({ "version": version, "unchanged": true })));
    }
    let mut answer = sets;
    answer["version"] = Value::String(version);
    Ok(Json(answer))
}

#[derive(Debug, serde::Deserialize)]
pub struct DeviceSetsQuery {
    have: Option<String>,
}

/// A short name for a text's content (64-bit FNV-1a, in hex): equal texts, equal names; a change
/// anywhere changes it (not a defence against forgery: the sets come from this server anyway).
fn content_version(text: &str) -> String {
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{hash:016x}")
}

pub async fn list_unit_lists(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<Value>, ApiError> {
    caller.require_admin()?;
    let reference = state.reference.now(&state.store).await?;
    Ok(Json(
        json!({ "unit_lists": reference.unit_list_summaries() }),
    ))
}

/// A list the parser or the catalog refused: the line to look at when there is one.
fn unit_list_refused(error: UnitListError) -> ApiError {
    if error.line == 0 {
        Upload::UnitList.refused(
            &error.reason,
            "Hãy sửa tệp rồi tải lên lại.",
            "Fix the file and upload it again.",
        )
    } else {
        let (line, reason) = (error.line, &error.reason);
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            Upload::UnitList.invalid_code(),
            format!(
                "Danh mục đơn vị có lỗi ở dòng {line}: {reason}. Hãy sửa dòng {line} trong tệp rồi tải \
                 lên lại. Chưa có gì thay đổi."
            ),
            format!(
                "The unit list has a problem on line {line}: {reason} (in Vietnamese). Fix line {line} \
                 of the file and upload it again. Nothing was changed."
            ),
        )
    }
}

fn unit_list_exists(id: &str) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "unit_list_exists",
        format!(
            "Danh mục «{id}» đã có trên máy chủ. Danh mục đã nạp không thay được: nếu đây là bản sửa, \
             hãy đặt mã mới ở dòng «# id: …» (ví dụ {id}-v2) rồi tải lên lại. Chưa có gì thay đổi."
        ),
        format!(
            "The server already has unit list «{id}». A loaded list is never replaced: if this is a \
             correction, give it a new id on the «# id: …» line (for example {id}-v2) and upload it \
             again. Nothing was changed."
        ),
    )
}

pub async fn upload_unit_list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    request: Request,
) -> Result<(StatusCode, Json<UnitListSummary>), ApiError> {
    caller.require_admin()?;
    let text = body_text(request, Upload::UnitList).await?;
    let list = UnitList::parse(&text).map_err(unit_list_refused)?;
    check_id(Upload::UnitList, &list.id)?;
    let id = list.id.clone();

    let mut change = state.reference.begin_change(&state.store).await?;
    if change.base().catalog.list(&id).is_some() {
        return Err(unit_list_exists(&id));
    }
    let document = StoredDocument {
        id: id.clone(),
        body: text,
        by: caller.user.id.clone(),
        at: unix_now(),
    };
    // the catalog's checks (predecessor, merged_from codes, orphans) run on a copy, before anything
    // is stored: a refused list leaves no trace
    let mut next = change.base().clone();
    next.add_unit_list(list, &document)
        .map_err(unit_list_refused)?;
    let added = next.catalog.list(&id).expect("the list was just added");
    if !change
        .write()
        .insert_unit_list(added, &document.body, &document.by, document.at)
        .await?
    {
        return Err(unit_list_exists(&id));
    }
    let summary = next.unit_list_summary(added);
    change.commit(next).await?;
    tracing::info!(
        by = %caller.user.id,
        id = %id,
        communes = summary.communes,
        "unit list loaded"
    );
    Ok((StatusCode::CREATED, Json(summary)))
}

// ---------------------------------------------------------------------------------------------------
// Criteria sets

pub async fn list_criteria_sets(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<Value>, ApiError> {
    caller.require_admin()?;
    let reference = state.reference.now(&state.store).await?;
    Ok(Json(
        json!({ "criteria_sets": reference.criteria_set_summaries() }),
    ))
}

fn criteria_set_not_found(id: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "criteria_set_not_found",
        format!("Không có bộ tiêu chí «{id}». Hãy tải lại danh sách bộ tiêu chí rồi chọn lại."),
        format!(
            "There is no criteria set «{id}». Reload the list of criteria sets and choose again."
        ),
    )
}

/// Any signed-in user: a device needs the set (with the province's requirements) to assess offline.
pub async fn get_criteria_set(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<CriteriaSet>, ApiError> {
    let reference = state.reference.now(&state.store).await?;
    let set = reference
        .criteria_set(&id)
        .ok_or_else(|| criteria_set_not_found(&id))?;
    Ok(Json(set.clone()))
}

pub async fn put_criteria_set(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    request: Request,
) -> Result<(StatusCode, Json<CriteriaSetSummary>), ApiError> {
    caller.require_admin()?;
    let upload = Upload::CriteriaSet;
    let text = body_text(request, upload).await?;
    let set = CriteriaSet::from_json(&text).map_err(|reason| {
        upload.refused(
            &reason,
            "Hãy sửa tệp JSON theo đúng mẫu bộ tiêu chí rồi gửi lại.",
            "Fix the JSON to the criteria set format and send it again.",
        )
    })?;
    check_same_id(upload, &id, &set.id)?;

    let mut change = state.reference.begin_change(&state.store).await?;
    let status = if change.base().criteria_set(&id).is_some() {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let document = stored_json(id, &set, &caller)?;
    change
        .write()
        .put_set(SetTable::CriteriaSets, &document)
        .await?;
    let mut next = change.base().clone();
    next.put_criteria_set(set, &document);
    let summary = next
        .criteria_set_summary(&document.id)
        .expect("the set was just put");
    change.commit(next).await?;
    tracing::info!(by = %caller.user.id, id = %document.id, "criteria set stored");
    Ok((status, Json(summary)))
}

/// The shapes a requirement takes on the wire (serde's externally tagged [`Requirement`]).
const REQUIREMENT_SHAPES: &str =
    r#"null, {"at_least": số}, {"at_most": số}, {"equals": true|false}, "provided""#;

fn invalid_requirement(vi: String, en: String) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_requirement",
        vi,
        en,
    )
}

/// `{"requirement": …}` and nothing else; `null` clears the requirement ("chưa cấu hình").
fn parse_requirement(body: &Value) -> Result<Option<Requirement>, ApiError> {
    let shape = || {
        invalid_requirement(
            format!(
                "Hãy gửi mức đạt dạng {{\"requirement\": …}}, trong đó … là một trong: \
                 {REQUIREMENT_SHAPES} (null là bỏ mức đạt). Chưa có gì thay đổi."
            ),
            format!(
                "Send the requirement as {{\"requirement\": …}} where … is one of: \
                 {} (null clears it). Nothing was changed.",
                REQUIREMENT_SHAPES.replace("số", "number")
            ),
        )
    };
    let value = body
        .as_object()
        .filter(|object| object.len() == 1)
        .and_then(|object| object.get("requirement"))
        .ok_or_else(shape)?;
    serde_json::from_value(value.clone()).map_err(|_| shape())
}

/// A requirement of the wrong kind for its indicator: say which kinds suit it.
fn unsuited_requirement(indicator: &Indicator) -> ApiError {
    let (kind_vi, kind_en, suits_vi, suits_en) = match indicator.kind {
        ValueKind::YesNo => (
            "có/không",
            "yes/no",
            r#"{"equals": true} (đạt khi trả lời Có) hoặc {"equals": false}"#,
            r#"{"equals": true} (met when the answer is yes) or {"equals": false}"#,
        ),
        ValueKind::Percent => (
            "tỷ lệ phần trăm",
            "a percentage",
            r#"{"at_least": số} hoặc {"at_most": số}"#,
            r#"{"at_least": number} or {"at_most": number}"#,
        ),
        ValueKind::Number => (
            "số",
            "a number",
            r#"{"at_least": số} hoặc {"at_most": số}"#,
            r#"{"at_least": number} or {"at_most": number}"#,
        ),
        ValueKind::Text => (
            "chữ",
            "text",
            r#""provided" (đạt khi đã ghi nội dung)"#,
            r#""provided" (met once something is written)"#,
        ),
    };
    invalid_requirement(
        format!(
            "Chỉ tiêu {} ({}) nhận giá trị {kind_vi}, nên mức đạt phải là {suits_vi}. Hãy chọn lại; \
             bộ tiêu chí chưa thay đổi.",
            indicator.code, indicator.name_vi
        ),
        format!(
            "Indicator {} ({}) takes {kind_en}, so its requirement must be {suits_en}. Choose again; the \
             criteria set was not changed.",
            indicator.code, indicator.name_en
        ),
    )
    .with_fields(vec![FieldError::new(
        "requirement",
        "unsuited_requirement",
        format!("Mức đạt phải là {suits_vi}"),
        format!("The requirement must be {suits_en}"),
    )])
}

pub async fn put_requirement(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, code)): Path<(String, String)>,
    request: Request,
) -> Result<Json<Indicator>, ApiError> {
    caller.require_admin()?;
    let ApiJson(body) = ApiJson::<Value>::from_request(request, &()).await?;
    let requirement = parse_requirement(&body)?;

    let mut change = state.reference.begin_change(&state.store).await?;
    let mut set = change
        .base()
        .criteria_set(&id)
        .cloned()
        .ok_or_else(|| criteria_set_not_found(&id))?;
    let Some(indicator) = set.indicator(&code).cloned() else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "indicator_not_found",
            format!(
                "Bộ tiêu chí «{id}» không có chỉ tiêu «{code}». Hãy tải lại bộ tiêu chí rồi chọn chỉ \
                 tiêu trong danh sách."
            ),
            format!(
                "Criteria set «{id}» has no indicator «{code}». Reload the set and choose an indicator \
                 from it."
            ),
        ));
    };
    set.set_requirement(&code, requirement)
        .map_err(|_| unsuited_requirement(&indicator))?;
    // the whole set is stored: at start it replaces the carried set of its id as one piece
    let document = stored_json(id, &set, &caller)?;
    change
        .write()
        .put_set(SetTable::CriteriaSets, &document)
        .await?;
    let updated = set
        .indicator(&code)
        .cloned()
        .expect("the indicator was just updated");
    let mut next = change.base().clone();
    next.put_criteria_set(set, &document);
    change.commit(next).await?;
    tracing::info!(by = %caller.user.id, set = %document.id, indicator = %code, "requirement set");
    Ok(Json(updated))
}

// ---------------------------------------------------------------------------------------------------
// Target sets

pub async fn list_target_sets(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<Value>, ApiError> {
    caller.require_admin()?;
    let reference = state.reference.now(&state.store).await?;
    Ok(Json(
        json!({ "target_sets": reference.target_set_summaries() }),
    ))
}

/// Any signed-in user: the dashboards measure progress against it.
pub async fn get_target_set(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<TargetSet>, ApiError> {
    let reference = state.reference.now(&state.store).await?;
    let set = reference.target_set(&id).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "target_set_not_found",
            format!("Không có bộ chỉ tiêu «{id}». Hãy tải lại danh sách bộ chỉ tiêu rồi chọn lại."),
            format!(
                "There is no target set «{id}». Reload the list of target sets and choose again."
            ),
        )
    })?;
    Ok(Json(set.clone()))
}

pub async fn put_target_set(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    request: Request,
) -> Result<(StatusCode, Json<TargetSetSummary>), ApiError> {
    caller.require_admin()?;
    let upload = Upload::TargetSet;
    let text = body_text(request, upload).await?;
    let set = TargetSet::from_json(&text).map_err(|reason| {
        upload.refused(
            &reason,
            "Hãy sửa tệp JSON theo đúng mẫu bộ chỉ tiêu rồi gửi lại.",
            "Fix the JSON to the target set format and send it again.",
        )
    })?;
    check_same_id(upload, &id, &set.id)?;

    let mut change = state.reference.begin_change(&state.store).await?;
    // roll-ups run over the set's unit list: one the server does not have would make it unusable
    if change.base().catalog.list(&set.unit_list).is_none() {
        return Err(upload
            .refused(
                &format!(
                    "bộ chỉ tiêu gắn với danh mục đơn vị «{}» nhưng máy chủ chưa có danh mục này",
                    set.unit_list
                ),
                "Hãy nạp danh mục đó trước, hoặc sửa ô «unit_list» thành một danh mục đã có, rồi gửi lại.",
                "Load that unit list first, or set «unit_list» to a list the server has, and send it \
                 again.",
            )
            .with_fields(vec![FieldError::new(
                "unit_list",
                "unknown_unit_list",
                format!("Máy chủ chưa có danh mục «{}»", set.unit_list),
                format!("The server has no unit list «{}»", set.unit_list),
            )]));
    }
    let status = if change.base().target_set(&id).is_some() {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let document = stored_json(id, &set, &caller)?;
    change
        .write()
        .put_set(SetTable::TargetSets, &document)
        .await?;
    let mut next = change.base().clone();
    next.put_target_set(set, &document);
    let summary = next
        .target_set_summary(&document.id)
        .expect("the set was just put");
    change.commit(next).await?;
    tracing::info!(by = %caller.user.id, id = %document.id, "target set stored");
    Ok((status, Json(summary)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        for good in [
            "sonla-2025-07",
            "ntm-2026-2030",
            "a",
            "x.y_z",
            &"a".repeat(64),
        ] {
            assert!(check_id(Upload::CriteriaSet, good).is_ok(), "{good}");
        }
        for bad in ["", "Sơn La", "a/b", "A", "a b", &"a".repeat(65), "../x"] {
            let error = check_id(Upload::UnitList, bad).unwrap_err();
            assert_eq!(error.code, "invalid_unit_list", "{bad}");
        }
        let error = check_same_id(Upload::TargetSet, "a", "b").unwrap_err();
        assert_eq!(error.code, "invalid_target_set");
        assert_eq!(error.fields[0].code, "id_mismatch");
    }

    #[test]
    fn requirements_on_the_wire() {
        let parse = |v: Value| parse_requirement(&v);
        assert_eq!(parse(json!({"requirement": null})).unwrap(), None);
        assert_eq!(
            parse(json!({"requirement": {"at_least": 90}})).unwrap(),
            Some(Requirement::AtLeast(90.0))
        );
        assert_eq!(
            parse(json!({"requirement": {"equals": true}})).unwrap(),
            Some(Requirement::Equals(true))
        );
        assert_eq!(
            parse(json!({"requirement": "provided"})).unwrap(),
            Some(Requirement::Provided)
        );
        for bad in [
            json!({}),
            json!({"requirement": {"at_least": "90"}}),
            json!({"requirement": "met"}),
            json!({"requirement": null, "extra": 1}),
            json!([{"equals": true}]),
        ] {
            assert_eq!(
                parse(bad.clone()).unwrap_err().code,
                "invalid_requirement",
                "{bad}"
            );
        }
    }

    #[test]
    fn list_errors_name_the_line() {
        let error = unit_list_refused(UnitListError {
            line: 9,
            reason: "loại đơn vị «Làng» không rõ".into(),
        });
        assert_eq!(error.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(error.message_vi.contains("dòng 9"), "{}", error.message_vi);
        assert!(error.message_en.contains("line 9"), "{}", error.message_en);
    }
}
