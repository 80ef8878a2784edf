"""Tests of lib.overview (the paper-vs-ours figure and CSV) and its place on the index."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from matplotlib.collections import PathCollection

from lib import index, overview
from lib.overview import FRACTION, PERCENT, Cell

L2 = "perturbation |L2| (normalised)"


def test_cells_parse_as_numbers_or_missing() -> None:
    assert overview.parse_cell("12.5") == Cell(12.5)
    assert overview.parse_cell(" −3 ") == Cell(-3.0)
    assert overview.parse_cell("46.4 ± 0.5") == Cell(46.4, 0.5)
    assert overview.parse_cell("12%") == Cell(12.0, unit=PERCENT)
    assert overview.parse_cell("18/24 (75%)") == Cell(75.0, unit=PERCENT)
    cell = overview.parse_cell("4.3/6 ±1.5 (72%)")   # sd of a count of 6, as % of 6
    assert cell is not None and cell.value == 72.0 and cell.unit == PERCENT and cell.sd == pytest.approx(25.0)
    for text in ("not run", "not run (no CIFAR-100 here)", "-", "—", "nan", "", "holds"):
        assert overview.parse_cell(text) is None, text


def test_column_pairs_match_paper_thesis_and_bare_columns() -> None:
    header = ["attack", "|L2| (paper)", "|L2| (ours)", "Acc (thesis)", "Acc (ours, mean ± sd)",
              "C10 Std", "C10 Std (ours)", "only paper (paper)", "params_k (ours)"]
    assert overview.column_pairs(header) == [("|L2|", "|L2| (paper)", "|L2| (ours)"),
                                             ("Acc", "Acc (thesis)", "Acc (ours, mean ± sd)"),
                                             ("C10 Std", "C10 Std", "C10 Std (ours)")]


def test_units_come_from_header_then_captions_then_title() -> None:
    assert overview.unit_of(["|L2|", "Top-1 accuracy (%)"]) == L2
    assert overview.unit_of(["No defence", "", "Top-1 accuracy (%) on attacked images"]) == PERCENT
    assert overview.unit_of(["FGSM", "Destruction rates"]) == FRACTION
    assert overview.unit_of(["Layer 1", "Matching filters"]) is None
    assert overview.unit_of(["x", "Mean ± sd, error bars over seeds"]) is None   # "error bars" is no unit


def _site(tmp_path: Path) -> Path:
    """reports/ with one paper: an interleaved table (paper_vs_ours) holding accuracies (%), |L2|
    norms and a cell not run, a destruction-rate table, and a table whose unit nothing states."""
    paper = tmp_path / "alpha"
    paper.mkdir()
    (paper / "t1.csv").write_text("attack,|L2| (paper),|L2| (ours),Ens (paper),Ens (ours)\n"
                                  "Clean,0.0,0.0,98.9,95.3\nFGSM,0.05,0.04,81.5,3.3\n"
                                  "IGSM,0.03,0.008,83.7,not run\n")
    (paper / "t2.csv").write_text("defence,FGSM (paper),FGSM (ours)\nPD,0.735,0.007\nBit depth,0.132,0.101\n")
    (paper / "t3.csv").write_text("layer,matches (paper),matches (ours)\nconv1,18,4.3 ± 1.5\n")
    (paper / "t4.csv").write_text("scheme,error (thesis),error (ours)\nStd,8.4,61.5 ± 0.7\n")
    rec = {"paper": "alpha", "artefact": "table1", "title": "Table 1: top-1 accuracy under attack",
           "caption": "Top-1 accuracy (%) on correctly classified images.",
           "tables": [{"name": "t1", "csv": "t1.csv", "caption": "Normal budgets", "paper_vs_ours": True},
                      {"name": "t2", "csv": "t2.csv", "caption": "Destruction rates", "paper_vs_ours": True}]}
    rec2 = {"paper": "alpha", "artefact": "table2", "title": "Table 2: matching filters", "caption": "",
            "tables": [{"name": "t3", "csv": "t3.csv", "caption": "Matching filters", "paper_vs_ours": True},
                       {"name": "t4", "csv": "t4.csv", "caption": "Test error (%)", "paper_vs_ours": False},
                       {"name": "gone", "csv": "gone.csv", "paper_vs_ours": True}]}
    (paper / "table1.json").write_text(json.dumps(rec))
    (paper / "table2.json").write_text(json.dumps(rec2))
    return tmp_path


def test_the_csv_holds_every_pair_with_its_unit(tmp_path: Path) -> None:
    site = _site(tmp_path)
    written = overview.write(site)
    rows = list(csv.DictReader(io.StringIO((site / "overview.csv").read_text())))
    got = {(r["table"], r["row"], r["column"], r["paper_value"], r["our_value"], r["unit"]) for r in rows}
    assert got == {("t1", "Clean", "|L2|", "0", "0", L2), ("t1", "FGSM", "|L2|", "0.05", "0.04", L2),
                   ("t1", "IGSM", "|L2|", "0.03", "0.008", L2),
                   ("t1", "Clean", "Ens", "98.9", "95.3", PERCENT), ("t1", "FGSM", "Ens", "81.5", "3.3", PERCENT),
                   ("t2", "PD", "FGSM", "0.735", "0.007", FRACTION),
                   ("t2", "Bit depth", "FGSM", "0.132", "0.101", FRACTION),
                   ("t4", "Std", "error", "8.4", "61.5", PERCENT)}
    assert list(rows[0]) == overview.COLUMNS
    error = next(r for r in rows if r["table"] == "t4")
    assert error["our_sd"] == "0.7" and error["quantity"] == "error" and error["artefact"] == "table2"
    # the IGSM accuracy is not run, t3 states no unit: left out and counted, never guessed
    assert written.overview.left_out == {"alpha": {"one side not a number": 1, "unit not stated": 1}}
    assert (site / "overview.png").stat().st_size > 0 and (site / "overview.pdf").stat().st_size > 0


def test_units_never_share_a_panel_and_each_panel_has_the_identity_line(tmp_path: Path) -> None:
    found = overview.collect(_site(tmp_path))
    panels = found.panels()
    assert list(panels) == [("alpha", PERCENT), ("alpha", FRACTION), ("alpha", L2)]   # % first
    assert all(len({p.unit for p in pairs}) == 1 for pairs in panels.values())
    fig = overview.figure(found)
    axes = [ax for ax in fig.get_axes() if ax.collections]
    assert len(axes) == len(panels)
    for ax, pairs in zip(axes, panels.values()):
        assert ax.get_xlim() == ax.get_ylim()
        lo, hi = ax.get_xlim()
        assert all(lo < v < hi for p in pairs for v in (p.paper_value, p.our_value))   # no marker on the frame
        identity = [line for line in ax.get_lines() if line.get_label() == "y = x"]
        assert len(identity) == 1
        x, y = identity[0].get_data()
        assert list(x) == list(y) == [lo, hi]
        shown = sum(len(c.get_offsets()) for c in ax.collections if isinstance(c, PathCollection))
        assert shown == len(pairs)


def test_percent_and_fraction_limits() -> None:
    def pair(a: float, b: float, unit: str) -> overview.Pair:
        return overview.Pair("p", "a", "t", "r", "c", a, b, unit)

    assert overview.limits([pair(5, 99, PERCENT)]) == (-3.0, 103.0)
    assert overview.limits([pair(0.1, 0.9, FRACTION)]) == (-0.03, 1.03)
    lo, hi = overview.limits([pair(269.0, 269.07, "parameters (thousands)")])
    assert lo < 269.0 and hi > 269.07


def test_an_accuracy_column_without_a_unit_reads_its_scale_from_the_values() -> None:
    texts = "attack,Acc (paper),Acc (ours)\nClean,0.91,0.88\n"
    pairs = overview.table_pairs("p", "a", {"name": "t"}, {"title": "Top-1 accuracy"}, texts, overview.Counter())
    assert [p.unit for p in pairs] == [FRACTION]
    texts = "attack,Acc (paper),Acc (ours)\nClean,91,88\n"
    pairs = overview.table_pairs("p", "a", {"name": "t"}, {"title": "Top-1 accuracy"}, texts, overview.Counter())
    assert [p.unit for p in pairs] == [PERCENT]


def test_a_unit_the_table_entry_states_comes_first() -> None:
    text = "layer,matches (paper),matches (ours),acc (paper),acc (ours)\nconv1,18,4.3,90,80\n"
    pairs = overview.table_pairs("p", "a", {"name": "t", "units": {"matches": "filters"}, "caption": "Accuracy (%)"},
                                 {}, text, overview.Counter())
    assert [(p.column, p.unit) for p in pairs] == [("matches", "filters"), ("acc", PERCENT)]
    pairs = overview.table_pairs("p", "a", {"name": "t", "unit": "filters"}, {}, text, overview.Counter())
    assert [p.unit for p in pairs] == ["filters", "filters"]


def test_without_pairs_the_csv_is_empty_and_no_figure_is_left(tmp_path: Path) -> None:
    (tmp_path / "overview.png").write_bytes(b"stale")
    written = overview.write(tmp_path)
    assert written.png is None and not (tmp_path / "overview.png").exists()
    assert (tmp_path / "overview.csv").read_text().strip() == ",".join(overview.COLUMNS)


def test_the_index_shows_the_overview_near_the_top(tmp_path: Path) -> None:
    site = _site(tmp_path)
    manifest = {"generated": "2026-01-01T00:00:00+00:00", "papers": {"alpha": {"title": "Alpha"}},
                "notebooks": {"alpha/01": {"paper": "alpha", "notebook": "01", "status": "ok",
                                           "artefacts": ["table1", "table2"], "duration_s": 1.0}}}
    (site / "manifest.json").write_text(json.dumps(manifest))
    index.build(site)
    for ext in ("md", "html"):
        page = (site / f"index.{ext}").read_text()
        img = page.index('<img src="overview.png"')
        assert page.index("Per paper") < img < page.index("Verdict rule")
        assert 'href="overview.png"' in page and "overview.csv" in page and "overview.pdf" in page
        assert "Points per paper: alpha 8" in page
        assert "#overview" in (site / "alpha" / f"index.{ext}").read_text()


def test_units_a_record_states_per_column_keep_loss_out_of_the_percent_panel() -> None:
    text = "model,loss (paper),loss (ours),acc (%) (paper),acc (%) (ours)\nResNet18,4430,2.18,13.3,20.9\n"
    table = {"name": "t", "caption": "Loss and accuracy (%)", "units": {"loss": "cross-entropy", "acc (%)": "%"}}
    pairs = overview.table_pairs("p", "a", table, {}, text, overview.Counter())
    assert [(p.column, p.unit) for p in pairs] == [("loss", "cross-entropy"), ("acc (%)", PERCENT)]
