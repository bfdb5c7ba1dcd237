//! Row kernels of the local-inertial scheme: face momentum (x and y), outflow limiting and
//! continuity. Each works on the rows of a window in parallel; every output element is a
//! function of the previous state only, so thread count never changes a bit.

use super::isa::{multiversion, Isa};
use super::subgrid::NONE;
use super::{Boundary, Domain, Params, Rate, RowSums, Sources, State, Window, INACTIVE_BED_M};
use rayon::prelude::*;

/// Evaluates `$body` with `$r` bound to the rate as a [`RowRate`] (a uniform `f32` or a
/// per-cell slice), so each kind of rate gets its own row loop with no `match` per cell.
macro_rules! with_rate {
    ($rate:expr, |$r:ident| $body:expr) => {
        match $rate {
            Rate::Uniform($r) => $body,
            Rate::PerCell($r) => $body,
        }
    };
}

/// Rows handed to one rayon task at least (a band), to keep scheduling overhead small.
const MIN_ROWS_PER_TASK: usize = 4;

/// Step constants in f32 for the inner loops.
pub(crate) struct Coeffs {
    theta: f32,
    /// (1 − θ) / 2, weight of the two neighbouring faces.
    w: f32,
    /// g Δt.
    g_dt: f32,
    /// g Δt / Δx.
    g_dt_dx: f32,
    h_min: f32,
}

impl Coeffs {
    pub(crate) fn new(p: &Params, dt: f64, dx: f64) -> Self {
        Self {
            theta: p.theta as f32,
            w: ((1.0 - p.theta) / 2.0) as f32,
            g_dt: (p.g_ms2 * dt) as f32,
            g_dt_dx: (p.g_ms2 * dt / dx) as f32,
            h_min: p.h_min_flow_m as f32,
        }
    }
}

/// `h^{-7/3}` for `h > 0` without a library call, so the face loops vectorise: a bit-level
/// first guess of `h^{-1/3}` (error < 4 %) and three Newton steps `y ← y (4 − h y³) / 3`
/// (relative error < 2e-7, about 1.5 f32 ulp), then `y⁷`.
#[inline(always)]
fn pow_neg_7_3(h: f32) -> f32 {
    let mut y = f32::from_bits(0x54a2_fa8c_u32.wrapping_sub(h.to_bits() / 3));
    for _ in 0..3 {
        y = y * (4.0 - h * y * y * y) * (1.0 / 3.0);
    }
    let y2 = y * y;
    y * y2 * y2 * y2
}

/// de Almeida et al. (2012) eq. 11 for one interior face between cells a (upstream in the
/// face's positive direction) and b. `q_nb` is the sum of the two neighbouring faces.
#[inline(always)]
fn face_flux(q0: f32, q_nb: f32, eta_a: f32, eta_b: f32, z_face: f32, n: f32, k: &Coeffs) -> f32 {
    let hf = eta_a.max(eta_b) - z_face;
    let hs = hf.max(k.h_min);
    let num = k.theta * q0 + k.w * q_nb - k.g_dt_dx * hs * (eta_b - eta_a);
    let den = 1.0 + k.g_dt * n * n * q0.abs() * pow_neg_7_3(hs);
    if hf > k.h_min {
        num / den
    } else {
        0.0
    }
}

/// Free broad-crested weir coefficient `(2/3)^{3/2} √g`, m^{1/2}/s (critical depth 2H/3
/// on the crest; Chow 1959, *Open-Channel Hydraulics*, §14), with g = 9.80665 m/s².
pub(crate) const WEIR_C: f32 = 1.704_604;

/// [`face_flux`] on a face with a crest (levee, wall): the face bed is
/// `max(z_a, z_b, crest)` (LISFLOOD-FP's sub-grid walls on faces), and where the crest
/// stands above both cells the discharge is capped by the free broad-crested weir
/// discharge `WEIR_C · H^{3/2}` per unit width for the upstream head H over the crest:
/// the local-inertial scheme drops advection and would otherwise pass more than
/// critical flow over a steep drop. `crest = −∞` gives [`face_flux`] exactly. No branch:
/// the cap is a select.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn face_flux_crest(
    q0: f32,
    q_nb: f32,
    eta_a: f32,
    eta_b: f32,
    z_ab: f32,
    crest: f32,
    n: f32,
    k: &Coeffs,
) -> f32 {
    let z_face = z_ab.max(crest);
    let q = face_flux(q0, q_nb, eta_a, eta_b, z_face, n, k);
    let head = (eta_a.max(eta_b) - z_face).max(0.0);
    let cap = if crest > z_ab {
        WEIR_C * head * head.sqrt()
    } else {
        f32::INFINITY
    };
    q.max(-cap).min(cap)
}

/// Discharge across an edge face, positive out of the grid, for the edge cell's depth `h`,
/// bed `z`, roughness `n` and the face's previous outward discharge `q0`.
#[inline]
fn edge_flux(b: Boundary, q0: f32, h: f32, z: f32, n: f32, k: &Coeffs) -> f32 {
    match b {
        Boundary::Closed => 0.0,
        Boundary::FreeOutflow { slope } => {
            let hf = if z < INACTIVE_BED_M { h } else { 0.0 };
            if hf > k.h_min {
                let q = (q0 + k.g_dt * hf * slope as f32)
                    / (1.0 + k.g_dt * n * n * q0.abs() * pow_neg_7_3(hf));
                q.max(0.0)
            } else {
                0.0
            }
        }
        Boundary::FixedLevel { level_m } => {
            let level = level_m as f32;
            let eta = z + h;
            let hf = eta.max(level) - z;
            if hf > k.h_min {
                (q0 - k.g_dt_dx * hf * (level - eta))
                    / (1.0 + k.g_dt * n * n * q0.abs() * pow_neg_7_3(hf))
            } else {
                0.0
            }
        }
    }
}

multiversion! {
    /// One run of interior faces: `q` = (this face, the face before, the face after) and
    /// `cells` = (bed a, bed b, depth a, depth b, n a, n b) of the cells on either side,
    /// all of `out`'s length. With `LV`, `crest` (same length) holds each face's levee
    /// crest ([`face_flux_crest`]); without, it is ignored and may be empty.
    fn face_row[const LV: bool](
        out: &mut [f32],
        q: [&[f32]; 3],
        cells: [&[f32]; 6],
        crest: &[f32],
        k: &Coeffs,
    ) -> () as [LV] {
        let [q0, qm, qp] = q;
        let [za, zb, ha, hb, na, nb] = cells;
        for j in 0..out.len() {
            let (eta_a, eta_b, z_face) = (za[j] + ha[j], zb[j] + hb[j], za[j].max(zb[j]));
            let n = 0.5 * (na[j] + nb[j]);
            out[j] = if LV {
                face_flux_crest(q0[j], qm[j] + qp[j], eta_a, eta_b, z_face, crest[j], n, k)
            } else {
                face_flux(q0[j], qm[j] + qp[j], eta_a, eta_b, z_face, n, k)
            };
        }
    }
    /// [`face_row`] at the instruction-set level `isa`.
    dispatch face_row_isa;
}

/// New face discharges of the window: x faces of rows `r0 ..= r1` into `qx_new`, y faces of
/// face rows `r0 ..= r1 + 1` into `qy_new`. One parallel pass: each task computes the x faces
/// of a cell row and the y faces above it, so the row's bed, depth and roughness are read
/// from memory once for both. With `LV`, `crest` holds one crest per x face and one per y
/// face (−∞ = none) and faces use [`face_flux_crest`]; without, the crests are unused and
/// the loop is the plain one.
pub(crate) fn fluxes<const LV: bool>(
    d: &Domain,
    s: &State,
    q_new: (&mut [f32], &mut [f32]),
    win: Window,
    k: &Coeffs,
    crest: (&[f32], &[f32]),
) {
    let (nc, nf) = (d.ncols, d.ncols + 1);
    let (qx_new, qy_new) = q_new;
    let isa = Isa::current();
    let (qy_rows, qy_last) =
        qy_new[win.r0 * nc..(win.r1 + 2) * nc].split_at_mut((win.r1 + 1 - win.r0) * nc);
    qx_new[win.r0 * nf..(win.r1 + 1) * nf]
        .par_chunks_mut(nf)
        .zip(qy_rows.par_chunks_mut(nc))
        .with_min_len(MIN_ROWS_PER_TASK)
        .enumerate()
        .for_each(|(kr, (ox, oy))| {
            let r = win.r0 + kr;
            x_face_row::<LV>(d, s, r, ox, win, k, crest.0, isa);
            y_face_row::<LV>(d, s, r, oy, win, k, crest.1, isa);
        });
    y_face_row::<LV>(d, s, win.r1 + 1, qy_last, win, k, crest.1, isa);
}

/// New discharges of the x faces of cell row `r` into `out` (the row's `ncols + 1` faces).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn x_face_row<const LV: bool>(
    d: &Domain,
    s: &State,
    r: usize,
    out: &mut [f32],
    win: Window,
    k: &Coeffs,
    crest: &[f32],
    isa: Isa,
) {
    let nc = d.ncols;
    let nf = nc + 1;
    let (bed, man, depth, qx) = (d.kernel_bed(), d.manning(), &s.depth_m[..], &s.qx_m2s[..]);
    let z = &bed[r * nc..(r + 1) * nc];
    let h = &depth[r * nc..(r + 1) * nc];
    let n = &man[r * nc..(r + 1) * nc];
    let q = &qx[r * nf..(r + 1) * nf];
    let lo = win.c0.max(1);
    let hi = (win.c1 + 1).min(nc - 1);
    if lo <= hi {
        let len = hi - lo + 1;
        let (za, zb) = (&z[lo - 1..lo - 1 + len], &z[lo..lo + len]);
        let (ha, hb) = (&h[lo - 1..lo - 1 + len], &h[lo..lo + len]);
        let (na, nb) = (&n[lo - 1..lo - 1 + len], &n[lo..lo + len]);
        let (q0, qm, qp) = (
            &q[lo..lo + len],
            &q[lo - 1..lo - 1 + len],
            &q[lo + 1..lo + 1 + len],
        );
        let cr = if LV {
            &crest[r * nf + lo..r * nf + lo + len]
        } else {
            &[][..]
        };
        face_row_isa::<LV>(
            isa,
            &mut out[lo..lo + len],
            [q0, qm, qp],
            [za, zb, ha, hb, na, nb],
            cr,
            k,
        );
    }
    let (west, east) = (d.boundaries.west, d.boundaries.east);
    if win.c0 == 0 {
        out[0] = -edge_flux(west, -q[0], h[0], z[0], n[0], k);
    }
    if win.c1 == nc - 1 {
        out[nc] = edge_flux(east, q[nc], h[nc - 1], z[nc - 1], n[nc - 1], k);
    }
}

/// New discharges of the y faces of face row `fr` (between cell rows `fr − 1` and `fr`)
/// into `out` (the face row's `ncols` faces).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn y_face_row<const LV: bool>(
    d: &Domain,
    s: &State,
    fr: usize,
    out: &mut [f32],
    win: Window,
    k: &Coeffs,
    crest: &[f32],
    isa: Isa,
) {
    let (nr, nc) = (d.nrows, d.ncols);
    let (bed, man, depth, qy) = (d.kernel_bed(), d.manning(), &s.depth_m[..], &s.qy_m2s[..]);
    let (c0, c1) = (win.c0, win.c1 + 1);
    let out = &mut out[c0..c1];
    let len = out.len();
    if fr == 0 || fr == nr {
        // Edge row: cell row 0 (outward = north, negative) or nr − 1 (south).
        let (b, r, sign) = if fr == 0 {
            (d.boundaries.north, 0, -1.0f32)
        } else {
            (d.boundaries.south, nr - 1, 1.0f32)
        };
        let z = &bed[r * nc + c0..r * nc + c1];
        let h = &depth[r * nc + c0..r * nc + c1];
        let n = &man[r * nc + c0..r * nc + c1];
        let q = &qy[fr * nc + c0..fr * nc + c1];
        for j in 0..len {
            out[j] = sign * edge_flux(b, sign * q[j], h[j], z[j], n[j], k);
        }
        return;
    }
    let (ra, rb) = ((fr - 1) * nc, fr * nc);
    let (za, zb) = (&bed[ra + c0..ra + c1], &bed[rb + c0..rb + c1]);
    let (ha, hb) = (&depth[ra + c0..ra + c1], &depth[rb + c0..rb + c1]);
    let (na, nb) = (&man[ra + c0..ra + c1], &man[rb + c0..rb + c1]);
    let q0 = &qy[fr * nc + c0..fr * nc + c1];
    let qm = &qy[(fr - 1) * nc + c0..(fr - 1) * nc + c1];
    let qp = &qy[(fr + 1) * nc + c0..(fr + 1) * nc + c1];
    let cr = if LV {
        &crest[fr * nc + c0..fr * nc + c0 + len]
    } else {
        &[][..]
    };
    face_row_isa::<LV>(isa, out, [q0, qm, qp], [za, zb, ha, hb, na, nb], cr, k);
}

/// Outflow factor per cell of the window: 1, or (water present + rain) / outgoing volume
/// when the cell would otherwise be overdrawn. Counts limited cells per row; returns
/// whether any cell was limited. With `CH`, cells whose `chan` entry is not `NONE`
/// (subgrid channel cells, done in volume elsewhere) are skipped; without, `chan` is
/// unused and the loop is the plain one.
#[allow(clippy::too_many_arguments)]
pub(crate) fn outflow_factors<const CH: bool>(
    d: &Domain,
    s: &State,
    rain: &Rate,
    factor: &mut [f32],
    rows: &mut [RowSums],
    win: Window,
    dt: f64,
    chan: &[u32],
) -> bool {
    let nc = d.ncols;
    let (depth, qx, qy) = (&s.depth_m[..], &s.qx_m2s[..], &s.qy_m2s[..]);
    let (dt_f, dt_dx) = (dt as f32, (dt / d.dx_m) as f32);
    with_rate!(*rain, |r| limiter_impl::<CH, _>(
        depth, qx, qy, r, factor, rows, win, nc, dt_f, dt_dx, chan
    ))
}

#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn limiter_impl<const CH: bool, R: RowRate>(
    depth: &[f32],
    qx: &[f32],
    qy: &[f32],
    rain: R,
    factor: &mut [f32],
    rows: &mut [RowSums],
    win: Window,
    nc: usize,
    dt_f: f32,
    dt_dx: f32,
    chan: &[u32],
) -> bool {
    let nf = nc + 1;
    let isa = Isa::current();
    factor[win.r0 * nc..(win.r1 + 1) * nc]
        .par_chunks_mut(nc)
        .zip(rows[win.r0..=win.r1].par_iter_mut())
        .with_min_len(MIN_ROWS_PER_TASK)
        .enumerate()
        .map(|(kr, (f, rs))| {
            let r = win.r0 + kr;
            let (c0, c1) = (win.c0, win.c1 + 1);
            let ch = if CH {
                &chan[r * nc + c0..r * nc + c1]
            } else {
                &[][..]
            };
            let limited = limiter_row_isa::<CH, R>(
                isa,
                &mut f[c0..c1],
                &depth[r * nc + c0..r * nc + c1],
                &qx[r * nf + c0..r * nf + c1 + 1],
                &qy[r * nc + c0..r * nc + c1],
                &qy[(r + 1) * nc + c0..(r + 1) * nc + c1],
                ch,
                rain.run(r * nc + c0, r * nc + c1),
                dt_f,
                dt_dx,
            );
            rs.limited = limited;
            limited > 0
        })
        .reduce(|| false, |a, b| a || b)
}

multiversion! {
    /// Outflow factors of one row's run of cells (see [`outflow_factors`]): `f`, `h`, `qn`
    /// (north faces), `qs` (south faces) and `ch` (with `CH`) have one entry per cell, `qx`
    /// one more; `rain` covers the same cells. Channel cells keep
    /// their factor. Returns the number of limited cells. Branch-free, so it vectorises.
    fn limiter_row[const CH: bool, R: RowRate](
        f: &mut [f32],
        h: &[f32],
        qx: &[f32],
        qn: &[f32],
        qs: &[f32],
        ch: &[u32],
        rain: R,
        dt_f: f32,
        dt_dx: f32,
    ) -> u32 as [CH, R] {
        let n = f.len();
        let (h, qx, qn, qs) = (&h[..n], &qx[..n + 1], &qn[..n], &qs[..n]);
        let ch = if CH { &ch[..n] } else { ch };
        let mut limited = 0u32;
        for j in 0..n {
            let out = (-qx[j]).max(0.0) + qx[j + 1].max(0.0) + (-qn[j]).max(0.0) + qs[j].max(0.0);
            let vol = dt_dx * out;
            let avail = h[j] + dt_f * rain.at(j).max(0.0);
            let lim = vol > avail && (!CH || ch[j] == NONE);
            let skip = CH && ch[j] != NONE;
            f[j] = if lim {
                avail / vol
            } else if skip {
                f[j]
            } else {
                1.0
            };
            limited += lim as u32;
        }
        limited
    }
    /// [`limiter_row`] at the instruction-set level `isa`.
    dispatch limiter_row_isa;
}

/// Scales every outgoing face of a limited cell by that cell's factor (each face has one
/// donor: the cell its discharge leaves).
pub(crate) fn scale_outflows(
    d: &Domain,
    s: &mut State,
    factor: &[f32],
    rows: &[RowSums],
    win: Window,
) {
    let (nr, nc) = (d.nrows, d.ncols);
    let nf = nc + 1;
    let isa = Isa::current();
    s.qx_m2s[win.r0 * nf..(win.r1 + 1) * nf]
        .par_chunks_mut(nf)
        .with_min_len(MIN_ROWS_PER_TASK)
        .enumerate()
        .for_each(|(kr, q)| {
            let r = win.r0 + kr;
            if rows[r].limited == 0 {
                return;
            }
            let f = &factor[r * nc..(r + 1) * nc];
            // Edge faces have a donor on one side only.
            if win.c0 == 0 && q[0] < 0.0 {
                q[0] *= f[0];
            }
            if win.c1 + 1 == nc && q[nc] > 0.0 {
                q[nc] *= f[nc - 1];
            }
            let (lo, hi) = (win.c0.max(1), (win.c1 + 1).min(nc - 1));
            if lo <= hi {
                scale_row_isa(isa, &mut q[lo..=hi], &f[lo - 1..hi], &f[lo..=hi]);
            }
        });
    s.qy_m2s[win.r0 * nc..(win.r1 + 2) * nc]
        .par_chunks_mut(nc)
        .with_min_len(MIN_ROWS_PER_TASK)
        .enumerate()
        .for_each(|(kr, q)| {
            let fr = win.r0 + kr;
            let up = fr >= 1 && rows[fr - 1].limited > 0;
            let down = fr < nr && rows[fr].limited > 0;
            if !(up || down) {
                return;
            }
            let (c0, c1) = (win.c0, win.c1 + 1);
            if fr >= 1 && fr < nr {
                let pos = &factor[(fr - 1) * nc + c0..(fr - 1) * nc + c1];
                let neg = &factor[fr * nc + c0..fr * nc + c1];
                scale_row_isa(isa, &mut q[c0..c1], pos, neg);
                return;
            }
            // Edge face row: the donor is the one cell row inside the grid.
            for c in c0..c1 {
                let v = q[c];
                if v > 0.0 && fr >= 1 {
                    q[c] = v * factor[(fr - 1) * nc + c];
                } else if v < 0.0 && fr < nr {
                    q[c] = v * factor[fr * nc + c];
                }
            }
        });
}

multiversion! {
    /// Scales a run of faces by their donor's factor: `pos[j]` for a positive discharge (the
    /// donor before the face), `neg[j]` for a negative one. Branch-free (a zero discharge is
    /// multiplied by 1, which leaves it as it is).
    fn scale_row[](
        q: &mut [f32],
        pos: &[f32],
        neg: &[f32],
    ) -> () as [] {
        let n = q.len();
        let (pos, neg) = (&pos[..n], &neg[..n]);
        for j in 0..n {
            let v = q[j];
            let m = if v > 0.0 {
                pos[j]
            } else if v < 0.0 {
                neg[j]
            } else {
                1.0
            };
            q[j] = v * m;
        }
    }
    /// [`scale_row`] at the instruction-set level `isa`.
    dispatch scale_row_isa;
}

/// Continuity for the window's cells: fluxes and rain, then losses limited by the water
/// present, then fixed-level cells. Fills the per-row sums (volumes as depth over one
/// cell, largest depth, wet columns); leaves `limited` as set by [`outflow_factors`].
/// With `CH`, channel cells (`chan` not `NONE`) are skipped, as in [`outflow_factors`].
pub(crate) fn continuity<const CH: bool>(
    d: &Domain,
    s: &mut State,
    src: &Sources,
    rows: &mut [RowSums],
    win: Window,
    dt: f64,
    chan: &[u32],
) {
    with_rate!(src.rain_ms, |r| with_rate!(src.loss_ms, |l| {
        continuity_impl::<CH, _, _>(d, s, r, l, rows, win, dt, chan)
    }))
}

#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn continuity_impl<const CH: bool, R, L>(
    d: &Domain,
    s: &mut State,
    rain: R,
    loss: L,
    rows: &mut [RowSums],
    win: Window,
    dt: f64,
    chan: &[u32],
) where
    R: RowRate,
    L: RowRate,
{
    let isa = Isa::current();
    let (nr, nc) = (d.nrows, d.ncols);
    let nf = nc + 1;
    let (bed, fixed) = (d.kernel_bed(), &d.fixed_level_m[..]);
    let has_fixed = d.has_fixed;
    let (qx, qy) = (&s.qx_m2s[..], &s.qy_m2s[..]);
    let (dt_f, dt_dx) = (dt as f32, (dt / d.dx_m) as f32);
    let dt_dx64 = dt_dx as f64;
    s.depth_m[win.r0 * nc..(win.r1 + 1) * nc]
        .par_chunks_mut(nc)
        .zip(s.depth_residual_m[win.r0 * nc..(win.r1 + 1) * nc].par_chunks_mut(nc))
        .zip(rows[win.r0..=win.r1].par_iter_mut())
        .with_min_len(MIN_ROWS_PER_TASK)
        .enumerate()
        .for_each(|(kr, ((h, res), rs))| {
            let r = win.r0 + kr;
            let z = &bed[r * nc..(r + 1) * nc];
            let qxr = &qx[r * nf..(r + 1) * nf];
            let qn = &qy[r * nc..(r + 1) * nc];
            let qs = &qy[(r + 1) * nc..(r + 2) * nc];
            let mut acc = RowSums {
                limited: rs.limited,
                wet_lo: u32::MAX,
                ..RowSums::default()
            };
            let (c0, c1) = (win.c0, win.c1 + 1);
            let ch = if CH {
                &chan[r * nc + c0..r * nc + c1]
            } else {
                &[][..]
            };
            let fx = if has_fixed {
                &fixed[r * nc + c0..r * nc + c1]
            } else {
                &[][..]
            };
            let cells = RowCells {
                z: &z[c0..c1],
                qx: &qxr[c0..c1 + 1],
                qn: &qn[c0..c1],
                qs: &qs[c0..c1],
                ch,
                fixed: fx,
                c0: c0 as u32,
            };
            let (hr, rr) = (&mut h[c0..c1], &mut res[c0..c1]);
            let (rain_r, loss_r) = (
                rain.run(r * nc + c0, r * nc + c1),
                loss.run(r * nc + c0, r * nc + c1),
            );
            let sums = if has_fixed {
                continuity_row_isa::<CH, true, R, L>(
                    isa, hr, rr, &cells, rain_r, loss_r, dt_f, dt_dx64,
                )
            } else {
                continuity_row_isa::<CH, false, R, L>(
                    isa, hr, rr, &cells, rain_r, loss_r, dt_f, dt_dx64,
                )
            };
            acc.bnd_in_m = sums.bnd_in_m;
            acc.bnd_out_m = sums.bnd_out_m;
            acc.h_max = sums.h_max;
            acc.wet_lo = sums.wet_lo;
            acc.wet_hi = sums.wet_hi;
            let (rain_m, loss_m) = (sums.rain_m, sums.loss_m);
            // Edge faces: volumes as depth over one cell, with the same Δt/Δx as above.
            let k = dt_dx64;
            let mut book = |q_in: f32| {
                let v = q_in as f64 * k;
                if v > 0.0 {
                    acc.bnd_in_m += v;
                } else {
                    acc.bnd_out_m -= v;
                }
            };
            if win.c0 == 0 {
                book(qxr[0]);
            }
            if win.c1 == nc - 1 {
                book(-qxr[nc]);
            }
            if r == 0 {
                for &q in &qn[win.c0..=win.c1] {
                    book(q);
                }
            }
            if r == nr - 1 {
                for &q in &qs[win.c0..=win.c1] {
                    book(-q);
                }
            }
            acc.rain_m = rain_m;
            acc.loss_m = loss_m;
            *rs = acc;
        });
}

/// One row's run of cells for [`continuity_row`]: `z`, `qn`, `qs` and (with `CH`) `ch`,
/// (with fixed levels) `fixed` have one entry per cell, `qx` one more; `c0` is the first
/// cell's column.
struct RowCells<'a> {
    z: &'a [f32],
    qx: &'a [f32],
    qn: &'a [f32],
    qs: &'a [f32],
    ch: &'a [u32],
    fixed: &'a [f32],
    c0: u32,
}

/// Sums of one row's continuity update (volumes as depth over one cell).
#[derive(Debug, Clone, Copy)]
struct ContinuitySums {
    rain_m: f64,
    loss_m: f64,
    bnd_in_m: f64,
    bnd_out_m: f64,
    h_max: f32,
    wet_lo: u32,
    wet_hi: u32,
}

/// Lanes of the f64 volume sums: cell `j` of a row adds into lane `j % LANES`, and the
/// lanes are added in a fixed tree at the end, so the loop vectorises while the sum stays
/// the same for any thread count and instruction-set level.
const LANES: usize = 8;

/// Sum of the lanes in a fixed order.
#[inline(always)]
fn lane_sum(l: &[f64; LANES]) -> f64 {
    ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]))
}

/// Cells handled per block of [`continuity_row`]: the per-cell volumes of a block wait in
/// stack buffers (8 KiB in all, in L1) between the update loop and the sums.
const BLOCK: usize = 256;

multiversion! {
    /// Continuity for one row's run of cells (see [`continuity`]), with `FX` when the domain
    /// has fixed-level cells. Inactive cells and (with `CH`) channel cells are left as they are.
    /// Depth and the compensated-summation residual are updated in f64 exactly as described in
    /// [`super::State::depth_residual_m`]. Per block of cells, a first loop updates the cells
    /// and writes each cell's rain, loss and boundary volumes to buffers (every branch a
    /// select, so it vectorises), and a second adds the buffers up in [`LANES`] lanes.
    fn continuity_row[const CH: bool, const FX: bool, R: RowRate, L: RowRate](
        h: &mut [f32],
        res: &mut [f32],
        cells: &RowCells,
        rain: R,
        loss: L,
        dt_f: f32,
        dt_dx64: f64,
    ) -> ContinuitySums as [CH, FX, R, L] {
        let n = h.len();
        let res = &mut res[..n];
        let (z, qx, qn, qs) = (
            &cells.z[..n],
            &cells.qx[..n + 1],
            &cells.qn[..n],
            &cells.qs[..n],
        );
        let ch = if CH { &cells.ch[..n] } else { cells.ch };
        let fixed = if FX { &cells.fixed[..n] } else { cells.fixed };
        let mut rain_l = [0.0f64; LANES];
        let mut loss_l = [0.0f64; LANES];
        let mut in_l = [0.0f64; LANES];
        let mut out_l = [0.0f64; LANES];
        let mut h_max_l = [0.0f32; LANES];
        let mut lo_l = [u32::MAX; LANES];
        let mut hi_l = [0u32; LANES];
        let mut rain_b = [0.0f64; BLOCK];
        let mut loss_b = [0.0f64; BLOCK];
        let mut in_b = [0.0f64; BLOCK];
        let mut out_b = [0.0f64; BLOCK];
        let mut wet_b = [0.0f32; BLOCK];
        let mut b0 = 0;
        while b0 < n {
            let m = BLOCK.min(n - b0);
            let (hb, rb) = (&mut h[b0..b0 + m], &mut res[b0..b0 + m]);
            let (zb, qwb, qeb) = (&z[b0..b0 + m], &qx[b0..b0 + m], &qx[b0 + 1..b0 + 1 + m]);
            let (qnb, qsb) = (&qn[b0..b0 + m], &qs[b0..b0 + m]);
            let chb = if CH { &ch[b0..b0 + m] } else { ch };
            let fxb = if FX { &fixed[b0..b0 + m] } else { fixed };
            let (rain_w, loss_w) = (&mut rain_b[..m], &mut loss_b[..m]);
            let (in_w, out_w, wet_w) = (&mut in_b[..m], &mut out_b[..m], &mut wet_b[..m]);
            for j in 0..m {
                let active = zb[j] < INACTIVE_BED_M && (!CH || chb[j] == NONE);
                let dr = dt_f * rain.at(b0 + j);
                // Σ q (f32) × Δt/Δx (f32) is exact in f64: what leaves one cell enters the
                // next to the last bit.
                let net = (qwb[j] as f64 - qeb[j] as f64) + (qnb[j] as f64 - qsb[j] as f64);
                let mut hn = hb[j] as f64 + rb[j] as f64 + dr as f64 + dt_dx64 * net;
                let dl = ((dt_f * loss.at(b0 + j)) as f64).min(hn).max(0.0);
                hn -= dl;
                if FX {
                    let level = fxb[j];
                    let is_fixed = active && !level.is_nan();
                    let target = (level - zb[j]).max(0.0) as f64;
                    let diff = target - hn;
                    in_w[j] = if is_fixed && diff > 0.0 { diff } else { 0.0 };
                    out_w[j] = if is_fixed && diff <= 0.0 { diff } else { 0.0 };
                    hn = if is_fixed { target } else { hn };
                }
                // Depth stays ≥ 0; a rounding-sized negative remainder waits in the residual.
                let hf = hn.max(0.0) as f32;
                let r_new = (hn - hf as f64) as f32;
                hb[j] = if active { hf } else { hb[j] };
                rb[j] = if active { r_new } else { rb[j] };
                rain_w[j] = if active { dr as f64 } else { 0.0 };
                loss_w[j] = if active { dl } else { 0.0 };
                wet_w[j] = if active { hf } else { 0.0 };
            }
            // Sums in lanes: cell j of the row goes to lane j % LANES (BLOCK is a multiple).
            for j in 0..m {
                let l = j % LANES;
                rain_l[l] += rain_w[j];
                loss_l[l] += loss_w[j];
                if FX {
                    in_l[l] += in_w[j];
                    out_l[l] -= out_w[j];
                }
                let wet = wet_w[j] > 0.0;
                let c = cells.c0 + (b0 + j) as u32;
                h_max_l[l] = if wet {
                    h_max_l[l].max(wet_w[j])
                } else {
                    h_max_l[l]
                };
                lo_l[l] = if wet { lo_l[l].min(c) } else { lo_l[l] };
                hi_l[l] = if wet { hi_l[l].max(c) } else { hi_l[l] };
            }
            b0 += m;
        }
        ContinuitySums {
            rain_m: lane_sum(&rain_l),
            loss_m: lane_sum(&loss_l),
            bnd_in_m: lane_sum(&in_l),
            bnd_out_m: lane_sum(&out_l),
            h_max: h_max_l.iter().fold(0.0f32, |a, &b| a.max(b)),
            wet_lo: lo_l.iter().fold(u32::MAX, |a, &b| a.min(b)),
            wet_hi: hi_l.iter().fold(0, |a, &b| a.max(b)),
        }
    }
    /// [`continuity_row`] at the instruction-set level `isa`.
    dispatch continuity_row_isa;
}

/// A rate (m/s) over one row's run of cells: the same value everywhere, or one per cell.
trait RowRate: Copy + Sync {
    /// The rate at the run's `j`-th cell.
    fn at(&self, j: usize) -> f32;
    /// The same rate restricted to the grid cells `a..b` (a grid-wide rate → a row's run).
    fn run(self, a: usize, b: usize) -> Self;
}

/// A uniform rate.
impl RowRate for f32 {
    #[inline(always)]
    fn at(&self, _: usize) -> f32 {
        *self
    }
    #[inline(always)]
    fn run(self, _: usize, _: usize) -> Self {
        self
    }
}

/// One rate per cell of the run.
impl RowRate for &[f32] {
    #[inline(always)]
    fn at(&self, j: usize) -> f32 {
        self[j]
    }
    #[inline(always)]
    fn run(self, a: usize, b: usize) -> Self {
        &self[a..b]
    }
}
