//! Token verifications per second, per algorithm: `KeySet::verify_jwt` on a typical access
//! token (kid, iss, aud, tenant, roles, scope), every check included (size, base64url, header
//! rules, key selection, signature, claims). `cargo bench -p crmguard-core --bench tokens`.
#![allow(clippy::unwrap_used)] // a benchmark: a failure should stop it loudly

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use crmguard_core::{Algorithm, KeySet, VerificationOptions};
use jwt_simple::prelude::*;
use std::hint::black_box;

#[derive(Serialize, Deserialize)]
struct Crm {
    tenant: String,
    roles: Vec<String>,
    scope: String,
}

fn claims() -> JWTClaims<Crm> {
    Claims::with_custom_claims(
        Crm {
            tenant: "acme".into(),
            roles: vec!["sales_rep".into()],
            scope: "crm.read crm.write".into(),
        },
        Duration::from_hours(1),
    )
    .with_issuer("https://idp.example.com")
    .with_audience("crm-api")
    .with_subject("user-7")
}

/// (algorithm, public JWK or oct JWK, token)
fn cases() -> Vec<(Algorithm, String, String)> {
    let mut out = Vec::new();
    let secret = [0x42u8; 64];
    let oct = |alg: &str| {
        format!(
            r#"{{"kty":"oct","kid":"k","alg":"{alg}","k":"{}"}}"#,
            URL_SAFE_NO_PAD.encode(secret)
        )
    };
    out.push((
        Algorithm::Hs256,
        oct("HS256"),
        HS256Key::from_bytes(&secret)
            .with_key_id("k")
            .authenticate(claims())
            .unwrap(),
    ));
    out.push((
        Algorithm::Hs384,
        oct("HS384"),
        HS384Key::from_bytes(&secret)
            .with_key_id("k")
            .authenticate(claims())
            .unwrap(),
    ));
    out.push((
        Algorithm::Hs512,
        oct("HS512"),
        HS512Key::from_bytes(&secret)
            .with_key_id("k")
            .authenticate(claims())
            .unwrap(),
    ));
    let rsa = RS256KeyPair::generate(2048).unwrap();
    let der = rsa.to_der().unwrap();
    macro_rules! rsa_case {
        ($alg:expr, $kp:ty) => {{
            let kp = <$kp>::from_der(&der).unwrap().with_key_id("k");
            let token = kp.sign(claims()).unwrap();
            ($alg, kp.public_key().with_key_id("k").to_jwk(), token)
        }};
    }
    out.push(rsa_case!(Algorithm::Rs256, RS256KeyPair));
    out.push(rsa_case!(Algorithm::Rs384, RS384KeyPair));
    out.push(rsa_case!(Algorithm::Rs512, RS512KeyPair));
    out.push(rsa_case!(Algorithm::Ps256, PS256KeyPair));
    out.push(rsa_case!(Algorithm::Ps384, PS384KeyPair));
    out.push(rsa_case!(Algorithm::Ps512, PS512KeyPair));
    let es256 = ES256KeyPair::generate().with_key_id("k");
    out.push((
        Algorithm::Es256,
        es256.public_key().with_key_id("k").to_jwk(),
        es256.sign(claims()).unwrap(),
    ));
    let es384 = ES384KeyPair::generate().with_key_id("k");
    out.push((
        Algorithm::Es384,
        es384.public_key().with_key_id("k").to_jwk(),
        es384.sign(claims()).unwrap(),
    ));
    let ed = Ed25519KeyPair::generate().with_key_id("k");
    out.push((
        Algorithm::EdDsa,
        ed.public_key().with_key_id("k").to_jwk(),
        ed.sign(claims()).unwrap(),
    ));
    out
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn bench(c: &mut Criterion) {
    let opts = VerificationOptions {
        allowed_issuers: vec!["https://idp.example.com".into()],
        allowed_audiences: vec!["crm-api".into()],
        ..VerificationOptions::default()
    };
    let mut group = c.benchmark_group("verify_jwt");
    group.throughput(Throughput::Elements(1));
    for (alg, jwk, token) in cases() {
        let keys = KeySet::from_json(&format!(r#"{{"keys":[{jwk}]}}"#)).unwrap();
        let now = now();
        let v = keys.verify_jwt(&token, &opts, now).unwrap();
        assert_eq!(v.algorithm(), alg);
        group.bench_function(alg.name(), |b| {
            b.iter(|| keys.verify_jwt(black_box(&token), &opts, now).unwrap())
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(2));
    targets = bench
}
criterion_main!(benches);
