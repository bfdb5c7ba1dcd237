//! Physical bounds of the inputs, each stated once, and the checks that hold the
//! loaders to them: durations, output intervals, return periods, snap radii, labels and
//! events that must exist, calendar dates, and the memory a run will need.
//!
//! A value of the right type can still mean nothing: a run of `inf` hours, an output
//! every nanosecond, a 30 February, a river system that `basins.tif` does not hold. Each
//! check here refuses such a value with [`Error::Invalid`], naming the file, the field,
//! the bound and the fix, before anything is computed or written. The loaders that exist
//! call these checks; the numbers live only here (the snap radius is the structure
//! files' [`MAX_SNAP_RADIUS_CELLS`], re-exported).
//!
//! Dates go through a real calendar ([`chrono`]'s proleptic Gregorian `NaiveDate`).
//!
//! # See Also
//! [`crate::grid::io::check_model_grid_crs`] and [`crate::grid::io::check_dem_values`]
//! for the grids a flood runs on; [`crate::scenario::flood::load_flood_scenario`].

use crate::{Error, Result};
use std::collections::BTreeSet;
use std::path::Path;

pub use crate::flood::structures::provenance::MAX_SNAP_RADIUS_CELLS;

/// Longest simulated duration of a flood run, h (one year). A longer run is a typing
/// slip (`1e12`, `inf`) that would run for ever, not a flood.
pub const MAX_DURATION_H: f64 = 8760.0;

/// Shortest interval of the depth snapshots and hydrograph records, s. Below it the
/// snapshots alone outgrow memory on the regional grid within minutes.
pub const MIN_OUTPUT_INTERVAL_S: f64 = 60.0;

/// Return periods of a design storm, yr: above the lower bound (p = 1/T of the annual
/// maximum must be below 1) and at most the upper one (beyond 100,000 years the
/// Pearson III tail is pure extrapolation).
pub const RETURN_PERIOD_YR: (f64, f64) = (1.0, 100_000.0);

/// Elevations a DEM may hold, m: below the deepest sea floor (Challenger Deep,
/// about −10,935 m) and above the highest summit (8,849 m) a value is a unit or no-data
/// slip (feet, centimetres, −3.4e38), not ground.
pub const ELEVATION_M: (f64, f64) = (-11_000.0, 9_000.0);

/// Bytes a flood run holds per cell besides its depth snapshots: the bed, roughness and
/// conditioning grids (f64 while the bed is built), the depth and discharge state and
/// the solver's buffers, the rain and loss buffers (f64), the maxima and the output
/// maps. ASSUMPTION: 512 B, rounded up from a count of the arrays; with
/// [`SNAPSHOT_BYTES_PER_CELL`] it gives 0.6 GB for the 北三河 run to recession of 212 h
/// on 271,908 cells, against 0.8 GB measured (README), so it is a floor, not a ceiling.
pub const FLOOD_STATE_BYTES_PER_CELL: u64 = 512;

/// Bytes per cell of one depth snapshot: f32 held through the run, then copied once
/// into the array of `depth.nc`.
pub const SNAPSHOT_BYTES_PER_CELL: u64 = 8;

/// Shorthand for [`Error::Invalid`].
fn invalid(path: &Path, field: &str, message: String) -> Error {
    Error::Invalid {
        path: path.to_path_buf(),
        field: field.to_string(),
        message,
    }
}

/// Checks a simulated duration, h: finite, above 0 and at most [`MAX_DURATION_H`].
pub fn check_duration_h(path: &Path, field: &str, duration_h: f64) -> Result<()> {
    if !(duration_h.is_finite() && duration_h > 0.0 && duration_h <= MAX_DURATION_H) {
        return Err(invalid(
            path,
            field,
            format!(
                "{duration_h} h: give a finite duration above 0 and at most {MAX_DURATION_H} h (one year), e.g. 48.0"
            ),
        ));
    }
    Ok(())
}

/// Checks an output interval, h: at least [`MIN_OUTPUT_INTERVAL_S`] and at most
/// `duration_h` (the run's `duration_h`).
pub fn check_output_interval_h(
    path: &Path,
    field: &str,
    interval_h: f64,
    duration_h: f64,
) -> Result<()> {
    let min_h = MIN_OUTPUT_INTERVAL_S / 3600.0;
    // A relative tolerance lets 60 s written as 0.016666666666666666 h through.
    let ok = interval_h.is_finite()
        && interval_h * 3600.0 >= MIN_OUTPUT_INTERVAL_S * (1.0 - 1e-9)
        && interval_h <= duration_h * (1.0 + 1e-9);
    if !ok {
        return Err(invalid(
            path,
            field,
            format!(
                "{interval_h} h: give an interval of at least {MIN_OUTPUT_INTERVAL_S} s ({min_h:.6} h) and at most duration_h ({duration_h} h), e.g. 1.0"
            ),
        ));
    }
    Ok(())
}

/// Checks a design storm's return period, yr, against [`RETURN_PERIOD_YR`].
pub fn check_return_period_yr(path: &Path, field: &str, return_period_yr: f64) -> Result<()> {
    let (lo, hi) = RETURN_PERIOD_YR;
    if !(return_period_yr.is_finite() && return_period_yr > lo && return_period_yr <= hi) {
        return Err(invalid(
            path,
            field,
            format!(
                "{return_period_yr} yr: give a return period above {lo} and at most {hi} years, e.g. 100.0"
            ),
        ));
    }
    Ok(())
}

/// Checks a snap radius, cells: at most [`MAX_SNAP_RADIUS_CELLS`] (0 allowed where it
/// means "no snapping").
pub fn check_snap_radius_cells(path: &Path, field: &str, radius: usize) -> Result<()> {
    if radius > MAX_SNAP_RADIUS_CELLS {
        return Err(invalid(
            path,
            field,
            format!(
                "{radius} cells: give at most {MAX_SNAP_RADIUS_CELLS} (a wider search finds another river, or the basin's outlet)"
            ),
        ));
    }
    Ok(())
}

/// Checks that every label of `wanted` is one that `raster` holds (`present`, without
/// its no-data and 0 = outside every system).
pub fn check_labels(
    path: &Path,
    field: &str,
    wanted: &[u8],
    raster: &Path,
    present: &BTreeSet<u8>,
) -> Result<()> {
    let missing: Vec<u8> = wanted
        .iter()
        .copied()
        .filter(|l| !present.contains(l))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let known: Vec<String> = present.iter().map(u8::to_string).collect();
    Err(invalid(
        path,
        field,
        format!(
            "{missing:?} not found in {}: it holds the labels {} (1 北三河, 2 永定河, 3 大清河, 4 海河下游); give some of those",
            raster.display(),
            known.join(", ")
        ),
    ))
}

/// Checks that `event` is one of the events the structure files list (`known`, from
/// `files`).
pub fn check_event(
    path: &Path,
    field: &str,
    event: &str,
    known: &BTreeSet<String>,
    files: &str,
) -> Result<()> {
    if known.contains(event) {
        return Ok(());
    }
    let list: Vec<&str> = known.iter().map(String::as_str).collect();
    Err(invalid(
        path,
        field,
        format!(
            "`{event}` is not an event of {files}: the known events are {}; give one of them, or remove `event` to use the rule-based triggers only",
            if list.is_empty() { "none".to_string() } else { list.join(", ") }
        ),
    ))
}

/// A calendar time as written in a file, on a wall clock (no zone).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CivilTime {
    /// Seconds since 1970-01-01 00:00 of the same wall clock.
    pub seconds: i64,
    /// True when the text gave a date without a time of day.
    pub date_only: bool,
}

/// English month names, for messages.
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Parses `"YYYY-MM-DD"`, `"YYYY-MM-DD hh:mm"` or `"YYYY-MM-DDThh:mm"` (either with
/// `:ss`) through the proleptic Gregorian calendar of [`chrono`]; `24:00` (the end of the
/// day) only where `end_of_day` allows it. The error says why: not of that form, no such
/// date (with the month's length), no such time of day.
pub fn civil_time(text: &str, end_of_day: bool) -> std::result::Result<CivilTime, String> {
    use chrono::{NaiveDate, NaiveTime};
    let bad = || {
        format!("`{text}` is not a time of the form \"YYYY-MM-DD hh:mm\" (or \"YYYY-MM-DDThh:mm\", seconds optional)")
    };
    let t = text.trim();
    let (date, clock) = match t.split_once([' ', 'T']) {
        Some((d, c)) => (d, Some(c.trim())),
        None => (t, None),
    };
    let num = |s: &str| -> std::result::Result<i64, String> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        s.parse::<i64>().map_err(|_| bad())
    };
    let parts: Vec<&str> = date.split('-').collect();
    if parts.len() != 3 {
        return Err(bad());
    }
    let (y, m, d) = (num(parts[0])?, num(parts[1])?, num(parts[2])?);
    if !(1..=12).contains(&m) {
        return Err(format!("`{text}`: no such date: month {m} (give 1 to 12)"));
    }
    if !(1..=9999).contains(&y) {
        return Err(format!("`{text}`: no such date: year {y} (give 1 to 9999)"));
    }
    let (yi, mi) = (y as i32, m as u32);
    let day = (1..=31)
        .contains(&d)
        .then(|| NaiveDate::from_ymd_opt(yi, mi, d as u32))
        .flatten();
    let Some(day) = day else {
        let first = NaiveDate::from_ymd_opt(yi, mi, 1);
        let next = if mi == 12 {
            NaiveDate::from_ymd_opt(yi + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(yi, mi + 1, 1)
        };
        let len = match (first, next) {
            (Some(a), Some(b)) => format!(
                ": {} {y} has {} days",
                MONTHS[(m - 1) as usize],
                (b - a).num_days()
            ),
            _ => String::new(),
        };
        return Err(format!("`{text}`: no such date{len}"));
    };
    let (hh, mm, ss) = match clock {
        None => (0, 0, 0),
        Some(c) => {
            let p: Vec<&str> = c.split(':').collect();
            if !(2..=3).contains(&p.len()) {
                return Err(bad());
            }
            let ss = if p.len() == 3 { num(p[2])? } else { 0 };
            (num(p[0])?, num(p[1])?, ss)
        }
    };
    let end = end_of_day && hh == 24 && mm == 0 && ss == 0;
    let time = if end {
        NaiveTime::MIN
    } else {
        NaiveTime::from_hms_opt(hh as u32, mm as u32, ss as u32)
            .filter(|_| hh < 24 && mm < 60 && ss < 60)
            .ok_or_else(|| {
                format!("`{text}`: no such time of day (hours 0–23, minutes and seconds 0–59)")
            })?
    };
    let seconds = day.and_time(time).and_utc().timestamp() + if end { 86_400 } else { 0 };
    Ok(CivilTime {
        seconds,
        date_only: clock.is_none(),
    })
}

/// Seconds since 1970-01-01T00:00Z of a Beijing-time (UTC+8) stamp with a time of day
/// (`"YYYY-MM-DDThh:mm"`, `"YYYY-MM-DD hh:mm:ss"`, …); the error says what is wrong.
pub fn beijing_time(text: &str) -> std::result::Result<f64, String> {
    let t = civil_time(text, false)?;
    if t.date_only {
        return Err(format!(
            "`{text}` has no time of day: give e.g. {}T00:00",
            text.trim()
        ));
    }
    Ok((t.seconds - 8 * 3600) as f64)
}

/// Checks a Beijing-time stamp of a file's field ([`beijing_time`]).
pub fn check_beijing_time(path: &Path, field: &str, text: &str) -> Result<f64> {
    beijing_time(text).map_err(|m| {
        invalid(
            path,
            field,
            format!("{m}; give a Beijing time like 2023-07-29 00:00:00"),
        )
    })
}

/// Memory available to new allocations, bytes: `MemAvailable` of `/proc/meminfo`;
/// None where it cannot be read (then no estimate is refused).
pub fn available_memory_bytes() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb.saturating_mul(1024))
}

/// A byte count for messages (MB, GB or TB).
pub fn format_bytes(bytes: u64) -> String {
    let b = bytes as f64;
    if b >= 1e12 {
        format!("{:.1} TB", b / 1e12)
    } else if b >= 1e9 {
        format!("{:.1} GB", b / 1e9)
    } else {
        format!("{:.0} MB", b / 1e6)
    }
}

/// Depth snapshots of a run of `longest_h` with an output every `interval_h` (the
/// first at t = 0, one more for a last partial interval).
pub fn snapshot_count(longest_h: f64, interval_h: f64) -> u64 {
    let n = (longest_h / interval_h).floor();
    if n.is_finite() && n < u64::MAX as f64 {
        (n as u64).saturating_add(2)
    } else {
        u64::MAX
    }
}

/// Estimated peak memory of a flood run on `rows × cols` cells with `snapshots` depth
/// snapshots, bytes ([`FLOOD_STATE_BYTES_PER_CELL`], [`SNAPSHOT_BYTES_PER_CELL`]).
pub fn flood_memory_bytes(rows: usize, cols: usize, snapshots: u64) -> u64 {
    let cells = (rows as u64).saturating_mul(cols as u64);
    let per_cell = FLOOD_STATE_BYTES_PER_CELL
        .saturating_add(SNAPSHOT_BYTES_PER_CELL.saturating_mul(snapshots));
    cells.saturating_mul(per_cell)
}

/// Refuses a flood run whose estimated memory ([`flood_memory_bytes`]) exceeds what the
/// machine has available, naming the estimate, what is available and the settings to
/// change; `dem` is the grid's raster, `longest_h` the longest the run may go on.
pub fn check_flood_memory(
    path: &Path,
    dem: &Path,
    (rows, cols): (usize, usize),
    longest_h: f64,
    interval_h: f64,
) -> Result<()> {
    let Some(available) = available_memory_bytes() else {
        return Ok(());
    };
    let snapshots = snapshot_count(longest_h, interval_h);
    let need = flood_memory_bytes(rows, cols, snapshots);
    if need <= available {
        return Ok(());
    }
    Err(invalid(
        path,
        "output_interval_h",
        format!(
            "the run would need about {} ({rows} x {cols} cells of {}, {snapshots} depth snapshots of one every {interval_h} h over {longest_h} h) but {} is available: give a longer output_interval_h, a shorter duration_h (or recession.max_duration_h), or a coarser grid",
            format_bytes(need),
            dem.display(),
            format_bytes(available)
        ),
    ))
}

/// Refuses to read a raster of `rows × cols` cells of `bytes_per_cell` bytes when that
/// exceeds the memory available, before anything is allocated.
pub fn check_raster_memory(
    path: &Path,
    (rows, cols): (usize, usize),
    bytes_per_cell: usize,
) -> Result<()> {
    let need = (rows as u64)
        .saturating_mul(cols as u64)
        .saturating_mul(bytes_per_cell as u64);
    let Some(available) = available_memory_bytes() else {
        return Ok(());
    };
    if need <= available {
        return Ok(());
    }
    Err(Error::Gdal {
        path: path.to_path_buf(),
        message: format!(
            "the raster declares {cols} x {rows} cells (cols x rows), {} to read, but {} is available: cut it to the model domain or coarsen it first (gdalwarp -te … -tr …), or check that its header is not corrupt",
            format_bytes(need),
            format_bytes(available)
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_rejects_impossible_dates_and_keeps_real_ones() {
        assert_eq!(beijing_time("1970-01-01T08:00"), Ok(0.0));
        assert_eq!(beijing_time("2023-07-31T23:30"), Ok(1_690_817_400.0));
        assert_eq!(beijing_time("2024-02-29 12:00:00"), Ok(1_709_179_200.0));
        let e = beijing_time("2023-02-30T00:00").unwrap_err();
        assert!(e.contains("February 2023 has 28 days"), "{e}");
        assert!(beijing_time("1900-02-29T00:00").is_err());
        assert!(beijing_time("2023-07-31T24:00").is_err());
        assert!(beijing_time("2023-07-31").is_err());
        assert!(beijing_time("2023-13-01T00:00")
            .unwrap_err()
            .contains("month 13"));
        let end = civil_time("2023-07-31 24:00", true).unwrap();
        assert_eq!(
            end,
            civil_time("2023-08-01", true)
                .map(|t| CivilTime {
                    date_only: false,
                    ..t
                })
                .unwrap()
        );
    }

    #[test]
    fn bounds_refuse_what_means_nothing() {
        let p = Path::new("s.toml");
        assert!(check_duration_h(p, "duration_h", f64::INFINITY).is_err());
        assert!(check_duration_h(p, "duration_h", 1e12).is_err());
        assert!(check_duration_h(p, "duration_h", 48.0).is_ok());
        assert!(check_output_interval_h(p, "output_interval_h", 1e-9, 48.0).is_err());
        assert!(check_output_interval_h(p, "output_interval_h", 60.0 / 3600.0, 48.0).is_ok());
        assert!(check_output_interval_h(p, "output_interval_h", 49.0, 48.0).is_err());
        assert!(check_return_period_yr(p, "rain.return_period_yr", 1.0).is_err());
        assert!(check_return_period_yr(p, "rain.return_period_yr", 1e6).is_err());
        assert!(check_snap_radius_cells(p, "gauge", 100_000_000).is_err());
        assert!(check_snap_radius_cells(p, "gauge", MAX_SNAP_RADIUS_CELLS).is_ok());
        assert_eq!(snapshot_count(48.0, 1.0), 50);
        assert_eq!(flood_memory_bytes(2, 3, 10), 6 * (512 + 80));
    }
}
