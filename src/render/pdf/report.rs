//! The PDF report's typst body: the verdict first (outcome counts, the
//! significant changes by effect size, the lead figure's place, then every
//! other comparison), mismatches, the statistics table, the charts and
//! Tables 1–6 — the same numbers as summary.md and the .tex
//! files, laid out by [`super::TEMPLATE`].

use super::layout::{self, Column};
use super::{compile_pdf, escape_markup as m, string_literal as lit, TEMPLATE};
use crate::analysis::compare::{Comparison, MetricComparison};
use crate::analysis::tables::PaperTable;
use crate::render::format::{change, conf_pct, interval_num, mean_ci, p_value};
use crate::render::tables::typst::tables_body;
use crate::render::verdicts::VerdictDigest;
use crate::render::ReportContext;
use std::fmt::Write as _;

/// `[escaped text]` content block.
fn c(text: &str) -> String {
    format!("[{}]", m(text))
}

/// Where the lead figure (the ratio forest plot) goes: a chart whose path
/// contains this is placed on the first page, right after the verdict
/// summary, instead of among the other figures.
pub const LEAD_FIGURE: &str = "ratio_forest";

fn workload_label(workload: &str, variant: &str) -> String {
    if variant.is_empty() {
        workload.to_string()
    } else {
        format!("{workload} ({variant})")
    }
}

/// The verdict cell of the PDF: like summary.md's, but a long note (why
/// there is no interval, why `unstable`) is a numbered reference into a
/// key under the table, so the column stays narrow.
fn verdict_text(x: &MetricComparison, notes: &mut Vec<String>) -> String {
    let mut key = |why: &str| {
        let i = notes.iter().position(|n| n == why).unwrap_or_else(|| {
            notes.push(why.to_string());
            notes.len() - 1
        });
        i + 1
    };
    match (x.verdict, x.runs_needed, &x.note) {
        (crate::analysis::compare::Verdict::Same, Some(n), _) => format!("~ (≈{n} runs/side to detect 5%)"),
        (v, _, Some(why)) => format!("{v} [{}]", key(why)),
        (v, _, None) => v.to_string(),
    }
}

/// A comparisons table (workload, metric, [baseline → candidate,] n,
/// ratio [CI], change, p (adj.), verdict) and the key of its notes.
fn comparisons_table(rows: &[&MetricComparison], same_pair: bool, allow_landscape: bool) -> layout::Laid {
    let mut columns = vec![Column::text("workload"), Column::text("metric")];
    if !same_pair {
        columns.push(Column::text("baseline → candidate"));
    }
    columns.extend([
        Column::num("n"),
        Column::num("ratio [adj. CI]"),
        Column::num("change"),
        Column::num("p (adj.)"),
        Column::text("verdict"),
    ]);
    let mut notes = Vec::new();
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|x| {
            let mut r = vec![workload_label(&x.workload, &x.variant), x.metric.name().to_string()];
            if !same_pair {
                r.push(format!("{} → {}", x.baseline, x.candidate));
            }
            r.push(format!("{}/{}", x.n_baseline, x.n_candidate));
            r.push(interval_num(x.ratio, x.ci_low, x.ci_high));
            r.push(change(x.change_pct()));
            r.push(p_value(x.p_adjusted));
            r.push(verdict_text(x, &mut notes));
            r
        })
        .collect();
    let mut laid = layout::lay_out(&columns, &cells, allow_landscape);
    for (i, note) in notes.iter().enumerate() {
        let _ = writeln!(laid.source, "\n#text(size: 8pt)[\\[{}\\] {}]", i + 1, m(note));
    }
    laid
}

fn comparison_body(out: &mut String, ctx: &ReportContext<'_>, lead_figure: Option<&str>) {
    let cmp: &Comparison = ctx.comparison;
    let t = &ctx.ingest.totals;
    // Page 1: the verdict — outcome counts, the significant changes by
    // effect size, the lead figure; everything else follows.
    let _ = writeln!(out, "= Verdict\n");
    let _ = writeln!(
        out,
        "{}\n",
        m(&format!(
            "Compared by {}; baseline {}; {} confidence intervals; n = runs. Records: {} read, {} accepted, {} rejected, {} CSV twins merged, {} duplicates counted once.",
            cmp.axis.name(),
            cmp.baseline.as_deref().unwrap_or("—"),
            conf_pct(cmp.confidence),
            t.read,
            t.accepted,
            t.rejected,
            t.twins_merged,
            t.duplicates
        ))
    );
    let digest = VerdictDigest::of(cmp);
    // One baseline → candidate pair for every row: said once, not per row.
    let pairs: std::collections::BTreeSet<(&str, &str)> = cmp
        .comparisons
        .iter()
        .map(|x| (x.baseline.as_str(), x.candidate.as_str()))
        .collect();
    let same_pair = pairs.len() == 1;
    if cmp.comparisons.is_empty() {
        let _ = writeln!(
            out,
            "{}\n",
            m("No group has both the baseline and another side: nothing to compare.")
        );
    } else {
        let _ = writeln!(
            out,
            "#text(size: 12pt)[*{}*] {}\n",
            m(&digest.counts_line()),
            m(&format!(
                "({} comparison{}{})",
                cmp.comparisons.len(),
                if cmp.comparisons.len() == 1 { "" } else { "s" },
                match pairs.iter().next() {
                    Some((b, c)) if same_pair => format!(", {c} against baseline {b}"),
                    _ => String::new(),
                }
            ))
        );
        if digest.mismatches > 0 {
            let _ = writeln!(
                out,
                "#warning-box(title: \"Configuration mismatch\")[{}]\n",
                m(&format!("{} group(s) compared different workload shapes: their ratios compare unlike runs (see Configuration mismatches).", digest.mismatches))
            );
        }
        if digest.changes.is_empty() {
            let _ = writeln!(out, "{}\n", m("No significant change."));
        } else {
            let _ = writeln!(
                out,
                "{}\n",
                m("Significant changes, worse first, then better; each largest effect (absolute log ratio) first:")
            );
            let _ = writeln!(out, "{}", comparisons_table(&digest.changes, same_pair, false).source);
        }
    }
    // The lead figure's place (the ratio forest plot, when the charts
    // provide one).
    if let Some(path) = lead_figure {
        let _ = writeln!(
            out,
            "#figure-image({}, [{}], alt: {})\n",
            lit(path),
            m(LEAD_CAPTION),
            lit(LEAD_CAPTION)
        );
    }
    if !cmp.comparisons.is_empty() {
        let _ = writeln!(
            out,
            "#text(size: 9pt)[{}]\n",
            m(&crate::render::verdicts::verdict_rule(cmp))
        );
    }
    let _ = writeln!(out, "= Configuration mismatches\n");
    if cmp.mismatches.is_empty() {
        let _ = writeln!(
            out,
            "{}\n",
            m("None: every comparable group ran the same workload shape on every side.")
        );
    }
    for mm in &cmp.mismatches {
        let mut body = format!("{}: {}", workload_label(&mm.workload, &mm.variant), mm.explanation);
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

    if !digest.rest.is_empty() {
        let laid = comparisons_table(&digest.rest, same_pair, true);
        // After the mismatches (short), so no page is left nearly empty
        // between two landscape tables.
        let heading = if digest.changes.is_empty() {
            "Comparisons"
        } else {
            "Other comparisons"
        };
        let mut section = format!("= {heading}\n\n{}\n\n", m(&format!("{}.", digest.rest_title())));
        section.push_str(&laid.source);
        out.push_str(&layout::on_page(laid.landscape, &section));
    }

    let columns = [
        Column::text("workload"),
        Column::text("side"),
        Column::num("n"),
        Column::num("throughput (items/s)"),
        Column::num("p95 (ms)"),
        Column::num("p99 (ms)"),
        Column::num("success"),
    ];
    let rows: Vec<Vec<String>> = cmp
        .groups
        .iter()
        .map(|g| {
            vec![
                workload_label(&g.workload, &g.variant),
                g.side.clone(),
                g.n.to_string(),
                mean_ci(&g.throughput),
                mean_ci(&g.latency_p95),
                mean_ci(&g.latency_p99),
                g.success_rate
                    .value
                    .map(|v| format!("{v:.3}"))
                    .unwrap_or_else(|| "—".into()),
            ]
        })
        .collect();
    let laid = layout::lay_out(&columns, &rows, true);
    let mut section = String::from("= Results\n\n");
    let _ = writeln!(
        section,
        "{}\n",
        m(&format!(
            "Mean ± half-width of the {} Student-t interval over runs; a bare value means n = 1.",
            conf_pct(cmp.confidence)
        ))
    );
    section.push_str(&laid.source);
    out.push_str(&layout::on_page(laid.landscape, &section));
}

const LEAD_CAPTION: &str = "Ratio candidate / baseline per comparison with its adjusted interval.";

/// Compile the whole report. `images` are `(path, PNG bytes, caption)`.
pub fn report_pdf(
    ctx: Option<&ReportContext<'_>>,
    tables: Option<&[PaperTable]>,
    images: Vec<(String, Vec<u8>, String)>,
    title: &str,
    provenance: &[String],
) -> anyhow::Result<Vec<u8>> {
    let mut body = String::from(TEMPLATE);
    let _ = writeln!(
        body,
        "\n#report-title({}, {})\n",
        lit(title),
        lit(&format!("sagereport {}", env!("CARGO_PKG_VERSION")))
    );
    let mut files = Vec::new();
    // The lead figure (the forest plot) goes on page 1 after the verdict.
    let mut images = images;
    let lead = images
        .iter()
        .position(|(path, _, _)| ctx.is_some() && path.contains(LEAD_FIGURE))
        .map(|i| images.remove(i));
    let lead_path = lead.as_ref().map(|(path, _, _)| path.clone());
    files.extend(lead.into_iter().map(|(path, bytes, _)| (path, bytes)));
    if let Some(ctx) = ctx {
        comparison_body(&mut body, ctx, lead_path.as_deref());
    }
    if !images.is_empty() {
        let _ = writeln!(body, "= Figures\n");
    }
    for (path, bytes, caption) in images {
        let _ = writeln!(
            body,
            "#figure-image({}, {}, alt: {})\n",
            lit(&path),
            c(&caption),
            lit(&caption)
        );
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

/// The PDF's images of `figures`: path under `charts/`, PNG bytes (the
/// bytes the bundle writes) and the figure's own caption; drawn in parallel.
fn figure_images<C: crate::render::chart::Drawing>(
    figures: Vec<crate::render::chart::Figure<C>>,
) -> anyhow::Result<Vec<(String, Vec<u8>, String)>> {
    use rayon::prelude::*;
    let pngs: Vec<anyhow::Result<Vec<u8>>> = figures.par_iter().map(|f| f.png()).collect();
    figures
        .into_iter()
        .zip(pngs)
        .map(|(f, png)| Ok((format!("charts/{}.png", f.stem), png?, f.caption)))
        .collect()
}

/// The whole PDF: the comparison with its charts, then (when `tables` has
/// data) the paper figures and Tables 1–6. Used by `pdf`, `compare --pdf`
/// and the site.
pub fn full_report_pdf(ctx: &ReportContext<'_>, tables: &[PaperTable], confidence: f64) -> anyhow::Result<Vec<u8>> {
    use crate::render::{charts::comparison_figures, forest::forest_figures, paper_figures::paper_figures};
    let has_tables = tables.iter().any(|t| t.has_data());
    let mut images: Vec<(String, Vec<u8>, String)> = Vec::new();
    if !ctx.comparison.comparisons.is_empty() {
        // The forest plot: its first page leads page 1, the others are figures.
        images.extend(figure_images(forest_figures(ctx.comparison, ctx.threshold))?);
    }
    if !ctx.comparison.groups.is_empty() {
        images.extend(figure_images(comparison_figures(ctx))?);
    }
    if has_tables {
        images.extend(figure_images(paper_figures(tables, confidence))?);
    }
    let title = format!(
        "Benchmark report: {}",
        ctx.comparison.sides_baseline_first().join(" vs ")
    );
    report_pdf(
        Some(ctx),
        has_tables.then_some(tables),
        images,
        &title,
        &provenance(ctx),
    )
}

/// `report.pdf` in the compare bundle (`compare --pdf`).
pub struct ComparisonPdf;

impl crate::render::Renderer for ComparisonPdf {
    fn name(&self) -> &'static str {
        "report.pdf"
    }

    fn render(&self, ctx: &ReportContext<'_>) -> anyhow::Result<Vec<crate::render::OutFile>> {
        Ok(vec![(
            "report.pdf".into(),
            full_report_pdf(ctx, &[], ctx.comparison.confidence)?,
        )])
    }
}

/// Tool, command, inputs: the lines that say where the report came from.
pub fn provenance(ctx: &ReportContext<'_>) -> Vec<String> {
    let mut lines = vec![
        format!("sagereport {}", ctx.version),
        format!("command: {}", ctx.command),
    ];
    lines.extend(ctx.ingest.inputs.iter().map(|i| format!("input: {i}")));
    lines
}
