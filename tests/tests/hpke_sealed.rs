//! The published HPKE vectors: the committed file is reproduced byte for byte, every valid
//! vector opens to its plaintext with the published private key, and every invalid one fails
//! with its code.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use crmguard_conformance::{hpke_sealed_vectors, vector_tenant_key};
use crmguard_core::{FieldContext, TenantSealed, TenantSecretKey, open_from_tenant};
use serde_json::Value;

const FILE: &str = include_str!("../vectors/hpke-sealed.json");

fn ctx(v: &Value) -> FieldContext {
    let s = |k: &str| v[k].as_str().unwrap();
    FieldContext::new(s("tenant"), s("object"), s("record"), s("field")).unwrap()
}

#[test]
fn committed_file_is_reproduced_exactly() {
    let committed: Value = serde_json::from_str(FILE).unwrap();
    assert_eq!(committed, hpke_sealed_vectors().unwrap());
    let text = serde_json::to_string_pretty(&hpke_sealed_vectors().unwrap()).unwrap() + "\n";
    assert_eq!(text, FILE, "run `cargo xtask vectors`");
}

#[test]
fn published_key_pair_matches_its_seed() {
    let doc: Value = serde_json::from_str(FILE).unwrap();
    let (_, sk) = vector_tenant_key().unwrap();
    let published = hex::decode(doc["tenant_secret_key_hex"].as_str().unwrap()).unwrap();
    let imported = TenantSecretKey::from_bytes(&published).unwrap();
    assert_eq!(imported.public_key(), sk.public_key());
    assert_eq!(
        hex::encode(imported.public_key().to_bytes()),
        doc["tenant_public_key_hex"].as_str().unwrap()
    );
}

#[test]
fn every_valid_vector_opens_and_every_invalid_one_fails_with_its_code() {
    let doc: Value = serde_json::from_str(FILE).unwrap();
    let sk = TenantSecretKey::from_bytes(
        &hex::decode(doc["tenant_secret_key_hex"].as_str().unwrap()).unwrap(),
    )
    .unwrap();
    let valid = doc["vectors"].as_array().unwrap();
    assert_eq!(valid.len(), 7);
    for v in valid {
        let sealed = TenantSealed::from_text(v["sealed"].as_str().unwrap()).unwrap();
        let plain = open_from_tenant(&sk, &ctx(v), &sealed).unwrap();
        assert_eq!(hex::encode(plain), v["plaintext_hex"].as_str().unwrap());
    }
    let invalid = doc["invalid"].as_array().unwrap();
    assert_eq!(invalid.len(), 11);
    for v in invalid {
        let err = TenantSealed::from_text(v["sealed"].as_str().unwrap())
            .and_then(|s| open_from_tenant(&sk, &ctx(v), &s))
            .unwrap_err();
        assert_eq!(err.code(), v["error"].as_str().unwrap(), "{}", v["comment"]);
    }
}
