//! Who is signed in on this browser. The session (token and user) is kept in localStorage so the app
//! opens with no network; each user's records live in their own IndexedDB database, so a different
//! user on a shared tablet never sees the previous user's records.

use serde::{Deserialize, Serialize};

use crate::api::{self, ApiError};

const KEY: &str = "thidua.session";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Cán bộ xã: reads and writes their commune.
    CommuneOfficer,
    /// Chuyên viên huyện: reads the communes of their district.
    DistrictSupervisor,
    /// Quản trị tỉnh: reads everything, manages users.
    ProvinceAdmin,
}

impl Role {
    /// The role's name, in the user's language.
    pub fn label(self, lang: thidua_domain::Lang) -> &'static str {
        let locale = crate::i18n::Locale::from(lang);
        match self {
            Role::CommuneOfficer => crate::i18n::td_string!(locale, role.commune_officer),
            Role::DistrictSupervisor => crate::i18n::td_string!(locale, role.district_supervisor),
            Role::ProvinceAdmin => crate::i18n::td_string!(locale, role.province_admin),
        }
    }
    /// Only commune officers and the province edit records; supervisors read.
    pub fn edits(self) -> bool {
        !matches!(self, Role::DistrictSupervisor)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub org_unit: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub token: String,
    /// Unix seconds. Past it the server refuses the token, but the app keeps working offline.
    pub expires_at: i64,
    pub user: User,
}

impl Session {
    /// The IndexedDB database holding this user's records and outbox.
    pub fn database_name(&self) -> String {
        database_name(&self.user.id)
    }
}

pub fn database_name(user_id: &str) -> String {
    format!("thidua-{user_id}")
}

pub fn load() -> Option<Session> {
    let text = crate::storage::local_storage()?.get_item(KEY).ok()??;
    serde_json::from_str(&text).ok()
}

pub fn save(session: &Session) {
    if let (Some(storage), Ok(text)) = (
        crate::storage::local_storage(),
        serde_json::to_string(session),
    ) {
        let _ = storage.set_item(KEY, &text);
    }
}

pub fn clear() {
    if let Some(storage) = crate::storage::local_storage() {
        let _ = storage.remove_item(KEY);
    }
}

#[derive(Serialize)]
struct LoginRequest<'a> {
    username: &'a str,
    password: &'a str,
}

/// Signs in; the answer is the new session (not yet saved).
pub async fn login(username: &str, password: &str) -> Result<Session, ApiError> {
    api::post_json(
        "/api/auth/login",
        &LoginRequest {
            username: username.trim(),
            password,
        },
        None,
        30_000,
    )
    .await
}

/// Tells the server the token is no longer used. Best effort: signing out works offline too.
pub async fn logout(token: &str) {
    let _ = api::post_empty("/api/auth/logout", token, 10_000).await;
}
