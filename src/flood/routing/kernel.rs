//! Row kernels of the local-inertial scheme: face momentum (x and y), outflow limiting and
//! continuity. Each works on the rows of a window in parallel; every output element is a
//! function of the previous state only, so thread count never changes a bit.

use super::subgrid::NONE;
use super::{Boundary, Domain, Params, Rate, RowSums, Sources, State, Window, INACTIVE_BED_M};
use rayon::prelude::*;

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

/// One run of interior faces: `q` = (this face, the face before, the face after) and
/// `cells` = (bed a, bed b, depth a, depth b, n a, n b) of the cells on either side,
/// all of `out`'s length. With `LV`, `crest` (same length) holds each face's levee
/// crest ([`face_flux_crest`]); without, it is ignored and may be empty.
#[inline(always)]
fn face_row<const LV: bool>(
    out: &mut [f32],
    q: [&[f32]; 3],
    cells: [&[f32]; 6],
    crest: &[f32],
    k: &Coeffs,
) {
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

/// New x-face discharges of the window's rows into `qx_new`. With `LV`, `crest` holds one
/// crest per x face (−∞ = none) and faces use [`face_flux_crest`]; without, `crest` is
/// unused and the loop is the plain one.
pub(crate) fn flux_x<const LV: bool>(
    d: &Domain,
    s: &State,
    qx_new: &mut [f32],
    win: Window,
    k: &Coeffs,
    crest: &[f32],
) {
    let nc = d.ncols;
    let nf = nc + 1;
    let (bed, man, depth, qx) = (d.kernel_bed(), d.manning(), &s.depth_m[..], &s.qx_m2s[..]);
    let (west, east) = (d.boundaries.west, d.boundaries.east);
    qx_new[win.r0 * nf..(win.r1 + 1) * nf]
        .par_chunks_mut(nf)
        .with_min_len(MIN_ROWS_PER_TASK)
        .enumerate()
        .for_each(|(kr, out)| {
            let r = win.r0 + kr;
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
                face_row::<LV>(
                    &mut out[lo..lo + len],
                    [q0, qm, qp],
                    [za, zb, ha, hb, na, nb],
                    cr,
                    k,
                );
            }
            if win.c0 == 0 {
                out[0] = -edge_flux(west, -q[0], h[0], z[0], n[0], k);
            }
            if win.c1 == nc - 1 {
                out[nc] = edge_flux(east, q[nc], h[nc - 1], z[nc - 1], n[nc - 1], k);
            }
        });
}

/// New y-face discharges of the window's face rows (`r0 ..= r1 + 1`) into `qy_new`; `LV`
/// and `crest` (one per y face) as in [`flux_x`].
pub(crate) fn flux_y<const LV: bool>(
    d: &Domain,
    s: &State,
    qy_new: &mut [f32],
    win: Window,
    k: &Coeffs,
    crest: &[f32],
) {
    let (nr, nc) = (d.nrows, d.ncols);
    let (bed, man, depth, qy) = (d.kernel_bed(), d.manning(), &s.depth_m[..], &s.qy_m2s[..]);
    let (north, south) = (d.boundaries.north, d.boundaries.south);
    let (c0, c1) = (win.c0, win.c1 + 1);
    qy_new[win.r0 * nc..(win.r1 + 2) * nc]
        .par_chunks_mut(nc)
        .with_min_len(MIN_ROWS_PER_TASK)
        .enumerate()
        .for_each(|(kr, out)| {
            let fr = win.r0 + kr;
            let out = &mut out[c0..c1];
            let len = out.len();
            if fr == 0 || fr == nr {
                // Edge row: cell row 0 (outward = north, negative) or nr − 1 (south).
                let (b, r, sign) = if fr == 0 {
                    (north, 0, -1.0f32)
                } else {
                    (south, nr - 1, 1.0f32)
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
            let (za, zb, ha, hb, na, nb) = (
                &za[..len],
                &zb[..len],
                &ha[..len],
                &hb[..len],
                &na[..len],
                &nb[..len],
            );
            let (q0, qm, qp) = (&q0[..len], &qm[..len], &qp[..len]);
            let cr = if LV {
                &crest[fr * nc + c0..fr * nc + c0 + len]
            } else {
                &[][..]
            };
            face_row::<LV>(out, [q0, qm, qp], [za, zb, ha, hb, na, nb], cr, k);
        });
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
    // One instance per kind of rain, so the inner loop has no `match` per cell.
    match *rain {
        Rate::Uniform(v) => limiter_impl::<CH, _>(
            depth,
            qx,
            qy,
            |_| v,
            factor,
            rows,
            win,
            nc,
            dt_f,
            dt_dx,
            chan,
        ),
        Rate::PerCell(a) => limiter_impl::<CH, _>(
            depth,
            qx,
            qy,
            |i| a[i],
            factor,
            rows,
            win,
            nc,
            dt_f,
            dt_dx,
            chan,
        ),
    }
}

#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn limiter_impl<const CH: bool, R: Fn(usize) -> f32 + Sync>(
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
    factor[win.r0 * nc..(win.r1 + 1) * nc]
        .par_chunks_mut(nc)
        .zip(rows[win.r0..=win.r1].par_iter_mut())
        .with_min_len(MIN_ROWS_PER_TASK)
        .enumerate()
        .map(|(kr, (f, rs))| {
            let r = win.r0 + kr;
            let mut limited = 0u32;
            for c in win.c0..=win.c1 {
                if CH && chan[r * nc + c] != NONE {
                    continue;
                }
                let out = (-qx[r * nf + c]).max(0.0)
                    + qx[r * nf + c + 1].max(0.0)
                    + (-qy[r * nc + c]).max(0.0)
                    + qy[(r + 1) * nc + c].max(0.0);
                let vol = dt_dx * out;
                let avail = depth[r * nc + c] + dt_f * rain(r * nc + c).max(0.0);
                f[c] = if vol > avail {
                    limited += 1;
                    avail / vol
                } else {
                    1.0
                };
            }
            rs.limited = limited;
            limited > 0
        })
        .reduce(|| false, |a, b| a || b)
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
            for c in win.c0..=win.c1 + 1 {
                let v = q[c];
                if v > 0.0 && c >= 1 {
                    q[c] = v * f[c - 1];
                } else if v < 0.0 && c < nc {
                    q[c] = v * f[c];
                }
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
            for c in win.c0..=win.c1 {
                let v = q[c];
                if v > 0.0 && fr >= 1 {
                    q[c] = v * factor[(fr - 1) * nc + c];
                } else if v < 0.0 && fr < nr {
                    q[c] = v * factor[fr * nc + c];
                }
            }
        });
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
    // One instance per kind of rain and loss, so the inner loop has no `match` per cell.
    match (src.rain_ms, src.loss_ms) {
        (Rate::Uniform(r), Rate::Uniform(l)) => {
            continuity_impl::<CH, _, _>(d, s, |_| r, |_| l, rows, win, dt, chan)
        }
        (Rate::Uniform(r), Rate::PerCell(l)) => {
            continuity_impl::<CH, _, _>(d, s, |_| r, |i| l[i], rows, win, dt, chan)
        }
        (Rate::PerCell(r), Rate::Uniform(l)) => {
            continuity_impl::<CH, _, _>(d, s, |i| r[i], |_| l, rows, win, dt, chan)
        }
        (Rate::PerCell(r), Rate::PerCell(l)) => {
            continuity_impl::<CH, _, _>(d, s, |i| r[i], |i| l[i], rows, win, dt, chan)
        }
    }
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
    R: Fn(usize) -> f32 + Sync,
    L: Fn(usize) -> f32 + Sync,
{
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
            let (mut rain_m, mut loss_m) = (0.0f64, 0.0f64);
            for c in win.c0..=win.c1 {
                if z[c] >= INACTIVE_BED_M {
                    continue;
                }
                let i = r * nc + c;
                if CH && chan[i] != NONE {
                    continue;
                }
                let dr = dt_f * rain(i);
                // Σ q (f32) × Δt/Δx (f32) is exact in f64: what leaves one cell enters
                // the next to the last bit.
                let net = (qxr[c] as f64 - qxr[c + 1] as f64) + (qn[c] as f64 - qs[c] as f64);
                let mut hn = h[c] as f64 + res[c] as f64 + dr as f64 + dt_dx64 * net;
                rain_m += dr as f64;
                let dl = ((dt_f * loss(i)) as f64).min(hn).max(0.0);
                hn -= dl;
                loss_m += dl;
                if has_fixed && !fixed[i].is_nan() {
                    let target = (fixed[i] - z[c]).max(0.0) as f64;
                    let diff = target - hn;
                    if diff > 0.0 {
                        acc.bnd_in_m += diff;
                    } else {
                        acc.bnd_out_m -= diff;
                    }
                    hn = target;
                }
                // Depth stays ≥ 0; a rounding-sized negative remainder waits in the residual.
                let hf = hn.max(0.0) as f32;
                h[c] = hf;
                res[c] = (hn - hf as f64) as f32;
                if hf > 0.0 {
                    acc.h_max = acc.h_max.max(hf);
                    acc.wet_lo = acc.wet_lo.min(c as u32);
                    acc.wet_hi = acc.wet_hi.max(c as u32);
                }
            }
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
