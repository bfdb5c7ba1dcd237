//! Typed errors of the library. Each names the file, the field and the fix.

use std::path::PathBuf;

/// Result with the library's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

/// Everything that can go wrong in the library, with enough context to fix it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file that should exist does not.
    #[error("{path}: file not found. {fix}")]
    MissingFile {
        /// The file that was looked for.
        path: PathBuf,
        /// What the user can do about it.
        fix: String,
    },
    /// GDAL could not open or read a raster or vector file.
    #[error("{path}: {message}")]
    Gdal {
        /// The file GDAL was working on.
        path: PathBuf,
        /// GDAL's message, with the fix where known.
        message: String,
    },
    /// netCDF could not open, read or write a file, or a variable was missing.
    #[error("{path}: {message}")]
    NetCdf {
        /// The netCDF file.
        path: PathBuf,
        /// What went wrong and how to fix it.
        message: String,
    },
    /// Two grids that must share shape, transform and CRS do not.
    #[error("grids are not aligned: {0}")]
    Misaligned(String),
    /// A raster carries no coordinate reference system.
    #[error(
        "{path}: the raster has no CRS. Assign the one its coordinates are in, e.g. `gdal_edit.py -a_srs EPSG:32650 {path}` (a grid the flood runs on needs a projected CRS in metres; EPSG:4326 for longitude/latitude)"
    )]
    NoCrs {
        /// The raster without a CRS.
        path: PathBuf,
    },
    /// A configuration or data file has a wrong or missing value.
    #[error("{path}: field `{field}`: {message}")]
    Invalid {
        /// The file holding the bad value.
        path: PathBuf,
        /// The field (key, column, variable) at fault.
        field: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// A TOML file could not be parsed.
    #[error("{path}: {message}")]
    Toml {
        /// The TOML file.
        path: PathBuf,
        /// The parser's message (names the line and key).
        message: String,
    },
    /// Plain I/O failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Any other failure in the data, with its explanation.
    #[error("{0}")]
    Data(String),
}

impl Error {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
    /// Wraps a GDAL error with the path it concerns.
    pub fn gdal(path: impl Into<PathBuf>, e: impl std::fmt::Display) -> Self {
        Error::Gdal {
            path: path.into(),
            message: e.to_string(),
        }
    }
}

/// Reads a whole text file; a missing file gives [`Error::MissingFile`] with `fix`.
pub fn read_text(path: &std::path::Path, fix: &str) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::MissingFile {
                path: path.to_path_buf(),
                fix: fix.to_string(),
            }
        } else {
            Error::io(path, e)
        }
    })
}

/// Reads and parses a TOML file; a parse error or an unknown key (for types that deny
/// them) gives [`Error::Toml`] naming the file, line and key.
pub fn read_toml<T: serde::de::DeserializeOwned>(path: &std::path::Path, fix: &str) -> Result<T> {
    toml::from_str(&read_text(path, fix)?).map_err(|e| Error::Toml {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}
