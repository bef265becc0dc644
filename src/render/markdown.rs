//! `summary.md`: the verdict first (outcome counts, the significant
//! changes by effect size with ratio, interval and verdict, everything else
//! collapsed; `~` = no significant difference), then mismatches, loud, per
//! side × workload statistics with intervals, record accounting and
//! provenance.

use super::escape::{code, markdown as esc, markdown_line_start};
use super::{ReportContext, Renderer};
use crate::analysis::compare::{Comparison, GroupStats, Metric, MetricComparison, MetricStats};
use super::verdicts::VerdictDigest;
use crate::model::Severity;
use std::fmt::Write as _;
use std::path::Path;

pub struct SummaryMarkdown;

/// Rejected lines listed in the summary before the rest are counted.
const REJECTED_SHOWN: usize = 20;

impl Renderer for SummaryMarkdown {
    fn files(&self) -> Vec<&'static str> {
        vec!["summary.md"]
    }

    fn render(&self, ctx: &ReportContext<'_>, dir: &Path) -> anyhow::Result<()> {
        std::fs::write(dir.join("summary.md"), summary_markdown(ctx))?;
        Ok(())
    }
}

/// A number with precision fixed by magnitude (4 significant digits, at
/// most 3 decimals), so tables stay aligned and nothing over-reads noise.
pub fn num(x: f64) -> String {
    let a = x.abs();
    let decimals = if a >= 1000.0 {
        0
    } else if a >= 100.0 {
        1
    } else if a >= 10.0 {
        2
    } else {
        3
    };
    format!("{x:.decimals$}")
}

/// Decimals that show `half_width` to 3 significant digits (0..=4): the
/// mean is printed to the same place, so no digit below the noise is shown.
fn ci_decimals(half_width: f64) -> usize {
    if !(half_width.is_finite() && half_width > 0.0) {
        return 3;
    }
    (2 - half_width.log10().floor() as i64).clamp(0, 4) as usize
}

/// `mean ± half-width` or the bare value when there is no interval.
pub fn mean_ci(s: &MetricStats) -> String {
    match (s.mean, s.ci_low, s.ci_high) {
        (Some(m), Some(lo), Some(hi)) => {
            let hw = (hi - lo) / 2.0;
            let d = ci_decimals(hw);
            format!("{m:.d$} ± {hw:.d$}")
        }
        (Some(m), _, _) => num(m),
        _ => "—".into(),
    }
}

/// Unverified notes listed in full before the rest is counted.
const UNVERIFIED_SHOWN: usize = 20;

/// The rule every verdict follows, with this report's family size and
/// adjusted level: one line for summary.md, the PDF and the site.
pub fn verdict_rule(c: &Comparison) -> String {
    let level = 1.0 - c.adjusted_alpha;
    format!(
        "Ratio = candidate mean / baseline mean over runs (n = runs per side). A comparison is significant when \
         its interval excludes 1; interval and p come from the same test (Welch's t of ratio = 1, inverted by \
         Fieller), so they always agree. Multiple comparisons: {} over {} comparison{}, adjusted level α* = {} — \
         the intervals shown are {} intervals (unadjusted {} in summary.json). ~ = no significant difference \
         (with the runs per side the test would need to detect 5 %); unstable = the exact Mann–Whitney test \
         (MW p) and the means disagree, e.g. one outlier run; n/a = no ratio (fewer than 2 runs on a side, or a \
         zero baseline).",
        c.correction.label(),
        c.family_size,
        if c.family_size == 1 { "" } else { "s" },
        fmt_alpha(c.adjusted_alpha),
        pct_level(level),
        conf_pct(c.confidence)
    )
}

fn fmt_alpha(a: f64) -> String {
    if a >= 0.001 {
        format!("{a:.4}")
    } else {
        format!("{a:.2e}")
    }
}

/// A confidence level like `99.97 %`: enough decimals to show α with two
/// significant digits, trailing zeros dropped.
pub fn pct_level(level: f64) -> String {
    let alpha_pct = ((1.0 - level) * 100.0).max(1e-12);
    let decimals = (1 - alpha_pct.log10().floor() as i32).clamp(0, 8) as usize;
    let text = format!("{:.*}", decimals, level * 100.0);
    let text = if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.').to_string() } else { text };
    format!("{text} %")
}

/// The verdict cell: the verdict, and for `~` the runs needed, for `n/a`
/// and `unstable` the reason.
pub fn verdict_cell(m: &crate::analysis::compare::MetricComparison) -> String {
    use crate::analysis::compare::Verdict;
    match (m.verdict, m.runs_needed, &m.note) {
        (Verdict::Same, Some(n), _) => format!("~ (≈{n} runs/side to detect 5%)"),
        (Verdict::Same, None, Some(why)) => format!("~ ({})", esc(why)),
        (Verdict::NoVerdict, _, Some(why)) => format!("n/a ({})", esc(why)),
        (Verdict::Unstable, _, _) => "unstable (MW and means disagree)".into(),
        (v, _, _) => v.to_string(),
    }
}

/// A confidence level as a percentage without trailing zeros: 0.95 → `95%`.
pub fn conf_pct(confidence: f64) -> String {
    let p = format!("{:.2}", confidence * 100.0);
    format!("{}%", p.trim_end_matches('0').trim_end_matches('.'))
}

fn pct(x: f64) -> String {
    format!("{:+.1}%", x)
}

fn pval(p: Option<f64>) -> String {
    match p {
        Some(p) if p < 0.001 => "<0.001".into(),
        Some(p) => format!("{p:.3}"),
        None => "—".into(),
    }
}

fn label(workload: &str, variant: &str) -> String {
    if variant.is_empty() {
        esc(workload)
    } else {
        format!("{} ({})", esc(workload), esc(variant))
    }
}

pub fn summary_markdown(ctx: &ReportContext<'_>) -> String {
    let c = ctx.comparison;
    let t = &ctx.ingest.totals;
    let mut s = String::new();
    // Baseline first, then the other sides by name.
    let mut sides: Vec<String> = c.baseline.iter().map(|b| esc(b)).collect();
    sides.extend(c.sides.iter().filter(|x| Some(*x) != c.baseline.as_ref()).map(|x| esc(x)));
    let _ = writeln!(s, "# Comparison: {}", if sides.is_empty() { "no data".into() } else { sides.join(" vs ") });
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "Compared by **{}**; baseline **{}**; {} confidence intervals; n = runs. \
         Records: {} accepted, {} rejected.",
        c.axis.name(),
        c.baseline.as_deref().map(esc).unwrap_or_else(|| "—".into()),
        conf_pct(c.confidence),
        t.accepted,
        t.rejected
    );
    let _ = writeln!(s);

    // The verdict first: counts, the significant changes by effect size,
    // everything else collapsed, then the rule they follow.
    let _ = writeln!(s, "## Verdict");
    let _ = writeln!(s);
    if c.comparisons.is_empty() {
        let _ = writeln!(s, "No group has both the baseline and another side: nothing to compare.");
        let _ = writeln!(s);
    } else {
        let d = VerdictDigest::of(c);
        let _ = writeln!(s, "**{}** ({} comparison{}).", d.counts_line(), c.comparisons.len(), if c.comparisons.len() == 1 { "" } else { "s" });
        let _ = writeln!(s);
        if d.mismatches > 0 {
            let _ = writeln!(
                s,
                "> **⚠ {} configuration mismatch{}**: some ratios compare unlike runs; see Configuration mismatches below.",
                d.mismatches,
                if d.mismatches == 1 { "" } else { "es" }
            );
            let _ = writeln!(s);
        }
        if d.changes.is_empty() {
            let _ = writeln!(s, "No significant change.");
        } else {
            let _ = writeln!(s, "Significant changes, worse first, then better; each largest effect (absolute log ratio) first:");
            let _ = writeln!(s);
            comparison_table(&mut s, &d.changes);
        }
        let _ = writeln!(s);
        if !d.rest.is_empty() {
            let _ = writeln!(s, "<details><summary>{}</summary>", d.rest_title());
            let _ = writeln!(s);
            comparison_table(&mut s, &d.rest);
            let _ = writeln!(s);
            let _ = writeln!(s, "</details>");
            let _ = writeln!(s);
        }
        let _ = writeln!(s, "{}", verdict_rule(c));
        let _ = writeln!(s);
    }

    // Mismatches next, and loud (counted in the verdict line above).
    let _ = writeln!(s, "## Configuration mismatches");
    let _ = writeln!(s);
    if c.mismatches.is_empty() {
        let _ = writeln!(s, "None: every comparable group ran the same workload shape on every side.");
    } else {
        let _ = writeln!(
            s,
            "> **⚠ {} group{} compared different workload shapes.** Their ratios below compare unlike runs; \
             re-run the sides with identical flags.",
            c.mismatches.len(),
            if c.mismatches.len() == 1 { "" } else { "s" }
        );
        for m in &c.mismatches {
            let _ = writeln!(s);
            let _ = writeln!(s, "### {}", label(&m.workload, &m.variant));
            let _ = writeln!(s);
            let mut side_names: Vec<&String> = m.fields.iter().flat_map(|f| f.values.keys()).collect();
            side_names.sort();
            side_names.dedup();
            let _ = writeln!(s, "| field | {} |", side_names.iter().map(|x| esc(x)).collect::<Vec<_>>().join(" | "));
            let _ = writeln!(s, "|---|{}", "---|".repeat(side_names.len()));
            for f in &m.fields {
                let cells: Vec<String> =
                    side_names.iter().map(|side| f.values.get(*side).map(|v| esc(v)).unwrap_or_else(|| "—".into())).collect();
                let _ = writeln!(s, "| **{}** | {} |", f.field, cells.join(" | "));
            }
            let _ = writeln!(s);
            for f in &m.fields {
                for (side, values) in &f.evidence {
                    let list: Vec<String> = values.iter().map(|v| code(v)).collect();
                    let _ = writeln!(s, "- **{}**, {}: {}", f.field, markdown_line_start(side), list.join("; "));
                }
            }
            let _ = writeln!(s);
            let _ = writeln!(s, "{}", esc(&m.explanation));
        }
    }
    if !c.failed_runs.is_empty() {
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "Failed runs ({}), left out of every mean, interval, verdict and table (`--include-failed` keeps them):",
            c.failed_runs.len()
        );
        let _ = writeln!(s);
        for f in c.failed_runs.iter().take(UNVERIFIED_SHOWN) {
            let _ = writeln!(s, "- {} {} run {} at {}: {}", esc(&f.workload), esc(&f.backend), code(&f.run_id), code(&f.at), f.reason);
        }
        if c.failed_runs.len() > UNVERIFIED_SHOWN {
            let _ = writeln!(s, "- … {} more in summary.json", c.failed_runs.len() - UNVERIFIED_SHOWN);
        }
    }
    if !c.unverified.is_empty() {
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "Cannot verify ({} field{} recorded on one side only; unknown is not different, so not a mismatch):",
            c.unverified.len(),
            if c.unverified.len() == 1 { "" } else { "s" }
        );
        let _ = writeln!(s);
        for u in c.unverified.iter().take(UNVERIFIED_SHOWN) {
            let missing: Vec<String> = u
                .missing
                .iter()
                .map(|(side, files)| format!("not recorded by {} in {}", esc(side), files.iter().map(|f| code(f)).collect::<Vec<_>>().join(", ")))
                .collect();
            let _ = writeln!(s, "- {} `{}`: {}", label(&u.workload, &u.variant), u.field, missing.join("; "));
        }
        if c.unverified.len() > UNVERIFIED_SHOWN {
            let _ = writeln!(s, "- … {} more in summary.json", c.unverified.len() - UNVERIFIED_SHOWN);
        }
    }
    if !c.hash_notes.is_empty() {
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "Not a mismatch: in {} group{}, upstream's `config_hash` differs across sides only because upstream \
             hashes the backend name into it; the backend-neutral workload-shape hash matches.",
            c.hash_notes.len(),
            if c.hash_notes.len() == 1 { "" } else { "s" }
        );
    }
    let _ = writeln!(s);

    // Per side × workload statistics.
    let _ = writeln!(s, "## Results");
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "Mean ± half-width of the {} Student-t interval over runs (a bare value: n = 1, no interval). \
         Success rate: over several runs, the mean of per-run rates with its t interval; for a single run, Wilson over its tasks.",
        conf_pct(c.confidence)
    );
    let _ = writeln!(s);
    let _ = writeln!(s, "| workload | side | n | throughput (items/s) | p95 (ms) | p99 (ms) | success rate |");
    let _ = writeln!(s, "|---|---|---:|---:|---:|---:|---:|");
    for g in &c.groups {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} |",
            label(&g.workload, &g.variant),
            esc(&g.side),
            g.n,
            mean_ci(&g.throughput),
            latency_cell(g, Metric::LatencyP95),
            latency_cell(g, Metric::LatencyP99),
            success_cell(g)
        );
    }
    let _ = writeln!(s);

    // Where every comparison and group is drawn.
    s.push_str(&super::charts::charts_markdown(ctx));

    // Accounting.
    let _ = writeln!(s, "## Records");
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "{} read = {} accepted + {} rejected; {} CSV twins merged and {} duplicates counted once.",
        t.read, t.accepted, t.rejected, t.twins_merged, t.duplicates
    );
    let errors: Vec<_> = ctx.ingest.problems.iter().filter(|p| p.severity == Severity::Error).collect();
    if !errors.is_empty() {
        let _ = writeln!(s);
        let _ = writeln!(s, "Rejected (first {} of {} errors):", errors.len().min(REJECTED_SHOWN), errors.len());
        let _ = writeln!(s);
        for p in errors.iter().take(REJECTED_SHOWN) {
            let _ = writeln!(s, "- {}", code(&p.to_string()));
        }
    }
    let _ = writeln!(s);

    // Provenance.
    let _ = writeln!(s, "## Provenance");
    let _ = writeln!(s);
    let _ = writeln!(s, "- sagereport {}", ctx.version);
    let _ = writeln!(s, "- command: {}", code(&ctx.command));
    for input in &ctx.ingest.inputs {
        let _ = writeln!(s, "- input: {}", code(input));
    }
    let mut run_ids: Vec<&str> = c.groups.iter().flat_map(|g| g.run_ids.iter().map(String::as_str)).collect();
    run_ids.sort_unstable();
    run_ids.dedup();
    let mut hashes: Vec<&str> = c.groups.iter().flat_map(|g| g.shape_hashes.iter().map(String::as_str)).collect();
    hashes.sort_unstable();
    hashes.dedup();
    let mut upstream: Vec<&str> = c.groups.iter().flat_map(|g| g.config_hashes.iter().map(String::as_str)).collect();
    upstream.sort_unstable();
    upstream.dedup();
    let list = |v: &[&str]| -> String {
        let shown: Vec<String> = v.iter().take(10).map(|x| code(x)).collect();
        if v.len() > 10 {
            format!("{} … ({} in all; see summary.json)", shown.join(", "), v.len())
        } else {
            shown.join(", ")
        }
    };
    let _ = writeln!(s, "- run ids ({}): {}", run_ids.len(), list(&run_ids));
    let _ = writeln!(s, "- workload-shape hashes ({}): {}", hashes.len(), list(&hashes));
    let _ = writeln!(s, "- upstream config hashes ({}): {}", upstream.len(), list(&upstream));
    s
}

/// The comparisons table of summary.md (header and rows).
fn comparison_table(s: &mut String, rows: &[&MetricComparison]) {
    let _ = writeln!(s, "| workload | metric | baseline → candidate | n | ratio [adj. CI] | change | p | p (adj.) | MW p | verdict |");
    let _ = writeln!(s, "|---|---|---|---:|---:|---:|---:|---:|---:|---|");
    for m in rows {
        let ratio = match (m.ratio, m.ci_low, m.ci_high) {
            (Some(r), Some(lo), Some(hi)) => format!("{:.3} [{:.3}, {:.3}]", r, lo, hi),
            (Some(r), _, _) => format!("{r:.3}"),
            _ => "—".into(),
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} → {} | {}/{} | {} | {} | {} | {} | {} | {} |",
            label(&m.workload, &m.variant),
            esc(m.metric.name()),
            esc(&m.baseline),
            esc(&m.candidate),
            m.n_baseline,
            m.n_candidate,
            ratio,
            m.change_pct().map(pct).unwrap_or_else(|| "—".into()),
            pval(m.p_value),
            pval(m.p_adjusted),
            pval(m.mann_whitney_p),
            verdict_cell(m)
        );
    }
}

fn latency_cell(g: &GroupStats, m: Metric) -> String {
    let st = g.metric(m);
    let mut cell = mean_ci(st);
    if let Some(p) = &st.pooled {
        if let (Some(lo), Some(hi)) = (p.ci_low, p.ci_high) {
            let _ = write!(cell, " (tasks: {} [{}, {}], n={})", num(p.value), num(lo), num(hi), p.n);
        }
    }
    cell
}

fn success_cell(g: &GroupStats) -> String {
    let s = &g.success_rate;
    match (s.value, s.ci_low, s.ci_high) {
        (Some(v), Some(lo), Some(hi)) => format!("{:.3} [{:.3}, {:.3}]", v, lo, hi),
        (Some(v), _, _) => format!("{v:.3}"),
        _ => "—".into(),
    }
}

/// `tables.md`: a Markdown preview of Tables 1–6 with the same numbers as
/// the `.tex` files.
pub fn tables_markdown(ctx: &super::latex::TablesContext<'_>) -> String {
    use super::latex::{cell_plain, header_text, row_n};
    let mut s = String::new();
    let _ = writeln!(s, "# Tables 1–6\n");
    let _ = writeln!(s, "Generated by sagereport {}; regenerate with {}.\n", ctx.version, code(&ctx.command));
    for t in ctx.tables {
        let _ = writeln!(s, "## Table {}: {} ({})\n", t.number, esc(t.title), t.experiment);
        let _ = writeln!(s, "{}\n", esc(&t.caption));
        for part in &t.parts {
            if let Some(title) = &part.title {
                let _ = writeln!(s, "**{}**\n", esc(title));
            }
            let headers: Vec<String> = part
                .columns
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let group = part.groups.iter().find(|g| i >= g.start && i < g.start + g.len);
                    match group {
                        Some(g) if part.groups.len() > 1 => format!("{}: {}", esc(&g.title), esc(&header_text(c))),
                        _ => esc(&header_text(c)),
                    }
                })
                .collect();
            let _ = writeln!(s, "| {} | {} | n |", esc(&part.row_header), headers.join(" | "));
            let _ = writeln!(s, "|---|{}---:|", "---:|".repeat(part.columns.len()));
            for row in &part.rows {
                let cells: Vec<String> = row
                    .cells
                    .iter()
                    .zip(&part.columns)
                    .map(|(c, col)| cell_plain(c, col, ctx.ci))
                    .collect();
                let _ = writeln!(s, "| {} | {} | {} |", esc(&row.label), cells.join(" | "), row_n(&row.cells));
            }
            let _ = writeln!(s);
        }
        let _ = writeln!(s, "Cells: {}.\n", esc(&t.method));
        for n in &t.footnotes {
            let _ = writeln!(s, "- {}", esc(n));
        }
        if !t.footnotes.is_empty() {
            let _ = writeln!(s);
        }
    }
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn levels_show_alpha_to_two_digits() {
        assert_eq!(super::pct_level(0.95), "95 %");
        assert_eq!(super::pct_level(1.0 - 0.05 / 3.0), "98.3 %");
        assert_eq!(super::pct_level(1.0 - 0.000256), "99.974 %");
    }
}
