//! `crmguard plugin add|list|verify` and `crmguard run`: the plugins folder and one request
//! through a policy plugin. Translation only; the runner is `crmguard_host`.

use crate::failure::outln;
use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, Subcommand, ValueEnum};
use crmguard_core::request::{Decider, DeciderFailure, Pipeline, Proposal, Target};
use crmguard_core::{ClaimNames, Key256, TenantId, TenantIssuers, UnixTime};
use crmguard_runtime::{
    AccessRequest, ArtifactCache, CacheKey, Capability, HostConfig, LogLine, Manifest, Outcome,
    PluginDecider, PluginError, PluginHost, PluginsDir, Services, TenantKeyrings, World,
};
use serde_json::{Map, Value, json};

use super::audit::{DecisionAuditOpts, record_decision};
use super::token::VerifyOpts;
use crate::failure::{CmdResult, Failure};
use crate::keystore::KeyringOpts;

impl From<PluginError> for Failure {
    fn from(e: PluginError) -> Self {
        Failure::new(e.code, e.message)
    }
}

/// Where the plugins live.
#[derive(Args, Debug, Clone)]
pub(crate) struct DirOpts {
    /// The plugins folder.
    #[arg(long, value_name = "DIR", default_value = "plugins")]
    plugins: PathBuf,
}

impl DirOpts {
    fn dir(&self) -> PluginsDir {
        PluginsDir::new(&self.plugins)
    }

    /// The plugin host. With the keyring's master key, compiled artifacts are cached in
    /// `<plugins>/.cache` under a tag key derived from it; without one nothing is cached,
    /// since an unauthenticated artifact is never loaded.
    fn host(&self, master: Option<&Key256>) -> Result<PluginHost, Failure> {
        Ok(PluginHost::new(HostConfig {
            cache: master.map(|m| ArtifactCache {
                dir: self.plugins.join(".cache"),
                key: CacheKey::derive(m.expose_secret()),
            }),
            ..HostConfig::default()
        })?)
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum WorldArg {
    PolicyPlugin,
    Crypto,
    TokenVerifier,
    AuditBuilder,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum GrantArg {
    Clocks,
}

#[derive(Subcommand, Debug)]
pub(crate) enum PluginCommand {
    /// Copy a component into the plugins folder, pin its SHA-256 and verify it.
    Add {
        #[command(flatten)]
        dir: DirOpts,
        /// The component (.wasm).
        component: PathBuf,
        /// The plugin's name, [a-z0-9-].
        #[arg(long)]
        name: String,
        /// The plugin's version.
        #[arg(long, default_value = "0.1.0")]
        version: String,
        /// The world it implements.
        #[arg(long, value_enum, default_value = "policy-plugin")]
        world: WorldArg,
        /// A capability to grant (default none).
        #[arg(long, value_enum)]
        grant: Vec<GrantArg>,
    },
    /// List the plugins: name, version, world, digest, capabilities.
    List {
        #[command(flatten)]
        dir: DirOpts,
    },
    /// Check digests, worlds and imports (every plugin, or the named one).
    Verify {
        #[command(flatten)]
        dir: DirOpts,
        /// Only this plugin.
        name: Option<String>,
    },
}

pub(crate) fn plugin(cmd: PluginCommand) -> CmdResult {
    match cmd {
        PluginCommand::Add {
            dir,
            component,
            name,
            version,
            world,
            grant,
        } => {
            let world = match world {
                WorldArg::PolicyPlugin => World::PolicyPlugin,
                WorldArg::Crypto => World::Crypto,
                WorldArg::TokenVerifier => World::TokenVerifier,
                WorldArg::AuditBuilder => World::AuditBuilder,
            };
            let caps = grant
                .into_iter()
                .map(|g| match g {
                    GrantArg::Clocks => Capability::Clocks,
                })
                .collect();
            let host = dir.host(None)?;
            let m = dir.dir().add(&name, &version, world, &component, caps)?;
            if let Err(e) = host.verify(&m) {
                // Leave nothing behind that a later run could load.
                let _ = std::fs::remove_dir_all(dir.plugins.join(&name));
                return Err(e.into());
            }
            outln!(
                "added {} {} ({}) sha256:{}",
                m.name,
                m.version,
                m.world.as_str(),
                m.sha256
            );
            Ok(())
        }
        PluginCommand::List { dir } => {
            for m in dir.dir().list()? {
                match m {
                    Ok(m) => {
                        let caps: Vec<&str> = m
                            .capabilities
                            .iter()
                            .map(|c| match c {
                                Capability::Clocks => "clocks",
                            })
                            .collect();
                        outln!(
                            "{}\t{}\t{}\tsha256:{}\t{}",
                            m.name,
                            m.version,
                            m.world.as_str(),
                            m.sha256,
                            if caps.is_empty() {
                                "-".to_owned()
                            } else {
                                caps.join(",")
                            }
                        );
                    }
                    Err(e) => outln!("{e}"),
                }
            }
            Ok(())
        }
        PluginCommand::Verify { dir, name } => {
            let host = dir.host(None)?;
            let manifests = match name {
                Some(n) => vec![dir.dir().manifest(&n)],
                None => dir.dir().list()?,
            };
            let mut first_failure = None;
            for m in manifests {
                let r = m.and_then(|m| host.verify(&m).map(|()| m));
                match r {
                    Ok(m) => outln!("ok\t{}\t{}\tsha256:{}", m.name, m.world.as_str(), m.sha256),
                    Err(e) => {
                        outln!("FAIL\t{e}");
                        first_failure.get_or_insert(e);
                    }
                }
            }
            match first_failure {
                Some(e) => Err(e.into()),
                None => Ok(()),
            }
        }
    }
}

/// `crmguard run`: one request through a policy plugin.
#[derive(Args)]
pub(crate) struct RunArgs {
    #[command(flatten)]
    dir: DirOpts,
    #[command(flatten)]
    keyring: KeyringOpts,
    /// The request (JSON: tenant, action, object, record_id, subject, and token and record
    /// unless given by --token and --record). The caller is whoever the token says, once the
    /// tokens component has verified it.
    #[arg(long, value_name = "FILE")]
    request: PathBuf,
    /// The bearer token (compact JWT in a file), as a CRM API receives it apart from the
    /// request.
    #[arg(long, value_name = "FILE")]
    token: Option<PathBuf>,
    /// The stored record (JSON object in a file, e.g. from `crmguard seal-record`).
    #[arg(long, value_name = "FILE")]
    record: Option<PathBuf>,
    /// The policy plugin to run.
    #[arg(long, default_value = "reference")]
    plugin: String,
    /// The crypto component's plugin name.
    #[arg(long, default_value = "crypto")]
    crypto: String,
    /// The tokens component's plugin name.
    #[arg(long, default_value = "tokens")]
    tokens: String,
    /// The audit component's plugin name (offered to the plugin's `audit` import; loaded
    /// when present in the folder).
    #[arg(long, default_value = "audit")]
    audit_component: String,
    #[command(flatten)]
    verify: VerifyOpts,
    #[command(flatten)]
    tenants: TenantOpts,
    #[command(flatten)]
    audit: DecisionAuditOpts,
}

/// Where tenants have their own identity providers.
#[derive(Args)]
pub(crate) struct TenantOpts {
    /// `TENANT=ISSUER`: only ISSUER may speak for TENANT (repeat per tenant and IdP). With
    /// any given, a token naming a tenant not listed is refused.
    #[arg(long = "tenant-issuer", value_name = "TENANT=ISSUER")]
    tenant_issuers: Vec<String>,
}

impl TenantOpts {
    fn issuers(&self) -> Result<TenantIssuers, Failure> {
        self.tenant_issuers
            .iter()
            .try_fold(TenantIssuers::any(), |acc, pair| {
                let (tenant, issuer) = pair.split_once('=').ok_or_else(|| {
                    request_error(format!("--tenant-issuer {pair:?}: expected TENANT=ISSUER"))
                })?;
                Ok(acc.with(
                    TenantId::new(tenant).map_err(crmguard_core::Error::from)?,
                    issuer,
                ))
            })
    }
}

/// The request file of `crmguard run`: the library's request with a bearer token in place of
/// the principal, which the host derives from the verified claims. `tenant` is the tenant
/// whose record the CRM is asking about; it must be the caller's own.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RunRequest {
    tenant: String,
    #[serde(default)]
    token: Option<String>,
    action: String,
    object: String,
    record_id: String,
    #[serde(default)]
    subject: Option<String>,
    #[serde(default)]
    record: Option<Map<String, Value>>,
}

fn request_error(message: String) -> Failure {
    Failure::new(crmguard_runtime::codes::REQUEST, message)
}

fn read_file(path: &std::path::Path) -> Result<String, Failure> {
    std::fs::read_to_string(path).map_err(|e| Failure::io(&path.display().to_string(), e))
}

/// Exactly one of the request's member and the option's file.
fn one_of<T>(
    what: &str,
    inline: Option<T>,
    file: Option<&PathBuf>,
    parse: impl FnOnce(String) -> Result<T, Failure>,
) -> Result<T, Failure> {
    match (inline, file) {
        (Some(v), None) => Ok(v),
        (None, Some(path)) => parse(read_file(path)?),
        (Some(_), Some(_)) => Err(request_error(format!(
            "the request holds a {what} and --{what} names one too"
        ))),
        (None, None) => Err(request_error(format!(
            "no {what}: put one in the request or pass --{what}"
        ))),
    }
}

/// Prints the outcome (decision, the record as the caller may see it, field actions, the
/// plugin's log, and the audit record when a log is named) as JSON. A deny is an answer, not
/// a failure: exit status 0. A token that does not verify is a failure (its `ERR_JWT_*`
/// code, exit 1): no plugin runs for an unknown caller. The request is decided by core's
/// pipeline ([`Pipeline::decide`]); this only reads files and prints.
pub(crate) fn run(args: RunArgs) -> CmdResult {
    let file: RunRequest = serde_json::from_str(&read_file(&args.request)?)
        .map_err(|e| request_error(format!("request: {e}")))?;
    let token = one_of("token", file.token, args.token.as_ref(), |t| {
        Ok(super::token::token_text(t.as_bytes())?.to_owned())
    })?;
    let record = one_of("record", file.record, args.record.as_ref(), |t| {
        serde_json::from_str(&t).map_err(|e| request_error(format!("record: {e}")))
    })?;
    let now = args.verify.now.unwrap_or_else(crate::keystore::now);
    let time = UnixTime::from_secs(now)
        .ok_or_else(|| request_error(format!("--now {now}: beyond the JSON-safe range")))?;
    let target = Target::parse(
        Some(&file.tenant),
        &file.action,
        &file.object,
        &file.record_id,
        file.subject.as_deref(),
    )?;
    // The pipeline verifies the token (crmguard-core, natively), binds the caller and the
    // caller's tenant before anything untrusted runs, and refuses (audited, no plugin
    // loaded) a request for another tenant's record.
    let (names, issuers) = (ClaimNames::default(), args.tenants.issuers()?);
    let options = args.verify.options();
    let keys = args.verify.key_set()?;
    let pipeline = Pipeline {
        keys: &keys,
        options: &options,
        names: &names,
        issuers: &issuers,
    };
    // One load of the keyring for both the plugin's crypto component and the rendering, on
    // first use (a refused request loads nothing).
    let keyring = OnceKeyring {
        opts: &args.keyring,
        loaded: std::cell::OnceCell::new(),
    };
    let mut decider = RunDecider::new(&args, &keyring);
    let mut sealer = RunSealer(&keyring);
    let decided = pipeline.decide(&token, target, time, record, &mut decider, &mut sealer)?;
    if let Some(failure) = decider.load_error {
        return Err(failure);
    }
    let outcome = Outcome {
        decision: decided.decision,
        log: decider.log,
        log_dropped: decider.log_dropped,
    };
    // Recorded before anything is shown: an unrecordable decision is not acted on.
    let audit = match record_decision(&args.audit, &decided.event)? {
        Some(seq) => json!({ "seq": seq, "event": decided.event }),
        None => Value::Null,
    };
    let mut shown = serde_json::to_value(&outcome)
        .map_err(|e| Failure::new("ERR_IO", format!("serializing the outcome: {e}")))?;
    shown["audit"] = audit;
    let text = serde_json::to_string_pretty(&shown)
        .map_err(|e| Failure::new("ERR_IO", format!("serializing the outcome: {e}")))?;
    outln!("{text}");
    Ok(())
}

/// The plugin of `crmguard run` as core's decider, loaded when the pipeline first asks it,
/// so a refused request loads nothing. A load failure is the command's failure (exit 1), not
/// a deny: the pipeline's answer is discarded.
struct RunDecider<'a> {
    args: &'a RunArgs,
    keyring: &'a OnceKeyring<'a>,
    log: Vec<LogLine>,
    log_dropped: u64,
    load_error: Option<Failure>,
}

impl<'a> RunDecider<'a> {
    fn new(args: &'a RunArgs, keyring: &'a OnceKeyring<'a>) -> Self {
        Self {
            args,
            keyring,
            log: Vec::new(),
            log_dropped: 0,
            load_error: None,
        }
    }

    /// Loads the components and runs the plugin on `request`. The keyring serves the
    /// request's tenant (the caller's) and no other.
    fn load_and_decide(
        &mut self,
        request: &AccessRequest,
    ) -> Result<Result<Proposal, DeciderFailure>, Failure> {
        let args = self.args;
        let keyring = self.keyring.get()?;
        let host = args.dir.host(keyring.master())?;
        let dir = args.dir.dir();
        let keys = Arc::new(TenantKeyrings::new().with(
            request.tenant().clone(),
            keyring.keyring.to_cleartext_json(),
        ));
        let mut services = Services::new(host.load_crypto(&dir.manifest(&args.crypto)?, keys)?);
        // Optional: a plugin calling `tokens` or `audit` without its component gets
        // ERR_PLUGIN_LINK from that call.
        if let Some(m) = optional(dir.manifest(&args.tokens))? {
            services = services.with_tokens(host.load_tokens(&m)?);
        }
        if let Some(m) = optional(dir.manifest(&args.audit_component))? {
            services = services.with_audit(host.load_audit(&m)?);
        }
        let plugin = host.load_plugin(&dir.manifest(&args.plugin)?)?;
        let mut inner = PluginDecider::new(&host, &plugin, &services);
        let answer = inner.decide(request);
        (self.log, self.log_dropped) = inner.take_log();
        Ok(answer)
    }
}

impl Decider for RunDecider<'_> {
    fn name(&self) -> &str {
        &self.args.plugin
    }

    fn decide(&mut self, request: &AccessRequest) -> Result<Proposal, DeciderFailure> {
        self.load_and_decide(request).unwrap_or_else(|failure| {
            let denied = DeciderFailure {
                code: failure.code.to_owned(),
                message: "the plugin could not be loaded".to_owned(),
            };
            self.load_error = Some(failure);
            Err(denied)
        })
    }

    fn invalid_answer_code(&self) -> &'static str {
        PluginDecider::INVALID_ANSWER
    }
}

/// The keyring of `crmguard run`, loaded once, on first use.
struct OnceKeyring<'a> {
    opts: &'a crate::keystore::KeyringOpts,
    loaded: std::cell::OnceCell<crmguard_store::keyring_file::LoadedKeyring>,
}

impl OnceKeyring<'_> {
    fn get(&self) -> Result<&crmguard_store::keyring_file::LoadedKeyring, Failure> {
        if self.loaded.get().is_none() {
            // Set only here, once: `set` cannot find it set already.
            let _ = self.loaded.set(self.opts.load()?);
        }
        self.loaded
            .get()
            .ok_or_else(|| Failure::new("ERR_IO", "the keyring was not loaded"))
    }
}

/// Renders the plugin's treatments with the run's keyring.
struct RunSealer<'a>(&'a OnceKeyring<'a>);

impl RunSealer<'_> {
    fn keyring(&self) -> Result<&crmguard_core::Keyring, crmguard_core::Error> {
        self.0
            .get()
            .map(|k| &k.keyring)
            .map_err(|f| crmguard_core::Error::relayed(f.code, f.message))
    }
}

impl crmguard_core::request::FieldSealer for RunSealer<'_> {
    fn open(
        &mut self,
        ctx: &crmguard_core::FieldContext,
        sealed: &crmguard_core::SealedField,
    ) -> Result<Value, crmguard_core::Error> {
        crmguard_core::request::KeyringSealer::new(self.keyring()?, crmguard_core::SystemEntropy)
            .open(ctx, sealed)
    }

    fn seal(
        &mut self,
        ctx: &crmguard_core::FieldContext,
        value: &Value,
    ) -> Result<crmguard_core::SealedField, crmguard_core::Error> {
        crmguard_core::request::KeyringSealer::new(self.keyring()?, crmguard_core::SystemEntropy)
            .seal(ctx, value)
    }
}

/// A manifest that may be absent from the plugins folder.
fn optional(m: Result<Manifest, PluginError>) -> Result<Option<Manifest>, Failure> {
    match m {
        Ok(m) => Ok(Some(m)),
        Err(e) if e.code == crmguard_runtime::codes::NOT_FOUND => Ok(None),
        Err(e) => Err(e.into()),
    }
}
