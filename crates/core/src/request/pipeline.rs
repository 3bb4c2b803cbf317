//! **Where a request is decided.** Every adapter (`crmguard run`, `crmguard serve`, the edge
//! function) hands its request to [`Pipeline::decide`] and answers with what it returns:
//!
//! 1. **verify** the bearer token against the key set and options ([`KeySet::verify_jwt`]);
//!    a token that does not verify is an error, and nothing runs for an unknown caller;
//! 2. **bind** the caller ([`Principal::from_verified`]: subject, own tenant, roles, tenant
//!    bound to its issuer) and the request to the caller ([`AccessRequest::bind`]): a request
//!    for another tenant is refused here, with a deny that is audited, and no decider runs;
//! 3. **decide**: the [`Decider`] (a native policy, or the host running a policy plugin in
//!    its sandbox) answers a [`Proposal`] (a treatment per field, never values), which is
//!    validated against the request; a decider that fails or answers out of bounds is a deny
//!    with its code;
//! 4. **render** each field as its treatment says ([`Proposal::validate`] through
//!    [`render_field`](super::render_field)): opened (strictly decoded) for clear and mask,
//!    kept or made sealed for sealed, left out for hidden, by the adapter's [`FieldSealer`];
//!    a value that does not open is a deny with its code;
//! 5. **audit**: the decision's [`AuditEvent`] (caller's own tenant, field names and actions,
//!    never values), which the adapter must append before it answers;
//! 6. **answer** with the [`AccessDecision`]: the verdict and the record as the caller may
//!    see it.
//!
//! Keys never pass through here: the [`FieldSealer`] holds them (a keyring natively, the
//! crypto component's session in a plugin host), and a decider that must look at a sealed
//! value does it through its own request-scoped crypto.

use serde_json::{Map, Value};

use super::{
    AccessDecision, AccessRequest, FieldSealer, Principal, Proposal, Target, TenantIssuers,
    UnixTime,
};
use crate::{AuditEvent, ClaimNames, Error, KeySet, VerificationOptions, VerifiedClaims};

/// Decides bound requests: a native policy, or a host running a plugin.
pub trait Decider {
    /// The name audited as the decider (the plugin's name, `policy`, ...).
    fn name(&self) -> &str;

    /// Answers `request`; `Err` when the decider itself failed (a plugin trapped, overran its
    /// deadline or memory, or was refused a capability): a deny with that code.
    fn decide(&mut self, request: &AccessRequest) -> Result<Proposal, DeciderFailure>;

    /// The code of the deny when the answer does not validate (a host names it as the
    /// plugin's fault, e.g. `ERR_PLUGIN_OUTPUT`).
    fn invalid_answer_code(&self) -> &'static str {
        crate::codes::DECISION_INVALID
    }
}

/// A decider that failed: a stable code and a message (no secrets, no record values).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeciderFailure {
    /// The stable code.
    pub code: String,
    /// Why.
    pub message: String,
}

/// What one request produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Decided {
    /// The answer.
    pub decision: AccessDecision,
    /// The audit event, to append before answering.
    pub event: AuditEvent,
    /// The bound request; `None` when it was refused before binding completed.
    pub request: Option<AccessRequest>,
}

impl Decided {
    /// An allowed decision whose next step failed (`step`: the adapter's step, e.g. sealing
    /// the allowed write or computing the allowed lookup), made the deny it became: the
    /// failure's code, and the audit event to record instead. Nothing was shown.
    pub fn refuse_after(&mut self, step: &str, e: &Error) {
        self.decision = AccessDecision::refused(e);
        if let Some(request) = &self.request {
            self.event = self.decision.audit_event(request, step);
        }
    }
}

/// How requests are bound: the deployment's key set, verification options, claim names and
/// tenant-to-issuer binding.
#[derive(Debug, Clone, Copy)]
pub struct Pipeline<'a> {
    /// The identity provider's keys.
    pub keys: &'a KeySet,
    /// Issuer, audience, token type, leeway, ...
    pub options: &'a VerificationOptions,
    /// Which claims carry the tenant and the roles.
    pub names: &'a ClaimNames,
    /// Which issuers speak for which tenants.
    pub issuers: &'a TenantIssuers,
}

impl Pipeline<'_> {
    /// Steps 1 to 5 for one request: `token` (compact JWT), what it asks about, when, and
    /// the record as stored. `Err` only when the token does not verify or names no valid
    /// caller (steps 1 and 2): the adapter answers 401 and no decider runs.
    pub fn decide(
        &self,
        token: &str,
        target: Target,
        time: UnixTime,
        record: Map<String, Value>,
        decider: &mut dyn Decider,
        sealer: &mut dyn FieldSealer,
    ) -> Result<Decided, Error> {
        let claims = self.keys.verify_jwt(token, self.options, time.as_secs())?;
        self.decide_verified(&claims, target, time, record, decider, sealer)
    }

    /// Steps 2 to 5, for claims the adapter verified itself (e.g. with a remote key set).
    pub fn decide_verified(
        &self,
        claims: &VerifiedClaims,
        target: Target,
        time: UnixTime,
        record: Map<String, Value>,
        decider: &mut dyn Decider,
        sealer: &mut dyn FieldSealer,
    ) -> Result<Decided, Error> {
        let principal = Principal::from_verified(claims, self.names, self.issuers)?;
        let request = match AccessRequest::bind(principal, target, time, record, decider.name()) {
            Ok(r) => r,
            Err(refused) => {
                return Ok(Decided {
                    decision: refused.decision,
                    event: refused.event,
                    request: None,
                });
            }
        };
        let decision = decide_bound(&request, decider, sealer);
        let event = decision.audit_event(&request, decider.name());
        Ok(Decided {
            decision,
            event,
            request: Some(request),
        })
    }
}

/// Steps 3 and 4 alone, for a request already bound: the decider's answer, validated and
/// rendered through `sealer`. A decider that fails is a deny with its code; an answer out of
/// bounds, a deny with [`Decider::invalid_answer_code`]; a field that does not render, a
/// deny with the rendering's code.
pub fn decide_bound(
    request: &AccessRequest,
    decider: &mut dyn Decider,
    sealer: &mut dyn FieldSealer,
) -> AccessDecision {
    match decider.decide(request) {
        Err(f) => AccessDecision::deny(f.code, f.message),
        Ok(p) => p.validate(request, sealer).unwrap_or_else(|e| {
            if e.code() == crate::codes::DECISION_INVALID {
                AccessDecision::deny(decider.invalid_answer_code(), e.to_string())
            } else {
                AccessDecision::refused(&e)
            }
        }),
    }
}
