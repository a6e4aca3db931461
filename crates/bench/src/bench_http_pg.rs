//! `aftersale bench-http --database postgres://…`: the same load on PostgreSQL, each phase beside
//! the raw PostgreSQL ceiling for the same statements, measured in the same run.
//!
//! The cases are seeded into SQLite through the engine (as on SQLite) and moved up with the copy
//! `aftersale migrate --from … --to …` runs (`store::copy`), into a schema of its own: tens of
//! millions of cases arrive in minutes, not the hours one engine transaction per case would take
//! on PostgreSQL, and the rows are exactly the rows the engine writes.

use crate::bench::err;
use crate::bench_http::{timed, Phase, Search, SHOP};
use aftersale_core::Timestamp;
use aftersale_engine::store::copy::{self, CopyOptions, CopyOutcome};
use aftersale_engine::store::postgres::fresh_schema;
use std::path::Path;
use std::time::{Duration, Instant};

/// Seeds `n` cases (and the staff token) into a fresh schema of the database at `url`. Returns
/// the schema's URL and the token.
pub(crate) fn seed(dir: &Path, url: &str, n: usize, base: Timestamp) -> Result<(String, String), String> {
    let file = dir.join("seed.db");
    let _ = std::fs::remove_file(&file);
    let t = Instant::now();
    let token = crate::bench_http::seed(&file, n, base)?;
    eprintln!("seeded {n} cases into SQLite in {:.0} s; copying them into PostgreSQL…", t.elapsed().as_secs_f64());
    let schema = fresh_schema(url, "bench_http").map_err(err)?;
    let t = Instant::now();
    let mut shown = 0u64;
    let options = CopyOptions { batch_rows: 10_000, resume: false, max_batches: None };
    let outcome = copy::sqlite_to_postgres(&file, &schema, &options, &mut |p| {
        let tenth = p.done * 10 / p.total.max(1);
        if tenth > shown {
            shown = tenth;
            eprintln!(
                "  {:>3}% ({} of {} rows, {}) {:.0} s",
                tenth * 10,
                p.done,
                p.total,
                p.table,
                t.elapsed().as_secs_f64()
            );
        }
    })
    .map_err(err)?;
    match outcome {
        CopyOutcome::Done(checks) if checks.iter().all(|c| c.matches) => {}
        other => return Err(format!("the copy into PostgreSQL did not verify: {other:?}")),
    }
    eprintln!("copied and verified in {:.0} s", t.elapsed().as_secs_f64());
    let _ = std::fs::remove_file(&file);
    let _ = std::fs::remove_file(dir.join("seed.db-wal"));
    let _ = std::fs::remove_file(dir.join("seed.db-shm"));
    Ok((schema, token))
}

/// A connection with the store's session settings (no parallel workers for short statements).
fn connect(url: &str) -> Result<postgres::Client, String> {
    let mut c = postgres::Client::connect(url, postgres::NoTls).map_err(err)?;
    c.batch_execute("SET max_parallel_workers_per_gather = 0").map_err(err)?;
    Ok(c)
}

/// The store's page query (`search_cases` with a shop and a queue, the queue written into the
/// statement as the store writes it) and its counts query.
const PAGE: &str = "SELECT c.data, o.order_no, o.customer_name, o.customer_phone, o.flag, c.due_at \
     FROM cases c JOIN orders o ON o.id = c.order_id WHERE true AND c.shop_id = $1 AND o.shop_id = $1 \
     AND c.queue = 'refund_only' ORDER BY c.due_at, c.id LIMIT $2";
const COUNTS: &str = "SELECT queue, SUM(n)::bigint FROM (SELECT queue, n FROM queue_counts WHERE shop_id = $1 \
     UNION ALL SELECT queue, d FROM queue_count_deltas WHERE shop_id = $1) t GROUP BY queue";

/// Vacuums and analyses the tables the command phases churn: before the raw reads (the copy
/// leaves no statistics, and the server plans with them) and before the server's phase. Every
/// command phase (the raw loop, which puts back what it changed, and the server's) leaves dead
/// rows, and a database whose autovacuum is off (or has not come round yet) would make each
/// later phase walk the earlier ones'.
pub(crate) fn vacuum(url: &str) -> Result<(), String> {
    let t = Instant::now();
    connect(url)?
        .batch_execute("VACUUM (ANALYZE) cases, orders, events, deadlines, notices, sms_outbox, queue_count_deltas")
        .map_err(err)?;
    eprintln!("vacuumed the command tables in {:.1} s", t.elapsed().as_secs_f64());
    Ok(())
}

/// Raw ceiling for the queue page: the page query and the counts query, `samples` times.
pub(crate) fn raw_page(url: &str, samples: usize) -> Result<Phase, String> {
    let mut c = connect(url)?;
    let (page, counts) = (c.prepare(PAGE).map_err(err)?, c.prepare(COUNTS).map_err(err)?);
    timed(samples as u64, |_| {
        let rows = c.query(&page, &[&SHOP.0, &51i64]).map_err(err)?;
        let n = c.query(&counts, &[&SHOP.0]).map_err(err)?;
        if rows.len() != 51 || n.is_empty() {
            return Err("raw page query returned too little".into());
        }
        Ok(())
    })
}

/// The raw query of a search (the statement the store builds for it), `samples` times.
pub(crate) fn raw_search(url: &str, search: &Search, n: u64, samples: u64) -> Result<Phase, String> {
    let mut c = connect(url)?;
    // As the store plans a search: for its values each time.
    c.batch_execute("SET plan_cache_mode = force_custom_plan").map_err(err)?;
    let sql = format!(
        "SELECT c.data, o.order_no, o.customer_name, o.customer_phone, o.flag, c.due_at \
         FROM cases c JOIN orders o ON o.id = c.order_id WHERE true AND c.shop_id = 1 AND o.shop_id = 1 AND {} \
         LIMIT 51",
        search.pg_sql
    );
    let st = c.prepare(&sql).map_err(err)?;
    timed(samples, |i| {
        let rows = c.query(&st, &[&(search.pg_param)(i, n)]).map_err(err)?;
        if rows.is_empty() {
            return Err(format!("raw search {:?} found nothing", search.label));
        }
        Ok(())
    })
}

/// Raw ceiling for the command mix: per command, the row writes the server makes for it (read
/// from PostgreSQL's statement log): `set_remark` (half the mix) and `post_message` (a quarter)
/// read the case with its order, rewrite the case and append a log row, the message also a
/// notice to the buyer; `refund` (a quarter) rewrites the case with its new status, queue and
/// due time (so its indexes and the count trigger move), rewrites the order, appends a log row,
/// drops the review and reminder deadlines and inserts the settlement one. 64 commands per commit
/// on each of `connections` connections (the server's writers share commits the same way).
///
/// The server runs on these rows afterwards, so what the loop changed is put back once it is
/// timed: the refunded cases and their deadlines restored, its log rows and notices deleted.
pub(crate) fn raw_commands(url: &str, seconds: u64, n: usize, connections: usize) -> Result<f64, String> {
    let until = Instant::now() + Duration::from_secs(seconds);
    let workers: Vec<_> = (0..connections)
        .map(|w| {
            let url = url.to_string();
            std::thread::spawn(move || raw_worker(&url, until, n, w, connections))
        })
        .collect();
    let mut done = 0u64;
    let mut undo = Undo::default();
    for w in workers {
        let (count, u) = w.join().map_err(|_| "a raw worker panicked".to_string())??;
        done += count;
        undo.cases.extend(u.cases);
        undo.events.extend(u.events);
        undo.notices.extend(u.notices);
    }
    let per_s = done as f64 / seconds as f64;
    undo.apply(url)?;
    Ok(per_s)
}

/// A refunded case as it was: id, status, queue, due time, update time, version, data, and its
/// deadline rows (kind, due time, version).
type Before = (i64, String, String, i64, i64, i64, String, Vec<(String, i64, i64)>);

/// What a raw loop changed, to be put back: each refunded case as it was (status, queue, due
/// time, update time, version, data, and its deadline rows), and the ids of the rows it added.
#[derive(Default)]
struct Undo {
    cases: Vec<Before>,
    events: Vec<i64>,
    notices: Vec<i64>,
}

impl Undo {
    fn apply(self, url: &str) -> Result<(), String> {
        let mut c = connect(url)?;
        let mut tx = c.transaction().map_err(err)?;
        for (id, status, queue, due_at, updated_at, version, data, deadlines) in self.cases.iter().rev() {
            tx.execute(
                "UPDATE cases SET status = $2, queue = $3, due_at = $4, updated_at = $5, version = $6, data = $7 \
                 WHERE id = $1",
                &[id, status, queue, due_at, updated_at, version, data],
            )
            .map_err(err)?;
            tx.execute("DELETE FROM deadlines WHERE subject = 'case' AND subject_id = $1", &[id]).map_err(err)?;
            for (kind, due, v) in deadlines {
                tx.execute(
                    "INSERT INTO deadlines (subject, subject_id, kind, due_at, version) VALUES ('case', $1, $2, $3, $4)",
                    &[id, kind, due, v],
                )
                .map_err(err)?;
            }
        }
        tx.execute("DELETE FROM events WHERE id = ANY($1)", &[&self.events]).map_err(err)?;
        tx.execute("DELETE FROM notices WHERE id = ANY($1)", &[&self.notices]).map_err(err)?;
        tx.commit().map_err(err)
    }
}

/// One raw connection's loop (see `raw_commands`); worker `w` of `of` refunds cases of its own.
fn raw_worker(url: &str, until: Instant, n: usize, w: usize, of: usize) -> Result<(u64, Undo), String> {
    let mut c = connect(url)?;
    let mut p = |sql: &str| c.prepare(sql).map_err(err);
    let read =
        p("SELECT c.status, c.queue, c.due_at, c.updated_at, c.version, c.data, o.state, o.flag, o.version, o.data, \
         o.id FROM cases c JOIN orders o ON o.id = c.order_id WHERE c.id = $1 FOR UPDATE")?;
    let rewrite = p("UPDATE cases SET updated_at = $2, version = $3, data = $4 WHERE id = $1")?;
    let moved = p("UPDATE cases SET status = 'refunding', queue = 'in_progress', due_at = $2, updated_at = $3, \
         version = $4, data = $5 WHERE id = $1")?;
    let order = p("UPDATE orders SET state = $2, flag = $3, version = $4, data = $5 WHERE id = $1")?;
    let log = p("INSERT INTO events (order_id, case_id, at, actor, kind, data) \
         VALUES ($1, $2, $3, '{\"role\":\"merchant\",\"shop\":1,\"staff\":1}', $4, $5) RETURNING id")?;
    let notice = p(
        "INSERT INTO notices (recipient, recipient_id, case_id, category, title, body, created_at) \
         VALUES ('buyer', $1, $1, 'message', 'New message on your after-sales case', '您好，已收到', $2) RETURNING id",
    )?;
    let gone = p("DELETE FROM deadlines WHERE subject = 'case' AND subject_id = $1 \
         AND kind IN ('review', 'review_reminder') RETURNING kind, due_at, version")?;
    let settle = p("INSERT INTO deadlines (subject, subject_id, kind, due_at, version) VALUES ('case', $1, 'refund_settle', $2, $3) \
         ON CONFLICT (subject, subject_id, kind) DO UPDATE SET due_at = excluded.due_at, version = excluded.version")?;
    let refunded = "[{\"type\":\"refund_started\",\"amount\":{\"minor\":10000,\"currency\":\"CNY\"},\"settle_at\":2,\"cancels_order\":false}]";
    let (mut done, mut id, mut next_refund) = (0u64, 1 + w as i64 * 104_729, w as i64 + 1);
    let mut undo = Undo::default();
    while Instant::now() < until {
        let mut tx = c.transaction().map_err(err)?;
        for k in 0..64u64 {
            let refund = (done + k) % 4 == 3;
            let case = if refund {
                let case = next_refund;
                // Past the last case it starts again: the undo then holds a case twice, and is
                // applied last entry first, so that the case ends as it was before the first.
                next_refund = if next_refund + of as i64 > n as i64 { w as i64 + 1 } else { next_refund + of as i64 };
                case
            } else {
                id = (id + 7919) % n as i64 + 1;
                id
            };
            let r = tx.query_one(&read, &[&case]).map_err(err)?;
            let (updated_at, version, data, order_id): (i64, i64, String, i64) =
                (r.get(3), r.get(4), r.get(5), r.get(10));
            let at = updated_at + 1;
            let event = if refund {
                tx.execute(&moved, &[&case, &(at + 86_400_000), &at, &(version + 1), &data]).map_err(err)?;
                let (state, flag, v, odata): (String, Option<String>, i64, String) =
                    (r.get(6), r.get(7), r.get(8), r.get(9));
                tx.execute(&order, &[&order_id, &state, &flag, &v, &odata]).map_err(err)?;
                let rows = tx.query(&gone, &[&case]).map_err(err)?;
                tx.execute(&settle, &[&case, &(at + 86_400_000), &(version + 1)]).map_err(err)?;
                let deadlines = rows.iter().map(|d| (d.get(0), d.get(1), d.get(2))).collect();
                undo.cases.push((case, r.get(0), r.get(1), r.get(2), updated_at, version, data, deadlines));
                ("refund_started", refunded.to_string())
            } else {
                // The same data and version written back: a rewrite of the row's size, nothing changed.
                tx.execute(&rewrite, &[&case, &updated_at, &version, &data]).map_err(err)?;
                if (done + k) % 4 == 2 {
                    ("message_posted", "[{\"type\":\"message_posted\",\"text\":\"您好，已收到\"}]".to_string())
                } else {
                    ("case_remark_set", format!("[{{\"type\":\"case_remark_set\",\"text\":\"note {}\"}}]", done + k))
                }
            };
            let row = tx.query_one(&log, &[&order_id, &case, &at, &event.0, &event.1]).map_err(err)?;
            undo.events.push(row.get(0));
            if event.0 == "message_posted" {
                undo.notices.push(tx.query_one(&notice, &[&case, &at]).map_err(err)?.get(0));
            }
        }
        tx.commit().map_err(err)?;
        done += 64;
    }
    Ok((done, undo))
}
