//! The audit endpoints: the log's head, a checkpoint signed on request, RFC 9162 inclusion and
//! consistency proofs (docs/AUDIT.md's documents, verifiable with the public key alone), and
//! events a CRM appends itself (sign-ins, exports, ...).
//!
//! Every call needs a verified bearer token whose roles include one of `[audit] readers` (or
//! `writers` for appending); nobody is either by default. An inclusion proof is given only
//! for a record of the caller's own tenant, an appended event only under the caller's own
//! tenant and subject. Each read is itself audited.

// Handlers fail with the response they answer, as in `api`.
#![allow(clippy::result_large_err)]

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use crmguard_core::{
    Activity, AuditEvent, Decision, EventActor, EventClass, EventResource, Outcome, Principal,
    codes,
};
use crmguard_store::audit_proofs::ProofIndex;
use serde_json::json;

use super::Service;
use super::api::{
    audit_ref, bearer, core_problem, json_body, json_response, now, problem, serve_codes, timed,
    verified,
};

type Shared = State<Arc<Service>>;

/// The caller, bound from the token, if their roles include one of `allowed`.
pub(super) async fn caller(
    service: &Service,
    headers: &HeaderMap,
    allowed: &[String],
    what: &str,
) -> Result<Principal, Response> {
    let token = bearer(headers)?;
    let (claims, _) = verified(service, &token, now()).await?;
    let p = Principal::from_verified(&claims, &service.policies().names, &service.issuers)
        .map_err(|e| core_problem(&e))?;
    if !p.roles().iter().any(|r| allowed.contains(r)) {
        return Err(problem(
            StatusCode::FORBIDDEN,
            serve_codes::ROLE,
            &format!("{what} needs one of the roles [audit] grants it"),
        ));
    }
    Ok(p)
}

/// Records that `p` read `what` of the audit log, before the answer is given.
async fn audit_read(service: &Service, p: &Principal, what: &str) -> Result<u64, Response> {
    let event = AuditEvent {
        class: EventClass::ApiActivity,
        activity: Activity::Read,
        actor: EventActor {
            uid: p.subject().to_owned(),
            tenant: p.tenant().to_string(),
            roles: p.roles().to_vec(),
        },
        source: None,
        operation: Some(format!("audit_log.{what}")),
        request_id: None,
        resources: vec![EventResource {
            kind: "audit_log".to_owned(),
            uid: what.to_owned(),
            fields: Vec::new(),
        }],
        outcome: Outcome {
            decision: Decision::Allow,
            reason: Some("audit reader".to_owned()),
        },
    };
    service
        .audit
        .append(event)
        .await
        .map_err(|e| unavailable(&e.message))
}

fn unavailable(message: &str) -> Response {
    problem(
        StatusCode::SERVICE_UNAVAILABLE,
        serve_codes::AUDIT_UNAVAILABLE,
        message,
    )
}

fn not_found(message: impl Into<String>) -> Response {
    problem(
        StatusCode::NOT_FOUND,
        serve_codes::AUDIT_NOT_FOUND,
        &message.into(),
    )
}

fn proof_problem(message: impl Into<String>) -> Response {
    problem(
        StatusCode::UNPROCESSABLE_ENTITY,
        codes::AUDIT_PROOF,
        &message.into(),
    )
}

/// `name=<u64>` from the query string.
fn query_u64(uri: &Uri, name: &str) -> Result<u64, Response> {
    let bad = || {
        problem(
            StatusCode::BAD_REQUEST,
            serve_codes::QUERY,
            &format!("the query must be {name}=<a non-negative integer>"),
        )
    };
    let mut found = None;
    for pair in uri
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
    {
        let (k, v) = pair.split_once('=').ok_or_else(bad)?;
        if k != name || found.is_some() {
            return Err(bad());
        }
        found = Some(v.parse::<u64>().map_err(|_| bad())?);
    }
    found.ok_or_else(bad)
}

/// `GET /v1/audit/head`: the log id, size, last record's hash and last signed checkpoint.
pub(crate) async fn head(State(service): Shared, headers: HeaderMap) -> Response {
    let started = Instant::now();
    let r = async {
        let p = caller(&service, &headers, &service.audit_readers, "the audit head").await?;
        let seq = audit_read(&service, &p, "head").await?;
        let h = service.audit.head().await.map_err(|e| unavailable(&e))?;
        Ok::<_, Response>(json_response(
            StatusCode::OK,
            &json!({
                "log_id": h.log_id,
                "size": h.size,
                "head_hash": h.head_hash,
                "checkpoint": h.checkpoint,
                "audit": audit_ref(&service, seq),
            }),
        ))
    }
    .await;
    timed(&service, "/v1/audit/head", started, r.unwrap_or_else(|e| e))
}

/// `POST /v1/audit/checkpoint`: signs a checkpoint over everything appended (made durable).
pub(crate) async fn checkpoint(State(service): Shared, headers: HeaderMap) -> Response {
    let started = Instant::now();
    let r = async {
        let p = caller(&service, &headers, &service.audit_readers, "a checkpoint").await?;
        audit_read(&service, &p, "checkpoint").await?;
        let c = service
            .audit
            .checkpoint()
            .await
            .map_err(|e| unavailable(&e))?;
        Ok::<_, Response>(json_response(StatusCode::OK, &json!({ "checkpoint": c })))
    }
    .await;
    timed(
        &service,
        "/v1/audit/checkpoint",
        started,
        r.unwrap_or_else(|e| e),
    )
}

/// Runs `build` over the durable log's proof index off the reactor (it may read up to two
/// blocks of records from disk; the index verifies each proof before returning it).
async fn with_index<T: Send + 'static>(
    service: &Arc<Service>,
    build: impl FnOnce(&ProofIndex) -> Result<T, Response> + Send + 'static,
) -> Result<T, Response> {
    let index = service.audit.proofs().await.map_err(|e| unavailable(&e))?;
    tokio::task::spawn_blocking(move || build(&index))
        .await
        .map_err(|_| unavailable("the proof did not complete"))?
}

fn store_problem(e: &crmguard_store::audit_log::AuditLogError) -> Response {
    proof_problem(e.to_string())
}

/// `GET /v1/audit/proofs/inclusion?seq=N`: record N (the caller's own tenant's) and its
/// audit path to the last signed checkpoint.
pub(crate) async fn inclusion(State(service): Shared, headers: HeaderMap, uri: Uri) -> Response {
    let started = Instant::now();
    let r = async {
        let p = caller(&service, &headers, &service.audit_readers, "a proof").await?;
        let seq = query_u64(&uri, "seq")?;
        let tenant = p.tenant().as_str().to_owned();
        let proof = with_index(&service, move |index| {
            let record = index
                .record(seq)
                .map_err(|e| store_problem(&e))?
                .ok_or_else(|| not_found(format!("no record with seq {seq}")))?;
            if record.actor.user.tenant != tenant {
                return Err(problem(
                    StatusCode::FORBIDDEN,
                    codes::REQUEST_TENANT_MISMATCH,
                    "the record is another tenant's",
                ));
            }
            let last = index
                .last_checkpoint()
                .cloned()
                .ok_or_else(|| not_found("the log has no checkpoint yet: sign one first"))?;
            if record.seq >= last.size {
                return Err(not_found(
                    "no checkpoint covers this record yet: sign one with POST /v1/audit/checkpoint",
                ));
            }
            index.inclusion(record, last).map_err(|e| store_problem(&e))
        })
        .await?;
        audit_read(&service, &p, &format!("seq-{seq}")).await?;
        Ok::<_, Response>(json_response(StatusCode::OK, &json!(proof)))
    }
    .await;
    timed(
        &service,
        "/v1/audit/proofs/inclusion",
        started,
        r.unwrap_or_else(|e| e),
    )
}

/// `GET /v1/audit/proofs/consistency?from=SIZE`: that the log signed at SIZE is a prefix of
/// the log signed by the last checkpoint.
pub(crate) async fn consistency(State(service): Shared, headers: HeaderMap, uri: Uri) -> Response {
    let started = Instant::now();
    let r = async {
        let p = caller(&service, &headers, &service.audit_readers, "a proof").await?;
        let from = query_u64(&uri, "from")?;
        let proof = with_index(&service, move |index| {
            let old = index
                .checkpoint_of_size(from)
                .cloned()
                .ok_or_else(|| not_found(format!("the log has no checkpoint of size {from}")))?;
            let last = index
                .last_checkpoint()
                .cloned()
                .ok_or_else(|| not_found("the log has no checkpoint yet"))?;
            index.consistency(old, last).map_err(|e| store_problem(&e))
        })
        .await?;
        audit_read(&service, &p, &format!("consistency-{from}")).await?;
        Ok::<_, Response>(json_response(StatusCode::OK, &json!(proof)))
    }
    .await;
    timed(
        &service,
        "/v1/audit/proofs/consistency",
        started,
        r.unwrap_or_else(|e| e),
    )
}

/// Numbers with a zero fraction (`443.0`) as integers, as JSON Schema counts them (the
/// OpenAPI document's `integer`); other numbers are left as they are.
fn integral_numbers(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Number(n) => {
            if let Some(f) = n
                .as_f64()
                .filter(|f| n.is_f64() && f.fract() == 0.0 && *f >= 0.0)
                && f < 9_007_199_254_740_992.0
            {
                // In range and integral: exact as u64.
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let u = f as u64;
                *v = serde_json::Value::from(u);
            }
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(integral_numbers),
        serde_json::Value::Object(o) => o.values_mut().for_each(integral_numbers),
        _ => {}
    }
}

/// `POST /v1/audit/events`: one event (crmguard-core's `AuditEvent`) a CRM records itself,
/// under the caller's own tenant and subject; answered once durable.
pub(crate) async fn append(State(service): Shared, headers: HeaderMap, body: Body) -> Response {
    let started = Instant::now();
    let r = async {
        let p = caller(
            &service,
            &headers,
            &service.audit_writers,
            "appending events",
        )
        .await?;
        let mut value: serde_json::Value = json_body(&service, &headers, body).await?;
        integral_numbers(&mut value);
        let event: AuditEvent = serde_json::from_value(value).map_err(|e| {
            problem(
                StatusCode::BAD_REQUEST,
                serve_codes::BODY,
                &format!("the body is not the expected JSON: {e}"),
            )
        })?;
        if event.actor.tenant != p.tenant().as_str() || event.actor.uid != p.subject() {
            return Err(problem(
                StatusCode::FORBIDDEN,
                codes::REQUEST_TENANT_MISMATCH,
                "an event is recorded under the caller's own tenant and subject",
            ));
        }
        let seq = service
            .audit
            .append(event)
            .await
            .map_err(|e| match e.code {
                Some(code) => problem(super::api::status_of_code(code), code, &e.message),
                None => unavailable(&e.message),
            })?;
        Ok::<_, Response>(json_response(StatusCode::OK, &audit_ref(&service, seq)))
    }
    .await;
    timed(
        &service,
        "/v1/audit/events",
        started,
        r.unwrap_or_else(|e| e),
    )
}
