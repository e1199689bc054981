//! The worker's event loop: messages in, model work, messages out.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Promise, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, spawn_local};
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent, Response};

use crate::checkpoint::Checkpoint;
use crate::model::generate::Sampler;
use crate::session::{Session, Stop};
use crate::worker::protocol::{Finish, FromWorker, ModelInfo, Rows, RunRequest, ToWorker};

/// The bundled model, relative to the worker script (so any sub-path works).
const MODEL_DIR: &str = "models/tiny";
const MODEL_NAME: &str = "tiny";

#[derive(Default)]
struct State {
    checkpoint: Option<Rc<Checkpoint>>,
    /// The newest run asked for; older runs stop at their next step.
    latest: u32,
    cancelled: bool,
    /// A run asked for before the model was ready.
    pending: Option<RunRequest>,
}

impl State {
    fn interruption(&self, run: u32) -> Option<Finish> {
        if self.latest != run {
            Some(Finish::Superseded)
        } else if self.cancelled {
            Some(Finish::Cancelled)
        } else {
            None
        }
    }
}

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

fn post(message: &FromWorker) {
    match serde_wasm_bindgen::to_value(message) {
        Ok(value) => {
            if let Err(e) = scope().post_message(&value) {
                web_sys::console::error_2(&"headlight worker: cannot post a message".into(), &e);
            }
        }
        Err(e) => web_sys::console::error_1(&format!("headlight worker: cannot serialise a message: {e}").into()),
    }
}

fn now() -> f64 {
    js_sys::Date::now()
}

/// Lets the event loop run (and deliver messages) before the next step.
async fn yield_now() {
    let promise = Promise::new(&mut |resolve, _| {
        let _ = scope().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0);
    });
    let _ = JsFuture::from(promise).await;
}

fn js_error(e: JsValue) -> String {
    e.as_string().or_else(|| e.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message()))).unwrap_or_else(|| "unknown error".into())
}

async fn fetch_bytes(file: &str) -> Result<Vec<u8>, String> {
    post(&FromWorker::Loading { what: format!("downloading {file}") });
    let url = format!("{MODEL_DIR}/{file}");
    let response: Response = JsFuture::from(scope().fetch_with_str(&url))
        .await
        .map_err(|e| format!("{url}: {}", js_error(e)))?
        .unchecked_into();
    if !response.ok() {
        return Err(format!("{url}: the server answered {} {}", response.status(), response.status_text()));
    }
    let buffer = JsFuture::from(response.array_buffer().map_err(js_error)?).await.map_err(js_error)?;
    Ok(Uint8Array::new(&buffer).to_vec())
}

async fn load() -> Result<(Checkpoint, ModelInfo), String> {
    let config = fetch_bytes("config.json").await?;
    let tokenizer = fetch_bytes("tokenizer.json").await?;
    let weights = fetch_bytes("model.safetensors").await?;
    post(&FromWorker::Loading { what: "building the model".into() });
    yield_now().await;
    let checkpoint = Checkpoint::from_bytes(&config, &weights, &tokenizer).map_err(|e| e.to_string())?;
    let c = checkpoint.config();
    let info = ModelInfo { name: MODEL_NAME.into(), n_layer: c.n_layer, n_head: c.n_head, n_positions: c.n_positions };
    Ok((checkpoint, info))
}

/// Runs one request to its end, posting the prompt and every step.
async fn run(state: &Rc<RefCell<State>>, checkpoint: &Checkpoint, request: &RunRequest) -> Result<Finish, String> {
    let (model, tokenizer) = (&checkpoint.model, &checkpoint.tokenizer);
    let run = request.run;
    let mut sampler = Sampler::new(request.decoding).map_err(|e| e.to_string())?;
    let ids = tokenizer.encode(&request.prompt).map_err(|e| e.to_string())?;
    let started = now();
    let mut session = Session::start(model, &ids, true).map_err(|e| e.to_string())?;
    let rows = {
        let capture = session.capture().expect("the session captures");
        (0..ids.len()).map(|q| Rows::of(capture, q)).collect()
    };
    post(&FromWorker::Prompt { run, tokens: tokenizer.tokens(&ids), rows, millis: now() - started });
    for step in 0..request.new_tokens {
        yield_now().await;
        if let Some(finish) = state.borrow().interruption(run) {
            return Ok(finish);
        }
        if session.room(model) == 0 {
            return Ok(Finish::Stopped(Stop::ContextFull));
        }
        let started = now();
        let sampled = sampler.pick(session.last_logits());
        let id = request.forced.get(step).copied().unwrap_or(sampled);
        session.push(model, id).map_err(|e| e.to_string())?;
        let position = session.ids().len() - 1;
        let rows = Rows::of(session.capture().expect("the session captures"), position);
        let token = tokenizer.tokens(&[id]).remove(0);
        post(&FromWorker::Step { run, token, rows, millis: now() - started });
        if id == model.config.eos_token_id {
            return Ok(Finish::Stopped(Stop::EndOfText));
        }
    }
    Ok(Finish::Stopped(Stop::Count))
}

fn start_run(state: Rc<RefCell<State>>, request: RunRequest) {
    spawn_local(async move {
        // Let queued messages (a newer Run, a Cancel) arrive before the prompt's forward pass.
        yield_now().await;
        if let Some(finish) = state.borrow().interruption(request.run) {
            post(&FromWorker::Done { run: request.run, finish });
            return;
        }
        let Some(checkpoint) = state.borrow().checkpoint.clone() else { return };
        let message = match run(&state, &checkpoint, &request).await {
            Ok(finish) => FromWorker::Done { run: request.run, finish },
            Err(error) => FromWorker::Failed { run: request.run, error },
        };
        post(&message);
    });
}

fn on_message(state: &Rc<RefCell<State>>, event: MessageEvent) {
    let message: ToWorker = match serde_wasm_bindgen::from_value(event.data()) {
        Ok(message) => message,
        Err(e) => return web_sys::console::error_1(&format!("headlight worker: unreadable message: {e}").into()),
    };
    match message {
        ToWorker::Run(request) => {
            let mut s = state.borrow_mut();
            s.latest = request.run;
            s.cancelled = false;
            if s.checkpoint.is_some() {
                drop(s);
                start_run(state.clone(), request);
            } else {
                s.pending = Some(request);
            }
        }
        ToWorker::Cancel { run } => {
            let mut s = state.borrow_mut();
            if s.latest == run {
                s.cancelled = true;
            }
        }
    }
}

/// The worker's entry point: listens for messages and loads the model.
pub fn start() {
    console_error_panic_hook::set_once();
    let state = Rc::new(RefCell::new(State::default()));
    let handler = {
        let state = state.clone();
        Closure::<dyn Fn(MessageEvent)>::new(move |event| on_message(&state, event))
    };
    scope().set_onmessage(Some(handler.as_ref().unchecked_ref()));
    handler.forget(); // lives as long as the worker
    spawn_local(async move {
        match load().await {
            Ok((checkpoint, model)) => {
                let warnings = checkpoint.warnings.clone();
                state.borrow_mut().checkpoint = Some(Rc::new(checkpoint));
                post(&FromWorker::Ready { model, warnings });
                let pending = state.borrow_mut().pending.take();
                if let Some(request) = pending {
                    start_run(state, request);
                }
            }
            Err(error) => post(&FromWorker::LoadFailed { error }),
        }
    });
}
