//! `sagereport tables PATH...`: the paper's Tables 1–6 (and figures) from
//! data; `--check paper.tex` compares a hand-written table with them.

use super::{GlobalArgs, EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, print_json};
use crate::analysis::check::check;
use crate::analysis::tables::{build_tables, PaperTable};
use crate::ingest::{ingest, IngestOptions, IngestReport};
use crate::render::latex::{standalone_tex, table_tex, TablesContext};
use crate::render::markdown::tables_markdown;
use crate::render::write_atomically;
use clap::{Args, ValueEnum};
use std::path::PathBuf;

pub const EXAMPLES: &str = "Examples:
  sagereport tables results/ --output-dir paper/tables
  sagereport tables exp1_single_vs_multi/ exp2_high_load_parallel/ --ci none
  sagereport tables --check paper/experiments.tex results/

Writes table1_node_scaling.tex … table6_parallel_jobs.tex (booktabs, \\input-able),
tables.tex (standalone; pdflatex tables.tex), tables.md (preview) and the figures
(PNG + SVG) into --output-dir, replaced atomically. With --check, nothing is
written: every number of the paper's tables is compared with the data.
Exit codes: 0 ok (with --check: every compared cell agrees); 1 --check found a
differing cell; 2 usage or input error.";

/// How cells print.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CiMode {
    /// mean ± half-width of the confidence interval
    Interval,
    /// plain means
    None,
}

#[derive(Args, Debug)]
pub struct TablesArgs {
    /// Result files or directories (searched recursively)
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Where the tables are written (replaced atomically)
    #[arg(long, short = 'o', value_name = "DIR", default_value = "artifacts/tables")]
    pub output_dir: PathBuf,
    /// Cells as mean ± CI half-width, or plain means
    #[arg(long, value_enum, default_value_t = CiMode::Interval)]
    pub ci: CiMode,
    /// Confidence level of the intervals
    #[arg(long, default_value_t = 0.95, value_parser = super::compare::parse_confidence)]
    pub confidence: f64,
    /// Compare the tables of this hand-written LaTeX file with the data instead of writing
    #[arg(long, value_name = "PAPER.tex")]
    pub check: Option<PathBuf>,
}

/// Ingest and build the tables; `None` (after printing why) on input error.
pub fn load(paths: &[PathBuf], global: &GlobalArgs, confidence: f64) -> Option<(IngestReport, Vec<PaperTable>)> {
    if paths.is_empty() {
        eprintln!("sagereport: error: no input: give result files or directories (see --help)");
        return None;
    }
    match ingest(paths, &IngestOptions { progress: global.text() }) {
        Ok(report) => {
            let tables = build_tables(&report, confidence);
            Some((report, tables))
        }
        Err(e) => {
            eprintln!("sagereport: error: {e}");
            None
        }
    }
}

fn command_line(args: &TablesArgs) -> String {
    let mut c = String::from("sagereport tables");
    for p in &args.paths {
        c.push_str(&format!(" {}", p.display()));
    }
    c.push_str(&format!(" --output-dir {}", args.output_dir.display()));
    if args.ci == CiMode::None {
        c.push_str(" --ci none");
    }
    if args.confidence != 0.95 {
        c.push_str(&format!(" --confidence {}", args.confidence));
    }
    c
}

pub fn run(args: &TablesArgs, global: &GlobalArgs) -> anyhow::Result<u8> {
    let Some((report, tables)) = load(&args.paths, global, args.confidence) else { return Ok(EXIT_USAGE) };
    if let Some(paper) = &args.check {
        return run_check(paper, &tables, global);
    }
    let inputs: Vec<String> = args.paths.iter().map(|p| p.display().to_string()).collect();
    let ctx = TablesContext {
        tables: &tables,
        inputs: &inputs,
        version: env!("CARGO_PKG_VERSION"),
        command: command_line(args),
        ci: args.ci == CiMode::Interval,
        confidence: args.confidence,
    };
    let files = write_atomically(&args.output_dir, |dir| {
        let mut files = Vec::new();
        for t in &tables {
            let name = format!("{}.tex", t.stem);
            std::fs::write(dir.join(&name), table_tex(t, &ctx))?;
            files.push(name);
        }
        std::fs::write(dir.join("tables.tex"), standalone_tex(&ctx))?;
        std::fs::write(dir.join("tables.md"), tables_markdown(&ctx))?;
        files.extend(["tables.tex".to_string(), "tables.md".to_string()]);
        files.extend(crate::render::paper_figures::write_figures(&tables, args.confidence, dir)?);
        Ok(files)
    })?;
    if global.json {
        print_json(&serde_json::json!({
            "schema_version": 1,
            "output_dir": args.output_dir.display().to_string(),
            "files": files,
            "records": report.totals,
            "tables": tables,
        }))?;
    } else if !global.quiet {
        for t in &tables {
            let filled: usize = t.parts.iter().flat_map(|p| &p.rows).flat_map(|r| &r.cells).filter(|c| c.value.is_some()).count();
            let total: usize = t.parts.iter().flat_map(|p| &p.rows).map(|r| r.cells.len()).sum();
            println!(
                "Table {} {:<22} {:>6} records, {:>3}/{} cells with data",
                t.number, t.title, t.records, filled, total
            );
        }
        println!("wrote {} ({} files)", args.output_dir.display(), files.len());
    }
    Ok(EXIT_OK)
}

fn run_check(paper: &std::path::Path, tables: &[PaperTable], global: &GlobalArgs) -> anyhow::Result<u8> {
    let text = match std::fs::read(paper) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) => {
            eprintln!("sagereport: error: {}: cannot read the paper ({e}); give the .tex file holding its tables", paper.display());
            return Ok(EXIT_USAGE);
        }
    };
    let report = check(&text, tables);
    let p = paper.display();
    if global.json {
        print_json(&serde_json::json!({"schema_version": 1, "paper": p.to_string(), "check": report}))?;
    } else {
        for d in &report.differences {
            let computed = match (d.computed, d.ci_low, d.ci_high) {
                (Some(v), Some(lo), Some(hi)) => format!("{v:.4} [{lo:.4}, {hi:.4}] (n={})", d.n),
                (Some(v), _, _) => format!("{v:.4} (n={}, no interval)", d.n),
                (None, _, _) => "no data".into(),
            };
            println!(
                "{p}:{}: Table {} ({}){}, row {:?}, column {:?}: paper {} vs data {}; files: {}",
                d.line,
                d.table,
                d.label,
                if d.commented { " [commented out]" } else { "" },
                d.row,
                d.column,
                d.paper,
                computed,
                if d.files.is_empty() { "none".to_string() } else { d.files.join(", ") }
            );
        }
        if !global.quiet {
            for t in &report.tables {
                let name = t.caption.as_deref().or(t.label.as_deref()).unwrap_or("(no caption)");
                match t.table {
                    Some(n) => eprintln!(
                        "{p}:{}: {}table {:?} ↔ Table {n}: {} cell(s) compared, {} differ",
                        t.line,
                        if t.commented { "commented-out " } else { "" },
                        name,
                        t.cells_compared,
                        t.cells_differing
                    ),
                    None => eprintln!("{p}:{}: table {:?} matches none of Tables 1–6; not checked", t.line, name),
                }
            }
            eprintln!(
                "{} cell(s) compared, {} differ from the data",
                report.cells_compared(),
                report.differences.len()
            );
        }
    }
    if report.cells_compared() == 0 {
        eprintln!("sagereport: error: {p}: no number of the paper's tables could be matched to Tables 1–6 (check captions, labels, row and column names)");
        return Ok(EXIT_FINDINGS);
    }
    Ok(if report.differences.is_empty() { EXIT_OK } else { EXIT_FINDINGS })
}
