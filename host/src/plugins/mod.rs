//! Loading and running components: manifests, the engine and its on-disk artifact cache,
//! the sandbox, and the per-request runner.

mod bindings;
mod cache;
mod error;
mod host;
mod manifest;
mod request;
mod sandbox;
mod scope;
mod services;

pub use cache::{ArtifactCache, CacheKey};
pub use error::{PLUGIN_ERROR_CODES, PluginError};
pub use host::{
    CryptoComponent, CryptoSession, HostConfig, KeySource, Plugin, PluginDecider, PluginHost,
    TenantKeyrings,
};
pub use manifest::{Capability, Manifest, PluginsDir, World};
pub use request::{AccessDecision, AccessRequest, LogLine, Outcome, Verdict};
pub use services::{
    AuditComponent, AuditSession, LogSummary, Services, TokensComponent, TokensSession,
};
