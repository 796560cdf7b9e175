//! Loading and checking: [`load`] finds and reads the inputs through [`fs`], [`check`] turns
//! the untyped documents and the [`stdlib`] into the typed [`model`], reporting every problem
//! of the run as diagnostics.
//!
//! Depends on `platc-syntax` only.

#![warn(unreachable_pub, missing_docs)]

pub mod check;
pub mod fs;
pub mod load;
pub mod model;
pub mod stdlib;

use platc_syntax::{diagnostics, par, source, syntax};
