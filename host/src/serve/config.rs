//! `crmguard.toml`, the service's configuration, and the data folder it names.
//!
//! ```toml
//! listen = "127.0.0.1:8080"          # default; --listen overrides
//! [tls]                               # optional: HTTPS (HTTP/1.1 and h2 by ALPN)
//! cert = "tls/cert.pem"               # the chain, leaf first (relative to the data folder)
//! key = "tls/key.pem"                 # its private key (PKCS#8, SEC1 or PKCS#1 PEM)
//! [tokens]
//! jwks = "jwks.json"                  # relative to the data folder, or instead:
//! # jwks_url = "https://idp.example.com/.well-known/jwks.json"
//! # jwks_ca = "idp-ca.pem"            # trust these roots for it (default: webpki-roots)
//! # jwks_cache_max_age_secs = 600     # jose's cacheMaxAge
//! # jwks_cooldown_secs = 30           # jose's cooldownDuration
//! # jwks_timeout_ms = 5000            # jose's timeoutDuration
//! issuers = ["https://idp.example.com"]
//! audiences = ["crm-api"]
//! access_token = true                 # RFC 9068 at+jwt
//! [tenants.acme]
//! issuers = ["https://idp.example.com"]   # optional: only these speak for acme
//! [objects.patient_note]
//! plugin = "hipaa"                    # decided by a policy plugin; default: policy.json
//! [audit]
//! readers = ["auditor"]               # head, checkpoints, proofs (default: nobody)
//! writers = ["crm-backend"]           # append events (default: nobody)
//! log = "audit/decisions.jsonl"       # this replica's log (or --audit-log)
//! [subjects]
//! erasers = ["privacy_officer"]       # POST /v1/subjects/forget (default: nobody)
//! [log]
//! access = true                       # one JSON line per request on stderr
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::failure::Failure;

/// The whole file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Config {
    /// The address to listen on.
    pub(crate) listen: Option<String>,
    /// How bearer tokens are verified.
    #[serde(default)]
    pub(crate) tokens: Tokens,
    /// Tenants served, by id: their keyring is `keyrings/<id>.json`.
    #[serde(default)]
    pub(crate) tenants: BTreeMap<String, Tenant>,
    /// Per object type: who decides.
    #[serde(default)]
    pub(crate) objects: BTreeMap<String, Object>,
    /// Bounds.
    #[serde(default)]
    pub(crate) limits: Limits,
    /// HTTPS; none: cleartext HTTP (a sidecar on loopback).
    pub(crate) tls: Option<Tls>,
    /// Who may use the audit endpoints.
    #[serde(default)]
    pub(crate) audit: Audit,
    /// Who may erase data subjects.
    #[serde(default)]
    pub(crate) subjects: Subjects,
    /// What the service logs.
    #[serde(default)]
    pub(crate) log: Log,
}

/// The service's log (stderr, one JSON object per line).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Log {
    /// One line per request: its id, method, path, status, code and duration.
    #[serde(default = "yes")]
    pub(crate) access: bool,
}

impl Default for Log {
    fn default() -> Self {
        Self { access: true }
    }
}

fn yes() -> bool {
    true
}

/// Data-subject erasure, by role. Default: nobody.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Subjects {
    /// May erase (crypto-shred) a data subject of their own tenant.
    #[serde(default)]
    pub(crate) erasers: Vec<String>,
}

/// The audit endpoints' callers, by role (from the policy's roles claim). Default: nobody.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Audit {
    /// May read the head, sign a checkpoint, and get proofs for their own tenant's records.
    #[serde(default)]
    pub(crate) readers: Vec<String>,
    /// May append events (their own tenant's) to the log.
    #[serde(default)]
    pub(crate) writers: Vec<String>,
    /// The log this service writes, relative to the data folder (default:
    /// `audit/decisions.jsonl`). Each replica writes its own (`--audit-log`).
    #[serde(default)]
    pub(crate) log: Option<PathBuf>,
}

/// The listener's certificate.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Tls {
    /// The certificate chain (PEM), leaf first, relative to the data folder.
    pub(crate) cert: PathBuf,
    /// Its private key (PEM).
    pub(crate) key: PathBuf,
    /// Mutual TLS: the roots (PEM) a client's certificate must chain to; without it, clients
    /// present none.
    #[serde(default)]
    pub(crate) client_ca: Option<PathBuf>,
}

/// Token verification.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Tokens {
    /// The key set file (JWKS), relative to the data folder (unless `jwks_url`).
    #[serde(default = "default_jwks")]
    pub(crate) jwks: PathBuf,
    /// The key set at an HTTPS URL, fetched with jose's remote-set semantics.
    pub(crate) jwks_url: Option<String>,
    /// The roots (PEM) trusted for `jwks_url`, relative to the data folder.
    pub(crate) jwks_ca: Option<PathBuf>,
    /// A fetched set is used this long, then fetched again.
    #[serde(default = "default_cache_max_age")]
    pub(crate) jwks_cache_max_age_secs: u64,
    /// No refetch for an unknown `kid` this soon after a fetch.
    #[serde(default = "default_cooldown")]
    pub(crate) jwks_cooldown_secs: u64,
    /// One fetch's bound.
    #[serde(default = "default_fetch_timeout")]
    pub(crate) jwks_timeout_ms: u64,
    /// Accepted issuers (required unless `any_issuer`).
    #[serde(default)]
    pub(crate) issuers: Vec<String>,
    /// Accepted audiences (required unless `any_audience`).
    #[serde(default)]
    pub(crate) audiences: Vec<String>,
    /// Waive the issuer check (explicitly).
    #[serde(default)]
    pub(crate) any_issuer: bool,
    /// Waive the audience check (explicitly).
    #[serde(default)]
    pub(crate) any_audience: bool,
    /// Require RFC 9068 access tokens (`typ: at+jwt`).
    #[serde(default)]
    pub(crate) access_token: bool,
    /// Clock skew allowed, seconds.
    #[serde(default = "default_leeway")]
    pub(crate) leeway_secs: u64,
}

impl Default for Tokens {
    fn default() -> Self {
        Self {
            jwks: default_jwks(),
            jwks_url: None,
            jwks_ca: None,
            jwks_cache_max_age_secs: default_cache_max_age(),
            jwks_cooldown_secs: default_cooldown(),
            jwks_timeout_ms: default_fetch_timeout(),
            issuers: Vec::new(),
            audiences: Vec::new(),
            any_issuer: false,
            any_audience: false,
            access_token: false,
            leeway_secs: default_leeway(),
        }
    }
}

fn default_jwks() -> PathBuf {
    PathBuf::from("jwks.json")
}

fn default_cache_max_age() -> u64 {
    600
}

fn default_cooldown() -> u64 {
    30
}

fn default_fetch_timeout() -> u64 {
    5_000
}

fn default_leeway() -> u64 {
    crmguard_core::DEFAULT_LEEWAY_SECS
}

/// One tenant.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Tenant {
    /// The identity providers that may speak for this tenant (empty: any configured one).
    #[serde(default)]
    pub(crate) issuers: Vec<String>,
}

/// One object type.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Object {
    /// The policy plugin that decides it (a folder of `plugins/`); none: `policy.json`.
    pub(crate) plugin: Option<String>,
}

/// Request bounds.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Limits {
    /// The largest request body, bytes.
    #[serde(default = "default_body")]
    pub(crate) max_body_bytes: usize,
    /// How long a client may take to send a request's headers (slowloris), milliseconds.
    #[serde(default = "default_header_timeout")]
    pub(crate) header_read_timeout_ms: u64,
    /// Connections open at once; more are closed as they arrive.
    #[serde(default = "default_connections")]
    pub(crate) max_connections: usize,
    /// How long one request may take from its headers to its answer (a body trickled in, a
    /// stalled disk), milliseconds; then it is answered 503 `ERR_SERVE_DEADLINE`.
    #[serde(default = "default_request_timeout")]
    pub(crate) request_timeout_ms: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: default_body(),
            header_read_timeout_ms: default_header_timeout(),
            max_connections: default_connections(),
            request_timeout_ms: default_request_timeout(),
        }
    }
}

fn default_header_timeout() -> u64 {
    10_000
}

fn default_request_timeout() -> u64 {
    30_000
}

fn default_connections() -> usize {
    1024
}

fn default_body() -> usize {
    1 << 20
}

impl Config {
    /// Reads `path`; a missing file is the default configuration.
    pub(crate) fn load(path: &Path) -> Result<Self, Failure> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => return Err(Failure::io(&path.display().to_string(), e)),
        };
        toml::from_str(&text).map_err(|e| {
            Failure::new(
                super::api::serve_codes::CONFIG,
                format!("{}: {}", path.display(), e.message()),
            )
        })
    }
}
