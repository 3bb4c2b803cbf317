//! `crmguard keys new-signing` and `crmguard audit ...`: output lines, exit codes, stable
//! error codes.
#![allow(clippy::unwrap_used)] // test code: a panic is a test failure

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_crmguard");

fn run(dir: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(BIN)
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

const EVENTS: &str = r#"{"class":"api_activity","activity":"read","actor":{"uid":"u1","tenant":"acme","roles":["sales"]},"request_id":"r1","resources":[{"type":"contact","uid":"c1","fields":[{"name":"email","action":"mask"}]},{"type":"data_subject","uid":"alice@example.com"}],"outcome":{"decision":"allow"}}
{"class":"authorization","activity":"assign_privileges","actor":{"uid":"u2","tenant":"acme"},"outcome":{"decision":"deny","reason":"no role"}}
{"class":"key_event","activity":"rotate","actor":{"uid":"ops","tenant":"acme"},"resources":[{"type":"key","uid":"keyring/2"}],"outcome":{"decision":"allow"}}
{"class":"subject_erasure","activity":"erase","actor":{"uid":"dpo","tenant":"acme"},"resources":[{"type":"data_subject","uid":"alice@example.com"}],"outcome":{"decision":"allow"}}
"#;

fn setup(dir: &Path) {
    let o = run(
        dir,
        &[
            "keys",
            "new-signing",
            "--out",
            "k.json",
            "--public-out",
            "k.pub.json",
        ],
        "",
    );
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn append_verify_prove_round_trip() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    setup(dir);
    let o = run(
        dir,
        &[
            "audit",
            "append",
            "--log",
            "a.jsonl",
            "--signing-key",
            "k.json",
            "--print-acks",
        ],
        EVENTS,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert_eq!(out.lines().filter(|l| l.starts_with("ack ")).count(), 4);
    assert!(
        out.lines()
            .last()
            .unwrap()
            .starts_with("head: 4 records, seq 3 hash ")
    );
    let log = std::fs::read_to_string(dir.join("a.jsonl")).unwrap();
    assert!(
        !log.contains("alice"),
        "subject ids are pseudonymised by default"
    );
    let o = run(
        dir,
        &[
            "audit",
            "verify",
            "--log",
            "a.jsonl",
            "--public-key",
            "k.pub.json",
        ],
        "",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("ok: 4 records, 1 checkpoints, 0 records after"));
    let o = run(
        dir,
        &[
            "audit",
            "prove",
            "--log",
            "a.jsonl",
            "--public-key",
            "k.pub.json",
            "--seq",
            "2",
        ],
        "",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let proof = stdout(&o);
    let o = run(
        dir,
        &[
            "audit",
            "verify-proof",
            "--proof",
            "-",
            "--public-key",
            "k.pub.json",
        ],
        &proof,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("ok: seq 2 is in log "));
    // A changed proof: one stderr line with the stable code, exit 1.
    let bad = proof.replacen("\"seq\": 2", "\"seq\": 1", 1);
    let o = run(
        dir,
        &[
            "audit",
            "verify-proof",
            "--proof",
            "-",
            "--public-key",
            "k.pub.json",
        ],
        &bad,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).starts_with("ERR_AUDIT_PROOF: "),
        "{}",
        stderr(&o)
    );
    assert_eq!(stderr(&o).lines().count(), 1);
    // Consistency from the first append's checkpoint to a later one.
    let o = run(
        dir,
        &[
            "audit",
            "append",
            "--log",
            "a.jsonl",
            "--signing-key",
            "k.json",
        ],
        EVENTS,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(
        dir,
        &[
            "audit",
            "prove",
            "--log",
            "a.jsonl",
            "--public-key",
            "k.pub.json",
            "--consistency-from",
            "4",
        ],
        "",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(
        dir,
        &[
            "audit",
            "verify-proof",
            "--proof",
            "-",
            "--public-key",
            "k.pub.json",
        ],
        &stdout(&o),
    );
    assert!(stdout(&o).starts_with("ok: log "), "{}", stderr(&o));
}

#[test]
fn verify_reports_tampering_with_code_and_seq() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    setup(dir);
    let o = run(
        dir,
        &[
            "audit",
            "append",
            "--log",
            "a.jsonl",
            "--signing-key",
            "k.json",
        ],
        EVENTS,
    );
    assert!(o.status.success());
    let log = std::fs::read_to_string(dir.join("a.jsonl")).unwrap();
    std::fs::write(dir.join("a.jsonl"), log.replacen("no role", "ok", 1)).unwrap();
    let o = run(
        dir,
        &[
            "audit",
            "verify",
            "--log",
            "a.jsonl",
            "--public-key",
            "k.pub.json",
        ],
        "",
    );
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        "ERR_AUDIT_HASH: seq 1: record hash does not match its content (record modified)\n"
    );
    // Truncation after a checkpoint: the tail and the checkpoint cut, the head file remains.
    let lines: Vec<&str> = log.lines().collect();
    std::fs::write(dir.join("a.jsonl"), lines[..2].join("\n") + "\n").unwrap();
    let o = run(
        dir,
        &[
            "audit",
            "verify",
            "--log",
            "a.jsonl",
            "--public-key",
            "k.pub.json",
        ],
        "",
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).starts_with("ERR_AUDIT_TRUNCATED: seq 2: "),
        "{}",
        stderr(&o)
    );
    // With the head file deleted too, only an external anchor catches it.
    std::fs::remove_file(dir.join("a.jsonl.head.json")).unwrap();
    let o = run(
        dir,
        &[
            "audit",
            "verify",
            "--log",
            "a.jsonl",
            "--public-key",
            "k.pub.json",
        ],
        "",
    );
    assert!(o.status.success());
    let o = run(
        dir,
        &[
            "audit",
            "verify",
            "--log",
            "a.jsonl",
            "--public-key",
            "k.pub.json",
            "--expect-size",
            "4",
        ],
        "",
    );
    assert!(
        stderr(&o).starts_with("ERR_AUDIT_TRUNCATED: seq 2: "),
        "{}",
        stderr(&o)
    );
    // Another key: the signature check fails.
    let o = run(
        dir,
        &[
            "keys",
            "new-signing",
            "--out",
            "k2.json",
            "--public-out",
            "k2.pub.json",
        ],
        "",
    );
    assert!(o.status.success());
    std::fs::write(dir.join("a.jsonl"), log).unwrap();
    let o = run(
        dir,
        &[
            "audit",
            "verify",
            "--log",
            "a.jsonl",
            "--public-key",
            "k2.pub.json",
        ],
        "",
    );
    assert!(
        stderr(&o).starts_with("ERR_AUDIT_SIGNATURE: seq 4: "),
        "{}",
        stderr(&o)
    );
}

#[test]
fn bad_input_and_usage() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    setup(dir);
    let o = run(
        dir,
        &[
            "audit",
            "append",
            "--log",
            "a.jsonl",
            "--signing-key",
            "k.json",
        ],
        "{\"x\":1}\n",
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).starts_with("ERR_INPUT: stdin line 1: "),
        "{}",
        stderr(&o)
    );
    let bad_activity = r#"{"class":"authentication","activity":"read","actor":{"uid":"u","tenant":"t"},"outcome":{"decision":"allow"}}"#;
    let o = run(
        dir,
        &[
            "audit",
            "append",
            "--log",
            "a.jsonl",
            "--signing-key",
            "k.json",
        ],
        bad_activity,
    );
    assert!(
        stderr(&o).starts_with("ERR_AUDIT_EVENT: stdin line 1: "),
        "{}",
        stderr(&o)
    );
    let o = run(
        dir,
        &[
            "audit",
            "append",
            "--log",
            "a.jsonl",
            "--signing-key",
            "k.pub.json",
        ],
        "",
    );
    assert!(stderr(&o).starts_with("ERR_AUDIT_KEY: "), "{}", stderr(&o));
    let o = run(dir, &["audit", "verify", "--log", "a.jsonl"], "");
    assert_eq!(o.status.code(), Some(2));
    let o = run(
        dir,
        &[
            "keys",
            "new-signing",
            "--out",
            "k.json",
            "--public-out",
            "x.json",
        ],
        "",
    );
    assert!(
        stderr(&o).starts_with("ERR_IO: "),
        "refuses to overwrite: {}",
        stderr(&o)
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("k.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0);
    }
}

#[test]
fn subject_forget_appends_a_pseudonymised_erasure_record() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    setup(dir);
    let master = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";
    let with_master = |args: &[&str], stdin: &str| {
        let mut child = Command::new(BIN)
            .current_dir(dir)
            .args(args)
            .env("CRMGUARD_MASTER_KEY", master)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The command may finish without reading stdin; a closed pipe is not a failure.
        let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
        child.wait_with_output().unwrap()
    };
    let o = with_master(&["keys", "new", "--out", "keyring.json"], "");
    assert!(o.status.success(), "{}", stderr(&o));
    let seal = [
        "seal",
        "--keyring",
        "keyring.json",
        "--tenant",
        "acme",
        "--object",
        "contact",
        "--record",
        "r-1",
        "--field",
        "email",
        "--subject",
        "subject-0042",
    ];
    let o = with_master(&seal, "ada@example.com");
    assert!(o.status.success(), "{}", stderr(&o));
    let forget = [
        "subject",
        "forget",
        "--keyring",
        "keyring.json",
        "--subject",
        "subject-0042",
        "--audit-log",
        "audit.jsonl",
        "--signing-key",
        "k.json",
        "--audit-actor",
        "dpo-1",
        "--audit-tenant",
        "acme",
    ];
    let o = with_master(&forget, "");
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("audit: erasure recorded at seq 0"),
        "{}",
        stdout(&o)
    );
    let o = with_master(&forget, "");
    assert!(
        stdout(&o).contains("audit: erasure recorded at seq 1"),
        "{}",
        stdout(&o)
    );
    let log = std::fs::read_to_string(dir.join("audit.jsonl")).unwrap();
    assert!(!log.contains("subject-0042"), "{log}");
    let first: serde_json::Value = serde_json::from_str(log.lines().next().unwrap()).unwrap();
    assert_eq!(first["class_uid"], 3004);
    assert_eq!(first["activity_id"], 4);
    assert_eq!(first["resources"][0]["type"], "data_subject");
    let key = crmguard_core::AuditSigningKey::from_json(
        &std::fs::read_to_string(dir.join("k.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        first["resources"][0]["uid"],
        key.pseudonym_key().pseudonym("subject-0042")
    );
    let o = run(
        dir,
        &[
            "audit",
            "verify",
            "--log",
            "audit.jsonl",
            "--public-key",
            "k.pub.json",
        ],
        "",
    );
    assert!(
        stdout(&o).starts_with("ok: 2 records, 2 checkpoints"),
        "{}",
        stderr(&o)
    );
    // --audit-log without --signing-key is a usage error.
    let o = with_master(
        &[
            "subject",
            "forget",
            "--keyring",
            "keyring.json",
            "--subject",
            "x",
            "--audit-log",
            "a",
        ],
        "",
    );
    assert_eq!(o.status.code(), Some(2));
}
