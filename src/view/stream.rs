//! The token stream shaded by attention: how much each token takes part in the selected
//! token's attention, read in the chosen direction; or shaded by how surprised the model was
//! by each token.

use crate::analysis::pattern::Pattern;
use crate::analysis::predict::Prediction;
use crate::view::state::Direction;

/// For each of the first `n` tokens, the weight linking it to `selected` in the pattern shown
/// (a head's, or an aggregate), or `None` where causality rules a link out (a later key, an
/// earlier query).
pub fn token_weights(pattern: &Pattern, n: usize, selected: usize, direction: Direction) -> Vec<Option<f32>> {
    (0..n)
        .map(|i| match direction {
            Direction::AttendsTo => (i <= selected && selected < n).then(|| pattern.row(selected)[i]),
            Direction::AttendedBy => (i >= selected).then(|| pattern.row(i)[selected]),
        })
        .collect()
}

/// For each of the first `n` tokens, its surprisal in bits given the tokens before it:
/// `predictions[i]` was made at position `i`, so token `i + 1` is scored by it. The first token
/// has nothing before it to be predicted from.
pub fn surprisals(predictions: &[Prediction], n: usize) -> Vec<Option<f32>> {
    (0..n).map(|i| i.checked_sub(1).and_then(|p| predictions.get(p)).and_then(Prediction::surprisal)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::predict::Candidate;

    #[test]
    fn weights_read_the_row_or_the_column_of_the_selection() {
        let pattern = Pattern::from_rows(vec![vec![1.0], vec![0.4, 0.6], vec![0.2, 0.3, 0.5]]);
        assert_eq!(token_weights(&pattern, 3, 1, Direction::AttendsTo), [Some(0.4), Some(0.6), None]);
        assert_eq!(token_weights(&pattern, 3, 1, Direction::AttendedBy), [None, Some(0.6), Some(0.3)]);
        // a selection beyond the step shown links to nothing
        assert_eq!(token_weights(&pattern, 2, 2, Direction::AttendsTo), [None, None]);
    }

    #[test]
    fn surprisal_of_a_token_comes_from_the_position_before_it() {
        let next = |p: f32| Some(Candidate { id: 0, label: String::new(), p });
        let predictions = [Prediction { top: Vec::new(), next: next(0.5) }, Prediction { top: Vec::new(), next: next(0.125) }, Prediction { top: Vec::new(), next: None }];
        assert_eq!(surprisals(&predictions, 3), [None, Some(1.0), Some(3.0)]);
    }
}
