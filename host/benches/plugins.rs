//! Policy decisions through wasmtime: a fresh instance from `InstancePre` plus `decide`, on
//! a realistic 30-field record (10 fields sealed), and the call overhead of each interface.
//!
//! Needs the components: `cargo xtask components`, then
//! `cargo bench -p crmguard-host --bench plugins`.
//! Prints p50/p99 per decision before criterion's own figures.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use crmguard_core::{ContentType, FieldContext, Key256, Keyring, SystemEntropy};
use crmguard_host::{AccessRequest, HostConfig, PluginHost, PluginsDir, StaticKeys, World};
use serde_json::json;

fn component(file: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../target/wasm32-wasip2/release")
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

fn request(roles: &[&str]) -> AccessRequest {
    let k = keyring();
    let mut record = serde_json::Map::new();
    for i in 0..30 {
        let name = format!("field{i:02}");
        let value = if i % 3 == 0 {
            let ctx = FieldContext::new("acme", "contact", "0042", &name).unwrap();
            k.seal_with(
                &ctx,
                format!("secret value {i}").as_bytes(),
                ContentType::Bytes,
                &mut SystemEntropy,
            )
            .unwrap()
            .to_text()
        } else {
            format!("plain value {i} of a CRM contact record")
        };
        record.insert(name, value.into());
    }
    serde_json::from_value(json!({
        "tenant": "acme",
        "principal": { "subject": "user-1", "roles": roles },
        "action": "read",
        "object": "contact",
        "record_id": "0042",
        "record": record,
    }))
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
    let keys = Arc::new(StaticKeys::new(keyring().to_cleartext_json()));
    let crypto = host
        .load_crypto(&dir.manifest("crypto").unwrap(), keys)
        .unwrap();
    let reference = host
        .load_plugin(&dir.manifest("reference").unwrap())
        .unwrap();
    let passthrough = host.load_plugin(&dir.manifest("hostile").unwrap()).unwrap();

    let opening = request(&["admin"]);
    let masking = request(&["support"]);
    assert!(
        host.decide(&reference, &crypto, &opening)
            .verdict
            .is_allow()
    );

    for (name, plugin, req) in [
        (
            "reference, admin: 10 sealed fields opened",
            &reference,
            &opening,
        ),
        ("reference, support: no crypto calls", &reference, &masking),
        (
            "pass-through plugin: instantiate + call only",
            &passthrough,
            &opening,
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
        "decide/30 fields, 10 opened (instantiate plugin + crypto)",
        |b| {
            b.iter(|| black_box(host.decide(&reference, &crypto, &opening)));
        },
    );
    g.bench_function(
        "decide/30 fields, none opened (instantiate plugin only)",
        |b| {
            b.iter(|| black_box(host.decide(&reference, &crypto, &masking)));
        },
    );
    g.bench_function("decide/pass-through plugin", |b| {
        b.iter(|| black_box(host.decide(&passthrough, &crypto, &opening)));
    });
    let ctx = FieldContext::new("acme", "contact", "0042", "field00").unwrap();
    let sealed = opening.record["field00"].as_str().unwrap().to_owned();
    g.bench_function("crypto/instantiate a session", |b| {
        b.iter(|| black_box(crypto.session("acme").unwrap()));
    });
    let mut session = crypto.session("acme").unwrap();
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
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
