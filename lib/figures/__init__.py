"""One module per paper: one function per figure or table (`lib.figures.<paper id>`)."""
from importlib import import_module
from types import ModuleType


def __getattr__(name: str) -> ModuleType:
    return import_module(f"{__name__}.{name}")
