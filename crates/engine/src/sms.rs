//! X2: SMS notices go through a pluggable sender. Use-cases only record them in the outbox, in
//! the same transaction as the change that caused them; `dispatch` hands recorded messages to the
//! sender afterwards and marks each one sent. The default sender records only: the outbox is the
//! record, inspectable by platform staff.

use crate::usecase::{Engine, EngineError};

pub trait SmsSender: Send + Sync {
    /// Delivers one message; an error leaves it in the outbox for the next dispatch.
    fn send(&self, phone: &str, text: &str) -> Result<(), String>;
}

/// The default: nothing leaves the machine; the outbox keeps every message.
#[derive(Clone, Copy, Debug, Default)]
pub struct RecordOnly;

impl SmsSender for RecordOnly {
    fn send(&self, _phone: &str, _text: &str) -> Result<(), String> {
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
        match sender.send(&sms.phone, &sms.text) {
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
