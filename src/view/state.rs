//! What the page shows of a run: which view, which head, which token, which step. Plain data:
//! the permalink encodes it and the UI renders it.

use serde::{Deserialize, Serialize};

pub use crate::analysis::aggregate::Source;
use crate::analysis::repeat::Pool;
use crate::analysis::roles::SortBy;
use crate::view::colour::Scale;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Mode {
    /// One head, query x key, with token labels.
    Head,
    /// Every head of one layer, side by side.
    Block,
    /// One head index across every layer.
    Layer,
    /// Every layer x head as thumbnails.
    Overview,
    /// One head as lines from queries to keys, weighted by attention (bertviz's head view).
    Lines,
    /// The learned position embeddings beside the sinusoidal encoding, as similarity maps.
    Positions,
    /// The run beside a second prompt at the same head, and their difference.
    Compare,
}

impl Mode {
    pub const ALL: [Mode; 7] = [Mode::Head, Mode::Block, Mode::Layer, Mode::Overview, Mode::Lines, Mode::Positions, Mode::Compare];

    pub fn name(self) -> &'static str {
        match self {
            Mode::Head => "head",
            Mode::Block => "block",
            Mode::Layer => "layer",
            Mode::Overview => "overview",
            Mode::Lines => "lines",
            Mode::Positions => "positions",
            Mode::Compare => "compare",
        }
    }

    pub fn from_name(name: &str) -> Option<Mode> {
        Mode::ALL.into_iter().find(|m| m.name() == name)
    }

    pub fn title(self) -> &'static str {
        match self {
            Mode::Head => "One head",
            Mode::Block => "By block",
            Mode::Layer => "By layer",
            Mode::Overview => "Overview",
            Mode::Lines => "Lines",
            Mode::Positions => "Positions",
            Mode::Compare => "Compare",
        }
    }
}

/// Which way the selected token's attention is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Direction {
    /// The keys the selected token attends to (its row).
    AttendsTo,
    /// The queries that attend to the selected token (its column).
    AttendedBy,
}

/// On the page it is a store (`reactive_stores`): a component subscribes to the fields it reads,
/// and a change patches only the fields that differ, so a click wakes what shows the selection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(all(target_arch = "wasm32", feature = "app"), derive(reactive_stores::Store, reactive_stores::Patch))]
pub struct ViewState {
    pub mode: Mode,
    pub layer: usize,
    pub head: usize,
    /// The pinned token: its row and column are highlighted, the stream is shaded by it.
    pub selected: Option<usize>,
    /// The key of a pinned query/key pair (a heatmap cell clicked), at most `selected`.
    pub key: Option<usize>,
    /// Where the reader moved the detailed map's windows: first query, first key. `None`
    /// keeps them around the selection.
    #[cfg_attr(all(target_arch = "wasm32", feature = "app"), patch(|this, new| *this = new))]
    pub pan: Option<[usize; 2]>,
    /// BPE pieces merged into words in the maps.
    pub words: bool,
    /// The second prompt of the compare view; empty for none.
    pub compare: String,
    pub direction: Direction,
    /// Generation step shown: the first `prompt_len + step` positions. `None` follows the latest.
    pub step: Option<usize>,
    pub scale: Scale,
    /// Which matrix the maps and the token shading show: the head's, or an aggregate.
    pub source: Source,
    /// Hide the first-token sink and renormalise the rest of each row.
    pub hide_sink: bool,
    /// Shade the token stream by surprisal instead of attention.
    pub surprisal: bool,
    /// The analysis panel open.
    pub panel: Panel,
    /// How the head-roles table is ordered.
    pub sort: SortBy,
    /// Where the repeat test draws its random tokens from.
    pub pool: Pool,
    /// Heads switched off in the ablation panel, as `(layer, head)`.
    #[cfg_attr(all(target_arch = "wasm32", feature = "app"), patch(|this, new| *this = new))]
    pub ablated: Vec<(usize, usize)>,
}

/// The view's own kinds of value change as a whole: a patch notifies when one differs.
#[cfg(all(target_arch = "wasm32", feature = "app"))]
macro_rules! patched_whole {
    ($($kind:ty),*) => {$(
        impl reactive_stores::PatchField for $kind {
            fn patch_field(&mut self, new: Self, path: &reactive_stores::StorePath, notify: &mut dyn FnMut(&reactive_stores::StorePath), _keys: Option<&reactive_stores::KeyMap>) {
                if *self != new {
                    *self = new;
                    notify(path);
                }
            }
        }
    )*};
}

#[cfg(all(target_arch = "wasm32", feature = "app"))]
patched_whole!(Mode, Direction, Scale, Source, Panel, SortBy, Pool);

/// The analysis panels below the maps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Panel {
    /// Every head's roles, and the repeat test.
    Roles,
    /// Predictions and the logit lens at the selected token.
    Predictions,
    /// Every number of the selected head for the selected token.
    Inside,
    /// Heads switched off, beside the intact model.
    Ablation,
}

impl Panel {
    pub const ALL: [Panel; 4] = [Panel::Roles, Panel::Predictions, Panel::Inside, Panel::Ablation];

    pub fn name(self) -> &'static str {
        match self {
            Panel::Roles => "roles",
            Panel::Predictions => "predictions",
            Panel::Inside => "inside",
            Panel::Ablation => "ablation",
        }
    }

    pub fn from_name(name: &str) -> Option<Panel> {
        Panel::ALL.into_iter().find(|p| p.name() == name)
    }

    pub fn title(self) -> &'static str {
        match self {
            Panel::Roles => "Head roles",
            Panel::Predictions => "Predictions & lens",
            Panel::Inside => "Inside one head",
            Panel::Ablation => "Ablation",
        }
    }
}

impl Default for ViewState {
    fn default() -> Self {
        ViewState {
            mode: Mode::Head,
            layer: 0,
            head: 0,
            selected: None,
            key: None,
            pan: None,
            words: false,
            compare: String::new(),
            direction: Direction::AttendsTo,
            step: None,
            scale: Scale::Linear,
            source: Source::Head,
            hide_sink: false,
            surprisal: false,
            panel: Panel::Roles,
            sort: SortBy::Position,
            pool: Pool::Vocabulary,
            ablated: Vec::new(),
        }
    }
}

impl ViewState {
    /// Positions shown for a run of `len` positions, `prompt_len` of them the prompt.
    pub fn visible(&self, prompt_len: usize, len: usize) -> usize {
        Self::visible_at(self.step, prompt_len, len)
    }

    /// Positions shown at generation step `step` (`None`: the latest).
    pub fn visible_at(step: Option<usize>, prompt_len: usize, len: usize) -> usize {
        step.map_or(len, |s| (prompt_len + s).min(len))
    }

    /// Pins token `q`, or clears the pin: a pair's key and a moved window go with the old one.
    pub fn select(&mut self, q: Option<usize>) {
        self.selected = q;
        self.key = None;
        self.pan = None;
    }

    /// Pins the query/key pair of a heatmap cell; a moved window stays where it is.
    pub fn select_pair(&mut self, query: usize, key: usize) {
        self.selected = Some(query);
        self.key = Some(key.min(query));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selecting_a_token_drops_the_pair_and_the_moved_window() {
        let mut view = ViewState { pan: Some([10, 0]), ..ViewState::default() };
        view.select_pair(9, 3);
        assert_eq!((view.selected, view.key, view.pan), (Some(9), Some(3), Some([10, 0])));
        view.select(Some(4));
        assert_eq!((view.selected, view.key, view.pan), (Some(4), None, None));
        assert!(Mode::ALL.iter().all(|&m| Mode::from_name(m.name()) == Some(m)));
    }
}
