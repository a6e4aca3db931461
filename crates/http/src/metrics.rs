//! Prometheus metrics in the text exposition format: requests by route and status with latency
//! histograms, commands by kind, deadlines fired, and the deadline lag (how overdue the oldest
//! due deadline is), read at scrape time.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

const BUCKETS_S: [f64; 12] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0];

#[derive(Default)]
struct Histogram {
    buckets: [u64; 12],
    count: u64,
    sum: f64,
}

#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    latency: Mutex<BTreeMap<(String, String), Histogram>>,
    commands: Mutex<BTreeMap<String, u64>>,
    pub deadlines_fired: AtomicU64,
    pub deadlines_stale: AtomicU64,
    pub runner_errors: AtomicU64,
}

impl Metrics {
    pub fn request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        if let Ok(mut m) = self.requests.lock() {
            *m.entry((method.to_string(), route.to_string(), status)).or_default() += 1;
        }
        if let Ok(mut m) = self.latency.lock() {
            let h = m.entry((method.to_string(), route.to_string())).or_default();
            h.count += 1;
            h.sum += seconds;
            for (i, le) in BUCKETS_S.iter().enumerate() {
                if seconds <= *le {
                    h.buckets[i] += 1;
                }
            }
        }
    }

    pub fn command(&self, kind: &str) {
        if let Ok(mut m) = self.commands.lock() {
            *m.entry(kind.to_string()).or_default() += 1;
        }
    }

    /// The exposition text; `lag_seconds` is how overdue the oldest due deadline is (0 if none).
    pub fn render(&self, lag_seconds: f64) -> String {
        let mut out = String::new();
        out.push_str("# HELP aftersale_http_requests_total HTTP requests by method, route and status.\n");
        out.push_str("# TYPE aftersale_http_requests_total counter\n");
        if let Ok(m) = self.requests.lock() {
            for ((method, route, status), n) in m.iter() {
                let _ = writeln!(
                    out,
                    "aftersale_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {n}"
                );
            }
        }
        out.push_str("# HELP aftersale_http_request_duration_seconds HTTP request latency.\n");
        out.push_str("# TYPE aftersale_http_request_duration_seconds histogram\n");
        if let Ok(m) = self.latency.lock() {
            for ((method, route), h) in m.iter() {
                let labels = format!("method=\"{method}\",route=\"{route}\"");
                for (i, le) in BUCKETS_S.iter().enumerate() {
                    let _ = writeln!(
                        out,
                        "aftersale_http_request_duration_seconds_bucket{{{labels},le=\"{le}\"}} {}",
                        h.buckets[i]
                    );
                }
                let _ =
                    writeln!(out, "aftersale_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}", h.count);
                let _ = writeln!(out, "aftersale_http_request_duration_seconds_sum{{{labels}}} {}", h.sum);
                let _ = writeln!(out, "aftersale_http_request_duration_seconds_count{{{labels}}} {}", h.count);
            }
        }
        out.push_str("# HELP aftersale_commands_total Commands accepted, by kind.\n");
        out.push_str("# TYPE aftersale_commands_total counter\n");
        if let Ok(m) = self.commands.lock() {
            for (kind, n) in m.iter() {
                let _ = writeln!(out, "aftersale_commands_total{{kind=\"{kind}\"}} {n}");
            }
        }
        out.push_str("# HELP aftersale_deadlines_fired_total Deadlines that fired (acted).\n");
        out.push_str("# TYPE aftersale_deadlines_fired_total counter\n");
        let _ = writeln!(out, "aftersale_deadlines_fired_total {}", self.deadlines_fired.load(Ordering::Relaxed));
        out.push_str("# HELP aftersale_deadlines_stale_total Deadline rows that found their case moved on.\n");
        out.push_str("# TYPE aftersale_deadlines_stale_total counter\n");
        let _ = writeln!(out, "aftersale_deadlines_stale_total {}", self.deadlines_stale.load(Ordering::Relaxed));
        out.push_str("# HELP aftersale_runner_errors_total Failed deadline-runner passes.\n");
        out.push_str("# TYPE aftersale_runner_errors_total counter\n");
        let _ = writeln!(out, "aftersale_runner_errors_total {}", self.runner_errors.load(Ordering::Relaxed));
        out.push_str("# HELP aftersale_deadline_lag_seconds How overdue the oldest due deadline is.\n");
        out.push_str("# TYPE aftersale_deadline_lag_seconds gauge\n");
        let _ = writeln!(out, "aftersale_deadline_lag_seconds {lag_seconds}");
        out
    }
}
