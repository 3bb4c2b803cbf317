//! Sealing to a tenant's public key with HPKE (RFC 9180, base mode):
//! DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM, through the `hpke` crate.
//!
//! A browser (or any party without the keyring) seals a field with the tenant's public key;
//! only the holder of the tenant's private key opens it, and usually re-seals it at once
//! under the keyring for storage ([`Keyring::seal_from_tenant`]). The value is bound to its
//! [`FieldContext`] (tenant, object, record, field) through the HPKE `info`, so a value typed
//! into one field of one record does not open as another. The binary and text forms are in
//! docs/FORMAT.md ("HPKE: sealed to a tenant's public key").

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hpke::aead::AesGcm256;
use hpke::kdf::HkdfSha256;
use hpke::kem::X25519HkdfSha256;
use hpke::rand_core::{TryCryptoRng, TryRng};
use hpke::{Deserializable, Kem, OpModeR, OpModeS, Serializable};
use zeroize::{Zeroize, Zeroizing};

use crate::MAX_PLAINTEXT_LEN;
use crate::crypto::put_lp;
use crate::error::TenantSealError;
use crate::{ContentType, Entropy, Error, FieldContext, Keyring, SealedField, SealedFieldError};

/// Prefix of the text form of a value sealed to a tenant's public key.
pub const TENANT_SEALED_PREFIX: &str = "cgh1:";
/// Bytes a tenant-sealed value adds to its plaintext: 3 header bytes, the 32-byte
/// encapsulated key and the 16-byte GCM tag.
pub const TENANT_SEALED_OVERHEAD: usize = HEADER_LEN + ENC_LEN + TAG_LEN;

const VERSION: u8 = 0x01;
/// DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 / AES-256-GCM.
const SUITE_X25519_SHA256_AES256GCM: u8 = 0x01;
const HEADER_LEN: usize = 3;
const ENC_LEN: usize = 32;
const TAG_LEN: usize = 16;
const KEY_LEN: usize = 32;
const INFO_LABEL: &[u8] = b"crmguard/tenant-sealed/v1";

type Suite = X25519HkdfSha256;

/// A tenant's X25519 public key (32 bytes): anyone may seal to it.
#[derive(Clone, PartialEq, Eq)]
pub struct TenantPublicKey(<Suite as Kem>::PublicKey);

impl core::fmt::Debug for TenantPublicKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "TenantPublicKey({})",
            URL_SAFE_NO_PAD.encode(self.to_bytes())
        )
    }
}

impl TenantPublicKey {
    /// The key from its 32 bytes (`ERR_TENANT_KEY_INVALID` for any other length).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() != KEY_LEN {
            return Err(TenantSealError::KeyInvalid.into());
        }
        <Suite as Kem>::PublicKey::from_bytes(bytes)
            .map(Self)
            .map_err(|_| TenantSealError::KeyInvalid.into())
    }

    /// The 32 key bytes.
    pub fn to_bytes(&self) -> [u8; KEY_LEN] {
        let mut out = [0u8; KEY_LEN];
        out.copy_from_slice(&self.0.to_bytes());
        out
    }
}

/// A tenant's X25519 private key: opens what was sealed to its public key. Redacted in
/// `Debug`; the `hpke` crate zeroizes it on drop.
pub struct TenantSecretKey {
    secret: <Suite as Kem>::PrivateKey,
    public: TenantPublicKey,
}

impl core::fmt::Debug for TenantSecretKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TenantSecretKey")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

impl TenantSecretKey {
    /// A new key pair: 32 bytes from `entropy` as the input keying material of RFC 9180
    /// `DeriveKeyPair` (so the same seed always gives the same pair, which the vectors use).
    pub fn generate(entropy: &mut impl Entropy) -> Result<Self, Error> {
        let mut ikm = Zeroizing::new([0u8; KEY_LEN]);
        entropy.fill(ikm.as_mut())?;
        let (secret, public) = Suite::derive_keypair(ikm.as_ref());
        Ok(Self {
            secret,
            public: TenantPublicKey(public),
        })
    }

    /// The key from its 32 bytes (the X25519 scalar as RFC 9180 serialises it).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() != KEY_LEN {
            return Err(TenantSealError::KeyInvalid.into());
        }
        let secret = <Suite as Kem>::PrivateKey::from_bytes(bytes)
            .map_err(|_| TenantSealError::KeyInvalid)?;
        let public = TenantPublicKey(Suite::sk_to_pk(&secret));
        Ok(Self { secret, public })
    }

    /// The 32 key bytes; keep them secret.
    pub fn to_bytes(&self) -> Zeroizing<[u8; KEY_LEN]> {
        let mut out = Zeroizing::new([0u8; KEY_LEN]);
        let mut bytes = self.secret.to_bytes();
        out.copy_from_slice(&bytes);
        bytes.zeroize();
        out
    }

    /// The matching public key.
    pub fn public_key(&self) -> &TenantPublicKey {
        &self.public
    }
}

/// A value sealed to a tenant's public key (binary form: version, suite, content type,
/// encapsulated key, ciphertext, tag). Parsing checks the structure only.
#[derive(Clone, PartialEq, Eq)]
pub struct TenantSealed {
    bytes: Vec<u8>,
}

impl core::fmt::Debug for TenantSealed {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TenantSealed")
            .field("len", &self.bytes.len())
            .finish_non_exhaustive()
    }
}

impl TenantSealed {
    /// Parses the binary form.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        Self::from_vec(bytes.to_vec())
    }

    fn from_vec(bytes: Vec<u8>) -> Result<Self, Error> {
        if bytes.len() < TENANT_SEALED_OVERHEAD {
            return Err(TenantSealError::Malformed("too short").into());
        }
        if bytes[0] != VERSION || bytes[1] != SUITE_X25519_SHA256_AES256GCM || bytes[2] > 0x01 {
            return Err(TenantSealError::Unsupported.into());
        }
        Ok(Self { bytes })
    }

    /// Parses the text form (`cgh1:` and unpadded base64url).
    pub fn from_text(text: &str) -> Result<Self, Error> {
        let b64 = text
            .strip_prefix(TENANT_SEALED_PREFIX)
            .ok_or(TenantSealError::Malformed("missing the cgh1: prefix"))?;
        let bytes = URL_SAFE_NO_PAD
            .decode(b64)
            .map_err(|_| TenantSealError::Malformed("invalid base64url"))?;
        Self::from_vec(bytes)
    }

    /// The text form.
    pub fn to_text(&self) -> String {
        let mut s = String::from(TENANT_SEALED_PREFIX);
        URL_SAFE_NO_PAD.encode_string(&self.bytes, &mut s);
        s
    }

    /// The binary form.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Whether the plaintext is raw bytes or a JSON value.
    pub fn content_type(&self) -> ContentType {
        if self.bytes[2] == 0x01 {
            ContentType::Json
        } else {
            ContentType::Bytes
        }
    }
}

/// HPKE `info`: a label, the header (so it cannot be edited) and the context (tenant,
/// object, record, field; the subject is not part of it: the sender does not know subjects).
fn info(header: &[u8], ctx: &FieldContext) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    put_lp(&mut out, INFO_LABEL);
    out.extend_from_slice(header);
    for id in [
        ctx.tenant.as_str(),
        ctx.object.as_str(),
        ctx.record.as_str(),
        ctx.field.as_str(),
    ] {
        put_lp(&mut out, id.as_bytes());
    }
    out
}

/// Hands the `hpke` crate exactly the seed drawn from an [`Entropy`] beforehand. X25519
/// encapsulation draws one 32-byte seed; if it ever asked for more, the extra bytes are
/// zero and `overdrawn` makes the seal fail instead of using them.
struct SeedRng {
    seed: Zeroizing<[u8; KEY_LEN]>,
    used: usize,
    overdrawn: bool,
}

impl TryRng for SeedRng {
    type Error = core::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        let mut b = [0u8; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        let mut b = [0u8; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        let available = KEY_LEN - self.used;
        if dst.len() > available {
            self.overdrawn = true;
            dst.fill(0);
            return Ok(());
        }
        dst.copy_from_slice(&self.seed[self.used..self.used + dst.len()]);
        self.used += dst.len();
        Ok(())
    }
}

impl TryCryptoRng for SeedRng {}

/// Seals `plaintext` to the tenant's public key for `ctx` (HPKE base mode, single shot).
/// `entropy` supplies the 32-byte seed of the ephemeral key pair.
pub fn seal_to_tenant(
    public_key: &TenantPublicKey,
    ctx: &FieldContext,
    plaintext: &[u8],
    content: ContentType,
    entropy: &mut impl Entropy,
) -> Result<TenantSealed, Error> {
    if plaintext.len() > MAX_PLAINTEXT_LEN {
        return Err(SealedFieldError::TooLarge.into());
    }
    let header = [VERSION, SUITE_X25519_SHA256_AES256GCM, content.to_byte()];
    let mut rng = SeedRng {
        seed: Zeroizing::new([0u8; KEY_LEN]),
        used: 0,
        overdrawn: false,
    };
    entropy.fill(rng.seed.as_mut())?;
    let (enc, ciphertext) = hpke::single_shot_seal_with_rng::<AesGcm256, HkdfSha256, Suite>(
        &OpModeS::Base,
        &public_key.0,
        &info(&header, ctx),
        plaintext,
        &[],
        &mut rng,
    )
    .map_err(|_| TenantSealError::KeyInvalid)?;
    if rng.overdrawn {
        return Err(Error::Entropy);
    }
    let mut bytes = Vec::with_capacity(TENANT_SEALED_OVERHEAD + plaintext.len());
    bytes.extend_from_slice(&header);
    bytes.extend_from_slice(&enc.to_bytes());
    bytes.extend_from_slice(&ciphertext);
    Ok(TenantSealed { bytes })
}

/// Opens a value sealed to this tenant for `ctx`. Wrong key, wrong context or any modified
/// byte: the single opaque `ERR_TENANT_SEALED_AUTH`.
pub fn open_from_tenant(
    secret_key: &TenantSecretKey,
    ctx: &FieldContext,
    sealed: &TenantSealed,
) -> Result<Vec<u8>, Error> {
    let (header, rest) = sealed.bytes.split_at(HEADER_LEN);
    let (enc, ciphertext) = rest.split_at(ENC_LEN);
    let enc = <Suite as Kem>::EncappedKey::from_bytes(enc).map_err(|_| TenantSealError::Auth)?;
    hpke::single_shot_open::<AesGcm256, HkdfSha256, Suite>(
        &OpModeR::Base,
        &secret_key.secret,
        &enc,
        &info(header, ctx),
        ciphertext,
        &[],
    )
    .map_err(|_| TenantSealError::Auth.into())
}

impl Keyring {
    /// Opens a value sealed to the tenant and seals it under this keyring for storage, with
    /// the same context and content type (and the subject's key if `ctx` names a subject).
    pub fn seal_from_tenant(
        &self,
        secret_key: &TenantSecretKey,
        ctx: &FieldContext,
        sealed: &TenantSealed,
        entropy: &mut impl Entropy,
    ) -> Result<SealedField, Error> {
        let plain = Zeroizing::new(open_from_tenant(secret_key, ctx, sealed)?);
        self.seal_with(ctx, &plain, sealed.content_type(), entropy)
    }
}

#[cfg(test)]
#[path = "tenant_tests.rs"]
mod tests;
