//! Where random bytes come from. Core has no randomness of its own: callers pass an
//! [`Entropy`], and with the default `getrandom` feature [`SystemEntropy`] uses the operating
//! system (or `crypto.getRandomValues` in a JS host).

use crate::Error;

/// A source of cryptographically secure random bytes.
pub trait Entropy {
    /// Fills `buf` entirely with random bytes, or fails without sealing anything.
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), Error>;
}

/// The system's cryptographically secure random number generator (via `getrandom`).
#[cfg(feature = "getrandom")]
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemEntropy;

#[cfg(feature = "getrandom")]
impl Entropy for SystemEntropy {
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), Error> {
        getrandom::fill(buf).map_err(|_| Error::Entropy)
    }
}

impl<E: Entropy + ?Sized> Entropy for &mut E {
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), Error> {
        (**self).fill(buf)
    }
}
