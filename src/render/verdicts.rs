//! The verdict digest every format opens with (summary.md, the PR comment,
//! the site's report page, the PDF's first page): one line counting the
//! outcomes, then the significant changes — worse first, then better, each
//! by effect size — and the rest. Only sorts and counts what
//! [`crate::analysis::compare`] decided; no number is recomputed here.

use crate::analysis::compare::{Comparison, MetricComparison, Verdict};

/// The outcome counts and the comparisons split for the digest.
pub struct VerdictDigest<'a> {
    pub worse: usize,
    pub better: usize,
    /// `~`: no significant difference.
    pub same: usize,
    pub unstable: usize,
    /// `n/a`: no ratio (too few runs, a zero baseline).
    pub na: usize,
    pub mismatches: usize,
    /// `worse`, then `better`, each largest effect (|ln ratio|) first; ties
    /// keep the report's order.
    pub changes: Vec<&'a MetricComparison>,
    /// Everything else, in the report's order.
    pub rest: Vec<&'a MetricComparison>,
}

/// Effect size of a ratio: |ln ratio| (a halving and a doubling weigh the
/// same); 0 without a ratio.
pub fn effect_size(ratio: Option<f64>) -> f64 {
    ratio
        .filter(|r| r.is_finite() && *r > 0.0)
        .map(|r| r.ln().abs())
        .unwrap_or(0.0)
}

/// Sort largest effect first; stable, so ties keep their order.
fn by_effect<T>(items: &mut [T], ratio: impl Fn(&T) -> Option<f64>) {
    items.sort_by(|a, b| effect_size(ratio(b)).total_cmp(&effect_size(ratio(a))));
}

impl<'a> VerdictDigest<'a> {
    pub fn of(c: &'a Comparison) -> VerdictDigest<'a> {
        let count = |v: Verdict| c.comparisons.iter().filter(|m| m.verdict == v).count();
        let mut worse: Vec<&MetricComparison> = c.comparisons.iter().filter(|m| m.verdict == Verdict::Worse).collect();
        let mut better: Vec<&MetricComparison> =
            c.comparisons.iter().filter(|m| m.verdict == Verdict::Better).collect();
        by_effect(&mut worse, |m| m.ratio);
        by_effect(&mut better, |m| m.ratio);
        let rest = c.comparisons.iter().filter(|m| !m.verdict.is_change()).collect();
        VerdictDigest {
            worse: worse.len(),
            better: better.len(),
            same: count(Verdict::Same),
            unstable: count(Verdict::Unstable),
            na: count(Verdict::NoVerdict),
            mismatches: c.mismatches.len(),
            changes: worse.into_iter().chain(better).collect(),
            rest,
        }
    }

    /// `3 worse, 5 better, 57 ~, 1 unstable; 0 mismatches` (`, 2 n/a`
    /// after `unstable` when there are comparisons without a ratio).
    pub fn counts_line(&self) -> String {
        let mut s = format!(
            "{} worse, {} better, {} ~, {} unstable",
            self.worse, self.better, self.same, self.unstable
        );
        if self.na > 0 {
            s.push_str(&format!(", {} n/a", self.na));
        }
        s.push_str(&format!(
            "; {} mismatch{}",
            self.mismatches,
            if self.mismatches == 1 { "" } else { "es" }
        ));
        s
    }

    /// The verdicts of [`Self::rest`], e.g. `57 ~, 1 unstable, 2 n/a`
    /// (only the non-zero ones).
    pub fn rest_counts(&self) -> String {
        let parts: Vec<String> = [
            (self.same, Verdict::Same),
            (self.unstable, Verdict::Unstable),
            (self.na, Verdict::NoVerdict),
        ]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, v)| format!("{n} {v}"))
        .collect();
        parts.join(", ")
    }

    /// `<summary>` text of the collapsed rest: `All other 58 comparisons: 57 ~, 1 unstable`.
    pub fn rest_title(&self) -> String {
        let n = self.rest.len();
        let other = if self.changes.is_empty() { "" } else { "other " };
        format!(
            "All {other}{n} comparison{}: {}",
            if n == 1 { "" } else { "s" },
            self.rest_counts()
        )
    }
}

/// A report's largest significant change among `(verdict, ratio, item)`:
/// the `worse` or `better` one with the largest |ln ratio| (the first on a
/// tie), or `None` when nothing changed significantly.
pub fn largest_change<T>(items: impl IntoIterator<Item = (Verdict, Option<f64>, T)>) -> Option<T> {
    let mut best: Option<(f64, T)> = None;
    for (verdict, ratio, item) in items {
        if !verdict.is_change() {
            continue;
        }
        let e = effect_size(ratio);
        if best.as_ref().is_none_or(|(b, _)| e > *b) {
            best = Some((e, item));
        }
    }
    best.map(|(_, t)| t)
}

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
        super::format::fmt_alpha(c.adjusted_alpha),
        super::format::pct_level(level),
        super::format::conf_pct(c.confidence)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn effect_is_symmetric_in_log_space() {
        assert!((effect_size(Some(0.5)) - effect_size(Some(2.0))).abs() < 1e-12);
        assert_eq!(effect_size(None), 0.0);
        assert_eq!(effect_size(Some(0.0)), 0.0);
        let mut v = vec![Some(1.1), Some(0.5), None, Some(1.9), Some(2.0)];
        by_effect(&mut v, |r| *r);
        assert_eq!(
            v,
            vec![Some(0.5), Some(2.0), Some(1.9), Some(1.1), None],
            "ties keep their order"
        );
    }

    #[test]
    fn largest_change_skips_non_significant() {
        let items = [
            (Verdict::Same, Some(3.0), 0),
            (Verdict::Worse, Some(0.8), 1),
            (Verdict::Better, Some(1.5), 2),
            (Verdict::Unstable, Some(9.0), 3),
        ];
        assert_eq!(largest_change(items), Some(2));
        assert_eq!(largest_change([(Verdict::Same, Some(3.0), 0)]), None);
    }
}
