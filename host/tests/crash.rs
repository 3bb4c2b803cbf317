//! Crash safety: `crmguard audit append` is killed with SIGKILL at random (seeded) moments,
//! 20 times, while appending in a durable mode. After each kill the log is reopened
//! (cutting a torn line, if any) and verified, and every record the child acknowledged must
//! be in it with the hash it acknowledged.
#![allow(clippy::unwrap_used)] // test code: a panic is a test failure

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crmguard_core::{Anchor, AuditHash, AuditSigningKey, AuditVerifyingKey, RecordOptions};
use crmguard_store::audit_log::{AuditLog, Durability, LogOptions, read_head, verify_log};

const BIN: &str = env!("CARGO_BIN_EXE_crmguard");

/// A small deterministic generator (SplitMix64), so every run kills at the same delays.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

const EVENT: &str = r#"{"class":"api_activity","activity":"update","actor":{"uid":"u-1","tenant":"acme","roles":["ops"]},"request_id":"r","resources":[{"type":"contact","uid":"c-1","fields":[{"name":"email","action":"encrypt"}]}],"outcome":{"decision":"allow"}}"#;

fn run_and_kill(log: &Path, key: &Path, group: bool, delay: Duration) -> Vec<(u64, AuditHash)> {
    let mut cmd = Command::new(BIN);
    cmd.args(["audit", "append", "--print-acks", "--checkpoint-every", "7"])
        .arg("--log")
        .arg(log)
        .arg("--signing-key")
        .arg(key)
        .args(["--rotate-bytes", "30000"]);
    if group {
        cmd.args([
            "--durability",
            "group",
            "--group-records",
            "16",
            "--group-ms",
            "3",
        ]);
    } else {
        cmd.args(["--durability", "fsync"]);
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        // Bounded, so the test ends even if the kill came late; stops at the broken pipe.
        for _ in 0..20_000 {
            if writeln!(stdin, "{EVENT}").is_err() {
                break;
            }
        }
    });
    let stdout = child.stdout.take().unwrap();
    let acks = Arc::new(Mutex::new(Vec::new()));
    let acks2 = Arc::clone(&acks);
    let (first_tx, first_rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let mut parts = line.split(' ');
            if parts.next() == Some("ack") {
                let seq: u64 = parts.next().unwrap().parse().unwrap();
                let hash = AuditHash::from_hex(parts.next().unwrap()).unwrap();
                acks2.lock().unwrap().push((seq, hash));
                let _ = first_tx.send(());
            }
        }
    });
    // The kill lands `delay` after the child started acknowledging (so every round kills a
    // writer mid-stream, however slowly the machine starts it), or after 20 s at most.
    let _ = first_rx.recv_timeout(Duration::from_secs(20));
    std::thread::sleep(delay);
    // Child::kill sends SIGKILL on Unix.
    let _ = child.kill();
    child.wait().unwrap();
    reader.join().unwrap();
    writer.join().unwrap();
    Arc::try_unwrap(acks).unwrap().into_inner().unwrap()
}

#[test]
fn sigkill_never_loses_an_acknowledged_record() {
    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join("k.json");
    let status = Command::new(BIN)
        .args(["keys", "new-signing", "--out"])
        .arg(&key_path)
        .arg("--public-out")
        .arg(dir.path().join("k.pub.json"))
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let key = AuditSigningKey::from_json(&std::fs::read_to_string(&key_path).unwrap()).unwrap();
    let keys: Vec<AuditVerifyingKey> = vec![key.verifying_key()];
    let log = dir.path().join("crash.jsonl");
    let mut rng = SplitMix(0x00c0_ffee);
    let mut all_acked: Vec<(u64, AuditHash)> = Vec::new();
    let mut torn_seen = 0;
    for round in 0..20 {
        let delay = Duration::from_millis(rng.next() % 150);
        let acks = run_and_kill(&log, &key_path, round % 2 == 1, delay);
        // Reopen as a writer would: cuts a torn line, verifies everything against the head.
        let opts = LogOptions {
            durability: Durability::PerRecord,
            checkpoint_every: None,
            rotate_bytes: None,
            record: RecordOptions::new("test", None),
            trusted_keys: Vec::new(),
            new_log_id: "unused".into(),
        };
        let (writer, report) = AuditLog::open(&log, key.clone(), opts)
            .unwrap_or_else(|e| panic!("round {round}: reopen failed: {}: {e}", e.code()));
        torn_seen += usize::from(report.torn.is_some());
        drop(writer);
        let anchor = Anchor {
            checkpoint: read_head(&log).unwrap(),
            min_size: None,
        };
        let v = verify_log(&log, keys.clone(), &anchor)
            .unwrap_or_else(|e| panic!("round {round}: verify failed: {}: {e}", e.code()));
        assert!(
            !acks.is_empty(),
            "round {round}: the child acknowledged nothing"
        );
        all_acked.extend(acks);
        for (seq, hash) in &all_acked {
            let got = v.record_hashes.get(*seq as usize);
            assert_eq!(
                got,
                Some(hash),
                "round {round}: acknowledged seq {seq} lost"
            );
        }
    }
    // The test must have exercised something: acknowledgements arrived in most rounds.
    assert!(
        all_acked.len() > 20,
        "only {} acks in 20 rounds",
        all_acked.len()
    );
    eprintln!(
        "crash test: {} acknowledged records, {torn_seen} torn tails cut",
        all_acked.len()
    );
}
