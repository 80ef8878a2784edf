"""The suite's library. Notebooks only call into it; every piece can be read on its own.

Map (modules by concern):
    paths        repository-anchored locations (reports/, cache/, build/, ../shared)
    config       notebook parameters -> a validated Config (device, data, seeds, output dir)
    repro        seeding and determinism
    progress     progress bars that stay quiet in headless runs
    cache        expensive intermediates cached on disk by a hash of their spec
    data         dataset specs (cifar10, cifar100, imagefolder:PATH, imagenet:PATH, synthetic, auto)
    distortions  AWGN and Gaussian blur, batched and seeded, units stated
    corruptions  CIFAR-10-C: the 19 corruptions x 5 severities of make_cifar_c.py, batched, seeded per image
    cifar10c     CIFAR-10-C folders (RobustBench layout): build_cifar10c, load_cifar10c
    opencv_ports, imagemagick_motion   NumPy ports of the OpenCV / ImageMagick calls the corruptions need
    models       the papers' networks, and access to their conv activations
    attacks      white-box attacks (FGSM, IGSM, DeepFool, JSMA, L-BFGS, C&W) at an RMSE budget
    metrics      destruction rate, majority vote, single vs Ens-N accuracy
    cca          canonical correlation analysis (CCA, SVCCA) of filter activations
    train        training loops, early stopping, filter-level freezing, cached baselines
    recipes      the CIFAR training loop of the zoo and of the papers that train that way (Recipe, train_model)
    claims       verdicts (holds / fails / inconclusive) computed from seed-level numbers
    report       what a notebook writes: figures + data, tables, paper-vs-ours, claims, the record
    params       parameters declared once per paper (Param, Params, declarations)
    papers/      one package per paper: params, method, protocol, paper (its numbers), render
    runner       runall.py's logic by concern: manifest, parameters, plan, execute, publish, cli
    index        reports/index.md and index.html from reports/manifest.json
    overview     the index's paper-vs-ours figure and CSV (every number a paper prints beside ours)
    zoo          reference CIFAR-10 classifiers with cards (zoo/), loaded when they match; zoo_page renders them
    jpeg         semantic (variable-quality) JPEG at a reference file size: msroi_jpeg, three encoders
    iqa          image-quality metrics on BT.601 luma as VQMT computes them (PSNR(-S), SSIM, MS-SSIM, VIFP, PSNR-HVS(-M))
    bench        speed benchmarks: ratios against baselines run in the same process
"""
import os
from importlib import import_module
from pathlib import Path

if os.environ.get("REPRO_ROOT") and Path(os.environ["REPRO_ROOT"]).resolve() != Path(__file__).resolve().parent.parent:
    raise ImportError(f"this kernel imported lib from {Path(__file__).resolve().parent}, but runall.py runs the "
                      f"checkout at {os.environ['REPRO_ROOT']}; put that checkout first on PYTHONPATH "
                      "(the runner does) or reinstall the editable package from it")

__all__ = ["paths", "config", "params", "repro", "progress", "cache", "data", "distortions", "models", "attacks",
           "metrics", "cca", "train", "recipes", "claims", "report", "papers", "zoo",
           "corruptions", "cifar10c", "jpeg", "iqa"]


# Functions other code relies on by these names, wherever they live (issue 13): `lib.corrupt(images,
# name, severity, seed=0)` (CIFAR-10-C, uint8 [N, 32, 32, 3] in and out) and `lib.torchvision_arch(name,
# width=1.0, num_classes=10)` (torchvision's topology and state_dict keys at width 1). Issue 14:
# `lib.variation_module(kind, width)` (Bartschat et al.'s residual module, kind resnet | inception | resnext).
# Issue 15: `lib.msroi_jpeg(image, saliency, variant, reference_quality=50) -> bytes` (lib/jpeg.py).
_FUNCTIONS = {"corrupt": "corruptions", "torchvision_arch": "papers.cifar10c_pretrained.archs", "msroi_jpeg": "jpeg",
              "variation_module": "papers.training_variation.archs"}


def __getattr__(name: str):
    """Import submodules (and the `_FUNCTIONS`) lazily so `import lib` stays cheap and `lib.data` etc. just work."""
    if name in __all__ or name in ("runner", "index", "overview", "bench"):
        return import_module(f"{__name__}.{name}")
    if name in _FUNCTIONS:
        return getattr(import_module(f"{__name__}.{_FUNCTIONS[name]}"), name)
    raise AttributeError(f"module 'lib' has no attribute {name!r}")
