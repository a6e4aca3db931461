//! The after-sales rules as a pure library: orders, cases of three types, the commands of buyers,
//! merchant staff, platform agents and the system, the events they produce, the deadlines a state
//! implies, and the notices events send. No I/O, no clock, no database: the engine crate supplies
//! those.

pub mod actor;
pub mod command;
pub mod deadline;
pub mod decide;
pub mod labels;
pub mod lines;
pub mod model;
pub mod money;
pub mod notice;
pub mod policy;
pub mod published;
pub mod refusal;
pub mod time;
pub mod values;

pub use actor::{Actor, Party};
pub use command::{
    waits_for, Action, Apply, ApplyOf, CaseCommand, CaseCommandOf, MerchantRefund, NewOrder, OrderCommand,
};
pub use deadline::{Deadline, DeadlineKind};
pub use decide::{
    application_options, apply, available_actions, case_type_of, create_order, decide_case, decide_order,
    expiry_outcome, gate, merchant_refund, order_eligibility, reason_fits, split_off, Ctx,
};
pub use model::{Case, CaseType, Event, Order, OrderState, PaymentMethod, Queue, Recorded, Status, StatusName};
pub use money::{Currency, Money};
pub use notice::{notices_for, Notice, Outbox, Recipient, Sms};
pub use policy::{Language, Payout, Policy, PolicyOverrides, TimeZone};
pub use published::{published, CaseSnapshot, DomainEvent, OrderSnapshot, Published, EVENT_VERSION};
pub use refusal::Refusal;
pub use time::{Dur, Timestamp};
