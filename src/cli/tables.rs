//! `sagereport tables PATH...`: the paper's Tables 1–6 (and figures) from
//! data; `--check paper.tex` compares a hand-written table with them.

use super::{print_json, GlobalArgs, EXIT_FINDINGS, EXIT_OK, EXIT_USAGE};
use crate::analysis::check::check;
use crate::analysis::tables::{build_tables, PaperTable};
use crate::ingest::{ingest, IngestOptions, IngestReport};
use crate::render::tables::latex::{standalone_tex, table_tex};
use crate::render::tables::markdown::tables_markdown;
use crate::render::tables::TablesContext;
use crate::util::output::claim_dir;
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
    /// Keep failed runs (success rate 0, nothing measured) in the cells
    #[arg(long)]
    pub include_failed: bool,
    /// Compare the tables of this hand-written LaTeX file with the data instead of writing
    #[arg(long, value_name = "PAPER.tex")]
    pub check: Option<PathBuf>,
}

impl Default for TablesArgs {
    /// The flags' defaults (as clap fills them), no input.
    fn default() -> Self {
        TablesArgs {
            paths: Vec::new(),
            output_dir: PathBuf::from("artifacts/tables"),
            ci: CiMode::Interval,
            confidence: 0.95,
            include_failed: false,
            check: None,
        }
    }
}

/// Ingest and build the tables; `None` (after printing why) on input error.
pub fn load(
    paths: &[PathBuf],
    global: &GlobalArgs,
    confidence: f64,
    include_failed: bool,
) -> Option<(IngestReport, Vec<PaperTable>)> {
    if paths.is_empty() {
        eprintln!("sagereport: error: no input: give result files or directories (see --help)");
        return None;
    }
    match ingest(paths, &IngestOptions::from(global)) {
        Ok(report) => {
            let tables = build_tables(&report, confidence, include_failed);
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
    if args.include_failed {
        c.push_str(" --include-failed");
    }
    c
}

pub fn run(args: &TablesArgs, global: &GlobalArgs) -> anyhow::Result<u8> {
    if let Some(paper) = &args.check {
        let Some((_, tables)) = load(&args.paths, global, args.confidence, args.include_failed) else {
            return Ok(EXIT_USAGE);
        };
        return run_check(paper, &tables, global);
    }
    // The output is checked (and locked) before any work: a refused output is exit 2.
    let out = claim_dir(&args.output_dir, "tables", &args.paths)?;
    let Some((report, tables)) = load(&args.paths, global, args.confidence, args.include_failed) else {
        return Ok(EXIT_USAGE);
    };
    let inputs: Vec<String> = args.paths.iter().map(|p| p.display().to_string()).collect();
    let ctx = TablesContext {
        tables: &tables,
        inputs: &inputs,
        version: env!("CARGO_PKG_VERSION"),
        command: command_line(args),
        ci: args.ci == CiMode::Interval,
        confidence: args.confidence,
    };
    let files = out.replace(|dir| {
        let mut files = Vec::new();
        for t in ctx.models() {
            let name = format!("{}.tex", t.stem);
            std::fs::write(dir.join(&name), table_tex(&t, &ctx))?;
            files.push(name);
        }
        std::fs::write(dir.join("tables.tex"), standalone_tex(&ctx))?;
        std::fs::write(dir.join("tables.md"), tables_markdown(&ctx))?;
        files.extend(["tables.tex".to_string(), "tables.md".to_string()]);
        let figures =
            crate::render::chart::figure_files(&crate::render::paper_figures::paper_figures(&tables, args.confidence))?;
        crate::util::output::write_files(dir, &figures)?;
        files.extend(figures.into_iter().map(|(name, _)| name));
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
            let filled: usize = t
                .parts
                .iter()
                .flat_map(|p| &p.rows)
                .flat_map(|r| &r.cells)
                .filter(|c| c.value.is_some())
                .count();
            let total: usize = t.parts.iter().flat_map(|p| &p.rows).map(|r| r.cells.len()).sum();
            outln!(
                "Table {} {:<22} {:>6} records, {:>3}/{} cells with data",
                t.number,
                t.title,
                t.records,
                filled,
                total
            );
        }
        outln!("wrote {} ({} files)", args.output_dir.display(), files.len());
    }
    Ok(EXIT_OK)
}

/// Most levels of `\input` followed (a cycle stops at the first repeat).
const MAX_INPUT_DEPTH: usize = 8;

/// The paper and, depth first in document order, the files it `\input`s or
/// `\include`s, each with its text. Names resolve like LaTeX's: against the
/// main file's folder (then the including file's), `.tex` appended to a
/// name without an extension. Files that cannot be found or read come back
/// as warnings naming the line that includes them.
#[allow(clippy::type_complexity)] // (files with their text, warnings)
fn paper_files(paper: &std::path::Path, max: u64) -> Result<(Vec<(String, String)>, Vec<String>), String> {
    use crate::ingest::guard::{format_size, read_document, DocError};
    use std::path::{Path, PathBuf};
    struct Walk<'r> {
        root: &'r Path,
        max: u64,
        seen: std::collections::HashSet<PathBuf>,
        files: Vec<(String, String)>,
        warnings: Vec<String>,
    }
    /// A regular text file of at most `max` bytes (`--max-document`): a
    /// FIFO, a device (`\input{/dev/zero}`) or a huge file is never read.
    fn read(path: &Path, max: u64) -> Result<String, String> {
        match read_document(path, max) {
            Ok(bytes) => Ok(String::from_utf8_lossy(&bytes).into_owned()),
            Err(DocError::Io(e)) => Err(e.to_string()),
            Err(DocError::NotText(why)) => Err(why.to_string()),
            Err(DocError::TooLarge(size)) => Err(format!(
                "{} ({size} bytes), larger than {} (--max-document)",
                format_size(size),
                format_size(max)
            )),
        }
    }
    fn visit(walk: &mut Walk<'_>, path: &Path, text: String, depth: usize) {
        let includes = crate::analysis::check::tex::included_files(&text);
        walk.files.push((path.display().to_string(), text));
        if depth >= MAX_INPUT_DEPTH {
            return;
        }
        for (line, name) in includes {
            let named = Path::new(&name);
            let mut candidates: Vec<PathBuf> = Vec::new();
            for base in [walk.root, path.parent().unwrap_or(walk.root)] {
                if named.extension().is_none() {
                    candidates.push(base.join(named).with_extension("tex"));
                }
                candidates.push(base.join(named));
            }
            candidates.dedup();
            let Some(found) = candidates.iter().find(|c| c.is_file()) else {
                let looked: Vec<String> = candidates.iter().map(|c| c.display().to_string()).collect();
                walk.warnings.push(format!(
                    "{}:{line}: {name} is not found (looked for {}); its tables are not checked",
                    path.display(),
                    looked.join(", ")
                ));
                continue;
            };
            if !walk.seen.insert(found.canonicalize().unwrap_or_else(|_| found.clone())) {
                continue; // included twice, or a cycle
            }
            match read(found, walk.max) {
                Ok(text) => visit(walk, found, text, depth + 1),
                Err(e) => walk.warnings.push(format!(
                    "{}:{line}: cannot read {} ({e}); its tables are not checked",
                    path.display(),
                    found.display()
                )),
            }
        }
    }
    let text = read(paper, max).map_err(|e| {
        format!(
            "{}: cannot read the paper ({e}); give the .tex file holding its tables",
            paper.display()
        )
    })?;
    let mut walk = Walk {
        root: paper.parent().unwrap_or(Path::new(".")),
        max,
        seen: std::collections::HashSet::from([paper.canonicalize().unwrap_or_else(|_| paper.to_path_buf())]),
        files: Vec::new(),
        warnings: Vec::new(),
    };
    visit(&mut walk, paper, text, 0);
    Ok((walk.files, walk.warnings))
}

fn run_check(paper: &std::path::Path, tables: &[PaperTable], global: &GlobalArgs) -> anyhow::Result<u8> {
    let files = match paper_files(paper, global.max_document) {
        Ok((files, warnings)) => {
            if !global.quiet {
                for w in warnings {
                    eprintln!("sagereport: warning: {w}");
                }
            }
            files
        }
        Err(message) => {
            eprintln!("sagereport: error: {message}");
            return Ok(EXIT_USAGE);
        }
    };
    let mut report = crate::analysis::check::CheckReport::default();
    for (file, text) in &files {
        report.extend(check(text, file, tables));
    }
    let p = paper.display();
    if global.json {
        let files: Vec<&String> = files.iter().map(|(f, _)| f).collect();
        print_json(&serde_json::json!({"schema_version": 1, "paper": p.to_string(), "files": files, "check": report}))?;
    } else {
        for d in &report.differences {
            let computed = match (d.computed, d.ci_low, d.ci_high) {
                (Some(v), Some(lo), Some(hi)) => format!("{v:.4} [{lo:.4}, {hi:.4}] (n={})", d.n),
                (Some(v), _, _) => format!("{v:.4} (n={}, no interval)", d.n),
                (None, _, _) => "no data".into(),
            };
            outln!(
                "{}:{}: Table {} ({}){}, row {:?}, column {:?}: paper {} vs data {}; files: {}",
                d.file,
                d.line,
                d.table,
                d.label,
                if d.commented { " [commented out]" } else { "" },
                d.row,
                d.column,
                d.paper,
                computed,
                if d.files.is_empty() {
                    "none".to_string()
                } else {
                    d.files.join(", ")
                }
            );
        }
        if !global.quiet {
            for t in &report.tables {
                let name = t.caption.as_deref().or(t.label.as_deref()).unwrap_or("(no caption)");
                match t.table {
                    Some(n) => eprintln!(
                        "{}:{}: {}table {:?} ↔ Table {n}: {} cell(s) compared, {} differ",
                        t.file,
                        t.line,
                        if t.commented { "commented-out " } else { "" },
                        name,
                        t.cells_compared,
                        t.cells_differing
                    ),
                    None => eprintln!(
                        "{}:{}: table {:?} matches none of Tables 1–6; not checked",
                        t.file, t.line, name
                    ),
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
        eprintln!("sagereport: error: {p}: no number of the paper's tables (or of the files it \\inputs) could be matched to Tables 1–6 (check captions, labels, row and column names)");
        return Ok(EXIT_FINDINGS);
    }
    Ok(if report.differences.is_empty() {
        EXIT_OK
    } else {
        EXIT_FINDINGS
    })
}
