//! X2: text messages leave through a provider. Use-cases only record them in the outbox, in the
//! same transaction as the change that caused them; a dispatcher claims due messages (a lease, so
//! one node sends each), hands them to the provider, and records how each send ended: sent (with
//! the provider's id), to be tried again after a backoff (a provider down or throttling), or
//! refused for good (an invalid or unsubscribed number) with the reason. A provider outage never
//! blocks a command: the outbox waits. The default provider, `log`, writes each message to the
//! service's log (and to a file of JSON lines when one is configured): nothing leaves the
//! machine unless a real provider is configured (`aftersale-http`'s `outbound::sms`).

use crate::store::{SmsFinish, StoredSms};
use crate::usecase::{Engine, EngineError};
use std::io::Write;

/// How one send ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SmsOutcome {
    Sent {
        provider_id: Option<String>,
    },
    /// Not sent now (no answer, a 5xx, throttled): tried again after the backoff.
    Retry(String),
    /// Refused for good (an invalid number, an unsubscribed one, a template the provider does
    /// not know): never tried again.
    Refused(String),
}

pub trait SmsSender: Send + Sync {
    /// Sends one message.
    fn send(&self, sms: &StoredSms) -> SmsOutcome;
}

/// Sends nothing and marks nothing: the outbox keeps every message as recorded.
#[derive(Clone, Copy, Debug, Default)]
pub struct RecordOnly;

impl SmsSender for RecordOnly {
    fn send(&self, _sms: &StoredSms) -> SmsOutcome {
        SmsOutcome::Retry("record only".into())
    }
}

/// The `log` provider: each message goes to the service's log (the phone masked) and, when a
/// file is named, as one JSON line `{"id", "case_id", "phone", "text", "kind", "params"}`
/// appended to it.
pub struct LogSender {
    file: Option<std::sync::Mutex<std::fs::File>>,
}

impl LogSender {
    pub fn new(file: Option<&std::path::Path>) -> std::io::Result<LogSender> {
        let file = match file {
            Some(path) => {
                Some(std::sync::Mutex::new(std::fs::OpenOptions::new().create(true).append(true).open(path)?))
            }
            None => None,
        };
        Ok(LogSender { file })
    }
}

impl SmsSender for LogSender {
    fn send(&self, sms: &StoredSms) -> SmsOutcome {
        let masked =
            aftersale_core::values::Phone::parse(&sms.phone).map_or_else(|_| "***".to_string(), |p| p.masked());
        tracing::info!(target: "aftersale::sms", id = sms.id, to = %masked, text = %sms.text, "sms");
        if let Some(file) = &self.file {
            let line = serde_json::json!({
                "id": sms.id,
                "case_id": sms.case_id.map(|c| c.0),
                "phone": sms.phone,
                "text": sms.text,
                "kind": sms.kind,
                "params": serde_json::from_str::<serde_json::Value>(&sms.params).unwrap_or_default(),
            });
            let Ok(mut f) = file.lock() else { return SmsOutcome::Retry("the SMS log file's lock is poisoned".into()) };
            // One write per line, on a file opened for appending: lines from several processes
            // never interleave.
            if let Err(e) = f.write_all(format!("{line}\n").as_bytes()) {
                return SmsOutcome::Retry(e.to_string());
            }
        }
        SmsOutcome::Sent { provider_id: Some(format!("log-{}", sms.id)) }
    }
}

/// When a message not sent is tried again: the waits after each failed attempt (the last one
/// repeated), and the attempts after which it is given up as failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmsRetry {
    pub waits_ms: Vec<i64>,
    pub max_attempts: u32,
}

impl Default for SmsRetry {
    fn default() -> Self {
        // 30 s, 2 min, 10 min, 1 h, then every 6 h; given up after a day and a half.
        SmsRetry { waits_ms: vec![30_000, 120_000, 600_000, 3_600_000, 21_600_000], max_attempts: 10 }
    }
}

impl SmsRetry {
    /// How each of a pass's sends (id, attempts before, outcome) ends in its outbox, and the
    /// pass's counts.
    pub fn finish_all(
        &self,
        sent: impl Iterator<Item = (i64, u32, SmsOutcome)>,
        now_ms: i64,
        at: aftersale_core::Timestamp,
    ) -> (Vec<(i64, SmsFinish)>, Dispatched) {
        let mut out = Dispatched::default();
        let finished = sent
            .map(|(id, attempts, outcome)| {
                let f = self.finish(outcome, attempts, now_ms, at);
                match f {
                    SmsFinish::Sent { .. } => out.sent += 1,
                    SmsFinish::Retry { .. } => out.failed += 1,
                    SmsFinish::Failed { .. } => out.refused += 1,
                }
                (id, f)
            })
            .collect();
        (finished, out)
    }

    /// How a send ends in the outbox, for a message sent `attempts_before` times already.
    pub fn finish(
        &self,
        outcome: SmsOutcome,
        attempts_before: u32,
        now_ms: i64,
        at: aftersale_core::Timestamp,
    ) -> SmsFinish {
        match outcome {
            SmsOutcome::Sent { provider_id } => SmsFinish::Sent { at, provider_id },
            SmsOutcome::Refused(error) => SmsFinish::Failed { at, error },
            SmsOutcome::Retry(error) if attempts_before + 1 >= self.max_attempts => {
                SmsFinish::Failed { at, error: format!("given up after {} attempts: {error}", attempts_before + 1) }
            }
            SmsOutcome::Retry(error) => {
                let i = (attempts_before as usize).min(self.waits_ms.len().saturating_sub(1));
                let wait = self.waits_ms.get(i).copied().unwrap_or(60_000);
                SmsFinish::Retry { next_at_ms: now_ms + wait, error }
            }
        }
    }
}

/// What one dispatch did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Dispatched {
    pub sent: u64,
    /// Not sent this time; tried again later.
    pub failed: u64,
    /// Refused for good.
    pub refused: u64,
}

/// How long a dispatcher holds the messages it claimed: longer than a provider may take.
pub const SMS_LEASE_MS: i64 = 30_000;

impl Engine {
    /// Claims up to `limit` due messages for this node, oldest first (a lease, as deadlines
    /// are): dispatchers on several nodes never send one message at once.
    /// `lease_ms` must be longer than a send may take.
    pub fn claim_sms(&self, limit: usize, lease_ms: i64) -> Result<Vec<StoredSms>, EngineError> {
        let now_ms = crate::runner::wall_ms();
        let lease = crate::store::Lease { owner: crate::runner::node_name(), now_ms, until_ms: now_ms + lease_ms };
        Ok(self.store().claim_sms(limit, &lease)?)
    }

    /// Records how each claimed message's send ended, in one transaction.
    pub fn record_sms(&self, sent: Vec<(StoredSms, SmsOutcome)>, retry: &SmsRetry) -> Result<Dispatched, EngineError> {
        let (finished, out) = retry.finish_all(
            sent.into_iter().map(|(s, o)| (s.id, s.attempts, o)),
            crate::runner::wall_ms(),
            self.now(),
        );
        if !finished.is_empty() {
            let ids: Vec<i64> = finished.iter().map(|(id, _)| *id).collect();
            self.transact(move |tx| {
                for (id, f) in &finished {
                    tx.finish_sms(*id, f)?;
                }
                Ok(())
            })?;
            // Their claims end (a store that keeps claims outside the rows forgets them).
            self.store().release_sms(&ids)?;
        }
        Ok(out)
    }
}

/// Hands up to `limit` due messages to `sender`, oldest first, and records how each send ended.
pub fn dispatch(
    engine: &Engine,
    sender: &dyn SmsSender,
    limit: usize,
    retry: &SmsRetry,
) -> Result<Dispatched, EngineError> {
    let pending = engine.claim_sms(limit, SMS_LEASE_MS)?;
    let sent: Vec<(StoredSms, SmsOutcome)> = pending
        .into_iter()
        .map(|sms| {
            let outcome = sender.send(&sms);
            (sms, outcome)
        })
        .collect();
    engine.record_sms(sent, retry)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aftersale_core::Timestamp;

    #[test]
    fn a_send_not_made_waits_longer_each_time_and_is_given_up_at_the_last_attempt() {
        let r = SmsRetry { waits_ms: vec![10, 100], max_attempts: 4 };
        let at = Timestamp(5);
        let retry = |n| r.finish(SmsOutcome::Retry("down".into()), n, 1_000, at);
        assert_eq!(retry(0), SmsFinish::Retry { next_at_ms: 1_010, error: "down".into() });
        assert_eq!(retry(1), SmsFinish::Retry { next_at_ms: 1_100, error: "down".into() });
        assert_eq!(retry(2), SmsFinish::Retry { next_at_ms: 1_100, error: "down".into() });
        assert_eq!(retry(3), SmsFinish::Failed { at, error: "given up after 4 attempts: down".into() });
        assert_eq!(
            r.finish(SmsOutcome::Refused("bad number".into()), 0, 1, at),
            SmsFinish::Failed { at, error: "bad number".into() }
        );
        assert_eq!(
            r.finish(SmsOutcome::Sent { provider_id: Some("B1".into()) }, 2, 1, at),
            SmsFinish::Sent { at, provider_id: Some("B1".into()) }
        );
    }
}
