//! Email to buyers (X1): the node's sender turns new events into emails (`Engine::fan_out_emails`),
//! claims due ones under leases, writes each from its template — Chinese or English, plain text
//! and HTML, with the shop's name — and sends it over SMTP (STARTTLS by default) with `lettre`;
//! how each send ended goes back to the engine (`Engine::record_emails`): sent with the server's
//! answer as its id, tried again after a backoff (a 4xx, no connection), refused for good on a
//! 5xx (an unknown mailbox) with the reason.

use crate::config::EmailConfig;
use crate::state::AppState;
use aftersale_engine::sms::SmsOutcome;
use aftersale_engine::store::EmailRow;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use maud::html;
use serde_json::Value;
use std::time::Duration;

/// The SMTP server a node sends through.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    /// None when no SMTP server is configured (emails are not made).
    pub fn new(c: &EmailConfig) -> Result<Option<Mailer>, String> {
        if c.smtp_host.is_empty() {
            return Ok(None);
        }
        let from: Mailbox = c.from.parse().map_err(|e| format!("email.from {:?}: {e}", c.from))?;
        let mut tls = TlsParameters::builder(c.smtp_host.clone());
        if !c.ca_file.is_empty() {
            let pem = std::fs::read(&c.ca_file).map_err(|e| format!("email.ca_file {}: {e}", c.ca_file))?;
            let cert = Certificate::from_pem(&pem).map_err(|e| format!("email.ca_file {}: {e}", c.ca_file))?;
            tls = tls.add_root_certificate(cert);
        }
        let tls = tls.build().map_err(|e| format!("email TLS: {e}"))?;
        let tls = match c.tls.as_str() {
            "starttls" => Tls::Required(tls),
            "tls" => Tls::Wrapper(tls),
            "none" => Tls::None,
            other => return Err(format!("email.tls must be starttls, tls or none, not {other:?}")),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&c.smtp_host)
            .port(c.smtp_port)
            .tls(tls)
            .timeout(Some(Duration::from_secs(c.timeout_secs.max(1))));
        if !c.username.is_empty() {
            builder = builder.credentials(Credentials::new(c.username.clone(), c.password.clone()));
        }
        Ok(Some(Mailer { transport: builder.build(), from }))
    }

    pub async fn send(&self, e: &EmailRow) -> SmsOutcome {
        let Some((subject, text, html)) = render(e) else {
            return SmsOutcome::Refused(format!("no template for {}", e.kind));
        };
        let to: Mailbox = match e.to.parse() {
            Ok(m) => m,
            Err(err) => return SmsOutcome::Refused(format!("the address {:?} is not one: {err}", e.to)),
        };
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .message_id(Some(format!("<email-{}@aftersale>", e.id)))
            .multipart(MultiPart::alternative_plain_html(text, html));
        let message = match message {
            Ok(m) => m,
            Err(err) => return SmsOutcome::Refused(format!("the message cannot be made: {err}")),
        };
        match self.transport.send(message).await {
            Ok(answer) => SmsOutcome::Sent {
                provider_id: Some(answer.message().collect::<Vec<_>>().join(" ")).filter(|s| !s.is_empty()),
            },
            Err(err) if err.is_permanent() => SmsOutcome::Refused(err.to_string()),
            Err(err) => SmsOutcome::Retry(err.to_string()),
        }
    }
}

fn money(v: &Value) -> String {
    let minor = v["minor"].as_i64().unwrap_or(0);
    let currency = v["currency"].as_str().unwrap_or("");
    if currency == "CNY" {
        format!("¥{}.{:02}", minor / 100, minor % 100)
    } else {
        format!("{}.{:02} {currency}", minor / 100, minor % 100)
    }
}

/// The email of one event in its buyer's language: (subject, plain text, HTML).
pub fn render(e: &EmailRow) -> Option<(String, String, String)> {
    let vars: Value = serde_json::from_str(&e.vars).ok()?;
    let (no, order, shop) = (vars["no"].as_str()?, vars["order_no"].as_str()?, vars["shop"].as_str()?);
    let ev = &vars["event"];
    let zh = e.lang != "en";
    let (subject, lines): (String, Vec<String>) = match e.kind.as_str() {
        "case.opened" if zh => (
            format!("【{shop}】售后申请 {no} 已提交"),
            vec![
                format!("您在「{shop}」的订单 {order} 的售后申请 {no} 已提交。"),
                "商家会在规定时间内处理；超时未处理的，平台按规则自动处理。".into(),
            ],
        ),
        "case.opened" => (
            format!("[{shop}] After-sales request {no} received"),
            vec![
                format!("Your after-sales request {no} for order {order} at {shop} was received."),
                "The shop answers within the platform's time limit; if it does not, the platform acts on its own."
                    .into(),
            ],
        ),
        "case.return_agreed" => {
            let a = &ev["address"];
            let place = format!(
                "{} {} {} {}",
                a["region"].as_str().unwrap_or(""),
                a["detail"].as_str().unwrap_or(""),
                a["name"].as_str().unwrap_or(""),
                a["phone"].as_str().unwrap_or("")
            );
            if zh {
                (
                    format!("【{shop}】退货申请 {no} 已同意"),
                    vec![format!("请将商品寄回：{place}"), "寄出后请在售后单中填写退货物流单号。".into()],
                )
            } else {
                (
                    format!("[{shop}] Return {no} agreed"),
                    vec![
                        format!("Please send the goods back to: {place}"),
                        "Then enter the parcel's tracking number on the case.".into(),
                    ],
                )
            }
        }
        "arbitration.ruled" => {
            let buyer = ev["for_party"].as_str() == Some("buyer");
            let reason = ev["reason"].as_str().unwrap_or("");
            match (zh, buyer) {
                (true, true) => {
                    (format!("【{shop}】售后单 {no} 平台判定：支持您的申请"), vec![format!("平台的理由：{reason}")])
                }
                (true, false) => (
                    format!("【{shop}】售后单 {no} 平台判定：支持商家"),
                    vec![format!("平台的理由：{reason}"), "如有异议，可在规定时间内申诉。".into()],
                ),
                (false, true) => (
                    format!("[{shop}] Case {no}: the platform ruled for you"),
                    vec![format!("The platform's reason: {reason}")],
                ),
                (false, false) => (
                    format!("[{shop}] Case {no}: the platform ruled for the shop"),
                    vec![format!("The platform's reason: {reason}"), "You may appeal within the time limit.".into()],
                ),
            }
        }
        "appeal.decided" => {
            let upheld = ev["upheld"].as_bool() == Some(true);
            let reason = ev["reason"].as_str().unwrap_or("");
            match (zh, upheld) {
                (true, true) => (format!("【{shop}】售后单 {no} 申诉成立"), vec![format!("理由：{reason}")]),
                (true, false) => (format!("【{shop}】售后单 {no} 申诉未成立"), vec![format!("理由：{reason}")]),
                (false, true) => (format!("[{shop}] Case {no}: appeal upheld"), vec![format!("Reason: {reason}")]),
                (false, false) => (format!("[{shop}] Case {no}: appeal dismissed"), vec![format!("Reason: {reason}")]),
            }
        }
        "refund.succeeded" if zh => (
            format!("【{shop}】售后单 {no} 退款 {} 已到账", money(&ev["amount"])),
            vec![format!("订单 {order} 的退款 {} 已原路退回。", money(&ev["amount"]))],
        ),
        "refund.succeeded" => (
            format!("[{shop}] Case {no}: refund of {} paid", money(&ev["amount"])),
            vec![format!("The refund of {} for order {order} was paid back the way you paid.", money(&ev["amount"]))],
        ),
        _ => return None,
    };
    let text = lines.join("\n");
    let html = html! {
        p { (subject) }
        @for l in &lines { p { (l) } }
    }
    .into_string();
    Some((subject, text, html))
}

/// Runs the email sender on this node until the task is aborted.
pub fn spawn(state: AppState, mailer: std::sync::Arc<Mailer>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let c = state.config.email.clone();
        let retry = aftersale_engine::sms::SmsRetry {
            waits_ms: c.retry_secs.iter().map(|s| (*s as i64) * 1000).collect(),
            max_attempts: c.max_attempts.max(1),
        };
        let poll = Duration::from_millis(c.poll_ms.max(10));
        let gap = (c.rate_per_sec > 0).then(|| Duration::from_secs_f64(1.0 / f64::from(c.rate_per_sec)));
        // Sent one after another: a pass takes at most a second of pacing per `rate_per_sec`
        // emails plus each one's time limit; the lease covers the whole pass, so that no other
        // node takes an email this one is still about to send.
        let batch = c.batch.max(1).min(if c.rate_per_sec > 0 { c.rate_per_sec as usize } else { usize::MAX });
        let lease_ms = (batch as i64 * c.timeout_secs.max(1) as i64 + 1 + 5) * 1000;
        let mut next_slot = std::time::Instant::now();
        loop {
            if let Err(e) = state.run(|e| e.fan_out_emails(1000)).await {
                tracing::warn!(error = ?e.0.detail, "making emails from the event stream failed");
            }
            let claimed = match state.run(move |e| e.claim_emails(batch, lease_ms)).await {
                Ok(x) => x,
                Err(e) => {
                    tracing::warn!(error = ?e.0.detail, "claiming emails failed");
                    Vec::new()
                }
            };
            if claimed.is_empty() {
                tokio::time::sleep(poll).await;
                continue;
            }
            let mut done = Vec::new();
            for e in claimed {
                if let Some(gap) = gap {
                    let now = std::time::Instant::now();
                    if next_slot > now {
                        tokio::time::sleep_until(next_slot.into()).await;
                    }
                    next_slot = next_slot.max(now) + gap;
                }
                let outcome = mailer.send(&e).await;
                done.push((e, outcome));
            }
            let retry = retry.clone();
            if let Err(e) = state.run(move |e| e.record_emails(done, &retry)).await {
                tracing::warn!(error = ?e.0.detail, "recording sent emails failed");
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(kind: &str, lang: &str, event: Value) -> EmailRow {
        EmailRow {
            id: 1,
            event_id: "1-1-0".into(),
            user_id: 7,
            to: "a@b.cn".into(),
            lang: lang.into(),
            kind: kind.into(),
            vars: serde_json::json!({ "no": "AS00000001", "order_no": "T1", "shop": "店<一>", "event": event })
                .to_string(),
            case_id: None,
            attempts: 0,
            next_at: 0,
            sent_at: None,
            failed_at: None,
            provider_id: None,
            last_error: None,
            created_at: aftersale_core::Timestamp(0),
        }
    }

    #[test]
    fn every_kind_has_a_template_in_both_languages_and_html_is_escaped() {
        let events = [
            ("case.opened", serde_json::json!({})),
            (
                "case.return_agreed",
                serde_json::json!({ "address": { "region": "浙江", "detail": "1号", "name": "仓", "phone": "139" } }),
            ),
            ("arbitration.ruled", serde_json::json!({ "for_party": "buyer", "reason": "r" })),
            ("appeal.decided", serde_json::json!({ "upheld": false, "reason": "r" })),
            ("refund.succeeded", serde_json::json!({ "amount": { "minor": 1050, "currency": "CNY" } })),
        ];
        for (kind, ev) in events {
            assert!(aftersale_engine::email::EMAIL_KINDS.contains(&kind));
            let (zs, zt, zh) = render(&row(kind, "zh", ev.clone())).unwrap();
            let (es, et, _) = render(&row(kind, "en", ev)).unwrap();
            assert!(zs.contains("店<一>") && es.contains("店<一>"), "{zs} {es}");
            assert!(zs.contains('【') && es.starts_with('['), "{zs} / {es}");
            assert_ne!(zt, et);
            assert!(zh.contains("店&lt;一&gt;") && !zh.contains("店<一>"), "{zh}");
        }
        assert!(render(&row(
            "refund.succeeded",
            "zh",
            serde_json::json!({ "amount": { "minor": 1050, "currency": "CNY" } })
        ))
        .unwrap()
        .0
        .contains("¥10.50"));
        assert!(render(&row("order.created", "zh", serde_json::json!({}))).is_none());
    }
}
