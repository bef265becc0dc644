//! Renderers: one module per output, each behind the [`Renderer`] trait, so
//! adding a format touches one file. Statistics are computed in
//! [`crate::analysis`]; renderers only present them.

pub mod chart;
pub mod charts;
pub mod csv;
pub use crate::util::escape;
pub mod format;
pub mod forest;
pub mod json;
pub mod markdown;
pub mod paper_figures;
pub mod pdf;
pub mod pr_comment;
pub mod verdicts;
pub mod site;
pub mod tables;
#[cfg(test)]
pub(crate) mod test_support;

use crate::analysis::compare::Comparison;
use crate::ingest::IngestReport;
use crate::util::output::OutputDir;
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

/// One output file: its path relative to the output folder (`/`-separated)
/// and its bytes.
pub type OutFile = (String, Vec<u8>);

/// One output of the bundle. Renderers of one bundle run in parallel and
/// return bytes; [`render_into`] is the one place their files are written.
pub trait Renderer: Sync {
    /// The name shown with the renderer's timing (`-v`): its first file
    /// for a small report.
    fn name(&self) -> &'static str;
    /// The files for `ctx`, in writing order.
    fn render(&self, ctx: &ReportContext<'_>) -> anyhow::Result<Vec<OutFile>>;
}

/// What [`write_compare_bundle`] wrote, and how long each renderer took (for `-v`).
pub struct Written {
    pub files: Vec<PathBuf>,
    pub timings: Vec<(&'static str, std::time::Duration)>,
    /// How long the analysis took beside `comparison.csv` ([`write_compare_bundle`]).
    pub analysis: Option<std::time::Duration>,
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

/// The `compare` bundle, written atomically into `out` (see
/// [`OutputDir::replace`]) with the analysis overlapped:
/// `comparison.csv` (the bulk of the bytes, and needing only the records)
/// streams to disk while `analyse` runs; then the analysis renderers and
/// `extra` run in parallel. Returns the analysis and what was written.
pub fn write_compare_bundle(
    ingest: &IngestReport,
    analyse: impl FnOnce() -> Comparison + Send,
    command: String,
    threshold: f64,
    extra: Vec<Box<dyn Renderer>>,
    out: &OutputDir,
) -> anyhow::Result<(Comparison, Written)> {
    let (comparison, mut written) = out.replace(|tmp| {
        let timed_analysis = || {
            let start = std::time::Instant::now();
            (analyse(), start.elapsed())
        };
        let ((comparison, analysis_elapsed), csv_written) = rayon::join(timed_analysis, || {
            let start = std::time::Instant::now();
            csv::write_csv(ingest, &tmp.join(csv::FILE)).map(|()| start.elapsed())
        });
        let csv_elapsed = csv_written?;
        let ctx = ReportContext { ingest, comparison: &comparison, version: env!("CARGO_PKG_VERSION"), command, threshold };
        let mut renderers = analysis_renderers();
        renderers.extend(extra);
        let mut written = render_into(&ctx, &renderers, tmp)?;
        written.files.insert(1, PathBuf::from(csv::FILE));
        written.timings.insert(1, (csv::FILE, csv_elapsed));
        written.analysis = Some(analysis_elapsed);
        Ok((comparison, written))
    })?;
    written.files = written.files.iter().map(|f| out.path().join(f)).collect();
    Ok((comparison, written))
}

/// Run `renderers` in parallel and write their files into the existing
/// folder `dir` (each renderer's as soon as it is done, see
/// [`crate::util::output::write_files`]); the files in the result are
/// relative to `dir`.
pub fn render_into(ctx: &ReportContext<'_>, renderers: &[Box<dyn Renderer>], dir: &Path) -> anyhow::Result<Written> {
    use rayon::prelude::*;
    // Independent outputs: the large CSV streams to disk while charts render.
    let results: Vec<anyhow::Result<(Vec<String>, std::time::Duration)>> = renderers
        .par_iter()
        .map(|r| {
            let start = std::time::Instant::now();
            let files = r.render(ctx)?;
            crate::util::output::write_files(dir, &files)?;
            Ok((files.into_iter().map(|(name, _)| name).collect(), start.elapsed()))
        })
        .collect();
    let mut written = Written { files: Vec::new(), timings: Vec::new(), analysis: None };
    for (r, result) in renderers.iter().zip(results) {
        let (names, elapsed) = result?;
        written.timings.push((r.name(), elapsed));
        written.files.extend(names.into_iter().map(PathBuf::from));
    }
    Ok(written)
}
