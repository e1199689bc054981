//! Text to token ids and back, with the `tokenizers` crate on `tokenizer.json`, plus what the
//! UI needs to show a token: its raw bytes, a readable form with visible whitespace, and the
//! byte span it covers in the prompt.
//!
//! GPT-2's byte-level BPE writes each byte as a printable character (`Ġ` is a space, `Ċ` a
//! newline), and may split a multi-byte character across tokens; so a token is a byte string,
//! not always valid UTF-8 on its own.

use std::collections::HashMap;
use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

mod shape;

/// GPT-2's end-of-text token, special in its tokenizer.
const EOS: &str = "<|endoftext|>";

pub struct Tokenizer {
    inner: tokenizers::Tokenizer,
    /// Byte-level alphabet: printable char -> the byte it stands for.
    byte_of: HashMap<char, u8>,
    /// One past the highest id, added tokens included.
    id_span: usize,
}

/// One token of a prompt or of generated text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Token {
    pub id: u32,
    /// The vocabulary entry, as in `tokenizer.json` (`Ġquick`).
    pub piece: String,
    /// The token decoded alone (` quick`); a broken multi-byte character shows as `�`.
    pub text: String,
    /// A readable label with whitespace made visible (`␣quick`) and the bytes of a broken
    /// character written out (`␣⟨f0 9f⟩`).
    pub label: String,
    /// The bytes of the prompt (or of the generated text) this token stands for.
    pub span: Range<usize>,
}

/// GPT-2's `bytes_to_unicode`: printable bytes stand for themselves, the other 68 are shifted
/// past 255 in order.
fn byte_alphabet() -> HashMap<char, u8> {
    let printable = |b: u8| (b'!'..=b'~').contains(&b) || (0xA1..=0xAC).contains(&b) || (0xAE..=0xFF).contains(&b);
    let mut shifted = 0u32;
    (0..=255u8)
        .map(|b| {
            if printable(b) {
                (char::from(b), b)
            } else {
                shifted += 1;
                (char::from_u32(255 + shifted).expect("a valid char"), b)
            }
        })
        .collect()
}

/// Whitespace and control characters as visible marks, broken UTF-8 as hex bytes.
pub fn visible_label(bytes: &[u8]) -> String {
    let mut label = String::new();
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                ' ' => label.push('␣'),
                '\n' => label.push('↵'),
                '\t' => label.push('⇥'),
                c => push_visible(&mut label, c),
            }
        }
        let invalid = chunk.invalid();
        if !invalid.is_empty() {
            let hex: Vec<String> = invalid.iter().map(|b| format!("{b:02x}")).collect();
            label.push_str(&format!("⟨{}⟩", hex.join(" ")));
        }
    }
    label
}

/// Text for a terminal: line breaks and tabs kept, every other control character (ESC and the
/// sequences it starts, BEL, CR, DEL, C1) and the bidi overrides as visible marks, so that
/// generated text cannot move the cursor, retitle the window or reorder what follows.
pub fn escape_controls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' | '\t' => out.push(c),
            c => push_visible(&mut out, c),
        }
    }
    out
}

/// `c` itself, or for a control character its control picture (`␛`, `␡`), and for C1 controls
/// (such as U+0085) and the bidi overrides that would reorder the text after them, its code
/// point.
fn push_visible(out: &mut String, c: char) {
    match c {
        '\u{7f}' => out.push('␡'),
        c if (c as u32) < 0x20 => out.push(char::from_u32(0x2400 + c as u32).expect("control picture")),
        c if c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}') => out.push_str(&format!("⟨U+{:04X}⟩", c as u32)),
        c => out.push(c),
    }
}

impl Tokenizer {
    /// From `tokenizer.json`, once its JSON is checked to be a GPT-2 tokenizer's (a file from
    /// the internet may set padding, truncation or normalizers that hurt: see [`shape`]).
    pub fn from_bytes(json: &[u8]) -> Result<Self> {
        let json: serde_json::Value = serde_json::from_slice(json).map_err(|e| Error::Tokenizer(format!("cannot be read: {e}")))?;
        shape::check(&json).map_err(Error::Tokenizer)?;
        let inner = serde_json::from_value(json).map_err(|e| Error::Tokenizer(format!("cannot be read: {e}")))?;
        Ok(Tokenizer::wrap(inner))
    }

    /// GPT-2's tokenizer from the two files older repositories hold instead of `tokenizer.json`:
    /// `vocab.json` (piece -> id) and `merges.txt` (one `left right` pair per line, by rank,
    /// after an optional `#version` line), set up as GPT-2's fast tokenizer is: byte-level
    /// pre-tokenizer (no prefix space), post-processor and decoder, `<|endoftext|>` special.
    pub fn from_vocab_and_merges(vocab: &[u8], merges: &[u8]) -> Result<Self> {
        use tokenizers::models::bpe::{BPE, Vocab};
        use tokenizers::pre_tokenizers::byte_level::ByteLevel;

        let vocab: std::collections::HashMap<String, u32> =
            serde_json::from_slice(vocab).map_err(|e| Error::Tokenizer(format!("vocab.json is not a JSON map of pieces to ids: {e}")))?;
        shape::at_most("vocab.json", vocab.len()).map_err(Error::Tokenizer)?;
        let merges = std::str::from_utf8(merges).map_err(|_| Error::Tokenizer("merges.txt is not UTF-8 text".into()))?;
        let merges = merges
            .lines()
            .enumerate()
            .filter(|(i, line)| !(line.is_empty() || (*i == 0 && line.starts_with("#version"))))
            .map(|(i, line)| match line.split_once(' ') {
                Some((left, right)) if !right.contains(' ') => Ok((left.to_string(), right.to_string())),
                _ => Err(Error::Tokenizer(format!("merges.txt line {} is not a pair `left right`: {line:?}", i + 1))),
            })
            .collect::<Result<Vec<_>>>()?;
        shape::at_most("merges.txt", merges.len()).map_err(Error::Tokenizer)?;
        if let Some(i) = shape::unmade_piece(merges.iter().map(|(left, right)| Some((left.as_str(), right.as_str()))), |piece| vocab.contains_key(piece)) {
            return Err(Error::Tokenizer(format!("merges.txt's merge number {} makes a piece that is not in vocab.json", i + 1)));
        }
        let has_eos = vocab.contains_key(EOS);
        let bpe = BPE::builder()
            .vocab_and_merges(vocab.into_iter().collect::<Vocab>(), merges)
            .build()
            .map_err(|e| Error::Tokenizer(format!("vocab.json and merges.txt do not make a BPE model: {e}")))?;
        let mut inner = tokenizers::Tokenizer::new(bpe);
        inner
            .with_pre_tokenizer(Some(ByteLevel::new(false, true, true)))
            .with_post_processor(Some(ByteLevel::new(true, false, true)))
            .with_decoder(Some(ByteLevel::new(true, true, true)));
        if has_eos {
            inner
                .add_special_tokens([tokenizers::AddedToken::from(EOS, true)])
                .map_err(|e| Error::Tokenizer(format!("cannot add {EOS} to the vocabulary: {e}")))?;
        }
        Ok(Tokenizer::wrap(inner))
    }

    fn wrap(inner: tokenizers::Tokenizer) -> Tokenizer {
        let id_span = inner.get_vocab(true).into_values().max().map_or(0, |id| id as usize + 1);
        Tokenizer { inner, byte_of: byte_alphabet(), id_span }
    }

    /// The vocabulary's size as the model sees it: one past the highest id, added tokens such
    /// as `<|endoftext|>` included. A vocabulary whose ids skip some numbers has fewer entries
    /// than that, and its highest id must still be a row of the model's embedding (the
    /// tokenizer fuzz target found a tokenizer that counted 11 entries and gave id 11).
    pub fn vocab_size(&self) -> usize {
        self.id_span
    }

    /// The ids of `text`, no BOS added; `<|endoftext|>` written in the text becomes its special id.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        let encoding = self.inner.encode(text, false).map_err(|e| Error::Tokenizer(format!("cannot encode the prompt: {e}")))?;
        Ok(encoding.get_ids().to_vec())
    }

    /// The id's vocabulary entry, or an empty string for an id the vocabulary lacks.
    pub fn piece(&self, id: u32) -> String {
        self.inner.id_to_token(id).unwrap_or_default()
    }

    /// The raw bytes a token stands for.
    pub fn bytes(&self, id: u32) -> Vec<u8> {
        let piece = self.piece(id);
        if self.inner.get_added_tokens_decoder().contains_key(&id) {
            return piece.into_bytes();
        }
        piece.chars().map(|c| self.byte_of.get(&c).copied().unwrap_or(b'?')).collect()
    }

    /// Decodes ids to text as transformers does (`skip_special_tokens=False`).
    pub fn decode(&self, ids: &[u32]) -> String {
        self.inner.decode(ids, false).unwrap_or_default()
    }

    /// The tokens of `ids`, in order, with the byte spans they cover in their concatenation
    /// (which is the prompt itself when `ids` came from [`Tokenizer::encode`]).
    pub fn tokens(&self, ids: &[u32]) -> Vec<Token> {
        let mut start = 0;
        ids.iter()
            .map(|&id| {
                let bytes = self.bytes(id);
                let span = start..start + bytes.len();
                start = span.end;
                Token { id, piece: self.piece(id), text: self.decode(&[id]), label: visible_label(&bytes), span }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_byte_alphabet_is_gpt2s() {
        let alphabet = byte_alphabet();
        assert_eq!(alphabet.len(), 256);
        assert_eq!(alphabet[&'Ġ'], b' ');
        assert_eq!(alphabet[&'Ċ'], b'\n');
        assert_eq!(alphabet[&'ĉ'], b'\t');
        assert_eq!(alphabet[&'A'], b'A');
        assert_eq!(alphabet[&'Ã'], 0xC3);
    }

    #[test]
    fn labels_make_whitespace_and_broken_characters_visible() {
        assert_eq!(visible_label(b" quick"), "␣quick");
        assert_eq!(visible_label(b"\n\t\x01"), "↵⇥␁");
        assert_eq!(visible_label(&[b' ', 0xF0, 0x9F]), "␣⟨f0 9f⟩");
        assert_eq!(visible_label("é".as_bytes()), "é");
        assert_eq!(visible_label("a\u{85}b\u{202E}c".as_bytes()), "a⟨U+0085⟩b⟨U+202E⟩c");
        assert_eq!(visible_label(b"\r\x1b"), "␍␛");
    }

    #[test]
    fn terminal_text_keeps_lines_and_tabs_and_shows_every_other_control() {
        assert_eq!(escape_controls("a b\n\tc"), "a b\n\tc");
        assert_eq!(escape_controls("\x1b[2J\x1b]0;title\x07\r\x7f"), "␛[2J␛]0;title␇␍␡");
        assert_eq!(escape_controls("\u{9b}31m \u{85} \u{202E}fdp.exe \u{2066}x"), "⟨U+009B⟩31m ⟨U+0085⟩ ⟨U+202E⟩fdp.exe ⟨U+2066⟩x");
        assert_eq!(escape_controls("café 東京 🚀"), "café 東京 🚀");
    }
}
