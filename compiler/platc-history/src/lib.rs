//! Outputs in a GitOps repository and what its history says about delivery.
//!
//! `platc publish` writes a build's `deploy/` tree into a GitOps repository checkout and
//! commits it with trailers naming the source commit, its time and every (service,
//! environment) whose files changed ([`trailers`]). `platc dora` reads those trailers back from
//! `git log` and computes the four delivery metrics per service and environment ([`dora`]).
//! Both use the git command line ([`git`]); the format is documented in docs/escape-hatch.md.

#![warn(unreachable_pub, missing_docs)]

pub mod dora;
pub mod git;
pub mod layout;
pub mod time;
pub mod trailers;

pub use trailers::Unit;

use platc_check::model;
