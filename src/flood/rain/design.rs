//! Design point rainfall per region: P-III statistics (x̄, C_v, C_s/C_v) of annual-maximum
//! rainfall for a few durations (1 h, 6 h, 24 h, 3 d in Chinese storm atlases, 暴雨图集),
//! read from `models/design_rain.toml`, and the design depth for any return period and
//! duration.
//!
//! The depth for a return period T (exceedance probability p = 1/T of the annual maximum)
//! is the P-III quantile x_p = x̄ (1 + C_v Φ_p(C_s)) at each tabulated duration. Between
//! tabulated durations the depth is interpolated linearly in log(depth) against
//! log(duration), i.e. a piecewise power law P(t) = P(t_i) (t/t_i)^{n_i}; this is the
//! "storm-intensity exponent" form of Chinese practice (暴雨衰减指数 n, with i ∝ t^{−(1−n)}
//! between the atlas durations) and reproduces the tabulated quantiles exactly. Below the
//! shortest duration the first segment's exponent is extended toward zero (used only for
//! the sub-hourly peak of a design hyetograph; a real sub-hourly IDF should replace it);
//! beyond the longest duration the table refuses.
//!
//! # Reference
//! - SL 44-2006 《水利水电工程设计洪水计算规范》 §4 (design storms from P-III statistics,
//!   C_s = 3.5 C_v in most storm atlases).
//! - 水利部水文局, 南京水利科学研究院 (2006) 《中国暴雨统计参数图集》 (maps of x̄ and C_v of
//!   10 min, 1 h, 6 h, 24 h and 3 d annual-maximum point rainfall; C_s/C_v = 3.5).

use super::pearson3;
use crate::{Error, Result};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// P-III statistics of annual-maximum point rainfall for one duration.
#[derive(Debug, Clone, PartialEq)]
pub struct DurationStats {
    /// Rain duration, h.
    pub duration_h: f64,
    /// Mean annual-maximum depth x̄, mm.
    pub mean_mm: f64,
    /// Coefficient of variation C_v (–).
    pub cv: f64,
    /// Skew coefficient C_s = (C_s/C_v) · C_v (–).
    pub cs: f64,
    /// True when the values are placeholders awaiting the authority's storm atlas.
    pub placeholder: bool,
}

impl DurationStats {
    /// Design point depth, mm, for return period `return_period_yr` (> 1).
    pub fn depth_mm(&self, return_period_yr: f64) -> Result<f64> {
        pearson3::quantile(
            self.mean_mm,
            self.cv,
            self.cs,
            exceedance_probability(return_period_yr)?,
        )
    }
}

/// One region (a river system) with its per-duration statistics, sorted by duration.
#[derive(Debug, Clone, PartialEq)]
pub struct DesignRegion {
    /// Region name as written in the file, e.g. "永定河".
    pub name: String,
    /// Label of the region in `basins.tif` (1 北三河, 2 永定河, 3 大清河, 4 海河下游).
    pub basin_code: u8,
    /// What the region covers, from the file.
    pub description: String,
    /// Statistics per duration, strictly increasing in duration.
    pub durations: Vec<DurationStats>,
}

/// Design depth against duration for one region and return period: a piecewise power law
/// through the P-III quantiles of the tabulated durations.
#[derive(Debug, Clone, PartialEq)]
pub struct DepthDuration {
    /// Tabulated durations, h, increasing.
    pub durations_h: Vec<f64>,
    /// Design point depths at those durations, mm, increasing.
    pub depths_mm: Vec<f64>,
}

impl DepthDuration {
    /// Depth, mm, for a duration `t_h` (0 ≤ t ≤ longest tabulated duration), interpolated
    /// log-log; 0 at t = 0. Durations beyond the table are an internal error (checked by
    /// the callers), answered with the longest duration's depth.
    pub fn depth_mm(&self, t_h: f64) -> f64 {
        let d = &self.durations_h;
        let p = &self.depths_mm;
        if t_h <= 0.0 {
            return 0.0;
        }
        let n = d.len();
        if n == 1 {
            return p[0] * (t_h / d[0]).min(1.0);
        }
        // Segment index i such that d[i] <= t <= d[i+1], clamped to the first/last segment.
        let i = match d.iter().position(|&x| x >= t_h) {
            Some(0) => 0,
            Some(k) => k - 1,
            None => return p[n - 1],
        };
        let exponent = (p[i + 1] / p[i]).ln() / (d[i + 1] / d[i]).ln();
        p[i] * (t_h / d[i]).powf(exponent)
    }

    /// The longest tabulated duration, h.
    pub fn max_duration_h(&self) -> f64 {
        self.durations_h.last().copied().unwrap_or(0.0)
    }
}

impl DesignRegion {
    /// The depth–duration relation for return period `return_period_yr` (> 1).
    pub fn depth_duration(&self, return_period_yr: f64) -> Result<DepthDuration> {
        let depths = self
            .durations
            .iter()
            .map(|s| s.depth_mm(return_period_yr))
            .collect::<Result<Vec<_>>>()?;
        Ok(DepthDuration {
            durations_h: self.durations.iter().map(|s| s.duration_h).collect(),
            depths_mm: depths,
        })
    }

    /// Design point depth, mm, for return period `return_period_yr` and duration
    /// `duration_h` (0 < D ≤ longest tabulated duration; log-log between durations).
    pub fn point_depth_mm(&self, return_period_yr: f64, duration_h: f64) -> Result<f64> {
        let dd = self.depth_duration(return_period_yr)?;
        check_duration(&self.name, duration_h, dd.max_duration_h())?;
        Ok(dd.depth_mm(duration_h))
    }

    /// True when any duration's statistics are placeholders.
    pub fn has_placeholders(&self) -> bool {
        self.durations.iter().any(|s| s.placeholder)
    }
}

/// Fails unless 0 < `duration_h` ≤ `max_h`.
pub(crate) fn check_duration(region: &str, duration_h: f64, max_h: f64) -> Result<()> {
    if !(duration_h > 0.0 && duration_h <= max_h * (1.0 + 1e-9)) {
        return Err(Error::Data(format!(
            "design rain for `{region}`: duration {duration_h} h is outside (0, {max_h}] h, the range of the storm statistics; add a longer duration to models/design_rain.toml"
        )));
    }
    Ok(())
}

/// Annual exceedance probability p = 1/T of the annual-maximum series for return period
/// `return_period_yr` (must be > 1 yr).
pub fn exceedance_probability(return_period_yr: f64) -> Result<f64> {
    if !(return_period_yr > 1.0 && return_period_yr.is_finite()) {
        return Err(Error::Data(format!(
            "return period {return_period_yr} yr: must be a finite number above 1 (p = 1/T of the annual maximum)"
        )));
    }
    Ok(1.0 / return_period_yr)
}

/// All regions of `models/design_rain.toml`.
#[derive(Debug, Clone, PartialEq)]
pub struct DesignRainTable {
    /// The file the table came from.
    pub path: PathBuf,
    /// Regions in file order.
    pub regions: Vec<DesignRegion>,
}

impl DesignRainTable {
    /// The region called `name` (or whose basin code is `name` as a number).
    pub fn region(&self, name: &str) -> Result<&DesignRegion> {
        self.regions
            .iter()
            .find(|r| r.name == name || name.parse::<u8>().ok() == Some(r.basin_code))
            .ok_or_else(|| Error::Invalid {
                path: self.path.clone(),
                field: "region".into(),
                message: format!(
                    "no region `{name}`; the file has: {}",
                    self.regions
                        .iter()
                        .map(|r| format!("{} ({})", r.name, r.basin_code))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DurationEntry {
    duration_h: f64,
    mean_mm: f64,
    cv: f64,
    cs_over_cv: f64,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    placeholder: bool,
    #[serde(default)]
    note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RegionEntry {
    name: String,
    basin_code: u8,
    #[serde(default)]
    description: String,
    duration: Vec<DurationEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DesignRainFile {
    region: Vec<RegionEntry>,
}

/// Return periods, yr, at which the loader checks that depth increases with duration.
const CHECK_RETURN_PERIODS_YR: [f64; 9] = [2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0];

/// Reads `models/design_rain.toml` (layout in the file's header). Every duration entry
/// needs a `source`, or `placeholder = true` with a `note`; durations must increase,
/// x̄ > 0, 0 < C_v < 3, C_s/C_v ≥ 0, and the design depth must increase with duration at
/// every return period from 2 to 1000 years.
pub fn load_design_rain(path: &Path) -> Result<DesignRainTable> {
    let file: DesignRainFile = crate::error::read_toml(
        path,
        "the design-storm statistics ship as models/design_rain.toml",
    )?;
    let invalid = |field: String, message: String| Error::Invalid {
        path: path.to_path_buf(),
        field,
        message,
    };
    if file.region.is_empty() {
        return Err(invalid("region".into(), "no [[region]] given".into()));
    }
    let mut regions = Vec::with_capacity(file.region.len());
    for (ri, r) in file.region.iter().enumerate() {
        let at = |j: usize, f: &str| format!("region[{ri}] ({}).duration[{j}].{f}", r.name);
        if file.region[..ri]
            .iter()
            .any(|o| o.name == r.name || o.basin_code == r.basin_code)
        {
            return Err(invalid(
                format!("region[{ri}].name"),
                format!(
                    "region `{}` (basin code {}) is listed twice",
                    r.name, r.basin_code
                ),
            ));
        }
        if r.duration.is_empty() {
            return Err(invalid(
                format!("region[{ri}] ({}).duration", r.name),
                "no [[region.duration]] given".into(),
            ));
        }
        let mut stats = Vec::with_capacity(r.duration.len());
        for (j, d) in r.duration.iter().enumerate() {
            if !(d.duration_h > 0.0 && d.duration_h.is_finite()) {
                return Err(invalid(
                    at(j, "duration_h"),
                    format!("{} must be a positive number of hours", d.duration_h),
                ));
            }
            if j > 0 && d.duration_h <= r.duration[j - 1].duration_h {
                return Err(invalid(
                    at(j, "duration_h"),
                    "durations must be listed in increasing order".into(),
                ));
            }
            if !(d.mean_mm > 0.0 && d.mean_mm.is_finite()) {
                return Err(invalid(
                    at(j, "mean_mm"),
                    format!("{} must be a positive depth in mm", d.mean_mm),
                ));
            }
            if !(d.cv > 0.0 && d.cv < 3.0) {
                return Err(invalid(at(j, "cv"), format!("{} is outside (0, 3)", d.cv)));
            }
            if !(d.cs_over_cv >= 0.0 && d.cs_over_cv <= 10.0) {
                return Err(invalid(
                    at(j, "cs_over_cv"),
                    format!(
                        "{} is outside [0, 10] (storm atlases use 3.5)",
                        d.cs_over_cv
                    ),
                ));
            }
            match (&d.source, d.placeholder, &d.note) {
                (Some(s), false, _) if !s.trim().is_empty() => {}
                (None, true, Some(n)) if !n.trim().is_empty() => {}
                (Some(_), true, _) => {
                    return Err(invalid(at(j, "placeholder"), "give either a `source` or `placeholder = true`, not both".into()))
                }
                (None, true, _) => {
                    return Err(invalid(at(j, "note"), "a placeholder needs a `note` saying what must replace it (the authority's 暴雨图集 / 水文手册)".into()))
                }
                _ => {
                    return Err(invalid(at(j, "source"), "every value needs a `source`, or `placeholder = true` with a `note`".into()))
                }
            }
            stats.push(DurationStats {
                duration_h: d.duration_h,
                mean_mm: d.mean_mm,
                cv: d.cv,
                cs: d.cs_over_cv * d.cv,
                placeholder: d.placeholder,
            });
        }
        let region = DesignRegion {
            name: r.name.clone(),
            basin_code: r.basin_code,
            description: r.description.clone(),
            durations: stats,
        };
        for &t in &CHECK_RETURN_PERIODS_YR {
            let dd = region.depth_duration(t)?;
            if let Some(j) =
                (1..dd.depths_mm.len()).find(|&j| dd.depths_mm[j] <= dd.depths_mm[j - 1])
            {
                return Err(invalid(
                    at(j, "cv"),
                    format!(
                        "the {t}-year depth for {} h ({:.1} mm) does not exceed the one for {} h ({:.1} mm): the statistics of neighbouring durations are inconsistent",
                        dd.durations_h[j], dd.depths_mm[j], dd.durations_h[j - 1], dd.depths_mm[j - 1]
                    ),
                ));
            }
        }
        regions.push(region);
    }
    Ok(DesignRainTable {
        path: path.to_path_buf(),
        regions,
    })
}
