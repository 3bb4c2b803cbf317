//! Proofs from the writer's index (block roots, block offsets, checkpoints) are the proofs
//! built from the whole verified log, across rotated files and after reopening; a file
//! changed after it was written yields an error, never a proof.
#![allow(clippy::unwrap_used)] // test code: a panic is a test failure

use std::path::Path;

use crmguard_core::{
    Activity, Anchor, AuditEvent, AuditSigningKey, Checkpoint, ConsistencyProof, Decision,
    EventActor, EventClass, EventResource, InclusionProof, Outcome, RecordOptions,
};
use crmguard_store::audit_log::{AuditLog, Durability, LogOptions, log_files, verify_log};
use crmguard_store::audit_proofs::{BLOCK, ProofIndex};

fn key() -> AuditSigningKey {
    AuditSigningKey::from_seed(&[5; 32], [6; 32])
}

fn options() -> LogOptions {
    LogOptions {
        durability: Durability::Explicit,
        checkpoint_every: Some(700),
        // A few hundred records per file: blocks span rotated files.
        rotate_bytes: Some(200_000),
        record: RecordOptions::new("0.1.0", Some(key().pseudonym_key().clone())),
        trusted_keys: Vec::new(),
        new_log_id: "log-proofs-test".into(),
    }
}

fn event(i: u64) -> AuditEvent {
    AuditEvent {
        class: EventClass::ApiActivity,
        activity: Activity::Read,
        actor: EventActor {
            uid: "u".into(),
            tenant: "t".into(),
            roles: vec![],
        },
        source: None,
        operation: None,
        request_id: Some(format!("r{i}")),
        resources: vec![EventResource {
            kind: "deal".into(),
            uid: format!("d{i:06}"),
            fields: vec![],
        }],
        outcome: Outcome {
            decision: Decision::Allow,
            reason: None,
        },
    }
}

/// 2 600 records (two complete blocks and a tail), committed in batches of 100.
fn write(path: &Path) -> AuditLog {
    let (mut log, _) = AuditLog::open(path, key(), options()).unwrap();
    for i in 0..2600 {
        log.append(&event(i), 1000 + i).unwrap();
        if i % 100 == 99 {
            log.commit(1000 + i).unwrap();
        }
    }
    log.checkpoint(9000).unwrap();
    log
}

/// Every checkpoint in the log's files.
fn checkpoints(path: &Path) -> Vec<Checkpoint> {
    let mut out = Vec::new();
    for f in log_files(path).unwrap() {
        for line in std::fs::read_to_string(f).unwrap().lines() {
            if crmguard_core::is_checkpoint_line(line) {
                out.push(Checkpoint::parse(line, 0).unwrap());
            }
        }
    }
    out
}

const SEQS: [u64; 10] = [0, 1, 699, 1023, 1024, 1399, 2047, 2048, 2100, 2599];

/// Compares every inclusion and consistency proof the index gives with the whole-log ones;
/// returns how many were compared.
fn compare(index: &ProofIndex, path: &Path) -> usize {
    let keys = vec![key().verifying_key()];
    let log = verify_log(path, keys.clone(), &Anchor::default()).unwrap();
    let cps = checkpoints(path);
    // At each rotation, 700 records after the last one, and at the end.
    assert!(cps.len() > 4, "{} checkpoints", cps.len());
    assert_eq!(cps.last().map(|c| c.size), Some(2600));
    let mut compared = 0;
    for cp in &cps {
        assert_eq!(index.checkpoint_of_size(cp.size), Some(cp));
        for seq in SEQS.iter().copied().filter(|s| *s < cp.size) {
            let record = index.record(seq).unwrap().unwrap();
            let got = index.inclusion(record.clone(), cp.clone()).unwrap();
            let want = InclusionProof::build(&log, record, cp.clone()).unwrap();
            assert_eq!(got, want, "seq {seq} in {}", cp.size);
            got.verify(&keys).unwrap();
            compared += 1;
        }
        for old in cps.iter().filter(|o| o.size <= cp.size) {
            let got = index.consistency(old.clone(), cp.clone()).unwrap();
            let want = ConsistencyProof::build(&log, old.clone(), cp.clone()).unwrap();
            assert_eq!(got, want, "{} to {}", old.size, cp.size);
            got.verify(&keys).unwrap();
            compared += 1;
        }
    }
    assert_eq!(index.last_checkpoint(), cps.last());
    compared
}

#[test]
fn proofs_from_the_index_are_the_whole_log_proofs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.jsonl");
    let log = write(&path);
    assert!(log_files(&path).unwrap().len() >= 4, "the log rotated");
    let index = log.proof_index();
    assert_eq!(index.size(), 2600);
    assert_eq!(index.record(2600).unwrap(), None);
    // Live (the index the writer kept), then rebuilt by reopening the log.
    let live = compare(&index, &path);
    log.close(9001).unwrap();
    let (log, _) = AuditLog::open(&path, key(), options()).unwrap();
    let reopened = compare(&log.proof_index(), &path);
    // Per checkpoint: an inclusion proof per listed seq below its size, and a consistency
    // proof from each checkpoint up to it.
    let cps = checkpoints(&path);
    let expected: usize = cps
        .iter()
        .map(|c| {
            SEQS.iter().filter(|s| **s < c.size).count()
                + cps.iter().filter(|o| o.size <= c.size).count()
        })
        .sum();
    assert!(expected > 38, "{expected}");
    assert_eq!((live, reopened), (expected, expected));
}

/// The index holds only what is durable: records appended but not committed are not in it.
#[test]
fn the_index_covers_the_durable_log_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.jsonl");
    let mut log = write(&path);
    log.append(&event(2600), 9100).unwrap();
    assert_eq!(log.proof_index().size(), 2600);
    assert_eq!(log.proof_index().record(2600).unwrap(), None);
    log.commit(9101).unwrap();
    assert_eq!(log.proof_index().size(), 2601);
    assert!(log.proof_index().record(2600).unwrap().is_some());
}

/// Rewrites the line holding `needle` in whichever file of the log holds it, same length.
fn tamper(path: &Path, needle: &str, with: &str) {
    assert_eq!(needle.len(), with.len());
    for f in log_files(path).unwrap() {
        let text = std::fs::read_to_string(&f).unwrap();
        if text.contains(needle) {
            std::fs::write(&f, text.replacen(needle, with, 1)).unwrap();
            return;
        }
    }
    panic!("{needle} not found");
}

#[test]
fn a_file_changed_after_it_was_written_yields_no_proof() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.jsonl");
    let log = write(&path);
    let index = log.proof_index();
    let last = index.last_checkpoint().cloned().unwrap();
    // Record 5's content changed (its hash member kept): it no longer matches its hash.
    tamper(&path, "\"uid\":\"d000005\"", "\"uid\":\"d000006\"");
    let e = index.record(5).unwrap_err();
    assert_eq!(e.code(), "ERR_AUDIT_PROOF");
    assert!(
        e.to_string().contains("changed after they were written"),
        "{e}"
    );
    // Record 6's hash member changed: block 0 no longer hashes to its root, so nothing that
    // reads block 0 is proven; a proof that only needs block 0's root (from memory) still is.
    let rec6 = index.record(6).unwrap().unwrap();
    let h = rec6.hash.to_hex();
    let flipped = format!("{}{}", if &h[..1] == "0" { "1" } else { "0" }, &h[1..]);
    tamper(&path, &h, &flipped);
    let e = index.record(7).unwrap_err();
    assert!(e.to_string().contains("block 0"), "{e}");
    let e = index.inclusion(rec6, last.clone()).unwrap_err();
    assert!(e.to_string().contains("block 0"), "{e}");
    let far = index.record(BLOCK + 5).unwrap().unwrap();
    index
        .inclusion(far, last)
        .unwrap()
        .verify(&[key().verifying_key()])
        .unwrap();
}
