//! History of past comparisons, for the site's trends: a small append-only
//! store of compact summaries (one JSON file per report per run), the
//! per-workload series read back from it, and change points on them.
//!
//! Store layout: `DIR/entries/<time>_<report>_<commit>.json`, one
//! [`HistoryEntry`] each. Files are only ever added (written to a temporary
//! name and renamed), never rewritten, so concurrent or re-run CI jobs
//! cannot corrupt earlier runs; an entry whose (report, label, commit) is
//! already stored is not added twice.

use super::compare::{Comparison, GroupStats, MetricStats};
use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Version of the entry format; older versions are read as long as they parse.
pub const SCHEMA_VERSION: u32 = 1;

/// One report of one run, as kept in the history.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct HistoryEntry {
    pub schema_version: u32,
    /// The report's name on the site (e.g. `main-vs-pr`).
    pub report: String,
    /// What the run is called, e.g. the branch (`GITHUB_REF_NAME`).
    pub label: String,
    /// Commit the results belong to (`GITHUB_SHA`); empty when unknown.
    #[serde(default)]
    pub commit: String,
    /// When the run was recorded, RFC 3339 UTC (`2026-11-23T10:15:00Z`).
    pub time: String,
    #[serde(default)]
    pub tool_version: String,
    #[serde(default)]
    pub axis: String,
    #[serde(default)]
    pub baseline: Option<String>,
    #[serde(default)]
    pub confidence: f64,
    #[serde(default)]
    pub records_accepted: u64,
    #[serde(default)]
    pub records_rejected: u64,
    #[serde(default)]
    pub mismatches: Vec<HistoryMismatch>,
    #[serde(default)]
    pub groups: Vec<HistoryGroup>,
    #[serde(default)]
    pub comparisons: Vec<HistoryComparison>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct HistoryMismatch {
    pub workload: String,
    #[serde(default)]
    pub variant: String,
    /// The fields that differed across sides.
    pub fields: Vec<String>,
}

/// A metric's mean with its interval and the runs behind it.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct HistoryPoint {
    pub n: usize,
    pub mean: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
}

impl From<&MetricStats> for HistoryPoint {
    fn from(s: &MetricStats) -> Self {
        HistoryPoint {
            n: s.n,
            mean: s.mean,
            ci_low: s.ci_low,
            ci_high: s.ci_high,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct HistoryGroup {
    pub side: String,
    pub workload: String,
    #[serde(default)]
    pub variant: String,
    pub n: usize,
    pub throughput: HistoryPoint,
    pub latency_p99: HistoryPoint,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct HistoryComparison {
    pub workload: String,
    #[serde(default)]
    pub variant: String,
    pub metric: String,
    pub baseline: String,
    pub candidate: String,
    pub ratio: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub p_adjusted: Option<f64>,
    pub verdict: String,
}

/// Who and when a run is, for [`HistoryEntry::from_comparison`].
#[derive(Clone, Debug, Default)]
pub struct RunInfo {
    pub label: String,
    pub commit: String,
    pub time: String,
}

impl HistoryEntry {
    pub fn from_comparison(report: &str, run: &RunInfo, c: &Comparison, accepted: u64, rejected: u64) -> HistoryEntry {
        let group = |g: &GroupStats| HistoryGroup {
            side: g.side.clone(),
            workload: g.workload.clone(),
            variant: g.variant.clone(),
            n: g.n,
            throughput: (&g.throughput).into(),
            latency_p99: (&g.latency_p99).into(),
        };
        HistoryEntry {
            schema_version: SCHEMA_VERSION,
            report: report.to_string(),
            label: run.label.clone(),
            commit: run.commit.clone(),
            time: run.time.clone(),
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            axis: c.axis.name().to_string(),
            baseline: c.baseline.clone(),
            confidence: c.confidence,
            records_accepted: accepted,
            records_rejected: rejected,
            mismatches: c
                .mismatches
                .iter()
                .map(|m| HistoryMismatch {
                    workload: m.workload.clone(),
                    variant: m.variant.clone(),
                    fields: m.fields.iter().map(|f| f.field.to_string()).collect(),
                })
                .collect(),
            groups: c.groups.iter().map(group).collect(),
            comparisons: c
                .comparisons
                .iter()
                .map(|m| HistoryComparison {
                    workload: m.workload.clone(),
                    variant: m.variant.clone(),
                    metric: m.metric.name().to_string(),
                    baseline: m.baseline.clone(),
                    candidate: m.candidate.clone(),
                    ratio: m.ratio,
                    ci_low: m.ci_low,
                    ci_high: m.ci_high,
                    p_adjusted: m.p_adjusted,
                    verdict: m.verdict.to_string(),
                })
                .collect(),
        }
    }

    /// A file-name-safe identity, unique per (time, report, commit, label).
    pub fn id(&self) -> String {
        let time: String = self.time.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
        let commit: String = self
            .commit
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .take(12)
            .collect();
        let mut id = format!("{}_{}_{}", time, slug(&self.report), slug(&self.label));
        if !commit.is_empty() {
            id.push('_');
            id.push_str(&commit);
        }
        id
    }

    /// The commit shortened for display (7 characters, as git does).
    pub fn short_commit(&self) -> &str {
        &self.commit[..self.commit.len().min(7)]
    }

    pub fn same_run(&self, other: &HistoryEntry) -> bool {
        self.report == other.report
            && self.label == other.label
            && self.commit == other.commit
            && !self.commit.is_empty()
    }
}

pub use crate::util::text::slug;

/// What loading the store found.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Entries sorted by time, then report, label and commit.
    pub entries: Vec<HistoryEntry>,
    /// Files that could not be read, each `path: reason; what to do`.
    pub problems: Vec<String>,
}

/// Largest history entry read (one is a few KiB).
const MAX_ENTRY: u64 = 16 << 20;

fn read_entry(path: &Path) -> Result<Vec<u8>, String> {
    use crate::ingest::guard::{read_document, DocError};
    read_document(path, MAX_ENTRY).map_err(|e| match e {
        DocError::Io(e) => e.to_string(),
        DocError::NotText(why) => why.to_string(),
        DocError::TooLarge(size) => format!("{size} bytes, more than an entry ever holds"),
    })
}

/// Why an entry file was not read.
enum Unread {
    /// Written by a newer sagereport (its `schema_version`).
    Newer(u32),
    /// Not an entry: unreadable, or not this schema.
    Corrupt(String),
}

/// Only an entry's version, to tell a newer schema from a broken file.
#[derive(serde::Deserialize)]
struct Version {
    schema_version: u32,
}

/// Read every entry of the store at `dir` (missing folder: empty history).
/// A file that does not parse is reported, not fatal: one corrupt file must
/// not stop a CI job from publishing the rest.
pub fn load(dir: &Path) -> anyhow::Result<Loaded> {
    let entries_dir = dir.join("entries");
    let mut loaded = Loaded::default();
    if !entries_dir.exists() {
        return Ok(loaded);
    }
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&entries_dir)
        .with_context(|| format!("{}: cannot list the history store", entries_dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    for path in paths {
        // Entries are a few KiB: a FIFO, a device or a huge file there is
        // reported and skipped, never read.
        let parsed = read_entry(&path).map_err(Unread::Corrupt).and_then(|bytes| {
            serde_json::from_slice::<HistoryEntry>(&bytes).map_err(|e| {
                // A newer sagereport's entry may not parse as this one's:
                // its version says so, and it must not be called corrupt.
                match serde_json::from_slice::<Version>(&bytes) {
                    Ok(v) if v.schema_version > SCHEMA_VERSION => Unread::Newer(v.schema_version),
                    _ => Unread::Corrupt(format!("line {}: {e}", e.line())),
                }
            })
        });
        match parsed {
            Ok(entry) if entry.schema_version <= SCHEMA_VERSION => loaded.entries.push(entry),
            Ok(HistoryEntry { schema_version, .. }) | Err(Unread::Newer(schema_version)) => loaded.problems.push(format!(
                "{}: schema_version {schema_version} is newer than this sagereport understands ({SCHEMA_VERSION}); skipped — upgrade sagereport to show it (the file is kept)",
                path.display(),
            )),
            Err(Unread::Corrupt(e)) => loaded.problems.push(format!(
                "{}: not a history entry ({e}); skipped — delete or repair the file",
                path.display()
            )),
        }
    }
    loaded
        .entries
        .sort_by(|a, b| (&a.time, &a.report, &a.label, &a.commit).cmp(&(&b.time, &b.report, &b.label, &b.commit)));
    Ok(loaded)
}

/// Add `entry` to the store unless the same (report, label, commit) is
/// already there. Returns the written file, or `None` when it was a repeat.
pub fn append(dir: &Path, existing: &[HistoryEntry], entry: &HistoryEntry) -> anyhow::Result<Option<PathBuf>> {
    if existing.iter().any(|e| e.same_run(entry)) {
        return Ok(None);
    }
    let entries_dir = dir.join("entries");
    std::fs::create_dir_all(&entries_dir).with_context(|| {
        format!(
            "{}: cannot create the history store; check --history",
            entries_dir.display()
        )
    })?;
    let path = entries_dir.join(format!("{}.json", entry.id()));
    if path.exists() {
        return Ok(None);
    }
    let tmp = entries_dir.join(format!(".{}.tmp-{}", entry.id(), std::process::id()));
    let mut text = serde_json::to_string_pretty(entry)?;
    text.push('\n');
    std::fs::write(&tmp, text).with_context(|| format!("{}: cannot write the history entry", tmp.display()))?;
    std::fs::rename(&tmp, &path)
        .with_context(|| format!("{}: cannot move the history entry into place", path.display()))?;
    Ok(Some(path))
}

/// The metrics followed over time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TrendMetric {
    Throughput,
    LatencyP99,
}

impl TrendMetric {
    pub const ALL: [TrendMetric; 2] = [TrendMetric::Throughput, TrendMetric::LatencyP99];

    pub fn title(self) -> &'static str {
        match self {
            TrendMetric::Throughput => "throughput (items/s)",
            TrendMetric::LatencyP99 => "latency p99 (ms)",
        }
    }

    fn of(self, g: &HistoryGroup) -> HistoryPoint {
        match self {
            TrendMetric::Throughput => g.throughput,
            TrendMetric::LatencyP99 => g.latency_p99,
        }
    }
}

/// One point of a trend: a run's value with its interval.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TrendPoint {
    /// Index into the loaded entries.
    pub entry: usize,
    pub value: HistoryPoint,
    /// This point is the first run of a new level (see [`change_points`]).
    pub change: bool,
    /// The step this point starts: set exactly when `change` is.
    pub step: Option<Step>,
}

/// How far the mean moved at a change point, from the segment of runs
/// before it to the segment after it (segments end at the neighbouring
/// change points or at the ends of the series).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Step {
    /// Relative change of the mean, `mean(after) / mean(before) − 1`
    /// (0.30 = +30 %); `None` when the earlier segment's mean is 0.
    pub size: Option<f64>,
    /// Interval of `size` at [`ChangeOptions::confidence`]: Fieller's
    /// interval for the ratio of the two segments' means, minus 1 (see
    /// [`change_points`]); `None` when it is unbounded or undefined.
    pub ci: Option<(f64, f64)>,
    /// Permutation p-value of the split when it was found.
    pub p_value: f64,
    /// Runs in the segment before and after the change point.
    pub before: usize,
    pub after: usize,
    pub mean_before: f64,
    pub mean_after: f64,
}

/// A change point of a series: `index` is the first point of the new level.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct ChangePoint {
    pub index: usize,
    pub step: Step,
}

/// Smallest step reported by default: 5 %, the `compare --threshold` default.
pub const DEFAULT_MIN_CHANGE: f64 = 0.05;
/// Permutations per significance test (Matteson & James use R = 199 or 999).
pub const PERMUTATIONS: usize = 999;
/// Significance level of each split: a split is kept when p ≤ 0.05.
pub const SIGNIFICANCE: f64 = 0.05;
/// Seed of the permutation test, mixed with each segment's first index and
/// length (through SplitMix64), so every run of the same history draws the
/// same permutations.
pub const PERMUTATION_SEED: u64 = 2014;
/// Fewest runs in a segment on either side of a split (as `min.size` in
/// Matteson & James' `ecp`): one odd run is never a level of its own.
pub const MIN_SEGMENT: usize = 2;
/// Fewest runs in a series before a split is even tried.
pub const MIN_POINTS: usize = 2 * MIN_SEGMENT;
/// Fewest runs in which one step can be significant: the permutation p of a
/// split into m + k runs is at least 2/C(m+k, m), which is 2/C(8,4) = 0.029
/// at 8 runs but 2/C(7,3) = 0.057 > [`SIGNIFICANCE`] at 7.
pub const RUNS_FOR_A_STEP: usize = 8;

/// What makes a change point worth reporting.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ChangeOptions {
    /// Smallest relative step reported, as a fraction (0.05 = 5 %).
    pub min_change: f64,
    /// Confidence level of each step's interval.
    pub confidence: f64,
}

impl Default for ChangeOptions {
    fn default() -> Self {
        ChangeOptions {
            min_change: DEFAULT_MIN_CHANGE,
            confidence: 0.95,
        }
    }
}

/// One side of one workload (variant) of one report, over runs, oldest first.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Trend {
    pub report: String,
    pub workload: String,
    pub variant: String,
    pub side: String,
    pub metric: TrendMetric,
    pub points: Vec<TrendPoint>,
}

impl Trend {
    pub fn changes(&self) -> usize {
        self.points.iter().filter(|p| p.change).count()
    }
}

/// Every trend in `entries` (sorted oldest first), grouped by report,
/// workload, variant, side and metric, in that order, with the change points
/// of each series of run means found by [`change_points`].
pub fn trends(entries: &[HistoryEntry], options: &ChangeOptions) -> Vec<Trend> {
    use rayon::prelude::*;
    type Key = (String, String, String, String, TrendMetric);
    let mut series: BTreeMap<Key, Vec<TrendPoint>> = BTreeMap::new();
    for (i, e) in entries.iter().enumerate() {
        for g in &e.groups {
            for m in TrendMetric::ALL {
                let value = m.of(g);
                if !value.mean.is_some_and(f64::is_finite) {
                    continue;
                }
                series
                    .entry((
                        e.report.clone(),
                        g.workload.clone(),
                        g.variant.clone(),
                        g.side.clone(),
                        m,
                    ))
                    .or_default()
                    .push(TrendPoint {
                        entry: i,
                        value,
                        change: false,
                        step: None,
                    });
            }
        }
    }
    let series: Vec<(Key, Vec<TrendPoint>)> = series.into_iter().collect();
    series
        .into_par_iter()
        .map(|((report, workload, variant, side, metric), mut points)| {
            let means: Vec<f64> = points.iter().filter_map(|p| p.value.mean).collect();
            for c in change_points(&means, options) {
                points[c.index].change = true;
                points[c.index].step = Some(c.step);
            }
            Trend {
                report,
                workload,
                variant,
                side,
                metric,
                points,
            }
        })
        .collect()
}

/// Change points of a series of run means, oldest first.
///
/// Method: E-divisive means (Matteson & James 2014, "A nonparametric
/// approach for multiple change point analysis of multivariate data", JASA
/// 109(505):334–345), the method of MongoDB's performance CI (Daly et al.,
/// "The use of change point detection to identify software performance
/// regressions in a continuous integration system", ICPE 2020) and of Apache
/// Otava (formerly Hunter; Fleming et al., "Hunter: using change point
/// detection to hunt for performance regressions", ICPE 2023). For a segment `Z` of the series and a split into `X = Z[s..τ)`,
/// `Y = Z[τ..κ)` (m and k runs, each ≥ [`MIN_SEGMENT`]) the energy statistic
/// (α = 1) is
///
/// `q̂ = mk/(m+k) · (2/(mk) Σ|Xᵢ−Yⱼ| − C(m,2)⁻¹ Σ|Xᵢ−Xₗ| − C(k,2)⁻¹ Σ|Yⱼ−Yₗ|)`,
///
/// large when the two sets differ in distribution (here: in level). The
/// best split maximises q̂ over τ and κ; its significance is a permutation
/// test: the segment's runs are shuffled [`PERMUTATIONS`] times
/// (xoshiro256\*\*, seeded from [`PERMUTATION_SEED`] mixed with the segment's
/// start and length, Fisher–Yates), the best q̂ is recomputed each time, and
/// `p = (1 + #{q̂* ≥ q̂}) / (R + 1)` (ties count as extreme; relative
/// tolerance 1e-9 for summation order). When `p ≤` [`SIGNIFICANCE`] `τ` is a
/// change point and both sides are searched again (bisection); the search
/// stops where no split is significant. A test that has already seen 50
/// permutations at least as extreme stops early (p can no longer reach
/// 0.05). Same input ⇒ same output, on every platform.
///
/// Then each change point's [`Step`] is measured between the neighbouring
/// segments: size `mean(after)/mean(before) − 1`, interval from Fieller's
/// interval of the ratio of means with Welch–Satterthwaite degrees of
/// freedom (`stats::ratio_of_means_fieller`, runs as the replicates; this is
/// the Welch t interval of the difference of the means expressed relative to
/// the earlier mean, with that mean's own uncertainty included). Steps
/// smaller than `options.min_change` in absolute value are dropped, the
/// smallest first, and the neighbours re-measured on the merged segment, so
/// builds that only drift by a few percent raise nothing.
///
/// Limits: a series of fewer than [`MIN_POINTS`] (4) runs is not searched,
/// a series of identical values has q̂ = 0 and no change point, and a
/// non-finite value disables the search. A permutation test cannot be more
/// significant than the share of orderings that separate the two levels as
/// well as the data do: `p ≥ 2/C(m+k, m)`, so a single step needs 8 runs in
/// all (4 + 4, or 5 + 3) to reach 0.05, and a step in the newest runs is
/// reported only once enough runs follow it (e.g. 3 after 5, 2 after 8).
pub fn change_points(values: &[f64], options: &ChangeOptions) -> Vec<ChangePoint> {
    if values.len() < MIN_POINTS || values.iter().any(|v| !v.is_finite()) {
        return Vec::new();
    }
    // Significant splits: (index, p), found by bisection over a work list.
    let mut found: Vec<(usize, f64)> = Vec::new();
    let mut work = vec![(0, values.len())];
    let mut prefix = Vec::new();
    while let Some((start, end)) = work.pop() {
        if end - start < MIN_POINTS {
            continue;
        }
        let segment = &values[start..end];
        let Some((tau, q)) = best_split(segment, &mut prefix) else {
            continue;
        };
        let seed = PERMUTATION_SEED ^ ((start as u64) << 32 | (end - start) as u64);
        let p = permutation_p(segment, q, seed, &mut prefix);
        if p <= SIGNIFICANCE {
            found.push((start + tau, p));
            work.push((start, start + tau));
            work.push((start + tau, end));
        }
    }
    found.sort_by_key(|&(i, _)| i);
    // Drop steps below the minimum, smallest first, re-measuring the neighbours.
    loop {
        let steps: Vec<Step> = (0..found.len())
            .map(|k| {
                let from = if k == 0 { 0 } else { found[k - 1].0 };
                let to = found.get(k + 1).map_or(values.len(), |c| c.0);
                measure_step(
                    &values[from..found[k].0],
                    &values[found[k].0..to],
                    found[k].1,
                    options.confidence,
                )
            })
            .collect();
        let weakest = steps
            .iter()
            .enumerate()
            .filter_map(|(k, s)| s.size.map(|x| (k, x.abs())))
            .filter(|&(_, x)| x < options.min_change)
            .min_by(|a, b| a.1.total_cmp(&b.1));
        match weakest {
            Some((k, _)) => {
                found.remove(k);
            }
            None => {
                return found
                    .iter()
                    .zip(steps)
                    .map(|(&(index, _), step)| ChangePoint { index, step })
                    .collect()
            }
        }
    }
}

/// The step from `before` to `after` (both non-empty).
fn measure_step(before: &[f64], after: &[f64], p_value: f64, confidence: f64) -> Step {
    let mean = |xs: &[f64]| xs.iter().sum::<f64>() / xs.len() as f64;
    let ratio = super::stats::ratio_of_means_fieller(after, before, confidence);
    Step {
        size: ratio.as_ref().map(|r| r.ratio - 1.0),
        ci: ratio.and_then(|r| r.ci).map(|(lo, hi)| (lo - 1.0, hi - 1.0)),
        p_value,
        before: before.len(),
        after: after.len(),
        mean_before: mean(before),
        mean_after: mean(after),
    }
}

/// The split of `z` with the largest energy statistic q̂ over every
/// `X = z[0..τ)`, `Y = z[τ..κ)` with at least [`MIN_SEGMENT`] runs each:
/// `(τ, q̂)`, or `None` when no split has q̂ > 0 (e.g. identical values).
/// Ties keep the smallest τ, then κ. O(n²) with the column prefix sums
/// `P(j, t) = Σ_{i<t} |zᵢ − zⱼ|` (t ≤ j) held in `prefix`.
fn best_split(z: &[f64], prefix: &mut Vec<f64>) -> Option<(usize, f64)> {
    let n = z.len();
    if n < MIN_POINTS {
        return None;
    }
    let row = |j: usize| j * (j + 1) / 2;
    prefix.clear();
    prefix.resize(row(n), 0.0);
    for j in 0..n {
        let mut acc = 0.0;
        for t in 0..j {
            acc += (z[t] - z[j]).abs();
            prefix[row(j) + t + 1] = acc;
        }
    }
    let p = |j: usize, t: usize| prefix[row(j) + t];
    let mut best: Option<(usize, f64)> = None;
    // Σ of |Xᵢ − Xₗ| over pairs of X = z[0..τ), for τ = MIN_SEGMENT.
    let mut within_x: f64 = (1..MIN_SEGMENT).map(|k| p(k, k)).sum();
    for tau in MIN_SEGMENT..=n - MIN_SEGMENT {
        let m = tau as f64;
        let (mut between, mut within_y) = (0.0, 0.0);
        for kappa in tau + 1..=n {
            // Y grows by z[kappa − 1].
            let j = kappa - 1;
            between += p(j, tau);
            within_y += p(j, j) - p(j, tau);
            if kappa - tau < MIN_SEGMENT {
                continue;
            }
            let k = (kappa - tau) as f64;
            let q = 2.0 * between / (m + k)
                - 2.0 * k * within_x / ((m + k) * (m - 1.0))
                - 2.0 * m * within_y / ((m + k) * (k - 1.0));
            if best.map_or(q > 0.0, |(_, b)| q > b) {
                best = Some((tau, q));
            }
        }
        // X grows by z[tau].
        within_x += p(tau, tau);
    }
    best
}

/// Permutation p-value of the best split's statistic `observed` on `z`
/// (see [`change_points`]).
fn permutation_p(z: &[f64], observed: f64, seed: u64, prefix: &mut Vec<f64>) -> f64 {
    let mut rng = super::stats::Xoshiro256StarStar::seed_from_u64(seed);
    let mut shuffled = z.to_vec();
    let at_least = observed * (1.0 - 1e-9);
    // Once this many permutations are as extreme, p > SIGNIFICANCE for sure.
    let enough = (SIGNIFICANCE * (PERMUTATIONS + 1) as f64).round() as usize;
    let mut extreme = 0;
    for _ in 0..PERMUTATIONS {
        for i in (1..shuffled.len()).rev() {
            let j = rng.below(i as u64 + 1) as usize;
            shuffled.swap(i, j);
        }
        if best_split(&shuffled, prefix).is_some_and(|(_, q)| q >= at_least) {
            extreme += 1;
            if extreme >= enough {
                break;
            }
        }
    }
    (1 + extreme) as f64 / (PERMUTATIONS + 1) as f64
}

/// The run time: `--time`, else `SOURCE_DATE_EPOCH` (reproducible builds),
/// else now; RFC 3339 UTC, seconds precision.
pub fn run_time(explicit: Option<&str>) -> anyhow::Result<String> {
    use chrono::{DateTime, SecondsFormat, Utc};
    if let Some(t) = explicit {
        let parsed = DateTime::parse_from_rfc3339(t)
            .with_context(|| format!("--time {t:?} is not an RFC 3339 time; write e.g. 2026-11-23T10:15:00Z"))?;
        return Ok(parsed.with_timezone(&Utc).to_rfc3339_opts(SecondsFormat::Secs, true));
    }
    if let Ok(epoch) = std::env::var("SOURCE_DATE_EPOCH") {
        let secs: i64 = epoch
            .trim()
            .parse()
            .with_context(|| format!("SOURCE_DATE_EPOCH={epoch:?} is not a number of seconds; unset it or fix it"))?;
        let t = DateTime::<Utc>::from_timestamp(secs, 0).context("SOURCE_DATE_EPOCH is out of range")?;
        return Ok(t.to_rfc3339_opts(SecondsFormat::Secs, true));
    }
    Ok(Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(mean: f64, half: Option<f64>) -> HistoryPoint {
        HistoryPoint {
            n: if half.is_some() { 5 } else { 1 },
            mean: Some(mean),
            ci_low: half.map(|h| mean - h),
            ci_high: half.map(|h| mean + h),
        }
    }

    fn entry(time: &str, commit: &str, sage: f64) -> HistoryEntry {
        HistoryEntry {
            schema_version: 1,
            report: "r".into(),
            label: "main".into(),
            commit: commit.into(),
            time: time.into(),
            tool_version: "t".into(),
            axis: "backend".into(),
            baseline: Some("sage".into()),
            confidence: 0.95,
            records_accepted: 10,
            records_rejected: 0,
            mismatches: vec![],
            groups: vec![HistoryGroup {
                side: "sage".into(),
                workload: "Q1".into(),
                variant: String::new(),
                n: 5,
                throughput: point(sage, Some(1.0)),
                latency_p99: point(50.0, Some(2.0)),
            }],
            comparisons: vec![],
        }
    }

    fn found(values: &[f64], min_change: f64) -> Vec<usize> {
        change_points(
            values,
            &ChangeOptions {
                min_change,
                confidence: 0.95,
            },
        )
        .iter()
        .map(|c| c.index)
        .collect()
    }

    /// q̂ of the split z[0..τ) | z[τ..κ) straight from the definition
    /// (Matteson & James 2014, eq. 2–3, α = 1), O(n²) per split.
    fn q_hat_by_definition(z: &[f64], tau: usize, kappa: usize) -> f64 {
        let (x, y) = (&z[..tau], &z[tau..kappa]);
        let (m, k) = (x.len() as f64, y.len() as f64);
        let between: f64 = x.iter().flat_map(|a| y.iter().map(move |b| (a - b).abs())).sum();
        let pairs = |s: &[f64]| -> f64 {
            (0..s.len())
                .flat_map(|i| (i + 1..s.len()).map(move |j| (s[i] - s[j]).abs()))
                .sum()
        };
        let e = 2.0 * between / (m * k) - pairs(x) / (m * (m - 1.0) / 2.0) - pairs(y) / (k * (k - 1.0) / 2.0);
        m * k / (m + k) * e
    }

    #[test]
    fn best_split_maximises_the_energy_statistic_of_the_definition() {
        // An independent check of the O(n²) prefix-sum form against the
        // definition, over every τ and κ with ≥ 2 runs a side.
        let z = [3.0, 1.0, 4.0, 1.5, 9.0, 2.6, 5.3, 5.8, 9.7, 9.3, 2.3];
        let mut best = (0, f64::NEG_INFINITY);
        for tau in 2..=z.len() - 2 {
            for kappa in tau + 2..=z.len() {
                let q = q_hat_by_definition(&z, tau, kappa);
                if q > best.1 {
                    best = (tau, q);
                }
            }
        }
        let (tau, q) = best_split(&z, &mut Vec::new()).unwrap();
        assert_eq!(tau, best.0);
        assert!((q - best.1).abs() < 1e-12 * best.1, "{q} vs {}", best.1);
        // Identical values: every q̂ is 0, so there is no split at all.
        assert_eq!(best_split(&[7.0; 9], &mut Vec::new()), None);
    }

    #[test]
    fn permutation_p_matches_the_exact_share_of_separating_orderings() {
        // Two levels 4 + 4, far apart: the observed split is the best one,
        // and only orderings that put the same four runs on one side reach
        // its q̂ — 2 of the C(8,4) = 70 ways to choose them, so the exact
        // permutation p is 2/70 = 0.0286. The Monte Carlo estimate with 999
        // draws has standard error √(0.0286·0.9714/999) = 0.0053.
        let z = [100.0, 98.5, 101.7, 99.2, 130.4, 128.1, 131.9, 129.0];
        let (tau, q) = best_split(&z, &mut Vec::new()).unwrap();
        assert_eq!(tau, 4);
        let p = permutation_p(&z, q, PERMUTATION_SEED, &mut Vec::new());
        assert!((p - 2.0 / 70.0).abs() < 3.0 * 0.0053, "p = {p}");
    }

    #[test]
    fn builds_that_drift_within_3_percent_raise_no_change_point() {
        // The issue's case: six builds of the same code on a shared machine,
        // each within ±3 % of 100. Two reasons for no flag, each sufficient:
        // with 6 runs the best split of 3 + 3 has a permutation p of at least
        // 2/C(6,3) = 0.1 > 0.05, and any split's means differ by < 3 % < 5 %.
        let drift = [100.0, 102.5, 99.0, 101.8, 98.6, 101.0];
        assert!(found(&drift, DEFAULT_MIN_CHANGE).is_empty());
        // Twelve such builds: long enough to be tested, yet the levels are
        // interleaved, so no split separates them; still nothing.
        let longer = [
            100.0, 102.5, 99.0, 101.8, 98.6, 101.0, 102.9, 97.4, 100.6, 99.5, 102.1, 98.2,
        ];
        assert!(found(&longer, DEFAULT_MIN_CHANGE).is_empty());
        // Not even the test alone (no minimum size) finds one.
        assert!(found(&longer, 0.0).is_empty());
    }

    #[test]
    fn a_30_percent_step_is_flagged_at_the_first_run_of_the_new_level() {
        // 8 runs, ±2 % noise, +30 % from run index 4 on. Means: before
        // (100 + 98.5 + 101.7 + 99.2)/4 = 99.85, after (130.4 + 128.1 +
        // 131.9 + 129.0)/4 = 129.85, size 129.85/99.85 − 1 = +30.05 %; the
        // permutation p is ≈ 2/70 (see the test above; this segment's seed
        // draws 40 extreme permutations of 999: p = 0.041 ≤ 0.05). Each half
        // then has 4 runs, whose best split (2 + 2) cannot go below
        // p = 2/C(4,2) = 1/3: no further change point.
        let z = [100.0, 98.5, 101.7, 99.2, 130.4, 128.1, 131.9, 129.0];
        let c = change_points(&z, &ChangeOptions::default());
        assert_eq!(c.len(), 1, "{c:?}");
        assert_eq!(c[0].index, 4);
        let s = c[0].step;
        assert!((s.size.unwrap() - (129.85 / 99.85 - 1.0)).abs() < 1e-12, "{s:?}");
        assert_eq!((s.before, s.after), (4, 4));
        assert!(s.p_value <= SIGNIFICANCE, "{s:?}");
        // Interval: segment sds 1.377 and 1.662, se of the difference
        // √(1.377²/4 + 1.662²/4) = 1.079 on 5.8 Welch df (t = 2.46): the
        // Welch interval of the difference is 30 ± 2.66, i.e. [+27.4 %,
        // +32.7 %] of 99.85. Fieller's interval of the ratio adds the
        // uncertainty of the earlier mean, so it is a little wider (the code
        // gives [+27.1 %, +33.1 %]).
        let (lo, hi) = s.ci.unwrap();
        assert!(lo > 0.26 && lo < 0.274 && hi > 0.327 && hi < 0.34, "{s:?}");
        // The same runs in reverse order: a step down at the same place,
        // size 99.85/129.85 − 1 = −23.1 %.
        let down: Vec<f64> = z.iter().rev().copied().collect();
        let c = change_points(&down, &ChangeOptions::default());
        assert_eq!(c.iter().map(|c| c.index).collect::<Vec<_>>(), [4]);
        assert!(
            (c[0].step.size.unwrap() - (99.85 / 129.85 - 1.0)).abs() < 1e-12,
            "{c:?}"
        );
    }

    #[test]
    fn a_3_percent_step_is_shown_only_below_a_smaller_minimum() {
        // 5 + 5 runs with ±0.4 % noise and a clean +3 % step: significant
        // (p ≈ 2/C(10,5) = 0.008), size 103.06/100.04 − 1 = +3.02 % — under
        // the default 5 %, over 2 %.
        let z = [100.0, 100.4, 99.7, 100.2, 99.9, 103.1, 102.8, 103.3, 102.9, 103.2];
        assert!(found(&z, DEFAULT_MIN_CHANGE).is_empty());
        let c = change_points(
            &z,
            &ChangeOptions {
                min_change: 0.02,
                confidence: 0.95,
            },
        );
        assert_eq!(c.iter().map(|c| c.index).collect::<Vec<_>>(), [5]);
        assert!((c[0].step.size.unwrap() - (103.06 / 100.04 - 1.0)).abs() < 1e-12);
    }

    #[test]
    fn a_small_step_under_the_minimum_merges_its_segments() {
        // 100 → 103 (+3 %) at index 5, then → 134 at index 10. Both are
        // significant; at 5 % the +3 % step goes and the big step is measured
        // from all ten earlier runs: mean (5·100 + 5·103)/10 = 101.5, size
        // 134/101.5 − 1 = +32.0 %. At 2 % both stay; the big one is then
        // measured from the 103 level: 134/103 − 1 = +30.1 %.
        let z = [
            100.0, 100.1, 99.9, 100.0, 100.0, 103.0, 103.1, 102.9, 103.0, 103.0, 134.0, 134.1, 133.9, 134.0,
        ];
        let c = change_points(&z, &ChangeOptions::default());
        assert_eq!(c.iter().map(|c| c.index).collect::<Vec<_>>(), [10]);
        assert!((c[0].step.size.unwrap() - (134.0 / 101.5 - 1.0)).abs() < 1e-12, "{c:?}");
        assert_eq!(c[0].step.before, 10);
        let c = change_points(
            &z,
            &ChangeOptions {
                min_change: 0.02,
                confidence: 0.95,
            },
        );
        assert_eq!(c.iter().map(|c| c.index).collect::<Vec<_>>(), [5, 10]);
        assert!((c[1].step.size.unwrap() - (134.0 / 103.0 - 1.0)).abs() < 1e-12, "{c:?}");
    }

    #[test]
    fn too_few_runs_and_identical_values_raise_nothing() {
        // Under MIN_POINTS (4) runs no split is tried, however large the jump.
        assert!(found(&[1.0, 1.0, 100.0], 0.0).is_empty());
        // 4 to 7 runs: searched, but p ≥ 2/C(7,3) = 0.057 > 0.05 at best.
        assert!(found(&[1.0, 1.0, 1.0, 100.0, 100.0, 100.0, 100.0], 0.0).is_empty());
        // Identical values: q̂ = 0 everywhere.
        assert!(found(&[5.0; 20], 0.0).is_empty());
        // A value that is not finite disables the search.
        assert!(found(&[1.0, 1.0, 1.0, 1.0, f64::NAN, 9.0, 9.0, 9.0, 9.0], 0.0).is_empty());
        assert!(found(&[], 0.0).is_empty());
    }

    #[test]
    fn same_series_same_change_points() {
        // The permutations come from a fixed seed: two calls agree bit for
        // bit, p-values included.
        let z = [
            100.0, 98.5, 101.7, 99.2, 130.4, 128.1, 131.9, 129.0, 99.0, 100.3, 101.1, 98.8,
        ];
        let a = change_points(&z, &ChangeOptions::default());
        let b = change_points(&z, &ChangeOptions::default());
        assert_eq!(a, b);
        assert!(a
            .iter()
            .zip(&b)
            .all(|(x, y)| x.step.p_value.to_bits() == y.step.p_value.to_bits()));
        // Up at index 4, down at index 8 (runs 4–7 are the +30 % level).
        assert_eq!(a.iter().map(|c| c.index).collect::<Vec<_>>(), [4, 8]);
    }

    #[test]
    fn store_appends_once_per_run_and_reads_back_sorted() {
        let dir = tempfile::tempdir().unwrap();
        let a = entry("2026-11-02T00:00:00Z", "bbbbbbb", 100.0);
        let b = entry("2026-11-01T00:00:00Z", "aaaaaaa", 100.0);
        assert!(append(dir.path(), &[], &a).unwrap().is_some());
        assert!(append(dir.path(), &[], &b).unwrap().is_some());
        let loaded = load(dir.path()).unwrap();
        assert_eq!(
            loaded.entries.iter().map(|e| e.commit.as_str()).collect::<Vec<_>>(),
            ["aaaaaaa", "bbbbbbb"]
        );
        // Same report, label and commit again (a re-run CI job): not added.
        let mut again = a.clone();
        again.time = "2026-11-03T00:00:00Z".into();
        assert!(append(dir.path(), &loaded.entries, &again).unwrap().is_none());
        assert_eq!(load(dir.path()).unwrap().entries.len(), 2);
    }

    #[test]
    fn corrupt_entry_is_reported_with_its_path_not_fatal() {
        let dir = tempfile::tempdir().unwrap();
        append(dir.path(), &[], &entry("2026-11-01T00:00:00Z", "a", 1.0)).unwrap();
        std::fs::write(dir.path().join("entries/broken.json"), "{\"schema_version\": 1,").unwrap();
        let loaded = load(dir.path()).unwrap();
        assert_eq!(loaded.entries.len(), 1);
        assert_eq!(loaded.problems.len(), 1);
        assert!(loaded.problems[0].contains("broken.json"), "{}", loaded.problems[0]);
        assert!(
            loaded.problems[0].contains("delete or repair"),
            "{}",
            loaded.problems[0]
        );
    }

    #[test]
    fn an_entry_of_a_newer_schema_is_kept_and_named_as_newer_not_as_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        append(dir.path(), &[], &entry("2026-11-01T00:00:00Z", "a", 1.0)).unwrap();
        let newer = format!(
            "{{\"schema_version\": {}, \"fields\": \"renamed\"}}",
            SCHEMA_VERSION + 1
        );
        std::fs::write(dir.path().join("entries/newer.json"), newer).unwrap();
        let loaded = load(dir.path()).unwrap();
        assert_eq!(loaded.entries.len(), 1);
        let problem = &loaded.problems[0];
        assert!(
            problem.contains("newer.json") && problem.contains("is newer than this sagereport"),
            "{problem}"
        );
        assert!(!problem.contains("delete"), "{problem}");
    }

    #[test]
    fn trends_follow_each_side_over_runs_and_flag_steps() {
        // sage's throughput: four runs near 100, four near 80 (−20 %);
        // latency p99 is 50 in every run (no change).
        let values = [100.0, 100.5, 99.6, 100.2, 80.0, 80.3, 79.8, 80.1];
        let entries: Vec<HistoryEntry> = values
            .iter()
            .enumerate()
            .map(|(i, v)| entry(&format!("2026-11-0{}T00:00:00Z", i + 1), &format!("c{i}"), *v))
            .collect();
        let t = trends(&entries, &ChangeOptions::default());
        assert_eq!(t.len(), 2);
        let tp = t.iter().find(|t| t.metric == TrendMetric::Throughput).unwrap();
        assert_eq!(tp.points.len(), 8);
        assert_eq!(
            tp.points.iter().map(|p| p.change).collect::<Vec<_>>(),
            [false, false, false, false, true, false, false, false]
        );
        assert_eq!(tp.changes(), 1);
        let step = tp.points[4].step.unwrap();
        assert!((step.size.unwrap() - (80.05 / 100.075 - 1.0)).abs() < 1e-12, "{step:?}");
        assert!(tp.points.iter().all(|p| p.change == p.step.is_some()));
        let lat = t.iter().find(|t| t.metric == TrendMetric::LatencyP99).unwrap();
        assert_eq!(lat.changes(), 0);
        // Three runs: the same step is not claimed.
        assert_eq!(trends(&entries[2..5], &ChangeOptions::default())[0].changes(), 0);
    }

    #[test]
    fn ids_and_slugs_are_file_safe() {
        assert_eq!(slug("<script>alert(1)</script>"), "script-alert-1-script");
        assert_eq!(slug("///"), "x");
        let e = entry("2026-11-01T10:15:00Z", "0123456789abcdef0123", 1.0);
        assert_eq!(e.id(), "20261101T101500Z_r_main_0123456789ab");
    }

    #[test]
    fn run_time_is_normalized_to_utc() {
        assert_eq!(
            run_time(Some("2026-11-23T12:00:00+02:00")).unwrap(),
            "2026-11-23T10:00:00Z"
        );
        assert!(run_time(Some("yesterday")).is_err());
    }
}
