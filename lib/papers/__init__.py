"""One package per paper: `lib.papers.<paper id>` holds everything of that paper and nothing shared.

    params.py    PARAMS: every parameter (type, meaning + unit, smoke/quick/paper values)
    method.py    the paper's algorithms (no Config, no I/O)
    protocol.py  the experiments: one `run_<artefact>(cfg)` per artefact (or tight group), typed results
    results.py   those typed results (dataclasses), the only hand-off from protocol to render
    paper.py     the paper's own numbers (tables, quoted values), labels and claim texts (CLAIMS)
    render.py    figures, tables, claims and the artefact record; reads results, never computes them

See docs/architecture.md for the map and the import rules (render never imports protocol or method).
"""

import importlib
from typing import Any


class _Dashes(dict):
    def __missing__(self, key: str) -> str:
        return "—"


def scale_line(paper: str, params: dict[str, Any]) -> str | None:
    """The paper's one-line scale statement (`lib/papers/<paper>/paper.py` SCALE, a format string over
    the parameters) filled with `params` (a parameter the run does not have reads "—"); None when the
    paper has none."""
    try:
        template = getattr(importlib.import_module(f"lib.papers.{paper}.paper"), "SCALE", None)
        return template.format_map(_Dashes(params)) if template else None
    except (ImportError, IndexError, ValueError):
        return None
