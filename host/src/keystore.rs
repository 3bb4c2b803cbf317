//! The keyring options every keyring-using command takes, over crmguard-store's
//! [`KeyringFile`]: where the file and its state are, where the master key comes from, and
//! the cleartext opt-in.

use std::path::{Path, PathBuf};

use clap::Args;
use crmguard_core::{CleartextPolicy, Key256, parse_master_key};
use crmguard_store::files::Replace;
use crmguard_store::keyring_file::{self, KeyringFile, LoadedKeyring};

use crate::failure::Failure;

pub(crate) use crmguard_store::keyring_file::{default_state_path, write_state};

/// The environment variable holding the base64 master key.
pub(crate) const MASTER_KEY_ENV: &str = "CRMGUARD_MASTER_KEY";

/// Options every keyring-using command takes.
#[derive(Args, Debug, Clone)]
pub(crate) struct KeyringOpts {
    /// The keyring file.
    #[arg(long, value_name = "FILE")]
    pub(crate) keyring: PathBuf,
    /// A file holding the base64 master key (instead of the CRMGUARD_MASTER_KEY variable).
    #[arg(long, value_name = "FILE")]
    pub(crate) master_key_file: Option<PathBuf>,
    /// Allow a keyring stored in cleartext. Anyone who can read the file has every key.
    #[arg(long)]
    pub(crate) insecure_cleartext: bool,
    /// Where the keyring's expected identity and lowest generation are kept (default:
    /// `<keyring>.state`). A keyring file of another keyring, or older than the last one
    /// this file saw, is refused (ERR_KEYRING_IDENTITY, ERR_KEYRING_ROLLBACK). Keep it where
    /// whoever could restore an old keyring file cannot write.
    #[arg(long, value_name = "FILE")]
    pub(crate) keyring_state: Option<PathBuf>,
}

pub(crate) fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The master key from `--master-key-file`, else from CRMGUARD_MASTER_KEY, else none.
pub(crate) fn master_key(file: Option<&Path>) -> Result<Option<Key256>, Failure> {
    if let Some(path) = file {
        let text = zeroize::Zeroizing::new(
            std::fs::read_to_string(path)
                .map_err(|e| Failure::io(&path.display().to_string(), e))?,
        );
        return Ok(Some(parse_master_key(&text)?));
    }
    match std::env::var(MASTER_KEY_ENV) {
        Ok(v) => {
            let v = zeroize::Zeroizing::new(v);
            Ok(Some(parse_master_key(&v)?))
        }
        Err(_) => Ok(None),
    }
}

fn warned(loaded: LoadedKeyring) -> LoadedKeyring {
    for w in &loaded.warnings {
        eprintln!("warning: {w}");
    }
    loaded
}

impl KeyringOpts {
    /// The file these options name, with the master key read.
    pub(crate) fn file(&self) -> Result<KeyringFile, Failure> {
        Ok(KeyringFile {
            path: self.keyring.clone(),
            state_path: self.keyring_state.clone(),
            master: master_key(self.master_key_file.as_deref())?,
            cleartext: if self.insecure_cleartext {
                CleartextPolicy::Allow
            } else {
                CleartextPolicy::Refuse
            },
        })
    }

    /// Loads the keyring for reading.
    pub(crate) fn load(&self) -> Result<LoadedKeyring, Failure> {
        Ok(warned(self.file()?.load()?))
    }

    /// Takes the keyring's lock (`<file>.lock`), then loads it, for a read-modify-write.
    pub(crate) fn load_for_update(&self) -> Result<LoadedKeyring, Failure> {
        Ok(warned(self.file()?.load_for_update()?))
    }
}

/// Writes `bytes` to `path` crash-safely and race-free; with `create_new`, fails if `path`
/// exists (atomically: no check-then-rename window).
pub(crate) fn write_atomically(path: &Path, bytes: &[u8], create_new: bool) -> Result<(), Failure> {
    let replace = if create_new {
        Replace::Refuse
    } else {
        Replace::Allow
    };
    Ok(keyring_file::write_atomically(path, bytes, replace)?)
}
