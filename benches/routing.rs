//! Benchmarks of the local-inertial routing step on the peer cases of
//! `design/PERFORMANCE.md`: 1000 × 1000 cells of 10 m, bed
//! z = 100 − 0.001·x − 0.0005·(H − y) + U(−0.5, 0.5) (fixed seed), n = 0.03, closed edges.
//! Case A: uniform initial depth 0.5 m. Case B: dry start, rain 50 mm/h. Plus a 2000 × 2000
//! wet grid. Each sample runs a fixed number of steps from a warmed-up state; criterion's
//! "elements/s" is cell-updates per second (cells × steps / s). 1 and 2 threads come from
//! explicit rayon pools. Run with `cargo bench --bench routing`. The full 3600 s runs
//! (step counts, wall time) are `cargo test --release --test routing -- --ignored bench_full`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use haihe::flood::routing::cases::performance_case_domain;
use haihe::flood::routing::{step, Params, Rate, Scratch, Sources, State};
use std::time::Duration;

const STEPS_PER_SAMPLE: usize = 10;

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a rayon pool can be built")
}

fn bench_case(c: &mut Criterion, name: &str, n: usize, rain_ms: f32, wet_depth_m: f32) {
    let d = performance_case_domain(n);
    let p = Params::default();
    let src = Sources {
        rain_ms: Rate::Uniform(rain_ms),
        ..Sources::default()
    };
    let mut g = c.benchmark_group(format!("routing_{name}"));
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(8))
        .throughput(Throughput::Elements((n * n * STEPS_PER_SAMPLE) as u64));
    for threads in [1usize, 2] {
        let mut s = State::dry(&d);
        s.depth_m.fill(wet_depth_m);
        let mut scratch = Scratch::new(&d, &s);
        let pl = pool(threads);
        // Warm up: 600 s of simulated time, so the flow is developed (and, in case B, wet).
        pl.install(|| {
            while s.time_s < 600.0 {
                step(&d, &mut s, &src, &p, &mut scratch, 600.0).expect("step");
            }
        });
        g.bench_with_input(BenchmarkId::new("threads", threads), &threads, |b, _| {
            pl.install(|| {
                b.iter(|| {
                    for _ in 0..STEPS_PER_SAMPLE {
                        step(&d, &mut s, &src, &p, &mut scratch, f64::INFINITY).expect("step");
                    }
                })
            })
        });
    }
    g.finish();
}

fn routing(c: &mut Criterion) {
    bench_case(c, "case_a_1000", 1000, 0.0, 0.5);
    bench_case(c, "case_b_1000", 1000, (50.0 / 3.6e6) as f32, 0.0);
    bench_case(c, "wet_2000", 2000, 0.0, 0.5);
}

// No plots: the project's plotters is built with ab_glyph and no system font lookup,
// so criterion's plotters charts would fail with FontUnavailable; the numbers are in
// target/criterion/*/new/estimates.json and the report.
criterion_group! {
    name = benches;
    config = Criterion::default().without_plots();
    targets = routing
}
criterion_main!(benches);
