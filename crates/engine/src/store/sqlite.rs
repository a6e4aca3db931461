//! SQLite (WAL, `synchronous=FULL`) implementation of the store. One writer thread owns the write
//! connection and commits jobs in groups: a group shares one `COMMIT` (one fsync), and no job is
//! acknowledged before that commit returns. A job that fails after writing rolls its group back
//! and every job in it is told so; nothing half-written is ever committed. Readers use
//! their own connections, which WAL lets run beside the writer.

use super::*;
use aftersale_core::notice::Outbox;
use rusqlite::{params, Connection, OptionalExtension};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::Mutex;
use std::thread::JoinHandle;

/// `cases.due_at` of a case that no deadline governs: it sorts last by time left.
const NO_DEADLINE: i64 = i64::MAX;

/// Embedded migrations, applied in order at open.
pub const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "init", include_str!("migrations/sqlite/0001_init.sql")),
    (2, "accounts", include_str!("migrations/sqlite/0002_accounts.sql")),
    (3, "search", include_str!("migrations/sqlite/0003_search.sql")),
    (4, "settings", include_str!("migrations/sqlite/0004_settings.sql")),
    (5, "token_scope", include_str!("migrations/sqlite/0005_token_scope.sql")),
    (6, "buyer_orders", include_str!("migrations/sqlite/0006_buyer_orders.sql")),
];

/// One row of `notices` read in this column order: id, recipient, recipient_id, case_id,
/// category, title, body, created_at, read_at.
fn notice_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredNotice> {
    Ok(StoredNotice {
        id: r.get(0)?,
        recipient: parse_recipient(&r.get::<_, String>(1)?, r.get(2)?),
        case_id: r.get::<_, Option<i64>>(3)?.map(CaseId),
        category: r.get(4)?,
        title: r.get(5)?,
        body: r.get(6)?,
        at: Timestamp(r.get(7)?),
        read: r.get::<_, Option<i64>>(8)?.is_some(),
    })
}

const USER_COLUMNS: &str =
    "SELECT u.id, u.login, u.role, u.shop_id, u.display_name, u.password_hash, u.created_at FROM users u";

/// One `USER_COLUMNS` row; the inner result is the role check.
fn user_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<UserRecord, StoreError>> {
    let role: String = r.get(2)?;
    let Some(role) = Role::parse(&role) else {
        return Ok(Err(StoreError::Corrupt(format!("unknown role {role}"))));
    };
    Ok(Ok(UserRecord {
        id: r.get(0)?,
        login: r.get(1)?,
        role,
        shop_id: r.get::<_, Option<i64>>(3)?.map(ShopId),
        display_name: r.get(4)?,
        password_hash: r.get(5)?,
        created_at: Timestamp(r.get(6)?),
    }))
}

#[derive(Clone, Debug)]
pub struct SqliteOptions {
    /// Most jobs one commit may carry; 1 gives one transaction per command.
    pub max_batch: usize,
    /// `FULL` (default) survives power loss; `NORMAL` only process crashes.
    pub synchronous_full: bool,
    /// Page cache of the write connection, in MiB; each read connection gets a quarter.
    pub cache_mb: u32,
    /// Most read connections open at once; further readers wait for one (opening a connection
    /// per burst would parse the schema again and again, and each holds its own page cache).
    pub max_readers: usize,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions { max_batch: 256, synchronous_full: true, cache_mb: 32, max_readers: 8 }
    }
}

struct Job {
    work: WriteJob,
    reply: mpsc::SyncSender<Result<(), StoreError>>,
}

/// How long a read waits for a connection of the bounded pool (SQLite's busy timeout is the same).
const READER_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

pub struct SqliteStore {
    path: PathBuf,
    cache_mb: u32,
    sender: Mutex<Option<mpsc::Sender<Job>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
    readers: Mutex<Readers>,
    reader_freed: std::sync::Condvar,
    max_readers: usize,
}

/// Idle read connections, and how many exist in all (idle or lent out).
#[derive(Default)]
struct Readers {
    idle: Vec<Connection>,
    open: usize,
}

fn configure(conn: &Connection, full: bool, cache_mb: u32) -> Result<(), StoreError> {
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    // Every statement the store runs stays prepared (the default cache holds only 16).
    conn.set_prepared_statement_cache_capacity(128);
    let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") && !mode.eq_ignore_ascii_case("memory") {
        return Err(StoreError::Db(format!("could not enable WAL (journal_mode={mode})")));
    }
    conn.execute_batch(if full { "PRAGMA synchronous=FULL;" } else { "PRAGMA synchronous=NORMAL;" })?;
    conn.execute_batch(&format!(
        "PRAGMA foreign_keys=OFF; PRAGMA cache_size=-{}; PRAGMA temp_store=MEMORY;",
        u64::from(cache_mb.max(1)) * 1024
    ))?;
    Ok(())
}

/// Applies the migrations not yet applied; returns the versions it applied.
pub fn migrate(conn: &mut Connection) -> Result<Vec<i64>, StoreError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
    )?;
    let mut applied = Vec::new();
    for (version, name, sql) in MIGRATIONS {
        let done: Option<i64> = conn
            .query_row("SELECT version FROM schema_migrations WHERE version = ?", [version], |r| r.get(0))
            .optional()?;
        if done.is_some() {
            continue;
        }
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, strftime('%s','now'))",
            params![version, name],
        )?;
        tx.commit()?;
        applied.push(*version);
    }
    Ok(applied)
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`, applies migrations and starts the writer.
    pub fn open(path: impl AsRef<Path>, options: SqliteOptions) -> Result<SqliteStore, StoreError> {
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Db(format!("creating {}: {e}", dir.display())))?;
        }
        let mut conn = Connection::open(&path)?;
        configure(&conn, options.synchronous_full, options.cache_mb)?;
        migrate(&mut conn)?;
        let (tx, rx) = mpsc::channel::<Job>();
        let max_batch = options.max_batch.max(1);
        let writer = std::thread::Builder::new()
            .name("aftersale-writer".into())
            .spawn(move || writer_loop(conn, rx, max_batch))
            .map_err(|e| StoreError::Db(format!("starting the writer: {e}")))?;
        Ok(SqliteStore {
            path,
            cache_mb: options.cache_mb,
            sender: Mutex::new(Some(tx)),
            writer: Mutex::new(Some(writer)),
            readers: Mutex::new(Readers::default()),
            reader_freed: std::sync::Condvar::new(),
            max_readers: options.max_readers.max(1),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn reader(&self) -> Result<Connection, StoreError> {
        let mut pool = self.readers.lock().map_err(|_| StoreError::WriterGone)?;
        // Waiting for a connection is bounded like SQLite's own busy wait: a reader that does
        // not come free in that time is an overload to report, not a reason to hang.
        let give_up = std::time::Instant::now() + READER_WAIT;
        loop {
            if let Some(c) = pool.idle.pop() {
                return Ok(c);
            }
            if pool.open < self.max_readers {
                pool.open += 1;
                break;
            }
            let left = give_up.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return Err(StoreError::Db(format!("no read connection came free in {READER_WAIT:?}")));
            }
            pool = self.reader_freed.wait_timeout(pool, left).map_err(|_| StoreError::WriterGone)?.0;
        }
        drop(pool);
        match self.open_reader() {
            Ok(c) => Ok(c),
            Err(e) => {
                if let Ok(mut pool) = self.readers.lock() {
                    pool.open -= 1;
                }
                self.reader_freed.notify_one();
                Err(e)
            }
        }
    }

    fn open_reader(&self) -> Result<Connection, StoreError> {
        let conn = Connection::open(&self.path)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.set_prepared_statement_cache_capacity(128);
        conn.execute_batch(&format!("PRAGMA cache_size=-{};", u64::from(self.cache_mb.max(4)) * 256))?;
        Ok(conn)
    }

    /// Stops the writer after the jobs already queued; later writes fail with `WriterGone`.
    pub fn close(&self) {
        if let Ok(mut s) = self.sender.lock() {
            s.take();
        }
        if let Some(h) = self.writer.lock().ok().and_then(|mut w| w.take()) {
            let _ = h.join();
        }
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        self.close();
    }
}

fn writer_loop(conn: Connection, rx: mpsc::Receiver<Job>, max_batch: usize) {
    let mut carried: Vec<Job> = Vec::new();
    loop {
        let mut batch = std::mem::take(&mut carried);
        if batch.is_empty() {
            match rx.recv() {
                Ok(job) => batch.push(job),
                Err(_) => return,
            }
        }
        while batch.len() < max_batch {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
            for job in batch {
                let _ = job.reply.send(Err(StoreError::Db(e.to_string())));
            }
            continue;
        }
        let mut done = Vec::with_capacity(batch.len());
        let mut poisoned: Option<StoreError> = None;
        let mut jobs = batch.into_iter();
        for job in jobs.by_ref() {
            match run_job(&conn, job.work) {
                Ok(()) => done.push(job.reply),
                Err(e) => {
                    // The job wrote and then failed: the whole transaction goes.
                    poisoned = Some(e);
                    let _ = job.reply.send(Err(StoreError::Db("the write failed and was rolled back".into())));
                    break;
                }
            }
        }
        // Jobs not run yet go into the next transaction.
        carried.extend(jobs);
        let outcome = match poisoned {
            Some(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                Err(format!("rolled back with a failed write in the same commit: {e}"))
            }
            None => conn.execute_batch("COMMIT").map_err(|e| {
                let _ = conn.execute_batch("ROLLBACK");
                format!("commit failed: {e}")
            }),
        };
        for reply in done {
            let _ = reply.send(outcome.clone().map_err(StoreError::Db));
        }
    }
}

/// Runs one job. Jobs decide before they write, so an aborted job has usually written nothing
/// and its commit-mates are unaffected; one that wrote and then aborted (or panicked) makes the
/// caller roll the whole transaction back. No savepoints: SQLite would copy every page a job
/// touches into a sub-journal.
fn run_job(conn: &Connection, work: WriteJob) -> Result<(), StoreError> {
    let mut tx = Sql { conn, dirty: false };
    let result = catch_unwind(AssertUnwindSafe(|| work(&mut tx)));
    match result {
        Ok(Ok(())) => Ok(()),
        Ok(Err(Abort)) if !tx.dirty => Ok(()),
        Ok(Err(Abort)) => Err(StoreError::Db("a job failed after writing".into())),
        Err(_) => Err(StoreError::Db("a write job panicked".into())),
    }
}

impl Store for SqliteStore {
    fn write(&self, work: WriteJob) -> Result<(), StoreError> {
        let (reply, wait) = mpsc::sync_channel(1);
        {
            let guard = self.sender.lock().map_err(|_| StoreError::WriterGone)?;
            let sender = guard.as_ref().ok_or(StoreError::WriterGone)?;
            sender.send(Job { work, reply }).map_err(|_| StoreError::WriterGone)?;
        }
        wait.recv().map_err(|_| StoreError::WriterGone)?
    }

    fn read_dyn(&self, f: &mut dyn FnMut(&mut dyn ReadTx) -> Result<(), StoreError>) -> Result<(), StoreError> {
        let conn = self.reader()?;
        // One read transaction: every query in `f` sees the same snapshot, and the WAL read
        // lock is taken once rather than per statement.
        conn.execute_batch("BEGIN")?;
        let result = {
            let mut tx = Sql { conn: &conn, dirty: false };
            f(&mut tx)
        };
        if conn.execute_batch("COMMIT").is_err() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        if let Ok(mut pool) = self.readers.lock() {
            pool.idle.push(conn);
        }
        self.reader_freed.notify_one();
        result
    }
}

/// Queries over one connection; used for reads and, inside the writer, for writes.
struct Sql<'c> {
    conn: &'c Connection,
    /// Whether this job has changed anything (an aborted job that has not may share a commit).
    dirty: bool,
}

fn recipient_cols(r: Recipient) -> (&'static str, i64) {
    match r {
        Recipient::Shop(s) => ("shop", s.0),
        Recipient::Buyer(b) => ("buyer", b.0),
        Recipient::Platform => ("platform", 0),
    }
}

fn parse_recipient(kind: &str, id: i64) -> Recipient {
    match kind {
        "shop" => Recipient::Shop(ShopId(id)),
        "buyer" => Recipient::Buyer(BuyerId(id)),
        _ => Recipient::Platform,
    }
}

fn subject_of(kind: &str, id: i64) -> Subject {
    if kind == "order" {
        Subject::Order(OrderId(id))
    } else {
        Subject::Case(CaseId(id))
    }
}

fn deadline_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(String, i64, String, i64, i64)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

fn to_deadline((s, id, kind, due, version): (String, i64, String, i64, i64)) -> Result<DueDeadline, StoreError> {
    let kind =
        DeadlineKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("unknown deadline kind {kind}")))?;
    Ok(DueDeadline { subject: subject_of(&s, id), kind, due: Timestamp(due), version: version as u64 })
}

impl Sql<'_> {
    fn user_where(&self, clause: &str, v: rusqlite::types::Value) -> Result<Option<UserRecord>, StoreError> {
        let mut st = self.conn.prepare_cached(&format!("{USER_COLUMNS} WHERE {clause}"))?;
        match st.query_row([v], user_row).optional()? {
            Some(u) => Ok(Some(u?)),
            None => Ok(None),
        }
    }

    fn sms(&self, sql: &str, limit: i64) -> Result<Vec<StoredSms>, StoreError> {
        let mut st = self.conn.prepare_cached(sql)?;
        let rows = st.query_map([limit], |r| {
            Ok(StoredSms {
                id: r.get(0)?,
                phone: r.get(1)?,
                text: r.get(2)?,
                case_id: r.get::<_, Option<i64>>(3)?.map(CaseId),
                at: Timestamp(r.get(4)?),
                sent_at: r.get::<_, Option<i64>>(5)?.map(Timestamp),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// One row's JSON column, parsed straight from SQLite's buffer (no copy into a String).
    fn json_row<T: serde::de::DeserializeOwned>(&self, sql: &str, id: i64) -> Result<Option<T>, StoreError> {
        let mut st = self.conn.prepare_cached(sql)?;
        let mut rows = st.query([id])?;
        match rows.next()? {
            Some(row) => {
                let bytes = row.get_ref(0)?.as_bytes().map_err(|e| StoreError::Corrupt(e.to_string()))?;
                Ok(Some(serde_json::from_slice(bytes)?))
            }
            None => Ok(None),
        }
    }

    fn events(&self, sql: &str, id: i64) -> Result<Vec<StoredEvent>, StoreError> {
        let mut st = self.conn.prepare_cached(sql)?;
        let rows = st.query_map([id], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, Option<i64>>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, order_id, case_id, at, actor, data) = row?;
            let actor: Actor = serde_json::from_str(&actor)?;
            let events: Vec<Event> = serde_json::from_str(&data)?;
            for event in events {
                out.push(StoredEvent {
                    id,
                    order_id: OrderId(order_id),
                    case_id: case_id.map(CaseId),
                    recorded: Recorded { at: Timestamp(at), actor, event },
                });
            }
        }
        Ok(out)
    }
}

impl ReadTx for Sql<'_> {
    fn shop(&mut self, id: ShopId) -> Result<Option<ShopRecord>, StoreError> {
        let row = self
            .conn
            .prepare_cached("SELECT name, profile, overrides FROM shops WHERE id = ?")?
            .query_row([id.0], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)))
            .optional()?;
        let Some((name, profile, overrides)) = row else { return Ok(None) };
        let default_address = self
            .conn
            .prepare_cached("SELECT id FROM addresses WHERE shop_id = ? AND is_default = 1")?
            .query_row([id.0], |r| r.get::<_, i64>(0))
            .optional()?;
        let default_address = match default_address {
            Some(a) => self.address(id, AddressId(a))?,
            None => None,
        };
        Ok(Some(ShopRecord { id, name, profile, overrides: serde_json::from_str(&overrides)?, default_address }))
    }

    fn address(&mut self, shop: ShopId, id: AddressId) -> Result<Option<Address>, StoreError> {
        let row = self
            .conn
            .prepare_cached("SELECT name, phone, region, detail FROM addresses WHERE shop_id = ? AND id = ?")?
            .query_row(params![shop.0, id.0], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, String>(3)?))
            })
            .optional()?;
        let Some((name, phone, region, detail)) = row else { return Ok(None) };
        let phone = Phone::parse(&phone).map_err(StoreError::Corrupt)?;
        Ok(Some(Address { id, name, phone, region, detail }))
    }

    fn order(&mut self, id: OrderId) -> Result<Option<Order>, StoreError> {
        self.json_row("SELECT data FROM orders WHERE id = ?", id.0)
    }

    fn order_by_no(&mut self, shop: ShopId, order_no: &str) -> Result<Option<Order>, StoreError> {
        let data = self
            .conn
            .prepare_cached("SELECT data FROM orders WHERE shop_id = ? AND order_no = ?")?
            .query_row(params![shop.0, order_no], |r| r.get::<_, String>(0))
            .optional()?;
        Ok(match data {
            Some(d) => Some(serde_json::from_str(&d)?),
            None => None,
        })
    }

    fn case(&mut self, id: CaseId) -> Result<Option<Case>, StoreError> {
        self.json_row("SELECT data FROM cases WHERE id = ?", id.0)
    }

    fn case_and_order(&mut self, id: CaseId) -> Result<Option<(Case, Order)>, StoreError> {
        let mut st = self
            .conn
            .prepare_cached("SELECT c.data, o.data FROM cases c JOIN orders o ON o.id = c.order_id WHERE c.id = ?")?;
        let mut rows = st.query([id.0])?;
        match rows.next()? {
            Some(row) => {
                let case = row.get_ref(0)?.as_bytes().map_err(|e| StoreError::Corrupt(e.to_string()))?;
                let order = row.get_ref(1)?.as_bytes().map_err(|e| StoreError::Corrupt(e.to_string()))?;
                Ok(Some((serde_json::from_slice(case)?, serde_json::from_slice(order)?)))
            }
            None => Ok(None),
        }
    }

    fn case_events(&mut self, id: CaseId) -> Result<Vec<StoredEvent>, StoreError> {
        self.events("SELECT id, order_id, case_id, at, actor, data FROM events WHERE case_id = ? ORDER BY id", id.0)
    }

    fn order_events(&mut self, id: OrderId) -> Result<Vec<StoredEvent>, StoreError> {
        self.events("SELECT id, order_id, case_id, at, actor, data FROM events WHERE order_id = ? ORDER BY id", id.0)
    }

    fn deadlines_of(&mut self, subject: Subject) -> Result<Vec<DueDeadline>, StoreError> {
        let mut st = self.conn.prepare_cached(
            "SELECT subject, subject_id, kind, due_at, version FROM deadlines WHERE subject = ? AND subject_id = ? ORDER BY due_at",
        )?;
        let rows = st.query_map(params![subject.kind_str(), subject.id()], deadline_row)?;
        rows.map(|r| to_deadline(r?)).collect()
    }

    fn due_deadlines(&mut self, now: Timestamp, limit: usize) -> Result<Vec<DueDeadline>, StoreError> {
        let mut st = self.conn.prepare_cached(
            "SELECT subject, subject_id, kind, due_at, version FROM deadlines WHERE due_at <= ? \
             ORDER BY due_at, subject, subject_id, kind LIMIT ?",
        )?;
        let rows = st.query_map(params![now.0, limit as i64], deadline_row)?;
        rows.map(|r| to_deadline(r?)).collect()
    }

    fn setting(&mut self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT value FROM settings WHERE key = ?")?
            .query_row([key], |r| r.get::<_, String>(0))
            .optional()?)
    }

    fn next_due(&mut self) -> Result<Option<Timestamp>, StoreError> {
        let v: Option<i64> =
            self.conn.prepare_cached("SELECT MIN(due_at) FROM deadlines")?.query_row([], |r| r.get(0))?;
        Ok(v.map(Timestamp))
    }

    fn notices(&mut self, to: Recipient) -> Result<Vec<StoredNotice>, StoreError> {
        let (kind, id) = recipient_cols(to);
        let mut st = self.conn.prepare_cached(
            "SELECT id, recipient, recipient_id, case_id, category, title, body, created_at, read_at FROM notices \
             WHERE recipient = ? AND recipient_id = ? ORDER BY id",
        )?;
        let rows = st.query_map(params![kind, id], notice_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn notices_page(&mut self, to: Recipient, q: &NoticeQuery) -> Result<Vec<StoredNotice>, StoreError> {
        let (kind, id) = recipient_cols(to);
        let mut st = self.conn.prepare_cached(
            "SELECT id, recipient, recipient_id, case_id, category, title, body, created_at, read_at FROM notices \
             WHERE recipient = ?1 AND recipient_id = ?2 AND id < ?3 AND (?4 = 0 OR read_at IS NULL) \
             AND (?5 IS NULL OR category = ?5) ORDER BY id DESC LIMIT ?6",
        )?;
        let before = q.before.unwrap_or(i64::MAX);
        let rows =
            st.query_map(params![kind, id, before, q.unread_only as i64, q.category, q.limit as i64], notice_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn unread_counts(&mut self, to: Recipient) -> Result<Vec<(String, u64)>, StoreError> {
        let (kind, id) = recipient_cols(to);
        let mut st = self.conn.prepare_cached(
            "SELECT category, COUNT(*) FROM notices WHERE recipient = ? AND recipient_id = ? AND read_at IS NULL \
             GROUP BY category ORDER BY category",
        )?;
        let rows = st.query_map(params![kind, id], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn sms_outbox(&mut self) -> Result<Vec<StoredSms>, StoreError> {
        self.sms("SELECT id, phone, text, case_id, created_at, sent_at FROM sms_outbox ORDER BY id LIMIT ?", i64::MAX)
    }

    fn unsent_sms(&mut self, limit: usize) -> Result<Vec<StoredSms>, StoreError> {
        self.sms(
            "SELECT id, phone, text, case_id, created_at, sent_at FROM sms_outbox WHERE sent_at IS NULL ORDER BY id LIMIT ?",
            limit as i64,
        )
    }

    fn penalties(&mut self, shop: ShopId) -> Result<Vec<Penalty>, StoreError> {
        let mut st = self.conn.prepare_cached(
            "SELECT case_id, reason, amount_minor, currency, created_at FROM penalties WHERE shop_id = ? ORDER BY id",
        )?;
        let rows = st.query_map([shop.0], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, i64>(4)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (case_id, reason, minor, currency, at) = row?;
            let currency = Currency::parse(&currency).map_err(StoreError::Corrupt)?;
            out.push(Penalty {
                shop_id: shop,
                case_id: CaseId(case_id),
                reason,
                amount: Money::new(minor, currency).map_err(StoreError::Corrupt)?,
                at: Timestamp(at),
            });
        }
        Ok(out)
    }

    fn queue_counts(&mut self, shop: ShopId) -> Result<Vec<(Queue, u64)>, StoreError> {
        // Kept by triggers (migration 0002): no counting of case rows.
        let mut st = self.conn.prepare_cached("SELECT queue, n FROM queue_counts WHERE shop_id = ?")?;
        let rows = st.query_map([shop.0], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
        let mut counts: Vec<(Queue, u64)> = Queue::ALL.iter().map(|q| (*q, 0)).collect();
        for row in rows {
            let (q, n) = row?;
            if let Some(slot) = counts.iter_mut().find(|(queue, _)| queue.as_str() == q) {
                slot.1 = n as u64;
            }
        }
        Ok(counts)
    }

    fn open_case_ids(&mut self, shop: ShopId) -> Result<Vec<CaseId>, StoreError> {
        let mut st =
            self.conn.prepare_cached("SELECT id FROM cases WHERE shop_id = ? AND queue <> 'closed' ORDER BY id")?;
        let rows = st.query_map([shop.0], |r| r.get::<_, i64>(0))?;
        Ok(rows.map(|r| r.map(CaseId)).collect::<Result<_, _>>()?)
    }

    fn unpaid_order_ids(&mut self, shop: ShopId) -> Result<Vec<OrderId>, StoreError> {
        let mut st = self
            .conn
            .prepare_cached("SELECT id FROM orders WHERE shop_id = ? AND state = 'awaiting_payment' ORDER BY id")?;
        let rows = st.query_map([shop.0], |r| r.get::<_, i64>(0))?;
        Ok(rows.map(|r| r.map(OrderId)).collect::<Result<_, _>>()?)
    }

    fn search_cases(&mut self, q: &CaseQuery) -> Result<CasePage, StoreError> {
        use rusqlite::types::Value;
        const COLUMNS: &str = "SELECT c.data, o.order_no, o.customer_name, o.customer_phone, o.flag, c.due_at, \
                               c.applied_at FROM cases c JOIN orders o ON o.id = c.order_id";
        // With a selective filter (order number, phone, name, case id) the few cases found are
        // sorted: their ids first, from a covering index, and only the page's rows are read
        // whole (late materialisation). Without one, the queue is walked in index order.
        let narrow = q.order_no.is_some()
            || q.customer_phone.is_some()
            || q.case_id.is_some()
            || q.customer_name.as_ref().is_some_and(|n| n.chars().count() >= 3);
        let needs_order = q.flag.is_some() || q.customer_name.as_ref().is_some_and(|n| n.chars().count() < 3);
        let mut sql = match (narrow, needs_order) {
            (false, _) => format!("{COLUMNS} WHERE 1 = 1"),
            (true, false) => "SELECT c.id FROM cases c WHERE 1 = 1".to_string(),
            (true, true) => "SELECT c.id FROM cases c JOIN orders o ON o.id = c.order_id WHERE 1 = 1".to_string(),
        };
        let mut args: Vec<Value> = Vec::new();
        let mut filter = |clause: &str, v: Value| {
            sql.push_str(clause);
            args.push(v);
        };
        // With a selective filter the shop is checked on the few rows found, not walked (`+`).
        if let Some(shop) = q.shop {
            filter(if narrow { " AND +c.shop_id = ?" } else { " AND c.shop_id = ?" }, Value::Integer(shop.0));
        }
        if let Some(buyer) = q.buyer {
            filter(" AND c.buyer_id = ?", Value::Integer(buyer.0));
        }
        if let Some(queue) = q.queue {
            filter(" AND c.queue = ?", Value::Text(queue.as_str().into()));
        }
        if let Some(kind) = q.kind {
            filter(" AND c.kind = ?", Value::Text(kind.as_str().into()));
        }
        if let Some(flag) = q.flag {
            filter(" AND o.flag = ?", Value::Text(flag.as_str().into()));
        }
        if let Some(before) = q.due_before {
            filter(" AND c.due_at <= ?", Value::Integer(before.0));
        }
        // Filters on the order (number, buyer, phone) select few rows: each is a subquery that
        // an index of `orders` (or the trigram index) answers, and the few cases found are then
        // sorted. Within a shop (every merchant's search) the indexes lead with `shop_id`.
        let mut selective: Vec<(String, Vec<Value>)> = Vec::new();
        let shop_cond = |col: &str| match q.shop {
            Some(shop) => (format!("shop_id = ? AND {col}"), vec![Value::Integer(shop.0)]),
            None => (col.to_string(), Vec::new()),
        };
        if let Some(no) = &q.order_no {
            // A prefix: a range on the (shop_id, order_no) index. U+10FFFF sorts after every
            // character that can follow the prefix.
            let (cond, mut vs) = shop_cond("order_no >= ? AND order_no < ?");
            vs.push(Value::Text(no.clone()));
            vs.push(Value::Text(format!("{no}\u{10FFFF}")));
            selective.push((format!(" AND c.order_id IN (SELECT id FROM orders WHERE {cond})"), vs));
        }
        if let Some(name) = q.customer_name.as_ref().filter(|n| n.chars().count() >= 3) {
            // Contains-search through the trigram index (three characters or more).
            let phrase = format!("\"{}\"", name.replace('"', "\"\""));
            selective.push((
                " AND c.order_id IN (SELECT rowid FROM orders_name_fts WHERE orders_name_fts MATCH ?)".into(),
                vec![Value::Text(phrase)],
            ));
        }
        match &q.customer_phone {
            Some(PhoneSearch::Full(phone)) => {
                let (cond, mut vs) = shop_cond("customer_phone = ?");
                vs.push(Value::Text(phone.as_str().into()));
                selective.push((format!(" AND c.order_id IN (SELECT id FROM orders WHERE {cond})"), vs));
            }
            Some(PhoneSearch::LastFour(digits)) => {
                let (cond, mut vs) = shop_cond("substr(customer_phone, -4) = ?");
                vs.push(Value::Text(digits.clone()));
                let index = if q.shop.is_some() { " INDEXED BY orders_shop_last4" } else { "" };
                selective.push((format!(" AND c.order_id IN (SELECT id FROM orders{index} WHERE {cond})"), vs));
            }
            None => {}
        }
        if let Some(id) = q.case_id {
            filter(" AND c.id = ?", Value::Integer(id.0));
        }
        if let Some(name) = q.customer_name.as_ref().filter(|n| n.chars().count() < 3) {
            // Shorter than a trigram: checked on each row as the sort order walks the shop's
            // cases (quick for a common fragment; a scan when it is rare).
            let escaped = name.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
            filter(" AND o.customer_name LIKE ? ESCAPE '\\'", Value::Text(format!("%{escaped}%")));
        }
        if let Some(from) = q.applied_from {
            filter(" AND c.applied_at >= ?", Value::Integer(from.0));
        }
        if let Some(to) = q.applied_to {
            filter(" AND c.applied_at < ?", Value::Integer(to.0));
        }
        for (clause, vs) in selective {
            sql.push_str(&clause);
            args.extend(vs);
        }
        // With a selective filter the few rows found are sorted; `+` keeps the planner from
        // walking the whole queue in index order instead.
        let (key, order) = match (q.sort, narrow) {
            (CaseSort::TimeLeft, false) => ("c.due_at", " ORDER BY c.due_at, c.id"),
            (CaseSort::TimeLeft, true) => ("c.due_at", " ORDER BY +c.due_at, +c.id"),
            (CaseSort::Newest, false) => ("c.applied_at", " ORDER BY c.applied_at DESC, c.id DESC"),
            (CaseSort::Newest, true) => ("c.applied_at", " ORDER BY +c.applied_at DESC, +c.id DESC"),
        };
        if let Some(after) = q.after {
            let cmp = if q.sort == CaseSort::TimeLeft { ">" } else { "<" };
            sql.push_str(&format!(" AND ({key}, c.id) {cmp} (?, ?)"));
            args.push(Value::Integer(after.key));
            args.push(Value::Integer(after.id));
        }
        sql.push_str(order);
        sql.push_str(" LIMIT ?");
        let limit = q.limit.clamp(1, 200);
        args.push(Value::Integer(limit as i64 + 1));
        if narrow {
            let outer_order = match q.sort {
                CaseSort::TimeLeft => " ORDER BY c.due_at, c.id",
                CaseSort::Newest => " ORDER BY c.applied_at DESC, c.id DESC",
            };
            sql = format!("{COLUMNS} WHERE c.id IN ({sql}){outer_order}");
        }
        let mut st = self.conn.prepare_cached(&sql)?;
        let rows = st.query_map(rusqlite::params_from_iter(args), |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, i64>(5)?,
                r.get::<_, i64>(6)?,
            ))
        })?;
        let mut items = Vec::new();
        let mut next = None;
        for row in rows {
            let (data, order_no, customer_name, phone, flag, due, applied) = row?;
            if items.len() == limit {
                next = items.last().map(|i: &CaseListItem| CaseCursor {
                    key: if q.sort == CaseSort::TimeLeft { i.due_key } else { i.case.applied_at.0 },
                    id: i.case.id.0,
                });
                break;
            }
            let _ = applied;
            let phone = Phone::parse(&phone).map_err(StoreError::Corrupt)?;
            items.push(CaseListItem {
                case: serde_json::from_str(&data)?,
                order_no,
                customer_name,
                customer_phone_masked: phone.masked(),
                flag: flag.as_deref().map(Flag::parse).transpose().map_err(StoreError::Corrupt)?,
                due_key: due,
            });
        }
        Ok(CasePage { items, next })
    }

    fn order_version(&mut self, id: OrderId) -> Result<Option<u64>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT version FROM orders WHERE id = ?")?
            .query_row([id.0], |r| r.get::<_, i64>(0))
            .optional()?
            .map(|v| v as u64))
    }

    fn due_deadlines_after(
        &mut self,
        now: Timestamp,
        after: Option<DueDeadline>,
        limit: usize,
    ) -> Result<Vec<DueDeadline>, StoreError> {
        let Some(a) = after else { return self.due_deadlines(now, limit) };
        let mut st = self.conn.prepare_cached(
            "SELECT subject, subject_id, kind, due_at, version FROM deadlines \
             WHERE due_at <= ? AND (due_at, subject, subject_id, kind) > (?, ?, ?, ?) \
             ORDER BY due_at, subject, subject_id, kind LIMIT ?",
        )?;
        let rows = st.query_map(
            params![now.0, a.due.0, a.subject.kind_str(), a.subject.id(), a.kind.as_str(), limit as i64],
            deadline_row,
        )?;
        rows.map(|r| to_deadline(r?)).collect()
    }

    fn idempotency_get(&mut self, key: &str) -> Result<Option<(String, String)>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT request_hash, response FROM idempotency WHERE key = ?")?
            .query_row([key], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?)
    }

    fn orders_of_buyer(
        &mut self,
        buyer: BuyerId,
        before: Option<OrderId>,
        limit: usize,
    ) -> Result<Vec<Order>, StoreError> {
        let mut st = self
            .conn
            .prepare_cached("SELECT data FROM orders WHERE buyer_id = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3")?;
        let rows =
            st.query_map(params![buyer.0, before.map_or(i64::MAX, |o| o.0), limit as i64], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for data in rows {
            out.push(serde_json::from_str(&data?)?);
        }
        Ok(out)
    }

    fn shops(&mut self) -> Result<Vec<ShopRecord>, StoreError> {
        let ids: Vec<i64> = {
            let mut st = self.conn.prepare_cached("SELECT id FROM shops ORDER BY id")?;
            let rows = st.query_map([], |r| r.get::<_, i64>(0))?;
            rows.collect::<Result<_, _>>()?
        };
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(s) = self.shop(ShopId(id))? {
                out.push(s);
            }
        }
        Ok(out)
    }

    fn addresses(&mut self, shop: ShopId) -> Result<Vec<(Address, bool)>, StoreError> {
        let mut st = self.conn.prepare_cached(
            "SELECT id, name, phone, region, detail, is_default FROM addresses WHERE shop_id = ? ORDER BY id",
        )?;
        let rows = st.query_map([shop.0], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, bool>(5)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, name, phone, region, detail, is_default) = row?;
            let phone = Phone::parse(&phone).map_err(StoreError::Corrupt)?;
            out.push((Address { id: AddressId(id), name, phone, region, detail }, is_default));
        }
        Ok(out)
    }

    fn user_by_id(&mut self, id: i64) -> Result<Option<UserRecord>, StoreError> {
        self.user_where("u.id = ?", rusqlite::types::Value::Integer(id))
    }

    fn user_by_login(&mut self, login: &str) -> Result<Option<UserRecord>, StoreError> {
        self.user_where("u.login = ?", rusqlite::types::Value::Text(login.to_string()))
    }

    fn users(&mut self) -> Result<Vec<UserRecord>, StoreError> {
        let mut st = self.conn.prepare_cached(&format!("{USER_COLUMNS} ORDER BY u.id"))?;
        let rows = st.query_map([], user_row)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row??);
        }
        Ok(out)
    }

    fn session_user(&mut self, token_hash: &str, now: Timestamp) -> Result<Option<UserRecord>, StoreError> {
        let mut st = self.conn.prepare_cached(&format!(
            "{USER_COLUMNS} JOIN sessions s ON s.user_id = u.id WHERE s.token_hash = ? AND s.expires_at > ?"
        ))?;
        match st.query_row(params![token_hash, now.0], user_row).optional()? {
            Some(u) => Ok(Some(u?)),
            None => Ok(None),
        }
    }

    fn token_user(&mut self, token_hash: &str) -> Result<Option<(UserRecord, TokenScope)>, StoreError> {
        let mut st = self.conn.prepare_cached(
            "SELECT u.id, u.login, u.role, u.shop_id, u.display_name, u.password_hash, u.created_at, t.scope \
             FROM users u JOIN api_tokens t ON t.user_id = u.id WHERE t.token_hash = ? AND t.revoked_at IS NULL",
        )?;
        let row = st
            .query_row([token_hash], |r| {
                let scope: String = r.get(7)?;
                Ok((user_row(r)?, scope))
            })
            .optional()?;
        match row {
            Some((u, scope)) => Ok(Some((u?, TokenScope::parse(&scope).ok_or(StoreError::Corrupt(scope))?))),
            None => Ok(None),
        }
    }

    fn tokens_of(&mut self, user: i64) -> Result<Vec<TokenRecord>, StoreError> {
        let mut st = self.conn.prepare_cached(
            "SELECT id, name, created_at, revoked_at, scope FROM api_tokens WHERE user_id = ? ORDER BY id",
        )?;
        let rows = st.query_map([user], |r| {
            Ok(TokenRecord {
                id: r.get(0)?,
                user_id: user,
                name: r.get(1)?,
                created_at: Timestamp(r.get(2)?),
                revoked_at: r.get::<_, Option<i64>>(3)?.map(Timestamp),
                scope: TokenScope::parse(&r.get::<_, String>(4)?).unwrap_or(TokenScope::Full),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn templates(&mut self, shop: ShopId) -> Result<Vec<ReplyTemplate>, StoreError> {
        let mut st =
            self.conn.prepare_cached("SELECT id, title, body FROM reply_templates WHERE shop_id = ? ORDER BY id")?;
        let rows = st.query_map([shop.0], |r| {
            Ok(ReplyTemplate { id: r.get(0)?, shop_id: shop, title: r.get(1)?, body: r.get(2)? })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn evidence_object(&mut self, key: &str) -> Result<Option<EvidenceObject>, StoreError> {
        let row = self
            .conn
            .prepare_cached(
                "SELECT uploader, shop_id, buyer_id, kind, content_type, size, sha256, created_at \
                 FROM evidence_objects WHERE key = ?",
            )?
            .query_row([key], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, Option<i64>>(1)?,
                    r.get::<_, Option<i64>>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, i64>(5)?,
                    r.get::<_, String>(6)?,
                    r.get::<_, i64>(7)?,
                ))
            })
            .optional()?;
        let Some((uploader, shop, buyer, kind, content_type, size, sha256, at)) = row else { return Ok(None) };
        let kind: EvidenceKind = serde_json::from_value(serde_json::Value::String(kind))?;
        Ok(Some(EvidenceObject {
            key: key.to_string(),
            uploader,
            shop_id: shop.map(ShopId),
            buyer_id: buyer.map(BuyerId),
            kind,
            content_type,
            size: size as u64,
            sha256,
            created_at: Timestamp(at),
        }))
    }
}

impl WriteTx for Sql<'_> {
    fn insert_shop(&mut self, name: &str, profile: &str, overrides: &PolicyOverrides) -> Result<ShopId, StoreError> {
        self.dirty = true;
        self.conn
            .prepare_cached("INSERT INTO shops (name, profile, overrides, created_at) VALUES (?, ?, ?, 0)")?
            .execute(params![name, profile, serde_json::to_string(overrides)?])?;
        Ok(ShopId(self.conn.last_insert_rowid()))
    }

    fn update_shop(&mut self, id: ShopId, profile: &str, overrides: &PolicyOverrides) -> Result<bool, StoreError> {
        let n = self
            .conn
            .prepare_cached("UPDATE shops SET profile = ?, overrides = ? WHERE id = ?")?
            .execute(params![profile, serde_json::to_string(overrides)?, id.0])?;
        self.dirty |= n > 0;
        Ok(n == 1)
    }

    fn insert_address(&mut self, shop: ShopId, a: &AddressInput) -> Result<AddressId, StoreError> {
        self.dirty = true;
        if a.is_default {
            self.conn.prepare_cached("UPDATE addresses SET is_default = 0 WHERE shop_id = ?")?.execute([shop.0])?;
        }
        self.conn
            .prepare_cached(
                "INSERT INTO addresses (shop_id, name, phone, region, detail, is_default) VALUES (?, ?, ?, ?, ?, ?)",
            )?
            .execute(params![shop.0, a.name, a.phone.as_str(), a.region, a.detail, a.is_default as i64])?;
        Ok(AddressId(self.conn.last_insert_rowid()))
    }

    fn next_order_id(&mut self) -> Result<OrderId, StoreError> {
        let v: i64 =
            self.conn.prepare_cached("SELECT COALESCE(MAX(id), 0) + 1 FROM orders")?.query_row([], |r| r.get(0))?;
        Ok(OrderId(v))
    }

    fn next_case_id(&mut self) -> Result<CaseId, StoreError> {
        let v: i64 =
            self.conn.prepare_cached("SELECT COALESCE(MAX(id), 0) + 1 FROM cases")?.query_row([], |r| r.get(0))?;
        Ok(CaseId(v))
    }

    fn insert_order(&mut self, o: &Order, json: &str) -> Result<(), StoreError> {
        self.dirty = true;
        self.conn
            .prepare_cached(
                "INSERT INTO orders (id, shop_id, buyer_id, order_no, state, flag, customer_name, customer_phone, created_at, version, data) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )?
            .execute(params![
                o.id.0,
                o.shop_id.0,
                o.buyer_id.0,
                o.order_no,
                o.state.as_str(),
                o.flag.map(|f| f.as_str()),
                o.customer.name,
                o.customer.phone.as_str(),
                o.created_at.0,
                o.version as i64,
                json
            ])?;
        Ok(())
    }

    fn update_order(&mut self, o: &Order, json: &str, expected: u64) -> Result<bool, StoreError> {
        let n = self
            .conn
            .prepare_cached(
                "UPDATE orders SET state = ?, flag = ?, version = ?, data = ? WHERE id = ? AND version = ?",
            )?
            .execute(params![
                o.state.as_str(),
                o.flag.map(|f| f.as_str()),
                o.version as i64,
                json,
                o.id.0,
                expected as i64
            ])?;
        self.dirty |= n > 0;
        Ok(n == 1)
    }

    fn insert_case(&mut self, c: &Case, json: &str, due: Option<Timestamp>) -> Result<(), StoreError> {
        self.dirty = true;
        self.conn
            .prepare_cached(
                "INSERT INTO cases (id, order_id, shop_id, buyer_id, kind, status, queue, due_at, applied_at, updated_at, version, data) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )?
            .execute(params![
                c.id.0,
                c.order_id.0,
                c.shop_id.0,
                c.buyer_id.0,
                c.kind.as_str(),
                c.status.as_str(),
                c.queue().as_str(),
                due.map_or(NO_DEADLINE, |d| d.0),
                c.applied_at.0,
                c.status_since.0,
                c.version as i64,
                json
            ])?;
        Ok(())
    }

    fn update_case(
        &mut self,
        c: &Case,
        json: &str,
        expected: u64,
        due: Option<Timestamp>,
        reindex: bool,
    ) -> Result<bool, StoreError> {
        let n = if reindex {
            self.conn
                .prepare_cached(
                    "UPDATE cases SET kind = ?, status = ?, queue = ?, due_at = ?, updated_at = ?, version = ?, data = ? \
                     WHERE id = ? AND version = ?",
                )?
                .execute(params![
                    c.kind.as_str(),
                    c.status.as_str(),
                    c.queue().as_str(),
                    due.map_or(NO_DEADLINE, |d| d.0),
                    c.status_since.0,
                    c.version as i64,
                    json,
                    c.id.0,
                    expected as i64
                ])?
        } else {
            // No indexed column changes: SQLite then leaves every index of the table alone.
            self.conn
                .prepare_cached("UPDATE cases SET version = ?, data = ? WHERE id = ? AND version = ?")?
                .execute(params![c.version as i64, json, c.id.0, expected as i64])?
        };
        self.dirty |= n > 0;
        Ok(n == 1)
    }

    fn append_log(&mut self, order: OrderId, case: Option<CaseId>, row: &LogRow) -> Result<(), StoreError> {
        self.dirty = true;
        let case_id = if row.case_events { case.map(|c| c.0) } else { None };
        self.conn
            .prepare_cached("INSERT INTO events (order_id, case_id, at, actor, kind, data) VALUES (?, ?, ?, ?, ?, ?)")?
            .execute(params![order.0, case_id, row.at.0, row.actor_json, row.kind, row.events_json])?;
        Ok(())
    }

    fn sync_deadlines(
        &mut self,
        subject: Subject,
        version: u64,
        old: &[Deadline],
        new: &[Deadline],
    ) -> Result<(), StoreError> {
        // Measured: a delete and an insert cost less than an update of the key's `kind`.
        for o in old {
            if !new.iter().any(|d| d.kind == o.kind) {
                self.delete_deadline(subject, o.kind)?;
            }
        }
        for d in new {
            if old.contains(d) {
                continue;
            }
            self.dirty = true;
            self.conn
                .prepare_cached(
                    "INSERT INTO deadlines (subject, subject_id, kind, due_at, version) VALUES (?, ?, ?, ?, ?) \
                     ON CONFLICT (subject, subject_id, kind) DO UPDATE SET due_at = excluded.due_at, version = excluded.version",
                )?
                .execute(params![subject.kind_str(), subject.id(), d.kind.as_str(), d.due.0, version as i64])?;
        }
        Ok(())
    }

    fn delete_deadline(&mut self, subject: Subject, kind: DeadlineKind) -> Result<(), StoreError> {
        self.dirty = true;
        self.conn
            .prepare_cached("DELETE FROM deadlines WHERE subject = ? AND subject_id = ? AND kind = ?")?
            .execute(params![subject.kind_str(), subject.id(), kind.as_str()])?;
        Ok(())
    }

    fn insert_outbox(&mut self, case: Option<CaseId>, outbox: &Outbox, at: Timestamp) -> Result<(), StoreError> {
        self.dirty = true;
        let mut st = self.conn.prepare_cached(
            "INSERT INTO notices (recipient, recipient_id, case_id, category, title, body, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        )?;
        for n in &outbox.notices {
            let (kind, id) = recipient_cols(n.recipient);
            st.execute(params![kind, id, case.map(|c| c.0), n.category.as_str(), n.title, n.body, at.0])?;
        }
        let mut st = self
            .conn
            .prepare_cached("INSERT INTO sms_outbox (phone, text, case_id, created_at) VALUES (?, ?, ?, ?)")?;
        for s in &outbox.sms {
            st.execute(params![s.phone.as_str(), s.text, case.map(|c| c.0), at.0])?;
        }
        Ok(())
    }

    fn insert_penalty(&mut self, p: &Penalty) -> Result<(), StoreError> {
        self.dirty = true;
        self.conn
            .prepare_cached(
                "INSERT INTO penalties (shop_id, case_id, reason, amount_minor, currency, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            )?
            .execute(params![p.shop_id.0, p.case_id.0, p.reason, p.amount.minor(), p.amount.currency().as_str(), p.at.0])?;
        Ok(())
    }

    fn put_setting(&mut self, key: &str, value: &str) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )?
            .execute(params![key, value])?;
        Ok(())
    }

    fn mark_read(&mut self, to: Recipient, ids: &[i64], at: Timestamp) -> Result<u64, StoreError> {
        let (kind, rid) = recipient_cols(to);
        let mut st = self.conn.prepare_cached(
            "UPDATE notices SET read_at = ? WHERE id = ? AND recipient = ? AND recipient_id = ? AND read_at IS NULL",
        )?;
        let mut n = 0;
        for id in ids {
            n += st.execute(params![at.0, id, kind, rid])? as u64;
        }
        self.dirty |= n > 0;
        Ok(n)
    }

    fn mark_sms_sent(&mut self, id: i64, at: Timestamp) -> Result<(), StoreError> {
        self.dirty = true;
        self.conn.prepare_cached("UPDATE sms_outbox SET sent_at = ? WHERE id = ?")?.execute(params![at.0, id])?;
        Ok(())
    }

    fn idempotency_put(
        &mut self,
        key: &str,
        request_hash: &str,
        response: &str,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        self.dirty = true;
        self.conn
            .prepare_cached("INSERT INTO idempotency (key, request_hash, response, created_at) VALUES (?, ?, ?, ?)")?
            .execute(params![key, request_hash, response, at.0])?;
        Ok(())
    }

    fn insert_user(
        &mut self,
        login: &str,
        role: Role,
        shop: Option<ShopId>,
        display_name: &str,
        password_hash: &str,
        at: Timestamp,
    ) -> Result<Option<i64>, StoreError> {
        let n = self
            .conn
            .prepare_cached(
                "INSERT INTO users (login, role, shop_id, display_name, password_hash, created_at) \
                 VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (login) DO NOTHING",
            )?
            .execute(params![login, role.as_str(), shop.map(|s| s.0), display_name, password_hash, at.0])?;
        if n == 0 {
            return Ok(None);
        }
        self.dirty = true;
        Ok(Some(self.conn.last_insert_rowid()))
    }

    fn insert_session(
        &mut self,
        token_hash: &str,
        user: i64,
        at: Timestamp,
        expires: Timestamp,
    ) -> Result<(), StoreError> {
        self.dirty = true;
        self.conn
            .prepare_cached("INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)")?
            .execute(params![token_hash, user, at.0, expires.0])?;
        Ok(())
    }

    fn delete_session(&mut self, token_hash: &str) -> Result<(), StoreError> {
        self.dirty = true;
        self.conn.prepare_cached("DELETE FROM sessions WHERE token_hash = ?")?.execute([token_hash])?;
        Ok(())
    }

    fn insert_token(
        &mut self,
        token_hash: &str,
        user: i64,
        name: &str,
        scope: TokenScope,
        at: Timestamp,
    ) -> Result<i64, StoreError> {
        self.dirty = true;
        self.conn
            .prepare_cached(
                "INSERT INTO api_tokens (token_hash, user_id, name, created_at, scope) VALUES (?, ?, ?, ?, ?)",
            )?
            .execute(params![token_hash, user, name, at.0, scope.as_str()])?;
        Ok(self.conn.last_insert_rowid())
    }

    fn revoke_token(&mut self, user: i64, id: i64, at: Timestamp) -> Result<bool, StoreError> {
        let n = self
            .conn
            .prepare_cached("UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND user_id = ? AND revoked_at IS NULL")?
            .execute(params![at.0, id, user])?;
        self.dirty |= n > 0;
        Ok(n == 1)
    }

    fn insert_template(&mut self, shop: ShopId, title: &str, body: &str) -> Result<i64, StoreError> {
        self.dirty = true;
        self.conn
            .prepare_cached("INSERT INTO reply_templates (shop_id, title, body) VALUES (?, ?, ?)")?
            .execute(params![shop.0, title, body])?;
        Ok(self.conn.last_insert_rowid())
    }

    fn delete_template(&mut self, shop: ShopId, id: i64) -> Result<bool, StoreError> {
        let n = self
            .conn
            .prepare_cached("DELETE FROM reply_templates WHERE shop_id = ? AND id = ?")?
            .execute(params![shop.0, id])?;
        self.dirty |= n > 0;
        Ok(n == 1)
    }

    fn insert_evidence_object(&mut self, o: &EvidenceObject) -> Result<(), StoreError> {
        self.dirty = true;
        let kind = serde_json::to_value(o.kind)?;
        self.conn
            .prepare_cached(
                "INSERT INTO evidence_objects (key, uploader, shop_id, buyer_id, kind, content_type, size, sha256, \
                 created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )?
            .execute(params![
                o.key,
                o.uploader,
                o.shop_id.map(|s| s.0),
                o.buyer_id.map(|b| b.0),
                kind.as_str().unwrap_or("image"),
                o.content_type,
                o.size as i64,
                o.sha256,
                o.created_at.0
            ])?;
        Ok(())
    }
}
