//! The line view (bertviz's head view): queries left, keys right, a line for each link weighted
//! by attention. Hovering a token shows only its links; clicking pins it. The views worker lays
//! it out (`view::lines`) for the token in focus.

use leptos::prelude::*;

use crate::ui::state::Ctx;
use crate::view::state::ViewStateStoreFields;
use crate::view::lines::Node;
use crate::view::words::Units;
use crate::views::query::{LinesModel, Query, Reply};

/// Longest drawn width of the line view, in pixels: a short prompt stays compact.
const MAX_WIDTH: f32 = 560.0;

fn nodes(ctx: Ctx, units: &Units, nodes: &[Node], side: &'static str, x: f32, anchor: &'static str) -> impl IntoView + use<> {
    nodes
        .iter()
        .map(|node| {
            let token = units.first_token(node.index);
            view! {
                <text
                    class="node"
                    class:lit=node.lit
                    x=x y=node.y text-anchor=anchor dominant-baseline="central"
                    data-side=side data-unit=node.index data-token-index=token
                    on:mouseenter=move |_| if ctx.hover.get_untracked() != Some(token) { ctx.hover.set(Some(token)) }
                    on:mouseleave=move |_| ctx.hover.set(None)
                    on:click=move |_| ctx.edit(|v| v.select(if v.selected == Some(token) { None } else { Some(token) }))
                >
                    {node.label.clone()}
                </text>
            }
        })
        .collect_view()
}

fn draw(ctx: Ctx, model: &LinesModel) -> impl IntoView + use<> {
    let (view, labels) = (&model.view, &model.labels);
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
                    <title>{format!("{} → {}: {:.4}", labels.get(l.query).map_or("", String::as_str), labels.get(l.key).map_or("", String::as_str), l.weight)}</title>
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
            {nodes(ctx, &model.units, &view.queries, "query", view.x1 - 6.0, "end")}
            {nodes(ctx, &model.units, &view.keys, "key", view.x2 + 6.0, "start")}
        </svg>
    }
}

/// The line view: asks the views worker for the layout around the token in focus, and draws
/// the reply.
pub fn line_view(ctx: Ctx) -> impl IntoView {
    let query = Memo::new(move |_| {
        let n = ctx.visible();
        let (look, direction) = (ctx.look(n), ctx.view.direction().get());
        let run = ctx.run.with(|r| r.as_ref().map(|r| r.id))?;
        (n > 0).then(|| Query::Lines { run, n, look, focus: ctx.focus(), direction })
    });
    Effect::new(move |_| {
        if let Some(query) = query.get() {
            ctx.views.ask(query, false);
        }
    });
    move || match ctx.views.lines.get() {
        Some((_, Ok(Reply::Lines(model)))) => {
            let strongest = model.view.lines.iter().map(|l| l.weight).fold(0.0f32, f32::max);
            view! {
                <p class="hint">
                    {format!("Layer {}, head {}. Line opacity and width follow the weight, relative to the strongest link drawn ({strongest:.4}); links under 0.01 are left out. Hover or click a token to see only its links.", model.layer, model.head)}
                </p>
                <div class="maps mode-lines">{draw(ctx, &model)}</div>
            }
            .into_any()
        }
        Some((_, Err(why))) => view! { <p class="empty">{why}</p> }.into_any(),
        _ => view! { <p class="empty">"Drawing the lines…"</p> }.into_any(),
    }
}
