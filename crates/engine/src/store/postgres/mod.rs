//! PostgreSQL implementation of the store, for several nodes on one database.
//!
//! As on SQLite, writer threads commit jobs in groups (a few per node, each with its own
//! connection and its own queue; the jobs of one order always go to the same writer): a group
//! is one transaction
//! (one commit, one WAL flush) and no job is acknowledged before it commits. Jobs decide before
//! they write, so a refused job leaves the transaction as it was; one that fails after writing
//! rolls it back, and its commit-mates are run again (see `store/group.rs`). Jobs on several nodes meet on row locks: a write transaction reads
//! the order before its cases, `FOR UPDATE`, so whoever comes second sees the first's commit and
//! its version checks decide. Reads run on a small pool of connections, each read one
//! `REPEATABLE READ` snapshot. Every statement is prepared once per connection and kept.
//!
//! A connection that breaks (the server restarted, the connection was terminated) is replaced
//! on the next use; meanwhile callers get `StoreError::Unavailable`, which the API answers with
//! 503 and `Retry-After`.

mod accounts;
mod cases;
mod counts;
mod deadlines;
mod effects;
mod email;
mod events;
mod notices;
mod refunds;
mod shops;
mod sql;
mod webhooks;
mod writer;

pub use counts::fold_counts;
use counts::fold_loop;
pub(crate) use sql::Pg;
use sql::*;

use writer::writer_loop;

use super::group::Job;
use super::*;
use ::postgres::types::ToSql;
pub use ::postgres::NoTls;
use ::postgres::{Client, Row, Statement};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// `cases.due_at` of a case that no deadline governs: it sorts last by time left.
const NO_DEADLINE: i64 = i64::MAX;

/// Embedded migrations, applied in order at open (under an advisory lock: nodes starting
/// together apply each once).
pub const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "init", include_str!("../migrations/postgres/0001_init.sql")),
    (2, "deltas_vacuum", include_str!("../migrations/postgres/0002_deltas_vacuum.sql")),
    (3, "queue_indexes", include_str!("../migrations/postgres/0003_queue_indexes.sql")),
    (4, "fillfactor", include_str!("../migrations/postgres/0004_fillfactor.sql")),
    (5, "name_pairs", include_str!("../migrations/postgres/0005_name_pairs.sql")),
    (6, "domain_events", include_str!("../migrations/postgres/0006_domain_events.sql")),
    (7, "webhooks", include_str!("../migrations/postgres/0007_webhooks.sql")),
    (8, "refunds", include_str!("../migrations/postgres/0008_refunds.sql")),
    (9, "sms_dispatch", include_str!("../migrations/postgres/0009_sms_dispatch.sql")),
    (10, "email", include_str!("../migrations/postgres/0010_email.sql")),
];

/// The advisory lock key migrations run under ("aftersal" in ASCII).
const MIGRATION_LOCK: i64 = 0x6166_7465_7273_616c;

#[derive(Clone, Debug)]
pub struct PgOptions {
    /// Most jobs one commit may carry.
    pub max_batch: usize,
    /// Writer connections, each committing batches of its own (row locks order them).
    pub writers: usize,
    /// Most read connections open at once.
    pub max_readers: usize,
    /// How long opening a connection may take.
    pub connect_timeout: Duration,
    /// How often pending queue-count deltas are folded into the counts.
    pub fold_every: Duration,
}

impl Default for PgOptions {
    fn default() -> Self {
        PgOptions {
            max_batch: 256,
            writers: 4,
            max_readers: 8,
            connect_timeout: Duration::from_secs(5),
            fold_every: Duration::from_millis(500),
        }
    }
}

impl From<::postgres::Error> for StoreError {
    fn from(e: ::postgres::Error) -> Self {
        use ::postgres::error::SqlState;
        let message = match e.as_db_error() {
            Some(db) => format!("{} ({})", db.message(), db.code().code()),
            None => match std::error::Error::source(&e) {
                Some(cause) => format!("{e}: {cause}"),
                None => e.to_string(),
            },
        };
        // Another transaction (of this node or another) holds what this one needs: the same
        // job succeeds, or is refused for what the other committed, when run again.
        let contended = e.code().is_some_and(|c| {
            [
                SqlState::T_R_DEADLOCK_DETECTED,
                SqlState::T_R_SERIALIZATION_FAILURE,
                SqlState::LOCK_NOT_AVAILABLE,
                SqlState::UNIQUE_VIOLATION,
            ]
            .contains(c)
        });
        // The server is away or going away.
        let transient = e.is_closed()
            || e.as_db_error().is_none()
            || e.code().is_some_and(|c| {
                [SqlState::ADMIN_SHUTDOWN, SqlState::CRASH_SHUTDOWN, SqlState::CANNOT_CONNECT_NOW].contains(c)
            });
        if contended {
            StoreError::Contended { message, source: Some(Box::new(e)) }
        } else if transient {
            StoreError::Unavailable { message, source: Some(Box::new(e)) }
        } else {
            StoreError::Db { message, source: Some(Box::new(e)) }
        }
    }
}

/// One connection and the statements prepared on it.
pub(crate) struct Conn {
    client: Client,
    statements: HashMap<String, Statement>,
    /// A writer's read-ahead for its commit group: the documents of the cases its deciding jobs
    /// name, with their orders', by case id (see `begin`). A job's first decision read
    /// takes its case's entry out; emptied as the group ends.
    read_ahead: HashMap<i64, (String, String)>,
    /// The id of the writer's open transaction (see `begin`).
    xid: Option<i64>,
}

impl Conn {
    fn connect(config: &::postgres::Config) -> Result<Conn, StoreError> {
        let mut client = connect(config)?;
        // Short statements on indexes: starting parallel workers costs more than any of them
        // (a generic plan for a page of 50 would otherwise gather from two workers).
        client.batch_execute("SET max_parallel_workers_per_gather = 0")?;
        Ok(Conn { client, statements: HashMap::new(), read_ahead: HashMap::new(), xid: None })
    }

    fn statement(&mut self, sql: &str) -> Result<Statement, StoreError> {
        self.statement_typed(sql, &[])
    }

    /// A statement whose parameters' types are given (as many as it is passed, whether or not
    /// its text refers to each): the rest the server infers.
    fn statement_typed(&mut self, sql: &str, types: &[::postgres::types::Type]) -> Result<Statement, StoreError> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client.prepare_typed(sql, types)?;
        self.statements.insert(sql.to_string(), s.clone());
        Ok(s)
    }
}

/// Opens a connection. Failing to is always "unavailable" (the server is down, refuses
/// connections, or the database is being shut off): the same request may succeed later —
/// except for a database or role that does not exist, or a refused password, which are
/// mistakes to report as they are.
fn connect(config: &::postgres::Config) -> Result<Client, StoreError> {
    use ::postgres::error::SqlState;
    config.connect(NoTls).map_err(|e| {
        let permanent = e.code().is_some_and(|c| {
            [SqlState::INVALID_CATALOG_NAME, SqlState::INVALID_PASSWORD, SqlState::INVALID_AUTHORIZATION_SPECIFICATION]
                .contains(c)
        });
        match StoreError::from(e) {
            StoreError::Db { message, source } if !permanent => StoreError::Unavailable { message, source },
            other => other,
        }
    })
}

/// Parses a `postgres://` URL into a connection configuration.
pub fn config(url: &str, connect_timeout: Duration) -> Result<::postgres::Config, StoreError> {
    let mut config: ::postgres::Config =
        url.parse().map_err(|e: ::postgres::Error| StoreError::db(format!("not a PostgreSQL URL: {e}")))?;
    config.connect_timeout(connect_timeout);
    if config.get_application_name().is_none() {
        config.application_name("aftersale");
    }
    Ok(config)
}

/// Applies the migrations not yet applied; refuses a database whose schema is newer than this
/// binary knows. Returns the versions it applied.
pub fn migrate(client: &mut Client) -> Result<Vec<i64>, StoreError> {
    client.execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])?;
    let result = (|| {
        client.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
        )?;
        let newest: Option<i64> = client.query_one("SELECT MAX(version) FROM schema_migrations", &[])?.get(0);
        let known = MIGRATIONS.last().map_or(0, |m| m.0);
        if let Some(v) = newest.filter(|v| *v > known) {
            return Err(StoreError::db(format!(
                "the database's schema is at version {v}, newer than this binary knows ({known}): run a newer aftersale"
            )));
        }
        let mut applied = Vec::new();
        for (version, name, sql) in MIGRATIONS {
            if newest.is_some_and(|v| v >= *version) {
                continue;
            }
            let mut tx = client.transaction()?;
            tx.batch_execute(sql)?;
            tx.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, (extract(epoch from now()) * 1000)::bigint)",
                &[version, name],
            )?;
            tx.commit()?;
            applied.push(*version);
        }
        Ok(applied)
    })();
    let _ = client.execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK]);
    result
}

/// Makes a schema of its own in the database at `url` and returns the URL that uses it (its
/// search path first): each test, or each benchmark run, gets empty tables in one database.
pub fn fresh_schema(url: &str, prefix: &str) -> Result<String, StoreError> {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let schema =
        format!("{prefix}_{}_{}_{nanos}", std::process::id(), NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    let mut admin = config(url, Duration::from_secs(5))?.connect(NoTls)?;
    // Extensions belong to the whole database: made once, under a lock, before any schema.
    let mut tx = admin.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    tx.batch_execute(&format!("CREATE EXTENSION IF NOT EXISTS pg_trgm; CREATE SCHEMA {schema}"))?;
    tx.commit()?;
    let sep = if url.contains('?') { '&' } else { '?' };
    Ok(format!("{url}{sep}options=-csearch_path%3D{schema},public"))
}

pub struct PgStore {
    config: ::postgres::Config,
    /// The NOTIFY channel of this installation (see `channel_of`).
    channel: String,
    /// One queue per writer thread (empty once closed).
    senders: Mutex<Vec<mpsc::Sender<Job>>>,
    /// The writer the next job without a key goes to (round robin).
    next_writer: std::sync::atomic::AtomicUsize,
    writers: Mutex<Vec<JoinHandle<()>>>,
    folder: Mutex<Option<JoinHandle<()>>>,
    stop: Arc<AtomicBool>,
    readers: Mutex<Readers>,
    reader_freed: Condvar,
    max_readers: usize,
}

#[derive(Default)]
struct Readers {
    idle: Vec<Conn>,
    open: usize,
}

/// How long a read waits for a pooled connection.
const READER_WAIT: Duration = Duration::from_secs(10);

impl PgStore {
    /// Connects, applies migrations and starts the writer. An unreachable server or a bad URL
    /// is an error here, before anything is served.
    pub fn open(url: &str, options: PgOptions) -> Result<PgStore, StoreError> {
        let config = config(url, options.connect_timeout)?;
        let mut first = Conn::connect(&config)?;
        migrate(&mut first.client)?;
        let channel = channel_of(&mut first.client)?;
        let max_batch = options.max_batch.max(1);
        let mut writers = Vec::new();
        let mut senders = Vec::new();
        let mut first = Some(first);
        for i in 0..options.writers.max(1) {
            // A queue per writer: the jobs of one key (an order) always meet in one writer, one
            // after the other, never in two of this node's transactions that could deadlock.
            let (tx, rx) = mpsc::channel::<Job>();
            senders.push(tx);
            let (config, rx, conn, channel) = (config.clone(), rx, first.take(), channel.clone());
            writers.push(
                std::thread::Builder::new()
                    .name(format!("aftersale-pg-writer-{i}"))
                    .spawn(move || writer_loop(conn, config, rx, max_batch, &channel))
                    .map_err(|e| StoreError::db(format!("starting a writer: {e}")))?,
            );
        }
        let stop = Arc::new(AtomicBool::new(false));
        let folder = {
            let (config, stop, every) = (config.clone(), stop.clone(), options.fold_every);
            std::thread::Builder::new()
                .name("aftersale-pg-counts".into())
                .spawn(move || fold_loop(config, stop, every))
                .map_err(|e| StoreError::db(format!("starting the count folder: {e}")))?
        };
        Ok(PgStore {
            config,
            channel,
            senders: Mutex::new(senders),
            next_writer: std::sync::atomic::AtomicUsize::new(0),
            writers: Mutex::new(writers),
            folder: Mutex::new(Some(folder)),
            stop,
            readers: Mutex::new(Readers::default()),
            reader_freed: Condvar::new(),
            max_readers: options.max_readers.max(1),
        })
    }

    fn reader(&self) -> Result<Conn, StoreError> {
        let mut pool = self.readers.lock().map_err(|_| StoreError::WriterGone)?;
        let give_up = Instant::now() + READER_WAIT;
        loop {
            while let Some(c) = pool.idle.pop() {
                if !c.client.is_closed() {
                    return Ok(c);
                }
                pool.open -= 1;
            }
            if pool.open < self.max_readers {
                pool.open += 1;
                break;
            }
            let left = give_up.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(StoreError::Unavailable {
                    message: format!("no read connection came free in {READER_WAIT:?}"),
                    source: None,
                });
            }
            pool = self.reader_freed.wait_timeout(pool, left).map_err(|_| StoreError::WriterGone)?.0;
        }
        drop(pool);
        Conn::connect(&self.config).inspect_err(|_| self.give_back(None))
    }

    /// Returns a connection to the pool (None: it was lost).
    fn give_back(&self, conn: Option<Conn>) {
        if let Ok(mut pool) = self.readers.lock() {
            match conn {
                Some(c) if !c.client.is_closed() => pool.idle.push(c),
                _ => pool.open -= 1,
            }
        }
        self.reader_freed.notify_one();
    }

    /// Runs `f` on a pooled connection outside any transaction.
    fn with_conn<R>(&self, f: impl FnOnce(&mut Conn) -> Result<R, StoreError>) -> Result<R, StoreError> {
        let mut conn = self.reader()?;
        let result = f(&mut conn);
        self.give_back(Some(conn));
        result
    }

    /// Stops the writer after the jobs already queued; later writes fail with `WriterGone`.
    pub fn close(&self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Ok(mut s) = self.senders.lock() {
            s.clear();
        }
        let writers = self.writers.lock().map(|mut w| std::mem::take(&mut *w)).unwrap_or_default();
        for h in writers {
            let _ = h.join();
        }
        if let Some(h) = self.folder.lock().ok().and_then(|mut w| w.take()) {
            let _ = h.join();
        }
    }
}

impl Drop for PgStore {
    fn drop(&mut self) {
        self.close();
        // A client blocks as it closes, which an async runtime's worker may not do: the idle
        // connections are closed on a thread of their own (the store may be dropped anywhere).
        let idle = self.readers.lock().map(|mut p| std::mem::take(&mut p.idle)).unwrap_or_default();
        if !idle.is_empty() {
            let _ = std::thread::spawn(move || drop(idle)).join();
        }
    }
}

impl PgStore {
    /// Queues `job` on the writer of `key` (any writer, in turn, without one).
    fn queue(&self, key: Option<i64>, job: Job) {
        // A job that cannot be queued is dropped with its reply, which then answers `WriterGone`.
        let Ok(guard) = self.senders.lock() else { return };
        if guard.is_empty() {
            return;
        }
        let slot = match key {
            Some(k) => k.unsigned_abs() as usize % guard.len(),
            None => self.next_writer.fetch_add(1, Ordering::Relaxed) % guard.len(),
        };
        let _ = guard[slot].send(job);
    }
}

impl Store for PgStore {
    fn submit(&self, key: Option<i64>, work: WriteJob, reply: Reply) {
        self.queue(key, Job { work, reply, decides: None });
    }

    fn submit_deciding(&self, case: CaseId, work: WriteJob, reply: Reply) {
        self.queue(Some(case.0), Job { work, reply, decides: Some(case.0) });
    }

    fn read_dyn(&self, f: &mut dyn FnMut(&mut dyn ReadTx) -> Result<(), StoreError>) -> Result<(), StoreError> {
        self.with_conn(|conn| {
            conn.client.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")?;
            let result = f(&mut Pg { conn, dirty: false, failed: false, write: false, min_due: None });
            if conn.client.batch_execute("COMMIT").is_err() {
                let _ = conn.client.batch_execute("ROLLBACK");
            }
            result
        })
    }

    /// Each statement on its own (autocommit): two round trips fewer than a snapshot's `BEGIN`
    /// and `COMMIT`, for the decision reads whose versions the writer checks again.
    fn read_latest_dyn(&self, f: &mut dyn FnMut(&mut dyn ReadTx) -> Result<(), StoreError>) -> Result<(), StoreError> {
        self.with_conn(|conn| f(&mut Pg { conn, dirty: false, failed: false, write: false, min_due: None }))
    }

    fn claim_due(&self, now: Timestamp, limit: usize, lease: &Lease) -> Result<Vec<DueDeadline>, StoreError> {
        self.with_conn(|conn| {
            let sql = "UPDATE deadlines d SET lease_owner = $3, lease_until = $4 FROM ( \
                   SELECT subject, subject_id, kind FROM deadlines \
                   WHERE due_at <= $1 AND (lease_until IS NULL OR lease_until <= $5) \
                   ORDER BY due_at, subject, subject_id, kind LIMIT $2 FOR UPDATE SKIP LOCKED) c \
                 WHERE d.subject = c.subject AND d.subject_id = c.subject_id AND d.kind = c.kind \
                 RETURNING d.subject, d.subject_id, d.kind, d.due_at, d.version";
            let st = conn.statement(sql)?;
            let rows =
                conn.client.query(&st, &[&now.0, &(limit as i64), &lease.owner, &lease.until_ms, &lease.now_ms])?;
            let mut out = rows.iter().map(deadline_row).collect::<Result<Vec<_>, _>>()?;
            out.sort_by_key(|d| (d.due, d.subject.kind_str(), d.subject.id(), d.kind));
            Ok(out)
        })
    }

    fn claim_sms(&self, limit: usize, lease: &Lease) -> Result<Vec<StoredSms>, StoreError> {
        self.with_conn(|conn| {
            let sql = format!(
                "UPDATE sms_outbox s SET lease_owner = $2, lease_until = $3 FROM ( \
                   SELECT id FROM sms_outbox WHERE sent_at IS NULL AND failed_at IS NULL AND next_at <= $4 \
                     AND (lease_until IS NULL OR lease_until <= $4) \
                   ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED) c WHERE s.id = c.id RETURNING {}",
                notices::SMS_FIELDS.split(", ").map(|c| format!("s.{c}")).collect::<Vec<_>>().join(", ")
            );
            let st = conn.statement(&sql)?;
            let rows = conn.client.query(&st, &[&(limit as i64), &lease.owner, &lease.until_ms, &lease.now_ms])?;
            let mut out = rows.iter().map(notices::sms_row).collect::<Result<Vec<_>, StoreError>>()?;
            out.sort_by_key(|s| s.id);
            Ok(out)
        })
    }

    fn release_sms(&self, ids: &[i64]) -> Result<(), StoreError> {
        self.with_conn(|conn| {
            let st =
                conn.statement("UPDATE sms_outbox SET lease_owner = NULL, lease_until = NULL WHERE id = ANY($1)")?;
            conn.client.execute(&st, &[&ids])?;
            Ok(())
        })
    }

    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn close(&self) {
        PgStore::close(self)
    }

    fn publish(&self, topic: Topic, payload: &str) -> Result<(), StoreError> {
        self.with_conn(|conn| {
            let st = conn.statement("SELECT pg_notify($1, $2)")?;
            conn.client.execute(&st, &[&self.channel, &format!("{}:{payload}", topic.as_str())])?;
            Ok(())
        })
    }

    fn subscribe(&self) -> Result<Box<dyn Subscription>, StoreError> {
        let mut client = connect(&self.config)?;
        client.batch_execute(&format!("LISTEN \"{}\"", self.channel))?;
        Ok(Box::new(PgSubscription { client: Some(client) }))
    }
}

/// The NOTIFY channel nodes talk on: `aftersale`, then the schema (channels belong to the
/// whole database, and installations in other schemas must not hear one another). A payload is
/// `topic:value`.
fn channel_of(client: &mut Client) -> Result<String, StoreError> {
    let schema: String = client.query_one("SELECT current_schema()::text", &[])?.get(0);
    let safe: String = schema.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    let mut channel = format!("aftersale_{safe}");
    channel.truncate(63);
    Ok(channel)
}

/// A connection of its own that LISTENs.
struct PgSubscription {
    client: Option<Client>,
}

impl Subscription for PgSubscription {
    fn next(&mut self, timeout: Duration) -> Result<Option<(Topic, String)>, StoreError> {
        let Some(client) = self.client.as_mut() else { return Err(StoreError::WriterGone) };
        use ::postgres::fallible_iterator::FallibleIterator;
        let got = client.notifications().timeout_iter(timeout).next();
        match got {
            Ok(Some(n)) => {
                let (topic, value) = n.payload().split_once(':').unwrap_or((n.payload(), ""));
                Ok(Topic::parse(topic).map(|t| (t, value.to_string())))
            }
            Ok(None) if client.is_closed() => {
                Err(StoreError::Unavailable { message: "the listener lost its connection".into(), source: None })
            }
            Ok(None) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

impl Drop for PgSubscription {
    fn drop(&mut self) {
        // Closing blocks; never on an async worker (see `PgStore`'s drop).
        if let Some(c) = self.client.take() {
            let _ = std::thread::spawn(move || drop(c)).join();
        }
    }
}
