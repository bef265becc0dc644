//! The compare pipeline every comparing command shares (`compare`, `pdf`,
//! `site`, `bench`, and through them `paired` and `demo`): [`CompareJob`]
//! resolves the shared arguments once (inputs and labels, axis, baseline,
//! confidence, correction, failed runs, threshold, gates and the provenance
//! command), and [`run`] takes it through ingest → analysis (beside
//! `comparison.csv`) → render; [`CompareJob::tripped`] applies the gates.

use crate::analysis::compare::{compare, default_axis, Axis, CompareOptions, Comparison, MetricComparison};
use crate::analysis::estimand::Correction;
use crate::ingest::{ingest, IngestOptions, IngestReport, InputError};
use crate::render::{self, csv, Renderer, ReportContext, Written};
use crate::util::output::OutputDir;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// What `compare --fail-on` gates on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Gate {
    /// A comparable group whose sides ran different workload shapes.
    Mismatch,
    /// A significant change in the worse direction beyond --threshold.
    Regression,
}

/// One comparison to make, resolved from a command's arguments.
#[derive(Clone, Debug)]
pub struct CompareJob {
    /// The inputs as given on the command line (each labelled by its path).
    pub paths: Vec<PathBuf>,
    /// Inputs named with `--label NAME=PATH`, after `paths`.
    pub named: Vec<(String, PathBuf)>,
    /// The axis asked for; `None`: [`default_axis`] of the ingested records.
    pub by: Option<Axis>,
    pub baseline: Option<String>,
    /// `baseline` must name a side (the user's `--baseline`), else the
    /// analysis is refused; when false it is a preference.
    pub baseline_required: bool,
    pub confidence: f64,
    pub correction: Correction,
    pub include_failed: bool,
    /// `--equivalence`: the TOST margin, relative.
    pub equivalence: Option<f64>,
    /// `--threshold`, relative (0.05 = 5 %).
    pub threshold: f64,
    pub fail_on: Vec<Gate>,
}

impl CompareJob {
    /// A job over `paths` with every other setting at the `compare` default.
    pub fn new(paths: Vec<PathBuf>) -> Self {
        CompareJob {
            paths,
            named: Vec::new(),
            by: None,
            baseline: None,
            baseline_required: false,
            confidence: 0.95,
            correction: Correction::Bh,
            include_failed: false,
            equivalence: None,
            threshold: render::DEFAULT_THRESHOLD,
            fail_on: Vec::new(),
        }
    }

    /// Every input read: the plain paths, then the labelled ones.
    pub fn inputs(&self) -> Vec<PathBuf> {
        self.paths
            .iter()
            .cloned()
            .chain(self.named.iter().map(|(_, p)| p.clone()))
            .collect()
    }

    /// The side name of each input for `--by input`, in [`CompareJob::inputs`] order.
    pub fn labels(&self) -> Vec<String> {
        self.paths
            .iter()
            .map(|p| p.display().to_string())
            .chain(self.named.iter().map(|(n, _)| n.clone()))
            .collect()
    }

    /// The axis sides are formed along for `report`.
    pub fn axis(&self, report: &IngestReport) -> Axis {
        self.by
            .unwrap_or_else(|| default_axis(report, self.paths.len() + self.named.len()))
    }

    /// The analysis options for `report`.
    pub fn options(&self, report: &IngestReport) -> CompareOptions {
        CompareOptions {
            axis: self.axis(report),
            baseline: self.baseline.clone(),
            confidence: self.confidence,
            equivalence: self.equivalence,
            input_labels: self.labels(),
            correction: self.correction,
            include_failed: self.include_failed,
        }
    }

    /// The analysis of `report`; an error when a required baseline (the
    /// user's `--baseline`) names no side: a typo would otherwise quietly
    /// compare against the default side.
    pub fn analyse(&self, report: &IngestReport) -> anyhow::Result<Comparison> {
        let comparison = compare(report, &self.options(report));
        if let Some(wanted) = self.baseline.as_ref().filter(|_| self.baseline_required) {
            if comparison.baseline.as_ref() != Some(wanted) {
                let sides = if comparison.sides.is_empty() {
                    "none".to_string()
                } else {
                    comparison.sides.join(", ")
                };
                anyhow::bail!(
                    "--baseline {wanted:?} names no side; the sides (--by {}) are: {sides}. Name one of them, or leave --baseline out (sage when present, else the first side)",
                    comparison.axis.name()
                );
            }
        }
        Ok(comparison)
    }

    /// The command that regenerates this comparison, the same whichever
    /// command made it (without `--output-dir`, so the bundle is
    /// byte-identical wherever it is written; settings at their default are
    /// left out, except the axis and the confidence).
    pub fn command(&self, axis: Axis) -> String {
        let mut command = String::from("sagereport compare");
        for p in &self.paths {
            command.push_str(&format!(" {}", p.display()));
        }
        for (name, path) in &self.named {
            command.push_str(&format!(" --label {name}={}", path.display()));
        }
        command.push_str(&format!(" --by {}", axis.name()));
        if let Some(b) = &self.baseline {
            command.push_str(&format!(" --baseline {b}"));
        }
        command.push_str(&format!(" --confidence {}", self.confidence));
        if self.correction != Correction::Bh {
            command.push_str(&format!(" --correction {}", self.correction.name()));
        }
        if self.include_failed {
            command.push_str(" --include-failed");
        }
        if let Some(e) = self.equivalence {
            command.push_str(&format!(" --equivalence {}%", e * 100.0));
        }
        if self.threshold != render::DEFAULT_THRESHOLD {
            command.push_str(&format!(" --threshold {}", self.threshold));
        }
        command
    }

    /// What every renderer of this job's report sees.
    pub fn context<'a>(&self, report: &'a IngestReport, comparison: &'a Comparison) -> ReportContext<'a> {
        ReportContext {
            ingest: report,
            comparison,
            version: env!("CARGO_PKG_VERSION"),
            command: self.command(comparison.axis),
            threshold: self.threshold,
        }
    }

    /// The comparisons `--fail-on regression` trips on (none without that gate).
    pub fn regressions<'c>(&self, comparison: &'c Comparison) -> Vec<&'c MetricComparison> {
        if !self.fail_on.contains(&Gate::Regression) {
            return Vec::new();
        }
        comparison
            .comparisons
            .iter()
            .filter(|c| c.is_regression(self.threshold))
            .collect()
    }

    /// The gates `comparison` trips, each as one phrase; empty: exit 0.
    pub fn tripped(&self, comparison: &Comparison) -> Vec<String> {
        let mut tripped = Vec::new();
        if self.fail_on.contains(&Gate::Mismatch) && !comparison.mismatches.is_empty() {
            tripped.push(format!("{} configuration mismatch(es)", comparison.mismatches.len()));
        }
        let regressions = self.regressions(comparison).len();
        if regressions > 0 {
            tripped.push(format!(
                "{regressions} regression(s) beyond {:.1}%",
                self.threshold * 100.0
            ));
        }
        tripped
    }
}

/// What [`run`] writes besides the analysis.
pub enum Outputs<'o> {
    /// Nothing: the caller renders (`pdf`, `site`).
    None,
    /// The `compare` bundle, replacing `out` atomically, with `extra`
    /// renderers (e.g. `report.pdf`) beside it.
    Bundle {
        out: &'o OutputDir,
        extra: Vec<Box<dyn Renderer>>,
    },
}

/// What [`run`] did.
pub struct Outcome {
    pub ingest: IngestReport,
    pub comparison: Comparison,
    /// The bundle's files (under the output folder) and renderer timings;
    /// empty for [`Outputs::None`].
    pub written: Written,
    pub timings: Timings,
}

/// How long the stages of [`run`] took (for `-v`).
pub struct Timings {
    pub ingest: Duration,
    /// The analysis alone (it runs beside `comparison.csv`).
    pub analysis: Duration,
    /// Analysis and rendering together.
    pub after_ingest: Duration,
}

/// Why [`run`] stopped.
#[derive(Debug)]
pub enum Failure {
    /// The inputs could not be read (the command's usage/input error).
    Ingest(InputError),
    /// The analysis refused an argument (`--baseline`), or writing the
    /// outputs failed.
    Write(anyhow::Error),
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure::Write(e)
    }
}

impl Failure {
    pub fn into_anyhow(self) -> anyhow::Error {
        match self {
            Failure::Ingest(e) => e.into(),
            Failure::Write(e) => e,
        }
    }
}

/// Ingest the job's inputs, analyse them and write `outputs`. With a
/// bundle, `comparison.csv` (the bulk of the bytes, needing only the
/// records) streams to disk while the analysis runs and the other
/// renderers, given the finished comparison, run in parallel.
pub fn run(job: &CompareJob, ingest_options: &IngestOptions, outputs: Outputs<'_>) -> Result<Outcome, Failure> {
    let started = Instant::now();
    let report = ingest(&job.inputs(), ingest_options).map_err(Failure::Ingest)?;
    let ingested = started.elapsed();
    let timed_analysis = || -> anyhow::Result<_> {
        let start = Instant::now();
        Ok((job.analyse(&report)?, start.elapsed()))
    };
    let (comparison, written, analysis) = match outputs {
        Outputs::None => {
            let (comparison, analysis) = timed_analysis()?;
            (
                comparison,
                Written {
                    files: Vec::new(),
                    timings: Vec::new(),
                },
                analysis,
            )
        }
        Outputs::Bundle { out, extra } => {
            let (comparison, mut written, analysis) = out.replace(|tmp| {
                // comparison.csv streams while the analysis runs and the
                // other renderers draw from it: on a large tree the CSV is
                // the longest single output, the charts the most parallel.
                let (csv_written, analysed) = rayon::join(
                    || {
                        let start = Instant::now();
                        csv::write_csv(&report, &tmp.join(csv::FILE)).map(|()| start.elapsed())
                    },
                    || -> anyhow::Result<_> {
                        let (comparison, analysis) = timed_analysis()?;
                        let bundle = render::render_bundle(&job.context(&report, &comparison), extra, tmp)?;
                        Ok((comparison, bundle, analysis))
                    },
                );
                let csv_elapsed = csv_written?;
                let (comparison, bundle, analysis) = analysed?;
                Ok((comparison, bundle.written(csv_elapsed), analysis))
            })?;
            written.files = written.files.iter().map(|f| out.path().join(f)).collect();
            (comparison, written, analysis)
        }
    };
    let timings = Timings {
        ingest: ingested,
        analysis,
        after_ingest: started.elapsed() - ingested,
    };
    Ok(Outcome {
        ingest: report,
        comparison,
        written,
        timings,
    })
}
