//! The engine against a real SQLite file: one transaction per use-case, races, idempotency,
//! restarts, and the deadline runner firing exactly once. One test binary, one module per subject.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod harness;

mod access;
mod accounts;
mod casepage;
mod deadlines;
mod events;
mod feeds;
mod group_commit;
mod lines;
mod notices;
mod outages;
mod properties;
mod queries;
mod races;
mod refunds;
mod store;
mod submit;
mod usecases;
mod webhooks;
