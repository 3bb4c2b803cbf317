#![no_main]
//! Arbitrary key-set documents give a typed error or a key set, never a panic.
use crmguard_core::KeySet;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = KeySet::from_json(text);
    }
});
