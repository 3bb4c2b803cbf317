//! `crmguard authorize`: verify the request's token, evaluate the policy, and print the
//! decision and the record as the caller may see it.

use crate::failure::outln;
use std::path::{Path, PathBuf};

use clap::Args;
use crmguard_core::{AuthorizationRequest, Policy, PolicyDecision, PolicyError};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::token::{VerifyOpts, token_text};
use crate::failure::{CmdResult, Failure};

#[derive(Args)]
pub(crate) struct AuthorizeOpts {
    /// The policy document (docs/POLICY.md).
    #[arg(long, value_name = "FILE")]
    policy: PathBuf,
    /// The request: {"token": "<compact JWT>", "request": {"tenant", "object", "action",
    /// "record-id"}, "record": {...}} ("record" optional).
    #[arg(long, value_name = "FILE")]
    request: PathBuf,
    #[command(flatten)]
    verify: VerifyOpts,
    #[command(flatten)]
    audit: super::audit::DecisionAuditOpts,
}

/// The request file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestFile {
    token: String,
    request: AuthorizationRequest,
    #[serde(default)]
    record: Option<Map<String, Value>>,
}

/// What is printed.
#[derive(Serialize)]
struct Output<'a> {
    decision: &'a PolicyDecision,
    record: Option<Map<String, Value>>,
}

fn read(path: &Path) -> Result<String, Failure> {
    std::fs::read_to_string(path).map_err(|e| Failure::io(&path.display().to_string(), e))
}

pub(crate) fn run(opts: AuthorizeOpts) -> CmdResult {
    let policy = Policy::from_json(&read(&opts.policy)?)?;
    let file: RequestFile = serde_json::from_str(&read(&opts.request)?).map_err(|e| {
        crmguard_core::Error::from(PolicyError::Request(format!(
            "{}: {e}",
            opts.request.display()
        )))
    })?;
    let claims = opts.verify.verify(token_text(file.token.as_bytes())?)?;
    let decision = policy.evaluate(&claims, &file.request)?;
    // Recorded before anything is shown: an unrecordable decision is not acted on.
    let event = crmguard_core::AuditEvent::policy_decision(
        &decision,
        &claims,
        &policy.document().claims,
        None,
    );
    if let Some(seq) = super::audit::record_decision(&opts.audit, &event)? {
        eprintln!("audit: decision recorded at seq {seq}");
    }
    let record = match (&file.record, decision.is_allowed()) {
        (Some(r), true) => Some(decision.apply(r)?),
        _ => None,
    };
    let json = serde_json::to_string_pretty(&Output {
        decision: &decision,
        record,
    })
    .map_err(|e| Failure::new("ERR_IO", format!("serializing the decision: {e}")))?;
    outln!("{json}");
    if decision.is_allowed() {
        Ok(())
    } else {
        Err(crmguard_core::Error::from(PolicyError::Denied(decision.reason.to_string())).into())
    }
}
