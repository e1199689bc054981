//! The prompt, the generation settings, Run and Cancel, and the status line.

use leptos::ev::KeyboardEvent;
use leptos::prelude::*;

use crate::model::generate::{GenerationSettings, MAX_NEW_TOKENS};
use crate::session::Stop;
use crate::ui::state::{Ctx, ModelStatus, RunData};
use crate::worker::protocol::Finish;

/// A number field bound to one generation setting; text that does not parse leaves it as it was.
fn setting<T>(ctx: Ctx, label: &'static str, [min, max, step]: [&str; 3], get: fn(&GenerationSettings) -> T, set: fn(&mut GenerationSettings, T)) -> impl IntoView + use<T>
where
    T: std::str::FromStr + ToString + 'static,
{
    let (min, max, step) = (min.to_string(), max.to_string(), step.to_string());
    view! {
        <label class="setting">
            <span>{label}</span>
            <input
                type="number" min=min max=max step=step
                prop:value=move || ctx.generation.with(|g| get(g).to_string())
                on:change=move |ev| {
                    if let Ok(value) = event_target_value(&ev).parse() {
                        ctx.generation.update(|g| set(g, value));
                    }
                }
            />
        </label>
    }
}

/// How far reading the prompt has got, once its tokens are known.
fn read_so_far(run: &RunData) -> String {
    if run.prompt_len == 0 { String::new() } else { format!(": {} of {} tokens", run.read, run.prompt_len) }
}

fn status_text(model: &ModelStatus, run: Option<&RunData>) -> String {
    match (model, run) {
        (ModelStatus::Loading(what), _) => format!("Loading the model: {what}…"),
        (ModelStatus::Failed(error), _) => error.clone(),
        (ModelStatus::Ready(info), None) => format!("Model “{}” ready: {} layers × {} heads, context {}; {}.", info.name, info.n_layer, info.n_head, info.n_positions, info.engine()),
        (ModelStatus::Ready(_), Some(run)) => {
            if let Some(error) = &run.error {
                return format!("This run failed: {error}");
            }
            let made = run.steps();
            let timing = if made > 0 { format!(", {:.0} ms per token", run.step_millis / made as f64) } else { String::new() };
            // What the user waited, from Run to the last map drawn, beside the model's own time.
            let waited = run.waited.map_or(String::new(), |w| format!("; {:.1} s from Run to the last map drawn", w / 1000.0));
            let summary = format!("{} prompt tokens read in {:.0} ms; {made} generated{timing}{waited}", run.prompt_len, run.prompt_millis);
            match run.finish {
                None if !run.prompt_read() => format!("Reading the prompt{}…", read_so_far(run)),
                None => format!("Generating {made} of {}… ({summary})", run.wanted),
                Some(Finish::Stopped(Stop::Count)) => format!("Done. {summary}."),
                Some(Finish::Stopped(Stop::EndOfText)) => format!("Done: the model ended the text. {summary}."),
                Some(Finish::Stopped(Stop::ContextFull)) => format!("Done: the context is full. {summary}."),
                Some(Finish::Stopped(Stop::Cancelled)) if !run.prompt_read() => format!("Cancelled while reading the prompt{}.", read_so_far(run)),
                Some(Finish::Stopped(Stop::Cancelled)) => format!("Cancelled. {summary}."),
                Some(Finish::Superseded) => "Superseded by a newer run.".into(),
            }
        }
    }
}

#[component]
pub fn Controls(ctx: Ctx) -> impl IntoView {
    let ready = move || ctx.model.with(|m| matches!(m, ModelStatus::Ready(_)));
    let running = move || ctx.run.with(|r| r.as_ref().is_some_and(RunData::running));
    let run = move || {
        ctx.edit(|v| v.step = None);
        ctx.start_run(Vec::new());
    };
    let on_key = move |ev: KeyboardEvent| {
        if ev.key() == "Enter" && (ev.ctrl_key() || ev.meta_key()) {
            ev.prevent_default();
            run();
        }
    };
    let progress = move || {
        ctx.run.with(|r| match r {
            Some(r) if r.running() => Some((r.steps() as f64 + 1.0, r.wanted as f64 + 1.0)),
            _ => None,
        })
    };
    view! {
        <section class="controls" aria-label="Prompt and settings">
            <label class="prompt-label" for="prompt">"Prompt"</label>
            <textarea
                id="prompt"
                rows="4"
                spellcheck="false"
                placeholder="Type some text…"
                prop:value=move || ctx.prompt.get()
                on:input=move |ev| ctx.prompt.set(event_target_value(&ev))
                on:keydown=on_key
            ></textarea>
            <div class="settings">
                {setting(ctx, "New tokens", ["0", &MAX_NEW_TOKENS.to_string(), "1"], |g| g.new_tokens, |g, v: usize| g.new_tokens = v.min(MAX_NEW_TOKENS))}
                <label class="setting">
                    <span>"Decoding"</span>
                    <select
                        prop:value=move || if ctx.generation.with(|g| g.sample) { "sample" } else { "greedy" }
                        on:change=move |ev| {
                            let sample = event_target_value(&ev) == "sample";
                            ctx.generation.update(|g| g.sample = sample);
                        }
                    >
                        <option value="sample">"sample"</option>
                        <option value="greedy">"greedy"</option>
                    </select>
                </label>
                <fieldset class="sampling" prop:disabled=move || !ctx.generation.with(|g| g.sample)>
                    {setting(ctx, "Temperature", ["0.05", "5", "0.05"], |g| g.sampling.temperature, |g, v: f32| if v > 0.0 { g.sampling.temperature = v })}
                    {setting(ctx, "Top-k", ["0", "50257", "1"], |g| g.sampling.top_k, |g, v| g.sampling.top_k = v)}
                    {setting(ctx, "Top-p", ["0.01", "1", "0.01"], |g| g.sampling.top_p, |g, v: f32| if v > 0.0 && v <= 1.0 { g.sampling.top_p = v })}
                    {setting(ctx, "Seed", ["0", "18446744073709551615", "1"], |g| g.sampling.seed, |g, v| g.sampling.seed = v)}
                </fieldset>
            </div>
            <div class="actions">
                <button class="primary" id="run" on:click=move |_| run() prop:disabled=move || !ready() title="Run (Ctrl+Enter)">"Run"</button>
                <button id="cancel" on:click=move |_| ctx.cancel() prop:disabled=move || !running()>"Cancel"</button>
                <span class="kbd-hint">"Ctrl/⌘ + Enter"</span>
            </div>
            <div class="status" role="status" aria-live="polite">
                <progress
                    max=move || progress().map_or(1.0, |p| p.1)
                    value=move || progress().map_or(0.0, |p| p.0)
                    class:idle=move || progress().is_none()
                ></progress>
                <span
                    id="status-text"
                    data-ready=move || ready().to_string()
                    data-running=move || running().to_string()
                    data-kernels=move || ctx.model.with(|m| if let ModelStatus::Ready(info) = m { info.kernels.clone() } else { String::new() })
                    data-threads=move || ctx.model.with(|m| if let ModelStatus::Ready(info) = m { info.threads.to_string() } else { String::new() })
                >
                    {move || ctx.model.with(|m| ctx.run.with(|r| status_text(m, r.as_ref())))}
                </span>
            </div>
        </section>
    }
}
