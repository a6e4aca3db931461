//! Moving up: the demo's SQLite database (cases in every state) copied into PostgreSQL,
//! interrupted once and carried on; afterwards both servers answer every case page, queue and
//! search alike. And moving on: a database made by the release before order lines (L1) answers
//! every case page, order and list as it did, on SQLite and copied into PostgreSQL.

use crate::harness::*;
use aftersale_engine::store::copy::{sqlite_to_postgres, CopyOptions, CopyOutcome};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_to_postgres_interrupted_and_resumed_gives_the_same_answers() {
    let Some(server) = std::env::var("AFTERSALE_TEST_DATABASE_URL").ok().filter(|u| u.starts_with("postgres")) else {
        eprintln!("migration test: no PostgreSQL (AFTERSALE_TEST_DATABASE_URL) — ran nothing");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("demo.db");
    let (dir, sqlite_server, creds) = demo_server_on(dir, TestDb::Sqlite(file.clone())).await;
    let target = blocking(|| aftersale_engine::store::postgres::fresh_schema(&server, "migration").unwrap());
    // The demo's text messages go out first (the SMS dispatcher marks each row sent, on its own
    // pace): a row that changed during the copy would rightly differ from its copy at the end.
    let admin = Client::new(&format!("http://{}", sqlite_server.addr)).with_token(&creds.tokens["admin"]);
    for _ in 0..400 {
        let items = admin.get("/api/v1/sms?limit=200").await.unwrap().json()["items"].as_array().unwrap().clone();
        if !items.is_empty() && items.iter().all(|m| !m["sent_at"].is_null() || !m["failed_at"].is_null()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // The source keeps being served while it is copied (as it would during a move).
    let (from, to) = (file.clone(), target.clone());
    let first = blocking(move || {
        let options = CopyOptions { batch_rows: 20, resume: false, max_batches: Some(4) };
        sqlite_to_postgres(&from, &to, &options, &mut |_| {}).unwrap()
    });
    let CopyOutcome::Paused { copied, total } = first else { panic!("expected a pause, got {first:?}") };
    assert!(copied > 0 && copied < total, "{copied}/{total}");
    // A second plain run refuses the half-full target …
    let (from, to) = (file.clone(), target.clone());
    let refused = blocking(move || {
        sqlite_to_postgres(&from, &to, &CopyOptions { batch_rows: 20, ..Default::default() }, &mut |_| {})
    });
    assert!(refused.unwrap_err().to_string().contains("--resume"));
    // … and one with resume carries on, its progress ending at the total.
    let (from, to) = (file.clone(), target.clone());
    let mut last = None;
    let done = blocking(move || {
        let options = CopyOptions { batch_rows: 20, resume: true, max_batches: None };
        let out = sqlite_to_postgres(&from, &to, &options, &mut |p| last = Some(p.clone())).unwrap();
        (out, last)
    });
    let (CopyOutcome::Done(checks), Some(last)) = done else { panic!("expected a finished copy, got {done:?}") };
    assert_eq!(last.done, last.total);
    assert!(checks.iter().all(|c| c.matches), "{checks:?}");
    assert!(checks.iter().find(|c| c.table == "cases").unwrap().rows >= 30);
    // The planner has statistics for what was copied (searches are planned on real sizes).
    let analyzed = TestDb::Postgres(target.clone()).count(
        "SELECT COUNT(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = current_schema() AND c.relname IN ('cases', 'orders', 'events', 'deadlines') \
         AND c.reltuples >= 0",
    );
    assert_eq!(analyzed, 4, "the copy gathers statistics on the tables it filled");

    let pg_server = server_on(&TestDb::Postgres(target), dir.path().join("ev")).await;
    let on = |running: &aftersale_http::app::Running, role: &str| {
        Client::new(&format!("http://{}", running.addr)).with_token(&creds.tokens[role])
    };
    for role in ["platform", "merchant", "buyer"] {
        let (a, b) = (on(&sqlite_server, role), on(&pg_server, role));
        let list = |c: Client, q: &'static str| async move { c.get(q).await.unwrap().json() };
        for q in [
            "/api/v1/cases?limit=200",
            "/api/v1/cases?limit=5&sort=newest",
            "/api/v1/cases?limit=200&customer_phone=7919",
            "/api/v1/cases?limit=200&order_no=DY",
            "/api/v1/cases?limit=200&customer_name=%E6%9D%8E",
        ] {
            let (x, y) = (list(a.clone(), q).await, list(b.clone(), q).await);
            assert!(x["items"].is_array(), "{role} {q}: {x}");
            if role == "platform" {
                assert!(!x["items"].as_array().unwrap().is_empty(), "{q} finds something");
            }
            assert_eq!(x, y, "{role} {q}");
        }
        if role != "buyer" {
            // The refund ledger moved up with the cases.
            let (x, y) = (
                list(a.clone(), "/api/v1/refunds?limit=200").await,
                list(b.clone(), "/api/v1/refunds?limit=200").await,
            );
            if role == "platform" {
                assert!(!x["items"].as_array().unwrap().is_empty(), "the demo's refunds are in the ledger: {x}");
            }
            assert_eq!(x, y, "{role} refunds");
        }
        let page: Value = list(a.clone(), "/api/v1/cases?limit=200").await;
        for item in page["items"].as_array().unwrap() {
            let path = format!("/api/v1/cases/{}", item["id"]);
            let (x, y) = (a.get(&path).await.unwrap(), b.get(&path).await.unwrap());
            assert_eq!((x.status, x.json()), (y.status, y.json()), "{role} {path}");
        }
    }
    let merchant = (on(&sqlite_server, "merchant"), on(&pg_server, "merchant"));
    let (x, y) = (merchant.0.get("/api/v1/queues").await.unwrap(), merchant.1.get("/api/v1/queues").await.unwrap());
    assert_eq!(x.status, 200);
    assert_eq!(x.json(), y.json(), "queue counts");
    // The domain event stream came along, in the same order, readable from the same positions.
    let stream = |running: &aftersale_http::app::Running| {
        let engine = running.state.engine.clone();
        blocking(move || {
            let platform = aftersale_core::Actor::Platform { agent: aftersale_core::values::AgentId(1) };
            engine.events_after(platform, aftersale_engine::EventPosition::START, 1000, vec![]).unwrap().0
        })
    };
    let (x, y) = (stream(&sqlite_server), stream(&pg_server));
    assert!(x.len() > 30, "the demo's changes published events: {}", x.len());
    assert_eq!(x, y, "the copied stream");
    sqlite_server.stop().await;
    pg_server.stop().await;
}

/// Every field `before` has, `after` has with the same value (an answer may gain fields, never
/// change or lose one).
fn same_answer(before: &Value, after: &Value, at: &str) {
    match (before, after) {
        (Value::Object(b), Value::Object(a)) => {
            for (k, v) in b {
                let Some(w) = a.get(k) else { panic!("{at}.{k} is gone (was {v})") };
                same_answer(v, w, &format!("{at}.{k}"));
            }
        }
        (Value::Array(b), Value::Array(a)) => {
            assert_eq!(b.len(), a.len(), "{at}: {} items, was {}", a.len(), b.len());
            for (i, (v, w)) in b.iter().zip(a).enumerate() {
                same_answer(v, w, &format!("{at}[{i}]"));
            }
        }
        _ => assert_eq!(before, after, "{at}"),
    }
}

/// The demo's database as the release before order lines made it (tests/api/fixtures/
/// before-lines.db), with every answer that release gave (before-lines.json): opened by this
/// release, every order reads as one line and every case as a case of it, and every answer is
/// the same. Copied into PostgreSQL, the same again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn l1_a_database_made_before_order_lines_answers_the_same() {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/api/fixtures");
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures.join("before-lines.json")).unwrap()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("before-lines.db");
    std::fs::copy(fixtures.join("before-lines.db"), &file).unwrap();
    let mut dbs = vec![TestDb::Sqlite(file.clone())];
    if let Some(server) = std::env::var("AFTERSALE_TEST_DATABASE_URL").ok().filter(|u| u.starts_with("postgres")) {
        let target =
            blocking(move || aftersale_engine::store::postgres::fresh_schema(&server, "before_lines").unwrap());
        let (from, to) = (file.clone(), target.clone());
        blocking(move || sqlite_to_postgres(&from, &to, &CopyOptions::default(), &mut |_| {}).unwrap());
        dbs.push(TestDb::Postgres(target));
    }
    for db in dbs {
        let running = server_on(&db, dir.path().join("ev")).await;
        let mut checked = 0;
        for (key, before) in saved["answers"].as_object().unwrap() {
            let (role, path) = key.split_once(' ').unwrap();
            let c =
                Client::new(&format!("http://{}", running.addr)).with_token(saved["tokens"][role].as_str().unwrap());
            let r = c.get(path).await.unwrap();
            assert_eq!(r.status, 200, "{key}");
            same_answer(before, &r.json(), key);
            checked += 1;
        }
        assert!(checked > 100, "{checked} answers compared");
        running.stop().await;
    }
}
