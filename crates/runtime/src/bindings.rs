//! Host bindings generated from `wit/guard.wit`, one module per world.

/// The `policy-plugin` world: the host provides `fields`, `tokens`, `audit` and `logging`; the plugin exports
/// `policy`. Imports are trappable so a failing crypto component traps the plugin's call.
pub(crate) mod plugin {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "policy-plugin",
        imports: { default: trappable },
    });
}

/// The `crypto` world: the host provides `keystore`; the component exports `fields`.
pub(crate) mod crypto {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "crypto",
        imports: { default: trappable },
    });
}

/// The `token-verifier` world: the component exports `tokens` and imports nothing of ours.
pub(crate) mod tokens {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "token-verifier",
        imports: { default: trappable },
    });
}

/// The `audit-builder` world: the component exports `audit` and imports nothing of ours.
pub(crate) mod audit {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "audit-builder",
        imports: { default: trappable },
    });
}
