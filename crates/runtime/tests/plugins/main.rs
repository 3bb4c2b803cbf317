//! The plugin host's integration tests, one binary of topical modules:
//!
//! - `adversarial`: hostile plugins are contained with the right deny reason, host alive
//! - `loading`: manifests, digests, worlds, imports, the artifact cache
//! - `reference`: the reference policy plugin's decisions through the crypto component
//! - `conformance`: the crypto component opens every published vector like crmguard-core
//! - `soak`: 10 000 mixed calls with resident memory bounded
//!
//! `crmguard plugin add|list|verify` and `crmguard run` are tested through the binary in
//! host/tests/run.rs (which shares `support`).
//!
//! The components are built by `cargo xtask test` (or `cargo xtask components`) into
//! target/wasm32-wasip2/component/; `support` fails with that instruction if they are missing.
#![allow(clippy::unwrap_used, clippy::expect_used, unreachable_pub)]

mod adversarial;
mod conformance;
mod loading;
mod reference;
mod soak;
mod support;
