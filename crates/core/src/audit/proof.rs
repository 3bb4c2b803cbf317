//! Proof documents: that one record is in a checkpointed log (inclusion), and that one
//! checkpoint's log is a prefix of another's (consistency). Both are self-contained JSON and
//! verify with the public key alone.

use serde::{Deserialize, Serialize};

use super::checkpoint::Checkpoint;
use super::hash::AuditHash;
use super::keys::AuditVerifyingKey;
use super::merkle;
use super::record::AuditRecord;
use super::verify::VerifiedLog;
use crate::error::AuditError;

/// The `kind` of an inclusion proof document.
pub const INCLUSION_PROOF_KIND: &str = "crmguard.audit-inclusion-proof";
/// The `kind` of a consistency proof document.
pub const CONSISTENCY_PROOF_KIND: &str = "crmguard.audit-consistency-proof";

/// Proof that `record` is leaf `record.seq` of the tree signed in `checkpoint`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InclusionProof {
    /// The RFC 9162 audit path, leaf to root.
    pub audit_path: Vec<AuditHash>,
    /// The signed checkpoint the proof leads to.
    pub checkpoint: Checkpoint,
    /// Always [`INCLUSION_PROOF_KIND`].
    pub kind: String,
    /// The record (its `seq` is the leaf index).
    pub record: AuditRecord,
}

/// Proof that the log signed in `old` is a prefix of the log signed in `new`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyProof {
    /// The RFC 9162 consistency path.
    pub consistency_path: Vec<AuditHash>,
    /// Always [`CONSISTENCY_PROOF_KIND`].
    pub kind: String,
    /// The newer checkpoint.
    pub new: Checkpoint,
    /// The older checkpoint.
    pub old: Checkpoint,
}

fn proof_err(s: &str) -> AuditError {
    AuditError::Proof(s.to_owned())
}

impl InclusionProof {
    /// The proof for record `seq` of a verified log, against `checkpoint` (which must be one
    /// of its checkpoints or cover a prefix of it).
    pub fn build(
        log: &VerifiedLog,
        record: AuditRecord,
        checkpoint: Checkpoint,
    ) -> Result<Self, AuditError> {
        if record.seq >= checkpoint.size {
            return Err(proof_err("the checkpoint does not cover this record"));
        }
        let leaves = log
            .leaves(checkpoint.size)
            .ok_or_else(|| proof_err("the checkpoint covers more records than the log holds"))?;
        let audit_path = merkle::inclusion_proof(&leaves, record.seq)
            .ok_or_else(|| proof_err("record outside the tree"))?;
        let proof = Self {
            audit_path,
            checkpoint,
            kind: INCLUSION_PROOF_KIND.to_owned(),
            record,
        };
        Ok(proof)
    }

    /// The proof for `record` against `checkpoint`, with the audit path from `roots` (a
    /// source of the log's subtree roots, such as an index that does not hold every leaf).
    /// The record and checkpoint are taken as they are: verify the proof before handing it on.
    pub fn build_from<R>(
        roots: &mut R,
        record: AuditRecord,
        checkpoint: Checkpoint,
    ) -> Result<Self, R::Error>
    where
        R: merkle::SubtreeRoots + ?Sized,
        R::Error: From<AuditError>,
    {
        if record.seq >= checkpoint.size {
            return Err(proof_err("the checkpoint does not cover this record").into());
        }
        let audit_path = merkle::inclusion_path(roots, checkpoint.size, record.seq)?
            .ok_or_else(|| proof_err("record outside the tree"))?;
        Ok(Self {
            audit_path,
            checkpoint,
            kind: INCLUSION_PROOF_KIND.to_owned(),
            record,
        })
    }

    /// Verifies: the checkpoint's signature under one of `keys`, the record's hash over its
    /// content, and the audit path from the record's leaf to the checkpoint's root.
    pub fn verify(&self, keys: &[AuditVerifyingKey]) -> Result<(), AuditError> {
        if self.kind != INCLUSION_PROOF_KIND {
            return Err(proof_err("not an inclusion proof"));
        }
        self.checkpoint.verify_signature(keys)?;
        if self.record.metadata.log_name != self.checkpoint.log_id {
            return Err(proof_err(
                "the record and the checkpoint name different logs",
            ));
        }
        if self.record.compute_hash() != self.record.hash {
            return Err(proof_err("the record's hash does not match its content"));
        }
        let leaf = merkle::leaf_hash(&self.record.hash);
        if merkle::verify_inclusion(
            &leaf,
            self.record.seq,
            self.checkpoint.size,
            &self.audit_path,
            &self.checkpoint.root_hash,
        ) {
            Ok(())
        } else {
            Err(proof_err(
                "the audit path does not lead from the record to the checkpoint's root",
            ))
        }
    }
}

impl ConsistencyProof {
    /// The proof that `old` (a checkpoint of this log) is a prefix of `new`.
    pub fn build(log: &VerifiedLog, old: Checkpoint, new: Checkpoint) -> Result<Self, AuditError> {
        let leaves = log.leaves(new.size).ok_or_else(|| {
            proof_err("the new checkpoint covers more records than the log holds")
        })?;
        let consistency_path = merkle::consistency_proof(&leaves, old.size)
            .ok_or_else(|| proof_err("the old checkpoint is not older than the new one"))?;
        Ok(Self {
            consistency_path,
            kind: CONSISTENCY_PROOF_KIND.to_owned(),
            new,
            old,
        })
    }

    /// The proof that `old` is a prefix of `new`, with the path from `roots` (see
    /// [`InclusionProof::build_from`]).
    pub fn build_from<R>(roots: &mut R, old: Checkpoint, new: Checkpoint) -> Result<Self, R::Error>
    where
        R: merkle::SubtreeRoots + ?Sized,
        R::Error: From<AuditError>,
    {
        let consistency_path = merkle::consistency_path(roots, old.size, new.size)?
            .ok_or_else(|| proof_err("the old checkpoint is not older than the new one"))?;
        Ok(Self {
            consistency_path,
            kind: CONSISTENCY_PROOF_KIND.to_owned(),
            new,
            old,
        })
    }

    /// Verifies both signatures, that both checkpoints name the same log, and the RFC 9162
    /// consistency path between their roots.
    pub fn verify(&self, keys: &[AuditVerifyingKey]) -> Result<(), AuditError> {
        if self.kind != CONSISTENCY_PROOF_KIND {
            return Err(proof_err("not a consistency proof"));
        }
        self.old.verify_signature(keys)?;
        self.new.verify_signature(keys)?;
        if self.old.log_id != self.new.log_id {
            return Err(proof_err("the checkpoints name different logs"));
        }
        if merkle::verify_consistency(
            self.old.size,
            self.new.size,
            &self.old.root_hash,
            &self.new.root_hash,
            &self.consistency_path,
        ) {
            Ok(())
        } else {
            Err(proof_err(
                "the old checkpoint's log is not a prefix of the new one's",
            ))
        }
    }
}

/// Parses an inclusion or consistency proof document (JSON).
pub fn parse_proof(text: &str) -> Result<ProofDocument, AuditError> {
    let v: serde_json::Value =
        serde_json::from_str(text).map_err(|_| proof_err("not a JSON proof document"))?;
    let kind = v.get("kind").and_then(|k| k.as_str()).unwrap_or_default();
    match kind {
        INCLUSION_PROOF_KIND => serde_json::from_value(v)
            .map(|p| ProofDocument::Inclusion(Box::new(p)))
            .map_err(|_| proof_err("malformed inclusion proof")),
        CONSISTENCY_PROOF_KIND => serde_json::from_value(v)
            .map(|p| ProofDocument::Consistency(Box::new(p)))
            .map_err(|_| proof_err("malformed consistency proof")),
        _ => Err(proof_err("unknown proof kind")),
    }
}

/// A proof document of either kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProofDocument {
    /// An inclusion proof.
    Inclusion(Box<InclusionProof>),
    /// A consistency proof.
    Consistency(Box<ConsistencyProof>),
}

impl ProofDocument {
    /// Verifies the proof.
    pub fn verify(&self, keys: &[AuditVerifyingKey]) -> Result<(), AuditError> {
        match self {
            ProofDocument::Inclusion(p) => p.verify(keys),
            ProofDocument::Consistency(p) => p.verify(keys),
        }
    }
}
