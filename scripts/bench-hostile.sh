#!/usr/bin/env bash
# Whole-process benchmarks of `platc check` on hostile input (issue 18), with hyperfine: each
# shape of `platc-synth hostile` (one spec that a pull request could commit to make platc slow)
# at three sizes, so that the growth is visible, timed with its diagnostics rendered (stderr
# to a file, the human format), as a user or CI sees it.
#
#   scripts/bench-hostile.sh                      # every shape at its three sizes
#   scripts/bench-hostile.sh props blocks         # some shapes
#
# Shapes and sizes (PLATC_HOSTILE_SIZES_<SHAPE>="a b c" overrides one shape's sizes):
#   props     50,000 100,000 200,000   unknown properties on one node (E0102 each)
#   props-utf8  (the same sizes)       the same on a line with one non-ASCII character, with
#                                      --format json: every diagnostic rendered, none capped
#   services   2,500   5,000  10,000   `service` nodes in one file (E0003 for each after the first)
#   env       75,000 150,000 300,000   distinct `env` lines in one service (valid: exit 0)
#   blocks    25,000  50,000 100,000   nested children blocks (E0004)
#   comments  25,000  50,000 100,000   nested `/*` comments before the service (E0004)
#
# The baseline is `platc check` of the same tree with only the plain service (`env 0`): the
# process's fixed cost (the stdlib), subtracted to give each size's net time.
#
# Exits 1 (after printing the table) when a check fails:
# - a run exits with another status than its shape's, or its stderr lacks the shape's code;
# - growth is clearly super-linear: from the smallest to the largest size, the median time, or
#   the net time where the smallest net is above the noise floor (5 ms or 3 standard deviations
#   of the baseline, whichever is larger), grows more than 2.5x the size ratio (a quadratic path
#   gives 16x for 4x the size, a linear one 4x);
# - a shape refused with E0004 takes 1 s or more in any run at its largest size (issue 18: a
#   depth of 100,000 nested blocks gives a diagnostic within 1 s).
#
# Environment: PLATC_BENCH_DIR (work directory; default /tmp/platc-bench), PLATC_BENCH_RUNS
# (hyperfine runs per command; default 10), PLATC / PLATC_SYNTH (use these binaries instead of
# building them). Installs hyperfine (apt-get, else cargo install) and GNU time when missing.
# Prints a markdown table; also written to $PLATC_BENCH_DIR/hostile.md, hyperfine's JSON under
# $PLATC_BENCH_DIR/hostile/. See docs/performance.md.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/peers/common.sh"

ALL_SHAPES=(props props-utf8 services env blocks comments)
declare -A SIZES=([props]="50000 100000 200000" [props-utf8]="50000 100000 200000" [services]="2500 5000 10000" [env]="75000 150000 300000" [blocks]="25000 50000 100000" [comments]="25000 50000 100000")
# What each shape must give: the exit status and the code its report names.
declare -A WANT_RC=([props]=1 [props-utf8]=1 [services]=1 [env]=0 [blocks]=1 [comments]=1)
declare -A WANT_CODE=([props]=E0102 [props-utf8]=E0102 [services]=E0003 [env]="no problems" [blocks]=E0004 [comments]=E0004)
GROWTH_LIMIT=2.5
DEPTH_LIMIT_S=1
# Options of `platc check` per shape (default: the human report).
declare -A ARGS=([props-utf8]="--format json")

if [ $# -gt 0 ]; then SHAPES=("$@"); else SHAPES=("${ALL_SHAPES[@]}"); fi
for s in "${SHAPES[@]}"; do
    [ -n "${SIZES[$s]:-}" ] || { echo "error: unknown shape $s (shapes: ${ALL_SHAPES[*]})" >&2; exit 2; }
    override="PLATC_HOSTILE_SIZES_${s^^}"
    override="${override//-/_}"
    [ -z "${!override:-}" ] || SIZES[$s]="${!override}"
done

ensure_tools
export NO_COLOR=1
build_platc
q() { printf '%q' "$1"; }
RUNS="${PLATC_BENCH_RUNS:-10}"
HW="$WORK/hostile"
mkdir -p "$HW"
STAMP="$(sha256sum "$PLATC_SYNTH" | cut -c1-16)"

# hostile_tree SHAPE N: sets TREE to the tree of one hostile spec, $HW/SHAPE-N/src (generated
# once; regenerated when platc-synth changes).
hostile_tree() {
    TREE="$HW/$1-$2/src"
    if [ ! -f "$TREE/.synth-$STAMP" ]; then
        rm -rf "$TREE"
        "$PLATC_SYNTH" hostile "$1" "$2" "$TREE" 2>/dev/null || { echo "error: $PLATC_SYNTH hostile $1 $2 failed" >&2; exit 2; }
        touch "$TREE/.synth-$STAMP"
    fi
}

# py EXPR ARGS...: evaluates a Python expression over sys.argv (a = argv[1], b = argv[2], ...).
py() { python3 -c "import sys, json; a = sys.argv[1:]; print($1)" "${@:2}"; }
stddev() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][0]["stddev"] or 0)' "$1"; }
slowest() { python3 -c 'import json,sys; print(max(json.load(open(sys.argv[1]))["results"][0]["times"]))' "$1"; }

# time_check NAME TREE [ARGS]: hyperfine of `platc check [ARGS] TREE` (no shell; the report
# rendered to /dev/null, not a terminal; its exit status ignored) into $HW/NAME.json, then one
# run under GNU time for the exit status, the report (NAME.out and NAME.err) and the peak RSS.
time_check() {
    local name="$1" src="$2" args="${3:-}"
    hyperfine --style basic --runs "$RUNS" --warmup 1 --ignore-failure --shell=none --export-json "$HW/$name.json" \
        -n "check $name" "$(q "$PLATC") check $args $(q "$src")" >&2
    set +e
    # shellcheck disable=SC2086 # ARGS are words
    /usr/bin/time -f '%M' -o "$HW/$name.rss" "$PLATC" check $args "$src" >"$HW/$name.out" 2>"$HW/$name.err"
    RC=$?
    set -e
    RSS=$(( $(tail -1 "$HW/$name.rss") * 1024 ))
    cat "$HW/$name.out" "$HW/$name.err" >"$HW/$name.report"
}

MACHINE="$(machine_line)"
FAILURES=()
ROWS=()

echo "== baseline (one plain service, $RUNS runs)" >&2
hostile_tree env 0
base_src="$TREE"
time_check baseline "$base_src"
[ "$RC" = 0 ] || FAILURES+=("the baseline tree does not check (exit $RC): $(head -c 500 "$HW/baseline.err")")
BASE="$(median "$HW/baseline.json")"
FLOOR="$(py 'max(0.005, 3 * float(a[0]))' "$(stddev "$HW/baseline.json")")"
ROWS+=("| baseline | 1 service | $(fmt_mb "$(du -b "$base_src/services/hostile/service.kdl" | cut -f1)") | $(fmt_s "$BASE") ($(fmt_s "$(cpu "$HW/baseline.json")")) | | | $(fmt_mb "$RSS") | exit $RC | $(wc -c <"$HW/baseline.report") B | |")

for s in "${SHAPES[@]}"; do
    read -r -a ns <<<"${SIZES[$s]}"
    declare -A T=() NET=()
    for n in "${ns[@]}"; do
        echo "== $s N=$n ($RUNS runs)" >&2
        hostile_tree "$s" "$n"
        src="$TREE"
        time_check "$s-$n" "$src" "${ARGS[$s]:-}"
        t="$(median "$HW/$s-$n.json")"
        T[$n]="$t"
        NET[$n]="$(py 'max(0.0, float(a[0]) - float(a[1]))' "$t" "$BASE")"
        ok="exit $RC"
        if [ "$RC" != "${WANT_RC[$s]}" ] || ! grep -q "${WANT_CODE[$s]}" "$HW/$s-$n.report"; then
            FAILURES+=("$s N=$n: exit $RC (want ${WANT_RC[$s]}), report $(grep -q "${WANT_CODE[$s]}" "$HW/$s-$n.report" && echo has || echo lacks) ${WANT_CODE[$s]}: $(head -c 300 "$HW/$s-$n.report")")
            ok="**$ok**"
        fi
        [ "${WANT_RC[$s]}" = 0 ] || ok="$ok, ${WANT_CODE[$s]}"
        per="$(py 'f"{float(a[0]) / int(a[1]) * 1e6:.2f} us"' "${NET[$n]}" "$n")"
        row="| $s | $n | $(fmt_mb "$(du -b "$src/services/hostile/service.kdl" | cut -f1)") | $(fmt_s "$t") ($(fmt_s "$(cpu "$HW/$s-$n.json")")) | $(fmt_s "${NET[$n]}") | $per | $(fmt_mb "$RSS") | $ok | $(wc -c <"$HW/$s-$n.report") B |"
        if [ "$n" = "${ns[-1]}" ]; then
            small="${ns[0]}"
            size_ratio="$(py 'int(a[1]) / int(a[0])' "$small" "$n")"
            time_ratio="$(py 'float(a[1]) / float(a[0])' "${T[$small]}" "$t")"
            growth="time $(ratio "$t" "${T[$small]}")"
            if py 'float(a[0]) >= float(a[1])' "${NET[$small]}" "$FLOOR" | grep -q True; then
                net_ratio="$(py 'float(a[1]) / float(a[0])' "${NET[$small]}" "${NET[$n]}")"
                growth="$growth, net $(ratio "${NET[$n]}" "${NET[$small]}")"
            else
                net_ratio=0
                growth="$growth, net below the noise floor"
            fi
            growth="$growth, for $(py 'f"{float(a[0]):.3g}x"' "$size_ratio") the size"
            if py 'max(float(a[0]), float(a[1])) > float(a[2]) * float(a[3])' "$time_ratio" "$net_ratio" "$GROWTH_LIMIT" "$size_ratio" | grep -q True; then
                FAILURES+=("$s: super-linear growth from N=$small to N=$n: $growth (limit ${GROWTH_LIMIT}x the size ratio)")
                growth="**$growth**"
            fi
            if [ "${WANT_CODE[$s]}" = E0004 ]; then
                worst="$(slowest "$HW/$s-$n.json")"
                growth="$growth; slowest run $(fmt_s "$worst")"
                if py 'float(a[0]) >= float(a[1])' "$worst" "$DEPTH_LIMIT_S" | grep -q True; then
                    FAILURES+=("$s N=$n: a run took $(fmt_s "$worst"), not within ${DEPTH_LIMIT_S} s")
                    growth="**$growth**"
                fi
            fi
            row="$row $growth |"
        else
            row="$row |"
        fi
        ROWS+=("$row")
    done
    unset T NET
done

{
    echo "Machine: $MACHINE; $(date -u +%Y-%m-%dT%H:%MZ); $RUNS runs each."
    echo
    echo "\`platc check\` of one hostile spec (and platform.kdl). Times: median wall (mean CPU user+sys in"
    echo "parentheses); net: minus the baseline's median (the process's fixed cost); per unit: net / N;"
    echo "report: the bytes printed (the human report, but for props-utf8: --format json)."
    echo
    echo "| shape | N | spec | check | net | per unit | peak RSS | result | report | growth, smallest to largest |"
    echo "|---|---:|---:|---:|---:|---:|---:|---|---:|---|"
    printf '%s\n' "${ROWS[@]}"
    echo
    if [ ${#FAILURES[@]} -eq 0 ]; then
        echo "All checks passed: expected exit status and code, growth within ${GROWTH_LIMIT}x the size ratio, E0004 within ${DEPTH_LIMIT_S} s."
    else
        echo "FAILED:"
        printf -- '- %s\n' "${FAILURES[@]}"
    fi
} | tee "$WORK/hostile.md"
[ ${#FAILURES[@]} -eq 0 ]
