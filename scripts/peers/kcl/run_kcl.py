"""Runs objects.k with KCL's native runtime through its Python API (PyPI kcl-lib).

usage: python run_kcl.py services.json OUT_DIR
"""

import json
import os
import shutil
import sys

import kcl_lib.api as api


def main():
    spec, out = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    os.makedirs(out, exist_ok=True)
    # KCL's file module only reaches files under the module root (the program's directory), so
    # the program runs from a copy beside the input and output.
    root = os.path.commonpath([os.path.dirname(spec), os.path.dirname(out)])
    here = os.path.dirname(os.path.abspath(__file__))
    program = os.path.join(root, "objects.k")
    shutil.copyfile(os.path.join(here, "objects.k"), program)
    args = api.ExecProgramArgs(
        k_filename_list=[program],
        work_dir=root,
        args=[
            api.Argument(name="input", value=json.dumps(os.path.relpath(spec, root))),
            api.Argument(name="out", value=json.dumps(os.path.relpath(out, root))),
        ],
    )
    result = api.API().exec_program(args)
    if result.err_message:
        sys.exit(f"kcl: {result.err_message}")


if __name__ == "__main__":
    main()
