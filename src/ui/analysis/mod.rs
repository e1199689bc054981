//! The analysis panels under the maps (head roles and the repeat test, predictions and the
//! logit lens, inside one head, ablation) and the choice of matrix the maps show.

mod ablation;
mod inside;
mod predictions;
mod roles;
mod source;

use leptos::prelude::*;

use crate::analysis::predict::Prediction;
use crate::analysis::probe::{Answer, Question};
use crate::ui::state::Ctx;
use crate::view::state::ViewStateStoreFields;
use crate::view::state::Panel;

pub use source::source_controls;

/// The ids of the run as far as the view shows them, once the run has finished.
pub fn shown_ids(ctx: Ctx) -> Option<Vec<u32>> {
    let n = ctx.visible();
    ctx.run.with(|run| run.as_ref().filter(|r| !r.running() && n > 0).map(|r| r.ids(n)))
}

/// The model's predictions at each of the first `n` positions, once the worker has sent them.
pub fn predictions_of(ctx: Ctx, n: usize) -> Option<Vec<Prediction>> {
    let ids = shown_ids(ctx).filter(|ids| ids.len() == n)?;
    match ctx.analyses.answer(&ids, &Question::Predictions)? {
        Ok(Answer::Predictions(predictions)) => Some(predictions),
        _ => None,
    }
}

/// A one-line state of an answer that has not arrived or failed.
fn waiting(answer: &Option<Result<Answer, String>>) -> AnyView {
    match answer {
        Some(Err(error)) => view! { <p class="empty" role="alert">{format!("This analysis failed: {error}")}</p> }.into_any(),
        _ => view! { <p class="empty">"Computing…"</p> }.into_any(),
    }
}

/// The analysis panels, one at a time, under tabs.
#[component]
pub fn AnalysisPanel(ctx: Ctx) -> impl IntoView {
    // Ask for what the open panel and the token shading need.
    Effect::new(move |_| {
        let Some(ids) = shown_ids(ctx) else { return };
        let (panel, surprisal) = (ctx.view.panel().get(), ctx.view.surprisal().get());
        if matches!(panel, Panel::Predictions | Panel::Ablation) || surprisal {
            ctx.ask(ids, Question::Predictions);
        }
    });
    let tabs = Panel::ALL
        .into_iter()
        .map(|panel| {
            view! {
                <button
                    role="tab"
                    class="tab"
                    data-panel=panel.name()
                    aria-selected=move || if ctx.view.panel().get() == panel { "true" } else { "false" }
                    on:click=move |_| ctx.edit(|v| v.panel = panel)
                >
                    {panel.title()}
                </button>
            }
        })
        .collect_view();
    // A memo, so the open panel is built again only when another tab is chosen.
    let panel = Memo::new(move |_| ctx.view.panel().get());
    let body = move || match panel.get() {
        Panel::Roles => roles::roles_panel(ctx).into_any(),
        Panel::Predictions => predictions::predictions_panel(ctx).into_any(),
        Panel::Inside => inside::inside_panel(ctx).into_any(),
        Panel::Ablation => ablation::ablation_panel(ctx).into_any(),
    };
    view! {
        <section class="analysis-panel" aria-label="Analysis">
            <div class="panel-head">
                <div class="tabs" role="tablist">{tabs}</div>
            </div>
            <div class="analysis-body">{body}</div>
        </section>
    }
}
