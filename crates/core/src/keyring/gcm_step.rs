//! Sealing and opening with the AES-256-GCM step run by the caller.
//!
//! XAES-256-GCM is a key derivation (two AES blocks under the keyring key) followed by
//! standard AES-256-GCM under the derived key. A caller with a faster AES-256-GCM than this
//! crate's constant-time software AES — the npm package, whose WebCrypto uses the CPU's AES
//! instructions — takes the derived per-message key, the 96-bit GCM nonce and the associated
//! data from here, runs AES-256-GCM itself and hands the output back. Everything else (which
//! key, the random nonce, header, associated data, parsing, assembly, the size limit) stays
//! here, so the bytes are exactly those of [`Keyring::seal_with`] and [`Keyring::open`].

use core::fmt;

use super::Keyring;
use crate::context::FieldContext;
use crate::crypto::xaes::{NONCE_LEN, TAG_LEN, nonce_tail};
use crate::crypto::{Entropy, Key256};
use crate::sealed::{self, ContentType, HEADER_LEN, SealedField, associated_data};
use crate::{Error, SealedFieldError};

/// The inputs of one AES-256-GCM operation of XAES-256-GCM: the derived per-message key, the
/// 96-bit nonce and the associated data. `Debug` shows no key material.
pub struct GcmStep {
    key: Key256,
    nonce: [u8; 12],
    aad: Vec<u8>,
}

impl GcmStep {
    /// The per-message AES-256 key (secret; it opens only this message, but import it into
    /// the cipher and let this value drop, which wipes it).
    pub fn key(&self) -> &Key256 {
        &self.key
    }

    /// The AES-GCM nonce (the last 12 bytes of the 24-byte XAES nonce).
    pub fn nonce(&self) -> &[u8; 12] {
        &self.nonce
    }

    /// The associated data (docs/FORMAT.md §2).
    pub fn aad(&self) -> &[u8] {
        &self.aad
    }
}

impl fmt::Debug for GcmStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GcmStep")
            .field("key", &self.key)
            .field("aad_len", &self.aad.len())
            .finish()
    }
}

/// A seal waiting for its AES-256-GCM output (see [`Keyring::prepare_seal`]).
#[derive(Debug)]
pub struct PendingSeal {
    /// Header and nonce: the first bytes of the sealed value.
    head: [u8; HEADER_LEN + NONCE_LEN],
    plaintext_len: usize,
    gcm: GcmStep,
}

impl PendingSeal {
    /// What to run AES-256-GCM encryption with, over the plaintext.
    pub fn gcm(&self) -> &GcmStep {
        &self.gcm
    }

    /// Completes the seal with AES-256-GCM's output for [`PendingSeal::gcm`]: the ciphertext
    /// followed by the 16-byte tag (WebCrypto's `encrypt` result).
    pub fn finish(self, ciphertext_and_tag: &[u8]) -> Result<SealedField, Error> {
        if ciphertext_and_tag.len() != self.plaintext_len + TAG_LEN {
            return Err(SealedFieldError::Malformed("AES-GCM output of the wrong length").into());
        }
        let mut bytes = Vec::with_capacity(self.head.len() + ciphertext_and_tag.len());
        bytes.extend_from_slice(&self.head);
        bytes.extend_from_slice(ciphertext_and_tag);
        Ok(SealedField::from_vec(bytes)?)
    }
}

impl Keyring {
    /// Starts sealing a `plaintext_len`-byte value for `ctx` with the AES-256-GCM step left
    /// to the caller: the same key choice, nonce, header and associated data as
    /// [`Keyring::seal_with`], whose bytes [`PendingSeal::finish`] then produces.
    pub fn prepare_seal(
        &self,
        ctx: &FieldContext,
        plaintext_len: usize,
        content: ContentType,
        entropy: &mut impl Entropy,
    ) -> Result<PendingSeal, Error> {
        let (key_ref, material, nonce) = self.seal_start(ctx, plaintext_len, entropy)?;
        let mut head = [0u8; HEADER_LEN + NONCE_LEN];
        head[..HEADER_LEN].copy_from_slice(&sealed::header(key_ref, content));
        head[HEADER_LEN..].copy_from_slice(&nonce);
        Ok(PendingSeal {
            gcm: GcmStep {
                key: material.xaes.derive_key(&nonce),
                nonce: *nonce_tail(&nonce),
                aad: associated_data(&head[..HEADER_LEN], ctx),
            },
            head,
            plaintext_len,
        })
    }

    /// The AES-256-GCM step of opening `sealed` for `ctx`: decrypt
    /// [`SealedField::ciphertext_and_tag`] with it. The same key checks as
    /// [`Keyring::open`]; a failed decryption is [`SealedFieldError::Auth`].
    pub fn prepare_open(&self, ctx: &FieldContext, sealed: &SealedField) -> Result<GcmStep, Error> {
        let material = self.opening_key(ctx, sealed)?;
        Ok(GcmStep {
            key: material.xaes.derive_key(sealed.nonce()),
            nonce: *nonce_tail(sealed.nonce()),
            aad: associated_data(sealed.header(), ctx),
        })
    }
}

#[cfg(test)]
mod tests {
    use aes_gcm::aead::{Aead, KeyInit, Payload};
    use aes_gcm::{Aes256Gcm, Nonce};

    use super::*;
    use crate::{SubjectId, SystemEntropy};

    /// The same bytes on every call, so two seals draw the same nonce.
    struct Fixed(u8);

    impl Entropy for Fixed {
        fn fill(&mut self, buf: &mut [u8]) -> Result<(), Error> {
            buf.fill(self.0);
            Ok(())
        }
    }

    /// AES-256-GCM as an outside caller (WebCrypto) runs it.
    fn gcm_encrypt(step: &GcmStep, plaintext: &[u8]) -> Vec<u8> {
        Aes256Gcm::new(step.key().expose_secret().into())
            .encrypt(
                &Nonce::from(*step.nonce()),
                Payload {
                    msg: plaintext,
                    aad: step.aad(),
                },
            )
            .unwrap()
    }

    fn gcm_decrypt(step: &GcmStep, ct_tag: &[u8]) -> Result<Vec<u8>, aes_gcm::Error> {
        Aes256Gcm::new(step.key().expose_secret().into()).decrypt(
            &Nonce::from(*step.nonce()),
            Payload {
                msg: ct_tag,
                aad: step.aad(),
            },
        )
    }

    fn keyring() -> Keyring {
        let mut k = Keyring::generate(&mut SystemEntropy, 1_000).unwrap();
        k.add_subject(&SubjectId::new("s-1").unwrap(), &mut SystemEntropy, 1_000)
            .unwrap();
        k
    }

    #[test]
    fn external_gcm_gives_the_bytes_of_seal_with_and_opens_them() {
        let k = keyring();
        let plain = FieldContext::new("acme", "contact", "0042", "email").unwrap();
        let subject = plain.clone().with_subject(SubjectId::new("s-1").unwrap());
        for ctx in [&plain, &subject] {
            for (len, content) in [(0, ContentType::Bytes), (15, ContentType::Json)]
                .into_iter()
                .chain([1, 16, 17, 1024, 4096].map(|n| (n, ContentType::Bytes)))
            {
                let pt: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
                let want = k.seal_with(ctx, &pt, content, &mut Fixed(9)).unwrap();
                let pending = k
                    .prepare_seal(ctx, pt.len(), content, &mut Fixed(9))
                    .unwrap();
                let ct = gcm_encrypt(pending.gcm(), &pt);
                let got = pending.finish(&ct).unwrap();
                assert_eq!(got.as_bytes(), want.as_bytes(), "len {len}");

                let step = k.prepare_open(ctx, &got).unwrap();
                assert_eq!(gcm_decrypt(&step, got.ciphertext_and_tag()).unwrap(), pt);
            }
        }
    }

    #[test]
    fn key_checks_and_tampering_match_open() {
        let k = keyring();
        let ctx = FieldContext::new("acme", "contact", "0042", "email").unwrap();
        let sealed = k.seal(&ctx, b"ada@example.com").unwrap();

        // Another context derives the same key but other associated data: GCM fails.
        let elsewhere = FieldContext::new("acme", "contact", "0043", "email").unwrap();
        let step = k.prepare_open(&elsewhere, &sealed).unwrap();
        assert!(gcm_decrypt(&step, sealed.ciphertext_and_tag()).is_err());

        let mut bytes = sealed.as_bytes().to_vec();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        let tampered = SealedField::from_bytes(&bytes).unwrap();
        let step = k.prepare_open(&ctx, &tampered).unwrap();
        assert!(gcm_decrypt(&step, tampered.ciphertext_and_tag()).is_err());

        // Key lookups fail exactly as in `open`.
        let subject_sealed = k
            .seal(
                &ctx.clone().with_subject(SubjectId::new("s-1").unwrap()),
                b"x",
            )
            .unwrap();
        let code = |r: Result<GcmStep, Error>| r.unwrap_err().code();
        assert_eq!(
            code(k.prepare_open(&ctx, &subject_sealed)),
            k.open(&ctx, &subject_sealed).unwrap_err().code()
        );
        let mut other = Keyring::generate(&mut SystemEntropy, 1_000).unwrap();
        other.rotate(&mut SystemEntropy, 2_000).unwrap();
        let under_2 = other.seal(&ctx, b"x").unwrap();
        assert_eq!(code(k.prepare_open(&ctx, &under_2)), "ERR_KEY_NOT_FOUND");
    }

    #[test]
    fn finish_rejects_output_of_the_wrong_length_and_limits_hold() {
        let k = keyring();
        let ctx = FieldContext::new("acme", "contact", "0042", "email").unwrap();
        let pending = k
            .prepare_seal(&ctx, 4, ContentType::Bytes, &mut SystemEntropy)
            .unwrap();
        assert_eq!(
            pending.finish(&[0u8; 19]).unwrap_err().code(),
            "ERR_SEALED_FIELD_MALFORMED"
        );
        let too_large = k.prepare_seal(
            &ctx,
            crate::MAX_PLAINTEXT_LEN + 1,
            ContentType::Bytes,
            &mut SystemEntropy,
        );
        assert_eq!(too_large.unwrap_err().code(), "ERR_SEALED_FIELD_TOO_LARGE");
        // The derived key never shows in Debug.
        let pending = k
            .prepare_seal(&ctx, 4, ContentType::Bytes, &mut SystemEntropy)
            .unwrap();
        assert!(format!("{pending:?}").contains("<redacted>"));
    }
}
