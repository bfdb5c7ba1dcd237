//! `models/ecology.toml`: the rules of the red-line proxy and their parameters, each
//! with its basis (a source, an assumption, or the calibration it came from).

use crate::{Error, Result};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// A number with its basis. At least one of `source`, `assumption` or `calibrated`
/// must be given, so that no parameter enters the model without a stated reason.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Param {
    /// The value, in the unit its key names.
    pub value: f64,
    /// Where a sourced value comes from (title or URL).
    #[serde(default)]
    pub source: Option<String>,
    /// Why an estimated value was chosen.
    #[serde(default)]
    pub assumption: Option<String>,
    /// How a calibrated value was obtained (which area it matches, by which search).
    #[serde(default)]
    pub calibrated: Option<String>,
}

impl Param {
    /// The basis as one line for tables: "source: …", "ASSUMPTION: …" or "calibrated: …".
    pub fn basis(&self) -> String {
        match (&self.source, &self.assumption, &self.calibrated) {
            (_, _, Some(c)) => format!("calibrated: {c}"),
            (Some(s), _, _) => format!("source: {s}"),
            (None, Some(a), None) => format!("ASSUMPTION: {a}"),
            (None, None, None) => String::new(),
        }
    }

    fn check(&self, path: &Path, field: &str, min: f64) -> Result<()> {
        let bad = |message: String| Error::Invalid {
            path: path.to_path_buf(),
            field: field.to_string(),
            message,
        };
        if self.source.is_none() && self.assumption.is_none() && self.calibrated.is_none() {
            return Err(bad(
                "no basis given: add `source`, `assumption` or `calibrated` beside `value`".into(),
            ));
        }
        if !self.value.is_finite() || self.value < min {
            return Err(bad(format!(
                "value {} must be a finite number ≥ {min}",
                self.value
            )));
        }
        Ok(())
    }
}

/// How a site's extent on the grid is found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Extent {
    /// The water or wetland body of `land_cover.tif` (classes 4 and 5, sea excluded)
    /// nearest the point within `snap_cells`, as grown by `haihe prepare`.
    WaterBody,
    /// A disc of `area_km2` centred on the point (cell centres inside).
    Disc,
    /// The one cell holding the point.
    Point,
}

/// A named reservoir, lake or wetland with coordinates.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Site {
    /// Name as in the reference (e.g. 密云水库).
    pub name: String,
    /// Longitude, degrees E (WGS 84).
    pub lon: f64,
    /// Latitude, degrees N (WGS 84).
    pub lat: f64,
    /// How its extent is found.
    pub extent: Extent,
    /// Area of a `disc` extent, km².
    #[serde(default)]
    pub area_km2: Option<f64>,
    /// Search radius of a `water_body` extent, cells (default 3).
    #[serde(default)]
    pub snap_cells: Option<usize>,
    /// Storage capacity where a source gives it, m³.
    #[serde(default)]
    pub storage_m3: Option<Param>,
    /// Mean depth for storage = area × depth where no capacity is given, m; falls back
    /// to `[storage] default_depth_m`.
    #[serde(default)]
    pub depth_m: Option<Param>,
    /// Where the point, the area and the storage come from.
    pub source: String,
}

/// Water-source rule: named reservoirs and a protection buffer around them.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaterSourceRule {
    /// Protection buffer around the reservoir extent, km.
    pub buffer_km: Param,
    /// The reservoirs.
    #[serde(default, rename = "site")]
    pub sites: Vec<Site>,
}

/// Wetland rule: named wetlands and a buffer around them.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WetlandRule {
    /// Buffer around the wetland extent, km (0 keeps the extent as it is).
    pub buffer_km: Param,
    /// Whether every wetland cell of `land_cover.tif` (class 5) is red line, named or not.
    pub all_land_cover_wetland: bool,
    /// The wetlands.
    #[serde(default, rename = "site")]
    pub sites: Vec<Site>,
}

/// Mountain-forest rule: elevation and slope thresholds on the unconditioned DEM.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MountainRule {
    /// Cells at or above this elevation, m (the calibrated parameter).
    pub min_elevation_m: Param,
    /// … whose Horn slope is at least this, degrees.
    pub min_slope_deg: Param,
}

/// River-corridor rule: stream cells of large rivers.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiverRule {
    /// Stream cells (streams.tif) with at least this upstream area, km².
    pub min_upstream_km2: Param,
}

/// Storage defaults.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    /// Depth used for storage = area × depth where a site gives neither capacity nor depth, m.
    pub default_depth_m: Param,
}

/// The deterministic search that calibrates `mountain.min_elevation_m`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalibrationConfig {
    /// Two-digit province code of the calibration area (11 = Beijing).
    pub province: u32,
    /// Lowest elevation tried, m.
    pub search_min_m: f64,
    /// Highest elevation tried, m.
    pub search_max_m: f64,
    /// Step of the scan, m.
    pub step_m: f64,
    /// Acceptance: |proxy − official| / official, %.
    pub tolerance_pct: f64,
}

/// An official red-line area to compare with.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfficialArea {
    /// Two-digit province code.
    pub province: u32,
    /// Name.
    pub name: String,
    /// Official land red-line area, km².
    pub area_km2: Param,
}

/// A user's official red-line polygons, which replace the proxy.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfficialLayer {
    /// Any OGR polygon layer (GeoJSON, shapefile, GeoPackage), relative to the project root.
    pub path: PathBuf,
    /// Where the layer comes from.
    pub source: String,
}

/// The whole of `models/ecology.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EcologyConfig {
    /// Official areas (calibration target and independent checks).
    #[serde(rename = "official")]
    pub officials: Vec<OfficialArea>,
    /// The calibration search.
    pub calibration: CalibrationConfig,
    /// Rule 1.
    pub water_source: WaterSourceRule,
    /// Rule 2.
    pub wetland: WetlandRule,
    /// Rule 3.
    pub mountain: MountainRule,
    /// Rule 4.
    pub river: RiverRule,
    /// Storage defaults.
    pub storage: StorageConfig,
    /// Optional drop-in official layer.
    #[serde(default)]
    pub official_layer: Option<OfficialLayer>,
}

impl EcologyConfig {
    /// Reads and checks `models/ecology.toml`: unknown keys, parameters without a basis,
    /// negative or non-finite values, sites without the fields their extent needs, and a
    /// calibration target missing from `[[official]]` are errors naming the field.
    pub fn load(path: &Path) -> Result<Self> {
        let cfg: EcologyConfig = crate::error::read_toml(
            path,
            "copy models/ecology.toml from the repository, or point to your own",
        )?;
        cfg.validate(path)?;
        Ok(cfg)
    }

    /// The checks of [`EcologyConfig::load`].
    pub fn validate(&self, path: &Path) -> Result<()> {
        let bad = |field: &str, message: String| Error::Invalid {
            path: path.to_path_buf(),
            field: field.to_string(),
            message,
        };
        self.water_source
            .buffer_km
            .check(path, "water_source.buffer_km", 0.0)?;
        self.wetland
            .buffer_km
            .check(path, "wetland.buffer_km", 0.0)?;
        self.mountain
            .min_elevation_m
            .check(path, "mountain.min_elevation_m", -500.0)?;
        self.mountain
            .min_slope_deg
            .check(path, "mountain.min_slope_deg", 0.0)?;
        if self.mountain.min_slope_deg.value >= 90.0 {
            return Err(bad(
                "mountain.min_slope_deg",
                "must be below 90 degrees".into(),
            ));
        }
        self.river
            .min_upstream_km2
            .check(path, "river.min_upstream_km2", 0.0)?;
        self.storage
            .default_depth_m
            .check(path, "storage.default_depth_m", 0.0)?;
        for o in &self.officials {
            o.area_km2
                .check(path, &format!("official '{}'.area_km2", o.name), 0.0)?;
        }
        let c = &self.calibration;
        if !(c.search_min_m.is_finite()
            && c.search_max_m.is_finite()
            && c.step_m.is_finite()
            && c.step_m > 0.0
            && c.search_max_m >= c.search_min_m)
        {
            return Err(bad(
                "calibration",
                "need finite search_min_m ≤ search_max_m and step_m > 0".into(),
            ));
        }
        if !(c.tolerance_pct.is_finite() && c.tolerance_pct > 0.0) {
            return Err(bad(
                "calibration.tolerance_pct",
                "must be a positive percentage".into(),
            ));
        }
        if self.official_for(c.province).is_none() {
            return Err(bad(
                "calibration.province",
                format!(
                    "no [[official]] entry for province {}: the calibration needs its official area",
                    c.province
                ),
            ));
        }
        for (rule, sites) in [
            ("water_source.site", &self.water_source.sites),
            ("wetland.site", &self.wetland.sites),
        ] {
            for s in sites {
                let field = format!("{rule} '{}'", s.name);
                // `contains` is false for NaN, so this also refuses non-finite values.
                if !((-180.0..=180.0).contains(&s.lon) && (-90.0..=90.0).contains(&s.lat)) {
                    return Err(bad(
                        &field,
                        format!("lon {} lat {} is not a position in degrees", s.lon, s.lat),
                    ));
                }
                match (s.extent, s.area_km2) {
                    (Extent::Disc, None) => {
                        return Err(bad(&field, "extent = \"disc\" needs area_km2".into()))
                    }
                    (_, Some(a)) if !(a.is_finite() && a > 0.0) => {
                        return Err(bad(&field, format!("area_km2 {a} must be positive")))
                    }
                    _ => {}
                }
                if let Some(p) = &s.storage_m3 {
                    p.check(path, &format!("{field}.storage_m3"), 0.0)?;
                }
                if let Some(p) = &s.depth_m {
                    p.check(path, &format!("{field}.depth_m"), 0.0)?;
                }
            }
        }
        Ok(())
    }

    /// The official entry of a province code.
    pub fn official_for(&self, province: u32) -> Option<&OfficialArea> {
        self.officials.iter().find(|o| o.province == province)
    }
}
