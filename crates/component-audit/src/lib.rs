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

use std::cell::RefCell;

use crmguard::guard::types::{ErrorKind as WitKind, GuardError};
use exports::crmguard::guard::audit::{
    Guest, GuestLogSession, LogSession as WitSession, LogSummary,
};

/// The version written into each record's `metadata.product.version`.
const PRODUCT_VERSION: &str = env!("CARGO_PKG_VERSION");

fn guard_error(e: impl Into<Error>) -> GuardError {
    use crmguard_core::ErrorKind as K;
    let e = e.into();
    GuardError {
        kind: match e.kind() {
            K::Invalid => WitKind::Invalid,
            K::Unauthenticated => WitKind::Unauthenticated,
            K::Forbidden => WitKind::Forbidden,
            K::NotFound => WitKind::NotFound,
            K::Integrity => WitKind::Integrity,
            K::Limit => WitKind::Limit,
            K::Internal => WitKind::Internal,
        },
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
    type LogSession = Session;

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
}

/// A chain being extended: verified once at `open`, then one record per `append`.
struct Session {
    chain: RefCell<AuditChain>,
    checkpoints: u64,
}

impl GuestLogSession for Session {
    fn open(log_id: String, jsonl: String) -> Result<WitSession, GuardError> {
        let options = RecordOptions::new(PRODUCT_VERSION, None);
        let (chain, checkpoints) = if jsonl.is_empty() {
            (AuditChain::new(&log_id, options).map_err(guard_error)?, 0)
        } else {
            let log = verified(&log_id, &jsonl, Vec::new())?;
            (AuditChain::resume(&log, options), log.checkpoints)
        };
        Ok(WitSession::new(Session {
            chain: RefCell::new(chain),
            checkpoints,
        }))
    }

    fn append(&self, event_json: String, time: u64) -> Result<String, GuardError> {
        let event: AuditEvent = serde_json::from_str(&event_json)
            .map_err(|e| guard_error(AuditError::Event(e.to_string())))?;
        let record = self
            .chain
            .borrow_mut()
            .append(&event, time)
            .map_err(guard_error)?;
        Ok(record.to_line())
    }

    fn summary(&self) -> LogSummary {
        let chain = self.chain.borrow();
        LogSummary {
            log_id: chain.log_id().to_owned(),
            size: chain.size(),
            head_hash: chain.head().to_hex(),
            checkpoints: self.checkpoints,
        }
    }
}

export!(Audit);
