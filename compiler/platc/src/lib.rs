#![warn(unreachable_pub, missing_docs)]
//! platc: a declarative platform compiler, and the only crate that talks to a terminal.
//!
//! The pipeline is a chain of crates, each depending only on those before it:
//! `platc-syntax` (sources, diagnostics, KDL -> untyped document) -> `platc-check` (load, stdlib,
//! typed model) -> `platc-resolve` (graph, every derived fact once) -> `platc-emit` (the backends)
//! -> `platc-write` (the journaled commit). This crate holds the orchestration of a build
//! ([`build`]), the command line ([`cli`]) and the run's timings ([`timings`]).

pub mod build;
pub mod cli;
pub mod timings;

use platc_check::{check, fs, load, model, stdlib};
use platc_emit::{emit, lower};
use platc_history as history;
use platc_resolve::{driver, graph, resolve};
use platc_syntax::{diagnostics, format, par, source};
use platc_write as write;
