//! The line view (bertviz's head view): the tokens twice, queries in the left column and keys
//! in the right, joined by lines whose opacity and width follow the attention weight. Pure
//! geometry, so what is drawn is tested natively.
//!
//! A long prompt shows a window of at most [`DETAIL_MAX`] tokens per column (the same window as
//! the detailed heatmap), and only links of at least [`MIN_WEIGHT`], so the SVG stays small.

use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::analysis::pattern::Pattern;
use crate::view::heatmap::{DETAIL_MAX, short_label};
use crate::view::state::Direction;

/// Height of one token's row, in SVG units.
pub const ROW: f32 = 20.0;
/// Width of each column of token labels.
pub const LABEL_WIDTH: f32 = 96.0;
/// Gap between the two columns, where the lines run.
pub const GAP: f32 = 200.0;
/// Links weaker than this are not drawn (they would be invisible anyway).
pub const MIN_WEIGHT: f32 = 0.01;

/// One token in a column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    pub index: usize,
    pub label: String,
    /// Centre of the token's row.
    pub y: f32,
    /// Whether the token is the focus, or linked to it.
    pub lit: bool,
}

/// One link from a query (left) to a key (right).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Line {
    pub query: usize,
    pub key: usize,
    pub weight: f32,
    pub y1: f32,
    pub y2: f32,
    /// `[0, 1]`: the weight relative to the strongest link drawn.
    pub opacity: f32,
    pub width: f32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineView {
    pub width: f32,
    pub height: f32,
    /// x of the queries' right edge and of the keys' left edge: where lines start and end.
    pub x1: f32,
    pub x2: f32,
    pub queries: Vec<Node>,
    pub keys: Vec<Node>,
    pub lines: Vec<Line>,
    pub window: Range<usize>,
}

/// The line view of `pattern` over tokens `window` (at most [`DETAIL_MAX`] of them). With a
/// `focus`, only its links are drawn: what it attends to, or what attends to it.
pub fn lines(pattern: &Pattern, labels: &[String], window: Range<usize>, focus: Option<usize>, direction: Direction) -> LineView {
    let window = window.start.min(pattern.len())..window.end.min(pattern.len()).min(window.start + DETAIL_MAX);
    let y = |i: usize| (i - window.start) as f32 * ROW + ROW / 2.0;
    let links = |q: usize, k: usize| match (focus, direction) {
        (None, _) => true,
        (Some(f), Direction::AttendsTo) => q == f,
        (Some(f), Direction::AttendedBy) => k == f,
    };
    let mut lines: Vec<Line> = Vec::new();
    for q in window.clone() {
        for k in window.start..=q {
            let weight = pattern.get(q, k);
            if weight >= MIN_WEIGHT && links(q, k) {
                lines.push(Line { query: q, key: k, weight, y1: y(q), y2: y(k), opacity: 0.0, width: 0.0 });
            }
        }
    }
    let strongest = lines.iter().map(|l| l.weight).fold(0.0f32, f32::max);
    for line in &mut lines {
        line.opacity = if strongest > 0.0 { line.weight / strongest } else { 0.0 };
        line.width = 0.5 + 3.5 * line.opacity;
    }
    let nodes = |is_query: bool| -> Vec<Node> {
        window
            .clone()
            .map(|i| Node {
                index: i,
                label: short_label(labels.get(i).map_or("", String::as_str)),
                y: y(i),
                lit: focus.is_some_and(|f| f == i || lines.iter().any(|l| if is_query { l.query == i } else { l.key == i })),
            })
            .collect()
    };
    let (queries, keys) = (nodes(true), nodes(false));
    LineView { width: 2.0 * LABEL_WIDTH + GAP, height: window.len() as f32 * ROW, x1: LABEL_WIDTH, x2: LABEL_WIDTH + GAP, queries, keys, lines, window }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern() -> Pattern {
        Pattern::from_rows(vec![vec![1.0], vec![0.75, 0.25], vec![0.5, 0.005, 0.495]])
    }

    fn labels() -> Vec<String> {
        ["a", "b", "c"].map(String::from).to_vec()
    }

    #[test]
    fn every_visible_link_is_a_line_weighted_by_attention() {
        let view = lines(&pattern(), &labels(), 0..3, None, Direction::AttendsTo);
        // 6 weights, one below MIN_WEIGHT
        assert_eq!(view.lines.len(), 5);
        let strongest = &view.lines[0];
        assert_eq!((strongest.query, strongest.key, strongest.opacity, strongest.width), (0, 0, 1.0, 4.0));
        let half = view.lines.iter().find(|l| (l.query, l.key) == (2, 0)).unwrap();
        assert_eq!((half.y1, half.y2, half.opacity), (2.5 * ROW, 0.5 * ROW, 0.5));
        assert_eq!(view.queries.iter().map(|n| n.label.as_str()).collect::<Vec<_>>(), ["a", "b", "c"]);
        assert!(view.queries.iter().all(|n| !n.lit));
        assert_eq!((view.x1, view.x2, view.height), (LABEL_WIDTH, LABEL_WIDTH + GAP, 3.0 * ROW));
    }

    #[test]
    fn a_focus_keeps_only_its_links_in_the_chosen_direction() {
        let to = lines(&pattern(), &labels(), 0..3, Some(1), Direction::AttendsTo);
        assert_eq!(to.lines.iter().map(|l| (l.query, l.key)).collect::<Vec<_>>(), [(1, 0), (1, 1)]);
        assert_eq!(to.lines[0].opacity, 1.0, "relative to the strongest link drawn");
        assert_eq!(to.keys.iter().map(|n| n.lit).collect::<Vec<_>>(), [true, true, false]);
        let by = lines(&pattern(), &labels(), 0..3, Some(0), Direction::AttendedBy);
        assert_eq!(by.lines.iter().map(|l| (l.query, l.key)).collect::<Vec<_>>(), [(0, 0), (1, 0), (2, 0)]);
        assert_eq!(by.queries.iter().map(|n| n.lit).collect::<Vec<_>>(), [true, true, true]);
    }

    #[test]
    fn a_long_prompt_shows_a_window_of_nodes() {
        let n = 200;
        // a previous-token head: query q puts all its weight on q - 1
        let rows = (0..n)
            .map(|q| {
                let mut row = vec![0.0; q + 1];
                row[q.saturating_sub(1)] = 1.0;
                row
            })
            .collect();
        let labels: Vec<String> = (0..n).map(|i| format!("t{i}")).collect();
        let view = lines(&Pattern::from_rows(rows), &labels, 100..400, None, Direction::AttendsTo);
        assert_eq!(view.window, 100..148);
        assert_eq!(view.queries.len(), DETAIL_MAX);
        assert_eq!(view.queries[0].y, ROW / 2.0);
        // query 100's key 99 lies outside the window
        assert_eq!(view.lines.len(), DETAIL_MAX - 1);
        assert!(view.lines.iter().all(|l| view.window.contains(&l.query) && l.key + 1 == l.query));
    }
}
