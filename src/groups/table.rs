//! Tables at the edges: reading the county table, writing the group table (CSV).

use super::definition::CountyInfo;
use super::membership::{Group, GroupTally};
use crate::escape::WriteCells;
use crate::{Error, Result};
use std::path::Path;

/// Reads a county table: a UTF-8 CSV with a header holding `adcode` and `name` (or
/// `county`), and optionally `province` and `city` (other columns are ignored). Reads
/// both `rasters/model/counties.csv` and the census table `census2020_counties.csv`.
pub fn read_counties_csv(path: &Path) -> Result<Vec<CountyInfo>> {
    let invalid = |field: &str, message: String| Error::Invalid {
        path: path.to_path_buf(),
        field: field.to_string(),
        message,
    };
    let mut reader = csv::Reader::from_path(path).map_err(|e| match e.kind() {
        csv::ErrorKind::Io(io) if io.kind() == std::io::ErrorKind::NotFound => Error::MissingFile {
            path: path.to_path_buf(),
            fix: "run `haihe prepare` to build rasters/model/counties.csv".into(),
        },
        _ => invalid("header", e.to_string()),
    })?;
    let headers = reader
        .headers()
        .map_err(|e| invalid("header", e.to_string()))?
        .clone();
    let col = |names: &[&str]| headers.iter().position(|h| names.contains(&h.trim()));
    let adcode_col = col(&["adcode"])
        .ok_or_else(|| invalid("adcode", "no `adcode` column in the header".into()))?;
    let name_col = col(&["name", "county"]).ok_or_else(|| {
        invalid(
            "name",
            "no `name` (or `county`) column in the header".into(),
        )
    })?;
    let province_col = col(&["province"]);
    let city_col = col(&["city"]);
    let mut out = Vec::new();
    for (i, record) in reader.records().enumerate() {
        // Data rows are numbered from 2: line 1 is the header.
        let row = i + 2;
        let record = crate::escape::unguard_record(
            &record.map_err(|e| invalid("row", format!("row {row}: {e}")))?,
        );
        let get = |c: Option<usize>| {
            c.and_then(|c| record.get(c))
                .unwrap_or("")
                .trim()
                .to_string()
        };
        let code_text = get(Some(adcode_col));
        let adcode = code_text.parse::<u32>().map_err(|_| {
            invalid(
                "adcode",
                format!("row {row}: '{code_text}' is not a 6-digit administrative code"),
            )
        })?;
        out.push(CountyInfo {
            adcode,
            name: get(Some(name_col)),
            province: get(province_col),
            city: get(city_col),
        });
    }
    Ok(out)
}

/// One row of the group table.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupRow {
    /// The group.
    pub group: Group,
    /// What it holds on the grid.
    pub tally: GroupTally,
}

impl GroupRow {
    /// A row from a group and its tally.
    pub fn new(group: Group, tally: GroupTally) -> Self {
        GroupRow { group, tally }
    }
}

/// Writes the group table as UTF-8 CSV with columns id, name, name_en, kind, counties
/// (adcodes joined by ';'), county_names (with elevation rules, ';'), cells, area_km2,
/// population, population_missing_cells, notes. Written to a temporary file in the same
/// folder and renamed, so a reader never sees half a table.
pub fn write_groups_csv(path: &Path, rows: &[GroupRow]) -> Result<()> {
    let csv_err = |e: csv::Error| Error::Data(format!("{}: writing CSV: {e}", path.display()));
    crate::grid::io::write_atomically(path, |tmp| {
        let mut w = csv::Writer::from_path(tmp).map_err(csv_err)?;
        w.write_cells([
            "id",
            "name",
            "name_en",
            "kind",
            "counties",
            "county_names",
            "cells",
            "area_km2",
            "population",
            "population_missing_cells",
            "notes",
        ])
        .map_err(csv_err)?;
        for row in rows {
            let g = &row.group;
            let t = &row.tally;
            let codes: Vec<String> = g.counties.iter().map(u32::to_string).collect();
            w.write_cells([
                g.id.as_str(),
                g.name.as_str(),
                g.name_en.as_str(),
                g.kind.as_str(),
                &codes.join(";"),
                &g.county_names.join(";"),
                &t.cells.to_string(),
                &format!("{:.3}", t.area_km2),
                &format!("{:.1}", t.population),
                &t.population_missing_cells.to_string(),
                g.notes.trim(),
            ])
            .map_err(csv_err)?;
        }
        w.flush().map_err(|e| Error::io(path, e))
    })
}
