//! Host bindings generated from `wit/guard.wit`, one module per world.

/// The `policy-plugin` world: the host provides `fields` and `logging`; the plugin exports
/// `policy`. Imports are trappable so a failing crypto component traps the plugin's call.
pub(crate) mod plugin {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "policy-plugin",
        imports: { default: trappable },
    });
}

/// The `crypto` world: the host provides `keystore`; the component exports `fields`.
pub(crate) mod crypto {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "crypto",
        imports: { default: trappable },
    });
}
