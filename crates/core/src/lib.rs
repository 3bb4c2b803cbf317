//! # crmguard-core
//!
//! The one place where CRMGuard's cryptography and rules live. Everything here is pure: no
//! I/O, no clock, no randomness source of its own (entropy comes in through [`Entropy`];
//! with the default `getrandom` feature, [`SystemEntropy`] is the operating system's).
//! The same code runs natively, inside WebAssembly components, and in the npm package.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod audit;
mod context;
// The XAES helpers are used by the sealed-field code being written on main; until that
// merges they are dead code on this branch.
#[allow(dead_code)]
mod crypto;
mod error;

pub use audit::{
    Activity, Anchor, AuditChain, AuditEvent, AuditHash, AuditRecord, AuditSigningKey,
    AuditVerifyingKey, CHECKPOINT_DOMAIN, CHECKPOINT_KIND, CONSISTENCY_PROOF_KIND, ChainVerifier,
    Checkpoint, ConsistencyProof, Decision, EventActor, EventClass, EventEndpoint, EventField,
    EventResource, FieldAction, GENESIS_DOMAIN, INCLUSION_PROOF_KIND, InclusionProof,
    MAX_SAFE_INTEGER, OCSF_VERSION, Outcome, PRODUCT_NAME, PSEUDONYM_DOMAIN, ProofDocument,
    PseudonymKey, RECORD_DOMAIN, RecordActor, RecordApi, RecordEndpoint, RecordField,
    RecordMetadata, RecordOptions, RecordProduct, RecordRequest, RecordResource, RecordUser,
    SUBJECT_RESOURCE_TYPE, VerifiedLog, genesis_hash, parse_proof,
};
/// RFC 9162 Merkle tree functions over audit record hashes (leaf = `SHA-256(0x00 || hash)`).
pub mod merkle {
    pub use crate::audit::merkle::{
        MerkleFrontier, consistency_proof, empty_root, inclusion_proof, leaf_hash, node_hash,
        root_of, verify_consistency, verify_inclusion,
    };
}
pub use context::{
    FieldContext, FieldName, MAX_IDENTIFIER_LEN, ObjectType, RecordId, SubjectId, TenantId,
};
#[cfg(feature = "getrandom")]
pub use crypto::SystemEntropy;
pub use crypto::{Entropy, Key256};
pub use error::{
    AuditError, BlindIndexError, ERROR_CODES, Error, InvalidIdentifier, KeyError, KeyringError,
    SealedFieldError, SubjectError,
};
