//! What the model expects at the selected position: its top next tokens, the probability and
//! surprisal of the token that came, and the logit lens (the same read out after every layer).

use leptos::prelude::*;

use crate::analysis::predict::Candidate;
use crate::analysis::probe::{Answer, Question};
use crate::ui::analysis::{predictions_of, shown_ids, waiting};
use crate::ui::state::Ctx;
use crate::view::state::ViewStateStoreFields;

/// Candidates as rows with a probability bar.
pub fn candidates(list: &[Candidate], next: Option<u32>) -> impl IntoView + use<> {
    list.iter()
        .map(|c| {
            let came = next == Some(c.id);
            view! {
                <li class="candidate" class:came=came data-id=c.id>
                    <span class="bar" style=format!("--p: {:.4}", c.p)></span>
                    <span class="token">{c.label.clone()}</span>
                    <span class="p">{format!("{:.1}%", 100.0 * c.p)}</span>
                </li>
            }
        })
        .collect_view()
}

/// The position the panel reads: the pinned token, else the last one shown.
fn position(ctx: Ctx, n: usize) -> usize {
    ctx.view.selected().get().filter(|&s| s < n).unwrap_or(n.saturating_sub(1))
}

pub fn predictions_panel(ctx: Ctx) -> impl IntoView {
    Effect::new(move |_| {
        if let Some(ids) = shown_ids(ctx) {
            let position = position(ctx, ids.len());
            ctx.ask(ids, Question::Lens { position });
        }
    });
    let body = move || {
        let Some(ids) = shown_ids(ctx) else { return view! { <p class="empty">"Run a prompt (and let it finish) to see its predictions."</p> }.into_any() };
        let n = ids.len();
        let p = position(ctx, n);
        let label = ctx.run.with(|r| r.as_ref().map(|r| r.tokens[p].label.clone()).unwrap_or_default());
        let predictions = match predictions_of(ctx, n) {
            Some(predictions) => {
                let here = &predictions[p];
                let next = here.next.as_ref().map(|c| c.id);
                let came = match (&here.next, here.surprisal()) {
                    (Some(c), Some(bits)) => format!("The token that came, “{}”, had p = {:.2}%: a surprisal of {bits:.2} bits.", c.label, 100.0 * c.p),
                    _ => "This is the last token shown: nothing came after it yet.".to_string(),
                };
                view! {
                    <ol class="candidates" id="predictions">{candidates(&here.top, next)}</ol>
                    <p class="hint" id="came">{came}</p>
                }
                .into_any()
            }
            None => waiting(&ctx.analyses.answer(&ids, &Question::Predictions)),
        };
        let lens = match ctx.analyses.answer(&ids, &Question::Lens { position: p }) {
            Some(Ok(Answer::Lens(rows))) => {
                let last = rows.len() - 1;
                let rows = rows
                    .iter()
                    .enumerate()
                    .map(|(i, top)| {
                        let stage = match i {
                            0 => "embeddings".to_string(),
                            i if i == last => format!("after layer {} (the output)", i - 1),
                            i => format!("after layer {}", i - 1),
                        };
                        let cells = top.iter().map(|c| view! { <td><span class="token">{c.label.clone()}</span>" "<span class="p">{format!("{:.1}%", 100.0 * c.p)}</span></td> }).collect_view();
                        view! { <tr><th scope="row">{stage}</th>{cells}</tr> }
                    })
                    .collect_view();
                view! { <table class="lens" id="lens"><tbody>{rows}</tbody></table> }.into_any()
            }
            other => waiting(&other),
        };
        view! {
            <h3>{format!("After #{p} “{label}”, the model expects")}</h3>
            {predictions}
            <h3>"Logit lens"</h3>
            <p class="hint">"The residual stream after each layer, read out through the final LayerNorm and the tied output head as if it were the last layer (nostalgebraist 2020): the top five tokens at this position."</p>
            {lens}
        }
        .into_any()
    };
    view! {
        <div class="predictions-panel">
            <label class="check">
                <input id="surprisal" type="checkbox" prop:checked=move || ctx.view.surprisal().get() on:change=move |ev| ctx.edit(|v| v.surprisal = event_target_checked(&ev)) />
                "Shade the tokens by surprisal (−log₂ p of each token given those before it)"
            </label>
            <p class="hint">"Pin a token to read the predictions made there; with none pinned, the last token's."</p>
            {body}
        </div>
    }
}
