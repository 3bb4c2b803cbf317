//! The token-verification API (`crmguard/tokens` entry point): a separate wasm build with the
//! `tokens` feature, so the RSA/ECDSA/Ed25519 verifiers do not grow the field-encryption
//! module. Types only; the rules are in crmguard-core's token module.

use serde::Deserialize;
use wasm_bindgen::prelude::*;

use super::{OrThrow, from_js, to_js, type_error};

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct OptionsArg {
    #[serde(default)]
    issuers: Vec<String>,
    #[serde(default)]
    audiences: Vec<String>,
    leeway_secs: Option<u32>,
    require_exp: Option<bool>,
    max_token_age_secs: Option<u32>,
    max_token_len: Option<u32>,
    /// Explicit waivers of the issuer and audience checks (required by default).
    #[serde(default)]
    any_issuer: bool,
    #[serde(default)]
    any_audience: bool,
    /// `"jwt"` (default), `"at+jwt"` (RFC 9068 access tokens only) or `"any"`.
    token_type: Option<String>,
    /// The verification time, seconds since the epoch (the JS loader passes the clock).
    now: f64,
}

/// Verifies a compact JWS/JWT against a JWKS (JSON text) and returns its claims. `options`:
/// `{ now, issuers?, audiences?, anyIssuer?, anyAudience?, tokenType?, leewaySecs?,
/// requireExp?, maxTokenAgeSecs?, maxTokenLen? }`. Issuer and audience are required unless
/// waived (`anyIssuer`, `anyAudience`): otherwise `ERR_JWT_OPTIONS`.
/// Throws `CrmGuardError` with the core's `ERR_JWT_*` / `ERR_JWS_*` / `ERR_JWKS_*` /
/// `ERR_JOSE_*` codes (claim failures also set `claim` and `reason`).
#[wasm_bindgen(js_name = "__verifyToken")]
pub fn verify_token(token: &str, jwks: &str, options: JsValue) -> Result<JsValue, JsValue> {
    let o: OptionsArg = from_js(options, "options")?;
    if !(o.now >= 0.0 && o.now.is_finite()) {
        return Err(type_error("options.now must be seconds since the epoch"));
    }
    let token_type = match o.token_type.as_deref() {
        None | Some("jwt") => crmguard_core::TokenType::Jwt,
        Some("at+jwt") => crmguard_core::TokenType::AccessToken,
        Some("any") => crmguard_core::TokenType::Any,
        Some(_) => {
            return Err(type_error(
                "options.tokenType must be \"jwt\", \"at+jwt\" or \"any\"",
            ));
        }
    };
    let defaults = crmguard_core::VerificationOptions::default();
    let opts = crmguard_core::VerificationOptions {
        max_token_len: o
            .max_token_len
            .map_or(defaults.max_token_len, |n| n as usize),
        leeway_secs: o.leeway_secs.map_or(defaults.leeway_secs, u64::from),
        require_exp: o.require_exp.unwrap_or(defaults.require_exp),
        allowed_issuers: o.issuers,
        allowed_audiences: o.audiences,
        max_token_age_secs: o.max_token_age_secs.map(u64::from),
        token_type,
        waive: crmguard_core::Waivers {
            issuer: o.any_issuer,
            audience: o.any_audience,
        },
    };
    let keys = crmguard_core::KeySet::from_json(jwks).or_throw()?;
    // Checked above: finite and non-negative; whole seconds are what the core compares.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let now = o.now.floor() as u64;
    let claims = keys.verify_jwt(token, &opts, now).or_throw()?;
    to_js(&serde_json::Value::Object(claims.claims().clone()))
}
