//! The host's plugin errors: stable `ERR_PLUGIN_*` codes (and crmguard-core's codes when a
//! component returns one).

use core::fmt;

use crmguard_core::ErrorKind;

use super::bindings::plugin::crmguard::guard::types::{ErrorKind as WitKind, GuardError};

/// A plugin could not be loaded or run. `code` is stable; `message` holds no secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginError {
    /// The stable code, e.g. `ERR_PLUGIN_DIGEST`.
    pub code: &'static str,
    /// What happened, for people.
    pub message: String,
}

impl PluginError {
    pub(crate) fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// What kind of failure it is ([`kind_of`]).
    pub fn kind(&self) -> ErrorKind {
        kind_of(self.code)
    }

    /// As the WIT's `guard-error`.
    pub(crate) fn to_guard(&self) -> GuardError {
        GuardError {
            kind: wit_kind(self.kind()),
            code: self.code.to_owned(),
            message: self.message.clone(),
        }
    }
}

/// The kind of any code this host returns: core's from its table, the host's own from
/// [`PLUGIN_ERROR_KINDS`]; a code neither knows is `internal`.
pub fn kind_of(code: &str) -> ErrorKind {
    crmguard_core::error_kind(code)
        .or_else(|| {
            PLUGIN_ERROR_KINDS
                .iter()
                .find(|(c, _)| *c == code)
                .map(|(_, k)| *k)
        })
        .unwrap_or(ErrorKind::Internal)
}

/// Core's kind as the WIT's.
pub(crate) fn wit_kind(kind: ErrorKind) -> WitKind {
    match kind {
        ErrorKind::Invalid => WitKind::Invalid,
        ErrorKind::Unauthenticated => WitKind::Unauthenticated,
        ErrorKind::Forbidden => WitKind::Forbidden,
        ErrorKind::NotFound => WitKind::NotFound,
        ErrorKind::Integrity => WitKind::Integrity,
        ErrorKind::Limit => WitKind::Limit,
        ErrorKind::Internal => WitKind::Internal,
    }
}

/// A `guard-error` for `code` (its kind derived from the code).
pub(crate) fn guard(code: &str, message: impl Into<String>) -> GuardError {
    GuardError {
        kind: wit_kind(kind_of(code)),
        code: code.to_owned(),
        message: message.into(),
    }
}

impl fmt::Display for PluginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for PluginError {}

/// A manifest is missing, unreadable, or not valid.
pub const MANIFEST: &str = "ERR_PLUGIN_MANIFEST";
/// No plugin of that name in the plugins folder.
pub const NOT_FOUND: &str = "ERR_PLUGIN_NOT_FOUND";
/// The component's SHA-256 differs from the manifest's pin.
pub const DIGEST: &str = "ERR_PLUGIN_DIGEST";
/// The component does not export what its manifest's world requires.
pub const WORLD: &str = "ERR_PLUGIN_WORLD";
/// The component is not a valid WebAssembly component (e.g. truncated).
pub const INVALID: &str = "ERR_PLUGIN_INVALID";
/// The component imports something the host does not grant it.
pub const LINK: &str = "ERR_PLUGIN_LINK";
/// The component trapped (including panics and stack overflow).
pub const TRAP: &str = "ERR_PLUGIN_TRAP";
/// The call overran its CPU deadline.
pub const TIMEOUT: &str = "ERR_PLUGIN_TIMEOUT";
/// The instance tried to grow memory (or tables, or instances) past its limit.
pub const MEMORY: &str = "ERR_PLUGIN_MEMORY";
/// The plugin returned a decision the host cannot use (unknown fields, invalid JSON,
/// oversized, or an error without a stable code).
pub const OUTPUT: &str = "ERR_PLUGIN_OUTPUT";
/// The plugin called a host function its sandbox refuses (e.g. waiting on a timer).
pub const CAPABILITY: &str = "ERR_PLUGIN_CAPABILITY";
/// The plugin's crypto call named another record or data subject than the request's, or
/// went over the request's budget of such calls.
pub const SCOPE: &str = "ERR_PLUGIN_SCOPE";
/// The plugin asked for another tenant's data.
pub const TENANT: &str = "ERR_PLUGIN_TENANT";
/// The request given to the host is not valid.
pub const REQUEST: &str = "ERR_PLUGIN_REQUEST";
/// The engine could not be created with the configured limits.
pub const ENGINE: &str = "ERR_PLUGIN_ENGINE";
/// A file could not be read or written.
pub const IO: &str = "ERR_IO";

/// Every code the plugin host can return on its own.
pub const PLUGIN_ERROR_CODES: &[&str] = &[
    MANIFEST, NOT_FOUND, DIGEST, WORLD, INVALID, LINK, TRAP, TIMEOUT, MEMORY, CAPABILITY, SCOPE,
    OUTPUT, TENANT, REQUEST, ENGINE, IO,
];

/// The kind of each of the host's own codes: what a caller can do about it.
pub const PLUGIN_ERROR_KINDS: &[(&str, ErrorKind)] = &[
    (MANIFEST, ErrorKind::Invalid),
    (NOT_FOUND, ErrorKind::NotFound),
    (DIGEST, ErrorKind::Integrity),
    (WORLD, ErrorKind::Invalid),
    (INVALID, ErrorKind::Invalid),
    (LINK, ErrorKind::Forbidden),
    (TRAP, ErrorKind::Internal),
    (TIMEOUT, ErrorKind::Limit),
    (MEMORY, ErrorKind::Limit),
    (CAPABILITY, ErrorKind::Forbidden),
    (SCOPE, ErrorKind::Limit),
    (OUTPUT, ErrorKind::Internal),
    (TENANT, ErrorKind::Forbidden),
    (REQUEST, ErrorKind::Invalid),
    (ENGINE, ErrorKind::Internal),
    (IO, ErrorKind::Internal),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_host_code_has_one_kind() {
        assert_eq!(PLUGIN_ERROR_KINDS.len(), PLUGIN_ERROR_CODES.len());
        for code in PLUGIN_ERROR_CODES {
            let n = PLUGIN_ERROR_KINDS.iter().filter(|(c, _)| c == code).count();
            assert_eq!(n, 1, "{code}");
        }
        assert_eq!(kind_of(TIMEOUT), ErrorKind::Limit);
        assert_eq!(
            kind_of(crmguard_core::codes::SEALED_FIELD_AUTH),
            ErrorKind::Integrity
        );
    }
}
