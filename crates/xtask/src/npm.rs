//! The npm package (js/): build it from crates/wasm with wasm-bindgen-cli and wasm-opt, type
//! check it, run its node:test suites against the built package, install the packed tarball
//! into a fresh project, run it there in workerd (miniflare) and Deno, and run the browser
//! end-to-end test in headless Debian chromium.
//! Each step installs what it needs when missing (wasm-bindgen-cli, npm devDependencies,
//! chromium) and prints what it runs.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{cargo, root, run_step, target_dir};

/// Must equal the `wasm-bindgen` crate version pinned in crates/wasm/Cargo.toml.
const WASM_BINDGEN_VERSION: &str = "0.2.130";
const CHROMIUM: &str = "/usr/bin/chromium";
/// RUSTFLAGS of the npm build (see `build_module`).
const NPM_RUSTFLAGS: &str = r#"--cfg sha2_backend_soft="compact""#;
/// `-Oz`, and the features rustc enables by default for wasm32-unknown-unknown; no names,
/// producers or target-features sections in the shipped module.
const WASM_OPT_FLAGS: &[&str] = &[
    "-Oz",
    "--enable-bulk-memory",
    "--enable-sign-ext",
    "--enable-mutable-globals",
    "--enable-nontrapping-float-to-int",
    "--enable-reference-types",
    "--enable-multivalue",
    "--strip-debug",
    "--strip-producers",
    "--strip-target-features",
];

fn js() -> PathBuf {
    root().join("js")
}

fn show(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// Prints the command line, then runs it like `run_step`.
fn run(cmd: &mut Command) -> Result<(), String> {
    let line = show(cmd);
    println!("$ {line}");
    run_step(&line, cmd)
}

fn npm() -> Command {
    let mut c = Command::new("npm");
    c.current_dir(js());
    c
}

fn bin(name: &str) -> PathBuf {
    js().join("node_modules/.bin").join(name)
}

/// The `crmguard` CLI the cross-runtime tests drive (built by `cargo test --workspace`).
pub(crate) fn cli() -> PathBuf {
    target_dir()
        .join("debug")
        .join(format!("crmguard{}", std::env::consts::EXE_SUFFIX))
}

/// `cargo xtask npm`: the npm steps of `cargo xtask test` alone, after building the debug
/// CLI the cross-runtime and browser tests drive.
pub(crate) fn all_steps() -> Result<(), String> {
    run(cargo().args([
        "build",
        "--locked",
        "-p",
        "crmguard-host",
        "--bin",
        "crmguard",
    ]))?;
    ensure_wasm_bindgen()?;
    npm_ci()?;
    build_package()?;
    typecheck()?;
    node_tests()?;
    pack_and_install()?;
    edge_runtimes()?;
    browser_test()?;
    println!(
        "\nxtask npm: package built, type-checked, tested, packed and installed; workerd, Deno and browser tests passed"
    );
    Ok(())
}

pub(crate) fn ensure_wasm_bindgen() -> Result<(), String> {
    let have = Command::new("wasm-bindgen")
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    let want = format!("wasm-bindgen {WASM_BINDGEN_VERSION}");
    if have.as_deref() == Some(want.as_str()) {
        println!("{want} already installed");
        return Ok(());
    }
    println!("wasm-bindgen is {have:?}, need {want:?}: installing (a few minutes, once)");
    // Not --locked: one locked dependency of 0.2.130 is missing from the registry index.
    run(cargo().args([
        "install",
        "wasm-bindgen-cli",
        "--version",
        WASM_BINDGEN_VERSION,
    ]))
}

pub(crate) fn npm_ci() -> Result<(), String> {
    run(npm().args(["ci", "--no-audit", "--no-fund"]))
}

/// `npm`-profile wasm build, wasm-bindgen (`--target web`: one output for browsers, workers and,
/// through `initSync`, Node), then `wasm-opt -Oz`. Two modules from crates/wasm: the field
/// encryption one (`pkg/`) and, with the `audit` feature, the one behind `crmguard/audit`
/// (`pkg-audit/`), and with `tokens` the one behind `crmguard/tokens` (`pkg-tokens/`), so
/// neither grows the field-encryption download.
pub(crate) fn build_package() -> Result<(), String> {
    build_module(&[], "pkg", "crmguard_wasm")?;
    build_module(&["--features", "audit"], "pkg-audit", "crmguard_audit")?;
    build_module(&["--features", "tokens"], "pkg-tokens", "crmguard_tokens")
}

fn build_module(features: &[&str], out_dir: &str, out_name: &str) -> Result<(), String> {
    // The `npm` profile (workspace Cargo.toml): opt-level "z", fat LTO, one codegen unit.
    // The cfgs pick the small software backends of sha2 (a rolled-up SHA-256 loop) for this
    // build only; the wasm has no SHA or AES instructions to lose.
    run(cargo()
        .env("RUSTFLAGS", NPM_RUSTFLAGS)
        .args([
            "build",
            "-p",
            "crmguard-wasm",
            "--profile",
            "npm",
            "--locked",
            "--target",
            "wasm32-unknown-unknown",
        ])
        .args(features))?;
    let pkg = js().join(out_dir);
    let _ = std::fs::remove_dir_all(&pkg);
    let wasm = target_dir().join("wasm32-unknown-unknown/npm/crmguard_wasm.wasm");
    run(Command::new("wasm-bindgen")
        .args(["--target", "web", "--out-name", out_name, "--out-dir"])
        .arg(&pkg)
        .arg(&wasm))?;
    let out = pkg.join(format!("{out_name}_bg.wasm"));
    run(Command::new(bin("wasm-opt"))
        .args(WASM_OPT_FLAGS)
        .arg(&out)
        .arg("-o")
        .arg(&out))
}

pub(crate) fn typecheck() -> Result<(), String> {
    run(Command::new(bin("tsc"))
        .current_dir(js())
        .args(["--noEmit", "-p", "tsconfig.json"]))
}

/// The `*.test.mjs` files of `dir` (relative to js/), sorted: Node 20 has no glob for --test.
fn test_files(dir: &str) -> Result<Vec<String>, String> {
    let mut files: Vec<String> = std::fs::read_dir(js().join(dir))
        .map_err(|e| format!("js/{dir}: {e}"))?
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.ends_with(".test.mjs"))
        .map(|n| format!("{dir}/{n}"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(format!("no *.test.mjs in js/{dir}"));
    }
    Ok(files)
}

pub(crate) fn node_tests() -> Result<(), String> {
    // The HPKE vectors, independently of the package: node:crypto only.
    run(Command::new("node")
        .current_dir(root())
        .arg("tests/vectors/check-hpke-sealed.mjs")
        .arg("tests/vectors/hpke-sealed.json"))?;
    run(Command::new("node")
        .current_dir(js())
        .env("CRMGUARD_CLI", cli())
        .arg("--test")
        .args(test_files("test")?))
}

/// `npm pack`, then a fresh project outside the repository installs the tarball and imports
/// the package by name: ESM in Node, and inside a worker_thread.
pub(crate) fn pack_and_install() -> Result<(), String> {
    with_installed_tarball("install", |project| {
        std::fs::copy(
            js().join("scripts/install-check.mjs"),
            project.join("check.mjs"),
        )
        .map_err(|e| format!("copy install-check.mjs: {e}"))?;
        run(Command::new("node").current_dir(project).arg("check.mjs"))
    })
}

/// The installed tarball in real edge runtimes (js/edge-runtimes/run.mjs): bundled as a
/// Cloudflare Worker and run in workerd (npm miniflare), and imported by Deno (npm deno), with
/// the same checks and outputs as in Node.
pub(crate) fn edge_runtimes() -> Result<(), String> {
    with_installed_tarball("edge", |project| {
        run(Command::new("node")
            .current_dir(js())
            .env("CRMGUARD_CLI", cli())
            .arg("edge-runtimes/run.mjs")
            .arg(project))
    })
}

/// Packs js/ and installs the tarball, as a user would, into a fresh project in a temporary
/// folder; runs `f` on that project and removes the folder.
fn with_installed_tarball(
    label: &str,
    f: impl FnOnce(&Path) -> Result<(), String>,
) -> Result<(), String> {
    let tmp = std::env::temp_dir().join(format!("crmguard-npm-{label}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
    let result = (|| {
        run(npm().args(["pack", "--pack-destination"]).arg(&tmp))?;
        let tarball = std::fs::read_dir(&tmp)
            .map_err(|e| e.to_string())?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "tgz"))
            .ok_or("npm pack wrote no .tgz")?;
        let project = tmp.join("app");
        std::fs::create_dir_all(&project).map_err(|e| e.to_string())?;
        write(
            &project.join("package.json"),
            r#"{ "name": "crmguard-install-check", "private": true, "type": "module" }"#,
        )?;
        run(Command::new("npm")
            .current_dir(&project)
            .args(["install", "--no-audit", "--no-fund", "--no-package-lock"])
            .arg(&tarball))?;
        f(&project)
    })();
    let _ = std::fs::remove_dir_all(&tmp);
    result
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

fn ensure_chromium() -> Result<(), String> {
    if Path::new(CHROMIUM).exists() {
        println!("{CHROMIUM} present");
        return Ok(());
    }
    println!("{CHROMIUM} missing: installing Debian chromium (needs root, as in CI)");
    run(Command::new("apt-get").arg("update"))?;
    run(Command::new("apt-get").args(["install", "-y", "chromium"]))
}

/// The contact-form example in headless chromium (js/e2e/contact-form.test.mjs).
pub(crate) fn browser_test() -> Result<(), String> {
    ensure_chromium()?;
    run(Command::new("node")
        .current_dir(js())
        .env("CRMGUARD_CLI", cli())
        .env(
            "CRMGUARD_EDGE_COMPONENT",
            crate::components::dir().join("crmguard_edge.wasm"),
        )
        .env("CHROMIUM", CHROMIUM)
        .arg("--test")
        .args(test_files("e2e")?))
}
