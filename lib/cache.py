"""Expensive intermediates cached on disk by a hash of a small canonical spec.

`cached("baseline", spec, compute, code=[lib.train, ...])` returns `compute()`'s value, computed once
per spec and stored as `cache/<stage>/<key>.pt` with the spec beside it (`<key>.json`). Keys hash
the spec (names, numbers, seeds, data fingerprints, device type), never tensors, plus the source of
the modules the value depends on (`code`), so editing them invalidates the entry.
Writes go to a temporary file first: an interrupted computation leaves nothing behind.

Each entry's sidecar also records how long its computation took (`_compute_s`, seconds of wall time),
and the process keeps a ledger of hits and misses (`ledger()`): a notebook re-run from the cache can
then still state its cost from an empty cache (its own wall time plus the seconds its hits saved).
"""
from __future__ import annotations

import hashlib
import inspect
import json
import os
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

import torch

from lib import paths

SCHEMA = 3   # bump when the stored format changes
T = TypeVar("T")
COMPUTE_S = "_compute_s"   # sidecar key: seconds the entry took to compute (not part of the key)

_LEDGER: dict[str, int] = {"hits": 0, "misses": 0, "hits_untimed": 0}
_HIT_S: dict[str, float] = {}    # "<stage>/<key>" -> recorded compute seconds, per distinct entry hit
_COMPUTED: set[str] = set()      # "<stage>/<key>" of the entries this process computed (misses)
_ALL_HIT_S = [0.0]               # seconds of every hit, repeats included (cost of nested computations)


def ledger() -> dict[str, Any]:
    """This process's cache use so far: counts of hits, misses and `hits_untimed` (hits on entries
    written before compute times were recorded); `hit_s`, the recorded compute seconds of each distinct
    entry hit, and `saved_s`, their sum; `computed`, the entries computed here. A set of runs sharing
    entries costs, from an empty cache, its wall times plus the `hit_s` of entries none of them computed
    (`lib.index.compute_time`): summing `saved_s` would count a shared entry once per run."""
    return {**_LEDGER, "saved_s": round(sum(_HIT_S.values()), 2),
            "hit_s": {k: round(v, 3) for k, v in sorted(_HIT_S.items())}, "computed": sorted(_COMPUTED)}


def _recorded_compute_s(sidecar: Path) -> float | None:
    """The compute seconds stored beside an entry, or None when the sidecar has none."""
    try:
        value = json.loads(sidecar.read_text()).get(COMPUTE_S)
    except (OSError, ValueError, AttributeError):
        return None
    return float(value) if isinstance(value, (int, float)) else None


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
           code: Sequence[ModuleType] = (), thread_dependent: bool = True) -> T:
    """Return the cached value for (`stage`, `spec`), computing and storing it on a miss.

    Args:
        stage: a folder name, e.g. "baseline".
        spec: JSON-serialisable description that fully determines the value.
        compute: called on a miss; its value must be `torch.save`-able (tensors, dicts, state_dicts).
        enabled: False recomputes and does not store (`NO_CACHE` notebook parameter).
        code: modules whose source determines the value; their digest joins the key.
        thread_dependent: the value's floating-point arithmetic may depend on how many threads torch
            uses (training, anything summed in parallel): then `torch.get_num_threads()` joins the key.
            A network trained with 1 thread and with 2 is bitwise different (reduction order), so
            `--jobs 2` (one thread per kernel) and `--jobs 1` runs never serve each other's results.
    """
    if not enabled:
        return compute()
    spec = {**spec, "code": code_digest(code)} if code else spec
    if thread_dependent:
        spec = {**spec, "threads": torch.get_num_threads()}
    folder = paths.cache_dir() / stage
    key = spec_key(spec)
    path = folder / f"{key}.pt"
    sidecar = folder / f"{key}.json"
    if path.exists():
        try:
            value = torch.load(path, map_location="cpu", weights_only=False)
        except Exception as exc:  # a corrupt entry is recomputed, not trusted
            warnings.warn(f"cache entry {path} unreadable ({type(exc).__name__}: {exc}); recomputing",
                          stacklevel=2)
            path.unlink(missing_ok=True)
        else:
            seconds = _recorded_compute_s(sidecar)
            _LEDGER["hits"] += 1
            if seconds is None:
                _LEDGER["hits_untimed"] += 1
            else:
                _HIT_S[f"{stage}/{key}"] = seconds
                _ALL_HIT_S[0] += seconds
            return value
    start, nested_before = time.perf_counter(), _ALL_HIT_S[0]
    value = compute()
    # cost from an empty cache: this computation's wall time plus what nested hits inside it saved
    seconds = time.perf_counter() - start + (_ALL_HIT_S[0] - nested_before)
    _LEDGER["misses"] += 1
    _COMPUTED.add(f"{stage}/{key}")
    folder.mkdir(parents=True, exist_ok=True)
    _atomic_save(value, path)
    sidecar.write_text(json.dumps({**spec, COMPUTE_S: round(seconds, 3)}, indent=1, sort_keys=True, default=str))
    return value
