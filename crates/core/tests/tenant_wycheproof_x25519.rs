//! Wycheproof X25519 (tests/vectors/wycheproof/x25519_test.json, 518 cases) through the
//! tenant-sealing API. The `hpke` crate does not expose its Diffie-Hellman function, so each
//! case runs as a decapsulation: the case's private key is the tenant key, its public key is
//! the encapsulated key, and the value is sealed here with an independent RFC 9180 key
//! schedule (HKDF-SHA256, AES-256-GCM from the crate's own dependencies) from the case's
//! expected shared secret. A case opens exactly when crmguard-core's X25519 agrees with
//! Wycheproof; the 31 cases whose shared secret is zero (low-order public keys) must be
//! refused (RFC 9180 §7.1.4) with the opaque ERR_TENANT_SEALED_AUTH.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use aes_gcm::aead::{Aead, KeyInit, Payload};
use crmguard_core::{FieldContext, TenantSealed, TenantSecretKey, open_from_tenant};
use hmac::Mac;

const FILE: &str = include_str!("../../../tests/vectors/wycheproof/x25519_test.json");

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn hmac(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut m = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(key).unwrap();
    for p in parts {
        m.update(p);
    }
    m.finalize().into_bytes().to_vec()
}

fn extract(suite: &[u8], salt: &[u8], label: &str, ikm: &[u8]) -> Vec<u8> {
    hmac(salt, &[b"HPKE-v1", suite, label.as_bytes(), ikm])
}

fn expand(suite: &[u8], prk: &[u8], label: &str, info: &[u8], len: u16) -> Vec<u8> {
    let l = len.to_be_bytes();
    hmac(prk, &[&l, b"HPKE-v1", suite, label.as_bytes(), info, &[1]])[..usize::from(len)].to_vec()
}

fn lp(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&u32::try_from(b.len()).unwrap().to_be_bytes());
    out.extend_from_slice(b);
}

#[test]
fn wycheproof_x25519_through_tenant_sealing() {
    let doc: serde_json::Value = serde_json::from_str(FILE).unwrap();
    let kem: &[u8] = b"KEM\x00\x20";
    let hpke: &[u8] = b"HPKE\x00\x20\x00\x01\x00\x02";
    let ctx = FieldContext::new("acme", "contact", "0042", "email").unwrap();
    let header = [1u8, 1, 0];
    let mut info = Vec::new();
    lp(&mut info, b"crmguard/tenant-sealed/v1");
    info.extend_from_slice(&header);
    for s in ["acme", "contact", "0042", "email"] {
        lp(&mut info, s.as_bytes());
    }
    let (mut opened, mut refused) = (0, 0);
    for group in doc["testGroups"].as_array().unwrap() {
        for t in group["tests"].as_array().unwrap() {
            let id = &t["tcId"];
            let sk = TenantSecretKey::from_bytes(&unhex(t["private"].as_str().unwrap())).unwrap();
            let enc = unhex(t["public"].as_str().unwrap());
            let shared = unhex(t["shared"].as_str().unwrap());
            let pk_r = sk.public_key().to_bytes();
            // With a zero shared secret there is nothing to seal with; any ciphertext will do.
            let eae = extract(kem, b"", "eae_prk", &shared);
            let kem_context = [enc.as_slice(), pk_r.as_slice()].concat();
            let ss = expand(kem, &eae, "shared_secret", &kem_context, 32);
            let ksc = [
                &[0u8][..],
                &extract(hpke, b"", "psk_id_hash", b""),
                &extract(hpke, b"", "info_hash", &info),
            ]
            .concat();
            let secret = extract(hpke, &ss, "secret", b"");
            let key = expand(hpke, &secret, "key", &ksc, 32);
            let nonce = expand(hpke, &secret, "base_nonce", &ksc, 12);
            let ct = aes_gcm::Aes256Gcm::new_from_slice(&key)
                .unwrap()
                .encrypt(
                    nonce.as_slice().try_into().unwrap(),
                    Payload {
                        msg: b"wycheproof",
                        aad: b"",
                    },
                )
                .unwrap();
            let sealed = TenantSealed::from_bytes(&[&header[..], &enc, &ct].concat()).unwrap();
            let result = open_from_tenant(&sk, &ctx, &sealed);
            if shared.iter().all(|b| *b == 0) {
                assert_eq!(
                    result.unwrap_err().code(),
                    "ERR_TENANT_SEALED_AUTH",
                    "tcId {id}"
                );
                refused += 1;
            } else {
                assert_eq!(result.unwrap(), b"wycheproof", "tcId {id}");
                opened += 1;
            }
        }
    }
    assert_eq!(opened + refused, 518);
    assert_eq!(refused, 31);
}
