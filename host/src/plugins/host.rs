//! The plugin host: one engine with the pooling allocator and epoch interruption, linkers
//! built once, components pre-instantiated at load, and a fresh store and instance per
//! request.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use crmguard_core::TenantId;
use crmguard_core::request::{Decider, DeciderFailure, Proposal, decide_bound};
use wasmtime::component::{Component, HasSelf, Linker, ResourceTable};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, Trap};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use zeroize::Zeroizing;

use super::bindings::audit::AuditBuilderPre;
use super::bindings::crypto::exports::crmguard::guard::fields as crypto_fields;
use super::bindings::crypto::{self, Crypto, CryptoPre};
use super::bindings::plugin::crmguard::guard::{fields, logging, types};
use super::bindings::plugin::{PolicyPlugin, PolicyPluginPre};
use super::bindings::tokens::TokenVerifierPre;
use super::cache::{self, ArtifactCache};
use super::error::{self, PluginError};
use super::manifest::{Capability, Manifest, World};
use super::request::{self, AccessRequest, LogLine, Outcome};
use super::sandbox::{self, LimitExceeded, Limits, Refused, SandboxClock, Sandboxed};
use super::scope::{Call, Scope};
use super::services::{
    AuditComponent, AuditSession, PureState, Services, TokensComponent, TokensSession,
};

/// The epoch ticker's period: deadlines are counted in these ticks.
const TICK: Duration = Duration::from_millis(1);

/// Limits and options of a [`PluginHost`]. The defaults are the sandbox's documented bounds.
#[derive(Debug, Clone)]
pub struct HostConfig {
    /// CPU time per call (instantiation included), rounded up to whole milliseconds.
    /// Default 10 ms.
    pub deadline: Duration,
    /// Linear memory per instance. Default 16 MiB.
    pub memory_bytes: usize,
    /// Elements per table. Default 20 000.
    pub table_elements: usize,
    /// Requests in flight at once (pool slots). Default 32.
    pub max_concurrent: u32,
    /// Where precompiled artifacts are cached, and the key that authenticates them (none:
    /// compile at every load). An artifact without a valid tag is never loaded.
    pub cache: Option<ArtifactCache>,
    /// Log lines kept per request. Default 64.
    pub max_log_lines: usize,
}

impl Default for HostConfig {
    fn default() -> Self {
        Self {
            deadline: Duration::from_millis(10),
            memory_bytes: 16 << 20,
            table_elements: 20_000,
            max_concurrent: 32,
            cache: None,
            max_log_lines: 64,
        }
    }
}

/// The longest log line kept, in bytes.
const MAX_LOG_LINE: usize = 1024;

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

/// Advances the engine's epoch every [`TICK`] until dropped.
struct Ticker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Ticker {
    fn start(engine: Engine) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("crmguard-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(TICK);
                    engine.increment_epoch();
                }
            })
            .ok();
        Self { stop, thread }
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// What every store needs: the engine, the bounds, and the ticker that enforces deadlines
/// (kept alive by every loaded component).
pub(crate) struct Shared {
    pub(crate) engine: Engine,
    pub(crate) config: HostConfig,
    pub(crate) ticks: u64,
    _ticker: Ticker,
}

impl Shared {
    pub(crate) fn limits(&self) -> Limits {
        Limits::new(self.config.memory_bytes, self.config.table_elements)
    }
}

/// The plugin host. Cheap to share across threads; `decide` takes `&self`.
pub struct PluginHost {
    shared: Arc<Shared>,
    plugin_linker: Linker<PluginState>,
    crypto_linker: Linker<CryptoState>,
    pure_linker: Linker<PureState>,
}

/// A loaded, verified, pre-instantiated policy plugin.
#[derive(Clone)]
pub struct Plugin {
    pre: PolicyPluginPre<PluginState>,
    manifest: Manifest,
    shared: Arc<Shared>,
}

impl Plugin {
    /// Its manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }
}

/// The loaded crypto component with its key source.
#[derive(Clone)]
pub struct CryptoComponent {
    pre: CryptoPre<CryptoState>,
    keys: Arc<dyn KeySource>,
    shared: Arc<Shared>,
}

fn engine_error(e: wasmtime::Error) -> PluginError {
    PluginError::new(error::ENGINE, format!("{e}"))
}

impl PluginHost {
    /// A host with `config`'s bounds.
    pub fn new(config: HostConfig) -> Result<Self, PluginError> {
        let slots = config.max_concurrent.max(1);
        let mut pool = PoolingAllocationConfig::new();
        // Each request holds a plugin instance and at most one each of the crypto, tokens
        // and audit components.
        pool.total_component_instances(slots * 4)
            .max_core_instances_per_component(16)
            .total_core_instances(slots * 4 * 16)
            .max_memories_per_component(4)
            .total_memories(slots * 4 * 2)
            .max_tables_per_component(16)
            .total_tables(slots * 4 * 16)
            .max_memory_size(config.memory_bytes)
            .table_elements(config.table_elements);
        let mut c = Config::new();
        c.epoch_interruption(true)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool))
            .max_wasm_stack(512 << 10)
            // Reserve only what a memory may use: bounds checks are explicit, and the pool
            // costs megabytes of address space per slot rather than gigabytes.
            .memory_reservation(config.memory_bytes as u64)
            .memory_guard_size(64 << 10);
        let engine = Engine::new(&c).map_err(engine_error)?;

        let mut plugin_linker = Linker::new(&engine);
        sandbox::add_wasi_to_linker(&mut plugin_linker).map_err(engine_error)?;
        PolicyPlugin::add_to_linker::<_, HasSelf<_>>(&mut plugin_linker, |s| s)
            .map_err(engine_error)?;
        let mut crypto_linker = Linker::new(&engine);
        sandbox::add_wasi_to_linker(&mut crypto_linker).map_err(engine_error)?;
        Crypto::add_to_linker::<_, HasSelf<_>>(&mut crypto_linker, |s| s).map_err(engine_error)?;
        // The tokens and audit components import WASI (Rust's std's subset) and the shared
        // types only.
        let mut pure_linker = Linker::new(&engine);
        sandbox::add_wasi_to_linker(&mut pure_linker).map_err(engine_error)?;

        let ticks = config.deadline.as_millis().max(1) as u64;
        let shared = Arc::new(Shared {
            _ticker: Ticker::start(engine.clone()),
            engine,
            config,
            ticks,
        });
        Ok(Self {
            shared,
            plugin_linker,
            crypto_linker,
            pure_linker,
        })
    }

    /// The host's bounds.
    pub fn config(&self) -> &HostConfig {
        &self.shared.config
    }

    /// Reads, verifies (digest, then world: exports and imports) and compiles (or loads
    /// from the cache) the manifest's component.
    fn component(&self, m: &Manifest, expected: World) -> Result<Component, PluginError> {
        if m.world != expected {
            return Err(PluginError::new(
                error::WORLD,
                format!(
                    "{} is declared for world {}, not {}",
                    m.name,
                    m.world.as_str(),
                    expected.as_str()
                ),
            ));
        }
        let bytes = m.read_verified()?;
        let component = cache::component(
            &self.shared.engine,
            &bytes,
            &m.sha256,
            self.shared.config.cache.as_ref(),
        )?;
        let ty = component.component_type();
        let engine = &self.shared.engine;
        let required = m.world.required_export();
        if !ty.exports(engine).any(|(name, _)| name == required) {
            let exports: Vec<&str> = ty.exports(engine).map(|(n, _)| n).collect();
            return Err(PluginError::new(
                error::WORLD,
                format!(
                    "{} does not export {required} (world {}); it exports [{}]",
                    m.name,
                    m.world.as_str(),
                    exports.join(", ")
                ),
            ));
        }
        for (name, _) in ty.imports(engine) {
            if !sandbox::wasi_import_allowed(name) && !m.world.allowed_imports().contains(&name) {
                return Err(PluginError::new(
                    error::LINK,
                    format!(
                        "{} imports {name}, which a {} component is never granted",
                        m.name,
                        m.world.as_str()
                    ),
                ));
            }
        }
        Ok(component)
    }

    /// Loads a policy plugin: digest, world and imports checked, pre-instantiated.
    pub fn load_plugin(&self, m: &Manifest) -> Result<Plugin, PluginError> {
        let component = self.component(m, World::PolicyPlugin)?;
        let pre = self
            .plugin_linker
            .instantiate_pre(&component)
            .map_err(|e| PluginError::new(error::LINK, format!("{}: {e}", m.name)))?;
        let pre = PolicyPluginPre::new(pre)
            .map_err(|e| PluginError::new(error::WORLD, format!("{}: {e}", m.name)))?;
        Ok(Plugin {
            pre,
            manifest: m.clone(),
            shared: Arc::clone(&self.shared),
        })
    }

    /// Loads the crypto component and links it to `keys`.
    pub fn load_crypto(
        &self,
        m: &Manifest,
        keys: Arc<dyn KeySource>,
    ) -> Result<CryptoComponent, PluginError> {
        let component = self.component(m, World::Crypto)?;
        let pre = self
            .crypto_linker
            .instantiate_pre(&component)
            .map_err(|e| PluginError::new(error::LINK, format!("{}: {e}", m.name)))?;
        let pre = CryptoPre::new(pre)
            .map_err(|e| PluginError::new(error::WORLD, format!("{}: {e}", m.name)))?;
        Ok(CryptoComponent {
            pre,
            keys,
            shared: Arc::clone(&self.shared),
        })
    }

    /// Loads the tokens component.
    pub fn load_tokens(&self, m: &Manifest) -> Result<TokensComponent, PluginError> {
        let component = self.component(m, World::TokenVerifier)?;
        let pre = self
            .pure_linker
            .instantiate_pre(&component)
            .map_err(|e| PluginError::new(error::LINK, format!("{}: {e}", m.name)))?;
        let pre = TokenVerifierPre::new(pre)
            .map_err(|e| PluginError::new(error::WORLD, format!("{}: {e}", m.name)))?;
        Ok(TokensComponent {
            pre,
            shared: Arc::clone(&self.shared),
        })
    }

    /// Loads the audit component.
    pub fn load_audit(&self, m: &Manifest) -> Result<AuditComponent, PluginError> {
        let component = self.component(m, World::AuditBuilder)?;
        let pre = self
            .pure_linker
            .instantiate_pre(&component)
            .map_err(|e| PluginError::new(error::LINK, format!("{}: {e}", m.name)))?;
        let pre = AuditBuilderPre::new(pre)
            .map_err(|e| PluginError::new(error::WORLD, format!("{}: {e}", m.name)))?;
        Ok(AuditComponent {
            pre,
            shared: Arc::clone(&self.shared),
        })
    }

    /// Checks a manifest's component end to end without running it.
    pub fn verify(&self, m: &Manifest) -> Result<(), PluginError> {
        match m.world {
            World::PolicyPlugin => self.load_plugin(m).map(drop),
            World::Crypto => self.load_crypto(m, Arc::new(NoKeys)).map(drop),
            World::TokenVerifier => self.load_tokens(m).map(drop),
            World::AuditBuilder => self.load_audit(m).map(drop),
        }
    }

    /// Runs `plugin` on `request` in a fresh instance, through core's decision step
    /// ([`decide_bound`]: the answer validated against the request). Never fails and never
    /// panics on anything the plugin does: a misbehaving plugin yields a deny with its reason.
    pub fn decide(&self, plugin: &Plugin, services: &Services, request: &AccessRequest) -> Outcome {
        let mut decider = PluginDecider::new(self, plugin, services);
        let decision = decide_bound(request, &mut decider);
        decider.outcome(decision)
    }

    /// One fresh instance of `plugin` answering `request`; the plugin's log lines are
    /// appended to `log`.
    fn run_instance(
        &self,
        plugin: &Plugin,
        services: &Services,
        request: &AccessRequest,
        log: &mut Vec<LogLine>,
        log_dropped: &mut u64,
    ) -> Result<Proposal, DeciderFailure> {
        let shared = &plugin.shared;
        let clocks = plugin.manifest.grants(Capability::Clocks);
        let state = PluginState {
            wasi: sandbox::wasi_ctx(clocks),
            table: ResourceTable::new(),
            clock: SandboxClock::new(clocks),
            limits: shared.limits(),
            services: services.clone(),
            scope: Scope::of(request),
            session: None,
            tokens_session: None,
            audit_session: None,
            log: Vec::new(),
            log_dropped: 0,
            max_log_lines: shared.config.max_log_lines,
        };
        let mut store = Store::new(&shared.engine, state);
        store.limiter(|s| &mut s.limits);
        store.set_epoch_deadline(shared.ticks);
        let answer = plugin.pre.instantiate(&mut store).and_then(|p| {
            p.crmguard_guard_policy()
                .call_decide(&mut store, &request::to_wit(request))
        });
        let data = store.data_mut();
        log.append(&mut data.log);
        *log_dropped += data.log_dropped;
        match answer {
            Ok(a) => Ok(request::proposal(a)),
            Err(e) => {
                let exceeded = data.any_limit_exceeded();
                Err(request::failure(&classify(&e, exceeded, shared)))
            }
        }
    }
}

/// A plugin as core's [`Decider`]: each call runs it in a fresh instance of `host`, with
/// `services` for its imports; what it logs is kept for the [`Outcome`]. Adapters hand it
/// to core's [`Pipeline`](crmguard_core::request::Pipeline).
pub struct PluginDecider<'a> {
    host: &'a PluginHost,
    plugin: &'a Plugin,
    services: &'a Services,
    log: Vec<LogLine>,
    log_dropped: u64,
}

impl<'a> PluginDecider<'a> {
    /// `plugin` on `host`, its imports served by `services`.
    pub fn new(host: &'a PluginHost, plugin: &'a Plugin, services: &'a Services) -> Self {
        Self {
            host,
            plugin,
            services,
            log: Vec::new(),
            log_dropped: 0,
        }
    }

    /// The code of the deny for an answer core's validation refuses.
    pub const INVALID_ANSWER: &'static str = error::OUTPUT;

    /// What the plugin logged so far, and how many lines were dropped; the log starts over.
    pub fn take_log(&mut self) -> (Vec<LogLine>, u64) {
        (
            std::mem::take(&mut self.log),
            std::mem::take(&mut self.log_dropped),
        )
    }

    /// `decision` with the plugin's log.
    pub fn outcome(self, decision: crmguard_core::request::AccessDecision) -> Outcome {
        Outcome {
            decision,
            log: self.log,
            log_dropped: self.log_dropped,
        }
    }
}

impl core::fmt::Debug for PluginDecider<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PluginDecider")
            .field("plugin", &self.plugin.manifest.name)
            .finish_non_exhaustive()
    }
}

impl Decider for PluginDecider<'_> {
    fn name(&self) -> &str {
        &self.plugin.manifest.name
    }

    fn decide(&mut self, request: &AccessRequest) -> Result<Proposal, DeciderFailure> {
        self.host.run_instance(
            self.plugin,
            self.services,
            request,
            &mut self.log,
            &mut self.log_dropped,
        )
    }

    fn invalid_answer_code(&self) -> &'static str {
        Self::INVALID_ANSWER
    }
}

pub(crate) fn classify(e: &wasmtime::Error, exceeded: bool, shared: &Shared) -> PluginError {
    if exceeded || e.is::<LimitExceeded>() {
        return PluginError::new(
            error::MEMORY,
            format!(
                "the plugin exceeded its memory bound ({} MiB) or table bound",
                shared.config.memory_bytes >> 20
            ),
        );
    }
    if let Some(r) = e.downcast_ref::<Refused>() {
        return PluginError::new(error::CAPABILITY, format!("the plugin was stopped: {r}"));
    }
    match e.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => PluginError::new(
            error::TIMEOUT,
            format!(
                "the plugin overran its {} ms CPU deadline",
                shared.config.deadline.as_millis()
            ),
        ),
        Some(Trap::StackOverflow) => {
            PluginError::new(error::TRAP, "the plugin trapped: wasm stack overflow")
        }
        Some(t) => PluginError::new(error::TRAP, format!("the plugin trapped: {t}")),
        None => PluginError::new(error::TRAP, format!("the plugin failed: {e}")),
    }
}

/// No keys at all: for `verify`, which never runs the component.
struct NoKeys;

impl KeySource for NoKeys {
    fn keyring(&self, _tenant: &TenantId) -> Result<Zeroizing<String>, PluginError> {
        Err(PluginError::new(error::TENANT, "no keys are loaded"))
    }
}

/// A policy plugin's store data.
pub(crate) struct PluginState {
    wasi: WasiCtx,
    table: ResourceTable,
    clock: SandboxClock,
    limits: Limits,
    pub(crate) services: Services,
    scope: Scope,
    session: Option<CryptoSession>,
    pub(crate) tokens_session: Option<TokensSession>,
    pub(crate) audit_session: Option<AuditSession>,
    log: Vec<LogLine>,
    log_dropped: u64,
    max_log_lines: usize,
}

impl PluginState {
    /// Whether the plugin or any component it called ran into its memory or table bound.
    fn any_limit_exceeded(&self) -> bool {
        self.limits.exceeded
            || self
                .session
                .as_ref()
                .is_some_and(|s| s.store.data().limits.exceeded)
            || self
                .tokens_session
                .as_ref()
                .is_some_and(|s| s.store.data().limits.exceeded)
            || self
                .audit_session
                .as_ref()
                .is_some_and(|s| s.store.data().limits.exceeded)
    }
}

impl WasiView for PluginState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// The crypto component's store data: its sandbox and the one tenant it may get keys for.
pub(crate) struct CryptoState {
    wasi: WasiCtx,
    table: ResourceTable,
    clock: SandboxClock,
    limits: Limits,
    keys: Arc<dyn KeySource>,
    tenant: TenantId,
}

impl Sandboxed for CryptoState {
    fn clock(&mut self) -> &mut SandboxClock {
        &mut self.clock
    }
}

impl Sandboxed for PluginState {
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

impl crypto::crmguard::guard::types::Host for CryptoState {}

impl crypto::crmguard::guard::keystore::Host for CryptoState {
    fn keyring(
        &mut self,
        tenant: String,
    ) -> wasmtime::Result<Result<String, crypto::crmguard::guard::types::GuardError>> {
        if tenant != self.tenant.as_str() {
            return Ok(Err(crypto::crmguard::guard::types::GuardError {
                code: error::TENANT.to_owned(),
                message: "keys are served for the request's tenant only".to_owned(),
            }));
        }
        Ok(match self.keys.keyring(&self.tenant) {
            Ok(text) => Ok(text.to_string()),
            Err(e) => Err(crypto::crmguard::guard::types::GuardError {
                code: e.code.to_owned(),
                message: e.message,
            }),
        })
    }
}

/// A crypto component instance serving one tenant, in its own store.
pub struct CryptoSession {
    store: Store<CryptoState>,
    bindings: Crypto,
    ticks: u64,
}

type CryptoError = crypto::crmguard::guard::types::GuardError;

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

fn crypto_ctx(c: &crmguard_core::FieldContext) -> crypto::crmguard::guard::types::FieldContext {
    crypto::crmguard::guard::types::FieldContext {
        tenant: c.tenant.to_string(),
        object: c.object.to_string(),
        record: c.record.to_string(),
        field: c.field.to_string(),
        subject: c.subject.as_ref().map(ToString::to_string),
    }
}

/// A code that came back from a component as a string: kept if it is one of the stable codes
/// this host knows, `ERR_PLUGIN_OUTPUT` otherwise.
pub(crate) fn guard_code(code: &str) -> &'static str {
    crmguard_core::ERROR_CODES
        .iter()
        .chain(error::PLUGIN_ERROR_CODES)
        .find(|c| **c == code)
        .copied()
        .unwrap_or(error::OUTPUT)
}

fn guard_failure(e: CryptoError) -> PluginError {
    PluginError::new(guard_code(&e.code), e.message)
}

impl CryptoSession {
    /// Seals bytes for `ctx`, through the component; returns the `cg1:` text form.
    pub fn seal(
        &mut self,
        ctx: &crmguard_core::FieldContext,
        plaintext: &[u8],
    ) -> Result<String, PluginError> {
        self.store.set_epoch_deadline(self.ticks);
        let r = self.bindings.crmguard_guard_fields().call_seal(
            &mut self.store,
            &crypto_ctx(ctx),
            plaintext,
            crypto_fields::ContentType::Bytes,
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

// The plugin's `fields` import, forwarded to the crypto component (instantiated on the
// first call, in its own store, for the request's tenant). Types are translated one to one.

fn to_crypto_ctx(c: types::FieldContext) -> crypto::crmguard::guard::types::FieldContext {
    crypto::crmguard::guard::types::FieldContext {
        tenant: c.tenant,
        object: c.object,
        record: c.record,
        field: c.field,
        subject: c.subject,
    }
}

fn to_plugin_error(e: CryptoError) -> types::GuardError {
    types::GuardError {
        code: e.code,
        message: e.message,
    }
}

impl PluginState {
    /// The crypto session, started on first use. A failure to start traps the plugin's call.
    fn session(&mut self) -> wasmtime::Result<&mut CryptoSession> {
        if self.session.is_none() {
            let s = self
                .services
                .crypto
                .session(&self.scope.tenant)
                .map_err(wasmtime::Error::new)?;
            self.session = Some(s);
        }
        // Set just above when it was absent.
        self.session
            .as_mut()
            .ok_or_else(|| wasmtime::Error::msg("crypto session missing"))
    }

    /// Runs one call on the crypto component; its trap becomes the plugin call's trap.
    fn forward<T>(
        &mut self,
        call: impl FnOnce(&mut CryptoSession) -> wasmtime::Result<Result<T, CryptoError>>,
    ) -> wasmtime::Result<Result<T, types::GuardError>> {
        let s = self.session()?;
        s.store.set_epoch_deadline(s.ticks);
        Ok(call(s)?.map_err(to_plugin_error))
    }
}

impl types::Host for PluginState {}

impl fields::Host for PluginState {
    fn seal(
        &mut self,
        ctx: types::FieldContext,
        plaintext: Vec<u8>,
        content: fields::ContentType,
    ) -> wasmtime::Result<Result<String, types::GuardError>> {
        if let Err(e) = self.scope.admit(Call::Seal, &ctx) {
            return Ok(Err(e));
        }
        let content = match content {
            fields::ContentType::Bytes => crypto_fields::ContentType::Bytes,
            fields::ContentType::Json => crypto_fields::ContentType::Json,
        };
        self.forward(|s| {
            s.bindings.crmguard_guard_fields().call_seal(
                &mut s.store,
                &to_crypto_ctx(ctx),
                &plaintext,
                content,
            )
        })
    }

    fn open(
        &mut self,
        ctx: types::FieldContext,
        sealed: String,
    ) -> wasmtime::Result<Result<fields::Opened, types::GuardError>> {
        if let Err(e) = self.scope.admit(Call::Open, &ctx) {
            return Ok(Err(e));
        }
        let r = self.forward(|s| {
            s.bindings
                .crmguard_guard_fields()
                .call_open(&mut s.store, &to_crypto_ctx(ctx), &sealed)
        })?;
        Ok(r.map(|o| fields::Opened {
            plaintext: o.plaintext,
            content: match o.content {
                crypto_fields::ContentType::Bytes => fields::ContentType::Bytes,
                crypto_fields::ContentType::Json => fields::ContentType::Json,
            },
        }))
    }

    fn blind_index(
        &mut self,
        ctx: types::FieldContext,
        spec_json: String,
        value: String,
    ) -> wasmtime::Result<Result<String, types::GuardError>> {
        if let Err(e) = self.scope.admit(Call::BlindIndex, &ctx) {
            return Ok(Err(e));
        }
        self.forward(|s| {
            s.bindings.crmguard_guard_fields().call_blind_index(
                &mut s.store,
                &to_crypto_ctx(ctx),
                &spec_json,
                &value,
            )
        })
    }

    fn seal_record(
        &mut self,
        tenant: String,
        schema_json: String,
        record_json: String,
    ) -> wasmtime::Result<Result<String, types::GuardError>> {
        if let Err(e) = self
            .scope
            .admit_record(Call::Seal, &tenant, &schema_json, &record_json)
        {
            return Ok(Err(e));
        }
        self.forward(|s| {
            s.bindings.crmguard_guard_fields().call_seal_record(
                &mut s.store,
                &tenant,
                &schema_json,
                &record_json,
            )
        })
    }

    fn open_record(
        &mut self,
        tenant: String,
        schema_json: String,
        record_json: String,
    ) -> wasmtime::Result<Result<String, types::GuardError>> {
        if let Err(e) = self
            .scope
            .admit_record(Call::Open, &tenant, &schema_json, &record_json)
        {
            return Ok(Err(e));
        }
        self.forward(|s| {
            s.bindings.crmguard_guard_fields().call_open_record(
                &mut s.store,
                &tenant,
                &schema_json,
                &record_json,
            )
        })
    }
}

impl logging::Host for PluginState {
    fn log(&mut self, level: logging::Level, message: String) -> wasmtime::Result<()> {
        if self.log.len() >= self.max_log_lines {
            self.log_dropped += 1;
            return Ok(());
        }
        let level = match level {
            logging::Level::Debug => "debug",
            logging::Level::Info => "info",
            logging::Level::Warn => "warn",
            logging::Level::Error => "error",
        };
        let mut message = message;
        if message.len() > MAX_LOG_LINE {
            let mut end = MAX_LOG_LINE;
            while !message.is_char_boundary(end) {
                end -= 1;
            }
            message.truncate(end);
        }
        self.log.push(LogLine { level, message });
        Ok(())
    }
}
