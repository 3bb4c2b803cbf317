//! Cryptographic building blocks: 256-bit keys, XAES-256-GCM on top of the `aes-gcm` crate,
//! HMAC/HKDF helpers, and the entropy source.

mod entropy;
mod key;
pub(crate) mod xaes;

pub use entropy::Entropy;
#[cfg(feature = "getrandom")]
pub use entropy::SystemEntropy;
pub use key::Key256;

use hmac::{KeyInit, Mac};

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// HMAC-SHA256 of `parts` concatenated, under `key`.
pub(crate) fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = <HmacSha256 as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

/// HKDF-SHA256 (RFC 5869) expanding to one 32-byte key.
pub(crate) fn hkdf_sha256(ikm: &[u8], salt: &[u8], info: &[u8]) -> Key256 {
    let hk = hkdf::Hkdf::<sha2::Sha256>::new(Some(salt), ikm);
    let mut okm = [0u8; 32];
    // 32 bytes is far below HKDF-SHA256's 255 * 32 byte limit.
    hk.expand(info, &mut okm)
        .expect("32 bytes is a valid HKDF length");
    Key256::from_bytes(okm)
}

/// Appends `bytes` with a 4-byte big-endian length prefix: the unambiguous encoding used for
/// every variable-length component of associated data and key-derivation inputs.
pub(crate) fn put_lp(out: &mut Vec<u8>, bytes: &[u8]) {
    // Identifiers are at most 256 bytes and labels are constants, so the length fits in u32.
    let len = u32::try_from(bytes.len()).expect("length-prefixed items are short");
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes);
}
