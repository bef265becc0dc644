//! `sagereport paired`: both sides of one configuration into the upstream
//! paired layout, then `compare` over them.

use super::run::{print_plan, run_into, RunnerArgs};
use super::{GlobalArgs, EXIT_OK, EXIT_USAGE};
use crate::runner::{config_hash, Backend};
use crate::util::output::{check_dir, claim_dir};
use clap::Args;
use std::path::PathBuf;

pub const PAIRED_EXAMPLES: &str = "Examples:
  sagereport paired --backends local-dataflow,local-tasks --experiment Q1 --quick
  sagereport paired --backends local-dataflow,local-tasks -e exp2 --repeat 3 -o runs/

Runs both sides on the same config into
OUT/paired_backend_runs/run_id=<id>/config_hash=<hash>/backends/<backend>/<experiment>/
(<id>: --run-id, or UTC time + a random suffix, new every time)
with manifest.json per side (failure_report.json when a side fails), then
writes the compare bundle to OUT/comparison/ (or --report-dir).
Exit codes: 0 ok; 1 a side failed, lost tasks, or the sides mismatch; 2 usage error.";

#[derive(Args, Debug)]
pub struct PairedArgs {
    #[command(flatten)]
    pub runner: RunnerArgs,
    /// The two sides, e.g. local-dataflow,local-tasks (the first is the baseline)
    #[arg(long, value_enum, value_delimiter = ',', num_args = 1.., required = true)]
    pub backends: Vec<Backend>,
    /// Where the compare bundle goes [default: OUTPUT_DIR/comparison]
    #[arg(long, value_name = "DIR")]
    pub report_dir: Option<PathBuf>,
}

pub fn paired(args: &PairedArgs, global: &GlobalArgs) -> anyhow::Result<u8> {
    let experiments = match args.runner.check_run_id().and_then(|_| args.runner.experiments()) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("sagereport: error: {e}");
            return Ok(EXIT_USAGE);
        }
    };
    if args.backends.len() != 2 || args.backends[0] == args.backends[1] {
        eprintln!(
            "sagereport: error: --backends takes two different backends, e.g. --backends local-dataflow,local-tasks"
        );
        return Ok(EXIT_USAGE);
    }
    if let Err(e) = args.runner.check() {
        eprintln!("sagereport: error: {e}");
        return Ok(EXIT_USAGE);
    }
    let flags = args.runner.flags();
    let joined = experiments.join("+");
    let hash = config_hash(&joined, &flags);
    // Both sides share the invocation's run id (records pair up by it).
    let run_id = flags.run_id.clone().expect("flags() sets one");
    if args.runner.dry_run {
        if !global.json {
            outln!("run_id {run_id}, config hash {hash}");
        }
        print_plan(&experiments, &flags, &args.backends, global.json)?;
        return Ok(EXIT_OK);
    }
    let root = args
        .runner
        .output_dir
        .join("paired_backend_runs")
        .join(format!("run_id={run_id}"))
        .join(format!("config_hash={}", &hash[..16]));
    let report_dir = args
        .report_dir
        .clone()
        .unwrap_or_else(|| args.runner.output_dir.join("comparison"));
    // Every folder this command writes is checked before any work: an
    // occupied one is refused (exit 2); everything else under -o is kept.
    for backend in &args.backends {
        let side = root.join("backends").join(backend.label());
        check_dir(&side, &[])?;
        for e in &experiments {
            check_dir(&side.join(e), &[])?;
        }
    }
    check_dir(&report_dir, std::slice::from_ref(&root))?;
    crate::runner::sage::preflight(&args.backends, &flags)?;
    let mut ok = true;
    for backend in &args.backends {
        let side = root.join("backends").join(backend.label());
        let side_claim = claim_dir(&side, "paired", &[])?;
        side_claim.create_in_place()?;
        let started = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let result = run_into(&experiments, &flags, &[*backend], &|e, _| side.join(e), global).map(|(ok, _)| ok);
        let mut config =
            serde_json::json!({"seed": flags.seed, "nodes": flags.nodes, "parallelism": flags.parallelism});
        if let Some(s) = flags.scheduler {
            config["scheduler"] = serde_json::json!(s.label());
        }
        if let Some(n) = flags.num_tasks {
            config["items"] = serde_json::json!(n);
        }
        let mut doc = serde_json::json!({
            "run_id": run_id, "config_hash": hash, "backend": backend.label(), "config": config,
            "experiments": experiments, "started_at": started, "paths": {"results": side.display().to_string()},
        });
        let file = match &result {
            Ok(true) => {
                doc["status"] = serde_json::json!("success");
                "manifest.json"
            }
            Ok(false) => {
                doc["status"] = serde_json::json!("incomplete");
                ok = false;
                "manifest.json"
            }
            Err(e) => {
                doc["status"] = serde_json::json!("failed");
                doc["error"] = serde_json::json!(format!("{e:#}"));
                ok = false;
                eprintln!("sagereport: error: side {}: {e:#}", backend.label());
                "failure_report.json"
            }
        };
        // A side has one status file: drop the other one left by an earlier run.
        let other = if file == "manifest.json" {
            "failure_report.json"
        } else {
            "manifest.json"
        };
        let _ = std::fs::remove_file(side.join(other));
        std::fs::write(side.join(file), serde_json::to_string_pretty(&doc)? + "\n")
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", side.join(file).display()))?;
        side_claim.seal()?;
    }
    let compare_args = super::compare::CompareArgs {
        paths: vec![root],
        output_dir: report_dir,
        sides: super::compare::SideArgs {
            baseline: Some(args.backends[0].label().to_string()),
            baseline_is_preference: true,
            ..Default::default()
        },
        fail_on: vec![super::compare::Gate::Mismatch],
        ..Default::default()
    };
    let code = super::compare::run(&compare_args, global)?;
    Ok(if !ok || code != EXIT_OK {
        super::EXIT_FINDINGS.max(code)
    } else {
        EXIT_OK
    })
}
