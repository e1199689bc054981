//! Property tests of the size arithmetic, natively and in the browser, where wasm32's `usize`
//! has 32 bits: the memory estimate (`hub::budget::preflight`), the capture's layout
//! (`Capture::for_app`, its rows), and a download's byte counts (`hub::transfer`). Inputs come
//! from the crate's own seeded generator ([`Rng`]), so a run is the same everywhere, and lean on
//! the values where arithmetic breaks: the caps and one past them, powers of two around 2^16,
//! 2^31, 2^32 and 2^64. Each property is checked against the same sizes counted in u128, which
//! cannot wrap here.

use headlight::capture::{APP_BUDGET_BYTES, Capture, values_before};
use headlight::hub::Role;
use headlight::hub::budget::{HEADROOM, WASM32_MEMORY, available, preflight};
use headlight::hub::transfer::{Head, Transfer, parse_content_range};
use headlight::model::config::{Gpt2Config, MAX_EMBD, MAX_HEADS, MAX_INNER, MAX_LAYERS, MAX_POSITIONS, MAX_VOCAB_SIZE};
use headlight::rng::Rng;
use headlight::synthetic;
use serde_json::{Map, Value, json};

/// What the app can address where `usize` has 32 bits.
const U32: u128 = u32::MAX as u128;

/// A value from 0 to `max` inclusive (`max` below 2^64).
fn below(rng: &mut Rng, max: u64) -> u64 {
    if max == u64::MAX { rng.next_u64() } else { rng.next_u64() % (max + 1) }
}

/// A number where size arithmetic tends to break: small, near `cap` (a field's cap, or any
/// bound), near a power of two, or anything at all.
fn awkward(rng: &mut Rng, cap: u64) -> u64 {
    let near = |rng: &mut Rng, x: u64| x.saturating_add(below(rng, 6)).saturating_sub(3);
    match below(rng, 9) {
        0 | 1 => 1 + below(rng, 63),
        2 | 3 => near(rng, cap),
        4 => 1 + below(rng, cap.saturating_sub(1)),
        5 => {
            let power = [16, 20, 30, 31, 32, 33, 48, 63][below(rng, 7) as usize];
            near(rng, 1 << power)
        }
        6 => u64::MAX - below(rng, 3),
        // log-uniform up to 2^64
        7 => rng.next_u64() >> below(rng, 63),
        _ => below(rng, 2 * cap),
    }
}

const DIMENSIONS: [(&str, u64); 7] = [
    ("vocab_size", MAX_VOCAB_SIZE),
    ("n_positions", MAX_POSITIONS),
    ("n_ctx", MAX_POSITIONS),
    ("n_embd", MAX_EMBD),
    ("n_layer", MAX_LAYERS),
    ("n_head", MAX_HEADS),
    ("n_inner", MAX_INNER),
];

/// A `config.json` of awkward dimensions (sometimes without `n_ctx` or `n_inner`, sometimes
/// with a width the heads divide), and the field its refusal must name, `None` when it is
/// a config headlight accepts.
fn crafted_config(rng: &mut Rng) -> (Vec<u8>, Option<&'static str>) {
    let mut config = Map::new();
    config.insert("model_type".into(), json!("gpt2"));
    let mut values = [0u64; 7];
    for (i, (field, cap)) in DIMENSIONS.iter().enumerate() {
        // mostly in range (small, near the cap, or anywhere), else anything
        values[i] = match below(rng, 9) {
            0 => awkward(rng, *cap),
            1..=3 => 1 + below(rng, 63.min(*cap - 1)),
            4..=6 => cap - below(rng, 3),
            _ => 1 + (below(rng, *cap - 1) >> below(rng, 20)),
        };
        if *field == "n_ctx" && below(rng, 2) != 0 {
            values[i] = values[1];
        }
        if *field == "n_head" && below(rng, 1) == 0 {
            values[3] = values[5].saturating_mul(1 + below(rng, 3));
            config.insert("n_embd".into(), json!(values[3]));
        }
        let optional = matches!(*field, "n_ctx" | "n_inner") && below(rng, 2) == 0;
        if !optional {
            config.insert(field.to_string(), json!(values[i]));
        }
    }
    let given = |i: usize| config.contains_key(DIMENSIONS[i].0);
    let bad = |i: usize| given(i) && !(1..=DIMENSIONS[i].1).contains(&values[i]);
    // the order in which `HfConfig::validate` checks them
    let refused = if bad(0) {
        Some("vocab_size")
    } else if bad(1) {
        Some("n_positions")
    } else if bad(2) || (given(2) && values[1] != values[2]) {
        Some("n_ctx")
    } else if bad(3) {
        Some("n_embd")
    } else if bad(4) {
        Some("n_layer")
    } else if bad(5) || values[3] % values[5] != 0 {
        Some("n_head")
    } else if bad(6) {
        Some("n_inner")
    } else {
        None
    };
    (serde_json::to_vec(&Value::Object(config)).unwrap(), refused)
}

/// A safetensors header (the file's first bytes) for `tensors` (name, dtype bits, shape), laid
/// out back to back, the file's length with `slack` bytes after the data, and the number of
/// weights headlight counts (mask buffers are not weights); `None` when the data would not fit
/// in 64 bits of offsets.
fn header(tensors: &[(String, u32, Vec<u64>)], slack: u64) -> Option<(Vec<u8>, u64, u128)> {
    let mut entries = Map::new();
    let (mut offset, mut params) = (0u128, 0u128);
    for (name, bits, shape) in tensors {
        let elements: u128 = shape.iter().map(|&d| d as u128).product();
        let bytes = (elements * *bits as u128).div_ceil(8);
        let dtype = match bits {
            32 => "F32",
            16 if name.len() % 2 == 0 => "F16",
            _ => "BF16",
        };
        entries.insert(name.clone(), json!({"dtype": dtype, "shape": shape, "data_offsets": [u64::try_from(offset).ok()?, u64::try_from(offset + bytes).ok()?]}));
        offset += bytes;
        if !(name.ends_with(".attn.bias") || name.ends_with(".attn.masked_bias")) {
            params += elements;
        }
    }
    let mut json = serde_json::to_vec(&Value::Object(entries)).unwrap();
    json.resize(json.len().next_multiple_of(8), b' ');
    let mut start = (json.len() as u64).to_le_bytes().to_vec();
    start.extend(json);
    let file_len = u64::try_from(start.len() as u128 + offset + slack as u128).ok()?;
    Some((start, file_len, params))
}

/// GPT-2's tensors for `config` (with mask buffers in some layers), weights in `bits`.
fn gpt2_tensors(config: &Gpt2Config, bits: u32) -> Vec<(String, u32, Vec<u64>)> {
    let positions = config.n_positions as u64;
    let mut tensors: Vec<_> = synthetic::shapes(config).into_iter().map(|(name, shape)| (name, bits, shape)).collect();
    for layer in (0..config.n_layer).step_by(3) {
        tensors.push((format!("h.{layer}.attn.bias"), bits, vec![1, 1, positions, positions]));
    }
    tensors
}

/// A few tensors of awkward shapes, some of them mask buffers.
fn odd_tensors(rng: &mut Rng) -> Vec<(String, u32, Vec<u64>)> {
    (0..1 + below(rng, 5))
        .map(|i| {
            let name = match below(rng, 3) {
                0 => format!("h.{i}.attn.bias"),
                _ => format!("t{i}.weight"),
            };
            let shape = (0..below(rng, 3)).map(|_| awkward(rng, 1 << 16) % (1 << 32)).collect();
            (name, [32, 16][below(rng, 1) as usize], shape)
        })
        .collect()
}

/// `n_layer · n_head · n(n+1)/2` in u128, or `u128::MAX` past it.
fn triangle(layers: usize, heads: usize, n: usize) -> u128 {
    let n = n as u128;
    (layers as u128).saturating_mul(heads as u128).saturating_mul(n * (n + 1) / 2)
}

/// The memory a checkpoint needs as the estimate counts it, in u128 (`u128::MAX` past it).
fn needs(config: &Gpt2Config, file_len: u64, params: u128) -> u128 {
    let capture = triangle(config.n_layer, config.n_head, config.n_positions).saturating_mul(4);
    (file_len as u128 + 4 * params + HEADROOM as u128).saturating_add(capture)
}

/// What the worker may use: wasm32's 4 GiB, or what a device says it has.
fn some_memory(rng: &mut Rng) -> u64 {
    match below(rng, 3) {
        0 => available(Some([0.25, 0.5, 1.0, 2.0, 3.0, 3.999][below(rng, 5) as usize])),
        _ => WASM32_MEMORY,
    }
}

/// Checks one checkpoint: `preflight` never panics; what it lets through fits in the memory it
/// was given, counted without wrapping, and every size the app then takes from it (the file,
/// each tensor widened to f32, a full context's capture, exact or compact, and its value
/// norms) fits in 32 bits; what fits and can be addressed is let through.
fn check_preflight(config: &Gpt2Config, tensors: &[(String, u32, Vec<u64>)], slack: u64, memory: u64) -> bool {
    let Some((start, file_len, params)) = header(tensors, slack) else { return false };
    let fits = needs(config, file_len, params) <= memory as u128;
    // what the estimate must let through when it fits: dimensions this machine can address, and
    // at least one layer, head and position (else a product of the others may not be counted)
    let addressable = tensors.iter().all(|(_, _, shape)| shape.iter().all(|&d| usize::try_from(d).is_ok()))
        && [config.n_layer, config.n_head, config.n_positions].iter().all(|&d| d > 0);
    let what = format!("{} layers × {} heads × {} positions, {} tensors, file {file_len}, {params} weights, memory {memory}", config.n_layer, config.n_head, config.n_positions, tensors.len());
    match preflight(config, &start, file_len, memory) {
        Ok(()) => {
            assert!(fits, "let through, but needs {} bytes: {what}", needs(config, file_len, params));
            assert!(memory <= WASM32_MEMORY && file_len as u128 <= U32 && 4 * params <= U32, "{what}");
            for (name, _, shape) in tensors {
                let widened = 4 * shape.iter().map(|&d| d as u128).product::<u128>();
                assert!(widened <= U32 && usize::try_from(widened).is_ok(), "{name}: {widened} bytes as f32: {what}");
            }
            let (layers, heads, n) = (config.n_layer, config.n_head, config.n_positions);
            let values = values_before(layers as u64, heads as u64, n as u64).expect("counted");
            let capture = Capture::for_app(layers, heads, n);
            let value_bytes = if capture.is_exact() { 4 } else { 2 };
            assert!(values as u128 * value_bytes <= U32 && usize::try_from(values * value_bytes as u64).is_ok(), "capture of {values} values: {what}");
            assert!(4 * layers as u128 * heads as u128 * n as u128 <= U32, "value norms: {what}");
            assert_eq!(capture.is_exact(), 4 * values as u128 <= APP_BUDGET_BYTES as u128, "{what}");
            true
        }
        Err(why) => {
            assert!(!(fits && addressable), "refused although it fits: {why}: {what}");
            assert!(
                why.starts_with("This model needs ") || why.starts_with("This model cannot run anywhere: ") || why.starts_with("model.safetensors: "),
                "{why}: {what}"
            );
            false
        }
    }
}

/// Crafted configs: every one out of its field's range is refused with that field named, and
/// none panics. Those accepted, with GPT-2's tensors or odd ones, go through the memory
/// estimate: what passes it fits in 32-bit sizes, what is refused says why. Returns how many
/// configs were accepted and how many checkpoints passed, so that a caller sees both sides
/// were reached.
pub fn budget_keeps_what_passes_within_32_bits(seed: u64, cases: usize) -> (usize, usize) {
    let mut rng = Rng::seeded(seed);
    let (mut accepted, mut passed) = (0, 0);
    for case in 0..cases {
        let (json, refused) = crafted_config(&mut rng);
        let text = String::from_utf8_lossy(&json).into_owned();
        let config = match (Gpt2Config::from_json(&json), refused) {
            (Ok(config), None) => config,
            (Err(e), Some(field)) => {
                let e = e.to_string();
                assert!(e.starts_with(&format!("config.json: `{field}` ")), "case {case}: {text}: {e}");
                continue;
            }
            (Ok(_), Some(field)) => panic!("case {case}: accepted, with `{field}` out of range: {text}"),
            (Err(e), None) => panic!("case {case}: refused: {e}: {text}"),
        };
        accepted += 1;
        let memory = some_memory(&mut rng);
        let slack = if below(&mut rng, 3) == 0 { awkward(&mut rng, 1 << 20) % (1 << 33) } else { 0 };
        // GPT-2's layout only where it stays a small header (a few thousand tensors at most)
        let gpt2 = config.n_layer <= 64 || (config.n_layer <= 256 && below(&mut rng, 15) == 0);
        let tensors = if gpt2 { gpt2_tensors(&config, [32, 16][below(&mut rng, 1) as usize]) } else { odd_tensors(&mut rng) };
        passed += check_preflight(&config, &tensors, slack, memory) as usize;
    }
    (accepted, passed)
}

/// Every config at its caps (n_ctx beside n_positions, heads dividing the width) is accepted,
/// and its memory estimate refuses it, naming the full context's attention, without a panic;
/// one past each cap is refused by that field's name.
pub fn configs_at_the_caps_are_refused_by_name() {
    let at_caps = json!({"model_type": "gpt2", "vocab_size": MAX_VOCAB_SIZE, "n_positions": MAX_POSITIONS, "n_ctx": MAX_POSITIONS,
        "n_embd": MAX_EMBD, "n_layer": MAX_LAYERS, "n_head": MAX_HEADS, "n_inner": MAX_INNER});
    let config = Gpt2Config::from_json(at_caps.to_string().as_bytes()).unwrap();
    let gpt2 = (config.n_layer <= 256).then(|| gpt2_tensors(&config, 16));
    for tensors in gpt2.into_iter().chain([vec![("wte.weight".to_string(), 32, vec![1, 1])]]) {
        let (start, file_len, _) = header(&tensors, 0).unwrap();
        let why = preflight(&config, &start, file_len, WASM32_MEMORY).unwrap_err();
        assert!(why.starts_with("This model needs about ") && why.contains(" for a full context's attention), and wasm32 can address 4 GiB at most."), "{why}");
    }
    for (field, cap) in DIMENSIONS {
        for bad in [cap + 1, 1 << 32, u64::MAX] {
            let mut config = at_caps.clone();
            config[field] = json!(bad);
            if field == "n_positions" {
                config["n_ctx"] = json!(bad);
            }
            let why = Gpt2Config::from_json(config.to_string().as_bytes()).unwrap_err().to_string();
            assert!(why.starts_with(&format!("config.json: `{field}` is {bad}; it must be a whole number from 1 to {cap}")), "{field} = {bad}: {why}");
        }
    }
}

/// Configs past the caps (as `Gpt2Config` holds them, in `usize`) go through the estimate too:
/// none panics, and what passes fits.
pub fn uncapped_configs_never_pass_wrapped(seed: u64, cases: usize) {
    let mut rng = Rng::seeded(seed);
    let base = Gpt2Config::from_json(br#"{"vocab_size": 10, "n_positions": 4, "n_embd": 2, "n_layer": 1, "n_head": 1}"#).unwrap();
    for _ in 0..cases {
        let size = |rng: &mut Rng| usize::try_from(awkward(rng, 1 << 17)).unwrap_or(usize::MAX);
        let config = Gpt2Config { n_layer: size(&mut rng), n_head: size(&mut rng), n_positions: size(&mut rng), ..base.clone() };
        let tensors = odd_tensors(&mut rng);
        check_preflight(&config, &tensors, 0, WASM32_MEMORY);
    }
}

/// `Capture::for_app` for any dimensions never panics and is exact just when a full context of
/// exact values fits the app's budget; where the store cannot be addressed, making room for it
/// takes nothing; a small capture's rows read back from where `row_start` puts them.
pub fn capture_layout_holds_in_32_bits(seed: u64, cases: usize) {
    let mut rng = Rng::seeded(seed);
    for case in 0..cases {
        let size = |rng: &mut Rng, cap: u64| usize::try_from(awkward(rng, cap)).unwrap_or(usize::MAX);
        let (layers, heads, n) = (size(&mut rng, MAX_LAYERS), size(&mut rng, MAX_HEADS), size(&mut rng, MAX_POSITIONS));
        let values = triangle(layers, heads, n);
        let what = format!("case {case}: {layers} layers × {heads} heads × {n} positions");
        let mut capture = Capture::for_app(layers, heads, n);
        let fits = values.saturating_mul(4) <= APP_BUDGET_BYTES as u128;
        // exact only when it fits; and when it does, for a capture of at least one of each
        assert!(!capture.is_exact() || fits, "{what}");
        assert!(capture.is_exact() || !fits || layers == 0 || heads == 0 || n == 0, "{what}");
        let value_bytes = if capture.is_exact() { 4 } else { 2 };
        let norms = (layers as u128).saturating_mul(heads as u128).saturating_mul(n as u128);
        let unaddressable = |count: u128, bytes: u128| count > usize::MAX as u128 || count.saturating_mul(bytes) > isize::MAX as u128;
        // never more than 16 MB taken for real by a test
        let small = |count: u128, bytes: u128| count.saturating_mul(bytes) <= 16 << 20;
        if (unaddressable(values, value_bytes) || small(values, value_bytes)) && (unaddressable(norms, 4) || small(norms, 4)) {
            capture.reserve_positions(n);
            assert_eq!(capture.bytes(), 0, "{what}");
            assert_eq!(capture.len(), 0, "{what}");
        }
        if values <= 4096 && layers > 0 && heads > 0 && n > 0 {
            // row q of (layer, head) holds the weights (1 + layer + head + q + k) / 1024
            let weight = |l: usize, h: usize, q: usize, k: usize| ((1 + l + h + q + k) % 1024) as f32 / 1024.0;
            for q in 0..n {
                let rows: Vec<f32> = (0..layers).flat_map(|l| (0..heads).flat_map(move |h| (0..=q).map(move |k| weight(l, h, q, k)))).collect();
                capture.append_position(&rows, &[]);
            }
            assert_eq!(capture.bytes() as u128, values * value_bytes, "{what}");
            for (l, h, q) in [(0, 0, 0), (layers - 1, heads - 1, n - 1), (layers / 2, heads / 2, n / 2)] {
                let row = capture.row(l, h, q);
                let want: Vec<f32> = (0..=q).map(|k| weight(l, h, q, k)).collect();
                assert!(row.iter().zip(&want).all(|(a, b)| (a - b).abs() < 1e-5) && row.len() == want.len(), "{what}: row ({l}, {h}, {q})");
            }
        }
    }
}

/// A `Content-Range` value of awkward numbers, sometimes malformed.
fn content_range(rng: &mut Rng, near: u64) -> String {
    let number = |rng: &mut Rng| match below(rng, 3) {
        0 => near.saturating_add(below(rng, 4)).saturating_sub(2),
        _ => awkward(rng, near.max(1)),
    };
    let (first, last) = (number(rng), number(rng));
    let total = if below(rng, 4) == 0 { "*".to_string() } else { number(rng).to_string() };
    match below(rng, 12) {
        0 => format!("bytes {first}-/{total}"),
        1 => format!("bytes {first}-{last}"),
        2 => format!("bytes -{last}/{total}"),
        3 => format!("bytes {first}-{last}/{total}0{}", below(rng, 9)),
        _ => format!("bytes {first}-{last}/{total}"),
    }
}

/// Downloads as the worker makes them (the config and tokenizer files held to their limits,
/// the weights to the length their header check found, at most 4 GiB) against awkward answers:
/// a `Content-Range` that parses lies inside its file; while the answers are taken, the bytes
/// counted and the file's length (which the worker reserves memory for) never pass the length
/// or limit, so fit in 32 bits; and none panics. Returns how many answers were taken.
pub fn transfers_stay_within_their_bounds(seed: u64, cases: usize) -> usize {
    let mut rng = Rng::seeded(seed);
    let mut taken = 0;
    for case in 0..cases {
        let mut transfer = match below(&mut rng, 2) {
            // a file the memory estimate let through: it and its headroom fit in 4 GiB
        0 => Transfer::new(Some(awkward(&mut rng, WASM32_MEMORY - HEADROOM) % (WASM32_MEMORY - HEADROOM + 1)), None),
            role => Transfer::new(None, [Role::Config, Role::Tokenizer][role as usize - 1].limit()),
        };
        let bound = transfer.expected.or(transfer.limit).unwrap();
        for answer in 0..1 + below(&mut rng, 4) {
            let what = format!("case {case}, answer {answer}: {transfer:?}");
            let near = if below(&mut rng, 1) == 0 { transfer.received } else { bound };
            let range = content_range(&mut rng, near);
            if let Some((first, last, total)) = parse_content_range(&range) {
                assert!(first <= last && total.is_none_or(|total| last < total) && last < u64::MAX, "{range}");
            }
            let head = Head {
                status: [200, 206, 206, 404, 416, 302][below(&mut rng, 5) as usize],
                content_length: (below(&mut rng, 3) != 0).then(|| if below(&mut rng, 1) == 0 { bound } else { awkward(&mut rng, bound) }),
                content_range: Some(range.as_str()).filter(|_| below(&mut rng, 5) != 0),
                etag: None,
            };
            if transfer.answer(&head).is_err() {
                break;
            }
            taken += 1;
            // unknown only for an answer without Content-Length, read up to the limit
            let length = transfer.total.unwrap_or(bound);
            assert!(length <= bound && length as u128 <= U32 && usize::try_from(length).is_ok(), "{what}: {head:?} gives a length of {length}");
            for _ in 0..below(&mut rng, 3) {
                let chunk = awkward(&mut rng, bound) % (1 << 34);
                if transfer.add(chunk).is_err() {
                    break;
                }
                assert!(transfer.received <= length && transfer.received <= bound, "{what}: counted {}", transfer.received);
            }
        }
    }
    taken
}
