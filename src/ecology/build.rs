//! The red-line build: inputs from the model grids, the rules (or a user's official
//! layer), the calibration, the per-zone summary and the output files.

use super::config::{EcologyConfig, Extent, Site};
use super::rules::{self, Calibration, RedlineClass, RuleMasks};
use super::zones::{ZoneKind, Zones};
use crate::escape::WriteCells;
use crate::grid::warp::{self, GridSpec};
use crate::grid::{vector, Grid};
use crate::{Error, Result};
use ndarray::{Array2, Zip};
use std::path::{Path, PathBuf};

/// The model grids the rules read, all on one grid.
#[derive(Debug, Clone)]
pub struct EcologyInputs {
    /// The model grid.
    pub spec: GridSpec,
    /// DEM resampled onto the grid, before conditioning (`dem_source.tif`), m.
    pub dem_m: Array2<f64>,
    /// Land-cover classes (`land_cover.tif`: 1 mountain, 2 cropland, 3 urban, 4 water,
    /// 5 wetland).
    pub land_cover: Array2<u8>,
    /// County adcode per cell, 0 outside (`counties.tif`).
    pub counties: Array2<i32>,
    /// 1 on stream cells (`streams.tif`).
    pub streams: Array2<u8>,
    /// Upstream area, km² (`flow_acc.tif`).
    pub flow_acc_km2: Array2<f64>,
    /// Sea cells (`sea.tif`).
    pub sea: Array2<bool>,
}

impl EcologyInputs {
    /// Reads the inputs from a model folder (`rasters/model`), checking that they align.
    pub fn from_model_dir(dir: &Path) -> Result<Self> {
        let dem = crate::grid::io::read_raster(&dir.join("dem_source.tif"))?;
        let lc = crate::grid::io::read_raster_as::<u8>(&dir.join("land_cover.tif"), 1)?;
        let co = crate::grid::io::read_raster_as::<i32>(&dir.join("counties.tif"), 1)?;
        let st = crate::grid::io::read_raster_as::<u8>(&dir.join("streams.tif"), 1)?;
        let acc = crate::grid::io::read_raster(&dir.join("flow_acc.tif"))?;
        let sea = crate::grid::io::read_raster_as::<u8>(&dir.join("sea.tif"), 1)?;
        dem.check_aligned(&lc, "dem_source.tif and land_cover.tif")?;
        dem.check_aligned(&co, "dem_source.tif and counties.tif")?;
        dem.check_aligned(&st, "dem_source.tif and streams.tif")?;
        dem.check_aligned(&acc, "dem_source.tif and flow_acc.tif")?;
        dem.check_aligned(&sea, "dem_source.tif and sea.tif")?;
        Ok(EcologyInputs {
            spec: dem.spec(),
            dem_m: dem.data,
            land_cover: lc.data,
            counties: co.data,
            streams: st.data,
            flow_acc_km2: acc.data,
            sea: sea.data.mapv(|v| v > 0),
        })
    }

    fn check(&self) -> Result<()> {
        let dim = (self.spec.rows, self.spec.cols);
        let dims = [
            self.dem_m.dim(),
            self.land_cover.dim(),
            self.counties.dim(),
            self.streams.dim(),
            self.flow_acc_km2.dim(),
            self.sea.dim(),
        ];
        if dims.iter().any(|&d| d != dim) {
            return Err(Error::Misaligned(format!(
                "ecology inputs: grids of shapes {dims:?} against the grid's {dim:?}"
            )));
        }
        if (self.spec.transform.dx.abs() - self.spec.transform.dy.abs()).abs()
            > 1e-6 * self.spec.transform.dx.abs()
        {
            return Err(Error::Data(
                "ecology inputs: the rules need square cells (warp the grids first)".into(),
            ));
        }
        Ok(())
    }

    /// Cell size, m.
    pub fn cell_m(&self) -> f64 {
        self.spec.transform.dx.abs()
    }
}

/// A located site (reservoir or wetland) with its storage.
#[derive(Debug, Clone)]
pub struct SiteExtent {
    /// Name.
    pub name: String,
    /// The rule it belongs to (water source or wetland).
    pub class: RedlineClass,
    /// Its cells (before any buffer).
    pub mask: Array2<bool>,
    /// Cells in `mask`.
    pub cells: usize,
    /// Storage capacity, m³.
    pub storage_m3: f64,
    /// Where the storage figure comes from (source, or area × depth ASSUMPTION).
    pub storage_basis: String,
}

/// The built red line.
#[derive(Debug, Clone)]
pub struct Redline {
    /// Class per cell (see [`RedlineClass`]).
    pub classes: Grid<u8>,
    /// The rule masks (empty-rule masks when an official layer replaced the proxy).
    pub masks: Option<RuleMasks>,
    /// The sites that carry storage.
    pub sites: Vec<SiteExtent>,
    /// Storage of the sites spread evenly over their cells, m³ per cell.
    pub storage_m3: Array2<f64>,
    /// The elevation threshold applied, m (None for an official layer).
    pub min_elevation_m: Option<f64>,
    /// What was done.
    pub log: Vec<String>,
}

/// Resolves a config path against the project root.
fn resolve(root: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        root.join(p)
    }
}

/// Finds a site's cells on the grid.
fn locate(
    site: &Site,
    inputs: &EcologyInputs,
    bodies: &Array2<bool>,
    cfg_path: &Path,
    rule: &str,
) -> Result<Array2<bool>> {
    let wgs84 = crate::grid::io::epsg_wkt(4326)?;
    let (x, y) = warp::transform_points(&[(site.lon, site.lat)], &wgs84, &inputs.spec.crs_wkt)?[0];
    let t = inputs.spec.transform;
    let (fr, fc) = t.fractional_index(x, y);
    let invalid = |message: String| Error::Invalid {
        path: cfg_path.to_path_buf(),
        field: format!("{rule} '{}'", site.name),
        message,
    };
    if fr < 0.0 || fc < 0.0 || fr >= inputs.spec.rows as f64 || fc >= inputs.spec.cols as f64 {
        return Err(invalid(format!(
            "lon {} lat {} lies outside the model grid",
            site.lon, site.lat
        )));
    }
    let (r, c) = (fr as usize, fc as usize);
    let shape = (inputs.spec.rows, inputs.spec.cols);
    Ok(match site.extent {
        Extent::WaterBody => {
            let radius = site.snap_cells.unwrap_or(3);
            rules::component_near(bodies.view(), r, c, radius).ok_or_else(|| {
                invalid(format!(
                    "no water or wetland cell of land_cover.tif within {radius} cells of lon {} lat {}; \
                     use extent = \"disc\" with area_km2, or add the lake to models/prepare.toml",
                    site.lon, site.lat
                ))
            })?
        }
        Extent::Disc => rules::disc_mask(
            shape,
            t.x0,
            t.y0,
            inputs.cell_m(),
            x,
            y,
            site.area_km2.unwrap_or(0.0) * 1e6,
        ),
        Extent::Point => {
            let mut m = Array2::from_elem(shape, false);
            m[[r, c]] = true;
            m
        }
    })
}

/// Builds the red line from the inputs and `models/ecology.toml` (already loaded from
/// `cfg_path`; `root` resolves the official layer's path). With `[official_layer]` the
/// user's polygons replace the proxy (class 9, cell-centre rule); otherwise the four
/// rules apply with the configured elevation threshold. Sites are located either way,
/// for their storage.
pub fn build_redline(
    inputs: &EcologyInputs,
    cfg: &EcologyConfig,
    cfg_path: &Path,
    root: &Path,
) -> Result<Redline> {
    inputs.check()?;
    let mut log = Vec::new();
    let shape = (inputs.spec.rows, inputs.spec.cols);
    let cell_m = inputs.cell_m();
    let cell_km2 = cell_m * cell_m / 1e6;
    let land = Zip::from(&inputs.counties)
        .and(&inputs.sea)
        .map_collect(|&c, &s| c != 0 && !s);
    let bodies = Zip::from(&inputs.land_cover)
        .and(&inputs.sea)
        .map_collect(|&l, &s| (l == 4 || l == 5) && !s);

    // Sites and their storage.
    let mut sites = Vec::new();
    let mut site_union = [
        Array2::from_elem(shape, false),
        Array2::from_elem(shape, false),
    ];
    for (k, (rule, class, list)) in [
        (
            "water_source.site",
            RedlineClass::WaterSource,
            &cfg.water_source.sites,
        ),
        ("wetland.site", RedlineClass::Wetland, &cfg.wetland.sites),
    ]
    .into_iter()
    .enumerate()
    {
        for s in list {
            let mask = locate(s, inputs, &bodies, cfg_path, rule)?;
            let cells = mask.iter().filter(|&&m| m).count();
            let (storage_m3, storage_basis) = match (&s.storage_m3, &s.depth_m) {
                (Some(p), _) => (p.value, p.basis()),
                (None, d) => {
                    let d = d.as_ref().unwrap_or(&cfg.storage.default_depth_m);
                    (
                        cells as f64 * cell_km2 * 1e6 * d.value,
                        format!(
                            "ASSUMPTION: grid area {:.0} km² × depth {} m ({})",
                            cells as f64 * cell_km2,
                            d.value,
                            d.basis()
                        ),
                    )
                }
            };
            Zip::from(&mut site_union[k])
                .and(&mask)
                .for_each(|u, &m| *u |= m);
            log.push(format!(
                "red line: {} '{}' located, {cells} cells, storage {storage_m3:.3e} m³",
                class.name(),
                s.name
            ));
            sites.push(SiteExtent {
                name: s.name.clone(),
                class,
                mask,
                cells,
                storage_m3,
                storage_basis,
            });
        }
    }
    let mut storage = Array2::<f64>::zeros(shape);
    for s in &sites {
        if s.cells > 0 {
            let per = s.storage_m3 / s.cells as f64;
            Zip::from(&mut storage).and(&s.mask).for_each(|v, &m| {
                if m {
                    *v += per;
                }
            });
        }
    }

    if let Some(layer) = &cfg.official_layer {
        let path = resolve(root, &layer.path);
        let feats = vector::read_layer(&path, Some(&inputs.spec.crs_wkt))?;
        // No id field is asked of the official layer; the feature index names a polygon.
        vector::check_simple_polygons(&feats, &path, "id")?;
        let n_poly = feats
            .iter()
            .filter(|f| matches!(f.geometry, vector::Geometry::Polygons(_)))
            .count();
        if n_poly == 0 {
            return Err(Error::Invalid {
                path: path.clone(),
                field: "official_layer.path".into(),
                message: "the layer holds no polygon: give the official red-line polygons".into(),
            });
        }
        let g = vector::rasterize_polygons(
            &feats,
            &vec![f64::from(RedlineClass::Official.code()); feats.len()],
            &inputs.spec,
        )?;
        let classes = g.data.mapv(|v| {
            if v.is_nan() {
                0
            } else {
                RedlineClass::Official.code()
            }
        });
        log.push(format!(
            "red line: official layer {} ({n_poly} polygons) replaces the proxy",
            path.display()
        ));
        return Ok(Redline {
            classes: Grid::new(
                classes,
                inputs.spec.transform,
                inputs.spec.crs_wkt.clone(),
                None,
            ),
            masks: None,
            sites,
            storage_m3: storage,
            min_elevation_m: None,
            log,
        });
    }

    let masks = rule_masks(inputs, cfg, &land, &site_union)?;
    let e = cfg.mountain.min_elevation_m.value;
    let classes = rules::classify_redline(&masks, inputs.dem_m.view(), e);
    log.push(format!(
        "red line: proxy rules, mountain forest ≥ {e} m and slope ≥ {}°, water-source buffer {} km, river corridors ≥ {} km²",
        cfg.mountain.min_slope_deg.value,
        cfg.water_source.buffer_km.value,
        cfg.river.min_upstream_km2.value
    ));
    Ok(Redline {
        classes: Grid::new(
            classes,
            inputs.spec.transform,
            inputs.spec.crs_wkt.clone(),
            None,
        ),
        masks: Some(masks),
        sites,
        storage_m3: storage,
        min_elevation_m: Some(e),
        log,
    })
}

/// The rule masks (rules 1, 2, 4 and rule 3 without its elevation test).
fn rule_masks(
    inputs: &EcologyInputs,
    cfg: &EcologyConfig,
    land: &Array2<bool>,
    site_union: &[Array2<bool>; 2],
) -> Result<RuleMasks> {
    let cell_km = inputs.cell_m() / 1000.0;
    let on_land = |m: Array2<bool>| Zip::from(&m).and(land).map_collect(|&a, &l| a && l);
    let water_source = on_land(rules::buffer_mask(
        site_union[0].view(),
        cfg.water_source.buffer_km.value / cell_km,
    ));
    let mut wet = site_union[1].clone();
    if cfg.wetland.all_land_cover_wetland {
        Zip::from(&mut wet)
            .and(&inputs.land_cover)
            .for_each(|w, &l| *w |= l == 5);
    }
    let wetland = on_land(rules::buffer_mask(
        wet.view(),
        cfg.wetland.buffer_km.value / cell_km,
    ));
    let slope = rules::slope_horn_deg(inputs.dem_m.view(), inputs.cell_m());
    let s_min = cfg.mountain.min_slope_deg.value;
    let mountain_base = Zip::from(&slope)
        .and(&inputs.land_cover)
        .and(land)
        .map_collect(|&s, &l, &on| on && s >= s_min && l != 3 && l != 4 && l != 5);
    let a_min = cfg.river.min_upstream_km2.value;
    let river = Zip::from(&inputs.streams)
        .and(&inputs.flow_acc_km2)
        .and(land)
        .map_collect(|&s, &a, &on| on && s > 0 && a >= a_min);
    Ok(RuleMasks {
        land: land.clone(),
        water_source,
        wetland,
        mountain_base,
        river,
    })
}

/// Reruns the calibration of `mountain.min_elevation_m` on the province of
/// `[calibration]` (the search of [`rules::calibrate_min_elevation`]). Fails when an
/// official layer replaces the proxy (nothing to calibrate).
pub fn calibrate(
    inputs: &EcologyInputs,
    cfg: &EcologyConfig,
    cfg_path: &Path,
) -> Result<Calibration> {
    inputs.check()?;
    let c = &cfg.calibration;
    let target = cfg
        .official_for(c.province)
        .map(|o| o.area_km2.value)
        .ok_or_else(|| Error::Invalid {
            path: cfg_path.to_path_buf(),
            field: "calibration.province".into(),
            message: "no [[official]] area for it".into(),
        })?;
    // The same rules as the build, with the proxy forced on.
    let mut probe = cfg.clone();
    probe.official_layer = None;
    let masks = build_redline(inputs, &probe, cfg_path, Path::new("."))?
        .masks
        .ok_or_else(|| Error::Data("calibration: the proxy rules were not built".into()))?;
    let zone = inputs
        .counties
        .mapv(|code| code > 0 && code as u32 / 10000 == c.province);
    let cell_km2 = inputs.cell_m().powi(2) / 1e6;
    Ok(rules::calibrate_min_elevation(
        &masks,
        inputs.dem_m.view(),
        zone.view(),
        cell_km2,
        target,
        c.search_min_m,
        c.search_max_m,
        c.step_m,
    ))
}

/// One row of `redline_summary.csv`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SummaryRow {
    /// province, county or group.
    pub kind: ZoneKind,
    /// Zone id.
    pub id: String,
    /// Zone name.
    pub name: String,
    /// Zone area on the grid, km².
    pub zone_km2: f64,
    /// Red-line area, km².
    pub redline_km2: f64,
    /// Red-line share of the zone (0–1).
    pub share: f64,
    /// Class 1 area, km².
    pub water_source_km2: f64,
    /// Class 2 area, km².
    pub wetland_km2: f64,
    /// Class 3 area, km².
    pub mountain_forest_km2: f64,
    /// Class 4 area, km².
    pub river_corridor_km2: f64,
    /// Class 9 area (official drop-in layer), km².
    pub official_layer_km2: f64,
    /// Storage of the reservoirs and wetlands in the zone (each site's storage spread
    /// over its cells), m³.
    pub wetland_storage_m3: f64,
    /// Official red-line area where `[[official]]` gives one (provinces only), km².
    pub official_km2: Option<f64>,
    /// (red line − official) / official, %.
    pub difference_pct: Option<f64>,
}

/// The per-zone summary: provinces, counties, named groups.
pub fn summarize(redline: &Redline, zones: &Zones, cfg: &EcologyConfig) -> Result<Vec<SummaryRow>> {
    let cell_km2 = redline.classes.cell_area() / 1e6;
    let classes = [
        RedlineClass::WaterSource,
        RedlineClass::Wetland,
        RedlineClass::MountainForest,
        RedlineClass::RiverCorridor,
        RedlineClass::Official,
    ];
    let mut grids: Vec<Array2<f64>> = classes
        .iter()
        .map(|k| {
            redline
                .classes
                .data
                .mapv(|v| if v == k.code() { cell_km2 } else { 0.0 })
        })
        .collect();
    grids.push(redline.storage_m3.clone());
    let views: Vec<_> = grids.iter().map(|g| g.view()).collect();
    Ok(zones
        .sums(&views)?
        .into_iter()
        .map(|z| {
            let s = &z.sums;
            let red: f64 = s[..5].iter().sum();
            let zone_km2 = z.cells as f64 * cell_km2;
            let official = (z.kind == ZoneKind::Province)
                .then(|| cfg.official_for(z.province).map(|o| o.area_km2.value))
                .flatten();
            SummaryRow {
                kind: z.kind,
                id: z.id,
                name: z.name,
                zone_km2,
                redline_km2: red,
                share: if zone_km2 > 0.0 { red / zone_km2 } else { 0.0 },
                water_source_km2: s[0],
                wetland_km2: s[1],
                mountain_forest_km2: s[2],
                river_corridor_km2: s[3],
                official_layer_km2: s[4],
                wetland_storage_m3: s[5],
                official_km2: official,
                difference_pct: official.map(|o| (red - o) / o * 100.0),
            }
        })
        .collect())
}

fn csv_err(path: &Path) -> impl Fn(csv::Error) -> Error + '_ {
    move |e| Error::Data(format!("{}: writing CSV: {e}", path.display()))
}

/// Writes the summary as CSV (atomically).
pub fn write_summary_csv(path: &Path, rows: &[SummaryRow]) -> Result<()> {
    crate::grid::io::write_atomically(path, |tmp| {
        let mut w = csv::Writer::from_path(tmp).map_err(csv_err(path))?;
        w.write_cells([
            "kind",
            "id",
            "name",
            "zone_km2",
            "redline_km2",
            "share",
            "water_source_km2",
            "wetland_km2",
            "mountain_forest_km2",
            "river_corridor_km2",
            "official_layer_km2",
            "wetland_storage_m3",
            "official_km2",
            "difference_pct",
        ])
        .map_err(csv_err(path))?;
        let opt = |v: Option<f64>, p: usize| v.map(|x| format!("{x:.p$}")).unwrap_or_default();
        for r in rows {
            w.write_cells([
                r.kind.as_str().to_string(),
                r.id.clone(),
                r.name.clone(),
                format!("{:.1}", r.zone_km2),
                format!("{:.1}", r.redline_km2),
                format!("{:.4}", r.share),
                format!("{:.1}", r.water_source_km2),
                format!("{:.1}", r.wetland_km2),
                format!("{:.1}", r.mountain_forest_km2),
                format!("{:.1}", r.river_corridor_km2),
                format!("{:.1}", r.official_layer_km2),
                format!("{:.4e}", r.wetland_storage_m3),
                opt(r.official_km2, 1),
                opt(r.difference_pct, 2),
            ])
            .map_err(csv_err(path))?;
        }
        w.flush().map_err(|e| Error::io(tmp, e))
    })
}

/// Writes the located sites (name, rule, cells, storage and its basis) as CSV.
pub fn write_sites_csv(path: &Path, sites: &[SiteExtent], cell_km2: f64) -> Result<()> {
    crate::grid::io::write_atomically(path, |tmp| {
        let mut w = csv::Writer::from_path(tmp).map_err(csv_err(path))?;
        w.write_cells([
            "name",
            "rule",
            "cells",
            "area_km2",
            "storage_m3",
            "storage_basis",
        ])
        .map_err(csv_err(path))?;
        for s in sites {
            w.write_cells([
                s.name.clone(),
                s.class.name().to_string(),
                s.cells.to_string(),
                format!("{:.1}", s.cells as f64 * cell_km2),
                format!("{:.4e}", s.storage_m3),
                s.storage_basis.clone(),
            ])
            .map_err(csv_err(path))?;
        }
        w.flush().map_err(|e| Error::io(tmp, e))
    })
}
