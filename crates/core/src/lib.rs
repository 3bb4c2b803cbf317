//! # crmguard-core
//!
//! The one place where CRMGuard's cryptography and rules live. Everything here is pure: no
//! I/O, no clock, no randomness source of its own (entropy comes in through [`Entropy`];
//! with the default `getrandom` feature, [`SystemEntropy`] is the operating system's).
//! The same code runs natively, inside WebAssembly components, and in the npm package.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod context;
mod crypto;
mod error;

pub use context::{
    FieldContext, FieldName, MAX_IDENTIFIER_LEN, ObjectType, RecordId, SubjectId, TenantId,
};
#[cfg(feature = "getrandom")]
pub use crypto::SystemEntropy;
pub use crypto::{Entropy, Key256};
pub use error::{
    BlindIndexError, ERROR_CODES, Error, InvalidIdentifier, KeyError, KeyringError,
    SealedFieldError, SubjectError,
};
