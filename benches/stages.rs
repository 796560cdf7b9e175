//! criterion benchmarks of each compiler stage on a synthetic monorepo (issue 9).
//!
//! Stages, each on the library API exactly as `platc build` calls it:
//!
//! | bench     | what is timed                                                               |
//! |-----------|-----------------------------------------------------------------------------|
//! | `load`    | `load::load` from the real disk (walk, read every spec, stdlib)             |
//! | `parse`   | `syntax::parse` of every loaded file (platform, services, stdlib types)     |
//! | `parse_kdl` | the same through the kdl crate only (the fast path's reference)           |
//! | `check`   | `check::check` (it parses again: parse + typed checking)                    |
//! | `lower`   | `Graph::build` + `resolve::resolve` + `lower::lower` for every environment   |
//! | `emit`    | `build::build` (lowers again, then every backend, in memory)                |
//! | `render`  | `build::render` for `prod` (`platc render`: the rendered manifests alone)   |
//! | `write`   | `write::write_all` of the finished output (with lock) into a fresh temp dir |
//! | `write_unchanged` | `write::write_all` of the same output over an identical tree (the no-change path) |
//!
//! Benchmark ids are `nN/STAGE` (`n1000/emit`); `cargo bench --bench stages -- emit` runs one
//! stage. The tree is generated once per group (per N) into a temp dir by `platc-synth`.
//!
//! Sizes: N = 100 and 1,000 (`PLATC_BENCH_N=100,1000,...` overrides). `PLATC_BENCH_QUICK=1`
//! is the CI smoke mode: N = 100 only, few samples, short warm-up and measurement, so that a
//! broken benchmark is noticed in well under a minute:
//!
//!     PLATC_BENCH_QUICK=1 cargo bench --bench stages -- --quick
//!
//! See docs/performance.md.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, SamplingMode, Throughput};

use platc::build;
use platc_check::fs::RealFs;
use platc_check::load::{self, Loaded};
use platc_emit::emit::KindFilter;
use platc_emit::lower::{self, BuildOptions};
use platc_resolve::graph::Graph;
use platc_syntax::diagnostics::Diagnostics;
use platc_write as write;

fn quick() -> bool {
    std::env::var("PLATC_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0")
}

fn sizes() -> Vec<usize> {
    if let Ok(list) = std::env::var("PLATC_BENCH_N") {
        let ns: Vec<usize> = list.split([',', ' ']).filter(|s| !s.is_empty()).map(|s| s.parse().expect("PLATC_BENCH_N: a list of numbers")).collect();
        if !ns.is_empty() {
            return ns;
        }
    }
    if quick() {
        vec![100]
    } else {
        vec![100, 1000]
    }
}

/// The `platc-synth` binary: `PLATC_SYNTH` if set, else the one next to this benchmark's
/// target directory, built on demand with the cargo that runs the benchmark.
fn synth_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("PLATC_SYNTH") {
        return PathBuf::from(p);
    }
    // This executable is <target>/<profile>/deps/stages-HASH.
    let exe = std::env::current_exe().expect("current exe");
    let profile_dir = exe.parent().and_then(Path::parent).expect("<target>/<profile>").to_path_buf();
    let target_dir = profile_dir.parent().expect("<target>").to_path_buf();
    let candidate = target_dir.join("release").join(format!("platc-synth{}", std::env::consts::EXE_SUFFIX));
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    // Always ask cargo: it rebuilds only when the generator changed, and is quick otherwise.
    let status = Command::new(cargo).args(["build", "--quiet", "--release", "-p", "platc", "--bin", "platc-synth", "--manifest-path"]).arg(&manifest).env("CARGO_TARGET_DIR", &target_dir).status();
    match status {
        Ok(s) if s.success() => {}
        _ if candidate.is_file() => eprintln!("warning: could not rebuild platc-synth; using {}", candidate.display()),
        _ => panic!("cannot build platc-synth (set PLATC_SYNTH=/path/to/platc-synth)"),
    }
    candidate
}

/// A synthetic monorepo of `n` services in a temp dir, loaded and checked once.
struct Tree {
    dir: tempfile::TempDir,
    loaded: Loaded,
}

impl Tree {
    fn new(synth: &Path, n: usize) -> Tree {
        let dir = tempfile::Builder::new().prefix(&format!("platc-bench-{n}-")).tempdir().expect("temp dir");
        let out = Command::new(synth).arg(n.to_string()).arg(dir.path()).output().expect("run platc-synth");
        assert!(out.status.success(), "platc-synth {n} failed: {}", String::from_utf8_lossy(&out.stderr));
        let loaded = load_tree(dir.path());
        let analysis = platc::build::analyze(&loaded);
        assert!(analysis.ok().is_some(), "the synthetic tree of {n} services has errors: {:?}", analysis.diags.iter().filter(|d| d.is_error()).map(|d| &d.message).take(5).collect::<Vec<_>>());
        Tree { dir, loaded }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }
}

/// The KDL files of a run (specs, platform.kdl, resource types, secret rules): what the syntax
/// stage parses. The backends' stdlib files (YAML, templates) are sources too, but not KDL.
fn kdl_files(loaded: &Loaded) -> impl Iterator<Item = (platc_syntax::source::FileId, &platc_syntax::source::SourceFile)> {
    let i = &loaded.inputs;
    i.platforms.iter().chain(&i.services).chain(&i.types).chain(&i.secret_rules).map(|&id| (id, loaded.sources.get(id)))
}

fn load_tree(root: &Path) -> Loaded {
    load::load(&RealFs, &[root.to_path_buf()], &[], root).expect("load the synthetic tree")
}

fn stages(c: &mut Criterion) {
    let synth = synth_binary();
    let opts = BuildOptions::default();
    for n in sizes() {
        let tree = Tree::new(&synth, n);
        let loaded = &tree.loaded;
        let analysis = platc::build::analyze(loaded);
        let (ws, graph) = analysis.ok().expect("checked above");
        let envs = platc_resolve::resolve::environments(ws, &opts).expect("environments");

        let mut g = c.benchmark_group(format!("n{n}"));
        g.throughput(Throughput::Elements(n as u64));
        if quick() {
            // Smoke mode: the fewest iterations criterion allows (10 samples of one iteration;
            // with `-- --quick`, criterion's own quick mode, 3 iterations).
            g.sample_size(10).sampling_mode(SamplingMode::Flat).warm_up_time(Duration::from_millis(1)).measurement_time(Duration::from_millis(500));
        } else if n >= 1000 {
            g.sample_size(10).sampling_mode(SamplingMode::Flat).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(8));
        } else {
            g.sample_size(20).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(4));
        }

        g.bench_function("load", |b| b.iter(|| load_tree(tree.root())));

        g.bench_function("parse", |b| {
            b.iter(|| {
                let mut diags = Diagnostics::new();
                let docs: Vec<_> = kdl_files(loaded).map(|(id, f)| platc_syntax::syntax::parse(id, f, &mut diags)).collect();
                assert!(!diags.has_errors());
                docs
            })
        });

        // The kdl crate alone (the reference the fast path falls back to), for the ratio.
        g.bench_function("parse_kdl", |b| {
            b.iter(|| {
                let mut diags = Diagnostics::new();
                let docs: Vec<_> = kdl_files(loaded).map(|(id, f)| platc_syntax::syntax::parse_kdl(id, f, &mut diags)).collect();
                assert!(!diags.has_errors());
                docs
            })
        });

        g.bench_function("check", |b| {
            b.iter(|| {
                let (ws, diags) = platc_check::check::check(&loaded.sources, &loaded.inputs, &platc_emit::VOCABULARY);
                assert!(!diags.has_errors());
                ws
            })
        });

        g.bench_function("lower", |b| {
            b.iter(|| {
                let mut diags = Diagnostics::new();
                let graph = Graph::build(ws, &mut diags);
                let model = platc_resolve::resolve::resolve(ws, &graph, &envs, &opts, &loaded.sources);
                let plan = lower::lower(&model, &opts);
                (graph, plan)
            })
        });

        g.bench_function("emit", |b| {
            b.iter(|| {
                let mut diags = Diagnostics::new();
                let out = build::build(loaded, ws, graph, &envs, &opts, &mut diags);
                assert!(!diags.has_errors());
                out
            })
        });

        let prod_opts = BuildOptions { env: Some("prod".into()), ..BuildOptions::default() };
        let prod = platc_resolve::resolve::environments(ws, &prod_opts).expect("prod");
        // Every object of prod, then the seven kinds of the peer comparison (scripts/compare-peers.sh).
        let peer_kinds = KindFilter::new(["Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "ServiceAccount", "NetworkPolicy", "PrometheusRule"]);
        for (name, kinds) in [("render", KindFilter::default()), ("render-peer-kinds", peer_kinds)] {
            g.bench_function(name, |b| {
                b.iter(|| {
                    let mut diags = Diagnostics::new();
                    let out = build::render(loaded, ws, graph, &prod, &prod_opts, &kinds, &mut diags);
                    assert!(!diags.has_errors() && !out.files.is_empty());
                    out
                })
            });
        }

        // The finished output with its lock file, as `platc build` writes it.
        let mut out = {
            let mut diags = Diagnostics::new();
            build::build(loaded, ws, graph, &envs, &opts, &mut diags)
        };
        let inputs = build::lock_inputs(loaded, ws);
        let lock = build::finalize(&mut out, &inputs, None, &|_| None);
        let files = out.files.len() as u64;

        g.throughput(Throughput::Elements(files));
        g.bench_function("write", |b| {
            b.iter_batched(
                || tempfile::Builder::new().prefix("platc-bench-out-").tempdir().expect("temp dir"),
                |dir| {
                    write::write_all(dir.path(), &out, None).expect("write");
                    dir // removed after timing
                },
                BatchSize::PerIteration,
            )
        });

        let existing = tempfile::Builder::new().prefix("platc-bench-out-").tempdir().expect("temp dir");
        write::write_all(existing.path(), &out, None).expect("write");
        g.bench_function("write_unchanged", |b| {
            b.iter(|| {
                let r = write::write_all(existing.path(), &out, Some(&lock)).expect("write");
                assert_eq!(r.written, 0, "nothing changed");
                r
            })
        });
        g.finish();
    }
}

criterion_group!(benches, stages);
criterion_main!(benches);
