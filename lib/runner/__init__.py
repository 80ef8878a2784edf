"""`runall.py`'s logic, by concern (each module reads on its own):

    manifest     Layout (where things are), the manifest's notebooks, `--only` selection
    parameters   notebooks' parameters: injected values, names/types/ranges checked, data opened
    plan         run keys; what each notebook will do (run, up to date, skip) and why
    execute      kernels, papermill, private staging, interrupts (Ctrl-C / SIGTERM)
    publish      one run at a time (lock), all-or-nothing publishing, provenance
    cli          options, the order of checks, progress lines, summary, exit status

    python runall.py [--profile smoke|quick|paper] [--only PAPER[/ARTEFACT]]... [--data SPEC]
                     [-p NAME VALUE]... [--force] [--list] [--dry-run] [--jobs N]

The contract is docs/architecture.md §4.
"""
from lib.runner.cli import EXIT_BUSY, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, main, run
from lib.runner.manifest import Layout, UsageError
from lib.runner.parameters import load_notebook, parse_value

__all__ = ["EXIT_BUSY", "EXIT_FAILED", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_USAGE", "Layout", "UsageError",
           "load_notebook", "main", "parse_value", "run"]
