//! A run as the views worker keeps it, and the matrices shown lately, kept for reuse.

use std::rc::Rc;

use crate::analysis::aggregate::{Source, shown};
use crate::analysis::pattern::Pattern;
use crate::capture::Capture;
use crate::tokenizer::Token;
use crate::views::query::Slot;

/// Matrices kept for reuse: aggregates only (a head's matrix is a copy; a rollout is
/// `O(L n³)`), enough for the map, the shading and the line view of one look.
const PATTERNS_KEPT: usize = 4;

/// One run as the views worker keeps it: its tokens and every position's attention rows.
pub struct Recorded {
    pub run: u32,
    pub tokens: Vec<Token>,
    pub capture: Capture,
}

impl Recorded {
    /// Ids of the first `n` tokens.
    pub fn ids(&self, n: usize) -> Vec<u32> {
        self.tokens[..n].iter().map(|t| t.id).collect()
    }
}

/// Which matrix: slot, run, positions, source, sink hidden, layer, head.
type Key = (Slot, u32, usize, Source, bool, usize, usize);

/// Aggregate matrices shown lately, newest last.
#[derive(Default)]
pub struct Patterns(Vec<(Key, Rc<Pattern>)>);

impl Patterns {
    /// The matrix `source` shows for `(layer, head)` over the first `n` positions of `recorded`
    /// (see [`shown`]): computed once for a look, however many views read it.
    pub fn shown(&mut self, slot: Slot, recorded: &Recorded, source: Source, hide_sink: bool, (layer, head): (usize, usize), n: usize) -> Option<Rc<Pattern>> {
        let (layer, head) = source.key(layer, head);
        let (layer, head) = (layer.unwrap_or(0), head.unwrap_or(0));
        let key = (slot, recorded.run, n, source, hide_sink, layer, head);
        if let Some((_, pattern)) = self.0.iter().find(|(k, _)| *k == key) {
            return Some(pattern.clone());
        }
        let pattern = Rc::new(shown(&recorded.capture, source, hide_sink, layer, head, n)?);
        if source != Source::Head {
            if self.0.len() == PATTERNS_KEPT {
                self.0.remove(0);
            }
            self.0.push((key, pattern.clone()));
        }
        Some(pattern)
    }
}

