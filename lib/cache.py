"""Expensive intermediates cached on disk by a hash of a small canonical spec.

`cached("baseline", spec, compute, code=[lib.train, ...])` returns `compute()`'s value, computed once
per spec and stored as `cache/<stage>/<key>.pt` with the spec beside it (`<key>.json`). Keys hash
the spec (names, numbers, seeds, data fingerprints, device type), never tensors, plus the source of
the modules the value depends on (`code`), so editing them invalidates the entry.
Writes go to a temporary file first: an interrupted computation leaves nothing behind.
"""
from __future__ import annotations

import hashlib
import inspect
import json
import os
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

import torch

from lib import paths

SCHEMA = 3   # bump when the stored format changes
T = TypeVar("T")


def spec_key(spec: dict[str, Any]) -> str:
    """SHA-256 (hex, 16 chars) of the canonical JSON of `spec` (sorted keys) and the cache schema."""
    canonical = json.dumps({"schema": SCHEMA, **spec}, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def code_digest(modules: Sequence[ModuleType]) -> str:
    """SHA-256 (hex, 16 chars) of the source files of `modules`."""
    h = hashlib.sha256()
    for module in modules:
        h.update(Path(inspect.getfile(module)).read_bytes())
    return h.hexdigest()[:16]


def _atomic_save(obj: Any, path: Path) -> None:
    tmp = path.with_suffix(path.suffix + f".tmp{os.getpid()}")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def cached(stage: str, spec: dict[str, Any], compute: Callable[[], T], enabled: bool = True,
           code: Sequence[ModuleType] = ()) -> T:
    """Return the cached value for (`stage`, `spec`), computing and storing it on a miss.

    Args:
        stage: a folder name, e.g. "baseline".
        spec: JSON-serialisable description that fully determines the value.
        compute: called on a miss; its value must be `torch.save`-able (tensors, dicts, state_dicts).
        enabled: False recomputes and does not store (`NO_CACHE` notebook parameter).
        code: modules whose source determines the value; their digest joins the key.
    """
    if not enabled:
        return compute()
    spec = {**spec, "code": code_digest(code)} if code else spec
    folder = paths.cache_dir() / stage
    key = spec_key(spec)
    path = folder / f"{key}.pt"
    if path.exists():
        try:
            return torch.load(path, map_location="cpu", weights_only=False)
        except Exception as exc:  # a corrupt entry is recomputed, not trusted
            warnings.warn(f"cache entry {path} unreadable ({type(exc).__name__}: {exc}); recomputing",
                          stacklevel=2)
            path.unlink(missing_ok=True)
    value = compute()
    folder.mkdir(parents=True, exist_ok=True)
    _atomic_save(value, path)
    (folder / f"{key}.json").write_text(json.dumps(spec, indent=1, sort_keys=True, default=str))
    return value
