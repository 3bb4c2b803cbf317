//! Every stable error code of crmguard-core, as constants.
//!
//! The table below is the one place a code is written down: it generates these constants,
//! [`ALL`] (re-exported as `crmguard_core::ERROR_CODES`), [`TABLE`] (the same codes with
//! their family, [`ErrorKind`] and meaning, re-exported as `crmguard_core::ERROR_CODE_TABLE`),
//! and, through `cargo xtask codes`, `docs/ERRORS.md` and the npm package's `js/codes.d.ts`.
//! Every `code()` method of the error types returns one of these constants.
//!
//! ```
//! use crmguard_core::{ErrorKind, SealedFieldError, codes};
//!
//! let e = crmguard_core::Error::from(SealedFieldError::Auth);
//! assert_eq!(e.code(), codes::SEALED_FIELD_AUTH);
//! assert!(crmguard_core::ERROR_CODES.contains(&codes::SEALED_FIELD_AUTH));
//! assert_eq!(e.kind(), ErrorKind::Integrity);
//! assert_eq!(crmguard_core::error_kind("ERR_SEALED_FIELD_AUTH"), Some(ErrorKind::Integrity));
//! ```

/// What kind of failure a stable code is: what the caller can do about it.
///
/// Every row of [`TABLE`] has one, so adapters (the HTTP status of `crmguard serve`, the
/// `error-kind` of the component interfaces, JS callers) classify a failure from the table
/// instead of matching code prefixes. Serialises as its [`as_str`](ErrorKind::as_str) name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    /// Malformed input or input that breaks a rule: fix the input. (HTTP 400)
    Invalid,
    /// A credential (token, signature, key set match) is missing, malformed or not trusted.
    /// (401)
    Unauthenticated,
    /// The caller is known but may not do this: another tenant, a denied policy, a refused
    /// capability. (403)
    Forbidden,
    /// A named thing (key, subject, tenant, plugin, file) does not exist or was destroyed.
    /// (404)
    NotFound,
    /// Sealed data, a keyring or a log failed authentication or verification: tampering, or
    /// the wrong key. (422)
    Integrity,
    /// A size, time, memory or budget bound was hit. (413/429-like; the service uses 413)
    Limit,
    /// A fault of the environment or of a component, not of the caller's input (I/O, a
    /// trap). (500/503)
    Internal,
}

impl ErrorKind {
    /// Every kind, in declaration order.
    pub const ALL: &'static [ErrorKind] = &[
        ErrorKind::Invalid,
        ErrorKind::Unauthenticated,
        ErrorKind::Forbidden,
        ErrorKind::NotFound,
        ErrorKind::Integrity,
        ErrorKind::Limit,
        ErrorKind::Internal,
    ];

    /// The kebab-case name (`invalid`, `unauthenticated`, `forbidden`, `not-found`,
    /// `integrity`, `limit`, `internal`), as serialised (kebab-case, as WIT spells enum cases).
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Invalid => "invalid",
            ErrorKind::Unauthenticated => "unauthenticated",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::NotFound => "not-found",
            ErrorKind::Integrity => "integrity",
            ErrorKind::Limit => "limit",
            ErrorKind::Internal => "internal",
        }
    }
}

impl core::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One row of [`TABLE`]: a stable code, the constant that holds it, its kind, and what it
/// means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorCodeInfo {
    /// The family the code belongs to, as headed in `docs/ERRORS.md` (e.g. `KEYRING`).
    pub family: &'static str,
    /// The name of its constant in this module (e.g. `KEYRING_AUTH`).
    pub name: &'static str,
    /// The code itself (e.g. `ERR_KEYRING_AUTH`).
    pub code: &'static str,
    /// What kind of failure it is (e.g. [`ErrorKind::Integrity`]).
    pub kind: ErrorKind,
    /// What it means, in one line.
    pub meaning: &'static str,
}

/// Generates the constants, [`ALL`] and [`TABLE`] from one list, grouped by family. A row is
/// `NAME = "ERR_NAME" [Kind]: "meaning";`, where `Kind` is an [`ErrorKind`] variant.
macro_rules! error_codes {
    ($( $family:literal {
        $( $name:ident = $code:literal [$kind:ident] : $meaning:literal ; )+
    } )+) => {
        $( $(
            #[doc = concat!("`", $code, "` (", stringify!($kind), "): ", $meaning)]
            pub const $name: &str = $code;
        )+ )+

        /// Every stable code crmguard-core can return, in table order.
        pub const ALL: &[&str] = &[$( $( $name, )+ )+];

        /// Every stable code with its family, kind and meaning, in table order (families are
        /// contiguous).
        pub const TABLE: &[ErrorCodeInfo] = &[$( $(
            ErrorCodeInfo {
                family: $family,
                name: stringify!($name),
                code: $name,
                kind: ErrorKind::$kind,
                meaning: $meaning,
            },
        )+ )+];
    };
}

error_codes! {
    "SEALED_FIELD" {
        SEALED_FIELD_AUTH = "ERR_SEALED_FIELD_AUTH" [Integrity]:
            "a sealed field failed authentication: wrong key, wrong context, or modified";
        SEALED_FIELD_MALFORMED = "ERR_SEALED_FIELD_MALFORMED" [Invalid]:
            "not a sealed field: wrong prefix, bad base64url, or too short";
        SEALED_FIELD_UNSUPPORTED = "ERR_SEALED_FIELD_UNSUPPORTED" [Invalid]:
            "a sealed field of a format version or suite this build does not know";
        SEALED_FIELD_TOO_LARGE = "ERR_SEALED_FIELD_TOO_LARGE" [Limit]:
            "the plaintext is over the 16 MiB limit for one field";
        SEALED_FIELD_KEY_SCOPE = "ERR_SEALED_FIELD_KEY_SCOPE" [Invalid]:
            "a value sealed under another key scope (keyring or subject) than its schema rule";
    }
    "KEY" {
        KEY_NOT_FOUND = "ERR_KEY_NOT_FOUND" [NotFound]: "no key with this id in the keyring";
        KEY_DESTROYED = "ERR_KEY_DESTROYED" [NotFound]:
            "the key existed but its material was destroyed";
        KEY_INVALID = "ERR_KEY_INVALID" [Invalid]: "key material of the wrong length or encoding";
    }
    "KEYRING" {
        KEYRING_MALFORMED = "ERR_KEYRING_MALFORMED" [Invalid]:
            "the keyring document is not valid (bad JSON, unknown version, inconsistent content)";
        KEYRING_AUTH = "ERR_KEYRING_AUTH" [Integrity]:
            "the protected keyring could not be unlocked: wrong master key, or a modified file";
        KEYRING_MASTER_KEY = "ERR_KEYRING_MASTER_KEY" [Invalid]:
            "the master key is missing or not 32 bytes of base64";
        KEYRING_CLEARTEXT = "ERR_KEYRING_CLEARTEXT" [Invalid]:
            "a cleartext keyring without the explicit insecure-cleartext option, or with a master key";
        KEYRING_IDENTITY = "ERR_KEYRING_IDENTITY" [Integrity]:
            "the keyring file is another keyring than expected, or carries no identity";
        KEYRING_ROLLBACK = "ERR_KEYRING_ROLLBACK" [Integrity]:
            "the keyring file is older than the expected minimum generation";
        KEYRING_REFUSED = "ERR_KEYRING_REFUSED" [Invalid]:
            "the operation would leave the keyring unusable (e.g. destroying the primary key)";
    }
    "SUBJECT" {
        SUBJECT_FORGOTTEN = "ERR_SUBJECT_FORGOTTEN" [NotFound]:
            "the data subject's key was erased; what was sealed under it cannot be opened";
        SUBJECT_NOT_FOUND = "ERR_SUBJECT_NOT_FOUND" [NotFound]:
            "the keyring holds no key for this subject";
        SUBJECT_REQUIRED = "ERR_SUBJECT_REQUIRED" [Invalid]:
            "the field is sealed under a subject key, but no subject was given";
    }
    "RECORD" {
        CONTEXT_INVALID = "ERR_CONTEXT_INVALID" [Invalid]:
            "a tenant, object, record, field or subject id that is empty, too long, or has control characters";
        SCHEMA_INVALID = "ERR_SCHEMA_INVALID" [Invalid]: "a record schema that is not acceptable";
        RECORD_INVALID = "ERR_RECORD_INVALID" [Invalid]: "a record that does not fit its schema";
    }
    "BLIND_INDEX" {
        BLIND_INDEX_INPUT = "ERR_BLIND_INDEX_INPUT" [Invalid]:
            "the normaliser rejected the input (e.g. a phone number without digits)";
        BLIND_INDEX_CONFIG = "ERR_BLIND_INDEX_CONFIG" [Invalid]:
            "an invalid blind index configuration (e.g. a bit length outside 8..=256)";
    }
    "ENTROPY" {
        ENTROPY = "ERR_ENTROPY" [Internal]: "the entropy source failed; nothing was sealed";
    }
    "AUDIT" {
        AUDIT_HASH = "ERR_AUDIT_HASH" [Integrity]:
            "a record's hash does not match its content, or its prev_hash the previous record";
        AUDIT_SEQ = "ERR_AUDIT_SEQ" [Integrity]:
            "a record's seq is not the next one (deleted, inserted, duplicated or moved)";
        AUDIT_SIGNATURE = "ERR_AUDIT_SIGNATURE" [Integrity]:
            "a checkpoint's signature does not verify, or its key is not trusted";
        AUDIT_TRUNCATED = "ERR_AUDIT_TRUNCATED" [Integrity]:
            "the log holds fewer records than a checkpoint covers";
        AUDIT_CHECKPOINT = "ERR_AUDIT_CHECKPOINT" [Integrity]:
            "a correctly signed checkpoint does not match the records it covers";
        AUDIT_MALFORMED = "ERR_AUDIT_MALFORMED" [Invalid]:
            "a line, record, checkpoint or proof document is not well formed";
        AUDIT_TORN = "ERR_AUDIT_TORN" [Integrity]:
            "the last line of the log is incomplete (a torn write)";
        AUDIT_PROOF = "ERR_AUDIT_PROOF" [Integrity]:
            "an inclusion or consistency proof does not verify";
        AUDIT_KEY = "ERR_AUDIT_KEY" [Invalid]:
            "an audit signing or verifying key (or its file) is malformed";
        AUDIT_EVENT = "ERR_AUDIT_EVENT" [Invalid]: "an audit event cannot be recorded";
        AUDIT_LOCKED = "ERR_AUDIT_LOCKED" [Internal]: "another writer holds the audit log's lock";
        AUDIT_PSEUDONYM_KEY = "ERR_AUDIT_PSEUDONYM_KEY" [Invalid]:
            "pseudonymisation is on but no pseudonym key is given; the event was not written";
    }
    "TENANT_SEALED" {
        TENANT_SEALED_AUTH = "ERR_TENANT_SEALED_AUTH" [Integrity]:
            "a tenant-sealed value failed authentication: wrong key, wrong context, or modified";
        TENANT_SEALED_MALFORMED = "ERR_TENANT_SEALED_MALFORMED" [Invalid]:
            "not a tenant-sealed value: wrong prefix, bad base64url, or too short";
        TENANT_SEALED_UNSUPPORTED = "ERR_TENANT_SEALED_UNSUPPORTED" [Invalid]:
            "a tenant-sealed value of a format version or HPKE suite this build does not know";
        TENANT_KEY_INVALID = "ERR_TENANT_KEY_INVALID" [Invalid]:
            "a tenant key that is not a usable 32-byte X25519 key";
        TENANT_KEY_MISSING = "ERR_TENANT_KEY_MISSING" [NotFound]:
            "a tenant-sealed value for a tenant that has no tenant key where it is opened";
    }
    "JWT/JWS/JWKS" {
        JWT_TOO_LARGE = "ERR_JWT_TOO_LARGE" [Unauthenticated]:
            "the token is longer than the configured limit";
        JWT_INVALID = "ERR_JWT_INVALID" [Unauthenticated]:
            "not a compact JWS with a JSON object header and payload (JWE included)";
        JOSE_ALG_NOT_ALLOWED = "ERR_JOSE_ALG_NOT_ALLOWED" [Unauthenticated]:
            "alg is none, unknown, wrongly spelled, or not the selected key's algorithm";
        JWS_KEY_IN_HEADER = "ERR_JWS_KEY_IN_HEADER" [Unauthenticated]:
            "the header names a key source (jwk, jku, x5u, x5c)";
        JWS_CRIT = "ERR_JWS_CRIT" [Unauthenticated]: "the header has a crit member";
        JWS_B64 = "ERR_JWS_B64" [Unauthenticated]:
            "the header asks for an unencoded payload (b64 other than true)";
        JWS_SIGNATURE_VERIFICATION_FAILED = "ERR_JWS_SIGNATURE_VERIFICATION_FAILED" [Unauthenticated]:
            "the signature or MAC does not verify under the selected key";
        JWKS_NO_MATCHING_KEY = "ERR_JWKS_NO_MATCHING_KEY" [Unauthenticated]:
            "no key in the set matches (unknown kid, or no kid and not exactly one usable key)";
        JWKS_INVALID = "ERR_JWKS_INVALID" [Invalid]: "the key set is not acceptable";
        JWKS_WEAK_KEY = "ERR_JWKS_WEAK_KEY" [Invalid]: "a key in the set is too weak";
        JWT_EXPIRED = "ERR_JWT_EXPIRED" [Unauthenticated]:
            "exp has passed, or the token is older than the maximum age (claim exp or iat)";
        JWT_CLAIM_VALIDATION_FAILED = "ERR_JWT_CLAIM_VALIDATION_FAILED" [Unauthenticated]:
            "a claim (or typ) is missing, invalid, or fails its check; see claim and reason";
        JWT_OPTIONS = "ERR_JWT_OPTIONS" [Invalid]:
            "the verification options cannot be applied (no issuer or audience, none waived)";
    }
    "POLICY" {
        POLICY_INVALID = "ERR_POLICY_INVALID" [Invalid]: "the policy document is not valid";
        POLICY_REQUEST_INVALID = "ERR_POLICY_REQUEST_INVALID" [Invalid]:
            "the authorization request is not valid";
        POLICY_DENIED = "ERR_POLICY_DENIED" [Forbidden]:
            "a deny decision was applied: nothing is visible";
        POLICY_TENANT_MISMATCH = "ERR_POLICY_TENANT_MISMATCH" [Forbidden]:
            "the record belongs to another tenant than the decision";
    }
    "REQUEST" {
        REQUEST_SUBJECT_CLAIM = "ERR_REQUEST_SUBJECT_CLAIM" [Unauthenticated]:
            "the verified token names no subject (sub)";
        REQUEST_TENANT_CLAIM = "ERR_REQUEST_TENANT_CLAIM" [Unauthenticated]:
            "the verified token names no valid tenant";
        REQUEST_TENANT_UNKNOWN = "ERR_REQUEST_TENANT_UNKNOWN" [Forbidden]:
            "the token's tenant is not served here";
        REQUEST_TENANT_ISSUER = "ERR_REQUEST_TENANT_ISSUER" [Forbidden]:
            "the token's issuer does not speak for the tenant it names";
        REQUEST_TENANT_MISMATCH = "ERR_REQUEST_TENANT_MISMATCH" [Forbidden]:
            "the request addresses another tenant than the caller's";
    }
    "DECISION" {
        DECISION_INVALID = "ERR_DECISION_INVALID" [Internal]:
            "a decider's answer does not fit its request (bounds, names, deny code)";
        DECISION_SEALER = "ERR_DECISION_SEALER" [Internal]:
            "the sealer rendering a decision (a crypto component) failed; the message names the host's code";
    }
}
