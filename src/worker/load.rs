//! A model source into a checkpoint, in the worker: the bundled files, a Hub repository (from
//! the Cache API when stored, else checked from its config and weights header, then
//! downloaded with progress and stored once it has loaded), or files the user picked (checked
//! against a link's SHA-256 when it names them).

use std::collections::BTreeMap;

use js_sys::Uint8Array;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::File;

use crate::checkpoint::Checkpoint;
use crate::hub::budget::{available, preflight};
use crate::hub::progress::{Progress, format_bytes};
use crate::hub::transfer::Transfer;
use crate::hub::{self, LocalFile, ModelSource, RepoId, Revision, Role};
use crate::model::config::Gpt2Config;
use crate::safetensors::Header;
use crate::tokenizer::Tokenizer;
use crate::worker::fetch::{self, Abort, Failure, Partial};
use crate::worker::protocol::{FromWorker, LoadRequest};
use crate::worker::scope::{js_error, post, scope, yield_now};

/// What a load needs from the worker's state.
pub struct Control<'a> {
    /// Aborted once this load was cancelled or superseded: its requests stop at once.
    pub abort: &'a Abort,
    /// A download stopped part-way by an earlier try, and where this one leaves its own.
    pub partial: &'a dyn Fn(Option<Partial>) -> Option<Partial>,
}

impl Control<'_> {
    fn cancelled(&self) -> bool {
        self.abort.aborted()
    }

    /// Tells the page about this load, unless it was cancelled or superseded: the page's last
    /// word about a cancelled load is `LoadCancelled`, never a later `Loading` or `Progress`.
    fn post(&self, message: FromWorker) {
        if !self.cancelled() {
            post(&message);
        }
    }

    fn loading(&self, what: impl Into<String>) {
        self.post(FromWorker::Loading { what: what.into() });
    }
}

pub enum LoadError {
    Cancelled,
    Failed(String),
}

impl From<String> for LoadError {
    fn from(why: String) -> Self {
        LoadError::Failed(why)
    }
}

/// The memory this worker may use (wasm32's 4 GiB, or less on a small device).
fn memory() -> u64 {
    let navigator = js_sys::Reflect::get(&scope(), &"navigator".into()).unwrap_or_default();
    let gib = js_sys::Reflect::get(&navigator, &"deviceMemory".into()).ok().and_then(|v| v.as_f64());
    available(gib)
}

/// Loads `request.source` into a checkpoint and the source as it was loaded (local files with
/// their hashes).
pub async fn load(request: &LoadRequest, control: &Control<'_>) -> Result<(Checkpoint, ModelSource), LoadError> {
    fetch::allow(&request.hub);
    fetch::patience(request.patience);
    match &request.source {
        ModelSource::Bundled => Ok((bundled(control).await?, ModelSource::Bundled)),
        ModelSource::Hub { repo, revision } => from_hub(&request.hub, repo, revision, control).await,
        ModelSource::Local(expected) => from_local(expected, &request.files, control).await,
    }
}

/// Builds the checkpoint, consuming the files (the weights' bytes are freed as they are widened).
async fn build(files: BTreeMap<Role, Vec<u8>>, control: &Control<'_>) -> Result<Checkpoint, String> {
    control.loading("building the model");
    yield_now().await;
    hub::checkpoint(files).map_err(|e| e.to_string())
}

/// The bundled model. Its three requests go out at once, and tokenizer.json is read while the
/// weights are still on their way: reading it is most of what a cold start spends in the worker.
async fn bundled(control: &Control<'_>) -> Result<Checkpoint, String> {
    // relative to the worker script, so any sub-path works
    let send = |role: Role| {
        let url = hub::bundled_url(role);
        fetch::immutable(&url, control.abort).map(|started| (url, started)).map_err(|f| f.describe(role.file_name()))
    };
    let [config, tokenizer, weights] = [send(Role::Config)?, send(Role::Tokenizer)?, send(Role::Weights)?];
    let read = async |(url, started): (String, fetch::Started)| started.bytes(control.abort).await.map_err(|f| f.describe(&url));
    control.loading("downloading the bundled model");
    let config = read(config).await?;
    let tokenizer = read(tokenizer).await?;
    control.loading("reading tokenizer.json while model.safetensors downloads");
    yield_now().await;
    let tokenizer = Tokenizer::from_bytes(&tokenizer).map_err(|e| e.to_string())?;
    let weights = read(weights).await?;
    control.loading("building the model");
    yield_now().await;
    Checkpoint::with_tokenizer(&config, weights, tokenizer).map_err(|e| e.to_string())
}

/// The Hub's files for a repository at a revision, by role.
struct Repo<'a> {
    base: &'a str,
    repo: &'a RepoId,
    revision: &'a Revision,
    /// Stops the requests made for it.
    abort: &'a Abort,
}

impl Repo<'_> {
    fn url(&self, role: Role) -> String {
        hub::resolve_url(self.base, self.repo, self.revision, role.file_name())
    }

    /// Why there is no `model.safetensors`: a pickle-only repository is named as such.
    async fn no_safetensors(&self) -> String {
        let pickle = hub::resolve_url(self.base, self.repo, self.revision, "pytorch_model.bin");
        if fetch::size(&pickle, self.abort).await.is_ok() {
            format!(
                "{} has only pytorch_model.bin, a pickle checkpoint. Pickle files can run code when they are opened, so headlight never loads them: pick a repository with model.safetensors.",
                self.repo
            )
        } else {
            format!("{} has no model.safetensors at revision {}.", self.repo, self.revision.as_str())
        }
    }

    fn missing_config(&self) -> String {
        format!(
            "{} has no config.json at revision {}: check the repository id and revision (private and gated repositories cannot be read).",
            self.repo,
            self.revision.as_str()
        )
    }

    /// The tokenizer's roles: `tokenizer.json`, or `vocab.json` + `merges.txt` when the
    /// repository has no `tokenizer.json`.
    async fn tokenizer_roles(&self) -> Result<Vec<(Role, Option<u64>)>, String> {
        match fetch::size(&self.url(Role::Tokenizer), self.abort).await {
            Ok(size) => Ok(vec![(Role::Tokenizer, size)]),
            Err(Failure::NotFound) => {
                let mut roles = Vec::new();
                for role in [Role::Vocab, Role::Merges] {
                    match fetch::size(&self.url(role), self.abort).await {
                        Ok(size) => roles.push((role, size)),
                        Err(Failure::NotFound) => return Err(format!("{} has neither tokenizer.json nor vocab.json and merges.txt.", self.repo)),
                        Err(f) => return Err(f.describe(role.file_name())),
                    }
                }
                Ok(roles)
            }
            Err(f) => Err(f.describe(Role::Tokenizer.file_name())),
        }
    }

    /// Every file of a complete stored copy, or `None`.
    async fn cached(&self, cache: &web_sys::Cache) -> Option<BTreeMap<Role, Vec<u8>>> {
        let mut files = BTreeMap::new();
        for role in Role::ALL {
            if let Some(bytes) = fetch::cached(cache, &self.url(role)).await {
                files.insert(role, bytes);
            }
        }
        hub::complete(|role| files.contains_key(&role)).then_some(files)
    }
}

/// A download of `role`'s file that did not complete: cancelled, or failed with the reason.
fn download_failed(role: Role, failure: Failure) -> LoadError {
    match failure {
        Failure::Cancelled => LoadError::Cancelled,
        f => LoadError::Failed(f.describe(role.file_name())),
    }
}

/// What loading `request.source` would download: each file and its size, or that it is stored.
pub async fn plan(request: &LoadRequest) -> FromWorker {
    let source = request.source.clone();
    let ModelSource::Hub { repo, revision } = &request.source else {
        return FromWorker::Plan { source, files: Vec::new(), cached: true };
    };
    // A plan reads only sizes; each request gives up when the server is slow to answer, and the
    // page may stop waiting for it sooner.
    fetch::allow(&request.hub);
    fetch::patience(request.patience);
    let abort = Abort::new();
    let repo = Repo { base: &request.hub, repo, revision, abort: &abort };
    if let Ok(cache) = fetch::cache().await
        && repo.cached(&cache).await.is_some()
    {
        return FromWorker::Plan { source, files: Vec::new(), cached: true };
    }
    let mut files = Vec::new();
    let found = async {
        let config = fetch::size(&repo.url(Role::Config), &abort).await.map_err(|f| match f {
            Failure::NotFound => repo.missing_config(),
            f => f.describe(Role::Config.file_name()),
        })?;
        files.push((Role::Config.file_name().to_string(), config));
        let weights = match fetch::size(&repo.url(Role::Weights), &abort).await {
            Ok(size) => size,
            Err(Failure::NotFound) => return Err(repo.no_safetensors().await),
            Err(f) => return Err(f.describe(Role::Weights.file_name())),
        };
        for (role, size) in repo.tokenizer_roles().await? {
            files.push((role.file_name().to_string(), size));
        }
        files.push((Role::Weights.file_name().to_string(), weights));
        Ok::<(), String>(())
    };
    match found.await {
        Ok(()) => FromWorker::Plan { source, files, cached: false },
        Err(error) => FromWorker::PlanFailed { source, error },
    }
}

async fn from_hub(base: &str, repo: &RepoId, revision: &Revision, control: &Control<'_>) -> Result<(Checkpoint, ModelSource), LoadError> {
    let source = ModelSource::Hub { repo: repo.clone(), revision: revision.clone() };
    let repo = Repo { base, repo, revision, abort: control.abort };
    let cache = fetch::cache().await;
    if let Ok(cache) = &cache
        && let Some(files) = repo.cached(cache).await
    {
        control.loading(format!("reading {} from this browser's cache", repo.repo));
        return Ok((build(files, control).await?, source));
    }

    control.loading(format!("reading config.json of {}", repo.repo));
    let report = |progress: Progress| control.post(FromWorker::Progress(progress));
    let bounded = |role: Role, expected: Option<u64>| Transfer::new(expected, role.limit());
    let config = fetch::download(&repo.url(Role::Config), Role::Config.file_name(), bounded(Role::Config, None), None, control.abort, &report).await.map_err(|(f, _)| match f {
        Failure::NotFound => LoadError::Failed(repo.missing_config()),
        f => download_failed(Role::Config, f),
    })?;
    let parsed = Gpt2Config::from_json(&config).map_err(|e| format!("{} is not a GPT-2 checkpoint headlight can run: {e}", repo.repo))?;

    control.loading("checking the header of model.safetensors");
    let weights_url = repo.url(Role::Weights);
    let header = |f: Failure| f.describe(Role::Weights.file_name());
    let (first, length) = match fetch::start(&weights_url, 8, control.abort).await {
        Err(Failure::NotFound) => return Err(repo.no_safetensors().await.into()),
        other => other.map_err(header)?,
    };
    let prefix = Header::prefix_len(&first, length).map_err(|e| e.to_string())?;
    let (start, _) = fetch::start(&weights_url, prefix, control.abort).await.map_err(header)?;
    preflight(&parsed, &start, length, memory())?;

    let mut files = BTreeMap::from([(Role::Config, config)]);
    // The tokenizer's files resume after a dropped connection too; a Retry starts them over.
    for (role, _) in repo.tokenizer_roles().await? {
        files.insert(role, fetch::download(&repo.url(role), role.file_name(), bounded(role, None), None, control.abort, &report).await.map_err(|(f, _)| download_failed(role, f))?);
    }

    // The weights must be as long as their header check found, announced or not.
    let resume = (control.partial)(None);
    let weights = match fetch::download(&weights_url, Role::Weights.file_name(), bounded(Role::Weights, Some(length)), resume, control.abort, &report).await {
        Ok(weights) => weights,
        Err((failure, partial)) => {
            (control.partial)(partial);
            return Err(download_failed(Role::Weights, failure));
        }
    };
    files.insert(Role::Weights, weights);
    // copied out of wasm memory for the cache first: building consumes the bytes
    let bodies: Vec<(Role, Uint8Array)> = if cache.is_ok() { files.iter().map(|(role, bytes)| (*role, Uint8Array::from(&bytes[..]))).collect() } else { Vec::new() };
    let mut checkpoint = build(files, control).await?;

    // Only a complete checkpoint that loaded, for a load still wanted, is stored; once storing
    // has begun it goes on to the last file, so a late Cancel never leaves part of a model.
    if control.cancelled() {
        return Err(LoadError::Cancelled);
    }
    if let Ok(cache) = &cache {
        control.loading("storing the files in this browser");
        for (role, body) in &bodies {
            if let Err(why) = fetch::store(cache, &repo.url(*role), body).await {
                checkpoint.warnings.push(format!("{why}: it will be downloaded again next time"));
            }
        }
    }
    Ok((checkpoint, source))
}

async fn read(file: &File, end: Option<f64>) -> Result<Vec<u8>, String> {
    let blob = match end {
        Some(end) => file.slice_with_f64_and_f64(0.0, end).map_err(js_error)?,
        None => file.clone().into(),
    };
    let buffer = JsFuture::from(blob.array_buffer()).await.map_err(|e| format!("{} cannot be read ({})", file.name(), js_error(e)))?;
    Ok(Uint8Array::new(&buffer).to_vec())
}

/// Files the user picked; when `expected` is not empty (a link), each must have its hash.
async fn from_local(expected: &[LocalFile], picked: &js_sys::Array, control: &Control<'_>) -> Result<(Checkpoint, ModelSource), LoadError> {
    let mut by_role = BTreeMap::new();
    for file in picked.iter() {
        let file: File = file.dyn_into().map_err(|_| "the page passed something that is not a file".to_string())?;
        let role = Role::of_file_name(&file.name()).ok_or_else(|| {
            format!("“{}” is not a file headlight reads: pick config.json, a .safetensors file, and tokenizer.json (or vocab.json and merges.txt).", file.name())
        })?;
        if let Some(limit) = role.limit()
            && file.size() > limit as f64
        {
            return Err(LoadError::Failed(format!("{} is {}, more than the {} headlight reads as {}.", file.name(), format_bytes(file.size() as u64), format_bytes(limit), role.file_name())));
        }
        if let Some(other) = by_role.insert(role, file) {
            return Err(LoadError::Failed(format!("{} and another file are both {}: pick one.", other.name(), role.file_name())));
        }
    }
    let described: Vec<LocalFile> = by_role.iter().map(|(&role, f)| LocalFile { role, name: f.name(), sha256: String::new() }).collect();
    hub::local_files_complete(&described)?;

    let config_file = &by_role[&Role::Config];
    let config = read(config_file, None).await?;
    let parsed = Gpt2Config::from_json(&config).map_err(|e| format!("{} is not a GPT-2 config headlight can run: {e}", config_file.name()))?;
    let weights_file = &by_role[&Role::Weights];
    let length = weights_file.size() as u64;
    let first = read(weights_file, Some(8f64.min(length as f64))).await?;
    let prefix = Header::prefix_len(&first, length).map_err(|e| e.to_string())?;
    preflight(&parsed, &read(weights_file, Some(prefix as f64)).await?, length, memory())?;

    let mut files = BTreeMap::new();
    let mut named = Vec::new();
    for (&role, file) in &by_role {
        if control.cancelled() {
            return Err(LoadError::Cancelled);
        }
        control.loading(format!("reading and hashing {}", file.name()));
        let bytes = if role == Role::Config { config.clone() } else { read(file, None).await? };
        let sha256 = hub::sha256_hex(&bytes);
        if let Some(wanted) = expected.iter().find(|f| f.role == role)
            && wanted.sha256 != sha256
        {
            return Err(LoadError::Failed(format!(
                "{} is not the file the link was made with: its SHA-256 is {}…, the link's {} has {}…. Pick the same files, or switch to a Hub model.",
                file.name(),
                &sha256[..12],
                wanted.name,
                &wanted.sha256[..12]
            )));
        }
        named.push(LocalFile { role, name: file.name().replace(';', "_"), sha256 });
        files.insert(role, bytes);
    }
    if let Some(absent) = expected.iter().find(|f| !files.contains_key(&f.role)) {
        return Err(LoadError::Failed(format!("The link was made with {} ({}), which was not picked.", absent.name, absent.role.file_name())));
    }
    Ok((build(files, control).await?, ModelSource::Local(named)))
}
