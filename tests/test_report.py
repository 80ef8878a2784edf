"""Tests of lib.report (what a notebook writes) and lib.config.resolve (parameters -> Config)."""
from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from lib import config, report  # noqa: E402
from lib.claims import Claim, Verdict  # noqa: E402

PARAMS = {"PROFILE": "smoke", "SEEDS": [0], "DATA": "synthetic"}
# docs/architecture.md §3
RECORD_KEYS = {"schema", "paper", "artefact", "title", "caption", "profile", "data", "parameters", "seeds",
               "device", "files", "tables", "claims", "notes", "lib_path", "scale", "cache"}


@pytest.fixture(autouse=True)
def _report_tests_restore_torch_flags():
    """`resolve` seeds and turns on deterministic algorithms globally: put things back afterwards."""
    det, warn = torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.use_deterministic_algorithms(det, warn_only=warn)
    torch.set_num_threads(threads)


@pytest.fixture
def report_cfg(tmp_path, monkeypatch) -> config.Config:
    monkeypatch.setenv("REPRO_OUT", str(tmp_path / "out"))
    return config.resolve("demo", dict(PARAMS), verbose=False)


def _strict_json(text: str):
    def no_constants(name):
        raise ValueError(f"not valid JSON: {name}")
    return json.loads(text, parse_constant=no_constants)


# ------------------------------------------------------------------------------- config


def test_resolve_builds_config(report_cfg, tmp_path) -> None:
    cfg = report_cfg
    assert cfg.paper == "demo" and cfg.profile is config.Profile.SMOKE
    assert cfg.out == tmp_path / "out" and cfg.out.is_dir()
    assert cfg.seeds == [0] and cfg.data == "synthetic" and cfg.params == PARAMS
    assert cfg.device.type in ("cpu", "cuda") and cfg.use_cache
    assert cfg.data_record() is None                         # nothing loaded yet
    with pytest.raises(AttributeError, match="NOPE"):
        cfg.nope


def test_resolve_ignores_lower_case_names(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("REPRO_OUT", str(tmp_path))
    cfg = config.resolve("demo", {**PARAMS, "helper": len, "_PRIVATE": object()}, verbose=False)
    assert set(cfg.params) == set(PARAMS)


@pytest.mark.parametrize("bad", [len, lambda x: x, object(), {1, 2}])
def test_resolve_rejects_non_literal_parameter(tmp_path, monkeypatch, bad) -> None:
    monkeypatch.setenv("REPRO_OUT", str(tmp_path))
    with pytest.raises(TypeError, match="parameters must be literals.*'FN'"):
        config.resolve("demo", {**PARAMS, "FN": bad}, verbose=False)


def test_resolve_rejects_unknown_profile_and_empty_seeds(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("REPRO_OUT", str(tmp_path))
    with pytest.raises(ValueError, match="fast"):
        config.resolve("demo", {**PARAMS, "PROFILE": "fast"}, verbose=False)
    with pytest.raises(ValueError, match="SEEDS"):
        config.resolve("demo", {**PARAMS, "SEEDS": []}, verbose=False)


def test_cuda_device_without_cuda_raises(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("REPRO_OUT", str(tmp_path))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        config.resolve("demo", {**PARAMS, "DEVICE": "cuda"}, verbose=False)
    assert config.resolve_device("auto").type == "cpu"
    assert config.resolve_device("cpu").type == "cpu"


# ------------------------------------------------------------------------------- tables


def test_markdown_table_escapes_pipes_and_formats() -> None:
    df = pd.DataFrame({"a|b": ["x|y", "z"], "v": [0.123456, 2.0]})
    md = report.markdown_table(df)
    lines = md.splitlines()
    assert lines[0] == "| a\\|b | v |"
    assert lines[1] == "|---|---|"
    assert lines[2] == "| x\\|y | 0.123 |"
    assert lines[3] == "| z | 2 |"
    named = df.set_index(pd.Index(["r1", "r2"], name="row"))
    assert report.markdown_table(named).splitlines()[0] == "| row | a\\|b | v |"


def test_paper_vs_ours_interleaves_cell_by_cell() -> None:
    idx = pd.Index(["conv1", "conv2"], name="layer")
    paper = pd.DataFrame({"blur": [1.0, 2.0], "awgn": [3.0, 4.0]}, index=idx)
    ours = pd.DataFrame({"blur": [1.5, 2.5], "awgn": [3.5, 4.5]}, index=idx)
    out = report.paper_vs_ours(paper, ours)
    assert list(out.columns) == ["blur (paper)", "blur (ours)", "awgn (paper)", "awgn (ours)"]
    assert out.loc["conv2", "awgn (paper)"] == 4.0 and out.loc["conv2", "awgn (ours)"] == 4.5
    assert out.loc["conv1", "blur (ours)"] == 1.5
    with pytest.raises(ValueError, match="same rows and columns"):
        report.paper_vs_ours(paper, ours[["awgn", "blur"]])


# ------------------------------------------------------------------------------- the record


def test_record_writes_files_and_json(report_cfg) -> None:
    cfg = report_cfg
    ds = cfg.dataset("synthetic:n=100,test=50")
    rec = report.Record(cfg, "fig9", "Fig. 9: a demo", caption="The paper's caption.")

    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    fig_data = pd.DataFrame({"x": [0, 1], "y": [1.0, 0.0]})
    rec.figure(fig, "fig9", fig_data)
    assert not plt.fignum_exists(fig.number)                       # closed

    idx = pd.Index(["conv1", "conv2"], name="layer")
    paper = pd.DataFrame({"acc": [0.5, 0.6], "n": [1, 2]}, index=idx)
    ours = pd.DataFrame({"acc": [0.55, 0.58], "n": [1, 3]}, index=idx)
    rec.table(ours, "table9", caption="Table 9 | demo", paper=paper)
    rec.table(ours, "plain9")
    rec.data(pd.DataFrame({"seed": [0], "acc": [0.5]}), "per_seed")
    rec.claim(Claim("demo.fig9.x", "X is larger than Y.", Verdict.HOLDS, "+0.1 [95% CI +0.05, +0.15], n=3"))
    rec.note("a scale reduction")
    assert rec.save() is rec

    out = cfg.out
    assert (out / "fig9.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "fig9.pdf").read_bytes()[:5] == b"%PDF-"
    pd.testing.assert_frame_equal(pd.read_csv(out / "fig9.csv"), fig_data)

    shown = pd.read_csv(out / "table9.csv", index_col=0)
    assert list(shown.columns) == ["acc (paper)", "acc (ours)", "n (paper)", "n (ours)"]
    assert shown.loc["conv2"].tolist() == [0.6, 0.58, 2, 3]
    md = (out / "table9.md").read_text()
    assert md.startswith("Table 9 | demo\n\n")
    assert "| layer | acc (paper) | acc (ours) | n (paper) | n (ours) |" in md
    assert "| conv2 | 0.6 | 0.58 | 2 | 3 |" in md
    assert list(pd.read_csv(out / "plain9.csv", index_col=0).columns) == ["acc", "n"]

    text = (out / "fig9.json").read_text()
    rec_json = _strict_json(text)
    assert set(rec_json) == RECORD_KEYS
    assert "status" not in rec_json                                   # the runner's business
    assert rec_json["scale"] is None                                  # "demo" has no paper.py SCALE
    assert rec_json["schema"] == 1 and rec_json["paper"] == "demo" and rec_json["artefact"] == "fig9"
    assert rec_json["title"] == "Fig. 9: a demo" and rec_json["caption"] == "The paper's caption."
    assert rec_json["profile"] == "smoke" and rec_json["parameters"] == PARAMS and rec_json["seeds"] == [0]
    assert rec_json["device"].startswith(("cpu", "cuda"))
    data = rec_json["data"]
    assert {"spec", "source", "description", "banner"} <= set(data)
    assert data["spec"] == ds.spec and data["source"] == "synthetic" and data["banner"] is None
    files = {f["path"]: f["kind"] for f in rec_json["files"]}
    assert files == {"fig9.png": "figure", "fig9.pdf": "figure-pdf", "fig9.csv": "figure-data",
                     "table9.csv": "table", "table9.md": "table-md", "plain9.csv": "table",
                     "plain9.md": "table-md", "per_seed.csv": "data"}
    assert all((out / p).is_file() for p in files)
    assert [t["paper_vs_ours"] for t in rec_json["tables"]] == [True, False]
    assert rec_json["tables"][0]["csv"] == "table9.csv" and rec_json["tables"][0]["md"] == "table9.md"
    assert rec_json["claims"] == [{"id": "demo.fig9.x", "text": "X is larger than Y.", "verdict": "holds",
                                   "evidence": "+0.1 [95% CI +0.05, +0.15], n=3"}]
    assert rec_json["notes"] == ["a scale reduction"]
    assert not list(out.glob("*.tmp"))
    html = rec._repr_html_()
    assert "Fig. 9: a demo" in html and "<img" in html and "holds" in html


def test_scale_line_fills_the_papers_template_and_dashes_what_a_run_lacks() -> None:
    from lib.report import scale_line

    line = scale_line("repr", {"TRAIN_SIZE": 3000, "EPOCHS": 17, "SEEDS": [0, 1, 2]})
    assert line.startswith("CIFAR-10, 3000 training images (thesis: 50,000), 17 epochs") and "— test images" in line
    assert scale_line("no_such_paper", {}) is None


def test_noted_accuracies_read_the_model_notes_and_add_to_scale_keeps_the_papers_line(report_cfg) -> None:
    cfg = report_cfg
    assert report.noted_accuracies(cfg) == {}
    cfg.note_model("ResNet-20: model zoo checkpoint resnet20 (60-epoch recipe, sha256 0123456789ab), clean test "
                   "accuracy 85.9%")
    cfg.note_model("cifar10_net: trained here (zoo not requested), clean test accuracy 65.7%")
    cfg.note_model("KD teacher: trained here ({'epochs': 3})")                   # no accuracy: skipped
    assert report.noted_accuracies(cfg) == {"ResNet-20": (85.9, "zoo"), "cifar10_net": (65.7, "trained here")}
    rec = report.Record(cfg, "fig9", "Fig. 9")
    rec.add_to_scale("ours: 85.9% vs thesis 76%")
    assert rec.scale == "ours: 85.9% vs thesis 76%"                          # "demo" has no SCALE of its own
    cfg.paper = "repr"
    rec.add_to_scale("ours: 46.4% vs thesis 72.1%")
    assert rec.scale.startswith("CIFAR-10, ") and rec.scale.endswith("; ours: 46.4% vs thesis 72.1%")


def test_scale_names_the_dataset_that_data_auto_resolved_to(report_cfg) -> None:
    class Loaded:   # what config keeps per dataset: only its record matters here
        notes: list[str] = []

        def record(self) -> dict:
            return {"spec": "imagefolder:../shared/data/cifar10-train-jpeg.tar.gz", "banner": None}

    cfg = report_cfg
    cfg.paper, cfg.params = "quality_resilient", {"DATA": "auto", "TRAIN_SIZE": 20000}
    assert report.Record(cfg, "fig1", "Fig. 1")._paper_scale().startswith("auto: 20000 training")   # nothing loaded yet
    cfg._datasets["auto"] = Loaded()
    line = report.Record(cfg, "fig1", "Fig. 1")._paper_scale()
    assert line.startswith("cifar10-train-jpeg.tar.gz: 20000 training / — validation")
