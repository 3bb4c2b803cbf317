//! What every store of the runtime shares: the engine, the host's bounds, the epoch ticker
//! that enforces deadlines, and how a failed call is classified.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use wasmtime::{Engine, Trap};

use super::cache::ArtifactCache;
use super::error::{self, PluginError};
use super::sandbox::{LimitExceeded, Limits, Refused};

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
    /// Run a policy plugin's `wizer-initialize` once at load and serve its snapshot
    /// (docs/PLUGINS.md, "Pre-initialised plugins"). Default true; false runs every plugin
    /// as shipped.
    pub preinitialize: bool,
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
            preinitialize: true,
        }
    }
}

/// Advances the engine's epoch every [`TICK`] until dropped.
pub(crate) struct Ticker {
    pub(crate) stop: Arc<AtomicBool>,
    pub(crate) thread: Option<JoinHandle<()>>,
}

impl Ticker {
    pub(crate) fn start(engine: Engine) -> Self {
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
    pub(crate) _ticker: Ticker,
}

impl Shared {
    pub(crate) fn limits(&self) -> Limits {
        Limits::new(self.config.memory_bytes, self.config.table_elements)
    }
}

pub(crate) fn engine_error(e: wasmtime::Error) -> PluginError {
    PluginError::new(error::ENGINE, format!("{e}"))
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
