//! The tokens component: exports `crmguard:guard/tokens` as a thin adapter over crmguard-core's
//! token verification. Pure: no imports beyond the shared types, no clock (the caller passes
//! the verification time), no key material of the host's (the caller parses a JWKS into a
//! `key-set` resource once, and verifies any number of tokens against it).
//!
//! No rule lives here: the options are copied field by field into core's
//! `VerificationOptions`, core verifies, and its stable error codes come back unchanged.

// wit-bindgen's generated glue (canonical ABI lifting and lowering) is `unsafe` code; none is
// written by hand in this crate.
#![allow(unsafe_code)]

use crmguard_core::{Error, KeySet, VerificationOptions};

wit_bindgen::generate!({
    world: "token-verifier",
    path: "../../wit",
});

use crmguard::guard::types::{ErrorKind as WitKind, GuardError};
use exports::crmguard::guard::tokens::{
    Guest, GuestKeySet, KeySet as WitKeySet, TokenType, VerifyOptions,
};

/// A token claim failure names jose's `claim` and `reason` in the message:
/// `audience not allowed (claim aud: check_failed)`.
fn guard_error(e: Error) -> GuardError {
    use crmguard_core::ErrorKind as K;
    let message = match &e {
        Error::Token(t) => match t.claim().zip(t.reason()) {
            Some((claim, reason)) => format!("{e} (claim {claim}: {reason})"),
            None => e.to_string(),
        },
        _ => e.to_string(),
    };
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
        message,
    }
}

/// The interface's options as core's: the secure defaults hold (an empty issuer or audience
/// list is refused) unless the caller waives the check explicitly.
fn options(o: VerifyOptions) -> VerificationOptions {
    VerificationOptions {
        waive: crmguard_core::Waivers {
            issuer: o.waive_issuer,
            audience: o.waive_audience,
        },
        leeway_secs: u64::from(o.leeway_secs),
        require_exp: o.require_exp,
        allowed_issuers: o.issuers,
        allowed_audiences: o.audiences,
        max_token_age_secs: o.max_token_age_secs.map(u64::from),
        token_type: match o.token_type {
            TokenType::Jwt => crmguard_core::TokenType::Jwt,
            TokenType::AccessToken => crmguard_core::TokenType::AccessToken,
            TokenType::Any => crmguard_core::TokenType::Any,
        },
        ..VerificationOptions::default()
    }
}

struct Tokens;

impl Guest for Tokens {
    type KeySet = ParsedKeys;
}

/// A key set, parsed once for every token verified against it.
struct ParsedKeys(KeySet);

impl GuestKeySet for ParsedKeys {
    fn parse(jwks_json: String) -> Result<WitKeySet, GuardError> {
        let keys = KeySet::from_json(&jwks_json).map_err(guard_error)?;
        Ok(WitKeySet::new(ParsedKeys(keys)))
    }

    fn len(&self) -> u32 {
        u32::try_from(self.0.len()).unwrap_or(u32::MAX)
    }

    fn verify(&self, token: String, o: VerifyOptions) -> Result<String, GuardError> {
        // Whole seconds: the token's time claims are NumericDate seconds.
        let now = o.now / 1000;
        let claims = self
            .0
            .verify_jwt(&token, &options(o), now)
            .map_err(guard_error)?;
        Ok(serde_json::Value::Object(claims.claims().clone()).to_string())
    }
}

export!(Tokens);
