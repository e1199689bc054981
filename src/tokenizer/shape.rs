//! What a GPT-2 `tokenizer.json` is, checked on its JSON before the `tokenizers` crate reads
//! it: a BPE model, byte-level pre-tokenizer and decoder, no padding, no truncation, and only
//! the normalizers GPT-2 family checkpoints ship (none, or NFC). A file from the internet may
//! set anything the crate understands, and some of it hurts: a fixed padding of 10^8 tokens
//! fills memory on every prompt, a truncation cuts prompts without a word, a `Precompiled`
//! normalizer with a broken character map panics. Everything else is refused by its field.

use serde_json::{Map, Value};

/// Vocabulary entries, merges or added tokens past any GPT-2 family tokenizer's by far (GPT-2
/// has 50,257, 50,000 and 1).
pub const MAX_ENTRIES: usize = 1 << 20;

/// What to do about a file refused here.
const ADVICE: &str = "use the tokenizer.json of a GPT-2 checkpoint";

/// `Ok` for a GPT-2 tokenizer, else what is wrong, naming the field.
pub fn check(json: &Value) -> Result<(), String> {
    let top = json.as_object().ok_or_else(|| format!("is not a JSON object; {ADVICE}"))?;
    for (key, value) in top {
        match key.as_str() {
            "version" => kind_of(key, value, Value::is_string, "a string")?,
            "padding" if !value.is_null() => return Err("`padding` is set; a GPT-2 tokenizer pads nothing: set it to null".into()),
            "truncation" if !value.is_null() => return Err("`truncation` is set; a GPT-2 tokenizer cuts no prompt short: set it to null".into()),
            "padding" | "truncation" => {}
            "added_tokens" => added_tokens(value)?,
            "normalizer" => component(key, value, &NORMALIZER)?,
            "pre_tokenizer" => component(key, value, &PRE_TOKENIZER)?,
            "post_processor" => component(key, value, &POST_PROCESSOR)?,
            "decoder" => component(key, value, &DECODER)?,
            "model" => model(value)?,
            other => return Err(format!("`{other}` is not a field of a GPT-2 tokenizer; {ADVICE}")),
        }
    }
    for needed in ["model", "pre_tokenizer", "decoder"] {
        if !top.contains_key(needed) {
            return Err(format!("has no `{needed}`; {ADVICE}"));
        }
    }
    Ok(())
}

/// A count held to [`MAX_ENTRIES`].
pub fn at_most(what: &str, count: usize) -> Result<(), String> {
    if count > MAX_ENTRIES {
        return Err(format!("{what} has {count} entries, more than the {MAX_ENTRIES} headlight accepts (GPT-2 has about 50,000); {ADVICE}"));
    }
    Ok(())
}

fn kind_of(field: &str, value: &Value, is: fn(&Value) -> bool, kind: &str) -> Result<(), String> {
    if is(value) { Ok(()) } else { Err(format!("`{field}` is {}, not {kind}; {ADVICE}", describe(value))) }
}

/// A value in a few words: a file's vocabulary does not belong in a message.
fn describe(value: &Value) -> String {
    match value {
        Value::String(s) if s.chars().count() > 40 => "a long string".into(),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "an object".into(),
        short => short.to_string(),
    }
}

/// One stage of the pipeline: which component types it may hold, the key of a `Sequence`'s
/// list of them, and whether it may be null.
struct Stage {
    allowed: &'static str,
    members: &'static str,
    nullable: bool,
    check: fn(&str, &Map<String, Value>) -> Result<(), String>,
}

const NORMALIZER: Stage = Stage { allowed: "null or NFC", members: "normalizers", nullable: true, check: nfc };
const PRE_TOKENIZER: Stage = Stage { allowed: "ByteLevel", members: "pretokenizers", nullable: false, check: splitting_byte_level };
const POST_PROCESSOR: Stage = Stage { allowed: "null or ByteLevel", members: "processors", nullable: true, check: byte_level };
const DECODER: Stage = Stage { allowed: "ByteLevel", members: "decoders", nullable: false, check: byte_level };

/// `value` at `field`: null where the stage allows it, one allowed component, or a `Sequence`
/// of them.
fn component(field: &str, value: &Value, stage: &Stage) -> Result<(), String> {
    let refuse = |what: &str| Err(format!("`{field}` is {what}; a GPT-2 tokenizer's is {}: {ADVICE}", stage.allowed));
    if value.is_null() {
        return if stage.nullable { Ok(()) } else { refuse("null") };
    }
    let Some(object) = value.as_object() else { return refuse(&describe(value)) };
    match object.get("type").and_then(Value::as_str) {
        Some("Sequence") => {
            only_keys(field, object, &[stage.members])?;
            let members = object.get(stage.members).and_then(Value::as_array);
            let Some(members) = members.filter(|m| !m.is_empty()) else { return refuse("a Sequence without members") };
            members.iter().enumerate().try_for_each(|(i, member)| match member {
                Value::Object(o) if o.get("type").and_then(Value::as_str) != Some("Sequence") => (stage.check)(&format!("{field}.{}[{i}]", stage.members), o),
                _ => Err(format!("`{field}.{}[{i}]` is not one of {}; {ADVICE}", stage.members, stage.allowed)),
            })
        }
        _ => (stage.check)(field, object),
    }
}

/// The component's `type` is `wanted`, and it has no keys but `keys`.
fn typed(field: &str, object: &Map<String, Value>, wanted: &str, allowed: &str, keys: &[&str]) -> Result<(), String> {
    match object.get("type") {
        Some(kind) if kind.as_str() == Some(wanted) => only_keys(field, object, keys),
        Some(kind) => Err(format!("`{field}` is {}; a GPT-2 tokenizer's is {allowed}: {ADVICE}", describe(kind))),
        None => Err(format!("`{field}` has no `type`; a GPT-2 tokenizer's is {allowed}: {ADVICE}")),
    }
}

fn only_keys(field: &str, object: &Map<String, Value>, keys: &[&str]) -> Result<(), String> {
    match object.keys().find(|k| *k != "type" && !keys.contains(&k.as_str())) {
        Some(key) => Err(format!("`{field}.{key}` is not a field of a GPT-2 tokenizer; {ADVICE}")),
        None => Ok(()),
    }
}

fn nfc(field: &str, object: &Map<String, Value>) -> Result<(), String> {
    typed(field, object, "NFC", NORMALIZER.allowed, &[])
}

const BYTE_LEVEL_KEYS: [&str; 3] = ["add_prefix_space", "trim_offsets", "use_regex"];

fn byte_level(field: &str, object: &Map<String, Value>) -> Result<(), String> {
    typed(field, object, "ByteLevel", "ByteLevel", &BYTE_LEVEL_KEYS)?;
    BYTE_LEVEL_KEYS.iter().filter_map(|key| Some((key, object.get(*key)?))).try_for_each(|(key, value)| kind_of(&format!("{field}.{key}"), value, Value::is_boolean, "true or false"))
}

/// The pre-tokenizer's ByteLevel splits as GPT-2's does: with its regex, no space added in
/// front (the tokens' bytes are then the prompt's).
fn splitting_byte_level(field: &str, object: &Map<String, Value>) -> Result<(), String> {
    byte_level(field, object)?;
    if object.get("add_prefix_space") == Some(&Value::Bool(true)) {
        return Err(format!("`{field}.add_prefix_space` is true; GPT-2 adds no space in front of a prompt: set it to false"));
    }
    if object.get("use_regex") == Some(&Value::Bool(false)) {
        return Err(format!("`{field}.use_regex` is false; GPT-2 splits words with its regex first: set it to true"));
    }
    Ok(())
}

/// A BPE model as GPT-2's: vocabulary and merges of a sane size, no dropout, no prefix or
/// suffix on pieces, no byte fallback. The oldest files have no `type`.
fn model(value: &Value) -> Result<(), String> {
    let object = value.as_object().ok_or_else(|| format!("`model` is {}, not a BPE model; {ADVICE}", describe(value)))?;
    for (key, value) in object {
        let field = format!("model.{key}");
        match key.as_str() {
            "type" => kind_of(&field, value, |v| v.as_str() == Some("BPE"), "BPE (GPT-2's model)")?,
            "vocab" => at_most(&format!("`{field}`"), value.as_object().ok_or_else(|| format!("`{field}` is not a map of pieces to ids; {ADVICE}"))?.len())?,
            "merges" => at_most(&format!("`{field}`"), value.as_array().ok_or_else(|| format!("`{field}` is not a list of merges; {ADVICE}"))?.len())?,
            "dropout" => kind_of(&field, value, Value::is_null, "null (a GPT-2 tokenizer drops no merges)")?,
            "unk_token" => kind_of(&field, value, |v| v.is_null() || v.is_string(), "null or a string")?,
            "continuing_subword_prefix" | "end_of_word_suffix" => kind_of(&field, value, |v| v.is_null() || v.as_str() == Some(""), "null or empty")?,
            "fuse_unk" => kind_of(&field, value, Value::is_boolean, "true or false")?,
            "byte_fallback" | "ignore_merges" => kind_of(&field, value, |v| *v == Value::Bool(false), "false")?,
            _ => return Err(format!("`{field}` is not a field of a GPT-2 tokenizer; {ADVICE}")),
        }
    }
    for needed in ["vocab", "merges"] {
        if !object.contains_key(needed) {
            return Err(format!("`model` has no `{needed}`; a GPT-2 tokenizer is a BPE model: {ADVICE}"));
        }
    }
    merges_make_pieces(&object["vocab"], &object["merges"])
}

/// The index of the first merge whose product is not a piece of the vocabulary (`is_piece`),
/// if any; a merge that is not a pair of pieces (`None`) is left to the tokenizers crate to
/// refuse. GPT-2's merges all make pieces, and the tokenizers crate (0.23.2) panics on a merge
/// whose product is longer than every vocabulary entry instead of refusing it (the tokenizer
/// fuzz target found it).
pub fn unmade_piece<'a>(merges: impl IntoIterator<Item = Option<(&'a str, &'a str)>>, is_piece: impl Fn(&str) -> bool) -> Option<usize> {
    merges.into_iter().position(|pair| pair.is_some_and(|(left, right)| !is_piece(&format!("{left}{right}"))))
}

/// Every merge of `tokenizer.json` makes a piece of its vocabulary ([`unmade_piece`]).
fn merges_make_pieces(vocab: &Value, merges: &Value) -> Result<(), String> {
    let (Some(vocab), Some(merges)) = (vocab.as_object(), merges.as_array()) else { return Ok(()) };
    let pairs = merges.iter().map(|merge| match merge {
        Value::String(merge) => merge.split_once(' '),
        Value::Array(pair) => match pair.as_slice() {
            [Value::String(left), Value::String(right)] => Some((left.as_str(), right.as_str())),
            _ => None,
        },
        _ => None,
    });
    match unmade_piece(pairs, |piece| vocab.contains_key(piece)) {
        Some(i) => Err(format!("`model.merges[{i}]` makes a piece that is not in `model.vocab`; {ADVICE}")),
        None => Ok(()),
    }
}

/// Few enough, each with text to match.
fn added_tokens(value: &Value) -> Result<(), String> {
    let tokens = value.as_array().ok_or_else(|| format!("`added_tokens` is not a list; {ADVICE}"))?;
    at_most("`added_tokens`", tokens.len())?;
    tokens.iter().enumerate().try_for_each(|(i, token)| match token.get("content").and_then(Value::as_str) {
        Some(content) if !content.is_empty() => Ok(()),
        _ => Err(format!("`added_tokens[{i}].content` is not a token's text; {ADVICE}")),
    })
}
