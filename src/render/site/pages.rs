//! The site's pages as askama templates (`templates/*.html`) and the view
//! models they read. Every number is formatted here, with summary.md's
//! functions (`render::format`, `render::tables`), so the site and the
//! bundle never disagree;
//! askama HTML-escapes every string a template prints.

use crate::analysis::compare::{GroupStats, Metric, MetricComparison, MetricStats, Mismatch, Verdict};
use crate::analysis::history::{HistoryEntry, HistoryPoint};
use crate::analysis::tables::PaperTable;
use crate::render::format::{conf_pct, interval3, latency_cell, mean_ci, p_value};
use crate::render::tables::html::{html_table, HtmlTable};
use crate::render::verdicts::{largest_change, VerdictDigest};
use crate::render::ReportContext;
use askama::Template;

/// What the layout (`base.html`) needs on every page.
pub struct PageMeta {
    /// Path from the page to the site root, e.g. `../../`; empty at the root.
    pub root: &'static str,
    pub title: String,
    pub site_title: String,
    pub version: &'static str,
    /// The run's time, shown in the footer.
    pub time: String,
}

pub struct Link {
    pub href: String,
    pub text: String,
}

pub struct StatRow {
    pub workload: String,
    pub side: String,
    pub n: usize,
    pub throughput: String,
    /// The plain mean, for sorting (the text carries ±).
    pub throughput_sort: String,
    pub p95: String,
    pub p99: String,
    pub success: String,
    pub baseline: bool,
}

pub struct CompRow {
    pub workload: String,
    pub metric: String,
    pub baseline: String,
    pub candidate: String,
    pub n: String,
    pub ratio: String,
    pub change: String,
    pub change_sort: String,
    pub p_adjusted: String,
    pub verdict: String,
    /// CSS class: `better`, `worse`, `same` or `na`.
    pub class: &'static str,
}

pub struct FieldRow {
    pub name: &'static str,
    pub values: Vec<String>,
}

pub struct MismatchView {
    pub title: String,
    pub sides: Vec<String>,
    pub fields: Vec<FieldRow>,
    pub files: Vec<String>,
    pub explanation: String,
}

pub struct ChartView {
    pub png: String,
    pub svg: String,
    pub alt: String,
    pub caption: String,
}

/// One page of the ratio forest plot, embedded as its SVG (hover text)
/// with the PNG as fallback; `width`/`height` keep its aspect ratio.
pub struct ForestView {
    pub png: String,
    pub svg: String,
    pub alt: String,
    pub caption: String,
    pub width: u32,
    pub height: u32,
}

pub struct ReportView {
    pub name: String,
    pub sides: String,
    pub axis: String,
    pub baseline: String,
    pub confidence: String,
    pub label: String,
    pub commit: String,
    pub read: u64,
    pub accepted: u64,
    pub rejected: u64,
    pub twins_merged: u64,
    pub duplicates: u64,
    pub mismatches: Vec<MismatchView>,
    /// How many mismatches the report has (`mismatches` may stop short).
    pub mismatch_count: usize,
    pub hash_note: String,
    pub stats: Vec<StatRow>,
    /// How many comparisons the report has.
    pub comparison_count: usize,
    /// The verdict digest: `3 worse, 5 better, 57 ~, 1 unstable; 0 mismatches`.
    pub verdict_line: String,
    /// Worse, then better, each largest effect first.
    pub changes: Vec<CompRow>,
    /// Everything else, collapsed under `rest_title`.
    pub rest: Vec<CompRow>,
    pub rest_title: String,
    /// Where a table, list or chart set stops at the site's limits, and
    /// where the rest is; empty when it is shown whole.
    pub changes_note: String,
    pub rest_note: String,
    pub stats_note: String,
    pub mismatches_note: String,
    pub forest_note: String,
    pub charts_note: String,
    pub comparisons_method: String,
    pub charts: Vec<ChartView>,
    /// The ratio forest plot's pages, shown first.
    pub forest: Vec<ForestView>,
    pub tables: Vec<HtmlTable>,
    pub tables_note: String,
    pub rejected_lines: Vec<String>,
    pub rejected_total: usize,
    pub command: String,
    pub inputs: Vec<String>,
    pub run_ids: String,
    pub shape_hashes: String,
    pub config_hashes: String,
    pub downloads: Vec<Link>,
}

#[derive(Template)]
#[template(path = "report.html")]
pub struct ReportPage<'a> {
    pub page: PageMeta,
    pub r: &'a ReportView,
}

pub struct ReportRow {
    pub href: String,
    pub name: String,
    pub time: String,
    pub label: String,
    pub commit: String,
    pub sides: String,
    pub groups: usize,
    pub mismatches: usize,
    pub worse: usize,
    pub better: usize,
    /// The largest significant change (workload, metric, ratio [CI]), or
    /// `no significant change`.
    pub largest: String,
    /// CSS class of `largest`'s verdict (`worse`, `better`, `same`).
    pub largest_class: &'static str,
    pub current: bool,
}

pub struct WorkloadLink {
    pub href: String,
    pub name: String,
    pub runs: usize,
    pub changes: usize,
}

#[derive(Template)]
#[template(path = "index.html")]
pub struct IndexPage {
    pub page: PageMeta,
    pub confidence: String,
    pub reports: Vec<ReportRow>,
    pub workloads: Vec<WorkloadLink>,
    /// How many workloads the history has (`workloads` may stop short).
    pub workload_count: usize,
    /// Which workloads have a page, when not all; else empty.
    pub workloads_note: String,
    pub history_runs: usize,
    pub problems: Vec<String>,
}

pub struct TrendCell {
    pub text: String,
    pub change: bool,
    /// The step's size and interval when `change` (e.g. `+30.2% [+26.9%, +33.5%]`).
    pub step: String,
    /// Means, run counts and p-value behind the step (tooltip).
    pub step_detail: String,
}

pub struct TrendRow {
    pub index: usize,
    pub href: String,
    pub time: String,
    pub label: String,
    pub commit: String,
    pub cells: Vec<TrendCell>,
}

pub struct TrendSection {
    pub title: String,
    pub note: String,
    /// Why no change point can be claimed yet (too few runs), or empty.
    pub change_note: String,
    pub charts: Vec<ChartView>,
    pub columns: Vec<String>,
    pub rows: Vec<TrendRow>,
}

pub struct WorkloadView {
    pub name: String,
    pub confidence: String,
    /// The smallest step shown (`--min-change`), e.g. `5%`.
    pub min_change: String,
    pub permutations: usize,
    pub significance: f64,
    pub sections: Vec<TrendSection>,
}

#[derive(Template)]
#[template(path = "workload.html")]
pub struct WorkloadPage<'a> {
    pub page: PageMeta,
    pub w: &'a WorkloadView,
}

pub struct RunView {
    pub report: String,
    pub sides: String,
    pub time: String,
    pub label: String,
    pub commit: String,
    pub tool_version: String,
    pub axis: String,
    pub baseline: String,
    pub accepted: u64,
    pub rejected: u64,
    pub mismatches: Vec<String>,
    pub stats: Vec<StatRow>,
    pub comparisons: Vec<CompRow>,
    /// Where the tables stop at the site's limits; empty when whole.
    pub stats_note: String,
    pub comparisons_note: String,
}

#[derive(Template)]
#[template(path = "run.html")]
pub struct RunPage<'a> {
    pub page: PageMeta,
    pub e: &'a RunView,
}

// ---------------------------------------------------------------------------
// View models

pub fn workload_label(workload: &str, variant: &str) -> String {
    if variant.is_empty() {
        workload.to_string()
    } else {
        format!("{workload} ({variant})")
    }
}

/// A history point as `mean ± half-width`, like every other cell.
pub fn point_text(p: &HistoryPoint) -> String {
    mean_ci(&MetricStats {
        n: p.n,
        mean: p.mean,
        ci_low: p.ci_low,
        ci_high: p.ci_high,
        ..Default::default()
    })
}

fn stat_row(g: &GroupStats, baseline: Option<&str>) -> StatRow {
    let latency = |m: Metric| latency_cell(g.metric(m));
    let s = &g.success_rate;
    StatRow {
        workload: workload_label(&g.workload, &g.variant),
        side: g.side.clone(),
        n: g.n,
        throughput: mean_ci(&g.throughput),
        throughput_sort: g.throughput.mean.map(|m| m.to_string()).unwrap_or_default(),
        p95: latency(Metric::LatencyP95),
        p99: latency(Metric::LatencyP99),
        success: interval3(s.value, s.ci_low, s.ci_high),
        baseline: baseline == Some(g.side.as_str()),
    }
}

/// The CSS class of a verdict; a history entry's stored name that is no
/// verdict gets `na`.
fn verdict_class(verdict: Option<Verdict>) -> &'static str {
    match verdict {
        Some(Verdict::Better) => "better",
        Some(Verdict::Worse) => "worse",
        Some(Verdict::Same) => "same",
        Some(Verdict::Unstable) => "unstable",
        Some(Verdict::NoVerdict) | None => "na",
    }
}

fn comp_row(m: &MetricComparison) -> CompRow {
    let change = m.change_pct();
    CompRow {
        workload: workload_label(&m.workload, &m.variant),
        metric: m.metric.name().to_string(),
        baseline: m.baseline.clone(),
        candidate: m.candidate.clone(),
        n: format!("{}/{}", m.n_baseline, m.n_candidate),
        ratio: interval3(m.ratio, m.ci_low, m.ci_high),
        change: crate::render::format::change(change),
        change_sort: change.map(|p| p.to_string()).unwrap_or_default(),
        p_adjusted: p_value(m.p_adjusted),
        verdict: crate::render::markdown::verdict_cell(m),
        class: verdict_class(Some(m.verdict)),
    }
}

fn mismatch_view(m: &Mismatch) -> MismatchView {
    let mut sides: Vec<String> = m.fields.iter().flat_map(|f| f.values.keys().cloned()).collect();
    sides.sort();
    sides.dedup();
    let fields = m
        .fields
        .iter()
        .map(|f| FieldRow {
            name: f.field,
            values: sides
                .iter()
                .map(|s| f.values.get(s).cloned().unwrap_or_else(|| "—".into()))
                .collect(),
        })
        .collect();
    let files = m
        .fields
        .first()
        .map(|f| {
            f.files
                .iter()
                .map(|(side, files)| format!("{side}: {}", files.join(", ")))
                .collect()
        })
        .unwrap_or_default();
    MismatchView {
        title: workload_label(&m.workload, &m.variant),
        sides,
        fields,
        files,
        explanation: m.explanation.clone(),
    }
}

/// Up to ten values, then how many there are in all.
fn listing(mut values: Vec<&str>) -> String {
    values.sort_unstable();
    values.dedup();
    if values.is_empty() {
        return "—".into();
    }
    let shown = values.iter().take(10).copied().collect::<Vec<_>>().join(", ");
    if values.len() > 10 {
        format!("{shown} … ({} in all; see comparison.csv)", values.len())
    } else {
        shown
    }
}

/// Rejected-record errors listed on a report page.
const REJECTED_SHOWN: usize = 50;

/// The report page's view of one comparison. `files` are the bundle's files
/// (relative to the report folder), for the charts and download links.
pub fn report_view(
    name: &str,
    ctx: &ReportContext<'_>,
    tables: &[PaperTable],
    entry: &HistoryEntry,
    files: &[String],
    limits: &super::SiteLimits,
    figures: &crate::render::ReportFigures,
) -> ReportView {
    let c = ctx.comparison;
    let t = &ctx.ingest.totals;
    let conf = conf_pct(c.confidence);
    let errors: Vec<String> = ctx
        .ingest
        .problems
        .iter()
        .filter(|p| p.severity == crate::model::Severity::Error)
        .map(|p| p.to_string())
        .collect();
    let has = |f: &str| files.iter().any(|x| x == f);
    let digest = VerdictDigest::of(c);
    let mut charts = Vec::new();
    let figures_total = figures.bars.len();
    for f in &figures.bars {
        if !has(&format!("{}.png", f.stem)) {
            continue;
        }
        let alt = if f.stem.starts_with(crate::render::charts::THROUGHPUT_STEM) {
            format!("Bar chart: mean throughput (items/s) per workload for each side, with {conf} confidence-interval whiskers and n per bar; the same numbers are in the Results table.")
        } else {
            format!("Bar chart: mean p95 and p99 latency (ms) per workload for each side, with {conf} confidence-interval whiskers and n per bar; the same numbers are in the Results table.")
        };
        let groups = f.chart.groups.len();
        let caption = format!(
            "{} ({groups} group{}).",
            f.chart.title,
            if groups == 1 { "" } else { "s" }
        );
        charts.push(ChartView {
            png: format!("{}.png", f.stem),
            svg: format!("{}.svg", f.stem),
            alt,
            caption,
        });
    }
    let charts_note = if !charts.is_empty() && charts.len() < figures_total {
        format!(
            "The site draws {} of the {figures_total} bar-chart figures (half throughput, half latency, the first of each in report order); sagereport compare draws them all, and its summary.md says which groups each one shows.",
            charts.len()
        )
    } else {
        String::new()
    };
    let mut forest = Vec::new();
    let forest_total = figures.forest.len();
    for p in figures.forest.iter().map(|f| &f.chart) {
        let (png, svg) = (format!("{}.png", p.stem), format!("{}.svg", p.stem));
        if !has(&png) || !has(&svg) {
            continue;
        }
        let (width, height) = crate::render::forest::page_size(p);
        forest.push(ForestView {
            alt: format!(
                "Forest plot: for each comparison ({}), the ratio candidate / baseline on a log axis with its {} interval, coloured and shaped by verdict; the same numbers are in the Comparisons table.",
                p.subtitle, p.level
            ),
            caption: format!("{}: {}.", p.title, p.subtitle),
            png,
            svg,
            width,
            height,
        });
    }
    let forest_note = if !forest.is_empty() && forest.len() < forest_total {
        let shown: usize = forest.len();
        format!(
            "The site draws the first {shown} of the forest plot's {forest_total} pages; {} has every page, and sagereport compare draws them all as PNG and SVG.",
            if has("report.pdf") { "report.pdf (Downloads)" } else { "the PDF report (sagereport pdf)" }
        )
    } else {
        String::new()
    };
    // Tables cut at the limit, with where the rest is.
    let cut_note = |shown: usize, total: usize, what: &str, order: &str| {
        if shown < total {
            format!(
                "The table stops here: {shown} of {total} {what} shown ({order}); summary.md and summary.json (Downloads) list all of them, comparison.csv has every record."
            )
        } else {
            String::new()
        }
    };
    let t_rows = limits.table_rows;
    let changes_note = cut_note(
        digest.changes.len().min(t_rows),
        digest.changes.len(),
        "significant changes",
        "worse first, then better, largest effect first",
    );
    let rest_note = cut_note(
        digest.rest.len().min(t_rows),
        digest.rest.len(),
        "comparisons",
        "in report order",
    );
    let stats_note = cut_note(c.groups.len().min(t_rows), c.groups.len(), "groups", "in report order");
    let mismatches_note = if c.mismatches.len() > limits.mismatches {
        format!(
            "The first {} of {} mismatches are listed; summary.md and summary.json (Downloads) list every one with its fields and files.",
            limits.mismatches,
            c.mismatches.len()
        )
    } else {
        String::new()
    };
    let shown: Vec<&PaperTable> = tables.iter().filter(|t| t.has_data()).collect();
    let mut downloads: Vec<Link> = [
        ("summary.md", "summary.md — the report in Markdown"),
        ("comparison.csv", "comparison.csv — every accepted record, normalized"),
        ("summary.json", "summary.json — machine-readable (schema v3)"),
        ("report.pdf", "report.pdf — the whole report as a PDF"),
        ("tables/tables.tex", "tables/tables.tex — Tables 1–6, standalone LaTeX"),
        ("tables/tables.md", "tables/tables.md — Tables 1–6 in Markdown"),
    ]
    .into_iter()
    .filter(|(f, _)| has(f))
    .map(|(f, text)| Link {
        href: f.to_string(),
        text: text.to_string(),
    })
    .collect();
    for t in &shown {
        let f = format!("tables/{}.tex", t.stem);
        if has(&f) {
            downloads.push(Link {
                text: format!("{f} — Table {}, \\input-able", t.number),
                href: f,
            });
        }
    }
    ReportView {
        name: name.to_string(),
        sides: if c.sides.is_empty() { "no data".into() } else { c.sides_baseline_first().join(" vs ") },
        axis: c.axis.name().to_string(),
        baseline: c.baseline.clone().unwrap_or_else(|| "—".into()),
        confidence: conf.clone(),
        label: entry.label.clone(),
        commit: entry.short_commit().to_string(),
        read: t.read,
        accepted: t.accepted,
        rejected: t.rejected,
        twins_merged: t.twins_merged,
        duplicates: t.duplicates,
        mismatches: c.mismatches.iter().take(limits.mismatches).map(mismatch_view).collect(),
        mismatch_count: c.mismatches.len(),
        hash_note: if c.hash_notes.is_empty() {
            String::new()
        } else {
            format!(
                "Not a mismatch: in {} group(s), upstream's config_hash differs across sides only because upstream hashes the backend name into it; the backend-neutral workload-shape hash matches.",
                c.hash_notes.len()
            )
        },
        stats: c.groups.iter().take(t_rows).map(|g| stat_row(g, c.baseline.as_deref())).collect(),
        comparison_count: c.comparisons.len(),
        verdict_line: digest.counts_line(),
        changes: digest.changes.iter().take(t_rows).map(|m| comp_row(m)).collect(),
        rest: digest.rest.iter().take(t_rows).map(|m| comp_row(m)).collect(),
        rest_title: digest.rest_title(),
        changes_note,
        rest_note,
        stats_note,
        mismatches_note,
        forest_note,
        charts_note,
        comparisons_method: crate::render::verdicts::verdict_rule(c),
        charts,
        forest,
        tables: shown.iter().map(|t| html_table(t)).collect(),
        tables_note: "No record of these inputs carries the experiment dimensions of Tables 1–6 (exp1–exp4 results or unified records with nodes, scheduler, concurrency or job dimensions).".into(),
        rejected_total: errors.len(),
        rejected_lines: errors.into_iter().take(REJECTED_SHOWN).collect(),
        command: ctx.command.clone(),
        inputs: ctx.ingest.inputs.clone(),
        run_ids: listing(c.groups.iter().flat_map(|g| g.run_ids.iter().map(|s| s.as_str())).collect()),
        shape_hashes: listing(c.groups.iter().flat_map(|g| g.shape_hashes.iter().map(|s| s.as_str())).collect()),
        config_hashes: listing(c.groups.iter().flat_map(|g| g.config_hashes.iter().map(|s| s.as_str())).collect()),
        downloads,
    }
}

/// An index row's largest significant change: `workload metric: ratio [CI]
/// (verdict)` with the verdict's CSS class, or `no significant change`.
pub fn largest_change_text(e: &HistoryEntry) -> (String, &'static str) {
    let items = e
        .comparisons
        .iter()
        .map(|m| (Verdict::from_name(&m.verdict).unwrap_or(Verdict::NoVerdict), m.ratio, m));
    match largest_change(items) {
        Some(m) => (
            format!(
                "{} {}: {} ({})",
                workload_label(&m.workload, &m.variant),
                m.metric,
                interval3(m.ratio, m.ci_low, m.ci_high),
                m.verdict
            ),
            verdict_class(Verdict::from_name(&m.verdict)),
        ),
        None => ("no significant change".into(), "same"),
    }
}

/// Sides of an entry, baseline first.
pub fn entry_sides(e: &HistoryEntry) -> String {
    let mut sides: Vec<&str> = e.groups.iter().map(|g| g.side.as_str()).collect();
    sides.sort_unstable();
    sides.dedup();
    if let Some(b) = e.baseline.as_deref() {
        if let Some(i) = sides.iter().position(|s| *s == b) {
            let b = sides.remove(i);
            sides.insert(0, b);
        }
    }
    if sides.is_empty() {
        "no data".into()
    } else {
        sides.join(" vs ")
    }
}

pub fn run_view(e: &HistoryEntry, limits: &super::SiteLimits) -> RunView {
    let note = |total: usize, what: &str| {
        if total > limits.table_rows {
            format!(
                "The table stops here: the first {} of {total} {what}; this run's history entry (entries/{}.json of the store, and history.json here) has them all.",
                limits.table_rows,
                e.id()
            )
        } else {
            String::new()
        }
    };
    RunView {
        stats_note: note(e.groups.len(), "groups"),
        comparisons_note: note(e.comparisons.len(), "comparisons"),
        report: e.report.clone(),
        sides: entry_sides(e),
        time: e.time.clone(),
        label: e.label.clone(),
        commit: e.short_commit().to_string(),
        tool_version: e.tool_version.clone(),
        axis: e.axis.clone(),
        baseline: e.baseline.clone().unwrap_or_else(|| "—".into()),
        accepted: e.records_accepted,
        rejected: e.records_rejected,
        mismatches: e
            .mismatches
            .iter()
            .map(|m| format!("{}: {}", workload_label(&m.workload, &m.variant), m.fields.join(", ")))
            .collect(),
        stats: e
            .groups
            .iter()
            .take(limits.table_rows)
            .map(|g| StatRow {
                workload: workload_label(&g.workload, &g.variant),
                side: g.side.clone(),
                n: g.n,
                throughput: point_text(&g.throughput),
                throughput_sort: g.throughput.mean.map(|m| m.to_string()).unwrap_or_default(),
                p95: "—".into(),
                p99: point_text(&g.latency_p99),
                success: "—".into(),
                baseline: e.baseline.as_deref() == Some(g.side.as_str()),
            })
            .collect(),
        comparisons: e
            .comparisons
            .iter()
            .take(limits.table_rows)
            .map(|m| {
                let change = m.ratio.map(|r| (r - 1.0) * 100.0);
                CompRow {
                    workload: workload_label(&m.workload, &m.variant),
                    metric: m.metric.clone(),
                    baseline: m.baseline.clone(),
                    candidate: m.candidate.clone(),
                    n: "—".into(),
                    ratio: interval3(m.ratio, m.ci_low, m.ci_high),
                    change: change.map(|p| format!("{p:+.1}%")).unwrap_or_else(|| "—".into()),
                    change_sort: change.map(|p| p.to_string()).unwrap_or_default(),
                    p_adjusted: p_value(m.p_adjusted),
                    verdict: m.verdict.clone(),
                    class: verdict_class(Verdict::from_name(&m.verdict)),
                }
            })
            .collect(),
    }
}
