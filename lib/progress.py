"""Progress bars: widgets or text interactively, sparse plain lines in headless runs."""
from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def headless() -> bool:
    """True when the runner executes the notebook (`REPRO_HEADLESS=1`)."""
    return os.environ.get("REPRO_HEADLESS") == "1"


def progress(iterable: Iterable[T], desc: str, total: int | None = None) -> Iterator[T]:
    """Wrap `iterable` in a progress bar.

    Interactive: `tqdm.auto` (a widget in JupyterLab). Headless: a plain-text bar refreshed at most
    every 60 s, so executed notebooks and their HTML stay small.
    """
    if headless():
        from tqdm import tqdm

        return iter(tqdm(iterable, desc=desc, total=total, mininterval=60, ascii=True, leave=False))
    from tqdm.auto import tqdm

    return iter(tqdm(iterable, desc=desc, total=total, leave=False))
