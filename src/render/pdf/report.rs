//! The PDF report's typst body: summary, mismatches, the statistics table,
//! the charts and Tables 1–6 — the same numbers as summary.md and the .tex
//! files, laid out by [`super::TEMPLATE`].

use super::{compile_pdf, escape_markup as m, string_literal as lit, TEMPLATE};
use crate::analysis::compare::{Comparison, Metric};
use crate::analysis::tables::PaperTable;
use crate::render::latex::{cell_plain, header_text, row_n};
use crate::render::markdown::{conf_pct, mean_ci, num};
use crate::render::ReportContext;
use std::fmt::Write as _;
use std::path::Path;

/// `[escaped text]` content block.
fn c(text: &str) -> String {
    format!("[{}]", m(text))
}

fn comparison_body(out: &mut String, ctx: &ReportContext<'_>) {
    let cmp: &Comparison = ctx.comparison;
    let t = &ctx.ingest.totals;
    let _ = writeln!(out, "= Summary\n");
    let _ = writeln!(
        out,
        "{}\n",
        m(&format!(
            "Compared by {}; baseline {}; {} confidence intervals; n = runs. Records: {} read, {} accepted, {} rejected, {} CSV twins merged, {} duplicates counted once.",
            format!("{:?}", cmp.axis).to_lowercase(),
            cmp.baseline.as_deref().unwrap_or("—"),
            conf_pct(cmp.confidence),
            t.read,
            t.accepted,
            t.rejected,
            t.twins_merged,
            t.duplicates
        ))
    );
    let _ = writeln!(out, "= Configuration mismatches\n");
    if cmp.mismatches.is_empty() {
        let _ = writeln!(out, "{}\n", m("None: every comparable group ran the same workload shape on every side."));
    }
    for mm in &cmp.mismatches {
        let mut body = format!("{}: {}", mm.workload, mm.explanation);
        for f in &mm.fields {
            let vals: Vec<String> = f.values.iter().map(|(s, v)| format!("{s} = {v}")).collect();
            let _ = write!(body, "; {}: {}", f.field, vals.join(", "));
        }
        let _ = writeln!(out, "#warning-box(title: \"Configuration mismatch\")[{}]\n", m(&body));
    }
    if !cmp.hash_notes.is_empty() {
        let _ = writeln!(
            out,
            "{}\n",
            m(&format!(
                "Not a mismatch: in {} group(s) upstream's config_hash differs across sides only because upstream hashes the backend name into it; the backend-neutral workload-shape hash matches.",
                cmp.hash_notes.len()
            ))
        );
    }

    let _ = writeln!(out, "= Results\n");
    let _ = writeln!(out, "{}\n", m(&format!("Mean ± half-width of the {} Student-t interval over runs; a bare value means n = 1.", conf_pct(cmp.confidence))));
    let mut cells = Vec::new();
    for g in &cmp.groups {
        let label = if g.variant.is_empty() { g.workload.clone() } else { format!("{} ({})", g.workload, g.variant) };
        cells.push(c(&label));
        cells.push(c(&g.side));
        cells.push(c(&g.n.to_string()));
        cells.push(c(&mean_ci(&g.throughput)));
        cells.push(c(&mean_ci(&g.latency_p95)));
        cells.push(c(&mean_ci(&g.latency_p99)));
        cells.push(c(&g.success_rate.value.map(|v| format!("{v:.3}")).unwrap_or_else(|| "—".into())));
    }
    let _ = writeln!(
        out,
        "#data-table(columns: 7, header: ([workload], [side], [n], [throughput (items/s)], [p95 (ms)], [p99 (ms)], [success]), align: (left, left, right, right, right, right, right), {})\n",
        cells.join(", ")
    );
    if !cmp.comparisons.is_empty() {
        let _ = writeln!(out, "= Comparisons\n");
        let _ = writeln!(
            out,
            "{}\n",
            m(&crate::render::markdown::verdict_rule(cmp))
        );
        let mut cells = Vec::new();
        for x in &cmp.comparisons {
            cells.push(c(&x.workload));
            cells.push(c(x.metric.name()));
            cells.push(c(&format!("{} → {}", x.baseline, x.candidate)));
            cells.push(c(&format!("{}/{}", x.n_baseline, x.n_candidate)));
            let ratio = match (x.ratio, x.ci_low, x.ci_high) {
                (Some(r), Some(lo), Some(hi)) => format!("{} [{}, {}]", num(r), num(lo), num(hi)),
                (Some(r), _, _) => num(r),
                _ => "—".into(),
            };
            cells.push(c(&ratio));
            cells.push(c(&x.p_adjusted.map(|p| if p < 0.001 { "<0.001".to_string() } else { format!("{p:.3}") }).unwrap_or_else(|| "—".into())));
            cells.push(c(&crate::render::markdown::verdict_cell(x)));
        }
        let _ = writeln!(
            out,
            "#data-table(columns: 7, header: ([workload], [metric], [baseline → candidate], [n], [ratio \\[adj. CI\\]], [p (adj.)], [verdict]), align: (left, left, left, right, right, right, left), {})\n",
            cells.join(", ")
        );
    }
    let _ = Metric::ALL;
}

fn tables_body(out: &mut String, tables: &[PaperTable], ci: bool) {
    let _ = writeln!(out, "= Tables 1–6\n");
    for t in tables {
        let _ = writeln!(out, "== Table {}: {}\n", t.number, m(t.title));
        let _ = writeln!(out, "{}\n", m(&t.caption));
        for part in &t.parts {
            if let Some(title) = &part.title {
                let _ = writeln!(out, "_{}_\n", m(title));
            }
            let n = part.columns.len() + 2;
            let mut header = vec![c(&part.row_header)];
            header.extend(part.columns.iter().map(|col| c(&header_text(col))));
            header.push("[n]".into());
            let mut cells = Vec::new();
            for row in &part.rows {
                cells.push(c(&row.label));
                for (cell, col) in row.cells.iter().zip(&part.columns) {
                    cells.push(c(&cell_plain(cell, col, ci)));
                }
                cells.push(c(&row_n(&row.cells)));
            }
            let align: Vec<&str> = std::iter::once("left").chain(std::iter::repeat_n("right", n - 1)).collect();
            let _ = writeln!(
                out,
                "#data-table(columns: {n}, header: ({},), align: ({},), {})\n",
                header.join(", "),
                align.join(", "),
                cells.join(", ")
            );
        }
        for note in std::iter::once(format!("Cells: {}.", t.method)).chain(t.footnotes.iter().cloned()) {
            let _ = writeln!(out, "#text(size: 8pt)[{}]\n", m(&note));
        }
    }
}

/// Compile the whole report. `images` are `(path, PNG bytes, caption)`.
pub fn report_pdf(
    ctx: Option<&ReportContext<'_>>,
    tables: Option<&[PaperTable]>,
    images: Vec<(String, Vec<u8>, String)>,
    title: &str,
    provenance: &[String],
) -> anyhow::Result<Vec<u8>> {
    let mut body = String::from(TEMPLATE);
    let _ = writeln!(body, "\n#report-title({}, {})\n", lit(title), lit(&format!("sagereport {}", env!("CARGO_PKG_VERSION"))));
    if let Some(ctx) = ctx {
        comparison_body(&mut body, ctx);
    }
    let mut files = Vec::new();
    if !images.is_empty() {
        let _ = writeln!(body, "= Figures\n");
    }
    for (path, bytes, caption) in images {
        let _ = writeln!(body, "#figure-image({}, {}, alt: {})\n", lit(&path), c(&caption), lit(&caption));
        files.push((path, bytes));
    }
    if let Some(tables) = tables {
        tables_body(&mut body, tables, true);
    }
    let _ = writeln!(body, "= Provenance\n");
    for p in provenance {
        let _ = writeln!(body, "- {}", m(p));
    }
    compile_pdf(&body, files)
}

/// Render PNG charts into a private scratch folder and read them back.
pub fn collect_pngs(render: impl FnOnce(&Path) -> anyhow::Result<Vec<String>>) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let scratch = std::env::temp_dir().join(format!("sagereport-pdf-{}-{:?}", std::process::id(), std::thread::current().id()));
    if scratch.exists() {
        std::fs::remove_dir_all(&scratch)?;
    }
    std::fs::create_dir_all(&scratch)?;
    let result = render(&scratch).and_then(|names| {
        names
            .into_iter()
            .filter(|n| n.ends_with(".png"))
            .map(|n| Ok((format!("charts/{n}"), std::fs::read(scratch.join(&n))?)))
            .collect::<anyhow::Result<Vec<_>>>()
    });
    let _ = std::fs::remove_dir_all(&scratch);
    result
}

/// The whole PDF: the comparison with its charts, then (when `tables` has
/// data) the paper figures and Tables 1–6. Used by `pdf`, `compare --pdf`
/// and the site.
pub fn full_report_pdf(ctx: &ReportContext<'_>, tables: &[PaperTable], confidence: f64) -> anyhow::Result<Vec<u8>> {
    use crate::render::{charts::ComparisonCharts, paper_figures::write_figures, Renderer};
    let has_tables = tables.iter().any(|t| t.has_data());
    let mut images: Vec<(String, Vec<u8>, String)> = Vec::new();
    if !ctx.comparison.groups.is_empty() {
        let charts = ComparisonCharts;
        for (path, bytes) in collect_pngs(|dir| {
            charts.render(ctx, dir)?;
            Ok(charts.outputs(ctx))
        })? {
            let caption = if path.contains("throughput") { "Throughput by workload and side (mean, CI whiskers)." } else { "Latency p95 / p99 by workload and side (mean, CI whiskers)." };
            images.push((path, bytes, caption.to_string()));
        }
    }
    if has_tables {
        for (path, bytes) in collect_pngs(|dir| write_figures(tables, confidence, dir))? {
            let caption = format!("{} (from the same cells as Tables 1–6).", figure_caption(&path));
            images.push((path, bytes, caption));
        }
    }
    let title = format!("Benchmark report: {}", ctx.comparison.sides_baseline_first().join(" vs "));
    report_pdf(Some(ctx), has_tables.then_some(tables), images, &title, &provenance(ctx))
}

fn figure_caption(path: &str) -> &'static str {
    if path.contains("node_scalability") {
        "Node scalability per pipeline"
    } else if path.contains("scheduler") {
        "Scheduler trade-offs"
    } else if path.contains("throughput_latency") {
        "Throughput and P99 latency over concurrency"
    } else {
        "Job scaling and admission control"
    }
}

/// `report.pdf` in the compare bundle (`compare --pdf`).
pub struct ComparisonPdf;

impl crate::render::Renderer for ComparisonPdf {
    fn files(&self) -> Vec<&'static str> {
        vec!["report.pdf"]
    }

    fn render(&self, ctx: &ReportContext<'_>, dir: &Path) -> anyhow::Result<()> {
        std::fs::write(dir.join("report.pdf"), full_report_pdf(ctx, &[], ctx.comparison.confidence)?)?;
        Ok(())
    }
}

/// Tool, command, inputs: the lines that say where the report came from.
pub fn provenance(ctx: &ReportContext<'_>) -> Vec<String> {
    let mut lines = vec![format!("sagereport {}", ctx.version), format!("command: {}", ctx.command)];
    lines.extend(ctx.ingest.inputs.iter().map(|i| format!("input: {i}")));
    lines
}
