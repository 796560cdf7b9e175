//! The standard library: resource types, templates and scaffolds as data.
//!
//! The `stdlib/` folder of the repository is embedded in the binary. A platform team overlays
//! it with directories of the same layout (`--stdlib DIR` or `stdlib "DIR"` in platform.kdl): a
//! file at the same relative path replaces the built-in one, a new file adds to it. No rebuild
//! of platc is needed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::fs::FileSystem;

#[derive(rust_embed::RustEmbed)]
#[folder = "../../stdlib/"]
struct Embedded;

/// The stdlib folder with one CI data file per language (`ci/languages/NAME.yaml`): the set of
/// languages a service may name.
pub const LANGUAGES_DIR: &str = "ci/languages/";

/// The help for a language `name` that is not one of `known` (the stdlib's, [`Stdlib::languages`]):
/// did-you-mean, the list, and how a platform adds one. `check` (E0205) and `platc new --lang`
/// say the same.
pub fn unknown_language_help(name: &str, known: &[String]) -> String {
    use crate::check::suggest;
    let words: Vec<&str> = known.iter().map(String::as_str).collect();
    let guess = suggest::did_you_mean(name, words.iter().copied()).map(|s| format!("did you mean `{s}`? ")).unwrap_or_default();
    format!(
        "{guess}language is one of the stdlib's languages: {}; a platform adds one with a stdlib overlay (ci/languages/NAME.yaml, docker/NAME.Dockerfile.hbs, scaffolds/NAME/; see docs/stdlib.md)",
        suggest::list(&words)
    )
}

/// One stdlib file and where it came from.
#[derive(Debug, Clone)]
pub struct StdlibFile {
    /// Name shown in diagnostics: `<stdlib>/types/postgres.kdl` or the overlay path.
    pub display: String,
    /// The file's contents.
    pub text: String,
    /// The overlay directory it came from; `None` for built-in files.
    pub overlay: Option<PathBuf>,
}

/// The merged stdlib: built-in files overlaid by each overlay directory in order.
#[derive(Debug, Clone, Default)]
pub struct Stdlib {
    files: BTreeMap<String, StdlibFile>,
}

/// Why an overlay could not be loaded (an I/O problem, exit code 2).
#[derive(Debug)]
pub struct OverlayError {
    /// The overlay directory.
    pub dir: PathBuf,
    /// What went wrong, naming the file when one did.
    pub message: String,
}

impl Stdlib {
    /// The built-in stdlib only.
    pub fn builtin() -> Self {
        let mut files = BTreeMap::new();
        for path in Embedded::iter() {
            let Some(file) = Embedded::get(&path) else { continue };
            // The stdlib folder is ours and UTF-8; a lossy read keeps a bad byte visible.
            let text = String::from_utf8_lossy(&file.data).into_owned();
            files.insert(path.to_string(), StdlibFile { display: format!("<stdlib>/{path}"), text, overlay: None });
        }
        Stdlib { files }
    }

    /// The built-in stdlib with each overlay directory applied in order.
    pub fn with_overlays(fs: &dyn FileSystem, overlays: &[PathBuf]) -> Result<Self, OverlayError> {
        let mut lib = Self::builtin();
        for dir in overlays {
            if !fs.is_dir(dir) {
                return Err(OverlayError { dir: dir.clone(), message: "not a directory".into() });
            }
            let files = fs.walk(dir, &|_| false).map_err(|e| OverlayError { dir: dir.clone(), message: e.to_string() })?;
            for path in files {
                let rel = rel_path(dir, &path);
                // Bounded like the specs: an overlay is in the repository, and a file of any size
                // can be committed there.
                let max = crate::syntax::limits::MAX_FILE_BYTES;
                let (bytes, size) = fs.read_at_most(&path, max).map_err(|e| OverlayError { dir: dir.clone(), message: format!("{}: {e}", path.display()) })?;
                if size > max {
                    return Err(OverlayError { dir: dir.clone(), message: format!("{}: {size} bytes, more than platc reads ({} MiB per file, E0005)", path.display(), max >> 20) });
                }
                let text = String::from_utf8(bytes).map_err(|e| OverlayError { dir: dir.clone(), message: format!("{}: not UTF-8 ({e})", path.display()) })?;
                lib.files.insert(rel, StdlibFile { display: path.display().to_string(), text, overlay: Some(dir.clone()) });
            }
        }
        Ok(lib)
    }

    /// A file by relative path (`types/postgres.kdl`, `incluster/redis.yaml.hbs`).
    pub fn get(&self, rel: &str) -> Option<&StdlibFile> {
        self.files.get(rel)
    }

    /// Files under a folder (`"types/"`), sorted by path.
    pub fn under<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = (&'a str, &'a StdlibFile)> + 'a {
        self.files.range(prefix.to_string()..).take_while(move |(k, _)| k.starts_with(prefix)).map(|(k, v)| (k.as_str(), v))
    }

    /// Literal-secret rule files (`secrets/*.kdl`, see docs/stdlib.md).
    pub fn secret_rule_files(&self) -> impl Iterator<Item = (&str, &StdlibFile)> {
        self.under("secrets/").filter(|(k, _)| k.ends_with(".kdl"))
    }

    /// Resource type definition files.
    pub fn type_files(&self) -> impl Iterator<Item = (&str, &StdlibFile)> {
        self.under("types/").filter(|(k, _)| k.ends_with(".kdl"))
    }

    /// The languages the stdlib defines, sorted: one per `ci/languages/NAME.yaml` (built-in or
    /// an overlay's). Each also has `docker/NAME.Dockerfile.hbs` and `scaffolds/NAME/`; a
    /// language whose files are broken or missing is reported when a build reads them (E0603).
    pub fn languages(&self) -> Vec<String> {
        self.language_files().filter(|(n, _)| is_language_name(n)).map(|(n, _)| n.to_string()).collect()
    }

    /// The language files whose name is not a language name ([`is_language_name`]): an
    /// overlay's `ci/languages/Foo Bar.yaml`, which no `language` could name (reported, E0603).
    pub fn misnamed_languages(&self) -> impl Iterator<Item = (&str, &StdlibFile)> {
        self.language_files().filter(|(n, _)| !is_language_name(n)).map(|(_, f)| f)
    }

    /// Every `ci/languages/NAME.yaml` directly in that directory, with its NAME and its key.
    fn language_files(&self) -> impl Iterator<Item = (&str, (&str, &StdlibFile))> {
        self.under(LANGUAGES_DIR).filter_map(|(k, f)| k[LANGUAGES_DIR.len()..].strip_suffix(".yaml").filter(|n| !n.contains('/')).map(|n| (n, (k, f))))
    }

    /// The files the backends read (`ci/`, `docker/`, `incluster/`, `observability/`,
    /// `terraform/`): templates and data whose problems a build reports in the file itself.
    pub fn backend_files(&self) -> impl Iterator<Item = (&str, &StdlibFile)> {
        const BACKEND_DIRS: [&str; 5] = ["ci/", "docker/", "incluster/", "observability/", "terraform/"];
        self.files.iter().filter(|(k, _)| BACKEND_DIRS.iter().any(|d| k.starts_with(d))).map(|(k, v)| (k.as_str(), v))
    }
}

/// A language's name, as `language NAME` writes it and as CI job names, scaffold directories
/// and messages carry it: lowercase letters and digits in words joined by single `-`, at most
/// 32 characters (`go`, `dotnet`, `elixir-phoenix`).
pub fn is_language_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 32 && name.split('-').all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
}

/// Relative path with forward slashes, as stdlib keys are.
fn rel_path(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::MemoryFs;

    #[test]
    fn builtin_has_the_required_types() {
        let lib = Stdlib::builtin();
        let names: Vec<&str> = lib.type_files().map(|(k, _)| k).collect();
        for t in ["postgres", "mysql", "redis", "mongodb", "amqp", "bucket", "queue", "topic"] {
            assert!(names.contains(&format!("types/{t}.kdl").as_str()), "{t} missing from {names:?}");
        }
    }

    #[test]
    fn languages_are_the_ci_language_files_of_the_stdlib_and_its_overlays() {
        let builtin = Stdlib::builtin().languages();
        for l in ["go", "java", "node", "python", "rust"] {
            assert!(builtin.contains(&l.to_string()), "{l} missing from {builtin:?}");
        }
        let mut fs = MemoryFs::new();
        fs.add("/ov/ci/languages/elixir.yaml", "name: Elixir")
            .add("/ov/ci/languages/notes.txt", "not a language")
            .add("/ov/ci/languages/old/zig.yaml", "nested: no")
            .add("/ov/ci/languages/Visual Basic.yaml", "name: VB")
            .add("/ov/ci/languages/-x.yaml", "")
            .add("/ov/ci/languages/.yaml", "");
        let lib = Stdlib::with_overlays(&fs, &[PathBuf::from("/ov")]).unwrap();
        let with = lib.languages();
        assert!(with.contains(&"elixir".to_string()), "{with:?}");
        assert!(!with.iter().any(|l| l == "notes" || l.contains("zig")), "{with:?}");
        assert_eq!(with.len(), builtin.len() + 1, "{with:?}");
        let misnamed: Vec<&str> = lib.misnamed_languages().map(|(k, _)| k).collect();
        assert_eq!(misnamed, ["ci/languages/-x.yaml", "ci/languages/.yaml", "ci/languages/Visual Basic.yaml"]);
        assert!(["go", "dotnet", "elixir-phoenix", "f2"].iter().all(|n| is_language_name(n)));
        assert!(!["", "Go", "a--b", "a-", "c#", "x".repeat(33).as_str()].iter().any(|n| is_language_name(n)));
    }

    #[test]
    fn overlay_adds_and_replaces() {
        let mut fs = MemoryFs::new();
        fs.add("/ov/types/couchdb.kdl", "resource-type couchdb {}").add("/ov/types/redis.kdl", "resource-type redis {}");
        let lib = Stdlib::with_overlays(&fs, &[PathBuf::from("/ov")]).unwrap();
        assert_eq!(lib.get("types/couchdb.kdl").unwrap().display, "/ov/types/couchdb.kdl");
        assert_eq!(lib.get("types/redis.kdl").unwrap().text, "resource-type redis {}");
        assert!(lib.get("types/postgres.kdl").unwrap().overlay.is_none());
        assert!(Stdlib::with_overlays(&fs, &[PathBuf::from("/nope")]).is_err());
    }
}
