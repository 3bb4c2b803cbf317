//! A decider's answer and what the caller gets. A [`Proposal`] is what an untrusted decider
//! (a policy plugin) answered; [`Proposal::validate`] checks it against its request and makes
//! the [`AccessDecision`], the only thing a host answers with and audits.
//!
//! One field action type: [`Treatment`] (clear, mask, sealed, hidden), the policy language's
//! own. The WIT's `field-action` and the audit format's field actions are its spellings on the
//! wire: `pass`, `mask`, `encrypt`, `drop` ([`Treatment::wire_name`]).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

use super::{AccessRequest, FieldSealer, render_field};
use crate::error::DecisionError;
use crate::{
    Activity, AuditEvent, AuditFieldAction, Decision as AuditDecision, Error, EventActor,
    EventClass, EventField, EventResource, FieldName, MaskStyle, Outcome as EventOutcome,
    Treatment,
};

/// The largest answer (reason, field names and values) accepted from a decider.
pub const MAX_DECISION_BYTES: usize = 1 << 20;
/// The longest reason or deny message accepted from a decider.
pub const MAX_REASON_LEN: usize = 1024;
/// The code of a decider's plain deny (`allow: false` without a code of its own).
pub const POLICY_DENIED: &str = crate::codes::POLICY_DENIED;

/// What a decider answered for one field: how the caller gets it. Deciders name treatments,
/// never values: core renders every field ([`render_field`](super::render_field)), so a
/// sealed value is opened, masked or sealed one way in every runtime and a decider cannot
/// answer with values of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProposedField {
    /// The field's name in the request's record.
    pub name: String,
    /// What the caller gets.
    pub action: Treatment,
    /// How a masked field is masked (ignored for other treatments).
    pub style: MaskStyle,
}

impl ProposedField {
    /// `name` shown with `action` (a mask in the default style).
    pub fn new(name: impl Into<String>, action: Treatment) -> Self {
        Self {
            name: name.into(),
            action,
            style: MaskStyle::default(),
        }
    }
}

/// A decider's answer, before validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Proposal {
    /// Allowed, with what each field looks like to the caller. Fields not listed are hidden.
    Allow {
        /// Why.
        reason: String,
        /// Per field.
        fields: Vec<ProposedField>,
    },
    /// Denied, with the decider's reason.
    Deny {
        /// A stable code (`ERR_...`); `None`: [`POLICY_DENIED`].
        code: Option<String>,
        /// Why.
        reason: String,
    },
}

/// Allow or deny, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "effect", rename_all = "lowercase")]
pub enum Verdict {
    /// Allowed.
    Allow {
        /// Why.
        reason: String,
    },
    /// Denied: by the decider, or by the host because the request or the decider failed.
    Deny {
        /// A stable code: the decider's own (`ERR_...`) or the host's.
        code: String,
        /// Why.
        reason: String,
    },
}

impl Verdict {
    /// Whether the request was allowed.
    pub fn is_allow(&self) -> bool {
        matches!(self, Verdict::Allow { .. })
    }

    /// The deny code, if denied.
    pub fn code(&self) -> Option<&str> {
        match self {
            Verdict::Allow { .. } => None,
            Verdict::Deny { code, .. } => Some(code),
        }
    }
}

/// What one request produced: the verdict, the record as the caller may see it (empty on
/// deny) and each shown or hidden field's action.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccessDecision {
    /// Allow or deny.
    pub verdict: Verdict,
    /// The record as the caller may see it.
    pub record: Map<String, Value>,
    /// Each field's action, for the fields the decider named.
    #[serde(serialize_with = "wire_actions")]
    pub actions: BTreeMap<String, Treatment>,
}

fn wire_actions<S: serde::Serializer>(
    actions: &BTreeMap<String, Treatment>,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_map(actions.iter().map(|(k, t)| (k, t.wire_name())))
}

/// The audited operation, `object.action`, cut to the audit format's 256 bytes (at a
/// character boundary): each part is an identifier of up to 256 bytes, so together they may
/// not fit, and an event that does not fit could not be recorded at all. The resource keeps
/// the whole object type.
fn operation(object: &str, action: &str) -> String {
    let mut op = format!("{object}.{action}");
    if op.len() > crate::MAX_IDENTIFIER_LEN {
        let mut end = crate::MAX_IDENTIFIER_LEN;
        while !op.is_char_boundary(end) {
            end -= 1;
        }
        op.truncate(end);
    }
    op
}

fn invalid(message: impl Into<String>) -> Error {
    DecisionError::Invalid(message.into()).into()
}

/// A code a decider may deny with: `ERR_` and upper-case letters, digits, `_`; ≤ 64 bytes.
pub fn is_stable_code(code: &str) -> bool {
    code.len() <= 64
        && code.starts_with("ERR_")
        && code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

impl Proposal {
    /// Checks the answer against its request, then renders the caller's view through
    /// `sealer`. An answer out of bounds is `ERR_DECISION_INVALID`: over
    /// [`MAX_DECISION_BYTES`] or [`MAX_REASON_LEN`], a deny code that is not a stable code, a
    /// field the request does not have, or a field named twice. A field without an answer is
    /// left out. A field that cannot be rendered (a sealed value that does not open or
    /// decode) fails with its own code.
    pub fn validate(
        self,
        request: &AccessRequest,
        sealer: &mut dyn FieldSealer,
    ) -> Result<AccessDecision, Error> {
        match self {
            Proposal::Deny { code, reason } => {
                let code = code.unwrap_or_else(|| POLICY_DENIED.to_owned());
                if !is_stable_code(&code) {
                    return Err(invalid("a deny without a stable code"));
                }
                if reason.len() > MAX_REASON_LEN {
                    return Err(invalid("the reason is longer than 1024 bytes"));
                }
                Ok(AccessDecision::deny(code, reason))
            }
            Proposal::Allow { reason, fields } => {
                let size = reason.len() + fields.iter().map(|f| f.name.len()).sum::<usize>();
                if size > MAX_DECISION_BYTES {
                    return Err(invalid(format!(
                        "the decision is {size} bytes; the bound is {MAX_DECISION_BYTES}"
                    )));
                }
                if reason.len() > MAX_REASON_LEN {
                    return Err(invalid("the reason is longer than 1024 bytes"));
                }
                let mut actions = BTreeMap::new();
                for f in &fields {
                    if !request.record().contains_key(&f.name) {
                        return Err(invalid(format!(
                            "a verdict names {:?}, which the request does not have",
                            f.name
                        )));
                    }
                    if actions.insert(f.name.clone(), f.action).is_some() {
                        return Err(invalid(format!("two verdicts for {:?}", f.name)));
                    }
                }
                let mut record = Map::new();
                for f in &fields {
                    let stored = &request.record()[&f.name];
                    let ctx = request.field_context(FieldName::new(f.name.as_str())?);
                    if let Some(shown) = render_field(f.action, f.style, stored, &ctx, sealer)? {
                        record.insert(f.name.clone(), shown);
                    }
                }
                Ok(AccessDecision {
                    verdict: Verdict::Allow { reason },
                    record,
                    actions,
                })
            }
        }
    }
}

impl AccessDecision {
    /// A deny with `code` and `reason`, showing nothing.
    pub fn deny(code: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            verdict: Verdict::Deny {
                code: code.into(),
                reason: reason.into(),
            },
            record: Map::new(),
            actions: BTreeMap::new(),
        }
    }

    /// The deny for a request the host refused, with core's code.
    pub fn refused(e: &Error) -> Self {
        Self::deny(e.code(), e.to_string())
    }

    /// Whether the request was allowed.
    pub fn is_allowed(&self) -> bool {
        self.verdict.is_allow()
    }

    /// The deny code, if denied.
    pub fn code(&self) -> Option<&str> {
        self.verdict.code()
    }

    /// The audit event of this decision for `request`, decided by `decided_by`: the caller
    /// (own tenant, roles from the deployment's roles claim), the record, each field's action
    /// (names only, never values), allow or deny with the reason. A deny lists no field.
    pub fn audit_event(&self, request: &AccessRequest, decided_by: &str) -> AuditEvent {
        let action = request.action().as_str();
        let activity = Activity::of_action(action);
        let fields = self
            .actions
            .iter()
            .map(|(name, t)| EventField {
                name: name.clone(),
                action: AuditFieldAction::from(*t),
            })
            .collect();
        let (decision, reason) = match &self.verdict {
            Verdict::Allow { reason } => (AuditDecision::Allow, format!("{decided_by}: {reason}")),
            Verdict::Deny { code, reason } => (
                AuditDecision::Deny,
                format!("{decided_by}: {code}: {reason}"),
            ),
        };
        let principal = request.principal();
        AuditEvent {
            class: EventClass::ApiActivity,
            activity,
            actor: EventActor {
                uid: principal.subject().to_owned(),
                tenant: request.tenant().to_string(),
                roles: principal.roles().to_vec(),
            },
            source: None,
            operation: Some(operation(request.object().as_str(), action)),
            request_id: None,
            resources: vec![EventResource {
                kind: request.object().to_string(),
                uid: request.record_id().to_string(),
                fields,
            }],
            outcome: EventOutcome {
                decision,
                reason: Some(reason),
            },
        }
    }
}
