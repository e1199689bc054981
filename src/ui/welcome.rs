//! The first minute on the page: without a link, the default prompt runs with the head most worth
//! seeing already open (found from the head roles of that run), and one dismissable line says
//! what to try. Dismissed once, neither comes back (localStorage): the page then opens plainly.

use leptos::prelude::*;

use crate::analysis::roles::{Role, showcase};
use crate::ui::state::Ctx;
use crate::views::query::{Query, Reply};

/// A first-token share from which the showcase hides the sink.
const SINK_HIDDEN_FROM: f32 = 0.5;

/// localStorage key that remembers the guide was dismissed.
const DISMISSED_KEY: &str = "headlight.guide-dismissed";

fn storage() -> Option<web_sys::Storage> {
    window().local_storage().ok().flatten()
}

fn dismissed() -> bool {
    storage().and_then(|s| s.get_item(DISMISSED_KEY).ok().flatten()).is_some()
}

/// The guide line's state: whether it shows, and which head was opened for the visitor.
#[derive(Clone, Copy)]
pub struct Welcome {
    shown: RwSignal<bool>,
    picked: RwSignal<Option<String>>,
}

impl Welcome {
    pub fn new() -> Welcome {
        Welcome { shown: RwSignal::new(false), picked: RwSignal::new(None) }
    }

    /// The page opened without a link: until the visitor dismisses the guide, it shows and the
    /// default run opens its showcase head; after that the page opens plainly.
    pub fn start(self, ctx: Ctx) {
        if !dismissed() {
            self.shown.set(true);
            open_showcase(ctx, self.picked);
        }
    }
}

/// Once the first run (the default prompt's) is done, opens its showcase head over every token
/// it shows (the roles table's scores: the views worker computes them once for both), and says
/// in `picked` which head and why; unless the user ran something else or picked a view by then.
fn open_showcase(ctx: Ctx, picked: RwSignal<Option<String>>) {
    let start_view = ctx.view.get_untracked();
    let first_run = StoredValue::new(None::<u32>);
    Effect::new(move |done: Option<bool>| {
        if done == Some(true) {
            return true;
        }
        let asked = ctx.run.with(|run| {
            let run = run.as_ref()?;
            let first = first_run.get_value().unwrap_or(run.id);
            first_run.set_value(Some(first));
            if run.id != first {
                return Some(None); // another run superseded the default one
            }
            (run.finish.is_some() && !run.tokens.is_empty() && run.read >= run.tokens.len()).then_some(Some(Query::Roles { run: run.id, n: run.tokens.len() }))
        });
        let Some(asked) = asked else { return false };
        let Some(asked) = asked else { return true };
        ctx.views.ask(asked.clone(), false);
        let roles = ctx.views.roles.with(|reply| match reply {
            Some((query, Ok(Reply::Roles(roles)))) if *query == asked => Some(roles.clone()),
            _ => None,
        });
        let Some(roles) = roles else { return false };
        if ctx.view.with_untracked(|v| (v.layer, v.head, v.mode) != (start_view.layer, start_view.head, start_view.mode)) {
            return true; // the user chose a view first: leave it
        }
        if let Some((head, role)) = showcase(&roles) {
            let (layer, h) = (head.layer, head.head);
            let score = head.score(role).unwrap_or(0.0);
            let why = match role {
                Role::Induction => "the strongest induction head on this text: from each repeated word it looks at the word that followed its first copy",
                _ => "the strongest previous-token head on this text: each token looks at the one before it",
            };
            // A head that parks most of its attention on the first token shows its pattern only
            // faintly beside that column: the sink is hidden, and the line says so.
            let sink = head.score(Role::First).filter(|&s| s >= SINK_HIDDEN_FROM);
            ctx.edit(|v| {
                v.layer = layer;
                v.head = h;
                v.hide_sink = sink.is_some();
            });
            let hidden = sink.map_or(String::new(), |s| format!(" It parks {:.0}% of its attention on the first token, so that weight is hidden (“hide first token”) and the rest of each row renormalised.", s * 100.0));
            picked.set(Some(format!("Showing layer {layer}, head {h}, {why} (score {score:.2}).{hidden}")));
        }
        true
    });
}

/// The guide line: what the open head is, and the three things to try.
#[component]
pub fn Guide(welcome: Welcome) -> impl IntoView {
    let Welcome { shown, picked } = welcome;
    let dismiss = move |_| {
        shown.set(false);
        if let Some(storage) = storage() {
            let _ = storage.set_item(DISMISSED_KEY, "1");
        }
    };
    move || {
        shown.get().then(|| {
            view! {
                <aside class="guide" id="guide" aria-label="Getting started">
                    <p>
                        {move || picked.get().map(|p| view! { <span id="guide-head">{p}" "</span> })}
                        "Try: "<strong>"click a token"</strong>" to see where it looks and what looks at it · switch to "
                        <strong>"By block"</strong>" (every head of a layer) or "<strong>"By layer"</strong>" (one head through all layers) · "
                        <strong>"step through generation"</strong>" with the timeline."
                    </p>
                    <button id="guide-dismiss" on:click=dismiss title="Hide this line for good">"Got it"</button>
                </aside>
            }
        })
    }
}
