//! Durable append throughput: fsync per record against group commit, on the disk that holds
//! `target/` (not /tmp, which may be memory-backed).
//!
//! `cargo bench -p crmguard-store --bench audit_log`
//!
//! A plain harness: each mode appends a fixed number of records through `AuditLog` (every
//! record acknowledged only once durable) and reports records per second.
#![allow(clippy::unwrap_used, clippy::print_stdout)] // a benchmark binary

use std::time::{Duration, Instant};

use crmguard_core::{
    Activity, AuditEvent, AuditFieldAction, AuditSigningKey, Decision, EventActor, EventClass,
    EventField, EventResource, Outcome, RecordOptions,
};
use crmguard_store::audit_log::{AuditLog, Durability, LogOptions};

fn event() -> AuditEvent {
    AuditEvent {
        class: EventClass::ApiActivity,
        activity: Activity::Update,
        actor: EventActor {
            uid: "user-1001".into(),
            tenant: "acme".into(),
            roles: vec!["sales".into()],
        },
        source: None,
        operation: Some("contacts.update".into()),
        request_id: Some("req-0123456789".into()),
        resources: vec![EventResource {
            kind: "contact".into(),
            uid: "c-42".into(),
            fields: vec![EventField {
                name: "email".into(),
                action: AuditFieldAction::Encrypt,
            }],
        }],
        outcome: Outcome {
            decision: Decision::Allow,
            reason: None,
        },
    }
}

fn run(name: &str, durability: Durability, n: u64) {
    let base = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    let dir = tempfile::tempdir_in(base).unwrap();
    let key = AuditSigningKey::from_seed(&[1; 32], [2; 32]);
    let opts = LogOptions {
        durability,
        checkpoint_every: Some(10_000),
        rotate_bytes: None,
        record: RecordOptions::new("0.1.0", Some(key.pseudonym_key().clone())),
        trusted_keys: Vec::new(),
        new_log_id: "bench".into(),
    };
    let (mut log, _) = AuditLog::open(&dir.path().join("bench.jsonl"), key, opts).unwrap();
    let ev = event();
    let start = Instant::now();
    for i in 0..n {
        log.append(&ev, 1_700_000_000_000 + i).unwrap();
    }
    log.commit(0).unwrap();
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(log.durable_size(), n);
    println!(
        "{name:<34} {n:>7} records in {secs:>6.3} s = {:>10.0} records/s",
        n as f64 / secs
    );
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` would too: run only for benches.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    run("durable, fsync per record", Durability::PerRecord, 2_000);
    for (records, ms) in [(64, 10), (256, 10), (1024, 50)] {
        run(
            &format!("durable, group commit {records} rec/{ms} ms"),
            Durability::Group {
                max_records: records,
                max_delay: Duration::from_millis(ms),
            },
            100_000,
        );
    }
}
