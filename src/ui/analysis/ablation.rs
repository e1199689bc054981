//! Ablation: switch heads off (their output set to zero before the output projection) and see
//! how the next-token prediction and the attention of later layers change, beside the intact
//! model.

use std::rc::Rc;

use leptos::prelude::*;

use crate::analysis::probe::{Answer, Question};
use crate::ui::analysis::predictions::candidates;
use crate::ui::analysis::{predictions_of, shown_ids, waiting};
use crate::ui::map::{Click, draw};
use crate::ui::state::{Ctx, ModelStatus};
use crate::view::state::ViewStateStoreFields;
use crate::views::query::{AblationModel, Look, Query, Reply};

/// The checkboxes, one per head.
fn switches(ctx: Ctx, n_layer: usize, n_head: usize) -> impl IntoView {
    let rows = (0..n_layer)
        .map(|l| {
            let boxes = (0..n_head)
                .map(|h| {
                    let off = move || ctx.view.ablated().with(|off| off.contains(&(l, h)));
                    let toggle = move |ev| {
                        let on = event_target_checked(&ev);
                        ctx.edit(|v| {
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

/// The look's head intact and with heads off, and the largest change per layer.
fn comparison_view(ctx: Ctx, model: AblationModel) -> AnyView {
    let AblationModel { maps, changes } = model;
    let labels = Rc::new(maps.labels.into_iter().next().unwrap_or_default());
    let units = maps.units;
    let drawn = maps.maps.into_iter().map(|map| draw(map, labels.clone(), &units, ctx, Click::Select)).collect_view();
    let changes = changes.iter().enumerate().map(|(l, change)| view! { <tr><th scope="row">{format!("layer {l}")}</th><td data-layer=l>{format!("{change:.4}")}</td></tr> }).collect_view();
    view! {
        <h3>"Attention of the selected head"</h3>
        <div class="side-by-side maps">{drawn}</div>
        <table class="changes" id="ablation-changes">
            <caption>"Largest change in any attention weight, per layer"</caption>
            <tbody>{changes}</tbody>
        </table>
    }
    .into_any()
}

pub fn ablation_panel(ctx: Ctx) -> impl IntoView {
    let question = move || Question::Ablate { heads: ctx.view.ablated().get() };
    Effect::new(move |_| {
        let (Some(ids), q) = (shown_ids(ctx), question()) else { return };
        if !ctx.view.ablated().with(Vec::is_empty) {
            ctx.ask(ids, q);
        }
    });
    let dims = move || ctx.model.with(|m| if let ModelStatus::Ready(info) = m { Some((info.n_layer, info.n_head)) } else { None });
    // Once the worker has run the ids with the heads off, the views worker compares the two.
    let comparison = Memo::new(move |_| {
        let ids = shown_ids(ctx)?;
        let ablated = ctx.analyses.answered(&ids, &question())?;
        let run = ctx.run.with(|r| r.as_ref().map(|r| r.id))?;
        let look = Look { scale: ctx.view.scale().get(), ..ctx.matrix_look() };
        Some(Query::Ablation { run, ablated, n: ids.len(), look })
    });
    Effect::new(move |_| {
        if let Some(query) = comparison.get().filter(|_| !ctx.view.ablated().with(Vec::is_empty)) {
            ctx.views.ask(query, false);
        }
    });
    let body = move || {
        let Some(ids) = shown_ids(ctx) else { return view! { <p class="empty">"Run a prompt (and let it finish) to switch heads off."</p> }.into_any() };
        if ctx.view.ablated().with(Vec::is_empty) {
            return view! { <p class="empty">"Tick heads above to switch them off."</p> }.into_any();
        }
        let n = ids.len();
        let predictions = match ctx.analyses.answer(&ids, &question()) {
            Some(Ok(Answer::Ablated { predictions, .. })) => predictions,
            other => return waiting(&other),
        };
        let position = ctx.view.selected().get().filter(|&s| s < n).unwrap_or(n - 1);
        let intact = predictions_of(ctx, n);
        let next = predictions[position].next.as_ref().map(|c| c.id);
        let intact_list = match &intact {
            Some(p) => view! { <ol class="candidates" id="intact-predictions">{candidates(&p[position].top, next)}</ol> }.into_any(),
            None => view! { <p class="empty">"Computing…"</p> }.into_any(),
        };
        let label = ctx.run.with(|r| r.as_ref().and_then(|r| r.tokens.get(position)).map_or(String::new(), |t| t.label.clone()));
        let compared = match ctx.views.ablation.get() {
            Some((query, Ok(Reply::Ablation(model)))) if Some(&query) == comparison.get().as_ref() => comparison_view(ctx, model),
            Some((_, Err(error))) => view! { <p class="empty" role="alert">{error}</p> }.into_any(),
            _ => view! { <p class="empty">"Comparing…"</p> }.into_any(),
        };
        view! {
            <h3>{format!("Next token after #{position} “{label}”")}</h3>
            <div class="side-by-side">
                <div><h4>"Intact"</h4>{intact_list}</div>
                <div><h4>"Heads off"</h4><ol class="candidates" id="ablated-predictions">{candidates(&predictions[position].top, next)}</ol></div>
            </div>
            {compared}
        }
        .into_any()
    };
    let busy = move || if comparison.get().is_some() && !ctx.view.ablated().with(Vec::is_empty) && !ctx.views.ablation.current() { "true" } else { "false" };
    view! {
        <div class="ablation-panel" aria-busy=busy>
            <p class="hint">"Switched-off heads have their output set to zero before the output projection (zero ablation), in every position. Layers up to theirs attend as before; later ones see a changed residual stream."</p>
            {move || dims().map(|(l, h)| switches(ctx, l, h))}
            <button id="ablation-clear" on:click=move |_| ctx.edit(|v| v.ablated.clear())>"Switch all back on"</button>
            {body}
        </div>
    }
}
