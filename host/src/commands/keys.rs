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
    /// Generate an audit signing key (Ed25519, with the key for pseudonymising ids) and its
    /// public key. The signing key file is created with mode 0600.
    NewSigning {
        /// The signing key file to create; refuses to overwrite.
        #[arg(long)]
        out: PathBuf,
        /// The public (verifying) key file to create.
        #[arg(long)]
        public_out: PathBuf,
    },
}

pub(crate) fn run(cmd: KeysCommand) -> CmdResult {
    match cmd {
        KeysCommand::NewMaster { out } => new_master(&out),
        KeysCommand::NewSigning { out, public_out } => new_signing(&out, &public_out),
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

fn new_signing(out: &std::path::Path, public_out: &std::path::Path) -> CmdResult {
    use crmguard_core::{AuditSigningKey, Entropy, SystemEntropy};
    let mut seed = zeroize::Zeroizing::new([0u8; 32]);
    let mut pseudonym = zeroize::Zeroizing::new([0u8; 32]);
    SystemEntropy.fill(&mut *seed)?;
    SystemEntropy.fill(&mut *pseudonym)?;
    let key = AuditSigningKey::from_seed(&seed, *pseudonym);
    write_new_secret_file(out, key.to_json().as_bytes())?;
    let public = key.verifying_key().to_json();
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(public_out)
        .and_then(|mut f| {
            use std::io::Write;
            f.write_all(public.as_bytes())?;
            f.sync_all()
        })
        .map_err(|e| Failure::io(&public_out.display().to_string(), e))?;
    eprintln!(
        "wrote audit signing key {} to {} and its public key to {}",
        key.key_id(),
        out.display(),
        public_out.display()
    );
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
