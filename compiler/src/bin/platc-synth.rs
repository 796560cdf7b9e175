//! `platc-synth N DIR`: writes a synthetic monorepo of N services of realistic variety (ports,
//! env vars, probes, resources, backing resources, calls, SLOs, overrides, workers and cron
//! jobs) under DIR, for benchmarks. Deterministic: the same N gives the same tree.

use std::fmt::Write as _;
use std::path::PathBuf;

const LANGS: [&str; 5] = ["go", "rust", "node", "python", "java"];
const TYPES: [&str; 6] = ["postgres", "redis", "bucket", "queue", "topic", "mysql"];

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(n), Some(dir)) = (args.get(1).and_then(|n| n.parse::<usize>().ok()), args.get(2)) else {
        eprintln!("usage: platc-synth N DIR");
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
