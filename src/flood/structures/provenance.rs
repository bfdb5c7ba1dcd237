//! Where each number in `models/structures/*.toml` comes from, and where each structure
//! lies.
//!
//! Every file opens with a `[sources]` table (`key = "title, address"`). A value is then
//! either `{ value = 147.0, source = "key" }`, or an estimate
//! `{ value = 2500.0, estimate = true, basis = "why this number" }` (an estimate may also
//! name the source it was derived from). The loaders reject a value with neither, a
//! source key that the table lacks, and an estimate without a basis.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::{Error, Result};

/// Longitude range of the model domain, degrees east (ARCHITECTURE.md, "Grids").
pub const DOMAIN_LON: (f64, f64) = (112.0, 118.6);
/// Latitude range of the model domain, degrees north.
pub const DOMAIN_LAT: (f64, f64) = (38.0, 42.1);

/// The `[sources]` table of a structures file: key → citation (title and address).
pub type Sources = BTreeMap<String, String>;

/// One value with its provenance: a `source` key, or `estimate = true` with a `basis`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sourced<T> {
    /// The value, in the unit its field name states.
    pub value: T,
    /// Key into the file's `[sources]` table.
    #[serde(default)]
    pub source: Option<String>,
    /// True where the value is not published and was estimated.
    #[serde(default)]
    pub estimate: bool,
    /// How an estimate was made (required when `estimate = true`).
    #[serde(default)]
    pub basis: Option<String>,
    /// Free remark (e.g. "UNCERTAIN in the reference").
    #[serde(default)]
    pub note: Option<String>,
}

/// Largest relative difference between a structure's snapped upstream area and its
/// published one before the placement is refused (issue: structures on the wrong river).
pub const AREA_TOLERANCE: f64 = 0.25;

/// An explicit acceptance of a snapped upstream area further than [`AREA_TOLERANCE`]
/// from the published one: the run goes on and every output carries a warning with the
/// reason.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcceptAreaError {
    /// Why the difference is acceptable (e.g. "the published figure is an interval area").
    pub reason: String,
}

/// How a structure joins the grid by upstream area: the published area it must match,
/// its search radius and an optional acceptance of a larger error.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AreaSnap {
    /// Upstream area at the structure, km², with its source or estimate basis.
    pub area_km2: Sourced<f64>,
    /// Search radius, cells (default: the scenario's `snap_radius_cells`).
    #[serde(default)]
    pub snap_radius_cells: Option<usize>,
    /// Accept a snapped area further than 25 % from `area_km2`, with a reason.
    #[serde(default)]
    pub accept_area_error: Option<AcceptAreaError>,
}

impl AreaSnap {
    /// Checks the area's provenance and value, the radius and the reason.
    pub fn check(&self, path: &Path, field: &str, sources: &Sources) -> Result<()> {
        self.area_km2
            .check_positive(path, &format!("{field}.area_km2"), sources)?;
        check_snap_settings(
            path,
            field,
            self.snap_radius_cells,
            self.accept_area_error.as_ref(),
        )
    }
}

/// Checks a snap radius (1 to [`MAX_SNAP_RADIUS_CELLS`]) and that an accepted area error
/// gives its reason; `field` is the record's field prefix (e.g. `reservoir[官厅]`).
pub fn check_snap_settings(
    path: &Path,
    field: &str,
    radius: Option<usize>,
    accept: Option<&AcceptAreaError>,
) -> Result<()> {
    if let Some(r) = radius {
        if !(1..=MAX_SNAP_RADIUS_CELLS).contains(&r) {
            return Err(invalid(
                path,
                &format!("{field}.snap_radius_cells"),
                &format!(
                    "{r} cells: give 1 to {MAX_SNAP_RADIUS_CELLS} (a wider search finds another river)"
                ),
            ));
        }
    }
    if let Some(a) = accept {
        if a.reason.trim().is_empty() {
            return Err(invalid(
                path,
                &format!("{field}.accept_area_error.reason"),
                "say why the area error is acceptable",
            ));
        }
    }
    Ok(())
}

/// Widest snap radius a structure or gauge may ask for, cells.
pub const MAX_SNAP_RADIUS_CELLS: usize = 12;

/// A point in WGS 84 longitude/latitude with its provenance.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Location {
    /// Longitude, degrees east.
    pub lon: f64,
    /// Latitude, degrees north.
    pub lat: f64,
    /// Key into the file's `[sources]` table.
    #[serde(default)]
    pub source: Option<String>,
    /// True where the point was placed by hand (from the towns a source names, a river
    /// line, general geography) rather than taken from a source's coordinates.
    #[serde(default)]
    pub approximate: bool,
    /// How an approximate point was placed.
    #[serde(default)]
    pub basis: Option<String>,
    /// True for a structure that lies outside the model domain on purpose (kept for the
    /// record, e.g. the 2023 use of 宁晋泊); the loader checks that it really does.
    #[serde(default)]
    pub outside_domain: bool,
}

impl Location {
    /// True where the point lies inside [`DOMAIN_LON`] × [`DOMAIN_LAT`].
    pub fn in_domain(&self) -> bool {
        (DOMAIN_LON.0..=DOMAIN_LON.1).contains(&self.lon)
            && (DOMAIN_LAT.0..=DOMAIN_LAT.1).contains(&self.lat)
    }

    /// Checks provenance and the domain box; `field` names the location in errors.
    pub fn check(&self, path: &Path, field: &str, sources: &Sources) -> Result<()> {
        if !self.lon.is_finite() || !self.lat.is_finite() {
            return Err(invalid(path, field, "lon and lat must be finite numbers"));
        }
        check_provenance(
            path,
            field,
            sources,
            self.source.as_deref(),
            self.approximate,
            self.basis.as_deref(),
            "approximate",
        )?;
        match (self.in_domain(), self.outside_domain) {
            (false, false) => {
                let swapped = (DOMAIN_LON.0..=DOMAIN_LON.1).contains(&self.lat)
                    && (DOMAIN_LAT.0..=DOMAIN_LAT.1).contains(&self.lon);
                let hint = if swapped {
                    " (lon and lat look swapped: lon is degrees east, lat degrees north)"
                } else {
                    ""
                };
                Err(invalid(
                    path,
                    field,
                    &format!(
                        "({}, {}) lies outside the domain (lon {}–{}, lat {}–{}){hint}; fix the \
                         point or mark it `outside_domain = true`",
                        self.lon, self.lat, DOMAIN_LON.0, DOMAIN_LON.1, DOMAIN_LAT.0, DOMAIN_LAT.1
                    ),
                ))
            }
            (true, true) => Err(invalid(
                path,
                field,
                &format!(
                    "({}, {}) is marked `outside_domain = true` but lies inside the domain",
                    self.lon, self.lat
                ),
            )),
            _ => Ok(()),
        }
    }
}

impl<T> Sourced<T> {
    /// Checks that the value has a known source or is an estimate with a basis.
    pub fn check(&self, path: &Path, field: &str, sources: &Sources) -> Result<()> {
        check_provenance(
            path,
            field,
            sources,
            self.source.as_deref(),
            self.estimate,
            self.basis.as_deref(),
            "estimate",
        )
    }
}

impl Sourced<f64> {
    /// Checks provenance and that the value is finite and > 0.
    pub fn check_positive(&self, path: &Path, field: &str, sources: &Sources) -> Result<()> {
        self.check(path, field, sources)?;
        if !(self.value.is_finite() && self.value > 0.0) {
            return Err(invalid(
                path,
                field,
                &format!("must be a positive number, found {}", self.value),
            ));
        }
        Ok(())
    }
}

/// Shared provenance rule: a source key from the table, or `flag` (estimate or
/// approximate) with a non-empty basis.
pub(crate) fn check_provenance(
    path: &Path,
    field: &str,
    sources: &Sources,
    source: Option<&str>,
    flagged: bool,
    basis: Option<&str>,
    flag_name: &str,
) -> Result<()> {
    if let Some(key) = source {
        if !sources.contains_key(key) {
            return Err(invalid(
                path,
                field,
                &format!(
                    "source `{key}` is not in the file's [sources] table (known: {})",
                    sources.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            ));
        }
    }
    if flagged {
        if basis.is_none_or(|b| b.trim().is_empty()) {
            return Err(invalid(
                path,
                field,
                &format!("`{flag_name} = true` needs a `basis` saying how the value was made"),
            ));
        }
    } else if source.is_none() {
        return Err(invalid(
            path,
            field,
            &format!("give a `source` key, or `{flag_name} = true` with a `basis`"),
        ));
    }
    Ok(())
}

/// Shorthand for [`Error::Invalid`].
pub(crate) fn invalid(path: &Path, field: &str, message: &str) -> Error {
    Error::Invalid {
        path: path.to_path_buf(),
        field: field.to_string(),
        message: message.to_string(),
    }
}

/// Seconds since 1970-01-01T00:00Z of a Beijing-time (UTC+8) stamp `YYYY-MM-DDTHH:MM`
/// (or with `:SS`), the clock of every operating decision in the reference; `None` if
/// the text is not such a stamp or names no real date or time (30 February, 24:00).
/// The calendar is [`crate::bounds::beijing_time`]'s, which also says why a stamp fails.
pub fn beijing_time_s(stamp: &str) -> Option<f64> {
    crate::bounds::beijing_time(stamp).ok()
}

/// Reads a structures TOML file into `T`, naming the file in every error.
pub(crate) fn read<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    crate::error::read_toml(
        path,
        "the structures files live in models/structures/ (reservoirs.toml, \
         detention_basins.toml, levees.toml, diversions.toml)",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beijing_time_matches_known_instants() {
        // 1970-01-01 08:00 Beijing = epoch.
        assert_eq!(beijing_time_s("1970-01-01T08:00"), Some(0.0));
        // 2023-07-31 23:30 Beijing = 2023-07-31 15:30 UTC = 1690817400 s.
        assert_eq!(beijing_time_s("2023-07-31T23:30"), Some(1_690_817_400.0));
        assert_eq!(beijing_time_s("2023-02-30"), None);
        assert_eq!(beijing_time_s("2023-02-30T10:00"), None);
        assert_eq!(beijing_time_s("2023-07-31T24:00"), None);
    }
}
