//! The token stream shaded by attention: how much each token takes part in the selected
//! token's attention, read in the chosen direction.

use crate::capture::Capture;
use crate::view::state::Direction;

/// For each of the first `n` tokens, the weight linking it to `selected` in one head, or `None`
/// where causality rules a link out (a later key, an earlier query).
pub fn token_weights(capture: &Capture, layer: usize, head: usize, n: usize, selected: usize, direction: Direction) -> Vec<Option<f32>> {
    (0..n)
        .map(|i| match direction {
            Direction::AttendsTo => (i <= selected && selected < n).then(|| capture.row(layer, head, selected)[i]),
            Direction::AttendedBy => (i >= selected).then(|| capture.row(layer, head, i)[selected]),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_read_the_row_or_the_column_of_the_selection() {
        let mut capture = Capture::new(1, 1);
        for row in [vec![1.0], vec![0.4, 0.6], vec![0.2, 0.3, 0.5]] {
            capture.append(&[row], 1);
        }
        assert_eq!(token_weights(&capture, 0, 0, 3, 1, Direction::AttendsTo), [Some(0.4), Some(0.6), None]);
        assert_eq!(token_weights(&capture, 0, 0, 3, 1, Direction::AttendedBy), [None, Some(0.6), Some(0.3)]);
        // a selection beyond the step shown links to nothing
        assert_eq!(token_weights(&capture, 0, 0, 2, 2, Direction::AttendsTo), [None, None]);
    }
}
