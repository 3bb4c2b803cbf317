//! The plugin host: one engine with the pooling allocator and epoch interruption, linkers
//! built once, components pre-instantiated at load, and a fresh store and instance per
//! request.

use std::sync::Arc;

use crmguard_core::request::{Decider, DeciderFailure, Proposal, decide_bound};
use wasmtime::component::{Component, HasSelf, Linker, ResourceTable};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store};

use super::bindings::audit::AuditBuilderPre;
use super::bindings::crypto::{Crypto, CryptoPre};
use super::bindings::plugin::{PolicyPlugin, PolicyPluginPre};
use super::bindings::tokens::TokenVerifierPre;
use super::cache;
use super::crypto::{CryptoComponent, CryptoSealer, CryptoState, KeySource, NoKeys};
use super::error::{self, PluginError};
use super::imports::{PluginState, RequestSealer};
use super::manifest::{Capability, Manifest, World};
use super::preinit;
use super::request::{self, AccessRequest, LogLine, Outcome};
use super::sandbox::{self, SandboxClock};
use super::scope::Scope;
use super::services::{AuditComponent, PureState, Services, TokensComponent};
use super::shared::{HostConfig, Shared, Ticker, classify, engine_error};

/// The plugin host. Cheap to share across threads; `decide` takes `&self`.
pub struct PluginHost {
    pub(crate) shared: Arc<Shared>,
    plugin_linker: Linker<PluginState>,
    crypto_linker: Linker<CryptoState>,
    pure_linker: Linker<PureState>,
}

/// A loaded, verified, pre-instantiated policy plugin.
#[derive(Clone)]
pub struct Plugin {
    pre: PolicyPluginPre<PluginState>,
    preinitialized: bool,
    manifest: Manifest,
    shared: Arc<Shared>,
}

impl Plugin {
    /// Its manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Whether each request instantiates its pre-initialised image (it exports
    /// `wizer-initialize` and the host pre-initialises plugins; docs/PLUGINS.md).
    pub fn preinitialized(&self) -> bool {
        self.preinitialized
    }
}

impl PluginHost {
    /// A host with `config`'s bounds.
    pub fn new(config: HostConfig) -> Result<Self, PluginError> {
        let slots = config.max_concurrent.max(1);
        // With `reset_dirty_pages`, a freed slot's memory goes back to its image by rewriting
        // only the pages the instance dirtied (Linux's PAGEMAP_SCAN, kernel 6.7+), instead of
        // `madvise` dropping them all and every next instance faulting them in again: about
        // half of a decision's time (docs/BENCHMARKS.md). The reset restores the image either
        // way, so nothing of one request is left for the next.
        let engine_for = |reset_dirty_pages: bool| {
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
            if reset_dirty_pages {
                preinit::reset_dirty_pages_in_place(&mut pool, config.memory_bytes);
            }
            let mut c = Config::new();
            c.epoch_interruption(true)
                .allocation_strategy(InstanceAllocationStrategy::Pooling(pool))
                .max_wasm_stack(512 << 10)
                // Reserve only what a memory may use: bounds checks are explicit, and the pool
                // costs megabytes of address space per slot rather than gigabytes.
                .memory_reservation(config.memory_bytes as u64)
                .memory_guard_size(64 << 10);
            Engine::new(&c)
        };
        // Without PAGEMAP_SCAN, keeping memory resident would `memset` all of it per request,
        // which costs more than the page faults it saves: then the plain pool.
        let engine = engine_for(true)
            .or_else(|_| engine_for(false))
            .map_err(engine_error)?;

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
        self.component_image(m, expected).map(|(c, _)| c)
    }

    /// [`Self::component`], and whether it is the pre-initialised image of a policy plugin.
    fn component_image(
        &self,
        m: &Manifest,
        expected: World,
    ) -> Result<(Component, bool), PluginError> {
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
        if expected == World::PolicyPlugin
            && self.shared.config.preinitialize
            && preinit::has_initializer(&component)
        {
            // Checked as it came, then replaced by its initialised image (checked again).
            self.check_world(m, &component)?;
            let snapshot = match self.shared.config.cache.as_ref().and_then(|c| {
                cache::cached(&self.shared.engine, c, &format!("preinit-{}", m.sha256))
            }) {
                Some(c) => c,
                None => {
                    let image = preinit::preinitialize(
                        &self.shared,
                        &m.name,
                        &bytes,
                        m.grants(Capability::Clocks),
                    )?;
                    cache::component(
                        &self.shared.engine,
                        &image,
                        &format!("preinit-{}", m.sha256),
                        self.shared.config.cache.as_ref(),
                    )?
                }
            };
            self.check_world(m, &snapshot)?;
            return Ok((snapshot, true));
        }
        self.check_world(m, &component)?;
        Ok((component, false))
    }

    /// Checks that `component` exports what `m`'s world requires and imports nothing else.
    fn check_world(&self, m: &Manifest, component: &Component) -> Result<(), PluginError> {
        let ty = component.component_type();
        let engine = &self.shared.engine;
        let required = m.world.required_export();
        if !ty.exports(engine).any(|(name, _)| name == required) {
            let exports: Vec<&str> = ty.exports(engine).map(|(n, _)| n).collect();
            if exports.iter().any(|n| n.ends_with("@0.1.0")) {
                return Err(PluginError::new(
                    error::WORLD,
                    format!(
                        "{} was built against crmguard:guard@0.1.0; this host runs 0.2.0: \
                         rebuild it against wit/guard.wit (docs/PLUGINS.md, \"Moving from \
                         0.1.0\")",
                        m.name
                    ),
                ));
            }
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
        Ok(())
    }

    /// Loads a policy plugin: digest, world and imports checked, pre-instantiated.
    pub fn load_plugin(&self, m: &Manifest) -> Result<Plugin, PluginError> {
        let (component, preinitialized) = self.component_image(m, World::PolicyPlugin)?;
        let pre = self
            .plugin_linker
            .instantiate_pre(&component)
            .map_err(|e| PluginError::new(error::LINK, format!("{}: {e}", m.name)))?;
        let pre = PolicyPluginPre::new(pre)
            .map_err(|e| PluginError::new(error::WORLD, format!("{}: {e}", m.name)))?;
        Ok(Plugin {
            pre,
            preinitialized,
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
    /// ([`decide_bound`]: the answer validated against the request, then rendered through
    /// the crypto component, [`CryptoSealer`]). Never fails and never panics on anything the
    /// plugin does: a misbehaving plugin yields a deny with its reason.
    pub fn decide(&self, plugin: &Plugin, services: &Services, request: &AccessRequest) -> Outcome {
        let mut decider = PluginDecider::new(self, plugin, services);
        let mut sealer = CryptoSealer::new(&services.crypto);
        let decision = decide_bound(request, &mut decider, &mut sealer);
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
            resources: 0,
        };
        let mut store = Store::new(&shared.engine, state);
        store.limiter(|s| &mut s.limits);
        store.set_epoch_deadline(shared.ticks);
        let answer = store
            .data_mut()
            .table
            .push(RequestSealer)
            .map_err(wasmtime::Error::from)
            .and_then(|sealer| {
                let p = plugin.pre.instantiate(&mut store)?;
                p.crmguard_guard_policy()
                    .call_decide(&mut store, &request::to_wit(request), sealer)
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
