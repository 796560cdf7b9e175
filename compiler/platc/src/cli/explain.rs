//! `platc explain CODE`: print the documentation page of a diagnostic code.

use super::{fail, EXIT_OK};
use crate::diagnostics::{codes, Code};

#[derive(rust_embed::RustEmbed)]
#[folder = "../../docs/errors/"]
struct Pages;

/// The arguments of `platc explain`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A diagnostic code such as E0102.
    pub code: String,
}

/// The page of a code (`docs/errors/CODE.md`).
pub fn page(code: Code) -> Option<String> {
    Pages::get(&format!("{}.md", code.as_str())).map(|f| String::from_utf8_lossy(&f.data).into_owned())
}

/// Every page file name, for the test that pages and codes match.
pub fn page_names() -> Vec<String> {
    Pages::iter().map(|p| p.to_string()).collect()
}

/// Runs `platc explain` and returns the exit code: prints the page of the code, or fails (2)
/// on an unknown one.
pub fn run(args: &Args) -> i32 {
    let Some(code) = Code::parse(&args.code) else {
        let all: Vec<&str> = codes::ALL.iter().map(|(c, _)| c.as_str()).collect();
        let hint = crate::check::suggest::did_you_mean(&args.code.to_ascii_uppercase(), all.iter().copied()).map(|c| format!(" (did you mean {c}?)")).unwrap_or_default();
        return fail(format!("unknown diagnostic code `{}`{hint}; codes are listed in docs/diagnostics.md", args.code));
    };
    match page(code) {
        Some(text) => {
            print!("{text}");
            EXIT_OK
        }
        None => fail(format!("no documentation page for {code}")),
    }
}
