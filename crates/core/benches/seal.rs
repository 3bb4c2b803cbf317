//! Sealing and opening next to raw AES-256-GCM (aes-gcm crate, fixed key and nonce) on the
//! same inputs, in the same run. `cargo bench -p crmguard-core --bench seal`.
#![allow(clippy::unwrap_used)] // a benchmark: a failure should stop it loudly

use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use crmguard_core::{ContentType, Entropy, Error, FieldContext, Key256, Keyring};
use std::hint::black_box;

/// Nonces from a counter: the benchmark measures the cipher, not the OS RNG (the RNG is
/// measured separately below).
struct CounterEntropy(u64);

impl Entropy for CounterEntropy {
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), Error> {
        self.0 += 1;
        for (i, b) in buf.iter_mut().enumerate() {
            *b = (self.0 >> ((i % 8) * 8)) as u8;
        }
        Ok(())
    }
}

fn bench(c: &mut Criterion) {
    let keyring = Keyring::from_keys(
        1,
        Key256::from_bytes([7; 32]),
        Key256::from_bytes([8; 32]),
        0,
    )
    .unwrap();
    let ctx = FieldContext::new("acme", "contact", "0042", "email").unwrap();
    let raw = Aes256Gcm::new(&[7u8; 32].into());
    let nonce = Nonce::from([9u8; 12]);
    let mut group = c.benchmark_group("field");
    for size in [16usize, 64, 1024, 64 * 1024] {
        let pt = vec![0x5au8; size];
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(
            BenchmarkId::new("raw-aes256gcm-seal", size),
            &pt,
            |b, pt| {
                b.iter(|| {
                    let mut buf = pt.clone();
                    let tag = raw
                        .encrypt_inout_detached(&nonce, b"", buf.as_mut_slice().into())
                        .unwrap();
                    black_box((buf, tag))
                })
            },
        );
        let mut e = CounterEntropy(0);
        group.bench_with_input(BenchmarkId::new("crmguard-seal", size), &pt, |b, pt| {
            b.iter(|| {
                black_box(
                    keyring
                        .seal_with(&ctx, pt, ContentType::Bytes, &mut e)
                        .unwrap(),
                )
            })
        });
        let sealed = keyring
            .seal_with(&ctx, &pt, ContentType::Bytes, &mut e)
            .unwrap();
        let mut ct = pt.clone();
        let tag = raw
            .encrypt_inout_detached(&nonce, b"", ct.as_mut_slice().into())
            .unwrap();
        group.bench_with_input(
            BenchmarkId::new("raw-aes256gcm-open", size),
            &ct,
            |b, ct| {
                b.iter(|| {
                    let mut buf = ct.clone();
                    raw.decrypt_inout_detached(&nonce, b"", buf.as_mut_slice().into(), &tag)
                        .unwrap();
                    black_box(buf)
                })
            },
        );
        group.bench_with_input(BenchmarkId::new("crmguard-open", size), &sealed, |b, s| {
            b.iter(|| black_box(keyring.open(&ctx, s).unwrap()))
        });
    }
    group.finish();
    let pt = vec![0x5au8; 64];
    c.bench_function("crmguard-seal-64B-system-rng", |b| {
        b.iter(|| black_box(keyring.seal(&ctx, &pt).unwrap()))
    });
    c.bench_function("crmguard-seal-64B-to-text", |b| {
        let mut e = CounterEntropy(0);
        b.iter(|| {
            black_box(
                keyring
                    .seal_with(&ctx, &pt, ContentType::Bytes, &mut e)
                    .unwrap()
                    .to_text(),
            )
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(2)).warm_up_time(std::time::Duration::from_millis(500));
    targets = bench
}
criterion_main!(benches);
