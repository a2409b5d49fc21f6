"""Soak: a long two-sensor 1 kHz emulated live session on a virtual clock — RSS growth per hour, contacts.

Data (synthetic): a ``gaitmon.sim`` sprint session (scenario ``swing_plateau``, realistic switches on,
1000 Hz, reps with ``--recovery`` s of walking between them until ``--hours`` are filled), streamed
by two emulated gaitmon DIY boards through bleak's ``backend=`` hook into the real
:class:`~gaitmon.engine.runtime.Engine`, headless and recording into a temporary session folder —
what ``gaitmon live --headless --emulated gaitmon_diy --virtual-clock`` runs — as fast as the CPU
allows. At the end the tables and report are built from the journal, as after every recording.

Figures:

- RSS of the process every simulated minute; growth in MB per hour of session (least-squares slope
  after the first 10 % of the session, the start-up); the peak while the end-of-session outputs are
  built;
- baseline, measured in the same run (a child process, ``--baseline-minutes`` of the same session):
  the growth when every decoded sample block and projected trace is kept in RAM, as gaitmon did
  before the outputs were built from the journal; and the ratio of the two;
- contacts (IC events) of the live session against the simulation's truth, and the steps written
  from the journal.

The simulated session is made before the engine starts (its samples stay in RAM, about 0.2 GB per
hour: not part of the growth). Run: ``python benchmarks/bench_soak.py [--hours 0.5]``; ``--hours 8``
for the full figure (about 2 GB for the simulation, tens of minutes).
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from gaitmon.core import BACKEND
from gaitmon.engine.runtime import EmulatedSource, Engine
from gaitmon.sources.virtual import emulated_pair

RATE_HZ = 1000.0
CYCLE_S = 14.0  # one rep with its walk-back, besides the recovery (as the simulator lays them out)
NAME = "soak"


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status (Linux only)")


class _KeepAll:
    """What gaitmon kept in RAM before: every decoded block and every projected trace."""

    def __init__(self) -> None:
        self.blocks: list = []
        self.traces: list = []

    def blocks_in(self, role, blocks) -> None:
        self.blocks.extend(blocks)

    def projection(self, role, t, omega, acc) -> None:
        self.traces.append((t, omega))


def run(hours: float, recovery_s: float, keep_all: bool, seed: int = 1) -> dict:
    """One emulated session of about ``hours``; RSS samples, contacts and the end's peak."""
    n_reps = max(1, round(hours * 3600 / (CYCLE_S + recovery_s)))
    started = time.perf_counter()
    pair = emulated_pair("gaitmon_diy", "swing_plateau", seed=seed, rate_hz=RATE_HZ, n_reps=n_reps,
                         recovery_s=recovery_s)
    truth_ic = sum(1 for e in pair.session.events if e.kind == "IC")
    sim_s = time.perf_counter() - started
    samples: list[tuple[float, float]] = []
    kept = _KeepAll()
    engine: Engine

    def tick(session_s: float) -> None:
        if keep_all and not samples:
            live = engine.live(NAME)
            live.block_listener, live.projection_listener = kept.blocks_in, kept.projection
        if not samples or session_s - samples[-1][0] >= 60.0:
            samples.append((session_s, rss_mb()))

    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine({NAME: EmulatedSource(prepared=pair, realtime=False)}, sessions_dir=Path(tmp),
                        history_db=False, dashboard=False, on_tick=tick, on_message=lambda line: None,
                        on_error=lambda line: print(f"  engine: {line}", file=sys.stderr))
        started = time.perf_counter()
        engine.run_to_end()
        wall_s = time.perf_counter() - started
        with open("/proc/self/status") as status:
            peak = next(int(line.split()[1]) / 1024 for line in status if line.startswith("VmHWM:"))
        contacts = sum(1 for e in engine.live(NAME).events if e.kind == "IC")
        folder = engine.recorder(NAME).folder
        steps_csv = folder / "steps.csv"
        written = sum(1 for _ in csv.DictReader(steps_csv.open())) if steps_csv.exists() else -1
    t = np.array([s for s, _ in samples]) / 3600.0
    rss = np.array([r for _, r in samples])
    use = t >= 0.1 * t[-1]
    slope = float(np.polyfit(t[use], rss[use], 1)[0]) if use.sum() >= 2 else float("nan")
    return {"hours": float(t[-1]), "growth_mb_h": slope, "rss_start": float(rss[use][0]), "rss_end": float(rss[-1]),
            "peak": peak, "contacts": contacts, "truth_ic": truth_ic, "steps_written": written,
            "wall_s": wall_s, "sim_s": sim_s, "trace": [[float(a), float(b)] for a, b in zip(t, rss)]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hours", type=float, default=0.5, help="session length, h (default 0.5; 8 for the full figure)")
    parser.add_argument("--recovery", type=float, default=30.0, help="walking recovery between reps, s (default 30)")
    parser.add_argument("--baseline-minutes", type=float, default=10.0,
                        help="length of the keep-everything baseline session, min (default 10; 0: none)")
    parser.add_argument("--child", choices=["baseline"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run(args.baseline_minutes / 60, args.recovery, keep_all=True)))
        return

    print(f"event core: {BACKEND}; {args.hours:g} h two-sensor {RATE_HZ:g} Hz emulated session (DIY), virtual clock")
    baseline = None
    if args.baseline_minutes > 0:
        child = subprocess.run([sys.executable, __file__, "--child", "baseline", "--recovery", str(args.recovery),
                                "--baseline-minutes", str(args.baseline_minutes)],
                               capture_output=True, text=True, check=True)
        baseline = json.loads(child.stdout.strip().splitlines()[-1])
    soak = run(args.hours, args.recovery, keep_all=False)
    for hours, rss in soak["trace"][:: max(1, len(soak["trace"]) // 8)] + [soak["trace"][-1]]:
        print(f"  t = {hours:5.2f} h   RSS {rss:7.1f} MB")
    print(f"session: {soak['hours']:.2f} h in {soak['wall_s']:.0f} s ({soak['hours'] * 3600 / soak['wall_s']:.0f}x real "
          f"time; simulation made in {soak['sim_s']:.0f} s)")
    print(f"RSS growth: {soak['growth_mb_h']:.1f} MB/h (from {soak['rss_start']:.0f} to {soak['rss_end']:.0f} MB); "
          f"peak including the end-of-session outputs: {soak['peak']:.0f} MB")
    if baseline is not None:
        print(f"baseline, every block kept in RAM ({baseline['hours'] * 60:.0f} min): "
              f"{baseline['growth_mb_h']:.0f} MB/h; growth now / baseline = "
              f"{soak['growth_mb_h'] / baseline['growth_mb_h']:.3f}")
    print(f"contacts: {soak['contacts']} IC detected live, {soak['truth_ic']} in the simulation's truth "
          f"({soak['contacts'] - soak['truth_ic']:+d}); {soak['steps_written']} steps written from the journal")


if __name__ == "__main__":
    main()
