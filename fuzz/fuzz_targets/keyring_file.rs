#![no_main]
//! Arbitrary keyring files give a typed error or a keyring, never a panic.
use crmguard_core::{Key256, Keyring, KeyringFileOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Keyring::from_json(text, &KeyringFileOptions::insecure_cleartext());
        let _ = Keyring::from_json(
            text,
            &KeyringFileOptions::protected(&Key256::from_bytes([3; 32])),
        );
    }
});
