use super::*;
use crate::{Key256, SubjectId};

/// Entropy that repeats one byte: deterministic seeds for tests.
struct Fixed(u8);

impl Entropy for Fixed {
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), Error> {
        buf.fill(self.0);
        Ok(())
    }
}

struct Failing;

impl Entropy for Failing {
    fn fill(&mut self, _buf: &mut [u8]) -> Result<(), Error> {
        Err(Error::Entropy)
    }
}

fn ctx(record: &str, field: &str) -> FieldContext {
    FieldContext::new("acme", "contact", record, field).expect("valid test identifiers")
}

fn pair() -> TenantSecretKey {
    TenantSecretKey::generate(&mut Fixed(7)).expect("fixed entropy never fails")
}

#[test]
fn round_trip_and_layout() {
    let sk = pair();
    let sealed = seal_to_tenant(
        sk.public_key(),
        &ctx("0042", "email"),
        b"ada@example.com",
        ContentType::Bytes,
        &mut Fixed(9),
    )
    .expect("seal");
    assert_eq!(sealed.as_bytes().len(), 15 + TENANT_SEALED_OVERHEAD);
    assert_eq!(&sealed.as_bytes()[..3], &[1, 1, 0]);
    let text = sealed.to_text();
    assert!(text.starts_with("cgh1:"));
    let parsed = TenantSealed::from_text(&text).expect("own text parses");
    assert_eq!(
        open_from_tenant(&sk, &ctx("0042", "email"), &parsed).expect("opens"),
        b"ada@example.com"
    );
}

#[test]
fn same_seed_same_bytes_different_seed_different_bytes() {
    let sk = pair();
    let seal = |b| {
        seal_to_tenant(
            sk.public_key(),
            &ctx("1", "f"),
            b"x",
            ContentType::Bytes,
            &mut Fixed(b),
        )
        .expect("seal")
    };
    assert_eq!(seal(1), seal(1));
    assert_ne!(seal(1), seal(2));
}

#[test]
fn wrong_context_key_or_any_modified_byte_is_auth() {
    let sk = pair();
    let c = ctx("0042", "email");
    let sealed = seal_to_tenant(
        sk.public_key(),
        &c,
        b"secret",
        ContentType::Bytes,
        &mut Fixed(3),
    )
    .expect("seal");
    let code = |r: Result<Vec<u8>, Error>| r.expect_err("must not open").code();
    assert_eq!(
        code(open_from_tenant(&sk, &ctx("0043", "email"), &sealed)),
        "ERR_TENANT_SEALED_AUTH"
    );
    assert_eq!(
        code(open_from_tenant(&sk, &ctx("0042", "phone"), &sealed)),
        "ERR_TENANT_SEALED_AUTH"
    );
    let other = TenantSecretKey::generate(&mut Fixed(8)).expect("fixed entropy");
    assert_eq!(
        code(open_from_tenant(&other, &c, &sealed)),
        "ERR_TENANT_SEALED_AUTH"
    );
    // Every byte after the version/suite bytes: content type (edits to 0x00/0x01 only),
    // encapsulated key, ciphertext, tag.
    for i in 2..sealed.as_bytes().len() {
        let mut b = sealed.as_bytes().to_vec();
        b[i] ^= if i == 2 { 0x01 } else { 0x40 };
        let t = TenantSealed::from_bytes(&b).expect("structure still valid");
        assert_eq!(
            code(open_from_tenant(&sk, &c, &t)),
            "ERR_TENANT_SEALED_AUTH",
            "byte {i}"
        );
    }
}

#[test]
fn parse_errors_have_codes() {
    let code = |r: Result<TenantSealed, Error>| r.expect_err("must not parse").code();
    assert_eq!(
        code(TenantSealed::from_text("cg1:AAAA")),
        "ERR_TENANT_SEALED_MALFORMED"
    );
    assert_eq!(
        code(TenantSealed::from_text("cgh1:AAA=")),
        "ERR_TENANT_SEALED_MALFORMED"
    );
    assert_eq!(
        code(TenantSealed::from_bytes(&[1; 50])),
        "ERR_TENANT_SEALED_MALFORMED"
    );
    let mut b = vec![1u8, 1, 0];
    b.extend_from_slice(&[0; 48]);
    assert!(TenantSealed::from_bytes(&b).is_ok());
    for (i, v) in [(0, 2u8), (1, 2), (2, 2)] {
        let mut c = b.clone();
        c[i] = v;
        assert_eq!(
            code(TenantSealed::from_bytes(&c)),
            "ERR_TENANT_SEALED_UNSUPPORTED"
        );
    }
}

#[test]
fn keys_round_trip_and_bad_keys_are_refused() {
    let sk = pair();
    let again = TenantSecretKey::from_bytes(sk.to_bytes().as_ref()).expect("own bytes");
    assert_eq!(again.public_key(), sk.public_key());
    let pk = TenantPublicKey::from_bytes(&sk.public_key().to_bytes()).expect("own bytes");
    assert_eq!(&pk, sk.public_key());
    for n in [0, 31, 33] {
        assert_eq!(
            TenantSecretKey::from_bytes(&vec![1; n])
                .expect_err("len")
                .code(),
            "ERR_TENANT_KEY_INVALID"
        );
        assert_eq!(
            TenantPublicKey::from_bytes(&vec![1; n])
                .expect_err("len")
                .code(),
            "ERR_TENANT_KEY_INVALID"
        );
    }
    // The all-zero point is of low order: the shared secret would be zero, so sealing fails.
    let zero = TenantPublicKey::from_bytes(&[0; 32]).expect("32 bytes parse");
    let e = seal_to_tenant(
        &zero,
        &ctx("1", "f"),
        b"x",
        ContentType::Bytes,
        &mut Fixed(1),
    )
    .expect_err("low-order key");
    assert_eq!(e.code(), "ERR_TENANT_KEY_INVALID");
    let e = seal_to_tenant(
        sk.public_key(),
        &ctx("1", "f"),
        b"x",
        ContentType::Bytes,
        &mut Failing,
    )
    .expect_err("no entropy");
    assert_eq!(e.code(), "ERR_ENTROPY");
    assert!(!format!("{sk:?}").contains(&URL_SAFE_NO_PAD.encode(sk.to_bytes().as_ref())));
}

#[test]
fn reseal_under_keyring_keeps_context_and_content_type() {
    let sk = pair();
    let c = ctx("0042", "address");
    let sealed = seal_to_tenant(
        sk.public_key(),
        &c,
        br#"{"city":"Bonn"}"#,
        ContentType::Json,
        &mut Fixed(5),
    )
    .expect("seal");
    let mut keyring = Keyring::from_keys(
        3,
        Key256::from_bytes([4; 32]),
        Key256::from_bytes([5; 32]),
        0,
    )
    .expect("keyring");
    let stored = keyring
        .seal_from_tenant(&sk, &c, &sealed, &mut Fixed(6))
        .expect("reseal");
    assert_eq!(stored.content_type(), ContentType::Json);
    assert_eq!(
        keyring.open(&c, &stored).expect("opens"),
        br#"{"city":"Bonn"}"#
    );
    // With a subject in the context, the subject's key seals the stored value.
    let subject = SubjectId::new("contact-0042").expect("valid");
    keyring
        .add_subject(&subject, &mut Fixed(11), 0)
        .expect("subject");
    let sc = c.clone().with_subject(subject);
    let stored = keyring
        .seal_from_tenant(&sk, &sc, &sealed, &mut Fixed(6))
        .expect("reseal");
    assert_eq!(stored.key_ref(), crate::KeyRef::Subject(1));
    assert_eq!(
        keyring.open(&sc, &stored).expect("opens"),
        br#"{"city":"Bonn"}"#
    );
}
