//! Access-token verification: JWS/JWT in compact form, keys from a JWKS (RFC 7517).
//!
//! The rules, in the order they are applied (docs/TOKENS.md has the full list):
//! 1. The token's length is checked before anything is parsed.
//! 2. Three segments of canonical, unpadded base64url; the header is a JSON object without
//!    duplicate members.
//! 3. The header's `alg` must be one of [`Algorithm`]'s names, spelled exactly; `none` never.
//!    `jwk`, `jku`, `x5u`, `x5c` are refused (keys come only from the key set), `b64` must not
//!    be `false`, and any `crit` is refused (no extension is understood).
//! 4. `kid` selects the key; without `kid` the set must hold exactly one usable key. The key
//!    fixes the algorithm: the header's `alg` must equal it, it never chooses it.
//! 5. The signature is verified (ECDSA only in JOSE `r || s` form).
//! 6. For JWTs, the claims: `exp` (required by default), `nbf`, `iat`, issuer, audience and
//!    maximum age, against a clock the caller passes in, with a bounded leeway.
//!
//! Key import is jwt-simple's strict JWK import; the signature primitives are the ones its keys
//! wrap (superboring RSA, p256/p384 ECDSA, ed25519-compact, jwt-simple's HMAC), called the same
//! way for tokens, RFC examples and Wycheproof vectors.

mod algorithm;
mod claims;
mod json;
mod jwks;
mod jws;
mod roca;

pub use algorithm::Algorithm;
pub use claims::{
    DEFAULT_LEEWAY_SECS, DEFAULT_MAX_TOKEN_LEN, MAX_LEEWAY_SECS, TokenType, VerificationOptions,
    VerifiedClaims, Waivers, claim_names,
};
pub(crate) use json::unique_value as strict_json;
pub use jwks::{KeySet, MAX_KEY_SET_LEN};
pub use jws::VerifiedJws;

#[cfg(test)]
mod rfc_tests;
#[cfg(test)]
pub(crate) mod test_keys;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod wycheproof_tests;
