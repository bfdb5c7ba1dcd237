//! Ecological protection red lines (生态保护红线): a documented proxy layer, its
//! calibration on Beijing, per-zone red-line area, share and wetland storage, and the
//! red-line exposure to a hazard.
//!
//! The official red-line polygons are not public here, so `redline.tif` is built by
//! rules from the model grids and named sites (`models/ecology.toml`, every value with
//! its basis), after the types the official delineations name (北京市划定生态保护红线,
//! 2018: 水源涵养, 水土保持, 生物多样性维护, 重要河流湿地; 天津: 蓟州山地, 七里海—大黄堡 and
//! 团泊洼—北大港 wetlands):
//!
//! 1. **water source** — named drinking-water reservoirs (their water body as grown by
//!    `haihe prepare`, or a point where the grid has none) plus a protection buffer;
//! 2. **wetland** — named wetlands (water body, or a disc of the reserve's area) and the
//!    wetland class of the land cover (白洋淀);
//! 3. **mountain forest** — land at or above an elevation threshold with a Horn (1981)
//!    slope at or above a slope threshold, not urban and not water;
//! 4. **river corridor** — stream cells with a large upstream area.
//!
//! A cell takes the lowest code whose rule it meets; only land (inside a county, not
//! sea) is red line. The elevation threshold is **calibrated on Beijing**, which the
//! domain covers whole, by a deterministic scan ([`calibrate`]) so that the proxy's
//! area matches the official 4,290 km²; the same rules, untouched, then give Tianjin's
//! area as an independent check, and Hebei's area inside the domain.
//!
//! A user's official polygon layer (`[official_layer]` in the config, any OGR format)
//! replaces the proxy: its polygons are rasterised by the cell-centre rule as class 9.
//!
//! Kernels ([`rules`], [`zones::redline_exposed`]) take arrays and do no I/O; [`build`]
//! reads the model grids and writes the outputs.
//!
//! # References
//! * Horn, B. K. P. (1981), Hill shading and the reflectance map, Proc. IEEE 69(1), 14–47.
//! * 北京市划定生态保护红线 (2018-07-13), <http://www.71.cn/2018/0713/1009086.shtml>
//! * 天津划定1393平方公里生态保护红线 (中国自然资源报 2018-09-10),
//!   <http://www.shgtj.gov.cn/xwdt/hyxw/201809/t20180910_862397.html>

pub mod build;
pub mod config;
pub mod rules;
pub mod zones;

pub use build::{
    build_redline, calibrate, summarize, write_sites_csv, write_summary_csv, EcologyInputs,
    Redline, SiteExtent, SummaryRow,
};
pub use config::EcologyConfig;
pub use rules::{Calibration, RedlineClass};
pub use zones::{redline_exposed, County, NamedGroup, ZoneArea, ZoneKind, Zones};

use crate::Result;
use std::path::{Path, PathBuf};

/// The bundled red-line rules, relative to the project root (`[layers] ecology` of
/// `models/prepare.toml` names them for `haihe prepare`).
pub const CONFIG_PATH: &str = "models/ecology.toml";

/// The three output files of the red-line build, in a folder.
#[derive(Debug, Clone)]
pub struct RedlinePaths {
    /// `redline.tif`: u8 classes (0 none, 1 water source, 2 wetland, 3 mountain forest,
    /// 4 river corridor, 9 official layer).
    pub raster: PathBuf,
    /// `redline_summary.csv`: per province, county and group.
    pub summary: PathBuf,
    /// `redline_sites.csv`: the located reservoirs and wetlands with their storage.
    pub sites: PathBuf,
}

/// Builds the red line and its summary and writes the three files (each atomically).
/// Returns the log lines.
pub fn build_and_write(
    inputs: &EcologyInputs,
    zones: &Zones,
    cfg_path: &Path,
    root: &Path,
    out: &RedlinePaths,
) -> Result<Vec<String>> {
    let cfg = EcologyConfig::load(cfg_path)?;
    let red = build_redline(inputs, &cfg, cfg_path, root)?;
    let rows = summarize(&red, zones, &cfg)?;
    crate::grid::io::write_geotiff(&red.classes, &out.raster)?;
    write_summary_csv(&out.summary, &rows)?;
    write_sites_csv(&out.sites, &red.sites, red.classes.cell_area() / 1e6)?;
    let mut log = red.log;
    for r in rows.iter().filter(|r| r.kind == ZoneKind::Province) {
        log.push(format!(
            "red line {}: {:.0} km² ({:.1} % of {:.0} km² on the grid){}",
            r.name,
            r.redline_km2,
            r.share * 100.0,
            r.zone_km2,
            r.official_km2
                .map(|o| format!(", official {o:.0} km²"))
                .unwrap_or_default()
        ));
    }
    Ok(log)
}
