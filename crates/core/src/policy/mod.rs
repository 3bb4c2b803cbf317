//! Authorization: a declarative policy maps verified claims (tenant, roles, scopes, groups) to
//! actions on CRM objects and to a treatment per field (clear, mask, sealed, hidden), with
//! classification ceilings ("phi is hidden unless the role is clinician"). Deny by default; a
//! token for one tenant never reaches another tenant's data. docs/POLICY.md has the format.

mod decision;
mod document;

pub use decision::{
    AuthorizationRequest, DecisionReason, FieldVisibility, PolicyDecision, ReasonKind, mask_value,
};
pub use document::{
    Action, CallerCondition, ClaimNames, ClassRule, Classification, Effect, FieldRules, FieldSpec,
    MAX_POLICY_LEN, MaskStyle, ObjectSpec, PolicyDocument, PolicyRule, Treatment,
};

use crate::VerifiedClaims;
use crate::error::PolicyError;

/// A validated policy, ready to evaluate requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    document: PolicyDocument,
}

impl Policy {
    /// Parses and validates a policy document (JSON, at most [`MAX_POLICY_LEN`] bytes).
    pub fn from_json(json: &str) -> Result<Policy, crate::Error> {
        if json.len() > MAX_POLICY_LEN {
            return Err(PolicyError::Invalid(format!("longer than {MAX_POLICY_LEN} bytes")).into());
        }
        let document: PolicyDocument =
            serde_json::from_str(json).map_err(|e| PolicyError::Invalid(e.to_string()))?;
        Self::from_document(document)
    }

    /// Validates a policy document.
    pub fn from_document(document: PolicyDocument) -> Result<Policy, crate::Error> {
        document.validate()?;
        Ok(Policy { document })
    }

    /// The document.
    pub fn document(&self) -> &PolicyDocument {
        &self.document
    }

    /// Decides `request` for the caller whose token produced `claims`. A deny is a decision,
    /// not an error; errors are for requests with invalid identifiers.
    pub fn evaluate(
        &self,
        claims: &VerifiedClaims,
        request: &AuthorizationRequest,
    ) -> Result<PolicyDecision, crate::Error> {
        Ok(self.document.evaluate(claims.claims(), request)?)
    }

    /// Decides `request` for a caller whose claims were verified by someone else: a policy
    /// plugin, whose host verified the token before the plugin ran. Prefer [`Policy::evaluate`]
    /// wherever a [`VerifiedClaims`] exists; this entry point trusts its caller that `claims`
    /// came from a verified token.
    pub fn evaluate_verified_elsewhere(
        &self,
        claims: &serde_json::Map<String, serde_json::Value>,
        request: &AuthorizationRequest,
    ) -> Result<PolicyDecision, crate::Error> {
        Ok(self.document.evaluate(claims, request)?)
    }
}

#[cfg(test)]
mod tests;
