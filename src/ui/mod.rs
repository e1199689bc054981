//! The page: Leptos components over plain view models. Components read signals and draw; the
//! model runs in the inference worker and the views worker answers what to draw (`bridge`,
//! `views`); the page computes nothing that grows with the context.

mod analysis;
mod answers;
mod app;
mod bridge;
mod cache;
mod compare;
mod controls;
mod export;
mod heatmaps;
mod hub_state;
mod lines;
mod link;
mod map;
mod models;
mod pan;
mod positions;
mod state;
mod stream;
mod timeline;
mod views;
mod welcome;

use wasm_bindgen::JsCast;

/// Shows a panic on the page (as text, in an alert box) as well as in the console, so a bug
/// never leaves a silently dead tab.
fn report_panics() {
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        let Some(document) = web_sys::window().and_then(|w| w.document()) else { return };
        let (Ok(report), Some(body)) = (document.create_element("div"), document.body()) else { return };
        report.set_class_name("fatal");
        let _ = report.set_attribute("role", "alert");
        report.set_text_content(Some(&format!("headlight hit a bug and stopped: {info}. Reload the page to start again.")));
        let _ = body.prepend_with_node_1(report.unchecked_ref());
    }));
}

pub fn start() {
    report_panics();
    leptos::mount::mount_to_body(app::App);
}
