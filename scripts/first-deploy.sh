#!/usr/bin/env bash
# first-deploy.sh - time to first deploy: from nothing to a deployable, validated service.
#
#   scripts/first-deploy.sh [--lang go|rust|node|python|java] [--name NAME] [--with-postgres] [--keep]
#
# In a fresh temporary directory it runs, and times each step:
#   1. platc init                          a platform.kdl, as a platform team starts
#   2. platc new NAME --lang LANG          the service, as a developer starts
#   3. platc build                         every artifact: chart, manifests, CI, Dockerfile, ...
#   4. .ci/oracles.sh check                the validators the artifacts' users run (helm 3 and 4,
#                                          kubernetes-validate, terraform, actionlint, promtool,
#                                          hadolint, Grafana schema, checkov)
# then prints the wall time, the lines the developer wrote (service.kdl) and the lines platc
# generated, by artifact kind. Exit status: 0 when every step passed.
#
#   --with-postgres   uncomment the scaffold's `uses postgres db` example first (the first edit
#                     a developer might make): Terraform is then generated for the environments
#                     the platform provisions with `aws`, and validated
#   --keep            keep the temporary directory (its path is printed)
#
# Environment: PLATC, the platc binary (default: target/release/platc, else target/debug/platc,
# of this repository). The validators come from `.ci/oracles.sh install`; a missing one fails.
# checkov is enforced with the skips of .ci/run, as for the examples (override with
# PLATC_CHECKOV / PLATC_CHECKOV_SKIP). See docs/new-service.md.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LANG_=go NAME=hello WITH_PG=0 KEEP=0
while [ $# -gt 0 ]; do
  case $1 in
    --lang) LANG_=${2:?--lang needs a value}; shift 2 ;;
    --lang=*) LANG_=${1#--lang=}; shift ;;
    --name) NAME=${2:?--name needs a value}; shift 2 ;;
    --name=*) NAME=${1#--name=}; shift ;;
    --with-postgres) WITH_PG=1; shift ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '2,25p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "first-deploy.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

PLATC=${PLATC:-}
if [ -z "$PLATC" ]; then
  for p in "$HERE/target/release/platc" "$HERE/target/debug/platc"; do
    if [ -x "$p" ]; then PLATC=$p; break; fi
  done
fi
[ -n "$PLATC" ] && [ -x "$PLATC" ] || { echo "first-deploy.sh: no platc binary: run 'cargo build --release' (or set PLATC)" >&2; exit 2; }
"$PLATC" new --help >/dev/null 2>&1 || { echo "first-deploy.sh: $PLATC has no 'new' command: rebuild it ('cargo build --release')" >&2; exit 2; }

# Hold the output to the bar of .ci/run: checkov findings fail, except the skips it lists.
export PLATC_CHECKOV=${PLATC_CHECKOV:-enforce}
if [ -z "${PLATC_CHECKOV_SKIP+set}" ]; then
  PLATC_CHECKOV_SKIP=$(sed -n 's/^export PLATC_CHECKOV_SKIP=//p' "$HERE/.ci/run" | tr -d '"')
  export PLATC_CHECKOV_SKIP
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/platc-first-deploy.XXXXXX")
cleanup() { if [ "$KEEP" = 1 ]; then echo "kept: $WORK"; else rm -rf "$WORK"; fi; }
trap cleanup EXIT
SVC="$WORK/services/$NAME"

now() { date +%s%N; }
secs() { awk -v ns="$1" 'BEGIN { printf "%.2f", ns / 1e9 }'; }
declare -a STEPS=() TIMES=()
# step LABEL CMD...: run, time, and stop the script (with the command's output) on failure.
step() {
  local label=$1; shift
  local t0 t1 log="$WORK/.step.log"
  t0=$(now)
  if ! "$@" > "$log" 2>&1; then
    echo "FAILED: $label" >&2; sed 's/^/  | /' "$log" >&2; exit 1
  fi
  t1=$(now)
  STEPS+=("$label"); TIMES+=("$((t1 - t0))")
}

T0=$(now)
step "platc init" "$PLATC" init --dir "$WORK" --name acme
step "platc new $NAME --lang $LANG_" "$PLATC" new "$NAME" --lang "$LANG_" --dir "$SVC" --owner team-first
if [ "$WITH_PG" = 1 ]; then
  sed -i -e 's|^    // uses postgres db$|    uses postgres db|' -e 's|^    // env DATABASE_URL=|    env DATABASE_URL=|' "$SVC/service.kdl"
  grep -q '^    uses postgres db$' "$SVC/service.kdl" || { echo "first-deploy.sh: the scaffold has no '// uses postgres db' line to turn on" >&2; exit 1; }
fi
step "platc build" "$PLATC" build "$WORK"
step "platc build --check" "$PLATC" build "$WORK" --check
step "validators (.ci/oracles.sh check)" bash "$HERE/.ci/oracles.sh" check "$WORK"
TOTAL=$(( $(now) - T0 ))
VALIDATION_LOG="$WORK/.step.log"

# ---------------------------------------------------------------------------------- report
# Lines of the generated files by kind; every file platc wrote is counted once.
kind_of() {
  case $1 in
    .github/*|.gitlab-ci.yml) echo ci ;;
    deploy/gitops/*) echo gitops ;;
    deploy/*/chart/*) echo helm ;;
    deploy/*/manifests/*) echo manifests ;;
    deploy/*/terraform/*) echo terraform ;;
    deploy/*/alerts/*) echo alerts ;;
    deploy/*/dashboards/*) echo dashboards ;;
    deploy/*/Dockerfile) echo dockerfile ;;
    deploy/platc.lock) echo lock ;;
    *) echo other ;;
  esac
}
KINDS="helm manifests terraform ci dockerfile alerts dashboards gitops other"
declare -A LINES=() FILES=()
for k in $KINDS lock; do LINES[$k]=0; FILES[$k]=0; done
while IFS= read -r -d '' f; do
  rel=${f#"$WORK/"}
  k=$(kind_of "$rel")
  LINES[$k]=$(( ${LINES[$k]} + $(wc -l < "$f") ))
  FILES[$k]=$(( ${FILES[$k]} + 1 ))
done < <(find "$WORK/deploy" "$WORK/.github" "$WORK/.gitlab-ci.yml" -type f -print0 2>/dev/null)

spec_total=$(wc -l < "$SVC/service.kdl")
spec_code=$(grep -cvE '^[[:space:]]*(//.*)?$' "$SVC/service.kdl" || true)
platform_code=$(grep -cvE '^[[:space:]]*(//.*)?$' "$WORK/platform.kdl" || true)
app_files=$(find "$SVC" -type f ! -name service.kdl | wc -l)
app_lines=$(find "$SVC" -type f ! -name service.kdl -exec cat {} + | wc -l)
checks=$(tail -n 1 "$VALIDATION_LOG")

echo "time to first deploy: $LANG_ service '$NAME'$([ "$WITH_PG" = 1 ] && echo ' using postgres')"
echo
printf '  %-40s %8s\n' "step" "seconds"
for i in "${!STEPS[@]}"; do printf '  %-40s %8s\n' "${STEPS[$i]}" "$(secs "${TIMES[$i]}")"; done
printf '  %-40s %8s\n' "wall time" "$(secs "$TOTAL")"
echo
echo "  validators: $checks"
echo
echo "written by the developer: service.kdl, $spec_total lines ($spec_code without comments and blank lines)"
echo "scaffolded by platc new:  $app_files files, $app_lines lines of app, build files and README (theirs to edit)"
echo "written once by the platform team: platform.kdl, $platform_code lines without comments"
echo
echo "generated by platc build:"
printf '  %-12s %7s %7s\n' "kind" "files" "lines"
gen_lines=0 gen_files=0
for k in $KINDS; do
  [ "$k" = other ] && [ "${FILES[$k]}" = 0 ] && continue
  printf '  %-12s %7d %7d\n' "$k" "${FILES[$k]}" "${LINES[$k]}"
  gen_lines=$(( gen_lines + ${LINES[$k]} )); gen_files=$(( gen_files + ${FILES[$k]} ))
done
printf '  %-12s %7d %7d   (plus deploy/platc.lock, %d lines)\n' "total" "$gen_files" "$gen_lines" "${LINES[lock]}"
echo
awk -v g="$gen_lines" -v s="$spec_code" 'BEGIN { if (s > 0) printf "%d lines of spec -> %d generated lines (%.0f per line of spec)\n", s, g, g / s }'
