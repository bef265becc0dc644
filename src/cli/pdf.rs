//! `sagereport pdf PATH... -o report.pdf`: one PDF with the comparison
//! (summary, mismatches, statistics, charts), the paper figures and Tables
//! 1–6, compiled in-process with typst.

use super::compare::SideArgs;
use super::{GlobalArgs, EXIT_OK, EXIT_USAGE};
use crate::analysis::tables::build_tables;
use crate::ingest::IngestOptions;
use crate::pipeline::Outputs;
use crate::render::pdf::report::full_report_pdf;
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

impl Default for PdfArgs {
    /// The flags' defaults (as clap fills them), no input.
    fn default() -> Self {
        PdfArgs {
            paths: Vec::new(),
            output: PathBuf::from("artifacts/report.pdf"),
            sides: SideArgs::default(),
        }
    }
}

pub fn run(args: &PdfArgs, global: &GlobalArgs) -> anyhow::Result<u8> {
    // Checked (and locked) before any work: only an absent file or a PDF
    // sagereport wrote is replaced, never a device, FIFO or someone's file.
    let out = claim_file(&args.output, FileKind::Pdf, &args.paths)?;
    if args.paths.is_empty() {
        eprintln!("sagereport: error: no input: give result files or directories (see --help)");
        return Ok(EXIT_USAGE);
    }
    let job = args.sides.job(args.paths.clone());
    let run = crate::pipeline::run(&job, &IngestOptions::from(global), Outputs::None);
    let Some(outcome) = super::compared(run, "")? else {
        return Ok(EXIT_USAGE);
    };
    let start = std::time::Instant::now();
    let tables = build_tables(&outcome.ingest, args.sides.confidence, args.sides.include_failed);
    let tables_took = start.elapsed();
    let ctx = job.context(&outcome.ingest, &outcome.comparison);

    let typst_before = crate::render::pdf::typst_seconds();
    let start = std::time::Instant::now();
    let pdf = full_report_pdf(&ctx, &tables, args.sides.confidence)?;
    let (pdf_took, typst_took) = (start.elapsed(), crate::render::pdf::typst_seconds() - typst_before);

    out.write(&pdf)?;
    if global.verbose {
        let t = &outcome.timings;
        eprintln!(
            "timings: ingest {:.2} s, analysis {:.2} s, Tables 1–6 {:.2} s, PDF {:.2} s (of which typst {:.2} s)",
            t.ingest.as_secs_f64(),
            t.analysis.as_secs_f64(),
            tables_took.as_secs_f64(),
            pdf_took.as_secs_f64(),
            typst_took
        );
    }
    if !global.quiet {
        outln!("wrote {} ({} KiB)", args.output.display(), pdf.len() / 1024);
    }
    Ok(EXIT_OK)
}
