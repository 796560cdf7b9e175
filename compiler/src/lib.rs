//! platc: a declarative platform compiler.
//!
//! Pipeline: [`load`] (find and read inputs) -> [`syntax`] (KDL -> untyped AST) -> [`check`]
//! (AST + [`stdlib`] -> typed [`model`]) -> [`graph`] -> [`resolve`] (every derived fact once) ->
//! [`lower`] (Helm values) and the other backends in [`emit`] -> [`write`]. Each stage has its own
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
pub mod resolve;
pub mod source;
pub mod stdlib;
pub mod syntax;
pub mod timings;
pub mod write;
