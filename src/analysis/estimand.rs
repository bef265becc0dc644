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
/// integrated by Simpson's rule over ±10 of the mode ([`simpson_panels`]).
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
    let (below, below_neg) = noncentral_t_cdf_pair(t_c, nu, ncp, simpson_panels(nu));
    Some((1.0 - below + below_neg).clamp(0.0, 1.0))
}

/// Simpson panels over the ±10 around the mode of `w = √χ²_ν`: 2,000, or
/// 100 from ν = [`COARSE_FROM_DF`] on. There `w` is close to normal with
/// sd ≈ 1/√2 and the whole integrand is smooth on that scale and vanishes at
/// both ends, so the rule converges geometrically in the step (like the
/// trapezoidal rule on a Gaussian): 100 panels (h = 0.2) already agree with
/// 2,000 within a few 1e-12, about the sums' own rounding (tested), at a
/// twentieth of the cost — the power search of a report with tens of
/// thousands of `~` verdicts spent seconds here. For small ν the density
/// `w^{ν−1}` is not smooth at 0 and the fine rule stays.
fn simpson_panels(nu: f64) -> usize {
    if nu >= COARSE_FROM_DF {
        100
    } else {
        2000
    }
}

/// Degrees of freedom from which the noncentral t CDF uses the coarse rule.
const COARSE_FROM_DF: f64 = 16.0;

/// The noncentral t CDF at `t` and at `−t`, by Simpson's rule with
/// `panels` panels: one pass, the χ density shared by both integrands
/// (each sum is computed exactly as a pass of its own would).
fn noncentral_t_cdf_pair(t: f64, nu: f64, ncp: f64, panels: usize) -> (f64, f64) {
    // Density of w = √V, V ~ χ²_ν: w^{ν−1} e^{−w²/2} / (2^{ν/2−1} Γ(ν/2)).
    let log_norm = (nu / 2.0 - 1.0) * std::f64::consts::LN_2 + statrs::function::gamma::ln_gamma(nu / 2.0);
    let mode = (nu - 1.0).max(0.0).sqrt();
    let (lo, hi) = ((mode - 10.0).max(0.0), mode + 10.0);
    let h = (hi - lo) / panels as f64;
    let f = |w: f64| {
        if w <= 0.0 {
            return (0.0, 0.0);
        }
        let density = ((nu - 1.0) * w.ln() - w * w / 2.0 - log_norm).exp();
        let phi = |t: f64| density * (1.0 - stats::z_sf(t * w / nu.sqrt() - ncp).unwrap_or(0.0));
        (phi(t), phi(-t))
    };
    let ((a_lo, b_lo), (a_hi, b_hi)) = (f(lo), f(hi));
    let (mut a, mut b) = (a_lo + a_hi, b_lo + b_hi);
    for i in 1..panels {
        let weight = if i % 2 == 1 { 4.0 } else { 2.0 };
        let (fa, fb) = f(lo + i as f64 * h);
        a += fa * weight;
        b += fb * weight;
    }
    (a * h / 3.0, b * h / 3.0)
}

/// Runs per side the Welch test needs at level `alpha` to detect a relative
/// difference `rel_diff` of `mean_baseline` with power `power`: the smallest
/// `n ≥ 2` with [`welch_power`] ≥ `power`. `None` when it would exceed a
/// million runs (when even 2¹⁹ runs are not enough).
///
/// Power grows with n, so the answer is the one n with enough power whose
/// predecessor has not; the search starts at the normal approximation
/// `n ≈ (z_{1−α/2} + z_power)² (s_a² + s_b²) / δ²`, which the Welch test
/// needs at least, and gallops (1, 2, 4, … steps) then bisects from there:
/// usually two or three power evaluations instead of the ~2·log₂ n of a
/// search from n = 2, with the same result.
pub fn runs_needed(sd_a: f64, sd_b: f64, mean_baseline: f64, rel_diff: f64, alpha: f64, power: f64) -> Option<usize> {
    /// The largest n a doubling search from 2 tries before it gives up at a million.
    const LAST: usize = 1 << 19;
    let delta = (rel_diff * mean_baseline).abs();
    if !(delta > 0.0) || !delta.is_finite() || !(sd_a >= 0.0 && sd_b >= 0.0) {
        return None;
    }
    let enough = |n: usize| welch_power(sd_a, sd_b, n, delta, alpha).is_some_and(|p| p >= power);
    let guess = guess_runs(sd_a, sd_b, delta, alpha, power).unwrap_or(2);
    // Invariant of the bisection: `lo` is 1 or lacks power, `hi` has it.
    let (mut lo, mut hi);
    if enough(guess) {
        hi = guess;
        let mut step = 1;
        loop {
            if hi <= 2 {
                lo = 1;
                break;
            }
            let probe = hi.saturating_sub(step).max(2);
            if enough(probe) {
                hi = probe;
                step *= 2;
            } else {
                lo = probe;
                break;
            }
        }
    } else {
        lo = guess;
        let mut step = 1;
        loop {
            if lo >= LAST {
                return None;
            }
            let probe = (lo + step).min(LAST);
            if enough(probe) {
                hi = probe;
                break;
            }
            lo = probe;
            step *= 2;
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

/// Where [`runs_needed`] starts: `n = (q + z_power)² (s_a² + s_b²) / δ²`
/// with `q` the normal quantile `z_{1−α/2}`, then twice with `q` the
/// (approximate) t quantile at the Welch df of the previous `n` (the power
/// of the t-test is about `Φ(ncp − q)`), within 2 … 2¹⁹.
fn guess_runs(sd_a: f64, sd_b: f64, delta: f64, alpha: f64, power: f64) -> Option<usize> {
    const LAST: f64 = (1u64 << 19) as f64;
    let s2 = sd_a * sd_a + sd_b * sd_b;
    let zp = stats::z_quantile(power)?;
    let runs = |q: f64| {
        let n = ((q + zp).powi(2) * s2 / (delta * delta)).ceil();
        if n.is_nan() {
            2.0
        } else {
            n.clamp(2.0, LAST)
        }
    };
    let z = stats::z_quantile(1.0 - alpha / 2.0)?;
    let mut n = runs(z);
    for _ in 0..2 {
        let nu = (n - 1.0) * s2 * s2 / (sd_a.powi(4) + sd_b.powi(4));
        if !(nu >= 1.0 && nu.is_finite()) {
            break;
        }
        // The t quantile by its Cornish–Fisher expansion (Abramowitz &
        // Stegun 26.7.5, two terms): a guess needs no more, and the exact
        // inversion would cost as much as a power evaluation.
        let (z3, z5) = (z.powi(3), z.powi(5));
        n = runs(z + (z3 + z) / (4.0 * nu) + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * nu * nu));
    }
    Some(n as usize)
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
    if n > EXACT_PERMUTATION_LIMIT {
        // The rank sum of `a` is above its mean n_a(N+1)/2 exactly when
        // U_a = R_a - n_a(n_a+1)/2 is above n_a·n_b/2 (both exact in f64:
        // sums of half-integers), so one ranking serves both.
        let test = stats::mann_whitney_u(a, b)?;
        let excess = 2.0 * test.statistic - (na * nb) as f64;
        let direction = if excess > 0.0 {
            -1
        } else if excess < 0.0 {
            1
        } else {
            0
        };
        return Some((test.p_value, direction));
    }
    let mut all: Vec<(f64, bool)> = a
        .iter()
        .map(|&x| (x, true))
        .chain(b.iter().map(|&x| (x, false)))
        .collect();
    // A tie block shares one rank: the order inside it does not matter.
    all.sort_unstable_by(|x, y| x.0.total_cmp(&y.0));
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

    /// The search from the normal approximation finds what a doubling and
    /// bisection search from n = 2 finds.
    #[test]
    fn runs_needed_equals_a_search_from_two() {
        fn from_two(sd_a: f64, sd_b: f64, mean: f64, rel: f64, alpha: f64, power: f64) -> Option<usize> {
            let delta = (rel * mean).abs();
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
        for (sa, sb) in [
            (1.0, 2.0),
            (0.5, 0.5),
            (3.0, 1.0),
            (0.01, 4.0),
            (5.0, 5.0),
            (0.0, 1.0),
            (12.0, 0.3),
        ] {
            for alpha in [0.05, 0.01, 1e-3, 1e-5, 3.6e-6] {
                for rel in [0.05, 0.2, 0.01] {
                    let want = from_two(sa, sb, 100.0, rel, alpha, 0.8);
                    assert_eq!(
                        runs_needed(sa, sb, 100.0, rel, alpha, 0.8),
                        want,
                        "sd ({sa}, {sb}) α {alpha} rel {rel}"
                    );
                }
            }
        }
        assert_eq!(runs_needed(1000.0, 1000.0, 1.0, 1e-4, 1e-6, 0.8), None);
    }

    /// From ν = 16 on, 100 Simpson panels give what 2,000 give within 5e-12,
    /// near the rounding noise of the sums themselves (200, 400 or 2,000
    /// panels differ by a few 1e-13).
    #[test]
    fn coarse_rule_agrees_with_the_fine_one() {
        for nu in [16.0, 17.3, 24.0, 40.5, 99.0, 300.0, 2500.0] {
            for ncp in [0.0, 1.5, 4.0, 9.0] {
                for t in [-3.5, -1.0, 0.0, 2.0, 4.7] {
                    let fine = noncentral_t_cdf_pair(t, nu, ncp, 2000);
                    let coarse = noncentral_t_cdf_pair(t, nu, ncp, 100);
                    assert!(
                        (fine.0 - coarse.0).abs() < 5e-12 && (fine.1 - coarse.1).abs() < 5e-12,
                        "ν {nu} ncp {ncp} t {t}: {fine:?} vs {coarse:?}"
                    );
                }
            }
        }
        assert_eq!(simpson_panels(COARSE_FROM_DF), 100);
        assert_eq!(simpson_panels(15.9), 2000);
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

    /// Beyond the exact limit the direction comes from U: the side whose
    /// values tend larger, with ties (midranks), and 0 when balanced.
    #[test]
    fn direction_beyond_the_exact_limit() {
        let a: Vec<f64> = (0..40).map(|i| f64::from(i / 2)).collect();
        let b: Vec<f64> = (0..45).map(|i| f64::from(i / 2) + 0.5).collect();
        assert!(a.len() + b.len() > EXACT_PERMUTATION_LIMIT);
        assert_eq!(mann_whitney_exact(&a, &b).unwrap().1, 1, "b tends larger");
        assert_eq!(mann_whitney_exact(&b, &a).unwrap().1, -1, "a tends larger");
        // The same values on both sides: U_a = n_a·n_b/2 exactly.
        let (p, dir) = mann_whitney_exact(&a, &a).unwrap();
        assert_eq!(dir, 0);
        assert!(p > 0.99, "{p}");
    }
}
