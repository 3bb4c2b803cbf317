//! `crmguard token verify` and `crmguard authorize` end to end, over the files in examples/:
//! exit status 0/1/2, claims and decisions on stdout, one stable-code line on stderr.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples");
/// 100 s after the example tokens were issued (they expire an hour after).
const NOW: &str = "1764400100";

fn example(name: &str) -> String {
    format!("{EXAMPLES}/{name}")
}

fn run(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_crmguard"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The command may exit before reading everything (usage errors); ignore a broken pipe.
    let _ = child.stdin.take().unwrap().write_all(stdin);
    child.wait_with_output().unwrap()
}

fn token() -> Vec<u8> {
    std::fs::read(example("token.jwt")).unwrap()
}

/// `token verify` with the example IdP's issuer and audience unless `extra` sets its own.
fn verify(extra: &[&str], stdin: &[u8]) -> Output {
    let jwks = example("jwks.json");
    let mut args = vec!["token", "verify", "--jwks", jwks.as_str()];
    if !extra.iter().any(|a| a.ends_with("issuer")) {
        args.extend(["--issuer", "https://idp.example.com"]);
    }
    if !extra.iter().any(|a| a.ends_with("audience")) {
        args.extend(["--audience", "crm-api"]);
    }
    args.extend_from_slice(extra);
    run(&args, stdin)
}

#[test]
fn issuer_and_audience_are_required_unless_waived() {
    // Before: without --issuer and --audience any issuer's token for any API was accepted.
    let t = token();
    let jwks = example("jwks.json");
    let bare = ["token", "verify", "--jwks", jwks.as_str(), "--now", NOW];
    assert_fails_with(&run(&bare, &t), "ERR_JWT_OPTIONS");
    let only_issuer = [&bare[..], &["--issuer", "https://idp.example.com"]].concat();
    assert_fails_with(&run(&only_issuer, &t), "ERR_JWT_OPTIONS");
    let waived = [&bare[..], &["--any-issuer", "--any-audience"]].concat();
    assert!(run(&waived, &t).status.success());
    // The example token is an ordinary JWT (typ JWT), not an RFC 9068 access token.
    assert_fails_with(
        &verify(&["--now", NOW, "--access-token"], &t),
        "ERR_JWT_CLAIM_VALIDATION_FAILED",
    );
}

/// Exit 1 and exactly one stderr line that starts with `code: `.
fn assert_fails_with(out: &Output, code: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert!(stderr.starts_with(&format!("{code}: ")), "stderr: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "stderr: {stderr}");
}

#[test]
fn verify_prints_the_claims() {
    let args = [
        "--issuer",
        "https://idp.example.com",
        "--audience",
        "crm-api",
        "--now",
        NOW,
    ];
    let out = verify(&args, &token());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let claims: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(claims["sub"], "user-7");
    assert_eq!(claims["tenant"], "acme");
    assert!(out.stderr.is_empty());
    // Without the trailing newline too; two newlines are not one token.
    let t = token();
    let bare = t.strip_suffix(b"\n").unwrap();
    assert!(verify(&args, bare).status.success());
    let mut twice = t.clone();
    twice.push(b'\n');
    assert_fails_with(&verify(&args, &twice), "ERR_JWT_INVALID");
}

#[test]
fn verify_failures_have_stable_codes() {
    let t = token();
    let now = ["--now", NOW];
    // exp is 1764403600; with the default 60 s leeway it is refused from 1764403660 on.
    assert!(verify(&["--now", "1764403659"], &t).status.success());
    assert_fails_with(&verify(&["--now", "1764403660"], &t), "ERR_JWT_EXPIRED");
    assert_fails_with(
        &verify(&["--now", "1764403600", "--leeway", "0"], &t),
        "ERR_JWT_EXPIRED",
    );
    assert_fails_with(
        &verify(&["--now", "1764399000"], &t),
        "ERR_JWT_CLAIM_VALIDATION_FAILED",
    );
    assert_fails_with(
        &verify(&["--now", NOW, "--issuer", "https://evil.example"], &t),
        "ERR_JWT_CLAIM_VALIDATION_FAILED",
    );
    assert_fails_with(
        &verify(&["--now", NOW, "--audience", "billing"], &t),
        "ERR_JWT_CLAIM_VALIDATION_FAILED",
    );
    assert_fails_with(
        &verify(&["--now", NOW, "--max-age", "10"], &t),
        "ERR_JWT_EXPIRED",
    );
    // Tampered signature.
    let mut bad = t.clone();
    let i = bad.len() - 5;
    bad[i] = if bad[i] == b'A' { b'B' } else { b'A' };
    assert_fails_with(&verify(&now, &bad), "ERR_JWS_SIGNATURE_VERIFICATION_FAILED");
    // alg none, and a lower-case alg.
    let (_, rest) = std::str::from_utf8(&t).unwrap().split_once('.').unwrap();
    let none = format!("eyJhbGciOiJub25lIn0.{rest}");
    assert_fails_with(&verify(&now, none.as_bytes()), "ERR_JOSE_ALG_NOT_ALLOWED");
    assert_fails_with(&verify(&now, b"a.b"), "ERR_JWT_INVALID");
    assert_fails_with(
        &verify(&now, &[0xff, b'.', b'a', b'.', b'b']),
        "ERR_JWT_INVALID",
    );
    assert_fails_with(&verify(&now, &vec![b'A'; 70_000]), "ERR_JWT_TOO_LARGE");
    // A key set that is not one.
    let dir = tempfile::tempdir().unwrap();
    let bad_jwks = dir.path().join("jwks.json");
    std::fs::write(&bad_jwks, r#"{"keys":[{"kty":"oct","k":"c2hvcnQ"}]}"#).unwrap();
    let out = run(
        &[
            "token",
            "verify",
            "--jwks",
            bad_jwks.to_str().unwrap(),
            "--any-issuer",
            "--any-audience",
            "--now",
            NOW,
        ],
        &t,
    );
    assert_fails_with(&out, "ERR_JWKS_WEAK_KEY");
    let out = run(&["token", "verify", "--jwks", "/nonexistent/jwks.json"], &t);
    assert_fails_with(&out, "ERR_IO");
}

#[test]
fn usage_errors_exit_2() {
    let t = token();
    assert_eq!(run(&["token", "verify"], &t).status.code(), Some(2));
    assert_eq!(verify(&["--leeway", "301"], &t).status.code(), Some(2));
    assert_eq!(verify(&["--now", "yesterday"], &t).status.code(), Some(2));
    assert_eq!(
        run(&["authorize", "--policy", "p.json"], &t).status.code(),
        Some(2)
    );
}

fn authorize(request: &str) -> Output {
    let (policy, jwks, request) = (
        example("policy.json"),
        example("jwks.json"),
        example(request),
    );
    run(
        &[
            "authorize",
            "--policy",
            &policy,
            "--jwks",
            &jwks,
            "--request",
            &request,
            "--issuer",
            "https://idp.example.com",
            "--audience",
            "crm-api",
            "--now",
            NOW,
        ],
        b"",
    )
}

#[test]
fn authorize_prints_decision_and_visible_record() {
    let out = authorize("request.json");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["decision"]["effect"], "allow");
    assert_eq!(v["decision"]["reason"]["rules"][0], "sales-read");
    assert_eq!(v["record"]["email"], "****@example.com");
    assert_eq!(v["record"]["phone"], "****0958");
    assert!(v["record"].get("national_id").is_none());
    assert!(v["record"].get("legacy_notes").is_none());

    let out = authorize("request-clinician.json");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["record"]["diagnosis"], "J45.909");
}

#[test]
fn authorize_denies_another_tenant() {
    let out = authorize("request-other-tenant.json");
    assert_fails_with(&out, "ERR_POLICY_DENIED");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["decision"]["effect"], "deny");
    assert_eq!(v["decision"]["reason"]["kind"], "tenant-mismatch");
    assert!(v["record"].is_null());
}

#[test]
fn every_decision_allow_or_deny_is_audited_without_field_values() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("signing.json");
    let public = dir.path().join("signing.pub.json");
    let log = dir.path().join("audit.jsonl");
    let (key, public, log) = (
        key.to_str().unwrap(),
        public.to_str().unwrap(),
        log.to_str().unwrap(),
    );
    let out = run(
        &["keys", "new-signing", "--out", key, "--public-out", public],
        b"",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (policy, jwks) = (example("policy.json"), example("jwks.json"));
    for (request, allowed) in [
        ("request.json", true),
        ("request-other-tenant.json", false),
        ("request-clinician.json", true),
    ] {
        let request = example(request);
        let out = run(
            &[
                "authorize",
                "--policy",
                &policy,
                "--jwks",
                &jwks,
                "--request",
                &request,
                "--issuer",
                "https://idp.example.com",
                "--audience",
                "crm-api",
                "--now",
                NOW,
                "--audit-log",
                log,
                "--signing-key",
                key,
            ],
            b"",
        );
        assert_eq!(
            out.status.success(),
            allowed,
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stderr).contains("audit: decision recorded at seq"));
    }
    let out = run(
        &["audit", "verify", "--log", log, "--public-key", public],
        b"",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("ok: 3 records"));
    let text = std::fs::read_to_string(log).unwrap();
    let records: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v.get("class_uid").is_some())
        .collect();
    assert_eq!(records.len(), 3);
    assert_eq!(records[0]["class_uid"], 6003);
    assert_eq!(
        records[1]["status_id"], 2,
        "the cross-tenant request is a recorded failure"
    );
    assert!(
        records[1]["status_detail"]
            .as_str()
            .unwrap()
            .contains("tenant-mismatch")
    );
    // Field names and actions are recorded; values never.
    for secret in [
        "ada@example.com",
        "Ada Lovelace",
        "QQ123456C",
        "J45.909",
        "inhaler",
    ] {
        assert!(!text.contains(secret), "{secret} leaked into the audit log");
    }
    assert!(text.contains("\"name\":\"email\""));
}
