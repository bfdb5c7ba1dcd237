//! Subgrid channels in the local-inertial scheme (Neal, Schumann & Bates 2012).
//!
//! On a grid coarser than its rivers, a river cell carries a rectangular channel of width
//! `w` (m), bank-full depth `d` (m) and its own Manning's n along the cell, cut into the
//! cell's bed. The cell's bed elevation (the DEM) is the bank; the channel bed lies `d`
//! below it. Each channel cell has one water surface η:
//!
//! - its volume is `V(η) = w L (η − z_bed)` while η is below the bank, and
//!   `w L d + Δx² (η − z_bank)` above it (`L` = channel length in the cell = Δx);
//! - `State::depth_m` of a channel cell holds `η − z_bank`, the depth above the floodplain,
//!   which lies in `[−d, 0)` while the water stays in the channel. Floodplain faces
//!   therefore see the same `η = z + h` as everywhere else and carry water only above
//!   bank, with the unchanged 2D kernel;
//! - channel flow runs through *links*: the face between a channel cell and the face
//!   neighbour its channel drains to. A link carries a discharge `Q` (m³/s) updated with
//!   the same θ-weighted local-inertial equation as the floodplain (de Almeida et al.
//!   2012), written for a rectangular section of width `w_f` (mean of the two cells),
//!   flow depth `h_f = max(η_a, η_b) − max(z_bed,a, z_bed,b)`, area `A = w_f h_f`,
//!   hydraulic radius `R = A / (w_f + 2 h_f)` and the channel's n (Neal et al. 2012, eq. 7):
//!   `Q = [θ Q + (1−θ)/2 (Q_− + Q_+) − g A Δt (η_b − η_a)/Δx] / [1 + g Δt n² |Q| / (A R^{4/3})]`,
//!   whose steady state is Manning's `Q = A R^{2/3} S^{1/2} / n`. `Q_±` are the links on the
//!   same axis on either side; where there is none (a bend, a source) the link's own `Q`
//!   stands in;
//! - above bank, the floodplain face between two linked channel cells is `Δx − w_f` wide
//!   (the channel takes the rest); all other faces keep the full width Δx;
//! - a channel whose downstream neighbour is off the grid drains through that side's
//!   boundary condition (free outflow at the given slope, a fixed level, or closed); one
//!   draining into a fixed-level cell (the sea) sees that cell's level as a ghost water
//!   surface. Both exchanges are booked as boundary flow. A channel that ends at an
//!   inactive cell or at an active cell without a channel is closed there: its water
//!   leaves over bank.
//!
//! The time step uses the deepest water over any channel bed (`η − z_bed`). Positivity:
//! a channel cell's outflow over both floodplain faces and links is scaled down together
//! when it would overdraw the volume present, as for floodplain cells. The continuity of
//! channel cells is done in volume (f64) and converted back to η with the inverse of
//! `V`; the part the f32 depth cannot hold waits in the depth residual as volume / Δx².
//!
//! Channel cells are few (a stream network), so their passes run over compact lists; a
//! domain without channels takes none of these paths.
//!
//! # Reference
//! - Neal, J., Schumann, G., Bates, P. (2012). A subgrid channel model for simulating
//!   river hydraulics and floodplain inundation over large and data sparse areas. Water
//!   Resour. Res. 48, W11506.
//! - de Almeida, G.A.M., Bates, P., Freer, J.E., Souvignet, M. (2012). Improving the
//!   stability of a simple formulation of the shallow water equations for 2-D flood
//!   modeling. Water Resour. Res. 48, W05528.

use super::{Boundary, Domain, Rate, RowSums, Sources, State, Window};
use crate::{Error, Result};
use rayon::prelude::*;

/// Marker for "no channel" / "no link" in index arrays.
pub(crate) const NONE: u32 = u32::MAX;

/// Channel cells or links handed to one rayon task at least.
const MIN_PER_TASK: usize = 512;

/// A direction from a cell to one of its four face neighbours (north = row − 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir4 {
    /// Towards row − 1.
    North,
    /// Towards column + 1.
    East,
    /// Towards row + 1.
    South,
    /// Towards column − 1.
    West,
}

impl Dir4 {
    /// The face neighbour of cell (`r`, `c`) in this direction on an `nr × nc` grid, or
    /// `None` off the grid.
    pub fn neighbour(self, r: usize, c: usize, nr: usize, nc: usize) -> Option<(usize, usize)> {
        match self {
            Dir4::North => (r > 0).then(|| (r - 1, c)),
            Dir4::South => (r + 1 < nr).then_some((r + 1, c)),
            Dir4::West => (c > 0).then(|| (r, c - 1)),
            Dir4::East => (c + 1 < nc).then_some((r, c + 1)),
        }
    }
}

/// Channel geometry per cell, handed to [`Domain::with_channels`]. All vectors are
/// row-major with one value per cell.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelCells {
    /// Channel width, m; NaN or ≤ 0 marks a cell without a channel. Must be below Δx.
    pub width_m: Vec<f32>,
    /// Bank-full depth, m (channel bed = cell bed − depth); > 0 on channel cells.
    pub bank_depth_m: Vec<f32>,
    /// Manning's n of the channel, s m^-1/3; > 0 on channel cells.
    pub manning_n: Vec<f32>,
    /// The face through which each channel drains (its downstream neighbour); `None`
    /// for a channel with no outlet of its own (it still receives upstream links).
    pub downstream: Vec<Option<Dir4>>,
}

/// What a link connects on its positive side (east or south of the face) or negative
/// side: a channel cell (by channel index), or a ghost.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum End {
    /// A channel cell: index into the channel arrays.
    Chan(u32),
    /// A fixed-level cell (grid index): its level is the ghost's water surface.
    Fixed(u32),
    /// Off the grid on the given side.
    Edge(Dir4),
}

/// One channel link on a face; `Q > 0` flows from `neg` (west/north) to `pos` (east/south).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Link {
    pub neg: End,
    pub pos: End,
    /// Face axis (true: x face) and index in `qx`/`qy`.
    pub x_face: bool,
    pub face: u32,
    /// Channel width across the face, m.
    pub width_m: f32,
    /// Manning's n of the link.
    pub n: f32,
    /// Neighbouring links on the same axis (negative and positive side), or NONE.
    pub nb_neg: u32,
    pub nb_pos: u32,
    /// Sign of the downstream direction (+1: `neg` drains into `pos`, −1: the reverse),
    /// from the channel's `downstream` face when the link was built.
    pub down_sign: f32,
}

/// Channel cells and links of a domain (built once by [`Domain::with_channels`]).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Channels {
    /// Channel index per grid cell, or NONE.
    pub index: Vec<u32>,
    /// Grid cell of each channel, ascending.
    pub cell: Vec<u32>,
    pub width_m: Vec<f32>,
    pub bank_depth_m: Vec<f32>,
    /// Channel bed elevation, m.
    pub bed_m: Vec<f32>,
    /// Links on the cell's west, east, north, south faces (link index or NONE).
    pub cell_links: Vec<[u32; 4]>,
    pub links: Vec<Link>,
    /// Link index per x face and per y face, or NONE.
    pub x_link: Vec<u32>,
    pub y_link: Vec<u32>,
    /// Channel length per cell, m (= Δx).
    pub len_m: f64,
    /// Channel ends closed because the downstream cell is inactive or has no channel.
    pub closed_ends: usize,
    /// Floodplain width of each channel cell's west, east, north and south face, m
    /// ([`Channels::floodplain_width`] of the face's link, cached for the step passes).
    pub fp_width_m: Vec<[f64; 4]>,
    /// Links with a ghost end (grid edge or fixed-level cell), ascending.
    pub ghost_links: Vec<u32>,
}

/// One channel cell's continuity result, computed in parallel and applied serially.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ChanNew {
    /// New depth above bank, m.
    h: f32,
    /// New depth residual, m.
    res: f32,
    /// Rain on the cell this step, m³.
    rain_m3: f64,
    /// Loss removed this step, m³.
    loss_m3: f64,
}

const W: usize = 0;
const E: usize = 1;
const N: usize = 2;
const S: usize = 3;

impl Channels {
    /// Volume of channel `k` for depth above bank `h` (m), m³ (without the residual).
    #[inline]
    pub fn volume_m3(&self, k: usize, h: f32, cell_area: f64) -> f64 {
        let (w, d) = (self.width_m[k] as f64, self.bank_depth_m[k] as f64);
        let h = h as f64;
        if h <= 0.0 {
            w * self.len_m * (h + d).max(0.0)
        } else {
            w * self.len_m * d + cell_area * h
        }
    }
    /// Depth above bank (f32, ≥ −d) holding volume `v` (m³) in channel `k`.
    #[inline]
    pub fn depth_for_volume(&self, k: usize, v: f64, cell_area: f64) -> f32 {
        let (w, d) = (self.width_m[k] as f64, self.bank_depth_m[k] as f64);
        let full = w * self.len_m * d;
        let h = if v <= full {
            v.max(0.0) / (w * self.len_m) - d
        } else {
            (v - full) / cell_area
        };
        (h as f32).max(-self.bank_depth_m[k])
    }
    /// Width of the floodplain part of a face carrying link `l` (or Δx when `l` is NONE
    /// or not between two channel cells), m.
    #[inline]
    fn floodplain_width(&self, l: u32, dx: f64) -> f64 {
        if l == NONE {
            return dx;
        }
        let k = &self.links[l as usize];
        match (k.neg, k.pos) {
            (End::Chan(_), End::Chan(_)) => dx - k.width_m as f64,
            _ => dx,
        }
    }
}

/// Builds the channel arrays and links of `domain` from per-cell geometry.
pub(crate) fn build(domain: &Domain, cells: &ChannelCells) -> Result<Channels> {
    let (nr, nc) = (domain.nrows, domain.ncols);
    let n = nr * nc;
    let dx = domain.dx_m;
    if cells.width_m.len() != n
        || cells.bank_depth_m.len() != n
        || cells.manning_n.len() != n
        || cells.downstream.len() != n
    {
        return Err(Error::Data(format!(
            "subgrid channels: a {nr} × {nc} grid needs {n} widths, depths, roughnesses and directions"
        )));
    }
    let fixed = |i: usize| domain.has_fixed && !domain.fixed_level_m[i].is_nan();
    let mut ch = Channels {
        index: vec![NONE; n],
        cell: Vec::new(),
        width_m: Vec::new(),
        bank_depth_m: Vec::new(),
        bed_m: Vec::new(),
        cell_links: Vec::new(),
        links: Vec::new(),
        x_link: vec![NONE; nr * (nc + 1)],
        y_link: vec![NONE; (nr + 1) * nc],
        len_m: dx,
        closed_ends: 0,
        fp_width_m: Vec::new(),
        ghost_links: Vec::new(),
    };
    for i in 0..n {
        let w = cells.width_m[i];
        if w.is_nan() || w <= 0.0 || !domain.is_active(i) || fixed(i) {
            continue;
        }
        let (d, cn) = (cells.bank_depth_m[i], cells.manning_n[i]);
        if !(w.is_finite()
            && (w as f64) < dx
            && d.is_finite()
            && d > 0.0
            && cn.is_finite()
            && cn > 0.0)
        {
            return Err(Error::Data(format!(
                "subgrid channels: cell {i} has width {w} m, bank depth {d} m, n {cn}: need 0 < width < {dx} m, depth > 0, n > 0"
            )));
        }
        ch.index[i] = ch.cell.len() as u32;
        ch.cell.push(i as u32);
        ch.width_m.push(w);
        ch.bank_depth_m.push(d);
        ch.bed_m.push(domain.bed_m[i] - d);
        ch.cell_links.push([NONE; 4]);
    }
    for k in 0..ch.cell.len() {
        let i = ch.cell[k] as usize;
        let Some(dir) = cells.downstream[i] else {
            continue;
        };
        let (r, c) = (i / nc, i % nc);
        let other = match dir.neighbour(r, c, nr, nc) {
            None => Some(End::Edge(dir)),
            Some((rr, cc)) => {
                let j = rr * nc + cc;
                if ch.index[j] != NONE {
                    Some(End::Chan(ch.index[j]))
                } else if domain.is_active(j) && fixed(j) {
                    Some(End::Fixed(j as u32))
                } else {
                    None
                }
            }
        };
        let Some(other) = other else {
            ch.closed_ends += 1;
            continue;
        };
        let me = End::Chan(k as u32);
        let (x_face, face, neg, pos, my_side, other_side) = match dir {
            Dir4::East => (true, r * (nc + 1) + c + 1, me, other, E, W),
            Dir4::West => (true, r * (nc + 1) + c, other, me, W, E),
            Dir4::South => (false, (r + 1) * nc + c, me, other, S, N),
            Dir4::North => (false, r * nc + c, other, me, N, S),
        };
        let slot = if x_face {
            &mut ch.x_link[face]
        } else {
            &mut ch.y_link[face]
        };
        if *slot != NONE {
            continue; // two channels draining into each other: one link on the face
        }
        let l = ch.links.len() as u32;
        *slot = l;
        let (width_m, n_l) = match other {
            End::Chan(o) => {
                let oi = ch.cell[o as usize] as usize;
                ch.cell_links[o as usize][other_side] = l;
                (
                    0.5 * (ch.width_m[k] + ch.width_m[o as usize]),
                    0.5 * (cells.manning_n[i] + cells.manning_n[oi]),
                )
            }
            _ => (ch.width_m[k], cells.manning_n[i]),
        };
        ch.cell_links[k][my_side] = l;
        ch.links.push(Link {
            neg,
            pos,
            x_face,
            face: face as u32,
            width_m,
            n: n_l,
            nb_neg: NONE,
            nb_pos: NONE,
            down_sign: if neg == me { 1.0 } else { -1.0 },
        });
    }
    // Same-axis neighbours for the θ weighting.
    for l in 0..ch.links.len() {
        let k = ch.links[l];
        let f = k.face as usize;
        let (neg, pos) = if k.x_face {
            let c = f % (nc + 1);
            (
                (c >= 1).then(|| ch.x_link[f - 1]),
                (c < nc).then(|| ch.x_link[f + 1]),
            )
        } else {
            let r = f / nc;
            (
                (r >= 1).then(|| ch.y_link[f - nc]),
                (r < nr).then(|| ch.y_link[f + nc]),
            )
        };
        ch.links[l].nb_neg = neg.unwrap_or(NONE);
        ch.links[l].nb_pos = pos.unwrap_or(NONE);
        if !matches!((k.neg, k.pos), (End::Chan(_), End::Chan(_))) {
            ch.ghost_links.push(l as u32);
        }
    }
    ch.fp_width_m = ch
        .cell_links
        .iter()
        .map(|cl| cl.map(|l| ch.floodplain_width(l, dx)))
        .collect();
    Ok(ch)
}

/// Water surface and bed of one end of a link at the current state: (η, z_bed, is a
/// free-outflow edge with its slope).
#[inline]
fn end_surface(d: &Domain, ch: &Channels, s: &State, e: End) -> Option<(f64, f64)> {
    match e {
        End::Chan(k) => {
            let i = ch.cell[k as usize] as usize;
            Some((
                d.bed_m[i] as f64 + s.depth_m[i] as f64,
                ch.bed_m[k as usize] as f64,
            ))
        }
        End::Fixed(j) => {
            let j = j as usize;
            Some((d.fixed_level_m[j] as f64, d.bed_m[j] as f64))
        }
        End::Edge(_) => None,
    }
}

fn side_boundary(d: &Domain, dir: Dir4) -> Boundary {
    match dir {
        Dir4::North => d.boundaries.north,
        Dir4::South => d.boundaries.south,
        Dir4::East => d.boundaries.east,
        Dir4::West => d.boundaries.west,
    }
}

/// Step constants for the channel links (f64).
pub(crate) struct LinkCoeffs {
    pub theta: f64,
    pub w: f64,
    pub g_dt: f64,
    pub dx: f64,
    pub h_min: f64,
}

/// Semi-implicit friction denominator of a rectangular section `A = w h`:
/// `1 + g Δt n² |Q| / (A R^{4/3})`.
#[inline]
fn friction(q0: f64, w: f64, h: f64, n: f64, k: &LinkCoeffs) -> f64 {
    let a = w * h;
    let r = a / (w + 2.0 * h);
    1.0 + k.g_dt * n * n * q0.abs() / (a * r.powf(4.0 / 3.0))
}

/// New link discharges (m³/s) into `q_new` from the state before the step.
///
/// A link through a face with a levee crest (a channel crossing a dike line: a tributary
/// entering a diked river) is a flap-gated culvert (穿堤涵闸): it passes water downstream
/// only and closes when the water beyond the dike stands higher, so a perched river cannot
/// back up through the dike into its tributaries. Breaches are modelled on the 2D faces.
pub(crate) fn flux_links(d: &Domain, ch: &Channels, s: &State, q_new: &mut [f32], k: &LinkCoeffs) {
    let q = &s.channel_q_m3s[..];
    let crests = d.crests();
    q_new
        .par_iter_mut()
        .with_min_len(256)
        .enumerate()
        .for_each(|(l, out)| {
            let lk = &ch.links[l];
            let q0 = q[l] as f64;
            let (w, n) = (lk.width_m as f64, lk.n as f64);
            let nb = |x: u32| if x == NONE { q0 } else { q[x as usize] as f64 };
            let q_nb = nb(lk.nb_neg) + nb(lk.nb_pos);
            let (a, b) = (end_surface(d, ch, s, lk.neg), end_surface(d, ch, s, lk.pos));
            let v = match (a, b) {
                (Some((ea, za)), Some((eb, zb))) => {
                    let hf = ea.max(eb) - za.max(zb);
                    if hf > k.h_min {
                        (k.theta * q0 + k.w * q_nb - k.g_dt * w * hf * (eb - ea) / k.dx)
                            / friction(q0, w, hf, n, k)
                    } else {
                        0.0
                    }
                }
                (Some((ea, za)), None) | (None, Some((ea, za))) => {
                    // Edge: outward sign +1 when the channel cell is on the negative side.
                    let (sign, dir) = match (lk.neg, lk.pos) {
                        (End::Chan(_), End::Edge(dir)) => (1.0, dir),
                        (End::Edge(dir), _) => (-1.0, dir),
                        _ => (1.0, Dir4::East),
                    };
                    let q_out0 = sign * q0;
                    let out = match side_boundary(d, dir) {
                        Boundary::Closed => 0.0,
                        Boundary::FreeOutflow { slope } => {
                            let hf = ea - za;
                            if hf > k.h_min {
                                ((q_out0 + k.g_dt * w * hf * slope) / friction(q_out0, w, hf, n, k))
                                    .max(0.0)
                            } else {
                                0.0
                            }
                        }
                        Boundary::FixedLevel { level_m } => {
                            let hf = ea.max(level_m) - za;
                            if hf > k.h_min {
                                (q_out0 - k.g_dt * w * hf * (level_m - ea) / k.dx)
                                    / friction(q_out0, w, hf, n, k)
                            } else {
                                0.0
                            }
                        }
                    };
                    sign * out
                }
                (None, None) => 0.0,
            };
            let gated = crests.is_some_and(|cr| {
                let z = if lk.x_face {
                    cr.x_m[lk.face as usize]
                } else {
                    cr.y_m[lk.face as usize]
                };
                z > f32::NEG_INFINITY
            });
            // Flap gate: only the downstream sign passes (v · sign ≥ 0).
            let v = if gated && v * lk.down_sign as f64 <= 0.0 {
                0.0
            } else {
                v
            };
            *out = v as f32;
        });
}

/// Deepest water over a channel bed, m, and whether any channel holds water or moves it.
/// The maximum is exact, so the parallel reduction gives the same bits for any thread count.
pub(crate) fn channel_depth_max(ch: &Channels, s: &State) -> (f64, bool) {
    let h_max = ch
        .cell
        .par_iter()
        .zip(ch.bank_depth_m.par_iter())
        .with_min_len(MIN_PER_TASK)
        .map(|(&i, &d)| s.depth_m[i as usize] as f64 + d as f64)
        .reduce(|| 0.0f64, f64::max);
    let moving = h_max > 0.0
        || s.channel_q_m3s
            .par_iter()
            .with_min_len(MIN_PER_TASK)
            .any(|&q| q != 0.0);
    (h_max, moving)
}

/// Net floodplain and link inflow of channel `k` over the step, m³, and its outgoing
/// part, m³ (both with the kernel's Δt/Δx in f32, as the 2D continuity uses).
#[inline]
fn channel_fluxes(d: &Domain, ch: &Channels, s: &State, k: usize, dt_dx: f64) -> (f64, f64) {
    let (nc, dx) = (d.ncols, d.dx_m);
    let i = ch.cell[k] as usize;
    let (r, c) = (i / nc, i % nc);
    let cl = ch.cell_links[k];
    let fpw = &ch.fp_width_m[k];
    let scale = dt_dx * dx; // Δt as used by the 2D continuity
                            // Inflow-positive floodplain face values, q × width, in the order W, E, N, S.
    let fp = [
        s.qx_m2s[r * (nc + 1) + c] as f64,
        -(s.qx_m2s[r * (nc + 1) + c + 1] as f64),
        s.qy_m2s[r * nc + c] as f64,
        -(s.qy_m2s[(r + 1) * nc + c] as f64),
    ];
    let (mut net, mut out) = (0.0f64, 0.0f64);
    for side in 0..4 {
        let v = fp[side] * fpw[side];
        net += v;
        out += (-v).max(0.0);
        let l = cl[side];
        if l != NONE {
            let q = s.channel_q_m3s[l as usize] as f64;
            let q_in = if side == W || side == N { q } else { -q };
            net += q_in;
            out += (-q_in).max(0.0);
        }
    }
    (net * scale, out * scale)
}

/// Outflow factors of channel cells (written into `factor` at their grid cells and into
/// `chan_factor`); counts limited cells into the rows of the window. Returns whether any
/// channel cell was limited. Factors are computed in parallel (each from the state before
/// the step only); the scatter into the grid and the counts run serially in channel order.
#[allow(clippy::too_many_arguments)]
pub(crate) fn channel_factors(
    d: &Domain,
    ch: &Channels,
    s: &State,
    rain: &Rate,
    factor: &mut [f32],
    chan_factor: &mut [f32],
    chan_limited: &mut [bool],
    rows: &mut [RowSums],
    win: Window,
    dt: f64,
) -> bool {
    let nc = d.ncols;
    let area = d.dx_m * d.dx_m;
    let dt_f = dt as f32;
    let dt_dx = (dt / d.dx_m) as f32 as f64;
    let any = chan_factor
        .par_iter_mut()
        .zip(chan_limited.par_iter_mut())
        .with_min_len(MIN_PER_TASK)
        .enumerate()
        .map(|(k, (cf, lim))| {
            let i = ch.cell[k] as usize;
            let (_, out) = channel_fluxes(d, ch, s, k, dt_dx);
            let avail = ch.volume_m3(k, s.depth_m[i], area)
                + (s.depth_residual_m[i] as f64 + (dt_f * rain.at(i).max(0.0)) as f64) * area;
            *lim = out > 0.0 && out > avail;
            *cf = if *lim {
                (avail.max(0.0) / out) as f32
            } else {
                1.0
            };
            *lim
        })
        .reduce(|| false, |a, b| a || b);
    for ((&i, &f), &lim) in ch
        .cell
        .iter()
        .zip(chan_factor.iter())
        .zip(chan_limited.iter())
    {
        let i = i as usize;
        factor[i] = f;
        if lim {
            let r = i / nc;
            if (win.r0..=win.r1).contains(&r) {
                rows[r].limited += 1;
            }
        }
    }
    any
}

/// Scales the outgoing discharge of every link by its donor channel's factor.
pub(crate) fn scale_links(ch: &Channels, q: &mut [f32], chan_factor: &[f32]) {
    q.par_iter_mut()
        .zip(ch.links.par_iter())
        .with_min_len(MIN_PER_TASK)
        .for_each(|(q, lk)| {
            let v = *q;
            let donor = if v > 0.0 { lk.neg } else { lk.pos };
            if let End::Chan(k) = donor {
                *q = v * chan_factor[k as usize];
            }
        });
}

/// Volumes of the channel continuity, m³.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct ChannelVolumes {
    pub rain_m3: f64,
    pub loss_m3: f64,
    pub bnd_in_m3: f64,
    pub bnd_out_m3: f64,
}

/// Continuity of the channel cells, in volume: fluxes, rain on the whole cell, losses
/// limited by the water present; books link exchanges with ghosts as boundary flow;
/// marks floodplain-wet channel cells in the row sums. Each cell's new depth is computed
/// in parallel into `new` (from the state before the update only); depths, residuals and
/// volume sums are then applied serially in channel order, so every bit is independent of
/// the thread count.
pub(crate) fn continuity_channels(
    d: &Domain,
    ch: &Channels,
    s: &mut State,
    src: &Sources,
    rows: &mut [RowSums],
    new: &mut [ChanNew],
    dt: f64,
) -> ChannelVolumes {
    let nc = d.ncols;
    let area = d.dx_m * d.dx_m;
    let dt_f = dt as f32;
    let dt_dx = (dt / d.dx_m) as f32 as f64;
    let scale = dt_dx * d.dx_m;
    let mut vol = ChannelVolumes::default();
    // Link exchanges with ghosts (edge, fixed level).
    for &l in &ch.ghost_links {
        let lk = &ch.links[l as usize];
        let q = s.channel_q_m3s[l as usize] as f64 * scale;
        let into_grid = match lk.neg {
            End::Chan(_) => -q,
            _ => q,
        };
        if into_grid > 0.0 {
            vol.bnd_in_m3 += into_grid;
        } else {
            vol.bnd_out_m3 -= into_grid;
        }
    }
    let st: &State = s;
    new.par_iter_mut()
        .with_min_len(MIN_PER_TASK)
        .enumerate()
        .for_each(|(k, o)| {
            let i = ch.cell[k] as usize;
            let (net, _) = channel_fluxes(d, ch, st, k, dt_dx);
            let dr = (dt_f * src.rain_ms.at(i)) as f64 * area;
            let mut v = ch.volume_m3(k, st.depth_m[i], area)
                + st.depth_residual_m[i] as f64 * area
                + dr
                + net;
            let dl = ((dt_f * src.loss_ms.at(i)) as f64 * area).min(v).max(0.0);
            v -= dl;
            let h = ch.depth_for_volume(k, v, area);
            *o = ChanNew {
                h,
                res: ((v - ch.volume_m3(k, h, area)) / area) as f32,
                rain_m3: dr,
                loss_m3: dl,
            };
        });
    for (&i, o) in ch.cell.iter().zip(new.iter()) {
        let i = i as usize;
        vol.rain_m3 += o.rain_m3;
        vol.loss_m3 += o.loss_m3;
        s.depth_m[i] = o.h;
        s.depth_residual_m[i] = o.res;
        if o.h > 0.0 {
            let (r, c) = (i / nc, i % nc);
            let rs = &mut rows[r];
            rs.h_max = rs.h_max.max(o.h);
            rs.wet_lo = rs.wet_lo.min(c as u32);
            rs.wet_hi = rs.wet_hi.max(c as u32);
        }
    }
    vol
}

/// Adds (`dv > 0`) or withdraws (limited by the water present) a volume at channel `k`;
/// returns the volume actually moved (signed), m³.
pub(crate) fn add_volume(ch: &Channels, k: usize, depth: &mut f32, dv: f64, area: f64) -> f64 {
    let v0 = ch.volume_m3(k, *depth, area);
    let h = ch.depth_for_volume(k, (v0 + dv).max(0.0), area);
    *depth = h;
    ch.volume_m3(k, h, area) - v0
}

/// Outflow of a cell through its four faces (floodplain and channel), m³/s.
pub(crate) fn cell_outflow(d: &Domain, s: &State, cell: usize) -> f64 {
    let nc = d.ncols;
    let dx = d.dx_m;
    let (r, c) = (cell / nc, cell % nc);
    let faces = [
        (-(s.qx_m2s[r * (nc + 1) + c] as f64), true, r * (nc + 1) + c),
        (
            s.qx_m2s[r * (nc + 1) + c + 1] as f64,
            true,
            r * (nc + 1) + c + 1,
        ),
        (-(s.qy_m2s[r * nc + c] as f64), false, r * nc + c),
        (s.qy_m2s[(r + 1) * nc + c] as f64, false, (r + 1) * nc + c),
    ];
    let ch = d.channels.as_deref();
    let mut out = 0.0;
    for (j, &(q_out, x, f)) in faces.iter().enumerate() {
        let sign = if j % 2 == 0 { -1.0 } else { 1.0 };
        let l = ch.map_or(NONE, |ch| if x { ch.x_link[f] } else { ch.y_link[f] });
        let width = ch.map_or(dx, |ch| ch.floodplain_width(l, dx));
        out += (q_out * width).max(0.0);
        if l != NONE {
            out += (sign * s.channel_q_m3s[l as usize] as f64).max(0.0);
        }
    }
    out
}

/// Discharge through one face (floodplain and channel), m³/s, positive east/south.
pub(crate) fn face_discharge(d: &Domain, s: &State, x_face: bool, f: usize) -> f64 {
    let dx = d.dx_m;
    let q = if x_face { s.qx_m2s[f] } else { s.qy_m2s[f] } as f64;
    match d.channels.as_deref() {
        None => q * dx,
        Some(ch) => {
            let l = if x_face { ch.x_link[f] } else { ch.y_link[f] };
            let mut v = q * ch.floodplain_width(l, dx);
            if l != NONE {
                v += s.channel_q_m3s[l as usize] as f64;
            }
            v
        }
    }
}
