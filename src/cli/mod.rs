//! Command-line interface: parses arguments, runs one pipeline, maps the
//! outcome to documented exit codes.
//!
//! Exit codes: 0 ok; 1 findings the user asked about (validation errors,
//! and later mismatches or regressions when gated on); 2 usage or input
//! error (bad flag, path that does not exist or cannot be read).

/// `println!` that fails (exit 2, naming standard output) instead of
/// panicking when stdout cannot be written, e.g. `--json > /dev/full`.
/// Only inside functions returning `anyhow::Result`.
macro_rules! outln {
    () => { $crate::cli::write_stdout(format_args!("\n"))? };
    ($($arg:tt)*) => { $crate::cli::write_stdout(format_args!("{}\n", format_args!($($arg)*)))? };
}

/// `print!` that fails instead of panicking; see [`outln!`].
macro_rules! out {
    ($($arg:tt)*) => { $crate::cli::write_stdout(format_args!($($arg)*))? };
}

mod bench;
mod compare;
mod demo;
mod paired;
mod pdf;
mod run;
mod shell;
mod site;
mod synth;
mod tables;
mod validate;

use clap::{Args, Parser, Subcommand};
use std::process::ExitCode;

/// Exit code: success.
pub const EXIT_OK: u8 = 0;
/// Exit code: the run worked and found what the user gates on.
pub const EXIT_FINDINGS: u8 = 1;
/// Exit code: usage or input error.
pub const EXIT_USAGE: u8 = 2;

#[derive(Parser, Debug)]
#[command(
    name = "sagereport",
    version,
    about = "Turn benchmark result directories (SAGE vs Ray and others) into trustworthy comparisons",
    long_about = None,
    after_help = "Exit codes: 0 ok, 1 findings (e.g. validation errors), 2 usage or input error.\n\
                  Docs: README.md (formats, accounting rules, JSON schemas)."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command takes.
#[derive(Args, Debug, Clone)]
pub struct GlobalArgs {
    /// More detail: every file, every skipped file with its reason
    #[arg(short, long, global = true)]
    pub verbose: bool,
    /// Print nothing but errors (and the JSON document with --json)
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Print one machine-readable JSON document on stdout instead of text
    #[arg(long, global = true)]
    pub json: bool,
    /// Longest line read from a JSONL or CSV file (e.g. 64MiB, 1048576); a longer one is an error
    #[arg(long, global = true, value_name = "SIZE", default_value = "64MiB", value_parser = crate::ingest::guard::parse_size)]
    pub max_line: u64,
    /// Largest JSON document read whole (manifests, *_metrics.json, record arrays)
    #[arg(long, global = true, value_name = "SIZE", default_value = "1GiB", value_parser = crate::ingest::guard::parse_size)]
    pub max_document: u64,
    /// Follow symbolic links below the inputs [default: list them as skipped]
    #[arg(long, global = true)]
    pub follow_symlinks: bool,
}

impl Default for GlobalArgs {
    fn default() -> Self {
        GlobalArgs {
            verbose: false,
            quiet: false,
            json: false,
            max_line: crate::ingest::guard::DEFAULT_MAX_LINE,
            max_document: crate::ingest::guard::DEFAULT_MAX_DOCUMENT,
            follow_symlinks: false,
        }
    }
}

impl From<&GlobalArgs> for crate::ingest::IngestOptions {
    /// The ingest options these flags ask for (a progress bar with text output).
    fn from(global: &GlobalArgs) -> Self {
        crate::ingest::IngestOptions {
            progress: global.text(),
            max_line: global.max_line,
            max_document: global.max_document,
            follow_symlinks: global.follow_symlinks,
        }
    }
}

impl GlobalArgs {
    /// Whether human text goes to stdout (neither --quiet nor --json).
    pub fn text(&self) -> bool {
        !self.quiet && !self.json
    }
}

/// Write to standard output. A closed pipe ends the process quietly
/// (SIGPIPE, as other Unix tools); any other failure is an error naming
/// standard output, never a panic.
pub fn write_stdout(args: std::fmt::Arguments<'_>) -> anyhow::Result<()> {
    use std::io::Write;
    std::io::stdout().lock().write_fmt(args).map_err(stdout_error)
}

pub(crate) fn stdout_error(e: std::io::Error) -> anyhow::Error {
    anyhow::anyhow!("cannot write to standard output: {e}")
}

/// The outcome of [`crate::pipeline::run`], or `None` after printing why
/// the inputs could not be read (`prefix` names the report, if any); the
/// command then exits 2.
pub(crate) fn compared(
    result: Result<crate::pipeline::Outcome, crate::pipeline::Failure>,
    prefix: &str,
) -> anyhow::Result<Option<crate::pipeline::Outcome>> {
    match result {
        Ok(outcome) => Ok(Some(outcome)),
        Err(crate::pipeline::Failure::Ingest(e)) => {
            eprintln!("sagereport: error: {prefix}{e}");
            Ok(None)
        }
        Err(crate::pipeline::Failure::Write(e)) => Err(e),
    }
}

/// Print `doc` as the one JSON document a `--json` command writes to stdout.
pub fn print_json(doc: &impl serde::Serialize) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(doc)?;
    outln!("{text}");
    Ok(())
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Schema-check result files and directories: every problem with file:line
    #[command(after_help = validate::EXAMPLES)]
    Validate(validate::ValidateArgs),
    /// Compare sides (backends, inputs, schedulers): mismatches, intervals, significance, bundle
    #[command(after_help = compare::EXAMPLES)]
    Compare(compare::CompareArgs),
    /// The paper's Tables 1–6 and figures from data; --check a hand-written table
    #[command(after_help = tables::EXAMPLES)]
    Tables(tables::TablesArgs),
    /// One PDF report: comparison, charts, figures and Tables 1–6 (typst, in-process)
    #[command(after_help = pdf::EXAMPLES)]
    Pdf(pdf::PdfArgs),
    /// Run workloads (Q1–Q8, exp1–exp4) on the embedded engine; write result folders
    #[command(after_help = run::EXAMPLES)]
    Run(run::RunArgs),
    /// Run two backends on the same config, archive both, compare them
    #[command(after_help = paired::PAIRED_EXAMPLES)]
    Paired(paired::PairedArgs),
    /// Fresh data from the embedded engine, then compare, tables, site and PDF in one folder
    #[command(after_help = demo::DEMO_EXAMPLES)]
    Demo(demo::DemoArgs),
    /// Static HTML site (GitHub Pages ready): reports, workloads, history and trends
    #[command(after_help = site::EXAMPLES)]
    Site(site::SiteArgs),
    /// Write a realistic synthetic result tree (for tests, demos, benchmarks)
    #[command(after_help = synth::EXAMPLES)]
    Synth(synth::SynthArgs),
    /// Measure ingest speed and peak memory on a generated tree
    #[command(after_help = bench::EXAMPLES)]
    Bench(bench::BenchArgs),
    /// Print the shell completion script (bash, zsh, fish, powershell, elvish)
    #[command(after_help = shell::COMPLETIONS_EXAMPLES)]
    Completions(shell::CompletionsArgs),
    /// Print the roff man page: sagereport(1), or one command's page
    #[command(after_help = shell::MAN_EXAMPLES)]
    Man(shell::ManArgs),
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_USAGE } else { EXIT_OK });
        }
    };
    let result = match &cli.command {
        Command::Validate(args) => validate::run(args, &cli.global),
        Command::Compare(args) => compare::run(args, &cli.global),
        Command::Tables(args) => tables::run(args, &cli.global),
        Command::Pdf(args) => pdf::run(args, &cli.global),
        Command::Run(args) => run::run(args, &cli.global),
        Command::Paired(args) => paired::paired(args, &cli.global),
        Command::Demo(args) => demo::demo(args, &cli.global),
        Command::Site(args) => site::run(args, &cli.global),
        Command::Synth(args) => synth::run(args, &cli.global),
        Command::Bench(args) => bench::run(args, &cli.global),
        Command::Completions(args) => shell::completions(args),
        Command::Man(args) => shell::man(args),
    };
    // Measurement hook for tests and benchmarks: this process's own peak RSS
    // (VmHWM of its address space; a parent's memory never counts, unlike
    // the rusage a parent sees for a forked child).
    if std::env::var_os("SAGEREPORT_PEAK_RSS").is_some() {
        if let Some(bytes) = bench::peak_rss_bytes() {
            eprintln!("sagereport: peak RSS {} KiB", bytes / 1024);
        }
    }
    // Buffered output still unwritten fails here, not in a panic at exit.
    let result = result.and_then(|code| {
        use std::io::Write;
        std::io::stdout().flush().map_err(stdout_error).map(|()| code)
    });
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("sagereport: error: {e:#}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The argument structs `paired` and `demo` build by hand start from
    /// `Default`, which must be what clap fills in for no flags.
    #[test]
    fn argument_defaults_match_clap() {
        let parsed = |argv: &[&str]| format!("{:?}", Cli::try_parse_from(argv).unwrap().command);
        assert_eq!(
            parsed(&["sagereport", "compare"]),
            format!("{:?}", Command::Compare(compare::CompareArgs::default()))
        );
        assert_eq!(
            parsed(&["sagereport", "tables"]),
            format!("{:?}", Command::Tables(tables::TablesArgs::default()))
        );
        assert_eq!(
            parsed(&["sagereport", "site"]),
            format!("{:?}", Command::Site(site::SiteArgs::default()))
        );
        assert_eq!(
            parsed(&["sagereport", "pdf"]),
            format!("{:?}", Command::Pdf(pdf::PdfArgs::default()))
        );
    }
}
