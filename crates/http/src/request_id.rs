//! Request ids: one per request, in the `x-request-id` response header and in every log line of
//! the request; internal errors quote it to the client.

use std::sync::atomic::{AtomicU64, Ordering};

tokio::task_local! {
    pub static REQUEST_ID: String;
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A fresh id: a per-process random prefix and a counter.
pub fn fresh() -> String {
    static PREFIX: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let prefix = PREFIX.get_or_init(|| {
        let mut b = [0u8; 4];
        let _ = getrandom::getrandom(&mut b);
        b.iter().map(|x| format!("{x:02x}")).collect()
    });
    format!("{prefix}-{:08x}", COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// tower-http's request-id layers call this for each request without an `x-request-id`.
#[derive(Clone, Copy, Debug, Default)]
pub struct MakeId;

impl tower_http::request_id::MakeRequestId for MakeId {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<tower_http::request_id::RequestId> {
        axum::http::HeaderValue::from_str(&fresh()).ok().map(tower_http::request_id::RequestId::new)
    }
}

/// The current request's id, or a fresh one outside a request.
pub fn next() -> String {
    REQUEST_ID.try_with(|id| id.clone()).unwrap_or_else(|_| fresh())
}
