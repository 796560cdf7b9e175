//! platc: a declarative platform compiler.
//!
//! Pipeline: [`load`] (find and read inputs) -> [`syntax`] (KDL -> untyped AST) -> [`check`]
//! (AST + [`stdlib`] -> typed [`model`]) -> graph -> emit -> write. Each stage has its own
//! types; errors are [`diagnostics`] data, rendered at the edge by the [`cli`].

pub mod build;
pub mod check;
pub mod cli;
pub mod diagnostics;
pub mod driver;
pub mod emit;
pub mod format;
pub mod fs;
pub mod graph;
pub mod history;
pub mod load;
pub mod lower;
pub mod model;
pub mod par;
pub mod source;
pub mod stdlib;
pub mod syntax;
pub mod timings;
pub mod write;
