//! Hostile input checked the same way natively and in the browser, where wasm32's `usize` has
//! 32 bits and a panic kills the worker.

use headlight::capture::{Capture, full_context_bytes, values_before};

/// Sizes of a crafted config counted without wrapping, on 64 and on 32 bits.
pub fn capture_sizes_are_counted_without_wrapping() {
    // n_layer 16,928, one head, n_positions 16,505,437: 4·n_layer·n·(n+1) is just past 2^64
    // (it wrapped to 145 MB), the true size 9.2 EB
    assert_eq!(values_before(16_928, 1, 16_505_437), Some(16_928 * (16_505_437 * 16_505_438 / 2)));
    assert_eq!(full_context_bytes(16_928, 1, 16_505_437), Some(9_223_372_037_000_241_536));
    assert_eq!(full_context_bytes(16_928, 2, 16_505_437), None);
    assert_eq!(values_before(u64::MAX, 1, u64::MAX), None);
    // past 32 bits: 70,000 positions, where q(q+1) alone is 4.9e9
    assert_eq!(values_before(1, 1, 70_000), Some(2_450_035_000));
    assert_eq!(full_context_bytes(12, 12, 70_000), Some(1_411_220_160_000));
    // the app keeps the compact form for those, exact for a small model
    assert!(!Capture::for_app(12, 12, 70_000).is_exact());
    assert!(!Capture::for_app(16_928, 1, 16_505_437).is_exact());
    assert!(!Capture::for_app(usize::MAX, usize::MAX, usize::MAX).is_exact());
    assert!(Capture::for_app(4, 4, 256).is_exact());
}
