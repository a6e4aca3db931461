//! Webhooks on many nodes, as an operator runs them: three `aftersale serve` processes on one
//! PostgreSQL database send a burst of 1,000 events to one endpoint while one of them is killed
//! with SIGKILL, its deliveries in flight cut off. Every event arrives; a repeat carries the same
//! `webhook-id`, so the receiver can drop it.

use crate::nodes::{admin, postgres_url, session_http, Killed};
use crate::{aftersale, free_port, wait_for_line};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A receiver on its own threads: HTTP/1.1 with keep-alive, each `webhook-id` counted when it
/// arrives and answered 200 100 ms later: with four deliveries in flight per node (the nodes
/// run with `per_endpoint = 4`) the burst outruns the receiver, so every node has deliveries in
/// flight when one dies.
fn receiver() -> (u16, Arc<Mutex<BTreeMap<String, usize>>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen: Arc<Mutex<BTreeMap<String, usize>>> = Arc::default();
    let kept = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let seen = kept.clone();
            std::thread::spawn(move || serve_connection(stream, &seen));
        }
    });
    (port, seen)
}

fn serve_connection(stream: std::net::TcpStream, seen: &Mutex<BTreeMap<String, usize>>) {
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    loop {
        let mut id = None;
        let mut length = 0usize;
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        loop {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                match name.trim().to_ascii_lowercase().as_str() {
                    "webhook-id" => id = Some(value.trim().to_string()),
                    "content-length" => length = value.trim().parse().unwrap_or(0),
                    _ => {}
                }
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        if let Some(id) = id {
            *seen.lock().unwrap().entry(id).or_default() += 1;
        }
        std::thread::sleep(Duration::from_millis(100));
        if writer.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").is_err() {
            return;
        }
    }
}

fn body_json(answer: &str) -> serde_json::Value {
    serde_json::from_str(answer.split_once("\r\n\r\n").map_or("", |(_, b)| b)).unwrap()
}

fn node(url: &str, dir: &std::path::Path) -> (u16, Killed) {
    let port = free_port();
    let mut child = Killed(
        aftersale()
            .args(["serve", "--bind", &format!("127.0.0.1:{port}"), "--database", url])
            .env("AFTERSALE_EVIDENCE__DIR", dir.join("ev"))
            .env("AFTERSALE_LOG__LEVEL", "error")
            .env("AFTERSALE_WEBHOOKS__ALLOW_INSECURE", "true")
            .env("AFTERSALE_WEBHOOKS__ALLOW_PRIVATE_TARGETS", "true")
            .env("AFTERSALE_WEBHOOKS__TIMEOUT_SECS", "2")
            .env("AFTERSALE_WEBHOOKS__POLL_MS", "100")
            .env("AFTERSALE_WEBHOOKS__PER_ENDPOINT", "4")
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    );
    assert!(wait_for_line(&mut child.0).contains("listening"));
    (port, child)
}

#[test]
fn three_nodes_deliver_a_burst_of_1000_events_though_one_is_killed_mid_burst() {
    let Some(url) = postgres_url() else { return };
    let db = format!("aftersale_webhooks_{}", std::process::id());
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
    let mut nodes: Vec<(u16, Option<Killed>)> =
        (0..3).map(|_| node(&node_url, dir.path())).map(|(p, k)| (p, Some(k))).collect();
    let port = nodes[0].0;
    let (status, answer) =
        crate::http(port, "POST", "/api/v1/auth/login", None, Some(r#"{"login":"root","password":"root-password"}"#));
    assert_eq!(status, 200, "{answer}");
    let cookie = answer.lines().find(|l| l.to_ascii_lowercase().starts_with("set-cookie:")).unwrap();
    let session = cookie.split_once('=').unwrap().1.split(';').next().unwrap().to_string();
    let (status, answer) =
        session_http(port, "POST", "/api/v1/shops", &session, Some(r#"{"name":"Burst","profile":"douyin"}"#));
    assert_eq!(status, 201, "{answer}");
    let shop = body_json(&answer)["id"].as_i64().unwrap();
    let (status, answer) = crate::http(
        port,
        "POST",
        "/api/v1/auth/register",
        None,
        Some(r#"{"login":"burst-buyer","password":"password-123","display_name":"B"}"#),
    );
    assert_eq!(status, 201, "{answer}");
    let buyer = body_json(&answer)["id"].as_i64().unwrap();
    let (receiver_port, seen) = receiver();
    let endpoint =
        format!(r#"{{"url":"http://127.0.0.1:{receiver_port}/hook","types":["order.created"],"description":"burst"}}"#);
    let (status, answer) = session_http(port, "POST", "/api/v1/webhooks", &session, Some(&endpoint));
    assert_eq!(status, 201, "{answer}");

    // The burst: 1,000 orders, each one `order.created`, spread over the nodes still up. The
    // second node is killed a third of the way in, once it holds deliveries under its lease (on
    // a PostgreSQL server shared with other tests, events may show late: wait for that, bounded).
    let mut db_client = postgres::Client::connect(&node_url, postgres::NoTls).unwrap();
    let mut held_at_kill: Vec<String> = Vec::new();
    for i in 0..1000 {
        if i == 330 {
            let pid = nodes[1].1.as_ref().unwrap().0.id();
            let waiting = Instant::now();
            while held_at_kill.is_empty() && waiting.elapsed() < Duration::from_secs(60) {
                held_at_kill = db_client
                    .query(
                        "SELECT event_id FROM webhook_deliveries WHERE status = 'pending' AND lease_owner LIKE $1",
                        &[&format!("%:{pid}")],
                    )
                    .unwrap()
                    .iter()
                    .map(|r| r.get(0))
                    .collect();
            }
            let mut child = nodes[1].1.take().unwrap();
            child.0.kill().unwrap(); // SIGKILL
            child.0.wait().unwrap();
        }
        let up: Vec<u16> = nodes.iter().filter(|(_, k)| k.is_some()).map(|(p, _)| *p).collect();
        let order = format!(
            r#"{{"order_no":"B-{i:05}","buyer_id":{buyer},"payment":"online","total":{{"minor":5000,"currency":"CNY"}},"shipping_fee":{{"minor":0,"currency":"CNY"}},"customer_name":"王","customer_phone":"13800131234"}}"#
        );
        let (status, answer) =
            session_http(up[i % up.len()], "POST", &format!("/api/v1/shops/{shop}/orders"), &session, Some(&order));
        assert_eq!(status, 201, "order {i}: {answer}");
    }
    assert!(!held_at_kill.is_empty(), "the killed node held deliveries when it was killed");

    // What the event API says happened: the ids to expect. On PostgreSQL an event shows once
    // every older transaction in the cluster has ended (other tests share the server): read on
    // until all are there, a bounded wait.
    let mut want = std::collections::BTreeSet::new();
    let mut after = String::new();
    let reading = Instant::now();
    while want.len() < 1000 && reading.elapsed() < Duration::from_secs(60) {
        let (status, answer) =
            session_http(port, "GET", &format!("/api/v1/events?types=order.created&limit=1000{after}"), &session, None);
        assert_eq!(status, 200, "{answer}");
        let page = body_json(&answer);
        let items = page["items"].as_array().unwrap();
        want.extend(items.iter().map(|e| e["id"].as_str().unwrap().to_string()));
        if let Some(next) = page["next"].as_str() {
            after = format!("&after={next}");
        }
        if items.is_empty() {
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    assert_eq!(want.len(), 1000, "one event per order");
    // A delivery the killed node held is sent again when its lease (timeout + 5 s) runs out:
    // wait until the database has every delivery answered.
    let start = Instant::now();
    loop {
        let open: i64 = db_client
            .query_one("SELECT COUNT(*) FROM webhook_deliveries WHERE status <> 'succeeded'", &[])
            .unwrap()
            .get(0);
        let made: i64 = db_client.query_one("SELECT COUNT(*) FROM webhook_deliveries", &[]).unwrap().get(0);
        if (open == 0 && made == 1000) || start.elapsed() > Duration::from_secs(90) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    // What the killed node held was taken up by the others and answered.
    let held_ok: i64 = db_client
        .query_one(
            "SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'succeeded' AND event_id = ANY($1)",
            &[&held_at_kill],
        )
        .unwrap()
        .get(0);
    assert_eq!(held_ok as usize, held_at_kill.len(), "every delivery the killed node held was delivered by another");
    drop(db_client);
    let seen = seen.lock().unwrap().clone();
    let got: std::collections::BTreeSet<String> = seen.keys().cloned().collect();
    assert_eq!(got, want, "every event delivered, under its own id");
    let repeats: usize = seen.values().map(|n| n - 1).sum();
    eprintln!("1000 events delivered in {:?} after the burst, {repeats} repeats", start.elapsed());
    // A repeat is a delivery the killed node had sent but not recorded: the same id again.
    drop(nodes);
    admin(&url, &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"));
}
