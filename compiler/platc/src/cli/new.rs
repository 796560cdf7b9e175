//! `platc new NAME --lang LANG [--dir DIR]`: scaffold a service that builds and deploys as it
//! is: `service.kdl`, a minimal app on the language's standard library serving `/healthz`,
//! `/ready` and `/metrics`, the build files the generated Dockerfile expects, `.gitignore`,
//! `.dockerignore` and a README.
//!
//! The files are data in the stdlib (`scaffolds/`), handlebars templates rendered without HTML
//! escaping, so a platform team changes them with an overlay (`--stdlib DIR`, or `stdlib "DIR"`
//! in the platform.kdl found above DIR) without rebuilding platc:
//!
//! - `scaffolds/service/`: files of every service (`service.kdl`, `README.md`);
//! - `scaffolds/LANG/`: files of one language; one at the same path replaces the common one;
//! - `scaffolds/reserved.yaml`: names refused per language.
//!
//! A file name ending in `.hbs` is rendered and loses the suffix; other files are copied as they
//! are. Path segments are templates too (`{{module}}/app.py.hbs`), and a segment starting with
//! `dot-` starts with `.` in the output (`dot-gitignore` -> `.gitignore`). Template variables:
//! `name`, `kdl_name` (the name as a KDL value), `module` (dashes as underscores), `language`,
//! `port`, `owner`.
//!
//! Nothing is ever overwritten: when any file to write exists, nothing is written (exit 2).

use std::io::Write;
use std::path::{Path, PathBuf};

use handlebars::Handlebars;
use serde_json::{json, Value as Json};

use super::{cwd, fail, plural, EXIT_OK};
use crate::fs::RealFs;
use crate::model::Language;
use crate::stdlib::Stdlib;

/// The `http` port of a scaffolded service.
pub const PORT: u16 = 8080;
/// The owner written when `--owner` is not given.
pub const DEFAULT_OWNER: &str = "my-team";
/// The stdlib folder of the scaffolds.
pub const SCAFFOLDS: &str = "scaffolds/";

/// The arguments of `platc new`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The service's name: lowercase letters, digits and `-`, starting with a letter
    /// (`checkout`, `order-api`). It names the Deployment, the image and the package.
    pub name: String,
    /// The app's language: picks the scaffold, the CI pipeline and the Dockerfile template.
    /// One of the stdlib's languages (built in: dotnet, go, java, node, python, rust); a stdlib
    /// overlay adds more (`ci/languages/LANG.yaml`, see docs/stdlib.md).
    #[arg(long, value_name = "LANG")]
    pub lang: String,
    /// Directory to write into (default: ./NAME). Existing files are never overwritten.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// The owning team, written as `owner` in service.kdl (default: a placeholder to replace).
    #[arg(long, value_name = "TEAM")]
    pub owner: Option<String>,
    /// A stdlib overlay directory (may be repeated) whose `scaffolds/` replace or add files.
    /// The `stdlib` overlays of the platform.kdl found above DIR apply after these.
    #[arg(long = "stdlib", value_name = "DIR")]
    pub stdlib: Vec<PathBuf>,
}

/// One file to write, by path relative to the target directory (with `/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScaffoldFile {
    /// Path relative to the target directory, with `/`.
    pub path: String,
    /// Its content (rendered when its template ends in `.hbs`, else copied).
    pub text: String,
}

/// Runs `platc new` and returns the exit code: renders the scaffold and writes it, or nothing
/// when any of its files exists.
pub fn run(args: &Args) -> i32 {
    let cwd = cwd();
    let dir = crate::load::absolute(&cwd, args.dir.as_deref().unwrap_or_else(|| Path::new(&args.name)));
    let owner = args.owner.as_deref().unwrap_or(DEFAULT_OWNER);
    let platform = find_platform(&dir);
    let mut overlays: Vec<PathBuf> = args.stdlib.iter().map(|d| crate::load::absolute(&cwd, d)).collect();
    if let Some(p) = &platform {
        overlays.extend(platform_overlays(p));
    }
    let stdlib = match Stdlib::with_overlays(&RealFs, &overlays) {
        Ok(s) => s,
        Err(e) => return fail(format!("cannot load stdlib overlay {}: {}", crate::load::display(&cwd, &e.dir), e.message)),
    };
    let lang = match language(&stdlib, &args.lang) {
        Ok(l) => l,
        Err(e) => return fail(e),
    };
    let files = match scaffold(&stdlib, &args.name, &lang, owner) {
        Ok(f) => f,
        Err(e) => return fail(e),
    };
    let shown = crate::load::display(&cwd, &dir);
    if let Err(e) = write_new(&dir, &files) {
        return fail(e);
    }
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "created {} ({}) in {shown}: {}", args.name, lang.as_str(), plural(files.len(), "file"));
    for f in &files {
        let _ = writeln!(err, "  {f}", f = f.path);
    }
    let _ = writeln!(err, "next:");
    if args.owner.is_none() {
        let _ = writeln!(err, "  set `owner` in {shown}/service.kdl to the team that answers for {}", args.name);
    }
    match &platform {
        Some(p) => {
            let root = crate::load::display(&cwd, p.parent().unwrap_or(&cwd));
            let _ = writeln!(err, "  platc build {root}    (writes the chart, manifests, Dockerfile, CI, alerts and dashboard)");
        }
        None => {
            let _ = writeln!(err, "  no platform.kdl above {shown}: run `platc init` at the root of the repository, then `platc build` there");
        }
    }
    EXIT_OK
}

/// Runs a platc command line in-process (the arguments after `platc`) and returns its exit code,
/// as the binary would. The integration tests of `platc new` drive `init`, `new`, `check`,
/// `fmt` and `build` through it, so they test the sources rather than a binary built earlier.
pub fn run_args<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    use clap::Parser as _;
    let argv = std::iter::once(std::ffi::OsString::from("platc")).chain(args.into_iter().map(Into::into));
    match super::Cli::try_parse_from(argv) {
        Ok(cli) => super::run(cli),
        Err(e) => {
            let _ = e.print();
            if e.use_stderr() {
                super::EXIT_FAILURE
            } else {
                EXIT_OK
            }
        }
    }
}

/// `--lang NAME` as one of the languages `stdlib` defines (with its overlays), or an error that
/// lists them.
pub fn language(stdlib: &Stdlib, name: &str) -> Result<Language, String> {
    let known = stdlib.languages();
    if known.iter().any(|l| l == name) {
        return Ok(Language::new(name));
    }
    Err(format!("--lang `{name}` is not a language of the stdlib: {}", crate::stdlib::unknown_language_help(name, &known)))
}

/// The files of a new service, rendered from the stdlib's scaffolds.
pub fn scaffold(stdlib: &Stdlib, name: &str, lang: &Language, owner: &str) -> Result<Vec<ScaffoldFile>, String> {
    check_name(name, "service")?;
    let module = name.replace('-', "_");
    check_reserved(stdlib, lang, name, &module)?;
    // The owner becomes a Kubernetes label value (`platc.dev/owner`) and an alert label.
    let label_value = owner.len() <= 63
        && owner.starts_with(|c: char| c.is_ascii_alphanumeric())
        && owner.ends_with(|c: char| c.is_ascii_alphanumeric())
        && owner.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !label_value {
        return Err(format!(
            "--owner `{owner}` is not a team name platc can use: letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit, at most 63 characters (it becomes a Kubernetes label), e.g. `team-payments`"
        ));
    }
    let data = json!({
        "name": name,
        "kdl_name": kdl_value(name),
        "module": module,
        "language": lang.as_str(),
        "port": PORT,
        "owner": owner,
    });
    let own = format!("{SCAFFOLDS}{}/", lang.as_str());
    if stdlib.under(&own).next().is_none() {
        return Err(format!("the stdlib has no scaffold for `{lang}`: every language needs its files under {own} (see docs/stdlib.md, \"Adding a language\")"));
    }
    let files = render_tree(stdlib, &[&format!("{SCAFFOLDS}service/"), &own], &data)?;
    if !files.iter().any(|f| f.path == crate::load::SERVICE_FILE) {
        return Err(format!("the stdlib has no {SCAFFOLDS}service/{}.hbs", crate::load::SERVICE_FILE));
    }
    Ok(files)
}

/// A name platc accepts for a service or platform *and* every language can use as a package or
/// module name: a DNS-1123 label that starts with a letter.
pub fn check_name(name: &str, what: &str) -> Result<(), String> {
    crate::check::units::dns_label(name).map_err(|help| format!("`{name}` is not a valid {what} name: {help}"))?;
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err(format!("`{name}` is not a valid {what} name: start it with a letter (it also names a package or module, which cannot start with a digit)"));
    }
    Ok(())
}

/// Names a language's scaffold cannot use (`scaffolds/reserved.yaml`).
fn check_reserved(stdlib: &Stdlib, lang: &Language, name: &str, module: &str) -> Result<(), String> {
    let rel = format!("{SCAFFOLDS}reserved.yaml");
    let Some(file) = stdlib.get(&rel) else { return Ok(()) };
    let data: Json = serde_saphyr::from_str(&file.text).map_err(|e| format!("{}: {e}", file.display))?;
    let Some(entry) = data.get(lang.as_str()) else { return Ok(()) };
    let compared = match entry.get("compare").and_then(Json::as_str) {
        Some("module") => module,
        _ => name,
    };
    let names = entry.get("names").and_then(Json::as_array).map(Vec::as_slice).unwrap_or_default();
    if names.iter().any(|n| n.as_str() == Some(compared)) {
        let why = entry.get("why").and_then(Json::as_str).unwrap_or("it is reserved");
        return Err(format!("a {} service cannot be named `{name}`: {why} (listed in {})", lang.as_str(), file.display));
    }
    Ok(())
}

/// `name` as a KDL value: bare, unless KDL v2 reserves it as a keyword.
fn kdl_value(name: &str) -> String {
    if ["true", "false", "null", "inf", "nan"].contains(&name) {
        format!("\"{name}\"")
    } else {
        name.to_string()
    }
}

/// Renders every file under the stdlib folders `prefixes` (later folders replace files of earlier
/// ones at the same output path), sorted by output path.
pub fn render_tree(stdlib: &Stdlib, prefixes: &[&str], data: &Json) -> Result<Vec<ScaffoldFile>, String> {
    let mut hb = Handlebars::new();
    // Source code and KDL are not HTML: `&&`, `<` and quotes must pass through unchanged.
    hb.register_escape_fn(handlebars::no_escape);
    hb.set_strict_mode(true);
    let mut out: std::collections::BTreeMap<String, String> = std::collections::BTreeMap::new();
    for prefix in prefixes {
        for (rel, file) in stdlib.under(prefix) {
            let inner = &rel[prefix.len()..];
            let mut segments = Vec::new();
            for seg in inner.split('/') {
                let seg = hb.render_template(seg, data).map_err(|e| format!("{}: file name: {e}", file.display))?;
                let seg = match seg.strip_prefix("dot-") {
                    Some(rest) => format!(".{rest}"),
                    None => seg,
                };
                if seg.is_empty() || seg == "." || seg == ".." || seg.contains(['/', '\\']) {
                    return Err(format!("{}: the file name renders to `{seg}`, not a file name", file.display));
                }
                segments.push(seg);
            }
            let mut path = segments.join("/");
            let text = match path.strip_suffix(".hbs") {
                Some(stripped) => {
                    path = stripped.to_string();
                    hb.render_template(&file.text, data).map_err(|e| format!("{}: {e}", file.display))?
                }
                None => file.text.clone(),
            };
            out.insert(path, text);
        }
    }
    if out.is_empty() {
        return Err(format!("the stdlib has no files under {}", prefixes.join(" or ")));
    }
    Ok(out.into_iter().map(|(path, text)| ScaffoldFile { path, text }).collect())
}

/// Writes `files` under `dir`, creating directories, and never replacing anything: when one of
/// them exists, nothing is written and the error lists them all.
pub fn write_new(dir: &Path, files: &[ScaffoldFile]) -> Result<(), String> {
    if dir.exists() && !dir.is_dir() {
        return Err(format!("{} exists and is not a directory", dir.display()));
    }
    let existing: Vec<&str> = files.iter().filter(|f| dir.join(&f.path).symlink_metadata().is_ok()).map(|f| f.path.as_str()).collect();
    if !existing.is_empty() {
        return Err(format!(
            "{} already {} in {}: nothing written (platc never overwrites a file; choose another --dir or move {} away)",
            existing.join(", "),
            if existing.len() == 1 { "exists" } else { "exist" },
            dir.display(),
            if existing.len() == 1 { "it" } else { "them" }
        ));
    }
    for f in files {
        let path = dir.join(&f.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        // create_new: a file that appeared since the check above is still not overwritten.
        let mut file = std::fs::OpenOptions::new().write(true).create_new(true).open(&path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        file.write_all(f.text.as_bytes()).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(())
}

/// The platform.kdl in `dir` or the nearest of its parents.
pub fn find_platform(dir: &Path) -> Option<PathBuf> {
    dir.ancestors().map(|d| d.join(crate::load::PLATFORM_FILE)).find(|p| p.is_file())
}

/// The `stdlib "DIR"` overlays of a platform.kdl, relative to its directory. Unreadable or
/// invalid files give none: `platc check` reports their problems.
fn platform_overlays(platform: &Path) -> Vec<PathBuf> {
    let Ok(text) = std::fs::read_to_string(platform) else { return Vec::new() };
    let Ok(doc) = text.parse::<kdl::KdlDocument>() else { return Vec::new() };
    let dir = platform.parent().unwrap_or(Path::new("."));
    doc.nodes()
        .iter()
        .filter(|n| n.name().value() == "platform")
        .filter_map(|n| n.children())
        .flat_map(|c| c.nodes())
        .filter(|n| n.name().value() == "stdlib")
        .filter_map(|n| n.get(0).and_then(|v| v.as_string()).map(|s| dir.join(s)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(check_name("checkout", "service").is_ok());
        assert!(check_name("order-api2", "service").is_ok());
        assert!(check_name("2fast", "service").unwrap_err().contains("start it with a letter"));
        assert!(check_name("Checkout", "service").unwrap_err().contains("lowercase"));
        assert_eq!(kdl_value("nan"), "\"nan\"");
        assert_eq!(kdl_value("checkout"), "checkout");
    }

    #[test]
    fn every_language_renders_a_spec() {
        let lib = Stdlib::builtin();
        let langs = lib.languages();
        assert!(langs.len() >= 5, "{langs:?}");
        for name in langs {
            let lang = language(&lib, &name).unwrap();
            let files = scaffold(&lib, "order-api", &lang, "team-orders").unwrap();
            let spec = &files.iter().find(|f| f.path == "service.kdl").unwrap().text;
            assert!(spec.contains("service order-api {"), "{spec}");
            assert!(spec.contains(&format!("language {}", lang.as_str())), "{spec}");
            assert!(files.iter().any(|f| f.path == ".gitignore"), "{:?}", files.iter().map(|f| &f.path).collect::<Vec<_>>());
            assert!(files.iter().all(|f| !f.path.contains("{{") && !f.path.ends_with(".hbs")));
        }
    }

    #[test]
    fn templates_escape_braces_and_rename_dot_files() {
        let dir = std::env::temp_dir().join(format!("platc-new-unit-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("scaffolds/service/{{module}}")).unwrap();
        std::fs::write(dir.join("scaffolds/service/{{module}}/dot-env.hbs"), "x = \\{{literal}} {{name}}\n").unwrap();
        let lib = Stdlib::with_overlays(&RealFs, std::slice::from_ref(&dir)).unwrap();
        let files = scaffold(&lib, "a-b", &Language::new("go"), "t").unwrap();
        let f = files.iter().find(|f| f.path == "a_b/.env").expect("rendered path");
        assert_eq!(f.text, "x = {{literal}} a-b\n");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn unknown_languages_are_refused_with_the_list() {
        let lib = Stdlib::builtin();
        let e = language(&lib, "pyton").unwrap_err();
        assert!(e.contains("did you mean `python`?"), "{e}");
        for l in lib.languages() {
            assert!(e.contains(&format!("`{l}`")), "{e}");
        }
        let dir = std::env::temp_dir().join(format!("platc-new-lang-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("ci/languages")).unwrap();
        std::fs::write(dir.join("ci/languages/elixir.yaml"), "name: Elixir\n").unwrap();
        let lib = Stdlib::with_overlays(&RealFs, std::slice::from_ref(&dir)).unwrap();
        let elixir = language(&lib, "elixir").unwrap();
        let e = scaffold(&lib, "svc", &elixir, "t").unwrap_err();
        assert!(e.contains("scaffolds/elixir/"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// `platc new --help` names the built-in languages: the list there is the stdlib's.
    #[test]
    fn the_help_of_lang_names_every_builtin_language() {
        use clap::CommandFactory as _;
        let cli = crate::cli::Cli::command();
        let new = cli.find_subcommand("new").expect("a `new` command");
        let help = new.get_arguments().find(|a| a.get_id() == "lang").and_then(|a| a.get_help()).expect("--lang has help").to_string();
        let listed = help.split("(built in: ").nth(1).and_then(|r| r.split(')').next()).expect("a `(built in: ...)` list");
        let listed: Vec<&str> = listed.split(", ").collect();
        assert_eq!(listed, Stdlib::builtin().languages(), "{help}");
    }

    #[test]
    fn reserved_names_are_refused() {
        let lib = Stdlib::builtin();
        let e = scaffold(&lib, "email", &Language::new("python"), "t").unwrap_err();
        assert!(e.contains("standard library"), "{e}");
        assert!(scaffold(&lib, "email", &Language::new("go"), "t").is_ok());
        assert!(scaffold(&lib, "deps", &Language::new("rust"), "t").is_err());
        assert!(scaffold(&lib, "svc", &Language::new("go"), "Team Payments").unwrap_err().contains("--owner"));
        assert!(scaffold(&lib, "svc", &Language::new("go"), "team_payments.eu").is_ok());
    }
}
