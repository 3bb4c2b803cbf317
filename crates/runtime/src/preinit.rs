//! Pre-initialised plugins: a plugin that exports `wizer-initialize: func()` has that function
//! run once, at load, in the sandbox, and its memories and globals snapshotted into a new
//! component (wasmtime-wizer). Each request then instantiates the initialised image, so
//! set-up a plugin does on every call (parsing and validating its policy, say) is paid once.
//!
//! What the initialiser can do is less than what a request can: the same empty WASI context
//! (clocks frozen unless granted, no files, no sockets, no environment), the same memory,
//! table and CPU bounds, and every CRMGuard import (sealing, tokens, audit, logging) traps,
//! because there is no request, tenant or key at load. So a snapshot can hold nothing of any
//! tenant. The snapshot drops the `wizer-initialize` export; a request cannot run it again.
//! Isolation is unchanged: each request gets a fresh instance of the image.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use wasmtime::Store;
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, Instance, Linker, ResourceTable, WasmList};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wizer::{ComponentInstanceState, Wizer};

use super::error::{self, PluginError};
use super::sandbox::{self, Limits, SandboxClock, Sandboxed};
use super::shared::{Shared, classify, engine_error};

/// Makes `pool` reset a freed slot by rewriting, in place, only the pages its instance dirtied
/// (Linux's PAGEMAP_SCAN, kernel 6.7+), up to 2 MiB of each memory (at most `memory_bytes`)
/// and 64 KiB of each table, instead of dropping them all for the next instance to fault in
/// again. The reset restores the image either way. An engine with this pool fails to build
/// where the kernel lacks the ioctl: build it again without, since keeping memory resident
/// without the scan `memset`s all of it (docs/BENCHMARKS.md).
pub fn reset_dirty_pages_in_place(
    pool: &mut wasmtime::PoolingAllocationConfig,
    memory_bytes: usize,
) {
    pool.pagemap_scan(wasmtime::Enabled::Yes)
        .linear_memory_keep_resident((2 << 20).min(memory_bytes))
        .table_keep_resident(64 << 10);
}

/// The export a plugin names its initialiser with (Wizer's default).
pub const INIT_EXPORT: &str = "wizer-initialize";

/// The store of an initialiser run: the sandbox, and nothing else.
struct InitState {
    wasi: WasiCtx,
    table: ResourceTable,
    clock: SandboxClock,
    limits: Limits,
}

impl WasiView for InitState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl Sandboxed for InitState {
    fn clock(&mut self) -> &mut SandboxClock {
        &mut self.clock
    }
}

/// Whether `component` exports the initialiser, as a root function.
pub fn has_initializer(component: &Component) -> bool {
    matches!(
        component.get_export(None, INIT_EXPORT),
        Some((ComponentItem::ComponentFunc(_), _))
    )
}

/// Runs `bytes`' initialiser in the sandbox and returns the snapshot component. `clocks`:
/// the plugin's manifest grants the real clocks.
pub(crate) fn preinitialize(
    shared: &Shared,
    name: &str,
    bytes: &[u8],
    clocks: bool,
) -> Result<Vec<u8>, PluginError> {
    // Wizer asserts its own invariants; a component that breaks one must not take the host
    // down with it.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        snapshot(shared, name, bytes, clocks)
    }))
    .unwrap_or_else(|_| {
        Err(PluginError::new(
            error::INVALID,
            format!("{name}: cannot be pre-initialised (the snapshot step failed)"),
        ))
    })
}

fn snapshot(
    shared: &Shared,
    name: &str,
    bytes: &[u8],
    clocks: bool,
) -> Result<Vec<u8>, PluginError> {
    let fail = |e: wasmtime::Error| {
        PluginError::new(
            error::INVALID,
            format!("{name}: pre-initialisation failed: {e}"),
        )
    };
    let instrumented = Instrumented::new(bytes).map_err(fail)?;
    let component = Component::new(&shared.engine, instrumented.bytes()).map_err(fail)?;
    if !has_initializer(&component) {
        return Err(PluginError::new(
            error::INVALID,
            format!("{name}: exports no {INIT_EXPORT} function"),
        ));
    }
    let mut linker: Linker<InitState> = Linker::new(&shared.engine);
    sandbox::add_wasi_to_linker(&mut linker).map_err(engine_error)?;
    // Sealing, tokens, audit and logging: nothing to serve before a request exists.
    linker
        .define_unknown_imports_as_traps(&component)
        .map_err(fail)?;
    let mut store = Store::new(
        &shared.engine,
        InitState {
            wasi: sandbox::wasi_ctx(clocks),
            table: ResourceTable::new(),
            clock: SandboxClock::new(clocks),
            limits: shared.limits(),
        },
    );
    store.limiter(|s| &mut s.limits);
    store.set_epoch_deadline(shared.ticks);
    let run = |store: &mut Store<InitState>| -> wasmtime::Result<Instance> {
        let instance = linker.instantiate(&mut *store, &component)?;
        let init = instance
            .get_typed_func::<(), ()>(&mut *store, INIT_EXPORT)
            .map_err(|e| wasmtime::Error::new(NotAnInitializer(e.to_string())))?;
        init.call(&mut *store, ())?;
        Ok(instance)
    };
    let instance = match run(&mut store) {
        Ok(i) => i,
        Err(e) if e.is::<NotAnInitializer>() => {
            return Err(PluginError::new(
                error::INVALID,
                format!("{name}: {INIT_EXPORT} is not a `func()`: {e}"),
            ));
        }
        Err(e) => {
            let why = classify(&e, store.data().limits.exceeded, shared);
            return Err(PluginError::new(
                why.code,
                format!("{name}: its initialiser failed: {}", why.message),
            ));
        }
    };
    // Reading the state back runs the instrumented accessors: a fresh deadline for them.
    store.set_epoch_deadline(shared.ticks);
    instrumented.snapshot(&mut store, instance).map_err(fail)
}

/// A component instrumented for a snapshot: instantiate [`Instrumented::bytes`] (compiled
/// by the caller's engine, linked by its linker), run its `wizer-initialize`, then take the
/// snapshot of that instance. For hosts that run components synchronously
/// ([`Instrumented::snapshot`]) or on an async store ([`Instrumented::snapshot_async`],
/// e.g. `crmguard serve --edge`).
pub struct Instrumented<'a> {
    wizer: Wizer,
    cx: wasmtime_wizer::ComponentContext<'a>,
    bytes: Vec<u8>,
}

impl<'a> Instrumented<'a> {
    /// Instruments `component` (the bytes as shipped).
    pub fn new(component: &'a [u8]) -> wasmtime::Result<Self> {
        let mut wizer = Wizer::new();
        // Kept: the component lifts it from the core instance, so removing it from the core
        // module alone would leave the component invalid. Only the host calls exports, and it
        // never calls this one again; a component re-running its own initialiser changes
        // nothing but itself.
        wizer.keep_init_func(true);
        let (cx, bytes) = wizer.instrument_component(component)?;
        Ok(Self { wizer, cx, bytes })
    }

    /// The instrumented component, to compile and instantiate.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The snapshot of `instance` (of [`Self::bytes`], initialised) as a component, read with
    /// synchronous calls.
    pub fn snapshot<T: Send>(
        &self,
        store: &mut Store<T>,
        instance: Instance,
    ) -> wasmtime::Result<Vec<u8>> {
        let mut state = Snapshotted {
            store,
            instance,
            asynchronous: false,
            failed: None,
        };
        let image = ready(self.wizer.snapshot_component(&self.cx, &mut state))?;
        match state.failed {
            Some(e) => Err(e),
            None => image,
        }
    }

    /// [`Self::snapshot`] on a store whose components must be called with `call_async`.
    pub async fn snapshot_async<T: Send>(
        &self,
        store: &mut Store<T>,
        instance: Instance,
    ) -> wasmtime::Result<Vec<u8>> {
        let mut state = Snapshotted {
            store,
            instance,
            asynchronous: true,
            failed: None,
        };
        let image = self.wizer.snapshot_component(&self.cx, &mut state).await;
        match state.failed {
            Some(e) => Err(e),
            None => image,
        }
    }
}

/// The initialiser export has another type than `func()`.
#[derive(Debug)]
struct NotAnInitializer(String);

impl core::fmt::Display for NotAnInitializer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NotAnInitializer {}

/// Polls a future that never waits (every call below is synchronous) to its output.
fn ready<F: Future>(f: F) -> Result<F::Output, wasmtime::Error> {
    let mut f = pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => Ok(v),
        Poll::Pending => Err(wasmtime::Error::msg(
            "the snapshot waited, which a synchronous store never does",
        )),
    }
}

/// The initialised instance, read through the accessors Wizer's instrumentation exports.
/// Wizer's interface has no error path, so a failed read is kept in `failed` and reported
/// once the snapshot returns (its value then is never used).
struct Snapshotted<'a, T: 'static> {
    store: &'a mut Store<T>,
    instance: Instance,
    asynchronous: bool,
    failed: Option<wasmtime::Error>,
}

impl<T: Send> Snapshotted<'_, T> {
    async fn call<R: wasmtime::component::Lift + Send + Sync + 'static>(
        &mut self,
        instance: &str,
        func: &str,
    ) -> Option<R> {
        if self.failed.is_some() {
            return None;
        }
        let f = (|| {
            let (_, inst) = self
                .instance
                .get_export(&mut *self.store, None, instance)
                .ok_or_else(|| wasmtime::Error::msg(format!("no export {instance}")))?;
            let (_, f) = self
                .instance
                .get_export(&mut *self.store, Some(&inst), func)
                .ok_or_else(|| wasmtime::Error::msg(format!("no export {instance}#{func}")))?;
            self.instance
                .get_typed_func::<(), (R,)>(&mut *self.store, f)
        })();
        let got = match f {
            Err(e) => Err(e),
            Ok(f) if self.asynchronous => f.call_async(&mut *self.store, ()).await,
            Ok(f) => f.call(&mut *self.store, ()),
        };
        match got {
            Ok((r,)) => Some(r),
            Err(e) => {
                self.failed = Some(e);
                None
            }
        }
    }
}

impl<T: Send> ComponentInstanceState for Snapshotted<'_, T> {
    async fn call_func_ret_list_u8(
        &mut self,
        instance: &str,
        func: &str,
        contents: impl FnOnce(&[u8]) + Send,
    ) {
        match self.call::<WasmList<u8>>(instance, func).await {
            Some(list) => contents(list.as_le_slice(&*self.store)),
            // A failed read: Wizer still expects the callback; it gets nothing.
            None => contents(&[]),
        }
    }

    async fn call_func_ret_s32(&mut self, instance: &str, func: &str) -> i32 {
        self.call::<i32>(instance, func).await.unwrap_or(0)
    }

    async fn call_func_ret_s64(&mut self, instance: &str, func: &str) -> i64 {
        self.call::<i64>(instance, func).await.unwrap_or(0)
    }

    async fn call_func_ret_f32(&mut self, instance: &str, func: &str) -> u32 {
        self.call::<f32>(instance, func)
            .await
            .map_or(0, f32::to_bits)
    }

    async fn call_func_ret_f64(&mut self, instance: &str, func: &str) -> u64 {
        self.call::<f64>(instance, func)
            .await
            .map_or(0, f64::to_bits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{HostConfig, PluginHost};

    fn host() -> PluginHost {
        PluginHost::new(HostConfig {
            deadline: std::time::Duration::from_millis(20),
            memory_bytes: 2 << 20,
            ..HostConfig::default()
        })
        .unwrap()
    }

    /// A component whose initialiser runs `init` (a core function body) in a module with
    /// one page of memory, and which exports `get`: the i32 at address 0.
    fn component(init: &str, imports: &str) -> Vec<u8> {
        wat::parse_str(format!(
            r#"(component
                {imports}
                (core module $m
                    {core_imports}
                    (memory (export "memory") 1)
                    (global $g (mut i32) (i32.const 0))
                    (func (export "init") {init})
                    (func (export "get") (result i32) (i32.add (i32.load (i32.const 0)) (global.get $g))))
                {instantiate}
                (func (export "wizer-initialize") (canon lift (core func $i "init")))
                (func (export "get") (result s32) (canon lift (core func $i "get"))))"#,
            core_imports = if imports.is_empty() { "" } else { r#"(import "host" "f" (func))"# },
            instantiate = if imports.is_empty() {
                "(core instance $i (instantiate $m))".to_owned()
            } else {
                r#"(core func $f (canon lower (func $host)))
                   (core instance $h (export "f" (func $f)))
                   (core instance $i (instantiate $m (with "host" (instance $h))))"#
                    .to_owned()
            },
        ))
        .unwrap()
    }

    fn get(host: &PluginHost, image: &[u8]) -> i32 {
        let shared = &host.shared;
        let component = Component::new(&shared.engine, image).unwrap();
        assert!(has_initializer(&component));
        let linker: Linker<()> = Linker::new(&shared.engine);
        let mut store = Store::new(&shared.engine, ());
        store.set_epoch_deadline(shared.ticks);
        let instance = linker.instantiate(&mut store, &component).unwrap();
        let f = instance
            .get_typed_func::<(), (i32,)>(&mut store, "get")
            .unwrap();
        f.call(&mut store, ()).unwrap().0
    }

    #[test]
    fn the_image_starts_with_what_the_initialiser_left() {
        let host = host();
        let bytes = component(
            "(i32.store (i32.const 0) (i32.const 40)) (global.set $g (i32.const 2))",
            "",
        );
        // Run as shipped, nothing has run the initialiser.
        assert_eq!(get(&host, &bytes), 0);
        let image = preinitialize(&host.shared, "t", &bytes, false).unwrap();
        assert_eq!(get(&host, &image), 42);
    }

    #[test]
    fn a_hostile_initialiser_fails_the_load_with_the_sandbox_codes() {
        let host = host();
        let code = |init: &str, imports: &str| {
            preinitialize(&host.shared, "t", &component(init, imports), false)
                .unwrap_err()
                .code
        };
        // Runs forever: stopped at the deadline, as a request would be.
        assert_eq!(code("(loop $l (br $l))", ""), error::TIMEOUT);
        // Grows past the 2 MiB bound.
        assert_eq!(
            code("(drop (memory.grow (i32.const 64)))", ""),
            error::MEMORY
        );
        assert_eq!(code("unreachable", ""), error::TRAP);
        // Calls a host import: there is nothing to serve before a request, so it traps.
        assert_eq!(
            code("(call 0)", r#"(import "host" (func $host))"#),
            error::TRAP
        );
    }

    #[test]
    fn what_is_not_a_component_is_refused_not_panicked_on() {
        let host = host();
        // The empty component exports no initialiser.
        for bytes in [&b"\0asm\x0d\0\x01\0"[..], b"garbage", &[]] {
            let e = preinitialize(&host.shared, "t", bytes, false).unwrap_err();
            assert_eq!(e.code, error::INVALID, "{e}");
        }
        // An initialiser that takes an argument is not one.
        let bytes = wat::parse_str(
            r#"(component
                (core module $m (func (export "init") (param i32)))
                (core instance $i (instantiate $m))
                (func (export "wizer-initialize") (param "x" s32) (canon lift (core func $i "init"))))"#,
        )
        .unwrap();
        let e = preinitialize(&host.shared, "t", &bytes, false).unwrap_err();
        assert_eq!(e.code, error::INVALID, "{e}");
    }
}
