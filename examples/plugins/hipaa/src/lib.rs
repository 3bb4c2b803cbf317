//! HIPAA "minimum necessary" for patient notes, as a CRMGuard policy plugin.
//!
//! - Only staff roles (`clinician`, `front_desk`, `billing`) see patient notes at all, and
//!   only the tenant's own (the host has verified the token; its `tenant` claim must name the
//!   request's tenant).
//! - PHI fields (`diagnosis`, `note`) go only to a clinician whose token carries an active
//!   care relationship with the note's patient (the request's data subject):
//!   `"care_relationships": [{"patient": "pat-17", "until": 1764486400}]`, active while the
//!   request's time is before `until` (seconds; the request's time is milliseconds). Everyone
//!   else gets them hidden.
//! - Break-glass: a clinician whose token says `"break_glass": true` gets PHI without a
//!   relationship; the decision's reason says so, so the audit record does too.
//! - Only reads are decided here; anything else is denied.
//!
//! The plugin names a treatment per field; the host renders the values (a sealed value is
//! opened for the caller only for fields shown in clear). The plugin never sees key bytes or
//! values it does not need, and has no clock: it decides by the request's time, which the
//! host sets.

// wit-bindgen's generated glue (canonical ABI lifting and lowering) is `unsafe` code.
#![allow(unsafe_code)]

use serde_json::Value;

wit_bindgen::generate!({
    world: "policy-plugin",
    path: "../../../wit",
});

use crmguard::guard::logging::{self, Level};
use crmguard::guard::sealing::RecordSealer;
use crmguard::guard::types::{AccessRequest, Decision, FieldVerdict, GuardError, Treatment};
use exports::crmguard::guard::policy::Guest;

const OBJECT: &str = "patient_note";
const PHI: &[&str] = &["diagnosis", "note"];
const NOT_PHI: &[&str] = &["id", "tenant_id", "patient_id", "author_id", "created_at"];
const STAFF: &[&str] = &["clinician", "front_desk", "billing"];

fn deny(reason: impl Into<String>) -> Decision {
    Decision {
        allow: false,
        reason: reason.into(),
        fields: Vec::new(),
    }
}

fn claim(req: &AccessRequest, name: &str) -> Option<Value> {
    let c = req.principal.claims.iter().find(|c| c.name == name)?;
    serde_json::from_str(&c.json).ok()
}

fn has_role(req: &AccessRequest, role: &str) -> bool {
    req.principal.roles.iter().any(|r| r == role)
}

/// Whether the caller's token lists an active care relationship with `patient`.
fn cares_for(req: &AccessRequest, patient: &str) -> bool {
    let Some(Value::Array(relationships)) = claim(req, "care_relationships") else {
        return false;
    };
    relationships.iter().any(|r| {
        r["patient"].as_str() == Some(patient)
            && r["until"].as_u64().is_some_and(|u| req.time / 1000 < u)
    })
}

struct MinimumNecessary;

impl Guest for MinimumNecessary {
    fn decide(req: AccessRequest, _sealer: &RecordSealer) -> Result<Decision, GuardError> {
        if req.object != OBJECT {
            return Ok(deny(format!("this plugin decides {OBJECT} only")));
        }
        if req.action != "read" {
            return Ok(deny(format!("action {} is not decided here", req.action)));
        }
        if claim(&req, "tenant").as_ref().and_then(Value::as_str) != Some(req.tenant.as_str()) {
            return Ok(deny("the token is not for this tenant"));
        }
        if !STAFF.iter().any(|r| has_role(&req, r)) {
            return Ok(deny("no staff role"));
        }
        let Some(patient) = req.subject.clone() else {
            return Ok(deny(
                "a patient note must name its patient (the data subject)",
            ));
        };
        let clinician = has_role(&req, "clinician");
        let treating = clinician && cares_for(&req, &patient);
        let break_glass =
            clinician && !treating && claim(&req, "break_glass") == Some(Value::Bool(true));
        let phi = treating || break_glass;
        if break_glass {
            logging::log(
                Level::Warn,
                &format!(
                    "break-glass access to {patient} by {}",
                    req.principal.subject
                ),
            );
        }

        let mut verdicts = Vec::with_capacity(req.fields.len());
        for field in &req.fields {
            let name = field.name.as_str();
            let shown = NOT_PHI.contains(&name) || (phi && PHI.contains(&name));
            // The host renders the value: a sealed one is opened for the caller.
            verdicts.push(FieldVerdict {
                name: field.name.clone(),
                treatment: if shown {
                    Treatment::Clear
                } else {
                    Treatment::Hidden
                },
            });
        }
        let reason = if treating {
            format!("treating clinician of {patient}: PHI shown")
        } else if break_glass {
            format!(
                "BREAK-GLASS by {}: PHI of {patient} shown",
                req.principal.subject
            )
        } else {
            "minimum necessary: PHI withheld (no active care relationship)".to_owned()
        };
        Ok(Decision {
            allow: true,
            reason,
            fields: verdicts,
        })
    }
}

export!(MinimumNecessary);
