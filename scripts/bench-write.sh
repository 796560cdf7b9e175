#!/usr/bin/env bash
# The write stage's cost, A/B: `platc build` of a synthetic monorepo by the current platc and by
# the build of an older commit, with hyperfine (wall-clock medians), in rounds that alternate
# which binary runs first, so that a change in the machine's load (other builds on a shared
# machine) falls on both:
#
# - full build into an empty output directory (deleted, then `sync`, untimed);
# - no-change rebuild (`platc build` again over its own up-to-date output);
# - one-service-edit rebuild: before each run one service's spec flips between two versions
#   (its description), so every run rebuilds one changed service over the previous output.
#
#   scripts/bench-write.sh              # N = 1,000 against e546b48 (before the guarded paths,
#                                       # the journal and the output root's lock)
#   scripts/bench-write.sh 100 abc1234  # N and another base commit
#
# The base is built in a temporary git worktree with its own target directory (removed after;
# the binary is kept under $PLATC_BENCH_CACHE/base-COMMIT/). PLATC_BASE=path uses a given base
# binary instead; PLATC / PLATC_SYNTH as in scripts/bench.sh. Both binaries build the same tree,
# made by the current platc-synth. PLATC_BENCH_ROUNDS (default 5) rounds of PLATC_BENCH_RUNS
# (default 2) runs per binary and round;
# PLATC_BENCH_DIR (default /tmp/platc-bench) where the trees and outputs go (the disk there is
# what is measured: the journal and the lock are synced).
# Prints a markdown table; also written to $PLATC_BENCH_DIR/write.md. See docs/performance.md.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/peers/common.sh"

N="${1:-1000}"
BASE_COMMIT="${2:-e546b48}"
RUNS="${PLATC_BENCH_RUNS:-2}"
ROUNDS="${PLATC_BENCH_ROUNDS:-5}"
CACHE="${PLATC_BENCH_CACHE:-$HOME/.cache/platc-bench}"

ensure_tools
build_platc
q() { printf '%q' "$1"; }

if [ -z "${PLATC_BASE:-}" ]; then
    full="$(cd "$REPO" && git rev-parse --verify "$BASE_COMMIT^{commit}")"
    PLATC_BASE="$CACHE/base-${full:0:12}/platc"
    if [ ! -x "$PLATC_BASE" ]; then
        wt="$(mktemp -d "${TMPDIR:-/tmp}/platc-base-XXXXXX")"
        echo "building platc at $BASE_COMMIT (release, in $wt)..." >&2
        (cd "$REPO" && git worktree add --quiet --detach "$wt/src" "$full") >&2
        (cd "$wt/src" && CARGO_TARGET_DIR="$wt/target" cargo build --quiet --release -p platc --bin platc) >&2
        mkdir -p "$(dirname "$PLATC_BASE")"
        cp "$wt/target/release/platc" "$PLATC_BASE"
        (cd "$REPO" && git worktree remove --force "$wt/src")
        rm -rf "$wt"
    fi
fi

D="$WORK/write-n$N"
mkdir -p "$D"
src="$(tree "$N")"
EDITED="services/svc-00007/service.kdl"
declare -A BIN=([base]="$PLATC_BASE" [new]="$PLATC")
for v in base new; do
    # A copy of the tree per binary: the edit rebuilds flip a spec in it.
    rm -rf "$D/src-$v"
    cp -r "$src" "$D/src-$v"
    cp "$D/src-$v/$EDITED" "$D/$v-a.kdl"
    sed 's/^    description "\(.*\)"$/    description "\1, edited"/' "$D/$v-a.kdl" >"$D/$v-b.kdl"
    cmp -s "$D/$v-a.kdl" "$D/$v-b.kdl" && { echo "error: the edit of $EDITED changed nothing" >&2; exit 2; }
done
cmd() { echo "$(q "${BIN[$1]}") build $(q "$D/src-$1") --out $(q "$D/out-$1")"; }
flip() { local f; f="$(q "$D/src-$1/$EDITED")"; echo "if cmp -s $f $(q "$D/$1-a.kdl"); then cp $(q "$D/$1-b.kdl") $f; else cp $(q "$D/$1-a.kdl") $f; fi && sync"; }

# scenario NAME WARMUP PREPARE: ROUNDS hyperfine calls of both binaries into $D/NAME-R.json,
# base first in odd rounds, new first in even ones. PREPARE is "rm" (delete the output, sync),
# "flip" (edit the spec) or "" (nothing).
scenario() {
    local name="$1" warmup="$2" prepare="$3" r order v
    rm -f "$D/$name"-*.json
    for r in $(seq 1 "$ROUNDS"); do
        if [ $((r % 2)) = 1 ]; then order=(base new); else order=(new base); fi
        local args=()
        for v in "${order[@]}"; do
            case "$prepare" in
                rm) args+=(--prepare "rm -rf $(q "$D/out-$v") && sync") ;;
                flip) args+=(--prepare "$(flip "$v")") ;;
            esac
        done
        for v in "${order[@]}"; do args+=(-n "$v" "$(cmd "$v")"); done
        hyperfine --style basic --runs "$RUNS" --warmup "$warmup" --export-json "$D/$name-$r.json" "${args[@]}" >&2
    done
}

MACHINE="$(machine_line)"
echo "== full build, N=$N ($ROUNDS rounds of $RUNS runs each)" >&2
scenario full 0 rm
declare -A FILES
for v in base new; do FILES[$v]="$(find "$D/out-$v" -type f | wc -l)"; done
echo "== no-change rebuild, N=$N" >&2
scenario nochange 1 ""
echo "== one-service-edit rebuild, N=$N" >&2
scenario edit 1 flip
for v in base new; do cp "$D/$v-a.kdl" "$D/src-$v/$EDITED"; done

# row LABEL NAME: the table row of scenario NAME, all rounds merged: median wall, mean CPU,
# min-max, the ratio of the medians and of the CPU means.
row() {
    python3 - "$1" "$D/$2"-*.json <<'PY'
import glob, json, statistics, sys
def fmt(s):
    return f"{s * 1000:.1f} ms" if s < 1 else f"{s:.2f} s"
runs = {"base": [], "new": []}
for path in sys.argv[2:]:
    for r in json.load(open(path))["results"]:
        runs[r["command"]] += list(zip(r["times"], r["user"] if isinstance(r["user"], list) else [r["user"]] * len(r["times"]), r["system"] if isinstance(r["system"], list) else [r["system"]] * len(r["times"])))
stat = {}
for v, rs in runs.items():
    wall = [t for t, _, _ in rs]
    stat[v] = (statistics.median(wall), statistics.mean(u + s for _, u, s in rs), min(wall), max(wall))
b, n = stat["base"], stat["new"]
print(f"| {sys.argv[1]} | {fmt(b[0])} ({fmt(b[1])}) | {fmt(n[0])} ({fmt(n[1])}) | {n[0] / b[0]:.3g}x | {n[1] / b[1]:.3g}x | {fmt(b[2])}-{fmt(b[3])} | {fmt(n[2])}-{fmt(n[3])} |")
PY
}
{
    echo "Machine: $MACHINE; base $BASE_COMMIT; $(date -u +%Y-%m-%dT%H:%MZ); N = $N, $ROUNDS rounds of $RUNS runs per binary, outputs under $D ($(df -T "$D" | awk 'NR==2 {print $2}'))."
    echo
    echo "Times: median wall (mean CPU user+sys in parentheses) of all runs; the ratios are new / base of the medians and of the CPU means."
    echo "Files written by a full build: base ${FILES[base]}, new ${FILES[new]}."
    echo
    echo "| \`platc build\` | base $BASE_COMMIT | new | new / base (wall) | new / base (CPU) | base min-max | new min-max |"
    echo "|---|---:|---:|---:|---:|---:|---:|"
    row "full build" full
    row "no-change rebuild" nochange
    row "one-service-edit rebuild" edit
} | tee "$WORK/write.md"
