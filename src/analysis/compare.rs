//! The comparison: records grouped by side (backend, input or scheduler)
//! and workload shape, a config-mismatch check per comparable group, and
//! per-metric statistics and significance between each side and the
//! baseline. Grouping is by hash maps, O(n) in the records.

use super::stats::{self, Estimate};
use crate::analysis::estimand::{self, Correction, RatioTest};
use crate::ingest::IngestReport;
use crate::model::config_hash::SHAPE_FIELDS;
use crate::model::intern::FastHash;
use crate::model::{Dimensions, Sym, UnifiedRecord};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// What a "side" of the comparison is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Axis {
    /// One side per backend (sage, ray, …).
    Backend,
    /// One side per input argument (before/after a change).
    Input,
    /// One side per scheduler policy.
    Scheduler,
}

impl Axis {
    /// The axis as written on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Axis::Backend => "backend",
            Axis::Input => "input",
            Axis::Scheduler => "scheduler",
        }
    }
}

/// What a comparison concludes. Serialised (summary.json, history) and
/// shown as [`Verdict::name`]: `better`, `worse`, `~`, `unstable`, `n/a`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// Significantly better than the baseline.
    Better,
    /// Significantly worse than the baseline.
    Worse,
    /// No significant difference.
    Same,
    /// The primary test and Mann–Whitney disagree (the note says how).
    Unstable,
    /// No verdict: no ratio or no interval (the note says why).
    NoVerdict,
}

impl Serialize for Verdict {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl Verdict {
    pub const ALL: [Verdict; 5] = [
        Verdict::Better,
        Verdict::Worse,
        Verdict::Same,
        Verdict::Unstable,
        Verdict::NoVerdict,
    ];

    /// The verdict as written in reports and summary.json.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Better => "better",
            Verdict::Worse => "worse",
            Verdict::Same => "~",
            Verdict::Unstable => "unstable",
            Verdict::NoVerdict => "n/a",
        }
    }

    /// The verdict a [`Verdict::name`] stands for (history entries store names).
    pub fn from_name(name: &str) -> Option<Verdict> {
        Verdict::ALL.into_iter().find(|v| v.name() == name)
    }

    /// `better` or `worse`: a significant change.
    pub fn is_change(self) -> bool {
        matches!(self, Verdict::Better | Verdict::Worse)
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.name())
    }
}

/// The axis when the user gives none: backends when the inputs hold several,
/// else one side per input argument (the before/after case).
pub fn default_axis(report: &IngestReport, inputs: usize) -> Axis {
    // One backend (or none) throughout: stops at the first other one.
    let one_backend = report
        .records
        .split_first()
        .is_none_or(|(first, rest)| rest.iter().all(|r| r.backend == first.backend));
    if one_backend && inputs > 1 {
        Axis::Input
    } else {
        Axis::Backend
    }
}

/// Options of a comparison.
#[derive(Clone, Debug)]
pub struct CompareOptions {
    pub axis: Axis,
    /// Reference side; default `sage` when present, else the first side.
    pub baseline: Option<String>,
    /// Confidence level of every interval; significance level is 1 − this.
    pub confidence: f64,
    /// Equivalence margin (relative, e.g. 0.05) for TOST, when asked.
    pub equivalence: Option<f64>,
    /// Side names of the inputs for `--by input` (one per argument).
    pub input_labels: Vec<String>,
    /// Multiple-comparison correction over the report's comparisons.
    pub correction: Correction,
    /// Keep failed runs (success rate 0, nothing measured) in the statistics.
    pub include_failed: bool,
}

/// A run left out of the statistics because it failed.
#[derive(Clone, Debug, Serialize)]
pub struct FailedRun {
    pub workload: String,
    pub run_id: String,
    pub backend: String,
    /// `file:line` of the record.
    pub at: String,
    pub reason: &'static str,
}

/// A metric of the unified record that is compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    Throughput,
    LatencyP95,
    LatencyP99,
}

impl Metric {
    pub const ALL: [Metric; 3] = [Metric::Throughput, Metric::LatencyP95, Metric::LatencyP99];

    pub fn name(self) -> &'static str {
        match self {
            Metric::Throughput => "throughput",
            Metric::LatencyP95 => "latency_p95",
            Metric::LatencyP99 => "latency_p99",
        }
    }

    pub fn unit(self) -> &'static str {
        match self {
            Metric::Throughput => "items/s",
            _ => "ms",
        }
    }

    /// Throughput: more is better; latency: less is better.
    pub fn higher_is_better(self) -> bool {
        matches!(self, Metric::Throughput)
    }

    pub fn of(self, r: &UnifiedRecord) -> Option<f64> {
        match self {
            Metric::Throughput => Some(r.throughput),
            Metric::LatencyP95 => r.latency_p95,
            Metric::LatencyP99 => r.latency_p99,
        }
    }
}

/// Statistics of one metric over the runs of a group.
#[derive(Clone, Debug, Default, Serialize)]
pub struct MetricStats {
    pub n: usize,
    pub mean: Option<f64>,
    pub sd: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub median: Option<f64>,
    pub median_ci_low: Option<f64>,
    pub median_ci_high: Option<f64>,
    /// Where per-task latencies exist: the quantile of the pooled tasks with
    /// its order-statistic interval.
    pub pooled: Option<Estimate>,
}

impl MetricStats {
    fn of(values: &[f64], confidence: f64) -> MetricStats {
        match stats::summarize(values, confidence) {
            None => MetricStats::default(),
            Some(s) => MetricStats {
                n: s.n,
                mean: Some(s.mean),
                sd: s.sd,
                ci_low: s.mean_ci.map(|c| c.0),
                ci_high: s.mean_ci.map(|c| c.1),
                median: Some(s.median),
                median_ci_low: s.median_ci.map(|c| c.0),
                median_ci_high: s.median_ci.map(|c| c.1),
                pooled: None,
            },
        }
    }
}

/// Success rate of a group: Wilson interval over pooled task counts when
/// they are known, else the mean of the per-run rates.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SuccessStats {
    pub n: usize,
    pub value: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub method: &'static str,
}

/// One side × workload (× the shape dimensions that vary within a side).
#[derive(Clone, Debug, Serialize)]
pub struct GroupStats {
    pub side: String,
    pub workload: String,
    /// The varying shape dimensions, e.g. `nodes=4 scheduler=fifo`; empty when none vary.
    pub variant: String,
    pub n: usize,
    pub throughput: MetricStats,
    pub latency_p95: MetricStats,
    pub latency_p99: MetricStats,
    pub success_rate: SuccessStats,
    /// Distinct run ids of the group (`run_count` of them).
    pub run_count: usize,
    /// Every distinct run id, sorted; summary.json holds only the first
    /// [`RUN_IDS_SAMPLE`] (the full list is in comparison.csv), so its size
    /// grows with groups, not with records.
    #[serde(rename = "run_ids_sample", serialize_with = "first_run_ids")]
    pub run_ids: Vec<Sym>,
    pub config_hashes: Vec<Sym>,
    pub shape_hashes: Vec<Sym>,
}

/// Run ids per group in summary.json.
pub const RUN_IDS_SAMPLE: usize = 10;

fn first_run_ids<S: serde::Serializer>(ids: &[Sym], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(ids.iter().take(RUN_IDS_SAMPLE))
}

impl GroupStats {
    pub fn metric(&self, m: Metric) -> &MetricStats {
        match m {
            Metric::Throughput => &self.throughput,
            Metric::LatencyP95 => &self.latency_p95,
            Metric::LatencyP99 => &self.latency_p99,
        }
    }
}

/// One shape field that differs across sides within a comparable group.
#[derive(Clone, Debug, Serialize)]
pub struct FieldDiff {
    pub field: &'static str,
    /// side → the value(s) that side ran with.
    pub values: BTreeMap<String, String>,
    /// side → up to three files behind those values.
    pub files: BTreeMap<String, Vec<String>>,
    /// side → each known value with up to three records holding it
    /// (`value: file:line (run R), …`).
    pub evidence: BTreeMap<String, Vec<String>>,
}

/// A comparable group whose sides did not run the same workload shape.
#[derive(Clone, Debug, Serialize)]
pub struct Mismatch {
    pub workload: String,
    pub variant: String,
    pub run_id: Option<String>,
    pub fields: Vec<FieldDiff>,
    pub explanation: String,
}

/// A group where only upstream's `config_hash` differs across sides.
#[derive(Clone, Debug, Serialize)]
pub struct HashNote {
    pub workload: String,
    pub variant: String,
    pub shape_hash: String,
    pub upstream_hashes: BTreeMap<String, Vec<String>>,
    pub explanation: String,
}

/// candidate vs baseline on one metric of one group.
#[derive(Clone, Debug, Serialize)]
pub struct MetricComparison {
    pub workload: String,
    pub variant: String,
    pub metric: Metric,
    pub baseline: String,
    pub candidate: String,
    pub n_baseline: usize,
    pub n_candidate: usize,
    pub baseline_mean: Option<f64>,
    pub candidate_mean: Option<f64>,
    /// candidate mean / baseline mean: the comparison's one estimand.
    pub ratio: Option<f64>,
    /// The ratio's interval at the family-adjusted level `ci_level`: the
    /// ratios the primary test does not reject (see [`crate::analysis::estimand`]).
    /// It excludes 1 exactly when the comparison is significant.
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    /// Confidence level of `ci_low..ci_high` (1 − the adjusted α).
    pub ci_level: Option<f64>,
    /// The same interval at the unadjusted `--confidence`, for reference.
    pub ci_unadjusted: Option<(f64, f64)>,
    pub ratio_method: Option<&'static str>,
    /// Two-sided p-value of the primary test (Welch t of ratio = 1).
    pub p_value: Option<f64>,
    pub test: Option<&'static str>,
    /// Adjusted over all comparisons of the report (`correction`).
    pub p_adjusted: Option<f64>,
    /// Exact permutation Mann–Whitney p-value, the robustness check.
    pub mann_whitney_p: Option<f64>,
    pub significant: bool,
    /// `better`, `worse`, `~` (no significant difference), `unstable` (the
    /// primary test and Mann–Whitney disagree) or `n/a` (no ratio).
    pub verdict: Verdict,
    /// Why there is no verdict (`n/a`), or why it is `unstable`.
    pub note: Option<String>,
    /// For `~`: runs per side the primary test needs, at the adjusted level,
    /// to detect a 5 % difference with 80 % power.
    pub runs_needed: Option<usize>,
    /// TOST p-value for equivalence within ±`--equivalence`, when asked.
    pub equivalence_p: Option<f64>,
    /// Direction of Mann–Whitney (+1 candidate tends larger) — internal.
    #[serde(skip)]
    mw_direction: i8,
    #[serde(skip)]
    test_state: Option<RatioTest>,
    #[serde(skip)]
    sds: Option<(f64, f64)>,
}

impl MetricComparison {
    /// Relative change in percent (candidate vs baseline).
    pub fn change_pct(&self) -> Option<f64> {
        self.ratio.map(|r| (r - 1.0) * 100.0)
    }

    /// True when the candidate is significantly worse than the baseline by
    /// more than `threshold` (relative, e.g. 0.05).
    pub fn is_regression(&self, threshold: f64) -> bool {
        self.significant && self.verdict == Verdict::Worse && self.ratio.is_some_and(|r| (r - 1.0).abs() > threshold)
    }
}

/// Everything the report shows.
#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    pub axis: Axis,
    pub sides: Vec<String>,
    pub baseline: Option<String>,
    pub confidence: f64,
    /// The multiple-comparison correction, the family size (comparisons with
    /// a p-value) and the adjusted level every verdict and interval uses.
    pub correction: Correction,
    /// Failed runs left out of every statistic (see `--include-failed`).
    pub failed_runs: Vec<FailedRun>,
    pub family_size: usize,
    pub adjusted_alpha: f64,
    pub mismatches: Vec<Mismatch>,
    /// Shape fields recorded on one side only: notes, not mismatches.
    pub unverified: Vec<Unverified>,
    pub hash_notes: Vec<HashNote>,
    pub groups: Vec<GroupStats>,
    pub comparisons: Vec<MetricComparison>,
}

impl Comparison {
    /// Side names with the baseline first, then the others by name.
    pub fn sides_baseline_first(&self) -> Vec<String> {
        let mut out: Vec<String> = self.baseline.iter().cloned().collect();
        out.extend(
            self.sides
                .iter()
                .filter(|s| Some(*s) != self.baseline.as_ref())
                .cloned(),
        );
        out
    }
}

/// Detectable relative difference for the power analysis of `~` verdicts.
pub const POWER_EFFECT: f64 = 0.05;
pub const POWER: f64 = 0.80;

/// Shape dimensions that may split a workload into variants, in order.
const VARIANT_DIMS: [&str; 14] = [
    "nodes",
    "parallelism",
    "pipeline",
    "scheduler",
    "load_level",
    "concurrency",
    "concurrent_jobs",
    "start_delay",
    "task_complexity",
    "num_tasks",
    "pipeline_stages",
    "arrival",
    "llm_ratio",
    "generator",
];

/// Every knob that changes the work (issue 16): task complexity, pipeline
/// depth, arrivals (model, rate, burst shape), LLM ratio, the generator
/// (the embedded endpoint's model, or endpoint and model), and `work_hash`,
/// the runner's digest of all of them and the rest of the workload
/// definition (a difference there alone means a knob without a field).
const WORK_FIELDS: [&str; 6] = [
    "task_complexity",
    "pipeline_stages",
    "arrival",
    "llm_ratio",
    "generator",
    "work_hash",
];

/// Fields that must agree across sides for a fair comparison: the shape
/// fields (SPEC §3; the workload is the group's key), the shuffle version,
/// then the work knobs.
fn checked_fields() -> impl Iterator<Item = &'static str> {
    SHAPE_FIELDS
        .into_iter()
        .filter(|f| *f != "workload")
        .chain(["shuffle_version"])
        .chain(WORK_FIELDS)
}

/// How a shape field that a record does not carry is shown.
const UNKNOWN: &str = "—";

fn dim_value(name: &str, r: &UnifiedRecord, d: &Dimensions) -> String {
    fn opt<T: ToString>(v: Option<T>) -> String {
        v.map(|x| x.to_string()).unwrap_or_else(|| UNKNOWN.into())
    }
    match name {
        "seed" => opt(r.seed),
        "nodes" => r.nodes.to_string(),
        "parallelism" => r.parallelism.to_string(),
        "pipeline" => opt(d.pipeline),
        "scheduler" => opt(d.scheduler),
        "load_level" => opt(d.load_level),
        "concurrency" => opt(d.concurrency),
        "concurrent_jobs" => opt(d.concurrent_jobs),
        "start_delay" => opt(d.start_delay_ms.map(|ms| format!("{}s", ms as f64 / 1000.0))),
        "task_complexity" => opt(d.task_complexity),
        "num_tasks" => opt(d.num_tasks),
        "warmup_items" => opt(d.warmup_items),
        "parity_batch_size" => opt(d.parity_batch_size),
        "shuffle_version" => opt(d.shuffle_version),
        "pipeline_stages" => opt(d.pipeline_stages),
        "arrival" => opt(d.arrival),
        "llm_ratio" => opt(d.llm_ratio),
        "generator" => opt(d.generator),
        "work_hash" => opt(d.work_hash),
        _ => String::new(),
    }
}

/// The side a record belongs to under `axis`.
fn side_of(r: &UnifiedRecord, report: &IngestReport, options: &CompareOptions) -> String {
    match options.axis {
        Axis::Backend => r.backend.to_string(),
        Axis::Input => {
            let input = report.file(r.source.file).input as usize;
            options
                .input_labels
                .get(input)
                .cloned()
                .unwrap_or_else(|| format!("input{}", input + 1))
        }
        Axis::Scheduler => r
            .dimensions()
            .scheduler
            .map(|s| s.label().to_string())
            .unwrap_or_else(|| "unknown".into()),
    }
}

/// What decides a record's side, cheap to hash (the name is built once per key).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum SideKey {
    Backend(Sym),
    Input(u32),
    Scheduler(crate::model::DimsId),
}

/// Records that agree on everything grouping and the mismatch check read:
/// workload, side, interned dimensions, seed, nodes, parallelism. Runs
/// repeat these across all their records, so the per-field work below is
/// done once per class instead of once per record.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct ClassKey {
    workload: Sym,
    side: usize,
    dims: crate::model::DimsId,
    seed: Option<u64>,
    nodes: u32,
    parallelism: u32,
}

struct Class {
    side: usize,
    /// First record of the class: its field values stand for all.
    first: usize,
    dims: std::sync::Arc<Dimensions>,
    records: Vec<usize>,
}

/// A comparable group: classes per side index.
type BySide = BTreeMap<usize, Vec<usize>>;

/// What one comparable group contributes to the [`Comparison`].
#[derive(Default)]
struct GroupOutcome {
    groups: Vec<GroupStats>,
    mismatch: Option<Mismatch>,
    unverified: Vec<Unverified>,
    hash_note: Option<HashNote>,
    comparisons: Vec<MetricComparison>,
}

/// Compare the accepted records of `report`, one phase at a time:
/// [`index_classes`] (sides and classes of records, one O(n) pass),
/// [`splitting_dimensions`] (what splits a workload into variants),
/// [`group_classes`] (comparable groups), [`analyse_groups`] (statistics,
/// mismatch check and per-metric tests of each group, in parallel) and
/// [`judge`] (the family's adjusted level, intervals and verdicts).
pub fn compare(report: &IngestReport, options: &CompareOptions) -> Comparison {
    let mut index = index_classes(report, options);
    let splitting = splitting_dimensions(&report.records, &index.classes, options);
    let groups = group_classes(&report.records, &index.classes, &splitting);
    let baseline = pick_baseline(options, &index);
    let mut sorted_sides = index.side_names.clone();
    sorted_sides.sort();
    let mut out = Comparison {
        axis: options.axis,
        sides: sorted_sides,
        baseline: baseline.as_ref().map(|(name, _)| name.clone()),
        confidence: options.confidence,
        correction: options.correction,
        failed_runs: std::mem::take(&mut index.failed_runs),
        family_size: 0,
        adjusted_alpha: 1.0 - options.confidence,
        mismatches: Vec::new(),
        unverified: Vec::new(),
        hash_notes: Vec::new(),
        groups: Vec::new(),
        comparisons: Vec::new(),
    };
    for outcome in analyse_groups(report, options, &index, &groups, baseline.as_ref()) {
        out.groups.extend(outcome.groups);
        out.mismatches.extend(outcome.mismatch);
        out.unverified.extend(outcome.unverified);
        out.hash_notes.extend(outcome.hash_note);
        out.comparisons.extend(outcome.comparisons);
    }
    judge(&mut out, options);
    out
}

/// The sides, in order of first appearance, and the classes of records
/// (see [`ClassKey`]); failed runs are set aside unless `--include-failed`.
struct ClassIndex {
    side_names: Vec<String>,
    side_index: HashMap<String, usize>,
    classes: Vec<Class>,
    failed_runs: Vec<FailedRun>,
}

/// Phase 1: sides and classes, in one O(n) pass over the records.
fn index_classes(report: &IngestReport, options: &CompareOptions) -> ClassIndex {
    let mut side_names: Vec<String> = Vec::new();
    let mut side_index: HashMap<String, usize> = HashMap::new();
    let mut side_keys: HashMap<SideKey, usize, FastHash> = HashMap::default();
    let mut class_index: HashMap<ClassKey, usize, FastHash> = HashMap::default();
    let mut classes: Vec<Class> = Vec::new();
    let mut failed_runs = Vec::new();
    for (i, r) in report.records.iter().enumerate() {
        if let (Some(why), false) = (r.failed_run(), options.include_failed) {
            failed_runs.push(FailedRun {
                workload: r.workload.to_string(),
                run_id: r.run_id.to_string(),
                backend: r.backend.to_string(),
                at: format!("{}:{}", report.file(r.source.file).path, r.source.line),
                reason: why,
            });
            continue;
        }
        let key = match options.axis {
            Axis::Backend => SideKey::Backend(r.backend),
            Axis::Input => SideKey::Input(report.file(r.source.file).input),
            Axis::Scheduler => SideKey::Scheduler(r.dims),
        };
        let side = *side_keys.entry(key).or_insert_with(|| {
            let name = side_of(r, report, options);
            let next = side_names.len();
            *side_index.entry(name.clone()).or_insert_with(|| {
                side_names.push(name);
                next
            })
        });
        let ck = ClassKey {
            workload: r.workload,
            side,
            dims: r.dims,
            seed: r.seed,
            nodes: r.nodes,
            parallelism: r.parallelism,
        };
        let c = *class_index.entry(ck).or_insert_with(|| {
            classes.push(Class {
                side,
                first: i,
                dims: r.dimensions(),
                records: Vec::new(),
            });
            classes.len() - 1
        });
        classes[c].records.push(i);
    }
    ClassIndex {
        side_names,
        side_index,
        classes,
        failed_runs,
    }
}

/// Phase 2: which variant dimensions (indices into [`VARIANT_DIMS`]) vary
/// *within* a side for each workload. Only those split groups; a field that
/// differs only across sides is a mismatch.
fn splitting_dimensions(
    records: &[UnifiedRecord],
    classes: &[Class],
    options: &CompareOptions,
) -> HashMap<Sym, Vec<usize>> {
    let mut values_within: HashMap<(Sym, usize, usize), BTreeSet<String>> = HashMap::new();
    for class in classes {
        let r = &records[class.first];
        for (k, name) in VARIANT_DIMS.iter().enumerate() {
            if options.axis == Axis::Scheduler && *name == "scheduler" {
                continue;
            }
            values_within
                .entry((r.workload, class.side, k))
                .or_default()
                .insert(dim_value(name, r, &class.dims));
        }
    }
    let mut splitting: HashMap<Sym, Vec<usize>> = HashMap::new();
    for ((workload, _, k), vals) in &values_within {
        if vals.len() > 1 {
            let list = splitting.entry(*workload).or_default();
            if !list.contains(k) {
                list.push(*k);
            }
        }
    }
    for list in splitting.values_mut() {
        list.sort_unstable();
    }
    splitting
}

/// Comparable groups keyed by (natural key of workload, of variant,
/// workload, variant), so `concurrency_2` sorts before `concurrency_16`.
type Groups = BTreeMap<(String, String, String, String), BySide>;

/// Phase 3: group classes by (workload, variant), then by side.
fn group_classes(records: &[UnifiedRecord], classes: &[Class], splitting: &HashMap<Sym, Vec<usize>>) -> Groups {
    let mut groups = Groups::new();
    for (c, class) in classes.iter().enumerate() {
        let r = &records[class.first];
        let variant = splitting
            .get(&r.workload)
            .map(|ks| {
                ks.iter()
                    .map(|&k| format!("{}={}", VARIANT_DIMS[k], dim_value(VARIANT_DIMS[k], r, &class.dims)))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default();
        let workload = r.workload.to_string();
        groups
            .entry((natural_key(&workload), natural_key(&variant), workload, variant))
            .or_default()
            .entry(class.side)
            .or_default()
            .push(c);
    }
    groups
}

/// The baseline side and its index: `--baseline` when it names a side, else
/// `sage` when present, else the first side.
fn pick_baseline(options: &CompareOptions, index: &ClassIndex) -> Option<(String, usize)> {
    let names = &index.side_names;
    let name = options
        .baseline
        .clone()
        .filter(|b| names.contains(b))
        .or_else(|| names.iter().find(|s| *s == "sage").cloned())
        .or_else(|| names.first().cloned())?;
    let i = index.side_index[&name];
    Some((name, i))
}

/// Phase 4: each group's statistics per side, its mismatch check and its
/// per-metric comparisons against the baseline. Groups are independent:
/// analysed in parallel, returned in group order.
fn analyse_groups(
    report: &IngestReport,
    options: &CompareOptions,
    index: &ClassIndex,
    groups: &Groups,
    baseline: Option<&(String, usize)>,
) -> Vec<GroupOutcome> {
    let records = &report.records;
    let (classes, side_names) = (&index.classes, &index.side_names);
    let baseline_name = baseline.map(|(name, _)| name);
    let group_list: Vec<(&String, &String, &BySide)> = groups.iter().map(|((_, _, w, v), by)| (w, v, by)).collect();
    group_list
        .par_iter()
        .map(|&(workload, variant, by_side_classes)| {
            let mut outcome = GroupOutcome::default();
            let by_side: BTreeMap<usize, Vec<usize>> = by_side_classes
                .iter()
                .map(|(&s, cs)| {
                    let mut idxs: Vec<usize> = cs.iter().flat_map(|&c| classes[c].records.iter().copied()).collect();
                    idxs.sort_unstable();
                    (s, idxs)
                })
                .collect();
            // Group statistics: the baseline first, then the other sides by name.
            let mut sides: Vec<(&String, &Vec<usize>)> = by_side.iter().map(|(s, v)| (&side_names[*s], v)).collect();
            sides.sort_by(|a, b| (Some(a.0) != baseline_name, a.0).cmp(&(Some(b.0) != baseline_name, b.0)));
            for (side, idxs) in &sides {
                outcome
                    .groups
                    .push(group_stats(side, workload, variant, idxs, records, options.confidence));
            }
            if by_side.len() >= 2 {
                let (found, unverified) = mismatch(
                    workload,
                    variant,
                    by_side_classes,
                    classes,
                    side_names,
                    records,
                    report,
                    options,
                );
                outcome.unverified = unverified;
                if let Some(m) = found {
                    outcome.mismatch = Some(m);
                } else {
                    outcome.hash_note = hash_note(workload, variant, &by_side, side_names, records);
                }
            }
            // Comparisons against the baseline.
            let Some((base_name, base_idxs)) = baseline.and_then(|(name, b)| Some((name, by_side.get(b)?))) else {
                return outcome;
            };
            for (side, idxs) in &sides {
                if *side == base_name {
                    continue;
                }
                for metric in Metric::ALL {
                    let base: Vec<f64> = base_idxs.iter().filter_map(|&i| metric.of(&records[i])).collect();
                    let cand: Vec<f64> = idxs.iter().filter_map(|&i| metric.of(&records[i])).collect();
                    if base.is_empty() || cand.is_empty() {
                        continue;
                    }
                    outcome.comparisons.push(compare_metric(
                        workload, variant, metric, base_name, side, &base, &cand, options,
                    ));
                }
            }
            outcome
        })
        .collect()
}

/// Phase 5, the family step: adjust the p-values of every comparison of the report,
/// then give each its interval at the adjusted level, its verdict and, for
/// `~`, the runs its test needs. Verdict and interval come from the same
/// test inversion, so they cannot disagree.
fn judge(out: &mut Comparison, options: &CompareOptions) {
    let alpha = 1.0 - options.confidence;
    let with_p: Vec<usize> = (0..out.comparisons.len())
        .filter(|&i| out.comparisons[i].p_value.is_some())
        .collect();
    let ps: Vec<f64> = with_p
        .iter()
        .map(|&i| out.comparisons[i].p_value.unwrap_or(1.0))
        .collect();
    let (alpha_star, adjusted) = estimand::adjust(&ps, alpha, options.correction);
    out.family_size = with_p.len();
    out.adjusted_alpha = alpha_star;
    let mut power_searches: Vec<(usize, f64, f64, f64)> = Vec::new();
    for (k, &i) in with_p.iter().enumerate() {
        let c = &mut out.comparisons[i];
        c.p_adjusted = Some(adjusted[k]);
        let Some(test) = c.test_state.take() else { continue };
        c.ci_unadjusted = test.interval(alpha).ok();
        let interval = match test.interval(alpha_star) {
            Ok(iv) => iv,
            Err(why) => {
                // An unbounded set that the test does not reject at 1 is
                // honestly "no significant difference", without an interval.
                c.verdict = if test.p_value > alpha_star {
                    Verdict::Same
                } else {
                    Verdict::NoVerdict
                };
                c.note = Some(why.reason().to_string());
                continue;
            }
        };
        (c.ci_low, c.ci_high, c.ci_level) = (Some(interval.0), Some(interval.1), Some(1.0 - alpha_star));
        c.significant = !(interval.0 <= 1.0 && 1.0 <= interval.1);
        let up = test.ratio > 1.0;
        let better = up == c.metric.higher_is_better();
        // Robustness: Mann–Whitney at the same adjusted level.
        let mw_significant = c.mann_whitney_p.is_some_and(|p| p <= alpha_star);
        let mw_up = c.mw_direction > 0;
        let unstable = (mw_significant && !c.significant) || (mw_significant && c.significant && mw_up != up);
        c.verdict = if unstable {
            c.note = Some(format!(
                "the ranks (Mann–Whitney p {}) and the means (ratio {:.3}, Welch p {}) disagree: an outlier run? look at the runs before reading either",
                fmt_p(c.mann_whitney_p.unwrap_or(1.0)),
                test.ratio,
                fmt_p(test.p_value)
            ));
            c.significant = false;
            Verdict::Unstable
        } else if !c.significant {
            Verdict::Same
        } else if better {
            Verdict::Better
        } else {
            Verdict::Worse
        };
        if c.verdict == Verdict::Same {
            if let (Some((sb, sc)), Some(bm)) = (c.sds, c.baseline_mean) {
                power_searches.push((i, sb, sc, bm));
            }
        }
    }
    // The runs each `~` needs: a power search per comparison, the costly
    // part of this step on a large report, so in parallel.
    let found: Vec<Option<usize>> = power_searches
        .par_iter()
        .map(|&(_, sb, sc, bm)| estimand::runs_needed(sc, sb, bm, POWER_EFFECT, alpha_star, POWER))
        .collect();
    for (&(i, ..), n) in power_searches.iter().zip(found) {
        out.comparisons[i].runs_needed = n;
    }
}

fn fmt_p(p: f64) -> String {
    if p < 0.001 {
        format!("{p:.1e}")
    } else {
        format!("{p:.3}")
    }
}

/// Sort key that orders digit runs by value: zero-pads every run of digits
/// to 20 places (u64's width), so `job_2` < `job_16`.
fn natural_key(s: &str) -> String {
    let mut key = String::with_capacity(s.len() + 8);
    let mut digits = String::new();
    let flush = |digits: &mut String, key: &mut String| {
        if !digits.is_empty() {
            let trimmed = digits.trim_start_matches('0');
            for _ in trimmed.len()..20 {
                key.push('0');
            }
            key.push_str(trimmed);
            digits.clear();
        }
    };
    for c in s.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else {
            flush(&mut digits, &mut key);
            key.push(c);
        }
    }
    flush(&mut digits, &mut key);
    key
}

fn group_stats(
    side: &str,
    workload: &str,
    variant: &str,
    idxs: &[usize],
    records: &[UnifiedRecord],
    confidence: f64,
) -> GroupStats {
    let values = |m: Metric| -> Vec<f64> { idxs.iter().filter_map(|&i| m.of(&records[i])).collect() };
    let mut latency_p95 = MetricStats::of(&values(Metric::LatencyP95), confidence);
    let mut latency_p99 = MetricStats::of(&values(Metric::LatencyP99), confidence);

    // Pooled per-task latencies (legacy results) → order-statistic intervals,
    // for a single run only: across runs the tasks are not independent (a
    // run-level effect moves all of a run's tasks), so there the headline is
    // the interval over per-run percentiles above.
    let mut pooled: Vec<f64> = if idxs.len() == 1 {
        idxs.iter()
            .filter_map(|&i| records[i].measured.as_ref()?.task_latencies_ms.as_deref())
            .flat_map(|l| l.iter().copied())
            .collect()
    } else {
        Vec::new()
    };
    if !pooled.is_empty() {
        pooled.sort_unstable_by(f64::total_cmp);
        for (stats_slot, p) in [(&mut latency_p95, 0.95), (&mut latency_p99, 0.99)] {
            stats_slot.pooled = stats::quantile_ci_order_stat(&pooled, p, confidence).map(|(v, lo, hi)| Estimate {
                value: v,
                ci_low: Some(lo),
                ci_high: Some(hi),
                n: pooled.len(),
            });
        }
    }
    let success_rate = success_stats(idxs, records, confidence);

    // Distinct by symbol first (integers, cheap), then sorted as text; kept
    // as symbols (a group of a large tree has a thousand run ids).
    let distinct = |f: &dyn Fn(&UnifiedRecord) -> Option<Sym>| -> Vec<Sym> {
        let mut syms: Vec<Sym> = idxs.iter().filter_map(|&i| f(&records[i])).collect();
        syms.sort_unstable_by_key(|s| s.id());
        syms.dedup();
        let mut texts: Vec<(&str, Sym)> = syms.into_iter().map(|s| (s.as_str(), s)).collect();
        texts.sort_unstable();
        texts.into_iter().map(|(_, s)| s).collect()
    };
    let run_ids = distinct(&|r| Some(r.run_id));
    GroupStats {
        side: side.to_string(),
        workload: workload.to_string(),
        variant: variant.to_string(),
        n: idxs.len(),
        throughput: MetricStats::of(&values(Metric::Throughput), confidence),
        latency_p95,
        latency_p99,
        success_rate,
        run_count: run_ids.len(),
        run_ids,
        config_hashes: distinct(&|r| r.config_hash),
        shape_hashes: distinct(&|r| Some(r.shape_hash)),
    }
}

/// Success rate of a group. Runs are the unit of replication: over several
/// runs, the mean of per-run rates with its Student-t interval (clipped to
/// [0, 1]); for a single run with known task counts, the Wilson score
/// interval over its tasks (Wilson 1927, JASA 22:209–212). A run's rate is
/// its `success_rate`, else successful / (successful + failed) when both
/// counts are recorded — `successful_tasks` alone says nothing about the
/// failures, so it gives no rate.
fn success_stats(idxs: &[usize], records: &[UnifiedRecord], confidence: f64) -> SuccessStats {
    let run_counts = |r: &UnifiedRecord| -> Option<(u64, u64)> {
        let m = r.measured.as_ref();
        if let (Some(ok), Some(failed)) = (m.and_then(|m| m.successful_tasks), m.and_then(|m| m.failed_tasks)) {
            return Some((ok, ok + failed));
        }
        let num_tasks = r.dimensions().num_tasks.filter(|&n| n > 0)?;
        let ok = (r.success_rate? * num_tasks as f64).round() as u64;
        Some((ok.min(num_tasks), num_tasks))
    };
    let rate = |r: &UnifiedRecord| -> Option<f64> {
        r.success_rate.or_else(|| {
            run_counts(r)
                .filter(|&(_, t)| t > 0)
                .map(|(ok, t)| ok as f64 / t as f64)
        })
    };
    let rates: Vec<f64> = idxs.iter().filter_map(|&i| rate(&records[i])).collect();
    match rates.len() {
        0 => SuccessStats {
            method: "not reported",
            ..Default::default()
        },
        1 => {
            let r = idxs.iter().map(|&i| &records[i]).find(|r| rate(r).is_some());
            match r.and_then(run_counts).filter(|&(_, t)| t > 0) {
                Some((ok, total)) => {
                    let ci = stats::wilson(ok, total, confidence);
                    SuccessStats {
                        n: 1,
                        value: Some(ok as f64 / total as f64),
                        ci_low: ci.map(|c| c.0),
                        ci_high: ci.map(|c| c.1),
                        method: "wilson over one run's tasks",
                    }
                }
                None => SuccessStats {
                    n: 1,
                    value: Some(rates[0]),
                    method: "one run, task counts unknown",
                    ..Default::default()
                },
            }
        }
        _ => {
            let s = MetricStats::of(&rates, confidence);
            SuccessStats {
                n: rates.len(),
                value: s.mean,
                ci_low: s.ci_low.map(|x| x.max(0.0)),
                ci_high: s.ci_high.map(|x| x.min(1.0)),
                method: "mean of per-run rates, t interval",
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn compare_metric(
    workload: &str,
    variant: &str,
    metric: Metric,
    baseline: &str,
    candidate: &str,
    base: &[f64],
    cand: &[f64],
    options: &CompareOptions,
) -> MetricComparison {
    let mean = |xs: &[f64]| xs.iter().sum::<f64>() / xs.len() as f64;
    let (bm, cm) = (mean(base), mean(cand));
    let test = RatioTest::new(cand, base);
    let mw = estimand::mann_whitney_exact(base, cand).filter(|_| test.is_ok());
    // The standard deviation as `stats::summarize` gives it, without its sorted copy.
    let sd = |xs: &[f64]| (xs.len() >= 2).then(|| stats::sample_var(xs).sqrt());
    let enough = base.len() >= 2 && cand.len() >= 2;
    let equivalence_p = match (enough, options.equivalence) {
        (true, Some(margin)) => stats::tost(cand, base, margin, 1.0 - options.confidence).map(|t| t.p_value),
        _ => None,
    };
    MetricComparison {
        workload: workload.to_string(),
        variant: variant.to_string(),
        metric,
        baseline: baseline.to_string(),
        candidate: candidate.to_string(),
        n_baseline: base.len(),
        n_candidate: cand.len(),
        baseline_mean: Some(bm),
        candidate_mean: Some(cm),
        ratio: (bm != 0.0).then(|| cm / bm),
        ci_low: None,
        ci_high: None,
        ci_level: None,
        ci_unadjusted: None,
        ratio_method: test.is_ok().then_some(METHOD_RATIO),
        p_value: test.as_ref().ok().map(|t| t.p_value),
        test: test.is_ok().then_some(METHOD_TEST),
        p_adjusted: None,
        mann_whitney_p: mw.map(|(p, _)| p),
        significant: false,
        verdict: Verdict::NoVerdict,
        note: test.as_ref().err().map(|why| why.reason().to_string()),
        runs_needed: None,
        equivalence_p,
        mw_direction: mw.map(|(_, d)| d).unwrap_or(0),
        sds: sd(base).zip(sd(cand)),
        test_state: test.ok(),
    }
}

/// A bare comparison (no ratio, no test) for the renderers' unit tests.
#[cfg(test)]
pub(crate) fn test_comparison(workload: &str, metric: Metric) -> MetricComparison {
    MetricComparison {
        workload: workload.to_string(),
        variant: String::new(),
        metric,
        baseline: "base".into(),
        candidate: "cand".into(),
        n_baseline: 0,
        n_candidate: 0,
        baseline_mean: None,
        candidate_mean: None,
        ratio: None,
        ci_low: None,
        ci_high: None,
        ci_level: None,
        ci_unadjusted: None,
        ratio_method: None,
        p_value: None,
        test: None,
        p_adjusted: None,
        mann_whitney_p: None,
        significant: false,
        verdict: Verdict::NoVerdict,
        note: None,
        runs_needed: None,
        equivalence_p: None,
        mw_direction: 0,
        sds: None,
        test_state: None,
    }
}

/// The primary test's method string.
pub const METHOD_TEST: &str = "welch t-test of ratio = 1 (welch-satterthwaite df)";
/// The ratio interval's method string.
pub const METHOD_RATIO: &str =
    "fieller interval inverting the welch test (df of the test), at the family-adjusted level";

/// A shape field one side recorded and another did not: the runs may
/// match, but it cannot be checked. A note, never a mismatch.
#[derive(Clone, Debug, Serialize)]
pub struct Unverified {
    pub workload: String,
    pub variant: String,
    pub field: &'static str,
    /// Sides with records that do not carry the field, and up to three files each.
    pub missing: BTreeMap<String, Vec<String>>,
}

/// What one side of a group recorded for one shape field.
#[derive(Default)]
struct FieldValues {
    /// Known value → up to three records holding it, as `file:line (run R)`.
    known: BTreeMap<String, Vec<String>>,
    /// Files of records that do not carry the field.
    unknown: BTreeSet<String>,
}

/// The configuration check of one comparable group: a field is a mismatch
/// only when two sides recorded *known* values that differ; a field known
/// on one side and unrecorded on another is [`Unverified`] (unknown is not
/// different).
#[allow(clippy::too_many_arguments)]
fn mismatch(
    workload: &str,
    variant: &str,
    by_side: &BySide,
    classes: &[Class],
    side_names: &[String],
    records: &[UnifiedRecord],
    report: &IngestReport,
    options: &CompareOptions,
) -> (Option<Mismatch>, Vec<Unverified>) {
    const EVIDENCE: usize = 3;
    let mut fields = Vec::new();
    let mut unverified = Vec::new();
    for field in checked_fields() {
        if options.axis == Axis::Scheduler && field == "scheduler" {
            continue;
        }
        let mut per_side: BTreeMap<String, FieldValues> = BTreeMap::new();
        for (&s, cs) in by_side {
            let values = per_side.entry(side_names[s].clone()).or_default();
            for &c in cs {
                let class = &classes[c];
                let value = dim_value(field, &records[class.first], &class.dims);
                // The value is the class's; records only add evidence, up to EVIDENCE.
                if value == UNKNOWN {
                    for &i in &class.records {
                        if values.unknown.len() >= EVIDENCE {
                            break;
                        }
                        values.unknown.insert(report.file(records[i].source.file).path.clone());
                    }
                } else {
                    let held = values.known.entry(value).or_default();
                    for &i in class.records.iter().take(EVIDENCE.saturating_sub(held.len())) {
                        let r = &records[i];
                        let file = &report.file(r.source.file).path;
                        held.push(format!("{file}:{} (run {})", r.source.line, r.run_id));
                    }
                }
            }
        }
        let known_sets: BTreeSet<Vec<&String>> = per_side
            .values()
            .filter(|v| !v.known.is_empty())
            .map(|v| v.known.keys().collect())
            .collect();
        if known_sets.len() > 1 {
            fields.push(FieldDiff {
                field,
                values: per_side
                    .iter()
                    .map(|(s, v)| {
                        let mut shown: Vec<String> = v.known.keys().cloned().collect();
                        if !v.unknown.is_empty() {
                            shown.push(UNKNOWN.to_string());
                        }
                        (s.clone(), shown.join(", "))
                    })
                    .collect(),
                files: per_side
                    .iter()
                    .map(|(s, v)| {
                        (
                            s.clone(),
                            v.known
                                .values()
                                .flatten()
                                .take(EVIDENCE)
                                .map(|e| e.rsplit_once(':').map(|(f, _)| f.to_string()).unwrap_or_default())
                                .collect::<BTreeSet<_>>()
                                .into_iter()
                                .collect(),
                        )
                    })
                    .collect(),
                evidence: per_side
                    .iter()
                    .map(|(s, v)| {
                        (
                            s.clone(),
                            v.known
                                .iter()
                                .map(|(value, at)| format!("{value}: {}", at.join(", ")))
                                .collect(),
                        )
                    })
                    .collect(),
            });
        } else if known_sets.len() == 1 && per_side.values().any(|v| !v.unknown.is_empty()) {
            unverified.push(Unverified {
                workload: workload.to_string(),
                variant: variant.to_string(),
                field,
                missing: per_side
                    .iter()
                    .filter(|(_, v)| !v.unknown.is_empty())
                    .map(|(s, v)| (s.clone(), v.unknown.iter().cloned().collect()))
                    .collect(),
            });
        }
    }
    if fields.is_empty() {
        return (None, unverified);
    }
    let names: Vec<&str> = fields.iter().map(|f| f.field).collect();
    let run_ids: BTreeSet<&str> = by_side
        .values()
        .flatten()
        .flat_map(|&c| classes[c].records.iter())
        .map(|&i| records[i].run_id.as_str())
        .collect();
    let mismatch = Mismatch {
        workload: workload.to_string(),
        variant: variant.to_string(),
        run_id: (run_ids.len() == 1).then(|| run_ids.into_iter().next().unwrap().to_string()),
        explanation: format!(
            "the sides did not run the same workload shape ({}); re-run them with identical flags before reading the numbers",
            names.join(", ")
        ),
        fields,
    };
    (Some(mismatch), unverified)
}

fn hash_note(
    workload: &str,
    variant: &str,
    by_side: &BTreeMap<usize, Vec<usize>>,
    side_names: &[String],
    records: &[UnifiedRecord],
) -> Option<HashNote> {
    let shapes: BTreeSet<Sym> = by_side.values().flatten().map(|&i| records[i].shape_hash).collect();
    if shapes.len() != 1 {
        return None;
    }
    let mut by_hash: BTreeMap<usize, std::collections::HashSet<Sym>> = BTreeMap::new();
    for (&s, idxs) in by_side {
        for &i in idxs {
            if let Some(h) = records[i].config_hash {
                by_hash.entry(s).or_default().insert(h);
            }
        }
    }
    let upstream: BTreeMap<String, BTreeSet<String>> = by_hash
        .into_iter()
        .map(|(s, hs)| (side_names[s].clone(), hs.into_iter().map(|h| h.to_string()).collect()))
        .collect();
    let distinct: BTreeSet<&BTreeSet<String>> = upstream.values().collect();
    if shapes.len() != 1 || upstream.len() < 2 || distinct.len() < 2 {
        return None;
    }
    Some(HashNote {
        workload: workload.to_string(),
        variant: variant.to_string(),
        shape_hash: shapes.into_iter().next().unwrap().to_string(),
        upstream_hashes: upstream
            .into_iter()
            .map(|(s, h)| (s, h.into_iter().collect()))
            .collect(),
        explanation: "upstream config_hash differs across sides only because upstream hashes the backend name \
                      into it; the backend-neutral workload-shape hash matches, so the runs are comparable"
            .to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::natural_key;
    use super::*;
    use proptest::prelude::*;

    fn judged(families: &[(Vec<f64>, Vec<f64>)], correction: Correction) -> Comparison {
        let options = CompareOptions {
            axis: Axis::Input,
            baseline: None,
            confidence: 0.95,
            equivalence: None,
            input_labels: Vec::new(),
            correction,
            include_failed: false,
        };
        let mut c = Comparison {
            axis: Axis::Input,
            sides: vec!["a".into(), "b".into()],
            baseline: Some("a".into()),
            confidence: 0.95,
            correction,
            failed_runs: Vec::new(),
            family_size: 0,
            adjusted_alpha: 0.05,
            mismatches: Vec::new(),
            unverified: Vec::new(),
            hash_notes: Vec::new(),
            groups: Vec::new(),
            comparisons: families
                .iter()
                .enumerate()
                .map(|(i, (b, c))| compare_metric(&format!("w{i}"), "", Metric::Throughput, "a", "b", b, c, &options))
                .collect(),
        };
        judge(&mut c, &options);
        c
    }

    proptest! {
        /// One estimand: a better/worse verdict always shows an adjusted
        /// interval excluding 1 on the side of its direction; `~` always
        /// shows one spanning 1.
        #[test]
        fn verdicts_agree_with_their_intervals(
            data in proptest::collection::vec(
                (proptest::collection::vec(50.0f64..150.0, 2..8), proptest::collection::vec(50.0f64..150.0, 2..8), 0.5f64..1.6),
                1..12),
            holm in any::<bool>(),
        ) {
            let fams: Vec<(Vec<f64>, Vec<f64>)> = data.into_iter().map(|(b, c, k)| (b, c.into_iter().map(|x| x * k).collect())).collect();
            let c = judged(&fams, if holm { Correction::Holm } else { Correction::Bh });
            for m in &c.comparisons {
                match m.verdict {
                    Verdict::Better | Verdict::Worse => {
                        let (lo, hi) = (m.ci_low.unwrap(), m.ci_high.unwrap());
                        prop_assert!(!(lo <= 1.0 && 1.0 <= hi), "{} with [{lo}, {hi}]", m.verdict);
                        let up = m.ratio.unwrap() > 1.0;
                        prop_assert_eq!(up, m.verdict == Verdict::Better, "throughput: higher is better");
                        let beyond = if up { lo > 1.0 } else { hi < 1.0 };
                        prop_assert!(beyond, "interval on the wrong side");
                    }
                    Verdict::Same => {
                        // No interval only when it is unbounded (then it holds 1 too).
                        if let (Some(lo), Some(hi)) = (m.ci_low, m.ci_high) {
                            prop_assert!(lo <= 1.0 && 1.0 <= hi, "~ with [{lo}, {hi}]");
                        } else {
                            prop_assert!(m.note.is_some());
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    /// Issue 15: baseline 100.0–100.9 (10 runs) vs candidate 101.0–101.8
    /// plus one run at 1.0. Welch p = 0.39 (scipy ttest_ind equal_var=False),
    /// exact Mann–Whitney p = 0.0015: means and ranks disagree → `unstable`,
    /// never "worse" beside an interval spanning 1.
    #[test]
    fn an_outlier_run_is_unstable_not_a_verdict() {
        let base: Vec<f64> = (0..10).map(|i| 100.0 + i as f64 * 0.1).collect();
        let mut cand: Vec<f64> = (0..9).map(|i| 101.0 + i as f64 * 0.1).collect();
        cand.push(1.0);
        let c = judged(&[(base, cand)], Correction::Bh);
        let m = &c.comparisons[0];
        assert_eq!(m.verdict, Verdict::Unstable, "{m:?}");
        assert!(!m.is_regression(0.05));
        assert!(m.ci_low.unwrap() < 1.0 && m.ci_high.unwrap() > 1.0);
    }

    /// Issue 15: a zero baseline has no ratio and no verdict, never "worse".
    #[test]
    fn a_zero_baseline_has_no_verdict() {
        let c = judged(&[(vec![0.0, 0.0, 0.0], vec![1.0, 6.0, 3.0])], Correction::Bh);
        assert_eq!(c.comparisons[0].verdict, Verdict::NoVerdict);
        assert_eq!(c.comparisons[0].note.as_deref(), Some("baseline mean is 0"));
    }

    /// 5 runs per side in a report of 195 comparisons: a 30 % throughput drop
    /// (run-to-run noise ~1 %) is `worse` and a regression; the 194 A/A
    /// comparisons raise no verdict.
    #[test]
    fn a_thirty_percent_regression_is_caught_in_a_large_report() {
        let noise = [1.0, 0.99, 1.012, 0.995, 1.004];
        let mut fams: Vec<(Vec<f64>, Vec<f64>)> = (0..194)
            .map(|i| {
                let b: Vec<f64> = noise.iter().map(|x| 100.0 * x).collect();
                let c: Vec<f64> = noise
                    .iter()
                    .rev()
                    .map(|x| 100.0 * x * (1.0 + (i % 3) as f64 * 0.001))
                    .collect();
                (b, c)
            })
            .collect();
        fams.push((
            noise.iter().map(|x| 100.0 * x).collect(),
            noise.iter().map(|x| 70.0 * x).collect(),
        ));
        let c = judged(&fams, Correction::Bh);
        assert_eq!(c.family_size, 195);
        let last = c.comparisons.last().unwrap();
        assert_eq!(last.verdict, Verdict::Worse);
        assert!(last.is_regression(0.05));
        assert!(
            c.comparisons[..194].iter().all(|m| m.verdict == Verdict::Same),
            "A/A comparisons stay ~"
        );
        let c = judged(&fams, Correction::Holm);
        assert_eq!(
            c.comparisons.last().unwrap().verdict,
            Verdict::Worse,
            "Holm reaches it too"
        );
    }

    /// summary.json and history keep the verdict names reports print.
    #[test]
    fn verdicts_serialise_as_their_names() {
        for v in Verdict::ALL {
            assert_eq!(serde_json::to_string(&v).unwrap(), format!("\"{}\"", v.name()));
            assert_eq!(Verdict::from_name(v.name()), Some(v));
        }
        assert_eq!(serde_json::to_string(&Verdict::Same).unwrap(), "\"~\"");
        assert_eq!(Verdict::from_name("same"), None);
    }

    #[test]
    fn natural_order_sorts_numbers_by_value() {
        let mut names = vec![
            "concurrency_16",
            "concurrency_2",
            "concurrency_1",
            "job10_rag",
            "job9_rag",
            "Q1",
        ];
        names.sort_by_key(|n| natural_key(n));
        assert_eq!(
            names,
            [
                "Q1",
                "concurrency_1",
                "concurrency_2",
                "concurrency_16",
                "job9_rag",
                "job10_rag"
            ]
        );
    }
}
