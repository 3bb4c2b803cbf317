//! The Merkle tree against RFC 9162's definitions: a naive recursive MTH, PATH and SUBPROOF
//! written straight from §2.1 over raw leaf data are the oracle; the RFC 6962 reference roots
//! (the Certificate Transparency test tree) are known answers.

use super::*;
use proptest::prelude::*;
use sha2::{Digest, Sha256};

fn h(parts: &[&[u8]]) -> [u8; 32] {
    let mut d = Sha256::new();
    for p in parts {
        d.update(p);
    }
    d.finalize().into()
}

/// MTH from §2.1.1, over raw leaf data.
fn naive_mth(d: &[Vec<u8>]) -> [u8; 32] {
    match d.len() {
        0 => h(&[]),
        1 => h(&[&[0], &d[0]]),
        n => {
            let k = (0..)
                .map(|i| 1usize << i)
                .take_while(|&p| p < n)
                .last()
                .unwrap();
            h(&[&[1], &naive_mth(&d[..k]), &naive_mth(&d[k..])])
        }
    }
}

/// PATH(m, D[n]) from §2.1.3.1.
fn naive_path(m: usize, d: &[Vec<u8>]) -> Vec<[u8; 32]> {
    let n = d.len();
    if n == 1 {
        return vec![];
    }
    let k = (0..)
        .map(|i| 1usize << i)
        .take_while(|&p| p < n)
        .last()
        .unwrap();
    if m < k {
        let mut p = naive_path(m, &d[..k]);
        p.push(naive_mth(&d[k..]));
        p
    } else {
        let mut p = naive_path(m - k, &d[k..]);
        p.push(naive_mth(&d[..k]));
        p
    }
}

/// SUBPROOF(m, D[n], b) from §2.1.4.1.
fn naive_subproof(m: usize, d: &[Vec<u8>], b: bool) -> Vec<[u8; 32]> {
    let n = d.len();
    if m == n {
        return if b { vec![] } else { vec![naive_mth(d)] };
    }
    let k = (0..)
        .map(|i| 1usize << i)
        .take_while(|&p| p < n)
        .last()
        .unwrap();
    if m <= k {
        let mut p = naive_subproof(m, &d[..k], b);
        p.push(naive_mth(&d[k..]));
        p
    } else {
        let mut p = naive_subproof(m - k, &d[k..], false);
        p.push(naive_mth(&d[..k]));
        p
    }
}

fn leaves_of(data: &[Vec<u8>]) -> Vec<AuditHash> {
    data.iter().map(|x| AuditHash(h(&[&[0], x]))).collect()
}

fn hx(s: &str) -> AuditHash {
    AuditHash::from_hex(s).unwrap()
}

const CT_DATA: [&str; 8] = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
];

/// RFC 6962 reference roots for the CT test tree, sizes 0..=8 (certificate-transparency's
/// merkle tree tests).
const CT_ROOTS: [&str; 9] = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

#[test]
fn ct_reference_roots_and_inclusion_proof() {
    let data: Vec<Vec<u8>> = CT_DATA.iter().map(|s| hex::decode(s).unwrap()).collect();
    let leaves = leaves_of(&data);
    for n in 0..=8 {
        assert_eq!(root_of(&leaves[..n]), hx(CT_ROOTS[n]), "size {n}");
        assert_eq!(naive_mth(&data[..n]), hx(CT_ROOTS[n]).0, "oracle size {n}");
    }
    // The reference inclusion proof for leaf 0 of the 8-leaf tree.
    let want = [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ];
    let proof = inclusion_proof(&leaves, 0).unwrap();
    assert_eq!(proof, want.iter().map(|s| hx(s)).collect::<Vec<_>>());
    assert!(verify_inclusion(&leaves[0], 0, 8, &proof, &hx(CT_ROOTS[8])));
    assert!(!verify_inclusion(
        &leaves[1],
        0,
        8,
        &proof,
        &hx(CT_ROOTS[8])
    ));
}

#[test]
fn edge_cases_reject() {
    let leaves = leaves_of(&[vec![1], vec![2], vec![3]]);
    let root = root_of(&leaves);
    assert!(inclusion_proof(&leaves, 3).is_none());
    assert!(!verify_inclusion(&leaves[0], 3, 3, &[], &root));
    assert!(consistency_proof(&leaves, 0).is_none());
    assert!(consistency_proof(&leaves, 4).is_none());
    assert!(!verify_consistency(0, 3, &root, &root, &[]));
    assert!(!verify_consistency(3, 2, &root, &root, &[]));
    assert!(verify_consistency(3, 3, &root, &root, &[]));
    assert!(!verify_consistency(3, 3, &root, &leaves[0], &[]));
    let one = root_of(&leaves[..1]);
    assert!(!verify_consistency(1, 3, &one, &root, &[]));
    assert_eq!(empty_root(), hx(CT_ROOTS[0]));
}

fn mutate(p: &mut [AuditHash], i: usize, bit: u8) {
    let n = p.len();
    p[i % n].0[usize::from(bit) % 32] ^= 1 << (bit % 8);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn root_and_frontier_match_the_rfc_definition(data in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..8), 0..70)) {
        let leaves = leaves_of(&data);
        prop_assert_eq!(root_of(&leaves).0, naive_mth(&data));
        let mut f = MerkleFrontier::default();
        for (i, l) in leaves.iter().enumerate() {
            f.push(*l);
            prop_assert_eq!(f.root().0, naive_mth(&data[..=i]));
            prop_assert_eq!(f.size(), i as u64 + 1);
        }
    }

    #[test]
    fn inclusion_proofs_match_path_and_verify(n in 1usize..70, m_seed in any::<usize>(), i in any::<usize>(), bit in any::<u8>()) {
        let data: Vec<Vec<u8>> = (0..n).map(|j| (j as u32).to_be_bytes().to_vec()).collect();
        let leaves = leaves_of(&data);
        let m = m_seed % n;
        let root = AuditHash(naive_mth(&data));
        let proof = inclusion_proof(&leaves, m as u64).unwrap();
        let want: Vec<[u8; 32]> = naive_path(m, &data);
        prop_assert_eq!(proof.iter().map(|x| x.0).collect::<Vec<_>>(), want);
        prop_assert!(verify_inclusion(&leaves[m], m as u64, n as u64, &proof, &root));
        // Wrong leaf, index, size, root or a flipped bit anywhere in the path: rejected.
        let other = AuditHash(h(&[b"other"]));
        prop_assert!(!verify_inclusion(&other, m as u64, n as u64, &proof, &root));
        prop_assert!(!verify_inclusion(&leaves[m], m as u64, n as u64, &proof, &other));
        if n > 1 {
            let m2 = (m + 1) % n;
            prop_assert!(!verify_inclusion(&leaves[m], m2 as u64, n as u64, &proof, &root));
            let mut bad = proof.clone();
            mutate(&mut bad, i, bit);
            prop_assert!(!verify_inclusion(&leaves[m], m as u64, n as u64, &bad, &root));
            prop_assert!(!verify_inclusion(&leaves[m], m as u64, n as u64, &proof[..proof.len() - 1], &root));
        }
        let mut longer = proof.clone();
        longer.push(other);
        prop_assert!(!verify_inclusion(&leaves[m], m as u64, n as u64, &longer, &root));
    }

    #[test]
    fn consistency_proofs_match_subproof_and_verify(n in 1usize..70, m_seed in any::<usize>(), i in any::<usize>(), bit in any::<u8>()) {
        let data: Vec<Vec<u8>> = (0..n).map(|j| vec![j as u8, 0x5a]).collect();
        let leaves = leaves_of(&data);
        let m = 1 + m_seed % n;
        let old = AuditHash(naive_mth(&data[..m]));
        let new = AuditHash(naive_mth(&data));
        let proof = consistency_proof(&leaves, m as u64).unwrap();
        let want = naive_subproof(m, &data, true);
        prop_assert_eq!(proof.iter().map(|x| x.0).collect::<Vec<_>>(), want);
        prop_assert!(verify_consistency(m as u64, n as u64, &old, &new, &proof));
        if m < n {
            prop_assert!(!verify_consistency(m as u64, n as u64, &new, &new, &proof));
            prop_assert!(!verify_consistency(m as u64, n as u64, &old, &old, &proof));
            let mut bad = proof.clone();
            mutate(&mut bad, i, bit);
            prop_assert!(!verify_consistency(m as u64, n as u64, &old, &new, &bad));
            // A tree that differs in an old leaf is not an extension.
            let mut changed = data.clone();
            changed[m - 1].push(1);
            let new2 = AuditHash(naive_mth(&changed));
            prop_assert!(!verify_consistency(m as u64, n as u64, &old, &new2, &proof));
        }
    }
}

/// Records every range a proof asks for, and answers from the leaves.
struct Asked<'a> {
    leaves: &'a [AuditHash],
    ranges: Vec<(u64, u64)>,
}

impl SubtreeRoots for Asked<'_> {
    type Error = core::convert::Infallible;
    fn root(&mut self, start: u64, len: u64) -> Result<AuditHash, Self::Error> {
        self.ranges.push((start, len));
        Leaves(self.leaves).root(start, len)
    }
}

/// The promise `SubtreeRoots` makes to its implementers (the store's proof index rests on
/// it): every range asked for is non-empty, inside the tree, and starts at a multiple of the
/// smallest power of two not below its length, so it lies inside one aligned perfect subtree.
/// Checked for every tree size up to 130 and every leaf and old size, against the slice
/// proofs.
#[test]
fn proofs_ask_only_for_aligned_ranges() {
    let data: Vec<Vec<u8>> = (0u32..130).map(|i| i.to_be_bytes().to_vec()).collect();
    let all = leaves_of(&data);
    let mut checked = 0u32;
    for n in 1..=all.len() as u64 {
        let leaves = &all[..n as usize];
        for m in 0..=n {
            let mut asked = Asked {
                leaves,
                ranges: Vec::new(),
            };
            if m < n {
                let p = inclusion_path(&mut asked, n, m).unwrap().unwrap();
                assert_eq!(Some(p), inclusion_proof(leaves, m));
            }
            if m > 0 {
                let p = consistency_path(&mut asked, m, n).unwrap().unwrap();
                assert_eq!(Some(p), consistency_proof(leaves, m));
            }
            for &(start, len) in &asked.ranges {
                assert!(len >= 1 && start + len <= n, "({start}, {len}) in {n}");
                assert_eq!(
                    start % len.next_power_of_two(),
                    0,
                    "({start}, {len}) in {n}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 50_000, "{checked} ranges checked");
}
