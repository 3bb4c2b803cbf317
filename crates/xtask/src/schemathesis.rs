//! Property-based API tests of `crmguard serve` with schemathesis (PyPI, pinned), against the
//! service's own OpenAPI document (host/tests/schemathesis.sh).

use std::path::PathBuf;
use std::process::Command;

use crate::{root, run_step, target_dir};

/// The pinned version (installed into a virtual environment under target/).
const VERSION: &str = "4.32.5";

/// `st` of a virtual environment with schemathesis VERSION, created if missing.
fn ensure_st() -> Result<PathBuf, String> {
    let venv = target_dir().join(format!("pytools/schemathesis-{VERSION}"));
    let st = venv.join("bin/st");
    if st.is_file() {
        return Ok(st);
    }
    let venv_made = |python: &str| {
        run_step(
            "python3 -m venv",
            Command::new(python)
                .args(["-m", "venv", "--clear"])
                .arg(&venv),
        )
    };
    if venv_made("python3").is_err() {
        // Debian's python3 ships venv's ensurepip separately.
        println!("python3 -m venv failed: installing Debian python3-venv (needs root, as in CI)");
        run_step("apt-get update", Command::new("apt-get").arg("update"))?;
        run_step(
            "apt-get install python3-venv",
            Command::new("apt-get").args(["install", "-y", "python3-venv"]),
        )?;
        venv_made("/usr/bin/python3")?;
    }
    run_step(
        "pip install schemathesis",
        Command::new(venv.join("bin/pip")).args([
            "install",
            "--quiet",
            "--disable-pip-version-check",
            &format!("schemathesis=={VERSION}"),
        ]),
    )?;
    Ok(st)
}

/// Runs the API tests against the debug `crmguard` the Rust tests built, with a fixed seed
/// (reproducible in CI; `host/tests/schemathesis.sh BIN ST` without one explores further).
pub(crate) fn run() -> Result<(), String> {
    let st = ensure_st()?;
    // The same build as the Rust tests (a no-op after them). `cargo build -p crmguard-host`
    // would resolve the dependencies' features for that one crate, not the workspace, and
    // compile about 150 crates again (500 s of a clean CI run).
    run_step(
        "cargo test --no-run (crmguard)",
        crate::cargo().args(crate::setup::CLI_BUILD),
    )?;
    let bin = crate::npm::cli();
    run_step(
        "schemathesis",
        Command::new("bash")
            .current_dir(root())
            .arg("host/tests/schemathesis.sh")
            .arg(&bin)
            .arg(&st)
            .args(["--seed", "20261202", "--max-examples", "50"]),
    )
}
