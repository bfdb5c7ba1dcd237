//! Writing a flood run: maps, the CF-netCDF depth series, hydrographs, mass balance.
//!
//! Everything is written into a staging folder inside the output folder and moved into
//! place only when every file has been written, so an interrupted run leaves no partial
//! outputs.

use super::simulate::{Gauge, Simulation};
use crate::escape::WriteCells;
use crate::grid::cf::CfSeries;
use crate::grid::io::write_geotiff;
use crate::grid::warp::GridSpec;
use crate::grid::Grid;
use crate::staging::Staged;
use crate::{Error, Result};
use ndarray::{Array2, Array3};

fn grid_f32(spec: &GridSpec, data: &[f32]) -> Result<Grid<f32>> {
    let a = Array2::from_shape_vec((spec.rows, spec.cols), data.to_vec())
        .map_err(|e| Error::Data(format!("output grid shape: {e}")))?;
    Ok(Grid::new(a, spec.transform, spec.crs_wkt.clone(), None))
}

/// Writes one map of the run (one f32 per cell, row-major) as `name` into the staging
/// folder.
pub fn write_map(stage: &mut Staged, spec: &GridSpec, name: &str, data: &[f32]) -> Result<()> {
    write_geotiff(&grid_f32(spec, data)?, &stage.path(name))
}

/// Writes the maps, `depth.nc`, `hydrographs.csv` and `mass_balance.csv` of a run
/// into the staging folder. `time_origin` names t = 0 for the CF time axis
/// (e.g. "2023-07-29 00:00:00").
pub fn write_simulation(
    stage: &mut Staged,
    spec: &GridSpec,
    sim: &Simulation,
    gauges: &[Gauge],
    time_origin: &str,
) -> Result<()> {
    write_geotiff(
        &grid_f32(spec, &sim.max_depth_m)?,
        &stage.path("max_depth.tif"),
    )?;
    write_geotiff(
        &grid_f32(spec, &sim.max_speed_ms)?,
        &stage.path("max_velocity.tif"),
    )?;
    write_geotiff(
        &grid_f32(spec, &sim.arrival_h)?,
        &stage.path("arrival_time.tif"),
    )?;
    write_geotiff(
        &grid_f32(spec, &sim.duration_over_0p5m_h)?,
        &stage.path("duration_over_0p5m.tif"),
    )?;
    // CF depth series at the output times.
    let nt = sim.snapshots.len();
    let mut data = Array3::<f32>::zeros((nt, spec.rows, spec.cols));
    for (t, snap) in sim.snapshots.iter().enumerate() {
        for (v, &h) in data
            .index_axis_mut(ndarray::Axis(0), t)
            .iter_mut()
            .zip(snap)
        {
            *v = h;
        }
    }
    let series = CfSeries {
        spec: spec.clone(),
        times: sim.records.iter().map(|r| r.time_s).collect(),
        time_units: format!("seconds since {time_origin}"),
        name: "depth".into(),
        units: "m".into(),
        long_name: "water depth".into(),
        data,
    };
    crate::grid::cf::write_cf(&series, &stage.path("depth.nc"))?;
    // Hydrographs.
    let p = stage.path("hydrographs.csv");
    let mut w =
        csv::Writer::from_path(&p).map_err(|e| Error::Data(format!("{}: {e}", p.display())))?;
    let mut header = vec!["time_h".to_string()];
    for g in gauges {
        header.push(format!("{} discharge_m3s", g.name));
        header.push(format!("{} stage_m", g.name));
    }
    w.write_cells(&header)
        .map_err(|e| Error::Data(format!("{}: {e}", p.display())))?;
    for r in &sim.records {
        let mut row = vec![format!("{:.3}", r.time_s / 3600.0)];
        for &(q, s) in &r.gauges {
            row.push(format!("{q:.3}"));
            row.push(format!("{s:.3}"));
        }
        w.write_cells(&row)
            .map_err(|e| Error::Data(format!("{}: {e}", p.display())))?;
    }
    w.flush().map_err(|e| Error::io(&p, e))?;
    // Mass balance.
    let p = stage.path("mass_balance.csv");
    let mut w =
        csv::Writer::from_path(&p).map_err(|e| Error::Data(format!("{}: {e}", p.display())))?;
    w.write_cells([
        "time_h",
        "rain_m3",
        "loss_m3",
        "inflow_m3",
        "withdrawal_m3",
        "boundary_in_m3",
        "boundary_out_m3",
        "storage_m3",
        "works_storage_m3",
        "diverted_to_sea_m3",
        "mass_error_m3",
        "relative_error",
    ])
    .map_err(|e| Error::Data(format!("{}: {e}", p.display())))?;
    for r in &sim.records {
        let v = &r.volumes;
        let scale = v.input_m3().max(r.storage_m3).max(1.0);
        w.write_cells([
            format!("{:.3}", r.time_s / 3600.0),
            format!("{:.1}", v.rain_in_m3),
            format!("{:.1}", v.loss_m3),
            format!("{:.1}", v.inflow_m3),
            format!("{:.1}", v.withdrawal_m3),
            format!("{:.1}", v.boundary_in_m3),
            format!("{:.1}", v.boundary_out_m3),
            format!("{:.1}", r.storage_m3),
            format!("{:.1}", r.works_storage_m3),
            format!("{:.1}", r.works_out_m3),
            format!("{:.4}", r.mass_error_m3),
            format!("{:.3e}", r.mass_error_m3 / scale),
        ])
        .map_err(|e| Error::Data(format!("{}: {e}", p.display())))?;
    }
    w.flush().map_err(|e| Error::io(&p, e))?;
    Ok(())
}

/// Writes `structures.csv`: per output time, each reservoir's inflow, release, storage
/// and level, each detention basin's inflow, drain and volume, each breach's flow and
/// volume, and each diversion's flow and delivered volume (`columns` name them, from
/// [`super::simulate::Exchange::columns`]).
pub fn write_structures(stage: &mut Staged, sim: &Simulation, columns: &[String]) -> Result<()> {
    let p = stage.path("structures.csv");
    let err = |e: csv::Error| Error::Data(format!("{}: {e}", p.display()));
    let mut w = csv::Writer::from_path(&p).map_err(err)?;
    let mut header = vec![
        "time_h".to_string(),
        "works_storage_1e8_m3".to_string(),
        "diverted_to_sea_1e8_m3".to_string(),
    ];
    header.extend(columns.iter().cloned());
    w.write_cells(&header).map_err(err)?;
    for r in &sim.records {
        let mut row = vec![
            format!("{:.3}", r.time_s / 3600.0),
            format!("{:.6}", r.works_storage_m3 / 1e8),
            format!("{:.6}", r.works_out_m3 / 1e8),
        ];
        row.extend(r.works.iter().map(|v| format!("{v:.4}")));
        w.write_cells(&row).map_err(err)?;
    }
    w.flush().map_err(|e| Error::io(&p, e))?;
    Ok(())
}
