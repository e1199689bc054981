//! Ablation: switch heads off (their output set to zero before the output projection) and see
//! how the next-token prediction and the attention of later layers change, beside the intact
//! model.

use leptos::prelude::*;

use crate::analysis::aggregate::shown;
use crate::analysis::pattern::Pattern;
use crate::analysis::probe::{Answer, Question};
use crate::capture::Capture;
use crate::ui::analysis::predictions::candidates;
use crate::ui::analysis::{predictions_of, shown_ids, waiting};
use crate::ui::heatmaps::{Click, Shown, draw};
use crate::ui::state::Ctx;
use crate::view::colour::Normaliser;
use crate::view::heatmap::{Layout, MapRequest, heatmap};
use crate::view::words::Units;

/// Side of the two maps drawn side by side.
const MAP_SIZE: f32 = 260.0;
const MAP_BINS: usize = 48;

/// The largest change in any attention weight of one layer between two captures.
fn largest_change(a: &Capture, b: &Capture, layer: usize, n: usize) -> f32 {
    (0..a.n_head())
        .flat_map(|h| Pattern::of_head(a, layer, h, n).weights().zip(Pattern::of_head(b, layer, h, n).weights()).map(|(x, y)| (x - y).abs()).collect::<Vec<_>>())
        .fold(0.0, f32::max)
}

/// The checkboxes, one per head.
fn switches(ctx: Ctx, n_layer: usize, n_head: usize) -> impl IntoView {
    let rows = (0..n_layer)
        .map(|l| {
            let boxes = (0..n_head)
                .map(|h| {
                    let off = move || ctx.view.with(|v| v.ablated.contains(&(l, h)));
                    let toggle = move |ev| {
                        let on = event_target_checked(&ev);
                        ctx.view.update(|v| {
                            v.ablated.retain(|&x| x != (l, h));
                            if on {
                                v.ablated.push((l, h));
                                v.ablated.sort();
                            }
                        });
                    };
                    view! { <label class="switch" title=format!("Switch off layer {l}, head {h}")><input type="checkbox" data-layer=l data-head=h prop:checked=off on:change=toggle />{format!("H{h}")}</label> }
                })
                .collect_view();
            view! { <div class="switch-row"><span class="switch-layer">{format!("L{l}")}</span>{boxes}</div> }
        })
        .collect_view();
    view! { <div class="switches" id="ablation-switches">{rows}</div> }
}

pub fn ablation_panel(ctx: Ctx) -> impl IntoView {
    let question = move || Question::Ablate { heads: ctx.view.with(|v| v.ablated.clone()) };
    Effect::new(move |_| {
        let (Some(ids), q) = (shown_ids(ctx), question()) else { return };
        if !ctx.view.with(|v| v.ablated.is_empty()) {
            ctx.analyses.ask(ctx, ids, q);
        }
    });
    let dims = move || ctx.run.with(|r| r.as_ref().and_then(|r| r.capture.as_ref()).map(|c| (c.n_layer(), c.n_head())));
    let body = move || {
        let Some(ids) = shown_ids(ctx) else { return view! { <p class="empty">"Run a prompt (and let it finish) to switch heads off."</p> }.into_any() };
        if ctx.view.with(|v| v.ablated.is_empty()) {
            return view! { <p class="empty">"Tick heads above to switch them off."</p> }.into_any();
        }
        let n = ids.len();
        let (capture, predictions) = match ctx.analyses.answer(&ids, &question()) {
            Some(Ok(Answer::Ablated { capture, predictions })) => (capture, predictions),
            other => return waiting(&other),
        };
        let view = ctx.view.get();
        let position = view.selected.filter(|&s| s < n).unwrap_or(n - 1);
        let intact = predictions_of(ctx, n);
        let next = predictions[position].next.as_ref().map(|c| c.id);
        let intact_list = match &intact {
            Some(p) => view! { <ol class="candidates" id="intact-predictions">{candidates(&p[position].top, next)}</ol> }.into_any(),
            None => view! { <p class="empty">"Computing…"</p> }.into_any(),
        };
        ctx.run.with(|run| {
            let Some((run, original)) = run.as_ref().and_then(|r| Some((r, r.capture.as_ref()?))) else { return ().into_any() };
            let labels: Vec<String> = run.tokens[..n].iter().map(|t| t.label.clone()).collect();
            let (layer, head) = (view.layer.min(capture.n_layer() - 1), view.head.min(capture.n_head() - 1));
            let units = Units::new(&labels, false);
            let pattern = |c: &Capture| shown(c, view.source, view.hide_sink, layer, head, n);
            let (Some(a), Some(b)) = (pattern(original), pattern(&capture)) else { return ().into_any() };
            let norm = Normaliser::fit(view.scale, a.weights().chain(b.weights()));
            let request = MapRequest { layer, head, extent: n, labels: &labels, row: None, column: None, pan: None, layout: Layout::Thumbnail { size: MAP_SIZE, bins: MAP_BINS } };
            let maps = [("intact", &a, "Intact"), ("ablated", &b, "Heads off")]
                .map(|(role, p, title)| {
                    let tile = Shown { map: heatmap(p, &request, &norm), caption: format!("{title} · {}", view.source.caption(layer, head)), labels: labels.clone(), role };
                    draw(tile, &units, ctx, Click::Select)
                })
                .into_iter()
                .collect_view();
            let changes = (0..capture.n_layer())
                .map(|l| view! { <tr><th scope="row">{format!("layer {l}")}</th><td data-layer=l>{format!("{:.4}", largest_change(original, &capture, l, n))}</td></tr> })
                .collect_view();
            view! {
                <h3>{format!("Next token after #{position} “{}”", labels[position])}</h3>
                <div class="side-by-side">
                    <div><h4>"Intact"</h4>{intact_list}</div>
                    <div><h4>"Heads off"</h4><ol class="candidates" id="ablated-predictions">{candidates(&predictions[position].top, next)}</ol></div>
                </div>
                <h3>"Attention of the selected head"</h3>
                <div class="side-by-side maps">{maps}</div>
                <table class="changes" id="ablation-changes">
                    <caption>"Largest change in any attention weight, per layer"</caption>
                    <tbody>{changes}</tbody>
                </table>
            }
            .into_any()
        })
    };
    view! {
        <div class="ablation-panel">
            <p class="hint">"Switched-off heads have their output set to zero before the output projection (zero ablation), in every position. Layers up to theirs attend as before; later ones see a changed residual stream."</p>
            {move || dims().map(|(l, h)| switches(ctx, l, h))}
            <button id="ablation-clear" on:click=move |_| ctx.view.update(|v| v.ablated.clear())>"Switch all back on"</button>
            {body}
        </div>
    }
}
