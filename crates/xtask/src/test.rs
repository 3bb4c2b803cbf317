//! `cargo xtask test`: installs what is missing (`setup.rs`, shared with the demo), then runs
//! every check and test.

use std::process::Command;
use std::time::Instant;

use crate::{cargo, root, run_step};

fn node_available() -> Result<(), String> {
    match Command::new("node").arg("--version").output() {
        Ok(o) if o.status.success() => Ok(()),
        _ => Err("node (>= 20) is required for the cross-runtime vector check".into()),
    }
}

pub(crate) fn run() -> Result<(), String> {
    let started = Instant::now();
    let mut passed = Vec::new();
    let mut step =
        |name: &'static str, f: &mut dyn FnMut() -> Result<(), String>| -> Result<(), String> {
            println!("\n=== xtask test: {name}");
            let t = Instant::now();
            f()?;
            println!("--- {name}: ok ({:.1}s)", t.elapsed().as_secs_f64());
            passed.push(name);
            Ok(())
        };

    step("set-up: install missing wasm targets", &mut || {
        crate::setup::prepare(crate::setup::Purpose::Test)
    })?;
    step("rustfmt", &mut || {
        run_step("cargo fmt", cargo().args(["fmt", "--all", "--check"]))
    })?;
    step("clippy", &mut || {
        run_step(
            "cargo clippy",
            cargo().args([
                "clippy",
                "--workspace",
                "--all-targets",
                "--locked",
                "--",
                "-D",
                "warnings",
            ]),
        )
    })?;
    // wasm32-wasip2: a build in the components' profile, which the components step reuses. For
    // wasm32-unknown-unknown a check suffices here: the npm step links core into the package
    // with its own size-optimised profile settings, which a plain release build would thrash.
    step("core builds for wasm32-wasip2", &mut || {
        run_step(
            "cargo build (wasm32-wasip2)",
            cargo().args([
                "build",
                "-p",
                "crmguard-core",
                "--profile",
                "component",
                "--locked",
                "--target",
                "wasm32-wasip2",
            ]),
        )
    })?;
    step("core compiles for wasm32-unknown-unknown", &mut || {
        run_step(
            "cargo check (wasm32-unknown-unknown)",
            cargo().args([
                "check",
                "-p",
                "crmguard-core",
                "--locked",
                "--target",
                "wasm32-unknown-unknown",
            ]),
        )
    })?;
    step(
        "WebAssembly components (wasm32-wasip2)",
        &mut crate::components::build,
    )?;
    step("Rust tests (unit, integration, doc, vectors)", &mut || {
        run_step(
            "cargo test",
            cargo().args(["test", "--workspace", "--locked"]),
        )
    })?;
    step(
        "schemathesis: crmguard serve against its OpenAPI document",
        &mut crate::schemathesis::run,
    )?;
    step(
        "the edge function under wasmtime serve (an independent wasi:http host)",
        &mut crate::edge::under_wasmtime_serve,
    )?;
    step(
        "Node opens the published vectors with node:crypto only",
        &mut || {
            node_available()?;
            run_step(
                "node check-sealed-fields.mjs",
                Command::new("node")
                    .current_dir(root())
                    .arg("tests/vectors/check-sealed-fields.mjs")
                    .arg("tests/vectors/sealed-fields.json"),
            )
        },
    )?;
    step(
        "Node verifies the audit chain vectors with node:crypto only",
        &mut || {
            node_available()?;
            run_step(
                "node check-audit-chain.mjs",
                Command::new("node")
                    .current_dir(root())
                    .arg("tests/vectors/check-audit-chain.mjs")
                    .arg("tests/vectors/audit-chain.json"),
            )
        },
    )?;
    step("the demo runs end to end", &mut || {
        let dir = std::env::temp_dir().join(format!("crmguard-demo-check-{}", std::process::id()));
        let r = crate::demo::run(&dir, Some(crate::npm::cli()));
        let _ = std::fs::remove_dir_all(&dir);
        r
    })?;
    step(
        "docs/PLUGINS.md walk-through (a vendor's plugin)",
        &mut || crate::walkthrough::run(Some(crate::npm::cli())),
    )?;
    // The npm package (crates/xtask/src/npm.rs).
    step(
        "wasm-bindgen-cli 0.2.130",
        &mut crate::npm::ensure_wasm_bindgen,
    )?;
    step("npm ci (js/)", &mut crate::npm::npm_ci)?;
    step(
        "build the npm package (wasm, wasm-bindgen, wasm-opt)",
        &mut crate::npm::build_package,
    )?;
    step("tsc --noEmit", &mut crate::npm::typecheck)?;
    step(
        "node:test suites against the built package",
        &mut crate::npm::node_tests,
    )?;
    step(
        "npm pack, install in a fresh project",
        &mut crate::npm::pack_and_install,
    )?;
    step(
        "the packed package in workerd (miniflare) and Deno",
        &mut crate::npm::edge_runtimes,
    )?;
    step(
        "browser end to end (chromium)",
        &mut crate::npm::browser_test,
    )?;

    println!(
        "\nxtask test: {} steps passed, 0 failed, in {:.0}s",
        passed.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
