//! The `crmguard` binary end to end: exit codes, the one-line stable-code errors, and the
//! sealed-fields flows (seal/open, rotation, records, blind index, erasure, re-encryption).
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const MASTER: &str = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Self {
        let env = Self {
            dir: tempfile::tempdir().unwrap(),
        };
        let out = env.run(&["keys", "new", "--out", "keyring.json"], b"");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        env
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn run_with(&self, args: &[&str], stdin: &[u8], master: Option<&str>) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_crmguard"));
        cmd.args(args)
            .current_dir(self.dir.path())
            .env_remove("CRMGUARD_MASTER_KEY");
        if let Some(m) = master {
            cmd.env("CRMGUARD_MASTER_KEY", m);
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The child may exit (e.g. on a usage error) before reading stdin: a broken pipe here
        // is not a test failure; the exit status and stderr are what is checked.
        if let Err(e) = child.stdin.take().unwrap().write_all(stdin) {
            assert_eq!(
                e.kind(),
                std::io::ErrorKind::BrokenPipe,
                "writing stdin: {e}"
            );
        }
        child.wait_with_output().unwrap()
    }

    fn run(&self, args: &[&str], stdin: &[u8]) -> Output {
        self.run_with(args, stdin, Some(MASTER))
    }

    fn ok(&self, args: &[&str], stdin: &[u8]) -> Vec<u8> {
        let out = self.run(args, stdin);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    /// Asserts exit 1 and exactly one stderr line starting with `code`.
    fn fails(&self, args: &[&str], stdin: &[u8], code: &str) {
        let out = self.run(args, stdin);
        assert_failure(&out, code);
    }
}

fn assert_failure(out: &Output, code: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert_eq!(
        stderr.lines().count(),
        1,
        "one stderr line expected: {stderr}"
    );
    let got = stderr.split(": ").next().unwrap();
    assert!(got.starts_with(code), "expected {code}, got {stderr}");
    assert!(
        got.chars().all(|c| c.is_ascii_uppercase() || c == '_'),
        "not a stable code: {stderr}"
    );
}

const CTX: [&str; 10] = [
    "--keyring",
    "keyring.json",
    "--tenant",
    "acme",
    "--object",
    "contact",
    "--record",
    "0042",
    "--field",
    "email",
];

fn with_ctx<'a>(cmd: &'a str, ctx: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![cmd];
    v.extend_from_slice(ctx);
    v
}

#[test]
fn seal_then_open_round_trips_exact_bytes() {
    let env = Env::new();
    for plaintext in [
        &b"ada@example.com"[..],
        b"",
        "Zoë ✓\n".as_bytes(),
        &[0u8, 255, 10, 13],
    ] {
        let sealed = env.ok(&with_ctx("seal", &CTX), plaintext);
        let text = String::from_utf8(sealed.clone()).unwrap();
        assert!(text.starts_with("cg1:") && text.ends_with('\n') && text.lines().count() == 1);
        assert_eq!(env.ok(&with_ctx("open", &CTX), &sealed), plaintext);
    }
}

#[test]
fn wrong_context_tamper_truncation_and_unknown_key_exit_1() {
    let env = Env::new();
    let sealed = env.ok(&with_ctx("seal", &CTX), b"ada@example.com");
    let text = String::from_utf8(sealed.clone())
        .unwrap()
        .trim_end()
        .to_owned();
    for (flag, value) in [
        ("--tenant", "globex"),
        ("--object", "lead"),
        ("--record", "0043"),
        ("--field", "phone"),
    ] {
        let mut ctx = CTX.to_vec();
        let i = ctx.iter().position(|a| *a == flag).unwrap();
        ctx[i + 1] = value;
        env.fails(&with_ctx("open", &ctx), &sealed, "ERR_SEALED_FIELD_AUTH");
    }
    // A flipped bit in every base64 position gives a typed failure, never a panic.
    for i in 4..text.len() {
        let mut chars: Vec<char> = text.chars().collect();
        chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
        let tampered: String = chars.into_iter().collect();
        let out = env.run(&with_ctx("open", &CTX), tampered.as_bytes());
        assert_eq!(out.status.code(), Some(1), "position {i}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.starts_with("ERR_SEALED_FIELD_") || err.starts_with("ERR_KEY_NOT_FOUND"),
            "{err}"
        );
    }
    env.fails(
        &with_ctx("open", &CTX),
        &text.as_bytes()[..text.len() - 5],
        "ERR_SEALED_FIELD_",
    );
    env.fails(
        &with_ctx("open", &CTX),
        b"cg1:",
        "ERR_SEALED_FIELD_MALFORMED",
    );
    env.fails(
        &with_ctx("open", &CTX),
        b"hello",
        "ERR_SEALED_FIELD_MALFORMED",
    );
    // A value sealed under another keyring's key 2 names a key this keyring lacks.
    let other = Env::new();
    other.ok(&["keys", "rotate", "--keyring", "keyring.json"], b"");
    let foreign = other.ok(&with_ctx("seal", &CTX), b"x");
    env.fails(&with_ctx("open", &CTX), &foreign, "ERR_KEY_NOT_FOUND");
}

#[test]
fn usage_errors_exit_2() {
    let env = Env::new();
    for args in [
        vec!["seal"],
        vec![
            "seal",
            "--keyring",
            "keyring.json",
            "--tenant",
            "",
            "--object",
            "c",
            "--record",
            "1",
            "--field",
            "f",
        ],
        vec![
            "open",
            "--keyring",
            "keyring.json",
            "--tenant",
            "a\nb",
            "--object",
            "c",
            "--record",
            "1",
            "--field",
            "f",
        ],
        vec!["no-such-command"],
        vec![
            "keys",
            "destroy",
            "--keyring",
            "keyring.json",
            "--key-id",
            "minus-one",
        ],
    ] {
        assert_eq!(env.run(&args, b"").status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn keyring_protection_and_master_key_errors() {
    let env = Env::new();
    let file = std::fs::read_to_string(env.path("keyring.json")).unwrap();
    assert!(file.contains("xaes-256-gcm"));
    let out = env.run_with(&["keys", "list", "--keyring", "keyring.json"], b"", None);
    assert_failure(&out, "ERR_KEYRING_MASTER_KEY");
    let wrong = "BAIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";
    let out = env.run_with(
        &["keys", "list", "--keyring", "keyring.json"],
        b"",
        Some(wrong),
    );
    assert_failure(&out, "ERR_KEYRING_AUTH");
    let out = env.run_with(
        &["keys", "list", "--keyring", "keyring.json"],
        b"",
        Some("short"),
    );
    assert_failure(&out, "ERR_KEYRING_MASTER_KEY");
    // Master key from a file instead of the environment.
    std::fs::write(env.path("m.key"), format!("{MASTER}\n")).unwrap();
    let out = env.run_with(
        &[
            "keys",
            "list",
            "--keyring",
            "keyring.json",
            "--master-key-file",
            "m.key",
        ],
        b"",
        None,
    );
    assert!(out.status.success());
    // Refuses to overwrite.
    env.fails(&["keys", "new", "--out", "keyring.json"], b"", "ERR_IO");
    // Cleartext only on request, and it says so.
    let out = env.run_with(&["keys", "new", "--out", "clear.json"], b"", None);
    assert_failure(&out, "ERR_KEYRING_MASTER_KEY");
    let out = env.run_with(
        &["keys", "new", "--out", "clear.json", "--insecure-cleartext"],
        b"",
        None,
    );
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("INSECURE"));
    let out = env.run_with(&["keys", "list", "--keyring", "clear.json"], b"", None);
    assert_failure(&out, "ERR_KEYRING_CLEARTEXT");
    let out = env.run_with(
        &[
            "keys",
            "list",
            "--keyring",
            "clear.json",
            "--insecure-cleartext",
        ],
        b"",
        None,
    );
    assert!(out.status.success());
    // Errors never echo key material.
    let out = env.run_with(
        &["keys", "list", "--keyring", "keyring.json"],
        b"",
        Some(wrong),
    );
    assert!(!String::from_utf8_lossy(&out.stderr).contains(wrong));
}

#[test]
fn rotation_destroy_and_subject_erasure() {
    let env = Env::new();
    let old = env.ok(&with_ctx("seal", &CTX), b"v1");
    let out =
        String::from_utf8(env.ok(&["keys", "rotate", "--keyring", "keyring.json"], b"")).unwrap();
    assert!(out.contains("key 2"));
    assert_eq!(env.ok(&with_ctx("open", &CTX), &old), b"v1");
    env.fails(
        &[
            "keys",
            "destroy",
            "--keyring",
            "keyring.json",
            "--key-id",
            "2",
        ],
        b"",
        "ERR_KEYRING_REFUSED",
    );
    env.ok(
        &[
            "keys",
            "destroy",
            "--keyring",
            "keyring.json",
            "--key-id",
            "1",
        ],
        b"",
    );
    env.fails(&with_ctx("open", &CTX), &old, "ERR_KEY_DESTROYED");

    let mut ada = with_ctx("seal", &CTX);
    ada.extend(["--subject", "contact-0042"]);
    let mut bob = with_ctx("seal", &CTX);
    bob.extend(["--subject", "contact-0043"]);
    let a = env.ok(&ada, b"Ada");
    let b = env.ok(&bob, b"Bob");
    ada[0] = "open";
    bob[0] = "open";
    assert_eq!(env.ok(&ada, &a), b"Ada");
    env.fails(&with_ctx("open", &CTX), &a, "ERR_SUBJECT_REQUIRED");
    let forget = [
        "subject",
        "forget",
        "--keyring",
        "keyring.json",
        "--subject",
        "contact-0042",
    ];
    assert!(
        String::from_utf8(env.ok(&forget, b""))
            .unwrap()
            .starts_with("forgotten")
    );
    assert!(
        String::from_utf8(env.ok(&forget, b""))
            .unwrap()
            .starts_with("already forgotten")
    );
    env.fails(&ada, &a, "ERR_SUBJECT_FORGOTTEN");
    assert_eq!(env.ok(&bob, &b), b"Bob");
    ada[0] = "seal";
    env.fails(&ada, b"again", "ERR_SUBJECT_FORGOTTEN");
    env.fails(
        &[
            "subject",
            "forget",
            "--keyring",
            "keyring.json",
            "--subject",
            "nobody",
        ],
        b"",
        "ERR_SUBJECT_NOT_FOUND",
    );
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

#[test]
fn records_blind_index_and_reencrypt() {
    let env = Env::new();
    write(
        env.dir.path(),
        "schema.json",
        r#"{"object": "contact", "record_id": "id", "subject": "id",
        "fields": {"id": {"action": "clear"}, "email": {"action": "blind-index", "blind_index": {"normalize": ["email"]}},
                   "name": {"action": "encrypt", "key": "subject"}, "visits": {"action": "encrypt"},
                   "address.city": {"action": "encrypt"}, "address.country": {"action": "clear"}}}"#,
    );
    let input = "{\"id\":\"1\",\"email\":\"Ada@Example.com\",\"name\":\"Ada\",\"visits\":3,\"address\":{\"city\":\"London\",\"country\":\"UK\"}}\n\
                 {\"id\":\"2\",\"email\":\"bob@example.com\",\"name\":\"Bob\",\"visits\":null,\"address\":{\"city\":\"Paris\",\"country\":\"FR\"}}\n";
    let rec = [
        "--keyring",
        "keyring.json",
        "--schema",
        "schema.json",
        "--tenant",
        "acme",
    ];
    let mut seal = vec!["seal-record"];
    seal.extend(rec);
    let sealed = String::from_utf8(env.ok(&seal, input.as_bytes())).unwrap();
    assert_eq!(sealed.lines().count(), 2);
    for secret in ["Ada", "London", "Paris", "bob@"] {
        assert!(!sealed.contains(secret), "{secret} in {sealed}");
    }
    let first: serde_json::Value = serde_json::from_str(sealed.lines().next().unwrap()).unwrap();
    let mut bi = vec![
        "blind-index",
        "--keyring",
        "keyring.json",
        "--tenant",
        "acme",
        "--schema",
        "schema.json",
        "--field",
        "email",
    ];
    let idx = String::from_utf8(env.ok(&bi, b"ADA@example.com\n")).unwrap();
    assert_eq!(idx.trim(), first["_blind"]["email"].as_str().unwrap());
    bi.truncate(5);
    bi.extend([
        "--object",
        "contact",
        "--field",
        "email",
        "--normalize",
        "email",
        "--bits",
        "32",
    ]);
    assert_eq!(
        String::from_utf8(env.ok(&bi, b"ada@example.com")).unwrap(),
        idx
    );

    std::fs::write(env.path("sealed.jsonl"), &sealed).unwrap();
    let mut open = vec!["open-record"];
    open.extend(rec);
    open.extend(["--in", "sealed.jsonl"]);
    let opened = String::from_utf8(env.ok(&open, b"")).unwrap();
    assert_eq!(opened, input);

    env.ok(&["keys", "rotate", "--keyring", "keyring.json"], b"");
    let mut re = vec!["reencrypt"];
    re.extend(rec);
    re.extend(["--in", "sealed.jsonl"]);
    let out = env.run(&re, b"");
    assert!(out.status.success());
    // email, visits, city for record 1; email, city for record 2 (null stays null).
    assert!(String::from_utf8_lossy(&out.stderr).contains("re-encrypted 5 values in 2 records"));
    env.ok(
        &[
            "keys",
            "destroy",
            "--keyring",
            "keyring.json",
            "--key-id",
            "1",
        ],
        b"",
    );
    assert_eq!(String::from_utf8(env.ok(&open, b"")).unwrap(), input);

    env.ok(
        &[
            "subject",
            "forget",
            "--keyring",
            "keyring.json",
            "--subject",
            "1",
        ],
        b"",
    );
    env.fails(&open, b"", "ERR_SUBJECT_FORGOTTEN");
    open.push("--forgotten-as-null");
    let partial = String::from_utf8(env.ok(&open, b"")).unwrap();
    assert!(partial.lines().next().unwrap().contains("\"name\":null"));
    assert!(partial.lines().nth(1).unwrap().contains("\"name\":\"Bob\""));

    // Bad input records: typed errors naming the record.
    let out = env.run(&seal, b"{\"id\":\"3\",\"surprise\":1}");
    assert_failure(&out, "ERR_RECORD_INVALID");
    assert!(String::from_utf8_lossy(&out.stderr).contains("record 1"));
    env.fails(&seal, b"{not json", "ERR_INPUT");
    write(
        env.dir.path(),
        "bad.json",
        r#"{"object": "contact", "fields": {"a": {"action": "scramble"}}}"#,
    );
    let mut bad = vec![
        "seal-record",
        "--keyring",
        "keyring.json",
        "--schema",
        "bad.json",
        "--tenant",
        "acme",
    ];
    env.fails(&bad, b"{}", "ERR_SCHEMA_INVALID");
    bad[4] = "missing.json";
    env.fails(&bad, b"{}", "ERR_IO");
}

/// A keyring file restored from an old copy (destroyed keys and forgotten subjects back), or
/// replaced by another keyring under the same master key, is refused: the CLI keeps the
/// keyring's id and generation in `<keyring>.state` and checks every load against it.
#[test]
fn rolled_back_or_substituted_keyring_files_are_refused() {
    let env = Env::new();
    assert!(
        env.path("keyring.json.state").exists(),
        "keys new records the state"
    );
    let old = std::fs::read(env.path("keyring.json")).unwrap();
    let sealed = env.ok(&with_ctx("seal", &CTX), b"v1");
    env.ok(&["keys", "rotate", "--keyring", "keyring.json"], b"");
    env.ok(
        &[
            "keys",
            "destroy",
            "--keyring",
            "keyring.json",
            "--key-id",
            "1",
        ],
        b"",
    );
    env.fails(&with_ctx("open", &CTX), &sealed, "ERR_KEY_DESTROYED");
    // Rollback: the old file would bring key 1 back.
    std::fs::write(env.path("keyring.json"), &old).unwrap();
    env.fails(&with_ctx("open", &CTX), &sealed, "ERR_KEYRING_ROLLBACK");
    env.fails(
        &["keys", "list", "--keyring", "keyring.json"],
        b"",
        "ERR_KEYRING_ROLLBACK",
    );
    // Substitution: another keyring under the same master key at the same path.
    env.ok(&["keys", "new", "--out", "other.json"], b"");
    std::fs::copy(env.path("other.json"), env.path("keyring.json")).unwrap();
    env.fails(
        &["keys", "list", "--keyring", "keyring.json"],
        b"",
        "ERR_KEYRING_IDENTITY",
    );
    // A state file kept elsewhere is honoured, and a damaged one is an error, not a pass.
    std::fs::write(env.path("elsewhere.state"), "{not json").unwrap();
    env.fails(
        &[
            "keys",
            "list",
            "--keyring",
            "other.json",
            "--keyring-state",
            "elsewhere.state",
        ],
        b"",
        "ERR_KEYRING_MALFORMED",
    );
    // First use of a fresh state path records the keyring, and it keeps working.
    let list = [
        "keys",
        "list",
        "--keyring",
        "other.json",
        "--keyring-state",
        "fresh.state",
    ];
    env.ok(&list, b"");
    assert!(env.path("fresh.state").exists());
    env.ok(&list, b"");
}

/// `crmguard ... | head -1` and `| grep -q`: a reader that stops early closes the pipe. The
/// CLI then ends quietly with status 0, as Unix filters do; before, `println!` panicked
/// ("failed printing to stdout: Broken pipe") and the walk-through's `grep -q` failed on it.
#[test]
fn a_closed_stdout_ends_quietly_not_with_a_panic() {
    let env = Env::new();
    let cases: [Vec<&str>; 2] = [
        vec!["keys", "list", "--keyring", "keyring.json"], // println! lines
        with_ctx("seal", &CTX),                            // a locked stdout writer
    ];
    for args in &cases {
        // The pipe's reader is gone before the child starts, so its first write fails:
        // deterministic, unlike racing a real `head`.
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let mut child = Command::new(env!("CARGO_BIN_EXE_crmguard"))
            .args(args)
            .current_dir(env.dir.path())
            .env("CRMGUARD_MASTER_KEY", MASTER)
            .stdin(Stdio::piped())
            .stdout(writer)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let _ = child.stdin.take().unwrap().write_all(b"ada@example.com");
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && !stderr.contains("panicked"),
            "{args:?}: {:?} {stderr}",
            out.status
        );
    }
}
