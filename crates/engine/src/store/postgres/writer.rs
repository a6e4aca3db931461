//! The writers: each takes the jobs queued for it in groups, runs a group in one transaction
//! and commits it once, answering each job only when the commit is known — looked up by the
//! transaction's id when the connection broke while committing.

use super::*;
use crate::store::group;

/// How long the writer waits before trying a lost connection again.
const RECONNECT_PAUSE: Duration = Duration::from_millis(200);

/// One writer: takes the next group of its queued jobs and commits it (`store/group.rs`).
pub(super) fn writer_loop(
    first: Option<Conn>,
    config: ::postgres::Config,
    rx: mpsc::Receiver<Job>,
    max_batch: usize,
    channel: &str,
) {
    let mut conn = first;
    while let Some(group) = group::take_group(&rx, max_batch) {
        if conn.as_ref().is_none_or(|c| c.client.is_closed()) {
            conn = Conn::connect(&config).ok();
        }
        let Some(c) = conn.as_mut() else {
            for job in group {
                job.reply.send(Err(StoreError::Unavailable {
                    message: "the database cannot be reached".into(),
                    source: None,
                }));
            }
            std::thread::sleep(RECONNECT_PAUSE);
            continue;
        };
        group::commit_group(&mut Writer { conn: c, config: &config, channel }, group);
    }
}

/// A writer's connection, as the group commit drives it.
struct Writer<'a> {
    conn: &'a mut Conn,
    config: &'a ::postgres::Config,
    channel: &'a str,
}

impl group::GroupTx for Writer<'_> {
    fn begin(&mut self, decides: &[i64]) -> Result<(), StoreError> {
        begin(self.conn, decides)
    }

    fn run(&mut self, f: &mut dyn FnMut(&mut dyn WriteTx)) -> group::Marks {
        let mut tx = Pg { conn: self.conn, dirty: false, failed: false, write: true, min_due: None };
        f(&mut tx);
        group::Marks { dirty: tx.dirty, failed: tx.failed, min_due: tx.min_due }
    }

    fn rollback(&mut self) {
        let _ = self.conn.client.batch_execute("ROLLBACK");
        self.conn.read_ahead.clear();
    }

    fn commit(&mut self, min_due: Option<i64>) -> Result<(), StoreError> {
        // A runner whose clock has reached `min_due` is woken when (and only if) this commits,
        // instead of at its next poll; the payload is digits and the channel is made of letters,
        // digits and `_`.
        let channel = self.channel;
        let notify = min_due.map_or(String::new(), |due| format!("SELECT pg_notify('{channel}', 'deadlines:{due}'); "));
        self.conn.read_ahead.clear();
        match self.conn.client.batch_execute(&format!("{notify}COMMIT")) {
            Ok(()) => Ok(()),
            Err(e) => {
                let e = StoreError::from(e);
                if self.conn.client.is_closed() {
                    // The connection broke while committing: the commit may have happened. Find
                    // out before answering (an answer of "nothing changed" invites a retry).
                    commit_outcome(self.conn, self.config, e)
                } else {
                    let _ = self.conn.client.batch_execute("ROLLBACK");
                    Err(e)
                }
            }
        }
    }
}

/// Whether the transaction whose commit broke its connection committed, asked of a new
/// connection (which replaces the broken one) by the transaction's id (`Conn::xid`, taken as it
/// began): committed is success, aborted is `Unavailable` (nothing changed, `cause`), and when
/// neither can be learnt — the server is away, or the old backend has not finished — the
/// outcome is unknown, and said so.
fn commit_outcome(conn: &mut Conn, config: &::postgres::Config, cause: StoreError) -> Result<(), StoreError> {
    let Some(xid) = conn.xid.take() else {
        return Err(StoreError::OutcomeUnknown(format!("no transaction id to look up: {cause}")));
    };
    for _ in 0..25 {
        let status = Conn::connect(config).and_then(|mut fresh| {
            let row = fresh.client.query_one("SELECT pg_xact_status($1::text::xid8)", &[&xid.to_string()])?;
            let status: Option<String> = row.try_get(0)?;
            *conn = fresh;
            Ok(status)
        });
        match status.as_ref().map(|s| s.as_deref()) {
            Ok(Some("committed")) => return Ok(()),
            Ok(Some("aborted")) => return Err(cause),
            // In progress: the old backend is still ending; unreachable: the server may be back soon.
            _ => std::thread::sleep(Duration::from_millis(200)),
        }
    }
    Err(StoreError::OutcomeUnknown(format!("transaction {xid}: {cause}")))
}

/// Opens a group's transaction and reads ahead the cases its deciding jobs name (`cases`),
/// with their orders, in one statement: one round trip for the group instead of one per job.
/// Read without locks, as each job would read them (`case_and_order_to_decide`).
fn begin(conn: &mut Conn, cases: &[i64]) -> Result<(), StoreError> {
    // The transaction's id, assigned now (in the same round trip): if the connection breaks
    // while committing, it tells whether the commit happened (`commit_outcome`).
    conn.xid = None;
    let xid = conn.client.simple_query("BEGIN; SELECT pg_current_xact_id()::text")?;
    conn.xid = xid.iter().find_map(|m| match m {
        ::postgres::SimpleQueryMessage::Row(r) => r.get(0).and_then(|v| v.parse::<i64>().ok()),
        _ => None,
    });
    if cases.is_empty() {
        return Ok(());
    }
    let st = conn.statement(
        "SELECT c.id, c.data, o.data FROM cases c JOIN orders o ON o.id = c.order_id WHERE c.id = ANY($1)",
    )?;
    for r in conn.client.query(&st, &[&cases])? {
        conn.read_ahead.insert(r.try_get(0)?, (r.try_get(1)?, r.try_get(2)?));
    }
    Ok(())
}
