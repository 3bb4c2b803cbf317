//! The reference policy plugin (world `crmguard:guard/policy-plugin@0.2.0`): crmguard-core's
//! declarative policy engine (docs/POLICY.md), with `examples/policy.json` compiled in.
//!
//! The principal's claims (verified by the host before the plugin runs) are evaluated as
//! core evaluates a verified token's claims; `sub` and the roles claim are filled from the
//! principal's subject and roles when the claims do not carry them. Every field of the
//! request then gets the decision's treatment (core's `treatments`): clear, mask in the
//! field's style, sealed, or hidden (also for a field the policy does not list). The host
//! renders the values, so this plugin never opens or seals anything: it never touches the
//! request's sealer, and a field renders here exactly as it does natively.
//!
//! A deny decision carries core's reason (`no-matching-rule`, `tenant-mismatch`, ...).

// wit-bindgen's generated glue (canonical ABI lifting and lowering) is `unsafe` code; none is
// written by hand in this crate.
#![allow(unsafe_code)]

use crmguard_core::request::treatments;
use crmguard_core::{Action, AuthorizationRequest, MaskStyle, Policy, Treatment};
use serde_json::{Map, Value};

wit_bindgen::generate!({
    world: "crmguard:reference-plugin/reference",
    path: ["../../wit", "wit"],
    generate_all,
});

use crmguard::guard::logging::{self, Level};
use crmguard::guard::sealing::RecordSealer;
use crmguard::guard::types::{
    AccessRequest, Decision, ErrorKind, FieldVerdict, GuardError, MaskStyle as WitMask,
    Treatment as WitTreatment,
};
use exports::crmguard::guard::policy::Guest as PolicyGuest;

/// The tokens issue's example policy (docs/POLICY.md): the same document `crmguard authorize`
/// evaluates in the examples, so the plugin and the CLI decide alike.
const POLICY: &str = include_str!("../../../examples/policy.json");

/// The policy, parsed and validated once per instance image: by `wizer-initialize` when the
/// host pre-initialises the plugin (then every request's instance starts with it parsed), or
/// on the first call otherwise.
static PARSED: std::sync::OnceLock<Result<Policy, GuardError>> = std::sync::OnceLock::new();

fn policy() -> Result<&'static Policy, GuardError> {
    PARSED
        .get_or_init(|| Policy::from_json(POLICY).map_err(guard_error))
        .as_ref()
        .map_err(Clone::clone)
}

fn guard_error(e: crmguard_core::Error) -> GuardError {
    GuardError {
        kind: ErrorKind::Invalid,
        code: e.code().to_owned(),
        message: e.to_string(),
    }
}

fn invalid(message: String) -> GuardError {
    GuardError {
        kind: ErrorKind::Invalid,
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

fn treatment(action: Treatment, style: MaskStyle) -> WitTreatment {
    match action {
        Treatment::Clear => WitTreatment::Clear,
        Treatment::Mask => WitTreatment::Mask(match style {
            MaskStyle::Last4 => WitMask::LastFour,
            MaskStyle::EmailLocalPart => WitMask::EmailLocalPart,
            MaskStyle::Full => WitMask::Full,
        }),
        Treatment::Sealed => WitTreatment::Sealed,
        Treatment::Hidden => WitTreatment::Hidden,
    }
}

struct Reference;

impl PolicyGuest for Reference {
    fn decide(req: AccessRequest, _sealer: &RecordSealer) -> Result<Decision, GuardError> {
        let policy = policy()?;
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
        let record = req
            .fields
            .iter()
            .map(|f| (f.name.clone(), serde_json::Value::Null))
            .collect();
        let verdicts: Vec<FieldVerdict> = treatments(&record, &decision.fields)
            .into_iter()
            .map(|f| FieldVerdict {
                name: f.name,
                treatment: treatment(f.action, f.style),
            })
            .collect();
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

impl Guest for Reference {
    fn wizer_initialize() {
        // A policy that does not parse is reported by the first request, with its code.
        let _ = policy();
    }
}

export!(Reference);
