//! Groups on the grid: which cells belong to a group, and what a group holds (cells,
//! area, population). Kernels only: arrays in, arrays out, no I/O.

use super::definition::{CountyInfo, GroupDef, GroupKind, UserGroupSpec};
use crate::{Error, Result};
use ndarray::{Array2, ArrayView2, Axis, Zip};
use rayon::prelude::*;
use std::collections::HashMap;

/// A group ready to tally and score: its identity and the counties it is made of.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// Unique id: the file's slug, `county-<adcode>`, or a user feature's id.
    pub id: String,
    /// Chinese (or the user layer's) name.
    pub name: String,
    /// English name (empty for one-county groups).
    pub name_en: String,
    /// What kind of area it is.
    pub kind: GroupKind,
    /// Adcodes of its counties, in the order given (empty for user groups).
    pub counties: Vec<u32>,
    /// County names with their elevation rules, e.g. "昌平区 (≥ 100 m)", same order.
    pub county_names: Vec<String>,
    /// Approximations and provenance, said plainly.
    pub notes: String,
}

impl Group {
    /// The group a [`GroupDef`] defines.
    pub fn from_def(def: &GroupDef) -> Self {
        Group {
            id: def.id.clone(),
            name: def.name.clone(),
            name_en: def.name_en.clone(),
            kind: def.kind,
            counties: def.counties.iter().map(|c| c.adcode).collect(),
            county_names: def.counties.iter().map(|c| c.label()).collect(),
            notes: def.notes.clone(),
        }
    }
}

/// One group per county, id `county-<adcode>`, kind [`GroupKind::County`], in the
/// order of the county table.
pub fn county_groups(counties: &[CountyInfo]) -> Vec<Group> {
    counties
        .iter()
        .map(|c| Group {
            id: format!("county-{}", c.adcode),
            name: c.name.clone(),
            name_en: String::new(),
            kind: GroupKind::County,
            counties: vec![c.adcode],
            county_names: vec![c.name.clone()],
            notes: format!("{}{}", c.province, c.city),
        })
        .collect()
}

/// A county's elevation window: keep cells with `min <= z < max` (either side open).
#[derive(Clone, Copy)]
struct Window {
    min_m: Option<f64>,
    max_m: Option<f64>,
}

impl Window {
    fn is_rule(&self) -> bool {
        self.min_m.is_some() || self.max_m.is_some()
    }
    /// True when elevation `z` (m) passes; NaN passes no rule.
    fn admits(&self, z: f64) -> bool {
        if !self.is_rule() {
            return true;
        }
        self.min_m.is_none_or(|lo| z >= lo) && self.max_m.is_none_or(|hi| z < hi)
    }
}

fn windows(def: &GroupDef) -> Result<HashMap<i32, Window>> {
    def.counties
        .iter()
        .map(|c| {
            let code = i32::try_from(c.adcode).map_err(|_| {
                Error::Data(format!(
                    "group '{}': adcode {} of '{}' does not fit the county raster's Int32 codes",
                    def.id, c.adcode, c.name
                ))
            })?;
            Ok((
                code,
                Window {
                    min_m: c.min_elevation_m,
                    max_m: c.max_elevation_m,
                },
            ))
        })
        .collect()
}

/// The cells of a group: those whose county code (adcode, from `counties.tif`) is one
/// of the group's counties and, for a county with an elevation rule, whose elevation in
/// `dem_m` (the conditioned DEM, m) is at or above `min_elevation_m` and below
/// `max_elevation_m`. A NaN elevation passes no rule. Fails when a rule needs the DEM
/// and none is given, or when the DEM's shape differs from the county raster's.
pub fn membership_mask(
    def: &GroupDef,
    county_codes: ArrayView2<i32>,
    dem_m: Option<ArrayView2<f64>>,
) -> Result<Array2<bool>> {
    let win = windows(def)?;
    let needs_dem = def.counties.iter().find(|c| c.has_elevation_rule());
    match (dem_m, needs_dem) {
        (None, Some(c)) => Err(Error::Data(format!(
            "group '{}': county '{}' ({}) keeps only part of its cells by elevation, but no DEM was given; pass the conditioned DEM (m) on the county raster's grid",
            def.id,
            c.name,
            c.label()
        ))),
        (None, None) => Ok(Zip::from(county_codes).par_map_collect(|code| win.contains_key(code))),
        (Some(dem), _) => {
            if dem.dim() != county_codes.dim() {
                return Err(Error::Misaligned(format!(
                    "group '{}': DEM is {:?} (rows, cols) but the county raster is {:?}; build both with `haihe prepare`",
                    def.id,
                    dem.dim(),
                    county_codes.dim()
                )));
            }
            Ok(Zip::from(county_codes)
                .and(dem)
                .par_map_collect(|code, &z| win.get(code).is_some_and(|w| w.admits(z))))
        }
    }
}

/// The group's counties that have no cell at all on the county raster, in the group's
/// order: a county outside the grid, or a code the raster does not carry.
pub fn missing_counties(def: &GroupDef, county_codes: ArrayView2<i32>) -> Vec<u32> {
    let present: std::collections::HashSet<i32> = county_codes.iter().copied().collect();
    def.counties
        .iter()
        .filter(|c| i32::try_from(c.adcode).map_or(true, |code| !present.contains(&code)))
        .map(|c| c.adcode)
        .collect()
}

/// What a group holds on the grid.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupTally {
    /// The group's id.
    pub id: String,
    /// Number of grid cells in the group.
    pub cells: usize,
    /// Area of those cells, km².
    pub area_km2: f64,
    /// Residents in those cells (sum of the population grid, people); NaN cells count 0.
    pub population: f64,
    /// Cells of the group whose population value is NaN (counted as 0 above).
    pub population_missing_cells: usize,
}

/// Counts a group's cells, area (`cells × cell_area_m2`, in km²) and population (the sum
/// of `population` over the mask, people per cell). NaN population cells count as zero
/// and are reported in `population_missing_cells`. Sums run per row and are added in
/// row order, so the result does not depend on the number of threads.
pub fn tally(
    id: &str,
    mask: ArrayView2<bool>,
    cell_area_m2: f64,
    population: ArrayView2<f64>,
) -> Result<GroupTally> {
    if mask.dim() != population.dim() {
        return Err(Error::Misaligned(format!(
            "group '{id}': mask is {:?} (rows, cols) but the population grid is {:?}",
            mask.dim(),
            population.dim()
        )));
    }
    let rows: Vec<(usize, usize, f64)> = mask
        .axis_iter(Axis(0))
        .into_par_iter()
        .zip(population.axis_iter(Axis(0)).into_par_iter())
        .map(|(m, p)| {
            let mut cells = 0;
            let mut missing = 0;
            let mut people = 0.0;
            for (&inside, &v) in m.iter().zip(p.iter()) {
                if inside {
                    cells += 1;
                    if v.is_nan() {
                        missing += 1;
                    } else {
                        people += v;
                    }
                }
            }
            (cells, missing, people)
        })
        .collect();
    let (cells, missing, people) = rows
        .iter()
        .fold((0, 0, 0.0), |(c, m, p), r| (c + r.0, m + r.1, p + r.2));
    Ok(GroupTally {
        id: id.to_string(),
        cells,
        area_km2: cells as f64 * cell_area_m2 / 1e6,
        population: people,
        population_missing_cells: missing,
    })
}

/// A feature of a user polygon layer: its id and name attributes, as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserFeature {
    /// Value of the layer's `id_field`; unique and non-empty.
    pub id: String,
    /// Value of the layer's `name_field`.
    pub name: String,
}

/// Groups from a rasterised polygon layer: `zones` holds, per cell, the 0-based index of
/// the feature covering it in `features` (layer order), NaN outside every feature. Gives
/// one group (kind [`GroupKind::User`], id = the feature's id) and its mask per feature,
/// in layer order; a feature too small to cover a cell centre gets an empty mask.
/// Fails on a zone value that is not a feature index, and on empty or repeated ids.
pub fn user_groups_from_zones(
    zones: ArrayView2<f64>,
    features: &[UserFeature],
    spec: &UserGroupSpec,
) -> Result<Vec<(Group, Array2<bool>)>> {
    let invalid = |field: &str, message: String| Error::Invalid {
        path: spec.path.clone(),
        field: field.to_string(),
        message,
    };
    let mut seen = HashMap::new();
    for (i, f) in features.iter().enumerate() {
        if f.id.trim().is_empty() {
            return Err(invalid(
                &spec.id_field,
                format!(
                    "feature {i} has an empty id; every feature needs a unique `{}`",
                    spec.id_field
                ),
            ));
        }
        if let Some(j) = seen.insert(f.id.as_str(), i) {
            return Err(invalid(
                &spec.id_field,
                format!(
                    "features {j} and {i} share the id '{}'; ids must be unique",
                    f.id
                ),
            ));
        }
    }
    let n = features.len();
    let mut masks: Vec<Array2<bool>> = (0..n)
        .map(|_| Array2::from_elem(zones.dim(), false))
        .collect();
    for ((r, c), &z) in zones.indexed_iter() {
        if z.is_nan() {
            continue;
        }
        if z < 0.0 || z.fract() != 0.0 || z >= n as f64 {
            return Err(invalid(
                "zones",
                format!(
                    "cell (row {r}, col {c}) holds {z}, which is not the index of one of the layer's {n} features"
                ),
            ));
        }
        masks[z as usize][[r, c]] = true;
    }
    Ok(features
        .iter()
        .zip(masks)
        .enumerate()
        .map(|(i, (f, mask))| {
            let group = Group {
                id: f.id.clone(),
                name: f.name.clone(),
                name_en: String::new(),
                kind: GroupKind::User,
                counties: Vec::new(),
                county_names: Vec::new(),
                notes: format!("feature {i} of {}", spec.path.display()),
            };
            (group, mask)
        })
        .collect())
}
