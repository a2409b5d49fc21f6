"""The dashboard's live analysis over a long session: does a run cost the same late as early?

Data (synthetic): a ``gaitmon.sim`` sprint session (scenario ``swing_plateau``, realistic switches
on, ``--rate`` Hz, reps with ``--recovery`` s of rest until ``--minutes`` are filled), its events
detected by :func:`gaitmon.stream.pipeline.detect_events` (the events the live pipeline gives).

The model's analysis task is replayed on that event stream as the dashboard runs it: every 0.5 s of
session time, the events that arrived since are given to :class:`gaitmon.engine.model.LiveAnalysis`
(``add``) and the analysis at that time is taken (``at``). Figures per 10-minute window of the
session: median, p95 and max of one run, ms (wall; CPU beside it for the whole replay). Baseline,
measured in the same run: :func:`gaitmon.engine.model.analyse` (the whole analysis from all events so
far, what the dashboard did before issue #17) at the end of each window, and the ratio of the two.

Run: ``python benchmarks/bench_live_analysis.py [--minutes 60] [--rate 500]``
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from gaitmon.engine.model import LiveAnalysis, analyse
from gaitmon.sim import SimConfig, simulate_session
from gaitmon.stream.pipeline import detect_events

WINDOW_S = 600.0
INTERVAL_S = 0.5


def session_events(minutes: float, rate_hz: float, recovery_s: float, seed: int = 0):
    cycle_s = 14.0 + recovery_s  # one rep + walk back, as the simulator lays them out
    config = SimConfig.realistic(rate_hz, n_reps=max(1, round(minutes * 60 / cycle_s)), recovery_s=recovery_s)
    session = simulate_session("swing_plateau", seed=seed, config=config)
    events = sorted(detect_events(session.samples, placement="shank"), key=lambda e: e.t)
    return sorted(session.samples), events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=60.0, help="session length (default 60)")
    parser.add_argument("--rate", type=float, default=500.0, help="sample rate, Hz (default 500)")
    parser.add_argument("--recovery", type=float, default=10.0, help="rest between reps, s (default 10)")
    args = parser.parse_args()

    started = time.perf_counter()
    sides, events = session_events(args.minutes, args.rate, args.recovery)
    t = np.array([e.t for e in events])
    print(f"simulated {t[-1] / 60:.1f} min, {len(events)} events in {time.perf_counter() - started:.0f} s")

    live = LiveAnalysis(sides)
    fed, runs = 0, []
    cpu = time.process_time()
    for now in np.arange(INTERVAL_S, t[-1] + INTERVAL_S, INTERVAL_S):
        upto = int(np.searchsorted(t, now, side="right"))
        w = time.perf_counter()
        if upto > fed:
            live.add(events[fed:upto])
            fed = upto
        result = live.at(float(now))
        runs.append((float(now), time.perf_counter() - w))
    cpu = time.process_time() - cpu
    runs = np.array(runs)
    print(f"{len(runs)} runs (one per {INTERVAL_S} s), {len(result.strength.reps)} reps, "
          f"{len(result.strength.flags)} flags; CPU of the whole replay {cpu:.2f} s")
    print(f"{'window':>12} {'median ms':>10} {'p95 ms':>8} {'max ms':>8}   {'batch analyse() ms':>18} {'ratio':>6}")
    for start in np.arange(0.0, runs[-1, 0], WINDOW_S):
        sel = (runs[:, 0] > start) & (runs[:, 0] <= start + WINDOW_S)
        if not sel.any():
            continue
        ms = runs[sel, 1] * 1e3
        end = float(runs[sel, 0][-1])
        upto = int(np.searchsorted(t, end, side="right"))
        w = time.perf_counter()
        analyse(events[:upto], sides, end)
        batch = (time.perf_counter() - w) * 1e3
        print(f"{start / 60:5.0f}-{(start + WINDOW_S) / 60:3.0f} min {np.median(ms):10.3f} "
              f"{np.percentile(ms, 95):8.2f} {ms.max():8.2f}   {batch:18.1f} {batch / np.median(ms):6.0f}x")


if __name__ == "__main__":
    main()
