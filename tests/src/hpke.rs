//! Inputs and generator of `tests/vectors/hpke-sealed.json`: values sealed to a tenant's
//! public key (HPKE, docs/FORMAT.md §7), deterministic from fixed seeds.

use serde_json::{Value, json};

use crmguard_core::{
    ContentType, Error, FieldContext, TenantSealed, TenantSecretKey, open_from_tenant,
    seal_to_tenant,
};

use crate::{ScriptedEntropy, pattern};

struct Case {
    comment: &'static str,
    ctx: (&'static str, &'static str, &'static str, &'static str),
    content: ContentType,
    plaintext: Vec<u8>,
}

fn cases() -> Vec<Case> {
    let c = |comment, ctx, content, plaintext: &[u8]| Case {
        comment,
        ctx,
        content,
        plaintext: plaintext.to_vec(),
    };
    let base = ("acme", "contact", "web-0001", "email");
    vec![
        c(
            "e-mail from a web form",
            base,
            ContentType::Bytes,
            b"ada@example.com",
        ),
        c(
            "empty value",
            ("acme", "contact", "web-0001", "phone"),
            ContentType::Bytes,
            b"",
        ),
        c(
            "phone number",
            ("acme", "contact", "web-0001", "phone"),
            ContentType::Bytes,
            b"+44 20 7946 0958",
        ),
        c(
            "non-ASCII text and identifiers",
            ("m\u{fc}ller-gmbh", "kontakt", "k-\u{e4}1", "stra\u{df}e"),
            ContentType::Bytes,
            "Hauptstra\u{df}e 1, K\u{f6}ln \u{2713}".as_bytes(),
        ),
        c(
            "JSON content",
            ("acme", "contact", "web-0002", "address"),
            ContentType::Json,
            br#"{"city":"Bonn","lines":["c/o X",{"floor":3}]}"#,
        ),
        c(
            "every byte value",
            ("acme", "contact", "web-0003", "blob"),
            ContentType::Bytes,
            &(0..=255u8).collect::<Vec<u8>>(),
        ),
        c(
            "4 KiB value",
            ("acme", "ticket", "t-9", "body"),
            ContentType::Bytes,
            &pattern(77, 4096),
        ),
    ]
}

fn context(ctx: (&str, &str, &str, &str)) -> Result<FieldContext, Error> {
    Ok(FieldContext::new(ctx.0, ctx.1, ctx.2, ctx.3)?)
}

/// The tenant key pair of the vectors, from its published 32-byte seed.
pub fn vector_tenant_key() -> Result<(Vec<u8>, TenantSecretKey), Error> {
    let seed = pattern(4242, 32);
    let sk = TenantSecretKey::generate(&mut ScriptedEntropy::new(vec![seed.clone()]))?;
    Ok((seed, sk))
}

/// The whole `hpke-sealed.json` document, computed now.
pub fn hpke_sealed_vectors() -> Result<Value, Error> {
    let (seed, sk) = vector_tenant_key()?;
    let mut vectors = Vec::new();
    let mut first = None;
    for (i, case) in cases().into_iter().enumerate() {
        let n = i as u32 + 1;
        let eph_seed = pattern(5000 + n, 32);
        let ctx = context(case.ctx)?;
        let sealed = seal_to_tenant(
            sk.public_key(),
            &ctx,
            &case.plaintext,
            case.content,
            &mut ScriptedEntropy::new(vec![eph_seed.clone()]),
        )?;
        first.get_or_insert_with(|| sealed.clone());
        let mut v = json!({
            "id": n,
            "comment": case.comment,
            "tenant": case.ctx.0,
            "object": case.ctx.1,
            "record": case.ctx.2,
            "field": case.ctx.3,
            "content_type": match case.content { ContentType::Bytes => "bytes", ContentType::Json => "json" },
            "ephemeral_seed_hex": hex::encode(&eph_seed),
            "plaintext_hex": hex::encode(&case.plaintext),
            "sealed": sealed.to_text(),
        });
        if let (Ok(s), true) = (
            std::str::from_utf8(&case.plaintext),
            case.plaintext.len() <= 1024,
        ) {
            v["plaintext_utf8"] = s.into();
        }
        vectors.push(v);
    }
    // first is set by the loop above, which has at least one case.
    let first = first.expect("at least one case");
    Ok(json!({
        "description": "CRMGuard values sealed to a tenant's public key (docs/FORMAT.md section 7): HPKE base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM. The tenant key pair is DeriveKeyPair(tenant_seed); each value's ephemeral key pair is DeriveKeyPair(ephemeral_seed). Invalid vectors must fail to open with the given error code.",
        "generator": "cargo xtask vectors",
        "tenant_seed_hex": hex::encode(&seed),
        "tenant_secret_key_hex": hex::encode(sk.to_bytes().as_ref()),
        "tenant_public_key_hex": hex::encode(sk.public_key().to_bytes()),
        "vectors": vectors,
        "invalid": invalid_vectors(&sk, &first)?,
    }))
}

fn invalid_vectors(sk: &TenantSecretKey, first: &TenantSealed) -> Result<Vec<Value>, Error> {
    let text = first.to_text();
    let bytes = first.as_bytes();
    let edited = |i: usize, mask: u8| {
        let mut b = bytes.to_vec();
        b[i] ^= mask;
        let mut s = String::from("cgh1:");
        base64::Engine::encode_string(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            &b,
            &mut s,
        );
        s
    };
    let last = bytes.len() - 1;
    type InvalidCase<'a> = (&'a str, (&'a str, &'a str, &'a str, &'a str), String);
    let cases: Vec<InvalidCase<'_>> = vec![
        (
            "opened as another record",
            ("acme", "contact", "web-0002", "email"),
            text.clone(),
        ),
        (
            "opened as another field",
            ("acme", "contact", "web-0001", "phone"),
            text.clone(),
        ),
        (
            "opened as another tenant",
            ("globex", "contact", "web-0001", "email"),
            text.clone(),
        ),
        (
            "last tag bit flipped",
            ("acme", "contact", "web-0001", "email"),
            edited(last, 0x01),
        ),
        (
            "encapsulated key changed",
            ("acme", "contact", "web-0001", "email"),
            edited(3, 0x80),
        ),
        (
            "content type relabelled as json",
            ("acme", "contact", "web-0001", "email"),
            edited(2, 0x01),
        ),
        (
            "format version 2",
            ("acme", "contact", "web-0001", "email"),
            edited(0, 0x03),
        ),
        (
            "unknown suite",
            ("acme", "contact", "web-0001", "email"),
            edited(1, 0x03),
        ),
        (
            "truncated below the minimum length",
            ("acme", "contact", "web-0001", "email"),
            text[..60].to_owned(),
        ),
        (
            "sealed-field prefix",
            ("acme", "contact", "web-0001", "email"),
            text.replacen("cgh1:", "cg1:", 1),
        ),
        (
            "padded base64",
            ("acme", "contact", "web-0001", "email"),
            format!("{text}="),
        ),
    ];
    cases
        .into_iter()
        .enumerate()
        .map(|(i, (comment, ctx, sealed))| {
            let err = TenantSealed::from_text(&sealed)
                .and_then(|s| open_from_tenant(sk, &context(ctx)?, &s))
                .expect_err("an invalid vector must not open");
            Ok(json!({
                "id": i + 1,
                "comment": comment,
                "tenant": ctx.0, "object": ctx.1, "record": ctx.2, "field": ctx.3,
                "sealed": sealed,
                "error": err.code(),
            }))
        })
        .collect()
}
