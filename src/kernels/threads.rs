//! The kernels' work split over threads: rayon's pool, the one the calling thread runs in.
//! Natively that is rayon's global pool (`RAYON_NUM_THREADS`); in the browser, the threaded
//! worker's pool of Web Workers sharing its memory (`worker::pool`); elsewhere in wasm, one
//! thread, and nothing here touches rayon.
//!
//! Work is split by whole outputs only (rows of a product, panels of a one-row product, queries
//! or heads of attention), never inside a sum, so every value is computed by the same
//! instructions in the same order on any number of threads: the results are the same bits.

use rayon::prelude::*;

/// Threads the work is split over.
pub fn count() -> usize {
    rayon::current_num_threads()
}

/// Runs `f` on each of `parts`, each part on a thread of its own where there are several.
pub fn each<P: Send>(parts: Vec<P>, f: impl Fn(P) + Sync + Send) {
    if parts.len() < 2 {
        parts.into_iter().for_each(f);
    } else {
        parts.into_par_iter().for_each(f);
    }
}

/// `x: [t, k]` and `y: [t, n]` cut into runs of whole rows, one run per thread: the parts
/// [`each`] takes, each an input run and the output run it writes.
pub fn rows<'a, A, B>(x: &'a [A], k: usize, y: &'a mut [B], n: usize) -> Vec<(&'a [A], &'a mut [B])> {
    let rows = (y.len() / n).div_ceil(count()).max(1);
    x.chunks(rows * k).zip(y.chunks_mut(rows * n)).collect()
}

/// Where to cut `0..len` into at most `parts` runs of about equal cost, `cost(i)` being item
/// `i`'s: the cut points, from `0` to `len`, every run non-empty (unless `len` is 0).
pub fn cuts(len: usize, parts: usize, cost: impl Fn(usize) -> usize) -> Vec<usize> {
    let total: usize = (0..len).map(&cost).sum();
    let share = total.div_ceil(parts.max(1)).max(1);
    let (mut cuts, mut sum) = (vec![0], 0);
    for i in 0..len {
        sum += cost(i);
        if sum >= share * cuts.len() && i + 1 < len {
            cuts.push(i + 1);
        }
    }
    cuts.push(len);
    cuts
}

/// `values` in runs starting at each of `starts` (increasing), the last to the end of `values`;
/// what lies before the first start is in no run.
pub fn split_mut<'a, T>(values: &'a mut [T], starts: &[usize]) -> Vec<&'a mut [T]> {
    let Some((&first, rest)) = starts.split_first() else { return Vec::new() };
    let (mut runs, mut values, mut at) = (Vec::with_capacity(starts.len()), &mut values[first..], first);
    for &start in rest {
        let (run, tail) = values.split_at_mut(start - at);
        runs.push(run);
        (values, at) = (tail, start);
    }
    runs.push(values);
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_cover_every_item_once_in_runs_of_about_equal_cost() {
        assert_eq!(cuts(10, 2, |_| 1), [0, 5, 10]);
        assert_eq!(cuts(10, 3, |_| 1), [0, 4, 8, 10]);
        assert_eq!(cuts(1, 4, |_| 1), [0, 1]);
        assert_eq!(cuts(3, 8, |_| 1), [0, 1, 2, 3]);
        assert_eq!(cuts(0, 2, |_| 1), [0, 0]);
        // a triangle: item i costs i + 1, so the first run takes more items
        assert_eq!(cuts(8, 2, |i| i + 1), [0, 6, 8]);
        let mut values: Vec<u32> = (0..20).collect();
        let runs = split_mut(&mut values, &[2, 6, 13]);
        assert_eq!(runs.iter().map(|r| r.len()).collect::<Vec<_>>(), [4, 7, 7]);
        assert_eq!((runs[0][0], runs[1][0], runs[2][6]), (2, 6, 19));
    }
}
