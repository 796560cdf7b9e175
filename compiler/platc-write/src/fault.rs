//! Fault injection for tests: `PLATC_FAULT_KILL=PHASE` makes the process abort at that phase of
//! a commit, as `kill -9` would, so that tests can prove that the next run rolls the commit
//! forward (see [`super::journal`]). Compiled in always, inert unless the variable is set: a
//! kill in the field happens in release builds, so that is what the tests must run.

use std::sync::OnceLock;

/// After every output is staged (deploy tree, files outside it, lock), before the journal:
/// nothing in place has changed yet.
pub const AFTER_STAGE: &str = "after-stage";
/// After the journal is durable: the commit point.
pub const AFTER_JOURNAL: &str = "after-journal";
/// Between the two renames of the tree swap: the old `deploy/` moved aside, the new one not
/// yet in place (no `deploy/` at all).
pub const AFTER_DEPLOY_ASIDE: &str = "after-deploy-aside";
/// After the new `deploy/` tree is swapped in, before the files outside it.
pub const AFTER_DEPLOY_SWAP: &str = "after-deploy-swap";
/// After the files outside `deploy/` (CI workflows) are renamed in and removed ones removed.
pub const AFTER_OUTSIDE: &str = "after-outside";
/// After the lock file is renamed in (the last rename).
pub const AFTER_LOCK: &str = "after-lock";
/// After the previous tree and the staging folders are removed, before the journal is.
pub const BEFORE_JOURNAL_REMOVE: &str = "before-journal-remove";

/// Every phase, in the order a commit passes them.
pub const PHASES: &[&str] = &[AFTER_STAGE, AFTER_JOURNAL, AFTER_DEPLOY_ASIDE, AFTER_DEPLOY_SWAP, AFTER_OUTSIDE, AFTER_LOCK, BEFORE_JOURNAL_REMOVE];

/// Aborts the process when `PLATC_FAULT_KILL` names `phase`.
pub fn point(phase: &str) {
    static CHOSEN: OnceLock<Option<String>> = OnceLock::new();
    if CHOSEN.get_or_init(|| std::env::var("PLATC_FAULT_KILL").ok()).as_deref() == Some(phase) {
        // No unwinding, no destructors, no buffered output flushed: what a kill leaves.
        std::process::abort();
    }
}
