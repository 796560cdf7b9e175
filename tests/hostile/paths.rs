//! The lock and the generated tree as untrusted input: no path from them leaves the output root.

use crate::sandbox::Sandbox;

/// Baseline: a plain build in the sandbox succeeds and touches nothing outside the output root.
#[test]
fn a_plain_build_touches_only_the_output_root() {
    let sb = Sandbox::new("hello");
    let before = sb.surroundings();
    sb.build_ok();
    assert!(!sb.outputs().is_empty(), "the build wrote nothing");
    assert_eq!(before, sb.surroundings());
}
