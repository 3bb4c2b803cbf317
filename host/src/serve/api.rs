//! The HTTP API (`/v1`), as documented in `openapi.json` (served at `/openapi.json`).
//! Every error is `application/problem+json` with the stable code; bad input is 4xx; a
//! decision is answered only after its audit record is durable (else 503).

// Handlers answer with an axum Response on both paths; boxing the error one buys nothing.
#![allow(clippy::result_large_err)]

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use crmguard_core::request::AccessRequest;
use crmguard_core::request::{
    Decided, Decider, DeciderFailure, Pipeline, PolicyDecider, Proposal, Target,
};
use crmguard_core::{
    ErrorKind, KeySet, Keyring, Principal, RecordSchema, SystemEntropy, UnixTime, VerifiedClaims,
    codes,
};
use crmguard_runtime::PluginDecider;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{ObjectDecider, Service};

/// The OpenAPI 3.1 document of this API.
pub(crate) const OPENAPI: &str = include_str!("openapi.json");

type Shared = State<Arc<Service>>;

/// The service's own codes (docs/SERVE.md), besides core's.
pub(crate) mod serve_codes {
    /// No `Authorization: Bearer` token (401).
    pub(crate) const BEARER: &str = "ERR_HTTP_BEARER";
    /// The body is not `application/json` (415).
    pub(crate) const MEDIA_TYPE: &str = "ERR_HTTP_MEDIA_TYPE";
    /// The body is over the configured bound (413).
    pub(crate) const BODY_TOO_LARGE: &str = "ERR_HTTP_BODY_TOO_LARGE";
    /// The body is not the expected JSON, or names a member twice (400).
    pub(crate) const BODY: &str = "ERR_HTTP_BODY";
    /// The decision task did not complete (503).
    pub(crate) const BUSY: &str = "ERR_SERVE_BUSY";
    /// The decision could not be made durable, so it is not answered (503).
    pub(crate) const AUDIT_UNAVAILABLE: &str = "ERR_AUDIT_UNAVAILABLE";
    /// The object has no record schema: no write path or lookup (404).
    pub(crate) const NO_SCHEMA: &str = "ERR_SERVE_NO_SCHEMA";
    /// No such endpoint (404).
    pub(crate) const NOT_FOUND: &str = "ERR_HTTP_NOT_FOUND";
    /// The endpoint does not take this method (405).
    pub(crate) const METHOD: &str = "ERR_HTTP_METHOD";
    /// The configuration or data folder is not usable (at start).
    pub(crate) const CONFIG: &str = "ERR_SERVE_CONFIG";
    /// The identity provider's key set cannot be had (unreachable, an error status, not a
    /// key set) and none was fetched before: 503.
    pub(crate) const JWKS_UNAVAILABLE: &str = "ERR_JWKS_UNAVAILABLE";
    /// The key set's fetch timed out (jose's name) and none was fetched before: 503.
    pub(crate) const JWKS_TIMEOUT: &str = "ERR_JWKS_TIMEOUT";
    /// The caller's roles do not include one the configuration grants for this endpoint
    /// (`[audit]`, `[subjects]`) (403).
    pub(crate) const ROLE: &str = "ERR_SERVE_ROLE";
    /// The tenant has no tenant key: no public key, no browser-sealed values (404).
    pub(crate) const NO_TENANT_KEY: &str = "ERR_SERVE_NO_TENANT_KEY";
    /// The object's schema has no blind index at the field asked about (404).
    pub(crate) const NO_INDEX: &str = "ERR_SERVE_NO_INDEX";
    /// No record, or no checkpoint, of the number asked for (404).
    pub(crate) const AUDIT_NOT_FOUND: &str = "ERR_SERVE_AUDIT_NOT_FOUND";
    /// The query string is not the endpoint's (400).
    pub(crate) const QUERY: &str = "ERR_HTTP_QUERY";
    /// The request did not complete within `[limits] request_timeout_ms` (503).
    pub(crate) const DEADLINE: &str = "ERR_SERVE_DEADLINE";
}

/// The stable code of a problem response, for the access log.
#[derive(Clone, Debug)]
pub(crate) struct ProblemCode(pub(crate) String);

pub(crate) fn router(service: Arc<Service>) -> Router {
    Router::new()
        .route("/v1/decide", post(decide))
        .route("/v1/records/seal", post(seal))
        .route("/v1/blind-index", post(blind_index))
        .route("/v1/tokens/verify", post(verify))
        .route("/v1/tenants/{tenant}/public-key", get(tenant_public_key))
        .route("/v1/subjects/forget", post(super::subjects::forget))
        .route("/v1/audit/head", get(super::audit_api::head))
        .route("/v1/audit/checkpoint", post(super::audit_api::checkpoint))
        .route(
            "/v1/audit/proofs/inclusion",
            get(super::audit_api::inclusion),
        )
        .route(
            "/v1/audit/proofs/consistency",
            get(super::audit_api::consistency),
        )
        .route("/v1/audit/events", post(super::audit_api::append))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            service.clone(),
            super::scope::around,
        ))
        .with_state(service)
}

/// An RFC 9457 problem with CRMGuard's stable code.
pub(super) fn problem(status: StatusCode, code: &str, detail: &str) -> Response {
    let body = json!({
        "type": format!("https://crmguard.dev/errors/{code}"),
        "title": code,
        "status": status.as_u16(),
        "code": code,
        "detail": detail,
    });
    let mut r = (
        status,
        [(header::CONTENT_TYPE, "application/problem+json")],
        body.to_string(),
    )
        .into_response();
    r.extensions_mut().insert(ProblemCode(code.to_owned()));
    if status == StatusCode::UNAUTHORIZED {
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer"),
        );
    }
    r
}

/// The HTTP status for a core error that stops a request before any decision.
/// The HTTP status of a core failure, from its code's kind (crmguard-core's code table, so
/// no code is classified here by its spelling): docs/ERRORS.md lists them.
/// The status of a stable code: core's by its kind; any other (the log's own) is a 503.
pub(super) fn status_of_code(code: &str) -> StatusCode {
    crmguard_core::error_kind(code).map_or(StatusCode::SERVICE_UNAVAILABLE, status_of)
}

fn status_of(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::Invalid => StatusCode::BAD_REQUEST,
        ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Integrity => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorKind::Limit => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

pub(super) fn core_problem(e: &crmguard_core::Error) -> Response {
    problem(status_of(e.kind()), e.code(), &e.to_string())
}

pub(super) fn json_response(status: StatusCode, v: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        v.to_string(),
    )
        .into_response()
}

pub(super) fn timed(
    service: &Service,
    route: &'static str,
    started: Instant,
    r: Response,
) -> Response {
    service
        .metrics
        .request(route, r.status().as_u16(), started.elapsed());
    r
}

pub(super) fn bearer(headers: &HeaderMap) -> Result<String, Response> {
    let missing = || {
        problem(
            StatusCode::UNAUTHORIZED,
            serve_codes::BEARER,
            "an Authorization: Bearer token is required",
        )
    };
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(missing)?;
    let (scheme, token) = value.split_once(' ').ok_or_else(missing)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(missing());
    }
    Ok(token.trim().to_owned())
}

/// The body, bounded, as JSON of `T`; `application/json` only.
pub(super) async fn json_body<T: serde::de::DeserializeOwned>(
    service: &Service,
    headers: &HeaderMap,
    body: Body,
) -> Result<T, Response> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !json {
        return Err(problem(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            serve_codes::MEDIA_TYPE,
            "the body must be application/json",
        ));
    }
    let bytes: Bytes = axum::body::to_bytes(body, service.max_body)
        .await
        .map_err(|_| {
            problem(
                StatusCode::PAYLOAD_TOO_LARGE,
                serve_codes::BODY_TOO_LARGE,
                &format!("the body is over {} bytes", service.max_body),
            )
        })?;
    // Strict: a member named twice (at any depth) is refused, not resolved last-one-wins.
    let value = crmguard_core::request::parse_json_strict(&bytes).ok_or_else(|| {
        problem(
            StatusCode::BAD_REQUEST,
            serve_codes::BODY,
            "the body is not JSON, or names a member twice",
        )
    })?;
    serde_json::from_value(value).map_err(|e| {
        problem(
            StatusCode::BAD_REQUEST,
            serve_codes::BODY,
            &format!("the body is not the expected JSON: {e}"),
        )
    })
}

pub(super) fn now() -> UnixTime {
    UnixTime::from_millis(crate::commands::audit::now_ms()).unwrap_or(UnixTime::EPOCH)
}

/// `POST /v1/decide`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DecideBody {
    /// The tenant whose record it is (default: the caller's); must be the caller's.
    #[serde(default)]
    tenant: Option<String>,
    #[serde(default = "read_action")]
    action: String,
    object: String,
    record_id: String,
    #[serde(default)]
    subject: Option<String>,
    /// The record as stored (sealed fields in their `cg1:` form).
    record: Map<String, Value>,
}

fn read_action() -> String {
    "read".to_owned()
}

/// The service's decider: the object's plugin, or the native policy rendering through the
/// tenant's keyring. A tenant without a keyring here is refused before anything runs.
struct ServeDecider<'a> {
    service: &'a Service,
    /// The policy as the request began (a SIGHUP reload later is not in it).
    policies: Arc<super::Policies>,
    name: String,
    /// A lookup addresses no record: the policy's tenant field is taken as the caller's.
    lookup: bool,
}

impl ServeDecider<'_> {
    fn for_object<'a>(service: &'a Service, object: &str) -> ServeDecider<'a> {
        let name = match service.objects.get(object) {
            Some(ObjectDecider::Plugin(p)) => p.manifest().name.clone(),
            _ => "policy".to_owned(),
        };
        ServeDecider {
            service,
            policies: service.policies(),
            name,
            lookup: false,
        }
    }

    fn for_lookup<'a>(service: &'a Service, object: &str) -> ServeDecider<'a> {
        ServeDecider {
            lookup: true,
            ..Self::for_object(service, object)
        }
    }
}

impl Decider for ServeDecider<'_> {
    fn name(&self) -> &str {
        &self.name
    }

    fn decide(&mut self, request: &AccessRequest) -> Result<Proposal, DeciderFailure> {
        if !self.lookup {
            return self.decide_record(request);
        }
        // A lookup addresses no record: the policy's tenant-field check is met by the
        // caller's own tenant, and only the verdict counts (a lookup shows no field).
        let tenant_field = self.policies.policy.as_ref().and_then(|p| {
            p.document()
                .objects
                .get(request.object().as_str())
                .and_then(|o| o.tenant_field.clone())
        });
        let mut addressed = request.clone();
        if let Some(tf) = tenant_field {
            addressed
                .record_mut()
                .insert(tf, Value::from(request.tenant().as_str()));
        }
        self.decide_record(&addressed).map(|p| match p {
            Proposal::Allow { reason, .. } => Proposal::Allow {
                reason,
                fields: Vec::new(),
            },
            deny => deny,
        })
    }

    fn invalid_answer_code(&self) -> &'static str {
        PluginDecider::INVALID_ANSWER
    }
}

impl ServeDecider<'_> {
    /// The object's plugin, or the native policy. Either names treatments; core renders
    /// them with the tenant's keyring ([`TenantKeyringsSealer`]).
    fn decide_record(&self, request: &AccessRequest) -> Result<Proposal, DeciderFailure> {
        let s = self.service;
        if !s.keyrings.serves(request.tenant()) {
            return Err(DeciderFailure {
                code: crmguard_core::codes::REQUEST_TENANT_UNKNOWN.to_owned(),
                message: "the caller's tenant is not served here".to_owned(),
            });
        }
        match (s.objects.get(request.object().as_str()), &s.plugins) {
            (Some(ObjectDecider::Plugin(plugin)), Some((host, services))) => {
                PluginDecider::new(host, plugin, services).decide(request)
            }
            _ => {
                let Some(policy) = &self.policies.policy else {
                    return Err(DeciderFailure {
                        code: crmguard_core::codes::POLICY_INVALID.to_owned(),
                        message: "no policy decides this object".to_owned(),
                    });
                };
                PolicyDecider::new(policy).decide(request)
            }
        }
    }
}

/// Step 1 of the pipeline: `token` verified against the key set as it is now; a token
/// naming a `kid` the set lacks is verified once more against a refetched set (jose's
/// remote-set rule, within the cooldown). No key set at all: 503.
pub(super) async fn verified(
    service: &Service,
    token: &str,
    now: UnixTime,
) -> Result<(VerifiedClaims, Arc<KeySet>), Response> {
    let jwks_problem =
        |e: super::jwks::Unavailable| problem(StatusCode::SERVICE_UNAVAILABLE, e.code, &e.message);
    let keys = service.keys.current().await.map_err(jwks_problem)?;
    match keys.verify_jwt(token, &service.options, now.as_secs()) {
        Err(e) if e.code() == codes::JWKS_NO_MATCHING_KEY => {
            match service.keys.refetch_for_unknown_kid().await {
                Some(fresh) => fresh
                    .verify_jwt(token, &service.options, now.as_secs())
                    .map(|c| (c, fresh)),
                None => Err(e),
            }
        }
        r => r.map(|c| (c, keys)),
    }
    .map_err(|e| core_problem(&e))
}

/// Steps 1 to 5 of the pipeline for `target`; 2 to 5 off the reactor (the decider may run a
/// plugin: CPU-bound, bounded by its deadline). `lookup`: no record is addressed.
async fn run_pipeline(
    service: &Arc<Service>,
    token: String,
    target: Target,
    record: Map<String, Value>,
    lookup: bool,
) -> Result<Decided, Response> {
    let time = now();
    let (claims, keys) = verified(service, &token, time).await?;
    let s = service.clone();
    tokio::task::spawn_blocking(move || {
        let object = target.object.as_str().to_owned();
        let mut decider = if lookup {
            ServeDecider::for_lookup(&s, &object)
        } else {
            ServeDecider::for_object(&s, &object)
        };
        let mut sealer = super::keyrings::RequestSealer::new(&s.keyrings);
        let policies = decider.policies.clone();
        let pipeline = Pipeline {
            keys: &keys,
            options: &s.options,
            names: &policies.names,
            issuers: &s.issuers,
        };
        pipeline.decide_verified(&claims, target, time, record, &mut decider, &mut sealer)
    })
    .await
    .map_err(|_| {
        problem(
            StatusCode::SERVICE_UNAVAILABLE,
            serve_codes::BUSY,
            "the decision did not complete",
        )
    })?
    .map_err(|e| core_problem(&e))
}

/// An allowed decision whose `step` then failed with `e`: recorded as the deny it became
/// (core's [`Decided::refuse_after`]), then answered with `e`.
async fn refused_after(
    service: &Service,
    decided: &mut Decided,
    step: &str,
    e: &crmguard_core::Error,
) -> Response {
    decided.refuse_after(step, e);
    match audit_decision(service, decided).await {
        Ok(_) => core_problem(e),
        Err(unrecorded) => unrecorded,
    }
}

/// Counts the decision and makes its audit record durable: not durable, not answered.
/// Where an answer's audit record is: its sequence number in this service's log, and the
/// log's id (with replicas, which chain holds it).
pub(super) fn audit_ref(service: &Service, seq: u64) -> Value {
    json!({ "seq": seq, "log_id": service.audit.log_id() })
}

async fn audit_decision(service: &Service, decided: &Decided) -> Result<u64, Response> {
    let d = &decided.decision;
    service
        .metrics
        .decision(if d.is_allowed() { "allow" } else { "deny" }, d.code());
    service
        .audit
        .append(decided.event.clone())
        .await
        .map_err(|e| {
            problem(
                StatusCode::SERVICE_UNAVAILABLE,
                serve_codes::AUDIT_UNAVAILABLE,
                &e.message,
            )
        })
}

/// The record schema of `object` (the write path and lookups need one).
fn schema_of<'a>(service: &'a Service, object: &str) -> Result<&'a RecordSchema, Response> {
    service.schemas.get(object).ok_or_else(|| {
        problem(
            StatusCode::NOT_FOUND,
            serve_codes::NO_SCHEMA,
            &format!("no schema for object {object:?} (schemas/<object>.json)"),
        )
    })
}

/// The keyring of the bound request's tenant (the caller's own), as of now.
fn tenant_keyring(service: &Service, request: &AccessRequest) -> Result<Arc<Keyring>, Response> {
    service
        .keyrings
        .fresh(request.tenant())
        .keyrings
        .get(request.tenant())
        .cloned()
        .ok_or_else(|| {
            problem(
                StatusCode::FORBIDDEN,
                codes::REQUEST_TENANT_UNKNOWN,
                "the caller's tenant is not served here",
            )
        })
}

async fn decide(State(service): Shared, headers: HeaderMap, body: Body) -> Response {
    let started = Instant::now();
    let r = decide_inner(&service, &headers, body).await;
    timed(&service, "/v1/decide", started, r.unwrap_or_else(|e| e))
}

async fn decide_inner(
    service: &Arc<Service>,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, Response> {
    let token = bearer(headers)?;
    let b: DecideBody = json_body(service, headers, body).await?;
    let target = Target::parse(
        b.tenant.as_deref(),
        &b.action,
        &b.object,
        &b.record_id,
        b.subject.as_deref(),
    )
    .map_err(|e| core_problem(&e))?;
    let decided = run_pipeline(service, token, target, b.record, false).await?;
    let d = &decided.decision;
    let seq = audit_decision(service, &decided).await?;
    let mut out = serde_json::to_value(d).unwrap_or(Value::Null);
    out["audit"] = audit_ref(service, seq);
    Ok(json_response(StatusCode::OK, &out))
}

/// `POST /v1/records/seal`: the write path. The caller's token and the policy (or plugin)
/// decide the write like any request (action `create` or `update`); if allowed, the record
/// is sealed by its object's schema under the caller's tenant keyring, bound to the
/// request's record id (and subject), and returned for the CRM to store. Audited before it
/// is answered, like every decision.
async fn seal(State(service): Shared, headers: HeaderMap, body: Body) -> Response {
    let started = Instant::now();
    let r = seal_inner(&service, &headers, body).await;
    timed(
        &service,
        "/v1/records/seal",
        started,
        r.unwrap_or_else(|e| e),
    )
}

async fn seal_inner(
    service: &Arc<Service>,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, Response> {
    let token = bearer(headers)?;
    let mut b: DecideBody = json_body(service, headers, body).await?;
    if b.action == "read" {
        b.action = "update".to_owned();
    }
    if b.action != "create" && b.action != "update" {
        return Err(problem(
            StatusCode::BAD_REQUEST,
            codes::POLICY_REQUEST_INVALID,
            "the write path takes action create or update",
        ));
    }
    let schema = schema_of(service, &b.object)?;
    let target = Target::parse(
        b.tenant.as_deref(),
        &b.action,
        &b.object,
        &b.record_id,
        b.subject.as_deref(),
    )
    .map_err(|e| core_problem(&e))?;
    let record = b.record.clone();
    let mut decided = run_pipeline(service, token, target, b.record, false).await?;
    // Sealed only when allowed, and only for the request as bound (the caller's tenant).
    let sealed = match (&decided.request, decided.decision.is_allowed()) {
        (Some(request), true) => match seal_for_storage(service, schema, request, record) {
            Ok(sealed) => Some(sealed),
            // Allowed, but not storable (a browser-sealed value that does not open, a value
            // the schema refuses).
            Err(e) => return Err(refused_after(service, &mut decided, "write-path", &e).await),
        },
        _ => None,
    };
    let seq = audit_decision(service, &decided).await?;
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "verdict": decided.decision.verdict,
            "record": sealed.unwrap_or_else(|| json!({})),
            "audit": audit_ref(service, seq),
        }),
    ))
}

/// The record as the CRM stores it: each browser-sealed `cgh1:` value opened with the
/// tenant's HPKE key (for the request's tenant, object, record, field and subject), then
/// everything sealed by the object's schema under the tenant's keyring, with its blind
/// indexes. A `cgh1:` value for a tenant without a tenant key is refused.
fn seal_for_storage(
    service: &Service,
    schema: &RecordSchema,
    request: &AccessRequest,
    mut record: Map<String, Value>,
) -> Result<Value, crmguard_core::Error> {
    // A new record about a data subject gets the subject's key now (persisted first); a
    // forgotten subject's record is refused (ERR_SUBJECT_FORGOTTEN): erasure is final.
    if let Some(subject) = request.subject()
        && request.action().as_str() == "create"
    {
        service
            .keyrings
            .provision_subject(request.tenant(), subject)
            .map_err(|f| crmguard_core::Error::relayed(f.code, f.message))?;
    }
    let keyrings = service.keyrings.fresh(request.tenant());
    let keyring = keyrings
        .keyrings
        .get(request.tenant())
        .ok_or(crmguard_core::RequestError::UnknownTenant)?;
    request.open_tenant_sealed(&mut record, service.tenant_keys.get(request.tenant()))?;
    let target = crmguard_core::RecordTarget {
        tenant: request.tenant().clone(),
        record: Some(request.record_id().clone()),
        subject: request.subject().cloned(),
    };
    keyring.seal_record(schema, &Value::Object(record), &target, &mut SystemEntropy)
}

/// `GET /v1/tenants/{tenant}/public-key`: the key browsers seal `cgh1:` values to (public;
/// no token needed). A tenant that is not served, or has no tenant key: 404.
async fn tenant_public_key(
    State(service): Shared,
    axum::extract::Path(tenant): axum::extract::Path<String>,
) -> Response {
    use base64::Engine;
    let started = Instant::now();
    let key = crmguard_core::TenantId::new(tenant.as_str())
        .ok()
        .and_then(|t| service.tenant_keys.get(&t));
    let r = match key {
        Some(k) => json_response(
            StatusCode::OK,
            &json!({
                "tenant": tenant,
                "public_key": base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .encode(k.public_key().to_bytes()),
                "format": "cgh1: HPKE X25519-SHA256 AES-256-GCM (docs/FORMAT.md)",
            }),
        ),
        None => problem(
            StatusCode::NOT_FOUND,
            serve_codes::NO_TENANT_KEY,
            "no tenant key is served for this tenant",
        ),
    };
    timed(&service, "/v1/tenants/{tenant}/public-key", started, r)
}

/// `POST /v1/blind-index`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LookupBody {
    #[serde(default)]
    tenant: Option<String>,
    object: String,
    field: String,
    value: String,
    #[serde(default)]
    subject: Option<String>,
}

/// `POST /v1/blind-index`: the blind index a CRM looks a record up by
/// (`WHERE _blind->>'email' = $1`), by the object's schema, under the caller's tenant. A
/// lookup is an equality oracle, so it is decided (action `read` on the object) and audited
/// like a read: many lookups by one caller are visible in the log.
async fn blind_index(State(service): Shared, headers: HeaderMap, body: Body) -> Response {
    let started = Instant::now();
    let r = lookup_inner(&service, &headers, body).await;
    timed(
        &service,
        "/v1/blind-index",
        started,
        r.unwrap_or_else(|e| e),
    )
}

async fn lookup_inner(
    service: &Arc<Service>,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, Response> {
    let token = bearer(headers)?;
    let b: LookupBody = json_body(service, headers, body).await?;
    let schema = schema_of(service, &b.object)?;
    if schema
        .rule_for(&b.field)
        .and_then(crmguard_core::FieldRule::index_spec)
        .is_none()
    {
        return Err(problem(
            StatusCode::NOT_FOUND,
            serve_codes::NO_INDEX,
            &format!(
                "the schema of {} has no blind index at {:?}",
                b.object, b.field
            ),
        ));
    }
    let target = Target::parse(
        b.tenant.as_deref(),
        "read",
        &b.object,
        "*",
        b.subject.as_deref(),
    )
    .map_err(|e| core_problem(&e))?;
    let mut decided = run_pipeline(service, token, target, Map::new(), true).await?;
    let index = match (&decided.request, decided.decision.is_allowed()) {
        (Some(request), true) => {
            let keyring = tenant_keyring(service, request)?;
            let target = crmguard_core::RecordTarget {
                tenant: request.tenant().clone(),
                record: None,
                subject: request.subject().cloned(),
            };
            match keyring.record_blind_index(schema, &target, &b.field, &b.value) {
                Ok(index) => Some(index.to_string()),
                // Allowed, but no index (a value its normaliser refuses, a forgotten subject).
                Err(e) => return Err(refused_after(service, &mut decided, "lookup", &e).await),
            }
        }
        _ => None,
    };
    let seq = audit_decision(service, &decided).await?;
    let d = &decided.decision;
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "verdict": d.verdict,
            "index": index,
            "member": schema.document().index_member,
            "field": b.field,
            "audit": audit_ref(service, seq),
        }),
    ))
}

/// `POST /v1/tokens/verify`: the caller of the bearer token, bound as the pipeline binds it.
async fn verify(State(service): Shared, headers: HeaderMap) -> Response {
    let started = Instant::now();
    let r = async {
        let token = bearer(&headers)?;
        let (claims, _) = verified(&service, &token, now()).await?;
        let p = Principal::from_verified(&claims, &service.policies().names, &service.issuers)
            .map_err(|e| core_problem(&e))?;
        Ok::<_, Response>(json_response(
            StatusCode::OK,
            &json!({
                "subject": p.subject(),
                "tenant": p.tenant().as_str(),
                "roles": p.roles(),
                "claims": p.claims(),
            }),
        ))
    }
    .await;
    timed(
        &service,
        "/v1/tokens/verify",
        started,
        r.unwrap_or_else(|e| e),
    )
}

async fn healthz() -> Response {
    json_response(StatusCode::OK, &json!({ "status": "ok" }))
}

/// Ready once everything is loaded (it is by the time the server listens) and a key set is
/// at hand (a remote one fetched at least once).
async fn readyz(State(service): Shared) -> Response {
    if !service.keys.is_ready() {
        return json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            &json!({ "status": "waiting for the key set", "tenants": service.keyrings.len() }),
        );
    }
    json_response(
        StatusCode::OK,
        &json!({ "status": "ready", "tenants": service.keyrings.len() }),
    )
}

async fn metrics(State(service): Shared) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        service.metrics.render(),
    )
        .into_response()
}

async fn openapi() -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        OPENAPI,
    )
        .into_response()
}

async fn not_found() -> Response {
    problem(
        StatusCode::NOT_FOUND,
        serve_codes::NOT_FOUND,
        "no such endpoint",
    )
}

async fn method_not_allowed() -> Response {
    problem(
        StatusCode::METHOD_NOT_ALLOWED,
        serve_codes::METHOD,
        "this endpoint does not take this method",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every core code has a status from its kind: caller faults are 4xx, and only the
    /// environment's own failures (kind `internal`) are 5xx.
    #[test]
    fn every_core_code_has_a_status_from_its_kind() {
        let mut internal = Vec::new();
        for row in crmguard_core::ERROR_CODE_TABLE {
            let status = status_of(row.kind);
            if row.kind == ErrorKind::Internal {
                assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{}", row.code);
                internal.push(row.code);
            } else {
                assert!(status.is_client_error(), "{}: {status}", row.code);
            }
        }
        assert_eq!(
            status_of(ErrorKind::Integrity),
            StatusCode::UNPROCESSABLE_ENTITY
        );
        assert!(internal.contains(&codes::ENTROPY), "{internal:?}");
    }
}
