//! Yielding to the worker's event loop between steps, so that a Cancel or a newer Run is read
//! before the next one. `setTimeout(0)` would do it, but once timers nest the HTML standard
//! clamps their delay to at least 4 ms, a few milliseconds lost on every generated token. A
//! message the worker posts to itself through a `MessageChannel` is an ordinary task, run as
//! soon as the queue reaches it, with no clamp (what React's scheduler does for the same reason).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::MessageChannel;

/// One channel for the worker's life. Several tasks may yield at once (a run and an analysis):
/// each posts one message and queues its wake-up, and each message delivered wakes the oldest.
struct Tick {
    channel: MessageChannel,
    waiting: Rc<RefCell<VecDeque<Function>>>,
    _on_message: Closure<dyn FnMut()>,
}

impl Tick {
    fn new() -> Tick {
        let channel = MessageChannel::new().expect("a worker can open a MessageChannel");
        let waiting = Rc::new(RefCell::new(VecDeque::<Function>::new()));
        let on_message = {
            let waiting = waiting.clone();
            Closure::<dyn FnMut()>::new(move || {
                let wake = waiting.borrow_mut().pop_front();
                if let Some(wake) = wake {
                    let _ = wake.call0(&JsValue::UNDEFINED);
                }
            })
        };
        channel.port1().set_onmessage(Some(on_message.as_ref().unchecked_ref())); // also starts the port
        Tick { channel, waiting, _on_message: on_message }
    }
}

thread_local! {
    static TICK: Tick = Tick::new();
}

/// Lets the event loop run (and deliver messages) before the caller goes on.
pub(crate) async fn yield_now() {
    let promise = TICK.with(|tick| {
        Promise::new(&mut |resolve, _| {
            tick.waiting.borrow_mut().push_back(resolve);
            if let Err(e) = tick.channel.port2().post_message(&JsValue::UNDEFINED) {
                // no message, no wake-up: resolve now rather than never
                web_sys::console::error_2(&"headlight worker: cannot post to its own channel".into(), &e);
                if let Some(resolve) = tick.waiting.borrow_mut().pop_back() {
                    let _ = resolve.call0(&JsValue::UNDEFINED);
                }
            }
        })
    });
    let _ = JsFuture::from(promise).await;
}
