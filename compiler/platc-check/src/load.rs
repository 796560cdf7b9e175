//! Finding and reading the inputs of a run: `service.kdl` and `platform.kdl` files under the
//! given paths (or `platform.kdl` in a parent directory), and the stdlib with its overlays.
//! Everything here is I/O; failures are [`LoadError`]s (exit code 2), not diagnostics.

use std::path::{Path, PathBuf};

use crate::check::Inputs;
use crate::fs::{FileSystem, SKIP_DIRS};
use crate::source::{SourceFile, SourceMap};
use crate::stdlib::Stdlib;

/// Every input of a run, read into memory.
#[derive(Debug)]
pub struct Loaded {
    /// Every file a diagnostic can point into: the specs, then the stdlib files the run reads.
    pub sources: SourceMap,
    /// Which of those files plays which role.
    pub inputs: Inputs,
    /// The merged stdlib the types and secret rules were read from.
    pub stdlib: Stdlib,
    /// The directory of platform.kdl (outputs and overlays are relative to it).
    pub root: Option<PathBuf>,
    /// When the paths given are inside a platform's tree (`platc check services/a`), every
    /// service of the tree is loaded so that references resolve, and these paths say which
    /// files the user asked about.
    pub focus: Option<Vec<PathBuf>>,
    /// Problems with the files themselves (not valid UTF-8).
    pub diags: crate::diagnostics::Diagnostics,
}

impl Loaded {
    /// True when diagnostics in this file should be shown (see `focus`).
    pub fn in_focus(&self, file: crate::source::FileId) -> bool {
        let Some(focus) = &self.focus else { return true };
        match &self.sources.get(file).path {
            Some(p) => focus.iter().any(|f| p.starts_with(f)) || p.file_name().is_some_and(|n| n == PLATFORM_FILE),
            None => true,
        }
    }
}

/// Why the inputs could not be read.
#[derive(Debug)]
pub struct LoadError(pub String);

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The file name of a service spec.
pub const SERVICE_FILE: &str = "service.kdl";
/// The file name of the platform configuration.
pub const PLATFORM_FILE: &str = "platform.kdl";
/// Marks the root of a generated output tree (never searched for specs).
pub const LOCK_FILE: &str = "platc.lock";

/// Finds and reads the specs under `paths` (files or directories), the platform.kdl that
/// governs them, and the stdlib with overlays from `stdlib_dirs` and from platform.kdl.
/// `cwd` makes displayed file names relative.
pub fn load(fs: &dyn FileSystem, paths: &[PathBuf], stdlib_dirs: &[PathBuf], cwd: &Path) -> Result<Loaded, LoadError> {
    let Found { platforms, services, focus } = find(fs, paths, cwd)?;
    let mut sources = SourceMap::new();
    let mut inputs = Inputs { today: platc_syntax::date::today(), ..Inputs::default() };
    let mut diags = crate::diagnostics::Diagnostics::new();
    let source = |p: &Path| read_source(fs, cwd, p);
    let mut overlay_dirs: Vec<PathBuf> = stdlib_dirs.iter().map(|d| absolute(cwd, d)).collect();
    let mut refused_overlays = Vec::new();
    for p in &platforms {
        let id = add_source(&mut sources, source(p)?, &mut diags);
        let (dirs, refused) = platform_stdlib_dirs(fs, &sources.get(id).text, p.parent().unwrap_or(cwd));
        overlay_dirs.extend(dirs);
        refused_overlays.extend(refused.into_iter().map(|(span, why)| overlay_refused(id, span, &why)));
        inputs.platforms.push(id);
    }
    // Read, checked as UTF-8 and indexed by line on every core: at 1,000 services, one by one
    // was half of `platc check`'s time before parsing.
    let files = crate::par::map_chunks(&services, |chunk| chunk.iter().map(|p| source(p)).collect::<Vec<_>>());
    for file in files.into_iter().flatten() {
        inputs.services.push(add_source(&mut sources, file?, &mut diags));
    }
    let stdlib = Stdlib::with_overlays(fs, &overlay_dirs).map_err(|e| LoadError(format!("cannot load stdlib overlay {}: {}", display(cwd, &e.dir), e.message)))?;
    add_stdlib_sources(&stdlib, &overlay_dirs, cwd, &mut sources, &mut inputs);
    inputs.languages = stdlib.languages();
    for (rel, f) in stdlib.misnamed_languages() {
        let id = sources.add(SourceFile::new(display(cwd, Path::new(&f.display)), None, f.text.clone()));
        diags.push(misnamed_language(id, rel, &f.text));
    }
    for (rel, f) in stdlib.under("helm/") {
        let name = display(cwd, Path::new(&f.display));
        let id = sources.add(SourceFile::new(name, None, f.text.clone()));
        diags.push(chart_overlay_refused(id, rel, &f.text));
    }
    let root = platforms.first().and_then(|p| p.parent()).map(Path::to_path_buf);
    for d in refused_overlays {
        diags.push(d);
    }
    Ok(Loaded { sources, inputs, stdlib, root, focus, diags })
}

/// The input files of a run, sorted and without duplicates, before any is read.
struct Found {
    platforms: Vec<PathBuf>,
    services: Vec<PathBuf>,
    /// The paths named on the command line when the platform was found above them.
    focus: Option<Vec<PathBuf>>,
}

/// The platform.kdl and service.kdl files under `paths`; without a platform.kdl among them,
/// the one of an enclosing directory and the other services of its tree.
fn find(fs: &dyn FileSystem, paths: &[PathBuf], cwd: &Path) -> Result<Found, LoadError> {
    let mut services = Vec::new();
    let mut platforms = Vec::new();
    let skip = |dir: &Path| {
        let name = dir.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
        SKIP_DIRS.contains(&name.as_ref()) || name.starts_with('.') || fs.is_file(&dir.join(LOCK_FILE))
    };
    for path in paths {
        let abs = absolute(cwd, path);
        if fs.is_file(&abs) {
            if abs.file_name().is_some_and(|n| n == PLATFORM_FILE) {
                platforms.push(abs);
            } else {
                services.push(abs);
            }
        } else if fs.is_dir(&abs) {
            let files = fs.walk(&abs, &skip).map_err(|e| walk_error(cwd, path, e))?;
            for f in files {
                match f.file_name().and_then(|n| n.to_str()) {
                    Some(SERVICE_FILE) => services.push(f),
                    Some(PLATFORM_FILE) => platforms.push(f),
                    _ => {}
                }
            }
        } else {
            return Err(LoadError(format!("{}: no such file or directory", path.display())));
        }
    }
    let mut focus = None;
    // Specs checked from inside the tree (`platc check services/checkout`) find the
    // platform.kdl of an enclosing directory, and the other services of its tree.
    if let (true, Some(first)) = (platforms.is_empty(), paths.first()) {
        let start = absolute(cwd, first);
        if let Some(found) = start.ancestors().skip(1).map(|d| d.join(PLATFORM_FILE)).find(|p| fs.is_file(p)) {
            let tree = found.parent().unwrap_or(cwd).to_path_buf();
            let files = fs.walk(&tree, &skip).map_err(|e| walk_error(cwd, &tree, e))?;
            services.extend(files.into_iter().filter(|f| f.file_name().is_some_and(|n| n == SERVICE_FILE)));
            focus = Some(paths.iter().map(|p| absolute(cwd, p)).collect());
            platforms.push(found);
        }
    }
    platforms.sort();
    platforms.dedup();
    services.sort();
    services.dedup();
    Ok(Found { platforms, services, focus })
}

/// The stdlib's resource types and literal-secret rules as sources of the run, so that a
/// diagnostic in one points into its file. Rules go built-in first, then each overlay's in
/// overlay order (by path within one), so that a rule an overlay redefines by its name replaces
/// the built-in one whatever the file is called.
fn add_stdlib_sources(stdlib: &Stdlib, overlay_dirs: &[PathBuf], cwd: &Path, sources: &mut SourceMap, inputs: &mut Inputs) {
    let source = |f: &crate::stdlib::StdlibFile| {
        let name = match &f.overlay {
            Some(_) => display(cwd, Path::new(&f.display)),
            None => f.display.clone(),
        };
        SourceFile::new(name, None, f.text.clone())
    };
    for (_, f) in stdlib.type_files() {
        inputs.types.push(sources.add(source(f)));
    }
    let rank = |f: &crate::stdlib::StdlibFile| f.overlay.as_ref().map_or(0, |d| 1 + overlay_dirs.iter().position(|o| o == d).unwrap_or(overlay_dirs.len()));
    let mut rule_files: Vec<_> = stdlib.secret_rule_files().collect();
    rule_files.sort_by_key(|(_, f)| rank(f));
    for (_, f) in rule_files {
        inputs.secret_rules.push(sources.add(source(f)));
    }
    for (_, f) in stdlib.backend_files() {
        inputs.backend_files.insert(f.display.clone(), sources.add(source(f)));
    }
}

/// E0602 for a file of a stdlib overlay under `helm/`: the chart is derived from the objects
/// platc builds, so a template there would be ignored or would make `helm template` disagree
/// with the rendered manifests. The built-in stdlib has no `helm/`, so every such file is an
/// overlay's.
fn chart_overlay_refused(file: crate::source::FileId, rel: &str, text: &str) -> crate::diagnostics::Diagnostic {
    let first = text.lines().next().map_or(0, str::len);
    crate::diagnostics::Diagnostic::new(
        crate::diagnostics::codes::CHART_TEMPLATE_OVERLAY,
        crate::diagnostics::Label::new(file, crate::source::Span::new(0, first), "not read"),
        format!("the stdlib overlay has `{rel}`, but the Helm chart is no longer made from stdlib templates: platc derives it from the objects of the rendered manifests"),
    )
    .with_help("remove the file; to change a generated object in the chart and the manifests alike, write a `patch KIND` block in service.kdl (see `platc explain E0602`)")
}

/// E0603 for a language file of an overlay whose name no `language` can write.
fn misnamed_language(file: crate::source::FileId, rel: &str, text: &str) -> crate::diagnostics::Diagnostic {
    let first = text.lines().next().map_or(0, str::len);
    let name = rel.trim_start_matches("ci/languages/").trim_end_matches(".yaml");
    let fixed: String = name.to_ascii_lowercase().split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()).collect::<Vec<_>>().join("-");
    crate::diagnostics::Diagnostic::new(
        crate::diagnostics::codes::BROKEN_STDLIB_FILE,
        crate::diagnostics::Label::new(file, crate::source::Span::new(0, first), "not a language"),
        format!("the stdlib overlay has `{rel}`, but `{name}` is not a language name: no `language` could select it"),
    )
    .with_help(format!(
        "rename the file to lowercase letters and digits in words joined by `-`, at most 32 characters, e.g. ci/languages/{}.yaml",
        if fixed.is_empty() { "my-language" } else { fixed.as_str() }
    ))
}

/// A file as read by [`read_source`]: the source and, when it is not UTF-8, the offset of the
/// first bad byte.
pub type ReadSource = (SourceFile, Option<usize>);

/// Reads an input file as a source (shown as a path relative to `cwd`). A file that is not
/// UTF-8 is an input error (E0002, see [`add_source`]) pointing at the first bad byte, not an
/// I/O failure: the rest of the run goes on. A file over the size limit is not read whole (a
/// repository can hold a file of any size): its first line is enough for the E0005 that
/// `syntax::limits` reports. Every command that reads specs (load, `platc fmt`) reads them here.
pub fn read_source(fs: &dyn FileSystem, cwd: &Path, p: &Path) -> Result<ReadSource, LoadError> {
    let max = crate::syntax::limits::MAX_FILE_BYTES;
    let (bytes, size) = fs.read_at_most(p, max + 1).map_err(|e| LoadError(format!("cannot read {}: {e}", display(cwd, p))))?;
    if size > max {
        let first = bytes.iter().take(200).position(|&b| b == b'\n').unwrap_or(bytes.len().min(200));
        let text = String::from_utf8_lossy(&bytes[..first]).into_owned();
        return Ok((SourceFile::new(display(cwd, p), Some(p.to_path_buf()), text).with_size(size), None));
    }
    let (text, bad) = match String::from_utf8(bytes) {
        Ok(text) => (text, None),
        Err(e) => (String::from_utf8_lossy(e.as_bytes()).into_owned(), Some(e.utf8_error().valid_up_to())),
    };
    Ok((SourceFile::new(display(cwd, p), Some(p.to_path_buf()), text), bad))
}

/// Adds a file [`read_source`] read to `sources`, with its E0002 when it is not UTF-8 (then
/// `diags` has an error for it, and it must not be formatted or written back).
pub fn add_source(sources: &mut SourceMap, (file, bad): ReadSource, diags: &mut crate::diagnostics::Diagnostics) -> crate::source::FileId {
    let id = sources.add(file);
    if let Some(at) = bad {
        diags.push(
            crate::diagnostics::Diagnostic::new(
                crate::diagnostics::codes::NOT_UTF8,
                crate::diagnostics::Label::new(id, crate::source::Span::new(at, at + 1), "not UTF-8"),
                "this file is not valid UTF-8",
            )
            .with_help("save the file as UTF-8 (specs are KDL, which is always UTF-8)"),
        );
    }
    id
}

/// A failed walk for specs: a refused symbolic link (E0803, see [`crate::fs::LinkRefused`])
/// names the link as the user sees it; anything else is an I/O error under `dir`.
fn walk_error(cwd: &Path, dir: &Path, e: std::io::Error) -> LoadError {
    match e.get_ref().and_then(|inner| inner.downcast_ref::<crate::fs::LinkRefused>()) {
        Some(link) => LoadError(crate::fs::LinkRefused { link: PathBuf::from(display(cwd, &link.link)), target: link.target.clone() }.to_string()),
        None => LoadError(format!("cannot read {}: {e}", dir.display())),
    }
}

/// The `stdlib "DIR"` entries of a platform.kdl, resolved against its directory, and those
/// refused (see [`overlay_refusal`]) with the span of their value. A syntax error here is
/// ignored: the checker reports it with full diagnostics right after.
fn platform_stdlib_dirs(fs: &dyn FileSystem, text: &str, dir: &Path) -> (Vec<PathBuf>, Vec<(crate::source::Span, String)>) {
    let Ok(doc) = text.parse::<kdl::KdlDocument>() else { return (Vec::new(), Vec::new()) };
    let (mut dirs, mut refused) = (Vec::new(), Vec::new());
    let entries = doc.nodes().iter().filter(|n| n.name().value() == "platform").filter_map(|n| n.children()).flat_map(|c| c.nodes()).filter(|n| n.name().value() == "stdlib");
    for entry in entries.filter_map(|n| n.entry(0)) {
        let Some(written) = entry.value().as_string() else { continue };
        match overlay_refusal(fs, dir, written) {
            None => dirs.push(dir.join(written)),
            Some(why) => refused.push((crate::source::Span::new(entry.span().offset(), entry.span().offset() + entry.span().len()), why)),
        }
    }
    (dirs, refused)
}

/// Why `written`, a `stdlib` entry of the platform.kdl in `dir`, cannot be an overlay: it must
/// be a relative path that stays inside `dir` with no symbolic link on the way, because
/// platform.kdl is in the repository (a pull request controls it) and an overlay's files are
/// read and may be shown in diagnostics. A directory elsewhere is given with `--stdlib DIR`,
/// the word of whoever runs platc.
pub fn overlay_refusal(fs: &dyn FileSystem, dir: &Path, written: &str) -> Option<String> {
    let path = Path::new(written);
    if path.has_root() || path.is_absolute() || written.contains('\\') {
        return Some(format!("`{written}` is an absolute path"));
    }
    let mut depth = 0usize;
    let mut at = dir.to_path_buf();
    for c in path.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir if depth == 0 => return Some(format!("`{written}` leads out of the platform directory")),
            std::path::Component::ParentDir => {
                depth -= 1;
                at.pop();
            }
            std::path::Component::Normal(name) => {
                depth += 1;
                at.push(name);
                if fs.is_symlink(&at) {
                    return Some(format!("{} is a symbolic link", display(dir, &at)));
                }
            }
            _ => return Some(format!("`{written}` is an absolute path")),
        }
    }
    None
}

/// The diagnostic of a refused overlay (E0805).
fn overlay_refused(file: crate::source::FileId, span: crate::source::Span, why: &str) -> crate::diagnostics::Diagnostic {
    crate::diagnostics::Diagnostic::new(
        crate::diagnostics::codes::OVERLAY_OUTSIDE,
        crate::diagnostics::Label::new(file, span, "not a directory inside the platform directory"),
        format!("the stdlib overlay {why}; platc reads overlays named by platform.kdl only from inside the platform directory"),
    )
    .with_help("move the overlay into the platform directory and write its relative path (`stdlib \"./platform-stdlib\"`), or give a directory elsewhere on the command line with `--stdlib DIR`")
}

/// `p` made absolute against `cwd`, with `.` and `..` resolved lexically.
pub fn absolute(cwd: &Path, p: &Path) -> PathBuf {
    let joined = if p.is_absolute() { p.to_path_buf() } else { cwd.join(p) };
    // Lexically drop `.` and resolve `..`, so that names and ancestors are clean without
    // touching the disk (canonicalize would also resolve symlinks, surprising users).
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// A path as shown to the user: relative to `cwd` when inside it, with forward slashes.
pub fn display(cwd: &Path, p: &Path) -> String {
    if p == cwd {
        return ".".into();
    }
    let rel = p.strip_prefix(cwd).unwrap_or(p);
    let s = rel.to_string_lossy().replace('\\', "/");
    if s.is_empty() {
        ".".into()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::MemoryFs;

    #[test]
    fn finds_specs_and_parent_platform_and_skips_outputs() {
        let mut fs = MemoryFs::new();
        fs.add("/r/platform.kdl", "platform p {}")
            .add("/r/svc/a/service.kdl", "service a {}")
            .add("/r/svc/b/service.kdl", "service b {}")
            .add("/r/out/platc.lock", "")
            .add("/r/out/x/service.kdl", "service stale {}")
            .add("/r/.git/service.kdl", "");
        let l = load(&fs, &[PathBuf::from("svc")], &[], Path::new("/r")).unwrap();
        let names: Vec<&str> = l.sources.iter().map(|(_, f)| f.name.as_str()).filter(|n| !n.starts_with('<')).collect();
        assert_eq!(names, ["platform.kdl", "svc/a/service.kdl", "svc/b/service.kdl"]);
        let l = load(&fs, &[PathBuf::from(".")], &[], Path::new("/r")).unwrap();
        assert_eq!(l.inputs.services.len(), 2, "output tree and .git are skipped");
        assert!(load(&fs, &[PathBuf::from("nope")], &[], Path::new("/r")).is_err());
    }

    #[test]
    fn a_language_file_no_spec_could_name_is_reported_in_itself() {
        let mut fs = MemoryFs::new();
        fs.add("/r/platform.kdl", "platform p {}").add("/ov/ci/languages/Visual Basic.yaml", "name: VB\n").add("/ov/ci/languages/elixir.yaml", "name: Elixir\n");
        let l = load(&fs, &[PathBuf::from(".")], &[PathBuf::from("/ov")], Path::new("/r")).unwrap();
        assert!(l.inputs.languages.contains(&"elixir".to_string()) && !l.inputs.languages.iter().any(|n| n.contains("Visual")), "{:?}", l.inputs.languages);
        let d: Vec<_> = l.diags.iter().collect();
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].code.as_str(), "E0603");
        assert!(d[0].help.as_deref().is_some_and(|h| h.contains("ci/languages/visual-basic.yaml")), "{:?}", d[0].help);
        assert!(l.sources.get(d[0].primary.file).name.ends_with("Visual Basic.yaml"), "the diagnostic points into the file");
    }
}
