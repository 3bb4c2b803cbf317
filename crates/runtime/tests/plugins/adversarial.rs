//! Hostile plugins: each is contained with the right deny code and the host keeps serving.

use std::time::Duration;

use crate::support::{Fixture, build, fixture, request};

/// The host still answers a well-behaved request correctly.
fn assert_alive(f: &Fixture) {
    let out = f
        .host
        .decide(&f.reference, &f.services, &request(&["admin"], "read"));
    assert!(out.verdict.is_allow(), "{out:?}");
    assert_eq!(out.record["email"], "ada@example.com");
}

fn denied_with(f: &Fixture, action: &str, code: &str) -> String {
    let out = f
        .host
        .decide(&f.hostile, &f.services, &request(&["admin"], action));
    assert_eq!(out.verdict.code(), Some(code), "{action}: {out:?}");
    assert!(out.record.is_empty(), "a deny shows nothing: {out:?}");
    assert_alive(f);
    match out.decision.verdict {
        crmguard_runtime::Verdict::Deny { reason, .. } => reason,
        crmguard_runtime::Verdict::Allow { .. } => unreachable!("checked above"),
    }
}

#[test]
fn an_infinite_loop_overruns_the_default_10ms_deadline() {
    // Its own host at the default deadline; the shared one is more patient.
    let f = build(crmguard_runtime::HostConfig::default().deadline);
    assert_eq!(f.host_deadline(), Duration::from_millis(10));
    let reason = denied_with(&f, "loop", "ERR_PLUGIN_TIMEOUT");
    assert!(reason.contains("10 ms"), "{reason}");
}

#[test]
fn a_memory_bomb_hits_the_16mib_bound() {
    let reason = denied_with(fixture(), "bomb", "ERR_PLUGIN_MEMORY");
    assert!(reason.contains("16 MiB"), "{reason}");
}

#[test]
fn deep_recursion_overflows_a_stack_and_traps() {
    // Rust keeps its frames' arrays on a shadow stack in linear memory: recursion like this
    // runs off that stack (an out-of-bounds access) before the wasm stack (512 KiB) is full.
    let reason = denied_with(fixture(), "recurse", "ERR_PLUGIN_TRAP");
    assert!(
        reason.contains("stack overflow") || reason.contains("out of bounds memory access"),
        "{reason}"
    );
}

#[test]
fn a_huge_output_is_refused() {
    let reason = denied_with(fixture(), "huge", "ERR_PLUGIN_OUTPUT");
    assert!(reason.contains("bound"), "{reason}");
}

#[test]
fn a_trap_is_a_deny_every_time() {
    for _ in 0..5 {
        let reason = denied_with(fixture(), "trap", "ERR_PLUGIN_TRAP");
        assert!(reason.contains("trapped"), "{reason}");
    }
}

#[test]
fn a_panic_is_a_trap() {
    denied_with(fixture(), "panic", "ERR_PLUGIN_TRAP");
}

#[test]
fn garbage_output_is_refused() {
    let reason = denied_with(fixture(), "garbage", "ERR_PLUGIN_OUTPUT");
    assert!(reason.contains("no-such-field"), "{reason}");
}

#[test]
fn a_log_flood_is_bounded() {
    let f = fixture();
    let out = f
        .host
        .decide(&f.hostile, &f.services, &request(&["admin"], "flood"));
    // A million lines at the default bound of 64 per request: it either finished with the
    // rest dropped, or overran the deadline first. Either way the log holds 64 lines.
    assert_eq!(out.log.len(), 64, "{:?}", out.verdict);
    if out.verdict.is_allow() {
        assert_eq!(out.log_dropped, 1_000_000 - 64);
    } else {
        assert_eq!(out.verdict.code(), Some("ERR_PLUGIN_TIMEOUT"));
    }
    assert_alive(f);
}

#[test]
fn the_hostile_plugin_behaving_is_allowed() {
    let f = fixture();
    let out = f
        .host
        .decide(&f.hostile, &f.services, &request(&["admin"], "read"));
    assert!(out.verdict.is_allow(), "{out:?}");
    assert_eq!(out.record["name"], "Ada Lovelace");
}

#[test]
fn a_plugin_importing_the_keystore_is_refused_at_load() {
    let f = fixture();
    let dir = crmguard_runtime::PluginsDir::new(f.root.join("plugins"));
    let e = f
        .host
        .load_plugin(&dir.manifest("sneaky").unwrap())
        .err()
        .unwrap();
    assert_eq!(e.code, "ERR_PLUGIN_LINK");
    assert!(e.message.contains("crmguard:guard/keystore"), "{e}");
    assert_alive(f);
}

#[test]
fn the_crypto_session_serves_its_own_tenant_only() {
    let f = fixture();
    let mut s = f
        .services
        .crypto
        .session(&crmguard_core::TenantId::new("acme").unwrap())
        .unwrap();
    let globex = crmguard_core::FieldContext::new("globex", "contact", "0042", "email").unwrap();
    let e = s.seal(&globex, b"x").unwrap_err();
    assert_eq!(e.code, "ERR_PLUGIN_TENANT");
    let acme = crmguard_core::FieldContext::new("acme", "contact", "0042", "email").unwrap();
    let sealed = s.seal(&acme, b"ada@example.com").unwrap();
    assert_eq!(s.open(&acme, &sealed).unwrap(), b"ada@example.com");
}

/// Runs `action` on the hostile plugin in a thread: the answer, or `None` if the host has not
/// answered within `patience` (a hung host; the deadline is 10 ms, so the patience is a
/// liveness bound, not a timing assertion).
fn decide_or_hang(f: &'static Fixture, action: &str, patience: Duration) -> Option<String> {
    let (tx, rx) = std::sync::mpsc::channel();
    let action = action.to_owned();
    std::thread::spawn(move || {
        let out = f
            .host
            .decide(&f.hostile, &f.services, &request(&["admin"], &action));
        let _ = tx.send(out.verdict.code().map(str::to_owned).unwrap_or_default());
    });
    rx.recv_timeout(patience).ok()
}

#[test]
fn a_plugin_that_sleeps_is_stopped_not_waited_for() {
    // Before the sandbox refused timers, `thread::sleep(3600 s)` blocked the host thread in
    // `pollable.block`, where epoch interruption never fires.
    let f = fixture();
    let code = decide_or_hang(f, "sleep", Duration::from_secs(60))
        .expect("the host hung on a sleeping plugin");
    assert_eq!(code, "ERR_PLUGIN_CAPABILITY");
    assert_alive(f);
}

#[test]
fn sleeping_plugins_cannot_fill_the_pool() {
    // 32 slots by default: 40 sleepers at once, each answered, then a normal request.
    let f = fixture();
    let sleepers: Vec<_> = (0..40)
        .map(|_| std::thread::spawn(move || decide_or_hang(f, "sleep", Duration::from_secs(120))))
        .collect();
    for s in sleepers {
        let code = s
            .join()
            .expect("no panic")
            .expect("a sleeper hung the host");
        assert_eq!(code, "ERR_PLUGIN_CAPABILITY");
    }
    assert_alive(f);
}

/// Every request starts from the component's image: statics, heap and memory size as
/// shipped, whatever the last request on the same pool slot left (the pool resets dirty pages
/// in place where the kernel allows, and drops them otherwise).
#[test]
fn nothing_a_request_leaves_in_memory_reaches_the_next() {
    let f = fixture();
    let first = denied_with(f, "remember", "ERR_REMEMBERED");
    assert!(first.starts_with("seen=1 pages="), "{first}");
    for _ in 0..20 {
        assert_eq!(denied_with(f, "remember", "ERR_REMEMBERED"), first);
    }
}

#[test]
fn a_plugin_without_the_clocks_grant_reads_zero() {
    let reason = denied_with(fixture(), "clock", "ERR_CLOCK_READ");
    assert!(reason.starts_with("wall=0 monotonic=0 "), "{reason}");
}

/// A dictionary run against blind indexes through the request's sealer stops at the
/// per-request budget; the plugin gets the refusal, denies with it, and the host keeps
/// serving. The sealer names only a field: the request's record, subject and tenant are
/// the host's, so no call can reach another record's keys (0.1.0 took a whole context).
#[test]
fn the_sealer_is_no_oracle() {
    let reason = denied_with(fixture(), "oracle", "ERR_PLUGIN_SCOPE");
    assert_eq!(reason, "refused after 16 guesses");
}

/// A plugin names treatments, never values: the values the caller sees are the stored ones
/// rendered by core, so a plugin cannot forge a field (the hostile plugin, behaving, passes
/// every field; the sealed ones arrive opened by the host, not by the plugin).
#[test]
fn values_are_rendered_by_the_host_not_the_plugin() {
    let f = fixture();
    let out = f
        .host
        .decide(&f.hostile, &f.services, &request(&["admin"], "read"));
    assert!(out.verdict.is_allow(), "{out:?}");
    let reference = f
        .host
        .decide(&f.reference, &f.services, &request(&["admin"], "read"));
    assert_eq!(out.record["email"], reference.record["email"]);
    assert_eq!(out.record["email"], "ada@example.com");
}
