//! A keyring file on disk: unlocked with a master key (or, opted in, cleartext), checked
//! against its state file (rollback and substitution), locked for a read-modify-write, and
//! written back atomically in the protection it was read with.
//!
//! The state file (`<keyring>.state` unless placed elsewhere) is
//! `{"version":1,"keyring_id":"<32 hex>","min_generation":N}`: the identity and lowest
//! generation the last load saw. A keyring file of another keyring, or older than that, is
//! refused (`ERR_KEYRING_IDENTITY`, `ERR_KEYRING_ROLLBACK`). The first load records it (trust
//! on first use); keep the state where whoever could restore an old keyring file cannot write.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use crmguard_core::{
    CleartextPolicy, ExpectedKeyring, Key256, Keyring, KeyringFileOptions, KeyringId, SystemEntropy,
};

use crate::StoreError;
use crate::files::{Replace, write_file};

/// Where a keyring file is and how it may be unlocked.
#[derive(Clone)]
pub struct KeyringFile {
    /// The keyring file.
    pub path: PathBuf,
    /// Its state file; `None`: `<path>.state` ([`default_state_path`]).
    pub state_path: Option<PathBuf>,
    /// The master key that unlocks it; `None` for a cleartext keyring.
    pub master: Option<Key256>,
    /// Whether a cleartext keyring is accepted (never together with a master key).
    pub cleartext: CleartextPolicy,
}

impl core::fmt::Debug for KeyringFile {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("KeyringFile")
            .field("path", &self.path)
            .field("state_path", &self.state_path)
            .field("master", &self.master.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

/// A loaded keyring and how to write it back.
pub struct LoadedKeyring {
    /// The keyring.
    pub keyring: Keyring,
    /// What a person should hear about the load (an insecure cleartext file, a state file
    /// that could not be recorded); the caller decides where it goes.
    pub warnings: Vec<String>,
    file: KeyringFile,
    cleartext: bool,
    // Held for the lifetime of a read-modify-write; released on drop.
    _lock: Option<File>,
}

impl core::fmt::Debug for LoadedKeyring {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("LoadedKeyring")
            .field("file", &self.file)
            .finish_non_exhaustive()
    }
}

fn display(p: &Path) -> String {
    p.display().to_string()
}

impl KeyringFile {
    /// Loads the keyring for reading.
    pub fn load(&self) -> Result<LoadedKeyring, StoreError> {
        self.load_inner(None)
    }

    /// Takes the keyring's lock (`<file>.lock`), then loads it, for a read-modify-write.
    pub fn load_for_update(&self) -> Result<LoadedKeyring, StoreError> {
        let lock_path = suffixed(&self.path, ".lock");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| StoreError::io(&display(&lock_path), &e))?;
        lock.lock()
            .map_err(|e| StoreError::io(&display(&lock_path), &e))?;
        self.load_inner(Some(lock))
    }

    fn load_inner(&self, lock: Option<File>) -> Result<LoadedKeyring, StoreError> {
        let text = zeroize::Zeroizing::new(
            std::fs::read_to_string(&self.path)
                .map_err(|e| StoreError::io(&display(&self.path), &e))?,
        );
        let cleartext = Keyring::file_is_cleartext(&text);
        let options = KeyringFileOptions {
            master: self.master.as_ref(),
            cleartext: self.cleartext,
            expect: self.read_state()?,
        };
        let keyring = Keyring::from_json(&text, &options)?;
        let mut warnings = Vec::new();
        // Trust on first use: the first load records what this keyring is; later loads
        // refuse another keyring or an older file. A read-only folder only loses that.
        if options.expect.is_none()
            && let Err(e) = write_state(&self.state_path(), &keyring)
        {
            warnings.push(format!("the keyring state could not be recorded: {e}"));
        }
        if cleartext {
            warnings.push(format!(
                "{} is an INSECURE cleartext keyring (--insecure-cleartext)",
                display(&self.path)
            ));
        }
        Ok(LoadedKeyring {
            keyring,
            warnings,
            file: self.clone(),
            cleartext,
            _lock: lock,
        })
    }

    /// Where the state is kept.
    pub fn state_path(&self) -> PathBuf {
        self.state_path
            .clone()
            .unwrap_or_else(|| default_state_path(&self.path))
    }

    /// The recorded expectation; none when no state file exists yet.
    fn read_state(&self) -> Result<Option<ExpectedKeyring>, StoreError> {
        let path = self.state_path();
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(StoreError::io(&display(&path), &e)),
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
}

/// The keyring state file's content.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyringState {
    version: u32,
    keyring_id: String,
    min_generation: u64,
}

fn state_error(path: &Path, why: &str) -> StoreError {
    StoreError::new(
        crmguard_core::codes::KEYRING_MALFORMED,
        format!("keyring state {}: {why}", display(path)),
    )
}

fn suffixed(p: &Path, suffix: &str) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// `<keyring>.state`, where a keyring's state is kept unless placed elsewhere.
pub fn default_state_path(keyring: &Path) -> PathBuf {
    suffixed(keyring, ".state")
}

/// Records `keyring`'s identity and generation at `path`.
pub fn write_state(path: &Path, keyring: &Keyring) -> Result<(), StoreError> {
    let expected = keyring.expectation();
    let state = KeyringState {
        version: 1,
        keyring_id: expected.id.to_hex(),
        min_generation: expected.min_generation,
    };
    let text = serde_json::to_string(&state)
        .map_err(|e| StoreError::new(crate::error::IO, format!("keyring state: {e}")))?;
    write_atomically(path, format!("{text}\n").as_bytes(), Replace::Allow)
}

impl LoadedKeyring {
    /// The master key the keyring was unlocked with (none for a cleartext keyring).
    pub fn master(&self) -> Option<&Key256> {
        self.file.master.as_ref()
    }

    /// Writes the keyring back in the protection it was read with, then its state.
    pub fn save(&self) -> Result<(), StoreError> {
        let text = if self.cleartext {
            self.keyring.to_cleartext_json()
        } else {
            let master = self.file.master.as_ref().ok_or_else(|| {
                StoreError::new(
                    crmguard_core::codes::KEYRING_MASTER_KEY,
                    "a master key is required to write the keyring",
                )
            })?;
            zeroize::Zeroizing::new(self.keyring.to_protected_json(master, &mut SystemEntropy)?)
        };
        write_atomically(&self.file.path, text.as_bytes(), Replace::Allow)?;
        // After the file: a crash in between leaves an older expectation, which the new
        // file still meets.
        write_state(&self.file.state_path(), &self.keyring)
    }
}

/// Writes `bytes` to `path` crash-safely and race-free ([`crate::files`]); with
/// [`Replace::Refuse`], fails if `path` exists (atomically: no check-then-rename window).
pub fn write_atomically(path: &Path, bytes: &[u8], replace: Replace) -> Result<(), StoreError> {
    write_file(path, bytes, replace).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists && replace == Replace::Refuse {
            StoreError::new(
                crate::error::IO,
                format!("{} already exists; refusing to overwrite", display(path)),
            )
        } else {
            StoreError::io(&display(path), &e)
        }
    })
}
