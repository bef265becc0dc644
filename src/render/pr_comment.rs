//! A compact Markdown pull-request comment: the verdict counts, mismatches
//! and the significant changes (worse, then better, largest effect first)
//! open, everything else collapsed, always under GitHub's 65,536-character limit.
//!
//! Every embedded name or value is capped at [`MAX_EMBEDDED`] characters,
//! Markdown-escaped and cannot mention anyone ([`esc`]); the whole body is
//! cut to [`MAX_CHARS`] bytes as a last guarantee ([`within_limit`]).

use super::escape::{cap, code, markdown, no_mentions};
use super::format::{change, interval_num, p_value};
use super::verdicts::VerdictDigest;
use super::ReportContext;
use crate::analysis::compare::MetricComparison;
use std::fmt::Write as _;

/// GitHub rejects comment bodies above 65,536 characters; keep a margin.
/// Counted in bytes, so it holds however GitHub counts characters.
pub const MAX_CHARS: usize = 60_000;

/// The first line of every comment: the workflow finds its sticky comment by it.
pub const MARKER: &str = "<!-- sagereport:benchmark-report -->";

/// Characters kept of one embedded name or value (then `…`).
pub const MAX_EMBEDDED: usize = 200;

/// Sides named in the title before the rest are counted.
const TITLE_SIDES: usize = 10;

/// A name or value from the data, made safe for the comment: capped,
/// Markdown-escaped, no `@mention` or `#123` reference.
fn esc(text: &str) -> String {
    no_mentions(&markdown(&cap(text, MAX_EMBEDDED))).into_owned()
}

fn row(c: &MetricComparison) -> String {
    let label = if c.variant.is_empty() {
        esc(&c.workload)
    } else {
        format!("{} ({})", esc(&c.workload), esc(&c.variant))
    };
    let ratio = interval_num(c.ratio, c.ci_low, c.ci_high);
    let change = change(c.change_pct());
    let p = p_value(c.p_adjusted);
    format!(
        "| {label} | {} | {} → {} | {}/{} | {change} | {ratio} | {p} | {} |\n",
        esc(c.metric.name()),
        esc(&c.baseline),
        esc(&c.candidate),
        c.n_baseline,
        c.n_candidate,
        super::markdown::verdict_cell(c)
    )
}

const HEADER: &str = "| workload | metric | baseline → candidate | n | change | ratio [adj. CI] | p (adj.) | verdict |\n|---|---|---|---:|---:|---:|---:|---|\n";

/// Append table rows while they fit in `budget` characters; say how many did not.
fn rows_within(out: &mut String, rows: &[&MetricComparison], budget: usize) {
    let mut shown = 0;
    for c in rows {
        let r = row(c);
        if out.len() + r.len() + 200 > budget {
            break;
        }
        out.push_str(&r);
        shown += 1;
    }
    if shown < rows.len() {
        let _ = writeln!(
            out,
            "\n… {} more row(s) in summary.md / summary.json of the bundle.",
            rows.len() - shown
        );
    }
}

/// The comment body; `threshold` is the regression threshold (0.05 = 5 %).
pub fn pr_comment(ctx: &ReportContext<'_>, threshold: f64) -> String {
    let c = ctx.comparison;
    let t = &ctx.ingest.totals;
    let mut s = String::new();
    let all_sides = c.sides_baseline_first();
    let mut sides: Vec<String> = all_sides.iter().take(TITLE_SIDES).map(|x| esc(x)).collect();
    if all_sides.len() > TITLE_SIDES {
        sides.push(format!("… ({} sides in all)", all_sides.len()));
    }
    let _ = writeln!(s, "{MARKER}");
    let _ = writeln!(s, "### Benchmark comparison: {}\n", sides.join(" vs "));
    let d = VerdictDigest::of(c);
    let regressions = c.comparisons.iter().filter(|x| x.is_regression(threshold)).count();
    if !c.comparisons.is_empty() {
        let _ = writeln!(s, "**{}**\n", d.counts_line());
    }
    let mut status = Vec::new();
    if !c.mismatches.is_empty() {
        status.push(format!(
            "⚠️ **{} configuration mismatch(es)** — the sides did not run the same workload shape",
            c.mismatches.len()
        ));
    }
    if regressions == 0 {
        status.push(format!("✅ no significant regression beyond {:.1}%", threshold * 100.0));
    } else {
        status.push(format!(
            "❌ **{} significant regression(s) beyond {:.1}%**",
            regressions,
            threshold * 100.0
        ));
    }
    status.push(format!(
        "{} comparisons · verdicts from the ratio of means (Welch t, {}, α* = {:.2e}: intervals at {}) · `~` = no significant difference · {} records accepted, {} rejected",
        c.comparisons.len(),
        c.correction.label(),
        c.adjusted_alpha,
        super::format::pct_level(1.0 - c.adjusted_alpha),
        t.accepted,
        t.rejected
    ));
    if d.unstable > 0 {
        status.push(format!(
            "⚠️ {} comparison(s) `unstable`: ranks and means disagree (an outlier run?); see summary.md",
            d.unstable
        ));
    }
    for line in status {
        let _ = writeln!(s, "- {line}");
    }
    let _ = writeln!(s);

    for m in &c.mismatches {
        let fields: Vec<String> = m
            .fields
            .iter()
            .map(|f| {
                let vals: Vec<String> = f
                    .values
                    .iter()
                    .map(|(side, v)| format!("{}: {}", esc(side), esc(v)))
                    .collect();
                format!("`{}` ({})", f.field, vals.join("; "))
            })
            .collect();
        let line = format!("> ⚠️ **{}**: {}\n", esc(&m.workload), fields.join(", "));
        if s.len() + line.len() > MAX_CHARS / 4 {
            let _ = writeln!(s, "> … more mismatches in summary.md\n");
            break;
        }
        s.push_str(&line);
    }
    if !c.mismatches.is_empty() {
        let _ = writeln!(s);
    }
    // The significant changes, open: worse first, then better, each
    // largest effect first; everything else collapsed.
    if !d.changes.is_empty() {
        let _ = writeln!(
            s,
            "**Significant changes** (worse first, then better; largest effect first)\n"
        );
        s.push_str(HEADER);
        rows_within(&mut s, &d.changes, MAX_CHARS * 2 / 3);
        let _ = writeln!(s);
    } else if !c.comparisons.is_empty() {
        let _ = writeln!(s, "No significant change.\n");
    }
    if !d.rest.is_empty() {
        let _ = writeln!(s, "<details><summary>{}</summary>\n", d.rest_title());
        s.push_str(HEADER);
        rows_within(&mut s, &d.rest, MAX_CHARS - 1_000);
        let _ = writeln!(s, "\n</details>\n");
    }
    let _ = writeln!(
        s,
        "<sub>sagereport {} · {}</sub>",
        ctx.version,
        code(&cap(&ctx.command, 300))
    );
    within_limit(s)
}

/// The last guarantee: a body over [`MAX_CHARS`] bytes is cut at a line
/// end before the limit, open `<details>` closed, and the cut is said.
pub fn within_limit(mut s: String) -> String {
    if s.len() <= MAX_CHARS {
        return s;
    }
    const NOTE: &str =
        "\n… comment cut at GitHub's size limit; the full report is summary.md / summary.json of the bundle.\n";
    let mut end = MAX_CHARS - NOTE.len() - 64;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    // Cut at a line end, unless the only line end is far back (one huge line).
    if let Some(nl) = s[..end].rfind('\n').filter(|&nl| nl >= end / 2) {
        end = nl + 1;
    }
    s.truncate(end);
    if !s.ends_with('\n') {
        s.push('\n');
    }
    let open = s
        .matches("<details>")
        .count()
        .saturating_sub(s.matches("</details>").count());
    s.push_str(NOTE);
    for _ in 0..open.min(4) {
        s.push_str("\n</details>\n");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn within_limit_cuts_any_body_at_a_line_end_and_closes_details() {
        let short = format!("{MARKER}\nshort\n");
        assert_eq!(within_limit(short.clone()), short);
        let row = "| ä | b |\n";
        let long = format!("{MARKER}\n<details><summary>All</summary>\n\n{}", row.repeat(20_000));
        let cut = within_limit(long);
        assert!(cut.len() <= MAX_CHARS, "{}", cut.len());
        assert!(cut.starts_with(MARKER));
        assert!(cut.contains("comment cut at GitHub's size limit"));
        assert_eq!(cut.matches("<details>").count(), cut.matches("</details>").count());
        assert!(
            cut.lines().filter(|l| l.starts_with('|')).all(|l| l == row.trim_end()),
            "rows are whole"
        );
        // One enormous line: cut inside it, still within the limit.
        let cut = within_limit(format!("{MARKER}\n{}", "é".repeat(100_000)));
        assert!(cut.len() <= MAX_CHARS && cut.starts_with(MARKER));
    }
}
