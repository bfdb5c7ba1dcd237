//! Monte Carlo of lifeline damage: 1000 realisations over every bundled component
//! (`rasters/lifelines/*.geojson`), each sampling damage states and restoration times
//! and finding the served nodes of every spatial group of `rasters/model/` at four times
//! (0, 3, 30, 365 days). Uniform PGA 0.3 g and PGV 60 cm/s, so that substations and
//! pipes are damaged. Criterion's "elements/s" is realisations per second; 1 thread and
//! all threads come from explicit rayon pools. Run with `cargo bench --bench lifelines`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use haihe::grid::{GeoTransform, Grid};
use haihe::lifelines::{
    assess, read_group_members, read_network_dir, run_monte_carlo, Fragility, Intensity,
    MonteCarloConfig,
};
use ndarray::Array2;
use std::path::PathBuf;
use std::time::Duration;

const REALISATIONS: usize = 1000;

fn uniform_grid(value: f32) -> Grid<f32> {
    let wkt = haihe::grid::epsg_wkt(32650).expect("EPSG:32650");
    let t = GeoTransform {
        x0: -100_000.0,
        dx: 1000.0,
        y0: 4_800_000.0,
        dy: -1000.0,
    };
    Grid::new(Array2::from_elem((700, 900), value), t, wkt, None)
}

fn bench_monte_carlo(c: &mut Criterion) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let net = read_network_dir(&root.join("rasters/lifelines")).expect("bundled layers");
    let f = Fragility::read(&root.join("models/fragility.toml")).expect("fragility");
    let groups = read_group_members(&net, &root.join("rasters/model")).expect("groups");
    let (pga, pgv) = (uniform_grid(0.3), uniform_grid(60.0));
    let hazards = assess(
        &net,
        &f,
        &Intensity {
            pga_g: Some(&pga),
            pgv_cms: Some(&pgv),
            flood_depth_m: None,
        },
    )
    .expect("assess");
    let cfg = MonteCarloConfig {
        realisations: REALISATIONS,
        seed: 1,
        times_days: vec![0.0, 3.0, 30.0, 365.0],
        keep_states: false,
    };
    eprintln!(
        "lifelines bench: {} nodes, {} links, {} groups",
        net.nodes.len(),
        net.links.len(),
        groups.ids.len()
    );
    let mut g = c.benchmark_group("lifelines_monte_carlo");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(10))
        .throughput(Throughput::Elements(REALISATIONS as u64));
    let all = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut threads = vec![1];
    if all > 1 {
        threads.push(all);
    }
    for t in threads {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(t)
            .build()
            .expect("rayon pool");
        g.bench_with_input(BenchmarkId::new("threads", t), &t, |b, _| {
            b.iter(|| pool.install(|| run_monte_carlo(&net, &f, &hazards, &groups, &cfg)))
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
    targets = bench_monte_carlo
}
criterion_main!(benches);
