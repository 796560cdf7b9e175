"""Runs objects.jsonnet with go-jsonnet through its Python binding (PyPI gojsonnet) and writes
one file per entry of the result, as `jsonnet -m OUT -S` would.

usage: python run_jsonnet.py services.json OUT_DIR
"""

import json
import os
import sys

import _gojsonnet


def main():
    spec, out = sys.argv[1], sys.argv[2]
    here = os.path.dirname(os.path.abspath(__file__))
    with open(spec, encoding="utf-8") as fh:
        data = fh.read()
    result = json.loads(_gojsonnet.evaluate_file(os.path.join(here, "objects.jsonnet"), ext_codes={"input": data}))
    made = set()
    for name, text in result.items():
        path = os.path.join(out, name)
        d = os.path.dirname(path)
        if d not in made:
            os.makedirs(d, exist_ok=True)
            made.add(d)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.write("\n")


if __name__ == "__main__":
    main()
