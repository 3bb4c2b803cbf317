use core::fmt;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::Entropy;
use crate::Error;

/// A 256-bit secret key. The bytes are private, wiped on drop, never printed (`Debug` shows
/// `Key256(<redacted>)`), and compared in constant time.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Key256([u8; 32]);

impl Key256 {
    /// Wraps 32 bytes of key material.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Copies key material from a slice; fails unless it is exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, Error> {
        let arr: [u8; 32] = bytes
            .try_into()
            .map_err(|_| crate::KeyError::BadLength { expected: 32 })?;
        Ok(Self(arr))
    }

    /// A fresh random key.
    pub fn generate(entropy: &mut impl Entropy) -> Result<Self, Error> {
        let mut k = Self([0u8; 32]);
        entropy.fill(&mut k.0)?;
        Ok(k)
    }

    /// The key bytes. Only for handing to a cipher or writing a protected keyring.
    pub fn expose_secret(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for Key256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Key256(<redacted>)")
    }
}

impl PartialEq for Key256 {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for Key256 {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted_and_eq_compares_bytes() {
        let k = Key256::from_bytes([0x42; 32]);
        let s = format!("{k:?}");
        assert_eq!(s, "Key256(<redacted>)");
        assert!(!s.contains("42"));
        assert_eq!(k, Key256::from_bytes([0x42; 32]));
        assert_ne!(k, Key256::from_bytes([0x43; 32]));
        assert!(Key256::from_slice(&[0u8; 31]).is_err());
    }
}
