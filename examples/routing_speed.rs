//! Quick timing of the routing step on the PERFORMANCE.md cases, with a checksum of the
//! final state so that two builds can be compared bit for bit:
//! `cargo run --release --example routing_speed -- <A|B|W> <threads> <steps>`.
//! Prints steps, seconds, M cell-updates/s and an FNV-1a hash of depth, qx and qy.
//! Case A: wet start 0.5 m; B: rain 50 mm/h on a dry grid; W: the 2000 × 2000 wet grid.
//! The state is first warmed up for 600 s of simulated time (not timed), as in the bench.

use haihe::flood::routing::cases::performance_case_domain;
use haihe::flood::routing::{step, Params, Rate, Scratch, Sources, State};

fn fnv(h: &mut u64, v: &[f32]) {
    for x in v {
        for b in x.to_bits().to_le_bytes() {
            *h ^= b as u64;
            *h = h.wrapping_mul(0x100_0000_01b3);
        }
    }
}

/// User + system CPU seconds of this process so far (from /proc; 0 where there is none),
/// a figure less sensitive than wall time to other work on a shared machine.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the command name in parentheses; utime and stime are the 14th and 15th.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |k: usize| f.get(k).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let case = args.get(1).map(String::as_str).unwrap_or("A");
    let threads: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1);
    let steps: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(200);
    let (n, h0, rain) = match case {
        "A" => (1000, 0.5f32, 0.0f32),
        "B" => (1000, 0.0, (50.0 / 3.6e6) as f32),
        "W" => (2000, 0.5, 0.0),
        other => {
            eprintln!("unknown case {other}: use A, B or W");
            std::process::exit(2);
        }
    };
    let d = performance_case_domain(n);
    let p = Params::default();
    let src = Sources {
        rain_ms: Rate::Uniform(rain),
        ..Sources::default()
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("rayon pool");
    let mut s = State::dry(&d);
    s.depth_m.fill(h0);
    let mut scratch = Scratch::new(&d, &s);
    let mut cpu = 0.0;
    let secs = pool.install(|| {
        while s.time_s < 600.0 {
            step(&d, &mut s, &src, &p, &mut scratch, 600.0).expect("step");
        }
        let (t0, c0) = (std::time::Instant::now(), cpu_seconds());
        for _ in 0..steps {
            step(&d, &mut s, &src, &p, &mut scratch, f64::INFINITY).expect("step");
        }
        cpu = cpu_seconds() - c0;
        t0.elapsed().as_secs_f64()
    });
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    fnv(&mut h, &s.depth_m);
    fnv(&mut h, &s.qx_m2s);
    fnv(&mut h, &s.qy_m2s);
    println!(
        "case {case} threads {threads} steps {steps} t {:.1} s: {secs:.3} s, {:.1} M cell-updates/s, {:.1} M per CPU-second, hash {h:016x}",
        s.time_s,
        (n * n * steps) as f64 / secs / 1e6,
        (n * n * steps) as f64 / cpu / 1e6
    );
}
