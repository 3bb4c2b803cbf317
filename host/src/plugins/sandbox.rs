//! The sandbox every store gets: a WASI context with nothing in it (no preopened
//! directories, environment, arguments, network addresses; stdio closed or discarded;
//! clocks frozen at zero unless granted), and a resource limiter bounding memory, tables
//! and instances.

use std::time::Duration;

use wasmtime::ResourceLimiter;
use wasmtime_wasi::{HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxBuilder};

/// A clock that always reads zero: a plugin without the `clocks` capability cannot time
/// anything (no timing side channels through WASI, no time-dependent behaviour).
struct FrozenClock;

impl HostWallClock for FrozenClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }
    fn now(&self) -> Duration {
        Duration::ZERO
    }
}

impl HostMonotonicClock for FrozenClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }
    fn now(&self) -> u64 {
        0
    }
}

/// The empty WASI context; `clocks` grants the real clocks.
pub(crate) fn wasi_ctx(clocks: bool) -> WasiCtx {
    let mut b = WasiCtxBuilder::new();
    // The builder's defaults already give no preopens, env, args or stdin, discard stdout
    // and stderr, and deny every socket address; say so explicitly for the reader.
    b.allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false);
    if !clocks {
        b.wall_clock(FrozenClock).monotonic_clock(FrozenClock);
    }
    b.build()
}

/// Per-store bounds. A memory growth past the bound traps at once (rather than returning
/// -1 for the guest to handle), and is remembered so the deny says `ERR_PLUGIN_MEMORY`.
pub(crate) struct Limits {
    pub(crate) memory_bytes: usize,
    pub(crate) table_elements: usize,
    pub(crate) exceeded: bool,
}

impl Limits {
    pub(crate) fn new(memory_bytes: usize, table_elements: usize) -> Self {
        Self {
            memory_bytes,
            table_elements,
            exceeded: false,
        }
    }
}

/// The error a growth past the bound traps with.
#[derive(Debug)]
pub(crate) struct LimitExceeded(pub(crate) &'static str);

impl core::fmt::Display for LimitExceeded {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{} limit exceeded", self.0)
    }
}

impl std::error::Error for LimitExceeded {}

impl ResourceLimiter for Limits {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_bytes {
            self.exceeded = true;
            return Err(wasmtime::Error::new(LimitExceeded("memory")));
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.table_elements {
            self.exceeded = true;
            return Err(wasmtime::Error::new(LimitExceeded("table")));
        }
        Ok(true)
    }

    // A Rust component holds a handful of core instances, one or two memories and tables.
    fn instances(&self) -> usize {
        16
    }
    fn tables(&self) -> usize {
        16
    }
    fn memories(&self) -> usize {
        4
    }
}
