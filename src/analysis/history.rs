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
        HistoryPoint { n: s.n, mean: s.mean, ci_low: s.ci_low, ci_high: s.ci_high }
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
            axis: format!("{:?}", c.axis).to_lowercase(),
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
        let commit: String = self.commit.chars().filter(|c| c.is_ascii_alphanumeric()).take(12).collect();
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
        self.report == other.report && self.label == other.label && self.commit == other.commit && !self.commit.is_empty()
    }
}

/// A lowercase ASCII name for files and URLs: letters, digits, `-`; at most
/// 60 characters; never empty.
pub fn slug(name: &str) -> String {
    let mut s = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            s.push(c.to_ascii_lowercase());
        } else if !s.ends_with('-') {
            s.push('-');
        }
    }
    let s: String = s.trim_matches('-').chars().take(60).collect();
    let s = s.trim_end_matches('-').to_string();
    if s.is_empty() {
        "x".into()
    } else {
        s
    }
}

/// What loading the store found.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Entries sorted by time, then report, label and commit.
    pub entries: Vec<HistoryEntry>,
    /// Files that could not be read, each `path: reason; what to do`.
    pub problems: Vec<String>,
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
        let parsed = std::fs::read(&path)
            .map_err(|e| e.to_string())
            .and_then(|bytes| serde_json::from_slice::<HistoryEntry>(&bytes).map_err(|e| format!("line {}: {e}", e.line())));
        match parsed {
            Ok(entry) if entry.schema_version <= SCHEMA_VERSION => loaded.entries.push(entry),
            Ok(entry) => loaded.problems.push(format!(
                "{}: schema_version {} is newer than this sagereport understands ({SCHEMA_VERSION}); upgrade sagereport",
                path.display(),
                entry.schema_version
            )),
            Err(e) => loaded.problems.push(format!(
                "{}: not a history entry ({e}); skipped — delete or repair the file",
                path.display()
            )),
        }
    }
    loaded.entries.sort_by(|a, b| (&a.time, &a.report, &a.label, &a.commit).cmp(&(&b.time, &b.report, &b.label, &b.commit)));
    Ok(loaded)
}

/// Add `entry` to the store unless the same (report, label, commit) is
/// already there. Returns the written file, or `None` when it was a repeat.
pub fn append(dir: &Path, existing: &[HistoryEntry], entry: &HistoryEntry) -> anyhow::Result<Option<PathBuf>> {
    if existing.iter().any(|e| e.same_run(entry)) {
        return Ok(None);
    }
    let entries_dir = dir.join("entries");
    std::fs::create_dir_all(&entries_dir)
        .with_context(|| format!("{}: cannot create the history store; check --history", entries_dir.display()))?;
    let path = entries_dir.join(format!("{}.json", entry.id()));
    if path.exists() {
        return Ok(None);
    }
    let tmp = entries_dir.join(format!(".{}.tmp-{}", entry.id(), std::process::id()));
    let mut text = serde_json::to_string_pretty(entry)?;
    text.push('\n');
    std::fs::write(&tmp, text).with_context(|| format!("{}: cannot write the history entry", tmp.display()))?;
    std::fs::rename(&tmp, &path).with_context(|| format!("{}: cannot move the history entry into place", path.display()))?;
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
    /// This point starts a change (see [`change_points`]).
    pub change: bool,
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
/// workload, variant, side and metric, in that order.
pub fn trends(entries: &[HistoryEntry]) -> Vec<Trend> {
    type Key = (String, String, String, String, TrendMetric);
    let mut series: BTreeMap<Key, Vec<TrendPoint>> = BTreeMap::new();
    for (i, e) in entries.iter().enumerate() {
        for g in &e.groups {
            for m in TrendMetric::ALL {
                let value = m.of(g);
                if value.mean.is_none() {
                    continue;
                }
                series
                    .entry((e.report.clone(), g.workload.clone(), g.variant.clone(), g.side.clone(), m))
                    .or_default()
                    .push(TrendPoint { entry: i, value, change: false });
            }
        }
    }
    series
        .into_iter()
        .map(|((report, workload, variant, side, metric), mut points)| {
            let values: Vec<HistoryPoint> = points.iter().map(|p| p.value).collect();
            for i in change_points(&values) {
                points[i].change = true;
            }
            Trend { report, workload, variant, side, metric, points }
        })
        .collect()
}

/// Change points of a series, oldest first: the indices `i` where the
/// confidence interval of run `i` does not overlap that of run `i − 1`.
///
/// Method: non-overlap of two independent confidence intervals implies a
/// significant difference, conservatively — two non-overlapping 95 %
/// intervals correspond to a two-sample test at roughly the 0.6 % level
/// (Schenker & Gentleman, "On judging the significance of differences by
/// examining the overlap between confidence intervals", The American
/// Statistician 55(3), 2001). So a flag is a real step, not noise, at the
/// cost of missing small steps. Runs without an interval (n = 1) are never
/// flagged and do not break the comparison chain: a run is compared with
/// the last earlier run that has an interval.
pub fn change_points(points: &[HistoryPoint]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut previous: Option<(f64, f64)> = None;
    for (i, p) in points.iter().enumerate() {
        let Some(ci) = p.ci_low.zip(p.ci_high).filter(|(lo, hi)| lo.is_finite() && hi.is_finite()) else { continue };
        if let Some((lo, hi)) = previous {
            if ci.0 > hi || ci.1 < lo {
                out.push(i);
            }
        }
        previous = Some(ci);
    }
    out
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
        HistoryPoint { n: if half.is_some() { 5 } else { 1 }, mean: Some(mean), ci_low: half.map(|h| mean - h), ci_high: half.map(|h| mean + h) }
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

    #[test]
    fn change_point_is_a_step_whose_interval_does_not_overlap() {
        let p = [point(100.0, Some(2.0)), point(101.0, Some(2.0)), point(110.0, Some(2.0)), point(111.0, Some(2.0))];
        assert_eq!(change_points(&p), vec![2]);
        // Touching intervals overlap: no flag.
        assert!(change_points(&[point(100.0, Some(2.0)), point(104.0, Some(2.0))]).is_empty());
        // A downward step is flagged too.
        assert_eq!(change_points(&[point(100.0, Some(1.0)), point(90.0, Some(1.0))]), vec![1]);
    }

    #[test]
    fn runs_without_an_interval_are_never_flagged_and_are_skipped_over() {
        let p = [point(100.0, Some(1.0)), point(500.0, None), point(100.5, Some(1.0)), point(120.0, Some(1.0))];
        assert_eq!(change_points(&p), vec![3]);
        assert!(change_points(&[point(1.0, None), point(9.0, None)]).is_empty());
    }

    #[test]
    fn store_appends_once_per_run_and_reads_back_sorted() {
        let dir = tempfile::tempdir().unwrap();
        let a = entry("2026-11-02T00:00:00Z", "bbbbbbb", 100.0);
        let b = entry("2026-11-01T00:00:00Z", "aaaaaaa", 100.0);
        assert!(append(dir.path(), &[], &a).unwrap().is_some());
        assert!(append(dir.path(), &[], &b).unwrap().is_some());
        let loaded = load(dir.path()).unwrap();
        assert_eq!(loaded.entries.iter().map(|e| e.commit.as_str()).collect::<Vec<_>>(), ["aaaaaaa", "bbbbbbb"]);
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
    }

    #[test]
    fn trends_follow_each_side_over_runs_and_flag_steps() {
        let entries = vec![
            entry("2026-11-01T00:00:00Z", "a", 100.0),
            entry("2026-11-02T00:00:00Z", "b", 100.5),
            entry("2026-11-03T00:00:00Z", "c", 80.0),
        ];
        let t = trends(&entries);
        assert_eq!(t.len(), 2);
        let tp = t.iter().find(|t| t.metric == TrendMetric::Throughput).unwrap();
        assert_eq!(tp.points.len(), 3);
        assert_eq!(tp.points.iter().map(|p| p.change).collect::<Vec<_>>(), [false, false, true]);
        assert_eq!(tp.changes(), 1);
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
        assert_eq!(run_time(Some("2026-11-23T12:00:00+02:00")).unwrap(), "2026-11-23T10:00:00Z");
        assert!(run_time(Some("yesterday")).is_err());
    }
}
