//! # crmguard-runtime
//!
//! The wasmtime runtime for CRMGuard's WebAssembly components, shared by every adapter that
//! runs them (`crmguard run`, `crmguard serve`). Every rule stays in crmguard-core: a plugin
//! is one more [`Decider`](crmguard_core::request::Decider) of core's request pipeline.
//!
//! Policy plugins are untrusted components of the world `crmguard:guard/policy-plugin@0.2.0`
//! (see `wit/guard.wit`): each request gets a fresh instance from a pre-instantiated, pooled
//! component, with no filesystem, network, environment or clock unless its manifest grants one,
//! a CPU deadline, and bounded memory, instances and tables. Whatever a plugin does (trap,
//! loop, exhaust memory, return garbage), the answer is a deny [`Verdict`] carrying a stable
//! `ERR_PLUGIN_*` code, and the host keeps serving.
//!
//! A plugin names a treatment per field, never values; core renders them. Its one crypto
//! capability is the request-scoped `record-sealer` handed to `decide` (the request's record
//! only, within budgets), served by the crypto component (world `crmguard:guard/crypto`),
//! instantiated on first use in its own store; only that component is linked to the host's
//! [`KeySource`], so a plugin never sees key bytes. Its `tokens` and `audit` imports (a key
//! set parsed once, a log session appended to) are served likewise by the tokens and audit
//! components ([`Services`]).
//!
//! ```no_run
//! use crmguard_core::request::{Pipeline, Target};
//! use crmguard_core::{ClaimNames, KeySet, TenantId, TenantIssuers, UnixTime, VerificationOptions};
//! use crmguard_runtime::{
//!     CryptoSealer, HostConfig, PluginDecider, PluginHost, PluginsDir, Services, TenantKeyrings,
//! };
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
//! // The plugin names a treatment per field; core renders the values through the crypto
//! // component (keys stay in it).
//! let mut sealer = CryptoSealer::new(&services.crypto);
//! let decided = pipeline.decide(token.trim(), target, time, record, &mut decider, &mut sealer)?;
//! // Append `decided.event` to the audit log before answering with `decided.decision`.
//! println!("{}", decider.outcome(decided.decision).to_json());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

mod bindings;
mod cache;
mod crypto;
mod error;
mod host;
mod imports;
mod manifest;
pub mod preinit;
mod request;
mod sandbox;
mod scope;
mod services;
mod shared;

pub use cache::{ArtifactCache, CacheKey};
pub use error::{PLUGIN_ERROR_CODES, PLUGIN_ERROR_KINDS, PluginError, kind_of};

/// The plugin host's own stable codes as constants (`ERR_PLUGIN_*`, `ERR_IO`), so callers
/// compare [`PluginError::code`](crate::PluginError) against these instead of spelling a
/// code again. Every one is in [`PLUGIN_ERROR_CODES`](crate::PLUGIN_ERROR_CODES).
pub mod codes {
    pub use super::error::{
        CAPABILITY, DIGEST, ENGINE, INVALID, IO, LINK, MANIFEST, MEMORY, NOT_FOUND, OUTPUT,
        REQUEST, SCOPE, TENANT, TIMEOUT, TRAP, WORLD,
    };
}
pub use crypto::{CryptoComponent, CryptoSealer, CryptoSession, KeySource, TenantKeyrings};
pub use host::{Plugin, PluginDecider, PluginHost};
pub use manifest::{Capability, Manifest, PluginsDir, World};
pub use request::{AccessDecision, AccessRequest, LogLine, Outcome, Verdict};
pub use services::{
    AuditComponent, AuditSession, ComponentKeySet, ComponentLog, LogSummary, Services,
    TokensComponent, TokensSession,
};
pub use shared::HostConfig;
