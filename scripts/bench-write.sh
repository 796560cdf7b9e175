#!/usr/bin/env bash
# The write stage's cost, A/B: `platc build` of a synthetic monorepo by the current platc and by
# the build of an older commit, with hyperfine (wall-clock medians; both commands in one
# hyperfine call, so that its summary gives the ratio too):
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
# made by the current platc-synth. PLATC_BENCH_RUNS (default 10) sets hyperfine's runs;
# PLATC_BENCH_DIR (default /tmp/platc-bench) where the trees and outputs go (the disk there is
# what is measured: the journal and the lock are synced).
# Prints a markdown table; also written to $PLATC_BENCH_DIR/write.md. See docs/performance.md.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/peers/common.sh"

N="${1:-1000}"
BASE_COMMIT="${2:-e546b48}"
RUNS="${PLATC_BENCH_RUNS:-10}"
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

MACHINE="$(machine_line)"
echo "== full build, N=$N ($RUNS runs each)" >&2
hyperfine --style basic --runs "$RUNS" --export-json "$D/full.json" \
    --prepare "rm -rf $(q "$D/out-base") && sync" --prepare "rm -rf $(q "$D/out-new") && sync" \
    -n "base $BASE_COMMIT" "$(cmd base)" -n "new" "$(cmd new)" >&2
declare -A FILES
for v in base new; do FILES[$v]="$(find "$D/out-$v" -type f | wc -l)"; done

echo "== no-change rebuild, N=$N" >&2
hyperfine --style basic --runs "$RUNS" --warmup 1 --export-json "$D/nochange.json" \
    -n "base $BASE_COMMIT" "$(cmd base)" -n "new" "$(cmd new)" >&2

echo "== one-service-edit rebuild, N=$N" >&2
hyperfine --style basic --runs "$RUNS" --warmup 1 --export-json "$D/edit.json" \
    --prepare "$(flip base)" --prepare "$(flip new)" \
    -n "base $BASE_COMMIT" "$(cmd base)" -n "new" "$(cmd new)" >&2
for v in base new; do cp "$D/$v-a.kdl" "$D/src-$v/$EDITED"; done

# stat FILE I KEY: result I's KEY of hyperfine's JSON.
stat() { python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][int(sys.argv[2])]; print(r["user"] + r["system"] if sys.argv[3] == "cpu" else r[sys.argv[3]])' "$@"; }
row() {
    local f="$D/$2.json"
    local b n
    b="$(stat "$f" 0 median)"; n="$(stat "$f" 1 median)"
    echo "| $1 | $(fmt_s "$b") ($(fmt_s "$(stat "$f" 0 cpu)")) | $(fmt_s "$n") ($(fmt_s "$(stat "$f" 1 cpu)")) | $(ratio "$n" "$b") | $(fmt_s "$(stat "$f" 0 min)")-$(fmt_s "$(stat "$f" 0 max)") | $(fmt_s "$(stat "$f" 1 min)")-$(fmt_s "$(stat "$f" 1 max)") |"
}
{
    echo "Machine: $MACHINE; base $BASE_COMMIT; $(date -u +%Y-%m-%dT%H:%MZ); N = $N, $RUNS runs each, outputs under $D ($(df -T "$D" | awk 'NR==2 {print $2}'))."
    echo
    echo "Times: median wall (mean CPU user+sys in parentheses); new / base is the ratio of the medians."
    echo "Files written by a full build: base ${FILES[base]}, new ${FILES[new]}."
    echo
    echo "| \`platc build\` | base $BASE_COMMIT | new | new / base | base min-max | new min-max |"
    echo "|---|---:|---:|---:|---:|---:|"
    row "full build" full
    row "no-change rebuild" nochange
    row "one-service-edit rebuild" edit
} | tee "$WORK/write.md"
