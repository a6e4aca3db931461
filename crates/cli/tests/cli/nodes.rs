//! Many nodes on PostgreSQL, as an operator runs them: three `aftersale serve` processes sharing
//! 100,000 deadlines with one SIGKILLed midway, a node whose database goes away and comes back,
//! and bad database URLs refused in one line. Without `AFTERSALE_TEST_DATABASE_URL` the
//! PostgreSQL tests say so and run nothing.

use crate::{aftersale, free_port, http};

/// A child process killed when dropped, also when a test fails half-way (a node left running
/// would hold the test's output open).
pub(crate) struct Killed(pub(crate) std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) fn postgres_url() -> Option<String> {
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
pub(crate) fn admin(url: &str, sql: &str) {
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
    let mut child = Killed(
        aftersale()
            .args(["serve", "--bind", &format!("127.0.0.1:{port}"), "--database", &node_url])
            .env("AFTERSALE_EVIDENCE__DIR", dir.path().join("ev"))
            .env("AFTERSALE_LOG__LEVEL", "error")
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    );
    assert!(crate::wait_for_line(&mut child.0).contains("listening"));
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
    drop(child);
    admin(&url, &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"));
}

pub(crate) fn session_http(port: u16, method: &str, path: &str, session: &str, body: Option<&str>) -> (u16, String) {
    let (status, bytes) = session_bytes(port, method, path, session, body);
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

/// The whole answer (head and body) as bytes.
fn session_bytes(port: u16, method: &str, path: &str, session: &str, body: Option<&str>) -> (u16, Vec<u8>) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let body = body.unwrap_or("");
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nCookie: aftersale_session={session}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut bytes = Vec::new();
    s.read_to_end(&mut bytes).unwrap();
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(64)]).into_owned();
    (head.split_whitespace().nth(1).unwrap().parse().unwrap(), bytes)
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

/// Sends a multipart upload of one PNG to `/api/v1/evidence` with a session cookie.
fn upload_png(port: u16, session: &str, png: &[u8]) -> (u16, String) {
    use std::io::{Read, Write};
    let boundary = "aftersale-boundary-7d2f";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"p.png\"\r\nContent-Type: image/png\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(png);
    body.extend_from_slice(
        format!(
            "\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"caption\"\r\n\r\nphoto\r\n--{boundary}--\r\n"
        )
        .as_bytes(),
    );
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "POST /api/v1/evidence HTTP/1.1\r\nHost: x\r\nConnection: close\r\nCookie: aftersale_session={session}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    s.write_all(&body).unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    (text.split_whitespace().nth(1).unwrap().parse().unwrap(), text)
}

#[test]
fn two_nodes_share_evidence_through_the_s3_compatible_store() {
    let Some(url) = postgres_url() else { return };
    let Some(endpoint) = std::env::var("AFTERSALE_TEST_S3_ENDPOINT").ok().filter(|e| !e.is_empty()) else {
        eprintln!("no S3-compatible server (AFTERSALE_TEST_S3_ENDPOINT): this test ran nothing");
        return;
    };
    // A bucket of its own (the local S3 server takes an unsigned create).
    let bucket = format!("aftersale-{}", std::process::id());
    let host = endpoint.trim_start_matches("http://").trim_end_matches('/').to_string();
    {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(&host).unwrap();
        write!(s, "PUT /{bucket} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n").unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).unwrap();
        assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    }
    let db = format!("aftersale_s3_{}", std::process::id());
    let base = url.rsplit_once('/').unwrap().0.to_string();
    admin(&url, &format!("DROP DATABASE IF EXISTS {db}; CREATE DATABASE {db}"));
    let node_url = format!("{base}/{db}");
    let made = aftersale()
        .args(["create-admin", "--login", "root", "--database", &node_url])
        .env("AFTERSALE_ADMIN_PASSWORD", "root-password")
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let nodes: Vec<(u16, Killed)> = (0..2)
        .map(|_| {
            let port = free_port();
            let mut child = aftersale()
                .args(["serve", "--bind", &format!("127.0.0.1:{port}"), "--database", &node_url])
                .env("AFTERSALE_LOG__LEVEL", "error")
                .env("AFTERSALE_EVIDENCE__STORE", "s3")
                .env("AFTERSALE_EVIDENCE__S3__BUCKET", &bucket)
                .env("AFTERSALE_EVIDENCE__S3__REGION", "us-east-1")
                .env("AFTERSALE_EVIDENCE__S3__ENDPOINT", &endpoint)
                .env("AFTERSALE_EVIDENCE__S3__ACCESS_KEY_ID", "test")
                .env("AFTERSALE_EVIDENCE__S3__SECRET_ACCESS_KEY", "test")
                .env("AFTERSALE_EVIDENCE__S3__ALLOW_HTTP", "true")
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            assert!(crate::wait_for_line(&mut child).contains("listening"));
            (port, Killed(child))
        })
        .collect();
    let (a, b) = (nodes[0].0, nodes[1].0);
    let (status, text) =
        http(a, "POST", "/api/v1/auth/login", None, Some(r#"{"login":"root","password":"root-password"}"#));
    assert_eq!(status, 200, "{text}");
    let cookie = text.lines().find(|l| l.to_ascii_lowercase().starts_with("set-cookie:")).unwrap();
    let session = cookie.split_once('=').unwrap().1.split(';').next().unwrap().to_string();
    // A 1×1 PNG, uploaded on node A …
    let png: &[u8] = &[
        0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00,
        0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4, 0x89, 0x00, 0x00, 0x00,
        0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8, 0xCF, 0xC0, 0xF0, 0x1F, 0x00, 0x05, 0x00, 0x01, 0xFF,
        0x89, 0x99, 0x3D, 0x1D, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
    ];
    let (status, text) = upload_png(a, &session, png);
    assert_eq!(status, 201, "{text}");
    let json_start = text.find("\r\n\r\n").unwrap() + 4;
    let body: serde_json::Value = serde_json::from_str(text[json_start..].trim()).unwrap();
    let key = body["evidence"]["key"].as_str().unwrap().to_string();
    // … is served by node B, byte for byte, from the shared store.
    let (status, got) = session_bytes(b, "GET", &format!("/api/v1/evidence/{key}"), &session, None);
    let head = String::from_utf8_lossy(&got).to_ascii_lowercase();
    assert_eq!(status, 200, "{head}");
    assert!(head.contains("content-type: image/png"), "{head}");
    assert!(got.ends_with(png), "the same bytes");
    drop(nodes);
    admin(&url, &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"));
}

#[test]
fn bench_http_on_postgres_prints_its_figures_and_its_raw_loop_leaves_the_cases_as_they_were() {
    let Some(url) = postgres_url() else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = aftersale()
        .args(["bench-http", "--json", "--cases", "3000", "--seconds", "1", "--clients", "8", "--database", &url])
        .arg("--dir")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in ["commands_per_s", "raw_commands_per_s", "queue_page_p99_ms", "raw_page_p99_ms"] {
        assert!(v[key].as_f64().is_some_and(|x| x > 0.0), "{key} missing: {v}");
    }
    assert_eq!(v["command_errors"], 0, "{v}");
    // Each command phase, the raw loop's and the server's, starts on vacuumed tables.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.matches("vacuumed the command tables").count(), 2, "{stderr}");
    // The raw loop refunded cases (status, queue, deadlines) before the server ran, and put
    // them back: every case's columns agree with its record, every case waiting for review has
    // its review deadline, every case refunding has the log row and the settlement deadline.
    let schema_url = std::fs::read_to_string(dir.path().join("postgres_url")).unwrap();
    let mut db = postgres::Client::connect(&schema_url, postgres::NoTls).unwrap();
    let one = |db: &mut postgres::Client, sql: &str| db.query_one(sql, &[]).unwrap().get::<_, i64>(0);
    let checks = [
        "SELECT COUNT(*) FROM cases WHERE data::jsonb -> 'status' ->> 'status' <> status",
        "SELECT COUNT(*) FROM cases c WHERE status = 'awaiting_review' AND NOT EXISTS \
         (SELECT 1 FROM deadlines d WHERE d.subject = 'case' AND d.subject_id = c.id AND d.kind = 'review')",
        "SELECT COUNT(*) FROM cases c WHERE status = 'refunding' AND (NOT EXISTS \
         (SELECT 1 FROM events e WHERE e.case_id = c.id AND e.kind = 'refund_started') OR NOT EXISTS \
         (SELECT 1 FROM deadlines d WHERE d.subject = 'case' AND d.subject_id = c.id AND d.kind = 'refund_settle'))",
        "SELECT COUNT(*) FROM deadlines d WHERE d.kind = 'refund_settle' AND NOT EXISTS \
         (SELECT 1 FROM cases c WHERE c.id = d.subject_id AND c.status = 'refunding')",
    ];
    for sql in checks {
        assert_eq!(one(&mut db, sql), 0, "{sql}");
    }
    assert!(one(&mut db, "SELECT COUNT(*) FROM cases WHERE status = 'refunding'") > 0, "the server refunded some");
    let schema = schema_url.rsplit("search_path%3D").next().unwrap().split(',').next().unwrap().to_string();
    db.batch_execute(&format!("DROP SCHEMA {schema} CASCADE")).unwrap();
}
