//! The supervisors' dashboard over HTTP, its drill-down to the records behind each figure, and the
//! completeness of reporting. The figures are the domain's ([`thidua_domain::dashboard`]); this module
//! checks the request and the caller's scope, reads the records, and answers.
//!
//! - `GET /api/dashboard?period=2023&unit=CODE[&structure=2023|2025][&basis=all|accepted][&as_of=YYYY-MM-DD]`
//!   → `{period, previous_period, structure, unit_list, source_list, basis, as_of, elapsed,
//!   target_set, criteria_set, unit, path, children, trend, unplaced}`: `unit` and each of `children` is a
//!   unit with its `figures` ([`thidua_domain::dashboard::UnitFigures`]) plus `reported`,
//!   `submission_counts` and, for a commune of the records' list, `submissions`; `trend` is the
//!   unit's poverty rate over its last reviews (at most six, oldest first, periods with no review left out).
//! - `GET /api/dashboard/records?period=2023&unit=COMMUNE&data_set=household|ntm_assessment|indicator_report
//!   [&target=KEY][&classification=poor|near_poor|average_living_standard|above][&limit=N][&after=ID]`
//!   → the records behind a commune's figures, by id, a page at a time.
//! - `GET /api/completeness?period=2023&unit=CODE[&stale_days=7][&structure=2023|2025]` → each
//!   commune's submissions, last sync and devices.
//! - `GET /api/examples?period=2023&unit=CODE` → the advanced examples of the communes under the
//!   unit with their commendations.
//!
//! Scope is the rule of every route ([`Caller::covers`]): an officer sees its commune, a district
//! supervisor its district, the province everything. Under the 2025 structure a unit is in scope when
//! the caller covers every 2023 commune whose records it holds.

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use thidua_domain::criteria::{CriteriaSet, IndicatorValue};
use thidua_domain::dashboard::{self, structure_list, Accepted, Settings, UnitFigures, DATA_SETS};
use thidua_domain::org::{Level, OrgCatalog, UnitCode, UnitList};
use thidua_domain::poverty::{classify_fields, Classification};
use thidua_domain::protocol::{indicator_values, DataSet, Period, Record, RecordId};
use thidua_domain::Day;

use crate::auth::{unix_now, Caller};
use crate::error::ApiError;
use crate::submissions::{Submission, SubmissionState};
use crate::AppState;

fn bad_query(code: &'static str, vi: String, en: String) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, code, vi, en)
}

fn query_error(rejection: QueryRejection) -> ApiError {
    let text = rejection.body_text();
    let detail = text.split_once(": ").map_or(text.as_str(), |(_, d)| d);
    bad_query(
        "invalid_query",
        format!("Tham số không hợp lệ: {detail}"),
        format!("Invalid query parameters: {detail}"),
    )
}

pub(crate) fn parse_period(text: Option<&str>) -> Result<Period, ApiError> {
    let text = text.unwrap_or_default();
    Period::parse(text).map_err(|_| {
        bad_query(
            "invalid_period",
            format!("Kỳ báo cáo «{text}» không hợp lệ: dùng năm (2023) hoặc tháng (2023-06)."),
            format!("The period «{text}» is not valid: use a year (2023) or a month (2023-06)."),
        )
    })
}

pub(crate) fn unknown_unit(text: &str, list: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "unknown_unit",
        format!(
            "Không có đơn vị mã «{text}» trong danh mục {list}. Hãy chọn đơn vị trong danh sách."
        ),
        format!("No unit has code «{text}» in unit list {list}. Choose a unit from the list."),
    )
}

/// The structure asked for ("2023" by default, "2025", or a list id).
pub(crate) fn parse_structure<'a>(
    catalog: &'a OrgCatalog,
    text: Option<&str>,
) -> Result<&'a UnitList, ApiError> {
    let text = text.unwrap_or("2023");
    structure_list(catalog, text).ok_or_else(|| {
        bad_query(
            "invalid_structure",
            format!(
                "Cơ cấu đơn vị «{text}» không có: dùng 2023 (huyện, xã) hoặc 2025 (75 xã, phường)."
            ),
            format!(
                "No unit structure «{text}»: use 2023 (districts, communes) or 2025 (75 communes)."
            ),
        )
    })
}

/// The list a period's records are made against: the one in force on its first day.
pub(crate) fn source_list<'a>(catalog: &'a OrgCatalog, period: &Period) -> &'a UnitList {
    catalog
        .list_on(&period.first_day())
        .or_else(|| catalog.lists().first())
        .expect("the catalog carries Sơn La's lists")
}

/// `unit` (default: the caller's unit) as a unit of `structure`.
pub(crate) fn parse_unit(
    structure: &UnitList,
    text: Option<&str>,
    caller: &Caller,
) -> Result<UnitCode, ApiError> {
    let code = match text {
        None => caller.user.org_unit.clone(),
        Some(text) => UnitCode::parse(text).map_err(|_| unknown_unit(text, &structure.id))?,
    };
    if structure.get(&code).is_none() {
        return Err(unknown_unit(code.as_str(), &structure.id));
    }
    Ok(code)
}

/// For each unit of `structure`, the communes of `source` whose records it holds.
pub(crate) fn holdings(
    catalog: &OrgCatalog,
    source: &UnitList,
    structure: &UnitList,
) -> BTreeMap<UnitCode, Vec<UnitCode>> {
    let mut held: BTreeMap<UnitCode, Vec<UnitCode>> = BTreeMap::new();
    for commune in source.communes() {
        let Some(holder) = catalog.holder(&source.id, &commune.code, &structure.id) else {
            continue;
        };
        for unit in structure.lineage(&holder.unit.code) {
            held.entry(unit.code.clone())
                .or_default()
                .push(commune.code.clone());
        }
    }
    held
}

/// True when the caller may see `unit` of `structure`: in the records' own list, when it covers the
/// unit; in another structure, when it covers every commune whose records the unit holds (a 2023
/// officer of 03646 does not see 2025's 03646, which holds three other communes too).
pub(crate) fn sees(
    catalog: &OrgCatalog,
    caller: &Caller,
    unit: &UnitCode,
    held: &BTreeMap<UnitCode, Vec<UnitCode>>,
    same_list: bool,
) -> bool {
    if same_list {
        return caller.covers(catalog, unit);
    }
    held.get(unit)
        .is_some_and(|c| !c.is_empty() && c.iter().all(|c| caller.covers(catalog, c)))
}

pub(crate) fn forbidden_unit(caller: &Caller, unit: &UnitCode) -> ApiError {
    crate::auth::out_of_scope(caller, unit)
}

/// Today in the server's clock (UTC), as a day.
pub fn today() -> Day {
    day_of_unix(unix_now())
}

/// The calendar day of a unix time (UTC).
pub fn day_of_unix(seconds: i64) -> Day {
    let days = seconds.div_euclid(86_400) + 719_468;
    let era = days.div_euclid(146_097);
    let doe = days - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    Day::parse(&format!("{y:04}-{m:02}-{d:02}")).expect("a civil date is a valid day")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    All,
    Accepted,
}

impl Basis {
    fn parse(text: Option<&str>) -> Result<Basis, ApiError> {
        match text.unwrap_or("all") {
            "all" => Ok(Basis::All),
            "accepted" => Ok(Basis::Accepted),
            other => Err(bad_query(
                "invalid_basis",
                format!("Cơ sở số liệu «{other}» không có: dùng all (mọi số liệu) hoặc accepted (chỉ báo cáo đã duyệt)."),
                format!("No basis «{other}»: use all or accepted."),
            )),
        }
    }
    fn as_str(self) -> &'static str {
        match self {
            Basis::All => "all",
            Basis::Accepted => "accepted",
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DashboardQuery {
    period: Option<String>,
    unit: Option<String>,
    structure: Option<String>,
    basis: Option<String>,
    as_of: Option<String>,
}

/// How many reviews the poverty trend shows at most, this period's included.
const TREND_POINTS: usize = 6;

/// The periods before `period` the trend reaches back to, newest first (the first is the previous).
fn trend_periods(period: &Period) -> Vec<Period> {
    std::iter::successors(period.previous(), Period::previous)
        .take(TREND_POINTS - 1)
        .collect()
}

/// One point of the poverty trend; none when no commune under the unit had a review that period.
fn trend_point(period: &Period, poverty: &dashboard::PovertySummary) -> Option<Value> {
    (poverty.communes_reviewed > 0 || poverty.denominator.is_some()).then(|| {
        trend_json(
            period,
            poverty.rate,
            poverty.households,
            poverty.poor,
            poverty.near_poor,
        )
    })
}

/// A point of the trend as the API writes it.
fn trend_json(period: &Period, rate: Option<f64>, households: u32, poor: u32, near: u32) -> Value {
    json!({"period": period, "rate": rate, "households": households, "poor": poor, "near_poor": near})
}

/// The accepted (commune, data set) pairs of a period.
fn accepted_of(submissions: &[Submission], period: &Period) -> Accepted {
    let mut accepted = Accepted::new();
    for s in submissions
        .iter()
        .filter(|s| &s.period == period && s.state == SubmissionState::Accepted)
    {
        accepted
            .entry(s.org_unit.clone())
            .or_default()
            .insert(s.data_set);
    }
    accepted
}

fn submission_json(s: Option<&Submission>) -> Value {
    match s {
        None => json!({"state": "none"}),
        Some(s) => json!({
            "state": s.state.as_str(),
            "id": s.id,
            "submitted_at": s.submitted_at,
            "decided_at": s.decided_at,
            "note": s.note,
            "record_count": s.record_count,
        }),
    }
}

pub async fn dashboard(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    query: Result<Query<DashboardQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(query) = query.map_err(query_error)?;
    let period = parse_period(query.period.as_deref())?;
    let basis = Basis::parse(query.basis.as_deref())?;
    let as_of = match query.as_of.as_deref() {
        None => today(),
        Some(text) => Day::parse(text).map_err(|_| {
            bad_query(
                "invalid_as_of",
                format!("Ngày «{text}» không hợp lệ: dùng dạng 2023-12-31."),
                format!("The day «{text}» is not valid: use the form 2023-12-31."),
            )
        })?,
    };
    let reference = state.reference.now(&state.store).await?;
    let catalog = &reference.catalog;
    let structure = parse_structure(catalog, query.structure.as_deref())?;
    let unit = parse_unit(structure, query.unit.as_deref(), &caller)?;
    let source = source_list(catalog, &period);
    let held = holdings(catalog, source, structure);
    let same = source.id == structure.id;
    if !sees(catalog, &caller, &unit, &held, same) {
        return Err(forbidden_unit(&caller, &unit));
    }
    let communes = held.get(&unit).cloned().unwrap_or_default();
    let previous = period.previous();
    // the trend reaches back TREND_POINTS reviews: this period, the previous one, and older ones
    let earlier = trend_periods(&period);
    let periods: Vec<&Period> = std::iter::once(&period).chain(earlier.iter()).collect();
    let scope: Option<Vec<String>> =
        (structure.root().code != unit).then(|| communes.iter().map(|c| c.to_string()).collect());
    // the households are counted by their stored class in SQL; assessments and reports (one per
    // commune) are read whole
    let records = state
        .store
        .live_records(
            &periods,
            &[DataSet::NtmAssessment, DataSet::IndicatorReport],
            scope.as_deref(),
        )
        .await?;
    let households = state
        .store
        .household_counts(&periods, scope.as_deref())
        .await?;
    let submissions = state.store.submissions_of_periods(&periods).await?;
    let started = std::time::Instant::now();
    let computed = {
        let reference = reference.clone();
        let period = period.clone();
        let source_id = source.id.clone();
        let structure_id = structure.id.clone();
        // with the accepted basis, each period keeps only the communes' accepted data sets
        let accepted = match basis {
            Basis::All => None,
            Basis::Accepted => Some(submissions.clone()),
        };
        let as_of = as_of.clone();
        let earlier = earlier.clone();
        let unit = unit.clone();
        tokio::task::spawn_blocking(move || {
            let targets = reference.target_set_on(&period.first_day());
            let settings = Settings {
                catalog: &reference.catalog,
                source_list: &source_id,
                structure: &structure_id,
                targets,
                criteria: reference.ntm(),
                as_of: &as_of,
            };
            let mut facts = Vec::new();
            for p in std::iter::once(&period).chain(earlier.iter()) {
                let mut of_period = dashboard::collect_facts(&records, p, settings.criteria, None);
                for (unit, _, class, n) in households.iter().filter(|h| h.1 == p.as_str()) {
                    let Ok(unit) = UnitCode::parse(unit) else {
                        continue;
                    };
                    let class =
                        serde_json::from_value::<Classification>(Value::String(class.clone())).ok();
                    of_period
                        .entry(unit)
                        .or_default()
                        .add_households(class, *n as u32);
                }
                if let Some(accepted) = accepted.as_ref().map(|of| accepted_of(of, p)) {
                    for (unit, f) in of_period.iter_mut() {
                        f.keep_only(accepted.get(unit));
                    }
                }
                facts.push(of_period);
            }
            facts.push(BTreeMap::new());
            let computed = dashboard::build(&settings, &period, &facts[0], &facts[1])?;
            // the older points of the trend: each period's own rate by the same rules (only the unit's
            // poverty summary is kept; the period before the oldest counts as unreviewed)
            let mut trend = Vec::new();
            for (k, p) in earlier.iter().enumerate().skip(1).rev() {
                let older = dashboard::build(&settings, p, &facts[k + 1], &facts[k + 2])?;
                if let Some(point) = older
                    .unit(&unit)
                    .and_then(|u| trend_point(p, &u.figures.poverty))
                {
                    trend.push(point);
                }
            }
            Ok::<_, String>((computed, trend))
        })
        .await
        .map_err(|e| ApiError::corrupt("dashboard task", e))?
        .map_err(|e| ApiError::corrupt("dashboard", e))?
    };
    let (computed, mut trend) = computed;
    tracing::info!(
        user = %caller.user.id,
        unit = %unit,
        structure = %structure.id,
        micros = started.elapsed().as_micros() as u64,
        "dashboard"
    );
    let current: Vec<&Submission> = submissions.iter().filter(|s| s.period == period).collect();
    let view = |figures: &UnitFigures| unit_json(figures, &held, &current, same, source);
    let unit_figures = computed
        .unit(&unit)
        .ok_or_else(|| unknown_unit(unit.as_str(), &structure.id))?;
    let children: Vec<Value> = computed.children(&unit).into_iter().map(view).collect();
    let path: Vec<Value> = structure
        .lineage(&unit)
        .iter()
        .rev()
        .map(|u| json!({"code": u.code, "name": u.name, "full_name": u.full_name(), "level": u.level()}))
        .collect();
    // the trend, oldest first: the older reviews, the previous one, this one
    let poverty = &unit_figures.figures.poverty;
    if let Some(p) = &poverty.previous {
        trend.push(trend_json(
            &p.period,
            p.rate,
            p.households,
            p.poor,
            p.near_poor,
        ));
    }
    trend.extend(trend_point(&period, poverty));
    let targets = reference.target_set_on(&period.first_day());
    Ok(Json(json!({
        "period": period,
        "previous_period": previous,
        "structure": query.structure.as_deref().unwrap_or("2023"),
        "unit_list": structure.id,
        "source_list": source.id,
        "basis": basis.as_str(),
        "as_of": as_of,
        "elapsed": computed.elapsed,
        "target_set": targets.map(|t| json!({
            "id": t.id, "name_vi": t.name_vi, "source": t.source,
            "period_start": t.period_start, "period_end": t.period_end,
        })),
        "criteria_set": {"id": reference.ntm().id, "name_vi": reference.ntm().name_vi},
        "unit": view(unit_figures),
        "path": path,
        "children": children,
        "trend": trend,
        "unplaced": computed.unplaced,
    })))
}

/// A unit's figures as the API shows them: the domain's, plus `reported`, the submission counts of
/// the communes it holds and, for one commune of the records' list, its submissions.
fn unit_json(
    figures: &UnitFigures,
    held: &BTreeMap<UnitCode, Vec<UnitCode>>,
    submissions: &[&Submission],
    same_list: bool,
    source: &UnitList,
) -> Value {
    let mut value = serde_json::to_value(figures).unwrap_or(Value::Null);
    let communes: BTreeSet<&UnitCode> = held.get(&figures.code).into_iter().flatten().collect();
    let mut counts = Map::new();
    for data_set in DATA_SETS {
        let mut by_state = BTreeMap::from([
            ("none", 0u32),
            ("submitted", 0),
            ("accepted", 0),
            ("returned", 0),
        ]);
        for commune in &communes {
            let state = submissions
                .iter()
                .find(|s| &&s.org_unit == commune && s.data_set == data_set)
                .map_or("none", |s| s.state.as_str());
            *by_state.entry(state).or_default() += 1;
        }
        counts.insert(data_set.as_str().to_string(), json!(by_state));
    }
    if let Value::Object(object) = &mut value {
        object.insert("reported".into(), json!(figures.figures.reported));
        object.insert("submission_counts".into(), Value::Object(counts));
        let own =
            same_list && figures.level == Level::Commune && source.get(&figures.code).is_some();
        if own {
            let mut own_submissions = Map::new();
            for data_set in DATA_SETS {
                let found = submissions
                    .iter()
                    .find(|s| s.org_unit == figures.code && s.data_set == data_set)
                    .copied();
                own_submissions.insert(data_set.as_str().to_string(), submission_json(found));
            }
            object.insert("submissions".into(), Value::Object(own_submissions));
        }
    }
    value
}

// ---------------------------------------------------------------------------------------------------
// Drill-down

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordsQuery {
    period: Option<String>,
    unit: Option<String>,
    data_set: Option<String>,
    target: Option<String>,
    classification: Option<String>,
    limit: Option<u32>,
    after: Option<String>,
}

pub const RECORDS_PAGE: u32 = 100;
pub const MAX_RECORDS_PAGE: u32 = 500;

pub async fn records(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    query: Result<Query<RecordsQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(query) = query.map_err(query_error)?;
    let period = parse_period(query.period.as_deref())?;
    let reference = state.reference.now(&state.store).await?;
    let catalog = &reference.catalog;
    let source = source_list(catalog, &period);
    let text = query.unit.as_deref().unwrap_or_default();
    let unit = UnitCode::parse(text)
        .ok()
        .filter(|c| source.get(c).is_some_and(|u| u.level() == Level::Commune))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "unknown_commune",
                format!("«{text}» không phải xã, phường hoặc thị trấn của danh mục {}: bản ghi thuộc về xã.", source.id),
                format!("«{text}» is not a commune of unit list {}: records belong to communes.", source.id),
            )
        })?;
    if !caller.covers(catalog, &unit) {
        return Err(forbidden_unit(&caller, &unit));
    }
    let data_set = match query.data_set.as_deref() {
        Some("household") => DataSet::Household,
        Some("ntm_assessment") => DataSet::NtmAssessment,
        Some("indicator_report") => DataSet::IndicatorReport,
        other => {
            let other = other.unwrap_or_default();
            return Err(bad_query(
                "invalid_data_set",
                format!("Bộ dữ liệu «{other}» không có trên bảng tổng hợp: dùng household, ntm_assessment hoặc indicator_report."),
                format!("No data set «{other}» on the dashboard: use household, ntm_assessment or indicator_report."),
            ));
        }
    };
    let classification = match query.classification.as_deref() {
        None => None,
        Some(text) => Some(
            serde_json::from_value::<Classification>(Value::String(text.to_string())).map_err(
                |_| {
                    bad_query(
                        "invalid_classification",
                        format!("Phân loại «{text}» không có: dùng poor, near_poor, average_living_standard hoặc above."),
                        format!("No classification «{text}»: use poor, near_poor, average_living_standard or above."),
                    )
                },
            )?,
        ),
    };
    let targets = reference.target_set_on(&period.first_day());
    if let Some(key) = query.target.as_deref() {
        if targets.and_then(|t| t.target(key)).is_none() {
            return Err(bad_query(
                "invalid_target",
                format!("Không có chỉ tiêu «{key}» cho kỳ {}.", period.as_str()),
                format!("No target «{key}» for period {}.", period.as_str()),
            ));
        }
    }
    let limit = query.limit.unwrap_or(RECORDS_PAGE);
    if !(1..=MAX_RECORDS_PAGE).contains(&limit) {
        return Err(bad_query(
            "bad_limit",
            format!("Số bản ghi mỗi trang phải từ 1 đến {MAX_RECORDS_PAGE}."),
            format!("limit must be between 1 and {MAX_RECORDS_PAGE}."),
        ));
    }
    let after = match query.after.as_deref() {
        None | Some("") => None,
        Some(text) => Some(RecordId::parse(text).map_err(|_| {
            bad_query(
                "bad_after",
                format!("«{text}» không phải mã bản ghi."),
                format!("«{text}» is not a record id."),
            )
        })?),
    };

    let records = state
        .store
        .live_records(&[&period], &[data_set], Some(&[unit.to_string()]))
        .await?;
    let submissions = state.store.submissions_of_periods(&[&period]).await?;
    let submission = submissions
        .iter()
        .find(|s| s.org_unit == unit && s.data_set == data_set);
    let matching: Vec<&Record> = records
        .iter()
        .filter(|r| match (data_set, classification) {
            (DataSet::Household, Some(class)) => classify_fields(&r.fields) == Some(class),
            _ => true,
        })
        .collect();
    let total = matching.len();
    let page: Vec<&Record> = matching
        .into_iter()
        .filter(|r| after.is_none_or(|a| r.id > a))
        .take(limit as usize + 1)
        .collect();
    let has_more = page.len() > limit as usize;
    let page = &page[..page.len().min(limit as usize)];
    let criteria = reference.ntm();
    let rows: Vec<Value> = page
        .iter()
        .map(|r| record_json(r, criteria, targets, query.target.as_deref()))
        .collect();
    Ok(Json(json!({
        "period": period,
        "unit": {"code": unit, "full_name": source.get(&unit).map(|u| u.full_name())},
        "data_set": data_set,
        "submission": submission_json(submission),
        "counted_when_accepted_only": submission.is_some_and(|s| s.state == SubmissionState::Accepted),
        "total": total,
        "records": rows,
        "next_after": has_more.then(|| page.last().map(|r| r.id)).flatten(),
    })))
}

fn record_json(
    record: &Record,
    criteria: &CriteriaSet,
    targets: Option<&thidua_domain::targets::TargetSet>,
    only_target: Option<&str>,
) -> Value {
    let f = &record.fields;
    match record.data_set {
        DataSet::Household => {
            let deprivations = thidua_domain::poverty::Deprivation::ALL
                .iter()
                .filter(|d| f.get(d.field()) == Some(&Value::Bool(true)))
                .count();
            json!({
                "id": record.id,
                "revision": record.revision,
                "head_name": f.get("head_name"),
                "village": f.get("village"),
                "area": f.get("area"),
                "members": f.get("members"),
                "income_per_person_month": f.get("income_per_person_month"),
                "deprivations": deprivations,
                "classification": classify_fields(f),
            })
        }
        DataSet::NtmAssessment => {
            let values = indicator_values(f).unwrap_or_default();
            let evaluation = criteria.evaluate(&values);
            let criteria_json: Vec<Value> = evaluation
                .criteria
                .iter()
                .map(|c| {
                    let criterion = criteria.criteria.iter().find(|k| k.number == c.number);
                    let indicators: Vec<Value> = c
                        .indicators
                        .iter()
                        .map(|(code, status)| {
                            let indicator = criteria.indicator(code);
                            json!({
                                "code": code,
                                "name_vi": indicator.map(|i| i.name_vi.as_str()),
                                "value": values.get(code).map(indicator_value_json),
                                "requirement": indicator.and_then(|i| i.requirement.as_ref()).map(|r| r.describe_vi()),
                                "status": status,
                            })
                        })
                        .collect();
                    json!({
                        "number": c.number,
                        "name_vi": criterion.map(|k| k.name_vi.as_str()),
                        "name_en": criterion.map(|k| k.name_en.as_str()),
                        "status": c.status,
                        "indicators": indicators,
                    })
                })
                .collect();
            json!({
                "id": record.id,
                "revision": record.revision,
                "criteria_met": evaluation.met,
                "criteria_total": evaluation.total,
                "meets_standard": evaluation.meets_standard(),
                "criteria": criteria_json,
            })
        }
        _ => {
            let tallies = dashboard::report_tallies(f);
            let rows: Vec<Value> = tallies
                .iter()
                .filter(|(key, _)| only_target.is_none_or(|k| k == key.as_str()))
                .map(|(key, tally)| {
                    let target = targets.and_then(|t| t.target(key));
                    json!({
                        "key": key,
                        "name_vi": target.map(|t| t.name_vi.as_str()),
                        "name_en": target.map(|t| t.name_en.as_str()),
                        "numerator": tally.numerator,
                        "denominator": tally.denominator,
                        "value": target.and_then(|t| t.figure(*tally)),
                    })
                })
                .collect();
            json!({"id": record.id, "revision": record.revision, "targets": rows})
        }
    }
}

fn indicator_value_json(value: &IndicatorValue) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_of_unix_times() {
        assert_eq!(day_of_unix(0).as_str(), "1970-01-01");
        assert_eq!(day_of_unix(951_782_400).as_str(), "2000-02-29");
        assert_eq!(day_of_unix(1_704_067_199).as_str(), "2023-12-31");
        assert_eq!(day_of_unix(1_704_067_200).as_str(), "2024-01-01");
        let day = Day::parse("2023-12-31").unwrap();
        assert_eq!(end_of_day(&day), 1_704_067_199);
        assert_eq!(day_of_unix(end_of_day(&day)), day);
    }
}

// ---------------------------------------------------------------------------------------------------
// Completeness

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompletenessQuery {
    period: Option<String>,
    unit: Option<String>,
    structure: Option<String>,
    stale_days: Option<u32>,
    as_of: Option<String>,
}

pub const DEFAULT_STALE_DAYS: u32 = 7;
pub const MAX_STALE_DAYS: u32 = 366;

/// Unix seconds at the end (23:59:59 UTC) of `day` (Howard Hinnant's days-from-civil).
fn end_of_day(day: &Day) -> i64 {
    let text = day.as_str();
    let (y, m, d): (i64, i64, i64) = (
        text[0..4].parse().unwrap_or(1970),
        text[5..7].parse().unwrap_or(1),
        text[8..10].parse().unwrap_or(1),
    );
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    days * 86_400 + 86_399
}

pub async fn completeness(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    query: Result<Query<CompletenessQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(query) = query.map_err(query_error)?;
    let period = parse_period(query.period.as_deref())?;
    let stale_days = query.stale_days.unwrap_or(DEFAULT_STALE_DAYS);
    if !(1..=MAX_STALE_DAYS).contains(&stale_days) {
        return Err(bad_query(
            "invalid_stale_days",
            format!("Số ngày chưa đồng bộ phải từ 1 đến {MAX_STALE_DAYS}."),
            format!("stale_days must be between 1 and {MAX_STALE_DAYS}."),
        ));
    }
    let now = match query.as_of.as_deref() {
        None => unix_now(),
        Some(text) => {
            let day = Day::parse(text).map_err(|_| {
                bad_query(
                    "invalid_as_of",
                    format!("Ngày «{text}» không hợp lệ: dùng dạng 2023-12-31."),
                    format!("The day «{text}» is not valid: use the form 2023-12-31."),
                )
            })?;
            end_of_day(&day)
        }
    };
    let reference = state.reference.now(&state.store).await?;
    let catalog = &reference.catalog;
    let structure = parse_structure(catalog, query.structure.as_deref())?;
    let unit = parse_unit(structure, query.unit.as_deref(), &caller)?;
    let source = source_list(catalog, &period);
    let held = holdings(catalog, source, structure);
    let same = source.id == structure.id;
    if !sees(catalog, &caller, &unit, &held, same) {
        return Err(forbidden_unit(&caller, &unit));
    }
    let communes = held.get(&unit).cloned().unwrap_or_default();
    let codes: Vec<String> = communes.iter().map(|c| c.to_string()).collect();
    let submissions = state.store.submissions_of_periods(&[&period]).await?;
    let devices = state.store.devices_of(&codes).await?;
    let counts = state.store.record_counts(&period).await?;
    let stale_before = now - i64::from(stale_days) * 86_400;

    let mut summary_states: BTreeMap<&str, BTreeMap<&str, u32>> = BTreeMap::new();
    let mut stale_count = 0;
    let mut never = 0;
    let rows: Vec<Value> = communes
        .iter()
        .map(|code| {
            let commune = source.get(code);
            let district = commune
                .and_then(|c| c.parent.as_ref())
                .and_then(|p| source.get(p))
                .filter(|p| p.level() == Level::District);
            let holder = (!same)
                .then(|| catalog.holder(&source.id, code, &structure.id))
                .flatten();
            let mut own = Map::new();
            let mut records = Map::new();
            for data_set in DATA_SETS {
                let found = submissions
                    .iter()
                    .find(|s| &s.org_unit == code && s.data_set == data_set);
                *summary_states
                    .entry(data_set.as_str())
                    .or_default()
                    .entry(found.map_or("none", |s| s.state.as_str()))
                    .or_default() += 1;
                own.insert(data_set.as_str().into(), submission_json(found));
                let n = counts
                    .iter()
                    .find(|(u, d, _)| u == code.as_str() && d == data_set.as_str())
                    .map_or(0, |(_, _, n)| *n);
                records.insert(data_set.as_str().into(), json!(n));
            }
            let mine: Vec<&crate::store::DeviceRow> = devices
                .iter()
                .filter(|d| d.org_unit == code.as_str())
                .collect();
            let last_sync = mine.iter().filter_map(|d| d.last_sync_at()).max();
            let stale = last_sync.is_none_or(|t| t < stale_before);
            stale_count += u32::from(stale);
            never += u32::from(last_sync.is_none());
            json!({
                "code": code,
                "name": commune.map(|c| c.name.as_str()),
                "full_name": commune.map(|c| c.full_name()),
                "district": district.map(|d| json!({"code": d.code, "name": d.name, "full_name": d.full_name()})),
                "holder": holder.map(|h| json!({"code": h.unit.code, "full_name": h.unit.full_name(), "whole": h.whole})),
                "submissions": own,
                "records": records,
                "last_sync_at": last_sync,
                "stale": stale,
                "devices": mine.iter().map(|d| json!({
                    "device": d.device,
                    "user_id": d.user_id,
                    "username": d.username,
                    "display_name": d.display_name,
                    "last_push_at": d.last_push_at,
                    "last_pull_at": d.last_pull_at,
                    "last_sync_at": d.last_sync_at(),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let unit_info = structure.get(&unit).expect("checked above");
    Ok(Json(json!({
        "period": period,
        "structure": query.structure.as_deref().unwrap_or("2023"),
        "unit_list": structure.id,
        "source_list": source.id,
        "unit": {"code": unit, "name": unit_info.name, "full_name": unit_info.full_name(), "level": unit_info.level()},
        "stale_days": stale_days,
        "now": now,
        "summary": {
            "communes": rows.len(),
            "stale": stale_count,
            "never_synced": never,
            "submissions": summary_states,
        },
        "communes": rows,
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExamplesQuery {
    period: Option<String>,
    unit: Option<String>,
}

/// `GET /api/examples?period=2023&unit=CODE`: the advanced examples (điển hình tiên tiến) of every
/// commune under the unit, for a district or the province to see side by side and commend: each
/// with its commune's name, its fields as the commune wrote them and its commendations, by commune
/// and newest first (the ids are UUIDv7).
pub async fn examples(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    query: Result<Query<ExamplesQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(query) = query.map_err(query_error)?;
    let period = parse_period(query.period.as_deref())?;
    let reference = state.reference.now(&state.store).await?;
    let catalog = &reference.catalog;
    let source = source_list(catalog, &period);
    let unit = parse_unit(source, query.unit.as_deref(), &caller)?;
    if !caller.covers(catalog, &unit) {
        return Err(forbidden_unit(&caller, &unit));
    }
    let held = holdings(catalog, source, source);
    let communes = held.get(&unit).cloned().unwrap_or_default();
    let scope: Option<Vec<String>> =
        (source.root().code != unit).then(|| communes.iter().map(|c| c.to_string()).collect());
    let records = state
        .store
        .live_records(
            &[&period],
            &[DataSet::AdvancedExample, DataSet::Commendation],
            scope.as_deref(),
        )
        .await?;
    // each example's commendations, by the example's id
    let mut commendations: BTreeMap<&str, Vec<&thidua_domain::protocol::Fields>> = BTreeMap::new();
    for r in records
        .iter()
        .filter(|r| r.data_set == DataSet::Commendation)
    {
        if let Some(example) = r.fields.get("example").and_then(Value::as_str) {
            commendations.entry(example).or_default().push(&r.fields);
        }
    }
    let mut examples: Vec<&Record> = records
        .iter()
        .filter(|r| r.data_set == DataSet::AdvancedExample)
        .collect();
    examples.sort_by(|a, b| a.org_unit.cmp(&b.org_unit).then(b.id.0.cmp(&a.id.0)));
    let list: Vec<Value> = examples
        .into_iter()
        .map(|r| {
            json!({
                "id": r.id,
                "org_unit": r.org_unit,
                "commune": source.get(&r.org_unit).map(|u| u.full_name()),
                "fields": r.fields,
                "commendations": commendations.get(r.id.to_string().as_str()).cloned().unwrap_or_default(),
            })
        })
        .collect();
    Ok(Json(json!({
        "period": period,
        "unit": {"code": unit, "full_name": source.get(&unit).map(|u| u.full_name())},
        "examples": list,
    })))
}
