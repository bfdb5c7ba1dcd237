//! Cumulative residents and red-line area per group above hazard thresholds.
//!
//! For each group, the residents of `population.tif` (persons per cell) are summed over
//! the cells whose maximum flood depth exceeds 0.15, 0.5 and 1.5 m ([`DEPTH_CLASSES_M`],
//! strictly greater) and whose median PGA reaches each zone value of GB 18306-2015
//! ([`crate::exposure::PGA_CLASSES_G`], at or above). The counts are cumulative: a
//! resident under 2 m of water counts in all three depth columns. The red-line area of a
//! group, and the part of it flooded deeper than [`REDLINE_FLOOD_DEPTH_M`] or shaken at
//! [`REDLINE_SHAKING_PGA_G`] or more, comes from `redline.tif` in the same way.
//!
//! Kernels only: the grids come in aligned with the group zones; sums are f64 over each
//! group's cells in ascending order, parallel over groups, so the result does not
//! depend on the number of threads.
//!
//! # Reference
//! Hazard and exposure are met per cell, as in CLIMADA (Aznar-Siguan and Bresch 2019,
//! Geosci. Model Dev. 12, 3085–3097). PGA classes: GB 18306-2015 Table 1. The depth
//! thresholds are the project's (issue 4, item 6).

use super::{GroupZones, PGA_CLASSES_G};
use crate::{Error, Grid, Result};
use rayon::prelude::*;
use std::collections::BTreeMap;

/// Depth thresholds of the population columns, m (residents where depth > threshold).
pub const DEPTH_CLASSES_M: [f32; 3] = [0.15, 0.5, 1.5];

/// Depth above which red-line land counts as flooded, m (strictly greater).
pub const REDLINE_FLOOD_DEPTH_M: f32 = 0.5;

/// Median PGA at or above which red-line land counts as shaken, g: Beijing's basic PGA
/// in GB 18306-2015 (intensity VIII), i.e. shaking at the design level or above.
pub const REDLINE_SHAKING_PGA_G: f32 = 0.20;

/// Residents of one group, in total and above each hazard threshold (persons).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PopulationRow {
    /// Group id.
    pub group_id: String,
    /// Group name.
    pub name: String,
    /// Group kind (`county`, `core`, …).
    pub kind: String,
    /// Residents of the group, persons (NaN cells count as 0).
    pub population: f64,
    /// Residents where depth > 0.15, 0.5, 1.5 m; None without a flood.
    pub depth_gt: Option<Vec<f64>>,
    /// Residents where median PGA ≥ 0.05 … 0.40 g; None without an earthquake.
    pub pga_ge: Option<Vec<f64>>,
}

/// Red-line land of one group and the part of it exposed, km².
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RedlineRow {
    /// Group id.
    pub group_id: String,
    /// Red-line area (any class of `redline.tif` > 0), km².
    pub redline_km2: f64,
    /// Red-line area with depth > [`REDLINE_FLOOD_DEPTH_M`], km²; None without a flood.
    pub redline_flooded_km2: Option<f64>,
    /// Red-line area with median PGA ≥ [`REDLINE_SHAKING_PGA_G`], km²; None without an
    /// earthquake.
    pub redline_shaken_km2: Option<f64>,
    /// Wetland and reservoir storage available in the group, m³ (from the red-line
    /// build's `redline_summary.csv`); None where that table has no row for the group.
    pub wetland_storage_m3: Option<f64>,
}

/// Checks that a grid has the zones' shape and the reference grid's georeference.
fn check_on<T, U>(zones: &GroupZones, reference: &Grid<T>, g: &Grid<U>, what: &str) -> Result<()> {
    if reference.rows() != zones.spec.rows || reference.cols() != zones.spec.cols {
        return Err(Error::Misaligned(format!(
            "group zones are on a {} x {} grid, {what} on {} x {}",
            zones.spec.rows,
            zones.spec.cols,
            reference.rows(),
            reference.cols()
        )));
    }
    reference.check_aligned(g, what)
}

/// Sum of `value(i)` over the cells `i` of a group where `keep(i)`, in ascending order.
fn sum_where(cells: &[usize], value: impl Fn(usize) -> f64, keep: impl Fn(usize) -> bool) -> f64 {
    cells
        .iter()
        .filter(|&&i| keep(i))
        .map(|&i| value(i))
        .fold(0.0, |a, b| a + b)
}

/// Residents of every group in total, with depth > each of [`DEPTH_CLASSES_M`] and with
/// median PGA ≥ each of [`PGA_CLASSES_G`] (cumulative, persons). `depth_m` and `pga_g`
/// are optional and must be aligned with `population`; NaN hazard counts as not
/// exceeding, NaN residents as 0. Rows in zone order.
pub fn population_cumulative(
    zones: &GroupZones,
    population: &Grid<f32>,
    depth_m: Option<&Grid<f32>>,
    pga_g: Option<&Grid<f32>>,
) -> Result<Vec<PopulationRow>> {
    check_on(zones, population, population, "population")?;
    if let Some(d) = depth_m {
        check_on(zones, population, d, "population and flood depth grids")?;
    }
    if let Some(p) = pga_g {
        check_on(zones, population, p, "population and PGA grids")?;
    }
    let flat = |g: &Grid<f32>| -> Vec<f32> { g.data.iter().copied().collect() };
    let pop = flat(population);
    let depth = depth_m.map(flat);
    let pga = pga_g.map(flat);
    let persons = |i: usize| {
        let p = pop[i];
        if p.is_nan() {
            0.0
        } else {
            p as f64
        }
    };
    Ok(zones
        .zones
        .par_iter()
        .map(|z| PopulationRow {
            group_id: z.id.clone(),
            name: z.name.clone(),
            kind: z.kind.clone(),
            population: sum_where(&z.cells, persons, |_| true),
            depth_gt: depth.as_ref().map(|d| {
                DEPTH_CLASSES_M
                    .iter()
                    .map(|&t| sum_where(&z.cells, persons, |i| d[i] > t))
                    .collect()
            }),
            pga_ge: pga.as_ref().map(|a| {
                PGA_CLASSES_G
                    .iter()
                    .map(|&t| sum_where(&z.cells, persons, |i| a[i] >= t))
                    .collect()
            }),
        })
        .collect())
}

/// Red-line area of every group, and the part flooded (depth > [`REDLINE_FLOOD_DEPTH_M`])
/// or shaken (median PGA ≥ [`REDLINE_SHAKING_PGA_G`]), km² (cells × cell area), with the
/// wetland storage of `storage_m3` (by group id). Grids aligned with `redline`.
pub fn redline_exposure(
    zones: &GroupZones,
    redline: &Grid<u8>,
    depth_m: Option<&Grid<f32>>,
    pga_g: Option<&Grid<f32>>,
    storage_m3: &BTreeMap<String, f64>,
) -> Result<Vec<RedlineRow>> {
    check_on(zones, redline, redline, "red line")?;
    if let Some(d) = depth_m {
        check_on(zones, redline, d, "red line and flood depth grids")?;
    }
    if let Some(p) = pga_g {
        check_on(zones, redline, p, "red line and PGA grids")?;
    }
    let cell_km2 = redline.cell_area() / 1e6;
    let red: Vec<bool> = redline.data.iter().map(|&c| c > 0).collect();
    let depth: Option<Vec<f32>> = depth_m.map(|g| g.data.iter().copied().collect());
    let pga: Option<Vec<f32>> = pga_g.map(|g| g.data.iter().copied().collect());
    let area = |cells: &[usize], keep: &dyn Fn(usize) -> bool| {
        cells.iter().filter(|&&i| red[i] && keep(i)).count() as f64 * cell_km2
    };
    Ok(zones
        .zones
        .par_iter()
        .map(|z| RedlineRow {
            group_id: z.id.clone(),
            redline_km2: area(&z.cells, &|_| true),
            redline_flooded_km2: depth
                .as_ref()
                .map(|d| area(&z.cells, &|i| d[i] > REDLINE_FLOOD_DEPTH_M)),
            redline_shaken_km2: pga
                .as_ref()
                .map(|a| area(&z.cells, &|i| a[i] >= REDLINE_SHAKING_PGA_G)),
            wetland_storage_m3: storage_m3.get(&z.id).copied(),
        })
        .collect())
}
