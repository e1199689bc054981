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

/// Mounts the app once `public/isolation.js` has settled whether the page is cross-origin
/// isolated (it may reload the page first, under its service worker, see there).
pub fn start() {
    report_panics();
    let isolation = web_sys::window().and_then(|w| js_sys::Reflect::get(&w, &"headlightIsolation".into()).ok()).and_then(|p| p.dyn_into::<js_sys::Promise>().ok());
    wasm_bindgen_futures::spawn_local(async move {
        if let Some(isolation) = isolation {
            let _ = wasm_bindgen_futures::JsFuture::from(isolation).await;
        }
        leptos::mount::mount_to_body(app::App);
    });
}
