//! What `aftersale bench-http` compares the server with: the same work done on the database
//! directly in the same run (a command's row writes, the queue page's read, each search's query),
//! and the searches it runs.

use crate::bench::{customer, err, three_char_name};
use crate::bench_http::*;
use rusqlite::{params, Connection};
use std::path::Path;
use std::time::{Duration, Instant};

/// Raw ceiling for the command mix: per command, read the case row, update it, append one log
/// row; group-committed 64 at a time (what the server's group commit does under load).
pub(crate) fn raw_commands(path: &Path, seconds: u64, n: usize) -> Result<f64, String> {
    let mut conn = Connection::open(path).map_err(err)?;
    conn.execute_batch("PRAGMA synchronous=FULL; PRAGMA cache_size=-16384;").map_err(err)?;
    // The log rows go to a scratch table of the same shape, dropped afterwards; the case rows are
    // rewritten as they are (same data, same version), so the server later sees a consistent file.
    conn.execute_batch("CREATE TABLE IF NOT EXISTS bench_events AS SELECT * FROM events WHERE 0").map_err(err)?;
    let until = Instant::now() + Duration::from_secs(seconds);
    let mut done = 0usize;
    let mut id = 1i64;
    while Instant::now() < until {
        let tx = conn.transaction().map_err(err)?;
        for _ in 0..64 {
            id = (id + 7919) % n as i64 + 1;
            let (data, version): (String, i64) = tx
                .query_row("SELECT data, version FROM cases WHERE id = ?", [id], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(err)?;
            tx.execute(
                "UPDATE cases SET data = ?, updated_at = ? WHERE id = ? AND version = ?",
                params![data, version, id, version],
            )
            .map_err(err)?;
            tx.execute(
                "INSERT INTO bench_events (order_id, case_id, at, actor, kind, data) VALUES (?, ?, 0, '{}', 'remark_set', '[]')",
                params![id, id],
            )
            .map_err(err)?;
            done += 1;
        }
        tx.commit().map_err(err)?;
    }
    conn.execute_batch("DROP TABLE bench_events").map_err(err)?;
    Ok(done as f64 / seconds as f64)
}

/// Raw ceiling for the queue page: the indexed page query and the counts query.
pub(crate) fn raw_page(path: &Path, samples: usize) -> Result<Phase, String> {
    let conn = Connection::open(path).map_err(err)?;
    conn.execute_batch("PRAGMA cache_size=-16384;").map_err(err)?;
    timed(samples as u64, |_| {
        let mut st = conn
            .prepare_cached(
                "SELECT c.data, o.order_no, o.customer_name, o.customer_phone, o.flag FROM cases c JOIN orders o ON o.id = c.order_id \
                 WHERE c.shop_id = ? AND c.queue = 'refund_only' ORDER BY c.due_at, c.id LIMIT 50",
            )
            .map_err(err)?;
        let rows: Vec<String> =
            st.query_map([SHOP.0], |r| r.get(0)).map_err(err)?.collect::<Result<_, _>>().map_err(err)?;
        let mut counts = conn.prepare_cached("SELECT queue, n FROM queue_counts WHERE shop_id = ?").map_err(err)?;
        let c: Vec<i64> =
            counts.query_map([SHOP.0], |r| r.get(1)).map_err(err)?.collect::<Result<_, _>>().map_err(err)?;
        if rows.len() != 50 || c.is_empty() {
            return Err("raw page query returned too little".into());
        }
        Ok(())
    })
}

/// One search of the W2 filters: its label, the query string for request `i`, and the raw SQL
/// the store runs for it with its parameter for request `i`.
pub(crate) struct Search {
    pub(crate) label: &'static str,
    pub(crate) query: fn(u64, u64) -> String,
    raw_sql: &'static str,
    raw_param: fn(u64, u64) -> String,
    /// On PostgreSQL: the condition the store adds for it with its order (led by the field's
    /// index where the store leads with it), and its parameter.
    pub(crate) pg_sql: &'static str,
    pub(crate) pg_param: fn(u64, u64) -> String,
}

pub(crate) const RAW_HEAD: &str = "SELECT c.data, o.order_no, o.customer_name, o.customer_phone, o.flag, c.due_at FROM cases c JOIN orders o ON o.id = c.order_id WHERE ";

pub(crate) fn id_of(i: u64, n: u64) -> i64 {
    (i.wrapping_mul(2_654_435_761) % n + 1) as i64
}

pub(crate) fn searches() -> Vec<Search> {
    vec![
        Search {
            label: "phone, full number",
            query: |i, n| format!("customer_phone={}", customer(id_of(i, n)).1),
            raw_sql: "c.id IN (SELECT c.id FROM cases c WHERE +c.shop_id = 1 AND c.order_id IN (SELECT id FROM orders WHERE shop_id = 1 AND customer_phone = ?1) ORDER BY +c.due_at, +c.id LIMIT 51) ORDER BY c.due_at, c.id",
            raw_param: |i, n| customer(id_of(i, n)).1,
            pg_sql: "o.customer_phone = $1 ORDER BY c.due_at + 0, c.id",
            pg_param: |i, n| customer(id_of(i, n)).1,
        },
        Search {
            label: "phone, last four digits",
            query: |i, n| format!("customer_phone={}", &customer(id_of(i, n)).1[7..]),
            raw_sql: "c.id IN (SELECT c.id FROM cases c WHERE +c.shop_id = 1 AND c.order_id IN (SELECT id FROM orders INDEXED BY orders_shop_last4 WHERE shop_id = 1 AND substr(customer_phone, -4) = ?1) ORDER BY +c.due_at, +c.id LIMIT 51) ORDER BY c.due_at, c.id",
            raw_param: |i, n| customer(id_of(i, n)).1[7..].to_string(),
            pg_sql: "right(o.customer_phone, 4) = $1 ORDER BY c.due_at + 0, c.id",
            pg_param: |i, n| customer(id_of(i, n)).1[7..].to_string(),
        },
        Search {
            label: "order number prefix",
            query: |i, n| format!("order_no={}", &format!("B{:09}", id_of(i, n))[..8]),
            raw_sql: "c.id IN (SELECT c.id FROM cases c WHERE +c.shop_id = 1 AND c.order_id IN (SELECT id FROM orders WHERE shop_id = 1 AND order_no >= ?1 AND order_no < ?1 || char(1114111)) ORDER BY +c.due_at, +c.id LIMIT 51) ORDER BY c.due_at, c.id",
            raw_param: |i, n| format!("B{:09}", id_of(i, n))[..8].to_string(),
            pg_sql: "o.order_no LIKE $1 ORDER BY c.due_at + 0, c.id",
            pg_param: |i, n| format!("{}%", &format!("B{:09}", id_of(i, n))[..8]),
        },
        Search {
            label: "buyer name contains (3 chars)",
            query: |i, _| format!("customer_name={}", urlencode(&three_char_name(i))),
            raw_sql: "c.id IN (SELECT c.id FROM cases c WHERE +c.shop_id = 1 AND c.order_id IN (SELECT rowid FROM orders_name_fts WHERE orders_name_fts MATCH '\"' || ?1 || '\"') ORDER BY +c.due_at, +c.id LIMIT 51) ORDER BY c.due_at, c.id",
            raw_param: |i, _| three_char_name(i),
            pg_sql: "o.customer_name ILIKE $1 ORDER BY c.due_at + 0, c.id",
            pg_param: |i, _| format!("%{}%", three_char_name(i)),
        },
        Search {
            label: "buyer name contains (2 chars)",
            query: |i, _| format!("customer_name={}", urlencode(&three_char_name(i).chars().skip(1).collect::<String>())),
            raw_sql: "c.shop_id = 1 AND o.customer_name LIKE '%' || ?1 || '%' ORDER BY c.due_at, c.id LIMIT 50",
            raw_param: |i, _| three_char_name(i).chars().skip(1).collect(),
            pg_sql: "name_pairs(o.customer_name) @> ARRAY[lower($1)] ORDER BY c.due_at + 0, c.id",
            pg_param: |i, _| three_char_name(i).chars().skip(1).collect::<String>(),
        },
    ]
}

pub(crate) fn urlencode(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

/// The raw query of a search, `samples` times, on one connection.
pub(crate) fn raw_search(path: &Path, search: &Search, n: u64, samples: u64) -> Result<Phase, String> {
    let conn = Connection::open(path).map_err(err)?;
    conn.execute_batch("PRAGMA cache_size=-16384;").map_err(err)?;
    let sql = format!("{RAW_HEAD}{}", search.raw_sql);
    timed(samples, |i| {
        let mut st = conn.prepare_cached(&sql).map_err(err)?;
        let rows: Vec<String> = st
            .query_map([(search.raw_param)(i, n)], |r| r.get(0))
            .map_err(err)?
            .collect::<Result<_, _>>()
            .map_err(err)?;
        if rows.is_empty() {
            return Err(format!("raw search {:?} found nothing", search.label));
        }
        Ok(())
    })
}
