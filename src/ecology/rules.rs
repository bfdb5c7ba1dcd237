//! Kernels of the red-line proxy: slope, site extents, the rule masks and the class
//! grid. Arrays in, arrays out; no I/O.

use ndarray::{Array2, ArrayView2, Zip};
use rayon::prelude::*;

/// Class codes of `redline.tif` (u8). A cell takes the lowest code whose rule it meets.
#[repr(u8)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RedlineClass {
    /// Not in the red line.
    None = 0,
    /// Drinking-water source: a named reservoir and its protection buffer (水源涵养 / 水源保护).
    WaterSource = 1,
    /// Wetland: named wetlands and the wetland class of the land cover (重要湿地).
    Wetland = 2,
    /// Mountain forest: elevation and slope above the thresholds (水源涵养 / 水土保持 / 生物多样性维护).
    MountainForest = 3,
    /// River corridor: stream cells of large rivers (重要河流).
    RiverCorridor = 4,
    /// A user's official red-line polygon (replaces classes 1–4).
    Official = 9,
}

impl RedlineClass {
    /// Every class that can appear, in code order.
    pub const ALL: [RedlineClass; 6] = [
        RedlineClass::None,
        RedlineClass::WaterSource,
        RedlineClass::Wetland,
        RedlineClass::MountainForest,
        RedlineClass::RiverCorridor,
        RedlineClass::Official,
    ];

    /// The u8 code.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// Short English name, as in the summary's column headers.
    pub fn name(self) -> &'static str {
        match self {
            RedlineClass::None => "none",
            RedlineClass::WaterSource => "water_source",
            RedlineClass::Wetland => "wetland",
            RedlineClass::MountainForest => "mountain_forest",
            RedlineClass::RiverCorridor => "river_corridor",
            RedlineClass::Official => "official_layer",
        }
    }
}

/// Slope after Horn (1981), degrees, from a DEM in metres on square cells of
/// `cell_m` metres; edge cells reuse their own value for missing neighbours, and a
/// non-finite cell or neighbour gives NaN.
///
/// Horn, B. K. P. (1981), Hill shading and the reflectance map, Proc. IEEE 69(1), 14–47.
pub fn slope_horn_deg(dem_m: ArrayView2<f64>, cell_m: f64) -> Array2<f64> {
    let (nr, nc) = dem_m.dim();
    let mut out = Array2::<f64>::from_elem((nr, nc), f64::NAN);
    let at = |r: isize, c: isize, r0: usize, c0: usize| {
        let rr = if r < 0 || r >= nr as isize {
            r0
        } else {
            r as usize
        };
        let cc = if c < 0 || c >= nc as isize {
            c0
        } else {
            c as usize
        };
        dem_m[[rr, cc]]
    };
    out.outer_iter_mut()
        .into_par_iter()
        .enumerate()
        .for_each(|(r, mut row)| {
            for c in 0..nc {
                let z = |dr: isize, dc: isize| at(r as isize + dr, c as isize + dc, r, c);
                let (a, b, cc) = (z(-1, -1), z(-1, 0), z(-1, 1));
                let (d, f) = (z(0, -1), z(0, 1));
                let (g, h, i) = (z(1, -1), z(1, 0), z(1, 1));
                let dzdx = ((cc + 2.0 * f + i) - (a + 2.0 * d + g)) / (8.0 * cell_m);
                let dzdy = ((g + 2.0 * h + i) - (a + 2.0 * b + cc)) / (8.0 * cell_m);
                row[c] = dzdx.hypot(dzdy).atan().to_degrees();
            }
        });
    out
}

/// The 8-connected component of `mask` holding the `mask` cell nearest (`r`, `c`) within
/// `radius` cells (Euclidean; ties to the lowest row, then column); None if there is none.
pub fn component_near(
    mask: ArrayView2<bool>,
    r: usize,
    c: usize,
    radius: usize,
) -> Option<Array2<bool>> {
    let (nr, nc) = mask.dim();
    let mut best: Option<(usize, usize, usize)> = None;
    for rr in r.saturating_sub(radius)..(r + radius + 1).min(nr) {
        for cc in c.saturating_sub(radius)..(c + radius + 1).min(nc) {
            if !mask[[rr, cc]] {
                continue;
            }
            let d2 = rr.abs_diff(r).pow(2) + cc.abs_diff(c).pow(2);
            if d2 <= radius * radius && best.is_none_or(|(b, _, _)| d2 < b) {
                best = Some((d2, rr, cc));
            }
        }
    }
    let (_, r0, c0) = best?;
    let mut out = Array2::from_elem((nr, nc), false);
    let mut stack = vec![(r0, c0)];
    out[[r0, c0]] = true;
    while let Some((a, b)) = stack.pop() {
        for da in -1isize..=1 {
            for db in -1isize..=1 {
                let (x, y) = (a as isize + da, b as isize + db);
                if x < 0 || y < 0 || x >= nr as isize || y >= nc as isize {
                    continue;
                }
                let (x, y) = (x as usize, y as usize);
                if mask[[x, y]] && !out[[x, y]] {
                    out[[x, y]] = true;
                    stack.push((x, y));
                }
            }
        }
    }
    Some(out)
}

/// Cells whose centre lies within a circle of `area_m2` around map point (`x`, `y`) on a
/// north-up grid (`x0`, `y0` the outer corner, square cells of `cell_m`). An area
/// smaller than one cell still marks the cell holding the point, if it is on the grid.
pub fn disc_mask(
    shape: (usize, usize),
    x0: f64,
    y0: f64,
    cell_m: f64,
    x: f64,
    y: f64,
    area_m2: f64,
) -> Array2<bool> {
    let radius = (area_m2 / std::f64::consts::PI).sqrt();
    let mut out = Array2::from_shape_fn(shape, |(r, c)| {
        let xc = x0 + (c as f64 + 0.5) * cell_m;
        let yc = y0 - (r as f64 + 0.5) * cell_m;
        (xc - x).hypot(yc - y) <= radius
    });
    let (r, c) = ((y0 - y) / cell_m, (x - x0) / cell_m);
    if r >= 0.0 && c >= 0.0 && (r as usize) < shape.0 && (c as usize) < shape.1 {
        out[[r as usize, c as usize]] = true;
    }
    out
}

/// `mask` grown by `buffer_cells` (Euclidean distance between cell centres, exact,
/// by brute force over the square window; fine for buffers of a few cells).
pub fn buffer_mask(mask: ArrayView2<bool>, buffer_cells: f64) -> Array2<bool> {
    let (nr, nc) = mask.dim();
    if buffer_cells <= 0.0 {
        return mask.to_owned();
    }
    let w = buffer_cells.floor() as isize;
    let r2 = buffer_cells * buffer_cells;
    let mut out = Array2::from_elem((nr, nc), false);
    out.outer_iter_mut()
        .into_par_iter()
        .enumerate()
        .for_each(|(r, mut row)| {
            for c in 0..nc {
                'search: for dr in -w..=w {
                    for dc in -w..=w {
                        let (x, y) = (r as isize + dr, c as isize + dc);
                        if x < 0 || y < 0 || x >= nr as isize || y >= nc as isize {
                            continue;
                        }
                        if ((dr * dr + dc * dc) as f64) <= r2 && mask[[x as usize, y as usize]] {
                            row[c] = true;
                            break 'search;
                        }
                    }
                }
            }
        });
    out
}

/// The masks of the four proxy rules, before the elevation threshold is applied.
#[derive(Debug, Clone)]
pub struct RuleMasks {
    /// Land: inside a county and not sea.
    pub land: Array2<bool>,
    /// Rule 1: reservoirs and their buffers, on land.
    pub water_source: Array2<bool>,
    /// Rule 2: wetlands and their buffers, on land.
    pub wetland: Array2<bool>,
    /// Rule 3 without its elevation test: land, not urban, slope ≥ the threshold.
    pub mountain_base: Array2<bool>,
    /// Rule 4: stream cells with upstream area ≥ the threshold, on land.
    pub river: Array2<bool>,
}

impl RuleMasks {
    /// True where a rule other than the elevation-dependent mountain rule holds.
    pub fn fixed(&self, r: usize, c: usize) -> bool {
        self.water_source[[r, c]] || self.wetland[[r, c]] || self.river[[r, c]]
    }
}

/// Applies the rules: each cell gets the lowest class code whose rule it meets
/// (1 water source, 2 wetland, 3 mountain forest where `dem_m ≥ min_elevation_m` on
/// `mountain_base`, 4 river corridor), 0 otherwise.
pub fn classify_redline(
    masks: &RuleMasks,
    dem_m: ArrayView2<f64>,
    min_elevation_m: f64,
) -> Array2<u8> {
    let mut out = Array2::<u8>::zeros(dem_m.dim());
    Zip::indexed(&mut out)
        .and(dem_m)
        .par_for_each(|(r, c), o, &z| {
            let class = if masks.water_source[[r, c]] {
                RedlineClass::WaterSource
            } else if masks.wetland[[r, c]] {
                RedlineClass::Wetland
            } else if masks.mountain_base[[r, c]] && z >= min_elevation_m {
                RedlineClass::MountainForest
            } else if masks.river[[r, c]] {
                RedlineClass::RiverCorridor
            } else {
                RedlineClass::None
            };
            *o = class.code();
        });
    out
}

/// The result of the calibration search.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Calibration {
    /// The calibrated parameter.
    pub parameter: String,
    /// Its value, m.
    pub value: f64,
    /// Red-line area of the calibration zone with that value, km².
    pub area_km2: f64,
    /// The official area, km².
    pub target_km2: f64,
    /// (area − target) / target, %.
    pub error_pct: f64,
    /// Number of values tried.
    pub evaluated: usize,
}

/// Calibrates the elevation threshold of the mountain rule on one zone: scans
/// `min_m, min_m + step_m, …, max_m` and returns the value whose red-line area in `zone`
/// is nearest `target_km2` (ties: the lowest value). Deterministic; the area is
/// |fixed rules ∪ (mountain_base ∧ dem ≥ E)| within the zone.
#[allow(clippy::too_many_arguments)]
pub fn calibrate_min_elevation(
    masks: &RuleMasks,
    dem_m: ArrayView2<f64>,
    zone: ArrayView2<bool>,
    cell_km2: f64,
    target_km2: f64,
    min_m: f64,
    max_m: f64,
    step_m: f64,
) -> Calibration {
    let mut fixed = 0usize;
    let mut elev: Vec<f64> = Vec::new();
    for ((r, c), &z) in dem_m.indexed_iter() {
        if !zone[[r, c]] {
            continue;
        }
        if masks.fixed(r, c) {
            fixed += 1;
        } else if masks.mountain_base[[r, c]] && z.is_finite() {
            elev.push(z);
        }
    }
    elev.sort_by(f64::total_cmp);
    let steps = ((max_m - min_m) / step_m).round().max(0.0) as usize;
    let area = |e: f64| (fixed + elev.len() - elev.partition_point(|&z| z < e)) as f64 * cell_km2;
    let mut best = (min_m, area(min_m));
    for i in 1..=steps {
        let e = min_m + i as f64 * step_m;
        let a = area(e);
        if (a - target_km2).abs() < (best.1 - target_km2).abs() {
            best = (e, a);
        }
    }
    Calibration {
        parameter: "mountain.min_elevation_m".into(),
        value: best.0,
        area_km2: best.1,
        target_km2,
        error_pct: (best.1 - target_km2) / target_km2 * 100.0,
        evaluated: steps + 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    #[test]
    fn horn_slope_of_a_plane() {
        // z rises 100 m per 1000 m cell eastward: slope atan(0.1) = 5.71°, edges included.
        let dem = Array2::from_shape_fn((5, 6), |(_, c)| 100.0 * c as f64);
        let s = slope_horn_deg(dem.view(), 1000.0);
        assert!((s[[2, 2]] - 0.1f64.atan().to_degrees()).abs() < 1e-12);
        assert!(s[[0, 3]] > 5.0);
    }

    #[test]
    fn calibration_scan_picks_nearest_and_lowest_on_ties() {
        // 4 mountain cells at 100, 200, 300, 400 m and 1 fixed cell; target 3 km².
        let dem = Array2::from_shape_vec((1, 5), vec![100.0, 200.0, 300.0, 400.0, 0.0]).unwrap();
        let f = Array2::from_elem((1, 5), false);
        let mut fixed = f.clone();
        fixed[[0, 4]] = true;
        let masks = RuleMasks {
            land: Array2::from_elem((1, 5), true),
            water_source: fixed,
            wetland: f.clone(),
            mountain_base: Array2::from_shape_fn((1, 5), |(_, c)| c < 4),
            river: f,
        };
        let zone = Array2::from_elem((1, 5), true);
        let cal =
            calibrate_min_elevation(&masks, dem.view(), zone.view(), 1.0, 3.0, 0.0, 500.0, 50.0);
        // Area 3 (fixed + 300, 400) holds for E in (200, 300]: first such step is 250 m.
        assert_eq!(cal.value, 250.0);
        assert_eq!(cal.area_km2, 3.0);
        assert_eq!(cal.evaluated, 11);
        assert_eq!(
            classify_redline(&masks, dem.view(), cal.value)
                .iter()
                .copied()
                .collect::<Vec<u8>>(),
            vec![0, 0, 3, 3, 1]
        );
    }
}
