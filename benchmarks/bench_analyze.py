"""``gaitmon analyze`` of a long two-leg 1 kHz samples CSV: the phases, the total, and the CSV parsers.

Data (synthetic): a ``gaitmon.sim`` sprint session (scenario ``swing_plateau``, realistic switches
on, 1000 Hz, reps with 10 s recovery until ``--minutes`` are filled; 60 min ≈ 500 MB), written with
:func:`gaitmon.io.write_imu_csv` into a temporary folder (deleted at the end), or ``--csv FILE``.

Figures (medians over ``--repeat`` runs, wall and CPU seconds; the machine is noisy, trust ratios):

- the phases of ``gaitmon analyze`` in-process, as :mod:`gaitmon.engine.load` and
  :mod:`gaitmon.engine.analyze` run them: **parse** (:func:`gaitmon.io.read_imu_csv_recovering`,
  the file's content hash computed beside it in a thread), **units** (told from the data:
  :func:`gaitmon.engine.load.in_si_units`), **detect** (:func:`gaitmon.stream.pipeline.detect_events`, with the traces), **analysis**
  (steps, reps, flags), **checks** (units check, waiting for the content hash),
  **report** (tables + ``report.html``), and their sum;
- **end to end**: ``python -m gaitmon analyze CSV --out DIR --no-calibration`` in a fresh
  interpreter (start-up and imports included) — the figure of issue #17 (target ≤ 5 s for 1 h);
- **baselines** on the same file: reading its bytes, and ``numpy.loadtxt`` parsing it whole
  (structured dtype, the C tokenizer); the total is printed as a ratio to each;
- ``--parsers``: pyarrow's CSV reader (``pyarrow.csv.read_csv`` to numpy arrays, 1 and 2 threads)
  when it is importable, beside the current reader, to judge whether it would earn its dependency.

Run: ``python benchmarks/bench_analyze.py [--minutes 60] [--repeat 1] [--parsers] [--csv FILE]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from gaitmon.analysis import strength_balance
from gaitmon.analysis.result import AnalysisResult
from gaitmon.analysis.steps import build_steps
from gaitmon.core import BACKEND
from gaitmon.engine.analyze import result_problem, write_session_outputs
from gaitmon.engine.load import csv_meta, hashing_beside, in_si_units
from gaitmon.io import IMU_COLUMNS, read_imu_csv_recovering, write_imu_csv
from gaitmon.stream.pipeline import detect_events

RATE_HZ = 1000.0
ROOT = Path(__file__).resolve().parents[1]


def write_csv(path: Path, minutes: float, seed: int = 0) -> float:
    """Simulate and write the session; returns its length (s)."""
    from gaitmon.sim import SimConfig, simulate_session

    cycle_s = 24.0  # one rep + walk back + 10 s recovery, as the simulator lays them out
    config = SimConfig.realistic(RATE_HZ, n_reps=max(1, round(minutes * 60 / cycle_s)), recovery_s=10.0)
    session = simulate_session("swing_plateau", seed=seed, config=config)
    write_imu_csv(path, session.samples)
    return max(float(t[-1]) for t, _ in session.samples.values())


class Clock:
    """Wall and CPU seconds of each named phase, over repeats."""

    def __init__(self):
        self.wall: dict[str, list[float]] = {}
        self.cpu: dict[str, list[float]] = {}

    def time(self, name: str, fn, *args, **kwargs):
        w, c = time.perf_counter(), time.process_time()
        out = fn(*args, **kwargs)
        self.add(name, time.perf_counter() - w, time.process_time() - c)
        return out

    def add(self, name: str, wall: float, cpu: float) -> None:
        self.wall.setdefault(name, []).append(wall)
        self.cpu.setdefault(name, []).append(cpu)

    def median(self, name: str) -> tuple[float, float]:
        return statistics.median(self.wall[name]), statistics.median(self.cpu[name])

    def line(self, name: str, note: str = "") -> str:
        wall, cpu = self.median(name)
        return f"  {name:<28s} {wall:7.2f} s wall {cpu:7.2f} s CPU  {note}"


def in_process(csv: Path, out: Path, clock: Clock) -> AnalysisResult:
    """The phases of ``gaitmon analyze CSV`` (as engine.load._load_csv, then cli._analyze)."""
    digest, (samples, _) = clock.time("parse", lambda: (hashing_beside(csv), read_imu_csv_recovering(csv)))
    samples, _, statistics = clock.time("units (told from the data)", in_si_units, csv, samples)
    traces: dict = {}
    events = clock.time("detect", detect_events, samples, placement="shank", traces=traces)

    def analysis():
        steps = build_steps(events, sides=samples.keys())
        return AnalysisResult(csv, "shank", sorted(samples), events, steps, strength_balance(steps), traces=traces)

    result = clock.time("analysis (steps, reps, flags)", analysis)
    meta = clock.time("checks (units, content hash)",
                      lambda: (result_problem(result, samples, statistics),
                               csv_meta(csv, "", "shank", samples, digest()))[1])
    clock.time("report (tables + html)", write_session_outputs, out, result, None, samples, meta)
    return result


def end_to_end(csv: Path, out: Path, clock: Clock) -> None:
    """``python -m gaitmon analyze`` in a fresh interpreter, this checkout first on the path."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    before = os.times()
    wall = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "gaitmon", "analyze", str(csv), "--out", str(out),
                           "--no-calibration"], capture_output=True, text=True, env=env)
    wall = time.perf_counter() - wall
    after = os.times()
    if done.returncode != 0:
        raise SystemExit(f"gaitmon analyze failed ({done.returncode}): {done.stderr.strip()}")
    clock.add("gaitmon analyze (end to end)", wall,
              (after.children_user - before.children_user) + (after.children_system - before.children_system))


def read_bytes(csv: Path) -> int:
    with open(csv, "rb") as f:
        return len(f.read())


def loadtxt_whole(csv: Path) -> int:
    """numpy.loadtxt of the whole file: t and the six values as float64, the side as bytes."""
    kinds = [("t", "f8"), ("side", "S6")] + [(name, "f8") for name in IMU_COLUMNS[2:]]
    with open(csv, "rb") as f:
        return len(np.loadtxt(f, delimiter=",", dtype=np.dtype(kinds), skiprows=1, comments=None, quotechar=None))


def pyarrow_reader(threads: bool):
    """pyarrow.csv.read_csv into the arrays the reader returns (t float64, side, x float32 (n, 6))."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    def read(csv: Path) -> int:
        types = {"t_s": pa.float64(), "side": pa.dictionary(pa.int32(), pa.binary()),
                 **{name: pa.float64() for name in IMU_COLUMNS[2:]}}
        table = pcsv.read_csv(csv, read_options=pcsv.ReadOptions(use_threads=threads),
                              parse_options=pcsv.ParseOptions(quote_char=False),
                              convert_options=pcsv.ConvertOptions(column_types=types, null_values=[],
                                                                  strings_can_be_null=False))
        t = table.column("t_s").to_numpy()
        right = table.column("side").combine_chunks().indices.to_numpy()
        x = np.empty((len(t), 6), dtype=np.float32)
        for k, name in enumerate(IMU_COLUMNS[2:]):
            x[:, k] = table.column(name).to_numpy()
        return len(t) if len(right) == len(t) else -1

    return read


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=60.0, help="session length (default 60)")
    parser.add_argument("--repeat", type=int, default=1, help="runs to take the median of (default 1)")
    parser.add_argument("--csv", type=Path, help="use this samples CSV instead of simulating one")
    parser.add_argument("--parsers", action="store_true", help="also time pyarrow's CSV reader, if installed")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        csv = args.csv
        if csv is None:
            csv = Path(tmp) / "session.csv"
            started = time.perf_counter()
            duration = write_csv(csv, args.minutes)
            print(f"simulated and wrote {duration / 60:.1f} min two-leg {RATE_HZ:g} Hz in "
                  f"{time.perf_counter() - started:.0f} s")
        size = csv.stat().st_size
        print(f"event core: {BACKEND}; {csv.name}: {size / 1e6:.0f} MB")
        clock = Clock()
        for run in range(args.repeat):
            clock.time("read bytes (baseline)", read_bytes, csv)
            clock.time("numpy.loadtxt (baseline)", loadtxt_whole, csv)
            if args.parsers:
                try:
                    for threads in (False, True):
                        clock.time(f"pyarrow read_csv {2 if threads else 1} thr.", pyarrow_reader(threads), csv)
                except ImportError:
                    print("pyarrow is not installed: not compared")
                    args.parsers = False
            result = in_process(csv, Path(tmp) / f"out{run}", clock)
            end_to_end(csv, Path(tmp) / f"cli{run}", clock)

        phases = ["parse", "units (told from the data)", "detect", "analysis (steps, reps, flags)",
                  "checks (units, content hash)", "report (tables + html)"]
        for name in ("sum of the phases",):
            clock.wall[name] = [sum(clock.wall[p][i] for p in phases) for i in range(args.repeat)]
            clock.cpu[name] = [sum(clock.cpu[p][i] for p in phases) for i in range(args.repeat)]
        total, total_cpu = clock.median("gaitmon analyze (end to end)")
        print(f"{len(result.events)} events, {len(result.steps)} steps, {len(result.balance.reps)} reps; "
              f"median of {args.repeat} run(s)")
        print("phases of gaitmon analyze, in-process:")
        for name in phases + ["sum of the phases"]:
            print(clock.line(name))
        print("end to end (fresh interpreter, imports included):")
        print(clock.line("gaitmon analyze (end to end)", f"{size / 1e6 / total:.0f} MB/s"))
        print("baselines on the same file:")
        parse_wall, parse_cpu = clock.median("parse")
        for name in ("read bytes (baseline)", "numpy.loadtxt (baseline)"):
            wall, cpu = clock.median(name)
            print(clock.line(name, f"end to end = {total / wall:.1f}x this; parse = {parse_wall / wall:.2f}x"))
        if args.parsers:
            print("CSV parsers (whole file to arrays, no checks):")
            for name in ("pyarrow read_csv 1 thr.", "pyarrow read_csv 2 thr."):
                wall, cpu = clock.median(name)
                print(clock.line(name, f"gaitmon's parse = {parse_wall / wall:.2f}x wall, "
                                       f"{parse_cpu / cpu:.2f}x CPU of this"))


if __name__ == "__main__":
    main()
