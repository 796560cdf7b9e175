"""Turn checkov's JSON report into a verdict.

usage: checkov_summary.py REPORT.json MODE     (MODE: report | enforce)
exit 0 = pass. Parsing errors always fail: checkov exits 0 when it cannot parse a file, and a
file it cannot parse is a file none of its policies looked at. Policy findings fail only in
enforce mode; in report mode they are printed so they stay visible.
"""
import json
import sys


def main(path, mode):
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except Exception as e:
        print(f"could not read checkov output: {e}")
        return 1
    reports = data if isinstance(data, list) else [data]
    if not reports or all(not isinstance(r, dict) or "check_type" not in r for r in reports):
        # checkov prints a bare summary object when it found nothing to scan at all.
        print("checkov scanned nothing")
        return 1
    bad = 0
    for r in reports:
        s = r.get("summary", {}) or {}
        res = r.get("results", {}) or {}
        print(f"{r.get('check_type', '?')}: passed={s.get('passed', 0)} failed={s.get('failed', 0)} "
              f"parsing_errors={s.get('parsing_errors', 0)}")
        for p in res.get("parsing_errors", []) or []:
            print(f"  parsing error: {p}")
        for c in res.get("failed_checks", []) or []:
            print(f"  {c.get('check_id')} {c.get('resource')} {c.get('file_path')}: {c.get('check_name')}")
        bad += s.get("parsing_errors", 0) + (s.get("failed", 0) if mode == "enforce" else 0)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
