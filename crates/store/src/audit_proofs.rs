//! Proofs from an open log without reading all of it. The writer keeps, for the durable log, the
//! Merkle root of every complete block of [`BLOCK`] records, where each block starts in the
//! log's files, the leaf hashes of the last (incomplete) block, and every checkpoint: 40 bytes
//! per block plus the checkpoints, not a hash per record. An RFC 9162 proof then needs at
//! most two blocks' records from disk (the one holding the record or the old size, and the
//! one at the tree's right edge); every other subtree root it needs is a block root or a
//! combination of them.
//!
//! A block read back from disk must hash to the root the writer recorded for it, the record
//! given out must match its hash, and every proof is verified with the log's own keys before
//! it is returned: a file changed after it was written yields an error, never a proof built
//! from the change.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Seek};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crmguard_core::merkle::{SubtreeRoots, leaf_hash, node_hash, root_of, split};
use crmguard_core::{
    AuditError, AuditHash, AuditRecord, AuditVerifyingKey, Checkpoint, ConsistencyProof,
    InclusionProof,
};

use crate::audit_log::{AuditLogError, io_err, log_files};

/// Records per block.
pub const BLOCK: u64 = 1024;

/// The writer's index of its log, and (cloned) a consistent view of it for building proofs
/// off the writer's thread. Cloning shares the block lists.
#[derive(Clone, Debug)]
pub struct ProofIndex {
    path: PathBuf,
    /// Records covered.
    size: u64,
    /// The Merkle root of each complete block.
    block_roots: Arc<Vec<AuditHash>>,
    /// Where each block's first record line starts, counted across the log's files in order
    /// (rotated segments, then the active file: renaming the active file into a segment keeps
    /// every offset).
    block_starts: Arc<Vec<u64>>,
    /// The leaf hashes of the last, incomplete block.
    tail: Vec<AuditHash>,
    /// Every checkpoint, in order.
    checkpoints: Arc<Vec<Checkpoint>>,
    /// The keys the log's checkpoints verify with (the writer's, and those it trusts).
    keys: Arc<Vec<AuditVerifyingKey>>,
}

impl ProofIndex {
    pub(crate) fn new(path: &Path, keys: Vec<AuditVerifyingKey>) -> Self {
        Self {
            keys: Arc::new(keys),
            path: path.to_path_buf(),
            size: 0,
            block_roots: Arc::default(),
            block_starts: Arc::default(),
            tail: Vec::new(),
            checkpoints: Arc::default(),
        }
    }

    /// Record `self.size()`, whose line starts at `offset`, with hash `hash`.
    pub(crate) fn push_record(&mut self, offset: u64, hash: &AuditHash) {
        if self.size.is_multiple_of(BLOCK) {
            Arc::make_mut(&mut self.block_starts).push(offset);
        }
        self.tail.push(leaf_hash(hash));
        self.size += 1;
        if self.tail.len() as u64 == BLOCK {
            Arc::make_mut(&mut self.block_roots).push(root_of(&self.tail));
            self.tail.clear();
        }
    }

    pub(crate) fn push_checkpoint(&mut self, checkpoint: Checkpoint) {
        Arc::make_mut(&mut self.checkpoints).push(checkpoint);
    }

    /// Records covered.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The latest checkpoint.
    pub fn last_checkpoint(&self) -> Option<&Checkpoint> {
        self.checkpoints.last()
    }

    /// The checkpoint over the first `size` records, if one was signed.
    pub fn checkpoint_of_size(&self, size: u64) -> Option<&Checkpoint> {
        self.checkpoints
            .binary_search_by_key(&size, |c| c.size)
            .ok()
            .map(|i| &self.checkpoints[i])
    }

    /// Record `seq` read from the log (`None` beyond the index), checked against the index.
    pub fn record(&self, seq: u64) -> Result<Option<AuditRecord>, AuditLogError> {
        if seq >= self.size {
            return Ok(None);
        }
        let block = seq / BLOCK;
        let records = self.read_block(block)?;
        let at = (seq % BLOCK) as usize;
        let rec = records
            .into_iter()
            .nth(at)
            .ok_or_else(|| changed(format!("record {seq} is missing")))?;
        if rec.compute_hash() != rec.hash {
            return Err(changed(format!("record {seq} does not match its hash")));
        }
        Ok(Some(rec))
    }

    /// The inclusion proof of `record` (read with [`record`](Self::record)) against
    /// `checkpoint` (one of this index's), verified with the log's keys.
    pub fn inclusion(
        &self,
        record: AuditRecord,
        checkpoint: Checkpoint,
    ) -> Result<InclusionProof, AuditLogError> {
        self.covered(&checkpoint)?;
        let proof = InclusionProof::build_from(&mut Roots::new(self), record, checkpoint)?;
        proof.verify(&self.keys)?;
        Ok(proof)
    }

    /// The consistency proof from `old` to `new` (both this index's checkpoints), verified
    /// with the log's keys.
    pub fn consistency(
        &self,
        old: Checkpoint,
        new: Checkpoint,
    ) -> Result<ConsistencyProof, AuditLogError> {
        self.covered(&new)?;
        let proof = ConsistencyProof::build_from(&mut Roots::new(self), old, new)?;
        proof.verify(&self.keys)?;
        Ok(proof)
    }

    fn covered(&self, c: &Checkpoint) -> Result<(), AuditLogError> {
        if c.size > self.size {
            return Err(AuditError::Proof(
                "the checkpoint covers more records than the log holds".to_owned(),
            )
            .into());
        }
        Ok(())
    }

    /// The records of `block` (all of a complete block; those up to `size` of the last one),
    /// checked against the block's root or the tail's leaves.
    fn read_block(&self, block: u64) -> Result<Vec<AuditRecord>, AuditLogError> {
        let first = block * BLOCK;
        let count = (self.size - first).min(BLOCK);
        let start = *self
            .block_starts
            .get(block as usize)
            .ok_or_else(|| changed(format!("block {block} is not indexed")))?;
        let records = read_records(&self.path, start, first, count)?;
        let leaves: Vec<AuditHash> = records.iter().map(|r| leaf_hash(&r.hash)).collect();
        let good = match self.block_roots.get(block as usize) {
            Some(root) => root_of(&leaves) == *root,
            None => self.tail.get(..leaves.len()) == Some(leaves.as_slice()),
        };
        if !good {
            return Err(changed(format!(
                "the records of block {block} (from seq {first}) are not the ones written"
            )));
        }
        Ok(records)
    }
}

fn changed(what: String) -> AuditLogError {
    AuditError::Proof(format!(
        "the log's files changed after they were written: {what}"
    ))
    .into()
}

/// The index as a source of subtree roots for one proof; blocks read from disk are kept for
/// the rest of the proof.
struct Roots<'a> {
    index: &'a ProofIndex,
    leaves: BTreeMap<u64, Vec<AuditHash>>,
}

impl<'a> Roots<'a> {
    fn new(index: &'a ProofIndex) -> Self {
        Self {
            index,
            leaves: BTreeMap::new(),
        }
    }

    fn block_leaves(&mut self, block: u64) -> Result<&[AuditHash], AuditLogError> {
        if block as usize == self.index.block_roots.len() {
            return Ok(&self.index.tail);
        }
        if !self.leaves.contains_key(&block) {
            let leaves = self
                .index
                .read_block(block)?
                .iter()
                .map(|r| leaf_hash(&r.hash))
                .collect();
            self.leaves.insert(block, leaves);
        }
        Ok(&self.leaves[&block])
    }
}

impl SubtreeRoots for Roots<'_> {
    type Error = AuditLogError;

    fn root(&mut self, start: u64, len: u64) -> Result<AuditHash, AuditLogError> {
        let end = start + len;
        if len == 0 || end > self.index.size {
            return Err(AuditError::Proof("a subtree outside the log".to_owned()).into());
        }
        let complete = self.index.block_roots.len() as u64 * BLOCK;
        if len >= BLOCK && len.is_power_of_two() && start.is_multiple_of(len) && end <= complete {
            // A perfect subtree of whole, complete blocks: from their roots alone.
            let (a, b) = ((start / BLOCK) as usize, (end / BLOCK) as usize);
            return Ok(root_of(&self.index.block_roots[a..b]));
        }
        if start / BLOCK == (end - 1) / BLOCK {
            let at = (start % BLOCK) as usize;
            let leaves = self.block_leaves(start / BLOCK)?;
            let range = leaves
                .get(at..at + len as usize)
                .ok_or_else(|| changed(format!("leaves {start}..{end} are missing")))?;
            return Ok(root_of(range));
        }
        let k = split(len);
        let left = self.root(start, k)?;
        let right = self.root(start + k, len - k)?;
        Ok(node_hash(&left, &right))
    }
}

/// `count` records from seq `first` on, reading the log's lines from `offset` (counted
/// across its files in order), checkpoint lines skipped.
fn read_records(
    path: &Path,
    offset: u64,
    first: u64,
    count: u64,
) -> Result<Vec<AuditRecord>, AuditLogError> {
    let mut out = Vec::with_capacity(count as usize);
    let mut skip = offset;
    let mut line = String::new();
    for file in log_files(path)? {
        if out.len() as u64 == count {
            break;
        }
        let mut f = File::open(&file).map_err(io_err(file.display()))?;
        let len = f.metadata().map_err(io_err(file.display()))?.len();
        if skip >= len {
            skip -= len;
            continue;
        }
        f.seek(io::SeekFrom::Start(skip))
            .map_err(io_err(file.display()))?;
        skip = 0;
        let mut reader = BufReader::with_capacity(1 << 16, f);
        while (out.len() as u64) < count {
            line.clear();
            if reader
                .read_line(&mut line)
                .map_err(io_err(file.display()))?
                == 0
            {
                break;
            }
            let text = line.strip_suffix('\n').unwrap_or(&line);
            if crmguard_core::is_checkpoint_line(text) {
                continue;
            }
            let seq = first + out.len() as u64;
            let rec = AuditRecord::parse_line(text, seq)?;
            if rec.seq != seq {
                return Err(changed(format!("found seq {} where {seq} was", rec.seq)));
            }
            out.push(rec);
        }
    }
    if (out.len() as u64) < count {
        return Err(changed(format!(
            "records {first}..{} are missing",
            first + count
        )));
    }
    Ok(out)
}
