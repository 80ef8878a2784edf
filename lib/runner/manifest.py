"""The manifest (`notebooks/manifest.yaml`): where things are, which notebooks exist, which are selected."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from lib import paths


class UsageError(Exception):
    """A problem with the command line, the manifest or a notebook found before anything ran."""


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

    @property
    def lock(self) -> Path:
        """The lock file that allows one run at a time per reports folder."""
        return self.reports / ".runall.lock"


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
        papers: Paper id -> `{"title": ..., "citation": ..., "draft": ...}`; `draft` (a reason, or "") marks
            a paper whose quick/paper runs are not yet verified: a run without `--only` leaves it out
            except under the smoke profile.
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
        papers[paper] = {"title": info.get("title", ""), "citation": info.get("citation", ""),
                         "draft": str(info.get("draft") or "")}
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


def select(manifest: Manifest, only: list[str], profile: str = "smoke") -> list[NotebookSpec]:
    """The notebooks chosen by `--only PAPER[/ARTEFACT]` options, in manifest order.

    Args:
        manifest: The parsed manifest.
        only: `--only` values; empty selects every notebook, except those of draft papers under any
            profile but smoke (name a draft paper with `--only` to run it).
        profile: The profile of the run.

    Returns:
        The selected notebooks, each once.

    Raises:
        UsageError: An unknown paper or artefact; the message lists the valid ones.
    """
    if not only:
        return [nb for nb in manifest.notebooks
                if profile == "smoke" or not manifest.papers.get(nb.paper, {}).get("draft")]
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
