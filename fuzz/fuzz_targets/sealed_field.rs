#![no_main]
//! Parsing and opening arbitrary sealed values never panics, and nothing forged opens.
use crmguard_core::{FieldContext, Key256, Keyring, SealedField};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let keyring = Keyring::from_keys(1, Key256::from_bytes([1; 32]), Key256::from_bytes([2; 32]), 0).unwrap();
    let ctx = FieldContext::new("t", "o", "r", "f").unwrap();
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(f) = SealedField::from_text(text) {
            assert!(keyring.open(&ctx, &f).is_err(), "a forged value opened");
        }
    }
    if let Ok(f) = SealedField::from_bytes(data) {
        assert!(keyring.open(&ctx, &f).is_err(), "a forged value opened");
    }
});
