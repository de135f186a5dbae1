//! The account API: login, logout and "who am I" for everyone; the user list and account changes for
//! province administrators. Requests are checked here, at the edge, into [`Username`], [`NewPassword`],
//! [`Role`] and [`UnitCode`]; the store sees only checked values.

use std::time::Instant;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use serde_json::json;
use thidua_domain::org::{OrgCatalog, UnitCode};
use thidua_domain::FieldError;

use crate::auth::{unix_now, Caller, ClientIp, NewPassword, Role, SessionToken, User, Username};
use crate::error::{ApiError, ApiJson};
use crate::store::StoredUser;
use crate::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    username: String,
    password: String,
}

#[derive(Serialize)]
pub struct LoginResponse {
    pub token: String,
    /// Unix seconds.
    pub expires_at: i64,
    pub user: User,
}

pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(request): ApiJson<LoginRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    // the limiter's key for the account: what the person typed, normalised as usernames are stored,
    // so unknown names are limited too
    let account = request.username.trim().to_lowercase();
    state
        .login_limiter
        .check(&account, ip, Instant::now())
        .map_err(|wait| ApiError::too_many_attempts(wait.as_secs_f64().ceil() as u64))?;

    let stored = match Username::parse(&request.username) {
        Ok(username) => state.store.user_by_username(username.as_str()).await?,
        Err(_) => None,
    };
    // an unknown username is checked against a dummy hash: the answer takes as long as a wrong password
    let hash = stored.as_ref().map(|s| s.password_hash.clone());
    let password_ok = state
        .passwords
        .verify_blocking(request.password, hash)
        .await;
    let user = match stored {
        Some(stored) if password_ok && stored.active => stored.user,
        _ => {
            state
                .login_limiter
                .record_failure(&account, ip, Instant::now());
            tracing::info!("login refused");
            return Err(ApiError::invalid_credentials());
        }
    };
    state.login_limiter.clear_account(&account);

    let token = SessionToken::generate();
    let now = unix_now();
    let expires_at = now.saturating_add(state.session_ttl.as_secs() as i64);
    state
        .store
        .insert_session(&token.hash(), &user.id, now, expires_at)
        .await?;
    tracing::info!(user = %user.id, role = user.role.as_str(), "login");
    Ok(Json(LoginResponse {
        token: token.as_str().to_string(),
        expires_at,
        user,
    }))
}

pub async fn logout(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<StatusCode, ApiError> {
    state
        .store
        .revoke_session(&caller.token_hash, unix_now())
        .await?;
    tracing::info!(user = %caller.user.id, "logout");
    Ok(StatusCode::NO_CONTENT)
}

pub async fn me(Extension(caller): Extension<Caller>) -> Json<User> {
    Json(caller.user)
}

/// An account as administrators see it: the user, and whether it may log in. Never the hash.
#[derive(Serialize)]
pub struct AccountView {
    #[serde(flatten)]
    pub user: User,
    pub active: bool,
    /// Unix seconds.
    pub created_at: i64,
}

impl From<StoredUser> for AccountView {
    fn from(stored: StoredUser) -> AccountView {
        AccountView {
            user: stored.user,
            active: stored.active,
            created_at: stored.created_at,
        }
    }
}

pub async fn list_users(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require_admin()?;
    let users: Vec<AccountView> = state
        .store
        .users()
        .await?
        .into_iter()
        .map(AccountView::from)
        .collect();
    Ok(Json(json!({ "users": users })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    username: String,
    display_name: String,
    role: String,
    org_unit: String,
    password: String,
}

/// A new account's request, every field checked; all problems are reported together.
pub struct NewAccount {
    pub username: Username,
    pub display_name: String,
    pub role: Role,
    pub org_unit: UnitCode,
    pub password: NewPassword,
}

pub const MAX_DISPLAY_NAME_CHARS: usize = 120;

impl NewAccount {
    pub fn check(
        catalog: &OrgCatalog,
        username: &str,
        display_name: &str,
        role: &str,
        org_unit: &str,
        password: &str,
    ) -> Result<NewAccount, Vec<FieldError>> {
        let mut errors = Vec::new();
        let username = Username::parse(username).map_err(|e| errors.push(e)).ok();
        let display_name = check_display_name(display_name)
            .map_err(|e| errors.push(e))
            .ok();
        let role = Role::parse(role)
            .ok_or_else(|| {
                errors.push(FieldError::new(
                    "role",
                    "unknown_role",
                    format!(
                        "Vai trò «{role}» không có; hãy chọn commune_officer (cán bộ xã), \
                         district_supervisor (giám sát cấp huyện) hoặc province_admin (quản trị tỉnh)"
                    ),
                    format!(
                        "There is no role «{role}»; choose commune_officer, district_supervisor or \
                         province_admin"
                    ),
                ))
            })
            .ok();
        let org_unit = check_unit(catalog, org_unit, role)
            .map_err(|e| errors.push(e))
            .ok();
        let password = NewPassword::parse(password)
            .map_err(|e| errors.push(e))
            .ok();
        match (username, display_name, role, org_unit, password) {
            (Some(username), Some(display_name), Some(role), Some(org_unit), Some(password))
                if errors.is_empty() =>
            {
                Ok(NewAccount {
                    username,
                    display_name,
                    role,
                    org_unit,
                    password,
                })
            }
            _ => Err(errors),
        }
    }
}

/// Any text a person can read back: not blank, not too long, no control characters. Stored exactly as
/// given (markup and quotes included): it is data, escaped by whoever displays it.
fn check_display_name(name: &str) -> Result<String, FieldError> {
    if name.trim().is_empty() {
        return Err(FieldError::new(
            "display_name",
            "required",
            "Chưa nhập họ tên; hãy nhập họ tên người dùng tài khoản".into(),
            "The display name is empty; enter the person's name".into(),
        ));
    }
    if name.chars().count() > MAX_DISPLAY_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(FieldError::new(
            "display_name",
            "invalid",
            format!(
                "Họ tên dài quá {MAX_DISPLAY_NAME_CHARS} ký tự hoặc có ký tự điều khiển; hãy nhập lại"
            ),
            format!(
                "The display name is longer than {MAX_DISPLAY_NAME_CHARS} characters or has control \
                 characters; enter it again"
            ),
        ));
    }
    Ok(name.to_string())
}

/// The unit exists in a list the server carries and has the level the role is scoped to.
fn check_unit(
    catalog: &OrgCatalog,
    text: &str,
    role: Option<Role>,
) -> Result<UnitCode, FieldError> {
    let unknown = || {
        FieldError::new(
            "org_unit",
            "unknown_org_unit",
            format!("Không có đơn vị mã «{text}» trong danh mục của tỉnh; hãy chọn đơn vị trong danh sách"),
            format!("No unit has code «{text}» in the province's lists; choose a unit from the list"),
        )
    };
    let code = UnitCode::parse(text).map_err(|_| unknown())?;
    let levels: Vec<_> = catalog
        .lists()
        .iter()
        .filter_map(|list| list.get(&code).map(|u| u.level()))
        .collect();
    if levels.is_empty() {
        return Err(unknown());
    }
    match role {
        Some(role) if !levels.contains(&role.level()) => Err(FieldError::new(
            "org_unit",
            "wrong_level",
            format!(
                "Tài khoản {} phải gắn với một {}; đơn vị {code} không phải cấp đó",
                role.label_vi(),
                match role {
                    Role::CommuneOfficer => "xã, phường hoặc thị trấn",
                    Role::DistrictSupervisor => "huyện, thị xã hoặc thành phố",
                    Role::ProvinceAdmin => "tỉnh (mã 14)",
                }
            ),
            format!(
                "A {} account belongs to a unit of level {:?}; unit {code} is not",
                role.as_str(),
                role.level()
            ),
        )),
        _ => Ok(code),
    }
}

fn invalid_account(errors: Vec<FieldError>) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_user",
        "Thông tin tài khoản chưa hợp lệ; hãy sửa các ô được đánh dấu rồi gửi lại.",
        "The account details are not valid; fix the marked fields and send again.",
    )
    .with_fields(errors)
}

/// Stores a new active account; shared by the admin API, create-admin and the demo accounts.
pub async fn create_account(state: &AppState, account: NewAccount) -> Result<User, ApiError> {
    let password_hash = state.passwords.hash_blocking(account.password).await;
    let user = User {
        id: uuid::Uuid::new_v4().to_string(),
        username: account.username.as_str().to_string(),
        display_name: account.display_name,
        role: account.role,
        org_unit: account.org_unit,
    };
    state
        .store
        .insert_user(&StoredUser {
            user: user.clone(),
            password_hash,
            active: true,
            created_at: unix_now(),
        })
        .await?;
    Ok(user)
}

pub async fn create_user(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(request): ApiJson<CreateUserRequest>,
) -> Result<impl IntoResponse, ApiError> {
    caller.require_admin()?;
    // the units in force now: a unit list uploaded a moment ago already counts
    let reference = state.reference.now(&state.store).await?;
    let account = NewAccount::check(
        &reference.catalog,
        &request.username,
        &request.display_name,
        &request.role,
        &request.org_unit,
        &request.password,
    )
    .map_err(invalid_account)?;
    if state
        .store
        .user_by_username(account.username.as_str())
        .await?
        .is_some()
    {
        return Err(crate::store::username_taken(account.username.as_str()));
    }
    let user = create_account(&state, account).await?;
    tracing::info!(by = %caller.user.id, user = %user.id, role = user.role.as_str(), "account created");
    let stored = state
        .store
        .user_by_id(&user.id)
        .await?
        .ok_or_else(|| ApiError::corrupt("users", "the new account cannot be read back"))?;
    Ok((StatusCode::CREATED, Json(AccountView::from(stored))))
}

fn user_not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "user_not_found",
        "Không có tài khoản này (có thể đã bị xoá khỏi danh sách). Hãy tải lại danh sách tài khoản.",
        "There is no such account. Reload the list of accounts.",
    )
}

pub async fn revoke_sessions(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require_admin()?;
    if state.store.user_by_id(&id).await?.is_none() {
        return Err(user_not_found());
    }
    let revoked = state.store.revoke_user_sessions(&id, unix_now()).await?;
    tracing::info!(by = %caller.user.id, user = %id, revoked, "sessions revoked");
    Ok(Json(json!({ "revoked": revoked })))
}

pub async fn deactivate(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<AccountView>, ApiError> {
    caller.require_admin()?;
    if id == caller.user.id {
        // the last administrator locking themselves out would need create-admin on the server
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "cannot_deactivate_self",
            "Không thể tự khoá tài khoản đang dùng. Hãy nhờ một người quản trị khác làm việc này.",
            "You cannot deactivate the account you are using. Ask another administrator.",
        ));
    }
    if !state.store.set_user_active(&id, false).await? {
        return Err(user_not_found());
    }
    // sessions of an inactive account already fail; revoking them too keeps that true if it is
    // reactivated later
    let revoked = state.store.revoke_user_sessions(&id, unix_now()).await?;
    tracing::info!(by = %caller.user.id, user = %id, revoked, "account deactivated");
    let stored = state
        .store
        .user_by_id(&id)
        .await?
        .ok_or_else(user_not_found)?;
    Ok(Json(AccountView::from(stored)))
}
