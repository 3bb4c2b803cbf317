//! The one error type of crmguard-core.
//!
//! Every variant maps to a stable code (`ERR_...`) through [`Error::code`]. Codes are part of
//! the public API: the CLI prints them first on its error line, the npm package puts them in
//! `CrmGuardError.code`, WIT components return them in typed errors. A code, once published,
//! keeps its meaning; new codes may be added.
//!
//! Messages never contain key material, plaintext, or sealed values: at most identifiers the
//! caller already supplied (key ids, field names) and lengths.

use core::fmt;

pub mod codes;

pub use codes::{ALL as ERROR_CODES, ErrorCodeInfo, ErrorKind, TABLE as ERROR_CODE_TABLE};

/// The kind of a stable code, from [`ERROR_CODE_TABLE`]; `None` for a code not in the table
/// (e.g. one the CLI or the plugin host adds, such as `ERR_IO`).
///
/// ```
/// use crmguard_core::{ErrorKind, codes, error_kind};
///
/// assert_eq!(error_kind(codes::POLICY_DENIED), Some(ErrorKind::Forbidden));
/// assert_eq!(error_kind("ERR_NOT_A_CORE_CODE"), None);
/// ```
pub fn error_kind(code: &str) -> Option<ErrorKind> {
    ERROR_CODE_TABLE
        .iter()
        .find(|row| row.code == code)
        .map(|row| row.kind)
}

/// Everything that can go wrong in crmguard-core.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A sealed field could not be opened or parsed.
    #[error(transparent)]
    SealedField(#[from] SealedFieldError),
    /// A key was missing, destroyed, or unusable for the operation.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// A keyring (or its file form) was malformed, or could not be unlocked.
    #[error(transparent)]
    Keyring(#[from] KeyringError),
    /// A data subject's key was unknown or has been erased.
    #[error(transparent)]
    Subject(#[from] SubjectError),
    /// A context identifier (tenant, object, record, field, subject) was not acceptable.
    #[error("{0}")]
    Context(InvalidIdentifier),
    /// A record schema was not acceptable.
    #[error("record schema: {0}")]
    Schema(String),
    /// A record did not fit its schema.
    #[error("record: {0}")]
    Record(String),
    /// A blind index could not be computed for this input or configuration.
    #[error(transparent)]
    BlindIndex(#[from] BlindIndexError),
    /// The entropy source failed; nothing was sealed.
    #[error("the entropy source failed")]
    Entropy,
    /// An audit record, chain, checkpoint, proof or audit key was invalid.
    #[error(transparent)]
    Audit(#[from] AuditError),
    /// A value sealed to a tenant's public key (HPKE) could not be sealed, parsed or opened.
    #[error(transparent)]
    TenantSeal(#[from] TenantSealError),
    /// A token (JWT/JWS) or key set (JWKS) was rejected.
    #[error(transparent)]
    Token(#[from] TokenError),
    /// A policy document or authorization request was rejected, or access was denied.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// A request's caller could not be bound from its verified token, or it addresses
    /// another tenant than the caller's.
    #[error(transparent)]
    Request(#[from] RequestError),
    /// A decider's (policy plugin's) answer did not fit its request, or the sealer rendering
    /// it failed.
    #[error(transparent)]
    Decision(#[from] DecisionError),
    /// A failure crmguard-core reported inside a component (the crypto component runs core
    /// in wasm), relayed with its own code: made by [`Error::relayed`] only, so its code is
    /// always one of [`ERROR_CODES`].
    #[error("{message}")]
    Relayed {
        /// The code, one of [`ERROR_CODES`].
        code: &'static str,
        /// The component's message.
        message: String,
    },
}

impl Error {
    /// A failure a component or host service reported with `code`: relayed unchanged when
    /// `code` is one of core's (a component running core), otherwise
    /// `ERR_DECISION_SEALER` with the foreign code at the start of the message (a host
    /// fault, e.g. `ERR_PLUGIN_TRAP`), so [`Error::code`] is always one of core's.
    pub fn relayed(code: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        match ERROR_CODES.iter().find(|c| **c == code) {
            Some(code) => Error::Relayed { code, message },
            None => DecisionError::Sealer(format!("{code}: {message}")).into(),
        }
    }

    /// The stable code for this error, e.g. `ERR_SEALED_FIELD_AUTH`.
    pub fn code(&self) -> &'static str {
        match self {
            Error::SealedField(e) => e.code(),
            Error::Key(e) => e.code(),
            Error::Keyring(e) => e.code(),
            Error::Subject(e) => e.code(),
            Error::Context(_) => codes::CONTEXT_INVALID,
            Error::Schema(_) => codes::SCHEMA_INVALID,
            Error::Record(_) => codes::RECORD_INVALID,
            Error::BlindIndex(e) => e.code(),
            Error::Entropy => codes::ENTROPY,
            Error::Audit(e) => e.code(),
            Error::TenantSeal(e) => e.code(),
            Error::Token(e) => e.code(),
            Error::Policy(e) => e.code(),
            Error::Request(e) => e.code(),
            Error::Decision(e) => e.code(),
            Error::Relayed { code, .. } => code,
        }
    }

    /// What kind of failure this is: the [`ErrorKind`] of its [code](Error::code) in
    /// [`ERROR_CODE_TABLE`]. (Every variant's code is in the table, which the tests check;
    /// were one missing, that would be a bug of this crate, reported as
    /// [`ErrorKind::Internal`].)
    pub fn kind(&self) -> ErrorKind {
        error_kind(self.code()).unwrap_or(ErrorKind::Internal)
    }
}

/// Why a sealed field could not be opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SealedFieldError {
    /// Authentication failed: wrong key, wrong context (tenant, object, record, field or
    /// subject), or a modified value. Deliberately says no more than that.
    #[error("sealed field failed authentication (wrong key or context, or modified)")]
    Auth,
    /// The value is not a sealed field: wrong prefix, bad base64url, or too short.
    #[error("not a sealed field: {0}")]
    Malformed(&'static str),
    /// The value is a sealed field of a format version or suite this build does not know.
    #[error("sealed field uses an unsupported format version or suite")]
    Unsupported,
    /// The plaintext is over the 16 MiB limit for one field.
    #[error("plaintext is larger than the 16 MiB limit for one field")]
    TooLarge,
    /// The value is sealed under another kind of key (keyring or data subject) than the
    /// record schema's rule for its field says. Refused so that a value the schema puts under
    /// the subject's key cannot survive the subject's erasure by being sealed under the
    /// keyring key (the scope byte is in the clear header; this reveals nothing else).
    #[error("sealed field is under another key scope (keyring or subject) than its schema rule")]
    KeyScope,
}

impl SealedFieldError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            SealedFieldError::Auth => codes::SEALED_FIELD_AUTH,
            SealedFieldError::Malformed(_) => codes::SEALED_FIELD_MALFORMED,
            SealedFieldError::Unsupported => codes::SEALED_FIELD_UNSUPPORTED,
            SealedFieldError::TooLarge => codes::SEALED_FIELD_TOO_LARGE,
            SealedFieldError::KeyScope => codes::SEALED_FIELD_KEY_SCOPE,
        }
    }
}

/// Key problems.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// No key with this id is in the keyring.
    #[error("no key with id {0} in the keyring")]
    NotFound(u32),
    /// The key existed but its material was destroyed.
    #[error("key {0} has been destroyed")]
    Destroyed(u32),
    /// Key material of the wrong length or encoding.
    #[error("key material must be {expected} bytes")]
    BadLength {
        /// The required length in bytes.
        expected: usize,
    },
}

impl KeyError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            KeyError::NotFound(_) => codes::KEY_NOT_FOUND,
            KeyError::Destroyed(_) => codes::KEY_DESTROYED,
            KeyError::BadLength { .. } => codes::KEY_INVALID,
        }
    }
}

/// Keyring problems.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyringError {
    /// The keyring document is not valid (bad JSON, unknown version, inconsistent content).
    #[error("keyring is malformed: {0}")]
    Malformed(String),
    /// The protected keyring could not be unlocked: wrong master key, or the file was modified.
    #[error("keyring could not be unlocked (wrong master key, or the file was modified)")]
    Auth,
    /// The master key is missing or not 32 bytes of base64.
    #[error("master key: {0}")]
    MasterKey(String),
    /// A cleartext keyring was read or requested without explicitly allowing it.
    #[error(
        "keyring is stored in cleartext; refusing without the explicit insecure-cleartext option"
    )]
    Cleartext,
    /// A cleartext keyring file was given to a caller that supplied a master key: the caller
    /// expects a protected file, so a cleartext one is a substitution, whatever the cleartext
    /// policy says.
    #[error("keyring is stored in cleartext, but a master key was supplied; refusing")]
    CleartextWithMasterKey,
    /// The keyring file is another keyring than the caller expects (another keyring id), or
    /// carries no authenticated identity (a v1 file) while one is expected.
    #[error("keyring file is not the expected keyring: {0}")]
    Identity(&'static str),
    /// The keyring file is older than the caller has already seen: its generation is below
    /// the expected minimum (an old copy would bring back erased subjects and destroyed keys).
    #[error("keyring file is generation {found}, older than the expected minimum {min}")]
    Rollback {
        /// The generation in the file.
        found: u64,
        /// The lowest generation the caller accepts.
        min: u64,
    },
    /// The operation would leave the keyring unusable (e.g. destroying the primary key).
    #[error("keyring operation refused: {0}")]
    Refused(&'static str),
}

impl KeyringError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            KeyringError::Malformed(_) => codes::KEYRING_MALFORMED,
            KeyringError::Auth => codes::KEYRING_AUTH,
            KeyringError::MasterKey(_) => codes::KEYRING_MASTER_KEY,
            KeyringError::Cleartext | KeyringError::CleartextWithMasterKey => {
                codes::KEYRING_CLEARTEXT
            }
            KeyringError::Identity(_) => codes::KEYRING_IDENTITY,
            KeyringError::Rollback { .. } => codes::KEYRING_ROLLBACK,
            KeyringError::Refused(_) => codes::KEYRING_REFUSED,
        }
    }
}

/// Data-subject key problems.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SubjectError {
    /// The subject's key was erased: everything sealed under it is unrecoverable.
    #[error("the data subject has been forgotten; fields sealed under its key cannot be opened")]
    Forgotten,
    /// The keyring holds no key for this subject.
    #[error("no key for this data subject")]
    NotFound,
    /// The field is sealed under a subject key, but no subject was given in the context.
    #[error("this field is sealed under a data-subject key; the subject id is required")]
    Required,
}

impl SubjectError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            SubjectError::Forgotten => codes::SUBJECT_FORGOTTEN,
            SubjectError::NotFound => codes::SUBJECT_NOT_FOUND,
            SubjectError::Required => codes::SUBJECT_REQUIRED,
        }
    }
}

/// Blind-index problems.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BlindIndexError {
    /// The normaliser rejected the input (e.g. a phone number without digits).
    #[error("blind index input rejected by the {0} normaliser")]
    Input(&'static str),
    /// The configuration is invalid (e.g. a bit length outside 8..=256).
    #[error("blind index configuration: {0}")]
    Config(String),
}

impl BlindIndexError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            BlindIndexError::Input(_) => codes::BLIND_INDEX_INPUT,
            BlindIndexError::Config(_) => codes::BLIND_INDEX_CONFIG,
        }
    }
}

/// Why a value sealed to a tenant's public key (HPKE, `cgh1:`) could not be sealed or opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TenantSealError {
    /// Authentication failed: wrong private key, wrong context, or a modified value.
    /// Deliberately says no more than that.
    #[error("tenant-sealed value failed authentication (wrong key or context, or modified)")]
    Auth,
    /// The value is not a tenant-sealed value: wrong prefix, bad base64url, or too short.
    #[error("not a tenant-sealed value: {0}")]
    Malformed(&'static str),
    /// The value uses a format version or HPKE suite this build does not know.
    #[error("tenant-sealed value uses an unsupported format version or suite")]
    Unsupported,
    /// A tenant public or private key was not 32 bytes, or not usable for X25519
    /// (e.g. a low-order public key).
    #[error("tenant key must be a usable 32-byte X25519 key")]
    KeyInvalid,
    /// A value sealed to a tenant that has no tenant key where it is opened.
    #[error("a tenant-sealed value for a tenant without a tenant key here")]
    KeyMissing,
}

impl TenantSealError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            TenantSealError::Auth => codes::TENANT_SEALED_AUTH,
            TenantSealError::Malformed(_) => codes::TENANT_SEALED_MALFORMED,
            TenantSealError::Unsupported => codes::TENANT_SEALED_UNSUPPORTED,
            TenantSealError::KeyInvalid => codes::TENANT_KEY_INVALID,
            TenantSealError::KeyMissing => codes::TENANT_KEY_MISSING,
        }
    }
}

/// Why an audit log, record, checkpoint, proof or audit key was rejected.
///
/// Chain errors carry the first sequence number at which the log differs from a valid log
/// (`seq`) and a fixed reason; `Display` is `seq N: reason`, which the CLI prints after the code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// A record's `hash` does not match its content, or its `prev_hash` does not match the
    /// previous record's hash (or the genesis value for seq 0).
    #[error("seq {seq}: {reason}")]
    Hash {
        /// The first bad sequence number.
        seq: u64,
        /// Why.
        reason: String,
    },
    /// A record's `seq` is not the next one: a record was deleted, inserted, duplicated or
    /// moved.
    #[error("seq {seq}: {reason}")]
    Seq {
        /// The first bad sequence number (the position where another record was expected).
        seq: u64,
        /// Why.
        reason: String,
    },
    /// A checkpoint's signature does not verify, or it names a key that is not trusted.
    #[error("seq {seq}: {reason}")]
    Signature {
        /// The sequence number the checkpoint follows (its size).
        seq: u64,
        /// Why.
        reason: String,
    },
    /// The log holds fewer records than a checkpoint (in the log, its head file, or given as
    /// an anchor) covers: records were removed from the end.
    #[error("seq {seq}: {reason}")]
    Truncated {
        /// The first missing sequence number.
        seq: u64,
        /// Why.
        reason: String,
    },
    /// A correctly signed checkpoint does not match the records it covers (different head or
    /// Merkle root, another log, or out of place).
    #[error("seq {seq}: {reason}")]
    Checkpoint {
        /// The last sequence number the checkpoint covers, or where it was found.
        seq: u64,
        /// Why.
        reason: String,
    },
    /// A line, record, checkpoint or proof document is not well formed (bad JSON, unknown or
    /// missing members, not in canonical form, out-of-range numbers).
    #[error("seq {seq}: {reason}")]
    Malformed {
        /// The sequence number expected at this line.
        seq: u64,
        /// Why.
        reason: String,
    },
    /// The last line of the log is incomplete (a write torn by a crash). Opening the log for
    /// writing cuts it away; a verifier reports it.
    #[error("seq {seq}: incomplete last line ({bytes} bytes without a newline; a torn write)")]
    TornTail {
        /// The sequence number the torn line would have had.
        seq: u64,
        /// The number of bytes after the last newline.
        bytes: u64,
    },
    /// An inclusion or consistency proof does not verify.
    #[error("proof: {0}")]
    Proof(String),
    /// An audit signing or verifying key (or its file) is malformed.
    #[error("audit key: {0}")]
    Key(String),
    /// An audit event cannot be recorded (bad identifier, activity not valid for its class).
    #[error("audit event: {0}")]
    Event(String),
    /// Another writer holds the log's lock.
    #[error("the audit log is locked by another writer")]
    Locked,
    /// The options pseudonymise actors or data subjects but hold no pseudonym key: the event
    /// is refused rather than written with the identifier in clear.
    #[error("pseudonymisation is on but no pseudonym key is given; nothing was written")]
    PseudonymKey,
}

impl AuditError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            AuditError::Hash { .. } => codes::AUDIT_HASH,
            AuditError::Seq { .. } => codes::AUDIT_SEQ,
            AuditError::Signature { .. } => codes::AUDIT_SIGNATURE,
            AuditError::Truncated { .. } => codes::AUDIT_TRUNCATED,
            AuditError::Checkpoint { .. } => codes::AUDIT_CHECKPOINT,
            AuditError::Malformed { .. } => codes::AUDIT_MALFORMED,
            AuditError::TornTail { .. } => codes::AUDIT_TORN,
            AuditError::Proof(_) => codes::AUDIT_PROOF,
            AuditError::Key(_) => codes::AUDIT_KEY,
            AuditError::Event(_) => codes::AUDIT_EVENT,
            AuditError::Locked => codes::AUDIT_LOCKED,
            AuditError::PseudonymKey => codes::AUDIT_PSEUDONYM_KEY,
        }
    }

    /// The sequence number a chain error refers to, if it has one.
    pub fn seq(&self) -> Option<u64> {
        match self {
            AuditError::Hash { seq, .. }
            | AuditError::Seq { seq, .. }
            | AuditError::Signature { seq, .. }
            | AuditError::Truncated { seq, .. }
            | AuditError::Checkpoint { seq, .. }
            | AuditError::Malformed { seq, .. }
            | AuditError::TornTail { seq, .. } => Some(*seq),
            AuditError::Proof(_)
            | AuditError::Key(_)
            | AuditError::Event(_)
            | AuditError::Locked
            | AuditError::PseudonymKey => None,
        }
    }
}

/// Why a token or a key set was rejected.
///
/// Messages name the rule that failed, never key bytes, signatures or the token itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// The token is longer than the configured limit (checked before any parsing).
    #[error("token is longer than {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// Not a compact JWS of three segments of canonical base64url, or a header or payload
    /// that is not a JSON object (duplicate members included). JWE (five segments) lands here.
    #[error("malformed token: {0}")]
    Malformed(&'static str),
    /// The header's `alg` is `none`, unknown, not spelled exactly, or not the algorithm the
    /// selected key is fixed to.
    #[error("algorithm not allowed: {0}")]
    AlgNotAllowed(&'static str),
    /// The header names a key source (`jwk`, `jku`, `x5u`, `x5c`); keys only come from the
    /// configured key set.
    #[error("the header carries a key source ({0}); keys come only from the configured key set")]
    KeyInHeader(&'static str),
    /// The header has a `crit` member: no critical extension is understood.
    #[error("unsupported critical header parameter(s) (crit)")]
    Crit,
    /// The header asks for an unencoded payload (`b64` other than `true`, RFC 7797).
    #[error("unencoded payloads (b64: false) are not accepted")]
    UnencodedPayload,
    /// The signature or MAC did not verify under the selected key (also: an ECDSA signature
    /// that is not the JOSE `r || s` form of the right length).
    #[error("signature verification failed")]
    Signature,
    /// No key in the set matches: unknown `kid`, or no `kid` and not exactly one usable key.
    #[error("no matching key: {0}")]
    NoMatchingKey(&'static str),
    /// The key set is not acceptable: malformed JSON, invalid key, private key material,
    /// duplicate `kid`, symmetric and asymmetric keys mixed.
    #[error("invalid key set: {0}")]
    KeySetInvalid(String),
    /// A key in the set is too weak: RSA under 2048 bits (or a ROCA-vulnerable modulus),
    /// an HMAC secret shorter than its hash output (32, 48 or 64 bytes).
    #[error("weak key in key set: {0}")]
    WeakKey(String),
    /// `exp` has passed (beyond the leeway; `claim` is `exp`), or the token is older than the
    /// maximum age (`claim` is `iat`). Its [`reason`](TokenError::reason) is `check_failed`.
    #[error("token expired: {}", expired_message(claim))]
    Expired {
        /// The claim whose check failed: `exp` or `iat`.
        claim: &'static str,
    },
    /// A claim (or the `typ` header, which jose also reports this way) is missing, not of its
    /// type, or fails its check: `nbf` or `iat` in the future, `iss` or `aud` not allowed,
    /// `typ` naming another kind of token than the options accept.
    #[error("{}", claim_message(claim, *reason))]
    Claim {
        /// The claim (or header parameter): `exp`, `nbf`, `iat`, `iss`, `aud` or `typ`.
        claim: &'static str,
        /// Why it failed.
        reason: ClaimReason,
    },
    /// The verification options cannot be applied (e.g. no issuer configured, none waived).
    #[error("verification options: {0}")]
    Options(&'static str),
}

impl TokenError {
    /// The stable code (jose's name where jose has one).
    pub fn code(&self) -> &'static str {
        match self {
            TokenError::TooLarge { .. } => codes::JWT_TOO_LARGE,
            TokenError::Malformed(_) => codes::JWT_INVALID,
            TokenError::AlgNotAllowed(_) => codes::JOSE_ALG_NOT_ALLOWED,
            TokenError::KeyInHeader(_) => codes::JWS_KEY_IN_HEADER,
            TokenError::Crit => codes::JWS_CRIT,
            TokenError::UnencodedPayload => codes::JWS_B64,
            TokenError::Signature => codes::JWS_SIGNATURE_VERIFICATION_FAILED,
            TokenError::NoMatchingKey(_) => codes::JWKS_NO_MATCHING_KEY,
            TokenError::KeySetInvalid(_) => codes::JWKS_INVALID,
            TokenError::WeakKey(_) => codes::JWKS_WEAK_KEY,
            TokenError::Expired { .. } => codes::JWT_EXPIRED,
            TokenError::Claim { .. } => codes::JWT_CLAIM_VALIDATION_FAILED,
            TokenError::Options(_) => codes::JWT_OPTIONS,
        }
    }

    /// The claim that failed (as jose's `claim`), for `ERR_JWT_CLAIM_VALIDATION_FAILED` and
    /// `ERR_JWT_EXPIRED`; `None` for every other error.
    pub fn claim(&self) -> Option<&'static str> {
        match self {
            TokenError::Expired { claim } | TokenError::Claim { claim, .. } => Some(*claim),
            _ => None,
        }
    }

    /// Why the claim failed (as jose's `reason`: `missing`, `invalid` or `check_failed`), for
    /// the same errors as [`TokenError::claim`].
    pub fn reason(&self) -> Option<&'static str> {
        match self {
            TokenError::Expired { .. } => Some(ClaimReason::CheckFailed.as_str()),
            TokenError::Claim { reason, .. } => Some(reason.as_str()),
            _ => None,
        }
    }

    /// A claim that is missing.
    pub(crate) fn missing(claim: &'static str) -> Self {
        TokenError::Claim {
            claim,
            reason: ClaimReason::Missing,
        }
    }

    /// A claim of the wrong type.
    pub(crate) fn invalid(claim: &'static str) -> Self {
        TokenError::Claim {
            claim,
            reason: ClaimReason::Invalid,
        }
    }

    /// A claim whose check failed.
    pub(crate) fn check_failed(claim: &'static str) -> Self {
        TokenError::Claim {
            claim,
            reason: ClaimReason::CheckFailed,
        }
    }
}

/// Why a claim was refused ([`TokenError::Claim`]), with jose's `reason` strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ClaimReason {
    /// A required claim is absent (`"missing"`).
    Missing,
    /// The claim is not of its type, e.g. `exp` that is not a number (`"invalid"`).
    Invalid,
    /// The claim is well formed but fails its check, e.g. `aud` naming no allowed audience
    /// (`"check_failed"`).
    CheckFailed,
}

impl ClaimReason {
    /// jose's `reason` string: `missing`, `invalid` or `check_failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            ClaimReason::Missing => "missing",
            ClaimReason::Invalid => "invalid",
            ClaimReason::CheckFailed => "check_failed",
        }
    }
}

impl fmt::Display for ClaimReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn expired_message(claim: &str) -> &'static str {
    if claim == "iat" {
        "iat is older than the maximum token age"
    } else {
        "exp has passed"
    }
}

fn claim_message(claim: &str, reason: ClaimReason) -> String {
    match (reason, claim) {
        (ClaimReason::Missing, _) => format!("required claim missing: {claim}"),
        (ClaimReason::Invalid, _) => format!("invalid claim: {claim} has the wrong type"),
        (ClaimReason::CheckFailed, "nbf") => "token not yet valid: nbf is in the future".into(),
        (ClaimReason::CheckFailed, "iat") => "token not yet valid: iat is in the future".into(),
        (ClaimReason::CheckFailed, "aud") => "audience not allowed".into(),
        (ClaimReason::CheckFailed, "iss") => "issuer not allowed".into(),
        (ClaimReason::CheckFailed, "typ") => "token type (typ) not accepted".into(),
        (ClaimReason::CheckFailed, _) => format!("claim check failed: {claim}"),
    }
}

/// Why a policy document or an authorization request was rejected, or why a decision could
/// not be applied. (A deny is a [`crate::PolicyDecision`], not an error; applying a deny is.)
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The policy document is not valid (bad JSON, unknown member, inconsistent content).
    #[error("invalid policy: {0}")]
    Invalid(String),
    /// The authorization request is not valid (bad JSON, unknown action, bad identifier).
    #[error("invalid authorization request: {0}")]
    Request(String),
    /// A deny decision was applied to a record: nothing is visible.
    #[error("access denied: {0}")]
    Denied(String),
    /// The record belongs to another tenant than the decision.
    #[error("the record belongs to another tenant")]
    TenantMismatch,
}

impl PolicyError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            PolicyError::Invalid(_) => codes::POLICY_INVALID,
            PolicyError::Request(_) => codes::POLICY_REQUEST_INVALID,
            PolicyError::Denied(_) => codes::POLICY_DENIED,
            PolicyError::TenantMismatch => codes::POLICY_TENANT_MISMATCH,
        }
    }
}

/// Why a request's caller could not be bound ([`crate::Principal::from_verified`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// The verified token has no `sub` (a non-empty string).
    #[error("the token names no subject (sub)")]
    SubjectClaim,
    /// The verified token has no tenant claim, or it is not a valid tenant id.
    #[error("the token names no valid tenant")]
    TenantClaim,
    /// The token's tenant is not one the deployment serves (tenants are bound to issuers).
    #[error("the token's tenant is not served here")]
    UnknownTenant,
    /// The token's issuer is not an identity provider of the tenant it names.
    #[error("the token's issuer does not speak for the tenant it names")]
    TenantIssuer,
    /// The request addresses another tenant than the caller's own.
    #[error("the request addresses another tenant than the caller's")]
    TenantMismatch,
}

impl RequestError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            RequestError::SubjectClaim => codes::REQUEST_SUBJECT_CLAIM,
            RequestError::TenantClaim => codes::REQUEST_TENANT_CLAIM,
            RequestError::UnknownTenant => codes::REQUEST_TENANT_UNKNOWN,
            RequestError::TenantIssuer => codes::REQUEST_TENANT_ISSUER,
            RequestError::TenantMismatch => codes::REQUEST_TENANT_MISMATCH,
        }
    }
}

/// Why a decider's answer was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecisionError {
    /// Over a bound, a field the request does not have or named twice, a value that is not
    /// JSON, a sealed value that is not a sealed field, or a deny without a stable code.
    #[error("decision: {0}")]
    Invalid(String),
    /// The sealer rendering the decision (a crypto component) failed for a reason of its
    /// host: the message starts with the host's code.
    #[error("sealer: {0}")]
    Sealer(String),
}

impl DecisionError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            DecisionError::Invalid(_) => codes::DECISION_INVALID,
            DecisionError::Sealer(_) => codes::DECISION_SEALER,
        }
    }
}

/// An identifier (tenant, object type, record id, field name, subject id) that was empty, too
/// long, or held control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidIdentifier {
    pub(crate) kind: &'static str,
    pub(crate) reason: &'static str,
}

impl fmt::Display for InvalidIdentifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid {}: {}", self.kind, self.reason)
    }
}

impl std::error::Error for InvalidIdentifier {}

impl From<InvalidIdentifier> for Error {
    fn from(e: InvalidIdentifier) -> Self {
        Error::Context(e)
    }
}

#[cfg(test)]
mod tests;
