"""Publishing into reports/: one run at a time, all-or-nothing per notebook, provenance.

- `RunLock`: an exclusive `flock` on `reports/.runall.lock`, held for a whole run; a second run on
  the same reports folder is refused with the holder's pid, start time and command.
- `Publisher.publish`: a notebook's new files and its manifest entry change together or not at all.
  The new files are first copied into a transaction folder `reports/.txn/<id>/new/` (same file
  system as the reports), the files they replace are moved to `reports/.txn/<id>/old/`, the new ones
  are renamed into place, and the manifest entry is written last (the commit point). Any error
  before the commit point moves everything back. A transaction folder left by a crash is rolled back
  (or, if its manifest entry was committed, cleared) by the next run before it does anything else.
- The manifest is re-read from disk and merged for every write, so a write never drops an entry that
  changed since this run started.
- Failure logs go to `reports/<paper>/logs/<name>.failed.log` (and `.failed.ipynb`), apart from the
  last good run's `<name>.log`.
"""
from __future__ import annotations

import datetime as dt
import fcntl
import importlib.metadata
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from lib.runner.manifest import Layout, UsageError

PACKAGES = ("torch", "torchvision", "numpy", "scipy", "pandas", "matplotlib", "papermill")
TXN = ".txn"


class PublishError(Exception):
    """Publishing a notebook's files or manifest entry failed; nothing of it was published."""


class BusyError(UsageError):
    """Another run holds the reports folder's lock."""


def utc_now() -> str:
    """The current UTC time, ISO 8601 to the second."""
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")



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




def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON to a temporary file beside `path`, then rename it over `path`."""
    write_text_atomic(path, json.dumps(data, indent=1, sort_keys=True) + "\n")


def write_text_atomic(path: Path, text: str) -> None:
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
# One run at a time


class RunLock:
    """Exclusive lock on `reports/.runall.lock` (`flock`, released by the kernel if the process dies).

    The file holds the holder's pid, start time and command line, for the refusal message.
    """

    def __init__(self, layout: Layout) -> None:
        self.path = layout.lock
        self.fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise `BusyError` naming the process that holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 4096, 0).decode("utf-8", "replace").strip() or "unknown process"
            os.close(fd)
            raise BusyError(f"another runall.py is running on {self.path.parent}: {holder}. Wait for it to "
                            "finish, or stop it (Ctrl-C), then run again") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}, started {utc_now()}, command: {' '.join(sys.argv)}\n".encode(), 0)
        self.fd = fd

    def release(self) -> None:
        """Release the lock (the file stays; its content is stale once unlocked)."""
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def check_writable(folders: list[Path]) -> list[str]:
    """Problems writing into `folders` (created if absent), found by creating and removing a file."""
    errors = []
    for folder in folders:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            probe = folder / f".write-probe.{os.getpid()}"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            errors.append(f"cannot write into {folder}: {exc.strerror or exc}; fix its permissions or free space")
    return errors


# --------------------------------------------------------------------------------------------
# All-or-nothing publishing


class Publisher:
    """Publishes notebooks into one reports folder; call only while holding the `RunLock`."""

    def __init__(self, layout: Layout, papers: dict[str, Any]) -> None:
        self.layout = layout
        self.papers = papers
        self.lock = threading.Lock()
        self.txn_root = layout.reports / TXN

    # ---- the manifest

    def read(self) -> dict[str, Any]:
        """The manifest as it is on disk now."""
        return read_report_manifest(self.layout.report_manifest)

    def write_entry(self, key: str, paper: str, entry: dict[str, Any]) -> None:
        """Re-read the manifest, set one notebook's entry, write it atomically."""
        report = self.read()
        report["notebooks"][key] = entry
        report["papers"][paper] = self.papers.get(paper, {})
        report["generated"] = utc_now()
        write_json_atomic(self.layout.report_manifest, report)

    # ---- transactions

    def recover(self) -> list[str]:
        """Undo (or finish clearing) publications a crashed run left half-done; returns what it did."""
        done = []
        if not self.txn_root.is_dir():
            return done
        notebooks = self.read()["notebooks"]
        for txn in sorted(self.txn_root.iterdir()):
            journal = txn / "journal.json"
            try:
                info = json.loads(journal.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                shutil.rmtree(txn, ignore_errors=True)
                continue
            committed = (notebooks.get(info["key"]) or {}).get("started") == info["started"]
            if not committed:
                self._rollback(txn, info["placed"], info["saved"])
            shutil.rmtree(txn, ignore_errors=True)
            done.append(f"{info['key']}: {'cleared' if committed else 'rolled back'} an interrupted publication")
        return done

    def publish(self, key: str, paper: str, staged: dict[str, Path], remove: list[str],
                entry: dict[str, Any]) -> None:
        """Switch `reports/` to a notebook's new files and entry, all together or not at all.

        Args:
            key: `<paper>/<name>`.
            paper: The paper id.
            staged: Path relative to reports/ -> the file to publish there.
            remove: Paths relative to reports/ to delete (the previous run's files no longer produced).
            entry: The manifest entry; its `started` identifies the transaction.

        Raises:
            PublishError: Nothing of this notebook changed in reports/ (the message says why).
        """
        txn = self.txn_root / f"{os.getpid()}-{threading.get_ident()}-{key.replace('/', '__')}"
        placed: list[str] = []
        saved: list[str] = []
        reports = self.layout.reports

        def journal() -> None:
            write_json_atomic(txn / "journal.json", {"key": key, "started": entry["started"],
                                                     "placed": placed, "saved": saved})

        try:
            shutil.rmtree(txn, ignore_errors=True)
            for rel, src in staged.items():   # the new set, aside
                (txn / "new" / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, txn / "new" / rel)
            journal()
            for rel in [*staged, *remove]:     # the old set, aside
                if (reports / rel).exists():
                    (txn / "old" / rel).parent.mkdir(parents=True, exist_ok=True)
                    os.replace(reports / rel, txn / "old" / rel)
                    saved.append(rel)
                    journal()
            for rel in staged:                 # the switch
                (reports / rel).parent.mkdir(parents=True, exist_ok=True)
                placed.append(rel)
                journal()
                os.replace(txn / "new" / rel, reports / rel)
            self.write_entry(key, paper, entry)   # the commit point
        except Exception as exc:
            try:
                self._rollback(txn, placed, saved)
            finally:
                shutil.rmtree(txn, ignore_errors=True)
            raise PublishError(f"publishing {key} failed, reports/ left as they were: "
                               f"{type(exc).__name__}: {exc}") from exc
        shutil.rmtree(txn, ignore_errors=True)

    def _rollback(self, txn: Path, placed: list[str], saved: list[str]) -> None:
        reports = self.layout.reports
        for rel in placed:
            (reports / rel).unlink(missing_ok=True)
        for rel in saved:
            if (txn / "old" / rel).exists():
                (reports / rel).parent.mkdir(parents=True, exist_ok=True)
                os.replace(txn / "old" / rel, reports / rel)
