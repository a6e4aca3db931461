//! X2: SMS notices go through a pluggable sender. Use-cases only record them in the outbox, in
//! the same transaction as the change that caused them; `dispatch` hands recorded messages to the
//! sender afterwards and marks each one sent. A serving node dispatches continuously (its
//! background loop); the default provider, `log`, writes each message to the service's log (and
//! to a file of JSON lines when one is configured), so nothing leaves the machine unless a real
//! provider is configured.

use crate::store::StoredSms;
use crate::usecase::{Engine, EngineError};
use std::io::Write;

pub trait SmsSender: Send + Sync {
    /// Delivers one message; an error leaves it in the outbox for the next dispatch.
    fn send(&self, sms: &StoredSms) -> Result<(), String>;
}

/// Sends nothing and marks nothing: the outbox keeps every message as recorded.
#[derive(Clone, Copy, Debug, Default)]
pub struct RecordOnly;

impl SmsSender for RecordOnly {
    fn send(&self, _sms: &StoredSms) -> Result<(), String> {
        Ok(())
    }
}

/// The `log` provider: each message goes to the service's log (the phone masked) and, when a
/// file is named, as one JSON line `{"id", "case_id", "phone", "text"}` appended to it.
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
    fn send(&self, sms: &StoredSms) -> Result<(), String> {
        let masked =
            aftersale_core::values::Phone::parse(&sms.phone).map_or_else(|_| "***".to_string(), |p| p.masked());
        tracing::info!(target: "aftersale::sms", id = sms.id, to = %masked, text = %sms.text, "sms");
        if let Some(file) = &self.file {
            let line = serde_json::json!({
                "id": sms.id,
                "case_id": sms.case_id.map(|c| c.0),
                "phone": sms.phone,
                "text": sms.text,
            });
            let mut f = file.lock().map_err(|_| "the SMS log file's lock is poisoned".to_string())?;
            // One write per line, on a file opened for appending: lines from several processes
            // never interleave.
            f.write_all(format!("{line}\n").as_bytes()).map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}

/// What one dispatch did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Dispatched {
    pub sent: u64,
    pub failed: u64,
}

/// How long a dispatcher holds the messages it claimed.
pub const SMS_LEASE_MS: i64 = 30_000;

/// Hands up to `limit` unsent messages to `sender`, oldest first, marking each one sent. The
/// messages are claimed first (a lease, as deadlines are), so dispatchers on several nodes never
/// send one message twice; one whose send failed is tried again once its lease has ended.
pub fn dispatch(engine: &Engine, sender: &dyn SmsSender, limit: usize) -> Result<Dispatched, EngineError> {
    let now_ms = crate::runner::wall_ms();
    let lease = crate::store::Lease { owner: crate::runner::node_name(), now_ms, until_ms: now_ms + SMS_LEASE_MS };
    let pending = engine.store().claim_sms(limit, &lease)?;
    let mut out = Dispatched::default();
    let (mut sent, mut failed) = (Vec::new(), Vec::new());
    for sms in pending {
        match sender.send(&sms) {
            Ok(()) => sent.push(sms.id),
            Err(_) => failed.push(sms.id),
        }
    }
    out.failed = failed.len() as u64;
    if !failed.is_empty() {
        engine.store().release_sms(&failed)?;
    }
    out.sent = sent.len() as u64;
    if !sent.is_empty() {
        let at = engine.now();
        engine.transact(move |tx| {
            for &id in &sent {
                tx.mark_sms_sent(id, at)?;
            }
            Ok(())
        })?;
    }
    Ok(out)
}
