"""Parameters declared once per paper (`lib.params`, `lib/papers/<paper>/params.py`) and their use by
`lib.config.resolve`: unknown names and wrong types fail before any compute, naming the valid ones."""
from __future__ import annotations

import dataclasses

import papermill
import pytest
import torch
import yaml

from lib import config, paths
from lib.params import PROFILES, Param, ParamError, Params, declarations

MANIFEST = yaml.safe_load(paths.MANIFEST.read_text())
PAPERS = list(MANIFEST["papers"])


@pytest.fixture(autouse=True)
def _restore_torch_flags():
    """`resolve` seeds and turns on deterministic algorithms globally: put things back afterwards."""
    det, warn = torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled()
    yield
    torch.use_deterministic_algorithms(det, warn_only=warn)


@pytest.mark.parametrize("paper", PAPERS)
def test_every_paper_declares_its_parameters(paper):
    declared = declarations(paper)
    assert isinstance(declared, Params) and declared.names()
    for name in declared.names():
        assert declared[name].help.strip(), f"{paper}.{name} has no meaning/unit"
    for profile in PROFILES:
        values = declared.resolve(profile)
        assert values["PROFILE"] == profile and set(values) == {"PROFILE", *declared.names()}


@pytest.mark.parametrize("paper,nb", [(p, nb["name"]) for p, e in MANIFEST["papers"].items() for nb in e["notebooks"]])
def test_notebook_parameters_cell_holds_only_profile(paper, nb):
    params = papermill.inspect_notebook(str(paths.NOTEBOOKS / paper / f"{nb}.ipynb"))
    assert list(params) == ["PROFILE"] and params["PROFILE"]["default"] == '"smoke"'


def test_manifest_holds_no_parameter_values():
    for paper, entry in MANIFEST["papers"].items():
        for nb in entry["notebooks"]:
            assert "parameters" not in nb, f"{paper}/{nb['name']}: values belong in lib/papers/{paper}/params.py"


def test_resolve_applies_profile_and_overrides(tmp_path, monkeypatch):
    monkeypatch.setenv("REPRO_OUT", str(tmp_path))
    declared = declarations("selective_finetuning")
    cfg = config.resolve("selective_finetuning", {"PROFILE": "quick", "N_RANK": 7, "__name__": "x"}, verbose=False)
    assert cfg.profile is config.Profile.QUICK and cfg.n_rank == 7 and cfg.p.N_RANK == 7
    assert cfg.max_epochs == declared["MAX_EPOCHS"].value("quick") == cfg.p.MAX_EPOCHS
    assert set(cfg.params) == {"PROFILE", *declared.names()}
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.p.N_RANK = 3
    with pytest.raises(AttributeError, match="N_RANKS.*valid: .*N_RANK"):
        cfg.n_ranks
    with pytest.raises(AttributeError):
        cfg.p.N_RANKS


@pytest.mark.parametrize("overrides,message", [
    ({"N_RANKS": 5}, r"unknown parameter\(s\) \['N_RANKS'\]; valid: .*N_RANK"),
    ({"N_RANK": "5"}, r"N_RANK: got '5' \(str\)"),
    ({"N_RANK": 0}, r"N_RANK=0: 0 is outside"),
    ({"SEEDS": []}, r"SEEDS=\[\]: needs at least 1"),
    ({"PROFILE": "fast"}, r"unknown profile 'fast'"),
])
def test_resolve_refuses_bad_overrides_before_compute(tmp_path, monkeypatch, overrides, message):
    monkeypatch.setenv("REPRO_OUT", str(tmp_path / "out"))
    with pytest.raises(ParamError, match=message):
        config.resolve("selective_finetuning", overrides, verbose=False)
    assert not (tmp_path / "out").exists(), "nothing is created before the parameters are valid"


def test_resolve_prints_the_effective_parameters(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("REPRO_OUT", str(tmp_path))
    config.resolve("repr", {"PROFILE": "smoke", "EPOCHS": 2})
    out = capsys.readouterr().out
    assert "lib/papers/repr/params.py" in out and "EPOCHS = 2   # override" in out and "WIDTH = 8\n" in out


def test_param_types_and_ranges():
    p = Params(A=Param(list[int], "a", smoke=[1], quick=[1, 2], min=0, min_len=1),
               B=Param(float, "b", smoke=1, paper=0.5, min=0, max=1),
               C=Param(str | None, "c", smoke=None, choices=(None, "x")),
               D=Param(dict[str, int | float], "d", smoke={"n": 2, "s": 0.5}))
    assert p.resolve("paper") == {"PROFILE": "paper", "A": [1, 2], "B": 0.5, "C": None, "D": {"n": 2, "s": 0.5}}
    assert isinstance(p.resolve("smoke")["B"], float) and isinstance(p.resolve("smoke")["D"]["n"], int)
    with pytest.raises(ParamError, match="expected a list"):
        p.resolve("smoke", {"A": 1})
    with pytest.raises(ParamError, match="not one of"):
        p.resolve("smoke", {"C": "y"})
    with pytest.raises(ParamError, match="outside"):
        p.resolve("smoke", {"B": 2})
    with pytest.raises(ValueError, match="declared smoke value"):
        Params(X=Param(int, "x", smoke=-1, min=0))
    assert declarations("no_such_paper") is None
