//! Typed dimensions that tables and comparisons group by.
//!
//! Upstream writers put them in `metadata`, `extra` or `config` under
//! varying names and spellings (`scheduler_type: "load_aware"` plus
//! `scheduler_strategy: "spread"`, `"LoadAware-SPREAD"`, `"RoundRobin"` …);
//! this module maps every spelling seen in the harness to one value.

use super::intern::Sym;
use serde::{Serialize, Serializer};
use std::fmt;

/// Lowercase, and fold `-`, space and `.` into `_`, so `LoadAware-SPREAD`,
/// `load aware spread` and `load_aware_spread` compare equal.
pub fn fold_name(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.trim().chars() {
        match c {
            '-' | ' ' | '.' => out.push('_'),
            c => out.extend(c.to_lowercase()),
        }
    }
    out
}

macro_rules! named_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $label:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($variant,)+
            /// A name outside the known set, kept as given.
            Other(Sym),
        }

        impl $name {
            /// The canonical spelling written to every output.
            pub fn label(self) -> &'static str {
                match self {
                    $($name::$variant => $label,)+
                    $name::Other(sym) => sym.as_str(),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.label())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.label())
            }
        }
    };
}

named_enum!(
    /// Pipeline type of a workload (SPEC §3: compute/rag/mixed/llm).
    Pipeline {
        Compute => "compute",
        Rag => "rag",
        Mixed => "mixed",
        Llm => "llm",
    }
);

impl Pipeline {
    pub fn parse(raw: &str) -> Option<Pipeline> {
        let folded = fold_name(raw);
        Some(match folded.as_str() {
            "" => return None,
            "compute" | "cpu" | "compute_only" => Pipeline::Compute,
            "rag" => Pipeline::Rag,
            "mixed" | "mix" | "hybrid" => Pipeline::Mixed,
            "llm" | "llm_only" => Pipeline::Llm,
            _ => Pipeline::Other(Sym::new(&folded)),
        })
    }
}

named_enum!(
    /// Scheduling policy (SPEC §3 and Table 3).
    Scheduler {
        Fifo => "fifo",
        RoundRobin => "round_robin",
        LoadAwareSpread => "load_aware_spread",
        LoadAwarePack => "load_aware_pack",
        Priority => "priority",
    }
);

impl Scheduler {
    /// Parse a scheduler name, combining a separate strategy when given
    /// (upstream's `BenchmarkConfig` writes `scheduler_type: "load_aware"`
    /// and `scheduler_strategy: "spread" | "pack"`). A bare `load_aware`
    /// means spread, upstream's default strategy.
    pub fn parse(raw: &str, strategy: Option<&str>) -> Option<Scheduler> {
        let folded = fold_name(raw);
        let strategy = strategy.map(fold_name);
        Some(match folded.as_str() {
            "" => return None,
            "fifo" | "first_in_first_out" => Scheduler::Fifo,
            "round_robin" | "roundrobin" | "rr" => Scheduler::RoundRobin,
            "load_aware_spread" | "loadaware_spread" | "spread" => Scheduler::LoadAwareSpread,
            "load_aware_pack" | "loadaware_pack" | "pack" => Scheduler::LoadAwarePack,
            "load_aware" | "loadaware" => match strategy.as_deref() {
                Some("pack") => Scheduler::LoadAwarePack,
                _ => Scheduler::LoadAwareSpread,
            },
            "priority" | "priority_based" => Scheduler::Priority,
            _ => Scheduler::Other(Sym::new(&folded)),
        })
    }

    /// The display name the paper uses (Table 3 row labels).
    pub fn paper_name(self) -> &'static str {
        match self {
            Scheduler::Fifo => "FIFO",
            Scheduler::RoundRobin => "RoundRobin",
            Scheduler::LoadAwareSpread => "LoadAware-Spread",
            Scheduler::LoadAwarePack => "LoadAware-Pack",
            Scheduler::Priority => "Priority",
            Scheduler::Other(sym) => sym.as_str(),
        }
    }
}

named_enum!(
    /// Load level of exp2a (SPEC §5, Table 2).
    LoadLevel {
        Low => "low",
        Medium => "medium",
        High => "high",
        Extreme => "extreme",
    }
);

impl LoadLevel {
    pub fn parse(raw: &str) -> Option<LoadLevel> {
        let folded = fold_name(raw);
        Some(match folded.as_str() {
            "" => return None,
            "low" => LoadLevel::Low,
            "medium" | "mid" => LoadLevel::Medium,
            "high" => LoadLevel::High,
            "extreme" | "very_high" => LoadLevel::Extreme,
            _ => LoadLevel::Other(Sym::new(&folded)),
        })
    }
}

named_enum!(
    /// Per-task work factor.
    TaskComplexity {
        Light => "light",
        Medium => "medium",
        Heavy => "heavy",
    }
);

impl TaskComplexity {
    pub fn parse(raw: &str) -> Option<TaskComplexity> {
        let folded = fold_name(raw);
        Some(match folded.as_str() {
            "" => return None,
            "light" | "low" | "simple" => TaskComplexity::Light,
            "medium" | "mid" => TaskComplexity::Medium,
            "heavy" | "high" | "complex" => TaskComplexity::Heavy,
            _ => TaskComplexity::Other(Sym::new(&folded)),
        })
    }
}

/// Balance score of a node distribution: 1 − σ/μ of per-node task counts
/// (population σ), clamped at 0; 1 for zero or one node. This is the
/// definition upstream's `BenchmarkMetrics.node_balance_score` uses.
pub fn balance_score(counts: &[u64]) -> f64 {
    if counts.len() <= 1 {
        return 1.0;
    }
    let n = counts.len() as f64;
    let mean = counts.iter().map(|&c| c as f64).sum::<f64>() / n;
    if mean == 0.0 {
        return 1.0;
    }
    let var = counts.iter().map(|&c| (c as f64 - mean).powi(2)).sum::<f64>() / n;
    (1.0 - var.sqrt() / mean).max(0.0)
}

/// The grouping dimensions of a record: what the workload *was*, as
/// opposed to what was measured (see [`super::record::Measured`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Dimensions {
    /// Experiment family: `exp1`…`exp4`, `Q1`…`Q8`, when known.
    pub experiment: Option<Sym>,
    pub pipeline: Option<Pipeline>,
    pub scheduler: Option<Scheduler>,
    pub load_level: Option<LoadLevel>,
    pub concurrency: Option<u32>,
    pub concurrent_jobs: Option<u32>,
    /// Start delay between concurrent jobs, in whole milliseconds (kept
    /// integral so dimensions can be hashed and grouped exactly).
    pub start_delay_ms: Option<u64>,
    pub task_complexity: Option<TaskComplexity>,
    pub num_tasks: Option<u64>,
    pub warmup_items: Option<u64>,
    pub parity_batch_size: Option<u64>,
    pub shuffle_version: Option<Sym>,
    pub pipeline_stages: Option<u32>,
    /// How items arrive (`closed`, `poisson(rate=200/s)`, `bursts(size=32,every=20ms)`, …).
    pub arrival: Option<Sym>,
    /// Share of LLM requests (Q2), as written.
    pub llm_ratio: Option<Sym>,
    /// What the generate step ran: the stand-in, a shared service or an endpoint and model.
    pub generator: Option<Sym>,
    /// Digest of every knob that changes the work (the built-in runner's).
    pub work_hash: Option<Sym>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheduler_spellings_fold_to_one_policy() {
        for raw in ["LoadAware-SPREAD", "load_aware_spread", "loadaware spread"] {
            assert_eq!(Scheduler::parse(raw, None), Some(Scheduler::LoadAwareSpread), "{raw}");
        }
        assert_eq!(
            Scheduler::parse("load_aware", Some("pack")),
            Some(Scheduler::LoadAwarePack)
        );
        assert_eq!(
            Scheduler::parse("load_aware", Some("spread")),
            Some(Scheduler::LoadAwareSpread)
        );
        assert_eq!(Scheduler::parse("load_aware", None), Some(Scheduler::LoadAwareSpread));
        assert_eq!(Scheduler::parse("RoundRobin", None), Some(Scheduler::RoundRobin));
        assert_eq!(Scheduler::parse("FIFO", None), Some(Scheduler::Fifo));
        assert_eq!(Scheduler::parse("default", None).unwrap().label(), "default");
        assert_eq!(Scheduler::parse("  ", None), None);
    }

    #[test]
    fn pipeline_and_levels() {
        assert_eq!(Pipeline::parse("RAG"), Some(Pipeline::Rag));
        assert_eq!(Pipeline::parse("adaptive_rag").unwrap().label(), "adaptive_rag");
        assert_eq!(LoadLevel::parse("Extreme"), Some(LoadLevel::Extreme));
        assert_eq!(TaskComplexity::parse("heavy"), Some(TaskComplexity::Heavy));
    }

    #[test]
    fn balance_matches_upstream_definition() {
        assert_eq!(balance_score(&[]), 1.0);
        assert_eq!(balance_score(&[7]), 1.0);
        assert_eq!(balance_score(&[10, 10, 10]), 1.0);
        // counts 10 and 30: mean 20, population sd 10, 1 - 0.5
        assert!((balance_score(&[10, 30]) - 0.5).abs() < 1e-12);
        // extremely skewed: clamped at zero
        assert_eq!(balance_score(&[0, 0, 0, 100]), 0.0);
    }
}
