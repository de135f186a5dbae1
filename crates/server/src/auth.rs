//! Who is asking, and what they may touch: roles scoped to an org unit, Argon2id passwords, session
//! tokens kept only as SHA-256 hashes, the failed-login limiter, and the middleware that refuses every
//! protected request without a live session.
//!
//! The rule of the issue — nobody reads or writes outside their commune, district or province — is
//! [`Caller::covers`]: a record is in scope when its unit is the caller's unit or lies under it in any
//! unit list the server carries (2023 districts and the 2025 communes directly under the province).

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use rand_core::{OsRng, RngCore};
use serde::Serialize;
use sha2::{Digest, Sha256};
use thidua_domain::org::{Level, OrgCatalog, UnitCode};
use thidua_domain::FieldError;

use crate::config::{LoginLimits, PasswordCost};
use crate::error::ApiError;
use crate::AppState;

/// What an account may do, always together with the unit it is scoped to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads and writes the records of one commune.
    CommuneOfficer,
    /// Reads the records of the communes of one district; never writes.
    DistrictSupervisor,
    /// Reads everything, writes for any commune, manages accounts.
    ProvinceAdmin,
}

impl Role {
    pub const ALL: [Role; 3] = [
        Role::CommuneOfficer,
        Role::DistrictSupervisor,
        Role::ProvinceAdmin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::CommuneOfficer => "commune_officer",
            Role::DistrictSupervisor => "district_supervisor",
            Role::ProvinceAdmin => "province_admin",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == text)
    }

    /// The level of the unit an account of this role is scoped to.
    pub fn level(self) -> Level {
        match self {
            Role::CommuneOfficer => Level::Commune,
            Role::DistrictSupervisor => Level::District,
            Role::ProvinceAdmin => Level::Province,
        }
    }

    pub fn label_vi(self) -> &'static str {
        match self {
            Role::CommuneOfficer => "cán bộ xã",
            Role::DistrictSupervisor => "giám sát cấp huyện",
            Role::ProvinceAdmin => "quản trị tỉnh",
        }
    }
}

/// A person's account as the API shows it: never the password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub org_unit: UnitCode,
}

/// A username as stored: 3–40 characters of `a-z 0-9 . _ -`. Input is trimmed and lower-cased first,
/// so "Xa.ToHieu " on a tablet's keyboard is the same account as "xa.tohieu".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub fn parse(text: &str) -> Result<Username, FieldError> {
        let name = text.trim().to_lowercase();
        let length_ok = (3..=40).contains(&name.chars().count());
        let chars_ok = name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
        if length_ok && chars_ok {
            Ok(Username(name))
        } else {
            Err(FieldError::new(
                "username",
                "invalid_username",
                "Tên đăng nhập phải dài 3 đến 40 ký tự, chỉ gồm chữ thường không dấu (a-z), chữ số và \
                 các dấu . _ -, ví dụ xa.tohieu"
                    .into(),
                "A username is 3 to 40 characters of a-z, digits and . _ -, for example xa.tohieu".into(),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

pub const MIN_PASSWORD_CHARS: usize = 8;
/// Longer is surely a paste mistake; Argon2 would take it, but a person could never type it again.
pub const MAX_PASSWORD_CHARS: usize = 256;

/// A new password that meets the rules. `Debug` never shows it.
#[derive(Clone)]
pub struct NewPassword(String);

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword(***)")
    }
}

impl NewPassword {
    pub fn parse(text: &str) -> Result<NewPassword, FieldError> {
        let chars = text.chars().count();
        if chars < MIN_PASSWORD_CHARS {
            return Err(FieldError::new(
                "password",
                "too_short",
                format!(
                    "Mật khẩu phải có ít nhất {MIN_PASSWORD_CHARS} ký tự; hãy chọn mật khẩu dài hơn \
                     (một câu ngắn dễ nhớ là tốt nhất)"
                ),
                format!("A password needs at least {MIN_PASSWORD_CHARS} characters; choose a longer one"),
            ));
        }
        if chars > MAX_PASSWORD_CHARS {
            return Err(FieldError::new(
                "password",
                "too_long",
                format!("Mật khẩu dài quá {MAX_PASSWORD_CHARS} ký tự; hãy chọn mật khẩu ngắn hơn"),
                format!(
                    "A password has at most {MAX_PASSWORD_CHARS} characters; choose a shorter one"
                ),
            ));
        }
        Ok(NewPassword(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Argon2id with the configured cost, and a hash of nothing in particular to verify against when the
/// username is unknown, so that an unknown name costs as much time as a wrong password.
pub struct Passwords {
    argon: Argon2<'static>,
    dummy_hash: String,
}

impl Passwords {
    pub fn new(cost: PasswordCost) -> Result<Passwords, String> {
        let params = Params::new(cost.memory_kib, cost.iterations, cost.parallelism, None)
            .map_err(|e| format!("tham số Argon2 không hợp lệ / invalid Argon2 parameters: {e}"))?;
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let mut passwords = Passwords {
            argon,
            dummy_hash: String::new(),
        };
        passwords.dummy_hash = passwords.hash("no account has this password");
        Ok(passwords)
    }

    /// A PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`) with a fresh random salt.
    pub fn hash(&self, password: &str) -> String {
        let salt = SaltString::generate(&mut OsRng);
        self.argon
            .hash_password(password.as_bytes(), &salt)
            .expect("Argon2 hashes any password with valid parameters")
            .to_string()
    }

    /// Verifies with the parameters stored in the hash itself, so passwords hashed at an older cost
    /// still work after the cost changes.
    pub fn verify(&self, password: &str, stored_hash: Option<&str>) -> bool {
        let (hash, real) = match stored_hash {
            Some(hash) => (hash, true),
            None => (self.dummy_hash.as_str(), false),
        };
        let Ok(parsed) = PasswordHash::new(hash) else {
            tracing::error!("a stored password hash cannot be read");
            return false;
        };
        let ok = Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        ok && real
    }

    /// [`Passwords::hash`] off the async threads: Argon2 takes tens of milliseconds of CPU on purpose.
    pub async fn hash_blocking(self: &Arc<Self>, password: NewPassword) -> String {
        let passwords = Arc::clone(self);
        tokio::task::spawn_blocking(move || passwords.hash(password.as_str()))
            .await
            .expect("hashing does not panic")
    }

    pub async fn verify_blocking(
        self: &Arc<Self>,
        password: String,
        stored: Option<String>,
    ) -> bool {
        let passwords = Arc::clone(self);
        tokio::task::spawn_blocking(move || passwords.verify(&password, stored.as_deref()))
            .await
            .expect("verifying does not panic")
    }
}

/// A session token as the device holds it: 32 random bytes, base64url without padding (43 characters).
/// The server keeps only [`SessionToken::hash`].
pub struct SessionToken(String);

impl SessionToken {
    pub const LENGTH: usize = 43;

    pub fn generate() -> SessionToken {
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        SessionToken(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
    }

    /// The token of an `Authorization: Bearer …` header, if it has the shape of one this server makes.
    pub fn from_headers(headers: &HeaderMap) -> Option<SessionToken> {
        let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
        let (scheme, token) = value.split_once(' ')?;
        let token = token.trim();
        let well_formed = scheme.eq_ignore_ascii_case("bearer")
            && token.len() == Self::LENGTH
            && token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        well_formed.then(|| SessionToken(token.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Lower-case hex SHA-256 of the token text: what the `sessions` table holds.
    pub fn hash(&self) -> String {
        hex(&Sha256::digest(self.0.as_bytes()))
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Seconds since 1970 by the server's clock: session times and account creation.
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Failed logins per account and per client address, in memory: a restart forgets them, which costs
/// an attacker a restart per window and keeps the database out of the hot path.
pub struct LoginLimiter {
    limits: LoginLimits,
    state: Mutex<Failures>,
}

#[derive(Default)]
struct Failures {
    accounts: HashMap<String, VecDeque<Instant>>,
    addresses: HashMap<IpAddr, VecDeque<Instant>>,
}

/// Above this many tracked keys, a failure also sweeps out keys whose failures have all expired, so
/// guesses with ever new usernames cannot grow the maps without end.
const SWEEP_ABOVE: usize = 10_000;

impl LoginLimiter {
    pub fn new(limits: LoginLimits) -> LoginLimiter {
        LoginLimiter {
            limits,
            state: Mutex::new(Failures::default()),
        }
    }

    /// `Err(wait)` while the account or the address has used up its failures within the window;
    /// `wait` is how long until one of them leaves the window.
    pub fn check(&self, account: &str, address: IpAddr, now: Instant) -> Result<(), Duration> {
        let mut state = self.state.lock().expect("limiter lock");
        let window = self.limits.window;
        let account_wait = state
            .accounts
            .get_mut(account)
            .and_then(|q| wait(q, self.limits.per_account, window, now));
        let address_wait = state
            .addresses
            .get_mut(&address)
            .and_then(|q| wait(q, self.limits.per_address, window, now));
        match account_wait.max(address_wait) {
            Some(wait) => Err(wait),
            None => Ok(()),
        }
    }

    pub fn record_failure(&self, account: &str, address: IpAddr, now: Instant) {
        let mut state = self.state.lock().expect("limiter lock");
        let window = self.limits.window;
        if state.accounts.len() + state.addresses.len() > SWEEP_ABOVE {
            let live = |q: &mut VecDeque<Instant>| {
                prune(q, window, now);
                !q.is_empty()
            };
            state.accounts.retain(|_, q| live(q));
            state.addresses.retain(|_, q| live(q));
        }
        state
            .accounts
            .entry(account.to_string())
            .or_default()
            .push_back(now);
        state.addresses.entry(address).or_default().push_back(now);
    }

    /// After a successful login the account's earlier mistakes no longer count; the address's do.
    pub fn clear_account(&self, account: &str) {
        self.state
            .lock()
            .expect("limiter lock")
            .accounts
            .remove(account);
    }
}

fn prune(failures: &mut VecDeque<Instant>, window: Duration, now: Instant) {
    while failures
        .front()
        .is_some_and(|t| now.duration_since(*t) >= window)
    {
        failures.pop_front();
    }
}

fn wait(
    failures: &mut VecDeque<Instant>,
    limit: u32,
    window: Duration,
    now: Instant,
) -> Option<Duration> {
    prune(failures, window, now);
    let limit = limit.max(1) as usize;
    if failures.len() < limit {
        return None;
    }
    // below the limit again once the failure `limit` places from the newest leaves the window
    let oldest_counted = failures[failures.len() - limit];
    Some(window.saturating_sub(now.duration_since(oldest_counted)))
}

/// The client's address as the connection shows it. Behind a reverse proxy every client shares the
/// proxy's address (the per-address limit then covers them all); forwarded headers are not trusted,
/// since any client can write them.
pub struct ClientIp(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
        Ok(ClientIp(ip))
    }
}

/// The account behind a request's live session, put in the request's extensions by
/// [`require_session`]; handlers take it as `Extension<Caller>`.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: User,
    pub token_hash: String,
}

impl Caller {
    /// True when records of `code` are within the caller's unit in some list the server carries.
    pub fn covers(&self, catalog: &OrgCatalog, code: &UnitCode) -> bool {
        covers(catalog, &self.user.org_unit, code)
    }

    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.user.role == Role::ProvinceAdmin {
            Ok(())
        } else {
            Err(ApiError::forbidden())
        }
    }
}

/// The scope rule: `code` is `scope` or lies under it in any known unit list.
pub fn covers(catalog: &OrgCatalog, scope: &UnitCode, code: &UnitCode) -> bool {
    catalog.lists().iter().any(|l| l.is_within(code, scope))
}

/// Refuses the request unless it carries the token of a live session of an active account: missing,
/// malformed, unknown, expired and revoked tokens all get the same 401, so a forged token learns
/// nothing.
pub async fn require_session(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(token) = SessionToken::from_headers(request.headers()) else {
        return ApiError::unauthorized().into_response();
    };
    let token_hash = token.hash();
    match state.store.session_user(&token_hash, unix_now()).await {
        Ok(Some(user)) => {
            request.extensions_mut().insert(Caller { user, token_hash });
            next.run(request).await
        }
        Ok(None) => ApiError::unauthorized().into_response(),
        Err(error) => error.into_response(),
    }
}

/// A 403 for a pull filtered on a unit outside the caller's scope.
pub fn out_of_scope(caller: &Caller, code: &UnitCode) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "out_of_scope",
        format!(
            "Tài khoản {} của bạn chỉ xem được dữ liệu thuộc đơn vị {}; đơn vị {code} nằm ngoài phạm vi đó. \
             Hãy chọn một đơn vị thuộc phạm vi của bạn.",
            caller.user.role.label_vi(),
            caller.user.org_unit
        ),
        format!(
            "Your account sees only data within unit {}; unit {code} is outside it. Choose a unit \
             within your scope.",
            caller.user.org_unit
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(text: &str) -> UnitCode {
        UnitCode::parse(text).unwrap()
    }

    #[test]
    fn usernames() {
        assert_eq!(
            Username::parse(" Xa.ToHieu ").unwrap().as_str(),
            "xa.tohieu"
        );
        for bad in ["ab", &"a".repeat(41), "xã.tohieu", "a b", "'); drop", ""] {
            assert!(Username::parse(bad).is_err(), "{bad}");
        }
        assert!(Username::parse("a_b-c.9").is_ok());
    }

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let cost = PasswordCost {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        };
        let passwords = Passwords::new(cost).unwrap();
        let hash = passwords.hash("correct horse");
        assert!(hash.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{hash}");
        assert_ne!(
            hash,
            passwords.hash("correct horse"),
            "a fresh salt each time"
        );
        assert!(passwords.verify("correct horse", Some(&hash)));
        assert!(!passwords.verify("correct hors", Some(&hash)));
        assert!(!passwords.verify("no account has this password", None));
        assert!(!passwords.verify("x", Some("not a hash")));
        assert!(NewPassword::parse("1234567").is_err());
        assert!(NewPassword::parse("12345678").is_ok());
        assert!(!format!("{:?}", NewPassword::parse("12345678").unwrap()).contains("1234"));
    }

    #[test]
    fn tokens() {
        let token = SessionToken::generate();
        assert_eq!(token.as_str().len(), SessionToken::LENGTH);
        assert_eq!(token.hash().len(), 64);
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            format!("Bearer {}", token.as_str()).parse().unwrap(),
        );
        assert_eq!(
            SessionToken::from_headers(&headers).unwrap().hash(),
            token.hash()
        );
        for bad in ["Bearer", "Bearer abc", "Basic dXNlcjpwYXNz", &token.0] {
            headers.insert(header::AUTHORIZATION, bad.parse().unwrap());
            assert!(SessionToken::from_headers(&headers).is_none(), "{bad}");
        }
    }

    #[test]
    fn limiter_counts_per_account_and_per_address() {
        let limiter = LoginLimiter::new(LoginLimits {
            per_account: 2,
            per_address: 3,
            window: Duration::from_secs(60),
        });
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let t0 = Instant::now();
        assert!(limiter.check("x", a, t0).is_ok());
        limiter.record_failure("x", a, t0);
        limiter.record_failure("x", a, t0 + Duration::from_secs(10));
        let wait = limiter
            .check("x", b, t0 + Duration::from_secs(20))
            .unwrap_err();
        assert_eq!(wait, Duration::from_secs(40));
        assert!(limiter.check("y", a, t0 + Duration::from_secs(20)).is_ok());
        limiter.record_failure("y", a, t0 + Duration::from_secs(20));
        assert!(limiter.check("z", a, t0 + Duration::from_secs(21)).is_err());
        assert!(limiter.check("z", b, t0 + Duration::from_secs(21)).is_ok());
        limiter.clear_account("x");
        assert!(limiter.check("x", b, t0 + Duration::from_secs(21)).is_ok());
        // the window passes: the address may try again
        assert!(limiter.check("z", a, t0 + Duration::from_secs(59)).is_err());
        assert!(limiter.check("z", a, t0 + Duration::from_secs(61)).is_ok());
    }

    #[test]
    fn scope_follows_every_unit_list() {
        let catalog = OrgCatalog::sonla();
        assert!(covers(&catalog, &code("14"), &code("03646")));
        assert!(covers(&catalog, &code("116"), &code("03646")));
        assert!(covers(&catalog, &code("03646"), &code("03646")));
        assert!(!covers(&catalog, &code("03646"), &code("03649")));
        assert!(!covers(&catalog, &code("116"), &code("03682")));
        assert!(covers(&catalog, &code("118"), &code("03682")));
        assert!(!covers(&catalog, &code("116"), &code("14")));
        assert!(
            covers(&catalog, &code("14"), &code("03980")),
            "a 2025 commune"
        );
    }
}
