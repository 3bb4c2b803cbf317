//! `cargo xtask demo`: CRMGuard end to end on a fresh data folder, narrated.
//!
//! It builds the `crmguard` binary and drives it exactly as a user would, printing each
//! command and what came back. Every step checks its outcome, so a broken product fails the
//! demo (and `cargo xtask test`, which runs it).

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::{cargo, root, run_step};

/// The moment the example tokens in examples/ are valid (100 s after issue).
const NOW: &str = "1764400100";

struct Demo {
    bin: PathBuf,
    dir: PathBuf,
    color: bool,
    step: usize,
}

struct Outcome {
    ok: bool,
    stdout: String,
    stderr: String,
}

impl Demo {
    fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_owned()
        }
    }

    fn title(&mut self, title: &str, why: &str) {
        self.step += 1;
        println!(
            "\n{}",
            self.paint("1;36", &format!("{}. {title}", self.step))
        );
        println!("   {}", self.paint("2", why));
    }

    fn say(&self, s: &str) {
        println!("   {s}");
    }

    /// Runs `crmguard args...` in the data folder with `stdin`, echoing the command.
    fn crmguard(&self, args: &[&str], stdin: &[u8]) -> Result<Outcome, String> {
        let shown: Vec<String> = args
            .iter()
            .map(|a| {
                if a.contains(' ') {
                    format!("'{a}'")
                } else {
                    (*a).to_owned()
                }
            })
            .collect();
        println!("   {} crmguard {}", self.paint("33", "$"), shown.join(" "));
        let mut child = Command::new(&self.bin)
            .args(args)
            .current_dir(&self.dir)
            .env_remove("CRMGUARD_MASTER_KEY")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("could not run {}: {e}", self.bin.display()))?;
        let written = child.stdin.take().ok_or("no stdin")?.write_all(stdin);
        // A command that does not read stdin may exit first; its status is what counts.
        if let Err(e) = written
            && e.kind() != std::io::ErrorKind::BrokenPipe
        {
            return Err(format!("writing to crmguard: {e}"));
        }
        let out = child
            .wait_with_output()
            .map_err(|e| format!("crmguard: {e}"))?;
        Ok(Outcome {
            ok: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }

    /// Runs a command that must succeed; prints its stdout indented.
    fn ok(&self, args: &[&str], stdin: &[u8]) -> Result<String, String> {
        self.ok_shown(args, stdin, |out| out.to_owned())
    }

    /// Like `ok`, printing `render(stdout)` instead of all of stdout.
    fn ok_shown(
        &self,
        args: &[&str],
        stdin: &[u8],
        render: impl Fn(&str) -> String,
    ) -> Result<String, String> {
        let o = self.crmguard(args, stdin)?;
        if !o.ok {
            return Err(format!(
                "`crmguard {}` failed: {}",
                args.join(" "),
                o.stderr.trim()
            ));
        }
        for line in render(&o.stdout).lines() {
            println!("     {}", shorten(line));
        }
        for line in o.stderr.lines() {
            println!("     {}", self.paint("2", line));
        }
        Ok(o.stdout)
    }

    /// Runs a command that must be refused with `code`; prints the refusal.
    fn refused(&self, args: &[&str], stdin: &[u8], code: &str) -> Result<(), String> {
        let o = self.crmguard(args, stdin)?;
        let line = o.stderr.lines().last().unwrap_or("").to_owned();
        if o.ok || !line.starts_with(code) {
            return Err(format!(
                "expected `crmguard {}` to be refused with {code}, got: {line}",
                args.join(" ")
            ));
        }
        println!("     {} {}", self.paint("31", "refused:"), line);
        Ok(())
    }

    fn write(&self, name: &str, value: &Value) -> Result<(), String> {
        let text = serde_json::to_string_pretty(value).map_err(|e| e.to_string())? + "\n";
        std::fs::write(self.dir.join(name), text).map_err(|e| format!("{name}: {e}"))
    }
}

/// Long sealed values are cut in the middle so a person can read the record.
fn shorten(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(pos) = rest.find("cg1:") {
        out.push_str(&rest[..pos]);
        let tail = &rest[pos..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == ':'))
            .unwrap_or(tail.len());
        let token = &tail[..end];
        if token.len() > 28 {
            out.push_str(&format!("{}…{}", &token[..18], &token[token.len() - 6..]));
        } else {
            out.push_str(token);
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// Builds the `crmguard` CLI (debug) and returns its path.
pub(crate) fn build_cli() -> Result<PathBuf, String> {
    run_step(
        "building crmguard",
        cargo().args([
            "build",
            "--quiet",
            "--locked",
            "-p",
            "crmguard-host",
            "--bin",
            "crmguard",
        ]),
    )?;
    Ok(crate::npm::cli())
}

/// Runs the demo in `dir` with the CLI at `bin` (built here when `None`: `cargo xtask test`
/// passes the binary `cargo test --workspace` just built, with the same features, so nothing
/// is compiled twice).
pub(crate) fn run(dir: &Path, bin: Option<PathBuf>) -> Result<(), String> {
    let bin = match bin {
        Some(b) => b,
        None => build_cli()?,
    };
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut d = Demo {
        bin,
        dir: dir.to_path_buf(),
        color: std::io::stdout().is_terminal(),
        step: 0,
    };
    println!(
        "{}",
        d.paint(
            "1",
            "CRMGuard demo: protecting one contact record at Acme's CRM"
        )
    );
    println!(
        "{}",
        d.paint("2", &format!("data folder: {}", dir.display()))
    );

    let kr: &[&str] = &[
        "--keyring",
        "keyring.json",
        "--master-key-file",
        "master.key",
    ];
    let cat = |parts: &[&[&'static str]]| -> Vec<&'static str> { parts.concat() };

    d.title(
        "A master key and a keyring",
        "The keyring holds versioned data keys; on disk it is sealed under the master key.",
    );
    d.ok(&["keys", "new-master", "--out", "master.key"], b"")?;
    d.ok(
        &[
            "keys",
            "new",
            "--out",
            "keyring.json",
            "--master-key-file",
            "master.key",
        ],
        b"",
    )?;
    d.ok(
        &[
            "keys",
            "new-signing",
            "--out",
            "audit-signing.json",
            "--public-out",
            "audit-signing.pub.json",
        ],
        b"",
    )?;
    let keyring_file =
        std::fs::read_to_string(dir.join("keyring.json")).map_err(|e| e.to_string())?;
    d.say(&format!(
        "keyring.json is {} bytes of ciphertext: {}",
        keyring_file.len(),
        if keyring_file.contains("\"protection\": \"xaes-256-gcm\"") {
            "protected"
        } else {
            "NOT protected"
        }
    ));

    d.title(
        "Seal one field",
        "XAES-256-GCM with a random 192-bit nonce, bound to tenant, object, record and field.",
    );
    let ctx = [
        "--tenant", "acme", "--object", "contact", "--record", "0042", "--field", "email",
    ];
    let sealed = d.ok(&cat(&[&["seal"], kr, &ctx]), b"ada@example.com")?;
    let opened = d.ok(&cat(&[&["open"], kr, &ctx]), sealed.as_bytes())?;
    if opened != "ada@example.com" {
        return Err(format!("open gave {opened:?}"));
    }

    d.title(
        "A stolen value does not open elsewhere",
        "Pasting Ada's sealed e-mail into record 0043 is caught by the AEAD, not by a policy.",
    );
    let elsewhere = [
        "--tenant", "acme", "--object", "contact", "--record", "0043", "--field", "email",
    ];
    d.refused(
        &cat(&[&["open"], kr, &elsewhere]),
        sealed.as_bytes(),
        "ERR_SEALED_FIELD_AUTH",
    )?;

    d.title(
        "Seal a whole contact record by schema",
        "The schema says per field: clear, encrypt, or encrypt + blind index; name is under Ada's own key.",
    );
    d.write(
        "contact.schema.json",
        &json!({
            "object": "contact",
            "record_id": "id",
            "subject": "id",
            "fields": {
                "id": {"action": "clear"},
                "owner": {"action": "clear"},
                "name": {"action": "encrypt", "key": "subject"},
                "email": {"action": "blind-index", "blind_index": {"normalize": ["email"], "bits": 32}},
                "phone": {"action": "blind-index", "blind_index": {"normalize": ["phone"], "bits": 24}},
                "address": {"action": "encrypt"},
                "tags[]": {"action": "clear"},
                "lifetime_value": {"action": "encrypt"}
            }
        }),
    )?;
    let record = json!({
        "id": "0042",
        "owner": "sales-emea",
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "phone": "+44 20 7946 0958",
        "address": {"street": "12 St James's Square", "city": "London"},
        "tags": ["vip", "analytical-engine"],
        "lifetime_value": 125000.5
    });
    d.write("contact.json", &record)?;
    d.say(&format!("input: {record}"));
    let rec_args = ["--schema", "contact.schema.json", "--tenant", "acme"];
    let sealed_rec = d.ok(
        &cat(&[&["seal-record"], kr, &rec_args, &["--in", "contact.json"]]),
        b"",
    )?;
    std::fs::write(dir.join("contacts.sealed.jsonl"), &sealed_rec).map_err(|e| e.to_string())?;
    let sealed_json: Value = serde_json::from_str(sealed_rec.trim()).map_err(|e| e.to_string())?;
    for secret in ["Lovelace", "ada@", "7946", "London", "125000"] {
        if sealed_rec.contains(secret) {
            return Err(format!("sealed record leaks {secret:?}"));
        }
    }
    d.say("no name, e-mail, phone, address or value in the stored record; id, owner and tags stay searchable");

    d.title(
        "Find the contact by e-mail without decrypting the table",
        "A support agent types the address differently; the normaliser and blind index still match.",
    );
    let typed = "  ADA@Example.com ";
    let index = d.ok(
        &cat(&[
            &["blind-index"],
            kr,
            &[
                "--tenant",
                "acme",
                "--schema",
                "contact.schema.json",
                "--field",
                "email",
            ],
        ]),
        typed.as_bytes(),
    )?;
    let stored = sealed_json["_blind"]["email"].as_str().unwrap_or("");
    if index.trim() != stored {
        return Err(format!(
            "blind index {} does not match stored {stored}",
            index.trim()
        ));
    }
    d.say(&format!(
        "typed {typed:?} → index {} = the record's _blind.email: found",
        index.trim()
    ));
    let opened_rec = d.ok(
        &cat(&[
            &["open-record"],
            kr,
            &rec_args,
            &["--in", "contacts.sealed.jsonl"],
        ]),
        b"",
    )?;
    let opened_json: Value = serde_json::from_str(opened_rec.trim()).map_err(|e| e.to_string())?;
    if opened_json != record {
        return Err("the opened record differs from the input".into());
    }
    d.say("opened record equals the input, every type intact");

    d.title(
        "Who is asking? Verify the bearer token",
        "The key in the JWKS fixes the algorithm; issuer, audience and expiry are checked. The \
         example tokens were issued on 2025-11-29, so --now replays that moment.",
    );
    for f in [
        "jwks.json",
        "policy.json",
        "token.jwt",
        "request.json",
        "request-other-tenant.json",
    ] {
        std::fs::copy(root().join("examples").join(f), dir.join(f))
            .map_err(|e| format!("examples/{f}: {e}"))?;
    }
    let token = std::fs::read(dir.join("token.jwt")).map_err(|e| e.to_string())?;
    let verify = [
        "token",
        "verify",
        "--jwks",
        "jwks.json",
        "--issuer",
        "https://idp.example.com",
        "--audience",
        "crm-api",
    ];
    d.ok(&cat(&[&verify, &["--now", NOW]]), &token)?;
    d.refused(&verify, &token, "ERR_JWT_EXPIRED")?;

    d.title(
        "What may a sales rep see of a contact?",
        "The policy decides per field: e-mail and phone masked, national id hidden; another \
         tenant's token is refused. Every decision, allow or deny, goes to the audit log.",
    );
    let authorize = [
        "authorize",
        "--policy",
        "policy.json",
        "--jwks",
        "jwks.json",
        "--now",
        NOW,
        "--audit-log",
        "audit.jsonl",
        "--signing-key",
        "audit-signing.json",
    ];
    let decision = d.ok_shown(
        &cat(&[&authorize, &["--request", "request.json"]]),
        b"",
        |out| {
            let v: Value = serde_json::from_str(out).unwrap_or(Value::Null);
            format!(
                "decision: {} ({})\nthe sales rep sees: {}",
                v["decision"]["effect"], v["decision"]["reason"]["rules"], v["record"]
            )
        },
    )?;
    let decision: Value = serde_json::from_str(&decision).map_err(|e| e.to_string())?;
    if decision["record"]["email"] != "****@example.com"
        || decision["record"].get("national_id").is_some()
    {
        return Err("the policy did not mask and hide as expected".into());
    }
    d.refused(
        &cat(&[&authorize, &["--request", "request-other-tenant.json"]]),
        b"",
        "ERR_POLICY_DENIED",
    )?;

    d.title(
        "A policy plugin decides, sandboxed",
        "Plugins are WebAssembly components pinned by digest: no files, network, clock or keys; \
         10 ms of CPU and 16 MiB per request. The token is verified by the tokens component; \
         sealed fields are opened by the crypto component; the plugin never sees a key. The \
         reference plugin runs the same policy as `authorize`, and its decisions are audited too.",
    );
    crate::components::build()?;
    let wasm = crate::components::dir();
    for (file, name) in [
        ("crmguard_component_crypto.wasm", "crypto.wasm"),
        ("crmguard_component_tokens.wasm", "tokens.wasm"),
        ("crmguard_plugin_reference.wasm", "reference.wasm"),
        ("test_plugin_hostile.wasm", "hostile.wasm"),
    ] {
        std::fs::copy(wasm.join(file), dir.join(name)).map_err(|e| format!("{file}: {e}"))?;
    }
    d.ok(
        &[
            "plugin",
            "add",
            "crypto.wasm",
            "--name",
            "crypto",
            "--world",
            "crypto",
        ],
        b"",
    )?;
    d.ok(
        &[
            "plugin",
            "add",
            "tokens.wasm",
            "--name",
            "tokens",
            "--world",
            "token-verifier",
        ],
        b"",
    )?;
    d.ok(
        &["plugin", "add", "reference.wasm", "--name", "reference"],
        b"",
    )?;
    d.ok(&["plugin", "add", "hostile.wasm", "--name", "hostile"], b"")?;
    let sealed_email = sealed_json["email"].clone();
    let plugin_request = |action: &str| {
        json!({
            "tenant": "acme",
            "action": action,
            "object": "contact",
            "record_id": "0042",
            "record": {
                "id": "0042",
                "tenant_id": "acme",
                "name": "Ada Lovelace",
                "email": sealed_email,
                "phone": "+44 20 7946 0958",
                "national_id": "QQ123456C",
                "lifecycle_stage": "customer"
            }
        })
    };
    d.write("plugin-request.json", &plugin_request("read"))?;
    let run = [
        "run",
        "--request",
        "plugin-request.json",
        "--token",
        "token.jwt",
        "--jwks",
        "jwks.json",
        "--now",
        NOW,
        "--keyring",
        "keyring.json",
        "--master-key-file",
        "master.key",
        "--audit-log",
        "audit.jsonl",
        "--signing-key",
        "audit-signing.json",
    ];
    let outcome = d.ok_shown(&run, b"", |out| {
        let v: Value = serde_json::from_str(out).unwrap_or(Value::Null);
        format!(
            "verdict: {} ({})\nthe sales rep sees: {}\naudited at seq {}",
            v["verdict"]["effect"], v["verdict"]["reason"], v["record"], v["audit"]["seq"]
        )
    })?;
    let outcome: Value = serde_json::from_str(&outcome).map_err(|e| e.to_string())?;
    // The same answer `authorize` gave above, with the e-mail opened by the crypto component
    // before it was masked.
    if outcome["record"]["email"] != "****@example.com"
        || outcome["record"]["phone"] != "****0958"
        || outcome["record"].get("national_id").is_some()
    {
        return Err(format!("unexpected plugin outcome: {outcome}"));
    }
    d.say("a hostile plugin that never returns:");
    d.write("plugin-request.json", &plugin_request("loop"))?;
    let contained = d.ok_shown(&cat(&[&run, &["--plugin", "hostile"]]), b"", |out| {
        let v: Value = serde_json::from_str(out).unwrap_or(Value::Null);
        format!(
            "verdict: {} ({})",
            v["verdict"]["effect"],
            v["verdict"]["code"].as_str().unwrap_or("")
        )
    })?;
    let contained: Value = serde_json::from_str(&contained).map_err(|e| e.to_string())?;
    if contained["verdict"]["effect"] != "deny" {
        return Err(format!("the looping plugin was not contained: {contained}"));
    }
    if contained["audit"]["event"]["outcome"]["decision"] != "deny" {
        return Err(format!(
            "the contained plugin's deny was not audited: {contained}"
        ));
    }
    d.say("stopped at its CPU deadline and turned into an audited deny; the host carries on");

    d.title(
        "Rotate the key, then move the data",
        "Old values keep opening after rotation; `reencrypt` re-seals them under the new primary.",
    );
    d.ok(&cat(&[&["keys", "rotate"], kr]), b"")?;
    d.ok(
        &cat(&[
            &["reencrypt"],
            kr,
            &rec_args,
            &["--in", "contacts.sealed.jsonl"],
        ]),
        b"",
    )?;
    d.ok(&cat(&[&["keys", "list"], kr]), b"")?;
    d.ok(&cat(&[&["keys", "destroy", "--key-id", "1"], kr]), b"")?;
    let after = d.ok(
        &cat(&[
            &["open-record"],
            kr,
            &rec_args,
            &["--in", "contacts.sealed.jsonl"],
        ]),
        b"",
    )?;
    let after_json: Value = serde_json::from_str(after.trim()).map_err(|e| e.to_string())?;
    if after_json != record {
        return Err("after rotation the record no longer opens to the input".into());
    }
    d.say("key 1 is gone, and the re-encrypted record still opens");

    d.title(
        "Ada asks to be forgotten (GDPR Art. 17)",
        "Erasing her subject key makes every field sealed under it unrecoverable, in every copy of the data.",
    );
    d.ok(
        &cat(&[
            &["subject", "forget", "--subject", "0042"],
            kr,
            &[
                "--audit-log",
                "audit.jsonl",
                "--signing-key",
                "audit-signing.json",
                "--audit-actor",
                "dpo-1",
                "--audit-tenant",
                "acme",
            ],
        ]),
        b"",
    )?;
    d.refused(
        &cat(&[
            &["open-record"],
            kr,
            &rec_args,
            &["--in", "contacts.sealed.jsonl"],
        ]),
        b"",
        "ERR_SUBJECT_FORGOTTEN",
    )?;
    let shredded = d.ok(
        &cat(&[
            &["open-record"],
            kr,
            &rec_args,
            &["--in", "contacts.sealed.jsonl", "--forgotten-as-null"],
        ]),
        b"",
    )?;
    let shredded_json: Value = serde_json::from_str(shredded.trim()).map_err(|e| e.to_string())?;
    if !shredded_json["name"].is_null() || shredded_json["email"] != record["email"] {
        return Err("erasure did not behave as expected".into());
    }
    d.say("her name is unrecoverable; the account's other data stays usable");

    d.title(
        "The audit log proves what happened, and notices tampering",
        "Four decisions and one erasure, hash-chained and closed by signed checkpoints; no field \
         values, and the erased subject's id only as a keyed hash.",
    );
    let verify_log = [
        "audit",
        "verify",
        "--log",
        "audit.jsonl",
        "--public-key",
        "audit-signing.pub.json",
    ];
    let ok = d.ok(&verify_log, b"")?;
    if !ok.starts_with("ok: 5 records") {
        return Err(format!("unexpected audit verification: {ok}"));
    }
    let log = std::fs::read_to_string(dir.join("audit.jsonl")).map_err(|e| e.to_string())?;
    for secret in ["ada@example.com", "Ada Lovelace", "QQ123456C"] {
        if log.contains(secret) {
            return Err(format!("the audit log holds {secret}"));
        }
    }
    let erasure = log
        .lines()
        .find(|l| l.contains("subject.forget"))
        .ok_or("the erasure is not in the audit log")?;
    if erasure.contains("\"0042\"") {
        return Err("the erasure record names the erased subject in clear".into());
    }
    // An insider edits the first decision to hide who asked.
    let tampered = log.replacen("\"uid\":\"user-7\"", "\"uid\":\"user-8\"", 1);
    if tampered == log {
        return Err("the demo could not find the record to tamper with".into());
    }
    std::fs::write(dir.join("audit.jsonl"), &tampered).map_err(|e| e.to_string())?;
    d.say("an insider rewrites the first record's user id from user-7 to user-8 ...");
    d.refused(&verify_log, b"", "ERR_AUDIT_HASH")?;
    std::fs::write(dir.join("audit.jsonl"), &log).map_err(|e| e.to_string())?;

    println!(
        "\n{} {} steps; everything is in {}",
        d.paint("1;32", "demo complete:"),
        d.step,
        dir.display()
    );
    Ok(())
}
