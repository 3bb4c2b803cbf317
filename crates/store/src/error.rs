//! The stores' one error type: a stable code and a message that holds no secrets.

use core::fmt;

/// A failed read or write of a store: a stable `ERR_...` code (crmguard-core's, or `ERR_IO`)
/// and a message naming the file, never its secret content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError {
    /// The stable code.
    pub code: &'static str,
    /// What failed, for a person.
    pub message: String,
}

/// The code of an operating-system failure on a store file.
pub(crate) const IO: &str = "ERR_IO";

impl StoreError {
    /// A failure with `code`.
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// An I/O failure on `what` (a path or a stream).
    pub fn io(what: &str, e: &std::io::Error) -> Self {
        Self::new(IO, format!("{what}: {e}"))
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for StoreError {}

impl From<crmguard_core::Error> for StoreError {
    fn from(e: crmguard_core::Error) -> Self {
        Self::new(e.code(), e.to_string())
    }
}
