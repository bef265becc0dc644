//! The embedded engine: a cluster of nodes (worker pools with a speed
//! factor) on which a job's items flow through pipelines of operators, under
//! one of five placement policies, with faults, node outages and online
//! reconfiguration. Two execution models share this interface:
//!
//! - [`dataflow`] (`local-dataflow`): each operator is a set of long-lived
//!   workers per node, joined by bounded channels with backpressure — the
//!   declarative dataflow model SAGE uses;
//! - [`tasks`] (`local-tasks`): every item × stage is an independent task
//!   submitted to a central scheduler and returned to the driver between
//!   stages — the task model Ray uses.

pub mod dataflow;
pub mod tasks;

use super::ops::{OpKind, Operators};
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;

/// Placement policies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Policy {
    /// First come, first served: a task waits in the central queue until a
    /// worker is free and goes to the lowest-numbered node with a free worker.
    Fifo,
    /// Nodes in turn, regardless of load.
    RoundRobin,
    /// The least loaded node (outstanding tasks per worker).
    LoadAwareSpread,
    /// Fill a node before the next: the first node with a free worker.
    LoadAwarePack,
    /// Priority classes, highest first (FIFO within a class); placed as Spread.
    Priority,
}

impl Policy {
    pub const ALL: [Policy; 5] = [Policy::Fifo, Policy::RoundRobin, Policy::LoadAwareSpread, Policy::LoadAwarePack, Policy::Priority];

    /// The label used in result files (matches the ingest's normalization).
    pub fn label(self) -> &'static str {
        match self {
            Policy::Fifo => "fifo",
            Policy::RoundRobin => "round_robin",
            Policy::LoadAwareSpread => "load_aware_spread",
            Policy::LoadAwarePack => "load_aware_pack",
            Policy::Priority => "priority",
        }
    }

    /// Tasks wait centrally until a worker is free (instead of queueing at a node).
    pub fn holds_until_free(self) -> bool {
        matches!(self, Policy::Fifo | Policy::Priority)
    }
}

/// What a placement decision sees of a node.
#[derive(Clone, Copy, Debug, Default)]
pub struct NodeLoad {
    /// Tasks queued at or running on the node.
    pub outstanding: usize,
    /// Workers of the node (per operator, for dataflow).
    pub workers: usize,
    /// Tasks placed on the node so far.
    pub placed: u64,
    pub up: bool,
}

/// Choose a node for the next task; `None` = hold it (no free worker under
/// a holding policy, or no node up). `turn` is the round-robin cursor.
pub fn place(policy: Policy, nodes: &[NodeLoad], turn: &mut usize) -> Option<usize> {
    let up = || nodes.iter().enumerate().filter(|(_, n)| n.up);
    let free = |n: &NodeLoad| n.outstanding < n.workers;
    let least_loaded = || {
        up().min_by(|(i, a), (j, b)| {
            // outstanding / workers, compared exactly by cross-multiplication
            let (la, lb) = (a.outstanding * b.workers.max(1), b.outstanding * a.workers.max(1));
            la.cmp(&lb).then(a.placed.cmp(&b.placed)).then(i.cmp(j))
        })
        .map(|(i, _)| i)
    };
    match policy {
        Policy::Fifo => up().find(|(_, n)| free(n)).map(|(i, _)| i),
        Policy::Priority => up().filter(|(_, n)| free(n)).min_by_key(|(i, n)| (n.outstanding * 1000 / n.workers.max(1), n.placed, *i)).map(|(i, _)| i),
        Policy::LoadAwarePack => up().find(|(_, n)| free(n)).map(|(i, _)| i).or_else(least_loaded),
        Policy::LoadAwareSpread => least_loaded(),
        Policy::RoundRobin => {
            for _ in 0..nodes.len() {
                let i = *turn % nodes.len();
                *turn += 1;
                if nodes[i].up {
                    return Some(i);
                }
            }
            None
        }
    }
}

/// One item to process.
#[derive(Clone, Copy, Debug)]
pub struct Submission {
    pub item: u64,
    /// Index into [`Job::pipelines`].
    pub pipeline: u8,
    /// Higher runs first under [`Policy::Priority`].
    pub priority: u8,
    /// The job (tenant) the item belongs to.
    pub job: u16,
    /// When the item arrives, from the start of the run.
    pub arrival: Duration,
}

/// Faults to inject, each decided by a seeded hash, so the same run fails
/// the same attempts.
#[derive(Clone, Copy, Debug, Default)]
pub struct Faults {
    /// Probability that a task attempt fails (worker fault).
    pub fail_rate: f64,
    /// Attempts after the first before a task counts as failed.
    pub max_retries: u32,
    /// `(node, from, to)`: the node is lost when `from` tasks have completed
    /// and recovered at `to`; its queued and running tasks are re-placed.
    pub outage: Option<(usize, u64, u64)>,
}

/// Change the workers per node online once `at` tasks have completed.
#[derive(Clone, Copy, Debug)]
pub struct Reconfig {
    pub at: u64,
    pub workers_per_node: usize,
}

/// A run of the engine.
#[derive(Clone)]
pub struct Job {
    /// Speed factor per node (1.0 = nominal).
    pub node_speeds: Vec<f64>,
    pub workers_per_node: usize,
    pub policy: Policy,
    pub pipelines: Vec<Vec<OpKind>>,
    /// In submission order (the deterministic shuffle's order).
    pub submissions: Vec<Submission>,
    /// Closed loop: at most this many items in flight.
    pub max_in_flight: usize,
    pub faults: Faults,
    pub reconfig: Option<Reconfig>,
    pub ops: Arc<Operators>,
    pub seed: u64,
}

/// What happened to one item.
#[derive(Clone, Debug, Default)]
pub struct ItemResult {
    pub item: u64,
    pub job: u16,
    pub priority: u8,
    /// From the start of the run.
    pub arrival: Duration,
    pub done: Duration,
    /// Time spent waiting for a placement decision (central queue + decision).
    pub scheduling: Duration,
    /// Time queued at a node / in a channel before a worker took it.
    pub queueing: Duration,
    pub execution: Duration,
    /// Task attempts (stages + retries).
    pub attempts: u32,
    pub failed: bool,
    pub digest: u64,
}

impl ItemResult {
    pub fn latency(&self) -> Duration {
        self.done.saturating_sub(self.arrival)
    }
}

/// What a run of the engine measured.
#[derive(Clone, Debug, Default)]
pub struct RunOutcome {
    pub items: Vec<ItemResult>,
    /// Tasks executed per node (all stages, retries included).
    pub node_tasks: Vec<u64>,
    /// Task attempts submitted, completed and failed (counting retries).
    pub tasks_submitted: u64,
    pub tasks_completed: u64,
    pub tasks_failed: u64,
    pub retries: u64,
    pub wall: Duration,
    /// The run was stopped (Ctrl-C) before every item finished.
    pub interrupted: bool,
}

/// Whether attempt `attempt` of `item` at `stage` fails (seeded, stateless).
pub fn injected_failure(seed: u64, item: u64, stage: usize, attempt: u32, rate: f64) -> bool {
    if rate <= 0.0 {
        return false;
    }
    let h = xxhash_rust::xxh3::xxh3_64_with_seed(&[item.to_le_bytes(), (stage as u64).to_le_bytes(), (attempt as u64).to_le_bytes()].concat(), seed ^ 0xFA17);
    (h as f64 / u64::MAX as f64) < rate
}

/// Set by the Ctrl-C handler: engines stop admitting items and drain.
pub static STOP: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

pub fn stop_requested() -> bool {
    STOP.load(std::sync::atomic::Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loads(outstanding: &[usize]) -> Vec<NodeLoad> {
        outstanding.iter().map(|&o| NodeLoad { outstanding: o, workers: 2, placed: 0, up: true }).collect()
    }

    #[test]
    fn policies_place_as_documented() {
        let mut turn = 0;
        assert_eq!(place(Policy::Fifo, &loads(&[2, 1, 0]), &mut turn), Some(1), "first node with a free worker");
        assert_eq!(place(Policy::Fifo, &loads(&[2, 2, 2]), &mut turn), None, "FIFO holds when all are busy");
        assert_eq!(place(Policy::LoadAwarePack, &loads(&[1, 0, 0]), &mut turn), Some(0), "pack fills node 0 first");
        assert_eq!(place(Policy::LoadAwarePack, &loads(&[2, 5, 3]), &mut turn), Some(0), "pack falls back to the least loaded");
        assert_eq!(place(Policy::LoadAwareSpread, &loads(&[1, 0, 0]), &mut turn), Some(1), "spread takes the least loaded");
        assert_eq!(place(Policy::Priority, &loads(&[2, 1, 0]), &mut turn), Some(2));
        let mut turn = 0;
        let rr: Vec<_> = (0..4).map(|_| place(Policy::RoundRobin, &loads(&[9, 9, 9]), &mut turn).unwrap()).collect();
        assert_eq!(rr, [0, 1, 2, 0]);
        let mut down = loads(&[0, 0]);
        down[0].up = false;
        assert_eq!(place(Policy::Fifo, &down, &mut turn), Some(1), "a lost node gets nothing");
    }

    #[test]
    fn injected_failures_are_seeded_and_near_the_rate() {
        let n = (0..10_000).filter(|&i| injected_failure(1, i, 0, 0, 0.1)).count();
        assert!((800..1200).contains(&n), "{n}");
        assert_eq!(injected_failure(1, 5, 2, 1, 0.5), injected_failure(1, 5, 2, 1, 0.5));
    }
}

#[cfg(test)]
mod policy_behaviour {
    //! Each policy does what it claims, on both execution models. Low load
    //! (one item in flight) and a single worker make the outcomes exact.
    use super::*;
    use crate::runner::ops::{Complexity, OpKind, Operators};

    fn job(policy: Policy, speeds: &[f64], items: u64, in_flight: usize, high_share: bool) -> Job {
        Job {
            node_speeds: speeds.to_vec(),
            workers_per_node: 1,
            policy,
            pipelines: vec![vec![OpKind::Compute]],
            submissions: (0..items)
                .map(|item| Submission { item, pipeline: 0, priority: u8::from(high_share && item % 4 == 3), job: 0, arrival: Duration::ZERO })
                .collect(),
            max_in_flight: in_flight,
            faults: Faults::default(),
            reconfig: None,
            ops: Arc::new(Operators::new(1, Complexity::Light)),
            seed: 1,
        }
    }

    fn models() -> [(&'static str, fn(&Job) -> RunOutcome); 2] {
        [("dataflow", dataflow::run), ("tasks", tasks::run)]
    }

    #[test]
    fn spread_balances_better_than_fifo_and_pack_uses_fewer_nodes_at_low_load() {
        let speeds = [1.0, 1.0, 0.5, 0.5];
        for (model, run) in models() {
            let fifo = run(&job(Policy::Fifo, &speeds, 24, 1, false));
            let spread = run(&job(Policy::LoadAwareSpread, &speeds, 24, 1, false));
            let pack = run(&job(Policy::LoadAwarePack, &speeds, 24, 1, false));
            let b = |o: &RunOutcome| crate::runner::balance(&o.node_tasks);
            assert!(b(&spread) > b(&fifo), "{model}: spread {:?} vs fifo {:?}", spread.node_tasks, fifo.node_tasks);
            let used = |o: &RunOutcome| o.node_tasks.iter().filter(|&&c| c > 0).count();
            assert!(used(&pack) < used(&spread), "{model}: pack {:?} vs spread {:?}", pack.node_tasks, spread.node_tasks);
            assert_eq!(used(&pack), 1, "{model}: at low load pack fills one node");
        }
    }

    #[test]
    fn priority_serves_the_high_class_first() {
        for (model, run) in models() {
            let o = run(&job(Policy::Priority, &[1.0], 40, usize::MAX, true));
            let mean = |high: bool| {
                let v: Vec<f64> = o.items.iter().filter(|i| (i.priority > 0) == high).map(|i| i.latency().as_secs_f64()).collect();
                v.iter().sum::<f64>() / v.len() as f64
            };
            assert!(mean(true) < mean(false), "{model}: high {} vs low {}", mean(true), mean(false));
        }
    }

    #[test]
    fn no_task_is_lost_under_faults_outages_and_reconfiguration() {
        for (model, run) in models() {
            let mut j = job(Policy::LoadAwareSpread, &[1.0, 1.0, 0.5], 60, 6, false);
            j.pipelines = vec![vec![OpKind::Embed, OpKind::Retrieve, OpKind::Compute]];
            j.faults = Faults { fail_rate: 0.1, max_retries: 10, outage: Some((0, 30, 90)) };
            j.reconfig = Some(Reconfig { at: 60, workers_per_node: 3 });
            let o = run(&j);
            assert_eq!(o.items.len(), 60, "{model}");
            assert!(o.items.iter().all(|i| !i.failed), "{model}: an item failed");
            assert_eq!(o.tasks_submitted, o.tasks_completed + o.tasks_failed, "{model}: submitted = completed + failed");
            assert_eq!(o.tasks_completed, 60 * 3, "{model}: every stage of every item completed exactly once");
            assert!(o.tasks_failed > 0, "{model}: faults were injected");
        }
    }
}
