"""Parameters declared once per paper: name, type, meaning with unit, value per profile, valid range.

A paper declares its parameters in `lib/papers/<paper>/params.py` as `PARAMS = Params(...)`. The
notebooks of that paper share them; a notebook's `parameters` cell holds only `PROFILE` (papermill's
convention: overrides are injected after it), and `lib.config.resolve` turns PROFILE + overrides into
the effective values with `Params.resolve`. The runner calls the same `resolve` before any kernel
starts, so an unknown name, a wrong type or a value outside its range is refused before compute, with
a message naming the parameter and its valid values.

    SEEDS = Param(list[int], "independent repetitions: each seed retrains the baseline", smoke=[0],
                  quick=[0, 1, 2], min_len=1)
    N_RANK = Param(int, "training images used to rank filters (images)", smoke=200, quick=5000,
                   paper=40000, min=1)

Types: bool, int, float (an int is accepted), str, list[T], tuple[T, ...] (given as a list), dict[str, T]
and `T | None`. `choices` restricts values; `min`/`max` bound numbers (each item of a list, each
value of a dict); `min_len` bounds a list's length.
"""
from __future__ import annotations

import importlib
import types
import typing
from dataclasses import dataclass
from typing import Any

PROFILES = ("smoke", "quick", "paper")
_SAME = object()   # "as the previous profile": quick defaults to smoke, paper to quick


class ParamError(ValueError):
    """An unknown parameter, or a value of the wrong type or out of range (the message says which)."""


@dataclass(frozen=True)
class Param:
    """One declared parameter. `quick`/`paper` default to the previous profile's value."""

    type: Any
    help: str                        # meaning, with the unit (e.g. "blur sigma (pixels)")
    smoke: Any
    quick: Any = _SAME
    paper: Any = _SAME
    choices: tuple | None = None
    min: float | None = None
    max: float | None = None
    min_len: int | None = None
    name: str = ""                   # filled in by `Params`

    def value(self, profile: str) -> Any:
        """The declared value for `profile` (smoke, quick or paper)."""
        values = {"smoke": self.smoke, "quick": self.quick, "paper": self.paper}
        if profile not in values:
            raise ParamError(f"unknown profile {profile!r}; valid: {', '.join(PROFILES)}")
        for p in PROFILES[PROFILES.index(profile)::-1]:
            if values[p] is not _SAME:
                return values[p]
        raise AssertionError("smoke always has a value")

    def check(self, value: Any, where: str = "") -> Any:
        """`value` if it has this parameter's type and range (an int for a float becomes a float);
        otherwise `ParamError` naming the parameter, what it got and what is valid."""
        try:
            value = _coerce(self.type, value)
        except TypeError as exc:
            raise ParamError(f"{where}{self.name}: {exc} (expected {_type_name(self.type)}; {self.help})") from None
        if self.choices is not None and value not in self.choices:
            raise ParamError(f"{where}{self.name}={value!r} is not one of {list(self.choices)} ({self.help})")
        if self.min_len is not None and isinstance(value, (list, tuple)) and len(value) < self.min_len:
            raise ParamError(f"{where}{self.name}={value!r}: needs at least {self.min_len} item(s) ({self.help})")
        for number in _numbers(value):
            if (self.min is not None and number < self.min) or (self.max is not None and number > self.max):
                bounds = f"[{'-inf' if self.min is None else self.min}, {'inf' if self.max is None else self.max}]"
                raise ParamError(f"{where}{self.name}={value!r}: {number} is outside {bounds} ({self.help})")
        return value

    def describe(self) -> str:
        """One line: name, type, meaning, values per profile."""
        values = ", ".join(f"{p}={self.value(p)!r}" for p in PROFILES)
        return f"{self.name} ({_type_name(self.type)}): {self.help}; {values}"


class Params:
    """A paper's declared parameters (`Params(PROFILE=..., SEEDS=Param(...), ...)`), in order."""

    def __init__(self, **params: Param) -> None:
        bad = [n for n in params if not n.isupper()]
        if bad:
            raise ValueError(f"parameter names are UPPER_CASE; got {bad}")
        self.params: dict[str, Param] = {}
        for name, p in params.items():
            object.__setattr__(p, "name", name)
            for profile in PROFILES:
                p.check(p.value(profile), f"declared {profile} value of ")
            self.params[name] = p

    def __contains__(self, name: str) -> bool:
        return name in self.params

    def __getitem__(self, name: str) -> Param:
        return self.params[name]

    def names(self) -> list[str]:
        return list(self.params)

    def resolve(self, profile: str, overrides: dict[str, Any] | None = None, where: str = "") -> dict[str, Any]:
        """Every parameter's effective value: the profile's declared value unless overridden, in its
        declared type (an int declared for a float parameter comes back as a float).

        Raises:
            ParamError: an unknown name (the message lists the valid ones), a wrong type, a value out of
                range, or an unknown profile.
        """
        overrides = dict(overrides or {})
        if profile not in PROFILES:
            raise ParamError(f"unknown profile {profile!r}; valid: {', '.join(PROFILES)}")
        unknown = sorted(set(overrides) - set(self.params) - {"PROFILE"})
        if unknown:
            raise ParamError(f"{where}unknown parameter(s) {unknown}; valid: {', '.join(self.names())}")
        values = {"PROFILE": profile}
        for name, p in self.params.items():
            values[name] = p.check(overrides[name] if name in overrides else p.value(profile), where)
        return values

    def table(self) -> list[dict[str, Any]]:
        """Rows (name, type, meaning, smoke, quick, paper) for listings and reports."""
        return [{"name": n, "type": _type_name(p.type), "meaning": p.help,
                 **{prof: p.value(prof) for prof in PROFILES}} for n, p in self.params.items()]


def declarations(paper: str) -> Params | None:
    """The `PARAMS` of `lib.papers.<paper>.params`, or None when the paper declares none."""
    try:
        module = importlib.import_module(f"lib.papers.{paper}.params")
    except ModuleNotFoundError as exc:
        if exc.name and (exc.name == f"lib.papers.{paper}.params" or f"lib.papers.{paper}".startswith(exc.name)):
            return None
        raise
    return module.PARAMS


# ---------------------------------------------------------------------------------------------
# Types


def _type_name(tp: Any) -> str:
    return tp.__name__ if isinstance(tp, type) else str(tp).replace("typing.", "")


def _coerce(tp: Any, value: Any) -> Any:
    """`value` checked against the type annotation `tp` (raises TypeError with what was wrong)."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        for option in args:
            try:
                return _coerce(option, value)
            except TypeError:
                continue
        raise TypeError(f"got {value!r} ({type(value).__name__})")
    if tp is type(None):
        if value is None:
            return None
        raise TypeError(f"got {value!r}, expected None")
    if tp is Any:
        return value
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise TypeError(f"got {value!r} ({type(value).__name__}), expected a list")
        item = args[0] if args else Any
        return [_coerce(item, v) for v in value]
    if origin is dict:
        if not isinstance(value, dict):
            raise TypeError(f"got {value!r} ({type(value).__name__}), expected a dict")
        kt, vt = args if args else (Any, Any)
        return {_coerce(kt, k): _coerce(vt, v) for k, v in value.items()}
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"got {value!r} ({type(value).__name__}), expected a number")
        return float(value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"got {value!r} ({type(value).__name__}), expected an integer")
        return value
    if isinstance(tp, type):
        if not isinstance(value, tp):
            raise TypeError(f"got {value!r} ({type(value).__name__}), expected {tp.__name__}")
        return value
    raise TypeError(f"unsupported declared type {tp!r}")


def _numbers(value: Any) -> list[float]:
    if isinstance(value, bool) or value is None:
        return []
    if isinstance(value, (int, float)):
        return [value]
    if isinstance(value, (list, tuple)):
        return [n for v in value for n in _numbers(v)]
    if isinstance(value, dict):
        return [n for v in value.values() for n in _numbers(v)]
    return []


def literal_type(value: Any) -> Any:
    """The type a literal default implies (for notebooks without declarations): `[0]` -> list[int]."""
    if value is None:
        return Any
    if isinstance(value, bool):
        return bool
    if isinstance(value, (int, float)):
        return type(value)
    if isinstance(value, (list, tuple)):
        kinds = {literal_type(v) for v in value}
        if len(kinds) == 1:
            return list[kinds.pop()]
        return list[Any] if not ({int, float} >= kinds and kinds) else list[float]
    if isinstance(value, dict):
        return dict[str, Any]
    return type(value)


__all__ = ["Param", "Params", "ParamError", "PROFILES", "declarations", "literal_type"]
