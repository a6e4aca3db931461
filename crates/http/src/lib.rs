//! The HTTP side of aftersale: a JSON API under `/api/v1` with problem+json errors and an
//! OpenAPI document generated from the route table; accounts (argon2 passwords, sessions, API
//! tokens); evidence upload through `object_store`; Prometheus metrics; the demo seed; and a
//! small HTTP client for the CLI, the load benchmark and the tests; and the web workbench
//! (`web`), server-rendered pages on the same use-cases.

pub mod app;
pub mod auth;
pub mod client;
pub mod config;
pub mod demo;
pub mod error;
pub mod idempotency;
pub mod input;
pub mod metrics;
pub mod objects;
pub mod openapi;
pub mod outbound;
pub mod request_id;
pub mod routes;
pub mod scratch;
pub mod services;
pub mod state;
pub mod web;
pub mod wire;

pub use app::{start, Running};
pub use config::Config;
pub use state::AppState;
