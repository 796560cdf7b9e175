//! The command line: parse arguments, run one subcommand, return its exit code.
//!
//! Exit codes everywhere: 0 success, 1 the input has errors, 2 usage or I/O failure.

mod build;
mod check;
mod diff;
pub mod dora;
mod eject;
pub mod explain;
mod fmt;
mod graph;
pub mod init;
pub mod new;
mod outputs;
pub mod publish;
mod render;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};

use crate::build::BuildResult;
use crate::diagnostics::{render_counted, Diagnostics, Format};
use crate::fs::RealFs;
use crate::lower::BuildOptions;
use crate::source::SourceMap;

/// Exit code: success.
pub const EXIT_OK: i32 = 0;
/// Exit code: the input has errors.
pub const EXIT_ERRORS: i32 = 1;
/// Exit code: usage or I/O failure.
pub const EXIT_FAILURE: i32 = 2;

/// platc: a declarative platform compiler.
///
/// Write a short service.kdl; platc checks it and emits Helm charts, Kubernetes manifests,
/// Terraform, CI pipelines, alert rules and dashboards.
#[derive(Debug, Parser)]
#[command(name = "platc", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// The subcommand to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands, in `platc --help` order; each one's doc is its summary there (and in
/// docs/cli.md's table).
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scaffold a service that builds and deploys as it is: service.kdl, a minimal app, build files.
    New(new::Args),
    /// Write a commented platform.kdl for a platform team.
    Init(init::Args),
    /// Check service.kdl and platform.kdl files and report every problem.
    Check(check::Args),
    /// Check, then generate every artifact into the output directory.
    Build(build::Args),
    /// Print (or write) the rendered Kubernetes manifests of one environment, nothing else.
    Render(render::Args),
    /// Print the dependency graph of services and resources.
    Graph(graph::Args),
    /// Show what a build would change on disk, as a unified diff.
    Diff(diff::Args),
    /// Take generated files over: later builds leave them alone.
    Eject(eject::Args),
    /// Write the outputs into a GitOps repository checkout and commit them.
    Publish(publish::Args),
    /// Delivery metrics per service and environment from a GitOps repository's history.
    Dora(dora::Args),
    /// Rewrite .kdl files in canonical form, keeping comments.
    Fmt(fmt::Args),
    /// Explain a diagnostic code, e.g. `platc explain E0102`.
    Explain(explain::Args),
}

/// Options shared by commands that report diagnostics.
#[derive(Debug, Clone, clap::Args)]
pub struct ReportArgs {
    /// How to print diagnostics.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// When to use colour in human output.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
}

/// When to colour human diagnostics (`--color`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Color {
    /// When stderr is a terminal and `NO_COLOR` is not set.
    Auto,
    /// Always, even into a pipe or a file.
    Always,
    /// Plain text, even on a terminal.
    Never,
}

impl ReportArgs {
    /// Prints diagnostics to stderr (human) or stdout (machine formats, for piping).
    pub fn emit(&self, diags: &Diagnostics, sources: &SourceMap) {
        let human = self.format == Format::Human;
        let color = match self.color {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => human && std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        };
        let text = render_counted(diags.as_slice(), diags.dropped(), sources, self.format, color);
        if text.is_empty() {
            return;
        }
        // A closed pipe (`platc check | head`) is not an error worth a panic.
        if human {
            let _ = std::io::stderr().write_all(text.as_bytes());
        } else {
            let _ = std::io::stdout().write_all(text.as_bytes());
        }
    }
}

/// Paths and stdlib overlays shared by commands that read specs.
#[derive(Debug, Clone, clap::Args)]
pub struct InputArgs {
    /// Files or directories to read (default: the current directory).
    pub paths: Vec<PathBuf>,
    /// A stdlib overlay directory (may be repeated); adds or replaces resource types and
    /// templates without rebuilding platc.
    #[arg(long = "stdlib", value_name = "DIR")]
    pub stdlib: Vec<PathBuf>,
}

impl InputArgs {
    /// The paths given, or the current directory when none is.
    pub fn paths(&self) -> Vec<PathBuf> {
        if self.paths.is_empty() {
            vec![PathBuf::from(".")]
        } else {
            self.paths.clone()
        }
    }

    /// Loads, checks and resolves these specs from disk, without emitting: what a command
    /// that may stop before the costly half (`build`, `render`) starts with.
    pub fn analyze(&self, cwd: &Path, opts: &BuildOptions) -> Result<BuildResult, String> {
        crate::build::analyze_paths(&RealFs, &self.paths(), &self.stdlib, cwd, opts)
    }

    /// [`analyze`](Self::analyze), then emits every artifact in memory.
    pub fn build(&self, cwd: &Path, opts: &BuildOptions) -> Result<BuildResult, String> {
        crate::build::build_paths(&RealFs, &self.paths(), &self.stdlib, cwd, opts)
    }
}

/// `--env` and `--set`: what the commands that build a whole output tree (`build`, `diff`,
/// `publish`) build, parsed in one place. The help here is `platc build`'s; a command that
/// words it for itself replaces it with `#[command(mut_arg(...))]` on its `Args`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct BuildArgs {
    /// Build only this environment.
    #[arg(long, value_name = "ENV")]
    pub env: Option<String>,
    /// Build settings: `branch=NAME` (preview environments), `image-tag=TAG` (the image tag CI
    /// built, usually the commit SHA).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
}

impl BuildArgs {
    /// The build options these arguments ask for, or why a `--set` is malformed.
    pub fn options(&self) -> Result<BuildOptions, String> {
        build::options(self.env.clone(), &self.set)
    }
}

/// Runs the CLI with the process arguments and returns the exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { EXIT_FAILURE } else { EXIT_OK };
        }
    };
    run(cli)
}

/// Runs one parsed command.
pub fn run(cli: Cli) -> i32 {
    match cli.command {
        Command::New(args) => new::run(&args),
        Command::Init(args) => init::run(&args),
        Command::Check(args) => check::run(&args),
        Command::Build(args) => build::run(&args),
        Command::Render(args) => render::run(&args),
        Command::Graph(args) => graph::run(&args),
        Command::Diff(args) => diff::run(&args),
        Command::Eject(args) => eject::run(&args),
        Command::Publish(args) => publish::run(&args),
        Command::Dora(args) => dora::run(&args),
        Command::Fmt(args) => fmt::run(&args),
        Command::Explain(args) => explain::run(&args),
    }
}

/// Prints an I/O or usage failure and returns exit code 2.
pub fn fail(message: impl std::fmt::Display) -> i32 {
    eprintln!("error: {message}");
    EXIT_FAILURE
}

pub use crate::diagnostics::plural;

/// The current directory, for relative file names in diagnostics.
pub fn cwd() -> PathBuf {
    std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."))
}
