//! The matrix a view shows: one head's attention, or an aggregate over heads and layers, with
//! the first-token sink optionally hidden. Every aggregate is a [`Pattern`], so the heatmaps and
//! the token shading draw an aggregate exactly as they draw a head.

use serde::{Deserialize, Serialize};

use crate::analysis::pattern::Pattern;
use crate::capture::Capture;

/// Which attention matrix is shown for a (layer, head) slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Source {
    /// The head's own pattern.
    Head,
    /// The mean over the heads of the layer.
    LayerMean,
    /// The largest weight any head of the layer puts on each key.
    LayerMax,
    /// The mean over every head of every layer.
    AllMean,
    /// Attention rollout up to and including the layer ([`rollout`]).
    Rollout,
    /// The head's weights scaled by the norm of each key's value vector ([`value_weighted`]).
    ValueWeighted,
}

impl Source {
    pub const ALL: [Source; 6] = [Source::Head, Source::LayerMean, Source::LayerMax, Source::AllMean, Source::Rollout, Source::ValueWeighted];

    /// The short name permalinks and the page use.
    pub fn name(self) -> &'static str {
        match self {
            Source::Head => "head",
            Source::LayerMean => "mean",
            Source::LayerMax => "max",
            Source::AllMean => "all",
            Source::Rollout => "rollout",
            Source::ValueWeighted => "value",
        }
    }

    pub fn from_name(name: &str) -> Option<Source> {
        Source::ALL.into_iter().find(|s| s.name() == name)
    }

    pub fn title(self) -> &'static str {
        match self {
            Source::Head => "one head",
            Source::LayerMean => "mean over the layer's heads",
            Source::LayerMax => "max over the layer's heads",
            Source::AllMean => "mean over all layers",
            Source::Rollout => "attention rollout",
            Source::ValueWeighted => "weighted by value norm",
        }
    }

    /// The slot `(layer, head)` stands for under this source: slots with the same key show the
    /// same matrix (every head of a layer shares the layer's mean).
    pub fn key(self, layer: usize, head: usize) -> (Option<usize>, Option<usize>) {
        match self {
            Source::Head | Source::ValueWeighted => (Some(layer), Some(head)),
            Source::LayerMean | Source::LayerMax | Source::Rollout => (Some(layer), None),
            Source::AllMean => (None, None),
        }
    }

    /// A caption for the slot.
    pub fn caption(self, layer: usize, head: usize) -> String {
        match self {
            Source::Head => format!("L{layer} H{head}"),
            Source::LayerMean => format!("L{layer} mean"),
            Source::LayerMax => format!("L{layer} max"),
            Source::AllMean => "all layers, mean".to_string(),
            Source::Rollout => format!("rollout to L{layer}"),
            Source::ValueWeighted => format!("L{layer} H{head} × ‖v‖"),
        }
    }
}

/// The element-wise mean of patterns of one size.
pub fn mean(patterns: &[Pattern]) -> Pattern {
    let count = patterns.len() as f32;
    combine(patterns, |weights| weights.iter().sum::<f32>() / count)
}

/// The element-wise maximum of patterns of one size. Its rows no longer sum to 1.
pub fn max(patterns: &[Pattern]) -> Pattern {
    combine(patterns, |weights| weights.iter().copied().fold(f32::NEG_INFINITY, f32::max))
}

fn combine(patterns: &[Pattern], f: impl Fn(&[f32]) -> f32) -> Pattern {
    let first = patterns.first().expect("at least one pattern");
    let mut column = Vec::with_capacity(patterns.len());
    first.map(|q, k, _| {
        column.clear();
        column.extend(patterns.iter().map(|p| p.row(q)[k]));
        f(&column)
    })
}

/// Attention rollout (Abnar & Zuidema 2020, "Quantifying Attention Flow in Transformers",
/// eq. 1): each layer's head-mean attention `A_l` with the residual connection added as
/// `Ã_l = 0.5 A_l + 0.5 I` (rows renormalised to sum to 1), multiplied down the layers:
/// `R_0 = Ã_0`, `R_l = Ã_l R_{l-1}`. Row `q` of `R_l` is how much of position `q`'s state after
/// layer `l` flows from each input token. `layer_means[l]` is `A_l`; returns every `R_l`.
pub fn rollout(layer_means: &[Pattern]) -> Vec<Pattern> {
    let mut rolled: Vec<Pattern> = Vec::with_capacity(layer_means.len());
    for a in layer_means {
        let with_residual = a.map(|q, k, w| 0.5 * w + if q == k { 0.5 } else { 0.0 }).map_rows(normalise);
        let next = match rolled.last() {
            None => with_residual,
            // (Ã R)[q][k] = Σ_{k ≤ j ≤ q} Ã[q][j] R[j][k]: both are lower triangular.
            Some(r) => with_residual.map(|q, k, _| (k..=q).map(|j| with_residual.row(q)[j] * r.row(j)[k]).sum()),
        };
        rolled.push(next);
    }
    rolled
}

/// Hides the first-token sink: key 0 gets weight 0 and every row is renormalised over the other
/// keys. Row 0 sees only key 0, so it is left empty (all zero).
pub fn hide_first_token(pattern: &Pattern) -> Pattern {
    pattern.map(|_, k, w| if k == 0 { 0.0 } else { w }).map_rows(normalise)
}

/// Attention weighted by the norm of each key's value vector, `α_qk ‖v_k‖ / Σ_j α_qj ‖v_j‖`:
/// a key that is looked at but carries a small value moves the output little (after Kobayashi
/// et al. 2020, "Attention is Not Only a Weight", who weigh by `‖f(x_k)‖`, the value after the
/// output projection; this uses the value vector itself). Rows are renormalised so the weights
/// stay comparable with the plain pattern. `value_norms[k]` is `‖v_k‖` of this head.
pub fn value_weighted(pattern: &Pattern, value_norms: &[f32]) -> Pattern {
    pattern.map(|_, k, w| w * value_norms[k]).map_rows(normalise)
}

/// Scales a row to sum to 1; a row of zeros stays zeros.
fn normalise(row: &mut [f32]) {
    let total: f32 = row.iter().sum();
    if total > 0.0 {
        row.iter_mut().for_each(|w| *w /= total);
    }
}

/// The matrix shown for slot `(layer, head)` over the first `n` positions: the pure function
/// from a capture and the view's choice to what the heatmaps and the token shading draw.
/// `None` when the capture lacks what the source needs (value norms).
pub fn shown(capture: &Capture, source: Source, hide_sink: bool, layer: usize, head: usize, n: usize) -> Option<Pattern> {
    let pattern = match source {
        Source::Head => Pattern::of_head(capture, layer, head, n),
        Source::LayerMean => mean(&Pattern::of_layer(capture, layer, n)),
        Source::LayerMax => max(&Pattern::of_layer(capture, layer, n)),
        Source::AllMean => mean(&(0..capture.n_layer()).flat_map(|l| Pattern::of_layer(capture, l, n)).collect::<Vec<_>>()),
        Source::Rollout => {
            let means: Vec<Pattern> = (0..=layer).map(|l| mean(&Pattern::of_layer(capture, l, n))).collect();
            rollout(&means).pop().expect("one rollout per layer")
        }
        Source::ValueWeighted => value_weighted(&Pattern::of_head(capture, layer, head, n), &capture.value_norms(layer, head, n)?),
    };
    Some(if hide_sink { hide_first_token(&pattern) } else { pattern })
}
