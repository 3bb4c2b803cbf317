//! Every stable error code of crmguard-core, as constants.
//!
//! The table below is the one place a code is written down: it generates these constants,
//! [`ALL`] (re-exported as `crmguard_core::ERROR_CODES`), [`TABLE`] (the same codes with
//! their family and meaning, re-exported as `crmguard_core::ERROR_CODE_TABLE`), and, through
//! `cargo xtask codes`, `docs/ERRORS.md` and the npm package's `js/codes.d.ts`. Every
//! `code()` method of the error types returns one of these constants.
//!
//! ```
//! use crmguard_core::{SealedFieldError, codes};
//!
//! let e = crmguard_core::Error::from(SealedFieldError::Auth);
//! assert_eq!(e.code(), codes::SEALED_FIELD_AUTH);
//! assert!(crmguard_core::ERROR_CODES.contains(&codes::SEALED_FIELD_AUTH));
//! ```

/// One row of [`TABLE`]: a stable code, the constant that holds it, and what it means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorCodeInfo {
    /// The family the code belongs to, as headed in `docs/ERRORS.md` (e.g. `KEYRING`).
    pub family: &'static str,
    /// The name of its constant in this module (e.g. `KEYRING_AUTH`).
    pub name: &'static str,
    /// The code itself (e.g. `ERR_KEYRING_AUTH`).
    pub code: &'static str,
    /// What it means, in one line.
    pub meaning: &'static str,
}

/// Generates the constants, [`ALL`] and [`TABLE`] from one list, grouped by family.
macro_rules! error_codes {
    ($( $family:literal { $( $name:ident = $code:literal : $meaning:literal ; )+ } )+) => {
        $( $(
            #[doc = concat!("`", $code, "`: ", $meaning)]
            pub const $name: &str = $code;
        )+ )+

        /// Every stable code crmguard-core can return, in table order.
        pub const ALL: &[&str] = &[$( $( $name, )+ )+];

        /// Every stable code with its family and meaning, in table order (families are
        /// contiguous).
        pub const TABLE: &[ErrorCodeInfo] = &[$( $(
            ErrorCodeInfo {
                family: $family,
                name: stringify!($name),
                code: $name,
                meaning: $meaning,
            },
        )+ )+];
    };
}

error_codes! {
    "SEALED_FIELD" {
        SEALED_FIELD_AUTH = "ERR_SEALED_FIELD_AUTH":
            "a sealed field failed authentication: wrong key, wrong context, or modified";
        SEALED_FIELD_MALFORMED = "ERR_SEALED_FIELD_MALFORMED":
            "not a sealed field: wrong prefix, bad base64url, or too short";
        SEALED_FIELD_UNSUPPORTED = "ERR_SEALED_FIELD_UNSUPPORTED":
            "a sealed field of a format version or suite this build does not know";
        SEALED_FIELD_TOO_LARGE = "ERR_SEALED_FIELD_TOO_LARGE":
            "the plaintext is over the 16 MiB limit for one field";
        SEALED_FIELD_KEY_SCOPE = "ERR_SEALED_FIELD_KEY_SCOPE":
            "a value sealed under another key scope (keyring or subject) than its schema rule";
    }
    "KEY" {
        KEY_NOT_FOUND = "ERR_KEY_NOT_FOUND": "no key with this id in the keyring";
        KEY_DESTROYED = "ERR_KEY_DESTROYED": "the key existed but its material was destroyed";
        KEY_INVALID = "ERR_KEY_INVALID": "key material of the wrong length or encoding";
    }
    "KEYRING" {
        KEYRING_MALFORMED = "ERR_KEYRING_MALFORMED":
            "the keyring document is not valid (bad JSON, unknown version, inconsistent content)";
        KEYRING_AUTH = "ERR_KEYRING_AUTH":
            "the protected keyring could not be unlocked: wrong master key, or a modified file";
        KEYRING_MASTER_KEY = "ERR_KEYRING_MASTER_KEY":
            "the master key is missing or not 32 bytes of base64";
        KEYRING_CLEARTEXT = "ERR_KEYRING_CLEARTEXT":
            "a cleartext keyring without the explicit insecure-cleartext option, or with a master key";
        KEYRING_IDENTITY = "ERR_KEYRING_IDENTITY":
            "the keyring file is another keyring than expected, or carries no identity";
        KEYRING_ROLLBACK = "ERR_KEYRING_ROLLBACK":
            "the keyring file is older than the expected minimum generation";
        KEYRING_REFUSED = "ERR_KEYRING_REFUSED":
            "the operation would leave the keyring unusable (e.g. destroying the primary key)";
    }
    "SUBJECT" {
        SUBJECT_FORGOTTEN = "ERR_SUBJECT_FORGOTTEN":
            "the data subject's key was erased; what was sealed under it cannot be opened";
        SUBJECT_NOT_FOUND = "ERR_SUBJECT_NOT_FOUND": "the keyring holds no key for this subject";
        SUBJECT_REQUIRED = "ERR_SUBJECT_REQUIRED":
            "the field is sealed under a subject key, but no subject was given";
    }
    "RECORD" {
        CONTEXT_INVALID = "ERR_CONTEXT_INVALID":
            "a tenant, object, record, field or subject id that is empty, too long, or has control characters";
        SCHEMA_INVALID = "ERR_SCHEMA_INVALID": "a record schema that is not acceptable";
        RECORD_INVALID = "ERR_RECORD_INVALID": "a record that does not fit its schema";
    }
    "BLIND_INDEX" {
        BLIND_INDEX_INPUT = "ERR_BLIND_INDEX_INPUT":
            "the normaliser rejected the input (e.g. a phone number without digits)";
        BLIND_INDEX_CONFIG = "ERR_BLIND_INDEX_CONFIG":
            "an invalid blind index configuration (e.g. a bit length outside 8..=256)";
    }
    "ENTROPY" {
        ENTROPY = "ERR_ENTROPY": "the entropy source failed; nothing was sealed";
    }
    "AUDIT" {
        AUDIT_HASH = "ERR_AUDIT_HASH":
            "a record's hash does not match its content, or its prev_hash the previous record";
        AUDIT_SEQ = "ERR_AUDIT_SEQ":
            "a record's seq is not the next one (deleted, inserted, duplicated or moved)";
        AUDIT_SIGNATURE = "ERR_AUDIT_SIGNATURE":
            "a checkpoint's signature does not verify, or its key is not trusted";
        AUDIT_TRUNCATED = "ERR_AUDIT_TRUNCATED":
            "the log holds fewer records than a checkpoint covers";
        AUDIT_CHECKPOINT = "ERR_AUDIT_CHECKPOINT":
            "a correctly signed checkpoint does not match the records it covers";
        AUDIT_MALFORMED = "ERR_AUDIT_MALFORMED":
            "a line, record, checkpoint or proof document is not well formed";
        AUDIT_TORN = "ERR_AUDIT_TORN": "the last line of the log is incomplete (a torn write)";
        AUDIT_PROOF = "ERR_AUDIT_PROOF": "an inclusion or consistency proof does not verify";
        AUDIT_KEY = "ERR_AUDIT_KEY": "an audit signing or verifying key (or its file) is malformed";
        AUDIT_EVENT = "ERR_AUDIT_EVENT": "an audit event cannot be recorded";
        AUDIT_LOCKED = "ERR_AUDIT_LOCKED": "another writer holds the audit log's lock";
        AUDIT_PSEUDONYM_KEY = "ERR_AUDIT_PSEUDONYM_KEY":
            "pseudonymisation is on but no pseudonym key is given; the event was not written";
    }
    "TENANT_SEALED" {
        TENANT_SEALED_AUTH = "ERR_TENANT_SEALED_AUTH":
            "a tenant-sealed value failed authentication: wrong key, wrong context, or modified";
        TENANT_SEALED_MALFORMED = "ERR_TENANT_SEALED_MALFORMED":
            "not a tenant-sealed value: wrong prefix, bad base64url, or too short";
        TENANT_SEALED_UNSUPPORTED = "ERR_TENANT_SEALED_UNSUPPORTED":
            "a tenant-sealed value of a format version or HPKE suite this build does not know";
        TENANT_KEY_INVALID = "ERR_TENANT_KEY_INVALID":
            "a tenant key that is not a usable 32-byte X25519 key";
    }
    "JWT/JWS/JWKS" {
        JWT_TOO_LARGE = "ERR_JWT_TOO_LARGE": "the token is longer than the configured limit";
        JWT_INVALID = "ERR_JWT_INVALID":
            "not a compact JWS with a JSON object header and payload (JWE included)";
        JOSE_ALG_NOT_ALLOWED = "ERR_JOSE_ALG_NOT_ALLOWED":
            "alg is none, unknown, wrongly spelled, or not the selected key's algorithm";
        JWS_KEY_IN_HEADER = "ERR_JWS_KEY_IN_HEADER":
            "the header names a key source (jwk, jku, x5u, x5c)";
        JWS_CRIT = "ERR_JWS_CRIT": "the header has a crit member";
        JWS_B64 = "ERR_JWS_B64": "the header asks for an unencoded payload (b64 other than true)";
        JWS_SIGNATURE_VERIFICATION_FAILED = "ERR_JWS_SIGNATURE_VERIFICATION_FAILED":
            "the signature or MAC does not verify under the selected key";
        JWKS_NO_MATCHING_KEY = "ERR_JWKS_NO_MATCHING_KEY":
            "no key in the set matches (unknown kid, or no kid and not exactly one usable key)";
        JWKS_INVALID = "ERR_JWKS_INVALID": "the key set is not acceptable";
        JWKS_WEAK_KEY = "ERR_JWKS_WEAK_KEY": "a key in the set is too weak";
        JWT_EXPIRED = "ERR_JWT_EXPIRED":
            "exp has passed, or the token is older than the maximum age (claim exp or iat)";
        JWT_CLAIM_VALIDATION_FAILED = "ERR_JWT_CLAIM_VALIDATION_FAILED":
            "a claim (or typ) is missing, invalid, or fails its check; see claim and reason";
        JWT_OPTIONS = "ERR_JWT_OPTIONS":
            "the verification options cannot be applied (no issuer or audience, none waived)";
    }
    "POLICY" {
        POLICY_INVALID = "ERR_POLICY_INVALID": "the policy document is not valid";
        POLICY_REQUEST_INVALID = "ERR_POLICY_REQUEST_INVALID":
            "the authorization request is not valid";
        POLICY_DENIED = "ERR_POLICY_DENIED": "a deny decision was applied: nothing is visible";
        POLICY_TENANT_MISMATCH = "ERR_POLICY_TENANT_MISMATCH":
            "the record belongs to another tenant than the decision";
    }
    "REQUEST" {
        REQUEST_SUBJECT_CLAIM = "ERR_REQUEST_SUBJECT_CLAIM":
            "the verified token names no subject (sub)";
        REQUEST_TENANT_CLAIM = "ERR_REQUEST_TENANT_CLAIM":
            "the verified token names no valid tenant";
        REQUEST_TENANT_UNKNOWN = "ERR_REQUEST_TENANT_UNKNOWN":
            "the token's tenant is not served here";
        REQUEST_TENANT_ISSUER = "ERR_REQUEST_TENANT_ISSUER":
            "the token's issuer does not speak for the tenant it names";
        REQUEST_TENANT_MISMATCH = "ERR_REQUEST_TENANT_MISMATCH":
            "the request addresses another tenant than the caller's";
    }
    "DECISION" {
        DECISION_INVALID = "ERR_DECISION_INVALID":
            "a decider's answer does not fit its request (bounds, fields, values, deny code)";
    }
}
