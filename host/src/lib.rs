//! # crmguard-host
//!
//! What the `crmguard` CLI runs on that needs the operating system: the durable audit log
//! ([`audit_log`]: files, fsync, locks, rotation) and the wasmtime runner for CRMGuard's
//! WebAssembly components. Record construction, verification and every other rule stay in
//! crmguard-core.
//!
//! Policy plugins are untrusted components of the world `crmguard:guard/policy-plugin` (see
//! `wit/guard.wit`): each request gets a fresh instance from a pre-instantiated, pooled
//! component, with no filesystem, network, environment or clock unless its manifest grants one,
//! a CPU deadline, and bounded memory, instances and tables. Whatever a plugin does (trap,
//! loop, exhaust memory, return garbage), the answer is a deny [`Verdict`] carrying a stable
//! `ERR_PLUGIN_*` code, and the host keeps serving.
//!
//! The plugin's `fields` import is served by the crypto component (world
//! `crmguard:guard/crypto`), instantiated on first use in its own store; only that component
//! is linked to the host's [`KeySource`], so a plugin never sees key bytes. Its `tokens` and
//! `audit` imports are served likewise by the tokens and audit components ([`Services`]).
//!
//! ```no_run
//! use crmguard_core::request::{Pipeline, Target};
//! use crmguard_core::{ClaimNames, KeySet, TenantId, TenantIssuers, UnixTime, VerificationOptions};
//! use crmguard_host::{HostConfig, PluginDecider, PluginHost, PluginsDir, Services, TenantKeyrings};
//! use std::sync::Arc;
//!
//! let host = PluginHost::new(HostConfig::default())?;
//! let dir = PluginsDir::new("plugins");
//! // Each tenant's keyring in cleartext form, e.g. `Keyring::to_cleartext_json()`.
//! let keyring = std::fs::read_to_string("acme-keyring.json")?;
//! let keys = Arc::new(TenantKeyrings::new().with(TenantId::new("acme")?, keyring.into()));
//! let services = Services::new(host.load_crypto(&dir.manifest("crypto")?, keys)?)
//!     .with_tokens(host.load_tokens(&dir.manifest("tokens")?)?)
//!     .with_audit(host.load_audit(&dir.manifest("audit")?)?);
//! let plugin = host.load_plugin(&dir.manifest("reference")?)?;
//! // Core's pipeline verifies the token, binds the caller and their tenant, runs the plugin
//! // (only for a request in the caller's own tenant), validates its answer, and returns the
//! // decision with its audit event.
//! let keys = KeySet::from_json(&std::fs::read_to_string("jwks.json")?)?;
//! let options = VerificationOptions::for_api(&["https://idp.example.com"], &["crm-api"]);
//! let (names, issuers) = (ClaimNames::default(), TenantIssuers::any());
//! let pipeline = Pipeline { keys: &keys, options: &options, names: &names, issuers: &issuers };
//! let token = std::fs::read_to_string("token.jwt")?;
//! let target = Target::parse(Some("acme"), "read", "contact", "0042", None)?;
//! let record = serde_json::from_str(&std::fs::read_to_string("record.json")?)?;
//! let time = UnixTime::from_secs(1_764_400_100).expect("in range");
//! let mut decider = PluginDecider::new(&host, &plugin, &services);
//! let decided = pipeline.decide(token.trim(), target, time, record, &mut decider)?;
//! // Append `decided.event` to the audit log before answering with `decided.decision`.
//! println!("{}", decider.outcome(decided.decision).to_json());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

pub mod audit_log;
pub mod files;
mod plugins;

pub use plugins::codes as plugin_codes;
pub use plugins::{
    AccessDecision, AccessRequest, ArtifactCache, AuditComponent, AuditSession, CacheKey,
    Capability, CryptoComponent, CryptoSession, HostConfig, KeySource, LogLine, LogSummary,
    Manifest, Outcome, PLUGIN_ERROR_CODES, Plugin, PluginDecider, PluginError, PluginHost,
    PluginsDir, Services, TenantKeyrings, TokensComponent, TokensSession, Verdict, World,
};
