//! Storage behind one narrow interface. A use-case runs as one job inside a write transaction
//! (`Store::write`), reading and writing through `WriteTx`; an implementation may put several
//! jobs in one commit (group commit) but acknowledges none before its commit is durable. Reads
//! go through `ReadTx` on their own connection.

pub mod sqlite;

use aftersale_core::notice::Outbox;
use aftersale_core::values::*;
use aftersale_core::*;
use serde::{Deserialize, Serialize};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(String),
    #[error("stored data could not be read: {0}")]
    Corrupt(String),
    #[error("the writer has stopped")]
    WriterGone,
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Db(e.to_string())
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Corrupt(e.to_string())
    }
}

/// What a deadline hangs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "subject", content = "id", rename_all = "snake_case")]
pub enum Subject {
    Case(CaseId),
    Order(OrderId),
}

impl Subject {
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DueDeadline {
    pub subject: Subject,
    pub kind: DeadlineKind,
    pub due: Timestamp,
    pub version: u64,
}

/// A shop as the rules need it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
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

/// One line of a case list: the case with its order's number, customer and flag. The phone is
/// masked (W6).
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

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CasePage {
    pub items: Vec<CaseListItem>,
    pub next: Option<CaseCursor>,
}

/// One command's events, serialized for the log (callers may do that off the writer).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogRow {
    pub at: Timestamp,
    pub actor_json: String,
    pub kind: &'static str,
    pub events_json: String,
    pub case_events: bool,
}

impl LogRow {
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

/// Reads, on a connection of their own or inside a write transaction.
pub trait ReadTx {
    fn shop(&mut self, id: ShopId) -> Result<Option<ShopRecord>, StoreError>;
    fn address(&mut self, shop: ShopId, id: AddressId) -> Result<Option<Address>, StoreError>;
    fn order(&mut self, id: OrderId) -> Result<Option<Order>, StoreError>;
    fn order_by_no(&mut self, shop: ShopId, order_no: &str) -> Result<Option<Order>, StoreError>;
    fn case(&mut self, id: CaseId) -> Result<Option<Case>, StoreError>;
    /// A case and its order, read together.
    fn case_and_order(&mut self, id: CaseId) -> Result<Option<(Case, Order)>, StoreError>;
    fn case_events(&mut self, id: CaseId) -> Result<Vec<StoredEvent>, StoreError>;
    fn order_events(&mut self, id: OrderId) -> Result<Vec<StoredEvent>, StoreError>;
    fn deadlines_of(&mut self, subject: Subject) -> Result<Vec<DueDeadline>, StoreError>;
    /// Due rows, oldest first.
    fn due_deadlines(&mut self, now: Timestamp, limit: usize) -> Result<Vec<DueDeadline>, StoreError>;
    fn next_due(&mut self) -> Result<Option<Timestamp>, StoreError>;
    /// A value the service keeps for itself (`settings`).
    fn setting(&mut self, key: &str) -> Result<Option<String>, StoreError>;
    fn notices(&mut self, to: Recipient) -> Result<Vec<StoredNotice>, StoreError>;
    /// X1: one page of a message box, newest first.
    fn notices_page(&mut self, to: Recipient, q: &NoticeQuery) -> Result<Vec<StoredNotice>, StoreError>;
    /// X1: unread entries per category.
    fn unread_counts(&mut self, to: Recipient) -> Result<Vec<(String, u64)>, StoreError>;
    /// X2: every SMS recorded, oldest first.
    fn sms_outbox(&mut self) -> Result<Vec<StoredSms>, StoreError>;
    /// X2: SMS not yet handed to the sender, oldest first.
    fn unsent_sms(&mut self, limit: usize) -> Result<Vec<StoredSms>, StoreError>;
    fn penalties(&mut self, shop: ShopId) -> Result<Vec<Penalty>, StoreError>;
    fn queue_counts(&mut self, shop: ShopId) -> Result<Vec<(Queue, u64)>, StoreError>;
    /// Cases of the shop not yet closed (queue other than `closed`).
    fn open_case_ids(&mut self, shop: ShopId) -> Result<Vec<CaseId>, StoreError>;
    /// Orders of the shop still awaiting payment (the only order state with a deadline).
    fn unpaid_order_ids(&mut self, shop: ShopId) -> Result<Vec<OrderId>, StoreError>;
    /// W2: cases matching `q`, a page at a time.
    fn search_cases(&mut self, q: &CaseQuery) -> Result<CasePage, StoreError>;
    fn order_version(&mut self, id: OrderId) -> Result<Option<u64>, StoreError>;
    /// Due rows after `after` in (due, subject, id, kind) order: lets a runner page through
    /// what is due while earlier pages are still being written.
    fn due_deadlines_after(
        &mut self,
        now: Timestamp,
        after: Option<DueDeadline>,
        limit: usize,
    ) -> Result<Vec<DueDeadline>, StoreError>;
    /// (request hash, stored response) for an idempotency key.
    fn idempotency_get(&mut self, key: &str) -> Result<Option<(String, String)>, StoreError>;
    fn shops(&mut self) -> Result<Vec<ShopRecord>, StoreError>;
    /// A buyer's orders, newest first, with ids below `before`.
    fn orders_of_buyer(
        &mut self,
        buyer: BuyerId,
        before: Option<OrderId>,
        limit: usize,
    ) -> Result<Vec<Order>, StoreError>;
    fn addresses(&mut self, shop: ShopId) -> Result<Vec<(Address, bool)>, StoreError>;
    fn user_by_login(&mut self, login: &str) -> Result<Option<UserRecord>, StoreError>;
    fn user_by_id(&mut self, id: i64) -> Result<Option<UserRecord>, StoreError>;
    fn users(&mut self) -> Result<Vec<UserRecord>, StoreError>;
    /// The user of a live session (not expired at `now`).
    fn session_user(&mut self, token_hash: &str, now: Timestamp) -> Result<Option<UserRecord>, StoreError>;
    /// The user of a token not revoked.
    fn token_user(&mut self, token_hash: &str) -> Result<Option<(UserRecord, TokenScope)>, StoreError>;
    fn tokens_of(&mut self, user: i64) -> Result<Vec<TokenRecord>, StoreError>;
    fn templates(&mut self, shop: ShopId) -> Result<Vec<ReplyTemplate>, StoreError>;
    fn evidence_object(&mut self, key: &str) -> Result<Option<EvidenceObject>, StoreError>;
}

/// Writes, only inside `Store::write`.
pub trait WriteTx: ReadTx {
    fn insert_shop(&mut self, name: &str, profile: &str, overrides: &PolicyOverrides) -> Result<ShopId, StoreError>;
    fn update_shop(&mut self, id: ShopId, profile: &str, overrides: &PolicyOverrides) -> Result<bool, StoreError>;
    fn insert_address(&mut self, shop: ShopId, a: &AddressInput) -> Result<AddressId, StoreError>;
    fn next_order_id(&mut self) -> Result<OrderId, StoreError>;
    fn next_case_id(&mut self) -> Result<CaseId, StoreError>;
    /// `json` is the order serialized (callers may do that off the writer).
    fn insert_order(&mut self, order: &Order, json: &str) -> Result<(), StoreError>;
    /// False when the stored version is not `expected` (someone else won); nothing is written.
    fn update_order(&mut self, order: &Order, json: &str, expected: u64) -> Result<bool, StoreError>;
    fn insert_case(&mut self, case: &Case, json: &str, due: Option<Timestamp>) -> Result<(), StoreError>;
    /// `reindex`: whether a column an index covers (kind, status, queue, due time) may have
    /// changed; when false only the state, version and update time are rewritten.
    fn update_case(
        &mut self,
        case: &Case,
        json: &str,
        expected: u64,
        due: Option<Timestamp>,
        reindex: bool,
    ) -> Result<bool, StoreError>;
    /// Appends one command's events to the log as one row.
    fn append_log(&mut self, order: OrderId, case: Option<CaseId>, row: &LogRow) -> Result<(), StoreError>;
    /// Moves the stored deadlines of `subject` from `old` (what the previous state implied) to
    /// `new`: rows whose kind is gone are deleted, new or moved ones are written with `version`.
    fn sync_deadlines(
        &mut self,
        subject: Subject,
        version: u64,
        old: &[Deadline],
        new: &[Deadline],
    ) -> Result<(), StoreError>;
    fn delete_deadline(&mut self, subject: Subject, kind: DeadlineKind) -> Result<(), StoreError>;
    fn insert_outbox(&mut self, case: Option<CaseId>, outbox: &Outbox, at: Timestamp) -> Result<(), StoreError>;
    fn insert_penalty(&mut self, p: &Penalty) -> Result<(), StoreError>;
    /// Marks the recipient's own entries read; returns how many changed.
    fn mark_read(&mut self, to: Recipient, ids: &[i64], at: Timestamp) -> Result<u64, StoreError>;
    fn put_setting(&mut self, key: &str, value: &str) -> Result<(), StoreError>;
    fn mark_sms_sent(&mut self, id: i64, at: Timestamp) -> Result<(), StoreError>;
    fn idempotency_put(
        &mut self,
        key: &str,
        request_hash: &str,
        response: &str,
        at: Timestamp,
    ) -> Result<(), StoreError>;
    /// None when the login is taken.
    fn insert_user(
        &mut self,
        login: &str,
        role: Role,
        shop: Option<ShopId>,
        display_name: &str,
        password_hash: &str,
        at: Timestamp,
    ) -> Result<Option<i64>, StoreError>;
    fn insert_session(
        &mut self,
        token_hash: &str,
        user: i64,
        at: Timestamp,
        expires: Timestamp,
    ) -> Result<(), StoreError>;
    fn delete_session(&mut self, token_hash: &str) -> Result<(), StoreError>;
    fn insert_token(
        &mut self,
        token_hash: &str,
        user: i64,
        name: &str,
        scope: TokenScope,
        at: Timestamp,
    ) -> Result<i64, StoreError>;
    /// Revokes the user's own token; false when there is no such live token of theirs.
    fn revoke_token(&mut self, user: i64, id: i64, at: Timestamp) -> Result<bool, StoreError>;
    fn insert_template(&mut self, shop: ShopId, title: &str, body: &str) -> Result<i64, StoreError>;
    fn delete_template(&mut self, shop: ShopId, id: i64) -> Result<bool, StoreError>;
    fn insert_evidence_object(&mut self, o: &EvidenceObject) -> Result<(), StoreError>;
}

/// A job aborted: its writes are rolled back; the job reports why through its own channel.
#[derive(Debug)]
pub struct Abort;

pub type WriteJob = Box<dyn FnOnce(&mut dyn WriteTx) -> Result<(), Abort> + Send>;

pub trait Store: Send + Sync {
    /// Runs `job` in a write transaction and returns once its commit is durable (or failed).
    fn write(&self, job: WriteJob) -> Result<(), StoreError>;
    /// Runs `f` on a read connection (see `read` for the typed form).
    fn read_dyn(&self, f: &mut dyn FnMut(&mut dyn ReadTx) -> Result<(), StoreError>) -> Result<(), StoreError>;
}

impl dyn Store {
    /// Runs `f` on a read connection and returns its result.
    pub fn read<R>(&self, f: impl FnOnce(&mut dyn ReadTx) -> Result<R, StoreError>) -> Result<R, StoreError> {
        let mut f = Some(f);
        let mut out = None;
        self.read_dyn(&mut |tx| {
            if let Some(f) = f.take() {
                out = Some(f(tx)?);
            }
            Ok(())
        })?;
        out.ok_or(StoreError::Db("read did not run".into()))
    }
}
