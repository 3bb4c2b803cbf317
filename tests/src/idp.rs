//! A test identity provider: HS256 tokens signed here and verified by crmguard-core, so tests
//! and benchmarks get a [`Principal`] the only way a host gets one, from a verified token.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use crmguard_core::{
    ClaimNames, KeySet, Principal, TenantIssuers, VerificationOptions, VerifiedClaims,
};
use hmac::{KeyInit, Mac};
use serde_json::{Value, json};

/// The secret of the test IdP's HS256 key.
const SECRET: [u8; 64] = [0x42; 64];

/// The time test tokens are verified at (the examples' tokens are valid then too).
pub const NOW: u64 = 1_764_400_100;

/// A compact HS256 JWT over `claims`, signed by the test IdP.
pub fn token(claims: &Value) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    // HMAC accepts keys of any length.
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&SECRET)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(input.as_bytes());
    format!(
        "{input}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}

/// The test IdP's key set (JWKS text).
pub fn jwks() -> String {
    json!({"keys": [{"kty": "oct", "k": URL_SAFE_NO_PAD.encode(SECRET), "alg": "HS256"}]})
        .to_string()
}

/// `claims` (with an `exp` after [`NOW`]) as the host's verifier hands them over.
///
/// # Panics
/// If the test IdP's own token does not verify (a broken verifier).
pub fn verified(claims: Value) -> VerifiedClaims {
    let mut claims = claims;
    claims["exp"] = json!(NOW + 600);
    let keys = KeySet::from_json(&jwks()).expect("the test IdP's key set parses");
    keys.verify_jwt(
        &token(&claims),
        &VerificationOptions::waive_issuer_and_audience(),
        NOW,
    )
    .expect("the test IdP's token verifies")
}

/// The principal a host binds from a token carrying `claims`.
///
/// # Panics
/// If the claims name no subject or tenant.
pub fn principal(claims: Value) -> Principal {
    Principal::from_verified(
        &verified(claims),
        &ClaimNames::default(),
        &TenantIssuers::any(),
    )
    .expect("the claims name a subject and a tenant")
}

/// A compact HS256 JWT over `claims` signed with `secret` under key id `kid`: for a test IdP
/// that rotates its keys.
pub fn token_with(claims: &Value, kid: &str, secret: &[u8]) -> String {
    let header = json!({"alg": "HS256", "typ": "JWT", "kid": kid}).to_string();
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(input.as_bytes());
    format!(
        "{input}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}

/// The key set of `keys` (key id, HS256 secret of at least 32 bytes).
pub fn jwks_with(keys: &[(&str, &[u8])]) -> String {
    let keys: Vec<Value> = keys
        .iter()
        .map(|(kid, secret)| {
            json!({"kty": "oct", "kid": kid, "k": URL_SAFE_NO_PAD.encode(secret), "alg": "HS256"})
        })
        .collect();
    json!({ "keys": keys }).to_string()
}
