//! # crmguard-store
//!
//! CRMGuard's state on disk, for every adapter that keeps some (the `crmguard` CLI,
//! `crmguard serve`): the durable audit log ([`audit_log`]: files, fsync, group commit, locks,
//! rotation, crash recovery), keyring files ([`keyring_file`]: master-key unlocking, the
//! rollback and substitution state, locked read-modify-write), tenant key files ([`key_file`])
//! and the race-free writes they rest on ([`files`]). The formats and every rule stay in crmguard-core; this crate only
//! reads and writes them.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod audit_log;
pub mod audit_proofs;
mod error;
pub mod files;
pub mod key_file;
pub mod keyring_file;

pub use error::StoreError;
