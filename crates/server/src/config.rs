//! The server's settings, read from the environment once at start and checked there, so the rest of
//! the server works with parsed values only.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

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

#[derive(Debug, Clone)]
pub struct Config {
    /// THIDUA_ADDR, default 127.0.0.1:8080 (port 0 picks a free port, as the tests do).
    pub addr: SocketAddr,
    /// DATABASE_URL, or else THIDUA_DATA_DIR/thidua.db (THIDUA_DATA_DIR defaults to ./data).
    pub database: Database,
    /// THIDUA_DIST, default ./dist: the built web app.
    pub dist_dir: PathBuf,
}

impl Config {
    pub const DEFAULT_ADDR: &'static str = "127.0.0.1:8080";

    /// A configuration for a SQLite file in `data_dir`, serving the app from `dist_dir`.
    pub fn sqlite_in(data_dir: &Path, dist_dir: &Path) -> Config {
        Config {
            addr: Self::DEFAULT_ADDR.parse().expect("valid default address"),
            database: Database::Sqlite(data_dir.join("thidua.db")),
            dist_dir: dist_dir.to_path_buf(),
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
        Ok(Config {
            addr,
            database,
            dist_dir,
        })
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
