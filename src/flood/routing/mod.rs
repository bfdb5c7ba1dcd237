//! Two-dimensional flood routing with the local-inertial ("acceleration") scheme.
//!
//! Water depth lives on cell centres and discharge per unit width on cell faces of a
//! regular square grid. Each step:
//!
//! 1. picks an adaptive time step `Δt = α Δx / sqrt(g h_max)` (Bates et al. 2010, eq. 12),
//!    capped by [`Params::dt_max_s`] and the caller's output time;
//! 2. updates every face discharge with the θ-weighted local-inertial momentum equation and
//!    semi-implicit Manning friction (de Almeida et al. 2012, eq. 11):
//!    `q = [θ q + (1−θ)/2 (q_left + q_right) − g h_f Δt ∂η/∂x] / [1 + g Δt n² |q| / h_f^{7/3}]`,
//!    with `h_f = max(η_i, η_j) − max(z_i, z_j)` and `q = 0` where `h_f ≤ h_min`;
//! 3. applies point and line sources (inflow hydrographs, structure exchanges; withdrawals
//!    limited by the water present);
//! 4. limits the outflow of each cell so that its depth cannot go negative: when the
//!    outgoing volume over `Δt` exceeds the water present plus this step's rain, every
//!    outgoing face of that cell is scaled by the same factor (a standard positivity fix;
//!    each face has exactly one donor cell, so the result does not depend on order);
//! 5. updates depth by continuity, `h += Δt (Σq_in − Σq_out)/Δx + Δt r`, then removes
//!    infiltration limited by the water present and resets fixed-level (sea) cells. The
//!    update is summed in f64 and the part the f32 depth cannot hold is carried to the next
//!    step in [`State::depth_residual_m`] (compensated summation), so rounding loses no
//!    water even where small increments land on deep cells.
//!
//! Every volume that crosses the domain's boundary or enters from a source is booked in
//! f64, so a run can close its mass balance (see [`run_until`] and [`RunReport`]).
//!
//! # Layout and precision
//! Cells are row-major, row 0 to the north. `qx` has `nrows × (ncols+1)` faces: face
//! `(r, c)` is the west face of cell `(r, c)`, positive eastwards. `qy` has
//! `(nrows+1) × ncols` faces: face `(r, c)` is the north face of cell `(r, c)`, positive
//! southwards (towards larger rows). State arrays are f32 (half the memory traffic of f64;
//! depth and discharge need no more than 7 digits); time, volumes and the mass balance are
//! f64.
//!
//! # Parallelism and determinism
//! Faces and cells are updated in row bands with rayon. Every face and every cell is a
//! function of the previous state only, and reductions (h_max, wet bounds, volumes) are
//! stored per row and combined serially in row order, so results are bit-identical for any
//! number of threads. Only the window of rows and columns around wet cells (plus one cell)
//! is updated; outside it every face is zero and every cell dry, so the window gives the
//! same bits as a full-domain update ([`Params::use_wet_window`] switches it off).
//!
//! # Levees and walls on faces
//! A domain may carry a crest elevation per face ([`Domain::with_crests`]). The face then
//! uses `max(z_i, z_j, crest)` as its bed in step 2, so water crosses only above the
//! crest and a lake below it stays at rest; over a crest that stands above both cells
//! the discharge is capped by the free broad-crested weir discharge
//! `(2/3)^{3/2} √g H^{3/2}` per unit width (critical flow on the crest), since the
//! scheme, without advection, would pass more over a steep drop. This is how LISFLOOD-FP
//! represents sub-grid walls and weirs on faces. A domain without crests runs the plain
//! face loops (a const-generic switch, no extra work per face); subgrid channel links
//! are never blocked by a crest. [`Domain::set_crest_m`] changes a crest between steps
//! (a breach).
//!
//! # Caveats
//! The scheme drops the advection term and is meant for gradually varied, subcritical
//! flow with Manning's n ≥ ~0.03 (Bates et al. 2010; de Almeida & Bates 2013). It is not a
//! shock-capturing solver: frictionless dam breaks show a visible error at the front.
//!
//! # Reference
//! - Bates, P.D., Horritt, M.S., Fewtrell, T.J. (2010). A simple inertial formulation of
//!   the shallow water equations for efficient two-dimensional flood inundation modelling.
//!   J. Hydrol. 387, 33–45.
//! - de Almeida, G.A.M., Bates, P., Freer, J.E., Souvignet, M. (2012). Improving the
//!   stability of a simple formulation of the shallow water equations for 2-D flood
//!   modeling. Water Resour. Res. 48, W05528.
//!
//! # See also
//! [`crate::flood::rain`] for rain fields, [`crate::flood::runoff`] for infiltration.

pub mod cases;
mod gauges;
pub mod isa;
#[cfg(test)]
mod isa_tests;
mod kernel;
mod subgrid;

pub use gauges::{
    cell_outflow_m3s, cell_volume_m3, channel_width_m, exchange_volume_m3, face_discharge_m3s,
    line_discharge_m3s, stage_m, storage_m3, Face,
};
pub use subgrid::{ChannelCells, Dir4};

use crate::{Error, Result};
use serde::Deserialize;

/// Bed elevation used inside the kernel for inactive cells: so high that no face next to
/// them ever carries flow (`h_f = 0`), without NaN arithmetic in the inner loops.
pub(crate) const INACTIVE_BED_M: f32 = 1.0e30;

/// Condition on one side of the grid, applied to every edge face of that side.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum Boundary {
    /// No flow across the edge.
    Closed,
    /// Outflow at normal depth for the given energy slope (m/m): the edge face obeys the
    /// same semi-implicit momentum equation with `∂η/∂x = −slope`, whose steady state is
    /// Manning's `q = h^{5/3} sqrt(S) / n` (LISFLOOD-FP "FREE" boundary). Never inflow.
    FreeOutflow {
        /// Water-surface slope driving the outflow, m/m (> 0).
        slope: f64,
    },
    /// Water surface held at a level (m) in a ghost cell one cell width outside the edge,
    /// on the edge cell's bed (LISFLOOD-FP "HFIX"). Water can flow in or out.
    FixedLevel {
        /// Water-surface elevation of the ghost cell, m.
        level_m: f64,
    },
}

/// The conditions on the four sides of the grid (north = row 0, west = column 0).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Boundaries {
    /// Side of row 0.
    pub north: Boundary,
    /// Side of the last row.
    pub south: Boundary,
    /// Side of the last column.
    pub east: Boundary,
    /// Side of column 0.
    pub west: Boundary,
}

impl Boundaries {
    /// All four sides closed.
    pub fn closed() -> Self {
        Self::uniform(Boundary::Closed)
    }
    /// The same condition on all four sides.
    pub fn uniform(b: Boundary) -> Self {
        Self {
            north: b,
            south: b,
            east: b,
            west: b,
        }
    }
}

/// The static description of a routing grid: geometry, bed, roughness, boundaries.
#[derive(Debug, Clone)]
pub struct Domain {
    nrows: usize,
    ncols: usize,
    dx_m: f64,
    /// Bed as used by the kernel: inactive cells hold [`INACTIVE_BED_M`].
    bed_m: Vec<f32>,
    manning_n: Vec<f32>,
    fixed_level_m: Vec<f32>,
    has_fixed: bool,
    /// Row/column bounds of fixed-level cells, if any.
    fixed_bounds: Option<Window>,
    /// Conditions on the four sides; may be changed between steps (e.g. a tide level).
    pub boundaries: Boundaries,
    /// Subgrid channels (Neal et al. 2012), if any.
    channels: Option<Box<subgrid::Channels>>,
    /// Crest elevations on faces (levees), if any.
    crests: Option<Box<Crests>>,
}

/// Crest elevation per face, m; `-inf` where a face has no crest (the kernel takes
/// `max(z_i, z_j, crest)`, so `-inf` leaves the face as it is, without a branch).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Crests {
    /// x faces, `nrows × (ncols+1)`.
    pub x_m: Vec<f32>,
    /// y faces, `(nrows+1) × ncols`.
    pub y_m: Vec<f32>,
}

impl Domain {
    /// Builds a domain of `nrows × ncols` square cells of `dx_m` metres. `bed_m` is
    /// row-major (row 0 north), NaN marks an inactive cell (no water, closed faces).
    /// `manning_n` is Manning's n per cell (s m^-1/3); a face uses the mean of its two
    /// cells. Errors on wrong lengths, non-positive `dx_m` or invalid n on active cells.
    pub fn new(
        nrows: usize,
        ncols: usize,
        dx_m: f64,
        bed_m: Vec<f32>,
        manning_n: Vec<f32>,
        boundaries: Boundaries,
    ) -> Result<Self> {
        let cells = nrows * ncols;
        if nrows == 0 || ncols == 0 {
            return Err(Error::Data("routing domain: empty grid".into()));
        }
        if !(dx_m.is_finite() && dx_m > 0.0) {
            return Err(Error::Data(format!(
                "routing domain: cell size {dx_m} m must be positive"
            )));
        }
        if bed_m.len() != cells || manning_n.len() != cells {
            return Err(Error::Data(format!(
                "routing domain: {nrows} × {ncols} grid needs {cells} bed and roughness values, got {} and {}",
                bed_m.len(),
                manning_n.len()
            )));
        }
        let mut bed = bed_m;
        for (i, (z, n)) in bed.iter_mut().zip(&manning_n).enumerate() {
            if z.is_nan() {
                *z = INACTIVE_BED_M;
            } else if !z.is_finite() || z.abs() > 1.0e6 {
                return Err(Error::Data(format!(
                    "routing domain: bed elevation {z} m at cell {i} is not a finite elevation"
                )));
            } else if !(n.is_finite() && *n >= 0.0) {
                return Err(Error::Data(format!(
                    "routing domain: Manning's n {n} at cell {i} must be finite and ≥ 0"
                )));
            }
        }
        Ok(Self {
            nrows,
            ncols,
            dx_m,
            bed_m: bed,
            manning_n,
            fixed_level_m: Vec::new(),
            has_fixed: false,
            fixed_bounds: None,
            boundaries,
            channels: None,
            crests: None,
        })
    }

    /// Adds crest elevations on cell faces (levees, walls, weirs), m: `crest_x_m` has one
    /// value per x face (`nrows × (ncols+1)`, face `(r, c)` = west face of cell `(r, c)`),
    /// `crest_y_m` one per y face (`(nrows+1) × ncols`, face `(r, c)` = north face of
    /// cell `(r, c)`); NaN or −∞ = no crest. A face with a crest uses
    /// `z_face = max(z_i, z_j, crest)` as its bed in the local-inertial flux, the way
    /// LISFLOOD-FP represents sub-grid walls on faces, and its discharge over a crest
    /// that stands above both cells is capped by the free broad-crested weir discharge
    /// `(2/3)^{3/2} √g H^{3/2}` per unit width (critical flow on the crest, e.g. Chow 1959
    /// §14; H = upstream water level above the crest). Crests on edge faces are ignored
    /// (the boundary conditions apply there). A subgrid channel link through a face with a
    /// crest is a flap-gated culvert: it passes water downstream only (see `subgrid`).
    /// Errors on wrong lengths or a crest that is not a finite elevation.
    pub fn with_crests(mut self, crest_x_m: Vec<f32>, crest_y_m: Vec<f32>) -> Result<Self> {
        let (nr, nc) = (self.nrows, self.ncols);
        if crest_x_m.len() != nr * (nc + 1) || crest_y_m.len() != (nr + 1) * nc {
            return Err(Error::Data(format!(
                "routing domain: crests need {} x-face and {} y-face values, got {} and {}",
                nr * (nc + 1),
                (nr + 1) * nc,
                crest_x_m.len(),
                crest_y_m.len()
            )));
        }
        let clean = |v: Vec<f32>, axis: &str| -> Result<Vec<f32>> {
            v.into_iter()
                .enumerate()
                .map(|(i, z)| {
                    if z.is_nan() || z == f32::NEG_INFINITY {
                        Ok(f32::NEG_INFINITY)
                    } else if z.is_finite() && z.abs() <= 1.0e6 {
                        Ok(z)
                    } else {
                        Err(Error::Data(format!(
                            "routing domain: crest {z} m on {axis} face {i} is not a finite elevation"
                        )))
                    }
                })
                .collect()
        };
        let x_m = clean(crest_x_m, "x")?;
        let y_m = clean(crest_y_m, "y")?;
        let any = x_m.iter().chain(&y_m).any(|&z| z > f32::NEG_INFINITY);
        self.crests = any.then(|| Box::new(Crests { x_m, y_m }));
        Ok(self)
    }

    /// Whether any face carries a crest.
    pub fn has_crests(&self) -> bool {
        self.crests.is_some()
    }

    /// Crest elevation on a face, m; `None` where the face has no crest or lies outside
    /// the grid.
    pub fn crest_m(&self, face: Face) -> Option<f32> {
        let cr = self.crests.as_deref()?;
        let z = match self.face_index(face)? {
            (true, f) => cr.x_m[f],
            (false, f) => cr.y_m[f],
        };
        (z > f32::NEG_INFINITY).then_some(z)
    }

    /// Sets (a finite `crest_m`) or removes (NaN or −∞) the crest of one face, m; for a
    /// breach that lowers a levee between steps. Errors on a face outside the grid or a
    /// crest that is not a finite elevation.
    pub fn set_crest_m(&mut self, face: Face, crest_m: f32) -> Result<()> {
        let Some((x, f)) = self.face_index(face) else {
            return Err(Error::Data(format!(
                "routing domain: face {face:?} lies outside the grid"
            )));
        };
        let z = if crest_m.is_nan() || crest_m == f32::NEG_INFINITY {
            f32::NEG_INFINITY
        } else if crest_m.is_finite() && crest_m.abs() <= 1.0e6 {
            crest_m
        } else {
            return Err(Error::Data(format!(
                "routing domain: crest {crest_m} m is not a finite elevation"
            )));
        };
        let (nr, nc) = (self.nrows, self.ncols);
        let cr = self.crests.get_or_insert_with(|| {
            Box::new(Crests {
                x_m: vec![f32::NEG_INFINITY; nr * (nc + 1)],
                y_m: vec![f32::NEG_INFINITY; (nr + 1) * nc],
            })
        });
        if x {
            cr.x_m[f] = z;
        } else {
            cr.y_m[f] = z;
        }
        Ok(())
    }

    /// (is an x face, index in the x- or y-face array) of a face inside the grid.
    fn face_index(&self, face: Face) -> Option<(bool, usize)> {
        let (nr, nc) = (self.nrows, self.ncols);
        match face {
            Face::X { row, col } if row < nr && col <= nc => Some((true, row * (nc + 1) + col)),
            Face::Y { row, col } if row <= nr && col < nc => Some((false, row * nc + col)),
            _ => None,
        }
    }

    /// Adds subgrid channels (Neal et al. 2012; see the `subgrid` section of the module
    /// doc): per cell a rectangular channel of `width_m` and `bank_depth_m` below the
    /// cell's bed (the bank), with its own Manning's n, linked to the face neighbour named
    /// by `downstream`. Cells that are inactive or hold a fixed level get no channel.
    /// Errors on wrong lengths or a channel with width ≥ Δx, depth ≤ 0 or n ≤ 0. Add
    /// fixed levels first.
    pub fn with_channels(mut self, cells: &ChannelCells) -> Result<Self> {
        let ch = subgrid::build(&self, cells)?;
        self.channels = (!ch.cell.is_empty()).then(|| Box::new(ch));
        Ok(self)
    }

    /// Number of channel cells (0 without channels).
    pub fn channel_cells(&self) -> usize {
        self.channels.as_ref().map_or(0, |c| c.cell.len())
    }
    /// Number of channel links (faces carrying channel flow, edges and sea outlets included).
    pub fn channel_links(&self) -> usize {
        self.channels.as_ref().map_or(0, |c| c.links.len())
    }
    /// Channels whose downstream cell is inactive or has no channel (closed ends).
    pub fn channel_closed_ends(&self) -> usize {
        self.channels.as_ref().map_or(0, |c| c.closed_ends)
    }
    /// Channel bed elevation of a cell, m; `None` where the cell has no channel.
    pub fn channel_bed_at(&self, cell: usize) -> Option<f32> {
        let ch = self.channels.as_ref()?;
        let k = *ch.index.get(cell)?;
        (k != subgrid::NONE).then(|| ch.bed_m[k as usize])
    }

    /// Marks fixed-level cells (the sea, a large lake): `level_m` per cell, NaN = free.
    /// Each step ends by setting such a cell's depth to `max(level − bed, 0)`; the water this
    /// adds or removes is booked as boundary inflow or outflow.
    pub fn with_fixed_levels(mut self, level_m: Vec<f32>) -> Result<Self> {
        if self.channels.is_some() {
            return Err(Error::Data(
                "routing domain: set fixed levels before adding channels".into(),
            ));
        }
        if level_m.len() != self.nrows * self.ncols {
            return Err(Error::Data(format!(
                "routing domain: fixed levels need {} values, got {}",
                self.nrows * self.ncols,
                level_m.len()
            )));
        }
        let mut w: Option<Window> = None;
        for (i, l) in level_m.iter().enumerate() {
            if !l.is_nan() && self.bed_m[i] < INACTIVE_BED_M {
                let (r, c) = (i / self.ncols, i % self.ncols);
                w = Some(Window::cell(r, c).union_opt(w));
            }
        }
        self.has_fixed = w.is_some();
        self.fixed_bounds = w;
        self.fixed_level_m = level_m;
        Ok(self)
    }

    /// Number of rows.
    pub fn nrows(&self) -> usize {
        self.nrows
    }
    /// Number of columns.
    pub fn ncols(&self) -> usize {
        self.ncols
    }
    /// Cell size, m.
    pub fn dx_m(&self) -> f64 {
        self.dx_m
    }
    /// Bed elevation of a cell, m; `None` for an inactive cell.
    pub fn bed_at(&self, cell: usize) -> Option<f32> {
        let z = self.bed_m[cell];
        (z < INACTIVE_BED_M).then_some(z)
    }
    /// The level a fixed-level cell (the sea) is held at, m; `None` for a free cell.
    pub fn fixed_level_at(&self, cell: usize) -> Option<f32> {
        let l = *self.fixed_level_m.get(cell)?;
        (!l.is_nan() && self.is_active(cell)).then_some(l)
    }
    /// Whether a cell takes part in the computation.
    pub fn is_active(&self, cell: usize) -> bool {
        self.bed_m[cell] < INACTIVE_BED_M
    }
    pub(crate) fn kernel_bed(&self) -> &[f32] {
        &self.bed_m
    }
    pub(crate) fn manning(&self) -> &[f32] {
        &self.manning_n
    }
    pub(crate) fn crests(&self) -> Option<&Crests> {
        self.crests.as_deref()
    }
}

/// Water on the grid: depth per cell and discharge per unit width per face (f32), time (f64).
#[derive(Debug, Clone, PartialEq)]
pub struct State {
    /// Water depth per cell, m (row-major).
    pub depth_m: Vec<f32>,
    /// Compensated-summation residual of each cell's depth, m (Kahan 1965): the part of the
    /// continuity update that f32 `depth_m` could not hold, carried into the next step so
    /// that no water is lost to rounding. Never larger than half an f32 ulp of the depth;
    /// [`storage_m3`] counts it.
    pub depth_residual_m: Vec<f32>,
    /// Discharge per unit width on x faces, m²/s, `nrows × (ncols+1)`, positive east.
    pub qx_m2s: Vec<f32>,
    /// Discharge per unit width on y faces, m²/s, `(nrows+1) × ncols`, positive south.
    pub qy_m2s: Vec<f32>,
    /// Discharge of each subgrid channel link, m³/s, positive east/south (empty without
    /// channels). On a channel cell, `depth_m` is the water surface minus the bank (the
    /// cell's bed): negative while the water stays in the channel, never below −bank depth.
    pub channel_q_m3s: Vec<f32>,
    /// Simulated time, s.
    pub time_s: f64,
}

impl State {
    /// A dry grid at rest at time 0 (empty channels: depth −bank depth).
    pub fn dry(domain: &Domain) -> Self {
        let (nr, nc) = (domain.nrows, domain.ncols);
        let mut s = Self {
            depth_m: vec![0.0; nr * nc],
            depth_residual_m: vec![0.0; nr * nc],
            qx_m2s: vec![0.0; nr * (nc + 1)],
            qy_m2s: vec![0.0; (nr + 1) * nc],
            channel_q_m3s: Vec::new(),
            time_s: 0.0,
        };
        if let Some(ch) = &domain.channels {
            s.channel_q_m3s = vec![0.0; ch.links.len()];
            for (k, &i) in ch.cell.iter().enumerate() {
                s.depth_m[i as usize] = -ch.bank_depth_m[k];
            }
        }
        s
    }
    /// Still water at a uniform surface level (m): depth `max(level − bed, 0)` on active
    /// cells; channels filled to the level (or empty where it lies below their bed).
    pub fn at_level(domain: &Domain, level_m: f32) -> Self {
        let mut s = Self::dry(domain);
        for (h, &z) in s.depth_m.iter_mut().zip(&domain.bed_m) {
            if z < INACTIVE_BED_M {
                *h = (level_m - z).max(*h);
            }
        }
        s
    }
}

/// Numerical parameters of the scheme.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Weight θ of the face's own discharge in the momentum update (de Almeida et al. 2012);
    /// 1 gives Bates et al. 2010, 0.7 damps checkerboard oscillations.
    pub theta: f64,
    /// Courant number α in `Δt = α Δx / sqrt(g h_max)` (Bates et al. 2010: 0.2–0.7).
    pub alpha_cfl: f64,
    /// Flow depth at a face (m) at or below which the face carries no flow.
    pub h_min_flow_m: f64,
    /// Largest time step, s (used while the grid is dry or very shallow).
    pub dt_max_s: f64,
    /// Gravitational acceleration, m/s².
    pub g_ms2: f64,
    /// Update only the window around wet cells (same results, faster on partly dry grids).
    pub use_wet_window: bool,
}

impl Default for Params {
    fn default() -> Self {
        Self {
            theta: 0.7,
            alpha_cfl: 0.7,
            h_min_flow_m: 1.0e-3,
            dt_max_s: 10.0,
            g_ms2: 9.80665,
            use_wet_window: true,
        }
    }
}

impl Params {
    fn validate(&self) -> Result<()> {
        let ok = (0.0..=1.0).contains(&self.theta)
            && self.alpha_cfl > 0.0
            && self.alpha_cfl <= 1.0
            && self.h_min_flow_m >= 0.0
            && self.dt_max_s > 0.0
            && self.g_ms2 > 0.0;
        if ok {
            Ok(())
        } else {
            Err(Error::Data(format!(
                "routing parameters out of range: {self:?} (need 0 ≤ θ ≤ 1, 0 < α ≤ 1, h_min ≥ 0, dt_max > 0, g > 0)"
            )))
        }
    }
}

/// A rate in m/s, either uniform over the grid or one value per cell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rate<'a> {
    /// The same rate everywhere, m/s.
    Uniform(f32),
    /// One rate per cell, m/s, row-major.
    PerCell(&'a [f32]),
}

impl Rate<'_> {
    #[inline(always)]
    pub(crate) fn at(&self, i: usize) -> f32 {
        match self {
            Rate::Uniform(v) => *v,
            Rate::PerCell(a) => a[i],
        }
    }
    fn is_zero(&self) -> bool {
        matches!(self, Rate::Uniform(v) if *v == 0.0)
    }
}

/// A total discharge spread evenly over a set of cells (a river entering along an edge,
/// a weir crest).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LineSource<'a> {
    /// Cells (row-major indices) sharing the discharge.
    pub cells: &'a [usize],
    /// Total discharge, m³/s; negative withdraws (limited by the water present).
    pub discharge_m3s: f64,
}

/// Water added or removed during one step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sources<'a> {
    /// Rain (or any net vertical input), m/s; applied to active cells only.
    pub rain_ms: Rate<'a>,
    /// Infiltration and other losses, m/s; limited by the water present.
    pub loss_ms: Rate<'a>,
    /// Point sources `(cell, discharge m³/s)`: inflow hydrographs, structure exchanges.
    /// Negative values withdraw, limited by the water present. Applied in list order.
    pub points: &'a [(usize, f64)],
    /// Line sources, applied after the point sources.
    pub lines: &'a [LineSource<'a>],
}

impl Default for Sources<'_> {
    fn default() -> Self {
        Self {
            rain_ms: Rate::Uniform(0.0),
            loss_ms: Rate::Uniform(0.0),
            points: &[],
            lines: &[],
        }
    }
}

/// Volumes (m³, f64) moved in one step or accumulated over a run.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Volumes {
    /// Rain falling on active cells.
    pub rain_in_m3: f64,
    /// Infiltration and losses actually removed.
    pub loss_m3: f64,
    /// Water added by point and line sources.
    pub inflow_m3: f64,
    /// Water removed by point and line sources (withdrawals, ≥ 0).
    pub withdrawal_m3: f64,
    /// Water entering across the grid edges and from fixed-level cells.
    pub boundary_in_m3: f64,
    /// Water leaving across the grid edges and into fixed-level cells.
    pub boundary_out_m3: f64,
}

impl Volumes {
    /// Adds another set of volumes.
    pub fn add(&mut self, o: &Volumes) {
        self.rain_in_m3 += o.rain_in_m3;
        self.loss_m3 += o.loss_m3;
        self.inflow_m3 += o.inflow_m3;
        self.withdrawal_m3 += o.withdrawal_m3;
        self.boundary_in_m3 += o.boundary_in_m3;
        self.boundary_out_m3 += o.boundary_out_m3;
    }
    /// Net water gained by the grid: inputs minus outputs, m³.
    pub fn net_m3(&self) -> f64 {
        self.rain_in_m3 + self.inflow_m3 + self.boundary_in_m3
            - self.loss_m3
            - self.withdrawal_m3
            - self.boundary_out_m3
    }
    /// Total input (rain, sources, boundary inflow), m³.
    pub fn input_m3(&self) -> f64 {
        self.rain_in_m3 + self.inflow_m3 + self.boundary_in_m3
    }
}

/// What one step did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepReport {
    /// Time step taken, s.
    pub dt_s: f64,
    /// Volumes moved during the step.
    pub volumes: Volumes,
    /// Largest depth at the start of the step (including fixed-level ghost cells), m.
    pub h_max_m: f64,
    /// Cells whose outflow was scaled down to keep their depth non-negative.
    pub limited_cells: usize,
    /// Cells in the updated window.
    pub window_cells: usize,
}

/// Rectangle of cells, inclusive bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Window {
    pub r0: usize,
    pub r1: usize,
    pub c0: usize,
    pub c1: usize,
}

impl Window {
    fn cell(r: usize, c: usize) -> Self {
        Self {
            r0: r,
            r1: r,
            c0: c,
            c1: c,
        }
    }
    fn union(self, o: Window) -> Self {
        Self {
            r0: self.r0.min(o.r0),
            r1: self.r1.max(o.r1),
            c0: self.c0.min(o.c0),
            c1: self.c1.max(o.c1),
        }
    }
    fn union_opt(self, o: Option<Window>) -> Self {
        match o {
            Some(o) => self.union(o),
            None => self,
        }
    }
    fn grow(self, nrows: usize, ncols: usize) -> Self {
        Self {
            r0: self.r0.saturating_sub(1),
            r1: (self.r1 + 1).min(nrows - 1),
            c0: self.c0.saturating_sub(1),
            c1: (self.c1 + 1).min(ncols - 1),
        }
    }
    fn cells(&self) -> usize {
        (self.r1 - self.r0 + 1) * (self.c1 - self.c0 + 1)
    }
}

/// Per-row partial sums of one step, combined serially in row order.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RowSums {
    pub rain_m: f64,
    pub loss_m: f64,
    pub bnd_in_m: f64,
    pub bnd_out_m: f64,
    pub limited: u32,
    /// Largest depth in the row after the step, m.
    pub h_max: f32,
    /// First and last wet column (`lo > hi` when the row is dry).
    pub wet_lo: u32,
    pub wet_hi: u32,
}

/// Buffers reused by every step (allocated once per run) and the cached wet bounds.
#[derive(Debug, Clone)]
pub struct Scratch {
    qx_new: Vec<f32>,
    qy_new: Vec<f32>,
    qc_new: Vec<f32>,
    chan_factor: Vec<f32>,
    chan_limited: Vec<bool>,
    chan_new: Vec<subgrid::ChanNew>,
    factor: Vec<f32>,
    rows: Vec<RowSums>,
    window: Option<Window>,
}

impl Scratch {
    /// Allocates the buffers for `domain` and reads the wet bounds of `state`. Call again
    /// (or [`Scratch::resync`]) whenever the state is changed other than by [`step`].
    pub fn new(domain: &Domain, state: &State) -> Self {
        let (nr, nc) = (domain.nrows, domain.ncols);
        let mut s = Self {
            qx_new: vec![0.0; nr * (nc + 1)],
            qy_new: vec![0.0; (nr + 1) * nc],
            qc_new: vec![0.0; domain.channel_links()],
            chan_factor: vec![1.0; domain.channel_cells()],
            chan_limited: vec![false; domain.channel_cells()],
            chan_new: vec![subgrid::ChanNew::default(); domain.channel_cells()],
            factor: vec![1.0; nr * nc],
            rows: vec![RowSums::default(); nr],
            window: None,
        };
        s.resync(domain, state);
        s
    }

    /// Takes note of water put into one cell outside [`step`] (a structure's release), so
    /// that the next step's window and time step see it; cheaper than [`Scratch::resync`].
    /// Removing water needs no note (the old bounds stay conservative).
    pub fn note_cell(&mut self, domain: &Domain, state: &State, cell: usize) {
        let (nr, nc) = (domain.nrows, domain.ncols);
        if cell >= nr * nc {
            return;
        }
        let (r, c) = (cell / nc, cell % nc);
        let h = state.depth_m[cell];
        if h > 0.0 {
            let rs = &mut self.rows[r];
            rs.h_max = rs.h_max.max(h);
            rs.wet_lo = rs.wet_lo.min(c as u32);
            rs.wet_hi = rs.wet_hi.max(c as u32);
            self.window = Some(Window::cell(r, c).grow(nr, nc).union_opt(self.window));
        }
    }

    /// Re-reads the wet bounds and largest depths of `state` after an outside change.
    pub fn resync(&mut self, domain: &Domain, state: &State) {
        let (nr, nc) = (domain.nrows, domain.ncols);
        self.qx_new.fill(0.0);
        self.qy_new.fill(0.0);
        self.factor.fill(1.0);
        let mut w: Option<Window> = None;
        for r in 0..nr {
            let row = &state.depth_m[r * nc..(r + 1) * nc];
            let mut rs = RowSums {
                wet_lo: u32::MAX,
                ..RowSums::default()
            };
            for (c, &h) in row.iter().enumerate() {
                if h > 0.0 {
                    rs.h_max = rs.h_max.max(h);
                    rs.wet_lo = rs.wet_lo.min(c as u32);
                    rs.wet_hi = rs.wet_hi.max(c as u32);
                }
                // Moving water on a dry cell's face also needs the window.
                let moving = state.qx_m2s[r * (nc + 1) + c] != 0.0
                    || state.qx_m2s[r * (nc + 1) + c + 1] != 0.0
                    || state.qy_m2s[r * nc + c] != 0.0
                    || state.qy_m2s[(r + 1) * nc + c] != 0.0;
                if h > 0.0 || moving {
                    w = Some(Window::cell(r, c).union_opt(w));
                }
            }
            self.rows[r] = rs;
        }
        self.window = w.map(|w| w.grow(nr, nc));
    }
}

/// Mass balance of a run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunReport {
    /// Steps taken.
    pub steps: usize,
    /// Volumes accumulated over the run.
    pub volumes: Volumes,
    /// Water stored at the start, m³.
    pub storage_start_m3: f64,
    /// Water stored at the end, m³.
    pub storage_end_m3: f64,
    /// `ΔS − (inputs − outputs)`, m³.
    pub mass_error_m3: f64,
    /// `|mass_error| / max(total input, storage at start)`.
    pub relative_error: f64,
}

/// Advances `state` by one adaptive step, not beyond `t_limit_s`. See the module doc for
/// the order of operations. Errors on a bad parameter, a source on an inactive or
/// out-of-range cell, a per-cell rate of the wrong length, or `t_limit_s ≤ time`.
pub fn step(
    domain: &Domain,
    state: &mut State,
    sources: &Sources,
    params: &Params,
    scratch: &mut Scratch,
    t_limit_s: f64,
) -> Result<StepReport> {
    params.validate()?;
    check_sources(domain, sources)?;
    let dx = domain.dx_m;

    // 1. Window and time step. Channels are updated as compact lists outside the window;
    // while only they hold water, the window shrinks to their first cell.
    let ch = domain.channels.as_deref();
    let (chan_h_max, chan_wet) = match ch {
        Some(ch) => subgrid::channel_depth_max(ch, state),
        None => (0.0, false),
    };
    let (window, ghost_h_max) = update_window(domain, sources, params, scratch);
    let window = match (window, ch) {
        (None, Some(ch)) if chan_wet => {
            let i = ch.cell[0] as usize;
            Some(Window::cell(i / domain.ncols, i % domain.ncols))
        }
        (w, _) => w,
    };
    let Some(win) = window else {
        // Nothing wet, no source: the state is still; just advance time.
        let dt = params.dt_max_s.min(t_limit_s - state.time_s);
        if dt <= 0.0 {
            return Err(time_error(state.time_s, t_limit_s));
        }
        state.time_s += dt;
        return Ok(StepReport {
            dt_s: dt,
            volumes: Volumes::default(),
            h_max_m: 0.0,
            limited_cells: 0,
            window_cells: 0,
        });
    };
    let mut h_max = (ghost_h_max as f64).max(chan_h_max);
    for rs in &scratch.rows[win.r0..=win.r1] {
        h_max = h_max.max(rs.h_max as f64);
    }
    let mut dt = params.dt_max_s.min(t_limit_s - state.time_s);
    if h_max > 0.0 {
        dt = dt.min(params.alpha_cfl * dx / (params.g_ms2 * h_max).sqrt());
    }
    if dt <= 0.0 || dt.is_nan() {
        return Err(time_error(state.time_s, t_limit_s));
    }

    // 2. Momentum: new face discharges into the scratch buffers, then swap.
    let k = kernel::Coeffs::new(params, dt, dx);
    match domain.crests() {
        None => {
            let q_new = (&mut scratch.qx_new[..], &mut scratch.qy_new[..]);
            kernel::fluxes::<false>(domain, state, q_new, win, &k, (&[], &[]));
        }
        Some(cr) => {
            let q_new = (&mut scratch.qx_new[..], &mut scratch.qy_new[..]);
            kernel::fluxes::<true>(domain, state, q_new, win, &k, (&cr.x_m, &cr.y_m));
        }
    }
    std::mem::swap(&mut state.qx_m2s, &mut scratch.qx_new);
    std::mem::swap(&mut state.qy_m2s, &mut scratch.qy_new);
    if let Some(ch) = ch {
        let lk = subgrid::LinkCoeffs {
            theta: params.theta,
            w: (1.0 - params.theta) / 2.0,
            g_dt: params.g_ms2 * dt,
            dx,
            h_min: params.h_min_flow_m,
        };
        subgrid::flux_links(domain, ch, state, &mut scratch.qc_new, &lk);
        std::mem::swap(&mut state.channel_q_m3s, &mut scratch.qc_new);
    }

    // 3. Point and line sources, serially in list order.
    let mut vol = Volumes::default();
    apply_sources(domain, state, sources, dt, &mut vol);

    // 4. Positivity: outflow factors per cell, then scale the outgoing faces.
    let mut any_limited = match ch {
        None => kernel::outflow_factors::<false>(
            domain,
            state,
            &sources.rain_ms,
            &mut scratch.factor,
            &mut scratch.rows,
            win,
            dt,
            &[],
        ),
        Some(ch) => kernel::outflow_factors::<true>(
            domain,
            state,
            &sources.rain_ms,
            &mut scratch.factor,
            &mut scratch.rows,
            win,
            dt,
            &ch.index,
        ),
    };
    if let Some(ch) = ch {
        let chan_limited = subgrid::channel_factors(
            domain,
            ch,
            state,
            &sources.rain_ms,
            &mut scratch.factor,
            &mut scratch.chan_factor,
            &mut scratch.chan_limited,
            &mut scratch.rows,
            win,
            dt,
        );
        if chan_limited {
            subgrid::scale_links(ch, &mut state.channel_q_m3s, &scratch.chan_factor);
        }
        any_limited |= chan_limited;
    }
    if any_limited {
        kernel::scale_outflows(domain, state, &scratch.factor, &scratch.rows, win);
    }

    // 5. Continuity, losses, fixed-level cells; per-row sums. Channel cells in volume.
    let mut chan_vol = subgrid::ChannelVolumes::default();
    match ch {
        None => {
            kernel::continuity::<false>(domain, state, sources, &mut scratch.rows, win, dt, &[])
        }
        Some(ch) => {
            kernel::continuity::<true>(
                domain,
                state,
                sources,
                &mut scratch.rows,
                win,
                dt,
                &ch.index,
            );
            chan_vol = subgrid::continuity_channels(
                domain,
                ch,
                state,
                sources,
                &mut scratch.rows,
                &mut scratch.chan_new,
                dt,
            );
        }
    }

    let cell_area = dx * dx;
    let mut limited = 0usize;
    for rs in &scratch.rows[win.r0..=win.r1] {
        vol.rain_in_m3 += rs.rain_m * cell_area;
        vol.loss_m3 += rs.loss_m * cell_area;
        vol.boundary_in_m3 += rs.bnd_in_m * cell_area;
        vol.boundary_out_m3 += rs.bnd_out_m * cell_area;
        limited += rs.limited as usize;
    }
    vol.rain_in_m3 += chan_vol.rain_m3;
    vol.loss_m3 += chan_vol.loss_m3;
    vol.boundary_in_m3 += chan_vol.bnd_in_m3;
    vol.boundary_out_m3 += chan_vol.bnd_out_m3;
    state.time_s += dt;
    Ok(StepReport {
        dt_s: dt,
        volumes: vol,
        h_max_m: h_max,
        limited_cells: limited,
        window_cells: win.cells(),
    })
}

fn time_error(t: f64, t_limit: f64) -> Error {
    Error::Data(format!(
        "routing step: time limit {t_limit} s is not after the current time {t} s"
    ))
}

/// Runs steps until `t_end_s`, asking `sources_at(time_s)` for the sources of each step,
/// and closes the mass balance: storage change against rain + inflow + boundary inflow −
/// losses − withdrawals − boundary outflow, all in f64.
pub fn run_until<'a, F>(
    domain: &Domain,
    state: &mut State,
    t_end_s: f64,
    mut sources_at: F,
    params: &Params,
) -> Result<RunReport>
where
    F: FnMut(f64) -> Sources<'a>,
{
    let mut scratch = Scratch::new(domain, state);
    let storage_start_m3 = storage_m3(domain, state);
    let mut volumes = Volumes::default();
    let mut steps = 0;
    while state.time_s < t_end_s {
        let src = sources_at(state.time_s);
        let rep = step(domain, state, &src, params, &mut scratch, t_end_s)?;
        volumes.add(&rep.volumes);
        steps += 1;
    }
    Ok(mass_balance(
        domain,
        state,
        storage_start_m3,
        volumes,
        steps,
    ))
}

/// Closes the mass balance of a run from its start storage and accumulated volumes.
pub fn mass_balance(
    domain: &Domain,
    state: &State,
    storage_start_m3: f64,
    volumes: Volumes,
    steps: usize,
) -> RunReport {
    let storage_end_m3 = storage_m3(domain, state);
    let mass_error_m3 = (storage_end_m3 - storage_start_m3) - volumes.net_m3();
    let scale = volumes
        .input_m3()
        .max(storage_start_m3)
        .max(f64::MIN_POSITIVE);
    RunReport {
        steps,
        volumes,
        storage_start_m3,
        storage_end_m3,
        mass_error_m3,
        relative_error: mass_error_m3.abs() / scale,
    }
}

fn check_sources(domain: &Domain, s: &Sources) -> Result<()> {
    let cells = domain.nrows * domain.ncols;
    for (name, r) in [("rain", &s.rain_ms), ("loss", &s.loss_ms)] {
        if let Rate::PerCell(a) = r {
            if a.len() != cells {
                return Err(Error::Data(format!(
                    "routing sources: {name} rate has {} values for {cells} cells",
                    a.len()
                )));
            }
        }
    }
    let bad = |i: usize| i >= cells || !domain.is_active(i);
    for &(i, q) in s.points {
        if bad(i) || !q.is_finite() {
            return Err(Error::Data(format!(
                "routing sources: point source at cell {i} ({q} m³/s) is outside the active grid or not finite"
            )));
        }
    }
    for l in s.lines {
        if l.cells.iter().any(|&i| bad(i)) || !l.discharge_m3s.is_finite() {
            return Err(Error::Data(
                "routing sources: a line source has a cell outside the active grid or a non-finite discharge".into(),
            ));
        }
    }
    Ok(())
}

/// Adds (or withdraws, limited by the water present) point and line sources.
fn apply_sources(domain: &Domain, state: &mut State, s: &Sources, dt: f64, vol: &mut Volumes) {
    let area = domain.dx_m * domain.dx_m;
    let ch = domain.channels.as_deref();
    let mut apply = |i: usize, q: f64| {
        if let Some(ch) = ch {
            let k = ch.index[i];
            if k != subgrid::NONE {
                let v = subgrid::add_volume(ch, k as usize, &mut state.depth_m[i], q * dt, area);
                if v >= 0.0 {
                    vol.inflow_m3 += v;
                } else {
                    vol.withdrawal_m3 -= v;
                }
                return;
            }
        }
        let h = state.depth_m[i] as f64;
        if q >= 0.0 {
            let new = (h + q * dt / area) as f32;
            vol.inflow_m3 += (new as f64 - h) * area;
            state.depth_m[i] = new;
        } else {
            let new = ((h + q * dt / area).max(0.0)) as f32;
            vol.withdrawal_m3 += (h - new as f64) * area;
            state.depth_m[i] = new;
        }
    };
    for &(i, q) in s.points {
        apply(i, q);
    }
    for l in s.lines {
        if l.cells.is_empty() {
            continue;
        }
        let q = l.discharge_m3s / l.cells.len() as f64;
        for &i in l.cells {
            apply(i, q);
        }
    }
}

/// Works out this step's window (wet cells and sources plus one cell, united with the
/// previous window so that faces outside it are always zero) and the deepest ghost cell of
/// fixed-level sides.
fn update_window(
    domain: &Domain,
    sources: &Sources,
    params: &Params,
    scratch: &mut Scratch,
) -> (Option<Window>, f32) {
    let (nr, nc) = (domain.nrows, domain.ncols);
    let full = Window {
        r0: 0,
        r1: nr - 1,
        c0: 0,
        c1: nc - 1,
    };
    let mut w: Option<Window> = None;
    for (r, rs) in scratch.rows.iter().enumerate() {
        if rs.wet_lo <= rs.wet_hi {
            let rw = Window {
                r0: r,
                r1: r,
                c0: rs.wet_lo as usize,
                c1: rs.wet_hi as usize,
            };
            w = Some(rw.union_opt(w));
        }
    }
    for &(i, _) in sources.points {
        w = Some(Window::cell(i / nc, i % nc).union_opt(w));
    }
    for l in sources.lines {
        for &i in l.cells {
            w = Some(Window::cell(i / nc, i % nc).union_opt(w));
        }
    }
    if !sources.rain_ms.is_zero() {
        w = Some(full);
    }
    if let Some(f) = domain.fixed_bounds {
        w = Some(f.union_opt(w));
    }
    // Fixed-level sides feed water where the level stands above the edge cell's bed.
    let bed = domain.kernel_bed();
    let mut ghost_h_max = 0.0f32;
    let sides = [
        (domain.boundaries.north, true, 0usize),
        (domain.boundaries.south, true, nr - 1),
        (domain.boundaries.west, false, 0usize),
        (domain.boundaries.east, false, nc - 1),
    ];
    for (b, is_row, fixed) in sides {
        if let Boundary::FixedLevel { level_m } = b {
            let len = if is_row { nc } else { nr };
            for k in 0..len {
                let (r, c) = if is_row { (fixed, k) } else { (k, fixed) };
                let d = level_m as f32 - bed[r * nc + c];
                if d > 0.0 {
                    ghost_h_max = ghost_h_max.max(d);
                    w = Some(Window::cell(r, c).union_opt(w));
                }
            }
        }
    }
    let w = w.map(|w| w.grow(nr, nc));
    let w = match (w, scratch.window) {
        (Some(a), Some(b)) => Some(a.union(b)),
        (a, b) => a.or(b),
    };
    let w = if params.use_wet_window { w } else { Some(full) };
    scratch.window = w;
    (w, ghost_h_max)
}
