//! The paper's Tables 1–6 (SPEC §5), computed from ingested records.
//!
//! Every cell is a mean over replicates with its Student-t interval
//! ([`stats::summarize`]); the replicate is one record (one run of one
//! configuration), except in Table 6 where the jobs of one run are first
//! combined into that run's total. Cells without data stay empty (`None`),
//! never invented; renderers print `--` with a footnote.
//!
//! Which records feed which table:
//! - Table 1: `experiment` exp1 — rows pipeline, columns nodes.
//! - Table 2: exp2a, or exp2 outside a scheduler-comparison sweep — rows load level.
//! - Table 3: exp2b, or exp2 whose run id or workload names a scheduler
//!   comparison — rows scheduler.
//! - Tables 4 and 5: exp3 — rows concurrency (× pipeline when several).
//! - Table 6: exp4 — (a) rows concurrent jobs, (b) rows start delay.

use super::stats;
use crate::ingest::IngestReport;
use crate::model::{Dimensions, DimsId, LoadLevel, Pipeline, Scheduler, UnifiedRecord};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// One number of a table: mean over `n` replicates, with its interval.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct TableCell {
    pub value: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub n: usize,
}

impl TableCell {
    /// Mean and Student-t interval of `values` (no interval when n < 2).
    pub fn of(values: &[f64], confidence: f64) -> TableCell {
        match stats::summarize(values, confidence) {
            None => TableCell::default(),
            Some(s) => TableCell {
                value: Some(s.mean),
                ci_low: s.mean_ci.map(|c| c.0),
                ci_high: s.mean_ci.map(|c| c.1),
                n: s.n,
            },
        }
    }

    fn scaled(&self, k: f64) -> TableCell {
        TableCell {
            value: self.value.map(|v| v * k),
            ci_low: self.ci_low.map(|v| v * k),
            ci_high: self.ci_high.map(|v| v * k),
            n: self.n,
        }
    }

    pub fn half_width(&self) -> Option<f64> {
        Some((self.ci_high? - self.ci_low?) / 2.0)
    }
}

/// A column: its header, unit and the fixed precision it is printed with.
#[derive(Clone, Debug, Serialize)]
pub struct TableColumn {
    pub header: String,
    /// Unit printed after the header, e.g. `tasks/s`; empty for ratios.
    pub unit: &'static str,
    /// Decimals printed (fixed per column, documented in README).
    pub decimals: usize,
    /// Value is a percentage (printed with `%`).
    pub percent: bool,
    /// Printed after the number, e.g. `×` for speedups.
    pub suffix: &'static str,
    /// Normalized names a hand-written table may use for this column.
    pub keys: Vec<String>,
    /// The numeric dimension value this column stands for (nodes in Table 1).
    pub x: Option<f64>,
}

/// One row and the records behind it.
#[derive(Clone, Debug, Serialize)]
pub struct TableRow {
    pub label: String,
    pub keys: Vec<String>,
    /// The numeric dimension value of the row (concurrency, jobs, delay in s).
    pub x: Option<f64>,
    pub cells: Vec<TableCell>,
    /// Records that fed this row.
    pub records: usize,
    pub run_ids: Vec<String>,
    pub config_hashes: Vec<String>,
    pub files: Vec<String>,
}

/// A header cell spanning `len` columns from `start` (booktabs cmidrule).
#[derive(Clone, Debug, Serialize)]
pub struct ColumnGroup {
    pub title: String,
    pub start: usize,
    pub len: usize,
}

/// A block of rows under one header (Table 6 has two).
#[derive(Clone, Debug, Serialize)]
pub struct TablePart {
    pub title: Option<String>,
    pub row_header: String,
    pub groups: Vec<ColumnGroup>,
    pub columns: Vec<TableColumn>,
    pub rows: Vec<TableRow>,
}

/// One paper table.
#[derive(Clone, Debug, Serialize)]
pub struct PaperTable {
    pub number: u8,
    /// File stem: `table1_node_scaling`.
    pub stem: &'static str,
    /// `\label`: `tab:node-scaling`.
    pub label: &'static str,
    pub title: &'static str,
    pub experiment: &'static str,
    pub caption: String,
    /// How replicates were combined into a cell.
    pub method: String,
    pub parts: Vec<TablePart>,
    pub footnotes: Vec<String>,
    /// Records that fed the table.
    pub records: usize,
}

impl PaperTable {
    pub fn has_data(&self) -> bool {
        self.records > 0
    }
}

/// Lowercase alphanumerics only: `LoadAware-Spread` → `loadawarespread`.
pub fn norm_key(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

fn keys(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| norm_key(n)).filter(|k| !k.is_empty()).collect()
}

fn col(header: &str, unit: &'static str, decimals: usize, aliases: &[&str]) -> TableColumn {
    let mut k = keys(aliases);
    k.insert(0, norm_key(header));
    TableColumn {
        header: header.to_string(),
        unit,
        decimals,
        percent: false,
        suffix: "",
        keys: k,
        x: None,
    }
}

/// A record with its dimensions resolved once.
struct Rec<'a> {
    r: &'a UnifiedRecord,
    d: Arc<Dimensions>,
    file: &'a str,
}

/// Which experiment family a record belongs to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Family {
    Exp1,
    Exp2Load,
    Exp2Sched,
    Exp3,
    Exp4,
}

fn family(r: &UnifiedRecord, d: &Dimensions) -> Option<Family> {
    let e = d.experiment?.as_str().to_ascii_lowercase();
    let scheduler_sweep = || {
        let w = r.workload.as_str().to_ascii_lowercase();
        let run = r.run_id.as_str().to_ascii_lowercase();
        w.contains("scheduler") || run.contains("scheduler")
    };
    if r.workload.as_str().starts_with("pipeline_depth_") {
        // The runner's exp2b pipeline-depth variants are not scheduler rows;
        // no paper table has them (they are in the records and on the site).
        None
    } else if e.starts_with("exp1") {
        Some(Family::Exp1)
    } else if e.starts_with("exp2a") {
        Some(Family::Exp2Load)
    } else if e.starts_with("exp2b") {
        Some(Family::Exp2Sched)
    } else if e.starts_with("exp2") {
        Some(if scheduler_sweep() {
            Family::Exp2Sched
        } else {
            Family::Exp2Load
        })
    } else if e.starts_with("exp3") {
        Some(Family::Exp3)
    } else if e.starts_with("exp4") {
        Some(Family::Exp4)
    } else {
        None
    }
}

/// Accumulates the provenance of a row.
#[derive(Default)]
struct Prov {
    records: usize,
    runs: BTreeSet<String>,
    hashes: BTreeSet<String>,
    files: BTreeSet<String>,
}

impl Prov {
    fn add(&mut self, rec: &Rec<'_>) {
        self.records += 1;
        self.runs.insert(rec.r.run_id.to_string());
        if let Some(h) = rec.r.config_hash {
            self.hashes.insert(h.to_string());
        }
        self.files.insert(rec.file.to_string());
    }

    fn row(self, label: String, keys: Vec<String>, cells: Vec<TableCell>) -> TableRow {
        TableRow {
            label,
            keys,
            x: None,
            cells,
            records: self.records,
            run_ids: self.runs.into_iter().collect(),
            config_hashes: self.hashes.into_iter().collect(),
            files: self.files.into_iter().collect(),
        }
    }
}

/// Canonical values first (in order), then any others found in the data, sorted.
fn with_found<T: Ord + Copy>(canonical: &[T], found: impl IntoIterator<Item = T>) -> Vec<T> {
    let mut out: Vec<T> = canonical.to_vec();
    let extra: BTreeSet<T> = found.into_iter().filter(|v| !canonical.contains(v)).collect();
    out.extend(extra);
    out
}

fn pipeline_name(p: Option<Pipeline>) -> String {
    match p {
        Some(Pipeline::Compute) => "Compute".into(),
        Some(Pipeline::Rag) => "RAG".into(),
        Some(Pipeline::Mixed) => "Mixed".into(),
        Some(Pipeline::Llm) => "LLM".into(),
        Some(other) => other.label().to_string(),
        None => "(pipeline not recorded)".into(),
    }
}

fn pipeline_keys(p: Option<Pipeline>) -> Vec<String> {
    match p {
        Some(p) => keys(&[&pipeline_name(Some(p)), p.label()]),
        // Also the label we print, so our own tables check against the data.
        None => keys(&["all", "unknown", &pipeline_name(None)]),
    }
}

fn level_name(l: LoadLevel) -> String {
    let s = l.label();
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Build all six tables from the accepted records of `report`; failed runs
/// (see [`crate::model::UnifiedRecord::failed_run`]) only when `include_failed`.
pub fn build_tables(report: &IngestReport, confidence: f64, include_failed: bool) -> Vec<PaperTable> {
    let mut dims_cache: HashMap<DimsId, Arc<Dimensions>> = HashMap::new();
    let mut by_family: BTreeMap<u8, Vec<Rec<'_>>> = BTreeMap::new();
    for r in report
        .records
        .iter()
        .filter(|r| include_failed || r.failed_run().is_none())
    {
        let d = Arc::clone(dims_cache.entry(r.dims).or_insert_with(|| r.dimensions()));
        if let Some(f) = family(r, &d) {
            let key = f as u8;
            by_family.entry(key).or_default().push(Rec {
                r,
                d,
                file: &report.file(r.source.file).path,
            });
        }
    }
    let mut take = |f: Family| by_family.remove(&(f as u8)).unwrap_or_default();
    let exp1 = take(Family::Exp1);
    let exp2a = take(Family::Exp2Load);
    let exp2b = take(Family::Exp2Sched);
    let exp3 = take(Family::Exp3);
    let exp4 = take(Family::Exp4);
    vec![
        table1(&exp1, confidence),
        table2(&exp2a, confidence),
        table3(&exp2b, confidence),
        table4(&exp3, confidence),
        table5(&exp3, confidence),
        table6(&exp4, confidence),
    ]
}

fn ci_phrase(confidence: f64) -> String {
    format!(
        "mean ± half-width of the {}% Student-t interval over",
        trim_pct(confidence)
    )
}

fn trim_pct(confidence: f64) -> String {
    let p = format!("{:.2}", confidence * 100.0);
    p.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn empty_note(part: &TablePart) -> Vec<String> {
    let mut notes = Vec::new();
    let empty_rows: Vec<&str> = part
        .rows
        .iter()
        .filter(|r| r.cells.iter().all(|c| c.value.is_none()))
        .map(|r| r.label.as_str())
        .collect();
    if !empty_rows.is_empty() {
        notes.push(format!("No data for: {}.", empty_rows.join(", ")));
    }
    let empty_cols: Vec<&str> = (0..part.columns.len())
        .filter(|&c| !part.rows.is_empty() && part.rows.iter().all(|r| r.cells[c].value.is_none()))
        .map(|c| part.columns[c].header.as_str())
        .collect();
    if !empty_cols.is_empty() && empty_rows.len() < part.rows.len() {
        notes.push(format!("No data in column(s): {}.", empty_cols.join(", ")));
    }
    notes
}

fn finish(mut t: PaperTable) -> PaperTable {
    let mut notes: Vec<String> = Vec::new();
    for part in &t.parts {
        for n in empty_note(part) {
            let n = match &part.title {
                Some(title) if t.parts.len() > 1 => format!("{title}: {n}"),
                _ => n,
            };
            notes.push(n);
        }
    }
    if t.records == 0 {
        notes = vec![format!(
            "No {} records in the inputs: every cell is `--`.",
            t.experiment
        )];
    } else if notes.iter().any(|_| true) {
        notes.insert(
            0,
            "`--`: no record in the inputs for that cell; nothing is interpolated.".into(),
        );
    }
    notes.append(&mut t.footnotes);
    t.footnotes = notes;
    t
}

/// Table 1: pipeline × nodes throughput, speedup and parallel efficiency
/// at the largest node count (speedup = T(N)/T(1), ratio of means with
/// Fieller's interval; efficiency = speedup / N).
fn table1(recs: &[Rec<'_>], confidence: f64) -> PaperTable {
    let nodes = with_found(&[1u32, 2, 4, 8, 16], recs.iter().map(|x| x.r.nodes));
    let pipelines = with_found(
        &[Some(Pipeline::Compute), Some(Pipeline::Rag), Some(Pipeline::Mixed)],
        recs.iter().map(|x| x.d.pipeline),
    );
    let mut columns: Vec<TableColumn> = nodes
        .iter()
        .map(|&n| {
            let h = plural(n as u64, "node", "nodes");
            // The unit is in the spanning "Throughput (tasks/s)" header.
            let mut c = col(
                &h,
                "",
                1,
                &[&n.to_string(), &format!("{n}n"), &format!("n{n}"), &format!("{n}node")],
            );
            c.keys.push(n.to_string());
            c.x = Some(n as f64);
            c
        })
        .collect();
    let mut speedup = col("Speedup", "", 2, &["speed-up", "scaleup"]);
    speedup.suffix = "×";
    let mut efficiency = col("Efficiency", "", 1, &["parallel efficiency", "par. eff.", "eff"]);
    efficiency.percent = true;
    columns.push(speedup);
    columns.push(efficiency);
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    // A row pools only replicates: records of one pipeline, split further by
    // task complexity when it varies, and — where no pipeline was recorded —
    // by the experiment name's stem, each split labelled.
    let mut row_keys: Vec<(Option<Pipeline>, Option<String>, Option<String>)> = Vec::new();
    for p in &pipelines {
        let of_p: Vec<&Rec<'_>> = recs.iter().filter(|x| x.d.pipeline == *p).collect();
        let complexities: BTreeSet<Option<String>> = of_p
            .iter()
            .map(|x| x.d.task_complexity.map(|c| c.to_string()))
            .collect();
        let stems: BTreeSet<String> = if p.is_none() {
            of_p.iter().map(|x| name_stem(x.r.workload.as_str())).collect()
        } else {
            BTreeSet::new()
        };
        let complexity_keys: Vec<Option<String>> = if complexities.len() > 1 {
            complexities
                .iter()
                .map(|c| Some(c.clone().unwrap_or_else(|| "complexity not recorded".into())))
                .collect()
        } else {
            vec![None]
        };
        let stem_keys: Vec<Option<String>> = if stems.len() > 1 {
            stems.into_iter().map(Some).collect()
        } else {
            vec![None]
        };
        for c in &complexity_keys {
            for st in &stem_keys {
                row_keys.push((*p, c.clone(), st.clone()));
            }
        }
    }
    for (p, complexity, stem) in &row_keys {
        let mut prov = Prov::default();
        let mut per_nodes: BTreeMap<u32, Vec<f64>> = BTreeMap::new();
        let in_row = |x: &&Rec<'_>| {
            x.d.pipeline == *p
                && complexity.as_ref().is_none_or(|c| {
                    x.d.task_complexity
                        .map(|v| v.to_string())
                        .unwrap_or_else(|| "complexity not recorded".into())
                        == *c
                })
                && stem.as_ref().is_none_or(|st| name_stem(x.r.workload.as_str()) == *st)
        };
        for x in recs.iter().filter(in_row) {
            prov.add(x);
            per_nodes.entry(x.r.nodes).or_default().push(x.r.throughput);
        }
        let mut cells: Vec<TableCell> = nodes
            .iter()
            .map(|n| TableCell::of(per_nodes.get(n).map(Vec::as_slice).unwrap_or(&[]), confidence))
            .collect();
        let base = per_nodes.get(&1);
        let top = per_nodes.iter().rev().find(|(n, v)| **n > 1 && !v.is_empty());
        let (sp, eff) = match (base, top) {
            (Some(b), Some((&n, t))) => {
                let (mb, mt) = (stats_mean(b), stats_mean(t));
                let ratio = stats::ratio_of_means_fieller(t, b, confidence);
                let cell = TableCell {
                    value: Some(mt / mb),
                    ci_low: ratio.as_ref().and_then(|r| r.ci.map(|c| c.0)),
                    ci_high: ratio.as_ref().and_then(|r| r.ci.map(|c| c.1)),
                    n: b.len().min(t.len()),
                };
                if !nodes.is_empty() && n != *nodes.iter().max().unwrap() {
                    notes.push(format!(
                        "{}: speedup and efficiency at {}, the largest node count with data.",
                        pipeline_name(*p),
                        plural(n as u64, "node", "nodes")
                    ));
                }
                (cell.clone(), cell.scaled(100.0 / n as f64))
            }
            _ => (TableCell::default(), TableCell::default()),
        };
        if prov.records > 0 && sp.value.is_none() {
            notes.push(format!(
                "{}: no speedup without both a 1-node and a multi-node result.",
                pipeline_name(*p)
            ));
        }
        cells.push(sp);
        cells.push(eff);
        if prov.records == 0 && (p.is_none() || complexity.is_some()) {
            continue;
        }
        let mut name = pipeline_name(*p);
        for part in [complexity, stem].into_iter().flatten() {
            name = format!("{name}, {part}");
        }
        rows.push(prov.row(name, pipeline_keys(*p), cells));
    }
    if recs.iter().any(|x| x.d.pipeline.is_none()) {
        notes.push("Records whose pipeline could not be read (no pipeline field, run name or enable_rag/enable_llm switches) are shown as “(pipeline not recorded)”, split by run name where those differ; upstream exp1 runs RAG.".into());
    }
    notes.dedup();
    let groups = vec![ColumnGroup {
        title: "Throughput (tasks/s)".into(),
        start: 0,
        len: nodes.len(),
    }];
    finish(PaperTable {
        number: 1,
        stem: "table1_node_scaling",
        label: "tab:node-scaling",
        title: "Node Scaling",
        experiment: "exp1",
        caption: "Node scaling (exp1): throughput by pipeline and node count; speedup and parallel efficiency at the largest node count.".into(),
        method: format!("{} runs (one record per run); speedup: ratio of means with Fieller's interval", ci_phrase(confidence)),
        parts: vec![TablePart { title: None, row_header: "Pipeline".into(), groups, columns, rows }],
        footnotes: notes,
        records: recs.len(),
    })
}

/// An exp1 run name without its node-count part (`rag_multi_4_nodes` →
/// `rag`, `compute_single_node` → `compute`), to tell unrecorded pipelines apart.
fn name_stem(name: &str) -> String {
    let tokens: Vec<&str> = name
        .split('_')
        .filter(|t| !matches!(*t, "single" | "multi" | "node" | "nodes") && !t.chars().all(|c| c.is_ascii_digit()))
        .filter(|t| !(t.ends_with('n') && t[..t.len() - 1].chars().all(|c| c.is_ascii_digit()) && t.len() > 1))
        .collect();
    if tokens.is_empty() {
        name.to_string()
    } else {
        tokens.join("_")
    }
}

fn stats_mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

fn measured(r: &UnifiedRecord, f: impl Fn(&crate::model::Measured) -> Option<f64>) -> Option<f64> {
    r.measured.as_deref().and_then(f)
}

/// The metric columns shared by Tables 2 and 3.
fn metric_columns(with_overhead: bool) -> Vec<TableColumn> {
    let mut c = vec![
        col("Throughput", "tasks/s", 1, &["tput", "throughput tasks/s", "thr"]),
        col(
            "Avg latency",
            "ms",
            1,
            &["avg. latency", "average latency", "mean latency", "avg lat", "latency"],
        ),
        col("P99", "ms", 1, &["p99 latency", "tail latency", "99th"]),
        col("Balance", "", 3, &["balance score", "load balance", "node balance"]),
    ];
    if with_overhead {
        c.push(col(
            "Sched. overhead",
            "ms",
            3,
            &["scheduling overhead", "overhead", "sched overhead", "scheduling"],
        ));
    }
    c
}

fn metric_cells(recs: &[&Rec<'_>], with_overhead: bool, confidence: f64) -> Vec<TableCell> {
    let pick = |f: &dyn Fn(&UnifiedRecord) -> Option<f64>| -> TableCell {
        TableCell::of(&recs.iter().filter_map(|x| f(x.r)).collect::<Vec<_>>(), confidence)
    };
    let mut cells = vec![
        pick(&|r| Some(r.throughput)),
        pick(&|r| measured(r, |m| m.avg_latency_ms)),
        pick(&|r| r.latency_p99),
        pick(&|r| measured(r, |m| m.balance_score)),
    ];
    if with_overhead {
        cells.push(pick(&|r| measured(r, |m| m.scheduling_ms)));
    }
    cells
}

/// Table 2: load level × throughput, average latency, P99, balance.
fn table2(recs: &[Rec<'_>], confidence: f64) -> PaperTable {
    let levels = with_found(
        &[LoadLevel::Low, LoadLevel::Medium, LoadLevel::High, LoadLevel::Extreme],
        recs.iter().filter_map(|x| x.d.load_level),
    );
    let mut rows = Vec::new();
    for l in &levels {
        let mut prov = Prov::default();
        let these: Vec<&Rec<'_>> = recs.iter().filter(|x| x.d.load_level == Some(*l)).collect();
        these.iter().for_each(|x| prov.add(x));
        rows.push(prov.row(
            level_name(*l),
            keys(&[&level_name(*l)]),
            metric_cells(&these, false, confidence),
        ));
    }
    let mut notes = Vec::new();
    let unlevelled = recs.iter().filter(|x| x.d.load_level.is_none()).count();
    if unlevelled > 0 {
        notes.push(format!(
            "{unlevelled} exp2 load-sweep record(s) without a load level are not shown."
        ));
    }
    let used = recs.len() - unlevelled;
    finish(PaperTable {
        number: 2,
        stem: "table2_load_levels",
        label: "tab:load-levels",
        title: "Load Levels",
        experiment: "exp2a",
        caption: "Load levels (exp2a): low (100 tasks, 2 nodes, parallelism 4), medium (200, 4, 16), high (500, 8, 64), extreme (1000, 16, 128).".into(),
        method: format!("{} runs (one record per run)", ci_phrase(confidence)),
        parts: vec![TablePart { title: None, row_header: "Load".into(), groups: vec![], columns: metric_columns(false), rows }],
        footnotes: notes,
        records: used,
    })
}

/// Table 3: scheduler × throughput, average latency, P99, balance, overhead.
fn table3(recs: &[Rec<'_>], confidence: f64) -> PaperTable {
    let schedulers = with_found(
        &[
            Some(Scheduler::Fifo),
            Some(Scheduler::RoundRobin),
            Some(Scheduler::LoadAwareSpread),
            Some(Scheduler::LoadAwarePack),
            Some(Scheduler::Priority),
        ],
        recs.iter().map(|x| x.d.scheduler).filter(Option::is_some),
    );
    let mut rows = Vec::new();
    for s in schedulers.iter().flatten() {
        let mut prov = Prov::default();
        let these: Vec<&Rec<'_>> = recs.iter().filter(|x| x.d.scheduler == Some(*s)).collect();
        these.iter().for_each(|x| prov.add(x));
        rows.push(prov.row(
            s.paper_name().to_string(),
            keys(&[s.paper_name(), s.label()]),
            metric_cells(&these, true, confidence),
        ));
    }
    let levels: BTreeSet<&str> = recs.iter().filter_map(|x| x.d.load_level.map(|l| l.label())).collect();
    let mut notes = Vec::new();
    if levels.len() > 1 {
        notes.push(format!(
            "Rows pool load levels {}.",
            levels.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    finish(PaperTable {
        number: 3,
        stem: "table3_scheduler_comparison",
        label: "tab:scheduler-comparison",
        title: "Scheduler Comparison",
        experiment: "exp2b",
        caption: "Scheduler comparison (exp2b) at medium load: throughput, latency, node balance and scheduling overhead per policy.".into(),
        method: format!("{} runs (one record per run)", ci_phrase(confidence)),
        parts: vec![TablePart { title: None, row_header: "Scheduler".into(), groups: vec![], columns: metric_columns(true), rows }],
        footnotes: notes,
        records: recs.len(),
    })
}

fn concurrency_levels(recs: &[Rec<'_>]) -> Vec<u32> {
    with_found(&[1u32, 2, 4, 8, 16, 32], recs.iter().filter_map(|x| x.d.concurrency))
}

fn pipelines_of(recs: &[Rec<'_>]) -> Vec<Option<Pipeline>> {
    let set: BTreeSet<Option<Pipeline>> = recs.iter().map(|x| x.d.pipeline).collect();
    set.into_iter().collect()
}

/// Table 4: concurrency × throughput and P99, per pipeline.
fn table4(recs: &[Rec<'_>], confidence: f64) -> PaperTable {
    let levels = concurrency_levels(recs);
    let pipelines = pipelines_of(recs);
    let pipelines = if pipelines.is_empty() {
        vec![Some(Pipeline::Rag)]
    } else {
        pipelines
    };
    let mut columns = Vec::new();
    let mut groups = Vec::new();
    for p in &pipelines {
        groups.push(ColumnGroup {
            title: pipeline_name(*p),
            start: columns.len(),
            len: 2,
        });
        let name = pipeline_name(*p);
        let mut t = col("Throughput", "tasks/s", 1, &["tput"]);
        let mut l = col("P99", "ms", 1, &["p99 latency"]);
        // The group title joins the column's header ("RAG Throughput"); a
        // lone group may also be left out of the header.
        for c in [&mut t, &mut l] {
            let base = c.keys.clone();
            let titled = base
                .iter()
                .map(|k| format!("{}{k}", norm_key(&name)))
                .chain(base.iter().map(|k| format!("{k}{}", norm_key(&name))));
            c.keys = if pipelines.len() > 1 {
                titled.collect()
            } else {
                base.iter().cloned().chain(titled).collect()
            };
        }
        columns.push(t);
        columns.push(l);
    }
    let mut rows = Vec::new();
    for c in &levels {
        let mut prov = Prov::default();
        let mut cells = Vec::new();
        for p in &pipelines {
            let these: Vec<&Rec<'_>> = recs
                .iter()
                .filter(|x| x.d.concurrency == Some(*c) && x.d.pipeline == *p)
                .collect();
            these.iter().for_each(|x| prov.add(x));
            cells.push(TableCell::of(
                &these.iter().map(|x| x.r.throughput).collect::<Vec<_>>(),
                confidence,
            ));
            cells.push(TableCell::of(
                &these.iter().filter_map(|x| x.r.latency_p99).collect::<Vec<_>>(),
                confidence,
            ));
        }
        let mut row = prov.row(c.to_string(), keys(&[&c.to_string()]), cells);
        row.x = Some(*c as f64);
        rows.push(row);
    }
    let mut notes = Vec::new();
    if pipelines.contains(&None) && !recs.is_empty() {
        notes.push("“(pipeline not recorded)”: exp3 records without a pipeline field; upstream exp3 runs RAG.".into());
    }
    finish(PaperTable {
        number: 4,
        stem: "table4_throughput_curve",
        label: "tab:throughput-curve",
        title: "Throughput Curve",
        experiment: "exp3",
        caption: "Throughput curve (exp3): throughput and P99 latency by concurrency.".into(),
        method: format!("{} runs (one record per run)", ci_phrase(confidence)),
        parts: vec![TablePart {
            title: None,
            row_header: "Concurrency".into(),
            groups,
            columns,
            rows,
        }],
        footnotes: notes,
        records: recs.iter().filter(|x| x.d.concurrency.is_some()).count(),
    })
}

/// Table 5: concurrency × scheduling delay, queueing delay, execution time,
/// end-to-end latency (the record's average latency).
fn table5(recs: &[Rec<'_>], confidence: f64) -> PaperTable {
    let levels = concurrency_levels(recs);
    let pipelines = pipelines_of(recs);
    let split = pipelines.len() > 1;
    let columns = vec![
        col("Scheduling", "ms", 3, &["scheduling delay", "sched", "sched. delay"]),
        col(
            "Queueing",
            "ms",
            2,
            &["queueing delay", "queue", "queuing", "queuing delay"],
        ),
        col("Execution", "ms", 1, &["execution time", "exec", "exec. time"]),
        col(
            "End-to-end",
            "ms",
            1,
            &["e2e", "total", "end to end latency", "avg latency"],
        ),
    ];
    let mut rows = Vec::new();
    let row_pipelines: Vec<Option<Option<Pipeline>>> = if split {
        pipelines.iter().map(|p| Some(*p)).collect()
    } else {
        vec![None]
    };
    for rp in &row_pipelines {
        for c in &levels {
            let these: Vec<&Rec<'_>> = recs
                .iter()
                .filter(|x| x.d.concurrency == Some(*c) && rp.is_none_or(|p| x.d.pipeline == p))
                .collect();
            let mut prov = Prov::default();
            these.iter().for_each(|x| prov.add(x));
            let pick = |f: &dyn Fn(&crate::model::Measured) -> Option<f64>| {
                TableCell::of(
                    &these.iter().filter_map(|x| measured(x.r, f)).collect::<Vec<_>>(),
                    confidence,
                )
            };
            let cells = vec![
                pick(&|m| m.scheduling_ms),
                pick(&|m| m.queue_ms),
                pick(&|m| m.execution_ms),
                pick(&|m| m.avg_latency_ms),
            ];
            let (label, row_keys) = match rp {
                // "RAG, 16", "rag 16" or "16 (RAG)" name the row; the bare
                // level would be ambiguous across pipelines.
                Some(p) => {
                    let name = pipeline_name(*p);
                    let short = p.map_or_else(|| name.clone(), |x| x.label().to_string());
                    (
                        format!("{name}, {c}"),
                        keys(&[&format!("{name} {c}"), &format!("{short} {c}"), &format!("{c} {name}")]),
                    )
                }
                None => (c.to_string(), keys(&[&c.to_string()])),
            };
            let mut row = prov.row(label, row_keys, cells);
            row.x = Some(*c as f64);
            rows.push(row);
        }
    }
    finish(PaperTable {
        number: 5,
        stem: "table5_latency_breakdown",
        label: "tab:latency-breakdown",
        title: "Latency Breakdown",
        experiment: "exp3",
        caption: "Latency breakdown (exp3): mean scheduling delay, queueing delay, execution time and end-to-end latency per task, by concurrency.".into(),
        method: format!("{} runs (one record per run; each value is that run's per-task mean)", ci_phrase(confidence)),
        parts: vec![TablePart { title: None, row_header: "Concurrency".into(), groups: vec![], columns, rows }],
        footnotes: vec![],
        records: recs.iter().filter(|x| x.d.concurrency.is_some()).count(),
    })
}

/// One run of exp4: its jobs combined.
struct JobRun {
    total: f64,
    per_job: f64,
    p99: Option<f64>,
}

fn job_runs<'a>(recs: impl Iterator<Item = &'a Rec<'a>>, prov: &mut Prov) -> Vec<JobRun> {
    let mut by_run: BTreeMap<String, Vec<&Rec<'_>>> = BTreeMap::new();
    for x in recs {
        prov.add(x);
        by_run.entry(x.r.run_id.to_string()).or_default().push(x);
    }
    by_run
        .values()
        .map(|jobs| {
            let total: f64 = jobs.iter().map(|x| x.r.throughput).sum();
            JobRun {
                total,
                per_job: total / jobs.len() as f64,
                p99: jobs.iter().filter_map(|x| x.r.latency_p99).reduce(f64::max),
            }
        })
        .collect()
}

/// Table 6: (a) concurrent jobs × total throughput, per-job throughput,
/// efficiency, P99; (b) start delay × throughput, P99 (admission control).
/// A run's jobs are combined first: total = sum of the jobs' throughputs,
/// per-job = total / jobs, P99 = the worst job's P99; then runs are the
/// replicates. Efficiency = total(N) / (N · total(1)), Fieller's interval.
fn table6(recs: &[Rec<'_>], confidence: f64) -> PaperTable {
    let jobs = with_found(&[1u32, 2, 4, 8], recs.iter().filter_map(|x| x.d.concurrent_jobs));
    let cols_a = {
        let mut eff = col("Efficiency", "", 1, &["scaling efficiency", "eff"]);
        eff.percent = true;
        vec![
            col(
                "Total throughput",
                "tasks/s",
                1,
                &["throughput", "total tput", "aggregate throughput"],
            ),
            col(
                "Per-job throughput",
                "tasks/s",
                1,
                &["per job", "per-job", "throughput per job"],
            ),
            eff,
            col("P99", "ms", 1, &["p99 latency", "worst p99"]),
        ]
    };
    let single: Vec<f64> = {
        let mut p = Prov::default();
        job_runs(recs.iter().filter(|x| x.d.concurrent_jobs == Some(1)), &mut p)
            .iter()
            .map(|r| r.total)
            .collect()
    };
    let mut rows_a = Vec::new();
    for j in &jobs {
        let mut prov = Prov::default();
        let runs = job_runs(recs.iter().filter(|x| x.d.concurrent_jobs == Some(*j)), &mut prov);
        let totals: Vec<f64> = runs.iter().map(|r| r.total).collect();
        let eff = if !single.is_empty() && !totals.is_empty() {
            let ratio = stats::ratio_of_means_fieller(&totals, &single, confidence);
            let k = 100.0 / *j as f64;
            TableCell {
                value: Some(stats_mean(&totals) / stats_mean(&single) * k),
                ci_low: ratio.as_ref().and_then(|r| r.ci.map(|c| c.0 * k)),
                ci_high: ratio.as_ref().and_then(|r| r.ci.map(|c| c.1 * k)),
                n: totals.len().min(single.len()),
            }
        } else {
            TableCell::default()
        };
        let cells = vec![
            TableCell::of(&totals, confidence),
            TableCell::of(&runs.iter().map(|r| r.per_job).collect::<Vec<_>>(), confidence),
            eff,
            TableCell::of(&runs.iter().filter_map(|r| r.p99).collect::<Vec<_>>(), confidence),
        ];
        let mut row = prov.row(
            j.to_string(),
            keys(&[&j.to_string(), &plural(*j as u64, "job", "jobs")]),
            cells,
        );
        row.x = Some(*j as f64);
        rows_a.push(row);
    }
    let delays = with_found(
        &[0u64, 1000, 2000, 5000],
        recs.iter().filter_map(|x| x.d.start_delay_ms),
    );
    let cols_b = vec![
        col("Throughput", "tasks/s", 1, &["total throughput", "tput"]),
        col("P99", "ms", 1, &["p99 latency", "worst p99"]),
    ];
    let mut rows_b = Vec::new();
    for d in &delays {
        let mut prov = Prov::default();
        let runs = job_runs(recs.iter().filter(|x| x.d.start_delay_ms == Some(*d)), &mut prov);
        let cells = vec![
            TableCell::of(&runs.iter().map(|r| r.total).collect::<Vec<_>>(), confidence),
            TableCell::of(&runs.iter().filter_map(|r| r.p99).collect::<Vec<_>>(), confidence),
        ];
        let secs = *d as f64 / 1000.0;
        let label = format!("{secs} s");
        let mut row = prov.row(label, vec![format!("{secs}")], cells);
        row.x = Some(secs);
        rows_b.push(row);
    }
    let mut notes = Vec::new();
    if single.is_empty() && !recs.is_empty() {
        notes.push("Efficiency needs a 1-job baseline run.".into());
    }
    finish(PaperTable {
        number: 6,
        stem: "table6_parallel_jobs",
        label: "tab:parallel-jobs",
        title: "Parallel Jobs",
        experiment: "exp4",
        caption: "Parallel jobs (exp4): (a) scaling with concurrent jobs; (b) staggered start delay (admission control).".into(),
        method: format!(
            "a run's jobs are combined first (total = sum of job throughputs, per-job = total / jobs, P99 = worst job); {} runs; efficiency: ratio of means with Fieller's interval",
            ci_phrase(confidence)
        ),
        parts: vec![
            TablePart { title: Some("(a) Concurrent jobs".into()), row_header: "Jobs".into(), groups: vec![], columns: cols_a, rows: rows_a },
            TablePart { title: Some("(b) Start delay".into()), row_header: "Delay".into(), groups: vec![], columns: cols_b, rows: rows_b },
        ],
        footnotes: notes,
        records: recs.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_fold_spelling() {
        assert_eq!(norm_key("LoadAware-Spread"), "loadawarespread");
        assert_eq!(norm_key("Avg. latency"), "avglatency");
    }

    #[test]
    fn canonical_values_first_then_found() {
        assert_eq!(with_found(&[1u32, 2, 4], [3, 4, 64]), vec![1, 2, 4, 3, 64]);
    }

    #[test]
    fn cell_of_known_values() {
        // [10, 12, 11, 13, 9]: mean 11, 95 % t-interval [9.037, 12.963] (R: t.test).
        let c = TableCell::of(&[10.0, 12.0, 11.0, 13.0, 9.0], 0.95);
        assert_eq!(c.value, Some(11.0));
        assert!((c.ci_low.unwrap() - 9.036_757).abs() < 1e-5);
        assert!((c.half_width().unwrap() - 1.963_243).abs() < 1e-5);
        let one = TableCell::of(&[5.0], 0.95);
        assert_eq!((one.value, one.ci_low, one.n), (Some(5.0), None, 1));
    }
}
