"""What a notebook writes: figures with their data, tables, paper-vs-ours tables, claims, the record.

One `Record` per artefact (a paper's figure or table). Everything goes to `cfg.out` (the runner's
staging folder, or build/interactive/<paper>/ in JupyterLab); `Record.save()` writes the artefact
record `<artefact>.json` described in docs/architecture.md §3 and returns the record, which shows
itself in the notebook (figure, tables, claims).
"""
from __future__ import annotations

import base64
import html
import json
import math
import os
import re
from pathlib import Path
from typing import Any

import matplotlib

if os.environ.get("REPRO_HEADLESS") == "1":
    matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

from lib import cache, paths
from lib.claims import Claim
from lib.config import Config
from lib.papers import scale_line

SCHEMA = 1
PNG_META = {"Software": None}
PDF_META = {"Creator": None, "Producer": None, "CreationDate": None}


def markdown_table(df: pd.DataFrame, floatfmt: str = ".3g") -> str:
    """GitHub Markdown for a DataFrame (index included when named), with '|' escaped in cells."""
    frame = df.reset_index() if df.index.name or any(df.index.names) else df
    fmt = lambda v: ("—" if math.isnan(v) else f"{v:{floatfmt}}") if isinstance(v, float) else \
        ("—" if v is None else str(v))
    cells = [[fmt(v).replace("|", "\\|") for v in row] for row in frame.itertuples(index=False)]
    head = [str(c).replace("|", "\\|") for c in frame.columns]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in cells]) + "\n"


def paper_vs_ours(paper: pd.DataFrame, ours: pd.DataFrame) -> pd.DataFrame:
    """Interleave two tables of the same shape cell by cell: columns `<col> (paper)`, `<col> (ours)`."""
    if list(paper.columns) != list(ours.columns) or list(paper.index) != list(ours.index):
        raise ValueError("paper and ours must have the same rows and columns")
    out = pd.DataFrame(index=paper.index)
    for col in paper.columns:
        out[f"{col} (paper)"] = paper[col]
        out[f"{col} (ours)"] = ours[col]
    return out


_NOTED_ACCURACY = re.compile(r"^(?P<name>[^:]+): (?P<source>.+), clean test accuracy (?P<acc>[0-9.]+)%$")


def noted_accuracies(cfg: Config) -> dict[str, tuple[float, str]]:
    """Clean test accuracy (%) and source ("zoo" or "trained here") of every model this run noted with
    `Config.note_model` in `lib.train.describe_source`'s form ("<name>: <source>, clean test accuracy X%"),
    in noting order; {} when none was noted (e.g. every result came from the cache)."""
    out = {}
    for note in cfg.model_notes:
        m = _NOTED_ACCURACY.match(note)
        if m:
            source = "zoo" if m["source"].startswith("model zoo") else "trained here"
            out[m["name"]] = (float(m["acc"]), source)
    return out


class Record:
    """Collects one artefact's files, tables, claims and notes; `save()` writes `<artefact>.json`.

    `scale` (the record's one-line scale statement) defaults to the paper's `SCALE` filled with the
    run's parameters; a renderer may set it to a fuller line (e.g. with our baseline accuracy)."""

    def __init__(self, cfg: Config, artefact: str, title: str, caption: str = ""):
        self.cfg, self.artefact, self.title, self.caption = cfg, artefact, title, caption
        self.files: list[dict[str, str]] = []
        self.tables: list[dict[str, Any]] = []
        self.claims: list[Claim] = []
        self.notes: list[str] = []
        self.scale: str | None = None
        self._figures: list[Path] = []
        self._html_tables: list[tuple[str, str]] = []

    def add_to_scale(self, text: str) -> None:
        """Set the record's scale line to the paper's (`scale_line`) followed by `text`, e.g. our baseline's
        measured accuracy beside the paper's."""
        base = self._paper_scale()
        self.scale = f"{base}; {text}" if base else text

    def _paper_scale(self) -> str | None:
        """The paper's SCALE line over this run's parameters, `DATA=auto` written as the dataset it
        resolved to (e.g. `cifar10-train-jpeg.tar.gz`), so the line names what actually ran."""
        params = dict(self.cfg.params)
        data = self.cfg.data_record()
        if params.get("DATA") == "auto" and data:
            params["DATA"] = Path(str(data["spec"]).split(":", 1)[-1]).name or "auto"
        return scale_line(self.cfg.paper, params)

    def _add(self, path: Path, kind: str) -> None:
        self.files.append({"path": path.name, "kind": kind})

    def figure(self, fig: plt.Figure, name: str, data: pd.DataFrame) -> None:
        """Save `fig` as PNG and PDF and its data as CSV (`<name>.png|.pdf|.csv`), then close it."""
        png, pdf, csv = (self.cfg.out / f"{name}.{ext}" for ext in ("png", "pdf", "csv"))
        fig.savefig(png, dpi=130, bbox_inches="tight", metadata=PNG_META)
        fig.savefig(pdf, bbox_inches="tight", metadata=PDF_META)
        plt.close(fig)
        data.to_csv(csv, index=False)
        self._add(png, "figure")
        self._add(pdf, "figure-pdf")
        self._add(csv, "figure-data")
        self._figures.append(png)

    def table(self, df: pd.DataFrame, name: str, caption: str = "", paper: pd.DataFrame | None = None) -> None:
        """Save a table as CSV and Markdown; with `paper`, also the paper-vs-ours table cell by cell."""
        shown = paper_vs_ours(paper, df) if paper is not None else df
        csv, md = self.cfg.out / f"{name}.csv", self.cfg.out / f"{name}.md"
        shown.to_csv(csv)
        md.write_text((f"{caption}\n\n" if caption else "") + markdown_table(shown))
        self._add(csv, "table")
        self._add(md, "table-md")
        self.tables.append({"name": name, "csv": csv.name, "md": md.name, "caption": caption,
                            "paper_vs_ours": paper is not None})
        self._html_tables.append((caption or name, shown.to_html(float_format=lambda v: f"{v:.3g}")))

    def data(self, df: pd.DataFrame, name: str) -> None:
        """Save supporting numbers (e.g. per-seed results) as `<name>.csv`."""
        path = self.cfg.out / f"{name}.csv"
        df.to_csv(path, index=False)
        self._add(path, "data")

    def claim(self, claim: Claim) -> None:
        self.claims.append(claim)

    def note(self, text: str) -> None:
        """A choice made where the paper is ambiguous, a scale reduction, a caveat."""
        self.notes.append(text)

    def save(self) -> "Record":
        """Write `<artefact>.json` (docs/architecture.md §3) and return self for display."""
        record = {
            "schema": SCHEMA, "paper": self.cfg.paper, "artefact": self.artefact, "title": self.title,
            "caption": self.caption, "profile": self.cfg.profile.value,
            "data": self.cfg.data_record(),
            "scale": self.scale or self._paper_scale(),
            "parameters": self.cfg.params, "seeds": self.cfg.seeds, "device": self.cfg.device_name(),
            "lib_path": paths.imported_lib(),
            "files": self.files, "tables": self.tables, "claims": [c.record() for c in self.claims],
            "notes": self.notes + self.cfg.data_notes() + self.cfg.model_notes,
            "cache": cache.ledger(),   # this kernel's cache use so far (hits, misses, seconds saved)
        }
        path = self.cfg.out / f"{self.artefact}.json"
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(record, indent=1, default=str))
        os.replace(tmp, path)
        return self

    def _repr_html_(self) -> str:
        data = self.cfg.data_record()
        parts = [f"<h3>{html.escape(self.title)}</h3>"]
        if data and data["banner"]:
            parts.append(f"<p style='background:#fde2e1;padding:6px'><b>⚠ {html.escape(data['banner'])}</b></p>")
        for png in self._figures:
            data = base64.b64encode(png.read_bytes()).decode()
            parts.append(f"<img src='data:image/png;base64,{data}' style='max-width:100%'>")
        for caption, table in self._html_tables:
            parts.append(f"<p><b>{html.escape(caption)}</b></p>{table}")
        if self.claims:
            rows = "".join(f"<tr><td>{html.escape(c.text)}</td><td><b>{c.verdict.value}</b></td>"
                           f"<td>{html.escape(c.evidence)}</td></tr>" for c in self.claims)
            parts.append(f"<table><tr><th>claim</th><th>verdict</th><th>evidence</th></tr>{rows}</table>")
        if self.notes:
            parts.append("<ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in self.notes) + "</ul>")
        return "\n".join(parts)
