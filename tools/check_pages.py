"""Check the report pages as a reader's browser shows them.

    python tools/check_pages.py [REPORTS_DIR] [--screenshots DIR] [--no-browser]

1. Links and images (no browser needed): every `src`/`href` of reports/index.html and each paper's
   index.html that points to a local file must exist (anchors `#id` must exist on the target page);
   the executed-notebook pages they link (`<paper>/*.html`) must show no progress-bar output.
2. With Debian's `chromium` on PATH (and not --no-browser): each page is rendered headless; the
   dumped DOM (after layout, with a small script that records each image's natural size) must show
   every image loaded (natural width > 0), and full-page screenshots (1280 px wide; a page taller
   than 16,000 px in slices: <page>.png, <page>-2.png, ...) go to build/screenshots/.

Exit status 0 when every check passes, 1 otherwise (each problem is printed).
"""
from __future__ import annotations

import argparse
import html
import re
import shutil
import subprocess
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
PROBE_ATTR = "data-natural-width"
# Appended to a copy of the page: after load, writes each image's natural width into the DOM
PROBE = ("<script>window.addEventListener('load', () => { for (const img of document.images) "
         f"img.setAttribute('{PROBE_ATTR}', String(img.naturalWidth)); "
         "document.body.setAttribute('data-height', String(document.documentElement.scrollHeight)); "
         "document.body.setAttribute('data-probed', '1'); });</script>")
SHOT_WIDTH = 1280
MAX_SHOT_HEIGHT = 16000   # px; a taller page is cut there (Chromium's screenshot limit is near 16k)


class _Refs(HTMLParser):
    """The `src`/`href` attributes and element ids of an HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.refs: list[tuple[str, str, str]] = []   # (tag, attribute, value)
        self.ids: set[str] = set()
        self.images: list[dict[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if values.get("id"):
            self.ids.add(values["id"])
        for key in ("src", "href"):
            if key in values:
                self.refs.append((tag, key, values[key]))
        if tag == "img":
            self.images.append(values)


def parse(page: Path) -> _Refs:
    refs = _Refs()
    refs.feed(page.read_text(encoding="utf-8"))
    return refs


def pages(reports: Path) -> list[Path]:
    """reports/index.html and each paper's index.html."""
    found = [reports / "index.html"] if (reports / "index.html").is_file() else []
    return found + sorted(p for p in reports.glob("*/index.html") if p.is_file())


def check_links(page: Path) -> list[str]:
    """Broken local links and images of one page (external and data: URLs are not followed)."""
    problems = []
    ids_cache: dict[Path, set[str]] = {}
    for tag, attr, value in parse(page).refs:
        url = urlsplit(html.unescape(value))
        if url.scheme or url.netloc or value.startswith("data:"):
            continue
        target = (page.parent / unquote(url.path)).resolve() if url.path else page.resolve()
        if not target.exists():
            problems.append(f"{page}: <{tag} {attr}={value!r}>: {target} does not exist")
            continue
        if url.fragment and target.suffix == ".html":
            if target not in ids_cache:
                ids_cache[target] = parse(target).ids
            if url.fragment not in ids_cache[target]:
                problems.append(f"{page}: <{tag} {attr}={value!r}>: no id {url.fragment!r} in {target.name}")
        if tag == "img" and target.is_file() and target.stat().st_size == 0:
            problems.append(f"{page}: <img src={value!r}>: empty file")
    return problems


# A progress bar's line as an executed notebook's HTML shows it: tqdm's `42%|####| 7/17 [00:12<00:10, 1.3it/s]`
PROGRESS = re.compile(r"\d+%\|[^|<\n]*\|\s*\d+/\d+|\[\d+:\d+(?:&lt;|<)[^\]\n]*(?:it/s|s/it)\]")


def check_progress(page: Path) -> list[str]:
    """Progress-bar output in the executed-notebook pages `page` links to (the runner strips it when
    it renders a notebook; a page rendered before that still shows it)."""
    problems = []
    for tag, _, value in parse(page).refs:
        url = urlsplit(html.unescape(value))
        if tag != "a" or url.scheme or url.netloc or not url.path.endswith(".html"):
            continue
        target = (page.parent / unquote(url.path)).resolve()
        if target.name == "index.html" or not target.is_file():
            continue
        text = target.read_text(encoding="utf-8", errors="replace")
        lines = [m.group(0) for m in map(PROGRESS.search, text.splitlines()) if m]
        if lines:
            problems.append(f"{target}: {len(lines)} progress-bar line(s), e.g. "
                            f"{html.unescape(lines[0])!r}: re-render it from its .ipynb")
    return problems


def chromium() -> str | None:
    """The headless browser, if installed."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _run_browser(browser: str, args: list[str], timeout: int = 180) -> subprocess.CompletedProcess:
    return subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                           "--allow-file-access-from-files", *args],
                          capture_output=True, text=True, timeout=timeout)


def check_in_browser(page: Path, shot: Path, browser: str) -> list[str]:
    """Render `page` headless: every image must have a natural width > 0; saves a screenshot."""
    problems = []
    # The probe runs in a copy beside the page, so that relative links resolve the same way
    with tempfile.NamedTemporaryFile("w", suffix=".html", dir=page.parent, delete=False,
                                     encoding="utf-8", prefix=".check_") as tmp:
        tmp.write(page.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"))
        probe_page = Path(tmp.name)
    try:
        out = _run_browser(browser, ["--virtual-time-budget=20000", f"--window-size={SHOT_WIDTH},2400",
                                     "--dump-dom", probe_page.as_uri()])   # the screenshots' width
    finally:
        probe_page.unlink(missing_ok=True)
    dom = out.stdout
    if 'data-probed="1"' not in dom:
        return [f"{page}: the browser did not finish loading the page ({out.returncode}): {out.stderr[-300:]}"]
    for img in re.findall(r"<img\b[^>]*>", dom):
        width = re.search(rf'{PROBE_ATTR}="(\d+)"', img)
        src = re.search(r'src="([^"]*)"', img)
        if not width or int(width.group(1)) == 0:
            problems.append(f"{page}: image {src.group(1) if src else img[:80]} did not load (natural width 0)")
    height = re.search(r'data-height="(\d+)"', dom)
    problems += screenshots(page, shot, int(height.group(1)) if height else 2400, browser)
    return problems


def screenshots(page: Path, shot: Path, height: int, browser: str) -> list[str]:
    """Full-page screenshots of `page` (`height` px tall): `shot`, then for a page taller than
    `MAX_SHOT_HEIGHT` one more file per further slice (`<name>-2.png`, ...), each taken from a copy of
    the page shifted up by the slice's offset (a headless screenshot only shows the window's top)."""
    problems = []
    shot.parent.mkdir(parents=True, exist_ok=True)
    for k, offset in enumerate(range(0, max(height, 1), MAX_SHOT_HEIGHT)):
        target = shot if k == 0 else shot.with_name(f"{shot.stem}-{k + 1}{shot.suffix}")
        size = f"--window-size={SHOT_WIDTH},{min(MAX_SHOT_HEIGHT, height - offset)}"
        if k == 0:
            done = _run_browser(browser, [f"--screenshot={target}", size, page.as_uri()])
        else:
            shift = f"<style>html {{ background: #fff; }} body {{ margin-top: -{offset}px !important; }}</style>"
            with tempfile.NamedTemporaryFile("w", suffix=".html", dir=page.parent, delete=False,
                                             encoding="utf-8", prefix=".shot_") as tmp:
                tmp.write(page.read_text(encoding="utf-8").replace("</head>", shift + "</head>"))
                copy = Path(tmp.name)
            try:
                done = _run_browser(browser, [f"--screenshot={target}", size, copy.as_uri()])
            finally:
                copy.unlink(missing_ok=True)
        if not target.is_file():
            problems.append(f"{page}: no screenshot {target.name} ({done.returncode}): {done.stderr[-300:]}")
    return problems


def check(reports: Path, shots: Path, browser: bool = True) -> list[str]:
    """Every problem found on the report pages (empty when all is well)."""
    reports, shots = reports.resolve(), shots.resolve()   # the browser needs file:// URIs
    found = pages(reports)
    if not found:
        return [f"{reports}: no index.html"]
    problems = [p for page in found for p in check_links(page)]
    problems += sorted({p for page in found for p in check_progress(page)})
    exe = chromium() if browser else None
    if exe:
        for page in found:
            name = "index" if page.parent.resolve() == reports.resolve() else page.parent.name
            problems += check_in_browser(page, shots / f"{name}.png", exe)
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("reports", nargs="?", type=Path, default=ROOT / "reports")
    parser.add_argument("--screenshots", type=Path, default=ROOT / "build" / "screenshots")
    parser.add_argument("--no-browser", action="store_true", help="links and images only")
    args = parser.parse_args(argv)
    problems = check(args.reports, args.screenshots, browser=not args.no_browser)
    for p in problems:
        print(p)
    browser = "" if args.no_browser or not chromium() else f"; screenshots in {args.screenshots}"
    print(f"{len(pages(args.reports))} pages, {len(problems)} problems{browser}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
