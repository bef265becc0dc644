//! `sagereport synth`: write a realistic synthetic result tree.

use super::{print_json, GlobalArgs, EXIT_OK};
use crate::synth::{generate, Shape, TreeSpec};
use clap::Args;
use std::path::PathBuf;

pub const EXAMPLES: &str = "Examples:
  sagereport synth --output-dir /tmp/tree                      # small mixed tree with faults
  sagereport synth --output-dir /tmp/clean --no-faults
  sagereport synth --output-dir /tmp/big --runs 1000 --records 1000 --no-faults
  sagereport synth --output-dir /tmp/harness --shape harness --runs 1000 --records 100
  sagereport synth --output-dir /tmp/wide --workloads 5000       # 5,000 workloads × sage, ray (~19 MB)

The mixed tree (the default) mixes the paired layout, single-backend folders
with repro_manifest.json, legacy exp1–exp4 folders, a published JSON array,
JSONL+CSV twins, `metadata` and `extra`. With faults, every injected fault
is listed (--json gives the exact file:line of each).

--shape harness writes what months of the upstream harness leave behind:
--runs paired run folders (run_id=…/config_hash=…, sage and ray or sage
only, manifest.json or failure_report.json, logs/), two workload families
with 312 and 128 variants each run again and again, per-record metadata as
each harness version wrote it, legacy exp1–exp4 campaigns scaled with
--runs, and a large published JSON array; faults only with --faults.";

#[derive(Args, Debug)]
pub struct SynthArgs {
    /// Folder to write the tree into (created; must be empty or absent)
    #[arg(long, short = 'o', value_name = "DIR")]
    pub output_dir: PathBuf,
    /// Number of run folders of unified results (--shape harness: paired
    /// run folders, each with one or two backends)
    #[arg(long, default_value_t = 6)]
    pub runs: usize,
    /// Records per unified_results.jsonl
    #[arg(long, default_value_t = 20)]
    pub records: usize,
    /// Seed of the generator (same seed, same bytes)
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// What kind of tree: every layout in small doses, or the upstream
    /// harness's output over months
    #[arg(long, value_enum, default_value_t = Shape::Mixed, conflicts_with = "paper")]
    pub shape: Shape,
    /// Do not inject the fault catalogue
    #[arg(long)]
    pub no_faults: bool,
    /// Inject the fault catalogue under faulty/ (the default of --shape
    /// mixed; --shape harness writes none without it)
    #[arg(long, conflicts_with = "no_faults")]
    pub faults: bool,
    /// Do not write legacy exp1–exp4 folders
    #[arg(long)]
    pub no_legacy: bool,
    /// Do not write unified_results.csv twins
    #[arg(long)]
    pub no_twins: bool,
    /// Write only the paper experiments exp1–exp4 (unified records with all
    /// table dimensions, --repeats runs per configuration) for `tables`
    #[arg(long)]
    pub paper: bool,
    /// Runs per configuration with --paper (1–1000)
    #[arg(long, default_value_t = 3, requires = "paper", value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1000))]
    pub repeats: usize,
    /// Write only N distinct workloads (Q1-nodes4-par8-fifo, …), each run
    /// 2–4 times on sage and on ray in the single-backend layout: a report
    /// with N groups per side
    #[arg(long, value_name = "N", conflicts_with_all = ["paper", "shape"], value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=10_000_000))]
    pub workloads: Option<usize>,
}

pub fn run(args: &SynthArgs, global: &GlobalArgs) -> anyhow::Result<u8> {
    crate::util::output::require_new_dir(&args.output_dir, "synth never overwrites results")?;
    if args.paper {
        let n = crate::synth::paper::write_paper_tree(&args.output_dir, args.seed, args.repeats.max(1))?;
        if !global.quiet {
            outln!(
                "wrote {} ({n} records of exp1–exp4, {} runs per configuration)",
                args.output_dir.display(),
                args.repeats.max(1)
            );
        }
        return Ok(super::EXIT_OK);
    }
    if let Some(n) = args.workloads {
        let m = crate::synth::generate_wide(
            &crate::synth::WideSpec {
                workloads: n,
                seed: args.seed,
            },
            &args.output_dir,
        )?;
        if global.json {
            print_json(&serde_json::json!({
                "output_dir": args.output_dir.display().to_string(),
                "bytes_written": m.bytes_written,
                "workloads": n,
                "expected": {"read": m.expected_read, "accepted": m.expected_accepted},
            }))?;
        } else if !global.quiet {
            outln!(
                "wrote {} ({:.1} MB): {n} workloads on sage and ray, {} records",
                args.output_dir.display(),
                m.bytes_written as f64 / 1e6,
                m.expected_read
            );
        }
        return Ok(EXIT_OK);
    }
    let spec = TreeSpec {
        runs: args.runs,
        records_per_run: args.records,
        seed: args.seed,
        faults: match args.shape {
            Shape::Mixed => !args.no_faults,
            Shape::Harness => args.faults,
        },
        legacy: !args.no_legacy,
        twins: !args.no_twins,
        shape: args.shape,
    };
    let manifest = generate(&spec, &args.output_dir)?;
    if global.json {
        let problems: Vec<_> = manifest
            .problems
            .iter()
            .map(|p| serde_json::json!({"path": p.path, "line": p.line, "kind": p.kind, "severity": p.severity}))
            .collect();
        let notices: Vec<_> = manifest
            .notices
            .iter()
            .map(|p| serde_json::json!({"path": p.path, "line": p.line, "kind": p.kind, "severity": p.severity}))
            .collect();
        print_json(&serde_json::json!({
            "output_dir": args.output_dir.display().to_string(),
            "shape": args.shape.name(),
            "bytes_written": manifest.bytes_written,
            "files_written": manifest.files_written,
            "expected": {
                "read": manifest.expected_read,
                "accepted": manifest.expected_accepted,
                "rejected": manifest.expected_rejected,
                "twins_merged": manifest.expected_twins_merged,
                "duplicates": manifest.expected_duplicates,
            },
            "injected_problems": problems,
            "notices": notices,
            "skipped_files": manifest.skipped_files,
        }))?;
    } else if !global.quiet {
        outln!(
            "wrote {} ({:.1} MB): {} records ({} accepted, {} rejected), {} twins, {} duplicates, {} injected problems",
            args.output_dir.display(),
            manifest.bytes_written as f64 / 1e6,
            manifest.expected_read,
            manifest.expected_accepted,
            manifest.expected_rejected,
            manifest.expected_twins_merged,
            manifest.expected_duplicates,
            manifest.problems.len()
        );
    }
    Ok(EXIT_OK)
}
