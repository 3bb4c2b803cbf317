//! The gateway's request handling, as plain Rust over [`Request`] and [`Response`] values so
//! it is tested natively; `lib.rs` translates wasi:http to and from them, and [`Upstream`] is
//! its outgoing HTTP (the origin and the audit collector).
//!
//! Every request that reaches a route goes through crmguard-core's pipeline
//! ([`Pipeline::decide`]): the bearer token is verified and bound to its tenant, the field
//! policy decides, and the decision's audit event is POSTed to the collector **before**
//! anything leaves the gateway: a write is forwarded to the origin only when allowed, sealed by
//! its schema and audited; a read's origin record is answered only when allowed, rendered for
//! the caller and audited. A collector that does not take the event (unreachable, non-2xx)
//! fails the request closed with 503 `ERR_AUDIT_UNAVAILABLE`; a denied request is never
//! forwarded.

use crmguard_core::Principal;
use crmguard_core::request::{Decided, Pipeline, PolicyDecider, Target, TenantKeyringsSealer};
use crmguard_core::{
    AuditEvent, ErrorKind, Keyring, RecordTarget, SystemEntropy, TenantId, UnixTime, codes,
};
use serde_json::{Map, Value, json};

use crate::settings::{Addressed, Settings};

/// The gateway's own stable codes (docs/ERRORS.md); the HTTP ones are serve's.
pub mod edge_codes {
    /// No `Authorization: Bearer` token (401).
    pub const BEARER: &str = "ERR_HTTP_BEARER";
    /// The body is not `application/json` (415).
    pub const MEDIA_TYPE: &str = "ERR_HTTP_MEDIA_TYPE";
    /// The body is over the bound (413).
    pub const BODY_TOO_LARGE: &str = "ERR_HTTP_BODY_TOO_LARGE";
    /// The body is not a JSON object, or names a member twice (400).
    pub const BODY: &str = "ERR_HTTP_BODY";
    /// No route for this path (404); nothing is forwarded.
    pub const NOT_FOUND: &str = "ERR_HTTP_NOT_FOUND";
    /// The route does not take this method on this path (405).
    pub const METHOD: &str = "ERR_HTTP_METHOD";
    /// The decision's audit event was not taken by the collector: not answered (503).
    pub const AUDIT_UNAVAILABLE: &str = "ERR_AUDIT_UNAVAILABLE";
    /// The gateway's settings are missing or invalid (503); the detail names the key.
    pub const CONFIG: &str = "ERR_EDGE_CONFIG";
    /// The origin could not be reached, or answered what the gateway cannot read (502).
    pub const ORIGIN: &str = "ERR_EDGE_ORIGIN";
    /// A cross-origin request from a browser origin not in `cors_origins` (403).
    pub const CORS: &str = "ERR_EDGE_CORS";
}

/// An HTTP request or response's parts, as the gateway sees them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Message {
    /// Header names (lower-case) and values.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Message {
    /// The first value of header `name` (lower-case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn is_json(&self) -> bool {
        self.header("content-type")
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"))
    }
}

/// An incoming request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `GET`, `POST`, ... (upper-case).
    pub method: String,
    /// The path and query, as received.
    pub path_and_query: String,
    /// Headers and body.
    pub message: Message,
}

/// A response (from the gateway, or the origin's to the gateway).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Headers and body.
    pub message: Message,
}

impl Response {
    /// A JSON response.
    pub fn json(status: u16, value: &Value) -> Self {
        Self {
            status,
            message: Message {
                headers: vec![("content-type".into(), "application/json".into())],
                body: value.to_string().into_bytes(),
            },
        }
    }

    /// An RFC 9457 problem with a stable code, the shape `crmguard serve` answers.
    pub fn problem(status: u16, code: &str, detail: &str) -> Self {
        let body = json!({
            "type": format!("https://crmguard.dev/errors/{code}"),
            "title": code,
            "status": status,
            "code": code,
            "detail": detail,
        });
        let mut headers = vec![(
            "content-type".to_owned(),
            "application/problem+json".to_owned(),
        )];
        if status == 401 {
            headers.push(("www-authenticate".into(), "Bearer".into()));
        }
        Self {
            status,
            message: Message {
                headers,
                body: body.to_string().into_bytes(),
            },
        }
    }

    fn core(e: &crmguard_core::Error) -> Self {
        Self::problem(status_of(e.kind()), e.code(), &e.to_string())
    }

    fn code(status: u16, code: &str, detail: &str) -> Self {
        let status = crmguard_core::error_kind(code).map_or(status, status_of);
        Self::problem(status, code, detail)
    }
}

/// The HTTP status of a core error kind (the same table as `crmguard serve`).
pub fn status_of(kind: ErrorKind) -> u16 {
    match kind {
        ErrorKind::Invalid => 400,
        ErrorKind::Unauthenticated => 401,
        ErrorKind::Forbidden => 403,
        ErrorKind::NotFound => 404,
        ErrorKind::Integrity => 422,
        ErrorKind::Limit => 413,
        _ => 500,
    }
}

/// Outgoing HTTP: what the component does through `wasi:http/outgoing-handler`.
pub trait Upstream {
    /// Sends `method url` with `message`; `Err`: not sent or no response (a reason, no
    /// secrets). Timeouts are the implementation's (`outgoing_timeout_ms`).
    fn send(&mut self, method: &str, url: &str, message: Message) -> Result<Response, String>;
}

/// A request's context: its id (sent to the origin as `x-request-id`, audited) and time.
#[derive(Debug, Clone)]
pub struct Context {
    /// The request id.
    pub request_id: String,
    /// When the request arrived.
    pub now: UnixTime,
}

/// Handles one request. `settings` is `Err` when the configuration did not parse: every
/// request is then a 503 naming the key at fault (no value).
pub fn handle(
    settings: Result<&Settings, &crate::settings::SettingsError>,
    request: &Request,
    ctx: &Context,
    upstream: &mut dyn Upstream,
) -> Response {
    let settings = match settings {
        Ok(s) => s,
        Err(e) => return Response::problem(503, edge_codes::CONFIG, &e.to_string()),
    };
    let origin = request.message.header("origin").map(str::to_owned);
    if let Some(o) = &origin
        && !settings.cors_origins.iter().any(|a| a == o)
    {
        return Response::problem(
            403,
            edge_codes::CORS,
            "this browser origin is not allowed to call the gateway",
        );
    }
    let mut response = if request.method == "OPTIONS" && origin.is_some() {
        preflight()
    } else {
        route(settings, request, ctx, upstream)
    };
    response
        .message
        .headers
        .push(("x-request-id".into(), ctx.request_id.clone()));
    if let Some(o) = origin {
        response.message.headers.extend([
            ("access-control-allow-origin".into(), o),
            ("vary".into(), "origin".into()),
            (
                "access-control-expose-headers".into(),
                "x-request-id".into(),
            ),
        ]);
    }
    response
}

/// A CORS preflight from an allowed origin: answered here, never forwarded.
fn preflight() -> Response {
    Response {
        status: 204,
        message: Message {
            headers: vec![
                (
                    "access-control-allow-methods".into(),
                    "GET, POST, PUT, PATCH, DELETE".into(),
                ),
                (
                    "access-control-allow-headers".into(),
                    "authorization, content-type".into(),
                ),
                ("access-control-max-age".into(), "600".into()),
            ],
            body: Vec::new(),
        },
    }
}

/// What a method does to what a path addresses.
fn action_of(method: &str, addressed: &Addressed<'_>) -> Option<&'static str> {
    match (method, addressed.record_id.is_some()) {
        ("POST", false) => Some("create"),
        ("GET", true) => Some("read"),
        ("PUT" | "PATCH", true) => Some("update"),
        ("DELETE", true) => Some("delete"),
        _ => None,
    }
}

fn bearer(request: &Request) -> Result<&str, Response> {
    let missing = || {
        Response::problem(
            401,
            edge_codes::BEARER,
            "an Authorization: Bearer token is required",
        )
    };
    let value = request
        .message
        .header("authorization")
        .ok_or_else(missing)?;
    let (scheme, token) = value.split_once(' ').ok_or_else(missing)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(missing());
    }
    Ok(token.trim())
}

/// A JSON object body, bounded and strict (no member named twice).
fn json_object(message: &Message, max: usize, what: &str) -> Result<Map<String, Value>, String> {
    if message.body.len() > max {
        return Err(format!("{what} is over {max} bytes"));
    }
    match crmguard_core::request::parse_json_strict(&message.body) {
        Some(Value::Object(m)) => Ok(m),
        _ => Err(format!(
            "{what} is not a JSON object, or names a member twice"
        )),
    }
}

fn route(
    settings: &Settings,
    request: &Request,
    ctx: &Context,
    upstream: &mut dyn Upstream,
) -> Response {
    let path = request
        .path_and_query
        .split_once('?')
        .map_or(request.path_and_query.as_str(), |(p, _)| p);
    let Some(addressed) = settings.addressed(path) else {
        return Response::problem(404, edge_codes::NOT_FOUND, "no route for this path");
    };
    let Some(action) = action_of(&request.method, &addressed) else {
        return Response::problem(
            405,
            edge_codes::METHOD,
            "the route takes POST on its collection, GET, PUT, PATCH and DELETE on a record",
        );
    };
    match gate(settings, request, ctx, upstream, &addressed, action) {
        Ok(r) | Err(r) => r,
    }
}

/// The gateway's [`crmguard_core::request::FieldSealer`]: the tenant keyrings, fresh nonces.
type Sealer<'a> = TenantKeyringsSealer<'a, Keyring, SystemEntropy>;

fn gate(
    settings: &Settings,
    request: &Request,
    ctx: &Context,
    upstream: &mut dyn Upstream,
    addressed: &Addressed<'_>,
    action: &'static str,
) -> Result<Response, Response> {
    let token = bearer(request)?;
    let spec = &addressed.route.spec;
    // Step 1 first, on its own: an unknown caller learns nothing and reaches nothing (the
    // origin is not asked for a record before the token verifies).
    let claims = settings
        .keys
        .verify_jwt(token, &settings.options, ctx.now.as_secs())
        .map_err(|e| Response::core(&e))?;
    // A path naming another tenant than the caller's is refused by the pipeline (audited)
    // without asking the origin for anything.
    let same_tenant = match &addressed.tenant {
        None => true,
        Some(t) => Principal::from_verified(&claims, &settings.names, &settings.issuers)
            .map_err(|e| Response::core(&e))?
            .check_tenant(t)
            .is_ok(),
    };
    // The record the decision is about: the caller's body for a write, the origin's for a
    // read, none for a delete.
    let record = match action {
        "create" | "update" => write_body(settings, request)?,
        "read" if same_tenant => fetch(settings, request, ctx, upstream)?,
        _ => Map::new(),
    };
    let record_id = match &addressed.record_id {
        Some(id) => id.clone(),
        None => match record.get(&spec.id_field).and_then(Value::as_str) {
            Some(id) => id.to_owned(),
            None if !same_tenant => "-".to_owned(),
            None => {
                return Err(Response::problem(
                    400,
                    edge_codes::BODY,
                    &format!("a created record needs its id in {:?}", spec.id_field),
                ));
            }
        },
    };
    let subject = spec
        .subject_field
        .as_ref()
        .and_then(|f| record.get(f))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let target = Target::parse(
        addressed.tenant.as_deref(),
        action,
        &spec.object,
        &record_id,
        subject.as_deref(),
    )
    .map_err(|e| Response::core(&e))?;
    let pipeline = Pipeline {
        keys: &settings.keys,
        options: &settings.options,
        names: &settings.names,
        issuers: &settings.issuers,
    };
    let mut decider = PolicyDecider::new(&settings.policy);
    let mut sealer: Sealer<'_> = TenantKeyringsSealer::new(&settings.keyrings, SystemEntropy);
    let plain = record.clone();
    let mut decided = pipeline
        .decide_verified(&claims, target, ctx.now, record, &mut decider, &mut sealer)
        .map_err(|e| Response::core(&e))?;
    decided.event.request_id = Some(ctx.request_id.clone());
    if !decided.decision.is_allowed() {
        audit(settings, upstream, &decided.event)?;
        let code = decided.decision.code().unwrap_or(codes::POLICY_DENIED);
        let reason = match &decided.decision.verdict {
            crmguard_core::request::Verdict::Deny { reason, .. } => reason.clone(),
            crmguard_core::request::Verdict::Allow { .. } => String::new(),
        };
        return Err(Response::code(403, code, &reason));
    }
    match action {
        "read" => {
            audit(settings, upstream, &decided.event)?;
            Ok(Response::json(200, &Value::Object(decided.decision.record)))
        }
        "delete" => {
            audit(settings, upstream, &decided.event)?;
            forward(settings, request, ctx, upstream, Vec::new())
        }
        _ => {
            let sealed = match seal(settings, &decided, plain) {
                Ok(v) => v,
                Err(e) => {
                    decided.refuse_after("edge-write", &e);
                    decided.event.request_id = Some(ctx.request_id.clone());
                    audit(settings, upstream, &decided.event)?;
                    return Err(Response::core(&e));
                }
            };
            audit(settings, upstream, &decided.event)?;
            forward(
                settings,
                request,
                ctx,
                upstream,
                sealed.to_string().into_bytes(),
            )
        }
    }
}

/// A write's record: a bounded, strict JSON object.
fn write_body(settings: &Settings, request: &Request) -> Result<Map<String, Value>, Response> {
    if !request.message.is_json() {
        return Err(Response::problem(
            415,
            edge_codes::MEDIA_TYPE,
            "the body must be application/json",
        ));
    }
    if request.message.body.len() > settings.max_body_bytes {
        return Err(Response::problem(
            413,
            edge_codes::BODY_TOO_LARGE,
            &format!("the body is over {} bytes", settings.max_body_bytes),
        ));
    }
    json_object(&request.message, settings.max_body_bytes, "the body")
        .map_err(|e| Response::problem(400, edge_codes::BODY, &e))
}

/// The record as the origin stores it: sealed by the object's schema under the caller's
/// tenant keyring, bound to the record id (and subject) of the request as bound.
fn seal(
    settings: &Settings,
    decided: &Decided,
    plain: Map<String, Value>,
) -> Result<Value, crmguard_core::Error> {
    let request = decided
        .request
        .as_ref()
        .ok_or(crmguard_core::RequestError::UnknownTenant)?;
    let schema = settings
        .schemas
        .get(request.object().as_str())
        .ok_or(crmguard_core::RequestError::UnknownTenant)?;
    let keyring = keyring_of(settings, request.tenant())?;
    let target = RecordTarget {
        tenant: request.tenant().clone(),
        record: Some(request.record_id().clone()),
        subject: request.subject().cloned(),
    };
    keyring.seal_record(schema, &Value::Object(plain), &target, &mut SystemEntropy)
}

fn keyring_of<'a>(
    settings: &'a Settings,
    tenant: &TenantId,
) -> Result<&'a Keyring, crmguard_core::Error> {
    settings
        .keyrings
        .get(tenant)
        .ok_or_else(|| crmguard_core::RequestError::UnknownTenant.into())
}

/// The headers sent to the origin: the caller's content type and accept, the request id,
/// and the gateway's own origin token if set (never the caller's token: the origin trusts
/// the gateway, not the caller's IdP).
fn origin_headers(settings: &Settings, request: &Request, ctx: &Context) -> Vec<(String, String)> {
    let mut headers = vec![("x-request-id".to_owned(), ctx.request_id.clone())];
    for name in ["content-type", "accept"] {
        if let Some(v) = request.message.header(name) {
            headers.push((name.to_owned(), v.to_owned()));
        }
    }
    if let Some(t) = &settings.origin_token {
        headers.push(("authorization".into(), format!("Bearer {t}")));
    }
    headers
}

fn origin_failed(reason: impl core::fmt::Display) -> Response {
    Response::problem(502, edge_codes::ORIGIN, &format!("the origin: {reason}"))
}

/// A read's record from the origin; an origin error status is answered as it came (a 404
/// stays a 404), with its body only if it is a problem document.
fn fetch(
    settings: &Settings,
    request: &Request,
    ctx: &Context,
    upstream: &mut dyn Upstream,
) -> Result<Map<String, Value>, Response> {
    let url = settings.origin.url(&request.path_and_query);
    let mut message = Message {
        headers: origin_headers(settings, request, ctx),
        body: Vec::new(),
    };
    message.headers.retain(|(n, _)| n != "content-type");
    let response = upstream.send("GET", &url, message).map_err(origin_failed)?;
    if !(200..300).contains(&response.status) {
        return Err(passed_status(response));
    }
    if !response.message.is_json() {
        return Err(origin_failed("the record is not application/json"));
    }
    json_object(&response.message, settings.max_body_bytes, "the record").map_err(origin_failed)
}

/// An origin's error status, passed on; its body only if it is JSON (a problem), so an
/// origin's error page does not leak through as is.
fn passed_status(mut response: Response) -> Response {
    let json = response
        .message
        .header("content-type")
        .is_some_and(|v| v.contains("json"));
    if !json {
        return Response::problem(
            response.status,
            edge_codes::ORIGIN,
            &format!("the origin answered {}", response.status),
        );
    }
    response
        .message
        .headers
        .retain(|(n, _)| n.eq_ignore_ascii_case("content-type"));
    response
}

/// Forwards an allowed (and audited) write or delete with `body`; the origin's answer is
/// passed on (status, content type, body).
fn forward(
    settings: &Settings,
    request: &Request,
    ctx: &Context,
    upstream: &mut dyn Upstream,
    body: Vec<u8>,
) -> Result<Response, Response> {
    let url = settings.origin.url(&request.path_and_query);
    let mut headers = origin_headers(settings, request, ctx);
    if !body.is_empty() {
        headers.retain(|(n, _)| n != "content-type");
        headers.push(("content-type".into(), "application/json".into()));
    }
    let mut response = upstream
        .send(&request.method, &url, Message { headers, body })
        .map_err(origin_failed)?;
    if response.message.body.len() > settings.max_body_bytes {
        return Err(origin_failed("the answer is too large"));
    }
    response
        .message
        .headers
        .retain(|(n, _)| n.eq_ignore_ascii_case("content-type"));
    Ok(response)
}

/// POSTs the decision's audit event to the collector; anything but a 2xx is a failure, and
/// the request is not answered (fail closed).
fn audit(
    settings: &Settings,
    upstream: &mut dyn Upstream,
    event: &AuditEvent,
) -> Result<(), Response> {
    let unavailable = |why: String| {
        Response::problem(
            503,
            edge_codes::AUDIT_UNAVAILABLE,
            &format!("the decision was not recorded ({why}), so it is not answered"),
        )
    };
    let body = serde_json::to_vec(event).map_err(|e| unavailable(e.to_string()))?;
    let mut headers = vec![("content-type".to_owned(), "application/json".to_owned())];
    if let Some(t) = &settings.audit_token {
        headers.push(("authorization".into(), format!("Bearer {t}")));
    }
    let url = settings.audit.url("");
    let r = upstream
        .send("POST", &url, Message { headers, body })
        .map_err(unavailable)?;
    if (200..300).contains(&r.status) {
        Ok(())
    } else {
        Err(unavailable(format!("the collector answered {}", r.status)))
    }
}
