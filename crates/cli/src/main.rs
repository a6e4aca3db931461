//! The `aftersale` binary: thin wrappers over the engine and the HTTP crate. `serve` runs the
//! service, `demo` runs it on a seeded database, `config` prints the defaults, `clock advance`
//! moves a demo's clock, `migrate` applies the embedded schema, `bench` measures against the raw
//! SQLite ceiling, `profile` prints a policy profile.

mod migrate;
mod serve;

use aftersale_bench::{bench, bench_http, bench_nodes};

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "aftersale", version, about = "After-sales engine and merchant workbench")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the service (HTTP API and deadline runner).
    Serve(serve::ServeArgs),
    /// Run the service on a fresh, seeded demo database with a manual clock.
    Demo(serve::DemoArgs),
    /// Print the default configuration as TOML.
    Config,
    /// Create the first platform admin (password from AFTERSALE_ADMIN_PASSWORD).
    CreateAdmin(serve::CreateAdminArgs),
    /// Move a demo server's manual clock: `aftersale clock advance 6h`.
    Clock(serve::ClockArgs),
    /// Create or upgrade a database (migrations are embedded in the binary), or copy an SQLite
    /// database into PostgreSQL: `aftersale migrate --from sqlite://FILE --to postgres://…`.
    Migrate(migrate::MigrateArgs),
    /// Measure commands and deadline firings against the raw SQLite ceiling, in one run.
    Bench(bench::BenchArgs),
    /// Several `aftersale serve` processes on one PostgreSQL share deadlines coming due: checks
    /// exactly-once (also with one node SIGKILLed) and prints firings/s and lag.
    BenchNodes(bench_nodes::NodesBenchArgs),
    /// Load a real `aftersale serve` over HTTP: command mix and queue page, with raw ceilings.
    BenchHttp(bench_http::HttpBenchArgs),
    /// Fire 100,000 due review deadlines and pay the refunds they start, through the simulated
    /// gateway and through a payment service on 127.0.0.1: firings/s and refunds paid/s.
    BenchRefunds(aftersale_bench::bench_refunds::RefundBenchArgs),
    /// Print a built-in policy profile (douyin, taote, tiktok_shop) as TOML.
    Profile { name: String },
    /// Run one hot path N times, for the instruction-count guard (`scripts/instructions.sh`).
    HotPath(aftersale_bench::paths::HotPathArgs),
}

fn main() -> ExitCode {
    // `aftersale bench http …` is `aftersale bench-http …`.
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|a| a == "bench") && args.get(2).is_some_and(|a| a == "http") {
        args.splice(1..3, [std::ffi::OsString::from("bench-http")]);
    }
    let cli = Cli::parse_from(args);
    let result = match cli.command {
        Command::Serve(args) => serve::serve(args),
        Command::Demo(args) => serve::demo(args),
        Command::Config => serve::print_config(),
        Command::CreateAdmin(args) => serve::create_admin(args),
        Command::Clock(args) => serve::clock(args),
        Command::Migrate(args) => migrate::run(args),
        Command::Bench(args) => bench::run(args),
        Command::BenchHttp(args) => bench_http::run(args),
        Command::BenchRefunds(args) => aftersale_bench::bench_refunds::run(args),
        Command::BenchNodes(args) => bench_nodes::run(args),
        Command::HotPath(args) => aftersale_bench::paths::run(args),
        Command::Profile { name } => aftersale_core::Policy::profile(&name).map(|p| {
            let out = toml_string(&p);
            println!("{out}");
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("aftersale: {e}");
            ExitCode::FAILURE
        }
    }
}

fn toml_string(p: &aftersale_core::Policy) -> String {
    let json = serde_json::to_value(p).unwrap_or_default();
    let mut out = String::new();
    if let Some(map) = json.as_object() {
        for (k, v) in map {
            match v {
                serde_json::Value::Null => out.push_str(&format!("# {k} = (not in this profile)\n")),
                serde_json::Value::String(s) => out.push_str(&format!("{k} = \"{s}\"\n")),
                other => out.push_str(&format!("{k} = {other}\n")),
            }
        }
    }
    out
}
