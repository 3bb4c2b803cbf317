//! The tenants' keyrings while the service runs: read by every request from a snapshot, and
//! changed (a data subject's key created on the write path, or erased) one change at a time,
//! each written to the keyring file (locked, atomically, its `.state` advanced) before the
//! new snapshot is used. A change that cannot be written is not made.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, RwLock};

use crmguard_core::{Keyring, SystemEntropy, TenantId};
use crmguard_runtime::{KeySource, PluginError};
use crmguard_store::keyring_file::KeyringFile;
use zeroize::Zeroizing;

use crate::failure::Failure;

/// The keyrings as one request sees them.
pub(crate) struct Snapshot {
    pub(crate) keyrings: BTreeMap<TenantId, Arc<Keyring>>,
    /// Each keyring's cleartext file form, for the plugins' crypto component.
    cleartext: BTreeMap<TenantId, Zeroizing<String>>,
}

/// Every served tenant's keyring and its file.
pub(crate) struct Keyrings {
    current: RwLock<Arc<Snapshot>>,
    files: BTreeMap<TenantId, KeyringFile>,
    change: Mutex<()>,
}

impl Keyrings {
    /// The loaded keyrings and the files they came from.
    pub(crate) fn new(loaded: BTreeMap<TenantId, (Keyring, KeyringFile)>) -> Self {
        let mut keyrings = BTreeMap::new();
        let mut cleartext = BTreeMap::new();
        let mut files = BTreeMap::new();
        for (tenant, (keyring, file)) in loaded {
            cleartext.insert(tenant.clone(), keyring.to_cleartext_json());
            keyrings.insert(tenant.clone(), Arc::new(keyring));
            files.insert(tenant, file);
        }
        Self {
            current: RwLock::new(Arc::new(Snapshot {
                keyrings,
                cleartext,
            })),
            files,
            change: Mutex::new(()),
        }
    }

    /// The keyrings now (a change made later is not in it).
    pub(crate) fn snapshot(&self) -> Arc<Snapshot> {
        self.current
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
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
        let now = self.snapshot();
        let mut next = Snapshot {
            keyrings: now.keyrings.clone(),
            cleartext: now.cleartext.clone(),
        };
        next.cleartext
            .insert(tenant.clone(), loaded.keyring.to_cleartext_json());
        next.keyrings
            .insert(tenant.clone(), Arc::new(loaded.keyring));
        *self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(next);
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
        let now = self.snapshot();
        let mut next = Snapshot {
            keyrings: now.keyrings.clone(),
            cleartext: now.cleartext.clone(),
        };
        let (mut reloaded, mut refused) = (0, Vec::new());
        for (tenant, file) in &self.files {
            match file.load() {
                Ok(loaded) => {
                    next.cleartext
                        .insert(tenant.clone(), loaded.keyring.to_cleartext_json());
                    next.keyrings
                        .insert(tenant.clone(), Arc::new(loaded.keyring));
                    reloaded += 1;
                }
                Err(e) => refused.push(format!("{tenant}: {e}")),
            }
        }
        *self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(next);
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
            .snapshot()
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
            .snapshot()
            .cleartext
            .get(tenant)
            .cloned()
            .ok_or_else(|| PluginError {
                code: crmguard_runtime::codes::TENANT,
                message: format!("no keyring is served for tenant {tenant}"),
            })
    }
}
