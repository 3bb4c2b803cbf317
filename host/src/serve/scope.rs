//! What every request gets around its handler: an id, a deadline, and a line of access log.
//!
//! - **Request id.** The caller's `X-Request-Id` if it is a short token (at most 128 of
//!   `A-Z a-z 0-9 . _ : -`), else a fresh random one; answered in `X-Request-Id`, written
//!   into every audit record the request makes (so a log line, a CRM's own logs and the
//!   tamper-evident record name the same request), and in the access log.
//! - **Deadline.** `[limits] request_timeout_ms` from the headers to the answer: a body
//!   trickled in or a stalled disk ends in 503 `ERR_SERVE_DEADLINE` (a decision already made
//!   durable stays recorded; it was not acted on).
//! - **Access log.** One JSON object per line on stderr (`[log] access = false` turns it off):
//!   time, request id, method, path, status, the problem's code if any, and milliseconds.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use serde_json::json;

use super::Service;
use super::api::{ProblemCode, problem, serve_codes};

tokio::task_local! {
    /// The id of the request this task is answering.
    static REQUEST_ID: String;
}

const HEADER: &str = "x-request-id";

/// The id of the request being answered, if called while answering one.
pub(crate) fn request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// Whether a caller's request id is taken as it is.
fn acceptable(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
}

fn fresh() -> String {
    use crmguard_core::Entropy;
    let mut id = [0u8; 12];
    match crmguard_core::SystemEntropy.fill(&mut id) {
        Ok(()) => hex::encode(id),
        // No entropy: the time still tells requests apart in the log.
        Err(_) => format!("t{}", crate::commands::audit::now_ms()),
    }
}

/// The middleware: see the module documentation.
pub(crate) async fn around(
    State(service): State<Arc<Service>>,
    mut req: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let id = req
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable(v))
        .map_or_else(fresh, str::to_owned);
    let (method, path) = (req.method().clone(), req.uri().path().to_owned());
    if let Ok(v) = HeaderValue::from_str(&id) {
        req.headers_mut().insert(HEADER, v);
    }
    let deadline = service.request_timeout;
    let mut response = REQUEST_ID
        .scope(id.clone(), async move {
            match tokio::time::timeout(deadline, next.run(req)).await {
                Ok(r) => r,
                Err(_) => problem(
                    StatusCode::SERVICE_UNAVAILABLE,
                    serve_codes::DEADLINE,
                    &format!(
                        "the request did not complete within {} ms",
                        deadline.as_millis()
                    ),
                ),
            }
        })
        .await;
    if let Ok(v) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(HEADER, v);
    }
    if service.access_log {
        let code = response
            .extensions()
            .get::<ProblemCode>()
            .map(|c| c.0.as_str());
        let line = json!({
            "time_ms": crate::commands::audit::now_ms(),
            "level": if response.status().is_server_error() { "warn" } else { "info" },
            "msg": "request",
            "request_id": id,
            "method": method.as_str(),
            "path": path,
            "status": response.status().as_u16(),
            "code": code,
            "ms": duration_ms(started.elapsed()),
        });
        // One write per line: stderr is unbuffered, and `eprintln!` of a JSON value would
        // make a write for each of its tokens.
        let mut text = line.to_string();
        text.push('\n');
        let _ = std::io::Write::write_all(&mut std::io::stderr().lock(), text.as_bytes());
    }
    response
}

fn duration_ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::acceptable;

    #[test]
    fn only_short_tokens_are_taken_as_request_ids() {
        for ok in ["a", "req-0123", "5f2b.c:d_e", &"x".repeat(128)] {
            assert!(acceptable(ok), "{ok}");
        }
        for bad in [
            "",
            "a b",
            "a\"b",
            "a\nb",
            "é",
            &"x".repeat(129),
            "{\"x\":1}",
        ] {
            assert!(!acceptable(bad), "{bad:?}");
        }
    }
}
