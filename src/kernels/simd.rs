//! Sixteen f32 lanes as the machine's vectors: the one unit every kernel computes in. A
//! [`Lanes`] type names an instruction set and says how its vectors load, store, multiply-add
//! and sum a row of [`NR`] values; the kernels are written once over it. An [`Element`] is a type
//! weights are kept in (f32, f16, bf16): 16-bit ones are widened to f32 as they are loaded.
//!
//! - [`Portable`]: plain arrays, which LLVM turns into the target's baseline vectors (SSE2 on
//!   x86-64, NEON on aarch64).
//! - [`Simd128`] (wasm32): four `v128`; with the `relaxed-simd` feature its multiply-add is
//!   `f32x4_relaxed_madd`, one fused instruction on engines that fuse it (V8 on x86-64 with FMA).
//! - [`Avx2Fma`] (x86-64): two `__m256` with fused multiply-add (and F16C's conversion), chosen
//!   at run time.
//!
//! Each type's operations are `#[inline(always)]`: inlined into a function compiled for its
//! instruction set (see [`super::on_isa`]), they become single instructions.

#![allow(unsafe_code)]

use half::{bf16, f16};

/// Values in a row of lanes: a panel's width in [`super::gemm`], the step of every dot product.
pub const NR: usize = 16;

/// The column each position of a row of 16-bit values holds: in each group of 8, columns
/// `0 4 1 5 2 6 3 7`. Read as four 32-bit lanes, a group's low halves are then its columns 0..4
/// in order and its high halves columns 4..8, so widening takes a shift or a mask per four
/// lanes, and no shuffle.
pub const HALF_ORDER: [usize; NR] = [0, 4, 1, 5, 2, 6, 3, 7, 8, 12, 9, 13, 10, 14, 11, 15];

/// Where column `c` of a row of 16-bit values lies ([`HALF_ORDER`] inverted).
const fn half_position(c: usize) -> usize {
    let (group, i) = (c - c % 8, c % 8);
    if i < 4 { group + 2 * i } else { group + 2 * (i - 4) + 1 }
}

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
    /// `x[..NR]`, in [`HALF_ORDER`], widened to f32 in column order (exactly: every f16 is an
    /// f32).
    fn load_f16(x: &[f16]) -> Self::Row;
    /// `x[..NR]`, in [`HALF_ORDER`], widened to f32 in column order (a bf16 is an f32's high
    /// 16 bits).
    fn load_bf16(x: &[bf16]) -> Self::Row;
    /// `y[..NR] = row`
    fn store(row: Self::Row, y: &mut [f32]);
    /// `acc + a b`, lane by lane, fused where the instruction set has it.
    fn madd(acc: Self::Row, a: Self::Row, b: Self::Row) -> Self::Row;
    /// The sum of the lanes.
    fn sum(row: Self::Row) -> f32;
}

/// A type weights are kept in: f32, or 16 bits widened to f32 as they are loaded (half the bytes
/// to stream from memory, the same products).
pub trait Element: Copy + 'static {
    /// `f32`, `f16` or `bf16`.
    const NAME: &'static str;
    /// The column each position of a row of [`NR`] holds: in order for f32, [`HALF_ORDER`] for
    /// 16 bits.
    const ORDER: [usize; NR];
    /// Whether `x` is a finite value of this type, so that keeping it here loses nothing.
    fn holds(x: f32) -> bool;
    /// `x`, which [`Element::holds`].
    fn from_f32(x: f32) -> Self;
    fn to_f32(self) -> f32;
    /// `x[..NR]` as f32.
    fn load<L: Lanes>(x: &[Self]) -> L::Row;

    /// `x` (a whole number of rows of [`NR`]) as f32: widened into `wide`, or `x` itself if it
    /// is f32 already.
    #[inline(always)]
    fn widened<'a, L: Lanes>(x: &'a [Self], wide: &'a mut Vec<f32>) -> &'a [f32] {
        wide.resize(x.len(), 0.0);
        for (from, to) in x.chunks_exact(NR).zip(wide.chunks_exact_mut(NR)) {
            L::store(Self::load::<L>(from), to);
        }
        wide
    }
}

impl Element for f32 {
    const NAME: &'static str = "f32";
    const ORDER: [usize; NR] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];

    fn holds(_: f32) -> bool {
        true
    }

    fn from_f32(x: f32) -> f32 {
        x
    }

    fn to_f32(self) -> f32 {
        self
    }

    #[inline(always)]
    fn load<L: Lanes>(x: &[f32]) -> L::Row {
        L::load(x)
    }

    #[inline(always)]
    fn widened<'a, L: Lanes>(x: &'a [f32], _: &'a mut Vec<f32>) -> &'a [f32] {
        x
    }
}

impl Element for f16 {
    const NAME: &'static str = "f16";
    const ORDER: [usize; NR] = HALF_ORDER;

    fn holds(x: f32) -> bool {
        x.is_finite() && f16::from_f32(x).to_f32() == x
    }

    fn from_f32(x: f32) -> f16 {
        f16::from_f32(x)
    }

    fn to_f32(self) -> f32 {
        f16::to_f32(self)
    }

    #[inline(always)]
    fn load<L: Lanes>(x: &[f16]) -> L::Row {
        L::load_f16(x)
    }
}

impl Element for bf16 {
    const NAME: &'static str = "bf16";
    const ORDER: [usize; NR] = HALF_ORDER;

    fn holds(x: f32) -> bool {
        x.is_finite() && bf16::from_f32(x).to_f32() == x
    }

    fn from_f32(x: f32) -> bf16 {
        bf16::from_f32(x)
    }

    fn to_f32(self) -> f32 {
        bf16::to_f32(self)
    }

    #[inline(always)]
    fn load<L: Lanes>(x: &[bf16]) -> L::Row {
        L::load_bf16(x)
    }
}

/// The first of `E`'s finite values (each made from its 16 bits by `of_bits`) that `L` does not
/// load as itself, bit for bit, with what it loaded instead; `None` when every one loads exactly.
/// The tests run it for every instruction set, natively and in wasm.
pub fn widening_mismatch<L: Lanes, E: Element>(of_bits: fn(u16) -> f32) -> Option<(f32, f32)> {
    let values: Vec<f32> = (0..=u16::MAX).map(of_bits).filter(|&v| E::holds(v)).collect();
    for chunk in values.chunks(NR) {
        let mut narrow = [E::from_f32(0.0); NR];
        for (n, &column) in narrow.iter_mut().zip(&E::ORDER) {
            *n = E::from_f32(chunk.get(column).copied().unwrap_or(0.0));
        }
        let mut out = [0.0f32; NR];
        L::store(E::load::<L>(&narrow), &mut out);
        if let Some((&want, &got)) = chunk.iter().zip(&out).find(|(want, got)| want.to_bits() != got.to_bits()) {
            return Some((want, got));
        }
    }
    None
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
    fn load_f16(x: &[f16]) -> Self::Row {
        let x = &x[..NR];
        std::array::from_fn(|c| x[half_position(c)].to_f32())
    }

    #[inline(always)]
    fn load_bf16(x: &[bf16]) -> Self::Row {
        let x = &x[..NR];
        std::array::from_fn(|c| x[half_position(c)].to_f32())
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

    use half::slice::HalfFloatSliceExt;
    use half::{bf16, f16};

    use super::{Lanes, NR};

    /// A row of 16-bit values in [`super::HALF_ORDER`], as two vectors of four 32-bit lanes
    /// each: the low halves of `[0]` are columns 0..4, its high halves 4..8; `[1]` the same for
    /// 8..16.
    #[inline(always)]
    fn halves(x: &[u16]) -> [v128; 2] {
        let x = &x[..NR];
        // SAFETY: `x` holds 16 u16 (32 bytes), so both unaligned 16-byte reads lie inside it.
        unsafe { [v128_load(x.as_ptr() as *const v128), v128_load(x.as_ptr().add(8) as *const v128)] }
    }

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
        fn load_f16(x: &[f16]) -> Self::Row {
            // A half in a lane's high 16 bits, shifted right by 3, arithmetically, has its sign
            // at bit 31 (copies of it at 30..28, masked off with whatever the low half left in
            // 12..0), its 5 exponent bits at f32's 27..23 and its 10 mantissa bits at 22..13:
            // an f32 whose exponent is biased by 15 instead of 127, which a product with 2^112
            // rebiases. That is exact for normal and subnormal halves (wasm keeps f32
            // subnormals); the packer keeps only finite values in f16.
            let rebias = f32x4_splat(f32::from_bits((127 + 112) << 23));
            let mask = u32x4_splat(0x8FFF_E000);
            let f32_of = |high: v128| f32x4_mul(v128_and(i32x4_shr(high, 3), mask), rebias);
            let [a, b] = halves(x.reinterpret_cast());
            [f32_of(i32x4_shl(a, 16)), f32_of(a), f32_of(i32x4_shl(b, 16)), f32_of(b)]
        }

        #[inline(always)]
        fn load_bf16(x: &[bf16]) -> Self::Row {
            // a bf16 in a lane's high 16 bits, the rest zero, is its f32
            let high = u32x4_splat(0xFFFF_0000);
            let [a, b] = halves(x.reinterpret_cast());
            [i32x4_shl(a, 16), v128_and(a, high), i32x4_shl(b, 16), v128_and(b, high)]
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

    use half::{bf16, f16};

    use super::{Lanes, NR};

    /// AVX2 with fused multiply-add: two 256-bit vectors to a row. Its operations are only
    /// reached from functions compiled with `avx2,fma,f16c` that [`crate::kernels::Isa`] enters
    /// after detecting the three features (see [`crate::kernels::on_isa`]); that is what makes
    /// each `unsafe` below sound.
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
        fn load_f16(x: &[f16]) -> Self::Row {
            let x = &x[..NR];
            // SAFETY: `x` holds 16 f16 (32 bytes), so both unaligned 16-byte reads lie inside
            // it; F16C and AVX2 are present. Each group of 8 widens in `HALF_ORDER`, and a
            // permutation puts its columns in order.
            unsafe {
                let order = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
                [0, 8].map(|i| _mm256_permutevar8x32_ps(_mm256_cvtph_ps(_mm_loadu_si128(x.as_ptr().add(i) as *const __m128i)), order))
            }
        }

        #[inline(always)]
        fn load_bf16(x: &[bf16]) -> Self::Row {
            let x = &x[..NR];
            // SAFETY: as in `load_f16`. A group's low halves (columns 0..4) shifted up and its
            // high halves (4..8) masked are their f32s.
            unsafe {
                let high = _mm_set1_epi32(0xFFFF_0000_u32 as i32);
                [0, 8].map(|i| {
                    let v = _mm_loadu_si128(x.as_ptr().add(i) as *const __m128i);
                    _mm256_castsi256_ps(_mm256_set_m128i(_mm_and_si128(v, high), _mm_slli_epi32::<16>(v)))
                })
            }
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
        // every finite f16 and bf16: subnormals, extremes, zeros of both signs
        assert_eq!(widening_mismatch::<L, f16>(|b| f16::from_bits(b).to_f32()), None, "f16");
        assert_eq!(widening_mismatch::<L, bf16>(|b| bf16::from_bits(b).to_f32()), None, "bf16");
    }

    #[test]
    fn each_instruction_set_loads_multiplies_adds_and_sums_sixteen_lanes() {
        check::<Portable>();
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") && std::is_x86_feature_detected!("f16c") {
            // SAFETY: the three features were just detected.
            unsafe { check_avx2_fma() }
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma,f16c")]
    fn check_avx2_fma() {
        check::<Avx2Fma>();
    }
}
