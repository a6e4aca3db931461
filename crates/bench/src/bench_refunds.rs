//! `aftersale bench-refunds`: what paying refunds through a payment service costs. The same
//! database is made twice — `n` refund-only cases whose review window has run out — and the
//! deadline runner fires them all (each starts a refund); then the refunds are paid: by the
//! simulated gateway's settlement deadlines a working day later, or by the refund dispatcher
//! sending each to a payment service this process runs on 127.0.0.1 (signed, answered
//! "succeeded" at once). It prints firings per second and refunds paid per second for both, and
//! the ratios of `http` to `simulated`.

use crate::bench::{err, fresh, seed_refund_only, setup, T0};
use aftersale_core::time::Dur;
use aftersale_engine::Runner;
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(clap::Args, Debug)]
pub struct RefundBenchArgs {
    /// Refund-only cases whose review window has run out.
    #[arg(long, default_value_t = 100_000)]
    cases: usize,
    /// Directory for the databases (fresh files each run).
    #[arg(long, default_value = "data/bench-refunds")]
    dir: PathBuf,
    /// Refunds the dispatcher has in flight at once (`payments.concurrency`).
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Run one gateway only (`simulated` or `http`; for a profiler), printing its figures.
    #[arg(long)]
    only: Option<String>,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    json: bool,
}

/// What one gateway's run measured.
struct Figures {
    firings_per_s: f64,
    paid_per_s: f64,
}

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// The payment service: every refund paid at once, under its key.
async fn pay(headers: axum::http::HeaderMap) -> String {
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).unwrap_or("");
    format!("{{\"status\":\"succeeded\",\"reference\":\"P-{key}\"}}")
}

fn run_one(args: &RefundBenchArgs, gateway: &str, service: &str) -> Result<Figures, String> {
    let n = args.cases;
    // The cases, seeded through the engine (as `bench` seeds them), applied in the first second.
    let path = fresh(&args.dir, &format!("refunds-{gateway}"));
    let s = setup(&path, 64)?;
    seed_refund_only(&s.engine, n, |id| T0 + Dur(id % 1_000), false)?;
    s.store.close();
    drop(s);
    let mut config = aftersale_http::config::Config::default();
    config.database.path = path.clone();
    config.server.manual_clock = true;
    config.evidence.dir = args.dir.join("evidence");
    config.sms.provider = "none".into();
    config.payments.gateway = gateway.into();
    config.payments.http.url = service.into();
    config.payments.http.secret = SECRET.into();
    config.payments.poll_ms = 5;
    // Refunds one node has in flight at once (and records in one commit).
    config.payments.concurrency = args.concurrency;
    let state = aftersale_http::app::build_state(&config, Some(T0))?;
    let clock = state.manual_clock.clone().ok_or("no manual clock")?;
    let runner = Runner::new(state.engine.clone());
    let fire_all = |label: &str| -> Result<f64, String> {
        let start = Instant::now();
        let mut fired = 0;
        while fired < n as u64 {
            let stats = runner.run_due().map_err(err)?;
            if stats.fired == 0 {
                return Err(format!("{label}: {fired} of {n} fired, then nothing was due"));
            }
            fired += stats.fired;
        }
        Ok(n as f64 / start.elapsed().as_secs_f64())
    };
    // Every review window has run out: each firing starts a refund.
    clock.set(T0 + Dur::hours(48) + Dur(2_000));
    let firings_per_s = fire_all("review")?;
    let paid_per_s = if gateway == "simulated" {
        // A working day later (a weekend at most in between) the settlement deadlines are due.
        clock.set(T0 + Dur::days(6));
        fire_all("settlement")?
    } else {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().map_err(err)?;
        let adapter = state.refunds.clone().ok_or("no refund dispatcher for this gateway")?;
        let conn = rusqlite::Connection::open(&path).map_err(err)?;
        eprintln!("paying through the dispatcher");
        let start = Instant::now();
        // `spawn` starts a task on the runtime it is called in.
        let task = {
            let _inside = rt.enter();
            aftersale_http::outbound::refunds::spawn(state.clone(), adapter)
        };
        // Watched on the node's counter of answers (free), then on the due index until the last
        // answer is recorded: watching costs the run nothing.
        loop {
            let left: i64 = if state.metrics.refunds_paid.get() < n as u64 {
                n as i64 - state.metrics.refunds_paid.get() as i64
            } else {
                conn.query_row(
                    "SELECT COUNT(*) FROM refunds INDEXED BY refunds_due WHERE status IN ('requested', 'pending')",
                    [],
                    |r| r.get(0),
                )
                .map_err(err)?
            };
            if left == 0 {
                break;
            }
            if start.elapsed() > Duration::from_secs(600) {
                return Err(format!("{left} of {n} refunds unpaid after 10 minutes"));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let per_s = n as f64 / start.elapsed().as_secs_f64();
        task.abort();
        let paid: i64 =
            conn.query_row("SELECT COUNT(*) FROM refunds WHERE status = 'succeeded'", [], |r| r.get(0)).map_err(err)?;
        if paid as usize != n {
            return Err(format!("{paid} of {n} refunds paid"));
        }
        per_s
    };
    state.engine.store().close();
    let _ = std::fs::remove_file(&path);
    Ok(Figures { firings_per_s, paid_per_s })
}

pub fn run(args: RefundBenchArgs) -> Result<(), String> {
    std::fs::create_dir_all(&args.dir).map_err(err)?;
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().map_err(err)?;
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).map_err(err)?;
    let service = format!("http://{}/pay", listener.local_addr().map_err(err)?);
    rt.spawn(async move {
        let app = axum::Router::new().route("/pay", axum::routing::post(pay));
        let _ = axum::serve(listener, app).await;
    });
    if let Some(gateway) = args.only.as_deref() {
        if !matches!(gateway, "simulated" | "http") {
            return Err(format!("--only takes simulated or http, not {gateway:?}"));
        }
        let f = run_one(&args, gateway, &service)?;
        println!("{gateway}: review firings/s {:.0}, refunds paid/s {:.0}", f.firings_per_s, f.paid_per_s);
        return Ok(());
    }
    let simulated = run_one(&args, "simulated", &service)?;
    let http = run_one(&args, "http", &service)?;
    let ratio = |a: f64, b: f64| (a / b.max(1.0) * 100.0).round() / 100.0;
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "cases": args.cases,
                "concurrency": args.concurrency,
                "simulated_firings_per_s": simulated.firings_per_s.round(),
                "simulated_paid_per_s": simulated.paid_per_s.round(),
                "http_firings_per_s": http.firings_per_s.round(),
                "http_paid_per_s": http.paid_per_s.round(),
                "firings_ratio": ratio(http.firings_per_s, simulated.firings_per_s),
                "paid_ratio": ratio(http.paid_per_s, simulated.paid_per_s),
            })
        );
    } else {
        println!(
            "Refunds of {} cases whose review ran out (SQLite, one process; {} refunds in flight)",
            args.cases, args.concurrency
        );
        println!("  gateway     review firings/s   refunds paid/s");
        println!("  simulated   {:>16.0}   {:>14.0}", simulated.firings_per_s, simulated.paid_per_s);
        println!("  http        {:>16.0}   {:>14.0}", http.firings_per_s, http.paid_per_s);
        println!(
            "  http / simulated: firings {:.2}, paid {:.2}",
            ratio(http.firings_per_s, simulated.firings_per_s),
            ratio(http.paid_per_s, simulated.paid_per_s)
        );
    }
    Ok(())
}
