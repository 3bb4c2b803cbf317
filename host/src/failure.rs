//! How the CLI fails: one stderr line that begins with a stable code, exit status 1.
//! (Usage errors are clap's: exit status 2.)

use core::fmt;

/// A failed command: a stable `ERR_...` code and a message that holds no secrets.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) code: &'static str,
    pub(crate) message: String,
}

impl Failure {
    pub(crate) fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// An I/O failure on a named path or stream.
    pub(crate) fn io(what: &str, e: std::io::Error) -> Self {
        Self::new("ERR_IO", format!("{what}: {e}"))
    }

    /// A failed write to standard output. A reader that went away (`crmguard ... | head -1`,
    /// `| grep -q`) is [`Failure::STDOUT_CLOSED`]: `main` ends quietly with status 0 on it,
    /// as Unix filters do, instead of the panic `println!` gives.
    pub(crate) fn stdout(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            Self::new(
                Self::STDOUT_CLOSED,
                "standard output was closed by its reader",
            )
        } else {
            Self::io("stdout", e)
        }
    }

    /// The code of [`Failure::stdout`] for a closed pipe.
    pub(crate) const STDOUT_CLOSED: &'static str = "ERR_STDOUT_CLOSED";

    /// The same failure with `context: ` put before its message.
    pub(crate) fn with_context(mut self, context: &str) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }

    /// Input that is not what the command reads (bad JSON, not UTF-8, ...).
    pub(crate) fn input(message: impl Into<String>) -> Self {
        Self::new("ERR_INPUT", message)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl From<crmguard_core::Error> for Failure {
    fn from(e: crmguard_core::Error) -> Self {
        Self::new(e.code(), e.to_string())
    }
}

impl From<crmguard_core::InvalidIdentifier> for Failure {
    fn from(e: crmguard_core::InvalidIdentifier) -> Self {
        crmguard_core::Error::from(e).into()
    }
}

impl From<crmguard_core::AuditError> for Failure {
    fn from(e: crmguard_core::AuditError) -> Self {
        crmguard_core::Error::from(e).into()
    }
}

pub(crate) type CmdResult = Result<(), Failure>;

impl From<crmguard_store::StoreError> for Failure {
    fn from(e: crmguard_store::StoreError) -> Self {
        Self::new(e.code, e.message)
    }
}

/// Writes one line to standard output, returning [`Failure::stdout`] instead of panicking
/// when stdout is a closed pipe. The CLI's `outln!` is this.
pub(crate) fn out_line(args: fmt::Arguments<'_>) -> CmdResult {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    out.write_fmt(args)
        .and_then(|()| out.write_all(b"\n"))
        .map_err(Failure::stdout)
}

/// `println!` for the CLI: the same formatting, and a closed stdout is a [`Failure`] (`?`d),
/// not a panic.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::failure::out_line(format_args!($($arg)*))?
    };
}
pub(crate) use outln;
