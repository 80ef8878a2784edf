"""Planning: run keys, what each selected notebook will do (run, up to date, skip) and why."""
from __future__ import annotations

import argparse
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from lib import paths
from lib.runner import parameters as P
from lib.runner.manifest import Layout, NotebookSpec, UsageError


def lib_digest(lib_dir: Path) -> str:
    """SHA-256 of every `*.py` file under `lib_dir` (paths and contents, in sorted order).

    Args:
        lib_dir: The library folder (missing is fine: the digest of nothing).

    Returns:
        Hex digest.
    """
    digest = hashlib.sha256()
    for path in sorted(lib_dir.rglob("*.py")) if lib_dir.is_dir() else ():
        digest.update(path.relative_to(lib_dir).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def run_key(source: str, parameters: dict[str, Any], profile: str, lib_hash: str) -> str:
    """The key that decides whether a notebook's report is up to date.

    Args:
        source: The notebook's `.py` text.
        parameters: The effective parameters.
        profile: The profile name.
        lib_hash: `lib_digest` of the library.

    Returns:
        SHA-256 hex digest of all four.
    """
    payload = {"source": source, "parameters": parameters, "profile": profile, "lib": lib_hash}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()



def gpu_available() -> bool:
    """Whether torch sees a CUDA device (torch is imported only when a notebook needs a GPU)."""
    import torch

    return torch.cuda.is_available()


def data_available(name: str) -> bool:
    """Whether the dataset `name` (an entry of a notebook's `needs.data`) is on this machine.

    Only names whose presence can be checked without loading anything are known: `cifar10`
    (torchvision's `cifar-10-batches-py` under `lib.paths.data_root()`, with its official test set;
    the JPEG training archive in ../shared/data serves the quick profile, not this one) and
    `cifar100` (`cifar-100-python` there), `imagenet` (`imagenet/val/<wnid>/` there, the `paper`
    profile of pixel deflection; DATA="imagenet" reads it), `caltech256`, `kodak`, `cat2000` (folders there, msroi's
    paper profile: MAP_FOLDER, EVAL_SETS, CATEGORY_FOLDER). Every other name counts as absent, so
    under the `paper` profile a notebook that needs it is recorded `skipped-data`. Extend this
    function when a dataset gets a known location.

    Args:
        name: Dataset name as written in the manifest.

    Returns:
        True if the data is present.
    """
    if name == "cifar10":
        return (paths.data_root() / "cifar-10-batches-py").is_dir()
    if name == "cifar100":
        return (paths.data_root() / "cifar-100-python").is_dir()
    if name == "imagenet":
        return (paths.data_root() / "imagenet" / "val").is_dir()
    if name in ("caltech256", "kodak", "cat2000"):   # msroi's paper profile: folders under the data root
        return (paths.data_root() / name).exists()
    return False


@dataclass
class Job:
    """One selected notebook with everything decided before execution.

    Attributes:
        spec: The manifest entry.
        notebook: The notebook to execute (built from the `.py` if needed).
        declared: Its parameters as `notebook_parameters` found them (name -> info).
        parameters: Effective parameters (what is injected into the parameters cell).
        resolved: Every parameter's value as the notebook will see it (checked before compute).
        run_key: See `run_key`.
        action: `run`, `up to date`, `skipped-gpu` or `skipped-data`.
        reason: Why (shown by `--dry-run` and in progress lines).
    """

    spec: NotebookSpec
    notebook: nbformat.NotebookNode
    declared: dict[str, dict[str, Any]]
    parameters: dict[str, Any]
    resolved: dict[str, Any]
    run_key: str
    action: str
    reason: str


def decide(spec: NotebookSpec, key: str, entry: dict[str, Any] | None, reports: Path,
           profile: str, force: bool) -> tuple[str, str]:
    """Whether a notebook runs, and why (or why not).

    Args:
        spec: The notebook.
        key: Its current run key.
        entry: Its entry in `reports/manifest.json`, if any.
        reports: The reports folder.
        profile: The profile name.
        force: `--force`.

    Returns:
        `(action, reason)` with action `run`, `up to date`, `skipped-gpu` or `skipped-data`.
    """
    stale = _staleness(spec, key, entry, reports, force)
    if stale is None:
        return "up to date", "same run key, outputs present"
    if spec.needs_gpu and not gpu_available():
        return "skipped-gpu", "needs a CUDA GPU"
    absent = [name for name in spec.needs_data if not data_available(name)]
    if profile == "paper" and absent:
        return "skipped-data", f"data not available: {', '.join(absent)}"
    return "run", stale


def _staleness(spec: NotebookSpec, key: str, entry: dict[str, Any] | None, reports: Path,
               force: bool) -> str | None:
    """Why a notebook's report is out of date, or None if it is up to date."""
    if force:
        return "--force"
    if entry is None:
        return "not run before"
    if entry.get("status") != "ok":
        return f"last status {entry.get('status')}"
    if entry.get("run_key") != key:
        return "notebook source, parameters or lib changed"
    expected = [*entry.get("files", []), *(f"{spec.paper}/{o}" for o in spec.outputs)]
    missing = [f for f in expected if not (reports / f).exists()]
    return f"outputs missing: {', '.join(missing)}" if missing else None


def plan(specs: list[NotebookSpec], args: argparse.Namespace, layout: Layout,
         report: dict[str, Any]) -> list[Job]:
    """Load, inspect and validate the selected notebooks and decide what each will do.

    Args:
        specs: Selected notebooks.
        args: Parsed command line.
        layout: Where things are.
        report: The current `reports/manifest.json`.

    Returns:
        One job per notebook, in manifest order.

    Raises:
        UsageError: Missing notebook sources or invalid parameters (all problems at once).
    """
    sources = {spec.key: layout.notebooks / spec.paper / f"{spec.name}.py" for spec in specs}
    absent = [str(path) for path in sources.values() if not path.exists()]
    if absent:
        raise UsageError("notebook sources missing: " + ", ".join(absent))
    notebooks = {spec.key: P.load_notebook(sources[spec.key]) for spec in specs}
    declared = {key: P.notebook_parameters(nb) for key, nb in notebooks.items()}
    cells = {key: set(params) for key, params in declared.items()}
    names = {spec.key: P.notebook_names(declared[spec.key], spec.paper) for spec in specs}
    overrides = {name: P.parse_value(value) for name, value in args.parameters}
    errors = [f"{key}: {problem}" for key, nb in notebooks.items()
              for problem in P.unreadable_parameters(nb, cells[key])]
    errors += P.check_parameters(specs, names, args.profile, args.data, overrides)
    if errors:
        raise UsageError("\n".join(errors))
    lib_hash = lib_digest(layout.root / "lib")
    jobs = []
    for spec in specs:
        params = P.effective_parameters(spec, args.profile, names[spec.key], args.data, overrides)
        resolved, problems = P.check_values(spec, declared[spec.key], args.profile, params)
        errors += problems
        key = run_key(sources[spec.key].read_text(encoding="utf-8"), params, args.profile, lib_hash)
        action, reason = decide(spec, key, report["notebooks"].get(spec.key), layout.reports,
                                args.profile, args.force)
        jobs.append(Job(spec, notebooks[spec.key], declared[spec.key], params, resolved, key, action, reason))
    if errors:
        raise UsageError("\n".join(dict.fromkeys(errors)))
    return jobs


def data_specs(jobs: list[Job]) -> dict[str, list[str]]:
    """Data spec -> the notebooks about to run that read it (from their resolved `DATA`)."""
    specs: dict[str, list[str]] = {}
    for job in jobs:
        spec = job.resolved.get("DATA")
        if job.action == "run" and isinstance(spec, str):
            specs.setdefault(spec, []).append(job.spec.key)
    return specs
