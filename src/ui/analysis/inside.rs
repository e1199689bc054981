//! Inside one head, for the selected query: the numbers the model computed, step by step:
//! the query and each key, their dot products, the scale, the causal mask, the softmax, the
//! weighted sum of the values. Every number comes from the model's own tensors.

use leptos::prelude::*;

use crate::analysis::probe::{Answer, HeadTrace, Question};
use crate::ui::analysis::{shown_ids, waiting};
use crate::ui::state::Ctx;
use crate::view::state::ViewStateStoreFields;
use crate::view::colour::format_weight;

/// Value dimensions shown per key in the table; the full vectors are under "all values".
const VALUE_DIMS: usize = 4;

fn vector(values: &[f32]) -> String {
    let shown: Vec<String> = values.iter().map(|v| format!("{v:+.3}")).collect();
    format!("[{}]", shown.join(", "))
}

fn question(ctx: Ctx, n: usize) -> Question {
    let (layer, head, selected) = (ctx.view.layer().get(), ctx.view.head().get(), ctx.view.selected().get());
    Question::InsideHead { layer, head, query: selected.filter(|&s| s < n).unwrap_or(n.saturating_sub(1)) }
}

fn trace_view(t: &HeadTrace, labels: &[String]) -> impl IntoView + use<> {
    let d = t.q.len();
    let rows = (0..t.keys.len())
        .map(|j| {
            let masked = j > t.query;
            let v: Vec<f32> = t.values[j].iter().take(VALUE_DIMS).copied().collect();
            view! {
                <tr class:masked=masked class:query={j == t.query} data-key=j>
                    <td>{j}</td>
                    <td class="token">{labels.get(j).cloned().unwrap_or_default()}</td>
                    <td>{format!("{:+.4}", t.dots[j])}</td>
                    <td>{format!("{:+.4}", t.scores[j])}</td>
                    <td>{if masked { "−∞ (future)" } else { "—" }}</td>
                    <td class="weight" style=format!("--w: {:.4}", t.weights[j])>{format_weight(t.weights[j])}</td>
                    <td class="vec">{format!("{}…", vector(&v).trim_end_matches(']'))}</td>
                </tr>
            }
        })
        .collect_view();
    let values = t.values.iter().enumerate().take(t.query + 1).map(|(j, v)| view! { <li>{format!("v{j} = {}", vector(v))}</li> }).collect_view();
    view! {
        <p class="formula">
            {format!("L{} H{}, query #{} “{}”: ", t.layer, t.head, t.query, labels.get(t.query).cloned().unwrap_or_default())}
            "weights = softmax(mask(q · kⱼ × scale)), output = Σⱼ weightⱼ vⱼ, with scale = "
            {format!("1/√{d} = {:.6}", t.scale)}
        </p>
        <p class="vec"><b>"q = "</b>{vector(&t.q)}</p>
        <table class="inside" id="inside-table">
            <thead>
                <tr><th>"j"</th><th>"key token"</th><th>"q · kⱼ"</th><th>"× scale"</th><th>"mask"</th><th>"softmax"</th><th>{format!("vⱼ (first {VALUE_DIMS} of {d})")}</th></tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
        <p class="vec" id="head-output"><b>"output = Σ weightⱼ vⱼ = "</b>{vector(&t.output)}</p>
        <details><summary>{format!("All {} value vectors the query sees", t.query + 1)}</summary><ul class="vec">{values}</ul></details>
    }
}

pub fn inside_panel(ctx: Ctx) -> impl IntoView {
    Effect::new(move |_| {
        if let Some(ids) = shown_ids(ctx) {
            let q = question(ctx, ids.len());
            ctx.ask(ids, q);
        }
    });
    let body = move || {
        let Some(ids) = shown_ids(ctx) else { return view! { <p class="empty">"Run a prompt (and let it finish) to look inside a head."</p> }.into_any() };
        let labels: Vec<String> = ctx.run.with(|r| r.as_ref().map(|r| r.tokens.iter().map(|t| t.label.clone()).collect()).unwrap_or_default());
        match ctx.analyses.answer(&ids, &question(ctx, ids.len())) {
            Some(Ok(Answer::InsideHead(trace))) => trace_view(&trace, &labels).into_any(),
            other => waiting(&other),
        }
    };
    view! {
        <div class="inside-panel">
            <p class="hint">"The selected layer and head, for the pinned token (or the last one): the numbers the model computed in this run, read from its own tensors. Keys after the query are masked before the softmax."</p>
            {body}
        </div>
    }
}
