//! `crmguard plugin add|list|verify` and `crmguard run`, end to end through the binary: the
//! walk-through of docs/PLUGINS.md.
#![allow(clippy::unwrap_used, clippy::expect_used, unreachable_pub, dead_code)]

use std::path::Path;
use std::process::{Command, Output};

use crmguard_core::{SystemEntropy, parse_master_key};
use serde_json::Value;

#[path = "../../crates/runtime/tests/plugins/support.rs"]
mod support;

use crate::support::{
    AUDIT, CRYPTO, HOSTILE, REFERENCE, SNEAKY, TOKENS, component, keyring, request,
};

const MASTER: &str = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";

fn crmguard(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_crmguard"))
        .args(args)
        .current_dir(dir)
        .env("CRMGUARD_MASTER_KEY", MASTER)
        .output()
        .unwrap()
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let out = crmguard(dir, args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn add_list_verify_and_run_a_plugin() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let master = parse_master_key(MASTER).unwrap();
    std::fs::write(
        dir.join("keyring.json"),
        keyring()
            .to_protected_json(&master, &mut SystemEntropy)
            .unwrap(),
    )
    .unwrap();
    let crypto = component(CRYPTO);
    let reference = component(REFERENCE);
    let added = ok(
        dir,
        &[
            "plugin",
            "add",
            crypto.to_str().unwrap(),
            "--name",
            "crypto",
            "--world",
            "crypto",
        ],
    );
    assert!(
        added.starts_with("added crypto 0.1.0 (crypto) sha256:"),
        "{added}"
    );
    ok(
        dir,
        &[
            "plugin",
            "add",
            reference.to_str().unwrap(),
            "--name",
            "reference",
            "--version",
            "1.2.0",
        ],
    );

    // A plugin that asks for the keystore is refused and leaves nothing behind.
    let sneaky = component(SNEAKY);
    let out = crmguard(
        dir,
        &[
            "plugin",
            "add",
            sneaky.to_str().unwrap(),
            "--name",
            "sneaky",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.starts_with("ERR_PLUGIN_LINK: "), "{err}");
    assert!(!dir.join("plugins/sneaky").exists());

    let list = ok(dir, &["plugin", "list"]);
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 2, "{list}");
    assert!(
        lines[0].starts_with("crypto\t0.1.0\tcrypto\tsha256:"),
        "{list}"
    );
    assert!(
        lines[1].starts_with("reference\t1.2.0\tpolicy-plugin\tsha256:"),
        "{list}"
    );
    assert!(lines[1].ends_with("\t-"), "no capabilities: {list}");

    let verified = ok(dir, &["plugin", "verify"]);
    assert_eq!(
        verified.lines().filter(|l| l.starts_with("ok\t")).count(),
        2,
        "{verified}"
    );

    // The request as a CRM API gets it: the record, and the caller's bearer token apart.
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let token = repo.join("examples/token.jwt"); // user-7, sales_rep at acme, ES256
    let jwks = repo.join("examples/jwks.json");
    let stored = Value::Object(request(&["ignored"], "read").record().clone());
    std::fs::write(dir.join("record.json"), stored.to_string()).unwrap();
    let req = serde_json::json!({
        "tenant": "acme", "action": "read", "object": "contact", "record_id": "0042"
    });
    let meta = req.as_object().unwrap();
    std::fs::write(
        dir.join("request.json"),
        Value::Object(meta.clone()).to_string(),
    )
    .unwrap();
    let tokens = component(TOKENS);
    let audit = component(AUDIT);
    let hostile = component(HOSTILE);
    for (path, name, world) in [
        (&tokens, "tokens", "token-verifier"),
        (&audit, "audit", "audit-builder"),
        (&hostile, "hostile", "policy-plugin"),
    ] {
        let p = path.to_str().unwrap();
        ok(dir, &["plugin", "add", p, "--name", name, "--world", world]);
    }
    ok(
        dir,
        &[
            "keys",
            "new-signing",
            "--out",
            "audit.key",
            "--public-out",
            "audit.pub",
        ],
    );
    let run = |extra: &[&str]| {
        let mut args = vec![
            "run",
            "--request",
            "request.json",
            "--record",
            "record.json",
            "--token",
            token.to_str().unwrap(),
            "--jwks",
            jwks.to_str().unwrap(),
            "--issuer",
            "https://idp.example.com",
            "--audience",
            "crm-api",
            "--keyring",
            "keyring.json",
            "--audit-log",
            "audit.jsonl",
            "--signing-key",
            "audit.key",
        ];
        args.extend_from_slice(extra);
        crmguard(dir, &args)
    };
    let out = run(&["--now", "1764400100"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8(out.stdout).unwrap();
    let outcome: Value = serde_json::from_str(&printed).unwrap();
    assert_eq!(outcome["verdict"]["effect"], "allow", "{printed}");
    assert_eq!(outcome["record"]["email"], "****@example.com", "{printed}");
    assert_eq!(outcome["record"]["phone"], "****0000");
    assert_eq!(outcome["actions"]["national_id"], "drop");
    let event = &outcome["audit"]["event"];
    assert_eq!(outcome["audit"]["seq"], 0);
    assert_eq!(event["actor"]["uid"], "user-7", "the token's subject");
    assert_eq!(event["actor"]["roles"], serde_json::json!(["sales_rep"]));
    assert_eq!(event["outcome"]["decision"], "allow");
    assert!(!printed.contains("078-05-1120"));

    // The token has expired by the system clock: no plugin runs, nothing is recorded.
    let out = run(&[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("ERR_JWT_EXPIRED: "));

    // A plugin that never returns is a deny with the host's code, and it is recorded.
    let mut looping = Value::Object(meta.clone());
    looping["action"] = "loop".into();
    std::fs::write(dir.join("request.json"), looping.to_string()).unwrap();
    let out = run(&["--now", "1764400100", "--plugin", "hostile"]);
    assert!(out.status.success());
    let outcome: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(outcome["verdict"]["code"], "ERR_PLUGIN_TIMEOUT");
    assert_eq!(outcome["audit"]["seq"], 1);
    let reason = outcome["audit"]["event"]["outcome"]["reason"]
        .as_str()
        .unwrap();
    assert!(
        reason.starts_with("hostile: ERR_PLUGIN_TIMEOUT: "),
        "{reason}"
    );
    let log = std::fs::read_to_string(dir.join("audit.jsonl")).unwrap();
    assert!(!log.contains("ada@example.com") && !log.contains("078-05-1120"));
    ok(
        dir,
        &[
            "audit",
            "verify",
            "--log",
            "audit.jsonl",
            "--public-key",
            "audit.pub",
            "--expect-size",
            "2",
        ],
    );
    std::fs::write(
        dir.join("request.json"),
        Value::Object(meta.clone()).to_string(),
    )
    .unwrap();

    // The CRM asks for another tenant's record with acme's token: denied by the host before
    // any plugin runs (the hostile plugin would have slept), audited as acme's caller.
    let mut hop = Value::Object(meta.clone());
    hop["tenant"] = "globex".into();
    hop["action"] = "sleep".into();
    std::fs::write(dir.join("request.json"), hop.to_string()).unwrap();
    let out = run(&["--now", "1764400100", "--plugin", "hostile"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let outcome: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(outcome["verdict"]["code"], "ERR_REQUEST_TENANT_MISMATCH");
    assert!(outcome["record"].as_object().unwrap().is_empty());
    assert_eq!(outcome["audit"]["event"]["actor"]["tenant"], "acme");
    assert_eq!(outcome["audit"]["event"]["outcome"]["decision"], "deny");
    // A tenant bound to another IdP: the example IdP may not speak for acme.
    std::fs::write(
        dir.join("request.json"),
        Value::Object(meta.clone()).to_string(),
    )
    .unwrap();
    let out = run(&[
        "--now",
        "1764400100",
        "--tenant-issuer",
        "acme=https://login.acme.example",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).starts_with("ERR_REQUEST_TENANT_ISSUER: "),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Tamper with the pinned component: verify and run both refuse it.
    let wasm = dir.join("plugins/reference/reference.wasm");
    let mut bytes = std::fs::read(&wasm).unwrap();
    bytes.push(0);
    std::fs::write(&wasm, bytes).unwrap();
    let out = crmguard(dir, &["plugin", "verify", "reference"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("ERR_PLUGIN_DIGEST: "));
    let out = run(&["--now", "1764400100"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("ERR_PLUGIN_DIGEST: "));
}
