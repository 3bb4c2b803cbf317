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
    BlindIndexScope, BlindIndexSpec, ContentType, Error, FieldContext, FieldName,
    Keyring as CoreKeyring, ObjectType, OpenRecordOptions, RecordId,
    RecordSchema as CoreRecordSchema, RecordTarget, SealedField, SubjectId, SystemEntropy,
    TenantId, TenantPublicKey, TenantSealed, TenantSecretKey, parse_master_key, plaintext_to_value,
};
use wasm_bindgen::prelude::*;

#[cfg(feature = "audit")]
pub mod audit;
#[cfg(feature = "tokens")]
pub mod tokens;

thread_local! {
    // wasm32-unknown-unknown runs one thread per instance; the loader sets this once.
    static ERROR_CLASS: RefCell<Option<js_sys::Function>> = const { RefCell::new(None) };
}

/// Registers the JS class errors are thrown as (`new Class(code, message)`, or
/// `new Class(code, message, { claim, reason })` for a token claim failure). Called once by
/// the package's loader; not part of the public API.
#[wasm_bindgen(js_name = "__setErrorClass")]
pub fn set_error_class(class: js_sys::Function) {
    ERROR_CLASS.with(|c| *c.borrow_mut() = Some(class));
}

fn crm_error(e: &Error) -> JsValue {
    let code = JsValue::from_str(e.code());
    let message = JsValue::from_str(&e.to_string());
    // jose's `claim` and `reason` (ERR_JWT_CLAIM_VALIDATION_FAILED, ERR_JWT_EXPIRED).
    let claim = match e {
        Error::Token(t) => t.claim().zip(t.reason()),
        _ => None,
    };
    let registered = ERROR_CLASS.with(|c| c.borrow().clone());
    if let Some(class) = registered {
        let args = match claim {
            Some(claim) => {
                let details = js_sys::Object::new();
                set_claim(&details, claim);
                js_sys::Array::of3(&code, &message, &details)
            }
            None => js_sys::Array::of2(&code, &message),
        };
        if let Ok(err) = js_sys::Reflect::construct(&class, &args) {
            return err;
        }
    }
    // Without a registered class (raw wasm-bindgen use), a plain Error with the same fields.
    let err = js_sys::Error::new(&e.to_string());
    err.set_name("CrmGuardError");
    let _ = js_sys::Reflect::set(&err, &JsValue::from_str("code"), &code);
    if let Some(claim) = claim {
        set_claim(&err, claim);
    }
    err.into()
}

/// Sets `claim` and `reason` on `target`.
fn set_claim(target: &JsValue, (claim, reason): (&str, &str)) {
    for (name, value) in [("claim", claim), ("reason", reason)] {
        let _ = js_sys::Reflect::set(target, &JsValue::from_str(name), &JsValue::from_str(value));
    }
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

/// A JS argument as a Rust value, through its JSON text (`JSON.stringify`, then serde_json,
/// which the core needs anyway; a serde-wasm-bindgen deserializer would add about 10 KB to the
/// download). `toJSON` methods apply; `undefined` members are absent.
fn from_js<T: serde::de::DeserializeOwned>(value: JsValue, what: &str) -> Result<T, JsValue> {
    let text = js_sys::JSON::stringify(&value)
        .ok()
        .and_then(|t| t.as_string())
        .ok_or_else(|| type_error(&format!("{what}: not representable as JSON")))?;
    serde_json::from_str(&text).map_err(|e| type_error(&format!("{what}: {e}")))
}

/// A Rust JSON value as a plain JS value (`JSON.parse` of its text).
fn to_js(value: &serde_json::Value) -> Result<JsValue, JsValue> {
    js_sys::JSON::parse(&value.to_string())
}

/// A plain JS object whose own members are all in `allowed` (the rule serde's
/// `deny_unknown_fields` gave). Read member by member, not through serde: the context is on
/// every call's path, and a derived deserializer per argument type costs kilobytes.
fn members(value: &JsValue, what: &str, allowed: &[&str]) -> Result<js_sys::Object, JsValue> {
    let obj = value
        .dyn_ref::<js_sys::Object>()
        .filter(|_| value.is_object())
        .ok_or_else(|| type_error(&format!("{what} must be an object")))?;
    for key in js_sys::Object::keys(obj).iter() {
        let key = key.as_string().unwrap_or_default();
        if !allowed.contains(&key.as_str()) {
            return Err(type_error(&format!("{what}: unknown member `{key}`")));
        }
    }
    Ok(obj.clone())
}

/// The object's own member `name`, or `undefined`: never one inherited through the prototype
/// chain, so a polluted `Object.prototype.subject` cannot change what is sealed.
fn own_member(obj: &js_sys::Object, name: &str) -> Result<JsValue, JsValue> {
    let key = JsValue::from_str(name);
    if js_sys::Object::has_own(obj, &key) {
        js_sys::Reflect::get(obj, &key)
    } else {
        Ok(JsValue::UNDEFINED)
    }
}

/// An optional string member (`undefined` and `null` are absent).
fn string_member(obj: &js_sys::Object, what: &str, name: &str) -> Result<Option<String>, JsValue> {
    let v = own_member(obj, name)?;
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    v.as_string()
        .map(Some)
        .ok_or_else(|| type_error(&format!("{what}.{name} must be a string")))
}

fn required(obj: &js_sys::Object, what: &str, name: &str) -> Result<String, JsValue> {
    string_member(obj, what, name)?
        .ok_or_else(|| type_error(&format!("{what}: missing member `{name}`")))
}

/// An optional boolean member, false when absent.
fn bool_member(obj: &js_sys::Object, what: &str, name: &str) -> Result<bool, JsValue> {
    let v = own_member(obj, name)?;
    if v.is_undefined() || v.is_null() {
        return Ok(false);
    }
    v.as_bool()
        .ok_or_else(|| type_error(&format!("{what}.{name} must be a boolean")))
}

/// `{ tenant, object, record, field, subject? }` as JS passes it.
fn context(value: JsValue) -> Result<FieldContext, JsValue> {
    const WHAT: &str = "context";
    let c = members(
        &value,
        WHAT,
        &["tenant", "object", "record", "field", "subject"],
    )?;
    let ctx = FieldContext::new(
        &required(&c, WHAT, "tenant")?,
        &required(&c, WHAT, "object")?,
        &required(&c, WHAT, "record")?,
        &required(&c, WHAT, "field")?,
    )
    .or_throw()?;
    Ok(match string_member(&c, WHAT, "subject")? {
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
    if let Some(text) = value.as_string() {
        return Ok(crmguard_core::value_to_plaintext(
            &serde_json::Value::String(text),
        ));
    }
    let json: serde_json::Value = from_js(value.clone(), "value")?;
    Ok(crmguard_core::value_to_plaintext(&json))
}

fn opened(content: ContentType, plain: Vec<u8>) -> Result<JsValue, JsValue> {
    to_js(&plaintext_to_value(content, plain).or_throw()?)
}

/// `{ tenant, record?, subject?, forgottenAsNull? }` of `sealRecord` / `openRecord`.
fn target(value: JsValue) -> Result<(RecordTarget, OpenRecordOptions), JsValue> {
    const WHAT: &str = "options";
    let t = members(
        &value,
        WHAT,
        &["tenant", "record", "subject", "forgottenAsNull"],
    )?;
    let target = RecordTarget {
        tenant: TenantId::new(required(&t, WHAT, "tenant")?).or_throw()?,
        record: string_member(&t, WHAT, "record")?
            .map(RecordId::new)
            .transpose()
            .or_throw()?,
        subject: string_member(&t, WHAT, "subject")?
            .map(SubjectId::new)
            .transpose()
            .or_throw()?,
    };
    Ok((
        target,
        OpenRecordOptions {
            forgotten_as_null: bool_member(&t, WHAT, "forgottenAsNull")?,
        },
    ))
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
        const WHAT: &str = "options";
        let (master, allow_cleartext) = if options.is_undefined() || options.is_null() {
            (None, false)
        } else {
            let o = members(&options, WHAT, &["masterKey", "allowCleartext"])?;
            let master = match string_member(&o, WHAT, "masterKey")? {
                Some(m) => Some(parse_master_key(&m).or_throw()?),
                None => None,
            };
            (master, bool_member(&o, WHAT, "allowCleartext")?)
        };
        let options = crmguard_core::KeyringFileOptions {
            master: master.as_ref(),
            cleartext: if allow_cleartext {
                crmguard_core::CleartextPolicy::Allow
            } else {
                crmguard_core::CleartextPolicy::Refuse
            },
            // JS callers keep no expectation yet; the id and generation are readable below.
            expect: None,
        };
        CoreKeyring::from_json(text, &options)
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

    /// This keyring's id (32 hex digits), to remember with `generation` and refuse a
    /// substituted or rolled-back keyring file later.
    #[wasm_bindgen(getter, js_name = keyringId)]
    pub fn keyring_id(&self) -> String {
        self.0.id().to_hex()
    }

    /// How many persisted mutations this keyring has had (never decreases).
    #[wasm_bindgen(getter)]
    pub fn generation(&self) -> f64 {
        // Generations count mutations; they stay far below 2^53.
        #[allow(clippy::cast_precision_loss)]
        let g = self.0.generation() as f64;
        g
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

    /// The blind index of `value` for `{ tenant, object, field, normalize?, bits?, subject? }`;
    /// with `subject`, derived from that data subject's key (fields sealed under it).
    #[wasm_bindgen(js_name = blindIndex)]
    pub fn blind_index(&self, spec: JsValue, value: &str) -> Result<String, JsValue> {
        const WHAT: &str = "blind index options";
        let o = members(
            &spec,
            WHAT,
            &["tenant", "object", "field", "normalize", "bits", "subject"],
        )?;
        let subject = string_member(&o, WHAT, "subject")?
            .map(SubjectId::new)
            .transpose()
            .or_throw()?;
        let tenant = TenantId::new(required(&o, WHAT, "tenant")?).or_throw()?;
        let object = ObjectType::new(required(&o, WHAT, "object")?).or_throw()?;
        let field = FieldName::new(required(&o, WHAT, "field")?).or_throw()?;
        let mut spec = BlindIndexSpec::default();
        let normalize = own_member(&o, "normalize")?;
        if !normalize.is_undefined() {
            // The schema parser's serde rules for normaliser names, through JSON text.
            spec.normalize = from_js(normalize, "blind index options.normalize")?;
        }
        let bits = own_member(&o, "bits")?;
        if !bits.is_undefined() {
            spec.bits = bits
                .as_f64()
                .filter(|b| b.fract() == 0.0 && (0.0..=f64::from(u16::MAX)).contains(b))
                // Checked: an integer in u16's range.
                .map(|b| {
                    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                    let b = b as u16;
                    b
                })
                .ok_or_else(|| type_error("blind index options.bits must be an integer"))?;
        }
        let scope = match &subject {
            Some(s) => BlindIndexScope::Subject(s),
            None => BlindIndexScope::Keyring,
        };
        self.0
            .blind_index_scoped(scope, &tenant, &object, &field, &spec, value)
            .map(|i| i.as_str().to_owned())
            .or_throw()
    }

    /// `sealFieldAsync`'s first half: a value shorter than `min_len` bytes is sealed here
    /// (the `cg1:` text); for a longer one, `[pendingSeal, key, iv, aad, plaintext]`: the
    /// loader runs AES-256-GCM in WebCrypto and calls `pendingSeal.finish`. Not public API.
    #[wasm_bindgen(js_name = "__prepareSeal")]
    pub fn prepare_seal(
        &self,
        context: JsValue,
        value: JsValue,
        min_len: f64,
    ) -> Result<JsValue, JsValue> {
        let ctx = self::context(context)?;
        let (content, plain) = plaintext(&value)?;
        // f64: the loader passes Infinity where WebCrypto is missing.
        #[allow(clippy::cast_precision_loss)]
        if (plain.len() as f64) < min_len {
            return self
                .0
                .seal_with(&ctx, &plain, content, &mut SystemEntropy)
                .map(|s| s.to_text().into())
                .or_throw();
        }
        let pending = self
            .0
            .prepare_seal(&ctx, plain.len(), content, &mut SystemEntropy)
            .or_throw()?;
        let step = gcm_step(pending.gcm(), &plain);
        step.unshift(&PendingSeal(Some(pending)).into());
        Ok(step.into())
    }

    /// `openFieldAsync`'s first half: parses `sealed` and checks its key like `openField`;
    /// `undefined` if its plaintext is shorter than `min_len` bytes (the loader then opens it
    /// in wasm), else `[key, iv, aad, ciphertextAndTag, isJson]`. Not public API.
    #[wasm_bindgen(js_name = "__prepareOpen")]
    pub fn prepare_open(
        &self,
        context: JsValue,
        sealed: &str,
        min_len: f64,
    ) -> Result<JsValue, JsValue> {
        let ctx = self::context(context)?;
        let sealed = SealedField::from_text(sealed).or_throw()?;
        let ct_tag = sealed.ciphertext_and_tag();
        #[allow(clippy::cast_precision_loss)]
        if ((ct_tag.len() - GCM_TAG_LEN) as f64) < min_len {
            return Ok(JsValue::UNDEFINED);
        }
        let step = gcm_step(&self.0.prepare_open(&ctx, &sealed).or_throw()?, ct_tag);
        step.push(&JsValue::from_bool(
            sealed.content_type() == ContentType::Json,
        ));
        Ok(step.into())
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

/// The AES-GCM tag length: a parsed sealed field's ciphertext is at least this long.
const GCM_TAG_LEN: usize = 16;

/// `[key, iv, aad, data]` for WebCrypto's AES-GCM. The key is a copy the loader wipes once it
/// has imported it as a non-extractable `CryptoKey`.
fn gcm_step(step: &crmguard_core::GcmStep, data: &[u8]) -> js_sys::Array {
    let bytes = |b: &[u8]| JsValue::from(js_sys::Uint8Array::from(b));
    js_sys::Array::of4(
        &bytes(step.key().expose_secret()),
        &bytes(step.nonce()),
        &bytes(step.aad()),
        &bytes(data),
    )
}

/// A seal waiting for its AES-256-GCM output (crmguard-core's `PendingSeal`). Not public API.
#[wasm_bindgen(js_name = "__PendingSeal")]
pub struct PendingSeal(Option<crmguard_core::PendingSeal>);

#[wasm_bindgen(js_class = "__PendingSeal")]
impl PendingSeal {
    /// Completes the seal with WebCrypto's output (ciphertext and tag); the `cg1:` text.
    pub fn finish(&mut self, ciphertext_and_tag: &[u8]) -> Result<String, JsValue> {
        let pending = self
            .0
            .take()
            .ok_or_else(|| type_error("this seal has been finished"))?;
        pending
            .finish(ciphertext_and_tag)
            .map(|s| s.to_text())
            .or_throw()
    }
}

/// Opened bytes as `openField` returns them: a string (bytes content) or the JSON value.
/// Not public API.
#[wasm_bindgen(js_name = "__openedValue")]
pub fn opened_value(is_json: bool, plaintext: Vec<u8>) -> Result<JsValue, JsValue> {
    let content = if is_json {
        ContentType::Json
    } else {
        ContentType::Bytes
    };
    opened(content, plaintext)
}

/// The error a failed AES-GCM decryption of a sealed field is reported as (the core's opaque
/// `ERR_SEALED_FIELD_AUTH`). Not public API.
#[wasm_bindgen(js_name = "__sealedFieldAuthError")]
pub fn sealed_field_auth_error() -> JsValue {
    crm_error(&crmguard_core::SealedFieldError::Auth.into())
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
pub fn error_codes() -> js_sys::Array {
    crmguard_core::ERROR_CODES
        .iter()
        .map(|c| JsValue::from_str(c))
        .collect()
}
