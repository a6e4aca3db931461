//! What the API answers, as types. Every JSON answer is one of these (or a type of the core or
//! the engine), so the OpenAPI document is derived from the same types the handlers serialise:
//! a field cannot be added to an answer without appearing in the document.
//!
//! Shapes follow one rule each: a status is one string (`StatusName`), a resource names itself
//! `id` and others `case_id`/`order_id`, evidence is an object, times are RFC 3339 in UTC, and a
//! section with nothing in it is present and empty (`[]` or `null`), never missing.

use aftersale_core::model::{
    Appeal, Arbitration, Cancellation, CloseReason, Proposal, Refund, Rejection, ReturnParcel, Stage,
};
use aftersale_core::values::{
    Address, BuyerId, CaseId, Evidence, EvidenceKind, Flag, Logistics, OrderId, RefundAccount, ShopId, ThreadMessage,
};
use aftersale_core::{
    Actor, Case, CaseType, Deadline, DeadlineKind, Money, Order, OrderState, Party, PaymentMethod, Policy, Queue,
    Recorded, StatusName, Timestamp,
};
use aftersale_engine::{Penalty, ReplyTemplate, ShopRecord, StoredNotice, StoredSms, TokenRecord, UserRecord};
use schemars::JsonSchema;
use serde::Serialize;
use std::collections::BTreeMap;

macro_rules! list_type {
    ($($name:ident of $item:ty;)*) => {$(
        #[derive(Debug, Serialize, JsonSchema)]
        pub struct $name {
            pub items: Vec<$item>,
        }
    )*};
}

list_type! {
    UserList of UserRecord;
    TokenList of TokenRecord;
    ShopList of ShopRecord;
    TemplateList of ReplyTemplate;
    PenaltyList of Penalty;
    AddressList of AddressEntry;
    SmsList of StoredSms;
    EmailList of aftersale_engine::store::EmailRow;
}

/// `GET /me`: the account and the actor it acts as in the rules.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Me {
    pub user: UserRecord,
    /// Null for an account that cannot act yet (staff without a shop).
    pub actor: Option<Actor>,
}

/// A password login: the account and when the session cookie expires.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Session {
    pub user: UserRecord,
    pub expires_at: Timestamp,
}

/// A new API token: shown once.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CreatedToken {
    /// Send as `Authorization: Bearer …`; it is stored hashed and never shown again.
    pub token: String,
    pub record: TokenRecord,
}

/// A shop with the deadline values in force (its profile with its overrides).
#[derive(Debug, Serialize, JsonSchema)]
pub struct ShopPage {
    pub shop: ShopRecord,
    pub policy: Policy,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct PolicyAnswer {
    pub policy: Policy,
}

/// An entry of a shop's return address book (R4).
#[derive(Debug, Serialize, JsonSchema)]
pub struct AddressEntry {
    pub address: Address,
    pub is_default: bool,
}

/// A customer on an order; the phone is masked for merchant staff (W6).
#[derive(Debug, Serialize, JsonSchema)]
pub struct CustomerView {
    pub name: String,
    /// The full number for the buyer and the platform; `138****5678` for merchant staff.
    pub phone: String,
}

/// An order as its parties see it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct OrderView {
    pub id: OrderId,
    pub shop_id: ShopId,
    pub buyer_id: BuyerId,
    pub order_no: String,
    pub payment: PaymentMethod,
    pub state: OrderState,
    pub total: Money,
    pub shipping_fee: Money,
    /// Refunds started on this order (B3).
    pub refunded: Money,
    pub fresh: bool,
    pub customer: CustomerView,
    pub created_at: Timestamp,
    pub paid_at: Option<Timestamp>,
    pub shipment: Option<Logistics>,
    pub delivered_at: Option<Timestamp>,
    pub remark: String,
    pub flag: Option<Flag>,
    pub cancellation: Option<Cancellation>,
    /// The order's current case: the one open on it, or else its newest case while that case
    /// is still settling (a refund under way, a COD voucher awaited); null when there is none.
    pub case_id: Option<CaseId>,
    /// L1: what was bought, line by line, and where each line stands (an order ingested without
    /// lines is one line).
    pub lines: Vec<LineView>,
    pub version: u64,
}

/// A line of an order (L1) and where it stands in after-sales (L2, L3).
#[derive(Debug, Serialize, JsonSchema)]
pub struct LineView {
    /// 1, 2, … in the order's order.
    pub no: u32,
    pub sku: String,
    pub title: String,
    pub quantity: u32,
    /// The list price of one unit, before discounts.
    pub unit_price: Money,
    /// What was paid for the line after discounts: the lines and the shipping fee add up to the
    /// order's total.
    pub paid: Money,
    pub kind: aftersale_core::lines::LineKind,
    /// Refunded on the line so far (L2).
    pub refunded: Money,
    /// Units in open cases (L3).
    pub open_units: u32,
    /// Units refunded in full, returned, exchanged or resent.
    pub settled_units: u32,
    /// Units that may be applied for now.
    pub available_units: u32,
    /// Cases opened on the line (L3's limit counts them).
    pub cases: u32,
}

impl LineView {
    /// Every line of the order with where it stands.
    pub fn all(order: &Order) -> Vec<LineView> {
        let order = order.with_lines();
        order
            .lines
            .iter()
            .zip(&order.line_use)
            .map(|(l, u)| LineView {
                no: l.no,
                sku: l.sku.clone(),
                title: l.title.clone(),
                quantity: l.quantity,
                unit_price: l.unit_price,
                paid: l.paid,
                kind: l.kind,
                refunded: u.refunded,
                open_units: u.open_units,
                settled_units: u.settled_units,
                available_units: aftersale_core::lines::units::available_units(l, u),
                cases: u.cases,
            })
            .collect()
    }
}

/// A line of a case: the units it is for, what they can still refund, and the return window that
/// applies to the case's reason (L2, L4).
#[derive(Debug, Serialize, JsonSchema)]
pub struct CaseLineView {
    pub line: u32,
    pub sku: String,
    pub title: String,
    pub units: u32,
    /// What these units can still refund in this case (L2; nothing once the case has ended).
    pub refundable: Money,
    /// The window the case's reason falls in after delivery: `any_reason` or `quality`; null
    /// before delivery.
    pub window: Option<String>,
    /// When that window ends (null: no window on this line for the reason, or none yet).
    pub window_until: Option<Timestamp>,
}

impl CaseLineView {
    pub fn all(order: &Order, case: &Case, policy: &aftersale_core::Policy) -> Vec<CaseLineView> {
        use aftersale_core::lines::window::{window_for, ReasonCode};
        let order = order.with_lines();
        let why = ReasonCode::of_apply_reason(&case.reason);
        case.picks()
            .into_iter()
            .filter_map(|p| {
                let line = order.lines.iter().find(|l| l.no == p.line)?;
                let window = window_for(policy, order.delivered_at, why, line.kind);
                Some(CaseLineView {
                    line: p.line,
                    sku: line.sku.clone(),
                    title: line.title.clone(),
                    units: p.units,
                    refundable: order.case_refundable(case, &[p]),
                    window: window.map(|(name, _)| name.to_string()),
                    window_until: window.and_then(|(_, until)| until),
                })
            })
            .collect()
    }
}

/// Why an offer is closed: the refusal an application would get, by its code and rule.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RefusedView {
    pub code: String,
    pub rule: Option<String>,
    pub detail: String,
}

impl RefusedView {
    pub fn new(r: &aftersale_core::Refusal) -> RefusedView {
        RefusedView { code: r.code().to_string(), rule: r.rule().map(str::to_string), detail: r.to_string() }
    }
}

/// One case type on one line: whether the caller may open it now, on how many units, for how
/// much at most, and until when.
#[derive(Debug, Serialize, JsonSchema)]
pub struct OfferView {
    pub kind: CaseType,
    pub allowed: bool,
    /// Why not, when not allowed.
    pub refused: Option<RefusedView>,
    pub units: u32,
    pub max_refund: Money,
    /// Until when it may be opened (the quality window's end after delivery; null: no window runs).
    pub until: Option<Timestamp>,
}

/// One line's eligibility.
#[derive(Debug, Serialize, JsonSchema)]
pub struct LineEligibilityView {
    pub line: u32,
    pub sku: String,
    pub title: String,
    pub available_units: u32,
    /// What the line can still refund (L2).
    pub refundable: Money,
    /// The any-reason window's end (null before delivery, or on fresh or custom goods).
    pub any_reason_until: Option<Timestamp>,
    /// The quality window's end (null before delivery).
    pub quality_until: Option<Timestamp>,
    pub offers: Vec<OfferView>,
}

/// What the caller may open on each line of an order now (L2–L4, C1).
#[derive(Debug, Serialize, JsonSchema)]
pub struct EligibilityView {
    pub order_id: OrderId,
    pub state: OrderState,
    pub lines: Vec<LineEligibilityView>,
    pub now: Timestamp,
}

impl EligibilityView {
    pub fn new(order: &Order, lines: Vec<aftersale_core::lines::eligibility::LineEligibility>, now: Timestamp) -> Self {
        let order = order.with_lines();
        EligibilityView {
            order_id: order.id,
            state: order.state,
            lines: lines
                .into_iter()
                .map(|e| {
                    let line = order.lines.iter().find(|l| l.no == e.line);
                    LineEligibilityView {
                        line: e.line,
                        sku: line.map(|l| l.sku.clone()).unwrap_or_default(),
                        title: line.map(|l| l.title.clone()).unwrap_or_default(),
                        available_units: e.available_units,
                        refundable: e.refundable,
                        any_reason_until: e.any_reason_until,
                        quality_until: e.quality_until,
                        offers: e
                            .offers
                            .iter()
                            .filter_map(|o| {
                                Some(OfferView {
                                    kind: aftersale_core::case_type_of(o.remedy)?,
                                    allowed: o.refused.is_none(),
                                    refused: o.refused.as_ref().map(RefusedView::new),
                                    units: o.units,
                                    max_refund: o.max_refund,
                                    until: o.until,
                                })
                            })
                            .collect(),
                    }
                })
                .collect(),
            now,
        }
    }
}

impl OrderView {
    /// W6: merchant staff see the customer's phone masked; the buyer and the platform in full.
    /// `current_case`: see `case_id` (the engine's `order_with_case` finds it).
    pub fn new(viewer: &Actor, order: &Order, current_case: Option<CaseId>) -> OrderView {
        let phone = match viewer {
            Actor::Merchant { .. } => order.customer.phone.masked(),
            _ => order.customer.phone.as_str().to_string(),
        };
        OrderView {
            id: order.id,
            shop_id: order.shop_id,
            buyer_id: order.buyer_id,
            order_no: order.order_no.clone(),
            payment: order.payment,
            state: order.state,
            total: order.total,
            shipping_fee: order.shipping_fee,
            refunded: order.refunded,
            fresh: order.fresh,
            customer: CustomerView { name: order.customer.name.clone(), phone },
            created_at: order.created_at,
            paid_at: order.paid_at,
            shipment: order.shipment.clone(),
            delivered_at: order.delivered_at,
            remark: order.remark.clone(),
            flag: order.flag,
            cancellation: order.cancellation.clone(),
            case_id: current_case,
            lines: LineView::all(order),
            version: order.version,
        }
    }
}

/// A piece of evidence on a case, with the party that added it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct EvidenceView {
    pub by: Party,
    pub key: String,
    pub kind: EvidenceKind,
    pub sha256: String,
    pub caption: String,
}

/// A case: what was asked, where it stands, and every section of its course.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CaseView {
    pub id: CaseId,
    pub order_id: OrderId,
    pub shop_id: ShopId,
    pub buyer_id: BuyerId,
    pub kind: CaseType,
    /// The buyer's request as last submitted; a proposal can change `kind` and `amount`.
    pub requested_kind: CaseType,
    pub requested_amount: Money,
    pub amount: Money,
    pub reason: String,
    pub description: String,
    pub status: StatusName,
    /// For `rejected`: whether the merchant rejected at review or after receiving the return.
    pub stage: Option<Stage>,
    /// For `closed`: why the case closed.
    pub close_reason: Option<CloseReason>,
    pub status_since: Timestamp,
    pub applied_at: Timestamp,
    pub evidence: Vec<EvidenceView>,
    pub rejection: Option<Rejection>,
    pub resubmissions: u8,
    pub return_address: Option<Address>,
    pub return_parcel: Option<ReturnParcel>,
    /// R6: a COD buyer's refund account; present only for the buyer and the platform.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refund_account: Option<RefundAccount>,
    pub extension_used: bool,
    pub buyer_reminders: u32,
    pub proposal: Option<Proposal>,
    pub arbitration: Option<Arbitration>,
    pub appeal: Option<Appeal>,
    pub appeal_window_closed: bool,
    pub refund: Option<Refund>,
    pub penalty: bool,
    pub remark: String,
    pub thread: Vec<ThreadMessage>,
    /// L2: the lines and units the case is for.
    pub lines: Vec<aftersale_core::lines::units::Pick>,
    /// K1/K2: the goods the shop sends instead of money, and where that shipment stands.
    pub replacement: Option<aftersale_core::lines::replacement::Shipment>,
    /// I1: the parcel the shop asked the carrier to stop: where that stands and what it cost.
    pub intercept: Option<aftersale_core::lines::intercept::Intercept>,
    /// L5: the case whose return arrived without this case's units.
    pub split_from: Option<CaseId>,
    pub version: u64,
}

impl CaseView {
    /// R6: the refund account only for the buyer and the platform.
    pub fn new(viewer: &Actor, case: &Case) -> CaseView {
        use aftersale_core::Status;
        // R6, as the core says who may see it.
        let refund_account = case.refund_account.clone().filter(|_| aftersale_core::model::sees_refund_account(viewer));
        CaseView {
            id: case.id,
            order_id: case.order_id,
            shop_id: case.shop_id,
            buyer_id: case.buyer_id,
            kind: case.kind,
            requested_kind: case.requested_kind,
            requested_amount: case.requested_amount,
            amount: case.amount,
            reason: case.reason.clone(),
            description: case.description.clone(),
            status: case.status.name(),
            stage: match case.status {
                Status::Rejected { stage } => Some(stage),
                _ => None,
            },
            close_reason: match case.status {
                Status::Closed { reason } => Some(reason),
                _ => None,
            },
            status_since: case.status_since,
            applied_at: case.applied_at,
            evidence: case
                .evidence
                .iter()
                .map(|(by, e): &(Party, Evidence)| EvidenceView {
                    by: *by,
                    key: e.key.clone(),
                    kind: e.kind,
                    sha256: e.sha256.clone(),
                    caption: e.caption.clone(),
                })
                .collect(),
            rejection: case.rejection.clone(),
            resubmissions: case.resubmissions,
            return_address: case.return_address.clone(),
            return_parcel: case.return_parcel.clone(),
            refund_account,
            extension_used: case.extension_used,
            buyer_reminders: case.buyer_reminders,
            proposal: case.proposal.clone(),
            arbitration: case.arbitration.clone(),
            appeal: case.appeal.clone(),
            appeal_window_closed: case.appeal_window_closed,
            refund: case.refund.clone(),
            penalty: case.penalty,
            remark: case.remark.clone(),
            thread: case.thread.clone(),
            lines: case.picks(),
            replacement: case.replacement.clone(),
            intercept: case.intercept.clone(),
            split_from: case.split_from,
            version: case.version,
        }
    }
}

/// The deadline that governs a case now.
#[derive(Debug, Serialize, JsonSchema)]
pub struct DeadlineView {
    pub kind: DeadlineKind,
    /// The rule that sets it (U2/S2/R2 for the merchant's review, R5 for shipping back, …).
    pub rule: &'static str,
    pub due: Timestamp,
    /// Milliseconds until `due` on the service clock (0 once due).
    pub time_left_ms: i64,
    /// What the system does when it passes (for example "the refund is approved").
    pub on_expiry: &'static str,
}

impl DeadlineView {
    pub fn new(case: &Case, d: Deadline, now: Timestamp) -> DeadlineView {
        DeadlineView {
            kind: d.kind,
            rule: d.kind.rule_for(case.kind),
            due: d.due,
            time_left_ms: (d.due.0 - now.0).max(0),
            on_expiry: aftersale_core::expiry_outcome(case, d.kind),
        }
    }
}

/// What a case command answers: the case after it and what governs it now. The full page (the
/// caller's actions, the log) is `GET /cases/{case}`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CommandAnswer {
    pub case: CaseView,
    pub status: StatusName,
    pub queue: Queue,
    pub version: u64,
    pub deadline: Option<DeadlineView>,
}

/// The money of a case beside its order's.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Amounts {
    /// What the buyer asked for.
    pub requested: Money,
    /// What the case refunds now (a proposal can change it).
    pub amount: Money,
    pub order_total: Money,
    pub shipping_fee: Money,
    /// Refunds already started on the order.
    pub refunded_on_order: Money,
}

/// The order's remark (W4, shared by every case of the order) and the case's own.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Remarks {
    pub order: String,
    pub case: String,
}

/// The case page: everything a party needs on one screen.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CasePage {
    pub case: CaseView,
    pub order: OrderView,
    /// The case's lines: units, what they can still refund, the window that applies (L2, L4).
    pub lines: Vec<CaseLineView>,
    /// L5: the cases opened for units this case's return arrived without.
    pub split_into: Vec<CaseId>,
    pub status: StatusName,
    pub queue: Queue,
    pub version: u64,
    pub amounts: Amounts,
    pub deadline: Option<DeadlineView>,
    /// Exactly the actions the caller may take now, by their path names.
    pub available_actions: Vec<aftersale_core::Action>,
    pub remarks: Remarks,
    pub flag: Option<Flag>,
    /// The case log (W5), oldest first.
    pub log: Vec<Recorded>,
    pub now: Timestamp,
}

impl CasePage {
    /// The page from the engine's one-transaction read (R6 already applied there; W6 here).
    pub fn new(actor: &Actor, sheet: aftersale_engine::CaseSheet) -> CasePage {
        let aftersale_engine::CaseSheet { case, order, log, actions, governing, now, policy } = sheet;
        CasePage {
            lines: CaseLineView::all(&order, &case, &policy),
            split_into: order.split_from(case.id),
            order: OrderView::new(
                actor,
                &order,
                order.open_case.or((case.queue() != Queue::Closed).then_some(case.id)),
            ),
            queue: case.queue(),
            status: case.status.name(),
            version: case.version,
            amounts: Amounts {
                requested: case.requested_amount,
                amount: case.amount,
                order_total: order.total,
                shipping_fee: order.shipping_fee,
                refunded_on_order: order.refunded,
            },
            deadline: governing.map(|d| DeadlineView::new(&case, d, now)),
            available_actions: actions,
            remarks: Remarks { order: order.remark.clone(), case: case.remark.clone() },
            flag: order.flag,
            log,
            now,
            case: CaseView::new(actor, &case),
        }
    }
}

/// One row of a queue or a search (W1, W2): a case, so it names itself `id`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CaseRow {
    pub id: CaseId,
    pub order_id: OrderId,
    pub order_no: String,
    pub kind: CaseType,
    pub status: StatusName,
    pub queue: Queue,
    pub amount: Money,
    pub reason: String,
    /// L2: the order lines and units the case is for.
    pub lines: Vec<aftersale_core::lines::units::Pick>,
    pub customer_name: String,
    /// Masked (W6): `138****5678`.
    pub customer_phone: String,
    pub flag: Option<Flag>,
    pub applied_at: Timestamp,
    /// When the deadline that orders the queue falls due (null: none).
    pub due: Option<Timestamp>,
    pub version: u64,
}

/// A page of cases.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CaseList {
    pub items: Vec<CaseRow>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
    /// Cases per queue of the shop (null for a platform search across shops).
    pub counts: Option<BTreeMap<Queue, u64>>,
}

/// Cases per queue of one shop (W1).
#[derive(Debug, Serialize, JsonSchema)]
pub struct QueueCounts {
    pub shop_id: ShopId,
    pub counts: BTreeMap<Queue, u64>,
}

/// X1: the caller's message box.
#[derive(Debug, Serialize, JsonSchema)]
pub struct MessageBoxView {
    /// Newest first.
    pub items: Vec<StoredNotice>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
    /// Unread entries per category.
    pub unread: BTreeMap<String, u64>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Marked {
    pub marked: u64,
}

/// An uploaded evidence file, to be named by its key in a command.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Uploaded {
    pub evidence: Evidence,
    pub content_type: String,
    pub size: u64,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Health {
    pub status: String,
}

/// The service clock.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ClockView {
    pub now: Timestamp,
    /// True when the clock only moves when told (the demo).
    pub manual: bool,
    /// Deadlines fired by this advance (absent on a read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fired: Option<u64>,
}

/// One domain event, as the event API and webhooks deliver it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct EventOut {
    /// The event's id: unique, stable (a webhook's `webhook-id`), and a cursor (`after=`).
    pub id: String,
    /// One of the event types (docs/events.md): `case.opened`, `refund.succeeded`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// The version of the type's shape; a change that would break a consumer is a new version.
    pub version: u32,
    /// When it happened (the service's clock).
    pub at: Timestamp,
    pub shop_id: ShopId,
    pub order_id: OrderId,
    /// The case, for a case event.
    pub case_id: Option<CaseId>,
    /// The event's fields, with the case (a case event) or the order (an order event) as the
    /// change left it. No cash-on-delivery refund account (R6).
    pub data: serde_json::Value,
}

impl EventOut {
    pub fn from_row(row: aftersale_engine::DomainEventRow) -> Result<EventOut, crate::error::ApiError> {
        let data = serde_json::from_str(&row.data)
            .map_err(|_| crate::error::ApiError::internal(&crate::request_id::next()))?;
        Ok(EventOut {
            id: row.position.to_string(),
            kind: row.kind,
            version: aftersale_core::published::EVENT_VERSION,
            at: row.at,
            shop_id: row.shop,
            order_id: row.order,
            case_id: row.case,
            data,
        })
    }
}

/// A page of events.
#[derive(Debug, Serialize, JsonSchema)]
pub struct EventPage {
    /// Oldest first.
    pub items: Vec<EventOut>,
    /// Where this page stopped: pass it as `after` for the next (the same when nothing new came).
    pub next: String,
}
