//! The page's view of the models stored in this browser (the worker's Cache API store): list
//! them with their sizes, delete one.

use std::collections::BTreeMap;

use leptos::prelude::window;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Cache, Request, Response};

use crate::hub::{self, CACHE_NAME, RepoId, Revision, Role, SIZE_HEADER};

/// One stored model: its label, its files' URLs and sizes.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    pub model: String,
    pub files: Vec<(String, u64)>,
    pub urls: Vec<String>,
}

impl Stored {
    pub fn bytes(&self) -> u64 {
        self.files.iter().map(|(_, size)| size).sum()
    }
}

pub(crate) fn error(e: wasm_bindgen::JsValue) -> String {
    e.as_string().or_else(|| e.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message()))).unwrap_or_else(|| format!("{e:?}"))
}

async fn open() -> Result<Cache, String> {
    let storage = window().caches().map_err(|e| format!("this browser keeps no Cache API storage here ({})", error(e)))?;
    Ok(JsFuture::from(storage.open(CACHE_NAME)).await.map_err(error)?.unchecked_into())
}

/// Every stored model, by label.
pub async fn list(base: &str) -> Result<Vec<Stored>, String> {
    let cache = open().await?;
    let keys: js_sys::Array = JsFuture::from(cache.keys()).await.map_err(error)?.unchecked_into();
    let mut models: BTreeMap<String, Stored> = BTreeMap::new();
    for key in keys.iter() {
        let url = key.unchecked_into::<Request>().url();
        let response: Option<Response> = JsFuture::from(cache.match_with_str(&url)).await.ok().and_then(|r| r.dyn_into().ok());
        let size = response.and_then(|r| r.headers().get(SIZE_HEADER).ok().flatten()).and_then(|s| s.parse().ok()).unwrap_or(0);
        let (model, file) = hub::stored_label(base, &url);
        let entry = models.entry(model.clone()).or_insert_with(|| Stored { model, files: Vec::new(), urls: Vec::new() });
        entry.files.push((file, size));
        entry.urls.push(url);
    }
    Ok(models.into_values().collect())
}

/// Whether this browser holds every file of a Hub model from `base` (stored under their full
/// URLs, so a model from another host never stands in for it), asking no server.
pub async fn holds(base: &str, repo: &RepoId, revision: &Revision) -> bool {
    let Ok(cache) = open().await else { return false };
    let mut stored = Vec::new();
    for role in Role::ALL {
        let url = hub::resolve_url(base, repo, revision, role.file_name());
        if JsFuture::from(cache.match_with_str(&url)).await.is_ok_and(|found| found.is_instance_of::<Response>()) {
            stored.push(role);
        }
    }
    hub::complete(|role| stored.contains(&role))
}

/// Deletes every file of one stored model.
pub async fn delete(stored: &Stored) -> Result<(), String> {
    let cache = open().await?;
    for url in &stored.urls {
        JsFuture::from(cache.delete_with_str(url)).await.map_err(error)?;
    }
    Ok(())
}
