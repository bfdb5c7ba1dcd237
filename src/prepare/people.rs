//! The human part of `haihe prepare`: counties on the grid, the 2020 census spread over
//! them, land cover, and the spatial groups. Runs after [`super::build_terrain`].

use super::build::{resolve, TerrainGrids};
use super::config::PrepareConfig;
use super::counties::{self, CountyRecord};
use super::land_cover;
use super::population::{self, PlacePoint, PopulationWeightParams, SeatPoint};
use crate::grid::vector::{self, Geometry};
use crate::grid::warp;
use crate::groups::{self, CountyInfo, Group, GroupRow, UserFeature};
use crate::{Error, Result};
use ndarray::{Array2, Zip};
use std::collections::BTreeMap;
use std::path::Path;

/// An equal-area projection for polygon areas (Albers, standard parallels 25° N and
/// 47° N, central meridian 105° E: the usual parameters for maps of China).
const ALBERS_CHINA: &str = "+proj=aea +lat_0=0 +lon_0=105 +lat_1=25 +lat_2=47 +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs";

/// Counties, people, land cover and groups on the model grid.
pub struct PeopleGrids {
    /// Adcode of the county whose polygon holds each cell centre; 0 outside.
    pub counties: Array2<i32>,
    /// One row per county with at least one cell.
    pub county_records: Vec<CountyRecord>,
    /// Residents per cell (2020 census, dasymetric); NaN in counties without a census
    /// total, 0 outside every county.
    pub population: Array2<f64>,
    /// Land-cover class per cell (see `models/land_cover.toml`).
    pub land_cover: Array2<u8>,
    /// Named and user groups with their masks (counties are in `counties.tif`).
    pub group_masks: Vec<(Group, Array2<bool>)>,
    /// The group table: every county, then every named and user group.
    pub group_rows: Vec<GroupRow>,
    /// What was done.
    pub log: Vec<String>,
}

fn field<'a>(f: &'a vector::Feature, name: &str, path: &Path) -> Result<&'a String> {
    f.fields.get(name).ok_or_else(|| Error::Invalid {
        path: path.to_path_buf(),
        field: name.into(),
        message: "missing from a feature of the county layer".into(),
    })
}

/// Builds counties, population, land cover and groups on the terrain's grid.
pub fn build_people(cfg: &PrepareConfig, root: &Path, t: &TerrainGrids) -> Result<PeopleGrids> {
    let mut log = Vec::new();
    let spec = &t.spec;
    let cell = spec.transform.dx.abs();
    let cell_km2 = cell * cell / 1e6;

    // Counties on the grid (cell-centre rule) and their polygon areas (equal-area).
    let county_path = resolve(root, &cfg.layers.counties);
    let feats = vector::read_layer(&county_path, Some(&spec.crs_wkt))?;
    let albers = gdal::spatial_ref::SpatialRef::from_proj4(ALBERS_CHINA)
        .and_then(|s| s.to_wkt())
        .map_err(|e| Error::gdal(&county_path, e))?;
    let feats_ea = vector::read_layer(&county_path, Some(&albers))?;
    let mut codes = Vec::with_capacity(feats.len());
    let mut infos = Vec::with_capacity(feats.len());
    let mut poly_area = BTreeMap::new();
    for (f, fe) in feats.iter().zip(&feats_ea) {
        let code: u32 = field(f, "district_adcode", &county_path)?
            .parse()
            .map_err(|_| Error::Invalid {
                path: county_path.clone(),
                field: "district_adcode".into(),
                message: "not a six-digit number".into(),
            })?;
        codes.push(code as f64);
        *poly_area.entry(code).or_insert(0.0) += fe.geometry.area() / 1e6;
        infos.push(CountyInfo {
            adcode: code,
            name: field(f, "district_name", &county_path)?.clone(),
            province: field(f, "province_name", &county_path)?.clone(),
            city: field(f, "city_name", &county_path)?.clone(),
        });
    }
    let zones = vector::rasterize_polygons(&feats, &codes, spec)?;
    let county_grid = zones.data.mapv(|v| if v.is_nan() { 0 } else { v as i32 });
    let mut cells_of: BTreeMap<u32, usize> = BTreeMap::new();
    for &c in county_grid.iter() {
        if c > 0 {
            *cells_of.entry(c as u32).or_insert(0) += 1;
        }
    }
    log.push(format!(
        "counties: {} of {} county polygons have cells on the grid",
        cells_of.len(),
        infos.len()
    ));

    // Census totals with development zones merged into their hosts.
    let census_path = resolve(root, &cfg.layers.census);
    let zones_path = resolve(root, &cfg.layers.census_zones);
    let rows = counties::read_census(&census_path)?;
    let merges = counties::load_zone_merges(&zones_path)?;
    let merged = counties::merge_zones(&rows, &merges, &zones_path)?;
    let totals: BTreeMap<u32, f64> = merged.iter().map(|(&k, v)| (k, v.population)).collect();

    // Dasymetric weights: places, seats, plain against mountain.
    let wgs84 = crate::grid::io::epsg_wkt(4326)?;
    let places = population::read_geonames_places(&resolve(root, &cfg.layers.places))?;
    let xy = warp::transform_points(
        &places.iter().map(|p| (p.lon, p.lat)).collect::<Vec<_>>(),
        &wgs84,
        &spec.crs_wkt,
    )?;
    let place_points: Vec<PlacePoint> = places
        .iter()
        .zip(&xy)
        .map(|(p, &(x, y))| {
            let (row, col) = spec.transform.fractional_index(x, y);
            PlacePoint {
                row,
                col,
                population: p.population,
            }
        })
        .collect();
    let seats = counties::read_county_seats(&county_path)?;
    let sxy = warp::transform_points(
        &seats.iter().map(|s| (s.lon, s.lat)).collect::<Vec<_>>(),
        &wgs84,
        &spec.crs_wkt,
    )?;
    let seat_points: Vec<SeatPoint> = seats
        .iter()
        .zip(&sxy)
        .map(|(s, &(x, y))| {
            let (row, col) = spec.transform.fractional_index(x, y);
            (s.adcode, row, col)
        })
        .collect();
    let lc_params = land_cover::load_land_cover_params(&resolve(root, &cfg.layers.land_cover))?;
    let relief =
        land_cover::local_relief(t.dem_source.view(), lc_params.relief_window_radius_cells);
    let pw = PopulationWeightParams::default();
    pw.validate()?;
    let weights = population::population_weights(
        county_grid.view(),
        t.dem_source.view(),
        relief.view(),
        &place_points,
        &seat_points,
        cell,
        &pw,
    );
    let spread = population::spread_population(county_grid.view(), &totals, weights.view())?;
    log.push(format!(
        "population: 2020 census spread over {} counties; {} counties on the grid have no census row (NaN): {:?}",
        cells_of.len() - spread.missing_totals.len(),
        spread.missing_totals.len(),
        spread.missing_totals
    ));
    if !spread.absent_from_grid.is_empty() {
        log.push(format!(
            "population: census counties with no cell on the grid (their people are not on it): {:?}",
            spread.absent_from_grid
        ));
    }

    // Land cover from terrain, water and density.
    let water = Zip::from(&t.water).and(&t.sea).map_collect(|&w, &s| w || s);
    let wetland = t.wetland.clone();
    let density = spread.population.mapv(|p| p / cell_km2);
    let land_cover = land_cover::classify_land_cover(
        t.dem_source.view(),
        relief.view(),
        water.view(),
        wetland.view(),
        density.view(),
        &lc_params,
    );

    // County records.
    let by_code: BTreeMap<u32, &CountyInfo> = infos.iter().map(|i| (i.adcode, i)).collect();
    let seat_of: BTreeMap<u32, (f64, f64)> =
        seats.iter().map(|s| (s.adcode, (s.lon, s.lat))).collect();
    let county_records: Vec<CountyRecord> = cells_of
        .iter()
        .map(|(&code, &n)| {
            let info = by_code[&code];
            let m = merged.get(&code);
            let (lon, lat) = seat_of.get(&code).copied().unwrap_or((f64::NAN, f64::NAN));
            CountyRecord {
                adcode: code,
                name: info.name.clone(),
                province: info.province.clone(),
                city: info.city.clone(),
                area_km2: n as f64 * cell_km2,
                polygon_area_km2: poly_area.get(&code).copied().unwrap_or(f64::NAN),
                population_2020: m.map(|m| m.population),
                population_basis: match m {
                    Some(m) if m.zones.is_empty() => "2020 census (分县资料)".to_string(),
                    Some(m) => format!(
                        "2020 census (分县资料) plus merged zones: {}",
                        m.zones.join("; ")
                    ),
                    None => "no row in the bundled census table".to_string(),
                },
                seat_lon: lon,
                seat_lat: lat,
            }
        })
        .collect();

    // Groups: every county, then the named groups of each group file, then user layers.
    let on_grid: Vec<CountyInfo> = infos
        .iter()
        .filter(|i| cells_of.contains_key(&i.adcode))
        .cloned()
        .collect();
    let mut group_rows = Vec::new();
    for g in groups::county_groups(&on_grid) {
        let code = g.counties[0] as i32;
        let mask = county_grid.mapv(|c| c == code);
        let tally = groups::tally(&g.id, mask.view(), cell * cell, spread.population.view())?;
        group_rows.push(GroupRow::new(g, tally));
    }
    let mut group_masks = Vec::new();
    for p in &cfg.layers.groups {
        let path = resolve(root, p);
        let file = groups::read_group_file(&path)?;
        groups::validate_groups(&file.group, &infos, &path)?;
        for def in &file.group {
            let missing = groups::missing_counties(def, county_grid.view());
            if !missing.is_empty() {
                return Err(Error::Invalid {
                    path: path.clone(),
                    field: format!("group[{}].counties", def.id),
                    message: format!("counties {missing:?} have no cell on the model grid; widen [domain] in models/prepare.toml"),
                });
            }
            let mask = groups::membership_mask(def, county_grid.view(), Some(t.dem_source.view()))?;
            let g = Group::from_def(def);
            let tally = groups::tally(&g.id, mask.view(), cell * cell, spread.population.view())?;
            group_rows.push(GroupRow::new(g.clone(), tally));
            group_masks.push((g, mask));
        }
        for spec_u in &file.user_layer {
            let fs = vector::read_layer(&spec_u.path, Some(&spec.crs_wkt))?;
            vector::check_simple_polygons(&fs, &spec_u.path, &spec_u.id_field)?;
            let users: Vec<UserFeature> = fs
                .iter()
                .map(|f| UserFeature {
                    id: f.fields.get(&spec_u.id_field).cloned().unwrap_or_default(),
                    name: f
                        .fields
                        .get(&spec_u.name_field)
                        .cloned()
                        .unwrap_or_default(),
                })
                .collect();
            let polys: Vec<vector::Feature> = fs
                .into_iter()
                .filter(|f| matches!(f.geometry, Geometry::Polygons(_)))
                .collect();
            if polys.len() != users.len() {
                return Err(Error::Invalid {
                    path: spec_u.path.clone(),
                    field: "geometry".into(),
                    message: "every feature of a user group layer must be a polygon".into(),
                });
            }
            let idx: Vec<f64> = (0..polys.len()).map(|i| i as f64).collect();
            let z = vector::rasterize_polygons(&polys, &idx, spec)?;
            for (g, mask) in groups::user_groups_from_zones(z.data.view(), &users, spec_u)? {
                let tally =
                    groups::tally(&g.id, mask.view(), cell * cell, spread.population.view())?;
                group_rows.push(GroupRow::new(g.clone(), tally));
                group_masks.push((g, mask));
            }
        }
        log.push(format!(
            "groups: {} named or user groups from {}",
            group_masks.len(),
            path.strip_prefix(root).unwrap_or(&path).display()
        ));
    }
    Ok(PeopleGrids {
        counties: county_grid,
        county_records,
        population: spread.population,
        land_cover,
        group_masks,
        group_rows,
        log,
    })
}
