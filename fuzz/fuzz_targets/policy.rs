#![no_main]
//! Arbitrary policy documents give a typed error or a policy, never a panic.
use crmguard_core::Policy;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Policy::from_json(text);
    }
});
