//! The edge function (crates/edge, a wasi:http proxy component) under `crmguard serve --edge`,
//! end to end on loopback: a test origin (a small CRM API that stores what it gets), a test
//! audit collector, real tokens. Writes reach the origin sealed; reads come back rendered per
//! caller; denials, unknown routes and an unavailable collector never reach the origin.
//!
//! Needs the component built (`cargo xtask components`); `cargo xtask test` builds it first.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

const MASTER: &str = "ERERERERERERERERERERERERERERERERERERERERERE=";

fn component() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"),
        PathBuf::from,
    );
    let path = target.join("wasm32-wasip2/component/crmguard_edge.wasm");
    assert!(
        path.exists(),
        "{} is missing: run `cargo xtask components` first",
        path.display()
    );
    path
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn token(claims: Value) -> String {
    let mut c = json!({"iss": "https://idp.test", "aud": "crm-api", "sub": "user-1",
        "tenant": "acme", "exp": now() + 600});
    for (k, v) in claims.as_object().unwrap() {
        c[k] = v.clone();
    }
    crmguard_conformance::idp::token(&c)
}

/// One request seen by a loopback server.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    headers: BTreeMap<String, String>,
    body: Vec<u8>,
}

/// A parsed HTTP/1.1 request (content-length framing; the gateway always frames).
fn read_request(stream: &mut TcpStream) -> Option<Seen> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next()?.to_owned(), parts.next()?.to_owned());
    let mut headers = BTreeMap::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (n, v) = h.split_once(':')?;
        headers.insert(n.trim().to_ascii_lowercase(), v.trim().to_owned());
    }
    let len: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body).ok()?;
    Some(Seen {
        method,
        path,
        headers,
        body,
    })
}

fn respond(stream: &mut TcpStream, status: u16, body: &[u8]) {
    let head = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         set-cookie: origin-session=1\r\nconnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
}

/// A loopback server answering with `answer`; every request it saw is kept.
struct Loopback {
    addr: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Loopback {
    fn start(answer: impl Fn(&Seen) -> (u16, Vec<u8>) + Send + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let kept = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                if let Some(req) = read_request(&mut stream) {
                    let (status, body) = answer(&req);
                    kept.lock().unwrap().push(req);
                    respond(&mut stream, status, &body);
                }
            }
        });
        Self { addr, seen }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

/// The test origin: a CRM API storing contacts by id at `/api/{tenant}/contacts/{id}`.
fn origin() -> (Loopback, Arc<Mutex<BTreeMap<String, Value>>>) {
    let rows = Arc::new(Mutex::new(BTreeMap::<String, Value>::new()));
    let store = rows.clone();
    let lb = Loopback::start(move |req| {
        let mut rows = store.lock().unwrap();
        let id = req.path.rsplit('/').next().unwrap_or_default().to_owned();
        match req.method.as_str() {
            "POST" => {
                let v: Value = serde_json::from_slice(&req.body).unwrap();
                let id = v["id"].as_str().unwrap().to_owned();
                rows.insert(id, v.clone());
                (201, v.to_string().into_bytes())
            }
            "PUT" => {
                let v: Value = serde_json::from_slice(&req.body).unwrap();
                rows.insert(id, v.clone());
                (200, v.to_string().into_bytes())
            }
            "GET" => match rows.get(&id) {
                Some(v) => (200, v.to_string().into_bytes()),
                None => (404, br#"{"error":"no such contact"}"#.to_vec()),
            },
            "DELETE" => {
                rows.remove(&id);
                (204, Vec::new())
            }
            _ => (405, Vec::new()),
        }
    });
    (lb, rows)
}

/// The test audit collector: takes events while `up`, else answers 500.
fn collector(up: Arc<AtomicBool>) -> Loopback {
    Loopback::start(move |_| {
        if up.load(Ordering::SeqCst) {
            (200, b"{}".to_vec())
        } else {
            (500, b"{}".to_vec())
        }
    })
}

struct Gateway {
    child: Child,
    addr: String,
    _dir: tempfile::TempDir,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn keyring_file(dir: &Path) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_crmguard"))
        .args(["keys", "new", "--out", "acme.json"])
        .current_dir(dir)
        .env("CRMGUARD_MASTER_KEY", MASTER)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&std::fs::read_to_string(dir.join("acme.json")).unwrap()).unwrap()
}

fn schema() -> Value {
    json!({"object": "contact", "record_id": "id", "fields": {
        "id": {"action": "clear"}, "tenant_id": {"action": "clear"},
        "name": {"action": "encrypt"}, "phone": {"action": "encrypt"},
        "email": {"action": "blind-index", "blind_index": {"normalize": ["email"]}},
        "national_id": {"action": "encrypt"}, "lifecycle_stage": {"action": "clear"}}})
}

/// The gateway's settings for `origin` and `audit`; `edit` may change them.
fn settings(dir: &Path, origin: &str, audit: &str) -> Value {
    json!({
        "origin_url": format!("http://{origin}"),
        "audit_url": format!("http://{audit}/events"),
        "audit_token": "collector-secret",
        "key_set": crmguard_conformance::idp::jwks(),
        "token_options": {"allowed_issuers": ["https://idp.test"], "allowed_audiences": ["crm-api"]},
        "policy": serde_json::from_str::<Value>(&std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/policy.json")).unwrap()).unwrap(),
        "schemas": {"contact": schema()},
        "routes": [{"path": "/api/{tenant}/contacts", "object": "contact"}],
        "master_key": MASTER,
        "keyrings": {"acme": keyring_file(dir)},
    })
}

/// The component's host: `crmguard serve --edge`, or with `CRMGUARD_EDGE_WASMTIME` set to a
/// `wasmtime` binary, `wasmtime serve` (an independent host; `cargo xtask test` runs this
/// suite under both).
fn start(settings: &Value, dir: tempfile::TempDir) -> Gateway {
    let log = std::fs::File::create(dir.path().join("edge.log")).unwrap();
    if let Some(wasmtime) = std::env::var_os("CRMGUARD_EDGE_WASMTIME") {
        return start_wasmtime(Path::new(&wasmtime), settings, dir);
    }
    let path = dir.path().join("edge.json");
    std::fs::write(&path, settings.to_string()).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_crmguard"))
        .args(["serve", "--listen", "127.0.0.1:0", "--edge"])
        .arg(component())
        .arg("--edge-config")
        .arg(&path)
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("crmguard serve: edge component listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    // Every answer below comes from the pre-initialised image (the suite's run under
    // wasmtime serve covers the component as shipped).
    let logged = std::fs::read_to_string(dir.path().join("edge.log")).unwrap();
    assert!(
        logged.contains("edge component pre-initialised"),
        "{logged}"
    );
    Gateway {
        child,
        addr,
        _dir: dir,
    }
}

/// `wasmtime serve -Sconfig`: each setting a `-Sconfig-var`, base64-encoded (the option
/// parser splits at commas, and JSON has them).
fn start_wasmtime(wasmtime: &Path, settings: &Value, dir: tempfile::TempDir) -> Gateway {
    use base64::Engine as _;
    let mut cmd = Command::new(wasmtime);
    cmd.args(["serve", "--addr", "127.0.0.1:0", "-Scli", "-Sconfig"]);
    for (k, v) in settings.as_object().unwrap() {
        let text = match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let encoded = base64::engine::general_purpose::STANDARD.encode(text);
        cmd.arg(format!("-Sconfig-var={k}=base64:{encoded}"));
    }
    let mut child = cmd
        .arg(component())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let addr = loop {
        let mut line = String::new();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "wasmtime serve exited"
        );
        if let Some(rest) = line.trim().strip_prefix("Serving HTTP on http://") {
            break rest.trim_end_matches('/').to_owned();
        }
    };
    // Keep reading its stderr so a full pipe never stalls it.
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
    Gateway {
        child,
        addr,
        _dir: dir,
    }
}

#[derive(Debug)]
struct Reply {
    status: u16,
    headers: BTreeMap<String, String>,
    body: Value,
}

fn call(addr: &str, method: &str, path: &str, token: Option<&str>, body: Option<&Value>) -> Reply {
    let auth = token.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("authorization", a.as_str())).collect();
    call_with(addr, method, path, &headers, body)
}

fn call_with(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> Reply {
    let mut s = TcpStream::connect(addr).unwrap();
    let body = body.map(Value::to_string).unwrap_or_default();
    let extra: String = headers
        .iter()
        .map(|(n, v)| format!("{n}: {v}\r\n"))
        .collect();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\n{extra}content-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8(raw).unwrap();
    let (head, rest) = text.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let status = lines.next().unwrap().split_whitespace().nth(1).unwrap();
    let headers: BTreeMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let body = if headers.get("transfer-encoding").map(String::as_str) == Some("chunked") {
        dechunk(rest)
    } else {
        rest.to_owned()
    };
    Reply {
        status: status.parse().unwrap(),
        headers,
        body: serde_json::from_str(&body).unwrap_or(Value::Null),
    }
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap();
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        s = &rest[n + 2..];
    }
    out
}

fn ada() -> Value {
    json!({"id": "0042", "tenant_id": "acme", "name": "Ada Lovelace",
        "email": "ada@example.com", "phone": "+44 20 7946 0958",
        "national_id": "QQ123456C", "lifecycle_stage": "lead"})
}

const ADMIN: &str = r#"{"roles": ["admin"], "sub": "root-1"}"#;
const WRITER: &str = r#"{"roles": ["sales_rep"], "scope": "crm.write", "sub": "rep-1"}"#;
const READER: &str = r#"{"roles": ["sales_rep"], "sub": "rep-2"}"#;

fn tok(claims: &str) -> String {
    token(serde_json::from_str(claims).unwrap())
}

#[test]
fn writes_reach_the_origin_sealed_and_reads_are_rendered_per_caller() {
    let (origin, rows) = origin();
    let up = Arc::new(AtomicBool::new(true));
    let audit = collector(up.clone());
    let dir = tempfile::tempdir().unwrap();
    let s = settings(dir.path(), &origin.addr, &audit.addr);
    let gw = start(&s, dir);

    // A sales rep with crm.write creates a contact: the origin stores it sealed.
    let r = call(
        &gw.addr,
        "POST",
        "/api/acme/contacts",
        Some(&tok(WRITER)),
        Some(&ada()),
    );
    assert_eq!(r.status, 201, "{:?}", r.body);
    let stored = rows.lock().unwrap().get("0042").cloned().unwrap();
    let text = stored.to_string();
    for plain in ["Ada Lovelace", "ada@example.com", "7946 0958", "QQ123456C"] {
        assert!(!text.contains(plain), "{plain} reached the origin: {text}");
    }
    for f in ["name", "phone", "national_id"] {
        assert!(
            stored[f].as_str().unwrap().starts_with("cg1:"),
            "{f}: {stored}"
        );
    }
    assert_eq!(stored["lifecycle_stage"], "lead");
    // The origin never saw the caller's token; it saw the gateway's request id.
    let posted = origin
        .seen()
        .into_iter()
        .find(|s| s.method == "POST")
        .unwrap();
    assert!(!posted.headers.contains_key("authorization"));
    assert_eq!(
        posted.headers.get("x-request-id"),
        r.headers.get("x-request-id")
    );

    // Read back: the admin sees clear values, a sales rep masked ones, national id hidden.
    let admin = call(
        &gw.addr,
        "GET",
        "/api/acme/contacts/0042",
        Some(&tok(ADMIN)),
        None,
    );
    assert_eq!(admin.status, 200, "{:?}", admin.body);
    assert_eq!(admin.body["name"], "Ada Lovelace");
    assert_eq!(admin.body["email"], "ada@example.com");
    assert_eq!(admin.body["national_id"], "QQ123456C");
    assert!(
        !admin.headers.contains_key("set-cookie"),
        "origin headers are not passed on"
    );
    let rep = call(
        &gw.addr,
        "GET",
        "/api/acme/contacts/0042",
        Some(&tok(READER)),
        None,
    );
    assert_eq!(rep.status, 200, "{:?}", rep.body);
    assert_ne!(rep.body["name"], "Ada Lovelace");
    assert!(rep.body["phone"].as_str().unwrap().ends_with("0958"));
    assert!(!rep.body["phone"].as_str().unwrap().contains("7946"));
    assert!(rep.body.get("national_id").is_none(), "{:?}", rep.body);
    assert_eq!(rep.body["lifecycle_stage"], "lead");

    // Another tenant's caller: 403, with the stable code, audited; the origin not asked.
    let other = tok(r#"{"roles": ["admin"], "tenant": "globex", "sub": "g-1"}"#);
    let asked = origin.seen().len();
    let r = call(
        &gw.addr,
        "GET",
        "/api/acme/contacts/0042",
        Some(&other),
        None,
    );
    assert_eq!(r.status, 403, "{:?}", r.body);
    assert_eq!(r.body["code"], "ERR_REQUEST_TENANT_MISMATCH");
    assert_eq!(
        origin.seen().len(),
        asked,
        "the origin is not asked for another tenant's record"
    );

    // Every decision reached the collector, with its request id and the collector's token,
    // and no value of a sealed field.
    let events = audit.seen();
    assert_eq!(events.len(), 4, "{events:?}");
    for e in &events {
        assert_eq!(e.method, "POST");
        assert_eq!(e.path, "/events");
        assert_eq!(e.headers["authorization"], "Bearer collector-secret");
        let body = String::from_utf8(e.body.clone()).unwrap();
        assert!(
            !body.contains("Ada Lovelace") && !body.contains("QQ123456C"),
            "{body}"
        );
        let event: Value = serde_json::from_str(&body).unwrap();
        assert!(
            event["request_id"]
                .as_str()
                .is_some_and(|id| id.len() == 32)
        );
    }
    let last: Value = serde_json::from_slice(&events[3].body).unwrap();
    assert_eq!(last["outcome"]["decision"], "deny", "{last}");
}

/// Method, path, token, body, expected status and code.
type Case = (
    &'static str,
    &'static str,
    Option<String>,
    Option<Value>,
    u16,
    &'static str,
);

#[test]
fn denied_unknown_and_unaudited_requests_never_reach_the_origin() {
    let (origin, rows) = origin();
    let up = Arc::new(AtomicBool::new(true));
    let audit = collector(up.clone());
    let dir = tempfile::tempdir().unwrap();
    let s = settings(dir.path(), &origin.addr, &audit.addr);
    let gw = start(&s, dir);
    let cases: Vec<Case> = vec![
        // No token, a bad token, a token of another IdP's audience.
        (
            "POST",
            "/api/acme/contacts",
            None,
            Some(ada()),
            401,
            "ERR_HTTP_BEARER",
        ),
        (
            "POST",
            "/api/acme/contacts",
            Some("x.y.z".into()),
            Some(ada()),
            401,
            "ERR_JWT_INVALID",
        ),
        (
            "GET",
            "/api/acme/contacts/0042",
            Some(token(json!({"aud": "other-api", "roles": ["admin"]}))),
            None,
            401,
            "ERR_JWT_CLAIM_VALIDATION_FAILED",
        ),
        // A reader may not write; a write to another tenant's path is refused.
        (
            "POST",
            "/api/acme/contacts",
            Some(tok(READER)),
            Some(ada()),
            403,
            "ERR_POLICY_DENIED",
        ),
        (
            "POST",
            "/api/globex/contacts",
            Some(tok(WRITER)),
            Some(ada()),
            403,
            "ERR_REQUEST_TENANT_MISMATCH",
        ),
        // No route, a method the route does not take, a body that is not an object.
        (
            "GET",
            "/admin/export",
            Some(tok(ADMIN)),
            None,
            404,
            "ERR_HTTP_NOT_FOUND",
        ),
        (
            "GET",
            "/api/acme/contacts",
            Some(tok(ADMIN)),
            None,
            405,
            "ERR_HTTP_METHOD",
        ),
        (
            "POST",
            "/api/acme/contacts",
            Some(tok(WRITER)),
            Some(json!([1])),
            400,
            "ERR_HTTP_BODY",
        ),
        (
            "POST",
            "/api/acme/contacts",
            Some(tok(WRITER)),
            Some(json!({"name": "no id"})),
            400,
            "ERR_HTTP_BODY",
        ),
    ];
    let n = cases.len();
    for (method, path, token, body, status, code) in cases {
        let r = call(&gw.addr, method, path, token.as_deref(), body.as_ref());
        assert_eq!(
            (r.status, r.body["code"].as_str()),
            (status, Some(code)),
            "{method} {path}: {:?}",
            r.body
        );
        assert_eq!(r.headers["content-type"], "application/problem+json");
    }
    assert_eq!(n, 9);
    assert!(origin.seen().is_empty(), "{:?}", origin.seen());

    // The collector down: an allowed write is not forwarded, and answered 503.
    up.store(false, Ordering::SeqCst);
    let r = call(
        &gw.addr,
        "POST",
        "/api/acme/contacts",
        Some(&tok(WRITER)),
        Some(&ada()),
    );
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (503, Some("ERR_AUDIT_UNAVAILABLE"))
    );
    assert!(rows.lock().unwrap().is_empty());
    assert!(origin.seen().is_empty());
    // Back up: the same write goes through.
    up.store(true, Ordering::SeqCst);
    let r = call(
        &gw.addr,
        "POST",
        "/api/acme/contacts",
        Some(&tok(WRITER)),
        Some(&ada()),
    );
    assert_eq!(r.status, 201, "{:?}", r.body);
    // A read while the collector is down shows nothing.
    up.store(false, Ordering::SeqCst);
    let r = call(
        &gw.addr,
        "GET",
        "/api/acme/contacts/0042",
        Some(&tok(ADMIN)),
        None,
    );
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (503, Some("ERR_AUDIT_UNAVAILABLE"))
    );
    assert!(r.body.to_string().find("Ada").is_none());
}

#[test]
fn an_origin_error_passes_through_and_an_unset_gateway_names_the_missing_setting() {
    let (origin, _) = origin();
    let audit = collector(Arc::new(AtomicBool::new(true)));
    let dir = tempfile::tempdir().unwrap();
    let s = settings(dir.path(), &origin.addr, &audit.addr);
    let gw = start(&s, dir);
    let r = call(
        &gw.addr,
        "GET",
        "/api/acme/contacts/9999",
        Some(&tok(ADMIN)),
        None,
    );
    assert_eq!(r.status, 404, "{:?}", r.body);
    // A closed origin port: 502 with the gateway's code.
    let dead = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .to_string();
    let dir = tempfile::tempdir().unwrap();
    let s = settings(dir.path(), &dead, &audit.addr);
    let gw = start(&s, dir);
    let r = call(
        &gw.addr,
        "GET",
        "/api/acme/contacts/0042",
        Some(&tok(ADMIN)),
        None,
    );
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (502, Some("ERR_EDGE_ORIGIN")),
        "{:?}",
        r.body
    );

    let dir = tempfile::tempdir().unwrap();
    let mut s = settings(dir.path(), &origin.addr, &audit.addr);
    s.as_object_mut().unwrap().remove("policy");
    let gw = start(&s, dir);
    let r = call(
        &gw.addr,
        "GET",
        "/api/acme/contacts/0042",
        Some(&tok(ADMIN)),
        None,
    );
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (503, Some("ERR_EDGE_CONFIG"))
    );
    assert!(r.body["detail"].as_str().unwrap().contains("\"policy\""));
    // The detail never carries a setting's value.
    assert!(!r.body.to_string().contains(MASTER));
}

#[test]
fn browsers_are_served_from_allowed_origins_only() {
    let (origin, _) = origin();
    let audit = collector(Arc::new(AtomicBool::new(true)));
    let dir = tempfile::tempdir().unwrap();
    let mut s = settings(dir.path(), &origin.addr, &audit.addr);
    s["cors_origins"] = json!(["http://app.test"]);
    let gw = start(&s, dir);
    // A preflight from the allowed origin is answered by the gateway itself.
    let r = call_with(
        &gw.addr,
        "OPTIONS",
        "/api/acme/contacts",
        &[
            ("origin", "http://app.test"),
            ("access-control-request-method", "POST"),
        ],
        None,
    );
    assert_eq!(r.status, 204);
    assert_eq!(r.headers["access-control-allow-origin"], "http://app.test");
    assert!(r.headers["access-control-allow-headers"].contains("authorization"));
    // A write from it carries the allow-origin header on its answer.
    let auth = format!("Bearer {}", tok(WRITER));
    let r = call_with(
        &gw.addr,
        "POST",
        "/api/acme/contacts",
        &[("origin", "http://app.test"), ("authorization", &auth)],
        Some(&ada()),
    );
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.headers["access-control-allow-origin"], "http://app.test");
    // Any other origin: 403, nothing decided, nothing forwarded.
    let before = origin.seen().len();
    for method in ["OPTIONS", "POST"] {
        let r = call_with(
            &gw.addr,
            method,
            "/api/acme/contacts",
            &[("origin", "http://evil.test"), ("authorization", &auth)],
            Some(&ada()),
        );
        assert_eq!(
            (r.status, r.body["code"].as_str()),
            (403, Some("ERR_EDGE_CORS"))
        );
        assert!(!r.headers.contains_key("access-control-allow-origin"));
    }
    assert_eq!(origin.seen().len(), before);
    assert_eq!(audit.seen().len(), 1, "only the allowed write was decided");
}
