//! Sixteen f32 lanes as the machine's vectors: the one unit every kernel computes in. A
//! [`Lanes`] type names an instruction set and says how its vectors load, store, multiply-add
//! and sum a row of [`NR`] values; the kernels are written once over it.
//!
//! - [`Portable`]: plain arrays, which LLVM turns into the target's baseline vectors (SSE2 on
//!   x86-64, NEON on aarch64).
//! - [`Simd128`] (wasm32): four `v128`; with the `relaxed-simd` feature its multiply-add is
//!   `f32x4_relaxed_madd`, one fused instruction on engines that fuse it (V8 on x86-64 with FMA).
//! - [`Avx2Fma`] (x86-64): two `__m256` with fused multiply-add, chosen at run time.
//!
//! Each type's operations are `#[inline(always)]`: inlined into a function compiled for its
//! instruction set (see [`super::on_isa`]), they become single instructions.

#![allow(unsafe_code)]

/// Values in a row of lanes: a panel's width in [`super::gemm`], the step of every dot product.
pub const NR: usize = 16;

/// An instruction set's vectors, [`NR`] lanes at a time.
pub trait Lanes {
    /// [`NR`] values held in vector registers.
    type Row: Copy;
    /// Rows of the product's micro-kernel tile: as many rows of accumulators as the vector
    /// registers hold beside one row of the weight's panel and a broadcast value.
    const MR: usize;
    /// `[x; NR]`
    fn splat(x: f32) -> Self::Row;
    /// `x[..NR]`
    fn load(x: &[f32]) -> Self::Row;
    /// `y[..NR] = row`
    fn store(row: Self::Row, y: &mut [f32]);
    /// `acc + a b`, lane by lane, fused where the instruction set has it.
    fn madd(acc: Self::Row, a: Self::Row, b: Self::Row) -> Self::Row;
    /// The sum of the lanes.
    fn sum(row: Self::Row) -> f32;
}

/// Plain Rust arrays: the baseline vectors of whatever target the crate is built for.
pub struct Portable;

impl Lanes for Portable {
    type Row = [f32; NR];
    // 4 rows x 4 SSE vectors would take every register; 3 leave room for the panel's row
    const MR: usize = 3;

    #[inline(always)]
    fn splat(x: f32) -> Self::Row {
        [x; NR]
    }

    #[inline(always)]
    fn load(x: &[f32]) -> Self::Row {
        x[..NR].try_into().expect("NR values")
    }

    #[inline(always)]
    fn store(row: Self::Row, y: &mut [f32]) {
        y[..NR].copy_from_slice(&row);
    }

    #[inline(always)]
    fn madd(mut acc: Self::Row, a: Self::Row, b: Self::Row) -> Self::Row {
        for ((acc, a), b) in acc.iter_mut().zip(a).zip(b) {
            *acc += a * b;
        }
        acc
    }

    #[inline(always)]
    fn sum(row: Self::Row) -> f32 {
        // halves added first, as a vector reduction does
        let mut half = [0.0f32; NR / 2];
        for (h, (a, b)) in half.iter_mut().zip(row[..NR / 2].iter().zip(&row[NR / 2..])) {
            *h = a + b;
        }
        half.iter().sum()
    }
}

#[cfg(target_arch = "wasm32")]
pub use wasm::Simd128;

#[cfg(target_arch = "wasm32")]
mod wasm {
    use core::arch::wasm32::*;

    use super::{Lanes, NR};

    /// wasm's 128-bit vectors, four to a row (the crate is built with `+simd128`).
    pub struct Simd128;

    impl Lanes for Simd128 {
        type Row = [v128; 4];
        // 2 x 4 accumulators, a panel row's 4 vectors, a broadcast and the product of an unfused
        // multiply-add: 14 registers. V8 on x86-64 allocates 15 (it keeps one as scratch); with
        // 3 rows it spilled, and the products ran at 23 GFLOP/s instead of 30 (simd128) and 38
        // (relaxed-simd) in the browser benchmark.
        const MR: usize = 2;

        #[inline(always)]
        fn splat(x: f32) -> Self::Row {
            [f32x4_splat(x); 4]
        }

        #[inline(always)]
        fn load(x: &[f32]) -> Self::Row {
            let x = &x[..NR];
            // SAFETY: `x` holds NR = 16 f32, so each of the four unaligned 16-byte reads lies
            // inside it.
            unsafe { [0, 4, 8, 12].map(|i| v128_load(x.as_ptr().add(i) as *const v128)) }
        }

        #[inline(always)]
        fn store(row: Self::Row, y: &mut [f32]) {
            let y = &mut y[..NR];
            for (i, v) in row.into_iter().enumerate() {
                // SAFETY: `y` holds 16 f32; the write at 4 i covers y[4 i .. 4 i + 4].
                unsafe { v128_store(y.as_mut_ptr().add(4 * i) as *mut v128, v) }
            }
        }

        #[inline(always)]
        fn madd(acc: Self::Row, a: Self::Row, b: Self::Row) -> Self::Row {
            let mut out = acc;
            for ((o, a), b) in out.iter_mut().zip(a).zip(b) {
                // inlined into the kernels' `relaxed` entry points, which enable relaxed SIMD
                #[cfg(feature = "relaxed-simd")]
                {
                    *o = f32x4_relaxed_madd(a, b, *o);
                }
                #[cfg(not(feature = "relaxed-simd"))]
                {
                    *o = f32x4_add(*o, f32x4_mul(a, b));
                }
            }
            out
        }

        #[inline(always)]
        fn sum(row: Self::Row) -> f32 {
            let v = f32x4_add(f32x4_add(row[0], row[2]), f32x4_add(row[1], row[3]));
            (f32x4_extract_lane::<0>(v) + f32x4_extract_lane::<2>(v)) + (f32x4_extract_lane::<1>(v) + f32x4_extract_lane::<3>(v))
        }
    }
}

#[cfg(target_arch = "x86_64")]
pub use x86::Avx2Fma;

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use super::{Lanes, NR};

    /// AVX2 with fused multiply-add: two 256-bit vectors to a row. Its operations are only
    /// reached from functions compiled with `avx2,fma` that [`crate::kernels::Isa`] enters after
    /// detecting both features (see [`crate::kernels::on_isa`]); that is what makes each
    /// `unsafe` below sound.
    pub struct Avx2Fma;

    impl Lanes for Avx2Fma {
        type Row = [__m256; 2];
        // 6 x 2 accumulators, the panel row's 2 vectors and a broadcast: 15 of 16 registers
        const MR: usize = 6;

        #[inline(always)]
        fn splat(x: f32) -> Self::Row {
            // SAFETY: AVX is present (see the type's comment).
            unsafe { [_mm256_set1_ps(x); 2] }
        }

        #[inline(always)]
        fn load(x: &[f32]) -> Self::Row {
            let x = &x[..NR];
            // SAFETY: `x` holds 16 f32, so both unaligned 32-byte reads lie inside it; AVX is
            // present.
            unsafe { [_mm256_loadu_ps(x.as_ptr()), _mm256_loadu_ps(x.as_ptr().add(8))] }
        }

        #[inline(always)]
        fn store(row: Self::Row, y: &mut [f32]) {
            let y = &mut y[..NR];
            // SAFETY: `y` holds 16 f32, so both 32-byte writes lie inside it; AVX is present.
            unsafe {
                _mm256_storeu_ps(y.as_mut_ptr(), row[0]);
                _mm256_storeu_ps(y.as_mut_ptr().add(8), row[1]);
            }
        }

        #[inline(always)]
        fn madd(acc: Self::Row, a: Self::Row, b: Self::Row) -> Self::Row {
            // SAFETY: FMA is present (see the type's comment).
            unsafe { [_mm256_fmadd_ps(a[0], b[0], acc[0]), _mm256_fmadd_ps(a[1], b[1], acc[1])] }
        }

        #[inline(always)]
        fn sum(row: Self::Row) -> f32 {
            // SAFETY: AVX is present (see the type's comment).
            unsafe {
                let v = _mm256_add_ps(row[0], row[1]);
                let v = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
                let v = _mm_add_ps(v, _mm_movehl_ps(v, v));
                _mm_cvtss_f32(_mm_add_ss(v, _mm_shuffle_ps::<1>(v, v)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check<L: Lanes>() {
        let a: Vec<f32> = (0..NR).map(|i| i as f32 * 0.5 - 3.0).collect();
        let b: Vec<f32> = (0..NR).map(|i| 1.0 + i as f32 * 0.25).collect();
        let mut out = vec![0.0; NR + 1];
        L::store(L::madd(L::splat(2.0), L::load(&a), L::load(&b)), &mut out);
        for i in 0..NR {
            assert_eq!(out[i], 2.0 + a[i] * b[i], "lane {i}");
        }
        assert_eq!(out[NR], 0.0, "nothing written past the row");
        assert_eq!(L::sum(L::load(&a)), a.iter().sum::<f32>());
    }

    #[test]
    fn each_instruction_set_loads_multiplies_adds_and_sums_sixteen_lanes() {
        check::<Portable>();
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            // SAFETY: both features were just detected.
            unsafe { check_avx2_fma() }
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn check_avx2_fma() {
        check::<Avx2Fma>();
    }
}
