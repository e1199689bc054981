//! Moving the detailed map's windows over a long pattern: a minimap of the whole pattern with
//! the shown windows outlined (a click centres them there), and a slider per axis, which the
//! keyboard reaches. Queries and keys move apart, so a late query reads against early keys.

use leptos::prelude::*;

use crate::ui::map::{cells, pointer_at};
use crate::ui::state::Ctx;
use crate::view::heatmap::{DETAIL_MAX, HeatmapView, window_at};
use crate::views::query::{MapModel, MapsQuery};

/// A slider moving one window's first position.
fn slider(ctx: Ctx, label: &'static str, id: &'static str, value: usize, last: usize, set: fn(&mut [usize; 2], usize), other: [usize; 2]) -> impl IntoView {
    view! {
        <label class="pan-axis">
            {label}
            <input
                type="range" id=id min="0" max=last.to_string() prop:value=value.to_string()
                on:input=move |ev| {
                    if let Ok(from) = event_target_value(&ev).parse() {
                        let mut pan = other;
                        set(&mut pan, from);
                        ctx.edit(|v| v.pan = Some(pan));
                    }
                }
            />
            <span class="pan-value">{format!("{value}–{}", value + DETAIL_MAX - 1)}</span>
        </label>
    }
}

/// The minimap (the views worker's `minimap` of `query`) beside the detailed map `detail` of a
/// pattern `len` units long, and the sliders.
pub fn pan_controls(ctx: Ctx, query: &MapsQuery, detail: &HeatmapView, minimap: MapModel, len: usize) -> AnyView {
    let last = len.saturating_sub(DETAIL_MAX);
    let side = minimap.map.side;
    let unit = side / len as f32;
    let (queries, keys) = (detail.window.clone(), detail.keys.clone());
    let place = move |ev: leptos::ev::MouseEvent| {
        if let Some((across, down)) = pointer_at(&ev) {
            ctx.edit(|v| v.pan = Some([window_at(down, len), window_at(across, len)]));
        }
    };
    let current = [queries.start, keys.start];
    view! {
        <div class="pan" role="group" aria-label="Move the detailed window">
            <svg class="minimap" viewBox=format!("0 0 {side} {side}") role="img" aria-label="The whole pattern, pooled: click to move the detailed window there" on:click=place>
                {cells(minimap.cells)}
                <rect class="window-box" x={keys.start as f32 * unit} y={queries.start as f32 * unit} width={keys.len() as f32 * unit} height={queries.len() as f32 * unit} />
            </svg>
            <div class="pan-sliders">
                {slider(ctx, "Queries ", "pan-queries", queries.start, last, |p, v| p[0] = v, current)}
                {slider(ctx, "Keys ", "pan-keys", keys.start, last, |p, v| p[1] = v, current)}
                <button id="pan-follow" prop:disabled=query.look.pan.is_none() on:click=move |_| ctx.edit(|v| v.pan = None)>"Follow the selection"</button>
            </div>
        </div>
    }
    .into_any()
}
