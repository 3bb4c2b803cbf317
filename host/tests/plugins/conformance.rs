//! The crypto component opens every published sealed-field vector byte-identically to
//! crmguard-core, and fails the invalid ones with core's code.

use std::sync::Arc;

use crmguard_conformance::vector_keyring;
use crmguard_core::{FieldContext, SubjectId};
use crmguard_host::StaticKeys;
use serde_json::Value;

use crate::support::fixture;

fn vectors() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/vectors/sealed-fields.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn context(v: &Value) -> FieldContext {
    let s = |k: &str| v[k].as_str().unwrap();
    let mut ctx = FieldContext::new(s("tenant"), s("object"), s("record"), s("field")).unwrap();
    if let Some(subject) = v["subject"].as_str() {
        ctx = ctx.with_subject(SubjectId::new(subject).unwrap());
    }
    ctx
}

#[test]
fn every_valid_vector_opens_identically_through_the_component() {
    let f = fixture();
    let doc = vectors();
    let mut opened = 0;
    for v in doc["vectors"].as_array().unwrap() {
        let keyring = vector_keyring(
            v["key_hex"].as_str().unwrap(),
            u32::try_from(v["key_id"].as_u64().unwrap()).unwrap(),
            v["subject"].as_str(),
        )
        .unwrap();
        let ctx = context(v);
        let sealed = v["sealed"].as_str().unwrap();
        let native = keyring.open_text(&ctx, sealed).unwrap();
        let crypto = f
            .crypto
            .with_keys(Arc::new(StaticKeys::new(keyring.to_cleartext_json())));
        let mut session = crypto.session(ctx.tenant.as_str()).unwrap();
        let component = session.open(&ctx, sealed).unwrap();
        assert_eq!(component, native, "vector {}", v["id"]);
        assert_eq!(
            hex::encode(&component),
            v["plaintext_hex"].as_str().unwrap()
        );
        opened += 1;
    }
    assert_eq!(opened, 22, "every published vector");
}

#[test]
fn every_invalid_vector_fails_with_cores_code_through_the_component() {
    let f = fixture();
    let doc = vectors();
    let invalid = doc["invalid"].as_array().unwrap();
    assert!(!invalid.is_empty());
    let mut checked = 0;
    for v in invalid {
        let sealed = v["sealed"].as_str().unwrap();
        let keyring = vector_keyring(
            v["key_hex"].as_str().unwrap(),
            u32::try_from(v["key_id"].as_u64().unwrap()).unwrap(),
            v["subject"].as_str(),
        )
        .unwrap();
        let ctx = context(v);
        let native = keyring.open_text(&ctx, sealed).unwrap_err();
        let crypto = f
            .crypto
            .with_keys(Arc::new(StaticKeys::new(keyring.to_cleartext_json())));
        let e = crypto
            .session(ctx.tenant.as_str())
            .unwrap()
            .open(&ctx, sealed)
            .unwrap_err();
        assert_eq!(e.code, native.code(), "invalid vector {}", v["id"]);
        assert_eq!(
            Some(e.code),
            v["error"].as_str(),
            "invalid vector {}",
            v["id"]
        );
        checked += 1;
    }
    assert_eq!(checked, 10, "every published invalid vector");
}
