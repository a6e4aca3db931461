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
         ORDER BY c.due_at, c.id LIMIT 51",
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

/// Raw ceiling for the command mix: per command, read the case row, rewrite it, append a log
/// row (to a scratch table of the same shape); 64 commands per commit on each of `connections`
/// connections (the server's writers share commits the same way).
pub(crate) fn raw_commands(url: &str, seconds: u64, n: usize, connections: usize) -> Result<f64, String> {
    let until = Instant::now() + Duration::from_secs(seconds);
    let workers: Vec<_> = (0..connections)
        .map(|w| {
            let url = url.to_string();
            std::thread::spawn(move || -> Result<u64, String> {
                let mut c = connect(&url)?;
                c.batch_execute(
                    "CREATE TEMP TABLE bench_events (order_id BIGINT, case_id BIGINT, at BIGINT, actor TEXT, kind TEXT, data TEXT)",
                )
                .map_err(err)?;
                let read = c.prepare("SELECT data, version FROM cases WHERE id = $1 FOR UPDATE").map_err(err)?;
                let write = c
                    .prepare("UPDATE cases SET data = $1, updated_at = $2 WHERE id = $3 AND version = $4")
                    .map_err(err)?;
                let log = c
                    .prepare("INSERT INTO bench_events (order_id, case_id, at, actor, kind, data) VALUES ($1, $1, 0, '{}', 'remark_set', '[]')")
                    .map_err(err)?;
                let (mut done, mut id) = (0u64, 1 + w as i64 * 104_729);
                while Instant::now() < until {
                    let mut tx = c.transaction().map_err(err)?;
                    for _ in 0..64 {
                        id = (id + 7919) % n as i64 + 1;
                        let row = tx.query_one(&read, &[&id]).map_err(err)?;
                        let (data, version): (String, i64) = (row.get(0), row.get(1));
                        tx.execute(&write, &[&data, &version, &id, &version]).map_err(err)?;
                        tx.execute(&log, &[&id]).map_err(err)?;
                        done += 1;
                    }
                    tx.commit().map_err(err)?;
                }
                Ok(done)
            })
        })
        .collect();
    let mut done = 0u64;
    for w in workers {
        done += w.join().map_err(|_| "a raw worker panicked".to_string())??;
    }
    Ok(done as f64 / seconds as f64)
}
