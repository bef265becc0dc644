//! `local-dataflow`: the dataflow model. Every operator position of the
//! pipeline is a set of long-lived workers on every node; stages are joined
//! by bounded channels, so a slow stage pushes back on the ones before it.
//! A worker holds one of its node's execution slots while it executes, so
//! a node runs at most `workers_per_node` tasks at once, as in the task
//! model. The placement policy routes each item to a node's input channel
//! of the next stage; under FIFO and Priority there is one shared channel
//! per stage instead (Priority with a second, preferred channel for the
//! high class), taken by the first worker whose node has a free slot. The
//! job drivers feed the first stage; the last stage's workers stamp
//! completion and hand the items to the driver.

use super::slots::Slots;
use super::{
    injected_failure, place, stop_requested, Clock, Drivers, ItemResult, Job, NodeLoad, Phase, Policy, RunOutcome,
};
use crate::runner::ops::Payload;
use crossbeam_channel::{bounded, unbounded, Receiver, Select, Sender};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Item {
    slot: usize,
    stage: usize,
    payload: Payload,
    clock: Clock,
    attempts: u32,
    /// When its last stage finished executing.
    ended: Option<Instant>,
}

// Messages move, never sit in a collection: boxing the item would cost an
// allocation per item and stage.
#[allow(clippy::large_enum_variant)]
enum Msg {
    Item(Item),
    Retire,
}

/// One stage's inputs: per node (`lanes[node]`), or one shared lane
/// (`lanes[0]`) under FIFO/Priority, plus the high-priority lane.
struct Stage {
    lanes: Vec<(Sender<Msg>, Receiver<Msg>)>,
    high: Option<(Sender<Msg>, Receiver<Msg>)>,
}

struct Shared {
    job: Job,
    stages: Vec<Stage>,
    /// Each node's execution slots.
    slots: Vec<Slots>,
    up: Vec<AtomicBool>,
    placed: Vec<AtomicU64>,
    turn: Mutex<usize>,
    sink: Sender<Item>,
    submitted_tasks: AtomicU64,
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

    /// Submit `item`'s current stage: route it to that stage's input;
    /// blocks while that input is full. Its clock's mark is when it became
    /// ready for placement.
    fn route(&self, mut item: Item) {
        self.submitted_tasks.fetch_add(1, Ordering::Relaxed);
        let stage = &self.stages[item.stage];
        let lane = if self.shared_lane() {
            0
        } else {
            let loads: Vec<NodeLoad> = (0..self.up.len())
                .map(|n| NodeLoad {
                    // Tasks queued at the node (any stage), waiting for a slot or running.
                    outstanding: self.stages.iter().map(|s| s.lanes[n].0.len()).sum::<usize>() + self.slots[n].demand(),
                    workers: self.slots[n].limit(),
                    placed: self.placed[n].load(Ordering::Relaxed),
                    up: self.up[n].load(Ordering::Relaxed),
                })
                .collect();
            let mut turn = self.turn.lock().unwrap();
            let node = place(self.job.policy, &loads, &mut turn).unwrap_or(0);
            drop(turn);
            self.placed[node].fetch_add(1, Ordering::Relaxed);
            // Placed: from here it queues at the node.
            item.clock.to(Phase::Scheduling, Instant::now());
            node
        };
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
    let slots = &shared.slots[node];
    let shared_lane = shared.shared_lane();
    loop {
        // A lost node's workers of a shared lane stop taking work until it is back.
        // (Retire messages meanwhile go to live workers; at shutdown every node is up.)
        if shared_lane && !shared.up[node].load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(1));
            continue;
        }
        let msg = if shared_lane {
            // The shared channel is the central queue: wait until it holds a
            // message, without taking it; then wait for an execution slot of
            // this node, then take the message (another node's worker may
            // have taken it meanwhile: then give the slot back).
            let high_ready = {
                let mut sel = Select::new();
                let high = stage.high.as_ref().map(|(_, h)| sel.recv(h));
                sel.recv(rx);
                let ready = sel.ready();
                Some(ready) == high
            };
            slots.acquire(high_ready);
            let msg = match stage.high.as_ref().and_then(|(_, h)| h.try_recv().ok()) {
                Some(m) => Some(m),
                None => rx.try_recv().ok(),
            };
            let Some(msg) = msg else {
                slots.release();
                continue;
            };
            msg
        } else {
            // The node's own channel: take the next item, then wait for a slot.
            let Ok(msg) = rx.recv() else { return };
            if matches!(msg, Msg::Item(_)) {
                slots.acquire(false);
            }
            msg
        };
        let Msg::Item(mut item) = msg else {
            if shared_lane {
                slots.release();
            }
            return;
        };
        let started = Instant::now();
        // Under FIFO/Priority the shared channel is the central queue: a worker
        // with a free slot taking the item is the placement decision.
        item.clock.to(
            if shared_lane {
                Phase::Scheduling
            } else {
                Phase::Queueing
            },
            started,
        );
        if !shared.up[node].load(Ordering::Relaxed) {
            // Lost node: hand the item back for re-placement on a live node.
            slots.release();
            shared.failed_tasks.fetch_add(1, Ordering::Relaxed);
            shared.retries.fetch_add(1, Ordering::Relaxed);
            item.attempts += 1;
            shared.route(item);
            continue;
        }
        let sub = job.submissions[item.slot];
        let pipeline = &job.pipelines[sub.pipeline as usize];
        let op = pipeline[item.stage];
        let mut attempt = 0u32;
        let input = std::mem::take(&mut item.payload);
        let outcome = loop {
            let out = job.ops.run(op, sub.item, input.clone(), speed);
            item.attempts += 1;
            shared.node_tasks[node].fetch_add(1, Ordering::Relaxed);
            if attempt == 0 && job.faults.loses(sub.item, item.stage) {
                break None; // the task neither completes nor fails
            }
            if out.error.is_none() && !injected_failure(job.seed, sub.item, item.stage, attempt, job.faults.fail_rate) {
                shared.completed_tasks.fetch_add(1, Ordering::Relaxed);
                break Some((out, true));
            }
            shared.failed_tasks.fetch_add(1, Ordering::Relaxed);
            if attempt >= job.faults.max_retries {
                break Some((out, false));
            }
            // Retry on the same worker: a new attempt submitted.
            attempt += 1;
            shared.retries.fetch_add(1, Ordering::Relaxed);
            shared.submitted_tasks.fetch_add(1, Ordering::Relaxed);
        };
        let ended = Instant::now();
        slots.release();
        let Some((payload, ok)) = outcome else { continue };
        item.payload = payload;
        item.clock.to(Phase::Execution, ended);
        if ok && item.stage + 1 < pipeline.len() {
            item.stage += 1;
            item.clock.to(Phase::Transfer, Instant::now());
            shared.route(item);
        } else {
            if !ok {
                item.payload.digest = u64::MAX;
            }
            item.ended = Some(ended);
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
            let lanes = (0..if shared_lane { 1 } else { n_nodes })
                .map(|_| bounded(capacity * if shared_lane { n_nodes } else { 1 }))
                .collect();
            Stage {
                lanes,
                high: (job.policy == Policy::Priority).then(|| bounded(capacity * n_nodes)),
            }
        })
        .collect();
    let (sink_tx, sink_rx) = unbounded::<Item>();
    let shared = Arc::new(Shared {
        job: job.clone(),
        stages,
        slots: (0..n_nodes).map(|_| Slots::new(job.workers_per_node)).collect(),
        up: (0..n_nodes).map(|_| AtomicBool::new(true)).collect(),
        placed: (0..n_nodes).map(|_| AtomicU64::new(0)).collect(),
        turn: Mutex::new(0),
        sink: sink_tx,
        submitted_tasks: AtomicU64::new(0),
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
        .map(|s| ItemResult {
            item: s.item,
            job: s.job,
            batch: s.batch,
            priority: s.priority,
            arrival: s.arrival,
            ..Default::default()
        })
        .collect();
    let mut drivers = Drivers::new(job);
    let mut finished = 0usize;
    let mut ended = vec![false; subs.len()];
    let mut reconfigured = false;
    let mut interrupted = false;
    let mut seq = 0usize;
    let (mut last_progress, mut last_count) = (Instant::now(), 0u64);
    let mut ready: std::collections::BinaryHeap<(u8, std::cmp::Reverse<usize>, usize, Instant)> =
        std::collections::BinaryHeap::new();
    while finished < subs.len() {
        if stop_requested() && drivers.in_flight() == 0 {
            interrupted = true;
            break;
        }
        // Issued items wait at the source ordered by priority (FIFO within a
        // class), then enter the first stage as backpressure allows.
        while !stop_requested() {
            let now = Instant::now();
            let Some(slot) = drivers.issue(subs, now.saturating_duration_since(start)) else {
                break;
            };
            // Closed loop: the clock starts now; open loop: at the scheduled arrival.
            let began = if job.closed_loop {
                now
            } else {
                start + subs[slot].arrival
            };
            results[slot].arrival = began.saturating_duration_since(start);
            let class = if job.policy == Policy::Priority {
                subs[slot].priority
            } else {
                0
            };
            ready.push((class, std::cmp::Reverse(seq), slot, began));
            seq += 1;
        }
        while let Some((_, _, slot, began)) = ready.pop() {
            shared.route(Item {
                slot,
                stage: 0,
                payload: Payload::default(),
                clock: Clock::new(began),
                attempts: 0,
                ended: None,
            });
        }
        let wait = match drivers.next_arrival(subs) {
            Some(at) => at.saturating_sub(start.elapsed()).max(Duration::from_micros(50)),
            None => Duration::from_millis(50),
        };
        match sink_rx.recv_timeout(wait) {
            Ok(first) => {
                for item in std::iter::once(first).chain(sink_rx.try_iter()) {
                    let r = &mut results[item.slot];
                    item.clock.fill(r);
                    r.attempts = item.attempts;
                    r.failed = item.payload.digest == u64::MAX;
                    r.digest = item.payload.digest;
                    r.llm_wait = item.payload.llm_wait;
                    r.llm_service = item.payload.llm_service;
                    // Completion: when the last stage finished executing.
                    r.done = item.ended.unwrap_or_else(Instant::now).saturating_duration_since(start);
                    finished += 1;
                    ended[item.slot] = true;
                    drivers.done(&subs[item.slot]);
                }
            }
            Err(_) => {
                let count =
                    shared.completed_tasks.load(Ordering::Relaxed) + shared.failed_tasks.load(Ordering::Relaxed);
                if count != last_count {
                    (last_progress, last_count) = (Instant::now(), count);
                } else if drivers.in_flight() > 0 && last_progress.elapsed() > job.faults.stall_limit() {
                    // No task ended for too long: the missing ones are lost.
                    interrupted = true;
                    break;
                }
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
                    shared.slots[n].set_limit(rc.workers_per_node);
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
    if finished < subs.len() {
        interrupted = true;
        results = drivers.unfinished(results, &ended);
    }
    RunOutcome {
        items: results,
        node_tasks: shared.node_tasks.iter().map(|c| c.load(Ordering::Relaxed)).collect(),
        // Counted where each task (attempt) is submitted, independently of how it ended.
        tasks_submitted: shared.submitted_tasks.load(Ordering::Relaxed),
        tasks_completed: shared.completed_tasks.load(Ordering::Relaxed),
        tasks_failed: shared.failed_tasks.load(Ordering::Relaxed),
        retries: shared.retries.load(Ordering::Relaxed),
        wall: start.elapsed(),
        interrupted,
    }
}
