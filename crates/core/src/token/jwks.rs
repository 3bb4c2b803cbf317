//! JSON Web Key Sets: strict import of verification keys, key selection, and the one
//! signature-verification call every path (tokens, RFC examples, Wycheproof) goes through.

use core::fmt;

use jwt_simple::algorithms::{
    ECDSAP256PublicKeyLike, ECDSAP384PublicKeyLike, ES256PublicKey, ES384PublicKey,
    Ed25519PublicKey, EdDSAPublicKeyLike, HS256Key, HS384Key, HS512Key, MACLike, PS256PublicKey,
    PS384PublicKey, PS512PublicKey, RS256PublicKey, RS384PublicKey, RS512PublicKey,
    RSAPublicKeyLike,
};
use serde_json::{Map, Value};
use subtle::ConstantTimeEq;
use superboring::hash::MessageDigest;
use superboring::pkey::{PKey, Public};
use superboring::rsa::Padding;
use superboring::sign::Verifier;

use super::Algorithm;
use super::json::{b64url_decode, unique_object};
use crate::error::TokenError;

/// The largest key-set document accepted, in bytes.
pub const MAX_KEY_SET_LEN: usize = 256 * 1024;

/// The most keys a set may hold.
const MAX_KEYS: usize = 64;

/// Members that only private or other-type keys carry; an `oct` key must have none of them.
const NON_OCT_MEMBERS: &[&str] = &[
    "n", "e", "d", "p", "q", "dp", "dq", "qi", "oth", "x", "y", "crv",
];

/// Key material, imported and checked; never printed.
#[derive(Clone)]
enum KeyMaterial {
    Hs256(HS256Key),
    Hs384(HS384Key),
    Hs512(HS512Key),
    /// RSA public key: the algorithm says PKCS#1 v1.5 or PSS and the hash.
    Rsa(PKey<Public>),
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
    Ed25519(ed25519_compact::PublicKey),
}

/// One usable verification key: its id, the one algorithm it is fixed to, and its material.
#[derive(Clone)]
pub(crate) struct VerificationKey {
    kid: Option<String>,
    alg: Algorithm,
    material: KeyMaterial,
}

impl fmt::Debug for VerificationKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerificationKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("material", &"<redacted>")
            .finish()
    }
}

impl VerificationKey {
    /// The algorithm this key is fixed to.
    pub(crate) fn alg(&self) -> Algorithm {
        self.alg
    }

    /// The key id, if the JWK had one.
    pub(crate) fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// Verifies `signature` over `message` with this key's one algorithm. Every verification
    /// in this crate comes through here.
    pub(crate) fn verify_signature(
        &self,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), TokenError> {
        let ok = match &self.material {
            KeyMaterial::Hs256(k) => mac_eq(&k.authentication_tag(message), signature),
            KeyMaterial::Hs384(k) => mac_eq(&k.authentication_tag(message), signature),
            KeyMaterial::Hs512(k) => mac_eq(&k.authentication_tag(message), signature),
            KeyMaterial::Rsa(pkey) => rsa_verify(pkey, self.alg, message, signature),
            KeyMaterial::P256(vk) => {
                use p256::ecdsa::signature::Verifier as _;
                // JOSE ECDSA signatures are exactly r || s (RFC 7518 3.4); DER is refused by
                // the length check before the scalar parse.
                signature.len() == 64
                    && p256::ecdsa::Signature::from_slice(signature)
                        .is_ok_and(|sig| vk.verify(message, &sig).is_ok())
            }
            KeyMaterial::P384(vk) => {
                use p384::ecdsa::signature::Verifier as _;
                signature.len() == 96
                    && p384::ecdsa::Signature::from_slice(signature)
                        .is_ok_and(|sig| vk.verify(message, &sig).is_ok())
            }
            KeyMaterial::Ed25519(pk) => ed25519_compact::Signature::from_slice(signature)
                .is_ok_and(|sig| pk.verify(message, &sig).is_ok()),
        };
        if ok {
            Ok(())
        } else {
            Err(TokenError::Signature)
        }
    }
}

fn mac_eq(expected: &[u8], got: &[u8]) -> bool {
    // Full-length tags only: a truncated tag is a different (weaker) algorithm.
    expected.len() == got.len() && bool::from(expected.ct_eq(got))
}

fn rsa_verify(pkey: &PKey<Public>, alg: Algorithm, message: &[u8], signature: &[u8]) -> bool {
    let (digest, padding) = match alg {
        Algorithm::Rs256 => (MessageDigest::sha256(), Padding::PKCS1),
        Algorithm::Rs384 => (MessageDigest::sha384(), Padding::PKCS1),
        Algorithm::Rs512 => (MessageDigest::sha512(), Padding::PKCS1),
        // PSS with MGF1 on the same hash and a salt as long as the hash (RFC 7518 3.5): the
        // verifier's default salt length is the digest length.
        Algorithm::Ps256 => (MessageDigest::sha256(), Padding::PKCS1_PSS),
        Algorithm::Ps384 => (MessageDigest::sha384(), Padding::PKCS1_PSS),
        Algorithm::Ps512 => (MessageDigest::sha512(), Padding::PKCS1_PSS),
        _ => return false,
    };
    let Ok(mut verifier) = Verifier::new(digest, pkey) else {
        return false;
    };
    if verifier.set_rsa_padding(padding).is_err() || verifier.update(message).is_err() {
        return false;
    }
    verifier.verify(signature).unwrap_or(false)
}

/// A verification key set, imported from a JWKS document (RFC 7517).
///
/// Import is strict. Refused (the whole set, [`TokenError::KeySetInvalid`] or
/// [`TokenError::WeakKey`]): a document that is not `{"keys":[...]}`, duplicate members, a key
/// that fails jwt-simple's strict JWK import (bad or non-canonical base64url, wrong sizes,
/// points not on the curve, members of other key types, private members), an `alg` that
/// contradicts the key type or curve, RSA moduli under 2048 bits or ROCA-vulnerable, RSA
/// exponents other than 65537, HMAC secrets shorter than their hash, duplicate `kid`s, and
/// sets that mix `oct` keys with public keys.
///
/// Skipped (kept out of the set, counted by [`KeySet::skipped`]): keys not meant for
/// signatures (`use` other than `sig`, `key_ops` without `verify`), keys whose `alg` is not
/// one CRMGuard accepts (e.g. `RSA-OAEP`, `ES512`), and key types or curves it does not
/// verify with (P-521, secp256k1, X25519, ...).
///
/// Each usable key is fixed to one algorithm: its `alg` if given, otherwise the default for
/// its type: `RSA` → RS256, `oct` → HS256, P-256 → ES256, P-384 → ES384, Ed25519 → EdDSA.
#[derive(Clone)]
pub struct KeySet {
    keys: Vec<VerificationKey>,
    skipped: usize,
}

impl fmt::Debug for KeySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeySet")
            .field("keys", &self.keys)
            .field("skipped", &self.skipped)
            .finish()
    }
}

fn invalid(msg: impl Into<String>) -> TokenError {
    TokenError::KeySetInvalid(msg.into())
}

/// Names a key in messages by its position and `kid`; `kid`s are public identifiers.
fn key_label(index: usize, kid: Option<&str>) -> String {
    match kid {
        Some(k) => format!(
            "key {index} (kid {:?})",
            k.chars().take(64).collect::<String>()
        ),
        None => format!("key {index}"),
    }
}

/// Maps a jwt-simple import error to ours without echoing its text unless it is one of
/// jwt-simple's own fixed messages (other errors may quote the input).
fn import_error(label: &str, e: &jwt_simple::Error) -> TokenError {
    match e.downcast_ref::<jwt_simple::JWTError>() {
        Some(jwt_simple::JWTError::WeakKey) => {
            TokenError::WeakKey(format!("{label}: RSA modulus under 2048 bits"))
        }
        Some(je) => invalid(format!("{label}: {je}")),
        None => invalid(format!("{label}: rejected by strict JWK import")),
    }
}

impl KeySet {
    /// Imports a JWKS document (`{"keys": [...]}`).
    pub fn from_json(json: &str) -> Result<KeySet, crate::Error> {
        Ok(Self::parse(json)?)
    }

    fn parse(json: &str) -> Result<KeySet, TokenError> {
        if json.len() > MAX_KEY_SET_LEN {
            return Err(invalid(format!(
                "document longer than {MAX_KEY_SET_LEN} bytes"
            )));
        }
        let doc = unique_object(json.as_bytes())
            .ok_or_else(|| invalid("not a JSON object without duplicate members"))?;
        let Some(Value::Array(entries)) = doc.get("keys") else {
            return Err(invalid("no \"keys\" array"));
        };
        if entries.len() > MAX_KEYS {
            return Err(invalid(format!("more than {MAX_KEYS} keys")));
        }
        let mut keys: Vec<VerificationKey> = Vec::new();
        let mut skipped = 0;
        for (index, entry) in entries.iter().enumerate() {
            let Value::Object(jwk) = entry else {
                return Err(invalid(format!("key {index} is not a JSON object")));
            };
            match import_key(index, jwk)? {
                Some(key) => keys.push(key),
                None => skipped += 1,
            }
        }
        for (i, a) in keys.iter().enumerate() {
            if let Some(kid) = a.kid()
                && keys[..i].iter().any(|b| b.kid() == Some(kid))
            {
                return Err(invalid(format!(
                    "duplicate kid {:?}",
                    kid.chars().take(64).collect::<String>()
                )));
            }
        }
        let hmac = keys.iter().filter(|k| k.alg.is_hmac()).count();
        if hmac != 0 && hmac != keys.len() {
            return Err(invalid(
                "the set mixes symmetric (oct) and asymmetric keys; use separate sets",
            ));
        }
        Ok(KeySet { keys, skipped })
    }

    /// How many usable verification keys the set holds.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the set holds no usable key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// How many keys of the document were skipped as not usable for signature verification.
    pub fn skipped(&self) -> usize {
        self.skipped
    }

    /// The `(kid, algorithm)` of each usable key, in document order.
    pub fn key_summary(&self) -> Vec<(Option<String>, Algorithm)> {
        self.keys.iter().map(|k| (k.kid.clone(), k.alg)).collect()
    }

    /// Selects the key for a header's `kid`: the key with that id; without a `kid`, the set's
    /// only usable key.
    pub(crate) fn select(&self, kid: Option<&str>) -> Result<&VerificationKey, TokenError> {
        match kid {
            Some(kid) => self
                .keys
                .iter()
                .find(|k| k.kid() == Some(kid))
                .ok_or(TokenError::NoMatchingKey("no key with this kid")),
            None => match self.keys.as_slice() {
                [only] => Ok(only),
                [] => Err(TokenError::NoMatchingKey("the key set has no usable key")),
                _ => Err(TokenError::NoMatchingKey(
                    "the token has no kid and the key set has more than one key",
                )),
            },
        }
    }
}

fn optional_str<'a>(
    jwk: &'a Map<String, Value>,
    name: &'static str,
    label: &str,
) -> Result<Option<&'a str>, TokenError> {
    match jwk.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(invalid(format!("{label}: {name} is not a string"))),
    }
}

/// Imports one JWK: `Ok(None)` if it is not usable for verifying signatures here.
fn import_key(
    index: usize,
    jwk: &Map<String, Value>,
) -> Result<Option<VerificationKey>, TokenError> {
    let kid = match jwk.get("kid") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(invalid(format!("key {index}: kid is not a string"))),
    };
    let label = key_label(index, kid.as_deref());
    let Some(kty) = optional_str(jwk, "kty", &label)? else {
        return Err(invalid(format!("{label}: no kty")));
    };
    if let Some(usage) = optional_str(jwk, "use", &label)?
        && usage != "sig"
    {
        return Ok(None);
    }
    if let Some(ops) = jwk.get("key_ops") {
        let Value::Array(ops) = ops else {
            return Err(invalid(format!("{label}: key_ops is not an array")));
        };
        if !ops.iter().any(|op| op.as_str() == Some("verify")) {
            return Ok(None);
        }
    }
    let alg = match optional_str(jwk, "alg", &label)? {
        None => None,
        Some(name) => match Algorithm::from_name(name) {
            Some(a) => Some(a),
            // An encryption key, or a signature algorithm CRMGuard does not accept.
            None => return Ok(None),
        },
    };
    let wrong_alg = |a: Algorithm| invalid(format!("{label}: alg {a} does not fit kty {kty}"));
    let json = || Value::Object(jwk.clone()).to_string();
    let (alg, material) = match kty {
        "oct" => {
            let alg = alg.unwrap_or(Algorithm::Hs256);
            if !alg.is_hmac() {
                return Err(wrong_alg(alg));
            }
            if let Some(m) = NON_OCT_MEMBERS.iter().find(|m| jwk.contains_key(**m)) {
                return Err(invalid(format!("{label}: oct key with member {m}")));
            }
            let Some(Value::String(k)) = jwk.get("k") else {
                return Err(invalid(format!("{label}: oct key without k")));
            };
            let secret = zeroize::Zeroizing::new(
                b64url_decode(k)
                    .ok_or_else(|| invalid(format!("{label}: k is not canonical base64url")))?,
            );
            // RFC 7518 3.2: a key at least as long as the hash output.
            let min = match alg {
                Algorithm::Hs256 => 32,
                Algorithm::Hs384 => 48,
                _ => 64,
            };
            if secret.len() < min {
                return Err(TokenError::WeakKey(format!(
                    "{label}: {alg} needs a secret of at least {min} bytes, got {}",
                    secret.len()
                )));
            }
            let material = match alg {
                Algorithm::Hs256 => KeyMaterial::Hs256(HS256Key::from_bytes(&secret)),
                Algorithm::Hs384 => KeyMaterial::Hs384(HS384Key::from_bytes(&secret)),
                _ => KeyMaterial::Hs512(HS512Key::from_bytes(&secret)),
            };
            (alg, material)
        }
        "RSA" => {
            let alg = alg.unwrap_or(Algorithm::Rs256);
            if !alg.is_rsa() {
                return Err(wrong_alg(alg));
            }
            let s = json();
            let err = |e: jwt_simple::Error| import_error(&label, &e);
            // jwt-simple checks the modulus size (2048..=4096 bits), e = 65537, canonical
            // base64url, no private or foreign members, and that `alg`/`use`/`key_ops` fit.
            let (rsa, n) = match alg {
                Algorithm::Rs256 => {
                    let k = RS256PublicKey::from_jwk(&s).map_err(err)?;
                    (k.public_key().as_ref().clone(), k.to_components().n)
                }
                Algorithm::Rs384 => {
                    let k = RS384PublicKey::from_jwk(&s).map_err(err)?;
                    (k.public_key().as_ref().clone(), k.to_components().n)
                }
                Algorithm::Rs512 => {
                    let k = RS512PublicKey::from_jwk(&s).map_err(err)?;
                    (k.public_key().as_ref().clone(), k.to_components().n)
                }
                Algorithm::Ps256 => {
                    let k = PS256PublicKey::from_jwk(&s).map_err(err)?;
                    (k.public_key().as_ref().clone(), k.to_components().n)
                }
                Algorithm::Ps384 => {
                    let k = PS384PublicKey::from_jwk(&s).map_err(err)?;
                    (k.public_key().as_ref().clone(), k.to_components().n)
                }
                _ => {
                    let k = PS512PublicKey::from_jwk(&s).map_err(err)?;
                    (k.public_key().as_ref().clone(), k.to_components().n)
                }
            };
            if super::roca::has_roca_fingerprint(&n) {
                return Err(TokenError::WeakKey(format!(
                    "{label}: RSA modulus has the ROCA (CVE-2017-15361) fingerprint"
                )));
            }
            let pkey =
                PKey::from_rsa(rsa).map_err(|_| invalid(format!("{label}: RSA key rejected")))?;
            (alg, KeyMaterial::Rsa(pkey))
        }
        "EC" => {
            let crv = optional_str(jwk, "crv", &label)?;
            let (fixed, is_p256) = match crv {
                Some("P-256") => (Algorithm::Es256, true),
                Some("P-384") => (Algorithm::Es384, false),
                Some(_) => return Ok(None),
                None => return Err(invalid(format!("{label}: EC key without crv"))),
            };
            if let Some(a) = alg
                && a != fixed
            {
                return Err(wrong_alg(a));
            }
            let s = json();
            let err = |e: jwt_simple::Error| import_error(&label, &e);
            let material = if is_p256 {
                let k = ES256PublicKey::from_jwk(&s).map_err(err)?;
                KeyMaterial::P256(*k.public_key().as_ref())
            } else {
                let k = ES384PublicKey::from_jwk(&s).map_err(err)?;
                KeyMaterial::P384(*k.public_key().as_ref())
            };
            (fixed, material)
        }
        "OKP" => {
            match optional_str(jwk, "crv", &label)? {
                Some("Ed25519") => {}
                Some(_) => return Ok(None),
                None => return Err(invalid(format!("{label}: OKP key without crv"))),
            }
            if let Some(a) = alg
                && a != Algorithm::EdDsa
            {
                return Err(wrong_alg(a));
            }
            let k = Ed25519PublicKey::from_jwk(&json()).map_err(|e| import_error(&label, &e))?;
            (
                Algorithm::EdDsa,
                KeyMaterial::Ed25519(*k.public_key().as_ref()),
            )
        }
        _ => return Ok(None),
    };
    Ok(Some(VerificationKey { kid, alg, material }))
}
