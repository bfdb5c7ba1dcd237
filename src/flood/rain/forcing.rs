//! Rain forcing of a flood run: a design storm, one hyetograph for the whole grid, one
//! hyetograph per basin label, or a gridded product (CF-netCDF) regridded onto the model
//! grid. [`rain_field`] turns any of them into a [`RainField`]: rain depth per cell per
//! time step (mm per step) on the model grid, stored compactly (one hyetograph, a label
//! grid with hyetographs, or a full (time, row, col) array) and read step by step with
//! [`RainField::fill_step`].

use super::areal_reduction::areal_reduction_factor;
use super::design::{check_duration, DesignRainTable};
use super::hyetograph::{chicago_hyetograph, DEFAULT_PEAK_RATIO};
use crate::grid::cf::{layer_f64, read_cf};
use crate::grid::{warp, GridSpec, Resample};
use crate::{Error, Result};
use ndarray::{s, Array2, Array3, ArrayViewMut2, Zip};
use serde::Deserialize;
use std::path::{Path, PathBuf};

fn default_peak_ratio() -> f64 {
    DEFAULT_PEAK_RATIO
}

fn default_resample() -> Resample {
    Resample::Average
}

/// A hyetograph for the cells of one basin label.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasinHyetograph {
    /// The label in the basins raster (1 北三河, 2 永定河, 3 大清河, 4 海河下游).
    pub label: u32,
    /// Rain depth per step, mm.
    pub depth_mm: Vec<f64>,
}

/// Where the rain of a flood run comes from (a scenario's `[rain]` table, `kind = ...`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum RainForcing {
    /// A design storm: P-III point depth of `region` (a name or basin code of
    /// `models/design_rain.toml`) for the return period and duration, reduced by the
    /// TP-29 areal reduction factor for `arf_area_km2` (none: point rain), laid out as a
    /// Chicago hyetograph with `peak_ratio` in steps of `step_s`, uniform over the grid.
    Design {
        /// Return period, yr (> 1).
        return_period_yr: f64,
        /// Storm duration, h (a whole number of steps; at most the longest tabulated one).
        duration_h: f64,
        /// Region name or basin code in the design-rain table.
        region: String,
        /// Fraction of the storm before the peak, default 0.4.
        #[serde(default = "default_peak_ratio")]
        peak_ratio: f64,
        /// Area for the areal reduction factor, km²; none for point rain.
        #[serde(default)]
        arf_area_km2: Option<f64>,
        /// Time step of the hyetograph, s.
        step_s: f64,
    },
    /// The same hyetograph on every cell.
    Uniform {
        /// Time step, s.
        step_s: f64,
        /// Rain depth per step, mm.
        depth_mm: Vec<f64>,
    },
    /// One hyetograph per label of a basins raster aligned with the model grid; cells with
    /// label 0 or no data and no hyetograph of their own get no rain.
    PerBasin {
        /// Time step, s.
        step_s: f64,
        /// Label raster (e.g. `rasters/model/basins.tif`), aligned with the model grid.
        basins: PathBuf,
        /// Hyetographs, all of the same length.
        hyetographs: Vec<BasinHyetograph>,
    },
    /// A CF-netCDF rain product: variable `variable` in mm per step on a `time` axis of
    /// evenly spaced steps, regridded onto the model grid (area average by default).
    Gridded {
        /// The netCDF file.
        path: PathBuf,
        /// The rain variable (mm per step).
        variable: String,
        /// Resampling onto the model grid: `average` (conserves volume) or `bilinear`.
        #[serde(default = "default_resample")]
        resample: Resample,
    },
}

#[derive(Debug, Clone, PartialEq)]
enum FieldData {
    Uniform(Vec<f64>),
    Zoned {
        zone: Array2<u32>,
        /// Hyetographs by zone index; index 0 is "no rain".
        hyetographs: Vec<Vec<f64>>,
    },
    Gridded(Array3<f32>),
}

/// Rain depth per cell per step (mm per step) on a model grid.
#[derive(Debug, Clone, PartialEq)]
pub struct RainField {
    /// The grid the field lies on.
    pub spec: GridSpec,
    /// Length of one step, s.
    pub step_s: f64,
    /// Number of steps.
    pub n_steps: usize,
    /// Cells of the model grid that a gridded product did not cover (given no rain); 0
    /// for the other forcings.
    pub uncovered_cells: usize,
    data: FieldData,
}

impl RainField {
    /// Writes the rain of step `k` (mm) into `out` (shape rows × cols); panics when
    /// `k` ≥ `n_steps` or the shape differs (internal invariants).
    pub fn fill_step(&self, k: usize, mut out: ArrayViewMut2<f64>) {
        assert!(k < self.n_steps, "rain step {k} of {}", self.n_steps);
        assert_eq!(out.dim(), (self.spec.rows, self.spec.cols));
        match &self.data {
            FieldData::Uniform(h) => out.fill(h[k]),
            FieldData::Zoned { zone, hyetographs } => {
                Zip::from(&mut out)
                    .and(zone)
                    .par_for_each(|o, &z| *o = hyetographs[z as usize][k]);
            }
            FieldData::Gridded(a) => {
                Zip::from(&mut out)
                    .and(a.slice(s![k, .., ..]))
                    .par_for_each(|o, &v| *o = f64::from(v));
            }
        }
    }

    /// The rain of step `k`, mm, as a new array.
    pub fn step(&self, k: usize) -> Array2<f64> {
        let mut a = Array2::zeros((self.spec.rows, self.spec.cols));
        self.fill_step(k, a.view_mut());
        a
    }

    /// Storm total per cell, mm.
    pub fn total_mm(&self) -> Array2<f64> {
        let mut total = Array2::zeros((self.spec.rows, self.spec.cols));
        let mut buf = Array2::zeros((self.spec.rows, self.spec.cols));
        for k in 0..self.n_steps {
            self.fill_step(k, buf.view_mut());
            total += &buf;
        }
        total
    }

    /// Total rain volume over the grid, m³ (cell area from the grid's transform, in CRS
    /// units squared: m² for projected model grids).
    pub fn volume_m3(&self) -> f64 {
        let cell_m2 = (self.spec.transform.dx * self.spec.transform.dy).abs();
        self.total_mm().sum() * 1e-3 * cell_m2
    }
}

/// Checks a hyetograph: finite, non-negative depths; `what` names it in errors.
fn check_hyetograph(depth_mm: &[f64], what: &str) -> Result<()> {
    if depth_mm.is_empty() {
        return Err(Error::Data(format!("{what}: the hyetograph is empty")));
    }
    if let Some((k, v)) = depth_mm
        .iter()
        .enumerate()
        .find(|(_, v)| !(v.is_finite() && **v >= 0.0))
    {
        return Err(Error::Data(format!(
            "{what}: step {k} has rain {v} mm; depths must be finite and non-negative"
        )));
    }
    Ok(())
}

fn check_step(step_s: f64, what: &str) -> Result<()> {
    if !(step_s > 0.0 && step_s.is_finite()) {
        return Err(Error::Data(format!(
            "{what}: time step {step_s} s must be positive"
        )));
    }
    Ok(())
}

/// The design hyetograph (mm per step) of a [`RainForcing::Design`]: the P-III depth–
/// duration relation of the region, times the TP-29 areal reduction factor for each
/// window duration (so the whole areal depth–duration relation is kept), as a Chicago
/// storm. Returns the hyetograph; its sum is the areal design depth for the duration.
pub fn design_hyetograph(
    table: &DesignRainTable,
    region: &str,
    return_period_yr: f64,
    duration_h: f64,
    peak_ratio: f64,
    arf_area_km2: Option<f64>,
    step_s: f64,
) -> Result<Vec<f64>> {
    check_step(step_s, "design storm")?;
    let reg = table.region(region)?;
    let dd = reg.depth_duration(return_period_yr)?;
    check_duration(&reg.name, duration_h, dd.max_duration_h())?;
    if let Some(a) = arf_area_km2 {
        if !(a >= 0.0 && a.is_finite()) {
            return Err(Error::Data(format!(
                "design storm: areal-reduction area {a} km² must be a non-negative number"
            )));
        }
    }
    let depth = |t_h: f64| match arf_area_km2 {
        Some(a) if t_h > 0.0 => dd.depth_mm(t_h) * areal_reduction_factor(a, t_h),
        _ => dd.depth_mm(t_h),
    };
    chicago_hyetograph(depth, duration_h, step_s / 3600.0, peak_ratio)
}

/// Rain depth per cell per step on the model grid `target` for `forcing`. `design` is
/// the table of `models/design_rain.toml`, needed only for design storms.
pub fn rain_field(
    forcing: &RainForcing,
    target: &GridSpec,
    design: Option<&DesignRainTable>,
) -> Result<RainField> {
    let field = |step_s, n_steps, uncovered_cells, data| RainField {
        spec: target.clone(),
        step_s,
        n_steps,
        uncovered_cells,
        data,
    };
    match forcing {
        RainForcing::Design {
            return_period_yr,
            duration_h,
            region,
            peak_ratio,
            arf_area_km2,
            step_s,
        } => {
            let table = design.ok_or_else(|| {
                Error::Data(
                    "a design storm needs the design-rain table (models/design_rain.toml)".into(),
                )
            })?;
            let h = design_hyetograph(
                table,
                region,
                *return_period_yr,
                *duration_h,
                *peak_ratio,
                *arf_area_km2,
                *step_s,
            )?;
            Ok(field(*step_s, h.len(), 0, FieldData::Uniform(h)))
        }
        RainForcing::Uniform { step_s, depth_mm } => {
            check_step(*step_s, "uniform rain")?;
            check_hyetograph(depth_mm, "uniform rain")?;
            Ok(field(
                *step_s,
                depth_mm.len(),
                0,
                FieldData::Uniform(depth_mm.clone()),
            ))
        }
        RainForcing::PerBasin {
            step_s,
            basins,
            hyetographs,
        } => per_basin(target, *step_s, basins, hyetographs)
            .map(|(n, data)| field(*step_s, n, 0, data)),
        RainForcing::Gridded {
            path,
            variable,
            resample,
        } => {
            let (step_s, data, uncovered) = gridded(target, path, variable, *resample)?;
            Ok(field(
                step_s,
                data.dim().0,
                uncovered,
                FieldData::Gridded(data),
            ))
        }
    }
}

fn per_basin(
    target: &GridSpec,
    step_s: f64,
    basins: &Path,
    hyetographs: &[BasinHyetograph],
) -> Result<(usize, FieldData)> {
    let what = |f: &str| format!("per-basin rain ({}): {f}", basins.display());
    check_step(step_s, &what("step_s"))?;
    let Some(first) = hyetographs.first() else {
        return Err(Error::Data(what("no hyetographs given")));
    };
    let n = first.depth_mm.len();
    for (i, h) in hyetographs.iter().enumerate() {
        check_hyetograph(
            &h.depth_mm,
            &what(&format!("hyetograph of label {}", h.label)),
        )?;
        if h.depth_mm.len() != n {
            return Err(Error::Data(what(&format!(
                "hyetograph of label {} has {} steps, the first has {n}; all must have the same length",
                h.label,
                h.depth_mm.len()
            ))));
        }
        if hyetographs[..i].iter().any(|o| o.label == h.label) {
            return Err(Error::Data(what(&format!(
                "label {} is given twice",
                h.label
            ))));
        }
    }
    let grid = crate::grid::read_raster(basins)?;
    if !target.is_aligned(&grid.spec()) {
        return Err(Error::Misaligned(format!(
            "{}: the basins raster is not on the model grid; use the basins.tif written by `haihe prepare`",
            basins.display()
        )));
    }
    // Zone index 0 = no rain; hyetograph i gets zone i + 1.
    let mut all = vec![vec![0.0; n]];
    all.extend(hyetographs.iter().map(|h| h.depth_mm.clone()));
    let mut used = vec![false; hyetographs.len()];
    let mut zone = Array2::<u32>::zeros(grid.data.dim());
    let mut unknown: Option<f64> = None;
    for (z, &v) in zone.iter_mut().zip(grid.data.iter()) {
        if v.is_nan() {
            continue;
        }
        match hyetographs.iter().position(|h| f64::from(h.label) == v) {
            Some(i) => {
                *z = i as u32 + 1;
                used[i] = true;
            }
            None if v == 0.0 => {}
            None => unknown = Some(v),
        }
    }
    if let Some(v) = unknown {
        return Err(Error::Invalid {
            path: basins.to_path_buf(),
            field: "hyetographs".into(),
            message: format!(
                "the raster has label {v} but no hyetograph is given for it; add one (depth_mm = [0.0, ...] for no rain)"
            ),
        });
    }
    if let Some(i) = used.iter().position(|u| !u) {
        return Err(Error::Invalid {
            path: basins.to_path_buf(),
            field: "hyetographs".into(),
            message: format!(
                "label {} has a hyetograph but no cell of the raster carries it",
                hyetographs[i].label
            ),
        });
    }
    Ok((
        n,
        FieldData::Zoned {
            zone,
            hyetographs: all,
        },
    ))
}

/// Seconds per unit of a CF time-units string ("hours since 2012-07-21 00:00:00").
fn seconds_per_time_unit(units: &str) -> Option<f64> {
    let unit = units.split(" since ").next()?.trim().to_ascii_lowercase();
    match unit.as_str() {
        "seconds" | "second" | "secs" | "sec" | "s" => Some(1.0),
        "minutes" | "minute" | "mins" | "min" => Some(60.0),
        "hours" | "hour" | "hrs" | "hr" | "h" => Some(3600.0),
        "days" | "day" | "d" => Some(86400.0),
        _ => None,
    }
}

/// True for units meaning a depth in millimetres (mm per step), including the
/// equivalent mass per area of water.
fn is_mm(units: &str) -> bool {
    matches!(
        units.trim().to_ascii_lowercase().as_str(),
        "mm" | "millimetre"
            | "millimetres"
            | "millimeter"
            | "millimeters"
            | "kg m-2"
            | "kg m**-2"
            | "kg m^-2"
            | "kg/m2"
            | "kg/m^2"
    )
}

/// Reads, checks and regrids a CF rain product: (step_s, data (time, row, col) mm,
/// uncovered cells).
fn gridded(
    target: &GridSpec,
    path: &Path,
    variable: &str,
    resample: Resample,
) -> Result<(f64, Array3<f32>, usize)> {
    let invalid = |field: &str, message: String| Error::Invalid {
        path: path.to_path_buf(),
        field: field.to_string(),
        message,
    };
    if matches!(resample, Resample::Mode) {
        return Err(invalid(
            "resample",
            "`mode` is for categories; use `average` (conserves volume) or `bilinear`".into(),
        ));
    }
    let series = read_cf(path, variable)?;
    if series.times.is_empty() {
        return Err(invalid(
            variable,
            "has no time axis; a rain product needs dimensions (time, y, x) with a CF `time` coordinate".into(),
        ));
    }
    if series.times.len() < 2 {
        return Err(invalid(
            "time",
            "a single time step: the step length cannot be told; give at least two evenly spaced steps".into(),
        ));
    }
    if !is_mm(&series.units) {
        return Err(invalid(
            variable,
            format!(
                "units `{}`: expected rain depth per time step in `mm` (convert rates such as mm/h to depths per step)",
                series.units
            ),
        ));
    }
    let per_unit = seconds_per_time_unit(&series.time_units).ok_or_else(|| {
        invalid(
            "time",
            format!(
                "units `{}`: expected seconds, minutes, hours or days since a date",
                series.time_units
            ),
        )
    })?;
    let t = &series.times;
    if let Some(k) =
        (1..t.len()).find(|&k| t[k].partial_cmp(&t[k - 1]) != Some(std::cmp::Ordering::Greater))
    {
        return Err(invalid(
            "time",
            format!(
                "times are not strictly increasing: step {k} at {} follows {} ({}); sort the file by time",
                t[k],
                t[k - 1],
                series.time_units
            ),
        ));
    }
    let step = t[1] - t[0];
    if let Some(k) = (2..t.len()).find(|&k| ((t[k] - t[k - 1]) - step).abs() > 1e-6 * step) {
        return Err(invalid(
            "time",
            format!(
                "uneven time steps: {} then {} {} at step {k}; resample the product to a fixed step",
                step,
                t[k] - t[k - 1],
                series.time_units
            ),
        ));
    }
    if let Some(((k, r, c), v)) = series
        .data
        .indexed_iter()
        .find(|(_, v)| v.is_finite() && **v < 0.0)
    {
        return Err(invalid(
            variable,
            format!("negative rain {v} mm at time step {k}, row {r}, column {c}"),
        ));
    }
    if let Some(((k, r, c), v)) = series.data.indexed_iter().find(|(_, v)| v.is_infinite()) {
        return Err(invalid(
            variable,
            format!("infinite value {v} at time step {k}, row {r}, column {c}"),
        ));
    }
    let nt = series.len();
    let mut out = Array3::<f32>::zeros((nt, target.rows, target.cols));
    let aligned = series.spec.is_aligned(target);
    let mut uncovered = 0usize;
    for k in 0..nt {
        let layer = layer_f64(&series, k);
        let on_target = if aligned {
            layer
        } else {
            warp(&layer, target, resample)?
        };
        let mut missing = 0usize;
        Zip::from(out.slice_mut(s![k, .., ..]))
            .and(&on_target.data)
            .for_each(|o, &v| {
                if v.is_nan() {
                    missing += 1;
                } else {
                    *o = v as f32;
                }
            });
        uncovered = uncovered.max(missing);
    }
    Ok((step * per_unit, out, uncovered))
}
