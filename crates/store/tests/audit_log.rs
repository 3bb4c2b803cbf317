//! The durable log: torn tails, locking, rotation, group commit, tamper on open.
#![allow(clippy::unwrap_used)] // test code: a panic is a test failure

use std::path::Path;
use std::time::Duration;

use crmguard_core::{
    Activity, Anchor, AuditEvent, AuditSigningKey, Decision, EventActor, EventClass, EventResource,
    Outcome, RecordOptions,
};
use crmguard_store::audit_log::{AuditLog, Durability, LogOptions, head_path, verify_log};

fn key() -> AuditSigningKey {
    AuditSigningKey::from_seed(&[5; 32], [6; 32])
}

fn options(durability: Durability) -> LogOptions {
    LogOptions {
        durability,
        checkpoint_every: Some(5),
        rotate_bytes: None,
        record: RecordOptions::new("0.1.0", Some(key().pseudonym_key().clone())),
        trusted_keys: Vec::new(),
        new_log_id: "log-host-test".into(),
    }
}

fn event(i: u64) -> AuditEvent {
    AuditEvent {
        class: EventClass::ApiActivity,
        activity: Activity::Update,
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
            uid: format!("d{i}"),
            fields: vec![],
        }],
        outcome: Outcome {
            decision: Decision::Allow,
            reason: None,
        },
    }
}

fn append_n(path: &Path, n: u64, opts: LogOptions) -> u64 {
    let (mut log, _) = AuditLog::open(path, key(), opts).unwrap();
    for i in 0..n {
        log.append(&event(i), 1000 + i).unwrap();
    }
    let size = log.size();
    log.close(5000).unwrap();
    size
}

fn verify(path: &Path) -> Result<u64, String> {
    verify_log(path, vec![key().verifying_key()], &Anchor::default())
        .map(|v| v.size)
        .map_err(|e| format!("{}: {e}", e.code()))
}

#[test]
fn per_record_appends_are_durable_on_return_and_reopen_continues() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.jsonl");
    let (mut log, report) = AuditLog::open(&p, key(), options(Durability::PerRecord)).unwrap();
    assert!(report.new_log && report.torn.is_none());
    for i in 0..3 {
        let a = log.append(&event(i), 1).unwrap();
        assert_eq!((a.seq, a.durable_size), (i, i + 1));
        // On disk already: the file has i + 1 lines.
        let text = std::fs::read_to_string(&p).unwrap();
        assert_eq!(text.lines().count() as u64, i + 1);
    }
    drop(log);
    assert_eq!(append_n(&p, 4, options(Durability::PerRecord)), 7);
    assert_eq!(verify(&p), Ok(7));
    assert!(head_path(&p).exists());
}

#[test]
fn group_commit_acknowledges_only_after_the_commit() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("g.jsonl");
    let mut opts = options(Durability::Group {
        max_records: 4,
        max_delay: Duration::from_secs(3600),
    });
    opts.checkpoint_every = None;
    let (mut log, _) = AuditLog::open(&p, key(), opts).unwrap();
    for i in 0..3 {
        let a = log.append(&event(i), 1).unwrap();
        assert_eq!(
            a.durable_size, 0,
            "record {i} acknowledged before its commit"
        );
        assert_eq!(std::fs::metadata(&p).unwrap().len(), 0);
    }
    let a = log.append(&event(3), 1).unwrap();
    assert_eq!(a.durable_size, 4);
    assert_eq!(std::fs::read_to_string(&p).unwrap().lines().count(), 4);
    log.append(&event(4), 1).unwrap();
    assert_eq!(log.durable_size(), 4);
    assert_eq!(log.commit(2).unwrap(), 5);
    log.close(3).unwrap();
    assert_eq!(verify(&p), Ok(5));

    // A zero delay commits on the next check.
    let p2 = dir.path().join("g2.jsonl");
    let (mut log, _) = AuditLog::open(
        &p2,
        key(),
        options(Durability::Group {
            max_records: 1000,
            max_delay: Duration::ZERO,
        }),
    )
    .unwrap();
    assert_eq!(log.append(&event(0), 1).unwrap().durable_size, 1);
    assert_eq!(log.commit_if_due(1).unwrap(), 1);
}

#[test]
fn a_torn_last_line_is_reported_cut_and_the_chain_continues() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("t.jsonl");
    append_n(&p, 3, options(Durability::PerRecord));
    let good = std::fs::read(&p).unwrap();
    let mut torn = good.clone();
    torn.extend_from_slice(b"{\"activity_id\":2,\"actor\":{\"us");
    std::fs::write(&p, &torn).unwrap();
    assert!(
        verify(&p)
            .unwrap_err()
            .starts_with("ERR_AUDIT_TORN: seq 3:")
    );
    let (mut log, report) = AuditLog::open(&p, key(), options(Durability::PerRecord)).unwrap();
    let t = report.torn.unwrap();
    assert_eq!((t.good_len, t.bytes), (good.len() as u64, 29));
    assert_eq!(report.size, 3);
    assert_eq!(std::fs::read(&p).unwrap(), good);
    assert_eq!(log.append(&event(9), 9).unwrap().seq, 3);
    log.close(10).unwrap();
    assert_eq!(verify(&p), Ok(4));
}

#[test]
fn a_second_writer_is_locked_out() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("l.jsonl");
    let (log, _) = AuditLog::open(&p, key(), options(Durability::PerRecord)).unwrap();
    let err = AuditLog::open(&p, key(), options(Durability::PerRecord)).unwrap_err();
    assert_eq!(err.code(), "ERR_AUDIT_LOCKED");
    drop(log);
    AuditLog::open(&p, key(), options(Durability::PerRecord)).unwrap();
}

#[test]
fn rotation_continues_the_chain_across_files() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("r.jsonl");
    let mut opts = options(Durability::Group {
        max_records: 3,
        max_delay: Duration::from_secs(60),
    });
    opts.rotate_bytes = Some(3000);
    assert_eq!(append_n(&p, 40, opts.clone()), 40);
    let seg1 = dir.path().join("r.jsonl.000001");
    let seg2 = dir.path().join("r.jsonl.000002");
    assert!(seg1.exists() && seg2.exists());
    assert_eq!(verify(&p), Ok(40));
    // Reopening continues in the active file.
    assert_eq!(append_n(&p, 5, opts), 45);
    assert_eq!(verify(&p), Ok(45));
    // A deleted middle segment is a gap.
    std::fs::rename(&seg2, dir.path().join("elsewhere")).unwrap();
    assert!(verify(&p).unwrap_err().starts_with("ERR_AUDIT_SEQ: seq "));
}

#[test]
fn tampering_and_truncation_stop_the_writer() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("x.jsonl");
    append_n(&p, 6, options(Durability::PerRecord));
    let text = std::fs::read_to_string(&p).unwrap();
    // Modified record: not repaired, reported.
    std::fs::write(&p, text.replacen("\"uid\":\"d2\"", "\"uid\":\"dX\"", 1)).unwrap();
    let err = AuditLog::open(&p, key(), options(Durability::PerRecord)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "seq 2: record hash does not match its content (record modified)"
    );
    assert_eq!(err.code(), "ERR_AUDIT_HASH");
    // Tail and its checkpoints cut: the head file catches it.
    let lines: Vec<&str> = text.lines().collect();
    std::fs::write(&p, lines[..3].join("\n") + "\n").unwrap();
    let err = AuditLog::open(&p, key(), options(Durability::PerRecord)).unwrap_err();
    assert_eq!(err.code(), "ERR_AUDIT_TRUNCATED");
}

#[test]
fn explicit_durability_commits_only_when_told() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("e.jsonl");
    let mut opts = options(Durability::Explicit);
    opts.checkpoint_every = None;
    let (mut log, _) = AuditLog::open(&p, key(), opts).unwrap();
    for i in 0..100 {
        assert_eq!(log.append(&event(i), 1).unwrap().durable_size, 0);
    }
    assert!(
        log.commit_deadline().is_none(),
        "no deadline: the caller decides"
    );
    assert_eq!(log.commit_if_due(1).unwrap(), 0);
    assert_eq!(
        std::fs::read_to_string(&p)
            .unwrap_or_default()
            .lines()
            .count(),
        0
    );
    assert_eq!(log.commit(1).unwrap(), 100);
    drop(log);
    assert_eq!(verify(&p), Ok(100));
}
