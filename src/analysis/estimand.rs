//! The one estimand of a comparison and everything that judges it: the
//! ratio of means (candidate / baseline) over runs, its significance test,
//! its interval at the family-adjusted level, and the multiplicity
//! correction. The verdict, the interval shown beside it and the
//! regression gate are all read from here, so they agree by construction.
//!
//! * **Test.** Welch's t on the difference of means (Welch 1947), which is
//!   the test of `H0: ratio = 1`.
//! * **Interval.** The inversion of the same statistic: Fieller's set
//!   `{ρ : (x̄_c − ρ x̄_b)² ≤ t²·(s_c²/n_c + ρ² s_b²/n_b)}` (Fieller 1954,
//!   JRSS B 16:175–185), with the t quantile at the Welch–Satterthwaite df of
//!   the test (taken at ρ = 1). Hence `1 ∉ interval(α) ⇔ p < α` exactly: a
//!   significant verdict always shows an interval that excludes 1, and a `~`
//!   one that spans it. Kalibera & Jones, "Rigorous benchmarking in
//!   reasonable time" (ISMM 2013), recommend ratio-of-means intervals over
//!   repeated runs (Fieller's among them) for exactly this reporting.
//! * **Multiplicity.** Benjamini–Hochberg (FDR) by default, Holm (FWER) or
//!   none. The interval beside a verdict is at the *adjusted* level α*, for
//!   which `p ≤ α* ⇔ selected`: for BH the false-coverage-statement rate
//!   adjusted intervals of Benjamini & Yekutieli (2005, JASA 100:71–81),
//!   α* = R·q/m (R selected of m; q/m when none is); for Holm α* =
//!   α/(m − R + 1), which every rejected p meets and every retained p
//!   exceeds; for none α* = α.
//! * **Robustness.** The exact permutation Mann–Whitney test (ties handled
//!   exactly) is reported beside; when it reaches the adjusted level and the
//!   primary test does not, or the two point in opposite directions, the
//!   comparison is `unstable` (typically one outlier run) instead of a
//!   verdict either way.

use super::stats;
use serde::Serialize;

/// Multiple-comparison correction across one report's comparisons.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Correction {
    /// Benjamini–Hochberg: controls the expected share of false verdicts
    /// (FDR); keeps verdicts reachable in reports of hundreds of comparisons.
    #[default]
    Bh,
    /// Holm step-down: controls the chance of any false verdict (FWER).
    Holm,
    /// No correction: each comparison at the unadjusted level.
    None,
}

impl Correction {
    pub fn name(self) -> &'static str {
        match self {
            Correction::Bh => "bh",
            Correction::Holm => "holm",
            Correction::None => "none",
        }
    }

    /// Human label for reports.
    pub fn label(self) -> &'static str {
        match self {
            Correction::Bh => "Benjamini–Hochberg (FDR)",
            Correction::Holm => "Holm (FWER)",
            Correction::None => "none",
        }
    }
}

/// Why a comparison has no ratio (and hence no verdict).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoVerdict {
    /// Fewer than two runs on a side: no interval, no test.
    TooFewRuns,
    /// The baseline mean is 0: the ratio is undefined.
    ZeroBaseline,
    /// The baseline mean is not distinguishable from 0 at the level used:
    /// the Fieller set is unbounded.
    UnboundedInterval,
}

impl NoVerdict {
    pub fn reason(self) -> &'static str {
        match self {
            NoVerdict::TooFewRuns => "fewer than 2 runs on a side",
            NoVerdict::ZeroBaseline => "baseline mean is 0",
            NoVerdict::UnboundedInterval => "baseline mean not distinguishable from 0: the ratio interval is unbounded",
        }
    }
}

/// The ratio-of-means test of one comparison (see the module docs).
#[derive(Clone, Debug)]
pub struct RatioTest {
    pub ratio: f64,
    /// Two-sided Welch p-value of `ratio = 1`.
    pub p_value: f64,
    /// Welch–Satterthwaite df of the test (∞ when both variances are 0).
    pub df: f64,
    mc: f64,
    mb: f64,
    vc: f64,
    vb: f64,
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

fn var_of_mean(xs: &[f64]) -> f64 {
    let m = mean(xs);
    xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (xs.len() - 1) as f64 / xs.len() as f64
}

impl RatioTest {
    /// The test of `candidate` against `baseline` (one value per run).
    pub fn new(candidate: &[f64], baseline: &[f64]) -> Result<RatioTest, NoVerdict> {
        if candidate.len() < 2 || baseline.len() < 2 {
            return Err(NoVerdict::TooFewRuns);
        }
        let (mc, mb) = (mean(candidate), mean(baseline));
        if mb == 0.0 {
            return Err(NoVerdict::ZeroBaseline);
        }
        let (vc, vb) = (var_of_mean(candidate), var_of_mean(baseline));
        let se = (vc + vb).sqrt();
        let (df, p_value) = if se == 0.0 {
            // Both samples constant: the difference is exact.
            (f64::INFINITY, if mc == mb { 1.0 } else { 0.0 })
        } else {
            let df =
                (vc + vb).powi(2) / (vc * vc / (candidate.len() - 1) as f64 + vb * vb / (baseline.len() - 1) as f64);
            let t = (mc - mb) / se;
            (df, (2.0 * stats::t_sf(t.abs(), df).unwrap_or(0.5)).min(1.0))
        };
        Ok(RatioTest {
            ratio: mc / mb,
            p_value,
            df,
            mc,
            mb,
            vc,
            vb,
        })
    }

    /// The two-sided interval at level `1 − alpha`: the ratios the test does
    /// not reject at `alpha`. `Err` when the set is unbounded.
    pub fn interval(&self, alpha: f64) -> Result<(f64, f64), NoVerdict> {
        let (mc, mb, vc, vb) = (self.mc, self.mb, self.vc, self.vb);
        if vc + vb == 0.0 {
            return Ok((self.ratio, self.ratio));
        }
        let t = if self.df.is_finite() {
            stats::t_quantile(1.0 - alpha / 2.0, self.df).ok_or(NoVerdict::UnboundedInterval)?
        } else {
            stats::z_quantile(1.0 - alpha / 2.0).ok_or(NoVerdict::UnboundedInterval)?
        };
        let t2 = t * t;
        let a = mb * mb - t2 * vb;
        if !(a > 0.0) {
            return Err(NoVerdict::UnboundedInterval);
        }
        let disc = mc * mc * vb + mb * mb * vc - t2 * vb * vc;
        let half = t * disc.max(0.0).sqrt();
        let (lo, hi) = ((mc * mb - half) / a, (mc * mb + half) / a);
        Ok((lo.min(hi), lo.max(hi)))
    }
}

/// The family's adjusted level α* and adjusted p-values for `p_values` at
/// overall level `alpha` (see the module docs).
pub fn adjust(p_values: &[f64], alpha: f64, correction: Correction) -> (f64, Vec<f64>) {
    let m = p_values.len();
    if m == 0 {
        return (alpha, Vec::new());
    }
    match correction {
        Correction::None => (alpha, p_values.to_vec()),
        Correction::Holm => {
            let adjusted = stats::holm(p_values);
            let rejected = adjusted.iter().filter(|&&p| p <= alpha).count();
            (alpha / (m - rejected + 1) as f64, adjusted)
        }
        Correction::Bh => {
            let adjusted = benjamini_hochberg(p_values);
            let rejected = adjusted.iter().filter(|&&p| p <= alpha).count();
            (alpha * rejected.max(1) as f64 / m as f64, adjusted)
        }
    }
}

/// Benjamini–Hochberg step-up adjusted p-values (Benjamini & Hochberg 1995,
/// JRSS B 57:289–300): with ascending `p_(1) ≤ … ≤ p_(m)`,
/// `p̃_(i) = min_{j ≥ i} min(1, m·p_(j)/j)`, in input order (= R
/// `p.adjust(method = "BH")`, statsmodels `multipletests(method="fdr_bh")`).
pub fn benjamini_hochberg(p_values: &[f64]) -> Vec<f64> {
    let m = p_values.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&i, &j| p_values[i].total_cmp(&p_values[j]));
    let mut out = vec![0.0; m];
    let mut running = 1.0f64;
    for (rank, &idx) in order.iter().enumerate().rev() {
        running = running.min((m as f64 * p_values[idx] / (rank + 1) as f64).min(1.0));
        out[idx] = running;
    }
    out
}

/// Power of the two-sided Welch t-test at level `alpha` with `n` runs per
/// side, true difference of means `delta` and run standard deviations
/// `sd_a`, `sd_b`: `P(|T'| > t_{1−α/2,ν})` with `T'` noncentral t, `ν` the
/// Welch–Satterthwaite df for equal sizes `(n−1)(s_a²+s_b²)²/(s_a⁴+s_b⁴)` and
/// noncentrality `δ/√((s_a²+s_b²)/n)` (the usual approximation of Welch's
/// power, e.g. Moser, Stevens & Watts 1989, Commun. Statist. 18:3963–3975).
/// The noncentral t CDF is `∫ Φ(t·w/√ν − ncp) f(w) dw` over `w = √χ²_ν`,
/// integrated by Simpson's rule (2,000 panels over ±10 of the mode).
pub fn welch_power(sd_a: f64, sd_b: f64, n: usize, delta: f64, alpha: f64) -> Option<f64> {
    if n < 2 {
        return Some(0.0);
    }
    let s2 = sd_a * sd_a + sd_b * sd_b;
    if s2 == 0.0 {
        return Some(if delta != 0.0 { 1.0 } else { alpha });
    }
    let nu = (n - 1) as f64 * s2 * s2 / (sd_a.powi(4) + sd_b.powi(4));
    let ncp = delta.abs() / (s2 / n as f64).sqrt();
    let t_c = stats::t_quantile(1.0 - alpha / 2.0, nu)?;
    let cdf = |t: f64| noncentral_t_cdf(t, nu, ncp);
    Some((1.0 - cdf(t_c) + cdf(-t_c)).clamp(0.0, 1.0))
}

fn noncentral_t_cdf(t: f64, nu: f64, ncp: f64) -> f64 {
    // Density of w = √V, V ~ χ²_ν: w^{ν−1} e^{−w²/2} / (2^{ν/2−1} Γ(ν/2)).
    let log_norm = (nu / 2.0 - 1.0) * std::f64::consts::LN_2 + statrs::function::gamma::ln_gamma(nu / 2.0);
    let mode = (nu - 1.0).max(0.0).sqrt();
    let (lo, hi) = ((mode - 10.0).max(0.0), mode + 10.0);
    const PANELS: usize = 2000;
    let h = (hi - lo) / PANELS as f64;
    let f = |w: f64| {
        if w <= 0.0 {
            return 0.0;
        }
        let density = ((nu - 1.0) * w.ln() - w * w / 2.0 - log_norm).exp();
        let z = t * w / nu.sqrt() - ncp;
        density * (1.0 - stats::z_sf(z).unwrap_or(0.0))
    };
    let mut sum = f(lo) + f(hi);
    for i in 1..PANELS {
        sum += f(lo + i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
    }
    sum * h / 3.0
}

/// Runs per side the Welch test needs at level `alpha` to detect a relative
/// difference `rel_diff` of `mean_baseline` with power `power`: the smallest
/// `n ≥ 2` with [`welch_power`] ≥ `power` (power grows with n: doubling,
/// then bisection). `None` when it would exceed a million runs.
pub fn runs_needed(sd_a: f64, sd_b: f64, mean_baseline: f64, rel_diff: f64, alpha: f64, power: f64) -> Option<usize> {
    let delta = (rel_diff * mean_baseline).abs();
    if !(delta > 0.0) || !delta.is_finite() || !(sd_a >= 0.0 && sd_b >= 0.0) {
        return None;
    }
    let enough = |n: usize| welch_power(sd_a, sd_b, n, delta, alpha).is_some_and(|p| p >= power);
    let (mut lo, mut hi) = (1usize, 2usize);
    while !enough(hi) {
        lo = hi;
        hi *= 2;
        if hi > 1_000_000 {
            return None;
        }
    }
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        if enough(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Some(hi)
}

/// Largest number of values for which [`mann_whitney_exact`] enumerates
/// the permutation distribution; beyond, the tie-corrected normal
/// approximation of [`stats::mann_whitney_u`] is used.
const EXACT_PERMUTATION_LIMIT: usize = 60;

/// Two-sided Mann–Whitney / Wilcoxon rank-sum test with the exact
/// permutation distribution of the (mid)rank sum, ties included (Hollander,
/// Wolfe & Chicken 2014, §4.1, "exact conditional distribution"; = R
/// `coin::wilcox_test(distribution = "exact")`): counts, over all
/// `C(N, n_a)` ways to choose the first sample's positions, how often the
/// rank sum is at least as far from its mean as observed. Doubling the
/// midranks makes them integers, so the count is a small dynamic program.
/// Returns `(p, direction)` where direction is +1 when `b` tends larger.
pub fn mann_whitney_exact(a: &[f64], b: &[f64]) -> Option<(f64, i8)> {
    let (na, nb) = (a.len(), b.len());
    if na == 0 || nb == 0 {
        return None;
    }
    let n = na + nb;
    let mut all: Vec<(f64, bool)> = a
        .iter()
        .map(|&x| (x, true))
        .chain(b.iter().map(|&x| (x, false)))
        .collect();
    all.sort_by(|x, y| x.0.total_cmp(&y.0));
    // Doubled midranks: a tie block occupying ranks i+1..=j gets i+1+j.
    let mut ranks2 = vec![0usize; n];
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && all[j + 1].0 == all[i].0 {
            j += 1;
        }
        for r in &mut ranks2[i..=j] {
            *r = i + 1 + j + 1;
        }
        i = j + 1;
    }
    let observed: usize = ranks2
        .iter()
        .zip(&all)
        .filter(|(_, (_, in_a))| *in_a)
        .map(|(r, _)| r)
        .sum();
    let expected2 = na * (n + 1); // doubled expectation of the rank sum: 2 · n_a(N+1)/2
    let direction: i8 = match observed.cmp(&expected2) {
        std::cmp::Ordering::Greater => -1,
        std::cmp::Ordering::Less => 1,
        std::cmp::Ordering::Equal => 0,
    };
    if n > EXACT_PERMUTATION_LIMIT {
        return stats::mann_whitney_u(a, b).map(|t| (t.p_value, direction));
    }
    let max_sum: usize = ranks2.iter().sum();
    // ways[k][s]: subsets of size k with doubled rank sum s (as f64: C(60,30) ≈ 1.2e17 fits).
    let mut ways = vec![vec![0f64; max_sum + 1]; na + 1];
    ways[0][0] = 1.0;
    for &r in &ranks2 {
        for k in (1..=na).rev() {
            let (lower, upper) = ways.split_at_mut(k);
            let (prev, cur) = (&lower[k - 1], &mut upper[0]);
            for s in (r..=max_sum).rev() {
                if prev[s - r] != 0.0 {
                    cur[s] += prev[s - r];
                }
            }
        }
    }
    let total: f64 = ways[na].iter().sum();
    let dev = observed.abs_diff(expected2);
    let extreme: f64 = ways[na]
        .iter()
        .enumerate()
        .filter(|(s, _)| s.abs_diff(expected2) >= dev)
        .map(|(_, w)| w)
        .sum();
    Some(((extreme / total).min(1.0), direction))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `[100, 101, 102]` vs `[120, 121, 122]`: Welch t = 24.4949, df = 4,
    /// p = 1.6483088987e-05 (scipy 1.x: `ttest_ind([120,121,122],
    /// [100,101,102], equal_var=False)`); significant even
    /// at Bonferroni's α/200 = 2.5e-4, so 3 runs per side reach a verdict in
    /// a report of 200 comparisons.
    #[test]
    fn three_runs_reach_a_verdict_on_a_large_consistent_effect() {
        let t = RatioTest::new(&[120.0, 121.0, 122.0], &[100.0, 101.0, 102.0]).unwrap();
        assert!((t.ratio - 1.198_019_8).abs() < 1e-6);
        assert!((t.p_value - 1.648_308_898_7e-5).abs() < 1e-12, "{}", t.p_value);
        assert!((t.df - 4.0).abs() < 1e-12);
        let mut ps = vec![0.5; 199];
        ps.push(t.p_value);
        let (alpha_star, adj) = adjust(&ps, 0.05, Correction::Bh);
        assert!(adj[199] <= 0.05 && t.p_value <= alpha_star);
        let (lo, hi) = t.interval(alpha_star).unwrap();
        assert!(lo > 1.0 && hi > lo, "({lo}, {hi})");
        let (_, holm) = adjust(&ps, 0.05, Correction::Holm);
        assert!(holm[199] <= 0.05);
    }

    /// The interval inverts the test: 1 lies outside exactly when p < α.
    #[test]
    fn interval_excludes_one_iff_the_test_rejects() {
        let base = [100.0, 100.5, 100.9, 100.2, 100.7];
        for shift in [0.0, 0.3, 0.5, 0.7, 1.0, 2.0] {
            let cand: Vec<f64> = [100.1, 100.9, 101.2, 100.4, 101.0].iter().map(|x| x + shift).collect();
            let t = RatioTest::new(&cand, &base).unwrap();
            for alpha in [0.05, 0.01, 0.001] {
                let (lo, hi) = t.interval(alpha).unwrap();
                assert_eq!(
                    t.p_value < alpha,
                    !(lo <= 1.0 && 1.0 <= hi),
                    "shift {shift} alpha {alpha}: p {} ({lo}, {hi})",
                    t.p_value
                );
            }
        }
    }

    #[test]
    fn zero_and_degenerate_baselines() {
        assert_eq!(
            RatioTest::new(&[1.0, 6.0, 3.0], &[0.0, 0.0, 0.0]).err(),
            Some(NoVerdict::ZeroBaseline)
        );
        assert_eq!(RatioTest::new(&[1.0], &[2.0, 3.0]).err(), Some(NoVerdict::TooFewRuns));
        // Zero variance on both sides, different means: significant, ratio exact.
        let t = RatioTest::new(&[12.0, 12.0], &[10.0, 10.0]).unwrap();
        assert_eq!((t.p_value, t.ratio), (0.0, 1.2));
        assert_eq!(t.interval(0.05).unwrap(), (1.2, 1.2));
    }

    /// R: p.adjust(c(0.01, 0.04, 0.03, 0.005), "BH") = 0.02 0.04 0.04 0.02.
    #[test]
    fn bh_matches_r() {
        let adj = benjamini_hochberg(&[0.01, 0.04, 0.03, 0.005]);
        for (a, e) in adj.iter().zip([0.02, 0.04, 0.04, 0.02]) {
            assert!((a - e).abs() < 1e-12, "{adj:?}");
        }
    }

    /// Welch power against a seeded simulation (numpy default_rng(1), 20,000
    /// replicates per row, `scipy.stats.ttest_ind(equal_var=False) < 0.05`,
    /// means 100 vs 105): sd (2, 1): n = 3 → 0.685, n = 4 → 0.906;
    /// sd (3, 1): n = 5 → 0.789, n = 6 → 0.894. So 4 and 6 runs per side
    /// reach 80 % power to detect 5 % (the old t-approximation said 11 and 5).
    #[test]
    fn runs_needed_matches_simulation() {
        for (sa, sb, n, simulated) in [
            (2.0, 1.0, 3, 0.685),
            (2.0, 1.0, 4, 0.906),
            (3.0, 1.0, 5, 0.789),
            (3.0, 1.0, 6, 0.894),
        ] {
            let p = welch_power(sa, sb, n, 5.0, 0.05).unwrap();
            assert!(
                (p - simulated).abs() < 0.04,
                "sd ({sa}, {sb}) n {n}: {p} vs {simulated}"
            );
        }
        assert_eq!(runs_needed(1.0, 2.0, 100.0, 0.05, 0.05, 0.8), Some(4));
        assert_eq!(runs_needed(1.0, 3.0, 100.0, 0.05, 0.05, 0.8), Some(6));
        // A stricter (adjusted) level needs more runs.
        assert!(runs_needed(1.0, 2.0, 100.0, 0.05, 0.001, 0.8).unwrap() > 4);
    }

    /// [3,4,5,6] vs [1,1,2]: the exact permutation p is 2/35 = 0.0571
    /// (scipy `mannwhitneyu([3,4,5,6], [1,1,2], method='exact')` = 0.05714; of the
    /// C(7,3) = 35 splits, only the observed one and its mirror image are as
    /// extreme), where the tie-corrected normal approximation gives 0.0498.
    #[test]
    fn exact_permutation_with_ties() {
        let (p, dir) = mann_whitney_exact(&[3.0, 4.0, 5.0, 6.0], &[1.0, 1.0, 2.0]).unwrap();
        assert!((p - 2.0 / 35.0).abs() < 1e-12, "{p}");
        assert_eq!(dir, -1, "the second sample tends smaller");
        // No ties, 5 vs 5, complete separation: 2/252.
        let (p, dir) = mann_whitney_exact(&[1.0, 2.0, 3.0, 4.0, 5.0], &[6.0, 7.0, 8.0, 9.0, 10.0]).unwrap();
        assert!((p - 2.0 / 252.0).abs() < 1e-12, "{p}");
        assert_eq!(dir, 1);
    }
}
