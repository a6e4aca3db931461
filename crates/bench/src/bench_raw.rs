//! The raw SQLite ceilings `aftersale bench` measures beside the engine: bare transactions doing
//! the same row writes per command, and per firing, as the engine does, on the engine's own
//! tables (a database the engine made and seeded, then written to directly).

use crate::bench::*;
use aftersale_core::model::*;
use aftersale_core::*;
use rusqlite::{params, Connection};
use std::path::{Path, PathBuf};
use std::time::Instant;

pub(crate) fn raw_conn(path: &Path) -> Result<Connection, String> {
    let cache_mb = cache_mb();
    let conn = Connection::open(path).map_err(err)?;
    conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get::<_, String>(0)).map_err(err)?;
    conn.execute_batch(&format!(
        "PRAGMA synchronous=FULL; PRAGMA cache_size=-{}; PRAGMA temp_store=MEMORY;",
        u64::from(cache_mb) * 1024
    ))
    .map_err(err)?;
    Ok(conn)
}

/// A database with the engine's schema and `n` seeded cases whose review deadline is due, for
/// the raw loops to work on the same tables, indexes and row sizes as the engine.
pub(crate) fn raw_db(dir: &Path, n: usize) -> Result<(PathBuf, Connection), String> {
    let path = fresh(dir, "raw");
    let s = setup(&path, 1)?;
    seed_due_cases(&s, n)?;
    s.store.close();
    drop(s);
    Ok((path.clone(), raw_conn(&path)?))
}

/// The raw ceiling for one command on the engine's tables: read the case row, update it, insert
/// one log row, delete one deadline row and insert another; `per_commit` commands per commit.
pub(crate) fn raw_commands(dir: &Path, commands: usize, per_commit: usize) -> Result<f64, String> {
    let rows = (commands / 4).max(1);
    let (_, mut conn) = raw_db(dir, rows)?;
    let start = Instant::now();
    let mut done = 0usize;
    while done < commands {
        let tx = conn.transaction().map_err(err)?;
        for _ in 0..per_commit.min(commands - done) {
            let id = (done % rows) as i64 + 1;
            let visit = (done / rows) as i64;
            let kinds = ["review", "buyer_ship"];
            let extras = Extras::of(done);
            raw_step(&tx, id, visit, kinds[(visit % 2) as usize], kinds[((visit + 1) % 2) as usize], extras.order)?;
            raw_extras(&tx, id, visit, &extras)?;
            done += 1;
        }
        tx.commit().map_err(err)?;
    }
    Ok(done as f64 / start.elapsed().as_secs_f64())
}

/// What command `i` of the engine's flow mix writes beside its case, log and deadline rows.
/// Counted on the rows the flows leave (`run_flows`: per six commands two applies and four
/// decisions): the order row on two commands in three (an apply marks the order, a refund
/// cancels or settles it), a notice on one in two, an SMS on one in six. The raw command loops
/// write the same, so that their ceiling is the engine's transaction shape, not a lighter one.
pub(crate) struct Extras {
    pub(crate) order: bool,
    pub(crate) notice: bool,
    pub(crate) sms: bool,
}

impl Extras {
    pub(crate) fn of(i: usize) -> Extras {
        Extras { order: !i.is_multiple_of(3), notice: i.is_multiple_of(2), sms: i.is_multiple_of(6) }
    }
}

/// A notice and an SMS of the sizes the engine writes (`return_agreed`'s).
pub(crate) const NOTICE: [&str; 3] = [
    "after_sales",
    "Return agreed for AS00000001",
    "Ship the goods back to 浙江省杭州市 余杭区 1 号 and submit the tracking number.",
];

pub(crate) const SMS: [&str; 2] =
    ["13000000001", "【售后】您的退货申请AS00000001已同意，请寄回至：浙江省杭州市 余杭区 1 号 退货仓 13900001111。"];

/// The notice and SMS rows of `extras`, bare.
pub(crate) fn raw_extras(tx: &rusqlite::Transaction<'_>, id: i64, n: i64, extras: &Extras) -> Result<(), String> {
    if extras.notice {
        tx.prepare_cached(
            "INSERT INTO notices (recipient, recipient_id, case_id, category, title, body, created_at) \
             VALUES ('buyer', ?, ?, ?, ?, ?, ?)",
        )
        .and_then(|mut s| s.execute(params![id, id, NOTICE[0], NOTICE[1], NOTICE[2], n]))
        .map_err(err)?;
    }
    if extras.sms {
        tx.prepare_cached("INSERT INTO sms_outbox (phone, text, case_id, created_at) VALUES (?, ?, ?, ?)")
            .and_then(|mut s| s.execute(params![SMS[0], SMS[1], id, n]))
            .map_err(err)?;
    }
    Ok(())
}

/// A case as the engine stores it after its review deadline refunded the buyer, for the raw loops
/// to write rows of the same size as the engine's. Built once through the core.
pub(crate) fn after_firing_json(read: &str) -> Result<&'static str, String> {
    static AFTER: std::sync::OnceLock<Result<String, String>> = std::sync::OnceLock::new();
    let _ = read;
    AFTER
        .get_or_init(|| {
            let policy = Policy::douyin();
            let o = order(1, OrderState::Delivered)?;
            let applied = applied_refund_only(1, T0);
            let mut case = Case::open(&o, &applied).ok_or("no case")?;
            case.reminders.push((DeadlineKind::ReviewReminder, T0 + policy.review));
            let now = T0 + policy.review;
            let ctx = Ctx { policy: &policy, now, default_address: None };
            let events =
                decide_case(&o, &case, &CaseCommand::Expire { kind: DeadlineKind::Review }, &Actor::System, &ctx)
                    .map_err(err)?;
            for event in events {
                case.apply(&Recorded { at: now, actor: Actor::System, event });
            }
            serde_json::to_string(&case).map_err(err)
        })
        .as_deref()
        .map_err(|e| e.clone())
}

/// The domain events row the engine writes with that firing (its types and document), for the
/// raw loops to write one of the same size: every command of the flow mix and every firing
/// writes one. Built once through the core.
pub(crate) fn published_row() -> Result<(&'static str, &'static str), String> {
    static ROW: std::sync::OnceLock<Result<(String, String), String>> = std::sync::OnceLock::new();
    ROW.get_or_init(|| {
        let policy = Policy::douyin();
        let o = order(1, OrderState::Delivered)?;
        let applied = applied_refund_only(1, T0);
        let before = Case::open(&o, &applied).ok_or("no case")?;
        let now = T0 + policy.review;
        let ctx = Ctx { policy: &policy, now, default_address: None };
        let events =
            decide_case(&o, &before, &CaseCommand::Expire { kind: DeadlineKind::Review }, &Actor::System, &ctx)
                .map_err(err)?;
        let recorded: Vec<Recorded> =
            events.into_iter().map(|event| Recorded { at: now, actor: Actor::System, event }).collect();
        let mut after = before.clone();
        for r in &recorded {
            after.apply(r);
        }
        let told =
            aftersale_core::published(&o, &o, Some(&before), Some(&after), &recorded).ok_or("nothing published")?;
        let row = aftersale_engine::PublishedRow::new(o.shop_id, &told).map_err(err)?;
        Ok((row.types, row.data))
    })
    .as_ref()
    .map(|(t, d)| (t.as_str(), d.as_str()))
    .map_err(|e| e.clone())
}

/// The row writes of one command or firing, bare: read the case, update it, insert one log row
/// and one row of domain events, delete the deadline `gone` and insert `next`.
pub(crate) fn raw_step(
    tx: &rusqlite::Transaction<'_>,
    id: i64,
    n: i64,
    gone: &str,
    next: &str,
    with_order: bool,
) -> Result<(), String> {
    let read: String = tx
        .prepare_cached("SELECT data FROM cases WHERE id = ?")
        .and_then(|mut s| s.query_row([id], |r| r.get(0)))
        .map_err(err)?;
    // The row written is what the engine writes for this firing: the case after it.
    let data = after_firing_json(&read)?;
    tx.prepare_cached(
        "UPDATE cases SET status = 'refunding', queue = 'in_progress', due_at = ?, updated_at = ?, version = version + 1, data = ? WHERE id = ?",
    )
    .and_then(|mut s| s.execute(params![n + 1_000_000, n, data, id]))
    .map_err(err)?;
    if with_order {
        // The order row a refund also rewrites (B3 accounting): read it and write it back.
        let order: String = tx
            .prepare_cached("SELECT data FROM orders WHERE id = ?")
            .and_then(|mut s| s.query_row([id], |r| r.get(0)))
            .map_err(err)?;
        tx.prepare_cached("UPDATE orders SET version = version + 1, data = ? WHERE id = ?")
            .and_then(|mut s| s.execute(params![order, id]))
            .map_err(err)?;
    }
    tx.prepare_cached("INSERT INTO events (order_id, case_id, at, actor, kind, data) VALUES (?, ?, ?, '{\"role\":\"system\"}', 'deadline_fired', ?)")
        .and_then(|mut s| {
            s.execute(params![id, id, n, "[{\"type\":\"deadline_fired\",\"kind\":\"review\",\"due\":1},{\"type\":\"refund_started\",\"amount\":{\"minor\":10000,\"currency\":\"CNY\"},\"settle_at\":2,\"cancels_order\":false}]"])
        })
        .map_err(err)?;
    let (types, published) = published_row()?;
    tx.prepare_cached(
        "INSERT INTO domain_events (at, shop_id, order_id, case_id, types, data) VALUES (?, 1, ?, ?, ?, ?)",
    )
    .and_then(|mut s| s.execute(params![n, id, id, types, published]))
    .map_err(err)?;
    tx.prepare_cached("DELETE FROM deadlines WHERE subject = 'case' AND subject_id = ? AND kind = ?")
        .and_then(|mut s| s.execute(params![id, gone]))
        .map_err(err)?;
    tx.prepare_cached("INSERT INTO deadlines (subject, subject_id, kind, due_at, version) VALUES ('case', ?, ?, ?, ?)")
        .and_then(|mut s| s.execute(params![id, next, n + 1_000_000_000_000, n]))
        .map_err(err)?;
    Ok(())
}

/// The raw ceiling for firings on the engine's tables: claim due rows, and per row do the row
/// writes of `raw_step`; `batch` rows per transaction. Returns how many fired.
pub(crate) fn raw_fire_due(conn: &mut Connection, now: i64, batch: usize, with_order: bool) -> Result<usize, String> {
    let mut fired = 0usize;
    loop {
        let due: Vec<(i64, String)> = conn
            .prepare_cached(
                "SELECT subject_id, kind FROM deadlines WHERE due_at <= ? ORDER BY due_at, subject, subject_id, kind LIMIT ?",
            )
            .and_then(|mut s| s.query_map(params![now, batch as i64], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
            .map_err(err)?;
        if due.is_empty() {
            return Ok(fired);
        }
        let tx = conn.transaction().map_err(err)?;
        for (id, kind) in due {
            raw_step(&tx, id, now, &kind, "refund_settle", with_order)?;
            fired += 1;
        }
        tx.commit().map_err(err)?;
    }
}
