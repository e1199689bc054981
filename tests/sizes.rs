//! Property tests of the size arithmetic (`tests/common/sizes.rs`): the memory estimate, the
//! capture's layout and a download's byte counts hold within 32-bit sizes. `tests/wasm_parity.rs`
//! runs the same properties in wasm32, where `usize` has 32 bits.

mod common;

use common::sizes;

#[test]
fn what_passes_the_memory_estimate_fits_in_32_bits() {
    let (accepted, passed) = sizes::budget_keeps_what_passes_within_32_bits(1, 6000);
    println!("{accepted} of 6000 configs accepted, {passed} passed the estimate");
    assert!(accepted > 400 && passed > 40, "{accepted} configs accepted, {passed} passed");
}

#[test]
fn configs_at_the_caps_are_refused_by_name() {
    sizes::configs_at_the_caps_are_refused_by_name();
}

#[test]
fn uncapped_configs_never_pass_wrapped() {
    sizes::uncapped_configs_never_pass_wrapped(2, 5000);
}

#[test]
fn capture_layout_holds_in_32_bits() {
    sizes::capture_layout_holds_in_32_bits(3, 20_000);
}

#[test]
fn transfers_stay_within_their_bounds() {
    let taken = sizes::transfers_stay_within_their_bounds(4, 20_000);
    println!("{taken} answers taken");
    assert!(taken > 2000);
}
