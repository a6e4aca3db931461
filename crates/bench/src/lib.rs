//! The benchmarks the `aftersale bench…` subcommands run, each printing its figures beside the
//! raw database ceiling measured in the same run: `bench` (the engine: commands, group commit,
//! deadline firings; SQLite or PostgreSQL), `bench_http` (a real server loaded over HTTP), and
//! `bench_nodes` (several serving nodes on one PostgreSQL sharing deadlines), `bench_refunds`
//! (refunds paid through a payment service beside the simulated gateway). Raw SQL lives here,
//! not in the binary.

pub mod bench;
pub mod bench_http;
mod bench_http_pg;
mod bench_http_raw;
pub mod bench_nodes;
mod bench_pg;
mod bench_raw;
pub mod bench_refunds;
mod bench_webhooks;
pub mod paths;
