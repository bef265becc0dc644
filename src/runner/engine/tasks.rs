//! `local-tasks`: the task model. The driver thread is the central
//! scheduler: its job drivers issue items, it turns each item × stage into
//! a task, places tasks on nodes by policy, and gets every result back
//! before submitting the item's next stage. Each node is a pool of
//! `workers_per_node` worker threads (its execution slots) reading its
//! task queue.

use super::{
    injected_failure, place, stop_requested, Clock, Drivers, ItemResult, Job, NodeLoad, Phase, Policy, RunOutcome,
};
use crate::runner::ops::Payload;
use crossbeam_channel::{unbounded, Receiver, RecvTimeoutError, Sender};
use std::collections::{BinaryHeap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Task {
    slot: usize,
    stage: usize,
    attempt: u32,
    payload: Payload,
    /// The item's clock (its mark: when the task entered the central queue).
    clock: Clock,
}

// Messages move, never sit in a collection: boxing the task would cost an
// allocation per task.
#[allow(clippy::large_enum_variant)]
enum Msg {
    Run(Task, Instant),
    Retire,
}

struct Done {
    task: Task,
    node: usize,
    ok: bool,
    dispatched: Instant,
    started: Instant,
    ended: Instant,
}

/// The central queue: FIFO, or under [`Policy::Priority`] highest class
/// first and FIFO within a class.
enum CentralQueue {
    Fifo(VecDeque<Task>),
    Priority(BinaryHeap<Queued>, u64),
}

/// A queued task ordered by (priority, earlier first).
struct Queued(u8, std::cmp::Reverse<u64>, Task);

impl PartialEq for Queued {
    fn eq(&self, other: &Self) -> bool {
        (self.0, self.1) == (other.0, other.1)
    }
}
impl Eq for Queued {}
impl PartialOrd for Queued {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Queued {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.0, self.1).cmp(&(other.0, other.1))
    }
}

impl CentralQueue {
    fn new(policy: Policy) -> Self {
        if policy == Policy::Priority {
            CentralQueue::Priority(BinaryHeap::new(), 0)
        } else {
            CentralQueue::Fifo(VecDeque::new())
        }
    }

    fn push(&mut self, task: Task, priority: u8) {
        match self {
            CentralQueue::Fifo(q) => q.push_back(task),
            CentralQueue::Priority(heap, seq) => {
                *seq += 1;
                heap.push(Queued(priority, std::cmp::Reverse(*seq), task));
            }
        }
    }

    fn pop(&mut self) -> Option<Task> {
        match self {
            CentralQueue::Fifo(q) => q.pop_front(),
            CentralQueue::Priority(heap, _) => heap.pop().map(|q| q.2),
        }
    }

    fn is_empty(&self) -> bool {
        match self {
            CentralQueue::Fifo(q) => q.is_empty(),
            CentralQueue::Priority(heap, _) => heap.is_empty(),
        }
    }
}

struct Node {
    tx: Sender<Msg>,
    down: Arc<AtomicBool>,
    load: NodeLoad,
}

/// What every worker reads, shared rather than copied per thread.
struct WorkerView {
    pipelines: Vec<Vec<crate::runner::ops::OpKind>>,
    submissions: Vec<super::Submission>,
}

fn spawn_worker(
    job: &Job,
    view: &Arc<WorkerView>,
    node: usize,
    rx: Receiver<Msg>,
    done: Sender<Done>,
    down: Arc<AtomicBool>,
) -> std::thread::JoinHandle<()> {
    let ops = job.ops.clone();
    let view = view.clone();
    let speed = job.node_speeds[node];
    let (seed, rate) = (job.seed, job.faults.fail_rate);
    let faults = job.faults;
    std::thread::spawn(move || {
        for msg in rx {
            let Msg::Run(mut task, dispatched) = msg else { return };
            let started = Instant::now();
            let sub = view.submissions[task.slot];
            let ok = if down.load(Ordering::Relaxed) {
                false // the node is lost: the task is handed back for re-placement
            } else {
                let op = view.pipelines[sub.pipeline as usize][task.stage];
                let input = std::mem::take(&mut task.payload);
                let out = ops.run(op, sub.item, input.clone(), speed);
                let ok = out.error.is_none() && !injected_failure(seed, sub.item, task.stage, task.attempt, rate);
                // A failed attempt keeps its input, so the retry starts from the same state.
                task.payload = if ok { out } else { input };
                ok
            };
            let ended = Instant::now();
            if faults.loses(sub.item, task.stage) && task.attempt == 0 {
                continue; // the result never comes back
            }
            if done
                .send(Done {
                    task,
                    node,
                    ok,
                    dispatched,
                    started,
                    ended,
                })
                .is_err()
            {
                return;
            }
        }
    })
}

pub fn run(job: &Job) -> RunOutcome {
    let start = Instant::now();
    let n_nodes = job.node_speeds.len();
    let (done_tx, done_rx) = unbounded::<Done>();
    let mut nodes: Vec<Node> = Vec::with_capacity(n_nodes);
    let mut handles = Vec::new();
    let mut node_rx = Vec::new();
    let view = Arc::new(WorkerView {
        pipelines: job.pipelines.clone(),
        submissions: job.submissions.clone(),
    });
    for i in 0..n_nodes {
        let (tx, rx) = unbounded();
        let down = Arc::new(AtomicBool::new(false));
        for _ in 0..job.workers_per_node {
            handles.push(spawn_worker(job, &view, i, rx.clone(), done_tx.clone(), down.clone()));
        }
        node_rx.push(rx);
        nodes.push(Node {
            tx,
            down,
            load: NodeLoad {
                outstanding: 0,
                workers: job.workers_per_node,
                placed: 0,
                up: true,
            },
        });
    }

    let subs = &job.submissions;
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
    let mut out = RunOutcome {
        node_tasks: vec![0; n_nodes],
        ..Default::default()
    };
    let mut queue = CentralQueue::new(job.policy);
    let mut drivers = Drivers::new(job);
    let mut finished = 0usize;
    let mut turn = 0usize;
    let mut completed_tasks = 0u64;
    let mut reconfigured = false;
    let mut last_progress = Instant::now();
    let mut finished_slots = vec![false; subs.len()];

    while finished < subs.len() {
        // The job drivers issue what their windows, batches and arrival times allow.
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
            let task = Task {
                slot,
                stage: 0,
                attempt: 0,
                payload: Payload::default(),
                clock: Clock::new(began),
            };
            queue.push(task, subs[slot].priority);
            out.tasks_submitted += 1;
        }
        let in_flight = drivers.in_flight();
        if stop_requested() && in_flight == 0 {
            out.interrupted = true;
            break;
        }
        // Place queued tasks.
        if !queue.is_empty() {
            let mut loads: Vec<NodeLoad> = nodes.iter().map(|n| n.load).collect();
            while !queue.is_empty() {
                let Some(node) = place(job.policy, &loads, &mut turn) else {
                    break;
                };
                let task = queue.pop().expect("not empty");
                loads[node].outstanding += 1;
                loads[node].placed += 1;
                nodes[node].load = loads[node];
                let _ = nodes[node].tx.send(Msg::Run(task, Instant::now()));
            }
        }
        // Wait for a result, or for the next arrival.
        let wait = match drivers.next_arrival(subs) {
            Some(at) => at.saturating_sub(start.elapsed()).max(Duration::from_micros(50)),
            None => Duration::from_millis(100),
        };
        let done = match done_rx.recv_timeout(wait) {
            Ok(d) => d,
            Err(RecvTimeoutError::Timeout) => {
                if in_flight > 0 && last_progress.elapsed() > job.faults.stall_limit() {
                    // No task ended for too long: the missing ones are lost.
                    out.interrupted = true;
                    break;
                }
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => break,
        };
        last_progress = Instant::now();
        let mut batch = vec![done];
        batch.extend(done_rx.try_iter());
        for d in batch {
            let Done {
                mut task,
                node,
                ok,
                dispatched,
                started,
                ended,
            } = d;
            nodes[node].load.outstanding -= 1;
            task.clock.to(Phase::Scheduling, dispatched);
            task.clock.to(Phase::Queueing, started);
            task.clock.to(Phase::Execution, ended);
            let r = &mut results[task.slot];
            r.attempts += 1;
            let lost_node = nodes[node].down.load(Ordering::Relaxed);
            if !lost_node {
                out.node_tasks[node] += 1;
            }
            if ok {
                out.tasks_completed += 1;
                completed_tasks += 1;
            } else {
                out.tasks_failed += 1;
            }
            let stages = job.pipelines[subs[task.slot].pipeline as usize].len();
            let priority = subs[task.slot].priority;
            if !ok && (lost_node || task.attempt < job.faults.max_retries) {
                // Retry: the same stage again, placed anew.
                out.retries += 1;
                out.tasks_submitted += 1;
                task.attempt += if lost_node { 0 } else { 1 };
                task.clock.to(Phase::Transfer, Instant::now());
                queue.push(task, priority);
            } else if ok && task.stage + 1 < stages {
                task.stage += 1;
                task.attempt = 0;
                task.clock.to(Phase::Transfer, Instant::now());
                out.tasks_submitted += 1;
                queue.push(task, priority);
            } else {
                r.failed = !ok;
                r.digest = task.payload.digest;
                r.llm_wait = task.payload.llm_wait;
                r.llm_service = task.payload.llm_service;
                task.clock.fill(r);
                // Completion: when the last stage finished executing.
                r.done = ended.saturating_duration_since(start);
                finished += 1;
                finished_slots[task.slot] = true;
                drivers.done(&subs[task.slot]);
            }
        }
        // Outage and recovery of a node, by completed tasks.
        if let Some((node, from, to)) = job.faults.outage {
            if node < n_nodes {
                let lost = completed_tasks >= from && completed_tasks < to;
                if nodes[node].load.up == lost {
                    nodes[node].load.up = !lost;
                    nodes[node].down.store(lost, Ordering::Relaxed);
                }
            }
        }
        // Online reconfiguration of the workers per node.
        if let Some(rc) = job.reconfig {
            if !reconfigured && completed_tasks >= rc.at {
                reconfigured = true;
                for (i, n) in nodes.iter_mut().enumerate() {
                    if rc.workers_per_node > n.load.workers {
                        for _ in n.load.workers..rc.workers_per_node {
                            handles.push(spawn_worker(
                                job,
                                &view,
                                i,
                                node_rx[i].clone(),
                                done_tx.clone(),
                                n.down.clone(),
                            ));
                        }
                    } else {
                        for _ in rc.workers_per_node..n.load.workers {
                            let _ = n.tx.send(Msg::Retire);
                        }
                    }
                    n.load.workers = rc.workers_per_node;
                }
            }
        }
    }
    drop(nodes);
    drop(node_rx);
    drop(done_tx);
    for h in handles {
        let _ = h.join();
    }
    if finished < subs.len() {
        out.interrupted = true;
        // Items never issued are dropped; issued ones that never finished stay, failed.
        results = drivers.unfinished(results, &finished_slots);
    }
    out.items = results;
    out.wall = start.elapsed();
    out
}
