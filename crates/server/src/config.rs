//! The server's settings, read from the environment once at start and checked there, so the rest of
//! the server works with parsed values only.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where the data lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// A SQLite file; created with its folder when missing.
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL (`postgres://…`); the database must exist.
    Postgres(String),
}

impl Database {
    /// Reads `DATABASE_URL`: `sqlite:PATH`, `sqlite://PATH` or `postgres://…` / `postgresql://…`.
    pub fn parse_url(url: &str) -> Result<Database, String> {
        let url = url.trim();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Database::Postgres(url.to_string()));
        }
        if let Some(rest) = url.strip_prefix("sqlite:") {
            let rest = rest.strip_prefix("//").unwrap_or(rest);
            // options after '?' are the server's business (it always creates the file and uses WAL)
            let path = rest.split('?').next().unwrap_or_default();
            if path.is_empty() || path == ":memory:" {
                return Err(format!(
                    "DATABASE_URL «{url}»: cần đường dẫn tệp SQLite, ví dụ sqlite:./data/thidua.db \
                     (a SQLite file path is needed)"
                ));
            }
            return Ok(Database::Sqlite(PathBuf::from(path)));
        }
        Err(format!(
            "DATABASE_URL «{url}» không rõ: dùng sqlite:ĐƯỜNG_DẪN hoặc postgres://… \
             (use sqlite:PATH or postgres://…)"
        ))
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Database::Sqlite(_) => "sqlite",
            Database::Postgres(_) => "postgres",
        }
    }

    /// For the start-up message and logs: the file, or the URL without its password.
    pub fn describe(&self) -> String {
        match self {
            Database::Sqlite(path) => path.display().to_string(),
            Database::Postgres(url) => redact_password(url),
        }
    }
}

fn redact_password(url: &str) -> String {
    // postgres://user:secret@host/db → postgres://user:***@host/db
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((userinfo, host)) = rest.rsplit_once('@') else {
        return url.to_string();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

/// A value that must never reach a log or a terminal by accident: `Debug` prints `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// How hard Argon2id works for each password. The default is the `argon2` crate's (19 MiB, 2 passes,
/// 1 lane: OWASP's recommended minimum); tests lower it only to run quickly in debug builds. Hashes
/// carry their own parameters, so a change applies to new passwords and old ones still verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordCost {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for PasswordCost {
    fn default() -> PasswordCost {
        PasswordCost {
            memory_kib: argon2::Params::DEFAULT_M_COST,
            iterations: argon2::Params::DEFAULT_T_COST,
            parallelism: argon2::Params::DEFAULT_P_COST,
        }
    }
}

/// Failed logins allowed within `window` before further attempts are refused until it passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginLimits {
    /// For one username (known or not).
    pub per_account: u32,
    /// From one client address, whatever the usernames: guessing across many accounts.
    pub per_address: u32,
    pub window: Duration,
}

impl Default for LoginLimits {
    fn default() -> LoginLimits {
        LoginLimits {
            per_account: 5,
            per_address: 20,
            window: Duration::from_secs(15 * 60),
        }
    }
}

/// An administrator to create at start when missing (THIDUA_ADMIN_USERNAME + THIDUA_ADMIN_PASSWORD).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminBootstrap {
    pub username: String,
    pub password: Secret,
}

#[derive(Debug, Clone)]
pub struct Config {
    /// THIDUA_ADDR, default 127.0.0.1:8080 (port 0 picks a free port, as the tests do).
    pub addr: SocketAddr,
    /// DATABASE_URL, or else THIDUA_DATA_DIR/thidua.db (THIDUA_DATA_DIR defaults to ./data).
    pub database: Database,
    /// THIDUA_DIST, default ./dist: the built web app.
    pub dist_dir: PathBuf,
    /// THIDUA_SESSION_TTL_HOURS, default 168 (a week: a tablet that syncs weekly stays signed in).
    pub session_ttl: Duration,
    pub login_limits: LoginLimits,
    pub password_cost: PasswordCost,
    /// THIDUA_DEMO=1: demo accounts with a published password, and demo households. Never in production.
    pub demo: bool,
    /// THIDUA_ADMIN_USERNAME and THIDUA_ADMIN_PASSWORD, both or neither.
    pub admin_bootstrap: Option<AdminBootstrap>,
    /// THIDUA_BOUNDARIES_DIR: the folder holding `districts-2023.geojson` and
    /// `communes-2025.geojson` for the dashboard's map (the deployment provides them; none by default).
    pub boundaries_dir: Option<PathBuf>,
}

impl Config {
    pub const DEFAULT_ADDR: &'static str = "127.0.0.1:8080";
    pub const DEFAULT_SESSION_TTL_HOURS: u64 = 168;

    /// A configuration for a SQLite file in `data_dir`, serving the app from `dist_dir`.
    pub fn sqlite_in(data_dir: &Path, dist_dir: &Path) -> Config {
        Config {
            addr: Self::DEFAULT_ADDR.parse().expect("valid default address"),
            database: Database::Sqlite(data_dir.join("thidua.db")),
            dist_dir: dist_dir.to_path_buf(),
            session_ttl: Duration::from_secs(Self::DEFAULT_SESSION_TTL_HOURS * 3600),
            login_limits: LoginLimits::default(),
            password_cost: PasswordCost::default(),
            demo: false,
            admin_bootstrap: None,
            boundaries_dir: None,
        }
    }

    pub fn from_env() -> Result<Config, String> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let addr_text = var("THIDUA_ADDR").unwrap_or_else(|| Self::DEFAULT_ADDR.to_string());
        let addr = addr_text.trim().parse().map_err(|_| {
            format!(
                "THIDUA_ADDR «{addr_text}» không hợp lệ: dùng dạng ĐỊA_CHỈ:CỔNG, ví dụ 127.0.0.1:8080 \
                 (use ADDRESS:PORT)"
            )
        })?;
        let database = match var("DATABASE_URL") {
            Some(url) => Database::parse_url(&url)?,
            None => {
                let dir = PathBuf::from(var("THIDUA_DATA_DIR").unwrap_or_else(|| "./data".into()));
                Database::Sqlite(dir.join("thidua.db"))
            }
        };
        let dist_dir = PathBuf::from(var("THIDUA_DIST").unwrap_or_else(|| "./dist".into()));
        let session_ttl = match (
            var("THIDUA_SESSION_TTL_SECONDS"),
            var("THIDUA_SESSION_TTL_HOURS"),
        ) {
            // seconds: for end-to-end tests of expiry and for short shared-kiosk sessions
            (Some(text), _) => parse_ttl_seconds(&text)?,
            (None, None) => Duration::from_secs(Self::DEFAULT_SESSION_TTL_HOURS * 3600),
            (None, Some(text)) => parse_ttl_hours(&text)?,
        };
        let demo = match var("THIDUA_DEMO") {
            None => false,
            Some(text) => parse_switch("THIDUA_DEMO", &text)?,
        };
        // read without trimming: spaces may be part of a password
        let password = std::env::var("THIDUA_ADMIN_PASSWORD")
            .ok()
            .filter(|p| !p.is_empty());
        let admin_bootstrap = match (var("THIDUA_ADMIN_USERNAME"), password) {
            (Some(username), Some(password)) => Some(AdminBootstrap {
                username: username.trim().to_string(),
                password: Secret(password),
            }),
            (None, None) => None,
            // THIDUA_ADMIN_PASSWORD alone is create-admin's input, not a request to create anyone
            (None, Some(_)) => None,
            (Some(_), None) => return Err(
                "THIDUA_ADMIN_USERNAME đã đặt nhưng thiếu THIDUA_ADMIN_PASSWORD: hãy đặt cả hai \
                     (THIDUA_ADMIN_USERNAME is set without THIDUA_ADMIN_PASSWORD: set both)"
                    .to_string(),
            ),
        };
        let boundaries_dir = var("THIDUA_BOUNDARIES_DIR").map(PathBuf::from);
        Ok(Config {
            addr,
            database,
            dist_dir,
            session_ttl,
            login_limits: LoginLimits::default(),
            password_cost: PasswordCost::default(),
            demo,
            admin_bootstrap,
            boundaries_dir,
        })
    }
}

fn parse_ttl_hours(text: &str) -> Result<Duration, String> {
    match text.trim().parse::<u64>() {
        // up to a year: a longer session is a password by another name
        Ok(hours @ 1..=8760) => Ok(Duration::from_secs(hours * 3600)),
        _ => Err(format!(
            "THIDUA_SESSION_TTL_HOURS «{text}» không hợp lệ: dùng số giờ từ 1 đến 8760, ví dụ 168 \
             (use a number of hours from 1 to 8760)"
        )),
    }
}

fn parse_ttl_seconds(text: &str) -> Result<Duration, String> {
    match text.trim().parse::<u64>() {
        Ok(seconds) if (1..=8760 * 3600).contains(&seconds) => Ok(Duration::from_secs(seconds)),
        _ => Err(format!(
            "THIDUA_SESSION_TTL_SECONDS «{text}» không hợp lệ: dùng số giây từ 1 đến 31536000 \
             (use a number of seconds from 1 to 31536000)"
        )),
    }
}

fn parse_switch(name: &str, text: &str) -> Result<bool, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(format!(
            "{name} «{text}» không hợp lệ: dùng 1 (bật) hoặc 0 (tắt) (use 1 for on or 0 for off)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls() {
        assert_eq!(
            Database::parse_url("sqlite:./data/x.db").unwrap(),
            Database::Sqlite("./data/x.db".into())
        );
        assert_eq!(
            Database::parse_url("sqlite:///tmp/x.db?mode=rwc").unwrap(),
            Database::Sqlite("/tmp/x.db".into())
        );
        assert!(matches!(
            Database::parse_url("postgresql://u@h/db").unwrap(),
            Database::Postgres(_)
        ));
        assert!(Database::parse_url("mysql://h/db").is_err());
        assert!(Database::parse_url("sqlite::memory:").is_err());
    }

    #[test]
    fn session_ttl_and_switches() {
        assert_eq!(
            parse_ttl_hours("168").unwrap(),
            Duration::from_secs(168 * 3600)
        );
        for bad in ["0", "-1", "8761", "a week"] {
            assert!(parse_ttl_hours(bad).is_err(), "{bad}");
        }
        assert!(parse_switch("THIDUA_DEMO", "1").unwrap());
        assert!(!parse_switch("THIDUA_DEMO", "0").unwrap());
        assert!(parse_switch("THIDUA_DEMO", "maybe").is_err());
        let secret = AdminBootstrap {
            username: "admin".into(),
            password: Secret("hunter2hunter2".into()),
        };
        assert!(!format!("{secret:?}").contains("hunter2"));
    }

    #[test]
    fn passwords_are_not_printed() {
        assert_eq!(
            Database::Postgres("postgres://app:s3cret@db:5432/thidua".into()).describe(),
            "postgres://app:***@db:5432/thidua"
        );
        assert_eq!(
            Database::Postgres("postgres://postgres@127.0.0.1/x".into()).describe(),
            "postgres://postgres@127.0.0.1/x"
        );
    }
}
