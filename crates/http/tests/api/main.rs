//! Black-box tests over HTTP: the real server on port 0, a fresh database (SQLite, or PostgreSQL
//! when `AFTERSALE_TEST_DATABASE_URL` names one) and evidence directory per test, driven through typed helpers. Every answer the tests receive is checked
//! against the OpenAPI document the server serves (`contract`). One test binary for the crate.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod browser;
mod buyer;
mod contract;
mod dispatch_nodes;
mod document;
mod email;
mod events;
mod flows;
mod harness;
mod inputs;
mod integrations;
mod journeys;
mod lines;
mod migration;
mod pages;
mod refunds;
mod reliability;
mod security;
mod sms;
mod testdb;
mod webhooks;
mod workbench;
