//! What the fuzz targets check on every input: the readers of bytes from strangers never
//! panic, and what they accept keeps their promises. `tests/fuzz_corpus.rs` replays the
//! committed corpora (and every crash found) through these same functions under `cargo test`.

use headlight::capture::full_context_bytes;
use headlight::checkpoint::Checkpoint;
use headlight::hub::budget::{Estimate, WASM32_MEMORY, preflight};
use headlight::hub::transfer::{Answer, Head, Transfer, parse_content_range};
use headlight::hub::{self, ModelSource};
use headlight::model::config::Gpt2Config;
use headlight::permalink::{self, MAX_LEN};
use headlight::safetensors::{Dtype, Header, SafeTensors, read};
use headlight::session::Session;
use headlight::tokenizer::Tokenizer;
use headlight::view::export::escape;

/// A URL fragment: any text decodes without a panic; a link that decodes re-encodes to a
/// fragment that decodes whole (no problems) to the same link.
pub fn permalink(bytes: &[u8]) {
    let Ok(text) = std::str::from_utf8(bytes) else { return };
    let Some(decoded) = permalink::decode(text) else { return };
    let fragment = permalink::encode(&decoded.link);
    if fragment.len() > MAX_LEN {
        return; // percent-encoding can triple a prompt; the decoder's cap is checked by the unit tests
    }
    let again = permalink::decode(&fragment).expect("an encoded link is a link");
    assert_eq!(again.problems, Vec::<String>::new(), "re-reading {fragment}");
    assert_eq!(again.link, decoded.link, "re-reading {fragment}");
}

/// `config.json`: anything accepted is a model that can be built and run: every dimension
/// positive, heads that divide the width, a finite positive LayerNorm epsilon.
pub fn config(bytes: &[u8]) {
    let Ok(c) = Gpt2Config::from_json(bytes) else { return };
    for (name, n) in [("vocab_size", c.vocab_size), ("n_positions", c.n_positions), ("n_embd", c.n_embd), ("n_layer", c.n_layer), ("n_head", c.n_head), ("n_inner", c.n_inner)] {
        assert!(n > 0, "{name} = 0 accepted");
    }
    assert_eq!(c.n_embd % c.n_head, 0, "n_head {} does not divide n_embd {}", c.n_head, c.n_embd);
    assert!(c.layer_norm_epsilon.is_finite() && c.layer_norm_epsilon > 0.0, "layer_norm_epsilon {} accepted", c.layer_norm_epsilon);
}

/// `model.safetensors`: anything accepted has tensors whose bytes match dtype x shape, lie
/// apart from each other, and read to exactly one value per element (or are refused by dtype).
pub fn safetensors(bytes: &[u8]) {
    let Ok(file) = SafeTensors::parse(bytes) else { return };
    let data_start = 8 + u64::from_le_bytes(bytes[..8].try_into().expect("a parsed file has a length")) as usize;
    let (mut extents, mut elements_of, mut floats) = (Vec::new(), std::collections::BTreeMap::new(), true);
    for name in file.names() {
        let tensor = file.get(name).expect("a listed name is there");
        let (dtype, data) = (tensor.dtype(), tensor.data());
        let elements: usize = tensor.shape().iter().product();
        assert_eq!(data.len() * 8, elements * dtype.bitsize(), "`{name}`: bytes vs {dtype} {:?}", tensor.shape());
        let begin = data.as_ptr() as usize - bytes.as_ptr() as usize;
        assert!(data.is_empty() || begin >= data_start, "`{name}` starts inside the header");
        assert!(begin + data.len() <= bytes.len(), "`{name}` reaches past the file");
        if !data.is_empty() {
            extents.push(begin..begin + data.len());
        }
        floats &= matches!(dtype, Dtype::F32 | Dtype::F16 | Dtype::BF16);
        elements_of.insert(name.to_string(), elements);
    }
    match read(bytes.to_vec(), |_| true) {
        Ok(tensors) => {
            for (name, elements) in &elements_of {
                assert_eq!(tensors[name].values.len(), *elements, "`{name}` read to the wrong count");
            }
        }
        Err(e) => assert!(!floats, "a file of F32, F16 and BF16 tensors refused: {e}"),
    }
    extents.sort_by_key(|r| r.start);
    for pair in extents.windows(2) {
        assert!(pair[0].end <= pair[1].start, "tensors overlap: {:?} and {:?}", pair[0], pair[1]);
    }
}

/// A link's model source (`m=`): what is accepted reads back as itself from its own code, and a
/// Hub source's download URL stays on the Hub: `/<namespace>/<name>/resolve/<revision>/<file>`
/// with no empty, `.` or `..` segment and nothing but URL-safe characters.
pub fn model_source(bytes: &[u8]) {
    let Ok(text) = std::str::from_utf8(bytes) else { return };
    let Ok(source) = ModelSource::parse(text) else { return };
    assert_eq!(ModelSource::parse(&source.link_code()), Ok(source.clone()), "{text:?} does not read back");
    let ModelSource::Hub { repo, revision } = &source else { return };
    let url = hub::resolve_url(hub::DEFAULT_HUB, repo, revision, "config.json");
    let path = url.strip_prefix(hub::DEFAULT_HUB).expect("the URL starts at the Hub");
    assert!(path.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.%/".contains(&b)), "{url}");
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    assert!(matches!(segments.len(), 4 | 5), "{url}");
    assert!(segments.iter().all(|s| !matches!(*s, "" | "." | "..")), "{url}");
    assert_eq!(segments[segments.len() - 3], "resolve", "{url}");
    assert_eq!(segments[..segments.len() - 3].join("/"), repo.as_str(), "{url}");
}

/// Texts every accepted tokenizer must encode without a panic.
const TEXTS: [&str; 3] = ["Hello, world! <|endoftext|>", "東京 🚀 e\u{301} \u{1b}[31m\u{0}", ""];

/// `tokenizer.json`: anything accepted encodes text to ids inside its vocabulary, each with a
/// label, and decodes them again, without a panic.
pub fn tokenizer(bytes: &[u8]) {
    let Ok(tokenizer) = Tokenizer::from_bytes(bytes) else { return };
    for text in TEXTS {
        let Ok(ids) = tokenizer.encode(text) else { continue };
        assert!(ids.iter().all(|&id| (id as usize) < tokenizer.vocab_size()), "{text:?}: ids {ids:?} past the vocabulary of {}", tokenizer.vocab_size());
        assert_eq!(tokenizer.tokens(&ids).len(), ids.len());
        let _ = tokenizer.decode(&ids);
    }
}

/// The parts of a checkpoint in one input: two little-endian u16 lengths, then `config.json`,
/// `tokenizer.json` and the weights file (the rest).
fn split_checkpoint(bytes: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
    let config_len = u16::from_le_bytes(bytes.get(..2)?.try_into().ok()?) as usize;
    let tokenizer_len = u16::from_le_bytes(bytes.get(2..4)?.try_into().ok()?) as usize;
    let rest = &bytes[4..];
    let (config, rest) = rest.split_at_checked(config_len)?;
    let (tokenizer, weights) = rest.split_at_checked(tokenizer_len)?;
    Some((config, tokenizer, weights))
}

/// A checkpoint from its config, tokenizer and weights together (`Checkpoint::from_bytes`, as a
/// download or local files are built): anything accepted has a tokenizer within the model's
/// vocabulary, and reads a prompt of its first token ids (up to 16) without a panic.
pub fn checkpoint(bytes: &[u8]) {
    let Some((config, tokenizer, weights)) = split_checkpoint(bytes) else { return };
    let Ok(checkpoint) = Checkpoint::from_bytes(config, weights.to_vec(), tokenizer) else { return };
    let vocab = checkpoint.config().vocab_size;
    assert!(checkpoint.tokenizer.vocab_size() <= vocab, "a tokenizer of {} tokens for {vocab}", checkpoint.tokenizer.vocab_size());
    let ids: Vec<u32> = (0..vocab.min(checkpoint.config().n_positions).min(16) as u32).collect();
    Session::start(&checkpoint.model, &ids, true).expect("an accepted checkpoint reads its own ids");
}

/// The memory estimate from a config and the first bytes of a weights file: an input is a
/// little-endian u64 file length, a u16 config length, `config.json`, then the file's start.
/// Nothing wraps: what passes fits in wasm32's memory counted exactly (in u128), and a full
/// context's capture is counted as u128 counts it or refused.
pub fn budget(bytes: &[u8]) {
    let Some(file_len) = bytes.get(..8).map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes"))) else { return };
    let Some(config_len) = bytes.get(8..10).map(|b| u16::from_le_bytes(b.try_into().expect("2 bytes")) as usize) else { return };
    let Some((config, start)) = bytes[10..].split_at_checked(config_len) else { return };
    let Ok(config) = Gpt2Config::from_json(config) else { return };
    let (layers, heads, positions) = (config.n_layer as u64, config.n_head as u64, config.n_positions as u64);
    let exact = 4 * layers as u128 * heads as u128 * (positions as u128 * (positions as u128 + 1) / 2);
    assert_eq!(full_context_bytes(layers, heads, positions).map(u128::from), (exact <= u64::MAX as u128).then_some(exact));
    if preflight(&config, start, file_len, WASM32_MEMORY).is_err() {
        return;
    }
    let header = Header::parse(start, file_len).expect("a header preflight read");
    let estimate = Estimate::of_checkpoint(&config, &header).expect("an estimate preflight made");
    let sum = estimate.file as u128 + estimate.weights as u128 + estimate.capture as u128 + hub::budget::HEADROOM as u128;
    assert!(sum <= WASM32_MEMORY as u128, "{estimate:?} passed as fitting");
}

/// Content-Range and ETag handling across a download's answers. An input is lines, each an
/// answer `status|content-length|content-range|etag` (empty fields absent) or `+n` bytes
/// arriving; the first line may be `expect|limit`. What parses as a Content-Range lies inside
/// its file; bytes are never counted past the announced length or the limit; an answer that
/// continues does so where the bytes stopped.
pub fn transfer(bytes: &[u8]) {
    let Ok(text) = std::str::from_utf8(bytes) else { return };
    let number = |s: &str| s.trim().parse::<u64>().ok();
    if let Some((first, last, total)) = parse_content_range(text) {
        assert!(first <= last && total.is_none_or(|total| last < total), "{text:?} parsed as {first}-{last}/{total:?}");
    }
    let mut lines = text.lines().peekable();
    let bounds = lines.peek().and_then(|l| l.split_once('|').filter(|(_, rest)| !rest.contains('|')));
    let mut transfer = match bounds {
        Some((expected, limit)) => Transfer::new(number(expected), number(limit)),
        None => Transfer::default(),
    };
    if bounds.is_some() {
        lines.next();
    }
    for line in lines {
        if let Some(n) = line.strip_prefix('+') {
            let Some(n) = number(n).filter(|&n| n < 1 << 40) else { continue };
            if transfer.add(n).is_ok() {
                assert!(transfer.total.is_none_or(|total| transfer.received <= total), "{transfer:?}");
                assert!(transfer.limit.is_none_or(|limit| transfer.received <= limit), "{transfer:?}");
            }
            continue;
        }
        let fields: Vec<&str> = line.split('|').collect();
        let [status, length, range, etag] = fields[..] else { continue };
        let Ok(status) = status.parse::<u16>() else { continue };
        let head = Head { status, content_length: number(length), content_range: Some(range).filter(|r| !r.is_empty()), etag: Some(etag).filter(|e| !e.is_empty()) };
        let before = transfer.received;
        match transfer.answer(&head) {
            Ok(Answer::Continue) => {
                assert_eq!(transfer.received, before);
                assert_eq!(head.content_range.and_then(parse_content_range).map(|(first, _, _)| first), Some(before));
            }
            Ok(Answer::Restart) => assert_eq!(transfer.received, 0),
            Err(_) => {}
        }
        assert!(transfer.limit.is_none_or(|limit| transfer.total.is_none_or(|total| total <= limit) || transfer.expected.is_some()), "{transfer:?}");
    }
}

/// The export's escaping: any text, escaped, stays one text node and one attribute value of an
/// SVG document that an XML parser reads.
pub fn export(bytes: &[u8]) {
    let Ok(text) = std::str::from_utf8(bytes) else { return };
    let escaped = escape(text);
    let document = format!(r#"<svg xmlns="http://www.w3.org/2000/svg"><text a="{escaped}">{escaped}</text></svg>"#);
    let parsed = roxmltree::Document::parse(&document).unwrap_or_else(|e| panic!("{text:?} escaped as {escaped:?}: {e}"));
    let root = parsed.root_element();
    assert_eq!(root.children().count(), 1, "{text:?} made more than one node");
    let node = root.first_child().expect("the text element");
    assert_eq!(node.attributes().count(), 1, "{text:?} made more than one attribute");
    assert!(node.children().all(|child| child.is_text()), "{text:?} made an element");
}
