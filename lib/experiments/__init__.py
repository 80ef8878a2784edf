"""One module per paper: its experiments, one `run_*` per artefact (`lib.experiments.<paper id>`)."""
from importlib import import_module
from types import ModuleType


def __getattr__(name: str) -> ModuleType:
    return import_module(f"{__name__}.{name}")
