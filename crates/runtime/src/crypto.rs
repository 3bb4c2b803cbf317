//! The crypto component (world `crmguard:guard/crypto`): the only component linked to key
//! material, one instance per tenant session, in its own store.

use std::collections::BTreeMap;
use std::sync::Arc;

use crmguard_core::TenantId;
use wasmtime::Store;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use zeroize::Zeroizing;

use crmguard_core::request::FieldSealer;
use crmguard_core::{ContentType, SealedField, plaintext_to_value, value_to_plaintext};
use serde_json::Value;

use super::bindings::crypto::{self, Crypto, CryptoPre};
use super::bindings::plugin::crmguard::guard::types;
use super::error::{self, PluginError};
use super::sandbox::{self, Limits, SandboxClock, Sandboxed};
use super::shared::{Shared, classify, guard_code};

/// Where the crypto component gets key material: each tenant's own keyring in its cleartext
/// file form. Only the crypto component's store is linked to it, and a session asks only for
/// the tenant of its request.
pub trait KeySource: Send + Sync {
    /// The keyring of `tenant`; a tenant it does not serve is refused (`ERR_PLUGIN_TENANT`).
    fn keyring(&self, tenant: &TenantId) -> Result<Zeroizing<String>, PluginError>;
}

/// A [`KeySource`] holding one keyring per tenant, and nothing for any other tenant.
#[derive(Default)]
pub struct TenantKeyrings {
    by_tenant: BTreeMap<TenantId, Zeroizing<String>>,
}

impl TenantKeyrings {
    /// Serves no tenant yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Serves `cleartext_keyring` (a keyring file in cleartext form) to `tenant` only.
    pub fn with(mut self, tenant: TenantId, cleartext_keyring: Zeroizing<String>) -> Self {
        self.by_tenant.insert(tenant, cleartext_keyring);
        self
    }
}

impl core::fmt::Debug for TenantKeyrings {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TenantKeyrings")
            .field("tenants", &self.by_tenant.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl KeySource for TenantKeyrings {
    fn keyring(&self, tenant: &TenantId) -> Result<Zeroizing<String>, PluginError> {
        self.by_tenant.get(tenant).cloned().ok_or_else(|| {
            PluginError::new(
                error::TENANT,
                format!("no keyring is served for tenant {tenant}"),
            )
        })
    }
}

/// The loaded crypto component with its key source.
#[derive(Clone)]
pub struct CryptoComponent {
    pub(crate) pre: CryptoPre<CryptoState>,
    pub(crate) keys: Arc<dyn KeySource>,
    pub(crate) shared: Arc<Shared>,
}

/// No keys at all: for `verify`, which never runs the component.
pub(crate) struct NoKeys;

impl KeySource for NoKeys {
    fn keyring(&self, _tenant: &TenantId) -> Result<Zeroizing<String>, PluginError> {
        Err(PluginError::new(error::TENANT, "no keys are loaded"))
    }
}

/// The crypto component's store data: its sandbox and the one tenant it may get keys for.
pub(crate) struct CryptoState {
    pub(crate) wasi: WasiCtx,
    pub(crate) table: ResourceTable,
    pub(crate) clock: SandboxClock,
    pub(crate) limits: Limits,
    pub(crate) keys: Arc<dyn KeySource>,
    pub(crate) tenant: TenantId,
}

impl Sandboxed for CryptoState {
    fn clock(&mut self) -> &mut SandboxClock {
        &mut self.clock
    }
}

impl WasiView for CryptoState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl types::Host for CryptoState {}

impl crypto::crmguard::guard::keystore::Host for CryptoState {
    fn keyring(&mut self, tenant: String) -> wasmtime::Result<Result<String, types::GuardError>> {
        if tenant != self.tenant.as_str() {
            return Ok(Err(error::guard(
                error::TENANT,
                "keys are served for the request's tenant only",
            )));
        }
        Ok(match self.keys.keyring(&self.tenant) {
            Ok(text) => Ok(text.to_string()),
            Err(e) => Err(e.to_guard()),
        })
    }
}

/// A crypto component instance serving one tenant, in its own store.
pub struct CryptoSession {
    pub(crate) store: Store<CryptoState>,
    pub(crate) bindings: Crypto,
    pub(crate) ticks: u64,
}

type CryptoError = types::GuardError;

impl CryptoComponent {
    /// The same component linked to other keys.
    pub fn with_keys(&self, keys: Arc<dyn KeySource>) -> Self {
        Self {
            pre: self.pre.clone(),
            keys,
            shared: Arc::clone(&self.shared),
        }
    }

    /// A fresh instance that serves `tenant` (its key source is asked for no other).
    pub fn session(&self, tenant: &TenantId) -> Result<CryptoSession, PluginError> {
        let shared = &self.shared;
        let state = CryptoState {
            wasi: sandbox::wasi_ctx(false),
            table: ResourceTable::new(),
            clock: SandboxClock::new(false),
            limits: shared.limits(),
            keys: Arc::clone(&self.keys),
            tenant: tenant.clone(),
        };
        let mut store = Store::new(&shared.engine, state);
        store.limiter(|s| &mut s.limits);
        store.set_epoch_deadline(shared.ticks);
        let bindings = self
            .pre
            .instantiate(&mut store)
            .map_err(|e| classify(&e, false, shared))?;
        Ok(CryptoSession {
            store,
            bindings,
            ticks: shared.ticks,
        })
    }
}

fn crypto_ctx(c: &crmguard_core::FieldContext) -> types::FieldContext {
    types::FieldContext {
        tenant: c.tenant.to_string(),
        object: c.object.to_string(),
        record: c.record.to_string(),
        field: c.field.to_string(),
        subject: c.subject.as_ref().map(ToString::to_string),
    }
}

fn guard_failure(e: CryptoError) -> PluginError {
    PluginError::new(guard_code(&e.code), e.message)
}

/// The key a context seals under: the subject's when it names one, the keyring's otherwise.
fn key_of(ctx: &crmguard_core::FieldContext) -> types::KeyScope {
    if ctx.subject.is_some() {
        types::KeyScope::Subject
    } else {
        types::KeyScope::Keyring
    }
}

impl CryptoSession {
    /// Seals bytes for `ctx` (under the subject's key when `ctx` names a subject), through
    /// the component; returns the `cg1:` text form.
    pub fn seal(
        &mut self,
        ctx: &crmguard_core::FieldContext,
        plaintext: &[u8],
    ) -> Result<String, PluginError> {
        self.seal_as(ctx, plaintext, ContentType::Bytes)
    }

    fn seal_as(
        &mut self,
        ctx: &crmguard_core::FieldContext,
        plaintext: &[u8],
        content: ContentType,
    ) -> Result<String, PluginError> {
        self.store.set_epoch_deadline(self.ticks);
        let content = match content {
            ContentType::Bytes => types::ContentType::Bytes,
            ContentType::Json => types::ContentType::Json,
        };
        let r = self.bindings.crmguard_guard_fields().call_seal(
            &mut self.store,
            &crypto_ctx(ctx),
            plaintext,
            content,
            key_of(ctx),
        );
        self.finish(r)?.map_err(guard_failure)
    }

    /// Opens a `cg1:` text form for `ctx`, through the component.
    pub fn open(
        &mut self,
        ctx: &crmguard_core::FieldContext,
        sealed: &str,
    ) -> Result<Vec<u8>, PluginError> {
        self.store.set_epoch_deadline(self.ticks);
        let r = self.bindings.crmguard_guard_fields().call_open(
            &mut self.store,
            &crypto_ctx(ctx),
            sealed,
        );
        Ok(self.finish(r)?.map_err(guard_failure)?.plaintext)
    }

    fn finish<T>(&self, r: wasmtime::Result<T>) -> Result<T, PluginError> {
        r.map_err(|e| {
            let data = self.store.data();
            PluginError::new(
                if data.limits.exceeded {
                    error::MEMORY
                } else {
                    error::TRAP
                },
                format!("the crypto component failed: {e}"),
            )
        })
    }
}

/// A failure of the component as core's error, for [`FieldSealer`]: core's own code when it
/// is one (the component runs core), `ERR_DECISION_SEALER` naming the host's code otherwise.
fn core_error(e: PluginError) -> crmguard_core::Error {
    crmguard_core::Error::relayed(e.code, e.message)
}

/// The crypto component as core's [`FieldSealer`]: a session started on first use for the
/// tenant of the first context it is given, and refused for any other tenant. The rendering
/// step of core's pipeline opens and seals through it, so values render exactly as they do
/// natively while keys stay in the component.
pub struct CryptoSealer<'a> {
    component: &'a CryptoComponent,
    session: Option<(TenantId, CryptoSession)>,
}

impl<'a> CryptoSealer<'a> {
    /// Seals and opens through `component`.
    pub fn new(component: &'a CryptoComponent) -> Self {
        Self {
            component,
            session: None,
        }
    }

    fn session(&mut self, tenant: &TenantId) -> Result<&mut CryptoSession, crmguard_core::Error> {
        if self.session.is_none() {
            let s = self.component.session(tenant).map_err(core_error)?;
            self.session = Some((tenant.clone(), s));
        }
        match &mut self.session {
            Some((t, s)) if t == tenant => Ok(s),
            _ => Err(core_error(PluginError::new(
                error::TENANT,
                "a sealer serves one tenant",
            ))),
        }
    }
}

impl core::fmt::Debug for CryptoSealer<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("CryptoSealer(..)")
    }
}

impl FieldSealer for CryptoSealer<'_> {
    fn open(
        &mut self,
        ctx: &crmguard_core::FieldContext,
        sealed: &SealedField,
    ) -> Result<Value, crmguard_core::Error> {
        let plain = self
            .session(&ctx.tenant)?
            .open(ctx, &sealed.to_text())
            .map_err(core_error)?;
        plaintext_to_value(sealed.content_type(), plain)
    }

    fn seal(
        &mut self,
        ctx: &crmguard_core::FieldContext,
        value: &Value,
    ) -> Result<SealedField, crmguard_core::Error> {
        let (content, plain) = value_to_plaintext(value);
        let text = self
            .session(&ctx.tenant)?
            .seal_as(ctx, &plain, content)
            .map_err(core_error)?;
        SealedField::from_text(&text).map_err(Into::into)
    }
}
