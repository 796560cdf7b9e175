//! Hostile input (issue 18): everything in the repository is untrusted. In CI platc runs on
//! what a pull request controls: the specs, the stdlib overlay, the committed lock and the
//! generated tree. Every case here runs the release binary in a [`Sandbox`] and asserts that
//! nothing outside the output root changed (the surroundings are hashed before and after),
//! that the exit code is 1 or 2 with the expected message or diagnostic code, and that the
//! previous output is intact.
//!
//! One module per concern, each owned by the part of platc it attacks:
//! - `paths`: the lock and the generated tree as input (escapes, symlinks, lost edits);
//! - `atomic`: killed and concurrent builds (fault injection after every phase);
//! - `limits`: nesting depth, sizes, quadratic time;
//! - `secrets`: literal secret values;
//! - `values`: values the target systems reject (images, `--set`, names, paths, PromQL).

mod common;

#[path = "hostile/sandbox.rs"]
mod sandbox;

#[path = "hostile/paths.rs"]
mod paths;

#[path = "hostile/atomic.rs"]
mod atomic;

#[path = "hostile/limits.rs"]
mod limits;

#[path = "hostile/values.rs"]
mod values;

#[path = "hostile/secrets.rs"]
mod secrets;
