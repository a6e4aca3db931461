//! SQLite (WAL, `synchronous=FULL`) implementation of the store. One writer thread owns the write
//! connection and commits jobs in groups: a group shares one `COMMIT` (one fsync), and no job is
//! acknowledged before that commit returns (the group commit is `store/group.rs`, shared with
//! PostgreSQL; nothing half-written is ever committed). Readers use their own connections,
//! which WAL lets run beside the writer.

use super::group::{self, Job};
use super::*;
use aftersale_core::notice::Outbox;
use rusqlite::{params, Connection, OptionalExtension};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::Mutex;
use std::thread::JoinHandle;

mod accounts;
mod cases;
mod deadlines;
mod email;
mod events;
mod notices;
mod refunds;
mod shops;
mod webhooks;

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        let message = e.to_string();
        StoreError::Db { message, source: Some(Box::new(e)) }
    }
}

/// `cases.due_at` of a case that no deadline governs: it sorts last by time left.
const NO_DEADLINE: i64 = i64::MAX;

/// Embedded migrations, applied in order at open.
pub const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "init", include_str!("../migrations/sqlite/0001_init.sql")),
    (2, "accounts", include_str!("../migrations/sqlite/0002_accounts.sql")),
    (3, "search", include_str!("../migrations/sqlite/0003_search.sql")),
    (4, "settings", include_str!("../migrations/sqlite/0004_settings.sql")),
    (5, "token_scope", include_str!("../migrations/sqlite/0005_token_scope.sql")),
    (6, "buyer_orders", include_str!("../migrations/sqlite/0006_buyer_orders.sql")),
    (7, "login_failures", include_str!("../migrations/sqlite/0007_login_failures.sql")),
    (8, "domain_events", include_str!("../migrations/sqlite/0008_domain_events.sql")),
    (9, "webhooks", include_str!("../migrations/sqlite/0009_webhooks.sql")),
    (10, "refunds", include_str!("../migrations/sqlite/0010_refunds.sql")),
    (11, "sms_dispatch", include_str!("../migrations/sqlite/0011_sms_dispatch.sql")),
    (12, "email", include_str!("../migrations/sqlite/0012_email.sql")),
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
        title_zh: r.get(9)?,
        body_zh: r.get(10)?,
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
    /// Leases of claimed deadline rows, to the wall-clock millisecond they end. One process
    /// writes an SQLite file, so they live in memory: a restart ends them all.
    leases: Mutex<std::collections::HashMap<DueDeadline, i64>>,
    /// The same for SMS being dispatched, by id.
    sms_leases: Mutex<std::collections::HashMap<i64, i64>>,
    bus: LocalBus,
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
        return Err(StoreError::db(format!("could not enable WAL (journal_mode={mode})")));
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
    let newest: Option<i64> = conn.query_row("SELECT MAX(version) FROM schema_migrations", [], |r| r.get(0))?;
    let known = MIGRATIONS.last().map_or(0, |m| m.0);
    if let Some(v) = newest.filter(|v| *v > known) {
        return Err(StoreError::db(format!(
            "the database's schema is at version {v}, newer than this binary knows ({known}): run a newer aftersale"
        )));
    }
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
            std::fs::create_dir_all(dir).map_err(|e| StoreError::db(format!("creating {}: {e}", dir.display())))?;
        }
        let mut conn = Connection::open(&path)?;
        configure(&conn, options.synchronous_full, options.cache_mb)?;
        migrate(&mut conn)?;
        let (tx, rx) = mpsc::channel::<Job>();
        let max_batch = options.max_batch.max(1);
        let writer = std::thread::Builder::new()
            .name("aftersale-writer".into())
            .spawn(move || writer_loop(conn, rx, max_batch))
            .map_err(|e| StoreError::db(format!("starting the writer: {e}")))?;
        Ok(SqliteStore {
            path,
            cache_mb: options.cache_mb,
            sender: Mutex::new(Some(tx)),
            writer: Mutex::new(Some(writer)),
            readers: Mutex::new(Readers::default()),
            reader_freed: std::sync::Condvar::new(),
            max_readers: options.max_readers.max(1),
            leases: Mutex::new(std::collections::HashMap::new()),
            sms_leases: Mutex::new(std::collections::HashMap::new()),
            bus: LocalBus::default(),
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
                return Err(StoreError::db(format!("no read connection came free in {READER_WAIT:?}")));
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
    let mut writer = Writer { conn: &conn };
    while let Some(group) = group::take_group(&rx, max_batch) {
        group::commit_group(&mut writer, group);
    }
}

/// The write connection, as the group commit drives it (`store/group.rs`).
struct Writer<'c> {
    conn: &'c Connection,
}

impl Writer<'_> {
    fn total_changes(&self) -> Option<i64> {
        let mut st = self.conn.prepare_cached("SELECT total_changes()").ok()?;
        st.query_row([], |r| r.get(0)).ok()
    }
}

impl group::GroupTx for Writer<'_> {
    fn begin(&mut self, _decides: &[i64]) -> Result<(), StoreError> {
        Ok(self.conn.execute_batch("BEGIN IMMEDIATE")?)
    }

    fn run(&mut self, f: &mut dyn FnMut(&mut dyn WriteTx)) -> group::Marks {
        // Whether the job changed a row is counted by SQLite itself (`total_changes()`), not
        // left to each write method to say; a count that cannot be read counts as a change.
        let before = self.total_changes();
        let mut tx = Sql { conn: self.conn, dirty: false };
        f(&mut tx);
        let changed = match (before, self.total_changes()) {
            (Some(a), Some(b)) => a != b,
            _ => true,
        };
        // A failed SQLite statement undoes itself and leaves the transaction usable.
        group::Marks { dirty: tx.dirty || changed, failed: false, min_due: None }
    }

    fn rollback(&mut self) {
        let _ = self.conn.execute_batch("ROLLBACK");
    }

    fn commit(&mut self, _min_due: Option<i64>) -> Result<(), StoreError> {
        self.conn.execute_batch("COMMIT").map_err(|e| {
            let _ = self.conn.execute_batch("ROLLBACK");
            StoreError::db(format!("commit failed: {e}"))
        })
    }
}

impl Store for SqliteStore {
    fn submit(&self, _key: Option<i64>, work: WriteJob, reply: Reply) {
        // A job that cannot be queued is dropped with its reply, which then answers `WriterGone`.
        if let Ok(guard) = self.sender.lock() {
            if let Some(sender) = guard.as_ref() {
                let _ = sender.send(Job { work, reply, decides: None });
            }
        }
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

    fn claim_due(&self, now: Timestamp, limit: usize, lease: &Lease) -> Result<Vec<DueDeadline>, StoreError> {
        let mut leases = self.leases.lock().map_err(|_| StoreError::WriterGone)?;
        leases.retain(|_, until| *until > lease.now_ms);
        let mut out = Vec::new();
        let mut cursor = None;
        // Rows still leased are skipped; page on past them (a row keeps its key — subject, kind,
        // due time, version — only until a firing rewrites it).
        while out.len() < limit {
            let mut rows = Vec::new();
            self.read_dyn(&mut |tx| {
                rows = tx.due_deadlines_after(now, cursor, limit)?;
                Ok(())
            })?;
            let Some(last) = rows.last().copied() else { break };
            cursor = Some(last);
            for row in rows {
                if out.len() < limit && !leases.contains_key(&row) {
                    leases.insert(row, lease.until_ms);
                    out.push(row);
                }
            }
        }
        Ok(out)
    }

    fn claim_sms(&self, limit: usize, lease: &Lease) -> Result<Vec<StoredSms>, StoreError> {
        let mut leases = self.sms_leases.lock().map_err(|_| StoreError::WriterGone)?;
        leases.retain(|_, until| *until > lease.now_ms);
        let mut unsent = Vec::new();
        let want = limit.saturating_add(leases.len());
        self.read_dyn(&mut |tx| {
            unsent = tx.unsent_sms(want, lease.now_ms)?;
            Ok(())
        })?;
        let mut out = Vec::new();
        for sms in unsent {
            if out.len() < limit && !leases.contains_key(&sms.id) {
                leases.insert(sms.id, lease.until_ms);
                out.push(sms);
            }
        }
        Ok(out)
    }

    fn release_sms(&self, ids: &[i64]) -> Result<(), StoreError> {
        let mut leases = self.sms_leases.lock().map_err(|_| StoreError::WriterGone)?;
        for id in ids {
            leases.remove(id);
        }
        Ok(())
    }

    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn close(&self) {
        SqliteStore::close(self)
    }

    fn publish(&self, topic: Topic, payload: &str) -> Result<(), StoreError> {
        self.bus.publish(topic, payload);
        Ok(())
    }

    fn subscribe(&self) -> Result<Box<dyn Subscription>, StoreError> {
        Ok(self.bus.subscribe())
    }
}

/// Queries over one connection; used for reads and, inside the writer, for writes.
struct Sql<'c> {
    conn: &'c Connection,
    /// Whether this job has changed anything (an aborted job that has not may share a commit).
    dirty: bool,
}

fn deadline_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(String, i64, String, i64, i64)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

fn to_deadline((s, id, kind, due, version): (String, i64, String, i64, i64)) -> Result<DueDeadline, StoreError> {
    let kind =
        DeadlineKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("unknown deadline kind {kind}")))?;
    Ok(DueDeadline { subject: Subject::from_key(&s, id), kind, due: Timestamp(due), version: version as u64 })
}

impl Sql<'_> {
    fn user_where(&self, clause: &str, v: rusqlite::types::Value) -> Result<Option<UserRecord>, StoreError> {
        let mut st = self.conn.prepare_cached(&format!("{USER_COLUMNS} WHERE {clause}"))?;
        match st.query_row([v], user_row).optional()? {
            Some(u) => Ok(Some(u?)),
            None => Ok(None),
        }
    }

    fn sms(&self, sql: &str, arg: i64) -> Result<Vec<StoredSms>, StoreError> {
        let mut st = self.conn.prepare_cached(sql)?;
        let rows = st.query_map([arg], notices::sms_row)?;
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

/// Statement by statement: in-process, a statement costs no round trip.
impl EffectWrites for Sql<'_> {}
