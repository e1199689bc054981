//! The fast path: GPT-2's forward pass on plain slices, beside the burn model in
//! [`crate::model`], which stays the reference implementation. Everything the app and the CLI
//! run takes this path: reading and generation through [`crate::session::Session`], and the
//! analyses that need a pass of their own ([`crate::analysis::probe`]) through its hook points
//! ([`gpt2::Probe`]). The tests hold it to the burn reference on every fixture, for every [`Isa`]
//! the machine can run.
//!
//! - [`gemm`]: weights packed once into the micro-kernel's panels, and [`gemm::linear`], the
//!   one entry point for every product (one row or many), with bias and activation fused.
//! - [`math`]: `exp`, GELU and LayerNorm in f32, branch-free so their loops vectorise.
//! - [`attention`]: per-head causal attention over the lower triangle only, its softmax rows
//!   written straight into the capture's layout, and the preallocated KV cache.
//! - [`table`]: the embeddings and the LM head, a row at a time, in the checkpoint's precision.
//! - [`gpt2`]: the stack, built from a checkpoint's tensors, with its hook points.
//! - [`threads`]: the work split over rayon's pool, by whole outputs, so results are the same
//!   bits on any number of threads.
//! - [`simd`]: the instruction sets, as [`simd::Lanes`] types: every kernel is written once over
//!   them.
//!
//! Natively the AVX2+FMA variant is compiled inside `#[target_feature(enable = "avx2,fma,f16c")]`
//! functions and chosen at run time; the portable one is the target's baseline (SSE2 on x86-64).
//! On wasm32 the one variant is simd128 (the crate is built with `+simd128`, see
//! `.cargo/config.toml`); with the `relaxed-simd` feature its kernels are compiled with relaxed
//! SIMD enabled, and multiply-adds are fused.

pub mod attention;
pub mod gemm;
pub mod gpt2;
pub mod math;
pub mod simd;
pub mod table;
pub mod threads;

/// An instruction set the kernels are compiled for. Only [`Isa::available`] and [`Isa::best`]
/// make one, so a variant exists only where the CPU runs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Isa(Kind);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// The target's baseline: SSE2 on x86-64, simd128 on wasm32 ([`simd::Portable`],
    /// [`simd::Simd128`]).
    Portable,
    /// AVX2 with fused multiply-add and F16C (x86-64, detected at run time; every CPU with AVX2
    /// has F16C).
    #[cfg(target_arch = "x86_64")]
    Avx2Fma,
}

impl Isa {
    /// The variant every machine runs.
    pub const PORTABLE: Isa = Isa(Kind::Portable);

    /// Every variant this machine runs, the portable one first.
    pub fn available() -> Vec<Isa> {
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") && std::is_x86_feature_detected!("f16c") {
            return vec![Isa::PORTABLE, Isa(Kind::Avx2Fma)];
        }
        vec![Isa::PORTABLE]
    }

    /// The fastest variant this machine runs.
    pub fn best() -> Isa {
        *Isa::available().last().expect("the portable variant is always there")
    }

    /// `portable` (`simd128` or `relaxed-simd` on wasm32) or `avx2+fma`.
    pub fn name(self) -> &'static str {
        match self.0 {
            Kind::Portable if cfg!(all(target_arch = "wasm32", feature = "relaxed-simd")) => "relaxed-simd",
            Kind::Portable if cfg!(target_arch = "wasm32") => "simd128",
            Kind::Portable => "portable",
            #[cfg(target_arch = "x86_64")]
            Kind::Avx2Fma => "avx2+fma",
        }
    }
}

/// Calls `$f::<L>($args)` with `L` the [`simd::Lanes`] type of `$isa`. `$f` and the kernels it
/// calls are `#[inline(always)]`, so for AVX2+FMA they are compiled inside a function that
/// enables those features; that makes one small function per kernel and variant. The arguments
/// are named with their types: `on_isa!(isa, f, (x: &[f32]) -> f32)`. No closure inside `$f`
/// may call a kernel: a closure is a function of its own, compiled without the features.
macro_rules! on_isa {
    ($isa:expr, $f:ident, ($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty) => {{
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2,fma,f16c")]
        fn avx2_fma($($arg: $ty),*) -> $ret {
            $f::<$crate::kernels::simd::Avx2Fma>($($arg),*)
        }

        /// Only [`crate::kernels::Isa::available`] makes the `Avx2Fma` kind that leads here.
        #[cfg(target_arch = "x86_64")]
        #[allow(unsafe_code)]
        fn enter_avx2_fma($($arg: $ty),*) -> $ret {
            // SAFETY: reached only through an `Isa` of kind `Avx2Fma`, which `Isa::available`
            // makes only after `is_x86_feature_detected!` found AVX2, FMA and F16C on this CPU, so
            // the features `avx2_fma` is compiled for are present.
            unsafe { avx2_fma($($arg),*) }
        }

        /// The kernel with relaxed SIMD's instructions allowed (the `relaxed-simd` feature).
        #[cfg(all(target_arch = "wasm32", feature = "relaxed-simd"))]
        #[target_feature(enable = "relaxed-simd")]
        fn relaxed($($arg: $ty),*) -> $ret {
            $f::<$crate::kernels::simd::Simd128>($($arg),*)
        }

        match $isa.0 {
            #[cfg(all(target_arch = "wasm32", feature = "relaxed-simd"))]
            $crate::kernels::Kind::Portable => relaxed($($arg),*),
            #[cfg(all(target_arch = "wasm32", not(feature = "relaxed-simd")))]
            $crate::kernels::Kind::Portable => $f::<$crate::kernels::simd::Simd128>($($arg),*),
            #[cfg(not(target_arch = "wasm32"))]
            $crate::kernels::Kind::Portable => $f::<$crate::kernels::simd::Portable>($($arg),*),
            #[cfg(target_arch = "x86_64")]
            $crate::kernels::Kind::Avx2Fma => enter_avx2_fma($($arg),*),
        }
    }};
}
pub(crate) use on_isa;
