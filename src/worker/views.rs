//! The views worker's event loop: rows in from the inference worker, queries in from the page,
//! answers out. A query waits until the positions it reads are in; a newer query of a kind
//! replaces one still waiting, so a burst of clicks or of streamed tokens is answered once.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::spawn_local;
use web_sys::{MessageEvent, MessagePort};

use crate::capture::Capture;
use crate::views::query::Query;
use crate::views::store::Store;
use crate::worker::protocol::{FromViews, ToViews};
use crate::worker::scope::{listen, post, yield_now};

/// A port and the listener it calls.
type Port = (MessagePort, Closure<dyn Fn(MessageEvent)>);

#[derive(Default)]
struct State {
    store: Store,
    /// Queries not answered yet, oldest first.
    pending: Vec<Query>,
    /// Whether answering is under way (it runs between messages).
    draining: bool,
    /// The port from the inference worker, and its listener.
    port: Option<Port>,
}

/// The first waiting query whose positions are in, answered.
fn next_answer(state: &Rc<RefCell<State>>) -> Option<FromViews> {
    let mut s = state.borrow_mut();
    let State { store, pending, .. } = &mut *s;
    pending.iter().enumerate().find_map(|(i, query)| store.answer(query).map(|reply| (i, reply))).map(|(i, reply)| FromViews::Answer { query: pending.remove(i), reply: Box::new(reply) })
}

/// Answers what can be answered, one query at a time, letting messages in between.
fn drain(state: &Rc<RefCell<State>>) {
    if std::mem::replace(&mut state.borrow_mut().draining, true) {
        return;
    }
    let state = state.clone();
    spawn_local(async move {
        loop {
            yield_now().await;
            let Some(answer) = next_answer(&state) else { break };
            post(&answer);
        }
        state.borrow_mut().draining = false;
    });
}

fn on_message(state: &Rc<RefCell<State>>, event: MessageEvent) {
    let message: ToViews = match serde_wasm_bindgen::from_value(event.data()) {
        Ok(message) => message,
        Err(e) => return web_sys::console::error_1(&format!("headlight views: unreadable message: {e}").into()),
    };
    match message {
        ToViews::Connect { port } => {
            let listener = {
                let state = state.clone();
                Closure::<dyn Fn(MessageEvent)>::new(move |event| on_message(&state, event))
            };
            port.set_onmessage(Some(listener.as_ref().unchecked_ref()));
            if let Some((old, _)) = state.borrow_mut().port.replace((port, listener)) {
                old.set_onmessage(None);
                old.close();
            }
        }
        ToViews::Ask(query) => {
            let mut s = state.borrow_mut();
            s.pending.retain(|older| !query.replaces(older));
            s.pending.push(query);
        }
        ToViews::Begin { slot, run, n_layer, n_head, n_positions, reserve, tokens } => {
            state.borrow_mut().store.begin(slot, run, Capture::for_app(n_layer, n_head, n_positions), reserve, tokens);
        }
        ToViews::Rows { slot, run, rows, mut token } => {
            let mut s = state.borrow_mut();
            let last = rows.len().saturating_sub(1);
            for (i, row) in rows.iter().enumerate() {
                let token = if i == last { token.take() } else { None };
                s.store.add(slot, run, row.position, &row.weights.to_vec(), &row.value_norms, token);
            }
        }
    }
    drain(state);
}

/// The views worker's entry point.
pub fn start() {
    console_error_panic_hook::set_once();
    let state = Rc::new(RefCell::new(State::default()));
    listen(move |event| on_message(&state, event));
    post(&FromViews::Started);
}
