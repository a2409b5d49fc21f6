"""``gaitmon history ATHLETE`` of a season: how long the command takes for one athlete's sessions.

Data (synthetic): ``--distinct`` simulated sprint sessions (scenario ``balanced``, realistic switches
on, 500 Hz, ``--reps`` reps each; their step tables from :func:`gaitmon.engine.analyze.analyze_samples`)
imported again and again under new session ids, one a day, until ``--sessions`` sessions (default
200, the issue's season of one athlete) are in a fresh SQLite history in a temporary folder (or the
empty PostgreSQL database ``--db URI``).

Figures (median of ``--repeat`` runs, wall and CPU): :func:`gaitmon.session.history.history_text`
in-process, and ``python -m gaitmon history`` end to end in a fresh interpreter (CPU: its process's);
baseline measured in the same run: reading every stored step of the athlete's sessions
(``History.steps``), which the command did before it read the results stored at import.

Run: ``python benchmarks/bench_history.py [--sessions 200] [--reps 20] [--repeat 3] [--db URI]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from gaitmon.engine.analyze import analyze_samples
from gaitmon.session.history import History, history_text
from gaitmon.session.meta import SessionMeta
from gaitmon.sim import SimConfig, simulate_session

ATHLETE = "Season Athlete"
ROOT = Path(__file__).resolve().parents[1]


def fill(db: Path, n_sessions: int, n_distinct: int, n_reps: int) -> int:
    """Import the season; returns the steps per session (mean)."""
    tables = []
    for seed in range(n_distinct):
        session = simulate_session("balanced", seed=seed,
                                   config=SimConfig.realistic(500.0, n_reps=n_reps, recovery_s=10.0))
        tables.append(analyze_samples(session.samples).steps)
    first = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.timezone.utc)
    with History(db) as history:
        for k in range(n_sessions):
            meta = SessionMeta(athlete=ATHLETE, session_id=f"season{k:04d}",
                               started_at=(first + dt.timedelta(days=k)).isoformat())
            history.add_session(meta, tables[k % n_distinct])
    return round(statistics.mean(len(t) for t in tables))


def timed(fn, repeat: int) -> tuple[float, float]:
    """Median wall and CPU seconds of ``fn()``: this process's CPU plus that of the children it waited for."""
    wall, cpu = [], []
    for _ in range(repeat):
        w, c = time.perf_counter(), _cpu()
        fn()
        wall.append(time.perf_counter() - w)
        cpu.append(_cpu() - c)
    return statistics.median(wall), statistics.median(cpu)


def _cpu() -> float:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=200, help="sessions of the athlete (default 200)")
    parser.add_argument("--distinct", type=int, default=4, help="distinct simulated sessions (default 4)")
    parser.add_argument("--reps", type=int, default=20, help="reps per session (default 20)")
    parser.add_argument("--repeat", type=int, default=3, help="runs to take the median of (default 3)")
    parser.add_argument("--db", metavar="URI", help="an empty PostgreSQL database (postgresql://...) instead of a "
                                                    "SQLite file in a temporary folder")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or Path(tmp) / "history.sqlite"
        started = time.perf_counter()
        steps = fill(db, args.sessions, args.distinct, args.reps)
        size = "" if args.db else f"; {db.stat().st_size / 1e6:.0f} MB"
        print(f"{args.sessions} sessions of {ATHLETE} (about {steps} steps and {args.reps} reps each) imported "
              f"in {time.perf_counter() - started:.0f} s into {db}{size}")
        with History(db) as history:
            ids = [r.session_id for r in history.sessions(ATHLETE)]
            base = timed(lambda: [history.steps(i) for i in ids], args.repeat)
            text = timed(lambda: history_text(history, ATHLETE), args.repeat)
        env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        command = timed(lambda: subprocess.run([sys.executable, "-m", "gaitmon", "history", ATHLETE, "--db", str(db)],
                                               check=True, capture_output=True, env=env), args.repeat)
        print(f"median of {args.repeat}: wall s, CPU s (the command's: its process, user + system)")
        print(f"  every stored step, read back (baseline)  {base[0]:6.2f}  {base[1]:6.2f}")
        print(f"  history_text (in-process)                {text[0]:6.2f}  {text[1]:6.2f}  "
              f"{text[0] / base[0]:.2f}x the baseline")
        print(f"  gaitmon history (end to end)             {command[0]:6.2f}  {command[1]:6.2f}")


if __name__ == "__main__":
    main()
