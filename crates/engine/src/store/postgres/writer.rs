//! The writers: each takes the jobs queued for it in groups, runs a group in one transaction
//! and commits it once, answering each job only when the commit is known — looked up by the
//! transaction's id when the connection broke while committing.

use super::*;

/// How long the writer waits before trying a lost connection again.
const RECONNECT_PAUSE: Duration = Duration::from_millis(200);

/// One writer: takes the next batch of its queued jobs and commits it.
pub(super) fn writer_loop(
    first: Option<Conn>,
    config: ::postgres::Config,
    rx: mpsc::Receiver<Job>,
    max_batch: usize,
    channel: &str,
) {
    let mut conn = first;
    loop {
        let batch = {
            let Ok(job) = rx.recv() else { return };
            let mut batch = vec![job];
            while batch.len() < max_batch {
                match rx.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
            batch
        };
        if conn.as_ref().is_none_or(|c| c.client.is_closed()) {
            conn = Conn::connect(&config).ok();
        }
        let Some(c) = conn.as_mut() else {
            for job in batch {
                job.reply.send(Err(StoreError::Unavailable {
                    message: "the database cannot be reached".into(),
                    source: None,
                }));
            }
            std::thread::sleep(RECONNECT_PAUSE);
            continue;
        };
        run_batch(c, &config, batch, channel);
    }
}

/// One transaction for the batch; replies once the commit is known.
///
/// No savepoints: a savepoint per job would cost a round trip per job, and past 64 of them in
/// one transaction every other backend's snapshot overflows into `pg_subtrans`. Jobs decide
/// before they write, so a job that is refused has usually written nothing and leaves the
/// transaction as it was. A job that wrote and then failed, or whose statement failed (which
/// aborts a PostgreSQL transaction), takes the transaction down with it: it is rolled back, the
/// job hears its own error, the jobs that ran before it in the same transaction hear
/// `Contended` (the engine runs them again, unacknowledged until then), and the jobs after it
/// go on in a new transaction.
fn run_batch(conn: &mut Conn, config: &::postgres::Config, batch: Vec<Job>, channel: &str) {
    let mut done: Vec<Reply> = Vec::with_capacity(batch.len());
    let mut min_due: Option<i64> = None;
    let mut open = false;
    // Read ahead in the group's first transaction only: after a rollback the jobs left read
    // their cases themselves.
    let mut ahead: Vec<i64> = batch.iter().filter_map(|j| j.decides).collect();
    conn.read_ahead.clear();
    let mut jobs = batch.into_iter();
    while let Some(job) = jobs.next() {
        if !open {
            if let Err(e) = begin(conn, &std::mem::take(&mut ahead)) {
                // The connection broke (or the read-ahead failed): nothing of this batch commits,
                // and every job hears so.
                let _ = conn.client.batch_execute("ROLLBACK");
                for reply in std::iter::once(job.reply).chain(jobs.map(|j| j.reply)) {
                    reply.send(Err(copy_error(&e)));
                }
                return;
            }
            open = true;
        }
        let (outcome, job_due, dirty, failed) = {
            let mut tx = Pg { conn, dirty: false, failed: false, write: true, min_due: None };
            let out = catch_unwind(AssertUnwindSafe(|| (job.work)(&mut tx)));
            (out, tx.min_due, tx.dirty, tx.failed)
        };
        let clean = !failed && (!dirty || matches!(outcome, Ok(Ok(()))));
        if clean {
            match outcome {
                Ok(Ok(())) => {
                    min_due = match (min_due, job_due) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    };
                    done.push(job.reply);
                }
                // Refused before writing: it has told its caller why; nothing to undo.
                Ok(Err(Abort)) => {
                    job.reply.send(Ok(()));
                }
                Err(_) => {
                    job.reply.send(Err(StoreError::db("a write job panicked")));
                }
            }
            continue;
        }
        let _ = conn.client.batch_execute("ROLLBACK");
        conn.read_ahead.clear();
        open = false;
        min_due = None;
        job.reply.send(match outcome {
            // A refusal after writing: the job's own error is with its caller.
            Ok(Err(Abort)) => Ok(()),
            Ok(Ok(())) => Err(StoreError::db("a statement of the job failed and the job went on")),
            Err(_) => Err(StoreError::db("a write job panicked")),
        });
        for reply in done.drain(..) {
            reply.send(Err(StoreError::Contended {
                message: "a job committed together with this one failed, and the commit was rolled back".into(),
                source: None,
            }));
        }
    }
    if !open {
        return;
    }
    // A runner whose clock has reached `min_due` is woken when (and only if) this commits,
    // instead of at its next poll; the payload is digits and the channel is made of letters,
    // digits and `_`.
    let notify = min_due.map_or(String::new(), |due| format!("SELECT pg_notify('{channel}', 'deadlines:{due}'); "));
    conn.read_ahead.clear();
    let outcome = match conn.client.batch_execute(&format!("{notify}COMMIT")) {
        Ok(()) => Ok(()),
        Err(e) => {
            let e = StoreError::from(e);
            if conn.client.is_closed() {
                // The connection broke while committing: the commit may have happened. Find out
                // before answering (an answer of "nothing changed" invites a retry).
                commit_outcome(conn, config, e)
            } else {
                let _ = conn.client.batch_execute("ROLLBACK");
                Err(e)
            }
        }
    };
    for reply in done {
        reply.send(match &outcome {
            Ok(()) => Ok(()),
            Err(e) => Err(copy_error(e)),
        });
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

/// A copy of an error for each job of a failed batch (the source stays with the first).
fn copy_error(e: &StoreError) -> StoreError {
    if let StoreError::OutcomeUnknown(m) = e {
        StoreError::OutcomeUnknown(m.clone())
    } else if e.is_transient() {
        StoreError::Unavailable { message: e.to_string(), source: None }
    } else {
        StoreError::db(e.to_string())
    }
}
