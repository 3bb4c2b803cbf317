//! Audit keys: the Ed25519 key that signs checkpoints (with the pseudonym key that keys the
//! hashes replacing actor and subject ids), and its public half.
//!
//! File forms (JSON, base64 with padding):
//! - signing: `{"alg":"Ed25519","key_id":..,"kind":"crmguard.audit-signing-key","pseudonym_key":..,"seed":..,"version":1}`
//! - verifying: `{"alg":"Ed25519","key_id":..,"kind":"crmguard.audit-verifying-key","public_key":..,"version":1}`
//!
//! `key_id` is the first 16 hex digits of SHA-256 over the 32-byte public key.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use core::fmt;
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::hash::sha256;
use crate::crypto::hmac_sha256;
use crate::error::AuditError;

const SIGNING_KIND: &str = "crmguard.audit-signing-key";
const VERIFYING_KIND: &str = "crmguard.audit-verifying-key";
/// Domain separation for pseudonyms: `HMAC-SHA256(pseudonym_key, PSEUDONYM_DOMAIN || id)`.
pub const PSEUDONYM_DOMAIN: &[u8] = b"crmguard/audit/pseudonym/v1\0";

/// The key for the keyed hashes that replace actor and data-subject ids in records.
/// Redacted `Debug`, wiped on drop, compared in constant time.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct PseudonymKey([u8; 32]);

impl PseudonymKey {
    /// Wraps 32 bytes of key material.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The pseudonym of `id`: `ps1:` followed by the first 16 bytes, in lowercase hex, of
    /// `HMAC-SHA256(key, "crmguard/audit/pseudonym/v1" || 0x00 || id)`. The same id always
    /// gives the same pseudonym under the same key, so records about one person still link.
    pub fn pseudonym(&self, id: &str) -> String {
        let mac = hmac_sha256(&self.0, &[PSEUDONYM_DOMAIN, id.as_bytes()]);
        format!("ps1:{}", hex::encode(&mac[..16]))
    }
}

impl fmt::Debug for PseudonymKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PseudonymKey(<redacted>)")
    }
}

impl PartialEq for PseudonymKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for PseudonymKey {}

/// The key that signs checkpoints, with its pseudonym key. Redacted `Debug`; the Ed25519
/// secret and the pseudonym key are wiped on drop.
#[derive(Clone)]
pub struct AuditSigningKey {
    signing: SigningKey,
    pseudonym: PseudonymKey,
}

impl fmt::Debug for AuditSigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AuditSigningKey(key_id={}, <redacted>)", self.key_id())
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SigningKeyFile {
    alg: String,
    key_id: String,
    kind: String,
    pseudonym_key: String,
    seed: String,
    version: u32,
}

impl Drop for SigningKeyFile {
    fn drop(&mut self) {
        self.seed.zeroize();
        self.pseudonym_key.zeroize();
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifyingKeyFile {
    alg: String,
    key_id: String,
    kind: String,
    public_key: String,
    version: u32,
}

fn key_err(s: &str) -> AuditError {
    AuditError::Key(s.to_owned())
}

fn decode32(s: &str, what: &str) -> Result<Zeroizing<[u8; 32]>, AuditError> {
    let v = Zeroizing::new(
        B64.decode(s)
            .map_err(|_| AuditError::Key(format!("{what} is not base64")))?,
    );
    let mut out = Zeroizing::new([0u8; 32]);
    if v.len() != 32 {
        return Err(AuditError::Key(format!("{what} must be 32 bytes")));
    }
    out.copy_from_slice(&v);
    Ok(out)
}

impl AuditSigningKey {
    /// A key from a 32-byte Ed25519 seed (RFC 8032 private key) and a 32-byte pseudonym key.
    /// Generate both with a CSPRNG (the host does, with the system's).
    pub fn from_seed(seed: &[u8; 32], pseudonym_key: [u8; 32]) -> Self {
        Self {
            signing: SigningKey::from_bytes(seed),
            pseudonym: PseudonymKey::from_bytes(pseudonym_key),
        }
    }

    /// The public half.
    pub fn verifying_key(&self) -> AuditVerifyingKey {
        AuditVerifyingKey::from_key(self.signing.verifying_key())
    }

    /// The key id (16 hex digits of SHA-256 over the public key).
    pub fn key_id(&self) -> String {
        key_id_of(&self.signing.verifying_key())
    }

    /// The pseudonym key.
    pub fn pseudonym_key(&self) -> &PseudonymKey {
        &self.pseudonym
    }

    /// An Ed25519 signature over `message`.
    pub(crate) fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.signing.sign(message).to_bytes()
    }

    /// The key's file form (holds secrets: write it readable by its owner only).
    pub fn to_json(&self) -> Zeroizing<String> {
        let seed = Zeroizing::new(self.signing.to_bytes());
        let file = SigningKeyFile {
            alg: "Ed25519".to_owned(),
            key_id: self.key_id(),
            kind: SIGNING_KIND.to_owned(),
            pseudonym_key: B64.encode(self.pseudonym.0),
            seed: B64.encode(*seed),
            version: 1,
        };
        // Serialising a struct of strings cannot fail.
        Zeroizing::new(serde_json::to_string_pretty(&file).expect("key file serialises") + "\n")
    }

    /// Parses the file form; checks that `key_id` matches the seed.
    pub fn from_json(text: &str) -> Result<Self, AuditError> {
        let file: SigningKeyFile = serde_json::from_str(text)
            .map_err(|_| key_err("not an audit signing key file (bad JSON or members)"))?;
        if file.kind != SIGNING_KIND || file.version != 1 || file.alg != "Ed25519" {
            return Err(key_err("not an Ed25519 audit signing key file, version 1"));
        }
        let seed = decode32(&file.seed, "seed")?;
        let pk = decode32(&file.pseudonym_key, "pseudonym_key")?;
        let key = Self::from_seed(&seed, *pk);
        if key.key_id() != file.key_id {
            return Err(key_err("key_id does not match the key"));
        }
        Ok(key)
    }
}

fn key_id_of(k: &VerifyingKey) -> String {
    hex::encode(&sha256(&[k.as_bytes()]).as_bytes()[..8])
}

/// The public key that verifies checkpoint signatures.
#[derive(Clone, PartialEq, Eq)]
pub struct AuditVerifyingKey {
    key: VerifyingKey,
    key_id: String,
}

impl fmt::Debug for AuditVerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AuditVerifyingKey({})", self.key_id)
    }
}

impl AuditVerifyingKey {
    fn from_key(key: VerifyingKey) -> Self {
        let key_id = key_id_of(&key);
        Self { key, key_id }
    }

    /// From the 32-byte Ed25519 public key; rejects non-canonical and small-order points.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, AuditError> {
        let key = VerifyingKey::from_bytes(bytes)
            .map_err(|_| key_err("not a valid Ed25519 public key"))?;
        if key.is_weak() {
            return Err(key_err("weak (small-order) Ed25519 public key"));
        }
        Ok(Self::from_key(key))
    }

    /// The 32 public key bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// The key id.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// Verifies an Ed25519 signature strictly (RFC 8032 with canonical `S`, no small-order
    /// keys or `R`).
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8; 64]) -> bool {
        let sig = ed25519_dalek::Signature::from_bytes(signature);
        self.key.verify_strict(message, &sig).is_ok()
    }

    /// The key's file form.
    pub fn to_json(&self) -> String {
        let file = VerifyingKeyFile {
            alg: "Ed25519".to_owned(),
            key_id: self.key_id.clone(),
            kind: VERIFYING_KIND.to_owned(),
            public_key: B64.encode(self.key.as_bytes()),
            version: 1,
        };
        // Serialising a struct of strings cannot fail.
        serde_json::to_string_pretty(&file).expect("key file serialises") + "\n"
    }

    /// Parses the file form; checks that `key_id` matches the key.
    pub fn from_json(text: &str) -> Result<Self, AuditError> {
        let file: VerifyingKeyFile = serde_json::from_str(text)
            .map_err(|_| key_err("not an audit verifying key file (bad JSON or members)"))?;
        if file.kind != VERIFYING_KIND || file.version != 1 || file.alg != "Ed25519" {
            return Err(key_err(
                "not an Ed25519 audit verifying key file, version 1",
            ));
        }
        let pk = decode32(&file.public_key, "public_key")?;
        let key = Self::from_bytes(&pk)?;
        if key.key_id != file.key_id {
            return Err(key_err("key_id does not match the key"));
        }
        Ok(key)
    }
}
