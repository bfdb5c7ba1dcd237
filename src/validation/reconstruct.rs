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
//!    nearest storm centre; a station's own cell takes its value exactly. With a radius
//!    of influence `L` the station weights are the modified Shepard weights of Franke &
//!    Nielson (1980), `wᵢ = ((L − dᵢ)₊ / (L dᵢ))ᵖ`: they tend to `1/dᵢᵖ` near the
//!    station and fall to zero at `L`, so beyond `L` from every station the field is
//!    the background exactly (no extrapolation of a storm centre across the domain).
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
//! 4. **Temporal patterns per zone** ([`ZonedPattern`]): where timing is reported per
//!    district or site, each cell's cumulative curve is that of the zone holding it (the
//!    smallest area when nested), and elsewhere the inverse-distance (power 2) blend of
//!    the zones' cumulative curves, with the distance to the nearest cell of an area
//!    zone (exact Euclidean distance transform, Felzenszwalb & Huttenlocher 2012) or to
//!    a site. A blend of cumulative curves that each run from 0 to 1 over the window is
//!    again such a curve, so every cell's storm total is kept exactly.
//!
//! # References
//! - R. Franke and G. Nielson (1980), "Smooth interpolation of large sets of scattered
//!   data", Int. J. Numer. Methods Eng. 15, 1691–1704.
//! - P. F. Felzenszwalb and D. P. Huttenlocher (2012), "Distance transforms of sampled
//!   functions", Theory of Computing 8, 415–428.
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
    /// Radius of influence of a station, m (Franke & Nielson 1980); `None`: unlimited
    /// (classic Shepard weights).
    pub influence_m: Option<f64>,
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
    if !(p.power > 0.0 && p.background_range_m > 0.0 && p.background_mm >= 0.0)
        || p.influence_m.is_some_and(|l| !(l > 0.0 && l.is_finite()))
    {
        return Err(Error::Data(format!(
            "rain interpolation: power {}, background range {} m and influence radius {:?} m must be positive, background {} mm ≥ 0",
            p.power, p.background_range_m, p.influence_m, p.background_mm
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
                    let w = match p.influence_m {
                        None => d2.powf(-0.5 * p.power),
                        Some(l) => {
                            let d = d2.sqrt();
                            if d >= l {
                                continue;
                            }
                            ((l - d) / (l * d)).powf(p.power)
                        }
                    };
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
    /// A reported mass curve (times h, cumulative mm), taken over the window
    /// [`start_h`, `end_h`]. Each interval between two points keeps its reported amount.
    /// Without `peak_h` the rain is spread evenly within an interval (linear cumulative
    /// curve). With `peak_h` (the reported time of the largest intensity) each interval
    /// follows a triangular hyetograph (Yen & Chow 1980) whose apex is `peak_h` clamped
    /// to the interval: intervals before the peak rise towards their end, the one holding
    /// it peaks there, later ones fall from their start. So the storm stays unimodal
    /// around the reported hour while every reported cumulative point is met exactly.
    Mass {
        /// Times, h, increasing.
        times_h: Vec<f64>,
        /// Cumulative rain, mm, not decreasing.
        cumulative_mm: Vec<f64>,
        /// Window start, h.
        start_h: f64,
        /// Window end, h.
        end_h: f64,
        /// Time of the largest intensity, h (none: even within intervals).
        peak_h: Option<f64>,
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

/// Cumulative fraction at `t` of a triangular hyetograph over [`s`, `e`] with its apex at
/// `p` (Yen & Chow 1980); `p` may equal `s` (falling) or `e` (rising).
fn triangular_cdf(s: f64, p: f64, e: f64, t: f64) -> f64 {
    let d = e - s;
    if d <= 0.0 {
        return 1.0;
    }
    let t = t.clamp(s, e);
    if t < p {
        (t - s).powi(2) / ((p - s) * d)
    } else if e > p {
        1.0 - (e - t).powi(2) / ((e - p) * d)
    } else {
        1.0
    }
}

/// The cumulative curve at `x`: linear between points, or (with `peak`) triangular
/// within each interval with the apex at `peak` clamped to it; constant beyond the ends.
fn interp(xs: &[f64], ys: &[f64], x: f64, peak: Option<f64>) -> f64 {
    if x <= xs[0] {
        return ys[0];
    }
    if x >= xs[xs.len() - 1] {
        return ys[ys.len() - 1];
    }
    let k = xs.partition_point(|&v| v <= x);
    let (a, b) = (xs[k - 1], xs[k]);
    let w = match peak {
        None => (x - a) / (b - a),
        Some(p) => triangular_cdf(a, p.clamp(a, b), b, x),
    };
    ys[k - 1] + w * (ys[k] - ys[k - 1])
}

/// A reported cumulative curve that stops before the window end, continued to `end_h`
/// at the rate of its last interval (a stated ASSUMPTION of the storm file, for a
/// curve whose last bulletin came before the storm ended); unchanged when it already
/// reaches `end_h` or has fewer than two points.
pub fn extend_at_last_rate(times_h: &mut Vec<f64>, cumulative_mm: &mut Vec<f64>, end_h: f64) {
    let n = times_h.len();
    if n < 2 || times_h[n - 1] >= end_h {
        return;
    }
    let rate = (cumulative_mm[n - 1] - cumulative_mm[n - 2]) / (times_h[n - 1] - times_h[n - 2]);
    cumulative_mm.push(cumulative_mm[n - 1] + rate.max(0.0) * (end_h - times_h[n - 1]));
    times_h.push(end_h);
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
                peak_h,
            } => {
                let c0 = interp(times_h, cumulative_mm, *start_h, *peak_h);
                let c1 = interp(times_h, cumulative_mm, *end_h, *peak_h);
                if c1 <= c0 {
                    return 0.0;
                }
                let t = t_h.clamp(*start_h, *end_h);
                (interp(times_h, cumulative_mm, t, *peak_h) - c0) / (c1 - c0)
            }
            PatternCurve::Triangular {
                start_h,
                peak_h,
                end_h,
            } => triangular_cdf(*start_h, *peak_h, *end_h, t_h),
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

/// Where a zone of a temporal pattern lies (step 4 of the module docs).
#[derive(Debug, Clone)]
pub enum ZoneAnchor {
    /// An area on the grid: its cells take the zone's curve.
    Area(Array2<bool>),
    /// A site, projected coordinates (m); it may lie off the grid.
    Point {
        /// Easting, m.
        x: f64,
        /// Northing, m.
        y: f64,
    },
}

/// Squared Euclidean distance (in cells²) from every cell to the nearest `true` cell of
/// `mask` (Felzenszwalb & Huttenlocher 2012: the 1-D lower envelope of parabolas, applied
/// along columns then rows). Cells of the mask get 0; an empty mask gives infinity.
pub fn squared_distance_cells(mask: &Array2<bool>) -> Array2<f64> {
    // Far: a large finite stand-in for infinity, so that the envelope arithmetic stays
    // finite (its parabolas lie beyond the grid); mapped back to infinity at the end.
    const FAR: f64 = 1e20;
    fn pass(f: &[f64], out: &mut [f64]) {
        let n = f.len();
        let mut v = vec![0usize; n];
        let mut z = vec![0.0f64; n + 1];
        let mut k = 0usize;
        z[0] = f64::NEG_INFINITY;
        z[1] = f64::INFINITY;
        for q in 1..n {
            loop {
                let p = v[k];
                let s = ((f[q] + (q * q) as f64) - (f[p] + (p * p) as f64))
                    / (2.0 * q as f64 - 2.0 * p as f64);
                if s <= z[k] {
                    // z[0] is −∞, so k never goes below 0.
                    k -= 1;
                    continue;
                }
                k += 1;
                v[k] = q;
                z[k] = s;
                z[k + 1] = f64::INFINITY;
                break;
            }
        }
        k = 0;
        for (q, o) in out.iter_mut().enumerate() {
            while z[k + 1] < q as f64 {
                k += 1;
            }
            let d = q as f64 - v[k] as f64;
            *o = (d * d + f[v[k]]).min(FAR);
        }
    }
    let (rows, cols) = mask.dim();
    let mut g = mask.mapv(|m| if m { 0.0 } else { FAR });
    let mut buf = vec![0.0; rows.max(cols)];
    for c in 0..cols {
        let col: Vec<f64> = g.column(c).to_vec();
        pass(&col, &mut buf[..rows]);
        for r in 0..rows {
            g[(r, c)] = buf[r];
        }
    }
    for r in 0..rows {
        let row: Vec<f64> = g.row(r).to_vec();
        pass(&row, &mut buf[..cols]);
        for c in 0..cols {
            g[(r, c)] = buf[c];
        }
    }
    g.mapv(|d| if d >= 0.5 * FAR { f64::INFINITY } else { d })
}

/// Temporal patterns per zone (step 4 of the module docs): one cumulative curve per
/// zone and, per cell, the weight of each zone (the weights of a cell sum to 1).
#[derive(Debug, Clone)]
pub struct ZonedPattern {
    /// The zones' curves.
    pub curves: Vec<PatternCurve>,
    /// Per zone, its weight at every cell.
    pub weights: Vec<Array2<f64>>,
}

impl ZonedPattern {
    /// One curve everywhere.
    pub fn single(curve: PatternCurve, rows: usize, cols: usize) -> Self {
        ZonedPattern {
            curves: vec![curve],
            weights: vec![Array2::from_elem((rows, cols), 1.0)],
        }
    }

    /// Zones with their anchors on a grid of `rows` × `cols` cells with `transform`: a
    /// cell inside area zones takes the curve of the smallest of them; any other cell the
    /// blend of all zones with weights `1/dᵖ` (d: distance to the nearest cell of an area
    /// or to a site, m, at least a quarter cell; a cell holding a site takes that site's
    /// curve).
    pub fn new(
        rows: usize,
        cols: usize,
        transform: &GeoTransform,
        zones: Vec<(PatternCurve, ZoneAnchor)>,
        power: f64,
    ) -> Result<Self> {
        if zones.is_empty() {
            return Err(Error::Data("temporal pattern: no zone given".into()));
        }
        if !(power > 0.0 && power.is_finite()) {
            return Err(Error::Data(format!(
                "temporal pattern: blending power {power} must be positive"
            )));
        }
        let cell = transform.dx.abs();
        let floor = 0.25 * cell;
        // Distance (m) from each cell to each zone, and the area size (cells) of areas.
        let mut dist: Vec<Array2<f64>> = Vec::new();
        let mut size: Vec<Option<usize>> = Vec::new();
        for (i, (_, a)) in zones.iter().enumerate() {
            match a {
                ZoneAnchor::Area(m) => {
                    if m.dim() != (rows, cols) {
                        return Err(Error::Data(format!(
                            "temporal pattern zone {i}: mask shape {:?} differs from the grid",
                            m.dim()
                        )));
                    }
                    let n = m.iter().filter(|&&v| v).count();
                    if n == 0 {
                        return Err(Error::Data(format!(
                            "temporal pattern zone {i}: the area has no cell on the grid"
                        )));
                    }
                    dist.push(squared_distance_cells(m).mapv(|d2| d2.sqrt() * cell));
                    size.push(Some(n));
                }
                ZoneAnchor::Point { x, y } => {
                    let d = Array2::from_shape_fn((rows, cols), |(r, c)| {
                        let (cx, cy) = transform.cell_center(r, c);
                        ((cx - x).powi(2) + (cy - y).powi(2)).sqrt()
                    });
                    dist.push(d);
                    size.push(None);
                }
            }
        }
        let nz = zones.len();
        let mut weights = vec![Array2::<f64>::zeros((rows, cols)); nz];
        for r in 0..rows {
            for c in 0..cols {
                // Inside areas: the smallest area holding the cell.
                let inside = (0..nz)
                    .filter(|&z| size[z].is_some() && dist[z][(r, c)] == 0.0)
                    .min_by_key(|&z| size[z].unwrap_or(usize::MAX));
                // A site in this very cell.
                let at_site = (0..nz).find(|&z| size[z].is_none() && dist[z][(r, c)] < 0.5 * cell);
                if let Some(z) = inside.or(at_site) {
                    weights[z][(r, c)] = 1.0;
                    continue;
                }
                let w: Vec<f64> = (0..nz)
                    .map(|z| dist[z][(r, c)].max(floor).powf(-power))
                    .collect();
                let sum: f64 = w.iter().sum();
                for z in 0..nz {
                    weights[z][(r, c)] = w[z] / sum;
                }
            }
        }
        Ok(ZonedPattern {
            curves: zones.into_iter().map(|(c, _)| c).collect(),
            weights,
        })
    }

    /// Fraction of the storm total of cell (`row`, `col`) between `a_h` and `b_h`.
    pub fn fraction_between_at(&self, row: usize, col: usize, a_h: f64, b_h: f64) -> f64 {
        self.curves
            .iter()
            .zip(&self.weights)
            .map(|(c, w)| w[(row, col)] * c.fraction_between(a_h, b_h))
            .sum()
    }

    /// The fraction between `a_h` and `b_h` at every cell.
    pub fn fraction_grid(&self, a_h: f64, b_h: f64) -> Array2<f64> {
        let mut out = Array2::<f64>::zeros(self.weights[0].dim());
        for (c, w) in self.curves.iter().zip(&self.weights) {
            let f = c.fraction_between(a_h, b_h);
            out.zip_mut_with(w, |o, &wv| *o += wv * f);
        }
        out
    }

    /// Mean over the cells of `mask` of the fraction between `a_h` and `b_h` (used to turn
    /// an areal mean over a window into a storm total).
    pub fn area_fraction_between(&self, mask: &Array2<bool>, a_h: f64, b_h: f64) -> f64 {
        let fz: Vec<f64> = self
            .curves
            .iter()
            .map(|c| c.fraction_between(a_h, b_h))
            .collect();
        let (mut s, mut n) = (0.0, 0usize);
        for (idx, &m) in mask.indexed_iter() {
            if m {
                n += 1;
                s += self
                    .weights
                    .iter()
                    .zip(&fz)
                    .map(|(w, f)| w[idx] * f)
                    .sum::<f64>();
            }
        }
        s / n.max(1) as f64
    }

    /// Share of each zone over the cells of `mask` (for the report).
    pub fn zone_shares(&self, mask: &Array2<bool>) -> Vec<f64> {
        let n = mask.iter().filter(|&&m| m).count().max(1) as f64;
        self.weights
            .iter()
            .map(|w| {
                w.iter()
                    .zip(mask.iter())
                    .filter(|(_, &m)| m)
                    .map(|(v, _)| v)
                    .sum::<f64>()
                    / n
            })
            .collect()
    }

    /// The storm total spread over `n` steps of `step_h` from `start_h`: layer k at a cell
    /// is its total times its own fraction in step k (mm per step). Where the steps span
    /// the window, each cell's layers sum to its total.
    pub fn spread(
        &self,
        total_mm: &Array2<f64>,
        start_h: f64,
        step_h: f64,
        n: usize,
    ) -> Array3<f32> {
        let fz: Vec<Vec<f64>> = self
            .curves
            .iter()
            .map(|c| c.step_fractions(start_h, step_h, n))
            .collect();
        let (r, c) = total_mm.dim();
        let mut out = Array3::<f32>::zeros((n, r, c));
        out.axis_iter_mut(Axis(0))
            .into_par_iter()
            .enumerate()
            .for_each(|(k, mut layer)| {
                for ((idx, o), &t) in layer.indexed_iter_mut().zip(total_mm.iter()) {
                    let f: f64 = self
                        .weights
                        .iter()
                        .zip(&fz)
                        .map(|(w, fr)| w[idx] * fr[k])
                        .sum();
                    *o = (t * f) as f32;
                }
            });
        out
    }
}
