//! `models/resilience.toml`: the indicators' normalisation bounds, the weights of the
//! five dimensions and of the indicators inside each, the hazard thresholds, and the
//! ranges the Monte Carlo samples them from. Read by [`ResilienceModel::read`], which
//! refuses unknown keys, unknown or missing indicators, and weights that do not sum to 1.

use super::indicators::{Dimension, IndicatorId};
use crate::{Error, Result};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Tolerance on the sum of a level's weights.
pub const WEIGHT_SUM_TOLERANCE: f64 = 1e-6;

/// A value with the range the Monte Carlo samples it from (uniform) and its basis.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ranged {
    /// Nominal value.
    pub value: f64,
    /// Lower and upper end of the sampling range; absent: fixed at `value`.
    #[serde(default)]
    pub range: Option<[f64; 2]>,
    /// Published basis (title, table, URL).
    #[serde(default)]
    pub source: Option<String>,
    /// ASSUMPTION: why an estimated value was chosen.
    #[serde(default)]
    pub assumption: Option<String>,
}

impl Ranged {
    /// The value at uniform quantile `u` ∈ (0, 1) of the range (nominal when fixed).
    pub fn at(&self, u: f64) -> f64 {
        match self.range {
            Some([lo, hi]) => lo + u * (hi - lo),
            None => self.value,
        }
    }
}

/// Hazard thresholds.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    /// Flood depth above which a resident counts as exposed, m.
    pub flood_depth_m: Ranged,
    /// PGA at or above which a resident counts as exposed (the damaging class), g.
    pub pga_damaging_g: Ranged,
}

/// Which land can serve as refuge (预留防灾避难空间).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Refuge {
    /// Land-cover codes of `land_cover.tif` (models/land_cover.toml) that count.
    pub land_cover_classes: Vec<u8>,
    /// Refuge cells must stay below this flood depth, m.
    pub max_depth_m: f64,
    /// Why these classes and this depth.
    pub basis: String,
}

/// A dimension's weight in the composite.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DimensionSpec {
    /// Weight, with its sampling range.
    pub weight: Ranged,
}

/// One indicator: unit, how it is normalised, its weight inside its dimension.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndicatorSpec {
    /// The dimension it belongs to (must match the indicator's fixed dimension).
    pub dimension: String,
    /// Unit of the raw value.
    pub unit: String,
    /// Raw value that normalises to 0.
    pub worst: Ranged,
    /// Raw value that normalises to 1.
    pub best: Ranged,
    /// Weight inside the dimension.
    pub weight: Ranged,
    /// What it measures and its published basis.
    pub basis: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelFile {
    thresholds: Thresholds,
    refuge: Refuge,
    dimension: BTreeMap<String, DimensionSpec>,
    indicator: BTreeMap<String, IndicatorSpec>,
}

/// The validated model: one spec per [`IndicatorId`] (in [`IndicatorId::ALL`] order)
/// and per [`Dimension`] (in [`Dimension::ALL`] order).
#[derive(Debug, Clone)]
pub struct ResilienceModel {
    /// The file it was read from.
    pub path: PathBuf,
    /// Hazard thresholds.
    pub thresholds: Thresholds,
    /// Refuge land.
    pub refuge: Refuge,
    /// Dimension weights, indexed by [`Dimension::index`].
    pub dimensions: Vec<DimensionSpec>,
    /// Indicator specs, indexed by [`IndicatorId::index`].
    pub indicators: Vec<IndicatorSpec>,
}

fn invalid(path: &Path, field: &str, message: String) -> Error {
    Error::Invalid {
        path: path.to_path_buf(),
        field: field.to_string(),
        message,
    }
}

fn check_ranged(path: &Path, field: &str, r: &Ranged, min: f64, max: f64) -> Result<()> {
    if !r.value.is_finite() || r.value < min || r.value > max {
        return Err(invalid(
            path,
            field,
            format!("value {} must lie in [{min}, {max}]", r.value),
        ));
    }
    if let Some([lo, hi]) = r.range {
        if !(lo.is_finite() && hi.is_finite()) || lo > r.value || hi < r.value {
            return Err(invalid(
                path,
                field,
                format!(
                    "range [{lo}, {hi}] must be finite and contain the value {}",
                    r.value
                ),
            ));
        }
        if lo < min || hi > max {
            return Err(invalid(
                path,
                field,
                format!("range [{lo}, {hi}] must lie in [{min}, {max}]"),
            ));
        }
    }
    if r.source.is_none() && r.assumption.is_none() {
        return Err(invalid(
            path,
            field,
            "give a `source` or mark the value with `assumption`".into(),
        ));
    }
    Ok(())
}

fn check_sum(path: &Path, field: &str, weights: &[(String, f64)]) -> Result<()> {
    let sum: f64 = weights.iter().map(|w| w.1).sum();
    if (sum - 1.0).abs() > WEIGHT_SUM_TOLERANCE {
        let parts: Vec<String> = weights.iter().map(|(k, w)| format!("{k} {w}")).collect();
        return Err(invalid(
            path,
            field,
            format!(
                "weights must sum to 1 but sum to {sum:.6} ({}); adjust them",
                parts.join(", ")
            ),
        ));
    }
    Ok(())
}

impl ResilienceModel {
    /// Reads and validates a model file. Errors name the file and the field: unknown
    /// keys ([`Error::Toml`]), an unknown, missing or misplaced indicator, a dimension
    /// or indicator weights that do not sum to 1 within [`WEIGHT_SUM_TOLERANCE`],
    /// equal `worst` and `best`, a range that does not contain its value, a value
    /// without `source` or `assumption` ([`Error::Invalid`]).
    pub fn read(path: &Path) -> Result<Self> {
        let file: ModelFile =
            crate::error::read_toml(path, "give models/resilience.toml or a copy of it")?;
        Self::from_file(file, path)
    }

    /// Parses and validates a model from TOML text (`path` names it in errors).
    pub fn from_toml(text: &str, path: &Path) -> Result<Self> {
        let file: ModelFile = toml::from_str(text).map_err(|e| Error::Toml {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        Self::from_file(file, path)
    }

    fn from_file(mut file: ModelFile, path: &Path) -> Result<Self> {
        let t = &file.thresholds;
        check_ranged(
            path,
            "thresholds.flood_depth_m",
            &t.flood_depth_m,
            0.15,
            1.5,
        )?;
        check_ranged(
            path,
            "thresholds.pga_damaging_g",
            &t.pga_damaging_g,
            0.05,
            0.40,
        )?;
        if !(file.refuge.max_depth_m.is_finite() && file.refuge.max_depth_m >= 0.0) {
            return Err(invalid(
                path,
                "refuge.max_depth_m",
                "must be a depth ≥ 0 m".into(),
            ));
        }
        let mut dimensions = Vec::new();
        for d in Dimension::ALL {
            let spec = file.dimension.remove(d.as_str()).ok_or_else(|| {
                invalid(
                    path,
                    &format!("dimension.{}", d.as_str()),
                    "missing: every dimension needs a weight".into(),
                )
            })?;
            check_ranged(
                path,
                &format!("dimension.{}.weight", d.as_str()),
                &spec.weight,
                0.0,
                1.0,
            )?;
            dimensions.push(spec);
        }
        if let Some(k) = file.dimension.keys().next() {
            return Err(invalid(
                path,
                &format!("dimension.{k}"),
                format!(
                    "unknown dimension; use {}",
                    Dimension::ALL.map(|d| d.as_str()).join(", ")
                ),
            ));
        }
        check_sum(
            path,
            "dimension.*.weight",
            &Dimension::ALL
                .iter()
                .zip(&dimensions)
                .map(|(d, s)| (d.as_str().to_string(), s.weight.value))
                .collect::<Vec<_>>(),
        )?;
        let mut indicators = Vec::new();
        for id in IndicatorId::ALL {
            let f = format!("indicator.{}", id.as_str());
            let spec = file
                .indicator
                .remove(id.as_str())
                .ok_or_else(|| invalid(path, &f, "missing: every indicator needs a spec".into()))?;
            if spec.dimension != id.dimension().as_str() {
                return Err(invalid(
                    path,
                    &format!("{f}.dimension"),
                    format!(
                        "'{}' is not this indicator's dimension; it belongs to '{}'",
                        spec.dimension,
                        id.dimension().as_str()
                    ),
                ));
            }
            check_ranged(path, &format!("{f}.weight"), &spec.weight, 0.0, 1.0)?;
            check_ranged(path, &format!("{f}.worst"), &spec.worst, f64::MIN, f64::MAX)?;
            check_ranged(path, &format!("{f}.best"), &spec.best, f64::MIN, f64::MAX)?;
            // Every sampled (worst, best) pair must keep its direction.
            let (wl, wh) = spec
                .worst
                .range
                .map_or((spec.worst.value, spec.worst.value), |r| (r[0], r[1]));
            let (bl, bh) = spec
                .best
                .range
                .map_or((spec.best.value, spec.best.value), |r| (r[0], r[1]));
            if !(bl > wh || bh < wl) {
                return Err(invalid(
                    path,
                    &f,
                    "`worst` and `best` (with their ranges) must not overlap, so that the direction of the scale is fixed".into(),
                ));
            }
            indicators.push(spec);
        }
        if let Some(k) = file.indicator.keys().next() {
            return Err(invalid(
                path,
                &format!("indicator.{k}"),
                format!(
                    "unknown indicator; use {}",
                    IndicatorId::ALL.map(|d| d.as_str()).join(", ")
                ),
            ));
        }
        for d in Dimension::ALL {
            let w: Vec<(String, f64)> = IndicatorId::ALL
                .iter()
                .filter(|i| i.dimension() == d)
                .map(|i| (i.as_str().to_string(), indicators[i.index()].weight.value))
                .collect();
            check_sum(
                path,
                &format!("indicator weights of dimension {}", d.as_str()),
                &w,
            )?;
        }
        Ok(ResilienceModel {
            path: path.to_path_buf(),
            thresholds: file.thresholds,
            refuge: file.refuge,
            dimensions,
            indicators,
        })
    }
}
