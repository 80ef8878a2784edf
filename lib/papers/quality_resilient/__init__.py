"""Dodge & Karam, *Quality Resilient Deep Neural Networks* (arXiv 1703.08119).

The parts of this package: lib/papers/__init__.py. The names other code relies on are importable from
here (loaded lazily, so importing `params` or `paper` stays cheap): `auc`, `optimal_weights`,
`GatingNet` (method.py) and `blur_per_sample` (lib.distortions).
"""
from importlib import import_module

_EXPORTS = {"auc": "lib.papers.quality_resilient.method", "optimal_weights": "lib.papers.quality_resilient.method",
            "GatingNet": "lib.papers.quality_resilient.method", "blur_per_sample": "lib.distortions"}


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
