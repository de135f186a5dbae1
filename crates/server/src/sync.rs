//! The sync API: push (apply mutations, answer each) and pull (records changed since a cursor).
//! Requests are parsed into checked values here, at the edge; the store sees only those.

use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use thidua_domain::examples::{Commendation, CommendationLevel};
use thidua_domain::org::{Level, OrgCatalog, UnitCode};
use thidua_domain::protocol::{
    Cursor, DataSet, DeviceId, Mutation, MutationResult, Outcome, PullRequest, PullResponse,
    PushRequest, PushResponse, Record, RecordId, MAX_PULL_LIMIT, MAX_PUSH_BATCH,
    OLDEST_SUPPORTED_PROTOCOL, PROTOCOL_VERSION,
};
use thidua_domain::FieldError;

use std::sync::Arc;

use crate::auth::{covers, Caller, Role, User};
use crate::error::{ApiError, ApiJson};
pub(crate) use crate::push_writer::PushNote;
use crate::push_writer::{GroupTiming, PushJob};
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
    // the device's last sync, for the completeness view, is written with the batch
    let note = PushNote {
        device: request.device,
        session_hash: caller.token_hash.clone(),
    };
    let results = apply_batch(
        &state,
        &reference,
        &caller.user,
        request.mutations,
        Some(note),
    )
    .await?;
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
///
/// The batch goes into this process's next group of pushes ([`crate::push_writer`]): one
/// transaction for the group, whose records, answers and devices' notes are stored together or not
/// at all; the answers come back only after the commit. A batch that fails is sent again by the
/// device, and its mutations are then applied as if first seen.
pub(crate) async fn apply_batch(
    state: &AppState,
    reference: &Arc<Reference>,
    writer: &User,
    mutations: Vec<Mutation>,
    note: Option<PushNote>,
) -> Result<Vec<MutationResult>, ApiError> {
    debug_assert!(mutations.len() <= MAX_PUSH_BATCH);
    state
        .pushes
        .write(reference.clone(), writer.clone(), mutations, note)
        .await
}

/// Applies a group of push batches in one transaction, in their order, each mutation merged after
/// the ones before it (of its batch and of the batches before it), and notes each pushing device;
/// the answers of each batch, once the group is committed. Called only by the push writer, one group
/// at a time in this process, so a group's merges are not interleaved with another's and a push
/// waits in the writer's queue rather than on the database's lock. Correctness does not rest on
/// that: the transaction locks the revision counter in the database ([`crate::Store::begin_batch`]),
/// which is what orders merges and revisions across several server processes on one database.
pub(crate) async fn apply_group(
    store: &crate::Store,
    group: &[PushJob],
) -> Result<(Vec<Vec<MutationResult>>, GroupTiming), ApiError> {
    let started = std::time::Instant::now();
    let mut batch = store.begin_batch().await?;
    let begun = started.elapsed();
    // everything the group writes or checks against, read in a few statements
    let mutations = group.iter().flat_map(|job| job.mutations.iter());
    let examples: Vec<RecordId> = mutations
        .clone()
        .filter_map(|m| commended_example(&m.record))
        .collect();
    batch.prefetch(mutations, &examples).await?;
    let read = started.elapsed();
    let mut answers = Vec::with_capacity(group.len());
    for job in group {
        let (reference, writer) = (&job.reference, &job.writer);
        let mut results = Vec::with_capacity(job.mutations.len());
        for mutation in &job.mutations {
            // A commendation is checked against the example it commends, read in the group's
            // transaction (an example sent earlier in the same push counts): an example's unit and
            // period never change once stored (the merge refuses a move).
            let example = match commended_example(&mutation.record) {
                Some(id) => Some(batch.record(id).await?),
                None => None,
            };
            let result = batch
                .apply(mutation, |m| {
                    let refused = scope_errors(&reference.catalog, writer, m);
                    if !refused.is_empty() {
                        return refused;
                    }
                    let mut errors = check_mutation(reference, m);
                    if let (true, Some(example)) = (errors.is_empty(), &example) {
                        errors = example_errors(&m.record, example.as_ref());
                    }
                    errors
                })
                .await?;
            results.push(visible_result(&reference.catalog, writer, result));
        }
        if let Some(note) = &job.note {
            batch
                .note_push(
                    note.device,
                    &writer.id,
                    &writer.org_unit,
                    &note.session_hash,
                    crate::auth::unix_now(),
                )
                .await?;
        }
        answers.push(results);
    }
    let merged = started.elapsed();
    let stored = batch.commit().await?;
    let timing = GroupTiming {
        begin: begun,
        read: read - begun,
        check_merge: merged - read,
        write: stored.write,
        commit: stored.commit,
    };
    Ok((answers, timing))
}

/// Why this writer may not write this mutation's record. A commune officer writes their commune's
/// records, but never a commendation; a district supervisor writes only the district's commendations
/// of examples in its district; the province administrator writes any record except a district's
/// commendation (each level commends, and withdraws, its own). (An existing record keeps its unit —
/// the merge refuses a move — so checking the unit the mutation names covers the stored record too;
/// a commendation's level is read from its id, so a tombstone cannot claim another level either.)
fn scope_errors(catalog: &OrgCatalog, writer: &User, mutation: &Mutation) -> Vec<FieldError> {
    let record = &mutation.record;
    let unit = &record.org_unit;
    match (writer.role, record.data_set) {
        (Role::CommuneOfficer, DataSet::Commendation) => vec![FieldError::new(
            "role",
            "commendation_not_allowed",
            "Cán bộ xã không ghi khen thưởng: việc khen điển hình do cấp huyện hoặc cấp tỉnh quyết định. \
             Thay đổi này không được lưu."
                .into(),
            "Commune officers do not write commendations: the district or the province commends \
             examples. This change was not stored."
                .into(),
        )],
        (Role::DistrictSupervisor, DataSet::Commendation) => {
            match commendation_level(record) {
                Err(errors) => errors,
                Ok(CommendationLevel::Province) => vec![wrong_level(
                    "Tài khoản giám sát cấp huyện chỉ khen ở cấp huyện; khen cấp tỉnh do tỉnh ghi. \
                     Thay đổi này không được lưu.",
                    "District supervisor accounts commend at district level only; the province writes \
                     province commendations. This change was not stored.",
                )],
                Ok(CommendationLevel::District) if !covers(catalog, &writer.org_unit, unit) => {
                    vec![FieldError::new(
                        "org_unit",
                        "out_of_scope",
                        format!(
                            "Tài khoản của bạn chỉ khen điển hình của các xã thuộc đơn vị {}; điển hình \
                             này thuộc đơn vị {unit}. Thay đổi không được lưu.",
                            writer.org_unit
                        ),
                        format!(
                            "Your account commends only examples of the communes of unit {}; this \
                             example belongs to unit {unit}. The change was not stored.",
                            writer.org_unit
                        ),
                    )]
                }
                Ok(CommendationLevel::District) => Vec::new(),
            }
        }
        (Role::DistrictSupervisor, _) => vec![FieldError::new(
            "role",
            "read_only_role",
            "Tài khoản giám sát cấp huyện chỉ được xem số liệu và khen điển hình, không được sửa hay \
             thêm bản ghi khác. Thay đổi này không được lưu; hãy để cán bộ xã nhập."
                .into(),
            "District supervisor accounts only read data and commend examples; they do not add or edit \
             other records. This change was not stored; the commune officer should enter it."
                .into(),
        )],
        (Role::ProvinceAdmin, DataSet::Commendation) => match commendation_level(record) {
            Err(errors) => errors,
            Ok(CommendationLevel::District) => vec![wrong_level(
                "Khen cấp huyện do giám sát cấp huyện ghi; tài khoản của tỉnh khen ở cấp tỉnh. \
                 Thay đổi này không được lưu.",
                "District commendations are written by district supervisors; the province's account \
                 commends at province level. This change was not stored.",
            )],
            Ok(CommendationLevel::Province) => Vec::new(),
        },
        (Role::CommuneOfficer, _) if !covers(catalog, &writer.org_unit, unit) => vec![FieldError::new(
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
        (Role::CommuneOfficer | Role::ProvinceAdmin, _) => Vec::new(),
    }
}

/// The level of a commendation record, as its id says ([`Commendation::identity`]); a record whose
/// fields do not make its id is refused with the reason, before anyone's scope is judged on it.
fn commendation_level(record: &Record) -> Result<CommendationLevel, Vec<FieldError>> {
    if let Some((_, level)) = Commendation::identity(record) {
        return Ok(level);
    }
    let errors = if record.deleted {
        Vec::new()
    } else {
        Commendation::validate_record(record)
    };
    if errors.is_empty() {
        // a tombstone, or fields that parse, under an id they do not make
        Err(vec![FieldError::new(
            "id",
            "wrong_id",
            "Mã bản ghi khen không khớp với điển hình và cấp khen; hãy cập nhật ứng dụng rồi thử lại."
                .into(),
            "The commendation's record id does not match its example and level; update the app and \
             try again."
                .into(),
        )])
    } else {
        Err(errors)
    }
}

fn wrong_level(vi: &str, en: &str) -> FieldError {
    FieldError::new("level", "wrong_level", vi.into(), en.into())
}

/// The example a commendation (not a withdrawal) commends, when the record names one.
fn commended_example(record: &Record) -> Option<RecordId> {
    if record.data_set != DataSet::Commendation || record.deleted {
        return None;
    }
    Commendation::identity(record).map(|(example, _)| example)
}

/// A commendation must commend an advanced example the server holds, not deleted, and carry its
/// commune and year, so the commune's devices pull it with the example and the roll-ups count it
/// where the example is.
fn example_errors(commendation: &Record, example: Option<&Record>) -> Vec<FieldError> {
    let found = example.filter(|e| e.data_set == DataSet::AdvancedExample && !e.deleted);
    match found {
        None => vec![FieldError::new(
            "example",
            "unknown_example",
            "Không tìm thấy điển hình được khen trên máy chủ (có thể đã bị xóa). Hãy đồng bộ lại rồi \
             khen lại."
                .into(),
            "The example commended is not on the server (it may have been deleted). Sync again and \
             commend it again."
                .into(),
        )],
        Some(e) if e.org_unit != commendation.org_unit || e.period != commendation.period => {
            vec![FieldError::new(
                "org_unit",
                "not_the_examples_unit",
                format!(
                    "Khen thưởng phải ghi cho đúng xã và năm của điển hình ({}, {}).",
                    e.org_unit,
                    e.period.as_str()
                ),
                format!(
                    "A commendation belongs to its example's commune and year ({}, {}).",
                    e.org_unit,
                    e.period.as_str()
                ),
            )]
        }
        Some(_) => Vec::new(),
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
/// never appear in any report). NTM assessments are checked against the criteria set in force for
/// their year, with the requirements the province set; indicator reports against its target set.
pub(crate) fn check_mutation(reference: &Reference, mutation: &Mutation) -> Vec<FieldError> {
    let record = &mutation.record;
    let year = record.period.year();
    let mut errors = record.validate_with(
        reference.criteria_for_year(year),
        reference.targets_for_year(year),
    );
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

/// The header a device names itself with on a pull (the pull's body has no device): its
/// [`DeviceId`], so the completeness view shows the last pull of a tablet with nothing to send.
/// Without it, the pull refreshes the devices that pushed with the same session.
pub const DEVICE_HEADER: &str = "x-thidua-device";

pub async fn pull(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: axum::http::HeaderMap,
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
    // an unreadable device header is ignored, as if absent: it must never cost a device its pull
    let device = headers
        .get(DEVICE_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| DeviceId::parse(v).ok());
    state
        .store
        .note_pull(
            device,
            &caller.user.id,
            &caller.user.org_unit,
            &caller.token_hash,
            crate::auth::unix_now(),
        )
        .await?;
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
