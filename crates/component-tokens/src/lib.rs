//! The tokens component: exports `crmguard:guard/tokens` as a thin adapter over crmguard-core's
//! token verification. Pure: no imports beyond the shared types, no clock (the caller passes
//! the verification time), no key material of the host's (the JWKS comes with each call).
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

use crmguard::guard::types::GuardError;
use exports::crmguard::guard::tokens::{Guest, VerifyOptions};

/// The WIT error has only a code and a message, so a token claim failure names jose's
/// `claim` and `reason` in the message: `audience not allowed (claim aud: check_failed)`.
fn guard_error(e: Error) -> GuardError {
    let message = match &e {
        Error::Token(t) => match t.claim().zip(t.reason()) {
            Some((claim, reason)) => format!("{e} (claim {claim}: {reason})"),
            None => e.to_string(),
        },
        _ => e.to_string(),
    };
    GuardError {
        code: e.code().to_owned(),
        message,
    }
}

/// The 0.1.0 interface's options: an empty issuer or audience list means "not checked", as its
/// WIT documents, so such a list is an explicit waiver here.
fn options(o: VerifyOptions) -> VerificationOptions {
    VerificationOptions {
        waive: crmguard_core::Waivers {
            issuer: o.issuers.is_empty(),
            audience: o.audiences.is_empty(),
        },
        leeway_secs: o.leeway_secs,
        require_exp: o.require_exp,
        allowed_issuers: o.issuers,
        allowed_audiences: o.audiences,
        max_token_age_secs: o.max_token_age_secs,
        ..VerificationOptions::default()
    }
}

struct Tokens;

impl Guest for Tokens {
    fn verify(token: String, jwks_json: String, o: VerifyOptions) -> Result<String, GuardError> {
        let now = o.now;
        let keys = KeySet::from_json(&jwks_json).map_err(guard_error)?;
        let claims = keys
            .verify_jwt(&token, &options(o), now)
            .map_err(guard_error)?;
        Ok(serde_json::Value::Object(claims.claims().clone()).to_string())
    }
}

export!(Tokens);
