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
    let reloaded = Keyring::from_json(&after, &KeyringFileOptions::insecure_cleartext()).unwrap();
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
    let k2 = Keyring::from_json(&file, &KeyringFileOptions::protected(&master)).unwrap();
    assert_eq!(k2.open(&ctx(), &sealed).unwrap(), b"v");
    assert_eq!(k2.primary(), KeyId(2));
    assert!(!Keyring::file_is_cleartext(&file));

    let wrong = Key256::from_bytes([8; 32]);
    assert_eq!(
        Keyring::from_json(&file, &KeyringFileOptions::protected(&wrong))
            .unwrap_err()
            .code(),
        "ERR_KEYRING_AUTH"
    );
    assert_eq!(
        Keyring::from_json(&file, &KeyringFileOptions::insecure_cleartext())
            .unwrap_err()
            .code(),
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
        Keyring::from_json(&tampered, &KeyringFileOptions::protected(&master))
            .unwrap_err()
            .code(),
        "ERR_KEYRING_AUTH"
    );

    let clear = k.to_cleartext_json();
    assert!(Keyring::file_is_cleartext(&clear));
    assert!(clear.contains("INSECURE"));
    assert_eq!(
        Keyring::from_json(&clear, &KeyringFileOptions::protected(&master))
            .unwrap_err()
            .code(),
        "ERR_KEYRING_CLEARTEXT"
    );
    assert!(Keyring::from_json(&clear, &KeyringFileOptions::insecure_cleartext()).is_ok());
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
        (
            "keyring id not hex",
            Box::new(|v| v["keyring_id"] = "not-an-id".into()),
        ),
        (
            "v2 without generation",
            Box::new(|v| {
                v.as_object_mut().unwrap().remove("generation");
            }),
        ),
        (
            "v1 outer with a v2 document",
            Box::new(|v| {
                let o = v.as_object_mut().unwrap();
                o.remove("generation");
                o.remove("keyring_id");
                o["format"] = "crmguard-keyring/v1".into();
            }),
        ),
    ];
    for (what, mutate) in cases {
        let mut v = good.clone();
        mutate(&mut v);
        let e = Keyring::from_json(&v.to_string(), &KeyringFileOptions::insecure_cleartext())
            .unwrap_err();
        assert_eq!(e.code(), "ERR_KEYRING_MALFORMED", "{what}");
        assert!(
            !e.to_string()
                .contains(good["keyring"]["keys"][0]["material"].as_str().unwrap())
        );
    }
    for junk in ["", "null", "[]", "{", "{\"format\":1}"] {
        assert_eq!(
            Keyring::from_json(junk, &KeyringFileOptions::insecure_cleartext())
                .unwrap_err()
                .code(),
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

/// Finding 7: the file's AEAD binds the keyring id and generation, and the loader compares
/// them with what the caller expects.
mod file_identity {
    use super::*;

    const MASTER: [u8; 32] = [9; 32];

    fn b64(bytes: &[u8]) -> String {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    fn outer(file: &str) -> serde_json::Value {
        serde_json::from_str(file).unwrap()
    }

    #[test]
    fn round_trip_keeps_id_and_generation_and_meets_its_expectation() {
        let mut k = keyring();
        assert_eq!(k.generation(), 0);
        k.rotate(&mut SystemEntropy, 2).unwrap();
        k.add_subject(&SubjectId::new("s1").unwrap(), &mut SystemEntropy, 3)
            .unwrap();
        // Adding an existing subject changes nothing, so the generation stays.
        k.add_subject(&SubjectId::new("s1").unwrap(), &mut SystemEntropy, 3)
            .unwrap();
        assert_eq!(k.generation(), 2);
        let master = Key256::from_bytes(MASTER);
        let file = k.to_protected_json(&master, &mut SystemEntropy).unwrap();
        let v = outer(&file);
        assert_eq!(v["format"], "crmguard-keyring/v2");
        assert_eq!(v["keyring_id"], k.id().to_hex());
        assert_eq!(v["generation"], 2);
        let opts = KeyringFileOptions::protected(&master).expecting(k.expectation());
        let back = Keyring::from_json(&file, &opts).unwrap();
        assert_eq!((back.id(), back.generation()), (k.id(), 2));
        assert_eq!(back.id().to_hex().parse::<KeyringId>().unwrap(), k.id());
        // A newer file than expected is fine (another process saved since).
        let older_expectation = ExpectedKeyring {
            min_generation: 1,
            ..k.expectation()
        };
        let opts = KeyringFileOptions::protected(&master).expecting(older_expectation);
        assert!(Keyring::from_json(&file, &opts).is_ok());
        // Cleartext round trip keeps them too.
        let clear = k.to_cleartext_json();
        let back = Keyring::from_json(
            &clear,
            &KeyringFileOptions::insecure_cleartext().expecting(k.expectation()),
        )
        .unwrap();
        assert_eq!((back.id(), back.generation()), (k.id(), 2));
    }

    #[test]
    fn every_persisted_mutation_raises_the_generation() {
        let mut k = keyring();
        let s = SubjectId::new("s1").unwrap();
        let mut seen = vec![k.generation()];
        k.add_subject(&s, &mut SystemEntropy, 1).unwrap();
        seen.push(k.generation());
        k.rotate(&mut SystemEntropy, 2).unwrap();
        seen.push(k.generation());
        k.destroy_key(KeyId(1)).unwrap();
        seen.push(k.generation());
        k.forget_subject(&s, 3).unwrap();
        seen.push(k.generation());
        assert_eq!(seen, [0, 1, 2, 3, 4]);
        // Refused or no-op operations leave it alone.
        k.forget_subject(&s, 4).unwrap();
        assert!(k.destroy_key(k.primary()).is_err());
        assert!(k.add_subject(&s, &mut SystemEntropy, 5).is_err());
        assert_eq!(k.generation(), 4);
    }

    #[test]
    fn an_older_generation_is_refused() {
        let master = Key256::from_bytes(MASTER);
        let mut k = keyring();
        let ada = SubjectId::new("ada").unwrap();
        k.add_subject(&ada, &mut SystemEntropy, 1).unwrap();
        let before_erasure = k.to_protected_json(&master, &mut SystemEntropy).unwrap();
        k.forget_subject(&ada, 2).unwrap();
        let current = k.to_protected_json(&master, &mut SystemEntropy).unwrap();
        let opts = KeyringFileOptions::protected(&master).expecting(k.expectation());
        assert!(Keyring::from_json(&current, &opts).is_ok());
        let e = Keyring::from_json(&before_erasure, &opts).unwrap_err();
        assert_eq!(e.code(), "ERR_KEYRING_ROLLBACK");
        assert!(e.to_string().contains("generation 1"), "{e}");
    }

    #[test]
    fn another_keyring_under_the_same_master_key_is_refused() {
        let master = Key256::from_bytes(MASTER);
        let k = keyring();
        let mut other = Keyring::generate(&mut SystemEntropy, 1).unwrap();
        // Even one at a higher generation.
        other.rotate(&mut SystemEntropy, 2).unwrap();
        assert_ne!(other.id(), k.id());
        let file = other
            .to_protected_json(&master, &mut SystemEntropy)
            .unwrap();
        let opts = KeyringFileOptions::protected(&master).expecting(k.expectation());
        let e = Keyring::from_json(&file, &opts).unwrap_err();
        assert_eq!(e.code(), "ERR_KEYRING_IDENTITY");
        // Relabelling the other file with the expected id does not get it through.
        let relabelled = file.replace(&other.id().to_hex(), &k.id().to_hex());
        let e = Keyring::from_json(&relabelled, &opts).unwrap_err();
        assert_eq!(e.code(), "ERR_KEYRING_AUTH");
    }

    #[test]
    fn a_cleartext_file_is_refused_when_a_master_key_is_supplied() {
        let master = Key256::from_bytes(MASTER);
        let clear = keyring().to_cleartext_json();
        for cleartext in [CleartextPolicy::Refuse, CleartextPolicy::Allow] {
            let opts = KeyringFileOptions {
                master: Some(&master),
                cleartext,
                expect: None,
            };
            let e = Keyring::from_json(&clear, &opts).unwrap_err();
            assert_eq!(e.code(), "ERR_KEYRING_CLEARTEXT", "{cleartext:?}");
            assert_eq!(e, Error::Keyring(KeyringError::CleartextWithMasterKey));
        }
        let e = Keyring::from_json(&clear, &KeyringFileOptions::default()).unwrap_err();
        assert_eq!(e, Error::Keyring(KeyringError::Cleartext));
    }

    #[test]
    fn tampered_id_or_generation_in_the_outer_json_fails_authentication() {
        let master = Key256::from_bytes(MASTER);
        let mut k = keyring();
        k.rotate(&mut SystemEntropy, 2).unwrap();
        let file = k.to_protected_json(&master, &mut SystemEntropy).unwrap();
        let good = outer(&file);
        let mut bumped = good.clone();
        bumped["generation"] = 7.into();
        let mut lowered = good.clone();
        lowered["generation"] = 0.into();
        let mut renamed = good.clone();
        let mut id = *k.id().as_bytes();
        id[15] ^= 1;
        renamed["keyring_id"] = KeyringId::from_bytes(id).to_hex().into();
        for (what, v) in [
            ("bumped", bumped),
            ("lowered", lowered),
            ("renamed", renamed),
        ] {
            let e = Keyring::from_json(&v.to_string(), &KeyringFileOptions::protected(&master))
                .unwrap_err();
            assert_eq!(e.code(), "ERR_KEYRING_AUTH", "{what}");
        }
    }

    /// A v1 file as v1 builds wrote it: `aad = lp("crmguard/keyring/v1")`, no id.
    fn v1_file(k: &Keyring, master: &Key256) -> String {
        let mut doc = outer(&k.to_cleartext_json())["keyring"].clone();
        doc["format"] = "crmguard-keyring/v1".into();
        let plain = serde_json::to_vec(&doc).unwrap();
        let nonce = [5u8; NONCE_LEN];
        let mut aad = Vec::new();
        crate::crypto::put_lp(&mut aad, b"crmguard/keyring/v1");
        let ct = Xaes256Gcm::new(master).seal(&nonce, &aad, &plain);
        serde_json::json!({
            "format": "crmguard-keyring/v1",
            "protection": "xaes-256-gcm",
            "nonce": b64(&nonce),
            "ciphertext": b64(&ct),
        })
        .to_string()
    }

    #[test]
    fn v1_files_load_without_an_expectation_only_and_are_rewritten_as_v2() {
        let master = Key256::from_bytes(MASTER);
        let k = keyring();
        let sealed = k.seal(&ctx(), b"v").unwrap();
        let old = v1_file(&k, &master);
        let migrated = Keyring::from_json(&old, &KeyringFileOptions::protected(&master)).unwrap();
        assert_eq!(migrated.open(&ctx(), &sealed).unwrap(), b"v");
        assert_eq!(migrated.generation(), 0);
        assert_eq!(migrated.id(), KeyringId::derived(&k.index_root));
        let e = Keyring::from_json(
            &old,
            &KeyringFileOptions::protected(&master).expecting(migrated.expectation()),
        )
        .unwrap_err();
        assert_eq!(e.code(), "ERR_KEYRING_IDENTITY");
        let rewritten = migrated
            .to_protected_json(&master, &mut SystemEntropy)
            .unwrap();
        assert_eq!(outer(&rewritten)["format"], "crmguard-keyring/v2");
        let opts = KeyringFileOptions::protected(&master).expecting(migrated.expectation());
        assert!(Keyring::from_json(&rewritten, &opts).is_ok());
    }
}
