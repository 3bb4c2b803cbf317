//! # crmguard-core
//!
//! The one place where CRMGuard's cryptography and rules live. Everything here is pure: no
//! I/O, no clock, no randomness source of its own (entropy comes in through [`Entropy`];
//! with the default `getrandom` feature, [`SystemEntropy`] is the operating system's).
//! The same code runs natively, inside WebAssembly components, and in the npm package.
//!
//! - [`Keyring`]: versioned data keys with one primary, rotation, per-subject keys
//!   (crypto-shredding), stored sealed under a master key.
//! - [`SealedField`]: one value sealed with XAES-256-GCM and bound to its [`FieldContext`]
//!   (tenant, object, record, field, subject).
//! - [`RecordSchema`]: seal and open whole JSON records, with blind indexes
//!   ([`BlindIndexSpec`]) for equality search.
//! - [`seal_to_tenant`] / [`open_from_tenant`]: HPKE (RFC 9180) sealing to a tenant's
//!   public key ([`TenantPublicKey`]), so a browser can seal a field only the server opens.
//!
//! ```
//! use crmguard_core::{FieldContext, Keyring, SystemEntropy};
//!
//! let keyring = Keyring::generate(&mut SystemEntropy, 1_764_400_000)?;
//! let ctx = FieldContext::new("acme", "contact", "0042", "email")?;
//! let text = keyring.seal(&ctx, b"ada@example.com")?.to_text();
//! assert_eq!(keyring.open_text(&ctx, &text)?, b"ada@example.com");
//! # Ok::<(), crmguard_core::Error>(())
//! ```
//!
//! Every error has a stable code ([`Error::code`]), a constant in [`codes`]; see
//! [`ERROR_CODES`] and [`ERROR_CODE_TABLE`] (with meanings), and `docs/ERRORS.md`. Every code
//! has an [`ErrorKind`] ([`Error::kind`], [`error_kind`]): what the caller can do about it.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod audit;
mod blind;
mod context;
mod crypto;
mod error;
mod keyring;
mod policy;
mod record;
mod sealed;
mod tenant;
mod token;

pub use audit::{
    Activity, Anchor, AuditChain, AuditEvent, AuditFieldAction, AuditHash, AuditRecord,
    AuditSigningKey, AuditVerifyingKey, CHECKPOINT_DOMAIN, CHECKPOINT_KIND, CONSISTENCY_PROOF_KIND,
    ChainVerifier, Checkpoint, ConsistencyProof, Decision, EventActor, EventClass, EventEndpoint,
    EventField, EventResource, GENESIS_DOMAIN, INCLUSION_PROOF_KIND, InclusionProof,
    MAX_SAFE_INTEGER, OCSF_VERSION, Outcome, PRODUCT_NAME, PSEUDONYM_DOMAIN, ProofDocument,
    PseudonymKey, RECORD_DOMAIN, RecordActor, RecordApi, RecordEndpoint, RecordField,
    RecordMetadata, RecordOptions, RecordProduct, RecordRequest, RecordResource, RecordUser,
    SUBJECT_RESOURCE_TYPE, VerifiedLog, genesis_hash, is_checkpoint_line, parse_proof,
};
/// RFC 9162 Merkle tree functions over audit record hashes (leaf = `SHA-256(0x00 || hash)`).
pub mod merkle {
    pub use crate::audit::merkle::{
        Leaves, MerkleFrontier, SubtreeRoots, consistency_path, consistency_proof, empty_root,
        inclusion_path, inclusion_proof, leaf_hash, node_hash, root_of, split, verify_consistency,
        verify_inclusion,
    };
}
pub use blind::{BlindIndex, BlindIndexScope, BlindIndexSpec, Normalizer};
pub use context::{
    ActionName, FieldContext, FieldName, MAX_IDENTIFIER_LEN, ObjectType, RecordId, SubjectId,
    TenantId,
};
#[cfg(feature = "getrandom")]
pub use crypto::SystemEntropy;
pub use crypto::{Entropy, Key256};
pub use error::codes;
pub use error::{
    AuditError, BlindIndexError, ClaimReason, DecisionError, ERROR_CODE_TABLE, ERROR_CODES, Error,
    ErrorCodeInfo, ErrorKind, InvalidIdentifier, KeyError, KeyringError, PolicyError, RequestError,
    SealedFieldError, SubjectError, TenantSealError, TokenError, error_kind,
};
pub use keyring::{
    CleartextPolicy, ExpectedKeyring, ForgetOutcome, GcmStep, KEYRING_FORMAT, KeyInfo, KeyStatus,
    Keyring, KeyringFileOptions, KeyringId, PendingSeal, parse_master_key,
};
pub use policy::{
    Action, AuthorizationRequest, CallerCondition, ClaimNames, ClassRule, Classification,
    DecisionReason, Effect, FieldRules, FieldSpec, FieldVisibility, MAX_POLICY_LEN, MaskStyle,
    ObjectSpec, Policy, PolicyDecision, PolicyDocument, PolicyRule, ReasonKind, Treatment,
    mask_value,
};
pub use record::{
    FieldAction, FieldRule, KeyScope, OpenRecordOptions, RecordSchema, RecordSchemaDocument,
    RecordTarget, UnknownFields, plaintext_to_value, value_to_plaintext,
};
/// The request path: bind the caller, decide, audit, answer ([`request::Pipeline`]).
pub mod request;
pub use request::{Principal, TenantIssuers, UnixTime};
pub use sealed::{
    ContentType, KeyId, KeyRef, MAX_PLAINTEXT_LEN, SEALED_OVERHEAD, SealedField, TEXT_PREFIX,
};
pub use tenant::{
    TENANT_SEALED_OVERHEAD, TENANT_SEALED_PREFIX, TenantPublicKey, TenantSealed, TenantSecretKey,
    open_from_tenant, seal_to_tenant,
};
pub use token::{
    Algorithm, DEFAULT_LEEWAY_SECS, DEFAULT_MAX_TOKEN_LEN, KeySet, MAX_KEY_SET_LEN,
    MAX_LEEWAY_SECS, TokenType, VerificationOptions, VerifiedClaims, VerifiedJws, Waivers,
    claim_names,
};
