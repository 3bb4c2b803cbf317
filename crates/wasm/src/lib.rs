//! # crmguard-wasm
//!
//! The wasm-bindgen adapter behind the `crmguard` npm package (`js/`). It only translates
//! types between JavaScript and [`crmguard_core`]: every rule, byte format and check lives in
//! the core. Errors from the core become `CrmGuardError` objects (the class the JS loader
//! registers with [`set_error_class`]) whose `.code` is the core's stable code; arguments of
//! the wrong JavaScript type become `TypeError`s. Messages never contain keys, plaintexts or
//! sealed values.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::cell::RefCell;

use crmguard_core::{
    BlindIndexSpec, ContentType, Error, FieldContext, FieldName, Keyring as CoreKeyring,
    ObjectType, OpenRecordOptions, RecordId, RecordSchema as CoreRecordSchema, RecordTarget,
    SealedField, SubjectId, SystemEntropy, TenantId, TenantPublicKey, TenantSealed,
    TenantSecretKey, parse_master_key, plaintext_to_value,
};
use serde::Deserialize;
use wasm_bindgen::prelude::*;

#[cfg(feature = "audit")]
pub mod audit;
#[cfg(feature = "tokens")]
pub mod tokens;

thread_local! {
    // wasm32-unknown-unknown runs one thread per instance; the loader sets this once.
    static ERROR_CLASS: RefCell<Option<js_sys::Function>> = const { RefCell::new(None) };
}

/// Registers the JS class errors are thrown as (`new Class(code, message)`). Called once by
/// the package's loader; not part of the public API.
#[wasm_bindgen(js_name = "__setErrorClass")]
pub fn set_error_class(class: js_sys::Function) {
    ERROR_CLASS.with(|c| *c.borrow_mut() = Some(class));
}

fn crm_error(e: &Error) -> JsValue {
    let code = JsValue::from_str(e.code());
    let message = JsValue::from_str(&e.to_string());
    let registered = ERROR_CLASS.with(|c| c.borrow().clone());
    if let Some(class) = registered {
        let args = js_sys::Array::of2(&code, &message);
        if let Ok(err) = js_sys::Reflect::construct(&class, &args) {
            return err;
        }
    }
    // Without a registered class (raw wasm-bindgen use), a plain Error with the same fields.
    let err = js_sys::Error::new(&e.to_string());
    err.set_name("CrmGuardError");
    let _ = js_sys::Reflect::set(&err, &JsValue::from_str("code"), &code);
    err.into()
}

fn type_error(what: &str) -> JsValue {
    js_sys::TypeError::new(what).into()
}

trait OrThrow<T> {
    fn or_throw(self) -> Result<T, JsValue>;
}

impl<T, E: Into<Error>> OrThrow<T> for Result<T, E> {
    fn or_throw(self) -> Result<T, JsValue> {
        self.map_err(|e| crm_error(&e.into()))
    }
}

fn from_js<T: serde::de::DeserializeOwned>(value: JsValue, what: &str) -> Result<T, JsValue> {
    serde_wasm_bindgen::from_value(value).map_err(|e| type_error(&format!("{what}: {e}")))
}

fn to_js(value: &serde_json::Value) -> Result<JsValue, JsValue> {
    use serde::Serialize;
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| type_error(&e.to_string()))
}

/// `{ tenant, object, record, field, subject? }` as JS passes it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ContextArg {
    tenant: String,
    object: String,
    record: String,
    field: String,
    subject: Option<String>,
}

fn context(value: JsValue) -> Result<FieldContext, JsValue> {
    let c: ContextArg = from_js(value, "context")?;
    let ctx = FieldContext::new(&c.tenant, &c.object, &c.record, &c.field).or_throw()?;
    Ok(match c.subject {
        Some(s) => ctx.with_subject(SubjectId::new(s).or_throw()?),
        None => ctx,
    })
}

/// A value to seal: `Uint8Array` is raw bytes; anything else is a JSON value (a string is
/// sealed as its UTF-8, other values as compact JSON: the core's rule).
fn plaintext(value: &JsValue) -> Result<(ContentType, zeroize::Zeroizing<Vec<u8>>), JsValue> {
    if let Some(bytes) = value.dyn_ref::<js_sys::Uint8Array>() {
        return Ok((ContentType::Bytes, zeroize::Zeroizing::new(bytes.to_vec())));
    }
    if value.is_undefined() {
        return Err(type_error("value: undefined cannot be sealed"));
    }
    let json: serde_json::Value = from_js(value.clone(), "value")?;
    Ok(crmguard_core::value_to_plaintext(&json))
}

fn opened(content: ContentType, plain: Vec<u8>) -> Result<JsValue, JsValue> {
    to_js(&plaintext_to_value(content, plain).or_throw()?)
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FromJsonOptions {
    master_key: Option<String>,
    #[serde(default)]
    allow_cleartext: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct TargetArg {
    tenant: String,
    record: Option<String>,
    subject: Option<String>,
    #[serde(default)]
    forgotten_as_null: bool,
}

fn target(value: JsValue) -> Result<(RecordTarget, OpenRecordOptions), JsValue> {
    let t: TargetArg = from_js(value, "options")?;
    let target = RecordTarget {
        tenant: TenantId::new(t.tenant).or_throw()?,
        record: t.record.map(RecordId::new).transpose().or_throw()?,
        subject: t.subject.map(SubjectId::new).transpose().or_throw()?,
    };
    Ok((
        target,
        OpenRecordOptions {
            forgotten_as_null: t.forgotten_as_null,
        },
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BlindIndexArg {
    tenant: String,
    object: String,
    field: String,
    #[serde(flatten)]
    spec: BlindIndexSpec,
}

/// A keyring: data keys, the blind-index root and data-subject keys.
#[wasm_bindgen]
pub struct Keyring(CoreKeyring);

#[wasm_bindgen]
impl Keyring {
    /// Imports a keyring file (the CLI's JSON). A protected file needs `masterKey` (base64);
    /// a cleartext one needs `allowCleartext: true`.
    #[wasm_bindgen(js_name = fromJson)]
    pub fn from_json(text: &str, options: JsValue) -> Result<Keyring, JsValue> {
        let o: FromJsonOptions = if options.is_undefined() || options.is_null() {
            FromJsonOptions::default()
        } else {
            from_js(options, "options")?
        };
        let master = match o.master_key.as_deref() {
            Some(m) => Some(parse_master_key(m).or_throw()?),
            None => None,
        };
        CoreKeyring::from_json(text, master.as_ref(), o.allow_cleartext)
            .map(Keyring)
            .or_throw()
    }

    /// A keyring from raw key material: one data key (the primary) with id `keyId`, and the
    /// blind-index root. For imports and known-answer tests.
    #[wasm_bindgen(js_name = fromKeys)]
    pub fn from_keys(key_id: u32, key: &[u8], blind_index_root: &[u8]) -> Result<Keyring, JsValue> {
        let key = crmguard_core::Key256::from_slice(key).or_throw()?;
        let root = crmguard_core::Key256::from_slice(blind_index_root).or_throw()?;
        CoreKeyring::from_keys(key_id, key, root, 0)
            .map(Keyring)
            .or_throw()
    }

    /// The id of the key new values are sealed under.
    #[wasm_bindgen(getter, js_name = primaryKeyId)]
    pub fn primary_key_id(&self) -> u32 {
        self.0.primary().get()
    }

    /// Seals a value for a context; returns the `cg1:` text.
    #[wasm_bindgen(js_name = sealField)]
    pub fn seal_field(&self, context: JsValue, value: JsValue) -> Result<String, JsValue> {
        let ctx = self::context(context)?;
        let (content, plain) = plaintext(&value)?;
        self.0
            .seal_with(&ctx, &plain, content, &mut SystemEntropy)
            .map(|s| s.to_text())
            .or_throw()
    }

    /// Opens a `cg1:` text: a string (bytes content, UTF-8) or the JSON value (json content).
    #[wasm_bindgen(js_name = openField)]
    pub fn open_field(&self, context: JsValue, sealed: &str) -> Result<JsValue, JsValue> {
        let ctx = self::context(context)?;
        let sealed = SealedField::from_text(sealed).or_throw()?;
        opened(
            sealed.content_type(),
            self.0.open(&ctx, &sealed).or_throw()?,
        )
    }

    /// Opens a `cg1:` text to its raw plaintext bytes, whatever the content type.
    #[wasm_bindgen(js_name = openFieldBytes)]
    pub fn open_field_bytes(&self, context: JsValue, sealed: &str) -> Result<Vec<u8>, JsValue> {
        let ctx = self::context(context)?;
        self.0.open_text(&ctx, sealed).or_throw()
    }

    /// Seals a record (a plain object) by its schema.
    #[wasm_bindgen(js_name = sealRecord)]
    pub fn seal_record(
        &self,
        schema: &RecordSchema,
        record: JsValue,
        options: JsValue,
    ) -> Result<JsValue, JsValue> {
        let record: serde_json::Value = from_js(record, "record")?;
        let (target, _) = target(options)?;
        to_js(
            &self
                .0
                .seal_record(&schema.0, &record, &target, &mut SystemEntropy)
                .or_throw()?,
        )
    }

    /// Opens a sealed record by its schema (and drops its blind-index member).
    #[wasm_bindgen(js_name = openRecord)]
    pub fn open_record(
        &self,
        schema: &RecordSchema,
        record: JsValue,
        options: JsValue,
    ) -> Result<JsValue, JsValue> {
        let record: serde_json::Value = from_js(record, "record")?;
        let (target, opts) = target(options)?;
        to_js(
            &self
                .0
                .open_record(&schema.0, &record, &target, opts)
                .or_throw()?,
        )
    }

    /// The blind index of `value` for `{ tenant, object, field, normalize?, bits? }`.
    #[wasm_bindgen(js_name = blindIndex)]
    pub fn blind_index(&self, spec: JsValue, value: &str) -> Result<String, JsValue> {
        let a: BlindIndexArg = from_js(spec, "blind index options")?;
        let tenant = TenantId::new(a.tenant).or_throw()?;
        let object = ObjectType::new(a.object).or_throw()?;
        let field = FieldName::new(a.field).or_throw()?;
        self.0
            .blind_index(&tenant, &object, &field, &a.spec, value)
            .map(|i| i.as_str().to_owned())
            .or_throw()
    }

    /// Opens a `cgh1:` value with the tenant's private key and seals it under this keyring
    /// (the server side of a browser form); returns the `cg1:` text.
    #[wasm_bindgen(js_name = sealFromTenant)]
    pub fn seal_from_tenant(
        &self,
        secret_key: &[u8],
        context: JsValue,
        sealed: &str,
    ) -> Result<String, JsValue> {
        let sk = TenantSecretKey::from_bytes(secret_key).or_throw()?;
        let ctx = self::context(context)?;
        let sealed = TenantSealed::from_text(sealed).or_throw()?;
        self.0
            .seal_from_tenant(&sk, &ctx, &sealed, &mut SystemEntropy)
            .map(|s| s.to_text())
            .or_throw()
    }
}

/// A validated record schema (docs/FORMAT.md §5).
#[wasm_bindgen]
pub struct RecordSchema(CoreRecordSchema);

#[wasm_bindgen]
impl RecordSchema {
    /// Parses a schema from a plain object or its JSON text.
    #[wasm_bindgen(constructor)]
    pub fn new(schema: JsValue) -> Result<RecordSchema, JsValue> {
        let text = match schema.as_string() {
            Some(text) => text,
            None => {
                let v: serde_json::Value = from_js(schema, "schema")?;
                v.to_string()
            }
        };
        CoreRecordSchema::from_json(&text)
            .map(RecordSchema)
            .or_throw()
    }
}

/// A new tenant key pair: `{ publicKey, secretKey }`, 32 bytes each.
#[wasm_bindgen(js_name = generateTenantKeyPair)]
pub fn generate_tenant_key_pair() -> Result<JsValue, JsValue> {
    let sk = TenantSecretKey::generate(&mut SystemEntropy).or_throw()?;
    let out = js_sys::Object::new();
    let public = js_sys::Uint8Array::from(&sk.public_key().to_bytes()[..]);
    let secret = js_sys::Uint8Array::from(&sk.to_bytes()[..]);
    js_sys::Reflect::set(&out, &"publicKey".into(), &public)?;
    js_sys::Reflect::set(&out, &"secretKey".into(), &secret)?;
    Ok(out.into())
}

/// The public key belonging to a tenant private key.
#[wasm_bindgen(js_name = tenantPublicKey)]
pub fn tenant_public_key(secret_key: &[u8]) -> Result<Vec<u8>, JsValue> {
    let sk = TenantSecretKey::from_bytes(secret_key).or_throw()?;
    Ok(sk.public_key().to_bytes().to_vec())
}

/// Seals a value to a tenant's public key (HPKE) for a context; returns the `cgh1:` text.
#[wasm_bindgen(js_name = sealToTenant)]
pub fn seal_to_tenant(
    public_key: &[u8],
    context: JsValue,
    value: JsValue,
) -> Result<String, JsValue> {
    let pk = TenantPublicKey::from_bytes(public_key).or_throw()?;
    let ctx = self::context(context)?;
    let (content, plain) = plaintext(&value)?;
    crmguard_core::seal_to_tenant(&pk, &ctx, &plain, content, &mut SystemEntropy)
        .map(|s| s.to_text())
        .or_throw()
}

/// Opens a `cgh1:` value with the tenant's private key: a string or the JSON value.
#[wasm_bindgen(js_name = openFromTenant)]
pub fn open_from_tenant(
    secret_key: &[u8],
    context: JsValue,
    sealed: &str,
) -> Result<JsValue, JsValue> {
    let sk = TenantSecretKey::from_bytes(secret_key).or_throw()?;
    let ctx = self::context(context)?;
    let sealed = TenantSealed::from_text(sealed).or_throw()?;
    let plain = crmguard_core::open_from_tenant(&sk, &ctx, &sealed).or_throw()?;
    opened(sealed.content_type(), plain)
}

/// Opens a `cgh1:` value with the tenant's private key to its raw plaintext bytes.
#[wasm_bindgen(js_name = openFromTenantBytes)]
pub fn open_from_tenant_bytes(
    secret_key: &[u8],
    context: JsValue,
    sealed: &str,
) -> Result<Vec<u8>, JsValue> {
    let sk = TenantSecretKey::from_bytes(secret_key).or_throw()?;
    let ctx = self::context(context)?;
    let sealed = TenantSealed::from_text(sealed).or_throw()?;
    crmguard_core::open_from_tenant(&sk, &ctx, &sealed).or_throw()
}

/// Every stable error code the package can throw.
#[wasm_bindgen(js_name = errorCodes)]
pub fn error_codes() -> Vec<String> {
    crmguard_core::ERROR_CODES
        .iter()
        .map(|c| (*c).to_owned())
        .collect()
}
