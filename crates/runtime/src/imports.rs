//! A policy plugin's store and its imports: `fields` forwarded to the crypto component
//! within the request's scope, `tokens` and `audit` to their components, `logging` bounded.

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::bindings::audit::exports::crmguard::guard::audit as wit_audit;
use super::bindings::crypto::crmguard::guard::types as crypto_types;
use super::bindings::crypto::exports::crmguard::guard::fields as crypto_fields;
use super::bindings::plugin::crmguard::guard::{audit as plugin_audit, tokens as plugin_tokens};
use super::bindings::plugin::crmguard::guard::{fields, logging, types};
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
}

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

type CryptoError = crypto_types::GuardError;

// The plugin's `fields` import, forwarded to the crypto component (instantiated on the
// first call, in its own store, for the request's tenant). Types are translated one to one.

fn to_crypto_ctx(c: types::FieldContext) -> crypto_types::FieldContext {
    crypto_types::FieldContext {
        tenant: c.tenant,
        object: c.object,
        record: c.record,
        field: c.field,
        subject: c.subject,
    }
}

fn to_plugin_error(e: CryptoError) -> types::GuardError {
    types::GuardError {
        code: e.code,
        message: e.message,
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
        call: impl FnOnce(&mut CryptoSession) -> wasmtime::Result<Result<T, CryptoError>>,
    ) -> wasmtime::Result<Result<T, types::GuardError>> {
        let s = self.session()?;
        s.store.set_epoch_deadline(s.ticks);
        Ok(call(s)?.map_err(to_plugin_error))
    }
}

impl types::Host for PluginState {}

impl fields::Host for PluginState {
    fn seal(
        &mut self,
        ctx: types::FieldContext,
        plaintext: Vec<u8>,
        content: fields::ContentType,
    ) -> wasmtime::Result<Result<String, types::GuardError>> {
        if let Err(e) = self.scope.admit(Call::Seal, &ctx) {
            return Ok(Err(e));
        }
        let content = match content {
            fields::ContentType::Bytes => crypto_fields::ContentType::Bytes,
            fields::ContentType::Json => crypto_fields::ContentType::Json,
        };
        self.forward(|s| {
            s.bindings.crmguard_guard_fields().call_seal(
                &mut s.store,
                &to_crypto_ctx(ctx),
                &plaintext,
                content,
            )
        })
    }

    fn open(
        &mut self,
        ctx: types::FieldContext,
        sealed: String,
    ) -> wasmtime::Result<Result<fields::Opened, types::GuardError>> {
        if let Err(e) = self.scope.admit(Call::Open, &ctx) {
            return Ok(Err(e));
        }
        let r = self.forward(|s| {
            s.bindings
                .crmguard_guard_fields()
                .call_open(&mut s.store, &to_crypto_ctx(ctx), &sealed)
        })?;
        Ok(r.map(|o| fields::Opened {
            plaintext: o.plaintext,
            content: match o.content {
                crypto_fields::ContentType::Bytes => fields::ContentType::Bytes,
                crypto_fields::ContentType::Json => fields::ContentType::Json,
            },
        }))
    }

    fn blind_index(
        &mut self,
        ctx: types::FieldContext,
        spec_json: String,
        value: String,
    ) -> wasmtime::Result<Result<String, types::GuardError>> {
        if let Err(e) = self.scope.admit(Call::BlindIndex, &ctx) {
            return Ok(Err(e));
        }
        self.forward(|s| {
            s.bindings.crmguard_guard_fields().call_blind_index(
                &mut s.store,
                &to_crypto_ctx(ctx),
                &spec_json,
                &value,
            )
        })
    }

    fn seal_record(
        &mut self,
        tenant: String,
        schema_json: String,
        record_json: String,
    ) -> wasmtime::Result<Result<String, types::GuardError>> {
        if let Err(e) = self
            .scope
            .admit_record(Call::Seal, &tenant, &schema_json, &record_json)
        {
            return Ok(Err(e));
        }
        self.forward(|s| {
            s.bindings.crmguard_guard_fields().call_seal_record(
                &mut s.store,
                &tenant,
                &schema_json,
                &record_json,
            )
        })
    }

    fn open_record(
        &mut self,
        tenant: String,
        schema_json: String,
        record_json: String,
    ) -> wasmtime::Result<Result<String, types::GuardError>> {
        if let Err(e) = self
            .scope
            .admit_record(Call::Open, &tenant, &schema_json, &record_json)
        {
            return Ok(Err(e));
        }
        self.forward(|s| {
            s.bindings.crmguard_guard_fields().call_open_record(
                &mut s.store,
                &tenant,
                &schema_json,
                &record_json,
            )
        })
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

// The plugin's `tokens` and `audit` imports, forwarded like `fields`: the component starts on
// the first call, in its own store; its trap becomes the plugin call's trap.

fn not_loaded(what: &str) -> plugin_tokens::GuardError {
    plugin_tokens::GuardError {
        code: error::LINK.to_owned(),
        message: format!("the host has no {what} component loaded"),
    }
}

impl PluginState {
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
}

impl plugin_tokens::Host for PluginState {
    fn verify(
        &mut self,
        token: String,
        jwks_json: String,
        o: plugin_tokens::VerifyOptions,
    ) -> wasmtime::Result<Result<String, plugin_tokens::GuardError>> {
        let Some(s) = self.tokens_session()? else {
            return Ok(Err(not_loaded("tokens")));
        };
        let o = wit_tokens::VerifyOptions {
            issuers: o.issuers,
            audiences: o.audiences,
            leeway_secs: o.leeway_secs,
            require_exp: o.require_exp,
            max_token_age_secs: o.max_token_age_secs,
            now: o.now,
        };
        s.store.set_epoch_deadline(s.ticks);
        let r =
            s.bindings
                .crmguard_guard_tokens()
                .call_verify(&mut s.store, &token, &jwks_json, &o)?;
        Ok(r.map_err(|e| plugin_tokens::GuardError {
            code: e.code,
            message: e.message,
        }))
    }
}

impl plugin_audit::Host for PluginState {
    fn verify(
        &mut self,
        log_id: String,
        jsonl: String,
        verifying_keys: Vec<String>,
    ) -> wasmtime::Result<Result<plugin_audit::LogSummary, plugin_audit::GuardError>> {
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
        Ok(r.map(|l: wit_audit::LogSummary| plugin_audit::LogSummary {
            log_id: l.log_id,
            size: l.size,
            head_hash: l.head_hash,
            checkpoints: l.checkpoints,
        })
        .map_err(|e| plugin_audit::GuardError {
            code: e.code,
            message: e.message,
        }))
    }

    fn append(
        &mut self,
        log_id: String,
        jsonl: String,
        event_json: String,
        time: u64,
    ) -> wasmtime::Result<Result<String, plugin_audit::GuardError>> {
        let Some(s) = self.audit_session()? else {
            return Ok(Err(not_loaded("audit")));
        };
        s.store.set_epoch_deadline(s.ticks);
        let r = s.bindings.crmguard_guard_audit().call_append(
            &mut s.store,
            &log_id,
            &jsonl,
            &event_json,
            time,
        )?;
        Ok(r.map_err(|e| plugin_audit::GuardError {
            code: e.code,
            message: e.message,
        }))
    }
}
