//! `/metrics` in the Prometheus text format: requests by route and status, decisions by
//! outcome, request latency and audit commit latency histograms, plugin failures by code.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

/// Histogram bucket bounds, seconds.
const BUCKETS: [f64; 12] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
];

#[derive(Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, d: Duration) {
        let secs = d.as_secs_f64();
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                self.counts[i] += 1;
            }
        }
        self.count += 1;
        self.sum += secs;
    }

    fn write(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        for (i, b) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}{sep}le=\"{b}\"}} {}",
                self.counts[i]
            );
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}",
            self.count
        );
        let braces = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{labels}}}")
        };
        let _ = writeln!(out, "{name}_sum{braces} {}", self.sum);
        let _ = writeln!(out, "{name}_count{braces} {}", self.count);
    }
}

#[derive(Default)]
struct Inner {
    requests: BTreeMap<(&'static str, u16), u64>,
    latency: BTreeMap<&'static str, Histogram>,
    decisions: BTreeMap<(&'static str, String), u64>,
    audit_commit: Histogram,
    audit_records: u64,
    jwks_fetches: BTreeMap<&'static str, u64>,
}

/// The service's counters (one lock; each update is a few map operations).
#[derive(Default)]
pub(crate) struct Metrics {
    inner: Mutex<Inner>,
}

impl Metrics {
    fn with(&self, f: impl FnOnce(&mut Inner)) {
        let mut g = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut g);
    }

    /// One answered request.
    pub(crate) fn request(&self, route: &'static str, status: u16, took: Duration) {
        self.with(|m| {
            *m.requests.entry((route, status)).or_default() += 1;
            m.latency.entry(route).or_default().observe(took);
        });
    }

    /// One decision: `allow`, or `deny` with its code.
    pub(crate) fn decision(&self, outcome: &'static str, code: Option<&str>) {
        self.with(|m| {
            *m.decisions
                .entry((outcome, code.unwrap_or("").to_owned()))
                .or_default() += 1;
        });
    }

    /// One audit commit of `records` records.
    pub(crate) fn audit_commit(&self, took: Duration, records: usize) {
        self.with(|m| {
            m.audit_commit.observe(took);
            m.audit_records += records as u64;
        });
    }

    /// One fetch of the remote key set: `ok` or `error`.
    pub(crate) fn jwks_fetch(&self, outcome: &'static str) {
        self.with(|m| *m.jwks_fetches.entry(outcome).or_default() += 1);
    }

    /// The text exposition.
    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        self.with(|m| {
            out.push_str("# HELP crmguard_http_requests_total Requests answered, by route and status.\n");
            out.push_str("# TYPE crmguard_http_requests_total counter\n");
            for ((route, status), n) in &m.requests {
                let _ = writeln!(
                    out,
                    "crmguard_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
                );
            }
            out.push_str("# HELP crmguard_http_request_duration_seconds Time to answer, by route.\n");
            out.push_str("# TYPE crmguard_http_request_duration_seconds histogram\n");
            for (route, h) in &m.latency {
                h.write(
                    &mut out,
                    "crmguard_http_request_duration_seconds",
                    &format!("route=\"{route}\""),
                );
            }
            out.push_str("# HELP crmguard_decisions_total Decisions, by outcome and deny code (plugin traps and timeouts have their ERR_PLUGIN_* code).\n");
            out.push_str("# TYPE crmguard_decisions_total counter\n");
            for ((outcome, code), n) in &m.decisions {
                let _ = writeln!(
                    out,
                    "crmguard_decisions_total{{outcome=\"{outcome}\",code=\"{code}\"}} {n}"
                );
            }
            out.push_str("# HELP crmguard_audit_commit_seconds Time of one durable audit commit (fdatasync).\n");
            out.push_str("# TYPE crmguard_audit_commit_seconds histogram\n");
            m.audit_commit
                .write(&mut out, "crmguard_audit_commit_seconds", "");
            out.push_str("# HELP crmguard_audit_records_total Audit records made durable.\n");
            out.push_str("# TYPE crmguard_audit_records_total counter\n");
            let _ = writeln!(out, "crmguard_audit_records_total {}", m.audit_records);
            out.push_str("# HELP crmguard_jwks_fetches_total Fetches of the remote key set, by outcome.\n");
            out.push_str("# TYPE crmguard_jwks_fetches_total counter\n");
            for (outcome, n) in &m.jwks_fetches {
                let _ = writeln!(out, "crmguard_jwks_fetches_total{{outcome=\"{outcome}\"}} {n}");
            }
        });
        out
    }
}
