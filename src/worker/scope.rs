//! What both workers need of the browser: their global scope, posting a message, listening,
//! the clock and letting the event loop run.

use js_sys::Promise;
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

pub(crate) fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

/// Serialises `message` and hands it to `send` (the worker's scope, or a port). A worker has no
/// one to tell about a failure but the console.
pub(crate) fn post_with(message: &impl Serialize, send: impl FnOnce(&JsValue) -> Result<(), JsValue>) {
    match serde_wasm_bindgen::to_value(message) {
        Ok(value) => {
            if let Err(e) = send(&value) {
                web_sys::console::error_2(&"headlight worker: cannot post a message".into(), &e);
            }
        }
        Err(e) => web_sys::console::error_1(&format!("headlight worker: cannot serialise a message: {e}").into()),
    }
}

/// Posts `message` to the page.
pub(crate) fn post(message: &impl Serialize) {
    post_with(message, |value| scope().post_message(value));
}

/// Hands every message the worker receives to `on_message`, for as long as the worker lives.
pub(crate) fn listen(on_message: impl Fn(MessageEvent) + 'static) {
    let handler = Closure::<dyn Fn(MessageEvent)>::new(on_message);
    scope().set_onmessage(Some(handler.as_ref().unchecked_ref()));
    handler.forget(); // lives as long as the worker
}

pub(crate) fn now() -> f64 {
    js_sys::Date::now()
}

/// Lets the event loop run (and deliver messages) before the next step.
pub(crate) use super::tick::yield_now;

pub(crate) async fn sleep(millis: f64) {
    let promise = Promise::new(&mut |resolve, _| {
        let _ = scope().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, millis as i32);
    });
    let _ = JsFuture::from(promise).await;
}

pub(crate) fn js_error(e: JsValue) -> String {
    e.as_string().or_else(|| e.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message()))).unwrap_or_else(|| "unknown error".into())
}
