//! The demo's steps, in order: each a title, a one-line why, and a small function that runs
//! `crmguard` the way a user would and checks what came back.

use crmguard_core::codes;
use serde_json::{Value, json};

use super::Demo;
use crate::root;

/// The moment the example tokens in examples/ are valid (100 s after issue).
const NOW: &str = "1764400100";

/// The keyring arguments every key-using command takes.
const KEYRING: &[&str] = &[
    "--keyring",
    "keyring.json",
    "--master-key-file",
    "master.key",
];
/// The schema arguments of the record commands.
const RECORD: &[&str] = &["--schema", "contact.schema.json", "--tenant", "acme"];
/// The example IdP and the API its tokens are for: required, never "any" by default.
const IDP: &[&str] = &[
    "--issuer",
    "https://idp.example.com",
    "--audience",
    "crm-api",
];
/// Where every audited command appends, and the key that signs its checkpoints.
const AUDIT: &[&str] = &[
    "--audit-log",
    "audit.jsonl",
    "--signing-key",
    "audit-signing.json",
];

/// One step of the demo.
pub(super) struct Step {
    pub(super) title: &'static str,
    pub(super) why: &'static str,
    pub(super) run: fn(&mut Demo) -> Result<(), String>,
}

pub(super) const STEPS: &[Step] = &[
    Step {
        title: "A master key and a keyring",
        why: "The keyring holds versioned data keys; on disk it is sealed under the master key.",
        run: keys,
    },
    Step {
        title: "Seal one field",
        why: "XAES-256-GCM with a random 192-bit nonce, bound to tenant, object, record and field.",
        run: seal_one_field,
    },
    Step {
        title: "A stolen value does not open elsewhere",
        why: "Pasting Ada's sealed e-mail into record 0043 is caught by the AEAD, not by a policy.",
        run: stolen_value,
    },
    Step {
        title: "Seal a whole contact record by schema",
        why: "The schema says per field: clear, encrypt, or encrypt + blind index; name is under \
              Ada's own key.",
        run: seal_record,
    },
    Step {
        title: "Find the contact by e-mail without decrypting the table",
        why: "A support agent types the address differently; the normaliser and blind index \
              still match.",
        run: find_by_email,
    },
    Step {
        title: "Who is asking? Verify the bearer token",
        why: "The key in the JWKS fixes the algorithm; issuer, audience and expiry are checked. \
              The example tokens were issued on 2025-11-29, so --now replays that moment.",
        run: verify_token,
    },
    Step {
        title: "What may a sales rep see of a contact?",
        why: "The policy decides per field: e-mail and phone masked, national id hidden; another \
              tenant's token is refused. Every decision, allow or deny, goes to the audit log.",
        run: authorize,
    },
    Step {
        title: "A policy plugin decides, sandboxed",
        why: "Plugins are WebAssembly components pinned by digest: no files, network, clock, \
              timers or keys; 10 ms of CPU and 16 MiB per request. The host verifies the token \
              and binds the caller's tenant first; sealed fields are opened by the crypto \
              component, for this one record only; the plugin never sees a key. The reference \
              plugin runs the same policy as `authorize`, and its decisions are audited too.",
        run: plugin,
    },
    Step {
        title: "The CRM asks the service, per request",
        why: "`crmguard serve` is the sidecar a CRM calls for every record it returns: the same \
              pipeline over HTTP (token, tenant, policy, sealed fields opened for this caller). \
              Each decision is durable in the audit log before it is answered. The demo starts \
              it on a free loopback port and stops it with SIGTERM.",
        run: super::serve::serve,
    },
    Step {
        title: "Rotate the key, then move the data",
        why: "Old values keep opening after rotation; `reencrypt` re-seals them under the new \
              primary.",
        run: rotate,
    },
    Step {
        title: "Ada asks to be forgotten (GDPR Art. 17)",
        why: "Erasing her subject key makes every field sealed under it unrecoverable, in every \
              copy of the data.",
        run: forget,
    },
    Step {
        title: "The audit log proves what happened, and notices tampering",
        why: "Five decisions and one erasure, hash-chained and closed by signed checkpoints; no \
              field values, and the erased subject's id only as a keyed hash.",
        run: audit,
    },
];

/// The steps' titles, short, for the opening line.
pub(super) fn outline() -> String {
    STEPS
        .iter()
        .map(|s| {
            s.title
                .split([',', '?'])
                .next()
                .unwrap_or(s.title)
                .to_lowercase()
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn cat<'a>(parts: &[&[&'a str]]) -> Vec<&'a str> {
    parts.concat()
}

fn json_of(text: &str) -> Result<Value, String> {
    serde_json::from_str(text.trim()).map_err(|e| e.to_string())
}

fn keys(d: &mut Demo) -> Result<(), String> {
    d.ok(&["keys", "new-master", "--out", "master.key"], b"")?;
    d.ok(
        &cat(&[&["keys", "new", "--out", "keyring.json"], &KEYRING[2..]]),
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
    let file = d.read("keyring.json")?;
    d.say(&format!(
        "keyring.json is {} bytes of ciphertext: {}",
        file.len(),
        if file.contains("\"protection\": \"xaes-256-gcm\"") {
            "protected"
        } else {
            "NOT protected"
        }
    ));
    Ok(())
}

const EMAIL_0042: &[&str] = &[
    "--tenant", "acme", "--object", "contact", "--record", "0042", "--field", "email",
];

fn seal_one_field(d: &mut Demo) -> Result<(), String> {
    let sealed = d.ok(&cat(&[&["seal"], KEYRING, EMAIL_0042]), b"ada@example.com")?;
    d.write_text("email.sealed", &sealed)?;
    let opened = d.ok(&cat(&[&["open"], KEYRING, EMAIL_0042]), sealed.as_bytes())?;
    if opened != "ada@example.com" {
        return Err(format!("open gave {opened:?}"));
    }
    Ok(())
}

fn stolen_value(d: &mut Demo) -> Result<(), String> {
    let sealed = d.read("email.sealed")?;
    let elsewhere = [
        "--tenant", "acme", "--object", "contact", "--record", "0043", "--field", "email",
    ];
    d.refused(
        &cat(&[&["open"], KEYRING, &elsewhere]),
        sealed.as_bytes(),
        codes::SEALED_FIELD_AUTH,
    )
}

fn seal_record(d: &mut Demo) -> Result<(), String> {
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
    d.record = json!({
        "id": "0042",
        "owner": "sales-emea",
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "phone": "+44 20 7946 0958",
        "address": {"street": "12 St James's Square", "city": "London"},
        "tags": ["vip", "analytical-engine"],
        "lifetime_value": 125000.5
    });
    d.write("contact.json", &d.record.clone())?;
    d.say(&format!("input: {}", d.record));
    let sealed = d.ok(
        &cat(&[&["seal-record"], KEYRING, RECORD, &["--in", "contact.json"]]),
        b"",
    )?;
    d.write_text("contacts.sealed.jsonl", &sealed)?;
    for secret in ["Lovelace", "ada@", "7946", "London", "125000"] {
        if sealed.contains(secret) {
            return Err(format!("sealed record leaks {secret:?}"));
        }
    }
    d.sealed_record = json_of(&sealed)?;
    d.say(
        "no name, e-mail, phone, address or value in the stored record; id, owner and tags stay \
         searchable",
    );
    Ok(())
}

/// Opens contacts.sealed.jsonl by the schema (with `extra` arguments); the command must succeed.
fn open_record(d: &Demo, extra: &[&str]) -> Result<Value, String> {
    let args = cat(&[
        &["open-record"],
        KEYRING,
        RECORD,
        &["--in", "contacts.sealed.jsonl"],
        extra,
    ]);
    json_of(&d.ok(&args, b"")?)
}

fn find_by_email(d: &mut Demo) -> Result<(), String> {
    let typed = "  ADA@Example.com ";
    let field = [
        "--tenant",
        "acme",
        "--schema",
        "contact.schema.json",
        "--field",
        "email",
    ];
    let index = d.ok(&cat(&[&["blind-index"], KEYRING, &field]), typed.as_bytes())?;
    let stored = d.sealed_record["_blind"]["email"].as_str().unwrap_or("");
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
    if open_record(d, &[])? != d.record {
        return Err("the opened record differs from the input".into());
    }
    d.say("opened record equals the input, every type intact");
    Ok(())
}

fn verify_token(d: &mut Demo) -> Result<(), String> {
    for f in [
        "jwks.json",
        "policy.json",
        "token.jwt",
        "request.json",
        "request-other-tenant.json",
    ] {
        std::fs::copy(root().join("examples").join(f), d.dir.join(f))
            .map_err(|e| format!("examples/{f}: {e}"))?;
    }
    let token = d.read("token.jwt")?;
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
    d.ok(&cat(&[&verify, &["--now", NOW]]), token.as_bytes())?;
    d.refused(&verify, token.as_bytes(), codes::JWT_EXPIRED)
}

fn authorize(d: &mut Demo) -> Result<(), String> {
    let authorize = cat(&[
        &[
            "authorize",
            "--policy",
            "policy.json",
            "--jwks",
            "jwks.json",
            "--now",
            NOW,
        ],
        IDP,
        AUDIT,
    ]);
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
    let decision = json_of(&decision)?;
    if decision["record"]["email"] != "****@example.com"
        || decision["record"].get("national_id").is_some()
    {
        return Err("the policy did not mask and hide as expected".into());
    }
    d.refused(
        &cat(&[&authorize, &["--request", "request-other-tenant.json"]]),
        b"",
        codes::POLICY_DENIED,
    )
}

/// Copies the built components into the data folder and pins them.
fn pin_components(d: &Demo) -> Result<(), String> {
    d.say(
        "building the WebAssembly components (wasm32-wasip2; a first build takes about 2 minutes):",
    );
    crate::components::build()?;
    let wasm = crate::components::dir();
    for (file, name, world) in [
        ("crmguard_component_crypto.wasm", "crypto", Some("crypto")),
        (
            "crmguard_component_tokens.wasm",
            "tokens",
            Some("token-verifier"),
        ),
        ("crmguard_plugin_reference.wasm", "reference", None),
        ("test_plugin_hostile.wasm", "hostile", None),
    ] {
        let copy = format!("{name}.wasm");
        std::fs::copy(wasm.join(file), d.dir.join(&copy)).map_err(|e| format!("{file}: {e}"))?;
        let mut args = vec!["plugin", "add", copy.as_str(), "--name", name];
        if let Some(w) = world {
            args.extend(["--world", w]);
        }
        d.ok(&args, b"")?;
    }
    Ok(())
}

/// `crmguard run` over plugin-request.json with the example token, audited.
fn run_args(extra: &[&'static str]) -> Vec<&'static str> {
    cat(&[
        &[
            "run",
            "--request",
            "plugin-request.json",
            "--token",
            "token.jwt",
            "--jwks",
            "jwks.json",
            "--now",
            NOW,
        ],
        IDP,
        KEYRING,
        AUDIT,
        extra,
    ])
}

fn plugin_request(d: &Demo, tenant: &str, action: &str) -> Result<(), String> {
    d.write(
        "plugin-request.json",
        &json!({
            "tenant": tenant,
            "action": action,
            "object": "contact",
            "record_id": "0042",
            "record": {
                "id": "0042",
                "tenant_id": "acme",
                "name": "Ada Lovelace",
                "email": d.sealed_record["email"],
                "phone": "+44 20 7946 0958",
                "national_id": "QQ123456C",
                "lifecycle_stage": "customer"
            }
        }),
    )
}

fn plugin(d: &mut Demo) -> Result<(), String> {
    pin_components(d)?;
    plugin_request(d, "acme", "read")?;
    let outcome = d.ok_shown(&run_args(&[]), b"", |out| {
        let v: Value = serde_json::from_str(out).unwrap_or(Value::Null);
        format!(
            "verdict: {} ({})\nthe sales rep sees: {}\naudited at seq {}",
            v["verdict"]["effect"], v["verdict"]["reason"], v["record"], v["audit"]["seq"]
        )
    })?;
    let outcome = json_of(&outcome)?;
    // The same answer `authorize` gave above, with the e-mail opened by the crypto component
    // before it was masked.
    if outcome["record"]["email"] != "****@example.com"
        || outcome["record"]["phone"] != "****0958"
        || outcome["record"].get("national_id").is_some()
    {
        return Err(format!("unexpected plugin outcome: {outcome}"));
    }
    hostile_plugin(d)
}

fn hostile_plugin(d: &mut Demo) -> Result<(), String> {
    d.say("a hostile plugin that never returns:");
    plugin_request(d, "acme", "loop")?;
    let contained = d.ok_shown(&run_args(&["--plugin", "hostile"]), b"", |out| {
        let v: Value = serde_json::from_str(out).unwrap_or(Value::Null);
        format!(
            "verdict: {} ({})",
            v["verdict"]["effect"],
            v["verdict"]["code"].as_str().unwrap_or("")
        )
    })?;
    let contained = json_of(&contained)?;
    if contained["verdict"]["effect"] != "deny" {
        return Err(format!("the looping plugin was not contained: {contained}"));
    }
    if contained["audit"]["event"]["outcome"]["decision"] != "deny" {
        return Err(format!(
            "the contained plugin's deny was not audited: {contained}"
        ));
    }
    d.say("stopped at its CPU deadline and turned into an audited deny; the host carries on");
    tenant_hop(d)
}

fn tenant_hop(d: &mut Demo) -> Result<(), String> {
    d.say("the CRM asks for globex's record with acme's token:");
    plugin_request(d, "globex", "read")?;
    let hop = d.ok_shown(&run_args(&[]), b"", |out| {
        let v: Value = serde_json::from_str(out).unwrap_or(Value::Null);
        format!(
            "verdict: {} ({}), audited as a caller of {}",
            v["verdict"]["effect"],
            v["verdict"]["code"].as_str().unwrap_or(""),
            v["audit"]["event"]["actor"]["tenant"]
        )
    })?;
    let hop = json_of(&hop)?;
    if hop["verdict"]["code"] != codes::REQUEST_TENANT_MISMATCH
        || hop["audit"]["event"]["actor"]["tenant"] != "acme"
    {
        return Err(format!("the tenant hop was not refused by the host: {hop}"));
    }
    d.say("the host binds the tenant to the verified token: no plugin ran, no key was touched");
    Ok(())
}

fn rotate(d: &mut Demo) -> Result<(), String> {
    d.ok(&cat(&[&["keys", "rotate"], KEYRING]), b"")?;
    d.ok(
        &cat(&[
            &["reencrypt"],
            KEYRING,
            RECORD,
            &["--in", "contacts.sealed.jsonl"],
        ]),
        b"",
    )?;
    d.ok(&cat(&[&["keys", "list"], KEYRING]), b"")?;
    d.ok(&cat(&[&["keys", "destroy", "--key-id", "1"], KEYRING]), b"")?;
    if open_record(d, &[])? != d.record {
        return Err("after rotation the record no longer opens to the input".into());
    }
    d.say("key 1 is gone, and the re-encrypted record still opens");
    Ok(())
}

fn forget(d: &mut Demo) -> Result<(), String> {
    d.ok(
        &cat(&[
            &["subject", "forget", "--subject", "0042"],
            KEYRING,
            AUDIT,
            &["--audit-actor", "dpo-1", "--audit-tenant", "acme"],
        ]),
        b"",
    )?;
    d.refused(
        &cat(&[
            &["open-record"],
            KEYRING,
            RECORD,
            &["--in", "contacts.sealed.jsonl"],
        ]),
        b"",
        codes::SUBJECT_FORGOTTEN,
    )?;
    let shredded = open_record(d, &["--forgotten-as-null"])?;
    if !shredded["name"].is_null() || shredded["email"] != d.record["email"] {
        return Err("erasure did not behave as expected".into());
    }
    d.say("her name is unrecoverable; the account's other data stays usable");
    Ok(())
}

fn audit(d: &mut Demo) -> Result<(), String> {
    let verify_log = [
        "audit",
        "verify",
        "--log",
        "audit.jsonl",
        "--public-key",
        "audit-signing.pub.json",
    ];
    let ok = d.ok(&verify_log, b"")?;
    if !ok.starts_with("ok: 6 records") {
        return Err(format!("unexpected audit verification: {ok}"));
    }
    let log = d.read("audit.jsonl")?;
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
    d.write_text("audit.jsonl", &tampered)?;
    d.say("an insider rewrites the first record's user id from user-7 to user-8 ...");
    d.refused(&verify_log, b"", codes::AUDIT_HASH)?;
    d.write_text("audit.jsonl", &log)
}
