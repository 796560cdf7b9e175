//! `platc init [--dir DIR] [--name NAME]`: write a commented `platform.kdl` for a platform team,
//! with sane defaults (environments dev, staging, prod, preview with a TTL; provisioners; GitOps;
//! CI; defaults; guardrail policies) and placeholders that check clean.
//!
//! The file is data in the stdlib (`scaffolds/platform/`, handlebars, like `platc new`'s
//! scaffolds; variables `name` and `kdl_name`), so a platform team that starts many platforms
//! can change it with an overlay (`--stdlib DIR`). Nothing is ever overwritten.

use std::io::Write;
use std::path::PathBuf;

use serde_json::json;

use super::new::{check_name, find_platform, render_tree, write_new, SCAFFOLDS};
use super::{cwd, fail, EXIT_OK};
use crate::fs::RealFs;
use crate::stdlib::Stdlib;

/// The platform name when none is given and the directory's name does not make one.
pub const FALLBACK_NAME: &str = "platform";

/// The arguments of `platc init`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Directory to write platform.kdl into, usually the root of the repository (default: the
    /// current directory).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// The platform's name: it prefixes every namespace (NAME-prod). Default: from the
    /// directory's name.
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// A stdlib overlay directory (may be repeated) whose `scaffolds/platform/` replace or add
    /// files.
    #[arg(long = "stdlib", value_name = "DIR")]
    pub stdlib: Vec<PathBuf>,
}

/// Runs `platc init` and returns the exit code: writes platform.kdl, never over an existing
/// one.
pub fn run(args: &Args) -> i32 {
    let cwd = cwd();
    let dir = crate::load::absolute(&cwd, args.dir.as_deref().unwrap_or(std::path::Path::new(".")));
    let name = match &args.name {
        Some(n) => n.clone(),
        None => default_name(&dir),
    };
    let overlays: Vec<PathBuf> = args.stdlib.iter().map(|d| crate::load::absolute(&cwd, d)).collect();
    let stdlib = match Stdlib::with_overlays(&RealFs, &overlays) {
        Ok(s) => s,
        Err(e) => return fail(format!("cannot load stdlib overlay {}: {}", crate::load::display(&cwd, &e.dir), e.message)),
    };
    let files = match platform_files(&stdlib, &name) {
        Ok(f) => f,
        Err(e) => return fail(e),
    };
    // A platform.kdl above this one would make a run from the upper root see two platforms.
    let enclosing = dir.parent().and_then(find_platform);
    if let Err(e) = write_new(&dir, &files) {
        return fail(e);
    }
    let shown = crate::load::display(&cwd, &dir);
    let mut err = std::io::stderr().lock();
    for f in &files {
        let _ = writeln!(err, "created {}", crate::load::display(&cwd, &dir.join(&f.path)));
    }
    if let Some(p) = enclosing {
        let _ = writeln!(err, "warning: {} governs this directory too; a run from there would see two platforms (E0502)", crate::load::display(&cwd, &p));
    }
    let _ = writeln!(err, "next:");
    let _ = writeln!(err, "  replace the TODO placeholders (registry, domain, gitops repo, terraform-backend) in {shown}/platform.kdl");
    // The languages of the stdlib `init` read: the built-in ones and those of `--stdlib`.
    let _ = writeln!(err, "  platc new SERVICE --lang {} --dir {}", stdlib.languages().join("|"), crate::load::display(&cwd, &dir.join("services").join("SERVICE")));
    EXIT_OK
}

/// The files `platc init` writes, rendered from the stdlib's `scaffolds/platform/`.
pub fn platform_files(stdlib: &Stdlib, name: &str) -> Result<Vec<super::new::ScaffoldFile>, String> {
    check_name(name, "platform")?;
    let kdl_name = if ["true", "false", "null", "inf", "nan"].contains(&name) { format!("\"{name}\"") } else { name.to_string() };
    let files = render_tree(stdlib, &[&format!("{SCAFFOLDS}platform/")], &json!({"name": name, "kdl_name": kdl_name}))?;
    if !files.iter().any(|f| f.path == crate::load::PLATFORM_FILE) {
        return Err(format!("the stdlib has no {SCAFFOLDS}platform/{}.hbs", crate::load::PLATFORM_FILE));
    }
    Ok(files)
}

/// A platform name from a directory's name (`acme-platform/` -> `acme-platform`), or
/// [`FALLBACK_NAME`] when that gives no valid name.
pub fn default_name(dir: &std::path::Path) -> String {
    let base = dir.canonicalize().ok().and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()));
    let base = base.or_else(|| dir.file_name().map(|n| n.to_string_lossy().into_owned())).unwrap_or_default();
    let label = crate::check::units::to_dns_label(&base);
    if check_name(&label, "platform").is_ok() {
        label
    } else {
        FALLBACK_NAME.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_directories() {
        assert_eq!(default_name(std::path::Path::new("/nonexistent/Acme Platform")), "acme-platform");
        assert_eq!(default_name(std::path::Path::new("/nonexistent/123")), FALLBACK_NAME);
        assert_eq!(default_name(std::path::Path::new("/")), FALLBACK_NAME);
    }

    #[test]
    fn renders() {
        let files = platform_files(&Stdlib::builtin(), "acme").unwrap();
        assert_eq!(files.len(), 1);
        assert!(files[0].text.contains("platform acme {"));
        assert!(platform_files(&Stdlib::builtin(), "Acme").is_err());
    }
}
