//! crmguard-host: what the `crmguard` CLI runs on that needs the operating system — the
//! durable audit log (files, fsync, locks, rotation). Record construction and verification
//! stay in crmguard-core.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod audit_log;
