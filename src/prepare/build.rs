//! The terrain part of `haihe prepare`: DEM onto the model grid, conditioning, drainage,
//! river systems and the catchment check. Counties, population, land cover and groups
//! follow in [`super::run`].

use super::conditioning as cond;
use super::config::{GaugeConfig, PrepareConfig};
use super::systems;
use crate::grid::vector::{self, Feature, Geometry};
use crate::grid::warp::{self, GridSpec, Resample};
use crate::grid::Grid;
use crate::terrain;
use crate::{Error, Result};
use ndarray::{Array2, Zip};
use std::path::{Path, PathBuf};

/// The terrain grids of the model, all on one [`GridSpec`].
pub struct TerrainGrids {
    /// The model grid.
    pub spec: GridSpec,
    /// The DEM resampled onto the grid, not conditioned, m.
    pub dem_source: Array2<f64>,
    /// The conditioned DEM (burned, walled, lakes flat, sea level), m.
    pub dem: Array2<f64>,
    /// Priority-Flood+ε filled conditioned DEM, m.
    pub filled: Array2<f64>,
    /// D8 directions (ESRI codes, 0 outlet, 255 no-data).
    pub flow_dir: Array2<u8>,
    /// Upstream area, km² (own cell included).
    pub flow_acc_km2: Array2<f64>,
    /// 1 on streams.
    pub streams: Array2<u8>,
    /// Height above nearest drainage on the unconditioned DEM, m.
    pub hand: Array2<f64>,
    /// River systems: 1 北三河, 2 永定河, 3 大清河, 4 海河下游, 0 outside.
    pub basins: Array2<u8>,
    /// Sea cells.
    pub sea: Array2<bool>,
    /// Lake and reservoir cells.
    pub water: Array2<bool>,
    /// Wetland cells (reservoir entries marked `wetland`, e.g. 白洋淀).
    pub wetland: Array2<bool>,
    /// Cells inside a county polygon (land).
    pub land: Array2<bool>,
    /// What was done, for the run report.
    pub log: Vec<String>,
    /// Catchment check at the gauges.
    pub catchments: Vec<CatchmentCheck>,
    /// Area of each river system from drainage and from the polygons, km².
    pub system_areas: Vec<SystemArea>,
}

/// One row of the catchment comparison.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CatchmentCheck {
    /// Gauge or dam name.
    pub name: String,
    /// Given position.
    pub lon: f64,
    /// Given position.
    pub lat: f64,
    /// Published area, km².
    pub published_km2: f64,
    /// Upstream area at the cell holding the point, km².
    pub at_point_km2: f64,
    /// Upstream area at the snapped river cell, km².
    pub snapped_km2: f64,
    /// Distance from the point to the snapped cell, km.
    pub snap_distance_km: f64,
    /// (snapped − published) / published, %.
    pub error_pct: f64,
    /// Source of the point and the area.
    pub source: String,
    /// Whether this row is an acceptance check (see the configuration).
    pub checked: bool,
}

/// Area of a river system by drainage and by the sub-basin polygons.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SystemArea {
    /// Label in basins.tif.
    pub label: u8,
    /// Name.
    pub name: String,
    /// Cells labelled by drainage × cell area, km².
    pub drainage_km2: f64,
    /// Area of the sub-basin polygons making up the system (geometry, not the AREA
    /// attribute), clipped to the grid, km².
    pub polygons_km2: f64,
}

fn resample_of(name: &str) -> Resample {
    match name {
        "average" => Resample::Average,
        "nearest" => Resample::Nearest,
        _ => Resample::Bilinear,
    }
}

/// Polygons of a layer as a boolean mask (cell centre inside).
fn polygon_mask(features: &[Feature], spec: &GridSpec) -> Result<Array2<bool>> {
    let values = vec![1.0; features.len()];
    let g = vector::rasterize_polygons(features, &values, spec)?;
    Ok(g.data.mapv(|v| !v.is_nan()))
}

/// A path as the user wrote it, relative to the project root where possible, for logs.
fn rel(root: &Path, p: &Path) -> String {
    p.strip_prefix(root).unwrap_or(p).display().to_string()
}

/// Resolves a config path against the project root.
pub fn resolve(root: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        root.join(p)
    }
}

/// Builds the terrain grids. `dem_override` replaces the configured DEM (any GDAL
/// rasters, mosaicked), `cell_m` the configured resolution.
pub fn build_terrain(
    cfg: &PrepareConfig,
    root: &Path,
    dem_override: Option<&[PathBuf]>,
    cell_m: Option<f64>,
) -> Result<TerrainGrids> {
    let mut log = Vec::new();
    let d = &cfg.domain;
    let cell = cell_m.unwrap_or(d.cell_m);
    let spec = GridSpec::covering_lonlat(d.lon_min, d.lat_min, d.lon_max, d.lat_max, d.epsg, cell)?;
    log.push(format!(
        "grid: EPSG:{} {} x {} cells of {} m",
        d.epsg, spec.cols, spec.rows, cell
    ));
    let cell_area_m2 = cell * cell;
    let cell_km2 = cell_area_m2 / 1e6;

    // 1. DEM onto the grid.
    let dem_paths: Vec<PathBuf> = match dem_override {
        Some(p) => p.to_vec(),
        None => cfg.dem.paths.iter().map(|p| resolve(root, p)).collect(),
    };
    let dem_grid = warp::warp_files(&dem_paths, &spec, resample_of(&cfg.dem.resample))?;
    let missing = dem_grid.data.iter().filter(|v| v.is_nan()).count();
    if missing > 0 {
        let names: Vec<String> = dem_paths.iter().map(|p| p.display().to_string()).collect();
        return Err(Error::Data(format!(
            "{}: the DEM leaves {missing} of {} model cells without data (no coverage or no-data values). \
             Supply a DEM, or more tiles, covering lon {}–{} E, lat {}–{} N with no holes (fill voids first, e.g. gdal_fillnodata.py)",
            names.join(", "),
            spec.rows * spec.cols,
            d.lon_min,
            d.lon_max,
            d.lat_min,
            d.lat_max
        )));
    }
    let dem_source = dem_grid.data;
    log.push(format!(
        "dem: {} resampled ({})",
        dem_paths
            .iter()
            .map(|p| rel(root, p))
            .collect::<Vec<_>>()
            .join(", "),
        cfg.dem.resample
    ));

    // 2. Vector layers on the grid.
    let crs = spec.crs_wkt.clone();
    let counties = vector::read_layer(&resolve(root, &cfg.layers.counties), Some(&crs))?;
    let land = polygon_mask(&counties, &spec)?;
    let mut rivers = Array2::from_elem((spec.rows, spec.cols), false);
    let mut sharp = Array2::<f64>::zeros((spec.rows, spec.cols));
    for layer in &cfg.burn.layers {
        let path = resolve(root, &layer.path);
        let feats = vector::read_layer(&path, Some(&crs))?;
        let kept: Vec<Feature> = feats
            .into_iter()
            .filter(|f| match (&layer.field, layer.max_value, &layer.values) {
                (Some(field), Some(max), _) => f
                    .fields
                    .get(field)
                    .and_then(|v| v.parse::<f64>().ok())
                    .is_some_and(|v| v <= max),
                (Some(field), None, Some(values)) => {
                    f.fields.get(field).is_some_and(|v| values.contains(v))
                }
                _ => true,
            })
            .filter(|f| matches!(f.geometry, Geometry::Lines(_)))
            .collect();
        if kept.is_empty() {
            return Err(Error::Invalid {
                path: path.clone(),
                field: "burn.layers".into(),
                message: "no line feature passes the layer's filter; check `field`, `max_value` and `values`".into(),
            });
        }
        let drop = layer.sharp_drop_m.unwrap_or(cfg.burn.sharp_drop_m);
        let g = vector::rasterize_lines(&kept, &vec![1.0; kept.len()], &spec)?;
        Zip::from(&mut rivers)
            .and(&mut sharp)
            .and(&g.data)
            .for_each(|r, s, &v| {
                if !v.is_nan() {
                    *r = true;
                    *s = s.max(drop);
                }
            });
        log.push(format!(
            "burn: {} lines from {} ({} m)",
            kept.len(),
            rel(root, &path),
            drop
        ));
    }
    let sea = cond::sea_mask(dem_source.view(), land.view(), cfg.sea.max_elevation_m);
    // Rivers stop at the coast, and short of the grid edge: Priority-Flood seeds the
    // edge at its own elevation, so a burned trench reaching the edge would become an
    // outlet far below sea level and steal the rivers from the sea.
    Zip::from(&mut rivers).and(&sea).for_each(|r, &s| *r &= !s);
    let gap = cfg.burn.buffer_cells + 1;
    for ((r, c), v) in rivers.indexed_iter_mut() {
        if r < gap || c < gap || r + gap >= spec.rows || c + gap >= spec.cols {
            *v = false;
        }
    }

    // 3. Conditioning.
    let mut dem = cond::burn_streams(
        dem_source.view(),
        rivers.view(),
        cfg.burn.smooth_drop_m,
        sharp.view(),
        cfg.burn.buffer_cells,
    );
    let breach = cond::dilate8(rivers.view());
    let hai = vector::read_layer(&resolve(root, &cfg.walls.basin_path), Some(&crs))?;
    let hai_mask = polygon_mask(&hai, &spec)?;
    // The Hai outline: a wall on both sides keeps the closed basins out and the Hai in.
    let outside_hai = hai_mask.mapv(|v| !v);
    let mut wall = cond::inner_boundary(hai_mask.view());
    // No wall near the coast, where the generalised outline and the coastline disagree
    // and a wall would cut the rivers off from the sea.
    let coast = cond::chamfer_distance_cells(sea.view(), cfg.walls.coast_gap_cells as f64);
    Zip::from(&mut wall)
        .and(&cond::inner_boundary(outside_hai.view()))
        .and(&coast)
        .for_each(|w, &o, &dc| *w = (*w || o) && !dc.is_finite());
    // The Hai outline has no river crossing it except at the sea: no breaches there.
    let no_breach = Array2::from_elem((spec.rows, spec.cols), false);
    let n_hai = cond::raise_walls(&mut dem, wall.view(), no_breach.view(), cfg.walls.height_m);
    log.push(format!(
        "walls: Hai basin outline, {n_hai} cells raised by {} m",
        cfg.walls.height_m
    ));
    let subbasins = vector::read_layer(&resolve(root, &cfg.walls.subbasin_path), Some(&crs))?;
    for name in &cfg.walls.fence {
        let feats: Vec<Feature> = subbasins
            .iter()
            .filter(|f| f.fields.get("name") == Some(name))
            .cloned()
            .collect();
        if feats.is_empty() {
            return Err(Error::Invalid {
                path: resolve(root, &cfg.walls.subbasin_path),
                field: "walls.fence".into(),
                message: format!("no sub-basin named '{name}' in the layer"),
            });
        }
        let m = polygon_mask(&feats, &spec)?;
        let w = cond::inner_boundary(m.view());
        let n = cond::raise_walls(&mut dem, w.view(), breach.view(), cfg.walls.height_m);
        log.push(format!(
            "walls: sub-basin {name}, {n} cells raised (breached where rivers cross)"
        ));
    }

    // Lakes given as polygons.
    let mut water = Array2::from_elem((spec.rows, spec.cols), false);
    let mut wetland = Array2::from_elem((spec.rows, spec.cols), false);
    for lake in &cfg.lakes {
        let path = resolve(root, &lake.path);
        let feats = vector::read_layer(&path, Some(&crs))?;
        let pt = warp::transform_points(
            &[(lake.lon, lake.lat)],
            &crate::grid::io::epsg_wkt(4326)?,
            &crs,
        )?[0];
        let hit: Vec<Feature> = feats
            .into_iter()
            .filter(|f| match &f.geometry {
                Geometry::Polygons(polys) => vector::point_in_polygons(polys, pt),
                _ => false,
            })
            .collect();
        if hit.is_empty() {
            return Err(Error::Invalid {
                path: path.clone(),
                field: format!("lake '{}'", lake.name),
                message: format!("no polygon contains lon {} lat {}", lake.lon, lake.lat),
            });
        }
        let m = polygon_mask(&hit, &spec)?;
        let level = lake.level_m.unwrap_or_else(|| {
            m.iter()
                .zip(dem_source.iter())
                .filter(|(&i, _)| i)
                .map(|(_, &z)| z)
                .fold(f64::INFINITY, f64::min)
        });
        let mut n = 0;
        Zip::from(&mut dem)
            .and(&m)
            .and(&mut water)
            .for_each(|z, &i, w| {
                if i {
                    *z = level;
                    *w = true;
                    n += 1;
                }
            });
        log.push(format!(
            "lake {}: {n} cells flat at {level:.1} m",
            lake.name
        ));
    }
    // The sea at sea level.
    Zip::from(&mut dem).and(&sea).for_each(|z, &s| {
        if s {
            *z = cfg.sea.level_m;
        }
    });

    // 4. Reservoirs: a first drainage pass finds each dam's catchment; the reservoir
    //    grows lowest-first inside it from the dam cell.
    if !cfg.reservoirs.is_empty() {
        let (_, dir, acc) = drainage(&dem, &sea, cell, cell_area_m2)?;
        let wgs84 = crate::grid::io::epsg_wkt(4326)?;
        let pts: Vec<(f64, f64)> = cfg.reservoirs.iter().map(|r| (r.lon, r.lat)).collect();
        let xy = warp::transform_points(&pts, &wgs84, &crs)?;
        for (res, &(x, y)) in cfg.reservoirs.iter().zip(&xy) {
            let Some((r, c)) = cell_of(&spec, x, y) else {
                log.push(format!(
                    "reservoir {}: dam outside the grid, skipped",
                    res.name
                ));
                continue;
            };
            let (sr, sc) = terrain::snap_to_stream(acc.view(), r, c, 3, Some(res.catchment_km2))?;
            let up = terrain::upstream_mask(dir.view(), sr, sc)?;
            let target = (res.area_km2 / cell_km2).round().max(1.0) as usize;
            let grow_level = res.pool_level_m.unwrap_or(f64::INFINITY);
            let lake =
                cond::grow_reservoir(dem.view(), up.view(), (sr, sc), grow_level, target, target);
            let level = res.pool_level_m.unwrap_or_else(|| {
                Zip::from(&lake)
                    .and(&dem_source)
                    .fold(f64::INFINITY, |m, &i, &z| if i { m.min(z) } else { m })
            });
            // A lake never raises the ground: where the coarse DEM (or a burned river)
            // lies below the pool level, it stays as the lake bed.
            let mut n = 0;
            let kind = if res.wetland {
                &mut wetland
            } else {
                &mut water
            };
            Zip::from(&mut dem)
                .and(&lake)
                .and(kind)
                .for_each(|z, &i, w| {
                    if i {
                        *z = z.min(level);
                        *w = true;
                        n += 1;
                    }
                });
            log.push(format!(
                "reservoir {}: {n} cells flat at {level:.1} m (dam snapped {:.1} km, upstream {:.0} km² at first pass)",
                res.name,
                ((sr as f64 - r as f64).hypot(sc as f64 - c as f64)) * cell / 1000.0,
                acc[[sr, sc]]
            ));
        }
    }

    // 5. Final drainage.
    let (filled, flow_dir, flow_acc_km2) = drainage(&dem, &sea, cell, cell_area_m2)?;
    let streams = terrain::extract_streams(flow_acc_km2.view(), cfg.streams.threshold_km2);
    let hand =
        terrain::height_above_nearest_drainage(dem_source.view(), flow_dir.view(), streams.view())?;

    // 6. River systems.
    let mut poly_sys = hai_mask.mapv(|v| if v { systems::OTHER_HAI } else { 0 });
    for (label, names) in [
        (1u8, &cfg.basins.beisanhe),
        (2, &cfg.basins.yongding),
        (3, &cfg.basins.daqing),
        (systems::LOWER_PLAIN, &cfg.basins.lower_plain),
    ] {
        let feats: Vec<Feature> = subbasins
            .iter()
            .filter(|f| f.fields.get("name").is_some_and(|n| names.contains(n)))
            .cloned()
            .collect();
        let m = polygon_mask(&feats, &spec)?;
        Zip::from(&mut poly_sys).and(&m).for_each(|p, &i| {
            if i {
                *p = label;
            }
        });
    }
    // The sea is outside every system.
    Zip::from(&mut poly_sys).and(&sea).for_each(|p, &s| {
        if s {
            *p = 0;
        }
    });
    let basins = systems::label_river_systems(
        flow_dir.view(),
        poly_sys.view(),
        cell_km2,
        cfg.basins.trunk_km2,
    )?;
    let system_areas = [
        (1u8, "北三河"),
        (2, "永定河"),
        (3, "大清河"),
        (4, "海河下游"),
    ]
    .iter()
    .map(|&(label, name)| SystemArea {
        label,
        name: name.into(),
        drainage_km2: basins.iter().filter(|&&b| b == label).count() as f64 * cell_km2,
        polygons_km2: poly_sys.iter().filter(|&&b| b == label).count() as f64 * cell_km2,
    })
    .collect();

    let catchments = cfg
        .gauges
        .iter()
        .map(|g| check_catchment(g, &spec, &flow_acc_km2))
        .collect::<Result<Vec<_>>>()?;

    Ok(TerrainGrids {
        spec,
        dem_source,
        dem,
        filled,
        flow_dir,
        flow_acc_km2,
        streams,
        hand,
        basins,
        sea,
        water,
        wetland,
        land,
        log,
        catchments,
        system_areas,
    })
}

/// Fill, D8 and accumulation with the sea as a sink.
fn drainage(
    dem: &Array2<f64>,
    sea: &Array2<bool>,
    cell_m: f64,
    cell_area_m2: f64,
) -> Result<(Array2<f64>, Array2<u8>, Array2<f64>)> {
    let filled = terrain::priority_flood_epsilon(dem.view(), Some(sea.view()))?;
    let dir = terrain::d8_flow_directions(filled.view(), cell_m);
    let acc = terrain::upstream_area_km2(dir.view(), cell_area_m2)?;
    Ok((filled, dir, acc))
}

/// Upstream area at a gauge: at the cell holding the point and at the river cell within
/// the snap radius whose upstream area best matches the published one (the usual
/// practice on coarse grids; the snap distance is reported).
pub fn check_catchment(
    g: &GaugeConfig,
    spec: &GridSpec,
    acc: &Array2<f64>,
) -> Result<CatchmentCheck> {
    let wgs84 = crate::grid::io::epsg_wkt(4326)?;
    let (x, y) = warp::transform_points(&[(g.lon, g.lat)], &wgs84, &spec.crs_wkt)?[0];
    let (r, c) = cell_of(spec, x, y).ok_or_else(|| {
        Error::Data(format!(
            "gauge {} at lon {} lat {} lies outside the model grid",
            g.name, g.lon, g.lat
        ))
    })?;
    let (sr, sc) =
        terrain::snap_to_stream(acc.view(), r, c, g.snap_radius_cells, Some(g.published_km2))?;
    let cell_km = spec.transform.dx.abs() / 1000.0;
    let snapped = acc[[sr, sc]];
    Ok(CatchmentCheck {
        name: g.name.clone(),
        lon: g.lon,
        lat: g.lat,
        published_km2: g.published_km2,
        at_point_km2: acc[[r, c]],
        snapped_km2: snapped,
        snap_distance_km: (sr as f64 - r as f64).hypot(sc as f64 - c as f64) * cell_km,
        error_pct: (snapped - g.published_km2) / g.published_km2 * 100.0,
        source: g.source.clone(),
        checked: g.checked,
    })
}

/// The cell of `spec` holding map coordinate (x, y), if inside.
fn cell_of(spec: &GridSpec, x: f64, y: f64) -> Option<(usize, usize)> {
    let (r, c) = spec.transform.fractional_index(x, y);
    (r >= 0.0 && c >= 0.0 && r < spec.rows as f64 && c < spec.cols as f64)
        .then_some((r as usize, c as usize))
}

/// Wraps an array on the model grid.
pub fn on_grid<T>(spec: &GridSpec, data: Array2<T>, nodata: Option<f64>) -> Grid<T> {
    Grid::new(data, spec.transform, spec.crs_wkt.clone(), nodata)
}
