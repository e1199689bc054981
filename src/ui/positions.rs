//! The positions panel: the model's learned position embeddings beside the sinusoidal encoding
//! of the original Transformer at the same size, each as a position x position map of cosine
//! similarities. The worker computes both once the model loads.

use leptos::prelude::*;

use crate::ui::map::legend;
use crate::ui::state::Ctx;
use crate::view::colour::Normaliser;
use crate::view::positions::{SimilarityMap, cells};

/// Side of each map, in SVG units, and room for the position ticks.
const SIZE: f32 = 320.0;
const MARGIN: f32 = 36.0;

fn map(title: &'static str, encoding: &'static str, map: &SimilarityMap, norm: Normaliser) -> impl IntoView + use<> {
    let rects = cells(map, SIZE)
        .into_iter()
        .map(|c| {
            view! {
                <rect class="sim" x={MARGIN + c.x} y={MARGIN + c.y} width=c.size height=c.size fill=norm.colour(c.value)
                    data-a=c.a data-b=c.b data-value=c.value.to_string()>
                    <title>{format!("positions {} and {}: cosine similarity {:.4}", c.a, c.b, c.value)}</title>
                </rect>
            }
        })
        .collect_view();
    let side = map.side();
    let unit = if side == 0 { 0.0 } else { SIZE / side as f32 };
    let ticks = (0..4)
        .map(|i| i * side / 4)
        .filter(|&i| i < side)
        .map(|i| {
            let at = MARGIN + (i as f32 + 0.5) * unit;
            let position = map.positions[i];
            view! {
                <text class="tick" x=at y={MARGIN - 6.0} text-anchor="middle">{position}</text>
                <text class="tick" x={MARGIN - 6.0} y=at text-anchor="end" dominant-baseline="central">{position}</text>
            }
        })
        .collect_view();
    let total = SIZE + MARGIN;
    view! {
        <figure class="map">
            <figcaption>{title}</figcaption>
            <svg class="heatmap similarity" viewBox=format!("0 0 {total} {total}") style=format!("max-width: {total}px") role="img"
                aria-label=format!("{title}: cosine similarity of the encodings of {side} positions, each against each")
                data-encoding=encoding>
                {rects}
                {ticks}
            </svg>
        </figure>
    }
}

pub fn positions_view(ctx: Ctx) -> AnyView {
    ctx.positions.with(|maps| {
        let Some(maps) = maps else { return view! { <p class="empty">"Reading the model's position embeddings…"</p> }.into_any() };
        let norm = Normaliser::signed(1.0);
        let side = maps.learned.side();
        let every = maps.learned.positions.get(1).copied().unwrap_or(1);
        view! {
            <p class="hint">
                {format!(
                    "How alike the encodings of two positions are (cosine similarity), for {} of {} ({side} x {side} shown): GPT-2 learns its position embeddings (wpe, {} dimensions); the original Transformer used fixed sines and cosines of the same size, whose similarity depends only on the distance between positions.",
                    stride(every), maps.n_positions, maps.n_embd
                )}
            </p>
            <div class="legends">{legend(norm, "scale-positions")}</div>
            <div class="maps mode-positions">
                {map("Learned (wpe)", "learned", &maps.learned, norm)}
                {map("Sinusoidal (Vaswani et al. 2017)", "sinusoidal", &maps.sinusoidal, norm)}
            </div>
        }
        .into_any()
    })
}

/// The sampling in words: `every position`, `every 16th position`.
fn stride(every: usize) -> String {
    let suffix = match every % 100 {
        11..=13 => "th",
        _ => match every % 10 {
            1 => "st",
            2 => "nd",
            3 => "rd",
            _ => "th",
        },
    };
    if every <= 1 { "every position".into() } else { format!("every {every}{suffix} position") }
}
