//! Prometheus metrics through `prometheus-client`, one registry per server: requests by route
//! and status with latency histograms, commands by kind, deadlines fired and stale, runner
//! errors, and the deadline lag (how overdue the oldest due deadline is), read at scrape time.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

const BUCKETS_S: [f64; 12] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: String,
}

pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    commands: Family<KindLabels, Counter>,
    pub deadlines_fired: Counter,
    pub deadlines_stale: Counter,
    pub runner_errors: Counter,
    pub sms_sent: Counter,
    pub sms_failed: Counter,
    pub webhooks_delivered: Counter,
    pub webhooks_failed: Counter,
    pub refunds_paid: Counter,
    pub refunds_failed: Counter,
    lag: Gauge<f64, AtomicU64>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| Histogram::new(BUCKETS_S));
        let commands = Family::<KindLabels, Counter>::default();
        let deadlines_fired = Counter::default();
        let deadlines_stale = Counter::default();
        let runner_errors = Counter::default();
        let (sms_sent, sms_failed) = (Counter::default(), Counter::default());
        registry.register("aftersale_sms_sent", "Text messages handed to the SMS provider", sms_sent.clone());
        registry.register(
            "aftersale_sms_failed",
            "Text messages the SMS provider refused (kept queued)",
            sms_failed.clone(),
        );
        let (webhooks_delivered, webhooks_failed) = (Counter::default(), Counter::default());
        registry.register("aftersale_webhooks_delivered", "Webhook attempts answered 2xx", webhooks_delivered.clone());
        registry.register(
            "aftersale_webhooks_failed",
            "Webhook attempts that failed (timeout, connection, refused target, non-2xx)",
            webhooks_failed.clone(),
        );
        let (refunds_paid, refunds_failed) = (Counter::default(), Counter::default());
        registry.register("aftersale_refunds_paid", "Refunds the payment service answered paid", refunds_paid.clone());
        registry.register(
            "aftersale_refunds_failed",
            "Refunds the payment service refused for good",
            refunds_failed.clone(),
        );
        let lag = Gauge::<f64, AtomicU64>::default();
        registry.register("aftersale_http_requests", "HTTP requests by method, route and status", requests.clone());
        registry.register("aftersale_http_request_duration_seconds", "HTTP request latency", latency.clone());
        registry.register("aftersale_commands", "Commands accepted, by kind", commands.clone());
        registry.register("aftersale_deadlines_fired", "Deadlines that fired (acted)", deadlines_fired.clone());
        registry.register(
            "aftersale_deadlines_stale",
            "Deadline rows that found their case moved on",
            deadlines_stale.clone(),
        );
        registry.register("aftersale_runner_errors", "Failed deadline-runner passes", runner_errors.clone());
        registry.register("aftersale_deadline_lag_seconds", "How overdue the oldest due deadline is", lag.clone());
        Metrics {
            registry,
            requests,
            latency,
            commands,
            deadlines_fired,
            deadlines_stale,
            runner_errors,
            sms_sent,
            sms_failed,
            webhooks_delivered,
            webhooks_failed,
            refunds_paid,
            refunds_failed,
            lag,
        }
    }
}

impl Metrics {
    pub fn request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.requests.get_or_create(&RequestLabels { method: method.into(), route: route.into(), status }).inc();
        self.latency.get_or_create(&RouteLabels { method: method.into(), route: route.into() }).observe(seconds);
    }

    pub fn command(&self, kind: &str) {
        self.commands.get_or_create(&KindLabels { kind: kind.into() }).inc();
    }

    /// The exposition text (OpenMetrics); `lag_seconds` is how overdue the oldest due deadline
    /// is (0 if none).
    pub fn render(&self, lag_seconds: f64) -> String {
        self.lag.set(lag_seconds);
        let mut out = String::new();
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}
