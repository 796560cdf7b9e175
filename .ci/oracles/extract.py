"""Pull the payloads that Kubernetes schema validation cannot see out of manifests.

usage: extract.py MANIFEST OUTDIR
prints one "KIND<TAB>FILE<TAB>LABEL" line per payload written to OUTDIR:
  promrules  the spec.groups of a PrometheusRule, as a rule file for `promtool check rules`
  grafana    a dashboard JSON embedded in a ConfigMap (Grafana sidecar convention: a data key
             ending in .json), for the dashboard schema

kubernetes-validate only knows built-in kinds: a PrometheusRule (a CRD) passes it with a
warning whatever its PromQL says, and a ConfigMap's data is just strings. These payloads are
where the generated monitoring actually lives, so they get their own validators.
"""
import json
import os
import sys

import yaml


def main(manifest, outdir):
    os.makedirs(outdir, exist_ok=True)
    try:
        with open(manifest, encoding="utf-8") as f:
            docs = [d for d in yaml.safe_load_all(f) if isinstance(d, dict)]
    except Exception:
        return  # not YAML: the caller's schema check reports that
    n = 0
    for d in docs:
        kind = d.get("kind")
        name = (d.get("metadata") or {}).get("name", "?")
        if kind == "PrometheusRule":
            n += 1
            path = os.path.join(outdir, f"promrule-{n}.yml")
            groups = (d.get("spec") or {}).get("groups", [])
            with open(path, "w", encoding="utf-8") as o:
                yaml.safe_dump({"groups": groups}, o, sort_keys=False)
            print(f"promrules\t{path}\tPrometheusRule/{name}")
        elif kind == "ConfigMap":
            for key, value in sorted((d.get("data") or {}).items()):
                if not key.endswith(".json") or not isinstance(value, str):
                    continue
                try:
                    doc = json.loads(value)
                except ValueError:
                    doc = None
                # An unparseable .json payload is still handed to the dashboard check so that
                # it fails there rather than being silently ignored.
                if doc is not None and not (isinstance(doc, dict) and ("panels" in doc or "schemaVersion" in doc)):
                    continue
                n += 1
                path = os.path.join(outdir, f"dashboard-{n}.json")
                with open(path, "w", encoding="utf-8") as o:
                    o.write(value)
                print(f"grafana\t{path}\tConfigMap/{name}[{key}]")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
