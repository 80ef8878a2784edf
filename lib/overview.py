"""The paper-vs-ours overview: every number a paper prints that we reproduce, in one figure and one CSV.

`lib.index.build` calls `write(reports_dir)`, which reads the artefact records
`reports/<paper>/<artefact>.json` and, for each of their tables (`tables[i].csv`), the pairs of
columns that put the paper's value beside ours:

- `X (paper)` / `X (ours)`: what `lib.report.paper_vs_ours` writes for a table saved with
  `Record.table(..., paper=...)` (`paper_vs_ours: true` in the record);
- `X (thesis)` / `X (ours, ...)` and `X` / `X (ours, ...)`: the same layout written by hand (RePr's
  Tables 5.1-5.5).

It writes `reports/overview.csv` (one row per pair: paper, artefact, table, row, column, paper_value,
our_value, unit, our_sd, quantity: "accuracy", "error" or empty) and `reports/overview.png|.pdf`: paper's value on x, ours on y, with the
identity line y = x; one panel per (paper, unit), so that accuracies in % never share an axis with
rates in [0, 1], perturbation norms or parameter counts.

A pair enters only when both cells hold a number (`not run`, `-`, `—`, `nan` are missing) and both
have the same unit. The unit of a cell is, in order: a percentage printed in the cell (`18/24 (75%)`,
`12.5%`); else the first of the column header, the table's caption, the record's caption and the
record's title that names one (`UNIT_RULES`); a table entry of the record may state it outright
(`"unit": "%"` for every column, `"units": {"<column>": "<unit>"}` per column), which comes before the
texts. A column whose unit nothing states is left out and counted (`Overview.left_out`).
"""
from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

CSV_NAME, PNG_NAME, PDF_NAME = "overview.csv", "overview.png", "overview.pdf"
COLUMNS = ["paper", "artefact", "table", "row", "column", "paper_value", "our_value", "unit", "our_sd",
           "quantity"]
PERCENT = "%"
FRACTION = "fraction (0–1)"
ACCURACY = "accuracy or error"   # a UNIT_RULES result resolved by the values (`_resolve`)
# (pattern, unit), tried in order on the header, then the table caption, record caption, record title
UNIT_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\|L2\|", re.I), "perturbation |L2| (normalised)"),
    (re.compile(r"params?_k\b|parameters \(k\)|thousand parameters", re.I), "parameters (thousands)"),
    (re.compile(r"inf(erence)?_?\s?time", re.I), "inference time (relative)"),
    (re.compile(r"destruction rate|\bfraction\b", re.I), FRACTION),
    (re.compile(r"\(%\)|\bin %|\bpercent(age)?\b", re.I), PERCENT),
    # accuracy or error without a unit: % when a value of the column exceeds 1, else a fraction
    (re.compile(r"\baccuracy\b|\bacc\b|\btest error\b|\berror\b(?! bars?)", re.I), ACCURACY),
)
_ERROR = re.compile(r"\berror\b(?! bars?)", re.I)
_ACCURACY = re.compile(r"\baccuracy\b|\bacc\b", re.I)
MISSING_CELLS = {"", "-", "—", "–", "nan", "NaN", "None", "<NA>", "n/a"}
_NUMBER = r"[-+−]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?"
_PLAIN = re.compile(rf"^({_NUMBER})$")
_PERCENT_CELL = re.compile(rf"^({_NUMBER})\s*%$")
_MEAN_SD = re.compile(rf"^({_NUMBER})\s*±\s*({_NUMBER})$")
# "18/24 (75%)" or "4.3/6 ±1.5 (72%)": a count of a total (± sd of the count), and its percentage
_COUNT_PERCENT = re.compile(rf"^({_NUMBER})\s*/\s*({_NUMBER})(?:\s*±\s*({_NUMBER}))?\s*\(({_NUMBER})\s*%\)$")
_PAPER_COL = re.compile(r"^(.*\S)\s+\((?:paper|thesis)\b[^)]*\)$", re.I)
_OURS_COL = re.compile(r"^(.*\S)\s+\(ours\b[^)]*\)$", re.I)


@dataclass(frozen=True)
class Cell:
    """A parsed table cell.

    Attributes:
        value: The number shown (a mean when the cell is `mean ± sd`).
        sd: The cell's ± term in the unit of `value`, or None.
        unit: The unit the cell itself states (`%`), or None (the column's unit applies).
    """

    value: float
    sd: float | None = None
    unit: str | None = None


@dataclass(frozen=True)
class Pair:
    """One number the paper prints beside ours (one row of overview.csv)."""

    paper: str
    artefact: str
    table: str
    row: str
    column: str
    paper_value: float
    our_value: float
    unit: str
    our_sd: float | None = None
    quantity: str = ""


@dataclass
class Overview:
    """What `collect` found.

    Attributes:
        pairs: Every pair, in record order.
        left_out: Per paper, Counter of why cells of paired columns were left out ("one side not a
            number", e.g. not run; "unit not stated"; "units differ").
    """

    pairs: list[Pair] = field(default_factory=list)
    left_out: dict[str, Counter] = field(default_factory=dict)

    def panels(self) -> dict[tuple[str, str], list[Pair]]:
        """The pairs per (paper, unit): % panels first, then the others, papers in order."""
        groups: dict[tuple[str, str], list[Pair]] = {}
        for p in self.pairs:
            groups.setdefault((p.paper, p.unit), []).append(p)
        papers = list(dict.fromkeys(p.paper for p in self.pairs))
        return dict(sorted(groups.items(), key=lambda kv: (kv[0][1] != PERCENT, papers.index(kv[0][0]),
                                                           kv[0][1])))


def parse_cell(text: str) -> Cell | None:
    """A table cell as a number: `12.5`, `12.5%`, `46.4 ± 0.5`, `18/24 (75%)`, `4.3/6 ±1.5 (72%)`.

    Args:
        text: The cell as written in the CSV.

    Returns:
        The cell, or None when it holds no number (`not run`, a dash, `nan`, free text).
    """
    s = str(text).strip().replace("−", "-")
    if s in MISSING_CELLS:
        return None
    if m := _PLAIN.match(s):
        value = float(m.group(1))
        return Cell(value) if math.isfinite(value) else None
    if m := _PERCENT_CELL.match(s):
        return Cell(float(m.group(1)), unit=PERCENT)
    if m := _MEAN_SD.match(s):
        return Cell(float(m.group(1)), sd=float(m.group(2)))
    if m := _COUNT_PERCENT.match(s):
        total, sd = float(m.group(2)), m.group(3)
        return Cell(float(m.group(4)), sd=100 * float(sd) / total if sd and total > 0 else None, unit=PERCENT)
    return None


def column_pairs(columns: list[str]) -> list[tuple[str, str, str]]:
    """The (label, paper column, our column) pairs among a table's columns.

    `X (ours...)` pairs with `X (paper...)` or `X (thesis...)`, else with a column named `X`.

    Args:
        columns: The CSV header.

    Returns:
        The pairs in the order of our columns.
    """
    paper_cols = {}
    for c in columns:
        if m := _PAPER_COL.match(c):
            paper_cols.setdefault(m.group(1), c)
    out = []
    for c in columns:
        m = _OURS_COL.match(c)
        if not m:
            continue
        base = m.group(1)
        partner = paper_cols.get(base) or (base if base in columns else None)
        if partner:
            out.append((base, partner, c))
    return out


def unit_of(texts: list[str]) -> str | None:
    """The first unit `UNIT_RULES` finds, trying `texts` in order (header, captions, title)."""
    for text in texts:
        for pattern, unit in UNIT_RULES:
            if text and pattern.search(text):
                return unit
    return None


def quantity_of(texts: list[str]) -> str:
    """"error" or "accuracy": the first of `texts` (header, captions, title) that names one, else ""."""
    for text in texts:
        if _ERROR.search(text):
            return "error"
        if _ACCURACY.search(text):
            return "accuracy"
    return ""


def _resolve(values: list[float]) -> str | None:
    """The unit of an accuracy or error column from its values: a fraction when all lie in [0, 1], % when
    all lie in [0, 100] and one exceeds 1, else None (not stated)."""
    if not values or min(values) < 0:
        return None
    top = max(values)
    return FRACTION if top <= 1 else PERCENT if top <= 100 else None


def read_json(path: Path) -> dict[str, Any] | None:
    """A JSON object from `path`, or None when it is missing, unreadable or not an object (`lib.index` uses it too)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def table_pairs(paper: str, artefact: str, table: dict[str, Any], record: dict[str, Any], text: str,
                left_out: Counter) -> list[Pair]:
    """The pairs of one table.

    Args:
        paper, artefact: Where the table comes from.
        table: The table's entry in the record (`name`, `csv`, `caption`).
        record: The artefact record (its caption and title state units the table does not).
        text: The table's CSV text (first row: header; the leading columns before the first paired
            column label the rows).
        left_out: Counts the paired cells left out, by reason (updated in place).

    Returns:
        The table's pairs, row by row.
    """
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        return []
    header, body = rows[0], rows[1:]
    pairs_cols = column_pairs(header)
    if not pairs_cols:
        return []
    first = min(header.index(p) for _, p, _ in pairs_cols)
    label_cols = list(range(first))
    out = []
    for base, paper_col, our_col in pairs_cols:
        i, j = header.index(paper_col), header.index(our_col)
        texts = [base, str(table.get("caption") or ""), str(record.get("caption") or ""),
                 str(record.get("title") or "")]
        stated = (table.get("units") or {}).get(base) if isinstance(table.get("units"), dict) else None
        column_unit = str(stated or table.get("unit") or "") or unit_of(texts)
        parsed = [(cells, parse_cell(cells[i]), parse_cell(cells[j])) for cells in body if len(cells) > max(i, j)]
        if column_unit == ACCURACY:
            column_unit = _resolve([c.value for _, *both in parsed for c in both if c is not None and c.unit is None])
        for n, (cells, theirs, ours) in enumerate(parsed):
            if theirs is None or ours is None:
                left_out["one side not a number"] += 1
                continue
            units = {theirs.unit or column_unit, ours.unit or column_unit}
            if None in units:
                left_out["unit not stated"] += 1
                continue
            if len(units) > 1:
                left_out["units differ"] += 1
                continue
            row = " ".join(cells[k].strip() for k in label_cols if cells[k].strip()) or f"row {n + 1}"
            unit = units.pop()
            out.append(Pair(paper, artefact, str(table.get("name") or ""), row, base, theirs.value,
                            ours.value, unit, ours.sd, quantity_of(texts) if unit in (PERCENT, FRACTION) else ""))
    return out


def collect(reports_dir: Path, records: list[dict[str, Any]] | None = None) -> Overview:
    """Every pair of every table of the artefact records.

    Args:
        reports_dir: The reports folder (a record's table files are in `<paper>/`).
        records: The parsed records to read (the index passes the ones it shows); None: every
            `<paper>/*.json` under `reports_dir` that has a `tables` list.

    Returns:
        The pairs and what was left out; tables whose CSV cannot be read are skipped.
    """
    if records is None:
        records = [r for r in (read_json(p) for p in sorted(reports_dir.glob("*/*.json"))) if r]
    found = Overview()
    for record in records:
        if not isinstance(record.get("tables"), list) or not record.get("paper"):
            continue
        paper, artefact = str(record["paper"]), str(record.get("artefact") or "")
        left = found.left_out.setdefault(paper, Counter())
        for table in record["tables"]:
            if not isinstance(table, dict) or not table.get("csv"):
                continue
            try:
                text = (reports_dir / paper / str(table["csv"])).read_text(encoding="utf-8")
            except OSError:
                continue
            found.pairs += table_pairs(paper, artefact, table, record, text, left)
    found.left_out = {k: v for k, v in found.left_out.items() if v}
    return found


def to_csv(pairs: list[Pair]) -> str:
    """overview.csv: one row per pair (`COLUMNS`); an empty `our_sd` when our table gives none."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    for p in pairs:
        w.writerow([p.paper, p.artefact, p.table, p.row, p.column, f"{p.paper_value:g}", f"{p.our_value:g}",
                    p.unit, "" if p.our_sd is None else f"{p.our_sd:.4g}", p.quantity])
    return buf.getvalue()


def limits(pairs: list[Pair]) -> tuple[float, float]:
    """Shared x and y limits of a panel, a little wider than the values so that no marker sits on the
    frame: [-3, 103] for % and [-0.03, 1.03] for fractions when the values fit in [0, 100] / [0, 1],
    else the values' range padded by 8% of it (by 10% of the value when all values are equal)."""
    values = [v for p in pairs for v in (p.paper_value, p.our_value)]
    lo, hi = min(values), max(values)
    unit = pairs[0].unit
    if unit == PERCENT and lo >= 0 and hi <= 100:
        return -3.0, 103.0
    if unit == FRACTION and lo >= 0 and hi <= 1:
        return -0.03, 1.03
    pad = 0.08 * (hi - lo) if hi > lo else 0.1 * abs(hi) or 1.0
    return lo - pad, hi + pad


def _rows(keys: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    """Panels per figure row: the % panels (up to 3 a row), then the others (up to 4 a row)."""
    main = [k for k in keys if k[1] == PERCENT]
    rest = [k for k in keys if k[1] != PERCENT]
    return [main[i:i + 3] for i in range(0, len(main), 3)] + [rest[i:i + 4] for i in range(0, len(rest), 4)]


def figure(found: Overview) -> Any:
    """Draw the overview: one square panel per (paper, unit), paper's value on x, ours on y, one colour
    per table, our ± sd as vertical bars where our table gives one, and the identity line y = x.

    Args:
        found: The pairs (at least one).

    Returns:
        The `matplotlib.figure.Figure` (no pyplot state: nothing to close).
    """
    from matplotlib.figure import Figure

    panels = found.panels()
    rows = _rows(list(panels))
    width = 12.0
    legend_lines = [max(math.ceil((len({p.table for p in panels[k]}) + 1) / 2) for k in r) for r in rows]
    heights = [width / max(len(r), 3) + 1.1 + 0.2 * n for r, n in zip(rows, legend_lines)]
    fig = Figure(figsize=(width, sum(heights)), layout="constrained")
    subfigs = fig.subfigures(len(rows), 1, height_ratios=heights, squeeze=False)[:, 0]
    for sub, keys in zip(subfigs, rows):
        axes = sub.subplots(1, len(keys), squeeze=False)[0]
        for ax, key in zip(axes, keys):
            _panel(ax, key, panels[key])
    fig.suptitle("Paper vs ours: every number a paper prints that we reproduce (dashed: y = x)",
                 fontsize=13)
    return fig


def _panel(ax: Any, key: tuple[str, str], pairs: list[Pair]) -> None:
    """One panel of the overview (see `figure`)."""
    paper, unit = key
    lo, hi = limits(pairs)
    ax.plot([lo, hi], [lo, hi], ls="--", color="0.45", lw=1, zorder=1, label="y = x")
    tables = list(dict.fromkeys(p.table for p in pairs))
    for i, name in enumerate(tables):
        mine = [p for p in pairs if p.table == name]
        error = any(p.quantity == "error" for p in mine)
        x = [p.paper_value for p in mine]
        y = [p.our_value for p in mine]
        sd = [p.our_sd if p.our_sd is not None else 0.0 for p in mine]
        colour = f"C{i % 10}"
        if any(sd):
            ax.errorbar(x, y, yerr=sd, fmt="none", ecolor=colour, elinewidth=0.8, alpha=0.6, zorder=2)
        ax.scatter(x, y, s=26 if error else 22, color=colour, marker="^" if error else "osD"[i // 10 % 3], alpha=0.8,
                   edgecolors="white", linewidths=0.4, zorder=3,
                   label=f"{name} ({len(mine)}{', error: above = worse' if error else ''})")
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_aspect("equal", adjustable="box")
    ax.grid(alpha=0.3)
    ax.set_xlabel("paper's value", fontsize=10)
    ax.set_ylabel("our value", fontsize=10)
    median = statistics.median(abs(p.our_value - p.paper_value) for p in pairs)
    points = " points" if unit == PERCENT else ""
    ax.set_title(f"{paper}\nunit: {unit}\nn = {len(pairs)}, median |Δ| = {median:.3g}{points}", fontsize=10)
    ax.tick_params(labelsize=9)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.19), ncol=2, frameon=False,
              title="table (pairs)", title_fontsize=8, handletextpad=0.3, columnspacing=1.0)


@dataclass(frozen=True)
class Written:
    """What `write` wrote: the overview and the files' names (relative to reports/; png and pdf
    are None when there was nothing to draw)."""

    overview: Overview
    csv: str
    png: str | None
    pdf: str | None


def write(reports_dir: Path, records: list[dict[str, Any]] | None = None) -> Written:
    """Collect the pairs (`collect`) and write overview.csv (always; header only when empty) and
    overview.png/.pdf (when there is at least one pair; stale ones are removed otherwise) into
    `reports_dir`. Each file is written to a temporary name and renamed, so that a reader never sees
    half a file.

    Args:
        reports_dir: The reports folder.
        records: The records to read (see `collect`).

    Returns:
        What was written.
    """
    found = collect(reports_dir, records)
    _atomic(reports_dir / CSV_NAME, lambda tmp: tmp.write_text(to_csv(found.pairs), encoding="utf-8"))
    png, pdf = reports_dir / PNG_NAME, reports_dir / PDF_NAME
    if not found.pairs:
        png.unlink(missing_ok=True)
        pdf.unlink(missing_ok=True)
        return Written(found, CSV_NAME, None, None)
    fig = figure(found)
    _atomic(png, lambda tmp: fig.savefig(tmp, format="png", dpi=130, metadata={"Software": None}))
    _atomic(pdf, lambda tmp: fig.savefig(tmp, format="pdf", metadata={"Creator": None, "Producer": None,
                                                                       "CreationDate": None}))
    return Written(found, CSV_NAME, PNG_NAME, PDF_NAME)


def _atomic(path: Path, write: Callable[[Path], Any]) -> None:
    """Call `write(tmp)` on a temporary file beside `path`, then rename it to `path`."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def counts(found: Overview) -> list[tuple[str, int, str, str]]:
    """Per paper: (paper, number of pairs, pairs per unit, cells left out and why)."""
    per: dict[str, Counter] = {}
    for p in found.pairs:
        per.setdefault(p.paper, Counter())[p.unit] += 1
    out = []
    for paper, units in per.items():
        left = found.left_out.get(paper) or Counter()
        out.append((paper, sum(units.values()), ", ".join(f"{n} in {u}" for u, n in units.items()),
                    ", ".join(f"{n} {why}" for why, n in sorted(left.items())) or "none"))
    return out


def caption(found: Overview) -> str:
    """The figure's caption: what is plotted, and how many points per paper."""
    per = "; ".join(f"{paper} {n}" for paper, n, _, _ in counts(found))
    return ("Each point is one number a paper prints (x) beside ours for the same cell (y), from every "
            "table of the reports that sets the paper's values beside ours; one panel per paper and unit, so "
            "that accuracies in %, rates in [0, 1], perturbation norms and model sizes never share an axis. "
            "Dashed: y = x; median |Δ|: the median of |ours − paper| in the panel. Colour: the table (its "
            "number of pairs in the legend); triangles: errors (above "
            "the line: ours higher, worse); circles: everything else (for accuracies and destruction rates, "
            "below the line: ours lower, worse). Vertical bars: ± sd of ours over seeds where our table "
            "prints one. A number a paper prints in two of its tables is a point in each. Left out: cells "
            f"where either side is not a number (not run, not printed), whose unit nothing states, or whose "
            f"two units differ. Points per "
            f"paper: {per or 'none'} (by unit in the table below; one row each in overview.csv).")
