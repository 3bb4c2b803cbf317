//! Tamper-evident audit records.
//!
//! - [`AuditEvent`]: what the caller reports (who, what, which records and fields, outcome).
//! - [`AuditChain`]: turns events into OCSF-shaped [`AuditRecord`]s, each holding its `seq`,
//!   the previous record's hash and its own hash over its canonical (RFC 8785) form, and signs
//!   [`Checkpoint`]s (size, head hash, RFC 9162 Merkle root; Ed25519).
//! - [`ChainVerifier`]: replays a log's lines, reports the first bad `seq` with a stable code.
//! - [`InclusionProof`], [`ConsistencyProof`]: prove one record is in a checkpointed log, or
//!   that one checkpoint extends another, without shipping the log.
//!
//! Everything here is pure: time is a parameter, keys come in as bytes, lines come in and go
//! out as strings. The byte formats are specified in docs/AUDIT.md.

mod chain;
mod checkpoint;
mod event;
mod hash;
mod keys;
pub(crate) mod merkle;
mod proof;
mod record;
mod verify;

pub use chain::{AuditChain, RecordOptions, SUBJECT_RESOURCE_TYPE};
pub use checkpoint::{CHECKPOINT_DOMAIN, CHECKPOINT_KIND, Checkpoint};
pub use event::{
    Activity, AuditEvent, AuditFieldAction, Decision, EventActor, EventClass, EventEndpoint,
    EventField, EventResource, Outcome,
};
pub use hash::AuditHash;
pub use keys::{AuditSigningKey, AuditVerifyingKey, PSEUDONYM_DOMAIN, PseudonymKey};
pub use proof::{
    CONSISTENCY_PROOF_KIND, ConsistencyProof, INCLUSION_PROOF_KIND, InclusionProof, ProofDocument,
    parse_proof,
};
pub use record::{
    AuditRecord, GENESIS_DOMAIN, MAX_SAFE_INTEGER, OCSF_VERSION, PRODUCT_NAME, RECORD_DOMAIN,
    RecordActor, RecordApi, RecordEndpoint, RecordField, RecordMetadata, RecordProduct,
    RecordRequest, RecordResource, RecordUser, genesis_hash,
};
pub use verify::{Anchor, ChainVerifier, VerifiedLog, is_checkpoint_line};
