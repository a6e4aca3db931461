//! Moving up: copies a whole SQLite database into PostgreSQL, table by table in key order, a
//! batch per transaction. Re-running after an interruption carries on after the last key each
//! table has in the target (rows are inserted `ON CONFLICT DO NOTHING`, so a batch cut off
//! half-way is simply written again). At the end the id sequences are moved past the copied ids,
//! the queue counts are recounted, and every table is verified: the same number of rows and the
//! same SHA-256 over its rows, read back from both databases in the same order.

use super::postgres;
use super::StoreError;
use ::postgres::types::ToSql;
use rusqlite::types::ValueRef;
use sha2::{Digest, Sha256};
use std::path::Path;

mod tables;
use tables::*;
use Col::*;

/// One value read from either database.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Val {
    Null,
    Int(i64),
    Text(String),
}

impl Val {
    /// The canonical form the checksum hashes (the same on both sides).
    fn feed(&self, h: &mut Sha256) {
        match self {
            Val::Null => h.update(b"\x00N"),
            Val::Int(i) => h.update(format!("\x00I{i}").as_bytes()),
            Val::Text(t) => {
                h.update(format!("\x00T{}:", t.len()).as_bytes());
                h.update(t.as_bytes());
            }
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct CopyOptions {
    /// Rows per transaction on the target.
    pub batch_rows: usize,
    /// Copy into a target that already has rows (a re-run after an interruption).
    pub resume: bool,
    /// Stop after this many batches (the rest is copied by a later run with `resume`).
    pub max_batches: Option<usize>,
}

/// How far a copy is; `done == total` at the end.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    pub table: &'static str,
    pub done: u64,
    pub total: u64,
}

/// One table's verification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableCheck {
    pub table: &'static str,
    pub rows: u64,
    pub sha256: String,
    pub matches: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CopyOutcome {
    /// Every row copied and verified.
    Done(Vec<TableCheck>),
    /// Stopped after `max_batches`; run again with `resume`.
    Paused { copied: u64, total: u64 },
}

fn sqlite_err(e: rusqlite::Error) -> StoreError {
    StoreError::from(e)
}

fn select(t: &Table, after: bool) -> String {
    let cols: Vec<&str> = t.columns.iter().map(|c| c.0).collect();
    let key: Vec<&str> = cols[..t.key].to_vec();
    let cond = if after {
        let marks: Vec<String> = (1..=t.key).map(|i| format!("?{i}")).collect();
        format!(" WHERE ({}) > ({})", key.join(", "), marks.join(", "))
    } else {
        String::new()
    };
    let limit = if after { t.key + 1 } else { 1 };
    format!("SELECT {} FROM {}{cond} ORDER BY {} LIMIT ?{limit}", cols.join(", "), t.name, key.join(", "))
}

fn read_sqlite(row: &rusqlite::Row<'_>, t: &Table) -> Result<Vec<Val>, StoreError> {
    let mut out = Vec::with_capacity(t.columns.len());
    for (i, _) in t.columns.iter().enumerate() {
        out.push(match row.get_ref(i).map_err(sqlite_err)? {
            ValueRef::Null => Val::Null,
            ValueRef::Integer(n) => Val::Int(n),
            ValueRef::Real(f) => Val::Text(f.to_string()),
            ValueRef::Text(b) | ValueRef::Blob(b) => Val::Text(String::from_utf8_lossy(b).into_owned()),
        });
    }
    Ok(out)
}

fn read_pg(row: &::postgres::Row, t: &Table) -> Result<Vec<Val>, StoreError> {
    let mut out = Vec::with_capacity(t.columns.len());
    for (i, (_, col)) in t.columns.iter().enumerate() {
        out.push(match col {
            Int | IntOrNull => row.try_get::<_, Option<i64>>(i)?.map_or(Val::Null, Val::Int),
            Text | TextOrNull => row.try_get::<_, Option<String>>(i)?.map_or(Val::Null, Val::Text),
            Bool => row.try_get::<_, Option<bool>>(i)?.map_or(Val::Null, |b| Val::Int(b as i64)),
        });
    }
    Ok(out)
}

fn to_param(v: &Val, col: Col) -> Box<dyn ToSql + Sync> {
    match (v, col) {
        (Val::Int(n), Bool) => Box::new(*n != 0),
        (Val::Int(n), _) => Box::new(*n),
        (Val::Text(s), _) => Box::new(s.clone()),
        (Val::Null, Int | IntOrNull) => Box::new(None::<i64>),
        (Val::Null, Bool) => Box::new(None::<bool>),
        (Val::Null, _) => Box::new(None::<String>),
    }
}

/// Every row of a table on the PostgreSQL side, in the key order of SQLite's (binary) text.
fn pg_select_all(t: &Table) -> String {
    let cols: Vec<&str> = t.columns.iter().map(|c| c.0).collect();
    let order: Vec<String> = t.columns[..t.key]
        .iter()
        .map(|(c, ty)| if matches!(ty, Text | TextOrNull) { format!("{c} COLLATE \"C\"") } else { c.to_string() })
        .collect();
    format!("SELECT {} FROM {} ORDER BY {}", cols.join(", "), t.name, order.join(", "))
}

/// Copies the SQLite database at `from` into the PostgreSQL database at `to`.
pub fn sqlite_to_postgres(
    from: &Path,
    to: &str,
    options: &CopyOptions,
    progress: &mut dyn FnMut(&Progress),
) -> Result<CopyOutcome, StoreError> {
    if !from.is_file() {
        return Err(StoreError::db(format!("{}: no such SQLite database", from.display())));
    }
    let mut src = rusqlite::Connection::open(from).map_err(sqlite_err)?;
    // The source is brought to this binary's schema first (refused if it is newer).
    super::sqlite::migrate(&mut src)?;
    let mut dst = postgres::config(to, std::time::Duration::from_secs(5))?.connect(::postgres::NoTls)?;
    postgres::migrate(&mut dst)?;
    let batch = options.batch_rows.clamp(1, 50_000) as i64;
    let mut totals = Vec::with_capacity(TABLES.len());
    let mut target_rows = 0u64;
    for t in TABLES {
        let n: i64 =
            src.query_row(&format!("SELECT COUNT(*) FROM {}", t.name), [], |r| r.get(0)).map_err(sqlite_err)?;
        totals.push(n as u64);
        let m: i64 = dst.query_one(&format!("SELECT COUNT(*) FROM {}", t.name), &[])?.get(0);
        target_rows += m as u64;
    }
    if target_rows > 0 && !options.resume {
        return Err(StoreError::db(format!(
            "the target already holds {target_rows} rows: copy into an empty database, or pass --resume to carry on an interrupted copy"
        )));
    }
    let total: u64 = totals.iter().sum();
    let mut done = 0u64;
    let mut batches = 0usize;
    for t in TABLES {
        // Where this table stands in the target: its last key, and how many rows it has.
        let last = dst.query_opt(&format!("{} ", pg_last(t)), &[])?;
        let mut after: Option<Vec<Val>> = last.map(|r| read_key(&r, t)).transpose()?;
        let have: i64 = dst.query_one(&format!("SELECT COUNT(*) FROM {}", t.name), &[])?.get(0);
        done += have as u64;
        progress(&Progress { table: t.name, done, total });
        let insert = insert_sql(t, ROWS_PER_INSERT);
        let first = select(t, false);
        let next = select(t, true);
        loop {
            if options.max_batches.is_some_and(|m| batches >= m) {
                return Ok(CopyOutcome::Paused { copied: done, total });
            }
            let rows: Vec<Vec<Val>> = {
                let mut st = src.prepare_cached(if after.is_some() { &next } else { &first }).map_err(sqlite_err)?;
                let mut params: Vec<rusqlite::types::Value> = Vec::new();
                for v in after.iter().flatten() {
                    params.push(match v {
                        Val::Int(n) => rusqlite::types::Value::Integer(*n),
                        Val::Text(s) => rusqlite::types::Value::Text(s.clone()),
                        Val::Null => rusqlite::types::Value::Null,
                    });
                }
                params.push(rusqlite::types::Value::Integer(batch));
                let mut rows = st.query(rusqlite::params_from_iter(params)).map_err(sqlite_err)?;
                let mut out = Vec::new();
                while let Some(r) = rows.next().map_err(sqlite_err)? {
                    out.push(read_sqlite(r, t)?);
                }
                out
            };
            let Some(last_row) = rows.last() else { break };
            after = Some(last_row[..t.key].to_vec());
            let mut tx = dst.transaction()?;
            // Many rows per statement: one round trip per chunk, not per row.
            let full = tx.prepare(&insert)?;
            let mut written = 0u64;
            for chunk in rows.chunks(ROWS_PER_INSERT) {
                let params: Vec<Box<dyn ToSql + Sync>> = chunk
                    .iter()
                    .flat_map(|row| row.iter().zip(t.columns).map(|(v, (_, col))| to_param(v, *col)))
                    .collect();
                let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p.as_ref()).collect();
                written += if chunk.len() == ROWS_PER_INSERT {
                    tx.execute(&full, &refs)?
                } else {
                    tx.execute(&insert_sql(t, chunk.len()), &refs)?
                };
            }
            tx.commit()?;
            batches += 1;
            done += written;
            progress(&Progress { table: t.name, done, total });
        }
    }
    finish(&mut dst).map_err(|e| StoreError::db(format!("moving sequences and recounting queues: {e}")))?;
    let checks = verify(&src, &mut dst).map_err(|e| StoreError::db(format!("verifying: {e}")))?;
    Ok(CopyOutcome::Done(checks))
}

fn pg_last(t: &Table) -> String {
    let key: Vec<String> = t.columns[..t.key]
        .iter()
        .map(
            |(c, ty)| {
                if matches!(ty, Text | TextOrNull) {
                    format!("{c} COLLATE \"C\" DESC")
                } else {
                    format!("{c} DESC")
                }
            },
        )
        .collect();
    let cols: Vec<&str> = t.columns[..t.key].iter().map(|c| c.0).collect();
    format!("SELECT {} FROM {} ORDER BY {} LIMIT 1", cols.join(", "), t.name, key.join(", "))
}

fn read_key(row: &::postgres::Row, t: &Table) -> Result<Vec<Val>, StoreError> {
    let key = Table { name: t.name, columns: &t.columns[..t.key], key: t.key, sequence: None };
    read_pg(row, &key)
}

/// Rows per INSERT statement (at 12 columns, the widest table's, 3,072 of the 65,535 parameters
/// PostgreSQL allows in one statement).
const ROWS_PER_INSERT: usize = 256;

/// `INSERT … VALUES (…), (…) …` for `rows` rows, skipping rows already there.
fn insert_sql(t: &Table, rows: usize) -> String {
    let cols: Vec<&str> = t.columns.iter().map(|c| c.0).collect();
    let n = cols.len();
    let values: Vec<String> = (0..rows)
        .map(|r| {
            let marks: Vec<String> = (1..=n).map(|i| format!("${}", r * n + i)).collect();
            format!("({})", marks.join(", "))
        })
        .collect();
    let key: Vec<&str> = cols[..t.key].to_vec();
    format!(
        "INSERT INTO {} ({}) VALUES {} ON CONFLICT ({}) DO NOTHING",
        t.name,
        cols.join(", "),
        values.join(", "),
        key.join(", ")
    )
}

/// Moves sequences past the copied ids, recounts the queues and gathers the planner's statistics.
fn finish(dst: &mut ::postgres::Client) -> Result<(), StoreError> {
    let mut tx = dst.transaction()?;
    for t in TABLES {
        if let Some(seq) = t.sequence {
            tx.batch_execute(&format!(
                "SELECT setval({seq}, GREATEST((SELECT COALESCE(MAX(id), 0) FROM {}), 1), (SELECT COUNT(*) > 0 FROM {}))",
                t.name, t.name
            ))?;
        }
    }
    tx.batch_execute(
        "TRUNCATE queue_count_deltas, queue_counts; \
         INSERT INTO queue_counts (shop_id, queue, n) SELECT shop_id, queue, COUNT(*) FROM cases GROUP BY shop_id, queue",
    )?;
    tx.commit()?;
    // Fresh statistics: until autovacuum gets round to the new tables the planner would guess
    // their sizes, and a queue page or a search over millions of copied rows would scan.
    let tables: Vec<&str> = TABLES.iter().map(|t| t.name).chain(["queue_counts"]).collect();
    dst.batch_execute(&format!("ANALYZE {}", tables.join(", ")))?;
    Ok(())
}

/// Row counts and a SHA-256 per table, read back from both databases in key order.
fn verify(src: &rusqlite::Connection, dst: &mut ::postgres::Client) -> Result<Vec<TableCheck>, StoreError> {
    let mut out = Vec::new();
    for t in TABLES {
        let cols: Vec<&str> = t.columns.iter().map(|c| c.0).collect();
        let key: Vec<&str> = cols[..t.key].to_vec();
        let (mut a, mut b) = (Sha256::new(), Sha256::new());
        let (mut na, mut nb) = (0u64, 0u64);
        let mut st = src
            .prepare(&format!("SELECT {} FROM {} ORDER BY {}", cols.join(", "), t.name, key.join(", ")))
            .map_err(sqlite_err)?;
        let mut rows = st.query([]).map_err(sqlite_err)?;
        while let Some(r) = rows.next().map_err(sqlite_err)? {
            for v in read_sqlite(r, t)? {
                v.feed(&mut a);
            }
            na += 1;
        }
        for r in dst.query(&pg_select_all(t), &[])? {
            for v in read_pg(&r, t)? {
                v.feed(&mut b);
            }
            nb += 1;
        }
        let (ha, hb) = (hex(&a.finalize()), hex(&b.finalize()));
        out.push(TableCheck { table: t.name, rows: na, matches: na == nb && ha == hb, sha256: ha });
    }
    Ok(out)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
