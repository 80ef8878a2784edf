"""Tests of lib.index on a hand-written reports/ folder (no notebooks are executed)."""
from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest

from lib import index

GIT = {"commit": "0123456789abcdef0123", "dirty": True}
PACKAGES = {"python": "3.11.7", "torch": "2.14.1"}


def record(paper: str, artefact: str, claims: list[dict[str, str]], **extra: Any) -> dict[str, Any]:
    """An artefact record (docs/architecture.md §3) with the given claims."""
    return {"schema": 1, "paper": paper, "artefact": artefact, "title": f"Title of {artefact}",
            "caption": f"Caption of {artefact}.", "profile": "quick",
            "data": {"spec": "cifar10", "source": "real", "description": "CIFAR-10",
                     "banner": None},
            "parameters": {"PROFILE": "quick", "SEEDS": [0, 1]}, "seeds": [0, 1],
            "device": "cpu (2 threads)", "files": [], "tables": [], "claims": claims,
            "notes": ["a note"], **extra}


def entry(paper: str, name: str, artefacts: list[str], status: str = "ok",
          **extra: Any) -> dict[str, Any]:
    """A manifest.json entry; an ok entry is its own last good run."""
    run = {"run_key": "k", "started": "2026-01-02T03:04:05+00:00", "duration_s": 12.5,
           "profile": "quick", "parameters": {"PROFILE": "quick"}, "git": GIT,
           "packages": PACKAGES, "device": "cpu", "html": f"{paper}/{name}.html",
           "records": [f"{paper}/{a}.json" for a in artefacts], "files": []}
    base = {"paper": paper, "notebook": name, "artefacts": artefacts, "status": status,
            "error": None, "log": None, **run, "last_good": dict(run)}
    return {**base, **extra}


@pytest.fixture
def reports(tmp_path: Path) -> Path:
    """reports/ with: an ok figure on synthetic data with a paper-vs-ours table, a failed notebook
    with a last good run, a failed notebook that never succeeded, an ok notebook whose record is
    missing, and an entry with almost no keys."""
    fig = record("alpha", "fig1", [
        {"id": "a.1", "text": "filters | matter", "verdict": "holds",
         "evidence": "+3.1 [1.2, 5.0]"},
        {"id": "a.2", "text": "<script>x</script> is escaped", "verdict": "fails",
         "evidence": "-2"}],
        data={"spec": "synthetic", "source": "synthetic", "description": "stand-in",
              "banner": "CIFAR-10 not found: synthetic stand-in data"},
        files=[{"path": "fig1.png", "kind": "figure"}, {"path": "fig1.pdf", "kind": "figure-pdf"},
               {"path": "fig1.csv", "kind": "figure-data"}, {"path": "table1.csv", "kind": "table"},
               {"path": "table1.md", "kind": "table-md"}],
        tables=[{"name": "table1", "csv": "table1.csv", "md": "table1.md", "paper_vs_ours": True,
                 "caption": "Table 1"}])
    tab = record("alpha", "tab2", [{"id": "a.3", "text": "robust", "verdict": "inconclusive",
                                    "evidence": "seeds disagree"}])
    manifest = {"schema": 1, "generated": "2026-01-02T04:00:00+00:00",
                "papers": {"alpha": {"title": "Alpha paper", "citation": "A. Author"}},
                "notebooks": {
                    "alpha/01_fig1": entry("alpha", "01_fig1", ["fig1"]),
                    "alpha/02_tab2": entry("alpha", "02_tab2", ["tab2"], status="failed",
                                           error="ValueError: bad | input",
                                           log="alpha/logs/02_tab2.log"),
                    "beta/01_never": entry("beta", "01_never", ["fig9"], status="failed",
                                           error="kernel died (out of memory?)",
                                           log="beta/logs/01_never.log", last_good=None),
                    "beta/02_lost": entry("beta", "02_lost", ["fig8"]),
                    "gamma/01_bare": {"status": "skipped-gpu", "artefacts": ["fig7"]}}}
    (tmp_path / "alpha").mkdir()
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    (tmp_path / "alpha" / "fig1.json").write_text(json.dumps(fig))
    (tmp_path / "alpha" / "tab2.json").write_text(json.dumps(tab))
    (tmp_path / "alpha" / "table1.md").write_text(
        "Table 1\n\n| row | acc (paper) | acc (ours) |\n|---|---|---|\n| a\\|b | 0.91 | 0.88 |\n")
    index.build(tmp_path)
    return tmp_path


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def test_every_claim_is_in_one_table_on_both_index_pages(reports: Path) -> None:
    md, page = read(reports / "index.md"), read(reports / "index.html")
    row = "| alpha | [fig1](alpha/index.md#alpha-fig1) | filters \\| matter | ✅ **holds** |"
    assert row in md
    assert "&lt;script>x&lt;/script> is escaped" in md and "❌ **fails**" in md
    assert "robust" in md and "❔ **inconclusive**" in md
    assert "filters | matter" in page and '<span class="badge holds">holds</span>' in page
    assert "&lt;script&gt;x&lt;/script&gt; is escaped" in page and "<script>" not in page
    assert '<span class="badge inconclusive">inconclusive</span>' in page


def test_summary_counts_runs_commits_and_profiles(reports: Path) -> None:
    md = read(reports / "index.md")
    assert "Generated: 2026-01-02T04:00:00+00:00" in md
    assert "Profiles: quick" in md and "0123456789ab (dirty)" in md
    assert "Notebooks: 2 failed, 2 ok, 1 skipped-gpu" in md
    assert "Claims: 1 fails, 1 holds, 1 inconclusive" in md


def test_the_data_banner_is_shown_in_a_warning_box(reports: Path) -> None:
    banner = "CIFAR-10 not found: synthetic stand-in data"
    assert f"> [!WARNING]\n> Synthetic data: {banner}" in read(reports / "alpha" / "index.md")
    assert f'<div class="warning">⚠ Synthetic data: {banner}</div>' in read(reports / "alpha" / "index.html")
    for page in (reports / "index.md", reports / "alpha" / "index.md"):
        assert "> [!WARNING]\n> Synthetic stand-in data replaced real data in: alpha/fig1" in read(page)
    assert '<div class="warning">⚠ Synthetic stand-in data replaced real data in: alpha/fig1' in read(reports / "index.html")


def test_an_artefact_shows_figures_tables_and_provenance(reports: Path) -> None:
    md, page = read(reports / "alpha" / "index.md"), read(reports / "alpha" / "index.html")
    assert ('<a href="fig1.png"><img src="fig1.png" width="560" '   # no PNG to measure: the default width
            'alt="fig1: fig1 (click for the full-size image)"></a>') in md
    assert "Figure: [PNG](fig1.png), [PDF](fig1.pdf)" in md and "[fig1.csv](fig1.csv)" in md
    assert "[table1.md (Markdown)](table1.md)" in md and "### Paper vs ours: table1" in md
    assert "| a\\|b | 0.91 | 0.88 |" in md  # the paper-vs-ours table, embedded as written
    assert "<td>a|b</td><td>0.91</td><td>0.88</td>" in page
    assert "[01_fig1.html](01_fig1.html)" in md and "[← all papers](../index.md)" in md
    for text in ("Caption of fig1.", "cpu (2 threads)", "torch 2.14.1", "0, 1",
                 "12.5 s", '`{"PROFILE": "quick", "SEEDS": [0, 1]}`',
                 "synthetic data synthetic", "- a note"):
        assert text in md, text
    assert "synthetic: synthetic — stand-in" in page  # the full provenance table, collapsed
    assert page.count("<details><summary>Provenance of notebook 01_fig1") == 1
    assert 'href="../index.html"' in page and 'src="fig1.png" width="560"' in page
    assert 'href="alpha/fig1.png"' in read(reports / "index.html")  # links relative to each page


def _png(width: int, height: int) -> bytes:
    """A valid grey PNG of `width` x `height` pixels."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def test_every_figure_shows_at_a_readable_width_linking_to_the_full_image(tmp_path: Path) -> None:
    rec = record("alpha", "fig4_1_4_2", [], files=[
        {"path": "fig4_1.png", "kind": "figure"}, {"path": "fig4_1.pdf", "kind": "figure-pdf"},
        {"path": "fig4_2.png", "kind": "figure"}, {"path": "fig4_2.csv", "kind": "figure-data"}])
    (tmp_path / "alpha").mkdir()
    (tmp_path / "alpha" / "fig4_1_4_2.json").write_text(json.dumps(rec))
    (tmp_path / "alpha" / "fig4_1.png").write_bytes(_png(1500, 2))   # wider than the page: shown at its width
    (tmp_path / "alpha" / "fig4_2.png").write_bytes(_png(400, 2))    # narrow: shown at its natural width
    manifest = {"notebooks": {"alpha/01": entry("alpha", "01", ["fig4_1_4_2"])}}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    index.build(tmp_path)
    assert index.png_size(tmp_path / "alpha" / "fig4_1.png") == (1500, 2)
    page = read(tmp_path / "alpha" / "index.html")
    for name, width in (("fig4_1", index.MAX_FIGURE_WIDTH), ("fig4_2", 400)):
        assert f'<a href="{name}.png" title="full-size image"><img src="{name}.png" width="{width}"' in page
    assert 'href="alpha/fig4_2.png"' in read(tmp_path / "index.html")
    assert "max-width: 100%" in page   # never wider than a narrow window
    assert index.png_size(tmp_path / "manifest.json") is None


def test_the_index_lists_artefacts_and_leaves_their_sections_to_the_paper_pages(reports: Path) -> None:
    md, page = read(reports / "index.md"), read(reports / "alpha" / "index.md")
    assert "| [fig1](alpha/index.md#alpha-fig1) | Title of fig1 | ◐ **partly** | ✅ **ok** | [fig1.png](alpha/fig1.png) |" in md
    assert "| [fig9](beta/index.md#beta-fig9) | no results yet | **missing** | ❌ **failed** **kernel died" in md
    assert "### Paper vs ours: table1" in page and "Paper vs ours: table1" not in md   # sections: paper page only
    # atop the paper's page, the same table links the sections on the page itself
    assert "| [fig1](#alpha-fig1) | Title of fig1 | ◐ **partly** | ✅ **ok** | [fig1.png](fig1.png) |" in page
    assert "([log](logs/02_tab2.log))" in page
    assert "Provenance:" in page and "Provenance:" not in md
    html = read(reports / "index.html")
    assert 'id="alpha-fig1"' in read(reports / "alpha" / "index.html") and 'href="alpha/index.html#alpha-fig1"' in html


def test_a_failed_notebook_shows_its_error_and_last_good_run(reports: Path) -> None:
    md, page = read(reports / "alpha" / "index.md"), read(reports / "alpha" / "index.html")
    assert ("Status: ❌ **failed** **ValueError: bad \\| input** ([log](logs/02_tab2.log)) — "
            "showing last good run of 2026-01-02T03:04:05+00:00") in md
    assert '<span class="error">ValueError: bad | input</span>' in page
    assert "[log](alpha/logs/02_tab2.log)" in read(reports / "index.md")


def test_missing_records_and_keys_do_not_stop_the_index(reports: Path) -> None:
    beta, gamma = read(reports / "beta" / "index.md"), read(reports / "gamma" / "index.md")
    assert "fig9: no results yet" in beta and "kernel died (out of memory?)" in beta
    assert "fig8: missing" in beta and "artefact record beta/fig8.json is missing" in beta
    assert "fig7: no results yet" in gamma and "skipped-gpu" in gamma
    assert "(no record: notebook failed)" in read(reports / "index.md")


def test_an_empty_reports_folder_gives_empty_pages(tmp_path: Path) -> None:
    index.build(tmp_path)
    assert "Notebooks: none" in read(tmp_path / "index.md")
    assert read(tmp_path / "index.html").startswith("<!DOCTYPE html>")


def test_markdown_tables_become_html_tables() -> None:
    html = index.markdown_table_to_html("Caption & more\n\n| a | b |\n|:--|--:|\n| 1\\|2 | <3 |\n")
    assert html == ("<p>Caption &amp; more</p>\n<table><thead><tr><th>a</th><th>b</th></tr></thead>"
                    "<tbody><tr><td>1|2</td><td>&lt;3</td></tr></tbody></table>")


def test_the_index_opens_with_a_per_paper_summary_and_the_verdict_rule(reports: Path) -> None:
    md = read(reports / "index.md")
    assert md.index("## Per paper") < md.index("## Claims")
    assert "| [Alpha paper](alpha/index.md) | 2: 1 partly, 1 inconclusive | 1 fails, 1 holds, 1 inconclusive |" in md
    assert '### <a id="verdict-rule"></a>Verdict rule (every claim of every paper)\n\nA claim holds when' in md
    assert md.count("A claim holds when") == 1  # stated once on the index ...
    paper = read(reports / "alpha" / "index.md")
    assert "A claim holds when" not in paper and "(../index.md#verdict-rule)" in paper  # ... and linked


def test_not_run_is_its_own_verdict_and_re_renders_are_no_compute_time(tmp_path: Path) -> None:
    run_a = entry("p", "01_a", ["a"])
    run_b = entry("p", "02_b", ["b"], duration_s=13.6, git={"commit": "fedcba9876", "dirty": False})
    manifest = {"notebooks": {"p/01_a": run_a, "p/02_b": run_b}}
    (tmp_path / "p").mkdir()
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    (tmp_path / "p" / "a.json").write_text(json.dumps(record("p", "a", [
        {"id": "x", "text": "t", "verdict": "holds", "evidence": "+1 [0.5, 2]",
         "parts": [{"part": "layer 1", "verdict": "holds", "evidence": "+1"}]}],
        scale="3,000 images, 17 epochs")))
    (tmp_path / "p" / "b.json").write_text(json.dumps(record("p", "b", [
        {"id": "y", "text": "u", "verdict": "inconclusive", "evidence": "Not run here (no ImageNet)."}],
        title="Tables 5.6-5.9 (not run)")))
    (tmp_path / "p" / "t.md").write_text("| a | b |\n|---|---|\n| nan | 1 |\n")
    index.build(tmp_path)
    md = read(tmp_path / "index.md")
    assert "2: 1 reproduced, 1 not run" in md and "1 holds, 1 not run" in md
    assert "⏸ **not run**" in md and "inconclusive" not in md.split("## Claims")[1]
    assert "0.2 min (leaves out 02_b: re-run from a cache that did not record compute times)" in md
    assert "↳ part: layer 1" in md and "3,000 images, 17 epochs" in md


def test_compute_time_adds_what_cache_hits_saved_once_per_entry() -> None:
    fresh = entry("p", "01_a", ["a"], duration_s=600.0)
    fresh["cache"] = {"hits": 0, "misses": 2, "hits_untimed": 0, "saved_s": 0.0, "hit_s": {},
                      "computed": ["s/k1", "s/k2"]}
    rerun = entry("p", "02_b", ["b"], duration_s=30.0, git={"commit": "fedcba9876", "dirty": False})
    rerun["cache"] = {"hits": 2, "misses": 0, "hits_untimed": 0, "saved_s": 270.0,
                      "hit_s": {"s/k3": 240.0, "s/k1": 30.0}, "computed": []}
    again = entry("p", "03_c", ["c"], duration_s=30.0)
    again["cache"] = {"hits": 1, "misses": 0, "hits_untimed": 0, "saved_s": 240.0, "hit_s": {"s/k3": 240.0},
                      "computed": []}
    # 600 + 30 + 30 s of wall time, plus k3 once (k1 was computed by 01_a, inside its 600 s)
    assert index.compute_time([fresh, rerun, again]) == ("15.0 min", [])
    rerun["cache"]["hits_untimed"] = 1   # hit an entry whose compute time nobody recorded
    assert index.compute_time([fresh, rerun, again]) == ("14.5 min", ["02_b"])


def test_missing_cells_read_as_dashes() -> None:
    assert "<td>—</td><td>1</td>" in index.markdown_table_to_html("| a | b |\n|---|---|\n| nan | 1 |\n")
    md = index.to_markdown([index.MarkdownTable("| a | b |\n|---|---|\n| nan | None |\n")])
    assert "| — | — |" in md
    # a hyphen alone is a missing cell too (the paper's "-"); a negative number or a range is not
    html = index.markdown_table_to_html("| a | b | c |\n|---|---|---|\n| - | -1.5 | 2-3 |\n")
    assert "<td>—</td><td>-1.5</td><td>2-3</td>" in html
    assert "| — | -1.5 | 2-3 |" in index.to_markdown([index.MarkdownTable("| a | b | c |\n|---|---|---|\n| - | -1.5 | 2-3 |")])


def test_verdict_of_maps_old_not_run_records() -> None:
    assert index.verdict_of({"verdict": "inconclusive", "evidence": "Not run here."}, None) == "not run"
    assert index.verdict_of({"verdict": "inconclusive", "evidence": "x"}, {"title": "T (not run)"}) == "not run"
    assert index.verdict_of({"verdict": "inconclusive", "evidence": "seeds disagree"}, {"title": "T"}) == "inconclusive"


def test_code_warning_names_files_changed_since_the_run(tmp_path: Path) -> None:
    import subprocess

    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True,
                              text=True).stdout.strip()

    git("init", "-q")
    git("config", "user.email", "t@t")
    git("config", "user.name", "t")
    (tmp_path / "lib" / "papers" / "p").mkdir(parents=True)
    (tmp_path / "lib" / "shared.py").write_text("X = 1\n")
    (tmp_path / "lib" / "other.py").write_text("Y = 1\n")
    (tmp_path / "lib" / "papers" / "p" / "render.py").write_text("from lib import shared\n")
    git("add", ".")
    git("commit", "-qm", "one")
    first = git("rev-parse", "HEAD")
    (tmp_path / "lib" / "other.py").write_text("Y = 2\n")  # not a dependency of p
    git("commit", "-qam", "two")
    reports_dir = tmp_path / "reports"
    reports_dir.mkdir()
    a = index.Artefact("p", "a", {}, {"git": {"commit": first}}, {})
    assert index.dependencies(tmp_path, "p") == ["lib/papers/p/render.py", "lib/shared.py"]
    assert index.code_warning(a, reports_dir) is None
    (tmp_path / "lib" / "shared.py").write_text("X = 2\n")
    git("commit", "-qam", "three")
    assert "1 file(s) it depends on changed since the run's commit" in index.code_warning(a, reports_dir)
    assert index.code_warning(a, reports_dir).endswith(": lib/shared.py; a re-run may change these numbers")
    assert index._brace(["lib/a.py", "lib/b.py", "lib/papers/p/c.py"]) == "lib/{a,b}.py, lib/papers/p/c.py"
    missing = index.Artefact("p", "a", {}, {"git": {"commit": "0" * 40}}, {})
    assert "not in this repository" in index.code_warning(missing, reports_dir)
    # the index's artefact table flags it in one short cell
    table = index.artefact_index([a], reports_dir, "md")
    assert table.rows[0][-1] == [f"⚠ 1 file(s) it depends on changed since {first[:12]}"]


def test_dependencies_follow_edits_of_the_imports(tmp_path: Path) -> None:
    (tmp_path / "lib" / "papers" / "p").mkdir(parents=True)
    (tmp_path / "lib" / "a.py").write_text("from lib import b\n")
    (tmp_path / "lib" / "b.py").write_text("X = 1\n")
    (tmp_path / "lib" / "c.py").write_text("Y = 1\n")
    render = tmp_path / "lib" / "papers" / "p" / "render.py"
    render.write_text("from lib import a\n")
    assert index.dependencies(tmp_path, "p") == ["lib/a.py", "lib/b.py", "lib/papers/p/render.py"]
    render.write_text("from lib import c  # now c, not a\n")   # another size: a new state, parsed again
    assert index.dependencies(tmp_path, "p") == ["lib/c.py", "lib/papers/p/render.py"]


def test_absolute_paths_read_relative_to_the_repository() -> None:
    from lib.paths import relative_text

    assert relative_text("imagefolder:/work/main/../shared/data/c.tar.gz", "/work/main") == \
        "imagefolder:../shared/data/c.tar.gz"
    assert relative_text("see http://x.org/a, 80/20 split", "/work/main") == "see http://x.org/a, 80/20 split"
