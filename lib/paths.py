"""Locations anchored on the repository root (never on the current working directory)."""
from __future__ import annotations

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
MANIFEST = NOTEBOOKS / "manifest.yaml"
REPORTS = ROOT / "reports"
BUILD = ROOT / "build"
SHARED = ROOT.parent / "shared"
SHARED_DATA = SHARED / "data"
CIFAR10_JPEG_ARCHIVE = SHARED_DATA / "cifar10-train-jpeg.tar.gz"


def cache_dir() -> Path:
    """Root of the on-disk cache: `$REPRO_CACHE` if set, else `<repo>/cache`."""
    return Path(os.environ.get("REPRO_CACHE", ROOT / "cache"))


def data_root() -> Path:
    """Where torchvision datasets are downloaded to / looked for: `$REPRO_DATA_ROOT` or `<repo>/data`."""
    return Path(os.environ.get("REPRO_DATA_ROOT", ROOT / "data"))


def output_dir(paper: str) -> Path:
    """Where a notebook writes its artefacts: `$REPRO_OUT` (set by the runner) or build/interactive/<paper>."""
    out = os.environ.get("REPRO_OUT")
    return Path(out) if out else BUILD / "interactive" / paper


def imported_lib() -> str:
    """This `lib` folder, relative to the checkout being run (`$REPRO_ROOT`, set by the runner for its
    kernels; else this repository): `lib` when the kernel imported the right checkout's library."""
    return os.path.relpath(ROOT / "lib", os.environ.get("REPRO_ROOT", ROOT))


_ABSOLUTE = re.compile(r"(?<![\w./])/(?!/)(?:[\w.@+-]+/)*[\w.@+-]+")


def relative_text(text: str, root: Path | str = ROOT) -> str:
    """`text` with every absolute path rewritten relative to the repository `root` (normalised, so
    `/work/main/../shared/data/x` reads `../shared/data/x`): what reports record, never a machine's
    absolute path. Text without absolute paths comes back unchanged."""
    if not isinstance(text, str):
        return text
    base = os.path.normpath(str(root))
    return _ABSOLUTE.sub(lambda m: os.path.relpath(os.path.normpath(m.group(0)), base), text)
