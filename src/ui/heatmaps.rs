//! The maps panel: one head in detail, a layer's heads side by side, one head index down the
//! layers, every head as a thumbnail, the line view, the position encodings, or a comparison
//! of two prompts. Geometry comes from `crate::view`; this draws it.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::analysis::aggregate::{Source, shown};
use crate::analysis::pattern::Pattern;
use crate::capture::Capture;
use crate::ui::analysis::source_controls;
use crate::ui::compare::{CompareBar, watch_compare};
use crate::ui::export;
use crate::ui::lines::line_view;
use crate::ui::pan::pan_controls;
use crate::ui::positions::positions_view;
use crate::ui::state::{Ctx, ModelStatus, RunData};
use crate::view::colour::{Normaliser, Scale, format_weight};
use crate::view::export::{Tile, document};
use crate::view::heatmap::{DETAIL_MAX, HeatmapView, Layout, MapRequest, band_of, heatmap};
use crate::view::state::{Mode, ViewState};
use crate::view::words::Units;

/// Side of a thumbnail in the block and layer views, and in the overview, in SVG units.
const PANEL_SIZE: f32 = 240.0;
const OVERVIEW_SIZE: f32 = 96.0;
/// Most blocks per side of a thumbnail; a pattern this short or shorter is drawn exactly.
const PANEL_BINS: usize = 48;
const OVERVIEW_BINS: usize = 16;
/// Largest scale a map is drawn at: a short prompt's map stays a sensible size.
const MAX_ZOOM: f32 = 1.6;
/// Smallest scale a detailed map is drawn at, and the width beyond which it may shrink further.
const MIN_ZOOM: f32 = 0.75;
const MIN_DETAIL_WIDTH: f32 = 640.0;

/// What a map does when clicked.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Click {
    /// Cells pin their query/key pair; the map is shown alone.
    Select,
    /// Cells pin their pair; the caption opens the head on its own.
    SelectOrOpen,
    /// The whole thumbnail opens the head on its own.
    Open,
}

/// One drawn map: its geometry, caption, the labels of its rows, and which run it shows.
pub struct Shown {
    pub map: HeatmapView,
    pub caption: String,
    pub labels: Vec<String>,
    /// `main`, `compare` or `difference`: tests and styles tell the maps apart by it.
    pub role: &'static str,
}

/// Everything the maps of one view are drawn from.
pub struct MapSet {
    pub maps: Vec<Shown>,
    /// The scales the maps are coloured by, one legend each.
    pub norms: Vec<Normaliser>,
    pub columns: usize,
    /// The units of the main run, to turn a clicked cell back into tokens.
    pub units: Units,
    /// Units shown of the main run (tokens or words).
    pub len: usize,
    /// A note under the maps (why no difference is shown, say).
    pub note: Option<String>,
}

/// Where tokens are read from: the first `n` of a run, as tokens or words.
pub struct Reading<'a> {
    pub run: &'a RunData,
    pub capture: &'a Capture,
    pub units: Units,
    pub labels: Vec<String>,
    /// Units shown.
    pub len: usize,
    n: usize,
    /// Which matrix a slot shows, and whether the first-token sink is hidden.
    source: Source,
    hide_sink: bool,
}

impl<'a> Reading<'a> {
    /// `None` until the run has `n` positions (and the value norms a value-weighted view needs).
    pub fn of(run: &'a RunData, n: usize, view: &ViewState) -> Option<Reading<'a>> {
        let capture = run.capture.as_ref().filter(|c| n > 0 && n <= c.len())?;
        let (source, hide_sink, words) = (view.source, view.hide_sink, view.words);
        if source == Source::ValueWeighted {
            capture.value_norms(0, 0, n)?;
        }
        let tokens = &run.tokens[..n.min(run.tokens.len())];
        let texts: Vec<&str> = tokens.iter().map(|t| t.text.as_str()).collect();
        let units = Units::new(&texts, words);
        let labels = units.labels(&tokens.iter().map(|t| t.label.clone()).collect::<Vec<_>>());
        let len = units.count(n);
        Some(Reading { run, capture, units, labels, len, n, source, hide_sink })
    }

    /// The matrix slot `(layer, head)` shows (the head's, or an aggregate) over the units shown.
    pub fn pattern(&self, layer: usize, head: usize) -> Pattern {
        let pattern = shown(self.capture, self.source, self.hide_sink, layer, head, self.n).expect("Reading::of checked the source can be shown");
        self.units.apply(pattern)
    }

    /// A token index as a unit index, if shown.
    pub fn unit(&self, token: Option<usize>) -> Option<usize> {
        token.and_then(|t| self.units.unit_of(t)).filter(|&u| u < self.len)
    }
}

/// The cell under a pointer or click event: its `(query, key)` units, from its data attributes.
fn cell_of(event: &web_sys::Event) -> Option<(usize, usize)> {
    let cell = event.target()?.dyn_into::<web_sys::Element>().ok()?.closest("rect.cell").ok()??;
    let unit = |name: &str| cell.get_attribute(name)?.parse().ok();
    Some((unit("data-query")?, unit("data-key")?))
}

/// One heatmap as SVG. The cells carry no handlers or tooltips of their own: one click handler
/// and one readout per map serve them all, so a map of 48 x 48 cells is quick to redraw.
pub(crate) fn draw(shown: Shown, units: &Units, ctx: Ctx, click: Click) -> impl IntoView + use<> {
    let Shown { mut map, caption, labels, role } = shown;
    let (layer, head) = (map.layer, map.head);
    let cells = map
        .cells
        .iter()
        .map(|cell| {
            let (value, mean) = if cell.exact { (Some(cell.value.to_string()), None) } else { (None, Some(cell.value.to_string())) };
            view! {
                <rect
                    class="cell"
                    x=cell.x y=cell.y width=cell.width height=cell.height fill=cell.fill.clone()
                    data-layer=layer data-head=head data-query=cell.query.start data-key=cell.key.start
                    data-value=value data-mean=mean
                />
            }
        })
        .collect_view();
    // What the cell under the pointer holds, said below the map (and to screen readers); put
    // in words only for the cell hovered.
    let readout = RwSignal::new(None::<String>);
    let hovered = std::rc::Rc::new((std::mem::take(&mut map.cells), labels));
    let keyed = hovered.clone();
    let on_over = move |event: web_sys::MouseEvent| {
        let (cells, labels) = &*hovered;
        let text = cell_of(&event).and_then(|(q, k)| cells.iter().find(|c| (c.query.start, c.key.start) == (q, k))).map(|c| c.describe(labels));
        readout.set(text);
    };
    // The keyboard on a focused detailed map: up and down move the query, left and right the
    // key, within the cells drawn; the readout says the cell reached.
    let units_keyed = units.clone();
    let on_key = move |event: web_sys::KeyboardEvent| {
        let step = match event.key().as_str() {
            "ArrowUp" => (-1, 0),
            "ArrowDown" => (1, 0),
            "ArrowLeft" => (0, -1),
            "ArrowRight" => (0, 1),
            _ => return,
        };
        // the arrows are the map's while it has focus: at its edge they do nothing
        event.prevent_default();
        event.stop_propagation();
        let (cells, labels) = &*keyed;
        let unit = |token: Option<usize>| token.and_then(|t| units_keyed.unit_of(t));
        let at = ctx.view.with_untracked(|v| unit(v.selected).zip(unit(v.key.or(v.selected))));
        let target = match at {
            Some((q, k)) => q.checked_add_signed(step.0).zip(k.checked_add_signed(step.1)),
            None => cells.first().map(|c| (c.query.start, c.key.start)),
        };
        let Some(cell) = target.and_then(|(q, k)| cells.iter().find(|c| c.query.contains(&q) && c.key.contains(&k))) else { return };
        readout.set(Some(cell.describe(labels)));
        let pair = (units_keyed.first_token(cell.query.start), units_keyed.first_token(cell.key.start));
        ctx.view.update(|v| v.select_pair(pair.0, pair.1));
    };
    let units_clicked = units.clone();
    let on_click = move |event: web_sys::MouseEvent| {
        if click != Click::Open
            && let Some((query, key)) = cell_of(&event)
        {
            let pair = (units_clicked.first_token(query), units_clicked.first_token(key));
            ctx.view.update(|v| v.select_pair(pair.0, pair.1));
        }
    };
    // The highlight follows the selection by itself: a click redraws the bands and the bold
    // labels, not the map. Units: the selected token's row, and the pinned key's column (or its).
    let units_shown = units.clone();
    let highlight = Memo::new(move |_| {
        ctx.view.with(|v| {
            let unit = |token: Option<usize>| token.and_then(|t| units_shown.unit_of(t));
            (unit(v.selected), unit(v.key.or(v.selected)))
        })
    });
    let (ox, oy) = map.origin;
    let label = move |index: usize| if highlight.get().0 == Some(index) { "axis-label selected" } else { "axis-label" };
    let query_labels = map
        .query_labels
        .iter()
        .map(|l| {
            let index = l.index;
            view! { <text class=move || label(index) x={ox - 4.0} y=l.at text-anchor="end" dominant-baseline="central" data-token-index=index>{l.text.clone()}</text> }
        })
        .collect_view();
    let key_labels = map
        .key_labels
        .iter()
        .map(|l| {
            let (index, transform) = (l.index, format!("translate({} {}) rotate(-60)", l.at, oy - 4.0));
            view! { <text class=move || label(index) transform=transform data-token-index=index>{l.text.clone()}</text> }
        })
        .collect_view();
    let ([rows, columns], side) = (map.bands.clone(), map.side);
    let row = move || highlight.get().0.and_then(|q| band_of(&rows, q)).map(|b| view! { <rect class="band" x=ox y=b.at width=side height=b.thickness /> });
    let column = move || highlight.get().1.and_then(|k| band_of(&columns, k)).map(|b| view! { <rect class="band" x=b.at y=oy width=b.thickness height=side /> });
    // A detailed map keeps its labels legible on a phone: below `MIN_ZOOM` it scrolls instead.
    let size = match click {
        Click::Select => format!("max-width: {}px; min-width: {}px", map.width * MAX_ZOOM, (map.width * MIN_ZOOM).min(MIN_DETAIL_WIDTH)),
        Click::SelectOrOpen | Click::Open => format!("max-width: {}px", map.width * MAX_ZOOM),
    };
    let words = matches!(units, Units::Words(_)).then_some("words");
    // The marks that follow the selection (bands, bold labels) lie in an SVG of their own over
    // the cells: changing anything inside an SVG makes the browser paint all of it again, and
    // the cells are most of the work.
    let view_box = format!("0 0 {} {}", map.width, map.height);
    let svg = view! {
        <div class="heatmap-stack" style=size>
            <svg
                class="heatmap"
                tabindex=(click == Click::Select).then_some("0")
                viewBox=view_box.clone()
                role="img"
                aria-label=map.aria_label.clone()
                data-layer=layer
                data-head=head
                data-map=role
                data-units=words
                data-window=format!("{}-{}", map.window.start, map.window.end)
                data-keys=format!("{}-{}", map.keys.start, map.keys.end)
                on:mouseover=on_over
                on:mouseleave=move |_| readout.set(None)
                on:click=on_click
                on:keydown=move |event| if click == Click::Select { on_key(event) }
            >
                <rect class="frame" x=ox y=oy width=map.side height=map.side />
                {cells}
            </svg>
            <svg class="heatmap-marks" viewBox=view_box aria-hidden="true" data-map=role>
                {row}
                {column}
                {query_labels}
                {key_labels}
            </svg>
        </div>
    };
    let open = move |_| {
        ctx.view.update(|v| {
            v.mode = Mode::Head;
            v.layer = layer;
            v.head = head;
        })
    };
    // The visible caption begins the accessible name, so speech input finds the button by it.
    let open_label = format!("{caption}: open layer {layer}, head {head}");
    let readout = view! { <p class="readout" aria-live="polite">{move || readout.get().unwrap_or_else(|| "\u{a0}".into())}</p> };
    match click {
        Click::Select => view! { <figure class="map"><figcaption>{caption}</figcaption>{svg}{readout}</figure> }.into_any(),
        Click::SelectOrOpen => view! {
            <figure class="map">
                <figcaption><button class="open-caption" aria-label=open_label on:click=open>{caption}" ↗"</button></figcaption>
                {svg}
                {readout}
            </figure>
        }
        .into_any(),
        Click::Open => view! {
            <figure class="map">
                <button class="open-map" aria-label=open_label on:click=open>
                    <span class="caption">{caption}</span>
                    {svg}
                </button>
            </figure>
        }
        .into_any(),
    }
}

/// The colour legend: the gradient, its ends' weights, and the scale in words.
pub fn legend(norm: Normaliser, id: &'static str) -> impl IntoView {
    let stops = (0..=10)
        .map(|i| {
            let t = i as f32 / 10.0;
            view! { <stop offset=format!("{}%", i * 10) stop-color=norm.palette.colour(t) /> }
        })
        .collect_view();
    let ticks = [0.0f32, 0.5, 1.0]
        .into_iter()
        .map(|t| {
            let anchor = if t == 0.0 { "start" } else if t == 1.0 { "end" } else { "middle" };
            view! { <text x={t * 200.0} y=30 text-anchor=anchor class="tick">{format_weight(norm.weight_at(t))}</text> }
        })
        .collect_view();
    view! {
        <div class="legend">
            <svg viewBox="0 0 200 34" role="img" aria-label=format!("Colour scale: {}", norm.describe())>
                <defs><linearGradient id=id>{stops}</linearGradient></defs>
                <rect x=0 y=0 width=200 height=16 fill=format!("url(#{id})") />
                {ticks}
            </svg>
            <span>{norm.describe()}</span>
        </div>
    }
}

/// The heads a mode shows: (layer, head) pairs.
fn heads(mode: Mode, layer: usize, head: usize, capture: &Capture) -> Vec<(usize, usize)> {
    let (n_layer, n_head) = (capture.n_layer(), capture.n_head());
    match mode {
        Mode::Block => (0..n_head).map(|h| (layer, h)).collect(),
        Mode::Layer => (0..n_layer).map(|l| (l, head)).collect(),
        Mode::Overview => (0..n_layer).flat_map(|l| (0..n_head).map(move |h| (l, h))).collect(),
        Mode::Head | Mode::Lines | Mode::Positions | Mode::Compare => vec![(layer, head)],
    }
}

/// Positions the maps are laid out for: while tokens stream in, the run's final length, so the
/// maps keep their size.
fn extent(ctx: Ctx, reading: &Reading) -> usize {
    let run = reading.run;
    if matches!(reading.units, Units::Words(_)) {
        return reading.len;
    }
    let context = ctx.model.with_untracked(|m| if let ModelStatus::Ready(info) = m { info.n_positions } else { usize::MAX });
    if run.running() { (run.prompt_len + run.wanted).min(context) } else { run.tokens.len() }
}

/// The maps of a heatmap mode (head, block, layer, overview, compare) for `view`.
pub fn map_set(ctx: Ctx, view: &ViewState, run: &RunData, n: usize) -> Result<MapSet, &'static str> {
    let main = Reading::of(run, n, view).ok_or("Reading the prompt…")?;
    let layer = view.layer.min(main.capture.n_layer() - 1);
    let head = view.head.min(main.capture.n_head() - 1);
    let (row, column) = (main.unit(view.selected), main.unit(view.key.or(view.selected)));
    let (layout, pan) = match view.mode {
        Mode::Block | Mode::Layer => (Layout::Thumbnail { size: PANEL_SIZE, bins: PANEL_BINS }, None),
        Mode::Overview => (Layout::Thumbnail { size: OVERVIEW_SIZE, bins: OVERVIEW_BINS }, None),
        _ => (Layout::Detailed, view.pan),
    };
    let map_of = |labels: &[String], (layer, head): (usize, usize), extent: usize, pattern: &Pattern, norm: &Normaliser| {
        heatmap(pattern, &MapRequest { layer, head, extent, labels, row, column, pan, layout }, norm)
    };
    if view.mode == Mode::Compare {
        let compared = ctx.compare.with_untracked(|c| c.clone());
        let other = compared.as_ref().and_then(|c| Reading::of(c, c.tokens.len(), view));
        let a = main.pattern(layer, head);
        let b = other.as_ref().map(|o| o.pattern(layer, head));
        let norm = Normaliser::fit(view.scale, a.weights().chain(b.iter().flat_map(Pattern::weights)));
        let extent_a = main.len.max(other.as_ref().map_or(0, |o| o.len));
        let mut maps = vec![Shown { map: map_of(&main.labels, (layer, head), extent_a, &a, &norm), caption: format!("This run · {}", view.source.caption(layer, head)), labels: main.labels.clone(), role: "main" }];
        let mut norms = vec![norm];
        let mut note = other.is_none().then(|| {
            if view.compare.is_empty() { "Type a second prompt above to read it at the same layer and head." } else { "Reading the compared prompt…" }.to_string()
        });
        if let (Some(other), Some(b)) = (&other, &b) {
            maps.push(Shown { map: map_of(&other.labels, (layer, head), extent_a, b, &norm), caption: format!("Compared · {}", view.source.caption(layer, head)), labels: other.labels.clone(), role: "compare" });
            if other.len == main.len {
                let difference = a.map(|q, k, w| w - b.get(q, k));
                let signed = Normaliser::signed(difference.weights().fold(0.0f32, |m, w| m.max(w.abs())));
                let labels: Vec<String> = main.labels.iter().zip(&other.labels).map(|(x, y)| if x == y { x.clone() } else { format!("{x}|{y}") }).collect();
                let map = map_of(&labels, (layer, head), extent_a, &difference, &signed);
                maps.push(Shown { map, caption: "This run − compared".into(), labels, role: "difference" });
                norms.push(signed);
            } else {
                note = Some(format!("No difference map: this run shows {} units and the compared prompt {}; they line up only at equal lengths.", main.len, other.len));
            }
        }
        return Ok(MapSet { columns: maps.len(), maps, norms, units: main.units, len: main.len, note });
    }
    let mut shown = heads(view.mode, layer, head, main.capture);
    // Heads that share a matrix (a layer's mean, say) show it once.
    shown.dedup_by_key(|&mut (l, h)| view.source.key(l, h));
    let patterns: Vec<Pattern> = shown.iter().map(|&(l, h)| main.pattern(l, h)).collect();
    let norm = Normaliser::fit(view.scale, patterns.iter().flat_map(Pattern::weights));
    let extent = extent(ctx, &main);
    let maps = shown
        .iter()
        .zip(&patterns)
        .map(|(&(l, h), pattern)| Shown { map: map_of(&main.labels, (l, h), extent, pattern, &norm), caption: view.source.caption(l, h), labels: main.labels.clone(), role: "main" })
        .collect();
    let columns = match view.mode {
        Mode::Overview => main.capture.n_head(),
        Mode::Block | Mode::Layer => 4,
        _ => 1,
    };
    Ok(MapSet { maps, norms: vec![norm], columns, units: main.units, len: main.len, note: None })
}

/// The maps of a heatmap mode, drawn.
fn heatmap_maps(ctx: Ctx, view: &ViewState, run: &RunData, n: usize) -> AnyView {
    let set = match map_set(ctx, view, run, n) {
        Ok(set) => set,
        Err(why) => return view! { <p class="empty">{why}</p> }.into_any(),
    };
    let click = match view.mode {
        Mode::Block | Mode::Layer => Click::SelectOrOpen,
        Mode::Overview => Click::Open,
        _ => Click::Select,
    };
    let legends = set.norms.iter().zip(["scale-main", "scale-difference"]).map(|(&norm, id)| legend(norm, id)).collect_view();
    let pan = (view.mode == Mode::Head && set.len > DETAIL_MAX).then(|| pan_controls(ctx, run, n, view, &set.maps[0].map));
    let drawn = set.maps.into_iter().map(|shown| draw(shown, &set.units, ctx, click)).collect_view();
    let grid_style = match view.mode {
        Mode::Overview => format!("--columns: {}", set.columns),
        _ => String::new(),
    };
    view! {
        <div class="legends">{legends}</div>
        {pan}
        <div class=format!("maps mode-{}", view.mode.name()) style=grid_style>{drawn}</div>
        {set.note.map(|note| view! { <p class="hint">{note}</p> })}
    }
    .into_any()
}

/// Saves what the panel shows: `svg` or `png` of the maps, `json` of the capture.
fn export_maps(ctx: Ctx, format: &str) {
    if format == "json" {
        return ctx.export_json();
    }
    let view = ctx.view.get_untracked();
    let set = ctx.run.with_untracked(|run| {
        let run = run.as_ref()?;
        map_set(ctx, &view, run, view.visible(run.prompt_len, run.tokens.len())).ok()
    });
    let Some(set) = set else { return };
    let tiles: Vec<Tile> = set.maps.iter().map(|s| Tile { map: &s.map, caption: &s.caption, labels: &s.labels }).collect();
    let columns = if view.mode == Mode::Head { 1 } else { set.columns };
    let svg = document(&tiles, columns, &set.norms);
    let name = format!("headlight-{}-L{}-H{}", view.mode.name(), view.layer, view.head);
    if format == "png" {
        let (width, height) = svg_size(&svg);
        export::save_png(&format!("{name}.png"), &svg, width, height, ctx.notice);
    } else {
        export::save(&format!("{name}.svg"), "image/svg+xml", &svg, ctx.notice);
    }
}

/// The `width` and `height` written on a document's root element.
fn svg_size(svg: &str) -> (f32, f32) {
    let attribute = |name: &str| {
        let start = svg.find(&format!(" {name}=\""))? + name.len() + 3;
        svg[start..].split('"').next()?.parse().ok()
    };
    (attribute("width").unwrap_or(800.0), attribute("height").unwrap_or(600.0))
}

/// A drop-down of the indices `0..count()`.
fn index_select(count: impl Fn() -> usize + Copy + Send + Sync + 'static, value: impl Fn() -> usize + Copy + Send + Sync + 'static, pick: impl Fn(usize) + Copy + 'static) -> impl IntoView {
    view! {
        <select on:change=move |ev| {
            if let Ok(i) = event_target_value(&ev).parse() {
                pick(i);
            }
        }>
            {move || (0..count()).map(|i| view! { <option value=i.to_string() selected=move || value() == i>{i}</option> }).collect_view()}
        </select>
    }
}

/// The view the maps are drawn from. The selection stays in it only where it shapes the maps:
/// a detailed window that follows it, or the line view. Elsewhere a click moves the highlight
/// alone ([`draw`]), and the maps are not drawn again.
fn drawn_view(view: &ViewState, n: usize) -> ViewState {
    let window_follows = matches!(view.mode, Mode::Head | Mode::Compare) && n > DETAIL_MAX && view.pan.is_none();
    if window_follows || view.mode == Mode::Lines {
        view.clone()
    } else {
        ViewState { selected: None, key: None, ..view.clone() }
    }
}

#[component]
pub fn Heatmaps(ctx: Ctx) -> impl IntoView {
    watch_compare(ctx);
    let drawn = Memo::new(move |_| {
        let n = ctx.visible();
        ctx.view.with(|v| drawn_view(v, n))
    });
    let maps = move || {
        let n = ctx.visible();
        let view_state = drawn.get();
        if view_state.mode == Mode::Positions {
            return positions_view(ctx).into_any();
        }
        ctx.run.with(|run| {
            let Some(run) = run else { return view! { <p class="empty">"Run a prompt to see its attention."</p> }.into_any() };
            match view_state.mode {
                Mode::Lines => line_view(ctx, &view_state, run, n),
                Mode::Compare => {
                    ctx.compare.track();
                    heatmap_maps(ctx, &view_state, run, n)
                }
                _ => heatmap_maps(ctx, &view_state, run, n),
            }
        })
    };
    let scale_value = move || match ctx.view.with(|v| v.scale) {
        Scale::Linear => "lin".to_string(),
        Scale::Log => "log".to_string(),
        Scale::Clipped { percentile } => format!("p{percentile}"),
    };
    let set_scale = move |ev| {
        let scale = match event_target_value(&ev).as_str() {
            "log" => Scale::Log,
            "p99" => Scale::Clipped { percentile: 99 },
            "p90" => Scale::Clipped { percentile: 90 },
            _ => Scale::Linear,
        };
        ctx.view.update(|v| v.scale = scale);
    };
    let dims = move || ctx.model.with(|m| match m {
        ModelStatus::Ready(info) => (info.n_layer, info.n_head),
        _ => (1, 1),
    });
    let tabs = Mode::ALL
        .into_iter()
        .map(|mode| {
            view! {
                <button
                    role="tab"
                    class="tab"
                    data-mode=mode.name()
                    aria-selected=move || if ctx.view.with(|v| v.mode) == mode { "true" } else { "false" }
                    on:click=move |_| ctx.view.update(|v| v.mode = mode)
                >
                    {mode.title()}
                </button>
            }
        })
        .collect_view();
    let drawing = move || ctx.view.with(|v| matches!(v.mode, Mode::Lines | Mode::Positions));
    view! {
        <section class="maps-panel" aria-label="Attention heatmaps">
            <div class="panel-head">
                <div class="tabs" role="tablist">{tabs}</div>
            </div>
            <div class="panel-head">
                <label>"Layer " {index_select(move || dims().0, move || ctx.view.with(|v| v.layer), move |i| ctx.view.update(|v| v.layer = i))}</label>
                <label>"Head " {index_select(move || dims().1, move || ctx.view.with(|v| v.head), move |i| ctx.view.update(|v| v.head = i))}</label>
                {source_controls(ctx)}
                <label>"Scale "
                    <select prop:value=scale_value on:change=set_scale>
                        <option value="lin">"linear"</option>
                        <option value="log">"log"</option>
                        <option value="p99">"clip at 99th pct"</option>
                        <option value="p90">"clip at 90th pct"</option>
                    </select>
                </label>
                <label class="check">
                    <input type="checkbox" id="word-view" prop:checked=move || ctx.view.with(|v| v.words) on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        ctx.view.update(|v| v.words = on);
                    } />
                    " Words"
                </label>
                <span class="export" role="group" aria-label="Export">
                    "Export "
                    <button id="export-svg" prop:disabled=drawing title="The maps shown, as SVG" on:click=move |_| export_maps(ctx, "svg")>"SVG"</button>
                    <button id="export-png" prop:disabled=drawing title="The maps shown, as PNG" on:click=move |_| export_maps(ctx, "png")>"PNG"</button>
                    <button id="export-json" title="The capture, in the CLI's inspect --json schema" on:click=move |_| export_maps(ctx, "json")>"JSON"</button>
                </span>
            </div>
            <CompareBar ctx />
            <div class="maps-area">{maps}</div>
        </section>
    }
}
