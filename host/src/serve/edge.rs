//! `crmguard serve --edge COMPONENT`: serves a `wasi:http/proxy` component (the edge function,
//! crates/edge, or any other) with wasmtime-wasi-http, the crate `wasmtime serve` embeds, and
//! wasi:config's store filled from `--edge-config FILE`.
//!
//! Each request gets a fresh instance (from one pre-instantiated component) in its own store:
//! no state survives a request. The instance gets no filesystem, no sockets, no environment
//! and no stdio; its memory is bounded; it is stopped when the request's deadline passes
//! (wasm running: an epoch trap; waiting: the request is dropped). Its outgoing HTTP may only
//! reach the hosts of the configuration's `origin_url` and `audit_url`: a component that
//! tries any other is refused (`HTTP-request-denied`), so even a compromised or hostile
//! component cannot send what it sees elsewhere.

// Handlers fail with the response they answer, as in `api`.
#![allow(clippy::result_large_err)]

use crate::failure::outln;
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Engine, Store, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_config::{WasiConfig, WasiConfigVariables};
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks, WasiHttpView};

use super::api::problem;
use super::serve_error;
use crate::failure::{CmdResult, Failure};

/// The edge host's own stable codes (docs/ERRORS.md).
pub(crate) mod edge_host_codes {
    /// The component trapped, ran out of memory, or never answered (502).
    pub(crate) const COMPONENT: &str = "ERR_EDGE_COMPONENT";
}

/// How often the epoch advances: the granularity of the deadline for running wasm.
const EPOCH_TICK: Duration = Duration::from_millis(10);
/// The most linear memory one request's instance may have.
const MAX_MEMORY_BYTES: usize = 64 << 20;

/// One request's store: WASI with nothing granted, wasi:http, wasi:config, limits.
struct EdgeState {
    table: ResourceTable,
    wasi: WasiCtx,
    http: WasiHttpCtx,
    hooks: OutgoingAllowList,
    config: Arc<WasiConfigVariables>,
    limits: StoreLimits,
}

impl WasiView for EdgeState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for EdgeState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.hooks,
        }
    }
}

/// The client of every instance's outgoing requests: one connection pool for the host, so a
/// request to the origin or the collector reuses a kept-alive connection instead of opening
/// one per request (wasmtime-wasi-http's default connects anew every time: a third of the
/// gateway's added latency here, docs/BENCHMARKS.md).
type Pooled = hyper_util::client::legacy::Client<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    wasmtime_wasi_http::WasiBody,
>;

fn pooled_client() -> Result<Pooled, Failure> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let tls = rustls::ClientConfig::builder_with_provider(super::tls::provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| serve_error(format!("TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let mut http = hyper_util::client::legacy::connect::HttpConnector::new();
    http.enforce_http(false);
    http.set_connect_timeout(Some(Duration::from_secs(10)));
    http.set_nodelay(true);
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    Ok(
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(https),
    )
}

/// Outgoing requests go to the configured origin and collector only, through the pool.
struct OutgoingAllowList {
    authorities: Arc<BTreeSet<String>>,
    client: Option<Pooled>,
}

/// `host:port`, with the scheme's default port when none is given; `None` without a host.
fn authority_of(uri: &axum::http::Uri) -> Option<String> {
    let a = uri.authority()?;
    let port = a
        .port_u16()
        .unwrap_or(if uri.scheme_str() == Some("https") {
            443
        } else {
            80
        });
    Some(format!("{}:{port}", a.host().to_ascii_lowercase()))
}

impl WasiHttpHooks for OutgoingAllowList {
    fn send_request(
        &mut self,
        request: axum::http::Request<wasmtime_wasi_http::WasiBody>,
        options: Option<wasmtime_wasi_http::RequestOptions>,
        fut: Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
    ) -> Box<
        dyn Future<
                Output = Result<
                    (
                        axum::http::Response<wasmtime_wasi_http::WasiBody>,
                        Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
                    ),
                    wasmtime_wasi_http::Error,
                >,
            > + Send,
    > {
        let allowed = authority_of(request.uri()).is_some_and(|a| self.authorities.contains(&a));
        if !allowed {
            return Box::new(async { Err(wasmtime_wasi_http::Error::HttpRequestDenied) });
        }
        let _ = fut;
        let Some(client) = self.client.clone() else {
            return Box::new(async { Err(wasmtime_wasi_http::Error::HttpRequestDenied) });
        };
        // The guest's first-byte timeout (the client's connect timeout is its own).
        let first_byte = options
            .and_then(|o| o.first_byte_timeout)
            .unwrap_or(Duration::from_secs(600));
        Box::new(async move {
            let sent = tokio::time::timeout(first_byte, client.request(request)).await;
            let response = match sent {
                Err(_) => return Err(wasmtime_wasi_http::Error::ConnectionReadTimeout),
                Ok(Err(e)) if e.is_connect() => {
                    return Err(wasmtime_wasi_http::Error::ConnectionRefused);
                }
                Ok(Err(e)) => {
                    return Err(wasmtime_wasi_http::Error::InternalError(Some(
                        e.to_string(),
                    )));
                }
                Ok(Ok(r)) => r,
            };
            let response =
                response.map(|body| body.map_err(wasmtime_wasi_http::Error::from).boxed_unsync());
            Ok((
                response,
                Box::new(async { Ok(()) })
                    as Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
            ))
        })
    }
}

/// The component, pre-instantiated, and what each request's store gets.
pub(crate) struct EdgeHost {
    pre: ProxyPre<EdgeState>,
    /// Requests instantiate the component's pre-initialised image (it exports
    /// `wizer-initialize`): its settings were read and parsed once, at load.
    pub(crate) preinitialized: bool,
    config: Arc<WasiConfigVariables>,
    authorities: Arc<BTreeSet<String>>,
    client: Pooled,
    deadline: Duration,
}

/// The settings file: a JSON object of keys; a string value is the setting as is, any other
/// JSON value is its compact text (so policies and key sets can be written as JSON).
pub(crate) fn read_settings(path: &Path) -> Result<BTreeMap<String, String>, Failure> {
    let text =
        std::fs::read_to_string(path).map_err(|e| Failure::io(&path.display().to_string(), e))?;
    let value = crmguard_core::request::parse_json_strict(text.as_bytes()).ok_or_else(|| {
        serve_error(format!(
            "{}: not JSON, or a member named twice",
            path.display()
        ))
    })?;
    let serde_json::Value::Object(map) = value else {
        return Err(serve_error(format!(
            "{}: the settings are a JSON object",
            path.display()
        )));
    };
    Ok(map
        .into_iter()
        .map(|(k, v)| {
            let text = match v {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            };
            (k, text)
        })
        .collect())
}

impl EdgeHost {
    /// Compiles `component` and links it against the proxy world and wasi:config.
    pub(crate) fn load(
        component: &Path,
        settings: BTreeMap<String, String>,
        deadline: Duration,
        slots: u32,
        preinit: bool,
    ) -> Result<Self, Failure> {
        let wasm = |e: wasmtime::Error| serve_error(format!("{}: {e:#}", component.display()));
        // Pooled instances with copy-on-write memory images: a fresh instance per request
        // costs no mmap/munmap or page zeroing (perf: a fifth of the request's CPU without).
        // And, where the kernel has PAGEMAP_SCAN, a freed slot's dirtied pages rewritten in
        // place rather than dropped and faulted in again by the next instance (as the plugin
        // host does: docs/BENCHMARKS.md); without it, the plain pool.
        let engine_for = |reset_dirty_pages: bool| {
            let mut pool = wasmtime::PoolingAllocationConfig::new();
            pool.total_component_instances(slots)
                .max_core_instances_per_component(16)
                .total_core_instances(slots * 16)
                .max_memories_per_component(4)
                .total_memories(slots * 2)
                .max_tables_per_component(16)
                .total_tables(slots * 16)
                .max_memory_size(MAX_MEMORY_BYTES);
            if reset_dirty_pages {
                crmguard_runtime::preinit::reset_dirty_pages_in_place(&mut pool, MAX_MEMORY_BYTES);
            }
            let mut config = wasmtime::Config::new();
            config
                .epoch_interruption(true)
                .allocation_strategy(wasmtime::InstanceAllocationStrategy::Pooling(pool))
                .memory_init_cow(true)
                .memory_reservation(MAX_MEMORY_BYTES as u64)
                .memory_guard_size(64 << 10);
            Engine::new(&config)
        };
        let engine = engine_for(true)
            .or_else(|_| engine_for(false))
            .map_err(wasm)?;
        let bytes = std::fs::read(component)
            .map_err(|e| Failure::io(&component.display().to_string(), e))?;
        let compiled = Component::new(&engine, &bytes).map_err(wasm)?;
        let mut linker = Linker::<EdgeState>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(wasm)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker).map_err(wasm)?;
        wasmtime_wasi_config::add_to_linker(&mut linker, |s: &mut EdgeState| {
            WasiConfig::from(&*s.config)
        })
        .map_err(wasm)?;
        let mut authorities = BTreeSet::new();
        for key in ["origin_url", "audit_url"] {
            if let Some(a) = settings
                .get(key)
                .and_then(|u| u.parse::<axum::http::Uri>().ok())
                .as_ref()
                .and_then(authority_of)
            {
                authorities.insert(a);
            }
        }
        // The epoch clock of running wasm: a trap once a request's deadline has passed (and
        // the initialiser's, below).
        let ticker = engine.weak();
        std::thread::spawn(move || {
            while let Some(engine) = ticker.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        });
        let config = Arc::new(WasiConfigVariables::from_iter(settings));
        let preinitialized = preinit && crmguard_runtime::preinit::has_initializer(&compiled);
        let compiled = if preinitialized {
            preinitialize(&engine, &linker, &bytes, &config, deadline)
                .map_err(|e| serve_error(format!("{}: {e}", component.display())))?
        } else {
            compiled
        };
        let pre = ProxyPre::new(linker.instantiate_pre(&compiled).map_err(wasm)?).map_err(wasm)?;
        Ok(Self {
            pre,
            preinitialized,
            config,
            authorities: Arc::new(authorities),
            client: pooled_client()?,
            deadline,
        })
    }

    fn store(&self) -> Store<EdgeState> {
        edge_store(
            self.pre.engine(),
            OutgoingAllowList {
                authorities: self.authorities.clone(),
                client: Some(self.client.clone()),
            },
            &self.config,
            self.deadline,
        )
    }

    /// One request through a fresh instance.
    async fn call(&self, request: axum::extract::Request) -> Result<Response, String> {
        let mut store = self.store();
        let (parts, body) = request.into_parts();
        let body = body.map_err(|e| wasmtime_wasi_http::Error::InternalError(Some(e.to_string())));
        let request = axum::http::Request::from_parts(parts, body);
        let incoming = store
            .data_mut()
            .http()
            .new_incoming_request(Scheme::Http, request)
            .map_err(|e| format!("{e:#}"))?;
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let out = store
            .data_mut()
            .http()
            .new_response_outparam(sender)
            .map_err(|e| format!("{e:#}"))?;
        let pre = self.pre.clone();
        let task = tokio::task::spawn(async move {
            let proxy = pre.instantiate_async(&mut store).await?;
            proxy
                .wasi_http_incoming_handler()
                .call_handle(&mut store, incoming, out)
                .await
        });
        match receiver.await {
            Ok(Ok(response)) => {
                let (parts, body) = response.into_parts();
                Ok(Response::from_parts(
                    parts,
                    axum::body::Body::new(body.map_err(axum::Error::new)),
                ))
            }
            Ok(Err(code)) => Err(format!("the component answered an error: {code:?}")),
            Err(_) => Err(match task.await {
                Ok(Ok(())) => "the component did not answer".to_owned(),
                Ok(Err(e)) => format!("{e:#}"),
                Err(e) => e.to_string(),
            }),
        }
    }
}

/// A store of the edge component: WASI with nothing granted, `hooks` for outgoing HTTP, the
/// settings as wasi:config, the memory bound and `deadline` of running wasm.
fn edge_store(
    engine: &Engine,
    hooks: OutgoingAllowList,
    config: &Arc<WasiConfigVariables>,
    deadline: Duration,
) -> Store<EdgeState> {
    let mut store = Store::new(
        engine,
        EdgeState {
            table: ResourceTable::new(),
            wasi: WasiCtx::builder().build(),
            http: WasiHttpCtx::new(),
            hooks,
            config: config.clone(),
            limits: StoreLimitsBuilder::new()
                .memory_size(MAX_MEMORY_BYTES)
                .instances(64)
                .build(),
        },
    );
    store.limiter(|s| &mut s.limits);
    let ticks = (deadline.as_millis() / EPOCH_TICK.as_millis()).max(1);
    store.set_epoch_deadline(u64::try_from(ticks).unwrap_or(u64::MAX));
    store.epoch_deadline_trap();
    store
}

/// Runs the component's `wizer-initialize` once, with the settings as wasi:config and no
/// outgoing HTTP, within the request deadline and memory bound, and compiles the snapshot
/// (crmguard_runtime::preinit). The image holds the parsed settings, keys included: it lives
/// in this process's memory only and is never written anywhere.
fn preinitialize(
    engine: &Engine,
    linker: &Linker<EdgeState>,
    bytes: &[u8],
    config: &Arc<WasiConfigVariables>,
    deadline: Duration,
) -> Result<Component, String> {
    let run = || -> wasmtime::Result<Component> {
        let instrumented = crmguard_runtime::preinit::Instrumented::new(bytes)?;
        let component = Component::new(engine, instrumented.bytes())?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let image = runtime.block_on(async {
            let no_outgoing = OutgoingAllowList {
                authorities: Arc::new(BTreeSet::new()),
                client: None,
            };
            let mut store = edge_store(engine, no_outgoing, config, deadline);
            let instance = linker.instantiate_async(&mut store, &component).await?;
            let init = instance
                .get_typed_func::<(), ()>(&mut store, crmguard_runtime::preinit::INIT_EXPORT)?;
            init.call_async(&mut store, ()).await?;
            instrumented.snapshot_async(&mut store, instance).await
        })?;
        Component::new(engine, &image)
    };
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(run))
        .map_err(|_| "pre-initialisation failed (the snapshot step panicked)".to_owned())?
        .map_err(|e| format!("pre-initialisation failed: {e:#}"))
}

async fn handle(State(host): State<Arc<EdgeHost>>, request: axum::extract::Request) -> Response {
    match tokio::time::timeout(host.deadline, host.call(request)).await {
        Ok(Ok(response)) => response,
        Ok(Err(e)) => {
            eprintln!("crmguard serve --edge: {e}");
            problem(
                StatusCode::BAD_GATEWAY,
                edge_host_codes::COMPONENT,
                "the edge component failed this request",
            )
        }
        Err(_) => problem(
            StatusCode::SERVICE_UNAVAILABLE,
            super::api::serve_codes::DEADLINE,
            "the request did not complete within its deadline",
        )
        .into_response(),
    }
}

/// `crmguard serve --edge COMPONENT --edge-config FILE`.
pub(crate) fn run(
    component: &Path,
    settings: &Option<PathBuf>,
    listen: &str,
    preinit: bool,
) -> CmdResult {
    let settings = match settings {
        Some(path) => read_settings(path)?,
        None => BTreeMap::new(),
    };
    let limits = super::config::Limits::default();
    let addr: SocketAddr = listen
        .parse()
        .map_err(|_| serve_error(format!("--listen {listen:?} is not an address:port")))?;
    let host = Arc::new(EdgeHost::load(
        component,
        settings,
        Duration::from_millis(limits.request_timeout_ms.max(1)),
        u32::try_from(limits.max_connections.clamp(1, 1024)).unwrap_or(1024),
        preinit,
    )?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::io("the tokio runtime", e))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| Failure::io(&format!("listening on {addr}"), e))?;
        let bound = listener
            .local_addr()
            .map_err(|e| Failure::io("the bound address", e))?;
        if host.preinitialized {
            eprintln!(
                "crmguard serve: edge component pre-initialised (settings read once, at load)"
            );
        }
        outln!("crmguard serve: edge component listening on http://{bound}");
        use std::io::Write as _;
        let _ = std::io::stdout().flush();
        let app = axum::Router::new().fallback(handle).with_state(host);
        super::accept_loop(listener, app, &limits, None).await;
        Ok::<(), Failure>(())
    })?;
    eprintln!("crmguard serve: stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn denied(url: &str, allowed: &[&str]) -> bool {
        let mut hooks = OutgoingAllowList {
            authorities: Arc::new(allowed.iter().map(|s| (*s).to_owned()).collect()),
            client: Some(pooled_client().unwrap()),
        };
        let body = http_body_util::Empty::<axum::body::Bytes>::new()
            .map_err(|never| match never {})
            .boxed_unsync();
        let request = axum::http::Request::builder().uri(url).body(body).unwrap();
        let fut = hooks.send_request(request, None, Box::new(async { Ok(()) }));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        matches!(
            rt.block_on(Box::into_pin(fut)),
            Err(wasmtime_wasi_http::Error::HttpRequestDenied)
        )
    }

    #[test]
    fn outgoing_requests_reach_the_configured_hosts_only() {
        let allowed = ["127.0.0.1:9", "crm.example:443"];
        for url in [
            "http://attacker.example/steal",
            "http://127.0.0.1:10/",
            "https://crm.example:8443/",
            "http://crm.example/",
            "/relative",
        ] {
            assert!(denied(url, &allowed), "{url} must be refused");
        }
        // An allowed host is not refused by the allow-list (the connection to it fails
        // here: nothing listens on port 9).
        assert!(!denied("http://127.0.0.1:9/x", &allowed));
        assert!(!denied("https://CRM.example/x", &allowed));
    }

    #[test]
    fn settings_files_are_json_objects_of_strings_or_json() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.json");
        std::fs::write(&path, r#"{"a": "text", "b": {"x": [1, 2]}}"#).unwrap();
        let s = read_settings(&path).unwrap();
        assert_eq!(s["a"], "text");
        assert_eq!(s["b"], r#"{"x":[1,2]}"#);
        for bad in [r#"{"a": 1, "a": 2}"#, "[1]", "not json"] {
            std::fs::write(&path, bad).unwrap();
            assert!(read_settings(&path).is_err(), "{bad}");
        }
    }
}
