//! `cargo xtask demo`: CRMGuard end to end on a fresh data folder, narrated.
//!
//! It installs what it needs (the shared set-up in `setup.rs`), builds the `crmguard` binary
//! with cargo's progress showing, and drives it exactly as a user would, printing each command
//! and what came back. The steps are a list (`steps.rs`), each a small function that checks
//! its own outcome, so a broken product fails the demo (and `cargo xtask test`, which runs it).

mod serve;
mod steps;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::{cargo, run_step};

/// The narrator: the binary it drives, the data folder, and what earlier steps produced that
/// later ones use.
pub(crate) struct Demo {
    bin: PathBuf,
    dir: PathBuf,
    color: bool,
    step: usize,
    /// The contact record as the CRM holds it in clear.
    record: Value,
    /// That record sealed by its schema (step "Seal a whole contact record").
    sealed_record: Value,
}

struct Outcome {
    ok: bool,
    stdout: String,
    stderr: String,
}

impl Demo {
    fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_owned()
        }
    }

    fn title(&mut self, title: &str, why: &str) {
        let _ = std::io::stdout().flush();
        self.step += 1;
        println!(
            "\n{}",
            self.paint("1;36", &format!("{}. {title}", self.step))
        );
        println!("   {}", self.paint("2", why));
    }

    fn say(&self, s: &str) {
        println!("   {s}");
    }

    /// Runs `crmguard args...` in the data folder with `stdin`, echoing the command.
    fn crmguard(&self, args: &[&str], stdin: &[u8]) -> Result<Outcome, String> {
        let shown: Vec<String> = args
            .iter()
            .map(|a| {
                if a.contains(' ') {
                    format!("'{a}'")
                } else {
                    (*a).to_owned()
                }
            })
            .collect();
        println!("   {} crmguard {}", self.paint("33", "$"), shown.join(" "));
        let mut child = Command::new(&self.bin)
            .args(args)
            .current_dir(&self.dir)
            .env_remove("CRMGUARD_MASTER_KEY")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("could not run {}: {e}", self.bin.display()))?;
        let written = child.stdin.take().ok_or("no stdin")?.write_all(stdin);
        // A command that does not read stdin may exit first; its status is what counts.
        if let Err(e) = written
            && e.kind() != std::io::ErrorKind::BrokenPipe
        {
            return Err(format!("writing to crmguard: {e}"));
        }
        let out = child
            .wait_with_output()
            .map_err(|e| format!("crmguard: {e}"))?;
        Ok(Outcome {
            ok: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }

    /// Runs a command that must succeed; prints its stdout indented.
    fn ok(&self, args: &[&str], stdin: &[u8]) -> Result<String, String> {
        self.ok_shown(args, stdin, |out| out.to_owned())
    }

    /// Like `ok`, printing `render(stdout)` instead of all of stdout.
    fn ok_shown(
        &self,
        args: &[&str],
        stdin: &[u8],
        render: impl Fn(&str) -> String,
    ) -> Result<String, String> {
        let o = self.crmguard(args, stdin)?;
        if !o.ok {
            return Err(format!(
                "`crmguard {}` failed: {}",
                args.join(" "),
                o.stderr.trim()
            ));
        }
        for line in render(&o.stdout).lines() {
            println!("     {}", shorten(line));
        }
        for line in o.stderr.lines() {
            println!("     {}", self.paint("2", line));
        }
        Ok(o.stdout)
    }

    /// Runs a command that must be refused with `code`; prints the refusal.
    fn refused(&self, args: &[&str], stdin: &[u8], code: &str) -> Result<(), String> {
        let o = self.crmguard(args, stdin)?;
        let line = o.stderr.lines().last().unwrap_or("").to_owned();
        if o.ok || !line.starts_with(code) {
            return Err(format!(
                "expected `crmguard {}` to be refused with {code}, got: {line}",
                args.join(" ")
            ));
        }
        println!("     {} {}", self.paint("31", "refused:"), line);
        Ok(())
    }

    /// Writes `value` as pretty JSON to `name` in the data folder.
    fn write(&self, name: &str, value: &Value) -> Result<(), String> {
        let text = serde_json::to_string_pretty(value).map_err(|e| e.to_string())? + "\n";
        self.write_text(name, &text)
    }

    fn write_text(&self, name: &str, text: &str) -> Result<(), String> {
        std::fs::write(self.dir.join(name), text).map_err(|e| format!("{name}: {e}"))
    }

    fn read(&self, name: &str) -> Result<String, String> {
        std::fs::read_to_string(self.dir.join(name)).map_err(|e| format!("{name}: {e}"))
    }
}

/// Long sealed values are cut in the middle so a person can read the record.
fn shorten(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(pos) = rest.find("cg1:") {
        out.push_str(&rest[..pos]);
        let tail = &rest[pos..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == ':'))
            .unwrap_or(tail.len());
        let token = &tail[..end];
        if token.len() > 28 {
            out.push_str(&format!("{}…{}", &token[..18], &token[token.len() - 6..]));
        } else {
            out.push_str(token);
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// Builds the `crmguard` CLI (debug) the way `cargo test --workspace` builds it, so the demo
/// and the tests share one build of wasmtime (see [`crate::setup::CLI_BUILD`]). Cargo's own
/// progress is shown.
pub(crate) fn build_cli() -> Result<PathBuf, String> {
    println!(
        "building the crmguard tool (debug), as `cargo xtask test` builds it so the tests reuse \
         it. A first build compiles about 400 crates, wasmtime among them: about 19 minutes on 2 \
         cores (measured on a clean clone) and 3 GB in target/; later runs take seconds."
    );
    run_step("building crmguard", cargo().args(crate::setup::CLI_BUILD))?;
    Ok(crate::npm::cli())
}

/// Runs the demo in `dir` with the CLI at `bin` (built here when `None`: `cargo xtask test`
/// passes the binary `cargo test --workspace` just built, so nothing is compiled twice).
pub(crate) fn run(dir: &Path, bin: Option<PathBuf>) -> Result<(), String> {
    let color = std::io::stdout().is_terminal();
    let banner = "CRMGuard demo: protecting one contact record at Acme's CRM";
    println!(
        "{}",
        if color {
            format!("\x1b[1m{banner}\x1b[0m")
        } else {
            banner.to_owned()
        }
    );
    println!("{} steps: {}", steps::STEPS.len(), steps::outline());
    crate::setup::prepare(crate::setup::Purpose::Demo)?;
    let bin = match bin {
        Some(b) => b,
        None => build_cli()?,
    };
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut d = Demo {
        bin,
        dir: dir.to_path_buf(),
        color,
        step: 0,
        record: Value::Null,
        sealed_record: Value::Null,
    };
    println!(
        "{}",
        d.paint("2", &format!("data folder: {}", dir.display()))
    );
    for step in steps::STEPS {
        d.title(step.title, step.why);
        (step.run)(&mut d)?;
    }
    println!(
        "\n{} {} steps; everything is in {}",
        d.paint("1;32", "demo complete:"),
        d.step,
        dir.display()
    );
    Ok(())
}
