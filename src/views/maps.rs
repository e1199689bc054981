//! The view models of the maps, the line view and the ablation panel, computed from recorded
//! runs: which heads a mode shows, over which units, on which scale, laid out by `crate::view`.

use crate::analysis::aggregate::Source;
use crate::analysis::pattern::Pattern;
use crate::views::query::{AblationModel, LinesModel, Look, MapModel, MapsModel, MapsQuery, Slot};
use crate::views::recorded::{Patterns, Recorded};
use crate::view::colour::Normaliser;
use crate::view::export::{Markup, Tile, document};
use crate::view::heatmap::{DETAIL_MAX, HeatmapView, Layout, MapRequest, heatmap, window};
use crate::view::lines::lines as line_view;
use crate::view::state::{Direction, Mode};
use crate::view::words::Units;

/// Side of a thumbnail in the block and layer views, and in the overview, in SVG units.
const PANEL_SIZE: f32 = 240.0;
const OVERVIEW_SIZE: f32 = 96.0;
/// Most blocks per side of a thumbnail; a pattern this short or shorter is drawn exactly.
const PANEL_BINS: usize = 48;
const OVERVIEW_BINS: usize = 16;
/// The minimap beside a detailed window of a long pattern.
const MINIMAP_SIZE: f32 = 160.0;
const MINIMAP_BINS: usize = 48;
/// The ablation panel's two maps, side by side.
const ABLATION_SIZE: f32 = 260.0;
const ABLATION_BINS: usize = 48;
/// Why a look cannot be drawn: its source weights by value norms the run did not record.
const NO_NORMS: &str = "This run has no value norms to weight by.";

/// Where tokens are read from: the first `n` positions of a recorded run, as tokens or words.
struct Reading<'a> {
    slot: Slot,
    recorded: &'a Recorded,
    units: Units,
    labels: Vec<String>,
    /// Units shown.
    len: usize,
    n: usize,
}

impl<'a> Reading<'a> {
    /// `None` when the run lacks what the look's source needs (value norms).
    fn of(slot: Slot, recorded: &'a Recorded, n: usize, look: &Look) -> Option<Reading<'a>> {
        let n = n.min(recorded.capture.len()).min(recorded.tokens.len());
        if n == 0 || (look.source == Source::ValueWeighted && recorded.capture.value_norms(0, 0, n).is_none()) {
            return None;
        }
        let tokens = &recorded.tokens[..n];
        let texts: Vec<&str> = tokens.iter().map(|t| t.text.as_str()).collect();
        let units = Units::new(&texts, look.words);
        let labels = units.labels(&tokens.iter().map(|t| t.label.clone()).collect::<Vec<_>>());
        let len = units.count(n);
        Some(Reading { slot, recorded, units, labels, len, n })
    }

    /// The matrix the look shows for `(layer, head)`, over the units shown.
    fn pattern(&self, patterns: &mut Patterns, look: &Look, at: (usize, usize)) -> Pattern {
        let pattern = patterns.shown(self.slot, self.recorded, look.source, look.hide_sink, at, self.n).expect("Reading::of checked the source can be shown");
        self.units.apply(std::rc::Rc::unwrap_or_clone(pattern))
    }

    /// A token index as a unit index, if shown.
    fn unit(&self, token: Option<usize>) -> Option<usize> {
        token.and_then(|t| self.units.unit_of(t)).filter(|&u| u < self.len)
    }
}

/// The look's layer and head, within the model's.
pub fn head_of(recorded: &Recorded, look: &Look) -> (usize, usize) {
    (look.layer.min(recorded.capture.n_layer() - 1), look.head.min(recorded.capture.n_head() - 1))
}

/// The heads a mode shows: (layer, head) pairs.
fn heads(mode: Mode, (layer, head): (usize, usize), recorded: &Recorded) -> Vec<(usize, usize)> {
    let (n_layer, n_head) = (recorded.capture.n_layer(), recorded.capture.n_head());
    match mode {
        Mode::Block => (0..n_head).map(|h| (layer, h)).collect(),
        Mode::Layer => (0..n_layer).map(|l| (l, head)).collect(),
        Mode::Overview => (0..n_layer).flat_map(|l| (0..n_head).map(move |h| (l, h))).collect(),
        Mode::Head | Mode::Lines | Mode::Positions | Mode::Compare => vec![(layer, head)],
    }
}

/// One map with its cells, before it is sent (cells as markup) or exported (one document).
struct Drawn {
    map: HeatmapView,
    caption: String,
    role: &'static str,
    labels: usize,
}

/// The maps of one look, with their cells.
pub struct MapSet {
    maps: Vec<Drawn>,
    labels: Vec<Vec<String>>,
    norms: Vec<Normaliser>,
    columns: usize,
    units: Units,
    len: usize,
    note: Option<String>,
    minimap: Option<Drawn>,
}

fn model(drawn: Drawn) -> MapModel {
    let markup = Markup::cells(&drawn.map, if drawn.role == "minimap" { "block" } else { "cell" });
    MapModel { map: drawn.map, cells: markup, caption: drawn.caption, role: drawn.role.into(), labels: drawn.labels }
}

impl MapSet {
    /// What the page draws: each map's cells as markup.
    pub fn model(self) -> MapsModel {
        let maps = self.maps.into_iter().map(model).collect();
        MapsModel { maps, labels: self.labels, norms: self.norms, columns: self.columns, units: self.units, len: self.len, note: self.note, minimap: self.minimap.map(model) }
    }

    /// The maps as one standalone SVG document (one column for a single head in detail).
    pub fn document(&self, mode: Mode) -> String {
        let tiles: Vec<Tile> = self.maps.iter().map(|d| Tile { map: &d.map, caption: &d.caption }).collect();
        document(&tiles, if mode == Mode::Head { 1 } else { self.columns }, &self.norms)
    }
}

/// The file name an export of `look` is saved under (without its extension).
pub fn export_name(look: &Look) -> String {
    format!("headlight-{}-L{}-H{}", look.mode.name(), look.layer, look.head)
}

/// The maps of a heatmap mode (head, block, layer, overview, compare) for `query`.
pub fn maps(main: &Recorded, compare: Option<&Recorded>, patterns: &mut Patterns, query: &MapsQuery) -> Result<MapSet, String> {
    let look = &query.look;
    let reading = Reading::of(Slot::Main, main, query.n, look).ok_or(NO_NORMS)?;
    let (layer, head) = head_of(main, look);
    let (row, column) = (reading.unit(look.selected), reading.unit(look.key.or(look.selected)));
    let (layout, pan) = match look.mode {
        Mode::Block | Mode::Layer => (Layout::Thumbnail { size: PANEL_SIZE, bins: PANEL_BINS }, None),
        Mode::Overview => (Layout::Thumbnail { size: OVERVIEW_SIZE, bins: OVERVIEW_BINS }, None),
        _ => (Layout::Detailed, look.pan),
    };
    let map_of = |labels: &[String], (layer, head): (usize, usize), extent: usize, pattern: &Pattern, norm: &Normaliser| {
        heatmap(pattern, &MapRequest { layer, head, extent, labels, row, column, pan, layout }, norm)
    };
    // While the run streams, maps are laid out for its final length, so they keep their size.
    let extent = if look.words { reading.len } else { query.extent };
    if look.mode == Mode::Compare {
        let other = compare.zip(query.compare).and_then(|(c, (_, n))| Reading::of(Slot::Compare, c, n, look));
        let a = reading.pattern(patterns, look, (layer, head));
        let b = other.as_ref().map(|o| o.pattern(patterns, look, (layer, head)));
        let norm = Normaliser::fit(look.scale, a.weights().chain(b.iter().flat_map(Pattern::weights)));
        let extent = reading.len.max(other.as_ref().map_or(0, |o| o.len));
        let caption = look.source.caption(layer, head);
        let mut maps = vec![Drawn { map: map_of(&reading.labels, (layer, head), extent, &a, &norm), caption: format!("This run · {caption}"), role: "main", labels: 0 }];
        let mut labels = vec![reading.labels.clone()];
        let mut norms = vec![norm];
        let mut note = other.is_none().then(|| if query.compare.is_none() { "Type a second prompt above to read it at the same layer and head." } else { "Reading the compared prompt…" }.to_string());
        if let (Some(other), Some(b)) = (&other, &b) {
            maps.push(Drawn { map: map_of(&other.labels, (layer, head), extent, b, &norm), caption: format!("Compared · {caption}"), role: "compare", labels: 1 });
            labels.push(other.labels.clone());
            if other.len == reading.len {
                let difference = a.map(|q, k, w| w - b.get(q, k));
                let signed = Normaliser::signed(difference.weights().fold(0.0f32, |m, w| m.max(w.abs())));
                let both: Vec<String> = reading.labels.iter().zip(&other.labels).map(|(x, y)| if x == y { x.clone() } else { format!("{x}|{y}") }).collect();
                maps.push(Drawn { map: map_of(&both, (layer, head), extent, &difference, &signed), caption: "This run − compared".into(), role: "difference", labels: 2 });
                labels.push(both);
                norms.push(signed);
            } else {
                note = Some(format!("No difference map: this run shows {} units and the compared prompt {}; they line up only at equal lengths.", reading.len, other.len));
            }
        }
        let columns = maps.len();
        return Ok(MapSet { maps, labels, norms, columns, units: reading.units, len: reading.len, note, minimap: None });
    }
    let mut shown = heads(look.mode, (layer, head), main);
    // Heads that share a matrix (a layer's mean, say) show it once.
    shown.dedup_by_key(|&mut (l, h)| look.source.key(l, h));
    let matrices: Vec<Pattern> = shown.iter().map(|&at| reading.pattern(patterns, look, at)).collect();
    let norm = Normaliser::fit(look.scale, matrices.iter().flat_map(Pattern::weights));
    let maps: Vec<Drawn> = shown
        .iter()
        .zip(&matrices)
        .map(|(&(l, h), pattern)| Drawn { map: map_of(&reading.labels, (l, h), extent, pattern, &norm), caption: look.source.caption(l, h), role: "main", labels: 0 })
        .collect();
    let minimap = (look.mode == Mode::Head && reading.len > DETAIL_MAX).then(|| {
        let request = MapRequest { layer, head, extent: reading.len, labels: &[], row: None, column: None, pan: None, layout: Layout::Thumbnail { size: MINIMAP_SIZE, bins: MINIMAP_BINS } };
        Drawn { map: heatmap(&matrices[0], &request, &norm), caption: String::new(), role: "minimap", labels: 0 }
    });
    let columns = match look.mode {
        Mode::Overview => main.capture.n_head(),
        Mode::Block | Mode::Layer => 4,
        _ => 1,
    };
    Ok(MapSet { maps, labels: vec![reading.labels], norms: vec![norm], columns, units: reading.units, len: reading.len, note: None, minimap })
}

/// The line view of the look's head around `focus` (a token).
pub fn lines(main: &Recorded, patterns: &mut Patterns, n: usize, look: &Look, focus: Option<usize>, direction: Direction) -> Result<LinesModel, String> {
    let reading = Reading::of(Slot::Main, main, n, look).ok_or(NO_NORMS)?;
    let (layer, head) = head_of(main, look);
    let focus = reading.unit(focus);
    let shown = window(reading.len, focus, look.pan.map(|p| p[0]));
    let pattern = reading.pattern(patterns, look, (layer, head));
    let view = line_view(&pattern, &reading.labels, shown, focus, direction);
    Ok(LinesModel { layer, head, view, labels: reading.labels, units: reading.units })
}

/// The largest change in any attention weight of each layer between two runs of the same ids.
fn largest_changes(a: &Recorded, b: &Recorded, n: usize) -> Vec<f32> {
    let (n_layer, n_head) = (a.capture.n_layer(), a.capture.n_head());
    (0..n_layer)
        .map(|l| {
            (0..n_head)
                .flat_map(|h| {
                    let (x, y) = (Pattern::of_head(&a.capture, l, h, n), Pattern::of_head(&b.capture, l, h, n));
                    x.weights().zip(y.weights()).map(|(x, y)| (x - y).abs()).collect::<Vec<_>>()
                })
                .fold(0.0, f32::max)
        })
        .collect()
}

/// The look's head intact and with heads off, side by side on one scale, and the largest change
/// per layer.
pub fn ablation(main: &Recorded, ablated: &Recorded, patterns: &mut Patterns, n: usize, look: &Look) -> Result<AblationModel, String> {
    let look = Look { words: false, ..look.clone() };
    let (intact, off) = (Reading::of(Slot::Main, main, n, &look), Reading::of(Slot::Ablated, ablated, n, &look));
    let (Some(intact), Some(off)) = (intact, off) else { return Err(NO_NORMS.into()) };
    let at = head_of(main, &look);
    let (a, b) = (intact.pattern(patterns, &look, at), off.pattern(patterns, &look, at));
    let norm = Normaliser::fit(look.scale, a.weights().chain(b.weights()));
    let request = MapRequest { layer: at.0, head: at.1, extent: n, labels: &intact.labels, row: None, column: None, pan: None, layout: Layout::Thumbnail { size: ABLATION_SIZE, bins: ABLATION_BINS } };
    let caption = look.source.caption(at.0, at.1);
    let maps = vec![
        Drawn { map: heatmap(&a, &request, &norm), caption: format!("Intact · {caption}"), role: "intact", labels: 0 },
        Drawn { map: heatmap(&b, &request, &norm), caption: format!("Heads off · {caption}"), role: "ablated", labels: 0 },
    ];
    let set = MapSet { maps, labels: vec![intact.labels], norms: vec![norm], columns: 2, units: Units::Tokens, len: n, note: None, minimap: None };
    Ok(AblationModel { maps: set.model(), changes: largest_changes(main, ablated, n) })
}
