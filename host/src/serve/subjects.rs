//! `POST /v1/subjects/forget`: erasing a data subject (GDPR art. 17) by crypto-shredding.
//! The subject's key is destroyed in the caller's tenant keyring, written to the keyring file
//! first; from then on every value sealed under it, wherever it is stored, no longer opens
//! (reads show `ERR_SUBJECT_FORGOTTEN`), its blind indexes confirm nothing, and no new key can
//! be made for it. The erasure is recorded with the subject pseudonymised.

// Handlers fail with the response they answer, as in `api`.
#![allow(clippy::result_large_err)]

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use crmguard_core::{AuditEvent, EventActor, ForgetOutcome, SubjectId, TenantId, codes};
use serde::Deserialize;
use serde_json::json;

use super::Service;
use super::api::{audit_ref, core_problem, json_body, json_response, problem, serve_codes, timed};
use super::audit_api::caller;

/// The body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ForgetBody {
    /// The tenant (default: the caller's); must be the caller's.
    #[serde(default)]
    tenant: Option<String>,
    /// The data subject.
    subject: String,
}

pub(crate) async fn forget(
    State(service): State<Arc<Service>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let started = Instant::now();
    let r = async {
        let p = caller(
            &service,
            &headers,
            &service.erasers,
            "erasing a data subject",
        )
        .await?;
        let b: ForgetBody = json_body(&service, &headers, body).await?;
        let subject = SubjectId::new(b.subject.as_str())
            .map_err(|e| core_problem(&crmguard_core::Error::from(e)))?;
        if let Some(t) = &b.tenant {
            let t = TenantId::new(t.as_str())
                .map_err(|e| core_problem(&crmguard_core::Error::from(e)))?;
            if &t != p.tenant() {
                return Err(problem(
                    StatusCode::FORBIDDEN,
                    codes::REQUEST_TENANT_MISMATCH,
                    "a subject is erased in the caller's own tenant",
                ));
            }
        }
        let tenant = p.tenant().clone();
        let s = service.clone();
        let who = subject.clone();
        let outcome = tokio::task::spawn_blocking(move || {
            s.keyrings
                .change(&tenant, |k| k.forget_subject(&who, crate::keystore::now()))
        })
        .await
        .map_err(|_| {
            problem(
                StatusCode::SERVICE_UNAVAILABLE,
                serve_codes::BUSY,
                "the erasure did not complete",
            )
        })?
        .map_err(|f| {
            let e = crmguard_core::Error::relayed(f.code, f.message);
            core_problem(&e)
        })?;
        let actor = EventActor {
            uid: p.subject().to_owned(),
            tenant: p.tenant().to_string(),
            roles: p.roles().to_vec(),
        };
        let seq = service
            .audit
            .append(AuditEvent::subject_erasure(actor, subject.as_str(), None))
            .await
            .map_err(|e| {
                problem(
                    StatusCode::SERVICE_UNAVAILABLE,
                    serve_codes::AUDIT_UNAVAILABLE,
                    &e.message,
                )
            })?;
        Ok::<_, Response>(json_response(
            StatusCode::OK,
            &json!({
                "outcome": match outcome {
                    ForgetOutcome::Erased => "erased",
                    ForgetOutcome::AlreadyForgotten => "already-erased",
                },
                "audit": audit_ref(&service, seq),
            }),
        ))
    }
    .await;
    timed(
        &service,
        "/v1/subjects/forget",
        started,
        r.unwrap_or_else(|e| e),
    )
}
