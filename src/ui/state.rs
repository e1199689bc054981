//! The page's state: signals for the model, the settings, the current run and the view, and the
//! one place where worker messages change them.

use leptos::prelude::*;

use crate::capture::Capture;
use crate::permalink::Generation;
use crate::tokenizer::Token;
use crate::ui::bridge::Bridge;
use crate::view::state::ViewState;
use crate::worker::protocol::{Finish, FromWorker, ModelInfo, Rows, RunRequest, ToWorker};

#[derive(Debug, Clone, PartialEq)]
pub enum ModelStatus {
    Loading(String),
    Ready(ModelInfo),
    Failed(String),
}

/// Workers started in a row without the model getting ready before the page gives up.
const MAX_RESTARTS: u32 = 3;

/// One run as it streams in.
#[derive(Debug, Clone, PartialEq)]
pub struct RunData {
    pub id: u32,
    pub prompt: String,
    pub generation: Generation,
    /// Tokens asked for (the link's ids when replaying one).
    pub wanted: usize,
    pub tokens: Vec<Token>,
    pub prompt_len: usize,
    /// Empty until the prompt's rows arrive.
    pub capture: Option<Capture>,
    pub finish: Option<Finish>,
    pub error: Option<String>,
    pub prompt_millis: f64,
    pub step_millis: f64,
}

impl RunData {
    /// Ids generated so far.
    pub fn generated(&self) -> Vec<u32> {
        self.tokens[self.prompt_len..].iter().map(|t| t.id).collect()
    }

    pub fn steps(&self) -> usize {
        self.tokens.len() - self.prompt_len
    }

    pub fn running(&self) -> bool {
        self.finish.is_none() && self.error.is_none()
    }

    fn append(&mut self, rows: &Rows) {
        let capture = self.capture.get_or_insert_with(|| {
            let n_head = rows.layers.first().map_or(0, |l| l.len() / (rows.position + 1));
            Capture::new(rows.layers.len(), n_head)
        });
        capture.append(&rows.layers, 1);
    }
}

/// Every signal the components share, and the actions on them.
#[derive(Clone, Copy)]
pub struct Ctx {
    pub model: RwSignal<ModelStatus>,
    pub prompt: RwSignal<String>,
    pub generation: RwSignal<Generation>,
    pub run: RwSignal<Option<RunData>>,
    pub view: RwSignal<ViewState>,
    /// The token under the pointer, which shades the stream while no token is pinned.
    pub hover: RwSignal<Option<usize>>,
    /// A message about a link that could not be read whole, or the clipboard.
    pub notice: RwSignal<Option<String>>,
    pub playing: RwSignal<bool>,
    bridge: StoredValue<Option<Bridge>, LocalStorage>,
    next_id: StoredValue<u32>,
    /// Workers started since the model was last ready: a worker that dies on start is not
    /// restarted for ever.
    restarts: StoredValue<u32>,
}

impl Ctx {
    pub fn new() -> Ctx {
        let ctx = Ctx {
            model: RwSignal::new(ModelStatus::Loading("starting the worker".into())),
            prompt: RwSignal::new(String::new()),
            generation: RwSignal::new(Generation::default()),
            run: RwSignal::new(None),
            view: RwSignal::new(ViewState::default()),
            hover: RwSignal::new(None),
            notice: RwSignal::new(None),
            playing: RwSignal::new(false),
            bridge: StoredValue::new_local(None),
            next_id: StoredValue::new(0),
            restarts: StoredValue::new(0),
        };
        ctx.spawn_worker();
        ctx
    }

    /// Starts the inference worker (dropping the previous one ends it).
    fn spawn_worker(&self) {
        let ctx = *self;
        self.bridge.set_value(None);
        match Bridge::spawn(move |message| ctx.receive(message), move |error| ctx.worker_failed(error)) {
            Ok(bridge) => self.bridge.set_value(Some(bridge)),
            Err(error) => self.model.set(ModelStatus::Failed(error)),
        }
    }

    /// Runs the prompt box with the current settings; `forced` ids replay a link's text. The
    /// view (and its step) stays as it is.
    pub fn start_run(&self, forced: Vec<u32>) {
        let id = self.next_id.get_value() + 1;
        self.next_id.set_value(id);
        let prompt = self.prompt.get_untracked();
        let generation = self.generation.get_untracked();
        let wanted = if forced.is_empty() { generation.new_tokens } else { forced.len() };
        let request = RunRequest { run: id, prompt: prompt.clone(), new_tokens: wanted, decoding: generation.decoding(), forced };
        self.playing.set(false);
        self.run.set(Some(RunData {
            id,
            prompt,
            generation,
            wanted,
            tokens: Vec::new(),
            prompt_len: 0,
            capture: None,
            finish: None,
            error: None,
            prompt_millis: 0.0,
            step_millis: 0.0,
        }));
        self.send(&ToWorker::Run(request));
    }

    pub fn cancel(&self) {
        if let Some(run) = self.run.get_untracked().filter(RunData::running) {
            self.send(&ToWorker::Cancel { run: run.id });
        }
    }

    fn send(&self, message: &ToWorker) {
        self.bridge.with_value(|bridge| {
            if let Some(bridge) = bridge {
                bridge.send(message);
            }
        });
    }

    /// The worker died (a panic, running out of memory): the run in progress fails with the
    /// reason, a new worker starts, and the prompt, settings and view stay as they are.
    fn worker_failed(&self, error: String) {
        let restarts = self.restarts.get_value();
        if restarts >= MAX_RESTARTS {
            let error = format!("The inference worker stopped again ({error}) after {restarts} restarts. Reload the page to start it again.");
            return self.model.set(ModelStatus::Failed(error));
        }
        self.restarts.set_value(restarts + 1);
        let error = format!("The inference worker stopped ({error}); if the run was long it may have run out of memory. A new worker was started: your prompt and view are kept, press Run to try again.");
        self.update_run(|run| {
            if run.running() {
                run.error = Some(error.clone());
            }
        });
        self.notice.set(Some(error));
        self.model.set(ModelStatus::Loading("restarting the worker".into()));
        // Not from inside the dying worker's own error handler.
        let ctx = *self;
        leptos::task::spawn_local(async move { ctx.spawn_worker() });
    }

    /// Applies one worker message; messages of superseded runs are dropped.
    fn receive(&self, message: FromWorker) {
        let current = |run: u32| self.run.with_untracked(|r| r.as_ref().is_some_and(|r| r.id == run));
        match message {
            FromWorker::Loading { what } => self.model.set(ModelStatus::Loading(what)),
            FromWorker::Ready { model, warnings } => {
                for warning in warnings {
                    web_sys::console::warn_1(&warning.into());
                }
                self.restarts.set_value(0);
                self.model.set(ModelStatus::Ready(model));
            }
            FromWorker::LoadFailed { error } => self.model.set(ModelStatus::Failed(format!("The model could not be loaded: {error}"))),
            FromWorker::Prompt { run, tokens, rows, millis } if current(run) => self.update_run(|r| {
                r.prompt_len = tokens.len();
                r.tokens = tokens;
                rows.iter().for_each(|rows| r.append(rows));
                r.prompt_millis = millis;
            }),
            FromWorker::Step { run, token, rows, millis } if current(run) => self.update_run(|r| {
                r.tokens.push(token);
                r.append(&rows);
                r.step_millis += millis;
            }),
            FromWorker::Done { run, finish } if current(run) => self.update_run(|r| r.finish = Some(finish)),
            FromWorker::Failed { run, error } if current(run) => self.update_run(|r| r.error = Some(error)),
            FromWorker::Prompt { .. } | FromWorker::Step { .. } | FromWorker::Done { .. } | FromWorker::Failed { .. } => {}
        }
    }

    fn update_run(&self, change: impl FnOnce(&mut RunData)) {
        self.run.update(|run| {
            if let Some(run) = run {
                change(run);
            }
        });
    }

    /// Positions shown at the view's step, and the step's token count.
    pub fn visible(&self) -> usize {
        let view = self.view.get();
        self.run.with(|run| run.as_ref().map_or(0, |r| view.visible(r.prompt_len, r.tokens.len())))
    }

    /// The token the stream is shaded by: the hovered one, else the pinned one.
    pub fn focus(&self) -> Option<usize> {
        self.hover.get().or_else(|| self.view.with(|v| v.selected))
    }
}
