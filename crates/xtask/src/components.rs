//! `cargo xtask components`: builds the WebAssembly components (wasm32-wasip2, release) that
//! the host's tests and benchmarks load from `target/wasm32-wasip2/component/`, and prints
//! their sizes. The `component` profile (workspace Cargo.toml) optimises for size, links with
//! LTO and strips debug info and symbol names, so the sizes printed are the shipped ones.

use std::process::Command;

use crate::{cargo, run_step};

/// The component packages and the files they build.
pub(crate) const COMPONENTS: &[(&str, &str)] = &[
    (
        "crmguard-component-crypto",
        "crmguard_component_crypto.wasm",
    ),
    (
        "crmguard-component-tokens",
        "crmguard_component_tokens.wasm",
    ),
    ("crmguard-component-audit", "crmguard_component_audit.wasm"),
    (
        "crmguard-plugin-reference",
        "crmguard_plugin_reference.wasm",
    ),
    ("crmguard-edge", "crmguard_edge.wasm"),
    ("test-plugin-hostile", "test_plugin_hostile.wasm"),
    ("test-plugin-sneaky", "test_plugin_sneaky.wasm"),
];

/// Where the built components are: `<target dir>/wasm32-wasip2/component`.
pub(crate) fn dir() -> std::path::PathBuf {
    crate::target_dir().join("wasm32-wasip2/component")
}

pub(crate) fn build() -> Result<(), String> {
    let mut cmd = cargo();
    cmd.args([
        "build",
        "--profile",
        "component",
        "--locked",
        "--target",
        "wasm32-wasip2",
    ]);
    for (package, _) in COMPONENTS {
        cmd.args(["-p", package]);
    }
    run_step("cargo build (components)", &mut cmd)?;
    let dir = dir();
    for (_, file) in COMPONENTS {
        let path = dir.join(file);
        let len = std::fs::metadata(&path)
            .map_err(|e| format!("{}: {e}", path.display()))?
            .len();
        let stripped = stripped_len(&path).map_or(String::new(), |n| {
            format!(", {} KiB stripped", n.div_ceil(1024))
        });
        println!("{file}: {} KiB{stripped}", len.div_ceil(1024));
    }
    Ok(())
}

/// The size after `wasm-tools strip -a`, if wasm-tools is installed.
fn stripped_len(path: &std::path::Path) -> Option<u64> {
    let out = std::env::temp_dir().join(format!("crmguard-strip-{}.wasm", std::process::id()));
    let ok = Command::new("wasm-tools")
        .arg("strip")
        .arg("-a")
        .arg(path)
        .arg("-o")
        .arg(&out)
        .output()
        .ok()?
        .status
        .success();
    let len = ok.then(|| std::fs::metadata(&out).ok().map(|m| m.len()))??;
    let _ = std::fs::remove_file(&out);
    Some(len)
}
