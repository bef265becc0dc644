//! `local-dataflow`: the dataflow model. Every operator position of the
//! pipeline is a set of long-lived workers on every node; stages are joined
//! by bounded channels, so a slow stage pushes back on the ones before it.
//! The placement policy routes each item to a node's input channel of the
//! next stage (FIFO and Priority share one channel per stage, from which any
//! free worker pulls — Priority with a second, preferred channel for the
//! high class). The driver feeds the first stage and collects the last.

use super::{injected_failure, place, stop_requested, ItemResult, Job, NodeLoad, Policy, RunOutcome};
use crate::runner::ops::Payload;
use crossbeam_channel::{bounded, select, unbounded, Receiver, Sender};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Item {
    slot: usize,
    stage: usize,
    payload: Payload,
    sent: Instant,
    scheduling: Duration,
    queueing: Duration,
    execution: Duration,
    attempts: u32,
}

enum Msg {
    Item(Item),
    Retire,
}

/// One stage's inputs: per node (`lanes[node]`), or one shared lane
/// (`lanes[0]`) under FIFO/Priority, plus the high-priority lane.
struct Stage {
    lanes: Vec<(Sender<Msg>, Receiver<Msg>)>,
    high: Option<(Sender<Msg>, Receiver<Msg>)>,
    busy: Vec<AtomicUsize>,
    placed: Vec<AtomicU64>,
}

struct Shared {
    job: Job,
    stages: Vec<Stage>,
    workers: Vec<AtomicUsize>,
    up: Vec<AtomicBool>,
    turn: Mutex<usize>,
    sink: Sender<Item>,
    completed_tasks: AtomicU64,
    failed_tasks: AtomicU64,
    retries: AtomicU64,
    node_tasks: Vec<AtomicU64>,
    start: Instant,
}

impl Shared {
    fn shared_lane(&self) -> bool {
        self.job.policy.holds_until_free()
    }

    /// Route `item` to its stage's input; blocks while that input is full.
    fn route(&self, mut item: Item) {
        let decided = Instant::now();
        let stage = &self.stages[item.stage];
        let lane = if self.shared_lane() {
            0
        } else {
            let loads: Vec<NodeLoad> = (0..self.up.len())
                .map(|n| NodeLoad {
                    outstanding: stage.lanes[n].0.len() + stage.busy[n].load(Ordering::Relaxed),
                    workers: self.workers[n].load(Ordering::Relaxed),
                    placed: stage.placed[n].load(Ordering::Relaxed),
                    up: self.up[n].load(Ordering::Relaxed),
                })
                .collect();
            let mut turn = self.turn.lock().unwrap();
            place(self.job.policy, &loads, &mut turn).unwrap_or(0)
        };
        stage.placed[lane].fetch_add(1, Ordering::Relaxed);
        item.scheduling += decided.elapsed();
        item.sent = Instant::now();
        let high = self.job.policy == Policy::Priority && self.job.submissions[item.slot].priority > 0;
        let tx = match (&stage.high, high) {
            (Some((tx, _)), true) => tx,
            _ => &stage.lanes[lane].0,
        };
        let _ = tx.send(Msg::Item(item));
    }
}

fn worker(shared: Arc<Shared>, stage_index: usize, node: usize, lane: usize) {
    let stage = &shared.stages[stage_index];
    let rx = &stage.lanes[lane].1;
    let job = &shared.job;
    let speed = job.node_speeds[node];
    loop {
        // A lost node's workers of a shared lane stop pulling until it is back.
        // (Retire messages meanwhile go to live workers; at shutdown every node is up.)
        if shared.shared_lane() && !shared.up[node].load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(1));
            continue;
        }
        let msg = match &stage.high {
            Some((_, high)) => match high.try_recv() {
                Ok(m) => m,
                Err(_) => select! {
                    recv(high) -> m => match m { Ok(m) => m, Err(_) => return },
                    recv(rx) -> m => match m { Ok(m) => m, Err(_) => return },
                },
            },
            None => match rx.recv() {
                Ok(m) => m,
                Err(_) => return,
            },
        };
        let Msg::Item(mut item) = msg else { return };
        let started = Instant::now();
        item.queueing += started.saturating_duration_since(item.sent);
        if !shared.up[node].load(Ordering::Relaxed) {
            // Lost node: hand the item back for re-placement on a live node.
            shared.failed_tasks.fetch_add(1, Ordering::Relaxed);
            shared.retries.fetch_add(1, Ordering::Relaxed);
            item.attempts += 1;
            shared.route(item);
            continue;
        }
        stage.busy[node].fetch_add(1, Ordering::Relaxed);
        let sub = job.submissions[item.slot];
        let pipeline = &job.pipelines[sub.pipeline as usize];
        let op = pipeline[item.stage];
        let mut attempt = 0u32;
        let input = std::mem::take(&mut item.payload);
        let (payload, ok) = loop {
            let out = job.ops.run(op, sub.item, input.clone(), speed);
            item.attempts += 1;
            shared.node_tasks[node].fetch_add(1, Ordering::Relaxed);
            if out.error.is_none() && !injected_failure(job.seed, sub.item, item.stage, attempt, job.faults.fail_rate) {
                shared.completed_tasks.fetch_add(1, Ordering::Relaxed);
                break (out, true);
            }
            shared.failed_tasks.fetch_add(1, Ordering::Relaxed);
            if attempt >= job.faults.max_retries {
                break (out, false);
            }
            attempt += 1;
            shared.retries.fetch_add(1, Ordering::Relaxed);
        };
        item.payload = payload;
        item.execution += started.elapsed();
        stage.busy[node].fetch_sub(1, Ordering::Relaxed);
        if ok && item.stage + 1 < pipeline.len() {
            item.stage += 1;
            shared.route(item);
        } else {
            if !ok {
                item.payload.digest = u64::MAX;
            }
            let _ = shared.sink.send(item);
        }
    }
}

fn spawn(shared: &Arc<Shared>, stage: usize, node: usize) -> std::thread::JoinHandle<()> {
    let lane = if shared.shared_lane() { 0 } else { node };
    let s = shared.clone();
    std::thread::spawn(move || worker(s, stage, node, lane))
}

pub fn run(job: &Job) -> RunOutcome {
    let n_nodes = job.node_speeds.len();
    let depth = job.pipelines.iter().map(Vec::len).max().unwrap_or(0);
    // Channel capacity: enough to keep every worker of a node busy, small
    // enough that a slow stage pushes back.
    let capacity = (job.workers_per_node * 2).max(2);
    let shared_lane = job.policy.holds_until_free();
    let stages: Vec<Stage> = (0..depth)
        .map(|_| {
            let lanes = (0..if shared_lane { 1 } else { n_nodes }).map(|_| bounded(capacity * if shared_lane { n_nodes } else { 1 })).collect();
            Stage {
                lanes,
                high: (job.policy == Policy::Priority).then(|| bounded(capacity * n_nodes)),
                busy: (0..n_nodes).map(|_| AtomicUsize::new(0)).collect(),
                placed: (0..n_nodes).map(|_| AtomicU64::new(0)).collect(),
            }
        })
        .collect();
    let (sink_tx, sink_rx) = unbounded::<Item>();
    let shared = Arc::new(Shared {
        job: job.clone(),
        stages,
        workers: (0..n_nodes).map(|_| AtomicUsize::new(job.workers_per_node)).collect(),
        up: (0..n_nodes).map(|_| AtomicBool::new(true)).collect(),
        turn: Mutex::new(0),
        sink: sink_tx,
        completed_tasks: AtomicU64::new(0),
        failed_tasks: AtomicU64::new(0),
        retries: AtomicU64::new(0),
        node_tasks: (0..n_nodes).map(|_| AtomicU64::new(0)).collect(),
        start: Instant::now(),
    });
    let mut handles = Vec::new();
    let mut per_node_workers = vec![job.workers_per_node; n_nodes];
    for s in 0..depth {
        for n in 0..n_nodes {
            for _ in 0..job.workers_per_node {
                handles.push(spawn(&shared, s, n));
            }
        }
    }

    let subs = &job.submissions;
    let start = shared.start;
    let mut results: Vec<ItemResult> = subs
        .iter()
        .map(|s| ItemResult { item: s.item, job: s.job, priority: s.priority, arrival: s.arrival, ..Default::default() })
        .collect();
    let (mut next_admit, mut in_flight, mut finished) = (0usize, 0usize, 0usize);
    let mut submitted_tasks = 0u64;
    let mut reconfigured = false;
    let mut interrupted = false;
    let mut ready: std::collections::BinaryHeap<(u8, std::cmp::Reverse<usize>)> = std::collections::BinaryHeap::new();
    while finished < next_admit || next_admit < subs.len() {
        if stop_requested() && in_flight == 0 {
            interrupted = next_admit < subs.len();
            break;
        }
        // Arrived items wait at the source ordered by priority (FIFO within a
        // class), then enter the first stage as backpressure allows.
        while next_admit < subs.len() && in_flight + ready.len() < job.max_in_flight && subs[next_admit].arrival <= start.elapsed() && !stop_requested() {
            let class = if job.policy == Policy::Priority { subs[next_admit].priority } else { 0 };
            ready.push((class, std::cmp::Reverse(next_admit)));
            next_admit += 1;
        }
        while let Some((_, std::cmp::Reverse(slot))) = ready.pop() {
            let queued = Instant::now();
            let item = Item {
                slot,
                stage: 0,
                payload: Payload::default(),
                sent: queued,
                scheduling: Duration::ZERO,
                queueing: Duration::ZERO,
                execution: Duration::ZERO,
                attempts: 0,
            };
            shared.route(item);
            submitted_tasks += 1;
            in_flight += 1;
        }
        let wait = if next_admit < subs.len() && in_flight < job.max_in_flight {
            subs[next_admit].arrival.saturating_sub(start.elapsed()).max(Duration::from_micros(50))
        } else {
            Duration::from_millis(50)
        };
        if let Ok(first) = sink_rx.recv_timeout(wait) {
            for item in std::iter::once(first).chain(sink_rx.try_iter()) {
                let r = &mut results[item.slot];
                r.scheduling = item.scheduling;
                r.queueing = item.queueing;
                r.execution = item.execution;
                r.attempts = item.attempts;
                r.failed = item.payload.digest == u64::MAX;
                r.digest = item.payload.digest;
                r.done = start.elapsed();
                finished += 1;
                in_flight -= 1;
            }
        }
        let completed = shared.completed_tasks.load(Ordering::Relaxed);
        if let Some((node, from, to)) = job.faults.outage {
            if node < n_nodes {
                let lost = completed >= from && completed < to;
                shared.up[node].store(!lost, Ordering::Relaxed);
            }
        }
        if let Some(rc) = job.reconfig {
            if !reconfigured && completed >= rc.at {
                reconfigured = true;
                for (n, count) in per_node_workers.iter_mut().enumerate() {
                    for s in 0..depth {
                        if rc.workers_per_node > *count {
                            for _ in *count..rc.workers_per_node {
                                handles.push(spawn(&shared, s, n));
                            }
                        } else {
                            let lane = if shared_lane { 0 } else { n };
                            for _ in rc.workers_per_node..*count {
                                let _ = shared.stages[s].lanes[lane].0.send(Msg::Retire);
                            }
                        }
                    }
                    *count = rc.workers_per_node;
                    shared.workers[n].store(rc.workers_per_node, Ordering::Relaxed);
                }
            }
        }
    }
    // Shut down: one Retire per worker of each lane.
    for s in 0..depth {
        for (n, count) in per_node_workers.iter().enumerate() {
            let lane = if shared_lane { 0 } else { n };
            for _ in 0..*count {
                let _ = shared.stages[s].lanes[lane].0.send(Msg::Retire);
            }
        }
    }
    for n in 0..n_nodes {
        shared.up[n].store(true, Ordering::Relaxed);
    }
    for h in handles {
        let _ = h.join();
    }
    let completed = shared.completed_tasks.load(Ordering::Relaxed);
    let failed = shared.failed_tasks.load(Ordering::Relaxed);
    results.truncate(next_admit);
    RunOutcome {
        items: results,
        node_tasks: shared.node_tasks.iter().map(|c| c.load(Ordering::Relaxed)).collect(),
        // Every executed attempt (stage runs, retries and re-placements).
        tasks_submitted: completed + failed,
        tasks_completed: completed,
        tasks_failed: failed,
        retries: shared.retries.load(Ordering::Relaxed),
        wall: start.elapsed(),
        interrupted: interrupted || submitted_tasks < subs.len() as u64,
    }
}
