"""Executing notebooks: one fresh kernel each, papermill, staging, interrupts.

Each notebook runs in its own `python3` kernel whose environment puts this checkout's root first on
`PYTHONPATH` (so the kernel imports this checkout's `lib`, whatever is installed) and gives it its
share of the cores (`OMP_NUM_THREADS` etc. = cores // jobs). It writes into a staging folder private
to this run, `build/runs/<run id>/<paper>/<name>/`; only a finished notebook's files are published
(`lib.runner.publish`).

Interrupts (Ctrl-C, SIGTERM): no further notebook starts, running kernels are killed, nothing is
published, and the run returns within `STOP_GRACE_S` seconds; a second interrupt exits at once.
"""
from __future__ import annotations

import copy
import json
import logging
import os
import queue
import re
import shutil
import signal
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import nbformat
import papermill
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbconvert import HTMLExporter
from nbconvert.preprocessors import TagRemovePreprocessor
from papermill.exceptions import PapermillExecutionError

from lib.runner import publish as pub
from lib.runner.manifest import Layout, Manifest, NotebookSpec
from lib.runner.parameters import KERNEL_NAME
from lib.runner.plan import Job

KERNEL_START_TIMEOUT_S = 120
STOP_GRACE_S = 10.0
KERNEL_ENV = {
    "REPRO_HEADLESS": "1",
    "PYTHONHASHSEED": "0",
    "MPLBACKEND": "Agg",
    "SOURCE_DATE_EPOCH": "0",
    "CUBLAS_WORKSPACE_CONFIG": ":4096:8",
}
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS",
               "REPRO_THREADS")
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class OutputMissingError(Exception):
    """A notebook finished without writing a file the manifest declares."""


class KernelInterrupted(Exception):
    """The run was stopped while this notebook's kernel was starting."""


class WrongCheckoutError(Exception):
    """The kernel imported `lib` from another checkout than the one being run."""


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


def threads_per_kernel(jobs: int, cores: int | None = None) -> int:
    """Each of `jobs` concurrent kernels gets this many threads: its share of the cores, at least 1."""
    if cores is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, cores // max(1, jobs))


def kernel_env(layout: Layout, staging: Path, threads: int) -> dict[str, str]:
    """The environment of one notebook's kernel (see the module docstring)."""
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, **KERNEL_ENV, **{v: str(threads) for v in THREAD_VARS},
            "REPRO_OUT": str(staging), "REPRO_ROOT": str(layout.root),
            "PYTHONPATH": str(layout.root) + (os.pathsep + path if path else "")}


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
        os.killpg(process.pid, signal.SIGKILL)  # kernels start in their own session
    except OSError:
        pass


_PROGRESS = re.compile(r"\d+%\|.*\|\s*\d+/\d+|\[\d+:\d+<[^\]]*(?:it/s|s/it)\]|\d+(?:\.\d+)?\s*(?:it/s|s/it)\b")


def _without_progress(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of `nb` without progress-bar output: in stderr streams, the lines a progress bar
    rewrites (`\\r`) or that look like one (tqdm's `42%|####| 7/17 [00:12<00:10, 1.3it/s]`) are
    dropped, and a stream left empty goes; every other output stays."""
    nb = copy.deepcopy(nb)
    for cell in nb.get("cells", []):
        kept = []
        for out in cell.get("outputs", []) or []:
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                text = out.get("text", "")
                text = "".join(text) if isinstance(text, list) else str(text)
                lines = [line for line in re.split(r"(?<=\n)", text)
                         if line and "\r" not in line and not _PROGRESS.search(line)]
                if not "".join(lines).strip():
                    continue
                out["text"] = "".join(lines)
            kept.append(out)
        if "outputs" in cell:
            cell["outputs"] = kept
    return nb


def render_html(nb: nbformat.NotebookNode, path: Path) -> None:
    """Render an executed notebook to HTML for readers: no code, no prompts, no `remove-cell` cells,
    no progress-bar output (`_without_progress`; the executed .ipynb keeps everything)."""
    exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    exporter.register_preprocessor(TagRemovePreprocessor(remove_cell_tags={"remove-cell"}), enabled=True)
    body, _ = exporter.from_notebook_node(_without_progress(nb))
    path.write_text(body, encoding="utf-8")


def load_records(staging: Path, spec: NotebookSpec) -> list[dict[str, Any]]:
    """Check a finished notebook's files and read its artefact records (in artefact order).

    Raises:
        OutputMissingError: A declared output or an artefact record is missing.
    """
    required = [*spec.outputs, *(f"{a}.json" for a in spec.artefacts)]
    missing = [name for name in required if not (staging / name).is_file()]
    if missing:
        raise OutputMissingError(f"declared output missing: {', '.join(missing)}")
    return [json.loads((staging / f"{a}.json").read_text(encoding="utf-8")) for a in spec.artefacts]


def _readable_records(staging: Path, spec: NotebookSpec) -> list[dict[str, Any]]:
    """The artefact records a failed notebook managed to write (unreadable ones are ignored)."""
    records = []
    for artefact in spec.artefacts:
        try:
            records.append(json.loads((staging / f"{artefact}.json").read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    return records


def check_checkout(records: list[dict[str, Any]], layout: Layout) -> str | None:
    """The `lib` folder the kernel imported, as its records give it (`lib_path`, relative to the
    checkout being run); raises `WrongCheckoutError` unless it is this checkout's `lib`."""
    found = {r.get("lib_path") for r in records} - {None}
    wrong = sorted(found - {"lib"})
    if wrong:
        raise WrongCheckoutError(f"the kernel imported lib from {wrong[0]} (relative to {layout.root}), "
                                 "not from this checkout; check PYTHONPATH and editable installs")
    return "lib" if found else None


def describe_failure(exc: BaseException) -> str:
    """A one-line summary of why a notebook failed (the failing cell's exception when known)."""
    if isinstance(exc, PapermillExecutionError):
        text = f"{exc.ename}: {exc.evalue}"
    elif isinstance(exc, DeadKernelError):
        text = "kernel died (out of memory?)"
    elif isinstance(exc, CellTimeoutError):
        text = f"CellTimeoutError: {str(exc).splitlines()[0]}"
    elif isinstance(exc, (OutputMissingError, WrongCheckoutError, pub.PublishError)):
        text = str(exc)
    else:
        text = f"{type(exc).__name__}: {exc}"
    return " ".join(text.split())[:500]


def failure_log(spec: NotebookSpec, exc: BaseException, started: str, duration_s: float,
                kernel_log: Path) -> str:
    """The text of `reports/<paper>/logs/<name>.failed.log`."""
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


def keep_last_good(entry: dict[str, Any], previous: dict[str, Any] | None) -> dict[str, Any]:
    """Carry the last good run's `html`, `records`, `files` and `last_good` into a non-ok entry."""
    previous = previous or {}
    return {**entry, "html": previous.get("html"), "records": previous.get("records", []),
            "files": previous.get("files", []), "last_good": previous.get("last_good")}


class Run:
    """One invocation's execution: worker threads, live kernels, the publisher."""

    def __init__(self, layout: Layout, manifest: Manifest, profile: str, jobs: int,
                 publisher: pub.Publisher) -> None:
        self.layout = layout
        self.profile = profile
        self.jobs = jobs
        self.threads = threads_per_kernel(jobs)
        self.timeout_s = manifest.profiles.get(profile, {}).get("cell_timeout_s")
        self.publisher = publisher
        self.git = pub.git_state(layout.root, layout.reports)
        self.packages = pub.package_versions()
        self.run_dir = layout.build / "runs" / f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}"
        self.kernels_lock = threading.Lock()
        self.kernels: dict[str, AsyncKernelManager] = {}
        self.stopping = threading.Event()
        self.stop_reason = ""

    # ---- the loop

    def execute_all(self, jobs: list[Job], announce) -> tuple[list[Outcome], list[str]]:
        """Execute `jobs` on `self.jobs` worker threads, announcing each outcome as it finishes.

        Returns:
            `(outcomes, not_completed)`: the finished notebooks' outcomes, and the keys of those
            interrupted or never started (empty unless the run was stopped).
        """
        todo: queue.Queue[Job] = queue.Queue()
        for job in jobs:
            todo.put(job)
        done: queue.Queue[Outcome] = queue.Queue()

        def worker() -> None:
            while not self.stopping.is_set():
                try:
                    job = todo.get_nowait()
                except queue.Empty:
                    return
                done.put(self.execute(job))

        workers = [threading.Thread(target=worker, name=f"notebook-{i}", daemon=True)
                   for i in range(min(self.jobs, len(jobs)))]
        for w in workers:
            w.start()
        outcomes: list[Outcome] = []
        try:
            while any(w.is_alive() for w in workers) or not done.empty():
                try:
                    outcome = done.get(timeout=0.2)
                except queue.Empty:
                    continue
                if outcome.status != "interrupted":
                    outcomes.append(announce(outcome))
        except KeyboardInterrupt:
            self._interrupted(workers)
        finally:
            shutil.rmtree(self.run_dir, ignore_errors=True)
        finished = {o.key for o in outcomes}
        return outcomes, [job.spec.key for job in jobs if job.spec.key not in finished]

    def _interrupted(self, workers: list[threading.Thread]) -> None:
        """First interrupt: kill kernels and wait up to `STOP_GRACE_S`; a second one exits at once."""
        def hard_exit(signum: int, frame: object) -> None:
            os._exit(130)

        signal.signal(signal.SIGINT, hard_exit)
        signal.signal(signal.SIGTERM, hard_exit)
        self.stop("interrupted")
        deadline = time.monotonic() + STOP_GRACE_S
        for w in workers:
            w.join(max(0.0, deadline - time.monotonic()))

    def stop(self, reason: str) -> None:
        """Start no further notebook, kill running kernels (their reports stay as they are)."""
        with self.kernels_lock:
            self.stop_reason = self.stop_reason or reason
            self.stopping.set()
            for km in self.kernels.values():
                _kill_kernel(km)

    # ---- one notebook

    def execute(self, job: Job) -> Outcome:
        """Execute one notebook in a fresh staging folder and publish the result."""
        spec = job.spec
        if self.stopping.is_set():
            return Outcome(spec.key, "interrupted")
        staging = self.run_dir / spec.paper / spec.name
        shutil.rmtree(staging, ignore_errors=True)
        (staging / "logs").mkdir(parents=True)
        kernel_log = staging / "logs" / f"{spec.name}.log"
        started, clock = pub.utc_now(), time.monotonic()
        try:
            with kernel_log.open("a", encoding="utf-8") as log:
                executed = self._papermill(job, staging, log)
            records = load_records(staging, spec)
            lib_path = check_checkout(records, self.layout)
            render_html(executed, staging / f"{spec.name}.html")
        except Exception as exc:  # every failure of a notebook is reported, then the run goes on
            duration = time.monotonic() - clock
            if self.stopping.is_set():
                return Outcome(spec.key, "interrupted", duration)
            return self._publish_failure(job, exc, started, duration, staging)
        duration = time.monotonic() - clock
        if self.stopping.is_set():
            return Outcome(spec.key, "interrupted", duration)
        try:
            self._publish_success(job, records, lib_path, started, duration, staging)
        except pub.PublishError as exc:
            self.stop("publish failed")
            return Outcome(spec.key, "failed", duration, describe_failure(exc))
        banners = [r["data"]["banner"] for r in records if (r.get("data") or {}).get("banner")]
        return Outcome(spec.key, "ok", duration, banners=banners)

    def _papermill(self, job: Job, staging: Path, log: TextIO) -> nbformat.NotebookNode:
        """Start a kernel for the notebook (its own env and cwd) and execute it with papermill.

        The kernel is started here rather than by papermill so that its environment and working
        directory are per notebook without touching `os.environ` or the process's cwd, which
        worker threads share; papermill gets the started kernel manager (`km=`).
        """
        env = kernel_env(self.layout, staging, self.threads)
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
            if self.stopping.is_set():
                _kill_kernel(km)
            elif km.has_kernel:
                run_sync(km.shutdown_kernel)(now=True)
            else:
                run_sync(km.cleanup_resources)()

    def _entry(self, job: Job, started: str, duration_s: float, device: str) -> dict[str, Any]:
        """The manifest fields describing this attempt of a notebook."""
        spec = job.spec
        return {"paper": spec.paper, "notebook": spec.name, "artefacts": list(spec.artefacts),
                "profile": self.profile, "run_key": job.run_key, "parameters": job.parameters,
                "started": started, "duration_s": round(duration_s, 2), "git": self.git,
                "packages": self.packages, "device": device, "threads": self.threads}

    def _publish_success(self, job: Job, records: list[dict[str, Any]], lib_path: str | None, started: str,
                         duration_s: float, staging: Path) -> None:
        """Publish every staged file into `reports/<paper>/` together with the `ok` entry."""
        spec = job.spec
        staged = {f"{spec.paper}/{p.relative_to(staging).as_posix()}": p
                  for p in sorted(staging.rglob("*")) if p.is_file()}
        with self.publisher.lock:
            report = self.publisher.read()
            previous = report["notebooks"].get(spec.key) or {}
            others = {f for k, e in report["notebooks"].items() if k != spec.key for f in e.get("files", [])}
            failed = [f"{spec.paper}/logs/{spec.name}.failed.log", f"{spec.paper}/logs/{spec.name}.failed.ipynb"]
            remove = sorted((set(previous.get("files", [])) - set(staged) - others) | set(failed))
            device = next((r["device"] for r in records if r.get("device")), "cpu")
            ledgers = [r["cache"] for r in records if isinstance(r.get("cache"), dict)]
            entry = {**self._entry(job, started, duration_s, device), "status": "ok",
                     "cache": max(ledgers, key=lambda c: c.get("hits", 0) + c.get("misses", 0), default=None),
                     "html": f"{spec.paper}/{spec.name}.html",
                     "records": [f"{spec.paper}/{a}.json" for a in spec.artefacts],
                     "files": list(staged), "error": None, "log": f"{spec.paper}/logs/{spec.name}.log",
                     "lib_imported": lib_path}
            entry["last_good"] = {k: entry[k] for k in (
                "run_key", "started", "duration_s", "cache", "profile", "parameters", "git", "packages",
                "device", "html", "records", "files", "log")}
            self.publisher.publish(spec.key, spec.paper, staged, remove, entry)
        shutil.rmtree(staging, ignore_errors=True)

    def _publish_failure(self, job: Job, exc: BaseException, started: str, duration_s: float,
                         staging: Path) -> Outcome:
        """Publish the failure log and failed notebook (apart from the last good log); mark it failed."""
        spec = job.spec
        kernel_log = staging / "logs" / f"{spec.name}.log"
        failed_log = staging / "failed" / f"{spec.name}.failed.log"
        failed_log.parent.mkdir(parents=True, exist_ok=True)
        failed_log.write_text(failure_log(spec, exc, started, duration_s, kernel_log), encoding="utf-8")
        staged = {f"{spec.paper}/logs/{spec.name}.failed.log": failed_log}
        executed = staging / f"{spec.name}.ipynb"
        if executed.exists():
            staged[f"{spec.paper}/logs/{spec.name}.failed.ipynb"] = executed
        records = _readable_records(staging, spec)
        device = next((r["device"] for r in records if r.get("device")), "cpu")
        detail = describe_failure(exc)
        with self.publisher.lock:
            previous = self.publisher.read()["notebooks"].get(spec.key)
            remove = [] if executed.exists() else [f"{spec.paper}/logs/{spec.name}.failed.ipynb"]
            entry = {**self._entry(job, started, duration_s, device), "status": "failed", "error": detail,
                     "log": f"{spec.paper}/logs/{spec.name}.failed.log"}
            try:
                self.publisher.publish(spec.key, spec.paper, staged, remove, keep_last_good(entry, previous))
            except pub.PublishError as publish_exc:
                self.stop("publish failed")
                detail = f"{detail}; and {describe_failure(publish_exc)}"
        return Outcome(spec.key, "failed", duration_s, detail)

    def record_skip(self, job: Job) -> None:
        """Record a `skipped-gpu` / `skipped-data` notebook (reason in `error`), keeping its last good run."""
        entry = {**self._entry(job, pub.utc_now(), 0.0, "cpu"), "status": job.action, "error": job.reason,
                 "log": None}
        with self.publisher.lock:
            previous = self.publisher.read()["notebooks"].get(job.spec.key)
            self.publisher.write_entry(job.spec.key, job.spec.paper, keep_last_good(entry, previous))
