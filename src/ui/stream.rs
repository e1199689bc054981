//! The token stream: one chip per token, whitespace visible, generated tokens set apart, shaded
//! by the focused token's attention in the selected head. Chips are made once per token; the
//! shading (a CSS variable) and the selection (classes) are set on the chips that change.

use leptos::html;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::ui::analysis::predictions_of;
use crate::ui::state::Ctx;
use crate::view::state::ViewStateStoreFields;
use crate::view::state::Direction;
use crate::view::stream::surprisals;
use crate::views::query::{Query, Reply};

/// The index of the chip an event happened in. The stream listens once for all its chips.
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

/// One chip's shading: its weight (or surprisal) and the tooltip that says it.
#[derive(Clone, PartialEq)]
struct Shade {
    weight: Option<f32>,
    /// `weight` over the strongest shown, in `[0, 1]`.
    strength: f32,
}

/// Sets the shading of the chips whose shade changed since `before`. `chips` is the stream's live
/// list of chips: only those changed are looked up and touched.
fn paint(chips: &web_sys::HtmlCollection, shades: &[Shade], before: &[Shade], unit: &str) {
    for (i, shade) in shades.iter().enumerate() {
        if before.get(i) == Some(shade) {
            continue;
        }
        let Some(chip) = chips.item(i as u32).and_then(|c| c.dyn_into::<web_sys::HtmlElement>().ok()) else { break };
        let _ = chip.style().set_property("--w", &format!("{:.3}", shade.strength));
        let _ = chip.class_list().toggle_with_force("linked", shade.weight.is_some());
        let base = chip.get_attribute("data-title").unwrap_or_default();
        match shade.weight {
            Some(w) => {
                let _ = chip.set_attribute("data-weight", &w.to_string());
                let _ = chip.set_attribute("title", &format!("{base}: {unit} {w:.4}"));
            }
            None => {
                let _ = chip.remove_attribute("data-weight");
                let _ = chip.set_attribute("title", &base);
            }
        }
    }
}

/// The marks of the selection on one chip: pinned, focused, and a pinned pair's query or key.
fn mark(chip: &web_sys::HtmlElement, i: usize, (selected, key, focus): (Option<usize>, Option<usize>, Option<usize>)) {
    let classes = chip.class_list();
    let _ = classes.toggle_with_force("selected", selected == Some(i));
    let _ = classes.toggle_with_force("key", key == Some(i));
    let _ = classes.toggle_with_force("focus", focus == Some(i));
    let _ = chip.set_attribute("aria-pressed", if selected == Some(i) { "true" } else { "false" });
    let pair = if key.is_some() && selected == Some(i) {
        Some("query")
    } else if key == Some(i) {
        Some("key")
    } else {
        None
    };
    let _ = match pair {
        Some(pair) => chip.set_attribute("data-pair", pair),
        None => chip.remove_attribute("data-pair"),
    };
}

/// The shade query for the token in focus, in the matrix the maps show.
fn shade_query(ctx: Ctx) -> Option<Query> {
    let n = ctx.visible();
    let focus = ctx.focus().filter(|&f| f < n)?;
    let (look, direction, surprisal) = (ctx.matrix_look(), ctx.view.direction().get(), ctx.view.surprisal().get());
    let run = ctx.run.with(|r| r.as_ref().map(|r| r.id))?;
    (!surprisal).then_some(Query::Shade { run, n, look, focus, direction })
}

/// A shade query with its positions left out.
fn without_positions(query: Query) -> Query {
    match query {
        Query::Shade { run, look, focus, direction, .. } => Query::Shade { run, n: 0, look, focus, direction },
        other => other,
    }
}

#[component]
pub fn TokenStream(ctx: Ctx) -> impl IntoView {
    let stream = NodeRef::<html::Div>::new();
    let shown = Memo::new(move |_| {
        let n = ctx.visible();
        ctx.run.with(|run| run.as_ref().map_or(Vec::new(), |r| r.tokens[..n.min(r.tokens.len())].iter().enumerate().map(|(i, t)| (i, i >= r.prompt_len, t.clone())).collect::<Vec<_>>()))
    });
    let query = Memo::new(move |_| shade_query(ctx));
    Effect::new(move |_| {
        if let Some(query) = query.get() {
            ctx.views.ask(query, false);
        }
    });
    // The shades to draw: by surprisal, by the shade reply for the token in focus, or none.
    let shades = Memo::new(move |_| {
        let n = shown.with(Vec::len);
        let weights = if ctx.view.surprisal().get() {
            predictions_of(ctx, n).map_or(vec![None; n], |p| surprisals(&p, n))
        } else {
            // A reply for fewer positions of the same question still holds for those (the run
            // streams on); any other is not this question's.
            let asked = query.get().map(without_positions);
            match ctx.views.shade.get() {
                Some((replied, Ok(Reply::Shade(mut weights)))) if asked.is_some() && asked == Some(without_positions(replied.clone())) && weights.len() <= n => {
                    weights.resize(n, None);
                    weights
                }
                _ => vec![None; n],
            }
        };
        // Shade relative to the strongest link so weak heads still show their shape.
        let strongest = weights.iter().flatten().copied().fold(0.0f32, f32::max);
        weights.into_iter().map(|weight| Shade { weight, strength: weight.map_or(0.0, |w| if strongest > 0.0 { w / strongest } else { 0.0 }) }).collect::<Vec<_>>()
    });
    // What the chips show now: their tokens, and their shades.
    let painted = StoredValue::new((Vec::<(usize, u32)>::new(), Vec::<Shade>::new()));
    Effect::new(move |_| {
        let tokens: Vec<(usize, u32)> = shown.with(|s| s.iter().map(|(i, _, t)| (*i, t.id)).collect());
        let (Some(stream), shades) = (stream.get(), shades.get()) else { return };
        let unit = if ctx.view.with_untracked(|v| v.surprisal) { "surprisal (bits)" } else { "weight" };
        painted.update_value(|(drawn, before)| {
            // chips made anew start unshaded: those after the first changed token are painted
            let kept = drawn.iter().zip(&tokens).take_while(|(a, b)| a == b).count().min(before.len());
            paint(&stream.get_elements_by_class_name("chip"), &shades, &before[..kept], unit);
            *drawn = tokens;
            *before = shades;
        });
    });
    // The selection marks: only the chips whose marks change are touched.
    let marks = Memo::new(move |_| (ctx.view.selected().get(), ctx.view.key().get()));
    let marked = StoredValue::new((None, None, None));
    Effect::new(move |_| {
        shown.track(); // chips made anew start unmarked
        let (selected, key) = marks.get();
        let now = (selected, key, ctx.focus());
        let Some(stream) = stream.get() else { return };
        let before = marked.get_value();
        let touched = [before.0, before.1, before.2, now.0, now.1, now.2];
        for i in touched.into_iter().flatten() {
            if let Some(chip) = stream.query_selector(&format!(".chip[data-token-index=\"{i}\"]")).ok().flatten().and_then(|c| c.dyn_into().ok()) {
                mark(&chip, i, now);
            }
        }
        marked.set_value(now);
    });
    let direction_label = move || match ctx.view.direction().get() {
        Direction::AttendsTo => "attends to",
        Direction::AttendedBy => "is attended by",
    };
    let busy = move || if query.get().is_some() && !ctx.views.shade.current() && !ctx.view.surprisal().get() { "true" } else { "false" };
    view! {
        <section class="stream-panel" aria-label="Tokens">
            <div class="panel-head">
                <h2>"Tokens"</h2>
                <button
                    class="toggle"
                    title="Switch between what the token attends to and what attends to it"
                    on:click=move |_| ctx.edit(|v| v.direction = match v.direction {
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
                aria-busy=busy
                node_ref=stream
                on:mouseover=move |ev| hover(ctx, chip_of(&ev))
                on:mouseleave=move |_| hover(ctx, None)
                on:focusin=move |ev| hover(ctx, chip_of(&ev))
                on:focusout=move |_| hover(ctx, None)
                on:click=move |ev| {
                    if let Some(i) = chip_of(&ev) {
                        ctx.edit(|v| v.select(if v.selected == Some(i) && v.key.is_none() { None } else { Some(i) }));
                    }
                }
            >
                <For each=move || shown.get() key=|(i, _, token)| (*i, token.id) let((i, generated, token))>
                    {
                        let newlines = token.text.matches('\n').count();
                        let title = format!("#{i} id {} “{}”", token.id, token.label);
                        view! {
                            <button class="chip" class:generated=generated data-token-index=i data-token-id=token.id aria-pressed="false" data-title=title.clone() title=title style="--w: 0.000">
                                {token.label.clone()}
                            </button>
                            {(0..newlines).map(|_| view! { <span class="break"></span> }).collect_view()}
                        }
                    }
                </For>
            </div>
        </section>
    }
}
