//! Alipay's open platform as a refund gateway: `alipay.trade.refund` to pay a refund back,
//! `alipay.trade.fastpay.refund.query` to learn how one ended when Alipay's answer did not say.
//! Every request is signed RSA2 (SHA256withRSA over the sorted `key=value` pairs, the `sign`
//! left out) with the application's private key; every answer's signature is checked with
//! Alipay's public key before it is believed. `out_request_no` is the refund's id, so a request
//! sent again is the same refund to Alipay, never a second one.

use crate::config::AlipayConfig;
use aftersale_engine::refunds::GatewayAnswer;
use aftersale_engine::store::{LedgerStatus, RefundRow};
use base64::Engine as _;
use ring::signature::{self, RsaKeyPair};
use std::collections::BTreeMap;
use std::time::Duration;

pub struct Alipay {
    client: reqwest::Client,
    url: String,
    app_id: String,
    key: RsaKeyPair,
    /// Alipay's public key, as ring reads it (PKCS#1 `RSAPublicKey`).
    alipay_key: Vec<u8>,
    pub(crate) timeout: Duration,
    query_after: Duration,
}

/// `@path` read from a file, else the text itself; PEM armour and white space dropped; base64
/// decoded.
fn key_bytes(setting: &str, what: &str) -> Result<Vec<u8>, String> {
    let text = match setting.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path).map_err(|e| format!("{what} {path}: {e}"))?,
        None => setting.to_string(),
    };
    let body: String = text.lines().filter(|l| !l.starts_with("-----")).flat_map(|l| l.split_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(body).map_err(|e| format!("{what} is not base64: {e}"))
}

/// One DER element at the start of `der`: its tag, its contents and what follows it.
fn der(der: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = der.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (first as usize, rest)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        (rest[..n].iter().fold(0usize, |acc, b| (acc << 8) | *b as usize), &rest[n..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

/// The `RSAPublicKey` inside a `SubjectPublicKeyInfo` (what Alipay hands out); a bare
/// `RSAPublicKey` is taken as it is.
fn rsa_public_key(spki: &[u8]) -> Option<Vec<u8>> {
    let (tag, outer, _) = der(spki)?;
    if tag != 0x30 {
        return None;
    }
    let (first, _, after) = der(outer)?;
    if first == 0x02 {
        return Some(spki.to_vec()); // already PKCS#1: SEQUENCE { INTEGER n, INTEGER e }
    }
    let (bits_tag, bits, _) = der(after)?;
    (bits_tag == 0x03 && bits.first() == Some(&0)).then(|| bits[1..].to_vec())
}

/// The text of the value of `"name":` in `json`, byte for byte as sent (what Alipay signs).
fn raw_member<'a>(json: &'a str, name: &str) -> Option<&'a str> {
    let start = json.find(&format!("\"{name}\""))? + name.len() + 2;
    let rest = json[start..].trim_start().strip_prefix(':')?.trim_start();
    let offset = json.len() - rest.len();
    let (mut depth, mut in_string, mut escaped) = (0i32, false, false);
    for (i, ch) in rest.char_indices() {
        if in_string {
            match (escaped, ch) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match ch {
            '"' => in_string = true,
            '{' | '[' => depth += 1,
            '}' | ']' => {
                depth -= 1;
                if depth == 0 {
                    return Some(&json[offset..offset + i + 1]);
                }
            }
            _ => {}
        }
    }
    None
}

/// The string Alipay signs for a request: every non-empty parameter but `sign`, sorted by
/// name, as `name=value` joined with `&` (values as they are, not URL-encoded).
pub fn signing_string(params: &BTreeMap<String, String>) -> String {
    params
        .iter()
        .filter(|(k, v)| k.as_str() != "sign" && !v.is_empty())
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

impl Alipay {
    pub fn new(c: &AlipayConfig) -> Result<Alipay, String> {
        let private = key_bytes(&c.private_key, "payments.alipay.private_key")?;
        let key = RsaKeyPair::from_pkcs8(&private)
            .or_else(|_| RsaKeyPair::from_der(&private))
            .map_err(|e| format!("payments.alipay.private_key is not an RSA private key: {e}"))?;
        let public = key_bytes(&c.alipay_public_key, "payments.alipay.alipay_public_key")?;
        let alipay_key = rsa_public_key(&public)
            .ok_or("payments.alipay.alipay_public_key is not an RSA public key (SubjectPublicKeyInfo)")?;
        let timeout = Duration::from_secs(c.timeout_secs.max(1));
        let client = super::service_client(c.timeout_secs, "Alipay")?;
        Ok(Alipay {
            client,
            url: c.url.clone(),
            app_id: c.app_id.clone(),
            key,
            alipay_key,
            timeout,
            query_after: Duration::from_secs(c.query_after_secs.max(1)),
        })
    }

    fn sign(&self, text: &str) -> Option<String> {
        let rng = ring::rand::SystemRandom::new();
        let mut sig = vec![0; self.key.public().modulus_len()];
        self.key.sign(&signature::RSA_PKCS1_SHA256, &rng, text.as_bytes(), &mut sig).ok()?;
        Some(base64::engine::general_purpose::STANDARD.encode(sig))
    }

    /// A signed request's form parameters.
    fn request(&self, method: &str, biz: serde_json::Value) -> Option<BTreeMap<String, String>> {
        // Beijing time, as Alipay reads `timestamp`.
        let beijing = aftersale_core::Timestamp(aftersale_engine::runner::wall_ms() + 8 * 3_600_000).to_string();
        let mut params: BTreeMap<String, String> = [
            ("app_id", self.app_id.clone()),
            ("method", method.to_string()),
            ("format", "JSON".into()),
            ("charset", "utf-8".into()),
            ("sign_type", "RSA2".into()),
            ("timestamp", beijing.replace('T', " ").chars().take(19).collect()),
            ("version", "1.0".into()),
            ("biz_content", biz.to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let sign = self.sign(&signing_string(&params))?;
        params.insert("sign".into(), sign);
        Some(params)
    }

    /// Sends a request; answers the response object, its signature checked.
    async fn call(&self, method: &str, biz: serde_json::Value) -> Result<serde_json::Value, String> {
        let params = self.request(method, biz).ok_or("signing the request failed")?;
        let sent = self.client.post(&self.url).form(&params).send().await;
        let res = match sent {
            Ok(r) => r,
            Err(e) if e.is_timeout() => return Err(format!("no answer within {} s", self.timeout.as_secs())),
            Err(e) => return Err(format!("no connection: {e}")),
        };
        let status = res.status();
        let text = res.text().await.map_err(|e| format!("the answer broke off: {e}"))?;
        if !status.is_success() {
            return Err(format!("HTTP {}", status.as_u16()));
        }
        let member = format!("{}_response", method.replace('.', "_"));
        let raw = raw_member(&text, &member).ok_or_else(|| format!("no {member} in the answer"))?;
        let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| format!("not JSON: {e}"))?;
        let sign = value["sign"].as_str().ok_or("the answer is not signed")?;
        let sig =
            base64::engine::general_purpose::STANDARD.decode(sign).map_err(|_| "a signature that is not base64")?;
        signature::UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, &self.alipay_key)
            .verify(raw.as_bytes(), &sig)
            .map_err(|_| "the answer's signature does not verify with payments.alipay.alipay_public_key")?;
        Ok(value[&member].clone())
    }

    pub(crate) async fn send(&self, row: &RefundRow) -> GatewayAnswer {
        let amount = format!("{}.{:02}", row.amount.minor() / 100, row.amount.minor() % 100);
        let ask_after = aftersale_core::time::Dur(self.query_after.as_millis() as i64);
        if row.status == LedgerStatus::Pending {
            let biz = serde_json::json!({ "out_trade_no": row.order_no, "out_request_no": row.key() });
            return match self.call("alipay.trade.fastpay.refund.query", biz).await {
                Err(error) => GatewayAnswer::Unreachable { error },
                Ok(r) if r["code"] == "10000" && r["refund_status"] == "REFUND_SUCCESS" => {
                    GatewayAnswer::Succeeded { reference: r["trade_no"].as_str().map(str::to_string) }
                }
                // Alipay has no finished refund under this key: the request never took; send it
                // again (the same key: at most one refund).
                Ok(r) if r["code"] == "10000" => GatewayAnswer::Resend,
                Ok(_) => GatewayAnswer::Pending { reference: None, ask_after: Some(ask_after) },
            };
        }
        let biz = serde_json::json!({
            "out_trade_no": row.order_no,
            "refund_amount": amount,
            "out_request_no": row.key(),
            "refund_reason": format!("售后退款 case {}", row.case.0),
        });
        match self.call("alipay.trade.refund", biz).await {
            Err(error) => GatewayAnswer::Unreachable { error },
            Ok(r) => read_refund(&r, ask_after),
        }
    }
}

/// What `alipay.trade.refund`'s answer means (its signature already checked).
fn read_refund(r: &serde_json::Value, ask_after: aftersale_core::time::Dur) -> GatewayAnswer {
    let code = r["code"].as_str().unwrap_or("");
    let sub = r["sub_code"].as_str().unwrap_or("");
    let says = || format!("{sub}: {}", r["sub_msg"].as_str().unwrap_or(r["msg"].as_str().unwrap_or("")));
    match (code, sub) {
        ("10000", _) => GatewayAnswer::Succeeded { reference: r["trade_no"].as_str().map(str::to_string) },
        // Alipay could not say how it ended: ask it later.
        ("20000", _) | ("40004", "ACQ.SYSTEM_ERROR") => {
            GatewayAnswer::Pending { reference: None, ask_after: Some(ask_after) }
        }
        // Our request was wrong (keys, parameters): not the buyer's refund failing; sent again
        // after the backoff, the reason in the ledger for the operator.
        ("40001" | "40002" | "40006", _) => GatewayAnswer::Unreachable { error: says() },
        ("40004", _) => GatewayAnswer::Failed { reason: says() },
        _ => GatewayAnswer::Unreachable { error: format!("unknown answer code {code:?}") },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signed_member_is_cut_byte_for_byte() {
        let json = r#"{"alipay_trade_refund_response":{"code":"10000","msg":"Success","x":"a}\"b"},"sign":"S"}"#;
        assert_eq!(
            raw_member(json, "alipay_trade_refund_response"),
            Some(r#"{"code":"10000","msg":"Success","x":"a}\"b"}"#)
        );
        assert_eq!(raw_member(json, "missing"), None);
    }

    #[test]
    fn the_signing_string_sorts_and_leaves_out_sign_and_empty_values() {
        let params: BTreeMap<String, String> =
            [("method", "m"), ("app_id", "1"), ("sign", "x"), ("empty", ""), ("biz_content", "{\"a\":1}")]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
        assert_eq!(signing_string(&params), "app_id=1&biz_content={\"a\":1}&method=m");
    }

    #[test]
    fn answer_codes_read_as_alipay_documents_them() {
        let at = aftersale_core::time::Dur(5);
        let read = |v: serde_json::Value| read_refund(&v, at);
        assert!(
            matches!(read(serde_json::json!({"code":"10000","trade_no":"T1"})), GatewayAnswer::Succeeded { reference: Some(r) } if r == "T1")
        );
        assert_eq!(
            read(serde_json::json!({"code":"20000"})),
            GatewayAnswer::Pending { reference: None, ask_after: Some(at) }
        );
        assert_eq!(
            read(serde_json::json!({"code":"40004","sub_code":"ACQ.SYSTEM_ERROR"})),
            GatewayAnswer::Pending { reference: None, ask_after: Some(at) }
        );
        assert!(
            matches!(read(serde_json::json!({"code":"40004","sub_code":"ACQ.TRADE_HAS_CLOSE","sub_msg":"交易已关闭"})), GatewayAnswer::Failed { reason } if reason.contains("ACQ.TRADE_HAS_CLOSE"))
        );
        assert!(matches!(
            read(serde_json::json!({"code":"40002","sub_code":"isv.invalid-signature"})),
            GatewayAnswer::Unreachable { .. }
        ));
        assert!(matches!(read(serde_json::json!({"code":"x"})), GatewayAnswer::Unreachable { .. }));
    }
}
