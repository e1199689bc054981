//! The permalink in the address bar: written as the view changes, read when the page opens and
//! on back/forward. A deliberate change of view (another mode, head or matrix) is a history
//! entry, so back and forward walk through them; the rest (a pinned token, a moved window, the
//! timeline, a scale) rewrites the current entry, at most once per [`REWRITE_MS`].

use leptos::ev;
use leptos::prelude::*;
use wasm_bindgen::JsValue;

use crate::hub::{self, ModelSource};
use crate::permalink::{self, Permalink};
use crate::ui::state::{Ctx, ModelStatus, RunData};
use crate::ui::welcome::Welcome;
use crate::view::state::ViewState;

/// The quiet time after which a rewrite of the address bar is made: a burst of clicks, arrow
/// presses or timeline steps writes it once.
const REWRITE_MS: u64 = 250;

/// A rewrite of the address bar on its timer, and what writes it.
type Rewrite = (TimeoutHandle, Box<dyn FnOnce()>);

thread_local! {
    /// The rewrite of the address bar waiting for the view to be quiet, and what writes it
    /// (the link is made then, not at every click): the address bar is one per page.
    static REWRITE: std::cell::RefCell<Option<Rewrite>> = const { std::cell::RefCell::new(None) };
}

/// Writes the waiting rewrite now (the link is about to be copied), or forgets it (`write` false).
pub fn flush(write: bool) {
    if let Some((handle, rewrite)) = REWRITE.with_borrow_mut(Option::take) {
        handle.clear();
        if write {
            rewrite();
        }
    }
}

fn fragment() -> String {
    window().location().hash().unwrap_or_default()
}

fn write_fragment(fragment: &str, new_entry: bool) {
    let url = format!("#{fragment}");
    let history = window().history();
    let written = history.and_then(|h| if new_entry { h.push_state_with_url(&JsValue::NULL, "", Some(&url)) } else { h.replace_state_with_url(&JsValue::NULL, "", Some(&url)) });
    if let Err(e) = written {
        web_sys::console::warn_2(&"headlight: cannot update the address bar".into(), &e);
    }
}

/// Whether going from `before` to `after` is a deliberate change of view, which back and forward
/// walk: another mode, layer, head, matrix, unit or compared prompt.
fn deliberate(before: &ViewState, after: &ViewState) -> bool {
    let key = |v: &ViewState| (v.mode, v.layer, v.head, v.source, v.words, v.compare.clone());
    key(before) != key(after)
}

fn link_of(model: ModelSource, run: &RunData, view: &ViewState) -> Permalink {
    Permalink { model, prompt: run.prompt.clone(), generation: run.generation, generated: run.generated(), view: view.clone() }
}

/// Applies a fragment: the view at once; the prompt and its replay as soon as the model is ready
/// (`pending`). A fragment for the run already shown only changes the view.
fn restore(ctx: Ctx, fragment: &str, pending: RwSignal<Option<Vec<u32>>>) {
    let Some(decoded) = permalink::decode(fragment) else { return };
    let mut problems = decoded.problems;
    let mut link = decoded.link;
    if let ModelStatus::Ready(info) = ctx.model.get_untracked() {
        problems.extend(permalink::fit_view(&mut link.view, info.n_layer, info.n_head));
    }
    if ctx.hub.loaded.with_untracked(|m| m.as_ref().map(|m| &m.source) != Some(&link.model)) {
        ctx.open_source(link.model.clone());
    }
    ctx.notice.set((!problems.is_empty()).then(|| problems.join(" ")));
    let shown = ctx.run.with_untracked(|r| r.as_ref().is_some_and(|r| r.finish.is_some() && r.prompt == link.prompt && r.generation.bos == link.generation.bos && r.generated() == link.generated));
    ctx.edit(|v| *v = link.view);
    if shown {
        return;
    }
    ctx.prompt.set(link.prompt.clone());
    ctx.generation.set(link.generation);
    if !link.prompt.is_empty() {
        pending.set(Some(link.generated));
    }
}

/// Reads the link the page was opened with (or runs the default prompt and welcomes the
/// visitor), then keeps the address bar and the view in step.
pub fn install(ctx: Ctx, welcome: Welcome) {
    let pending = RwSignal::new(None);
    if permalink::decode(&fragment()).is_some() {
        restore(ctx, &fragment(), pending);
    } else {
        ctx.prompt.set(hub::DEFAULT_PROMPT.into());
        pending.set(Some(Vec::new()));
        ctx.choose(ModelSource::Bundled);
        welcome.start(ctx);
    }
    Effect::new(move |_| {
        if matches!(ctx.model.get(), ModelStatus::Ready(_))
            && let Some(forced) = pending.get()
        {
            pending.set(None);
            ctx.start_run(forced);
        }
    });
    // A link read before the model was ready is checked against it once it is.
    Effect::new(move |_| {
        let ModelStatus::Ready(info) = ctx.model.get() else { return };
        let mut view = ctx.view.get();
        let problems = permalink::fit_view(&mut view, info.n_layer, info.n_head);
        if !problems.is_empty() {
            ctx.edit(|v| *v = view);
            ctx.notice.update(|notice| *notice = Some(notice.iter().cloned().chain(problems).collect::<Vec<_>>().join(" ")));
        }
    });
    // A deliberate view change is a history entry at once; any other change rewrites the entry
    // once the view has been quiet for a moment.
    Effect::new(move |written: Option<Option<(u32, ViewState)>>| {
        let view = ctx.view.get();
        let previous = written.flatten();
        let Some(model) = ctx.hub.loaded.with(|m| m.as_ref().map(|m| m.source.clone())) else { return previous };
        let Some(run) = ctx.run.with(|r| r.as_ref().filter(|r| r.finish.is_some() && r.error.is_none()).map(|r| r.id)) else { return previous };
        flush(false);
        let entry = previous.as_ref().is_none_or(|(id, p)| *id != run || deliberate(p, &view));
        let shown = view.clone();
        let write = move || {
            let link = ctx.run.with_untracked(|r| r.as_ref().filter(|r| r.id == run).map(|r| permalink::encode(&link_of(model, r, &shown))));
            if let Some(link) = link.filter(|link| format!("#{link}") != fragment()) {
                write_fragment(&link, entry);
            }
        };
        if entry {
            write();
        } else if let Ok(handle) = set_timeout_with_handle(|| flush(true), std::time::Duration::from_millis(REWRITE_MS)) {
            REWRITE.with_borrow_mut(|pending| *pending = Some((handle, Box::new(write))));
        }
        Some((run, view))
    });
    let _ = window_event_listener(ev::popstate, move |_| restore(ctx, &fragment(), pending));
}
