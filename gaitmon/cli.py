"""The ``gaitmon`` command line.

Every subcommand turns bad input into one line on stderr naming the file and where it broke, and
exit status 2 — never a traceback.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from gaitmon._version import __version__
from gaitmon.consts import PLACEMENTS
from gaitmon.errors import InputError

EXIT_BAD_INPUT = 2


def _version_text() -> str:
    from gaitmon.core import BACKEND

    return f"gaitmon {__version__} (event core: {BACKEND})"


def _analyze(args: argparse.Namespace) -> int:
    from gaitmon.analyze import analyze_file

    started = time.perf_counter()
    result = analyze_file(Path(args.input), Path(args.out), placement=args.placement)
    print(result.summary())
    print(f"wrote {', '.join(str(p) for p in result.written)} in {time.perf_counter() - started:.1f} s")
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
    from gaitmon.accuracy import dataset_accuracy, simulated_accuracy

    from gaitmon.accuracy import flag_suite

    if args.dataset is None and not (args.simulated or args.flags):
        raise InputError("gaitmon accuracy", None, "give a DATASET folder, --simulated, --flags, or several")
    reports = []
    if args.simulated:
        reports.append(lambda: simulated_accuracy(seeds=range(args.seeds)).text())
    if args.dataset is not None:
        reports.append(lambda: dataset_accuracy(Path(args.dataset), placement=args.placement).text())
    if args.flags:
        reports.append(lambda: flag_suite(seeds=range(args.flag_seeds), n_reps=args.flag_reps).text())
    print("\n\n".join(report() for report in reports))
    return 0


def _trend(args: argparse.Namespace) -> int:
    from gaitmon.analysis import FLAG_COLUMNS, segment_reps, session_scale_flags
    from gaitmon.io import read_table_csv, write_table_csv
    from gaitmon.steps import STEP_COLUMNS

    sessions = []
    for folder in map(Path, args.sessions):
        path = folder / "steps.csv" if folder.is_dir() else folder
        rows = read_table_csv(path)
        missing = [c for c in STEP_COLUMNS if rows and c not in rows[0]]
        if missing:
            raise InputError(path, None, f"not a gaitmon steps table: missing column(s) {', '.join(missing)}")
        reps = segment_reps(rows)
        print(f"{folder}: {len(rows)} steps, {len(reps)} reps")
        sessions.append((str(folder), reps))
    flags = session_scale_flags(sessions)
    for flag in flags:
        print(f"{'FLAG' if flag.alarm else 'note'} [sessions, after {flag.session}] {flag.message}")
    if not flags:
        print(f"no session-scale flag (needs at least 4 sessions with reps; got "
              f"{sum(1 for _, reps in sessions if reps)})")
    if args.out:
        write_table_csv(Path(args.out), [{**f.row(), "rep": f.session} for f in flags], list(FLAG_COLUMNS))
    return 0


def _demo(args: argparse.Namespace) -> int:
    from gaitmon.demo import run_demo

    return run_demo(Path(args.out), scenario=args.scenario, seed=args.seed, rate_hz=args.rate)


def _scan(args) -> int:
    from gaitmon.acquisition import run_scan

    return run_scan(args.timeout, emulated=args.emulated)


def _live(args) -> int:
    from gaitmon.acquisition import run_live

    sensors = {role: ident for role, ident in (("left", args.left), ("right", args.right)) if ident}
    if not sensors:
        raise SystemExit("gaitmon live: give --left and/or --right (address or name from `gaitmon scan`)")
    return run_live(sensors, Path(args.out), rate_hz=args.rate, athlete=args.athlete, placement=args.placement,
                    duration_s=args.duration, emulated=args.emulated, virtual_clock=args.virtual_clock)


def build_parser() -> argparse.ArgumentParser:
    from gaitmon.sim import SCENARIOS

    parser = argparse.ArgumentParser(
        prog="gaitmon",
        description="Real-time gait monitor for sprinters: shank IMUs, step events, strength balance.",
    )
    parser.add_argument("--version", action="version", version=_version_text())
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    analyze = commands.add_parser("analyze", help="detect steps in a recorded CSV and write events.csv, steps.csv")
    analyze.add_argument("input", metavar="INPUT", help="CSV with header t_s,side,ax,ay,az,gx,gy,gz (SI units)")
    analyze.add_argument("--out", required=True, metavar="DIR", help="output folder (created if missing)")
    analyze.add_argument("--placement", choices=PLACEMENTS, default="shank",
                         help="where the sensors were worn (default: shank)")
    analyze.set_defaults(run=_analyze)

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
                          help="folder of <name>_imu.csv + <name>_events.csv pairs (t_s,side,event)")
    accuracy.add_argument("--placement", choices=PLACEMENTS, default="foot",
                          help="placement of the dataset's sensors (default: foot)")
    accuracy.add_argument("--simulated", action="store_true",
                          help="synthetic suite: 4 scenarios x seeds x 200/500/1000 Hz, all realism switches on")
    accuracy.add_argument("--seeds", type=int, default=2, help="seeds per scenario and rate (default 2)")
    accuracy.add_argument("--flags", action="store_true",
                          help="strength-balance flag suite: 4 scenarios x seeds x 200/1000 Hz")
    accuracy.add_argument("--flag-seeds", type=int, default=10, help="seeds per scenario and rate for --flags")
    accuracy.add_argument("--flag-reps", type=int, default=8, help="reps per simulated session for --flags (default 8)")
    accuracy.set_defaults(run=_accuracy)

    trend = commands.add_parser("trend", help="strength-balance flags across an athlete's sessions (oldest first)")
    trend.add_argument("sessions", nargs="+", metavar="SESSION",
                       help="gaitmon analyze output folders (or their steps.csv), oldest first")
    trend.add_argument("--out", metavar="FILE", help="also write the flags as CSV (rep column = session)")
    trend.set_defaults(run=_trend)

    from gaitmon.sources.families import FAMILIES

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
    live.add_argument("--out", default="gaitmon-live", metavar="DIR", help="output folder (default ./gaitmon-live)")
    live.add_argument("--emulated", choices=sorted(FAMILIES), metavar="FAMILY",
                      help="emulated sensors of FAMILY streaming a simulated session, instead of the radio")
    live.add_argument("--virtual-clock", action="store_true",
                      help="with --emulated: run as fast as possible on a virtual clock")
    live.set_defaults(run=_live)

    demo = commands.add_parser("demo", help="stream a simulated sprint session through the live core (no sensor needed)")
    demo.add_argument("--scenario", choices=sorted(SCENARIOS), default="swing_plateau")
    demo.add_argument("--seed", type=int, default=1)
    demo.add_argument("--rate", type=float, default=500.0)
    demo.add_argument("--out", default="gaitmon-demo", metavar="DIR", help="output folder (default ./gaitmon-demo)")
    demo.set_defaults(run=_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return args.run(args)
    except InputError as error:
        print(f"gaitmon: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as error:
        where = f"{error.filename}: " if error.filename else ""
        print(f"gaitmon: error: {where}{error.strerror or error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("gaitmon: interrupted", file=sys.stderr)
        return 130
