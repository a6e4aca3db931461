//! The binary as a user runs it: `migrate`, `profile`, and a small `bench --json`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

mod nodes;
mod webhook_nodes;

pub(crate) fn aftersale() -> Command {
    Command::new(env!("CARGO_BIN_EXE_aftersale"))
}

#[test]
fn migrate_creates_the_schema_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("x/aftersale.db");
    let first = aftersale().args(["migrate", "--db"]).arg(&db).output().unwrap();
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    assert!(
        String::from_utf8_lossy(&first.stdout).contains("applied migrations [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]")
    );
    let second = aftersale().args(["migrate", "--db"]).arg(&db).output().unwrap();
    assert!(String::from_utf8_lossy(&second.stdout).contains("up to date"));
    let conn = rusqlite::Connection::open(&db).unwrap();
    let tables: i64 = conn
        .query_row("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN ('cases', 'orders', 'events', 'deadlines', 'notices', 'sms_outbox', 'idempotency')", [], |r| r.get(0))
        .unwrap();
    assert_eq!(tables, 7);
}

/// Defect 12: `migrate` and `create-admin` open the database `serve` would, from the same
/// layered settings: with the environment alone they never fall back to `data/aftersale.db` in
/// the current folder.
#[test]
fn every_subcommand_that_opens_the_database_reads_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("from-env.db");
    let (url, expect_file) = match std::env::var("AFTERSALE_TEST_DATABASE_URL") {
        Ok(u) if u.starts_with("postgres") => (u, false),
        _ => (String::new(), true),
    };
    let run = |args: &[&str]| {
        let mut c = aftersale();
        c.args(args).current_dir(dir.path()).env("AFTERSALE_DATABASE__PATH", &db);
        c.env("AFTERSALE_EVIDENCE__DIR", dir.path().join("evidence"));
        if !url.is_empty() {
            c.env("AFTERSALE_DATABASE__URL", &url);
        }
        c.env("AFTERSALE_ADMIN_PASSWORD", "admin-password-1").output().unwrap()
    };
    let migrated = run(&["migrate"]);
    let out = String::from_utf8_lossy(&migrated.stdout).to_string();
    assert!(migrated.status.success(), "{out} {}", String::from_utf8_lossy(&migrated.stderr));
    let admin = run(&["create-admin", "--login", &format!("env-admin-{}", std::process::id())]);
    assert!(admin.status.success(), "{}", String::from_utf8_lossy(&admin.stderr));
    assert!(!dir.path().join("data").exists(), "nothing made in the current folder: {out}");
    assert_eq!(db.exists(), expect_file, "{out}");
    if expect_file {
        assert!(out.contains(&db.display().to_string()), "{out}");
    } else {
        assert!(out.contains("postgres"), "{out}");
    }
}

#[test]
fn profile_prints_the_deadline_table_values() {
    let out = aftersale().args(["profile", "taote"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("review = \"1d12h\""), "{text}");
    assert!(text.contains("# cod_voucher = (not in this profile)"));
    let bad = aftersale().args(["profile", "amazon"]).output().unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown profile"));
}

#[test]
fn bench_json_prints_every_figure() {
    let dir = tempfile::tempdir().unwrap();
    let out = aftersale()
        .args([
            "bench",
            "--json",
            "--commands",
            "60",
            "--group-commands",
            "120",
            "--clients",
            "4",
            "--deadlines",
            "2000",
            "--dir",
        ])
        .arg(dir.path().join("bench"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in [
        "commands_per_s",
        "group_commands_per_s",
        "raw_commands_per_s",
        "raw_group_commands_per_s",
        "deadline_firings_per_s",
        "raw_deadline_firings_per_s",
        "raw_firings_with_order_per_s",
        "peak_rss_mb",
    ] {
        assert!(report[key].as_f64().is_some_and(|v| v > 0.0), "{key} missing in {report}");
    }
    assert_eq!(report["deadlines"], 2000);
    assert_eq!(report["synchronous"], "FULL");
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub(crate) fn wait_for_line(child: &mut std::process::Child) -> String {
    use std::io::BufRead;
    let out = child.stdout.take().unwrap();
    let mut line = String::new();
    std::io::BufReader::new(out).read_line(&mut line).unwrap();
    line
}

pub(crate) fn http(port: u16, method: &str, path: &str, token: Option<&str>, body: Option<&str>) -> (u16, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    let body = body.unwrap_or("");
    write!(s, "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}", body.len()).unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let status = text.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, text)
}

#[test]
fn serve_starts_with_a_created_admin_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let made = aftersale()
        .args(["create-admin", "--login", "root", "--db"])
        .arg(&db)
        .env("AFTERSALE_ADMIN_PASSWORD", "root-password")
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let port = free_port();
    let mut child = aftersale()
        .args(["serve", "--bind", &format!("127.0.0.1:{port}"), "--db"])
        .arg(&db)
        .env("AFTERSALE_EVIDENCE__DIR", dir.path().join("ev"))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    assert!(wait_for_line(&mut child).contains("listening"));
    let (status, _) = http(port, "GET", "/readyz", None, None);
    assert_eq!(status, 200);
    let (status, text) =
        http(port, "POST", "/api/v1/auth/login", None, Some(r#"{"login":"root","password":"root-password"}"#));
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("aftersale_session="));
    std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    let exit = child.wait().unwrap();
    assert!(exit.success(), "graceful shutdown exits 0: {exit:?}");
}

#[test]
fn demo_prints_credentials_and_its_clock_moves() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let runtime_dir = dir.path().join("run");
    std::fs::create_dir(&runtime_dir).unwrap();
    let mut child = aftersale()
        .args(["demo", "--print-credentials", "--bind", &format!("127.0.0.1:{port}"), "--dir"])
        .arg(dir.path().join("demo"))
        .env("XDG_RUNTIME_DIR", &runtime_dir)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let line = wait_for_line(&mut child);
    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(v["url"], format!("http://127.0.0.1:{port}"));
    for role in ["buyer", "merchant", "platform", "admin"] {
        assert!(v["tokens"][role].as_str().unwrap().starts_with("as_"), "{line}");
    }
    let (status, text) = http(port, "GET", "/api/v1/queues", v["tokens"]["merchant"].as_str(), None);
    assert_eq!(status, 200, "{text}");
    // A second demo on the same directory, on another port, is refused and deletes nothing:
    // the running demo keeps its database and answers as before.
    let second = aftersale()
        .args(["demo", "--bind", &format!("127.0.0.1:{}", free_port()), "--dir"])
        .arg(dir.path().join("demo"))
        .output()
        .unwrap();
    assert!(!second.status.success());
    assert!(String::from_utf8_lossy(&second.stderr).contains("in use"), "{}", String::from_utf8_lossy(&second.stderr));
    assert!(dir.path().join("demo/aftersale.db").exists());
    // …and one on the same port fails on the port before touching the directory.
    let third = aftersale()
        .args(["demo", "--bind", &format!("127.0.0.1:{port}"), "--dir"])
        .arg(dir.path().join("demo"))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&third.stderr).contains("binding"), "{}", String::from_utf8_lossy(&third.stderr));
    let (status, _) = http(port, "GET", "/api/v1/queues", v["tokens"]["merchant"].as_str(), None);
    assert_eq!(status, 200);
    // A folder the demo did not make is never emptied.
    let mine = dir.path().join("mine");
    std::fs::create_dir(&mine).unwrap();
    std::fs::write(mine.join("notes.txt"), "keep").unwrap();
    let out = aftersale()
        .args(["demo", "--bind", &format!("127.0.0.1:{}", free_port()), "--dir"])
        .arg(&mine)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert_eq!(std::fs::read_to_string(mine.join("notes.txt")).unwrap(), "keep");
    let out = aftersale().args(["clock", "advance", "6h", "--dir"]).arg(dir.path().join("demo")).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("clock now 20"), "{}", String::from_utf8_lossy(&out.stdout));
    // From any folder, without --dir: the demo started last is found.
    let out = aftersale()
        .args(["clock", "advance", "1 day"])
        .current_dir(&mine)
        .env("XDG_RUNTIME_DIR", &runtime_dir)
        .env_remove("AFTERSALE_URL")
        .env_remove("AFTERSALE_TOKEN")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // A refused value is a plain sentence, not a JSON body.
    let out = aftersale().args(["clock", "advance", "soon"]).env("XDG_RUNTIME_DIR", &runtime_dir).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(err.contains("\"soon\" is not a duration") && !err.contains('{'), "{err}");
    std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(child.wait().unwrap().success());
}

#[test]
fn config_prints_the_defaults() {
    let out = aftersale().arg("config").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("[server]") && text.contains("bind = \"127.0.0.1:8080\""), "{text}");
}

#[test]
fn bench_http_prints_its_figures() {
    let dir = tempfile::tempdir().unwrap();
    let out = aftersale()
        .args(["bench-http", "--json", "--cases", "3000", "--seconds", "1", "--clients", "8", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in [
        "commands_per_s",
        "commands_p99_ms",
        "raw_commands_per_s",
        "queue_page_p99_ms",
        "raw_page_p99_ms",
        "server_peak_rss_mb",
    ] {
        assert!(v[key].is_number(), "{key} missing: {v}");
    }
    assert_eq!(v["command_errors"], 0, "{v}");
    assert_eq!(v["queue_page_errors"], 0, "{v}");
}
