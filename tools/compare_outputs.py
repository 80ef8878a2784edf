"""Compare the CSV and JSON outputs of two report folders: identical or different, file by file.

    python tools/compare_outputs.py BEFORE AFTER [--verbose]

Used to show that a refactor moves code, not results (issue 9): run every notebook under one profile
before and after, copy each run's `reports/` (or just its *.csv and *.json) aside, compare.

What is compared:
- every `*.csv` and `*.json` under either folder (a file present on one side only is a difference);
- CSV: cell by cell as text (no tolerance), leaving out wall-clock columns (`seconds`, `images_per_s`,
  `inf_time_rel...`: timings differ from run to run); when they differ, the first differing row is shown;
- JSON: the parsed values, after dropping fields that describe the run rather than its results
  (timestamps, durations, git/commit, packages, run keys, logs, the host's paths) and replacing
  absolute paths inside strings by `<path>`. The `parameters` of an artefact record are compared on
  the names present on both sides; names present on one side only are listed (a paper that declares
  its parameters once records all of them, a notebook's old parameters cell only its own), not
  counted as a difference.

Exit status: 0 when every file is identical (in that sense), 1 otherwise.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import re
import sys
from pathlib import Path
from typing import Any

VOLATILE = {"generated", "started", "duration_s", "git", "commit", "dirty", "packages", "run_key", "log",
            "last_good", "error", "html", "cache"}
TIMING_COLUMN = re.compile(r"^(seconds|images_per_s|inf_time_rel.*|duration.*|.*_seconds)$")
ABS_PATH = re.compile(r"(?<![\w.])/(?:tmp|work|home|root|private|var)/[^\s'\",)\]}]*")


def _normalise(value: Any) -> Any:
    """`value` without volatile fields, absolute paths replaced by `<path>`."""
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    if isinstance(value, str):
        return ABS_PATH.sub("<path>", value)
    return value


def _first_difference(a: Any, b: Any, where: str = "") -> str | None:
    """A short description of the first place where `a` and `b` differ, or None."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                return f"{where}/{k}: only in {'after' if k not in a else 'before'}"
            diff = _first_difference(a[k], b[k], f"{where}/{k}")
            if diff:
                return diff
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{where}: {len(a)} vs {len(b)} items"
        for i, (x, y) in enumerate(zip(a, b)):
            diff = _first_difference(x, y, f"{where}[{i}]")
            if diff:
                return diff
        return None
    if a != b or type(a) is not type(b):
        return f"{where}: {a!r} vs {b!r}"
    return None


def compare_json(before: Path, after: Path) -> tuple[bool, str]:
    a, b = (_normalise(json.loads(p.read_text())) for p in (before, after))
    note = ""
    records = [(a, b)]
    if isinstance(a, dict) and isinstance(a.get("notebooks"), dict) and isinstance(b.get("notebooks"), dict):
        keys = set(a["notebooks"]) | set(b["notebooks"])
        records = [(a["notebooks"].get(k, {}), b["notebooks"].get(k, {})) for k in keys]
    one_sided: set[str] = set()
    for ra, rb in records:
        pa, pb = ra.get("parameters"), rb.get("parameters")
        if isinstance(pa, dict) and isinstance(pb, dict):
            one_sided |= {f"-{k}" for k in set(pa) - set(pb)} | {f"+{k}" for k in set(pb) - set(pa)}
            common = set(pa) & set(pb)
            ra["parameters"] = {k: pa[k] for k in common}
            rb["parameters"] = {k: pb[k] for k in common}
    if one_sided:
        note = f" (parameters on one side only: {len(one_sided)}: {' '.join(sorted(one_sided))})"
    diff = _first_difference(a, b)
    return diff is None, (diff or "") + note


def _csv_rows(path: Path) -> tuple[list[list[str]], list[str]]:
    """The rows of a CSV without its timing columns, and the names of the columns left out."""
    rows = list(csv.reader(io.StringIO(path.read_text())))
    if not rows:
        return rows, []
    keep = [i for i, name in enumerate(rows[0]) if not TIMING_COLUMN.match(name)]
    dropped = [name for i, name in enumerate(rows[0]) if i not in keep]
    return [[r[i] for i in keep if i < len(r)] for r in rows], dropped


def compare_csv(before: Path, after: Path) -> tuple[bool, str]:
    (a, dropped), (b, _) = _csv_rows(before), _csv_rows(after)
    note = f" (timing columns left out: {', '.join(dropped)})" if dropped else ""
    if a == b:
        return True, note.strip()
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return False, f"row {i}: {','.join(x)[:120]!r} vs {','.join(y)[:120]!r}{note}"
    return False, f"{len(a)} vs {len(b)} rows{note}"


def compare(before: Path, after: Path, verbose: bool = False) -> int:
    files = sorted({p.relative_to(root) for root in (before, after) for pattern in ("*.csv", "*.json")
                    for p in root.rglob(pattern)})
    different = 0
    for rel in files:
        a, b = before / rel, after / rel
        if not a.exists() or not b.exists():
            same, detail = False, f"only in {'after' if not a.exists() else 'before'}"
        elif rel.suffix == ".csv":
            same, detail = compare_csv(a, b)
        else:
            same, detail = compare_json(a, b)
        different += not same
        if verbose or not same:
            print(f"{'identical' if same else 'DIFFERENT'}  {rel}  {detail}".rstrip())
    print(f"{len(files)} files compared: {len(files) - different} identical, {different} different")
    return 1 if different else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--verbose", action="store_true", help="print identical files too")
    args = parser.parse_args(argv)
    return compare(args.before, args.after, args.verbose)


if __name__ == "__main__":
    sys.exit(main())
