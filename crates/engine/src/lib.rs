//! The engine around the pure rules: use-cases that write state, log, deadlines and notices in
//! one transaction; storage (SQLite, group commit); the deadline runner; the clock and the
//! payment gateway.

pub mod access;
pub mod accounts;
pub mod casepage;
pub mod clock;
pub mod deadline_rows;
pub mod eligibility;
pub mod email;
pub mod events;
pub mod evidence;
pub mod feeds;
mod firing;
pub mod gateway;
mod jobs;
pub mod login;
mod plan;
pub mod refunds;
pub mod report;
pub mod runner;
pub mod shops;
pub mod sms;
pub mod store;
pub mod submit;
pub mod usecase;
pub mod webhooks;

pub use casepage::{CaseSheet, ReturnTo};
pub use clock::{Clock, ManualClock, SystemClock};
pub use deadline_rows::sync_deadlines;
pub use feeds::Sender;
pub use gateway::{BuiltinGateway, ExternalGateway, GatewayOutcome, PaymentGateway};
pub use login::LoginOutcome;
pub use report::{ShopReport, REPORT_CAP};
pub use runner::{RunStats, Runner};
pub use sms::{LogSender, RecordOnly, SmsSender};
pub use store::sqlite::{SqliteOptions, SqliteStore};
pub use store::{
    reports_feeds, Abort, AddressInput, CaseChange, CaseCursor, CaseHit, CaseHits, CaseListItem, CasePage, CaseQuery,
    CaseSort, Credential, DomainEventRow, DueDeadline, Effects, EventPosition, EvidenceObject, Lease, LogRow,
    NoticeQuery, Penalty, PublishedRow, ReadTx, Reply, ReplyTemplate, Role, ShopRecord, SmsFinish, Store, StoreError,
    StoredEvent, StoredNotice, StoredSms, Subject, TokenRecord, TokenScope, UserRecord, WriteJob, WriteTx,
};
pub use submit::{ActionAnswer, CaseAction};
pub use usecase::{Engine, EngineError, Firing, IdemKey, MessageBox};
