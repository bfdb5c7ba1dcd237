//! Skill of a simulated hydrograph against observations (SCIENCE.md "Validation
//! metrics"): peak error, peak timing error, Nash–Sutcliffe efficiency, Kling–Gupta
//! efficiency and volume error.
//!
//! # References
//! - J. E. Nash and J. V. Sutcliffe (1970), "River flow forecasting through conceptual
//!   models part I", J. Hydrol. 10(3), 282–290.
//! - H. V. Gupta, H. Kling, K. K. Yilmaz and G. F. Martinez (2009), "Decomposition of the
//!   mean squared error and NSE performance criteria", J. Hydrol. 377, 80–91, eq. 9.

/// Peak error, % of the observed peak: 100 (sim − obs) / obs.
pub fn peak_error_pct(observed_peak: f64, simulated_peak: f64) -> f64 {
    100.0 * (simulated_peak - observed_peak) / observed_peak
}

/// Peak timing error, h: simulated minus observed time of the peak (positive = late).
pub fn peak_time_error_h(observed_h: f64, simulated_h: f64) -> f64 {
    simulated_h - observed_h
}

fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

/// Nash–Sutcliffe efficiency 1 − Σ(s−o)² / Σ(o−ō)²; `None` for fewer than two pairs,
/// unequal lengths or constant observations.
pub fn nse(observed: &[f64], simulated: &[f64]) -> Option<f64> {
    if observed.len() != simulated.len() || observed.len() < 2 {
        return None;
    }
    let mo = mean(observed);
    let den: f64 = observed.iter().map(|o| (o - mo).powi(2)).sum();
    if den <= 0.0 {
        return None;
    }
    let num: f64 = observed
        .iter()
        .zip(simulated)
        .map(|(o, s)| (s - o).powi(2))
        .sum();
    Some(1.0 - num / den)
}

/// Kling–Gupta efficiency 1 − √((r−1)² + (α−1)² + (β−1)²), with r the Pearson
/// correlation, α = σ_s/σ_o and β = μ_s/μ_o (Gupta et al. 2009, population standard
/// deviations); `None` when undefined (fewer than two pairs, constant series, zero mean).
pub fn kge(observed: &[f64], simulated: &[f64]) -> Option<f64> {
    if observed.len() != simulated.len() || observed.len() < 2 {
        return None;
    }
    let (mo, ms) = (mean(observed), mean(simulated));
    let n = observed.len() as f64;
    let so = (observed.iter().map(|o| (o - mo).powi(2)).sum::<f64>() / n).sqrt();
    let ss = (simulated.iter().map(|s| (s - ms).powi(2)).sum::<f64>() / n).sqrt();
    if so <= 0.0 || ss <= 0.0 || mo == 0.0 {
        return None;
    }
    let cov = observed
        .iter()
        .zip(simulated)
        .map(|(o, s)| (o - mo) * (s - ms))
        .sum::<f64>()
        / n;
    let r = cov / (so * ss);
    let alpha = ss / so;
    let beta = ms / mo;
    Some(1.0 - ((r - 1.0).powi(2) + (alpha - 1.0).powi(2) + (beta - 1.0).powi(2)).sqrt())
}

/// Volume error, %: 100 (Σs − Σo) / Σo over paired values on a common time step;
/// `None` when the observed sum is zero or lengths differ.
pub fn volume_error_pct(observed: &[f64], simulated: &[f64]) -> Option<f64> {
    if observed.len() != simulated.len() || observed.is_empty() {
        return None;
    }
    let so: f64 = observed.iter().sum();
    if so == 0.0 {
        return None;
    }
    Some(100.0 * (simulated.iter().sum::<f64>() - so) / so)
}

/// The value of a series (times `t_h`, values `q`) at `t`, linear between records;
/// `None` outside the records.
pub fn sample(t_h: &[f64], q: &[f64], t: f64) -> Option<f64> {
    if t_h.is_empty() || t < t_h[0] || t > t_h[t_h.len() - 1] {
        return None;
    }
    let k = t_h.partition_point(|&x| x <= t);
    if k == 0 {
        return Some(q[0]);
    }
    if k >= t_h.len() {
        return Some(q[q.len() - 1]);
    }
    let w = (t - t_h[k - 1]) / (t_h[k] - t_h[k - 1]);
    Some(q[k - 1] + w * (q[k] - q[k - 1]))
}
