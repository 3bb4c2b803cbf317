//! Audit chain throughput: in-memory append (record built, canonicalised, hashed, Merkle
//! frontier updated, line rendered) and verification of a log's lines.
//!
//! `cargo bench -p crmguard-core --bench audit`
//!
//! A plain harness that reports records per second of wall time and per second of this
//! thread's CPU time (from /proc/thread-self/schedstat on Linux), so that figures taken on a
//! shared, busy machine still say what one core does.
#![allow(clippy::print_stdout)] // a benchmark binary

use crmguard_core::{
    Activity, Anchor, AuditChain, AuditEvent, AuditFieldAction, AuditSigningKey, ChainVerifier,
    Decision, EventActor, EventClass, EventEndpoint, EventField, EventResource, Outcome,
    RecordOptions,
};
use std::hint::black_box;
use std::time::Instant;

fn event() -> AuditEvent {
    AuditEvent {
        class: EventClass::ApiActivity,
        activity: Activity::Read,
        actor: EventActor {
            uid: "user-1001".into(),
            tenant: "acme".into(),
            roles: vec!["sales".into(), "emea".into()],
        },
        source: Some(EventEndpoint {
            ip: Some(std::net::IpAddr::from([203, 0, 113, 7])),
            port: Some(443),
        }),
        operation: Some("contacts.get".into()),
        request_id: Some("req-0123456789".into()),
        resources: vec![EventResource {
            kind: "contact".into(),
            uid: "c-42".into(),
            fields: vec![
                EventField {
                    name: "email".into(),
                    action: AuditFieldAction::Encrypt,
                },
                EventField {
                    name: "phone".into(),
                    action: AuditFieldAction::Mask,
                },
                EventField {
                    name: "ssn".into(),
                    action: AuditFieldAction::Deny,
                },
            ],
        }],
        outcome: Outcome {
            decision: Decision::Allow,
            reason: None,
        },
    }
}

/// This thread's CPU time in nanoseconds, if the platform says.
fn cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

fn report(name: &str, n: u64, f: impl FnOnce()) {
    let (c0, t0) = (cpu_ns(), Instant::now());
    f();
    let wall = t0.elapsed().as_secs_f64();
    let cpu = cpu_ns().zip(c0).map(|(b, a)| (b - a) as f64 / 1e9);
    let per_cpu = cpu.map_or("n/a".to_owned(), |c| format!("{:.0}", n as f64 / c));
    println!(
        "{name:<28} {n:>8} records: wall {wall:>6.3} s = {:>9.0} rec/s; cpu {:>6.3} s = {per_cpu:>9} rec/s/core",
        n as f64 / wall,
        cpu.unwrap_or(f64::NAN),
    );
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    const N: u64 = 200_000;
    let key = AuditSigningKey::from_seed(&[1; 32], [2; 32]);
    let opts = RecordOptions::new("0.1.0", Some(key.pseudonym_key().clone()));
    let ev = event();
    for round in 0..3 {
        let mut chain = AuditChain::new("bench", opts.clone()).expect("valid log id");
        let mut lines = Vec::with_capacity(N as usize + 1);
        report(&format!("append in memory (run {round})"), N, || {
            for i in 0..N {
                let (_, line) = chain
                    .append_line(&ev, 1_700_000_000_000 + i)
                    .expect("valid event");
                lines.push(line);
            }
        });
        lines.push(chain.checkpoint(&key, 1).expect("non-empty").to_line());
        report(&format!("verify (run {round})"), N, || {
            let mut v = ChainVerifier::new(vec![key.verifying_key()]);
            for l in &lines {
                v.push_line(l).expect("valid log");
            }
            black_box(v.finish(&Anchor::default()).expect("valid log").size);
        });
    }
}
