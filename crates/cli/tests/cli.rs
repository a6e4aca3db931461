//! The binary as a user runs it: `migrate`, `profile`, and a small `bench --json`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

fn aftersale() -> Command {
    Command::new(env!("CARGO_BIN_EXE_aftersale"))
}

#[test]
fn migrate_creates_the_schema_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("x/aftersale.db");
    let first = aftersale().args(["migrate", "--db"]).arg(&db).output().unwrap();
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    assert!(String::from_utf8_lossy(&first.stdout).contains("applied migrations [1, 2]"));
    let second = aftersale().args(["migrate", "--db"]).arg(&db).output().unwrap();
    assert!(String::from_utf8_lossy(&second.stdout).contains("up to date"));
    let conn = rusqlite::Connection::open(&db).unwrap();
    let tables: i64 = conn
        .query_row("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN ('cases', 'orders', 'events', 'deadlines', 'notices', 'sms_outbox', 'idempotency')", [], |r| r.get(0))
        .unwrap();
    assert_eq!(tables, 7);
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
