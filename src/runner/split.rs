//! `deterministic_shuffle_v1`: the seeded order in which items are split
//! into warmup and timed items and grouped into parity batches. Both
//! backends given the same flags get the same items in the same batches.
//!
//! Definition (so other implementations can reproduce it): items are
//! `0..warmup + timed`; a Fisher–Yates shuffle from the last index down,
//! drawing `j = next() % (i + 1)` from SplitMix64 (Steele, Lea & Flood,
//! "Fast splittable pseudorandom number generators", OOPSLA 2014) seeded
//! with `seed`; the first `warmup` items of the result are the warmup, the
//! rest the timed items, in batches of `parity_batch_size`.

use crate::util::rng::SplitMix64;
use sha2::{Digest, Sha256};

pub const SHUFFLE_VERSION: &str = "deterministic_shuffle_v1";

/// The split of a run's items.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Split {
    pub warmup: Vec<u64>,
    pub timed: Vec<u64>,
    pub parity_batch_size: usize,
}

impl Split {
    pub fn new(seed: u64, warmup: u64, timed: u64, parity_batch_size: usize) -> Split {
        let mut items: Vec<u64> = (0..warmup + timed).collect();
        let mut rng = SplitMix64(seed);
        for i in (1..items.len()).rev() {
            let j = (rng.next() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
        let timed_items = items.split_off(warmup as usize);
        Split {
            warmup: items,
            timed: timed_items,
            parity_batch_size: parity_batch_size.max(1),
        }
    }

    pub fn batches(&self) -> impl Iterator<Item = &[u64]> {
        self.timed.chunks(self.parity_batch_size)
    }

    /// sha256 of the warmup and timed order with batch boundaries, to show
    /// in the manifest that two runs processed the same items in the same batches.
    pub fn digest(&self) -> String {
        let mut h = Sha256::new();
        h.update(b"warmup:");
        for i in &self.warmup {
            h.update(i.to_le_bytes());
        }
        for batch in self.batches() {
            h.update(b"|batch:");
            for i in batch {
                h.update(i.to_le_bytes());
            }
        }
        hex::encode(h.finalize())
    }
}

/// One digest for an experiment's workloads: sha256 over each workload's
/// name and [`Split::digest`], in run order, so the manifest covers every
/// workload's items and batches, not only one of them.
pub fn experiment_digest(per_workload: &[(String, String)]) -> String {
    let mut h = Sha256::new();
    for (workload, digest) in per_workload {
        h.update(workload.as_bytes());
        h.update(b"=");
        h.update(digest.as_bytes());
        h.update(b"\n");
    }
    format!("{:x}", h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_is_a_seeded_permutation() {
        let a = Split::new(42, 3, 10, 4);
        assert_eq!(a, Split::new(42, 3, 10, 4));
        assert_ne!(a.timed, Split::new(43, 3, 10, 4).timed);
        let mut all: Vec<u64> = a.warmup.iter().chain(&a.timed).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..13).collect::<Vec<_>>());
        assert_eq!(a.batches().map(|b| b.len()).collect::<Vec<_>>(), [4, 4, 2]);
        assert_eq!(a.digest(), Split::new(42, 3, 10, 4).digest());
        assert_ne!(
            a.digest(),
            Split::new(42, 3, 10, 5).digest(),
            "batch boundaries are part of the digest"
        );
    }

    #[test]
    fn splitmix64_matches_the_reference_sequence() {
        // First outputs of SplitMix64 seeded with 0 (reference implementation by Vigna).
        let mut r = SplitMix64(0);
        assert_eq!(r.next(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(r.next(), 0x6E78_9E6A_A1B9_65F4);
    }
}
