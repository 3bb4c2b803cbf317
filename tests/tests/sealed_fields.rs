//! The published sealed-field vectors: the committed file is reproduced byte for byte by
//! crmguard-core, every valid vector opens to its plaintext, every invalid one fails with
//! its code, and every blind index matches.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use crmguard_conformance::{sealed_field_vectors, vector_keyring};
use crmguard_core::{FieldContext, SubjectId};
use serde_json::Value;

const FILE: &str = include_str!("../vectors/sealed-fields.json");

fn ctx(v: &Value) -> FieldContext {
    let s = |k: &str| v[k].as_str().unwrap();
    let c = FieldContext::new(s("tenant"), s("object"), s("record"), s("field")).unwrap();
    match v["subject"].as_str() {
        Some(subject) => c.with_subject(SubjectId::new(subject).unwrap()),
        None => c,
    }
}

fn keyring(v: &Value) -> crmguard_core::Keyring {
    let subject = if v["scope"] == "subject" {
        // Invalid subject vectors omit the subject from the context on purpose; the key
        // belongs to the valid vector's subject.
        Some(v["subject"].as_str().unwrap_or("contact-0042"))
    } else {
        None
    };
    vector_keyring(
        v["key_hex"].as_str().unwrap(),
        v["key_id"].as_u64().unwrap() as u32,
        subject,
    )
    .unwrap()
}

#[test]
fn committed_file_is_reproduced_exactly() {
    let committed: Value = serde_json::from_str(FILE).unwrap();
    let now = sealed_field_vectors().unwrap();
    assert_eq!(
        committed, now,
        "tests/vectors/sealed-fields.json is stale: run `cargo xtask vectors`"
    );
}

#[test]
fn valid_vectors_open() {
    let doc: Value = serde_json::from_str(FILE).unwrap();
    let mut ran = 0;
    for v in doc["vectors"].as_array().unwrap() {
        let k = keyring(v);
        let opened = k.open_text(&ctx(v), v["sealed"].as_str().unwrap()).unwrap();
        assert_eq!(
            hex::encode(opened),
            v["plaintext_hex"].as_str().unwrap(),
            "vector {}",
            v["id"]
        );
        ran += 1;
    }
    assert_eq!(ran, 22);
}

#[test]
fn invalid_vectors_fail_with_their_code() {
    let doc: Value = serde_json::from_str(FILE).unwrap();
    let mut ran = 0;
    for v in doc["invalid"].as_array().unwrap() {
        let k = keyring(v);
        let err = k
            .open_text(&ctx(v), v["sealed"].as_str().unwrap())
            .unwrap_err();
        assert_eq!(
            err.code(),
            v["error"].as_str().unwrap(),
            "invalid vector {}",
            v["id"]
        );
        ran += 1;
    }
    assert_eq!(ran, 10);
}

#[test]
fn blind_index_vectors_match() {
    let doc: Value = serde_json::from_str(FILE).unwrap();
    let k = crmguard_core::Keyring::from_keys(
        1,
        crmguard_core::Key256::from_bytes([0; 32]),
        crmguard_conformance::vector_blind_root(),
        0,
    )
    .unwrap();
    let mut ran = 0;
    for v in doc["blind_indexes"].as_array().unwrap() {
        let spec: crmguard_core::BlindIndexSpec = serde_json::from_value(
            serde_json::json!({"normalize": v["normalize"], "bits": v["bits"]}),
        )
        .unwrap();
        let idx = k
            .blind_index(
                &v["tenant"].as_str().unwrap().parse().unwrap(),
                &v["object"].as_str().unwrap().parse().unwrap(),
                &v["field"].as_str().unwrap().parse().unwrap(),
                &spec,
                v["value"].as_str().unwrap(),
            )
            .unwrap();
        assert_eq!(idx.as_str(), v["index"].as_str().unwrap());
        ran += 1;
    }
    assert_eq!(ran, 7);
}
