//! Instruction-set level of the routing kernels, chosen once per process at run time.
//!
//! The row loops of `routing::kernel` are compiled three times: for the x86-64 baseline
//! (SSE2), for AVX2 and for AVX-512, and the widest level the CPU supports is used. Only
//! the vector width changes: Rust never contracts `a * b + c` into a fused multiply-add,
//! and every operation used (add, multiply, divide, square root, compare, select, integer
//! shift and divide) is exactly rounded in IEEE 754 at any width, so all three levels give
//! bit-identical results (checked by `routing::isa_tests`). `HAIHE_SIMD=base|avx2|avx512`
//! forces a lower level (for that check, or to compare speeds); a level the CPU lacks falls
//! back to the best one it has.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::OnceLock;

/// A level of the x86-64 vector instruction set (on other targets, always `Base`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Isa {
    /// The target's baseline (SSE2 on x86-64).
    Base,
    /// AVX2 (x86-64-v3 without FMA).
    Avx2,
    /// AVX-512 F/VL/DQ/BW (x86-64-v4 without FMA).
    Avx512,
}

impl Isa {
    /// The widest level this CPU supports.
    pub fn detected() -> Isa {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("avx512vl")
                && std::arch::is_x86_feature_detected!("avx512dq")
                && std::arch::is_x86_feature_detected!("avx512bw")
            {
                return Isa::Avx512;
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                return Isa::Avx2;
            }
        }
        Isa::Base
    }

    /// [`Isa::detected`], read once per process.
    pub fn best() -> Isa {
        static BEST: OnceLock<Isa> = OnceLock::new();
        *BEST.get_or_init(Isa::detected)
    }

    /// Short name, as `HAIHE_SIMD` takes it and `run.json` reports it.
    pub fn name(self) -> &'static str {
        match self {
            Isa::Base => "base",
            Isa::Avx2 => "avx2",
            Isa::Avx512 => "avx512",
        }
    }

    /// The level the kernels use in this process: the detected one, or the lower one
    /// `HAIHE_SIMD` asks for (read once).
    pub fn current() -> Isa {
        match LEVEL.load(Ordering::Relaxed) {
            UNSET => {
                let best = Isa::best();
                let asked = match std::env::var("HAIHE_SIMD").ok().as_deref() {
                    Some("base") => Isa::Base,
                    Some("avx2") => Isa::Avx2,
                    _ => best,
                };
                let level = asked.min(best);
                LEVEL.store(level as u8, Ordering::Relaxed);
                level
            }
            v => Isa::from_u8(v),
        }
    }

    fn from_u8(v: u8) -> Isa {
        match v {
            2 => Isa::Avx512,
            1 => Isa::Avx2,
            _ => Isa::Base,
        }
    }

    /// Makes the kernels use `level` (capped at [`Isa::best`]) from now on, in every
    /// thread; for tests that compare the levels bit for bit.
    #[cfg(test)]
    pub(crate) fn force(level: Isa) {
        LEVEL.store(level.min(Isa::best()) as u8, Ordering::Relaxed);
    }
}

/// Not yet read from the CPU and `HAIHE_SIMD`.
const UNSET: u8 = u8::MAX;

/// The level in use, as `Isa as u8`, or [`UNSET`].
static LEVEL: AtomicU8 = AtomicU8::new(UNSET);

/// Defines a row loop once and compiles it three times. Input:
///
/// ```text
/// multiversion! {
///     /// docs of the loop
///     fn row[generic params](args) -> ret as [generic args] { body }
///     /// docs of the dispatcher
///     dispatch row_isa;
/// }
/// ```
///
/// gives `row` (`#[inline(always)]`) and `row_isa(isa, args…)`, which runs `row` compiled
/// for AVX-512, AVX2 or the baseline (see [`Isa`]). The level is capped at what the CPU
/// has ([`Isa::best`]), so a caller cannot select an unsupported one.
macro_rules! multiversion {
    (
        $(#[$m:meta])*
        fn $inner:ident [$($gen:tt)*] ($($arg:ident : $ty:ty),* $(,)?) -> $ret:ty
            as [$($garg:tt)*] $body:block
        $(#[$dm:meta])*
        dispatch $name:ident;
    ) => {
        $(#[$m])*
        #[inline(always)]
        #[allow(clippy::too_many_arguments, clippy::unused_unit)]
        fn $inner<$($gen)*>($($arg: $ty),*) -> $ret $body

        $(#[$dm])*
        #[inline]
        #[allow(clippy::too_many_arguments, clippy::unused_unit)]
        fn $name<$($gen)*>(isa: $crate::flood::routing::isa::Isa, $($arg: $ty),*) -> $ret {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx512vl,avx512dq,avx512bw,avx2,avx,sse4.2,sse4.1,ssse3,popcnt,bmi1,bmi2,lzcnt")]
                #[allow(clippy::too_many_arguments, clippy::unused_unit)]
                unsafe fn v4<$($gen)*>($($arg: $ty),*) -> $ret {
                    $inner::<$($garg)*>($($arg),*)
                }
                #[target_feature(enable = "avx2,avx,sse4.2,sse4.1,ssse3,popcnt,bmi1,bmi2,lzcnt")]
                #[allow(clippy::too_many_arguments, clippy::unused_unit)]
                unsafe fn v3<$($gen)*>($($arg: $ty),*) -> $ret {
                    $inner::<$($garg)*>($($arg),*)
                }
                use $crate::flood::routing::isa::Isa as Level;
                match isa.min(Level::best()) {
                    // SAFETY: `Isa::best` is what the CPU reports, so the features exist.
                    Level::Avx512 => return unsafe { v4::<$($garg)*>($($arg),*) },
                    // SAFETY: as above.
                    Level::Avx2 => return unsafe { v3::<$($garg)*>($($arg),*) },
                    Level::Base => {}
                }
            }
            let _ = isa;
            $inner::<$($garg)*>($($arg),*)
        }
    };
}
pub(crate) use multiversion;
