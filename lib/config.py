"""Notebook parameters -> a validated `Config`.

A paper declares its parameters once, in `lib/papers/<paper>/params.py` (`lib.params`). A notebook's
`parameters` cell holds only `PROFILE = "smoke"`; papermill injects overrides (`-p NAME VALUE`) after
it. The next cell calls `cfg = lib.config.resolve("<paper id>", globals())`, which collects PROFILE
and the UPPER_CASE overrides, validates them against the declarations (`Params.resolve`: an unknown
name, a wrong type or a value out of range raises `ParamError` naming the valid ones, before any
compute), resolves the device, seeds everything, and prints the effective parameters.

Parameters are read as `cfg.p.N_RANK` (a frozen dataclass with one typed field per declared
parameter) or `cfg.n_rank`; both refuse an undeclared name. A paper without declarations (tests'
`demo`) takes the namespace's literals as its parameters.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, make_dataclass
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

import torch

from lib import params as params_module
from lib import paths, repro

LITERALS = (str, int, float, bool, list, tuple, dict, type(None))
M = TypeVar("M")


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
    p: Any = field(default=None, repr=False)      # frozen dataclass of the declared parameters (see `typed`)
    _datasets: dict[str, Any] = field(default_factory=dict, repr=False)
    _memos: dict[type, Any] = field(default_factory=dict, repr=False)   # see `memo`
    model_notes: list[str] = field(default_factory=list, repr=False)    # where each trained model came from

    def note_model(self, text: str) -> None:
        """Record where a model used by this run came from (zoo checkpoint or trained here); every
        artefact record of the run lists these notes."""
        if text not in self.model_notes:
            self.model_notes.append(text)

    def __getattr__(self, name: str) -> Any:
        params = self.__dict__.get("params", {})
        if name.upper() in params:
            return params[name.upper()]
        raise AttributeError(f"no parameter {name.upper()!r} declared for {self.__dict__.get('paper')!r}; "
                             f"valid: {', '.join(sorted(params))}")

    def memo(self, kind: type[M]) -> M:
        """This run's instance of `kind`, a paper's dataclass of values computed once per notebook run
        (loaded models, image sets, ...; e.g. `lib.papers.pixel_deflection.protocol.Memo`), created empty."""
        if kind not in self._memos:
            self._memos[kind] = kind()
        return self._memos[kind]

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


def typed(paper: str, values: dict[str, Any], declared: params_module.Params | None) -> Any:
    """A frozen dataclass `Params_<paper>` with one field per parameter (declared type), holding `values`."""
    types = {n: (declared[n].type if declared is not None and n in declared else Any) for n in values}
    cls = make_dataclass(f"Params_{paper}", [(n, types[n]) for n in values], frozen=True)
    return cls(**values)


def effective_parameters(paper: str, namespace: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    """(every parameter's effective value, the names set in `namespace` other than PROFILE).

    With declarations (`lib.params.declarations(paper)`), the values are `PARAMS.resolve(PROFILE,
    overrides)`; without, the namespace's literals.

    Raises:
        ParamError: unknown name, wrong type, value out of range, unknown profile.
    """
    given = _collect(namespace)
    declared = params_module.declarations(paper)
    overrides = {k for k in given if k != "PROFILE"}
    if declared is None:
        return given, overrides
    profile = given.pop("PROFILE", "smoke")
    return declared.resolve(profile, given, where=f"{paper}: "), overrides


def resolve(paper: str, namespace: dict[str, Any], verbose: bool = True) -> Config:
    """Build the `Config` of a notebook from PROFILE and the overrides in its namespace.

    Args:
        paper: paper id (folder under notebooks/ and reports/, package under lib/papers/).
        namespace: the notebook's `globals()`; every UPPER_CASE name is PROFILE or an override.
        verbose: print the effective parameters.

    Raises:
        ParamError (a ValueError): unknown parameter, wrong type or value out of range (names the valid ones).
        ValueError: unknown profile or empty SEEDS.
    """
    params, overrides = effective_parameters(paper, namespace)
    profile = Profile(params.get("PROFILE", "smoke"))
    if "SEEDS" in params and (not params["SEEDS"] or len(set(params["SEEDS"])) != len(params["SEEDS"])):
        raise ValueError(f"SEEDS must list at least one seed, each once; got {params['SEEDS']}")
    device = resolve_device(str(params.get("DEVICE", "auto")))
    seeds = list(params.get("SEEDS", [0]))
    repro.setup(int(seeds[0]))
    out = paths.output_dir(paper)
    out.mkdir(parents=True, exist_ok=True)
    cfg = Config(paper=paper, profile=profile, device=device, params=params, out=out,
                 p=typed(paper, params, params_module.declarations(paper)))
    if verbose:
        shown = "\n".join(f"  {k} = {v!r}{'   # override' if k in overrides else ''}" for k, v in params.items())
        print(f"[{paper}] profile={profile.value} device={cfg.device_name()} out={out}\n"
              f"parameters (declared in lib/papers/{paper}/params.py):\n{shown}")
        if os.environ.get("REPRO_OUT") is None:
            print("  (interactive run: outputs go to build/interactive/, reports/ is written only by runall.py)")
    return cfg
