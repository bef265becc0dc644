//! Renderers: one module per output, each behind the [`Renderer`] trait, so
//! adding a format touches one file. Statistics are computed in
//! [`crate::analysis`]; renderers only present them.

pub mod charts;
pub mod csv;
pub use crate::util::escape;
pub mod figures;
pub mod forest;
pub mod json;
pub mod latex;
pub mod markdown;
pub mod paper_figures;
pub mod pdf;
pub mod pr_comment;
pub mod verdicts;
pub mod site;
pub mod svg_hover;
#[cfg(test)]
pub(crate) mod test_support;

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

/// `--threshold` when a command has none (the `compare` default).
pub const DEFAULT_THRESHOLD: f64 = 0.05;

/// One output of the bundle. Renderers of one bundle run in parallel.
pub trait Renderer: Sync {
    /// File names this renderer writes, relative to the bundle folder (for
    /// a renderer whose names depend on the data: the names it writes for a
    /// small report; [`Renderer::outputs`] has the real ones).
    fn files(&self) -> Vec<&'static str>;
    /// The files `render` writes for `ctx`, relative to the bundle folder.
    fn outputs(&self, _ctx: &ReportContext<'_>) -> Vec<String> {
        self.files().into_iter().map(str::to_string).collect()
    }
    /// Write the files into `dir`.
    fn render(&self, ctx: &ReportContext<'_>, dir: &Path) -> anyhow::Result<()>;
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

/// The `compare` bundle into `dir` once `comparison.csv` is there (it
/// streams beside the analysis in [`crate::pipeline::run`], taking
/// `csv_elapsed`): the other renderers and `extra` run in parallel. Files
/// and timings come in bundle order ([`bundle_renderers`], then `extra`).
pub fn render_bundle(
    ctx: &ReportContext<'_>,
    extra: Vec<Box<dyn Renderer>>,
    dir: &Path,
    csv_elapsed: std::time::Duration,
) -> anyhow::Result<Written> {
    let mut rest = analysis_renderers();
    let analysis = rest.len();
    rest.extend(extra);
    let done = render_into(ctx, &rest, dir)?;
    let bundle = bundle_renderers();
    let order = bundle.iter().chain(&rest[analysis..]);
    let mut written = Written { files: Vec::new(), timings: Vec::new() };
    for r in order {
        let name = r.files()[0];
        let elapsed = if name == csv::FILE {
            csv_elapsed
        } else {
            done.timings.iter().find(|(f, _)| *f == name).map(|(_, d)| *d).unwrap_or_default()
        };
        written.timings.push((name, elapsed));
        written.files.extend(r.outputs(ctx).into_iter().map(PathBuf::from));
    }
    Ok(written)
}

/// Run `renderers` in parallel into the existing folder `dir`; the files
/// in the result are relative to `dir`.
pub fn render_into(ctx: &ReportContext<'_>, renderers: &[Box<dyn Renderer>], dir: &Path) -> anyhow::Result<Written> {
    use rayon::prelude::*;
    // Independent outputs: the large CSV streams to disk while charts render.
    let results: Vec<anyhow::Result<std::time::Duration>> = renderers
        .par_iter()
        .map(|r| {
            let start = std::time::Instant::now();
            r.render(ctx, dir).map(|()| start.elapsed())
        })
        .collect();
    let mut written = Written { files: Vec::new(), timings: Vec::new() };
    for (r, result) in renderers.iter().zip(results) {
        let elapsed = result?;
        written.timings.push((r.files()[0], elapsed));
        written.files.extend(r.outputs(ctx).into_iter().map(PathBuf::from));
    }
    Ok(written)
}
