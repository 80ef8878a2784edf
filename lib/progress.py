"""Progress bars: widgets or text interactively, sparse plain lines in headless runs."""
from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def headless() -> bool:
    """True when the runner executes the notebook (`REPRO_HEADLESS=1`)."""
    return os.environ.get("REPRO_HEADLESS") == "1"


def progress(iterable: Iterable[T], desc: str, total: int | None = None) -> Iterator[T]:
    """Wrap `iterable` in a progress bar.

    Interactive: `tqdm.auto` (a widget in JupyterLab). Headless: a plain-text bar refreshed at most
    every 30 s on the kernel process's own stderr, which the runner writes to the notebook's log
    (`reports/<paper>/logs/<name>.log`), so executed notebooks and their HTML stay clean.
    """
    if headless():
        from tqdm import tqdm

        return iter(tqdm(iterable, desc=desc, total=total, mininterval=30, ascii=True, file=sys.__stderr__))
    from tqdm.auto import tqdm

    return iter(tqdm(iterable, desc=desc, total=total, leave=False))
