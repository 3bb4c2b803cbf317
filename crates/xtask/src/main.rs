//! `cargo xtask demo` and `cargo xtask test`: the README's two commands. Both set up what
//! they need themselves.

mod components;
mod demo;
mod edge;
mod npm;
mod schemathesis;
mod setup;
mod test;
mod walkthrough;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

fn usage() -> ExitCode {
    eprintln!(
        "usage: cargo xtask <command>\n\n\
         commands:\n  \
         demo      run CRMGuard end to end on a local data folder (demo-data/)\n  \
         test      install what is missing, build everything, run every test\n  \
         npm       only the npm package steps of `test` (build, tsc, node tests, pack, browser)\n  \
         components  build the WebAssembly components (wasm32-wasip2) the host tests load\n  \
         walkthrough run docs/PLUGINS.md's walk-through (its `sh walkthrough` blocks)\n  \
         (demo and walkthrough use $CRMGUARD_CLI as the crmguard binary when it is set)\n  \
         vectors   regenerate tests/vectors/sealed-fields.json and hpke-sealed.json\n  \
         codes     regenerate docs/ERRORS.md and js/codes.d.ts from core's error code table"
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("demo") => demo::run(&root().join("demo-data"), prebuilt_cli()),
        Some("walkthrough") => walkthrough::run(prebuilt_cli()),
        Some("test") => test::run(),
        Some("npm") => npm::all_steps(),
        Some("components") => components::build(),
        Some("vectors") => write_vectors(),
        Some("codes") => write_codes(),
        _ => return usage(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("\nxtask: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `CRMGUARD_CLI`: a `crmguard` binary to use instead of building one (e.g. the one
/// `cargo test --workspace` built, whose feature set differs from a lone `cargo build`).
fn prebuilt_cli() -> Option<PathBuf> {
    std::env::var_os("CRMGUARD_CLI").map(PathBuf::from)
}

/// Cargo's target directory: `CARGO_TARGET_DIR` when set (a shared build cache), else
/// target/ in the workspace.
pub(crate) fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from)
}

/// The workspace root.
pub(crate) fn root() -> PathBuf {
    // crates/xtask -> workspace root; CARGO_MANIFEST_DIR is set by cargo at build time.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

pub(crate) fn cargo() -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(root());
    c
}

/// Runs a command, streaming its output; fails if it fails.
pub(crate) fn run_step(what: &str, cmd: &mut Command) -> Result<(), String> {
    let status = cmd
        .status()
        .map_err(|e| format!("{what}: could not start: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{what}: failed ({status})"))
    }
}

fn write_vectors() -> Result<(), String> {
    let doc = crmguard_conformance::sealed_field_vectors().map_err(|e| e.to_string())?;
    let path = root().join("tests/vectors/sealed-fields.json");
    let text = serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())? + "\n";
    std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    println!("wrote {}", path.display());
    let doc = crmguard_conformance::hpke_sealed_vectors().map_err(|e| e.to_string())?;
    let path = root().join("tests/vectors/hpke-sealed.json");
    let text = serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())? + "\n";
    std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    println!("wrote {}", path.display());
    Ok(())
}

/// `docs/ERRORS.md` and `js/codes.d.ts` from crmguard-core's code table (the conformance
/// tests fail while the committed files differ from what this writes).
fn write_codes() -> Result<(), String> {
    for (rel, text) in crmguard_conformance::error_code_files() {
        let path = root().join(rel);
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
