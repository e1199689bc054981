//! `y = act(x W + b)`, the one product of the model, for one row (a generation step) or many.
//!
//! `W: [in, out]` (GPT-2's `Conv1D` layout) is packed once, when the model loads, into panels
//! of [`NR`] columns: panel `p` holds columns `p·NR .. p·NR + NR` row after row, `[in][NR]`
//! (16-bit rows in [`super::simd::HALF_ORDER`]), zero-padded past `out`, so the micro-kernel reads it as one stream. A block of at most `MC`
//! rows of `x` is packed the same way, `MR` rows interleaved `[in][MR]`, and shared by every
//! panel. The micro-kernel keeps an `MR × NR` tile of `y` in registers over the whole of `in`,
//! starting from the bias, and applies the activation before the tile is stored: `y` is
//! written once, and nothing is packed per product but the small block of `x`.
//!
//! A weight whose every value is a finite f16 (or bf16), as in a 16-bit checkpoint, is packed
//! in that type: half the memory, and half the bytes a generated token streams. One row reads
//! it widened in registers; a block of rows widens each panel once into an f32 scratch panel
//! that all its rows share. Widening is exact, so the products are the same as in f32.

use std::ops::Range;

use half::{bf16, f16};

use super::math::activate;
use super::simd::{Element, Lanes, NR};
use super::threads;
use crate::model::config::Activation;
use crate::safetensors::Values;

/// Rows of `x` packed at once, as many as a chunk of the prompt ([`crate::session::PREFILL_CHUNK`]):
/// a product streams each weight from memory once per block, so one block per chunk reads it
/// once (blocks of 48 read it twice at 64 rows, and the products ran at 28 instead of 37 GFLOP/s).
const MC: usize = 128;

/// The type a weight's values are kept in: the narrowest that holds every one exactly, bf16
/// before f16 where both do (most bf16 values of a weight's size are f16 ones too, and bf16
/// widens in one instruction).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    F32,
    F16,
    Bf16,
}

impl Precision {
    /// The narrowest type that holds each of `values`.
    pub fn of(values: &Values) -> Precision {
        let each = || (0..values.len()).map(|i| values.at(i));
        if each().all(bf16::holds) {
            Precision::Bf16
        } else if each().all(f16::holds) {
            Precision::F16
        } else {
            Precision::F32
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Precision::F32 => f32::NAME,
            Precision::F16 => f16::NAME,
            Precision::Bf16 => bf16::NAME,
        }
    }
}

/// `[ceil(out / NR)][in][NR]`, in the weight's [`Precision`].
#[derive(Clone)]
enum Panels {
    F32(Vec<f32>),
    F16(Vec<f16>),
    Bf16(Vec<bf16>),
}

/// `W` and `b` of one `Conv1D`, packed for the micro-kernel.
#[derive(Clone)]
pub struct Packed {
    pub n_in: usize,
    pub n_out: usize,
    panels: Panels,
    /// `[ceil(out / NR) · NR]`, zero-padded.
    bias: Vec<f32>,
}

impl std::fmt::Debug for Packed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Packed([{}, {}], {})", self.n_in, self.n_out, self.precision().name())
    }
}

impl Packed {
    /// Packs `weight: [in, out]`, row-major, in whatever type it is stored, and `bias: [out]`.
    pub fn new(weight: &Values, bias: &[f32], n_in: usize, n_out: usize) -> Packed {
        assert_eq!((weight.len(), bias.len()), (n_in * n_out, n_out), "a [{n_in}, {n_out}] weight and its bias");
        Packed::of(Precision::of(weight), bias, n_in, n_out, |i, j| weight.at(i * n_out + j))
    }

    /// Packs the weight whose `W[i][j]` is `at(i, j)` in `precision`, which holds every value.
    fn of(precision: Precision, bias: &[f32], n_in: usize, n_out: usize, at: impl Fn(usize, usize) -> f32) -> Packed {
        let panels = match precision {
            Precision::F32 => Panels::F32(panels(n_in, n_out, at)),
            Precision::F16 => Panels::F16(panels(n_in, n_out, at)),
            Precision::Bf16 => Panels::Bf16(panels(n_in, n_out, at)),
        };
        let mut bias = bias.to_vec();
        bias.resize(n_out.div_ceil(NR) * NR, 0.0);
        Packed { n_in, n_out, panels, bias }
    }

    pub fn precision(&self) -> Precision {
        match self.panels {
            Panels::F32(_) => Precision::F32,
            Panels::F16(_) => Precision::F16,
            Panels::Bf16(_) => Precision::Bf16,
        }
    }
}

/// `W: [in, out]`, `W[i][j] = at(i, j)`, as panels of `E`, each row in `E`'s column order
/// ([`Element::ORDER`]), zero-padded.
fn panels<E: Element>(n_in: usize, n_out: usize, at: impl Fn(usize, usize) -> f32) -> Vec<E> {
    let mut panels = vec![E::from_f32(0.0); n_out.div_ceil(NR) * n_in * NR];
    for (p, panel) in panels.chunks_exact_mut(n_in * NR).enumerate() {
        for (i, row) in panel.chunks_exact_mut(NR).enumerate() {
            for (value, column) in row.iter_mut().zip(E::ORDER.map(|c| p * NR + c)) {
                if column < n_out {
                    *value = E::from_f32(at(i, column));
                }
            }
        }
    }
    panels
}

/// `y = act(x W + b)` for `x: [T, in]`, `y: [T, out]`, row-major; [`super::Isa`] picks the
/// instruction set. Split over [`threads`]: a block of rows by its rows, one row by its panels.
pub fn linear(isa: super::Isa, x: &[f32], w: &Packed, activation: Option<Activation>, y: &mut [f32]) {
    let (k, n) = (w.n_in, w.n_out);
    let t = x.len() / k;
    assert!(x.len() == t * k && y.len() == t * n, "x: [{t}, {k}] and y: [{t}, {n}]");
    if t == 1 {
        // each part writes the columns of its panels, `y[j0 .. j0 + y.len()]`
        let columns = n.div_ceil(NR).div_ceil(threads::count()) * NR;
        let parts = y.chunks_mut(columns).enumerate().map(|(part, y)| (part * columns, y)).collect();
        threads::each(parts, |(j0, y): (usize, &mut [f32])| {
            let columns = j0..j0 + y.len();
            super::on_isa!(isa, row_on, (x: &[f32], w: &Packed, columns: Range<usize>, activation: Option<Activation>, y: &mut [f32]) -> ())
        });
    } else {
        // a part of one row still takes the block's path: one row alone sums in another order
        threads::each(threads::rows(x, k, y, n), |(x, y): (&[f32], &mut [f32])| {
            let columns = 0..n;
            super::on_isa!(isa, block_on, (x: &[f32], w: &Packed, columns: Range<usize>, activation: Option<Activation>, y: &mut [f32]) -> ())
        });
    }
}

/// [`linear`] for one row, over `columns` (whole panels, or up to `out`), in the vectors of
/// `L`: `y: [columns]`.
#[inline(always)]
fn row_on<L: Lanes>(x: &[f32], w: &Packed, columns: Range<usize>, activation: Option<Activation>, y: &mut [f32]) {
    match &w.panels {
        Panels::F32(panels) => row::<L, f32>(x, w, panels, columns, activation, y),
        Panels::F16(panels) => row::<L, f16>(x, w, panels, columns, activation, y),
        Panels::Bf16(panels) => row::<L, bf16>(x, w, panels, columns, activation, y),
    }
}

/// [`linear`] for a block of rows, over `columns`, in the vectors of `L`: `y: [T, columns]`.
#[inline(always)]
fn block_on<L: Lanes>(x: &[f32], w: &Packed, columns: Range<usize>, activation: Option<Activation>, y: &mut [f32]) {
    match &w.panels {
        Panels::F32(panels) => block::<L, f32>(x, w, panels, columns, activation, y),
        Panels::F16(panels) => block::<L, f16>(x, w, panels, columns, activation, y),
        Panels::Bf16(panels) => block::<L, bf16>(x, w, panels, columns, activation, y),
    }
}

/// `w`'s panels that hold `columns`, each beside its bias.
fn panels_of<'a, E>(w: &'a Packed, panels: &'a [E], columns: &Range<usize>) -> impl Iterator<Item = (&'a [E], &'a [f32])> + Clone {
    let k = w.n_in;
    panels.chunks_exact(k * NR).zip(w.bias.chunks_exact(NR)).skip(columns.start / NR).take(columns.len().div_ceil(NR))
}

/// [`row_on`] over `w`'s `panels`, kept in `E`: one row needs no packing, `x` is already `[k][1]`.
#[inline(always)]
fn row<L: Lanes, E: Element>(x: &[f32], w: &Packed, panels: &[E], columns: Range<usize>, activation: Option<Activation>, y: &mut [f32]) {
    let n = columns.len();
    for (p, (panel, bias)) in panels_of(w, panels, &columns).enumerate() {
        let (j0, width) = (p * NR, NR.min(n - p * NR));
        Tile { panel, bias, activation, n, width }.one_row::<L>(x, &mut y[j0..]);
    }
}

/// [`block_on`] over `w`'s `panels`, kept in `E`.
#[inline(always)]
fn block<L: Lanes, E: Element>(x: &[f32], w: &Packed, panels: &[E], columns: Range<usize>, activation: Option<Activation>, y: &mut [f32]) {
    let (k, n) = (w.n_in, columns.len()); // y: [T, n]
    let t = x.len() / k;
    let mut block = vec![0.0f32; MC.min(t) * k]; // x's rows r0 .. r0 + MC, packed
    let mut wide = Vec::new(); // a 16-bit panel in f32, `[k][NR]`
    for r0 in (0..t).step_by(MC) {
        let rows = MC.min(t - r0);
        pack_rows(&x[r0 * k..(r0 + rows) * k], k, L::MR, &mut block);
        for (p, (panel, bias)) in panels_of(w, panels, &columns).enumerate() {
            let (j0, width) = (p * NR, NR.min(n - p * NR));
            let tile = Tile { panel: E::widened::<L>(panel, &mut wide), bias, activation, n, width };
            for g in (0..rows).step_by(L::MR) {
                let m = L::MR.min(rows - g);
                tile_rows::<L>(&tile, m, &block[g * k..(g + m) * k], &mut y[(r0 + g) * n + j0..]);
            }
        }
    }
}

/// The micro-kernel's ceiling on this machine, in GFLOP/s: `iters` rounds of the tile's
/// multiply-adds (`MR` rows of [`NR`] independent chains, 2 flops each) with no memory traffic,
/// the factors passed through `black_box` so the loop cannot be folded. What [`linear`] can
/// reach at best. Native only (wasm32 has no clock here; the browser benchmark measures its own).
#[cfg(not(target_arch = "wasm32"))]
pub fn peak_gflops(isa: super::Isa, iters: usize) -> f64 {
    super::on_isa!(isa, peak_on, (iters: usize) -> f64)
}

#[cfg(not(target_arch = "wasm32"))]
#[inline(always)]
fn peak_on<L: Lanes>(iters: usize) -> f64 {
    use std::hint::black_box;
    let (a, b) = (L::splat(black_box(0.999_9)), L::splat(black_box(1e-4)));
    let mut acc = [L::splat(1.0); 6];
    let start = std::time::Instant::now();
    for _ in 0..black_box(iters) {
        for row in &mut acc[..L::MR] {
            *row = L::madd(*row, a, b);
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    black_box(acc);
    (iters * L::MR * NR * 2) as f64 / seconds / 1e9
}

/// [`Tile::rows`] for the `m` rows (at most 6) of `a: [k][m]`.
#[inline(always)]
pub(super) fn tile_rows<L: Lanes>(tile: &Tile, m: usize, a: &[f32], y: &mut [f32]) {
    match m {
        1 => tile.rows::<L, 1>(a, y),
        2 => tile.rows::<L, 2>(a, y),
        3 => tile.rows::<L, 3>(a, y),
        4 => tile.rows::<L, 4>(a, y),
        5 => tile.rows::<L, 5>(a, y),
        6 => tile.rows::<L, 6>(a, y),
        _ => unreachable!("tiles have at most 6 rows"),
    }
}

/// Packs `x: [rows, k]` in groups of `mr` rows (the last group may have fewer, `m`), each group
/// `[k][m]`: row `g + r`, column `i` lands at `g·k + i·m + r`.
pub(super) fn pack_rows(x: &[f32], k: usize, mr: usize, out: &mut [f32]) {
    let rows = x.len() / k;
    for g in (0..rows).step_by(mr) {
        let m = mr.min(rows - g);
        let group = &mut out[g * k..(g + m) * k];
        for r in 0..m {
            for (i, &v) in x[(g + r) * k..(g + r + 1) * k].iter().enumerate() {
                group[i * m + r] = v;
            }
        }
    }
}

/// One panel of one product, seen by the micro-kernel.
pub(super) struct Tile<'a, E = f32> {
    /// `[k][NR]`
    pub panel: &'a [E],
    /// `[NR]`
    pub bias: &'a [f32],
    pub activation: Option<Activation>,
    /// Row stride of `y`.
    pub n: usize,
    /// Columns of the panel inside `out`.
    pub width: usize,
}

impl Tile<'_> {
    /// `y[r][..width] = act(a_r · panel + bias)` for the `M` rows of `a: [k][M]`; `y` starts at
    /// the tile's first element. The `M` rows of accumulators stay in registers over all of `k`.
    #[inline(always)]
    fn rows<L: Lanes, const M: usize>(&self, a: &[f32], y: &mut [f32]) {
        let mut acc = [L::load(self.bias); M];
        for (a, b) in a.chunks_exact(M).zip(self.panel.chunks_exact(NR)) {
            let b = L::load(b);
            for r in 0..M {
                acc[r] = L::madd(acc[r], L::splat(a[r]), b); // y[r][c] += x[r][i] W[i][c]
            }
        }
        for (r, acc) in acc.into_iter().enumerate() {
            self.store::<L>(acc, &mut y[r * self.n..]);
        }
    }
}

impl<E: Element> Tile<'_, E> {
    /// [`Tile::rows`] for one row `x: [k]`, over two sets of accumulators (even and odd `i`) so
    /// that consecutive multiply-adds do not wait on each other.
    #[inline(always)]
    fn one_row<L: Lanes>(&self, x: &[f32], y: &mut [f32]) {
        let (mut even, mut odd) = (L::load(self.bias), L::splat(0.0));
        let (pairs, panel_pairs) = (x.chunks_exact(2), self.panel.chunks_exact(2 * NR));
        let last = pairs.remainder().first().map(|&a| (a, &panel_pairs.remainder()[..NR]));
        for (a, b) in pairs.zip(panel_pairs) {
            even = L::madd(even, L::splat(a[0]), E::load::<L>(&b[..NR]));
            odd = L::madd(odd, L::splat(a[1]), E::load::<L>(&b[NR..]));
        }
        if let Some((a, b)) = last {
            even = L::madd(even, L::splat(a), E::load::<L>(b));
        }
        self.store::<L>(L::madd(even, odd, L::splat(1.0)), y);
    }

    /// `y[..width] = act(row)`.
    #[inline(always)]
    fn store<L: Lanes>(&self, row: L::Row, y: &mut [f32]) {
        let mut out = [0.0f32; NR];
        L::store(row, &mut out);
        if let Some(activation) = self.activation {
            activate(activation, &mut out);
        }
        y[..self.width].copy_from_slice(&out[..self.width]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::Isa;

    /// Values with no pattern a wrong index could hide behind.
    fn values(n: usize, seed: usize) -> Vec<f32> {
        (0..n).map(|i| ((i * 7919 + seed * 104729) % 1013) as f32 / 1013.0 - 0.5).collect()
    }

    /// `values` as `precision` keeps them.
    fn rounded(values: Vec<f32>, precision: Precision) -> Vec<f32> {
        match precision {
            Precision::F32 => values,
            Precision::F16 => values.into_iter().map(|v| f16::from_f32(v).to_f32()).collect(),
            Precision::Bf16 => values.into_iter().map(|v| bf16::from_f32(v).to_f32()).collect(),
        }
    }

    #[test]
    fn every_shape_precision_and_variant_matches_the_plain_product() {
        // rows around the tile and block sizes, widths not multiples of the panel
        for (t, k, n) in [(1, 37, 53), (5, 16, 16), (7, 64, 33), (50, 29, 70), (97, 40, 17), (130, 24, 20)] {
            for precision in [Precision::F32, Precision::F16, Precision::Bf16] {
                let (x, w, b) = (values(t * k, 1), rounded(values(k * n, 2), precision), values(n, 3));
                let stored = match precision {
                    Precision::F32 => Values::F32(w.clone()),
                    Precision::F16 => Values::F16(w.iter().map(|&v| f16::from_f32(v)).collect()),
                    Precision::Bf16 => Values::Bf16(w.iter().map(|&v| bf16::from_f32(v)).collect()),
                };
                let packed = Packed::new(&stored, &b, k, n);
                assert_eq!(packed.precision(), precision, "the narrowest type that holds the weight");
                for isa in Isa::available() {
                    for activation in [None, Some(Activation::GeluTanh), Some(Activation::Relu)] {
                        let mut y = vec![f32::NAN; t * n];
                        linear(isa, &x, &packed, activation, &mut y);
                        for r in 0..t {
                            for j in 0..n {
                                let mut want = vec![b[j] + (0..k).map(|i| x[r * k + i] * w[i * n + j]).sum::<f32>()];
                                if let Some(activation) = activation {
                                    activate(activation, &mut want);
                                }
                                let got = y[r * n + j];
                                assert!((got - want[0]).abs() < 1e-5, "{} {precision:?} [{t}, {k}] x [{k}, {n}] at ({r}, {j}): {got} vs {}", isa.name(), want[0]);
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn the_narrowest_type_that_holds_every_value_is_chosen() {
        let head = rounded(values(37 * 20, 4), Precision::F16);
        assert_eq!(Precision::of(&Values::F32(head.clone())), Precision::F16);
        // a value no 16-bit type holds keeps the weight in f32; so does one that is not finite
        let mut wide = head.clone();
        wide[3] = 0.1;
        assert_eq!(Precision::of(&Values::F32(wide.clone())), Precision::F32);
        wide[3] = f32::INFINITY;
        assert_eq!(Precision::of(&Values::F32(wide)), Precision::F32);
        assert_eq!(Precision::of(&Values::F32(rounded(values(64, 6), Precision::Bf16))), Precision::Bf16);
        // stored in f16, values bf16 also holds are kept in bf16
        let both: Vec<f16> = [0.5f32, -2.0, 0.125].map(f16::from_f32).to_vec();
        assert_eq!(Precision::of(&Values::F16(both)), Precision::Bf16);
    }
}
