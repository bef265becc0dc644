//! `sagereport demo`: the quick suite on both embedded models, then
//! compare, tables, site and PDF into one folder.

use super::run::run_all;
use super::{print_json, GlobalArgs, EXIT_OK, EXIT_USAGE};
use crate::runner::workloads::EXPERIMENTS;
use crate::runner::{Backend, RunFlags};
use crate::util::output::{check_dir, check_file, FileKind};
use clap::Args;
use std::path::PathBuf;

pub const DEMO_EXAMPLES: &str = "Examples:
  sagereport demo                       # into demo/
  sagereport demo --output-dir /tmp/demo

Runs the quick suite (Q1–Q8, exp1–exp4) on both embedded models, then
compare (both models), tables (Tables 1–6 of the local-dataflow runs), site
and PDF, all into one folder; prints where index.html and summary.md are.
Under a minute on 2 cores.";

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// The folder everything goes into (results/, comparison/, tables/, site/, report.pdf)
    #[arg(long, short = 'o', value_name = "DIR", default_value = "demo")]
    pub output_dir: PathBuf,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Runs per configuration (3 gives intervals and verdicts; 1–1000)
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub repeat: u32,
}

/// One command the demo runs after the suite.
enum Step {
    Compare(super::compare::CompareArgs),
    Tables(super::tables::TablesArgs),
    Site(super::site::SiteArgs),
    Pdf(super::pdf::PdfArgs),
}

pub fn demo(args: &DemoArgs, global: &GlobalArgs) -> anyhow::Result<u8> {
    let out = &args.output_dir;
    let results = out.join("results");
    let flags = RunFlags {
        quick: true,
        seed: args.seed,
        repeat: args.repeat,
        run_id: Some(crate::runner::provenance::new_run_id()),
        ..RunFlags::default()
    };
    let experiments: Vec<String> = EXPERIMENTS.iter().map(|s| s.to_string()).collect();
    let started = std::time::Instant::now();
    // Every output is checked before any work; results/ keeps files that are
    // not the runner's (each experiment's folder is replaced on its own).
    for e in &experiments {
        for b in [Backend::LocalDataflow, Backend::LocalTasks] {
            check_dir(&results.join(e).join(b.label()), &[])?;
        }
    }
    for dir in ["comparison", "tables", "site"] {
        check_dir(&out.join(dir), std::slice::from_ref(&results))?;
    }
    check_file(&out.join("report.pdf"), FileKind::Pdf, std::slice::from_ref(&results))?;
    let quiet = GlobalArgs {
        quiet: true,
        json: false,
        verbose: false,
        ..global.clone()
    };
    if global.text() {
        eprintln!("sagereport demo: running the quick suite on local-dataflow and local-tasks …");
    }
    let (ok, _) = run_all(
        &experiments,
        &flags,
        &[Backend::LocalDataflow, Backend::LocalTasks],
        &results,
        &quiet,
    )?;
    // Each step as its command line says it (for the progress lines), run
    // by calling the command with its arguments built here.
    let baseline = || super::compare::SideArgs {
        baseline: Some(Backend::LocalDataflow.label().to_string()),
        baseline_is_preference: true,
        ..Default::default()
    };
    let r = results.display().to_string();
    // The paper's tables describe one system: the dataflow model's runs.
    let tables: Vec<PathBuf> = ["exp1", "exp2", "exp3", "exp4"]
        .iter()
        .map(|e| results.join(e).join(Backend::LocalDataflow.label()))
        .collect();
    let steps: Vec<(String, Step)> = vec![
        (
            format!(
                "compare {r} --baseline local-dataflow --output-dir {}",
                out.join("comparison").display()
            ),
            Step::Compare(super::compare::CompareArgs {
                paths: vec![results.clone()],
                output_dir: out.join("comparison"),
                sides: baseline(),
                ..Default::default()
            }),
        ),
        (
            format!(
                "tables {} --output-dir {}",
                tables
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(" "),
                out.join("tables").display()
            ),
            Step::Tables(super::tables::TablesArgs {
                paths: tables.clone(),
                output_dir: out.join("tables"),
                ..Default::default()
            }),
        ),
        (
            format!(
                "site --report demo={r} --baseline local-dataflow --output-dir {}",
                out.join("site").display()
            ),
            Step::Site(super::site::SiteArgs {
                report: vec![format!("demo={r}")],
                output_dir: out.join("site"),
                sides: baseline(),
                ..Default::default()
            }),
        ),
        (
            format!(
                "pdf {r} --baseline local-dataflow --output {}",
                out.join("report.pdf").display()
            ),
            Step::Pdf(super::pdf::PdfArgs {
                paths: vec![results.clone()],
                output: out.join("report.pdf"),
                sides: baseline(),
            }),
        ),
    ];
    for (line, step) in &steps {
        if global.text() {
            eprintln!("sagereport demo: sagereport {line}");
        }
        let code = match step {
            Step::Compare(a) => super::compare::run(a, &quiet)?,
            Step::Tables(a) => super::tables::run(a, &quiet)?,
            Step::Site(a) => super::site::run(a, &quiet)?,
            Step::Pdf(a) => super::pdf::run(a, &quiet)?,
        };
        if code == EXIT_USAGE {
            anyhow::bail!("demo step `sagereport {line}` failed");
        }
    }
    if global.json {
        print_json(&serde_json::json!({
            "schema_version": 1,
            "seconds": started.elapsed().as_secs_f64(),
            "site": out.join("site/index.html").display().to_string(),
            "summary": out.join("comparison/summary.md").display().to_string(),
            "tables": out.join("tables/tables.md").display().to_string(),
            "pdf": out.join("report.pdf").display().to_string(),
            "results": results.display().to_string(),
            "complete": ok,
        }))?;
    } else if !global.quiet {
        outln!(
            "demo done in {:.1} s (fresh data from the embedded engine, both execution models):",
            started.elapsed().as_secs_f64()
        );
        outln!("  site      {}", out.join("site/index.html").display());
        outln!("  summary   {}", out.join("comparison/summary.md").display());
        outln!("  tables    {}", out.join("tables/tables.md").display());
        outln!("  pdf       {}", out.join("report.pdf").display());
        outln!("  results   {}", results.display());
    }
    Ok(if ok { EXIT_OK } else { super::EXIT_FINDINGS })
}
