//! Benchmarks of the terrain kernels on a 4000 × 4000 synthetic fractal DEM with pits
//! (30 m cells), the case of the peer figures in `design/PERFORMANCE.md`: Priority-Flood+ε
//! (sequential), D8 and flow accumulation with 1 and 2 rayon threads. Criterion prints
//! cells/s. Run with `cargo bench --bench terrain`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use haihe::terrain::{d8_flow_directions, flow_accumulation, priority_flood_epsilon};
use ndarray::{Array2, Axis};
use rayon::prelude::*;
use std::time::Duration;

const N: usize = 4000;
const CELL_M: f64 = 30.0;
const SEED: u64 = 0x4841_4948_4521;

/// SplitMix64 finaliser: a well-mixed 64-bit hash.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Hashed lattice value in [−1, 1).
fn lattice(octave: u64, ix: u64, iy: u64) -> f64 {
    let h = mix(SEED ^ mix(octave ^ mix(ix ^ mix(iy))));
    (h >> 11) as f64 / (1u64 << 52) as f64 - 1.0
}

/// Bilinear value noise of one octave with lattice spacing `period` cells.
fn value_noise(octave: u64, r: usize, c: usize, period: f64) -> f64 {
    let (y, x) = (r as f64 / period, c as f64 / period);
    let (iy, ix) = (y.floor(), x.floor());
    let (fy, fx) = (y - iy, x - ix);
    // Smoothstep weights avoid creases along lattice lines.
    let (sy, sx) = (fy * fy * (3.0 - 2.0 * fy), fx * fx * (3.0 - 2.0 * fx));
    let (iy, ix) = (iy as u64, ix as u64);
    let v00 = lattice(octave, ix, iy);
    let v01 = lattice(octave, ix + 1, iy);
    let v10 = lattice(octave, ix, iy + 1);
    let v11 = lattice(octave, ix + 1, iy + 1);
    let top = v00 + (v01 - v00) * sx;
    let bottom = v10 + (v11 - v10) * sx;
    top + (bottom - top) * sy
}

/// Deterministic fractal terrain in metres: six octaves of value noise (periods 1024 to
/// 32 cells, amplitude halving per octave from 200 m), a regional slope of 1 m per km
/// towards the south-east, plus white noise of ±1 m and 5 m pits at 0.1 % of the cells.
fn synthetic_dem(n: usize) -> Array2<f64> {
    let mut dem = Array2::<f64>::zeros((n, n));
    dem.axis_iter_mut(Axis(0))
        .into_par_iter()
        .enumerate()
        .for_each(|(r, mut row)| {
            for (c, z) in row.iter_mut().enumerate() {
                let mut v = 0.0;
                let mut amp = 200.0;
                let mut period = 1024.0;
                for octave in 0..6 {
                    v += amp * value_noise(octave, r, c, period);
                    amp *= 0.5;
                    period *= 0.5;
                }
                let slope = -0.001 * CELL_M * (r + c) as f64;
                let h = mix(SEED ^ mix(((r as u64) << 32) | c as u64));
                let white = (h >> 11) as f64 / (1u64 << 52) as f64 - 1.0;
                let pit = if h % 1000 == 0 { -5.0 } else { 0.0 };
                *z = 1000.0 + v + slope + white + pit;
            }
        });
    dem
}

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a rayon pool can be built")
}

fn terrain(c: &mut Criterion) {
    let cells = (N * N) as u64;
    let dem = synthetic_dem(N);
    let filled = priority_flood_epsilon(dem.view(), None).expect("fill runs");
    let dir = d8_flow_directions(filled.view(), CELL_M);

    let mut g = c.benchmark_group("terrain_4000x4000");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .throughput(Throughput::Elements(cells));

    // Priority-Flood is sequential: one thread only.
    g.bench_function(BenchmarkId::new("fill_epsilon", 1), |b| {
        b.iter(|| priority_flood_epsilon(dem.view(), None).expect("fill runs"))
    });
    for threads in [1, 2] {
        let p = pool(threads);
        g.bench_function(BenchmarkId::new("d8", threads), |b| {
            p.install(|| b.iter(|| d8_flow_directions(filled.view(), CELL_M)))
        });
        g.bench_function(BenchmarkId::new("accumulation", threads), |b| {
            p.install(|| b.iter(|| flow_accumulation(dir.view(), None).expect("no cycles")))
        });
    }
    g.finish();
}

// No plots: the project's plotters is built with ab_glyph and no system font lookup,
// so criterion's plotters charts would fail with FontUnavailable; the numbers are in
// target/criterion/*/new/estimates.json and the report.
criterion_group! {
    name = benches;
    config = Criterion::default().without_plots();
    targets = terrain
}
criterion_main!(benches);
