//! Locating stations and rain sites: the reference publishes no station coordinates, so
//! each site is placed at a GeoNames populated place (`rasters/source/places`, the
//! town or village that carries the station's name) or at the seat of a county-level
//! unit (`rasters/model/counties.csv`, `seat_lon`/`seat_lat`), or at coordinates given
//! in the storm file. Every placement says how it was made.

use super::storm::Location;
use crate::{Error, Result};
use std::path::Path;

/// A county-level unit of `counties.csv`.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct CountyRow {
    /// Administrative code (the value in `counties.tif`).
    pub adcode: i64,
    /// Name, e.g. `房山区`.
    pub name: String,
    /// Province, e.g. `北京市`.
    pub province: String,
    /// Prefecture-level city, e.g. `保定市`.
    pub city: String,
    /// Area of the outline, km².
    pub polygon_area_km2: f64,
    /// Seat longitude, degrees east.
    pub seat_lon: f64,
    /// Seat latitude, degrees north.
    pub seat_lat: f64,
}

/// A GeoNames populated place.
#[derive(Debug, Clone)]
pub struct PlaceRow {
    /// GeoNames name (romanised).
    pub name: String,
    /// GeoNames id.
    pub geonameid: i64,
    /// Longitude, degrees east.
    pub lon: f64,
    /// Latitude, degrees north.
    pub lat: f64,
}

/// A placed site.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Placed {
    /// Longitude, degrees east (WGS 84).
    pub lon: f64,
    /// Latitude, degrees north.
    pub lat: f64,
    /// How it was placed.
    pub how: String,
}

/// The populated places and county seats used to place sites.
#[derive(Debug, Clone, Default)]
pub struct Gazetteer {
    /// GeoNames places.
    pub places: Vec<PlaceRow>,
    /// County-level units.
    pub counties: Vec<CountyRow>,
}

impl Gazetteer {
    /// Reads the GeoNames GeoJSON (points with `name`, `geonameid`) and `counties.csv`.
    pub fn load(places_geojson: &Path, counties_csv: &Path) -> Result<Gazetteer> {
        let text = crate::error::read_text(
            places_geojson,
            "the GeoNames places of rasters/source/places are needed to place stations",
        )?;
        let v: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| Error::Data(format!("{}: {e}", places_geojson.display())))?;
        let mut places = Vec::new();
        for f in v["features"].as_array().into_iter().flatten() {
            let p = &f["properties"];
            let c = &f["geometry"]["coordinates"];
            if let (Some(name), Some(id), Some(lon), Some(lat)) = (
                p["name"].as_str(),
                p["geonameid"].as_i64(),
                c[0].as_f64(),
                c[1].as_f64(),
            ) {
                places.push(PlaceRow {
                    name: name.to_string(),
                    geonameid: id,
                    lon,
                    lat,
                });
            }
        }
        let mut rdr = csv::Reader::from_path(counties_csv)
            .map_err(|e| Error::Data(format!("{}: {e}", counties_csv.display())))?;
        let mut counties = Vec::new();
        let err = |e: csv::Error| Error::Data(format!("{}: {e}", counties_csv.display()));
        let headers = rdr.headers().map_err(err)?.clone();
        for row in rdr.records() {
            // Names come back without the guard against formula injection.
            let row = crate::escape::unguard_record(&row.map_err(err)?);
            let r: CountyCsv = row.deserialize(Some(&headers)).map_err(err)?;
            counties.push(CountyRow {
                adcode: r.adcode,
                name: r.name,
                province: r.province,
                city: r.city,
                polygon_area_km2: r.polygon_area_km2,
                seat_lon: r.seat_lon,
                seat_lat: r.seat_lat,
            });
        }
        Ok(Gazetteer { places, counties })
    }

    /// The county-level unit of this name.
    pub fn county(&self, name: &str) -> Option<&CountyRow> {
        self.counties.iter().find(|c| c.name == name)
    }

    /// Places a site. `Ok(None)`: the entry gives neither coordinates nor a place.
    /// Errors (as text, for the caller to name the entry): a place name that is unknown
    /// or ambiguous, half-given coordinates.
    pub fn locate(&self, at: &Location) -> std::result::Result<Option<Placed>, String> {
        let note = if at.placement_note.is_empty() {
            String::new()
        } else {
            format!("; {}", at.placement_note)
        };
        match (at.lon, at.lat) {
            (Some(lon), Some(lat)) => {
                if !(lon.is_finite() && lat.is_finite()) {
                    return Err("lon/lat must be finite".into());
                }
                return Ok(Some(Placed {
                    lon,
                    lat,
                    how: format!("coordinates given in the storm file{note}"),
                }));
            }
            (None, None) => {}
            _ => return Err("give both lon and lat, or neither".into()),
        }
        let Some(name) = &at.place else {
            return Ok(None);
        };
        // "Name#geonameid" picks one of several places of the same name.
        let (key, id) = match name.split_once('#') {
            Some((k, i)) => (
                k.trim(),
                Some(i.trim().parse::<i64>().map_err(|_| {
                    format!("place '{name}': the part after # must be a GeoNames id")
                })?),
            ),
            None => (name.as_str(), None),
        };
        let hits: Vec<&PlaceRow> = self
            .places
            .iter()
            .filter(|p| p.name == key && id.is_none_or(|i| i == p.geonameid))
            .collect();
        match hits.len() {
            1 => {
                let p = hits[0];
                return Ok(Some(Placed {
                    lon: p.lon,
                    lat: p.lat,
                    how: format!(
                        "GeoNames populated place '{}' (id {}){note}",
                        p.name, p.geonameid
                    ),
                }));
            }
            0 => {}
            _ => {
                let ids: Vec<String> = hits
                    .iter()
                    .map(|p| {
                        format!(
                            "{}#{} ({:.3} E, {:.3} N)",
                            p.name, p.geonameid, p.lon, p.lat
                        )
                    })
                    .collect();
                return Err(format!(
                    "place '{name}' is ambiguous: {}; write one of these",
                    ids.join(", ")
                ));
            }
        }
        if let Some(c) = self.county(key) {
            return Ok(Some(Placed {
                lon: c.seat_lon,
                lat: c.seat_lat,
                how: format!("seat of {} (counties.csv){note}", c.name),
            }));
        }
        Err(format!(
            "place '{name}' is neither a GeoNames populated place of rasters/source/places nor a county of counties.csv; give lon and lat, or set used = false"
        ))
    }
}

#[derive(serde::Deserialize)]
struct CountyCsv {
    adcode: i64,
    name: String,
    province: String,
    city: String,
    polygon_area_km2: f64,
    seat_lon: f64,
    seat_lat: f64,
}
