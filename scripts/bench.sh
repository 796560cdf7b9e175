#!/usr/bin/env bash
# Whole-process benchmarks of platc (issue 9), with hyperfine: `platc check` and a full
# `platc build` (every artifact kind, every environment) of synthetic monorepos of N services,
# a rebuild with no input change, and `cp -r` of the same output tree (the floor: the cost of
# writing the bytes). Medians of wall time, and peak memory (max RSS from GNU time).
#
#   scripts/bench.sh                 # N = 1 100 1000 10000
#   scripts/bench.sh 100 1000        # other sizes
#
# Environment: PLATC_BENCH_DIR (work directory; default /tmp/platc-bench: N=10,000 needs ~4 GB),
# PLATC_BENCH_RUNS (hyperfine runs per command; default 10, 5 at N>=1,000, 3 at N>=10,000),
# PLATC / PLATC_SYNTH (use these binaries instead of building them).
# Installs hyperfine (apt-get, else cargo install) and GNU time when missing.
#
# Every full build and every copy starts from an empty output directory: the previous one is
# deleted and then `sync` runs, untimed. Without the sync, ext4 without a journal (as on the
# project's machines) skips the inodes deleted in the last 30 s whose table blocks are still
# dirty when it allocates new ones, and creating the next 600,000 files spends minutes in the
# kernel (`recently_deleted` in ext4_create): an artifact of deleting the tree right before
# each run, not something a user's build pays.
# Prints a markdown table; also written to $PLATC_BENCH_DIR/bench.md. See docs/performance.md.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/peers/common.sh"

if [ $# -gt 0 ]; then NS=("$@"); else read -r -a NS <<<"${PLATC_BENCH_NS:-1 100 1000 10000}"; fi

ensure_tools
build_platc
q() { printf '%q' "$1"; }

MACHINE="$(machine_line)"
ROWS=()
declare -A CHECK_S BUILD_S BUILD_RSS REBUILD_S CP_S
for n in "${NS[@]}"; do
    src="$(tree "$n")"
    d="$WORK/n$n"
    out="$d/out"
    cpdst="$d/cp"
    r="$(runs "$n")"
    echo "== N=$n ($r runs each)" >&2

    hyperfine --style basic --runs "$r" --warmup 1 --export-json "$d/check.json" \
        -n "check N=$n" "$(q "$PLATC") check $(q "$src")" >&2
    check_rss="$(peak_rss "$PLATC" check "$src")"

    hyperfine --style basic --runs "$r" --export-json "$d/build.json" --prepare "rm -rf $(q "$out") && sync" \
        -n "build N=$n" "$(q "$PLATC") build $(q "$src") --out $(q "$out")" >&2
    rm -rf "$out"; sync
    build_rss="$(peak_rss "$PLATC" build "$src" --out "$out")"
    files="$(find "$out" -type f | wc -l)"
    bytes="$(du -sb "$out" | cut -f1)"

    # No input change: the output tree from the build above is up to date.
    hyperfine --style basic --runs "$r" --warmup 1 --export-json "$d/rebuild.json" \
        -n "no-change rebuild N=$n" "$(q "$PLATC") build $(q "$src") --out $(q "$out")" >&2

    # The floor: copying the same output tree.
    hyperfine --style basic --runs "$r" --export-json "$d/cp.json" --prepare "rm -rf $(q "$cpdst") && sync" \
        -n "cp -r N=$n" "cp -r $(q "$out") $(q "$cpdst")" >&2
    rm -rf "$cpdst"; sync

    c="$(median "$d/check.json")"; b="$(median "$d/build.json")"; rb="$(median "$d/rebuild.json")"; cp="$(median "$d/cp.json")"
    CHECK_S[$n]="$c"; BUILD_S[$n]="$b"; BUILD_RSS[$n]="$build_rss"; REBUILD_S[$n]="$rb"; CP_S[$n]="$cp"
    ROWS+=("| $n | $(fmt_s "$c") ($(fmt_s "$(cpu "$d/check.json")")) | $(fmt_mb "$check_rss") | $(fmt_s "$b") ($(fmt_s "$(cpu "$d/build.json")")) | $(fmt_mb "$build_rss") | $files files, $(fmt_mb "$bytes") | $(fmt_s "$rb") ($(fmt_s "$(cpu "$d/rebuild.json")")) | $(ratio "$rb" "$b") | $(fmt_s "$cp") ($(fmt_s "$(cpu "$d/cp.json")")) | $(ratio "$b" "$cp") |")
done

verdict() { if python3 -c "import sys; sys.exit(0 if $1 else 1)"; then echo "met"; else echo "**not met**"; fi; }
{
    echo "Machine: $MACHINE; $(date -u +%Y-%m-%dT%H:%MZ)."
    echo
    echo "Times: median wall (mean CPU user+sys in parentheses). Ratios are of the wall medians."
    echo
    echo "| N | check | check peak RSS | full build | build peak RSS | output | no-change rebuild | rebuild / build | cp -r of output | build / cp -r |"
    echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    printf '%s\n' "${ROWS[@]}"
    echo
    echo "Targets (issue 9):"
    if [ -n "${CHECK_S[1000]:-}" ]; then
        echo "- \`platc check\` of 1,000 services well under 100 ms: $(fmt_s "${CHECK_S[1000]}"): $(verdict "${CHECK_S[1000]} < 0.1")"
    fi
    for n in "${NS[@]}"; do
        [ "$n" -ge 1000 ] || continue
        echo "- no-change rebuild <= 10% of a full build, N=$n: $(ratio "${REBUILD_S[$n]}" "${BUILD_S[$n]}"): $(verdict "${REBUILD_S[$n]} <= 0.1 * ${BUILD_S[$n]}")"
    done
    if [ -n "${BUILD_S[10000]:-}" ]; then
        echo "- full build of 10,000 within 2x of \`cp -r\`: $(ratio "${BUILD_S[10000]}" "${CP_S[10000]}"): $(verdict "${BUILD_S[10000]} <= 2 * ${CP_S[10000]}")"
        echo "- peak memory of that build <= 500 MB: $(fmt_mb "${BUILD_RSS[10000]}"): $(verdict "${BUILD_RSS[10000]} <= 500e6")"
    fi
} | tee "$WORK/bench.md"
