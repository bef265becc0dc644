//! `summary.md`: the verdict first (outcome counts, the significant
//! changes by effect size with ratio, interval and verdict, everything else
//! collapsed; `~` = no significant difference), then mismatches, loud, per
//! side × workload statistics with intervals, record accounting and
//! provenance.

use super::escape::{code, markdown as esc, markdown_line_start};
use super::format::{change, conf_pct, interval3, latency_cell, mean_ci, p_value};
use super::verdicts::{verdict_rule, VerdictDigest};
use super::{Renderer, ReportContext};
use crate::analysis::compare::{Metric, MetricComparison};
use crate::model::Severity;
use std::fmt::Write as _;

pub struct SummaryMarkdown;

/// Rejected lines listed in the summary before the rest are counted.
const REJECTED_SHOWN: usize = 20;

impl Renderer for SummaryMarkdown {
    fn name(&self) -> &'static str {
        "summary.md"
    }

    fn render(&self, ctx: &ReportContext<'_>) -> anyhow::Result<Vec<super::OutFile>> {
        Ok(vec![("summary.md".into(), summary_markdown(ctx).into_bytes())])
    }
}

/// summary.md with its `## Charts` section from figures made beforehand
/// (the site's, shared with its PDF and page): the same bytes as
/// [`SummaryMarkdown`].
pub struct SummaryMarkdownOf(pub std::sync::Arc<super::ReportFigures>, pub super::ChartLimits);

impl Renderer for SummaryMarkdownOf {
    fn name(&self) -> &'static str {
        SummaryMarkdown.name()
    }

    fn render(&self, ctx: &ReportContext<'_>) -> anyhow::Result<Vec<super::OutFile>> {
        let charts =
            super::charts::charts_markdown_of(ctx, self.0.forest.iter().map(|f| &f.chart), &self.0.bars, self.1);
        Ok(vec![(
            "summary.md".into(),
            summary_markdown_with(ctx, charts).into_bytes(),
        )])
    }
}

/// Unverified notes listed in full before the rest is counted.
const UNVERIFIED_SHOWN: usize = 20;

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

fn label(workload: &str, variant: &str) -> String {
    if variant.is_empty() {
        esc(workload)
    } else {
        format!("{} ({})", esc(workload), esc(variant))
    }
}

pub fn summary_markdown(ctx: &ReportContext<'_>) -> String {
    summary_markdown_with(ctx, super::charts::charts_markdown(ctx))
}

/// summary.md with `charts` as its `## Charts` section.
fn summary_markdown_with(ctx: &ReportContext<'_>, charts: String) -> String {
    let c = ctx.comparison;
    let t = &ctx.ingest.totals;
    let mut s = String::new();
    // Baseline first, then the other sides by name.
    let mut sides: Vec<String> = c.baseline.iter().map(|b| esc(b)).collect();
    sides.extend(
        c.sides
            .iter()
            .filter(|x| Some(*x) != c.baseline.as_ref())
            .map(|x| esc(x)),
    );
    let _ = writeln!(
        s,
        "# Comparison: {}",
        if sides.is_empty() {
            "no data".into()
        } else {
            sides.join(" vs ")
        }
    );
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
        let _ = writeln!(
            s,
            "No group has both the baseline and another side: nothing to compare."
        );
        let _ = writeln!(s);
    } else {
        let d = VerdictDigest::of(c);
        let _ = writeln!(
            s,
            "**{}** ({} comparison{}).",
            d.counts_line(),
            c.comparisons.len(),
            if c.comparisons.len() == 1 { "" } else { "s" }
        );
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
            let _ = writeln!(
                s,
                "Significant changes, worse first, then better; each largest effect (absolute log ratio) first:"
            );
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
        let _ = writeln!(
            s,
            "None: every comparable group ran the same workload shape on every side."
        );
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
            let _ = writeln!(
                s,
                "| field | {} |",
                side_names.iter().map(|x| esc(x)).collect::<Vec<_>>().join(" | ")
            );
            let _ = writeln!(s, "|---|{}", "---|".repeat(side_names.len()));
            for f in &m.fields {
                let cells: Vec<String> = side_names
                    .iter()
                    .map(|side| f.values.get(*side).map(|v| esc(v)).unwrap_or_else(|| "—".into()))
                    .collect();
                let _ = writeln!(s, "| **{}** | {} |", f.field, cells.join(" | "));
            }
            let _ = writeln!(s);
            for f in &m.fields {
                for (side, values) in &f.evidence {
                    let list: Vec<String> = values.iter().map(|v| code(v)).collect();
                    let _ = writeln!(
                        s,
                        "- **{}**, {}: {}",
                        f.field,
                        markdown_line_start(side),
                        list.join("; ")
                    );
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
            let _ = writeln!(
                s,
                "- {} {} run {} at {}: {}",
                esc(&f.workload),
                esc(&f.backend),
                code(&f.run_id),
                code(&f.at),
                f.reason
            );
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
                .map(|(side, files)| {
                    format!(
                        "not recorded by {} in {}",
                        esc(side),
                        files.iter().map(|f| code(f)).collect::<Vec<_>>().join(", ")
                    )
                })
                .collect();
            let _ = writeln!(
                s,
                "- {} `{}`: {}",
                label(&u.workload, &u.variant),
                u.field,
                missing.join("; ")
            );
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
    let _ = writeln!(
        s,
        "| workload | side | n | throughput (items/s) | p95 (ms) | p99 (ms) | success rate |"
    );
    let _ = writeln!(s, "|---|---|---:|---:|---:|---:|---:|");
    for g in &c.groups {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} |",
            label(&g.workload, &g.variant),
            esc(&g.side),
            g.n,
            mean_ci(&g.throughput),
            latency_cell(g.metric(Metric::LatencyP95)),
            latency_cell(g.metric(Metric::LatencyP99)),
            interval3(g.success_rate.value, g.success_rate.ci_low, g.success_rate.ci_high)
        );
    }
    let _ = writeln!(s);

    // Where every comparison and group is drawn.
    s.push_str(&charts);

    // Accounting.
    let _ = writeln!(s, "## Records");
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "{} read = {} accepted + {} rejected; {} CSV twins merged and {} duplicates counted once.",
        t.read, t.accepted, t.rejected, t.twins_merged, t.duplicates
    );
    let errors: Vec<_> = ctx
        .ingest
        .problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .collect();
    if !errors.is_empty() {
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "Rejected (first {} of {} errors):",
            errors.len().min(REJECTED_SHOWN),
            errors.len()
        );
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
    let mut run_ids: Vec<&str> = c
        .groups
        .iter()
        .flat_map(|g| g.run_ids.iter().map(|s| s.as_str()))
        .collect();
    run_ids.sort_unstable();
    run_ids.dedup();
    let mut hashes: Vec<&str> = c
        .groups
        .iter()
        .flat_map(|g| g.shape_hashes.iter().map(|s| s.as_str()))
        .collect();
    hashes.sort_unstable();
    hashes.dedup();
    let mut upstream: Vec<&str> = c
        .groups
        .iter()
        .flat_map(|g| g.config_hashes.iter().map(|s| s.as_str()))
        .collect();
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
    let _ = writeln!(
        s,
        "| workload | metric | baseline → candidate | n | ratio [adj. CI] | change | p | p (adj.) | MW p | verdict |"
    );
    let _ = writeln!(s, "|---|---|---|---:|---:|---:|---:|---:|---:|---|");
    for m in rows {
        let _ = writeln!(
            s,
            "| {} | {} | {} → {} | {}/{} | {} | {} | {} | {} | {} | {} |",
            label(&m.workload, &m.variant),
            esc(m.metric.name()),
            esc(&m.baseline),
            esc(&m.candidate),
            m.n_baseline,
            m.n_candidate,
            interval3(m.ratio, m.ci_low, m.ci_high),
            change(m.change_pct()),
            p_value(m.p_value),
            p_value(m.p_adjusted),
            p_value(m.mann_whitney_p),
            verdict_cell(m)
        );
    }
}
