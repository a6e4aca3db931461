//! What the store keeps and returns: plain records shared by every backend.

use aftersale_core::values::*;
use aftersale_core::*;
use serde::{Deserialize, Serialize};

use super::StoreError;
/// What a deadline hangs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "subject", content = "id", rename_all = "snake_case")]
pub enum Subject {
    Case(CaseId),
    Order(OrderId),
}

impl Subject {
    /// A subject as stored: its kind (`case`, `order`) and id.
    pub fn from_key(kind: &str, id: i64) -> Subject {
        if kind == "order" {
            Subject::Order(OrderId(id))
        } else {
            Subject::Case(CaseId(id))
        }
    }

    pub fn kind_str(&self) -> &'static str {
        match self {
            Subject::Case(_) => "case",
            Subject::Order(_) => "order",
        }
    }
    pub fn id(&self) -> i64 {
        match self {
            Subject::Case(c) => c.0,
            Subject::Order(o) => o.0,
        }
    }
}

/// A deadline row: written with the change that armed it, carrying the version it was set for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DueDeadline {
    pub subject: Subject,
    pub kind: DeadlineKind,
    pub due: Timestamp,
    pub version: u64,
}

/// A shop as the rules need it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(description = "A shop: its name, policy profile and overrides, and its default return address.")]
pub struct ShopRecord {
    pub id: ShopId,
    pub name: String,
    pub profile: String,
    pub overrides: PolicyOverrides,
    pub default_address: Option<Address>,
}

/// A new address for a shop's book (R4).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AddressInput {
    pub name: String,
    pub phone: Phone,
    pub region: String,
    pub detail: String,
    #[serde(default)]
    pub is_default: bool,
}

/// One stored message-box entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StoredNotice {
    pub id: i64,
    pub recipient: Recipient,
    pub case_id: Option<CaseId>,
    pub category: String,
    pub title: String,
    pub body: String,
    /// The title in Chinese (empty on entries written before notices were bilingual).
    pub title_zh: String,
    /// The body in Chinese (likewise).
    pub body_zh: String,
    pub at: Timestamp,
    pub read: bool,
}

/// X1: which entries of a message box to read, newest first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NoticeQuery {
    /// Entries older than this id (the cursor of the previous page).
    pub before: Option<i64>,
    pub unread_only: bool,
    pub category: Option<String>,
    pub limit: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StoredSms {
    pub id: i64,
    pub phone: String,
    pub text: String,
    pub case_id: Option<CaseId>,
    pub at: Timestamp,
    pub sent_at: Option<Timestamp>,
    /// The template's kind and variables (JSON object), for providers that send templates.
    pub kind: String,
    pub params: String,
    /// Sends tried so far.
    pub attempts: u32,
    /// When a provider refused it for good (an invalid number, an unsubscribed one).
    pub failed_at: Option<Timestamp>,
    /// The provider's id for the message once sent.
    pub provider_id: Option<String>,
    pub last_error: Option<String>,
    /// When it is next tried (wall-clock ms; 0: at once).
    pub next_at: i64,
}

/// How one send of an SMS ended, as the outbox keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SmsFinish {
    Sent {
        at: Timestamp,
        provider_id: Option<String>,
    },
    /// Not sent this time: tried again at `next_at_ms` (wall clock).
    Retry {
        next_at_ms: i64,
        error: String,
    },
    /// Refused for good: never tried again.
    Failed {
        at: Timestamp,
        error: String,
    },
}

/// One line of a log as stored; events of one command share the row `id`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredEvent {
    pub id: i64,
    pub order_id: OrderId,
    pub case_id: Option<CaseId>,
    pub recorded: Recorded,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Penalty {
    pub shop_id: ShopId,
    pub case_id: CaseId,
    pub reason: String,
    pub amount: Money,
    pub at: Timestamp,
}

/// W2: how a list of cases is ordered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseSort {
    /// Least time left first; cases no deadline governs last.
    #[default]
    TimeLeft,
    /// Most recently applied first.
    Newest,
}

/// Where the next page starts (keyset pagination: stable under inserts).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseCursor {
    pub key: i64,
    pub id: i64,
}

/// W2: search and filters. Full values match exactly (a phone is searched by the full number,
/// W6); all given filters must hold.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseQuery {
    pub shop: Option<ShopId>,
    pub buyer: Option<BuyerId>,
    pub queue: Option<Queue>,
    /// Only cases not closed (queue other than `closed`): the workbench's "All open".
    pub open_only: bool,
    pub kind: Option<CaseType>,
    pub flag: Option<Flag>,
    /// Close to deadline: governed by a deadline due at or before this time.
    pub due_before: Option<Timestamp>,
    pub order_no: Option<String>,
    pub case_id: Option<CaseId>,
    pub customer_name: Option<String>,
    pub customer_phone: Option<PhoneSearch>,
    pub applied_from: Option<Timestamp>,
    pub applied_to: Option<Timestamp>,
    pub sort: CaseSort,
    pub after: Option<CaseCursor>,
    pub limit: usize,
}

/// What both backends decide alike about a search (`CaseQuery::plan`); each writes it in its own
/// SQL, with the indexes it has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SearchPlan {
    /// A filter that finds few rows leads (order number, phone, case id, or a name long enough for
    /// the backend's name index): its hits are found by that filter's index and sorted, rather
    /// than the queue walked in sort order and filtered.
    pub selective: bool,
    /// The sort key's column and whether it runs newest first.
    pub key: &'static str,
    pub descending: bool,
    /// The page size asked for (1 to 200) and the rows to fetch: one more, which says only
    /// that another page follows.
    pub limit: usize,
    pub fetch: i64,
}

impl SearchPlan {
    /// `ORDER BY` the sort key and the case id; `unindexed` says how this backend keeps an index
    /// from serving a column (when the plan is selective, the few hits are sorted instead).
    pub fn order_by(&self, unindexed: impl Fn(&str) -> String) -> String {
        let col = |c: &str| if self.selective { unindexed(c) } else { c.to_string() };
        let dir = if self.descending { " DESC" } else { "" };
        format!(" ORDER BY {}{dir}, {}{dir}", col(self.key), col("c.id"))
    }

    /// The keyset condition for the page after `after`, in the sort's direction; its two
    /// parameters are the cursor's key and id.
    pub fn after_condition(&self, first: &str, second: &str) -> String {
        let cmp = if self.descending { "<" } else { ">" };
        format!(" AND ({}, c.id) {cmp} ({first}, {second})", self.key)
    }
}

impl CaseQuery {
    /// The search's plan, on a backend whose name index answers names of `name_index_chars`
    /// characters or more.
    pub fn plan(&self, name_index_chars: usize) -> SearchPlan {
        let selective = self.order_no.is_some()
            || self.customer_phone.is_some()
            || self.case_id.is_some()
            || self.customer_name.as_ref().is_some_and(|n| n.chars().count() >= name_index_chars);
        let (key, descending) = match self.sort {
            CaseSort::TimeLeft => ("c.due_at", false),
            CaseSort::Newest => ("c.applied_at", true),
        };
        let limit = self.limit.clamp(1, 200);
        SearchPlan { selective, key, descending, limit, fetch: limit as i64 + 1 }
    }
}

/// One case found by a search, as the store returns it: the case with its order's number,
/// customer and flag. The phone is whole here; the engine masks it for lists (W6).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseHit {
    pub case: Case,
    pub order_no: String,
    pub customer_name: String,
    pub customer_phone: Phone,
    pub flag: Option<Flag>,
    /// The due time of the governing deadline (`i64::MAX` when none): the sort key.
    pub due_key: i64,
}

/// One page of search hits and where the next starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseHits {
    pub items: Vec<CaseHit>,
    pub next: Option<CaseCursor>,
}

impl CaseHits {
    /// Builds a page from up to `limit + 1` hits in sort order: the extra one only says that
    /// another page follows.
    pub fn paged(mut items: Vec<CaseHit>, limit: usize, sort: CaseSort) -> CaseHits {
        let next = if items.len() > limit {
            items.truncate(limit);
            items.last().map(|i| CaseCursor {
                key: if sort == CaseSort::TimeLeft { i.due_key } else { i.case.applied_at.0 },
                id: i.case.id.0,
            })
        } else {
            None
        };
        CaseHits { items, next }
    }
}

/// One line of a case list as lists show it: the phone masked (W6).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseListItem {
    pub case: Case,
    pub order_no: String,
    pub customer_name: String,
    pub customer_phone_masked: String,
    pub flag: Option<Flag>,
    /// The due time of the governing deadline (`i64::MAX` when none): the sort key.
    pub due_key: i64,
}

impl From<CaseHit> for CaseListItem {
    fn from(h: CaseHit) -> CaseListItem {
        CaseListItem {
            customer_phone_masked: h.customer_phone.masked(),
            case: h.case,
            order_no: h.order_no,
            customer_name: h.customer_name,
            flag: h.flag,
            due_key: h.due_key,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CasePage {
    pub items: Vec<CaseListItem>,
    pub next: Option<CaseCursor>,
}

impl From<CaseHits> for CasePage {
    fn from(h: CaseHits) -> CasePage {
        CasePage { items: h.items.into_iter().map(CaseListItem::from).collect(), next: h.next }
    }
}

/// A lease on due deadlines: rows claimed under it are not handed to another claimer until
/// `until` (wall-clock milliseconds) has passed, so a node that dies mid-batch loses them to the
/// others only then.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lease {
    pub owner: String,
    pub until_ms: i64,
    pub now_ms: i64,
}

/// One command's events, serialized for the log (callers may do that off the writer).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogRow {
    pub at: Timestamp,
    pub actor_json: String,
    pub kind: &'static str,
    pub events_json: String,
    pub case_events: bool,
    /// The command's domain events, written beside the log row in the same statement or
    /// transaction.
    pub published: Option<PublishedRow>,
}

/// A command's domain events as stored: one row beside its log row, holding every event of the
/// command with the case and order as it left them (`aftersale_core::Published`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublishedRow {
    pub shop: ShopId,
    /// The events' types, each followed by a space (`case.opened refund.requested `).
    pub types: String,
    /// The `Published` document.
    pub data: String,
}

impl PublishedRow {
    pub fn new(shop: ShopId, published: &Published) -> Result<PublishedRow, StoreError> {
        let types = published.events.iter().map(|e| format!("{} ", e.name())).collect();
        Ok(PublishedRow { shop, types, data: serde_json::to_string(published)? })
    }
}

/// Where a consumer of the domain events stands: after event `seq` of the stored row (`tx`,
/// `id`). Rows follow commit order: `tx` is the committing transaction's number on PostgreSQL
/// (0 on SQLite, whose single writer commits in id order) and `id` the row's. See
/// `EventReads::domain_events_from` for why that order never skips an event.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventPosition {
    pub tx: i64,
    pub id: i64,
    pub seq: u32,
}

impl EventPosition {
    /// Before every event.
    pub const START: EventPosition = EventPosition { tx: 0, id: 0, seq: 0 };
}

impl std::fmt::Display for EventPosition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}-{}", self.tx, self.id, self.seq)
    }
}

impl std::str::FromStr for EventPosition {
    type Err = ();
    fn from_str(s: &str) -> Result<EventPosition, ()> {
        let mut parts = s.split('-');
        let mut next = || parts.next().and_then(|p| p.parse::<i64>().ok()).filter(|v| *v >= 0).ok_or(());
        let (tx, id, seq) = (next()?, next()?, next()?);
        if parts.next().is_some() {
            return Err(());
        }
        Ok(EventPosition { tx, id, seq: u32::try_from(seq).map_err(|_| ())? })
    }
}

/// A stored row of domain events (one command's).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredPublished {
    pub tx: i64,
    pub id: i64,
    pub at: Timestamp,
    pub shop: ShopId,
    pub order: OrderId,
    pub case: Option<CaseId>,
    pub types: String,
    pub data: String,
}

/// One domain event as consumers read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DomainEventRow {
    pub position: EventPosition,
    pub kind: String,
    pub at: Timestamp,
    pub shop: ShopId,
    pub order: OrderId,
    pub case: Option<CaseId>,
    /// The event as JSON: its `type` and fields, with `case` (a case event) or `order` (an
    /// order event) as the command left it.
    pub data: String,
}

impl LogRow {
    /// The row with the command's domain events (none written when there are none).
    pub fn publishing(mut self, shop: ShopId, published: Option<&Published>) -> Result<LogRow, StoreError> {
        self.published = published.map(|p| PublishedRow::new(shop, p)).transpose()?;
        Ok(self)
    }

    /// None for an empty list of events.
    pub fn new(events: &[Recorded]) -> Result<Option<LogRow>, StoreError> {
        let Some(first) = events.first() else { return Ok(None) };
        let list: Vec<&Event> = events.iter().map(|r| &r.event).collect();
        Ok(Some(LogRow {
            at: first.at,
            actor_json: serde_json::to_string(&first.actor)?,
            kind: first.event.name(),
            events_json: serde_json::to_string(&list)?,
            case_events: first.event.is_case_event(),
            published: None,
        }))
    }
}

/// Who a login is. Buyers act as themselves; owners and staff act for their shop (owners also
/// change the shop's settings); agents arbitrate; admins run the platform (and act as agents).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Buyer,
    Owner,
    Staff,
    Agent,
    Admin,
}

impl Role {
    pub const ALL: [Role; 5] = [Role::Buyer, Role::Owner, Role::Staff, Role::Agent, Role::Admin];
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Buyer => "buyer",
            Role::Owner => "owner",
            Role::Staff => "staff",
            Role::Agent => "agent",
            Role::Admin => "admin",
        }
    }
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// A stored account. `password_hash` is an argon2id PHC string; it never leaves the server.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct UserRecord {
    pub id: i64,
    pub login: String,
    pub role: Role,
    pub shop_id: Option<ShopId>,
    pub display_name: String,
    #[serde(skip_serializing)]
    pub password_hash: String,
    pub created_at: Timestamp,
}

impl std::fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRecord")
            .field("id", &self.id)
            .field("login", &self.login)
            .field("role", &self.role)
            .field("shop_id", &self.shop_id)
            .finish_non_exhaustive()
    }
}

impl UserRecord {
    /// The actor this account acts as in the rules (None: none yet, e.g. staff without a shop).
    pub fn actor(&self) -> Option<Actor> {
        match self.role {
            Role::Buyer => Some(Actor::Buyer { buyer: BuyerId(self.id) }),
            Role::Owner | Role::Staff => self.shop_id.map(|shop| Actor::Merchant { shop, staff: StaffId(self.id) }),
            Role::Agent | Role::Admin => Some(Actor::Platform { agent: AgentId(self.id) }),
        }
    }
}

/// An API token as listed to its owner: never the token itself, which is stored hashed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TokenRecord {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
    pub scope: TokenScope,
}

/// What an API token may do: `full`, its user's rights; `integration`, a shop owner's token for
/// the shop's own systems, which besides the owner's rights reports payment, delivery and
/// completion (the payment gateway's and the logistics feed's events).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TokenScope {
    #[default]
    Full,
    Integration,
}

impl TokenScope {
    pub fn as_str(&self) -> &'static str {
        match self {
            TokenScope::Full => "full",
            TokenScope::Integration => "integration",
        }
    }
    pub fn parse(s: &str) -> Option<TokenScope> {
        [TokenScope::Full, TokenScope::Integration].into_iter().find(|t| t.as_str() == s)
    }
}

/// How a caller proved who they are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Credential {
    Session,
    Token(TokenScope),
}

/// Who may report the payment gateway's and the logistics feed's events (payment, delivery,
/// completion, a return parcel signed for): the platform, or the shop's integration token —
/// never a person's session or a staff member's own token.
pub fn reports_feeds(role: Role, credential: Credential) -> bool {
    match role {
        Role::Agent | Role::Admin => true,
        Role::Owner | Role::Staff => credential == Credential::Token(TokenScope::Integration),
        Role::Buyer => false,
    }
}

/// A shop's canned reply.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ReplyTemplate {
    pub id: i64,
    pub shop_id: ShopId,
    pub title: String,
    pub body: String,
}

/// An uploaded evidence file: who uploaded it, what its bytes are, and their checksum.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct EvidenceObject {
    pub key: String,
    pub uploader: i64,
    pub shop_id: Option<ShopId>,
    pub buyer_id: Option<BuyerId>,
    pub kind: EvidenceKind,
    pub content_type: String,
    pub size: u64,
    pub sha256: String,
    pub created_at: Timestamp,
}

/// How a message box's owner is stored, by every backend: a kind and an id.
pub(crate) fn recipient_cols(r: Recipient) -> (&'static str, i64) {
    match r {
        Recipient::Shop(s) => ("shop", s.0),
        Recipient::Buyer(b) => ("buyer", b.0),
        Recipient::Platform => ("platform", 0),
    }
}

pub(crate) fn parse_recipient(kind: &str, id: i64) -> Recipient {
    match kind {
        "shop" => Recipient::Shop(ShopId(id)),
        "buyer" => Recipient::Buyer(BuyerId(id)),
        _ => Recipient::Platform,
    }
}
