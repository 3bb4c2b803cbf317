//! The tenants' keyrings while the service runs: read by every request from a snapshot, and
//! changed (a data subject's key created on the write path, or erased) one change at a time,
//! each written to the keyring file (locked, atomically, its `.state` advanced) before the
//! new snapshot is used. A change that cannot be written is not made.
//!
//! Replicas may share the keyring files (one data folder, or a shared `keyrings/`): each use
//! of a tenant's keyring first compares the file with the one its keyring was loaded from
//! (one `stat`) and loads it again if another process changed it. So a subject erased by one
//! replica no longer opens on any other from its next request on, and a subject key created
//! by one is found by all. A changed file that does not load (rolled back, substituted) is
//! refused once and the tenant keeps the keyring it had, as on SIGHUP.

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};

use crmguard_core::request::{FieldSealer, TenantKeyringsSealer};
use crmguard_core::{FieldContext, Keyring, SealedField, SystemEntropy, TenantId};
use crmguard_runtime::{KeySource, PluginError};
use crmguard_store::keyring_file::KeyringFile;
use zeroize::Zeroizing;

use crate::failure::Failure;

/// Which file a keyring was read from: a save replaces the file (a new inode), an edit in
/// place changes its size or modification time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Stamp {
    dev: u64,
    ino: u64,
    len: u64,
    mtime: i64,
    mtime_nsec: i64,
}

impl Stamp {
    /// The file at `path` now (`None`: it cannot be read).
    pub(crate) fn of(path: &Path) -> Option<Self> {
        std::fs::metadata(path).ok().map(|m| Self {
            dev: m.dev(),
            ino: m.ino(),
            len: m.len(),
            mtime: m.mtime(),
            mtime_nsec: m.mtime_nsec(),
        })
    }
}

/// The keyrings as one request sees them.
pub(crate) struct Snapshot {
    pub(crate) keyrings: BTreeMap<TenantId, Arc<Keyring>>,
    /// Each keyring's cleartext file form, for the plugins' crypto component.
    cleartext: BTreeMap<TenantId, Zeroizing<String>>,
    /// The file each keyring was read from.
    stamps: BTreeMap<TenantId, Option<Stamp>>,
}

impl Snapshot {
    fn copy(&self) -> Self {
        Self {
            keyrings: self.keyrings.clone(),
            cleartext: self.cleartext.clone(),
            stamps: self.stamps.clone(),
        }
    }

    fn set(&mut self, tenant: &TenantId, keyring: Keyring, stamp: Option<Stamp>) {
        self.cleartext
            .insert(tenant.clone(), keyring.to_cleartext_json());
        self.keyrings.insert(tenant.clone(), Arc::new(keyring));
        self.stamps.insert(tenant.clone(), stamp);
    }

    fn with(&self, tenant: &TenantId, keyring: Keyring, stamp: Option<Stamp>) -> Self {
        let mut next = self.copy();
        next.set(tenant, keyring, stamp);
        next
    }
}

/// Every served tenant's keyring and its file.
pub(crate) struct Keyrings {
    current: RwLock<Arc<Snapshot>>,
    files: BTreeMap<TenantId, KeyringFile>,
    /// Changed files that did not load, so each is refused (and reported) once.
    refused: Mutex<BTreeMap<TenantId, Option<Stamp>>>,
    change: Mutex<()>,
}

/// A keyring as loaded at start: the keyring, its file, and the file's stamp taken before
/// it was read.
pub(crate) type Loaded = (Keyring, KeyringFile, Option<Stamp>);

impl Keyrings {
    /// The loaded keyrings and the files they came from.
    pub(crate) fn new(loaded: BTreeMap<TenantId, Loaded>) -> Self {
        let mut keyrings = BTreeMap::new();
        let mut cleartext = BTreeMap::new();
        let mut stamps = BTreeMap::new();
        let mut files = BTreeMap::new();
        for (tenant, (keyring, file, stamp)) in loaded {
            cleartext.insert(tenant.clone(), keyring.to_cleartext_json());
            keyrings.insert(tenant.clone(), Arc::new(keyring));
            stamps.insert(tenant.clone(), stamp);
            files.insert(tenant, file);
        }
        Self {
            current: RwLock::new(Arc::new(Snapshot {
                keyrings,
                cleartext,
                stamps,
            })),
            files,
            refused: Mutex::new(BTreeMap::new()),
            change: Mutex::new(()),
        }
    }

    /// Whether `tenant` is served here.
    pub(crate) fn serves(&self, tenant: &TenantId) -> bool {
        self.files.contains_key(tenant)
    }

    /// How many tenants are served.
    pub(crate) fn len(&self) -> usize {
        self.files.len()
    }

    /// The keyrings now (a change made later is not in it), without looking at the files.
    pub(crate) fn snapshot(&self) -> Arc<Snapshot> {
        self.current
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn install(&self, next: Snapshot) {
        *self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(next);
    }

    /// The keyrings with `tenant`'s as its file is now: loaded again first if another
    /// process (a replica, `crmguard keys rotate`, `crmguard forget`) changed the file.
    pub(crate) fn fresh(&self, tenant: &TenantId) -> Arc<Snapshot> {
        let now = self.snapshot();
        let Some(file) = self.files.get(tenant) else {
            return now;
        };
        let on_disk = Stamp::of(&file.path);
        if on_disk.is_none() || now.stamps.get(tenant) == Some(&on_disk) {
            return now;
        }
        let _one_at_a_time = self
            .change
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = self.snapshot();
        let mut refused = self
            .refused
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if now.stamps.get(tenant) == Some(&on_disk) || refused.get(tenant) == Some(&on_disk) {
            return now;
        }
        match file.load() {
            Ok(loaded) => {
                refused.remove(tenant);
                self.install(now.with(tenant, loaded.keyring, on_disk));
                self.snapshot()
            }
            Err(e) => {
                eprintln!(
                    "crmguard serve: {} changed but was refused; tenant {tenant} keeps the \
                     keyring it had: {e}",
                    file.path.display()
                );
                refused.insert(tenant.clone(), on_disk);
                now
            }
        }
    }

    /// Applies `f` to `tenant`'s keyring as it is on disk (read under the file's lock), writes
    /// the result back and only then serves it. `f`'s error, or a failed write, changes
    /// nothing.
    pub(crate) fn change<T>(
        &self,
        tenant: &TenantId,
        f: impl FnOnce(&mut Keyring) -> Result<T, crmguard_core::Error>,
    ) -> Result<T, Failure> {
        let _one_at_a_time = self
            .change
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let file = self.files.get(tenant).ok_or_else(|| {
            Failure::from(crmguard_core::Error::from(
                crmguard_core::RequestError::UnknownTenant,
            ))
        })?;
        let mut loaded = file.load_for_update()?;
        let out = f(&mut loaded.keyring)?;
        loaded.save()?;
        // Still under the file's lock: this stamp is the file just written.
        let stamp = Stamp::of(&file.path);
        self.install(self.snapshot().with(tenant, loaded.keyring, stamp));
        Ok(out)
    }

    /// Reads every keyring file again (each checked against its `.state`: an older or
    /// substituted file is refused) and serves them; a tenant whose file does not load keeps
    /// the keyring it had. For a keyring rotated with `crmguard keys rotate` while the service
    /// runs. Returns the tenants reloaded and the refusals.
    pub(crate) fn reload(&self) -> (usize, Vec<String>) {
        let _one_at_a_time = self
            .change
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut next = self.snapshot().copy();
        let (mut reloaded, mut refused) = (0, Vec::new());
        for (tenant, file) in &self.files {
            let stamp = Stamp::of(&file.path);
            match file.load() {
                Ok(loaded) => {
                    next.set(tenant, loaded.keyring, stamp);
                    reloaded += 1;
                }
                Err(e) => refused.push(format!("{tenant}: {e}")),
            }
        }
        self.install(next);
        (reloaded, refused)
    }

    /// Creates `subject`'s key in `tenant`'s keyring if it has none (refused for a forgotten
    /// subject: erasure is final). Whether one was created.
    pub(crate) fn provision_subject(
        &self,
        tenant: &TenantId,
        subject: &crmguard_core::SubjectId,
    ) -> Result<bool, Failure> {
        if self
            .fresh(tenant)
            .keyrings
            .get(tenant)
            .is_some_and(|k| k.has_subject(subject))
        {
            return Ok(false);
        }
        self.change(tenant, |k| {
            k.add_subject(subject, &mut SystemEntropy, crate::keystore::now())
        })
    }
}

/// The keyrings as the plugins' crypto component gets them: the tenant's own, as of now.
pub(crate) struct SnapshotKeys(pub(crate) Arc<Keyrings>);

impl KeySource for SnapshotKeys {
    fn keyring(&self, tenant: &TenantId) -> Result<Zeroizing<String>, PluginError> {
        self.0
            .fresh(tenant)
            .cleartext
            .get(tenant)
            .cloned()
            .ok_or_else(|| PluginError {
                code: crmguard_runtime::codes::TENANT,
                message: format!("no keyring is served for tenant {tenant}"),
            })
    }
}

/// One request's [`FieldSealer`]: the bound tenant's keyring, fresh from its file at first
/// use and then the same keyring for the rest of the request.
pub(crate) struct RequestSealer<'a> {
    keyrings: &'a Keyrings,
    held: Option<(TenantId, Arc<Snapshot>)>,
}

impl<'a> RequestSealer<'a> {
    pub(crate) fn new(keyrings: &'a Keyrings) -> Self {
        Self {
            keyrings,
            held: None,
        }
    }

    fn snapshot(&mut self, tenant: &TenantId) -> Arc<Snapshot> {
        match &self.held {
            Some((t, s)) if t == tenant => s.clone(),
            _ => {
                let s = self.keyrings.fresh(tenant);
                self.held = Some((tenant.clone(), s.clone()));
                s
            }
        }
    }
}

impl FieldSealer for RequestSealer<'_> {
    fn open(
        &mut self,
        ctx: &FieldContext,
        sealed: &SealedField,
    ) -> Result<serde_json::Value, crmguard_core::Error> {
        let s = self.snapshot(&ctx.tenant);
        TenantKeyringsSealer::new(&s.keyrings, SystemEntropy).open(ctx, sealed)
    }

    fn seal(
        &mut self,
        ctx: &FieldContext,
        value: &serde_json::Value,
    ) -> Result<SealedField, crmguard_core::Error> {
        let s = self.snapshot(&ctx.tenant);
        TenantKeyringsSealer::new(&s.keyrings, SystemEntropy).seal(ctx, value)
    }
}
