//! Which spatial groups each lifeline node lies in, from the model's zone rasters:
//! `counties.tif` (adcode per cell) with the county groups of `groups.csv`
//! (`county-<adcode>`), and `groups.tif` (one Byte band per named group, band
//! description = group id, 1 inside). A group is represented by the nodes inside it.

use super::network::Network;
use crate::grid::io::read_raster_as;
use crate::grid::warp::transform_points;
use crate::grid::Grid;
use crate::{Error, Result};
use gdal::Metadata;
use std::collections::HashMap;
use std::path::Path;

/// Spatial groups and their lifeline nodes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupMembers {
    /// Group ids, in `groups.csv` order.
    pub ids: Vec<String>,
    /// Group names (Chinese), same order.
    pub names: Vec<String>,
    /// Network node indices inside each group.
    pub members: Vec<Vec<usize>>,
}

impl GroupMembers {
    /// For each network node, the groups it lies in.
    pub fn node_groups(&self, n_nodes: usize) -> Vec<Vec<u32>> {
        let mut out = vec![Vec::new(); n_nodes];
        for (g, m) in self.members.iter().enumerate() {
            for &v in m {
                out[v].push(g as u32);
            }
        }
        out
    }
}

/// Reads `groups.csv`, `counties.tif` and `groups.tif` from `model_dir` and places every
/// node. Errors: missing files, a named group without a band in `groups.tif`.
pub fn read_group_members(net: &Network, model_dir: &Path) -> Result<GroupMembers> {
    let csv_path = model_dir.join("groups.csv");
    let mut reader = csv::Reader::from_path(&csv_path).map_err(|e| match e.kind() {
        csv::ErrorKind::Io(io) if io.kind() == std::io::ErrorKind::NotFound => Error::MissingFile {
            path: csv_path.clone(),
            fix: "run `haihe prepare` to build rasters/model/".into(),
        },
        _ => Error::Data(format!("{}: {e}", csv_path.display())),
    })?;
    let bad = |m: String| Error::Invalid {
        path: csv_path.clone(),
        field: "id".into(),
        message: m,
    };
    let headers = reader.headers().map_err(|e| bad(e.to_string()))?.clone();
    let col = |n: &str| headers.iter().position(|h| h == n);
    let id_col = col("id").ok_or_else(|| bad("no `id` column".into()))?;
    let name_col = col("name");
    let mut ids = Vec::new();
    let mut names = Vec::new();
    for rec in reader.records() {
        let rec = crate::escape::unguard_record(&rec.map_err(|e| bad(e.to_string()))?);
        ids.push(rec.get(id_col).unwrap_or("").to_string());
        names.push(name_col.and_then(|c| rec.get(c)).unwrap_or("").to_string());
    }
    let counties: Grid<i32> = read_raster_as(&model_dir.join("counties.tif"), 1)?;
    let groups_path = model_dir.join("groups.tif");
    let ds = gdal::Dataset::open(&groups_path).map_err(|e| Error::gdal(&groups_path, e))?;
    let mut band_of: HashMap<String, usize> = HashMap::new();
    for b in 1..=ds.raster_count() {
        let band = ds.rasterband(b).map_err(|e| Error::gdal(&groups_path, e))?;
        band_of.insert(band.description().unwrap_or_default(), b);
    }
    drop(ds);
    let lonlat: Vec<(f64, f64)> = net.nodes.iter().map(|n| (n.lon, n.lat)).collect();
    let xy = transform_points(&lonlat, "EPSG:4326", &counties.crs_wkt)?;
    let cells: Vec<Option<(usize, usize)>> =
        xy.iter().map(|&(x, y)| counties.cell_of(x, y)).collect();
    let mut members = Vec::with_capacity(ids.len());
    let mut band_cache: HashMap<usize, Grid<u8>> = HashMap::new();
    for id in &ids {
        let m: Vec<usize> = if let Some(code) = id.strip_prefix("county-") {
            let code: i32 = code
                .parse()
                .map_err(|_| bad(format!("'{id}' is not county-<adcode>")))?;
            (0..cells.len())
                .filter(|&i| cells[i].is_some_and(|rc| counties.data[rc] == code))
                .collect()
        } else {
            let b = *band_of.get(id).ok_or_else(|| Error::Invalid {
                path: groups_path.clone(),
                field: "band description".into(),
                message: format!(
                    "group '{id}' of groups.csv has no band; rebuild with `haihe prepare`"
                ),
            })?;
            if let std::collections::hash_map::Entry::Vacant(e) = band_cache.entry(b) {
                let g: Grid<u8> = read_raster_as(&groups_path, b)?;
                counties.check_aligned(&g, "counties.tif and groups.tif")?;
                e.insert(g);
            }
            let g = &band_cache[&b];
            (0..cells.len())
                .filter(|&i| cells[i].is_some_and(|rc| g.data[rc] == 1))
                .collect()
        };
        members.push(m);
    }
    Ok(GroupMembers {
        ids,
        names,
        members,
    })
}
