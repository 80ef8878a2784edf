"""Every notebook of the manifest: hygiene of the committed pair, and one smoke run through the runner.

The smoke run executes all notebooks once (fresh kernels, papermill, exactly as `runall.py --profile
smoke` does) into a temporary reports folder, then each notebook is checked on its own.
"""
from __future__ import annotations

import json

import jupytext
import nbformat
import papermill
import pytest
import yaml

from lib import paths, runner

MANIFEST = yaml.safe_load(paths.MANIFEST.read_text())
NOTEBOOKS = [(paper, nb) for paper, entry in MANIFEST["papers"].items() for nb in entry["notebooks"]]
IDS = [f"{paper}/{nb['name']}" for paper, nb in NOTEBOOKS]
VERDICTS = {"holds", "fails", "inconclusive", "not run"}


def test_manifest_lists_notebooks():
    assert NOTEBOOKS, "the manifest lists no notebooks"


@pytest.mark.parametrize("paper,nb", NOTEBOOKS, ids=IDS)
def test_pair_is_clean_and_in_sync(paper, nb):
    py = paths.NOTEBOOKS / paper / f"{nb['name']}.py"
    ipynb = py.with_suffix(".ipynb")
    assert py.exists() and ipynb.exists(), "each notebook is a committed .py + .ipynb pair"
    stored = nbformat.read(ipynb, as_version=4)
    assert stored.metadata["kernelspec"]["name"] == "python3"
    code = [c for c in stored.cells if c.cell_type == "code"]
    assert not any(c.get("outputs") for c in code), "committed .ipynb must carry no outputs"
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged 'parameters'"
    from_py = jupytext.read(py)
    assert [c.source for c in from_py.cells] == [c.source for c in stored.cells], \
        "pair out of sync: run `make notebooks`"
    assert not any("def " in c.source or "lambda" in c.source for c in code), "no function definitions in notebooks"


@pytest.mark.parametrize("paper,nb", NOTEBOOKS, ids=IDS)
def test_parameters_are_literals_and_cover_manifest(paper, nb):
    params = papermill.inspect_notebook(str(paths.NOTEBOOKS / paper / f"{nb['name']}.ipynb"))
    assert "PROFILE" in params and params["PROFILE"]["default"] == '"smoke"'
    for profile, overrides in nb.get("parameters", {}).items():
        unknown = set(overrides) - set(params)
        assert not unknown, f"manifest {profile} parameters unknown to the notebook: {unknown}"


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    """Run every notebook under smoke once, into a temporary reports tree; return (exit code, reports dir)."""
    tmp = tmp_path_factory.mktemp("smoke")
    layout = runner.Layout(root=paths.ROOT, manifest=paths.MANIFEST, reports=tmp / "reports", build=tmp / "build")
    code = runner.run(["--profile", "smoke"], layout)
    return code, layout.reports


@pytest.mark.notebooks
def test_smoke_run_succeeds(smoke_run):
    code, reports = smoke_run
    manifest = json.loads((reports / "manifest.json").read_text())
    failed = {k: v.get("error") for k, v in manifest["notebooks"].items() if v["status"] != "ok"}
    assert code == 0 and not failed, failed
    assert (reports / "index.md").exists() and (reports / "index.html").exists()


@pytest.mark.notebooks
@pytest.mark.parametrize("paper,nb", NOTEBOOKS, ids=IDS)
def test_smoke_outputs_and_claims(smoke_run, paper, nb):
    _, reports = smoke_run
    folder = reports / paper
    missing = [f for f in nb["outputs"] if not (folder / f).exists()]
    assert not missing, f"declared outputs missing: {missing}"
    for artefact in nb["artefacts"]:
        text = (folder / f"{artefact}.json").read_text()
        assert "{cfg." not in text and "{res." not in text, "an unformatted placeholder (missing f-prefix) in a record"
        record = json.loads(text)
        assert record["profile"] == "smoke" and record["data"]["source"] == "synthetic"
        if not MANIFEST["papers"][paper].get("draft"):   # a draft paper (manifest) may still lack some claims
            assert record["claims"], "every artefact states the claims it tests"
        for claim in record["claims"]:
            assert claim["verdict"] in VERDICTS and claim["evidence"] and claim["text"]
        for f in record["files"]:
            assert (folder / f["path"]).exists()
