//! The page's frame: header, notices, and the panels, plus the keyboard shortcuts.

use leptos::ev;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::ui::analysis::AnalysisPanel;
use crate::ui::controls::Controls;
use crate::ui::heatmaps::Heatmaps;
use crate::ui::link;
use crate::ui::models::Models;
use crate::ui::state::Ctx;
use crate::ui::stream::TokenStream;
use crate::ui::timeline::Timeline;
use crate::ui::welcome::{Guide, Welcome};

/// Arrows move the pinned token, Esc clears it; keys typed into a field stay there.
fn keyboard(ctx: Ctx) {
    let _ = window_event_listener(ev::keydown, move |ev| {
        let typing = ev.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()).is_some_and(|e| matches!(e.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"));
        if typing {
            return;
        }
        let n = ctx.visible();
        let moved = |from: Option<usize>, forward: bool| match (from, forward) {
            (None, true) => 0,
            (None, false) => n.saturating_sub(1),
            (Some(i), true) => (i + 1).min(n.saturating_sub(1)),
            (Some(i), false) => i.saturating_sub(1),
        };
        match ev.key().as_str() {
            "ArrowRight" | "ArrowLeft" if n > 0 => {
                ev.prevent_default();
                ctx.edit(|v| v.select(Some(moved(v.selected, ev.key() == "ArrowRight"))));
            }
            "Escape" => {
                ctx.hover.set(None);
                ctx.playing.set(false);
                ctx.edit(|v| v.select(None));
            }
            _ => {}
        }
    });
}

async fn copy_link(ctx: Ctx) {
    link::flush(true);
    let href = window().location().href().unwrap_or_default();
    let copied = JsFuture::from(window().navigator().clipboard().write_text(&href)).await;
    ctx.notice.set(Some(match copied {
        Ok(_) => "Link copied to the clipboard.".into(),
        Err(_) => "The clipboard is not available here; copy the link from the address bar.".into(),
    }));
}

#[component]
pub fn App() -> impl IntoView {
    let ctx = Ctx::new();
    let welcome = Welcome::new();
    link::install(ctx, welcome);
    keyboard(ctx);
    view! {
        <header class="top">
            <div>
                <h1>"headlight"</h1>
                <p class="tagline">"See what GPT-2's attention heads do, computed in your browser."</p>
            </div>
            <button id="copy-link" on:click=move |_| leptos::task::spawn_local(copy_link(ctx))>"Copy link"</button>
        </header>
        <div class="notice" role="alert" class:hidden=move || ctx.notice.with(Option::is_none)>
            <span id="notice-text">{move || ctx.notice.get()}</span>
            <button aria-label="Dismiss" on:click=move |_| ctx.notice.set(None)>"×"</button>
        </div>
        <main class="layout">
            <div class="side">
                <Models ctx />
                <Controls ctx />
            </div>
            <div class="results">
                <Guide welcome />
                <TokenStream ctx />
                <Timeline ctx />
                <Heatmaps ctx />
                <AnalysisPanel ctx />
            </div>
        </main>
    }
}
