//! `POST /api/admin/unsynced-imports`: the province administrator imports the file a tablet wrote with
//! "Xuất dữ liệu chưa đồng bộ" ([`UnsyncedExport`]), for a tablet that will never reach the server.
//!
//! The file is checked whole first (what kind of file, its protocol, that every change is the
//! device's own, that its account exists and writes records); any problem is a 4xx naming it, and
//! nothing is stored. Then its mutations go through exactly the code of a push
//! ([`sync::apply_batch`]), in batches of [`MAX_PUSH_BATCH`], as the tablet itself would have sent
//! them, with its account's scope (not the administrator's): the same per-mutation refusals, the same
//! merge, and the same idempotency by mutation id. So importing twice, or importing after the tablet
//! synced after all, changes nothing and answers with the stored results.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use thidua_domain::protocol::{
    MutationResult, Outcome, UnsyncedExport, MAX_PUSH_BATCH, OLDEST_SUPPORTED_PROTOCOL,
    PROTOCOL_VERSION, UNSYNCED_EXPORT_FORMAT, UNSYNCED_EXPORT_VERSION,
};
use thidua_domain::FieldError;

use crate::auth::{Caller, Role, User};
use crate::error::{ApiError, JsonBody};
use crate::sync;
use crate::AppState;

/// The answer: one result per mutation, in the file's order, and how many ended each way.
#[derive(Debug, Serialize)]
pub struct ImportResponse {
    pub results: Vec<MutationResult>,
    pub counts: OutcomeCounts,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct OutcomeCounts {
    pub applied: usize,
    pub merged: usize,
    pub conflict: usize,
    pub rejected: usize,
}

impl OutcomeCounts {
    fn of(results: &[MutationResult]) -> OutcomeCounts {
        let mut counts = OutcomeCounts::default();
        for result in results {
            match result.outcome {
                Outcome::Applied { .. } => counts.applied += 1,
                Outcome::Merged { .. } => counts.merged += 1,
                Outcome::Conflict { .. } => counts.conflict += 1,
                Outcome::Rejected { .. } => counts.rejected += 1,
            }
        }
        counts
    }
}

/// Only what says which kind of file this is, read before the rest: a file of another kind, or of a
/// later format, is answered "not a file this server imports" rather than with the parser's complaint
/// about its first unexpected field.
#[derive(Deserialize)]
struct FileKind {
    format: Option<String>,
    format_version: Option<u16>,
}

pub async fn import_unsynced(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    request: Request,
) -> Result<Json<ImportResponse>, ApiError> {
    // before the body is read: a commune officer's upload is a 403 whatever it holds
    caller.require_admin()?;
    let export = read_export(request).await?;
    let writer = check_export(&state, &export).await?;

    // one version of the unit lists and criteria for the whole file, as for one push
    let reference = state.reference.now(&state.store).await?;
    let mut results = Vec::with_capacity(export.mutations.len());
    // Batches of a push's size, each queued with the tablets' pushes, so the tablets syncing
    // meanwhile wait for one batch, not for weeks of one tablet's work. Each batch commits on its own, as a
    // push does; if the database fails midway, the batches applied stay and importing the file again
    // does the rest. (No device note: the tablet itself did not sync.)
    for batch in export.mutations.chunks(MAX_PUSH_BATCH) {
        results.extend(sync::apply_batch(&state, &reference, &writer, batch.to_vec(), None).await?);
    }
    let counts = OutcomeCounts::of(&results);
    tracing::info!(
        admin = %caller.user.id,
        user = %writer.id,
        device = %export.device,
        mutations = results.len(),
        applied = counts.applied,
        merged = counts.merged,
        conflict = counts.conflict,
        rejected = counts.rejected,
        "unsynced export imported"
    );
    Ok(Json(ImportResponse { results, counts }))
}

/// The body as an export of a format and version this server reads.
async fn read_export(request: Request) -> Result<UnsyncedExport, ApiError> {
    let body = JsonBody::read(request).await?;
    // a body that is not even an object with these two fields is left to the full parse, which says
    // what is wrong with it
    if let Ok(kind) = body.parse::<FileKind>() {
        check_kind(kind.format.as_deref(), kind.format_version)?;
    }
    // (when that reading failed, so does this one: both fields have the same types here)
    body.parse()
}

fn check_kind(format: Option<&str>, version: Option<u16>) -> Result<(), ApiError> {
    if format != Some(UNSYNCED_EXPORT_FORMAT) {
        let named = format.unwrap_or("").chars().take(40).collect::<String>();
        return Err(refused(
            "unsynced_format",
            "format",
            format!(
                "Tệp này không phải tệp «Xuất dữ liệu chưa đồng bộ» của Thi Đua (ô «format» là \
                 «{named}», cần «{UNSYNCED_EXPORT_FORMAT}»). Hãy chọn đúng tệp đã xuất từ máy tính bảng."
            ),
            format!(
                "This is not a Thi Đua «export unsynced data» file (its «format» is «{named}», not \
                 «{UNSYNCED_EXPORT_FORMAT}»). Choose the file exported from the tablet."
            ),
        ));
    }
    if version != Some(UNSYNCED_EXPORT_VERSION) {
        let shown = version.map_or_else(|| "(không có)".to_string(), |v| v.to_string());
        let shown_en = version.map_or_else(|| "(none)".to_string(), |v| v.to_string());
        return Err(refused(
            "unsynced_format_version",
            "format_version",
            format!(
                "Tệp dùng mẫu phiên bản {shown}; máy chủ này chỉ đọc phiên bản \
                 {UNSYNCED_EXPORT_VERSION}. Nếu tệp do ứng dụng mới hơn xuất ra, hãy cập nhật máy chủ \
                 rồi nhập lại."
            ),
            format!(
                "The file's format version is {shown_en}; this server reads only version \
                 {UNSYNCED_EXPORT_VERSION}. If a newer app wrote it, update the server and import it again."
            ),
        ));
    }
    Ok(())
}

/// Everything about the file as a whole, before a single mutation is applied: its protocol, that its
/// changes are the device's own, and the account they are written as. (The file's `org_unit` is not
/// used: the account's unit as the server holds it is the scope, as it would be for its push.)
async fn check_export(state: &AppState, export: &UnsyncedExport) -> Result<User, ApiError> {
    check_protocol(export.protocol)?;
    // the merge trusts each mutation's device ("never in conflict with itself"), as for a push
    if let Some(at) = export
        .mutations
        .iter()
        .position(|m| m.device != export.device)
    {
        let mutation = &export.mutations[at];
        return Err(refused(
            "device_mismatch",
            &format!("mutations[{at}].device"),
            format!(
                "Thay đổi thứ {} (mã {}) ghi máy {}, khác với máy của tệp ({}). Tệp chỉ được chứa thay \
                 đổi của chính máy đã xuất nó; hãy xuất lại tệp từ máy đó.",
                at + 1,
                mutation.id,
                mutation.device,
                export.device
            ),
            format!(
                "Change number {} (id {}) names device {}, not the file's device {}. A file holds only \
                 the changes of the device that exported it; export it again from that device.",
                at + 1,
                mutation.id,
                mutation.device,
                export.device
            ),
        ));
    }
    // a lost tablet's account may well have been deactivated since: it still names who wrote the data
    let Some(stored) = state.store.user_by_id(&export.user_id).await? else {
        let id = export.user_id.chars().take(64).collect::<String>();
        return Err(refused(
            "unknown_user",
            "user_id",
            format!(
                "Không có tài khoản mã «{id}» trên máy chủ này. Tệp có thể được xuất từ máy chủ khác; \
                 hãy nhập tệp vào đúng máy chủ mà máy tính bảng đã đồng bộ."
            ),
            format!(
                "No account has id «{id}» on this server. The file may come from another server; \
                 import it into the server the tablet synced with."
            ),
        ));
    };
    let user = stored.user;
    if user.username != export.username {
        let named = export.username.chars().take(40).collect::<String>();
        return Err(refused(
            "username_mismatch",
            "username",
            format!(
                "Tệp ghi tài khoản «{named}» nhưng mã tài khoản trong tệp là của «{}». Tệp có thể đã bị \
                 sửa; hãy xuất lại tệp từ máy tính bảng.",
                user.username
            ),
            format!(
                "The file names account «{named}» but its account id is that of «{}». The file may \
                 have been edited; export it again from the tablet.",
                user.username
            ),
        ));
    }
    if user.role != Role::CommuneOfficer {
        return Err(refused(
            "not_a_commune_officer",
            "user_id",
            format!(
                "Tài khoản «{}» là tài khoản {}, không phải cán bộ xã; chỉ cán bộ xã ghi số liệu, nên \
                 tệp của tài khoản này không có gì để nhập.",
                user.username,
                user.role.label_vi()
            ),
            format!(
                "Account «{}» is a {} account, not a commune officer's; only commune officers write \
                 records, so there is nothing to import from its file.",
                user.username,
                user.role.as_str()
            ),
        ));
    }
    Ok(user)
}

/// The file's protocol must be one a push may use; which side is behind decides the advice.
fn check_protocol(version: u16) -> Result<(), ApiError> {
    if sync::protocol_supported(version) {
        return Ok(());
    }
    Err(if version > PROTOCOL_VERSION {
        refused(
            "server_outdated",
            "protocol",
            format!(
                "Tệp được xuất từ ứng dụng mới hơn máy chủ (giao thức đồng bộ phiên bản {version}, máy \
                 chủ chỉ hiểu đến phiên bản {PROTOCOL_VERSION}). Hãy cập nhật máy chủ rồi nhập lại tệp."
            ),
            format!(
                "The file comes from an app newer than the server (sync protocol version {version}; the \
                 server understands up to version {PROTOCOL_VERSION}). Update the server and import the \
                 file again."
            ),
        )
    } else {
        refused(
            "app_outdated",
            "protocol",
            format!(
                "Tệp được xuất từ ứng dụng quá cũ (giao thức đồng bộ phiên bản {version}; máy chủ chỉ \
                 còn đọc từ phiên bản {OLDEST_SUPPORTED_PROTOCOL}). Hãy giữ nguyên tệp và báo bộ phận \
                 kỹ thuật: cần một bản máy chủ còn đọc được phiên bản này."
            ),
            format!(
                "The file comes from an app that is too old (sync protocol version {version}; the server \
                 reads only versions from {OLDEST_SUPPORTED_PROTOCOL}). Keep the file as it is and tell \
                 the technical staff: it needs a server version that still reads this one."
            ),
        )
    })
}

/// A 422 for a file that cannot be imported: what is wrong, and the field of the file it is in.
fn refused(code: &'static str, field: &str, message_vi: String, message_en: String) -> ApiError {
    let fields = vec![FieldError::new(
        field,
        code,
        message_vi.clone(),
        message_en.clone(),
    )];
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        code,
        format!("{message_vi} Chưa có gì được lưu."),
        format!("{message_en} Nothing was stored."),
    )
    .with_fields(fields)
}
