//! Chicago design hyetograph (Keifer & Chu 1957): a storm whose every window centred on
//! the peak holds the design depth of the window's duration, so that one hyetograph
//! reproduces the whole depth–duration (IDF) relation.
//!
//! With P(t) the design depth for duration t, total duration D and peak ratio r (the
//! fraction of the storm before the peak, t_p = r·D), the cumulative depth from the
//! start is
//!
//! - C(τ) = r·P(D) − r·P((t_p − τ)/r)          for τ ≤ t_p,
//! - C(τ) = r·P(D) + (1 − r)·P((τ − t_p)/(1 − r))  for τ ≥ t_p,
//!
//! so that C(D) = P(D) and the rain in any window [t_p − r t, t_p + (1 − r) t] is P(t).
//! The depth of step k is C(τ_{k+1}) − C(τ_k): the total equals the design depth exactly,
//! and for a concave P (intensity falling with duration) the step holding t_p is the
//! largest.
//!
//! # Reference
//! - Keifer, C.J., Chu, H.H. (1957) Synthetic storm pattern for drainage design. *J.
//!   Hydraulics Division, ASCE* 83(HY4):1332-1–1332-25.
//! - Chow, Maidment & Mays (1988) *Applied Hydrology* §14.4 (design hyetographs from IDF
//!   relations).

use crate::{Error, Result};

/// Default peak ratio r (the fraction of the storm before the peak): 0.4, within the
/// 0.3–0.5 used for Chinese urban design storms (芝加哥雨型).
pub const DEFAULT_PEAK_RATIO: f64 = 0.4;

/// Chicago hyetograph: rain depth per step, mm, for a storm of `duration_h` hours in
/// steps of `step_h` hours (D/Δt must be a whole number), peak ratio `peak_ratio` in
/// [0, 1], from the depth–duration relation `depth_mm(t_h)` (increasing, 0 at t = 0).
pub fn chicago_hyetograph(
    depth_mm: impl Fn(f64) -> f64,
    duration_h: f64,
    step_h: f64,
    peak_ratio: f64,
) -> Result<Vec<f64>> {
    if !(duration_h > 0.0 && duration_h.is_finite() && step_h > 0.0 && step_h.is_finite()) {
        return Err(Error::Data(format!(
            "Chicago hyetograph: duration {duration_h} h and step {step_h} h must be positive"
        )));
    }
    let n_f = duration_h / step_h;
    let n = n_f.round();
    if (n_f - n).abs() > 1e-6 * n_f.max(1.0) || n < 1.0 {
        return Err(Error::Data(format!(
            "Chicago hyetograph: the duration {duration_h} h is not a whole number of {step_h} h steps"
        )));
    }
    if !(0.0..=1.0).contains(&peak_ratio) {
        return Err(Error::Data(format!(
            "Chicago hyetograph: peak ratio {peak_ratio} must lie in [0, 1] (0.4 is usual)"
        )));
    }
    let n = n as usize;
    let r = peak_ratio;
    let total = depth_mm(duration_h);
    let tp = r * duration_h;
    let cumulative = |tau: f64| -> f64 {
        if tau <= tp {
            if r == 0.0 {
                0.0
            } else {
                r * total - r * depth_mm(((tp - tau) / r).max(0.0))
            }
        } else if r == 1.0 {
            total
        } else {
            r * total + (1.0 - r) * depth_mm(((tau - tp) / (1.0 - r)).max(0.0))
        }
    };
    let mut out = Vec::with_capacity(n);
    let mut prev = 0.0;
    for k in 1..=n {
        let now = if k == n {
            total
        } else {
            cumulative(k as f64 * step_h)
        };
        out.push(now - prev);
        prev = now;
    }
    Ok(out)
}
