//! Areal reduction factor (ARF): the ratio of the mean depth over an area to the point
//! depth of the same duration and return period.
//!
//! No Chinese point-to-area relation (点面折减系数) for this region was found in public
//! sources (see `../reference/hydrofacts-reservoirs-stations-rain.md` §3e), so the US
//! Weather Bureau TP-29 curves are used, in the closed form fitted to them by Leclerc &
//! Schaake (1972):
//!
//! ARF = 1 − exp(−1.1 t^{1/4}) + exp(−1.1 t^{1/4} − 0.01 A),
//!
//! with t the duration in hours and A the area in square miles (1 mi² = 2.589988 km²).
//! TP-29 covers areas up to 400 mi² (≈ 1036 km²) and durations of 30 min to 24 h; above
//! 1036 km² the formula levels off at 1 − exp(−1.1 t^{1/4}) and is an extrapolation (the
//! river systems here cover 10⁴–5·10⁴ km²; a regional 点面关系 from the storm atlas should
//! replace it for such areas).
//!
//! # Reference
//! - US Weather Bureau (1957–1958) *Rainfall intensity–frequency regime*, Technical Paper
//!   29, Parts 1–5, Figure "area–depth curves".
//! - Leclerc, G., Schaake, J.C. (1972) *Derivation of hydrologic frequency curves*, MIT
//!   Ralph M. Parsons Laboratory report 142 (the formula above).
//! - Chow, Maidment & Mays (1988) *Applied Hydrology*, §14.3 and Fig. 14.3.2 (TP-29 curves).

/// Square kilometres per square mile.
pub const KM2_PER_MI2: f64 = 2.589_988_110_336;

/// Areal reduction factor (–, in (0, 1]) for a storm of `duration_h` hours over
/// `area_km2` km², by the Leclerc & Schaake (1972) fit to the US Weather Bureau TP-29
/// curves. Returns 1 for zero area; decreases with area and increases with duration.
pub fn areal_reduction_factor(area_km2: f64, duration_h: f64) -> f64 {
    let a_mi2 = area_km2.max(0.0) / KM2_PER_MI2;
    let e = 1.1 * duration_h.max(0.0).powf(0.25);
    1.0 - (-e).exp() + (-e - 0.01 * a_mi2).exp()
}
