//! The edge function under an independent host: `wasmtime serve` (wasmtime-cli, pinned to
//! the 48.x line the project embeds), running the same suite as `crmguard serve --edge`
//! (host/tests/edge.rs with `CRMGUARD_EDGE_WASMTIME` set).

use std::path::PathBuf;
use std::process::Command;

use crate::{cargo, run_step};

/// The wasmtime-cli release the suite runs under.
pub(crate) const WASMTIME_VERSION: &str = "48.0.8";

/// The features `wasmtime serve` with wasi:config needs; the rest of the default set (wast,
/// wizer, wasi-nn, gc, winch, ...) would only add build time.
const WASMTIME_FEATURES: &str = "run,serve,wasi-config,cranelift,component-model,\
                                 component-model-async,parallel-compilation,pooling-allocator,clap/default";

/// A private install root (not `~/.cargo/bin`, so a user's own wasmtime is left alone).
fn root() -> PathBuf {
    let home = std::env::var_os("CARGO_HOME").map_or_else(
        || PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cargo"),
        PathBuf::from,
    );
    home.join(format!("crmguard-tools/wasmtime-cli-{WASMTIME_VERSION}"))
}

/// The pinned `wasmtime`, installed if missing (`cargo install --locked`).
pub(crate) fn ensure_wasmtime() -> Result<PathBuf, String> {
    let bin = root().join("bin/wasmtime");
    let have = Command::new(&bin)
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    if have
        .as_deref()
        .is_some_and(|v| v.starts_with(&format!("wasmtime {WASMTIME_VERSION}")))
    {
        println!("{} already installed", have.unwrap_or_default());
        return Ok(bin);
    }
    println!(
        "installing wasmtime-cli {WASMTIME_VERSION} into {} (minutes, once)",
        root().display()
    );
    run_step(
        "cargo install wasmtime-cli",
        cargo()
            .args([
                "install",
                "--locked",
                "wasmtime-cli",
                "--version",
                WASMTIME_VERSION,
            ])
            .args(["--no-default-features", "--features", WASMTIME_FEATURES])
            .arg("--root")
            .arg(root()),
    )?;
    Ok(bin)
}

/// host/tests/edge.rs again, with the component under `wasmtime serve`.
pub(crate) fn under_wasmtime_serve() -> Result<(), String> {
    let wasmtime = ensure_wasmtime()?;
    run_step(
        "cargo test --test edge (under wasmtime serve)",
        cargo()
            .args(["test", "--workspace", "--locked", "--test", "edge"])
            .env("CRMGUARD_EDGE_WASMTIME", wasmtime),
    )
}
