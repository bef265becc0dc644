//! `sagereport site PATH... -o public/`: the static results site, with a
//! history of past runs when `--history DIR` is given.

use super::compare::SideArgs;
use super::{print_json, GlobalArgs, EXIT_OK, EXIT_USAGE};
use crate::analysis::history::{self, HistoryEntry, RunInfo};
use crate::analysis::tables::build_tables;
use crate::ingest::IngestOptions;
use crate::pipeline::{CompareJob, Outcome, Outputs};
use crate::render::site::{write_site, Site, SiteReport};
use crate::util::output::{claim_dir, resolve};
use clap::Args;
use std::path::PathBuf;

pub const EXAMPLES: &str = "Examples:
  sagereport site results/ --output-dir public/
  sagereport site --report nightly=results/ --history history/ --label main --commit $GITHUB_SHA -o public/
  sagereport site --report 'main vs pr'=main-results/ --report 'main vs pr'=pr-results/ --by input -o public/

Each PATH is one report (named after its folder); --report NAME=PATH names a
report, and repeating a NAME puts several inputs into one report. Open
public/index.html directly (file://) or publish the folder (GitHub Pages).
With --history DIR, this run's summaries are added to DIR (one small JSON file
per report; never rewritten) and the workload pages show every stored run as
trend charts with change points (E-divisive means with a permutation test;
only steps of at least --min-change, default 5%, are shown). Label, commit and time default to
$GITHUB_REF_NAME, $GITHUB_SHA and $SOURCE_DATE_EPOCH (else now).
Exit codes: 0 ok; 2 usage or input error.";

#[derive(Args, Debug)]
pub struct SiteArgs {
    /// Result files or directories; each becomes one report named after it
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// A named report: NAME=PATH (repeatable; the same NAME joins inputs into one report)
    #[arg(long, value_name = "NAME=PATH")]
    pub report: Vec<String>,
    /// Where the site is written (replaced atomically)
    #[arg(long, short = 'o', value_name = "DIR", default_value = "public")]
    pub output_dir: PathBuf,
    /// Title of the site
    #[arg(long, default_value = "Benchmark results")]
    pub title: String,
    #[command(flatten)]
    pub sides: SideArgs,
    /// History store: read past runs from DIR and add this run to it
    #[arg(long, value_name = "DIR")]
    pub history: Option<PathBuf>,
    /// This run's label in the history [default: $GITHUB_REF_NAME, else local]
    #[arg(long, value_name = "NAME", value_parser = non_empty_label)]
    pub label: Option<String>,
    /// This run's commit [default: $GITHUB_SHA]
    #[arg(long, value_name = "SHA")]
    pub commit: Option<String>,
    /// This run's time, RFC 3339 [default: $SOURCE_DATE_EPOCH, else now]
    #[arg(long, value_name = "TIME")]
    pub time: Option<String>,
    /// Skip the per-report PDF (faster)
    #[arg(long)]
    pub no_pdf: bool,
    /// Smallest step of a series' mean shown as a change point, e.g. 5% or 0.05
    #[arg(long, value_name = "PCT", default_value = "5%", value_parser = super::compare::parse_percent)]
    pub min_change: f64,
}

impl Default for SiteArgs {
    /// The flags' defaults (as clap fills them), no input.
    fn default() -> Self {
        SiteArgs {
            paths: Vec::new(),
            report: Vec::new(),
            output_dir: PathBuf::from("public"),
            title: "Benchmark results".to_string(),
            sides: SideArgs::default(),
            history: None,
            label: None,
            commit: None,
            time: None,
            no_pdf: false,
            min_change: 0.05,
        }
    }
}

/// `--label`: a history entry needs a name to be told apart by.
fn non_empty_label(label: &str) -> Result<String, String> {
    if label.trim().is_empty() {
        return Err("the label is empty; name this run (e.g. --label main), or leave --label out".into());
    }
    Ok(label.to_string())
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| default.to_string())
}

/// The reports asked for: (name, inputs), in order of first mention.
fn report_inputs(args: &SiteArgs) -> Result<Vec<(String, Vec<PathBuf>)>, String> {
    let mut reports: Vec<(String, Vec<PathBuf>)> = Vec::new();
    for p in &args.paths {
        // Named after the folder; a second folder of the same name stays a separate report.
        let name = p
            .canonicalize()
            .ok()
            .and_then(|c| c.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| p.display().to_string());
        let mut unique = name.clone();
        let mut i = 2;
        while reports.iter().any(|(n, _)| *n == unique) {
            unique = format!("{name} ({i})");
            i += 1;
        }
        reports.push((unique, vec![p.clone()]));
    }
    for r in &args.report {
        let Some((name, path)) = r.split_once('=') else {
            return Err(format!(
                "--report {r:?}: expected NAME=PATH, e.g. --report nightly=results/"
            ));
        };
        let name = name.trim();
        if name.is_empty() {
            return Err(format!("--report {r:?}: the report name is empty"));
        }
        if path.is_empty() {
            return Err(format!(
                "--report {r:?}: the path is empty; give the result folder after the `=`, e.g. --report {name}=results/"
            ));
        }
        match reports.iter_mut().find(|(n, _)| n == name) {
            Some((_, paths)) => paths.push(PathBuf::from(path)),
            None => reports.push((name.to_string(), vec![PathBuf::from(path)])),
        }
    }
    Ok(reports)
}

pub fn run(args: &SiteArgs, global: &GlobalArgs) -> anyhow::Result<u8> {
    let inputs = match report_inputs(args) {
        Ok(r) if !r.is_empty() => r,
        Ok(_) => {
            eprintln!("sagereport: error: no input: give result directories or --report NAME=PATH (see sagereport site --help)");
            return Ok(EXIT_USAGE);
        }
        Err(e) => {
            eprintln!("sagereport: error: {e}");
            return Ok(EXIT_USAGE);
        }
    };
    let time = match history::run_time(args.time.as_deref()) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("sagereport: error: {e:#}");
            return Ok(EXIT_USAGE);
        }
    };
    // The output is checked (and locked) before any work: a refused output is exit 2.
    let all_paths: Vec<PathBuf> = inputs.iter().flat_map(|(_, p)| p.iter().cloned()).collect();
    let history_place = match &args.history {
        Some(dir) => Some(history_place(dir, &args.output_dir, &all_paths)?),
        None => None,
    };
    let out = claim_dir(&args.output_dir, "site", &all_paths)?;
    let run = RunInfo {
        label: args.label.clone().unwrap_or_else(|| env_or("GITHUB_REF_NAME", "local")),
        commit: args.commit.clone().unwrap_or_else(|| env_or("GITHUB_SHA", "")),
        time: time.clone(),
    };

    // Compare every report first (the contexts borrow the outcomes).
    let mut compared: Vec<(String, CompareJob, Outcome)> = Vec::new();
    for (name, paths) in inputs {
        let job = args.sides.job(paths);
        let run = crate::pipeline::run(&job, &IngestOptions::from(global), Outputs::None);
        let Some(outcome) = super::compared(run, &format!("report {name:?}: "))? else {
            return Ok(EXIT_USAGE);
        };
        if global.verbose {
            eprintln!(
                "report {name:?}: ingest {:.2} s, analysis {:.2} s",
                outcome.timings.ingest.as_secs_f64(),
                outcome.timings.analysis.as_secs_f64()
            );
        }
        if outcome.ingest.totals.accepted == 0 && !global.quiet {
            eprintln!("sagereport: warning: report {name:?}: no record could be accepted from {} (its page lists the rejected lines)", join(&job.paths));
        }
        compared.push((name, job, outcome));
    }
    let mut reports = Vec::new();
    for (
        name,
        job,
        Outcome {
            ingest: report,
            comparison,
            ..
        },
    ) in &compared
    {
        let entry =
            HistoryEntry::from_comparison(name, &run, comparison, report.totals.accepted, report.totals.rejected);
        reports.push(SiteReport {
            name: name.clone(),
            ctx: job.context(report, comparison),
            tables: build_tables(report, args.sides.confidence, args.sides.include_failed),
            entry,
        });
    }

    // History: past runs, then this run (replacing a stored entry of the same report, label and commit).
    let mut entries: Vec<HistoryEntry> = Vec::new();
    let mut problems = Vec::new();
    let mut pending: Vec<HistoryEntry> = Vec::new();
    let mut stored: Vec<HistoryEntry> = Vec::new();
    if let Some(dir) = &args.history {
        let loaded = match history::load(dir) {
            Ok(l) => l,
            Err(e) => {
                eprintln!("sagereport: error: --history {}: {e:#}", dir.display());
                return Ok(EXIT_USAGE);
            }
        };
        for p in &loaded.problems {
            eprintln!("sagereport: warning: {p}");
        }
        problems = loaded.problems.clone();
        for r in &reports {
            if loaded.entries.iter().any(|e| e.same_run(&r.entry)) {
                if !global.quiet {
                    eprintln!(
                        "sagereport: note: the history already holds report {:?} for label {:?} at commit {:?}; not added again (the site shows this run's numbers)",
                        r.entry.report, r.entry.label, r.entry.commit
                    );
                }
            } else {
                pending.push(r.entry.clone());
            }
        }
        entries = loaded
            .entries
            .iter()
            .filter(|e| {
                !reports.iter().any(|r| {
                    e.report == r.entry.report
                        && e.label == r.entry.label
                        && e.commit == r.entry.commit
                        && !e.commit.is_empty()
                })
            })
            .cloned()
            .collect();
        stored = loaded.entries;
    }
    entries.extend(reports.iter().map(|r| r.entry.clone()));
    entries.sort_by(|a, b| (&a.time, &a.report, &a.label, &a.commit).cmp(&(&b.time, &b.report, &b.label, &b.commit)));

    let site = Site {
        title: args.title.clone(),
        time,
        reports,
        history: entries,
        history_problems: problems,
        pdf: !args.no_pdf,
        confidence: args.sides.confidence,
        min_change: args.min_change,
        verbose: global.verbose,
    };
    // A history outside the output is appended to in place; one inside it is
    // copied into the new output and appended there, so the replacement
    // keeps it and a crash leaves the previous history whole.
    let mut appended: Vec<PathBuf> = Vec::new();
    if let (Some(HistoryPlace::Outside(dir)), false) = (&history_place, pending.is_empty()) {
        for entry in &pending {
            appended.extend(history::append(dir, &stored, entry)?);
        }
    }
    let files = out.replace(|tmp| {
        if let Some(HistoryPlace::Inside { live, rel }) = &history_place {
            let copy = tmp.join(rel);
            copy_tree(live, &copy)?;
            for entry in &pending {
                if let Some(path) = history::append(&copy, &stored, entry)? {
                    let below = path.strip_prefix(tmp).unwrap_or(&path).to_path_buf();
                    appended.push(args.output_dir.join(below));
                }
            }
        }
        write_site(&site, tmp)
    })?;
    let index = args.output_dir.join("index.html");
    if global.json {
        print_json(&serde_json::json!({
            "schema_version": 1,
            "output_dir": args.output_dir.display().to_string(),
            "index": index.display().to_string(),
            "reports": site.reports.iter().map(|r| serde_json::json!({"name": r.name, "records": r.ctx.ingest.totals, "mismatches": r.ctx.comparison.mismatches.len()})).collect::<Vec<_>>(),
            "history_entries": site.history.len(),
            "history_appended": appended.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
            "files": files,
        }))?;
    } else if !global.quiet {
        for r in &site.reports {
            outln!(
                "report {:?}: {} records accepted, {} rejected, {} mismatch(es), {} comparison(s)",
                r.name,
                r.ctx.ingest.totals.accepted,
                r.ctx.ingest.totals.rejected,
                r.ctx.comparison.mismatches.len(),
                r.ctx.comparison.comparisons.len()
            );
        }
        if let Some(dir) = &args.history {
            outln!(
                "history {}: {} run(s) shown, {} entry(ies) added",
                dir.display(),
                site.history.len(),
                appended.len()
            );
        }
        outln!(
            "wrote {} ({} files); open {}",
            args.output_dir.display(),
            files.len(),
            index.display()
        );
    }
    Ok(EXIT_OK)
}

/// Where `--history` lives relative to the site's output folder.
enum HistoryPlace {
    /// Beside the output: appended in place.
    Outside(PathBuf),
    /// Inside the output (`live` now, `rel` below the output): carried over.
    Inside { live: PathBuf, rel: PathBuf },
}

/// The history store is written to (`entries/`), so it may be neither an
/// input, nor inside one, nor hold one (the next run would read the
/// entries as results), nor a folder of other (not hidden) files that
/// holds no `entries/` (a typo such as `--history .` or `--history /`).
fn history_place(dir: &std::path::Path, out: &std::path::Path, inputs: &[PathBuf]) -> anyhow::Result<HistoryPlace> {
    let real = resolve(dir).map_err(|e| anyhow::anyhow!("--history {}: {e}", dir.display()))?;
    for input in inputs {
        let Ok(input_real) = resolve(input) else { continue };
        if input_real.starts_with(&real) || real.starts_with(&input_real) {
            anyhow::bail!(
                "--history {}: it is an input of this site, inside one or holding one ({}); keep the history apart from the results (e.g. --history history)",
                dir.display(),
                input.display()
            );
        }
    }
    if real.is_dir() && !real.join("entries").is_dir() {
        let mut others: Vec<String> = std::fs::read_dir(&real)
            .map_err(|e| anyhow::anyhow!("--history {}: cannot list it: {e}", dir.display()))?
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            // A fresh git worktree for the history branch holds `.git`.
            .filter(|name| !name.starts_with('.'))
            .collect();
        if !others.is_empty() {
            others.sort();
            let more = if others.len() > 5 { ", …" } else { "" };
            others.truncate(5);
            anyhow::bail!(
                "--history {}: it holds other files ({}{more}) and no entries/ folder, so it is not a sagereport history; name a new folder or an existing history",
                dir.display(),
                others.join(", ")
            );
        }
    } else if real.exists() && !real.is_dir() {
        anyhow::bail!(
            "--history {}: it is a file, not a folder; name a new folder or an existing history",
            dir.display()
        );
    }
    let out_real = resolve(out).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", out.display()))?;
    if real == out_real || out_real.starts_with(&real) {
        anyhow::bail!(
            "cannot write {}: it is the history folder (--history {}) or inside it; keep the site and the history apart (e.g. --history history -o public)",
            out.display(),
            dir.display()
        );
    }
    match real.strip_prefix(&out_real) {
        Ok(rel) => Ok(HistoryPlace::Inside {
            live: real.clone(),
            rel: rel.to_path_buf(),
        }),
        Err(_) => Ok(HistoryPlace::Outside(dir.to_path_buf())),
    }
}

/// Copy the regular files and folders of `from` (if it exists) to `to`.
fn copy_tree(from: &std::path::Path, to: &std::path::Path) -> anyhow::Result<()> {
    use anyhow::Context;
    if !from.exists() {
        return Ok(());
    }
    for item in walkdir::WalkDir::new(from).sort_by_file_name() {
        let item = item.with_context(|| format!("--history {}: cannot read", from.display()))?;
        let dest = to.join(item.path().strip_prefix(from).unwrap_or(item.path()));
        if item.file_type().is_dir() {
            std::fs::create_dir_all(&dest).with_context(|| format!("cannot create {}", dest.display()))?;
        } else if item.file_type().is_file() {
            std::fs::copy(item.path(), &dest)
                .with_context(|| format!("cannot copy {} to {}", item.path().display(), dest.display()))?;
        }
    }
    Ok(())
}

fn join(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(" ")
}
