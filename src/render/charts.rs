//! The compare bundle's grouped-bar figures (throughput, latency p95/p99;
//! faceted by workload family when too wide) and the `## Charts` section of
//! summary.md that lists them: a thin user of the chart toolkit
//! ([`super::chart::bars`] draws them).

use super::chart::bars::{Bar, BarChart, BarGroup, BAR_SPAN, MARGIN_L, MARGIN_R};
use super::chart::hover::hover_num;
use super::{Renderer, ReportContext};
use crate::analysis::compare::{GroupStats, Metric};

/// `throughput_comparison*.{png,svg}` and `latency_p95_p99_comparison*.{png,svg}`:
/// grouped bars per workload and side, whiskers = the mean's interval.
pub struct ComparisonCharts;

fn group_label(g: &GroupStats) -> String {
    if g.variant.is_empty() {
        g.workload.clone()
    } else {
        // Unset dimensions (`num_tasks=—`) say nothing on a chart.
        let set: Vec<&str> = g.variant.split(' ').filter(|kv| !kv.ends_with("=—")).collect();
        format!("{} ({})", g.workload, set.join(" "))
    }
}

fn bar(series: String, g: &GroupStats, m: Metric) -> Option<Bar> {
    let s = g.metric(m);
    Some(Bar {
        series,
        value: s.mean?,
        ci: s.ci_low.zip(s.ci_high),
        n: s.n,
        hover: None,
    })
}

/// Groups in report order, one bar per (side[, metric]).
fn chart(ctx: &ReportContext<'_>, title: &str, y_label: &str, metrics: &[Metric]) -> (BarChart, Vec<String>) {
    // When some workloads ran on several sides, chart only those: the figure
    // is about the comparison, and single-side groups are in summary.md.
    let all = &ctx.comparison.groups;
    let conf = super::format::conf_pct(ctx.comparison.confidence);
    let mut side_counts: std::collections::HashMap<(&str, &str), usize> = std::collections::HashMap::new();
    for g in all {
        *side_counts
            .entry((g.workload.as_str(), g.variant.as_str()))
            .or_default() += 1;
    }
    let sides_per_group = |g: &GroupStats| side_counts[&(g.workload.as_str(), g.variant.as_str())];
    let compared_only = all.iter().any(|g| sides_per_group(g) > 1);
    let series_name = |side: &str, m: Metric| {
        if metrics.len() > 1 {
            format!("{side} {}", if m == Metric::LatencyP95 { "p95" } else { "p99" })
        } else {
            side.to_string()
        }
    };
    let mut groups: Vec<BarGroup> = Vec::new();
    let mut workloads: Vec<String> = Vec::new();
    // Where each label's group is in `groups` (a large report has thousands).
    let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for g in all.iter().filter(|g| !compared_only || sides_per_group(g) > 1) {
        let label = group_label(g);
        let bars: Vec<Bar> = metrics
            .iter()
            .filter_map(|&m| {
                let mut b = bar(series_name(&g.side, m), g, m)?;
                let s = g.metric(m);
                let interval = match (s.ci_low, s.ci_high) {
                    (Some(l), Some(h)) => format!(", {conf} CI [{}, {}]", hover_num(l), hover_num(h)),
                    _ => ", no interval".to_string(),
                };
                b.hover = Some(format!(
                    "{label} · {} · {}: mean {} {}{interval}, n={}",
                    g.side,
                    m.name().replace('_', " "),
                    hover_num(b.value),
                    m.unit(),
                    s.n
                ));
                Some(b)
            })
            .collect();
        match index.get(&label) {
            Some(&at) => groups[at].bars.extend(bars),
            None => {
                index.insert(label.clone(), groups.len());
                groups.push(BarGroup { label, bars });
                workloads.push(g.workload.clone());
            }
        }
    }
    // Legend order: the baseline first, then the other sides; the same in every facet.
    let series = ctx
        .comparison
        .sides_baseline_first()
        .iter()
        .flat_map(|side| metrics.iter().map(move |&m| series_name(side, m)))
        .collect();
    (
        BarChart {
            title: title.to_string(),
            y_label: y_label.to_string(),
            groups,
            series,
        },
        workloads,
    )
}

/// Widest figure the compare bundle draws, in pixels.
pub const MAX_FIGURE_W: u32 = 2000;

/// Most groups of `series` bars each that fit in [`MAX_FIGURE_W`] with the
/// widest y axis [`layout`] makes.
pub fn groups_per_figure(series: usize) -> usize {
    let group_px = (series.max(1) as f64 * 40.0 / BAR_SPAN).max(110.0);
    let y_area_max = 260 + 18 + 36;
    let plot = (MAX_FIGURE_W as i32 - MARGIN_L - MARGIN_R - y_area_max) as f64;
    ((plot / group_px).floor() as usize).max(1)
}

/// A workload's family: its name up to the first `_` or digit
/// (`Q3_victim` → `Q`, `concurrency_rag_4` → `concurrency`, `job0_rag` → `job`).
pub fn workload_family(workload: &str) -> &str {
    let end = workload
        .find(|c: char| c == '_' || c.is_ascii_digit())
        .unwrap_or(workload.len());
    &workload[..end]
}

/// A family as a file-name part: lower-case ASCII letters, digits and `-`.
fn family_slug(family: &str) -> String {
    let mut slug = String::new();
    for c in family.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug = slug.trim_matches('-');
    if slug.is_empty() {
        "other".to_string()
    } else {
        slug.to_string()
    }
}

/// One figure of the compare bundle: `stem.png` and `stem.svg`.
pub type Figure = super::chart::Figure<BarChart>;

/// `full` as one figure named `base` when it fits in [`MAX_FIGURE_W`], else
/// one figure per workload family (`base-<family>`; families of a single
/// group are pooled in `base-other`), a family too large for one figure
/// split evenly into `base-<family>-1`, `-2`, …. Every group is in exactly
/// one figure; figures follow the report order of their first group.
fn facet(base: &str, caption: &str, full: BarChart, workloads: &[String]) -> Vec<Figure> {
    let cap = groups_per_figure(full.series.len().max(1));
    if full.groups.len() <= cap {
        return vec![Figure {
            stem: base.to_string(),
            caption: caption.to_string(),
            chart: full,
        }];
    }
    // Families in order of first appearance.
    let mut families: Vec<(String, Vec<usize>)> = Vec::new();
    for (i, w) in workloads.iter().enumerate() {
        let f = workload_family(w);
        match families.iter_mut().find(|(name, _)| name == f) {
            Some((_, members)) => members.push(i),
            None => families.push((f.to_string(), vec![i])),
        }
    }
    let mut facets: Vec<(String, String, Vec<usize>)> = Vec::new(); // (slug, shown name, groups)
    let mut singles: Vec<usize> = Vec::new();
    for (name, members) in families {
        if members.len() == 1 || family_slug(&name) == "other" {
            singles.extend(members);
        } else {
            facets.push((family_slug(&name), format!("{name}* workloads"), members));
        }
    }
    if !singles.is_empty() {
        facets.push(("other".to_string(), "other workloads".to_string(), singles));
    }
    // Distinct slugs even where families differ only in case or punctuation.
    let mut used: std::collections::HashSet<String> = std::collections::HashSet::new();
    let mut out = Vec::new();
    for (slug, shown, members) in facets {
        let mut unique = slug.clone();
        let mut k = 2;
        while !used.insert(unique.clone()) {
            unique = format!("{slug}_{k}");
            k += 1;
        }
        let parts = members.len().div_ceil(cap);
        let per = members.len().div_ceil(parts);
        for (pi, chunk) in members.chunks(per).enumerate() {
            let (stem, title) = if parts == 1 {
                (format!("{base}-{unique}"), format!("{} — {shown}", full.title))
            } else {
                (
                    format!("{base}-{unique}-{}", pi + 1),
                    format!("{} — {shown}, part {} of {parts}", full.title, pi + 1),
                )
            };
            let chart = BarChart {
                title,
                y_label: full.y_label.clone(),
                groups: chunk.iter().map(|&i| full.groups[i].clone()).collect(),
                series: full.series.clone(),
            };
            out.push(Figure {
                stem,
                caption: caption.to_string(),
                chart,
            });
        }
    }
    out
}

/// Stems of the two charts when not faceted.
pub const THROUGHPUT_STEM: &str = "throughput_comparison";
pub const LATENCY_STEM: &str = "latency_p95_p99_comparison";
/// The PDF captions of the throughput and the latency figures.
const THROUGHPUT_CAPTION: &str = "Throughput by workload and side (mean, CI whiskers).";
const LATENCY_CAPTION: &str = "Latency p95 / p99 by workload and side (mean, CI whiskers).";

/// The compare bundle's grouped-bar figures: throughput, then latency
/// p95/p99, each one figure or faceted by workload family (see [`facet`]).
pub fn comparison_figures(ctx: &ReportContext<'_>) -> Vec<Figure> {
    let conf = super::format::conf_pct(ctx.comparison.confidence);
    let (tp, tp_w) = chart(
        ctx,
        &format!("Throughput by workload (mean, {conf} CI)"),
        "throughput (items/s)",
        &[Metric::Throughput],
    );
    let (lat, lat_w) = chart(
        ctx,
        &format!("Latency p95 / p99 by workload (mean over runs, {conf} CI)"),
        "latency (ms)",
        &[Metric::LatencyP95, Metric::LatencyP99],
    );
    let mut out = facet(THROUGHPUT_STEM, THROUGHPUT_CAPTION, tp, &tp_w);
    out.extend(facet(LATENCY_STEM, LATENCY_CAPTION, lat, &lat_w));
    out
}

/// The `## Charts` section of summary.md: every chart file of the bundle
/// and what it shows, so that a reader finds where each comparison and
/// each group is drawn (the faceted figures list their groups).
pub fn charts_markdown(ctx: &ReportContext<'_>) -> String {
    let pages = super::forest::forest_pages(ctx.comparison, ctx.threshold);
    charts_markdown_of(ctx, pages.iter(), &comparison_figures(ctx), super::ChartLimits::BUNDLE)
}

/// [`charts_markdown`] of figures made beforehand ([`super::ReportFigures`]).
/// Only the charts within `limits` are listed as files; a line says what
/// is not drawn.
pub fn charts_markdown_of<'p>(
    ctx: &ReportContext<'_>,
    pages: impl Iterator<Item = &'p super::forest::ForestPage>,
    all_figures: &[Figure],
    limits: super::ChartLimits,
) -> String {
    use std::fmt::Write;
    let esc = super::escape::markdown;
    let mut s = String::new();
    let _ = writeln!(s, "## Charts\n");
    let pages: Vec<&super::forest::ForestPage> = pages.collect();
    let total: usize = pages.iter().map(|p| p.rows.len()).sum();
    if pages.len() == 1 {
        let _ = writeln!(
            s,
            "- `{}.png` (`.svg`): ratio forest plot, {} (ratio candidate / baseline with its interval, by verdict)",
            pages[0].stem,
            if total == 1 {
                "1 comparison".to_string()
            } else {
                format!("all {total} comparisons")
            }
        );
    } else {
        let mut first = 1;
        for p in pages.iter().take(limits.forest_pages) {
            let metrics: Vec<&str> = Metric::ALL
                .iter()
                .filter(|m| p.rows.iter().any(|r| r.metric == **m))
                .map(|m| m.name())
                .collect();
            let _ = writeln!(
                s,
                "- `{}.png` (`.svg`): ratio forest plot, comparisons {first}–{} of {total} ({})",
                p.stem,
                first + p.rows.len() - 1,
                esc(&metrics.join(", "))
            );
            first += p.rows.len();
        }
        if pages.len() > limits.forest_pages {
            let _ = writeln!(
                s,
                "- forest pages {}–{} (comparisons {first}–{total}) are not drawn here (at most {} pages); every comparison is in the tables above, `comparison.csv` and `summary.json`, and `sagereport pdf` draws the whole forest plot",
                limits.forest_pages + 1,
                pages.len(),
                limits.forest_pages
            );
        }
    }
    let kept = FirstFigures::of(all_figures, limits.bar_figures);
    let figures = &kept.figures;
    for f in figures {
        let what = if f.stem.starts_with(THROUGHPUT_STEM) {
            "throughput"
        } else {
            "latency p95 / p99"
        };
        let n = f.chart.groups.len();
        let faceted = f.stem != THROUGHPUT_STEM && f.stem != LATENCY_STEM;
        if faceted {
            let names: Vec<String> = f.chart.groups.iter().map(|g| esc(&g.label)).collect();
            let _ = writeln!(
                s,
                "- `{}.png` (`.svg`): {what}, {n} group{}: {}",
                f.stem,
                if n == 1 { "" } else { "s" },
                names.join(", ")
            );
        } else {
            let groups = if n == 1 {
                "1 group".to_string()
            } else {
                format!("all {n} groups")
            };
            let _ = writeln!(s, "- `{}.png` (`.svg`): {what}, {groups}", f.stem);
        }
    }
    for (what, (drawn, of)) in [("throughput", kept.throughput), ("latency p95 / p99", kept.latency)] {
        if drawn < of {
            let _ = writeln!(
                s,
                "- {} more {what} figures are not drawn here (at most {} bar figures in all); their groups' numbers are in the Results table and `comparison.csv`",
                of - drawn,
                limits.bar_figures
            );
        }
    }
    let charted = all_figures
        .iter()
        .filter(|f| f.stem.starts_with(THROUGHPUT_STEM))
        .map(|f| f.chart.groups.len())
        .sum::<usize>();
    let all: std::collections::BTreeSet<(&str, &str)> = ctx
        .comparison
        .groups
        .iter()
        .map(|g| (g.workload.as_str(), g.variant.as_str()))
        .collect();
    if all.len() > charted {
        let k = all.len() - charted;
        let _ = writeln!(
            s,
            "\n{k} group{} ran on one side only and {} not charted (they are in the Results table).",
            if k == 1 { "" } else { "s" },
            if k == 1 { "is" } else { "are" }
        );
    }
    if all_figures.len() > 2 {
        let _ = writeln!(
            s,
            "\nThe grouped bars are split by workload family (the name up to its first `_` or digit) so that no figure is wider than {MAX_FIGURE_W} px; families of one group are in the `-other` figure."
        );
    }
    let _ = writeln!(s);
    s
}

/// The first figures of [`comparison_figures`] within `limit`: half for
/// throughput, half for latency (one kind gets what the other leaves),
/// each the first in report order; with what was left out.
pub struct FirstFigures {
    pub figures: Vec<Figure>,
    /// (kept, of) throughput figures.
    pub throughput: (usize, usize),
    /// (kept, of) latency figures.
    pub latency: (usize, usize),
}

impl FirstFigures {
    pub fn of(figures: &[Figure], limit: usize) -> FirstFigures {
        let is_tp = |f: &Figure| f.stem.starts_with(THROUGHPUT_STEM);
        let n_tp = figures.iter().filter(|f| is_tp(f)).count();
        let n_lat = figures.len() - n_tp;
        let keep_tp = n_tp.min((limit / 2).max(limit.saturating_sub(n_lat)));
        let keep_lat = n_lat.min(limit - keep_tp);
        let (mut seen_tp, mut seen_lat) = (0, 0);
        let figures = figures
            .iter()
            .filter(|f| {
                let (seen, keep) = if is_tp(f) {
                    (&mut seen_tp, keep_tp)
                } else {
                    (&mut seen_lat, keep_lat)
                };
                *seen += 1;
                *seen <= keep
            })
            .cloned()
            .collect();
        FirstFigures {
            figures,
            throughput: (keep_tp, n_tp),
            latency: (keep_lat, n_lat),
        }
    }

    /// Whether figures were left out.
    pub fn cut(&self) -> bool {
        self.throughput.0 < self.throughput.1 || self.latency.0 < self.latency.1
    }

    /// `12 of 2000 figures (6 of 1000 throughput, 6 of 1000 latency, the first of each in report order)`.
    pub fn shown(&self) -> String {
        let (kt, nt) = self.throughput;
        let (kl, nl) = self.latency;
        format!(
            "{} of {} figures ({kt} of {nt} throughput, {kl} of {nl} latency, the first of each in report order)",
            kt + kl,
            nt + nl
        )
    }
}

impl Renderer for ComparisonCharts {
    fn name(&self) -> &'static str {
        "throughput_comparison.png"
    }

    fn render(&self, ctx: &ReportContext<'_>) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
        super::chart::figure_files(&bundle_figures(ctx))
    }

    fn render_to(&self, ctx: &ReportContext<'_>, dir: &std::path::Path) -> anyhow::Result<Vec<String>> {
        super::chart::write_figures(&bundle_figures(ctx), dir)
    }
}

fn bundle_figures(ctx: &ReportContext<'_>) -> Vec<Figure> {
    super::ChartLimits::BUNDLE.bars(&comparison_figures(ctx))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::chart::bars::{png_bytes, svg_string};
    use crate::render::test_support::decode;

    fn bar(series: &str, value: f64, ci: Option<(f64, f64)>, n: usize) -> Bar {
        Bar {
            series: series.to_string(),
            value,
            ci,
            n,
            hover: None,
        }
    }

    #[test]
    fn families_are_the_name_up_to_the_first_underscore_or_digit() {
        assert_eq!(workload_family("Q3_victim"), "Q");
        assert_eq!(workload_family("Q12"), "Q");
        assert_eq!(workload_family("concurrency_rag_4"), "concurrency");
        assert_eq!(workload_family("job0_rag"), "job");
        assert_eq!(workload_family("node_scaling_rag_16n"), "node");
        assert_eq!(workload_family("wordcount"), "wordcount");
        assert_eq!(workload_family("7up"), "");
        assert_eq!(family_slug("Q"), "q");
        assert_eq!(family_slug("a <&> b"), "a-b");
        assert_eq!(family_slug("<>"), "other");
    }

    #[test]
    fn facets_fit_the_width_and_hold_every_group_once() {
        assert_eq!(groups_per_figure(2), 14);
        assert_eq!(groups_per_figure(4), 7);
        let names: Vec<String> = (1..=20)
            .map(|i| format!("Q{i}"))
            .chain((1..=3).map(|i| format!("concurrency_{i}")))
            .chain(["wordcount".to_string(), "join".to_string()])
            .chain(["q_lower".to_string(), "q_lower2".to_string()])
            .collect();
        let groups: Vec<BarGroup> = names
            .iter()
            .enumerate()
            .map(|(i, n)| BarGroup {
                label: n.clone(),
                bars: vec![bar("a", 1.0 + i as f64, None, 3), bar("b", 2.0, Some((1.5, 2.5)), 3)],
            })
            .collect();
        let full = BarChart {
            title: "T".into(),
            y_label: "y".into(),
            groups,
            series: vec!["b".into(), "a".into()],
        };
        let figures = facet("tp", "", full.clone(), &names);
        let stems: Vec<&str> = figures.iter().map(|f| f.stem.as_str()).collect();
        assert_eq!(stems, ["tp-q-1", "tp-q-2", "tp-concurrency", "tp-q_2", "tp-other"]);
        assert_eq!(figures[0].chart.title, "T — Q* workloads, part 1 of 2");
        assert_eq!(figures[4].chart.title, "T — other workloads");
        let mut seen: Vec<&str> = figures
            .iter()
            .flat_map(|f| f.chart.groups.iter().map(|g| g.label.as_str()))
            .collect();
        seen.sort();
        let mut all: Vec<&str> = names.iter().map(String::as_str).collect();
        all.sort();
        assert_eq!(seen, all, "every group exactly once");
        let dir = tempfile::tempdir().unwrap();
        for f in &figures {
            assert_eq!(f.chart.series, ["b", "a"], "the same legend order in every facet");
            let path = dir.path().join(format!("{}.png", f.stem));
            std::fs::write(&path, png_bytes(&f.chart).unwrap()).unwrap();
            assert!(decode(&path).w <= MAX_FIGURE_W);
            let svg = svg_string(&f.chart).unwrap();
            assert_eq!(
                svg.matches("<title>").count(),
                f.chart.groups.len() * 2,
                "a title per bar"
            );
        }
        // Few groups: one figure under the plain name.
        let small = BarChart {
            groups: full.groups[..5].to_vec(),
            ..full
        };
        let figures = facet("tp", "", small, &names[..5]);
        assert_eq!(figures.len(), 1);
        assert_eq!(figures[0].stem, "tp");
    }
}
