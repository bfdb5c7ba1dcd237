//! The basic peak ground acceleration of GB 18306-2015 per county, on the model grid.
//!
//! GB 18306-2015 (中国地震动参数区划图) gives the basic PGA of a Class II site (10%
//! exceedance in 50 years) per town; its appendix table was not retrievable, so the
//! county values come from GB 50011-2010 Appendix A in its 2016 edition, which was
//! revised to match it (`models/seismic/pga_zone.toml`, each row with its source).
//! Where that table shows no acceleration for a county, the superseded 2010 edition's
//! value is used; where neither lists the county, the value of the county whose seat is
//! nearest (great-circle distance between the seats in `counties.csv`), restricted to
//! values that fit the 2015 intensity when only the intensity is legible (GB 18306-2015
//! Table 1: VI 0.05 g, VII 0.10–0.15 g, VIII 0.20–0.30 g, IX 0.40 g). Every county's basis
//! is written to `pga_zone_source.csv`: `gb18306-2015`, `2010-list`, or
//! `nearest:<adcode name>`.
//!
//! # Reference
//! GB 18306-2015 中国地震动参数区划图 (Seismic ground motion parameters zonation map of
//! China), in force 2016-06-01; GB 50011-2010 建筑抗震设计规范 (2016 edition), Appendix A.

use super::gmpe::distance_azimuth;
use crate::escape::WriteCells;
use crate::{Error, Result};
use ndarray::{Array2, ArrayView2};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The county PGA table, relative to the project root.
pub const ZONE_TABLE: &str = "models/seismic/pga_zone.toml";

/// One row of `models/seismic/pga_zone.toml`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZoneRow {
    /// County adcode; when absent the row is matched by `name`.
    #[serde(default)]
    pub adcode: Option<u32>,
    /// County name as in `counties.csv`.
    pub name: String,
    /// Basic PGA of GB 18306-2015 (via GB 50011-2010, 2016 edition), g.
    #[serde(default)]
    pub gb2015_pga_g: Option<f64>,
    /// Intensity of the 2016 table where its acceleration is not legible.
    #[serde(default)]
    pub gb2015_intensity: Option<u8>,
    /// Basic PGA of the superseded 2010 edition, g.
    #[serde(default)]
    pub list2010_pga_g: Option<f64>,
    /// Source key (see the file's header).
    pub source: String,
    /// The source's reading is marked uncertain in the reference.
    #[serde(default)]
    pub uncertain: bool,
    /// Names as the source writes them, merges, readings.
    #[serde(default)]
    pub note: String,
}

/// `models/seismic/pga_zone.toml`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZoneTable {
    /// Rows, one per listed county.
    pub county: Vec<ZoneRow>,
}

/// A county of the model grid: code, name and seat.
#[derive(Debug, Clone, PartialEq)]
pub struct CountySeat {
    /// Adcode (the value in `counties.tif`).
    pub adcode: u32,
    /// Name.
    pub name: String,
    /// Seat longitude, degrees E.
    pub lon: f64,
    /// Seat latitude, degrees N.
    pub lat: f64,
}

/// The basic PGA given to a county and why.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ZoneAssignment {
    /// Adcode.
    pub adcode: u32,
    /// Name.
    pub name: String,
    /// Basic PGA, g.
    pub pga_g: f64,
    /// `gb18306-2015`, `2010-list` or `nearest:<adcode name>`.
    pub basis: String,
}

/// The PGA range of a seismic intensity, g (GB 18306-2015 Table 1).
fn intensity_range(i: u8) -> Option<(f64, f64)> {
    match i {
        6 => Some((0.05, 0.05)),
        7 => Some((0.10, 0.15)),
        8 => Some((0.20, 0.30)),
        9 => Some((0.40, 0.40)),
        _ => None,
    }
}

/// Reads and checks the zone table.
pub fn load_zone_table(path: &Path) -> Result<ZoneTable> {
    let t: ZoneTable = crate::error::read_toml(
        path,
        "the county PGA table ships in models/seismic/pga_zone.toml",
    )?;
    for (i, r) in t.county.iter().enumerate() {
        let bad = |field: &str, message: String| Error::Invalid {
            path: PathBuf::from(path),
            field: format!("county[{i}] ({}).{field}", r.name),
            message,
        };
        for (f, v) in [
            ("gb2015_pga_g", r.gb2015_pga_g),
            ("list2010_pga_g", r.list2010_pga_g),
        ] {
            if let Some(v) = v {
                if !(0.01..=1.0).contains(&v) {
                    return Err(bad(f, format!("{v} g is not a zoning value (0.05–0.40 g)")));
                }
            }
        }
        if let Some(i) = r.gb2015_intensity {
            if intensity_range(i).is_none() {
                return Err(bad("gb2015_intensity", format!("{i}: use 6, 7, 8 or 9")));
            }
        }
        if r.gb2015_pga_g.is_none() && r.list2010_pga_g.is_none() && r.gb2015_intensity.is_none() {
            return Err(bad(
                "gb2015_pga_g",
                "a row needs gb2015_pga_g, list2010_pga_g or gb2015_intensity".into(),
            ));
        }
    }
    Ok(t)
}

/// Gives every county its basic PGA: the 2015 value, else the 2010 value, else the
/// nearest seat's value (fitting the 2015 intensity where one is given). Rows match a
/// county by adcode, or by exact name when the row has none; a row that matches no
/// county of the grid is ignored (the table may list more than the domain holds), a
/// name that matches two counties is an error.
pub fn assign_zones(
    counties: &[CountySeat],
    table: &ZoneTable,
    table_path: &Path,
) -> Result<Vec<ZoneAssignment>> {
    let mut row_of: BTreeMap<u32, &ZoneRow> = BTreeMap::new();
    for (i, r) in table.county.iter().enumerate() {
        let code = match r.adcode {
            Some(c) => Some(c),
            None => {
                let hits: Vec<&CountySeat> = counties.iter().filter(|c| c.name == r.name).collect();
                if hits.len() > 1 {
                    return Err(Error::Invalid {
                        path: table_path.to_path_buf(),
                        field: format!("county[{i}].name"),
                        message: format!(
                            "'{}' names {} counties; give the adcode",
                            r.name,
                            hits.len()
                        ),
                    });
                }
                hits.first().map(|c| c.adcode)
            }
        };
        if let Some(c) = code {
            row_of.insert(c, r);
        }
    }
    // Direct values first.
    let direct: Vec<Option<(f64, &'static str)>> = counties
        .iter()
        .map(|c| {
            row_of
                .get(&c.adcode)
                .and_then(|r| match (r.gb2015_pga_g, r.list2010_pga_g) {
                    (Some(v), _) => Some((v, "gb18306-2015")),
                    (None, Some(v)) => Some((v, "2010-list")),
                    _ => None,
                })
        })
        .collect();
    let mut out = Vec::with_capacity(counties.len());
    for (k, c) in counties.iter().enumerate() {
        if let Some((v, basis)) = direct[k] {
            out.push(ZoneAssignment {
                adcode: c.adcode,
                name: c.name.clone(),
                pga_g: v,
                basis: basis.into(),
            });
            continue;
        }
        let fits = row_of
            .get(&c.adcode)
            .and_then(|r| r.gb2015_intensity)
            .and_then(intensity_range);
        let mut best: Option<(f64, usize)> = None;
        for (j, d) in direct.iter().enumerate() {
            let Some((v, _)) = d else { continue };
            if let Some((lo, hi)) = fits {
                if *v < lo - 1e-9 || *v > hi + 1e-9 {
                    continue;
                }
            }
            let o = &counties[j];
            let (dist, _) = distance_azimuth(c.lon, c.lat, o.lon, o.lat);
            if dist.is_finite() && best.is_none_or(|(bd, _)| dist < bd) {
                best = Some((dist, j));
            }
        }
        let Some((_, j)) = best else {
            return Err(Error::Data(format!(
                "county {} {}: no listed county with a value (and a usable seat) to take the nearest value from",
                c.adcode, c.name
            )));
        };
        let o = &counties[j];
        out.push(ZoneAssignment {
            adcode: c.adcode,
            name: c.name.clone(),
            pga_g: direct[j].map(|d| d.0).unwrap_or(f64::NAN),
            basis: format!("nearest:{} {}", o.adcode, o.name),
        });
    }
    Ok(out)
}

/// The zoning grid: each cell the basic PGA (g) of its county in `counties`
/// (adcodes, 0 outside), NaN outside every county or for a county without an
/// assignment.
pub fn zone_grid(counties: ArrayView2<i32>, zones: &[ZoneAssignment]) -> Array2<f32> {
    let by: BTreeMap<i32, f32> = zones
        .iter()
        .map(|z| (z.adcode as i32, z.pga_g as f32))
        .collect();
    counties.mapv(|c| by.get(&c).copied().unwrap_or(f32::NAN))
}

/// Writes `pga_zone_source.csv` (adcode, name, pga_g, basis) atomically.
pub fn write_zone_csv(path: &Path, zones: &[ZoneAssignment]) -> Result<()> {
    let csv_err = |e: csv::Error| Error::Data(format!("{}: writing CSV: {e}", path.display()));
    crate::grid::io::write_atomically(path, |tmp| {
        let mut w = csv::Writer::from_path(tmp).map_err(csv_err)?;
        w.write_cells(["adcode", "name", "pga_g", "basis"])
            .map_err(csv_err)?;
        for z in zones {
            w.write_cells([
                z.adcode.to_string(),
                z.name.clone(),
                format!("{:.2}", z.pga_g),
                z.basis.clone(),
            ])
            .map_err(csv_err)?;
        }
        w.flush().map_err(|e| Error::io(path, e))
    })
}

/// Builds `pga_zone.tif` (Float32, g) and `pga_zone_source.csv` for the county grid
/// `counties` (adcodes, 0 outside) and its seats, writing them at the given paths.
/// Used by `haihe prepare`.
pub fn write_zone_files(
    table_path: &Path,
    counties: &crate::Grid<i32>,
    seats: &[CountySeat],
    tif: &Path,
    csv_path: &Path,
) -> Result<Vec<ZoneAssignment>> {
    let table = load_zone_table(table_path)?;
    let zones = assign_zones(seats, &table, table_path)?;
    let grid = counties.with_data(zone_grid(counties.data.view(), &zones), None);
    crate::grid::io::write_geotiff(&grid, tif)?;
    write_zone_csv(csv_path, &zones)?;
    Ok(zones)
}

/// County seats from `counties.csv` (columns adcode, name, seat_lon, seat_lat).
pub fn read_county_seats(path: &Path) -> Result<Vec<CountySeat>> {
    let bad = |field: &str, message: String| Error::Invalid {
        path: path.to_path_buf(),
        field: field.into(),
        message,
    };
    let mut r = csv::Reader::from_path(path).map_err(|e| match e.kind() {
        csv::ErrorKind::Io(io) if io.kind() == std::io::ErrorKind::NotFound => Error::MissingFile {
            path: path.to_path_buf(),
            fix: "run `haihe prepare` to build rasters/model/counties.csv".into(),
        },
        _ => bad("header", e.to_string()),
    })?;
    let h = r
        .headers()
        .map_err(|e| bad("header", e.to_string()))?
        .clone();
    let col = |n: &str| {
        h.iter()
            .position(|x| x.trim() == n)
            .ok_or_else(|| bad(n, format!("no `{n}` column in the header")))
    };
    let (ca, cn, cx, cy) = (
        col("adcode")?,
        col("name")?,
        col("seat_lon")?,
        col("seat_lat")?,
    );
    let mut out = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let row = i + 2;
        let rec =
            crate::escape::unguard_record(&rec.map_err(|e| bad("row", format!("row {row}: {e}")))?);
        let num = |c: usize, f: &str| -> Result<f64> {
            rec.get(c)
                .unwrap_or("")
                .trim()
                .parse::<f64>()
                .map_err(|_| bad(f, format!("row {row}: not a number")))
        };
        out.push(CountySeat {
            adcode: rec
                .get(ca)
                .unwrap_or("")
                .trim()
                .parse()
                .map_err(|_| bad("adcode", format!("row {row}: not an adcode")))?,
            name: rec.get(cn).unwrap_or("").trim().to_string(),
            lon: num(cx, "seat_lon")?,
            lat: num(cy, "seat_lat")?,
        });
    }
    Ok(out)
}
