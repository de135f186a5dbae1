//! Submissions (báo cáo gửi duyệt): a commune officer sends a commune's report of one data set for one
//! period up for review; the supervisor of the commune's district accepts it or returns it with the
//! reason the commune must fix; the province administrator may do both anywhere.
//!
//! - `POST /api/submissions` `{"org_unit","period","data_set"}` → 201, the submission
//! - `GET  /api/submissions[?period=2023]` → `{"submissions":[…]}`, those within the caller's scope,
//!   newest first
//! - `POST /api/submissions/{id}/accept` `{"note"?}` and `POST /api/submissions/{id}/return`
//!   `{"note"}` → 200, the submission as decided
//!
//! An accepted report locks the commune's records of its data set and period: a change that reaches
//! the server afterwards (an offline tablet's) is not applied over the accepted values but kept on
//! the record as a conflict (`merge::apply_locked`, push outcome `conflict` with `locked: true`). The
//! district or the province may return an accepted report, with the reason; that unlocks it, and the
//! commune settles the held changes and submits again.
//!
//! A submission is answered as [`SubmissionView`]: every column, times as unix seconds, and the
//! commune's name. There is one row per (commune, period, data set): a returned report is submitted
//! again on the same row, so a commune's list never fills with superseded copies.
//!
//! Scope is [`Caller::covers`], the rule of every other route. Requests are checked here into
//! [`NewSubmission`], [`SubmissionId`] and [`Note`]; the store sees only checked values.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use serde_json::json;
use thidua_domain::org::{OrgCatalog, UnitCode};
use thidua_domain::protocol::{DataSet, Period};
use thidua_domain::FieldError;
use uuid::Uuid;

use crate::auth::{unix_now, Caller, Role};
use crate::error::{ApiError, ApiJson};
use crate::store::Opened;
use crate::sync::{communes_within, is_known_commune};
use crate::AppState;

/// Where a submission stands. Stored and sent as its snake_case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SubmissionState {
    /// Waiting for the district (or the province) to decide.
    Submitted,
    /// Accepted: its records are locked; the commune cannot submit it again unless it is returned.
    Accepted,
    /// Sent back with a reason (from submitted, or from accepted to unlock it); the commune fixes its
    /// records and submits again.
    Returned,
}

impl SubmissionState {
    pub const ALL: [SubmissionState; 3] = [
        SubmissionState::Submitted,
        SubmissionState::Accepted,
        SubmissionState::Returned,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SubmissionState::Submitted => "submitted",
            SubmissionState::Accepted => "accepted",
            SubmissionState::Returned => "returned",
        }
    }

    pub fn parse(text: &str) -> Option<SubmissionState> {
        SubmissionState::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// A submission as the `submissions` table holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Submission {
    pub id: String,
    pub org_unit: UnitCode,
    pub period: Period,
    pub data_set: DataSet,
    pub state: SubmissionState,
    /// The reason of a return, or the note given with an acceptance.
    pub note: Option<String>,
    /// Non-deleted records of the commune, period and data set when it was (last) submitted.
    pub record_count: u64,
    /// User id.
    pub submitted_by: String,
    /// Unix seconds.
    pub submitted_at: i64,
    pub decided_by: Option<String>,
    /// Unix seconds.
    pub decided_at: Option<i64>,
}

/// What the API answers: the row, and the commune's name so a supervisor's list reads without a
/// second look-up.
#[derive(Debug, Clone, Serialize)]
pub struct SubmissionView {
    #[serde(flatten)]
    pub submission: Submission,
    /// "Phường Chiềng Lề"; null only if the unit lists no longer carry the code.
    pub commune_name: Option<String>,
}

impl SubmissionView {
    fn new(catalog: &OrgCatalog, submission: Submission) -> SubmissionView {
        let commune_name = commune_name(catalog, &submission.org_unit);
        SubmissionView {
            submission,
            commune_name,
        }
    }
}

/// The list whose names a submission shows first: reports are made for the 2023 units, and a code
/// the 2025 reorganisation kept (03646) names another, merged commune there.
const NAMES_LIST: &str = "sonla-2023";

/// The commune's full name from the 2023 list, or else from the latest list that has the code.
pub fn commune_name(catalog: &OrgCatalog, code: &UnitCode) -> Option<String> {
    catalog
        .list(NAMES_LIST)
        .and_then(|list| list.get(code))
        .or_else(|| catalog.lists().iter().rev().find_map(|list| list.get(code)))
        .map(|unit| unit.full_name())
}

/// A submission's id as a path segment: a UUID, or no submission at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubmissionId(Uuid);

impl SubmissionId {
    pub fn new() -> SubmissionId {
        // v7: ids of one second still sort in the order they were made (the list's tie-break)
        SubmissionId(Uuid::now_v7())
    }

    pub fn parse(text: &str) -> Result<SubmissionId, ApiError> {
        Uuid::try_parse(text)
            .map(SubmissionId)
            .map_err(|_| submission_not_found())
    }

    /// The stored form: lower-case, hyphenated.
    pub fn as_text(self) -> String {
        self.0.to_string()
    }
}

impl Default for SubmissionId {
    fn default() -> SubmissionId {
        SubmissionId::new()
    }
}

pub const MAX_NOTE_CHARS: usize = 500;

/// A decision's note: 1–500 characters after trimming, no control characters but line breaks and
/// tabs (a reason may be a short list). Stored trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note(String);

impl Note {
    /// `Ok(None)` for an absent or blank note.
    pub fn parse(text: Option<&str>) -> Result<Option<Note>, FieldError> {
        let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
            return Ok(None);
        };
        let odd_char = text
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'));
        if text.chars().count() > MAX_NOTE_CHARS || odd_char {
            return Err(FieldError::new(
                "note",
                "invalid_note",
                format!(
                    "Ghi chú dài quá {MAX_NOTE_CHARS} ký tự hoặc có ký tự điều khiển; hãy viết ngắn gọn hơn \
                     rồi gửi lại"
                ),
                format!(
                    "The note is longer than {MAX_NOTE_CHARS} characters or has control characters; \
                     shorten it and send again"
                ),
            ));
        }
        Ok(Some(Note(text.to_string())))
    }

    /// A return's reason: the commune cannot fix what nobody told it.
    pub fn required(text: Option<&str>) -> Result<Note, FieldError> {
        Note::parse(text)?.ok_or_else(|| {
            FieldError::new(
                "note",
                "required",
                "Hãy ghi lý do trả lại: xã cần sửa gì trước khi gửi lại (ví dụ: thiếu hộ ở bản Hụm)"
                    .into(),
                "Write the reason for returning it: what the commune must fix before submitting again \
                 (for example: households of Bản Hụm are missing)"
                    .into(),
            )
        })
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmitRequest {
    // optional here only so that a missing one is named in `fields` like a wrong one
    #[serde(default)]
    org_unit: Option<String>,
    #[serde(default)]
    period: Option<String>,
    #[serde(default)]
    data_set: Option<String>,
}

/// A submission request, every field checked; all problems are reported together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSubmission {
    pub org_unit: UnitCode,
    pub period: Period,
    pub data_set: DataSet,
}

impl NewSubmission {
    pub fn check(
        catalog: &OrgCatalog,
        org_unit: Option<&str>,
        period: Option<&str>,
        data_set: Option<&str>,
    ) -> Result<NewSubmission, Vec<FieldError>> {
        let mut errors = Vec::new();
        let org_unit = check_commune(catalog, org_unit)
            .map_err(|e| errors.push(e))
            .ok();
        let period = check_period(period).map_err(|e| errors.push(e)).ok();
        let data_set = check_data_set(data_set).map_err(|e| errors.push(e)).ok();
        match (org_unit, period, data_set) {
            (Some(org_unit), Some(period), Some(data_set)) if errors.is_empty() => {
                Ok(NewSubmission {
                    org_unit,
                    period,
                    data_set,
                })
            }
            _ => Err(errors),
        }
    }
}

/// Only a commune reports: a district's figures are the sum of its communes' accepted reports.
fn check_commune(catalog: &OrgCatalog, text: Option<&str>) -> Result<UnitCode, FieldError> {
    let text = text.unwrap_or_default();
    match UnitCode::parse(text) {
        Ok(code) if is_known_commune(catalog, &code) => Ok(code),
        _ => Err(FieldError::new(
            "org_unit",
            "not_a_commune",
            format!(
                "«{text}» không phải mã xã, phường hoặc thị trấn nào trong danh mục của tỉnh; \
                 chỉ xã mới gửi báo cáo. Hãy chọn xã trong danh sách"
            ),
            format!(
                "«{text}» is not the code of a commune, ward or township of the province's lists; only \
                 communes submit reports. Choose the commune from the list"
            ),
        )),
    }
}

fn check_period(text: Option<&str>) -> Result<Period, FieldError> {
    let text = text.unwrap_or_default();
    Period::parse(text).map_err(|_| period_error(text))
}

fn period_error(text: &str) -> FieldError {
    FieldError::new(
        "period",
        "invalid_period",
        format!("Kỳ báo cáo «{text}» không hợp lệ: hãy dùng năm (2023) hoặc tháng (2023-06)"),
        format!("The period «{text}» is not valid: use a year (2023) or a month (2023-06)"),
    )
}

fn check_data_set(text: Option<&str>) -> Result<DataSet, FieldError> {
    let text = text.unwrap_or_default();
    // the protocol's own names, so the stored word is the one records carry
    serde_json::from_value(serde_json::Value::String(text.to_string())).map_err(|_| {
        FieldError::new(
            "data_set",
            "unknown_data_set",
            format!(
                "Không có bộ dữ liệu «{text}»; hãy chọn household (hộ gia đình), ntm_assessment \
                 (đánh giá nông thôn mới), indicator_report (báo cáo chỉ tiêu) hoặc advanced_example \
                 (điển hình tiên tiến)"
            ),
            format!(
                "There is no data set «{text}»; choose household, ntm_assessment, indicator_report or \
                 advanced_example"
            ),
        )
    })
}

fn invalid_submission(errors: Vec<FieldError>) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_submission",
        "Thông tin gửi duyệt chưa hợp lệ; hãy sửa các mục được đánh dấu rồi gửi lại.",
        "The submission is not valid; fix the marked fields and send again.",
    )
    .with_fields(errors)
}

pub fn submission_not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "submission_not_found",
        "Không có báo cáo gửi duyệt này. Hãy tải lại danh sách báo cáo.",
        "There is no such submission. Reload the list of submissions.",
    )
}

/// A commune outside the caller's unit. Said without the commune or the report's state: a
/// supervisor who guesses another district's ids learns nothing but that they may not.
fn out_of_scope(caller: &Caller) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "out_of_scope",
        format!(
            "Báo cáo này thuộc một xã nằm ngoài đơn vị {} của tài khoản bạn. Hãy chọn báo cáo của \
             xã thuộc phạm vi của bạn.",
            caller.user.org_unit
        ),
        format!(
            "This report belongs to a commune outside your account's unit {}. Choose a report of a \
             commune within your scope.",
            caller.user.org_unit
        ),
    )
}

fn conflict(code: &'static str, vi: &str, en: &str) -> ApiError {
    ApiError::new(StatusCode::CONFLICT, code, vi, en)
}

pub async fn submit(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(request): ApiJson<SubmitRequest>,
) -> Result<impl IntoResponse, ApiError> {
    if caller.user.role == Role::DistrictSupervisor {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Giám sát cấp huyện duyệt báo cáo chứ không gửi. Hãy để cán bộ xã gửi báo cáo của xã.",
            "District supervisors review reports; they do not submit them. The commune officer \
             submits the commune's report.",
        ));
    }
    let reference = state.reference.now(&state.store).await?;
    let new = NewSubmission::check(
        &reference.catalog,
        request.org_unit.as_deref(),
        request.period.as_deref(),
        request.data_set.as_deref(),
    )
    .map_err(invalid_submission)?;
    if !caller.covers(&reference.catalog, &new.org_unit) {
        // the caller named the commune, so naming it back reveals nothing
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "out_of_scope",
            format!(
                "Tài khoản của bạn chỉ gửi được báo cáo của đơn vị {}; xã {} nằm ngoài phạm vi đó. \
                 Hãy chọn đúng xã của bạn, hoặc để cán bộ xã đó gửi.",
                caller.user.org_unit, new.org_unit
            ),
            format!(
                "Your account submits reports of unit {} only; commune {} is outside it. Choose your \
                 own commune, or let that commune's officer submit.",
                caller.user.org_unit, new.org_unit
            ),
        ));
    }
    // counted now, so the reviewer sees how many records the commune stood behind when it sent
    let record_count = state
        .store
        .live_record_count(&new.org_unit, &new.period, new.data_set)
        .await?;
    let opened = state
        .store
        .open_submission(
            SubmissionId::new(),
            &new,
            record_count,
            &caller.user.id,
            unix_now(),
        )
        .await?;
    let submission = match opened {
        Opened::Opened(submission) => submission,
        Opened::Exists(existing) if existing.state == SubmissionState::Accepted => {
            return Err(conflict(
                "already_accepted",
                "Báo cáo này đã được duyệt nên không gửi lại được. Nếu cần sửa, hãy đề nghị giám sát \
                 cấp huyện trả lại báo cáo.",
                "This report has been accepted and cannot be submitted again. If it needs a change, \
                 ask the district supervisor to return it.",
            ));
        }
        // submitted, or returned and re-opened by someone else a moment ago
        Opened::Exists(_) => {
            return Err(conflict(
                "already_submitted",
                "Báo cáo này đã được gửi và đang chờ duyệt. Hãy đợi giám sát cấp huyện duyệt hoặc trả lại.",
                "This report is already submitted and waits for review. Wait for the district \
                 supervisor to accept or return it.",
            ));
        }
    };
    tracing::info!(
        user = %caller.user.id,
        submission = %submission.id,
        org_unit = %submission.org_unit,
        record_count,
        "submitted"
    );
    Ok((
        StatusCode::CREATED,
        Json(SubmissionView::new(&reference.catalog, submission)),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    period: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Query(query) = query.map_err(|rejection| {
        let text = rejection.body_text();
        let detail = text.split_once(": ").map_or(text.as_str(), |(_, d)| d);
        invalid_filter(Vec::new(), detail)
    })?;
    let period = match query.period.as_deref() {
        None => None,
        Some(text) => Some(
            Period::parse(text)
                .map_err(|_| invalid_filter(vec![period_error(text)], &format!("period={text}")))?,
        ),
    };
    // always a list of communes, never "everything" (as pulls): the SQL cannot return a submission
    // outside the caller's unit
    let reference = state.reference.now(&state.store).await?;
    let scope = communes_within(&reference.catalog, &caller.user.org_unit)?;
    let submissions: Vec<SubmissionView> = state
        .store
        .submissions_in(&scope, period.as_ref())
        .await?
        .into_iter()
        .map(|s| SubmissionView::new(&reference.catalog, s))
        .collect();
    Ok(Json(json!({ "submissions": submissions })))
}

fn invalid_filter(fields: Vec<FieldError>, detail: &str) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_filter",
        format!(
            "Bộ lọc danh sách báo cáo không hợp lệ ({detail}). Chỉ lọc được theo kỳ, ví dụ ?period=2023."
        ),
        format!("The filter of the submission list is not valid ({detail}). Filter by period only, for example ?period=2023."),
    )
    .with_fields(fields)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    #[serde(default)]
    note: Option<String>,
}

pub async fn accept(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<DecisionRequest>,
) -> Result<Json<SubmissionView>, ApiError> {
    decide(
        &state,
        &caller,
        &id,
        SubmissionState::Accepted,
        request.note.as_deref(),
    )
    .await
}

/// `return` is a keyword: the route is `/return`, the handler this.
pub async fn send_back(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<DecisionRequest>,
) -> Result<Json<SubmissionView>, ApiError> {
    decide(
        &state,
        &caller,
        &id,
        SubmissionState::Returned,
        request.note.as_deref(),
    )
    .await
}

async fn decide(
    state: &AppState,
    caller: &Caller,
    id: &str,
    to: SubmissionState,
    note: Option<&str>,
) -> Result<Json<SubmissionView>, ApiError> {
    if caller.user.role == Role::CommuneOfficer {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Cán bộ xã gửi báo cáo chứ không duyệt. Việc duyệt hoặc trả lại do giám sát cấp huyện \
             hoặc quản trị tỉnh làm.",
            "Commune officers submit reports; they do not review them. The district supervisor or \
             the province administrator accepts or returns them.",
        ));
    }
    let id = SubmissionId::parse(id)?;
    let current = state
        .store
        .submission(id)
        .await?
        .ok_or_else(submission_not_found)?;
    let reference = state.reference.now(&state.store).await?;
    if !caller.covers(&reference.catalog, &current.org_unit) {
        return Err(out_of_scope(caller));
    }
    let note = match to {
        SubmissionState::Returned => Some(Note::required(note)),
        _ => Note::parse(note).transpose(),
    }
    .transpose()
    .map_err(|e| invalid_decision(vec![e]))?;
    let decided = state
        .store
        .decide_submission(id, to, note.as_ref(), &caller.user.id, unix_now())
        .await?;
    let Some(submission) = decided else {
        return Err(match to {
            SubmissionState::Returned => conflict(
                "not_submitted",
                "Báo cáo này đã được trả lại, không còn gì để trả. Hãy tải lại danh sách báo cáo.",
                "This report has already been returned. Reload the list of submissions.",
            ),
            _ => conflict(
                "not_submitted",
                "Báo cáo này không ở trạng thái chờ duyệt (đã được duyệt hoặc đã trả lại). Hãy tải \
                 lại danh sách báo cáo.",
                "This report is not waiting for review (it was already accepted or returned). \
                 Reload the list of submissions.",
            ),
        });
    };
    tracing::info!(
        user = %caller.user.id,
        submission = %submission.id,
        state = to.as_str(),
        "submission decided"
    );
    Ok(Json(SubmissionView::new(&reference.catalog, submission)))
}

fn invalid_decision(errors: Vec<FieldError>) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_decision",
        "Ghi chú của quyết định chưa hợp lệ; hãy sửa mục được đánh dấu rồi gửi lại.",
        "The decision's note is not valid; fix the marked field and send again.",
    )
    .with_fields(errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(text: &str) -> UnitCode {
        UnitCode::parse(text).unwrap()
    }

    #[test]
    fn names_come_from_2023_first() {
        let catalog = OrgCatalog::sonla();
        // 03646 is Chiềng Lề in 2023 and the merged Tô Hiệu from 2025: reports name the 2023 unit
        assert_eq!(
            commune_name(&catalog, &code("03646")).as_deref(),
            Some("Phường Chiềng Lề")
        );
        assert!(
            commune_name(&catalog, &code("03980")).is_some(),
            "a 2025 commune"
        );
        assert_eq!(commune_name(&catalog, &code("99999")), None);
    }

    #[test]
    fn requests_are_checked_field_by_field() {
        let catalog = OrgCatalog::sonla();
        let ok = NewSubmission::check(
            &catalog,
            Some("03646"),
            Some("2023"),
            Some("ntm_assessment"),
        )
        .unwrap();
        assert_eq!(ok.data_set, DataSet::NtmAssessment);
        let errors =
            NewSubmission::check(&catalog, Some("116"), Some("2023-13"), Some("Household"))
                .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["org_unit", "period", "data_set"]);
        let errors = NewSubmission::check(&catalog, None, None, None).unwrap_err();
        assert_eq!(errors.len(), 3);
    }

    #[test]
    fn notes() {
        assert_eq!(Note::parse(None).unwrap(), None);
        assert_eq!(Note::parse(Some("  \n ")).unwrap(), None);
        assert_eq!(
            Note::parse(Some(" thiếu hộ\nbản Hụm "))
                .unwrap()
                .unwrap()
                .as_str(),
            "thiếu hộ\nbản Hụm"
        );
        assert!(Note::parse(Some(&"ả".repeat(MAX_NOTE_CHARS))).is_ok());
        assert!(Note::parse(Some(&"ả".repeat(MAX_NOTE_CHARS + 1))).is_err());
        assert!(Note::parse(Some("a\u{0}b")).is_err());
        assert_eq!(Note::required(Some(" ")).unwrap_err().field, "note");
        assert_eq!(Note::required(None).unwrap_err().code, "required");
    }

    #[test]
    fn ids_and_states() {
        assert_eq!(
            SubmissionId::parse("not-a-uuid").unwrap_err().code,
            "submission_not_found"
        );
        let id = SubmissionId::new();
        assert_eq!(SubmissionId::parse(&id.as_text()).unwrap(), id);
        for state in SubmissionState::ALL {
            assert_eq!(SubmissionState::parse(state.as_str()), Some(state));
        }
    }
}
