//! Compact JWS: the strict checks done before any cryptography, then key selection and the
//! signature check.

use serde::Serialize;
use serde_json::{Map, Value};

use super::json::{b64url_decode, unique_object};
use super::{Algorithm, KeySet, VerificationOptions};
use crate::error::TokenError;

/// Header members that name a key source. Keys come only from the configured key set; these
/// are refused outright rather than ignored, so a token that relies on them fails loudly.
const KEY_SOURCE_MEMBERS: [&str; 4] = ["jwk", "jku", "x5u", "x5c"];

/// A compact JWS whose signature verified under a key of the set. Only
/// [`KeySet::verify_jws`] creates one.
#[derive(Debug, Clone, Serialize)]
pub struct VerifiedJws {
    algorithm: Algorithm,
    key_id: Option<String>,
    header: Map<String, Value>,
    #[serde(skip)]
    payload: Vec<u8>,
}

impl VerifiedJws {
    /// The algorithm the selected key is fixed to (equal to the header's `alg`).
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The `kid` of the key that verified the signature, if the key had one.
    pub fn key_id(&self) -> Option<&str> {
        self.key_id.as_deref()
    }

    /// The protected header.
    pub fn header(&self) -> &Map<String, Value> {
        &self.header
    }

    /// The payload bytes.
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }
}

/// A token split and decoded, with its header checked; the signature is not yet verified.
pub(crate) struct ParsedJws<'a> {
    pub(crate) alg: Algorithm,
    pub(crate) kid: Option<String>,
    pub(crate) header: Map<String, Value>,
    pub(crate) signing_input: &'a str,
    pub(crate) payload: Vec<u8>,
    pub(crate) signature: Vec<u8>,
}

/// Splits and decodes a compact JWS and applies every header rule. No key is touched.
pub(crate) fn parse(token: &str, max_len: usize) -> Result<ParsedJws<'_>, TokenError> {
    // Size first: nothing below runs on an oversized input.
    if token.len() > max_len {
        return Err(TokenError::TooLarge { limit: max_len });
    }
    let segments = token.split('.').count();
    if segments == 5 {
        return Err(TokenError::Malformed(
            "five segments: a JWE, which is not accepted",
        ));
    }
    if segments != 3 {
        return Err(TokenError::Malformed("a compact JWS has three segments"));
    }
    let mut parts = token.split('.');
    let (Some(h64), Some(p64), Some(s64)) = (parts.next(), parts.next(), parts.next()) else {
        // Three segments were counted just above.
        return Err(TokenError::Malformed("a compact JWS has three segments"));
    };
    if h64.is_empty() {
        return Err(TokenError::Malformed("empty header"));
    }
    let not_b64 = TokenError::Malformed("a segment is not canonical unpadded base64url");
    let header_bytes = b64url_decode(h64).ok_or(not_b64.clone())?;
    let payload = b64url_decode(p64).ok_or(not_b64.clone())?;
    let signature = b64url_decode(s64).ok_or(not_b64)?;
    let header = unique_object(&header_bytes).ok_or(TokenError::Malformed(
        "the header is not a JSON object with unique member names",
    ))?;

    let alg = match header.get("alg") {
        None => return Err(TokenError::AlgNotAllowed("the header has no alg")),
        Some(Value::String(name)) => {
            if name.eq_ignore_ascii_case("none") {
                return Err(TokenError::AlgNotAllowed("alg none (unsecured JWS)"));
            }
            match Algorithm::from_name(name) {
                Some(a) => a,
                None if Algorithm::ALL
                    .iter()
                    .any(|a| a.name().eq_ignore_ascii_case(name)) =>
                {
                    return Err(TokenError::AlgNotAllowed("alg names are case-sensitive"));
                }
                None => return Err(TokenError::AlgNotAllowed("unsupported alg")),
            }
        }
        Some(_) => return Err(TokenError::AlgNotAllowed("alg is not a string")),
    };
    if let Some(member) = KEY_SOURCE_MEMBERS.iter().find(|m| header.contains_key(**m)) {
        return Err(TokenError::KeyInHeader(member));
    }
    match header.get("b64") {
        None | Some(Value::Bool(true)) => {}
        Some(_) => return Err(TokenError::UnencodedPayload),
    }
    if header.contains_key("crit") {
        return Err(TokenError::Crit);
    }
    let kid = match header.get("kid") {
        None => None,
        Some(Value::String(k)) => Some(k.clone()),
        Some(_) => return Err(TokenError::Malformed("kid is not a string")),
    };
    if signature.is_empty() {
        return Err(TokenError::Malformed("empty signature"));
    }
    Ok(ParsedJws {
        alg,
        kid,
        header,
        signing_input: &token[..h64.len() + 1 + p64.len()],
        payload,
        signature,
    })
}

impl KeySet {
    /// Verifies a compact JWS (any payload): size, segments, base64url, header rules, key
    /// selection by `kid`, the key's algorithm against the header's, and the signature.
    /// Claims are not looked at; for JWTs use [`KeySet::verify_jwt`].
    pub fn verify_jws(
        &self,
        token: &str,
        options: &VerificationOptions,
    ) -> Result<VerifiedJws, crate::Error> {
        Ok(self.verify_jws_inner(token, options.max_token_len)?)
    }

    pub(crate) fn verify_jws_inner(
        &self,
        token: &str,
        max_len: usize,
    ) -> Result<VerifiedJws, TokenError> {
        let parsed = parse(token, max_len)?;
        let key = self.select(parsed.kid.as_deref())?;
        if key.alg() != parsed.alg {
            return Err(TokenError::AlgNotAllowed(
                "the header's alg is not the algorithm the key is fixed to",
            ));
        }
        key.verify_signature(parsed.signing_input.as_bytes(), &parsed.signature)?;
        Ok(VerifiedJws {
            algorithm: key.alg(),
            key_id: key.kid().map(str::to_owned),
            header: parsed.header,
            payload: parsed.payload,
        })
    }
}
