//! The code table and the error types agree: one error of every variant has a code in
//! [`ERROR_CODES`] and the kind its table row gives, and every code in the table is produced
//! by some variant.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::collections::BTreeSet;

use super::*;

/// One error of every variant (keep in step with [`variant`], whose exhaustive match fails to
/// compile when a variant is added).
fn one_of_each() -> Vec<Error> {
    let s = String::new;
    vec![
        SealedFieldError::Auth.into(),
        SealedFieldError::Malformed("x").into(),
        SealedFieldError::Unsupported.into(),
        SealedFieldError::TooLarge.into(),
        SealedFieldError::KeyScope.into(),
        KeyError::NotFound(1).into(),
        KeyError::Destroyed(1).into(),
        KeyError::BadLength { expected: 32 }.into(),
        KeyringError::Malformed(s()).into(),
        KeyringError::Auth.into(),
        KeyringError::MasterKey(s()).into(),
        KeyringError::Cleartext.into(),
        KeyringError::CleartextWithMasterKey.into(),
        KeyringError::Identity("x").into(),
        KeyringError::Rollback { found: 1, min: 2 }.into(),
        KeyringError::Refused("x").into(),
        SubjectError::Forgotten.into(),
        SubjectError::NotFound.into(),
        SubjectError::Required.into(),
        Error::Context(InvalidIdentifier {
            kind: "tenant",
            reason: "empty",
        }),
        Error::Schema(s()),
        Error::Record(s()),
        BlindIndexError::Input("phone").into(),
        BlindIndexError::Config(s()).into(),
        Error::Entropy,
        AuditError::Hash {
            seq: 0,
            reason: s(),
        }
        .into(),
        AuditError::Seq {
            seq: 0,
            reason: s(),
        }
        .into(),
        AuditError::Signature {
            seq: 0,
            reason: s(),
        }
        .into(),
        AuditError::Truncated {
            seq: 0,
            reason: s(),
        }
        .into(),
        AuditError::Checkpoint {
            seq: 0,
            reason: s(),
        }
        .into(),
        AuditError::Malformed {
            seq: 0,
            reason: s(),
        }
        .into(),
        AuditError::TornTail { seq: 0, bytes: 1 }.into(),
        AuditError::Proof(s()).into(),
        AuditError::Key(s()).into(),
        AuditError::Event(s()).into(),
        AuditError::Locked.into(),
        AuditError::PseudonymKey.into(),
        TenantSealError::Auth.into(),
        TenantSealError::Malformed("x").into(),
        TenantSealError::Unsupported.into(),
        TenantSealError::KeyInvalid.into(),
        TenantSealError::KeyMissing.into(),
        TokenError::TooLarge { limit: 1 }.into(),
        TokenError::Malformed("x").into(),
        TokenError::AlgNotAllowed("x").into(),
        TokenError::KeyInHeader("jku").into(),
        TokenError::Crit.into(),
        TokenError::UnencodedPayload.into(),
        TokenError::Signature.into(),
        TokenError::NoMatchingKey("x").into(),
        TokenError::KeySetInvalid(s()).into(),
        TokenError::WeakKey(s()).into(),
        TokenError::Expired { claim: "exp" }.into(),
        TokenError::missing("exp").into(),
        TokenError::Options("x").into(),
        PolicyError::Invalid(s()).into(),
        PolicyError::Request(s()).into(),
        PolicyError::Denied(s()).into(),
        PolicyError::TenantMismatch.into(),
        RequestError::SubjectClaim.into(),
        RequestError::TenantClaim.into(),
        RequestError::UnknownTenant.into(),
        RequestError::TenantIssuer.into(),
        RequestError::TenantMismatch.into(),
        crate::DecisionError::Invalid(s()).into(),
        crate::DecisionError::Sealer(s()).into(),
        Error::relayed(codes::SEALED_FIELD_AUTH, "opened elsewhere"),
    ]
}

/// The variant's name. No wildcard arms: a new variant does not compile until it is named
/// here, and [`every_variant_is_sampled_once`] then wants it in [`one_of_each`].
fn variant(e: &Error) -> &'static str {
    match e {
        Error::SealedField(e) => match e {
            SealedFieldError::Auth => "SealedField::Auth",
            SealedFieldError::Malformed(_) => "SealedField::Malformed",
            SealedFieldError::Unsupported => "SealedField::Unsupported",
            SealedFieldError::TooLarge => "SealedField::TooLarge",
            SealedFieldError::KeyScope => "SealedField::KeyScope",
        },
        Error::Key(e) => match e {
            KeyError::NotFound(_) => "Key::NotFound",
            KeyError::Destroyed(_) => "Key::Destroyed",
            KeyError::BadLength { .. } => "Key::BadLength",
        },
        Error::Keyring(e) => match e {
            KeyringError::Malformed(_) => "Keyring::Malformed",
            KeyringError::Auth => "Keyring::Auth",
            KeyringError::MasterKey(_) => "Keyring::MasterKey",
            KeyringError::Cleartext => "Keyring::Cleartext",
            KeyringError::CleartextWithMasterKey => "Keyring::CleartextWithMasterKey",
            KeyringError::Identity(_) => "Keyring::Identity",
            KeyringError::Rollback { .. } => "Keyring::Rollback",
            KeyringError::Refused(_) => "Keyring::Refused",
        },
        Error::Subject(e) => match e {
            SubjectError::Forgotten => "Subject::Forgotten",
            SubjectError::NotFound => "Subject::NotFound",
            SubjectError::Required => "Subject::Required",
        },
        Error::Context(_) => "Context",
        Error::Schema(_) => "Schema",
        Error::Record(_) => "Record",
        Error::BlindIndex(e) => match e {
            BlindIndexError::Input(_) => "BlindIndex::Input",
            BlindIndexError::Config(_) => "BlindIndex::Config",
        },
        Error::Entropy => "Entropy",
        Error::Audit(e) => match e {
            AuditError::Hash { .. } => "Audit::Hash",
            AuditError::Seq { .. } => "Audit::Seq",
            AuditError::Signature { .. } => "Audit::Signature",
            AuditError::Truncated { .. } => "Audit::Truncated",
            AuditError::Checkpoint { .. } => "Audit::Checkpoint",
            AuditError::Malformed { .. } => "Audit::Malformed",
            AuditError::TornTail { .. } => "Audit::TornTail",
            AuditError::Proof(_) => "Audit::Proof",
            AuditError::Key(_) => "Audit::Key",
            AuditError::Event(_) => "Audit::Event",
            AuditError::Locked => "Audit::Locked",
            AuditError::PseudonymKey => "Audit::PseudonymKey",
        },
        Error::TenantSeal(e) => match e {
            TenantSealError::Auth => "TenantSeal::Auth",
            TenantSealError::Malformed(_) => "TenantSeal::Malformed",
            TenantSealError::Unsupported => "TenantSeal::Unsupported",
            TenantSealError::KeyInvalid => "TenantSeal::KeyInvalid",
            TenantSealError::KeyMissing => "TenantSeal::KeyMissing",
        },
        Error::Token(e) => match e {
            TokenError::TooLarge { .. } => "Token::TooLarge",
            TokenError::Malformed(_) => "Token::Malformed",
            TokenError::AlgNotAllowed(_) => "Token::AlgNotAllowed",
            TokenError::KeyInHeader(_) => "Token::KeyInHeader",
            TokenError::Crit => "Token::Crit",
            TokenError::UnencodedPayload => "Token::UnencodedPayload",
            TokenError::Signature => "Token::Signature",
            TokenError::NoMatchingKey(_) => "Token::NoMatchingKey",
            TokenError::KeySetInvalid(_) => "Token::KeySetInvalid",
            TokenError::WeakKey(_) => "Token::WeakKey",
            TokenError::Expired { .. } => "Token::Expired",
            TokenError::Claim { .. } => "Token::Claim",
            TokenError::Options(_) => "Token::Options",
        },
        Error::Policy(e) => match e {
            PolicyError::Invalid(_) => "Policy::Invalid",
            PolicyError::Request(_) => "Policy::Request",
            PolicyError::Denied(_) => "Policy::Denied",
            PolicyError::TenantMismatch => "Policy::TenantMismatch",
        },
        Error::Request(e) => match e {
            RequestError::SubjectClaim => "Request::SubjectClaim",
            RequestError::TenantClaim => "Request::TenantClaim",
            RequestError::UnknownTenant => "Request::UnknownTenant",
            RequestError::TenantIssuer => "Request::TenantIssuer",
            RequestError::TenantMismatch => "Request::TenantMismatch",
        },
        Error::Decision(e) => match e {
            crate::DecisionError::Invalid(_) => "Decision::Invalid",
            crate::DecisionError::Sealer(_) => "Decision::Sealer",
        },
        Error::Relayed { .. } => "Relayed",
    }
}

#[test]
fn every_variant_is_sampled_once() {
    let errors = one_of_each();
    let names: BTreeSet<&str> = errors.iter().map(variant).collect();
    assert_eq!(names.len(), errors.len(), "a variant is sampled twice");
}

#[test]
fn every_variant_has_a_listed_code() {
    for e in one_of_each() {
        assert!(
            ERROR_CODES.contains(&e.code()),
            "{}: {} is not in ERROR_CODES",
            variant(&e),
            e.code()
        );
    }
}

#[test]
fn every_listed_code_is_returned_by_some_variant() {
    let returned: BTreeSet<&str> = one_of_each().iter().map(Error::code).collect();
    for code in ERROR_CODES {
        assert!(returned.contains(code), "no variant returns {code}");
    }
}

#[test]
fn every_variant_has_the_kind_of_its_code() {
    for e in one_of_each() {
        let row = ERROR_CODE_TABLE
            .iter()
            .find(|row| row.code == e.code())
            .unwrap();
        assert_eq!(e.kind(), row.kind, "{}: {}", variant(&e), e.code());
        assert_eq!(error_kind(e.code()), Some(row.kind), "{}", e.code());
    }
}

#[test]
fn error_kind_is_the_table_s() {
    for row in ERROR_CODE_TABLE {
        assert_eq!(error_kind(row.code), Some(row.kind), "{}", row.code);
    }
    assert_eq!(error_kind("ERR_IO"), None);
    assert_eq!(error_kind(""), None);
    // Exact match only: neither a prefix nor another case is a code.
    assert_eq!(error_kind("ERR_JWT"), None);
    assert_eq!(error_kind("err_policy_denied"), None);
}

#[test]
fn kinds_are_listed_named_and_serialised_in_kebab_case() {
    let names: BTreeSet<&str> = ErrorKind::ALL.iter().map(|k| k.as_str()).collect();
    assert_eq!(names.len(), ErrorKind::ALL.len(), "a kind is listed twice");
    for kind in ErrorKind::ALL {
        // Exhaustive: a new kind does not compile until it is listed in ALL.
        match kind {
            ErrorKind::Invalid
            | ErrorKind::Unauthenticated
            | ErrorKind::Forbidden
            | ErrorKind::NotFound
            | ErrorKind::Integrity
            | ErrorKind::Limit
            | ErrorKind::Internal => {}
        }
        let name = kind.as_str();
        assert!(
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
            "{name}"
        );
        assert_eq!(
            serde_json::to_value(kind).unwrap(),
            serde_json::Value::from(name)
        );
        assert_eq!(kind.to_string(), name);
    }
    assert_eq!(ErrorKind::NotFound.as_str(), "not-found");
    assert_eq!(
        ErrorKind::ALL.len(),
        7,
        "keep ErrorKind::ALL in step with the enum"
    );
}

#[test]
fn kinds_of_codes_that_adapters_rely_on() {
    // The classifications an adapter would otherwise get from a prefix, pinned here so a
    // table edit that changes them is deliberate.
    let cases = [
        (codes::SEALED_FIELD_AUTH, ErrorKind::Integrity),
        (codes::KEYRING_AUTH, ErrorKind::Integrity),
        (codes::AUDIT_HASH, ErrorKind::Integrity),
        (codes::AUDIT_SIGNATURE, ErrorKind::Integrity),
        (codes::SEALED_FIELD_TOO_LARGE, ErrorKind::Limit),
        (codes::SEALED_FIELD_MALFORMED, ErrorKind::Invalid),
        (codes::KEY_NOT_FOUND, ErrorKind::NotFound),
        (codes::KEY_DESTROYED, ErrorKind::NotFound),
        (codes::SUBJECT_FORGOTTEN, ErrorKind::NotFound),
        (codes::POLICY_DENIED, ErrorKind::Forbidden),
        (codes::REQUEST_TENANT_MISMATCH, ErrorKind::Forbidden),
        (codes::JWT_INVALID, ErrorKind::Unauthenticated),
        (codes::JWT_EXPIRED, ErrorKind::Unauthenticated),
        (
            codes::JWS_SIGNATURE_VERIFICATION_FAILED,
            ErrorKind::Unauthenticated,
        ),
        (codes::JOSE_ALG_NOT_ALLOWED, ErrorKind::Unauthenticated),
        (codes::JWKS_NO_MATCHING_KEY, ErrorKind::Unauthenticated),
        (codes::JWKS_INVALID, ErrorKind::Invalid),
        (codes::JWT_OPTIONS, ErrorKind::Invalid),
        (codes::REQUEST_SUBJECT_CLAIM, ErrorKind::Unauthenticated),
        (codes::ENTROPY, ErrorKind::Internal),
        (codes::DECISION_INVALID, ErrorKind::Internal),
    ];
    for (code, kind) in cases {
        assert_eq!(error_kind(code), Some(kind), "{code}");
    }
}

#[test]
fn table_and_list_agree() {
    let from_table: Vec<&str> = ERROR_CODE_TABLE.iter().map(|row| row.code).collect();
    assert_eq!(from_table, ERROR_CODES);
    let unique: BTreeSet<&str> = ERROR_CODES.iter().copied().collect();
    assert_eq!(unique.len(), ERROR_CODES.len(), "a code is listed twice");
    for row in ERROR_CODE_TABLE {
        // The constant is the code without its prefix, so `codes::X` reads as the code.
        assert_eq!(
            Some(row.name),
            row.code.strip_prefix("ERR_"),
            "{}",
            row.code
        );
        assert!(
            !row.meaning.is_empty() && !row.meaning.contains('\n'),
            "{}",
            row.code
        );
    }
}

#[test]
fn families_are_contiguous() {
    let mut seen: Vec<&str> = Vec::new();
    for row in ERROR_CODE_TABLE {
        if seen.last() != Some(&row.family) {
            assert!(
                !seen.contains(&row.family),
                "family {} is split",
                row.family
            );
            seen.push(row.family);
        }
    }
}

#[test]
fn token_claim_errors_say_which_claim_and_why() {
    let cases = [
        (
            TokenError::Expired { claim: "exp" },
            codes::JWT_EXPIRED,
            "exp",
            "check_failed",
        ),
        (
            TokenError::Expired { claim: "iat" },
            codes::JWT_EXPIRED,
            "iat",
            "check_failed",
        ),
        (
            TokenError::missing("aud"),
            codes::JWT_CLAIM_VALIDATION_FAILED,
            "aud",
            "missing",
        ),
        (
            TokenError::invalid("exp"),
            codes::JWT_CLAIM_VALIDATION_FAILED,
            "exp",
            "invalid",
        ),
        (
            TokenError::check_failed("typ"),
            codes::JWT_CLAIM_VALIDATION_FAILED,
            "typ",
            "check_failed",
        ),
    ];
    for (e, code, claim, reason) in cases {
        assert_eq!(
            (e.code(), e.claim(), e.reason()),
            (code, Some(claim), Some(reason))
        );
        assert!(e.to_string().contains(claim), "{e}");
    }
    assert_eq!(
        TokenError::Expired { claim: "iat" }.to_string(),
        "token expired: iat is older than the maximum token age"
    );
    assert_eq!(
        TokenError::check_failed("nbf").to_string(),
        "token not yet valid: nbf is in the future"
    );
    for other in [
        TokenError::Signature,
        TokenError::Malformed("x"),
        TokenError::Options("x"),
    ] {
        assert_eq!((other.claim(), other.reason()), (None, None), "{other}");
    }
}

#[test]
fn relayed_codes_stay_cores() {
    let e = Error::relayed(codes::KEY_DESTROYED, "key 2 was destroyed");
    assert_eq!(e.code(), codes::KEY_DESTROYED);
    assert_eq!(e.kind(), crate::ErrorKind::NotFound);
    let e = Error::relayed("ERR_PLUGIN_TRAP", "the crypto component trapped");
    assert_eq!(e.code(), codes::DECISION_SEALER);
    assert!(e.to_string().contains("ERR_PLUGIN_TRAP"), "{e}");
}
