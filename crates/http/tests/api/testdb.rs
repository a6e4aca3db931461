//! Which database the HTTP tests run on: a fresh SQLite file per test, or, when
//! `AFTERSALE_TEST_DATABASE_URL` names a PostgreSQL database, a fresh schema of its own there.

use aftersale_http::Config;
use std::path::Path;

#[derive(Clone, Debug)]
pub enum TestDb {
    Sqlite(std::path::PathBuf),
    /// A URL whose search path is the test's own schema.
    Postgres(String),
}

impl TestDb {
    /// A fresh database for one test; SQLite files go in `dir`.
    pub fn fresh(dir: &Path, name: &str) -> TestDb {
        match std::env::var("AFTERSALE_TEST_DATABASE_URL").ok().filter(|u| u.starts_with("postgres")) {
            Some(url) => {
                TestDb::Postgres(blocking(|| aftersale_engine::store::postgres::fresh_schema(&url, "http").unwrap()))
            }
            None => TestDb::Sqlite(dir.join(name)),
        }
    }

    /// Points the config at this database.
    pub fn configure(&self, config: &mut Config) {
        match self {
            TestDb::Sqlite(p) => config.database.path = p.clone(),
            TestDb::Postgres(u) => config.database.url = u.clone(),
        }
    }

    /// One number from plain SQL (what no API shows: every row of a table).
    pub fn count(&self, sql: &str) -> i64 {
        match self {
            TestDb::Sqlite(p) => rusqlite::Connection::open(p).unwrap().query_row(sql, [], |r| r.get(0)).unwrap(),
            TestDb::Postgres(u) => blocking(|| {
                let mut c = postgres::Client::connect(u, postgres::NoTls).unwrap();
                c.query_one(&format!("SELECT ({sql})::bigint"), &[]).unwrap().get(0)
            }),
        }
    }

    /// Every row of every table but `sessions`, as text and sorted: "the database is
    /// unchanged" means this is equal.
    pub fn fingerprint(&self) -> Vec<(String, i64, String)> {
        match self {
            TestDb::Sqlite(p) => sqlite_fingerprint(p),
            TestDb::Postgres(u) => blocking(|| {
                let mut c = postgres::Client::connect(u, postgres::NoTls).unwrap();
                let tables: Vec<String> = c
                    .query(
                        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() \
                         AND table_type = 'BASE TABLE' \
                         AND table_name NOT IN ('sessions', 'queue_counts', 'queue_count_deltas', 'consumer_positions') \
                         ORDER BY 1",
                        &[],
                    )
                    .unwrap()
                    .iter()
                    .map(|r| r.get(0))
                    .collect();
                // The queue counts are folded in the background: compare what they add up to.
                let counts: Vec<String> = c
                    .query(
                        "SELECT shop_id || '|' || queue || '|' || SUM(n)::text FROM (SELECT shop_id, queue, n FROM queue_counts \
                         UNION ALL SELECT shop_id, queue, d FROM queue_count_deltas) t GROUP BY shop_id, queue ORDER BY 1",
                        &[],
                    )
                    .unwrap()
                    .iter()
                    .map(|r| r.get(0))
                    .collect();
                let folded = ("queue_counts (folded)".to_string(), counts.len() as i64, counts.join("\n"));
                let mut out: Vec<(String, i64, String)> = tables
                    .into_iter()
                    .map(|t| {
                        let rows: Vec<String> = c
                            .query(&format!("SELECT r::text FROM \"{t}\" r ORDER BY 1"), &[])
                            .unwrap()
                            .iter()
                            .map(|r| r.get(0))
                            .collect();
                        (t, rows.len() as i64, rows.join("\n"))
                    })
                    .collect();
                out.push(folded);
                out
            }),
        }
    }
}

/// Runs blocking database work from a test's async body (the tests run on a multi-threaded
/// runtime; PostgreSQL's client may not be driven from its workers directly).
pub fn blocking<R>(f: impl FnOnce() -> R) -> R {
    match tokio::runtime::Handle::try_current() {
        Ok(_) => tokio::task::block_in_place(f),
        Err(_) => f(),
    }
}

fn sqlite_fingerprint(path: &Path) -> Vec<(String, i64, String)> {
    let conn = rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let tables: Vec<String> = conn
        // Sessions, and the webhook fan-out's bookmark (it moves in the background as events
        // come), are not data a refused request could have changed.
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN ('sessions', 'consumer_positions') \
             ORDER BY name",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    tables
        .into_iter()
        .map(|t| {
            let mut st = conn.prepare(&format!("SELECT * FROM \"{t}\"")).unwrap();
            let cols = st.column_count();
            let mut rows: Vec<String> = st
                .query_map([], |r| {
                    let mut line = String::new();
                    for i in 0..cols {
                        line.push_str(&format!("{:?}|", r.get_ref(i)?));
                    }
                    Ok(line)
                })
                .unwrap()
                .map(Result::unwrap)
                .collect();
            rows.sort();
            (t, rows.len() as i64, rows.join("\n"))
        })
        .collect()
}
