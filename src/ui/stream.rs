//! The token stream: one chip per token, whitespace visible, generated tokens set apart, shaded
//! by the focused token's attention in the selected head.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::analysis::aggregate::shown;
use crate::ui::analysis::predictions_of;
use crate::ui::state::Ctx;
use crate::view::state::Direction;
use crate::view::stream::{surprisals, token_weights};

/// The index of the chip an event happened in. The stream listens once for all its chips, so
/// redrawing them attaches no handlers.
fn chip_of(event: &web_sys::Event) -> Option<usize> {
    let chip = event.target()?.dyn_into::<web_sys::Element>().ok()?.closest(".chip").ok()??;
    chip.get_attribute("data-token-index")?.parse().ok()
}

/// Shades the stream by the token under the pointer or keyboard focus (`None`: the pinned one).
fn hover(ctx: Ctx, token: Option<usize>) {
    if ctx.hover.get_untracked() != token {
        ctx.hover.set(token);
    }
}

#[component]
pub fn TokenStream(ctx: Ctx) -> impl IntoView {
    let chips = move || {
        let n = ctx.visible();
        let (layer, head, direction, selected, key) = ctx.view.with(|v| (v.layer, v.head, v.direction, v.selected, v.key));
        let (source, hide_sink, surprisal) = ctx.view.with(|v| (v.source, v.hide_sink, v.surprisal));
        let focus = ctx.focus();
        let predicted = if surprisal { predictions_of(ctx, n) } else { None };
        ctx.run.with(|run| {
            let Some(run) = run else { return Vec::new() };
            let weights = match (&run.capture, focus) {
                _ if surprisal => predicted.as_ref().map_or(vec![None; n], |p| surprisals(p, n)),
                (Some(capture), Some(f)) if f < n => shown(capture, source, hide_sink, layer, head, n).map_or(vec![None; n], |p| token_weights(&p, n, f, direction)),
                _ => vec![None; n],
            };
            let unit = if surprisal { "surprisal (bits)" } else { "weight" };
            // Shade relative to the strongest link so weak heads still show their shape.
            let strongest = weights.iter().flatten().copied().fold(0.0f32, f32::max);
            run.tokens[..n]
                .iter()
                .enumerate()
                .map(|(i, token)| {
                    let weight = weights[i];
                    let shade = weight.map_or(0.0, |w| if strongest > 0.0 { w / strongest } else { 0.0 });
                    let title = match weight {
                        Some(w) => format!("#{i} id {} “{}”: {unit} {w:.4}", token.id, token.label),
                        None => format!("#{i} id {} “{}”", token.id, token.label),
                    };
                    let newlines = token.text.matches('\n').count();
                    // A clicked heatmap cell pins a query/key pair: both are marked.
                    let pair = if key.is_some() && selected == Some(i) {
                        Some("query")
                    } else if key == Some(i) {
                        Some("key")
                    } else {
                        None
                    };
                    view! {
                        <button
                            class="chip"
                            class:generated={i >= run.prompt_len}
                            class:selected={selected == Some(i)}
                            class:key={key == Some(i)}
                            data-pair=pair
                            class:focus={focus == Some(i)}
                            class:linked=weight.is_some()
                            data-token-index=i
                            data-token-id=token.id
                            data-weight=weight.map(|w| w.to_string())
                            aria-pressed=if selected == Some(i) { "true" } else { "false" }
                            title=title
                            style=format!("--w: {shade:.3}")
                        >
                            {token.label.clone()}
                        </button>
                        {(0..newlines).map(|_| view! { <span class="break"></span> }).collect_view()}
                    }
                })
                .collect::<Vec<_>>()
        })
    };
    let direction_label = move || match ctx.view.with(|v| v.direction) {
        Direction::AttendsTo => "attends to",
        Direction::AttendedBy => "is attended by",
    };
    view! {
        <section class="stream-panel" aria-label="Tokens">
            <div class="panel-head">
                <h2>"Tokens"</h2>
                <button
                    class="toggle"
                    title="Switch between what the token attends to and what attends to it"
                    on:click=move |_| ctx.view.update(|v| v.direction = match v.direction {
                        Direction::AttendsTo => Direction::AttendedBy,
                        Direction::AttendedBy => Direction::AttendsTo,
                    })
                >
                    "Shade what the token " {direction_label}
                </button>
            </div>
            <p class="hint">"Hover or click a token (arrows move, Esc clears). Generated tokens are outlined."</p>
            <div
                class="stream"
                role="group"
                aria-label="Token stream"
                on:mouseover=move |ev| hover(ctx, chip_of(&ev))
                on:mouseleave=move |_| hover(ctx, None)
                on:focusin=move |ev| hover(ctx, chip_of(&ev))
                on:focusout=move |_| hover(ctx, None)
                on:click=move |ev| {
                    if let Some(i) = chip_of(&ev) {
                        ctx.view.update(|v| v.select(if v.selected == Some(i) && v.key.is_none() { None } else { Some(i) }));
                    }
                }
            >
                {chips}
            </div>
        </section>
    }
}
