#![no_main]
//! Arbitrary lines through the audit verifier, and arbitrary proof and key documents through
//! their parsers: typed errors, never panics; a line that verifies re-renders to itself.
use crmguard_core::{
    Anchor, AuditRecord, AuditSigningKey, AuditVerifyingKey, ChainVerifier, Checkpoint, parse_proof,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let key = AuditSigningKey::from_seed(&[1; 32], [2; 32]).verifying_key();
    let mut v = ChainVerifier::new(vec![key.clone()]);
    for line in text.lines() {
        if v.push_line(line).is_err() {
            break;
        }
        if let Ok(r) = AuditRecord::parse_line(line, 0) {
            assert_eq!(r.to_line(), line);
        }
    }
    let _ = v.finish(&Anchor::default());
    let _ = Checkpoint::parse(text, 0);
    if let Ok(p) = parse_proof(text) {
        let _ = p.verify(&[key]);
    }
    let _ = AuditVerifyingKey::from_json(text);
    let _ = AuditSigningKey::from_json(text);
});
