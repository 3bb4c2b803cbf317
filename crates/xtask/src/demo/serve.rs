//! The demo's service step: a data folder for `crmguard serve`, the service on a free
//! loopback port, two requests a CRM would make, its metrics, and a clean stop that leaves a
//! verifiable audit log.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};

use super::Demo;

const CONFIG: &str = "\
# crmguard serve's configuration (see docs/SERVE.md)
[tokens]
issuers = [\"https://idp.demo\"]
audiences = [\"crm-api\"]
[objects.contact]
plugin = \"reference\"
[audit]
readers = [\"auditor\"]
";

/// The service as a child process; stopped (SIGTERM) when dropped if still running.
struct Service {
    child: Child,
    addr: String,
}

impl Drop for Service {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// One HTTP/1.1 request: (status, body).
fn call(
    addr: &str,
    path: &str,
    token: &str,
    body: Option<&Value>,
) -> Result<(u16, String), String> {
    let mut s = TcpStream::connect(addr).map_err(|e| format!("connecting to {addr}: {e}"))?;
    let payload = body.map(Value::to_string).unwrap_or_default();
    let method = if body.is_some() { "POST" } else { "GET" };
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Authorization: Bearer {token}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{payload}",
        payload.len()
    );
    s.write_all(request.as_bytes())
        .map_err(|e| format!("writing to the service: {e}"))?;
    let mut raw = String::new();
    s.read_to_string(&mut raw)
        .map_err(|e| format!("reading from the service: {e}"))?;
    let (head, body) = raw.split_once("\r\n\r\n").ok_or("no HTTP response")?;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or("no HTTP status")?;
    Ok((status, body.to_owned()))
}

fn token(roles: &[&str], tenant: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    crmguard_conformance::idp::token(&json!({
        "iss": "https://idp.demo", "aud": "crm-api", "sub": "user-7", "tenant": tenant,
        "roles": roles, "iat": now, "exp": now + 300,
    }))
}

fn setup(d: &Demo) -> Result<(), String> {
    let data = d.dir.join("serve");
    for sub in ["keyrings", "audit"] {
        std::fs::create_dir_all(data.join(sub)).map_err(|e| format!("serve/{sub}: {e}"))?;
    }
    let copy = |from: &str, to: &str| {
        std::fs::copy(d.dir.join(from), data.join(to))
            .map(drop)
            .map_err(|e| format!("{from} -> serve/{to}: {e}"))
    };
    copy("keyring.json", "keyrings/acme.json")?;
    copy("policy.json", "policy.json")?;
    copy("audit-signing.json", "audit/signing.key")?;
    std::fs::write(data.join("jwks.json"), crmguard_conformance::idp::jwks())
        .and_then(|()| std::fs::write(data.join("crmguard.toml"), CONFIG))
        .map_err(|e| format!("serve/: {e}"))?;
    // The components pinned in step 8 (each folder: the .wasm and its manifest), without the
    // artifact cache, whose tags are keyed to the run that made them.
    for name in ["crypto", "reference"] {
        let (from, to) = (
            d.dir.join("plugins").join(name),
            data.join("plugins").join(name),
        );
        std::fs::create_dir_all(&to).map_err(|e| format!("{}: {e}", to.display()))?;
        for entry in std::fs::read_dir(&from).map_err(|e| format!("{}: {e}", from.display()))? {
            let path = entry
                .map_err(|e| format!("{}: {e}", from.display()))?
                .path();
            if let Some(file) = path.file_name() {
                std::fs::copy(&path, to.join(file))
                    .map_err(|e| format!("{}: {e}", path.display()))?;
            }
        }
    }
    d.say(
        "serve/ holds keyrings/acme.json (sealed), jwks.json, policy.json, crmguard.toml, audit/, \
         and plugins/ (contacts are decided by the reference plugin, in its sandbox)",
    );
    Ok(())
}

fn start(d: &Demo) -> Result<Service, String> {
    let args = [
        "serve",
        "--data",
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--master-key-file",
        "master.key",
    ];
    println!(
        "   {} crmguard {} 2> serve.log &",
        d.paint("33", "$"),
        args.join(" ")
    );
    let log =
        std::fs::File::create(d.dir.join("serve.log")).map_err(|e| format!("serve.log: {e}"))?;
    let mut child = Command::new(&d.bin)
        .args(args)
        .current_dir(&d.dir)
        .env_remove("CRMGUARD_MASTER_KEY")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .map_err(|e| format!("starting crmguard serve: {e}"))?;
    let mut line = String::new();
    let stdout = child.stdout.take().ok_or("no stdout")?;
    BufReader::new(stdout)
        .read_line(&mut line)
        .map_err(|e| format!("reading crmguard serve: {e}"))?;
    let addr = line
        .trim()
        .strip_prefix("crmguard serve: listening on http://")
        .ok_or_else(|| format!("crmguard serve did not start: {line:?}"))?
        .to_owned();
    println!("     {}", line.trim());
    Ok(Service { child, addr })
}

pub(super) fn serve(d: &mut Demo) -> Result<(), String> {
    setup(d)?;
    let service = start(d)?;
    let mut record = d.sealed_record.clone();
    record["tenant_id"] = "acme".into();
    let body = json!({
        "object": "contact", "record_id": "0042", "subject": "0042", "record": record,
    });
    d.say(
        "POST /v1/decide, a sales rep's token, the contact as stored (sealed); the plugin names \
         a treatment per field and the service renders them:",
    );
    let (status, answer) = call(
        &service.addr,
        "/v1/decide",
        &token(&["sales_rep"], "acme"),
        Some(&body),
    )?;
    let answer: Value = serde_json::from_str(&answer).map_err(|e| format!("{e}: {answer}"))?;
    println!(
        "     {status}: {} — the rep sees {}, audit seq {}",
        answer["verdict"]["effect"], answer["record"], answer["audit"]["seq"]
    );
    if status != 200
        || answer["record"]["email"] != "****@example.com"
        || answer["record"]["name"] != "****"
    {
        return Err(format!("unexpected answer from the service: {answer}"));
    }
    d.say("the same record, asked for with a token of tenant globex naming acme's record:");
    let mut other = body.clone();
    other["tenant"] = "acme".into();
    let (status, refused) = call(
        &service.addr,
        "/v1/decide",
        &token(&["admin"], "globex"),
        Some(&other),
    )?;
    let refused: Value = serde_json::from_str(&refused).map_err(|e| format!("{e}: {refused}"))?;
    println!(
        "     {status}: {} {} (audit seq {})",
        refused["verdict"]["effect"], refused["verdict"]["code"], refused["audit"]["seq"]
    );
    if refused["verdict"]["code"] != "ERR_REQUEST_TENANT_MISMATCH" {
        return Err(format!(
            "another tenant's caller was not refused: {refused}"
        ));
    }
    // An auditor proves, from the service, that the rep's decision is in the signed log.
    let seq = answer["audit"]["seq"].as_u64().ok_or("no audit seq")?;
    let auditor = token(&["auditor"], "acme");
    d.say("an auditor has the service sign a checkpoint, then asks for a proof of that decision:");
    let (status, signed) = call(
        &service.addr,
        "/v1/audit/checkpoint",
        &auditor,
        Some(&json!({})),
    )?;
    let signed: Value = serde_json::from_str(&signed).map_err(|e| format!("{e}: {signed}"))?;
    println!(
        "     {status}: checkpoint over {} records, root {:.16}…",
        signed["checkpoint"]["size"],
        signed["checkpoint"]["root_hash"].as_str().unwrap_or("?")
    );
    let (status, proof) = call(
        &service.addr,
        &format!("/v1/audit/proofs/inclusion?seq={seq}"),
        &auditor,
        None,
    )?;
    if status != 200 {
        return Err(format!("no inclusion proof: {status} {proof}"));
    }
    let path = d.dir.join("inclusion-proof.json");
    std::fs::write(&path, &proof).map_err(|e| format!("{}: {e}", path.display()))?;
    println!("     {status}: inclusion-proof.json, record {seq} and its audit path to that root");
    d.say("checked offline, with the public key alone:");
    d.ok(
        &[
            "audit",
            "verify-proof",
            "--proof",
            "inclusion-proof.json",
            "--public-key",
            "audit-signing.pub.json",
        ],
        b"",
    )?;
    let (_, metrics) = call(&service.addr, "/metrics", "", None)?;
    for line in metrics.lines().filter(|l| {
        l.starts_with("crmguard_decisions_total") || l.starts_with("crmguard_audit_records_total")
    }) {
        println!("     {}", d.paint("2", line));
    }
    stop(d, service)?;
    let access =
        std::fs::read_to_string(d.dir.join("serve.log")).map_err(|e| format!("serve.log: {e}"))?;
    let line = access
        .lines()
        .find(|l| l.contains("\"path\":\"/v1/decide\"") && l.contains("\"status\":200"))
        .ok_or("serve.log has no access line for the rep's decision")?;
    d.say("serve.log: one JSON line per request; its request_id is in the audit record too:");
    println!("     {}", d.paint("2", line));
    let log_path = d.dir.join("serve/audit/decisions.jsonl");
    let log =
        std::fs::read_to_string(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
    if !log.contains("\"status_detail\":\"reference: allowed by sales-read\"") {
        return Err("the contact was not decided by the reference plugin".into());
    }
    d.ok(
        &[
            "audit",
            "verify",
            "--log",
            "serve/audit/decisions.jsonl",
            "--public-key",
            "audit-signing.pub.json",
            // Two decisions, and the auditor's two reads (each recorded too).
            "--expect-size",
            "4",
        ],
        b"",
    )?;
    Ok(())
}

fn stop(d: &Demo, mut service: Service) -> Result<(), String> {
    let pid = service.child.id().to_string();
    println!("   {} kill -TERM {pid}", d.paint("33", "$"));
    let sent = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .map_err(|e| format!("kill: {e}"))?;
    let status = service
        .child
        .wait()
        .map_err(|e| format!("waiting for crmguard serve: {e}"))?;
    if !sent.success() || !status.success() {
        return Err(format!("crmguard serve did not stop cleanly: {status}"));
    }
    Ok(())
}
