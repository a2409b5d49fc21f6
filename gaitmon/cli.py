"""The ``gaitmon`` command line.

Every subcommand turns bad input into one line on stderr naming the file and where it broke, and
exit status 2 — never a traceback.

Start-up stays light: this module and the parser import neither numpy's heavier users (scipy,
the analysis, the event core) nor bleak or Qt; each subcommand imports what it uses when it runs
(tests/unit/test_startup.py holds this).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from gaitmon._version import __version__
from gaitmon.consts import PLACEMENTS
from gaitmon.errors import InputError, log, warn

EXIT_BAD_INPUT = 2


def _version_text() -> str:
    from gaitmon.core import BACKEND
    from gaitmon.stream.timing import ClockFit, ClockFitTwin

    clock = "python" if ClockFit is ClockFitTwin else "compiled"
    return f"gaitmon {__version__} (event core: {BACKEND}; clock fit: {clock})"


class _VersionAction(argparse.Action):
    """``--version``: the text names the loaded event core and clock fit, so it is made only when asked for."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        print(_version_text())
        parser.exit()


# -- diagnostics and progress on stderr ---------------------------------------------------------------


class _StderrHandler(logging.Handler):
    """Log records as ``gaitmon: [level: ]message`` lines on whatever ``sys.stderr`` is at the time."""

    PREFIX = {logging.DEBUG: "debug: ", logging.INFO: "note: ", logging.WARNING: "", logging.ERROR: "error: ",
              logging.CRITICAL: "error: "}

    def emit(self, record: logging.LogRecord) -> None:
        try:
            source = "" if record.name.split(".")[0] == "gaitmon" else f"{record.name}: "
            text = f"gaitmon: {self.PREFIX.get(record.levelno, '')}{source}{record.getMessage()}"
            if record.exc_info and log.isEnabledFor(logging.DEBUG):
                text += "\n" + logging.Formatter().formatException(record.exc_info)
            print(text, file=sys.stderr, flush=True)
        except Exception:  # noqa: BLE001 - logging must never raise
            self.handleError(record)


def configure_logging(verbosity: int) -> None:
    """Diagnostics on stderr: notes and warnings (0), warnings only (-1, ``-q``), errors only (≤ -2),
    gaitmon's debug messages (1, ``-v``), everyone's, bleak's and asyncio's included (≥ 2, ``-vv``).
    Idempotent: a second call replaces the first's handler."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _StderrHandler)]:
        root.removeHandler(handler)
    root.addHandler(_StderrHandler())
    root.setLevel(logging.DEBUG if verbosity >= 2 else logging.WARNING)
    levels = {-1: logging.WARNING, 0: logging.INFO, 1: logging.DEBUG}
    log.setLevel(logging.ERROR if verbosity < -1 else levels.get(verbosity, logging.DEBUG))


class _ProgressBar:
    """A bar on stderr for long work (tqdm), on a terminal only and not with ``-q``; as ``progress`` of
    :func:`gaitmon.engine.load.load` it is called with ``(fraction done, session time s)``, every
    couple of seconds (each call redraws it). ``postfix`` formats the second number."""

    def __init__(self, what: str, postfix: str = "{:.0f} s of session"):
        self.what = what
        self.postfix = postfix
        self._bar = None

    def __call__(self, fraction: float, t: float) -> None:
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(total=100, desc=self.what, unit="%", leave=False, file=sys.stderr, mininterval=0,
                             disable=None if log.isEnabledFor(logging.INFO) else True,
                             bar_format="{desc}: {percentage:3.0f}%|{bar}| {postfix} [{elapsed}<{remaining}]")
        self._bar.set_postfix_str(self.postfix.format(t), refresh=False)
        self._bar.update(100 * fraction - self._bar.n)

    def __enter__(self) -> _ProgressBar:
        return self

    def __exit__(self, *exc_info) -> None:
        if self._bar is not None:
            self._bar.close()


def _report_problems(loaded) -> int:
    """Log the notes and problems of a load; exit status 2 when something had to be skipped."""
    for note in loaded.notes:
        log.info(note)
    for problem in loaded.problems:
        log.error(problem)
    return EXIT_BAD_INPUT if loaded.problems else 0


def _analyze(args: argparse.Namespace) -> int:
    from gaitmon.engine.analyze import outputs_text, result_problem, with_saved_calibration, write_session_outputs
    from gaitmon.engine.load import load

    started = time.perf_counter()
    with _ProgressBar(f"reading {Path(args.input).name}") as progress:
        loaded = load(Path(args.input), athlete=args.athlete, placement=args.placement, progress=progress,
                      acc_unit=args.acc_unit, gyro_unit=args.gyro_unit)
    problem = result_problem(loaded.result, loaded.samples, loaded.unit_statistics)
    if problem:  # exit 2 and no empty tables; damaged input is reported as such, else one line why
        if loaded.problems:
            return _report_problems(loaded)
        raise InputError(args.input, None, f"{problem} ({loaded.units})" if loaded.units_converted else problem)
    history_db = False if args.no_calibration else (args.db or None)
    result = with_saved_calibration(loaded.result, loaded.meta.athlete, history_db)
    written = write_session_outputs(Path(args.out), result, loaded.live, loaded.samples, loaded.meta)
    if loaded.units:
        print(loaded.units)
    print(result.summary(loaded.meta.athlete or Path(args.input).name))
    print(f"Analysed in {time.perf_counter() - started:.1f} s.")
    print("\n".join(outputs_text(written)))
    return _report_problems(loaded)


def _replay(args: argparse.Namespace) -> int:
    from gaitmon.engine.analyze import outputs_text, with_saved_calibration, write_session_outputs
    from gaitmon.engine.load import kind_of, load

    folder = Path(args.session)
    if kind_of(folder) != "session":
        raise InputError(folder, None, "not a recorded session folder (replay needs session.json + journal.gmj)")
    history_db = False if args.no_calibration else (args.db or None)
    if not args.headless and _display():
        from gaitmon.dashboard import Engine, ReplaySource
        from gaitmon.dashboard.window import run_window
        from gaitmon.session.folder import read_meta

        speed = 1.0 if args.speed is None else (None if args.speed == "max" else _speed(args.speed))
        name = read_meta(folder).athlete or folder.name
        return run_window(Engine({name: ReplaySource(folder, speed, lsl_wait_s=args.lsl_wait)}, on_error=warn,
                                 history_db=history_db, lsl=args.lsl))
    if args.lsl:
        return _replay_on_lsl(args, folder, history_db)
    speed = None if args.speed in (None, "max") else _speed(args.speed)
    started = time.perf_counter()
    with _ProgressBar(f"replaying {folder.name}") as progress:
        loaded = load(folder, speed=speed, progress=progress)
    elapsed = time.perf_counter() - started
    out = Path(args.out) if args.out else folder / "replay"
    result = with_saved_calibration(loaded.result, loaded.meta.athlete, history_db)
    written = write_session_outputs(out, result, loaded.live, loaded.samples, loaded.meta)
    print(result.summary(loaded.meta.athlete or folder.name))
    duration = loaded.meta.duration_s or max((float(t[-1]) for t, _ in loaded.samples.values()), default=0.0)
    print(f"Replayed {duration:.0f} s of recording in {elapsed:.1f} s.")
    print("\n".join(outputs_text(written)))
    return _report_problems(loaded)


def _replay_on_lsl(args: argparse.Namespace, folder: Path, history_db) -> int:
    """Headless ``gaitmon replay --lsl``: the session published at its pace (default real time) by the
    engine, then its tables written from the replayed session (no report: the samples are not kept)."""
    from gaitmon.dashboard import Engine, ReplaySource
    from gaitmon.engine.analyze import live_result, outputs_text, with_saved_calibration, write_session_outputs
    from gaitmon.engine.lsl import stream_name
    from gaitmon.session.folder import read_meta

    meta = read_meta(folder)
    name = meta.athlete or folder.name
    speed = 1.0 if args.speed is None else (None if args.speed == "max" else _speed(args.speed))
    engine = Engine({name: ReplaySource(folder, speed, lsl_wait_s=args.lsl_wait)}, on_error=warn,
                    history_db=history_db, dashboard=False, lsl=True)
    print(f"Publishing {folder.name} on LSL at {speed:g} × real time: {stream_name(name, 'left|right|events')}"
          + (f" (waiting up to {args.lsl_wait:g} s for LabRecorder or another consumer)" if args.lsl_wait > 0 else ""))
    started = time.perf_counter()
    engine.run_to_end()
    live = engine.live(name)
    result = with_saved_calibration(live_result(live, folder), meta.athlete, history_db)
    written = write_session_outputs(Path(args.out) if args.out else folder / "replay", result, live, meta=meta)
    print(result.summary(name))
    print(f"Published {meta.duration_s or engine.snapshot(name).session_s:.0f} s of recording in "
          f"{time.perf_counter() - started:.1f} s.")
    print("\n".join(outputs_text(written)))
    return 0


def _speed(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise InputError("gaitmon replay", "--speed", f"{text!r}: give a positive number (1 = real time) or 'max'")
    return value


def _export(args: argparse.Namespace) -> int:
    from gaitmon.session.bids import BidsDescription, export_bids
    from gaitmon.engine.load import load

    description = BidsDescription(
        authors=tuple(name.strip() for name in args.authors.split(",") if name.strip()), license=args.license,
        institution=args.institution, institution_address=args.institution_address, department=args.department,
        task_description=args.task_description, instructions=args.instructions)
    with _ProgressBar(f"reading {Path(args.session).name}") as progress:
        loaded = load(Path(args.session), athlete=args.athlete, placement=args.placement, progress=progress)
    written = export_bids(Path(args.bids), loaded.meta, loaded.samples, loaded.result.events,
                          description=description)
    if loaded.units_converted:
        print(loaded.units)
    print(f"BIDS motion export of {args.session} ({sum(len(t) for t, _ in loaded.samples.values())} samples, "
          f"{len(loaded.result.events)} events) -> {args.bids}: {len(written)} files")
    return _report_problems(loaded)


def _import(args: argparse.Namespace) -> int:
    from gaitmon.session.history import History, SessionOwnerError
    from gaitmon.engine.load import load, recordings

    status = 0
    with History(args.db or None) as history:
        sources = [session for given in args.sources for session in recordings(Path(given))]
        for i, source in enumerate(sources, 1):
            with _ProgressBar(f"{i}/{len(sources)} {source.name}") as progress:
                loaded = load(source, athlete=args.athlete, placement=args.placement, progress=progress)
            if not loaded.meta.athlete:
                raise InputError(source, None, "no athlete name in this file: give --athlete NAME")
            try:
                outcome = history.add_session(loaded.meta, loaded.result.steps, source_path=str(source.resolve()),
                                              reassign=args.reassign)
            except SessionOwnerError as exc:
                raise InputError(source, None, str(exc)) from None
            print(f"{source}: {loaded.meta.athlete}, {loaded.meta.started_at[:10]}, "
                  f"{len(loaded.result.steps)} steps, {len(loaded.result.balance.reps)} reps: {outcome}")
            if loaded.units_converted:
                print(f"  {loaded.units}")
            status = max(status, _report_problems(loaded))
        print(f"history: {history.path}")
    return status


#: --db of the commands that take a shared (PostgreSQL) history too.
_SHARED_DB_HELP = ("history database: a SQLite file, or a postgresql:// URI of a shared team database "
                   "(gaitmon[postgres]); default $GAITMON_DB, else a file in the data directory")


def _reanalyze(args: argparse.Namespace) -> int:
    import contextlib
    import os

    from gaitmon.engine.reanalyze import executor, plan, reanalyze, saved_calibrations
    from gaitmon.session.history import History

    for option, value in (("--workers", args.workers), ("--dask-local", args.dask_local)):
        if value is not None and value < 1:
            raise InputError("gaitmon reanalyze", option, f"{value}: give at least 1")
    if args.scheduler and args.dask_local:
        raise InputError("gaitmon reanalyze", "--dask-local", "give --scheduler or --dask-local, not both")
    if args.workers and (args.scheduler or args.dask_local):
        raise InputError("gaitmon reanalyze", "--workers", "local processes or a Dask cluster: give --workers, "
                                                           "or --scheduler/--dask-local (the cluster's own workers)")
    workers = args.workers or os.cpu_count() or 1
    where = (f"on the Dask cluster at {args.scheduler}" if args.scheduler else
             f"on a local Dask cluster of {args.dask_local} workers" if args.dask_local else
             "in this process" if workers == 1 else f"on {workers} local processes")
    db = args.db or None
    calibrations = () if args.no_calibration else saved_calibrations(db)
    tasks = plan([Path(s) for s in args.sessions], Path(args.out), athlete=args.athlete, placement=args.placement,
                 calibrations=calibrations)
    started = time.perf_counter()
    outcomes, recordings_s = [], 0.0
    with contextlib.ExitStack() as stack:
        history = None if args.no_history else stack.enter_context(History(db))
        pool = stack.enter_context(executor(workers, args.scheduler, args.dask_local))
        progress = stack.enter_context(_ProgressBar(f"re-analysing {len(tasks)} sessions", "{:.0f} s of recordings"))
        for outcome in reanalyze(tasks, pool, history, reassign=args.reassign):
            outcomes.append(outcome)
            recordings_s += outcome.duration_s
            progress(len(outcomes) / len(tasks), recordings_s)
            for note in outcome.notes:
                log.info(note)
            for problem in outcome.problems:
                log.warning(problem)
            log.debug(outcome.error or f"{outcome.task.source}: {outcome.summary.splitlines()[0]} -> {outcome.task.out}")
    elapsed = time.perf_counter() - started
    failed = [o for o in outcomes if o.failed]
    damaged = [o for o in outcomes if o.problems and not o.failed]
    print(f"Re-analysed {len(outcomes)} sessions ({recordings_s:.0f} s of recordings) "
          f"{where} in {elapsed:.1f} s ({len(outcomes) / elapsed:.2f} sessions/s): {len(outcomes) - len(failed)} done"
          + (f" ({len(damaged)} with damaged records skipped)" if damaged else "") + f", {len(failed)} failed.")
    if failed:
        print("Failed:\n" + "\n".join(f"  {o.error}" for o in failed))
    print(f"Outputs: {Path(args.out).resolve()} (one folder per session)")
    if history is not None:
        counts = {what: sum(o.history == what for o in outcomes) for what in ("added", "updated", "unchanged")}
        print(f"History: {history.path} ({', '.join(f'{n} {what}' for what, n in counts.items())})")
    return EXIT_BAD_INPUT if failed or damaged else 0


def _history(args: argparse.Namespace) -> int:
    from gaitmon.session.history import History, history_text

    with History(args.db or None) as history:
        if args.html is None:
            print(history_text(history, args.athlete))
            return 0
        from gaitmon.report.history_page import default_page_name, write_history_page

        path = write_history_page(Path(args.html or default_page_name(args.athlete)), history, args.athlete)
        print(f"history page of {args.athlete}: {path}")
    return 0


def _simulate(args: argparse.Namespace) -> int:
    from gaitmon.sim import SimConfig, simulate_session, write_session

    make = SimConfig.realistic if args.realistic else SimConfig
    try:
        config = make(sample_rate_hz=args.rate, n_reps=args.reps)
    except ValueError as error:
        raise InputError("gaitmon simulate", None, str(error)) from None
    session = simulate_session(args.scenario, seed=args.seed, config=config)
    write_session(session, Path(args.out))
    n_steps = len(session.steps)
    print(f"simulated scenario {args.scenario!r} seed {args.seed}: {config.n_reps} reps, {n_steps} steps, "
          f"{config.sample_rate_hz:g} Hz -> {args.out}")
    return 0


def _accuracy(args: argparse.Namespace) -> int:
    from gaitmon.validation.accuracy import dataset_accuracy, dataset_anatomy_text, flag_suite, simulated_accuracy

    if args.dataset is None and not (args.simulated or args.flags):
        raise InputError("gaitmon accuracy", None, "give a DATASET folder, --simulated, --flags, or several")
    if args.anatomy and args.dataset is None:
        raise InputError("gaitmon accuracy", "--anatomy", "needs a DATASET folder")
    if args.omega_axis != "sagittal" and not args.anatomy:
        raise InputError("gaitmon accuracy", "--omega-axis", "only applies to --anatomy")
    tolerance_s = None
    if args.tolerance_ms is not None:
        if not (args.tolerance_ms > 0 and args.tolerance_ms < float("inf")):
            raise InputError("gaitmon accuracy", "--tolerance-ms", f"{args.tolerance_ms:g}: give a positive number")
        tolerance_s = args.tolerance_ms / 1e3
    reports = []
    if args.simulated:
        reports.append(lambda: simulated_accuracy(seeds=range(args.seeds)).text())
    if args.dataset is not None and args.anatomy:
        reports.append(lambda: dataset_anatomy_text(Path(args.dataset), placement=args.placement,
                                                    axis=args.omega_axis))
    elif args.dataset is not None:
        reports.append(lambda: dataset_accuracy(Path(args.dataset), placement=args.placement,
                                                tolerance_s=tolerance_s).text())
    if args.flags:
        reports.append(lambda: flag_suite(seeds=range(args.flag_seeds), n_reps=args.flag_reps).text())
    print("\n\n".join(report() for report in reports))
    return 0


def _validate(args: argparse.Namespace) -> int:
    from gaitmon.engine.validate import calibration_of, validate, write_validation

    if len(args.inputs) % 2:
        raise InputError("gaitmon validate", None, "give GAITMON_INPUT REFERENCE pairs (an even number of paths)")
    if args.same_clock and args.offset is not None:
        raise InputError("gaitmon validate", "--offset", "give --offset or --same-clock, not both")
    tolerance_s = None
    if args.tolerance_ms is not None:
        if not 0 < args.tolerance_ms < 1000:
            raise InputError("gaitmon validate", "--tolerance-ms", f"{args.tolerance_ms:g}: give 0 to 1000 ms")
        tolerance_s = args.tolerance_ms / 1e3
    paths = [Path(p) for p in args.inputs]
    pairs = list(zip(paths[::2], paths[1::2]))
    validation = validate(pairs, athlete=args.athlete, placement=args.placement, tolerance_s=tolerance_s,
                          offset_s=args.offset, same_clock=args.same_clock, force_threshold_n=args.force_threshold)
    calibration = None
    if args.save_calibration:
        athlete = args.athlete or next((s.athlete for s, _, _ in validation.recordings if s.athlete), "")
        if not athlete:
            raise InputError(paths[0], None, "--save-calibration needs the athlete: give --athlete NAME")
        kinds = sorted({reference.kind for _, reference, _ in validation.recordings})
        calibration = calibration_of(validation, athlete,
                                     f"{', '.join(kinds)}: {', '.join(p.name for p in paths[1::2])}")
    command = "gaitmon validate " + " ".join(args.inputs)
    written = write_validation(validation, Path(args.out), command)
    for side, reference, comparison in validation.recordings:
        print(f"{side.path} ↔ {reference.path} ({reference.kind}): {comparison.alignment.text()}")
        for note in reference.notes:
            print(f"  note: {note}")
    print(validation.text())
    if calibration is not None:
        from gaitmon.session.history import History

        with History(args.db or None) as history:
            history.add_calibration(calibration)
            print(f"saved the calibration of {calibration.athlete} in {history.path}: {calibration.corrections()}; "
                  "later analyses of this athlete apply it (gaitmon history lists it)")
    print(f"wrote {', '.join(str(p) for p in written)}; open {written[-1]} in a browser")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from gaitmon.dashboard.demo import run_demo

    if not 1 <= args.athletes <= 6:
        raise InputError("gaitmon demo", "--athletes", f"{args.athletes}: give 1 to 6")
    if args.reps < 1:
        raise InputError("gaitmon demo", "--reps", f"{args.reps}: give at least 1")
    return run_demo(Path(args.out), scenario=args.scenario, seed=args.seed, rate_hz=args.rate,
                    athletes=args.athletes, headless=True if args.headless else None, n_reps=args.reps,
                    lsl=args.lsl)


def _scan(args) -> int:
    from gaitmon.engine.acquisition import run_scan

    return run_scan(args.timeout, emulated=args.emulated)


def _display() -> bool:
    from gaitmon.dashboard import can_show_window

    return can_show_window(warn)


def _more_athletes(specs: list[str]) -> dict[str, dict[str, str]]:
    """``NAME=LEFT,RIGHT`` → {NAME: {"left": LEFT, "right": RIGHT}}."""
    athletes = {}
    for spec in specs:
        name, _, ids = spec.partition("=")
        left, _, right = ids.partition(",")
        if not (name.strip() and left.strip() and right.strip()):
            raise InputError("gaitmon live", "--add-athlete", f"{spec!r}: give NAME=LEFT_ID,RIGHT_ID")
        athletes[name.strip()] = {"left": left.strip(), "right": right.strip()}
    return athletes


def _live_engine(args, sensors: dict[str, str], athlete: str, backends=None):
    """The dashboard's engine of ``gaitmon live``: ``athlete`` on ``sensors`` (role → address or
    name; found with ``backends``, None: the radio), plus ``--add-athlete``'s."""
    from gaitmon.dashboard import EmulatedSource, Engine, LiveSource
    from gaitmon.session.folder import JOURNAL_FILE

    name = athlete or "athlete"
    if args.emulated:
        first = EmulatedSource(args.emulated, seed=1, rate_hz=args.rate, duration_s=args.duration)
    else:
        first = LiveSource(sensors, rate_hz=args.rate, duration_s=args.duration, backends=backends)
    athletes = {name: first}
    for other, pair in _more_athletes(args.add_athlete).items():
        if other in athletes:
            raise InputError("gaitmon live", "--add-athlete", f"{other!r} is already on this laptop")
        athletes[other] = LiveSource(pair, rate_hz=args.rate, duration_s=args.duration)
    folders = {}
    if args.out and not args.no_record:
        if (Path(args.out) / JOURNAL_FILE).exists():
            raise InputError(args.out, None, "already holds a recording; not overwriting it (choose another --out)")
        folders[name] = Path(args.out)
    history = False if args.no_history else (args.db or None)
    return Engine(athletes, record=not args.no_record, placement=args.placement, on_error=warn, on_message=print,
                  history_db=history, folders=folders, lsl=args.lsl)


def _live_dashboard(args, sensors: dict[str, str]) -> int:
    from gaitmon.dashboard.window import run_window

    return run_window(_live_engine(args, sensors, args.athlete), close_when_ended=args.duration is not None)


def _live_setup(args) -> int:
    """The set-up screen (sensors, legs, athlete); its START runs :func:`_live_engine` in the dashboard."""
    from gaitmon.dashboard.setup_window import run_setup

    return run_setup(lambda choice: _live_engine(args, choice.sensors, choice.athlete, choice.backends),
                     rate_hz=args.rate, athlete=args.athlete, history_db=args.db or None)


def _live(args) -> int:
    from gaitmon.engine.acquisition import run_live

    sensors = {role: ident for role, ident in (("left", args.left), ("right", args.right)) if ident}
    window = not args.headless and not args.virtual_clock and _display()
    if not sensors and not args.emulated:
        if window:
            return _live_setup(args)
        raise SystemExit("gaitmon live: give --left and/or --right (address or name from `gaitmon scan`); "
                         "with a display, `gaitmon live` alone opens a screen to pick them")
    if window:
        return _live_dashboard(args, sensors)
    if args.add_athlete:
        raise InputError("gaitmon live", "--add-athlete", "several athletes need the dashboard (a display, no --headless)")
    sensors = sensors or {"left": "left", "right": "right"}
    return run_live(sensors, Path(args.out) if args.out else None, rate_hz=args.rate, athlete=args.athlete,
                    placement=args.placement, duration_s=args.duration, emulated=args.emulated,
                    virtual_clock=args.virtual_clock, record=not args.no_record,
                    history_db=args.db or None, add_to_history=not args.no_history,
                    lsl=args.lsl)


def _add_input_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--athlete", default="", metavar="NAME", help="athlete of a CSV input (sessions know theirs)")
    parser.add_argument("--placement", choices=PLACEMENTS, default="shank",
                        help="where the sensors of a CSV input were worn (default: shank)")


def _add_verbosity_options(parser: argparse.ArgumentParser, top: bool) -> None:
    """``-v``/``-q`` before or after the command (after it, a command's own default must not undo
    what was given before it: hence no default there)."""
    default = 0 if top else argparse.SUPPRESS
    parser.add_argument("-v", "--verbose", action="count", default=default,
                        help="more diagnostics on stderr (-vv: also those of bleak and the other libraries)")
    parser.add_argument("-q", "--quiet", action="count", default=default,
                        help="only warnings and errors on stderr, no progress bar (-qq: errors only)")


def build_parser() -> argparse.ArgumentParser:
    from gaitmon.sensors import FAMILIES
    from gaitmon.sim import SCENARIOS

    parser = argparse.ArgumentParser(
        prog="gaitmon",
        description="Real-time gait monitor for sprinters: shank IMUs, step events, strength balance.",
    )
    parser.add_argument("--version", action=_VersionAction, help="show the version and the loaded event core, and exit")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    analyze = commands.add_parser("analyze", help="analyse a recorded session, BIDS export or samples CSV: "
                                  "events, steps, reps, flags and an HTML report")
    analyze.add_argument("input", metavar="INPUT", help="session folder, BIDS motion dataset, or CSV with header "
                         "t_s,side,ax,ay,az,gx,gy,gz (m/s² and rad/s, or g and deg/s: read from the data)")
    analyze.add_argument("--out", required=True, metavar="DIR", help="output folder (created if missing)")
    _add_input_options(analyze)
    # the keys of gaitmon.engine.load.ACC_UNITS and GYRO_UNITS (not imported here: start-up stays light)
    analyze.add_argument("--acc-unit", choices=("m/s2", "g"),
                         help="unit of ax, ay, az in a samples CSV (default: read from the data, and said)")
    analyze.add_argument("--gyro-unit", choices=("rad/s", "deg/s"),
                         help="unit of gx, gy, gz in a samples CSV (default: read from the data, and said)")
    analyze.add_argument("--db", metavar="FILE|URI", help="history database (a file or a postgresql:// URI) whose calibration of the athlete applies "
                         "(default: in the data directory)")
    analyze.add_argument("--no-calibration", action="store_true",
                         help="do not correct contact and flight times by the athlete's saved calibration")
    analyze.set_defaults(run=_analyze)

    replay = commands.add_parser("replay", help="replay a recorded session through the live pipeline")
    replay.add_argument("session", metavar="SESSION", help="session folder (session.json + journal.gmj)")
    replay.add_argument("--speed", metavar="1|N|max",
                        help="pace: 1 = as recorded (the dashboard's default), N = N times faster, "
                             "max = as fast as possible (the default headless, but for --lsl)")
    replay.add_argument("--headless", action="store_true",
                        help="no window (also when there is no display): print a summary and write the outputs")
    replay.add_argument("--out", metavar="DIR", help="output folder (default SESSION/replay)")
    replay.add_argument("--lsl", action="store_true",
                        help="publish the session as Lab Streaming Layer streams at --speed (default 1, real time), "
                             "time stamps on the host clock now (needs gaitmon[lsl]; headless: tables, no report)")
    replay.add_argument("--lsl-wait", type=float, default=30.0, metavar="S",
                        help="with --lsl: wait up to S s for a consumer of each stream (LabRecorder recording, an "
                             "inlet) before replaying (default 30)")
    replay.add_argument("--db", metavar="FILE|URI", help="history database (a file or a postgresql:// URI) whose calibration of the athlete applies "
                        "(default: in the data directory)")
    replay.add_argument("--no-calibration", action="store_true",
                        help="do not correct contact and flight times by the athlete's saved calibration")
    replay.set_defaults(run=_replay)

    export = commands.add_parser("export", help="export a session as a BIDS motion dataset")
    export.add_argument("session", metavar="SESSION", help="session folder, BIDS dataset or samples CSV")
    export.add_argument("--bids", required=True, metavar="DIR", help="BIDS dataset folder (created or added to)")
    _add_input_options(export)
    described = export.add_argument_group(
        "what only you know (BIDS recommends it; the validator warns without it)")
    for option, metavar, text in (
        ("--authors", "'A, B'", "dataset authors, separated by commas (kept by later exports that omit them)"),
        ("--license", "ID", "dataset license, e.g. CC-BY-4.0 or CC0-1.0 (kept likewise)"),
        ("--institution", "NAME", "institution in charge of the sensors"),
        ("--institution-address", "TEXT", "address of that institution"),
        ("--department", "NAME", "department of that institution"),
        ("--task-description", "TEXT", "what the athletes ran, e.g. '4 x 30 m flying'"),
        ("--instructions", "TEXT", "the instructions given to the athletes"),
    ):
        described.add_argument(option, metavar=metavar, default="", help=text)
    export.set_defaults(run=_export)

    importer = commands.add_parser("import", help="add sessions to the athlete history (idempotent)")
    importer.add_argument("sources", nargs="+", metavar="SOURCE", help="session folders, BIDS datasets or CSVs")
    _add_input_options(importer)
    importer.add_argument("--db", metavar="FILE|URI", help=_SHARED_DB_HELP)
    importer.add_argument("--reassign", action="store_true",
                          help="move sessions already in the history under another athlete to --athlete "
                               "(default: refuse)")
    importer.set_defaults(run=_import)

    reanalyze = commands.add_parser(
        "reanalyze", help="re-run the analysis of many recorded sessions in parallel (local processes or a Dask "
        "cluster): the outputs of replay/analyze per session, and the history updated")
    reanalyze.add_argument("sessions", nargs="+", metavar="SESSION",
                           help="session folders (as replay), BIDS datasets or samples CSVs (as analyze)")
    reanalyze.add_argument("--out", required=True, metavar="DIR",
                           help="output folder: one sub-folder per session, named after its folder or file")
    reanalyze.add_argument("--workers", type=int, metavar="N",
                           help="local processes (default: one per CPU; 1: one session after another)")
    reanalyze.add_argument("--scheduler", metavar="ADDRESS",
                           help="run on the Dask cluster of this scheduler (tcp://host:8786); its workers need "
                                "gaitmon and the same paths (needs gaitmon[cluster])")
    reanalyze.add_argument("--dask-local", type=int, metavar="N",
                           help="run on a Dask cluster of N worker processes started on this machine "
                                "(needs gaitmon[cluster])")
    _add_input_options(reanalyze)
    reanalyze.add_argument("--db", metavar="FILE|URI", help=_SHARED_DB_HELP)
    reanalyze.add_argument("--no-history", action="store_true", help="do not add the sessions to the athlete history")
    reanalyze.add_argument("--reassign", action="store_true",
                           help="move sessions already in the history under another athlete (as import)")
    reanalyze.add_argument("--no-calibration", action="store_true",
                           help="do not correct contact and flight times by the athletes' saved calibrations")
    reanalyze.set_defaults(run=_reanalyze)

    history = commands.add_parser("history", help="an athlete's sessions over weeks: swing- vs push-side outputs")
    history.add_argument("athlete", metavar="ATHLETE")
    history.add_argument("--db", metavar="FILE|URI", help=_SHARED_DB_HELP)
    history.add_argument("--html", metavar="FILE", nargs="?", const="",
                         help="write a self-contained HTML page instead (default FILE: ATHLETE-history.html here)")
    history.set_defaults(run=_history)

    simulate = commands.add_parser("simulate", help="write a synthetic sprint session with ground truth")
    simulate.add_argument("--scenario", choices=sorted(SCENARIOS), default="balanced")
    simulate.add_argument("--seed", type=int, default=0)
    simulate.add_argument("--rate", type=float, default=500.0, help="sample rate, Hz (default 500)")
    simulate.add_argument("--reps", type=int, default=6)
    simulate.add_argument("--realistic", action="store_true",
                          help="all realism switches on: noise, bias, random mounting, clipping, asymmetry, drops")
    simulate.add_argument("--out", required=True, metavar="DIR")
    simulate.set_defaults(run=_simulate)

    accuracy = commands.add_parser("accuracy", help="agreement of detected events with simulated truth or labelled data")
    accuracy.add_argument("dataset", nargs="?", metavar="DATASET",
                          help="folder of <name>_imu.csv + <name>_events.csv pairs (t_s,side,event); with a "
                               "recordings.csv, also per recording, speed, strike pattern and subject")
    accuracy.add_argument("--placement", choices=PLACEMENTS,
                          help="placement of the dataset's sensors (default: the one the title of the dataset's "
                               "README.md names, e.g. shank for running_mocap, foot for ipol_foot_walk; else foot)")
    accuracy.add_argument("--tolerance-ms", type=float, metavar="MS",
                          help="event matching tolerance for DATASET, ms (default by placement: ±50 ms for "
                               "shank, e.g. running_mocap; ±100 ms for foot, e.g. ipol_foot_walk); "
                               "the simulated suite always uses ±50 ms")
    accuracy.add_argument("--anatomy", action="store_true",
                          help="with DATASET: instead of the detector's agreement, where the reference TO and "
                               "IC fall relative to features of the sagittal ω (MSW peak, zero crossings, "
                               "post-IC dip, mid-stance hump, steepest late-stance descent, early-swing "
                               "minimum, |a| minimum/rise), per recording and across runners")
    accuracy.add_argument("--omega-axis", choices=("sagittal", "x", "y", "z"), default="sagittal",
                          help="with --anatomy: ω = projection on gaitmon.stream.orientation.sagittal_axis (default) or "
                               "one gyro axis of the sensor (z = the running_mocap frame's flexion axis); either "
                               "way signed swing positive by the reference swings")
    accuracy.add_argument("--simulated", action="store_true",
                          help="synthetic suite: 4 scenarios x seeds x 104/200/500/1000 Hz, all realism switches "
                               "on; pooled, per rate, and recall of running vs walking contacts")
    accuracy.add_argument("--seeds", type=int, default=4,
                          help="simulated athletes per scenario, each with its own event offsets (default 4)")
    accuracy.add_argument("--flags", action="store_true",
                          help="strength-balance flag suite: 4 scenarios x seeds x 200/1000 Hz")
    accuracy.add_argument("--flag-seeds", type=int, default=10, help="seeds per scenario and rate for --flags")
    accuracy.add_argument("--flag-reps", type=int, default=8, help="reps per simulated session for --flags (default 8)")
    accuracy.set_defaults(run=_accuracy)

    validate = commands.add_parser(
        "validate", help="gaitmon against the athlete's own reference system (OptoJump, force plates, a step "
        "table): aligned step by step, bias, limits of agreement, ICC; validation.html")
    validate.add_argument("inputs", nargs="+", metavar="GAITMON_INPUT REFERENCE",
                          help="pairs: a session folder, BIDS export, samples CSV or analyze output folder, then the "
                               "reference: an OptoJump Next export (XML), a force-plate event table (t_s,side,event), "
                               "a vertical-force CSV (time, Fz per side or plate, N) or a step table "
                               "(contact_ms, flight_ms, optional side and time); several pairs are pooled")
    validate.add_argument("--out", default="gaitmon-validation", metavar="DIR",
                          help="output folder: validation.csv, summary.csv, validation.html (default ./gaitmon-validation)")
    _add_input_options(validate)
    validate.add_argument("--tolerance-ms", type=float, metavar="MS",
                          help="largest IC difference for a match, ms (default by placement: 50 shank, 100 foot)")
    validate.add_argument("--offset", type=float, metavar="S",
                          help="the reference's clock is S seconds behind gaitmon's (t_gaitmon = t_ref + S): "
                               "skip the search")
    validate.add_argument("--same-clock", action="store_true",
                          help="both were recorded on one clock (synchronised lab data): no alignment, absolute "
                               "IC/TO errors")
    validate.add_argument("--force-threshold", type=float, default=20.0, metavar="N",
                          help="vertical-force reference: contact above N newtons (default 20)")
    validate.add_argument("--save-calibration", action="store_true",
                          help="store the measured contact/flight-time bias in the athlete's history; later "
                               "analyses of the athlete apply it and say so")
    validate.add_argument("--db", metavar="FILE|URI", help=_SHARED_DB_HELP)
    validate.set_defaults(run=_validate)

    scan = commands.add_parser("scan", help="list nearby supported BLE sensors (family, name, address, RSSI)")
    scan.add_argument("--timeout", type=float, default=5.0, help="seconds to listen (default 5)")
    scan.add_argument("--emulated", choices=sorted(FAMILIES), metavar="FAMILY",
                      help=f"scan emulated sensors of FAMILY instead of the radio ({', '.join(sorted(FAMILIES))})")
    scan.set_defaults(run=_scan)

    live = commands.add_parser("live", help="stream shank sensors live: steps, gaps and health; tables at the end")
    live.add_argument("--left", metavar="ID", help="left-shank sensor: address or advertised name")
    live.add_argument("--right", metavar="ID", help="right-shank sensor: address or advertised name")
    live.add_argument("--athlete", default="", metavar="NAME")
    live.add_argument("--rate", type=float, metavar="HZ", help="sample rate (default: the family's best for gait)")
    live.add_argument("--placement", choices=PLACEMENTS, default="shank")
    live.add_argument("--duration", type=float, metavar="S", help="stop after S seconds (default: until Ctrl-C)")
    live.add_argument("--out", metavar="DIR",
                      help="session folder to record into (default: a new folder under the data directory)")
    live.add_argument("--no-record", action="store_true", help="do not record the raw packets")
    live.add_argument("--db", metavar="FILE|URI", help=_SHARED_DB_HELP)
    live.add_argument("--no-history", action="store_true", help="do not add the session to the athlete history")
    live.add_argument("--emulated", choices=sorted(FAMILIES), metavar="FAMILY",
                      help="emulated sensors of FAMILY streaming a simulated session, instead of the radio")
    live.add_argument("--virtual-clock", action="store_true",
                      help="with --emulated: run as fast as possible on a virtual clock (headless)")
    live.add_argument("--add-athlete", action="append", default=[], metavar="NAME=LEFT,RIGHT",
                      help="another athlete's sensors on this laptop (dashboard; repeatable; switch with A)")
    live.add_argument("--headless", action="store_true",
                      help="no window (also when there is no display): status lines, tables at the end")
    live.add_argument("--lsl", action="store_true",
                      help="publish ω, |a| per leg, the gait events and the strength-balance flags as Lab "
                           "Streaming Layer streams (for LabRecorder; needs gaitmon[lsl])")
    live.set_defaults(run=_live)

    demo = commands.add_parser("demo", help="the dashboard on emulated sensors streaming a simulated sprint session "
                               "(no sensor needed; headless with a PNG when there is no display)")
    demo.add_argument("--scenario", choices=sorted(SCENARIOS), default="swing_plateau")
    demo.add_argument("--seed", type=int, default=1)
    demo.add_argument("--rate", type=float, metavar="HZ", help="sensor rate (default: the DIY board's 1000 Hz)")
    demo.add_argument("--reps", type=int, default=8, help="reps in the simulated session (default 8)")
    demo.add_argument("--athletes", type=int, default=1, metavar="N",
                      help="emulated athletes on the one laptop (default 1; switch with A)")
    demo.add_argument("--headless", action="store_true",
                      help="no window, even with a display: virtual clock, printed summary, dashboard.png")
    demo.add_argument("--out", default="gaitmon-demo", metavar="DIR",
                      help="folder for the recordings and dashboard.png (default ./gaitmon-demo)")
    demo.add_argument("--lsl", action="store_true",
                      help="publish the athletes' ω, |a|, gait events and flags as Lab Streaming Layer streams "
                           "(needs gaitmon[lsl] and a display)")
    demo.set_defaults(run=_demo)
    for command_parser in (parser, *commands.choices.values()):
        _add_verbosity_options(command_parser, top=command_parser is parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(getattr(args, "verbose", 0) - getattr(args, "quiet", 0))
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return args.run(args)
    except InputError as error:
        log.error(str(error))
        return EXIT_BAD_INPUT
    except OSError as error:
        where = f"{error.filename}: " if error.filename else ""
        log.error(f"{where}{error.strerror or error}")
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        log.error("interrupted")
        return 130
