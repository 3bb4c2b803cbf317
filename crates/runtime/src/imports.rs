//! A policy plugin's store and its imports: the request-scoped `sealing.record-sealer`
//! forwarded to the crypto component (the request's record only, within budgets), `tokens`
//! and `audit` with their resources forwarded to their components, `logging` bounded.
//!
//! Each import's component starts on the plugin's first call, in its own store; its trap
//! becomes the plugin call's trap. A plugin's resources are entries of its own store's table,
//! gone with the request.

use wasmtime::component::{Resource, ResourceAny, ResourceTable};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::bindings::plugin::crmguard::guard::types::{
    BlindIndexSpec, ContentType, GuardError, KeyScope, Opened,
};
use super::bindings::plugin::crmguard::guard::{
    audit as plugin_audit, logging, sealing, tokens as plugin_tokens, types,
};
use super::bindings::tokens::exports::crmguard::guard::tokens as wit_tokens;
use super::crypto::CryptoSession;
use super::error;
use super::request::LogLine;
use super::sandbox::{Limits, SandboxClock, Sandboxed};
use super::scope::{Call, Scope};
use super::services::{AuditSession, Services, TokensSession};

/// The longest log line kept, in bytes.
const MAX_LOG_LINE: usize = 1024;

/// A policy plugin's store data.
pub(crate) struct PluginState {
    pub(crate) wasi: WasiCtx,
    pub(crate) table: ResourceTable,
    pub(crate) clock: SandboxClock,
    pub(crate) limits: Limits,
    pub(crate) services: Services,
    pub(crate) scope: Scope,
    pub(crate) session: Option<CryptoSession>,
    pub(crate) tokens_session: Option<TokensSession>,
    pub(crate) audit_session: Option<AuditSession>,
    pub(crate) log: Vec<LogLine>,
    pub(crate) log_dropped: u64,
    pub(crate) max_log_lines: usize,
    /// Key sets and log sessions the plugin holds now.
    pub(crate) resources: u32,
}

/// The request-scoped sealer a plugin gets with `decide`: its state is the store's
/// [`Scope`], so the handle itself holds nothing.
#[derive(Debug)]
#[allow(unreachable_pub)] // `pub`: the generated bindings re-export it
pub struct RequestSealer;

/// A key set a plugin parsed: the tokens component's resource, in the plugin's tokens session.
#[derive(Debug)]
#[allow(unreachable_pub)] // `pub`: the generated bindings re-export it
pub struct PluginKeySet(ResourceAny);

/// A log a plugin is extending: the audit component's resource, in its audit session.
#[derive(Debug)]
#[allow(unreachable_pub)] // `pub`: the generated bindings re-export it
pub struct PluginLogSession(ResourceAny);

/// Key sets and log sessions a plugin may hold at once.
const MAX_RESOURCES: u32 = 64;

impl PluginState {
    /// Whether the plugin or any component it called ran into its memory or table bound.
    pub(crate) fn any_limit_exceeded(&self) -> bool {
        self.limits.exceeded
            || self
                .session
                .as_ref()
                .is_some_and(|s| s.store.data().limits.exceeded)
            || self
                .tokens_session
                .as_ref()
                .is_some_and(|s| s.store.data().limits.exceeded)
            || self
                .audit_session
                .as_ref()
                .is_some_and(|s| s.store.data().limits.exceeded)
    }
}

impl WasiView for PluginState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl Sandboxed for PluginState {
    fn clock(&mut self) -> &mut SandboxClock {
        &mut self.clock
    }
}

impl PluginState {
    /// The crypto session, started on first use. A failure to start traps the plugin's call.
    fn session(&mut self) -> wasmtime::Result<&mut CryptoSession> {
        if self.session.is_none() {
            let s = self
                .services
                .crypto
                .session(&self.scope.tenant)
                .map_err(wasmtime::Error::new)?;
            self.session = Some(s);
        }
        // Set just above when it was absent.
        self.session
            .as_mut()
            .ok_or_else(|| wasmtime::Error::msg("crypto session missing"))
    }

    /// Runs one call on the crypto component; its trap becomes the plugin call's trap.
    fn forward<T>(
        &mut self,
        call: impl FnOnce(&mut CryptoSession) -> wasmtime::Result<Result<T, GuardError>>,
    ) -> wasmtime::Result<Result<T, GuardError>> {
        let s = self.session()?;
        s.store.set_epoch_deadline(s.ticks);
        call(s)
    }

    fn tokens_session(&mut self) -> wasmtime::Result<Option<&mut TokensSession>> {
        if self.tokens_session.is_none() {
            let Some(c) = &self.services.tokens else {
                return Ok(None);
            };
            self.tokens_session = Some(c.session().map_err(wasmtime::Error::new)?);
        }
        Ok(self.tokens_session.as_mut())
    }

    fn audit_session(&mut self) -> wasmtime::Result<Option<&mut AuditSession>> {
        if self.audit_session.is_none() {
            let Some(c) = &self.services.audit else {
                return Ok(None);
            };
            self.audit_session = Some(c.session().map_err(wasmtime::Error::new)?);
        }
        Ok(self.audit_session.as_mut())
    }

    /// Counts one more held resource, or refuses it past [`MAX_RESOURCES`].
    fn hold(&mut self) -> Result<(), GuardError> {
        if self.resources >= MAX_RESOURCES {
            return Err(error::guard(
                error::SCOPE,
                format!("more than {MAX_RESOURCES} key sets and log sessions held at once"),
            ));
        }
        self.resources += 1;
        Ok(())
    }
}

fn not_loaded(what: &str) -> GuardError {
    error::guard(
        error::LINK,
        format!("the host has no {what} component loaded"),
    )
}

impl types::Host for PluginState {}
impl sealing::Host for PluginState {}

impl sealing::HostRecordSealer for PluginState {
    fn seal(
        &mut self,
        sealer: Resource<RequestSealer>,
        field: String,
        plaintext: Vec<u8>,
        content: ContentType,
        key: KeyScope,
    ) -> wasmtime::Result<Result<String, GuardError>> {
        self.table.get(&sealer)?;
        let ctx = match self
            .scope
            .admits_key(key)
            .and_then(|()| self.scope.admit(Call::Seal, &field))
        {
            Ok(ctx) => ctx,
            Err(e) => return Ok(Err(e)),
        };
        self.forward(|s| {
            s.bindings.crmguard_guard_fields().call_seal(
                &mut s.store,
                &ctx,
                &plaintext,
                content,
                key,
            )
        })
    }

    fn open(
        &mut self,
        sealer: Resource<RequestSealer>,
        field: String,
        sealed: String,
    ) -> wasmtime::Result<Result<Opened, GuardError>> {
        self.table.get(&sealer)?;
        let ctx = match self.scope.admit(Call::Open, &field) {
            Ok(ctx) => ctx,
            Err(e) => return Ok(Err(e)),
        };
        self.forward(|s| {
            s.bindings
                .crmguard_guard_fields()
                .call_open(&mut s.store, &ctx, &sealed)
        })
    }

    fn blind_index(
        &mut self,
        sealer: Resource<RequestSealer>,
        field: String,
        spec: BlindIndexSpec,
        key: KeyScope,
        value: String,
    ) -> wasmtime::Result<Result<String, GuardError>> {
        self.table.get(&sealer)?;
        let ctx = match self
            .scope
            .admits_key(key)
            .and_then(|()| self.scope.admit(Call::BlindIndex, &field))
        {
            Ok(ctx) => ctx,
            Err(e) => return Ok(Err(e)),
        };
        self.forward(|s| {
            s.bindings.crmguard_guard_fields().call_blind_index(
                &mut s.store,
                &ctx,
                &spec,
                key,
                &value,
            )
        })
    }

    fn drop(&mut self, sealer: Resource<RequestSealer>) -> wasmtime::Result<()> {
        self.table.delete(sealer)?;
        Ok(())
    }
}

fn to_wit_options(o: plugin_tokens::VerifyOptions) -> wit_tokens::VerifyOptions {
    wit_tokens::VerifyOptions {
        issuers: o.issuers,
        audiences: o.audiences,
        waive_issuer: o.waive_issuer,
        waive_audience: o.waive_audience,
        token_type: match o.token_type {
            plugin_tokens::TokenType::Jwt => wit_tokens::TokenType::Jwt,
            plugin_tokens::TokenType::AccessToken => wit_tokens::TokenType::AccessToken,
            plugin_tokens::TokenType::Any => wit_tokens::TokenType::Any,
        },
        leeway_secs: o.leeway_secs,
        require_exp: o.require_exp,
        max_token_age_secs: o.max_token_age_secs,
        now: o.now,
    }
}

impl plugin_tokens::Host for PluginState {}

impl plugin_tokens::HostKeySet for PluginState {
    fn parse(
        &mut self,
        jwks_json: String,
    ) -> wasmtime::Result<Result<Resource<PluginKeySet>, GuardError>> {
        if let Err(e) = self.hold() {
            return Ok(Err(e));
        }
        let Some(s) = self.tokens_session()? else {
            return Ok(Err(not_loaded("tokens")));
        };
        s.store.set_epoch_deadline(s.ticks);
        let r = s
            .bindings
            .crmguard_guard_tokens()
            .key_set()
            .call_parse(&mut s.store, &jwks_json)?;
        match r {
            Ok(keys) => Ok(Ok(self.table.push(PluginKeySet(keys))?)),
            Err(e) => {
                self.resources -= 1;
                Ok(Err(e))
            }
        }
    }

    fn len(&mut self, keys: Resource<PluginKeySet>) -> wasmtime::Result<u32> {
        let any = self.table.get(&keys)?.0;
        let Some(s) = self.tokens_session()? else {
            return Err(wasmtime::Error::msg("a key set without a tokens session"));
        };
        s.store.set_epoch_deadline(s.ticks);
        s.bindings
            .crmguard_guard_tokens()
            .key_set()
            .call_len(&mut s.store, any)
    }

    fn verify(
        &mut self,
        keys: Resource<PluginKeySet>,
        token: String,
        options: plugin_tokens::VerifyOptions,
    ) -> wasmtime::Result<Result<String, GuardError>> {
        let any = self.table.get(&keys)?.0;
        let Some(s) = self.tokens_session()? else {
            return Ok(Err(not_loaded("tokens")));
        };
        s.store.set_epoch_deadline(s.ticks);
        s.bindings.crmguard_guard_tokens().key_set().call_verify(
            &mut s.store,
            any,
            &token,
            &to_wit_options(options),
        )
    }

    fn drop(&mut self, keys: Resource<PluginKeySet>) -> wasmtime::Result<()> {
        let PluginKeySet(any) = self.table.delete(keys)?;
        self.resources = self.resources.saturating_sub(1);
        if let Some(s) = self.tokens_session()? {
            any.resource_drop(&mut s.store)?;
        }
        Ok(())
    }
}

fn summary(l: super::services::LogSummary) -> plugin_audit::LogSummary {
    plugin_audit::LogSummary {
        log_id: l.log_id,
        size: l.size,
        head_hash: l.head_hash,
        checkpoints: l.checkpoints,
    }
}

impl plugin_audit::Host for PluginState {
    fn verify(
        &mut self,
        log_id: String,
        jsonl: String,
        verifying_keys: Vec<String>,
    ) -> wasmtime::Result<Result<plugin_audit::LogSummary, GuardError>> {
        let Some(s) = self.audit_session()? else {
            return Ok(Err(not_loaded("audit")));
        };
        s.store.set_epoch_deadline(s.ticks);
        let r = s.bindings.crmguard_guard_audit().call_verify(
            &mut s.store,
            &log_id,
            &jsonl,
            &verifying_keys,
        )?;
        Ok(r.map(|l| summary(l.into())))
    }
}

impl plugin_audit::HostLogSession for PluginState {
    fn open(
        &mut self,
        log_id: String,
        jsonl: String,
    ) -> wasmtime::Result<Result<Resource<PluginLogSession>, GuardError>> {
        if let Err(e) = self.hold() {
            return Ok(Err(e));
        }
        let Some(s) = self.audit_session()? else {
            return Ok(Err(not_loaded("audit")));
        };
        s.store.set_epoch_deadline(s.ticks);
        let r = s.bindings.crmguard_guard_audit().log_session().call_open(
            &mut s.store,
            &log_id,
            &jsonl,
        )?;
        match r {
            Ok(log) => Ok(Ok(self.table.push(PluginLogSession(log))?)),
            Err(e) => {
                self.resources -= 1;
                Ok(Err(e))
            }
        }
    }

    fn append(
        &mut self,
        log: Resource<PluginLogSession>,
        event_json: String,
        time: u64,
    ) -> wasmtime::Result<Result<String, GuardError>> {
        let any = self.table.get(&log)?.0;
        let Some(s) = self.audit_session()? else {
            return Ok(Err(not_loaded("audit")));
        };
        s.store.set_epoch_deadline(s.ticks);
        s.bindings.crmguard_guard_audit().log_session().call_append(
            &mut s.store,
            any,
            &event_json,
            time,
        )
    }

    fn summary(
        &mut self,
        log: Resource<PluginLogSession>,
    ) -> wasmtime::Result<plugin_audit::LogSummary> {
        let any = self.table.get(&log)?.0;
        let Some(s) = self.audit_session()? else {
            return Err(wasmtime::Error::msg(
                "a log session without an audit session",
            ));
        };
        s.store.set_epoch_deadline(s.ticks);
        let l = s
            .bindings
            .crmguard_guard_audit()
            .log_session()
            .call_summary(&mut s.store, any)?;
        Ok(summary(l.into()))
    }

    fn drop(&mut self, log: Resource<PluginLogSession>) -> wasmtime::Result<()> {
        let PluginLogSession(any) = self.table.delete(log)?;
        self.resources = self.resources.saturating_sub(1);
        if let Some(s) = self.audit_session()? {
            any.resource_drop(&mut s.store)?;
        }
        Ok(())
    }
}

impl logging::Host for PluginState {
    fn log(&mut self, level: logging::Level, message: String) -> wasmtime::Result<()> {
        if self.log.len() >= self.max_log_lines {
            self.log_dropped += 1;
            return Ok(());
        }
        let level = match level {
            logging::Level::Debug => "debug",
            logging::Level::Info => "info",
            logging::Level::Warn => "warn",
            logging::Level::Error => "error",
        };
        let mut message = message;
        if message.len() > MAX_LOG_LINE {
            let mut end = MAX_LOG_LINE;
            while !message.is_char_boundary(end) {
                end -= 1;
            }
            message.truncate(end);
        }
        self.log.push(LogLine { level, message });
        Ok(())
    }
}
