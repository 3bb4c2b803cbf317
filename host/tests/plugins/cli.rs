//! `crmguard plugin add|list|verify` and `crmguard run`, end to end through the binary: the
//! walk-through of docs/PLUGINS.md.

use std::path::Path;
use std::process::{Command, Output};

use crmguard_core::{SystemEntropy, parse_master_key};
use serde_json::Value;

use crate::support::{CRYPTO, REFERENCE, SNEAKY, component, keyring, request};

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

    let req = request(&["support", "sales"], "read");
    std::fs::write(
        dir.join("request.json"),
        serde_json::to_string(&req).unwrap(),
    )
    .unwrap();
    let printed = ok(
        dir,
        &[
            "run",
            "--request",
            "request.json",
            "--keyring",
            "keyring.json",
        ],
    );
    let outcome: Value = serde_json::from_str(&printed).unwrap();
    assert_eq!(outcome["verdict"]["effect"], "allow", "{printed}");
    assert_eq!(outcome["record"]["email"], "ada@example.com");
    assert_eq!(outcome["record"]["phone"], "****");
    assert_eq!(outcome["actions"]["ssn"], "encrypt");

    // Tamper with the pinned component: verify and run both refuse it.
    let wasm = dir.join("plugins/reference/reference.wasm");
    let mut bytes = std::fs::read(&wasm).unwrap();
    bytes.push(0);
    std::fs::write(&wasm, bytes).unwrap();
    let out = crmguard(dir, &["plugin", "verify", "reference"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("ERR_PLUGIN_DIGEST: "));
    let out = crmguard(
        dir,
        &[
            "run",
            "--request",
            "request.json",
            "--keyring",
            "keyring.json",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("ERR_PLUGIN_DIGEST: "));
}
