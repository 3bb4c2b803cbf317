//! Crash-safe, race-free file replacement for key files, keyrings, audit heads and cached
//! artifacts.
//!
//! The bytes go to a fresh temporary file beside the target, created exclusively
//! (`O_CREAT | O_EXCL`, which never follows a link at that name) with mode 0600 and an
//! unguessable name, then synced and moved into place: with [`Replace::Allow`] by `rename`
//! (atomic replacement), with [`Replace::Refuse`] by `link` (atomic, and fails when the target
//! exists, so there is no check-then-rename window). A crash leaves the old file or the new
//! one, never a torn one; a planted file or link at the temporary name makes the write fail
//! instead of writing through it.

use std::fs::{File, OpenOptions};
use std::hash::{BuildHasher, RandomState};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Whether the write may replace an existing file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Replace {
    /// Replace it atomically.
    Allow,
    /// Fail with `AlreadyExists` if it exists.
    Refuse,
}

/// How many fresh temporary names are tried before giving up.
const ATTEMPTS: usize = 8;

/// Writes `bytes` to `path` (mode 0600 when created) as the module describes.
pub fn write_file(path: &Path, bytes: &[u8], replace: Replace) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let (tmp, mut file) = create_temporary(&dir, path)?;
    let result = (|| {
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        match replace {
            Replace::Allow => std::fs::rename(&tmp, path)?,
            Replace::Refuse => {
                std::fs::hard_link(&tmp, path)?;
                std::fs::remove_file(&tmp)?;
            }
        }
        if let Ok(d) = File::open(&dir) {
            d.sync_all()?;
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Replaces `path` with `bytes` ([`write_file`] with [`Replace::Allow`]).
pub fn replace_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_file(path, bytes, Replace::Allow)
}

fn create_temporary(dir: &Path, path: &Path) -> io::Result<(PathBuf, File)> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut last = io::Error::new(io::ErrorKind::AlreadyExists, "no free temporary name");
    for attempt in 0..ATTEMPTS {
        // RandomState is seeded per process from the OS; the name only has to be hard to
        // pre-create, since exclusive creation already refuses whatever is there.
        let salt = RandomState::new().hash_one((std::process::id(), attempt));
        let tmp = dir.join(format!(".{name}.tmp-{salt:016x}"));
        let mut opts = OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        match opts.open(&tmp) {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = e,
            Err(e) => return Err(e),
        }
    }
    Err(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuse_never_overwrites_and_allow_replaces() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("key.json");
        write_file(&p, b"one", Replace::Refuse).unwrap();
        let e = write_file(&p, b"two", Replace::Refuse).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&p).unwrap(), b"one");
        write_file(&p, b"three", Replace::Allow).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"three");
        // No temporary file is left behind.
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn files_are_private_and_links_are_not_written_through() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("k");
        write_file(&p, b"secret", Replace::Refuse).unwrap();
        let mode = std::fs::metadata(&p).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        // A link planted at the target: Refuse fails and the link's target is untouched.
        let victim = tmp.path().join("victim");
        std::fs::write(&victim, b"intact").unwrap();
        let planted = tmp.path().join("planted");
        std::os::unix::fs::symlink(&victim, &planted).unwrap();
        assert!(write_file(&planted, b"evil", Replace::Refuse).is_err());
        assert_eq!(std::fs::read(&victim).unwrap(), b"intact");
        // The temporary name the first version used (`.<name>.tmp-<pid>`), planted as a link:
        // opened with create + truncate, the keyring went through it into the victim.
        let old_name = tmp.path().join(format!(".k2.tmp-{}", std::process::id()));
        std::os::unix::fs::symlink(&victim, &old_name).unwrap();
        write_file(&tmp.path().join("k2"), b"evil", Replace::Allow).unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"intact");
        // Allow replaces the link itself, never the file it points to.
        write_file(&planted, b"new", Replace::Allow).unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"intact");
        assert!(!std::fs::symlink_metadata(&planted).unwrap().is_symlink());
    }
}
