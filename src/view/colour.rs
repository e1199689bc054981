//! The colour of an attention weight: a scale maps weights to `[0, 1]`, and viridis maps that to
//! a colour. Viridis is perceptually uniform (equal steps in value look like equal steps in
//! colour), reads in greyscale, and stays distinct under the common colour-vision deficiencies.

use serde::{Deserialize, Serialize};

/// Viridis sampled at 11 evenly spaced points (matplotlib's `_viridis_data` at 0, 0.1, ..., 1);
/// colours between them are interpolated linearly, which keeps the map within a few units of
/// the full 256-entry table.
const VIRIDIS: [[u8; 3]; 11] = [
    [68, 1, 84],
    [72, 36, 117],
    [65, 68, 135],
    [53, 95, 141],
    [42, 120, 142],
    [33, 145, 140],
    [34, 168, 132],
    [68, 191, 112],
    [122, 209, 81],
    [189, 223, 38],
    [253, 231, 37],
];

/// ColorBrewer's RdBu (11 classes), blue through white to red: the diverging scale for signed
/// values (a difference of two patterns, a cosine similarity), whose two hues stay apart under
/// the common colour-vision deficiencies.
const RED_BLUE: [[u8; 3]; 11] = [
    [5, 48, 97],
    [33, 102, 172],
    [67, 147, 195],
    [146, 197, 222],
    [209, 229, 240],
    [247, 247, 247],
    [253, 219, 199],
    [244, 165, 130],
    [214, 96, 77],
    [178, 24, 43],
    [103, 0, 31],
];

/// The colour at `t` in `[0, 1]` (clamped) of a table of evenly spaced anchors, as `#rrggbb`.
fn interpolate(table: &[[u8; 3]; 11], t: f32) -> String {
    let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
    let x = t * (table.len() - 1) as f32;
    let i = (x.floor() as usize).min(table.len() - 2);
    let f = x - i as f32;
    let [a, b] = [table[i], table[i + 1]];
    let mix = |c: usize| (a[c] as f32 + (b[c] as f32 - a[c] as f32) * f).round() as u8;
    format!("#{:02x}{:02x}{:02x}", mix(0), mix(1), mix(2))
}

/// The viridis colour at `t` in `[0, 1]` (clamped), as `#rrggbb`.
pub fn viridis(t: f32) -> String {
    interpolate(&VIRIDIS, t)
}

/// The diverging colour at `t` in `[0, 1]` (clamped): blue below the middle, red above.
pub fn red_blue(t: f32) -> String {
    interpolate(&RED_BLUE, t)
}

/// The colours a map is drawn in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Palette {
    /// Viridis, for weights in `[0, 1]`.
    Sequential,
    /// Red and blue around white at zero, for signed values.
    Diverging,
}

impl Palette {
    pub fn colour(self, t: f32) -> String {
        match self {
            Palette::Sequential => viridis(t),
            Palette::Diverging => red_blue(t),
        }
    }
}

/// How weights map onto the colour scale.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Scale {
    /// `0..1`, the whole range a weight can take: heads compare directly.
    Linear,
    /// `log10` over `[LOG_FLOOR, 1]`: small weights become visible.
    Log,
    /// `0..p`-th percentile of the weights shown; larger weights saturate.
    Clipped { percentile: u8 },
}

/// Steps of the colour scale a map's cells are drawn in: the cells of one step share one path,
/// so a map is a few dozen elements however many cells it has.
pub const LEVELS: usize = 64;

/// The smallest weight the log scale tells apart from zero.
pub const LOG_FLOOR: f32 = 1e-4;

/// A scale fitted to the weights on show.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Normaliser {
    pub scale: Scale,
    /// Weights at or below `lo` get the first colour, at or above `hi` the last.
    pub lo: f32,
    pub hi: f32,
    pub palette: Palette,
}

impl Normaliser {
    pub fn fit(scale: Scale, weights: impl IntoIterator<Item = f32>) -> Self {
        match scale {
            Scale::Linear => Normaliser { scale, lo: 0.0, hi: 1.0, palette: Palette::Sequential },
            Scale::Log => Normaliser { scale, lo: LOG_FLOOR, hi: 1.0, palette: Palette::Sequential },
            Scale::Clipped { percentile } => {
                let mut sorted: Vec<f32> = weights.into_iter().filter(|w| w.is_finite()).collect();
                sorted.sort_by(f32::total_cmp);
                let hi = match sorted.len() {
                    0 => 1.0,
                    n => sorted[((n - 1) as f32 * percentile.min(100) as f32 / 100.0).round() as usize],
                };
                Normaliser { scale, lo: 0.0, hi: if hi > 0.0 { hi } else { 1.0 }, palette: Palette::Sequential }
            }
        }
    }

    /// A linear, diverging scale over `[-bound, bound]` for signed values, white at zero.
    pub fn signed(bound: f32) -> Self {
        let bound = if bound.is_finite() && bound > 0.0 { bound } else { 1.0 };
        Normaliser { scale: Scale::Linear, lo: -bound, hi: bound, palette: Palette::Diverging }
    }

    /// The colour of `w`.
    pub fn colour(&self, w: f32) -> String {
        self.palette.colour(self.unit(w))
    }

    /// The step of the scale (`0..LEVELS`) a cell holding `w` is drawn in.
    pub fn level(&self, w: f32) -> usize {
        (self.unit(w) * (LEVELS - 1) as f32).round() as usize
    }

    /// The colour of step `level` of the scale.
    pub fn level_colour(&self, level: usize) -> String {
        self.palette.colour(level as f32 / (LEVELS - 1) as f32)
    }

    /// Where `w` falls on the colour scale, in `[0, 1]`.
    pub fn unit(&self, w: f32) -> f32 {
        let t = match self.scale {
            Scale::Log => (w.max(self.lo).log10() - self.lo.log10()) / (self.hi.log10() - self.lo.log10()),
            Scale::Linear | Scale::Clipped { .. } => (w - self.lo) / (self.hi - self.lo),
        };
        if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) }
    }

    /// The weight drawn at `t` in `[0, 1]`: the inverse of [`Normaliser::unit`], for legend ticks.
    pub fn weight_at(&self, t: f32) -> f32 {
        match self.scale {
            Scale::Log => 10f32.powf(self.lo.log10() + t * (self.hi.log10() - self.lo.log10())),
            Scale::Linear | Scale::Clipped { .. } => self.lo + t * (self.hi - self.lo),
        }
    }

    /// What the legend says about the scale.
    pub fn describe(&self) -> String {
        match self.scale {
            Scale::Linear if self.palette == Palette::Diverging => format!("linear, {} to {}", format_weight(self.lo), format_weight(self.hi)),
            Scale::Linear => "linear, 0 to 1".to_string(),
            Scale::Log => format!("log, {} to 1", format_weight(self.lo)),
            Scale::Clipped { percentile } => format!("linear, clipped at the {percentile}th percentile ({})", format_weight(self.hi)),
        }
    }
}

/// A weight as the tooltips and legend print it: enough digits to compare with the CLI.
pub fn format_weight(w: f32) -> String {
    if w != 0.0 && w.abs() < 1e-3 { format!("{w:.2e}") } else { format!("{w:.4}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viridis_runs_from_purple_to_yellow() {
        assert_eq!(viridis(0.0), "#440154");
        assert_eq!(viridis(1.0), "#fde725");
        assert_eq!(viridis(0.5), "#21918c");
        assert_eq!(viridis(-3.0), viridis(0.0));
        assert_eq!(viridis(f32::NAN), viridis(0.0));
        // halfway between two anchors
        assert_eq!(viridis(0.05), "#461365");
    }

    #[test]
    fn the_signed_scale_is_white_at_zero_and_symmetric() {
        let signed = Normaliser::signed(0.5);
        assert_eq!(signed.colour(0.0), "#f7f7f7");
        assert_eq!(signed.colour(-0.5), "#053061");
        assert_eq!(signed.colour(2.0), "#67001f");
        assert_eq!(signed.unit(0.25), 0.75);
        assert_eq!(signed.describe(), "linear, -0.5000 to 0.5000");
        assert_eq!(Normaliser::signed(0.0).hi, 1.0, "an all-zero difference still has a scale");
    }

    #[test]
    fn linear_and_log_scales_map_their_ends() {
        let linear = Normaliser::fit(Scale::Linear, []);
        assert_eq!(linear.unit(0.25), 0.25);
        let log = Normaliser::fit(Scale::Log, []);
        assert_eq!(log.unit(1.0), 1.0);
        assert_eq!(log.unit(0.0), 0.0);
        assert!((log.unit(1e-2) - 0.5).abs() < 1e-6);
        assert!((log.weight_at(0.5) - 1e-2).abs() < 1e-6);
        // a map's steps run from the first colour to the last
        assert_eq!((linear.level(0.0), linear.level(1.0), linear.level(0.5)), (0, LEVELS - 1, LEVELS / 2));
        assert_eq!((linear.level_colour(0), linear.level_colour(LEVELS - 1)), (linear.colour(0.0), linear.colour(1.0)));
    }

    #[test]
    fn the_clipped_scale_saturates_above_its_percentile() {
        let weights: Vec<f32> = (0..=100).map(|i| i as f32 / 100.0).collect();
        let clipped = Normaliser::fit(Scale::Clipped { percentile: 90 }, weights);
        assert!((clipped.hi - 0.9).abs() < 1e-6);
        assert_eq!(clipped.unit(0.95), 1.0);
        assert!((clipped.unit(0.45) - 0.5).abs() < 1e-6);
        // all-zero weights do not divide by zero
        assert_eq!(Normaliser::fit(Scale::Clipped { percentile: 99 }, [0.0, 0.0]).unit(0.0), 0.0);
    }

    #[test]
    fn weights_print_with_enough_digits() {
        assert_eq!(format_weight(0.5), "0.5000");
        assert_eq!(format_weight(0.00012), "1.20e-4");
        assert_eq!(format_weight(0.0), "0.0000");
    }
}
