//! Storage behind one interface, split by concern. A use-case runs as one job inside a write
//! transaction (`Store::write`), reading and writing through `WriteTx`; an implementation may put
//! several jobs in one commit (group commit) but acknowledges none before its commit is durable.
//! Reads go through `ReadTx` on their own connection. What is not storage — which deadline rows
//! a state change moves, how a phone is masked in a list — is the engine's, so every backend
//! shares it.
//!
//! Backends: `sqlite` (embedded, the default) and `postgres` (many nodes on one database).

pub mod copy;
mod effects;
mod email;
mod group;
pub mod postgres;
mod records;
mod refunds;
pub mod sqlite;
pub mod url;
mod webhooks;

pub use effects::*;
pub use email::*;
pub use records::*;
pub use refunds::*;
pub use webhooks::*;

use aftersale_core::notice::Outbox;
use aftersale_core::values::*;
use aftersale_core::*;
use thiserror::Error;

/// A backend's own error, kept as the source of a `StoreError`.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

#[derive(Debug, Error)]
pub enum StoreError {
    /// The database refused or failed a statement.
    #[error("database error: {message}")]
    Db {
        message: String,
        #[source]
        source: Option<BoxError>,
    },
    /// The database cannot be reached (connection lost, server down): the same request may
    /// succeed shortly, once the connection is back.
    #[error("the database is unavailable: {message}")]
    Unavailable {
        message: String,
        #[source]
        source: Option<BoxError>,
    },
    /// Another transaction held what this one needed (a deadlock, a serialization failure, a
    /// unique key another transaction wrote at the same time): this job was rolled back alone,
    /// and running it again decides on what the other committed.
    #[error("the database is busy: {message}")]
    Contended {
        message: String,
        #[source]
        source: Option<BoxError>,
    },
    #[error("stored data could not be read: {0}")]
    Corrupt(String),
    /// A conditional write found another version than the one it was decided on (`found` is
    /// None when the row is gone). Nothing was written.
    #[error("{what} {id} is at version {}, not {expected}", found.map_or("none".to_string(), |v| v.to_string()))]
    Conflict { what: &'static str, id: i64, expected: u64, found: Option<u64> },
    #[error("the writer has stopped")]
    WriterGone,
    /// The connection broke while the commit was under way and whether it committed could not
    /// be found out: the change may have been made. Not safe to run again blindly.
    #[error("the commit's outcome is unknown: {0}")]
    OutcomeUnknown(String),
}

impl StoreError {
    /// A failure described by the store itself (no underlying error).
    pub fn db(message: impl Into<String>) -> StoreError {
        StoreError::Db { message: message.into(), source: None }
    }

    /// Whether trying again later may succeed (the database is away, or the writer restarts).
    pub fn is_transient(&self) -> bool {
        matches!(self, StoreError::Unavailable { .. } | StoreError::Contended { .. } | StoreError::WriterGone)
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Corrupt(e.to_string())
    }
}

/// Shops, their address books, reply templates and penalties.
pub trait ShopReads {
    fn shop(&mut self, id: ShopId) -> Result<Option<ShopRecord>, StoreError>;
    fn shops(&mut self) -> Result<Vec<ShopRecord>, StoreError>;
    fn address(&mut self, shop: ShopId, id: AddressId) -> Result<Option<Address>, StoreError>;
    fn addresses(&mut self, shop: ShopId) -> Result<Vec<(Address, bool)>, StoreError>;
    fn templates(&mut self, shop: ShopId) -> Result<Vec<ReplyTemplate>, StoreError>;
    fn penalties(&mut self, shop: ShopId) -> Result<Vec<Penalty>, StoreError>;
}

/// Orders, cases and their logs; queues, counts and search.
pub trait CaseReads {
    fn order(&mut self, id: OrderId) -> Result<Option<Order>, StoreError>;
    fn order_by_no(&mut self, shop: ShopId, order_no: &str) -> Result<Option<Order>, StoreError>;
    fn order_version(&mut self, id: OrderId) -> Result<Option<u64>, StoreError>;
    /// A buyer's orders, newest first, with ids below `before`.
    fn orders_of_buyer(
        &mut self,
        buyer: BuyerId,
        before: Option<OrderId>,
        limit: usize,
    ) -> Result<Vec<Order>, StoreError>;
    /// Orders of the shop still awaiting payment (the only order state with a deadline).
    fn unpaid_order_ids(&mut self, shop: ShopId) -> Result<Vec<OrderId>, StoreError>;
    fn case(&mut self, id: CaseId) -> Result<Option<Case>, StoreError>;
    /// A case and its order, read together.
    fn case_and_order(&mut self, id: CaseId) -> Result<Option<(Case, Order)>, StoreError>;
    /// `case_and_order` for a decision whose write checks the versions it was made on: a
    /// backend may leave out the locks a write transaction's reads otherwise take (the write
    /// takes them), and on a writer may answer the first call for a case from its commit
    /// group's read-ahead (`Store::submit_deciding`: the case as it was when the group began; a
    /// later call for the same case reads it again).
    fn case_and_order_to_decide(&mut self, id: CaseId) -> Result<Option<(Case, Order)>, StoreError> {
        self.case_and_order(id)
    }
    fn case_events(&mut self, id: CaseId) -> Result<Vec<StoredEvent>, StoreError>;
    /// The newest case of each of these orders that has one, with its queue.
    fn latest_cases(&mut self, orders: &[OrderId]) -> Result<Vec<(OrderId, CaseId, Queue)>, StoreError>;
    fn order_events(&mut self, id: OrderId) -> Result<Vec<StoredEvent>, StoreError>;
    /// W1: cases per queue (every queue listed, zero included).
    fn queue_counts(&mut self, shop: ShopId) -> Result<Vec<(Queue, u64)>, StoreError>;
    /// Cases of the shop not yet closed (queue other than `closed`).
    fn open_case_ids(&mut self, shop: ShopId) -> Result<Vec<CaseId>, StoreError>;
    /// W2: cases matching `q`, a page at a time (at most 200 hits; phones whole).
    fn search_cases(&mut self, q: &CaseQuery) -> Result<CaseHits, StoreError>;
}

/// Deadline rows, each written with the change that armed it.
pub trait DeadlineReads {
    fn deadlines_of(&mut self, subject: Subject) -> Result<Vec<DueDeadline>, StoreError>;
    /// Due rows, oldest first.
    fn due_deadlines(&mut self, now: Timestamp, limit: usize) -> Result<Vec<DueDeadline>, StoreError>;
    /// Due rows after `after` in (due, subject, id, kind) order.
    fn due_deadlines_after(
        &mut self,
        now: Timestamp,
        after: Option<DueDeadline>,
        limit: usize,
    ) -> Result<Vec<DueDeadline>, StoreError>;
    fn next_due(&mut self) -> Result<Option<Timestamp>, StoreError>;
}

/// Message boxes (X1) and the SMS outbox (X2).
pub trait NoticeReads {
    fn notices(&mut self, to: Recipient) -> Result<Vec<StoredNotice>, StoreError>;
    /// X1: one page of a message box, newest first.
    fn notices_page(&mut self, to: Recipient, q: &NoticeQuery) -> Result<Vec<StoredNotice>, StoreError>;
    /// X1: unread entries per category.
    fn unread_counts(&mut self, to: Recipient) -> Result<Vec<(String, u64)>, StoreError>;
    /// X2: every SMS recorded, oldest first.
    fn sms_outbox(&mut self) -> Result<Vec<StoredSms>, StoreError>;
    /// X2: SMS not yet handed to the sender, oldest first.
    /// Messages neither sent nor failed, due at `now_ms` (wall clock), oldest first.
    fn unsent_sms(&mut self, limit: usize, now_ms: i64) -> Result<Vec<StoredSms>, StoreError>;
}

/// Accounts, sessions and API tokens.
pub trait AccountReads {
    fn user_by_login(&mut self, login: &str) -> Result<Option<UserRecord>, StoreError>;
    fn user_by_id(&mut self, id: i64) -> Result<Option<UserRecord>, StoreError>;
    fn users(&mut self) -> Result<Vec<UserRecord>, StoreError>;
    /// The user of a live session (not expired at `now`).
    fn session_user(&mut self, token_hash: &str, now: Timestamp) -> Result<Option<UserRecord>, StoreError>;
    /// The user of a token not revoked.
    fn token_user(&mut self, token_hash: &str) -> Result<Option<(UserRecord, TokenScope)>, StoreError>;
    fn tokens_of(&mut self, user: i64) -> Result<Vec<TokenRecord>, StoreError>;
    /// Wrong passwords counted for a login: (how many, since when, wall-clock ms).
    fn login_failures(&mut self, login: &str) -> Result<Option<(u32, i64)>, StoreError>;
}

/// Evidence objects' metadata (the bytes live in the object store).
pub trait EvidenceReads {
    fn evidence_object(&mut self, key: &str) -> Result<Option<EvidenceObject>, StoreError>;
}

/// The service's own values and the idempotency keys it has answered.
pub trait ServiceReads {
    /// A value the service keeps for itself (`settings`).
    fn setting(&mut self, key: &str) -> Result<Option<String>, StoreError>;
    /// (request hash, stored response) for an idempotency key.
    fn idempotency_get(&mut self, key: &str) -> Result<Option<(String, String)>, StoreError>;
}

/// The domain event stream (one stored row per command) and where each consumer of it stands.
pub trait EventReads {
    /// Up to `limit` rows from (`tx`, `id`) on, that row included, in commit order, of `shop`
    /// if named — only rows that every transaction before them has finished: a later read never
    /// finds a row before the last one this read returned. (PostgreSQL numbers rows before
    /// their commit, so a row numbered earlier may commit later; the store returns only rows of
    /// transactions older than every transaction still running — the snapshot's `xmin` —
    /// ordered by transaction, then row. SQLite's one writer commits in row order.)
    fn domain_events_from(
        &mut self,
        tx: i64,
        id: i64,
        shop: Option<ShopId>,
        limit: usize,
    ) -> Result<Vec<StoredPublished>, StoreError>;
    /// Where a consumer stands (None: it has not started).
    fn consumer_position(&mut self, consumer: &str) -> Result<Option<EventPosition>, StoreError>;
}

/// Every read, on a connection of its own or inside a write transaction: one snapshot.
pub trait ReadTx:
    ShopReads
    + CaseReads
    + DeadlineReads
    + NoticeReads
    + AccountReads
    + EvidenceReads
    + ServiceReads
    + EventReads
    + WebhookReads
    + RefundReads
    + EmailReads
{
}
impl<
        T: ShopReads
            + CaseReads
            + DeadlineReads
            + NoticeReads
            + AccountReads
            + EvidenceReads
            + ServiceReads
            + EventReads
            + WebhookReads
            + RefundReads
            + EmailReads,
    > ReadTx for T
{
}

pub trait ShopWrites {
    fn insert_shop(&mut self, name: &str, profile: &str, overrides: &PolicyOverrides) -> Result<ShopId, StoreError>;
    fn update_shop(&mut self, id: ShopId, profile: &str, overrides: &PolicyOverrides) -> Result<bool, StoreError>;
    fn insert_address(&mut self, shop: ShopId, a: &AddressInput) -> Result<AddressId, StoreError>;
    fn insert_template(&mut self, shop: ShopId, title: &str, body: &str) -> Result<i64, StoreError>;
    fn delete_template(&mut self, shop: ShopId, id: i64) -> Result<bool, StoreError>;
    fn insert_penalty(&mut self, p: &Penalty) -> Result<(), StoreError>;
}

/// Orders and cases are written whole: their state as a document (`json`, serialized by the
/// caller, off the writer) beside the columns queues and search read.
pub trait CaseWrites: CaseReads {
    fn next_order_id(&mut self) -> Result<OrderId, StoreError>;
    fn next_case_id(&mut self) -> Result<CaseId, StoreError>;
    fn insert_order(&mut self, order: &Order, json: &str) -> Result<(), StoreError>;
    /// `Conflict` when the stored version is not `expected`; nothing is written then.
    fn update_order(&mut self, order: &Order, json: &str, expected: u64) -> Result<(), StoreError>;
    fn insert_case(&mut self, case: &Case, json: &str, due: Option<Timestamp>) -> Result<(), StoreError>;
    /// `Conflict` when the stored version is not `expected`. `listed_same`: the caller knows
    /// that what lists read (kind, status, queue, due time) did not change, so a backend may
    /// leave its indexes alone.
    fn update_case(
        &mut self,
        case: &Case,
        json: &str,
        expected: u64,
        due: Option<Timestamp>,
        listed_same: bool,
    ) -> Result<(), StoreError>;
    /// Appends one command's events to the log as one row.
    fn append_log(&mut self, order: OrderId, case: Option<CaseId>, row: &LogRow) -> Result<(), StoreError>;
}

pub trait DeadlineWrites {
    /// Writes (or moves) the row of `subject`'s deadline `kind`, for the state at `version`;
    /// a lease on the row ends.
    fn upsert_deadline(&mut self, subject: Subject, d: &Deadline, version: u64) -> Result<(), StoreError>;
    fn delete_deadline(&mut self, subject: Subject, kind: DeadlineKind) -> Result<(), StoreError>;
}

pub trait NoticeWrites {
    fn insert_outbox(&mut self, case: Option<CaseId>, outbox: &Outbox, at: Timestamp) -> Result<(), StoreError>;
    /// Marks the recipient's own entries read; returns how many changed.
    fn mark_read(&mut self, to: Recipient, ids: &[i64], at: Timestamp) -> Result<u64, StoreError>;
    /// Records one send of a message (counted in its attempts) and ends its claim.
    fn finish_sms(&mut self, id: i64, how: &SmsFinish) -> Result<(), StoreError>;
}

pub trait AccountWrites {
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
    /// Counts a wrong password at `now_ms`; a count older than `window_ms` starts again at one
    /// (and counts that old are dropped). Returns the count and since when.
    fn record_login_failure(&mut self, login: &str, now_ms: i64, window_ms: i64) -> Result<(u32, i64), StoreError>;
    fn clear_login_failures(&mut self, login: &str) -> Result<(), StoreError>;
}

pub trait EvidenceWrites {
    fn insert_evidence_object(&mut self, o: &EvidenceObject) -> Result<(), StoreError>;
}

pub trait EventWrites {
    /// Moves a consumer to `position` (written with whatever the consumer did for the events
    /// up to it, so that it acts on each once).
    fn set_consumer_position(&mut self, consumer: &str, position: EventPosition) -> Result<(), StoreError>;
    /// Deletes the oldest rows of the stream, in commit order, up to `limit` of them, as long as
    /// each was written before `before` (it stops at the first that was not: what is left is
    /// always everything after a point). Answers the (tx, id) of the last row deleted and how many
    /// went.
    fn prune_domain_events(&mut self, before: Timestamp, limit: usize) -> Result<Option<(i64, i64, u64)>, StoreError>;
}

pub trait ServiceWrites {
    fn put_setting(&mut self, key: &str, value: &str) -> Result<(), StoreError>;
    /// Keeps `value` under `key` unless a value is there already (one another node may have
    /// written a moment before: the first one written stays); answers whether it was written.
    fn put_setting_if_absent(&mut self, key: &str, value: &str) -> Result<bool, StoreError>;
    fn idempotency_put(
        &mut self,
        key: &str,
        request_hash: &str,
        response: &str,
        at: Timestamp,
    ) -> Result<(), StoreError>;
}

/// Every write, only inside `Store::write`.
pub trait WriteTx:
    ReadTx
    + ShopWrites
    + CaseWrites
    + DeadlineWrites
    + NoticeWrites
    + EffectWrites
    + AccountWrites
    + EvidenceWrites
    + ServiceWrites
    + EventWrites
    + WebhookWrites
    + RefundWrites
    + EmailWrites
{
}
impl<T> WriteTx for T where
    T: ReadTx
        + ShopWrites
        + CaseWrites
        + DeadlineWrites
        + NoticeWrites
        + EffectWrites
        + AccountWrites
        + EvidenceWrites
        + ServiceWrites
        + EventWrites
        + WebhookWrites
        + RefundWrites
        + EmailWrites
{
}

/// A job aborted: its writes are rolled back; the job reports why through its own channel.
#[derive(Debug)]
pub struct Abort;

pub type WriteJob = Box<dyn FnOnce(&mut dyn WriteTx) -> Result<(), Abort> + Send>;

/// Where a write job's outcome goes once its commit is known: `send` is called once, on the
/// writer's thread, so what it does must not block (hand the outcome to a channel). A job
/// dropped without an outcome (its writer stopped) drops its `Reply`, and with it the channel
/// the callback would have answered on: the caller hears that channel close (`WriterGone`).
pub struct Reply(Box<dyn FnOnce(Result<(), StoreError>) + Send>);

impl Reply {
    pub fn new(f: impl FnOnce(Result<(), StoreError>) + Send + 'static) -> Reply {
        Reply(Box::new(f))
    }

    pub fn send(self, outcome: Result<(), StoreError>) {
        (self.0)(outcome)
    }
}

pub trait Store: Send + Sync {
    /// Queues `job` and returns at once; `reply` hears whether it committed. `key` names what
    /// the job is about (an order or a case): a store with several writers runs the jobs of one
    /// key on one writer, so that two of its own transactions never wait on each other for that
    /// key's rows. A store with one writer ignores the key.
    fn submit(&self, key: Option<i64>, job: WriteJob, reply: Reply);
    /// `submit` for a job that decides on `case` (`case_and_order_to_decide`) and writes only at
    /// the versions it decided on, keyed by the case. A store may read the cases of a commit
    /// group's jobs together as the group begins, in one statement, and answer each job's first
    /// read from it: a read a few jobs early, which the write's version checks cover as they
    /// cover another node's commits.
    fn submit_deciding(&self, case: CaseId, job: WriteJob, reply: Reply) {
        self.submit(Some(case.0), job, reply)
    }
    /// Runs `job` in a write transaction about `key` (see `submit`) and returns once its commit
    /// is durable (or failed).
    fn write_keyed(&self, key: Option<i64>, job: WriteJob) -> Result<(), StoreError> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.submit(
            key,
            job,
            Reply::new(move |outcome| {
                let _ = tx.send(outcome);
            }),
        );
        rx.recv().map_err(|_| StoreError::WriterGone)?
    }
    /// Runs `f` on a read connection (see `read` for the typed form).
    fn read_dyn(&self, f: &mut dyn FnMut(&mut dyn ReadTx) -> Result<(), StoreError>) -> Result<(), StoreError>;
    /// `read_dyn` without the promise of one snapshot: each statement reads the latest commit
    /// (a backend may then leave out the transaction around them). For a read whose answer is
    /// checked again where it is used — a decision the writer applies only at the versions it
    /// was decided on.
    fn read_latest_dyn(&self, f: &mut dyn FnMut(&mut dyn ReadTx) -> Result<(), StoreError>) -> Result<(), StoreError> {
        self.read_dyn(f)
    }
    /// Claims up to `limit` rows due at `now` that no live lease holds, under `lease`: until
    /// the lease ends no other claimer gets them. Firing a row rewrites or deletes it, which
    /// ends its lease; a row left as it was (the rules refused it) is claimed again after.
    fn claim_due(&self, now: Timestamp, limit: usize, lease: &Lease) -> Result<Vec<DueDeadline>, StoreError>;
    /// Claims up to `limit` unsent SMS, oldest first, that no live lease holds (the same
    /// pattern as deadlines: marking one sent ends its claim; a failed send is retried after).
    fn claim_sms(&self, limit: usize, lease: &Lease) -> Result<Vec<StoredSms>, StoreError>;
    /// Ends the claims on these SMS (their send failed: the next dispatch tries again).
    fn release_sms(&self, ids: &[i64]) -> Result<(), StoreError>;
    /// Which backend this is ("sqlite", "postgres").
    fn backend(&self) -> &'static str;
    /// Stops the writer after the jobs already queued; later writes fail with `WriterGone`.
    fn close(&self);
    /// Tells every node on this database (this one included) that `topic` changed; delivered
    /// after the caller's own writes have committed. At most once: a node that was not
    /// listening misses it (listeners start over from the database when they reconnect).
    fn publish(&self, topic: Topic, payload: &str) -> Result<(), StoreError>;
    /// Starts listening to what `publish` sends, from any node.
    fn subscribe(&self) -> Result<Box<dyn Subscription>, StoreError>;
}

/// What nodes tell one another.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Topic {
    /// Deadline rows were written; the payload is the earliest due time (ms).
    Deadlines,
    /// The manual clock moved; the payload is its reading (ms).
    Clock,
    /// A session, token or account changed: authentication caches are stale.
    Auth,
    /// A shop's settings changed; the payload is its id.
    Shop,
}

impl Topic {
    pub const ALL: [Topic; 4] = [Topic::Deadlines, Topic::Clock, Topic::Auth, Topic::Shop];
    pub fn as_str(&self) -> &'static str {
        match self {
            Topic::Deadlines => "deadlines",
            Topic::Clock => "clock",
            Topic::Auth => "auth",
            Topic::Shop => "shop",
        }
    }
    pub fn parse(s: &str) -> Option<Topic> {
        Topic::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// One node's ear on the other nodes.
pub trait Subscription: Send {
    /// The next message, or None when `timeout` passed without one. An error means the
    /// subscription broke (the database went away): subscribe again, and treat everything
    /// cached as stale.
    fn next(&mut self, timeout: std::time::Duration) -> Result<Option<(Topic, String)>, StoreError>;
}

/// The in-process bus of a single node (SQLite: one process owns the file).
#[derive(Default)]
pub struct LocalBus {
    listeners: std::sync::Mutex<Vec<std::sync::mpsc::Sender<(Topic, String)>>>,
}

impl LocalBus {
    pub fn publish(&self, topic: Topic, payload: &str) {
        if let Ok(mut l) = self.listeners.lock() {
            l.retain(|s| s.send((topic, payload.to_string())).is_ok());
        }
    }

    pub fn subscribe(&self) -> Box<dyn Subscription> {
        let (tx, rx) = std::sync::mpsc::channel();
        if let Ok(mut l) = self.listeners.lock() {
            l.push(tx);
        }
        Box::new(LocalSubscription(rx))
    }
}

struct LocalSubscription(std::sync::mpsc::Receiver<(Topic, String)>);

impl Subscription for LocalSubscription {
    fn next(&mut self, timeout: std::time::Duration) -> Result<Option<(Topic, String)>, StoreError> {
        match self.0.recv_timeout(timeout) {
            Ok(m) => Ok(Some(m)),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => Ok(None),
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => Err(StoreError::WriterGone),
        }
    }
}

impl dyn Store {
    /// Runs `f` on a read connection and returns its result.
    pub fn read<R>(&self, f: impl FnOnce(&mut dyn ReadTx) -> Result<R, StoreError>) -> Result<R, StoreError> {
        typed(f, |g| self.read_dyn(g))
    }

    /// `read_latest_dyn` with a result: statements that need not share one snapshot.
    pub fn read_latest<R>(&self, f: impl FnOnce(&mut dyn ReadTx) -> Result<R, StoreError>) -> Result<R, StoreError> {
        typed(f, |g| self.read_latest_dyn(g))
    }
}

/// Runs a typed read through one of the untyped entry points.
fn typed<R>(
    f: impl FnOnce(&mut dyn ReadTx) -> Result<R, StoreError>,
    run: impl FnOnce(&mut dyn FnMut(&mut dyn ReadTx) -> Result<(), StoreError>) -> Result<(), StoreError>,
) -> Result<R, StoreError> {
    let mut f = Some(f);
    let mut out = None;
    run(&mut |tx| {
        if let Some(f) = f.take() {
            out = Some(f(tx)?);
        }
        Ok(())
    })?;
    out.ok_or(StoreError::db("read did not run"))
}
