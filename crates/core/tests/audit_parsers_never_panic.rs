//! Audit parsers on garbage and near-misses: typed errors, never panics. (The cargo-fuzz
//! target fuzz/fuzz_targets/audit_log.rs explores the same entry points with coverage.)
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use crmguard_core::{
    Anchor, AuditChain, AuditEvent, AuditRecord, AuditSigningKey, AuditVerifyingKey, ChainVerifier,
    Checkpoint, RecordOptions, parse_proof,
};
use proptest::prelude::*;

fn sample_lines() -> Vec<String> {
    let key = AuditSigningKey::from_seed(&[4; 32], [5; 32]);
    let mut chain = AuditChain::new("fuzz", RecordOptions::new("0", None)).unwrap();
    let ev: AuditEvent = serde_json::from_str(
        r#"{"class":"api_activity","activity":"read","actor":{"uid":"u","tenant":"t"},"resources":[{"type":"contact","uid":"c","fields":[{"name":"f","action":"read"}]}],"outcome":{"decision":"allow"}}"#,
    )
    .unwrap();
    let mut lines: Vec<String> = (0..3)
        .map(|i| chain.append(&ev, i).unwrap().to_line())
        .collect();
    lines.push(chain.checkpoint(&key, 9).unwrap().to_line());
    lines
}

fn verify(lines: &[String]) -> bool {
    let key = AuditSigningKey::from_seed(&[4; 32], [5; 32]).verifying_key();
    let mut v = ChainVerifier::new(vec![key]);
    lines.iter().all(|l| v.push_line(l).is_ok()) && v.finish(&Anchor::default()).is_ok()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn arbitrary_text_is_rejected_cleanly(s in "\\PC{0,300}") {
        let _ = AuditRecord::parse_line(&s, 0);
        let _ = Checkpoint::parse(&s, 0);
        let _ = parse_proof(&s);
        let _ = AuditVerifyingKey::from_json(&s);
        let _ = AuditSigningKey::from_json(&s);
        let mut v = ChainVerifier::new(vec![]);
        let _ = v.push_line(&s);
    }

    /// Splicing a random fragment into a valid line never panics and never verifies unless the
    /// line came out unchanged.
    #[test]
    fn spliced_lines_never_verify(line in 0usize..4, at in any::<usize>(), len in 0usize..20, frag in "[\\x20-\\x7e]{0,12}") {
        let mut lines = sample_lines();
        let l = &lines[line];
        let mut cut = at % (l.len() + 1);
        while !l.is_char_boundary(cut) { cut -= 1; }
        let mut end = (cut + len).min(l.len());
        while !l.is_char_boundary(end) { end -= 1; }
        let spliced = format!("{}{}{}", &l[..cut], frag, &l[end..]);
        let changed = spliced != *l;
        lines[line] = spliced;
        prop_assert_eq!(verify(&lines), !changed);
    }
}
