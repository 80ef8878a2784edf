"""The report index: `reports/index.md`, `reports/index.html` and one page per paper.

Pages are generated from `reports/manifest.json` (the runner's record of every notebook) and the
artefact records `reports/<paper>/<artefact>.json` (docs/architecture.md §3 and §4). Every page is
first built as a list of blocks (headings, paragraphs, tables, ...) and then rendered twice: to
GitHub Markdown and to a self-contained HTML page (inline CSS, no scripts). Links are relative to
the page. Missing records or keys never stop the index: they show as "missing".
"""
from __future__ import annotations

import ast
import functools
import html
import json
import os
import posixpath
import re
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union
from urllib.parse import quote

from lib import overview
from lib.claims import VERDICT_RULE
from lib.papers import scale_line
from lib.paths import relative_text

THUMBNAIL_WIDTH = 560        # display width (px) of a figure whose PNG size cannot be read
MAX_FIGURE_WIDTH = 1060      # figures show at their natural width up to the page's content width
MISSING = "missing"
DASH = "—"
BADGE_MARKS = {"holds": "✅", "ok": "✅", "fails": "❌", "failed": "❌", "inconclusive": "❔",
               "not run": "⏸", "reproduced": "✅", "partly": "◐", "not reproduced": "❌"}
# What an artefact's claims add up to, in the order the per-paper summary counts them
OUTCOMES = ("reproduced", "partly", "not reproduced", "inconclusive", "not run", "no claims")
NAN_CELLS = {"nan", "NaN", "None", "<NA>", "NaT", "-", "–"}   # missing cells, shown as DASH
FIGURE_EXTENSIONS = (".png", ".pdf", ".svg")
CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 1100px;
       margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.92em; }
th, td { border: 1px solid #ccc; padding: 3px 8px; vertical-align: top; text-align: left; }
th { background: #f3f3f3; }
code { background: #f5f5f5; padding: 0 3px; font-size: 0.9em; word-break: break-word; }
.badge { display: inline-block; padding: 0 7px; border-radius: 9px; color: #fff;
         font-weight: 600; font-size: 0.85em; white-space: nowrap; }
.holds, .ok { background: #2e7d32; }
.fails, .failed { background: #c62828; }
.inconclusive, .partly { background: #f9a825; color: #222; }
.reproduced { background: #2e7d32; }
.not-reproduced { background: #c62828; }
.not-run, .no-claims { background: #757575; }
details { margin: 0.4em 0 0.8em; }
summary { cursor: pointer; color: #444; }
td.part { padding-left: 1.6em; color: #444; }
.missing, .skipped-gpu, .skipped-data { background: #757575; }
.warning { border: 2px solid #f9a825; background: #fff8e1; padding: 0.5em 0.8em; margin: 0.6em 0;
           overflow-wrap: anywhere; }
.error { color: #c62828; }
img { border: 1px solid #ddd; max-width: 100%; height: auto; }
"""


# --------------------------------------------------------------------------------------------
# Page content as blocks


@dataclass(frozen=True)
class Link:
    """A link; `href` is relative to the page."""

    text: str
    href: str


@dataclass(frozen=True)
class Badge:
    """A coloured label (verdict or status); `kind` selects the colour."""

    text: str
    kind: str


@dataclass(frozen=True)
class Code:
    """Inline code."""

    text: str


@dataclass(frozen=True)
class Error:
    """Text shown as an error (red in HTML, bold in Markdown)."""

    text: str


Inline = Union[str, Link, Badge, Code, Error]


@dataclass(frozen=True)
class Heading:
    """A heading; `anchor` is its id in HTML."""

    level: int
    content: list[Inline]
    anchor: str | None = None


@dataclass(frozen=True)
class Paragraph:
    """A paragraph of inline content."""

    content: list[Inline]


@dataclass(frozen=True)
class WarningBox:
    """A visible warning (synthetic data banners)."""

    content: list[Inline]


@dataclass(frozen=True)
class Thumbnail:
    """An image shown `width` px wide (`THUMBNAIL_WIDTH` when None), linking to the full-size file."""

    src: str
    alt: str
    width: int | None = None

    @property
    def shown_width(self) -> int:
        return self.width or THUMBNAIL_WIDTH


def png_size(path: Path) -> tuple[int, int] | None:
    """(width, height) in pixels from a PNG's IHDR chunk, or None when `path` is not a readable PNG."""
    try:
        with open(path, "rb") as f:
            head = f.read(24)
    except OSError:
        return None
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def figure_thumbnail(reports_dir: Path, target: str, page_dir: str, alt: str) -> Thumbnail:
    """A figure `target` (a PNG, relative to reports/) as a page shows it: at its natural width, at most
    `MAX_FIGURE_WIDTH` px (the page's content width), linking to the full-size image."""
    size = png_size(reports_dir / target)
    return Thumbnail(_href(target, page_dir), alt, min(size[0], MAX_FIGURE_WIDTH) if size else None)


@dataclass(frozen=True)
class Table:
    """A table whose cells are inline content."""

    header: list[str]
    rows: list[list[list[Inline]]]


@dataclass(frozen=True)
class BulletList:
    """An unordered list."""

    items: list[list[Inline]]


@dataclass(frozen=True)
class MarkdownTable:
    """A Markdown file's text (a paper-vs-ours table), embedded as it is."""

    text: str


@dataclass(frozen=True)
class Details:
    """A collapsed block (HTML `<details>`); in Markdown only the compact `line` is shown."""

    summary: str
    body: "Table"
    line: list[Inline]


Block = Union[Heading, Paragraph, WarningBox, Thumbnail, Table, BulletList, MarkdownTable, Details]


# --------------------------------------------------------------------------------------------
# What the pages show


@dataclass(frozen=True)
class Artefact:
    """One artefact as the index shows it.

    Attributes:
        paper: Paper id.
        artefact: Artefact id.
        entry: The notebook's entry in `reports/manifest.json`.
        run: The run whose files are shown: the entry itself when `ok`, else its `last_good`
            (None when the notebook never succeeded).
        record: The parsed `<paper>/<artefact>.json`, or None when absent or unreadable.
    """

    paper: str
    artefact: str
    entry: dict[str, Any]
    run: dict[str, Any] | None
    record: dict[str, Any] | None

    @property
    def anchor(self) -> str:
        """The HTML id of the artefact's section."""
        return f"{self.paper}-{self.artefact}"


def collect(reports_dir: Path, report: dict[str, Any]) -> list[Artefact]:
    """Every artefact of every notebook in `reports/manifest.json`, sorted by notebook key.

    Args:
        reports_dir: The reports folder.
        report: The parsed `manifest.json`.

    Returns:
        One `Artefact` per (notebook, artefact).
    """
    artefacts = []
    for key, entry in sorted((report.get("notebooks") or {}).items()):
        paper = entry.get("paper") or key.split("/", 1)[0]
        run = entry if entry.get("status") == "ok" else entry.get("last_good")
        for artefact in entry.get("artefacts") or []:
            record = overview.read_json(reports_dir / paper / f"{artefact}.json") if run else None
            artefacts.append(Artefact(paper, artefact, entry, run, record))
    return artefacts


def _href(target: str, page_dir: str) -> str:
    """A link to `target` from a page in `page_dir` (both relative to reports/)."""
    return quote(posixpath.relpath(target, page_dir))


def _git_text(git: dict[str, Any] | None) -> str:
    """`<commit> (dirty)` for a run's git state."""
    if not git:
        return MISSING
    commit = (git.get("commit") or "no commit")[:12]
    return f"{commit} (dirty)" if git.get("dirty") else commit


def _claims(artefact: Artefact) -> list[dict[str, Any]]:
    """The artefact's claims (empty without a record)."""
    return list((artefact.record or {}).get("claims") or [])


def verdict_of(claim: dict[str, Any], record: dict[str, Any] | None) -> str:
    """A claim's verdict as the reports show it. Records written before the `not run` verdict existed
    mark an experiment that could not run by an evidence starting "Not run" or a title ending "(not
    run)" (RePr's Tables 5.6-5.9): those read *not run*, never inconclusive."""
    verdict = str(claim.get("verdict") or MISSING)
    if verdict == "inconclusive":
        evidence = str(claim.get("evidence") or "").lstrip().lower()
        title = str((record or {}).get("title") or "").lower()
        if evidence.startswith("not run") or title.endswith("(not run)"):
            return "not run"
    return verdict


def outcome(a: Artefact) -> str:
    """What an artefact's claims add up to: reproduced (every claim holds), partly (some hold), not
    reproduced (none holds, some fail), inconclusive, not run (every claim not run), no claims."""
    verdicts = [verdict_of(c, a.record) for c in _claims(a)]
    ran = [v for v in verdicts if v != "not run"]
    if not verdicts:
        return "no claims"
    if not ran:
        return "not run"
    if all(v == "holds" for v in ran):
        return "reproduced"
    if any(v == "holds" for v in ran):
        return "partly"
    return "not reproduced" if any(v == "fails" for v in ran) else "inconclusive"


def scale_of(record: dict[str, Any] | None) -> str:
    """The record's one-line scale: its `scale` field, else the paper's SCALE filled with the record's
    parameters (records written before `scale` existed), else a dash."""
    if not record:
        return DASH
    if record.get("scale"):
        return str(record["scale"])
    return scale_line(str(record.get("paper") or ""), record.get("parameters") or {}) or DASH


def _notebooks(artefacts: list[Artefact]) -> list[dict[str, Any]]:
    """Each notebook entry once, in order."""
    return list({id(a.entry): a.entry for a in artefacts}.values())


def compute_time(entries: list[dict[str, Any]]) -> tuple[str, list[str]]:
    """Compute time from an empty cache, summed over a paper's notebooks.

    Runs that recorded their cache use (`cache`: the kernel's `lib.cache.ledger()`) cost their wall
    times plus the recorded compute seconds of every distinct cache entry they hit that none of them
    computed (an entry shared by several notebooks counts once), whatever the cache held when they ran.
    A run that hit entries written before compute times were recorded is left out and named; one
    without a ledger (older runs) counts only if it ran at the paper's main commit (the one most of its
    shown runs ran at), since a later re-run found the first run's models in the cache (RePr 06 once
    took 13.6 s).

    Returns:
        ("123.4 min", [names of the notebooks left out]).
    """
    runs = [(e, e if e.get("status") == "ok" else e.get("last_good")) for e in entries]
    runs = [(e, r) for e, r in runs if r and r.get("duration_s") is not None]
    if not runs:
        return DASH, []
    commits = Counter((r.get("git") or {}).get("commit") for _, r in runs)
    main = commits.most_common(1)[0][0]
    total, left, hit_s, computed = 0.0, [], {}, set()
    for e, r in runs:
        ledger = r.get("cache") if isinstance(r.get("cache"), dict) else None
        if ledger is not None and not ledger.get("hits_untimed"):
            total += r["duration_s"]
            if isinstance(ledger.get("hit_s"), dict):
                hit_s.update(ledger["hit_s"])
                computed.update(ledger.get("computed") or ())
            else:   # an early ledger with only the sum
                total += float(ledger.get("saved_s") or 0.0)
        elif ledger is None and (r.get("git") or {}).get("commit") == main:
            total += r["duration_s"]
        else:
            left.append(str(e.get("notebook") or MISSING))
    total += sum(float(s) for k, s in hit_s.items() if k not in computed)
    return f"{total / 60:.1f} min", left


@functools.lru_cache(maxsize=None)
def _repo_root(start: str) -> str | None:
    """The git work tree holding `start`, or None."""
    try:
        out = subprocess.run(["git", "-C", start, "rev-parse", "--show-toplevel"], capture_output=True,
                             text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def dependencies(root: Path, paper: str) -> list[str]:
    """The files a paper's results depend on, relative to `root`: `lib/papers/<paper>/*.py` and the
    shared `lib/*.py` modules they import, transitively (read with `ast`; parsed once per state of
    those files: the cache key holds each candidate file's size and modification time)."""
    files = [*sorted((root / "lib" / "papers" / paper).glob("*.py")), *sorted((root / "lib").glob("*.py"))]
    stamp = []
    for f in files:
        try:
            st = f.stat()
        except OSError:
            continue
        stamp.append((str(f), st.st_mtime_ns, st.st_size))
    return list(_dependencies(str(root), paper, tuple(stamp)))


@functools.lru_cache(maxsize=64)
def _dependencies(root_text: str, paper: str, stamp: tuple[tuple[str, int, int], ...]) -> tuple[str, ...]:
    """`dependencies` for one state of the files (`stamp`)."""
    root = Path(root_text)
    todo = sorted((root / "lib" / "papers" / paper).glob("*.py"))
    seen: set[Path] = set()
    while todo:
        path = todo.pop()
        if path in seen or not path.is_file():
            continue
        seen.add(path)
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (OSError, SyntaxError):
            continue
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                parts = name.split(".")
                if parts[0] == "lib" and len(parts) == 2 and (root / "lib" / f"{parts[1]}.py").is_file():
                    todo.append(root / "lib" / f"{parts[1]}.py")
    return tuple(sorted(str(q.relative_to(root)) for q in seen))


def code_changes(root: str, commit: str, paths: tuple[str, ...]) -> tuple[str, ...] | None:
    """The files among `paths` that differ between `commit` and HEAD (`git diff --name-only`);
    None when the commit is not in the repository (nothing can be checked)."""
    try:
        head = subprocess.run(["git", "-C", root, "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return _code_changes(root, commit, head, paths)


@functools.lru_cache(maxsize=None)
def _code_changes(root: str, commit: str, head: str, paths: tuple[str, ...]) -> tuple[str, ...] | None:
    """`code_changes` for a resolved HEAD (cached: one `git diff` per commit and paper)."""
    if not head:
        return None
    try:
        known = subprocess.run(["git", "-C", root, "cat-file", "-e", f"{commit}^{{commit}}"],
                               capture_output=True, timeout=30)
        if known.returncode != 0:
            return None
        out = subprocess.run(["git", "-C", root, "diff", "--name-only", commit, head, "--", *paths],
                             capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    return tuple(out.stdout.split()) if out.returncode == 0 else None


def code_warning(a: Artefact, reports_dir: Path) -> str | None:
    """A warning when the code the artefact's run recorded (`git.commit`) differs from HEAD for the
    files its paper depends on (`dependencies`), naming them; None when they are the same or there is
    no repository to check against."""
    commit = ((a.run or {}).get("git") or {}).get("commit")
    root = _repo_root(str(reports_dir.resolve()))
    if not a.run or root is None:
        return None
    if not commit:
        return "the run recorded no git commit: cannot check its code against HEAD"
    deps = tuple(dependencies(Path(root), a.paper))
    changed = code_changes(root, commit, deps) if deps else ()
    if changed is None:
        return f"the run's commit {commit[:12]} is not in this repository: cannot check its code against HEAD"
    if not changed:
        return None
    return (f"produced by code older than HEAD: {len(changed)} file(s) it depends on changed since the "
            f"run's commit {commit[:12]}: {_brace(changed)}; a re-run may change these numbers")


def _brace(files: tuple[str, ...] | list[str]) -> str:
    """Paths grouped by folder, shell-brace style: `lib/{a,b}.py, lib/papers/p/{c,d}.py`."""
    groups: dict[tuple[str, str], list[str]] = {}
    for f in files:
        folder, name = posixpath.split(f)
        stem, ext = posixpath.splitext(name)
        groups.setdefault((folder, ext), []).append(stem)
    out = []
    for (folder, ext), stems in groups.items():
        inner = stems[0] if len(stems) == 1 else "{" + ",".join(stems) + "}"
        out.append(f"{folder}/{inner}{ext}" if folder else f"{inner}{ext}")
    return ", ".join(out)


def _main_scale(artefacts: list[Artefact]) -> str:
    """The scale most of a paper's artefacts ran at (the summary's scale line)."""
    scales = Counter(scale_of(a.record) for a in artefacts if a.record)
    return scales.most_common(1)[0][0] if scales else DASH


def paper_summary(report: dict[str, Any], artefacts: list[Artefact], page_dir: str, ext: str) -> list[Block]:
    """The per-paper summary: artefacts by outcome, claims by verdict, compute time, scale."""
    rows = []
    footnotes = []
    for paper in _papers(artefacts):
        mine = [a for a in artefacts if a.paper == paper]
        outcomes = Counter(outcome(a) for a in mine if a.record)
        verdicts = Counter(verdict_of(c, a.record) for a in mine for c in _claims(a))
        time, left = compute_time(_notebooks(mine))
        if left:
            time += f" (leaves out {', '.join(left)}: re-run from a cache that did not record compute times)"
        scales = Counter(scale_of(a.record) for a in mine if a.record)
        scale = _main_scale(mine)
        info = (report.get("papers") or {}).get(paper) or {}
        rows.append([[Link(info.get("title") or paper, _href(f"{paper}/index.{ext}", page_dir))],
                     [f"{len(mine)}: " + (", ".join(f"{outcomes[o]} {o}" for o in OUTCOMES if outcomes[o])
                                          or DASH)],
                     [", ".join(f"{n} {v}" for v, n in sorted(verdicts.items())) or DASH],
                     [time], [scale]])
        if len(scales) > 1:
            footnotes.append(f"{paper}: its artefacts ran at {len(scales)} scales (the summary gives the most "
                             "common one); each claim row names its own.")
    blocks: list[Block] = [Table(["Paper", "Artefacts", "Claims", "Compute time (empty cache)", "Scale"], rows)]
    if footnotes:
        blocks.append(Paragraph([" ".join(footnotes)]))
    return blocks


def summary_blocks(report: dict[str, Any], artefacts: list[Artefact]) -> list[Block]:
    """The run summary: profiles, commits, generation date, notebook and claim counts, banners."""
    entries = {id(a.entry): a.entry for a in artefacts}.values()  # each notebook once
    runs = [a.run for a in artefacts if a.run]
    statuses = Counter(e.get("status", MISSING) for e in entries)
    commits = sorted({_git_text(r.get("git")) for r in runs})
    verdicts = Counter(verdict_of(c, a.record) for a in artefacts for c in _claims(a))
    blocks: list[Block] = [BulletList([
        [f"Generated: {report.get('generated') or MISSING}"],
        ["Profiles: " + (", ".join(sorted({r.get("profile") or MISSING for r in runs})) or "none")],
        ["Code (git commit): " + (", ".join(commits) or "none")],
        ["Notebooks: " + (", ".join(f"{n} {s}" for s, n in sorted(statuses.items())) or "none")],
        [f"Notebook time, summed over the runs shown: {_total_minutes(entries)}"],
        ["Claims: " + (", ".join(f"{n} {v}" for v, n in sorted(verdicts.items())) or "none")],
    ])]
    synthetic = [a for a in artefacts if _banner(a)]
    if synthetic:
        names = ", ".join(f"{a.paper}/{a.artefact}" for a in synthetic)
        blocks.append(WarningBox([f"Synthetic stand-in data replaced real data in: {names}. "
                                  "Their numbers do not test the papers' claims."]))
    return blocks


def _total_minutes(entries: Any) -> str:
    """Sum of the shown runs' durations, e.g. '21.7 min' (each notebook's last run, cache hits included)."""
    seconds = [e.get("duration_s") for e in entries if e.get("duration_s") is not None]
    return f"{sum(seconds) / 60:.1f} min" if seconds else MISSING


def _banner(artefact: Artefact) -> str | None:
    """The record's synthetic-data banner, if any."""
    return ((artefact.record or {}).get("data") or {}).get("banner")


def claims_table(artefacts: list[Artefact], page_dir: str, ext: str) -> Table:
    """One table of every claim: paper, artefact, claim, verdict, evidence.

    Args:
        artefacts: The artefacts to cover.
        page_dir: The page's folder relative to reports/ ("." or a paper id).
        ext: Page extension for links to paper pages ("md" or "html").

    Returns:
        The table; an artefact without a record gets one row saying so.
    """
    rows = []
    main_scale = {paper: _main_scale([a for a in artefacts if a.paper == paper]) for paper in _papers(artefacts)}
    for a in artefacts:
        target = Link(a.artefact, _href(f"{a.paper}/index.{ext}", page_dir) + f"#{a.anchor}")
        claims = _claims(a) or [{"text": f"(no record: notebook {a.entry.get('status', MISSING)})",
                                 "verdict": MISSING, "evidence": ""}]
        scale = scale_of(a.record)
        if scale == main_scale.get(a.paper):
            scale = "as in the summary above"
        for claim in claims:
            verdict = verdict_of(claim, a.record)
            rows.append([[a.paper], [target], [claim.get("text") or MISSING],
                         [Badge(verdict, verdict)], [claim.get("evidence") or ""], [scale]])
            for part in claim.get("parts") or []:
                pv = str(part.get("verdict") or MISSING)
                rows.append([[""], [""], [f"↳ part: {part.get('part') or MISSING}"], [Badge(pv, pv)],
                             [part.get("evidence") or ""], [""]])
    return Table(["Paper", "Artefact", "Claim", "Verdict", "Evidence", "Scale of the run"], rows)


def artefact_blocks(a: Artefact, reports_dir: Path, page_dir: str, level: int) -> list[Block]:
    """One artefact's section: title, caption, status, banner, thumbnail, files, tables, details.

    Args:
        a: The artefact.
        reports_dir: The reports folder (to read embedded tables).
        page_dir: The page's folder relative to reports/ ("." or a paper id).
        level: Heading level of the section.

    Returns:
        The section's blocks.
    """
    record = a.record or {}
    title = record.get("title") or (MISSING if a.run else "no results yet")
    blocks: list[Block] = [Heading(level, [f"{a.artefact}: {title}"], a.anchor)]
    if record.get("caption"):
        blocks.append(Paragraph([record["caption"]]))
    blocks.append(Paragraph(_status(a, page_dir)))
    if _banner(a):
        blocks.append(WarningBox([f"Synthetic data: {_banner(a)}"]))
    warning = code_warning(a, reports_dir)
    if warning:
        blocks.append(WarningBox([f"Code changed: {warning}."]))
    if a.run and not a.record:
        blocks.append(Paragraph([Error(f"artefact record {a.paper}/{a.artefact}.json is missing")]))
    if not a.record:
        return blocks
    files = [f for f in record.get("files") or [] if isinstance(f, dict) and f.get("path")]
    figures = [f["path"] for f in files if f["path"].endswith(".png") and str(f.get("kind", "")).startswith("figure")]
    for png in figures:   # every figure of the artefact (Figs. 4.1-4.2 are two)
        alt = f"{a.artefact}: {posixpath.splitext(png)[0]} (click for the full-size image)"
        blocks.append(figure_thumbnail(reports_dir, f"{a.paper}/{png}", page_dir, alt))
    if files:
        blocks.append(Paragraph(_file_links(a.paper, files, page_dir)))
    for table in record.get("tables") or []:
        if table.get("paper_vs_ours"):
            blocks += _paper_vs_ours(a.paper, table, reports_dir, level + 1)
    blocks.append(Paragraph([f"Scale: {scale_of(record)}"]))
    if record.get("notes"):
        blocks += [Paragraph(["Notes:"]), BulletList([[str(n)] for n in record["notes"]])]
    return blocks


def _status(a: Artefact, page_dir: str) -> list[Inline]:
    """The status line: badge, error and log link, and which run is shown."""
    status = a.entry.get("status") or MISSING
    line: list[Inline] = ["Status: ", Badge(status, status)]
    if a.entry.get("error"):
        line += [" ", Error(str(a.entry["error"]))]
    if a.entry.get("log") and status == "failed":
        line += [" (", Link("log", _href(a.entry["log"], page_dir)), ")"]
    if status != "ok" and a.run:
        line += [f" — showing last good run of {a.run.get('started') or MISSING}"]
    return line


def _file_links(paper: str, files: list[dict[str, Any]], page_dir: str) -> list[Inline]:
    """Links to the artefact's files: figure formats, figure data, tables, other data."""
    groups: dict[str, list[Link]] = {}
    for f in files:
        path, kind = f["path"], str(f.get("kind", ""))
        ext = posixpath.splitext(path)[1].lower()
        if kind.startswith("figure") and ext in FIGURE_EXTENSIONS:
            group, label = "Figure", ext[1:].upper()
        elif kind == "figure-data":
            group, label = "Figure data", path
        elif kind in ("table", "table-md", "paper-table"):
            group, label = "Tables", f"{path} ({'Markdown' if ext == '.md' else ext[1:].upper()})"
        else:
            group, label = "Data", path
        groups.setdefault(group, []).append(Link(label, _href(f"{paper}/{path}", page_dir)))
    line: list[Inline] = []
    for group, links in groups.items():
        line += [" · " if line else "", f"{group}: "]
        for i, link in enumerate(links):
            line += [", " if i else "", link]
    return line


def _paper_vs_ours(paper: str, table: dict[str, Any], reports_dir: Path, level: int) -> list[Block]:
    """A paper-vs-ours table: its heading and its Markdown file's content (or "missing")."""
    heading = Heading(level, [f"Paper vs ours: {table.get('name') or MISSING}"])
    try:
        text = (reports_dir / paper / str(table.get("md"))).read_text(encoding="utf-8")
    except OSError:
        return [heading, Paragraph([Error(f"table file {table.get('md')} is {MISSING}")])]
    return [heading, MarkdownTable(text)]


def provenance(artefacts: list[Artefact], page_dir: str) -> Details:
    """One notebook's provenance (its artefacts share the run): a collapsed table in HTML, one compact
    line in Markdown."""
    a = next((x for x in artefacts if x.record), artefacts[0])
    table = details_table(a, page_dir)
    run, record = a.run or {}, a.record or {}
    html_page = run.get("html")
    duration = run.get("duration_s")
    line: list[Inline] = ["Provenance: "]
    line += ([Link(posixpath.basename(html_page), _href(html_page, page_dir))] if html_page else [MISSING])
    data = record.get("data") or {}
    line += [f" · {record.get('profile') or run.get('profile') or MISSING} profile"
             f" · {data.get('source', MISSING)} data {relative_text(str(data.get('spec', MISSING)), _root())}"
             f" · seeds {', '.join(map(str, record.get('seeds') or [])) or MISSING}"
             f" · git {_git_text(run.get('git'))}"
             f" · {record.get('device') or run.get('device') or MISSING}"
             f" · {f'{duration} s' if duration is not None else MISSING}"
             f" · started {run.get('started') or MISSING}"
             f" · {', '.join(f'{k} {v}' for k, v in (run.get('packages') or {}).items()) or MISSING}"
             " · parameters ", Code(json.dumps(record.get("parameters", run.get("parameters")), sort_keys=True))]
    name = a.entry.get("notebook") or MISSING
    return Details(f"Provenance of notebook {name} (data, parameters, seeds, git, packages, device, time)",
                   table, line)


@functools.lru_cache(maxsize=None)
def _root() -> str:
    """The repository the index is built in (absolute paths in old records read relative to it)."""
    return str(Path(__file__).resolve().parent.parent)


def details_table(a: Artefact, page_dir: str) -> Table:
    """Provenance of the run shown: notebook, profile, data, parameters, seeds, git, ..."""
    record, run = a.record or {}, a.run or {}
    data = record.get("data") or {}
    html_page = run.get("html")
    packages = run.get("packages") or {}
    duration = run.get("duration_s")
    rows: list[tuple[str, list[Inline]]] = [
        ("Executed notebook", [Link(posixpath.basename(html_page), _href(html_page, page_dir))]
         if html_page else [MISSING]),
        ("Profile", [record.get("profile") or run.get("profile") or MISSING]),
        ("Data", [relative_text(f"{data.get('source', MISSING)}: {data.get('spec', MISSING)}"
                                + (f" — {data['description']}" if data.get("description") else ""), _root())]),
        ("Parameters", [Code(json.dumps(record.get("parameters", run.get("parameters")),
                                        sort_keys=True))]),
        ("Seeds", [", ".join(map(str, record["seeds"])) if record.get("seeds") else MISSING]),
        ("Git commit", [_git_text(run.get("git"))]),
        ("Packages", [", ".join(f"{k} {v}" for k, v in packages.items()) or MISSING]),
        ("Device", [record.get("device") or run.get("device") or MISSING]),
        ("Duration", [(f"{duration} s" if duration is not None else MISSING)]),
        ("Started", [run.get("started") or MISSING]),
    ]
    return Table(["Provenance", ""], [[[name], value] for name, value in rows])


def overview_blocks(written: overview.Written | None, reports_dir: Path) -> list[Block]:
    """The index's paper-vs-ours section: the overview figure (linking to the full-size PNG), its PDF
    and CSV, and its caption (what is plotted, how many points per paper)."""
    if written is None:
        return []
    blocks: list[Block] = [Heading(2, ["Paper vs ours: every number we reproduce"], "overview")]
    if written.png is None:
        return blocks + [Paragraph(["No table in the reports sets a paper's numbers beside ours yet ",
                                    "(", Link("overview.csv", _href(written.csv, ".")), " is empty)."])]
    blocks += [figure_thumbnail(reports_dir, written.png, ".", "paper's value (x) vs ours (y), one panel per "
                                "paper and unit (click for the full-size image)"),
               Paragraph(["Figure: ", Link("PNG", _href(written.png, ".")), ", ",
                          Link("PDF", _href(str(written.pdf), ".")), " · data: ",
                          Link(written.csv, _href(written.csv, ".")), " (paper, artefact, table, row, column, "
                          "paper's value, our value, unit, our sd, quantity)"]),
               Paragraph([overview.caption(written.overview)]),
               Table(["Paper", "Points", "Per unit", "Paired cells left out"],
                     [[[paper], [str(n)], [units], [left]] for paper, n, units, left in overview.counts(written.overview)])]
    return blocks


def index_page(report: dict[str, Any], artefacts: list[Artefact], reports_dir: Path,
               ext: str, written: overview.Written | None = None) -> list[Block]:
    """`reports/index.*`: per-paper summary, the paper-vs-ours overview, the verdict rule, all claims,
    then per paper one table of its artefacts (`artefact_index`), each linking its section on the
    paper's page, where the figures, tables, notes and provenance are."""
    blocks: list[Block] = [Heading(1, ["Reproduction reports"]), Heading(2, ["Per paper"]),
                           *paper_summary(report, artefacts, ".", ext),
                           *overview_blocks(written, reports_dir),
                           Heading(3, ["Verdict rule (every claim of every paper)"], "verdict-rule"),
                           Paragraph([VERDICT_RULE]),
                           Paragraph(["Artefacts: reproduced = every claim holds; partly = some hold; "
                                      "not reproduced = none holds and some fail; not run = could not "
                                      "run here. Compute time: the notebooks' summed durations at the "
                                      "paper's main run, from an empty cache."]),
                           Heading(2, ["This run"]), *summary_blocks(report, artefacts)]
    if (reports_dir / "zoo" / f"index.{ext}").exists():
        blocks.append(Paragraph(["Reference classifiers the quick profile loads: ",
                                 Link("the model zoo (cards, accuracies, training curves)", _href(f"zoo/index.{ext}", "."))]))
    blocks += [Heading(2, ["Claims"]), claims_table(artefacts, ".", ext)]
    for paper in _papers(artefacts):
        info = (report.get("papers") or {}).get(paper) or {}
        blocks.append(Heading(2, [Link(f"{paper}: {info.get('title') or paper}",
                                       _href(f"{paper}/index.{ext}", "."))], paper))
        if info.get("citation"):
            blocks.append(Paragraph([info["citation"]]))
        blocks += [Paragraph(["Each artefact's figures, paper-vs-ours tables, notes and provenance: ",
                              Link("the paper's page", _href(f"{paper}/index.{ext}", ".")), "."]),
                   artefact_index([a for a in artefacts if a.paper == paper], reports_dir, ext)]
    return blocks


def artefact_index(artefacts: list[Artefact], reports_dir: Path, ext: str, page_dir: str = ".") -> Table:
    """One row per artefact of a paper, linking its section on the paper's page (on the index, where
    the sections are not repeated, and atop the paper's page): title, outcome, run status, figures,
    code warning. `page_dir`: the page's folder relative to reports/ ("." or a paper id)."""
    rows = []
    for a in artefacts:
        record = a.record or {}
        page = _href(f"{a.paper}/index.{ext}", page_dir) if page_dir != a.paper else ""
        status = a.entry.get("status") or MISSING
        run: list[Inline] = [Badge(status, status)]
        if a.entry.get("error"):
            run += [" ", Error(str(a.entry["error"]))]
        if a.entry.get("log") and status == "failed":
            run += [" (", Link("log", _href(a.entry["log"], page_dir)), ")"]
        if status != "ok" and a.run:
            run += [f" — showing last good run of {a.run.get('started') or MISSING}"]
        figures: list[Inline] = []
        for f in record.get("files") or []:
            if isinstance(f, dict) and str(f.get("path", "")).endswith(".png") and str(f.get("kind", "")).startswith("figure"):
                figures += [", " if figures else "", Link(f["path"], _href(f"{a.paper}/{f['path']}", page_dir))]
        warning = code_warning(a, reports_dir)
        changed = re.search(r"(\d+) file\(s\) it depends on changed since the run's commit (\w+)", warning or "")
        code: list[Inline] = ([DASH] if not warning else [f"⚠ {changed[1]} file(s) it depends on changed since "
                                                           f"{changed[2]}"] if changed else [f"⚠ {warning}"])
        kind = outcome(a) if a.record else MISSING
        rows.append([[Link(a.artefact, f"{page}#{a.anchor}")],
                     [record.get("title") or (MISSING if a.run else "no results yet")],
                     [Badge(kind, kind)], run, figures or [DASH], code])
    return Table(["Artefact", "Title", "Outcome", "Run", "Figures", "Code since the run"], rows)


def _notebook_sections(artefacts: list[Artefact], reports_dir: Path, page_dir: str, level: int) -> list[Block]:
    """The artefacts grouped by notebook: each notebook's provenance once, then its artefacts."""
    blocks: list[Block] = []
    groups: dict[int, list[Artefact]] = {}
    for a in artefacts:
        groups.setdefault(id(a.entry), []).append(a)
    for group in groups.values():
        for a in group:
            blocks += artefact_blocks(a, reports_dir, page_dir, level)
        if any(a.run for a in group):
            blocks.append(provenance(group, page_dir))
    return blocks


def paper_page(report: dict[str, Any], paper: str, artefacts: list[Artefact], reports_dir: Path,
               ext: str, written: overview.Written | None = None) -> list[Block]:
    """`reports/<paper>/index.*`: the paper's summary, claims and artefacts."""
    info = (report.get("papers") or {}).get(paper) or {}
    mine = [a for a in artefacts if a.paper == paper]
    blocks: list[Block] = [Heading(1, [f"{paper}: {info.get('title') or paper}"])]
    if info.get("citation"):
        blocks.append(Paragraph([info["citation"]]))
    blocks += [Paragraph([Link("← all papers", _href(f"index.{ext}", paper))]),
               *paper_summary(report, mine, paper, ext),
               Paragraph(["Verdicts follow ", Link("the suite's one verdict rule", _href(f"index.{ext}", paper)
                                                        + "#verdict-rule"), "."]),
               *_overview_link(written, paper, ext),
               *summary_blocks(report, mine), Heading(2, ["Artefacts"]),
               artefact_index(mine, reports_dir, ext, paper), Heading(2, ["Claims"]),
               claims_table(mine, paper, ext)]
    blocks += _notebook_sections(mine, reports_dir, paper, 2)
    return blocks


def _overview_link(written: overview.Written | None, paper: str, ext: str) -> list[Block]:
    """On a paper page: how many of its numbers the index's overview figure shows, with a link."""
    if written is None or written.png is None:
        return []
    n = sum(p.paper == paper for p in written.overview.pairs)
    if not n:
        return []
    return [Paragraph([f"{n} numbers this paper prints beside ours: ",
                       Link("paper-vs-ours overview", _href(f"index.{ext}", paper) + "#overview"), "."])]


def _papers(artefacts: list[Artefact]) -> list[str]:
    """Paper ids in order of first appearance."""
    return list(dict.fromkeys(a.paper for a in artefacts))


# --------------------------------------------------------------------------------------------
# Markdown


def _md_text(text: str) -> str:
    """Escape text for GitHub Markdown (tables included): `|`, `<`, line breaks."""
    return re.sub(r"\s*\n\s*", " ", str(text)).replace("|", "\\|").replace("<", "&lt;")


def _md_inline(items: list[Inline]) -> str:
    """Render inline content as Markdown."""
    out = []
    for item in items:
        if isinstance(item, Link):
            out.append(f"[{_md_text(item.text)}]({item.href})")
        elif isinstance(item, Badge):
            out.append(f"{BADGE_MARKS.get(item.kind, '')} **{_md_text(item.text)}**".strip())
        elif isinstance(item, Code):
            out.append(f"`{_md_text(item.text).replace('`', chr(39))}`")
        elif isinstance(item, Error):
            out.append(f"**{_md_text(item.text)}**")
        else:
            out.append(_md_text(item))
    return "".join(out)


def to_markdown(blocks: list[Block]) -> str:
    """Render blocks as GitHub Markdown.

    Args:
        blocks: Page content.

    Returns:
        The Markdown text.
    """
    parts = []
    for block in blocks:
        if isinstance(block, Heading):
            anchor = f'<a id="{html.escape(block.anchor)}"></a>' if block.anchor else ""
            parts.append(f"{'#' * block.level} {anchor}{_md_inline(block.content)}")
        elif isinstance(block, Paragraph):
            parts.append(_md_inline(block.content))
        elif isinstance(block, WarningBox):
            parts.append(f"> [!WARNING]\n> {_md_inline(block.content)}")
        elif isinstance(block, Thumbnail):
            parts.append(f'<a href="{html.escape(block.src)}"><img src="{html.escape(block.src)}" '
                         f'width="{block.shown_width}" alt="{html.escape(block.alt)}"></a>')
        elif isinstance(block, Table):
            lines = ["| " + " | ".join(_md_text(h) for h in block.header) + " |",
                     "|" + "---|" * len(block.header)]
            lines += ["| " + " | ".join(_md_inline(c) for c in row) + " |" for row in block.rows]
            parts.append("\n".join(lines))
        elif isinstance(block, BulletList):
            parts.append("\n".join(f"- {_md_inline(item)}" for item in block.items))
        elif isinstance(block, MarkdownTable):
            parts.append(_dash_nan_markdown(block.text.strip()))
        elif isinstance(block, Details):
            parts.append(_md_inline(block.line))
    return "\n\n".join(parts) + "\n"


def _dash_nan_markdown(text: str) -> str:
    """A Markdown table's missing cells (`nan`, `None`, ...) as dashes."""
    out = []
    for line in text.splitlines():
        if line.strip().startswith("|"):
            cells = re.split(r"(?<!\\)\|", line)
            line = "|".join(f" {DASH} " if c.strip() in NAN_CELLS else c for c in cells)
        out.append(line)
    return "\n".join(out)


# --------------------------------------------------------------------------------------------
# HTML


def _html_inline(items: list[Inline]) -> str:
    """Render inline content as escaped HTML."""
    out = []
    for item in items:
        if isinstance(item, Link):
            out.append(f'<a href="{html.escape(item.href)}">{html.escape(item.text)}</a>')
        elif isinstance(item, Badge):
            kind, text = html.escape(item.kind.replace(" ", "-")), html.escape(item.text)
            out.append(f'<span class="badge {kind}">{text}</span>')
        elif isinstance(item, Code):
            out.append(f"<code>{html.escape(item.text)}</code>")
        elif isinstance(item, Error):
            out.append(f'<span class="error">{html.escape(item.text)}</span>')
        else:
            out.append(html.escape(str(item)))
    return "".join(out)


def _split_row(line: str) -> list[str]:
    """The cells of a Markdown pipe-table row, with `\\|` unescaped."""
    cells = re.split(r"(?<!\\)\|", line.strip().strip("|"))
    return [cell.strip().replace("\\|", "|") for cell in cells]


def markdown_table_to_html(text: str) -> str:
    """Convert a Markdown file of pipe tables and plain lines (e.g. a caption) to HTML.

    Args:
        text: The Markdown text.

    Returns:
        HTML: each pipe table as a `<table>` (first row as header), other lines as paragraphs.
    """
    out: list[str] = []
    rows: list[list[str]] = []
    for line in [*text.splitlines(), ""]:
        if line.strip().startswith("|"):
            cells = [DASH if c in NAN_CELLS else c for c in _split_row(line)]
            if not all(re.fullmatch(r":?-+:?", c) for c in cells):
                rows.append(cells)
            continue
        if rows:
            head = "".join(f"<th>{html.escape(c)}</th>" for c in rows[0])
            body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>"
                           for r in rows[1:])
            out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
            rows = []
        if line.strip():
            out.append(f"<p>{html.escape(line.strip())}</p>")
    return "\n".join(out)


def to_html(blocks: list[Block], title: str) -> str:
    """Render blocks as a self-contained HTML page.

    Args:
        blocks: Page content.
        title: The page title.

    Returns:
        The HTML document.
    """
    body = to_html_fragment(blocks)
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{html.escape(title)}</title>\n<style>{CSS}</style>\n</head>\n"
            f"<body>\n{body}\n</body>\n</html>\n")


def to_html_fragment(blocks: list[Block]) -> str:
    """Render blocks as HTML elements (no document around them)."""
    parts = []
    for block in blocks:
        if isinstance(block, Heading):
            anchor = f' id="{html.escape(block.anchor)}"' if block.anchor else ""
            parts.append(f"<h{block.level}{anchor}>{_html_inline(block.content)}</h{block.level}>")
        elif isinstance(block, Paragraph):
            parts.append(f"<p>{_html_inline(block.content)}</p>")
        elif isinstance(block, WarningBox):
            parts.append(f'<div class="warning">⚠ {_html_inline(block.content)}</div>')
        elif isinstance(block, Thumbnail):
            src = html.escape(block.src)
            parts.append(f'<p><a href="{src}" title="full-size image"><img src="{src}" '
                         f'width="{block.shown_width}" alt="{html.escape(block.alt)}"></a></p>')
        elif isinstance(block, Table):
            head = "".join(f"<th>{html.escape(h)}</th>" for h in block.header)
            body = "".join("<tr>" + "".join(f"<td>{_html_inline(c)}</td>" for c in row) + "</tr>"
                           for row in block.rows)
            parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        elif isinstance(block, BulletList):
            parts.append("<ul>" + "".join(f"<li>{_html_inline(i)}</li>" for i in block.items)
                         + "</ul>")
        elif isinstance(block, MarkdownTable):
            parts.append(markdown_table_to_html(block.text))
        elif isinstance(block, Details):
            parts.append(f"<details><summary>{html.escape(block.summary)}</summary>"
                         f"{to_html_fragment([block.body])}</details>")
    return "\n".join(parts)


# --------------------------------------------------------------------------------------------
# Entry point


def _write(path: Path, text: str) -> None:
    """Write a page atomically (temporary file in the same folder, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:   # a failed write (disk full) leaves nothing behind
        tmp.unlink(missing_ok=True)


def build(reports_dir: Path) -> None:
    """Write `index.md` and `index.html` in `reports_dir` and in each paper's folder, and the
    paper-vs-ours overview (`overview.csv|png|pdf`, `lib.overview`) in `reports_dir`.

    Args:
        reports_dir: The reports folder holding `manifest.json` (a missing manifest gives empty
            pages) and `<paper>/<artefact>.json` records.
    """
    report = overview.read_json(reports_dir / "manifest.json") or {}
    artefacts = collect(reports_dir, report)
    written = overview.write(reports_dir, [a.record for a in artefacts if a.record]) if reports_dir.is_dir() else None
    for ext in ("md", "html"):
        blocks = index_page(report, artefacts, reports_dir, ext, written)
        _write(reports_dir / f"index.{ext}", to_markdown(blocks) if ext == "md"
               else to_html(blocks, "Reproduction reports"))
        for paper in _papers(artefacts):
            blocks = paper_page(report, paper, artefacts, reports_dir, ext, written)
            _write(reports_dir / paper / f"index.{ext}", to_markdown(blocks) if ext == "md"
                   else to_html(blocks, f"{paper}: reproduction report"))
