//! The first minute on the page: without a link, the default prompt runs with the head most worth
//! seeing already open (found from the head roles of that run), and one dismissable line says
//! what to try. Dismissed once, the line never comes back (localStorage).

use leptos::prelude::*;

use crate::analysis::roles::{Role, roles_of, showcase};
use crate::ui::state::Ctx;

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

    /// The page opened without a link: the guide shows (unless dismissed before) and the
    /// default run opens its showcase head.
    pub fn start(self, ctx: Ctx) {
        self.shown.set(!dismissed());
        open_showcase(ctx, self.picked);
    }
}

/// Once the first run is done, opens its showcase head over every token it shows (as the roles
/// table scores them), unless the user has picked a view by then, and says in `picked` which
/// head and why.
fn open_showcase(ctx: Ctx, picked: RwSignal<Option<String>>) {
    let start_view = ctx.view.get_untracked();
    Effect::new(move |done: Option<bool>| {
        if done == Some(true) {
            return true;
        }
        let roles = ctx.run.with(|run| {
            let run = run.as_ref().filter(|r| r.finish.is_some())?;
            let capture = run.capture.as_ref().filter(|c| !run.tokens.is_empty() && c.len() >= run.tokens.len())?;
            let ids: Vec<u32> = run.tokens.iter().map(|t| t.id).collect();
            Some(roles_of(capture, &ids))
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
            ctx.view.update(|v| {
                v.layer = layer;
                v.head = h;
            });
            picked.set(Some(format!("Showing layer {layer}, head {h}, {why} (score {score:.2}).")));
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
