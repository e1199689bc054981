//! Which matrix the maps and the token shading show: a head, or an aggregate; with the
//! first-token sink hidden or not; and whether the run starts with a BOS token.

use leptos::prelude::*;

use crate::analysis::aggregate::Source;
use crate::ui::state::Ctx;
use crate::view::state::ViewStateStoreFields;

/// The source drop-down and the two toggles, for the maps panel's header.
pub fn source_controls(ctx: Ctx) -> impl IntoView {
    let options = Source::ALL.into_iter().map(|s| view! { <option value=s.name()>{s.title()}</option> }).collect_view();
    // BOS changes the tokens: the run is read again, its generated text replayed.
    let set_bos = move |bos: bool| {
        ctx.generation.update(|g| g.bos = bos);
        let generated = ctx.run.with_untracked(|r| r.as_ref().map(|r| r.generated()).unwrap_or_default());
        ctx.edit(|v| v.select(None));
        ctx.start_run(generated);
    };
    view! {
        <label>"Show "
            <select
                id="source"
                prop:value=move || ctx.view.source().get().name()
                on:change=move |ev| {
                    if let Some(source) = Source::from_name(&event_target_value(&ev)) {
                        ctx.edit(|v| v.source = source);
                    }
                }
            >
                {options}
            </select>
        </label>
        <label class="check" title="Set the first token's weight to 0 and rescale the rest of each row to sum to 1">
            <input id="hide-sink" type="checkbox" prop:checked=move || ctx.view.hide_sink().get() on:change=move |ev| ctx.edit(|v| v.hide_sink = event_target_checked(&ev)) />
            "hide first token"
        </label>
        <label class="check" title="Put <|endoftext|> before the prompt, as GPT-2 saw it between documents in training (transformers adds none)">
            <input id="bos" type="checkbox" prop:checked=move || ctx.generation.with(|g| g.bos) on:change=move |ev| set_bos(event_target_checked(&ev)) />
            "BOS token"
        </label>
    }
}
