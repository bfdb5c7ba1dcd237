//! The model-grid build (`haihe prepare`): from the real data in `rasters/source/` to
//! the grids in `rasters/model/` that every hazard computation stands on.
//!
//! Everything is written first into a staging folder beside the outputs and moved into
//! place only when the whole build has succeeded, so a failed build leaves
//! `rasters/model/` as it was.

pub mod build;
pub mod conditioning;
pub mod config;
pub mod counties;
pub mod land_cover;
pub mod people;
pub mod population;
pub mod systems;

pub use build::{build_terrain, CatchmentCheck, TerrainGrids};
pub use config::PrepareConfig;

use crate::grid::io::write_geotiff;
use crate::staging::Staged;
use crate::{Error, Result};
use std::path::{Path, PathBuf};

/// Options of one `haihe prepare` run.
#[derive(Debug, Clone)]
pub struct PrepareOptions {
    /// `models/prepare.toml`.
    pub config: PathBuf,
    /// The project root (paths in the config are relative to it).
    pub root: PathBuf,
    /// Where the grids go (`rasters/model`).
    pub out_dir: PathBuf,
    /// Cell size override, m.
    pub resolution_m: Option<f64>,
    /// DEM override: one or more GDAL rasters.
    pub dem: Option<Vec<PathBuf>>,
}

/// What a build produced: the files written and the checks to show the user.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PrepareReport {
    /// Files written into the output folder.
    pub files: Vec<String>,
    /// Steps taken, in order.
    pub log: Vec<String>,
    /// Catchment areas against published values.
    pub catchments: Vec<CatchmentCheck>,
    /// River-system areas by drainage and by polygon.
    pub system_areas: Vec<build::SystemArea>,
}

/// Runs the whole build and moves the outputs into place.
pub fn run(opts: &PrepareOptions) -> Result<PrepareReport> {
    let cfg = PrepareConfig::load(&opts.config)?;
    let t = build_terrain(&cfg, &opts.root, opts.dem.as_deref(), opts.resolution_m)?;
    let mut stage = Staged::new(&opts.out_dir)?;
    let g = |data, nodata| build::on_grid(&t.spec, data, nodata);
    write_geotiff(
        &g(t.dem_source.clone(), None),
        &stage.path("dem_source.tif"),
    )?;
    write_geotiff(&g(t.dem.clone(), None), &stage.path("dem.tif"))?;
    write_geotiff(&g(t.filled.clone(), None), &stage.path("filled.tif"))?;
    write_geotiff(
        &g_u8(&t, t.flow_dir.clone(), Some(255.0)),
        &stage.path("flow_dir.tif"),
    )?;
    write_geotiff(
        &g(t.flow_acc_km2.clone(), None),
        &stage.path("flow_acc.tif"),
    )?;
    write_geotiff(
        &g_u8(&t, t.streams.clone(), None),
        &stage.path("streams.tif"),
    )?;
    write_geotiff(&g(t.hand.clone(), None), &stage.path("hand.tif"))?;
    write_geotiff(&g_u8(&t, t.basins.clone(), None), &stage.path("basins.tif"))?;
    write_geotiff(
        &g_u8(&t, t.sea.mapv(u8::from), None),
        &stage.path("sea.tif"),
    )?;
    write_catchments_csv(&t.catchments, &stage.path("catchments.csv"))?;
    let p = people::build_people(&cfg, &opts.root, &t)?;
    write_geotiff(&g_i32(&t, p.counties.clone()), &stage.path("counties.tif"))?;
    counties::write_counties_csv(&stage.path("counties.csv"), &p.county_records)?;
    let seats = p
        .county_records
        .iter()
        .map(|c| crate::seismic::zoning::CountySeat {
            adcode: c.adcode,
            name: c.name.clone(),
            lon: c.seat_lon,
            lat: c.seat_lat,
        });
    crate::seismic::zoning::write_zone_files(
        &build::resolve(&opts.root, &cfg.layers.pga_zone),
        &g_i32(&t, p.counties.clone()),
        &seats.collect::<Vec<_>>(),
        &stage.path("pga_zone.tif"),
        &stage.path("pga_zone_source.csv"),
    )?;
    write_geotiff(
        &g(p.population.clone(), None),
        &stage.path("population.tif"),
    )?;
    write_geotiff(
        &g_u8(&t, p.land_cover.clone(), Some(0.0)),
        &stage.path("land_cover.tif"),
    )?;
    let bands: Vec<(String, crate::Grid<u8>)> = p
        .group_masks
        .iter()
        .map(|(grp, m)| (grp.id.clone(), g_u8(&t, m.mapv(u8::from), None)))
        .collect();
    let band_refs: Vec<(&str, &crate::Grid<u8>)> =
        bands.iter().map(|(n, gr)| (n.as_str(), gr)).collect();
    crate::grid::io::write_geotiff_bands(&band_refs, &stage.path("groups.tif"))?;
    crate::groups::write_groups_csv(&stage.path("groups.csv"), &p.group_rows)?;
    let mut log = t.log.clone();
    log.extend(p.log.iter().cloned());
    match &cfg.layers.ecology {
        Some(eco_cfg) => {
            let eco_paths = crate::ecology::RedlinePaths {
                raster: stage.path("redline.tif"),
                summary: stage.path("redline_summary.csv"),
                sites: stage.path("redline_sites.csv"),
            };
            let eco_cfg = build::resolve(&opts.root, eco_cfg);
            log.extend(ecology_step(opts, &eco_cfg, &t, &p, &eco_paths)?);
        }
        None => log.push("red line: no [layers] ecology in the configuration, not built".into()),
    }
    let mut report = PrepareReport {
        files: Vec::new(),
        log,
        catchments: t.catchments.clone(),
        system_areas: t.system_areas.clone(),
    };
    let json = serde_json::to_string_pretty(&report).map_err(|e| Error::Data(e.to_string()))?;
    let p = stage.path("prepare.json");
    std::fs::write(&p, json).map_err(|e| Error::io(&p, e))?;
    report.files = stage.commit()?;
    Ok(report)
}

/// The ecological red line (`crate::ecology`) on the grids just built.
fn ecology_step(
    opts: &PrepareOptions,
    cfg_path: &Path,
    t: &TerrainGrids,
    p: &people::PeopleGrids,
    out: &crate::ecology::RedlinePaths,
) -> Result<Vec<String>> {
    let inputs = crate::ecology::EcologyInputs {
        spec: t.spec.clone(),
        dem_m: t.dem_source.clone(),
        land_cover: p.land_cover.clone(),
        counties: p.counties.clone(),
        streams: t.streams.clone(),
        flow_acc_km2: t.flow_acc_km2.clone(),
        sea: t.sea.clone(),
    };
    let zones = crate::ecology::Zones {
        counties_grid: p.counties.clone(),
        counties: p
            .county_records
            .iter()
            .map(|c| crate::ecology::County {
                adcode: c.adcode as i32,
                name: c.name.clone(),
                province: c.province.clone(),
            })
            .collect(),
        groups: p
            .group_masks
            .iter()
            .map(|(g, m)| crate::ecology::NamedGroup {
                id: g.id.clone(),
                name: g.name.clone(),
                mask: m.clone(),
            })
            .collect(),
    };
    crate::ecology::build_and_write(&inputs, &zones, cfg_path, &opts.root, out)
}

fn g_i32(t: &TerrainGrids, data: ndarray::Array2<i32>) -> crate::Grid<i32> {
    build::on_grid(&t.spec, data, Some(0.0))
}

fn g_u8(t: &TerrainGrids, data: ndarray::Array2<u8>, nodata: Option<f64>) -> crate::Grid<u8> {
    build::on_grid(&t.spec, data, nodata)
}

/// Writes the catchment comparison as CSV.
pub fn write_catchments_csv(rows: &[CatchmentCheck], path: &Path) -> Result<()> {
    let mut w = csv::Writer::from_path(path)
        .map_err(|e| Error::Data(format!("{}: {e}", path.display())))?;
    crate::escape::write_serialized(&mut w, rows)
        .map_err(|e| Error::Data(format!("{}: {e}", path.display())))?;
    w.flush().map_err(|e| Error::io(path, e))
}
