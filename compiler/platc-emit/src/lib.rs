#![warn(unreachable_pub, missing_docs)]
//! The backends: [`lower`] derives the Kubernetes objects' values from the resolved model and
//! [`emit`] prints every artifact (rendered manifests and the chart from one object builder,
//! Terraform, CI, GitOps, alert rules with their tests, dashboards) into an in-memory output.
//!
//! Depends on `platc-syntax`, `platc-check`, `platc-resolve` and `platc-yaml`; never on `write`.

pub mod emit;
pub mod lower;

#[cfg(test)]
use platc_check::fs;
use platc_check::{check, model, stdlib};
use platc_resolve::resolve;
use platc_syntax::{diagnostics, par, source};

/// The names the backends define, for the check stage to validate spec text against
/// (`platc_check::check::Vocabulary`): a new object kind is added here, in this crate only.
pub const VOCABULARY: check::Vocabulary = check::Vocabulary { object_kinds: emit::manifests::OBJECT_KINDS };
