//! The middle of the pipeline: [`driver::analyze`] checks a loaded workspace and builds its
//! [`graph`]; [`resolve`] turns both into [`resolve::Resolved`], plain owned data in which every
//! derived fact (effective values, port roles, names, provisioners) is decided once, with its span.
//!
//! Depends on `platc-syntax` and `platc-check`.

#![warn(unreachable_pub, missing_docs)]

pub mod driver;
pub mod graph;
pub mod resolve;

#[cfg(test)]
use platc_check::fs;
use platc_check::{check, load, model};
use platc_syntax::{diagnostics, par, source};
