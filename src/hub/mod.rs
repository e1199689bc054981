//! Where a model comes from: the bundled model, a Hugging Face Hub repository at a revision, or
//! files the user picked. Pure logic (names, URLs, what a permalink carries), tested natively;
//! the worker does the fetching (`worker::fetch`) and the page the picking (`ui::models`).
//!
//! - [`budget`]: the memory a checkpoint needs against what wasm32 and the browser can give.
//! - [`progress`]: bytes of total, speed and time left of a download, as text.
//! - [`transfer`]: resuming a dropped download with HTTP Range, and what each answer means.

pub mod budget;
pub mod progress;
pub mod transfer;

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::checkpoint::Checkpoint;
use crate::tokenizer::Tokenizer;

/// The Hub itself; tests point the app at a local stand-in (see [`hub_base`]).
pub const DEFAULT_HUB: &str = "https://huggingface.co";
/// The bundled model's name in links and messages.
pub const BUNDLED: &str = "mini";
/// The prompt shown, and run, when the page opens without a link: documentation as the bundled
/// model read it in training, repeating itself so that its induction heads have work to do.
pub const DEFAULT_PROMPT: &str = "The ls command lists the files in a directory. Use ls -a to show hidden files too. The ls command lists the files";
/// The bundled model before `mini`: links made with it still open, on `mini`, with a notice.
pub const RETIRED_BUNDLED: &str = "tiny";
/// The first 16 hex digits of the SHA-256 of the bundled files (config.json, tokenizer.json,
/// model.safetensors, in that order): their URLs carry it, so a browser may keep them for good
/// and a new model is never mixed with an old one held in its cache. A test checks it.
pub const BUNDLED_VERSION: &str = "833a07d378719fbb";
/// Where the bundled files lie, relative to the page and the worker.
pub const BUNDLED_DIR: &str = "models/mini";
/// The browser's Cache API store of downloaded checkpoints, keyed by their resolve URLs.
pub const CACHE_NAME: &str = "headlight-models";
/// Header of a stored response holding its byte length, for the cache panel.
pub const SIZE_HEADER: &str = "x-headlight-bytes";
/// What a Hub load asks for when the user names no revision.
pub const DEFAULT_REVISION: &str = "main";

/// A Hub repository id: `name` (the Hub's old top-level ids, such as `gpt2`) or
/// `namespace/name`, each part ASCII letters, digits, `-`, `_` and `.`, not starting or ending
/// with `-` or `.`, with no `--` or `..`, at most 96 characters (the Hub's own rules).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RepoId(String);

const MAX_REPO_PART: usize = 96;

impl RepoId {
    pub fn parse(text: &str) -> Result<RepoId, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("A repository id is needed, such as openai-community/gpt2.".into());
        }
        let parts: Vec<&str> = text.split('/').collect();
        if parts.len() > 2 {
            return Err(format!("“{text}” has more than one “/”: a repository id is namespace/name, such as openai-community/gpt2."));
        }
        for part in &parts {
            let why = if part.is_empty() {
                Some("has an empty part".to_string())
            } else if part.len() > MAX_REPO_PART {
                Some(format!("has a part longer than {MAX_REPO_PART} characters"))
            } else if let Some(c) = part.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))) {
                Some(format!("contains “{c}”; only letters, digits, “-”, “_” and “.” are allowed"))
            } else if part.starts_with(['-', '.']) || part.ends_with(['-', '.']) {
                Some("has a part that starts or ends with “-” or “.”".to_string())
            } else if part.contains("--") || part.contains("..") {
                Some("contains “--” or “..”".to_string())
            } else {
                None
            };
            if let Some(why) = why {
                return Err(format!("“{text}” is not a Hub repository id: it {why}."));
            }
        }
        Ok(RepoId(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RepoId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A branch, tag or commit: ASCII letters, digits, `-`, `_`, `.` and `/`, no `..`, at most 128
/// characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Revision(String);

impl Revision {
    pub fn parse(text: &str) -> Result<Revision, String> {
        let text = text.trim();
        let why = if text.is_empty() {
            Some("is empty")
        } else if text.len() > 128 {
            Some("is longer than 128 characters")
        } else if !text.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/')) {
            Some("may hold only letters, digits, “-”, “_”, “.” and “/”")
        } else if text.contains("..") || text.starts_with(['/', '.']) || text.ends_with('/') {
            Some("has “..” or a “/” or “.” at its ends")
        } else {
            None
        };
        match why {
            Some(why) => Err(format!("The revision “{text}” {why}.")),
            None => Ok(Revision(text.to_string())),
        }
    }

    pub fn main() -> Revision {
        Revision(DEFAULT_REVISION.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The files of a GPT-2 repository headlight reads. `vocab.json` + `merges.txt` stand in for
/// `tokenizer.json` in repositories that predate it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Role {
    Config,
    Weights,
    Tokenizer,
    Vocab,
    Merges,
}

impl Role {
    pub const ALL: [Role; 5] = [Role::Config, Role::Weights, Role::Tokenizer, Role::Vocab, Role::Merges];

    /// The file's name in a Hub repository.
    pub fn file_name(self) -> &'static str {
        match self {
            Role::Config => "config.json",
            Role::Weights => "model.safetensors",
            Role::Tokenizer => "tokenizer.json",
            Role::Vocab => "vocab.json",
            Role::Merges => "merges.txt",
        }
    }

    fn code(self) -> &'static str {
        match self {
            Role::Config => "config",
            Role::Weights => "weights",
            Role::Tokenizer => "tokenizer",
            Role::Vocab => "vocab",
            Role::Merges => "merges",
        }
    }

    /// The most bytes headlight reads of this file; the weights are held instead to the length
    /// their header check found, and to the memory they need.
    pub fn limit(self) -> Option<u64> {
        match self {
            Role::Config => Some(1 << 20),
            Role::Tokenizer | Role::Vocab | Role::Merges => Some(64 << 20),
            Role::Weights => None,
        }
    }

    /// Which file a picked file is, by its name: `*.safetensors` are weights, the rest by the
    /// Hub's names. `None` for anything else (a `.bin` pickle included).
    pub fn of_file_name(name: &str) -> Option<Role> {
        if name.ends_with(".safetensors") {
            return Some(Role::Weights);
        }
        Role::ALL.into_iter().find(|r| r.file_name() == name)
    }
}

/// A file the user picked, as a link names it: its role, its name, and its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalFile {
    pub role: Role,
    pub name: String,
    /// Lower-case hex.
    pub sha256: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ModelSource {
    #[default]
    Bundled,
    Hub { repo: RepoId, revision: Revision },
    Local(Vec<LocalFile>),
}

impl ModelSource {
    /// The source as a permalink's `m` value: `mini`, `hf:openai-community/gpt2@main`, or
    /// `local:config=<sha256>:config.json;weights=<sha256>:model.safetensors;...`.
    pub fn link_code(&self) -> String {
        match self {
            ModelSource::Bundled => BUNDLED.into(),
            ModelSource::Hub { repo, revision } => format!("hf:{repo}@{}", revision.as_str()),
            ModelSource::Local(files) => {
                let files: Vec<String> = files.iter().map(|f| format!("{}={}:{}", f.role.code(), f.sha256, f.name.replace(';', "_"))).collect();
                format!("local:{}", files.join(";"))
            }
        }
    }

    /// Reads a permalink's `m` value. Anything but the bundled model, a well-formed repository
    /// id and revision, or well-formed local file entries is refused with the reason.
    pub fn parse(code: &str) -> Result<ModelSource, String> {
        if code == BUNDLED {
            return Ok(ModelSource::Bundled);
        }
        if code == RETIRED_BUNDLED {
            return Err(format!(
                "it names “{RETIRED_BUNDLED}”, the model headlight bundled before “{BUNDLED}”, which it no longer ships; the link opens with “{BUNDLED}”, so its attention and any generated text differ."
            ));
        }
        if let Some(hub) = code.strip_prefix("hf:") {
            let (repo, revision) = hub.rsplit_once('@').unwrap_or((hub, DEFAULT_REVISION));
            return Ok(ModelSource::Hub { repo: RepoId::parse(repo)?, revision: Revision::parse(revision)? });
        }
        if let Some(local) = code.strip_prefix("local:") {
            let files = local.split(';').map(parse_local_file).collect::<Result<Vec<_>, _>>()?;
            return local_files_complete(&files).map(|()| ModelSource::Local(files));
        }
        Err(format!("“{code}” names no model source this page knows (the bundled “{BUNDLED}”, hf:namespace/name@revision, or local:…)."))
    }

    /// A short name for the status line and messages.
    pub fn label(&self) -> String {
        match self {
            ModelSource::Bundled => BUNDLED.into(),
            ModelSource::Hub { repo, revision } if revision.as_str() == DEFAULT_REVISION => repo.to_string(),
            ModelSource::Hub { repo, revision } => format!("{repo}@{}", revision.as_str()),
            ModelSource::Local(files) => {
                let weights = files.iter().find(|f| f.role == Role::Weights).map_or("?", |f| f.name.as_str());
                format!("local files ({weights})")
            }
        }
    }
}

fn parse_local_file(entry: &str) -> Result<LocalFile, String> {
    let bad = || format!("The local file entry “{entry}” is not role=sha256:name.");
    let (role, rest) = entry.split_once('=').ok_or_else(bad)?;
    let role = Role::ALL.into_iter().find(|r| r.code() == role).ok_or_else(bad)?;
    let (sha256, name) = rest.split_once(':').ok_or_else(bad)?;
    if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) || name.is_empty() {
        return Err(bad());
    }
    Ok(LocalFile { role, name: name.to_string(), sha256: sha256.to_string() })
}

/// A set of local files is a checkpoint when it has one config, one weights file, and a
/// tokenizer (`tokenizer.json`, or `vocab.json` with `merges.txt`).
pub fn local_files_complete(files: &[LocalFile]) -> Result<(), String> {
    let count = |role: Role| files.iter().filter(|f| f.role == role).count();
    for role in Role::ALL {
        if count(role) > 1 {
            return Err(format!("Two files were given as {}; pick one.", role.file_name()));
        }
    }
    let mut missing = Vec::new();
    if count(Role::Config) == 0 {
        missing.push("config.json");
    }
    if count(Role::Weights) == 0 {
        missing.push("model.safetensors");
    }
    if count(Role::Tokenizer) == 0 && (count(Role::Vocab) == 0 || count(Role::Merges) == 0) {
        missing.push("tokenizer.json (or vocab.json and merges.txt)");
    }
    if missing.is_empty() { Ok(()) } else { Err(format!("Missing: {}.", missing.join(", "))) }
}

/// A runnable checkpoint from its files by role, with `tokenizer.json` or else `vocab.json` +
/// `merges.txt`. Errors name the file at fault.
pub fn checkpoint(mut files: BTreeMap<Role, Vec<u8>>) -> crate::Result<Checkpoint> {
    let missing = |role: Role| crate::Error::config("(file)", format!("is missing: {} was not given", role.file_name()));
    let config = files.remove(&Role::Config).ok_or_else(|| missing(Role::Config))?;
    let weights = files.remove(&Role::Weights).ok_or_else(|| missing(Role::Weights))?; // consumed by the build
    let file = |role: Role| files.get(&role).map(Vec::as_slice);
    let tokenizer = match (file(Role::Tokenizer), file(Role::Vocab), file(Role::Merges)) {
        (Some(json), _, _) => Tokenizer::from_bytes(json)?,
        (None, Some(vocab), Some(merges)) => Tokenizer::from_vocab_and_merges(vocab, merges)?,
        _ => return Err(crate::Error::Tokenizer("is missing, and so are vocab.json and merges.txt".into())),
    };
    Checkpoint::with_tokenizer(&config, weights, tokenizer)
}

/// SHA-256 of a file, lower-case hex: how a link names a local file.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// The URL of one bundled file, relative to the worker: versioned by [`BUNDLED_VERSION`].
pub fn bundled_url(role: Role) -> String {
    format!("{BUNDLED_DIR}/{}?v={BUNDLED_VERSION}", role.file_name())
}

/// The Hub's download URL of one file at a revision: `<base>/<repo>/resolve/<revision>/<file>`.
/// A `/` inside a revision (a branch such as `refs/pr/1`) is escaped as the Hub expects.
pub fn resolve_url(base: &str, repo: &RepoId, revision: &Revision, file: &str) -> String {
    format!("{}/{repo}/resolve/{}/{file}", base.trim_end_matches('/'), revision.as_str().replace('/', "%2F"))
}

/// A stored resolve URL as `(model, file)` for the cache panel: `("openai-community/gpt2 @ main",
/// "config.json")` when it is under `base`, else the whole folder URL as the model.
pub fn stored_label(base: &str, url: &str) -> (String, String) {
    let (folder, file) = url.rsplit_once('/').unwrap_or(("", url));
    let relative = folder.strip_prefix(base.trim_end_matches('/')).and_then(|r| r.strip_prefix('/'));
    let model = match relative.and_then(|r| r.split_once("/resolve/")) {
        Some((repo, revision)) => format!("{repo} @ {}", revision.replace("%2F", "/")),
        None => folder.to_string(),
    };
    (model, file.to_string())
}

/// The Hub base URL the app uses: the Hub, unless `override_base` (read by the page from
/// `localStorage["headlight.hub"]`, never from a link; it exists for the tests' stand-in Hub)
/// is an https URL, or an http URL on this computer (`localhost`, `127.0.0.1`).
pub fn hub_base(override_base: Option<&str>) -> String {
    let Some(base) = override_base.map(str::trim) else { return DEFAULT_HUB.to_string() };
    let (scheme, rest) = base.split_once("://").unwrap_or_default();
    let host = rest.split('/').next().unwrap_or_default();
    let name = host.rsplit_once(':').map_or(host, |(name, _)| name);
    let allowed = match scheme {
        "https" => true,
        "http" => matches!(name, "localhost" | "127.0.0.1"),
        _ => false,
    };
    if allowed && !name.is_empty() && !host.contains('@') && !base.contains(['?', '#', ' ', '\\']) { base.trim_end_matches('/').to_string() } else { DEFAULT_HUB.to_string() }
}

/// Where a Hub base URL's models come from, for the download question: "the Hugging Face Hub",
/// or the host of any other base named as such.
pub fn host_name(base: &str) -> String {
    if base == DEFAULT_HUB {
        return "the Hugging Face Hub".into();
    }
    let host = base.split_once("://").map_or(base, |(_, rest)| rest).split('/').next().unwrap_or_default();
    format!("{host} (not the Hugging Face Hub)")
}

/// Whether the worker may fetch from `origin` (`scheme://host[:port]`): this site's own
/// (`own`), the Hub base's (`hub`), and when that is the Hub itself the hosts its downloads are
/// sent on to (`https://*.huggingface.co`, `https://*.hf.co`, as the page's
/// Content-Security-Policy allows). The page's policy does not cover the worker, so the worker
/// holds every request, and every redirect, to this.
pub fn may_fetch(origin: &str, hub: &str, own: &str) -> bool {
    let cdn = || origin.strip_prefix("https://").is_some_and(|host| !host.contains([':', '/', '@']) && (host.ends_with(".huggingface.co") || host.ends_with(".hf.co")));
    origin == own || origin == hub || (hub == DEFAULT_HUB && cdn())
}

/// Whether the stored files (`stored(role)`) make a whole checkpoint: config, weights, and
/// `tokenizer.json` or `vocab.json` with `merges.txt`.
pub fn complete(stored: impl Fn(Role) -> bool) -> bool {
    stored(Role::Config) && stored(Role::Weights) && (stored(Role::Tokenizer) || (stored(Role::Vocab) && stored(Role::Merges)))
}

/// A model the picker offers by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Known {
    pub repo: &'static str,
    pub label: &'static str,
    /// Parameters, counting `wte` once (tied head).
    pub params: u64,
    pub n_layer: u64,
    pub n_head: u64,
    pub n_positions: u64,
}

/// GPT-2's published checkpoints, smallest first. Their files are F32, so the file is about
/// four bytes per parameter; [`budget::Estimate::of_known`] says which of them fit.
pub const KNOWN: [Known; 5] = [
    Known { repo: "distilbert/distilgpt2", label: "DistilGPT-2 (82M)", params: 81_912_576, n_layer: 6, n_head: 12, n_positions: 1024 },
    Known { repo: "openai-community/gpt2", label: "GPT-2 small (124M)", params: 124_439_808, n_layer: 12, n_head: 12, n_positions: 1024 },
    Known { repo: "openai-community/gpt2-medium", label: "GPT-2 medium (355M)", params: 354_823_168, n_layer: 24, n_head: 16, n_positions: 1024 },
    Known { repo: "openai-community/gpt2-large", label: "GPT-2 large (774M)", params: 774_030_080, n_layer: 36, n_head: 20, n_positions: 1024 },
    Known { repo: "openai-community/gpt2-xl", label: "GPT-2 XL (1.5B)", params: 1_557_611_200, n_layer: 48, n_head: 25, n_positions: 1024 },
];

#[cfg(test)]
mod tests {
    use super::*;

    fn hub(repo: &str, revision: &str) -> ModelSource {
        ModelSource::Hub { repo: RepoId::parse(repo).unwrap(), revision: Revision::parse(revision).unwrap() }
    }

    #[test]
    fn repo_ids_follow_the_hubs_rules() {
        for good in ["gpt2", "openai-community/gpt2", "distilbert/distilgpt2", "a/b", "user_1/my.model-v2", &format!("o/{}", "x".repeat(96))] {
            assert_eq!(RepoId::parse(good).unwrap().as_str(), good);
        }
        for (bad, why) in [
            ("", "needed"),
            ("a/b/c", "more than one"),
            ("/gpt2", "empty part"),
            ("org/", "empty part"),
            ("org/gp t2", "contains “ ”"),
            ("org/gpt2?x=1", "contains “?”"),
            ("../etc", "starts or ends"),
            ("org/-x", "starts or ends"),
            ("org/a--b", "“--”"),
            ("org/a..b", "“..”"),
            ("org/é", "contains “é”"),
            (&format!("o/{}", "x".repeat(97)), "longer than 96"),
        ] {
            let e = RepoId::parse(bad).unwrap_err();
            assert!(e.contains(why), "{bad:?}: {e}");
        }
    }

    #[test]
    fn revisions_are_branch_tag_or_commit_names() {
        for good in ["main", "v1.0", "refs/pr/1", "e7da7f221d5bf496a48136c0cd264e630fe9fcc8"] {
            assert_eq!(Revision::parse(good).unwrap().as_str(), good);
        }
        for bad in ["", "a b", "../x", "x/../y", "/main", "main/", "a?b", &"x".repeat(129)] {
            assert!(Revision::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn resolve_urls_are_the_hubs() {
        let repo = RepoId::parse("openai-community/gpt2").unwrap();
        assert_eq!(
            resolve_url(DEFAULT_HUB, &repo, &Revision::main(), "model.safetensors"),
            "https://huggingface.co/openai-community/gpt2/resolve/main/model.safetensors"
        );
        assert_eq!(
            resolve_url("http://127.0.0.1:9000/", &repo, &Revision::parse("refs/pr/7").unwrap(), "config.json"),
            "http://127.0.0.1:9000/openai-community/gpt2/resolve/refs%2Fpr%2F7/config.json"
        );
    }

    #[test]
    fn stored_urls_are_labelled_by_repository_and_revision() {
        let repo = RepoId::parse("openai-community/gpt2").unwrap();
        let url = resolve_url(DEFAULT_HUB, &repo, &Revision::parse("refs/pr/1").unwrap(), "model.safetensors");
        assert_eq!(stored_label(DEFAULT_HUB, &url), ("openai-community/gpt2 @ refs/pr/1".to_string(), "model.safetensors".to_string()));
        assert_eq!(stored_label("http://other", &url), ("https://huggingface.co/openai-community/gpt2/resolve/refs%2Fpr%2F1".to_string(), "model.safetensors".to_string()));
    }

    #[test]
    fn the_hub_base_override_is_https_or_http_on_this_computer() {
        assert_eq!(hub_base(None), DEFAULT_HUB);
        assert_eq!(hub_base(Some("http://127.0.0.1:8123/hub/")), "http://127.0.0.1:8123/hub");
        assert_eq!(hub_base(Some("http://localhost/hub")), "http://localhost/hub");
        assert_eq!(hub_base(Some("https://mirror.example/hf")), "https://mirror.example/hf");
        for bad in [
            "javascript:alert(1)",
            "ftp://x",
            "",
            "https://x/#y",
            "//evil",
            "http://evil.example/hub",
            "http://127.0.0.1.evil.example/hub",
            "http://localhost@evil.example/",
            "https://user@evil.example/",
            "https:///path",
        ] {
            assert_eq!(hub_base(Some(bad)), DEFAULT_HUB, "{bad}");
        }
    }

    #[test]
    fn the_question_names_any_host_but_the_hub() {
        assert_eq!(host_name(DEFAULT_HUB), "the Hugging Face Hub");
        assert_eq!(host_name("https://mirror.example/hf"), "mirror.example (not the Hugging Face Hub)");
        assert_eq!(host_name("http://127.0.0.1:8123/hub"), "127.0.0.1:8123 (not the Hugging Face Hub)");
    }

    #[test]
    fn the_worker_fetches_from_the_hub_its_cdn_and_this_site_alone() {
        let own = "http://127.0.0.1:8080";
        for allowed in [own, DEFAULT_HUB, "https://cdn-lfs.huggingface.co", "https://cas-bridge.xethub.hf.co"] {
            assert!(may_fetch(allowed, DEFAULT_HUB, own), "{allowed}");
        }
        for refused in ["https://evil.example", "http://huggingface.co", "https://huggingface.co.evil.example", "https://evilhf.co", "http://localhost:8080", "https://x.hf.co:8443"] {
            assert!(!may_fetch(refused, DEFAULT_HUB, own), "{refused}");
        }
        // a stand-in Hub: its own origin and this site, not the real Hub's CDN
        let stand_in = "http://127.0.0.1:9000";
        assert!(may_fetch(stand_in, stand_in, own));
        assert!(!may_fetch("https://cdn-lfs.huggingface.co", stand_in, own));
        assert!(!may_fetch("http://localhost:9000", stand_in, own));
    }

    #[test]
    fn a_stored_copy_is_whole_with_either_tokenizer() {
        let with = |roles: &[Role]| complete(|r| roles.contains(&r));
        assert!(with(&[Role::Config, Role::Weights, Role::Tokenizer]));
        assert!(with(&[Role::Config, Role::Weights, Role::Vocab, Role::Merges]));
        assert!(!with(&[Role::Config, Role::Weights, Role::Vocab]));
        assert!(!with(&[Role::Weights, Role::Tokenizer]));
    }

    #[test]
    fn sources_round_trip_through_link_codes() {
        let sha = |c: char| c.to_string().repeat(64);
        let local = ModelSource::Local(vec![
            LocalFile { role: Role::Config, name: "config.json".into(), sha256: sha('a') },
            LocalFile { role: Role::Weights, name: "my model.safetensors".into(), sha256: sha('b') },
            LocalFile { role: Role::Vocab, name: "vocab.json".into(), sha256: sha('c') },
            LocalFile { role: Role::Merges, name: "merges.txt".into(), sha256: sha('d') },
        ]);
        for source in [ModelSource::Bundled, hub("openai-community/gpt2", "main"), hub("gpt2", "refs/pr/1"), local] {
            assert_eq!(ModelSource::parse(&source.link_code()), Ok(source.clone()));
        }
        assert_eq!(hub("openai-community/gpt2-medium", "main").link_code(), "hf:openai-community/gpt2-medium@main");
        assert_eq!(ModelSource::parse("hf:distilbert/distilgpt2"), Ok(hub("distilbert/distilgpt2", "main")));
    }

    #[test]
    fn bad_link_codes_are_refused_with_the_reason() {
        let sha = "a".repeat(64);
        for (code, why) in [
            ("gpt-j", "names no model source"),
            ("hf:a/b/c@main", "more than one"),
            ("hf:org/x@..", "revision"),
            ("local:config=xyz:config.json", "not role=sha256:name"),
            (&format!("local:config={sha}:c.json"), "Missing: model.safetensors, tokenizer.json"),
            (&format!("local:config={sha}:c.json;config={sha}:d.json"), "Two files"),
            (&format!("local:script={sha}:x.js"), "not role=sha256:name"),
        ] {
            let e = ModelSource::parse(code).unwrap_err();
            assert!(e.contains(why), "{code}: {e}");
        }
    }

    #[test]
    fn sha256_is_the_standard_one() {
        // FIPS 180-2 test vectors
        assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(sha256_hex(b""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }

    #[test]
    fn picked_files_are_recognised_by_name() {
        assert_eq!(Role::of_file_name("model.safetensors"), Some(Role::Weights));
        assert_eq!(Role::of_file_name("gpt2-fp16.safetensors"), Some(Role::Weights));
        assert_eq!(Role::of_file_name("merges.txt"), Some(Role::Merges));
        assert_eq!(Role::of_file_name("pytorch_model.bin"), None);
    }
}
