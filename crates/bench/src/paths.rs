//! `aftersale hot-path NAME N`: one of the five hot paths run N times after a setup that does
//! not depend on N, for an instruction counter. `scripts/instructions.sh` runs it under
//! callgrind at N and at 2N: the difference of the two totals, divided by N, is what one pass
//! of the path costs, setup and start-up cancelled out. Instruction counts do not depend on a
//! noisy machine the way times do, so a rise of more than a fifth is a change, not noise.
//!
//! - `decide_refund`: the core deciding a merchant's refund of a refund-only case (no I/O);
//! - `command`: a refund through the engine on SQLite: decide, write the case, its log, events,
//!   deadlines and ledger, commit (group commit, `synchronous=FULL`), answer;
//! - `fire`: the deadline runner firing one due review deadline (a refund follows);
//! - `queue_json`: `GET /api/v1/cases?queue=refund_only&limit=50` through the router, with a
//!   staff token (authentication, search, counts, JSON);
//! - `queue_html`: `GET /w/queue?queue=refund_only`, the workbench's page of the same queue.

use crate::bench::{applied_refund_only, err, order, setup, T0};
use aftersale_core::command::*;
use aftersale_core::model::*;
use aftersale_core::values::*;
use aftersale_core::*;
use aftersale_engine::*;
use std::hint::black_box;
use std::path::Path;

/// Cases every setup seeds, whatever N: N may be at most half of it.
const SEEDED: usize = 1_000;

#[derive(clap::Args, Debug)]
pub struct HotPathArgs {
    /// decide_refund, command, fire, queue_json or queue_html.
    pub name: String,
    /// Passes of the path (at most 500 for the paths that use up a case each).
    pub n: usize,
    /// Directory for the database (emptied first).
    #[arg(long, default_value = "data/hot-path")]
    pub dir: std::path::PathBuf,
}

pub const NAMES: [&str; 5] = ["decide_refund", "command", "fire", "queue_json", "queue_html"];

pub fn run(args: HotPathArgs) -> Result<(), String> {
    if args.n > SEEDED / 2 {
        return Err(format!("n is at most {}", SEEDED / 2));
    }
    let _ = std::fs::remove_dir_all(&args.dir);
    std::fs::create_dir_all(&args.dir).map_err(err)?;
    let file = args.dir.join("hot.db");
    match args.name.as_str() {
        "decide_refund" => decide_refund(args.n),
        "command" => command(&file, args.n),
        "fire" => fire(&file, args.n),
        "queue_json" => queue(&args.dir, &file, args.n, "/api/v1/cases?queue=refund_only&limit=50"),
        "queue_html" => queue(&args.dir, &file, args.n, "/w/queue?queue=refund_only"),
        other => Err(format!("unknown hot path {other}; one of {NAMES:?}")),
    }
}

fn decide_refund(n: usize) -> Result<(), String> {
    let o = order(1, OrderState::Delivered)?;
    let r = applied_refund_only(1, T0);
    let case = Case::open(&o, &r).ok_or("no case")?;
    let mut o = o;
    o.apply_for(Some(case.id), &r);
    let policy = Policy::douyin();
    let ctx = Ctx { policy: &policy, now: T0 + Dur::hours(1), default_address: None };
    let merchant = Actor::Merchant { shop: o.shop_id, staff: StaffId(1) };
    for _ in 0..n {
        let events =
            decide_case(black_box(&o), black_box(&case), &CaseCommand::Refund, &merchant, &ctx).map_err(err)?;
        black_box(events);
    }
    Ok(())
}

fn command(file: &Path, n: usize) -> Result<(), String> {
    let s = setup(file, 64)?;
    crate::bench::seed_refund_only(&s.engine, SEEDED, |id| T0 + Dur(id * 1000), false)?;
    s.clock.set(T0 + Dur::hours(1));
    let merchant = Actor::Merchant { shop: ShopId(1), staff: StaffId(1) };
    for id in 1..=n as i64 {
        let case = s.engine.case_command(merchant, CaseId(id), CaseCommand::Refund, None, None).map_err(err)?;
        black_box(case);
    }
    s.store.close();
    Ok(())
}

fn fire(file: &Path, n: usize) -> Result<(), String> {
    let s = setup(file, 64)?;
    crate::bench::seed_refund_only(&s.engine, SEEDED, |id| T0 + Dur(id * 1000), true)?;
    // Case `id` is due `id` seconds after T0's review deadline: the first n are due.
    s.clock.set(T0 + Policy::douyin().review + Dur(n as i64 * 1000));
    let stats = Runner::new(s.engine.clone()).run_due().map_err(err)?;
    s.store.close();
    if stats.fired != n as u64 {
        return Err(format!("fired {} of {n}", stats.fired));
    }
    Ok(())
}

fn queue(dir: &Path, file: &Path, n: usize, path: &str) -> Result<(), String> {
    use tower::ServiceExt;
    let token = crate::bench_http::seed(file, SEEDED, T0)?;
    let mut config = aftersale_http::config::Config::default();
    config.database.url = format!("sqlite://{}", file.display());
    config.evidence.dir = dir.join("evidence");
    config.payments.gateway = "simulated".into();
    config.server.manual_clock = true;
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(err)?;
    let state = aftersale_http::app::build_state(&config, Some(T0))?;
    let router = aftersale_http::app::router(state);
    rt.block_on(async {
        for _ in 0..n {
            let request = axum::http::Request::get(path)
                .header("authorization", format!("Bearer {token}"))
                .body(axum::body::Body::empty())
                .map_err(err)?;
            let response = router.clone().oneshot(request).await.map_err(err)?;
            if response.status() != 200 {
                return Err(format!("{path}: {}", response.status()));
            }
            let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.map_err(err)?;
            black_box(body);
        }
        Ok::<(), String>(())
    })
}
