//! The sync API: push (apply mutations, answer each) and pull (records changed since a cursor).
//! Requests are parsed into checked values here, at the edge; the store sees only those.

use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use thidua_domain::org::{Level, OrgCatalog, UnitCode};
use thidua_domain::protocol::{
    Cursor, DeviceId, Mutation, MutationResult, Outcome, PullRequest, PullResponse, PushRequest,
    PushResponse, MAX_PULL_LIMIT, MAX_PUSH_BATCH, OLDEST_SUPPORTED_PROTOCOL, PROTOCOL_VERSION,
};
use thidua_domain::FieldError;

use crate::auth::{covers, Caller, Role, User};
use crate::error::{ApiError, ApiJson};
use crate::reference::Reference;
use crate::AppState;

pub async fn push(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(request): ApiJson<PushRequest>,
) -> Result<Json<PushResponse>, ApiError> {
    check_protocol(request.protocol)?;
    if request.mutations.len() > MAX_PUSH_BATCH {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "batch_too_large",
            format!(
                "Một lần gửi có {} thay đổi, tối đa là {MAX_PUSH_BATCH}. Hãy gửi thành nhiều đợt.",
                request.mutations.len()
            ),
            format!(
                "One push holds {} changes; at most {MAX_PUSH_BATCH} are allowed. Send them in several batches.",
                request.mutations.len()
            ),
        ));
    }
    // The merge trusts each mutation's device ("the same device is never in conflict with itself"),
    // so a push may only carry the pushing device's own mutations.
    if let Some(other) = foreign_mutation(request.device, &request.mutations) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "device_mismatch",
            format!(
                "Thay đổi {} ghi của máy khác với máy đang gửi. Mỗi máy chỉ gửi thay đổi của chính mình.",
                other.id
            ),
            format!(
                "Mutation {} names another device than the one pushing. A device sends only its own changes.",
                other.id
            ),
        ));
    }
    // one version of the unit lists and criteria for the whole push, even if an upload lands midway
    let reference = state.reference.now(&state.store).await?;
    let results = apply_batch(&state, &reference, &caller.user, &request.mutations).await?;
    tracing::info!(
        user = %caller.user.id,
        role = caller.user.role.as_str(),
        mutations = results.len(),
        rejected = results
            .iter()
            .filter(|r| r.outcome.revision().is_none())
            .count(),
        "push"
    );
    Ok(Json(PushResponse {
        protocol: PROTOCOL_VERSION,
        results,
    }))
}

/// The first mutation that names another device than `device`, if any.
pub(crate) fn foreign_mutation(device: DeviceId, mutations: &[Mutation]) -> Option<&Mutation> {
    mutations.iter().find(|m| m.device != device)
}

/// Applies one batch (at most [`MAX_PUSH_BATCH`] mutations, all of one device) exactly as a push by
/// `writer` does: each mutation checked against the writer's role and unit, then the data set's rules,
/// merged, and answered; a mutation id seen before gets its stored answer. The push and the import of
/// an unsynced export both come through here, so a file imported for a lost tablet is held to the
/// same rules as the tablet's own push, with its account's scope.
pub(crate) async fn apply_batch(
    state: &AppState,
    reference: &Reference,
    writer: &User,
    mutations: &[Mutation],
) -> Result<Vec<MutationResult>, ApiError> {
    debug_assert!(mutations.len() <= MAX_PUSH_BATCH);
    // One batch at a time in this process, so its mutations are merged together rather than
    // interleaved with another batch's. Correctness does not rest on it: each mutation's transaction
    // locks the revision counter in the database (Store::apply_mutation), which is what orders
    // merges and revisions across several server processes on one database.
    let _writer = state.push_lock.lock().await;
    let mut results = Vec::with_capacity(mutations.len());
    for mutation in mutations {
        let result = state
            .store
            .apply_mutation(mutation, |m| {
                let refused = scope_errors(&reference.catalog, writer, m);
                if refused.is_empty() {
                    check_mutation(reference, m)
                } else {
                    refused
                }
            })
            .await?;
        results.push(visible_result(&reference.catalog, writer, result));
    }
    Ok(results)
}

/// Why this writer may not write this mutation's record: supervisors write nothing, a commune officer
/// only their commune's records. (An existing record keeps its unit — the merge refuses a move — so
/// checking the unit the mutation names covers the stored record too.)
fn scope_errors(catalog: &OrgCatalog, writer: &User, mutation: &Mutation) -> Vec<FieldError> {
    let unit = &mutation.record.org_unit;
    match writer.role {
        Role::DistrictSupervisor => vec![FieldError::new(
            "role",
            "read_only_role",
            "Tài khoản giám sát cấp huyện chỉ được xem số liệu, không được sửa hay thêm bản ghi. \
             Thay đổi này không được lưu; hãy để cán bộ xã nhập."
                .into(),
            "District supervisor accounts only read data; they do not add or edit records. This change \
             was not stored; the commune officer should enter it."
                .into(),
        )],
        Role::CommuneOfficer if !covers(catalog, &writer.org_unit, unit) => vec![FieldError::new(
            "org_unit",
            "out_of_scope",
            format!(
                "Tài khoản của bạn chỉ được ghi dữ liệu của đơn vị {}; bản ghi này thuộc đơn vị {unit}. \
                 Thay đổi không được lưu; hãy chọn đúng xã của bạn hoặc để cán bộ xã đó nhập.",
                writer.org_unit
            ),
            format!(
                "Your account writes only records of unit {}; this record belongs to unit {unit}. \
                 The change was not stored; choose your own commune, or let that commune's officer enter it.",
                writer.org_unit
            ),
        )],
        Role::CommuneOfficer | Role::ProvinceAdmin => Vec::new(),
    }
}

/// A push answer never carries a record the writer may not read. Only a resent mutation id can meet
/// this (its stored answer names the record of whoever sent it first); it is answered as refused.
fn visible_result(catalog: &OrgCatalog, writer: &User, result: MutationResult) -> MutationResult {
    match &result.record {
        Some(record) if !covers(catalog, &writer.org_unit, &record.org_unit) => MutationResult {
            mutation: result.mutation,
            outcome: Outcome::Rejected {
                errors: vec![FieldError::new(
                    "org_unit",
                    "out_of_scope",
                    format!(
                        "Bản ghi này thuộc đơn vị {} nằm ngoài phạm vi tài khoản của bạn ({}); \
                         thay đổi không được lưu.",
                        record.org_unit, writer.org_unit
                    ),
                    format!(
                        "This record belongs to unit {}, outside your account's scope ({}); the change \
                         was not stored.",
                        record.org_unit, writer.org_unit
                    ),
                )],
            },
            record: None,
        },
        _ => result,
    }
}

/// Everything that makes the server refuse a mutation before merging: the data set's rules, and a
/// unit that is a commune of a known list (a record for a district, or for a code nobody knows, would
/// never appear in any report). NTM assessments are checked against the NTM set in force, with the
/// requirements the province set.
pub(crate) fn check_mutation(reference: &Reference, mutation: &Mutation) -> Vec<FieldError> {
    let record = &mutation.record;
    let mut errors = record.validate(reference.ntm());
    let known_commune = is_known_commune(&reference.catalog, &record.org_unit);
    if !known_commune && !errors.iter().any(|e| e.field == "org_unit") {
        errors.push(FieldError::new(
            "org_unit",
            "unknown_commune",
            format!(
                "Mã {} không phải xã, phường hoặc thị trấn nào trong danh mục đơn vị của tỉnh. \
                 Hãy chọn lại đơn vị trong danh sách.",
                record.org_unit
            ),
            format!(
                "Code {} is not a commune, ward or township of the province's unit lists. \
                 Choose the unit again from the list.",
                record.org_unit
            ),
        ));
    }
    errors
}

/// True when `code` is a commune (ward, township) in some list the server carries: the only units
/// that hold records and submit reports.
pub(crate) fn is_known_commune(catalog: &OrgCatalog, code: &UnitCode) -> bool {
    catalog
        .lists()
        .iter()
        .any(|list| list.get(code).is_some_and(|u| u.level() == Level::Commune))
}

pub async fn pull(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(request): ApiJson<PullRequest>,
) -> Result<Json<PullResponse>, ApiError> {
    check_protocol(request.protocol)?;
    let limit = PullLimit::parse(request.limit)?;
    let after = Revision::from_cursor(request.cursor.as_ref())?;
    // Always a list of communes, never "everything": the caller's scope, narrowed by the filter. The
    // SQL then cannot return a record outside the scope whatever the filter says.
    let reference = state.reference.now(&state.store).await?;
    let catalog = &reference.catalog;
    let mut scope = communes_within(catalog, &caller.user.org_unit)?;
    if let Some(code) = &request.org_unit {
        let filter = communes_within(catalog, code)?;
        if !caller.covers(catalog, code) {
            return Err(crate::auth::out_of_scope(&caller, code));
        }
        scope.retain(|c| filter.binary_search(c).is_ok());
    }
    let scope = Some(scope);
    if after.0 > state.store.latest_revision().await? {
        // a cursor from another server, or from before a restore: the device must start over
        return Err(bad_cursor());
    }

    // one extra row tells whether another page follows, without a COUNT
    let mut records = state
        .store
        .records_after(after.0, limit.0 + 1, scope.as_deref())
        .await?;
    let has_more = records.len() > limit.0 as usize;
    tracing::info!(
        user = %caller.user.id,
        role = caller.user.role.as_str(),
        records = records.len().min(limit.0 as usize),
        "pull"
    );
    records.truncate(limit.0 as usize);
    let next = records.last().map_or(after, |r| Revision(r.revision));
    Ok(Json(PullResponse {
        protocol: PROTOCOL_VERSION,
        records,
        next_cursor: next.to_cursor(),
        has_more,
    }))
}

/// True for the protocol versions this server reads: the current one, and the older ones it still
/// accepts so a tablet offline across an update can send what it holds before it takes the new app.
/// (The messages of every version in the range have the same shape today; a version that changes them
/// must be read and answered in the device's own version here.)
pub(crate) fn protocol_supported(version: u16) -> bool {
    (OLDEST_SUPPORTED_PROTOCOL..=PROTOCOL_VERSION).contains(&version)
}

fn check_protocol(version: u16) -> Result<(), ApiError> {
    if protocol_supported(version) {
        Ok(())
    } else {
        Err(ApiError::protocol_version(version))
    }
}

/// A page size the server accepts: 1..=MAX_PULL_LIMIT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PullLimit(u32);

impl PullLimit {
    fn parse(limit: u32) -> Result<PullLimit, ApiError> {
        if (1..=MAX_PULL_LIMIT).contains(&limit) {
            Ok(PullLimit(limit))
        } else {
            Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_limit",
                format!("Số bản ghi mỗi lần tải phải từ 1 đến {MAX_PULL_LIMIT} (đang là {limit})."),
                format!("A pull's limit must be between 1 and {MAX_PULL_LIMIT} (got {limit})."),
            ))
        }
    }
}

/// A position in the server's revision order. Devices see it only as an opaque cursor: the decimal
/// revision of the last record they received.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Revision(u64);

impl Revision {
    fn from_cursor(cursor: Option<&Cursor>) -> Result<Revision, ApiError> {
        match cursor {
            None => Ok(Revision(0)),
            Some(Cursor(text)) if text.is_empty() => Ok(Revision(0)),
            // only plain digits: "+5" or " 5" are not cursors this server made
            Some(Cursor(text)) if text.bytes().all(|b| b.is_ascii_digit()) => {
                text.parse().map(Revision).map_err(|_| bad_cursor())
            }
            Some(_) => Err(bad_cursor()),
        }
    }

    fn to_cursor(self) -> Cursor {
        Cursor(self.0.to_string())
    }
}

fn bad_cursor() -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "bad_cursor",
        "Vị trí đồng bộ (cursor) không phải do máy chủ này cấp. Hãy tải lại dữ liệu từ đầu (bỏ cursor).",
        "The sync cursor was not issued by this server. Pull again from the beginning (without a cursor).",
    )
}

/// The communes a pull filter covers, in every list the server knows: the commune itself, or every
/// commune under a district or the province (a 2023 district; a 2025 commune is found in its own list).
pub(crate) fn communes_within(
    catalog: &OrgCatalog,
    code: &UnitCode,
) -> Result<Vec<String>, ApiError> {
    let known = catalog.lists().iter().any(|list| list.get(code).is_some());
    if !known {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "unknown_org_unit",
            format!("Không có đơn vị mã {code} trong danh mục của tỉnh. Hãy chọn đơn vị trong danh sách."),
            format!("No unit has code {code} in the province's lists. Choose a unit from the list."),
        ));
    }
    let mut codes: Vec<String> = catalog
        .lists()
        .iter()
        .flat_map(|list| {
            list.communes()
                .filter(|c| list.is_within(&c.code, code))
                .map(|c| c.code.to_string())
        })
        .collect();
    codes.sort();
    codes.dedup();
    Ok(codes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(text: &str) -> UnitCode {
        UnitCode::parse(text).unwrap()
    }

    #[test]
    fn cursors_are_plain_decimal_revisions() {
        assert_eq!(Revision::from_cursor(None).unwrap(), Revision(0));
        assert_eq!(
            Revision::from_cursor(Some(&Cursor("42".into()))).unwrap(),
            Revision(42)
        );
        for bad in ["-1", "+5", " 5", "abc", "99999999999999999999999"] {
            let err = Revision::from_cursor(Some(&Cursor(bad.into()))).unwrap_err();
            assert_eq!(err.code, "bad_cursor", "{bad}");
        }
        assert_eq!(Revision(7).to_cursor(), Cursor("7".into()));
    }

    #[test]
    fn limits() {
        assert!(PullLimit::parse(0).is_err());
        assert!(PullLimit::parse(MAX_PULL_LIMIT + 1).is_err());
        assert_eq!(PullLimit::parse(MAX_PULL_LIMIT).unwrap().0, MAX_PULL_LIMIT);
    }

    #[test]
    fn filters_cover_communes_under_a_unit() {
        let catalog = OrgCatalog::sonla();
        let district = communes_within(&catalog, &code("116")).unwrap();
        assert!(district.contains(&"03646".to_string()));
        let list_2023 = catalog.list("sonla-2023").unwrap();
        assert!(district
            .iter()
            .all(|c| list_2023.is_within(&code(c), &code("116"))));
        assert_eq!(
            communes_within(&catalog, &code("03646")).unwrap(),
            vec!["03646"]
        );
        let province = communes_within(&catalog, &code("14")).unwrap();
        assert!(province.len() > district.len());
        assert!(communes_within(&catalog, &code("99")).is_err());
    }
}
