"""The command line of `runall.py`: options, the order of checks, progress lines and the summary.

Order: parse options; load the manifest and plan (names, types and ranges of parameters checked);
`--list`/`--dry-run` stop here. A real run then takes the reports folder's lock (one run at a time),
rolls back any publication a crashed run left half-done, checks that reports/ and build/ are
writable and opens every data spec it will read, all before the first kernel starts.

Exit status: 0 when nothing failed, 1 when a notebook failed (or publishing failed), 2 for usage
errors, 3 when another run holds the reports folder, 130 when interrupted (Ctrl-C or SIGTERM).
"""
from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from pathlib import Path
from types import FrameType

import papermill

from lib import index
from lib.runner import publish as pub
from lib.runner.execute import Outcome, Run
from lib.runner.manifest import Layout, Manifest, UsageError, load_manifest, select
from lib.runner.parameters import KERNEL_NAME, check_data
from lib.runner.plan import Job, data_specs, plan

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_BUSY, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


def format_outcome(outcome: Outcome) -> str:
    """One progress line: notebook, status, duration and detail."""
    status = "FAILED" if outcome.status == "failed" else outcome.status
    line = f"{outcome.key:<48} {status:<12} {outcome.duration_s:7.1f} s"
    return f"{line}  {outcome.detail}" if outcome.detail else line


def _announce(outcome: Outcome) -> Outcome:
    """Print a finished notebook's progress line and pass the outcome through."""
    print(format_outcome(outcome), flush=True)
    return outcome


def format_summary(outcomes: list[Outcome], profile: str, elapsed_s: float,
                   reports: Path) -> str:
    """The final summary: counts, total time, failures with their logs, synthetic-data banners."""
    ok = sum(o.status == "ok" for o in outcomes)
    failed = [o for o in outcomes if o.status == "failed"]
    skipped = sum(o.status in ("up to date", "skipped-gpu", "skipped-data") for o in outcomes)
    lines = [f"Summary (profile {profile}): {ok} ok, {len(failed)} failed, {skipped} skipped "
             f"in {elapsed_s:.1f} s"]
    for o in failed:
        paper, name = o.key.split("/", 1)
        log = reports / paper / "logs" / f"{name}.failed.log"
        lines.append(f"  FAILED {o.key}: {o.detail}" + (f" (log: {log})" if log.exists() else ""))
    for o in outcomes:
        lines += [f"  SYNTHETIC DATA in {o.key}: {banner}" for banner in o.banners]
    return "\n".join(lines)


def format_listing(jobs: list[Job], manifest: Manifest, profile: str) -> str:
    """`--list`: papers, notebooks, artefacts and each notebook's parameters for the profile.

    Args:
        jobs: Planned jobs.
        manifest: The manifest (for paper titles).
        profile: The profile name.

    Returns:
        The listing; values set for this profile (manifest, --data, -p, PROFILE) are marked `*`.
    """
    lines = [f"profile {profile}  (* = set for this run; other values: declared for the profile, or the notebook's default)"]
    paper = None
    for job in jobs:
        spec = job.spec
        if spec.paper != paper:
            paper = spec.paper
            lines.append(f"\n{paper}: {manifest.papers.get(paper, {}).get('title', '')}")
        needs = (" [needs GPU]" if spec.needs_gpu else "") + (
            f" [needs data: {', '.join(spec.needs_data)}]" if spec.needs_data else "")
        lines.append(f"  {spec.name}  artefacts: {', '.join(spec.artefacts)}{needs}")
        shown = {**{name: info["default"] for name, info in job.declared.items()},
                 **{name: json.dumps(value) for name, value in job.resolved.items() if name not in job.declared}}
        values = [f"{name}={json.dumps(job.parameters[name])}*" if name in job.parameters else f"{name}={text}"
                  for name, text in shown.items()]
        lines.append(f"      {'  '.join(values)}")
    return "\n".join(lines)


def format_plan(jobs: list[Job], profile: str) -> str:
    """`--dry-run`: what would run or be skipped, why, and with which parameters."""
    lines = []
    for job in jobs:
        verb = "would run" if job.action == "run" else f"skip ({job.action})"
        lines.append(f"{verb:<24} {job.spec.key}: {job.reason}")
        if job.action == "run":
            lines.append(f"{'':<24}   parameters: {json.dumps(job.parameters, sort_keys=True)}")
    runs = sum(job.action == "run" for job in jobs)
    lines.append(f"Dry run (profile {profile}): {runs} would run, {len(jobs) - runs} would be "
                 f"skipped; nothing was executed.")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Command line


def build_parser() -> argparse.ArgumentParser:
    """The `runall.py` argument parser."""
    parser = argparse.ArgumentParser(
        prog="runall.py", description="Execute the suite's notebooks headless and build reports/.")
    parser.add_argument("--profile", default="quick", help="smoke | quick | paper (default quick)")
    parser.add_argument("--only", action="append", default=[], metavar="PAPER[/ARTEFACT]",
                        help="run only this paper or the notebook of this artefact (repeatable)")
    parser.add_argument("--data", metavar="SPEC",
                        help="set DATA of every selected notebook that has it (see lib.data)")
    parser.add_argument("-p", "--parameter", dest="parameters", action="append", nargs=2,
                        default=[], metavar=("NAME", "VALUE"),
                        help="override a notebook parameter, parsed like papermill -p (repeatable)")
    parser.add_argument("--force", action="store_true", help="re-run notebooks that are up to date")
    parser.add_argument("--list", action="store_true",
                        help="list papers, notebooks, artefacts and parameters, then exit")
    parser.add_argument("--dry-run", action="store_true",
                        help="validate names, types and ranges and show what would run; execute nothing "
                             "(data is opened only by a real run)")
    parser.add_argument("--jobs", type=int, default=1, metavar="N",
                        help="notebooks executed concurrently, each kernel with cores/N threads (default 1)")
    return parser


def run(argv: list[str], layout: Layout) -> int:
    """Run `runall.py` with the given arguments against a layout; returns the exit status."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse has printed the problem (or --help)
        return int(exc.code or 0)
    try:
        manifest, jobs = _prepare(args, layout)
    except UsageError as exc:
        print(f"runall: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("runall: interrupted before any notebook ran", file=sys.stderr)
        return EXIT_INTERRUPTED
    if args.list:
        print(format_listing(jobs, manifest, args.profile))
        return EXIT_OK
    if args.dry_run:
        for job in jobs:
            if job.action == "run":  # papermill --prepare-only: parameterize, execute nothing
                papermill.execute_notebook(job.notebook, None, parameters=job.parameters,
                                           kernel_name=KERNEL_NAME, prepare_only=True)
        print(format_plan(jobs, args.profile))
        return EXIT_OK
    lock = pub.RunLock(layout)
    try:
        lock.acquire()
    except pub.BusyError as exc:
        print(f"runall: error: {exc}", file=sys.stderr)
        return EXIT_BUSY
    except OSError as exc:
        print(f"runall: error: cannot write into {layout.reports} (creating its lock file {layout.lock.name}: "
              f"{exc.strerror or exc}); fix its permissions or free space. Nothing was run.", file=sys.stderr)
        return EXIT_USAGE
    try:
        return _locked_run(args, layout, manifest)
    except KeyboardInterrupt:  # outside notebook execution (checks, skips, index): reports are intact
        print("runall: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        lock.release()


def _prepare(args: argparse.Namespace, layout: Layout) -> tuple[Manifest, list[Job]]:
    """Load the manifest, check the options, select and plan the notebooks (raises UsageError)."""
    if args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    manifest = load_manifest(layout.manifest)
    if args.profile not in manifest.profiles:
        raise UsageError(f"unknown profile {args.profile!r}; valid profiles: "
                         f"{', '.join(manifest.profiles)}")
    specs = select(manifest, args.only, args.profile)
    drafts = sorted(p for p, info in manifest.papers.items() if info.get("draft")
                    and not args.only and args.profile != "smoke")
    for paper in drafts:
        print(f"runall: leaving out draft paper {paper} ({manifest.papers[paper]['draft']}); "
              f"run it with --only {paper}", file=sys.stderr)
    return manifest, plan(specs, args, layout, pub.read_report_manifest(layout.report_manifest))


def _locked_run(args: argparse.Namespace, layout: Layout, manifest: Manifest) -> int:
    """Under the lock: recover, re-plan against the manifest as it is now, check, execute."""
    publisher = pub.Publisher(layout, manifest.papers)
    for line in publisher.recover():
        print(f"runall: {line}", file=sys.stderr)
    try:
        jobs = plan(select(manifest, args.only, args.profile), args, layout, publisher.read())
        papers = sorted({job.spec.paper for job in jobs})
        errors = pub.check_writable([layout.reports, *(layout.reports / p for p in papers),
                                     *(layout.reports / p / "logs" for p in papers), layout.build])
        if not errors:
            errors = check_data(data_specs(jobs), args.profile)
        if errors:
            raise UsageError("\n".join(errors))
    except UsageError as exc:
        print(f"runall: error: {exc}\nNothing was run; reports/ are unchanged.", file=sys.stderr)
        return EXIT_USAGE
    return _execute(args, layout, manifest, jobs, publisher)


def _execute(args: argparse.Namespace, layout: Layout, manifest: Manifest, jobs: list[Job],
             publisher: pub.Publisher) -> int:
    """Execute the planned jobs, print progress and the summary, rebuild the index."""
    clock = time.monotonic()
    state = Run(layout, manifest, args.profile, args.jobs, publisher)
    outcomes = []
    for job in jobs:
        if job.action in ("skipped-gpu", "skipped-data"):
            state.record_skip(job)
        if job.action != "run":
            detail = "" if job.action == "up to date" else job.reason
            outcomes.append(_announce(Outcome(job.spec.key, job.action, 0.0, detail)))
    finished, not_completed = state.execute_all([job for job in jobs if job.action == "run"], _announce)
    outcomes += finished
    status = EXIT_FAILED if any(o.status == "failed" for o in outcomes) else EXIT_OK
    if state.stop_reason != "interrupted":
        try:
            index.build(layout.reports)
        except Exception as exc:  # the manifest is already saved; say so rather than lose the summary
            print(f"runall: error: rebuilding the report index failed: {exc!r}", file=sys.stderr)
            status = EXIT_FAILED
    print(format_summary(outcomes, args.profile, time.monotonic() - clock, layout.reports))
    if state.stop_reason == "publish failed":
        print(f"Stopped after a publishing error; not run: {', '.join(not_completed) or 'none'}")
        return EXIT_FAILED
    if not_completed:
        print(f"Interrupted; not completed (reports unchanged): {', '.join(not_completed)}")
        return EXIT_INTERRUPTED
    return status


def _raise_keyboard_interrupt(signum: int, frame: FrameType | None) -> None:
    """SIGTERM handler: stop the way Ctrl-C does."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None, layout: Layout | None = None) -> int:
    """Entry point of `runall.py`: SIGTERM behaves like Ctrl-C; runs on the repository's layout."""
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    # A shell without job control starts `runall.py &` with SIGINT ignored; restore Python's handler so
    # that `kill -INT` stops a background run as Ctrl-C stops a foreground one.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    return run(sys.argv[1:] if argv is None else argv, layout or Layout.default())
