//! Many nodes on PostgreSQL, as an operator runs them: three `aftersale serve` processes sharing
//! 100,000 deadlines with one SIGKILLed midway, a node whose database goes away and comes back,
//! and bad database URLs refused in one line. Without `AFTERSALE_TEST_DATABASE_URL` the
//! PostgreSQL tests say so and run nothing.

use crate::{aftersale, free_port, http};

fn postgres_url() -> Option<String> {
    let url = std::env::var("AFTERSALE_TEST_DATABASE_URL").ok().filter(|u| u.starts_with("postgres"));
    if url.is_none() {
        eprintln!("no PostgreSQL (AFTERSALE_TEST_DATABASE_URL): this test ran nothing");
    }
    url
}

#[test]
fn three_nodes_fire_100k_deadlines_exactly_once_with_one_killed_midway() {
    let Some(url) = postgres_url() else { return };
    let out = aftersale()
        .args(["bench-nodes", "--database", &url, "--nodes", "3", "--deadlines", "100000", "--kill-one", "--json"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(report["fired_rows"], 100_000, "{report}");
    assert_eq!(report["fired_cases"], 100_000, "{report}");
    assert_eq!(report["duplicates"], 0, "{report}");
    assert_eq!(report["cases_moved_on"], 100_000, "{report}");
    assert!(report["killed"]["fired_before"].as_i64().unwrap() > 0, "a node was killed midway: {report}");
    assert!(report["commands_acknowledged"].as_u64().unwrap() > 0, "{report}");
    assert_eq!(report["acknowledged_missing"], 0, "{report}");
}

/// Runs SQL statements, one at a time, on the server's maintenance database.
fn admin(url: &str, sql: &str) {
    let base = url.rsplit_once('/').unwrap().0;
    let mut c = postgres::Client::connect(&format!("{base}/postgres"), postgres::NoTls).unwrap();
    for statement in sql.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        c.batch_execute(statement).unwrap();
    }
}

#[test]
fn a_node_answers_503_while_its_database_is_away_and_serves_again_after() {
    let Some(url) = postgres_url() else { return };
    // A database of its own: this test shuts it off.
    let db = format!("aftersale_outage_{}", std::process::id());
    let base = url.rsplit_once('/').unwrap().0.to_string();
    admin(&url, &format!("DROP DATABASE IF EXISTS {db}; CREATE DATABASE {db}"));
    let node_url = format!("{base}/{db}");
    let dir = tempfile::tempdir().unwrap();
    let made = aftersale()
        .args(["create-admin", "--login", "root", "--database", &node_url])
        .env("AFTERSALE_ADMIN_PASSWORD", "root-password")
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let port = free_port();
    let mut child = aftersale()
        .args(["serve", "--bind", &format!("127.0.0.1:{port}"), "--database", &node_url])
        .env("AFTERSALE_EVIDENCE__DIR", dir.path().join("ev"))
        .env("AFTERSALE_LOG__LEVEL", "error")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    assert!(crate::wait_for_line(&mut child).contains("listening"));
    let (status, body) =
        http(port, "POST", "/api/v1/auth/login", None, Some(r#"{"login":"root","password":"root-password"}"#));
    assert_eq!(status, 200, "{body}");
    let token = {
        let (s, b) =
            http(port, "POST", "/api/v1/auth/login", None, Some(r#"{"login":"root","password":"root-password"}"#));
        assert_eq!(s, 200);
        let cookie = b.lines().find(|l| l.to_ascii_lowercase().starts_with("set-cookie:")).unwrap().to_string();
        cookie.split_once('=').unwrap().1.split(';').next().unwrap().to_string()
    };
    let create_shop = |name: &str| {
        let body = format!(r#"{{"name":"{name}","profile":"douyin"}}"#);
        session_http(port, "POST", "/api/v1/shops", &token, Some(&body))
    };
    assert_eq!(create_shop("before").0, 201);
    // The database goes away: no new connections, and the node's own are cut.
    admin(
        &url,
        &format!(
            "ALTER DATABASE {db} ALLOW_CONNECTIONS false; \
             SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{db}'"
        ),
    );
    let mut unavailable = 0;
    for i in 0..6 {
        let (status, text) = create_shop(&format!("during-{i}"));
        assert_ne!(status, 500, "{text}");
        if status == 503 {
            unavailable += 1;
            assert!(text.to_ascii_lowercase().contains("retry-after: 1"), "{text}");
            assert!(text.contains("application/problem+json"), "{text}");
        }
    }
    assert!(unavailable >= 5, "503 while the database is away ({unavailable} of 6)");
    admin(&url, &format!("ALTER DATABASE {db} ALLOW_CONNECTIONS true"));
    // The node reconnects on its own.
    let mut back = None;
    for i in 0..100 {
        let (status, _) = create_shop(&format!("after-{i}"));
        if status == 201 {
            back = Some(i);
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(back.is_some(), "the node serves again once the database is back");
    let (status, list) = session_http(port, "GET", "/api/v1/shops", &token, None);
    assert_eq!(status, 200, "{list}");
    assert!(list.contains("\"before\""), "what was acknowledged before is there: {list}");
    let during = (0..6).filter(|i| list.contains(&format!("\"during-{i}\""))).count();
    assert_eq!(during, 6 - unavailable, "only what was acknowledged during the outage is there");
    stop_child(&mut child);
    admin(&url, &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"));
}

fn session_http(port: u16, method: &str, path: &str, session: &str, body: Option<&str>) -> (u16, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let body = body.unwrap_or("");
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nCookie: aftersale_session={session}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    (text.split_whitespace().nth(1).unwrap().parse().unwrap(), text)
}

fn stop_child(child: &mut std::process::Child) {
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn a_wrong_or_unreachable_database_url_is_one_line_at_start() {
    for (url, says) in [
        ("mysql://root@localhost/x", "is not a database URL"),
        ("postgres://nobody@127.0.0.1:1/x", "Connection refused"),
        ("sqlite://", "needs a file path"),
    ] {
        let out = aftersale().args(["serve", "--bind", "127.0.0.1:0", "--database", url]).output().unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{url}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "one line, no panic or trace: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}
