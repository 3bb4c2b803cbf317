//! The tokens and audit components: pure components (no imports of ours, an empty sandbox)
//! that a policy plugin's `tokens` and `audit` imports are forwarded to, each in its own
//! store, started on the plugin's first call. Native callers use them through sessions too
//! (conformance tests run the vectors through them).

use std::sync::Arc;

use wasmtime::Store;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::bindings::audit::{AuditBuilder, AuditBuilderPre};
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

fn failure(code: String, message: String) -> PluginError {
    PluginError::new(guard_code(&code), message)
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

impl TokensSession {
    /// Verifies `token` against `jwks_json` at `now`, through the component; returns the claims
    /// (a JSON object, text).
    pub fn verify(
        &mut self,
        token: &str,
        jwks_json: &str,
        options: &crmguard_core::VerificationOptions,
        now: u64,
    ) -> Result<String, PluginError> {
        // The 0.1.0 interface reads empty lists as "not checked" and has no typ setting: the
        // host refuses what it cannot say, exactly as core would, rather than check less.
        options
            .check()
            .map_err(|e| failure(e.code().to_owned(), e.to_string()))?;
        if options.token_type != crmguard_core::TokenType::Jwt {
            return Err(PluginError::new(
                error::REQUEST,
                "the tokens component (crmguard:guard@0.1.0) checks the default token type only",
            ));
        }
        let o = wit_tokens::VerifyOptions {
            issuers: options.allowed_issuers.clone(),
            audiences: options.allowed_audiences.clone(),
            leeway_secs: options.leeway_secs,
            require_exp: options.require_exp,
            max_token_age_secs: options.max_token_age_secs,
            now,
        };
        self.store.set_epoch_deadline(self.ticks);
        let r = self
            .bindings
            .crmguard_guard_tokens()
            .call_verify(&mut self.store, token, jwks_json, &o)
            .map_err(|e| trap(&self.store, "tokens", &e))?;
        r.map_err(|e| failure(e.code, e.message))
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
        let s = r.map_err(|e| failure(e.code, e.message))?;
        Ok(LogSummary {
            log_id: s.log_id,
            size: s.size,
            head_hash: s.head_hash,
            checkpoints: s.checkpoints,
        })
    }

    /// Appends one event (core's `AuditEvent`, JSON) to the log through the component;
    /// returns the new record's line.
    pub fn append(
        &mut self,
        log_id: &str,
        jsonl: &str,
        event_json: &str,
        time: u64,
    ) -> Result<String, PluginError> {
        self.store.set_epoch_deadline(self.ticks);
        let r = self
            .bindings
            .crmguard_guard_audit()
            .call_append(&mut self.store, log_id, jsonl, event_json, time)
            .map_err(|e| trap(&self.store, "audit", &e))?;
        r.map_err(|e| failure(e.code, e.message))
    }
}
