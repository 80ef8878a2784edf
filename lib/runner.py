"""`runall.py`'s logic: select notebooks, validate parameters, execute them with papermill, publish.

    python runall.py [--profile smoke|quick|paper] [--only PAPER[/ARTEFACT]]... [--data SPEC]
                     [-p NAME VALUE]... [--force] [--list] [--dry-run] [--jobs N]

The contract is docs/architecture.md §4. In short, for every selected notebook (manifest order):

1. Build the notebook from its jupytext `.py` source (the paired `.ipynb` is used only when it is
   at least as new as the `.py`) and find its parameters with `papermill.inspect_notebook`.
   Unknown papers, artefacts and parameter names are refused before anything runs (exit 2).
2. Skip it when `reports/manifest.json` has it `ok` with the same run key (SHA-256 of the `.py`
   source, the effective parameters, the profile and every `lib/**/*.py`) and its files exist;
   record `skipped-gpu` / `skipped-data` when it needs a GPU or data this machine lacks.
3. Execute it in a fresh `python3` kernel whose environment and working directory are set per
   notebook, writing into the staging folder `build/runs/<paper>/<name>/` (= `$REPRO_OUT`).
4. On success move everything from staging into `reports/<paper>/` and record the entry; on failure
   write only `reports/<paper>/logs/<name>.log` and `<name>.failed.ipynb` and mark the entry failed,
   keeping its last good artefacts.
5. Rebuild the report index (`lib.index.build`).

Exit status: 0 when nothing failed, 1 when a notebook failed, 2 for usage errors, 130 when
interrupted (Ctrl-C or SIGTERM).
"""
from __future__ import annotations

import argparse
import ast
import datetime as dt
import hashlib
import importlib.metadata
import json
import logging
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from concurrent.futures import Future, ThreadPoolExecutor, as_completed, wait
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

import jupytext
import nbformat
import papermill
import yaml
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbconvert import HTMLExporter
from nbconvert.preprocessors import TagRemovePreprocessor
from papermill.exceptions import PapermillExecutionError

from lib import index, paths

KERNEL_NAME = "python3"
KERNELSPEC = {"name": KERNEL_NAME, "display_name": "Python 3 (ipykernel)", "language": "python"}
KERNEL_START_TIMEOUT_S = 120
KERNEL_ENV = {
    "REPRO_HEADLESS": "1",
    "PYTHONHASHSEED": "0",
    "MPLBACKEND": "Agg",
    "SOURCE_DATE_EPOCH": "0",
    "CUBLAS_WORKSPACE_CONFIG": ":4096:8",
}
PACKAGES = ("torch", "torchvision", "numpy", "scipy", "pandas", "matplotlib", "papermill")
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class UsageError(Exception):
    """A problem with the command line, the manifest or a notebook found before anything ran."""


class OutputMissingError(Exception):
    """A notebook finished without writing a file the manifest declares."""


class KernelInterrupted(Exception):
    """The run was stopped while this notebook's kernel was starting."""


# --------------------------------------------------------------------------------------------
# Locations and the manifest


@dataclass(frozen=True)
class Layout:
    """Where the runner reads and writes; tests point it at a temporary tree.

    Attributes:
        root: Repository root (git state and `lib/**/*.py` for the run key are read here).
        manifest: `notebooks/manifest.yaml`; notebooks live in `<manifest folder>/<paper>/`.
        reports: The reports folder (`manifest.json`, index pages, `<paper>/...`).
        build: Scratch folder; staging folders are `build/runs/<paper>/<name>/`.
    """

    root: Path
    manifest: Path
    reports: Path
    build: Path

    @classmethod
    def default(cls) -> Layout:
        """The repository's own layout, from `lib.paths`."""
        return cls(paths.ROOT, paths.MANIFEST, paths.REPORTS, paths.BUILD)

    @classmethod
    def at(cls, root: Path) -> Layout:
        """The standard layout under `root`: notebooks/manifest.yaml, reports/, build/."""
        return cls(root, root / "notebooks" / "manifest.yaml", root / "reports", root / "build")

    @property
    def notebooks(self) -> Path:
        """The folder holding `<paper>/<name>.py` notebooks."""
        return self.manifest.parent

    @property
    def report_manifest(self) -> Path:
        """`reports/manifest.json`."""
        return self.reports / "manifest.json"


@dataclass(frozen=True)
class NotebookSpec:
    """One notebook entry of the manifest.

    Attributes:
        paper: Paper id (folder under notebooks/ and reports/).
        name: Notebook file stem, e.g. `01_fig4_filter_susceptibility`.
        artefacts: Figure/table ids it produces (selectable with `--only PAPER/ARTEFACT`).
        outputs: Files it must write into its output folder.
        needs_gpu: Whether it is skipped (`skipped-gpu`) without CUDA.
        needs_data: Dataset names it needs under the `paper` profile (see `data_available`).
        parameters: Per-profile overrides of its parameters cell.
    """

    paper: str
    name: str
    artefacts: tuple[str, ...]
    outputs: tuple[str, ...]
    needs_gpu: bool
    needs_data: tuple[str, ...]
    parameters: dict[str, dict[str, Any]]

    @property
    def key(self) -> str:
        """`<paper>/<name>`, the notebook's key in `reports/manifest.json`."""
        return f"{self.paper}/{self.name}"


@dataclass(frozen=True)
class Manifest:
    """The parsed `notebooks/manifest.yaml`.

    Attributes:
        profiles: Profile name -> settings (`cell_timeout_s`).
        papers: Paper id -> `{"title": ..., "citation": ...}`.
        notebooks: Every notebook, in manifest order.
    """

    profiles: dict[str, dict[str, Any]]
    papers: dict[str, dict[str, str]]
    notebooks: tuple[NotebookSpec, ...]


def load_manifest(path: Path) -> Manifest:
    """Read and check `notebooks/manifest.yaml`.

    Args:
        path: The manifest file.

    Returns:
        The parsed manifest.

    Raises:
        UsageError: The file is missing or lacks required keys.
    """
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise UsageError(f"cannot read the manifest {path}: {exc}") from exc
    papers: dict[str, dict[str, str]] = {}
    notebooks: list[NotebookSpec] = []
    for paper, info in (raw.get("papers") or {}).items():
        papers[paper] = {"title": info.get("title", ""), "citation": info.get("citation", "")}
        notebooks += [_notebook_spec(paper, entry, path) for entry in info.get("notebooks") or []]
    return Manifest(dict(raw.get("profiles") or {}), papers, tuple(notebooks))


def _notebook_spec(paper: str, entry: dict[str, Any], path: Path) -> NotebookSpec:
    """Build a `NotebookSpec` from one `papers.<paper>.notebooks[]` entry of the manifest."""
    missing = [k for k in ("name", "artefacts", "outputs") if k not in entry]
    if missing:
        raise UsageError(f"{path}: a notebook of {paper} lacks {', '.join(missing)}: {entry}")
    needs = entry.get("needs") or {}
    return NotebookSpec(
        paper=paper,
        name=entry["name"],
        artefacts=tuple(entry["artefacts"]),
        outputs=tuple(entry["outputs"]),
        needs_gpu=bool(needs.get("gpu", False)),
        needs_data=tuple(needs.get("data") or ()),
        parameters={p: dict(v or {}) for p, v in (entry.get("parameters") or {}).items()},
    )


def select(manifest: Manifest, only: list[str]) -> list[NotebookSpec]:
    """The notebooks chosen by `--only PAPER[/ARTEFACT]` options, in manifest order.

    Args:
        manifest: The parsed manifest.
        only: `--only` values; empty selects every notebook.

    Returns:
        The selected notebooks, each once.

    Raises:
        UsageError: An unknown paper or artefact; the message lists the valid ones.
    """
    if not only:
        return list(manifest.notebooks)
    chosen: set[str] = set()
    errors: list[str] = []
    for item in only:
        paper, _, artefact = item.partition("/")
        candidates = [nb for nb in manifest.notebooks if nb.paper == paper]
        if not candidates:
            errors.append(f"unknown paper {paper!r} in --only {item}; "
                          f"valid papers: {', '.join(manifest.papers) or '(none)'}")
            continue
        if artefact:
            candidates = [nb for nb in candidates if artefact in nb.artefacts]
            if not candidates:
                valid = [a for nb in manifest.notebooks if nb.paper == paper for a in nb.artefacts]
                errors.append(f"unknown artefact {artefact!r} of {paper} in --only {item}; "
                              f"valid artefacts: {', '.join(valid)}")
        chosen.update(nb.key for nb in candidates)
    if errors:
        raise UsageError("\n".join(errors))
    return [nb for nb in manifest.notebooks if nb.key in chosen]


# --------------------------------------------------------------------------------------------
# Notebooks and their parameters


def load_notebook(source: Path) -> nbformat.NotebookNode:
    """The notebook to execute, built from its jupytext `.py` source unless the `.ipynb` is current.

    The `.py` is the source of truth: a missing `.ipynb`, or one older than the `.py`, is never
    executed; the notebook is built in memory from the `.py` instead. The kernelspec is set to
    `python3` either way.

    Args:
        source: `notebooks/<paper>/<name>.py`.

    Returns:
        The notebook (no outputs are needed; execution replaces them).
    """
    paired = source.with_suffix(".ipynb")
    if paired.exists() and paired.stat().st_mtime >= source.stat().st_mtime:
        nb = nbformat.read(paired, as_version=4)
    else:
        nb = jupytext.read(source, fmt="py:percent")
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    return nb


def notebook_parameters(nb: nbformat.NotebookNode) -> dict[str, dict[str, Any]]:
    """The parameters of a notebook's `parameters` cell, as `papermill.inspect_notebook` finds them.

    Args:
        nb: The notebook (in memory; `inspect_notebook` only reads paths, so it reads a
            temporary copy).

    Returns:
        Name -> `{"name", "inferred_type_name", "default", "help"}` (`default` is source text).
    """
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "notebook.ipynb"
        nbformat.write(nb, copy)
        return papermill.inspect_notebook(str(copy))


def unreadable_parameters(nb: nbformat.NotebookNode, found: set[str]) -> list[str]:
    """Problems with a parameters cell that `papermill.inspect_notebook` silently passes over.

    Papermill's inspection skips any line with more than one `=` (an `=` inside the comment is
    enough), so such a parameter could be neither listed nor validated. The cell is parsed with
    `ast` to find every assigned name; each one papermill did not find is reported.

    Args:
        nb: The notebook.
        found: The parameter names `notebook_parameters` found.

    Returns:
        Error messages (empty when papermill sees every assignment).
    """
    cells = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if not cells:
        return ["no cell is tagged 'parameters'"]
    try:
        tree = ast.parse(cells[0].source)
    except SyntaxError as exc:
        return [f"the parameters cell is not valid Python: {exc}"]
    lines = cells[0].source.splitlines()
    return [f"papermill cannot read parameter {target.id!r} (line {node.lineno}: "
            f"{lines[node.lineno - 1].strip()!r}); it skips lines with more than one '=', "
            f"e.g. an '=' in the comment"
            for node in tree.body if isinstance(node, (ast.Assign, ast.AnnAssign))
            for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
            if isinstance(target, ast.Name) and target.id not in found]


def parse_value(text: str) -> Any:
    """Parse a `-p NAME VALUE` value the way papermill's `-p` does, plus JSON lists and dicts.

    Args:
        text: The value as typed.

    Returns:
        `True`/`False`/`None` for those words, an int or float when it parses as one, a list or
        dict when it is valid JSON starting with `[` or `{`, else the string itself.
    """
    words = {"True": True, "False": False, "None": None}
    if text in words:
        return words[text]
    for number in (int, float):
        try:
            return number(text)
        except ValueError:
            pass
    if text.lstrip().startswith(("[", "{")):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            pass
    return text


def effective_parameters(spec: NotebookSpec, profile: str, names: set[str], data: str | None,
                         overrides: dict[str, Any]) -> dict[str, Any]:
    """The parameters injected into one notebook.

    Order (later wins): the manifest's `parameters.<profile>`, `--data` (as `DATA`, only if the
    notebook has it), the `-p` overrides the notebook has, and always `PROFILE=<profile>`.

    Args:
        spec: The notebook.
        profile: The profile name.
        names: The notebook's parameter names.
        data: The `--data` spec, or None.
        overrides: Parsed `-p` values.

    Returns:
        Name -> value.
    """
    params = dict(spec.parameters.get(profile, {}))
    if data is not None and "DATA" in names:
        params["DATA"] = data
    params.update({k: v for k, v in overrides.items() if k in names})
    params["PROFILE"] = profile
    return params


def check_parameters(specs: list[NotebookSpec], declared: dict[str, set[str]], profile: str,
                     data: str | None, overrides: dict[str, Any]) -> list[str]:
    """Every problem with the requested parameters, before anything runs.

    Args:
        specs: The selected notebooks.
        declared: Notebook key -> its parameter names.
        profile: The profile name.
        data: The `--data` spec, or None.
        overrides: Parsed `-p` values.

    Returns:
        Error messages (empty when all is well); each names the valid parameters.
    """
    errors = []
    valid = sorted(set().union(*declared.values()))
    for name in overrides:
        if name == "PROFILE":
            errors.append("-p PROFILE is not allowed; use --profile")
        elif name not in valid:
            errors.append(f"unknown parameter {name!r} (-p); valid parameters of the selected "
                          f"notebooks: {', '.join(valid)}")
    if data is not None and "DATA" not in valid:
        errors.append("--data: none of the selected notebooks has a DATA parameter")
    for spec in specs:
        names = declared[spec.key]
        if "PROFILE" not in names:
            errors.append(f"{spec.key}: its parameters cell has no PROFILE")
        for name in spec.parameters.get(profile, {}):
            if name not in names:
                errors.append(f"manifest: parameters.{profile} of {spec.key} sets {name!r}, which "
                              f"is not a parameter of the notebook; valid: "
                              f"{', '.join(sorted(names))}")
    return errors


# --------------------------------------------------------------------------------------------
# Run keys, provenance, hooks


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


def git_state(root: Path, reports: Path) -> dict[str, Any]:
    """The commit and dirty flag of the code that produces the reports.

    Args:
        root: Repository root.
        reports: The reports folder, excluded from the dirty check (reports change on every run).

    Returns:
        `{"commit": sha or None (no repository or no commit yet), "dirty": bool or None}`.
    """
    commit = _git(root, "rev-parse", "HEAD")
    exclude = f":(exclude){os.path.relpath(reports, root)}"
    status = _git(root, "status", "--porcelain", "--", ".", exclude)
    return {"commit": commit, "dirty": None if status is None else bool(status)}


def _git(root: Path, *args: str) -> str | None:
    """Run a git command in `root`; its stripped stdout, or None if it fails."""
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                              check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return done.stdout.strip()


def package_versions() -> dict[str, str | None]:
    """Versions of Python and the packages that shape the numbers (None when not installed)."""
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def gpu_available() -> bool:
    """Whether torch sees a CUDA device (torch is imported only when a notebook needs a GPU)."""
    import torch

    return torch.cuda.is_available()


def data_available(name: str) -> bool:
    """Whether the dataset `name` (an entry of a notebook's `needs.data`) is on this machine.

    Only names whose presence can be checked without loading anything are known: `cifar10`
    (torchvision's `cifar-10-batches-py` under `lib.paths.data_root()`, with its official test set;
    the JPEG training archive in ../shared/data serves the quick profile, not this one) and
    `cifar100` (`cifar-100-python` there), `imagenet` (`imagenet/val/<wnid>/` there, the `paper` profile of
    pixel deflection; DATA="imagenet" reads it). Every other name counts as absent, so under the `paper` profile a notebook that needs
    it is recorded `skipped-data`. Extend this function when a dataset gets a known location.

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
    return False


def _utc_now() -> str:
    """The current UTC time, ISO 8601 to the second."""
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON to a temporary file beside `path`, then rename it over `path`.

    Args:
        path: Destination.
        data: JSON-serialisable data.
    """
    _write_text_atomic(path, json.dumps(data, indent=1, sort_keys=True) + "\n")


def _write_text_atomic(path: Path, text: str) -> None:
    """Write text to a temporary file in `path`'s folder, then `os.replace` it onto `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def read_report_manifest(path: Path) -> dict[str, Any]:
    """`reports/manifest.json`, or an empty one (schema 1) if it does not exist yet."""
    if not path.exists():
        return {"schema": 1, "generated": None, "papers": {}, "notebooks": {}}
    report = json.loads(path.read_text(encoding="utf-8"))
    report.setdefault("papers", {})
    report.setdefault("notebooks", {})
    return report


# --------------------------------------------------------------------------------------------
# Planning


@dataclass
class Job:
    """One selected notebook with everything decided before execution.

    Attributes:
        spec: The manifest entry.
        notebook: The notebook to execute (built from the `.py` if needed).
        declared: Its parameters as `notebook_parameters` found them (name -> info).
        parameters: Effective parameters.
        run_key: See `run_key`.
        action: `run`, `up to date`, `skipped-gpu` or `skipped-data`.
        reason: Why (shown by `--dry-run` and in progress lines).
    """

    spec: NotebookSpec
    notebook: nbformat.NotebookNode
    declared: dict[str, dict[str, Any]]
    parameters: dict[str, Any]
    run_key: str
    action: str
    reason: str


@dataclass
class Outcome:
    """What happened to one notebook.

    Attributes:
        key: `<paper>/<name>`.
        status: `ok`, `failed`, `up to date`, `skipped-gpu`, `skipped-data` or `interrupted`.
        duration_s: Wall time spent on it.
        detail: Error summary or skip reason.
        banners: Synthetic-data banners of its artefact records.
    """

    key: str
    status: str
    duration_s: float = 0.0
    detail: str = ""
    banners: list[str] = field(default_factory=list)


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
    notebooks = {spec.key: load_notebook(sources[spec.key]) for spec in specs}
    declared = {key: notebook_parameters(nb) for key, nb in notebooks.items()}
    names = {key: set(params) for key, params in declared.items()}
    overrides = {name: parse_value(value) for name, value in args.parameters}
    errors = [f"{key}: {problem}" for key, nb in notebooks.items()
              for problem in unreadable_parameters(nb, names[key])]
    errors += check_parameters(specs, names, args.profile, args.data, overrides)
    if errors:
        raise UsageError("\n".join(errors))
    lib_hash = lib_digest(layout.root / "lib")
    jobs = []
    for spec in specs:
        params = effective_parameters(spec, args.profile, names[spec.key], args.data, overrides)
        key = run_key(sources[spec.key].read_text(encoding="utf-8"), params, args.profile, lib_hash)
        action, reason = decide(spec, key, report["notebooks"].get(spec.key), layout.reports,
                                args.profile, args.force)
        jobs.append(Job(spec, notebooks[spec.key], declared[spec.key], params, key, action, reason))
    return jobs


# --------------------------------------------------------------------------------------------
# Executing and publishing


class _ThreadLogHandler(logging.Handler):
    """Sends papermill/nbclient log records emitted by one thread to that notebook's log file."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__()
        self.stream = stream
        self.thread_id = threading.get_ident()
        self.setFormatter(logging.Formatter("[%(name)s] %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        """Write the record if it comes from the thread that created this handler."""
        if record.thread == self.thread_id:
            self.stream.write(self.format(record) + "\n")
            self.stream.flush()


def _kill_kernel(km: AsyncKernelManager) -> None:
    """SIGKILL a kernel's process group at once; safe to call from any thread."""
    process = getattr(km.provisioner, "process", None)
    if process is None:
        return
    try:
        if hasattr(os, "killpg"):
            os.killpg(process.pid, signal.SIGKILL)  # kernels start in their own session
        else:
            process.kill()
    except OSError:
        pass


def render_html(nb: nbformat.NotebookNode, path: Path) -> None:
    """Render an executed notebook to HTML for readers: no code, no prompts, no `remove-cell` cells.

    Args:
        nb: The executed notebook.
        path: The `.html` file to write.
    """
    exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True)
    exporter.register_preprocessor(TagRemovePreprocessor(remove_cell_tags={"remove-cell"}),
                                   enabled=True)
    body, _ = exporter.from_notebook_node(nb)
    path.write_text(body, encoding="utf-8")


def load_records(staging: Path, spec: NotebookSpec) -> list[dict[str, Any]]:
    """Check a finished notebook's files and read its artefact records.

    Args:
        staging: The notebook's staging folder.
        spec: The notebook.

    Returns:
        The parsed `<artefact>.json` records, in artefact order.

    Raises:
        OutputMissingError: A declared output or an artefact record is missing.
    """
    required = [*spec.outputs, *(f"{a}.json" for a in spec.artefacts)]
    missing = [name for name in required if not (staging / name).is_file()]
    if missing:
        raise OutputMissingError(f"declared output missing: {', '.join(missing)}")
    return [json.loads((staging / f"{a}.json").read_text(encoding="utf-8")) for a in spec.artefacts]


def describe_failure(exc: BaseException) -> str:
    """A one-line summary of why a notebook failed (the failing cell's exception when known)."""
    if isinstance(exc, PapermillExecutionError):
        text = f"{exc.ename}: {exc.evalue}"
    elif isinstance(exc, DeadKernelError):
        text = "kernel died (out of memory?)"
    elif isinstance(exc, CellTimeoutError):
        text = f"CellTimeoutError: {str(exc).splitlines()[0]}"
    elif isinstance(exc, OutputMissingError):
        text = str(exc)
    else:
        text = f"{type(exc).__name__}: {exc}"
    return " ".join(text.split())[:500]


def _failure_log(spec: NotebookSpec, exc: BaseException, started: str, duration_s: float,
                 kernel_log: Path) -> str:
    """The text of `reports/<paper>/logs/<name>.log` for a failed run."""
    if isinstance(exc, PapermillExecutionError):
        trace = "\n".join(exc.traceback)  # the failing cell's traceback
    elif isinstance(exc, OutputMissingError):
        trace = ""  # the message says it all; the runner's stack would only distract
    else:
        trace = "".join(traceback.format_exception(exc))
    kernel = kernel_log.read_text(encoding="utf-8", errors="replace") if kernel_log.exists() else ""
    return (f"{spec.key} failed (started {started}, after {duration_s:.1f} s)\n"
            f"error: {describe_failure(exc)}\n\n{ANSI_ESCAPE.sub('', trace)}\n\n"
            f"--- kernel output ---\n{kernel}")


class _Run:
    """One invocation's execution state: the report manifest, locks and live kernels."""

    def __init__(self, layout: Layout, manifest: Manifest, profile: str, jobs: int) -> None:
        self.layout = layout
        self.manifest = manifest
        self.profile = profile
        self.jobs = jobs
        self.timeout_s = manifest.profiles.get(profile, {}).get("cell_timeout_s")
        self.report = read_report_manifest(layout.report_manifest)
        self.git = git_state(layout.root, layout.reports)
        self.packages = package_versions()
        self.lock = threading.Lock()  # publishing into reports/ and writing manifest.json
        self.kernels_lock = threading.Lock()
        self.kernels: dict[str, AsyncKernelManager] = {}
        self.stopping = threading.Event()

    # ---- the loop

    def execute_all(self, jobs: list[Job]) -> tuple[list[Outcome], list[str]]:
        """Execute the runnable jobs on `self.jobs` threads, printing a line as each finishes.

        Args:
            jobs: Jobs whose action is `run`.

        Returns:
            `(outcomes, interrupted)`: outcomes of the notebooks that finished, and the keys of
            those interrupted or never started (empty unless Ctrl-C/SIGTERM arrived).
        """
        outcomes: list[Outcome] = []
        pool = ThreadPoolExecutor(max_workers=self.jobs, thread_name_prefix="notebook")
        futures: dict[Future[Outcome], Job] = {pool.submit(self.execute, job): job for job in jobs}
        try:
            for future in as_completed(futures):
                outcomes.append(_announce(future.result()))
        except KeyboardInterrupt:
            self.stop()
            pool.shutdown(wait=False, cancel_futures=True)
            _wait_through_interrupts(list(futures))
        pool.shutdown(wait=True)
        done = {o.key for o in outcomes}
        for future, job in futures.items():
            if job.spec.key in done or future.cancelled():
                continue
            outcome = future.result()
            if outcome.status != "interrupted":
                outcomes.append(_announce(outcome))
        finished = {o.key for o in outcomes}
        return outcomes, [job.spec.key for job in jobs if job.spec.key not in finished]

    def stop(self) -> None:
        """Stop: start no notebook, kill running kernels (their reports stay as they are)."""
        with self.kernels_lock:
            self.stopping.set()
            for km in self.kernels.values():
                _kill_kernel(km)

    # ---- one notebook

    def execute(self, job: Job) -> Outcome:
        """Execute one notebook in a fresh staging folder and publish the result.

        Args:
            job: A job whose action is `run`.

        Returns:
            Its outcome (`ok`, `failed` or `interrupted`).
        """
        spec = job.spec
        if self.stopping.is_set():
            return Outcome(spec.key, "interrupted")
        staging = self.layout.build / "runs" / spec.paper / spec.name
        shutil.rmtree(staging, ignore_errors=True)
        (staging / "logs").mkdir(parents=True)
        kernel_log = staging / "logs" / f"{spec.name}.log"
        started, clock = _utc_now(), time.monotonic()
        try:
            with kernel_log.open("a", encoding="utf-8") as log:
                executed = self._papermill(job, staging, log)
            records = load_records(staging, spec)
            render_html(executed, staging / f"{spec.name}.html")
        except Exception as exc:  # every failure of a notebook is reported, then the run goes on
            duration = time.monotonic() - clock
            if self.stopping.is_set():
                return Outcome(spec.key, "interrupted", duration)
            with self.lock:
                self._publish_failure(job, exc, started, duration, staging)
            return Outcome(spec.key, "failed", duration, describe_failure(exc))
        duration = time.monotonic() - clock
        with self.lock:
            self._publish_success(job, records, started, duration, staging)
        banners = [r["data"]["banner"] for r in records if (r.get("data") or {}).get("banner")]
        return Outcome(spec.key, "ok", duration, banners=banners)

    def _papermill(self, job: Job, staging: Path, log: TextIO) -> nbformat.NotebookNode:
        """Start a kernel for the notebook (its own env and cwd) and execute it with papermill.

        The kernel is started here rather than by papermill so that its environment
        (`REPRO_OUT=<staging>` etc.) and working directory are per notebook without touching
        `os.environ` or the process's cwd, which `--jobs N` threads share; papermill gets the
        started kernel manager (`km=`) and we shut the kernel down ourselves.
        """
        env = {**os.environ, **KERNEL_ENV, "REPRO_OUT": str(staging)}
        cwd = self.layout.notebooks / job.spec.paper
        km = AsyncKernelManager(kernel_name=KERNEL_NAME)
        handler = _ThreadLogHandler(log)
        logging.getLogger("papermill").addHandler(handler)
        try:
            run_sync(km.start_kernel)(env=env, cwd=str(cwd), stdout=log, stderr=log)
            with self.kernels_lock:
                if self.stopping.is_set():
                    raise KernelInterrupted(job.spec.key)
                self.kernels[job.spec.key] = km
            return papermill.execute_notebook(
                job.notebook, str(staging / f"{job.spec.name}.ipynb"), parameters=job.parameters,
                kernel_name=KERNEL_NAME, km=km, execution_timeout=self.timeout_s,
                start_timeout=KERNEL_START_TIMEOUT_S, progress_bar=False, log_output=False,
                stdout_file=log, stderr_file=log, request_save_on_cell_execute=True)
        finally:
            with self.kernels_lock:
                self.kernels.pop(job.spec.key, None)
            logging.getLogger("papermill").removeHandler(handler)
            if km.has_kernel:
                run_sync(km.shutdown_kernel)(now=True)
            else:
                run_sync(km.cleanup_resources)()

    def _entry(self, job: Job, started: str, duration_s: float, device: str) -> dict[str, Any]:
        """The manifest fields describing this attempt of a notebook."""
        spec = job.spec
        return {"paper": spec.paper, "notebook": spec.name, "artefacts": list(spec.artefacts),
                "profile": self.profile, "run_key": job.run_key, "parameters": job.parameters,
                "started": started, "duration_s": round(duration_s, 2), "git": self.git,
                "packages": self.packages, "device": device}

    def _publish_success(self, job: Job, records: list[dict[str, Any]], started: str,
                         duration_s: float, staging: Path) -> None:
        """Move every staged file into `reports/<paper>/` and record the notebook as `ok`."""
        spec = job.spec
        target = self.layout.reports / spec.paper
        moved = []
        for path in sorted(p for p in staging.rglob("*") if p.is_file()):
            rel = path.relative_to(staging)
            (target / rel).parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, target / rel)
            moved.append(f"{spec.paper}/{rel.as_posix()}")
        previous = self.report["notebooks"].get(spec.key) or {}
        self._remove_stale(spec.key, set(previous.get("files", [])) - set(moved))
        (target / "logs" / f"{spec.name}.failed.ipynb").unlink(missing_ok=True)
        device = next((r["device"] for r in records if r.get("device")), "cpu")
        entry = {**self._entry(job, started, duration_s, device), "status": "ok",
                 "html": f"{spec.paper}/{spec.name}.html",
                 "records": [f"{spec.paper}/{a}.json" for a in spec.artefacts],
                 "files": moved, "error": None, "log": f"{spec.paper}/logs/{spec.name}.log"}
        entry["last_good"] = {k: entry[k] for k in (
            "run_key", "started", "duration_s", "profile", "parameters", "git", "packages",
            "device", "html", "records", "files")}
        self._record(spec, entry)
        shutil.rmtree(staging, ignore_errors=True)

    def _remove_stale(self, key: str, stale: set[str]) -> None:
        """Delete files a notebook's previous run published that no notebook produces any more."""
        others = {f for k, e in self.report["notebooks"].items() if k != key
                  for f in e.get("files", [])}
        for rel in sorted(stale - others):
            (self.layout.reports / rel).unlink(missing_ok=True)

    def _publish_failure(self, job: Job, exc: BaseException, started: str, duration_s: float,
                         staging: Path) -> None:
        """Write the failure log and failed notebook to `reports/<paper>/logs/`; mark it failed."""
        spec = job.spec
        logs = self.layout.reports / spec.paper / "logs"
        kernel_log = staging / "logs" / f"{spec.name}.log"
        _write_text_atomic(logs / f"{spec.name}.log",
                           _failure_log(spec, exc, started, duration_s, kernel_log))
        executed, failed = staging / f"{spec.name}.ipynb", logs / f"{spec.name}.failed.ipynb"
        if executed.exists():
            os.replace(executed, failed)
        else:
            failed.unlink(missing_ok=True)
        records = _readable_records(staging, spec)
        device = next((r["device"] for r in records if r.get("device")), "cpu")
        entry = {**self._entry(job, started, duration_s, device), "status": "failed",
                 "error": describe_failure(exc), "log": f"{spec.paper}/logs/{spec.name}.log"}
        self._record(spec, _keep_last_good(entry, self.report["notebooks"].get(spec.key)))

    def record_skip(self, job: Job) -> None:
        """Record a `skipped-gpu` / `skipped-data` notebook (reason in `error`), keeping its last
        good artefacts."""
        entry = {**self._entry(job, _utc_now(), 0.0, "cpu"), "status": job.action,
                 "error": job.reason, "log": None}
        with self.lock:
            previous = self.report["notebooks"].get(job.spec.key)
            self._record(job.spec, _keep_last_good(entry, previous))

    def _record(self, spec: NotebookSpec, entry: dict[str, Any]) -> None:
        """Store a notebook's entry and replace `reports/manifest.json` atomically (hold `lock`)."""
        self.report["notebooks"][spec.key] = entry
        self.report["papers"][spec.paper] = self.manifest.papers.get(spec.paper, {})
        self.report["generated"] = _utc_now()
        write_json_atomic(self.layout.report_manifest, self.report)


def _keep_last_good(entry: dict[str, Any], previous: dict[str, Any] | None) -> dict[str, Any]:
    """Carry the last good run's `html`, `records`, `files` and `last_good` into a non-ok entry."""
    previous = previous or {}
    return {**entry, "html": previous.get("html"), "records": previous.get("records", []),
            "files": previous.get("files", []), "last_good": previous.get("last_good")}


def _readable_records(staging: Path, spec: NotebookSpec) -> list[dict[str, Any]]:
    """The artefact records a failed notebook managed to write (unreadable ones are ignored)."""
    records = []
    for artefact in spec.artefacts:
        try:
            records.append(json.loads((staging / f"{artefact}.json").read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    return records


def _wait_through_interrupts(futures: list[Future[Outcome]]) -> None:
    """Wait for all futures, ignoring further Ctrl-C while the killed notebooks wind down."""
    while True:
        try:
            wait(futures)
            return
        except KeyboardInterrupt:
            continue


# --------------------------------------------------------------------------------------------
# Output


def format_outcome(outcome: Outcome) -> str:
    """One progress line: notebook, status, duration and detail."""
    status = "FAILED" if outcome.status == "failed" else outcome.status
    line = f"{outcome.key:<48} {status:<12} {outcome.duration_s:7.1f} s"
    return f"{line}  {outcome.detail}" if outcome.detail else line


def _announce(outcome: Outcome) -> Outcome:
    """Print a finished notebook's progress line and pass the outcome through."""
    print(format_outcome(outcome), flush=True)
    return outcome


def format_summary(outcomes: list[Outcome], profile: str, elapsed_s: float,
                   reports: Path) -> str:
    """The final summary: counts, total time, failures with their logs, synthetic-data banners."""
    ok = sum(o.status == "ok" for o in outcomes)
    failed = [o for o in outcomes if o.status == "failed"]
    skipped = sum(o.status in ("up to date", "skipped-gpu", "skipped-data") for o in outcomes)
    lines = [f"Summary (profile {profile}): {ok} ok, {len(failed)} failed, {skipped} skipped "
             f"in {elapsed_s:.1f} s"]
    for o in failed:
        paper, name = o.key.split("/", 1)
        lines.append(f"  FAILED {o.key}: {o.detail} (log: {reports / paper / 'logs' / name}.log)")
    for o in outcomes:
        lines += [f"  SYNTHETIC DATA in {o.key}: {banner}" for banner in o.banners]
    return "\n".join(lines)


def format_listing(jobs: list[Job], manifest: Manifest, profile: str) -> str:
    """`--list`: papers, notebooks, artefacts and each notebook's parameters for the profile.

    Args:
        jobs: Planned jobs.
        manifest: The manifest (for paper titles).
        profile: The profile name.

    Returns:
        The listing; values set for this profile (manifest, --data, -p, PROFILE) are marked `*`.
    """
    lines = [f"profile {profile}  (* = set for this run; other values are notebook defaults)"]
    paper = None
    for job in jobs:
        spec = job.spec
        if spec.paper != paper:
            paper = spec.paper
            lines.append(f"\n{paper}: {manifest.papers.get(paper, {}).get('title', '')}")
        needs = (" [needs GPU]" if spec.needs_gpu else "") + (
            f" [needs data: {', '.join(spec.needs_data)}]" if spec.needs_data else "")
        lines.append(f"  {spec.name}  artefacts: {', '.join(spec.artefacts)}{needs}")
        values = [f"{name}={json.dumps(job.parameters[name])}*" if name in job.parameters
                  else f"{name}={info['default']}" for name, info in job.declared.items()]
        lines.append(f"      {'  '.join(values)}")
    return "\n".join(lines)


def format_plan(jobs: list[Job], profile: str) -> str:
    """`--dry-run`: what would run or be skipped, why, and with which parameters."""
    lines = []
    for job in jobs:
        verb = "would run" if job.action == "run" else f"skip ({job.action})"
        lines.append(f"{verb:<24} {job.spec.key}: {job.reason}")
        if job.action == "run":
            lines.append(f"{'':<24}   parameters: {json.dumps(job.parameters, sort_keys=True)}")
    runs = sum(job.action == "run" for job in jobs)
    lines.append(f"Dry run (profile {profile}): {runs} would run, {len(jobs) - runs} would be "
                 f"skipped; nothing was executed.")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Command line


def build_parser() -> argparse.ArgumentParser:
    """The `runall.py` argument parser."""
    parser = argparse.ArgumentParser(
        prog="runall.py", description="Execute the suite's notebooks headless and build reports/.")
    parser.add_argument("--profile", default="quick", help="smoke | quick | paper (default quick)")
    parser.add_argument("--only", action="append", default=[], metavar="PAPER[/ARTEFACT]",
                        help="run only this paper or the notebook of this artefact (repeatable)")
    parser.add_argument("--data", metavar="SPEC",
                        help="set DATA of every selected notebook that has it (see lib.data)")
    parser.add_argument("-p", "--parameter", dest="parameters", action="append", nargs=2,
                        default=[], metavar=("NAME", "VALUE"),
                        help="override a notebook parameter, parsed like papermill -p (repeatable)")
    parser.add_argument("--force", action="store_true", help="re-run notebooks that are up to date")
    parser.add_argument("--list", action="store_true",
                        help="list papers, notebooks, artefacts and parameters, then exit")
    parser.add_argument("--dry-run", action="store_true",
                        help="validate and show what would run or be skipped; execute nothing")
    parser.add_argument("--jobs", type=int, default=1, metavar="N",
                        help="notebooks executed concurrently (default 1)")
    return parser


def run(argv: list[str], layout: Layout) -> int:
    """Run `runall.py` with the given arguments against a layout.

    Args:
        argv: Command-line arguments (without the program name).
        layout: Where the manifest, notebooks, reports and build folders are.

    Returns:
        The exit status (0 ok, 1 a notebook failed, 2 usage error, 130 interrupted).
    """
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse has printed the problem (or --help)
        return int(exc.code or 0)
    try:
        manifest, jobs = _prepare(args, layout)
    except UsageError as exc:
        print(f"runall: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("runall: interrupted before any notebook ran", file=sys.stderr)
        return EXIT_INTERRUPTED
    if args.list:
        print(format_listing(jobs, manifest, args.profile))
        return EXIT_OK
    if args.dry_run:
        for job in jobs:
            if job.action == "run":  # papermill --prepare-only: parameterize, execute nothing
                papermill.execute_notebook(job.notebook, None, parameters=job.parameters,
                                           kernel_name=KERNEL_NAME, prepare_only=True)
        print(format_plan(jobs, args.profile))
        return EXIT_OK
    try:
        return _execute(args, layout, manifest, jobs)
    except KeyboardInterrupt:  # outside notebook execution (skips, index): manifest.json is intact
        print("runall: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _prepare(args: argparse.Namespace, layout: Layout) -> tuple[Manifest, list[Job]]:
    """Load the manifest, check the options, select and plan the notebooks (raises UsageError)."""
    if args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    manifest = load_manifest(layout.manifest)
    if args.profile not in manifest.profiles:
        raise UsageError(f"unknown profile {args.profile!r}; valid profiles: "
                         f"{', '.join(manifest.profiles)}")
    specs = select(manifest, args.only)
    return manifest, plan(specs, args, layout, read_report_manifest(layout.report_manifest))


def _execute(args: argparse.Namespace, layout: Layout, manifest: Manifest, jobs: list[Job]) -> int:
    """Execute the planned jobs, print progress and the summary, rebuild the index."""
    clock = time.monotonic()
    state = _Run(layout, manifest, args.profile, args.jobs)
    outcomes = []
    for job in jobs:
        if job.action in ("skipped-gpu", "skipped-data"):
            state.record_skip(job)
        if job.action != "run":
            detail = "" if job.action == "up to date" else job.reason
            outcomes.append(_announce(Outcome(job.spec.key, job.action, 0.0, detail)))
    finished, interrupted = state.execute_all([job for job in jobs if job.action == "run"])
    outcomes += finished
    status = EXIT_FAILED if any(o.status == "failed" for o in outcomes) else EXIT_OK
    try:
        index.build(layout.reports)
    except Exception as exc:  # the manifest is already saved; say so rather than lose the summary
        print(f"runall: error: rebuilding the report index failed: {exc!r}", file=sys.stderr)
        status = EXIT_FAILED
    print(format_summary(outcomes, args.profile, time.monotonic() - clock, layout.reports))
    if interrupted:
        print(f"Interrupted; not completed (reports unchanged): {', '.join(interrupted)}")
        return EXIT_INTERRUPTED
    return status


def _raise_keyboard_interrupt(signum: int, frame: FrameType | None) -> None:
    """SIGTERM handler: stop the way Ctrl-C does."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None, layout: Layout | None = None) -> int:
    """Entry point of `runall.py`: SIGTERM behaves like Ctrl-C; runs on the repository's layout.

    Args:
        argv: Arguments (default `sys.argv[1:]`).
        layout: Layout (default `Layout.default()`).

    Returns:
        The exit status.
    """
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    return run(sys.argv[1:] if argv is None else argv, layout or Layout.default())
