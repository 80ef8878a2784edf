"""The suite's library. Notebooks only call into it; every piece can be read on its own.

Map (modules by concern):
    paths        repository-anchored locations (reports/, cache/, build/, ../shared)
    config       notebook parameters -> a validated Config (device, data, seeds, output dir)
    repro        seeding and determinism
    progress     progress bars that stay quiet in headless runs
    cache        expensive intermediates cached on disk by a hash of their spec
    data         dataset specs (cifar10, cifar100, imagefolder:PATH, imagenet:PATH, synthetic, auto)
    distortions  AWGN and Gaussian blur, batched and seeded, units stated
    models       the papers' networks, and access to their conv activations
    attacks      white-box attacks (FGSM, IGSM, DeepFool, JSMA, L-BFGS, C&W) at an RMSE budget
    metrics      destruction rate, majority vote, single vs Ens-N accuracy
    cca          canonical correlation analysis (CCA, SVCCA) of filter activations
    train        training loops, early stopping, filter-level freezing, cached baselines
    claims       verdicts (holds / fails / inconclusive) computed from seed-level numbers
    report       what a notebook writes: figures + data, tables, paper-vs-ours, claims, the record
    params       parameters declared once per paper (Param, Params, declarations)
    zoo          reference checkpoints with cards
    papers/      one package per paper: params, method, protocol, paper (its numbers), render
    runner       runall.py's logic: papermill execution, skipping, failure handling
    index        reports/index.md and index.html from reports/manifest.json
"""
from importlib import import_module
from types import ModuleType

__all__ = ["paths", "config", "params", "repro", "progress", "cache", "data", "distortions", "models", "attacks",
           "metrics", "cca", "train", "claims", "report", "papers"]


def __getattr__(name: str) -> ModuleType:
    """Import submodules lazily so `import lib` stays cheap and `lib.data` etc. just work."""
    if name in __all__ or name in ("runner", "index", "bench"):
        return import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'lib' has no attribute {name!r}")
