//! A view as a link: the URL fragment holds model, prompt, generation settings and seed, the
//! generated ids, and the view (mode, layer, head, selected token and key, direction, step,
//! scale, moved window, word view, compare prompt).
//! Opening it replays the generated ids rather than sampling again, so every machine shows the
//! same text.
//!
//! The fragment is a versioned list of `key=value` pairs joined by `&`, values percent-encoded:
//! `v=1&m=mini&p=The%20cat&n=20&d=s&t=0.8&k=40&tp=0.95&s=42&g=262.3797&vm=head&l=0&h=1&q=3&st=2`.
//! Decoding never fails outright: whatever cannot be read is reported and left at its default,
//! and a link from another version keeps its prompt.

use crate::analysis::repeat::Pool;
use crate::hub::ModelSource;
use crate::model::generate::{GenerationSettings, MAX_NEW_TOKENS};
use crate::view::colour::Scale;
use crate::analysis::roles::SortBy;
use crate::view::state::{Direction, Mode, Panel, Source, ViewState};

pub const VERSION: u32 = 1;
/// Longest fragment decoded, in bytes: a full context of text percent-encoded, and its ids.
pub const MAX_LEN: usize = 64 * 1024;
/// Most heads a link may switch off.
pub const MAX_ABLATED: usize = 256;

#[derive(Debug, Clone, PartialEq)]
pub struct Permalink {
    /// Where the model comes from: the bundled one, a Hub repository at a revision, or local
    /// files named by their SHA-256 ([`ModelSource::link_code`]).
    pub model: ModelSource,
    pub prompt: String,
    pub generation: GenerationSettings,
    /// Ids generated after the prompt, replayed when the link opens.
    pub generated: Vec<u32>,
    pub view: ViewState,
}

impl Default for Permalink {
    fn default() -> Self {
        Permalink { model: ModelSource::Bundled, prompt: String::new(), generation: GenerationSettings::default(), generated: Vec::new(), view: ViewState::default() }
    }
}

/// A decoded link: what could be read, and what could not.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    pub link: Permalink,
    /// One sentence per problem; empty when the link was read whole.
    pub problems: Vec<String>,
}

fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn percent_decode(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok()).and_then(|h| u8::from_str_radix(h, 16).ok());
            out.push(hex.ok_or_else(|| format!("has a broken escape at character {i}"))?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "is not valid UTF-8 text".to_string())
}

fn scale_code(scale: Scale) -> String {
    match scale {
        Scale::Linear => "lin".into(),
        Scale::Log => "log".into(),
        Scale::Clipped { percentile } => format!("p{percentile}"),
    }
}

fn parse_scale(code: &str) -> Option<Scale> {
    match code {
        "lin" => Some(Scale::Linear),
        "log" => Some(Scale::Log),
        _ => code.strip_prefix('p')?.parse().ok().filter(|p| (1..=100).contains(p)).map(|percentile| Scale::Clipped { percentile }),
    }
}

/// The fragment (without `#`) for `link`.
pub fn encode(link: &Permalink) -> String {
    let Permalink { model, prompt, generation, generated, view } = link;
    let s = &generation.sampling;
    let mut pairs = vec![
        ("v", VERSION.to_string()),
        ("m", percent_encode(&model.link_code())),
        ("p", percent_encode(prompt)),
        ("n", generation.new_tokens.to_string()),
        ("d", if generation.sample { "s" } else { "g" }.to_string()),
        ("t", s.temperature.to_string()),
        ("k", s.top_k.to_string()),
        ("tp", s.top_p.to_string()),
        ("s", s.seed.to_string()),
    ];
    if !generated.is_empty() {
        pairs.push(("g", generated.iter().map(u32::to_string).collect::<Vec<_>>().join(".")));
    }
    pairs.extend([("vm", view.mode.name().to_string()), ("l", view.layer.to_string()), ("h", view.head.to_string())]);
    if let Some(q) = view.selected {
        pairs.push(("q", q.to_string()));
    }
    if let Some(k) = view.key {
        pairs.push(("ky", k.to_string()));
    }
    if let Some([q, k]) = view.pan {
        pairs.push(("w", format!("{q}.{k}")));
    }
    if view.words {
        pairs.push(("wv", "1".into()));
    }
    if !view.compare.is_empty() {
        pairs.push(("c", percent_encode(&view.compare)));
    }
    if view.direction == Direction::AttendedBy {
        pairs.push(("dir", "by".into()));
    }
    if let Some(step) = view.step {
        pairs.push(("st", step.to_string()));
    }
    if view.scale != Scale::Linear {
        pairs.push(("sc", scale_code(view.scale)));
    }
    if generation.bos {
        pairs.push(("b", "1".into()));
    }
    if view.source != Source::Head {
        pairs.push(("src", view.source.name().into()));
    }
    if view.hide_sink {
        pairs.push(("hs", "1".into()));
    }
    if view.surprisal {
        pairs.push(("su", "1".into()));
    }
    if view.panel != Panel::Roles {
        pairs.push(("an", view.panel.name().into()));
    }
    if view.sort != SortBy::Position {
        pairs.push(("so", view.sort.name().into()));
    }
    if view.pool != Pool::Vocabulary {
        pairs.push(("rp", view.pool.name().into()));
    }
    if !view.ablated.is_empty() {
        pairs.push(("ab", view.ablated.iter().map(|(l, h)| format!("{l}.{h}")).collect::<Vec<_>>().join("_")));
    }
    pairs.into_iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")
}

/// What a key names, for messages.
fn key_name(key: &str) -> &'static str {
    match key {
        "m" => "model",
        "p" => "prompt",
        "n" => "new tokens",
        "d" => "decoding",
        "t" => "temperature",
        "k" => "top-k",
        "tp" => "top-p",
        "s" => "seed",
        "g" => "generated ids",
        "vm" => "view",
        "l" => "layer",
        "h" => "head",
        "q" => "selected token",
        "ky" => "selected key",
        "w" => "moved window",
        "wv" => "word view",
        "c" => "compare prompt",
        "dir" => "direction",
        "st" => "step",
        "sc" => "colour scale",
        "b" => "BOS token",
        "src" => "attention shown",
        "hs" => "hide first token",
        "su" => "surprisal shading",
        "an" => "analysis panel",
        "so" => "role order",
        "rp" => "repeat test tokens",
        "ab" => "switched-off heads",
        _ => "unknown field",
    }
}

/// Reads a fragment (with or without its `#`). `None` when there is no link at all.
pub fn decode(fragment: &str) -> Option<Decoded> {
    let fragment = fragment.strip_prefix('#').unwrap_or(fragment);
    if fragment.is_empty() {
        return None;
    }
    let mut link = Permalink::default();
    if fragment.len() > MAX_LEN {
        let problem = format!("This link is {} KiB long, more than the {} KiB a link may hold; nothing was read from it.", fragment.len().div_ceil(1024), MAX_LEN / 1024);
        return Some(Decoded { link, problems: vec![problem] });
    }
    let pairs: Vec<(&str, &str)> = fragment.split('&').map(|pair| pair.split_once('=').unwrap_or((pair, ""))).collect();
    let value = |key: &str| pairs.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
    let mut problems = Vec::new();
    let prompt = value("p").map(percent_decode);
    if let Some(Err(problem)) = &prompt {
        problems.push(format!("The prompt in this link {problem}."));
    }
    if let Some(Ok(prompt)) = prompt {
        link.prompt = prompt;
    }
    match value("v") {
        Some(v) if v == VERSION.to_string() => {}
        other => {
            let which = other.map_or("no version".to_string(), |v| format!("version {v:?}"));
            let kept = if link.prompt.is_empty() { "nothing could be kept" } else { "only its prompt was kept" };
            problems.push(format!("This link has {which}, not version {VERSION} that this page reads: {kept}."));
            return Some(Decoded { link, problems });
        }
    }
    for (key, raw) in &pairs {
        let mut bad = |why: &str| problems.push(format!("The link's {} ({key}={raw:?}) {why}; the default was used.", key_name(key)));
        match *key {
            "v" | "p" => {}
            "m" => match percent_decode(raw) {
                Ok(code) => match ModelSource::parse(&code) {
                    Ok(model) => link.model = model,
                    Err(why) => bad(&format!("is not a model source: {why}")),
                },
                Err(_) => bad("is not a model source"),
            },
            "n" => match raw.parse::<usize>() {
                Ok(n) if n <= MAX_NEW_TOKENS => link.generation.new_tokens = n,
                _ => bad(&format!("is not a count from 0 to {MAX_NEW_TOKENS}")),
            },
            "d" => match *raw {
                "s" => link.generation.sample = true,
                "g" => link.generation.sample = false,
                _ => bad("is neither s (sample) nor g (greedy)"),
            },
            "t" => match raw.parse::<f32>() {
                Ok(t) if t.is_finite() && t > 0.0 => link.generation.sampling.temperature = t,
                _ => bad("is not a number above 0"),
            },
            "k" => match raw.parse() {
                Ok(k) => link.generation.sampling.top_k = k,
                _ => bad("is not a whole number"),
            },
            "tp" => match raw.parse::<f32>() {
                Ok(p) if p > 0.0 && p <= 1.0 => link.generation.sampling.top_p = p,
                _ => bad("is not a number in (0, 1]"),
            },
            "s" => match raw.parse() {
                Ok(seed) => link.generation.sampling.seed = seed,
                _ => bad("is not a whole number"),
            },
            "g" => match raw.split('.').map(str::parse).collect::<Result<Vec<u32>, _>>() {
                Ok(ids) if ids.len() <= MAX_NEW_TOKENS => link.generated = ids,
                _ => bad("is not a list of token ids"),
            },
            "vm" => match Mode::from_name(raw) {
                Some(mode) => link.view.mode = mode,
                None => bad(&format!("is not one of {}", Mode::ALL.map(Mode::name).join(", "))),
            },
            "l" | "h" | "q" | "ky" | "st" => match raw.parse::<usize>() {
                Ok(i) => match *key {
                    "l" => link.view.layer = i,
                    "h" => link.view.head = i,
                    "q" => link.view.selected = Some(i),
                    "ky" => link.view.key = Some(i),
                    _ => link.view.step = Some(i),
                },
                Err(_) => bad("is not a whole number"),
            },
            "w" => match raw.split_once('.').map(|(q, k)| (q.parse::<usize>(), k.parse::<usize>())) {
                Some((Ok(q), Ok(k))) => link.view.pan = Some([q, k]),
                _ => bad("is not two positions, query.key"),
            },
            "wv" => match *raw {
                "1" => link.view.words = true,
                "0" => link.view.words = false,
                _ => bad("is neither 1 nor 0"),
            },
            "c" => match percent_decode(raw) {
                Ok(text) => link.view.compare = text,
                Err(why) => bad(&why),
            },
            "dir" => match *raw {
                "by" => link.view.direction = Direction::AttendedBy,
                "to" => link.view.direction = Direction::AttendsTo,
                _ => bad("is neither to nor by"),
            },
            "sc" => match parse_scale(raw) {
                Some(scale) => link.view.scale = scale,
                None => bad("is not lin, log or p1 to p100"),
            },
            "b" | "hs" | "su" => match *raw {
                "1" | "0" => match *key {
                    "b" => link.generation.bos = *raw == "1",
                    "hs" => link.view.hide_sink = *raw == "1",
                    _ => link.view.surprisal = *raw == "1",
                },
                _ => bad("is neither 1 nor 0"),
            },
            "src" => match Source::from_name(raw) {
                Some(source) => link.view.source = source,
                None => bad(&format!("is not one of {}", Source::ALL.map(Source::name).join(", "))),
            },
            "an" => match Panel::from_name(raw) {
                Some(panel) => link.view.panel = panel,
                None => bad(&format!("is not one of {}", Panel::ALL.map(Panel::name).join(", "))),
            },
            "so" => match SortBy::from_name(raw) {
                Some(sort) => link.view.sort = sort,
                None => bad("is not position, entropy or a role"),
            },
            "rp" => match Pool::from_name(raw) {
                Some(pool) => link.view.pool = pool,
                None => bad(&format!("is not one of {}", Pool::ALL.map(Pool::name).join(", "))),
            },
            "ab" => match raw.split('_').map(|pair| pair.split_once('.').and_then(|(l, h)| Some((l.parse().ok()?, h.parse().ok()?)))).collect::<Option<Vec<(usize, usize)>>>() {
                Some(heads) if heads.len() <= MAX_ABLATED => link.view.ablated = heads,
                _ => bad(&format!("is not a list of at most {MAX_ABLATED} layer.head pairs")),
            },
            _ => bad("is not a field this page knows"),
        }
    }
    if let Some(step) = link.view.step.filter(|&step| step > link.generated.len()) {
        problems.push(format!("The link's step {step} is past its {} generated tokens; the last step is shown.", link.generated.len()));
        link.view.step = None;
    }
    Some(Decoded { link, problems })
}

/// Checks a view against the model showing it: a layer or head the model lacks (from a hostile
/// or stale link) falls back to the first, with a sentence saying so.
pub fn fit_view(view: &mut ViewState, n_layer: usize, n_head: usize) -> Vec<String> {
    let mut problems = Vec::new();
    for (what, index, count) in [("layer", &mut view.layer, n_layer), ("head", &mut view.head, n_head)] {
        if *index >= count {
            problems.push(format!("The link's {what} {index} is past this model's {count} {what}s (0 to {}); {what} 0 is shown.", count.saturating_sub(1)));
            *index = 0;
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::roles::Role;
    use crate::model::generate::SamplingSettings;

    fn sample_link() -> Permalink {
        Permalink {
            model: ModelSource::Bundled,
            prompt: "Line one\n\tcafé & <b>50%</b> = 🙂 #tag".into(),
            generation: GenerationSettings { new_tokens: 7, sample: false, sampling: SamplingSettings { temperature: 0.7, top_k: 0, top_p: 0.9, seed: 1234567890123 }, bos: true },
            generated: vec![198, 50256, 0, 464],
            view: ViewState {
                mode: Mode::Layer,
                layer: 3,
                head: 2,
                selected: Some(5),
                key: Some(2),
                pan: Some([4, 0]),
                words: true,
                compare: "A second & prompt".into(),
                direction: Direction::AttendedBy,
                step: Some(2),
                scale: Scale::Clipped { percentile: 99 },
                source: Source::Rollout,
                hide_sink: true,
                surprisal: true,
                panel: Panel::Ablation,
                sort: SortBy::Role(Role::Induction),
                pool: Pool::Prompt,
                ablated: vec![(0, 1), (3, 2)],
            },
        }
    }

    #[test]
    fn links_round_trip() {
        for link in [sample_link(), Permalink::default(), Permalink { prompt: "x".into(), ..Permalink::default() }] {
            let fragment = encode(&link);
            assert!(fragment.bytes().all(|b| b.is_ascii_graphic() && b != b'#'), "{fragment}");
            let decoded = decode(&format!("#{fragment}")).unwrap();
            assert_eq!(decoded.problems, Vec::<String>::new());
            assert_eq!(decoded.link, link);
        }
    }

    #[test]
    fn links_carry_the_model_source() {
        let hub = ModelSource::parse("hf:openai-community/gpt2@main").unwrap();
        let files = format!("config={}:config.json;weights={}:model.safetensors;tokenizer={}:tokenizer.json", "a".repeat(64), "b".repeat(64), "c".repeat(64));
        let local = ModelSource::parse(&format!("local:{files}")).unwrap();
        for model in [hub, local] {
            let link = Permalink { model, prompt: "x".into(), ..Permalink::default() };
            let decoded = decode(&encode(&link)).unwrap();
            assert_eq!(decoded.problems, Vec::<String>::new());
            assert_eq!(decoded.link, link);
        }
        // a link made with the model bundled before opens on the bundled one, saying so
        let retired = decode("v=1&m=tiny&p=x").unwrap();
        assert_eq!(retired.link.model, ModelSource::Bundled);
        assert!(retired.problems[0].contains("“tiny”, the model headlight bundled before “mini”"), "{:?}", retired.problems);
        let bad = decode("v=1&p=x&m=hf%3A..%2Fetc").unwrap();
        assert_eq!(bad.link.model, ModelSource::Bundled);
        assert!(bad.problems[0].contains("is not a model source"), "{:?}", bad.problems);
    }

    #[test]
    fn the_encoding_is_compact() {
        let fragment = encode(&Permalink { prompt: "The quick brown fox".into(), generated: vec![11, 262, 3290], ..Permalink::default() });
        assert_eq!(fragment, "v=1&m=mini&p=The%20quick%20brown%20fox&n=16&d=s&t=0.8&k=40&tp=0.95&s=42&g=11.262.3290&vm=head&l=0&h=0");
    }

    #[test]
    fn no_fragment_is_no_link() {
        assert_eq!(decode(""), None);
        assert_eq!(decode("#"), None);
    }

    #[test]
    fn bad_fields_are_reported_and_the_rest_kept() {
        let decoded = decode("v=1&p=hello%20world&t=hot&g=1.x.3&vm=sideways&zz=1&l=2").unwrap();
        assert_eq!(decoded.link.prompt, "hello world");
        assert_eq!(decoded.link.view.layer, 2);
        assert_eq!(decoded.link.generation.sampling.temperature, GenerationSettings::default().sampling.temperature);
        assert!(decoded.link.generated.is_empty());
        assert_eq!(decoded.problems.len(), 4, "{:?}", decoded.problems);
        assert!(decoded.problems[0].contains("temperature"));
    }

    #[test]
    fn another_version_keeps_only_the_prompt() {
        let decoded = decode("v=0&p=kept%21&l=3").unwrap();
        assert_eq!(decoded.link, Permalink { prompt: "kept!".into(), ..Permalink::default() });
        assert_eq!(decoded.problems, ["This link has version \"0\", not version 1 that this page reads: only its prompt was kept."]);
        let garbage = decode("#%%%garbage!!").unwrap();
        assert_eq!(garbage.link, Permalink::default());
        assert!(garbage.problems[0].contains("no version"));
    }

    #[test]
    fn broken_text_and_oversized_links_are_refused_with_a_reason() {
        let decoded = decode("v=1&p=%E2%28").unwrap();
        assert_eq!(decoded.problems, ["The prompt in this link is not valid UTF-8 text."]);
        let decoded = decode("v=1&p=ab%2").unwrap();
        assert!(decoded.problems[0].contains("broken escape"));
        let huge = format!("v=1&p={}", "a".repeat(MAX_LEN));
        let decoded = decode(&huge).unwrap();
        assert!(decoded.link.prompt.is_empty());
        assert!(decoded.problems[0].contains("more than the 64 KiB"));
    }
}
