//! A matrix read a row at a time, `[rows, C]`: the token embeddings `wte` (a row per token
//! looked up, and the LM head when it is tied to them) and an untied `lm_head`. It is kept in the
//! narrowest type that holds every value ([`Precision::of`]), so a 16-bit checkpoint's
//! embeddings stay 16-bit, and widened in registers as they are read. Each run of [`NR`] values
//! of a row is stored in its type's column order ([`Element::ORDER`]), the way a vector load
//! widens it.

use half::{bf16, f16};

use super::gemm::Precision;
use super::simd::{Element, Lanes, NR};
use super::{Isa, on_isa, threads};
use crate::safetensors::Values;

/// `[rows, width]`, row-major, in its [`Precision`].
#[derive(Clone)]
pub struct Table {
    /// In the table's type, each run of a row in that type's column order (not the file's).
    values: Values,
    width: usize,
}

impl std::fmt::Debug for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Table([{}, {}], {})", self.rows(), self.width, self.precision().name())
    }
}

/// The runs of [`NR`] values of a row, then its tail: where `x` holds them.
fn runs(width: usize) -> impl Iterator<Item = usize> {
    (0..width / NR * NR).step_by(NR)
}

/// `values: [rows, width]` in `E`, each run of a row in `E`'s column order.
fn stored<E: Element>(values: &Values, width: usize) -> Vec<E> {
    let mut out = Vec::with_capacity(values.len());
    for row in (0..values.len()).step_by(width) {
        for run in runs(width) {
            out.extend(E::ORDER.map(|c| E::from_f32(values.at(row + run + c))));
        }
        out.extend((row + width / NR * NR..row + width).map(|i| E::from_f32(values.at(i))));
    }
    out
}

/// Row `row` of a table in `E`, widened and added into `out`.
fn add<E: Element>(row: &[E], out: &mut [f32]) {
    let width = out.len();
    for run in runs(width) {
        for (p, &c) in E::ORDER.iter().enumerate() {
            out[run + c] += row[run + p].to_f32();
        }
    }
    let tail = width / NR * NR;
    out[tail..].iter_mut().zip(&row[tail..]).for_each(|(o, v)| *o += v.to_f32());
}

impl Table {
    /// `values: [rows, width]`, row-major, as the file stores them, kept in the narrowest type
    /// that holds them (f32 values stay where they are).
    pub fn new(values: Values, width: usize) -> Table {
        assert_eq!(values.len() % width, 0, "whole rows of {width}");
        let values = match (Precision::of(&values), values) {
            (Precision::F32, values) => Values::F32(values.into_f32()),
            (Precision::F16, values) => Values::F16(stored(&values, width)),
            (Precision::Bf16, values) => Values::Bf16(stored(&values, width)),
        };
        Table { values, width }
    }

    pub fn rows(&self) -> usize {
        self.values.len() / self.width
    }

    pub fn precision(&self) -> Precision {
        match self.values {
            Values::F32(_) => Precision::F32,
            Values::F16(_) => Precision::F16,
            Values::Bf16(_) => Precision::Bf16,
        }
    }

    /// Row `i`, widened to f32, added into `out: [width]`.
    pub fn add_row(&self, i: usize, out: &mut [f32]) {
        let w = self.width;
        match &self.values {
            Values::F32(v) => add(&v[i * w..][..w], out),
            Values::F16(v) => add(&v[i * w..][..w], out),
            Values::Bf16(v) => add(&v[i * w..][..w], out),
        }
    }

    /// Row `i`, widened to f32.
    pub fn row(&self, i: usize) -> Vec<f32> {
        let mut row = vec![0.0; self.width];
        self.add_row(i, &mut row);
        row
    }

    /// `x: [T, width] -> [T, rows]`: every row of `x` against every row of the table, `x Tᵀ`
    /// (the LM head's logits). Split over [`threads`] by the table's rows, so that each thread
    /// streams its part of the table once for all of `x`.
    pub fn products(&self, isa: Isa, x: &[f32]) -> Vec<f32> {
        let (t, n) = (x.len() / self.width, self.rows());
        let mut y = vec![0.0; n * t]; // [rows, T]
        let per_part = n.div_ceil(threads::count()).max(1);
        let parts = y.chunks_mut(per_part * t).enumerate().map(|(part, y)| (part * per_part, y)).collect();
        let table = self;
        // dispatched inside each part's closure: a closure is compiled on its own, without the
        // features of a function it is called from
        threads::each(parts, |(first, y): (usize, &mut [f32])| {
            on_isa!(isa, rows_on, (table: &Table, first: usize, x: &[f32], y: &mut [f32]) -> ())
        });
        if t == 1 {
            return y;
        }
        (0..t).flat_map(|i| y.iter().skip(i).step_by(t).copied().collect::<Vec<_>>()).collect() // [T, rows]
    }
}

/// [`Table::products`] for the table's rows `first..`, one for each `T` values of `y: [r, T]`,
/// compiled for one variant.
#[inline(always)]
fn rows_on<L: Lanes>(table: &Table, first: usize, x: &[f32], y: &mut [f32]) {
    let w = table.width;
    let rows = first * w..(first + y.len() / (x.len() / w)) * w;
    match &table.values {
        Values::F32(v) => against::<L, f32>(&v[rows], x, w, y),
        Values::F16(v) => against::<L, f16>(&v[rows], x, w, y),
        Values::Bf16(v) => against::<L, bf16>(&v[rows], x, w, y),
    }
}

/// `y[r][i] = table[r] · x[i]` for `table: [r, C]` in `E`, `x: [T, C]`, `y: [r, T]`. Each run of
/// a table row is widened once for [`ROWS`] rows of `x` at a time.
#[inline(always)]
fn against<L: Lanes, E: Element>(table: &[E], x: &[f32], width: usize, y: &mut [f32]) {
    let t = x.len() / width;
    let (groups, rest) = x.split_at(t / ROWS * ROWS * width);
    for (row, y) in table.chunks_exact(width).zip(y.chunks_exact_mut(t)) {
        let (y_groups, y_rest) = y.split_at_mut(t / ROWS * ROWS);
        for (x, y) in groups.chunks_exact(ROWS * width).zip(y_groups.chunks_exact_mut(ROWS)) {
            y.copy_from_slice(&dots::<L, E, ROWS>(std::array::from_fn(|i| &x[i * width..][..width]), row));
        }
        for (x, y) in rest.chunks_exact(width).zip(y_rest) {
            [*y] = dots::<L, E, 1>([x], row);
        }
    }
}

/// Rows of `x` that meet a table row at once.
const ROWS: usize = 4;

/// `x_i · row` for each of `xs`, the row stored as [`Table`] stores it.
#[inline(always)]
fn dots<L: Lanes, E: Element, const R: usize>(xs: [&[f32]; R], row: &[E]) -> [f32; R] {
    let width = row.len();
    let mut acc = [L::splat(0.0); R];
    for run in runs(width) {
        let w = E::load::<L>(&row[run..]);
        for (acc, x) in acc.iter_mut().zip(xs) {
            *acc = L::madd(*acc, L::load(&x[run..]), w);
        }
    }
    let tail = width / NR * NR;
    std::array::from_fn(|i| L::sum(acc[i]) + xs[i][tail..].iter().zip(&row[tail..]).map(|(a, b)| a * b.to_f32()).sum::<f32>())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values that only `precision` (and wider types) holds exactly.
    fn values(rows: usize, width: usize, precision: Precision) -> Vec<f32> {
        let step = match precision {
            Precision::Bf16 => 0.25,
            Precision::F16 => 1.0 / 1024.0,
            Precision::F32 => 0.001_234_5,
        };
        (0..rows * width).map(|i| 1.0 + ((i * 7 % 23) as f32 - 11.0) * step).collect()
    }

    #[test]
    fn rows_and_products_are_those_of_the_f32_matrix_in_every_precision() {
        for (precision, width) in [Precision::F32, Precision::F16, Precision::Bf16].into_iter().flat_map(|p| [40, 16, 5].map(|w| (p, w))) {
            let (rows, t) = (37, 6); // a group of rows, and two more
            let m = values(rows, width, precision);
            let table = Table::new(Values::F32(m.clone()), width);
            assert_eq!(table.precision(), precision);
            for i in [0, 17, rows - 1] {
                assert_eq!(table.row(i), m[i * width..][..width]);
            }
            let x: Vec<f32> = (0..t * width).map(|i| (i % 5) as f32 - 2.0).collect();
            for isa in Isa::available() {
                let got = table.products(isa, &x);
                for i in 0..t {
                    for r in 0..rows {
                        let want: f32 = x[i * width..][..width].iter().zip(&m[r * width..][..width]).map(|(a, b)| a * b).sum();
                        assert!((got[i * rows + r] - want).abs() <= 1e-4 * want.abs().max(1.0), "[{i}][{r}]: {} vs {want}", got[i * rows + r]);
                    }
                }
            }
        }
    }
}
