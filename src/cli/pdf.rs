//! `sagereport pdf PATH... -o report.pdf`: one PDF with the comparison
//! (summary, mismatches, statistics, charts), the paper figures and Tables
//! 1–6, compiled in-process with typst.

use super::{GlobalArgs, EXIT_OK, EXIT_USAGE};
use crate::analysis::compare::{compare, default_axis, CompareOptions};
use crate::render::pdf::report::full_report_pdf;
use crate::render::ReportContext;
use super::compare::SideArgs;
use crate::util::output::{claim_file, FileKind};
use clap::Args;
use std::path::PathBuf;

pub const EXAMPLES: &str = "Examples:
  sagereport pdf results/ -o report.pdf
  sagereport pdf main-results/ pr-results/ --by input -o before-after.pdf

The PDF is built in-process (typst, fonts embedded): no TeX, no network.
It is written to a temporary file and renamed, so it is complete or absent.
-o replaces only an absent file or a PDF sagereport wrote (never a device,
FIFO, folder or anyone else's file), and never an input.";

#[derive(Args, Debug)]
pub struct PdfArgs {
    /// Result files or directories (searched recursively)
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// The PDF to write
    #[arg(long, short = 'o', value_name = "FILE", default_value = "artifacts/report.pdf")]
    pub output: PathBuf,
    #[command(flatten)]
    pub sides: SideArgs,
}

pub fn run(args: &PdfArgs, global: &GlobalArgs) -> anyhow::Result<u8> {
    // Checked (and locked) before any work: only an absent file or a PDF
    // sagereport wrote is replaced, never a device, FIFO or someone's file.
    let out = claim_file(&args.output, FileKind::Pdf, &args.paths)?;
    let Some((report, tables)) = super::tables::load(&args.paths, global, args.sides.confidence, args.sides.include_failed) else { return Ok(EXIT_USAGE) };
    let axis = args.sides.by.unwrap_or_else(|| default_axis(&report, args.paths.len()));
    let labels = args.paths.iter().map(|p| p.display().to_string()).collect();
    let options = CompareOptions { axis, baseline: args.sides.baseline.clone(), confidence: args.sides.confidence, equivalence: None, input_labels: labels, correction: args.sides.correction, include_failed: args.sides.include_failed };
    let comparison = compare(&report, &options);
    let mut command = String::from("sagereport pdf");
    for p in &args.paths {
        command.push_str(&format!(" {}", p.display()));
    }
    command.push_str(&format!(" --by {}", format!("{axis:?}").to_lowercase()));
    let ctx = ReportContext { ingest: &report, comparison: &comparison, version: env!("CARGO_PKG_VERSION"), command, threshold: crate::render::DEFAULT_THRESHOLD };

    let pdf = full_report_pdf(&ctx, &tables, args.sides.confidence)?;

    out.write(&pdf)?;
    if !global.quiet {
        outln!("wrote {} ({} KiB)", args.output.display(), pdf.len() / 1024);
    }
    Ok(EXIT_OK)
}
