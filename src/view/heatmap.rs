//! Attention patterns as heatmap geometry: the SVG view model. Pure, so the layout, labels,
//! highlights and windowing are tested natively; the UI only turns it into elements.
//!
//! A pattern of `n` positions has `n (n + 1) / 2` weights. A detailed map shows at most
//! [`DETAIL_MAX`] positions per side, exactly: a window of queries and a window of keys, around
//! the selected token unless the reader moved them (so a query far down can be read against the
//! first keys); a thumbnail pools the pattern into at most `bins` x `bins` blocks (the mean of
//! the weights each block holds), so a full context never turns into a million SVG nodes.

use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::analysis::pattern::Pattern;
use crate::view::colour::{Normaliser, format_weight};

/// Most positions per side a detailed map shows; a longer pattern shows a window of them.
pub const DETAIL_MAX: usize = 48;
/// Side of one cell in a detailed map, in SVG units.
pub const CELL: f32 = 18.0;
/// Room for the token labels left of and above a detailed map.
pub const LABEL_ROOM: f32 = 84.0;
/// Longest label drawn on an axis, in characters; longer ones end in `…`.
pub const LABEL_CHARS: usize = 9;

/// Which part of a pattern to draw, and how.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Layout {
    /// Exact cells with token labels on both axes.
    Detailed,
    /// Pooled blocks of side `size` units, at most `bins` per side, no labels.
    Thumbnail { size: f32, bins: usize },
}

/// One rectangle: the weights of queries `query` over keys `key` (one weight when both ranges
/// hold one position).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    pub query: Range<usize>,
    pub key: Range<usize>,
    pub x: f32,
    pub y: f32,
    pub width: f32,
    pub height: f32,
    /// The weight, or the mean of the block's weights.
    pub value: f32,
    /// Whether `value` is one weight rather than a mean.
    pub exact: bool,
}

impl Cell {
    /// What the tooltip and screen readers say.
    pub fn describe(&self, labels: &[String]) -> String {
        let name = |i: usize| labels.get(i).map_or(String::new(), |l| format!(" “{l}”"));
        if self.exact {
            let (q, k) = (self.query.start, self.key.start);
            format!("query {q}{} → key {k}{}: {}", name(q), name(k), format_weight(self.value))
        } else {
            format!(
                "queries {}–{} → keys {}–{}: mean {}",
                self.query.start,
                self.query.end - 1,
                self.key.start,
                self.key.end - 1,
                format_weight(self.value)
            )
        }
    }
}

/// A token label on an axis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AxisLabel {
    pub index: usize,
    pub text: String,
    /// Centre of the label's row (query axis) or column (key axis).
    pub at: f32,
}

/// A highlighted row or column: offset and thickness along its axis.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Band {
    pub at: f32,
    pub thickness: f32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeatmapView {
    pub layer: usize,
    pub head: usize,
    pub width: f32,
    pub height: f32,
    /// Top-left corner of the cell area.
    pub origin: (f32, f32),
    /// Side of the cell area.
    pub side: f32,
    /// The scale the cells are coloured by.
    pub norm: Normaliser,
    /// What each cell holds (a weight, or a block's mean): row `i` of `bands[0]` over the first
    /// `weights[i].len()` columns of `bands[1]`, the keys its queries can see. The cells
    /// themselves follow from these and the bands ([`HeatmapView::cells`]).
    pub weights: Vec<Vec<f32>>,
    pub query_labels: Vec<AxisLabel>,
    pub key_labels: Vec<AxisLabel>,
    pub row: Option<Band>,
    pub column: Option<Band>,
    /// Every row (`[0]`) and column (`[1]`) that can be highlighted: the positions it covers
    /// and its band, so a highlight can move without drawing the map again ([`HeatmapView::band`]).
    pub bands: [Vec<(Range<usize>, Band)>; 2],
    /// Query positions shown (down).
    pub window: Range<usize>,
    /// Key positions shown (across).
    pub keys: Range<usize>,
    pub aria_label: String,
}

/// The band of the part of `bands` (one axis of [`HeatmapView::bands`]) that holds position `i`.
pub fn band_of(bands: &[(Range<usize>, Band)], i: usize) -> Option<Band> {
    bands.iter().find(|(part, _)| part.contains(&i)).map(|&(_, band)| band)
}

impl HeatmapView {
    /// The highlight of query row (`axis` 0) or key column (`axis` 1) `i`, if it is shown.
    pub fn band(&self, axis: usize, i: usize) -> Option<Band> {
        band_of(&self.bands[axis], i)
    }

    /// The cell of row `row` and column `column` of the bands, if it is drawn.
    fn cell(&self, row: usize, column: usize) -> Option<Cell> {
        let value = *self.weights.get(row)?.get(column)?;
        let ((query, down), (key, across)) = (self.bands[0].get(row)?.clone(), self.bands[1].get(column)?.clone());
        let exact = query.len() == 1 && key.len() == 1;
        Some(Cell { query, key, x: across.at, y: down.at, width: across.thickness, height: down.thickness, value, exact })
    }

    /// Every drawn cell, row by row.
    pub fn cells(&self) -> impl Iterator<Item = Cell> + '_ {
        self.weights.iter().enumerate().flat_map(move |(row, columns)| (0..columns.len()).filter_map(move |column| self.cell(row, column)))
    }

    /// The cell that holds query `q` and key `k`.
    pub fn cell_holding(&self, q: usize, k: usize) -> Option<Cell> {
        let part = |axis: usize, i: usize| self.bands[axis].iter().position(|(part, _)| part.contains(&i));
        self.cell(part(0, q)?, part(1, k)?)
    }

    /// The cell under point `(x, y)` of the map, in its own units (those of `width` and `height`).
    pub fn cell_at(&self, x: f32, y: f32) -> Option<Cell> {
        let part = |axis: usize, at: f32| self.bands[axis].iter().position(|(_, band)| band.at <= at && at < band.at + band.thickness);
        self.cell(part(0, y)?, part(1, x)?)
    }
}

/// The positions a detailed map shows of `n` along one axis: all of them when they fit,
/// otherwise [`DETAIL_MAX`] from `from` when the reader moved the window, else around the
/// selected token (the last ones when none is selected).
pub fn window(n: usize, selected: Option<usize>, from: Option<usize>) -> Range<usize> {
    if n <= DETAIL_MAX {
        return 0..n;
    }
    let start = match from {
        Some(from) => from.min(n - DETAIL_MAX),
        None => selected.unwrap_or(n - 1).min(n - 1).saturating_sub(DETAIL_MAX / 2).min(n - DETAIL_MAX),
    };
    start..start + DETAIL_MAX
}

/// The first position of a detailed window centred on `fraction` (0 to 1) of `n` positions:
/// where a click on an overview of the whole pattern moves the window.
pub fn window_at(fraction: f64, n: usize) -> usize {
    let centre = (fraction.clamp(0.0, 1.0) * n as f64) as usize;
    centre.saturating_sub(DETAIL_MAX / 2).min(n.saturating_sub(DETAIL_MAX))
}

/// A label cut to [`LABEL_CHARS`] characters.
pub fn short_label(label: &str) -> String {
    if label.chars().count() <= LABEL_CHARS {
        label.to_string()
    } else {
        let mut cut: String = label.chars().take(LABEL_CHARS - 1).collect();
        cut.push('…');
        cut
    }
}

/// Splits `range` into at most `bins` consecutive, near-equal parts.
fn bins(range: Range<usize>, bins: usize) -> Vec<Range<usize>> {
    let n = range.len();
    let count = bins.min(n).max(1);
    (0..count).map(|b| range.start + b * n / count..range.start + (b + 1) * n / count).filter(|r| !r.is_empty()).collect()
}

/// The mean weight of queries `qs` over keys `ks`, counting only the keys each query can see;
/// `None` when the block lies wholly above the diagonal.
fn block_mean(pattern: &Pattern, qs: &Range<usize>, ks: &Range<usize>) -> Option<f32> {
    let (mut sum, mut count) = (0.0f64, 0usize);
    for q in qs.clone() {
        let seen = pattern.row(q).get(ks.start..ks.end.min(q + 1)).unwrap_or_default();
        sum += seen.iter().map(|&w| w as f64).sum::<f64>();
        count += seen.len();
    }
    (count > 0).then(|| (sum / count as f64) as f32)
}

/// Request for one map: which head, how it is laid out, what is selected.
#[derive(Debug, Clone, Copy)]
pub struct MapRequest<'a> {
    pub layer: usize,
    pub head: usize,
    /// Positions the axes are laid out for, at least the pattern's: a run's final length, so a
    /// map that fills in while tokens stream does not change size.
    pub extent: usize,
    pub labels: &'a [String],
    /// Highlighted query row.
    pub row: Option<usize>,
    /// Highlighted key column.
    pub column: Option<usize>,
    /// Where the reader moved the detailed windows: first query, first key. `None` follows the
    /// selection.
    pub pan: Option<[usize; 2]>,
    pub layout: Layout,
}

/// The heatmap of `pattern` (one head, or any matrix in its shape).
pub fn heatmap(pattern: &Pattern, request: &MapRequest, norm: &Normaliser) -> HeatmapView {
    let MapRequest { layer, head, extent, labels, row, column, pan, layout } = *request;
    let n = pattern.len();
    let extent = extent.max(n);
    // `slots` positions fit along each axis; the parts of the first `n` are drawn.
    let (windows, slots, parts, origin, side) = match layout {
        Layout::Detailed => {
            let queries = window(n, row.or(column), pan.map(|p| p[0]));
            let keys = match pan {
                Some([_, from]) => window(n, None, Some(from)),
                None => queries.clone(),
            };
            let slots = if extent <= DETAIL_MAX { extent } else { queries.len() };
            let parts = [bins(queries.clone(), queries.len()), bins(keys.clone(), keys.len())];
            ([queries, keys], slots, parts, (LABEL_ROOM, LABEL_ROOM), slots as f32 * CELL)
        }
        Layout::Thumbnail { size, bins: count } => {
            let parts: Vec<_> = bins(0..extent, count).into_iter().map(|p| p.start..p.end.min(n)).filter(|p| !p.is_empty()).collect();
            ([0..n, 0..n], extent, [parts.clone(), parts], (0.0, 0.0), size)
        }
    };
    let [query_parts, key_parts] = &parts;
    let unit = if slots == 0 { 0.0 } else { side / slots as f32 };
    // Offset of position `i` along the query axis (0) or the key axis (1).
    let offset = |axis: usize, i: usize| (i - windows[axis].start) as f32 * unit;
    // each row of query parts over the key parts its queries see
    let weights = query_parts.iter().map(|qs| key_parts.iter().take_while(|ks| ks.start < qs.end).map_while(|ks| block_mean(pattern, qs, ks)).collect()).collect();
    let start = [origin.1, origin.0]; // where each axis's cells begin
    let bands = [0, 1].map(|axis| {
        parts[axis].iter().map(|part| (part.clone(), Band { at: start[axis] + offset(axis, part.start), thickness: part.len() as f32 * unit })).collect::<Vec<_>>()
    });
    let band = |axis: usize, i: Option<usize>| i.and_then(|i| band_of(&bands[axis], i));
    let axis_labels = |axis: usize, along: f32| -> Vec<AxisLabel> {
        match layout {
            Layout::Thumbnail { .. } => Vec::new(),
            Layout::Detailed => windows[axis]
                .clone()
                .map(|i| AxisLabel {
                    index: i,
                    text: short_label(labels.get(i).map_or("", String::as_str)),
                    at: along + offset(axis, i) + unit / 2.0,
                })
                .collect(),
        }
    };
    let [queries, keys] = &windows;
    let shown = match (queries.len() < n, queries == keys) {
        (false, _) => String::new(),
        (true, true) => format!(", positions {} to {} of {n}", queries.start, queries.end - 1),
        (true, false) => format!(", queries {} to {} and keys {} to {} of {n}", queries.start, queries.end - 1, keys.start, keys.end - 1),
    };
    HeatmapView {
        layer,
        head,
        width: origin.0 + side,
        height: origin.1 + side,
        origin,
        side,
        query_labels: axis_labels(0, origin.1),
        key_labels: axis_labels(1, origin.0),
        row: band(0, row),
        column: band(1, column),
        bands,
        norm: *norm,
        weights,
        aria_label: format!("Attention of layer {layer}, head {head}: queries down, keys across{shown}"),
        window: queries.clone(),
        keys: keys.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view::colour::Scale;

    /// `n` positions; query `q` puts weight on keys so that row `q` is `[1, 2, ..., q + 1] / sum`.
    fn ramp(n: usize) -> Pattern {
        let rows = (0..n)
            .map(|q| {
                let total = ((q + 1) * (q + 2) / 2) as f32;
                (0..=q).map(|k| (k + 1) as f32 / total).collect()
            })
            .collect();
        Pattern::from_rows(rows)
    }

    fn first(pattern: &Pattern, n: usize) -> Pattern {
        Pattern::from_rows(pattern.rows()[..n].to_vec())
    }

    fn labels(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("t{i}")).collect()
    }

    fn request(extent: usize, labels: &[String], layout: Layout) -> MapRequest<'_> {
        MapRequest { layer: 0, head: 0, extent, labels, row: None, column: None, pan: None, layout }
    }

    #[test]
    fn a_detailed_map_has_one_exact_cell_per_visible_weight() {
        let capture = ramp(4);
        let labels = labels(4);
        let norm = Normaliser::fit(Scale::Linear, []);
        let view = heatmap(&first(&capture, 3), &request(3, &labels, Layout::Detailed), &norm);
        assert_eq!(view.cells().count(), 6, "lower triangle of 3 positions");
        assert!(view.cells().all(|c| c.exact && c.key.start <= c.query.start));
        let cell = view.cells().find(|c| c.query == (2..3) && c.key == (1..2)).unwrap();
        assert_eq!(cell.value, 2.0 / 6.0);
        assert_eq!((cell.x, cell.y), (LABEL_ROOM + CELL, LABEL_ROOM + 2.0 * CELL));
        assert_eq!(cell.describe(&labels), "query 2 “t2” → key 1 “t1”: 0.3333");
        assert_eq!(view.query_labels.iter().map(|l| l.text.as_str()).collect::<Vec<_>>(), ["t0", "t1", "t2"]);
        assert_eq!(view.key_labels[1].at, LABEL_ROOM + 1.5 * CELL);
        assert_eq!(view.width, LABEL_ROOM + 3.0 * CELL);
    }

    #[test]
    fn the_selection_highlights_its_row_and_column() {
        let capture = ramp(4);
        let labels = labels(4);
        let norm = Normaliser::fit(Scale::Linear, []);
        let view = heatmap(&capture, &MapRequest { row: Some(2), column: Some(1), ..request(4, &labels, Layout::Detailed) }, &norm);
        assert_eq!(view.row, Some(Band { at: LABEL_ROOM + 2.0 * CELL, thickness: CELL }));
        assert_eq!(view.column, Some(Band { at: LABEL_ROOM + CELL, thickness: CELL }));
        // The same bands are there for any position, without drawing the map again.
        let plain = heatmap(&capture, &request(4, &labels, Layout::Detailed), &norm);
        assert_eq!((plain.row, plain.band(0, 2), plain.band(1, 1)), (None, view.row, view.column));
        assert_eq!(plain.band(0, 4), None, "a position past the pattern has no band");
    }

    #[test]
    fn long_patterns_show_a_window_around_the_selection() {
        assert_eq!(window(10, None, None), 0..10);
        assert_eq!(window(200, None, None), 152..200);
        assert_eq!(window(200, Some(100), None), 76..124);
        assert_eq!(window(200, Some(3), None), 0..48);
        // a window the reader moved stays where it was put, inside the pattern
        assert_eq!(window(200, Some(100), Some(10)), 10..58);
        assert_eq!(window(200, None, Some(190)), 152..200);
        assert_eq!(window(10, None, Some(5)), 0..10);
        // a click on the overview centres a window there
        assert_eq!((window_at(0.5, 200), window_at(0.0, 200), window_at(1.0, 200), window_at(0.5, 10)), (76, 0, 152, 0));
        let capture = ramp(100);
        let labels = labels(100);
        let norm = Normaliser::fit(Scale::Linear, []);
        let view = heatmap(&capture, &MapRequest { row: Some(50), ..request(100, &labels, Layout::Detailed) }, &norm);
        assert_eq!(view.window, 26..74);
        assert!(view.cells().count() <= DETAIL_MAX * (DETAIL_MAX + 1) / 2);
        assert_eq!(view.query_labels.first().unwrap().text, "t26");
        assert!(view.aria_label.ends_with("positions 26 to 73 of 100"));
    }

    #[test]
    fn the_key_window_moves_apart_from_the_query_window() {
        // a query far down read against the first keys (the attention sink)
        let capture = ramp(100);
        let labels = labels(100);
        let norm = Normaliser::fit(Scale::Linear, []);
        let view = heatmap(&capture, &MapRequest { row: Some(80), column: Some(2), pan: Some([60, 0]), ..request(100, &labels, Layout::Detailed) }, &norm);
        assert_eq!((view.window.clone(), view.keys.clone()), (52..100, 0..48), "the query window stops at the end");
        assert!(view.aria_label.ends_with("queries 52 to 99 and keys 0 to 47 of 100"), "{}", view.aria_label);
        // every query sees every key shown: a full 48 x 48 block of exact cells
        assert_eq!(view.cells().count(), DETAIL_MAX * DETAIL_MAX);
        let sink = view.cells().find(|c| c.query == (80..81) && c.key == (0..1)).unwrap();
        assert_eq!(sink.value, capture.get(80, 0));
        assert_eq!((sink.x, sink.y), (LABEL_ROOM, LABEL_ROOM + (80 - 52) as f32 * CELL));
        assert_eq!(view.key_labels[0].text, "t0");
        assert_eq!(view.query_labels[0].text, "t52");
        assert_eq!(view.row, Some(Band { at: LABEL_ROOM + 28.0 * CELL, thickness: CELL }));
        assert_eq!(view.column, Some(Band { at: LABEL_ROOM + 2.0 * CELL, thickness: CELL }));
    }

    #[test]
    fn thumbnails_pool_long_patterns_into_block_means() {
        let capture = ramp(100);
        let norm = Normaliser::fit(Scale::Linear, []);
        let view = heatmap(&capture, &request(100, &[], Layout::Thumbnail { size: 40.0, bins: 10 }), &norm);
        assert_eq!(view.cells().count(), 55, "lower triangle of 10 x 10 blocks");
        assert!(view.query_labels.is_empty());
        // rows sum to 1, so a diagonal block's mean sits between its rows' extremes
        let corner = view.cells().next().unwrap();
        assert_eq!((corner.query.clone(), corner.key.clone()), (0..10, 0..10));
        assert!(!corner.exact);
        let direct: f32 = (0..10).map(|q| capture.row(q).iter().sum::<f32>()).sum::<f32>() / 55.0;
        assert!((corner.value - direct).abs() < 1e-6);
        assert!(corner.describe(&[]).starts_with("queries 0–9 → keys 0–9: mean"));
        assert_eq!(corner.width, 4.0);
    }

    #[test]
    fn a_map_keeps_its_size_while_it_fills_in() {
        let capture = ramp(10);
        let labels = labels(10);
        let norm = Normaliser::fit(Scale::Linear, []);
        let growing = heatmap(&first(&capture, 4), &request(10, &labels, Layout::Detailed), &norm);
        let full = heatmap(&capture, &request(10, &labels, Layout::Detailed), &norm);
        assert_eq!((growing.width, growing.height), (full.width, full.height));
        assert_eq!(growing.cells().count(), 10);
        assert_eq!(growing.query_labels.len(), 4);
        let thumb = heatmap(&first(&capture, 4), &request(10, &[], Layout::Thumbnail { size: 50.0, bins: 5 }), &norm);
        // blocks of two positions, 5 units each; only those of the first 4 positions are drawn
        assert_eq!(thumb.cells().count(), 3);
        assert!(thumb.cells().all(|c| c.width == 10.0 && c.height == 10.0));
        let third = thumb.cells().nth(2).unwrap();
        assert_eq!((third.x, third.y), (10.0, 10.0));
        // the page finds cells by position and under the pointer
        assert_eq!(thumb.cell_holding(3, 2), Some(third.clone()));
        assert_eq!(thumb.cell_at(19.9, 10.0), Some(third));
        assert_eq!((thumb.cell_holding(1, 3), thumb.cell_at(15.0, 5.0)), (None, None), "nothing above the diagonal");
    }

    #[test]
    fn labels_are_cut_to_fit() {
        assert_eq!(short_label("␣quick"), "␣quick");
        assert_eq!(short_label("␣internationalisation"), "␣interna…");
    }
}
