//! The static results site (`sagereport site`): a report page per
//! comparison (with its whole bundle beside it), a page per workload with
//! its history and trend charts, a page per past run of the history, and an
//! index of all reports, newest first.
//!
//! Layout of the output folder (every link relative, so the site works from
//! `file://` and under a GitHub Pages sub-path):
//!
//! ```text
//! index.html                     reports newest first, workloads
//! assets/style.css, sort.js      from site/, embedded in the binary
//! reports/<report>/index.html    + summary.md, comparison.csv, summary.json,
//!                                  charts, report.pdf, tables/*.tex
//! workloads/<workload>/index.html + trend charts (PNG + SVG)
//! runs/<entry>.html              a past run kept in the history
//! history.json                   every history entry shown, oldest first
//! ```

pub mod pages;

use crate::analysis::compare::Verdict;
use crate::analysis::history::{
    slug, trends, ChangeOptions, HistoryEntry, Step, Trend, TrendMetric, MIN_POINTS, PERMUTATIONS, RUNS_FOR_A_STEP,
    SIGNIFICANCE,
};
use crate::analysis::tables::PaperTable;
use crate::render::chart::lines::{LineChart, LinePoint, LineSeries};
use crate::render::format::{conf_pct, num};
use crate::render::tables::latex::{standalone_tex, table_tex};
use crate::render::tables::markdown::tables_markdown;
use crate::render::tables::TablesContext;
use crate::render::{bundle_renderers, render_into, ReportContext};
use anyhow::Context;
use askama::Template;
use pages::*;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const STYLE_CSS: &str = include_str!("../../../site/style.css");
const SORT_JS: &str = include_str!("../../../site/sort.js");

/// How much of a large report the site draws and lists (README, "Limits"):
/// the report page's tables, mismatches and charts stop at these counts,
/// say so, and point to the bundle (summary.md, summary.json,
/// comparison.csv) and report.pdf, which has the whole forest plot. Set so
/// that a 1,000-run report (about 1,000 comparisons, 120 bar figures) is
/// shown whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SiteLimits {
    /// Rows of each table of the report page (significant changes, other
    /// comparisons, per-group statistics).
    pub table_rows: usize,
    /// Configuration mismatches listed.
    pub mismatches: usize,
    /// Forest pages and bar figures drawn (PNG + SVG).
    pub charts: crate::render::ChartLimits,
    /// Workload pages (`workloads/<name>/`).
    pub workload_pages: usize,
}

impl SiteLimits {
    pub const DEFAULT: SiteLimits = SiteLimits {
        table_rows: 2000,
        mismatches: 200,
        charts: crate::render::ChartLimits {
            forest_pages: 20,
            bar_figures: 120,
        },
        workload_pages: 500,
    };
}

/// The compare bundle as the site writes it: every file, but only the
/// first charts within `limits` (the first forest pages; the first
/// bar-chart figures, half throughput, half latency), drawn from `figures`.
fn site_bundle(
    limits: &SiteLimits,
    figures: &std::sync::Arc<crate::render::ReportFigures>,
) -> Vec<Box<dyn crate::render::Renderer>> {
    use crate::render::{charts, forest, markdown, DrawFigures, Renderer};
    let (forest_name, charts_name) = (forest::RatioForest.name(), charts::ComparisonCharts.name());
    let summary_name = markdown::SummaryMarkdown.name();
    bundle_renderers()
        .into_iter()
        .map(|r| -> Box<dyn Renderer> {
            match r.name() {
                n if n == summary_name => Box::new(markdown::SummaryMarkdownOf(figures.clone(), limits.charts)),
                n if n == forest_name => Box::new(DrawFigures {
                    name: forest_name,
                    figures: limits.charts.forest(&figures.forest),
                }),
                n if n == charts_name => Box::new(DrawFigures {
                    name: charts_name,
                    figures: limits.charts.bars(&figures.bars),
                }),
                _ => r,
            }
        })
        .collect()
}

/// One comparison shown on the site.
pub struct SiteReport<'a> {
    pub name: String,
    pub ctx: ReportContext<'a>,
    pub tables: Vec<PaperTable>,
    /// This run's compact summary, as the history keeps it.
    pub entry: HistoryEntry,
}

/// Everything the site shows.
pub struct Site<'a> {
    pub title: String,
    /// When this run is recorded (RFC 3339), shown in the footer.
    pub time: String,
    pub reports: Vec<SiteReport<'a>>,
    /// The history to draw trends from, oldest first, including this run's
    /// entries (one per report).
    pub history: Vec<HistoryEntry>,
    /// History files that could not be read.
    pub history_problems: Vec<String>,
    /// Also write each report's PDF.
    pub pdf: bool,
    pub confidence: f64,
    /// Smallest step reported as a change point (fraction; `--min-change`).
    pub min_change: f64,
    /// Print how long each part took on stderr (`-v`).
    pub verbose: bool,
}

/// Names → unique slugs (a second `Q1` or `q1` becomes `q1-2`).
fn unique_slugs<'n>(names: impl IntoIterator<Item = &'n str>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut used = BTreeSet::new();
    for name in names {
        if out.contains_key(name) {
            continue;
        }
        let base = slug(name);
        let mut candidate = base.clone();
        let mut i = 2;
        while !used.insert(candidate.clone()) {
            candidate = format!("{base}-{i}");
            i += 1;
        }
        out.insert(name.to_string(), candidate);
    }
    out
}

fn render_page(t: &impl Template, path: &Path) -> anyhow::Result<()> {
    let html = t
        .render()
        .with_context(|| format!("{}: rendering the page failed", path.display()))?;
    std::fs::write(path, html).with_context(|| format!("{}: cannot write", path.display()))
}

fn meta(root: &'static str, title: String, site: &Site<'_>) -> PageMeta {
    PageMeta {
        root,
        title,
        site_title: site.title.clone(),
        version: env!("CARGO_PKG_VERSION"),
        time: site.time.clone(),
    }
}

/// Write the site into the (new, empty) folder `dir`; the caller replaces
/// the output with it atomically. Returns the files written, relative to
/// `dir`, sorted.
pub fn write_site(site: &Site<'_>, dir: &Path) -> anyhow::Result<Vec<String>> {
    {
        let mut files = Vec::new();
        std::fs::create_dir_all(dir.join("assets"))?;
        std::fs::write(dir.join("assets/style.css"), STYLE_CSS)?;
        std::fs::write(dir.join("assets/sort.js"), SORT_JS)?;
        files.extend(["assets/style.css".to_string(), "assets/sort.js".to_string()]);

        let report_slugs = unique_slugs(site.reports.iter().map(|r| r.name.as_str()));
        // The reports' folders, and beside them every other page (they read
        // the history, not the reports' files).
        let (reports, others) = rayon::join(
            || -> anyhow::Result<Vec<String>> {
                let mut files = Vec::new();
                for r in &site.reports {
                    let slug = &report_slugs[&r.name];
                    let rel = format!("reports/{slug}");
                    let written = write_report(site, r, &dir.join(&rel))?;
                    files.extend(written.into_iter().map(|f| format!("{rel}/{f}")));
                }
                Ok(files)
            },
            || other_pages(site, dir, &report_slugs),
        );
        files.extend(reports?);
        files.extend(others?);
        files.sort();
        Ok(files)
    }
}

/// Every page but the reports' folders: past runs, workloads, the index
/// and history.json.
fn other_pages(site: &Site<'_>, dir: &Path, report_slugs: &BTreeMap<String, String>) -> anyhow::Result<Vec<String>> {
    {
        let mut files = Vec::new();
        // Which history entries are this build's reports (they get full pages).
        let current: BTreeMap<usize, &str> = site
            .history
            .iter()
            .enumerate()
            .filter_map(|(i, e)| {
                site.reports
                    .iter()
                    .find(|r| &r.entry == e)
                    .map(|r| (i, report_slugs[&r.name].as_str()))
            })
            .collect();
        let entry_href = |i: usize, root: &str| match current.get(&i) {
            Some(slug) => format!("{root}reports/{slug}/index.html"),
            None => format!("{root}runs/{}.html", site.history[i].id()),
        };

        // Past runs.
        let past: Vec<usize> = (0..site.history.len()).filter(|i| !current.contains_key(i)).collect();
        if !past.is_empty() {
            std::fs::create_dir_all(dir.join("runs"))?;
        }
        for &i in &past {
            let e = &site.history[i];
            let view = run_view(e, &SiteLimits::DEFAULT);
            let rel = format!("runs/{}.html", e.id());
            render_page(
                &RunPage {
                    page: meta("../", format!("{} at {}", e.report, e.time), site),
                    e: &view,
                },
                &dir.join(&rel),
            )?;
            files.push(rel);
        }

        // Workloads and their trends.
        let start = std::time::Instant::now();
        let all_trends = trends(
            &site.history,
            &ChangeOptions {
                min_change: site.min_change,
                confidence: site.confidence,
            },
        );
        // Each workload's trends, in the order `trends` gives them.
        let mut by_workload: BTreeMap<&str, Vec<&Trend>> = BTreeMap::new();
        for t in &all_trends {
            by_workload.entry(t.workload.as_str()).or_default().push(t);
        }
        let workload_slugs = unique_slugs(by_workload.keys().copied());
        // Runs, not entries: one run may hold several reports with this workload.
        let runs_of = |mine: &[&Trend]| {
            mine.iter()
                .flat_map(|t| t.points.iter().map(|p| &site.history[p.entry]))
                .map(|e| (e.time.as_str(), e.label.as_str(), e.commit.as_str()))
                .collect::<BTreeSet<_>>()
                .len()
        };
        let changes_of = |mine: &[&Trend]| mine.iter().map(|t| t.changes()).sum::<usize>();
        // Beyond the limit, pages for the workloads with the most change
        // points, then the most runs, then by name; listed by name.
        let limits = SiteLimits::DEFAULT;
        let workload_total = by_workload.len();
        if workload_total > limits.workload_pages {
            let mut ranked: Vec<(usize, usize, &str)> = by_workload
                .iter()
                .map(|(name, mine)| (changes_of(mine), runs_of(mine), *name))
                .collect();
            ranked.sort_by(|a, b| (b.0, b.1, a.2).cmp(&(a.0, a.1, b.2)));
            let keep: BTreeSet<&str> = ranked.into_iter().take(limits.workload_pages).map(|r| r.2).collect();
            by_workload.retain(|name, _| keep.contains(name));
        }
        let mut workload_links = Vec::new();
        for (name, mine) in &by_workload {
            let wslug = &workload_slugs[*name];
            let rel_dir = format!("workloads/{wslug}");
            std::fs::create_dir_all(dir.join(&rel_dir))?;
            let (view, charts) = workload_view(site, name, mine, &|i| entry_href(i, "../../"));
            let drawn = crate::render::chart::figure_files(&charts)?;
            crate::util::output::write_files(&dir.join(&rel_dir), &drawn)?;
            files.extend(drawn.into_iter().map(|(file, _)| format!("{rel_dir}/{file}")));
            render_page(
                &WorkloadPage {
                    page: meta("../../", format!("Workload {name}"), site),
                    w: &view,
                },
                &dir.join(&rel_dir).join("index.html"),
            )?;
            files.push(format!("{rel_dir}/index.html"));
            workload_links.push(WorkloadLink {
                href: format!("{rel_dir}/index.html"),
                name: name.to_string(),
                runs: runs_of(mine),
                changes: changes_of(mine),
            });
        }
        if site.verbose {
            eprintln!(
                "workloads: {} page(s) of {workload_total} in {:.2} s",
                workload_links.len(),
                start.elapsed().as_secs_f64()
            );
        }
        let workloads_note = if workload_links.len() < workload_total {
            format!(
                "{} of the {workload_total} workloads have a page here: those with the most change points, then the most runs, then by name. Every workload's numbers are in each report's summary.md and summary.json, and its history in history.json.",
                workload_links.len()
            )
        } else {
            String::new()
        };

        // Index: every entry newest first (this build's reports link to their full page).
        let mut rows: Vec<ReportRow> = site
            .history
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let (largest, largest_class) = largest_change_text(e);
                ReportRow {
                    href: entry_href(i, ""),
                    name: e.report.clone(),
                    time: e.time.clone(),
                    label: e.label.clone(),
                    commit: e.short_commit().to_string(),
                    sides: entry_sides(e),
                    groups: e.groups.len(),
                    mismatches: e.mismatches.len(),
                    worse: e
                        .comparisons
                        .iter()
                        .filter(|c| Verdict::from_name(&c.verdict) == Some(Verdict::Worse))
                        .count(),
                    better: e
                        .comparisons
                        .iter()
                        .filter(|c| Verdict::from_name(&c.verdict) == Some(Verdict::Better))
                        .count(),
                    largest,
                    largest_class,
                    current: current.contains_key(&i),
                }
            })
            .collect();
        rows.reverse();
        let index = IndexPage {
            page: meta("", "Reports".into(), site),
            confidence: conf_pct(site.confidence),
            history_runs: site
                .history
                .iter()
                .map(|e| (&e.time, &e.label, &e.commit))
                .collect::<BTreeSet<_>>()
                .len(),
            reports: rows,
            workloads: workload_links,
            workload_count: workload_total,
            workloads_note,
            problems: site.history_problems.clone(),
        };
        render_page(&index, &dir.join("index.html"))?;
        files.push("index.html".into());

        let start = std::time::Instant::now();
        let mut history = serde_json::to_string_pretty(&site.history)?;
        history.push('\n');
        std::fs::write(dir.join("history.json"), history)?;
        files.push("history.json".into());
        if site.verbose {
            eprintln!("history.json: {:.2} s", start.elapsed().as_secs_f64());
        }
        Ok(files)
    }
}

/// One report folder: the compare bundle, Tables 1–6, the PDF and the page.
fn write_report(site: &Site<'_>, r: &SiteReport<'_>, dir: &Path) -> anyhow::Result<Vec<String>> {
    std::fs::create_dir_all(dir)?;
    let limits = SiteLimits::DEFAULT;
    // The PDF (mostly one thread in typst) is made while the bundle's
    // renderers fill the other cores.
    let start = std::time::Instant::now();
    let figures = std::sync::Arc::new(crate::render::ReportFigures::of(&r.ctx));
    let (bundle, pdf) = rayon::join(
        || render_into(&r.ctx, &site_bundle(&limits, &figures), dir).map(|w| (w, start.elapsed())),
        || {
            site.pdf
                .then(|| {
                    let start = std::time::Instant::now();
                    crate::render::pdf::report::report_within(
                        &r.ctx,
                        &r.tables,
                        site.confidence,
                        &crate::render::pdf::report::PdfLimits::DEFAULT,
                        &figures,
                    )
                    .map(|pdf| (pdf, start.elapsed()))
                })
                .transpose()
        },
    );
    let (bundle, bundle_took) = bundle?;
    let pdf = pdf?;
    if site.verbose {
        eprintln!(
            "report {:?}: bundle {:.2} s{}",
            r.name,
            bundle_took.as_secs_f64(),
            pdf.as_ref()
                .map(|(_, took)| format!(", PDF {:.2} s beside it", took.as_secs_f64()))
                .unwrap_or_default()
        );
    }
    let mut files: Vec<String> = bundle.files.iter().map(|f| f.display().to_string()).collect();
    if r.tables.iter().any(|t| t.has_data()) {
        let tdir = dir.join("tables");
        std::fs::create_dir_all(&tdir)?;
        let tctx = TablesContext {
            tables: &r.tables,
            inputs: &r.ctx.ingest.inputs,
            version: r.ctx.version,
            command: r.ctx.command.clone(),
            ci: true,
            confidence: site.confidence,
        };
        for t in tctx.models() {
            std::fs::write(tdir.join(format!("{}.tex", t.stem)), table_tex(&t, &tctx))?;
            files.push(format!("tables/{}.tex", t.stem));
        }
        std::fs::write(tdir.join("tables.tex"), standalone_tex(&tctx))?;
        std::fs::write(tdir.join("tables.md"), tables_markdown(&tctx))?;
        files.extend(["tables/tables.tex".to_string(), "tables/tables.md".to_string()]);
    }
    if let Some((pdf, _)) = pdf {
        std::fs::write(dir.join("report.pdf"), pdf)?;
        files.push("report.pdf".into());
    }
    let start = std::time::Instant::now();
    let view = report_view(&r.name, &r.ctx, &r.tables, &r.entry, &files, &limits, &figures);
    render_page(
        &ReportPage {
            page: meta("../../", r.name.clone(), site),
            r: &view,
        },
        &dir.join("index.html"),
    )?;
    files.push("index.html".into());
    if site.verbose {
        eprintln!("report {:?}: page {:.2} s", r.name, start.elapsed().as_secs_f64());
    }
    Ok(files)
}

/// A workload's page: one section per (report, variant), with a table of
/// runs × (metric, side) and a trend chart per metric once there are two
/// runs. Returns the view and the charts to draw (file stem, chart).
fn workload_view(
    site: &Site<'_>,
    name: &str,
    trends: &[&Trend],
    href: &dyn Fn(usize) -> String,
) -> (WorkloadView, Vec<crate::render::chart::Figure<LineChart>>) {
    let conf = conf_pct(site.confidence);
    let mut by_section: BTreeMap<(&str, &str), Vec<&Trend>> = BTreeMap::new();
    for t in trends {
        by_section
            .entry((t.report.as_str(), t.variant.as_str()))
            .or_default()
            .push(t);
    }
    let multiple_reports = by_section.keys().map(|(r, _)| *r).collect::<BTreeSet<_>>().len() > 1;
    let mut sections = Vec::new();
    let mut charts = Vec::new();
    let mut stems = BTreeSet::new();
    for ((report, variant), ts) in by_section {
        let mut title = workload_label(name, variant);
        if multiple_reports {
            title = format!("{title} — {report}");
        }
        let runs: Vec<usize> = ts
            .iter()
            .flat_map(|t| t.points.iter().map(|p| p.entry))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let position = |entry: usize| runs.iter().position(|&e| e == entry).unwrap_or(0);
        // Columns: metric-major, sides by name (baseline first where known).
        let baseline = runs.last().and_then(|&e| site.history[e].baseline.as_deref());
        let mut columns: Vec<&Trend> = ts.clone();
        columns.sort_by(|a, b| {
            (a.metric, Some(a.side.as_str()) != baseline, &a.side).cmp(&(
                b.metric,
                Some(b.side.as_str()) != baseline,
                &b.side,
            ))
        });
        let rows = runs
            .iter()
            .enumerate()
            .map(|(k, &entry)| {
                let e = &site.history[entry];
                TrendRow {
                    index: k + 1,
                    href: href(entry),
                    time: e.time.clone(),
                    label: e.label.clone(),
                    commit: e.short_commit().to_string(),
                    cells: columns
                        .iter()
                        .map(|t| match t.points.iter().find(|p| p.entry == entry) {
                            Some(p) => TrendCell {
                                text: format!("{} ({})", point_text(&p.value), p.value.n),
                                change: p.change,
                                step: p.step.as_ref().map(step_text).unwrap_or_default(),
                                step_detail: p.step.as_ref().map(step_detail).unwrap_or_default(),
                            },
                            None => TrendCell {
                                text: "—".into(),
                                change: false,
                                step: String::new(),
                                step_detail: String::new(),
                            },
                        })
                        .collect(),
                }
            })
            .collect();
        let mut section = TrendSection {
            title: title.clone(),
            note: String::new(),
            change_note: if runs.len() < RUNS_FOR_A_STEP {
                format!(
                    "{} run(s) so far: no change point can be claimed yet (the search starts at {MIN_POINTS} runs, and a step needs {RUNS_FOR_A_STEP} runs, 4 on each side or 5 before and 3 after, to be significant).",
                    runs.len()
                )
            } else {
                String::new()
            },
            charts: Vec::new(),
            columns: columns
                .iter()
                .map(|t| {
                    format!(
                        "{} {}",
                        t.side,
                        if t.metric == TrendMetric::Throughput {
                            "throughput"
                        } else {
                            "p99 (ms)"
                        }
                    )
                })
                .collect(),
            rows,
        };
        if runs.len() < 2 {
            section.note = "One run so far: trend charts appear from the second run on (build the site with --history DIR in CI to keep runs).".into();
        } else {
            let base = {
                let mut b = slug(report);
                if !variant.is_empty() {
                    b = format!("{b}-{}", slug(variant));
                }
                let mut candidate = b.clone();
                let mut i = 2;
                while !stems.insert(candidate.clone()) {
                    candidate = format!("{b}-{i}");
                    i += 1;
                }
                candidate
            };
            for metric in TrendMetric::ALL {
                let series: Vec<LineSeries> = columns
                    .iter()
                    .filter(|t| t.metric == metric)
                    .map(|t| LineSeries {
                        name: t.side.clone(),
                        points: t
                            .points
                            .iter()
                            .filter_map(|p| {
                                Some(LinePoint {
                                    x: (position(p.entry) + 1) as f64,
                                    y: p.value.mean?,
                                    ci: p.value.ci_low.zip(p.value.ci_high),
                                    n: p.value.n,
                                })
                            })
                            .collect(),
                    })
                    .collect();
                if series.is_empty() {
                    continue;
                }
                let changes: Vec<String> = columns
                    .iter()
                    .filter(|t| t.metric == metric)
                    .flat_map(|t| {
                        t.points
                            .iter()
                            .filter(|p| p.change)
                            .map(move |p| match p.step.and_then(|s| s.size) {
                                Some(size) => format!("run {} ({} {})", position(p.entry) + 1, t.side, pct(size)),
                                None => format!("run {} ({})", position(p.entry) + 1, t.side),
                            })
                    })
                    .collect();
                let mut note = format!("x: run number, oldest first (see the table) · whiskers: {conf} CI");
                if !changes.is_empty() {
                    note.push_str(&format!(" · change points: {}", changes.join(", ")));
                }
                let metric_stem = if metric == TrendMetric::Throughput {
                    "throughput"
                } else {
                    "p99"
                };
                let file = format!("{base}-{metric_stem}");
                let chart = LineChart {
                    title: format!("{title}: {}", metric.title()),
                    x_label: "run".into(),
                    y_label: metric.title().into(),
                    log2_x: false,
                    series,
                    note: Some(note),
                };
                section.charts.push(ChartView {
                    png: format!("{file}.png"),
                    svg: format!("{file}.svg"),
                    alt: format!(
                        "Line chart of {} for {} over {} runs, one line per side, with {conf} confidence-interval whiskers{}; the numbers are in the table below.",
                        metric.title(),
                        title,
                        runs.len(),
                        if changes.is_empty() { String::new() } else { format!("; change points at {}", changes.join(", ")) }
                    ),
                    caption: format!("{} over runs.", metric.title()),
                });
                let caption = format!("{} over runs.", metric.title());
                charts.push(crate::render::chart::Figure {
                    stem: file,
                    caption,
                    chart,
                });
            }
        }
        sections.push(section);
    }
    (
        WorkloadView {
            name: name.to_string(),
            confidence: conf,
            min_change: conf_pct(site.min_change),
            permutations: PERMUTATIONS,
            significance: SIGNIFICANCE,
            sections,
        },
        charts,
    )
}

/// A relative change as a signed percentage: `+30.2%`.
fn pct(x: f64) -> String {
    format!("{:+.1}%", x * 100.0)
}

/// A step's size and interval for the workload table: `+30.2% [+26.9%, +33.5%]`.
fn step_text(s: &Step) -> String {
    match (s.size, s.ci) {
        (Some(size), Some((lo, hi))) => format!("{} [{}, {}]", pct(size), pct(lo), pct(hi)),
        (Some(size), None) => format!("{} (no interval)", pct(size)),
        (None, _) => format!("from a mean of 0 to {}", num(s.mean_after)),
    }
}

/// What a step was measured on, for the step's tooltip.
fn step_detail(s: &Step) -> String {
    format!(
        "mean {} over the {} run(s) before → {} over the {} run(s) from here; permutation p = {:.3}",
        num(s.mean_before),
        s.before,
        num(s.mean_after),
        s.after,
        s.p_value
    )
}

/// Every relative `href`/`src` of the HTML files under `dir` that does not
/// resolve to a file inside `dir`, as `page: link`. External links
/// (`scheme:`), fragments and `mailto:` are not followed. Used by the tests
/// and by `site --check-links`.
pub fn broken_links(dir: &Path) -> anyhow::Result<Vec<String>> {
    let mut broken = Vec::new();
    let root = dir.canonicalize()?;
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry?;
        if entry.path().extension().is_none_or(|e| e != "html") {
            continue;
        }
        let html = std::fs::read_to_string(entry.path())?;
        let page_dir = entry.path().parent().unwrap_or(dir);
        for link in links_of(&html) {
            if link.is_empty() || link.starts_with('#') || link.contains(':') || link.starts_with("//") {
                if link.contains("://") || link.starts_with("//") {
                    broken.push(format!(
                        "{}: {link} (external link: the site must not make external requests)",
                        entry.path().display()
                    ));
                }
                continue;
            }
            let path_part = link.split(['#', '?']).next().unwrap_or("");
            let target: PathBuf = page_dir.join(unescape(path_part));
            match target.canonicalize() {
                Ok(t) if t.starts_with(&root) && t.is_file() => {}
                _ => broken.push(format!("{}: {link}", entry.path().display())),
            }
        }
    }
    Ok(broken)
}

/// The values of `href="…"`, `src="…"` and `data="…"` (`<object>`) attributes.
fn links_of(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attr in ["href=\"", "src=\"", "data=\""] {
        let mut rest = html;
        while let Some(i) = rest.find(attr) {
            let after = &rest[i + attr.len()..];
            let end = after.find('"').unwrap_or(after.len());
            // Only real attributes: preceded by whitespace.
            if rest[..i].ends_with([' ', '\n', '\t']) {
                out.push(after[..end].to_string());
            }
            rest = &after[end..];
        }
    }
    out
}

/// Undo HTML attribute escaping (askama writes numeric references).
fn unescape(s: &str) -> String {
    let mut out = s.to_string();
    for (entity, c) in [
        ("&#34;", "\""),
        ("&quot;", "\""),
        ("&#39;", "'"),
        ("&#60;", "<"),
        ("&lt;", "<"),
        ("&#62;", ">"),
        ("&gt;", ">"),
    ] {
        out = out.replace(entity, c);
    }
    out.replace("&#38;", "&").replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_unique_and_stable() {
        let s = unique_slugs(["Q1", "q1", "Q1", "<b>"]);
        assert_eq!(s["Q1"], "q1");
        assert_eq!(s["q1"], "q1-2");
        assert_eq!(s["<b>"], "b");
    }

    #[test]
    fn links_are_found_only_in_attributes() {
        let html = r#"<a href="x.html">x</a> <img src="a/b.png" alt="src=&quot;no&quot;"> data-href="nope""#;
        assert_eq!(links_of(html), ["x.html", "a/b.png"]);
    }

    #[test]
    fn broken_and_external_links_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.html"), r##"<a href="b.html">b</a> <a href="missing.html">m</a> <a href="#top">t</a> <img src="https://cdn.example/x.png">"##).unwrap();
        std::fs::write(dir.path().join("b.html"), r#"<a href="../outside.html">o</a>"#).unwrap();
        let broken = broken_links(dir.path()).unwrap();
        assert_eq!(broken.len(), 3, "{broken:?}");
        assert!(broken.iter().any(|b| b.ends_with("missing.html")));
        assert!(broken.iter().any(|b| b.contains("external")));
        assert!(broken.iter().any(|b| b.ends_with("../outside.html")));
    }
}
