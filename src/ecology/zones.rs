//! Zones to report on — provinces, counties (as `county-<adcode>` groups) and the named
//! groups of `groups.tif` — and sums of cell values over them, including the
//! red-line exposure kernel [`redline_exposed`].

use crate::grid::Grid;
use crate::{Error, Result};
use gdal::Metadata;
use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// A county of the county raster.
#[derive(Debug, Clone, PartialEq)]
pub struct County {
    /// Six-digit administrative code, as in `counties.tif`.
    pub adcode: i32,
    /// Name.
    pub name: String,
    /// Province name (e.g. 北京市).
    pub province: String,
}

/// A named group with its cell mask (one band of `groups.tif`).
#[derive(Debug, Clone)]
pub struct NamedGroup {
    /// Group id (the band description).
    pub id: String,
    /// Name from `groups.csv`.
    pub name: String,
    /// Cells of the group.
    pub mask: Array2<bool>,
}

/// The zones of a summary: provinces and counties from the county raster, named groups
/// from their masks.
#[derive(Debug, Clone)]
pub struct Zones {
    /// Adcode per cell, 0 outside every county.
    pub counties_grid: Array2<i32>,
    /// The counties, in table order.
    pub counties: Vec<County>,
    /// The named groups.
    pub groups: Vec<NamedGroup>,
}

/// What kind of zone a row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ZoneKind {
    /// A province (first two adcode digits).
    Province,
    /// One county (`county-<adcode>`).
    County,
    /// A named group of `groups.tif`.
    Group,
}

impl ZoneKind {
    /// Lower-case name for tables.
    pub fn as_str(self) -> &'static str {
        match self {
            ZoneKind::Province => "province",
            ZoneKind::County => "county",
            ZoneKind::Group => "group",
        }
    }
}

/// Sums of some per-cell values over one zone.
#[derive(Debug, Clone, PartialEq)]
pub struct ZoneSums {
    /// Kind of zone.
    pub kind: ZoneKind,
    /// `province-<code>`, `county-<adcode>` or the group id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Two-digit province code for provinces and counties; 0 for groups.
    pub province: u32,
    /// Cells in the zone.
    pub cells: usize,
    /// One sum per value grid, in the order given.
    pub sums: Vec<f64>,
}

/// Area of a zone meeting a condition, km².
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ZoneArea {
    /// Kind of zone.
    pub kind: ZoneKind,
    /// Zone id.
    pub id: String,
    /// Zone name.
    pub name: String,
    /// Area, km².
    pub area_km2: f64,
}

impl Zones {
    /// Reads `counties.tif`, `counties.csv`, `groups.tif` and `groups.csv` from a model
    /// folder (as `haihe prepare` writes them). Each band of `groups.tif` must carry a
    /// group id of `groups.csv` as its description.
    pub fn from_model_dir(dir: &Path) -> Result<Zones> {
        let counties_grid =
            crate::grid::io::read_raster_as::<i32>(&dir.join("counties.tif"), 1)?.data;
        let counties = crate::groups::read_counties_csv(&dir.join("counties.csv"))?
            .into_iter()
            .map(|c| County {
                adcode: c.adcode as i32,
                name: c.name,
                province: c.province,
            })
            .collect();
        let csv_path = dir.join("groups.csv");
        let mut names = BTreeMap::new();
        let mut rdr = csv::Reader::from_path(&csv_path)
            .map_err(|e| Error::Data(format!("{}: {e}", csv_path.display())))?;
        for rec in rdr.records() {
            let rec = crate::escape::unguard_record(
                &rec.map_err(|e| Error::Data(format!("{}: {e}", csv_path.display())))?,
            );
            if let (Some(id), Some(name)) = (rec.get(0), rec.get(1)) {
                names.insert(id.to_string(), name.to_string());
            }
        }
        let tif = dir.join("groups.tif");
        let ds = gdal::Dataset::open(&tif).map_err(|e| Error::gdal(&tif, e))?;
        let mut groups = Vec::new();
        for band in 1..=ds.raster_count() {
            let id = ds
                .rasterband(band)
                .map_err(|e| Error::gdal(&tif, e))?
                .description()
                .unwrap_or_default();
            let name = names.get(&id).cloned().ok_or_else(|| Error::Invalid {
                path: tif.clone(),
                field: format!("band {band} description"),
                message: format!("group id '{id}' is not in groups.csv; rerun `haihe prepare`"),
            })?;
            let g = crate::grid::io::read_raster_as::<u8>(&tif, band)?;
            if g.data.dim() != counties_grid.dim() {
                return Err(Error::Misaligned(format!(
                    "{} band {band} and counties.tif differ in shape",
                    tif.display()
                )));
            }
            groups.push(NamedGroup {
                id,
                name,
                mask: g.data.mapv(|v| v > 0),
            });
        }
        Ok(Zones {
            counties_grid,
            counties,
            groups,
        })
    }

    /// Checks that the zone grids have shape `dim`.
    pub fn check_shape(&self, dim: (usize, usize)) -> Result<()> {
        if self.counties_grid.dim() != dim || self.groups.iter().any(|g| g.mask.dim() != dim) {
            return Err(Error::Misaligned(format!(
                "zones are {:?} cells but the grid is {dim:?}",
                self.counties_grid.dim()
            )));
        }
        Ok(())
    }

    /// Sums every grid of `values` (all of the zones' shape) over each zone: provinces
    /// (in code order), counties (table order) and named groups, in that order.
    /// NaN values count as 0.
    pub fn sums(&self, values: &[ArrayView2<f64>]) -> Result<Vec<ZoneSums>> {
        let dim = self.counties_grid.dim();
        self.check_shape(dim)?;
        if values.iter().any(|v| v.dim() != dim) {
            return Err(Error::Misaligned(format!(
                "a value grid differs from the zones' shape {dim:?}"
            )));
        }
        let k = values.len();
        let index: HashMap<i32, usize> = self
            .counties
            .iter()
            .enumerate()
            .map(|(i, c)| (c.adcode, i))
            .collect();
        let mut county_cells = vec![0usize; self.counties.len()];
        let mut county_sums = vec![vec![0.0; k]; self.counties.len()];
        for ((r, c), code) in self.counties_grid.indexed_iter() {
            if let Some(&i) = index.get(code) {
                county_cells[i] += 1;
                for (s, v) in county_sums[i].iter_mut().zip(values) {
                    let x = v[[r, c]];
                    if x.is_finite() {
                        *s += x;
                    }
                }
            }
        }
        let mut prov: BTreeMap<u32, (String, usize, Vec<f64>)> = BTreeMap::new();
        for (i, c) in self.counties.iter().enumerate() {
            let e = prov
                .entry((c.adcode / 10000) as u32)
                .or_insert_with(|| (c.province.clone(), 0, vec![0.0; k]));
            e.1 += county_cells[i];
            e.2.iter_mut()
                .zip(&county_sums[i])
                .for_each(|(a, b)| *a += b);
        }
        let mut out: Vec<ZoneSums> = prov
            .into_iter()
            .map(|(code, (name, cells, sums))| ZoneSums {
                kind: ZoneKind::Province,
                id: format!("province-{code}"),
                name,
                province: code,
                cells,
                sums,
            })
            .collect();
        out.extend(self.counties.iter().enumerate().map(|(i, c)| ZoneSums {
            kind: ZoneKind::County,
            id: format!("county-{}", c.adcode),
            name: c.name.clone(),
            province: (c.adcode / 10000) as u32,
            cells: county_cells[i],
            sums: county_sums[i].clone(),
        }));
        let groups: Vec<ZoneSums> = self
            .groups
            .par_iter()
            .map(|g| {
                let mut cells = 0;
                let mut sums = vec![0.0; k];
                for ((r, c), &m) in g.mask.indexed_iter() {
                    if m {
                        cells += 1;
                        for (s, v) in sums.iter_mut().zip(values) {
                            let x = v[[r, c]];
                            if x.is_finite() {
                                *s += x;
                            }
                        }
                    }
                }
                ZoneSums {
                    kind: ZoneKind::Group,
                    id: g.id.clone(),
                    name: g.name.clone(),
                    province: 0,
                    cells,
                    sums,
                }
            })
            .collect();
        out.extend(groups);
        Ok(out)
    }
}

/// Red-line area flooded or shaken, per zone, km²: the cells with a red-line class
/// (`redline > 0`) whose hazard value (flood depth in m, PGA in g, …) is at least
/// `threshold`; NaN hazard cells count as not exposed. The grids must be aligned
/// (shape, transform, CRS) and the zones of the same shape. Rows as in [`Zones::sums`].
pub fn redline_exposed(
    redline: &Grid<u8>,
    hazard: &Grid<f32>,
    threshold: f32,
    zones: &Zones,
) -> Result<Vec<ZoneArea>> {
    redline.check_aligned(hazard, "red line and hazard")?;
    if threshold.is_nan() {
        return Err(Error::Data(
            "redline_exposed: the hazard threshold is NaN".into(),
        ));
    }
    let cell_km2 = redline.cell_area() / 1e6;
    let exposed = ndarray::Zip::from(&redline.data)
        .and(&hazard.data)
        .map_collect(|&r, &h| {
            if r > 0 && h >= threshold {
                cell_km2
            } else {
                0.0
            }
        });
    Ok(zones
        .sums(&[exposed.view()])?
        .into_iter()
        .map(|z| ZoneArea {
            kind: z.kind,
            id: z.id,
            name: z.name,
            area_km2: z.sums[0],
        })
        .collect())
}
