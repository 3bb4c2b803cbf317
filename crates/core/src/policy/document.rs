//! The policy document: objects and their fields, rules, class rules. docs/POLICY.md
//! describes the format with a full example.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::PolicyError;

/// The largest policy document accepted, in bytes.
pub const MAX_POLICY_LEN: usize = 1024 * 1024;

/// An action on a CRM object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Read a record.
    Read,
    /// Create a record.
    Create,
    /// Change a record.
    Update,
    /// Delete a record.
    Delete,
    /// Export records out of the CRM (reports, CSV, sync to other systems).
    Export,
}

/// A data classification carried by a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Classification {
    /// Personally identifiable information.
    Pii,
    /// Protected health information.
    Phi,
    /// Financial data (card, bank and revenue figures).
    Financial,
}

/// How a masked field is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum MaskStyle {
    /// `****` followed by the last four characters (`****1234`); values of four characters
    /// or fewer are masked entirely.
    #[serde(rename = "last-4")]
    Last4,
    /// The e-mail address with its local part replaced: `****@example.com`.
    #[serde(rename = "email-local-part")]
    EmailLocalPart,
    /// Entirely replaced by `****`.
    #[default]
    #[serde(rename = "full")]
    Full,
}

/// What a rule grants on a field, from least to most restrictive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Treatment {
    /// The value as it is (a host may open a sealed value for the caller).
    Clear,
    /// A masked rendering, in the field's mask style.
    Mask,
    /// The sealed value as stored; the caller does not get it opened.
    Sealed,
    /// The field is left out.
    Hidden,
}

impl Treatment {
    /// The action's name on the wire (the WIT's `field-action`, audit records' field
    /// actions): `pass`, `mask`, `encrypt`, `drop`.
    pub fn wire_name(self) -> &'static str {
        match self {
            Treatment::Clear => "pass",
            Treatment::Mask => "mask",
            Treatment::Sealed => "encrypt",
            Treatment::Hidden => "drop",
        }
    }
}

impl From<Treatment> for crate::AuditFieldAction {
    fn from(t: Treatment) -> Self {
        match t {
            Treatment::Clear => crate::AuditFieldAction::Pass,
            Treatment::Mask => crate::AuditFieldAction::Mask,
            Treatment::Sealed => crate::AuditFieldAction::Encrypt,
            Treatment::Hidden => crate::AuditFieldAction::Drop,
        }
    }
}

/// Whether a rule allows or denies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Effect {
    /// Grants the action (and the field treatments).
    #[default]
    Allow,
    /// Refuses the action, whatever else matches.
    Deny,
}

/// Where the policy reads the caller's attributes in the verified claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct ClaimNames {
    /// The claim holding the caller's tenant (a string). Default `tenant`.
    pub tenant: String,
    /// The claim holding roles (array of strings, or space-separated string). Default `roles`.
    pub roles: String,
    /// The claim holding OAuth scopes. Default `scope`.
    pub scopes: String,
    /// The claim holding groups. Default `groups`.
    pub groups: String,
}

impl Default for ClaimNames {
    fn default() -> Self {
        Self {
            tenant: "tenant".into(),
            roles: "roles".into(),
            scopes: "scope".into(),
            groups: "groups".into(),
        }
    }
}

/// One field of an object.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct FieldSpec {
    /// The field's classifications.
    pub classes: Vec<Classification>,
    /// How the field looks when a rule says `mask`.
    pub mask: MaskStyle,
}

/// One CRM object type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ObjectSpec {
    /// If set, a record's value for this field must equal the request's tenant before any of
    /// it is shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_field: Option<String>,
    /// The fields; fields a record has but the object does not list are never shown.
    pub fields: BTreeMap<String, FieldSpec>,
}

/// A condition on the caller. Each non-empty list must share at least one entry with the
/// caller's attributes; an empty condition matches every caller of the tenant.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct CallerCondition {
    /// Any of these roles.
    pub roles: Vec<String>,
    /// Any of these scopes.
    pub scopes: Vec<String>,
    /// Any of these groups.
    pub groups: Vec<String>,
}

/// Per-field treatments granted by a rule: by field name first, then by class (the most
/// restrictive of the field's listed classes), then the default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FieldRules {
    /// For fields neither named nor classified below.
    pub default: Treatment,
    /// By classification.
    #[serde(default)]
    pub classes: BTreeMap<Classification, Treatment>,
    /// By field name.
    #[serde(default)]
    pub fields: BTreeMap<String, Treatment>,
}

impl Default for FieldRules {
    /// Everything hidden: a rule that grants an action but says nothing about fields shows
    /// nothing.
    fn default() -> Self {
        Self {
            default: Treatment::Hidden,
            classes: BTreeMap::new(),
            fields: BTreeMap::new(),
        }
    }
}

/// A rule: who (`when`) may (or, with `effect: deny`, may not) do which actions on which
/// objects, and what they see of each field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PolicyRule {
    /// A unique id, reported in decisions.
    pub id: String,
    /// Free text for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Allow (the default) or deny.
    #[serde(default)]
    pub effect: Effect,
    /// Who the rule applies to.
    #[serde(default)]
    pub when: CallerCondition,
    /// Object types, or `"*"` for all.
    pub objects: Vec<String>,
    /// Actions.
    pub actions: Vec<Action>,
    /// Field treatments (allow rules only).
    #[serde(default)]
    pub fields: FieldRules,
}

/// A ceiling per classification: fields of `class` get at least `treatment` unless the
/// caller satisfies `unless` (e.g. "phi is hidden unless the role is clinician").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ClassRule {
    /// The classification.
    pub class: Classification,
    /// The least restrictive treatment such fields may get.
    pub treatment: Treatment,
    /// Callers matching this condition are exempt; absent, nobody is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unless: Option<CallerCondition>,
}

/// A policy document (format version 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PolicyDocument {
    /// Must be 1.
    pub version: u32,
    /// Where caller attributes are read from.
    #[serde(default)]
    pub claims: ClaimNames,
    /// Object types by name.
    pub objects: BTreeMap<String, ObjectSpec>,
    /// Rules, in any order (deny wins; allows combine).
    pub rules: Vec<PolicyRule>,
    /// Ceilings per classification.
    #[serde(default)]
    pub class_rules: Vec<ClassRule>,
}

fn bad(msg: impl Into<String>) -> PolicyError {
    PolicyError::Invalid(msg.into())
}

impl PolicyDocument {
    /// Checks what serde cannot: version, valid names, unique non-empty rule ids, and that
    /// every object and field a rule names exists.
    pub(crate) fn validate(&self) -> Result<(), PolicyError> {
        if self.version != 1 {
            return Err(bad(format!("unsupported version {}", self.version)));
        }
        if self.objects.is_empty() {
            return Err(bad("no objects"));
        }
        for (name, obj) in &self.objects {
            crate::ObjectType::new(name.as_str()).map_err(|e| bad(e.to_string()))?;
            for field in obj.fields.keys() {
                crate::FieldName::new(field.as_str()).map_err(|e| bad(e.to_string()))?;
            }
            if let Some(tf) = &obj.tenant_field
                && !obj.fields.contains_key(tf)
            {
                return Err(bad(format!(
                    "object {name}: tenant-field {tf} is not one of its fields"
                )));
            }
        }
        let mut ids = std::collections::BTreeSet::new();
        for rule in &self.rules {
            if rule.id.is_empty() || !ids.insert(rule.id.as_str()) {
                return Err(bad(format!("rule id {:?} is empty or repeated", rule.id)));
            }
            if rule.objects.is_empty() || rule.actions.is_empty() {
                return Err(bad(format!(
                    "rule {}: objects and actions must not be empty",
                    rule.id
                )));
            }
            for o in &rule.objects {
                if o != "*" && !self.objects.contains_key(o) {
                    return Err(bad(format!("rule {}: unknown object {o}", rule.id)));
                }
            }
            for f in rule.fields.fields.keys() {
                let known = self
                    .objects
                    .iter()
                    .filter(|(name, _)| rule.objects.iter().any(|o| o == "*" || o == *name))
                    .any(|(_, spec)| spec.fields.contains_key(f));
                if !known {
                    return Err(bad(format!("rule {}: unknown field {f}", rule.id)));
                }
            }
        }
        Ok(())
    }
}
