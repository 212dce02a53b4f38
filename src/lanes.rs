//! Numbers for several patients at once: [`F64s`], one f64 per SIMD lane ([`LANES`] of them),
//! and the [`Lane`] trait that lets one piece of arithmetic (a model's right-hand side, a
//! drug's decay) be written once for a single patient (`f64`) and for [`LANES`] patients.
//!
//! Every operation is the IEEE operation on each lane: no fused multiply-add, no reassociation,
//! no cross-lane reduction. So a lane computes exactly the bits the `f64` code computes for that
//! patient, whatever its lane-mates, and the cohort's results do not depend on how patients
//! are packed into lanes. That is what `tests/lanes.rs` checks.
//!
//! `wide::f64x8` is used whatever the CPU: with AVX-512 (`-C target-cpu=native` on such a
//! machine, which `.cargo/config.toml` asks for) it is one register; elsewhere `wide` splits it
//! into narrower registers, with the same results.

use std::ops::{Add, Div, Mul, Neg, Sub};

/// Patients integrated together.
pub const LANES: usize = 8;

/// One f64 per lane.
pub type F64s = wide::f64x8;

/// Arithmetic shared by `f64` and [`F64s`]: what a model's right-hand side and the drug
/// inputs need. Comparisons give a mask; `select` is the branch-free `if`.
pub trait Lane:
    Copy
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
{
    type Mask: Copy;
    fn splat(x: f64) -> Self;
    fn gt(self, other: Self) -> Self::Mask;
    /// `if mask { a } else { b }`, lane by lane.
    fn select(mask: Self::Mask, a: Self, b: Self) -> Self;
    /// `f64::max` / `f64::min` on values that are not NaN.
    fn max(self, other: Self) -> Self;
    fn min(self, other: Self) -> Self;
    /// The bits of each lane shifted left by 52, read as f64: for a lane holding 2^52 + e
    /// (e an integer in [1, 2046]) this is 2^(e - 1023) exactly.
    fn shl52(self) -> Self;
}

impl Lane for f64 {
    type Mask = bool;
    #[inline(always)]
    fn splat(x: f64) -> Self {
        x
    }
    #[inline(always)]
    fn gt(self, other: Self) -> bool {
        self > other
    }
    #[inline(always)]
    fn select(mask: bool, a: Self, b: Self) -> Self {
        if mask { a } else { b }
    }
    #[inline(always)]
    fn max(self, other: Self) -> Self {
        f64::max(self, other)
    }
    #[inline(always)]
    fn min(self, other: Self) -> Self {
        f64::min(self, other)
    }
    #[inline(always)]
    fn shl52(self) -> Self {
        f64::from_bits(self.to_bits() << 52)
    }
}

impl Lane for F64s {
    type Mask = F64s;
    #[inline(always)]
    fn splat(x: f64) -> Self {
        F64s::splat(x)
    }
    #[inline(always)]
    fn gt(self, other: Self) -> Self {
        self.simd_gt(other)
    }
    #[inline(always)]
    fn select(mask: Self, a: Self, b: Self) -> Self {
        mask.select(a, b)
    }
    #[inline(always)]
    fn max(self, other: Self) -> Self {
        F64s::max(self, other)
    }
    #[inline(always)]
    fn min(self, other: Self) -> Self {
        F64s::min(self, other)
    }
    #[inline(always)]
    fn shl52(self) -> Self {
        let bits: wide::u64x8 = wide::bytemuck::cast(self);
        wide::bytemuck::cast(bits << 52u32)
    }
}

/// Declares a model's parameters, every field of type `T` (`f64` for one patient, [`F64s`]
/// for one patient a lane; visible in the crate, where a model that extends another builds it),
/// with `lanes`, which gathers [`LANES`] patients' parameters field by field: each field is
/// listed once.
macro_rules! lane_params {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $($(#[$field_meta:meta])* $field:ident,)*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy)]
        $vis struct $name<T = f64> {
            $($(#[$field_meta])* pub(crate) $field: T,)*
        }

        impl $name {
            /// The parameters of [`LANES`](crate::lanes::LANES) patients, lane by lane.
            fn lanes(p: [&$name; $crate::lanes::LANES]) -> $name<$crate::lanes::F64s> {
                $name { $($field: $crate::lanes::F64s::new(p.map(|q| q.$field)),)* }
            }
        }
    };
}
pub(crate) use lane_params;

/// The `OdeModel` methods of a model whose [`lane_params!`] struct `Params<T>` has
/// `fn rhs(&self, y: &[T; N], input: &[T], dydt: &mut [T; N])` written once over [`Lane`]:
/// `rhs` for one patient, `lane_params` and `rhs_lanes` (inlined into the lane kernel's stages,
/// as the trait's doc asks) for one patient a lane.
macro_rules! lane_model_methods {
    ($n:literal) => {
        fn rhs(
            &self,
            p: &Params,
            _t: f64,
            y: &nalgebra::SVector<f64, $n>,
            input: &[f64],
            dydt: &mut nalgebra::SVector<f64, $n>,
        ) {
            p.rhs(&y.data.0[0], input, &mut dydt.data.0[0]);
        }

        fn lane_params(
            &self,
            p: [&Params; $crate::lanes::LANES],
        ) -> Option<Params<$crate::lanes::F64s>> {
            Some(Params::lanes(p))
        }

        #[inline(always)]
        fn rhs_lanes(
            &self,
            p: &Params<$crate::lanes::F64s>,
            _t: $crate::lanes::F64s,
            y: &[$crate::lanes::F64s; $n],
            input: &[$crate::lanes::F64s],
            dydt: &mut [$crate::lanes::F64s; $n],
        ) {
            p.rhs(y, input, dydt);
        }
    };
}
pub(crate) use lane_model_methods;

/// Lane `i` of `x`.
#[inline(always)]
pub fn lane(x: F64s, i: usize) -> f64 {
    x.as_array()[i]
}

/// Sets lane `i` of `x`.
#[inline(always)]
pub fn set_lane(x: &mut F64s, i: usize, value: f64) {
    x.as_mut_array()[i] = value;
}

/// e^-x for x >= 0, lane by lane; exactly 0 above 745.2 (where e^-x is below half the
/// smallest subnormal). At most 1 ulp from the correctly rounded value (tested against
/// glibc's `exp` in this module's tests).
///
/// Written with additions, multiplications and one integer shift only (no table, no FMA, no
/// division), so that it vectorises and gives the same bits on every x86-64 and in every
/// lane. The method: k = round(x / ln 2) by the 1.5 * 2^52 shifter; s = -(x - k ln2) by
/// Cody–Waite reduction with fdlibm's split of ln 2 (x - k*LN2_HI is exact for k <= 1075);
/// e^s = 1 + s + s^2 q(s) on |s| <= ln2/2, q of degree 9 (a Chebyshev interpolant of
/// (e^s - 1 - s)/s^2, 0.14 ulp), by Estrin's scheme; then times 2^-k built from k's bits, in
/// two factors when k > 1000 so that a subnormal result is rounded once.
#[inline(always)]
pub fn exp_neg<T: Lane>(x: T) -> T {
    const INV_LN2: f64 = std::f64::consts::LOG2_E;
    // ln 2 = LN2_HI + LN2_LO, LN2_HI with its low 21 bits zero (fdlibm's 0x3fe62e42_fee00000).
    const LN2_HI: f64 = 6.931_471_803_691_238e-1;
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    // 1.5 * 2^52: adding and subtracting it rounds to an integer (ties to even).
    const SHIFT: f64 = 6_755_399_441_055_744.0;
    // 2^52 + 1023: BIAS - j holds the biased exponent of 2^-j in its low bits.
    const BIAS: f64 = 4_503_599_627_371_519.0;
    const CUTOFF: f64 = 745.2;
    const Q: [f64; 10] = [
        0.500_000_000_000_000_1,
        0.166_666_666_666_666_69,
        0.041_666_666_666_624_164,
        0.008_333_333_333_330_065,
        0.001_388_888_891_719_671_9,
        0.000_198_412_698_630_405_45,
        2.480_152_132_236_869_2e-5,
        2.755_726_848_031_002_4e-6,
        2.762_007_587_998_336_7e-7,
        2.510_037_583_256_123_4e-8,
    ];
    let c = T::splat;
    let xc = x.min(c(CUTOFF));
    let k = (xc * c(INV_LN2) + c(SHIFT)) - c(SHIFT);
    let hi = xc - k * c(LN2_HI);
    let lo = k * c(LN2_LO);
    let s = lo - hi;
    let s2 = s * s;
    let s4 = s2 * s2;
    let s8 = s4 * s4;
    let q = ((c(Q[0]) + c(Q[1]) * s) + (c(Q[2]) + c(Q[3]) * s) * s2)
        + ((c(Q[4]) + c(Q[5]) * s) + (c(Q[6]) + c(Q[7]) * s) * s2) * s4
        + (c(Q[8]) + c(Q[9]) * s) * s8;
    let p = c(1.0) + (s + s2 * q);
    let big = k.gt(c(1000.0));
    let j = k - T::select(big, c(100.0), c(0.0));
    let two_to_minus_j = (c(BIAS) - j).shl52();
    let two_to_minus_100 = T::select(big, c(1.0 / (1u128 << 100) as f64), c(1.0));
    let r = (p * two_to_minus_j) * two_to_minus_100;
    T::select(x.gt(c(CUTOFF)), c(0.0), r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ulps(a: f64, b: f64) -> u64 {
        (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs()
    }

    /// Within 1 ulp of glibc's exp (itself within about 0.5 ulp) over the whole range, on a
    /// grid, on random points, on the subnormal range and around every half-integer multiple
    /// of ln 2 (where the reduction changes k); and every lane equals the scalar value.
    #[test]
    fn exp_neg_is_within_one_ulp_and_lanes_equal_scalar() {
        let mut points: Vec<f64> = (0..=2_000_000).map(|i| i as f64 * 745.2 / 2e6).collect();
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..1_000_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            points.push((state >> 11) as f64 / (1u64 << 53) as f64 * 745.2);
            points.push(((state >> 11) as f64 / (1u64 << 53) as f64 * 40.0 - 30.0).exp2());
        }
        for k in 0..1076 {
            let m = (k as f64 + 0.5) * std::f64::consts::LN_2;
            for d in -3i64..=3 {
                points.push(f64::from_bits((m.to_bits() as i64 + d) as u64));
            }
        }
        points.extend([0.0, 1e-300, 708.0, 708.4, 744.4, 745.1, 745.2, 745.3, 1e6]);
        let mut worst = 0;
        for &x in &points {
            let ours = exp_neg(x);
            let reference = if x > 745.2 { 0.0 } else { (-x).exp() };
            let e = ulps(ours, reference);
            assert!(e <= 1, "e^-{x}: {ours:e} against {reference:e} ({e} ulp)");
            worst = worst.max(e);
        }
        for chunk in points.chunks_exact(LANES) {
            let v = exp_neg(F64s::new(chunk.try_into().unwrap()));
            for (i, &x) in chunk.iter().enumerate() {
                assert_eq!(
                    lane(v, i).to_bits(),
                    exp_neg(x).to_bits(),
                    "lane {i}, x {x}"
                );
            }
        }
        assert_eq!(worst, 1, "the comparison must see rounding differences");
    }
}
