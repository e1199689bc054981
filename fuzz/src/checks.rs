//! What the fuzz targets check on every input: the three readers of bytes from strangers never
//! panic, and what they accept keeps their promises. `tests/fuzz_corpus.rs` replays the
//! committed corpora (and every crash found) through these same functions under `cargo test`.

use headlight::hub::{self, ModelSource};
use headlight::model::config::Gpt2Config;
use headlight::permalink::{self, MAX_LEN};
use headlight::safetensors::{Dtype, SafeTensors, to_f32};

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
/// apart from each other, and widen to exactly one f32 per element (or are refused by dtype).
pub fn safetensors(bytes: &[u8]) {
    let Ok(file) = SafeTensors::parse(bytes) else { return };
    let data_start = 8 + u64::from_le_bytes(bytes[..8].try_into().expect("a parsed file has a length")) as usize;
    let mut extents = Vec::new();
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
        match to_f32(name, &tensor) {
            Ok(values) => assert_eq!(values.len(), elements, "`{name}` widened to the wrong count"),
            Err(_) => assert!(!matches!(dtype, Dtype::F32 | Dtype::F16 | Dtype::BF16), "`{name}`: a float dtype refused"),
        }
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
