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
//!
//! Common to both (so their numbers mean the same):
//!
//! - **Thread budget.** A node has `workers_per_node` execution slots
//!   ([`slots::Slots`]); at most that many tasks run on it at once. Tasks
//!   has that many worker threads per node; dataflow has that many workers
//!   per operator and node, but a worker holds one of the node's slots
//!   while it executes.
//! - **Job drivers.** Each job (tenant) is its own driver ([`Drivers`]):
//!   its items in order, its own in-flight window, its own start time, its
//!   timed items in batches of the parity batch size (a closed-loop driver
//!   keeps at most ⌈window / batch⌉ batches open: batch *b + k* is issued
//!   only after batch *b* completed). The jobs of a run start together (or
//!   at their stagger delays) and share the cluster.
//! - **Clocks.** An item's clock starts when it is issued: closed loop,
//!   when its driver issues it (a window slot freed); open loop, at its
//!   scheduled arrival. Every instant of its life goes to exactly one of
//!   scheduling (waiting for a placement decision: the central queue, or
//!   a shared FIFO/Priority channel, up to the moment a worker with a free
//!   slot takes it), queueing (placed on a node, waiting for a worker and a
//!   slot), execution (running, retries included) and transfer (a stage's
//!   result handed to the next stage); completion is stamped when the last
//!   stage finishes executing. So scheduling + queueing + execution +
//!   transfer = end-to-end latency, on both models.
//! - **Task accounting.** `tasks_submitted` is counted where a task
//!   (attempt) is submitted, `tasks_completed`/`tasks_failed` where it
//!   ends; a task that never ends shows as `submitted > completed + failed`.

pub mod dataflow;
pub mod slots;
pub mod tasks;

use super::ops::{OpKind, Operators};
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;

/// Placement policies. FIFO and Priority hold a task centrally until a
/// node has a free execution slot (tasks: the central queue, to the
/// lowest-numbered such node; dataflow: one shared channel per operator,
/// taken by the first worker whose node has a free slot), the other
/// policies place it on a node's queue at once.
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
    pub const ALL: [Policy; 5] = [
        Policy::Fifo,
        Policy::RoundRobin,
        Policy::LoadAwareSpread,
        Policy::LoadAwarePack,
        Policy::Priority,
    ];

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
        Policy::Priority => up()
            .filter(|(_, n)| free(n))
            .min_by_key(|(i, n)| (n.outstanding * 1000 / n.workers.max(1), n.placed, *i))
            .map(|(i, _)| i),
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
    /// Its parity batch within the job (position in the job ÷ batch size).
    pub batch: u32,
    /// Closed loop: the earliest time the item may be issued (its job's
    /// start delay); open loop: its scheduled arrival. From the start of the run.
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
    /// Test only: the first task of this item is lost (it runs, but neither
    /// completes nor fails), as when a worker dies holding it.
    #[cfg(test)]
    pub lose_task: Option<u64>,
}

impl Faults {
    /// How long a run waits without any task ending, while items are in
    /// flight, before it gives the missing tasks up as lost.
    pub fn stall_limit(&self) -> Duration {
        #[cfg(test)]
        if self.lose_task.is_some() {
            return Duration::from_millis(1500);
        }
        Duration::from_secs(600)
    }

    #[cfg(test)]
    fn loses(&self, item: u64, stage: usize) -> bool {
        self.lose_task == Some(item) && stage == 0
    }

    #[cfg(not(test))]
    fn loses(&self, _item: u64, _stage: usize) -> bool {
        false
    }
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
    /// In submission order (the deterministic shuffle's order within a job).
    pub submissions: Vec<Submission>,
    /// Each job's in-flight window (usize::MAX: open loop).
    pub max_in_flight: usize,
    /// Closed loop: an item's clock starts when it is issued; open loop: at
    /// its scheduled arrival.
    pub closed_loop: bool,
    /// The parity batch size (see [`Submission::batch`]).
    pub batch_size: usize,
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
    pub batch: u32,
    pub priority: u8,
    /// When the item's clock started (issue or scheduled arrival), from the
    /// start of the run.
    pub arrival: Duration,
    /// When its last stage finished executing.
    pub done: Duration,
    /// Waiting for a placement decision (central queue or shared channel, and the decision).
    pub scheduling: Duration,
    /// Placed on a node, waiting for a worker and an execution slot.
    pub queueing: Duration,
    /// Running (every attempt).
    pub execution: Duration,
    /// A stage's result handed to the next stage (back through the driver, or worker to worker).
    pub transfer: Duration,
    /// Inside execution: waiting for, and served by, the inference service.
    pub llm_wait: Duration,
    pub llm_service: Duration,
    /// Task attempts (stages + retries).
    pub attempts: u32,
    pub failed: bool,
    pub digest: u64,
}

impl ItemResult {
    pub fn latency(&self) -> Duration {
        self.done.saturating_sub(self.arrival)
    }

    /// The header of the per-item trace (`task_latencies/*.csv`).
    pub const TRACE_HEADER: &'static str = "task_index,item,job,batch,priority,arrival_ms,done_ms,total_latency_ms,scheduling_latency_ms,queue_latency_ms,execution_latency_ms,transfer_latency_ms,llm_wait_ms,attempts,failed";

    /// One trace row (no newline).
    pub fn trace_row(&self, index: usize) -> String {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        format!(
            "{index},{},{},{},{},{:.4},{:.4},{:.4},{:.4},{:.4},{:.4},{:.4},{:.4},{},{}",
            self.item,
            self.job,
            self.batch,
            self.priority,
            ms(self.arrival),
            ms(self.done),
            ms(self.latency()),
            ms(self.scheduling),
            ms(self.queueing),
            ms(self.execution),
            ms(self.transfer),
            ms(self.llm_wait),
            self.attempts,
            self.failed
        )
    }
}

/// An item's clock: every instant from its start to its completion goes
/// to exactly one component, so the components sum to the latency.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    /// Up to where time has been accounted.
    pub mark: std::time::Instant,
    pub scheduling: Duration,
    pub queueing: Duration,
    pub execution: Duration,
    pub transfer: Duration,
}

/// A component of an item's latency.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Scheduling,
    Queueing,
    Execution,
    Transfer,
}

impl Clock {
    pub fn new(start: std::time::Instant) -> Clock {
        Clock {
            mark: start,
            scheduling: Duration::ZERO,
            queueing: Duration::ZERO,
            execution: Duration::ZERO,
            transfer: Duration::ZERO,
        }
    }

    /// Account the time up to `to` to `phase`.
    pub fn to(&mut self, phase: Phase, to: std::time::Instant) {
        let d = to.saturating_duration_since(self.mark);
        self.mark = self.mark.max(to);
        match phase {
            Phase::Scheduling => self.scheduling += d,
            Phase::Queueing => self.queueing += d,
            Phase::Execution => self.execution += d,
            Phase::Transfer => self.transfer += d,
        }
    }

    /// Copy the components into `r`.
    pub fn fill(&self, r: &mut ItemResult) {
        r.scheduling = self.scheduling;
        r.queueing = self.queueing;
        r.execution = self.execution;
        r.transfer = self.transfer;
    }
}

/// The job drivers of a run: per job its items in order, its own in-flight
/// window and its open parity batches; the drivers take turns issuing.
pub struct Drivers {
    jobs: Vec<Driver>,
    turn: usize,
    issued: usize,
}

struct Driver {
    /// Submission indices in issue order.
    order: Vec<usize>,
    next: usize,
    in_flight: usize,
    window: usize,
    /// Batches open at once (closed loop: ⌈window / batch size⌉).
    max_open: usize,
    /// Items of each batch not yet done.
    left: Vec<usize>,
    /// The lowest batch with items not done.
    first_open: usize,
}

impl Drivers {
    pub fn new(job: &Job) -> Drivers {
        let n_jobs = job.submissions.iter().map(|s| s.job as usize + 1).max().unwrap_or(0);
        let window = job.max_in_flight.max(1);
        let max_open = if window == usize::MAX {
            usize::MAX
        } else {
            window.div_ceil(job.batch_size.max(1))
        };
        let mut jobs: Vec<Driver> = (0..n_jobs)
            .map(|_| Driver {
                order: Vec::new(),
                next: 0,
                in_flight: 0,
                window,
                max_open,
                left: Vec::new(),
                first_open: 0,
            })
            .collect();
        for (slot, s) in job.submissions.iter().enumerate() {
            let d = &mut jobs[s.job as usize];
            d.order.push(slot);
            let b = s.batch as usize;
            if d.left.len() <= b {
                d.left.resize(b + 1, 0);
            }
            d.left[b] += 1;
        }
        Drivers {
            jobs,
            turn: 0,
            issued: 0,
        }
    }

    /// The next item a driver may issue at `now` (its arrival time has
    /// come, its window and batches allow it), the drivers taking turns.
    pub fn issue(&mut self, subs: &[Submission], now: Duration) -> Option<usize> {
        let n = self.jobs.len();
        for k in 0..n {
            let j = (self.turn + k) % n;
            let d = &mut self.jobs[j];
            let Some(&slot) = d.order.get(d.next) else { continue };
            let s = &subs[slot];
            if s.arrival <= now
                && d.in_flight < d.window
                && (s.batch as usize) < d.first_open.saturating_add(d.max_open)
            {
                d.next += 1;
                d.in_flight += 1;
                self.turn = j + 1;
                self.issued += 1;
                return Some(slot);
            }
        }
        None
    }

    /// The earliest future arrival a driver waits for (only its time missing).
    pub fn next_arrival(&self, subs: &[Submission]) -> Option<Duration> {
        self.jobs
            .iter()
            .filter_map(|d| {
                let s = &subs[*d.order.get(d.next)?];
                (d.in_flight < d.window && (s.batch as usize) < d.first_open.saturating_add(d.max_open))
                    .then_some(s.arrival)
            })
            .min()
    }

    /// An issued item is done: its window slot frees, its batch may close.
    pub fn done(&mut self, sub: &Submission) {
        let d = &mut self.jobs[sub.job as usize];
        d.in_flight -= 1;
        d.left[sub.batch as usize] -= 1;
        while d.first_open < d.left.len() && d.left[d.first_open] == 0 {
            d.first_open += 1;
        }
    }

    pub fn issued(&self) -> usize {
        self.issued
    }

    /// The results of a run that did not finish: items never issued are
    /// dropped; issued items that never finished stay, failed.
    pub fn unfinished(&self, results: Vec<ItemResult>, finished: &[bool]) -> Vec<ItemResult> {
        let mut issued = vec![false; results.len()];
        for d in &self.jobs {
            for &slot in &d.order[..d.next] {
                issued[slot] = true;
            }
        }
        results
            .into_iter()
            .enumerate()
            .filter(|(slot, _)| issued[*slot])
            .map(|(slot, mut r)| {
                r.failed |= !finished[slot];
                r
            })
            .collect()
    }

    pub fn all_issued(&self) -> bool {
        self.jobs.iter().all(|d| d.next == d.order.len())
    }

    pub fn in_flight(&self) -> usize {
        self.jobs.iter().map(|d| d.in_flight).sum()
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
    /// The run was stopped (Ctrl-C) before every item finished, or gave
    /// up lost tasks.
    pub interrupted: bool,
}

impl RunOutcome {
    /// Tasks submitted that neither completed nor failed.
    pub fn tasks_lost(&self) -> u64 {
        self.tasks_submitted
            .saturating_sub(self.tasks_completed + self.tasks_failed)
    }
}

/// Whether attempt `attempt` of `item` at `stage` fails (seeded, stateless).
pub fn injected_failure(seed: u64, item: u64, stage: usize, attempt: u32, rate: f64) -> bool {
    if rate <= 0.0 {
        return false;
    }
    let h = xxhash_rust::xxh3::xxh3_64_with_seed(
        &[
            item.to_le_bytes(),
            (stage as u64).to_le_bytes(),
            (attempt as u64).to_le_bytes(),
        ]
        .concat(),
        seed ^ 0xFA17,
    );
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
        outstanding
            .iter()
            .map(|&o| NodeLoad {
                outstanding: o,
                workers: 2,
                placed: 0,
                up: true,
            })
            .collect()
    }

    #[test]
    fn policies_place_as_documented() {
        let mut turn = 0;
        assert_eq!(
            place(Policy::Fifo, &loads(&[2, 1, 0]), &mut turn),
            Some(1),
            "first node with a free worker"
        );
        assert_eq!(
            place(Policy::Fifo, &loads(&[2, 2, 2]), &mut turn),
            None,
            "FIFO holds when all are busy"
        );
        assert_eq!(
            place(Policy::LoadAwarePack, &loads(&[1, 0, 0]), &mut turn),
            Some(0),
            "pack fills node 0 first"
        );
        assert_eq!(
            place(Policy::LoadAwarePack, &loads(&[2, 5, 3]), &mut turn),
            Some(0),
            "pack falls back to the least loaded"
        );
        assert_eq!(
            place(Policy::LoadAwareSpread, &loads(&[1, 0, 0]), &mut turn),
            Some(1),
            "spread takes the least loaded"
        );
        assert_eq!(place(Policy::Priority, &loads(&[2, 1, 0]), &mut turn), Some(2));
        let mut turn = 0;
        let rr: Vec<_> = (0..4)
            .map(|_| place(Policy::RoundRobin, &loads(&[9, 9, 9]), &mut turn).unwrap())
            .collect();
        assert_eq!(rr, [0, 1, 2, 0]);
        let mut down = loads(&[0, 0]);
        down[0].up = false;
        assert_eq!(
            place(Policy::Fifo, &down, &mut turn),
            Some(1),
            "a lost node gets nothing"
        );
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
                .map(|item| Submission {
                    item,
                    pipeline: 0,
                    priority: u8::from(high_share && item % 4 == 3),
                    job: 0,
                    batch: (item / 16) as u32,
                    arrival: Duration::ZERO,
                })
                .collect(),
            max_in_flight: in_flight,
            closed_loop: true,
            batch_size: 16,
            faults: Faults::default(),
            reconfig: None,
            ops: Arc::new(Operators::new(1, Complexity::Light)),
            seed: 1,
        }
    }

    type Model = fn(&Job) -> RunOutcome;

    fn models() -> [(&'static str, Model); 2] {
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
            assert!(
                b(&spread) > b(&fifo),
                "{model}: spread {:?} vs fifo {:?}",
                spread.node_tasks,
                fifo.node_tasks
            );
            let used = |o: &RunOutcome| o.node_tasks.iter().filter(|&&c| c > 0).count();
            assert!(
                used(&pack) < used(&spread),
                "{model}: pack {:?} vs spread {:?}",
                pack.node_tasks,
                spread.node_tasks
            );
            assert_eq!(used(&pack), 1, "{model}: at low load pack fills one node");
        }
    }

    #[test]
    fn priority_serves_the_high_class_first() {
        for (model, run) in models() {
            let o = run(&job(Policy::Priority, &[1.0], 40, usize::MAX, true));
            let mean = |high: bool| {
                let v: Vec<f64> = o
                    .items
                    .iter()
                    .filter(|i| (i.priority > 0) == high)
                    .map(|i| i.latency().as_secs_f64())
                    .collect();
                v.iter().sum::<f64>() / v.len() as f64
            };
            assert!(
                mean(true) < mean(false),
                "{model}: high {} vs low {}",
                mean(true),
                mean(false)
            );
        }
    }

    #[test]
    fn no_task_is_lost_under_faults_outages_and_reconfiguration() {
        for (model, run) in models() {
            let mut j = job(Policy::LoadAwareSpread, &[1.0, 1.0, 0.5], 60, 6, false);
            j.pipelines = vec![vec![OpKind::Embed, OpKind::Retrieve, OpKind::Compute]];
            j.faults = Faults {
                fail_rate: 0.1,
                max_retries: 10,
                outage: Some((0, 30, 90)),
                ..Default::default()
            };
            j.reconfig = Some(Reconfig {
                at: 60,
                workers_per_node: 3,
            });
            let o = run(&j);
            assert_eq!(o.items.len(), 60, "{model}");
            assert!(o.items.iter().all(|i| !i.failed), "{model}: an item failed");
            assert_eq!(
                o.tasks_submitted,
                o.tasks_completed + o.tasks_failed,
                "{model}: submitted = completed + failed"
            );
            assert_eq!(
                o.tasks_completed,
                60 * 3,
                "{model}: every stage of every item completed exactly once"
            );
            assert!(o.tasks_failed > 0, "{model}: faults were injected");
        }
    }

    #[test]
    fn a_lost_task_is_reported_as_lost() {
        // tasks_submitted is counted where tasks are submitted: a task that
        // runs but never reports back shows as submitted − completed − failed.
        for (model, run) in models() {
            let mut j = job(Policy::LoadAwareSpread, &[1.0, 1.0], 12, 4, false);
            j.pipelines = vec![vec![OpKind::Embed, OpKind::Retrieve]];
            j.faults.lose_task = Some(5);
            let o = run(&j);
            assert_eq!(
                o.tasks_lost(),
                1,
                "{model}: submitted {} completed {} failed {}",
                o.tasks_submitted,
                o.tasks_completed,
                o.tasks_failed
            );
            assert!(o.interrupted, "{model}: a run that lost a task is incomplete");
            let lost: Vec<_> = o.items.iter().filter(|i| i.failed).map(|i| i.item).collect();
            assert_eq!(lost, [5], "{model}");
            assert_eq!(o.tasks_completed, 11 * 2, "{model}");
        }
    }

    #[test]
    fn latency_parts_sum_to_the_latency_and_batches_gate_a_closed_loop() {
        for (model, run) in models() {
            for policy in [Policy::Fifo, Policy::LoadAwareSpread, Policy::Priority] {
                let mut j = job(policy, &[1.0, 0.5], 40, 3, true);
                j.pipelines = vec![vec![OpKind::Embed, OpKind::Retrieve, OpKind::Compute]];
                j.batch_size = 8;
                for s in &mut j.submissions {
                    s.batch = (s.item / 8) as u32;
                }
                let o = run(&j);
                assert_eq!(o.items.len(), 40);
                for i in &o.items {
                    let parts = i.scheduling + i.queueing + i.execution + i.transfer;
                    let diff = (parts.as_secs_f64() - i.latency().as_secs_f64()).abs();
                    assert!(diff < 1e-6, "{model} {policy:?}: {parts:?} vs {:?}", i.latency());
                }
                // Window 3 ≤ batch 8: one batch open at a time.
                for b in 1..5u32 {
                    let prev_done = o
                        .items
                        .iter()
                        .filter(|i| i.batch == b - 1)
                        .map(|i| i.done)
                        .max()
                        .unwrap();
                    let first = o
                        .items
                        .iter()
                        .filter(|i| i.batch == b)
                        .map(|i| i.arrival)
                        .min()
                        .unwrap();
                    assert!(
                        first >= prev_done,
                        "{model} {policy:?}: batch {b} issued at {first:?} before batch {} ended at {prev_done:?}",
                        b - 1
                    );
                }
            }
        }
    }

    #[test]
    fn jobs_are_drivers_with_their_own_windows_that_run_together() {
        for (model, run) in models() {
            let mut j = job(Policy::LoadAwareSpread, &[1.0, 1.0], 0, 2, false);
            j.submissions = (0..3u16)
                .flat_map(|job| {
                    (0..24u64).map(move |k| Submission {
                        item: k + job as u64 * 1000,
                        pipeline: 0,
                        priority: 0,
                        job,
                        batch: (k / 16) as u32,
                        arrival: Duration::ZERO,
                    })
                })
                .collect();
            let o = run(&j);
            let span = |job: u16| {
                let it = o.items.iter().filter(|i| i.job == job);
                (
                    it.clone().map(|i| i.arrival).min().unwrap(),
                    it.map(|i| i.done).max().unwrap(),
                )
            };
            for a in 0..3 {
                for b in a + 1..3 {
                    let ((s1, e1), (s2, e2)) = (span(a), span(b));
                    assert!(
                        s1 < e2 && s2 < e1,
                        "{model}: job {a} {s1:?}–{e1:?} and job {b} {s2:?}–{e2:?} do not overlap"
                    );
                }
            }
        }
    }
}
