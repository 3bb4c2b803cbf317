use super::*;
use crate::{ContentType, SealedField, SystemEntropy};
use proptest::prelude::*;

/// Deterministic entropy for tests: a counter-based byte stream.
struct Counter(u8);

impl Entropy for Counter {
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), Error> {
        for b in buf {
            self.0 = self.0.wrapping_add(1);
            *b = self.0;
        }
        Ok(())
    }
}

fn ctx() -> FieldContext {
    FieldContext::new("acme", "contact", "0042", "email").unwrap()
}

fn keyring() -> Keyring {
    Keyring::generate(&mut Counter(0), 1_000).unwrap()
}

#[test]
fn seal_open_round_trip_and_overhead() {
    let k = keyring();
    for pt in [&b""[..], b"a", b"ada@example.com", &[0u8; 4096]] {
        let s = k.seal(&ctx(), pt).unwrap();
        assert_eq!(s.as_bytes().len(), pt.len() + crate::SEALED_OVERHEAD);
        assert_eq!(k.open(&ctx(), &s).unwrap(), pt);
        assert_eq!(k.open_text(&ctx(), &s.to_text()).unwrap(), pt);
    }
}

#[test]
fn every_context_component_is_bound() {
    let k = keyring();
    let s = k.seal(&ctx(), b"ada@example.com").unwrap();
    let variants = [
        FieldContext::new("globex", "contact", "0042", "email"),
        FieldContext::new("acme", "lead", "0042", "email"),
        FieldContext::new("acme", "contact", "0043", "email"),
        FieldContext::new("acme", "contact", "0042", "phone"),
        // Length-prefixing: moving bytes between components must not collide.
        FieldContext::new("acmec", "ontact", "0042", "email"),
    ];
    for v in variants {
        let e = k.open(&v.unwrap(), &s).unwrap_err();
        assert_eq!(e.code(), "ERR_SEALED_FIELD_AUTH");
    }
}

#[test]
fn every_byte_flip_and_truncation_fails() {
    let k = keyring();
    let s = k.seal(&ctx(), b"ada@example.com").unwrap();
    let bytes = s.as_bytes().to_vec();
    for i in 0..bytes.len() {
        let mut b = bytes.clone();
        b[i] ^= 0x01;
        let result = SealedField::from_bytes(&b)
            .map_err(Error::from)
            .and_then(|f| k.open(&ctx(), &f));
        assert!(result.is_err(), "flip at byte {i} was accepted");
    }
    for len in 0..bytes.len() {
        let result = SealedField::from_bytes(&bytes[..len])
            .map_err(Error::from)
            .and_then(|f| k.open(&ctx(), &f));
        assert!(result.is_err(), "truncation to {len} was accepted");
    }
}

#[test]
fn unknown_and_destroyed_keys() {
    let mut k = keyring();
    let old = k.seal(&ctx(), b"x").unwrap();
    let other = Keyring::generate(&mut Counter(100), 1).unwrap();
    // Same id (1), different material: authentication fails.
    assert_eq!(
        other.open(&ctx(), &old).unwrap_err().code(),
        "ERR_SEALED_FIELD_AUTH"
    );
    k.rotate(&mut Counter(50), 2_000).unwrap();
    let new = k.seal(&ctx(), b"y").unwrap();
    assert_eq!(new.key_ref(), KeyRef::Keyring(KeyId(2)));
    assert_eq!(
        other.open(&ctx(), &new).unwrap_err().code(),
        "ERR_KEY_NOT_FOUND"
    );
    assert_eq!(k.open(&ctx(), &old).unwrap(), b"x");
    assert_eq!(
        k.destroy_key(KeyId(2)).unwrap_err().code(),
        "ERR_KEYRING_REFUSED"
    );
    assert_eq!(
        k.destroy_key(KeyId(9)).unwrap_err().code(),
        "ERR_KEY_NOT_FOUND"
    );
    k.destroy_key(KeyId(1)).unwrap();
    assert_eq!(
        k.open(&ctx(), &old).unwrap_err().code(),
        "ERR_KEY_DESTROYED"
    );
    assert_eq!(k.open(&ctx(), &new).unwrap(), b"y");
}

#[test]
fn rotation_and_reseal() {
    let mut k = keyring();
    let old = k.seal(&ctx(), b"ada").unwrap();
    assert!(
        k.reseal(&ctx(), &old, &mut SystemEntropy)
            .unwrap()
            .is_none()
    );
    let id = k.rotate(&mut SystemEntropy, 2).unwrap();
    assert_eq!(id, KeyId(2));
    let infos: Vec<_> = k.key_infos().collect();
    assert_eq!(infos[0].status, KeyStatus::DecryptOnly);
    assert!(infos[1].primary && infos[1].status == KeyStatus::Active);
    let new = k.reseal(&ctx(), &old, &mut SystemEntropy).unwrap().unwrap();
    assert_eq!(new.key_ref(), KeyRef::Keyring(id));
    assert_eq!(new.content_type(), old.content_type());
    assert_eq!(k.open(&ctx(), &new).unwrap(), b"ada");
    assert!(
        k.reseal(&ctx(), &new, &mut SystemEntropy)
            .unwrap()
            .is_none()
    );
    // Resealing keeps the context binding.
    let elsewhere = FieldContext::new("acme", "contact", "9", "email").unwrap();
    assert!(k.open(&elsewhere, &new).is_err());
}

#[test]
fn crypto_shredding() {
    let mut k = keyring();
    let ada = SubjectId::new("contact-0042").unwrap();
    let bob = SubjectId::new("contact-0043").unwrap();
    let ada_ctx = ctx().with_subject(ada.clone());
    let bob_ctx = FieldContext::new("acme", "contact", "0043", "email")
        .unwrap()
        .with_subject(bob.clone());
    assert_eq!(
        k.seal(&ada_ctx, b"x").unwrap_err().code(),
        "ERR_SUBJECT_NOT_FOUND"
    );
    assert!(k.add_subject(&ada, &mut SystemEntropy, 1).unwrap());
    assert!(!k.add_subject(&ada, &mut SystemEntropy, 1).unwrap());
    k.add_subject(&bob, &mut SystemEntropy, 1).unwrap();
    let a = k.seal(&ada_ctx, b"Ada Lovelace").unwrap();
    let b = k.seal(&bob_ctx, b"Bob").unwrap();
    assert_eq!(a.key_ref(), KeyRef::Subject(1));
    assert_eq!(k.open(&ada_ctx, &a).unwrap(), b"Ada Lovelace");
    // The subject is required to open, and must be the right one.
    assert_eq!(
        k.open(&ctx(), &a).unwrap_err().code(),
        "ERR_SUBJECT_REQUIRED"
    );
    let wrong = ctx().with_subject(bob.clone());
    assert_eq!(
        k.open(&wrong, &a).unwrap_err().code(),
        "ERR_SEALED_FIELD_AUTH"
    );
    // A keyring-scoped value is not affected by a subject in the context.
    let plain = k.seal(&ctx(), b"kept").unwrap();

    let saved = k.to_cleartext_json();
    assert_eq!(k.forget_subject(&ada, 5).unwrap(), ForgetOutcome::Erased);
    assert_eq!(
        k.forget_subject(&ada, 6).unwrap(),
        ForgetOutcome::AlreadyForgotten
    );
    assert_eq!(
        k.open(&ada_ctx, &a).unwrap_err().code(),
        "ERR_SUBJECT_FORGOTTEN"
    );
    assert_eq!(
        k.seal(&ada_ctx, b"again").unwrap_err().code(),
        "ERR_SUBJECT_FORGOTTEN"
    );
    assert_eq!(
        k.add_subject(&ada, &mut SystemEntropy, 7)
            .unwrap_err()
            .code(),
        "ERR_SUBJECT_FORGOTTEN"
    );
    assert_eq!(k.open(&bob_ctx, &b).unwrap(), b"Bob");
    assert_eq!(k.open(&ada_ctx, &plain).unwrap(), b"kept");
    assert_eq!(k.subject_counts(), (1, 1));
    assert_eq!(
        k.forget_subject(&SubjectId::new("nobody").unwrap(), 1)
            .unwrap_err()
            .code(),
        "ERR_SUBJECT_NOT_FOUND"
    );

    // The erasure survives a save and load, and the file no longer holds the id.
    let after = k.to_cleartext_json();
    assert!(saved.contains("contact-0042"));
    assert!(!after.contains("contact-0042"));
    let reloaded = Keyring::from_json(&after, None, true).unwrap();
    assert!(reloaded.is_forgotten(&ada));
    assert_eq!(
        reloaded.open(&ada_ctx, &a).unwrap_err().code(),
        "ERR_SUBJECT_FORGOTTEN"
    );
    assert_eq!(reloaded.open(&bob_ctx, &b).unwrap(), b"Bob");
}

#[test]
fn protected_file_round_trip_and_failures() {
    let mut k = keyring();
    k.rotate(&mut SystemEntropy, 2).unwrap();
    k.add_subject(&SubjectId::new("s1").unwrap(), &mut SystemEntropy, 3)
        .unwrap();
    let sealed = k.seal(&ctx(), b"v").unwrap();
    let master = Key256::from_bytes([9; 32]);
    let file = k.to_protected_json(&master, &mut SystemEntropy).unwrap();
    let k2 = Keyring::from_json(&file, Some(&master), false).unwrap();
    assert_eq!(k2.open(&ctx(), &sealed).unwrap(), b"v");
    assert_eq!(k2.primary(), KeyId(2));
    assert!(!Keyring::file_is_cleartext(&file));

    let wrong = Key256::from_bytes([8; 32]);
    assert_eq!(
        Keyring::from_json(&file, Some(&wrong), false)
            .unwrap_err()
            .code(),
        "ERR_KEYRING_AUTH"
    );
    assert_eq!(
        Keyring::from_json(&file, None, true).unwrap_err().code(),
        "ERR_KEYRING_MASTER_KEY"
    );
    // Flip one character of the ciphertext.
    let v: serde_json::Value = serde_json::from_str(&file).unwrap();
    let ct = v["ciphertext"].as_str().unwrap();
    let flipped = format!(
        "{}{}",
        if ct.starts_with('A') { 'B' } else { 'A' },
        &ct[1..]
    );
    let tampered = file.replace(ct, &flipped);
    assert_eq!(
        Keyring::from_json(&tampered, Some(&master), false)
            .unwrap_err()
            .code(),
        "ERR_KEYRING_AUTH"
    );

    let clear = k.to_cleartext_json();
    assert!(Keyring::file_is_cleartext(&clear));
    assert!(clear.contains("INSECURE"));
    assert_eq!(
        Keyring::from_json(&clear, Some(&master), false)
            .unwrap_err()
            .code(),
        "ERR_KEYRING_CLEARTEXT"
    );
    assert!(Keyring::from_json(&clear, None, true).is_ok());
}

#[test]
fn malformed_keyring_documents_are_rejected() {
    let k = keyring();
    let good: serde_json::Value = serde_json::from_str(&k.to_cleartext_json()).unwrap();
    type Mutation = Box<dyn Fn(&mut serde_json::Value)>;
    let cases: Vec<(&str, Mutation)> = vec![
        (
            "primary missing",
            Box::new(|v| v["keyring"]["primary"] = 7.into()),
        ),
        (
            "unknown member",
            Box::new(|v| v["keyring"]["extra"] = 1.into()),
        ),
        (
            "bad material",
            Box::new(|v| v["keyring"]["keys"][0]["material"] = "short".into()),
        ),
        (
            "destroyed primary",
            Box::new(|v| v["keyring"]["keys"][0]["status"] = "decrypt-only".into()),
        ),
        (
            "duplicate id",
            Box::new(|v| {
                let k0 = v["keyring"]["keys"][0].clone();
                v["keyring"]["keys"].as_array_mut().unwrap().push(k0);
            }),
        ),
        (
            "format",
            Box::new(|v| v["format"] = "crmguard-keyring/v9".into()),
        ),
        ("protection", Box::new(|v| v["protection"] = "rot13".into())),
    ];
    for (what, mutate) in cases {
        let mut v = good.clone();
        mutate(&mut v);
        let e = Keyring::from_json(&v.to_string(), None, true).unwrap_err();
        assert_eq!(e.code(), "ERR_KEYRING_MALFORMED", "{what}");
        assert!(
            !e.to_string()
                .contains(good["keyring"]["keys"][0]["material"].as_str().unwrap())
        );
    }
    for junk in ["", "null", "[]", "{", "{\"format\":1}"] {
        assert_eq!(
            Keyring::from_json(junk, None, true).unwrap_err().code(),
            "ERR_KEYRING_MALFORMED"
        );
    }
}

#[test]
fn debug_output_holds_no_secrets() {
    let mut k = keyring();
    k.add_subject(&SubjectId::new("contact-7").unwrap(), &mut SystemEntropy, 1)
        .unwrap();
    let dbg = format!("{k:?}");
    let doc: serde_json::Value = serde_json::from_str(&k.to_cleartext_json()).unwrap();
    for secret in [
        doc["keyring"]["keys"][0]["material"].as_str().unwrap(),
        doc["keyring"]["blind_index_root"].as_str().unwrap(),
        doc["keyring"]["subjects"][0]["material"].as_str().unwrap(),
    ] {
        assert!(!dbg.contains(secret));
    }
    assert!(!dbg.contains("contact-7"));
}

#[test]
fn master_key_parsing() {
    let b64 = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
    assert_eq!(parse_master_key(b64).unwrap(), Key256::from_bytes([1; 32]));
    assert_eq!(
        parse_master_key(&format!(" {}\n", b64.trim_end_matches('='))).unwrap(),
        Key256::from_bytes([1; 32])
    );
    for bad in [
        "",
        "AQID",
        "not base64!!",
        "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQ==",
    ] {
        assert_eq!(
            parse_master_key(bad).unwrap_err().code(),
            "ERR_KEYRING_MASTER_KEY",
            "{bad:?}"
        );
    }
}

#[test]
fn json_content_type_is_bound() {
    let k = keyring();
    let s = k
        .seal_with(&ctx(), b"42", ContentType::Json, &mut SystemEntropy)
        .unwrap();
    assert_eq!(s.content_type(), ContentType::Json);
    let mut b = s.as_bytes().to_vec();
    b[2] = 0x00; // relabel as bytes
    assert_eq!(
        k.open(&ctx(), &SealedField::from_bytes(&b).unwrap())
            .unwrap_err()
            .code(),
        "ERR_SEALED_FIELD_AUTH"
    );
}

fn ident() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9_.@-]{1,24}"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn prop_open_seal_round_trips(pt in proptest::collection::vec(any::<u8>(), 0..512),
                                  t in ident(), o in ident(), r in ident(), f in ident()) {
        let k = keyring();
        let c = FieldContext::new(&t, &o, &r, &f).unwrap();
        let s = k.seal(&c, &pt).unwrap();
        prop_assert_eq!(k.open(&c, &s).unwrap(), pt.clone());
        let text = s.to_text();
        prop_assert_eq!(k.open_text(&c, &text).unwrap(), pt);
    }

    #[test]
    fn prop_any_byte_change_fails(pt in proptest::collection::vec(any::<u8>(), 0..128),
                                  pos in any::<prop::sample::Index>(), delta in 1u8..=255) {
        let k = keyring();
        let s = k.seal(&ctx(), &pt).unwrap();
        let mut b = s.as_bytes().to_vec();
        let i = pos.index(b.len());
        b[i] = b[i].wrapping_add(delta);
        let r = SealedField::from_bytes(&b).map_err(Error::from).and_then(|f| k.open(&ctx(), &f));
        prop_assert!(r.is_err());
    }

    #[test]
    fn prop_any_context_change_fails(t in ident(), o in ident(), r in ident(), f in ident(),
                                     which in 0usize..4, other in ident()) {
        let k = keyring();
        let c = FieldContext::new(&t, &o, &r, &f).unwrap();
        let s = k.seal(&c, b"v").unwrap();
        let mut parts = [t, o, r, f];
        prop_assume!(parts[which] != other);
        parts[which] = other;
        let c2 = FieldContext::new(&parts[0], &parts[1], &parts[2], &parts[3]).unwrap();
        prop_assert_eq!(k.open(&c2, &s).unwrap_err().code(), "ERR_SEALED_FIELD_AUTH");
    }
}
