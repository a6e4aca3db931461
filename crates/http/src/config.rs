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
    pub sms: SmsConfig,
    pub events: EventsConfig,
    pub webhooks: WebhooksConfig,
    pub payments: PaymentsConfig,
    pub email: EmailConfig,
}

/// Email to buyers (X1), over SMTP. See `docs/notifications.md`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct EmailConfig {
    /// The SMTP server; empty: no email is made or sent.
    pub smtp_host: String,
    pub smtp_port: u16,
    /// `starttls` (required), `tls` (implicit, port 465) or `none` (a relay on the same host).
    pub tls: String,
    /// An extra root certificate (PEM) to trust, for a relay with a private CA.
    pub ca_file: String,
    pub username: String,
    pub password: String,
    /// The sender, e.g. `售后服务 <aftersale@example.com>`.
    pub from: String,
    pub timeout_secs: u64,
    /// How many emails one pass takes at most, and how often a node looks for more (ms).
    pub batch: usize,
    pub poll_ms: u64,
    /// At most this many emails a second from one node (0: no limit).
    pub rate_per_sec: u32,
    /// Seconds to wait after each failed attempt (the last repeated); given up after max_attempts.
    pub retry_secs: Vec<u64>,
    pub max_attempts: u32,
}

impl Default for EmailConfig {
    fn default() -> Self {
        EmailConfig {
            smtp_host: String::new(),
            smtp_port: 587,
            tls: "starttls".into(),
            ca_file: String::new(),
            username: String::new(),
            password: String::new(),
            from: "aftersale <aftersale@localhost>".into(),
            timeout_secs: 10,
            batch: 50,
            poll_ms: 1_000,
            rate_per_sec: 10,
            retry_secs: vec![60, 300, 1800, 7200, 21600],
            max_attempts: 10,
        }
    }
}

/// How refunds are paid (M5). See `docs/payments.md`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct PaymentsConfig {
    /// `simulated` (every refund settles a working day later: demos and tests), `manual`
    /// (finance pays and marks each refund paid or failed), `http` (a signed request to the
    /// operator's payment service) or `alipay`. Empty: `simulated` with the manual clock (the
    /// demo), `manual` otherwise — a server never tells a buyer "refunded" unless told to.
    pub gateway: String,
    /// Requests one node has in flight to the payment service at once.
    pub concurrency: usize,
    /// How often a node looks for refunds to send, in milliseconds.
    pub poll_ms: u64,
    pub http: HttpGatewayConfig,
    pub alipay: AlipayConfig,
}

impl Default for PaymentsConfig {
    fn default() -> Self {
        PaymentsConfig {
            gateway: String::new(),
            concurrency: 8,
            poll_ms: 1_000,
            http: HttpGatewayConfig::default(),
            alipay: AlipayConfig::default(),
        }
    }
}

/// The operator's payment service (`payments.gateway = "http"`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct HttpGatewayConfig {
    /// Where refunds are sent (POST, JSON), unless the shop has its own in `shop_urls`.
    pub url: String,
    /// A shop's own payment service, by shop id (`[payments.http.shop_urls]` `"3" = "https://…"`).
    pub shop_urls: std::collections::BTreeMap<String, String>,
    /// The signing secret (`whsec_…`, Standard Webhooks), shared with the payment service.
    pub secret: String,
    /// How long one request may take, in seconds; longer is "no answer", sent again later.
    pub timeout_secs: u64,
}

impl Default for HttpGatewayConfig {
    fn default() -> Self {
        HttpGatewayConfig { url: String::new(), shop_urls: Default::default(), secret: String::new(), timeout_secs: 10 }
    }
}

/// Alipay's open platform (`payments.gateway = "alipay"`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AlipayConfig {
    /// The gateway (`https://openapi.alipay.com/gateway.do`).
    pub url: String,
    pub app_id: String,
    /// The application's RSA private key (PKCS#8 or PKCS#1, PEM or bare base64), or `@path`
    /// to read it from a file.
    pub private_key: String,
    /// Alipay's public key (SubjectPublicKeyInfo, PEM or bare base64, or `@path`), to check
    /// every answer's signature.
    pub alipay_public_key: String,
    /// How long one request may take, in seconds.
    pub timeout_secs: u64,
    /// After an answer that does not say how a refund ended, ask again this many seconds later.
    pub query_after_secs: u64,
}

impl Default for AlipayConfig {
    fn default() -> Self {
        AlipayConfig {
            url: "https://openapi.alipay.com/gateway.do".into(),
            app_id: String::new(),
            private_key: String::new(),
            alipay_public_key: String::new(),
            timeout_secs: 10,
            query_after_secs: 60,
        }
    }
}

impl PaymentsConfig {
    /// The gateway in force, and whether it was chosen explicitly.
    pub fn payout(&self, manual_clock: bool) -> Result<aftersale_core::Payout, String> {
        if self.gateway.is_empty() {
            return Ok(if manual_clock { aftersale_core::Payout::Simulated } else { aftersale_core::Payout::Manual });
        }
        aftersale_core::Payout::parse(&self.gateway).ok_or_else(|| {
            format!("payments.gateway must be simulated, manual, http or alipay, not {:?}", self.gateway)
        })
    }
}

/// Signed webhooks (Standard Webhooks 1.0), sent by the serving nodes.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct WebhooksConfig {
    /// Take `http://` endpoint URLs (tests, demos); otherwise only `https://`.
    pub allow_insecure: bool,
    /// Send to loopback, private, link-local and metadata addresses (tests, demos). Checked at
    /// every send, after DNS, not only when an endpoint is saved.
    pub allow_private_targets: bool,
    /// The key (32 bytes, base64) that seals the endpoints' signing secrets in the database.
    /// Empty: one is made and kept in the database itself (secrets are then only as safe as the
    /// database; set this in production, the same on every node).
    pub secret_key: String,
    /// Seconds to wait before each retry; a delivery that fails once more is failed.
    pub retry_schedule_secs: Vec<u64>,
    /// An endpoint failing this many hours without a success is disabled (its owner is told).
    pub disable_after_hours: u64,
    /// How long one attempt may take, in seconds.
    pub timeout_secs: u64,
    /// Deliveries one node sends at once, and to one endpoint at once.
    pub concurrency: usize,
    pub per_endpoint: usize,
    /// How often a node looks for new events and due retries, in milliseconds.
    pub poll_ms: u64,
}

impl Default for WebhooksConfig {
    fn default() -> Self {
        WebhooksConfig {
            allow_insecure: false,
            allow_private_targets: false,
            secret_key: String::new(),
            retry_schedule_secs: vec![5, 300, 1800, 7200, 18000, 36000, 36000],
            disable_after_hours: 120,
            timeout_secs: 10,
            concurrency: 32,
            per_endpoint: 16,
            poll_ms: 500,
        }
    }
}

impl WebhooksConfig {
    /// The rules the engine applies.
    pub fn rules(&self) -> aftersale_engine::webhooks::WebhookRules {
        aftersale_engine::webhooks::WebhookRules {
            allow_insecure: self.allow_insecure,
            retry_schedule_ms: self.retry_schedule_secs.iter().map(|s| (*s as i64).saturating_mul(1000)).collect(),
            disable_after_ms: (self.disable_after_hours as i64).saturating_mul(3_600_000),
        }
    }
}

/// The domain event stream as integrators read it (`GET /api/v1/events`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct EventsConfig {
    /// Days an event is kept; older ones are deleted (a cursor into them answers 410).
    pub retention_days: u32,
}

impl Default for EventsConfig {
    fn default() -> Self {
        EventsConfig { retention_days: 30 }
    }
}

/// Text messages (X2): which provider sends them, how often a message not sent is tried again,
/// and how fast. Every node dispatches the outbox; a message is claimed by one node at a time,
/// so it is sent once.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SmsConfig {
    /// `log`: each message is written to the service's log (the phone masked) and, when
    /// `log_file` is set, appended to that file as a JSON line; nothing leaves the machine.
    /// `aliyun`: Alibaba Cloud SMS (`SendSms`, a template per kind of message). `webhook`: a
    /// signed POST to any other gateway. `none`: messages stay in the outbox unsent.
    pub provider: String,
    /// For `log`: a file to append each message to as JSON (`id`, `case_id`, `phone`, `text`).
    pub log_file: String,
    /// How many messages one dispatch takes at most.
    pub batch: usize,
    /// At most this many messages a second from one node (0: no limit), so that a burst of
    /// deadlines does not trip the provider's own limit.
    pub rate_per_sec: u32,
    /// Seconds to wait after each failed attempt (the last repeated).
    pub retry_secs: Vec<u64>,
    /// Attempts after which a message not sent is given up as failed.
    pub max_attempts: u32,
    /// How often a node looks for messages to send, in milliseconds.
    pub poll_ms: u64,
    pub aliyun: AliyunSmsConfig,
    pub webhook: SmsWebhookConfig,
}

impl Default for SmsConfig {
    fn default() -> Self {
        SmsConfig {
            provider: "log".into(),
            log_file: String::new(),
            batch: 100,
            rate_per_sec: 50,
            retry_secs: vec![30, 120, 600, 3600, 21600],
            max_attempts: 10,
            poll_ms: 500,
            aliyun: AliyunSmsConfig::default(),
            webhook: SmsWebhookConfig::default(),
        }
    }
}

/// Alibaba Cloud SMS (`sms.provider = "aliyun"`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AliyunSmsConfig {
    pub endpoint: String,
    pub region: String,
    pub access_key_id: String,
    pub access_key_secret: String,
    /// The approved signature (签名), e.g. `售后服务`.
    pub sign_name: String,
    /// The approved template code per kind of message: `return_address`, `ship_back_reminder`.
    pub templates: std::collections::BTreeMap<String, String>,
    pub timeout_secs: u64,
}

impl Default for AliyunSmsConfig {
    fn default() -> Self {
        AliyunSmsConfig {
            endpoint: "https://dysmsapi.aliyuncs.com/".into(),
            region: "cn-hangzhou".into(),
            access_key_id: String::new(),
            access_key_secret: String::new(),
            sign_name: String::new(),
            templates: Default::default(),
            timeout_secs: 10,
        }
    }
}

/// Any other SMS gateway, by a signed POST (`sms.provider = "webhook"`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SmsWebhookConfig {
    pub url: String,
    /// `whsec_…`: each request is signed as Standard Webhooks are.
    pub secret: String,
    pub timeout_secs: u64,
}

impl Default for SmsWebhookConfig {
    fn default() -> Self {
        SmsWebhookConfig { url: String::new(), secret: String::new(), timeout_secs: 10 }
    }
}

impl SmsConfig {
    /// The retry rule the engine applies.
    pub fn retry(&self) -> aftersale_engine::sms::SmsRetry {
        aftersale_engine::sms::SmsRetry {
            waits_ms: self.retry_secs.iter().map(|s| (*s as i64) * 1000).collect(),
            max_attempts: self.max_attempts.max(1),
        }
    }
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
    /// How long this node holds the due deadlines it claimed, in seconds: when a node dies,
    /// the others take its claimed rows over after this long.
    pub runner_lease_secs: u64,
    /// How long a login session lives, in hours.
    pub session_hours: i64,
    /// Send the session cookie with `Secure` (turn off only for plain-HTTP local use).
    pub secure_cookies: bool,
    /// Threads that run engine calls (each waits for its group commit): the most commands in
    /// flight at once.
    pub blocking_threads: usize,
    /// A request still running after this many seconds is answered 408 and dropped.
    pub request_timeout_secs: u64,
    /// The most items one batch of case actions takes (`POST /api/v1/cases/batch`).
    pub batch_max: usize,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// Which database: `sqlite://FILE` or `postgres://USER@HOST:PORT/DB`. Empty: the SQLite
    /// file at `path`.
    pub url: String,
    /// SQLite database file (when `url` is empty).
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
            runner_lease_secs: 30,
            session_hours: 12,
            secure_cookies: false,
            blocking_threads: 128,
            request_timeout_secs: 30,
            batch_max: 100,
        }
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            url: String::new(),
            path: "data/aftersale.db".into(),
            cache_mib: 16,
            max_batch: 256,
            max_readers: 8,
        }
    }
}

impl DatabaseConfig {
    /// The database this node uses.
    pub fn parsed_url(&self) -> Result<aftersale_engine::store::url::DatabaseUrl, String> {
        use aftersale_engine::store::url::DatabaseUrl;
        if self.url.is_empty() {
            return Ok(DatabaseUrl::Sqlite(self.path.clone()));
        }
        DatabaseUrl::parse(&self.url)
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
    /// Defaults, overlaid with the TOML file (if any), then the environment (`AFTERSALE_…`),
    /// layered by figment. An environment value is read as the type of the setting it names
    /// (`AFTERSALE_SERVER__MANUAL_CLOCK=true` is a boolean, `AFTERSALE_SERVER__BIND=8080` text);
    /// an unknown setting, in the file or the environment, is an error naming it.
    pub fn load(file: Option<&std::path::Path>, env: impl Iterator<Item = (String, String)>) -> Result<Config, String> {
        use figment::providers::{Format, Serialized, Toml};
        let defaults = toml::Value::try_from(Config::default()).map_err(|e| e.to_string())?;
        let mut layers = figment::Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            if !path.is_file() {
                return Err(format!("reading {}: no such file", path.display()));
            }
            layers = layers.merge(Toml::file_exact(path));
        }
        for (key, raw) in env {
            let Some(rest) = key.strip_prefix("AFTERSALE_") else { continue };
            let path: Vec<String> = rest.split("__").map(|s| s.to_ascii_lowercase()).collect();
            // Only `AFTERSALE_<SECTION>__…` configure the server (AFTERSALE_URL and the like are
            // for the command-line client); a typo inside a section is an error.
            if path.len() < 2 || defaults.get(&path[0]).is_none() {
                continue;
            }
            let value = typed(&defaults, &path, &raw).map_err(|e| format!("{key}: {e}"))?;
            layers = layers.merge(Serialized::default(&path.join("."), value));
        }
        let config: Config = layers.extract().map_err(|e| e.to_string())?;
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> Result<(), String> {
        self.database.parsed_url().map_err(|e| format!("database.url: {e}"))?;
        if !["local", "s3"].contains(&self.evidence.store.as_str()) {
            return Err(format!("evidence.store must be local or s3, not {:?}", self.evidence.store));
        }
        if !["text", "json"].contains(&self.log.format.as_str()) {
            return Err(format!("log.format must be text or json, not {:?}", self.log.format));
        }
        if self.log.level.parse::<tracing::Level>().is_err() {
            return Err(format!("log.level {:?} is not a level", self.log.level));
        }
        match self.sms.provider.as_str() {
            "log" | "none" => {}
            "aliyun" => {
                let a = &self.sms.aliyun;
                if a.access_key_id.is_empty() || a.access_key_secret.is_empty() || a.sign_name.is_empty() {
                    return Err("sms.aliyun.access_key_id, access_key_secret and sign_name are required with sms.provider = aliyun".into());
                }
                for kind in aftersale_core::notice::SMS_KINDS {
                    if !a.templates.contains_key(kind) {
                        return Err(format!("sms.aliyun.templates.{kind} (the template code) is required"));
                    }
                }
            }
            "webhook" => {
                if self.sms.webhook.url.is_empty() || !self.sms.webhook.secret.starts_with("whsec_") {
                    return Err(
                        "sms.webhook.url and a whsec_… sms.webhook.secret are required with sms.provider = webhook"
                            .into(),
                    );
                }
            }
            other => return Err(format!("sms.provider must be log, aliyun, webhook or none, not {other:?}")),
        }
        let payout = self.payments.payout(self.server.manual_clock)?;
        if payout == aftersale_core::Payout::Http {
            if self.payments.http.url.is_empty() && self.payments.http.shop_urls.is_empty() {
                return Err(
                    "payments.http.url (or payments.http.shop_urls) is required with payments.gateway = http".into()
                );
            }
            if !self.payments.http.secret.starts_with("whsec_") {
                return Err("payments.http.secret must be a whsec_… secret with payments.gateway = http".into());
            }
            for shop in self.payments.http.shop_urls.keys() {
                if shop.parse::<i64>().map_or(true, |s| s < 1) {
                    return Err(format!("payments.http.shop_urls: {shop:?} is not a shop id"));
                }
            }
        }
        if payout == aftersale_core::Payout::Alipay {
            let a = &self.payments.alipay;
            if a.app_id.is_empty() || a.private_key.is_empty() || a.alipay_public_key.is_empty() {
                return Err("payments.alipay.app_id, private_key and alipay_public_key are required with payments.gateway = alipay".into());
            }
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

/// `raw` as the type of the default value at `path` (so a boolean setting takes `true`, a number
/// a number); a setting with no default is unknown.
fn typed(defaults: &toml::Value, path: &[String], raw: &str) -> Result<figment::value::Value, String> {
    let mut cur = defaults;
    for part in path {
        cur = cur.get(part).ok_or_else(|| format!("unknown setting {part}"))?;
    }
    Ok(match cur {
        toml::Value::Boolean(_) => raw.parse::<bool>().map_err(|_| "expected true or false")?.into(),
        toml::Value::Integer(_) => raw.parse::<i64>().map_err(|_| "expected an integer")?.into(),
        toml::Value::Table(_) => return Err("names a section, not a setting".into()),
        _ => raw.to_string().into(),
    })
}
