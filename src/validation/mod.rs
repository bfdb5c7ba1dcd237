//! Validation against historical storms (issue 7): the storm catalogue
//! (`models/storms/*.toml`, [`storm`]), placing stations through populated places and
//! county seats ([`places`]), the rain reconstruction ([`reconstruct`]), gauges snapped
//! to the model's drainage ([`gauges`]), skill metrics ([`metrics`]) and the
//! `haihe validate` runner ([`run`]).

pub mod gauges;
pub mod metrics;
pub mod places;
pub mod reconstruct;
pub mod run;
pub mod storm;
pub mod time;

pub use run::{
    check_storm, validate_all, validate_storm, Operation, ValidateInputs, ValidationReport,
};
pub use storm::{load_storm, LoadedStorm, Storm};
