//! The page's end of the worker: starts it, sends requests, hands replies to a callback.

use serde::Serialize;
use wasm_bindgen::prelude::*;
use web_sys::{ErrorEvent, MessageEvent, Worker};

use crate::worker::protocol::{FromWorker, ToWorker};

/// The worker's loader script, written by Trunk next to the page.
const WORKER_SCRIPT: &str = "./headlight-worker_loader.js";

pub struct Bridge {
    worker: Worker,
    _on_message: Closure<dyn Fn(MessageEvent)>,
    _on_error: Closure<dyn Fn(ErrorEvent)>,
}

/// Dropping the bridge ends its worker.
impl Drop for Bridge {
    fn drop(&mut self) {
        // Unhooked first: nothing the dead worker sent reaches the closures dropped with it.
        self.worker.set_onmessage(None);
        self.worker.set_onerror(None);
        self.worker.terminate();
    }
}

impl Bridge {
    pub fn spawn(on_message: impl Fn(FromWorker) + 'static, on_error: impl Fn(String) + 'static) -> Result<Bridge, String> {
        let worker = Worker::new(WORKER_SCRIPT).map_err(|e| format!("the inference worker cannot start: {e:?}"))?;
        let on_message = Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| {
            match serde_wasm_bindgen::from_value::<FromWorker>(event.data()) {
                Ok(message) => on_message(message),
                Err(e) => web_sys::console::error_1(&format!("headlight: unreadable worker message: {e}").into()),
            }
        });
        let on_error = Closure::<dyn Fn(ErrorEvent)>::new(move |event: ErrorEvent| on_error(event.message()));
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        Ok(Bridge { worker, _on_message: on_message, _on_error: on_error })
    }

    pub fn send(&self, message: &ToWorker) {
        // Seeds are u64: BigInt carries them whole where a Number would round them.
        let serializer = serde_wasm_bindgen::Serializer::new().serialize_large_number_types_as_bigints(true);
        let sent = message.serialize(&serializer).map_err(|e| JsValue::from_str(&e.to_string())).and_then(|value| self.worker.post_message(&value));
        if let Err(e) = sent {
            web_sys::console::error_2(&"headlight: cannot reach the worker".into(), &e);
        }
    }
}
