//! Runoff and infiltration: the SCS curve number applied to cumulative rain per cell
//! ([`curve_number`]), or an initial and constant loss ([`constant_loss`]); the
//! parameters per land-cover class ([`params`]); and [`LossGrid`], which steps either
//! model over the grid and hands the routing the rain that runs off and the loss.
//!
//! # See also
//! [`crate::flood::rain`] for the rain per cell and step.

pub mod constant_loss;
pub mod curve_number;
pub mod params;

pub use constant_loss::initial_constant_step;
pub use curve_number::{
    cn_amc_i, cn_amc_iii, cn_for_amc, retention_005_mm, retention_and_ia_mm, retention_mm,
    scs_incremental, scs_incremental_grid, scs_runoff, Amc, Lambda,
};
pub use params::{load_runoff_params, RunoffClass, RunoffTable};

use crate::{Error, Result};
use ndarray::{Array2, ArrayView2, ArrayViewMut2, Zip};
use serde::Deserialize;

fn default_lambda() -> Lambda {
    Lambda::L020
}

fn default_amc() -> Amc {
    Amc::II
}

/// The loss model of a flood run (a scenario's `[loss]` table, `method = ...`).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case", deny_unknown_fields)]
pub enum LossModel {
    /// SCS curve number per land-cover class (models/runoff.toml), with the
    /// initial-abstraction ratio (0.2 or 0.05) and antecedent moisture (I, II, III).
    CurveNumber {
        /// λ = I_a/S: 0.2 (TR-55) or 0.05 (Hawkins et al. 2002), default 0.2.
        #[serde(default = "default_lambda")]
        lambda: Lambda,
        /// Antecedent moisture condition, default II.
        #[serde(default = "default_amc")]
        amc: Amc,
    },
    /// Initial loss, then a constant loss rate, the same on every cell.
    InitialConstant {
        /// Initial loss, mm.
        initial_loss_mm: f64,
        /// Continuing loss rate, mm/h.
        rate_mm_per_h: f64,
    },
}

/// The state of the loss model over the grid: cumulative rain per cell (curve number)
/// or the unfilled initial loss (initial and constant).
#[derive(Debug, Clone)]
pub struct LossGrid {
    method: Method,
}

#[derive(Debug, Clone)]
enum Method {
    CurveNumber {
        cn: Array2<f64>,
        lambda: Lambda,
        cum_rain_mm: Array2<f64>,
    },
    InitialConstant {
        rate_mm_per_h: f64,
        initial_left_mm: Array2<f64>,
    },
}

impl LossGrid {
    /// Curve-number losses with CN per cell `cn` (already adjusted for antecedent moisture;
    /// `NaN` outside the model) and ratio `lambda`; no rain has fallen yet.
    pub fn curve_number(cn: Array2<f64>, lambda: Lambda) -> Result<Self> {
        if let Some(&bad) = cn
            .iter()
            .find(|c| c.is_finite() && !(**c > 0.0 && **c <= 100.0))
        {
            return Err(Error::Data(format!(
                "curve-number grid: value {bad} is outside (0, 100]"
            )));
        }
        let cum = Array2::zeros(cn.dim());
        Ok(LossGrid {
            method: Method::CurveNumber {
                cn,
                lambda,
                cum_rain_mm: cum,
            },
        })
    }

    /// Initial and constant losses on a grid of `shape` (rows, cols).
    pub fn initial_constant(
        shape: (usize, usize),
        initial_loss_mm: f64,
        rate_mm_per_h: f64,
    ) -> Result<Self> {
        if !(initial_loss_mm >= 0.0
            && initial_loss_mm.is_finite()
            && rate_mm_per_h >= 0.0
            && rate_mm_per_h.is_finite())
        {
            return Err(Error::Data(format!(
                "initial/constant loss: initial loss {initial_loss_mm} mm and rate {rate_mm_per_h} mm/h must be non-negative"
            )));
        }
        Ok(LossGrid {
            method: Method::InitialConstant {
                rate_mm_per_h,
                initial_left_mm: Array2::from_elem(shape, initial_loss_mm),
            },
        })
    }

    /// The loss grid for `model`, with the land-cover grid and the runoff table for the
    /// curve-number method.
    pub fn for_model(
        model: &LossModel,
        land_cover: ArrayView2<u8>,
        table: &RunoffTable,
    ) -> Result<Self> {
        match *model {
            LossModel::CurveNumber { lambda, amc } => {
                LossGrid::curve_number(table.cn_grid(land_cover, amc)?, lambda)
            }
            LossModel::InitialConstant {
                initial_loss_mm,
                rate_mm_per_h,
            } => LossGrid::initial_constant(land_cover.dim(), initial_loss_mm, rate_mm_per_h),
        }
    }

    /// Shifts every curve number by `delta` (clamped to [1, 100]), for ensemble members
    /// that sample the uncertainty of the CN table; no effect on the initial/constant
    /// method.
    pub fn shift_curve_numbers(&mut self, delta: f64) {
        if let Method::CurveNumber { cn, .. } = &mut self.method {
            cn.mapv_inplace(|c| {
                if c.is_finite() {
                    (c + delta).clamp(1.0, 100.0)
                } else {
                    c
                }
            });
        }
    }

    /// Splits the rain of one step (`rain_mm` per cell, over `step_h` hours) into runoff
    /// and loss (mm per cell, written into the two outputs; runoff + loss = rain), and
    /// advances the state. Shapes must match the grid (internal invariant).
    pub fn step(
        &mut self,
        rain_mm: ArrayView2<f64>,
        step_h: f64,
        runoff_mm: ArrayViewMut2<f64>,
        loss_mm: ArrayViewMut2<f64>,
    ) {
        match &mut self.method {
            Method::CurveNumber {
                cn,
                lambda,
                cum_rain_mm,
            } => {
                let lambda = *lambda;
                Zip::from(runoff_mm)
                    .and(loss_mm)
                    .and(cum_rain_mm)
                    .and(rain_mm)
                    .and(&*cn)
                    .par_for_each(|q, f, cum, &r, &c| {
                        let now = *cum + r.max(0.0);
                        let (a, b) = scs_incremental(*cum, now, c, lambda);
                        *q = a;
                        *f = b;
                        *cum = now;
                    });
            }
            Method::InitialConstant {
                rate_mm_per_h,
                initial_left_mm,
            } => {
                let rate = *rate_mm_per_h;
                Zip::from(runoff_mm)
                    .and(loss_mm)
                    .and(initial_left_mm)
                    .and(rain_mm)
                    .par_for_each(|q, f, left, &r| {
                        let (a, b) = initial_constant_step(r, step_h, rate, left);
                        *q = a;
                        *f = b;
                    });
            }
        }
    }
}
