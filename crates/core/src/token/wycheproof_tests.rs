//! Wycheproof (C2SP/wycheproof, testvectors_v1, Apache-2.0) through the verifier's own key
//! import ([`KeySet::from_json`]) and signature check (`VerificationKey::verify_signature`,
//! the call every token verification makes). Each suite counts its cases and asserts the
//! count; a case is only ever "not run" for a reason asserted here (a key or tag our policy
//! refuses), and those are counted too.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::*;

const ECDSA_P256: &str =
    include_str!("../../../../tests/vectors/wycheproof/ecdsa_secp256r1_sha256_p1363_test.json");
const ED25519: &str = include_str!("../../../../tests/vectors/wycheproof/ed25519_test.json");
const RSA_PKCS1: &str =
    include_str!("../../../../tests/vectors/wycheproof/rsa_signature_2048_sha256_test.json");
const RSA_PSS: &str =
    include_str!("../../../../tests/vectors/wycheproof/rsa_pss_2048_sha256_mgf1_32_test.json");
const HMAC: &str = include_str!("../../../../tests/vectors/wycheproof/hmac_sha256_test.json");
const JWK: &str = include_str!("../../../../tests/vectors/wycheproof/json_web_key_test.json");

fn b64(hex_str: &str) -> String {
    URL_SAFE_NO_PAD.encode(hex::decode(hex_str).unwrap())
}

/// Strips the sign byte Wycheproof puts in front of big-endian integers.
fn unsigned(hex_str: &str) -> &str {
    hex_str.trim_start_matches("00")
}

#[derive(Default, Debug, PartialEq)]
struct Tally {
    /// Valid cases that verified.
    valid: usize,
    /// Invalid cases that were rejected.
    invalid: usize,
    /// "acceptable" cases (either outcome is allowed by Wycheproof).
    acceptable: usize,
    /// Cases whose key our import refuses by policy; none of them may be "valid" unless the
    /// suite says which.
    key_refused: usize,
}

fn run_signature_file(doc: &str, jwk_of: impl Fn(&Value) -> Value) -> (Tally, usize, Vec<u64>) {
    let doc: Value = serde_json::from_str(doc).unwrap();
    let mut t = Tally::default();
    let mut refused_valid = Vec::new();
    for group in doc["testGroups"].as_array().unwrap() {
        let jwk = jwk_of(group);
        let set = KeySet::from_json(&json!({ "keys": [jwk] }).to_string());
        for case in group["tests"].as_array().unwrap() {
            let id = case["tcId"].as_u64().unwrap();
            let result = case["result"].as_str().unwrap();
            let Ok(set) = &set else {
                t.key_refused += 1;
                if result == "valid" {
                    refused_valid.push(id);
                }
                continue;
            };
            let key = set.select(None).unwrap();
            let msg = hex::decode(case["msg"].as_str().unwrap()).unwrap();
            let sig = hex::decode(case["sig"].as_str().unwrap()).unwrap();
            let ok = key.verify_signature(&msg, &sig).is_ok();
            match result {
                "valid" => {
                    assert!(ok, "tcId {id} is valid but did not verify");
                    t.valid += 1;
                }
                "invalid" => {
                    assert!(!ok, "tcId {id} is invalid but verified");
                    t.invalid += 1;
                }
                "acceptable" => t.acceptable += 1,
                other => panic!("unknown result {other}"),
            }
        }
    }
    let total = doc["numberOfTests"].as_u64().unwrap() as usize;
    (t, total, refused_valid)
}

#[test]
fn ecdsa_secp256r1_sha256_p1363() {
    let (t, total, refused) = run_signature_file(ECDSA_P256, |g| {
        let point = g["publicKey"]["uncompressed"].as_str().unwrap();
        assert!(point.starts_with("04") && point.len() == 130);
        json!({ "kty": "EC", "crv": "P-256", "x": b64(&point[2..66]), "y": b64(&point[66..]) })
    });
    assert_eq!(
        t,
        Tally {
            valid: 173,
            invalid: 89,
            acceptable: 0,
            key_refused: 0
        }
    );
    assert_eq!(t.valid + t.invalid, total);
    assert!(refused.is_empty());
}

#[test]
fn ed25519() {
    let (t, total, refused) = run_signature_file(
        ED25519,
        |g| json!({ "kty": "OKP", "crv": "Ed25519", "x": b64(g["publicKey"]["pk"].as_str().unwrap()) }),
    );
    assert_eq!(
        t,
        Tally {
            valid: 88,
            invalid: 63,
            acceptable: 0,
            key_refused: 0
        }
    );
    assert_eq!(t.valid + t.invalid, total);
    assert!(refused.is_empty());
}

fn rsa_jwk(g: &Value, alg: &str) -> Value {
    let pk = &g["publicKey"];
    json!({
        "kty": "RSA",
        "alg": alg,
        "n": b64(unsigned(pk["modulus"].as_str().unwrap())),
        "e": b64(unsigned(pk["publicExponent"].as_str().unwrap())),
    })
}

#[test]
fn rsa_signature_2048_sha256() {
    let (t, total, refused) = run_signature_file(RSA_PKCS1, |g| rsa_jwk(g, "RS256"));
    // Two groups use e = 3; jwt-simple's import (and so ours) only takes e = 65537. Their one
    // case each is a valid signature under that key: refused by policy, asserted here.
    assert_eq!(
        t,
        Tally {
            valid: 7,
            invalid: 249,
            acceptable: 1,
            key_refused: 2
        }
    );
    assert_eq!(refused.len(), 2);
    assert_eq!(t.valid + t.invalid + t.acceptable + t.key_refused, total);
}

#[test]
fn rsa_pss_2048_sha256_mgf1_32() {
    let (t, total, refused) = run_signature_file(RSA_PSS, |g| {
        assert_eq!(
            (g["sLen"].as_u64(), g["mgfSha"].as_str()),
            (Some(32), Some("SHA-256"))
        );
        rsa_jwk(g, "PS256")
    });
    assert_eq!(
        t,
        Tally {
            valid: 63,
            invalid: 45,
            acceptable: 0,
            key_refused: 0
        }
    );
    assert_eq!(t.valid + t.invalid, total);
    assert!(refused.is_empty());
}

/// HMAC-SHA256 through an `oct` key fixed to HS256. Full-length tags are checked against the
/// file's verdict; truncated tags (tagSize 128) are not HS256 and must all be refused; 16-byte
/// keys are refused at import (HS256 needs 32).
#[test]
fn hmac_sha256() {
    let doc: Value = serde_json::from_str(HMAC).unwrap();
    let (mut valid, mut invalid, mut truncated_refused, mut weak_key) = (0, 0, 0, 0);
    for group in doc["testGroups"].as_array().unwrap() {
        let tag_bits = group["tagSize"].as_u64().unwrap();
        for case in group["tests"].as_array().unwrap() {
            let id = case["tcId"].as_u64().unwrap();
            let key = hex::decode(case["key"].as_str().unwrap()).unwrap();
            let jwk = json!({ "kty": "oct", "alg": "HS256", "k": URL_SAFE_NO_PAD.encode(&key) });
            let set = KeySet::from_json(&json!({ "keys": [jwk] }).to_string());
            let Ok(set) = set else {
                assert!(
                    key.len() < 32,
                    "tcId {id}: a {}-byte key was refused",
                    key.len()
                );
                assert_eq!(set.unwrap_err().code(), "ERR_JWKS_WEAK_KEY");
                weak_key += 1;
                continue;
            };
            let msg = hex::decode(case["msg"].as_str().unwrap()).unwrap();
            let tag = hex::decode(case["tag"].as_str().unwrap()).unwrap();
            let ok = set
                .select(None)
                .unwrap()
                .verify_signature(&msg, &tag)
                .is_ok();
            if tag_bits != 256 {
                assert!(!ok, "tcId {id}: a truncated tag verified");
                truncated_refused += 1;
            } else if case["result"] == "valid" {
                assert!(ok, "tcId {id} is valid but did not verify");
                valid += 1;
            } else {
                assert!(!ok, "tcId {id} is invalid but verified");
                invalid += 1;
            }
        }
    }
    assert_eq!(
        (valid, invalid, truncated_refused, weak_key),
        (30, 54, 84, 6)
    );
    assert_eq!(valid + invalid + truncated_refused + weak_key, 174);
    assert_eq!(doc["numberOfTests"], 174);
}

/// JWK sets: each group's key set (public if given, else private) through `KeySet::from_json`,
/// each JWS through `KeySet::verify_jws`. A set we refuse counts as rejecting its JWSs.
#[test]
fn json_web_key() {
    let doc: Value = serde_json::from_str(JWK).unwrap();
    let (mut accepted, mut rejected_by_set, mut rejected_by_verify) = (0, 0, 0);
    let mut set_codes = Vec::new();
    for group in doc["testGroups"].as_array().unwrap() {
        let keys = group.get("public").unwrap_or(&group["private"]);
        let set = KeySet::from_json(&keys.to_string());
        for case in group["tests"].as_array().unwrap() {
            let id = case["tcId"].as_u64().unwrap();
            let valid = case["result"] == "valid";
            let outcome = set.as_ref().map_err(|e| e.code()).and_then(|s| {
                s.verify_jws(
                    case["jws"].as_str().unwrap(),
                    &VerificationOptions::waive_issuer_and_audience(),
                )
                .map_err(|e| e.code())
            });
            match outcome {
                Ok(v) => {
                    assert!(
                        valid,
                        "tcId {id} ({}) is invalid but verified",
                        case["comment"]
                    );
                    assert_eq!(v.payload(), b"foo");
                    accepted += 1;
                }
                Err(code) => {
                    assert!(!valid, "tcId {id} is valid but failed with {code}");
                    if set.is_err() {
                        rejected_by_set += 1;
                        set_codes.push((id, code));
                    } else {
                        rejected_by_verify += 1;
                    }
                }
            }
        }
    }
    assert_eq!((accepted, rejected_by_set, rejected_by_verify), (5, 14, 7));
    assert_eq!(doc["numberOfTests"], 26);
    // Every set-level refusal, with its code: mixed symmetric/asymmetric set (1), duplicate
    // kid (4), ROCA modulus (7), 1024-bit RSA (8), e = 1 (9), short and empty HMAC secrets
    // (10-12, 16-18), point not on the curve (22), alg/curve mismatch (23), EC members under
    // kty RSA (24). The others (3, 6, 19-21, 25, 26) fail at verification: a modified MAC,
    // or no usable key (encryption or unknown-algorithm keys are skipped).
    assert_eq!(
        set_codes,
        vec![
            (1, "ERR_JWKS_INVALID"),
            (4, "ERR_JWKS_INVALID"),
            (7, "ERR_JWKS_WEAK_KEY"),
            (8, "ERR_JWKS_WEAK_KEY"),
            (9, "ERR_JWKS_INVALID"),
            (10, "ERR_JWKS_WEAK_KEY"),
            (11, "ERR_JWKS_WEAK_KEY"),
            (12, "ERR_JWKS_WEAK_KEY"),
            (16, "ERR_JWKS_WEAK_KEY"),
            (17, "ERR_JWKS_WEAK_KEY"),
            (18, "ERR_JWKS_WEAK_KEY"),
            (22, "ERR_JWKS_INVALID"),
            (23, "ERR_JWKS_INVALID"),
            (24, "ERR_JWKS_INVALID"),
        ]
    );
}
