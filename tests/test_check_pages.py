"""tools/check_pages.py: broken links and images on the report pages (the browser part only where
Debian's chromium is installed)."""
from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

from lib import paths

spec = importlib.util.spec_from_file_location("check_pages", paths.ROOT / "tools" / "check_pages.py")
check_pages = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check_pages)

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


def test_the_committed_reports_have_no_broken_links_or_images() -> None:
    pages = check_pages.pages(paths.REPORTS)
    assert paths.REPORTS / "index.html" in pages and len(pages) >= 2
    assert [p for page in pages for p in check_pages.check_links(page)] == []


def _site(tmp_path: Path, body: str) -> Path:
    (tmp_path / "p").mkdir()
    (tmp_path / "ok.png").write_bytes(PNG)
    (tmp_path / "index.html").write_text(f'<html><body><h2 id="here">x</h2>{body}</body></html>')
    (tmp_path / "p" / "index.html").write_text('<html><body><a href="../index.html#here">up</a></body></html>')
    return tmp_path


def test_broken_links_images_and_anchors_are_reported(tmp_path: Path) -> None:
    site = _site(tmp_path, '<img src="ok.png"><img src="gone.png"><a href="p/index.html">p</a>'
                           '<a href="index.html#nowhere">x</a><a href="https://example.org/">ext</a>')
    problems = check_pages.check(site, tmp_path / "shots", browser=False)
    assert len(problems) == 2
    assert "gone.png" in problems[0] and "no id 'nowhere'" in problems[1]


def test_progress_bars_in_linked_notebook_pages_are_reported(tmp_path: Path) -> None:
    site = _site(tmp_path, '<a href="p/01_nb.html">notebook</a><a href="p/02_nb.html">clean</a>')
    (site / "p" / "01_nb.html").write_text("<pre>\nbaseline:  42%|####      | 7/17 [00:12&lt;00:10,  1.3it/s]</pre>"
                                           "<pre>epoch 3: 45.1%</pre>")
    (site / "p" / "02_nb.html").write_text("<pre>accuracy 45.1% | 7/17 seeds done</pre>")   # no bar
    problems = check_pages.check(site, tmp_path / "shots", browser=False)
    assert len(problems) == 1 and "01_nb.html: 1 progress-bar line" in problems[0], problems


@pytest.mark.skipif(check_pages.chromium() is None, reason="chromium not installed (apt-get install chromium)")
def test_the_browser_sees_images_load_and_saves_screenshots(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = _site(tmp_path, '<img src="ok.png"><img src="bad.png">')
    (site / "bad.png").write_bytes(b"not a png")            # exists, so only the browser can tell
    monkeypatch.chdir(tmp_path)                             # relative paths, as on the command line
    problems = check_pages.check(Path("."), Path("shots"))
    assert len(problems) == 1 and "bad.png did not load" in problems[0], problems
    assert (tmp_path / "shots" / "index.png").is_file() and (tmp_path / "shots" / "p.png").is_file()


@pytest.mark.skipif(check_pages.chromium() is None, reason="chromium not installed (apt-get install chromium)")
def test_a_tall_page_is_screenshot_in_slices(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(check_pages, "MAX_SHOT_HEIGHT", 1000)
    site = _site(tmp_path, '<div style="height: 2500px; background: #c00">tall</div>')
    assert check_pages.check(site, tmp_path / "shots") == []
    shots = sorted(p.name for p in (tmp_path / "shots").glob("index*.png"))
    assert shots == ["index-2.png", "index-3.png", "index.png"]
    # the last slice shows the page's red block, not a blank window
    from PIL import Image
    last = Image.open(tmp_path / "shots" / "index-3.png").convert("RGB")
    assert last.size[0] == check_pages.SHOT_WIDTH and (204, 0, 0) in {c for _, c in last.getcolors(1 << 16)}
    assert shutil.which("chromium") or shutil.which("chromium-browser")
