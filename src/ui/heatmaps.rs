//! The heatmaps: one head in detail, a layer's heads side by side, one head index down the
//! layers, or every head as a thumbnail. Geometry comes from `view::heatmap`; this draws it.

use leptos::prelude::*;

use crate::capture::Capture;
use crate::view::colour::{Normaliser, Scale, format_weight, viridis};
use crate::view::heatmap::{HeatmapView, Layout, MapRequest, heatmap, weights};
use crate::view::state::Mode;
use crate::ui::state::{Ctx, ModelStatus};

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
enum Click {
    /// Cells pin their query; the map is shown alone.
    Select,
    /// Cells pin their query; the caption opens the head on its own.
    SelectOrOpen,
    /// The whole thumbnail opens the head on its own.
    Open,
}

/// One heatmap as SVG.
fn draw(map: HeatmapView, labels: &[String], selected: Option<usize>, ctx: Ctx, click: Click) -> impl IntoView + use<> {
    let (layer, head) = (map.layer, map.head);
    let cells = map
        .cells
        .iter()
        .map(|cell| {
            let query = cell.query.start;
            let description = cell.describe(labels);
            let (value, mean) = if cell.exact { (Some(cell.value.to_string()), None) } else { (None, Some(cell.value.to_string())) };
            view! {
                <rect
                    class="cell"
                    x=cell.x y=cell.y width=cell.width height=cell.height fill=cell.fill.clone()
                    data-layer=layer data-head=head data-query=query data-key=cell.key.start
                    data-value=value data-mean=mean
                    on:click=move |_| if click != Click::Open { ctx.view.update(|v| v.selected = Some(query)) }
                >
                    <title>{description}</title>
                </rect>
            }
        })
        .collect_view();
    let (ox, oy) = map.origin;
    let label = |bold: bool| if bold { "axis-label selected" } else { "axis-label" };
    let query_labels = map
        .query_labels
        .iter()
        .map(|l| view! { <text class=label(selected == Some(l.index)) x={ox - 4.0} y=l.at text-anchor="end" dominant-baseline="central" data-token-index=l.index>{l.text.clone()}</text> })
        .collect_view();
    let key_labels = map
        .key_labels
        .iter()
        .map(|l| {
            let transform = format!("translate({} {}) rotate(-60)", l.at, oy - 4.0);
            view! { <text class=label(selected == Some(l.index)) transform=transform data-token-index=l.index>{l.text.clone()}</text> }
        })
        .collect_view();
    let row = map.row.map(|b| view! { <rect class="band" x=ox y=b.at width=map.side height=b.thickness /> });
    let column = map.column.map(|b| view! { <rect class="band" x=b.at y=oy width=b.thickness height=map.side /> });
    let caption = format!("L{layer} H{head}");
    // A detailed map keeps its labels legible on a phone: below `MIN_ZOOM` it scrolls instead.
    let size = match click {
        Click::Select => format!("max-width: {}px; min-width: {}px", map.width * MAX_ZOOM, (map.width * MIN_ZOOM).min(MIN_DETAIL_WIDTH)),
        Click::SelectOrOpen | Click::Open => format!("max-width: {}px", map.width * MAX_ZOOM),
    };
    let svg = view! {
        <svg
            class="heatmap"
            tabindex=(click == Click::Select).then_some("0")
            viewBox=format!("0 0 {} {}", map.width, map.height)
            style=size
            role="img"
            aria-label=map.aria_label.clone()
            data-layer=layer
            data-head=head
            data-window=format!("{}-{}", map.window.start, map.window.end)
        >
            <rect class="frame" x=ox y=oy width=map.side height=map.side />
            {cells}
            {row}
            {column}
            {query_labels}
            {key_labels}
        </svg>
    };
    let open = move |_| {
        ctx.view.update(|v| {
            v.mode = Mode::Head;
            v.layer = layer;
            v.head = head;
        })
    };
    let open_label = format!("Open layer {layer}, head {head}");
    match click {
        Click::Select => view! { <figure class="map"><figcaption>{caption}</figcaption>{svg}</figure> }.into_any(),
        Click::SelectOrOpen => view! {
            <figure class="map">
                <figcaption><button class="open-caption" aria-label=open_label on:click=open>{caption}" ↗"</button></figcaption>
                {svg}
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
fn legend(norm: Normaliser) -> impl IntoView {
    let stops = (0..=10)
        .map(|i| {
            let t = i as f32 / 10.0;
            view! { <stop offset=format!("{}%", i * 10) stop-color=viridis(t) /> }
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
                <defs><linearGradient id="viridis">{stops}</linearGradient></defs>
                <rect x=0 y=0 width=200 height=16 fill="url(#viridis)" />
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
        Mode::Head => vec![(layer, head)],
        Mode::Block => (0..n_head).map(|h| (layer, h)).collect(),
        Mode::Layer => (0..n_layer).map(|l| (l, head)).collect(),
        Mode::Overview => (0..n_layer).flat_map(|l| (0..n_head).map(move |h| (l, h))).collect(),
    }
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

#[component]
pub fn Heatmaps(ctx: Ctx) -> impl IntoView {
    let maps = move || {
        let n = ctx.visible();
        let view_state = ctx.view.get();
        ctx.run.with(|run| {
            let Some(run) = run else { return view! { <p class="empty">"Run a prompt to see its attention."</p> }.into_any() };
            let Some(capture) = run.capture.as_ref().filter(|_| n > 0) else {
                return view! { <p class="empty">"Reading the prompt…"</p> }.into_any();
            };
            let layer = view_state.layer.min(capture.n_layer() - 1);
            let head = view_state.head.min(capture.n_head() - 1);
            let shown = heads(view_state.mode, layer, head, capture);
            let norm = Normaliser::fit(view_state.scale, shown.iter().flat_map(|&(l, h)| weights(capture, l, h, n)));
            let labels: Vec<String> = run.tokens.iter().map(|t| t.label.clone()).collect();
            let (layout, click) = match view_state.mode {
                Mode::Head => (Layout::Detailed, Click::Select),
                Mode::Block | Mode::Layer => (Layout::Thumbnail { size: PANEL_SIZE, bins: PANEL_BINS }, Click::SelectOrOpen),
                Mode::Overview => (Layout::Thumbnail { size: OVERVIEW_SIZE, bins: OVERVIEW_BINS }, Click::Open),
            };
            let selected = view_state.selected.filter(|&s| s < n);
            // While tokens stream in, lay the maps out for the run's final length.
            let context = ctx.model.with_untracked(|m| if let ModelStatus::Ready(info) = m { info.n_positions } else { usize::MAX });
            let extent = if run.running() { (run.prompt_len + run.wanted).min(context) } else { run.tokens.len() };
            let drawn = shown
                .iter()
                .map(|&(l, h)| {
                    let request = MapRequest { layer: l, head: h, n, extent, labels: &labels, row: selected, column: selected, layout };
                    draw(heatmap(capture, &request, &norm), &labels, selected, ctx, click)
                })
                .collect_view();
            let grid_style = match view_state.mode {
                Mode::Overview => format!("--columns: {}", capture.n_head()),
                _ => String::new(),
            };
            view! {
                {legend(norm)}
                <div class=format!("maps mode-{}", view_state.mode.name()) style=grid_style>{drawn}</div>
            }
            .into_any()
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
    view! {
        <section class="maps-panel" aria-label="Attention heatmaps">
            <div class="panel-head">
                <div class="tabs" role="tablist">{tabs}</div>
                <label>"Layer " {index_select(move || dims().0, move || ctx.view.with(|v| v.layer), move |i| ctx.view.update(|v| v.layer = i))}</label>
                <label>"Head " {index_select(move || dims().1, move || ctx.view.with(|v| v.head), move |i| ctx.view.update(|v| v.head = i))}</label>
                <label>"Scale "
                    <select prop:value=scale_value on:change=set_scale>
                        <option value="lin">"linear"</option>
                        <option value="log">"log"</option>
                        <option value="p99">"clip at 99th pct"</option>
                        <option value="p90">"clip at 90th pct"</option>
                    </select>
                </label>
            </div>
            <div class="maps-area">{maps}</div>
        </section>
    }
}
