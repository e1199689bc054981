//! The token stream: one chip per token, whitespace visible, generated tokens set apart, shaded
//! by the focused token's attention in the selected head.

use leptos::prelude::*;

use crate::ui::state::Ctx;
use crate::view::state::Direction;
use crate::view::stream::token_weights;

#[component]
pub fn TokenStream(ctx: Ctx) -> impl IntoView {
    let chips = move || {
        let n = ctx.visible();
        let (layer, head, direction, selected) = ctx.view.with(|v| (v.layer, v.head, v.direction, v.selected));
        let focus = ctx.focus();
        ctx.run.with(|run| {
            let Some(run) = run else { return Vec::new() };
            let weights = match (&run.capture, focus) {
                (Some(capture), Some(f)) if f < n => token_weights(capture, layer, head, n, f, direction),
                _ => vec![None; n],
            };
            // Shade relative to the strongest link so weak heads still show their shape.
            let strongest = weights.iter().flatten().copied().fold(0.0f32, f32::max);
            run.tokens[..n]
                .iter()
                .enumerate()
                .map(|(i, token)| {
                    let weight = weights[i];
                    let shade = weight.map_or(0.0, |w| if strongest > 0.0 { w / strongest } else { 0.0 });
                    let title = match weight {
                        Some(w) => format!("#{i} id {} “{}”: weight {w:.4}", token.id, token.label),
                        None => format!("#{i} id {} “{}”", token.id, token.label),
                    };
                    let newlines = token.text.matches('\n').count();
                    view! {
                        <button
                            class="chip"
                            class:generated={i >= run.prompt_len}
                            class:selected={selected == Some(i)}
                            class:focus={focus == Some(i)}
                            class:linked=weight.is_some()
                            data-token-index=i
                            data-token-id=token.id
                            data-weight=weight.map(|w| w.to_string())
                            aria-pressed=if selected == Some(i) { "true" } else { "false" }
                            title=title
                            style=format!("--w: {shade:.3}")
                            on:mouseenter=move |_| ctx.hover.set(Some(i))
                            on:mouseleave=move |_| ctx.hover.set(None)
                            on:focus=move |_| ctx.hover.set(Some(i))
                            on:blur=move |_| ctx.hover.set(None)
                            on:click=move |_| ctx.view.update(|v| v.selected = if v.selected == Some(i) { None } else { Some(i) })
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
            <div class="stream" role="group" aria-label="Token stream">{chips}</div>
        </section>
    }
}
