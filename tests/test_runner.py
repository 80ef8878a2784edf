"""Tests of lib.runner on a fake suite (tests/fixtures/runner/notebooks): two papers of tiny,
stdlib-only jupytext notebooks. `fake` has 01_alpha (parameters PROFILE, N, DATA) and 02_beta
(PROFILE, N, FAIL); `edge` has a notebook that forgets a declared output, one needing a GPU, one
needing data, and one that sleeps (for interrupts).

Kernel starts dominate the time, so notebooks are executed only where a test needs it (about ten
executions in all); everything else is checked before execution or with --dry-run.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import nbformat
import pytest
import yaml

from lib import runner
from lib.runner import Layout, cli, execute, plan, publish

FIXTURE = Path(__file__).parent / "fixtures" / "runner"


def make_tree(root: Path) -> Layout:
    """Copy the fake suite to `root` and return its layout (nothing run yet)."""
    shutil.copytree(FIXTURE / "notebooks", root / "notebooks")
    return Layout.at(root)


def entries(layout: Layout) -> dict[str, dict[str, Any]]:
    """The notebook entries of the tree's reports/manifest.json."""
    return json.loads(layout.report_manifest.read_text())["notebooks"]


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` with its bytes (the run lock's holder line aside)."""
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in folder.rglob("*") if p.is_file() and p.name != ".runall.lock"}


def staged(layout: Layout, name: str) -> list[Path]:
    """The staging folders of notebook `name` under build/runs/ (any run)."""
    runs = layout.build / "runs"
    return [p for p in runs.rglob(name) if p.is_dir()] if runs.exists() else []


RUNNER = ("import sys; from pathlib import Path; from lib.runner import Layout, main; "
          "sys.exit(main(sys.argv[2:], Layout.at(Path(sys.argv[1]))))")


def start_runner(layout: Layout, *argv: str) -> subprocess.Popen:
    """runall.py on `layout` in a subprocess (so that it can be signalled)."""
    return subprocess.Popen([sys.executable, "-c", RUNNER, str(layout.root), *argv],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_started(layout: Layout, name: str, proc: subprocess.Popen, count: int = 1) -> None:
    """Wait until `count` notebooks called `name*` wrote their `started` marker."""
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        if len(list((layout.build / "runs").rglob(f"{name}*/started"))) >= count:
            return
        time.sleep(0.1)
    raise AssertionError(f"{name} never started: {proc.poll()} {proc.stderr.read() if proc.poll() is not None else ''}")


def add_sleeper(layout: Layout, name: str = "05_sleep_b", artefact: str = "eta") -> None:
    """A second sleeping notebook in the `edge` paper."""
    shutil.copy(layout.notebooks / "edge" / "04_sleep.py", layout.notebooks / "edge" / f"{name}.py")
    manifest = yaml.safe_load(layout.manifest.read_text())
    manifest["papers"]["edge"]["notebooks"].append(
        {"name": name, "artefacts": [artefact], "outputs": [f"{artefact}.csv"], "needs": {"gpu": False, "data": []}})
    layout.manifest.write_text(yaml.safe_dump(manifest))


@pytest.fixture
def tree(tmp_path: Path) -> Layout:
    """A fresh copy of the fake suite."""
    return make_tree(tmp_path)


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> Layout:
    """The `fake` paper executed once (quick profile, both notebooks at once with --jobs 2)."""
    layout = make_tree(tmp_path_factory.mktemp("first"))
    assert runner.run(["--only", "fake", "--jobs", "2"], layout) == 0
    return layout


@pytest.fixture
def ran(first_run: Layout, tmp_path: Path) -> Layout:
    """A private copy of the tree after the first run (reports, manifest and all)."""
    shutil.copytree(first_run.root, tmp_path / "tree")
    return Layout.at(tmp_path / "tree")


@pytest.fixture(autouse=True)
def no_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests behave the same on machines with and without CUDA."""
    monkeypatch.setattr(plan, "gpu_available", lambda: False)


@pytest.mark.parametrize("text, value", [
    ("1", 1), ("-2", -2), ("1.5", 1.5), ("1e-3", 0.001), ("True", True), ("False", False),
    ("None", None), ("[0, 1, 2]", [0, 1, 2]), ('{"a": 1}', {"a": 1}), ("[oops", "[oops"),
    ("true", "true"), ("cifar10", "cifar10"), ("imagefolder:/data/x", "imagefolder:/data/x"),
])
def test_parameter_values_are_parsed_like_papermill(text: str, value: Any) -> None:
    parsed = runner.parse_value(text)
    assert parsed == value and type(parsed) is type(value)


@pytest.mark.parametrize("argv, expected", [
    (["-p", "SEEDZ", "3"], ["unknown parameter 'SEEDZ'", "DATA, FAIL, N, PROFILE"]),
    (["--only", "fake/alpha", "-p", "FAIL", "1"], ["unknown parameter 'FAIL'", "DATA, N, PROFILE"]),
    (["-p", "PROFILE", "paper"], ["use --profile"]),
    (["--only", "edge", "--data", "cifar10"], ["none of the selected notebooks has a DATA"]),
    (["--only", "nope"], ["unknown paper 'nope'", "valid papers: fake, edge"]),
    (["--only", "fake/nope"], ["unknown artefact 'nope'", "valid artefacts: alpha, beta"]),
    (["--profile", "huge"], ["unknown profile 'huge'", "smoke, quick, paper"]),
    (["--jobs", "0"], ["--jobs must be at least 1"]),
])
def test_bad_requests_are_refused_before_anything_runs(
        tree: Layout, capsys: pytest.CaptureFixture, argv: list[str], expected: list[str]) -> None:
    assert runner.run(argv, tree) == runner.EXIT_USAGE
    err = capsys.readouterr().err
    assert all(text in err for text in expected), err
    assert not tree.build.exists() and not tree.reports.exists()


def test_manifest_parameters_must_exist_in_the_notebook(tree: Layout,
                                                        capsys: pytest.CaptureFixture) -> None:
    manifest = yaml.safe_load(tree.manifest.read_text())
    manifest["papers"]["fake"]["notebooks"][1]["parameters"]["quick"]["SEEDS"] = [0, 1]
    tree.manifest.write_text(yaml.safe_dump(manifest))
    assert runner.run(["--only", "fake"], tree) == runner.EXIT_USAGE
    err = capsys.readouterr().err
    assert "parameters.quick of fake/02_beta sets 'SEEDS'" in err and "FAIL, N, PROFILE" in err
    assert not tree.reports.exists()


def test_a_stale_ipynb_is_never_used(tmp_path: Path) -> None:
    source, paired = tmp_path / "nb.py", tmp_path / "nb.ipynb"
    source.write_text('# %% tags=["parameters"]\nPROFILE = "smoke"  # profile\n')
    stale = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("OLD = 1")])
    nbformat.write(stale, paired)
    os.utime(paired, (source.stat().st_mtime - 10,) * 2)
    assert runner.load_notebook(source).cells[0].source == 'PROFILE = "smoke"  # profile'
    os.utime(paired, (source.stat().st_mtime + 10,) * 2)  # a current pair is used as it is
    nb = runner.load_notebook(source)
    assert nb.cells[0].source == "OLD = 1" and nb.metadata.kernelspec.name == "python3"


def test_parameters_papermill_cannot_read_are_refused(tree: Layout,
                                                      capsys: pytest.CaptureFixture) -> None:
    source = tree.notebooks / "fake" / "02_beta.py"
    source.write_text(source.read_text().replace(
        "FAIL = False", "LIMIT = 0  # 0 = no limit\nFAIL = False"))
    assert runner.run(["--only", "fake", "--dry-run"], tree) == runner.EXIT_USAGE
    err = capsys.readouterr().err
    assert "fake/02_beta: papermill cannot read parameter 'LIMIT' (line 3" in err


def test_dry_run_validates_and_executes_nothing(tree: Layout, capsys: pytest.CaptureFixture,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    execute = cli.papermill.execute_notebook

    def prepare_only(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs)
        assert kwargs["prepare_only"] is True
        return execute(*args, **kwargs)

    monkeypatch.setattr(cli.papermill, "execute_notebook", prepare_only)
    assert runner.run(["--dry-run", "--profile", "paper", "--data", "cifar10"], tree) == 0
    out = capsys.readouterr().out
    assert "would run                fake/01_alpha: not run before" in out
    assert '{"DATA": "cifar10", "PROFILE": "paper"}' in out  # --data only where DATA exists
    assert '{"PROFILE": "paper"}' in out  # 02_beta has no DATA; smoke/paper have no overrides
    assert "skip (skipped-gpu)       edge/02_gpu: needs a CUDA GPU" in out
    assert "skip (skipped-data)      edge/03_data: data not available: imagenet" in out
    assert len(calls) == 4  # alpha, beta, missing_output, sleep
    assert not tree.build.exists() and not tree.reports.exists()


def test_list_shows_notebooks_artefacts_and_parameters(tree: Layout,
                                                       capsys: pytest.CaptureFixture) -> None:
    assert runner.run(["--list", "--only", "fake", "-p", "N", "5"], tree) == 0
    out = capsys.readouterr().out
    assert "fake: A fake paper | with a pipe" in out
    assert "01_alpha  artefacts: alpha" in out and "02_beta  artefacts: beta" in out
    assert 'PROFILE="quick"*  N=5*  DATA="synthetic"' in out
    assert "FAIL=False" in out  # defaults as the notebook writes them
    assert not tree.reports.exists()


def test_a_run_publishes_reports_and_records_provenance(first_run: Layout) -> None:
    alpha = entries(first_run)["fake/01_alpha"]
    assert alpha["status"] == "ok" and alpha["error"] is None
    assert alpha["parameters"] == {"PROFILE": "quick", "N": 2}
    assert alpha["device"] == "cpu (fake)" and alpha["git"] == {"commit": None, "dirty": None}
    assert {"python", "torch", "papermill"} <= set(alpha["packages"])
    assert alpha["last_good"]["run_key"] == alpha["run_key"] and len(alpha["run_key"]) == 64
    reports = first_run.reports
    for rel in alpha["files"]:
        assert (reports / rel).is_file()
    assert {"fake/alpha.csv", "fake/alpha.json", "fake/01_alpha.ipynb", "fake/01_alpha.html",
            "fake/logs/01_alpha.log", "fake/alpha_n2.txt"} <= set(alpha["files"])
    kernel = json.loads((reports / "fake" / "alpha_kernel.json").read_text())
    assert kernel["env"] == {"REPRO_HEADLESS": "1", "PYTHONHASHSEED": "0", "MPLBACKEND": "Agg",
                             "SOURCE_DATE_EPOCH": "0", "CUBLAS_WORKSPACE_CONFIG": ":4096:8"}
    assert Path(kernel["cwd"]) == first_run.notebooks / "fake"
    executed = json.loads((reports / "fake" / "01_alpha.ipynb").read_text())
    injected = [c for c in executed["cells"] if "injected-parameters" in c["metadata"]["tags"]]
    assert 'PROFILE = "quick"' in "".join(injected[0]["source"])
    page = (reports / "fake" / "01_alpha.html").read_text()
    assert "alpha done with N=2" in page and "json.dumps(record)" not in page  # outputs, no code
    assert "alpha done with N=2" in (reports / "fake" / "logs" / "01_alpha.log").read_text()
    assert not staged(first_run, "01_alpha")
    assert (reports / "index.md").exists() and (reports / "fake" / "index.html").exists()


def test_an_unchanged_notebook_is_skipped_and_forced_reruns(ran: Layout,
                                                             capsys: pytest.CaptureFixture) -> None:
    before = ran.report_manifest.read_bytes()
    assert runner.run(["--only", "fake"], ran) == 0
    out = capsys.readouterr().out
    assert out.count("up to date") == 2 and "0 ok, 0 failed, 2 skipped" in out
    assert ran.report_manifest.read_bytes() == before
    old = entries(ran)["fake/01_alpha"]["started"]
    time.sleep(1)  # `started` has a resolution of one second
    assert runner.run(["--only", "fake/alpha", "--force"], ran) == 0
    assert "1 ok, 0 failed, 0 skipped" in capsys.readouterr().out
    assert entries(ran)["fake/01_alpha"]["started"] != old


def test_a_source_change_reruns_only_that_notebook(ran: Layout,
                                                   capsys: pytest.CaptureFixture) -> None:
    source = ran.notebooks / "fake" / "01_alpha.py"
    source.write_text(source.read_text() + "\n# a reviewed change\n")
    assert runner.run(["--only", "fake"], ran) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(line.startswith("fake/01_alpha") and " ok " in line for line in lines)
    assert any(line.startswith("fake/02_beta") and "up to date" in line for line in lines)


def test_a_parameter_change_reruns_and_drops_outputs_no_longer_produced(
        ran: Layout, capsys: pytest.CaptureFixture) -> None:
    assert runner.run(["--only", "fake/alpha", "-p", "N", "3"], ran) == 0
    alpha = entries(ran)["fake/01_alpha"]
    assert alpha["parameters"]["N"] == 3
    assert (ran.reports / "fake" / "alpha.csv").read_text() == "n,twice\n3,6\n"
    assert (ran.reports / "fake" / "alpha_n3.txt").exists()
    assert not (ran.reports / "fake" / "alpha_n2.txt").exists()
    assert "fake/alpha_n2.txt" not in alpha["files"]


def test_a_lib_change_makes_notebooks_stale(ran: Layout, capsys: pytest.CaptureFixture) -> None:
    (ran.root / "lib").mkdir()
    (ran.root / "lib" / "helpers.py").write_text("X = 1\n")
    assert runner.run(["--only", "fake", "--dry-run"], ran) == 0
    out = capsys.readouterr().out
    assert out.count("notebook source, parameters or lib changed") == 2


def test_a_failing_notebook_keeps_the_last_good_report(ran: Layout,
                                                       capsys: pytest.CaptureFixture) -> None:
    previous = entries(ran)["fake/02_beta"]
    kept = {rel: (ran.reports / rel).read_bytes()
            for rel in previous["files"] if "/logs/" not in rel}
    argv = ["--only", "fake", "--force", "-p", "FAIL", "True"]
    assert runner.run(argv, ran) == runner.EXIT_FAILED
    out = capsys.readouterr().out
    assert "FAILED" in out and "RuntimeError: beta was asked to fail" in out
    assert {rel: (ran.reports / rel).read_bytes() for rel in kept} == kept
    beta, alpha = entries(ran)["fake/02_beta"], entries(ran)["fake/01_alpha"]
    assert beta["status"] == "failed" and beta["error"] == "RuntimeError: beta was asked to fail"
    assert beta["last_good"] == previous["last_good"]
    assert (beta["html"], beta["records"], beta["files"]) == (
        previous["html"], previous["records"], previous["files"])
    log = (ran.reports / beta["log"]).read_text()
    assert "error: RuntimeError: beta was asked to fail" in log and "Traceback" in log
    assert (ran.reports / "fake" / "logs" / "02_beta.failed.ipynb").exists()
    assert alpha["status"] == "ok" and alpha["started"] >= beta["last_good"]["started"]
    page = (ran.reports / "fake" / "index.md").read_text()
    assert f"showing last good run of {previous['started']}" in page
    assert runner.run(["--only", "fake/beta"], ran) == 0  # fixed: the failure traces go away
    assert entries(ran)["fake/02_beta"]["status"] == "ok"
    assert not (ran.reports / "fake" / "logs" / "02_beta.failed.ipynb").exists()


def test_a_missing_declared_output_is_a_failure(tree: Layout) -> None:
    assert runner.run(["--only", "edge/gamma"], tree) == runner.EXIT_FAILED
    gamma = entries(tree)["edge/01_missing_output"]
    assert gamma["status"] == "failed" and gamma["error"] == "declared output missing: gamma.pdf"
    assert gamma["last_good"] is None
    assert not (tree.reports / "edge" / "gamma.csv").exists()
    assert (tree.reports / "edge" / "logs" / "01_missing_output.failed.log").exists()


def test_gpu_and_data_needs_are_recorded_as_skips(tree: Layout,
                                                  capsys: pytest.CaptureFixture) -> None:
    argv = ["--profile", "paper", "--only", "edge/delta", "--only", "edge/epsilon"]
    assert runner.run(argv, tree) == 0
    statuses = {key: e["status"] for key, e in entries(tree).items()}
    assert statuses == {"edge/02_gpu": "skipped-gpu", "edge/03_data": "skipped-data"}
    assert "0 ok, 0 failed, 2 skipped" in capsys.readouterr().out


def test_sigterm_stops_the_run_and_leaves_reports_untouched(ran: Layout) -> None:
    before = snapshot(ran.reports)
    script = ("import sys; from pathlib import Path; from lib.runner import Layout, main; "
              "sys.exit(main(sys.argv[2:], Layout.at(Path(sys.argv[1]))))")
    proc = subprocess.Popen([sys.executable, "-c", script, str(ran.root), "--only", "edge/zeta"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_started(ran, "04_sleep", proc)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == runner.EXIT_INTERRUPTED, err
    assert "Interrupted" in out and "edge/04_sleep" in out
    assert snapshot(ran.reports) == before
    assert "edge/04_sleep" not in entries(ran)


# --------------------------------------------------------------------------------------------
# Reliability: one run at a time, interrupts, all-or-nothing publishing, checks before compute


def test_a_second_concurrent_run_is_refused_naming_the_first(ran: Layout, capsys: pytest.CaptureFixture) -> None:
    proc = start_runner(ran, "--only", "edge/zeta")
    try:
        wait_started(ran, "04_sleep", proc)
        before = snapshot(ran.reports)
        clock = time.monotonic()
        assert runner.run(["--only", "fake", "--force"], ran) == runner.EXIT_BUSY
        assert time.monotonic() - clock < 5
        err = capsys.readouterr().err
        assert f"another runall.py is running on {ran.reports}: pid {proc.pid}" in err and "--only edge/zeta" in err
        assert snapshot(ran.reports) == before
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)
    assert runner.run(["--only", "fake"], ran) == 0   # the lock went with the first run


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_ctrl_c_with_several_notebooks_stops_within_seconds(ran: Layout, jobs: str) -> None:
    add_sleeper(ran)
    before = snapshot(ran.reports)
    proc = start_runner(ran, "--only", "edge/zeta", "--only", "edge/eta", "--only", "fake", "--force",
                        "--jobs", jobs)
    wait_started(ran, "0", proc, count=int(jobs))
    clock = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == runner.EXIT_INTERRUPTED, err
    assert time.monotonic() - clock < execute.STOP_GRACE_S + 5
    assert "Interrupted; not completed" in out and "edge/05_sleep_b" in out
    after = snapshot(ran.reports)
    assert {k: v for k, v in after.items() if not k.startswith("fake/")} == \
        {k: v for k, v in before.items() if not k.startswith("fake/")}   # sleepers: nothing published
    assert "edge/04_sleep" not in entries(ran) and "edge/05_sleep_b" not in entries(ran)


def test_a_second_ctrl_c_exits_at_once(ran: Layout) -> None:
    add_sleeper(ran)
    proc = start_runner(ran, "--only", "edge/zeta", "--only", "edge/eta", "--jobs", "2")
    wait_started(ran, "0", proc, count=2)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.05)
    clock = time.monotonic()
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=30)
    assert proc.returncode in (runner.EXIT_INTERRUPTED, -signal.SIGINT)
    assert time.monotonic() - clock < 5


def test_unwritable_reports_are_refused_before_any_kernel(tree: Layout, capsys: pytest.CaptureFixture,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    tree.reports.mkdir()
    (tree.reports / "fake").write_text("a file where the paper's folder must be")
    started = []
    monkeypatch.setattr(execute.Run, "execute", lambda self, job: started.append(job))
    assert runner.run(["--only", "fake"], tree) == runner.EXIT_USAGE
    err = capsys.readouterr().err
    assert f"cannot write into {tree.reports / 'fake'}" in err and "Nothing was run" in err
    assert not started and not staged(tree, "01_alpha")


def test_a_failed_manifest_write_publishes_nothing_and_stops_the_run(
        ran: Layout, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    before = snapshot(ran.reports)
    real = publish.write_json_atomic

    def failing(path: Path, data: Any) -> None:
        if path == ran.report_manifest:
            raise OSError(28, "No space left on device")
        real(path, data)

    monkeypatch.setattr(publish, "write_json_atomic", failing)
    assert runner.run(["--only", "fake", "--force", "-p", "N", "7"], ran) == runner.EXIT_FAILED
    out = capsys.readouterr().out
    assert "publishing fake/01_alpha failed, reports/ left as they were" in out and "No space left" in out
    assert "Stopped after a publishing error; not run: fake/02_beta" in out
    after = snapshot(ran.reports)
    assert {k: v for k, v in after.items() if not k.startswith("index") and "/index" not in k} == \
        {k: v for k, v in before.items() if not k.startswith("index") and "/index" not in k}
    assert not (ran.reports / publish.TXN).exists() or not any((ran.reports / publish.TXN).iterdir())


def test_a_publication_interrupted_by_a_crash_is_rolled_back(ran: Layout) -> None:
    before = snapshot(ran.reports)
    layout = ran
    pubr = publish.Publisher(layout, {})
    entry = dict(entries(ran)["fake/01_alpha"], started="2099-01-01T00:00:00+00:00")
    new = layout.root / "new_alpha.csv"
    new.write_text("n,twice\n9,18\n")

    def crash(*args: Any) -> None:
        raise SystemExit("killed")   # not an Exception: nothing is rolled back, as after a real crash

    pubr.write_entry = crash   # the files are switched, the commit point is never reached
    with pytest.raises(SystemExit):
        pubr.publish("fake/01_alpha", "fake", {"fake/alpha.csv": new}, [], entry)
    assert (layout.reports / "fake" / "alpha.csv").read_text() == "n,twice\n9,18\n"
    assert publish.Publisher(layout, {}).recover() == ["fake/01_alpha: rolled back an interrupted publication"]
    assert snapshot(ran.reports) == before


def test_a_truncated_archive_is_refused_before_any_kernel(tree: Layout, tmp_path: Path, capsys: pytest.CaptureFixture,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import tarfile

    monkeypatch.setenv("REPRO_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "imgs" / "train" / "a"
    folder.mkdir(parents=True)
    for i in range(40):
        (folder / f"{i}.ppm").write_bytes(b"P6 2 2 255\n" + os.urandom(12))
    archive = tmp_path / "data.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tmp_path / "imgs" / "train", arcname="train")
    archive.write_bytes(archive.read_bytes()[:-200])
    assert runner.run(["--only", "fake/alpha", "--data", f"imagefolder:{archive}"], tree) == runner.EXIT_USAGE
    err = capsys.readouterr().err
    assert f"cannot read archive {archive}" in err and "truncated" in err and "fake/01_alpha" in err
    assert not staged(tree, "01_alpha") and not tree.report_manifest.exists()


def test_an_empty_class_folder_is_refused(tree: Layout, tmp_path: Path, capsys: pytest.CaptureFixture,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPRO_CACHE", str(tmp_path / "cache"))
    for cls, count in (("a", 6), ("b", 0), ("c", 6)):
        (tmp_path / "imgs" / "train" / cls).mkdir(parents=True)
        for i in range(count):
            (tmp_path / "imgs" / "train" / cls / f"{i}.ppm").write_bytes(b"P6 2 2 255\n" + os.urandom(12))
    assert runner.run(["--only", "fake/alpha", "--data", f"imagefolder:{tmp_path / 'imgs'}"], tree) == runner.EXIT_USAGE
    assert "class folder(s) train/b/ hold no image" in capsys.readouterr().err


@pytest.mark.parametrize("argv, expected", [
    (["-p", "N", "abc"], "fake/01_alpha: N: got 'abc' (str), expected an integer"),
    (["-p", "N", "1.5"], "N: got 1.5 (float), expected an integer"),
    (["--only", "fake/alpha", "-p", "DATA", "[1]"], "DATA: got [1] (list), expected str"),
])
def test_wrong_type_parameters_are_refused_even_by_a_dry_run(tree: Layout, capsys: pytest.CaptureFixture,
                                                             argv: list[str], expected: str) -> None:
    assert runner.run(["--only", "fake", "--dry-run", *argv], tree) == runner.EXIT_USAGE
    assert expected in capsys.readouterr().err


def test_declared_types_and_ranges_are_enforced(tree: Layout, capsys: pytest.CaptureFixture,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from lib.params import Param, Params

    declared = Params(N=Param(int, "images per class (images)", smoke=1, quick=2, min=1),
                      SEEDS=Param(list[int], "repetitions", smoke=[0], min_len=1),
                      FAIL=Param(bool, "raise in the last cell", smoke=False))
    monkeypatch.setattr(runner.parameters, "declarations", lambda paper: declared if paper == "fake" else None)
    for argv, expected in ((["-p", "N", "0"], "N=0: 0 is outside [1, inf] (images per class (images))"),
                           (["-p", "SEEDS", "[]"], "SEEDS=[]: needs at least 1 item(s)"),
                           (["-p", "SEEDS", "abc"], "SEEDS: got 'abc' (str), expected a list")):
        assert runner.run(["--only", "fake/beta", "--dry-run", *argv], tree) == runner.EXIT_USAGE
        assert expected in capsys.readouterr().err
    assert runner.run(["--only", "fake/beta", "--dry-run", "-p", "SEEDS", "[0, 1]"], tree) == 0


def test_the_kernel_imports_the_lib_of_the_checkout_being_run(tree: Layout) -> None:
    (tree.root / "lib").mkdir()
    (tree.root / "lib" / "__init__.py").write_text("CHECKOUT = 'second'\n")
    source = tree.notebooks / "fake" / "02_beta.py"
    source.write_text(source.read_text() + (
        "\nimport lib\n(out / 'lib.json').write_text(json.dumps({'file': lib.__file__}))\n"
        "record['lib_path'] = os.path.relpath(os.path.dirname(lib.__file__), os.environ['REPRO_ROOT'])\n"
        "(out / 'beta.json').write_text(json.dumps(record))\n"))
    assert runner.run(["--only", "fake/beta"], tree) == 0
    imported = json.loads((tree.reports / "fake" / "lib.json").read_text())["file"]
    assert Path(imported) == tree.root / "lib" / "__init__.py"
    assert entries(tree)["fake/02_beta"]["lib_imported"] == "lib"


def test_a_kernel_that_imported_another_checkout_fails_its_notebook(tree: Layout) -> None:
    records = [{"lib_path": "../elsewhere/lib"}]
    with pytest.raises(execute.WrongCheckoutError, match="imported lib from ../elsewhere/lib"):
        execute.check_checkout(records, tree)
    assert execute.check_checkout([{"lib_path": "lib"}], tree) == "lib"


def test_each_kernel_gets_its_share_of_the_cores(tmp_path: Path) -> None:
    assert execute.threads_per_kernel(1, cores=2) == 2 and execute.threads_per_kernel(2, cores=2) == 1
    assert execute.threads_per_kernel(4, cores=2) == 1 and execute.threads_per_kernel(2, cores=16) == 8
    env = execute.kernel_env(Layout.at(tmp_path), tmp_path / "out", 3)
    assert env["OMP_NUM_THREADS"] == env["MKL_NUM_THREADS"] == "3"
    assert env["PYTHONPATH"].split(os.pathsep)[0] == str(tmp_path)


def test_render_html_drops_progress_bars_and_keeps_other_output(tmp_path: Path) -> None:
    import nbformat

    from lib.runner.execute import render_html

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stderr", text="\rseed 0:   0%|          | 0/17 [00:00<?, ?it/s]"),
        nbformat.v4.new_output("stream", name="stderr",
                               text="\rseed 0: 100%|##########| 17/17 [00:12<00:00,  1.34it/s]\n"),
        nbformat.v4.new_output("stream", name="stderr", text="UserWarning: kept\n"),
        nbformat.v4.new_output("stream", name="stdout", text="[repr] profile=quick\n"),
    ]
    nb.cells.append(cell)
    render_html(nb, tmp_path / "nb.html")
    page = (tmp_path / "nb.html").read_text()
    assert "it/s" not in page and "17/17" not in page
    assert "UserWarning: kept" in page and "[repr] profile=quick" in page
    assert len(nb.cells[0].outputs) == 4  # the executed notebook itself keeps everything


def test_draft_papers_are_left_out_of_a_full_run_but_not_of_smoke_or_only(tmp_path: Path) -> None:
    from lib.runner.manifest import load_manifest, select

    path = tmp_path / "manifest.yaml"
    path.write_text("profiles: {smoke: {}, quick: {}}\npapers:\n"
                    "  a:\n    notebooks:\n      - {name: 01_x, artefacts: [x], outputs: [x.json]}\n"
                    "  b:\n    draft: not verified\n    notebooks:\n      - {name: 01_y, artefacts: [y], outputs: [y.json]}\n")
    manifest = load_manifest(path)
    assert [nb.paper for nb in select(manifest, [], "quick")] == ["a"]
    assert [nb.paper for nb in select(manifest, [], "smoke")] == ["a", "b"]
    assert [nb.paper for nb in select(manifest, ["b"], "quick")] == ["b"]


def test_paper_profile_data_names_are_found_where_their_loaders_read_them(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """caltech101 and the VGG-16 checkpoint count as present only when their files are where the paper
    profile reads them; an unknown name is always absent."""
    from lib.runner import plan

    monkeypatch.setenv("REPRO_DATA_ROOT", str(tmp_path / "data"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setattr(plan.paths, "SHARED_DATA", tmp_path / "shared")
    assert not plan.data_available("caltech101")
    assert not plan.data_available("vgg16_imagenet_weights")
    (tmp_path / "shared" / "caltech101").mkdir(parents=True)
    assert plan.data_available("caltech101")
    ckpt = tmp_path / "torch" / "hub" / "checkpoints" / "vgg16-397923af.pth"
    ckpt.parent.mkdir(parents=True)
    assert not plan.data_available("vgg16_imagenet_weights")   # the folder alone is not the file
    ckpt.write_bytes(b"x")
    assert plan.data_available("vgg16_imagenet_weights")
    assert not plan.data_available("no_such_dataset")
