//! Builds the application from a config and a listener it is handed (port 0 in tests), runs the
//! deadline runner beside it, and stops both on a shutdown signal, letting requests in flight
//! finish.

use crate::config::Config;
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::request_id::{fresh, MakeId, REQUEST_ID};
use crate::state::{AppState, RunnerSignal};
use aftersale_core::Timestamp;
use aftersale_engine::store::postgres::PgOptions;
use aftersale_engine::{BuiltinGateway, Clock, Engine, ManualClock, Runner, SqliteOptions, SystemClock};
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A running server.
pub struct Running {
    pub addr: SocketAddr,
    pub state: AppState,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: tokio::task::JoinHandle<()>,
    runner: Option<std::thread::JoinHandle<()>>,
    listener: Option<std::thread::JoinHandle<()>>,
    webhooks: tokio::task::JoinHandle<()>,
    refunds: Option<tokio::task::JoinHandle<()>>,
    sms: Option<tokio::task::JoinHandle<()>>,
    email: Option<tokio::task::JoinHandle<()>>,
}

impl Running {
    /// Stops accepting, lets requests in flight finish, stops the runner.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.server).await;
        // A delivery cut off here is tried again once its lease ends (by this node or another).
        self.webhooks.abort();
        // A refund cut off here is asked again, under the same key, once its lease ends.
        // A message cut off here is sent again once its claim ends.
        for task in [&self.refunds, &self.sms, &self.email].into_iter().flatten() {
            task.abort();
        }
        self.state.runner.stop();
        for h in [self.runner.take(), self.listener.take()].into_iter().flatten() {
            let _ = tokio::task::spawn_blocking(move || h.join()).await;
        }
    }

    /// Runs until `shutdown` resolves, then stops as `stop` does.
    pub async fn wait(self, shutdown: impl std::future::Future<Output = ()>) {
        shutdown.await;
        tracing::info!("shutting down");
        self.stop().await;
    }
}

/// Opens the store and builds the shared state. `start` sets the manual clock's first reading.
pub fn build_state(config: &Config, start: Option<Timestamp>) -> Result<AppState, String> {
    let url = config.database.parsed_url()?;
    let options = aftersale_engine::store::url::OpenOptions {
        sqlite: SqliteOptions {
            cache_mb: config.database.cache_mib,
            max_batch: config.database.max_batch,
            max_readers: config.database.max_readers,
            ..SqliteOptions::default()
        },
        postgres: PgOptions {
            max_batch: config.database.max_batch,
            max_readers: config.database.max_readers,
            ..PgOptions::default()
        },
    };
    let store =
        aftersale_engine::store::url::open(&url, &options).map_err(|e| format!("opening {}: {e}", url.display()))?;
    let (clock, manual): (Arc<dyn Clock>, Option<ManualClock>) = if config.server.manual_clock {
        // The manual clock carries on from its stored reading after a restart; the wall clock
        // (or the caller's start) only sets it on a fresh database.
        let probe = Engine::new(store.clone(), Arc::new(SystemClock), Arc::new(BuiltinGateway));
        let saved = probe.saved_manual_clock().map_err(|e| e.to_string())?;
        let c = ManualClock::new(saved.or(start).unwrap_or_else(|| SystemClock.now()));
        (Arc::new(c.clone()), Some(c))
    } else {
        (Arc::new(SystemClock), None)
    };
    let payout = config.payments.payout(config.server.manual_clock)?;
    let gateway: Arc<dyn aftersale_engine::PaymentGateway> = if payout == aftersale_core::Payout::Simulated {
        if !config.server.manual_clock {
            tracing::warn!(
                "payments.gateway = simulated: every refund is reported paid a working day after it starts, \
                 and no money moves. Use manual, http or alipay in production"
            );
        }
        Arc::new(BuiltinGateway)
    } else {
        Arc::new(aftersale_engine::ExternalGateway(payout))
    };
    let refunds = crate::outbound::refunds::Adapter::new(&config.payments, payout)?;
    let engine = Arc::new(Engine::new(store, clock, gateway));
    if let Some(c) = &manual {
        engine.save_manual_clock(c.now()).map_err(|e| e.to_string())?;
    }
    let objects = crate::objects::open(&config.evidence)?;
    let webhooks = Arc::new(crate::outbound::webhooks::Outbound::new(&config.webhooks, &engine)?);
    Ok(AppState {
        engine,
        manual_clock: manual,
        objects,
        metrics: Arc::new(Metrics::default()),
        config: Arc::new(config.clone()),
        runner: Arc::new(RunnerSignal::default()),
        sms: crate::outbound::sms::Provider::new(&config.sms)?,
        auth_cache: Arc::new(crate::state::AuthCache::default()),
        demo_logins: Arc::new(std::sync::OnceLock::new()),
        webhooks,
        refunds,
        mailer: crate::outbound::email::Mailer::new(&config.email)?.map(Arc::new),
    })
}

pub fn router(state: AppState) -> Router {
    let api = crate::routes::api();
    let json_limit = state.config.server.json_limit_kib * 1024;
    let timeout = Duration::from_secs(state.config.server.request_timeout_secs.max(1));
    // Outermost first: a request id (kept from the client or made), a tracing span that names
    // it, gzip where the client takes it, a time limit, then metrics and problem answers.
    let layers = tower::ServiceBuilder::new()
        .layer(tower_http::request_id::SetRequestIdLayer::x_request_id(MakeId))
        .layer(tower_http::request_id::PropagateRequestIdLayer::x_request_id())
        .layer(tower_http::trace::TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("");
            tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path())
        }))
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, timeout))
        .layer(axum::middleware::from_fn_with_state(state.clone(), observe));
    api.router
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), crate::idempotency::layer))
        .route_layer(DefaultBodyLimit::max(json_limit))
        // The pages: their forms carry files, bounded by the evidence limits in `web::forms`.
        .merge(crate::web::router().layer(DefaultBodyLimit::disable()))
        .fallback(fallback)
        .layer(layers)
        .with_state(state)
}

async fn fallback(req: Request) -> ApiError {
    if req.uri().path().starts_with("/api/") {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("no route {} {}", req.method(), req.uri().path()))
    } else {
        ApiError::not_found("page")
    }
}

/// Metrics, the request id for error answers, and one shape for every error: an answer of 400
/// or above that is not already a problem (axum's 405, a malformed multipart body, the time
/// limit) becomes application/problem+json with a code from the registry.
async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_string).unwrap_or_else(fresh);
    let method = req.method().clone();
    let route =
        req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string()).unwrap_or_else(|| "unmatched".into());
    let started = Instant::now();
    let mut res = REQUEST_ID.scope(id.clone(), next.run(req)).await;
    if res.status().as_u16() >= 400 && !is_problem(&res) {
        res = as_problem(res).await;
    }
    let elapsed = started.elapsed();
    let status = res.status().as_u16();
    state.metrics.request(method.as_str(), &route, status, elapsed.as_secs_f64());
    if status >= 500 {
        tracing::warn!(request_id = %id, %method, %route, status, micros = elapsed.as_micros() as u64, "request failed");
    } else {
        tracing::debug!(request_id = %id, %method, %route, status, micros = elapsed.as_micros() as u64, "request");
    }
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert("x-request-id", v);
    }
    res
}

/// A problem already, or a page of the workbench (its errors are pages, in the person's words).
fn is_problem(res: &Response) -> bool {
    let page =
        res.headers().get(axum::http::header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    page || is_problem_json(res)
}

fn is_problem_json(res: &Response) -> bool {
    res.headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"))
}

/// A bare error answer as a problem: its status, a code from the registry, its text as detail.
async fn as_problem(res: Response) -> Response {
    use axum::response::IntoResponse;
    let status = res.status();
    let allow = res.headers().get(axum::http::header::ALLOW).cloned();
    let bytes = axum::body::to_bytes(res.into_body(), 64 * 1024).await.unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes).trim().to_string();
    let (code, default) = match status {
        StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "the resource does not take this method"),
        StatusCode::REQUEST_TIMEOUT => ("timeout", "the request took longer than the server's time limit"),
        StatusCode::PAYLOAD_TOO_LARGE => ("body_too_large", "the body is larger than this endpoint takes"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ("unsupported_media_type", "the content type is not one this endpoint takes")
        }
        StatusCode::NOT_FOUND => ("not_found", "not found"),
        s if s.is_server_error() => ("internal", "something failed on our side"),
        _ => ("malformed_request", "the request is not one this endpoint takes"),
    };
    let detail = if text.is_empty() { default.to_string() } else { text };
    let mut out = ApiError::new(status, code, detail).into_response();
    if let Some(allow) = allow {
        out.headers_mut().insert(axum::http::header::ALLOW, allow);
    }
    out
}

/// How often a serving node deletes the events past their retention.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// The deadline runner: fires what is due, then sleeps until the next due time, the poll
/// interval, a wake-up (clock moved) or a stop.
fn spawn_runner(state: AppState) -> std::thread::JoinHandle<()> {
    let poll = Duration::from_millis(state.config.server.runner_poll_ms.max(10));
    std::thread::spawn(move || {
        let lease = Duration::from_secs(state.config.server.runner_lease_secs.max(1));
        let runner = Runner::new(state.engine.clone()).with_lease(aftersale_engine::runner::node_name(), lease);
        let retention = aftersale_core::time::Dur::days(i64::from(state.config.events.retention_days.max(1)));
        // On the service's clock, so that a demo clock moved past the retention prunes too.
        let mut pruned_at: Option<aftersale_core::Timestamp> = None;
        runner.serve(
            poll,
            state.manual_clock.is_some(),
            |runner| {
                let pass = state.runner.pass.lock().map(|_guard| runner.run_due());
                let Ok(outcome) = pass else { return false };
                match outcome {
                    Ok(stats) => {
                        state.metrics.deadlines_fired.inc_by(stats.fired);
                        state.metrics.deadlines_stale.inc_by(stats.stale);
                        if stats.fired > 0 {
                            tracing::info!(
                                fired = stats.fired,
                                stale = stats.stale,
                                refused = stats.refused,
                                "deadlines fired"
                            );
                        }
                    }
                    Err(e) => {
                        state.metrics.runner_errors.inc();
                        tracing::error!(error = %e, "deadline runner pass failed; retrying");
                    }
                }
                // Events past the retention go, once an hour (and at start).
                let now = state.engine.now();
                if pruned_at.is_none_or(|t| now.0 - t.0 >= PRUNE_EVERY.as_millis() as i64) {
                    pruned_at = Some(now);
                    match state.engine.prune_events(retention) {
                        Ok(0) => {}
                        Ok(rows) => tracing::info!(rows, "events past their retention deleted"),
                        Err(e) => tracing::warn!(error = %e, "pruning events failed; trying again later"),
                    }
                }
                true
            },
            |wait| {
                let Ok(guard) = state.runner.state.lock() else { return false };
                let Ok((mut guard, _)) = state.runner.cv.wait_timeout_while(guard, wait, |s| !s.0 && !s.1) else {
                    return false;
                };
                if guard.1 {
                    return false;
                }
                guard.0 = false;
                true
            },
        )
    })
}

/// Listens to the other nodes on the same database (PostgreSQL's LISTEN/NOTIFY; on SQLite,
/// this node's own messages): a moved manual clock is taken over, new deadlines due now wake the
/// runner, authentication and shop caches drop what changed elsewhere. When the subscription
/// breaks (the database went away) every cache is dropped and it subscribes again.
fn spawn_listener(state: AppState) -> std::thread::JoinHandle<()> {
    use aftersale_engine::store::Topic;
    std::thread::spawn(move || {
        let stopped = || state.runner.state.lock().map_or(true, |s| s.1);
        while !stopped() {
            let mut sub = match state.engine.store().subscribe() {
                Ok(sub) => sub,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen to other nodes yet; retrying");
                    std::thread::sleep(Duration::from_millis(500));
                    continue;
                }
            };
            while !stopped() {
                match sub.next(Duration::from_millis(250)) {
                    Ok(None) => {}
                    Ok(Some((topic, value))) => {
                        let n: i64 = value.parse().unwrap_or(i64::MIN);
                        match topic {
                            Topic::Clock => {
                                if let Some(clock) = &state.manual_clock {
                                    if n != i64::MIN && clock.now().0 != n {
                                        clock.set(Timestamp(n));
                                    }
                                    state.runner.wake();
                                }
                                // Which sessions are live depends on the clock.
                                state.auth_cache.clear();
                            }
                            Topic::Deadlines => {
                                if n <= state.engine.now().0 {
                                    state.runner.wake();
                                }
                            }
                            Topic::Auth => state.auth_cache.clear(),
                            Topic::Shop => state.engine.forget_shop(aftersale_core::values::ShopId(n)),
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "lost the other nodes; caches dropped, listening again");
                        state.auth_cache.clear();
                        state.engine.forget_all_shops();
                        break;
                    }
                }
            }
        }
    })
}

/// Builds everything and starts serving on `listener`.
pub async fn start(
    config: Config,
    listener: tokio::net::TcpListener,
    start: Option<Timestamp>,
) -> Result<Running, String> {
    // Off the async workers: opening a database blocks (PostgreSQL's client may not be
    // driven from inside the server's runtime).
    let state = tokio::task::spawn_blocking(move || build_state(&config, start)).await.map_err(|e| e.to_string())??;
    start_with_state(state, listener).await
}

pub async fn start_with_state(state: AppState, listener: tokio::net::TcpListener) -> Result<Running, String> {
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let app = router(state.clone());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        let shutdown = async move {
            let _ = rx.await;
        };
        if let Err(e) = axum::serve(listener, app).with_graceful_shutdown(shutdown).await {
            tracing::error!(error = %e, "server stopped");
        }
    });
    let runner = spawn_runner(state.clone());
    let listener_thread = spawn_listener(state.clone());
    let webhooks = crate::outbound::webhooks::spawn(state.clone());
    let refunds = state.refunds.clone().map(|a| crate::outbound::refunds::spawn(state.clone(), a));
    let sms = state.sms.clone().map(|p| crate::outbound::sms::spawn(state.clone(), p));
    let email = state.mailer.clone().map(|m| crate::outbound::email::spawn(state.clone(), m));
    tracing::info!(%addr, manual_clock = state.manual_clock.is_some(), "aftersale listening");
    Ok(Running {
        addr,
        state,
        shutdown: Some(tx),
        server,
        runner: Some(runner),
        listener: Some(listener_thread),
        webhooks,
        refunds,
        sms,
        email,
    })
}

/// Sets up logging from the config (text or JSON lines, at the configured level).
/// `RUST_LOG` (for example `aftersale_http=debug,tower_http=debug`) takes precedence over
/// `log.level`; colours only when stderr is a terminal.
pub fn init_logging(config: &Config) {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&config.log.level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let _ = if config.log.format == "json" { builder.json().try_init() } else { builder.try_init() };
}

/// Resolves on Ctrl-C or SIGTERM. The handlers are installed when this is called (inside the
/// runtime), so a signal that arrives before the future is first polled is not lost.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let term = signal(SignalKind::terminate()).ok();
        let int = signal(SignalKind::interrupt()).ok();
        async move {
            let wait = |s: Option<tokio::signal::unix::Signal>| async move {
                match s {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                _ = wait(term) => {},
                _ = wait(int) => {},
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
