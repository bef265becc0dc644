//! The figures a paper shows beside Tables 1–6, drawn from the same cells
//! (so a figure and its table can never disagree): node scalability,
//! scheduler trade-offs, the throughput–latency curve, job scaling and
//! admission control. Each figure carries its caption for the PDF.

use super::chart::lines::{LineChart, LinePoint, LineSeries, Panel, Panels};
use super::chart::{Drawing, Figure};
use crate::analysis::tables::{PaperTable, TableCell, TablePart};

fn point(x: f64, c: &TableCell) -> Option<LinePoint> {
    Some(LinePoint {
        x,
        y: c.value?,
        ci: c.ci_low.zip(c.ci_high),
        n: c.n,
    })
}

fn note(confidence: f64) -> Option<String> {
    Some(format!(
        "whiskers: {} CI · computed from the same cells as the tables",
        super::format::conf_pct(confidence)
    ))
}

fn table(tables: &[PaperTable], number: u8) -> Option<&PaperTable> {
    tables.iter().find(|t| t.number == number && t.has_data())
}

/// Series of a part whose rows are numeric (x) and whose columns `cols` are one series each.
fn series_by_rows(part: &TablePart, cols: &[(usize, String)]) -> Vec<LineSeries> {
    cols.iter()
        .map(|(c, name)| LineSeries {
            name: name.clone(),
            points: part.rows.iter().filter_map(|r| point(r.x?, &r.cells[*c])).collect(),
        })
        .filter(|s| !s.points.is_empty())
        .collect()
}

/// A paper figure: a line chart or panels.
pub type PaperFigure = Figure<Box<dyn Drawing + Send>>;

fn figure(stem: &str, what: &str, chart: impl Drawing + Send + 'static) -> PaperFigure {
    Figure {
        stem: stem.to_string(),
        caption: format!("{what} (from the same cells as Tables 1–6)."),
        chart: Box::new(chart),
    }
}

/// Every figure whose table has data, in the order of the tables.
pub fn paper_figures(tables: &[PaperTable], confidence: f64) -> Vec<PaperFigure> {
    let mut files = Vec::new();

    // Figure for Table 1: throughput vs nodes, one line per pipeline.
    if let Some(t) = table(tables, 1) {
        let part = &t.parts[0];
        let series: Vec<LineSeries> = part
            .rows
            .iter()
            .map(|r| LineSeries {
                name: r.label.clone(),
                points: part
                    .columns
                    .iter()
                    .zip(&r.cells)
                    .filter_map(|(c, cell)| point(c.x?, cell))
                    .collect(),
            })
            .filter(|s| !s.points.is_empty())
            .collect();
        let chart = LineChart {
            title: "Node scalability (Table 1)".into(),
            x_label: "nodes".into(),
            y_label: "throughput (tasks/s)".into(),
            log2_x: true,
            series,
            note: note(confidence),
        };
        files.push(figure("fig_node_scalability", "Node scalability per pipeline", chart));
    }

    // Figure for Table 3: one panel per metric, bars per scheduler.
    if let Some(t) = table(tables, 3) {
        let part = &t.parts[0];
        let panels = part
            .columns
            .iter()
            .enumerate()
            .map(|(c, col)| Panel::Bars {
                title: col.header.clone(),
                y_label: super::tables::header_text(col),
                bars: part
                    .rows
                    .iter()
                    .filter_map(|r| {
                        let cell = &r.cells[c];
                        Some((r.label.clone(), cell.value?, cell.ci_low.zip(cell.ci_high), cell.n))
                    })
                    .collect(),
            })
            .collect();
        let p = Panels {
            title: "Scheduler trade-offs (Table 3)".into(),
            panels,
            columns: 3,
            note: note(confidence),
        };
        files.push(figure("fig_scheduler_tradeoffs", "Scheduler trade-offs", p));
    }

    // Figure for Table 4: throughput and P99 over concurrency, per pipeline.
    if let Some(t) = table(tables, 4) {
        let part = &t.parts[0];
        let names: Vec<String> = if part.groups.is_empty() {
            vec!["all".into()]
        } else {
            part.groups.iter().map(|g| g.title.clone()).collect()
        };
        let tput: Vec<(usize, String)> = names.iter().enumerate().map(|(i, n)| (2 * i, n.clone())).collect();
        let p99: Vec<(usize, String)> = names.iter().enumerate().map(|(i, n)| (2 * i + 1, n.clone())).collect();
        let chart = |title: &str, y: &str, cols: &[(usize, String)]| LineChart {
            title: title.into(),
            x_label: "concurrency".into(),
            y_label: y.into(),
            log2_x: true,
            series: series_by_rows(part, cols),
            note: None,
        };
        let p = Panels {
            title: "Throughput–latency curve over concurrency (Table 4)".into(),
            panels: vec![
                Panel::Lines(chart("Throughput", "throughput (tasks/s)", &tput)),
                Panel::Lines(chart("P99 latency", "P99 (ms)", &p99)),
            ],
            columns: 2,
            note: note(confidence),
        };
        files.push(figure(
            "fig_throughput_latency",
            "Throughput and P99 latency over concurrency",
            p,
        ));
    }

    // Figure for Table 6: job scaling and admission control.
    if let Some(t) = table(tables, 6) {
        let jobs = &t.parts[0];
        let delay = &t.parts[1];
        let scaling = LineChart {
            title: "Job scaling".into(),
            x_label: "concurrent jobs".into(),
            y_label: "throughput (tasks/s)".into(),
            log2_x: true,
            series: series_by_rows(jobs, &[(0, "total".into()), (1, "per job".into())]),
            note: None,
        };
        let admission = Panel::Bars {
            title: "Admission control: P99 by start delay".into(),
            y_label: "P99 (ms)".into(),
            bars: delay
                .rows
                .iter()
                .filter_map(|r| {
                    let c = &r.cells[1];
                    Some((r.label.clone(), c.value?, c.ci_low.zip(c.ci_high), c.n))
                })
                .collect(),
        };
        let p = Panels {
            title: "Parallel jobs (Table 6)".into(),
            panels: vec![Panel::Lines(scaling), admission],
            columns: 2,
            note: note(confidence),
        };
        files.push(figure("fig_parallel_jobs", "Job scaling and admission control", p));
    }
    files
}
