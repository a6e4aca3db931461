//! Which database a node uses, from one URL: `sqlite://data/aftersale.db` (a file, created if
//! missing; `sqlite:///abs/path` for an absolute path) or `postgres://user@host:5432/db`.

use super::postgres::{PgOptions, PgStore};
use super::sqlite::{SqliteOptions, SqliteStore};
use super::{Store, StoreError};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(PathBuf),
    Postgres(String),
}

impl DatabaseUrl {
    pub fn parse(url: &str) -> Result<DatabaseUrl, String> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(format!("{url:?}: a sqlite:// URL needs a file path (sqlite://data/aftersale.db)"));
            }
            return Ok(DatabaseUrl::Sqlite(PathBuf::from(path)));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            super::postgres::config(url, std::time::Duration::from_secs(5))
                .map_err(|e| format!("{}: {e}", redact(url)))?;
            return Ok(DatabaseUrl::Postgres(url.to_string()));
        }
        Err(format!("{:?} is not a database URL: use sqlite://FILE or postgres://USER@HOST/DB", redact(url)))
    }

    /// The URL for messages: a password in it is replaced by `***`.
    pub fn display(&self) -> String {
        match self {
            DatabaseUrl::Sqlite(p) => format!("sqlite://{}", p.display()),
            DatabaseUrl::Postgres(u) => redact(u),
        }
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    let Some((userinfo, host)) = rest.split_once('@') else { return url.to_string() };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

/// Settings of either backend; each takes its own.
#[derive(Clone, Debug, Default)]
pub struct OpenOptions {
    pub sqlite: SqliteOptions,
    pub postgres: PgOptions,
}

/// Opens the store a URL names (migrating it), or says in one line why it cannot.
pub fn open(url: &DatabaseUrl, options: &OpenOptions) -> Result<Arc<dyn Store>, StoreError> {
    Ok(match url {
        DatabaseUrl::Sqlite(path) => Arc::new(SqliteStore::open(path, options.sqlite.clone())?),
        DatabaseUrl::Postgres(u) => Arc::new(PgStore::open(u, options.postgres.clone())?),
    })
}
