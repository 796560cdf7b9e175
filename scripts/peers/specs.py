#!/usr/bin/env python3
"""Input data for the peer tools of scripts/compare-peers.sh.

Reads a synthetic monorepo written by `platc-synth N DIR` (DIR/platform.kdl and
DIR/services/*/service.kdl) and writes one JSON file with what the peer programs need to
generate the same Kubernetes objects as `platc build --env ENV`: per service its name, owner,
image, ports, env vars, backing resources, requests/limits, replicas and CPU target in ENV
(the environment override applied), probes, calls, callers and SLO.

It reads the subset of KDL that platc-synth writes (one node per line, `key=value` properties,
quoted strings), not KDL in general. Peers get the data pre-digested: overrides merged,
`${...}` references resolved, callers (the reverse of `calls`) and resource-type ports and
outputs looked up. That is work platc does itself in the timed run, so the comparison errs in
the peers' favour.

usage: specs.py TREE_DIR OUT_JSON [--env prod] [--stdlib STDLIB_DIR]
"""

import argparse
import json
import os
import re
import shlex
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_STDLIB = os.path.normpath(os.path.join(HERE, "..", "..", "stdlib"))


def tokens(line):
    """A KDL line of the synth subset as (name, args, props)."""
    parts = shlex.split(line.strip().rstrip("{").strip(), posix=True)
    if not parts:
        return None, [], {}
    args, props = [], {}
    for p in parts[1:]:
        m = re.match(r"^([A-Za-z][A-Za-z0-9_-]*)=(.*)$", p)
        if m:
            props[m.group(1)] = m.group(2)
        else:
            args.append(p)
    return parts[0], args, props


def kdl_value(v):
    if v in ("#true", "#false"):
        return v == "#true"
    if re.fullmatch(r"-?\d+", v):
        return int(v)
    return v


def read_types(stdlib):
    """resource-type NAME port=P { output NAME secret=#true ... } from stdlib/types/*.kdl."""
    types = {}
    tdir = os.path.join(stdlib, "types")
    for f in sorted(os.listdir(tdir)):
        if not f.endswith(".kdl"):
            continue
        name, port, outputs = None, None, []
        with open(os.path.join(tdir, f), encoding="utf-8") as fh:
            for line in fh:
                s = line.strip()
                if s.startswith("resource-type "):
                    _, args, props = tokens(s)
                    name, port = args[0], int(props.get("port", "0"))
                elif s.startswith("output "):
                    _, args, _ = tokens(s)
                    outputs.append(args[0])
        if name:
            types[name] = {"port": port, "outputs": outputs}
    return types


def read_platform(path):
    p = {"name": None, "registry": None, "region": None, "domain": None, "environments": {}}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            name, args, props = tokens(line)
            if name == "platform":
                p["name"] = args[0]
            elif name == "cloud":
                p["region"] = props.get("region")
            elif name in ("registry", "domain"):
                p[name] = args[0]
            elif name == "environment":
                p["environments"][args[0]] = {"ttl": props.get("ttl"), "protected": props.get("protected") == "#true"}
    return p


def ratio(percent):
    """'99.8' -> '0.998' exactly (decimal text, no float rounding)."""
    whole, _, frac = percent.partition(".")
    digits = (whole.zfill(2) + frac).lstrip("0")
    places = len(frac) + 2
    return "0." + digits.rjust(places, "0") if int(whole) < 100 else "1"


def parse_cpu_percent(v):
    return int(str(v).rstrip("%"))


def read_service(path, env, platform, types):
    s = {
        "name": None, "owner": "", "ports": [], "env": [], "uses": [], "calls": [],
        "requests": {}, "limits": {}, "replicas": {}, "cpuTarget": 80, "health": {}, "slo": [],
        "routes": [],
    }
    env_over = {}
    stack = []  # enclosing blocks: ("environment", name) / ("worker", name) / ...
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            text = line.strip()
            if not text:
                continue
            if text == "}":
                if stack:
                    stack.pop()
                continue
            opens = text.endswith("{")
            name, args, props = tokens(text)
            depth = len(stack)
            if name == "service" and depth == 0:
                s["name"] = args[0]
                stack.append(("service", args[0]))
                continue
            if opens:
                stack.append((name, args[0] if args else ""))
            inner = stack[1:] if not opens else stack[1:-1]
            if inner:
                # Inside environment/worker/cron blocks: only the target environment's scale and
                # resources overrides matter for the web Deployment.
                kind, which = inner[0]
                if kind == "environment" and which == env and name in ("scale", "resources"):
                    env_over.setdefault(name, {}).update(props)
                continue
            if opens and name in ("environment", "worker", "cron"):
                continue
            if name == "owner":
                s["owner"] = args[0]
            elif name == "port":
                pname, number = args[0], int(args[1])
                proto = props.get("protocol") or ("grpc" if pname == "grpc" else "http")
                s["ports"].append({"name": pname, "port": number, "protocol": proto})
            elif name == "route":
                s["routes"].append({"path": args[0], "public": props.get("public") == "#true"})
            elif name == "health":
                s["health"] = dict(props)
            elif name == "env":
                for k, v in props.items():
                    s["env"].append([k, v])
            elif name == "resources":
                s["requests"] = {"cpu": props.get("cpu"), "memory": props.get("memory")}
                s["limits"] = {"cpu": props.get("cpu-limit"), "memory": props.get("memory-limit")}
            elif name == "scale":
                s["replicas"] = {"min": int(props.get("min", 1)), "max": int(props.get("max", props.get("min", 1)))}
                if "cpu" in props:
                    s["cpuTarget"] = parse_cpu_percent(props["cpu"])
            elif name == "uses":
                ty, rname = args[0], args[1]
                s["uses"].append({"name": rname, "type": ty, "port": types[ty]["port"], "outputs": types[ty]["outputs"]})
            elif name == "calls":
                s["calls"].append(args[0])
            elif name == "slo":
                # Objectives as ratios in text ("0.998"), so that every tool prints them alike.
                slo = []
                if "availability" in props:
                    pct = props["availability"].rstrip("%")
                    slo.append({"slo": "availability", "title": "availability", "objective": ratio(pct), "objectivePercent": pct + "%"})
                if "latency-p99" in props:
                    ms = int(props["latency-p99"].rstrip("ms"))
                    slo.append({"slo": "latency", "title": f"p99 latency under {ms}ms", "objective": "0.99", "objectivePercent": "99%", "le": f"{ms / 1000:g}"})
                s["slo"] = slo
    # Environment override (the platform policy min-replicas is already met by the synth tree).
    if "scale" in env_over:
        o = env_over["scale"]
        s["replicas"] = {"min": int(o.get("min", s["replicas"].get("min", 1))), "max": int(o.get("max", s["replicas"].get("max", 1)))}
        if "cpu" in o:
            s["cpuTarget"] = parse_cpu_percent(o["cpu"])
    if "resources" in env_over:
        o = env_over["resources"]
        s["requests"] = {"cpu": o.get("cpu", s["requests"].get("cpu")), "memory": o.get("memory", s["requests"].get("memory"))}

    # Env vars: resource outputs come from the resource's connection secret (NAME_OUTPUT), then
    # the spec's own vars with ${platform.*} resolved and ${resources.R.O} as $(R_O).
    resolved = []
    for u in s["uses"]:
        for o in u["outputs"]:
            var = f"{u['name']}_{o}".upper().replace("-", "_")
            resolved.append({"name": var, "secret": f"{s['name']}-{u['name']}-connection", "key": o})

    def subst(m):
        ref = m.group(1).split(".")
        if ref[0] == "platform":
            return str(platform.get(ref[1], ""))
        if ref[0] == "resources" and len(ref) == 3:
            return "$(" + f"{ref[1]}_{ref[2]}".upper().replace("-", "_") + ")"
        return m.group(0)

    # Plain values live in the service's ConfigMap (NAME-config, not one of the compared
    # objects); values that refer to other vars, $(VAR), must stay inline.
    for k, v in s["env"]:
        value = re.sub(r"\$\{([^}]*)\}", subst, str(v))
        if "$(" in value:
            resolved.append({"name": k, "value": value})
        else:
            resolved.append({"name": k, "config": f"{s['name']}-config", "key": k})
    s["env"] = resolved
    s["image"] = f"{platform['registry']}/{s['name']}:0.1.0"
    return s


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("tree")
    ap.add_argument("out")
    ap.add_argument("--env", default="prod")
    ap.add_argument("--stdlib", default=DEFAULT_STDLIB)
    a = ap.parse_args()

    platform = read_platform(os.path.join(a.tree, "platform.kdl"))
    if a.env not in platform["environments"]:
        sys.exit(f"specs.py: no environment {a.env} in platform.kdl")
    types = read_types(a.stdlib)
    sdir = os.path.join(a.tree, "services")
    services = [read_service(os.path.join(sdir, d, "service.kdl"), a.env, platform, types) for d in sorted(os.listdir(sdir)) if os.path.isfile(os.path.join(sdir, d, "service.kdl"))]
    ports = {s["name"]: s["ports"] for s in services}
    callers = {s["name"]: [] for s in services}
    for s in services:
        for c in s["calls"]:
            callers.setdefault(c, []).append(s["name"])
    for s in services:
        s["callers"] = sorted(callers[s["name"]])
        s["callees"] = [{"name": c, "ports": [p["port"] for p in ports.get(c, [])]} for c in s["calls"]]
    doc = {
        "platform": {
            "name": platform["name"],
            "environment": a.env,
            "namespace": f"{platform['name']}-{a.env}",
            "region": platform["region"],
            "domain": platform["domain"],
            "version": "0.1.0",
        },
        "services": services,
    }
    with open(a.out, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, indent=1)
        fh.write("\n")
    print(f"specs.py: {len(services)} services for {a.env} -> {a.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
