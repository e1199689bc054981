//! What the page shows of a run: which view, which head, which token, which step. Plain data:
//! the permalink encodes it and the UI renders it.

use serde::{Deserialize, Serialize};

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
}

impl Mode {
    pub const ALL: [Mode; 4] = [Mode::Head, Mode::Block, Mode::Layer, Mode::Overview];

    pub fn name(self) -> &'static str {
        match self {
            Mode::Head => "head",
            Mode::Block => "block",
            Mode::Layer => "layer",
            Mode::Overview => "overview",
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ViewState {
    pub mode: Mode,
    pub layer: usize,
    pub head: usize,
    /// The pinned token: its row and column are highlighted, the stream is shaded by it.
    pub selected: Option<usize>,
    pub direction: Direction,
    /// Generation step shown: the first `prompt_len + step` positions. `None` follows the latest.
    pub step: Option<usize>,
    pub scale: Scale,
}

impl Default for ViewState {
    fn default() -> Self {
        ViewState {
            mode: Mode::Head,
            layer: 0,
            head: 0,
            selected: None,
            direction: Direction::AttendsTo,
            step: None,
            scale: Scale::Linear,
        }
    }
}

impl ViewState {
    /// Positions shown for a run of `len` positions, `prompt_len` of them the prompt.
    pub fn visible(&self, prompt_len: usize, len: usize) -> usize {
        self.step.map_or(len, |s| (prompt_len + s).min(len))
    }
}
