//! `aftersale bench http`: a load run against a real `aftersale serve` process over loopback.
//!
//! The database holds `--cases` cases of one shop, all waiting for review (one queue of a
//! million rows: the worst case for a queue page and its counts). Measured, in one run:
//! - (a) a command mix over HTTP from `--clients` concurrent clients (set_remark 50%,
//!   post_message 25%, refund 25%), full durability (`synchronous=FULL`), requests/s and
//!   p50/p99 latency; against the raw ceiling of the same row writes in SQLite, group-committed;
//! - (b) the queue page of 50 with its counts, requests/s and p50/p99, as JSON and as the
//!   workbench's HTML page (with its page weight); against the raw indexed
//!   page query plus the counts query on the same file;
//! - (c) the searches staff use (W2): phone by the full number and by its last four digits,
//!   order number by its beginning, buyer name by any part of it (three characters and more
//!   through the trigram index, two by a scan of the shop); each against the raw query;
//! - the server's peak RSS (VmHWM of the child process).
//!
//! A latency runs from sending the request to the last byte of its answer (`timed_request`);
//! checking the answer afterwards (parsing a page's 50 cases) is the load generator's time.

use crate::bench::err;
pub(crate) use crate::bench_http_raw::*;
use aftersale_core::values::*;
use aftersale_core::*;
use aftersale_engine::*;
use aftersale_http::client::Client;

use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(clap::Args, Debug)]
pub struct HttpBenchArgs {
    /// Cases in the database.
    #[arg(long, default_value_t = 1_000_000)]
    cases: usize,
    /// Lines per order (L1): 1 is an order ingested without lines; with more, each case names
    /// one unit of line 1.
    #[arg(long, default_value_t = 1)]
    lines: u32,
    /// Concurrent HTTP clients for the command mix.
    #[arg(long, default_value_t = 128)]
    clients: usize,
    /// Concurrent HTTP clients for the queue page.
    #[arg(long, default_value_t = 4)]
    page_clients: usize,
    /// Seconds per measured phase.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Directory for the database (reused with --reuse when it already holds the cases).
    #[arg(long, default_value = "data/bench-http")]
    dir: PathBuf,
    /// Reuse the seeded database from an earlier run.
    #[arg(long)]
    reuse: bool,
    /// SQLite page cache per connection of the server, in MiB.
    #[arg(long, default_value_t = 16)]
    cache_mb: u32,
    /// Commands per second of the webhook phase's steady part, where the lag from an event to
    /// its delivery is measured.
    #[arg(long, default_value_t = 1_000)]
    webhook_rate: u64,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    json: bool,
    /// Run on PostgreSQL (postgres://…): the cases go into a schema of their own, seeded through
    /// SQLite and moved up with `migrate`'s copy; the raw ceilings run on PostgreSQL too.
    #[arg(long)]
    database: Option<String>,
}

pub(crate) const SHOP: ShopId = ShopId(1);

/// Seeds `n` refund-only cases waiting for review, applied a second apart from `base`, plus a
/// staff account with an API token. Returns the token.
pub(crate) fn seed(path: &Path, n: usize, base: Timestamp) -> Result<String, String> {
    let store = Arc::new(SqliteStore::open(path, SqliteOptions::default()).map_err(err)?);
    let engine = Arc::new(Engine::new(store, Arc::new(ManualClock::new(base)), Arc::new(BuiltinGateway)));
    let shop = engine.create_shop("Bench shop", "douyin", PolicyOverrides::default()).map_err(err)?;
    if shop.id != SHOP {
        return Err("the bench database was not fresh".into());
    }
    crate::bench::seed_refund_only(&engine, n, move |id| base + Dur((id % 86_400) * 1000), false)?;
    let hash = aftersale_http::auth::hash_password("bench-password").map_err(|e| e.0.detail.clone())?;
    let user = engine
        .create_user(aftersale_engine::accounts::NewUser {
            login: "bench-staff".into(),
            role: Role::Staff,
            shop_id: Some(SHOP),
            display_name: "Bench".into(),
            password_hash: hash,
        })
        .map_err(err)?;
    let token = aftersale_http::auth::new_token().map_err(|e| e.0.detail.clone())?;
    engine
        .issue_token(user.id, aftersale_http::auth::sha256_hex(token.as_bytes()), "bench", TokenScope::Full)
        .map_err(err)?;
    // The shop's owner, for the webhook phase (staff do not manage endpoints): its token is
    // kept beside the database.
    let owner = engine
        .create_user(aftersale_engine::accounts::NewUser {
            login: "bench-owner".into(),
            role: Role::Owner,
            shop_id: Some(SHOP),
            display_name: "Bench owner".into(),
            password_hash: aftersale_http::auth::hash_password("bench-password").map_err(|e| e.0.detail.clone())?,
        })
        .map_err(err)?;
    let owner_token = aftersale_http::auth::new_token().map_err(|e| e.0.detail.clone())?;
    engine
        .issue_token(
            owner.id,
            aftersale_http::auth::sha256_hex(owner_token.as_bytes()),
            "bench",
            TokenScope::Integration,
        )
        .map_err(err)?;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::write(dir.join("owner_token"), &owner_token).map_err(err)?;
    Ok(token)
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    f64::from(sorted[i]) / 1000.0
}

pub(crate) struct Phase {
    per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: usize,
}

pub(crate) fn summarise(mut lat: Vec<u32>, errors: usize, secs: f64) -> Phase {
    lat.sort_unstable();
    Phase { per_s: lat.len() as f64 / secs, p50_ms: percentile(&lat, 0.5), p99_ms: percentile(&lat, 0.99), errors }
}

/// Times `query(i)` for `i` in `0..samples`, one after another: the loop of every raw ceiling.
pub(crate) fn timed(samples: u64, mut query: impl FnMut(u64) -> Result<(), String>) -> Result<Phase, String> {
    let mut lat = Vec::with_capacity(samples as usize);
    let started = Instant::now();
    for i in 0..samples {
        let t = Instant::now();
        query(i)?;
        lat.push(t.elapsed().as_micros() as u32);
    }
    Ok(summarise(lat, 0, started.elapsed().as_secs_f64()))
}

fn rss_of(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let get = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (get("VmRSS:"), get("VmHWM:"))
}

/// Runs a request and times it from sending to the last byte of the answer; what the load
/// generator then does with the answer (parsing 50 cases to check them) is not the server's time.
async fn timed_request<T>(request: impl std::future::Future<Output = T>) -> (T, Duration) {
    let start = Instant::now();
    let r = request.await;
    (r, start.elapsed())
}

/// Command `k`'s case, before the modulo: SplitMix64's finaliser, a bijection of the 64-bit
/// numbers that sends consecutive `k` far apart (see the test for what the mix did before).
pub(crate) fn spread(k: u64) -> u64 {
    let mut z = k.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

async fn load<F, Fut>(clients: usize, seconds: u64, f: F) -> Phase
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static + Clone,
    Fut: std::future::Future<Output = Option<Duration>> + Send,
{
    let until = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let f = f.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut errors = 0usize;
            let mut i = 0u64;
            while Instant::now() < until {
                match f(c, i).await {
                    Some(took) => lat.push(took.as_micros() as u32),
                    None => errors += 1,
                }
                i += 1;
            }
            (lat, errors)
        }));
    }
    let mut lat = Vec::new();
    let mut errors = 0;
    for t in tasks {
        if let Ok((l, e)) = t.await {
            lat.extend(l);
            errors += e;
        }
    }
    summarise(lat, errors, started.elapsed().as_secs_f64())
}

/// Calls `f` at `rate` per second for `seconds`, each call on its own task (a slow answer does
/// not hold back the next call): load at a steady pace, not as fast as the server goes.
pub(crate) async fn paced<F, Fut>(rate: u64, seconds: u64, f: F) -> Phase
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static + Clone,
    Fut: std::future::Future<Output = Option<Duration>> + Send + 'static,
{
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    let total = rate.max(1) * seconds;
    for i in 0..total {
        let due = started + Duration::from_secs_f64(i as f64 / rate.max(1) as f64);
        tokio::time::sleep_until(due.into()).await;
        tasks.spawn(f(0, i));
    }
    let mut lat = Vec::new();
    let mut errors = 0;
    while let Some(r) = tasks.join_next().await {
        match r {
            Ok(Some(took)) => lat.push(took.as_micros() as u32),
            _ => errors += 1,
        }
    }
    summarise(lat, errors, started.elapsed().as_secs_f64())
}

pub fn run(args: HttpBenchArgs) -> Result<(), String> {
    crate::bench::LINES.store(args.lines.max(1), std::sync::atomic::Ordering::Relaxed);
    let scratch = aftersale_http::scratch::Scratch::claim(&args.dir, "bench-http")?;
    let pg = match args.database.as_deref().map(aftersale_engine::store::url::DatabaseUrl::parse).transpose()? {
        None | Some(aftersale_engine::store::url::DatabaseUrl::Sqlite(_)) => None,
        Some(aftersale_engine::store::url::DatabaseUrl::Postgres(u)) => Some(u),
    };
    let db = args.dir.join("aftersale.db");
    let token_file = args.dir.join("token");
    // On PostgreSQL, the URL of the seeded schema, kept for --reuse.
    let schema_file = args.dir.join("postgres_url");
    let seeded = if pg.is_some() { schema_file.exists() } else { db.exists() };
    let (token, schema) = if args.reuse && seeded && token_file.exists() {
        (std::fs::read_to_string(&token_file).map_err(err)?, std::fs::read_to_string(&schema_file).ok())
    } else {
        scratch.empty()?;
        let base = SystemClock.now();
        let t = Instant::now();
        eprintln!("seeding {} cases…", args.cases);
        let (token, schema) = match &pg {
            Some(url) => {
                let (schema, token) = crate::bench_http_pg::seed(&args.dir, url, args.cases, base)?;
                std::fs::write(&schema_file, &schema).map_err(err)?;
                (token, Some(schema))
            }
            None => (seed(&db, args.cases, base)?, None),
        };
        eprintln!("seeded in {:.0} s", t.elapsed().as_secs_f64());
        std::fs::write(&token_file, &token).map_err(err)?;
        (token, schema)
    };
    let (raw_page, raw_searches, raw_cmds) = match &schema {
        Some(url) => {
            // Statistics first: the copy leaves none, and the server plans with them.
            crate::bench_http_pg::vacuum(url)?;
            let page = crate::bench_http_pg::raw_page(url, 2_000)?;
            let mut found = Vec::new();
            for search in searches() {
                let samples = if search.label.contains("2 chars") { 20 } else { 500 };
                found.push(crate::bench_http_pg::raw_search(url, &search, args.cases as u64, samples)?);
            }
            let commands = crate::bench_http_pg::raw_commands(url, args.seconds, args.cases, 4)?;
            // The server's phase starts on a database as clean as the raw loop's did.
            crate::bench_http_pg::vacuum(url)?;
            (page, found, commands)
        }
        None => {
            let page = raw_page(&db, 2_000)?;
            let mut found = Vec::new();
            for search in searches() {
                let samples = if search.label.contains("2 chars") { 20 } else { 500 };
                found.push(raw_search(&db, &search, args.cases as u64, samples)?);
            }
            (page, found, raw_commands(&db, args.seconds, args.cases)?)
        }
    };

    // The server: the real binary, its own process.
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map_err(err)?.port();
    let exe = std::env::current_exe().map_err(err)?;
    let mut command = std::process::Command::new(exe);
    command.args(["serve", "--bind", &format!("127.0.0.1:{port}")]);
    match &schema {
        Some(url) => command.args(["--database", url]),
        None => command.arg("--db").arg(&db),
    };
    let mut child = command
        .env("AFTERSALE_LOG__LEVEL", "warn")
        // Refunds settle on the service's clock, as the raw loop's do (the mix measures the
        // write path, not a payment service).
        .env("AFTERSALE_PAYMENTS__GATEWAY", "simulated")
        // The webhook phase's receiver is on 127.0.0.1, over plain HTTP.
        .env("AFTERSALE_WEBHOOKS__ALLOW_INSECURE", "true")
        .env("AFTERSALE_WEBHOOKS__ALLOW_PRIVATE_TARGETS", "true")
        .env("AFTERSALE_DATABASE__CACHE_MIB", args.cache_mb.to_string())
        .env("AFTERSALE_EVIDENCE__DIR", args.dir.join("evidence"))
        .stdout(std::process::Stdio::null())
        .spawn()
        .map_err(err)?;
    let pid = child.id();
    // Where the previous run's mix stopped: each run goes on from there, on cases it has not
    // refunded and with commands it has not sent (a run that replayed the last one's sequence
    // would pile its messages onto the same cases, run after run).
    let cursor_file = args.dir.join("refund_cursor");
    let sequence_file = args.dir.join("mix_cursor");
    let read_cursor = |f: &Path| std::fs::read_to_string(f).ok().and_then(|t| t.trim().parse().ok()).unwrap_or(0u64);
    let refunds = Arc::new(std::sync::atomic::AtomicU64::new(read_cursor(&cursor_file)));
    let sequence = Arc::new(std::sync::atomic::AtomicU64::new(read_cursor(&sequence_file)));
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(err)?;
    let result = rt.block_on(async {
        let client = Client::new(&format!("http://127.0.0.1:{port}")).with_token(&token);
        let mut ready = false;
        for _ in 0..100 {
            if client.get("/readyz").await.map(|r| r.status == 200).unwrap_or(false) {
                ready = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if !ready {
            return Err("the server did not become ready".to_string());
        }
        let n = args.cases as u64;
        let c = client.clone();
        let (refunds, sequence) = (refunds.clone(), sequence.clone());
        // Warm-up, then the command mix: command `k` of the run's sequence on a case spread
        // evenly over the shop (`spread`), so that no case collects the mix's messages.
        let mix = move |_: usize, _: u64| {
            let c = c.clone();
            let k = sequence.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let (action, body, id) = match k % 4 {
                0 | 1 => ("set_remark", json!({ "text": format!("note {k}") }), spread(k) % n + 1),
                2 => ("post_message", json!({ "text": "您好，已收到" }), spread(k) % n + 1),
                // Each refund on a case not refunded before (in this run or an earlier one).
                _ => ("refund", json!({}), n - refunds.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % n),
            };
            async move {
                let (r, took) = timed_request(c.post(&format!("/api/v1/cases/{id}/actions/{action}"), &body)).await;
                let ok = matches!(r, Ok(ref r) if r.status == 200);
                if !ok {
                    static SHOWN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
                    if SHOWN.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < 3 {
                        eprintln!(
                            "command error ({action} on case {id}): {:?}",
                            r.map(|r| String::from_utf8_lossy(&r.body).to_string())
                        );
                    }
                }
                ok.then_some(took)
            }
        };
        let _ = load(args.clients, 2, mix.clone()).await;
        let mix_again = mix.clone();
        let commands = load(args.clients, args.seconds, mix).await;
        let c = client.clone();
        let page = load(args.page_clients, args.seconds, move |_, _| {
            let c = c.clone();
            async move {
                let (r, took) = timed_request(c.get("/api/v1/cases?queue=refund_only&limit=50")).await;
                match r {
                    Ok(r) if r.status == 200 => {
                        let v = r.json();
                        let full = v["items"].as_array().map(|a| a.len() == 50).unwrap_or(false) && v["counts"].is_object();
                        full.then_some(took)
                    }
                    other => {
                        static SHOWN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
                        if SHOWN.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < 3 {
                            eprintln!(
                                "queue page error: {:?}",
                                other.map(|r| String::from_utf8_lossy(&r.body).to_string())
                            );
                        }
                        None
                    }
                }
            }
        })
        .await;
        // The workbench's queue page: the same query rendered as HTML, with the tabs' counts.
        let c = client.clone();
        let html_page = load(args.page_clients, args.seconds, move |_, _| {
            let c = c.clone();
            async move {
                let (r, took) = timed_request(c.get("/w/queue?queue=refund_only")).await;
                match r {
                    Ok(r) if r.status == 200 => {
                        let body = String::from_utf8_lossy(&r.body);
                        let full = body.matches("<tr data-case=").count() == 50 && body.contains("class=\"count\"");
                        full.then_some(took)
                    }
                    other => {
                        static SHOWN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
                        if SHOWN.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < 3 {
                            eprintln!("workbench page error: {:?}", other.map(|r| r.status));
                        }
                        None
                    }
                }
            }
        })
        .await;
        // Its weight: the HTML, the stylesheet and the script (no images on a queue page).
        let html = client.get("/w/queue?queue=refund_only").await.map(|r| r.body.to_vec()).unwrap_or_default();
        let text = String::from_utf8_lossy(&html).to_string();
        let mut weight = html.len();
        for attr in ["href=\"/assets/", "src=\"/assets/"] {
            if let Some(rest) = text.split(attr).nth(1) {
                let name = rest.split('"').next().unwrap_or("");
                weight += client.get(&format!("/assets/{name}")).await.map(|r| r.body.len()).unwrap_or(0);
            }
        }
        // The searches, one after another, each for a third of the phase time.
        let mut found = Vec::new();
        for search in searches() {
            let c = client.clone();
            let q = search.query;
            let secs = (args.seconds / 3).max(2);
            let phase = load(args.page_clients, secs, move |client_no, i| {
                let c = c.clone();
                let path = format!("/api/v1/cases?{}&limit=50", q(client_no as u64 * 1_000_003 + i, n));
                async move {
                    let (r, took) = timed_request(c.get(&path)).await;
                    match r {
                        Ok(r) if r.status == 200 => {
                            r.json()["items"].as_array().is_some_and(|a| !a.is_empty()).then_some(took)
                        }
                        other => {
                            static SHOWN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
                            if SHOWN.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < 3 {
                                eprintln!("search error ({path}): {:?}", other.map(|r| String::from_utf8_lossy(&r.body).to_string()));
                            }
                            None
                        }
                    }
                }
            })
            .await;
            found.push(phase);
        }
        // The server's own view of the command latency (from its histogram): the difference to
        // the client's is time in the load generator and the network stack.
        let metrics = client.get("/metrics").await.map(|r| String::from_utf8_lossy(&r.body).to_string()).unwrap_or_default();
        let series = |suffix: &str| {
            metrics
                .lines()
                .find(|l| l.starts_with(&format!("aftersale_http_request_duration_seconds_{suffix}{{method=\"POST\",route=\"/api/v1/cases/{{case}}/actions/{{action}}\"")))
                .and_then(|l| l.rsplit(' ').next())
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        let server_mean_ms = if series("count") > 0.0 { series("sum") / series("count") * 1000.0 } else { 0.0 };
        // Last: the same mix with three webhook endpoints subscribed to every event.
        let owner_token = std::fs::read_to_string(args.dir.join("owner_token")).map_err(err)?;
        let owner = Client::new(&format!("http://127.0.0.1:{port}")).with_token(owner_token.trim());
        let steady = mix_again.clone();
        let hooks = crate::bench_webhooks::phase(
            &owner,
            || load(args.clients, args.seconds, mix_again),
            || paced(args.webhook_rate, args.seconds, steady),
        )
        .await?;
        Ok((commands, page, server_mean_ms, found, html_page, weight, html.len(), hooks))
    });
    let _ = std::fs::write(&cursor_file, refunds.load(std::sync::atomic::Ordering::Relaxed).to_string());
    let _ = std::fs::write(&sequence_file, sequence.load(std::sync::atomic::Ordering::Relaxed).to_string());
    let (rss, hwm) = rss_of(pid);
    let _ = child.kill();
    let _ = child.wait();
    let (commands, page, server_mean_ms, found, html_page, weight, html_bytes, hooks) = result?;
    // The raw page again, on the queue as the load left it (refunds moved its most urgent cases
    // to another queue): the server's pages were read on this state, not on the seeded one.
    let raw_page_after = match &schema {
        Some(url) => crate::bench_http_pg::raw_page(url, 2_000)?,
        None => self::raw_page(&db, 2_000)?,
    };
    let search_json: Vec<serde_json::Value> = searches()
        .iter()
        .zip(found.iter().zip(&raw_searches))
        .map(|(s, (h, r))| {
            json!({ "search": s.label, "per_s": h.per_s.round(), "p50_ms": h.p50_ms, "p99_ms": h.p99_ms, "errors": h.errors,
                    "raw_p50_ms": r.p50_ms, "raw_p99_ms": r.p99_ms })
        })
        .collect();
    let backend = if schema.is_some() { "postgres" } else { "sqlite" };
    let out = json!({
        "backend": backend,
        "cases": args.cases,
        "lines": args.lines,
        "clients": args.clients,
        "commands_per_s": commands.per_s.round(),
        "commands_p50_ms": commands.p50_ms,
        "commands_p99_ms": commands.p99_ms,
        "command_errors": commands.errors,
        "commands_server_mean_ms": (server_mean_ms * 100.0).round() / 100.0,
        "raw_commands_per_s": raw_cmds.round(),
        "commands_ratio": (commands.per_s / raw_cmds * 100.0).round() / 100.0,
        "page_clients": args.page_clients,
        "queue_page_per_s": page.per_s.round(),
        "queue_page_p50_ms": page.p50_ms,
        "queue_page_p99_ms": page.p99_ms,
        "queue_page_errors": page.errors,
        "workbench_page_per_s": html_page.per_s.round(),
        "workbench_page_p50_ms": html_page.p50_ms,
        "workbench_page_p99_ms": html_page.p99_ms,
        "workbench_page_errors": html_page.errors,
        "workbench_page_html_bytes": html_bytes,
        "workbench_page_weight_bytes": weight,
        "raw_page_p50_ms": raw_page.p50_ms,
        "raw_page_p99_ms": raw_page.p99_ms,
        "raw_page_after_load_p50_ms": raw_page_after.p50_ms,
        "raw_page_after_load_p99_ms": raw_page_after.p99_ms,
        "searches": search_json,
        "webhook_commands_per_s": hooks.commands.per_s.round(),
        "webhook_commands_ratio": (hooks.commands.per_s / commands.per_s.max(1.0) * 100.0).round() / 100.0,
        "webhooks_delivered": hooks.delivered,
        "webhooks_delivered_per_s": hooks.per_s.round(),
        "webhook_lag_p50_ms": hooks.lag_p50_ms,
        "webhook_lag_p99_ms": hooks.lag_p99_ms,
        "webhook_steady_commands_per_s": hooks.steady.per_s.round(),
        "webhook_steady_delivered": hooks.steady_delivered,
        "webhook_steady_lag_p50_ms": hooks.steady_lag_p50_ms,
        "webhook_steady_lag_p99_ms": hooks.steady_lag_p99_ms,
        "server_rss_mb": rss.round(),
        "server_peak_rss_mb": hwm.round(),
    });
    if args.json {
        println!("{out}");
    } else {
        println!(
            "HTTP load, {} cases ({} line(s) per order) in one shop's queue, server `aftersale serve` (pid {pid}) on {backend}",
            args.cases, args.lines
        );
        println!(
            "  command mix      {:>8.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms  errors {}  ({} clients)",
            commands.per_s, commands.p50_ms, commands.p99_ms, commands.errors, args.clients
        );
        println!("  server-side mean {server_mean_ms:>8.2} ms per command");
        let raw_shape = if schema.is_some() { "4 connections" } else { "1 thread" };
        println!("  raw ceiling      {:>8.0} cmd/s  (same row writes, 64 per commit, {raw_shape})", raw_cmds);
        println!(
            "  queue page (50)  {:>8.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms  errors {}  ({} clients)",
            page.per_s, page.p50_ms, page.p99_ms, page.errors, args.page_clients
        );
        println!(
            "  workbench page   {:>8.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms  errors {}  (HTML, 50 rows and the tabs' counts)",
            html_page.per_s, html_page.p50_ms, html_page.p99_ms, html_page.errors
        );
        println!(
            "  workbench/JSON p99 {:.2}x; page weight {:.1} kB (HTML {:.1} kB + stylesheet and script, uncompressed)",
            html_page.p99_ms / page.p99_ms.max(0.001),
            weight as f64 / 1024.0,
            html_bytes as f64 / 1024.0
        );
        println!("  raw page+counts           p50 {:>6.2} ms  p99 {:>6.2} ms", raw_page.p50_ms, raw_page.p99_ms);
        println!(
            "  … after the load          p50 {:>6.2} ms  p99 {:>6.2} ms",
            raw_page_after.p50_ms, raw_page_after.p99_ms
        );
        for (s, (h, r)) in searches().iter().zip(found.iter().zip(&raw_searches)) {
            println!(
                "  search: {:<30} {:>6.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms  errors {}  (raw p50 {:.2} ms, p99 {:.2} ms)",
                s.label, h.per_s, h.p50_ms, h.p99_ms, h.errors, r.p50_ms, r.p99_ms
            );
        }
        println!(
            "  with 3 webhooks  {:>8.0} req/s  ({:.2} of the mix without)  p99 {:>6.2} ms",
            hooks.commands.per_s,
            hooks.commands.per_s / commands.per_s.max(1.0),
            hooks.commands.p99_ms
        );
        println!(
            "  deliveries       {:>8.0} /s    {} delivered; lag from the event p50 {:.0} ms, p99 {:.0} ms",
            hooks.per_s, hooks.delivered, hooks.lag_p50_ms, hooks.lag_p99_ms
        );
        println!(
            "  at a steady pace {:>8.0} req/s  p99 {:>6.2} ms; {} delivered, lag from the event p50 {:.0} ms, p99 {:.0} ms",
            hooks.steady.per_s, hooks.steady.p99_ms, hooks.steady_delivered, hooks.steady_lag_p50_ms, hooks.steady_lag_p99_ms
        );
        println!("  server RSS {rss:.0} MB, peak {hwm:.0} MB");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::spread;

    /// The mix's messages (every fourth command) land on as many cases as there are messages,
    /// and on the store's writers (case id modulo 4) evenly. The old mix (per client
    /// `k = client * 1_000_003 + i`, case `k * 40_503 % n`) sent them to the cases
    /// `40_503 * (3 * client + i) mod n`: a few hundred cases, all of one residue modulo 4, the
    /// same ones every run, each thread growing by hundreds of messages a run.
    #[test]
    fn the_mix_spreads_its_messages_over_the_shop() {
        let n = 1_000_000u64;
        let ids: Vec<u64> = (0..40_000u64).filter(|k| k % 4 == 2).map(|k| spread(k) % n + 1).collect();
        let mut distinct = ids.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert!(distinct.len() > ids.len() * 99 / 100, "{} distinct cases of {}", distinct.len(), ids.len());
        for r in 0..4 {
            let share = ids.iter().filter(|id| *id % 4 == r).count();
            assert!((2_300..=2_700).contains(&share), "residue {r}: {share} of {}", ids.len());
        }
    }
}
