//! One read-path decision in process: the anchor for `crmguard serve`'s `/v1/decide`
//! (host/benches/serve-wrk.sh runs both). The same request as the service bench: an HS256
//! access token verified, the caller and tenant bound, examples/policy.json evaluated for a
//! 30-field contact with four sealed fields (opened and masked for a sales rep), and the
//! decision's audit record built and hashed onto a chain (in memory: no file, no fsync).
//!
//! `cargo bench -p crmguard-core --bench pipeline`
#![allow(clippy::unwrap_used)] // a benchmark: a failure should stop it loudly

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use crmguard_core::request::{KeyringSealer, Pipeline, PolicyDecider, Target};
use crmguard_core::{
    AuditChain, ClaimNames, FieldContext, KeySet, Keyring, Policy, RecordOptions, SystemEntropy,
    TenantIssuers, UnixTime, VerificationOptions,
};
use jwt_simple::prelude::*;
use serde_json::{Map, Value, json};
use std::hint::black_box;

const POLICY: &str = include_str!("../../../examples/policy.json");

#[derive(Serialize, Deserialize)]
struct Crm {
    tenant: String,
    roles: Vec<String>,
}

/// The service bench's record: the policy's eight contact fields (name, e-mail, phone and
/// national id sealed) and 22 custom fields the policy does not list (hidden).
fn record(keyring: &Keyring) -> Map<String, Value> {
    let seal = |field: &str, value: &str| {
        let ctx = FieldContext::new("acme", "contact", "0042", field).unwrap();
        Value::String(keyring.seal(&ctx, value.as_bytes()).unwrap().to_text())
    };
    let mut r = json!({
        "id": "0042", "tenant_id": "acme", "lifecycle_stage": "customer", "owner_id": "user-7",
        "name": seal("name", "Ada Lovelace"),
        "email": seal("email", "ada@example.com"),
        "phone": seal("phone", "+44 20 7946 0958"),
        "national_id": seal("national_id", "078-05-1120"),
    });
    for i in 1..=22 {
        r[format!("custom_{i}")] = json!(format!("value {i}"));
    }
    r.as_object().unwrap().clone()
}

fn bench(c: &mut Criterion) {
    let secret = [0x42u8; 64];
    let keys = KeySet::from_json(&format!(
        r#"{{"keys":[{{"kty":"oct","alg":"HS256","k":"{}"}}]}}"#,
        URL_SAFE_NO_PAD.encode(secret)
    ))
    .unwrap();
    let token = HS256Key::from_bytes(&secret)
        .authenticate(
            Claims::with_custom_claims(
                Crm {
                    tenant: "acme".into(),
                    roles: vec!["sales_rep".into()],
                },
                Duration::from_hours(1),
            )
            .with_issuer("https://idp.test")
            .with_audience("crm-api")
            .with_subject("user-1"),
        )
        .unwrap();
    let options = VerificationOptions {
        allowed_issuers: vec!["https://idp.test".into()],
        allowed_audiences: vec!["crm-api".into()],
        ..VerificationOptions::default()
    };
    let policy = Policy::from_json(POLICY).unwrap();
    let names: ClaimNames = policy.document().claims.clone();
    let issuers = TenantIssuers::any();
    let keyring = Keyring::generate(&mut SystemEntropy, 1_764_400_000).unwrap();
    let record = record(&keyring);
    assert_eq!(record.len(), 30);
    let pipeline = Pipeline {
        keys: &keys,
        options: &options,
        names: &names,
        issuers: &issuers,
    };
    let mut chain = AuditChain::new("bench", RecordOptions::new("bench", None)).unwrap();
    let mut g = c.benchmark_group("pipeline");
    g.throughput(Throughput::Elements(1));
    g.bench_function(
        "decide 30-field contact, 4 sealed opened, audit record",
        |b| {
            b.iter(|| {
                let secs = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_secs();
                let now = UnixTime::from_secs(secs).unwrap();
                let target = Target::parse(None, "read", "contact", "0042", None).unwrap();
                let decided = pipeline
                    .decide(
                        black_box(&token),
                        target,
                        now,
                        record.clone(),
                        &mut PolicyDecider::new(&policy),
                        &mut KeyringSealer::new(&keyring, SystemEntropy),
                    )
                    .unwrap();
                assert!(decided.decision.is_allowed());
                black_box(chain.append_line(&decided.event, now.as_millis()).unwrap());
            });
        },
    );
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
