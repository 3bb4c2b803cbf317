//! The reference policy plugin (world `crmguard:guard/policy-plugin`): crmguard-core's
//! declarative policy engine (docs/POLICY.md), with `examples/policy.json` compiled in.
//!
//! The principal's claims (verified by the host before the plugin runs) are evaluated as
//! core evaluates a verified token's claims; `sub` and the roles claim are filled from the
//! principal's subject and roles when the claims do not carry them. Every field of the
//! request then gets the decision's visibility:
//! - clear → `pass`, opened through the host's `fields` import if it is sealed;
//! - mask → `mask`, opened first if sealed, then masked in the field's style;
//! - sealed → `encrypt`: left as stored if sealed, else sealed through `fields`;
//! - hidden, or a field the policy does not list → `drop`.
//!
//! A deny decision carries core's reason (`no-matching-rule`, `tenant-mismatch`, ...). The
//! plugin never sees key bytes: opening and sealing happen in the crypto component.

// wit-bindgen's generated glue (canonical ABI lifting and lowering) is `unsafe` code; none is
// written by hand in this crate.
#![allow(unsafe_code)]

use crmguard_core::{
    Action, AuthorizationRequest, FieldVisibility, Policy, SealedField, mask_value,
};
use serde_json::{Map, Value};

wit_bindgen::generate!({
    world: "policy-plugin",
    path: "../../wit",
});

use crmguard::guard::fields::{self, ContentType};
use crmguard::guard::logging::{self, Level};
use crmguard::guard::types::{
    AccessRequest, Decision, FieldAction, FieldContext, FieldValue, FieldVerdict, GuardError,
};
use exports::crmguard::guard::policy::Guest;

/// The tokens issue's example policy (docs/POLICY.md): the same document `crmguard authorize`
/// evaluates in the examples, so the plugin and the CLI decide alike.
const POLICY: &str = include_str!("../../../examples/policy.json");

fn guard_error(e: crmguard_core::Error) -> GuardError {
    GuardError {
        code: e.code().to_owned(),
        message: e.to_string(),
    }
}

fn invalid(message: String) -> GuardError {
    GuardError {
        code: crmguard_core::codes::POLICY_INVALID.to_owned(),
        message,
    }
}

fn deny(reason: String) -> Decision {
    Decision {
        allow: false,
        reason,
        fields: Vec::new(),
    }
}

fn context(req: &AccessRequest, field: &str) -> FieldContext {
    FieldContext {
        tenant: req.tenant.clone(),
        object: req.object.clone(),
        record: req.record_id.clone(),
        field: field.to_owned(),
        subject: req.subject.clone(),
    }
}

/// The claims the policy reads: the principal's verified claims, with `sub` and the roles
/// claim filled from the principal when absent.
fn claims(req: &AccessRequest, roles_claim: &str) -> Result<Map<String, Value>, GuardError> {
    let mut claims = Map::new();
    for c in &req.principal.claims {
        let v: Value =
            serde_json::from_str(&c.json).map_err(|e| invalid(format!("claim {}: {e}", c.name)))?;
        claims.insert(c.name.clone(), v);
    }
    claims
        .entry("sub")
        .or_insert_with(|| Value::String(req.principal.subject.clone()));
    claims.entry(roles_claim).or_insert_with(|| {
        req.principal
            .roles
            .iter()
            .cloned()
            .map(Value::String)
            .collect()
    });
    Ok(claims)
}

/// A stored value as JSON, opened through the crypto component if it is a sealed field.
fn opened(req: &AccessRequest, field: &FieldValue) -> Result<Value, GuardError> {
    let value: Value = serde_json::from_str(&field.json)
        .map_err(|e| invalid(format!("field {}: {e}", field.name)))?;
    let Some(text) = value.as_str().filter(|s| SealedField::from_text(s).is_ok()) else {
        return Ok(value);
    };
    let o = fields::open(&context(req, &field.name), text)?;
    Ok(match o.content {
        ContentType::Json => serde_json::from_slice(&o.plaintext)
            .map_err(|e| invalid(format!("field {}: {e}", field.name)))?,
        ContentType::Bytes => Value::String(String::from_utf8_lossy(&o.plaintext).into_owned()),
    })
}

fn verdict(
    req: &AccessRequest,
    field: &FieldValue,
    visibility: Option<&FieldVisibility>,
) -> Result<FieldVerdict, GuardError> {
    let (action, json) = match visibility {
        Some(FieldVisibility::Clear) => (FieldAction::Pass, Some(opened(req, field)?.to_string())),
        Some(FieldVisibility::Mask { style }) => (
            FieldAction::Mask,
            Some(mask_value(&opened(req, field)?, *style).to_string()),
        ),
        Some(FieldVisibility::Sealed) => {
            let value: Value = serde_json::from_str(&field.json)
                .map_err(|e| invalid(format!("field {}: {e}", field.name)))?;
            let text = match value.as_str().filter(|s| SealedField::from_text(s).is_ok()) {
                Some(sealed) => sealed.to_owned(),
                None => {
                    let (bytes, content) = match value {
                        Value::String(s) => (s.into_bytes(), ContentType::Bytes),
                        other => (other.to_string().into_bytes(), ContentType::Json),
                    };
                    fields::seal(&context(req, &field.name), &bytes, content)?
                }
            };
            (FieldAction::Encrypt, Some(Value::String(text).to_string()))
        }
        Some(FieldVisibility::Hidden) | None => (FieldAction::Drop, None),
    };
    Ok(FieldVerdict {
        name: field.name.clone(),
        action,
        json,
    })
}

struct Reference;

impl Guest for Reference {
    fn decide(req: AccessRequest) -> Result<Decision, GuardError> {
        let policy = Policy::from_json(POLICY).map_err(guard_error)?;
        let Ok(action) = serde_json::from_value::<Action>(Value::String(req.action.clone())) else {
            return Ok(deny(format!(
                "action {:?} is not a policy action",
                req.action
            )));
        };
        let claims = claims(&req, &policy.document().claims.roles)?;
        let decision = policy
            .evaluate_verified_elsewhere(
                &claims,
                &AuthorizationRequest {
                    tenant: req.tenant.clone(),
                    object: req.object.clone(),
                    action,
                    record_id: Some(req.record_id.clone()),
                },
            )
            .map_err(guard_error)?;
        if !decision.is_allowed() {
            return Ok(deny(decision.reason.to_string()));
        }
        if let Some(tf) = &decision.tenant_field {
            let stored = req.fields.iter().find(|f| &f.name == tf);
            let holds_tenant = stored
                .and_then(|f| serde_json::from_str::<Value>(&f.json).ok())
                .is_some_and(|v| v.as_str() == Some(req.tenant.as_str()));
            if !holds_tenant {
                return Ok(deny(format!(
                    "tenant-mismatch: the record's {tf} is not {}",
                    req.tenant
                )));
            }
        }
        let verdicts = req
            .fields
            .iter()
            .map(|f| verdict(&req, f, decision.fields.get(&f.name)))
            .collect::<Result<Vec<_>, _>>()?;
        logging::log(
            Level::Debug,
            &format!(
                "{} fields decided for {} ({})",
                verdicts.len(),
                req.principal.subject,
                decision.reason
            ),
        );
        Ok(Decision {
            allow: true,
            reason: decision.reason.to_string(),
            fields: verdicts,
        })
    }
}

export!(Reference);
