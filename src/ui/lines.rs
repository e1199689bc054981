//! The line view (bertviz's head view): queries left, keys right, a line for each link weighted
//! by attention. Hovering a token shows only its links; clicking pins it. Geometry comes from
//! `view::lines`.

use leptos::prelude::*;

use crate::ui::heatmaps::Reading;
use crate::ui::state::{Ctx, RunData};
use crate::view::heatmap::window;
use crate::view::lines::{LineView, Node, lines};
use crate::view::state::ViewState;

/// Longest drawn width of the line view, in pixels: a short prompt stays compact.
const MAX_WIDTH: f32 = 560.0;

fn nodes(ctx: Ctx, reading: &Reading, nodes: &[Node], side: &'static str, x: f32, anchor: &'static str) -> impl IntoView + use<> {
    nodes
        .iter()
        .map(|node| {
            let token = reading.units.first_token(node.index);
            view! {
                <text
                    class="node"
                    class:lit=node.lit
                    x=x y=node.y text-anchor=anchor dominant-baseline="central"
                    data-side=side data-unit=node.index data-token-index=token
                    on:mouseenter=move |_| if ctx.hover.get_untracked() != Some(token) { ctx.hover.set(Some(token)) }
                    on:mouseleave=move |_| ctx.hover.set(None)
                    on:click=move |_| ctx.view.update(|v| v.select(if v.selected == Some(token) { None } else { Some(token) }))
                >
                    {node.label.clone()}
                </text>
            }
        })
        .collect_view()
}

fn draw(ctx: Ctx, reading: &Reading, view: &LineView) -> impl IntoView + use<> {
    let links = view
        .lines
        .iter()
        .map(|l| {
            view! {
                <line
                    class="link"
                    x1=view.x1 y1=l.y1 x2=view.x2 y2=l.y2
                    stroke-opacity=format!("{:.3}", l.opacity) stroke-width=format!("{:.2}", l.width)
                    data-query=l.query data-key=l.key data-weight=l.weight.to_string()
                >
                    <title>{format!("{} → {}: {:.4}", reading.labels.get(l.query).map_or("", String::as_str), reading.labels.get(l.key).map_or("", String::as_str), l.weight)}</title>
                </line>
            }
        })
        .collect_view();
    let label = format!(
        "Lines from queries (left) to keys (right), positions {} to {}, weighted by attention",
        view.window.start,
        view.window.end.saturating_sub(1)
    );
    view! {
        <svg
            class="lines"
            viewBox=format!("0 -24 {} {}", view.width, view.height + 24.0)
            style=format!("max-width: {}px", MAX_WIDTH.max(view.width))
            role="img"
            aria-label=label
            data-window=format!("{}-{}", view.window.start, view.window.end)
        >
            <text class="column-head" x=view.x1 y=-10 text-anchor="end">"queries"</text>
            <text class="column-head" x=view.x2 y=-10>"keys"</text>
            {links}
            {nodes(ctx, reading, &view.queries, "query", view.x1 - 6.0, "end")}
            {nodes(ctx, reading, &view.keys, "key", view.x2 + 6.0, "start")}
        </svg>
    }
}

pub fn line_view(ctx: Ctx, state: &ViewState, run: &RunData, n: usize) -> AnyView {
    let Some(reading) = Reading::of(run, n, state) else { return view! { <p class="empty">"Reading the prompt…"</p> }.into_any() };
    let layer = state.layer.min(reading.capture.n_layer() - 1);
    let head = state.head.min(reading.capture.n_head() - 1);
    let focus = reading.unit(ctx.focus());
    let shown = window(reading.len, focus, state.pan.map(|p| p[0]));
    let pattern = reading.pattern(layer, head);
    let view = lines(&pattern, &reading.labels, shown, focus, state.direction);
    let strongest = view.lines.iter().map(|l| l.weight).fold(0.0f32, f32::max);
    view! {
        <p class="hint">
            {format!("Layer {layer}, head {head}. Line opacity and width follow the weight, relative to the strongest link drawn ({strongest:.4}); links under 0.01 are left out. Hover or click a token to see only its links.")}
        </p>
        <div class="maps mode-lines">{draw(ctx, &reading, &view)}</div>
    }
    .into_any()
}
