//! The keyring file on disk: master-key lookup, cleartext opt-in, locking and atomic writes.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use clap::Args;
use crmguard_core::{
    CleartextPolicy, ExpectedKeyring, Key256, Keyring, KeyringFileOptions, KeyringId,
    SystemEntropy, parse_master_key,
};
use crmguard_host::files::{Replace, write_file};

use crate::failure::Failure;

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

fn display(p: &Path) -> String {
    p.display().to_string()
}

/// The master key from `--master-key-file`, else from CRMGUARD_MASTER_KEY, else none.
pub(crate) fn master_key(file: Option<&Path>) -> Result<Option<Key256>, Failure> {
    if let Some(path) = file {
        let text = zeroize::Zeroizing::new(
            std::fs::read_to_string(path).map_err(|e| Failure::io(&display(path), e))?,
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

/// A loaded keyring and how to write it back.
pub(crate) struct LoadedKeyring {
    pub(crate) keyring: Keyring,
    opts: KeyringOpts,
    master: Option<Key256>,
    cleartext: bool,
    // Held for the lifetime of a read-modify-write; released on drop.
    _lock: Option<File>,
}

impl KeyringOpts {
    /// Loads the keyring for reading.
    pub(crate) fn load(&self) -> Result<LoadedKeyring, Failure> {
        self.load_inner(None)
    }

    /// Takes the keyring's lock (`<file>.lock`), then loads it, for a read-modify-write.
    pub(crate) fn load_for_update(&self) -> Result<LoadedKeyring, Failure> {
        let lock_path = lock_path(&self.keyring);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| Failure::io(&display(&lock_path), e))?;
        lock.lock()
            .map_err(|e| Failure::io(&display(&lock_path), e))?;
        self.load_inner(Some(lock))
    }

    fn load_inner(&self, lock: Option<File>) -> Result<LoadedKeyring, Failure> {
        let text = zeroize::Zeroizing::new(
            std::fs::read_to_string(&self.keyring)
                .map_err(|e| Failure::io(&display(&self.keyring), e))?,
        );
        let master = master_key(self.master_key_file.as_deref())?;
        let cleartext = Keyring::file_is_cleartext(&text);
        let options = KeyringFileOptions {
            master: master.as_ref(),
            cleartext: if self.insecure_cleartext {
                CleartextPolicy::Allow
            } else {
                CleartextPolicy::Refuse
            },
            expect: self.read_state()?,
        };
        let keyring = Keyring::from_json(&text, &options)?;
        // Trust on first use: the first load records what this keyring is; later loads
        // refuse another keyring or an older file. A read-only folder only loses that.
        if options.expect.is_none()
            && let Err(e) = self.write_state(&keyring)
        {
            eprintln!("warning: the keyring state could not be recorded: {e}");
        }
        if cleartext {
            eprintln!(
                "warning: {} is an INSECURE cleartext keyring (--insecure-cleartext)",
                display(&self.keyring)
            );
        }
        Ok(LoadedKeyring {
            keyring,
            opts: self.clone(),
            master,
            cleartext,
            _lock: lock,
        })
    }
}

/// The keyring state file: `{"version":1,"keyring_id":"<32 hex>","min_generation":N}`.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyringState {
    version: u32,
    keyring_id: String,
    min_generation: u64,
}

fn state_error(path: &Path, why: &str) -> Failure {
    Failure::new(
        crmguard_core::codes::KEYRING_MALFORMED,
        format!("keyring state {}: {why}", display(path)),
    )
}

impl KeyringOpts {
    fn state_path(&self) -> PathBuf {
        self.keyring_state
            .clone()
            .unwrap_or_else(|| default_state_path(&self.keyring))
    }

    /// The recorded expectation; none when no state file exists yet.
    fn read_state(&self) -> Result<Option<ExpectedKeyring>, Failure> {
        let path = self.state_path();
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Failure::io(&display(&path), e)),
        };
        let state: KeyringState =
            serde_json::from_str(&text).map_err(|e| state_error(&path, &e.to_string()))?;
        if state.version != 1 {
            return Err(state_error(&path, "unknown version"));
        }
        Ok(Some(ExpectedKeyring {
            id: KeyringId::from_hex(&state.keyring_id)
                .map_err(|_| state_error(&path, "keyring_id is not 32 hex digits"))?,
            min_generation: state.min_generation,
        }))
    }

    /// Records `keyring`'s identity and generation.
    fn write_state(&self, keyring: &Keyring) -> Result<(), Failure> {
        write_state(&self.state_path(), keyring)
    }
}

/// `<keyring>.state`, where a keyring's state is kept unless `--keyring-state` says otherwise.
pub(crate) fn default_state_path(keyring: &Path) -> PathBuf {
    let mut s = keyring.as_os_str().to_owned();
    s.push(".state");
    PathBuf::from(s)
}

/// Records `keyring`'s identity and generation at `path`.
pub(crate) fn write_state(path: &Path, keyring: &Keyring) -> Result<(), Failure> {
    let expected = keyring.expectation();
    let state = KeyringState {
        version: 1,
        keyring_id: expected.id.to_hex(),
        min_generation: expected.min_generation,
    };
    let text = serde_json::to_string(&state)
        .map_err(|e| Failure::new("ERR_IO", format!("keyring state: {e}")))?;
    write_atomically(path, format!("{text}\n").as_bytes(), false)
}

impl LoadedKeyring {
    /// The master key the keyring was unlocked with (none for a cleartext keyring).
    pub(crate) fn master(&self) -> Option<&Key256> {
        self.master.as_ref()
    }

    /// Writes the keyring back in the protection it was read with.
    pub(crate) fn save(&self) -> Result<(), Failure> {
        let text = if self.cleartext {
            self.keyring.to_cleartext_json()
        } else {
            let master = self.master.as_ref().ok_or_else(|| {
                Failure::new(
                    crmguard_core::codes::KEYRING_MASTER_KEY,
                    "a master key is required to write the keyring",
                )
            })?;
            zeroize::Zeroizing::new(self.keyring.to_protected_json(master, &mut SystemEntropy)?)
        };
        write_atomically(&self.opts.keyring, text.as_bytes(), false)?;
        // After the file: a crash in between leaves an older expectation, which the new
        // file still meets.
        self.opts.write_state(&self.keyring)
    }
}

fn lock_path(p: &Path) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(".lock");
    PathBuf::from(s)
}

/// Writes `bytes` to `path` crash-safely and race-free ([`crmguard_host::files`]); with
/// `create_new`, fails if `path` exists (atomically: no check-then-rename window).
pub(crate) fn write_atomically(path: &Path, bytes: &[u8], create_new: bool) -> Result<(), Failure> {
    let replace = if create_new {
        Replace::Refuse
    } else {
        Replace::Allow
    };
    write_file(path, bytes, replace).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists && create_new {
            Failure::new(
                "ERR_IO",
                format!("{} already exists; refusing to overwrite", display(path)),
            )
        } else {
            Failure::io(&display(path), e)
        }
    })
}
