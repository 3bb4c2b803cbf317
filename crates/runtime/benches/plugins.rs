//! Policy decisions through wasmtime: a fresh instance from `InstancePre` plus `decide`, on
//! a realistic 30-field record (10 fields sealed), and the call overhead of each interface.
//!
//! Needs the components: `cargo xtask components`, then
//! `cargo bench -p crmguard-runtime --bench plugins`.
//! Prints p50/p99 per decision before criterion's own figures.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use crmguard_core::{ContentType, FieldContext, Key256, Keyring, SystemEntropy};
use crmguard_runtime::{
    AccessRequest, HostConfig, PluginHost, PluginsDir, Services, TenantKeyrings, World,
};
use serde_json::json;

fn component(file: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/wasm32-wasip2/component")
        .join(file);
    assert!(
        path.is_file(),
        "{} is missing: run `cargo xtask components`",
        path.display()
    );
    path
}

fn keyring() -> Keyring {
    Keyring::from_keys(
        1,
        Key256::from_bytes([7; 32]),
        Key256::from_bytes([9; 32]),
        0,
    )
    .unwrap()
}

/// With `sealed_fields`, the four personal fields and a third of the custom ones are stored sealed;
/// without, no field is.
fn request(roles: &[&str], sealed_fields: bool) -> AccessRequest {
    let k = keyring();
    let mut record = serde_json::Map::new();
    // A 30-field contact: the eight fields examples/policy.json knows (the personal ones,
    // name, email, phone and national id, stored sealed) and 22 custom fields it does not
    // list, which the policy drops; a third of those are sealed too.
    let personal = ["name", "email", "phone", "national_id"];
    let known = ["id", "tenant_id", "lifecycle_stage", "owner_id"];
    let sealed = |name: &str, value: &str| {
        let ctx = FieldContext::new("acme", "contact", "0042", name).unwrap();
        k.seal_with(
            &ctx,
            value.as_bytes(),
            ContentType::Bytes,
            &mut SystemEntropy,
        )
        .unwrap()
        .to_text()
    };
    for name in personal {
        let value = format!("personal {name}");
        let value = if sealed_fields {
            sealed(name, &value)
        } else {
            value
        };
        record.insert(name.into(), value.into());
    }
    for name in known {
        let value = if name == "tenant_id" {
            "acme"
        } else {
            "a plain value"
        };
        record.insert(name.into(), value.into());
    }
    for i in 0..22 {
        let name = format!("custom_{i:02}");
        let value = if sealed_fields && i % 3 == 0 {
            sealed(&name, &format!("custom value {i}"))
        } else {
            format!("plain custom value {i} of a CRM contact record")
        };
        record.insert(name, value.into());
    }
    assert_eq!(record.len(), 30);
    AccessRequest::bind(
        crmguard_conformance::idp::principal(
            json!({ "sub": "user-1", "tenant": "acme", "roles": roles }),
        ),
        crmguard_core::request::Target::parse(None, "read", "contact", "0042", None).unwrap(),
        crmguard_core::UnixTime::from_secs(crmguard_conformance::idp::NOW).unwrap(),
        record,
        "bench",
    )
    .unwrap()
}

fn percentiles(mut f: impl FnMut()) -> (Duration, Duration) {
    let mut t: Vec<Duration> = (0..2000)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed()
        })
        .collect();
    t.sort();
    (t[t.len() / 2], t[t.len() * 99 / 100])
}

fn bench(c: &mut Criterion) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = PluginsDir::new(tmp.path().join("plugins"));
    dir.add(
        "crypto",
        "0.1.0",
        World::Crypto,
        &component("crmguard_component_crypto.wasm"),
        vec![],
    )
    .unwrap();
    dir.add(
        "reference",
        "0.1.0",
        World::PolicyPlugin,
        &component("crmguard_plugin_reference.wasm"),
        vec![],
    )
    .unwrap();
    dir.add(
        "hostile",
        "0.1.0",
        World::PolicyPlugin,
        &component("test_plugin_hostile.wasm"),
        vec![],
    )
    .unwrap();
    let host = PluginHost::new(HostConfig::default()).unwrap();
    let acme = crmguard_core::TenantId::new("acme").unwrap();
    let keys = Arc::new(TenantKeyrings::new().with(acme.clone(), keyring().to_cleartext_json()));
    let crypto = Services::new(
        host.load_crypto(&dir.manifest("crypto").unwrap(), keys)
            .unwrap(),
    );
    let reference = host
        .load_plugin(&dir.manifest("reference").unwrap())
        .unwrap();
    let passthrough = host.load_plugin(&dir.manifest("hostile").unwrap()).unwrap();
    // The same plugin as shipped: its initialiser not run at load, so every request's
    // instance parses and validates the policy itself.
    let shipped_host = PluginHost::new(HostConfig {
        preinitialize: false,
        ..HostConfig::default()
    })
    .unwrap();
    let shipped = shipped_host
        .load_plugin(&dir.manifest("reference").unwrap())
        .unwrap();
    // The anchor: core's policy engine natively on the same request and record.
    let policy =
        crmguard_core::Policy::from_json(include_str!("../../../examples/policy.json")).unwrap();
    let native_keyring = keyring();
    let native = |req: &AccessRequest| {
        crmguard_core::request::decide_bound(
            req,
            &mut crmguard_core::request::PolicyDecider::new(&policy),
            &mut crmguard_core::request::KeyringSealer::new(&native_keyring, SystemEntropy),
        )
    };

    let opening = request(&["admin"], true);
    let plain = request(&["admin"], false);
    assert!(
        host.decide(&reference, &crypto, &opening)
            .verdict
            .is_allow()
    );
    // The image and the shipped plugin decide alike, and as core does natively.
    for req in [&opening, &plain] {
        let image = host.decide(&reference, &crypto, req).decision;
        assert_eq!(image, shipped_host.decide(&shipped, &crypto, req).decision);
        assert_eq!(image, native(req));
    }

    for (name, req) in [
        ("native core, admin: 4 sealed fields opened", &opening),
        ("native core, admin: nothing sealed", &plain),
    ] {
        let (p50, p99) = percentiles(|| {
            black_box(native(req));
        });
        println!(
            "{name}: p50 {p50:?}, p99 {p99:?}, {:.0} decisions/s/core at p50",
            1.0 / p50.as_secs_f64()
        );
    }
    for (name, req) in [
        (
            "reference as shipped (no pre-init), admin: 4 sealed fields opened",
            &opening,
        ),
        (
            "reference as shipped (no pre-init), admin: nothing sealed",
            &plain,
        ),
    ] {
        let (p50, p99) = percentiles(|| {
            black_box(shipped_host.decide(&shipped, &crypto, req));
        });
        println!(
            "{name}: p50 {p50:?}, p99 {p99:?}, {:.0} decisions/s/core at p50",
            1.0 / p50.as_secs_f64()
        );
    }

    // As `crmguard serve` and `crmguard run` decide: the plugin through core's pipeline, the
    // values rendered by the host's native core with the tenant's keyring.
    for (name, req) in [
        (
            "reference pre-initialised, rendered natively as serve does: 4 sealed fields opened",
            &opening,
        ),
        (
            "reference pre-initialised, rendered natively as serve does: nothing sealed",
            &plain,
        ),
    ] {
        let (p50, p99) = percentiles(|| {
            let mut decider = crmguard_runtime::PluginDecider::new(&host, &reference, &crypto);
            black_box(crmguard_core::request::decide_bound(
                req,
                &mut decider,
                &mut crmguard_core::request::KeyringSealer::new(&native_keyring, SystemEntropy),
            ));
        });
        println!(
            "{name}: p50 {p50:?}, p99 {p99:?}, {:.0} decisions/s/core at p50",
            1.0 / p50.as_secs_f64()
        );
    }

    for (name, plugin, req) in [
        (
            "reference pre-initialised, admin: 4 sealed fields opened",
            &reference,
            &opening,
        ),
        (
            "reference pre-initialised, admin: nothing sealed, no crypto",
            &reference,
            &plain,
        ),
        (
            "pass-through plugin: instantiate + call only (nothing sealed)",
            &passthrough,
            &plain,
        ),
    ] {
        let (p50, p99) = percentiles(|| {
            black_box(host.decide(plugin, &crypto, req));
        });
        println!(
            "{name}: p50 {p50:?}, p99 {p99:?}, {:.0} decisions/s/core at p50",
            1.0 / p50.as_secs_f64()
        );
    }

    let mut g = c.benchmark_group("plugins");
    g.throughput(Throughput::Elements(1));
    g.bench_function(
        "decide/30 fields, 4 opened (instantiate plugin + crypto)",
        |b| {
            b.iter(|| black_box(host.decide(&reference, &crypto, &opening)));
        },
    );
    g.bench_function(
        "decide/30 fields, none opened (instantiate plugin only)",
        |b| {
            b.iter(|| black_box(host.decide(&reference, &crypto, &plain)));
        },
    );
    g.bench_function("decide/pass-through plugin (nothing sealed)", |b| {
        b.iter(|| black_box(host.decide(&passthrough, &crypto, &plain)));
    });
    let ctx = FieldContext::new("acme", "contact", "0042", "email").unwrap();
    let sealed = opening.record()["email"].as_str().unwrap().to_owned();
    let crypto_component = &crypto.crypto;
    g.bench_function("crypto/instantiate a session", |b| {
        b.iter(|| black_box(crypto_component.session(&acme).unwrap()));
    });
    let mut session = crypto_component.session(&acme).unwrap();
    g.bench_function("crypto/fields.open call (warm session)", |b| {
        b.iter(|| black_box(session.open(&ctx, &sealed).unwrap()));
    });
    g.bench_function("crypto/fields.seal call (warm session)", |b| {
        b.iter(|| black_box(session.seal(&ctx, b"ada@example.com").unwrap()));
    });
    g.bench_function("native/core open (for comparison)", |b| {
        let k = keyring();
        b.iter(|| black_box(k.open_text(&ctx, &sealed).unwrap()));
    });

    // The tokens and audit interfaces: a call through a warm component session against the
    // same work done natively by crmguard-core.
    for (name, world, file) in [
        (
            "tokens",
            World::TokenVerifier,
            "crmguard_component_tokens.wasm",
        ),
        (
            "audit",
            World::AuditBuilder,
            "crmguard_component_audit.wasm",
        ),
    ] {
        dir.add(name, "0.1.0", world, &component(file), vec![])
            .unwrap();
    }
    let tokens = host.load_tokens(&dir.manifest("tokens").unwrap()).unwrap();
    let audit = host.load_audit(&dir.manifest("audit").unwrap()).unwrap();
    let repo = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let jwks = std::fs::read_to_string(format!("{repo}/examples/jwks.json")).unwrap();
    let token = std::fs::read_to_string(format!("{repo}/examples/token.jwt")).unwrap();
    let token = token.trim_end();
    let options = crmguard_core::VerificationOptions::waive_issuer_and_audience();
    let now = 1_764_400_100;
    g.bench_function("tokens/instantiate a session", |b| {
        b.iter(|| black_box(tokens.session().unwrap()));
    });
    let mut ts = tokens.session().unwrap();
    let at = crmguard_core::UnixTime::from_secs(now).unwrap();
    let keys = ts.key_set(&jwks).unwrap();
    g.bench_function(
        "tokens/verify ES256 (warm session, key set parsed once)",
        |b| {
            b.iter(|| black_box(ts.verify(&keys, token, &options, at).unwrap()));
        },
    );
    g.bench_function("tokens/parse the JWKS + verify ES256 (warm session)", |b| {
        b.iter(|| {
            let k = ts.key_set(&jwks).unwrap();
            let claims = ts.verify(&k, token, &options, at).unwrap();
            ts.drop_key_set(k).unwrap();
            black_box(claims)
        });
    });
    g.bench_function("native/core KeySet::from_json + verify_jwt ES256", |b| {
        b.iter(|| {
            let keys = crmguard_core::KeySet::from_json(&jwks).unwrap();
            black_box(keys.verify_jwt(token, &options, now).unwrap())
        });
    });
    let event = serde_json::json!({
        "class": "api_activity",
        "activity": "read",
        "actor": { "uid": "user-1", "tenant": "acme", "roles": ["admin"] },
        "operation": "contact.read",
        "resources": [{ "type": "contact", "uid": "0042", "fields": [{ "name": "email", "action": "pass" }] }],
        "outcome": { "decision": "allow" }
    })
    .to_string();
    let mut session = audit.session().unwrap();
    let log = session.open_log("log-bench", "").unwrap();
    let mut time = 1_764_400_000_000u64;
    g.bench_function(
        "audit/append one record to a growing log (warm log session)",
        |b| {
            b.iter(|| {
                time += 1;
                let at = crmguard_core::UnixTime::from_millis(time).unwrap();
                black_box(session.append(&log, &event, at).unwrap())
            });
        },
    );
    g.bench_function("native/core AuditChain::new + append", |b| {
        let e: crmguard_core::AuditEvent = serde_json::from_str(&event).unwrap();
        b.iter(|| {
            let mut chain = crmguard_core::AuditChain::new(
                "log-bench",
                crmguard_core::RecordOptions::new("0.1.0", None),
            )
            .unwrap();
            black_box(chain.append(&e, 1).unwrap().to_line())
        });
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
