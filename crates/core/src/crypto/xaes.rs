//! XAES-256-GCM (C2SP, <https://c2sp.org/XAES-256-GCM>): AES-256-GCM with 192-bit nonces.
//!
//! For each message a 256-bit key is derived from the input key and the first 12 nonce bytes
//! with a NIST SP 800-108r1 counter-mode KDF over AES-256 in CMAC mode (two AES blocks, since
//! the messages fit in one block), and standard AES-256-GCM (the `aes-gcm` crate) runs with the
//! derived key and the last 12 nonce bytes. Random 192-bit nonces can be used for any number of
//! messages per key in practice (see docs/FORMAT.md for the bound).

use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::aes::Aes256;
use aes_gcm::aes::cipher::BlockCipherEncrypt;
use aes_gcm::{Aes256Gcm, Nonce, Tag};
use zeroize::Zeroize;

use super::Key256;

/// XAES-256-GCM nonce length in bytes.
pub(crate) const NONCE_LEN: usize = 24;
/// AES-GCM tag length in bytes.
pub(crate) const TAG_LEN: usize = 16;

/// An XAES-256-GCM key, with its AES key schedule and CMAC subkey K1 computed once.
pub(crate) struct Xaes256Gcm {
    aes: Aes256,
    k1: [u8; 16],
}

impl Drop for Xaes256Gcm {
    fn drop(&mut self) {
        // `aes` zeroizes its own schedule (the `zeroize` feature of aes-gcm enables it).
        self.k1.zeroize();
    }
}

/// Authentication failed; carries nothing on purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AuthFailed;

impl Xaes256Gcm {
    pub(crate) fn new(key: &Key256) -> Self {
        let aes = Aes256::new(key.expose_secret().into());
        // L = AES-256_K(0^128); K1 = L << 1, xor 0x87 into the last byte if L's MSB was set.
        let mut l = aes_gcm::aes::Block::default();
        aes.encrypt_block(&mut l);
        let mut k1 = [0u8; 16];
        let msb = l[0] >> 7;
        for i in 0..16 {
            let next = if i + 1 < 16 { l[i + 1] >> 7 } else { 0 };
            k1[i] = (l[i] << 1) | next;
        }
        k1[15] ^= 0x87 * msb;
        l.zeroize();
        Self { aes, k1 }
    }

    /// The per-message AES-256-GCM instance for `nonce[..12]`.
    fn derive(&self, nonce: &[u8; NONCE_LEN]) -> Aes256Gcm {
        Aes256Gcm::new(self.derive_key(nonce).expose_secret().into())
    }

    /// The per-message AES-256 key for `nonce[..12]`, for a caller that runs the
    /// AES-256-GCM step itself (with `nonce[12..]`; see `keyring::gcm_step`).
    pub(crate) fn derive_key(&self, nonce: &[u8; NONCE_LEN]) -> Key256 {
        let mut kx = [0u8; 32];
        for (counter, half) in [1u8, 2u8].into_iter().zip(kx.chunks_exact_mut(16)) {
            let mut m = aes_gcm::aes::Block::default();
            m[1] = counter;
            m[2] = b'X';
            m[4..16].copy_from_slice(&nonce[..12]);
            for (b, k) in m.iter_mut().zip(self.k1.iter()) {
                *b ^= k;
            }
            self.aes.encrypt_block(&mut m);
            half.copy_from_slice(&m);
            m.zeroize();
        }
        // Key256 wipes itself on drop; the array moved into it is a copy, wiped here.
        let key = Key256::from_bytes(kx);
        kx.zeroize();
        key
    }

    /// Encrypts `buf` in place and returns the tag.
    pub(crate) fn seal_detached(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        buf: &mut [u8],
    ) -> [u8; TAG_LEN] {
        gcm_seal_detached(&self.derive(nonce), nonce_tail(nonce), aad, buf)
    }

    /// Decrypts `buf` in place if `tag` authenticates it with `aad`; on failure `buf` is wiped.
    pub(crate) fn open_detached(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8; TAG_LEN],
    ) -> Result<(), AuthFailed> {
        gcm_open_detached(&self.derive(nonce), nonce_tail(nonce), aad, buf, tag)
    }

    /// Returns ciphertext || tag.
    pub(crate) fn seal(&self, nonce: &[u8; NONCE_LEN], aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(plaintext.len() + TAG_LEN);
        out.extend_from_slice(plaintext);
        let tag = self.seal_detached(nonce, aad, &mut out);
        out.extend_from_slice(&tag);
        out
    }

    /// Opens ciphertext || tag.
    pub(crate) fn open(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        sealed: &[u8],
    ) -> Result<Vec<u8>, AuthFailed> {
        let ct_len = sealed.len().checked_sub(TAG_LEN).ok_or(AuthFailed)?;
        let (ct, tag) = sealed.split_at(ct_len);
        let tag: &[u8; TAG_LEN] = tag.try_into().map_err(|_| AuthFailed)?;
        let mut out = ct.to_vec();
        self.open_detached(nonce, aad, &mut out, tag)?;
        Ok(out)
    }
}

pub(crate) fn nonce_tail(nonce: &[u8; NONCE_LEN]) -> &[u8; 12] {
    // 24 - 12 = 12: the slice always has the right length.
    nonce[12..]
        .try_into()
        .expect("12-byte tail of a 24-byte nonce")
}

/// AES-256-GCM with a 96-bit nonce through the `aes-gcm` crate: the layer under XAES, and the
/// one the Wycheproof vectors exercise.
pub(crate) fn gcm_seal_detached(
    gcm: &Aes256Gcm,
    nonce: &[u8; 12],
    aad: &[u8],
    buf: &mut [u8],
) -> [u8; TAG_LEN] {
    // aes-gcm only fails for messages over 2^36 - 32 bytes or AAD over 2^36 bytes; callers
    // bound plaintexts far below that (see MAX_PLAINTEXT_LEN in sealed.rs).
    let tag = gcm
        .encrypt_inout_detached(&Nonce::from(*nonce), aad, buf.into())
        .expect("AES-GCM length limits are enforced by the caller");
    tag.into()
}

/// See [`gcm_seal_detached`]. On failure the buffer is zeroed, so no unauthenticated
/// plaintext can escape.
pub(crate) fn gcm_open_detached(
    gcm: &Aes256Gcm,
    nonce: &[u8; 12],
    aad: &[u8],
    buf: &mut [u8],
    tag: &[u8; TAG_LEN],
) -> Result<(), AuthFailed> {
    let tag = Tag::from(*tag);
    gcm.decrypt_inout_detached(&Nonce::from(*nonce), aad, buf.into(), &tag)
        .map_err(|_| {
            buf.zeroize();
            AuthFailed
        })
}

#[cfg(test)]
#[path = "xaes_tests.rs"]
mod tests;
