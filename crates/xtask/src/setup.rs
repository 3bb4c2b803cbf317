//! The one installer both README commands call before they build anything, so the demo and
//! the test command cannot drift apart in what they assume a machine has.
//!
//! A fresh machine of the project's kind has rustup's stable toolchain with no extra targets
//! and Node 20. [`prepare`] adds what the purpose needs and says what it did; a machine that
//! already has everything costs one `rustup target list` call.

use std::process::Command;

use crate::run_step;

/// The wasm targets: wasm32-wasip2 for the components (demo and tests), wasm32-unknown-unknown
/// for the npm package (tests).
const WASM_TARGETS: &[&str] = &["wasm32-wasip2", "wasm32-unknown-unknown"];

/// How the demo and the walk-through build the `crmguard` CLI: exactly the build the test
/// command's `cargo test --workspace --locked` makes (it puts the binary in target/debug for
/// the integration tests). Cargo unifies features over what it builds, and the workspace's
/// test build turns on features a lone `cargo build -p crmguard-host` does not (serde,
/// hashbrown, indexmap and wasmparser among wasmtime's dependencies), so after a lone build
/// `cargo test --workspace` compiled wasmtime again (seen here). With one selection the demo's build is the tests'
/// build and the second one is a no-op.
pub(crate) const CLI_BUILD: &[&str] = &["test", "--workspace", "--locked", "--no-run"];

/// What the caller is about to do.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// `cargo xtask demo` (and the walk-through): the components' target.
    Demo,
    /// `cargo xtask test`: every target; the npm steps install their own tools as they start.
    Test,
}

impl Purpose {
    fn targets(self) -> &'static [&'static str] {
        match self {
            Purpose::Demo => &WASM_TARGETS[..1],
            Purpose::Test => WASM_TARGETS,
        }
    }
}

/// Installs what `purpose` needs and is missing.
pub(crate) fn prepare(purpose: Purpose) -> Result<(), String> {
    ensure_targets(purpose.targets())
}

fn ensure_targets(wanted: &[&str]) -> Result<(), String> {
    let out = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map_err(|e| format!("rustup: {e} (CRMGuard needs a rustup-managed toolchain)"))?;
    if !out.status.success() {
        return Err(format!(
            "rustup target list --installed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let installed = String::from_utf8_lossy(&out.stdout);
    let missing: Vec<&str> = wanted
        .iter()
        .copied()
        .filter(|t| !installed.lines().any(|l| l.trim() == *t))
        .collect();
    if missing.is_empty() {
        println!("set-up: rust targets present ({})", wanted.join(", "));
        return Ok(());
    }
    println!(
        "set-up: adding rust targets {} (a few seconds, once)",
        missing.join(", ")
    );
    run_step(
        "rustup target add",
        Command::new("rustup")
            .args(["target", "add"])
            .args(&missing),
    )
}
