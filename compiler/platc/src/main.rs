//! The `platc` binary: a thin shell around [`platc::cli`].

/// mimalloc instead of the system allocator: emitting builds and drops many small JSON and
/// YAML trees on every core, where glibc's malloc spent a third of the time (docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    // A panic is a bug in platc; say so plainly and still honour the exit-code contract.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("error: internal error in platc (this is a bug; please report it): {info}");
    }));
    let code = std::panic::catch_unwind(platc::cli::main).unwrap_or(platc::cli::EXIT_FAILURE);
    std::process::exit(code);
}
