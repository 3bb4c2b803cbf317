//! Host bindings generated from `wit/guard.wit` (`crmguard:guard@0.2.0`), one module per
//! world. The shared `types` interface is generated once (in `plugin`) and reused by the other
//! worlds, so a `guard-error` or a `field-context` is one Rust type across the runtime.

/// The `policy-plugin` world: the host provides `sealing` (the request-scoped sealer),
/// `tokens`, `audit` and `logging`; the plugin exports `policy`. Imports are trappable so a
/// failing component behind them traps the plugin's call. The plugin's resources are host
/// values in its store's table.
pub(crate) mod plugin {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "policy-plugin",
        imports: { default: trappable },
        with: {
            "crmguard:guard/sealing.record-sealer": crate::imports::RequestSealer,
            "crmguard:guard/tokens.key-set": crate::imports::PluginKeySet,
            "crmguard:guard/audit.log-session": crate::imports::PluginLogSession,
        },
    });
}

/// The `crypto` world: the host provides `keystore`; the component exports `fields`.
pub(crate) mod crypto {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "crypto",
        imports: { default: trappable },
        with: { "crmguard:guard/types": crate::bindings::plugin::crmguard::guard::types },
    });
}

/// The `token-verifier` world: the component exports `tokens` (its `key-set` resource lives
/// in the component's store) and imports nothing of ours.
pub(crate) mod tokens {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "token-verifier",
        imports: { default: trappable },
        with: { "crmguard:guard/types": crate::bindings::plugin::crmguard::guard::types },
    });
}

/// The `audit-builder` world: the component exports `audit` (its `log-session` resource
/// lives in the component's store) and imports nothing of ours.
pub(crate) mod audit {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "audit-builder",
        imports: { default: trappable },
        with: { "crmguard:guard/types": crate::bindings::plugin::crmguard::guard::types },
    });
}
