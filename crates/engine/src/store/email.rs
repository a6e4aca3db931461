//! Email to buyers: each person's address and language, and the outbox of emails made from the
//! event stream — one per event and person, with its dispatch (attempts, when next tried, the
//! server's id for it, the last error, failed for good).

use super::{SmsFinish, StoreError};
use aftersale_core::values::CaseId;
use aftersale_core::Timestamp;

/// One email: what it is about (`kind`, the event's `vars`), to whom, in which language.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct EmailRow {
    pub id: i64,
    /// The event it tells of (its position): one email per event and person.
    pub event_id: String,
    pub user_id: i64,
    pub to: String,
    /// `zh` or `en`.
    pub lang: String,
    /// The event's type (`case.opened`, `refund.succeeded`, …).
    pub kind: String,
    /// What the template fills in (JSON object).
    pub vars: String,
    pub case_id: Option<CaseId>,
    pub attempts: u32,
    /// When it is next tried (wall-clock ms).
    pub next_at: i64,
    pub sent_at: Option<Timestamp>,
    pub failed_at: Option<Timestamp>,
    /// The server's id for it (the SMTP answer to the message).
    pub provider_id: Option<String>,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
}

pub trait EmailReads {
    /// A person's email address (if any) and language.
    fn contact(&mut self, user: i64) -> Result<Option<(Option<String>, String)>, StoreError>;
    /// The latest emails, newest first.
    fn emails(&mut self, limit: usize) -> Result<Vec<EmailRow>, StoreError>;
}

pub trait EmailWrites {
    fn set_contact(&mut self, user: i64, email: Option<&str>, lang: &str) -> Result<(), StoreError>;
    /// Inserts `e` (its `id` ignored) unless this person has the email of this event already.
    fn insert_email(&mut self, e: &EmailRow) -> Result<bool, StoreError>;
    /// Claims up to `limit` emails neither sent nor failed, due at `now_ms`, that no live lease
    /// holds, oldest first, for `owner` until `until_ms`.
    fn claim_emails(
        &mut self,
        now_ms: i64,
        limit: usize,
        owner: &str,
        until_ms: i64,
    ) -> Result<Vec<EmailRow>, StoreError>;
    /// Records one send (counted in its attempts) and ends its lease.
    fn finish_email(&mut self, id: i64, how: &SmsFinish) -> Result<(), StoreError>;
}
