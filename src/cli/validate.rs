//! `sagereport validate PATH...`: schema check only.

use super::{GlobalArgs, EXIT_FINDINGS, EXIT_OK, EXIT_USAGE};
use crate::ingest::{ingest, IngestOptions, IngestReport, InputError};
use crate::model::Severity;
use clap::Args;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

pub const EXAMPLES: &str = "Examples:
  sagereport validate results/
  sagereport validate paired_backend_runs/ legacy/exp1_single_vs_multi/ --json > report.json
  sagereport validate unified_results.jsonl -q   # errors only; exit 1 if any

Output: one line per problem, `path:line: error|warning: message` (line 1 of
a CSV is its header; a whole-file problem has no line), a per-file summary,
then totals. Exit codes: 0 no errors, 1 errors found, 2 usage error, a path
that cannot be read, no result file found, or nothing readable (every
problem is still listed).";

#[derive(Args, Debug)]
pub struct ValidateArgs {
    /// Result files or directories (searched recursively)
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

/// `validate --json` document, schema version 1 (documented in README).
#[derive(Serialize)]
struct Document<'a> {
    schema_version: u32,
    inputs: &'a [String],
    files: &'a [crate::ingest::FileSummary],
    records: crate::ingest::Totals,
    problems: &'a [crate::model::Problem],
}

pub fn run(args: &ValidateArgs, global: &GlobalArgs) -> anyhow::Result<u8> {
    let (report, input_error) = match ingest(&args.paths, &IngestOptions::from(global)) {
        Ok(r) => (r, None),
        // Nothing could be read: list every problem as usual, then fail as
        // an input error naming the files.
        Err(e @ InputError::NothingRead { .. }) => {
            let message = e.to_string();
            let InputError::NothingRead { report, .. } = e else {
                unreachable!()
            };
            (*report, Some(message))
        }
        Err(e) => {
            eprintln!("sagereport: error: {e}");
            return Ok(EXIT_USAGE);
        }
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if global.json {
        let doc = Document {
            schema_version: 1,
            inputs: &report.inputs,
            files: &report.files,
            records: report.totals,
            problems: &report.problems,
        };
        serde_json::to_writer_pretty(&mut out, &doc)
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(out))
            .map_err(super::stdout_error)?;
    } else {
        write_text(&mut out, &report, global).map_err(super::stdout_error)?;
    }
    out.flush().map_err(super::stdout_error)?;
    if let Some(message) = input_error {
        eprintln!("sagereport: error: {message}");
        return Ok(EXIT_USAGE);
    }
    Ok(if report.errors() > 0 { EXIT_FINDINGS } else { EXIT_OK })
}

/// Files listed in the per-file summary before it is cut short (all with -v).
const FILES_SHOWN: usize = 40;

fn write_text(out: &mut impl Write, report: &IngestReport, global: &GlobalArgs) -> std::io::Result<()> {
    for p in &report.problems {
        if global.quiet && p.severity != Severity::Error {
            continue;
        }
        writeln!(out, "{p}")?;
    }
    if global.quiet {
        return Ok(());
    }
    if !report.problems.is_empty() {
        writeln!(out)?;
    }

    let read_files: Vec<_> = report.files.iter().filter(|f| f.skipped.is_none()).collect();
    let with_problems: std::collections::HashSet<&str> = report.problems.iter().map(|p| p.file.as_str()).collect();
    let shown: Vec<_> = if global.verbose || read_files.len() <= FILES_SHOWN {
        read_files.clone()
    } else {
        read_files
            .iter()
            .copied()
            .filter(|f| with_problems.contains(f.path.as_str()))
            .take(FILES_SHOWN)
            .collect()
    };
    writeln!(out, "Files read: {}", read_files.len())?;
    if !shown.is_empty() {
        let width = shown.iter().map(|f| f.path.len()).max().unwrap_or(4).min(100);
        writeln!(
            out,
            "  {:<width$}  {:<16} {:>9} {:>9} {:>9} {:>6} {:>6}",
            "path", "format", "records", "accepted", "rejected", "twins", "dups"
        )?;
        for f in &shown {
            let t = &f.tally;
            writeln!(
                out,
                "  {:<width$}  {:<16} {:>9} {:>9} {:>9} {:>6} {:>6}",
                f.path,
                f.format.as_str(),
                t.records,
                t.accepted,
                t.rejected,
                t.twins_merged,
                t.duplicates
            )?;
        }
        if shown.len() < read_files.len() {
            writeln!(
                out,
                "  … {} more files without problems (use -v to list all)",
                read_files.len() - shown.len()
            )?;
        }
    }

    let skipped: Vec<_> = report.files.iter().filter(|f| f.skipped.is_some()).collect();
    if !skipped.is_empty() {
        writeln!(out, "Files skipped: {}", skipped.len())?;
        if global.verbose {
            for f in &skipped {
                writeln!(out, "  {}: {}", f.path, f.skipped.as_deref().unwrap_or(""))?;
            }
        } else {
            let mut by_reason: BTreeMap<&str, usize> = BTreeMap::new();
            for f in &skipped {
                *by_reason.entry(f.skipped.as_deref().unwrap_or("")).or_default() += 1;
            }
            for (reason, n) in by_reason {
                writeln!(out, "  {n} × {reason}")?;
            }
        }
    }

    let t = &report.totals;
    writeln!(
        out,
        "Records: {} read = {} accepted + {} rejected; {} CSV twins merged, {} duplicates counted once",
        t.read, t.accepted, t.rejected, t.twins_merged, t.duplicates
    )?;
    writeln!(
        out,
        "Problems: {} errors, {} warnings",
        report.errors(),
        report.warnings()
    )?;
    Ok(())
}
