//! The reference policy plugin (world `crmguard:guard/policy-plugin`): a small declarative
//! policy, compiled in from `policy.json`, mapping (object, role, field) to an action.
//!
//! For each field the most permissive action any of the caller's roles grants wins
//! (pass > encrypt > mask > drop); a field no rule names is dropped; a caller with no role
//! on the object, or an action the object does not allow, is denied. Sealed values
//! (`cg1:...`) are opened through the host's `fields` import only when the action is `pass`;
//! the plugin never sees key bytes.
//!
//! This is a stand-in until the tokens branch's declarative policy engine (crmguard-core's
//! `policy` module) lands; then this plugin becomes a thin adapter over it.

// wit-bindgen's generated glue (canonical ABI lifting and lowering) is `unsafe` code; none is
// written by hand in this crate.
#![allow(unsafe_code)]

use std::collections::BTreeMap;

wit_bindgen::generate!({
    world: "policy-plugin",
    path: "../../wit",
});

use crmguard::guard::fields::{self, ContentType};
use crmguard::guard::logging::{self, Level};
use crmguard::guard::types::{
    AccessRequest, Decision, FieldAction, FieldContext, FieldValue, FieldVerdict, GuardError,
};
use exports::crmguard::guard::policy::Guest;

const POLICY: &str = include_str!("../policy.json");
const MASK: &str = "\"****\"";
const SEALED_PREFIX: &str = "\"cg1:";

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Policy {
    objects: BTreeMap<String, ObjectRules>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ObjectRules {
    actions: Vec<String>,
    roles: BTreeMap<String, BTreeMap<String, Action>>,
}

#[derive(serde::Deserialize, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
enum Action {
    // Declared from least to most permissive: `max` picks the most permissive.
    Drop,
    Mask,
    Encrypt,
    Pass,
}

fn deny(reason: String) -> Decision {
    Decision {
        allow: false,
        reason,
        fields: Vec::new(),
    }
}

fn policy_error(message: String) -> GuardError {
    GuardError {
        code: "ERR_POLICY_INVALID".to_owned(),
        message,
    }
}

fn context(req: &AccessRequest, field: &str) -> FieldContext {
    FieldContext {
        tenant: req.tenant.clone(),
        object: req.object.clone(),
        record: req.record_id.clone(),
        field: field.to_owned(),
        subject: req.subject.clone(),
    }
}

/// The value the caller sees for `field` under `action`.
fn apply(
    req: &AccessRequest,
    field: &FieldValue,
    action: Action,
) -> Result<FieldVerdict, GuardError> {
    let sealed = field.json.starts_with(SEALED_PREFIX);
    let (action, json) = match action {
        Action::Drop => (FieldAction::Drop, None),
        Action::Mask => (FieldAction::Mask, Some(MASK.to_owned())),
        Action::Encrypt if sealed => (FieldAction::Encrypt, Some(field.json.clone())),
        Action::Encrypt => {
            let (bytes, content) = match serde_json::from_str::<serde_json::Value>(&field.json) {
                Ok(serde_json::Value::String(s)) => (s.into_bytes(), ContentType::Bytes),
                _ => (field.json.clone().into_bytes(), ContentType::Json),
            };
            let text = fields::seal(&context(req, &field.name), &bytes, content)?;
            (FieldAction::Encrypt, Some(json_string(&text)))
        }
        Action::Pass if sealed => {
            let text: String = serde_json::from_str(&field.json)
                .map_err(|e| policy_error(format!("field {}: {e}", field.name)))?;
            let opened = fields::open(&context(req, &field.name), &text)?;
            let json = match opened.content {
                ContentType::Json => String::from_utf8(opened.plaintext)
                    .map_err(|_| policy_error(format!("field {}: not UTF-8", field.name)))?,
                ContentType::Bytes => json_string(&String::from_utf8_lossy(&opened.plaintext)),
            };
            (FieldAction::Pass, Some(json))
        }
        Action::Pass => (FieldAction::Pass, Some(field.json.clone())),
    };
    Ok(FieldVerdict {
        name: field.name.clone(),
        action,
        json,
    })
}

fn json_string(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

struct Reference;

impl Guest for Reference {
    fn decide(req: AccessRequest) -> Result<Decision, GuardError> {
        let policy: Policy =
            serde_json::from_str(POLICY).map_err(|e| policy_error(format!("policy.json: {e}")))?;
        let Some(rules) = policy.objects.get(&req.object) else {
            return Ok(deny(format!("no policy for object {}", req.object)));
        };
        if !rules.actions.contains(&req.action) {
            return Ok(deny(format!(
                "action {} is not allowed on {}",
                req.action, req.object
            )));
        }
        let grants: Vec<&BTreeMap<String, Action>> = req
            .principal
            .roles
            .iter()
            .filter_map(|r| rules.roles.get(r))
            .collect();
        if grants.is_empty() {
            return Ok(deny(format!(
                "no role of the caller may access {}",
                req.object
            )));
        }
        let mut verdicts = Vec::with_capacity(req.fields.len());
        for field in &req.fields {
            let action = grants
                .iter()
                .filter_map(|g| g.get(&field.name).or_else(|| g.get("*")))
                .copied()
                .max()
                .unwrap_or(Action::Drop);
            verdicts.push(apply(&req, field, action)?);
        }
        logging::log(
            Level::Debug,
            &format!(
                "{} fields decided for {}",
                verdicts.len(),
                req.principal.subject
            ),
        );
        Ok(Decision {
            allow: true,
            reason: format!("allowed by the reference policy for {}", req.object),
            fields: verdicts,
        })
    }
}

export!(Reference);
