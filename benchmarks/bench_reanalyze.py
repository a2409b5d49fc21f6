"""``gaitmon reanalyze`` throughput: sessions per second with 1 worker and with N.

Data (synthetic): one session recorded by the real recorder from two emulated DIY sensors (1 kHz,
scenario ``swing_plateau``, ``--reps`` sprint reps with 20 s recoveries, the simulator's realism
switches on; virtual clock), then ``--sessions`` copies of it under new session ids (the journal
hard-linked: the same bytes, read by every task). Each run re-analyses them all into a fresh output
folder and a fresh history (:func:`gaitmon.engine.reanalyze.reanalyze`: replay, outputs, report,
history import in the parent).

Figures (medians of ``--repeat`` runs): wall time (the pool's start included), sessions/s, and the
CPU time of the tasks in their workers (plus the parent's own); the setups' runs alternate, and the
load average is printed: on a shared machine, other people's work takes cores too. Baseline measured in the same run:
1 worker, the sessions one after another in this process. Then ``--workers`` local processes and,
with ``--dask`` and Dask distributed installed, a local Dask cluster of as many single-threaded
worker processes (its start-up included, and said). Local processes are forked from a server
started once per benchmark (the first run pays for it, about 1.5 s: the median leaves it out).

Run: ``python benchmarks/bench_reanalyze.py [--sessions 12] [--reps 10] [--workers N] [--repeat 3] [--dask]``
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from gaitmon.engine.acquisition import run_live
from gaitmon.engine.reanalyze import executor, plan, reanalyze
from gaitmon.session.folder import read_meta, write_meta
from gaitmon.session.history import History
from gaitmon.sources.virtual import emulated_pair


def record_sessions(base: Path, n_sessions: int, n_reps: int) -> tuple[list[Path], float]:
    """``n_sessions`` session folders of one recording; returns them and the recording's length, s."""
    first = base / "recorded"
    pair = emulated_pair("gaitmon_diy", "swing_plateau", seed=1, n_reps=n_reps, recovery_s=20.0)
    assert run_live({"left": "L", "right": "R"}, first, athlete="Bench", emulated=pair, virtual_clock=True,
                    add_to_history=False, print_fn=lambda line: None) == 0
    meta = read_meta(first)
    folders = []
    for k in range(n_sessions):
        folder = base / f"session{k:03d}"
        folder.mkdir()
        os.link(first / "journal.gmj", folder / "journal.gmj")
        write_meta(folder, dataclasses.replace(meta, session_id=uuid.UUID(int=k + 1).hex))
        folders.append(folder)
    return folders, meta.duration_s or 0.0


def run(folders: list[Path], base: Path, workers: int, dask: bool) -> tuple[float, float, float]:
    """One re-analysis of every folder; (wall s, CPU s of the tasks and this process, s of the wall
    until the executor was ready: a Dask cluster's start; local processes start with their first task)."""
    out = Path(tempfile.mkdtemp(dir=base, prefix="out-"))
    tasks = plan(folders, out / "sessions")
    wall, cpu = time.perf_counter(), time.process_time()
    with History(out / "history.sqlite") as history, \
            executor(1 if dask else workers, dask_local=workers if dask else None) as pool:
        ready = time.perf_counter() - wall
        outcomes = list(reanalyze(tasks, pool, history))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    failed = [o.error for o in outcomes if o.failed]
    assert not failed, failed
    shutil.rmtree(out)
    return wall, cpu + (0.0 if workers == 1 and not dask else sum(o.cpu_s for o in outcomes)), ready


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=12)
    parser.add_argument("--reps", type=int, default=10, help="sprint reps per recorded session (default 10)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dask", action="store_true", help="also on a local Dask cluster of --workers processes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gaitmon-bench-reanalyze-") as tmp:
        base = Path(tmp)
        os.environ["GAITMON_HOME"] = str(base / "home")  # nothing reaches the user's data directory
        folders, duration = record_sessions(base, args.sessions, args.reps)
        print(f"{args.sessions} sessions of {duration:.0f} s (2 sensors, 1 kHz); {os.cpu_count()} CPUs; "
              f"medians of {args.repeat} runs, the setups alternating")
        setups = [("1 worker (serial, the baseline)", 1, False), (f"{args.workers} local processes", args.workers, False)]
        try:
            import distributed  # noqa: F401
        except ImportError:
            if args.dask:
                print("--dask: Dask distributed is not installed (pip install 'gaitmon[cluster]')")
        else:
            if args.dask:
                setups.append((f"local Dask cluster, {args.workers} workers", args.workers, True))
        runs: dict[str, list[tuple[float, float, float]]] = {label: [] for label, _, _ in setups}
        for _ in range(args.repeat):  # the setups alternate: others' work on the machine hits each alike
            for label, workers, dask in setups:
                runs[label].append(run(folders, base, workers, dask))
        baseline = None
        for label, workers, dask in setups:
            wall, cpu, ready = (statistics.median(measured[k] for measured in runs[label]) for k in range(3))
            rate = args.sessions / wall
            baseline = baseline or rate
            print(f"{label:38s} {wall:6.2f} s wall, {cpu:6.2f} s CPU, {rate:6.2f} sessions/s "
                  f"({duration * args.sessions / wall:5.0f} x real time), {rate / baseline:4.2f} x the baseline"
                  + (f" (cluster start {ready:.1f} s of the wall)" if dask else ""))
        print(f"load average (1, 5, 15 min) at the end: {', '.join(f'{v:.1f}' for v in os.getloadavg())} "
              "(others' work on the machine counts too)")


if __name__ == "__main__":
    main()
