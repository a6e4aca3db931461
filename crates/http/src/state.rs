//! What every handler shares, and the helper that runs a blocking engine call off the async
//! workers.

use crate::config::Config;
use crate::error::{ApiError, ApiResult};
use crate::metrics::Metrics;
use aftersale_engine::{Engine, EngineError, ManualClock};
use object_store::ObjectStore;
use std::sync::{Arc, Condvar, Mutex};

#[derive(Clone)]
pub struct AppState {
    pub engine: Arc<Engine>,
    /// Present when the server runs on the manual clock (demo, tests).
    pub manual_clock: Option<ManualClock>,
    pub objects: Arc<dyn ObjectStore>,
    pub metrics: Arc<Metrics>,
    pub config: Arc<Config>,
    pub runner: Arc<RunnerSignal>,
    /// Where this node sends the SMS outbox (None: it does not).
    pub sms: Option<Arc<crate::outbound::sms::Provider>>,
    pub auth_cache: Arc<AuthCache>,
    /// On the demo: its logins (all with the demo password), shown on `/`.
    pub demo_logins: Arc<std::sync::OnceLock<std::collections::BTreeMap<String, String>>>,
    /// The webhook sender's key, rules and client.
    pub webhooks: Arc<crate::outbound::webhooks::Outbound>,
    /// How this node sends refunds (None: `simulated` and `manual` send nothing).
    pub refunds: Option<Arc<crate::outbound::refunds::Adapter>>,
    /// The SMTP server this node sends buyers' emails through (None: no email).
    pub mailer: Option<Arc<crate::outbound::email::Mailer>>,
}

/// Who a token or session hash belonged to, remembered for a moment: most requests then need no
/// database read to authenticate. Revoking a token or logging out clears it on this node at once
/// and tells the other nodes (`Topic::Auth`), which clear theirs as the message arrives; a node
/// that missed it still stops trusting the entry after `TTL`, so the bound is `TTL`.
/// An authenticated caller as the cache keeps it: the account and how it proved itself.
pub type CachedAuth = (aftersale_engine::UserRecord, aftersale_engine::Credential);

#[derive(Default)]
pub struct AuthCache {
    map: Mutex<std::collections::HashMap<String, (CachedAuth, std::time::Instant)>>,
}

impl AuthCache {
    pub const TTL: std::time::Duration = std::time::Duration::from_secs(2);

    pub fn get(&self, key: &str) -> Option<CachedAuth> {
        let map = self.map.lock().ok()?;
        map.get(key).filter(|(_, at)| at.elapsed() < Self::TTL).map(|(u, _)| u.clone())
    }

    pub fn put(&self, key: String, user: CachedAuth) {
        if let Ok(mut map) = self.map.lock() {
            if map.len() >= 10_000 {
                map.retain(|_, (_, at)| at.elapsed() < Self::TTL);
                if map.len() >= 10_000 {
                    map.clear();
                }
            }
            map.insert(key, (user, std::time::Instant::now()));
        }
    }

    pub fn clear(&self) {
        if let Ok(mut map) = self.map.lock() {
            map.clear();
        }
    }
}

/// Wakes the deadline runner early (after a clock move) and tells it to stop.
#[derive(Default)]
pub struct RunnerSignal {
    pub state: Mutex<(bool, bool)>, // (wake, stop)
    pub cv: Condvar,
    /// Held for a runner pass: the background runner's and a clock move's never overlap on one
    /// node (a pass that claimed rows finishes them before another starts).
    pub pass: Mutex<()>,
}

impl RunnerSignal {
    pub fn wake(&self) {
        if let Ok(mut s) = self.state.lock() {
            s.0 = true;
            self.cv.notify_all();
        }
    }
    pub fn stop(&self) {
        if let Ok(mut s) = self.state.lock() {
            s.1 = true;
            self.cv.notify_all();
        }
    }
}

impl AppState {
    /// Moves the manual clock by `by` and fires what came due, before answering: no runner pass
    /// of this node runs between the move and the firing, and the answer waits (a few seconds
    /// at most) until nothing due is left — rows other nodes claimed included.
    pub async fn advance_and_fire(
        &self,
        clock: ManualClock,
        by: aftersale_core::Dur,
    ) -> ApiResult<(aftersale_core::Timestamp, aftersale_engine::RunStats)> {
        let (engine, signal) = (self.engine.clone(), self.runner.clone());
        let done = tokio::task::spawn_blocking(move || {
            let _pass = signal.pass.lock().map_err(|_| EngineError::Forbidden("the runner is gone".into()))?;
            let now = clock.advance(by);
            engine.save_manual_clock(now)?;
            let stats = aftersale_engine::Runner::new(engine.clone()).run_due()?;
            // Other nodes may hold some of what came due: wait while they are still firing it
            // (the count of due rows goes down), at most 5 s. Rows the rules refused stay due,
            // so a count that stops moving ends the wait. One node alone has fired it all.
            if engine.store().backend() != "sqlite" {
                let settle = std::time::Instant::now() + std::time::Duration::from_secs(5);
                let (mut last, mut still) = (usize::MAX, 0);
                while std::time::Instant::now() < settle && still < 5 {
                    let due = engine.read(|tx| tx.due_deadlines(now, 10_000))?.len();
                    if due == 0 {
                        break;
                    }
                    still = if due >= last { still + 1 } else { 0 };
                    last = due;
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
            }
            Ok::<_, EngineError>((now, stats))
        })
        .await;
        let (now, stats) = match done {
            Ok(r) => r.map_err(ApiError::from)?,
            Err(_) => return Err(ApiError::internal(&crate::request_id::next())),
        };
        self.metrics.deadlines_fired.inc_by(stats.fired);
        self.metrics.deadlines_stale.inc_by(stats.stale);
        Ok((now, stats))
    }

    /// Runs `f` on the blocking pool: engine calls wait for their group commit.
    pub async fn run<R: Send + 'static>(
        &self,
        f: impl FnOnce(&Engine) -> Result<R, EngineError> + Send + 'static,
    ) -> ApiResult<R> {
        let engine = self.engine.clone();
        match tokio::task::spawn_blocking(move || f(&engine)).await {
            Ok(r) => r.map_err(ApiError::from),
            Err(e) => {
                let id = crate::request_id::next();
                tracing::error!(request_id = %id, error = %e, "engine task failed");
                Err(ApiError::internal(&id))
            }
        }
    }
}
