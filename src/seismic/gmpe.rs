//! The Yu et al. (2013) ground-motion model with elliptical attenuation, as used for the
//! Chinese seismic hazard map GB 18306-2015.
//!
//! The median of a ground-motion measure Y (PGA in cm/s², PGV in cm/s) on each axis of
//! the attenuation ellipse is
//!
//! ```text
//! ln Y = a + b·Ms + c·ln( sqrt(R² + 15²) + d·exp(e·Ms) )
//! ```
//!
//! with natural logarithms, the surface-wave magnitude Ms, the axis distance R in km and
//! a fixed 15 km depth term; one set (a, b, c, d, e) for the long axis and one for the
//! short axis, and a second pair above Ms 6.5. A site at epicentral distance r and angle
//! θ from the long axis lies on the ellipse whose semi-axes (R_a, R_b) give the same
//! ground motion on both axes (the long-axis equation at R_a equals the short-axis
//! equation at R_b, without the depth term, as OpenQuake does) and satisfy
//! `r = R_a·R_b / sqrt(R_a²·sin²θ + R_b²·cos²θ)`. The two axis values are combined as
//! `ln Y = ln Y_a·ln Y_b / sqrt((ln Y_a·sin θ)² + (ln Y_b·cos θ)²)`.
//!
//! This follows OpenQuake's `YuEtAl2013Ms` with two deliberate differences, both at the
//! edges of the model: R_a is found by a plain bisection to 1e-6 km (OpenQuake's search
//! starts at 300 km with a 150 km step and may end one step away from the root), and
//! the sign of ln Y is kept where both axis values are negative (Y below 1 cm/s² or
//! 1 cm/s, far from the source), where OpenQuake's product formula turns it positive.
//! R_b is held at 0 or more near the epicentre.
//!
//! OpenQuake fixes the long axis north–south; here θ = site azimuth − strike of the
//! causative fault, so the long axis runs along the fault.
//!
//! Uncertainty: the total standard deviation σ of ln Y (0.5428 for PGA, 0.6233 for PGV)
//! with ε ~ N(0, 1) drawn per Monte Carlo realisation by [`epsilon`], seeded from
//! (seed, realisation index) alone, so a run gives the same ε on any number of threads.
//!
//! # Reference
//! Yu Yanxiang (俞言祥) et al. (2013), the ground-motion attenuation relations developed
//! for the fifth-generation seismic hazard map of China (GB 18306-2015), as implemented
//! and documented in OpenQuake hazardlib, `openquake/hazardlib/gsim/yu_2013.py`
//! (class `YuEtAl2013MsEastern`, <https://github.com/gem/oq-engine>). The coefficients are
//! kept, with that source, in `models/seismic/gmpe_yu2013.toml`. (The journal reference
//! of the paper itself was not available here to check.)
//!
//! # See Also
//! [`super::zoning`] for the GB 18306-2015 basic PGA per county.

use crate::{Error, Result};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Standard gravity, m/s² (CGPM 1901), for cm/s² → g.
pub const STANDARD_GRAVITY_CM_S2: f64 = 980.665;

/// One coefficient set (a, b, c, d, e) of `ln Y = a + b·Ms + c·ln(sqrt(R²+h²) + d·e^(e·Ms))`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AxisCoefficients {
    /// Constant term.
    pub a: f64,
    /// Magnitude term, per unit Ms.
    pub b: f64,
    /// Geometric spreading term (negative).
    pub c: f64,
    /// Near-source saturation distance scale, km.
    pub d: f64,
    /// Magnitude dependence of the saturation, per unit Ms.
    pub e: f64,
}

impl AxisCoefficients {
    /// `a + b·Ms + c·ln(dist_km + d·exp(e·Ms))`: the axis equation at a distance that
    /// already includes (or, for the axis matching, leaves out) the depth term.
    pub fn ln_y_at(&self, ms: f64, dist_km: f64) -> f64 {
        self.a + self.b * ms + self.c * (dist_km + self.d * (self.e * ms).exp()).ln()
    }
}

/// The coefficients of one intensity measure (PGA or PGV).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeasureCoefficients {
    /// Total standard deviation of ln Y.
    pub sigma_ln: f64,
    /// Long axis, Ms ≤ split.
    pub long: AxisCoefficients,
    /// Short axis, Ms ≤ split.
    pub short: AxisCoefficients,
    /// Long axis, Ms > split.
    pub long_above_6p5: AxisCoefficients,
    /// Short axis, Ms > split.
    pub short_above_6p5: AxisCoefficients,
}

/// The model file `models/seismic/gmpe_yu2013.toml`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Yu2013 {
    /// What the coefficients are.
    pub name: String,
    /// Fixed depth term, km (15 in the published form).
    pub depth_km: f64,
    /// Ms above which the second pair of sets applies (6.5).
    pub split_ms: f64,
    /// Smallest Ms accepted.
    pub ms_min: f64,
    /// Largest Ms accepted.
    pub ms_max: f64,
    /// Peak ground acceleration (Y in cm/s²).
    pub pga: MeasureCoefficients,
    /// Peak ground velocity (Y in cm/s).
    pub pgv: MeasureCoefficients,
}

/// A ground-motion measure of the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// Peak ground acceleration; medians returned in g.
    Pga,
    /// Peak ground velocity; medians returned in cm/s.
    Pgv,
}

/// The semi-axes of the ellipse through a site and the ground motion there.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SiteMotion {
    /// Long semi-axis R_a, km.
    pub ra_km: f64,
    /// Short semi-axis R_b, km.
    pub rb_km: f64,
    /// Median ln Y in the model's units (cm/s² for PGA, cm/s for PGV).
    pub ln_y: f64,
}

/// Radius of an ellipse with semi-axes `ra` (along θ = 0) and `rb` at angle `theta_rad`
/// from the long axis: `ra·rb / sqrt(ra²·sin²θ + rb²·cos²θ)` (polar form of an ellipse
/// about its centre).
pub fn ellipse_radius(ra: f64, rb: f64, theta_rad: f64) -> f64 {
    let (s, c) = theta_rad.sin_cos();
    let den = ((ra * s).powi(2) + (rb * c).powi(2)).sqrt();
    if den > 0.0 {
        ra * rb / den
    } else {
        0.0
    }
}

/// Angle of a site from the long axis of an ellipse along `strike_deg`, radians:
/// θ = azimuth − strike (both clockwise from north, degrees).
pub fn angle_from_strike(azimuth_deg: f64, strike_deg: f64) -> f64 {
    (azimuth_deg - strike_deg).to_radians()
}

impl Yu2013 {
    /// Reads and checks `models/seismic/gmpe_yu2013.toml`.
    pub fn load(path: &Path) -> Result<Self> {
        let m: Yu2013 = crate::error::read_toml(
            path,
            "the ground-motion coefficients ship in models/seismic/gmpe_yu2013.toml",
        )?;
        let bad = |field: &str, message: String| Error::Invalid {
            path: PathBuf::from(path),
            field: field.into(),
            message,
        };
        if m.ms_min.partial_cmp(&m.ms_max) != Some(std::cmp::Ordering::Less) {
            return Err(bad("ms_min", "must be below ms_max".into()));
        }
        for (f, c) in [("pga", &m.pga), ("pgv", &m.pgv)] {
            if c.sigma_ln.is_nan() || c.sigma_ln <= 0.0 {
                return Err(bad(&format!("{f}.sigma_ln"), "must be positive".into()));
            }
            for (ax, s) in [
                ("long", c.long),
                ("short", c.short),
                ("long_above_6p5", c.long_above_6p5),
                ("short_above_6p5", c.short_above_6p5),
            ] {
                if s.c.is_nan() || s.c >= 0.0 {
                    return Err(bad(
                        &format!("{f}.{ax}.c"),
                        "the spreading term must be negative".into(),
                    ));
                }
            }
        }
        Ok(m)
    }

    /// The coefficients of a measure.
    pub fn measure(&self, m: Measure) -> &MeasureCoefficients {
        match m {
            Measure::Pga => &self.pga,
            Measure::Pgv => &self.pgv,
        }
    }

    /// The (long, short) axis sets for a magnitude: the second pair above `split_ms`.
    pub fn axis_sets(&self, m: Measure, ms: f64) -> (AxisCoefficients, AxisCoefficients) {
        let c = self.measure(m);
        if ms > self.split_ms {
            (c.long_above_6p5, c.short_above_6p5)
        } else {
            (c.long, c.short)
        }
    }

    /// R_b that gives the short-axis equation the value of the long-axis equation at
    /// R_a (both without the depth term, as OpenQuake's `rbf`); may be negative near the
    /// source.
    pub fn rb_for_ra(&self, m: Measure, ms: f64, ra_km: f64) -> f64 {
        let (l, s) = self.axis_sets(m, ms);
        let target = l.ln_y_at(ms, ra_km);
        ((target - s.a - s.b * ms) / s.c).exp() - s.d * (s.e * ms).exp()
    }

    /// Median ground motion at a site `repi_km` from the epicentre, at `theta_rad` from
    /// the long axis of the ellipse: the ellipse through the site (R_a by bisection to
    /// 1e-6 km), both axis equations with the depth term, and their elliptical
    /// combination.
    pub fn site_motion(&self, m: Measure, ms: f64, repi_km: f64, theta_rad: f64) -> SiteMotion {
        let radius = |ra: f64| ellipse_radius(ra, self.rb_for_ra(m, ms, ra).max(0.0), theta_rad);
        let ra = if repi_km <= 0.0 {
            0.0
        } else {
            // The radius grows with R_a; widen the bracket until it holds the site.
            let mut hi = repi_km.max(1.0) * 2.0;
            while radius(hi) < repi_km && hi < 1e6 {
                hi *= 2.0;
            }
            let mut lo = 0.0;
            while hi - lo > 1e-6 {
                let mid = 0.5 * (lo + hi);
                if radius(mid) < repi_km {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            0.5 * (lo + hi)
        };
        let rb = self.rb_for_ra(m, ms, ra).max(0.0);
        let (l, s) = self.axis_sets(m, ms);
        let h2 = self.depth_km * self.depth_km;
        let ya = l.ln_y_at(ms, (ra * ra + h2).sqrt());
        let yb = s.ln_y_at(ms, (rb * rb + h2).sqrt());
        let (sn, cs) = theta_rad.sin_cos();
        let den = ((ya * sn).powi(2) + (yb * cs).powi(2)).sqrt();
        let mut ln_y = if den > 0.0 { ya * yb / den } else { ya };
        if ya < 0.0 && yb < 0.0 {
            ln_y = -ln_y;
        }
        SiteMotion {
            ra_km: ra,
            rb_km: rb,
            ln_y,
        }
    }

    /// Median ln of the measure in output units: ln g for PGA, ln(cm/s) for PGV.
    pub fn ln_median(&self, m: Measure, ms: f64, repi_km: f64, theta_rad: f64) -> f64 {
        let y = self.site_motion(m, ms, repi_km, theta_rad).ln_y;
        match m {
            Measure::Pga => y - STANDARD_GRAVITY_CM_S2.ln(),
            Measure::Pgv => y,
        }
    }
}

/// SplitMix64 (Steele, Lea & Flood 2014, "Fast splittable pseudorandom number
/// generators", OOPSLA): one 64-bit output from a state.
pub fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The standard normal ε of Monte Carlo realisation `index` under `seed`: a uniform in
/// (0, 1) from SplitMix64 of (seed, index) through the inverse normal CDF. Depends on
/// (seed, index) only, never on threads or order.
pub fn epsilon(seed: u64, index: u64) -> f64 {
    let bits = splitmix64(splitmix64(seed) ^ index.wrapping_mul(0xD1B5_4A32_D192_ED03));
    // 53 random bits, centred in their bin: strictly inside (0, 1).
    let u = ((bits >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
    standard_normal_quantile(u)
}

/// Φ⁻¹(p) of the standard normal distribution (statrs), for 0 < p < 1.
pub fn standard_normal_quantile(p: f64) -> f64 {
    use statrs::distribution::{ContinuousCDF, Normal};
    // Normal::new(0, 1) cannot fail: the parameters are finite and σ > 0.
    match Normal::new(0.0, 1.0) {
        Ok(n) => n.inverse_cdf(p),
        Err(_) => f64::NAN,
    }
}

/// The `q`-th percentile (0–100) of a sample, linear between order statistics (the
/// usual "type 7" definition); NaN for an empty sample.
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let h = (sorted.len() - 1) as f64 * (q / 100.0).clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Great-circle distance (km, sphere of radius 6371.0088 km, the IUGG mean radius) and
/// initial azimuth (degrees clockwise from north) from (lon0, lat0) to (lon, lat).
pub fn distance_azimuth(lon0: f64, lat0: f64, lon: f64, lat: f64) -> (f64, f64) {
    const R_KM: f64 = 6371.0088;
    let (p0, p1) = (lat0.to_radians(), lat.to_radians());
    let dl = (lon - lon0).to_radians();
    let a = ((p1 - p0) / 2.0).sin().powi(2) + p0.cos() * p1.cos() * (dl / 2.0).sin().powi(2);
    let d = 2.0 * R_KM * a.sqrt().min(1.0).asin();
    let y = dl.sin() * p1.cos();
    let x = p0.cos() * p1.sin() - p0.sin() * p1.cos() * dl.cos();
    let az = y.atan2(x).to_degrees().rem_euclid(360.0);
    (d, az)
}
