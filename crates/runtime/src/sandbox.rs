//! The sandbox every store gets: a WASI context with nothing in it (no preopened
//! directories, environment, arguments, network addresses; stdio closed or discarded;
//! clocks frozen at zero unless granted), only the WASI interfaces Rust's standard library
//! needs linked ([`add_wasi_to_linker`]), no host call that can wait, and a resource limiter
//! bounding memory, tables and instances.
//!
//! Why no waiting: epoch interruption only stops a component while it runs wasm code. A host
//! call that blocks (a timer's `pollable.block`, `poll` on a timer) holds the host thread past
//! any deadline, and a timer measures time even when the clocks read zero. The only pollables
//! a sandboxed component can make are then stdio's, which are always ready (stdin is closed,
//! stdout and stderr are sinks), so no call into the host waits.

use std::time::Duration;

use wasmtime::ResourceLimiter;
use wasmtime::component::{HasData, Linker, Resource, ResourceTable};
use wasmtime_wasi::p2::DynPollable;
use wasmtime_wasi::p2::bindings::clocks::monotonic_clock;
use wasmtime_wasi::{HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxBuilder, WasiView};

/// The WASI interfaces a sandboxed component may import (any 0.2 version): what Rust's
/// standard library for wasm32-wasip2 imports, less files and sockets. Anything else, and
/// every `wasi:` interface not listed (filesystem, sockets, http, ...), is refused at load.
pub(crate) const WASI_IMPORTS: &[&str] = &[
    "wasi:io/error",
    "wasi:io/poll",
    "wasi:io/streams",
    "wasi:clocks/wall-clock",
    "wasi:clocks/monotonic-clock",
    "wasi:random/random",
    "wasi:random/insecure",
    "wasi:random/insecure-seed",
    "wasi:cli/environment",
    "wasi:cli/exit",
    "wasi:cli/stdin",
    "wasi:cli/stdout",
    "wasi:cli/stderr",
    "wasi:cli/terminal-input",
    "wasi:cli/terminal-output",
    "wasi:cli/terminal-stdin",
    "wasi:cli/terminal-stdout",
    "wasi:cli/terminal-stderr",
];

/// Whether `import` (e.g. `wasi:io/poll@0.2.4`) is one of [`WASI_IMPORTS`] at a 0.2 version.
pub(crate) fn wasi_import_allowed(import: &str) -> bool {
    let (name, version) = import.split_once('@').unwrap_or((import, ""));
    version.starts_with("0.2.") && WASI_IMPORTS.contains(&name)
}

/// A store's monotonic clock: frozen at zero, or (granted) nanoseconds since the store began.
pub(crate) struct SandboxClock {
    origin: Option<std::time::Instant>,
}

impl SandboxClock {
    pub(crate) fn new(granted: bool) -> Self {
        Self {
            origin: granted.then(std::time::Instant::now),
        }
    }
}

/// A host call the sandbox refuses; it traps the component's call, which the host turns into
/// a deny with `ERR_PLUGIN_CAPABILITY`.
#[derive(Debug)]
pub(crate) struct Refused(pub(crate) &'static str);

impl core::fmt::Display for Refused {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "the sandbox refuses {}", self.0)
    }
}

impl std::error::Error for Refused {}

impl monotonic_clock::Host for &mut SandboxClock {
    fn now(&mut self) -> wasmtime::Result<monotonic_clock::Instant> {
        Ok(self.origin.map_or(0, |o| {
            u64::try_from(o.elapsed().as_nanos()).unwrap_or(u64::MAX)
        }))
    }

    fn resolution(&mut self) -> wasmtime::Result<monotonic_clock::Duration> {
        Ok(if self.origin.is_some() {
            1
        } else {
            1_000_000_000
        })
    }

    fn subscribe_instant(
        &mut self,
        _when: monotonic_clock::Instant,
    ) -> wasmtime::Result<Resource<DynPollable>> {
        Err(wasmtime::Error::new(Refused("waiting on a timer")))
    }

    fn subscribe_duration(
        &mut self,
        _when: monotonic_clock::Duration,
    ) -> wasmtime::Result<Resource<DynPollable>> {
        Err(wasmtime::Error::new(Refused("waiting on a timer")))
    }
}

/// Store data of a sandboxed component: its WASI context and its clock.
pub(crate) trait Sandboxed: WasiView + 'static {
    fn clock(&mut self) -> &mut SandboxClock;
}

struct Io;
impl HasData for Io {
    type Data<'a> = &'a mut ResourceTable;
}

struct Clock;
impl HasData for Clock {
    type Data<'a> = &'a mut SandboxClock;
}

/// Links exactly [`WASI_IMPORTS`]: wasmtime-wasi's implementations, except the monotonic
/// clock, whose timers are refused.
pub(crate) fn add_wasi_to_linker<T: Sandboxed>(l: &mut Linker<T>) -> wasmtime::Result<()> {
    use wasmtime_wasi::cli::{WasiCli, WasiCliView};
    use wasmtime_wasi::clocks::{WasiClocks, WasiClocksView};
    use wasmtime_wasi::p2::bindings::{cli, clocks, random, sync};
    use wasmtime_wasi::random::{WasiRandom, WasiRandomView};

    fn table<T: WasiView>(t: &mut T) -> &mut ResourceTable {
        t.ctx().table
    }
    sync::io::error::add_to_linker::<T, Io>(l, table)?;
    sync::io::poll::add_to_linker::<T, Io>(l, table)?;
    sync::io::streams::add_to_linker::<T, Io>(l, table)?;
    clocks::wall_clock::add_to_linker::<T, WasiClocks>(l, T::clocks)?;
    monotonic_clock::add_to_linker::<T, Clock>(l, T::clock)?;
    random::random::add_to_linker::<T, WasiRandom>(l, T::random)?;
    random::insecure::add_to_linker::<T, WasiRandom>(l, T::random)?;
    random::insecure_seed::add_to_linker::<T, WasiRandom>(l, T::random)?;
    cli::exit::add_to_linker::<T, WasiCli>(l, T::cli)?;
    cli::environment::add_to_linker::<T, WasiCli>(l, T::cli)?;
    cli::stdin::add_to_linker::<T, WasiCli>(l, T::cli)?;
    cli::stdout::add_to_linker::<T, WasiCli>(l, T::cli)?;
    cli::stderr::add_to_linker::<T, WasiCli>(l, T::cli)?;
    cli::terminal_input::add_to_linker::<T, WasiCli>(l, T::cli)?;
    cli::terminal_output::add_to_linker::<T, WasiCli>(l, T::cli)?;
    cli::terminal_stdin::add_to_linker::<T, WasiCli>(l, T::cli)?;
    cli::terminal_stdout::add_to_linker::<T, WasiCli>(l, T::cli)?;
    cli::terminal_stderr::add_to_linker::<T, WasiCli>(l, T::cli)?;
    Ok(())
}

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

/// Per-store bounds. `memory_bytes` bounds the sum of every linear memory of the store (an
/// instance with four memories gets the bound once, not four times). A growth past the bound
/// traps at once (rather than returning -1 for the guest to handle), and is remembered so the
/// deny says `ERR_PLUGIN_MEMORY`.
pub(crate) struct Limits {
    pub(crate) memory_bytes: usize,
    pub(crate) table_elements: usize,
    pub(crate) exceeded: bool,
    /// Bytes of linear memory the store's memories hold together.
    memory_in_use: usize,
}

impl Limits {
    pub(crate) fn new(memory_bytes: usize, table_elements: usize) -> Self {
        Self {
            memory_bytes,
            table_elements,
            exceeded: false,
            memory_in_use: 0,
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
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        // `current` is this memory's size: 0 when it is being created, so every memory's
        // growth is counted exactly once.
        let total = (self.memory_in_use - current.min(self.memory_in_use)).saturating_add(desired);
        if total > self.memory_bytes {
            self.exceeded = true;
            return Err(wasmtime::Error::new(LimitExceeded("memory")));
        }
        self.memory_in_use = total;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_memory_bound_is_for_all_memories_together() {
        // Before, each of a store's four memories could grow to the bound on its own.
        let mut l = Limits::new(16 << 20, 100);
        assert!(l.memory_growing(0, 10 << 20, None).unwrap());
        assert!(l.memory_growing(10 << 20, 12 << 20, None).unwrap());
        // A second memory: only 4 MiB are left.
        assert!(l.memory_growing(0, 4 << 20, None).unwrap());
        assert!(l.memory_growing(4 << 20, 5 << 20, None).is_err());
        assert!(l.exceeded);
    }

    #[test]
    fn timers_are_refused_and_the_clock_is_frozen_unless_granted() {
        let mut frozen = SandboxClock::new(false);
        let mut c = &mut frozen;
        assert_eq!(monotonic_clock::Host::now(&mut c).unwrap(), 0);
        let e = monotonic_clock::Host::subscribe_instant(&mut c, 5).unwrap_err();
        assert!(e.is::<Refused>());
        let e = monotonic_clock::Host::subscribe_duration(&mut c, 0).unwrap_err();
        assert!(e.is::<Refused>());
        let mut granted = SandboxClock::new(true);
        let mut g = &mut granted;
        assert_eq!(monotonic_clock::Host::resolution(&mut g).unwrap(), 1);
        assert!(monotonic_clock::Host::subscribe_duration(&mut g, 1).is_err());
    }

    #[test]
    fn only_listed_wasi_interfaces_at_02_are_allowed() {
        assert!(wasi_import_allowed("wasi:io/poll@0.2.4"));
        assert!(wasi_import_allowed("wasi:cli/stderr@0.2.0"));
        for refused in [
            "wasi:filesystem/preopens@0.2.4",
            "wasi:sockets/tcp@0.2.4",
            "wasi:http/outgoing-handler@0.2.4",
            "wasi:io/poll@0.3.0",
            "wasi:io/poll",
        ] {
            assert!(!wasi_import_allowed(refused), "{refused}");
        }
    }
}
