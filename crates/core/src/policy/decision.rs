//! Evaluating a request against the policy, and applying the decision to a record.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::document::{
    Action, CallerCondition, Effect, FieldSpec, MaskStyle, PolicyDocument, PolicyRule, Treatment,
};
use crate::error::PolicyError;

/// What the caller asks to do. Identity and tenant come from the [`crate::VerifiedClaims`], never
/// from the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AuthorizationRequest {
    /// The tenant whose data is addressed.
    pub tenant: String,
    /// The object type.
    pub object: String,
    /// The action.
    pub action: Action,
    /// The record, if one is addressed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_id: Option<String>,
}

/// Why a decision came out the way it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReasonKind {
    /// One or more allow rules matched and no deny rule did.
    Allowed,
    /// A deny rule matched.
    DeniedByRule,
    /// No rule matched: deny by default.
    NoMatchingRule,
    /// The request addresses another tenant than the token's.
    TenantMismatch,
    /// The token has no tenant claim (a string).
    MissingTenantClaim,
    /// The object type is not in the policy.
    UnknownObject,
}

impl ReasonKind {
    /// The stable name, as in JSON (`tenant-mismatch`).
    pub fn as_str(self) -> &'static str {
        match self {
            ReasonKind::Allowed => "allowed",
            ReasonKind::DeniedByRule => "denied-by-rule",
            ReasonKind::NoMatchingRule => "no-matching-rule",
            ReasonKind::TenantMismatch => "tenant-mismatch",
            ReasonKind::MissingTenantClaim => "missing-tenant-claim",
            ReasonKind::UnknownObject => "unknown-object",
        }
    }
}

/// The reason of a decision: its kind and the rules that decided it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct DecisionReason {
    /// What decided.
    pub kind: ReasonKind,
    /// The ids of the deciding rules: the matching allow rules, or the matching deny rule.
    pub rules: Vec<String>,
}

impl core::fmt::Display for DecisionReason {
    /// `kind`, then ` by rule-a, rule-b` when rules decided: the text used in deny errors and
    /// audit records alike.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.kind.as_str())?;
        if !self.rules.is_empty() {
            write!(f, " by {}", self.rules.join(", "))?;
        }
        Ok(())
    }
}

/// What the caller gets of one field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum FieldVisibility {
    /// The value as it is.
    Clear,
    /// A masked rendering.
    Mask {
        /// The mask style.
        style: MaskStyle,
    },
    /// The sealed value as stored (if the stored value is not a sealed field, it is hidden).
    Sealed,
    /// Left out.
    Hidden,
}

/// The outcome of evaluating a request: allow or deny, why, and what each field of the object
/// looks like to the caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct PolicyDecision {
    /// Allow or deny.
    pub effect: Effect,
    /// Why.
    pub reason: DecisionReason,
    /// The caller (`sub`), for audit records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// The request's tenant.
    pub tenant: String,
    /// The request's object type.
    pub object: String,
    /// The request's action.
    pub action: Action,
    /// The request's record id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_id: Option<String>,
    /// The field that must hold the tenant in records of this object, if the policy names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_field: Option<String>,
    /// Per-field visibility (empty on deny). Fields not listed are hidden.
    pub fields: BTreeMap<String, FieldVisibility>,
}

/// The caller's attributes, read from verified claims.
struct Caller<'a> {
    roles: BTreeSet<&'a str>,
    scopes: BTreeSet<&'a str>,
    groups: BTreeSet<&'a str>,
}

fn attribute<'a>(claims: &'a Map<String, Value>, name: &str) -> BTreeSet<&'a str> {
    crate::claim_names(claims, name).into_iter().collect()
}

impl Caller<'_> {
    fn satisfies(&self, c: &CallerCondition) -> bool {
        let any = |want: &[String], have: &BTreeSet<&str>| {
            want.is_empty() || want.iter().any(|w| have.contains(w.as_str()))
        };
        any(&c.roles, &self.roles) && any(&c.scopes, &self.scopes) && any(&c.groups, &self.groups)
    }
}

fn rule_treatment(rule: &PolicyRule, name: &str, spec: &FieldSpec) -> Treatment {
    if let Some(t) = rule.fields.fields.get(name) {
        return *t;
    }
    spec.classes
        .iter()
        .filter_map(|c| rule.fields.classes.get(c).copied())
        .max()
        .unwrap_or(rule.fields.default)
}

impl PolicyDocument {
    /// Evaluates `request` for the caller of `claims`. Deny by default: only a matching allow
    /// rule (and no matching deny rule) allows, and only for the token's own tenant.
    pub(crate) fn evaluate(
        &self,
        claims: &Map<String, Value>,
        request: &AuthorizationRequest,
    ) -> Result<PolicyDecision, PolicyError> {
        let req = |e: crate::InvalidIdentifier| PolicyError::Request(e.to_string());
        crate::TenantId::new(request.tenant.as_str()).map_err(req)?;
        crate::ObjectType::new(request.object.as_str()).map_err(req)?;
        if let Some(id) = &request.record_id {
            crate::RecordId::new(id.as_str()).map_err(req)?;
        }
        let object = self.objects.get(&request.object);
        let mut decision = PolicyDecision {
            effect: Effect::Deny,
            reason: DecisionReason {
                kind: ReasonKind::NoMatchingRule,
                rules: Vec::new(),
            },
            subject: claims.get("sub").and_then(Value::as_str).map(str::to_owned),
            tenant: request.tenant.clone(),
            object: request.object.clone(),
            action: request.action,
            record_id: request.record_id.clone(),
            tenant_field: object.and_then(|o| o.tenant_field.clone()),
            fields: BTreeMap::new(),
        };
        let deny = |mut d: PolicyDecision, kind, rules| {
            d.reason = DecisionReason { kind, rules };
            Ok(d)
        };
        match claims.get(&self.claims.tenant).and_then(Value::as_str) {
            None => return deny(decision, ReasonKind::MissingTenantClaim, vec![]),
            Some(t) if t != request.tenant => {
                return deny(decision, ReasonKind::TenantMismatch, vec![]);
            }
            Some(_) => {}
        }
        let Some(object) = object else {
            return deny(decision, ReasonKind::UnknownObject, vec![]);
        };
        let caller = Caller {
            roles: attribute(claims, &self.claims.roles),
            scopes: attribute(claims, &self.claims.scopes),
            groups: attribute(claims, &self.claims.groups),
        };
        let matching: Vec<&PolicyRule> = self
            .rules
            .iter()
            .filter(|r| r.objects.iter().any(|o| o == "*" || *o == request.object))
            .filter(|r| r.actions.contains(&request.action))
            .filter(|r| caller.satisfies(&r.when))
            .collect();
        if let Some(d) = matching.iter().find(|r| r.effect == Effect::Deny) {
            return deny(decision, ReasonKind::DeniedByRule, vec![d.id.clone()]);
        }
        if matching.is_empty() {
            return deny(decision, ReasonKind::NoMatchingRule, vec![]);
        }
        for (name, spec) in &object.fields {
            // Allow rules combine: the least restrictive grant wins...
            let granted = matching
                .iter()
                .map(|r| rule_treatment(r, name, spec))
                .min()
                .unwrap_or(Treatment::Hidden);
            // ...then class rules cap it, unless the caller is exempt.
            let capped = self
                .class_rules
                .iter()
                .filter(|cr| spec.classes.contains(&cr.class))
                .filter(|cr| !cr.unless.as_ref().is_some_and(|c| caller.satisfies(c)))
                .map(|cr| cr.treatment)
                .fold(granted, Ord::max);
            let visibility = match capped {
                Treatment::Clear => FieldVisibility::Clear,
                Treatment::Mask => FieldVisibility::Mask { style: spec.mask },
                Treatment::Sealed => FieldVisibility::Sealed,
                Treatment::Hidden => FieldVisibility::Hidden,
            };
            decision.fields.insert(name.clone(), visibility);
        }
        decision.effect = Effect::Allow;
        decision.reason = DecisionReason {
            kind: ReasonKind::Allowed,
            rules: matching.iter().map(|r| r.id.clone()).collect(),
        };
        Ok(decision)
    }
}

const MASK: &str = "****";

/// Renders a value in a mask style. Strings and numbers are masked by their text; other
/// values (objects, arrays, booleans) are fully masked; `null` stays `null`.
pub fn mask_value(value: &Value, style: MaskStyle) -> Value {
    let text = match value {
        Value::Null => return Value::Null,
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return Value::String(MASK.into()),
    };
    let masked = match style {
        MaskStyle::Full => MASK.to_owned(),
        MaskStyle::Last4 => {
            let chars: Vec<char> = text.chars().collect();
            if chars.len() <= 4 {
                MASK.to_owned()
            } else {
                let tail: String = chars[chars.len() - 4..].iter().collect();
                format!("{MASK}{tail}")
            }
        }
        MaskStyle::EmailLocalPart => match text.rsplit_once('@') {
            Some((local, domain)) if !local.is_empty() && !domain.is_empty() => {
                format!("{MASK}@{domain}")
            }
            _ => MASK.to_owned(),
        },
    };
    Value::String(masked)
}

impl PolicyDecision {
    /// Whether the decision allows the action.
    pub fn is_allowed(&self) -> bool {
        self.effect == Effect::Allow
    }

    /// The record as the caller may see it: clear fields as they are, masked fields masked,
    /// sealed fields as stored (only if they are sealed fields), everything else (hidden
    /// fields, fields the policy does not list) left out. Fails on a deny decision, and when
    /// the object has a tenant field and the record's value is not the decision's tenant.
    pub fn apply(&self, record: &Map<String, Value>) -> Result<Map<String, Value>, crate::Error> {
        if !self.is_allowed() {
            return Err(PolicyError::Denied(self.reason.kind.as_str().to_owned()).into());
        }
        if let Some(tf) = &self.tenant_field
            && record.get(tf).and_then(Value::as_str) != Some(self.tenant.as_str())
        {
            return Err(PolicyError::TenantMismatch.into());
        }
        let mut visible = Map::new();
        for (name, value) in record {
            let shown = match self.fields.get(name) {
                Some(FieldVisibility::Clear) => Some(value.clone()),
                Some(FieldVisibility::Mask { style }) => Some(mask_value(value, *style)),
                Some(FieldVisibility::Sealed) => value
                    .as_str()
                    .filter(|s| crate::SealedField::from_text(s).is_ok())
                    .map(|_| value.clone()),
                Some(FieldVisibility::Hidden) | None => None,
            };
            if let Some(v) = shown {
                visible.insert(name.clone(), v);
            }
        }
        Ok(visible)
    }
}
