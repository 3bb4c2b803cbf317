//! An adversarial policy plugin for the host's tests. The request's `action` picks the
//! misbehaviour; anything else is a well-behaved allow that passes every field unchanged.
//!
//! - `loop`: spins forever (the epoch deadline must stop it)
//! - `bomb`: allocates until memory runs out (the memory limit must stop it)
//! - `recurse`: recurses without end (the wasm stack limit must stop it)
//! - `huge`: returns a verdict with a 2 MiB field name (the host's output bound must refuse it)
//! - `trap`: aborts (a trap)
//! - `panic`: panics (a trap, once the panic aborts)
//! - `garbage`: returns a verdict for a field the request does not have
//! - `flood`: logs a million lines (the host's log bound must hold)
//! - `sleep`: sleeps an hour (`thread::sleep`: a timer pollable, then `pollable.block`, a
//!   host call that epoch interruption cannot stop; the sandbox must refuse the timer)
//! - `clock`: answers with what the clocks read (frozen at zero unless granted)
//! - `oracle`: blind-indexes guesses through the request's sealer until refused (a
//!   dictionary attack; the per-request budget must stop it), answering with the refusal

// wit-bindgen's generated glue (canonical ABI lifting and lowering) is `unsafe` code; none is
// written by hand in this crate.
#![allow(unsafe_code)]

use std::hint::black_box;

wit_bindgen::generate!({
    world: "policy-plugin",
    path: "../../../wit",
});

use crmguard::guard::logging::{self, Level};
use crmguard::guard::sealing::RecordSealer;
use crmguard::guard::types::{
    AccessRequest, BlindIndexSpec, Decision, ErrorKind, FieldVerdict, GuardError, KeyScope,
    Normalizer, Treatment,
};

fn error(code: &str, message: String) -> GuardError {
    GuardError {
        kind: ErrorKind::Internal,
        code: code.to_owned(),
        message,
    }
}
use exports::crmguard::guard::policy::Guest;

fn recurse(depth: u64) -> u64 {
    // Never true, but the compiler cannot know: the recursion stays.
    if black_box(depth) == u64::MAX {
        return 0;
    }
    let frame = black_box([depth; 32]);
    recurse(black_box(depth + 1)) + frame[(depth % 32) as usize]
}

struct Hostile;

impl Guest for Hostile {
    fn decide(req: AccessRequest, sealer: &RecordSealer) -> Result<Decision, GuardError> {
        match req.action.as_str() {
            "sleep" => {
                std::thread::sleep(std::time::Duration::from_secs(3600));
                Err(error("ERR_UNREACHABLE", "woke up after an hour".to_owned()))
            }
            "clock" => {
                let wall = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(u128::MAX, |d| d.as_nanos());
                let started = std::time::Instant::now();
                let mut n: u64 = 0;
                for _ in 0..100_000 {
                    n = black_box(n.wrapping_add(1));
                }
                let monotonic = started.elapsed().as_nanos();
                Err(error(
                    "ERR_CLOCK_READ",
                    format!("wall={wall} monotonic={monotonic} n={n}"),
                ))
            }
            "loop" => {
                let mut n: u64 = 0;
                loop {
                    n = black_box(n.wrapping_add(1));
                }
            }
            "bomb" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(black_box(vec![0xa5; 1 << 20]));
                }
            }
            "recurse" => {
                let n = recurse(0);
                Err(error("ERR_UNREACHABLE", n.to_string()))
            }
            "huge" => Ok(Decision {
                allow: true,
                reason: "huge".to_owned(),
                fields: vec![FieldVerdict {
                    name: "x".repeat(2 << 20),
                    treatment: Treatment::Clear,
                }],
            }),
            "oracle" => {
                let spec = BlindIndexSpec {
                    normalize: vec![Normalizer::Email],
                    bits: 32,
                };
                for i in 0..10_000u32 {
                    let guess = format!("guess{i}@example.com");
                    if let Err(e) = sealer.blind_index("email", &spec, KeyScope::Keyring, &guess) {
                        return Err(error(&e.code, format!("refused after {i} guesses")));
                    }
                }
                Err(error(
                    "ERR_UNREACHABLE",
                    "10 000 guesses indexed".to_owned(),
                ))
            }
            "remember" => {
                // What a request could leave for the next one, if instances shared memory:
                // a static counter, and the memory grown by a 4 MiB block left behind.
                static SEEN: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
                let seen = SEEN.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                #[cfg(target_arch = "wasm32")]
                let pages = core::arch::wasm32::memory_size::<0>();
                // Built natively only for clippy and doc tests.
                #[cfg(not(target_arch = "wasm32"))]
                let pages = 0;
                let left = Box::leak(vec![0xa5u8; 4 << 20].into_boxed_slice());
                Err(error(
                    "ERR_REMEMBERED",
                    format!("seen={seen} pages={pages} left={}", black_box(left.len())),
                ))
            }
            "trap" => std::process::abort(),
            "panic" => panic!("the hostile plugin panics on purpose"),
            "garbage" => Ok(Decision {
                allow: true,
                reason: "garbage".to_owned(),
                fields: vec![FieldVerdict {
                    name: "no-such-field".to_owned(),
                    treatment: Treatment::Clear,
                }],
            }),
            "flood" => {
                for i in 0..1_000_000u32 {
                    logging::log(Level::Info, &format!("flood line {i}"));
                }
                Ok(Decision {
                    allow: true,
                    reason: "flooded".to_owned(),
                    fields: Vec::new(),
                })
            }
            _ => Ok(Decision {
                allow: true,
                reason: "the hostile plugin behaves this time".to_owned(),
                fields: req
                    .fields
                    .iter()
                    .map(|f| FieldVerdict {
                        name: f.name.clone(),
                        treatment: Treatment::Clear,
                    })
                    .collect(),
            }),
        }
    }
}

export!(Hostile);
