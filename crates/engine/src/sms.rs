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

/// Hands up to `limit` unsent messages to `sender`, oldest first, marking each one sent.
pub fn dispatch(engine: &Engine, sender: &dyn SmsSender, limit: usize) -> Result<Dispatched, EngineError> {
    let pending = engine.read(|tx| tx.unsent_sms(limit))?;
    let mut out = Dispatched::default();
    let mut sent = Vec::new();
    for sms in pending {
        match sender.send(&sms.phone, &sms.text) {
            Ok(()) => sent.push(sms.id),
            Err(_) => out.failed += 1,
        }
    }
    out.sent = sent.len() as u64;
    if !sent.is_empty() {
        let at = engine.now();
        engine.transact(move |tx| {
            for id in sent {
                tx.mark_sms_sent(id, at)?;
            }
            Ok(())
        })?;
    }
    Ok(out)
}
