//! # crmguard-edge
//!
//! The edge function: a `wasi:http/proxy` component (WASI 0.2) that sits in front of a CRM's
//! HTTP API, the origin. It exports `wasi:http/incoming-handler` and imports only the proxy
//! world's own interfaces (`outgoing-handler`, io, clocks, random, stdio) and
//! `wasi:config/store` for its settings, so any component-model HTTP host runs it unchanged:
//! `crmguard serve --edge`, `wasmtime serve -Sconfig`, Spin, wasmCloud (docs/EDGE.md).
//!
//! Every rule is crmguard-core's ([`gateway`] calls its pipeline); this file only translates
//! wasi:http to and from [`gateway::Request`] and [`gateway::Response`].
//!
//! - [`settings`]: the settings and keys from the configuration store.
//! - [`gateway`]: what a request does (verify, decide, seal or render, audit, forward).

// wit-bindgen's and wasip2's generated glue (the canonical ABI) is `unsafe` code; none is
// written by hand in this crate.
#![allow(unsafe_code)]

pub mod gateway;
pub mod settings;

use std::collections::BTreeMap;

use wasip2::http::types::{
    ErrorCode, Fields, IncomingRequest, IncomingResponse, Method, OutgoingBody, OutgoingRequest,
    OutgoingResponse, RequestOptions, ResponseOutparam, Scheme,
};
use wasip2::io::streams::{InputStream, StreamError};

use gateway::{Context, Message, Request, Response, Upstream};

wit_bindgen::generate!({
    world: "gateway",
    path: "wit",
    generate_all,
});

use wasi::config::store as config;

/// The most bytes one `blocking-write-and-flush` takes (WASI's streams contract).
const WRITE_CHUNK: usize = 4096;

/// The component: one fresh instance per request (the host's rule), so nothing outlives it.
struct Edge;

impl wasip2::exports::http::incoming_handler::Guest for Edge {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let started = monotonic_us();
        let settings = settings();
        let loaded = monotonic_us();
        let max = settings
            .as_ref()
            .map_or(settings::DEFAULT_MAX_BODY_BYTES, |s| s.max_body_bytes);
        let timeout = settings
            .as_ref()
            .map_or(settings::DEFAULT_OUTGOING_TIMEOUT_MS, |s| {
                s.outgoing_timeout_ms
            });
        let ctx = Context {
            request_id: hex::encode(wasip2::random::random::get_random_bytes(16)),
            now: now(),
        };
        let mut outgoing = Outgoing {
            timeout_ms: timeout,
            max_body: max,
            spent_us: 0,
        };
        let mut response = match read_request(&request, max) {
            Ok(r) => gateway::handle(settings.as_ref(), &r, &ctx, &mut outgoing),
            Err(r) => r,
        };
        if settings.as_ref().is_ok_and(|s| s.server_timing) {
            // W3C Server-Timing, in milliseconds: reading the settings, waiting on the
            // origin and the collector, everything else the gateway did, and the total.
            let total = monotonic_us().saturating_sub(started);
            let settings_us = loaded.saturating_sub(started);
            let own = total.saturating_sub(settings_us + outgoing.spent_us);
            let ms = |us: u64| format!("{:.3}", us as f64 / 1000.0);
            response.message.headers.push((
                "server-timing".into(),
                format!(
                    "settings;dur={}, upstream;dur={}, gateway;dur={}, total;dur={}",
                    ms(settings_us),
                    ms(outgoing.spent_us),
                    ms(own),
                    ms(total)
                ),
            ));
        }
        send(out, response);
    }
}

fn monotonic_us() -> u64 {
    wasip2::clocks::monotonic_clock::now() / 1000
}

wasip2::http::proxy::export!(Edge);

/// The root export a host may run once before serving (crmguard serve --edge does, and
/// snapshots the result: docs/EDGE.md): the settings are then read and parsed once, not in
/// every request's fresh instance. Hosts that never call it (wasmtime serve, Spin) get the
/// same answers, reading the settings per instance.
impl Guest for Edge {
    fn wizer_initialize() {
        let _ = settings();
    }
}

export!(Edge);

std::thread_local! {
    /// The settings of this instance image (wasm32-wasip2 has one thread).
    static SETTINGS: &'static Result<settings::Settings, settings::SettingsError> =
        Box::leak(Box::new(load_settings()));
}

/// The settings, read from the configuration store on first use in this instance image.
fn settings() -> &'static Result<settings::Settings, settings::SettingsError> {
    SETTINGS.with(|s| *s)
}

fn load_settings() -> Result<settings::Settings, settings::SettingsError> {
    let pairs: BTreeMap<String, String> = config::get_all()
        .map_err(|e| settings::SettingsError {
            key: "*".to_owned(),
            reason: match e {
                config::Error::Upstream(m) | config::Error::Io(m) => {
                    format!("the configuration store failed: {m}")
                }
            },
        })?
        .into_iter()
        .collect();
    settings::Settings::from_pairs(&pairs)
}

fn now() -> crmguard_core::UnixTime {
    let t = wasip2::clocks::wall_clock::now();
    crmguard_core::UnixTime::from_millis(
        t.seconds
            .saturating_mul(1000)
            .saturating_add(u64::from(t.nanoseconds / 1_000_000)),
    )
    .unwrap_or(crmguard_core::UnixTime::EPOCH)
}

fn method_name(m: &Method) -> String {
    match m {
        Method::Get => "GET".into(),
        Method::Head => "HEAD".into(),
        Method::Post => "POST".into(),
        Method::Put => "PUT".into(),
        Method::Delete => "DELETE".into(),
        Method::Connect => "CONNECT".into(),
        Method::Options => "OPTIONS".into(),
        Method::Trace => "TRACE".into(),
        Method::Patch => "PATCH".into(),
        Method::Other(s) => s.to_ascii_uppercase(),
    }
}

fn method_of(name: &str) -> Method {
    match name {
        "GET" => Method::Get,
        "POST" => Method::Post,
        "PUT" => Method::Put,
        "PATCH" => Method::Patch,
        "DELETE" => Method::Delete,
        other => Method::Other(other.to_owned()),
    }
}

/// Header pairs as text; a value that is not UTF-8 is left out (the gateway reads none
/// such).
fn headers_of(fields: &Fields) -> Vec<(String, String)> {
    fields
        .entries()
        .into_iter()
        .filter_map(|(n, v)| Some((n.to_ascii_lowercase(), String::from_utf8(v).ok()?)))
        .collect()
}

/// Reads a body stream to its end, at most `max` bytes (one more is an error).
fn read_all(stream: &InputStream, max: usize) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        match stream.blocking_read(65_536) {
            Ok(chunk) => {
                out.extend_from_slice(&chunk);
                if out.len() > max {
                    return Err(format!("over {max} bytes"));
                }
            }
            Err(StreamError::Closed) => return Ok(out),
            Err(StreamError::LastOperationFailed(e)) => return Err(e.to_debug_string()),
        }
    }
}

fn read_request(request: &IncomingRequest, max: usize) -> Result<Request, Response> {
    let body = request
        .consume()
        .map_err(|()| Response::problem(400, gateway::edge_codes::BODY, "no body"))?;
    let bytes = {
        let stream = body
            .stream()
            .map_err(|()| Response::problem(400, gateway::edge_codes::BODY, "no body"))?;
        read_all(&stream, max).map_err(|e| {
            Response::problem(
                413,
                gateway::edge_codes::BODY_TOO_LARGE,
                &format!("the body: {e}"),
            )
        })?
    };
    drop(body);
    Ok(Request {
        method: method_name(&request.method()),
        path_and_query: request.path_with_query().unwrap_or_else(|| "/".into()),
        message: Message {
            headers: headers_of(&request.headers()),
            body: bytes,
        },
    })
}

fn fields(headers: &[(String, String)]) -> Fields {
    let list: Vec<(String, Vec<u8>)> = headers
        .iter()
        .map(|(n, v)| (n.clone(), v.clone().into_bytes()))
        .collect();
    // A header the host forbids is left out rather than failing the response.
    Fields::from_list(&list).unwrap_or_else(|_| {
        let f = Fields::new();
        for (n, v) in &list {
            let _ = f.append(n, v);
        }
        f
    })
}

fn write_body(body: &OutgoingBody, bytes: &[u8]) -> Result<(), String> {
    let stream = body.write().map_err(|()| "no body stream".to_owned())?;
    for chunk in bytes.chunks(WRITE_CHUNK) {
        stream
            .blocking_write_and_flush(chunk)
            .map_err(|e| format!("{e:?}"))?;
    }
    Ok(())
}

fn send(out: ResponseOutparam, response: Response) {
    let r = OutgoingResponse::new(fields(&response.message.headers));
    let _ = r.set_status_code(response.status);
    let Ok(body) = r.body() else {
        ResponseOutparam::set(out, Err(ErrorCode::InternalError(None)));
        return;
    };
    ResponseOutparam::set(out, Ok(r));
    if write_body(&body, &response.message.body).is_ok() {
        let _ = OutgoingBody::finish(body, None);
    }
}

/// Outgoing requests through `wasi:http/outgoing-handler`, each with timeouts and a bound
/// on the answer's body.
struct Outgoing {
    timeout_ms: u64,
    max_body: usize,
    /// Microseconds spent waiting on outgoing requests (Server-Timing).
    spent_us: u64,
}

impl Upstream for Outgoing {
    fn send(&mut self, method: &str, url: &str, message: Message) -> Result<Response, String> {
        let started = monotonic_us();
        let r = self.send_timed(method, url, message);
        self.spent_us += monotonic_us().saturating_sub(started);
        r
    }
}

impl Outgoing {
    fn send_timed(
        &mut self,
        method: &str,
        url: &str,
        message: Message,
    ) -> Result<Response, String> {
        let uri: http::Uri = url.parse().map_err(|_| "not a URL".to_owned())?;
        let mut headers = message.headers;
        // A framed body (not chunked): every origin reads it.
        if !message.body.is_empty() || matches!(method, "POST" | "PUT" | "PATCH") {
            headers.push(("content-length".into(), message.body.len().to_string()));
        }
        let request = OutgoingRequest::new(fields(&headers));
        let _ = request.set_method(&method_of(method));
        let scheme = if uri.scheme_str() == Some("https") {
            Scheme::Https
        } else {
            Scheme::Http
        };
        let _ = request.set_scheme(Some(&scheme));
        let _ = request.set_authority(uri.authority().map(|a| a.as_str()));
        let _ = request.set_path_with_query(uri.path_and_query().map(|p| p.as_str()));
        let options = RequestOptions::new();
        let ns = self.timeout_ms.saturating_mul(1_000_000);
        let _ = options.set_connect_timeout(Some(ns));
        let _ = options.set_first_byte_timeout(Some(ns));
        let _ = options.set_between_bytes_timeout(Some(ns));
        let body = request.body().map_err(|()| "no request body".to_owned())?;
        let pending = wasip2::http::outgoing_handler::handle(request, Some(options))
            .map_err(|e| format!("{e:?}"))?;
        write_body(&body, &message.body)?;
        OutgoingBody::finish(body, None).map_err(|e| format!("{e:?}"))?;
        pending.subscribe().block();
        let response: IncomingResponse = match pending.get() {
            Some(Ok(Ok(r))) => r,
            Some(Ok(Err(e))) => return Err(format!("{e:?}")),
            Some(Err(())) | None => return Err("no response".to_owned()),
        };
        let headers = headers_of(&response.headers());
        let incoming = response.consume().map_err(|()| "no body".to_owned())?;
        let bytes = {
            let stream = incoming.stream().map_err(|()| "no body".to_owned())?;
            read_all(&stream, self.max_body)?
        };
        drop(incoming);
        Ok(Response {
            status: response.status(),
            message: Message {
                headers,
                body: bytes,
            },
        })
    }
}
