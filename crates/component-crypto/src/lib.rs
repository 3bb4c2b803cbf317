//! The crypto component: exports `crmguard:guard/fields` as a thin adapter over
//! crmguard-core. Key material comes from the host's `keystore` import (the tenant's keyring
//! in its cleartext file form), is parsed by crmguard-core, and stays inside this instance;
//! the host creates a fresh instance per request, so nothing outlives the request.
//!
//! No rule lives here: every function converts WIT types to core types, calls core, and
//! converts back, with core's stable error codes.

// wit-bindgen's generated glue (canonical ABI lifting and lowering) is `unsafe` code; none is
// written by hand in this crate.
#![allow(unsafe_code)]

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use crmguard_core::{
    BlindIndexScope, BlindIndexSpec, ContentType, Error, FieldContext, Keyring, KeyringFileOptions,
    Normalizer, OpenRecordOptions, RecordSchema, RecordTarget, SealedField, SubjectId,
    SystemEntropy, TenantId,
};

wit_bindgen::generate!({
    world: "crypto",
    path: "../../wit",
});

use crmguard::guard::keystore;
use crmguard::guard::types::{
    BlindIndexSpec as WitSpec, ContentType as WitContent, ErrorKind as WitKind,
    FieldContext as WitContext, GuardError, KeyScope, Normalizer as WitNormalizer, Opened,
};
use exports::crmguard::guard::fields::Guest;

thread_local! {
    // Keyrings fetched from the host during this instance's life (one request).
    static KEYRINGS: RefCell<BTreeMap<String, Rc<Keyring>>> = const { RefCell::new(BTreeMap::new()) };
}

fn guard_error(e: Error) -> GuardError {
    use crmguard_core::ErrorKind as K;
    GuardError {
        kind: match e.kind() {
            K::Invalid => WitKind::Invalid,
            K::Unauthenticated => WitKind::Unauthenticated,
            K::Forbidden => WitKind::Forbidden,
            K::NotFound => WitKind::NotFound,
            K::Integrity => WitKind::Integrity,
            K::Limit => WitKind::Limit,
            K::Internal => WitKind::Internal,
        },
        code: e.code().to_owned(),
        message: e.to_string(),
    }
}

fn spec(s: WitSpec) -> BlindIndexSpec {
    BlindIndexSpec {
        normalize: s
            .normalize
            .into_iter()
            .map(|n| match n {
                WitNormalizer::Trim => Normalizer::Trim,
                WitNormalizer::Lowercase => Normalizer::Lowercase,
                WitNormalizer::Email => Normalizer::Email,
                WitNormalizer::Phone => Normalizer::Phone,
            })
            .collect(),
        bits: s.bits,
    }
}

/// `ctx` as core's context for `key`: the subject is kept for the subject's key (and
/// required), dropped for the keyring's.
fn scoped(ctx: &WitContext, key: KeyScope) -> Result<FieldContext, GuardError> {
    let c = context(ctx)?;
    match key {
        KeyScope::Keyring => Ok(FieldContext { subject: None, ..c }),
        KeyScope::Subject if c.subject.is_some() => Ok(c),
        KeyScope::Subject => Err(guard_error(crmguard_core::SubjectError::Required.into())),
    }
}

fn keyring(tenant: &str) -> Result<Rc<Keyring>, GuardError> {
    if let Some(k) = KEYRINGS.with(|m| m.borrow().get(tenant).cloned()) {
        return Ok(k);
    }
    let text = keystore::keyring(tenant)?;
    let parsed = Rc::new(
        Keyring::from_json(&text, &KeyringFileOptions::insecure_cleartext())
            .map_err(guard_error)?,
    );
    KEYRINGS.with(|m| m.borrow_mut().insert(tenant.to_owned(), Rc::clone(&parsed)));
    Ok(parsed)
}

fn context(ctx: &WitContext) -> Result<FieldContext, GuardError> {
    let mut c = FieldContext::new(&ctx.tenant, &ctx.object, &ctx.record, &ctx.field)
        .map_err(|e| guard_error(e.into()))?;
    if let Some(s) = &ctx.subject {
        c = c.with_subject(SubjectId::new(s.as_str()).map_err(|e| guard_error(e.into()))?);
    }
    Ok(c)
}

fn json(what: &str, text: &str) -> Result<serde_json::Value, GuardError> {
    serde_json::from_str(text)
        .map_err(|e| guard_error(Error::Record(format!("{what} is not JSON: {e}"))))
}

fn target(tenant: &str) -> Result<RecordTarget, GuardError> {
    Ok(RecordTarget::tenant(
        TenantId::new(tenant).map_err(|e| guard_error(e.into()))?,
    ))
}

struct Crypto;

impl Guest for Crypto {
    fn seal(
        ctx: WitContext,
        plaintext: Vec<u8>,
        content: WitContent,
        key: KeyScope,
    ) -> Result<String, GuardError> {
        let content = match content {
            WitContent::Bytes => ContentType::Bytes,
            WitContent::Json => ContentType::Json,
        };
        keyring(&ctx.tenant)?
            .seal_with(&scoped(&ctx, key)?, &plaintext, content, &mut SystemEntropy)
            .map(|s| s.to_text())
            .map_err(guard_error)
    }

    fn open(ctx: WitContext, sealed: String) -> Result<Opened, GuardError> {
        let sealed = SealedField::from_text(&sealed).map_err(|e| guard_error(e.into()))?;
        let plaintext = keyring(&ctx.tenant)?
            .open(&context(&ctx)?, &sealed)
            .map_err(guard_error)?;
        let content = match sealed.content_type() {
            ContentType::Bytes => WitContent::Bytes,
            ContentType::Json => WitContent::Json,
        };
        Ok(Opened { plaintext, content })
    }

    fn blind_index(
        ctx: WitContext,
        spec_in: WitSpec,
        key: KeyScope,
        value: String,
    ) -> Result<String, GuardError> {
        let c = scoped(&ctx, key)?;
        let scope = match &c.subject {
            Some(subject) => BlindIndexScope::Subject(subject),
            None => BlindIndexScope::Keyring,
        };
        keyring(&ctx.tenant)?
            .blind_index_scoped(
                scope,
                &c.tenant,
                &c.object,
                &c.field,
                &spec(spec_in),
                &value,
            )
            .map(|b| b.as_str().to_owned())
            .map_err(guard_error)
    }

    fn seal_record(
        tenant: String,
        schema_json: String,
        record_json: String,
    ) -> Result<String, GuardError> {
        let schema = RecordSchema::from_json(&schema_json).map_err(guard_error)?;
        let record = json("record", &record_json)?;
        keyring(&tenant)?
            .seal_record(&schema, &record, &target(&tenant)?, &mut SystemEntropy)
            .map(|v| v.to_string())
            .map_err(guard_error)
    }

    fn open_record(
        tenant: String,
        schema_json: String,
        record_json: String,
    ) -> Result<String, GuardError> {
        let schema = RecordSchema::from_json(&schema_json).map_err(guard_error)?;
        let record = json("record", &record_json)?;
        keyring(&tenant)?
            .open_record(
                &schema,
                &record,
                &target(&tenant)?,
                OpenRecordOptions::default(),
            )
            .map(|v| v.to_string())
            .map_err(guard_error)
    }
}

export!(Crypto);
