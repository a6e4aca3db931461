//! Email to buyers, made from the event stream: the events a buyer is told of by email (a case
//! opened, a return agreed with its address, a ruling, an appeal decided, a refund paid) become
//! one email each for the case's buyer, when the buyer gave an address — in the buyer's
//! language, with the shop's name. A consumer of the stream (`CONSUMER`) makes them; a node's
//! sender claims them under leases and records each send as the SMS outbox does (sent with the
//! server's id, tried again after a backoff, refused for good with the reason). A buyer without
//! an address gets no email, and no error.

use crate::feeds::Sender;
use crate::sms::{Dispatched, SmsOutcome, SmsRetry};
use crate::store::EventPosition;
use crate::store::{EmailRow, Role};
use crate::usecase::{Engine, EngineError};
use aftersale_core::Actor;

/// The email consumer's name in the stream's consumer positions.
pub const CONSUMER: &str = "email";

/// The event types a buyer is emailed about.
pub const EMAIL_KINDS: [&str; 5] =
    ["case.opened", "case.return_agreed", "arbitration.ruled", "appeal.decided", "refund.succeeded"];

/// An address as people write them: one `@`, something before it, a domain with a dot after
/// it, no spaces; at most 254 characters. Answers it trimmed and with the domain lower-cased.
pub fn valid_email(raw: &str) -> Result<String, EngineError> {
    let bad = |why: &str| EngineError::Invalid { field: "email", reason: format!("{why} (X1)") };
    let s = raw.trim();
    if s.chars().count() > 254 {
        return Err(bad("is longer than 254 characters"));
    }
    let Some((local, domain)) = s.split_once('@') else { return Err(bad("is not an email address")) };
    let domain_ok = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && domain.chars().all(|c| c.is_alphanumeric() || c == '.' || c == '-');
    if local.is_empty() || !domain_ok || s.chars().any(|c| c.is_whitespace() || c.is_control()) || domain.contains('@')
    {
        return Err(bad("is not an email address"));
    }
    Ok(format!("{local}@{}", domain.to_lowercase()))
}

impl Engine {
    /// The buyer's own email address and language.
    pub fn contact_as(&self, s: &Sender) -> Result<(Option<String>, String), EngineError> {
        let Actor::Buyer { buyer } = s.actor else {
            return Err(EngineError::Forbidden("an email address is kept for buyers".into()));
        };
        Ok(self.read(|tx| tx.contact(buyer.0))?.unwrap_or((None, "zh".into())))
    }

    /// Sets (or, with None, removes) the buyer's email address, and the language emails are
    /// written in (`zh` or `en`).
    pub fn set_contact_as(&self, s: &Sender, email: Option<String>, lang: &str) -> Result<(), EngineError> {
        let Actor::Buyer { buyer } = s.actor else {
            return Err(EngineError::Forbidden("an email address is kept for buyers".into()));
        };
        self.set_contact(buyer.0, email, lang)
    }

    /// `set_contact_as` for a trusted caller (registration, right after the account is made).
    pub fn set_contact(&self, buyer: i64, email: Option<String>, lang: &str) -> Result<(), EngineError> {
        if !["zh", "en"].contains(&lang) {
            return Err(EngineError::Invalid { field: "lang", reason: "is zh or en (X1)".into() });
        }
        let email = email.filter(|e| !e.trim().is_empty()).map(|e| valid_email(&e)).transpose()?;
        let lang = lang.to_string();
        self.transact(move |tx| Ok(tx.set_contact(buyer, email.as_deref(), &lang)?))
    }

    /// The latest emails (the platform's outbox).
    pub fn emails_as(&self, s: &Sender, limit: usize) -> Result<Vec<EmailRow>, EngineError> {
        s.require(&[Role::Agent, Role::Admin])?;
        self.read(|tx| tx.emails(limit.clamp(1, 500)))
    }

    /// Turns the events since the consumer's position into emails (at most `limit` events
    /// read); answers (events read, emails made).
    pub fn fan_out_emails(&self, limit: usize) -> Result<(usize, usize), EngineError> {
        let from = self.consumer_position(CONSUMER)?;
        let kinds: Vec<String> = EMAIL_KINDS.iter().map(|k| k.to_string()).collect();
        let (events, to): (_, EventPosition) =
            self.events_after(Actor::System, from, limit.clamp(1, crate::events::MAX_EVENTS_PAGE), kinds)?;
        if to == from {
            return Ok((0, 0));
        }
        let read = events.len();
        let now = self.now();
        self.transact(move |tx| {
            let mut made = 0;
            for event in &events {
                let Some(order) = tx.order(event.order)? else { continue };
                let buyer = order.buyer_id.0;
                let Some((Some(to), lang)) = tx.contact(buyer)? else { continue };
                let shop = tx.shop(event.shop)?.map(|s| s.name).unwrap_or_default();
                let data: serde_json::Value = serde_json::from_str(&event.data).unwrap_or_default();
                let vars = serde_json::json!({
                    "no": event.case.map(|c| format!("AS{:08}", c.0)).unwrap_or_default(),
                    "order_no": order.order_no,
                    "shop": shop,
                    "event": data,
                });
                made += usize::from(tx.insert_email(&EmailRow {
                    id: 0,
                    event_id: event.position.to_string(),
                    user_id: buyer,
                    to,
                    lang,
                    kind: event.kind.clone(),
                    vars: vars.to_string(),
                    case_id: event.case,
                    attempts: 0,
                    next_at: 0,
                    sent_at: None,
                    failed_at: None,
                    provider_id: None,
                    last_error: None,
                    created_at: now,
                })?);
            }
            tx.set_consumer_position(CONSUMER, to)?;
            Ok((read, made))
        })
    }

    /// Claims up to `limit` due emails for this node during `lease_ms`.
    pub fn claim_emails(&self, limit: usize, lease_ms: i64) -> Result<Vec<EmailRow>, EngineError> {
        let now_ms = crate::runner::wall_ms();
        let owner = crate::runner::node_name();
        self.transact(move |tx| Ok(tx.claim_emails(now_ms, limit, &owner, now_ms + lease_ms)?))
    }

    /// Records how each claimed email's send ended, in one transaction.
    pub fn record_emails(
        &self,
        sent: Vec<(EmailRow, SmsOutcome)>,
        retry: &SmsRetry,
    ) -> Result<Dispatched, EngineError> {
        let (finished, out) = retry.finish_all(
            sent.into_iter().map(|(e, o)| (e.id, e.attempts, o)),
            crate::runner::wall_ms(),
            self.now(),
        );
        if !finished.is_empty() {
            self.transact(move |tx| {
                for (id, f) in &finished {
                    tx.finish_email(*id, f)?;
                }
                Ok(())
            })?;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_checked_as_people_write_them() {
        assert_eq!(valid_email(" wang@Example.COM ").unwrap(), "wang@example.com");
        assert_eq!(valid_email("王@例子.中国").unwrap(), "王@例子.中国");
        for bad in
            ["", "wang", "@example.com", "wang@", "wang@example", "wang@.com", "wang@com.", "w ang@x.com", "a@b@c.com"]
        {
            assert!(valid_email(bad).is_err(), "{bad:?}");
        }
        assert!(valid_email(&format!("{}@x.com", "a".repeat(250))).is_err());
    }
}
