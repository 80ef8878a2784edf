"""Notebooks and their parameters: what is injected, and every check that can be made before compute.

Names come from the notebook's `parameters` cell (papermill's inspection) and from the paper's
declarations (`lib.params.declarations(paper)`, i.e. `lib/papers/<paper>/params.py`). Values are
checked against the declared type and range; a paper without declarations is checked against the type
of each literal default in the notebook. The data spec each notebook will read is opened and
validated by `check_data` before any kernel starts.
"""
from __future__ import annotations

import ast
import json
import tempfile
from pathlib import Path
from typing import Any

import jupytext
import nbformat
import papermill

from lib import params as declared_params
from lib.runner.manifest import NotebookSpec

KERNEL_NAME = "python3"
KERNELSPEC = {"name": KERNEL_NAME, "display_name": "Python 3 (ipykernel)", "language": "python"}


def load_notebook(source: Path) -> nbformat.NotebookNode:
    """The notebook to execute, built from its jupytext `.py` source unless the `.ipynb` is current.

    The `.py` is the source of truth: a missing `.ipynb`, or one older than the `.py`, is never
    executed; the notebook is built in memory from the `.py` instead. The kernelspec is set to
    `python3` either way.

    Args:
        source: `notebooks/<paper>/<name>.py`.

    Returns:
        The notebook (no outputs are needed; execution replaces them).
    """
    paired = source.with_suffix(".ipynb")
    if paired.exists() and paired.stat().st_mtime >= source.stat().st_mtime:
        nb = nbformat.read(paired, as_version=4)
    else:
        nb = jupytext.read(source, fmt="py:percent")
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    return nb


def notebook_parameters(nb: nbformat.NotebookNode) -> dict[str, dict[str, Any]]:
    """The parameters of a notebook's `parameters` cell, as `papermill.inspect_notebook` finds them.

    Args:
        nb: The notebook (in memory; `inspect_notebook` only reads paths, so it reads a
            temporary copy).

    Returns:
        Name -> `{"name", "inferred_type_name", "default", "help"}` (`default` is source text).
    """
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "notebook.ipynb"
        nbformat.write(nb, copy)
        return papermill.inspect_notebook(str(copy))


def unreadable_parameters(nb: nbformat.NotebookNode, found: set[str]) -> list[str]:
    """Problems with a parameters cell that `papermill.inspect_notebook` silently passes over.

    Papermill's inspection skips any line with more than one `=` (an `=` inside the comment is
    enough), so such a parameter could be neither listed nor validated. The cell is parsed with
    `ast` to find every assigned name; each one papermill did not find is reported.

    Args:
        nb: The notebook.
        found: The parameter names `notebook_parameters` found.

    Returns:
        Error messages (empty when papermill sees every assignment).
    """
    cells = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if not cells:
        return ["no cell is tagged 'parameters'"]
    try:
        tree = ast.parse(cells[0].source)
    except SyntaxError as exc:
        return [f"the parameters cell is not valid Python: {exc}"]
    lines = cells[0].source.splitlines()
    return [f"papermill cannot read parameter {target.id!r} (line {node.lineno}: "
            f"{lines[node.lineno - 1].strip()!r}); it skips lines with more than one '=', "
            f"e.g. an '=' in the comment"
            for node in tree.body if isinstance(node, (ast.Assign, ast.AnnAssign))
            for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
            if isinstance(target, ast.Name) and target.id not in found]


def parse_value(text: str) -> Any:
    """Parse a `-p NAME VALUE` value the way papermill's `-p` does, plus JSON lists and dicts.

    Args:
        text: The value as typed.

    Returns:
        `True`/`False`/`None` for those words, an int or float when it parses as one, a list or
        dict when it is valid JSON starting with `[` or `{`, else the string itself.
    """
    words = {"True": True, "False": False, "None": None}
    if text in words:
        return words[text]
    for number in (int, float):
        try:
            return number(text)
        except ValueError:
            pass
    if text.lstrip().startswith(("[", "{")):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            pass
    return text


def effective_parameters(spec: NotebookSpec, profile: str, names: set[str], data: str | None,
                         overrides: dict[str, Any]) -> dict[str, Any]:
    """The parameters injected into one notebook.

    Order (later wins): the manifest's `parameters.<profile>`, `--data` (as `DATA`, only if the
    notebook has it), the `-p` overrides the notebook has, and always `PROFILE=<profile>`.

    Args:
        spec: The notebook.
        profile: The profile name.
        names: The notebook's parameter names.
        data: The `--data` spec, or None.
        overrides: Parsed `-p` values.

    Returns:
        Name -> value.
    """
    params = dict(spec.parameters.get(profile, {}))
    if data is not None and "DATA" in names:
        params["DATA"] = data
    params.update({k: v for k, v in overrides.items() if k in names})
    params["PROFILE"] = profile
    return params


def check_parameters(specs: list[NotebookSpec], declared: dict[str, set[str]], profile: str,
                     data: str | None, overrides: dict[str, Any]) -> list[str]:
    """Every problem with the requested parameters, before anything runs.

    Args:
        specs: The selected notebooks.
        declared: Notebook key -> its parameter names.
        profile: The profile name.
        data: The `--data` spec, or None.
        overrides: Parsed `-p` values.

    Returns:
        Error messages (empty when all is well); each names the valid parameters.
    """
    errors = []
    valid = sorted(set().union(*declared.values()))
    for name in overrides:
        if name == "PROFILE":
            errors.append("-p PROFILE is not allowed; use --profile")
        elif name not in valid:
            errors.append(f"unknown parameter {name!r} (-p); valid parameters of the selected "
                          f"notebooks: {', '.join(valid)}")
    if data is not None and "DATA" not in valid:
        errors.append("--data: none of the selected notebooks has a DATA parameter")
    for spec in specs:
        names = declared[spec.key]
        if "PROFILE" not in names:
            errors.append(f"{spec.key}: its parameters cell has no PROFILE")
        for name in spec.parameters.get(profile, {}):
            if name not in names:
                errors.append(f"manifest: parameters.{profile} of {spec.key} sets {name!r}, which "
                              f"is not a parameter of the notebook; valid: "
                              f"{', '.join(sorted(names))}")
    return errors


# --------------------------------------------------------------------------------------------
# Declared parameters: types and ranges


def declarations(paper: str) -> declared_params.Params | None:
    """The paper's declared parameters (`lib.params.declarations`), or None."""
    return declared_params.declarations(paper)


def notebook_names(nb_params: dict[str, dict[str, Any]], paper: str) -> set[str]:
    """The parameter names a notebook accepts: its parameters cell's and its paper's declared ones."""
    decl = declarations(paper)
    return set(nb_params) | (set(decl.names()) if decl else set())


def _literal(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return None


def check_values(spec: NotebookSpec, nb_params: dict[str, dict[str, Any]], profile: str,
                 values: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Type- and range-check one notebook's effective parameters before anything runs.

    Args:
        spec: The notebook.
        nb_params: Its parameters cell as `notebook_parameters` found it.
        profile: The profile name.
        values: `effective_parameters` of the notebook.

    Returns:
        `(resolved, errors)`: every parameter's value as the notebook will see it (declared values
        for the profile, then the manifest's, `--data` and `-p`), and one message per problem.
    """
    decl = declarations(spec.paper)
    given = {k: v for k, v in values.items() if k != "PROFILE"}
    if decl is not None:
        try:
            return decl.resolve(profile, given, where=f"{spec.paper}: "), []
        except declared_params.ParamError as exc:
            return {}, [str(exc)]
    errors, resolved = [], {}
    for name, info in nb_params.items():
        default = _literal(info.get("default", "None"))
        resolved[name] = default
        if name not in given or default is None:
            continue
        check = declared_params.Param(declared_params.literal_type(default), info.get("help") or "", smoke=default,
                                      name=name)
        try:
            resolved[name] = check.check(given[name], where=f"{spec.key}: ")
        except declared_params.ParamError as exc:
            errors.append(f"{exc} (the notebook's default is {info.get('default')})")
    return resolved | {"PROFILE": profile}, errors


def check_data(specs: dict[str, list[str]], profile: str) -> list[str]:
    """Open and validate each data spec the selected notebooks will read (layout, class count,
    readable images, archive integrity), before any kernel starts.

    Args:
        specs: Data spec -> the notebooks that read it.
        profile: The profile (`paper` never falls back to the synthetic stand-in).

    Returns:
        One message per spec that cannot be read, naming the notebooks and how to fix it.
    """
    if not specs:
        return []
    from lib import data

    errors = []
    for spec, users in specs.items():
        try:
            data.load(spec, device="cpu", allow_fallback=profile != "paper")
        except data.DataError as exc:
            errors.append(f"DATA={spec!r} (read by {', '.join(users)}): {exc}")
    return errors
