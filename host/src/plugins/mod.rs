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

/// The plugin host's own stable codes as constants (`ERR_PLUGIN_*`, `ERR_IO`), so callers
/// compare [`PluginError::code`](crate::PluginError) against these instead of spelling a
/// code again. Every one is in [`PLUGIN_ERROR_CODES`](crate::PLUGIN_ERROR_CODES).
pub mod codes {
    pub use super::error::{
        CAPABILITY, DIGEST, ENGINE, INVALID, IO, LINK, MANIFEST, MEMORY, NOT_FOUND, OUTPUT,
        REQUEST, SCOPE, TENANT, TIMEOUT, TRAP, WORLD,
    };
}
pub use host::{
    CryptoComponent, CryptoSession, HostConfig, KeySource, Plugin, PluginDecider, PluginHost,
    TenantKeyrings,
};
pub use manifest::{Capability, Manifest, PluginsDir, World};
pub use request::{AccessDecision, AccessRequest, LogLine, Outcome, Verdict};
pub use services::{
    AuditComponent, AuditSession, LogSummary, Services, TokensComponent, TokensSession,
};
