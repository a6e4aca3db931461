//! `aftersale bench --database postgres://…`: the same figures as on SQLite — commands one per
//! commit, commands from concurrent clients sharing commits, deadline firings — each beside the
//! raw PostgreSQL ceiling for the same transaction shape, measured in the same run: the same row
//! writes (read the case, rewrite it, append a log row, move a deadline row; for commands also
//! the order rows, notices and SMS the engine's mix writes, `bench::Extras`) issued by a bare
//! loop on prepared statements, on the engine's own tables and row sizes.

use crate::bench::{
    after_firing_json, cpu_s, engine_commands_on, err, peak_rss_mb, seed_due_cases, setup_on, BenchArgs, Extras,
    NOTICE, ROUNDS, SMS, T0,
};
use aftersale_core::*;
use aftersale_engine::store::postgres::{fresh_schema, PgOptions, PgStore};
use aftersale_engine::*;
use std::sync::Arc;
use std::time::Instant;

fn store(url: &str, max_batch: usize) -> Result<Arc<dyn Store>, String> {
    let schema = fresh_schema(url, "bench").map_err(err)?;
    Ok(Arc::new(PgStore::open(&schema, PgOptions { max_batch, ..PgOptions::default() }).map_err(err)?))
}

/// A schema with `n` refund-only cases whose review is due, seeded through the engine, and a
/// bare connection to it for the raw loops.
fn raw_db(url: &str, n: usize) -> Result<(String, postgres::Client), String> {
    let schema = fresh_schema(url, "bench_raw").map_err(err)?;
    let s = setup_on(Arc::new(PgStore::open(&schema, PgOptions::default()).map_err(err)?))?;
    seed_due_cases(&s, n)?;
    s.store.close();
    drop(s);
    let conn = postgres::Client::connect(&schema, postgres::NoTls).map_err(err)?;
    Ok((schema, conn))
}

/// The statements of one command or firing, prepared once per connection.
struct Raw {
    read: postgres::Statement,
    update: postgres::Statement,
    log: postgres::Statement,
    gone: postgres::Statement,
    next: postgres::Statement,
    read_order: postgres::Statement,
    update_order: postgres::Statement,
    claim: postgres::Statement,
    notice: postgres::Statement,
    sms: postgres::Statement,
    published: postgres::Statement,
}

impl Raw {
    fn prepare(c: &mut postgres::Client) -> Result<Raw, String> {
        let p = |c: &mut postgres::Client, sql: &str| c.prepare(sql).map_err(err);
        Ok(Raw {
            read: p(c, "SELECT data FROM cases WHERE id = $1 FOR UPDATE")?,
            update: p(
                c,
                "UPDATE cases SET status = 'refunding', queue = 'in_progress', due_at = $1, updated_at = $2, \
                 version = version + 1, data = $3 WHERE id = $4",
            )?,
            log: p(
                c,
                "INSERT INTO events (order_id, case_id, at, actor, kind, data) VALUES ($1, $1, $2, \
                 '{\"role\":\"system\"}', 'deadline_fired', $3)",
            )?,
            gone: p(c, "DELETE FROM deadlines WHERE subject = 'case' AND subject_id = $1 AND kind = $2")?,
            next: p(
                c,
                "INSERT INTO deadlines (subject, subject_id, kind, due_at, version) VALUES ('case', $1, $2, $3, $4) \
                 ON CONFLICT (subject, subject_id, kind) DO UPDATE SET due_at = excluded.due_at, version = excluded.version",
            )?,
            read_order: p(c, "SELECT data FROM orders WHERE id = $1 FOR UPDATE")?,
            update_order: p(c, "UPDATE orders SET version = version + 1, data = $1 WHERE id = $2")?,
            claim: p(
                c,
                "SELECT subject_id, kind FROM deadlines WHERE due_at <= $1 \
                 ORDER BY due_at, subject, subject_id, kind LIMIT $2 FOR UPDATE SKIP LOCKED",
            )?,
            notice: p(
                c,
                "INSERT INTO notices (recipient, recipient_id, case_id, category, title, body, created_at) \
                 VALUES ('buyer', $1, $1, $2, $3, $4, $5)",
            )?,
            sms: p(c, "INSERT INTO sms_outbox (phone, text, case_id, created_at) VALUES ($1, $2, $3, $4)")?,
            published: p(
                c,
                "INSERT INTO domain_events (tx, at, shop_id, order_id, case_id, types, data) \
                 VALUES (pg_current_xact_id()::text::bigint, $1, 1, $2, $2, $3, $4)",
            )?,
        })
    }

    /// The row writes of `bench::raw_step`, on PostgreSQL.
    fn step(&self, tx: &mut postgres::Transaction<'_>, id: i64, n: i64, gone: &str, next: &str) -> Result<(), String> {
        let row = tx.query_one(&self.read, &[&id]).map_err(err)?;
        let data = after_firing_json(row.get::<_, &str>(0))?;
        tx.execute(&self.update, &[&(n + 1_000_000), &n, &data, &id]).map_err(err)?;
        let events = "[{\"type\":\"deadline_fired\",\"kind\":\"review\",\"due\":1},{\"type\":\"refund_started\",\"amount\":{\"minor\":10000,\"currency\":\"CNY\"},\"settle_at\":2,\"cancels_order\":false}]";
        tx.execute(&self.log, &[&id, &n, &events]).map_err(err)?;
        let (types, published) = crate::bench::published_row()?;
        tx.execute(&self.published, &[&n, &id, &types, &published]).map_err(err)?;
        tx.execute(&self.gone, &[&id, &gone]).map_err(err)?;
        tx.execute(&self.next, &[&id, &next, &(n + 1_000_000_000_000), &n]).map_err(err)?;
        Ok(())
    }

    /// What command number `i` of the engine's mix writes beside `step`'s rows.
    fn extras(&self, tx: &mut postgres::Transaction<'_>, id: i64, n: i64, i: usize) -> Result<(), String> {
        let extras = Extras::of(i);
        if extras.order {
            self.touch_order(tx, id)?;
        }
        if extras.notice {
            tx.execute(&self.notice, &[&id, &NOTICE[0], &NOTICE[1], &NOTICE[2], &n]).map_err(err)?;
        }
        if extras.sms {
            tx.execute(&self.sms, &[&SMS[0], &SMS[1], &id, &n]).map_err(err)?;
        }
        Ok(())
    }

    fn touch_order(&self, tx: &mut postgres::Transaction<'_>, id: i64) -> Result<(), String> {
        let order: String = tx.query_one(&self.read_order, &[&id]).map_err(err)?.get(0);
        tx.execute(&self.update_order, &[&order, &id]).map_err(err)?;
        Ok(())
    }
}

/// The raw ceiling for commands: `clients` bare connections, each doing `per_commit` command
/// shapes (`step` and the mix's `extras`) per transaction on cases of its own.
fn raw_commands(url: &str, commands: usize, clients: usize, per_commit: usize) -> Result<f64, String> {
    let rows = (commands / 4).max(clients);
    let (schema, _) = raw_db(url, rows)?;
    let per_client = commands / clients.max(1);
    let start = Instant::now();
    let handles: Vec<_> = (0..clients.max(1))
        .map(|k| {
            let schema = schema.clone();
            std::thread::spawn(move || -> Result<usize, String> {
                let mut c = postgres::Client::connect(&schema, postgres::NoTls).map_err(err)?;
                let raw = Raw::prepare(&mut c)?;
                let mine = rows / clients.max(1);
                let mut done = 0usize;
                while done < per_client {
                    let mut tx = c.transaction().map_err(err)?;
                    for _ in 0..per_commit.min(per_client - done) {
                        let id = (k * mine + done % mine.max(1)) as i64 + 1;
                        let visit = (done / mine.max(1)) as i64;
                        let kinds = ["review", "buyer_ship"];
                        raw.step(&mut tx, id, visit, kinds[(visit % 2) as usize], kinds[((visit + 1) % 2) as usize])?;
                        raw.extras(&mut tx, id, visit, done)?;
                        done += 1;
                    }
                    tx.commit().map_err(err)?;
                }
                Ok(done)
            })
        })
        .collect();
    let mut done = 0;
    for h in handles {
        done += h.join().map_err(|_| "a raw client panicked")??;
    }
    Ok(done as f64 / start.elapsed().as_secs_f64())
}

/// The raw ceiling for firings: claim due rows (`FOR UPDATE SKIP LOCKED`) and do each one's
/// row writes, `batch` per transaction.
fn raw_fire_due(
    c: &mut postgres::Client,
    raw: &Raw,
    now: i64,
    batch: usize,
    with_order: bool,
) -> Result<usize, String> {
    let mut fired = 0;
    loop {
        let mut tx = c.transaction().map_err(err)?;
        let due = tx.query(&raw.claim, &[&now, &(batch as i64)]).map_err(err)?;
        if due.is_empty() {
            tx.commit().map_err(err)?;
            return Ok(fired);
        }
        for row in due {
            let (id, kind): (i64, String) = (row.get(0), row.get(1));
            raw.step(&mut tx, id, now, &kind, "refund_settle")?;
            if with_order {
                raw.touch_order(&mut tx, id)?;
            }
            fired += 1;
        }
        tx.commit().map_err(err)?;
    }
}

pub fn run(args: &BenchArgs, url: &str) -> Result<(), String> {
    let say = |m: &str| {
        if !args.json {
            eprintln!("… {m}");
        }
    };
    say("engine, one transaction per command");
    let commands = engine_commands_on(&setup_on(store(url, 1)?)?, args.commands, 1)?;
    say("raw PostgreSQL, one transaction per command");
    let raw = raw_commands(url, args.commands, 1, 1)?;
    say("engine, concurrent clients sharing commits");
    let group = engine_commands_on(&setup_on(store(url, 256)?)?, args.group_commands, args.clients)?;
    say("raw PostgreSQL, the same clients, grouped commits");
    let raw_clients = args.clients.min(8);
    let raw_group = raw_commands(url, args.group_commands, raw_clients, args.clients / raw_clients)?;
    say(&format!("seeding {} due deadlines, then firing them in {ROUNDS} alternating rounds", args.deadlines));
    let seed = Instant::now();
    let s = setup_on(store(url, 1)?)?;
    seed_due_cases(&s, args.deadlines)?;
    let seed_s = seed.elapsed().as_secs_f64();
    let (_, mut raw_conn) = raw_db(url, args.deadlines)?;
    let (_, mut raw_order_conn) = raw_db(url, args.deadlines)?;
    let raw_stmts = Raw::prepare(&mut raw_conn)?;
    let raw_order_stmts = Raw::prepare(&mut raw_order_conn)?;
    let runner = Runner::new(s.engine.clone()).with_batch(args.firing_batch);
    let (mut engine_s, mut raw_s, mut raw_order_s, mut engine_cpu) = (0.0, 0.0, 0.0, 0.0);
    let (mut fired, mut raw_fired, mut raw_order_fired) = (0u64, 0usize, 0usize);
    for round in 0..ROUNDS as i64 {
        let now = T0 + Dur::hours(48) + Dur(round * 60_000);
        s.clock.set(now);
        let (start, cpu) = (Instant::now(), cpu_s());
        fired += runner.run_due().map_err(err)?.fired;
        engine_s += start.elapsed().as_secs_f64();
        engine_cpu += cpu_s() - cpu;
        let start = Instant::now();
        raw_fired += raw_fire_due(&mut raw_conn, &raw_stmts, now.0, args.firing_batch, false)?;
        raw_s += start.elapsed().as_secs_f64();
        let start = Instant::now();
        raw_order_fired += raw_fire_due(&mut raw_order_conn, &raw_order_stmts, now.0, args.firing_batch, true)?;
        raw_order_s += start.elapsed().as_secs_f64();
    }
    s.store.close();
    let n = args.deadlines;
    if fired as usize != n || raw_fired != n || raw_order_fired != n {
        return Err(format!(
            "expected {n} firings; the engine fired {fired}, the raw loops {raw_fired}/{raw_order_fired}"
        ));
    }
    let (firings, raw_firings, raw_order_firings) = (n as f64 / engine_s, n as f64 / raw_s, n as f64 / raw_order_s);
    let r2 = |x: f64| (x * 100.0).round() / 100.0;
    let report = serde_json::json!({
        "database": "postgres",
        "commands": args.commands,
        "commands_per_s": commands.round(),
        "raw_commands_per_s": raw.round(),
        "commands_ratio": r2(commands / raw),
        "group_clients": args.clients,
        "raw_group_clients": raw_clients,
        "group_commands": args.group_commands,
        "group_commands_per_s": group.round(),
        "raw_group_commands_per_s": raw_group.round(),
        "group_ratio": r2(group / raw_group),
        "deadlines": fired,
        "deadline_seed_s": (seed_s * 10.0).round() / 10.0,
        "firing_batch": args.firing_batch,
        "deadline_firings_per_s": firings.round(),
        "raw_deadline_firings_per_s": raw_firings.round(),
        "firings_ratio": r2(firings / raw_firings),
        "raw_firings_with_order_per_s": raw_order_firings.round(),
        "firings_with_order_ratio": r2(firings / raw_order_firings),
        "firing_cpu_us": (engine_cpu * 1e7 / n as f64).round() / 10.0,
        "peak_rss_mb": peak_rss_mb().round(),
    });
    if args.json {
        println!("{report}");
        return Ok(());
    }
    println!("aftersale bench — PostgreSQL, one run, raw ceilings on the same tables");
    println!("{:<50} {:>12} {:>12} {:>7}", "", "engine/s", "raw/s", "ratio");
    println!("{:<50} {:>12.0} {:>12.0} {:>7.2}", "commands, 1 per commit, 1 client", commands, raw, commands / raw);
    println!(
        "{:<50} {:>12.0} {:>12.0} {:>7.2}",
        format!("commands, group commit, {} clients (raw: {raw_clients})", args.clients),
        group,
        raw_group,
        group / raw_group
    );
    println!(
        "{:<50} {:>12.0} {:>12.0} {:>7.2}",
        format!("deadline firings ({fired} due, {} per commit)", args.firing_batch),
        firings,
        raw_firings,
        firings / raw_firings
    );
    println!(
        "{:<50} {:>12} {:>12.0} {:>7.2}",
        "  raw also rewriting the order row, as the engine",
        "",
        raw_order_firings,
        firings / raw_order_firings
    );
    Ok(())
}
