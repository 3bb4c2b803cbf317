//! `crmguard serve`: the policy and protection service a CRM calls per request, a thin HTTP
//! adapter over core's request pipeline ([`crmguard_core::request::Pipeline`]).
//!
//! The data folder (`--data DIR`) holds everything, with embedded defaults for one machine:
//!
//! ```text
//! DIR/crmguard.toml           configuration (optional; see config.rs)
//! DIR/jwks.json               the identity provider's key set
//! DIR/policy.json             the field policy (objects not given to a plugin)
//! DIR/keyrings/<tenant>.json  one keyring per tenant, sealed under the master key
//! DIR/plugins/                policy plugins and the crypto component (when objects use one)
//! DIR/audit/signing.key       the audit signing key
//! DIR/audit/decisions.jsonl   the audit log: every decision, durable before it is answered
//! ```

mod api;
mod audit;
mod audit_api;
mod config;
mod edge;
mod jwks;
mod keyrings;
mod metrics;
mod scope;
mod subjects;
mod tls;

use crate::failure::outln;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use crmguard_core::{
    ClaimNames, KeySet, Policy, RecordSchema, TenantId, TenantIssuers, TokenType,
    VerificationOptions, Waivers,
};
use crmguard_runtime::{HostConfig, Plugin, PluginHost, PluginsDir, Services, World};
use crmguard_store::audit_log::{AuditLog, LogOptions};

use crate::failure::{CmdResult, Failure};
use crate::keystore::KeyringOpts;

/// `crmguard serve` options.
#[derive(Args)]
pub(crate) struct ServeOpts {
    /// The data folder.
    #[arg(long, value_name = "DIR", default_value = "crmguard-data")]
    data: PathBuf,
    /// The address to listen on (default: the config's `listen`, else 127.0.0.1:8080; port 0
    /// picks a free port). The first stdout line names the address bound.
    #[arg(long, value_name = "ADDR")]
    listen: Option<String>,
    /// The configuration file (default: DIR/crmguard.toml).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// A file holding the base64 master key (instead of CRMGUARD_MASTER_KEY).
    #[arg(long, value_name = "FILE")]
    master_key_file: Option<PathBuf>,
    /// Allow tenant keyrings stored in cleartext (tests and demos only).
    #[arg(long)]
    insecure_cleartext: bool,
    /// The audit log this service writes (default: the config's `[audit] log`, else
    /// DIR/audit/decisions.jsonl). Replicas sharing a data folder each name their own: a
    /// log has one writer (it is locked), one chain and one log id.
    #[arg(long, value_name = "FILE")]
    audit_log: Option<PathBuf>,
    /// Serve a wasi:http proxy component instead (the edge function, crates/edge): every
    /// request through a fresh sandboxed instance; the data folder is not read.
    #[arg(long, value_name = "COMPONENT")]
    edge: Option<PathBuf>,
    /// The component's settings (wasi:config/store): a JSON object of keys (docs/EDGE.md).
    #[arg(long, value_name = "FILE", requires = "edge")]
    edge_config: Option<PathBuf>,
    /// Run the edge component as shipped: do not run its `wizer-initialize` at load and
    /// snapshot it (so every request reads and parses the settings), e.g. to compare.
    #[arg(long, requires = "edge")]
    edge_no_preinit: bool,
}

/// Who decides an object's requests.
pub(crate) enum ObjectDecider {
    /// The native policy (policy.json).
    Policy,
    /// A policy plugin, by name.
    Plugin(Arc<Plugin>),
}

/// The plugin host and the services its plugins import, when any object uses a plugin.
type Plugins = Option<(PluginHost, Services)>;

/// policy.json (none: every object is given to a plugin) and the claims it names.
pub(crate) struct Policies {
    pub(crate) policy: Option<Policy>,
    pub(crate) names: ClaimNames,
}

impl Policies {
    /// `DIR/policy.json`, if there is one.
    fn load(data: &Path) -> Result<Self, Failure> {
        let path = data.join("policy.json");
        let policy = if path.exists() {
            Some(Policy::from_json(&read(&path)?)?)
        } else {
            None
        };
        let names = policy
            .as_ref()
            .map(|p| p.document().claims.clone())
            .unwrap_or_default();
        Ok(Self { policy, names })
    }
}

impl Service {
    /// The policy as of now (a reload later is not in it).
    pub(crate) fn policies(&self) -> Arc<Policies> {
        self.policies
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Reads policy.json again (on SIGHUP); an unreadable or invalid one is refused and the
    /// policy in use stays. A policy is needed while any object is not given to a plugin.
    pub(crate) fn reload_policy(&self) -> Result<(), Failure> {
        let next = Policies::load(&self.data)?;
        if next.policy.is_none()
            && self
                .objects
                .values()
                .any(|o| matches!(o, ObjectDecider::Policy))
        {
            return Err(serve_error(
                "policy.json is gone, and an object is not given to a plugin".into(),
            ));
        }
        *self
            .policies
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(next);
        Ok(())
    }
}

/// Everything a request needs, loaded once at start.
pub(crate) struct Service {
    pub(crate) keys: jwks::KeySource,
    pub(crate) options: VerificationOptions,
    pub(crate) issuers: TenantIssuers,
    /// policy.json and the claim names it reads, as of the last (re)load.
    pub(crate) policies: std::sync::RwLock<Arc<Policies>>,
    /// The data folder.
    pub(crate) data: PathBuf,
    pub(crate) keyrings: Arc<keyrings::Keyrings>,
    /// Roles that may erase a data subject (`[subjects] erasers`).
    pub(crate) erasers: Vec<String>,
    /// `tenant-keys/<tenant>.key`: the HPKE keys browsers seal `cgh1:` values to.
    pub(crate) tenant_keys: BTreeMap<TenantId, crmguard_core::TenantSecretKey>,
    pub(crate) objects: BTreeMap<String, ObjectDecider>,
    pub(crate) schemas: BTreeMap<String, RecordSchema>,
    pub(crate) plugins: Plugins,
    pub(crate) audit: audit::AuditWriter,
    pub(crate) audit_readers: Vec<String>,
    pub(crate) audit_writers: Vec<String>,
    pub(crate) metrics: Arc<metrics::Metrics>,
    pub(crate) max_body: usize,
    /// `[limits] request_timeout_ms`.
    pub(crate) request_timeout: Duration,
    /// `[log] access`.
    pub(crate) access_log: bool,
}

fn serve_error(message: String) -> Failure {
    Failure::new(api::serve_codes::CONFIG, message)
}

fn read(path: &std::path::Path) -> Result<String, Failure> {
    std::fs::read_to_string(path).map_err(|e| Failure::io(&path.display().to_string(), e))
}

impl ServeOpts {
    fn load(&self) -> Result<(Service, config::Config, std::thread::JoinHandle<()>), Failure> {
        let cfg = config::Config::load(
            &self
                .config
                .clone()
                .unwrap_or_else(|| self.data.join("crmguard.toml")),
        )?;
        let t = &cfg.tokens;
        let options = VerificationOptions {
            leeway_secs: t.leeway_secs,
            allowed_issuers: t.issuers.clone(),
            allowed_audiences: t.audiences.clone(),
            token_type: if t.access_token {
                TokenType::AccessToken
            } else {
                TokenType::Jwt
            },
            waive: Waivers {
                issuer: t.any_issuer,
                audience: t.any_audience,
            },
            ..VerificationOptions::default()
        };
        options.check()?;
        let metrics = Arc::new(metrics::Metrics::default());
        let keys = match &t.jwks_url {
            None => jwks::KeySource::Local(Arc::new(KeySet::from_json(&read(
                &self.data.join(&t.jwks),
            )?)?)),
            Some(url) => jwks::KeySource::Remote(Box::new(jwks::RemoteKeySet::new(
                url,
                t.jwks_ca.as_ref().map(|p| self.data.join(p)).as_deref(),
                jwks::RemoteOptions {
                    cache_max_age: Duration::from_secs(t.jwks_cache_max_age_secs),
                    cooldown: Duration::from_secs(t.jwks_cooldown_secs),
                    timeout: Duration::from_millis(t.jwks_timeout_ms.max(1)),
                },
                metrics.clone(),
            )?)),
        };
        let policies = Policies::load(&self.data)?;
        let policy = policies.policy.as_ref();
        let mut issuers = TenantIssuers::any();
        for (tenant, spec) in &cfg.tenants {
            for iss in &spec.issuers {
                issuers = issuers.with(
                    TenantId::new(tenant.as_str()).map_err(crmguard_core::Error::from)?,
                    iss.clone(),
                );
            }
        }
        let loaded = self.keyrings()?;
        for tenant in cfg.tenants.keys() {
            if !loaded.keys().any(|t| t.as_str() == tenant) {
                return Err(serve_error(format!(
                    "tenant {tenant:?} is configured but keyrings/{tenant}.json is missing"
                )));
            }
        }
        let keyrings = Arc::new(keyrings::Keyrings::new(loaded));
        let (plugins, objects) = self.plugins(&cfg, &keyrings)?;
        if policy.is_none() && objects.values().any(|o| matches!(o, ObjectDecider::Policy)) {
            return Err(serve_error(
                "no policy.json, and an object is not given to a plugin".into(),
            ));
        }
        let schemas = self.schemas()?;
        let tenant_keys = self.tenant_keys(&keyrings)?;
        let audit_path = self.audit_log.clone().unwrap_or_else(|| {
            self.data.join(
                cfg.audit
                    .log
                    .as_deref()
                    .unwrap_or(Path::new("audit/decisions.jsonl")),
            )
        });
        let (audit, thread) = self.audit_log(&audit_path, metrics.clone())?;
        Ok((
            Service {
                keys,
                options,
                issuers,
                policies: std::sync::RwLock::new(Arc::new(policies)),
                data: self.data.clone(),
                keyrings,
                erasers: cfg.subjects.erasers.clone(),
                tenant_keys,
                objects,
                schemas,
                plugins,
                audit,
                audit_readers: cfg.audit.readers.clone(),
                audit_writers: cfg.audit.writers.clone(),
                metrics,
                max_body: cfg.limits.max_body_bytes,
                request_timeout: Duration::from_millis(cfg.limits.request_timeout_ms.max(1)),
                access_log: cfg.log.access,
            },
            cfg,
            thread,
        ))
    }

    /// `schemas/<object>.json`: the record schemas of the write path (none: no write path).
    fn schemas(&self) -> Result<BTreeMap<String, RecordSchema>, Failure> {
        let dir = self.data.join("schemas");
        let mut out = BTreeMap::new();
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return Ok(out);
        };
        for entry in entries {
            let path = entry
                .map_err(|e| Failure::io(&dir.display().to_string(), e))?
                .path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            let schema = RecordSchema::from_json(&read(&path)?)?;
            let object = schema.object().to_string();
            if path.file_stem().and_then(|s| s.to_str()) != Some(object.as_str()) {
                return Err(serve_error(format!(
                    "{} is the schema of {object:?}; name it schemas/{object}.json",
                    path.display()
                )));
            }
            out.insert(object, schema);
        }
        Ok(out)
    }

    /// `tenant-keys/<tenant>.key` (from `crmguard tenant-key new`), for served tenants only;
    /// none: no browser-sealed values are accepted.
    fn tenant_keys(
        &self,
        keyrings: &keyrings::Keyrings,
    ) -> Result<BTreeMap<TenantId, crmguard_core::TenantSecretKey>, Failure> {
        let mut out = BTreeMap::new();
        for tenant in keyrings.snapshot().keyrings.keys() {
            let path = self.data.join(format!("tenant-keys/{tenant}.key"));
            if !path.exists() {
                continue;
            }
            let bytes = crmguard_store::key_file::read(&path)?;
            out.insert(
                tenant.clone(),
                crmguard_core::TenantSecretKey::from_bytes(&bytes)?,
            );
        }
        Ok(out)
    }

    /// `keyrings/<tenant>.json`, each checked against its `.state` (rollback protection).
    fn keyrings(&self) -> Result<BTreeMap<TenantId, keyrings::Loaded>, Failure> {
        let dir = self.data.join("keyrings");
        let mut out = BTreeMap::new();
        let entries =
            std::fs::read_dir(&dir).map_err(|e| Failure::io(&dir.display().to_string(), e))?;
        for entry in entries {
            let path = entry
                .map_err(|e| Failure::io(&dir.display().to_string(), e))?
                .path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
                continue;
            };
            let tenant = TenantId::new(stem).map_err(crmguard_core::Error::from)?;
            let opts = KeyringOpts {
                keyring: path.clone(),
                master_key_file: self.master_key_file.clone(),
                insecure_cleartext: self.insecure_cleartext,
                keyring_state: None,
            };
            // Before the read: a change made while it is read is found on first use.
            let stamp = keyrings::Stamp::of(&path);
            out.insert(tenant, (opts.load()?.keyring, opts.file()?, stamp));
        }
        if out.is_empty() {
            return Err(serve_error(format!("no keyrings in {}", dir.display())));
        }
        Ok(out)
    }

    fn plugins(
        &self,
        cfg: &config::Config,
        keyrings: &Arc<keyrings::Keyrings>,
    ) -> Result<(Plugins, BTreeMap<String, ObjectDecider>), Failure> {
        let mut objects = BTreeMap::new();
        if cfg.objects.values().all(|o| o.plugin.is_none()) {
            for name in cfg.objects.keys() {
                objects.insert(name.clone(), ObjectDecider::Policy);
            }
            return Ok((None, objects));
        }
        let host = PluginHost::new(HostConfig::default())?;
        let dir = PluginsDir::new(self.data.join("plugins"));
        // The crypto component serves each tenant its own keyring and no other.
        // As of each request: a subject key created or erased since start is served too.
        let keys = keyrings::SnapshotKeys(keyrings.clone());
        let services = Services::new(host.load_crypto(&dir.manifest("crypto")?, Arc::new(keys))?);
        let mut loaded: BTreeMap<String, Arc<Plugin>> = BTreeMap::new();
        for (name, o) in &cfg.objects {
            let decider = match &o.plugin {
                None => ObjectDecider::Policy,
                Some(p) => {
                    if !loaded.contains_key(p) {
                        let m = dir.manifest(p)?;
                        if m.world != World::PolicyPlugin {
                            return Err(serve_error(format!(
                                "plugin {p:?} is not a policy plugin"
                            )));
                        }
                        loaded.insert(p.clone(), Arc::new(host.load_plugin(&m)?));
                    }
                    ObjectDecider::Plugin(loaded[p].clone())
                }
            };
            objects.insert(name.clone(), decider);
        }
        Ok((Some((host, services)), objects))
    }

    fn audit_log(
        &self,
        path: &Path,
        metrics: Arc<metrics::Metrics>,
    ) -> Result<(audit::AuditWriter, std::thread::JoinHandle<()>), Failure> {
        let dir = self.data.join("audit");
        let key_text = zeroize::Zeroizing::new(read(&dir.join("signing.key"))?);
        let key = crmguard_core::AuditSigningKey::from_json(&key_text)
            .map_err(crmguard_core::Error::from)?;
        let record = crmguard_core::RecordOptions::new(
            env!("CARGO_PKG_VERSION"),
            Some(key.pseudonym_key().clone()),
        );
        let mut id = [0u8; 8];
        getrandom_fill(&mut id)?;
        let options = LogOptions {
            // The writer thread commits once per batch; the log itself never does.
            durability: crmguard_store::audit_log::Durability::Explicit,
            checkpoint_every: Some(1000),
            rotate_bytes: None,
            record,
            trusted_keys: Vec::new(),
            new_log_id: format!("serve-{}", hex::encode(id)),
        };
        let (log, _) = AuditLog::open(path, key, options)
            .map_err(|e| Failure::new(e.code(), e.to_string()))?;
        let (writer, thread) = audit::AuditWriter::start(log, metrics)
            .map_err(|e| Failure::io("the audit writer thread", e))?;
        Ok((writer, thread))
    }
}

fn getrandom_fill(buf: &mut [u8]) -> Result<(), Failure> {
    use crmguard_core::Entropy;
    crmguard_core::SystemEntropy
        .fill(buf)
        .map_err(Failure::from)
}

/// Runs the service until SIGINT or SIGTERM; then stops accepting, finishes the requests in
/// flight, and closes the audit log with a checkpoint.
pub(crate) fn run(opts: ServeOpts) -> CmdResult {
    if let Some(component) = &opts.edge {
        let listen = opts.listen.as_deref().unwrap_or("127.0.0.1:8080");
        return edge::run(component, &opts.edge_config, listen, !opts.edge_no_preinit);
    }
    let (service, cfg, audit_thread) = opts.load()?;
    let listen = opts
        .listen
        .clone()
        .or(cfg.listen.clone())
        .unwrap_or_else(|| "127.0.0.1:8080".to_owned());
    let addr: SocketAddr = listen
        .parse()
        .map_err(|_| serve_error(format!("--listen {listen:?} is not an address:port")))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::io("the tokio runtime", e))?;
    let tls = cfg
        .tls
        .as_ref()
        .map(|t| tls::acceptor(&opts.data, t))
        .transpose()?;
    let service = Arc::new(service);
    runtime.block_on(async move {
        // SIGHUP: the keyring files are read again (e.g. after `crmguard keys rotate`).
        if let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        {
            let s = service.clone();
            tokio::spawn(async move {
                while hup.recv().await.is_some() {
                    let k = s.keyrings.clone();
                    if let Ok((n, refused)) = tokio::task::spawn_blocking(move || k.reload()).await
                    {
                        eprintln!("crmguard serve: SIGHUP: {n} keyrings reloaded");
                        for r in refused {
                            eprintln!("crmguard serve: SIGHUP: kept the loaded keyring of {r}");
                        }
                    }
                    match s.reload_policy() {
                        Ok(()) => eprintln!("crmguard serve: SIGHUP: policy reloaded"),
                        Err(e) => {
                            eprintln!("crmguard serve: SIGHUP: kept the loaded policy: {e}");
                        }
                    }
                }
            });
        }
        // A remote key set is fetched before the first request; if the IdP cannot be reached
        // now, token paths answer 503 and /readyz waits until a fetch succeeds.
        if let Err(e) = service.keys.current().await {
            eprintln!(
                "warning: no key set yet ({}: {}); token paths answer 503 until one is fetched",
                e.code, e.message
            );
        }
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| Failure::io(&format!("listening on {addr}"), e))?;
        let bound = listener
            .local_addr()
            .map_err(|e| Failure::io("the bound address", e))?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        outln!("crmguard serve: listening on {scheme}://{bound}");
        use std::io::Write as _;
        let _ = std::io::stdout().flush();
        accept_loop(listener, api::router(service), &cfg.limits, tls).await;
        Ok::<(), Failure>(())
    })?;
    // Every request handle is gone: the writer drains, checkpoints and closes the log.
    drop(runtime);
    let _ = audit_thread.join();
    eprintln!("crmguard serve: stopped; audit log closed");
    Ok(())
}

/// Accepts connections until SIGINT/SIGTERM: HTTP/1.1 and h2 (h2c without TLS) on each, the
/// TLS handshake and then the headers each within the read timeout (a client trickling them
/// is dropped), at most `max_connections` at once. Then stops accepting and lets open
/// connections finish (at most 10 s).
async fn accept_loop(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    limits: &config::Limits,
    tls: Option<tokio_rustls::TlsAcceptor>,
) {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use hyper_util::server::conn::auto;
    use hyper_util::service::TowerToHyperService;

    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(std::time::Duration::from_millis(
            limits.header_read_timeout_ms,
        ));
    builder.http2().timer(TokioTimer::new());
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
    let stop = shutdown();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        // Out of descriptors and the like: back off instead of spinning.
                        eprintln!("crmguard serve: accept: {e}");
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let Ok(permit) = slots.clone().try_acquire_owned() else {
                    drop(stream);
                    continue;
                };
                let service = TowerToHyperService::new(app.clone());
                let Some(acceptor) = tls.clone() else {
                    let conn = builder
                        .serve_connection_with_upgrades(TokioIo::new(stream), service)
                        .into_owned();
                    let conn = graceful.watch(conn);
                    tokio::spawn(async move {
                        let _ = conn.await;
                        drop(permit);
                    });
                    continue;
                };
                let (builder, watcher) = (builder.clone(), graceful.watcher());
                let handshake = std::time::Duration::from_millis(limits.header_read_timeout_ms);
                tokio::spawn(async move {
                    if let Ok(Ok(stream)) =
                        tokio::time::timeout(handshake, acceptor.accept(stream)).await
                    {
                        let conn = builder
                            .serve_connection_with_upgrades(TokioIo::new(stream), service)
                            .into_owned();
                        let _ = watcher.watch(conn).await;
                    }
                    drop(permit);
                });
            }
            () = &mut stop => break,
        }
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {},
        () = tokio::time::sleep(std::time::Duration::from_secs(10)) => {
            eprintln!("crmguard serve: connections still open after 10 s; closing them");
        }
    }
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
