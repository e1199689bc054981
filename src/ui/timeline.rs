//! The generation timeline: every step kept; scrub, step or play through them. Step `s` shows
//! the first `prompt_len + s` positions, exactly as they were when token `s` had been generated.

use std::time::Duration;

use leptos::prelude::*;

use crate::ui::state::Ctx;
use crate::view::state::ViewStateStoreFields;

/// Time between steps while playing.
const PLAY_INTERVAL: Duration = Duration::from_millis(450);

#[component]
pub fn Timeline(ctx: Ctx) -> impl IntoView {
    let steps = move || ctx.run.with(|r| r.as_ref().map_or(0, |r| r.steps()));
    let step = move || ctx.view.step().get().unwrap_or_else(steps).min(steps());
    // The last step follows the stream; any earlier one stays put while tokens arrive.
    let go = move |s: usize| {
        let last = steps();
        ctx.edit(|v| v.step = (s < last).then_some(s));
    };
    Effect::new(move |previous: Option<Option<IntervalHandle>>| {
        if let Some(Some(interval)) = previous {
            interval.clear();
        }
        if !ctx.playing.get() {
            return None;
        }
        untrack(|| {
            if step() >= steps() {
                go(0);
            }
        });
        let tick = move || {
            let next = step() + 1;
            go(next.min(steps()));
            if next >= steps() {
                ctx.playing.set(false);
            }
        };
        set_interval_with_handle(tick, PLAY_INTERVAL).ok()
    });
    // Always laid out, so the panels below stay put when the first token arrives.
    let empty = move || steps() == 0;
    view! {
        <section class="timeline" aria-label="Generation timeline">
            <button title="First step" prop:disabled=empty aria-label="First step" on:click=move |_| go(0)>"|◀"</button>
            <button title="Previous step" prop:disabled=empty aria-label="Previous step" on:click=move |_| go(step().saturating_sub(1))>"◀"</button>
            <button
                class="play"
                prop:disabled=empty
                aria-label=move || if ctx.playing.get() { "Pause" } else { "Play" }
                on:click=move |_| ctx.playing.update(|p| *p = !*p)
            >
                {move || if ctx.playing.get() { "❚❚" } else { "▶" }}
            </button>
            <button title="Next step" prop:disabled=empty aria-label="Next step" on:click=move |_| go((step() + 1).min(steps()))>"▶|"</button>
            <input
                type="range"
                prop:disabled=empty
                min="0"
                max=move || steps().to_string()
                prop:value=move || step().to_string()
                aria-label="Generation step"
                on:input=move |ev| {
                    if let Ok(s) = event_target_value(&ev).parse() {
                        ctx.playing.set(false);
                        go(s);
                    }
                }
            />
            <span class="step-label" data-step=step>{move || if empty() { "no generated tokens".to_string() } else { format!("step {} of {}", step(), steps()) }}</span>
        </section>
    }
}
