//! The shown heatmaps as one standalone SVG document, for export: explicit colours and fonts
//! (no page stylesheet), token text escaped, a caption per map, and the colour legend. Its cells
//! are the screen's markup ([`Markup::cells`], one path per colour level): the document draws
//! what the page draws. The PNG export draws this same document onto a canvas.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::ops::Range;

use crate::view::colour::{Normaliser, format_weight};
use crate::view::heatmap::HeatmapView;

/// Space around and between maps, and the height of a caption line.
const MARGIN: f32 = 16.0;
const CAPTION: f32 = 20.0;
const LEGEND: f32 = 56.0;
const LEGEND_WIDTH: f32 = 240.0;

/// One map of the document and the line above it.
pub struct Tile<'a> {
    pub map: &'a HeatmapView,
    pub caption: &'a str,
}

/// Text made safe inside an SVG element or attribute: markup escaped, and the characters XML
/// 1.0 forbids even as references (C0 controls but tab, line feed and carriage return; U+FFFE,
/// U+FFFF) written as their code points, so the document parses whatever a prompt holds.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c < ' ' || matches!(c, '\u{FFFE}' | '\u{FFFF}') => out.push_str(&format!("⟨U+{:04X}⟩", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// SVG markup of a map's cells, as [`Markup::cells`] writes it: paths with numeric data and
/// generated colours, never any text, so the page may set it as markup.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Markup(String);

impl Markup {
    /// The cells of `map` as one path per colour level (elements of class `class`): a map is a
    /// few dozen elements however many cells it has, and a window that moves replaces those.
    /// After them, an empty group whose `data-cells` lists what each cell holds as numbers,
    /// `query,key,weight` per cell (`first-end` for a pooled block's positions, end excluded),
    /// for scripts and tests: the page itself reads cells from the map's model.
    pub fn cells(map: &HeatmapView, class: &str) -> Markup {
        let mut levels: BTreeMap<usize, String> = BTreeMap::new();
        let mut listed = String::new();
        for cell in map.cells() {
            let _ = write!(levels.entry(map.norm.level(cell.value)).or_default(), "M{} {}h{}v{}h{}z", cell.x, cell.y, cell.width, cell.height, -cell.width);
            let span = |r: &Range<usize>| if r.len() == 1 { r.start.to_string() } else { format!("{}-{}", r.start, r.end) };
            let _ = write!(listed, "{}{},{},{}", if listed.is_empty() { "" } else { " " }, span(&cell.query), span(&cell.key), cell.value);
        }
        let mut out = String::new();
        for (level, path) in levels {
            let _ = write!(out, r#"<path class="{class}" fill="{}" d="{path}"/>"#, map.norm.level_colour(level));
        }
        let _ = write!(out, r#"<g class="weights" data-layer="{}" data-head="{}" data-cells="{listed}"/>"#, map.layer, map.head);
        Markup(out)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn tile(out: &mut String, tile: &Tile, x: f32, y: f32) {
    let map = tile.map;
    let (ox, oy) = map.origin;
    let _ = write!(out, r#"<g transform="translate({x} {y})"><text x="0" y="14" class="caption">{}</text>"#, escape(tile.caption));
    let _ = write!(out, r#"<g transform="translate(0 {CAPTION})">"#);
    let _ = write!(out, r##"<rect x="{ox}" y="{oy}" width="{0}" height="{0}" fill="none" stroke="#c8c9cc"/>"##, map.side);
    out.push_str(Markup::cells(map, "cell").as_str());
    if let Some(band) = map.row {
        let _ = write!(out, r##"<rect x="{ox}" y="{}" width="{}" height="{}" fill="none" stroke="#e4572e" stroke-width="2"/>"##, band.at, map.side, band.thickness);
    }
    if let Some(band) = map.column {
        let _ = write!(out, r##"<rect x="{}" y="{oy}" width="{}" height="{}" fill="none" stroke="#e4572e" stroke-width="2"/>"##, band.at, band.thickness, map.side);
    }
    for label in &map.query_labels {
        let _ = write!(out, r#"<text x="{}" y="{}" text-anchor="end" dominant-baseline="central" class="label">{}</text>"#, ox - 4.0, label.at, escape(&label.text));
    }
    for label in &map.key_labels {
        let _ = write!(out, r#"<text transform="translate({} {}) rotate(-60)" class="label">{}</text>"#, label.at, oy - 4.0, escape(&label.text));
    }
    out.push_str("</g></g>");
}

/// The document: `tiles` in a grid of `columns`, the legend of each scale used below them.
pub fn document(tiles: &[Tile], columns: usize, norms: &[Normaliser]) -> String {
    let columns = columns.clamp(1, tiles.len().max(1));
    let cell_width = tiles.iter().map(|t| t.map.width).fold(0.0f32, f32::max);
    let cell_height = tiles.iter().map(|t| t.map.height).fold(0.0f32, f32::max) + CAPTION;
    let rows = tiles.len().div_ceil(columns);
    let width = (MARGIN + columns as f32 * (cell_width + MARGIN)).max(LEGEND_WIDTH + 2.0 * MARGIN);
    let height = MARGIN + rows as f32 * (cell_height + MARGIN) + LEGEND * norms.len() as f32;
    let mut out = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}"><style>text {{ fill: #1d1f21; font: 11px ui-monospace, Menlo, Consolas, monospace; white-space: pre; }} .caption {{ font: 600 13px system-ui, sans-serif; }}</style><rect width="100%" height="100%" fill="#ffffff"/>"##
    );
    for (i, t) in tiles.iter().enumerate() {
        let (col, row) = (i % columns, i / columns);
        tile(&mut out, t, MARGIN + col as f32 * (cell_width + MARGIN), MARGIN + row as f32 * (cell_height + MARGIN));
    }
    for (i, norm) in norms.iter().enumerate() {
        legend(&mut out, norm, i, height - LEGEND * (norms.len() - i) as f32 + 8.0);
    }
    out.push_str("</svg>");
    out
}

/// The colour bar of `norm` with its ends and middle, and the scale in words, at `top`.
fn legend(out: &mut String, norm: &Normaliser, index: usize, top: f32) {
    let _ = write!(out, r#"<defs><linearGradient id="scale-{index}">"#);
    for i in 0..=10 {
        let t = i as f32 / 10.0;
        let _ = write!(out, r#"<stop offset="{}%" stop-color="{}"/>"#, i * 10, norm.palette.colour(t));
    }
    let _ = write!(out, r#"</linearGradient></defs><rect x="{MARGIN}" y="{top}" width="{LEGEND_WIDTH}" height="14" fill="url(#scale-{index})"/>"#);
    for (t, anchor) in [(0.0f32, "start"), (0.5, "middle"), (1.0, "end")] {
        let _ = write!(out, r#"<text x="{}" y="{}" text-anchor="{anchor}">{}</text>"#, MARGIN + t * LEGEND_WIDTH, top + 28.0, format_weight(norm.weight_at(t)));
    }
    let _ = write!(out, r#"<text x="{MARGIN}" y="{}">{}</text>"#, top + 44.0, escape(&format!("colour scale: {}", norm.describe())));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::pattern::Pattern;
    use crate::view::colour::Scale;
    use crate::view::heatmap::{Layout, MapRequest, heatmap};

    #[test]
    fn the_screens_markup_holds_paths_and_numbers_only() {
        let pattern = Pattern::from_rows(vec![vec![1.0], vec![0.25, 0.75]]);
        let labels = vec!["<script>alert(1)</script>".to_string(), "\"><img onerror=x>".to_string()];
        let request = MapRequest { layer: 0, head: 1, extent: 2, labels: &labels, row: None, column: None, pan: None, layout: Layout::Detailed };
        let map = heatmap(&pattern, &request, &Normaliser::fit(Scale::Linear, []));
        let markup = Markup::cells(&map, "cell");
        let text = format!(r#"<svg xmlns="http://www.w3.org/2000/svg">{}</svg>"#, markup.as_str());
        let document = roxmltree::Document::parse(&text).unwrap();
        let allowed = ["class", "fill", "d", "data-layer", "data-head", "data-cells"];
        for node in document.root_element().children() {
            assert!(node.is_element() && (node.has_tag_name("path") || node.has_tag_name("g")) && !node.has_children(), "only empty paths and groups: {node:?}");
            for attribute in node.attributes() {
                assert!(allowed.contains(&attribute.name()), "{}", attribute.name());
                assert!(attribute.value().chars().all(|c| c.is_ascii_alphanumeric() || " #.,-".contains(c)), "{}", attribute.value());
            }
        }
        // weights 1, 0.25 and 0.75 on the linear scale: three levels, a path each, and the list
        let paths: Vec<_> = document.root_element().children().filter(|n| n.has_tag_name("path")).collect();
        assert_eq!(paths.len(), 3);
        assert_eq!(paths[0].attribute("fill"), Some(map.norm.level_colour(16).as_str()), "0.25 x 63 steps rounds to 16");
        assert_eq!(paths[0].attribute("d"), Some("M84 102h18v18h-18z"), "query 1, key 0: second row, first column");
        let listed = document.root_element().children().find(|n| n.has_tag_name("g")).unwrap();
        assert_eq!(listed.attribute("data-cells"), Some("0,0,1 1,0,0.25 1,1,0.75"));
    }

    #[test]
    fn token_text_is_escaped() {
        assert_eq!(escape(r#"<b>"x" & 'y'</b>"#), "&lt;b&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/b&gt;");
        assert_eq!(escape("a\u{0}b\u{1b}c\u{FFFE}d\u{FFFF}\t\n\r\u{85}\u{FFFD}"), "a⟨U+0000⟩b⟨U+001B⟩c⟨U+FFFE⟩d⟨U+FFFF⟩\t\n\r\u{85}\u{FFFD}");
    }

    #[test]
    fn the_document_holds_the_screens_cells_the_labels_and_the_legend() {
        let pattern = Pattern::from_rows(vec![vec![1.0], vec![0.25, 0.75]]);
        let labels = vec!["<a>".to_string(), "&b".to_string()];
        let norm = Normaliser::fit(Scale::Linear, []);
        let request = MapRequest { layer: 1, head: 2, extent: 2, labels: &labels, row: Some(1), column: None, pan: None, layout: Layout::Detailed };
        let map = heatmap(&pattern, &request, &norm);
        let tiles = [Tile { map: &map, caption: "L1 H2" }, Tile { map: &map, caption: "again" }];
        let doc = document(&tiles, 2, &[norm, Normaliser::signed(0.5)]);
        assert!(doc.starts_with(r#"<svg xmlns="http://www.w3.org/2000/svg""#) && doc.ends_with("</svg>"));
        // the screen's markup for each map's 3 cells, twice, with their weights listed
        assert_eq!(doc.matches(Markup::cells(&map, "cell").as_str()).count(), 2);
        assert_eq!(doc.matches(r#"data-cells="0,0,1 1,0,0.25 1,1,0.75""#).count(), 2);
        assert!(doc.contains(">&lt;a&gt;</text>") && !doc.contains("<a>"));
        assert!(doc.contains(">L1 H2</text>") && doc.contains(">again</text>"));
        assert!(doc.contains(r##"stop-color="#440154""##) && doc.contains("colour scale: linear, 0 to 1"));
        // a legend per scale: the signed one runs from blue to red
        assert!(doc.contains(r##"url(#scale-1)"##) && doc.contains(r##"stop-color="#053061""##) && doc.contains("linear, -0.5000 to 0.5000"));
        // the second map sits right of the first
        let x = MARGIN + map.width + MARGIN;
        assert!(doc.contains(&format!(r#"<g transform="translate({x} {MARGIN})">"#)), "{doc}");
        // one highlighted row per map
        assert_eq!(doc.matches(r##"stroke="#e4572e""##).count(), 2);
    }
}
