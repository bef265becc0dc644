//! Renderers: one module per output, each behind the [`Renderer`] trait, so
//! adding a format touches one file. Statistics are computed in
//! [`crate::analysis`]; renderers only present them.

pub mod chart;
pub mod charts;
pub mod csv;
pub use crate::util::escape;
pub mod forest;
pub mod format;
pub mod json;
pub mod markdown;
pub mod paper_figures;
pub mod pdf;
pub mod pr_comment;
pub mod site;
pub mod tables;
#[cfg(test)]
pub(crate) mod test_support;
pub mod verdicts;

use crate::analysis::compare::Comparison;
use crate::ingest::IngestReport;
use std::path::{Path, PathBuf};

/// What every renderer sees.
pub struct ReportContext<'a> {
    pub ingest: &'a IngestReport,
    pub comparison: &'a Comparison,
    /// The tool version, for provenance.
    pub version: &'static str,
    /// The command line that produced the report, for provenance.
    pub command: String,
    /// The regression threshold (`compare --threshold`, relative: 0.05 =
    /// 5 %), shaded around 1 in the ratio forest plot.
    pub threshold: f64,
}

/// A report's figures — the ratio forest plot's pages and the grouped-bar
/// figures — made once and shared by the parts that show them (the site's
/// bundle, PDF and page), since a large report's take a while to lay out.
/// Most charts a bundle draws. A report of thousands of workloads would
/// otherwise write thousands of figures (5,000 workloads: 2,587 files,
/// 363 MB; 50,000: 26,000 files, 2.5 GB). Beyond them summary.md says what
/// is not drawn; every comparison stays in its tables, `comparison.csv` and
/// `summary.json`, and `sagereport pdf` draws the whole forest plot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChartLimits {
    /// Pages of the ratio forest plot (64 comparisons each).
    pub forest_pages: usize,
    /// Grouped-bar figures, half throughput, half latency.
    pub bar_figures: usize,
}

impl ChartLimits {
    /// The `compare` bundle's: 4,096 comparisons, 256 bar figures.
    pub const BUNDLE: ChartLimits = ChartLimits {
        forest_pages: 64,
        bar_figures: 256,
    };

    /// The forest pages drawn: the first ones.
    pub fn forest(self, pages: &[chart::Figure<forest::ForestPage>]) -> Vec<chart::Figure<forest::ForestPage>> {
        pages.iter().take(self.forest_pages).cloned().collect()
    }

    /// The bar figures drawn ([`charts::FirstFigures`]).
    pub fn bars(self, figures: &[charts::Figure]) -> Vec<charts::Figure> {
        charts::FirstFigures::of(figures, self.bar_figures).figures
    }
}

pub struct ReportFigures {
    pub forest: Vec<chart::Figure<forest::ForestPage>>,
    pub bars: Vec<charts::Figure>,
}

impl ReportFigures {
    pub fn of(ctx: &ReportContext<'_>) -> ReportFigures {
        let (forest, bars) = rayon::join(
            || forest::forest_figures(ctx.comparison, ctx.threshold),
            || charts::comparison_figures(ctx),
        );
        ReportFigures { forest, bars }
    }
}

/// A renderer that draws figures made beforehand, PNG and SVG each, under
/// the name of the renderer it stands in for.
pub struct DrawFigures<C> {
    pub name: &'static str,
    pub figures: Vec<chart::Figure<C>>,
}

impl<C: chart::Drawing + Send> Renderer for DrawFigures<C> {
    fn name(&self) -> &'static str {
        self.name
    }

    fn render(&self, _ctx: &ReportContext<'_>) -> anyhow::Result<Vec<OutFile>> {
        chart::figure_files(&self.figures)
    }

    fn render_to(&self, _ctx: &ReportContext<'_>, dir: &Path) -> anyhow::Result<Vec<String>> {
        chart::write_figures(&self.figures, dir)
    }
}

/// `--threshold` when a command has none (the `compare` default).
pub const DEFAULT_THRESHOLD: f64 = 0.05;

/// One output file: its path relative to the output folder (`/`-separated)
/// and its bytes.
pub type OutFile = (String, Vec<u8>);

/// One output of the bundle. Renderers of one bundle run in parallel and
/// return bytes; [`render_into`] is the one place their files are written.
pub trait Renderer: Sync + Send {
    /// The name shown with the renderer's timing (`-v`): its first file
    /// for a small report.
    fn name(&self) -> &'static str;
    /// The files for `ctx`, in writing order.
    fn render(&self, ctx: &ReportContext<'_>) -> anyhow::Result<Vec<OutFile>>;

    /// Write the files for `ctx` into `dir` (a folder this command owns,
    /// see [`crate::util::output::write_files`]); their names, in
    /// [`Renderer::render`]'s order. A renderer of many large files (the
    /// charts) writes each as soon as it is made instead of holding them all.
    fn render_to(&self, ctx: &ReportContext<'_>, dir: &Path) -> anyhow::Result<Vec<String>> {
        let files = self.render(ctx)?;
        crate::util::output::write_files(dir, &files)?;
        Ok(files.into_iter().map(|(name, _)| name).collect())
    }
}

/// What a bundle render wrote, and how long each renderer took (for `-v`).
pub struct Written {
    pub files: Vec<PathBuf>,
    pub timings: Vec<(&'static str, std::time::Duration)>,
}

/// The renderers of the `compare` bundle, in writing order.
pub fn bundle_renderers() -> Vec<Box<dyn Renderer>> {
    let mut all = analysis_renderers();
    all.insert(1, Box::new(csv::ComparisonCsv));
    all
}

/// The bundle's renderers that present the analysis (all but `comparison.csv`,
/// which needs only the records).
pub fn analysis_renderers() -> Vec<Box<dyn Renderer>> {
    vec![
        Box::new(markdown::SummaryMarkdown),
        Box::new(json::SummaryJson),
        Box::new(forest::RatioForest),
        Box::new(charts::ComparisonCharts),
    ]
}

/// The `compare` bundle but `comparison.csv` into `dir`: the other
/// renderers and `extra`, in parallel. `comparison.csv` needs only the
/// records, so it streams beside the analysis and these renderers (see
/// [`crate::pipeline::run`]); [`Bundle::written`] puts it in its place.
pub fn render_bundle(ctx: &ReportContext<'_>, extra: Vec<Box<dyn Renderer>>, dir: &Path) -> anyhow::Result<Bundle> {
    let mut rest = analysis_renderers();
    let analysis = rest.len();
    rest.extend(extra);
    let done = rest
        .iter()
        .map(|r| r.name())
        .zip(render_each(ctx, &rest, dir)?.into_iter().map(Some))
        .collect();
    Ok(Bundle { done, analysis })
}

/// What [`render_bundle`] wrote, per renderer.
pub struct Bundle {
    done: Vec<(&'static str, Option<Rendered>)>,
    /// How many of `done` are [`analysis_renderers`] (the rest are `extra`).
    analysis: usize,
}

impl Bundle {
    /// Files and timings in bundle order ([`bundle_renderers`], then
    /// `extra`), with `comparison.csv`, written in `csv_elapsed`.
    pub fn written(mut self, csv_elapsed: std::time::Duration) -> Written {
        let order: Vec<&'static str> = bundle_renderers()
            .iter()
            .map(|r| r.name())
            .chain(self.done[self.analysis..].iter().map(|(name, _)| *name))
            .collect();
        let mut written = Written {
            files: Vec::new(),
            timings: Vec::new(),
        };
        for name in order {
            let (names, elapsed) = if name == csv::FILE {
                (vec![csv::FILE.to_string()], csv_elapsed)
            } else {
                self.done
                    .iter_mut()
                    .find(|(n, _)| *n == name)
                    .and_then(|(_, result)| result.take())
                    .unwrap_or_default()
            };
            written.timings.push((name, elapsed));
            written.files.extend(names.into_iter().map(PathBuf::from));
        }
        written
    }
}

/// What one renderer wrote (names relative to the folder) and how long it took.
type Rendered = (Vec<String>, std::time::Duration);

/// Run `renderers` in parallel, writing each one's files into `dir` as soon
/// as it is done; per renderer, the names it wrote and how long it took.
fn render_each(
    ctx: &ReportContext<'_>,
    renderers: &[Box<dyn Renderer>],
    dir: &Path,
) -> anyhow::Result<Vec<(Vec<String>, std::time::Duration)>> {
    use rayon::prelude::*;
    // Independent outputs: the large CSV streams to disk while charts render.
    renderers
        .par_iter()
        .map(|r| {
            let start = std::time::Instant::now();
            let names = r.render_to(ctx, dir)?;
            Ok((names, start.elapsed()))
        })
        .collect()
}

/// Run `renderers` in parallel and write their files into the existing
/// folder `dir` (each renderer's as soon as it is done, see
/// [`crate::util::output::write_files`]); the files in the result are
/// relative to `dir`.
pub fn render_into(ctx: &ReportContext<'_>, renderers: &[Box<dyn Renderer>], dir: &Path) -> anyhow::Result<Written> {
    let mut written = Written {
        files: Vec::new(),
        timings: Vec::new(),
    };
    for (r, (names, elapsed)) in renderers.iter().zip(render_each(ctx, renderers, dir)?) {
        written.timings.push((r.name(), elapsed));
        written.files.extend(names.into_iter().map(PathBuf::from));
    }
    Ok(written)
}
