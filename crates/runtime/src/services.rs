//! The tokens and audit components: pure components (no imports of ours, an empty sandbox)
//! that a policy plugin's `tokens` and `audit` imports are forwarded to, each in its own
//! store, started on the plugin's first call. Native callers use them through sessions too
//! (conformance tests run the vectors through them).

use std::sync::Arc;

use wasmtime::Store;
use wasmtime::component::{ResourceAny, ResourceTable};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::bindings::audit::exports::crmguard::guard::audit as wit_audit;
use super::bindings::audit::{AuditBuilder, AuditBuilderPre};
use super::bindings::plugin::crmguard::guard::types::GuardError;
use super::bindings::tokens::exports::crmguard::guard::tokens as wit_tokens;
use super::bindings::tokens::{TokenVerifier, TokenVerifierPre};
use super::crypto::CryptoComponent;
use super::error::{self, PluginError};
use super::sandbox::{self, Limits, SandboxClock, Sandboxed};
use super::shared::{Shared, classify, guard_code};

/// A pure component's store data: its sandbox and nothing else.
pub(crate) struct PureState {
    wasi: WasiCtx,
    table: ResourceTable,
    clock: SandboxClock,
    pub(crate) limits: Limits,
}

impl Sandboxed for PureState {
    fn clock(&mut self) -> &mut SandboxClock {
        &mut self.clock
    }
}

impl WasiView for PureState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

fn pure_store(shared: &Shared) -> Store<PureState> {
    let mut store = Store::new(
        &shared.engine,
        PureState {
            wasi: sandbox::wasi_ctx(false),
            table: ResourceTable::new(),
            clock: SandboxClock::new(false),
            limits: shared.limits(),
        },
    );
    store.limiter(|s| &mut s.limits);
    store.set_epoch_deadline(shared.ticks);
    store
}

/// The loaded tokens component (world `token-verifier`).
#[derive(Clone)]
pub struct TokensComponent {
    pub(crate) pre: TokenVerifierPre<PureState>,
    pub(crate) shared: Arc<Shared>,
}

/// The loaded audit component (world `audit-builder`).
#[derive(Clone)]
pub struct AuditComponent {
    pub(crate) pre: AuditBuilderPre<PureState>,
    pub(crate) shared: Arc<Shared>,
}

/// What a policy plugin's imports are linked to: the crypto component (always), and the
/// tokens and audit components when loaded. A plugin calling an import whose component is
/// not loaded gets `ERR_PLUGIN_LINK` back from that call.
#[derive(Clone)]
pub struct Services {
    /// Serves `fields`.
    pub crypto: CryptoComponent,
    /// Serves `tokens`.
    pub tokens: Option<TokensComponent>,
    /// Serves `audit`.
    pub audit: Option<AuditComponent>,
}

impl Services {
    /// The crypto component alone.
    pub fn new(crypto: CryptoComponent) -> Self {
        Self {
            crypto,
            tokens: None,
            audit: None,
        }
    }

    /// Adds the tokens component.
    #[must_use]
    pub fn with_tokens(mut self, tokens: TokensComponent) -> Self {
        self.tokens = Some(tokens);
        self
    }

    /// Adds the audit component.
    #[must_use]
    pub fn with_audit(mut self, audit: AuditComponent) -> Self {
        self.audit = Some(audit);
        self
    }
}

impl From<CryptoComponent> for Services {
    fn from(crypto: CryptoComponent) -> Self {
        Self::new(crypto)
    }
}

/// A tokens component instance in its own store.
pub struct TokensSession {
    pub(crate) store: Store<PureState>,
    pub(crate) bindings: TokenVerifier,
    pub(crate) ticks: u64,
}

/// An audit component instance in its own store.
pub struct AuditSession {
    pub(crate) store: Store<PureState>,
    pub(crate) bindings: AuditBuilder,
    pub(crate) ticks: u64,
}

/// A key set parsed by a [`TokensSession`]'s component; valid in that session only.
#[derive(Debug)]
pub struct ComponentKeySet(pub(crate) ResourceAny);

/// A log being extended in an [`AuditSession`]'s component; valid in that session only.
#[derive(Debug)]
pub struct ComponentLog(pub(crate) ResourceAny);

impl TokensComponent {
    /// A fresh instance.
    pub fn session(&self) -> Result<TokensSession, PluginError> {
        let mut store = pure_store(&self.shared);
        let bindings = self
            .pre
            .instantiate(&mut store)
            .map_err(|e| classify(&e, false, &self.shared))?;
        Ok(TokensSession {
            store,
            bindings,
            ticks: self.shared.ticks,
        })
    }
}

impl AuditComponent {
    /// A fresh instance.
    pub fn session(&self) -> Result<AuditSession, PluginError> {
        let mut store = pure_store(&self.shared);
        let bindings = self
            .pre
            .instantiate(&mut store)
            .map_err(|e| classify(&e, false, &self.shared))?;
        Ok(AuditSession {
            store,
            bindings,
            ticks: self.shared.ticks,
        })
    }
}

fn trap(store: &Store<PureState>, what: &str, e: &wasmtime::Error) -> PluginError {
    PluginError::new(
        if store.data().limits.exceeded {
            error::MEMORY
        } else {
            error::TRAP
        },
        format!("the {what} component failed: {e}"),
    )
}

fn failure(e: GuardError) -> PluginError {
    PluginError::new(guard_code(&e.code), e.message)
}

/// What a verified log holds, as the audit component reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogSummary {
    /// The log id.
    pub log_id: String,
    /// The number of records.
    pub size: u64,
    /// The last record's hash, hex.
    pub head_hash: String,
    /// The number of checkpoints.
    pub checkpoints: u64,
}

impl From<wit_audit::LogSummary> for LogSummary {
    fn from(s: wit_audit::LogSummary) -> Self {
        Self {
            log_id: s.log_id,
            size: s.size,
            head_hash: s.head_hash,
            checkpoints: s.checkpoints,
        }
    }
}

/// Core's verification options in the interface's terms; `now` in milliseconds.
pub(crate) fn wit_options(
    options: &crmguard_core::VerificationOptions,
    now: crmguard_core::UnixTime,
) -> Result<wit_tokens::VerifyOptions, PluginError> {
    options
        .check()
        .map_err(|e| PluginError::new(guard_code(e.code()), e.to_string()))?;
    let narrow = |v: u64, what: &str| {
        u32::try_from(v)
            .map_err(|_| PluginError::new(error::REQUEST, format!("{what} is over 2^32")))
    };
    Ok(wit_tokens::VerifyOptions {
        issuers: options.allowed_issuers.clone(),
        audiences: options.allowed_audiences.clone(),
        waive_issuer: options.waive.issuer,
        waive_audience: options.waive.audience,
        token_type: match options.token_type {
            crmguard_core::TokenType::AccessToken => wit_tokens::TokenType::AccessToken,
            crmguard_core::TokenType::Any => wit_tokens::TokenType::Any,
            _ => wit_tokens::TokenType::Jwt,
        },
        leeway_secs: narrow(options.leeway_secs, "the leeway")?,
        require_exp: options.require_exp,
        max_token_age_secs: options
            .max_token_age_secs
            .map(|a| narrow(a, "the maximum token age"))
            .transpose()?,
        now: now.as_millis(),
    })
}

impl TokensSession {
    /// Parses `jwks_json` once, in the component.
    pub fn key_set(&mut self, jwks_json: &str) -> Result<ComponentKeySet, PluginError> {
        self.store.set_epoch_deadline(self.ticks);
        let r = self
            .bindings
            .crmguard_guard_tokens()
            .key_set()
            .call_parse(&mut self.store, jwks_json)
            .map_err(|e| trap(&self.store, "tokens", &e))?;
        r.map(ComponentKeySet).map_err(failure)
    }

    /// Verifies `token` against `keys` at `now`, through the component; returns the claims
    /// (a JSON object, text).
    pub fn verify(
        &mut self,
        keys: &ComponentKeySet,
        token: &str,
        options: &crmguard_core::VerificationOptions,
        now: crmguard_core::UnixTime,
    ) -> Result<String, PluginError> {
        let o = wit_options(options, now)?;
        self.store.set_epoch_deadline(self.ticks);
        let r = self
            .bindings
            .crmguard_guard_tokens()
            .key_set()
            .call_verify(&mut self.store, keys.0, token, &o)
            .map_err(|e| trap(&self.store, "tokens", &e))?;
        r.map_err(failure)
    }

    /// Releases a key set in the component.
    pub fn drop_key_set(&mut self, keys: ComponentKeySet) -> Result<(), PluginError> {
        keys.0
            .resource_drop(&mut self.store)
            .map_err(|e| trap(&self.store, "tokens", &e))
    }
}

impl AuditSession {
    /// Verifies a log through the component.
    pub fn verify(
        &mut self,
        log_id: &str,
        jsonl: &str,
        verifying_keys: &[String],
    ) -> Result<LogSummary, PluginError> {
        self.store.set_epoch_deadline(self.ticks);
        let r = self
            .bindings
            .crmguard_guard_audit()
            .call_verify(&mut self.store, log_id, jsonl, verifying_keys)
            .map_err(|e| trap(&self.store, "audit", &e))?;
        r.map(LogSummary::from).map_err(failure)
    }

    /// Verifies `jsonl` once (empty: a new log) and continues after its last record.
    pub fn open_log(&mut self, log_id: &str, jsonl: &str) -> Result<ComponentLog, PluginError> {
        self.store.set_epoch_deadline(self.ticks);
        let r = self
            .bindings
            .crmguard_guard_audit()
            .log_session()
            .call_open(&mut self.store, log_id, jsonl)
            .map_err(|e| trap(&self.store, "audit", &e))?;
        r.map(ComponentLog).map_err(failure)
    }

    /// Chains one event (core's `AuditEvent`, JSON) at `time` after `log`'s last record;
    /// returns the new record's line.
    pub fn append(
        &mut self,
        log: &ComponentLog,
        event_json: &str,
        time: crmguard_core::UnixTime,
    ) -> Result<String, PluginError> {
        self.store.set_epoch_deadline(self.ticks);
        let r = self
            .bindings
            .crmguard_guard_audit()
            .log_session()
            .call_append(&mut self.store, log.0, event_json, time.as_millis())
            .map_err(|e| trap(&self.store, "audit", &e))?;
        r.map_err(failure)
    }

    /// `log`'s chain so far.
    pub fn summary(&mut self, log: &ComponentLog) -> Result<LogSummary, PluginError> {
        self.store.set_epoch_deadline(self.ticks);
        self.bindings
            .crmguard_guard_audit()
            .log_session()
            .call_summary(&mut self.store, log.0)
            .map(LogSummary::from)
            .map_err(|e| trap(&self.store, "audit", &e))
    }
}
