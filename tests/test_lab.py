"""Every notebook starts in a real Jupyter kernel as JupyterLab starts it (`make lab`).

The lab's working directory is the notebook's folder (notebooks/<paper>/) and REPRO_OUT is unset.
Only the first cells run: up to and including `cfg = lib.config.resolve(...)` (the parameters cell,
the imports, the resolve cell); a last probe cell reports where `lib` was imported from and where
outputs would go, which must be build/interactive/<paper>/, never reports/.
"""
from __future__ import annotations

import json
import os

import nbformat
import pytest
import yaml
from nbclient import NotebookClient

from lib import paths

MANIFEST = yaml.safe_load(paths.MANIFEST.read_text())
NOTEBOOKS = [(paper, nb["name"]) for paper, entry in MANIFEST["papers"].items() for nb in entry["notebooks"]]
PROBE = ("import json as _json, lib as _lib\n"
         "print('PROBE' + _json.dumps({'lib': _lib.__file__, 'out': str(cfg.out), 'profile': cfg.profile.value}))")


def _first_cells(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The notebook cut after its `resolve(...)` cell, plus the probe cell."""
    cells = []
    for cell in nb.cells:
        cells.append(cell)
        if cell.cell_type == "code" and "config.resolve(" in cell.source:
            break
    else:
        raise AssertionError("no `cfg = lib.config.resolve(...)` cell")
    nb = nbformat.v4.new_notebook(metadata=nb.metadata)
    nb.cells = [*cells, nbformat.v4.new_code_cell(PROBE)]
    return nb


@pytest.mark.parametrize("paper,name", NOTEBOOKS, ids=[f"{p}/{n}" for p, n in NOTEBOOKS])
def test_notebook_starts_from_the_lab_working_directory(paper: str, name: str, monkeypatch) -> None:
    folder = paths.NOTEBOOKS / paper
    monkeypatch.delenv("REPRO_OUT", raising=False)
    monkeypatch.delenv("REPRO_ROOT", raising=False)
    # a pip user's editable install of this checkout puts its root on sys.path; so does this
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(paths.ROOT), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.setenv("REPRO_HEADLESS", "1")
    nb = _first_cells(nbformat.read(folder / f"{name}.ipynb", as_version=4))
    assert any("parameters" in c.metadata.get("tags", []) for c in nb.cells), "the parameters cell runs"
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(folder)}}).execute()
    text = "".join(o.get("text", "") for o in nb.cells[-1].outputs if o.get("output_type") == "stream")
    probe = json.loads(text.split("PROBE", 1)[1])
    assert probe["lib"].startswith(str(paths.ROOT / "lib")), "the kernel imports this checkout's lib"
    assert probe["out"] == str(paths.BUILD / "interactive" / paper)
    assert not probe["out"].startswith(str(paths.REPORTS))
    assert probe["profile"] == "smoke"
