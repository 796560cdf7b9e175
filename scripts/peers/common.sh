# Shared by scripts/bench.sh and scripts/compare-peers.sh (sourced, not run).
# Sets REPO, WORK, PLATC, PLATC_SYNTH; defines need/apt_install/ensure_tools/build_platc/tree/
# median/cpu/peak_rss/fmt_s/fmt_mb/ratio/runs/machine_line.

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# Generated trees and outputs: large at N=10,000 (~0.6 M files), so not under the repository.
WORK="${PLATC_BENCH_DIR:-${TMPDIR:-/tmp}/platc-bench}"
mkdir -p "$WORK"

need() { command -v "$1" >/dev/null 2>&1; }

apt_install() {
    need apt-get || return 1
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    if [ -z "${_APT_UPDATED:-}" ]; then
        $sudo apt-get update -qq >/dev/null 2>&1 || true
        _APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}

# hyperfine (Debian package, else cargo install) and GNU time (for peak memory).
ensure_tools() {
    if ! need hyperfine; then
        echo "installing hyperfine..." >&2
        apt_install hyperfine || cargo install hyperfine --locked >&2
        need hyperfine || { echo "error: cannot install hyperfine" >&2; exit 2; }
    fi
    if [ ! -x /usr/bin/time ]; then
        echo "installing GNU time..." >&2
        apt_install time || { echo "error: cannot install GNU time (/usr/bin/time)" >&2; exit 2; }
    fi
    need python3 || apt_install python3
}

# Release build of platc and platc-synth (PLATC / PLATC_SYNTH override the binaries).
build_platc() {
    if [ -z "${PLATC:-}" ] || [ -z "${PLATC_SYNTH:-}" ]; then
        echo "building platc (release)..." >&2
        (cd "$REPO" && cargo build --quiet --release -p platc --bin platc --bin platc-synth) >&2
        local target="${CARGO_TARGET_DIR:-$REPO/target}"
        PLATC="${PLATC:-$target/release/platc}"
        PLATC_SYNTH="${PLATC_SYNTH:-$target/release/platc-synth}"
    fi
    PLATC="$(cd "$(dirname "$PLATC")" && pwd)/$(basename "$PLATC")"
}

# tree N: the synthetic monorepo of N services under $WORK/nN/src (generated once; regenerated
# when platc-synth changes).
tree() {
    local n="$1" dir="$WORK/n$1/src"
    local stamp
    stamp="$(sha256sum "$PLATC_SYNTH" | cut -c1-16)"
    if [ ! -f "$dir/.synth-$stamp" ]; then
        rm -rf "$dir"
        mkdir -p "$(dirname "$dir")"
        "$PLATC_SYNTH" "$n" "$dir" 2>/dev/null
        touch "$dir/.synth-$stamp"
    fi
    echo "$dir"
}

# median FILE: the median wall time (seconds) of hyperfine's --export-json FILE.
median() {
    python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][0]["median"])' "$1"
}

# cpu FILE: mean CPU time (user + system, seconds) per run of hyperfine's --export-json FILE.
# Less sensitive than wall time to other work on the machine (but not immune to it).
cpu() {
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]; print(r["user"] + r["system"])' "$1"
}

# peak_rss CMD...: peak resident memory (bytes) of one run of CMD, from GNU time.
peak_rss() {
    local f
    f="$(mktemp)"
    /usr/bin/time -f '%M' -o "$f" "$@" >/dev/null 2>&1 || { echo "error: failed: $*" >&2; rm -f "$f"; return 1; }
    echo $(( $(tail -1 "$f") * 1024 ))
    rm -f "$f"
}

# fmt_s SECONDS: "12.3 ms" / "1.23 s".
fmt_s() {
    python3 -c 'import sys; s=float(sys.argv[1]); print(f"{s*1000:.1f} ms" if s < 1 else f"{s:.2f} s")' "$1"
}

# fmt_mb BYTES: "12.3 MB" (10^6 bytes).
fmt_mb() {
    python3 -c 'import sys; print(f"{int(sys.argv[1])/1e6:.1f} MB")' "$1"
}

# ratio A B: A / B with two significant decimals, e.g. "0.12x".
ratio() {
    python3 -c 'import sys; a,b=float(sys.argv[1]),float(sys.argv[2]); r=a/b; print(f"{r:.3g}x")' "$1" "$2"
}

# runs N: hyperfine runs for a workload of N services (PLATC_BENCH_RUNS overrides).
runs() {
    if [ -n "${PLATC_BENCH_RUNS:-}" ]; then echo "$PLATC_BENCH_RUNS"; return; fi
    if [ "$1" -ge 10000 ]; then echo 3; elif [ "$1" -ge 1000 ]; then echo 5; else echo 10; fi
}

machine_line() {
    local version="${PLATC_BENCH_LABEL:-}"
    if [ -z "$version" ]; then
        version="$(cd "$REPO" && git rev-parse --short HEAD 2>/dev/null || echo unknown)"
        (cd "$REPO" && git diff --quiet HEAD -- compiler stdlib 2>/dev/null) || version="$version with uncommitted changes"
    fi
    echo "$(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr), load average at start $(cut -d' ' -f1-3 /proc/loadavg), platc $version"
}
