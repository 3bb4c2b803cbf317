//! The inputs of the published known-answer vectors (`tests/vectors/sealed-fields.json`) and
//! the code that computes their outputs with crmguard-core.
//!
//! `cargo xtask vectors` writes the file from [`sealed_field_vectors`]; the tests in
//! `tests/` check that the committed file is reproduced byte for byte and that every vector
//! opens, and the Node checker (`tests/vectors/check-sealed-fields.mjs`) opens them with
//! nothing but `node:crypto`.
//!
//! `cargo xtask codes` writes `docs/ERRORS.md` and `js/codes.d.ts` from crmguard-core's error
//! code table ([`error_code_files`]); `tests/error_codes.rs` checks the committed ones.

use std::collections::VecDeque;

mod codes;
mod hpke;
pub mod idp;
pub use codes::{CODES_COMMAND, codes_dts, error_code_files, errors_markdown, kind_description};
pub use hpke::{hpke_sealed_vectors, vector_tenant_key};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crmguard_core::{
    BlindIndexSpec, ContentType, Entropy, Error, FieldContext, FieldName, Key256, Keyring,
    Normalizer, ObjectType, SealedField, SubjectId, TenantId,
};
use serde_json::{Value, json};

/// Entropy that hands out scripted byte strings in order (one per request).
pub struct ScriptedEntropy(VecDeque<Vec<u8>>);

impl ScriptedEntropy {
    /// Entropy that will return `chunks` in order.
    pub fn new(chunks: Vec<Vec<u8>>) -> Self {
        Self(chunks.into())
    }
}

impl Entropy for ScriptedEntropy {
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), Error> {
        match self.0.pop_front() {
            Some(chunk) if chunk.len() == buf.len() => {
                buf.copy_from_slice(&chunk);
                Ok(())
            }
            _ => Err(Error::Entropy),
        }
    }
}

/// A deterministic byte pattern for vector `seed`.
pub fn pattern(seed: u32, len: usize) -> Vec<u8> {
    (0..len)
        .map(|j| (seed.wrapping_mul(131).wrapping_add(j as u32 * 7 + 3) % 251) as u8)
        .collect()
}

/// The blind-index root used by every sealed-field vector (it does not affect sealing).
pub fn vector_blind_root() -> Key256 {
    Key256::from_slice(&pattern(999, 32)).expect("32 bytes")
}

struct Case {
    comment: &'static str,
    key_id: u32,
    subject: Option<&'static str>,
    ctx: (&'static str, &'static str, &'static str, &'static str),
    content: ContentType,
    plaintext: Vec<u8>,
}

fn cases() -> Vec<Case> {
    let std_ctx = ("acme", "contact", "0042", "email");
    let c = |comment, ctx, plaintext: &[u8]| Case {
        comment,
        key_id: 1,
        subject: None,
        ctx,
        content: ContentType::Bytes,
        plaintext: plaintext.to_vec(),
    };
    let json = |comment, field, v: Value| Case {
        comment,
        key_id: 1,
        subject: None,
        ctx: ("acme", "contact", "0042", field),
        content: ContentType::Json,
        plaintext: serde_json::to_vec(&v).expect("JSON serialises"),
    };
    let long_tenant: &'static str = Box::leak("t".repeat(256).into_boxed_str());
    let kib: &'static [u8] = Box::leak(
        "CRM note. ".repeat(103).into_bytes()[..1024]
            .to_vec()
            .into_boxed_slice(),
    );
    vec![
        c("empty plaintext", std_ctx, b""),
        c("an e-mail address", std_ctx, b"ada@example.com"),
        c(
            "a phone number",
            ("acme", "contact", "0042", "phone"),
            b"+44 20 7946 0958",
        ),
        c(
            "non-ASCII UTF-8 text",
            ("acme", "contact", "0042", "name"),
            "Zoë Ångström — 東京 🙂".as_bytes(),
        ),
        c(
            "64 KiB plaintext",
            ("acme", "ticket", "T-1", "attachment"),
            &pattern(64, 64 * 1024),
        ),
        c("one zero byte", std_ctx, &[0]),
        c(
            "every byte value",
            ("acme", "contact", "0042", "blob"),
            &(0..=255u8).collect::<Vec<_>>(),
        ),
        json(
            "JSON number (content type json)",
            "profile.birth_year",
            json!(1815),
        ),
        json(
            "JSON object (content type json)",
            "address",
            json!({"street": "12 St James's Square", "city": "London"}),
        ),
        json(
            "JSON boolean (content type json)",
            "profile.vip",
            json!(true),
        ),
        json(
            "JSON array (content type json)",
            "scores",
            json!([1, 2.5, -3]),
        ),
        Case {
            key_id: 2,
            ..c("key id 2 (after one rotation)", std_ctx, b"ada@example.com")
        },
        Case {
            key_id: u32::MAX,
            ..c("largest key id", std_ctx, b"ada@example.com")
        },
        Case {
            subject: Some("contact-0042"),
            ..c(
                "sealed under a data subject's key",
                ("acme", "contact", "0042", "name"),
                b"Ada Lovelace",
            )
        },
        Case {
            subject: Some("kunde-Jürgen-7"),
            ..c(
                "subject key, non-ASCII subject id",
                ("acme", "contact", "7", "name"),
                "Jürgen Groß".as_bytes(),
            )
        },
        c(
            "256-byte tenant id",
            (long_tenant, "contact", "0042", "email"),
            b"ada@example.com",
        ),
        c(
            "non-ASCII identifiers",
            ("Zürich GmbH", "Kontakt", "№ 42", "E-Mail"),
            b"ada@example.com",
        ),
        c(
            "nested field path",
            ("acme", "contact", "0042", "address.city"),
            b"London",
        ),
        c(
            "array element path",
            ("acme", "contact", "0042", "emails[]"),
            b"countess@example.org",
        ),
        c("1 KiB text", ("acme", "deal", "D-9", "notes"), kib),
        c(
            "field name with a space",
            ("acme", "account", "A-1", "Annual Revenue"),
            b"12500000",
        ),
        c(
            "same value, other tenant",
            ("globex", "contact", "0042", "email"),
            b"ada@example.com",
        ),
    ]
}

fn context(case: &Case) -> FieldContext {
    let (t, o, r, f) = case.ctx;
    let ctx = FieldContext::new(t, o, r, f).expect("vector identifiers are valid");
    match case.subject {
        Some(s) => ctx.with_subject(SubjectId::new(s).expect("valid subject")),
        None => ctx,
    }
}

fn case_keys(i: u32) -> (Vec<u8>, Vec<u8>) {
    (pattern(i, 32), pattern(1000 + i, 24))
}

/// The keyring a vector is sealed with: its data key as primary (or, for subject vectors,
/// a dummy primary and the subject key), built only from published bytes.
pub fn vector_keyring(key_hex: &str, key_id: u32, subject: Option<&str>) -> Result<Keyring, Error> {
    let key = Key256::from_slice(&hex::decode(key_hex).map_err(|_| Error::Entropy)?)?;
    match subject {
        None => Keyring::from_keys(key_id, key, vector_blind_root(), 0),
        Some(s) => {
            let mut k = Keyring::from_keys(1, Key256::from_bytes([0; 32]), vector_blind_root(), 0)?;
            let mut e = ScriptedEntropy::new(vec![key.expose_secret().to_vec()]);
            k.add_subject(&SubjectId::new(s)?, &mut e, 0)?;
            Ok(k)
        }
    }
}

/// The whole `sealed-fields.json` document, computed now.
pub fn sealed_field_vectors() -> Result<Value, Error> {
    let mut vectors = Vec::new();
    let mut sealed_texts = Vec::new();
    for (i, case) in cases().into_iter().enumerate() {
        let n = i as u32 + 1;
        let (key, nonce) = case_keys(n);
        let keyring = vector_keyring(&hex::encode(&key), case.key_id, case.subject)?;
        let ctx = context(&case);
        let mut e = ScriptedEntropy::new(vec![nonce.clone()]);
        let sealed = keyring.seal_with(&ctx, &case.plaintext, case.content, &mut e)?;
        let mut v = json!({
            "id": n,
            "comment": case.comment,
            "key_hex": hex::encode(&key),
            "scope": if case.subject.is_some() { "subject" } else { "keyring" },
            "key_id": case.key_id,
            "tenant": case.ctx.0,
            "object": case.ctx.1,
            "record": case.ctx.2,
            "field": case.ctx.3,
            "subject": case.subject,
            "content_type": match case.content { ContentType::Bytes => "bytes", ContentType::Json => "json" },
            "nonce_hex": hex::encode(&nonce),
            "plaintext_hex": hex::encode(&case.plaintext),
            "sealed": sealed.to_text(),
        });
        if let (Ok(s), true) = (
            std::str::from_utf8(&case.plaintext),
            case.plaintext.len() <= 1024,
        ) {
            v["plaintext_utf8"] = s.into();
        }
        sealed_texts.push((sealed, keyring, ctx));
        vectors.push(v);
    }
    Ok(json!({
        "description": "CRMGuard sealed-field known-answer vectors (docs/FORMAT.md). Each vector: a 256-bit key (a keyring data key with key_id, or a data subject's key with generation key_id), the context, the 24-byte XAES-256-GCM nonce, the plaintext, and the sealed text form. Invalid vectors must fail to open with the given error code.",
        "generator": "cargo xtask vectors",
        "vectors": vectors,
        "invalid": invalid_vectors(&vectors, &sealed_texts)?,
        "blind_indexes": blind_index_vectors()?,
    }))
}

fn invalid_vectors(
    vectors: &[Value],
    sealed: &[(SealedField, Keyring, FieldContext)],
) -> Result<Vec<Value>, Error> {
    let (email, keyring, ctx) = &sealed[1];
    let text = email.to_text();
    let bytes = email.as_bytes().to_vec();
    let reencode = |b: &[u8]| SealedField::from_bytes(b).map(|s| s.to_text());
    let mut flipped_tag = bytes.clone();
    *flipped_tag.last_mut().expect("non-empty") ^= 0x80;
    let mut other_key_id = bytes.clone();
    other_key_id[6] = 9;
    let mut relabelled = bytes.clone();
    relabelled[2] = 0x01;
    let mut version2 = bytes.clone();
    version2[0] = 0x02;
    let other_record = FieldContext::new("acme", "contact", "0043", "email")?;
    let other_field = FieldContext::new("acme", "contact", "0042", "phone")?;
    let cases: Vec<(&str, String, FieldContext)> = vec![
        ("opened as another record", text.clone(), other_record),
        ("opened as another field", text.clone(), other_field),
        ("last tag bit flipped", reencode(&flipped_tag)?, ctx.clone()),
        (
            "key id changed to 9 (not in the keyring)",
            reencode(&other_key_id)?,
            ctx.clone(),
        ),
        (
            "content type relabelled as json",
            reencode(&relabelled)?,
            ctx.clone(),
        ),
        (
            "format version 2",
            format!("cg1:{}", URL_SAFE_NO_PAD.encode(&version2)),
            ctx.clone(),
        ),
        (
            "truncated by one byte",
            reencode(&bytes[..bytes.len() - 1])?,
            ctx.clone(),
        ),
        ("missing prefix", text[4..].to_owned(), ctx.clone()),
        ("padded base64", format!("{text}="), ctx.clone()),
    ];
    let base = &vectors[1];
    let mut out = Vec::new();
    for (i, (comment, sealed_text, c)) in cases.into_iter().enumerate() {
        let err = match keyring.open_text(&c, &sealed_text) {
            Ok(_) => panic!("invalid vector {comment:?} opened"),
            Err(e) => e.code(),
        };
        out.push(json!({
            "id": i + 1,
            "comment": comment,
            "key_hex": base["key_hex"],
            "scope": "keyring",
            "key_id": 1,
            "tenant": c.tenant.as_str(),
            "object": c.object.as_str(),
            "record": c.record.as_str(),
            "field": c.field.as_str(),
            "subject": Value::Null,
            "sealed": sealed_text,
            "error": err,
        }));
    }
    // A subject-sealed value opened without naming the subject.
    let (subj, subj_keyring, subj_ctx) = &sealed[13];
    let mut no_subject = subj_ctx.clone();
    no_subject.subject = None;
    let err = subj_keyring
        .open(&no_subject, subj)
        .err()
        .map(|e| e.code())
        .unwrap_or("none");
    out.push(json!({
        "id": out.len() + 1,
        "comment": "subject-sealed value opened without a subject",
        "key_hex": vectors[13]["key_hex"],
        "scope": "subject",
        "key_id": 1,
        "tenant": no_subject.tenant.as_str(),
        "object": no_subject.object.as_str(),
        "record": no_subject.record.as_str(),
        "field": no_subject.field.as_str(),
        "subject": Value::Null,
        "sealed": subj.to_text(),
        "error": err,
    }));
    Ok(out)
}

fn blind_index_vectors() -> Result<Vec<Value>, Error> {
    let keyring = Keyring::from_keys(1, Key256::from_bytes([0; 32]), vector_blind_root(), 0)?;
    type BlindCase = (
        &'static str,
        &'static str,
        &'static str,
        Vec<Normalizer>,
        u16,
        &'static str,
    );
    let cases: Vec<BlindCase> = vec![
        (
            "acme",
            "contact",
            "email",
            vec![Normalizer::Email],
            32,
            "  Ada@Example.COM ",
        ),
        (
            "acme",
            "contact",
            "email",
            vec![Normalizer::Email],
            32,
            "ada@example.com",
        ),
        (
            "globex",
            "contact",
            "email",
            vec![Normalizer::Email],
            32,
            "ada@example.com",
        ),
        (
            "acme",
            "contact",
            "phone",
            vec![Normalizer::Phone],
            24,
            "+44 (20) 7946-0958",
        ),
        (
            "acme",
            "contact",
            "name",
            vec![Normalizer::Trim, Normalizer::Lowercase],
            20,
            " Zoë ÅNGSTRÖM ",
        ),
        ("acme", "contact", "ssn", vec![], 256, "078-05-1120"),
        ("acme", "contact", "email", vec![], 8, "ada@example.com"),
    ];
    cases
        .into_iter()
        .map(|(t, o, f, normalize, bits, value)| {
            let spec = BlindIndexSpec {
                normalize: normalize.clone(),
                bits,
            };
            let idx = keyring.blind_index(
                &TenantId::new(t)?,
                &ObjectType::new(o)?,
                &FieldName::new(f)?,
                &spec,
                value,
            )?;
            Ok(json!({
                "blind_index_root_hex": hex::encode(vector_blind_root().expose_secret()),
                "tenant": t, "object": o, "field": f,
                "normalize": serde_json::to_value(&normalize).expect("serialises"),
                "bits": bits,
                "value": value,
                "index": idx.as_str(),
            }))
        })
        .collect()
}
