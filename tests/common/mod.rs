//! Shared helpers of the integration tests: the fixture tree (a platform, a companion service, a
//! clean baseline service), an in-memory run of loader + checker, rendering in every format, and
//! the span invariants every diagnostic must satisfy.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use platc_check::fs::MemoryFs;
use platc_syntax::diagnostics::{render, Diagnostic, Format};
use platc_syntax::source::SourceMap;

/// The shared platform.kdl: environments dev, staging, prod, preview; min-replicas 2 in prod,
/// max-memory, allowed-registries, forbid-loosening.
pub const PLATFORM: &str = include_str!("../cases/fixtures/platform.kdl");
/// The companion service `payments` (ports `http` 8080 and `grpc` 9090), clean on its own.
pub const PAYMENTS: &str = include_str!("../cases/fixtures/payments.kdl");
/// A clean service `checkout` that uses most features, clean against PLATFORM + PAYMENTS.
pub const CHECKOUT: &str = include_str!("../cases/fixtures/checkout.kdl");

/// examples/NAME built in memory for every environment (the preview for `branch`): every file
/// it writes and the checked workspace. A failed build panics with its diagnostics.
pub fn build_example(name: &str, branch: &str) -> (std::collections::BTreeMap<String, Vec<u8>>, platc_check::model::Workspace) {
    let opts = platc_emit::lower::BuildOptions { branch: Some(branch.into()), ..Default::default() };
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let r = platc::build::build_paths(&platc_check::fs::RealFs, &[PathBuf::from(format!("examples/{name}"))], &[], &root, &opts).expect("example loads");
    let diags: Vec<_> = r.diags.iter().cloned().collect();
    let Some(output) = r.output else { panic!("{name}: build failed:\n{}", render(&diags, &r.loaded.sources, Format::Human, false)) };
    (output.files, r.workspace.expect("workspace"))
}

/// Every format, in a fixed order.
pub const FORMATS: [(Format, &str); 4] = [(Format::Human, "human"), (Format::Json, "json"), (Format::Github, "github"), (Format::Sarif, "sarif")];

/// The root of the in-memory tree; file names are shown relative to it.
pub const ROOT: &str = "/ws";

/// The result of one in-memory run.
pub struct Run {
    pub sources: SourceMap,
    pub diags: Vec<Diagnostic>,
}

impl Run {
    /// The codes produced, sorted, with duplicates.
    pub fn codes(&self) -> Vec<String> {
        let mut c: Vec<String> = self.diags.iter().map(|d| d.code.as_str().to_string()).collect();
        c.sort();
        c
    }

    pub fn render(&self, format: Format) -> String {
        render(&self.diags, &self.sources, format, false)
    }
}

/// Loads and checks a tree of `(path relative to ROOT, text)` files, as `platc check ROOT
/// --stdlib DIR...` does, entirely in memory: load, then the checker and the graph
/// (`driver::analyze`: check + load problems + dependency cycles). A later file replaces an
/// earlier one with the same path.
pub fn check_tree(files: &[(&str, &str)], stdlib: &[&str]) -> Result<Run, String> {
    let mut fs = MemoryFs::new();
    for (path, text) in files {
        fs.add(Path::new(ROOT).join(path), *text);
    }
    let stdlib: Vec<PathBuf> = stdlib.iter().map(|d| Path::new(ROOT).join(d)).collect();
    let loaded = platc_check::load::load(&fs, &[PathBuf::from(ROOT)], &stdlib, Path::new(ROOT)).map_err(|e| e.to_string())?;
    let diags = platc::build::analyze(&loaded).diags;
    Ok(Run { sources: loaded.sources, diags: diags.into_vec() })
}

/// Builds a tree in memory, as `platc build ROOT` does (load, check, lower, emit), for the
/// diagnostics only the generating stage reports (E0412). Nothing is written.
pub fn build_tree(files: &[(&str, &str)], stdlib: &[&str]) -> Result<Run, String> {
    let mut fs = MemoryFs::new();
    for (path, text) in files {
        fs.add(Path::new(ROOT).join(path), *text);
    }
    let stdlib: Vec<PathBuf> = stdlib.iter().map(|d| Path::new(ROOT).join(d)).collect();
    let result = platc::build::build_paths(&fs, &[PathBuf::from(ROOT)], &stdlib, Path::new(ROOT), &Default::default())?;
    Ok(Run { sources: result.loaded.sources, diags: result.diags.into_vec() })
}

/// Checks one service against the shared platform and the companion `payments`.
pub fn check_service(text: &str) -> Run {
    check_tree(&[("platform.kdl", PLATFORM), ("payments/service.kdl", PAYMENTS), ("checkout/service.kdl", text)], &[]).expect("an in-memory tree always loads")
}

/// Every problem with the spans of a run's diagnostics: each label must lie inside its file, with
/// start <= end, on UTF-8 character boundaries. Empty when all is well.
pub fn span_problems(run: &Run) -> Vec<String> {
    let mut out = Vec::new();
    for d in &run.diags {
        for (i, l) in std::iter::once(&d.primary).chain(&d.secondary).enumerate() {
            let f = run.sources.get(l.file);
            let (s, e, len) = (l.span.start, l.span.end, f.text.len());
            let what = if i == 0 { "primary".to_string() } else { format!("secondary #{i}") };
            if s > e || e > len {
                out.push(format!("{} {what} label of {}: span {s}..{e} outside {} (len {len})", d.code, d.message, f.name));
            } else if !f.text.is_char_boundary(s) || !f.text.is_char_boundary(e) {
                out.push(format!("{} {what} label of {}: span {s}..{e} not on char boundaries in {}", d.code, d.message, f.name));
            }
        }
    }
    out
}

/// The release binary, or a panic that says how to build it.
pub fn release_binary() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    let target = if target.is_absolute() { target } else { Path::new(env!("CARGO_MANIFEST_DIR")).join(target) };
    let bin = target.join("release").join(format!("platc{}", std::env::consts::EXE_SUFFIX));
    assert!(bin.is_file(), "the release binary {} does not exist: run `cargo build --release` first (.ci/run does it before the tests)", bin.display());
    bin
}

/// A fresh, unique directory under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
        let dir = std::env::temp_dir().join(format!("platc-test-{tag}-{}-{}-{nanos}", std::process::id(), N.fetch_add(1, Ordering::SeqCst)));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    /// Writes `text` at `rel` (creating parent directories) and returns the full path.
    pub fn write(&self, rel: &str, text: impl AsRef<[u8]>) -> PathBuf {
        let p = self.0.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).expect("create parent dir");
        std::fs::write(&p, text).expect("write temp file");
        p
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
