//! Sealing and opening whole CRM records (JSON objects) from a schema that says, per field,
//! whether it stays clear, is encrypted, or is encrypted and blind-indexed.
//!
//! A field path is dotted (`address.city`); a segment ending in `[]` addresses every element
//! of an array (`emails[]`, `phones[].number`). An encrypted value of any JSON type is
//! replaced by its sealed text; strings are sealed as their UTF-8 bytes, other values as
//! their compact JSON (content type `json`), so every type round-trips. The field name bound
//! into each sealed value is the schema path (elements of one array share it). `null` values
//! are left as they are. Blind indexes go into one member of the record (default `_blind`),
//! keyed by path.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::blind::{BlindIndex, BlindIndexScope, BlindIndexSpec};
use crate::context::{FieldContext, FieldName, ObjectType, RecordId, SubjectId, TenantId};
use crate::crypto::Entropy;
use crate::sealed::{ContentType, KeyRef, SealedField};
use crate::{Error, Keyring, SealedFieldError, SubjectError};

/// What happens to a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FieldAction {
    /// Stored as it is.
    Clear,
    /// Sealed.
    Encrypt,
    /// Sealed, and a blind index stored for equality search.
    BlindIndex,
}

/// Which key seals a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyScope {
    /// The keyring's primary key.
    #[default]
    Keyring,
    /// The record's data subject's key: erasing the subject erases the field.
    Subject,
}

impl KeyScope {
    /// Whether a sealed value's key reference has this scope.
    fn holds(self, key: KeyRef) -> bool {
        matches!(
            (self, key),
            (KeyScope::Keyring, KeyRef::Keyring(_)) | (KeyScope::Subject, KeyRef::Subject(_))
        )
    }
}

/// Fields the schema does not name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UnknownFields {
    /// Refuse the record (the default: a new column is never silently stored in clear).
    #[default]
    Reject,
    /// Seal them under the keyring key, bound to their path.
    Encrypt,
    /// Store them in clear.
    Clear,
}

/// One field's rule in a schema document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldRule {
    /// Clear, encrypt, or encrypt with a blind index.
    pub action: FieldAction,
    /// Which key seals it.
    #[serde(default)]
    pub key: KeyScope,
    /// Blind-index settings (implies indexing; default settings for `blind-index` without it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blind_index: Option<BlindIndexSpec>,
}

impl FieldRule {
    fn encrypts(&self) -> bool {
        self.action != FieldAction::Clear
    }

    /// The blind-index settings if this field is indexed.
    pub fn index_spec(&self) -> Option<BlindIndexSpec> {
        match (self.action, &self.blind_index) {
            (FieldAction::Clear, _) => None,
            (_, Some(spec)) => Some(spec.clone()),
            (FieldAction::BlindIndex, None) => Some(BlindIndexSpec::default()),
            (FieldAction::Encrypt, None) => None,
        }
    }
}

/// The schema document (JSON), as written by people; see docs/FORMAT.md.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordSchemaDocument {
    /// The CRM object type, e.g. `contact`.
    pub object: String,
    /// Path of the record id in each record (must not be encrypted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_id: Option<String>,
    /// Path of the data-subject id in each record (must not be encrypted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// Member that receives blind indexes. Default `_blind`.
    #[serde(default = "default_index_member")]
    pub index_member: String,
    /// What to do with fields the schema does not name.
    #[serde(default)]
    pub unknown_fields: UnknownFields,
    /// Rules by field path.
    pub fields: BTreeMap<String, FieldRule>,
}

fn default_index_member() -> String {
    "_blind".into()
}

#[derive(Debug, Clone)]
enum Node {
    Leaf(FieldRule),
    Object(BTreeMap<String, Node>),
    Array(Box<Node>),
}

/// A validated record schema.
#[derive(Debug, Clone)]
pub struct RecordSchema {
    doc: RecordSchemaDocument,
    object: ObjectType,
    root: BTreeMap<String, Node>,
}

/// Per-call identities of a record: the tenant, and optionally the record id and subject
/// when they are not (or should not be) read from the record.
#[derive(Debug, Clone)]
pub struct RecordTarget {
    /// The tenant that owns the record.
    pub tenant: TenantId,
    /// The record id, overriding the schema's `record_id` path.
    pub record: Option<RecordId>,
    /// The data subject, overriding the schema's `subject` path.
    pub subject: Option<SubjectId>,
}

impl RecordTarget {
    /// A target with only the tenant; ids come from the record.
    pub fn tenant(tenant: TenantId) -> Self {
        Self {
            tenant,
            record: None,
            subject: None,
        }
    }
}

/// Options for [`Keyring::open_record`].
#[derive(Debug, Clone, Copy, Default)]
pub struct OpenRecordOptions {
    /// Put `null` where a field was sealed under a forgotten subject's key, instead of
    /// failing with `ERR_SUBJECT_FORGOTTEN`.
    pub forgotten_as_null: bool,
}

fn schema_err(msg: impl Into<String>) -> Error {
    Error::Schema(msg.into())
}

fn record_err(msg: impl Into<String>) -> Error {
    Error::Record(msg.into())
}

/// Splits `a.b[].c` into `[("a", false), ("b", true), ("c", false)]`.
fn parse_path(path: &str) -> Result<Vec<(&str, bool)>, Error> {
    path.split('.')
        .map(|seg| {
            let (name, array) = match seg.strip_suffix("[]") {
                Some(n) => (n, true),
                None => (seg, false),
            };
            if name.is_empty() || name.contains(['[', ']']) {
                return Err(schema_err(format!("bad field path {path:?}")));
            }
            Ok((name, array))
        })
        .collect()
}

fn insert(
    level: &mut BTreeMap<String, Node>,
    segs: &[(&str, bool)],
    rule: &FieldRule,
    path: &str,
) -> Result<(), Error> {
    let overlap = || schema_err(format!("field path {path:?} overlaps another path"));
    let ((name, array), rest) = segs.split_first().ok_or_else(overlap)?;
    let entry = level.get_mut(*name);
    // Descend through an array node if the segment has `[]`.
    let slot: &mut Node = match entry {
        Some(node) => node,
        None => {
            let fresh = if rest.is_empty() && !*array {
                Node::Leaf(rule.clone())
            } else {
                let inner = if rest.is_empty() {
                    Node::Leaf(rule.clone())
                } else {
                    Node::Object(BTreeMap::new())
                };
                if *array {
                    Node::Array(Box::new(inner))
                } else {
                    inner
                }
            };
            level.insert((*name).to_owned(), fresh);
            if rest.is_empty() {
                return Ok(());
            }
            level.get_mut(*name).ok_or_else(overlap)?
        }
    };
    let target = match (slot, *array) {
        (Node::Array(inner), true) => inner.as_mut(),
        (node @ Node::Object(_), false) => node,
        _ => return Err(overlap()),
    };
    match target {
        Node::Object(children) if !rest.is_empty() => insert(children, rest, rule, path),
        _ => Err(overlap()),
    }
}

impl RecordSchema {
    /// Parses and validates a schema document.
    pub fn from_json(text: &str) -> Result<Self, Error> {
        let doc: RecordSchemaDocument =
            serde_json::from_str(text).map_err(|e| schema_err(format!("{e}")))?;
        Self::new(doc)
    }

    /// Validates a schema document.
    pub fn new(doc: RecordSchemaDocument) -> Result<Self, Error> {
        let object = ObjectType::new(doc.object.as_str()).map_err(|e| schema_err(e.to_string()))?;
        let mut root = BTreeMap::new();
        for (path, rule) in &doc.fields {
            FieldName::new(path.as_str()).map_err(|e| schema_err(e.to_string()))?;
            if let Some(spec) = &rule.blind_index {
                if rule.action == FieldAction::Clear {
                    return Err(schema_err(format!(
                        "{path:?}: a clear field cannot have a blind index"
                    )));
                }
                spec.validate()?;
            }
            let segs = parse_path(path)?;
            if segs[0].0 == doc.index_member {
                return Err(schema_err(format!("{path:?} uses the index member's name")));
            }
            insert(&mut root, &segs, rule, path)?;
        }
        if doc.index_member.is_empty() {
            return Err(schema_err("index_member must not be empty"));
        }
        let schema = Self { doc, object, root };
        for (what, path) in [
            ("record_id", &schema.doc.record_id),
            ("subject", &schema.doc.subject),
        ] {
            if let Some(p) = path {
                if parse_path(p)?.iter().any(|(_, array)| *array) {
                    return Err(schema_err(format!(
                        "{what} path {p:?} cannot go through an array"
                    )));
                }
                if schema.rule_for(p).is_some_and(FieldRule::encrypts)
                    || (schema.rule_for(p).is_none()
                        && schema.doc.unknown_fields == UnknownFields::Encrypt)
                {
                    return Err(schema_err(format!("{what} path {p:?} must stay clear")));
                }
            }
        }
        Ok(schema)
    }

    /// The object type the schema describes.
    pub fn object(&self) -> &ObjectType {
        &self.object
    }

    /// The document it was built from.
    pub fn document(&self) -> &RecordSchemaDocument {
        &self.doc
    }

    /// The rule for an exact path as written in the schema.
    pub fn rule_for(&self, path: &str) -> Option<&FieldRule> {
        self.doc.fields.get(path)
    }

    fn lookup<'v>(record: &'v Value, path: &str) -> Option<&'v Value> {
        path.split('.').try_fold(record, |v, seg| v.get(seg))
    }

    fn id_at(record: &Value, path: &Option<String>, what: &str) -> Result<Option<String>, Error> {
        let Some(p) = path else { return Ok(None) };
        match Self::lookup(record, p) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(_) => Err(record_err(format!(
                "{what} at {p:?} must be a string or number"
            ))),
        }
    }

    /// The record id: the target's, else the one at the schema's `record_id` path.
    pub fn record_id(&self, record: &Value, target: &RecordTarget) -> Result<RecordId, Error> {
        if let Some(r) = &target.record {
            return Ok(r.clone());
        }
        let id = Self::id_at(record, &self.doc.record_id, "record id")?
            .ok_or_else(|| record_err("no record id: give one, or set record_id in the schema"))?;
        Ok(RecordId::new(id)?)
    }

    /// The data subject: the target's, else the one at the schema's `subject` path, if any.
    pub fn subject_id(
        &self,
        record: &Value,
        target: &RecordTarget,
    ) -> Result<Option<SubjectId>, Error> {
        if let Some(s) = &target.subject {
            return Ok(Some(s.clone()));
        }
        Self::id_at(record, &self.doc.subject, "subject id")?
            .map(SubjectId::new)
            .transpose()
            .map_err(Error::from)
    }

    /// Whether any field is sealed under the subject's key.
    pub fn uses_subject_keys(&self) -> bool {
        self.doc
            .fields
            .values()
            .any(|r| r.encrypts() && r.key == KeyScope::Subject)
    }
}

/// What a walk does at an encrypted leaf.
enum Op<'a, E: Entropy> {
    Seal {
        entropy: &'a mut E,
        indexes: &'a mut Map<String, Value>,
    },
    Open(OpenRecordOptions),
    Reseal {
        entropy: &'a mut E,
        count: &'a mut usize,
    },
}

struct Walk<'a> {
    keyring: &'a Keyring,
    schema: &'a RecordSchema,
    base: FieldContext,
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

impl Walk<'_> {
    fn ctx(&self, path: &str, scope: KeyScope) -> Result<FieldContext, Error> {
        let mut ctx = self.base.for_field(FieldName::new(path)?);
        match scope {
            KeyScope::Keyring => ctx.subject = None,
            KeyScope::Subject if ctx.subject.is_none() => {
                return Err(record_err(format!(
                    "{path:?} is sealed under the subject's key, but the record has no subject id"
                )));
            }
            KeyScope::Subject => {}
        }
        Ok(ctx)
    }

    fn object<E: Entropy>(
        &self,
        children: &BTreeMap<String, Node>,
        map: &mut Map<String, Value>,
        path: &str,
        op: &mut Op<'_, E>,
    ) -> Result<(), Error> {
        for (key, value) in map.iter_mut() {
            let here = join(path, key);
            match children.get(key) {
                Some(node) => self.node(node, value, &here, op)?,
                None => match self.schema.doc.unknown_fields {
                    UnknownFields::Clear => {}
                    UnknownFields::Reject => {
                        return Err(record_err(format!("field {here:?} is not in the schema")));
                    }
                    // A member name with path syntax in it would share its sealing
                    // context with another place ("a.b" with a → b, "x[]" with x's items),
                    // so one sealed value could stand in for the other: refused.
                    UnknownFields::Encrypt if key.contains(['.', '[', ']']) => {
                        return Err(record_err(format!(
                            "field {here:?}: a name holding '.', '[' or ']' cannot be sealed \
                             as an unknown field (it would share a context with a schema path)"
                        )));
                    }
                    UnknownFields::Encrypt => {
                        let rule = FieldRule {
                            action: FieldAction::Encrypt,
                            key: KeyScope::Keyring,
                            blind_index: None,
                        };
                        self.leaf(&rule, value, &here, op)?;
                    }
                },
            }
        }
        Ok(())
    }

    fn node<E: Entropy>(
        &self,
        node: &Node,
        value: &mut Value,
        path: &str,
        op: &mut Op<'_, E>,
    ) -> Result<(), Error> {
        match (node, value) {
            (_, Value::Null) => Ok(()),
            (Node::Leaf(rule), value) => self.leaf(rule, value, path, op),
            (Node::Object(children), Value::Object(map)) => self.object(children, map, path, op),
            (Node::Array(inner), Value::Array(items)) => {
                let here = format!("{path}[]");
                items
                    .iter_mut()
                    .try_for_each(|item| self.node(inner, item, &here, op))
            }
            (Node::Object(_), _) => Err(record_err(format!("{path:?} must be an object"))),
            (Node::Array(_), _) => Err(record_err(format!("{path:?} must be an array"))),
        }
    }

    fn leaf<E: Entropy>(
        &self,
        rule: &FieldRule,
        value: &mut Value,
        path: &str,
        op: &mut Op<'_, E>,
    ) -> Result<(), Error> {
        if !rule.encrypts() || value.is_null() {
            return Ok(());
        }
        let ctx = self.ctx(path, rule.key)?;
        match op {
            Op::Seal { entropy, indexes } => {
                let (content, plain) = value_to_plaintext(value);
                if let Some(spec) = rule.index_spec() {
                    let text = core::str::from_utf8(&plain)
                        .map_err(|_| record_err("index input is not UTF-8"))?;
                    let idx = self.keyring.blind_index_scoped(
                        index_scope(rule.key, &ctx)?,
                        &ctx.tenant,
                        &ctx.object,
                        &ctx.field,
                        &spec,
                        text,
                    )?;
                    let entry = indexes.entry(path.to_owned());
                    if path.contains("[]") {
                        let slot = entry.or_insert_with(|| Value::Array(Vec::new()));
                        if let Value::Array(list) = slot {
                            list.push(Value::String(idx.as_str().into()));
                        }
                    } else {
                        entry.or_insert(Value::String(idx.as_str().into()));
                    }
                }
                let sealed = self.keyring.seal_with(&ctx, &plain, content, *entropy)?;
                *value = Value::String(sealed.to_text());
            }
            Op::Open(opts) => {
                let sealed = sealed_at(value, path, rule.key)?;
                match self.keyring.open(&ctx, &sealed) {
                    Ok(plain) => *value = decode(sealed.content_type(), plain, path)?,
                    Err(Error::Subject(SubjectError::Forgotten)) if opts.forgotten_as_null => {
                        *value = Value::Null;
                    }
                    Err(e) => return Err(e),
                }
            }
            Op::Reseal { entropy, count } => {
                let sealed = sealed_at(value, path, rule.key)?;
                if let Some(new) = self.keyring.reseal(&ctx, &sealed, *entropy)? {
                    *value = Value::String(new.to_text());
                    **count += 1;
                }
            }
        }
        Ok(())
    }
}

/// The sealed value at `path`, refused unless it is under the key scope the schema's rule
/// gives (a keyring-sealed value where the rule says `subject` would survive erasure).
fn sealed_at(value: &Value, path: &str, scope: KeyScope) -> Result<SealedField, Error> {
    let sealed = match value {
        Value::String(s) if SealedField::looks_sealed(s) => SealedField::from_text(s)?,
        _ => return Err(record_err(format!("{path:?} should be sealed but is not"))),
    };
    if !scope.holds(sealed.key_ref()) {
        return Err(SealedFieldError::KeyScope.into());
    }
    Ok(sealed)
}

/// The blind-index key material for a field sealed under `scope` in `ctx`: a subject-keyed
/// field is indexed under its subject's key, so the index dies with it.
fn index_scope(scope: KeyScope, ctx: &FieldContext) -> Result<BlindIndexScope<'_>, Error> {
    match scope {
        KeyScope::Keyring => Ok(BlindIndexScope::Keyring),
        KeyScope::Subject => ctx
            .subject
            .as_ref()
            .map(BlindIndexScope::Subject)
            .ok_or_else(|| SubjectError::Required.into()),
    }
}

/// How a JSON value is sealed: a string as its UTF-8 bytes (content type `bytes`), any other
/// value as its compact JSON (content type `json`). Records and single values share this rule.
pub fn value_to_plaintext(value: &Value) -> (ContentType, zeroize::Zeroizing<Vec<u8>>) {
    match value {
        Value::String(s) => (
            ContentType::Bytes,
            zeroize::Zeroizing::new(s.clone().into_bytes()),
        ),
        other => (
            ContentType::Json,
            // Serialising a serde_json::Value cannot fail.
            zeroize::Zeroizing::new(serde_json::to_vec(other).expect("JSON value serialises")),
        ),
    }
}

/// The inverse of [`value_to_plaintext`]: `bytes` content must be UTF-8 (a string), `json`
/// content must be JSON. Fails with `ERR_RECORD_INVALID` otherwise.
pub fn plaintext_to_value(content: ContentType, plain: Vec<u8>) -> Result<Value, Error> {
    decode(content, plain, "value")
}

impl Keyring {
    /// Seals a JSON value for `ctx` by [`value_to_plaintext`]'s rule.
    pub fn seal_value(
        &self,
        ctx: &FieldContext,
        value: &Value,
        entropy: &mut impl Entropy,
    ) -> Result<SealedField, Error> {
        let (content, plain) = value_to_plaintext(value);
        self.seal_with(ctx, &plain, content, entropy)
    }

    /// The blind index of `value` for the schema field `path` (as written in the schema), the
    /// query side of [`Keyring::seal_record`]: the rule gives the settings and the key scope.
    /// A field under the subject's key needs `target.subject` (`ERR_SUBJECT_REQUIRED`) and
    /// fails with `ERR_SUBJECT_FORGOTTEN` once the subject is forgotten; a path without a
    /// blind index is `ERR_SCHEMA_INVALID`.
    pub fn record_blind_index(
        &self,
        schema: &RecordSchema,
        target: &RecordTarget,
        path: &str,
        value: &str,
    ) -> Result<BlindIndex, Error> {
        let rule = schema.rule_for(path);
        let spec = rule
            .and_then(FieldRule::index_spec)
            .ok_or_else(|| schema_err(format!("the schema has no blind index for {path:?}")))?;
        let scope = match rule.map(|r| r.key) {
            Some(KeyScope::Subject) => {
                BlindIndexScope::Subject(target.subject.as_ref().ok_or(SubjectError::Required)?)
            }
            _ => BlindIndexScope::Keyring,
        };
        self.blind_index_scoped(
            scope,
            &target.tenant,
            schema.object(),
            &FieldName::new(path)?,
            &spec,
            value,
        )
    }

    /// Opens a sealed value to a JSON value by [`plaintext_to_value`]'s rule.
    pub fn open_value(&self, ctx: &FieldContext, sealed: &SealedField) -> Result<Value, Error> {
        plaintext_to_value(sealed.content_type(), self.open(ctx, sealed)?)
    }
}

fn decode(content: ContentType, plain: Vec<u8>, path: &str) -> Result<Value, Error> {
    match content {
        ContentType::Bytes => String::from_utf8(plain)
            .map(Value::String)
            .map_err(|_| record_err(format!("{path:?} opened to bytes that are not UTF-8"))),
        ContentType::Json => serde_json::from_slice(&plain)
            .map_err(|_| record_err(format!("{path:?} opened to invalid JSON"))),
    }
}

impl Keyring {
    fn walk<'a>(
        &'a self,
        schema: &'a RecordSchema,
        record: &Value,
        target: &RecordTarget,
    ) -> Result<Walk<'a>, Error> {
        if !record.is_object() {
            return Err(record_err("a record must be a JSON object"));
        }
        let base = FieldContext {
            tenant: target.tenant.clone(),
            object: schema.object.clone(),
            record: schema.record_id(record, target)?,
            // Replaced per field; a valid placeholder keeps FieldContext well-formed.
            field: FieldName::new("-")?,
            subject: schema.subject_id(record, target)?,
        };
        Ok(Walk {
            keyring: self,
            schema,
            base,
        })
    }

    /// Seals a record by its schema. If fields use the subject's key, the keyring must hold
    /// one for the record's subject ([`Keyring::add_subject`]).
    pub fn seal_record(
        &self,
        schema: &RecordSchema,
        record: &Value,
        target: &RecordTarget,
        entropy: &mut impl Entropy,
    ) -> Result<Value, Error> {
        let walk = self.walk(schema, record, target)?;
        let mut out = record.clone();
        let mut indexes = Map::new();
        let map = out
            .as_object_mut()
            .ok_or_else(|| record_err("a record must be a JSON object"))?;
        if map.contains_key(&schema.doc.index_member) {
            return Err(record_err(format!(
                "the record already has the index member {:?}",
                schema.doc.index_member
            )));
        }
        walk.object(
            &schema.root,
            map,
            "",
            &mut Op::Seal {
                entropy,
                indexes: &mut indexes,
            },
        )?;
        if !indexes.is_empty() {
            map.insert(schema.doc.index_member.clone(), Value::Object(indexes));
        }
        Ok(out)
    }

    /// Opens a sealed record by its schema and drops its blind-index member.
    pub fn open_record(
        &self,
        schema: &RecordSchema,
        record: &Value,
        target: &RecordTarget,
        options: OpenRecordOptions,
    ) -> Result<Value, Error> {
        let walk = self.walk(schema, record, target)?;
        let mut out = record.clone();
        let map = out
            .as_object_mut()
            .ok_or_else(|| record_err("a record must be a JSON object"))?;
        map.shift_remove(&schema.doc.index_member);
        walk.object::<NoEntropy>(&schema.root, map, "", &mut Op::Open(options))?;
        Ok(out)
    }

    /// Re-encrypts, in place, every keyring-sealed field of a sealed record that is not under
    /// the primary key. Returns how many values changed. Blind indexes are unaffected.
    pub fn reseal_record(
        &self,
        schema: &RecordSchema,
        record: &mut Value,
        target: &RecordTarget,
        entropy: &mut impl Entropy,
    ) -> Result<usize, Error> {
        let walk = self.walk(schema, record, target)?;
        let mut count = 0;
        // Work on a copy so a failure part-way leaves the caller's record untouched.
        let mut copy = record.clone();
        let map = copy
            .as_object_mut()
            .ok_or_else(|| record_err("a record must be a JSON object"))?;
        let saved = map.shift_remove(&schema.doc.index_member);
        walk.object(
            &schema.root,
            map,
            "",
            &mut Op::Reseal {
                entropy,
                count: &mut count,
            },
        )?;
        if let Some(idx) = saved {
            map.insert(schema.doc.index_member.clone(), idx);
        }
        *record = copy;
        Ok(count)
    }
}

/// Opening needs no randomness; this type fills the generic parameter.
struct NoEntropy;

impl Entropy for NoEntropy {
    fn fill(&mut self, _buf: &mut [u8]) -> Result<(), Error> {
        Err(Error::Entropy)
    }
}

#[cfg(test)]
#[path = "record_tests.rs"]
mod tests;
