//! `crmguard serve` end to end, on loopback: a real process, real HTTP, a real audit log.
//! Decisions (allowed, masked, sealed fields opened; another tenant refused), every error as
//! `application/problem+json` with its code and a 4xx status, the OpenAPI document checked
//! against the running server, metrics, and a clean stop that leaves a verifiable log.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};

const MASTER: &str = "ERERERERERERERERERERERERERERERERERERERERERE=";

fn crmguard(dir: &Path, args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_crmguard"))
        .args(args)
        .current_dir(dir)
        .env("CRMGUARD_MASTER_KEY", MASTER)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `crmguard ARGS` in `dir` with `input` on stdin; its stdout, trimmed.
fn crmguard_input(dir: &Path, args: &[&str], input: &str) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_crmguard"))
        .args(args)
        .current_dir(dir)
        .env("CRMGUARD_MASTER_KEY", MASTER)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{args:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn seal(dir: &Path, field: &str, value: &str) -> String {
    crmguard_input(
        dir,
        &[
            "seal",
            "--keyring",
            "keyrings/acme.json",
            "--tenant",
            "acme",
            "--object",
            "contact",
            "--record",
            "0042",
            "--field",
            field,
        ],
        value,
    )
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A token from the test IdP for `claims` (issuer and audience the service expects).
fn token(claims: Value) -> String {
    let mut c = json!({"iss": "https://idp.test", "aud": "crm-api", "sub": "user-1",
        "tenant": "acme", "exp": now() + 600});
    for (k, v) in claims.as_object().unwrap() {
        c[k] = v.clone();
    }
    crmguard_conformance::idp::token(&c)
}

struct Server {
    child: Child,
    addr: String,
    /// `http` or `https`.
    scheme: String,
    data: PathBuf,
    /// Its stderr: the access log and warnings.
    log: PathBuf,
    /// The temporary folder holding `data` (`None` for a replica on another's folder).
    _dir: Option<tempfile::TempDir>,
}

impl Server {
    fn start() -> Self {
        Self::start_with(|_| "")
    }

    /// A server whose data folder `prepare` may add to; it returns more configuration.
    fn start_with(prepare: impl FnOnce(&Path) -> &'static str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir_all(data.join("keyrings")).unwrap();
        std::fs::create_dir_all(data.join("audit")).unwrap();
        crmguard(&data, &["keys", "new", "--out", "keyrings/acme.json"]);
        crmguard(
            &data,
            &[
                "keys",
                "new-signing",
                "--out",
                "audit/signing.key",
                "--public-out",
                "audit/signing.pub",
            ],
        );
        std::fs::write(data.join("jwks.json"), crmguard_conformance::idp::jwks()).unwrap();
        std::fs::copy(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/policy.json"),
            data.join("policy.json"),
        )
        .unwrap();
        std::fs::create_dir_all(data.join("schemas")).unwrap();
        std::fs::write(
            data.join("schemas/contact.json"),
            json!({"object": "contact", "record_id": "id", "fields": {
                "id": {"action": "clear"}, "tenant_id": {"action": "clear"},
                "name": {"action": "encrypt"}, "phone": {"action": "encrypt"},
                "email": {"action": "blind-index", "blind_index": {"normalize": ["email"]}},
                "national_id": {"action": "encrypt"}, "lifecycle_stage": {"action": "clear"}}})
            .to_string(),
        )
        .unwrap();
        std::fs::write(
            data.join("crmguard.toml"),
            "[tokens]\nissuers = [\"https://idp.test\"]\naudiences = [\"crm-api\"]\n\
             [limits]\nmax_body_bytes = 65536\nheader_read_timeout_ms = 500\n",
        )
        .unwrap();
        let extra = prepare(&data);
        let mut config = std::fs::read_to_string(data.join("crmguard.toml")).unwrap();
        config.push_str(extra);
        std::fs::write(data.join("crmguard.toml"), config).unwrap();
        Self::spawn(&data, &[], Some(dir))
    }

    /// Another service on this one's data folder (its keyrings, schemas, policy), writing
    /// its own audit log: a replica.
    fn replica(&self, audit_log: &str) -> Self {
        Self::spawn(&self.data, &["--audit-log", audit_log], None)
    }

    fn spawn(data: &Path, args: &[&str], dir: Option<tempfile::TempDir>) -> Self {
        // stderr (the access log) goes to a file: a pipe nobody reads would fill and stall
        // the service.
        static SERVERS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = SERVERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let log = data.parent().unwrap().join(format!("serve-{n}.log"));
        let mut child = Command::new(env!("CARGO_BIN_EXE_crmguard"))
            .args(["serve", "--data"])
            .arg(data)
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .current_dir(data)
            .env("CRMGUARD_MASTER_KEY", MASTER)
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let (scheme, addr) = line
            .trim()
            .strip_prefix("crmguard serve: listening on ")
            .and_then(|u| u.split_once("://"))
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
        Self {
            scheme: scheme.to_owned(),
            addr: addr.to_owned(),
            child,
            data: data.to_path_buf(),
            log,
            _dir: dir,
        }
    }

    /// One HTTP/1.1 request; (status, content type, body).
    fn call(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
        call_at(&self.addr, method, path, headers, body)
    }

    fn decide(&self, token: &str, body: &Value) -> Reply {
        self.call(
            "POST",
            "/v1/decide",
            &[
                ("Authorization", &format!("Bearer {token}")),
                ("Content-Type", "application/json"),
            ],
            body.to_string().as_bytes(),
        )
    }

    /// Stops the server (SIGTERM); the data folder stays until `self` is dropped.
    fn stop(&mut self) -> PathBuf {
        let pid = self.child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        let status = self.child.wait().unwrap();
        assert!(status.success(), "serve exits 0 on SIGTERM: {status}");
        self.data.clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // A failed test leaves no server behind.
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A JSON POST with a bearer token to `addr`.
fn post_json(addr: &str, token: &str, path: &str, body: &Value) -> Reply {
    call_at(
        addr,
        "POST",
        path,
        &[
            ("Authorization", &format!("Bearer {token}")),
            ("Content-Type", "application/json"),
        ],
        body.to_string().as_bytes(),
    )
}

/// Contacts whose name is sealed under the data subject's own key (the record id), and
/// privacy officers who may erase subjects: for `Server::start_with`.
fn subject_contacts(data: &Path) -> &'static str {
    std::fs::write(
        data.join("schemas/contact.json"),
        json!({"object": "contact", "record_id": "id", "subject": "id", "fields": {
                "id": {"action": "clear"}, "tenant_id": {"action": "clear"},
                "name": {"action": "encrypt", "key": "subject"},
                "lifecycle_stage": {"action": "clear"}}})
        .to_string(),
    )
    .unwrap();
    "[subjects]\nerasers = [\"privacy_officer\"]\n"
}

/// One HTTP/1.1 request to `addr` on a connection of its own.
fn call_at(addr: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    let mut s = TcpStream::connect(addr).unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    // A server refusing an oversized body may answer and close before reading it all.
    let _ = s.write_all(body);
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8(raw).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
    let content_type = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-type: ")
                .map(str::to_owned)
        })
        .unwrap_or_default();
    let www = head
        .to_ascii_lowercase()
        .contains("www-authenticate: bearer");
    Reply {
        status,
        content_type,
        body: body.to_owned(),
        www_authenticate: www,
        head: head.to_owned(),
    }
}

struct Reply {
    status: u16,
    content_type: String,
    body: String,
    www_authenticate: bool,
    /// The status line and headers.
    head: String,
}

impl Reply {
    /// A response header's value (`name` in lower case).
    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            (k.trim().eq_ignore_ascii_case(name)).then(|| v.trim().to_owned())
        })
    }
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    fn problem(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(
            self.content_type, "application/problem+json",
            "{}",
            self.body
        );
        let p = self.json();
        assert_eq!(p["code"], code, "{}", self.body);
        assert_eq!(p["status"], status);
    }
}

fn contact(data: &Path) -> Value {
    json!({
        "id": "0042", "tenant_id": "acme", "name": "Ada Lovelace",
        "email": seal(data, "email", "ada@example.com"),
        "phone": "+44 20 7946 0000",
        "national_id": seal(data, "national_id", "078-05-1120"),
        "lifecycle_stage": "customer",
    })
}

#[test]
fn decisions_are_rendered_audited_and_tenants_kept_apart() {
    let mut server = Server::start();
    let record = contact(&server.data);
    let body = json!({"object": "contact", "record_id": "0042", "record": record});
    // A sales rep: personal data masked (the sealed e-mail opened first), national id hidden.
    let r = server.decide(&token(json!({"roles": ["sales_rep"]})), &body);
    assert_eq!(r.status, 200, "{}", r.body);
    let d = r.json();
    assert_eq!(d["verdict"]["effect"], "allow");
    let email = d["record"]["email"].as_str().unwrap();
    assert!(
        email.ends_with("@example.com") && !email.contains("ada"),
        "{email}"
    );
    assert!(d["record"].get("national_id").is_none());
    assert_eq!(d["actions"]["national_id"], "drop");
    assert_eq!(d["audit"]["seq"], 0);
    // A clinician: everything clear, the sealed values opened.
    let r = server.decide(&token(json!({"roles": ["clinician"]})), &body);
    let d = r.json();
    assert_eq!(d["record"]["national_id"], "078-05-1120");
    assert_eq!(d["record"]["email"], "ada@example.com");
    assert_eq!(d["audit"]["seq"], 1);
    // Another tenant's record: refused before any decider runs, and audited.
    let mut other = body.clone();
    other["tenant"] = "globex".into();
    let d = server
        .decide(&token(json!({"roles": ["admin"]})), &other)
        .json();
    assert_eq!(d["verdict"]["code"], "ERR_REQUEST_TENANT_MISMATCH");
    assert_eq!(d["record"], json!({}));
    assert_eq!(d["audit"]["seq"], 2);
    // A token naming a tenant this service holds no keyring for: denied, audited.
    let d = server
        .decide(
            &token(json!({"roles": ["admin"], "tenant": "initech"})),
            &body,
        )
        .json();
    assert_eq!(d["verdict"]["code"], "ERR_REQUEST_TENANT_UNKNOWN");
    // Metrics count what happened.
    let m = server.call("GET", "/metrics", &[], b"");
    assert_eq!(m.status, 200);
    assert!(
        m.body
            .contains("crmguard_decisions_total{outcome=\"allow\",code=\"\"} 2"),
        "{}",
        m.body
    );
    assert!(
        m.body.contains("crmguard_audit_records_total 4"),
        "{}",
        m.body
    );
    assert!(m.body.contains("crmguard_audit_commit_seconds_count"));
    let data = server.stop();
    // The log the service wrote verifies, every decision in it, closed with a checkpoint.
    let out = Command::new(env!("CARGO_BIN_EXE_crmguard"))
        .args(["audit", "verify", "--log"])
        .arg(data.join("audit/decisions.jsonl"))
        .arg("--public-key")
        .arg(data.join("audit/signing.pub"))
        .args(["--expect-size", "4"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let log = std::fs::read_to_string(data.join("audit/decisions.jsonl")).unwrap();
    assert!(
        !log.contains("ada@example.com") && !log.contains("078-05"),
        "no values"
    );
    assert!(log.lines().last().unwrap().contains("crmguard.checkpoint"));
}

#[test]
fn bad_requests_are_problems_with_codes_never_5xx() {
    let mut server = Server::start();
    let good = token(json!({"roles": ["sales_rep"]}));
    let body = json!({"object": "contact", "record_id": "0042", "record": {"id": "0042"}});
    let json_ct = ("Content-Type", "application/json");
    let auth = format!("Bearer {good}");
    let mut cases = 0;
    // No token, a malformed one, a forged one, an expired one.
    let r = server.call(
        "POST",
        "/v1/decide",
        &[json_ct],
        body.to_string().as_bytes(),
    );
    r.problem(401, "ERR_HTTP_BEARER");
    assert!(r.www_authenticate);
    cases += 1;
    for (t, code) in [
        ("not.a.token".to_owned(), "ERR_JWT_INVALID"),
        (format!("{good}x"), "ERR_JWS_SIGNATURE_VERIFICATION_FAILED"),
        (token(json!({"exp": now() - 3600})), "ERR_JWT_EXPIRED"),
        (
            token(json!({"aud": "other-api"})),
            "ERR_JWT_CLAIM_VALIDATION_FAILED",
        ),
        (token(json!({"tenant": null})), "ERR_REQUEST_TENANT_CLAIM"),
    ] {
        server.decide(&t, &body).problem(401, code);
        cases += 1;
    }
    // Bodies: wrong media type, not JSON, unknown member, bad identifier, too large.
    let auth_h = ("Authorization", auth.as_str());
    server
        .call(
            "POST",
            "/v1/decide",
            &[auth_h, ("Content-Type", "text/plain")],
            b"{}",
        )
        .problem(415, "ERR_HTTP_MEDIA_TYPE");
    server
        .call("POST", "/v1/decide", &[auth_h, json_ct], b"{not json")
        .problem(400, "ERR_HTTP_BODY");
    let mut extra = body.clone();
    extra["tenant_override"] = "globex".into();
    server.decide(&good, &extra).problem(400, "ERR_HTTP_BODY");
    // A member named twice: refused, not resolved last-one-wins.
    let twice = br#"{"object":"contact","object":"deal","record_id":"1","record":{}}"#;
    server
        .call("POST", "/v1/decide", &[auth_h, json_ct], twice)
        .problem(400, "ERR_HTTP_BODY");
    let mut bad_id = body.clone();
    bad_id["record_id"] = "".into();
    server
        .decide(&good, &bad_id)
        .problem(400, "ERR_CONTEXT_INVALID");
    let big = vec![b' '; 70_000];
    server
        .call("POST", "/v1/decide", &[auth_h, json_ct], &big)
        .problem(413, "ERR_HTTP_BODY_TOO_LARGE");
    cases += 6;
    // Routes and methods.
    server
        .call("GET", "/v1/nothing", &[], b"")
        .problem(404, "ERR_HTTP_NOT_FOUND");
    server
        .call("GET", "/v1/decide", &[auth_h], b"")
        .problem(405, "ERR_HTTP_METHOD");
    cases += 2;
    assert_eq!(cases, 14);
    // The token endpoint binds the caller as the pipeline does.
    let v = server.call("POST", "/v1/tokens/verify", &[auth_h], b"");
    assert_eq!(v.status, 200, "{}", v.body);
    assert_eq!(v.json()["tenant"], "acme");
    assert_eq!(v.json()["roles"], json!(["sales_rep"]));
    // Still serving after all of it.
    assert_eq!(server.call("GET", "/healthz", &[], b"").status, 200);
    server.stop();
}

/// Every operation in the OpenAPI document answers on the running server with a status and
/// a content type the document lists for it.
#[test]
fn the_openapi_document_matches_the_running_server() {
    let mut server = Server::start();
    let r = server.call("GET", "/openapi.json", &[], b"");
    assert_eq!(r.status, 200);
    let doc = r.json();
    assert_eq!(doc["openapi"], "3.1.0");
    let good = format!("Bearer {}", token(json!({"roles": ["sales_rep"]})));
    let body = json!({"object": "contact", "record_id": "0042", "record": {"id": "0042"}});
    let lookup = json!({"object": "contact", "field": "email", "value": "a@b.example"});
    let mut checked = 0;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            let method = method.to_ascii_uppercase();
            let needs_body = op.get("requestBody").is_some();
            let payload = match (needs_body, path.as_str()) {
                (true, "/v1/blind-index") => lookup.to_string(),
                (true, _) => body.to_string(),
                (false, _) => String::new(),
            };
            for authorised in [true, false] {
                let mut headers = vec![("Content-Type", "application/json")];
                if authorised {
                    headers.push(("Authorization", good.as_str()));
                }
                let r = server.call(&method, path, &headers, payload.as_bytes());
                let documented = &op["responses"][r.status.to_string()];
                assert!(
                    !documented.is_null(),
                    "{method} {path} answered {} which the document does not list",
                    r.status
                );
                let resolved = match documented.get("$ref").and_then(Value::as_str) {
                    Some(reference) => {
                        let name = reference.rsplit('/').next().unwrap();
                        &doc["components"]["responses"][name]
                    }
                    None => documented,
                };
                let media = resolved["content"].as_object().unwrap();
                assert!(
                    media.keys().any(|m| r.content_type.starts_with(m.as_str())),
                    "{method} {path} {}: {} is not one of {:?}",
                    r.status,
                    r.content_type,
                    media.keys().collect::<Vec<_>>()
                );
                checked += 1;
            }
        }
    }
    assert_eq!(
        checked,
        2 * 15,
        "fifteen operations, with and without a token"
    );
    server.stop();
}

/// The write path: the policy decides the write; an allowed record comes back sealed by its
/// schema (with its blind index), bound to the request's record, and opens for a reader.
#[test]
fn writes_are_decided_then_sealed_by_schema() {
    let mut server = Server::start();
    let clear = json!({"id": "0042", "tenant_id": "acme", "name": "Ada Lovelace",
        "email": "Ada@Example.com", "national_id": "078-05-1120", "lifecycle_stage": "lead"});
    let body = json!({"action": "create", "object": "contact", "record_id": "0042",
        "record": clear});
    let writer = token(json!({"roles": ["sales_rep"], "scope": "crm.write"}));
    let seal = |t: &str, b: &Value| {
        server.call(
            "POST",
            "/v1/records/seal",
            &[
                ("Authorization", &format!("Bearer {t}")),
                ("Content-Type", "application/json"),
            ],
            b.to_string().as_bytes(),
        )
    };
    let r = seal(&writer, &body);
    assert_eq!(r.status, 200, "{}", r.body);
    let out = r.json();
    assert_eq!(out["verdict"]["effect"], "allow");
    let sealed = &out["record"];
    for f in ["name", "email", "national_id"] {
        assert!(
            sealed[f].as_str().unwrap().starts_with("cg1:"),
            "{f}: {sealed}"
        );
    }
    assert!(!sealed.to_string().contains("Lovelace"));
    assert!(
        sealed.get("_blind").is_some(),
        "the blind index is stored: {sealed}"
    );
    // A clinician reading the stored record gets it opened.
    let read = server
        .decide(
            &token(json!({"roles": ["clinician"]})),
            &json!({"object": "contact", "record_id": "0042", "record": sealed}),
        )
        .json();
    assert_eq!(read["record"]["email"], "Ada@Example.com", "{read}");
    assert_eq!(read["record"]["national_id"], "078-05-1120");
    // Sealed for record 0042: presented as record 0043 it does not open (a deny, not a leak).
    let moved = server
        .decide(
            &token(json!({"roles": ["clinician"]})),
            &json!({"object": "contact", "record_id": "0043", "record": sealed}),
        )
        .json();
    assert_eq!(moved["verdict"]["code"], "ERR_SEALED_FIELD_AUTH", "{moved}");
    // Without the crm.write scope the policy denies the write, and nothing is sealed.
    let denied = seal(&token(json!({"roles": ["sales_rep"]})), &body).json();
    assert_eq!(denied["verdict"]["code"], "ERR_POLICY_DENIED");
    assert_eq!(denied["record"], json!({}));
    // The CRM finds the stored contact by e-mail without opening anything: the index the
    // service computes for the (normalised) address is the one stored with the record.
    let lookup = |t: &str, value: &str| {
        server
            .call(
                "POST",
                "/v1/blind-index",
                &[
                    ("Authorization", &format!("Bearer {t}")),
                    ("Content-Type", "application/json"),
                ],
                json!({"object": "contact", "field": "email", "value": value})
                    .to_string()
                    .as_bytes(),
            )
            .json()
    };
    // A field the schema does not index has no index to look up.
    let r = server.call(
        "POST",
        "/v1/blind-index",
        &[
            ("Authorization", &format!("Bearer {writer}")),
            ("Content-Type", "application/json"),
        ],
        json!({"object": "contact", "field": "name", "value": "Ada"})
            .to_string()
            .as_bytes(),
    );
    r.problem(404, "ERR_SERVE_NO_INDEX");
    let found = lookup(&writer, "  ada@EXAMPLE.com ");
    assert_eq!(found["member"], "_blind");
    assert_eq!(found["index"], sealed["_blind"]["email"], "{found}");
    assert_ne!(
        lookup(&writer, "bob@example.com")["index"],
        sealed["_blind"]["email"]
    );
    // A caller the policy gives no read of contacts gets no index (and it is audited).
    let intern = lookup(&token(json!({"roles": ["intern"]})), "ada@example.com");
    assert_eq!(intern["verdict"]["code"], "ERR_POLICY_DENIED");
    assert!(intern["index"].is_null());
    // Stored values replayed into another record's write are not authentic there: the
    // decision (which renders them) is a deny, audited, and nothing comes back.
    let mut replay = sealed.clone();
    replay["id"] = "0043".into();
    let r = seal(
        &writer,
        &json!({"action": "update", "object": "contact", "record_id": "0043", "record": replay}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let replayed = r.json();
    assert_eq!(
        replayed["verdict"]["code"], "ERR_SEALED_FIELD_AUTH",
        "{replayed}"
    );
    assert_eq!(replayed["record"], json!({}));
    // An object without a schema has no write path.
    let mut deal = body.clone();
    deal["object"] = "deal".into();
    seal(&writer, &deal).problem(404, "ERR_SERVE_NO_SCHEMA");
    server.stop();
}

/// A built component (target/wasm32-wasip2/component, or CRMGUARD_COMPONENTS).
fn component(file: &str) -> PathBuf {
    let dir = std::env::var_os("CRMGUARD_COMPONENTS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/wasm32-wasip2/component"),
        PathBuf::from,
    );
    let path = dir.join(file);
    assert!(
        path.is_file(),
        "{} is missing: run `cargo xtask components` (or `cargo xtask test`)",
        path.display()
    );
    path
}

/// Objects given to policy plugins: contacts to the reference plugin (the same policy as
/// policy.json), tickets to a hostile plugin. The plugin's answer is validated by core; a
/// plugin that never returns is a deny with its code, audited, and the service keeps serving.
#[test]
fn objects_decided_by_plugins_in_their_sandbox() {
    let mut server = Server::start_with(|data| {
        for (file, name, world) in [
            ("crmguard_component_crypto.wasm", "crypto", Some("crypto")),
            ("crmguard_plugin_reference.wasm", "reference", None),
            ("test_plugin_hostile.wasm", "hostile", None),
        ] {
            let path = component(file);
            let mut args = vec!["plugin", "add", path.to_str().unwrap(), "--name", name];
            if let Some(w) = world {
                args.extend(["--world", w]);
            }
            crmguard(data, &args);
        }
        "[objects.contact]\nplugin = \"reference\"\n[objects.ticket]\nplugin = \"hostile\"\n"
    });
    let record = contact(&server.data);
    let body = json!({"object": "contact", "record_id": "0042", "record": record});
    let d = server
        .decide(&token(json!({"roles": ["sales_rep"]})), &body)
        .json();
    assert_eq!(d["verdict"]["effect"], "allow", "{d}");
    assert_eq!(
        d["record"]["email"], "****@example.com",
        "opened by the crypto component"
    );
    assert!(d["record"].get("national_id").is_none());
    // Another tenant's record never reaches the plugin.
    let mut other = body.clone();
    other["tenant"] = "globex".into();
    let d = server
        .decide(&token(json!({"roles": ["admin"]})), &other)
        .json();
    assert_eq!(d["verdict"]["code"], "ERR_REQUEST_TENANT_MISMATCH");
    // A plugin that loops forever overruns its deadline: a deny, and the service lives.
    let ticket = json!({"action": "loop", "object": "ticket", "record_id": "t-1",
        "record": {"id": "t-1", "tenant_id": "acme"}});
    let d = server
        .decide(&token(json!({"roles": ["admin"]})), &ticket)
        .json();
    assert_eq!(d["verdict"]["code"], "ERR_PLUGIN_TIMEOUT", "{d}");
    assert_eq!(d["record"], json!({}));
    assert_eq!(server.call("GET", "/healthz", &[], b"").status, 200);
    let m = server.call("GET", "/metrics", &[], b"").body;
    assert!(
        m.contains("crmguard_decisions_total{outcome=\"deny\",code=\"ERR_PLUGIN_TIMEOUT\"} 1"),
        "{m}"
    );
    let data = server.stop();
    let log = std::fs::read_to_string(data.join("audit/decisions.jsonl")).unwrap();
    assert!(
        log.contains("reference: "),
        "the plugin is named as the decider"
    );
    assert!(
        log.contains("hostile: ERR_PLUGIN_TIMEOUT"),
        "the failure is audited"
    );
}

/// A client that trickles its headers (slowloris) is cut off after the header-read timeout
/// instead of holding a connection forever; others are served meanwhile.
#[test]
fn a_client_that_never_finishes_its_headers_is_dropped() {
    let mut server = Server::start();
    let mut slow = TcpStream::connect(&server.addr).unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: 1\r\n")
        .unwrap();
    // Longer than the 500 ms timeout configured for tests; well short of "forever".
    slow.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    assert_eq!(server.call("GET", "/healthz", &[], b"").status, 200);
    let mut got = Vec::new();
    match slow.read_to_end(&mut got) {
        // Closed, with a 408 or without a word.
        Ok(_) => assert!(
            got.is_empty() || got.starts_with(b"HTTP/1.1 408"),
            "{}",
            String::from_utf8_lossy(&got)
        ),
        Err(e) => panic!("the connection was still open after 10 s: {e}"),
    }
    server.stop();
}

// ---------------------------------------------------------------------------------------
// The key set from the IdP over HTTPS (jose's remote-set semantics), and TLS on the listener.

/// A test CA and a certificate it issued for 127.0.0.1: (CA PEM, leaf chain PEM, key PEM).
fn loopback_certificates() -> (String, String, String) {
    let pki = LoopbackPki::new();
    (pki.ca, pki.server.0, pki.server.1)
}

/// A test CA with a server certificate for 127.0.0.1 and a client certificate (PEM chain and
/// key each).
struct LoopbackPki {
    ca: String,
    server: (String, String),
    client: (String, String),
}

impl LoopbackPki {
    fn new() -> Self {
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "crmguard test CA");
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let issuer = rcgen::Issuer::new(ca_params, ca_key);
        let leaf = |names: Vec<String>, usage: rcgen::ExtendedKeyUsagePurpose| {
            let key = rcgen::KeyPair::generate().unwrap();
            let mut params = rcgen::CertificateParams::new(names).unwrap();
            params.extended_key_usages = vec![usage];
            let cert = params.signed_by(&key, &issuer).unwrap();
            (cert.pem(), key.serialize_pem())
        };
        Self {
            ca: ca.pem(),
            server: leaf(
                vec!["127.0.0.1".to_owned()],
                rcgen::ExtendedKeyUsagePurpose::ServerAuth,
            ),
            client: leaf(
                vec!["crm-backend.test".to_owned()],
                rcgen::ExtendedKeyUsagePurpose::ClientAuth,
            ),
        }
    }
}

/// How the loopback IdP answers `GET /jwks.json`.
#[derive(Clone)]
enum Idp {
    /// 200 with this key set, after a delay.
    Up(String, std::time::Duration),
    /// 500.
    Failing,
    /// Accepts and never answers.
    Hanging,
}

/// An HTTPS identity provider on loopback whose answer a test changes, counting requests.
struct LoopbackIdp {
    url: String,
    ca_pem: String,
    mode: std::sync::Arc<std::sync::Mutex<Idp>>,
    hits: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl LoopbackIdp {
    fn start(mode: Idp) -> Self {
        use std::sync::atomic::Ordering;
        use std::sync::{Arc, Mutex};
        let (ca_pem, chain, key) = loopback_certificates();
        use rustls::pki_types::pem::PemObject;
        let certs = rustls::pki_types::CertificateDer::pem_slice_iter(chain.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        let key = rustls::pki_types::PrivateKeyDer::from_pem_slice(key.as_bytes()).unwrap();
        let config = Arc::new(
            rustls::ServerConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap(),
        );
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("https://{}/jwks.json", listener.local_addr().unwrap());
        let mode = Arc::new(Mutex::new(mode));
        let hits = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let (m, h) = (mode.clone(), hits.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (config, m, h) = (config.clone(), m.clone(), h.clone());
                std::thread::spawn(move || {
                    let conn = rustls::ServerConnection::new(config).unwrap();
                    let mut tls = rustls::StreamOwned::new(conn, stream);
                    let mut head = Vec::new();
                    let mut byte = [0u8; 1];
                    while !head.ends_with(b"\r\n\r\n") {
                        match tls.read(&mut byte) {
                            Ok(1) => head.push(byte[0]),
                            _ => return,
                        }
                    }
                    h.fetch_add(1, Ordering::SeqCst);
                    let mode = m.lock().unwrap().clone();
                    let (status, body) = match mode {
                        Idp::Up(jwks, delay) => {
                            std::thread::sleep(delay);
                            ("200 OK", jwks)
                        }
                        Idp::Failing => ("500 Internal Server Error", "{}".to_owned()),
                        Idp::Hanging => {
                            std::thread::sleep(std::time::Duration::from_secs(30));
                            return;
                        }
                    };
                    let _ = write!(
                        tls,
                        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\n\
                         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = tls.flush();
                    tls.conn.send_close_notify();
                    let _ = tls.flush();
                });
            }
        });
        Self {
            url,
            ca_pem,
            mode,
            hits,
        }
    }

    fn set(&self, mode: Idp) {
        *self.mode.lock().unwrap() = mode;
    }

    fn hits(&self) -> u64 {
        self.hits.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// A service whose key set is this IdP's, with these remote-set settings.
    fn service(&self, settings: &str) -> Server {
        let (url, ca) = (self.url.clone(), self.ca_pem.clone());
        let settings = settings.to_owned();
        Server::start_with(move |data| {
            std::fs::write(data.join("idp-ca.pem"), &ca).unwrap();
            std::fs::write(
                data.join("crmguard.toml"),
                format!(
                    "[tokens]\nissuers = [\"https://idp.test\"]\naudiences = [\"crm-api\"]\n\
                     jwks_url = \"{url}\"\njwks_ca = \"idp-ca.pem\"\n{settings}\n\
                     [limits]\nmax_body_bytes = 65536\nheader_read_timeout_ms = 500\n"
                ),
            )
            .unwrap();
            ""
        })
    }
}

const KEY_A: &[u8] = &[0xa1; 32];
const KEY_B: &[u8] = &[0xb2; 32];

fn signed(kid: &str, secret: &[u8]) -> String {
    let c = json!({"iss": "https://idp.test", "aud": "crm-api", "sub": "user-1",
        "tenant": "acme", "roles": ["sales_rep"], "exp": now() + 600});
    crmguard_conformance::idp::token_with(&c, kid, secret)
}

fn verify_status(server: &Server, token: &str) -> (u16, Value) {
    let r = server.call(
        "POST",
        "/v1/tokens/verify",
        &[("Authorization", &format!("Bearer {token}"))],
        b"",
    );
    let v = serde_json::from_str(&r.body).unwrap_or(Value::Null);
    (r.status, v)
}

/// jose's remote-set rules against an IdP that rotates its keys and goes down: fetched once
/// at start; a new `kid` after a rotation causes one refetch (cooldown 0 here); cached keys
/// keep working while the IdP is down, and a `kid` it never published is refused there.
#[test]
fn a_remote_key_set_follows_rotation_and_outlives_an_outage() {
    use crmguard_conformance::idp::jwks_with;
    let idp = LoopbackIdp::start(Idp::Up(
        jwks_with(&[("a", KEY_A)]),
        std::time::Duration::ZERO,
    ));
    let mut server = idp.service("jwks_cooldown_secs = 0");
    assert_eq!(idp.hits(), 1, "fetched once at start");
    assert_eq!(server.call("GET", "/readyz", &[], b"").status, 200);
    assert_eq!(verify_status(&server, &signed("a", KEY_A)).0, 200);
    assert_eq!(idp.hits(), 1, "served from the cache");
    // The IdP rotates: b signs, a is gone. A token under b is verified after one refetch.
    idp.set(Idp::Up(
        jwks_with(&[("b", KEY_B)]),
        std::time::Duration::ZERO,
    ));
    assert_eq!(verify_status(&server, &signed("b", KEY_B)).0, 200);
    assert_eq!(idp.hits(), 2, "one refetch for the unknown kid");
    // a is no longer trusted once the set without it has been fetched.
    let (status, body) = verify_status(&server, &signed("a", KEY_A));
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["code"], "ERR_JWKS_NO_MATCHING_KEY");
    // The IdP goes down: b keeps working from the cache, a kid never published is refused.
    idp.set(Idp::Failing);
    let before = idp.hits();
    assert_eq!(verify_status(&server, &signed("b", KEY_B)).0, 200);
    assert_eq!(idp.hits(), before, "a cached kid needs no fetch");
    let (status, body) = verify_status(&server, &signed("c", &[0xc3; 32]));
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["code"], "ERR_JWKS_NO_MATCHING_KEY");
    assert_eq!(idp.hits(), before + 1, "one refetch tried, and it failed");
    let metrics = server.call("GET", "/metrics", &[], b"").body;
    assert!(
        metrics.contains("crmguard_jwks_fetches_total{outcome=\"error\"} 1"),
        "{metrics}"
    );
    server.stop();
}

/// Within the cooldown an unknown `kid` causes no fetch at all (no refetch storm from
/// tokens with made-up key ids).
#[test]
fn unknown_kids_within_the_cooldown_fetch_nothing() {
    use crmguard_conformance::idp::jwks_with;
    let idp = LoopbackIdp::start(Idp::Up(
        jwks_with(&[("a", KEY_A)]),
        std::time::Duration::ZERO,
    ));
    let mut server = idp.service("jwks_cooldown_secs = 3600");
    for i in 0..20 {
        let (status, body) = verify_status(&server, &signed(&format!("made-up-{i}"), KEY_B));
        assert_eq!(status, 401, "{body}");
        assert_eq!(body["code"], "ERR_JWKS_NO_MATCHING_KEY");
    }
    assert_eq!(idp.hits(), 1, "only the fetch at start");
    server.stop();
}

/// Started while the IdP is down: not ready, token paths 503 with a stable code (never a
/// 401 that would blame the caller); once the IdP is back, concurrent requests share one
/// fetch (single flight) and are answered.
#[test]
fn without_a_key_set_token_paths_answer_503_until_one_is_fetched() {
    use crmguard_conformance::idp::jwks_with;
    let idp = LoopbackIdp::start(Idp::Failing);
    let mut server = idp.service("jwks_cooldown_secs = 0");
    assert_eq!(server.call("GET", "/readyz", &[], b"").status, 503);
    let (status, body) = verify_status(&server, &signed("a", KEY_A));
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["code"], "ERR_JWKS_UNAVAILABLE");
    let r = server.decide(
        &signed("a", KEY_A),
        &json!({"object": "contact", "record_id": "0042", "record": {"id": "0042"}}),
    );
    r.problem(503, "ERR_JWKS_UNAVAILABLE");
    // Back, and slow: sixteen requests at once wait for one fetch.
    idp.set(Idp::Up(
        jwks_with(&[("a", KEY_A)]),
        std::time::Duration::from_millis(300),
    ));
    let before = idp.hits();
    let token = signed("a", KEY_A);
    std::thread::scope(|s| {
        let answers: Vec<_> = (0..16)
            .map(|_| s.spawn(|| verify_status(&server, &token).0))
            .collect();
        for a in answers {
            assert_eq!(a.join().unwrap(), 200);
        }
    });
    assert_eq!(idp.hits(), before + 1, "one fetch for sixteen requests");
    assert_eq!(server.call("GET", "/readyz", &[], b"").status, 200);
    server.stop();
}

/// An IdP that accepts and never answers is given up on after the fetch timeout: a 503 with
/// jose's code, not a hung request.
#[test]
fn a_hanging_idp_times_out() {
    let idp = LoopbackIdp::start(Idp::Hanging);
    let mut server = idp.service("jwks_timeout_ms = 200");
    let (status, body) = verify_status(&server, &signed("a", KEY_A));
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["code"], "ERR_JWKS_TIMEOUT");
    server.stop();
}

/// A key set URL that is not https, or roots that are not certificates, stop the service at
/// start with ERR_SERVE_CONFIG.
#[test]
fn a_key_set_url_must_be_https() {
    for (settings, why) in [
        (
            "jwks_url = \"http://127.0.0.1:1/jwks.json\"",
            "must be an https:// URL",
        ),
        (
            "jwks_url = \"https://127.0.0.1:1/jwks.json\"\njwks_ca = \"jwks.json\"",
            "holds no certificate",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir_all(data.join("keyrings")).unwrap();
        crmguard(&data, &["keys", "new", "--out", "keyrings/acme.json"]);
        std::fs::write(data.join("jwks.json"), crmguard_conformance::idp::jwks()).unwrap();
        std::fs::write(
            data.join("crmguard.toml"),
            format!("[tokens]\nissuers = [\"https://idp.test\"]\naudiences = [\"crm-api\"]\n{settings}\n"),
        )
        .unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_crmguard"))
            .args(["serve", "--data"])
            .arg(&data)
            .args(["--listen", "127.0.0.1:0"])
            .env("CRMGUARD_MASTER_KEY", MASTER)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(
            err.starts_with("ERR_SERVE_CONFIG: ") && err.contains(why),
            "{err}"
        );
    }
}

/// `[tls]`: the service speaks HTTPS with the configured certificate, offers h2 and
/// HTTP/1.1 by ALPN, and a cleartext request to it gets no HTTP answer.
#[test]
fn the_listener_speaks_tls_with_h2_and_http1() {
    use rustls::pki_types::pem::PemObject;
    use std::sync::Arc;
    let (ca, chain, key) = loopback_certificates();
    let mut server = Server::start_with(move |data| {
        std::fs::create_dir_all(data.join("tls")).unwrap();
        std::fs::write(data.join("tls/cert.pem"), &chain).unwrap();
        std::fs::write(data.join("tls/key.pem"), &key).unwrap();
        "[tls]\ncert = \"tls/cert.pem\"\nkey = \"tls/key.pem\"\n"
    });
    assert_eq!(server.scheme, "https");
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls::pki_types::CertificateDer::pem_slice_iter(ca.as_bytes()) {
        roots.add(c.unwrap()).unwrap();
    }
    let client = |alpn: &[&[u8]]| {
        let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots.clone())
        .with_no_client_auth();
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
        let conn = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
        rustls::StreamOwned::new(conn, TcpStream::connect(&server.addr).unwrap())
    };
    // HTTP/1.1 over TLS.
    let mut tls = client(&[b"http/1.1"]);
    write!(
        tls,
        "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    let _ = tls.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert_eq!(tls.conn.alpn_protocol(), Some(&b"http/1.1"[..]));
    // h2 is offered.
    let mut tls = client(&[b"h2", b"http/1.1"]);
    tls.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").unwrap();
    assert_eq!(tls.conn.alpn_protocol(), Some(&b"h2"[..]));
    // Cleartext HTTP to the TLS port: no HTTP answer.
    let mut plain = TcpStream::connect(&server.addr).unwrap();
    plain
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    plain
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut raw = Vec::new();
    let _ = plain.read_to_end(&mut raw);
    assert!(!raw.starts_with(b"HTTP/1.1 200"), "{raw:?}");
    server.stop();
}

/// The audit endpoints: only `[audit]` roles; the head and checkpoints; inclusion proofs for
/// the caller's own tenant's records and consistency proofs between checkpoints, each
/// verified by the CLI with the public key alone; events a CRM appends under its own tenant
/// and subject; every read itself recorded; the log verifies afterwards.
#[test]
fn the_audit_endpoints_prove_what_was_recorded() {
    let mut server =
        Server::start_with(|_| "[audit]\nreaders = [\"auditor\"]\nwriters = [\"crm_backend\"]\n");
    let get = |t: Option<&str>, path: &str| {
        let auth = t.map(|t| format!("Bearer {t}"));
        let mut headers = Vec::new();
        if let Some(a) = &auth {
            headers.push(("Authorization", a.as_str()));
        }
        server.call("GET", path, &headers, b"")
    };
    let post = |t: &str, path: &str, body: &[u8]| {
        server.call(
            "POST",
            path,
            &[
                ("Authorization", &format!("Bearer {t}")),
                ("Content-Type", "application/json"),
            ],
            body,
        )
    };
    let read = json!({"object": "contact", "record_id": "0042",
        "record": {"id": "0042", "tenant_id": "acme", "name": "Ada"}});
    for _ in 0..2 {
        assert_eq!(
            server
                .decide(&token(json!({"roles": ["sales_rep"]})), &read)
                .status,
            200
        );
    }
    // Another tenant's caller: refused and recorded under globex.
    let globex = token(json!({"roles": ["sales_rep"], "tenant": "globex"}));
    let refused = server.decide(&globex, &read).json();
    let globex_seq = refused["audit"]["seq"].as_u64().unwrap();
    let auditor = token(json!({"roles": ["auditor"]}));
    let rep = token(json!({"roles": ["sales_rep"]}));
    get(None, "/v1/audit/head").problem(401, "ERR_HTTP_BEARER");
    get(Some(&rep), "/v1/audit/head").problem(403, "ERR_SERVE_ROLE");
    let head = get(Some(&auditor), "/v1/audit/head").json();
    assert!(head["size"].as_u64().unwrap() >= 4, "{head}");
    assert!(head["checkpoint"].is_null(), "no checkpoint yet: {head}");
    // No checkpoint, no proof.
    get(Some(&auditor), "/v1/audit/proofs/inclusion?seq=0")
        .problem(404, "ERR_SERVE_AUDIT_NOT_FOUND");
    let first = post(&auditor, "/v1/audit/checkpoint", b"").json();
    let first_size = first["checkpoint"]["size"].as_u64().unwrap();
    assert!(first_size > globex_seq, "{first}");
    // Inclusion of the caller's own tenant's record, verified offline.
    let dir = server.data.clone();
    let verify_proof = |doc: &str, name: &str| {
        std::fs::write(dir.join(name), doc).unwrap();
        crmguard(
            &dir,
            &[
                "audit",
                "verify-proof",
                "--proof",
                name,
                "--public-key",
                "audit/signing.pub",
            ],
        );
    };
    let r = get(Some(&auditor), "/v1/audit/proofs/inclusion?seq=0");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["kind"], "crmguard.audit-inclusion-proof");
    verify_proof(&r.body, "inclusion.json");
    // Another tenant's record: no proof (it would show that tenant's activity).
    get(
        Some(&auditor),
        &format!("/v1/audit/proofs/inclusion?seq={globex_seq}"),
    )
    .problem(403, "ERR_REQUEST_TENANT_MISMATCH");
    for bad in ["", "?seq=x", "?seq=1&seq=2", "?other=1"] {
        get(Some(&auditor), &format!("/v1/audit/proofs/inclusion{bad}"))
            .problem(400, "ERR_HTTP_QUERY");
    }
    get(Some(&auditor), "/v1/audit/proofs/inclusion?seq=999999")
        .problem(404, "ERR_SERVE_AUDIT_NOT_FOUND");
    // Events the CRM records itself: its own tenant and subject only.
    let backend = token(json!({"roles": ["crm_backend"]}));
    let event = |tenant: &str| {
        json!({"class": "authentication", "activity": "logon",
            "actor": {"uid": "user-1", "tenant": tenant, "roles": ["crm_backend"]},
            "resources": [], "outcome": {"decision": "allow", "reason": "password and TOTP"}})
        .to_string()
    };
    let r = post(&backend, "/v1/audit/events", event("acme").as_bytes());
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.json()["seq"].as_u64().is_some());
    post(&backend, "/v1/audit/events", event("globex").as_bytes())
        .problem(403, "ERR_REQUEST_TENANT_MISMATCH");
    post(&auditor, "/v1/audit/events", event("acme").as_bytes()).problem(403, "ERR_SERVE_ROLE");
    post(&backend, "/v1/audit/events", b"{\"class\":\"nope\"}").problem(400, "ERR_HTTP_BODY");
    // A second checkpoint; the first log is a prefix of it.
    let second = post(&auditor, "/v1/audit/checkpoint", b"").json();
    assert!(second["checkpoint"]["size"].as_u64().unwrap() > first_size);
    let r = get(
        Some(&auditor),
        &format!("/v1/audit/proofs/consistency?from={first_size}"),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    verify_proof(&r.body, "consistency.json");
    get(Some(&auditor), "/v1/audit/proofs/consistency?from=1")
        .problem(404, "ERR_SERVE_AUDIT_NOT_FOUND");
    // Every read above is on the record too, and the log verifies.
    let data = server.stop();
    let log = std::fs::read_to_string(data.join("audit/decisions.jsonl")).unwrap();
    assert!(log.contains("audit_log.head") && log.contains("audit_log.seq-0"));
    crmguard(
        &data,
        &[
            "audit",
            "verify",
            "--log",
            "audit/decisions.jsonl",
            "--public-key",
            "audit/signing.pub",
        ],
    );
}

/// Browser-sealed values on the write path: the tenant's public key is served; a `cgh1:`
/// value sealed to it for this record is opened and re-sealed under the keyring by the
/// schema (the CRM never stores the HPKE form); one sealed for another record is refused,
/// and that refusal is on the record; a tenant without a tenant key takes none.
#[test]
fn browser_sealed_values_are_resealed_by_schema_on_write() {
    let mut server = Server::start_with(|data| {
        std::fs::create_dir_all(data.join("tenant-keys")).unwrap();
        crmguard(
            data,
            &[
                "tenant-key",
                "new",
                "--out",
                "tenant-keys/acme.key",
                "--public-out",
                "tenant-keys/acme.pub",
            ],
        );
        ""
    });
    let data = server.data.clone();
    let published = std::fs::read_to_string(data.join("tenant-keys/acme.pub")).unwrap();
    let r = server.call("GET", "/v1/tenants/acme/public-key", &[], b"");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["public_key"], published.trim());
    server
        .call("GET", "/v1/tenants/globex/public-key", &[], b"")
        .problem(404, "ERR_SERVE_NO_TENANT_KEY");
    // What the browser does with the npm package (here: the CLI's same format).
    let browser_seal = |record: &str, value: &str| {
        crmguard_input(
            &data,
            &[
                "tenant-key",
                "seal",
                "--public-key",
                "tenant-keys/acme.pub",
                "--tenant",
                "acme",
                "--object",
                "contact",
                "--record",
                record,
                "--field",
                "national_id",
            ],
            value,
        )
    };
    let cgh1 = browser_seal("0042", "078-05-1120");
    assert!(cgh1.starts_with("cgh1:"));
    let writer = token(json!({"roles": ["sales_rep"], "scope": "crm.write"}));
    let write = |value: &str| {
        let body = json!({"action": "create", "object": "contact", "record_id": "0042",
            "record": {"id": "0042", "tenant_id": "acme", "national_id": value,
                "email": "ada@example.com"}});
        server.call(
            "POST",
            "/v1/records/seal",
            &[
                ("Authorization", &format!("Bearer {writer}")),
                ("Content-Type", "application/json"),
            ],
            body.to_string().as_bytes(),
        )
    };
    let r = write(&cgh1);
    assert_eq!(r.status, 200, "{}", r.body);
    let stored = r.json()["record"].clone();
    let national = stored["national_id"].as_str().unwrap();
    assert!(
        national.starts_with("cg1:"),
        "re-sealed under the keyring: {stored}"
    );
    let read = server
        .decide(
            &token(json!({"roles": ["clinician"]})),
            &json!({"object": "contact", "record_id": "0042", "record": stored}),
        )
        .json();
    assert_eq!(read["record"]["national_id"], "078-05-1120", "{read}");
    // Sealed by the browser for another record: it does not open here.
    write(&browser_seal("0043", "078-05-1120")).problem(422, "ERR_TENANT_SEALED_AUTH");
    write("cgh1:not-base64!").problem(400, "ERR_TENANT_SEALED_MALFORMED");
    let data = server.stop();
    let log = std::fs::read_to_string(data.join("audit/decisions.jsonl")).unwrap();
    assert!(
        log.contains("write-path: ERR_TENANT_SEALED_AUTH"),
        "the refused write is on the record"
    );
    // Without a tenant key, a browser-sealed value is refused, not stored as it came.
    let mut plain = Server::start();
    let body = json!({"action": "create", "object": "contact", "record_id": "0042",
        "record": {"id": "0042", "tenant_id": "acme", "national_id": cgh1}});
    plain
        .call(
            "POST",
            "/v1/records/seal",
            &[
                ("Authorization", &format!("Bearer {writer}")),
                ("Content-Type", "application/json"),
            ],
            body.to_string().as_bytes(),
        )
        .problem(404, "ERR_TENANT_KEY_MISSING");
    plain.stop();
}

/// Data subjects through the service: a record created about a subject gets the subject's
/// key then (written to the keyring file first); erasing the subject destroys that key, so
/// the stored record no longer opens, here or with the CLI on the keyring file, and no new
/// record can be made for it. Only `[subjects] erasers` may erase, in their own tenant.
#[test]
fn data_subjects_are_provisioned_on_create_and_erased_for_good() {
    let mut server = Server::start_with(subject_contacts);
    let call = |t: &str, path: &str, body: &Value| post_json(&server.addr, t, path, body);
    let writer = token(json!({"roles": ["sales_rep"], "scope": "crm.write"}));
    let create = json!({"action": "create", "object": "contact", "record_id": "0042",
        "subject": "0042", "record": {"id": "0042", "tenant_id": "acme",
            "name": "Ada Lovelace", "lifecycle_stage": "lead"}});
    let r = call(&writer, "/v1/records/seal", &create);
    assert_eq!(r.status, 200, "{}", r.body);
    let stored = r.json()["record"].clone();
    assert!(
        stored["name"].as_str().unwrap().starts_with("cg1:"),
        "{stored}"
    );
    let read = |server: &Server| {
        server
            .decide(
                &token(json!({"roles": ["clinician"]})),
                &json!({"object": "contact", "record_id": "0042", "subject": "0042",
                    "record": stored}),
            )
            .json()
    };
    assert_eq!(read(&server)["record"]["name"], "Ada Lovelace");
    let forget = json!({"subject": "0042"});
    call(&writer, "/v1/subjects/forget", &forget).problem(403, "ERR_SERVE_ROLE");
    let officer = token(json!({"roles": ["privacy_officer"]}));
    call(
        &officer,
        "/v1/subjects/forget",
        &json!({"subject": "0042", "tenant": "globex"}),
    )
    .problem(403, "ERR_REQUEST_TENANT_MISMATCH");
    let r = call(&officer, "/v1/subjects/forget", &forget);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["outcome"], "erased");
    assert_eq!(
        call(&officer, "/v1/subjects/forget", &forget).json()["outcome"],
        "already-erased"
    );
    // The stored record no longer opens, and the subject cannot come back.
    let after = read(&server);
    assert_eq!(after["verdict"]["code"], "ERR_SUBJECT_FORGOTTEN", "{after}");
    call(&writer, "/v1/records/seal", &create).problem(404, "ERR_SUBJECT_FORGOTTEN");
    let data = server.stop();
    // On disk too: the keyring file no longer holds the key.
    std::fs::write(data.join("stored.json"), stored.to_string()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_crmguard"))
        .args([
            "open-record",
            "--keyring",
            "keyrings/acme.json",
            "--schema",
            "schemas/contact.json",
            "--tenant",
            "acme",
            "--in",
            "stored.json",
        ])
        .current_dir(&data)
        .env("CRMGUARD_MASTER_KEY", MASTER)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("ERR_SUBJECT_FORGOTTEN"), "{err}");
    let log = std::fs::read_to_string(data.join("audit/decisions.jsonl")).unwrap();
    // The erasure is recorded with the subject pseudonymised, never in clear.
    let erasure = log
        .lines()
        .find(|l| l.contains("\"class_uid\":3004"))
        .expect("an erasure record");
    assert!(erasure.contains("\"uid\":\"ps1:"), "{erasure}");
    assert!(!erasure.contains("\"uid\":\"0042\""), "{erasure}");
}

/// `crmguard keys rotate` on a running service's keyring: the next request finds the file
/// changed and uses the new keyring (values sealed under the new primary open). An older
/// keyring file put back is refused (its `.state`) and the service keeps the keyring it has,
/// on the next request and on SIGHUP. SIGHUP also reloads policy.json; an invalid one is
/// refused and the loaded policy stays.
#[test]
fn keyring_changes_are_found_by_the_next_request_and_sighup_reloads_the_policy() {
    let mut server = Server::start();
    let data = server.data.clone();
    let clinician = token(json!({"roles": ["clinician"]}));
    let old = std::fs::read(data.join("keyrings/acme.json")).unwrap();
    let first = seal(&data, "email", "ada@example.com");
    let read = |sealed: &str| {
        server
            .decide(
                &clinician,
                &json!({"object": "contact", "record_id": "0042",
                    "record": {"id": "0042", "tenant_id": "acme", "email": sealed}}),
            )
            .json()
    };
    assert_eq!(read(&first)["record"]["email"], "ada@example.com");
    crmguard(
        &data,
        &["keys", "rotate", "--keyring", "keyrings/acme.json"],
    );
    let sealed = seal(&data, "email", "ada@example.com");
    let after = read(&sealed);
    assert_eq!(after["record"]["email"], "ada@example.com", "{after}");
    // Roll the file back: refused, the rotated keyring stays in use.
    std::fs::write(data.join("keyrings/acme.json"), &old).unwrap();
    for _ in 0..3 {
        let still = read(&sealed);
        assert_eq!(still["record"]["email"], "ada@example.com", "{still}");
    }
    let hup = |server: &Server| {
        assert!(
            Command::new("kill")
                .args(["-HUP", &server.child.id().to_string()])
                .status()
                .unwrap()
                .success()
        );
    };
    // A new policy: clinicians see contact details masked.
    let mut policy: Value =
        serde_json::from_str(&std::fs::read_to_string(data.join("policy.json")).unwrap()).unwrap();
    let rule = policy["rules"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|r| r["id"] == "clinical-notes")
        .unwrap();
    rule["fields"]["classes"] = json!({"pii": "mask"});
    std::fs::write(data.join("policy.json"), policy.to_string()).unwrap();
    hup(&server);
    // The reload runs beside the requests: wait for it (a liveness bound, not a timing).
    let mut masked = Value::Null;
    for _ in 0..200 {
        masked = read(&sealed);
        if masked["record"]["email"] == "****@example.com" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    assert_eq!(masked["record"]["email"], "****@example.com", "{masked}");
    // An invalid policy is refused; the loaded one stays (and the keyring too).
    std::fs::write(data.join("policy.json"), "{\"version\": 1, \"rules\": 7}").unwrap();
    hup(&server);
    for _ in 0..40 {
        std::thread::sleep(std::time::Duration::from_millis(25));
        let still = read(&sealed);
        assert_eq!(still["record"]["email"], "****@example.com", "{still}");
    }
    server.stop();
    let err = std::fs::read_to_string(&server.log).unwrap();
    assert!(err.contains("changed but was refused"), "{err}");
    assert!(err.contains("SIGHUP: policy reloaded"), "{err}");
    assert!(err.contains("SIGHUP: kept the loaded policy"), "{err}");
    assert!(
        err.contains("kept the loaded keyring of acme") && err.contains("ERR_KEYRING_ROLLBACK"),
        "{err}"
    );
}

/// A port-forwarding proxy (a load balancer in TCP mode): each connection goes to the next
/// backend in turn. Runs until the test process ends.
fn round_robin(backends: Vec<String>) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for (i, conn) in listener.incoming().enumerate() {
            let Ok(client) = conn else { continue };
            let backend = backends[i % backends.len()].clone();
            std::thread::spawn(move || {
                let Ok(server) = TcpStream::connect(&backend) else {
                    return;
                };
                let (mut c, mut s) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                let up = std::thread::spawn(move || {
                    let _ = std::io::copy(&mut c, &mut s);
                    let _ = s.shutdown(std::net::Shutdown::Write);
                });
                let (mut c, mut s) = (client, server);
                let _ = std::io::copy(&mut s, &mut c);
                let _ = c.shutdown(std::net::Shutdown::Both);
                let _ = up.join();
            });
        }
    });
    addr
}

/// Scale-out: two replicas on one data folder (shared keyrings, schemas, policy) behind one
/// proxy, each writing its own audit log. A subject key created through one replica is found
/// by the other; a subject erased through one no longer opens on either; a third service on
/// a log already written is refused (one writer per chain); each chain verifies on its own,
/// under its own log id.
#[test]
fn replicas_share_keyrings_and_keep_their_own_chains() {
    let mut a = Server::start_with(subject_contacts);
    let b_log = a.data.join("audit/replica-b.jsonl");
    let mut b = a.replica(b_log.to_str().unwrap());
    let third = Command::new(env!("CARGO_BIN_EXE_crmguard"))
        .args(["serve", "--data"])
        .arg(&a.data)
        .args(["--listen", "127.0.0.1:0"])
        .env("CRMGUARD_MASTER_KEY", MASTER)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&third.stderr);
    assert_eq!(third.status.code(), Some(1), "{err}");
    assert!(err.contains("ERR_AUDIT_LOCKED"), "{err}");

    let proxy = round_robin(vec![a.addr.clone(), b.addr.clone()]);
    let post = post_json;
    let writer = token(json!({"roles": ["sales_rep"], "scope": "crm.write"}));
    let reader = token(json!({"roles": ["clinician"]}));
    let create = json!({"action": "create", "object": "contact", "record_id": "0042",
        "subject": "0042", "record": {"id": "0042", "tenant_id": "acme",
            "name": "Ada Lovelace", "lifecycle_stage": "lead"}});
    // Connection 0 goes to replica A: it creates the subject's key in the shared keyring.
    let r = post(&proxy, &writer, "/v1/records/seal", &create);
    assert_eq!(r.status, 200, "{}", r.body);
    let stored = r.json()["record"].clone();
    let mut served_by = vec![r.json()["audit"]["log_id"].as_str().unwrap().to_owned()];
    let read = json!({"object": "contact", "record_id": "0042", "subject": "0042",
        "record": stored});
    // Connections 1 and 2: replica B, which started before the key existed, then A.
    for _ in 0..2 {
        let r = post(&proxy, &reader, "/v1/decide", &read);
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.json()["record"]["name"], "Ada Lovelace", "{}", r.body);
        served_by.push(r.json()["audit"]["log_id"].as_str().unwrap().to_owned());
    }
    assert_ne!(served_by[0], served_by[1], "the proxy spread the requests");
    assert_eq!(served_by[0], served_by[2]);
    // Connection 3 (replica B) erases the subject; neither replica opens it afterwards.
    let officer = token(json!({"roles": ["privacy_officer"]}));
    let r = post(
        &proxy,
        &officer,
        "/v1/subjects/forget",
        &json!({"subject": "0042"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["audit"]["log_id"], served_by[1].as_str());
    for replica in [&a, &b] {
        let after = replica.decide(&reader, &read).json();
        assert_eq!(after["verdict"]["code"], "ERR_SUBJECT_FORGOTTEN", "{after}");
        post(&replica.addr, &writer, "/v1/records/seal", &create)
            .problem(404, "ERR_SUBJECT_FORGOTTEN");
    }
    b.stop();
    let data = a.stop();
    // Two chains: each verifies on its own with the shared public key, under its own log id.
    let mut ids = Vec::new();
    for log in ["audit/decisions.jsonl", "audit/replica-b.jsonl"] {
        let out = Command::new(env!("CARGO_BIN_EXE_crmguard"))
            .args(["audit", "verify", "--log"])
            .arg(data.join(log))
            .arg("--public-key")
            .arg(data.join("audit/signing.pub"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{log}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = std::fs::read_to_string(data.join(log)).unwrap();
        let first: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        ids.push(first["metadata"]["log_name"].as_str().unwrap().to_owned());
    }
    assert_ne!(ids[0], ids[1]);
    assert_eq!(ids, [served_by[0].clone(), served_by[1].clone()]);
}

/// Mutual TLS: with `[tls] client_ca`, a client presenting a certificate from that CA is
/// served; one without a certificate, or with one from another CA, gets no HTTP answer.
#[test]
fn with_a_client_ca_only_clients_with_its_certificates_are_served() {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    use std::sync::Arc;
    let pki = LoopbackPki::new();
    let other = LoopbackPki::new();
    let (ca, server_cert) = (pki.ca.clone(), pki.server.clone());
    let mut server = Server::start_with(move |data| {
        std::fs::create_dir_all(data.join("tls")).unwrap();
        std::fs::write(data.join("tls/cert.pem"), &server_cert.0).unwrap();
        std::fs::write(data.join("tls/key.pem"), &server_cert.1).unwrap();
        std::fs::write(data.join("tls/clients.pem"), &ca).unwrap();
        "[tls]\ncert = \"tls/cert.pem\"\nkey = \"tls/key.pem\"\nclient_ca = \"tls/clients.pem\"\n"
    });
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(pki.ca.as_bytes()) {
        roots.add(c.unwrap()).unwrap();
    }
    let get = |client: Option<&(String, String)>| {
        let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots.clone());
        let config = match client {
            None => builder.with_no_client_auth(),
            Some((chain, key)) => builder
                .with_client_auth_cert(
                    CertificateDer::pem_slice_iter(chain.as_bytes())
                        .map(Result::unwrap)
                        .collect(),
                    PrivateKeyDer::from_pem_slice(key.as_bytes()).unwrap(),
                )
                .unwrap(),
        };
        let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
        let conn = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
        let tcp = TcpStream::connect(&server.addr).unwrap();
        tcp.set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        let mut tls = rustls::StreamOwned::new(conn, tcp);
        let _ = tls.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        let mut answer = Vec::new();
        let _ = tls.read_to_end(&mut answer);
        String::from_utf8_lossy(&answer).into_owned()
    };
    let served = get(Some(&pki.client));
    assert!(served.starts_with("HTTP/1.1 200"), "{served}");
    for refused in [get(None), get(Some(&other.client))] {
        assert!(!refused.contains("HTTP/1.1"), "{refused}");
    }
    server.stop();
}

/// Every request has an id (the caller's if it is a short token, else a fresh one), answered
/// in `X-Request-Id`, written into its audit record and its access-log line; a request whose
/// body never arrives in full is answered 503 `ERR_SERVE_DEADLINE` at the deadline.
#[test]
fn requests_are_identified_logged_and_bounded() {
    let mut server = Server::start_with(|_| "request_timeout_ms = 400\n");
    let body = json!({"object": "contact", "record_id": "0042", "record": contact(&server.data)});
    let rep = token(json!({"roles": ["sales_rep"]}));
    let call = |id: &str| {
        server.call(
            "POST",
            "/v1/decide",
            &[
                ("Authorization", &format!("Bearer {rep}")),
                ("Content-Type", "application/json"),
                ("X-Request-Id", id),
            ],
            body.to_string().as_bytes(),
        )
    };
    let r = call("crm-req-42");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("x-request-id").as_deref(), Some("crm-req-42"));
    let r = call("not a token");
    let fresh = r.header("x-request-id").unwrap();
    assert!(
        fresh.len() == 24 && fresh.bytes().all(|b| b.is_ascii_hexdigit()),
        "{fresh}"
    );
    // Headers complete, the body promised but never sent in full.
    let mut s = TcpStream::connect(&server.addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    write!(
        s,
        "POST /v1/decide HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         Authorization: Bearer {rep}\r\nContent-Length: 100\r\nX-Request-Id: slow-1\r\n\r\n{{\"obj"
    )
    .unwrap();
    let mut raw = String::new();
    let _ = BufReader::new(&s).read_line(&mut raw);
    assert!(raw.starts_with("HTTP/1.1 503"), "{raw}");
    let data = server.stop();
    let audit = std::fs::read_to_string(data.join("audit/decisions.jsonl")).unwrap();
    for id in ["crm-req-42", fresh.as_str()] {
        assert_eq!(
            audit
                .lines()
                .filter(|l| l.contains(&format!("\"{id}\"")))
                .count(),
            1,
            "{id} in one audit record"
        );
    }
    let log = std::fs::read_to_string(&server.log).unwrap();
    let lines: Vec<Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|v: &Value| v["msg"] == "request")
        .collect();
    let by_id = |id: &str| {
        lines
            .iter()
            .find(|v| v["request_id"] == id)
            .unwrap_or_else(|| panic!("no access-log line for {id}: {log}"))
    };
    let ok = by_id("crm-req-42");
    assert_eq!(
        (ok["method"].as_str(), ok["path"].as_str()),
        (Some("POST"), Some("/v1/decide"))
    );
    assert_eq!(ok["status"], 200);
    assert!(ok["ms"].as_f64().unwrap() >= 0.0);
    let slow = by_id("slow-1");
    assert_eq!(
        (slow["status"].as_u64(), slow["code"].as_str()),
        (Some(503), Some("ERR_SERVE_DEADLINE"))
    );
}
