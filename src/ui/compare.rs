//! The compare view's second prompt: a field to type it, and the effect that reads it in the
//! worker once the main run is done (a run in progress would be superseded by it).

use leptos::prelude::*;

use crate::ui::state::{Ctx, ModelStatus, RunData};
use crate::view::state::{Mode, ViewStateStoreFields};
use crate::worker::protocol::Finish;

/// Reads the compare prompt whenever the compare view shows one that has not been read.
pub fn watch_compare(ctx: Ctx) {
    Effect::new(move |_| {
        let wanted = (ctx.view.mode().get() == Mode::Compare).then(|| ctx.view.compare().get()).filter(|c| !c.is_empty());
        let Some(wanted) = wanted else { return };
        let idle = ctx.run.with(|r| r.as_ref().is_none_or(|r| !r.running()));
        let ready = ctx.model.with(|m| matches!(m, ModelStatus::Ready(_)));
        // A compared run that was superseded (by a newer main run) is read again.
        let read = ctx.compare.with(|c| c.as_ref().filter(|c| c.finish != Some(Finish::Superseded)).map(|c| c.prompt.clone()));
        if idle && ready && read.as_deref() != Some(wanted.as_str()) {
            ctx.start_compare(wanted);
        }
    });
}

#[component]
pub fn CompareBar(ctx: Ctx) -> impl IntoView {
    let draft = RwSignal::new(ctx.view.with_untracked(|v| v.compare.clone()));
    // A link or back/forward changes the compared prompt: the field follows (and keeps what is
    // typed while other parts of the view change).
    let applied = Memo::new(move |_| ctx.view.compare().get());
    Effect::new(move |_| draft.set(applied.get()));
    let apply = move || {
        let text = draft.get_untracked();
        ctx.edit(|v| v.compare = text);
    };
    let status = move || {
        ctx.compare.with(|c| match c {
            None => String::new(),
            Some(c) if c.error.is_some() => format!("The compared prompt could not be read: {}", c.error.as_deref().unwrap_or_default()),
            Some(c) if RunData::running(c) => "Reading the compared prompt…".into(),
            Some(c) => format!("{} tokens", c.tokens.len()),
        })
    };
    view! {
        <div class="compare-bar" class:hidden=move || ctx.view.mode().get() != Mode::Compare>
            <label for="compare-prompt">"Compare with"</label>
            <input
                id="compare-prompt" type="text" placeholder="A second prompt, read at the same layer and head"
                prop:value=move || draft.get()
                on:input=move |ev| draft.set(event_target_value(&ev))
                on:keydown=move |ev| if ev.key() == "Enter" { apply() }
            />
            <button id="compare-run" on:click=move |_| apply()>"Compare"</button>
            <span class="compare-status">{status}</span>
        </div>
    }
}
