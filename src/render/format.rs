//! Number and interval formatting shared by every format: fixed-precision
//! numbers, `mean ± half-width`, `value [low, high]`, changes, p-values and
//! confidence levels. summary.md, the PR comment, the site and the PDF print
//! their numbers through these; the charts take their confidence label here.

use crate::analysis::compare::MetricStats;

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

/// A confidence level like `99.97 %`: enough decimals to show α with two
/// significant digits, trailing zeros dropped.
pub fn pct_level(level: f64) -> String {
    let alpha_pct = ((1.0 - level) * 100.0).max(1e-12);
    let decimals = (1 - alpha_pct.log10().floor() as i32).clamp(0, 8) as usize;
    let text = format!("{:.*}", decimals, level * 100.0);
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    };
    format!("{text} %")
}

/// A confidence level as a percentage without trailing zeros: 0.95 → `95%`.
pub fn conf_pct(confidence: f64) -> String {
    let p = format!("{:.2}", confidence * 100.0);
    format!("{}%", p.trim_end_matches('0').trim_end_matches('.'))
}

/// A significance level: 4 decimals, or 2 significant digits below 0.001.
pub fn fmt_alpha(a: f64) -> String {
    if a >= 0.001 {
        format!("{a:.4}")
    } else {
        format!("{a:.2e}")
    }
}

/// `value [low, high]` to 3 decimals (ratios, success rates), the bare
/// value without an interval, `—` without a value.
pub fn interval3(value: Option<f64>, low: Option<f64>, high: Option<f64>) -> String {
    match (value, low, high) {
        (Some(v), Some(lo), Some(hi)) => format!("{v:.3} [{lo:.3}, {hi:.3}]"),
        (Some(v), _, _) => format!("{v:.3}"),
        _ => "—".into(),
    }
}

/// `value [low, high]` with [`num`]'s precision, the bare value without an
/// interval, `—` without a value.
pub fn interval_num(value: Option<f64>, low: Option<f64>, high: Option<f64>) -> String {
    match (value, low, high) {
        (Some(v), Some(lo), Some(hi)) => format!("{} [{}, {}]", num(v), num(lo), num(hi)),
        (Some(v), _, _) => num(v),
        _ => "—".into(),
    }
}

/// A latency cell: [`mean_ci`] over runs, then the pooled per-task
/// percentile with its interval when there is one.
pub fn latency_cell(st: &MetricStats) -> String {
    let mut cell = mean_ci(st);
    if let Some(p) = &st.pooled {
        if let (Some(lo), Some(hi)) = (p.ci_low, p.ci_high) {
            cell.push_str(&format!(
                " (tasks: {} [{}, {}], n={})",
                num(p.value),
                num(lo),
                num(hi),
                p.n
            ));
        }
    }
    cell
}

/// A relative change in percent, signed, one decimal: `+12.3%`; `—` without one.
pub fn change(pct: Option<f64>) -> String {
    pct.map(|p| format!("{p:+.1}%")).unwrap_or_else(|| "—".into())
}

/// A p-value: three decimals, `<0.001` below that, `—` without one.
pub fn p_value(p: Option<f64>) -> String {
    match p {
        Some(p) if p < 0.001 => "<0.001".into(),
        Some(p) => format!("{p:.3}"),
        None => "—".into(),
    }
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
