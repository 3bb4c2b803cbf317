//! Requests in, outcomes out: core's [`AccessRequest`] to the WIT's, a plugin's answer to
//! core's [`Proposal`] (validated and rendered by core), and the [`Outcome`] the CLI prints: core's
//! [`AccessDecision`] with the plugin's log.

use std::ops::Deref;

pub use crmguard_core::request::{AccessDecision, AccessRequest, Verdict};
use crmguard_core::request::{Proposal, ProposedField};
use crmguard_core::{MaskStyle, Treatment};

use super::bindings::plugin::crmguard::guard::types as wit;
use super::error::PluginError;

fn json_fields<'a>(
    members: impl Iterator<Item = (&'a String, &'a serde_json::Value)>,
) -> Vec<wit::FieldValue> {
    members
        .map(|(k, v)| wit::FieldValue {
            name: k.clone(),
            json: v.to_string(),
        })
        .collect()
}

/// The request as the WIT's `access-request`: the tenant is the caller's own, the time is
/// the request's (milliseconds).
pub(crate) fn to_wit(request: &AccessRequest) -> wit::AccessRequest {
    let principal = request.principal();
    wit::AccessRequest {
        tenant: request.tenant().to_string(),
        principal: wit::Principal {
            subject: principal.subject().to_owned(),
            tenant: principal.tenant().to_string(),
            roles: principal.roles().to_vec(),
            claims: json_fields(principal.claims().iter()),
        },
        action: request.action().to_string(),
        object: request.object().to_string(),
        record_id: request.record_id().to_string(),
        subject: request.subject().map(ToString::to_string),
        time: request.time().as_millis(),
        fields: json_fields(request.record().iter()),
    }
}

/// One line a plugin logged.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LogLine {
    /// `debug`, `info`, `warn` or `error`.
    pub level: &'static str,
    /// The message, truncated to the host's bound.
    pub message: String,
}

/// What one request produced: core's decision (the verdict, the record as the caller may
/// see it, each field's action) and the plugin's log.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Outcome {
    /// Allow or deny, what the caller sees, and each field's action.
    #[serde(flatten)]
    pub decision: AccessDecision,
    /// What the plugin logged (bounded).
    pub log: Vec<LogLine>,
    /// Lines beyond the bound, dropped.
    pub log_dropped: u64,
}

impl Deref for Outcome {
    type Target = AccessDecision;
    fn deref(&self) -> &AccessDecision {
        &self.decision
    }
}

impl Outcome {
    /// A deny the host decided before any plugin ran, with core's code.
    pub fn refused(e: &crmguard_core::Error) -> Self {
        Self {
            decision: AccessDecision::refused(e),
            log: Vec::new(),
            log_dropped: 0,
        }
    }

    /// The audit event recording this outcome for `request`, decided by `plugin` (core's
    /// [`AccessDecision::audit_event`]).
    pub fn audit_event(&self, request: &AccessRequest, plugin: &str) -> crmguard_core::AuditEvent {
        self.decision.audit_event(request, plugin)
    }

    /// The outcome as pretty JSON.
    pub fn to_json(&self) -> String {
        // Every member is a string, map or list of plain values: serialisation cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

/// A plugin's answer as core's proposal; core validates it against the request.
pub(crate) fn proposal(answer: Result<wit::Decision, wit::GuardError>) -> Proposal {
    match answer {
        Err(e) => Proposal::Deny {
            code: Some(e.code),
            reason: e.message,
        },
        Ok(d) if !d.allow => Proposal::Deny {
            code: None,
            reason: d.reason,
        },
        Ok(d) => Proposal::Allow {
            reason: d.reason,
            fields: d
                .fields
                .into_iter()
                .map(|f| {
                    let (action, style) = match f.treatment {
                        wit::Treatment::Clear => (Treatment::Clear, MaskStyle::default()),
                        wit::Treatment::Mask(style) => (
                            Treatment::Mask,
                            match style {
                                wit::MaskStyle::LastFour => MaskStyle::Last4,
                                wit::MaskStyle::EmailLocalPart => MaskStyle::EmailLocalPart,
                                wit::MaskStyle::Full => MaskStyle::Full,
                            },
                        ),
                        wit::Treatment::Sealed => (Treatment::Sealed, MaskStyle::default()),
                        wit::Treatment::Hidden => (Treatment::Hidden, MaskStyle::default()),
                    };
                    ProposedField {
                        name: f.name,
                        action,
                        style,
                    }
                })
                .collect(),
        },
    }
}

/// A host failure as a deny's code and message.
pub(crate) fn failure(e: &PluginError) -> crmguard_core::request::DeciderFailure {
    crmguard_core::request::DeciderFailure {
        code: e.code.to_owned(),
        message: e.message.clone(),
    }
}
