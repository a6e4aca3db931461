//! `aftersale migrate`: creates or upgrades a database's schema, or, with `--from` and `--to`,
//! copies a whole SQLite database into PostgreSQL (progress bar with ETA, verified per table).

use aftersale_engine::store::copy::{self, CopyOptions, CopyOutcome};
use aftersale_engine::store::url::DatabaseUrl;
use clap::Args;

#[derive(Args)]
pub struct MigrateArgs {
    /// The database to create or upgrade: the one `serve` would open with the same settings
    /// (`--config`, `AFTERSALE_DATABASE__URL` or `__PATH`, `--database`, `--db`).
    #[command(flatten)]
    settings: crate::serve::Settings,
    /// Copy this SQLite database (sqlite://FILE) …
    #[arg(long, requires = "to")]
    from: Option<String>,
    /// … into this PostgreSQL database (postgres://…), which must be empty unless --resume.
    #[arg(long, requires = "from")]
    to: Option<String>,
    /// Carry on a copy that was interrupted (rows already there are kept).
    #[arg(long)]
    resume: bool,
    /// Rows per transaction on the target.
    #[arg(long, default_value_t = 5_000)]
    batch_rows: usize,
    /// Stop after this many batches (carry on later with --resume).
    #[arg(long)]
    max_batches: Option<usize>,
}

pub fn run(args: MigrateArgs) -> Result<(), String> {
    match (&args.from, &args.to) {
        (Some(from), Some(to)) => copy_up(from, to, &args),
        _ => schema(&args.settings.load()?.database.parsed_url()?),
    }
}

fn schema(url: &DatabaseUrl) -> Result<(), String> {
    let applied = match url {
        DatabaseUrl::Sqlite(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
            }
            let mut conn = rusqlite::Connection::open(path).map_err(|e| e.to_string())?;
            conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get::<_, String>(0)).map_err(|e| e.to_string())?;
            aftersale_engine::store::sqlite::migrate(&mut conn)
        }
        DatabaseUrl::Postgres(u) => aftersale_engine::store::postgres::config(u, std::time::Duration::from_secs(5))
            .and_then(|c| Ok(c.connect(postgres_notls())?))
            .and_then(|mut c| aftersale_engine::store::postgres::migrate(&mut c)),
    }
    .map_err(|e| format!("{}: {e}", url.display()))?;
    if applied.is_empty() {
        println!("{}: schema is up to date", url.display());
    } else {
        println!("{}: applied migrations {applied:?}", url.display());
    }
    Ok(())
}

fn postgres_notls() -> aftersale_engine::store::postgres::NoTls {
    aftersale_engine::store::postgres::NoTls
}

fn copy_up(from: &str, to: &str, args: &MigrateArgs) -> Result<(), String> {
    let DatabaseUrl::Sqlite(source) = DatabaseUrl::parse(from)? else {
        return Err("--from must be an SQLite database (sqlite://FILE)".into());
    };
    let target = DatabaseUrl::parse(to)?;
    let DatabaseUrl::Postgres(target_url) = &target else {
        return Err("--to must be a PostgreSQL database (postgres://…)".into());
    };
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg:>16} [{bar:40}] {pos}/{len} rows, {per_sec}, ETA {eta}")
            .map_err(|e| e.to_string())?
            .progress_chars("=> "),
    );
    let options = CopyOptions { batch_rows: args.batch_rows, resume: args.resume, max_batches: args.max_batches };
    let outcome = copy::sqlite_to_postgres(&source, target_url, &options, &mut |p| {
        bar.set_length(p.total);
        bar.set_position(p.done);
        bar.set_message(p.table);
    })
    .map_err(|e| format!("copying {} to {}: {e}", source.display(), target.display()))?;
    bar.finish_and_clear();
    match outcome {
        CopyOutcome::Paused { copied, total } => {
            println!("paused after {copied} of {total} rows: run again with --resume to carry on");
            Ok(())
        }
        CopyOutcome::Done(checks) => {
            let mut bad = Vec::new();
            println!("{:<18} {:>10}  {:<64}  check", "table", "rows", "sha256");
            for c in &checks {
                println!("{:<18} {:>10}  {}  {}", c.table, c.rows, c.sha256, if c.matches { "ok" } else { "MISMATCH" });
                if !c.matches {
                    bad.push(c.table);
                }
            }
            if bad.is_empty() {
                println!("copied {} into {}: every table verified", source.display(), target.display());
                Ok(())
            } else {
                Err(format!("the copy differs from the source in: {}", bad.join(", ")))
            }
        }
    }
}
