"""Notebook parameters -> a validated `Config`.

A notebook's `parameters` cell holds UPPER_CASE literals (defaults = the smoke profile); the next
cell calls `cfg = lib.config.resolve("<paper id>", globals())`. `resolve` collects those literals,
checks them, resolves the device and the data spec, seeds everything, and prints the effective
configuration. Derived values are computed here, never in the parameters cell (papermill injects
overrides after it).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

import torch

from lib import paths, repro

LITERALS = (str, int, float, bool, list, tuple, dict, type(None))


class Profile(str, Enum):
    """Run profiles (see README): smoke = synthetic, seconds; quick = real CIFAR-10 on a CPU; paper = full."""

    SMOKE = "smoke"
    QUICK = "quick"
    PAPER = "paper"


@dataclass
class Config:
    """Effective configuration of one notebook run. Parameters are attributes in lower case."""

    paper: str
    profile: Profile
    device: torch.device
    params: dict[str, Any]
    out: Path
    _datasets: dict[str, Any] = field(default_factory=dict, repr=False)
    memo: dict[str, Any] = field(default_factory=dict, repr=False)   # per-run results (e.g. loaded models)

    def __getattr__(self, name: str) -> Any:
        params = self.__dict__.get("params", {})
        if name.upper() in params:
            return params[name.upper()]
        raise AttributeError(f"no parameter {name.upper()!r} in this notebook; have: {sorted(params)}")

    @property
    def seeds(self) -> list[int]:
        return list(self.params.get("SEEDS", [0]))

    @property
    def use_cache(self) -> bool:
        return not self.params.get("NO_CACHE", False)

    def dataset(self, spec: str | None = None):
        """A dataset (default: the `DATA` spec), loaded once onto `device`; see `lib.data.load`.

        The `paper` profile never falls back to the synthetic stand-in.
        """
        spec = spec or self.params.get("DATA", "synthetic")
        if spec not in self._datasets:
            from lib import data

            self._datasets[spec] = data.load(spec, device=self.device, split_seed=int(self.params.get("SPLIT_SEED", 0)),
                                             allow_fallback=self.profile is not Profile.PAPER)
        return self._datasets[spec]

    def data_record(self) -> dict | None:
        """The `data` entry of artefact records: the first dataset used, others listed under `others`."""
        records = [ds.record() for ds in self._datasets.values()]
        if not records:
            return None
        banners = [r["banner"] for r in records if r["banner"]]
        return records[0] | {"banner": banners[0] if banners else None, "others": records[1:]}

    def data_notes(self) -> list[str]:
        return [note for ds in self._datasets.values() for note in ds.notes]

    def device_name(self) -> str:
        if self.device.type == "cuda":
            return f"cuda ({torch.cuda.get_device_name(self.device)})"
        return f"cpu ({torch.get_num_threads()} threads)"


def _collect(namespace: dict[str, Any]) -> dict[str, Any]:
    params = {k: v for k, v in namespace.items() if k.isupper() and not k.startswith("_")}
    bad = {k: type(v).__name__ for k, v in params.items() if not isinstance(v, LITERALS)}
    if bad:
        raise TypeError(f"parameters must be literals (str/int/float/bool/list/dict/None); got {bad}")
    return params


def resolve_device(name: str) -> torch.device:
    """`auto` -> cuda if available else cpu; otherwise the named device (must exist)."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"DEVICE={name!r} but CUDA is not available; use DEVICE='auto' or 'cpu'")
    return device


def resolve(paper: str, namespace: dict[str, Any], verbose: bool = True) -> Config:
    """Build the `Config` of a notebook from its parameters.

    Args:
        paper: paper id (folder under notebooks/ and reports/).
        namespace: the notebook's `globals()`; every UPPER_CASE name is a parameter.
        verbose: print the effective configuration.

    Raises:
        ValueError: unknown profile or empty SEEDS.
    """
    params = _collect(namespace)
    profile = Profile(params.get("PROFILE", "smoke"))
    if "SEEDS" in params and (not params["SEEDS"] or len(set(params["SEEDS"])) != len(params["SEEDS"])):
        raise ValueError(f"SEEDS must list at least one seed, each once; got {params['SEEDS']}")
    device = resolve_device(str(params.get("DEVICE", "auto")))
    seeds = list(params.get("SEEDS", [0]))
    repro.setup(int(seeds[0]))
    out = paths.output_dir(paper)
    out.mkdir(parents=True, exist_ok=True)
    cfg = Config(paper=paper, profile=profile, device=device, params=params, out=out)
    if verbose:
        shown = ", ".join(f"{k}={v!r}" for k, v in sorted(params.items()))
        print(f"[{paper}] profile={profile.value} device={cfg.device_name()} out={out}\n  {shown}")
        if os.environ.get("REPRO_OUT") is None:
            print("  (interactive run: outputs go to build/interactive/, reports/ is written only by runall.py)")
    return cfg
