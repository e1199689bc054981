//! The word view: BPE pieces merged into words, so a pattern reads word by word where pieces
//! hide the story (`␣jump` `s` is one word, `jumps`).
//!
//! A word's row is the mean of its pieces' rows (each query piece attends once, so the word's
//! row still sums to 1), and a word's column is the sum of its pieces' columns (attention paid
//! to any piece of the word is paid to the word). This is the merge bertviz and Ecco use for
//! word-level attention.

use std::ops::Range;

use crate::analysis::pattern::Pattern;

/// What a character is, for telling where a word ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Space,
    Punctuation,
    /// Letters, digits, and anything else (a piece of a multi-byte character decodes as `�`).
    Word,
}

fn kind(c: char) -> Kind {
    if c.is_whitespace() {
        Kind::Space
    } else if c.is_ascii_punctuation() {
        Kind::Punctuation
    } else {
        Kind::Word
    }
}

/// The tokens of each word, in order: a token starts a new word when its text starts with
/// whitespace, or when its first character is of another kind (space, punctuation, word) than
/// the last character of the token before it.
pub fn word_spans<S: AsRef<str>>(texts: &[S]) -> Vec<Range<usize>> {
    let mut spans: Vec<Range<usize>> = Vec::new();
    let mut last: Option<Kind> = None;
    for (i, text) in texts.iter().enumerate() {
        let text = text.as_ref();
        let first = text.chars().next().map(kind);
        let continues = match (last, first) {
            (Some(last), Some(first)) => first != Kind::Space && first == last,
            _ => false,
        };
        match spans.last_mut() {
            Some(span) if continues => span.end = i + 1,
            _ => spans.push(i..i + 1),
        }
        last = text.chars().last().map(kind).or(last);
    }
    spans
}

/// The word a token belongs to.
pub fn word_of(spans: &[Range<usize>], token: usize) -> Option<usize> {
    spans.iter().position(|s| s.contains(&token))
}

/// Words over the first `pattern.len()` tokens (spans cut to them): `merged[a][b]` is the mean
/// over the query pieces `q` of word `a` of the sum over the key pieces `k <= q` of word `b`.
pub fn merge(pattern: &Pattern, spans: &[Range<usize>]) -> Pattern {
    let n = pattern.len();
    let words: Vec<Range<usize>> = spans.iter().map(|s| s.start.min(n)..s.end.min(n)).filter(|s| !s.is_empty()).collect();
    let rows = words
        .iter()
        .enumerate()
        .map(|(a, queries)| {
            words[..=a]
                .iter()
                .map(|keys| {
                    let sum: f32 = queries.clone().map(|q| keys.clone().map(|k| pattern.get(q, k)).sum::<f32>()).sum();
                    sum / queries.len() as f32
                })
                .collect()
        })
        .collect();
    Pattern::from_rows(rows)
}

/// Each word's label: its pieces' labels joined.
pub fn word_labels(labels: &[String], spans: &[Range<usize>]) -> Vec<String> {
    spans.iter().map(|s| labels.get(s.clone()).unwrap_or_default().concat()).collect()
}

/// What the maps' rows and columns stand for: tokens, or words of tokens.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Units {
    Tokens,
    Words(Vec<Range<usize>>),
}

impl Units {
    /// Words of `texts` when `words` is on, else the tokens themselves.
    pub fn new<S: AsRef<str>>(texts: &[S], words: bool) -> Self {
        if words { Units::Words(word_spans(texts)) } else { Units::Tokens }
    }

    /// `pattern` (over tokens) over these units.
    pub fn apply(&self, pattern: Pattern) -> Pattern {
        match self {
            Units::Tokens => pattern,
            Units::Words(spans) => merge(&pattern, spans),
        }
    }

    pub fn labels(&self, token_labels: &[String]) -> Vec<String> {
        match self {
            Units::Tokens => token_labels.to_vec(),
            Units::Words(spans) => word_labels(token_labels, spans),
        }
    }

    /// The unit holding `token`.
    pub fn unit_of(&self, token: usize) -> Option<usize> {
        match self {
            Units::Tokens => Some(token),
            Units::Words(spans) => word_of(spans, token),
        }
    }

    /// The first token of `unit`.
    pub fn first_token(&self, unit: usize) -> usize {
        match self {
            Units::Tokens => unit,
            Units::Words(spans) => spans.get(unit).map_or(unit, |s| s.start),
        }
    }

    /// Units that begin within the first `tokens` tokens.
    pub fn count(&self, tokens: usize) -> usize {
        match self {
            Units::Tokens => tokens,
            Units::Words(spans) => spans.iter().take_while(|s| s.start < tokens).count(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_join_until_whitespace_or_a_change_of_kind() {
        // "The quick jumps. ..." as GPT-2 pieces, with a newline and a split character
        let texts = [" The", " qu", "ick", " jump", "s", ".", "..", "\n", "\n", "caf", "é", "\u{fffd}", "\u{fffd}", " 42", "x"];
        assert_eq!(word_spans(&texts), [0..1, 1..3, 3..5, 5..7, 7..8, 8..9, 9..13, 13..15]);
        assert_eq!(word_spans(&["Hello", ",", " world"]), [0..1, 1..2, 2..3]);
        assert_eq!(word_spans::<&str>(&[]), Vec::<Range<usize>>::new());
        assert_eq!(word_of(&[0..1, 1..3], 2), Some(1));
        assert_eq!(word_of(&[0..1, 1..3], 3), None);
    }

    #[test]
    fn merging_sums_over_key_pieces_and_averages_over_query_pieces() {
        // tokens: A | b1 b2 | C  (words 0, 1, 2)
        let pattern = Pattern::from_rows(vec![vec![1.0], vec![0.6, 0.4], vec![0.2, 0.3, 0.5], vec![0.1, 0.2, 0.3, 0.4]]);
        let merged = merge(&pattern, &[0..1, 1..3, 3..4]);
        // word 1's queries are b1 (row 0.6 0.4) and b2 (row 0.2 0.3 0.5):
        //   on A: (0.6 + 0.2) / 2 = 0.4; on b: (0.4 + (0.3 + 0.5)) / 2 = 0.6
        // word 2 (C alone): on A 0.1, on b 0.2 + 0.3 = 0.5, on C 0.4
        let expected = [vec![1.0], vec![0.4, 0.6], vec![0.1, 0.5, 0.4]];
        for (row, want) in merged.rows().iter().zip(expected) {
            for (got, want) in row.iter().zip(want) {
                assert!((got - want).abs() < 1e-6, "{:?}", merged.rows());
            }
        }
        // rows still sum to 1
        assert!(merged.rows().iter().all(|r| (r.iter().sum::<f32>() - 1.0).abs() < 1e-6));
    }

    #[test]
    fn a_pattern_shorter_than_the_words_merges_what_it_has() {
        let pattern = Pattern::from_rows(vec![vec![1.0], vec![0.5, 0.5]]);
        let merged = merge(&pattern, &[0..1, 1..3, 3..4]);
        assert_eq!(merged.rows(), [vec![1.0], vec![0.5, 0.5]]);
        let labels = ["␣The", "␣qu", "ick"].map(String::from);
        assert_eq!(word_labels(&labels, &[0..1, 1..3]), ["␣The", "␣quick"]);
    }

    #[test]
    fn units_map_tokens_to_words_and_back() {
        let words = Units::new(&[" The", " qu", "ick", "."], true);
        assert_eq!(words, Units::Words(vec![0..1, 1..3, 3..4]));
        assert_eq!((words.unit_of(2), words.first_token(1), words.count(2), words.count(4)), (Some(1), 1, 2, 3));
        let labels = ["␣The", "␣qu", "ick", "."].map(String::from);
        assert_eq!(words.labels(&labels), ["␣The", "␣quick", "."]);
        let tokens = Units::new(&[" The", " qu"], false);
        assert_eq!((tokens.unit_of(1), tokens.first_token(1), tokens.count(2)), (Some(1), 1, 2));
        let pattern = Pattern::from_rows(vec![vec![1.0], vec![0.5, 0.5]]);
        assert_eq!(tokens.apply(pattern.clone()), pattern);
    }
}
