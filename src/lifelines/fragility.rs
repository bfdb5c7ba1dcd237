//! Fragility and restoration of lifeline components (`models/fragility.toml`).
//!
//! Ground shaking: lognormal fragility curves P(DS ≥ ds | IM) = Φ(ln(IM/θ_ds)/β_ds)
//! for the components whose intensity measure the model computes (PGA in g), and the
//! Hazus repair-rate model for buried pipes, RR = k · PGV^n repairs/km (PGV in cm/s,
//! ductile pipe 0.3×), with a fixed split of repairs into leaks and breaks. Components
//! whose curves need Sa(1.0 s) or permanent ground deformation are listed as not
//! assessed. Flood: a functional depth threshold (the component is out of service
//! while the depth exceeds it). Restoration: the time to restore a component in a
//! damage state is normal (mean, standard deviation in days), as in Hazus.
//!
//! # Reference
//! FEMA (2003, and later editions), Multi-hazard Loss Estimation Methodology,
//! Earthquake Model, HAZUS-MH Technical Manual: chapter 7 (transportation), chapter 8
//! (utilities: substations Table 8.x, pipelines §8.1.7, restoration functions).
//! American Lifelines Alliance (2001), Seismic Fragility Formulations for Water Systems.

use crate::{Error, Result};
use statrs::function::erf::erfc;
use std::path::{Path, PathBuf};

/// Damage-state names, index 0 = none … 4 = complete (Hazus).
pub const DAMAGE_STATES: [&str; 5] = ["none", "slight", "moderate", "extensive", "complete"];

/// Standard normal cumulative distribution Φ(x).
pub fn std_normal_cdf(x: f64) -> f64 {
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

/// Lognormal fragility P(DS ≥ ds | IM) = Φ(ln(IM/θ)/β), for IM > 0 (0 otherwise).
pub fn lognormal_exceedance(im: f64, theta: f64, beta: f64) -> f64 {
    if im.is_nan() || im <= 0.0 {
        0.0
    } else {
        std_normal_cdf((im / theta).ln() / beta)
    }
}

/// The fragility file: one entry per component class.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FragilityFile {
    /// Component classes.
    pub component: Vec<ComponentClass>,
}

/// One component class: its shaking model, flood model and restoration.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentClass {
    /// Class name used by layers (`component` property), e.g. `EP.S.H.A`.
    pub class: String,
    /// What the class is.
    pub description: String,
    /// Lowest damage state (`slight` … `complete`) at which the component is out of
    /// service until restored.
    pub nonfunctional_from: String,
    /// Ground-shaking model.
    pub shaking: Shaking,
    /// Flood model.
    pub flood: Flood,
    /// Restoration times per damage state.
    pub restoration: Restoration,
}

/// Ground-shaking fragility of a class.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(tag = "model", rename_all = "snake_case", deny_unknown_fields)]
pub enum Shaking {
    /// Lognormal curves on PGA (g) for slight, moderate, extensive, complete (fewer
    /// entries when the source gives fewer states).
    Lognormal {
        /// Medians θ, g.
        theta_g: Vec<f64>,
        /// Lognormal standard deviations β.
        beta: Vec<f64>,
        /// Where the values come from.
        source: String,
    },
    /// Repair rate RR = factor · coefficient · PGV^exponent per km (PGV in cm/s).
    RepairRate {
        /// Coefficient, repairs/km per (cm/s)^exponent.
        coefficient: f64,
        /// Exponent of PGV.
        exponent: f64,
        /// Multiplier for the pipe material (1 brittle, 0.3 ductile in Hazus).
        factor: f64,
        /// Fraction of shaking repairs that are breaks (the rest are leaks).
        break_fraction: f64,
        /// Where the values come from.
        source: String,
    },
    /// Not assessed: the curve needs an intensity measure the model does not compute.
    NotAssessed {
        /// The intensity measure the published curve needs (e.g. `Sa(1.0 s)`, `PGD`).
        needs: String,
        /// Why and where it is published.
        reason: String,
    },
}

/// Flood model of a class.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(tag = "model", rename_all = "snake_case", deny_unknown_fields)]
pub enum Flood {
    /// Out of service while the water depth is at least `threshold_m`.
    Threshold {
        /// Functional depth threshold, m.
        threshold_m: f64,
        /// Days out of service after the flood (drying, cleaning, checks).
        outage_days: f64,
        /// Where the values come from (or ASSUMPTION with the reason).
        source: String,
    },
    /// Not assessed for flood (with the reason).
    NotAssessed {
        /// Why.
        reason: String,
    },
}

/// Restoration: days to restore from slight, moderate, extensive, complete damage,
/// normally distributed (Hazus restoration functions).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Restoration {
    /// Mean days per damage state (slight … complete).
    pub mean_days: Vec<f64>,
    /// Standard deviation, days, per damage state.
    pub sd_days: Vec<f64>,
    /// Where the values come from (or ASSUMPTION with the reason).
    pub source: String,
}

/// A validated fragility table, looked up by class name.
#[derive(Debug, Clone)]
pub struct Fragility {
    /// The classes, in file order.
    pub classes: Vec<ComponentClass>,
    /// The file they were read from.
    pub path: PathBuf,
}

impl Fragility {
    /// Reads and validates `models/fragility.toml` (see [`Fragility::validate`]).
    pub fn read(path: &Path) -> Result<Self> {
        let file: FragilityFile =
            crate::error::read_toml(path, "the fragility table ships as models/fragility.toml")?;
        let f = Fragility {
            classes: file.component,
            path: path.to_path_buf(),
        };
        f.validate()?;
        Ok(f)
    }

    /// Index of a class by name.
    pub fn index(&self, class: &str) -> Option<usize> {
        self.classes.iter().position(|c| c.class == class)
    }

    /// Checks every row: β > 0 and θ > 0 (finite), θ non-decreasing, 1–4 states,
    /// repair-rate parameters positive, break fraction in 0–1, thresholds positive,
    /// four restoration states with positive means and non-negative deviations, a known
    /// `nonfunctional_from`, no duplicate class. Errors name the class (row).
    pub fn validate(&self) -> Result<()> {
        let bad = |row: &ComponentClass, field: &str, msg: String| Error::Invalid {
            path: self.path.clone(),
            field: format!("component '{}'.{field}", row.class),
            message: msg,
        };
        for (i, row) in self.classes.iter().enumerate() {
            if self.classes[..i].iter().any(|c| c.class == row.class) {
                return Err(bad(row, "class", "duplicate class".into()));
            }
            if !DAMAGE_STATES[1..].contains(&row.nonfunctional_from.as_str()) {
                return Err(bad(
                    row,
                    "nonfunctional_from",
                    format!(
                        "'{}' is not slight, moderate, extensive or complete",
                        row.nonfunctional_from
                    ),
                ));
            }
            match &row.shaking {
                Shaking::Lognormal { theta_g, beta, .. } => {
                    if theta_g.is_empty() || theta_g.len() > 4 || beta.len() != theta_g.len() {
                        return Err(bad(
                            row,
                            "shaking",
                            format!(
                                "theta_g and beta need the same number of states, 1 to 4 (got {} and {})",
                                theta_g.len(),
                                beta.len()
                            ),
                        ));
                    }
                    for (k, (&t, &b)) in theta_g.iter().zip(beta).enumerate() {
                        let ds = DAMAGE_STATES[k + 1];
                        if !(b.is_finite() && b > 0.0) {
                            return Err(bad(
                                row,
                                "shaking.beta",
                                format!("beta for {ds} is {b}; it must be > 0"),
                            ));
                        }
                        if !(t.is_finite() && t > 0.0) {
                            return Err(bad(
                                row,
                                "shaking.theta_g",
                                format!("theta for {ds} is {t}; it must be > 0"),
                            ));
                        }
                    }
                    if theta_g.windows(2).any(|w| w[1] < w[0]) {
                        return Err(bad(
                            row,
                            "shaking.theta_g",
                            "medians must not decrease from slight to complete".into(),
                        ));
                    }
                }
                Shaking::RepairRate {
                    coefficient,
                    exponent,
                    factor,
                    break_fraction,
                    ..
                } => {
                    for (name, v) in [
                        ("coefficient", coefficient),
                        ("exponent", exponent),
                        ("factor", factor),
                    ] {
                        if !(v.is_finite() && *v > 0.0) {
                            return Err(bad(
                                row,
                                &format!("shaking.{name}"),
                                format!("{v} must be > 0"),
                            ));
                        }
                    }
                    if !(0.0..=1.0).contains(break_fraction) {
                        return Err(bad(
                            row,
                            "shaking.break_fraction",
                            format!("{break_fraction} is outside 0–1"),
                        ));
                    }
                }
                Shaking::NotAssessed { .. } => {}
            }
            if let Flood::Threshold {
                threshold_m,
                outage_days,
                ..
            } = &row.flood
            {
                if !(threshold_m.is_finite() && *threshold_m > 0.0) {
                    return Err(bad(
                        row,
                        "flood.threshold_m",
                        format!("{threshold_m} must be > 0"),
                    ));
                }
                if !(outage_days.is_finite() && *outage_days >= 0.0) {
                    return Err(bad(
                        row,
                        "flood.outage_days",
                        format!("{outage_days} must be ≥ 0"),
                    ));
                }
            }
            let r = &row.restoration;
            if r.mean_days.len() != 4 || r.sd_days.len() != 4 {
                return Err(bad(
                    row,
                    "restoration",
                    "mean_days and sd_days need 4 values (slight … complete)".into(),
                ));
            }
            if r.mean_days.iter().any(|m| !(m.is_finite() && *m > 0.0))
                || r.sd_days.iter().any(|s| !(s.is_finite() && *s >= 0.0))
            {
                return Err(bad(
                    row,
                    "restoration",
                    "means must be > 0 days and deviations ≥ 0".into(),
                ));
            }
        }
        Ok(())
    }
}

impl ComponentClass {
    /// Index (1–4) of the damage state from which the component is out of service.
    pub fn nonfunctional_index(&self) -> u8 {
        DAMAGE_STATES
            .iter()
            .position(|d| *d == self.nonfunctional_from)
            .unwrap_or(4) as u8
    }

    /// P(DS ≥ ds | PGA) for slight … complete under lognormal curves, made
    /// non-increasing in ds (P(DS ≥ ds) = max over k ≥ ds) where curves with different
    /// β cross, as Hazus does; zeros for states the source does not give and for
    /// classes without a lognormal PGA curve.
    pub fn exceedance_pga(&self, pga_g: f64) -> [f64; 4] {
        let mut p = [0.0; 4];
        if let Shaking::Lognormal { theta_g, beta, .. } = &self.shaking {
            for (k, (&t, &b)) in theta_g.iter().zip(beta).enumerate() {
                p[k] = lognormal_exceedance(pga_g, t, b);
            }
            for k in (0..3).rev() {
                p[k] = p[k].max(p[k + 1]);
            }
        }
        p
    }

    /// Repair rate, repairs/km, at PGV (cm/s) for repair-rate classes (0 otherwise):
    /// RR = factor · coefficient · PGV^exponent (Hazus §8.1.7, ALA 2001 form).
    pub fn repair_rate_per_km(&self, pgv_cms: f64) -> f64 {
        match &self.shaking {
            Shaking::RepairRate {
                coefficient,
                exponent,
                factor,
                ..
            } if pgv_cms > 0.0 => factor * coefficient * pgv_cms.powf(*exponent),
            _ => 0.0,
        }
    }
}
