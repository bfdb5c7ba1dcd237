//! Land cover in five classes, derived by rules from the DEM, water and wetland masks
//! and the population grid (no land-cover map is bundled):
//!
//! 1. water and wetland come from the masks (lakes, reservoirs, sea; 白洋淀 and other
//!    marshes as wetland);
//! 2. urban where the resident density reaches a threshold, after the density rule of
//!    the Degree of Urbanisation (GHS-SMOD), whose urban centres and clusters are built
//!    from 1 km² cells of at least 1,500 and 300 inhabitants/km² (Dijkstra & Poelman
//!    2014; Pesaresi et al. 2019);
//! 3. mountain forest/grass where elevation or local relief reach a threshold;
//! 4. plain cropland elsewhere, the dominant cover of the North China Plain.
//!
//! Urban is tested before mountain, so that cities on high ground (张家口, 大同) stay
//! urban. Known limitation: the cropland of elevated basins (延庆, 怀来, 大同, the 坝上
//! plateau) lies above the elevation threshold and is classed as mountain grass.
//!
//! # References
//! * Dijkstra, L., & Poelman, H. (2014). *A harmonised definition of cities and rural
//!   areas: the new degree of urbanisation*. European Commission, Regional Working
//!   Paper WP 01/2014.
//! * Pesaresi, M., Florczyk, A., Schiavina, M., Melchiorri, M., & Maffenini, L. (2019).
//!   *GHS settlement grid, updated and refined REGIO model 2014 in application to
//!   GHS-BUILT R2018A and GHS-POP R2019A*. European Commission, JRC.

use crate::{Error, Result};
use ndarray::{Array2, ArrayView2, Axis, Zip};
use rayon::prelude::*;
use serde::Deserialize;
use std::path::Path;

/// Land-cover classes of `landcover.tif` (u8 codes).
#[repr(u8)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LandCover {
    /// No data (no elevation and no water).
    NoData = 0,
    /// Mountain forest or grassland.
    Mountain = 1,
    /// Plain cropland.
    Cropland = 2,
    /// Urban (built-up, dense resident population).
    Urban = 3,
    /// Open water: rivers, lakes, reservoirs, sea.
    Water = 4,
    /// Wetland and marsh.
    Wetland = 5,
}

impl LandCover {
    /// Every class, in code order.
    pub const ALL: [LandCover; 6] = [
        LandCover::NoData,
        LandCover::Mountain,
        LandCover::Cropland,
        LandCover::Urban,
        LandCover::Water,
        LandCover::Wetland,
    ];

    /// The class's u8 code.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The class of a code, or `None` for an unknown code.
    pub fn from_code(code: u8) -> Option<LandCover> {
        LandCover::ALL.get(usize::from(code)).copied()
    }

    /// Short English name, as in `models/land_cover.toml`.
    pub fn name(self) -> &'static str {
        match self {
            LandCover::NoData => "no data",
            LandCover::Mountain => "mountain forest/grass",
            LandCover::Cropland => "plain cropland",
            LandCover::Urban => "urban",
            LandCover::Water => "water",
            LandCover::Wetland => "wetland",
        }
    }
}

/// Thresholds of [`classify_land_cover`]. Defaults equal `models/land_cover.toml`.
#[derive(Debug, Clone, PartialEq)]
pub struct LandCoverParams {
    /// Cells with at least this resident density are urban, persons/km². Default 1500,
    /// the GHS-SMOD urban-centre density (Dijkstra & Poelman 2014).
    pub urban_min_density_per_km2: f64,
    /// Cells at or above this elevation are mountain, m. Assumption: 200 m.
    pub mountain_min_elevation_m: f64,
    /// Cells with at least this local relief are mountain, m. Assumption: 100 m.
    pub mountain_min_relief_m: f64,
    /// Radius of the relief window the thresholds assume, cells (1 = 3 × 3).
    pub relief_window_radius_cells: usize,
}

impl Default for LandCoverParams {
    fn default() -> Self {
        LandCoverParams {
            urban_min_density_per_km2: 1500.0,
            mountain_min_elevation_m: 200.0,
            mountain_min_relief_m: 100.0,
            relief_window_radius_cells: 1,
        }
    }
}

/// Classifies each cell (rules in the module documentation). Order: water mask →
/// wetland mask → no data (elevation not finite) → urban (density ≥ threshold) →
/// mountain (elevation or relief ≥ threshold) → plain cropland. A non-finite density
/// or relief never triggers its rule. Panics if the grids differ in shape (an internal
/// invariant of the caller).
pub fn classify_land_cover(
    dem_m: ArrayView2<f64>,
    relief_m: ArrayView2<f64>,
    water: ArrayView2<bool>,
    wetland: ArrayView2<bool>,
    population_density_per_km2: ArrayView2<f64>,
    params: &LandCoverParams,
) -> Array2<u8> {
    let dim = dem_m.dim();
    assert_eq!(relief_m.dim(), dim, "relief shape differs from DEM");
    assert_eq!(water.dim(), dim, "water mask shape differs from DEM");
    assert_eq!(wetland.dim(), dim, "wetland mask shape differs from DEM");
    assert_eq!(
        population_density_per_km2.dim(),
        dim,
        "population density shape differs from DEM"
    );
    let mut out = Array2::<u8>::zeros(dim);
    Zip::from(&mut out)
        .and(dem_m)
        .and(relief_m)
        .and(water)
        .and(wetland)
        .and(population_density_per_km2)
        .par_for_each(|o, &z, &relief, &is_water, &is_wetland, &density| {
            let class = if is_water {
                LandCover::Water
            } else if is_wetland {
                LandCover::Wetland
            } else if !z.is_finite() {
                LandCover::NoData
            } else if density >= params.urban_min_density_per_km2 {
                LandCover::Urban
            } else if z >= params.mountain_min_elevation_m || relief >= params.mountain_min_relief_m
            {
                LandCover::Mountain
            } else {
                LandCover::Cropland
            };
            *o = class.code();
        });
    out
}

/// Local relief: max − min elevation over the (2r+1) × (2r+1) window around each cell
/// (clipped at the grid edge), m; non-finite cells are skipped, and a non-finite centre
/// gives NaN. A standard roughness measure of geomorphometry (e.g. Evans 1972).
pub fn local_relief(dem_m: ArrayView2<f64>, radius_cells: usize) -> Array2<f64> {
    let (nrows, ncols) = dem_m.dim();
    let mut out = Array2::<f64>::from_elem((nrows, ncols), f64::NAN);
    out.axis_iter_mut(Axis(0))
        .into_par_iter()
        .enumerate()
        .for_each(|(r, mut row)| {
            let r0 = r.saturating_sub(radius_cells);
            let r1 = (r + radius_cells + 1).min(nrows);
            for c in 0..ncols {
                if !dem_m[[r, c]].is_finite() {
                    continue;
                }
                let c0 = c.saturating_sub(radius_cells);
                let c1 = (c + radius_cells + 1).min(ncols);
                let mut lo = f64::INFINITY;
                let mut hi = f64::NEG_INFINITY;
                for rr in r0..r1 {
                    for cc in c0..c1 {
                        let z = dem_m[[rr, cc]];
                        if z.is_finite() {
                            lo = lo.min(z);
                            hi = hi.max(z);
                        }
                    }
                }
                row[c] = hi - lo;
            }
        });
    out
}

/// A threshold with its provenance: a `source` where one exists, else an `assumption`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Threshold<T> {
    value: T,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    assumption: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Thresholds {
    urban_min_density_per_km2: Threshold<f64>,
    mountain_min_elevation_m: Threshold<f64>,
    mountain_min_relief_m: Threshold<f64>,
    relief_window_radius_cells: Threshold<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClassEntry {
    code: u8,
    name: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LandCoverFile {
    thresholds: Thresholds,
    class: Vec<ClassEntry>,
}

/// Reads `models/land_cover.toml`: thresholds, each with a `source` or an
/// `assumption` note, and the class table, which must match [`LandCover`] code for code.
pub fn load_land_cover_params(path: &Path) -> Result<LandCoverParams> {
    let file: LandCoverFile = crate::error::read_toml(
        path,
        "the land-cover thresholds ship as models/land_cover.toml",
    )?;
    let invalid = |field: &str, message: String| Error::Invalid {
        path: path.to_path_buf(),
        field: field.to_string(),
        message,
    };
    let t = &file.thresholds;
    let noted = [
        (
            "urban_min_density_per_km2",
            &t.urban_min_density_per_km2.source,
            &t.urban_min_density_per_km2.assumption,
            t.urban_min_density_per_km2.value,
        ),
        (
            "mountain_min_elevation_m",
            &t.mountain_min_elevation_m.source,
            &t.mountain_min_elevation_m.assumption,
            t.mountain_min_elevation_m.value,
        ),
        (
            "mountain_min_relief_m",
            &t.mountain_min_relief_m.source,
            &t.mountain_min_relief_m.assumption,
            t.mountain_min_relief_m.value,
        ),
        (
            "relief_window_radius_cells",
            &t.relief_window_radius_cells.source,
            &t.relief_window_radius_cells.assumption,
            t.relief_window_radius_cells.value as f64,
        ),
    ];
    for (name, source, assumption, value) in noted {
        let field = format!("thresholds.{name}");
        let has = |s: &Option<String>| s.as_ref().is_some_and(|s| !s.trim().is_empty());
        if !has(source) && !has(assumption) {
            return Err(invalid(
                &field,
                "give a `source` or an `assumption` note for the value".into(),
            ));
        }
        if !value.is_finite() {
            return Err(invalid(&field, format!("value {value} must be a number")));
        }
    }
    if t.urban_min_density_per_km2.value <= 0.0 {
        return Err(invalid(
            "thresholds.urban_min_density_per_km2",
            "must be positive, persons/km²".into(),
        ));
    }
    if t.mountain_min_relief_m.value <= 0.0 {
        return Err(invalid(
            "thresholds.mountain_min_relief_m",
            "must be positive, m".into(),
        ));
    }
    let mut codes: Vec<u8> = file.class.iter().map(|c| c.code).collect();
    codes.sort_unstable();
    let expected: Vec<u8> = LandCover::ALL.iter().map(|c| c.code()).collect();
    if codes != expected {
        return Err(invalid(
            "class",
            format!("the class table must list codes {expected:?} once each; it lists {codes:?}"),
        ));
    }
    for entry in &file.class {
        let class = LandCover::from_code(entry.code)
            .ok_or_else(|| invalid("class", format!("unknown code {}", entry.code)))?;
        if entry.name != class.name() {
            return Err(invalid(
                "class",
                format!(
                    "code {} is `{}` in the code, not `{}`",
                    entry.code,
                    class.name(),
                    entry.name
                ),
            ));
        }
    }
    Ok(LandCoverParams {
        urban_min_density_per_km2: t.urban_min_density_per_km2.value,
        mountain_min_elevation_m: t.mountain_min_elevation_m.value,
        mountain_min_relief_m: t.mountain_min_relief_m.value,
        relief_window_radius_cells: t.relief_window_radius_cells.value,
    })
}
