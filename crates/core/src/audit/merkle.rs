//! The Merkle tree over a log's records, as defined in RFC 9162 §2.1 (Certificate
//! Transparency 2.0): SHA-256, leaf hashes `SHA-256(0x00 || leaf)`, interior nodes
//! `SHA-256(0x01 || left || right)`, the tree split at the largest power of two smaller than
//! its size. A log's leaf `i` is the 32 raw bytes of the `hash` of the record with `seq = i`.
//!
//! Proof generation follows the recursive definitions of §2.1.3.1 (PATH) and §2.1.4.1
//! (SUBPROOF); verification follows the iterative algorithms of §2.1.3.2 and §2.1.4.2.

use super::hash::{AuditHash, sha256};

/// The hash of an empty tree: SHA-256 of the empty string.
pub fn empty_root() -> AuditHash {
    sha256(&[])
}

/// The leaf hash of a record hash: `SHA-256(0x00 || record_hash)`.
pub fn leaf_hash(record_hash: &AuditHash) -> AuditHash {
    sha256(&[&[0x00], record_hash.as_bytes()])
}

/// An interior node: `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &AuditHash, right: &AuditHash) -> AuditHash {
    sha256(&[&[0x01], left.as_bytes(), right.as_bytes()])
}

/// The largest power of two strictly smaller than `n` (`n >= 2`): where RFC 9162 splits a
/// tree of `n` leaves into its left and right subtrees.
pub fn split(n: u64) -> u64 {
    debug_assert!(n >= 2);
    let mut k = 1;
    while k << 1 < n {
        k <<= 1;
    }
    k
}

/// The Merkle Tree Hash (MTH) over leaf hashes.
pub fn root_of(leaves: &[AuditHash]) -> AuditHash {
    let mut frontier = MerkleFrontier::default();
    for l in leaves {
        frontier.push(*l);
    }
    frontier.root()
}

/// The right edge of a growing Merkle tree: the roots of its perfect subtrees, left to right.
/// Appending a leaf is O(log n) amortised; the root of the whole tree is O(log n).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MerkleFrontier {
    /// (height, subtree root), heights strictly decreasing.
    nodes: Vec<(u32, AuditHash)>,
    size: u64,
}

impl MerkleFrontier {
    /// Appends a leaf hash.
    pub fn push(&mut self, leaf: AuditHash) {
        let mut node = (0u32, leaf);
        while let Some(&(h, left)) = self.nodes.last() {
            if h != node.0 {
                break;
            }
            self.nodes.pop();
            node = (h + 1, node_hash(&left, &node.1));
        }
        self.nodes.push(node);
        self.size += 1;
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The Merkle Tree Hash of all leaves so far.
    pub fn root(&self) -> AuditHash {
        let mut it = self.nodes.iter().rev();
        let Some(&(_, mut acc)) = it.next() else {
            return empty_root();
        };
        for (_, left) in it {
            acc = node_hash(left, &acc);
        }
        acc
    }
}

/// Where a proof's subtree roots come from. Every range RFC 9162's proofs ask for is
/// `[start, start + len)` with `len >= 1` and `start` a multiple of the smallest power of two
/// not below `len` (the tree's own splits), so a source that keeps the roots of aligned
/// perfect subtrees answers most of them without reading leaves.
pub trait SubtreeRoots {
    /// Why a root could not be had (the leaves could not be read).
    type Error;
    /// The Merkle Tree Hash of leaves `start .. start + len`.
    fn root(&mut self, start: u64, len: u64) -> Result<AuditHash, Self::Error>;
}

/// Leaf hashes in memory as a [`SubtreeRoots`].
#[derive(Clone, Copy, Debug)]
pub struct Leaves<'a>(pub &'a [AuditHash]);

impl SubtreeRoots for Leaves<'_> {
    type Error = core::convert::Infallible;

    /// A range outside the leaves has the empty tree's root: the proofs, given a size within
    /// the leaves, never ask for one.
    fn root(&mut self, start: u64, len: u64) -> Result<AuditHash, Self::Error> {
        let range = usize::try_from(start).ok().and_then(|a| {
            let b = usize::try_from(start.checked_add(len)?).ok()?;
            self.0.get(a..b)
        });
        Ok(range.map_or_else(empty_root, root_of))
    }
}

/// The inclusion proof (audit path) for leaf `index` in the tree over `leaves`
/// (RFC 9162 §2.1.3.1). `None` if `index` is out of range.
pub fn inclusion_proof(leaves: &[AuditHash], index: u64) -> Option<Vec<AuditHash>> {
    match inclusion_path(&mut Leaves(leaves), leaves.len() as u64, index) {
        Ok(p) => p,
        Err(never) => match never {},
    }
}

/// The audit path for leaf `index` in the tree of the first `size` leaves of `roots`
/// (RFC 9162 §2.1.3.1). `None` if `index` is out of range.
pub fn inclusion_path<R: SubtreeRoots + ?Sized>(
    roots: &mut R,
    size: u64,
    index: u64,
) -> Result<Option<Vec<AuditHash>>, R::Error> {
    if index >= size {
        return Ok(None);
    }
    let mut out = Vec::new();
    path(roots, index, 0, size, &mut out)?;
    Ok(Some(out))
}

/// PATH(m, D[start .. start + n]).
fn path<R: SubtreeRoots + ?Sized>(
    roots: &mut R,
    m: u64,
    start: u64,
    n: u64,
    out: &mut Vec<AuditHash>,
) -> Result<(), R::Error> {
    if n <= 1 {
        return Ok(());
    }
    let k = split(n);
    if m < k {
        path(roots, m, start, k, out)?;
        out.push(roots.root(start + k, n - k)?);
    } else {
        path(roots, m - k, start + k, n - k, out)?;
        out.push(roots.root(start, k)?);
    }
    Ok(())
}

/// The consistency proof between the tree over the first `old_size` leaves and the tree over
/// all `leaves` (RFC 9162 §2.1.4.1). `None` unless `0 < old_size <= leaves.len()`.
pub fn consistency_proof(leaves: &[AuditHash], old_size: u64) -> Option<Vec<AuditHash>> {
    match consistency_path(&mut Leaves(leaves), old_size, leaves.len() as u64) {
        Ok(p) => p,
        Err(never) => match never {},
    }
}

/// The consistency proof between the trees of the first `old_size` and the first `new_size`
/// leaves of `roots` (RFC 9162 §2.1.4.1). `None` unless `0 < old_size <= new_size`.
pub fn consistency_path<R: SubtreeRoots + ?Sized>(
    roots: &mut R,
    old_size: u64,
    new_size: u64,
) -> Result<Option<Vec<AuditHash>>, R::Error> {
    if old_size == 0 || old_size > new_size {
        return Ok(None);
    }
    let mut out = Vec::new();
    subproof(roots, old_size, 0, new_size, true, &mut out)?;
    Ok(Some(out))
}

/// SUBPROOF(m, D[start .. start + n], complete).
fn subproof<R: SubtreeRoots + ?Sized>(
    roots: &mut R,
    m: u64,
    start: u64,
    n: u64,
    complete: bool,
    out: &mut Vec<AuditHash>,
) -> Result<(), R::Error> {
    if m == n {
        if !complete {
            out.push(roots.root(start, n)?);
        }
        return Ok(());
    }
    let k = split(n);
    if m <= k {
        subproof(roots, m, start, k, complete, out)?;
        out.push(roots.root(start + k, n - k)?);
    } else {
        subproof(roots, m - k, start + k, n - k, false, out)?;
        out.push(roots.root(start, k)?);
    }
    Ok(())
}

/// Verifies an inclusion proof (RFC 9162 §2.1.3.2): that `leaf` is leaf number `index` of the
/// tree of `size` leaves whose root is `root`.
pub fn verify_inclusion(
    leaf: &AuditHash,
    index: u64,
    size: u64,
    proof: &[AuditHash],
    root: &AuditHash,
) -> bool {
    if index >= size {
        return false;
    }
    let (mut fnum, mut snum) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if snum == 0 {
            return false;
        }
        if fnum & 1 == 1 || fnum == snum {
            r = node_hash(p, &r);
            if fnum & 1 == 0 {
                while fnum & 1 == 0 && fnum != 0 {
                    fnum >>= 1;
                    snum >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fnum >>= 1;
        snum >>= 1;
    }
    snum == 0 && r == *root
}

/// Verifies a consistency proof (RFC 9162 §2.1.4.2): that the tree of `old_size` leaves with
/// root `old_root` is a prefix of the tree of `new_size` leaves with root `new_root`.
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &AuditHash,
    new_root: &AuditHash,
    proof: &[AuditHash],
) -> bool {
    if old_size == 0 || old_size > new_size {
        return false;
    }
    if old_size == new_size {
        return proof.is_empty() && old_root == new_root;
    }
    if proof.is_empty() {
        return false;
    }
    // If first is an exact power of two, prepend first_hash to the consistency proof.
    let mut path: Vec<AuditHash> = Vec::with_capacity(proof.len() + 1);
    if old_size.is_power_of_two() {
        path.push(*old_root);
    }
    path.extend_from_slice(proof);
    let Some((first, rest)) = path.split_first() else {
        return false;
    };
    let (mut fnum, mut snum) = (old_size - 1, new_size - 1);
    while fnum & 1 == 1 {
        fnum >>= 1;
        snum >>= 1;
    }
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if snum == 0 {
            return false;
        }
        if fnum & 1 == 1 || fnum == snum {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fnum & 1 == 0 {
                while fnum & 1 == 0 && fnum != 0 {
                    fnum >>= 1;
                    snum >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fnum >>= 1;
        snum >>= 1;
    }
    fr == *old_root && sr == *new_root && snum == 0
}

#[cfg(test)]
#[path = "merkle_tests.rs"]
mod tests;
