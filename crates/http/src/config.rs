//! Configuration: defaults, then a TOML file, then `AFTERSALE_…` environment variables (`__`
//! separates sections: `AFTERSALE_SERVER__BIND`), then flags. `aftersale config` prints the
//! defaults; `aftersale.example.toml` in the repository explains each setting.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub evidence: EvidenceConfig,
    pub log: LogConfig,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address to listen on.
    pub bind: String,
    /// Largest JSON body, in KiB.
    pub json_limit_kib: usize,
    /// Run on the manual clock, which a platform admin may advance (demo and tests only).
    pub manual_clock: bool,
    /// How often the deadline runner looks for due deadlines, in milliseconds.
    pub runner_poll_ms: u64,
    /// How long a login session lives, in hours.
    pub session_hours: i64,
    /// Send the session cookie with `Secure` (turn off only for plain-HTTP local use).
    pub secure_cookies: bool,
    /// Threads that run engine calls (each waits for its group commit): the most commands in
    /// flight at once.
    pub blocking_threads: usize,
    /// A request still running after this many seconds is answered 408 and dropped.
    pub request_timeout_secs: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// SQLite database file.
    pub path: PathBuf,
    /// SQLite page cache per connection, in MiB.
    pub cache_mib: u32,
    /// Most write jobs per group commit.
    pub max_batch: usize,
    /// Most read connections open at once.
    pub max_readers: usize,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct EvidenceConfig {
    /// `local` (a directory) or `s3` (any S3-compatible service).
    pub store: String,
    /// Directory for `local`.
    pub dir: PathBuf,
    /// Largest single file, in MiB.
    pub max_file_mib: usize,
    /// Largest upload request, in MiB.
    pub max_request_mib: usize,
    pub s3: S3Config,
}

#[derive(Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct S3Config {
    pub bucket: String,
    pub region: String,
    /// Endpoint URL for S3-compatible services (MinIO, Ceph…); empty for AWS.
    pub endpoint: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// Allow a plain-HTTP endpoint.
    pub allow_http: bool,
}

impl std::fmt::Debug for S3Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Config")
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .finish()
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// error, warn, info, debug or trace.
    pub level: String,
    /// `text` or `json`.
    pub format: String,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            bind: "127.0.0.1:8080".into(),
            json_limit_kib: 256,
            manual_clock: false,
            runner_poll_ms: 500,
            session_hours: 12,
            secure_cookies: false,
            blocking_threads: 128,
            request_timeout_secs: 30,
        }
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig { path: "data/aftersale.db".into(), cache_mib: 16, max_batch: 256, max_readers: 8 }
    }
}

impl Default for EvidenceConfig {
    fn default() -> Self {
        EvidenceConfig {
            store: "local".into(),
            dir: "data/evidence".into(),
            max_file_mib: 20,
            max_request_mib: 50,
            s3: S3Config::default(),
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig { level: "info".into(), format: "text".into() }
    }
}

impl Config {
    /// Defaults, overlaid with the TOML file (if any), then the environment (`AFTERSALE_…`).
    pub fn load(file: Option<&std::path::Path>, env: impl Iterator<Item = (String, String)>) -> Result<Config, String> {
        let mut value = toml::Value::try_from(Config::default()).map_err(|e| e.to_string())?;
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
            let overlay: toml::Value = toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
            merge(&mut value, overlay);
        }
        for (key, raw) in env {
            let Some(rest) = key.strip_prefix("AFTERSALE_") else { continue };
            let path: Vec<String> = rest.split("__").map(|s| s.to_ascii_lowercase()).collect();
            // Only `AFTERSALE_<SECTION>__…` configure the server (AFTERSALE_URL and the like are
            // for the command-line client); a typo inside a section is an error.
            if path.len() < 2 || value.get(&path[0]).is_none() {
                continue;
            }
            set_path(&mut value, &path, &raw).map_err(|e| format!("{key}: {e}"))?;
        }
        let config: Config = value.try_into().map_err(|e: toml::de::Error| e.to_string())?;
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> Result<(), String> {
        if !["local", "s3"].contains(&self.evidence.store.as_str()) {
            return Err(format!("evidence.store must be local or s3, not {:?}", self.evidence.store));
        }
        if !["text", "json"].contains(&self.log.format.as_str()) {
            return Err(format!("log.format must be text or json, not {:?}", self.log.format));
        }
        if self.log.level.parse::<tracing::Level>().is_err() {
            return Err(format!("log.level {:?} is not a level", self.log.level));
        }
        if self.evidence.max_file_mib == 0 || self.evidence.max_request_mib < self.evidence.max_file_mib {
            return Err("evidence.max_request_mib must be at least evidence.max_file_mib (> 0)".into());
        }
        Ok(())
    }

    /// The defaults as TOML.
    pub fn defaults_toml() -> String {
        toml::to_string(&Config::default()).unwrap_or_default()
    }
}

fn merge(base: &mut toml::Value, overlay: toml::Value) {
    match (base, overlay) {
        (toml::Value::Table(b), toml::Value::Table(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(slot) => merge(slot, v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (slot, v) => *slot = v,
    }
}

/// Sets `path` to `raw`, typed like the default value there (so `AFTERSALE_SERVER__MANUAL_CLOCK=true`
/// is a boolean); unknown keys are an error.
fn set_path(value: &mut toml::Value, path: &[String], raw: &str) -> Result<(), String> {
    let mut cur = value;
    for (i, part) in path.iter().enumerate() {
        let table = cur.as_table_mut().ok_or("not a section")?;
        let slot = table.get_mut(part).ok_or_else(|| format!("unknown setting {part}"))?;
        if i + 1 == path.len() {
            *slot = match slot {
                toml::Value::Boolean(_) => toml::Value::Boolean(raw.parse().map_err(|_| "expected true or false")?),
                toml::Value::Integer(_) => toml::Value::Integer(raw.parse().map_err(|_| "expected an integer")?),
                _ => toml::Value::String(raw.to_string()),
            };
            return Ok(());
        }
        cur = slot;
    }
    Err("empty setting name".into())
}
