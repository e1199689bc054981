//! What the page asks the views worker and what it answers: small queries (only the parts of
//! the view that shape the answer) and view models sized to what is drawn. Every answer carries
//! its query, so the page keeps the answer to what it asks now and drops a late one.

use serde::{Deserialize, Serialize};

use crate::analysis::aggregate::Source;
use crate::analysis::roles::HeadRoles;
use crate::view::colour::{Normaliser, Scale};
use crate::view::export::Markup;
use crate::view::heatmap::{DETAIL_MAX, HeatmapView};
use crate::view::lines::LineView;
use crate::view::state::{Direction, Mode, ViewState};
use crate::view::words::Units;

/// Where a capture is kept: the main run, the compare view's second prompt, or the main run read
/// again with heads switched off (the ablation panel).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Slot {
    Main,
    Compare,
    Ablated,
}

/// The parts of the view that shape a map.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Look {
    pub mode: Mode,
    pub layer: usize,
    pub head: usize,
    pub source: Source,
    pub hide_sink: bool,
    pub words: bool,
    pub scale: Scale,
    /// The pinned token and key, where they move a detailed window; else `None`, so a click
    /// elsewhere asks nothing new (the page moves the highlight by itself).
    pub selected: Option<usize>,
    pub key: Option<usize>,
    pub pan: Option<[usize; 2]>,
}

impl Look {
    /// The look of `view` with `n` positions shown. The selection stays only where it shapes the
    /// maps: a detailed window that follows it, or the line view.
    pub fn of(view: &ViewState, n: usize) -> Look {
        let window_follows = matches!(view.mode, Mode::Head | Mode::Compare) && n > DETAIL_MAX && view.pan.is_none();
        let keeps_selection = window_follows || view.mode == Mode::Lines;
        Look {
            mode: view.mode,
            layer: view.layer,
            head: view.head,
            source: view.source,
            hide_sink: view.hide_sink,
            words: view.words,
            scale: view.scale,
            selected: view.selected.filter(|_| keeps_selection),
            key: view.key.filter(|_| keeps_selection),
            pan: view.pan,
        }
    }

    /// The look of `view`'s matrix alone (layer, head, source, sink), for what reads one matrix
    /// whatever the mode: the stream's shading, the ablation panel.
    pub fn matrix(view: &ViewState) -> Look {
        let matrix = ViewState { layer: view.layer, head: view.head, source: view.source, hide_sink: view.hide_sink, ..ViewState::default() };
        Look::of(&matrix, 0)
    }
}

/// The maps of a heatmap mode over the first `n` positions of run `run`, laid out for `extent`
/// tokens (the run's final length while it streams, so maps keep their size); in the compare
/// view, beside the first positions of another run (`compare`: its id and positions).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MapsQuery {
    pub run: u32,
    pub n: usize,
    pub extent: usize,
    pub look: Look,
    pub compare: Option<(u32, usize)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Query {
    Maps(MapsQuery),
    /// The same maps as one standalone SVG document, to save as SVG or as PNG.
    Export { maps: MapsQuery, png: bool },
    /// How much each of the first `n` tokens takes part in `focus`'s attention, in the matrix
    /// the look shows.
    Shade { run: u32, n: usize, look: Look, focus: usize, direction: Direction },
    /// The line view around `focus`.
    Lines { run: u32, n: usize, look: Look, focus: Option<usize>, direction: Direction },
    /// Every head's role scores over the first `n` positions.
    Roles { run: u32, n: usize },
    /// The look's head intact and with heads off (`ablated`: the capture of that question),
    /// and the largest change per layer.
    Ablation { run: u32, ablated: u32, n: usize, look: Look },
}

impl Query {
    /// The slots and runs the answer reads, and how many positions of each.
    pub fn reads(&self) -> Vec<(Slot, u32, usize)> {
        match self {
            Query::Maps(q) | Query::Export { maps: q, .. } => {
                let mut reads = vec![(Slot::Main, q.run, q.n)];
                reads.extend(q.compare.map(|(c, n)| (Slot::Compare, c, n)));
                reads
            }
            Query::Shade { run, n, .. } | Query::Lines { run, n, .. } | Query::Roles { run, n } => vec![(Slot::Main, *run, *n)],
            Query::Ablation { run, ablated, n, .. } => vec![(Slot::Main, *run, *n), (Slot::Ablated, *ablated, *n)],
        }
    }

    /// Whether `self` makes an unanswered `older` pointless: the page keeps one question of each
    /// kind open (exports excepted, each of which is a file the reader asked for).
    pub fn replaces(&self, older: &Query) -> bool {
        !matches!(older, Query::Export { .. }) && std::mem::discriminant(self) == std::mem::discriminant(older)
    }
}

/// One drawn map: its geometry and weights (what the page reads under the pointer), its cells as
/// SVG markup, its caption, and which run it shows (`main`, `compare`, `difference`, or the
/// ablation panel's `intact`/`ablated`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MapModel {
    pub map: HeatmapView,
    pub cells: Markup,
    pub caption: String,
    pub role: String,
    /// Index of its labels in [`MapsModel::labels`].
    pub labels: usize,
}

/// Everything the maps of one view are drawn from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MapsModel {
    pub maps: Vec<MapModel>,
    /// The units' labels of each run a map shows.
    pub labels: Vec<Vec<String>>,
    /// The scales the maps are coloured by, one legend each.
    pub norms: Vec<Normaliser>,
    pub columns: usize,
    /// The main run's units, to turn a clicked cell back into tokens.
    pub units: Units,
    /// Units shown of the main run.
    pub len: usize,
    /// A note under the maps (why no difference is shown, say).
    pub note: Option<String>,
    /// The whole pattern pooled small, beside a detailed map that shows a window of it.
    pub minimap: Option<MapModel>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinesModel {
    pub layer: usize,
    pub head: usize,
    pub view: LineView,
    pub labels: Vec<String>,
    pub units: Units,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AblationModel {
    /// The intact and the ablated map of the look's head.
    pub maps: MapsModel,
    /// The largest change in any attention weight of each layer.
    pub changes: Vec<f32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Reply {
    Maps(MapsModel),
    Export { svg: String, name: String },
    Shade(Vec<Option<f32>>),
    Lines(LinesModel),
    Roles(Vec<HeadRoles>),
    Ablation(AblationModel),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_look_keeps_the_selection_only_where_it_moves_a_window() {
        let view = ViewState { selected: Some(60), key: Some(2), ..ViewState::default() };
        // a detailed map of 80 positions follows the selection; of 40 it shows them all
        assert_eq!(Look::of(&view, 80).selected, Some(60));
        assert_eq!(Look::of(&view, 40).selected, None);
        // thumbnails never move; the line view lights the focus's links
        assert_eq!(Look::of(&ViewState { mode: Mode::Block, ..view.clone() }, 80).key, None);
        assert_eq!(Look::of(&ViewState { mode: Mode::Lines, ..view.clone() }, 40).selected, Some(60));
        // a moved window stays where the reader put it
        assert_eq!(Look::of(&ViewState { pan: Some([10, 0]), ..view }, 80).selected, None);
    }

    #[test]
    fn a_newer_query_replaces_an_older_of_its_kind_but_never_an_export() {
        let maps = MapsQuery { run: 1, n: 5, extent: 5, look: Look::of(&ViewState::default(), 5), compare: None };
        let roles = |n| Query::Roles { run: 1, n };
        assert!(roles(6).replaces(&roles(5)));
        assert!(!roles(6).replaces(&Query::Maps(maps.clone())));
        assert!(Query::Maps(maps.clone()).replaces(&Query::Maps(MapsQuery { n: 4, ..maps.clone() })));
        assert!(!Query::Export { maps: maps.clone(), png: false }.replaces(&Query::Export { maps, png: true }));
        assert_eq!(Query::Ablation { run: 1, ablated: 7, n: 3, look: Look::of(&ViewState::default(), 3) }.reads(), [(Slot::Main, 1, 3), (Slot::Ablated, 7, 3)]);
    }
}
