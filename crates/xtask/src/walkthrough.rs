//! `cargo xtask walkthrough`: runs docs/PLUGINS.md's walk-through as written, so the guide a
//! vendor follows cannot drift from what works. The guide's ```` ```sh walkthrough ````
//! blocks are joined, in order, into one bash script (`set -euo pipefail`) run from the
//! repository root with the `crmguard` CLI first on PATH. The blocks check their own results
//! (`grep -q`), so a wrong answer fails the script like a failing command does.

use std::path::PathBuf;
use std::process::Command;

use crate::{root, run_step};

/// The fence that marks a walk-through block.
const FENCE: &str = "```sh walkthrough";

/// The walk-through blocks of `markdown`, in order.
fn blocks(markdown: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        match &mut current {
            None if line.trim_end() == FENCE => current = Some(String::new()),
            None => {}
            Some(_) if line.trim_end() == "```" => out.extend(current.take()),
            Some(b) => {
                b.push_str(line);
                b.push('\n');
            }
        }
    }
    out
}

pub(crate) fn run(bin: Option<PathBuf>) -> Result<(), String> {
    // The guide's first block builds a component for wasm32-wasip2.
    crate::setup::prepare(crate::setup::Purpose::Demo)?;
    let bin = match bin {
        Some(b) => b,
        None => crate::demo::build_cli()?,
    };
    let doc = root().join("docs/PLUGINS.md");
    let text = std::fs::read_to_string(&doc).map_err(|e| format!("{}: {e}", doc.display()))?;
    let blocks = blocks(&text);
    let commands = blocks
        .iter()
        .flat_map(|b| b.lines())
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .count();
    // The guide has six blocks (build, pin, keys and data, three requests, audit); fewer
    // means the fences were broken and the check would silently shrink.
    if blocks.len() < 6 {
        return Err(format!(
            "{}: {} walk-through blocks found, expected at least 6",
            doc.display(),
            blocks.len()
        ));
    }
    // `set -e` ignores a command negated with `!`: such a line would check nothing.
    if let Some(line) = blocks
        .iter()
        .flat_map(|b| b.lines())
        .find(|l| l.trim_start().starts_with("! "))
    {
        return Err(format!(
            "{}: `{line}` can never fail under `set -e`; use `fails ...`",
            doc.display()
        ));
    }
    let script = format!("set -euo pipefail\n{}", blocks.concat());
    let bin_dir = bin
        .parent()
        .ok_or("the crmguard binary has no parent folder")?
        .to_path_buf();
    let path = std::env::join_paths(std::iter::once(bin_dir).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .map_err(|e| e.to_string())?;
    println!(
        "running {} blocks ({commands} commands) of {}",
        blocks.len(),
        doc.display()
    );
    // The guide makes its scratch folders with `mktemp -d`; they go in a folder of ours that
    // is removed afterwards, so repeated runs do not fill the disk.
    let scratch = root().join("target/tmp/walkthrough");
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).map_err(|e| format!("{}: {e}", scratch.display()))?;
    let ran = run_step(
        "docs/PLUGINS.md walk-through",
        Command::new("bash")
            .current_dir(root())
            .env("PATH", path)
            .env("TMPDIR", &scratch)
            .arg("-c")
            .arg(script),
    );
    let _ = std::fs::remove_dir_all(&scratch);
    ran?;
    println!("the walk-through ran as written: {commands} commands, every check passed");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::blocks;

    #[test]
    fn only_marked_blocks_are_taken_in_order() {
        let md =
            "text\n```sh walkthrough\na\nb\n```\n```sh\nnot this\n```\n```sh walkthrough\nc\n```\n";
        assert_eq!(blocks(md), vec!["a\nb\n".to_owned(), "c\n".to_owned()]);
    }

    #[test]
    fn an_unclosed_block_is_not_taken() {
        assert!(blocks("```sh walkthrough\na\n").is_empty());
    }
}
