"""Sort every file under a directory into the validator(s) that must check it.

usage: classify.py ROOT
prints one "KIND<TAB>PATH" line per check to run; files that no validator covers are
reported on stderr as "unvalidated: PATH", so a new kind of artifact cannot slip through
unnoticed.

Classification is by content where a file name says too little (a .yaml file may be a
Kubernetes manifest, a Prometheus rule file, a promtool unit test or a GitLab pipeline), and by
location where the ecosystem itself uses location (.github/workflows/, Helm's templates/).
"""
import json
import os
import sys

import yaml

SKIP_DIRS = {".git", "node_modules", ".terraform", "target"}
YAML_EXT = (".yaml", ".yml")
KUSTOMIZATION = ("kustomization.yaml", "kustomization.yml", "Kustomization")


def load_yaml_docs(path):
    """All non-empty documents of a YAML stream, or None if it does not parse (yamllint then
    reports the syntax error, so classification need not)."""
    try:
        with open(path, encoding="utf-8") as f:
            return [d for d in yaml.safe_load_all(f) if d is not None]
    except Exception:
        return None


def is_dashboard(doc):
    # A bare dashboard model (what Grafana imports and the provisioning sidecar loads),
    # recognised by keys every dashboard has.
    return isinstance(doc, dict) and ("panels" in doc or ("schemaVersion" in doc and "title" in doc))


def main(root):
    files = []
    for d, dirs, fs in os.walk(root):
        dirs[:] = sorted(x for x in dirs if x not in SKIP_DIRS)
        files += [os.path.join(d, f) for f in sorted(fs)]

    # A chart is a directory holding Chart.yaml; subcharts vendored under charts/ are checked
    # through their parent (helm lints and renders them as part of it).
    charts = sorted(os.path.dirname(f) for f in files if os.path.basename(f) == "Chart.yaml")
    charts = [c for c in charts if not any(c != o and c.startswith(o + os.sep) for o in charts)]
    kusts = sorted({os.path.dirname(f) for f in files if os.path.basename(f) in KUSTOMIZATION})

    def under(f, dirs):
        return any(f.startswith(x + os.sep) for x in dirs)

    out = [("chart", c) for c in charts] + [("kustomize", k) for k in kusts]
    tfdirs = set()
    unvalidated = []
    for f in files:
        b = os.path.basename(f)
        rel = os.path.relpath(f, root).replace(os.sep, "/")
        ext = os.path.splitext(b)[1].lower()

        if under(f, charts):
            # Templates are Go templates, not YAML: they are checked through `helm template`.
            # Chart metadata and values files are plain YAML and get yamllint.
            if b in ("Chart.yaml", "Chart.lock") or (b.startswith("values") and ext in YAML_EXT):
                out.append(("yaml", f))
            continue

        if ext in (".tf", ".tfvars") or b.endswith(".tf.json"):
            tfdirs.add(os.path.dirname(f))
            continue
        if b == ".terraform.lock.hcl":
            continue  # part of a Terraform dir; `terraform init` verifies it
        if b in ("Dockerfile", "Containerfile") or b.startswith("Dockerfile.") or b.endswith(".Dockerfile"):
            out.append(("docker", f))
            continue

        if ext == ".json":
            try:
                with open(f, encoding="utf-8") as fh:
                    doc = json.load(fh)
            except Exception:
                out.append(("json", f))  # json.tool then reports the syntax error
                continue
            out.append(("grafana" if is_dashboard(doc) else "json", f))
            continue

        if ext not in YAML_EXT:
            unvalidated.append(rel)
            continue

        out.append(("yaml", f))
        if "/.github/workflows/" in "/" + rel:
            out.append(("gha", f))
            continue
        if b in ("action.yml", "action.yaml"):
            out.append(("gh-action", f))
            continue
        if b.endswith("gitlab-ci.yml") or b.endswith("gitlab-ci.yaml"):
            out.append(("gitlab", f))
            continue
        if under(f, kusts):
            continue  # validated through the `kubectl kustomize` output
        if b.endswith((".test.yaml", ".test.yml")):
            out.append(("promtest", f))
            continue
        docs = load_yaml_docs(f)
        if docs is None:
            continue
        dicts = [x for x in docs if isinstance(x, dict)]
        if any("apiVersion" in x and "kind" in x for x in dicts):
            out.append(("k8s", f))
        elif any("rule_files" in x and "tests" in x for x in dicts):
            out.append(("promtest", f))
        elif any(isinstance(x.get("groups"), list) for x in dicts):
            out.append(("promrules", f))

    out += [("tfdir", d) for d in sorted(tfdirs)]
    for kind, path in out:
        print(f"{kind}\t{path}")
    for rel in unvalidated:
        print(f"unvalidated: {rel}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1])
