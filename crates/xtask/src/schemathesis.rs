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
    run_step(
        "python3 -m venv",
        Command::new("python3").args(["-m", "venv"]).arg(&venv),
    )?;
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
    let bin = target_dir().join("debug/crmguard");
    run_step(
        "cargo build (crmguard)",
        crate::cargo().args([
            "build",
            "--locked",
            "-p",
            "crmguard-host",
            "--bin",
            "crmguard",
        ]),
    )?;
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
