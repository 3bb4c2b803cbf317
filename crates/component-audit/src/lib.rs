//! The audit component: exports `crmguard:guard/audit` as a thin adapter over crmguard-core's
//! audit chain. Pure: no imports beyond the shared types, no clock (the caller passes the
//! record time), no signing keys (checkpoints are verified here, never signed).
//!
//! No rule lives here: lines go to core's `ChainVerifier`, events to `AuditChain::append`, and
//! core's `ERR_AUDIT_*` codes come back unchanged.

// wit-bindgen's generated glue (canonical ABI lifting and lowering) is `unsafe` code; none is
// written by hand in this crate.
#![allow(unsafe_code)]

use crmguard_core::{
    Anchor, AuditChain, AuditError, AuditEvent, AuditVerifyingKey, ChainVerifier, Error,
    RecordOptions, VerifiedLog,
};

wit_bindgen::generate!({
    world: "audit-builder",
    path: "../../wit",
});

use crmguard::guard::types::GuardError;
use exports::crmguard::guard::audit::{Guest, LogSummary};

/// The version written into each record's `metadata.product.version`.
const PRODUCT_VERSION: &str = env!("CARGO_PKG_VERSION");

fn guard_error(e: impl Into<Error>) -> GuardError {
    let e = e.into();
    GuardError {
        code: e.code().to_owned(),
        message: e.to_string(),
    }
}

fn verifying_key(hex_key: &str) -> Result<AuditVerifyingKey, GuardError> {
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(hex_key, &mut bytes).map_err(|_| {
        guard_error(AuditError::Key(
            "a verifying key is not 64 hex digits".to_owned(),
        ))
    })?;
    AuditVerifyingKey::from_bytes(&bytes).map_err(guard_error)
}

fn verified(
    log_id: &str,
    jsonl: &str,
    keys: Vec<AuditVerifyingKey>,
) -> Result<VerifiedLog, GuardError> {
    let mut v = ChainVerifier::new(keys).expect_log_id(log_id);
    v.push_log(jsonl).map_err(guard_error)?;
    v.finish(&Anchor::default()).map_err(guard_error)
}

struct Audit;

impl Guest for Audit {
    fn verify(
        log_id: String,
        jsonl: String,
        verifying_keys: Vec<String>,
    ) -> Result<LogSummary, GuardError> {
        let keys = verifying_keys
            .iter()
            .map(|k| verifying_key(k))
            .collect::<Result<Vec<_>, _>>()?;
        let log = verified(&log_id, &jsonl, keys)?;
        Ok(LogSummary {
            log_id,
            size: log.size,
            head_hash: log.head_hash.to_hex(),
            checkpoints: log.checkpoints,
        })
    }

    fn append(
        log_id: String,
        jsonl: String,
        event_json: String,
        time: u64,
    ) -> Result<String, GuardError> {
        let event: AuditEvent = serde_json::from_str(&event_json)
            .map_err(|e| guard_error(AuditError::Event(e.to_string())))?;
        let options = RecordOptions::new(PRODUCT_VERSION, None);
        let mut chain = if jsonl.is_empty() {
            AuditChain::new(&log_id, options).map_err(guard_error)?
        } else {
            AuditChain::resume(&verified(&log_id, &jsonl, Vec::new())?, options)
        };
        let record = chain.append(&event, time).map_err(guard_error)?;
        Ok(record.to_line())
    }
}

export!(Audit);
