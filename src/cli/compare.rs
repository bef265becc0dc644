//! `sagereport compare PATH...`: ingest, check, compute statistics, write
//! the report bundle.

use super::{print_json, GlobalArgs, EXIT_FINDINGS, EXIT_OK, EXIT_USAGE};
use crate::analysis::compare::Axis;
use crate::analysis::estimand::Correction;
use crate::ingest::IngestOptions;
pub use crate::pipeline::Gate;
use crate::pipeline::{CompareJob, Outputs};
use crate::render::{json::summary_doc, ReportContext};
use crate::util::output::{claim_dir, claim_file, FileKind};
use clap::Args;
use std::path::PathBuf;

pub const EXAMPLES: &str = "Examples:
  sagereport compare results/sage results/ray
  sagereport compare paired_backend_runs/ --output-dir artifacts/backend_comparison
  sagereport compare main-results/ pr-results/ --by input --fail-on regression --threshold 5%
  sagereport compare --label before=main/ --label after=pr/ --by input --json > summary.json
  sagereport compare results/ --by scheduler --baseline fifo

Writes summary.md, comparison.csv, summary.json, ratio_forest.{png,svg} (every
comparison's ratio and interval; -2, -3, … beyond 64), throughput_comparison.{png,svg}
and latency_p95_p99_comparison.{png,svg} (per workload family, -<family>, when
wider than 2,000 px) into --output-dir (replaced atomically).
Exit codes: 0 ok; 1 a --fail-on gate tripped; 2 usage or input error (also:
no record could be accepted).";

/// How sides are formed and judged; shared by `compare`, `pdf` and `site`.
#[derive(Args, Debug, Clone)]
pub struct SideArgs {
    /// What a side is [default: backend when the inputs hold several backends, else input]
    #[arg(long, value_enum)]
    pub by: Option<Axis>,
    /// Reference side [default: sage when present, else the first side]
    #[arg(long, value_name = "NAME")]
    pub baseline: Option<String>,
    /// Confidence level of intervals; significance level is 1 − this
    #[arg(long, default_value_t = 0.95, value_parser = parse_confidence)]
    pub confidence: f64,
    /// Multiple-comparison correction over the report's comparisons
    #[arg(long, value_enum, default_value_t = Correction::Bh)]
    pub correction: Correction,
    /// Keep failed runs (success rate 0, nothing measured) in the statistics
    #[arg(long)]
    pub include_failed: bool,
    /// Set by `paired` and `demo`, not a flag: their `baseline` is a
    /// preference, used when that side has records (a side that failed is
    /// reported by their exit code); a `--baseline` typed by the user must
    /// name a side.
    #[arg(skip)]
    pub baseline_is_preference: bool,
}

impl Default for SideArgs {
    /// The flags' defaults (as clap fills them).
    fn default() -> Self {
        SideArgs {
            by: None,
            baseline: None,
            confidence: 0.95,
            correction: Correction::Bh,
            include_failed: false,
            baseline_is_preference: false,
        }
    }
}

impl SideArgs {
    /// The comparison of `paths` these flags ask for (other settings at their default).
    pub fn job(&self, paths: Vec<PathBuf>) -> CompareJob {
        CompareJob {
            by: self.by,
            baseline: self.baseline.clone(),
            baseline_required: self.baseline.is_some() && !self.baseline_is_preference,
            confidence: self.confidence,
            correction: self.correction,
            include_failed: self.include_failed,
            ..CompareJob::new(paths)
        }
    }
}

#[derive(Args, Debug)]
pub struct CompareArgs {
    /// Result files or directories (searched recursively)
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Where the bundle is written (replaced atomically)
    #[arg(
        long,
        short = 'o',
        value_name = "DIR",
        default_value = "artifacts/backend_comparison"
    )]
    pub output_dir: PathBuf,
    #[command(flatten)]
    pub sides: SideArgs,
    /// Name an input for --by input: NAME=PATH (repeatable; PATH is also read)
    #[arg(long, value_name = "NAME=PATH")]
    pub label: Vec<String>,
    /// Also test equivalence within ±PCT of the baseline mean (TOST), e.g. 5%
    #[arg(long, value_name = "PCT", value_parser = parse_percent)]
    pub equivalence: Option<f64>,
    /// Exit 1 on these findings (repeatable or comma-separated)
    #[arg(long, value_enum, value_delimiter = ',')]
    pub fail_on: Vec<Gate>,
    /// Write a compact Markdown pull-request comment (regressions and mismatches
    /// first, < 65,536 characters) to FILE, or `-` for stdout
    #[arg(long, value_name = "FILE")]
    pub pr_comment: Option<PathBuf>,
    /// Also write report.pdf (summary, mismatches, statistics, charts) into the bundle
    #[arg(long)]
    pub pdf: bool,
    /// Regression threshold for --fail-on regression (and the band shaded in ratio_forest.png), e.g. 5% or 0.05
    #[arg(long, default_value = "5%", value_parser = parse_percent)]
    pub threshold: f64,
}

impl Default for CompareArgs {
    /// The flags' defaults (as clap fills them), no input.
    fn default() -> Self {
        CompareArgs {
            paths: Vec::new(),
            output_dir: PathBuf::from("artifacts/backend_comparison"),
            sides: SideArgs::default(),
            label: Vec::new(),
            equivalence: None,
            fail_on: Vec::new(),
            pr_comment: None,
            pdf: false,
            threshold: crate::render::DEFAULT_THRESHOLD,
        }
    }
}

impl CompareArgs {
    /// The job these arguments ask for; `Err`: a malformed `--label`.
    pub fn job(&self) -> Result<CompareJob, String> {
        let mut named = Vec::new();
        for l in &self.label {
            let Some((name, path)) = l.split_once('=') else {
                return Err(format!(
                    "--label {l:?}: expected NAME=PATH, e.g. --label before=results/main"
                ));
            };
            if name.trim().is_empty() {
                return Err(format!(
                    "--label {l:?}: the side name is empty; give one before the `=`, e.g. --label before={path}"
                ));
            }
            if path.is_empty() {
                return Err(format!(
                    "--label {l:?}: the path is empty; give the result folder after the `=`, e.g. --label {name}=results/main"
                ));
            }
            named.push((name.to_string(), PathBuf::from(path)));
        }
        // Each positional path and each label is one side (with --by input):
        // two of one name would pool their runs into one side unseen.
        let mut seen = std::collections::BTreeSet::new();
        let positional = self.paths.iter().map(|p| p.display().to_string());
        for name in positional.chain(named.iter().map(|(n, _)| n.clone())) {
            if !seen.insert(name.clone()) {
                return Err(format!(
                    "the side name {name:?} is given twice (a path or a --label NAME); each input is one side, so give each a name of its own, e.g. --label before=… --label after=…"
                ));
            }
        }
        Ok(CompareJob {
            named,
            equivalence: self.equivalence,
            threshold: self.threshold,
            fail_on: self.fail_on.clone(),
            ..self.sides.job(self.paths.clone())
        })
    }
}

pub(super) fn parse_confidence(s: &str) -> Result<f64, String> {
    let x: f64 = s
        .trim()
        .trim_end_matches('%')
        .parse()
        .map_err(|_| format!("{s:?} is not a number"))?;
    let x = if s.trim().ends_with('%') || x > 1.0 {
        x / 100.0
    } else {
        x
    };
    if x > 0.5 && x < 1.0 {
        Ok(x)
    } else {
        Err(format!(
            "{s} is not a confidence level between 0.5 and 1 (e.g. 0.95 or 95%)"
        ))
    }
}

/// `5%`, `5` (percent) or `0.05` (fraction) → 0.05.
pub(super) fn parse_percent(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let x: f64 = t
        .trim_end_matches('%')
        .parse()
        .map_err(|_| format!("{s:?} is not a percentage (e.g. 5%)"))?;
    let x = if t.ends_with('%') || x >= 1.0 { x / 100.0 } else { x };
    if (0.0..1.0).contains(&x) {
        Ok(x)
    } else {
        Err(format!("{s} is not a percentage between 0 and 100"))
    }
}

pub fn run(args: &CompareArgs, global: &GlobalArgs) -> anyhow::Result<u8> {
    let job = match args.job() {
        Ok(job) => job,
        Err(e) => {
            eprintln!("sagereport: error: {e}");
            return Ok(EXIT_USAGE);
        }
    };
    let paths = job.inputs();
    if paths.is_empty() {
        eprintln!("sagereport: error: no input: give result files or directories (see sagereport compare --help)");
        return Ok(EXIT_USAGE);
    }
    // The comment beside the bundle, never in it: the bundle folder is
    // replaced as a whole, so a file written into it first would be lost.
    if let Some(path) = args.pr_comment.as_deref().filter(|p| p.as_os_str() != "-") {
        let inside = crate::util::output::resolve(path)
            .ok()
            .zip(crate::util::output::resolve(&args.output_dir).ok())
            .is_some_and(|(comment, out)| comment.starts_with(out));
        if inside {
            eprintln!(
                "sagereport: error: --pr-comment {}: it is inside the output folder {}, which is replaced as a whole; write it beside the folder (e.g. --pr-comment comment.md)",
                path.display(),
                args.output_dir.display()
            );
            return Ok(EXIT_USAGE);
        }
    }
    // Outputs are checked (and locked) before any work: a refused output is exit 2.
    let out = claim_dir(&args.output_dir, "compare", &paths)?;
    let pr_comment = match args.pr_comment.as_deref().filter(|p| p.as_os_str() != "-") {
        Some(path) => Some(claim_file(path, FileKind::PrComment, &paths)?),
        None => None,
    };
    let mut extra: Vec<Box<dyn crate::render::Renderer>> = Vec::new();
    if args.pdf {
        extra.push(Box::new(crate::render::pdf::report::ComparisonPdf));
    }
    let run = crate::pipeline::run(&job, &IngestOptions::from(global), Outputs::Bundle { out: &out, extra });
    let Some(outcome) = super::compared(run, "")? else {
        return Ok(EXIT_USAGE);
    };
    let (report, comparison, written) = (&outcome.ingest, &outcome.comparison, &outcome.written);
    let ctx = job.context(report, comparison);
    if global.verbose {
        let t = &outcome.timings;
        let mut line = format!(
            "timings: ingest {:.2} s, then in {:.2} s: analysis {:.2} s beside comparison.csv, bundle (",
            t.ingest.as_secs_f64(),
            t.after_ingest.as_secs_f64(),
            t.analysis.as_secs_f64(),
        );
        let parts: Vec<String> = written
            .timings
            .iter()
            .map(|(f, d)| format!("{f} {:.2} s", d.as_secs_f64()))
            .collect();
        line.push_str(&parts.join(", "));
        eprintln!("{line})");
    }
    let written = &written.files;

    if args.pr_comment.is_some() {
        let body = crate::render::pr_comment::pr_comment(&ctx, args.threshold);
        match &pr_comment {
            Some(file) => file.write(body.as_bytes())?,
            None => out!("{body}"),
        }
    }
    if global.json {
        print_json(&summary_doc(&ctx))?;
    } else if !global.quiet && args.pr_comment.as_deref() != Some(std::path::Path::new("-")) {
        print_text(&ctx, written, args)?;
    }
    for m in &comparison.mismatches {
        if global.quiet {
            eprintln!(
                "sagereport: mismatch in {}: {}",
                m.workload.escape_debug(),
                m.fields.iter().map(|f| f.field).collect::<Vec<_>>().join(", ")
            );
        }
    }

    if report.totals.accepted == 0 {
        eprintln!(
            "sagereport: error: no record could be accepted from the inputs ({} rejected); see {}",
            report.totals.rejected,
            args.output_dir.join("summary.md").display()
        );
        return Ok(EXIT_USAGE);
    }
    for r in job.regressions(comparison) {
        eprintln!(
            "sagereport: regression: {} {} {} → {}: {:+.1}% (p_adj {:.3})",
            r.workload.escape_debug(),
            r.metric.name(),
            r.baseline.escape_debug(),
            r.candidate.escape_debug(),
            r.change_pct().unwrap_or(0.0),
            r.p_adjusted.unwrap_or(1.0)
        );
    }
    let tripped = job.tripped(comparison);
    if tripped.is_empty() {
        Ok(EXIT_OK)
    } else {
        eprintln!("sagereport: failing as asked (--fail-on): {}", tripped.join("; "));
        Ok(EXIT_FINDINGS)
    }
}

fn print_text(ctx: &ReportContext<'_>, written: &[PathBuf], args: &CompareArgs) -> anyhow::Result<()> {
    let c = ctx.comparison;
    let t = &ctx.ingest.totals;
    outln!(
        "{} records accepted, {} rejected ({} errors, {} warnings; run `sagereport validate` for every line)",
        t.accepted,
        t.rejected,
        ctx.ingest.errors(),
        ctx.ingest.warnings()
    );
    if c.mismatches.is_empty() {
        outln!("no configuration mismatch");
    } else {
        for m in &c.mismatches {
            outln!(
                "MISMATCH {}{}: {}",
                m.workload,
                if m.variant.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", m.variant)
                },
                m.fields
                    .iter()
                    .map(|f| format!(
                        "{} [{}]",
                        f.field,
                        f.values
                            .iter()
                            .map(|(s, v)| format!("{s}: {v}"))
                            .collect::<Vec<_>>()
                            .join("; ")
                    ))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    for m in &c.comparisons {
        let change = m
            .change_pct()
            .map(|p| format!("{p:+.1}%"))
            .unwrap_or_else(|| "—".into());
        outln!(
            "{:<28} {:<12} {} → {}: {:>8}  {}",
            format!(
                "{}{}",
                m.workload,
                if m.variant.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", m.variant)
                }
            ),
            m.metric.name(),
            m.baseline,
            m.candidate,
            change,
            m.verdict
        );
    }
    outln!("wrote {} ({} files)", args.output_dir.display(), written.len());
    Ok(())
}
