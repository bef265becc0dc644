//! The PDF report's typst body: the verdict first (outcome counts, the
//! significant changes by effect size, the lead figure's place, then every
//! other comparison), mismatches, the statistics table, the charts and
//! Tables 1–6 — the same numbers as summary.md and the .tex
//! files, laid out by [`super::TEMPLATE`].

use super::layout::{self, Column};
use super::{compile_pdf, escape_markup as m, string_literal as lit, TEMPLATE};
use crate::analysis::compare::{Comparison, MetricComparison, Verdict};
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

/// How much of a large report the PDF prints. Every comparison is in the
/// ratio forest plot; the tables, mismatch boxes and bar charts stop at
/// these counts and say where the rest is (summary.md, summary.json and
/// comparison.csv of the compare bundle), so the PDF's size, build time
/// and memory stay bounded however many workloads the inputs hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PdfLimits {
    /// Rows of each table: the significant changes, the other
    /// comparisons, the per-group statistics.
    pub table_rows: usize,
    /// Configuration-mismatch boxes.
    pub mismatches: usize,
    /// Grouped-bar chart figures (throughput and latency facets together).
    pub bar_figures: usize,
}

impl PdfLimits {
    /// The limits of `pdf`, `compare --pdf` and the site's PDF (README, "Limits").
    pub const DEFAULT: PdfLimits = PdfLimits {
        table_rows: 100,
        mismatches: 50,
        bar_figures: 20,
    };
}

/// Where everything a truncated part of the PDF leaves out is.
const ELSEWHERE: &str =
    "the compare bundle's summary.md and summary.json hold every comparison and group, comparison.csv every record";

/// The line under a table cut at `shown` of `total` `what`, e.g. `Table cut: 200 of 1035 comparisons shown …`.
fn cut_note(shown: usize, total: usize, what: &str, order: &str) -> String {
    format!(
        "#text(size: 9pt)[{}]\n\n",
        m(&format!(
            "The table stops here: {shown} of {total} {what} shown ({order}); the other {} are not printed in this PDF — {ELSEWHERE}.",
            total - shown
        ))
    )
}

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
        (Verdict::Same, Some(n), _) => format!("~ (≈{n} runs/side to detect 5%)"),
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

/// `lead_figure`: the markup of the figure that follows the verdict (the
/// forest plot's first page).
fn comparison_body(out: &mut String, ctx: &ReportContext<'_>, lead_figure: Option<&str>, limits: &PdfLimits) {
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
            let shown = &digest.changes[..digest.changes.len().min(limits.table_rows)];
            let _ = writeln!(out, "{}", comparisons_table(shown, same_pair, false).source);
            if shown.len() < digest.changes.len() {
                let worse = shown.iter().filter(|x| x.verdict == Verdict::Worse).count();
                out.push_str(&cut_note(
                    shown.len(),
                    digest.changes.len(),
                    "significant changes",
                    &format!(
                        "{worse} of the {} worse and {} of the {} better, largest effects first; the ratio forest plot shows every comparison",
                        digest.worse,
                        shown.len() - worse,
                        digest.better
                    ),
                ));
            }
        }
    }
    // The lead figure's place (the ratio forest plot, when the charts
    // provide one).
    if let Some(markup) = lead_figure {
        let _ = writeln!(out, "{markup}");
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
    for mm in cmp.mismatches.iter().take(limits.mismatches) {
        let mut body = format!("{}: {}", workload_label(&mm.workload, &mm.variant), mm.explanation);
        for f in &mm.fields {
            let vals: Vec<String> = f.values.iter().map(|(s, v)| format!("{s} = {v}")).collect();
            let _ = write!(body, "; {}: {}", f.field, vals.join(", "));
        }
        let _ = writeln!(out, "#warning-box(title: \"Configuration mismatch\")[{}]\n", m(&body));
    }
    if cmp.mismatches.len() > limits.mismatches {
        let _ = writeln!(
            out,
            "#warning-box(title: \"{} more configuration mismatches\")[{}]\n",
            cmp.mismatches.len() - limits.mismatches,
            m(&format!(
                "The first {} of {} mismatches are shown above, in report order; summary.md and summary.json of the compare bundle list every one with its fields and files.",
                limits.mismatches,
                cmp.mismatches.len()
            ))
        );
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
        let shown = &digest.rest[..digest.rest.len().min(limits.table_rows)];
        let laid = comparisons_table(shown, same_pair, true);
        // After the mismatches (short), so no page is left nearly empty
        // between two landscape tables.
        let heading = if digest.changes.is_empty() {
            "Comparisons"
        } else {
            "Other comparisons"
        };
        let mut section = format!("= {heading}\n\n{}\n\n", m(&format!("{}.", digest.rest_title())));
        section.push_str(&laid.source);
        if shown.len() < digest.rest.len() {
            section.push_str(&cut_note(
                shown.len(),
                digest.rest.len(),
                "comparisons",
                "the first in report order; the ratio forest plot shows every comparison",
            ));
        }
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
        .take(limits.table_rows)
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
    if rows.len() < cmp.groups.len() {
        section.push_str(&cut_note(
            rows.len(),
            cmp.groups.len(),
            "groups",
            "the first in report order",
        ));
    }
    out.push_str(&layout::on_page(laid.landscape, &section));
}

const LEAD_CAPTION: &str = "Ratio candidate / baseline per comparison with its adjusted interval.";

/// What follows the comparison, in order.
pub enum Part {
    /// An image file as a figure: path, bytes, caption.
    Figure(String, Vec<u8>, String),
    /// Page `k` (from 1) of a PDF file given by a [`Part::File`], as a figure: path, k, caption.
    Page(String, usize, String),
    /// A file the pages read: path, bytes.
    File(String, Vec<u8>),
    /// A short paragraph between figures.
    Note(String),
}

/// A figure of `image(path)` (or page `page` of a PDF) with its caption.
fn figure_markup(path: &str, page: Option<usize>, caption: &str, caption_markup: &str) -> String {
    let page = page.map(|k| format!(", page: {k}")).unwrap_or_default();
    if page.is_empty() {
        format!(
            "#figure-image({}, {caption_markup}, alt: {})\n",
            lit(path),
            lit(caption)
        )
    } else {
        format!(
            "#figure(image({}{page}, width: 100%, alt: {}), caption: {caption_markup})\n",
            lit(path),
            lit(caption)
        )
    }
}

/// Compile the whole report.
pub fn report_pdf(
    ctx: Option<&ReportContext<'_>>,
    tables: Option<&[PaperTable]>,
    parts: Vec<Part>,
    title: &str,
    provenance: &[String],
    limits: &PdfLimits,
) -> anyhow::Result<Vec<u8>> {
    let mut body = String::from(TEMPLATE);
    let _ = writeln!(
        body,
        "\n#report-title({}, {})\n",
        lit(title),
        lit(&format!("sagereport {}", env!("CARGO_PKG_VERSION")))
    );
    let mut files = Vec::new();
    let mut parts: Vec<Part> = parts
        .into_iter()
        .filter_map(|p| match p {
            Part::File(path, bytes) => {
                files.push((path, bytes));
                None
            }
            p => Some(p),
        })
        .collect();
    // The lead figure (the forest plot) goes on page 1 after the verdict.
    let lead = parts
        .iter()
        .position(|p| {
            ctx.is_some() && matches!(p, Part::Figure(path, ..) | Part::Page(path, ..) if path.contains(LEAD_FIGURE))
        })
        .map(|i| parts.remove(i));
    let lead = match lead {
        Some(Part::Figure(path, bytes, _)) => {
            let markup = figure_markup(&path, None, LEAD_CAPTION, &format!("[{}]", m(LEAD_CAPTION)));
            files.push((path, bytes));
            Some(markup)
        }
        Some(Part::Page(path, k, _)) => Some(figure_markup(
            &path,
            Some(k),
            LEAD_CAPTION,
            &format!("[{}]", m(LEAD_CAPTION)),
        )),
        _ => None,
    };
    if let Some(ctx) = ctx {
        comparison_body(&mut body, ctx, lead.as_deref(), limits);
    }
    if !parts.is_empty() {
        let _ = writeln!(body, "= Figures\n");
    }
    for part in parts {
        match part {
            Part::Figure(path, bytes, caption) => {
                let _ = writeln!(body, "{}", figure_markup(&path, None, &caption, &c(&caption)));
                files.push((path, bytes));
            }
            Part::Page(path, k, caption) => {
                let _ = writeln!(body, "{}", figure_markup(&path, Some(k), &caption, &c(&caption)));
            }
            Part::Note(text) => {
                let _ = writeln!(body, "#text(size: 9pt)[{}]\n", m(&text));
            }
            Part::File(..) => {}
        }
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

/// The PDF's figures of `figures`: path under `charts/`, PNG bytes (the
/// bytes the bundle writes) and the figure's own caption; drawn in parallel.
fn figure_images<C: crate::render::chart::Drawing>(
    figures: Vec<crate::render::chart::Figure<C>>,
) -> anyhow::Result<Vec<Part>> {
    use rayon::prelude::*;
    let pngs: Vec<anyhow::Result<Vec<u8>>> = figures.par_iter().map(|f| f.png()).collect();
    figures
        .into_iter()
        .zip(pngs)
        .map(|(f, png)| Ok(Part::Figure(format!("charts/{}.png", f.stem), png?, f.caption)))
        .collect()
}

/// Forest plots up to this many pages are embedded as the bundle's own PNG
/// pages; a longer one is drawn as vector pages (one PDF file, see
/// [`super::vector`]): each PNG page costs typst about 40 MB of memory and
/// 0.1 s, a vector page a few kilobytes, so every comparison of even a
/// 15,000-workload report stays in the PDF.
pub const RASTER_FOREST_PAGES: usize = 4;

/// The forest plot's pages as parts of the PDF.
fn forest_parts(
    figures: &[crate::render::chart::Figure<crate::render::forest::ForestPage>],
) -> anyhow::Result<Vec<Part>> {
    if figures.len() <= RASTER_FOREST_PAGES {
        return figure_images(figures.to_vec());
    }
    vector_parts(figures, crate::render::forest::STEM, crate::render::forest::page_vector)
}

/// `figures` drawn as vector pages by `draw`, in files of
/// [`FOREST_PAGES_PER_FILE`] pages (`charts/<stem>.pdf`,
/// `charts/<stem>-part2.pdf`, …), each page a figure with its caption.
fn vector_parts<C: Sync>(
    figures: &[crate::render::chart::Figure<C>],
    stem: &str,
    draw: impl Fn(&C) -> anyhow::Result<super::vector::VectorPage> + Sync,
) -> anyhow::Result<Vec<Part>> {
    use rayon::prelude::*;
    let pages: Vec<anyhow::Result<super::vector::VectorPage>> = figures.par_iter().map(|f| draw(&f.chart)).collect();
    let pages: Vec<super::vector::VectorPage> = pages.into_iter().collect::<anyhow::Result<_>>()?;
    // Files of a few pages each: typst hashes a page's whole file once per
    // page it shows, so one file of every page would cost pages² bytes.
    let mut parts = Vec::new();
    let files: Vec<anyhow::Result<Vec<u8>>> = pages
        .par_chunks(FOREST_PAGES_PER_FILE)
        .map(super::vector::document)
        .collect();
    let mut captions = figures.iter().map(|f| f.caption.clone());
    for (i, file) in files.into_iter().enumerate() {
        let path = if i == 0 {
            format!("charts/{stem}.pdf")
        } else {
            format!("charts/{stem}-part{}.pdf", i + 1)
        };
        let file = file?;
        let in_file = pages.len().min((i + 1) * FOREST_PAGES_PER_FILE) - i * FOREST_PAGES_PER_FILE;
        parts.push(Part::File(path.clone(), file));
        for k in 1..=in_file {
            parts.push(Part::Page(path.clone(), k, captions.next().unwrap_or_default()));
        }
    }
    Ok(parts)
}

/// Vector pages per embedded file.
const FOREST_PAGES_PER_FILE: usize = 16;

/// The whole PDF: the comparison with its charts, then (when `tables` has
/// data) the paper figures and Tables 1–6, within [`PdfLimits::DEFAULT`].
/// Used by `pdf`, `compare --pdf` and the site.
pub fn full_report_pdf(ctx: &ReportContext<'_>, tables: &[PaperTable], confidence: f64) -> anyhow::Result<Vec<u8>> {
    report_within(
        ctx,
        tables,
        confidence,
        &PdfLimits::DEFAULT,
        &crate::render::ReportFigures::of(ctx),
    )
}

/// [`full_report_pdf`] within `limits`, with the report's figures made beforehand.
pub fn report_within(
    ctx: &ReportContext<'_>,
    tables: &[PaperTable],
    confidence: f64,
    limits: &PdfLimits,
    figures: &crate::render::ReportFigures,
) -> anyhow::Result<Vec<u8>> {
    use crate::render::paper_figures::paper_figures;
    let has_tables = tables.iter().any(|t| t.has_data());
    let mut parts: Vec<Part> = Vec::new();
    if !ctx.comparison.comparisons.is_empty() {
        // The forest plot: its first page leads page 1, the others are figures.
        parts.extend(forest_parts(&figures.forest)?);
    }
    if !ctx.comparison.groups.is_empty() {
        let first = crate::render::charts::FirstFigures::of(&figures.bars, limits.bar_figures);
        let (cut, shown) = (first.cut(), first.shown());
        if cut {
            // A large report's bar charts are vector pages too (no pixel
            // buffers for typst to decode and compress again).
            parts.extend(vector_parts(
                &first.figures,
                "bar_charts",
                crate::render::chart::bars::vector_page,
            )?);
        } else {
            parts.extend(figure_images(first.figures)?);
        }
        if cut {
            parts.push(Part::Note(format!(
                "The bar charts stop here: {shown}. The compare bundle holds them all (throughput_comparison*.png, latency_p95_p99_comparison*.png, with SVG twins) and its summary.md says which groups each one draws."
            )));
        }
    }
    if has_tables {
        parts.extend(figure_images(paper_figures(tables, confidence))?);
    }
    let title = format!(
        "Benchmark report: {}",
        ctx.comparison.sides_baseline_first().join(" vs ")
    );
    report_pdf(
        Some(ctx),
        has_tables.then_some(tables),
        parts,
        &title,
        &provenance(ctx),
        limits,
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
