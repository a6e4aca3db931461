//! Text messages that leave (X2): the node's dispatcher claims due messages from the outbox (one
//! node sends each), paces them to `sms.rate_per_sec`, sends them through the configured provider
//! — `log`, Alibaba Cloud's `SendSms`, or a signed POST to any other gateway — and hands each
//! outcome to the engine (`Engine::record_sms`), which keeps the provider's id, retries what was
//! not sent after a backoff, and stops for good on a permanent refusal.

use super::secrets;
use crate::config::{AliyunSmsConfig, SmsConfig, SmsWebhookConfig};
use crate::state::AppState;
use aftersale_engine::sms::{LogSender, SmsOutcome, SmsSender};
use aftersale_engine::StoredSms;
use base64::Engine as _;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Where a node's text messages go.
pub enum Provider {
    Log(LogSender),
    Aliyun(Aliyun),
    Webhook(Webhook),
}

impl Provider {
    /// The configured provider; None for `none` (messages stay in the outbox).
    pub fn new(c: &SmsConfig) -> Result<Option<Arc<Provider>>, String> {
        Ok(Some(Arc::new(match c.provider.as_str() {
            "none" => return Ok(None),
            "aliyun" => Provider::Aliyun(Aliyun::new(&c.aliyun)?),
            "webhook" => Provider::Webhook(Webhook::new(&c.webhook)?),
            _ => {
                let file = (!c.log_file.is_empty()).then(|| std::path::Path::new(&c.log_file));
                Provider::Log(LogSender::new(file).map_err(|e| format!("sms.log_file {}: {e}", c.log_file))?)
            }
        })))
    }

    /// How long a node holds the messages it claimed: longer than a send may take.
    fn lease_ms(&self) -> i64 {
        let secs = match self {
            Provider::Log(_) => 0,
            Provider::Aliyun(a) => a.c.timeout_secs.max(1),
            Provider::Webhook(w) => w.timeout_secs.max(1),
        };
        (secs as i64 + 5) * 1000
    }

    pub async fn send(&self, sms: &StoredSms) -> SmsOutcome {
        match self {
            Provider::Log(l) => l.send(sms),
            Provider::Aliyun(a) => a.send(sms).await,
            Provider::Webhook(w) => w.send(sms).await,
        }
    }
}

/// RFC 3986 percent-encoding as Alibaba Cloud signs it: only `A-Z a-z 0-9 - _ . ~` kept.
pub fn percent(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The signature of an RPC request (signature version 1.0): HMAC-SHA1, keyed with the secret
/// and `&`, over `GET&%2F&` and the sorted, encoded query.
pub fn aliyun_signature(secret: &str, params: &BTreeMap<String, String>) -> String {
    let canonical: Vec<String> = params.iter().map(|(k, v)| format!("{}={}", percent(k), percent(v))).collect();
    let to_sign = format!("GET&{}&{}", percent("/"), percent(&canonical.join("&")));
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, format!("{secret}&").as_bytes());
    base64::engine::general_purpose::STANDARD.encode(ring::hmac::sign(&key, to_sign.as_bytes()).as_ref())
}

/// Answers that mean the message itself cannot be sent: never tried again.
const ALIYUN_PERMANENT: [&str; 8] = [
    "isv.MOBILE_NUMBER_ILLEGAL",
    "isv.MOBILE_COUNT_OVER_LIMIT",
    "isv.BLACK_KEY_CONTROL_LIMIT",
    "isv.TEMPLATE_MISSING_PARAMETERS",
    "isv.SMS_TEMPLATE_ILLEGAL",
    "isv.SMS_SIGNATURE_ILLEGAL",
    "isv.INVALID_PARAMETERS",
    "isv.PARAM_LENGTH_LIMIT",
];

/// Alibaba Cloud SMS.
pub struct Aliyun {
    client: reqwest::Client,
    c: AliyunSmsConfig,
}

impl Aliyun {
    fn new(c: &AliyunSmsConfig) -> Result<Aliyun, String> {
        Ok(Aliyun { client: super::service_client(c.timeout_secs, "Alibaba Cloud SMS")?, c: c.clone() })
    }

    async fn send(&self, sms: &StoredSms) -> SmsOutcome {
        let Some(template) = self.c.templates.get(&sms.kind) else {
            return SmsOutcome::Refused(format!("no sms.aliyun.templates.{} for this kind of message", sms.kind));
        };
        let nonce: [u8; 16] = match ring::rand::generate(&ring::rand::SystemRandom::new()) {
            Ok(n) => n.expose(),
            Err(_) => return SmsOutcome::Retry("no randomness for the nonce".into()),
        };
        let now = aftersale_core::Timestamp(aftersale_engine::runner::wall_ms()).to_string();
        let params: BTreeMap<String, String> = [
            ("AccessKeyId", self.c.access_key_id.clone()),
            ("Action", "SendSms".into()),
            ("Format", "JSON".into()),
            ("OutId", format!("sms_{}", sms.id)),
            ("PhoneNumbers", sms.phone.clone()),
            ("RegionId", self.c.region.clone()),
            ("SignName", self.c.sign_name.clone()),
            ("SignatureMethod", "HMAC-SHA1".into()),
            ("SignatureNonce", nonce.iter().map(|b| format!("{b:02x}")).collect()),
            ("SignatureVersion", "1.0".into()),
            ("TemplateCode", template.clone()),
            ("TemplateParam", sms.params.clone()),
            ("Timestamp", format!("{}Z", &now[..19])),
            ("Version", "2017-05-25".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let signature = aliyun_signature(&self.c.access_key_secret, &params);
        let query: Vec<String> = std::iter::once(format!("Signature={}", percent(&signature)))
            .chain(params.iter().map(|(k, v)| format!("{}={}", percent(k), percent(v))))
            .collect();
        let url = format!("{}?{}", self.c.endpoint, query.join("&"));
        let res = match self.client.get(url).send().await {
            Ok(r) => r,
            Err(e) if e.is_timeout() => return SmsOutcome::Retry("no answer in time".into()),
            Err(e) => return SmsOutcome::Retry(format!("no connection: {e}")),
        };
        let status = res.status();
        let text = res.text().await.unwrap_or_default();
        let body: serde_json::Value = match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(_) => return SmsOutcome::Retry(format!("HTTP {}: not a JSON answer", status.as_u16())),
        };
        let code = body["Code"].as_str().unwrap_or("");
        let message = body["Message"].as_str().unwrap_or("");
        match code {
            "OK" => SmsOutcome::Sent { provider_id: body["BizId"].as_str().map(str::to_string) },
            c if ALIYUN_PERMANENT.contains(&c) => SmsOutcome::Refused(format!("{c}: {message}")),
            // Throttled (isv.BUSINESS_LIMIT_CONTROL), the provider's own trouble (isp.*), or an
            // answer not known: tried again after the backoff.
            c => SmsOutcome::Retry(format!("{c}: {message}")),
        }
    }
}

/// Any other gateway: a JSON POST signed as Standard Webhooks are, `webhook-id` = `sms_<id>`.
/// A 2xx is sent (its `{"id"}` kept as the provider's id); a 4xx other than 408 and 429 is a
/// refusal for good; anything else is tried again.
pub struct Webhook {
    client: reqwest::Client,
    url: String,
    secret: String,
    timeout_secs: u64,
}

impl Webhook {
    fn new(c: &SmsWebhookConfig) -> Result<Webhook, String> {
        Ok(Webhook {
            client: super::service_client(c.timeout_secs, "SMS webhook")?,
            url: c.url.clone(),
            secret: c.secret.clone(),
            timeout_secs: c.timeout_secs,
        })
    }

    async fn send(&self, sms: &StoredSms) -> SmsOutcome {
        let id = format!("sms_{}", sms.id);
        let body = serde_json::json!({
            "id": id,
            "phone": sms.phone,
            "text": sms.text,
            "kind": sms.kind,
            "params": serde_json::from_str::<serde_json::Value>(&sms.params).unwrap_or_default(),
        })
        .to_string();
        let timestamp = aftersale_engine::runner::wall_ms() / 1000;
        let Some(signature) = secrets::sign(&self.secret, &id, timestamp, body.as_bytes()) else {
            return SmsOutcome::Retry("sms.webhook.secret is not a whsec_ secret".into());
        };
        let sent = self
            .client
            .post(&self.url)
            .header("content-type", "application/json")
            .header("webhook-id", &id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await;
        let res = match sent {
            Ok(r) => r,
            Err(e) if e.is_timeout() => return SmsOutcome::Retry("no answer in time".into()),
            Err(e) => return SmsOutcome::Retry(format!("no connection: {e}")),
        };
        let status = res.status().as_u16();
        let text = res.text().await.unwrap_or_default();
        let head: String = text.chars().take(200).collect();
        match status {
            200..=299 => SmsOutcome::Sent {
                provider_id: serde_json::from_str::<serde_json::Value>(&text)
                    .ok()
                    .and_then(|v| v["id"].as_str().map(str::to_string)),
            },
            408 | 429 => SmsOutcome::Retry(format!("HTTP {status}: {head}")),
            400..=499 => SmsOutcome::Refused(format!("HTTP {status}: {head}")),
            _ => SmsOutcome::Retry(format!("HTTP {status}: {head}")),
        }
    }
}

/// Runs the SMS dispatcher on this node until the task is aborted.
pub fn spawn(state: AppState, provider: Arc<Provider>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let config = state.config.sms.clone();
        let retry = config.retry();
        let poll = Duration::from_millis(config.poll_ms.max(10));
        // The pace: one message each `gap` at most.
        let gap = (config.rate_per_sec > 0).then(|| Duration::from_secs_f64(1.0 / f64::from(config.rate_per_sec)));
        let mut next_slot = Instant::now();
        loop {
            // The lease covers the pass: the pacing of the whole batch, then a send's time limit.
            let batch = config.batch.max(1);
            let pacing_ms = gap.map_or(0, |g| (g.as_millis() as i64) * batch as i64);
            let lease_ms = provider.lease_ms() + pacing_ms;
            let claimed = match state.run(move |e| e.claim_sms(batch, lease_ms)).await {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = ?e.0.detail, "claiming text messages failed");
                    Vec::new()
                }
            };
            if claimed.is_empty() {
                tokio::time::sleep(poll).await;
                continue;
            }
            let mut sends = tokio::task::JoinSet::new();
            for sms in claimed {
                if let Some(gap) = gap {
                    let now = Instant::now();
                    if next_slot > now {
                        tokio::time::sleep_until(next_slot.into()).await;
                    }
                    next_slot = next_slot.max(now) + gap;
                }
                let provider = provider.clone();
                sends.spawn(async move {
                    let outcome = provider.send(&sms).await;
                    (sms, outcome)
                });
            }
            let mut done = Vec::new();
            while let Some(r) = sends.join_next().await {
                if let Ok(pair) = r {
                    done.push(pair);
                }
            }
            let retry = retry.clone();
            match state.run(move |e| e.record_sms(done, &retry)).await {
                Ok(d) => {
                    state.metrics.sms_sent.inc_by(d.sent);
                    state.metrics.sms_failed.inc_by(d.failed + d.refused);
                    if d.failed + d.refused > 0 {
                        tracing::warn!(failed = d.failed, refused = d.refused, "SMS not sent; see the outbox");
                    }
                }
                // Not recorded: the claims end and the messages are sent again (at least once).
                Err(e) => tracing::warn!(error = ?e.0.detail, "recording sent text messages failed"),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Alibaba Cloud's documented example (RPC signature, version 1.0): the same parameters
    /// and secret give the published signature.
    #[test]
    fn the_signature_matches_alibaba_clouds_documented_example() {
        let params: BTreeMap<String, String> = [
            ("AccessKeyId", "testId"),
            ("Action", "SendSms"),
            ("Format", "XML"),
            ("OutId", "123"),
            ("PhoneNumbers", "15300000001"),
            ("RegionId", "cn-hangzhou"),
            ("SignName", "阿里云短信测试专用"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", "45e25e9b-0a6f-4070-8c85-2956eda1b466"),
            ("SignatureVersion", "1.0"),
            ("TemplateCode", "SMS_71390007"),
            ("TemplateParam", "{\"customer\":\"test\"}"),
            ("Timestamp", "2017-07-12T02:42:19Z"),
            ("Version", "2017-05-25"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(aliyun_signature("testSecret", &params), "zJDF+Lrzhj/ThnlvIToysFRq6t4=");
        assert_eq!(percent("a b*~/中"), "a%20b%2A~%2F%E4%B8%AD");
    }
}
