//! `crmguard keys ...`

use base64::Engine;
use clap::Subcommand;
use std::path::PathBuf;

use crate::failure::{CmdResult, Failure};

#[derive(Subcommand)]
pub(crate) enum KeysCommand {
    /// Generate a random 32-byte master key and write it, base64-encoded, to a new file
    /// (mode 0600). Use it with `--master-key-file` or put it in CRMGUARD_MASTER_KEY.
    NewMaster {
        /// The file to create; refuses to overwrite.
        #[arg(long)]
        out: PathBuf,
    },
}

pub(crate) fn run(cmd: KeysCommand) -> CmdResult {
    match cmd {
        KeysCommand::NewMaster { out } => new_master(&out),
    }
}

fn new_master(out: &std::path::Path) -> CmdResult {
    use crmguard_core::{Key256, SystemEntropy};
    let key = Key256::generate(&mut SystemEntropy)?;
    let text = zeroize::Zeroizing::new(
        base64::engine::general_purpose::STANDARD.encode(key.expose_secret()) + "\n",
    );
    write_new_secret_file(out, text.as_bytes())?;
    eprintln!("wrote master key to {}", out.display());
    Ok(())
}

/// Creates `path` (failing if it exists) readable by its owner only, and syncs it.
pub(crate) fn write_new_secret_file(path: &std::path::Path, bytes: &[u8]) -> CmdResult {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .map_err(|e| Failure::io(&path.display().to_string(), e))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(|e| Failure::io(&path.display().to_string(), e))
}
