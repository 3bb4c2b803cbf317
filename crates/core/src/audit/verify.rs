//! The verifier: replays a log line by line and reports the first place where it differs
//! from a valid log.

use super::checkpoint::Checkpoint;
use super::hash::AuditHash;
use super::keys::AuditVerifyingKey;
use super::merkle::{self, MerkleFrontier, leaf_hash};
use super::record::{AuditRecord, genesis_hash};
use crate::error::AuditError;

/// What a verifier knows from outside the log, against truncation of its tail together with
/// its last checkpoints: a checkpoint kept elsewhere, and/or the least size the log must have.
#[derive(Clone, Debug, Default)]
pub struct Anchor {
    /// A signed checkpoint of this log kept outside it (e.g. the last one `audit append`
    /// printed, stored in a SIEM). The log must contain it as a prefix.
    pub checkpoint: Option<Checkpoint>,
    /// The log must hold at least this many records.
    pub min_size: Option<u64>,
}

/// A log that verified: its id, size, head, checkpoints and leaves.
#[derive(Clone, Debug)]
pub struct VerifiedLog {
    /// The log id (from its records; `None` when the log is empty).
    pub log_id: String,
    /// The number of records.
    pub size: u64,
    /// The last record's hash (the genesis value for an empty log).
    pub head_hash: AuditHash,
    /// The number of checkpoints in the log.
    pub checkpoints: u64,
    /// The last checkpoint in the log.
    pub last_checkpoint: Option<Checkpoint>,
    /// The number of records after the last checkpoint (not yet covered by one).
    pub uncovered: u64,
    /// Every record's hash, in order.
    pub record_hashes: Vec<AuditHash>,
    pub(crate) frontier: MerkleFrontier,
}

impl VerifiedLog {
    /// The Merkle root over the first `size` records.
    pub fn root_at(&self, size: u64) -> Option<AuditHash> {
        let n = usize::try_from(size).ok()?;
        let hashes = self.record_hashes.get(..n)?;
        let leaves: Vec<AuditHash> = hashes.iter().map(leaf_hash).collect();
        Some(merkle::root_of(&leaves))
    }

    /// The Merkle leaves (leaf hashes) of the first `size` records.
    pub fn leaves(&self, size: u64) -> Option<Vec<AuditHash>> {
        let n = usize::try_from(size).ok()?;
        Some(self.record_hashes.get(..n)?.iter().map(leaf_hash).collect())
    }
}

/// Replays a log. Feed it every line (without the newline) in order with
/// [`push_line`](Self::push_line), then call [`finish`](Self::finish).
#[derive(Debug)]
pub struct ChainVerifier {
    keys: Vec<AuditVerifyingKey>,
    expected_log_id: Option<String>,
    log_id: Option<String>,
    head: AuditHash,
    hashes: Vec<AuditHash>,
    frontier: MerkleFrontier,
    checkpoints: u64,
    last_checkpoint: Option<Checkpoint>,
}

impl ChainVerifier {
    /// A verifier trusting checkpoints signed by any of `keys`.
    pub fn new(keys: Vec<AuditVerifyingKey>) -> Self {
        Self {
            keys,
            expected_log_id: None,
            log_id: None,
            head: AuditHash([0; 32]),
            hashes: Vec::new(),
            frontier: MerkleFrontier::default(),
            checkpoints: 0,
            last_checkpoint: None,
        }
    }

    /// Requires the log to be named `log_id`.
    pub fn expect_log_id(mut self, log_id: &str) -> Self {
        self.expected_log_id = Some(log_id.to_owned());
        self
    }

    /// The number of records so far.
    pub fn size(&self) -> u64 {
        self.frontier.size()
    }

    /// Checks a whole log's text, the one way every runtime reads one (the host's file
    /// reader applies the same rule line by line): each line ends in LF, with no CR and no
    /// blank line (`ERR_AUDIT_MALFORMED`); a last line without its LF is a torn write
    /// (`ERR_AUDIT_TORN`). The empty text is the empty log.
    pub fn push_log(&mut self, text: &str) -> Result<(), AuditError> {
        let mut rest = text;
        while !rest.is_empty() {
            let Some(end) = rest.find('\n') else {
                return Err(AuditError::TornTail {
                    seq: self.size(),
                    bytes: rest.len() as u64,
                });
            };
            let line = &rest[..end];
            if line.is_empty() || line.contains('\r') {
                return Err(AuditError::Malformed {
                    seq: self.size(),
                    reason: "a blank line or a CR: log lines end in LF only".to_owned(),
                });
            }
            self.push_line(line)?;
            rest = &rest[end + 1..];
        }
        Ok(())
    }

    /// Checks the next line: a record (no `kind` member) or a checkpoint
    /// (`"kind":"crmguard.checkpoint"`).
    pub fn push_line(&mut self, line: &str) -> Result<(), AuditError> {
        let seq = self.size();
        if is_checkpoint_line(line) {
            let c = Checkpoint::parse_line(line, seq)?;
            self.push_checkpoint(c)
        } else {
            let (rec, computed) = AuditRecord::parse_line_and_hash(line, seq)?;
            self.check_record(&rec, computed)
        }
    }

    /// The hash of the last record pushed.
    pub fn head(&self) -> AuditHash {
        self.head
    }

    /// The last checkpoint pushed.
    pub fn last_checkpoint(&self) -> Option<&Checkpoint> {
        self.last_checkpoint.as_ref()
    }

    /// Checks the next record.
    pub fn push_record(&mut self, rec: &AuditRecord) -> Result<(), AuditError> {
        self.check_record(rec, rec.compute_hash())
    }

    fn check_record(&mut self, rec: &AuditRecord, computed: AuditHash) -> Result<(), AuditError> {
        let seq = self.size();
        if rec.seq > seq {
            return Err(AuditError::Seq {
                seq,
                reason: format!(
                    "found seq {} where seq {seq} belongs (records deleted or moved)",
                    rec.seq
                ),
            });
        }
        if rec.seq < seq {
            // A record with an earlier seq: a copy, a competing record (inserted or
            // replacing one), or one moved here from earlier.
            let s = rec.seq;
            let idx = usize::try_from(s).unwrap_or(usize::MAX);
            let prev = match s {
                0 => self.log_id.as_deref().map(genesis_hash),
                _ => self.hashes.get(idx - 1).copied(),
            };
            return Err(if self.hashes.get(idx) == Some(&rec.hash) {
                AuditError::Seq {
                    seq: s,
                    reason: format!("seq {s} appears twice (a duplicated record)"),
                }
            } else if prev == Some(rec.prev_hash) {
                AuditError::Seq {
                    seq: s,
                    reason: format!(
                        "two different records claim seq {s} (a record was inserted or replaced)"
                    ),
                }
            } else {
                AuditError::Seq {
                    seq,
                    reason: format!("found seq {s} where seq {seq} belongs (a moved record)"),
                }
            });
        }
        let log_id = &rec.metadata.log_name;
        match &self.log_id {
            None => {
                if self.expected_log_id.as_ref().is_some_and(|e| e != log_id) {
                    return Err(AuditError::Hash {
                        seq,
                        reason: "record belongs to another log (log id)".to_owned(),
                    });
                }
                super::chain::check_log_id(log_id).map_err(|_| AuditError::Malformed {
                    seq,
                    reason: "invalid log id".to_owned(),
                })?;
                self.head = genesis_hash(log_id);
                self.log_id = Some(log_id.clone());
            }
            Some(id) if id != log_id => {
                return Err(AuditError::Hash {
                    seq,
                    reason: "record belongs to another log (log id)".to_owned(),
                });
            }
            Some(_) => {}
        }
        if computed != rec.hash {
            return Err(AuditError::Hash {
                seq,
                reason: "record hash does not match its content (record modified)".to_owned(),
            });
        }
        if rec.prev_hash != self.head {
            let reason = if seq == 0 {
                "prev_hash is not the genesis value of this log".to_owned()
            } else {
                format!(
                    "prev_hash does not match the hash of seq {} (a record before was changed, removed or inserted)",
                    seq - 1
                )
            };
            return Err(AuditError::Hash { seq, reason });
        }
        self.head = rec.hash;
        self.hashes.push(rec.hash);
        self.frontier.push(leaf_hash(&rec.hash));
        Ok(())
    }

    /// Checks a checkpoint found after the records so far.
    pub fn push_checkpoint(&mut self, c: Checkpoint) -> Result<(), AuditError> {
        let size = self.size();
        c.verify_signature(&self.keys)?;
        let last = c.size.saturating_sub(1);
        if self.log_id.as_deref() != Some(c.log_id.as_str()) && size > 0 {
            return Err(AuditError::Checkpoint {
                seq: last,
                reason: "checkpoint names another log".to_owned(),
            });
        }
        if c.size > size {
            return Err(AuditError::Truncated {
                seq: size,
                reason: format!(
                    "a signed checkpoint covers {} records but only {size} precede it",
                    c.size
                ),
            });
        }
        if c.size < size {
            return Err(AuditError::Checkpoint {
                seq: last,
                reason: format!(
                    "checkpoint of size {} found after {size} records (moved or duplicated)",
                    c.size
                ),
            });
        }
        if c.head_hash != self.head || c.root_hash != self.frontier.root() {
            return Err(AuditError::Checkpoint {
                seq: last,
                reason:
                    "signed checkpoint does not match the records it covers (records rewritten)"
                        .to_owned(),
            });
        }
        // Times are signed but need not increase: a wall clock may step back.
        self.checkpoints += 1;
        self.last_checkpoint = Some(c);
        Ok(())
    }

    /// Ends the log: checks it against `anchor` and returns what was verified.
    pub fn finish(self, anchor: &Anchor) -> Result<VerifiedLog, AuditError> {
        let size = self.size();
        let uncovered = size - self.last_checkpoint.as_ref().map_or(0, |c| c.size);
        let log = VerifiedLog {
            log_id: self.log_id.or(self.expected_log_id).unwrap_or_default(),
            size,
            head_hash: self.head,
            checkpoints: self.checkpoints,
            last_checkpoint: self.last_checkpoint,
            uncovered,
            record_hashes: self.hashes,
            frontier: self.frontier,
        };
        if let Some(min) = anchor.min_size.filter(|&m| size < m) {
            return Err(AuditError::Truncated {
                seq: size,
                reason: format!("the log ends at {size} records but at least {min} are expected"),
            });
        }
        if let Some(c) = &anchor.checkpoint {
            c.verify_signature(&self.keys)?;
            if size > 0 && c.log_id != log.log_id {
                return Err(AuditError::Checkpoint {
                    seq: c.size - 1,
                    reason: "anchor checkpoint names another log".to_owned(),
                });
            }
            if c.size > size {
                return Err(AuditError::Truncated {
                    seq: size,
                    reason: format!(
                        "the log ends at {size} records but the anchor checkpoint covers {}",
                        c.size
                    ),
                });
            }
            let idx = usize::try_from(c.size - 1).unwrap_or(usize::MAX);
            if log.record_hashes.get(idx) != Some(&c.head_hash)
                || log.root_at(c.size) != Some(c.root_hash)
            {
                return Err(AuditError::Checkpoint {
                    seq: c.size - 1,
                    reason: "the anchor checkpoint does not match the records it covers (records rewritten)"
                        .to_owned(),
                });
            }
        }
        Ok(log)
    }
}

/// Whether a log line is a checkpoint. In canonical form a checkpoint's first member is
/// `head_hash` and a record's is `activity_id`; a line that is neither fails as a record.
/// Whether a log line is a checkpoint (else it is a record): checkpoints are the lines that
/// start with their first member in canonical order, `head_hash`.
pub fn is_checkpoint_line(line: &str) -> bool {
    line.starts_with("{\"head_hash\":")
}
