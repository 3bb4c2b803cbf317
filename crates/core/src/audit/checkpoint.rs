//! Signed checkpoints: a log's size, head hash and Merkle root at a moment, signed with
//! Ed25519.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};

use super::hash::AuditHash;
use super::keys::{AuditSigningKey, AuditVerifyingKey};
use super::record::{MAX_SAFE_INTEGER, short_error};
use crate::error::AuditError;

/// Domain separation for checkpoint signatures: the signed message is
/// `CHECKPOINT_DOMAIN || JCS(checkpoint without "signature")`.
pub const CHECKPOINT_DOMAIN: &[u8] = b"crmguard/audit/checkpoint/v1\0";
/// The `kind` member of every checkpoint line; records have no `kind` member.
pub const CHECKPOINT_KIND: &str = "crmguard.checkpoint";

/// A signed checkpoint. Members in JCS order: `head_hash`, `key_id`, `kind`, `log_id`,
/// `root_hash`, `signature`, `size`, `time`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    /// The `hash` of record `size - 1`.
    pub head_hash: AuditHash,
    /// The id of the signing key.
    pub key_id: String,
    /// Always [`CHECKPOINT_KIND`].
    pub kind: String,
    /// The log id.
    pub log_id: String,
    /// The RFC 9162 Merkle Tree Hash over the leaves of records `0..size`.
    pub root_hash: AuditHash,
    /// Ed25519 signature (base64, 64 bytes) over [`CHECKPOINT_DOMAIN`] and the canonical
    /// checkpoint without this member.
    pub signature: String,
    /// The number of records covered (the last covered seq is `size - 1`); at least 1.
    pub size: u64,
    /// Milliseconds since the Unix epoch, as given by the writer.
    pub time: u64,
}

#[derive(Serialize)]
struct CheckpointBody<'a> {
    head_hash: &'a AuditHash,
    key_id: &'a str,
    kind: &'a str,
    log_id: &'a str,
    root_hash: &'a AuditHash,
    size: u64,
    time: u64,
}

impl Checkpoint {
    fn body(&self) -> CheckpointBody<'_> {
        CheckpointBody {
            head_hash: &self.head_hash,
            key_id: &self.key_id,
            kind: &self.kind,
            log_id: &self.log_id,
            root_hash: &self.root_hash,
            size: self.size,
            time: self.time,
        }
    }

    /// The bytes the signature covers: [`CHECKPOINT_DOMAIN`] then the canonical (JCS)
    /// checkpoint without `signature`.
    pub fn signed_message(&self) -> Vec<u8> {
        let mut m = CHECKPOINT_DOMAIN.to_vec();
        // Serialising plain structs of strings and integers into a Vec cannot fail.
        serde_json::to_writer(&mut m, &self.body()).expect("checkpoint serialises");
        m
    }

    /// Builds and signs a checkpoint.
    pub fn sign(
        key: &AuditSigningKey,
        log_id: &str,
        size: u64,
        head_hash: AuditHash,
        root_hash: AuditHash,
        time: u64,
    ) -> Self {
        let mut c = Self {
            head_hash,
            key_id: key.key_id(),
            kind: CHECKPOINT_KIND.to_owned(),
            log_id: log_id.to_owned(),
            root_hash,
            signature: String::new(),
            size,
            time,
        };
        c.signature = B64.encode(key.sign(&c.signed_message()));
        c
    }

    /// Checks the signature with whichever of `keys` has the checkpoint's `key_id`.
    pub fn verify_signature(&self, keys: &[AuditVerifyingKey]) -> Result<(), AuditError> {
        let fail = |reason: &str| AuditError::Signature {
            seq: self.size,
            reason: reason.to_owned(),
        };
        let key = keys
            .iter()
            .find(|k| k.key_id() == self.key_id)
            .ok_or_else(|| fail("checkpoint signed by a key that is not trusted"))?;
        let sig: [u8; 64] = B64
            .decode(&self.signature)
            .ok()
            .and_then(|v| v.try_into().ok())
            .ok_or_else(|| fail("checkpoint signature is not 64 bytes of base64"))?;
        if key.verify(&self.signed_message(), &sig) {
            Ok(())
        } else {
            Err(fail("checkpoint signature does not verify"))
        }
    }

    /// The checkpoint's line in the log: its canonical (JCS) form, without newline.
    pub fn to_line(&self) -> String {
        // Serialising plain structs of strings and integers cannot fail.
        serde_json::to_string(self).expect("checkpoint serialises")
    }

    /// Parses a checkpoint (a log line, a head file or an anchor). Requires `kind`, a size of
    /// at least 1 and integers below 2^53; `at_seq` labels errors. Does not check the
    /// signature.
    pub fn parse(text: &str, at_seq: u64) -> Result<Self, AuditError> {
        let malformed = |reason: String| AuditError::Malformed {
            seq: at_seq,
            reason,
        };
        let c: Checkpoint = serde_json::from_str(text.trim_end())
            .map_err(|e| malformed(format!("not a checkpoint: {}", short_error(&e))))?;
        if c.kind != CHECKPOINT_KIND {
            return Err(malformed(
                "checkpoint kind is not crmguard.checkpoint".to_owned(),
            ));
        }
        if c.size == 0 || c.size > MAX_SAFE_INTEGER || c.time > MAX_SAFE_INTEGER {
            return Err(malformed("checkpoint size or time out of range".to_owned()));
        }
        Ok(c)
    }

    /// Parses a log line that is a checkpoint and requires its canonical form.
    pub(crate) fn parse_line(line: &str, at_seq: u64) -> Result<Self, AuditError> {
        let c = Self::parse(line, at_seq)?;
        if c.to_line() != line {
            return Err(AuditError::Malformed {
                seq: at_seq,
                reason: "checkpoint line is not in canonical (RFC 8785) form".to_owned(),
            });
        }
        Ok(c)
    }
}
