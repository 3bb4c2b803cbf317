//! 10 000 mixed calls, well-behaved and hostile, through one host: every answer is the
//! expected one and resident memory stays bounded.

use crate::support::{fixture, request};

/// Resident set size of this process, from /proc (Linux).
fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

#[test]
fn ten_thousand_mixed_calls_keep_memory_flat() {
    let f = fixture();
    let good = request(&["admin"], "read");
    // One request of each hostile kind; `loop` is rarer only because each costs a deadline.
    let hostile: Vec<(crmguard_runtime::AccessRequest, &str)> = [
        ("bomb", "ERR_PLUGIN_MEMORY"),
        ("recurse", "ERR_PLUGIN_TRAP"),
        ("huge", "ERR_PLUGIN_OUTPUT"),
        ("trap", "ERR_PLUGIN_TRAP"),
        ("panic", "ERR_PLUGIN_TRAP"),
        ("garbage", "ERR_PLUGIN_OUTPUT"),
    ]
    .into_iter()
    .map(|(a, c)| (request(&["admin"], a), c))
    .collect();
    let looping = request(&["admin"], "loop");

    let run = |i: usize| {
        if i % 200 == 199 {
            let out = f.host.decide(&f.hostile, &f.services, &looping);
            assert_eq!(out.verdict.code(), Some("ERR_PLUGIN_TIMEOUT"), "call {i}");
        } else if i % 4 == 3 {
            let (req, code) = &hostile[(i / 4) % hostile.len()];
            let out = f.host.decide(&f.hostile, &f.services, req);
            assert_eq!(
                out.verdict.code(),
                Some(*code),
                "call {i}: {:?}",
                out.verdict
            );
        } else {
            let out = f.host.decide(&f.reference, &f.services, &good);
            assert!(out.verdict.is_allow(), "call {i}: {:?}", out.verdict);
            assert_eq!(out.record["national_id"], "078-05-1120");
        }
    };
    // Warm up: pool slots, caches and allocator arenas reach their steady state.
    for i in 0..500 {
        run(i);
    }
    let before = rss_bytes();
    for i in 0..10_000 {
        run(i);
    }
    let after = rss_bytes();
    let growth = after.saturating_sub(before);
    println!(
        "RSS before {} MiB, after {} MiB, growth {} KiB over 10 000 calls",
        before >> 20,
        after >> 20,
        growth >> 10
    );
    // A leak of even 4 KiB per call would be 40 MiB.
    assert!(growth < 32 << 20, "RSS grew {growth} bytes");
}
