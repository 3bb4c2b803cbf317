//! Requests in, outcomes out: the JSON the CLI reads and prints, and its translation to and
//! from the WIT types.

use crmguard_core::{Principal, TenantId};
use serde_json::{Map, Value};

use super::bindings::plugin::crmguard::guard::types as wit;
use super::error::{self, PluginError};

/// One request for a record. The caller is a [`Principal`] the trusted host bound from a
/// verified token, and the request's tenant is the principal's own: there is no separate
/// tenant to point at another tenant's data. `object`, `record_id` and `subject` name the one
/// record the request is about; a plugin's crypto calls are scoped to exactly that record.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessRequest {
    /// Who is asking (and so, which tenant).
    pub principal: Principal,
    /// What the caller does: `read`, `write`, `export`, ...
    pub action: String,
    /// The object type.
    pub object: String,
    /// The record id.
    pub record_id: String,
    /// The data subject the record is about, if any.
    pub subject: Option<String>,
    /// When the request is decided, seconds since the epoch (default: the host's clock when
    /// the plugin runs). Plugins see this time, not a clock.
    pub time: Option<u64>,
    /// The record as stored (sealed fields in their `cg1:` text form).
    pub record: Map<String, Value>,
}

impl AccessRequest {
    /// The tenant the request is for: the caller's own.
    pub fn tenant(&self) -> &TenantId {
        self.principal.tenant()
    }

    pub(crate) fn to_wit(&self) -> wit::AccessRequest {
        wit::AccessRequest {
            tenant: self.tenant().to_string(),
            principal: wit::Principal {
                subject: self.principal.subject().to_owned(),
                roles: self.principal.roles().to_vec(),
                claims: self
                    .principal
                    .claims()
                    .iter()
                    .map(|(k, v)| wit::FieldValue {
                        name: k.clone(),
                        json: v.to_string(),
                    })
                    .collect(),
            },
            action: self.action.clone(),
            object: self.object.clone(),
            record_id: self.record_id.clone(),
            subject: self.subject.clone(),
            time: self.time.unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs())
            }),
            fields: self
                .record
                .iter()
                .map(|(k, v)| wit::FieldValue {
                    name: k.clone(),
                    json: v.to_string(),
                })
                .collect(),
        }
    }
}

/// The host's verdict on one request.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "effect", rename_all = "lowercase")]
pub enum Verdict {
    /// The plugin allowed the request.
    Allow {
        /// The plugin's reason.
        reason: String,
    },
    /// Denied: by the plugin, or by the host because the plugin failed.
    Deny {
        /// A stable code: the plugin's own (`ERR_...`), or the host's `ERR_PLUGIN_*`.
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

    pub(crate) fn deny(e: &PluginError) -> Self {
        Verdict::Deny {
            code: e.code.to_owned(),
            reason: e.message.clone(),
        }
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

/// What one request produced: the verdict, the record as the caller may see it (empty on
/// deny), each field's action, and the plugin's log.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Outcome {
    /// Allow or deny, with the reason.
    pub verdict: Verdict,
    /// The record as the caller may see it.
    pub record: Map<String, Value>,
    /// Each returned field's action (`pass`, `mask`, `encrypt`, `drop`).
    pub actions: Map<String, Value>,
    /// What the plugin logged (bounded).
    pub log: Vec<LogLine>,
    /// Lines beyond the bound, dropped.
    pub log_dropped: u64,
}

impl Outcome {
    /// A deny the host decided before any plugin ran (e.g. a request for another tenant
    /// than the caller's), with core's code.
    pub fn refused(e: &crmguard_core::Error) -> Self {
        Self::deny(
            Verdict::Deny {
                code: e.code().to_owned(),
                reason: e.to_string(),
            },
            Vec::new(),
            0,
        )
    }

    pub(crate) fn denied(e: &PluginError, log: Vec<LogLine>, log_dropped: u64) -> Self {
        Self::deny(Verdict::deny(e), log, log_dropped)
    }

    fn deny(verdict: Verdict, log: Vec<LogLine>, log_dropped: u64) -> Self {
        Self {
            verdict,
            record: Map::new(),
            actions: Map::new(),
            log,
            log_dropped,
        }
    }

    /// The audit event recording this outcome for `request`, decided by `plugin`: who asked,
    /// the record, each field's action (names only, never values), allow or deny with the
    /// reason. A plugin that failed (trap, deadline, memory, malformed answer) is a deny whose
    /// reason carries the host's code; no field is listed because the caller got none.
    pub fn audit_event(&self, request: &AccessRequest, plugin: &str) -> crmguard_core::AuditEvent {
        use crmguard_core::{
            Activity, AuditEvent, AuditFieldAction, Decision as AuditDecision, EventActor,
            EventClass, EventField, EventResource, Outcome as EventOutcome,
        };
        let activity = match request.action.as_str() {
            "read" => Activity::Read,
            "create" => Activity::Create,
            "update" => Activity::Update,
            "delete" => Activity::Delete,
            _ => Activity::Other,
        };
        let fields = self
            .actions
            .iter()
            .filter_map(|(name, action)| {
                let action = match action.as_str()? {
                    "pass" => AuditFieldAction::Pass,
                    "mask" => AuditFieldAction::Mask,
                    "encrypt" => AuditFieldAction::Encrypt,
                    _ => AuditFieldAction::Drop,
                };
                Some(EventField {
                    name: name.clone(),
                    action,
                })
            })
            .collect();
        let (decision, reason) = match &self.verdict {
            Verdict::Allow { reason } => (AuditDecision::Allow, format!("{plugin}: {reason}")),
            Verdict::Deny { code, reason } => {
                (AuditDecision::Deny, format!("{plugin}: {code}: {reason}"))
            }
        };
        AuditEvent {
            class: EventClass::ApiActivity,
            activity,
            actor: EventActor {
                uid: request.principal.subject().to_owned(),
                tenant: request.tenant().to_string(),
                roles: request.principal.roles().to_vec(),
            },
            source: None,
            operation: Some(format!("{}.{}", request.object, request.action)),
            request_id: None,
            resources: vec![EventResource {
                kind: request.object.clone(),
                uid: request.record_id.clone(),
                fields,
            }],
            outcome: EventOutcome {
                decision,
                reason: Some(reason),
            },
        }
    }

    /// The outcome as pretty JSON.
    pub fn to_json(&self) -> String {
        // Every member is a string, map or list of plain values: serialisation cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

/// The largest decision (reason, names and values) the host accepts from a plugin.
pub(crate) const MAX_OUTPUT_BYTES: usize = 1 << 20;
/// The longest reason or error message kept from a plugin.
const MAX_REASON: usize = 1024;

fn output(message: impl Into<String>) -> PluginError {
    PluginError::new(error::OUTPUT, message)
}

fn stable_code(code: &str) -> bool {
    code.len() <= 64
        && code.starts_with("ERR_")
        && code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

/// The verdict, the record as the caller may see it, and each field's action.
pub(crate) type Translated = (Verdict, Map<String, Value>, Map<String, Value>);

/// Checks a plugin's answer against its request and builds the caller's view: only fields
/// of the request, each at most once, values that are JSON, within the output bound. A
/// field without a verdict is left out (deny by default).
pub(crate) fn translate(
    request: &AccessRequest,
    answer: Result<wit::Decision, wit::GuardError>,
) -> Result<Translated, PluginError> {
    let decision = match answer {
        Ok(d) => d,
        Err(e) if stable_code(&e.code) && e.message.len() <= MAX_REASON => {
            return Ok((
                Verdict::Deny {
                    code: e.code,
                    reason: e.message,
                },
                Map::new(),
                Map::new(),
            ));
        }
        Err(_) => return Err(output("the plugin returned an error without a stable code")),
    };
    let size = decision.reason.len()
        + decision
            .fields
            .iter()
            .map(|f| f.name.len() + f.json.as_ref().map_or(0, String::len))
            .sum::<usize>();
    if size > MAX_OUTPUT_BYTES {
        return Err(output(format!(
            "the decision is {size} bytes; the bound is {MAX_OUTPUT_BYTES}"
        )));
    }
    if decision.reason.len() > MAX_REASON {
        return Err(output("the reason is longer than 1024 bytes"));
    }
    if !decision.allow {
        return Ok((
            Verdict::Deny {
                code: crmguard_core::codes::POLICY_DENIED.to_owned(),
                reason: decision.reason,
            },
            Map::new(),
            Map::new(),
        ));
    }
    let mut record = Map::new();
    let mut actions = Map::new();
    for f in decision.fields {
        if !request.record.contains_key(&f.name) {
            return Err(output(format!(
                "a verdict names {:?}, which the request does not have",
                f.name
            )));
        }
        let action = match f.action {
            wit::FieldAction::Pass => "pass",
            wit::FieldAction::Mask => "mask",
            wit::FieldAction::Encrypt => "encrypt",
            wit::FieldAction::Drop => "drop",
        };
        if actions
            .insert(f.name.clone(), Value::from(action))
            .is_some()
        {
            return Err(output(format!("two verdicts for {:?}", f.name)));
        }
        match (f.action, f.json) {
            (wit::FieldAction::Drop, _) => {}
            (_, None) => return Err(output(format!("no value for {:?}", f.name))),
            (_, Some(json)) => {
                let v: Value = serde_json::from_str(&json)
                    .map_err(|_| output(format!("the value for {:?} is not JSON", f.name)))?;
                record.insert(f.name, v);
            }
        }
    }
    Ok((
        Verdict::Allow {
            reason: decision.reason,
        },
        record,
        actions,
    ))
}
