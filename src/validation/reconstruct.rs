//! Rain reconstruction of a historical storm on the model grid, from station totals and
//! areal means (a kernel: arrays and parameters in, arrays out, no I/O).
//!
//! # Method
//! 1. **Station totals at their cells.** Each station is assigned to the cell holding
//!    it (stations sharing a cell are averaged).
//! 2. **Inverse-distance weighting with a background** (Shepard 1968): the storm total of
//!    a cell is `(Σ wᵢ zᵢ + w_b z_b) / (Σ wᵢ + w_b)` with `wᵢ = 1/dᵢᵖ` (distance between
//!    cell centres, m) and `w_b = 1/Rᵖ`, so that far from every station (beyond about
//!    `R`) the field tends to the background total `z_b` instead of extrapolating the
//!    nearest storm centre; a station's own cell takes its value exactly.
//! 3. **Areal means** (district, province, river-system averages that lie inside the
//!    domain) are imposed by iterative proportional fitting (Deming & Stephan 1940):
//!    each area in turn scales its cells by one factor so that its mean is met, and the
//!    sweep repeats until every mean is met to `tolerance` (relative). Station cells are
//!    held at their totals while the other cells of the area take up the difference.
//!    When an area cannot be met that way (its station cells alone exceed its target
//!    total, or it has no free cell), the stations in it are released and scaled with
//!    the rest; this is reported. So the order of constraints is: areal means first,
//!    station totals where consistent with them, the interpolation in between.
//!
//! # References
//! - D. Shepard (1968), "A two-dimensional interpolation function for irregularly-spaced
//!   data", Proc. 23rd ACM National Conference, 517–524.
//! - W. E. Deming and F. F. Stephan (1940), "On a least squares adjustment of a sampled
//!   frequency table when the expected marginal totals are known", Ann. Math. Stat. 11,
//!   427–444.

use crate::grid::GeoTransform;
use crate::{Error, Result};
use ndarray::{Array2, Array3, Axis};
use rayon::prelude::*;

/// A station total on the grid.
#[derive(Debug, Clone)]
pub struct PointTotal {
    /// Name, for the report.
    pub name: String,
    /// Row of the cell holding the station.
    pub row: usize,
    /// Column of the cell.
    pub col: usize,
    /// Storm total, mm.
    pub total_mm: f64,
}

/// An areal mean to honour.
#[derive(Debug, Clone)]
pub struct AreaConstraint {
    /// Name, for the report.
    pub name: String,
    /// Cells of the area (same shape as the grid).
    pub mask: Array2<bool>,
    /// Mean storm total over the area, mm.
    pub mean_mm: f64,
}

/// Parameters of the interpolation.
#[derive(Debug, Clone, Copy)]
pub struct IdwParams {
    /// Inverse-distance power (2 is Shepard's choice).
    pub power: f64,
    /// Storm total far from every station, mm.
    pub background_mm: f64,
    /// Distance at which the background weighs as much as one station, m.
    pub background_range_m: f64,
}

/// How well one constraint is met.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Fit {
    /// Name.
    pub name: String,
    /// Target, mm.
    pub target_mm: f64,
    /// Reconstructed value, mm.
    pub achieved_mm: f64,
    /// Number of cells (1 for a station).
    pub cells: usize,
    /// For stations: held at its total (false when released by an areal mean).
    pub kept: bool,
}

/// A reconstructed storm-total field.
#[derive(Debug, Clone)]
pub struct Reconstruction {
    /// Storm total per cell, mm.
    pub total_mm: Array2<f64>,
    /// Areal means: target and achieved.
    pub areas: Vec<Fit>,
    /// Stations: target and achieved at their cells.
    pub stations: Vec<Fit>,
    /// Sweeps of the proportional fitting.
    pub sweeps: usize,
}

/// The inverse-distance field with a background (step 2 of the module docs) on a grid of
/// `rows` × `cols` cells with `transform` (projected, m). Points must lie on the grid.
pub fn idw_field(
    rows: usize,
    cols: usize,
    transform: &GeoTransform,
    points: &[PointTotal],
    p: &IdwParams,
) -> Result<Array2<f64>> {
    if !(p.power > 0.0 && p.background_range_m > 0.0 && p.background_mm >= 0.0) {
        return Err(Error::Data(format!(
            "rain interpolation: power {} and background range {} m must be positive, background {} mm ≥ 0",
            p.power, p.background_range_m, p.background_mm
        )));
    }
    // Merge stations sharing a cell.
    let mut merged: Vec<(usize, usize, f64, usize)> = Vec::new();
    for pt in points {
        if pt.row >= rows || pt.col >= cols {
            return Err(Error::Data(format!(
                "rain station {}: cell ({}, {}) is off the {rows} x {cols} grid",
                pt.name, pt.row, pt.col
            )));
        }
        match merged.iter_mut().find(|m| m.0 == pt.row && m.1 == pt.col) {
            Some(m) => {
                m.2 += pt.total_mm;
                m.3 += 1;
            }
            None => merged.push((pt.row, pt.col, pt.total_mm, 1)),
        }
    }
    let pts: Vec<(f64, f64, f64)> = merged
        .iter()
        .map(|&(r, c, s, n)| {
            let (x, y) = transform.cell_center(r, c);
            (x, y, s / n as f64)
        })
        .collect();
    let wb = p.background_range_m.powf(-p.power);
    let mut out = Array2::<f64>::zeros((rows, cols));
    out.axis_iter_mut(Axis(0))
        .into_par_iter()
        .enumerate()
        .for_each(|(r, mut row)| {
            for (c, v) in row.iter_mut().enumerate() {
                let (x, y) = transform.cell_center(r, c);
                let (mut num, mut den) = (wb * p.background_mm, wb);
                let mut exact = None;
                for &(px, py, z) in &pts {
                    let d2 = (x - px).powi(2) + (y - py).powi(2);
                    if d2 == 0.0 {
                        exact = Some(z);
                        break;
                    }
                    let w = d2.powf(-0.5 * p.power);
                    num += w * z;
                    den += w;
                }
                *v = exact.unwrap_or(num / den);
            }
        });
    Ok(out)
}

/// Imposes the areal means on `field` by iterative proportional fitting with the station
/// cells held where consistent (step 3 of the module docs). `tolerance` is relative
/// (e.g. 1e-6); at most `max_sweeps` sweeps. Fails if an area has no cell or a target is
/// negative; areas not met after the sweeps are reported with their achieved means.
pub fn fit_areas(
    mut field: Array2<f64>,
    points: &[PointTotal],
    areas: &[AreaConstraint],
    tolerance: f64,
    max_sweeps: usize,
) -> Result<Reconstruction> {
    let dim = field.dim();
    let mut pinned = Array2::<bool>::from_elem(dim, false);
    for pt in points {
        pinned[(pt.row, pt.col)] = true;
    }
    let mut released = vec![false; points.len()];
    for a in areas {
        if a.mask.dim() != dim {
            return Err(Error::Data(format!(
                "areal mean {}: mask shape {:?} differs from the grid {:?}",
                a.name,
                a.mask.dim(),
                dim
            )));
        }
        if !(a.mean_mm >= 0.0 && a.mean_mm.is_finite()) {
            return Err(Error::Data(format!(
                "areal mean {}: {} mm must be ≥ 0",
                a.name, a.mean_mm
            )));
        }
        if !a.mask.iter().any(|&m| m) {
            return Err(Error::Data(format!(
                "areal mean {}: the area has no cell on the grid",
                a.name
            )));
        }
    }
    let mean_of = |f: &Array2<f64>, m: &Array2<bool>| {
        let (s, n) = f
            .iter()
            .zip(m.iter())
            .filter(|(_, &m)| m)
            .fold((0.0, 0usize), |(s, n), (v, _)| (s + v, n + 1));
        (s / n.max(1) as f64, n)
    };
    let mut sweeps = 0;
    while sweeps < max_sweeps {
        sweeps += 1;
        for a in areas {
            let (mut sp, mut sf, mut n) = (0.0, 0.0, 0usize);
            for ((v, &m), &p) in field.iter().zip(a.mask.iter()).zip(pinned.iter()) {
                if m {
                    n += 1;
                    if p {
                        sp += v;
                    } else {
                        sf += v;
                    }
                }
            }
            let target = a.mean_mm * n as f64;
            let holds = sf > 0.0 && target >= sp;
            if !holds {
                // Release the stations of this area: scale every cell.
                for (i, pt) in points.iter().enumerate() {
                    if a.mask[(pt.row, pt.col)] && pinned[(pt.row, pt.col)] {
                        pinned[(pt.row, pt.col)] = false;
                        released[i] = true;
                    }
                }
                let all = sp + sf;
                if all > 0.0 {
                    let k = target / all;
                    field.zip_mut_with(&a.mask, |v, &m| {
                        if m {
                            *v *= k
                        }
                    });
                } else {
                    field.zip_mut_with(&a.mask, |v, &m| {
                        if m {
                            *v = a.mean_mm
                        }
                    });
                }
            } else {
                let k = (target - sp) / sf;
                ndarray::Zip::from(&mut field)
                    .and(&a.mask)
                    .and(&pinned)
                    .for_each(|v, &m, &p| {
                        if m && !p {
                            *v *= k
                        }
                    });
            }
        }
        let worst = areas
            .iter()
            .map(|a| {
                let (m, _) = mean_of(&field, &a.mask);
                (m - a.mean_mm).abs() / a.mean_mm.max(1e-9)
            })
            .fold(0.0, f64::max);
        if worst <= tolerance {
            break;
        }
    }
    let areas_fit = areas
        .iter()
        .map(|a| {
            let (m, n) = mean_of(&field, &a.mask);
            Fit {
                name: a.name.clone(),
                target_mm: a.mean_mm,
                achieved_mm: m,
                cells: n,
                kept: true,
            }
        })
        .collect();
    let stations = points
        .iter()
        .enumerate()
        .map(|(i, p)| Fit {
            name: p.name.clone(),
            target_mm: p.total_mm,
            achieved_mm: field[(p.row, p.col)],
            cells: 1,
            kept: !released[i],
        })
        .collect();
    Ok(Reconstruction {
        total_mm: field,
        areas: areas_fit,
        stations,
        sweeps,
    })
}

/// Steps 1–3 of the module docs: the interpolated field fitted to the areal means.
pub fn reconstruct(
    rows: usize,
    cols: usize,
    transform: &GeoTransform,
    points: &[PointTotal],
    areas: &[AreaConstraint],
    params: &IdwParams,
) -> Result<Reconstruction> {
    let f = idw_field(rows, cols, transform, points, params)?;
    fit_areas(f, points, areas, 1e-6, 500)
}

/// The cumulative fraction of a storm's rain before a time: the temporal pattern, the
/// same at every cell.
#[derive(Debug, Clone, PartialEq)]
pub enum PatternCurve {
    /// A reported mass curve (times h, cumulative mm), linear between points, taken over
    /// the window [`start_h`, `end_h`].
    Mass {
        /// Times, h, increasing.
        times_h: Vec<f64>,
        /// Cumulative rain, mm, not decreasing.
        cumulative_mm: Vec<f64>,
        /// Window start, h.
        start_h: f64,
        /// Window end, h.
        end_h: f64,
    },
    /// Triangular hyetograph over [`start_h`, `end_h`] peaking at `peak_h` (Yen & Chow
    /// 1980, "Design hyetograph analysis with 3-parameter triangular distribution",
    /// Water Resour. Res. 16(6)).
    Triangular {
        /// Window start, h.
        start_h: f64,
        /// Peak, h.
        peak_h: f64,
        /// Window end, h.
        end_h: f64,
    },
    /// Constant intensity over the window.
    Uniform {
        /// Window start, h.
        start_h: f64,
        /// Window end, h.
        end_h: f64,
    },
}

fn interp(xs: &[f64], ys: &[f64], x: f64) -> f64 {
    if x <= xs[0] {
        return ys[0];
    }
    if x >= xs[xs.len() - 1] {
        return ys[ys.len() - 1];
    }
    let k = xs.partition_point(|&v| v <= x);
    let w = (x - xs[k - 1]) / (xs[k] - xs[k - 1]);
    ys[k - 1] + w * (ys[k] - ys[k - 1])
}

impl PatternCurve {
    /// Fraction of the storm (within its window) fallen by time `t_h`, in [0, 1].
    pub fn fraction_before(&self, t_h: f64) -> f64 {
        match self {
            PatternCurve::Mass {
                times_h,
                cumulative_mm,
                start_h,
                end_h,
            } => {
                let c0 = interp(times_h, cumulative_mm, *start_h);
                let c1 = interp(times_h, cumulative_mm, *end_h);
                if c1 <= c0 {
                    return 0.0;
                }
                let t = t_h.clamp(*start_h, *end_h);
                (interp(times_h, cumulative_mm, t) - c0) / (c1 - c0)
            }
            PatternCurve::Triangular {
                start_h,
                peak_h,
                end_h,
            } => {
                let (s, p, e) = (*start_h, *peak_h, *end_h);
                let d = e - s;
                let t = t_h.clamp(s, e);
                if t < p {
                    (t - s).powi(2) / ((p - s) * d)
                } else if e > p {
                    1.0 - (e - t).powi(2) / ((e - p) * d)
                } else {
                    1.0
                }
            }
            PatternCurve::Uniform { start_h, end_h } => {
                ((t_h - start_h) / (end_h - start_h)).clamp(0.0, 1.0)
            }
        }
    }

    /// Fraction of the storm between `a_h` and `b_h`.
    pub fn fraction_between(&self, a_h: f64, b_h: f64) -> f64 {
        self.fraction_before(b_h) - self.fraction_before(a_h)
    }

    /// Fractions of the storm in `n` steps of `step_h` from `start_h` (sum 1 when they
    /// span the window).
    pub fn step_fractions(&self, start_h: f64, step_h: f64, n: usize) -> Vec<f64> {
        (0..n)
            .map(|k| {
                let a = start_h + k as f64 * step_h;
                self.fraction_between(a, a + step_h)
            })
            .collect()
    }
}

/// Spreads a storm total (mm) over time: layer k = total × `fractions[k]` (mm per step).
pub fn spread(total_mm: &Array2<f64>, fractions: &[f64]) -> Array3<f32> {
    let (r, c) = total_mm.dim();
    let mut out = Array3::<f32>::zeros((fractions.len(), r, c));
    out.axis_iter_mut(Axis(0))
        .into_par_iter()
        .zip(fractions.par_iter())
        .for_each(|(mut layer, &f)| {
            layer.zip_mut_with(total_mm, |o, &t| *o = (t * f) as f32);
        });
    out
}
