//! `crmguard keys ...`

use crate::failure::outln;
use base64::Engine;
use clap::Subcommand;
use std::path::PathBuf;

use crmguard_core::{KeyStatus, Keyring, SystemEntropy};

use crate::failure::{CmdResult, Failure};
use crate::keystore::{KeyringOpts, master_key, now, write_atomically};

#[derive(Subcommand)]
pub(crate) enum KeysCommand {
    /// Create a new keyring with one primary key, sealed under the master key.
    New {
        /// The keyring file to create; refuses to overwrite.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// A file holding the base64 master key (instead of the CRMGUARD_MASTER_KEY variable).
        #[arg(long, value_name = "FILE")]
        master_key_file: Option<PathBuf>,
        /// Store the keyring in cleartext. Anyone who can read the file has every key.
        #[arg(long)]
        insecure_cleartext: bool,
    },
    /// Add a new primary key; older keys become decrypt-only and keep opening.
    Rotate {
        #[command(flatten)]
        keyring: KeyringOpts,
    },
    /// List key ids, states and the primary (never key material).
    List {
        #[command(flatten)]
        keyring: KeyringOpts,
    },
    /// Erase a non-primary key's material: values still sealed under it become unrecoverable.
    Destroy {
        #[command(flatten)]
        keyring: KeyringOpts,
        /// The key id to destroy.
        #[arg(long)]
        key_id: u32,
    },
    /// Generate a random 32-byte master key and write it, base64-encoded, to a new file
    /// (mode 0600). Use it with `--master-key-file` or put it in CRMGUARD_MASTER_KEY.
    NewMaster {
        /// The file to create; refuses to overwrite.
        #[arg(long, value_name = "FILE")]
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
        KeysCommand::New {
            out,
            master_key_file,
            insecure_cleartext,
        } => new(&out, master_key_file.as_deref(), insecure_cleartext),
        KeysCommand::Rotate { keyring } => {
            let mut loaded = keyring.load_for_update()?;
            let id = loaded.keyring.rotate(&mut SystemEntropy, now())?;
            loaded.save()?;
            outln!("rotated: key {id} is the new primary; older keys are decrypt-only");
            Ok(())
        }
        KeysCommand::List { keyring } => {
            let loaded = keyring.load()?;
            let k = &loaded.keyring;
            for info in k.key_infos() {
                let status = match info.status {
                    KeyStatus::Active => "active",
                    KeyStatus::DecryptOnly => "decrypt-only",
                    KeyStatus::Destroyed => "destroyed",
                };
                let primary = if info.primary { "  (primary)" } else { "" };
                outln!(
                    "key {:>4}  {status:<12}  created {}{primary}",
                    info.id,
                    info.created
                );
            }
            let (live, forgotten) = k.subject_counts();
            outln!("subjects: {live} with keys, {forgotten} forgotten");
            Ok(())
        }
        KeysCommand::Destroy { keyring, key_id } => {
            let mut loaded = keyring.load_for_update()?;
            let id = loaded
                .keyring
                .key_infos()
                .find(|i| i.id.get() == key_id)
                .map(|i| i.id)
                .ok_or_else(|| {
                    Failure::from(crmguard_core::Error::from(
                        crmguard_core::KeyError::NotFound(key_id),
                    ))
                })?;
            loaded.keyring.destroy_key(id)?;
            loaded.save()?;
            outln!("destroyed: key {key_id}; values sealed under it can no longer be opened");
            Ok(())
        }
        KeysCommand::NewMaster { out } => new_master(&out),
        KeysCommand::NewSigning { out, public_out } => new_signing(&out, &public_out),
    }
}

fn new(
    out: &std::path::Path,
    master_key_file: Option<&std::path::Path>,
    cleartext: bool,
) -> CmdResult {
    let keyring = Keyring::generate(&mut SystemEntropy, now())?;
    let text = if cleartext {
        eprintln!("warning: writing an INSECURE cleartext keyring (--insecure-cleartext)");
        keyring.to_cleartext_json()
    } else {
        let master = master_key(master_key_file)?.ok_or_else(|| {
            Failure::new(
                crmguard_core::codes::KEYRING_MASTER_KEY,
                "no master key: set CRMGUARD_MASTER_KEY (base64 of 32 bytes) or pass --master-key-file \
                 (create one with `crmguard keys new-master`), or pass --insecure-cleartext",
            )
        })?;
        zeroize::Zeroizing::new(keyring.to_protected_json(&master, &mut SystemEntropy)?)
    };
    write_atomically(out, text.as_bytes(), true)?;
    // The new keyring is what `<out>.state` expects from now on (see --keyring-state).
    crate::keystore::write_state(&crate::keystore::default_state_path(out), &keyring)?;
    outln!(
        "created keyring {} (primary key {})",
        out.display(),
        keyring.primary()
    );
    Ok(())
}

fn new_master(out: &std::path::Path) -> CmdResult {
    use crmguard_core::Key256;
    let key = Key256::generate(&mut SystemEntropy)?;
    let text = zeroize::Zeroizing::new(
        base64::engine::general_purpose::STANDARD.encode(key.expose_secret()) + "\n",
    );
    write_atomically(out, text.as_bytes(), true)?;
    eprintln!("wrote master key to {}", out.display());
    Ok(())
}

fn new_signing(out: &std::path::Path, public_out: &std::path::Path) -> CmdResult {
    use crmguard_core::{AuditSigningKey, Entropy};
    let mut seed = zeroize::Zeroizing::new([0u8; 32]);
    let mut pseudonym = zeroize::Zeroizing::new([0u8; 32]);
    SystemEntropy.fill(&mut *seed)?;
    SystemEntropy.fill(&mut *pseudonym)?;
    let key = AuditSigningKey::from_seed(&seed, *pseudonym);
    if public_out.exists() {
        return Err(Failure::new(
            "ERR_IO",
            format!(
                "{} already exists; refusing to overwrite",
                public_out.display()
            ),
        ));
    }
    write_atomically(out, key.to_json().as_bytes(), true)?;
    write_atomically(public_out, key.verifying_key().to_json().as_bytes(), true)?;
    eprintln!(
        "wrote audit signing key {} to {} and its public key to {}",
        key.key_id(),
        out.display(),
        public_out.display()
    );
    Ok(())
}
