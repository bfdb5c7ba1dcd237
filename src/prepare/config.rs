//! The configuration of `haihe prepare`, read from `models/prepare.toml`.
//!
//! Every path is relative to the project root (the folder above `models/`). Every
//! parameter that is an estimate rather than a sourced fact says so in the TOML file.

use crate::{Error, Result};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Everything `haihe prepare` needs to know.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrepareConfig {
    /// The model domain.
    pub domain: DomainConfig,
    /// The DEM and how to resample it.
    pub dem: DemConfig,
    /// River lines burned into the DEM.
    pub burn: BurnConfig,
    /// Walls along basin outlines.
    pub walls: WallConfig,
    /// The sea.
    pub sea: SeaConfig,
    /// Stream extraction.
    pub streams: StreamConfig,
    /// Vector layers: counties, lakes, places.
    pub layers: LayerConfig,
    /// Reservoirs flattened at pool level (GRanD dam points).
    #[serde(default, rename = "reservoir")]
    pub reservoirs: Vec<ReservoirConfig>,
    /// Lakes given as polygons (Natural Earth), flattened at a level.
    #[serde(default, rename = "lake")]
    pub lakes: Vec<LakeConfig>,
    /// Points whose upstream area is checked against a published value.
    #[serde(default, rename = "gauge")]
    pub gauges: Vec<GaugeConfig>,
    /// The three river systems and the shared lower plain in `basins.tif`.
    pub basins: BasinsConfig,
}

/// The model domain: a lon/lat box projected to a metric CRS and snapped to whole cells.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DomainConfig {
    /// West edge, degrees east.
    pub lon_min: f64,
    /// South edge, degrees north.
    pub lat_min: f64,
    /// East edge, degrees east.
    pub lon_max: f64,
    /// North edge, degrees north.
    pub lat_max: f64,
    /// EPSG code of the model CRS (32650 = WGS 84 / UTM 50N).
    pub epsg: u32,
    /// Cell size in metres (the default resolution; `--resolution` overrides it).
    pub cell_m: f64,
}

/// The DEM source.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemConfig {
    /// One or more GDAL rasters (tiles are mosaicked); `--dem` overrides them.
    pub paths: Vec<PathBuf>,
    /// Resampling onto the model grid: "bilinear", "average" or "nearest".
    pub resample: String,
}

/// One vector layer of river lines to burn.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiverLayer {
    /// Path to the layer (GeoJSON or any OGR format).
    pub path: PathBuf,
    /// Optional numeric field to filter on (e.g. GSHHG `wdb2_level`).
    pub field: Option<String>,
    /// Keep features whose `field` is at most this value.
    pub max_value: Option<f64>,
    /// Keep features whose `field` is one of these (for named rivers).
    pub values: Option<Vec<String>>,
    /// Extra drop on this layer's lines, m (default: `burn.sharp_drop_m`).
    pub sharp_drop_m: Option<f64>,
    /// Why this layer is used, and how far to trust its course.
    pub note: Option<String>,
}

/// AGREE-style burn parameters (see `conditioning`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BurnConfig {
    /// Layers of river lines.
    pub layers: Vec<RiverLayer>,
    /// Drop applied on the line and tapered over the buffer, m.
    pub smooth_drop_m: f64,
    /// Extra drop on the line only, m.
    pub sharp_drop_m: f64,
    /// Buffer width over which the smooth drop tapers to zero, cells.
    pub buffer_cells: usize,
}

/// Walls along basin outlines.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WallConfig {
    /// The Hai basin outline (one polygon).
    pub basin_path: PathBuf,
    /// The sub-basin polygons (field `name`).
    pub subbasin_path: PathBuf,
    /// Sub-basins whose outline gets a wall (names as in the layer).
    pub fence: Vec<String>,
    /// How much a wall cell is raised, m.
    pub height_m: f64,
    /// No wall within this many cells of the sea.
    pub coast_gap_cells: usize,
}

/// The sea.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeaConfig {
    /// Sea level, m.
    pub level_m: f64,
    /// Cells outside the county layer at or below this elevation, connected to the open
    /// sea, are sea.
    pub max_elevation_m: f64,
}

/// Stream extraction.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamConfig {
    /// Upstream area above which a cell is a stream, km².
    pub threshold_km2: f64,
}

/// Vector layers used by the build.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerConfig {
    /// County polygons (fields `district_adcode`, `district_name`, `city_name`,
    /// `province_name`, `lon`, `lat`).
    pub counties: PathBuf,
    /// Populated places (GeoNames points with `population`).
    pub places: PathBuf,
    /// The 2020 census county table.
    pub census: PathBuf,
    /// Where each development-zone row of the census goes.
    pub census_zones: PathBuf,
    /// Land-cover thresholds.
    pub land_cover: PathBuf,
    /// Group definitions (TOML files).
    pub groups: Vec<PathBuf>,
    /// Basic PGA per county (GB 18306-2015), for `pga_zone.tif`.
    #[serde(default = "pga_zone_table")]
    pub pga_zone: PathBuf,
    /// Ecological red-line rules (`models/ecology.toml`); without it no red line is built.
    #[serde(default)]
    pub ecology: Option<PathBuf>,
}

fn pga_zone_table() -> PathBuf {
    PathBuf::from(crate::seismic::zoning::ZONE_TABLE)
}

/// A reservoir flattened at its pool level, grown from the GRanD dam point.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReservoirConfig {
    /// Name (Chinese).
    pub name: String,
    /// Dam longitude, degrees east.
    pub lon: f64,
    /// Dam latitude, degrees north.
    pub lat: f64,
    /// Pool level used for the flat surface, m; when absent, the lowest DEM value of
    /// the grown extent.
    pub pool_level_m: Option<f64>,
    /// Water area at that level, km² (the growth stops there).
    pub area_km2: f64,
    /// Published catchment area, km² (used to snap the dam to the river).
    pub catchment_km2: f64,
    /// A wetland (白洋淀) rather than open water, for the land cover.
    #[serde(default)]
    pub wetland: bool,
    /// Where the numbers come from.
    pub source: String,
}

/// A lake polygon flattened at a level.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LakeConfig {
    /// Name.
    pub name: String,
    /// Layer holding the polygon.
    pub path: PathBuf,
    /// A point inside the wanted polygon (lon, lat), to pick it from the layer.
    pub lon: f64,
    /// Latitude of that point.
    pub lat: f64,
    /// Flat level, m; when absent, the lowest DEM value inside the polygon.
    pub level_m: Option<f64>,
    /// Where the level comes from.
    pub source: String,
}

/// A point whose catchment is checked against a published area.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GaugeConfig {
    /// Name (Chinese).
    pub name: String,
    /// Longitude, degrees east.
    pub lon: f64,
    /// Latitude, degrees north.
    pub lat: f64,
    /// Published catchment area, km².
    pub published_km2: f64,
    /// Search radius for snapping to the river, cells.
    pub snap_radius_cells: usize,
    /// Whether the point is one of the acceptance checks (false: shown for context,
    /// e.g. a dam that closes only one arm of a reservoir).
    #[serde(default = "yes")]
    pub checked: bool,
    /// Where the point and the area come from.
    pub source: String,
}

/// How `basins.tif` is labelled.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasinsConfig {
    /// Sub-basin names making up 北三河 (label 1).
    pub beisanhe: Vec<String>,
    /// Sub-basin names making up 永定河 (label 2).
    pub yongding: Vec<String>,
    /// Sub-basin names making up 大清河 (label 3).
    pub daqing: Vec<String>,
    /// Sub-basin names making up the shared lower plain 海河下游 (label 4).
    pub lower_plain: Vec<String>,
    /// Upstream area from which a river keeps its system across polygon lines, km².
    pub trunk_km2: f64,
}

fn yes() -> bool {
    true
}

impl PrepareConfig {
    /// Reads and checks `models/prepare.toml`.
    pub fn load(path: &Path) -> Result<Self> {
        let cfg: PrepareConfig = crate::error::read_toml(
            path,
            "run from the project root, or pass --config models/prepare.toml",
        )?;
        cfg.check(path)?;
        Ok(cfg)
    }

    fn check(&self, path: &Path) -> Result<()> {
        let bad = |field: &str, message: &str| Error::Invalid {
            path: path.to_path_buf(),
            field: field.into(),
            message: message.into(),
        };
        let d = &self.domain;
        if !(d.lon_min < d.lon_max && d.lat_min < d.lat_max) {
            return Err(bad(
                "domain",
                "lon_min < lon_max and lat_min < lat_max are required",
            ));
        }
        if !(d.cell_m > 0.0 && d.cell_m.is_finite()) {
            return Err(bad("domain.cell_m", "must be a positive number of metres"));
        }
        if self.dem.paths.is_empty() {
            return Err(bad("dem.paths", "give at least one DEM raster"));
        }
        if !matches!(
            self.dem.resample.as_str(),
            "bilinear" | "average" | "nearest"
        ) {
            return Err(bad(
                "dem.resample",
                "use \"bilinear\", \"average\" or \"nearest\"",
            ));
        }
        if self.streams.threshold_km2 <= 0.0 {
            return Err(bad("streams.threshold_km2", "must be positive"));
        }
        Ok(())
    }
}
