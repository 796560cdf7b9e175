//! `platc-synth N DIR`: writes a synthetic monorepo of N services of realistic variety (ports,
//! env vars, probes, resources, backing resources, calls, SLOs, overrides, workers and cron
//! jobs) under DIR, for benchmarks. Deterministic: the same N gives the same tree.
//!
//! `platc-synth hostile SHAPE N DIR`: writes DIR/platform.kdl and one spec,
//! DIR/services/hostile/service.kdl, of a hostile shape of size N (issue 18; timed by
//! scripts/bench-hostile.sh), see [`HOSTILE`].

use std::fmt::Write as _;
use std::path::PathBuf;

const LANGS: [&str; 5] = ["go", "rust", "node", "python", "java"];
const TYPES: [&str; 8] = ["postgres", "redis", "bucket", "queue", "topic", "mysql", "mongodb", "amqp"];

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("hostile") {
        hostile_main(&args[2..]);
        return;
    }
    let (Some(n), Some(dir)) = (args.get(1).and_then(|n| n.parse::<usize>().ok()), args.get(2)) else {
        eprintln!("usage: platc-synth N DIR\n       platc-synth hostile SHAPE N DIR   (SHAPE: {})", shape_names());
        std::process::exit(2);
    };
    let dir = PathBuf::from(dir);
    if let Err(e) = write_tree(n, &dir) {
        eprintln!("error: {e}");
        std::process::exit(2);
    }
    eprintln!("wrote {n} services under {}", dir.display());
}

fn write_tree(n: usize, dir: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("platform.kdl"), PLATFORM)?;
    for i in 0..n {
        let name = format!("svc-{i:05}");
        let d = dir.join("services").join(&name);
        std::fs::create_dir_all(&d)?;
        std::fs::write(d.join("service.kdl"), service(i))?;
    }
    Ok(())
}

const PLATFORM: &str = r#"platform synth {
    cloud aws region="eu-west-1"
    registry "ghcr.io/synth"
    domain "synth.example.com"
    gitops argocd repo="https://github.com/synth/gitops.git"
    ingress ingress cluster-issuer=letsencrypt
    environment dev { provision in-cluster }
    environment staging { provision aws }
    environment prod protected=#true { provision aws }
    environment preview ttl="48h" { provision in-cluster }
    policies {
        min-replicas 2 env=prod
        require-owner
    }
}
"#;

/// A cheap deterministic pseudo-random number from the service index.
fn pick(i: usize, salt: usize, m: usize) -> usize {
    let x = (i as u64).wrapping_mul(6364136223846793005).wrapping_add((salt as u64).wrapping_mul(1442695040888963407));
    ((x >> 33) as usize) % m
}

fn service(i: usize) -> String {
    let mut s = String::new();
    let lang = LANGS[pick(i, 1, LANGS.len())];
    let _ = writeln!(s, "service svc-{i:05} {{");
    let _ = writeln!(s, "    owner team-{}", pick(i, 2, 40));
    let _ = writeln!(s, "    description \"Synthetic service {i}\"");
    let _ = writeln!(s, "    language {lang}");
    let _ = writeln!(s, "    port http 8080");
    if pick(i, 3, 4) == 0 {
        let _ = writeln!(s, "    port grpc 9090");
    }
    let _ = writeln!(s, "    port metrics 9102");
    let _ = writeln!(s, "    route \"/api/v{}/svc-{i:05}\" public=#{}", pick(i, 4, 3) + 1, if pick(i, 5, 2) == 0 { "true" } else { "false" });
    let _ = writeln!(s, "    health readiness=\"/ready\" liveness=\"/healthz\"");
    let _ = writeln!(s, "    env LOG_LEVEL=info FEATURE_FLAGS=\"a,b,c\" REGION=\"${{platform.region}}\"");
    let _ = writeln!(s, "    resources cpu=\"{}m\" memory=\"{}Mi\" cpu-limit=\"1\" memory-limit=\"1Gi\"", 100 + pick(i, 6, 4) * 50, 128 + pick(i, 7, 4) * 64);
    let _ = writeln!(s, "    scale min=2 max={} cpu=\"70%\"", 4 + pick(i, 8, 8));
    let uses = pick(i, 9, 3);
    for k in 0..uses {
        let ty = TYPES[pick(i, 10 + k, TYPES.len())];
        let _ = writeln!(s, "    uses {ty} res{k}");
        if ty != "topic" && ty != "bucket" && ty != "queue" {
            let _ = writeln!(s, "    env RES{k}_ADDR=\"${{resources.res{k}.host}}:${{resources.res{k}.port}}\"");
        }
    }
    // Calls go to lower-numbered services only: no cycles, realistic fan-out.
    let mut callees: Vec<usize> = (0..pick(i, 20, 4)).filter(|_| i > 0).map(|k| pick(i, 30 + k, i)).collect();
    callees.sort_unstable();
    callees.dedup();
    for callee in callees {
        let _ = writeln!(s, "    calls svc-{callee:05}");
    }
    if pick(i, 40, 5) == 0 {
        let _ = writeln!(s, "    worker jobs {{\n        command \"bin/worker\"\n    }}");
    }
    if pick(i, 41, 7) == 0 {
        let _ = writeln!(s, "    cron cleanup schedule=\"0 3 * * *\" {{\n        command \"bin/cleanup\"\n    }}");
    }
    let _ = writeln!(s, "    slo availability=\"99.{}%\" latency-p99=\"{}ms\"", 5 + pick(i, 50, 5), 200 + pick(i, 51, 5) * 100);
    let _ = writeln!(s, "    environment prod {{\n        scale min=3 max=20\n    }}");
    let _ = writeln!(s, "    environment preview {{\n        resources cpu=\"100m\" memory=\"128Mi\"\n    }}");
    s.push_str("}\n");
    s
}

/// Writes the spec of a hostile shape of size N.
type Spec = fn(usize) -> String;

/// The hostile shapes: name, what N counts, and the spec of size N. Each is what a pull request
/// could commit to make `platc check` slow; the limits and linear paths of issue 18 must keep
/// every one of them linear in N (or bounded, for the depths refused with E0004).
const HOSTILE: &[(&str, &str, Spec)] = &[
    ("props", "unknown properties on one node (E0102 each)", hostile_props),
    ("props-utf8", "the same on a line with one non-ASCII character", hostile_props_utf8),
    ("services", "`service` nodes in one file (E0003 for each after the first)", hostile_services),
    ("env", "distinct `env` lines in one service (valid)", hostile_env),
    ("blocks", "nested children blocks (E0004 at level 65)", hostile_blocks),
    ("comments", "nested `/*` comments (E0004 at level 65)", hostile_comments),
];

fn shape_names() -> String {
    HOSTILE.iter().map(|(name, _, _)| *name).collect::<Vec<_>>().join(", ")
}

fn hostile_main(args: &[String]) {
    let shape = args.first().and_then(|s| HOSTILE.iter().find(|(name, _, _)| name == s));
    let (Some((name, what, spec)), Some(n), Some(dir)) = (shape, args.get(1).and_then(|n| n.parse::<usize>().ok()), args.get(2)) else {
        eprintln!("usage: platc-synth hostile SHAPE N DIR");
        for (name, what, _) in HOSTILE {
            eprintln!("  {name:<9} N {what}");
        }
        std::process::exit(2);
    };
    let dir = std::path::Path::new(dir);
    let spec_dir = dir.join("services").join("hostile");
    let written = std::fs::create_dir_all(&spec_dir).and_then(|()| std::fs::write(dir.join("platform.kdl"), PLATFORM)).and_then(|()| std::fs::write(spec_dir.join("service.kdl"), spec(n)));
    if let Err(e) = written {
        eprintln!("error: {e}");
        std::process::exit(2);
    }
    eprintln!("wrote {name} {n} ({what}) under {}", dir.display());
}

/// A valid service (the lines of [`service`] 0 without its closing brace), for shapes that add
/// to a real spec.
fn service_head() -> String {
    let s = service(0);
    s.strip_suffix("}\n").expect("a service ends with its closing brace").to_string()
}

fn hostile_props(n: usize) -> String {
    let mut props = String::new();
    for i in 0..n {
        let _ = write!(props, " p{i}=1");
    }
    let s = service(0);
    let line = s.find("    description ").and_then(|at| s[at..].find('\n').map(|end| at + end)).expect("service 0 has a description");
    format!("{}{props}{}", &s[..line], &s[line..])
}

fn hostile_props_utf8(n: usize) -> String {
    hostile_props(n).replacen("description \"Synthetic service 0\"", "description \"Synthétique 0\"", 1)
}

fn hostile_services(n: usize) -> String {
    (0..n).map(service).collect()
}

fn hostile_env(n: usize) -> String {
    let mut s = service_head();
    for i in 0..n {
        let _ = writeln!(s, "    env VAR_{i}=\"value {i}\"");
    }
    s.push_str("}\n");
    s
}

fn hostile_blocks(n: usize) -> String {
    let mut s = service_head();
    s.push_str(&"a {\n".repeat(n));
    s.push_str(&"}\n".repeat(n));
    s.push_str("}\n");
    s
}

fn hostile_comments(n: usize) -> String {
    format!("{}{}\n{}", "/*".repeat(n), "*/".repeat(n), service(0))
}
