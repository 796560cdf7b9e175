//! The first stage of platc and what every later stage shares: [`source`] (files, spans),
//! [`diagnostics`] (one diagnostic type, many emitters), [`syntax`] (KDL v2 text -> untyped
//! document, with a strict fast path and the `kdl` crate as the reference), [`format`] (the
//! `platc fmt` printer) and [`par`] (the scoped parallel map every stage uses).
//!
//! This crate depends on no other platc crate.

#![warn(unreachable_pub, missing_docs)]

pub mod date;
pub mod diagnostics;
pub mod format;
pub mod par;
pub mod source;
pub mod syntax;
