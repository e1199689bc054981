//! The model panel: pick the bundled model, a GPT-2 checkpoint on the Hugging Face Hub (named
//! or typed), or files on this computer; see what a Hub model will download and say yes; watch
//! the download with Cancel; read why a load failed and Retry; and list or delete the models
//! stored in this browser. The worker does the fetching (`worker::load`).

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::hub::budget::{Estimate, available};
use crate::hub::progress::{Progress, format_bytes};
use crate::hub::{self, KNOWN, ModelSource, RepoId, Revision};
use crate::ui::bridge::stored;
use crate::ui::cache::{self, Stored};
use crate::ui::hub_state::{Ask, Plan};
use crate::ui::state::{Ctx, ModelStatus};
use crate::worker::protocol::{FromWorker, LoadRequest, ModelInfo, ToWorker};

/// Where tests point the app at a local stand-in for the Hub. Read from localStorage only, so
/// a link can never choose the server a model comes from.
const HUB_OVERRIDE_KEY: &str = "headlight.hub";

/// Where tests make the worker wait less on a silent server (seconds, for an answer to begin and
/// between two pieces of a body) than [`crate::worker::fetch::PATIENCE_S`].
const PATIENCE_OVERRIDE_KEY: &str = "headlight.patience";

fn hub_base() -> String {
    hub::hub_base(stored(HUB_OVERRIDE_KEY).as_deref())
}

fn request(source: ModelSource, files: js_sys::Array) -> LoadRequest {
    LoadRequest { source, hub: hub_base(), patience: stored(PATIENCE_OVERRIDE_KEY).and_then(|s| s.trim().parse().ok()), files }
}

/// What the browser says it has, in GiB (`navigator.deviceMemory`).
fn device_memory() -> Option<f64> {
    js_sys::Reflect::get(&window().navigator(), &"deviceMemory".into()).ok().and_then(|v| v.as_f64())
}

impl Ctx {
    /// Sends now, or once the worker says it is listening.
    fn send_when_started(&self, message: ToWorker) {
        if self.hub.started.get_value() {
            self.send(&message);
        } else {
            self.hub.queued.update_value(|q| q.push(message));
        }
    }

    /// Asks for a model the user picked and pressed Load for: a Hub model first says what it
    /// will download (unless it is stored), anything else loads at once.
    pub fn choose(&self, source: ModelSource) {
        self.hub.error.set(None);
        self.hub.plan.set(None);
        self.hub.local_wanted.set(None);
        if matches!(source, ModelSource::Hub { .. }) {
            self.hub.last.set_value(Some(Ask::Plan(source.clone())));
            self.hub.checking.set(Some(source.clone()));
            self.send_when_started(ToWorker::Plan(request(source, js_sys::Array::new())));
        } else {
            self.load(request(source, js_sys::Array::new()));
        }
    }

    /// Loads a model; the one loaded before stays until this one is built.
    pub fn load(&self, request: LoadRequest) {
        self.hub.plan.set(None);
        self.hub.checking.set(None);
        self.hub.error.set(None);
        self.hub.last.set_value(Some(Ask::Load(request.clone())));
        self.model.set(ModelStatus::Loading(format!("asking for {}", request.source.label())));
        self.send_load(request, false);
    }

    /// Sends a load to the worker (`now`: it is listening, whatever the queue holds).
    fn send_load(&self, request: LoadRequest, now: bool) {
        self.hub.progress.set(None);
        self.hub.loading.set(true);
        self.hub.sent.set_value(Some(request.clone()));
        if now {
            self.send(&ToWorker::Load(request));
        } else {
            self.send_when_started(ToWorker::Load(request));
        }
    }

    pub fn cancel_load(&self) {
        self.send(&ToWorker::CancelLoad);
    }

    /// Stops waiting for the Hub's sizes; its answer, if it still comes, is dropped.
    pub fn cancel_check(&self) {
        if let Some(source) = self.hub.checking.get_untracked() {
            self.settle(format!("Checking {} was cancelled.", source.label()));
        }
    }

    /// Asks again for what failed: a Hub model's sizes, or its load (a download it had
    /// started resumes).
    pub fn retry_load(&self) {
        match self.hub.last.get_value() {
            Some(Ask::Plan(source)) => self.choose(source),
            Some(Ask::Load(request)) => self.load(request),
            None => {}
        }
    }

    /// A plan or a load ended without a new model: the reason shows with Retry, the Load
    /// button is free again, and the status names the model the worker holds, or says there
    /// is none and what to do.
    fn settle(&self, error: String) {
        self.hub.checking.set(None);
        self.hub.loading.set(false);
        self.hub.progress.set(None);
        self.model.set(match self.hub.loaded.get_untracked() {
            Some(model) => ModelStatus::Ready(model),
            None => ModelStatus::Failed(format!("No model is loaded: {error} Press Retry, or pick a model under Model.")),
        });
        self.hub.error.set(Some(error));
    }

    /// A link names a model. A Hub model is asked about without a word to the Hub: loaded when
    /// this browser has it whole, else the question waits for the user's yes. Local files wait
    /// to be picked again.
    pub fn open_source(&self, source: ModelSource) {
        self.hub.error.set(None);
        self.hub.plan.set(None);
        self.hub.checking.set(None);
        match source {
            ModelSource::Local(files) => {
                self.model.set(ModelStatus::Loading("waiting for the link's files to be picked (see Model)".into()));
                self.hub.local_wanted.set(Some(files));
            }
            ModelSource::Hub { repo, revision } => {
                self.hub.local_wanted.set(None);
                let ctx = *self;
                leptos::task::spawn_local(async move {
                    let base = hub_base();
                    let source = ModelSource::Hub { repo: repo.clone(), revision: revision.clone() };
                    if cache::holds(&base, &repo, &revision).await {
                        ctx.load(request(source, js_sys::Array::new()));
                    } else {
                        ctx.ask_yes(Plan { source, files: None });
                    }
                });
            }
            source => self.choose(source),
        }
    }

    /// Shows the download question.
    fn ask_yes(&self, plan: Plan) {
        if !matches!(self.model.get_untracked(), ModelStatus::Ready(_)) {
            self.model.set(ModelStatus::Loading("waiting for your yes to download (see Model)".into()));
        }
        self.hub.plan.set(Some(plan));
    }

    /// The worker says it is listening: send what waited for it, or (a restarted worker) the
    /// model it had before, else the bundled one; never a load that did not end in a model.
    pub(crate) fn worker_started(&self) {
        self.hub.started.set_value(true);
        let queued = self.hub.queued.try_update_value(std::mem::take).unwrap_or_default();
        if queued.is_empty() && self.hub.workers.get_value() > 1 {
            let request = self.hub.current.get_value().unwrap_or_else(|| request(ModelSource::Bundled, js_sys::Array::new()));
            self.hub.last.set_value(Some(Ask::Load(request.clone())));
            self.send_load(request, true);
        }
        for message in queued {
            self.send(&message);
        }
    }

    /// A new worker is starting, without a model: hold messages until it says it is listening.
    pub(crate) fn worker_starting(&self) {
        self.hub.started.set_value(false);
        self.hub.workers.update_value(|n| *n += 1);
        self.hub.loading.set(false);
        self.hub.loaded.set(None);
    }

    /// Worker messages about loading models.
    pub(crate) fn receive_hub(&self, message: FromWorker) {
        match message {
            FromWorker::Started => self.worker_started(),
            FromWorker::Plan { source, files, cached } => {
                if self.hub.checking.get_untracked().as_ref() != Some(&source) {
                    return; // the user asked for something else meanwhile
                }
                self.hub.checking.set(None);
                if cached {
                    self.load(request(source, js_sys::Array::new()));
                } else {
                    self.ask_yes(Plan { source, files: Some(files) });
                }
            }
            FromWorker::PlanFailed { source, error } if self.hub.checking.get_untracked().as_ref() == Some(&source) => self.settle(error),
            FromWorker::Progress(progress) => self.hub.progress.set(Some(progress)),
            FromWorker::LoadCancelled { .. } => self.settle("Loading was cancelled.".into()),
            FromWorker::LoadFailed { error } => self.settle(error),
            _ => {}
        }
    }

    /// A model is ready: `true` when it replaced another one (so the prompt should run again).
    pub(crate) fn model_ready(&self, model: &ModelInfo) -> bool {
        self.hub.progress.set(None);
        self.hub.loading.set(false);
        self.hub.local_wanted.set(None);
        self.hub.stored.update(|n| *n += 1);
        // Only the newest load can end ready: older ones are superseded.
        self.hub.current.set_value(self.hub.sent.get_value());
        let previous = self.hub.loaded.get_untracked();
        self.hub.loaded.set(Some(model.clone()));
        previous.is_some_and(|p| p.source != model.source)
    }
}

/// The picker's choices: the bundled model, the known Hub models, a typed id, local files.
const TYPED: &str = "typed";
const LOCAL: &str = "local";

/// `Err` with the reason when a known model cannot fit.
fn known_verdict(repo: &str) -> Result<(), String> {
    match KNOWN.iter().find(|k| k.repo == repo) {
        Some(known) => Estimate::of_known(known).and_then(|estimate| estimate.check(available(device_memory()))).map_err(|why| format!("{} cannot run here. {why}", known.label)),
        None => Ok(()),
    }
}

fn files_of(input: &web_sys::HtmlInputElement) -> js_sys::Array {
    let files = js_sys::Array::new();
    if let Some(list) = input.files() {
        for i in 0..list.length() {
            if let Some(file) = list.get(i) {
                files.push(&file);
            }
        }
    }
    files
}

fn input_of(ev: &leptos::ev::Event) -> Option<web_sys::HtmlInputElement> {
    ev.target().and_then(|t| t.dyn_into().ok())
}

#[component]
fn Picker(ctx: Ctx) -> impl IntoView {
    let choice = RwSignal::new(hub::BUNDLED.to_string());
    let repo = RwSignal::new(String::new());
    let revision = RwSignal::new(hub::DEFAULT_REVISION.to_string());
    let picked: StoredValue<js_sys::Array, LocalStorage> = StoredValue::new_local(js_sys::Array::new());
    let refusal = move || known_verdict(&choice.get()).err();
    let load = move |_| {
        ctx.hub.error.set(None);
        let chosen = choice.get_untracked();
        match chosen.as_str() {
            hub::BUNDLED => ctx.choose(ModelSource::Bundled),
            LOCAL => {
                let files = picked.get_value();
                if files.length() == 0 {
                    ctx.hub.error.set(Some("Pick the model's files first: config.json, model.safetensors and tokenizer.json (or vocab.json and merges.txt).".into()));
                } else {
                    ctx.load(request(ModelSource::Local(Vec::new()), files));
                }
            }
            TYPED => match (RepoId::parse(&repo.get_untracked()), Revision::parse(&revision.get_untracked())) {
                (Ok(repo), Ok(revision)) => ctx.choose(ModelSource::Hub { repo, revision }),
                (Err(why), _) | (_, Err(why)) => ctx.hub.error.set(Some(why)),
            },
            known => match RepoId::parse(known) {
                Ok(repo) => ctx.choose(ModelSource::Hub { repo, revision: Revision::main() }),
                Err(why) => ctx.hub.error.set(Some(why)),
            },
        }
    };
    let busy = move || ctx.hub.loading.get() || ctx.hub.checking.with(Option::is_some);
    let options = KNOWN
        .iter()
        .map(|k| {
            let fits = known_verdict(k.repo).is_ok();
            let label = if fits { format!("{} · {}", k.label, k.repo) } else { format!("{} · too big for this browser", k.label) };
            view! { <option value={k.repo}>{label}</option> }
        })
        .collect_view();
    view! {
        <div class="picker">
            <label class="setting">
                <span>"Model"</span>
                <select id="model-choice" prop:value=move || choice.get() on:change=move |ev| choice.set(event_target_value(&ev))>
                    <option value={hub::BUNDLED}>"Bundled mini model (offline)"</option>
                    {options}
                    <option value={TYPED}>"Another Hub repository…"</option>
                    <option value={LOCAL}>"Files on this computer…"</option>
                </select>
            </label>
            <div class="typed" class:hidden=move || choice.get() != TYPED>
                <label class="setting">
                    <span>"Repository"</span>
                    <input id="repo-id" type="text" placeholder="namespace/name" spellcheck="false"
                        prop:value=move || repo.get() on:input=move |ev| repo.set(event_target_value(&ev)) />
                </label>
                <label class="setting">
                    <span>"Revision"</span>
                    <input id="revision" type="text" spellcheck="false"
                        prop:value=move || revision.get() on:input=move |ev| revision.set(event_target_value(&ev)) />
                </label>
            </div>
            <label class="setting local" class:hidden=move || choice.get() != LOCAL>
                <span>"Files"</span>
                <input id="local-files" type="file" multiple accept=".json,.safetensors,.txt"
                    on:change=move |ev| { if let Some(input) = input_of(&ev) { picked.set_value(files_of(&input)) } } />
            </label>
            <p class="refusal" class:hidden=move || refusal().is_none()>{refusal}</p>
            <button id="load-model" class="primary" on:click=load prop:disabled=move || busy() || refusal().is_some()>"Load"</button>
        </div>
    }
}

fn plan_text(plan: &Plan) -> String {
    let (repo, revision) = match &plan.source {
        ModelSource::Hub { repo, revision } => (repo.to_string(), revision.as_str().to_string()),
        other => (other.label(), String::new()),
    };
    let host = hub::host_name(&hub_base());
    let Some(files) = &plan.files else {
        return format!(
            "This link names {repo} at revision {revision} on {host}. Nothing has been asked of {host} yet: Download fetches the model's files (their sizes are unknown until you agree; config.json and the weights' header are checked before the weights come) and keeps them in this browser."
        );
    };
    let total: u64 = files.iter().filter_map(|(_, size)| *size).sum();
    let files: Vec<String> = files.iter().map(|(name, size)| format!("{name} ({})", size.map_or("size unknown".into(), format_bytes))).collect();
    format!(
        "{repo} at revision {revision} will download {} from {host}: {}. It is kept in this browser, so next time it loads without the network.",
        format_bytes(total),
        files.join(", ")
    )
}

#[component]
fn Confirm(ctx: Ctx) -> impl IntoView {
    let text = move || ctx.hub.plan.with(|p| p.as_ref().map(plan_text));
    let yes = move |_| {
        if let Some(plan) = ctx.hub.plan.get_untracked() {
            ctx.load(request(plan.source, js_sys::Array::new()));
        }
    };
    let no = move |_| {
        ctx.hub.plan.set(None);
        if ctx.hub.loaded.with_untracked(Option::is_none) {
            ctx.choose(ModelSource::Bundled);
        }
    };
    view! {
        <div id="model-confirm" class="confirm" role="dialog" aria-label="Download a model?" class:hidden=move || text().is_none()>
            <p id="model-confirm-text">{text}</p>
            <div class="actions">
                <button id="confirm-download" class="primary" on:click=yes>"Download"</button>
                <button id="decline-download" on:click=no>
                    {move || if ctx.hub.loaded.with(Option::is_none) { "Use the bundled model instead" } else { "Not now" }}
                </button>
            </div>
        </div>
    }
}

/// A check of the Hub's sizes, or a load, in progress, each with its Cancel.
#[component]
fn Download(ctx: Ctx) -> impl IntoView {
    let checking = move || ctx.hub.checking.with(|c| c.as_ref().map(|s| format!("Checking {} on {}…", s.label(), hub::host_name(&hub_base()))));
    view! {
        <div id="model-checking" class="checking" class:hidden=move || checking().is_none()>
            <span>{checking}</span>
            <button id="cancel-check" on:click=move |_| ctx.cancel_check()>"Cancel"</button>
        </div>
        <div id="download" class="download" class:hidden=move || !ctx.hub.loading.get()>
            <progress
                class:hidden=move || ctx.hub.progress.with(Option::is_none)
                max="1"
                value=move || ctx.hub.progress.with(|p| p.as_ref().and_then(Progress::fraction).unwrap_or(0.0))
            ></progress>
            <span id="download-text">{move || ctx.hub.progress.with(|p| p.as_ref().map(Progress::summary))}</span>
            <button id="cancel-download" on:click=move |_| ctx.cancel_load()>"Cancel"</button>
        </div>
    }
}

#[component]
fn Problem(ctx: Ctx) -> impl IntoView {
    let retryable = move || ctx.hub.error.with(Option::is_some) && !ctx.hub.loading.get() && ctx.hub.checking.with(Option::is_none);
    view! {
        <div id="model-error" class="model-error" role="alert" class:hidden=move || ctx.hub.error.with(Option::is_none)>
            <p id="model-error-text">{move || ctx.hub.error.get()}</p>
            <button id="retry-load" class:hidden=move || !retryable() on:click=move |_| ctx.retry_load()>"Retry"</button>
        </div>
    }
}

/// A link made with local files: which files, and a place to pick them again.
#[component]
fn LocalWanted(ctx: Ctx) -> impl IntoView {
    let names = move || {
        ctx.hub.local_wanted.with(|files| {
            files.iter().flatten().map(|f| format!("{} (SHA-256 {}…)", f.name, &f.sha256[..16])).collect::<Vec<_>>().join(", ")
        })
    };
    let pick = move |ev: leptos::ev::Event| {
        let (Some(input), Some(expected)) = (input_of(&ev), ctx.hub.local_wanted.get_untracked()) else { return };
        ctx.load(request(ModelSource::Local(expected), files_of(&input)));
    };
    view! {
        <div id="local-wanted" class="confirm" class:hidden=move || ctx.hub.local_wanted.with(Option::is_none)>
            <p>"This link was made with files from its author's computer: " {names} ". Pick the same files to restore it (they are checked against these hashes), or choose a Hub model above."</p>
            <input id="local-wanted-files" type="file" multiple accept=".json,.safetensors,.txt" on:change=pick />
        </div>
    }
}

/// The models stored in this browser, with their sizes, each with Delete.
#[component]
fn StoredModels(ctx: Ctx) -> impl IntoView {
    let listed: RwSignal<Result<Vec<Stored>, String>> = RwSignal::new(Ok(Vec::new()));
    Effect::new(move |_| {
        ctx.hub.stored.track();
        leptos::task::spawn_local(async move { listed.set(cache::list(&hub_base()).await) });
    });
    let delete = move |stored: Stored| {
        leptos::task::spawn_local(async move {
            if let Err(why) = cache::delete(&stored).await {
                ctx.hub.error.set(Some(format!("Could not delete {}: {why}", stored.model)));
            }
            ctx.hub.stored.update(|n| *n += 1);
        })
    };
    let summary = move || {
        listed.with(|l| match l {
            Ok(models) if models.is_empty() => "Stored in this browser: nothing yet".to_string(),
            Ok(models) => format!("Stored in this browser: {} ({})", models.len(), format_bytes(models.iter().map(Stored::bytes).sum())),
            Err(why) => format!("Stored in this browser: unavailable ({why})"),
        })
    };
    let rows = move || {
        listed.get().unwrap_or_default().into_iter().map(|stored| {
            let files = stored.files.iter().map(|(f, size)| format!("{f} {}", format_bytes(*size))).collect::<Vec<_>>().join(", ");
            let (name, key) = (stored.model.clone(), stored.model.clone());
            let bytes = format_bytes(stored.bytes());
            view! {
                <li class="stored" data-model=key>
                    <span class="stored-name">{name}</span>
                    <span class="stored-size" title=files>{bytes}</span>
                    <button class="delete-stored" on:click=move |_| delete(stored.clone())>"Delete"</button>
                </li>
            }
        }).collect_view()
    };
    view! {
        <details id="cache-panel" class="cache-panel">
            <summary id="cache-summary">{summary}</summary>
            <ul>{rows}</ul>
        </details>
    }
}

#[component]
pub fn Models(ctx: Ctx) -> impl IntoView {
    let loaded = move || {
        ctx.hub.loaded.with(|m| match m {
            Some(m) => format!("Loaded: {} · {} layers × {} heads, context {} · {}", m.name, m.n_layer, m.n_head, m.n_positions, m.engine()),
            None => "No model loaded yet".into(),
        })
    };
    view! {
        <section class="models" aria-label="Model">
            <p id="model-loaded" class="loaded">{loaded}</p>
            <Picker ctx />
            <Confirm ctx />
            <LocalWanted ctx />
            <Download ctx />
            <Problem ctx />
            <StoredModels ctx />
        </section>
    }
}
