//! One heatmap on the page, and a colour legend. The views worker sends each map's geometry and
//! its cells as SVG markup (the renderer the export uses too); the page sets the markup in one
//! go and draws over it only what follows the selection: the highlighted row and column and the
//! bold labels.

use std::rc::Rc;

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::ui::state::Ctx;
use crate::view::colour::{Normaliser, format_weight};
use crate::view::export::Markup;
use crate::view::heatmap::{Cell, HeatmapView, band_of};
use crate::view::state::{Mode, ViewStateStoreFields};
use crate::view::words::Units;
use crate::views::query::MapModel;

/// Largest scale a map is drawn at: a short prompt's map stays a sensible size.
const MAX_ZOOM: f32 = 1.6;
/// Smallest scale a detailed map is drawn at, and the width beyond which it may shrink further.
const MIN_ZOOM: f32 = 0.75;
const MIN_DETAIL_WIDTH: f32 = 640.0;

/// What a map does when clicked.
#[derive(Clone, Copy, PartialEq)]
pub enum Click {
    /// Cells pin their query/key pair; the map is shown alone.
    Select,
    /// Cells pin their pair; the caption opens the head on its own.
    SelectOrOpen,
    /// The whole thumbnail opens the head on its own.
    Open,
}

/// Where the pointer of `event` lies in the element whose listener it reached, as fractions of
/// its box (across, down); `None` for an element with no size.
pub fn pointer_at(event: &web_sys::MouseEvent) -> Option<(f64, f64)> {
    let element = event.current_target()?.dyn_into::<web_sys::Element>().ok()?;
    let rect = element.get_bounding_client_rect();
    if rect.width() <= 0.0 || rect.height() <= 0.0 {
        return None;
    }
    Some(((event.client_x() as f64 - rect.left()) / rect.width(), (event.client_y() as f64 - rect.top()) / rect.height()))
}

/// The cell of `map` under the pointer of `event`, whose listener sits on the map's SVG.
fn cell_under(map: &HeatmapView, event: &web_sys::MouseEvent) -> Option<Cell> {
    let (across, down) = pointer_at(event)?;
    map.cell_at((across * map.width as f64) as f32, (down * map.height as f64) as f32)
}

/// Cells as the views worker wrote them (`Markup` holds paths and numbers, never text), set in
/// one go: the one place the page sets markup.
pub fn cells(markup: Markup) -> impl IntoView {
    view! { <g class="cells" inner_html=markup.as_str().to_string()></g> }
}

/// One heatmap. Its cells carry no handlers or tooltips of their own: one click handler and one
/// readout per map serve them all. `labels` are the units' labels of the run it shows.
pub fn draw(model: MapModel, labels: Rc<Vec<String>>, units: &Units, ctx: Ctx, click: Click) -> impl IntoView + use<> {
    let MapModel { map, cells: markup, caption, role, .. } = model;
    let (layer, head) = (map.layer, map.head);
    let map = Rc::new(map);
    // The cell under the pointer: outlined over the map, and said below it (and to screen
    // readers). The cells are a few paths, so the map's model says which cell a point is in.
    let hovered = RwSignal::new(None::<Cell>);
    let readout = RwSignal::new(None::<String>);
    let (described, under) = (labels.clone(), map.clone());
    let on_move = move |event: web_sys::MouseEvent| {
        let cell = cell_under(&under, &event);
        if hovered.with_untracked(|h| *h != cell) {
            readout.set(cell.as_ref().map(|c| c.describe(&described)));
            hovered.set(cell);
        }
    };
    // The keyboard on a focused detailed map: up and down move the query, left and right the
    // key, within the cells drawn; the readout says the cell reached.
    let (units_keyed, keyed) = (units.clone(), map.clone());
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
        let unit = |token: Option<usize>| token.and_then(|t| units_keyed.unit_of(t));
        let at = ctx.view.with_untracked(|v| unit(v.selected).zip(unit(v.key.or(v.selected))));
        let cell = match at {
            Some((q, k)) => q.checked_add_signed(step.0).zip(k.checked_add_signed(step.1)).and_then(|(q, k)| keyed.cell_holding(q, k)),
            None => keyed.cells().next(),
        };
        let Some(cell) = cell else { return };
        readout.set(Some(cell.describe(&labels)));
        let pair = (units_keyed.first_token(cell.query.start), units_keyed.first_token(cell.key.start));
        ctx.edit(|v| v.select_pair(pair.0, pair.1));
    };
    let (units_clicked, clicked) = (units.clone(), map.clone());
    let on_click = move |event: web_sys::MouseEvent| {
        if click != Click::Open
            && let Some(cell) = cell_under(&clicked, &event)
        {
            let pair = (units_clicked.first_token(cell.query.start), units_clicked.first_token(cell.key.start));
            ctx.edit(|v| v.select_pair(pair.0, pair.1));
        }
    };
    // The highlight follows the selection by itself: a click redraws the bands and the bold
    // labels, not the map. Units: the selected token's row, and the pinned key's column (or its).
    let units_shown = units.clone();
    let highlight = Memo::new(move |_| {
        let unit = |token: Option<usize>| token.and_then(|t| units_shown.unit_of(t));
        let selected = ctx.view.selected().get();
        (unit(selected), unit(ctx.view.key().get().or(selected)))
    });
    let (ox, oy) = map.origin;
    // The selected unit's labels are bold: one effect moves the class from the labels it was on
    // to the new ones, rather than a closure per label that every click would run.
    let marks = NodeRef::<leptos::svg::Svg>::new();
    Effect::new(move |before: Option<Option<usize>>| {
        let now = highlight.get().0;
        if let Some(marks) = marks.get() {
            for index in [before.flatten(), now].into_iter().flatten() {
                let Ok(labels) = marks.query_selector_all(&format!("text.axis-label[data-token-index=\"{index}\"]")) else { continue };
                for label in (0..labels.length()).filter_map(|i| labels.item(i)?.dyn_into::<web_sys::Element>().ok()) {
                    let _ = label.class_list().toggle_with_force("selected", Some(index) == now);
                }
            }
        }
        now
    });
    let query_labels = map
        .query_labels
        .iter()
        .map(|l| {
            let index = l.index;
            view! { <text class="axis-label" x={ox - 4.0} y=l.at text-anchor="end" dominant-baseline="central" data-token-index=index>{l.text.clone()}</text> }
        })
        .collect_view();
    let key_labels = map
        .key_labels
        .iter()
        .map(|l| {
            let (index, transform) = (l.index, format!("translate({} {}) rotate(-60)", l.at, oy - 4.0));
            view! { <text class="axis-label" transform=transform data-token-index=index>{l.text.clone()}</text> }
        })
        .collect_view();
    let ([rows, columns], side) = (map.bands.clone(), map.side);
    let row = move || highlight.get().0.and_then(|q| band_of(&rows, q)).map(|b| view! { <rect class="band" x=ox y=b.at width=side height=b.thickness /> });
    let column = move || highlight.get().1.and_then(|k| band_of(&columns, k)).map(|b| view! { <rect class="band" x=b.at y=oy width=b.thickness height=side /> });
    let outline = move || hovered.get().filter(|_| click != Click::Open).map(|c| view! { <rect class="hover" x=c.x y=c.y width=c.width height=c.height /> });
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
                data-map=role.clone()
                data-units=words
                data-window=format!("{}-{}", map.window.start, map.window.end)
                data-keys=format!("{}-{}", map.keys.start, map.keys.end)
                on:mousemove=on_move
                on:mouseleave=move |_| {
                    hovered.set(None);
                    readout.set(None);
                }
                on:click=on_click
                on:keydown=move |event| if click == Click::Select { on_key(event) }
            >
                <rect class="frame" x=ox y=oy width=map.side height=map.side />
                {cells(markup)}
            </svg>
            <svg class="heatmap-marks" viewBox=view_box aria-hidden="true" data-map=role node_ref=marks>
                {row}
                {column}
                {outline}
                {query_labels}
                {key_labels}
            </svg>
        </div>
    };
    let open = move |_| {
        ctx.edit(|v| {
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
