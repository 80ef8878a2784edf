# Thin aliases; the logic lives in runall.py and lib/. Every target sets up .venv first if needed.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup quick smoke paper test bench notebooks zoo lab clean-build

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q torch==2.14.1 torchvision==0.29.1
	$(PY) -m pip install -q -e '.[test]'
	$(PY) -m pip install -q --no-deps imagecorruptions==1.1.2   # CIFAR-10-C's frost images only (no OpenCV)
	touch $(STAMP)

setup: $(STAMP)                      ## create .venv with the pinned torch/torchvision and the suite

quick: setup                         ## the main job: every notebook, quick profile, real CIFAR-10
	$(PY) runall.py --profile quick

smoke: setup                         ## every notebook on synthetic data (seconds each)
	$(PY) runall.py --profile smoke

paper: setup                         ## the papers' settings (needs a GPU and the papers' datasets)
	$(PY) runall.py --profile paper

test: setup                          ## unit tests, runner tests, smoke runs of every notebook, real-data test
	$(PY) -m ruff check lib tests tools
	$(PY) -m pytest

bench: setup                         ## speed benchmarks (ratios against baselines in the same process)
	$(PY) -m lib.bench

zoo: setup                           ## retrain every model-zoo entry from scratch (2-core CPU: about 1 h 45 min), then its report page
	$(PY) -m lib.zoo train all
	$(PY) -m lib.zoo_page

lab: setup                           ## JupyterLab on notebooks/ (installs the `lab` extra into .venv); outputs go to build/interactive/
	$(PY) -m pip install -q -e '.[lab]'
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks

notebooks: setup                     ## re-pair notebooks after editing the .py sources
	$(VENV)/bin/jupytext --sync notebooks/*/*.py

clean-build:                         ## remove staging folders and interactive outputs (not reports/ or cache/)
	rm -rf build
