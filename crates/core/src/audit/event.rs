//! What the caller reports: an [`AuditEvent`]. It names who did what to which records and
//! fields, and with what outcome, but never a field's value.
//!
//! Events come from a policy decision (API activity, authentication, authorization) or from a
//! key or data-subject event (key rotation, erasure). [`AuditChain::append`](super::AuditChain::append)
//! turns one into an OCSF-shaped [`AuditRecord`](super::AuditRecord).

use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// The kind of event, which fixes the OCSF class of its record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventClass {
    /// A CRM API call on records (OCSF API Activity, `class_uid` 6003).
    ApiActivity,
    /// A sign-in or sign-out (OCSF Authentication, 3002).
    Authentication,
    /// A grant of privileges or groups (OCSF Authorize Session, 3003).
    Authorization,
    /// A key was created, rotated or destroyed (OCSF Entity Management, 3004).
    KeyEvent,
    /// A data subject was erased (crypto-shredded) (OCSF Entity Management, 3004).
    SubjectErasure,
}

/// What was done. Which activities a class accepts is listed in docs/AUDIT.md.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activity {
    /// Create (API activity, key event).
    Create,
    /// Read (API activity, key event).
    Read,
    /// Update (API activity, key event).
    Update,
    /// Delete (API activity, key event, subject erasure).
    Delete,
    /// Logon (authentication).
    Logon,
    /// Logoff (authentication).
    Logoff,
    /// Assign privileges (authorization).
    AssignPrivileges,
    /// Assign groups (authorization).
    AssignGroups,
    /// Key rotation (key event; recorded as OCSF Update).
    Rotate,
    /// Erasure (subject erasure; recorded as OCSF Delete).
    Erase,
    /// Anything else (OCSF Other, 99).
    Other,
}

/// Allow or deny.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// The request was allowed (OCSF status Success).
    Allow,
    /// The request was denied (OCSF status Failure).
    Deny,
}

/// The outcome of the request, with an optional reason (no PII, no field values).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Outcome {
    /// Allow or deny.
    pub decision: Decision,
    /// Why, e.g. `role sales may not read field ssn`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Who acted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventActor {
    /// The user (or service) id; replaced by a keyed hash when actors are pseudonymised.
    pub uid: String,
    /// The tenant the actor acted in.
    pub tenant: String,
    /// The actor's roles at the time.
    #[serde(default)]
    pub roles: Vec<String>,
}

/// Where the request came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventEndpoint {
    /// The client IP address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<IpAddr>,
    /// The client port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
}

/// What one field was subjected to. Never the field's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditFieldAction {
    /// Read in clear.
    Read,
    /// Written.
    Write,
    /// Passed through unchanged (policy decision).
    Pass,
    /// Masked (policy decision).
    Mask,
    /// Encrypted (policy decision).
    Encrypt,
    /// Dropped from the response (policy decision).
    Drop,
    /// Access denied (policy decision).
    Deny,
    /// Erased.
    Erase,
}

/// One field touched by the request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventField {
    /// The field name (or schema path).
    pub name: String,
    /// What happened to it.
    pub action: AuditFieldAction,
}

/// One resource (CRM record, key, data subject) the event concerns.
///
/// A resource whose `type` is [`SUBJECT_RESOURCE_TYPE`](super::SUBJECT_RESOURCE_TYPE)
/// (`data_subject`) names a data subject: its `uid` is replaced by a keyed hash when subjects
/// are pseudonymised.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventResource {
    /// The resource type: a CRM object type (`contact`), `key`, `data_subject`, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// The resource id.
    pub uid: String,
    /// The fields touched, each with its action.
    #[serde(default)]
    pub fields: Vec<EventField>,
}

/// One auditable event, as reported by the caller. The record's time, sequence number and
/// hashes are added by [`AuditChain::append`](super::AuditChain::append).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditEvent {
    /// The kind of event.
    pub class: EventClass,
    /// What was done.
    pub activity: Activity,
    /// Who did it.
    pub actor: EventActor,
    /// Where the request came from, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<EventEndpoint>,
    /// The API operation, e.g. `contacts.get`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// The request id, to correlate with other logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// What the event concerns.
    #[serde(default)]
    pub resources: Vec<EventResource>,
    /// Allow or deny, and why.
    pub outcome: Outcome,
}

impl AuditEvent {
    /// The event recording that a data subject was erased (crypto-shredded) by `actor` in
    /// `actor.tenant`. With subject pseudonymisation on (the default of
    /// [`RecordOptions`](super::RecordOptions)), the record holds a keyed hash of `subject`.
    pub fn subject_erasure(actor: EventActor, subject: &str, request_id: Option<String>) -> Self {
        Self {
            class: EventClass::SubjectErasure,
            activity: Activity::Erase,
            actor,
            source: None,
            operation: Some("subject.forget".to_owned()),
            request_id,
            resources: vec![EventResource {
                kind: super::SUBJECT_RESOURCE_TYPE.to_owned(),
                uid: subject.to_owned(),
                fields: Vec::new(),
            }],
            outcome: Outcome {
                decision: Decision::Allow,
                reason: None,
            },
        }
    }

    /// The event recording a key rotation (`key` names the keyring and new key id, never key
    /// material).
    pub fn key_rotation(actor: EventActor, key: &str) -> Self {
        Self {
            class: EventClass::KeyEvent,
            activity: Activity::Rotate,
            actor,
            source: None,
            operation: Some("keys.rotate".to_owned()),
            request_id: None,
            resources: vec![EventResource {
                kind: "key".to_owned(),
                uid: key.to_owned(),
                fields: Vec::new(),
            }],
            outcome: Outcome {
                decision: Decision::Allow,
                reason: None,
            },
        }
    }
}

impl AuditEvent {
    /// The event recording a policy decision on a CRM API call, allow or deny: the caller
    /// (from the verified token; roles from the claim `names` says, the policy document's
    /// own), the record and, for each field, what the caller got
    /// (clear → `pass`, masked → `mask`, sealed → `encrypt`, hidden → `drop`). The reason names
    /// the deciding rules. Field values never appear.
    pub fn policy_decision(
        decision: &crate::PolicyDecision,
        claims: &crate::VerifiedClaims,
        names: &crate::ClaimNames,
        request_id: Option<String>,
    ) -> Self {
        let activity = Activity::of_action(action_name(decision.action));
        // The roles the policy itself read: its document names the claim.
        let roles = crate::claim_names(claims.claims(), &names.roles)
            .into_iter()
            .map(str::to_owned)
            .collect();
        let fields = decision
            .fields
            .iter()
            .map(|(name, visibility)| EventField {
                name: name.clone(),
                action: visibility.treatment().0.into(),
            })
            .collect();
        Self {
            class: EventClass::ApiActivity,
            activity,
            actor: EventActor {
                uid: decision
                    .subject
                    .clone()
                    .unwrap_or_else(|| "unknown".to_owned()),
                tenant: decision.tenant.clone(),
                roles,
            },
            source: None,
            operation: Some(format!(
                "{}.{}",
                decision.object,
                action_name(decision.action)
            )),
            request_id,
            resources: vec![EventResource {
                kind: decision.object.clone(),
                uid: decision.record_id.clone().unwrap_or_else(|| "*".to_owned()),
                fields,
            }],
            outcome: Outcome {
                decision: if decision.is_allowed() {
                    Decision::Allow
                } else {
                    Decision::Deny
                },
                reason: Some(decision.reason.to_string()),
            },
        }
    }
}

impl Activity {
    /// The API activity of a request's action: `read`, `create`, `update`, `delete`, and
    /// [`Activity::Other`] for anything else (`export`, a deployment's own verbs).
    pub fn of_action(action: &str) -> Self {
        match action {
            "read" => Activity::Read,
            "create" => Activity::Create,
            "update" => Activity::Update,
            "delete" => Activity::Delete,
            _ => Activity::Other,
        }
    }
}

fn action_name(action: crate::Action) -> &'static str {
    match action {
        crate::Action::Read => "read",
        crate::Action::Create => "create",
        crate::Action::Update => "update",
        crate::Action::Delete => "delete",
        crate::Action::Export => "export",
    }
}
