#![no_main]
//! Arbitrary tokens against fixed key sets (HMAC, and ES256 + RSA) give a typed error (or, for
//! an astronomically lucky input, claims), never a panic.
use crmguard_core::{KeySet, VerificationOptions};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

const HMAC_JWKS: &str = r#"{"keys":[{"kty":"oct","kid":"hs","k":"WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlo"}]}"#;
const ASYM_JWKS: &str = r#"{"keys":[{"kty":"EC","crv":"P-256","kid":"ec","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},{"kty":"RSA","kid":"rsa","e":"AQAB","n":"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ"}]}"#;

fn sets() -> &'static [KeySet; 2] {
    static SETS: OnceLock<[KeySet; 2]> = OnceLock::new();
    // The two documents are constants that import (checked by the core's tests).
    SETS.get_or_init(|| {
        [
            KeySet::from_json(HMAC_JWKS).expect("constant key set"),
            KeySet::from_json(ASYM_JWKS).expect("constant key set"),
        ]
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(token) = std::str::from_utf8(data) {
        for set in sets() {
            let _ = set.verify_jwt(token, &VerificationOptions::waive_issuer_and_audience(), 1_764_400_000);
        }
    }
});
