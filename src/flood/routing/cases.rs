//! The peer benchmark cases of `shared/design/PERFORMANCE.md`, shared by the criterion
//! bench, the timing example and the tests, so every figure is measured on the same bed.

use super::{Boundaries, Domain};

/// SplitMix64 (Steele, Lea & Flood 2014), a small reproducible random stream for test beds.
#[derive(Debug, Clone)]
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    /// The next value, uniform in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut x = self.0;
        x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((x ^ (x >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Seed of the PERFORMANCE.md bed noise.
pub const PERFORMANCE_SEED: u64 = 0x4841_4948_4521;

/// The PERFORMANCE.md bed on an n × n grid of 10 m cells (x east, y north from the south
/// edge): z = 100 − 0.001·x − 0.0005·(H − y) + U(−0.5, 0.5) m, Manning n = 0.03, closed
/// edges. Case A starts it at 0.5 m depth, case B dry with 50 mm/h of rain.
pub fn performance_case_domain(n: usize) -> Domain {
    let dx = 10.0;
    let h_m = n as f64 * dx;
    let mut rng = SplitMix64(PERFORMANCE_SEED);
    let mut bed = Vec::with_capacity(n * n);
    for r in 0..n {
        let y = (n - r) as f64 * dx - dx / 2.0;
        for c in 0..n {
            let x = (c as f64 + 0.5) * dx;
            bed.push((100.0 - 0.001 * x - 0.0005 * (h_m - y) + (rng.next_f64() - 0.5)) as f32);
        }
    }
    Domain::new(n, n, dx, bed, vec![0.03; n * n], Boundaries::closed())
        .expect("the PERFORMANCE.md domain is valid")
}
