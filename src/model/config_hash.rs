//! Backend-neutral config identity.
//!
//! Two runs are comparable when their workload shape matches (SPEC §3):
//! workload, seed, nodes, parallelism, task count, warmup, parity batch size
//! and scheduler — and, for records that carry one, the `work_hash` of
//! everything else that changes the work (the built-in runner writes it:
//! task complexity, arrivals, LLM ratio, bursts, generator, pipelines…).
//! Upstream hashes its whole run config *including the backend name*, so a
//! sage and a ray run of the same workload never share a hash; ours covers
//! the shape fields only, never the backend, output paths or verbosity.

use super::dimensions::Scheduler;
use super::intern::{FastHash, Sym};
use sha2::{Digest, Sha256};
use std::cell::RefCell;
use std::collections::HashMap;

/// The workload-shape fields that decide comparability. `None` means the
/// input did not say; it hashes as JSON `null`, so an unknown never equals a
/// known value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct WorkloadShape {
    pub workload: Sym,
    pub seed: Option<u64>,
    pub nodes: u32,
    pub parallelism: u32,
    pub num_tasks: Option<u64>,
    pub warmup_items: Option<u64>,
    pub parity_batch_size: Option<u64>,
    pub scheduler: Option<Scheduler>,
    /// The record's `work_hash`, when it has one. Unlike the other fields
    /// it is left out of the hashed document when absent, so records
    /// without it (upstream, legacy) hash exactly as before.
    pub work: Option<Sym>,
}

/// The workload-shape fields (SPEC §3), in the order reports list them;
/// the hashed document holds them with its keys sorted. `compare` checks
/// the same list (all but the workload, its group key) across sides.
pub const SHAPE_FIELDS: [&str; 8] = [
    "workload",
    "seed",
    "nodes",
    "parallelism",
    "num_tasks",
    "warmup_items",
    "parity_batch_size",
    "scheduler",
];

impl WorkloadShape {
    /// Canonical JSON: keys sorted, separators `,` and `:`, no whitespace,
    /// non-ASCII kept as UTF-8 — byte-identical to Python's
    /// `json.dumps(shape, sort_keys=True, separators=(",", ":"), ensure_ascii=False)`.
    pub fn canonical_json(&self) -> String {
        let mut doc = serde_json::Map::new();
        doc.insert("nodes".into(), self.nodes.into());
        doc.insert("num_tasks".into(), self.num_tasks.into());
        doc.insert("parallelism".into(), self.parallelism.into());
        doc.insert("parity_batch_size".into(), self.parity_batch_size.into());
        doc.insert("scheduler".into(), self.scheduler.map(|s| s.label()).into());
        doc.insert("seed".into(), self.seed.into());
        doc.insert("warmup_items".into(), self.warmup_items.into());
        if let Some(work) = self.work {
            doc.insert("work".into(), work.as_str().into());
        }
        doc.insert("workload".into(), self.workload.as_str().into());
        // serde_json's Map is a BTreeMap without the preserve_order feature,
        // so keys serialize sorted.
        serde_json::to_string(&doc).expect("a map of plain values serializes")
    }

    /// sha256 of [`Self::canonical_json`], lowercase hex, interned and memoized
    /// per thread (a tree of a million records holds a few hundred shapes).
    pub fn hash(&self) -> Sym {
        thread_local! {
            static CACHE: RefCell<HashMap<WorkloadShape, Sym, FastHash>> = const { RefCell::new(HashMap::with_hasher(crate::model::intern::fast_hash())) };
        }
        CACHE.with(|cache| {
            *cache
                .borrow_mut()
                .entry(*self)
                .or_insert_with(|| Sym::new(&hex::encode(Sha256::digest(self.canonical_json().as_bytes()))))
        })
    }
}

/// sha256 hex of arbitrary canonical JSON text.
pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape() -> WorkloadShape {
        WorkloadShape {
            workload: Sym::new("Q1"),
            seed: Some(42),
            nodes: 1,
            parallelism: 2,
            num_tasks: Some(100),
            warmup_items: Some(0),
            parity_batch_size: Some(16),
            scheduler: Some(Scheduler::Fifo),
            work: None,
        }
    }

    #[test]
    fn canonical_json_is_sorted_and_compact() {
        assert_eq!(
            shape().canonical_json(),
            r#"{"nodes":1,"num_tasks":100,"parallelism":2,"parity_batch_size":16,"scheduler":"fifo","seed":42,"warmup_items":0,"workload":"Q1"}"#
        );
        let doc: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&shape().canonical_json()).unwrap();
        let keys: Vec<&str> = doc.keys().map(String::as_str).collect();
        let mut fields = SHAPE_FIELDS.to_vec();
        fields.sort();
        assert_eq!(keys, fields, "the hashed document holds exactly the shape fields");
    }

    #[test]
    fn hash_is_sha256_of_canonical_json() {
        // python3 -c 'import hashlib,json;print(hashlib.sha256(json.dumps({"nodes":1,"num_tasks":100,
        //   "parallelism":2,"parity_batch_size":16,"scheduler":"fifo","seed":42,"warmup_items":0,
        //   "workload":"Q1"},sort_keys=True,separators=(",",":")).encode()).hexdigest())'
        assert_eq!(
            shape().hash().as_str(),
            "dfaec393944ac4d166a265592db367bb24f28331947092593cbd9ad7aedb6221"
        );
    }

    #[test]
    fn a_work_hash_is_hashed_only_when_present() {
        let mut with = shape();
        with.work = Some(Sym::new("abc"));
        assert!(
            with.canonical_json()
                .contains(r#""warmup_items":0,"work":"abc","workload":"Q1""#),
            "{}",
            with.canonical_json()
        );
        assert_ne!(with.hash(), shape().hash());
        assert!(!shape().canonical_json().contains("work\""));
    }

    #[test]
    fn unknown_differs_from_known() {
        let mut other = shape();
        other.seed = None;
        assert_ne!(shape().hash(), other.hash());
        assert!(other.canonical_json().contains(r#""seed":null"#));
    }
}
