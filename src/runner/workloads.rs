//! The workload catalogue (SPEC §6): Q1–Q8 and the paper's exp1–exp4, each
//! a list of [`Spec`]s — one engine run per spec and repeat — carrying the
//! dimensions Tables 1–6 group by.

use super::engine::{Faults, Policy, Reconfig};
use super::ops::{Complexity, OpKind};
use super::RunFlags;
use serde_json::{json, Map, Value};

pub const EXPERIMENTS: [&str; 12] = [
    "Q1", "Q2", "Q3", "Q4", "Q5", "Q6", "Q7", "Q8", "exp1", "exp2", "exp3", "exp4",
];

pub const RAG: &[OpKind] = &[OpKind::Embed, OpKind::Retrieve, OpKind::Context, OpKind::Generate];
pub const EMBED_ONLY: &[OpKind] = &[OpKind::Embed];
pub const COMPUTE: &[OpKind] = &[OpKind::Compute, OpKind::Compute];
/// Q3's aggressor: two compute steps of the heavy complexity.
pub const HEAVY_COMPUTE: &[OpKind] = &[OpKind::HeavyCompute, OpKind::HeavyCompute];

/// The pipeline-depth variants of exp2b (2, 3 and 5 stages).
pub fn rag_of_depth(stages: usize) -> Vec<OpKind> {
    match stages {
        2 => vec![OpKind::Retrieve, OpKind::Generate],
        3 => vec![OpKind::Embed, OpKind::Retrieve, OpKind::Generate],
        5 => vec![
            OpKind::Embed,
            OpKind::Retrieve,
            OpKind::Rerank,
            OpKind::Context,
            OpKind::Generate,
        ],
        _ => RAG.to_vec(),
    }
}

/// How items arrive.
#[derive(Clone, Debug)]
pub enum Arrivals {
    /// All at once, at most `in_flight` at a time.
    Closed { in_flight: usize },
    /// Poisson arrivals at `rate` items/s (open loop).
    Poisson { rate: f64 },
    /// `size` items every `every_ms` (open loop).
    Bursts { size: usize, every_ms: u64 },
    /// Job `j` starts `j × delay_ms` after the first (closed loop per job).
    Staggered { delay_ms: u64, in_flight: usize },
}

impl Arrivals {
    /// Closed loop: a job driver issues an item when its window has room
    /// (latency from issue); open loop: items arrive on a schedule
    /// (latency from the scheduled arrival).
    pub fn closed_loop(&self) -> bool {
        matches!(self, Arrivals::Closed { .. } | Arrivals::Staggered { .. })
    }
}

/// How a run's items become records.
#[derive(Clone, Debug)]
pub enum Groups {
    /// One record named after the spec.
    One,
    /// One record per job: names in job order.
    Jobs(Vec<String>),
    /// Priority > 0 and priority 0: `(high, low)` names.
    Priority(String, String),
}

/// One engine configuration.
#[derive(Clone, Debug)]
pub struct Spec {
    pub experiment: &'static str,
    pub workload: String,
    pub nodes: u32,
    /// Workers per operator, over all nodes.
    pub parallelism: u32,
    pub node_speeds: Vec<f64>,
    pub policy: Policy,
    pub pipelines: Vec<Vec<OpKind>>,
    /// Share of items on pipeline 1 (the rest on pipeline 0).
    pub second_pipeline_share: f64,
    /// Job `j` runs pipeline `j` instead (tenants with different work).
    pub pipeline_by_job: bool,
    /// Items per job.
    pub num_tasks: u64,
    pub jobs: u16,
    /// Job `j` runs its items `job_repeats[j]` times over (default once).
    pub job_repeats: Vec<u32>,
    /// The parity batch size (`--parity-batch-size`).
    pub batch_size: usize,
    pub arrivals: Arrivals,
    /// Share of items in the high priority class.
    pub high_priority_share: f64,
    pub faults: Faults,
    /// Workers per node after the online change, at half of the tasks.
    pub reconfig_to: Option<usize>,
    pub complexity: Complexity,
    pub groups: Groups,
    pub meta: Map<String, Value>,
}

impl Spec {
    fn base(experiment: &'static str, workload: impl Into<String>, flags: &RunFlags) -> Spec {
        let nodes = flags.nodes.max(1);
        Spec {
            experiment,
            workload: workload.into(),
            nodes,
            parallelism: flags.parallelism.max(1) * nodes,
            node_speeds: vec![1.0; nodes as usize],
            policy: flags.scheduler.unwrap_or(Policy::LoadAwareSpread),
            pipelines: vec![RAG.to_vec()],
            second_pipeline_share: 0.0,
            pipeline_by_job: false,
            num_tasks: flags.num_tasks.unwrap_or(if flags.quick { 48 } else { 400 }),
            jobs: 1,
            job_repeats: Vec::new(),
            batch_size: flags.parity_batch_size.clamp(1, usize::MAX as u64) as usize,
            arrivals: Arrivals::Closed { in_flight: 0 },
            high_priority_share: 0.0,
            faults: Faults::default(),
            reconfig_to: None,
            complexity: flags.complexity,
            groups: Groups::One,
            meta: Map::new(),
        }
    }

    /// Worker threads per node and operator.
    pub fn workers_per_node(&self) -> usize {
        (self.parallelism as usize).div_ceil(self.nodes as usize).max(1)
    }

    /// Items of a run, over all jobs.
    pub fn total_items(&self) -> u64 {
        (0..self.jobs as usize)
            .map(|j| self.num_tasks * self.job_repeats.get(j).copied().unwrap_or(1).max(1) as u64)
            .sum()
    }

    /// Total tasks of a run (items × stages of pipeline 0), for fault/reconfig triggers.
    pub fn expected_tasks(&self) -> u64 {
        self.total_items() * self.pipelines[0].len() as u64
    }

    pub fn reconfig(&self) -> Option<Reconfig> {
        self.reconfig_to.map(|w| Reconfig {
            at: self.expected_tasks() / 2,
            workers_per_node: w,
        })
    }

    fn with(mut self, key: &str, value: Value) -> Spec {
        self.meta.insert(key.into(), value);
        self
    }

    fn closed(mut self) -> Spec {
        self.arrivals = Arrivals::Closed {
            in_flight: 2 * self.parallelism.max(1) as usize,
        };
        self
    }
}

fn quick<T: Clone>(flags: &RunFlags, full: &[T], short: &[T]) -> Vec<T> {
    if flags.quick {
        short.to_vec()
    } else {
        full.to_vec()
    }
}

fn pipeline_ops(name: &str) -> Vec<Vec<OpKind>> {
    match name {
        "compute" => vec![COMPUTE.to_vec()],
        "mixed" => vec![RAG.to_vec(), COMPUTE.to_vec()],
        _ => vec![RAG.to_vec()],
    }
}

/// The specs of one experiment.
pub fn plan(experiment: &str, flags: &RunFlags) -> anyhow::Result<Vec<Spec>> {
    let q = |name: &'static str, workload: &str| Spec::base(name, workload, flags).with("pipeline", json!("rag"));
    let tasks = |full: u64, short: u64| flags.num_tasks.unwrap_or(if flags.quick { short } else { full });
    let specs = match experiment {
        "Q1" => vec![q("Q1", "Q1").closed().with("entry", json!("e2e_pipeline"))],
        "Q2" => {
            let mut s = q("Q2", "Q2");
            s.pipelines = vec![RAG.to_vec(), EMBED_ONLY.to_vec()];
            s.second_pipeline_share = 1.0 - flags.llm_ratio;
            s.arrivals = Arrivals::Poisson {
                rate: flags.request_rate,
            };
            vec![s
                .with("llm_ratio", json!(flags.llm_ratio))
                .with("request_rate", json!(flags.request_rate))
                .with("entry", json!("control_plane"))]
        }
        "Q3" => {
            // The victim alone, then beside an aggressive tenant running at the
            // same time: heavy compute, 4× the items, its own in-flight window.
            let alone = q("Q3", "Q3_victim_alone").closed();
            let mut shared = q("Q3", "Q3");
            shared.jobs = 2;
            shared.job_repeats = vec![1, 4];
            shared.pipelines = vec![RAG.to_vec(), HEAVY_COMPUTE.to_vec()];
            shared.pipeline_by_job = true;
            shared.groups = Groups::Jobs(vec!["Q3_victim".into(), "Q3_aggressor".into()]);
            vec![
                alone.with("tenant", json!("victim")),
                shared.closed().with("entry", json!("isolation")),
            ]
        }
        "Q4" => {
            let mut out = Vec::new();
            for nodes in quick(flags, &[1u32, 2, 4], &[1, 2]) {
                for per_node in [1u32, 2] {
                    let mut s = q("Q4", "Q4");
                    s.nodes = nodes;
                    s.parallelism = nodes * per_node;
                    s.node_speeds = vec![1.0; nodes as usize];
                    out.push(s.closed().with("entry", json!("scalability")));
                }
            }
            out
        }
        "Q5" => {
            let mut s = q("Q5", "Q5");
            s.nodes = flags.nodes.max(4);
            s.parallelism = s.nodes * flags.parallelism.max(1);
            s.node_speeds = (0..s.nodes).map(|i| [1.0, 1.0, 0.5, 0.25][i as usize % 4]).collect();
            let total = s.expected_tasks();
            s.faults = Faults::default();
            (s.faults.max_retries, s.faults.outage) = (3, Some((0, total * 3 / 10, total * 6 / 10)));
            let speeds = json!(s.node_speeds.clone());
            vec![s
                .closed()
                .with("node_speeds", speeds)
                .with("outage", json!({"node": 0, "from_share": 0.3, "to_share": 0.6}))
                .with("entry", json!("heterogeneity"))]
        }
        "Q6" => {
            let mut s = q("Q6", "Q6");
            s.policy = flags.scheduler.unwrap_or(Policy::Priority);
            s.high_priority_share = 0.2;
            s.arrivals = Arrivals::Bursts {
                size: 4 * s.parallelism as usize,
                every_ms: if flags.quick { 20 } else { 50 },
            };
            s.groups = Groups::Priority("Q6_high".into(), "Q6_low".into());
            vec![s.with("entry", json!("burst_priority"))]
        }
        "Q7" => {
            let mut s = q("Q7", "Q7");
            let before = s.workers_per_node();
            s.reconfig_to = Some(before + 2);
            vec![s
                .closed()
                .with("workers_per_node_before", json!(before))
                .with("workers_per_node_after", json!(before + 2))
                .with("entry", json!("reconfiguration"))]
        }
        "Q8" => {
            let mut s = q("Q8", "Q8");
            s.num_tasks = tasks(1000, 96);
            s.faults = Faults::default();
            (s.faults.fail_rate, s.faults.max_retries) = (0.05, 5);
            vec![s
                .closed()
                .with("fail_rate", json!(0.05))
                .with("entry", json!("recovery"))]
        }
        "exp1" => {
            // Strong scaling (the plan): the same RAG task count on 1, 4, 8 and
            // 16 nodes; every node's generate step calls the one shared endpoint.
            let n_tasks = tasks(2000, 200);
            let mut out = Vec::new();
            for nodes in [1u32, 4, 8, 16] {
                let mut s = Spec::base("exp1", format!("node_scaling_rag_{nodes}n"), flags);
                s.nodes = nodes;
                s.parallelism = nodes * flags.parallelism.max(1);
                s.node_speeds = vec![1.0; nodes as usize];
                s.num_tasks = n_tasks;
                out.push(s.closed().with("pipeline", json!("rag")));
            }
            out
        }
        "exp2" => {
            let mut out = Vec::new();
            for (level, n_tasks, nodes, par) in [
                ("low", 100u64, 2u32, 4u32),
                ("medium", 200, 4, 16),
                ("high", 500, 8, 64),
                ("extreme", 1000, 16, 128),
            ] {
                let mut s = Spec::base("exp2a", format!("load_{level}"), flags);
                s.nodes = nodes;
                s.parallelism = par;
                s.node_speeds = vec![1.0; nodes as usize];
                s.num_tasks = flags
                    .num_tasks
                    .unwrap_or(if flags.quick { n_tasks / 5 } else { n_tasks });
                out.push(
                    s.closed()
                        .with("pipeline", json!("rag"))
                        .with("load_level", json!(level)),
                );
            }
            // Schedulers at medium load on a heterogeneous cluster, below saturation
            // so placement matters.
            for policy in Policy::ALL {
                let mut s = Spec::base("exp2b", format!("scheduler_{}", policy.label()), flags);
                s.nodes = 4;
                s.parallelism = 16;
                s.node_speeds = vec![1.0, 1.0, 0.5, 0.5];
                s.policy = policy;
                s.num_tasks = tasks(200, 40);
                s.high_priority_share = if policy == Policy::Priority { 0.2 } else { 0.0 };
                s.arrivals = Arrivals::Closed { in_flight: 8 };
                out.push(
                    s.with("pipeline", json!("rag"))
                        .with("load_level", json!("medium"))
                        .with("node_speeds", json!([1.0, 1.0, 0.5, 0.5])),
                );
            }
            // Pipeline depth (shallow 2, middle 3, deep 5 stages) at medium load.
            for stages in [2usize, 3, 5] {
                let mut s = Spec::base("exp2b", format!("pipeline_depth_{stages}"), flags);
                s.nodes = 4;
                s.parallelism = 16;
                s.node_speeds = vec![1.0; 4];
                s.pipelines = vec![rag_of_depth(stages)];
                s.num_tasks = tasks(200, 40);
                s.arrivals = Arrivals::Closed { in_flight: 16 };
                out.push(
                    s.with("pipeline", json!("rag"))
                        .with("load_level", json!("medium"))
                        .with("pipeline_stages", json!(stages)),
                );
            }
            out
        }
        "exp3" => {
            let mut out = Vec::new();
            for pipeline in ["rag", "compute"] {
                for c in quick(flags, &[1usize, 2, 4, 8, 16, 32], &[1, 4, 16]) {
                    let mut s = Spec::base("exp3", format!("concurrency_{pipeline}_{c}"), flags);
                    s.nodes = 4;
                    s.parallelism = 8;
                    s.node_speeds = vec![1.0; 4];
                    s.pipelines = pipeline_ops(pipeline);
                    s.num_tasks = tasks(400, 48);
                    s.arrivals = Arrivals::Closed { in_flight: c };
                    out.push(s.with("pipeline", json!(pipeline)).with("concurrency", json!(c)));
                }
            }
            out
        }
        "exp4" => {
            // Every job is its own driver with its own in-flight window; the
            // jobs start together and share the 4-node cluster.
            let per_job = tasks(1000, 64);
            let mut out = Vec::new();
            for jobs in [1u16, 2, 4, 8] {
                let mut s = Spec::base("exp4", format!("jobs_{jobs}"), flags);
                s.nodes = 4;
                s.parallelism = 8;
                s.node_speeds = vec![1.0; 4];
                s.jobs = jobs;
                s.num_tasks = per_job;
                s.groups = Groups::Jobs((0..jobs).map(|j| format!("job{j}_rag")).collect());
                out.push(
                    s.closed()
                        .with("pipeline", json!("rag"))
                        .with("concurrent_jobs", json!(jobs)),
                );
            }
            // Staggered starts (admission control): job j starts j × delay after
            // the first. The emulated endpoint is time-compressed, so the delays
            // are the plan's ÷ 20 (0.05, 0.1, 0.25 s; quick runs ÷ 200), small
            // beside a job's length as in the plan; records carry the delay used.
            for delay in [0.0f64, 1.0, 2.0, 5.0] {
                let delay = if flags.quick { delay / 200.0 } else { delay / 20.0 };
                let mut s = Spec::base("exp4", format!("staggered_{delay}s"), flags);
                s.nodes = 4;
                s.parallelism = 8;
                s.node_speeds = vec![1.0; 4];
                s.jobs = 3;
                s.num_tasks = per_job;
                s.arrivals = Arrivals::Staggered {
                    delay_ms: (delay * 1000.0).round() as u64,
                    in_flight: 16,
                };
                s.groups = Groups::Jobs((0..3).map(|j| format!("staggered_job{j}_rag")).collect());
                out.push(s.with("pipeline", json!("rag")).with("start_delay_s", json!(delay)));
            }
            out
        }
        other => anyhow::bail!(
            "unknown experiment {other:?}: use one of {} or all",
            EXPERIMENTS.join(", ")
        ),
    };
    Ok(specs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp1_is_strong_scaling_on_the_plans_node_counts() {
        for quick in [false, true] {
            let flags = RunFlags {
                quick,
                ..RunFlags::default()
            };
            let specs = plan("exp1", &flags).unwrap();
            assert_eq!(specs.iter().map(|s| s.nodes).collect::<Vec<_>>(), [1, 4, 8, 16]);
            let counts: Vec<u64> = specs.iter().map(|s| s.total_items()).collect();
            assert!(
                counts.iter().all(|&c| c == counts[0]),
                "quick {quick}: the task count is fixed: {counts:?}"
            );
            assert_eq!(counts[0], if quick { 200 } else { 2000 });
        }
        let flags = RunFlags {
            num_tasks: Some(100),
            ..RunFlags::default()
        };
        assert!(plan("exp1", &flags).unwrap().iter().all(|s| s.total_items() == 100));
    }

    #[test]
    fn exp2b_has_pipeline_depth_variants_of_2_3_and_5_stages() {
        let specs = plan("exp2", &RunFlags::default()).unwrap();
        let depth: Vec<(String, usize)> = specs
            .iter()
            .filter(|s| s.workload.starts_with("pipeline_depth_"))
            .map(|s| (s.workload.clone(), s.pipelines[0].len()))
            .collect();
        assert_eq!(
            depth,
            [
                ("pipeline_depth_2".to_string(), 2),
                ("pipeline_depth_3".to_string(), 3),
                ("pipeline_depth_5".to_string(), 5)
            ]
        );
        for s in specs.iter().filter(|s| s.workload.starts_with("pipeline_depth_")) {
            assert_eq!(s.experiment, "exp2b");
            assert_eq!(
                s.pipelines[0].last(),
                Some(&OpKind::Generate),
                "every variant ends at the shared endpoint"
            );
            assert_eq!(s.meta["pipeline_stages"], json!(s.pipelines[0].len()));
        }
    }

    #[test]
    fn q3_aggressor_is_heavy_with_four_times_the_items() {
        let specs = plan("Q3", &RunFlags::default()).unwrap();
        let shared = &specs[1];
        assert_eq!(shared.jobs, 2);
        assert_eq!(shared.pipelines[1], HEAVY_COMPUTE);
        assert_eq!(shared.total_items(), 5 * shared.num_tasks);
        let (subs, window) = crate::runner::submissions(shared, &(0..10).collect::<Vec<_>>(), 1);
        assert_eq!(subs.iter().filter(|s| s.job == 1).count(), 40);
        assert!(subs.iter().all(|s| s.arrival.is_zero()), "both tenants start at once");
        assert_eq!(window, 2 * shared.parallelism as usize, "each job's own window");
    }
}
