"""Recording and headless replay of a long two-sensor 1 kHz session: seconds per hour, × real time, MB/h.

Data (synthetic): a ``gaitmon.sim`` sprint session (scenario ``swing_plateau``, realistic switches on,
1000 Hz, reps with 10 s recovery until ``--minutes`` are filled) packed into gaitmon-profile DIY
notifications of 10 samples each — what the emulated DIY board sends — with receive times one
connection event (7.5 ms) late at most. The notifications are journalled by the real
:class:`~gaitmon.session.recorder.SessionRecorder` into a session folder (timed: the recording cost),
then the folder is replayed headless as fast as possible with the real replay (journal → decoders →
timing → orientation → compiled core → steps), and the outputs are written as ``gaitmon replay
--headless`` writes them (tables + HTML report).

Figures (medians over ``--repeat`` runs; these machines are noisy, trust the ratios):

- journal size per hour of recording (MB/h) and the recorder's cost (s per hour of data);
- baseline: reading the journal alone (every record parsed and CRC-checked), s per hour;
- full replay: s per hour, × real time, and the ratio full ÷ read-only;
- writing the outputs (tables + report), s.

Run: ``python benchmarks/bench_replay.py [--minutes 60] [--repeat 1]``
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from gaitmon.engine.analyze import live_result, write_session_outputs
from gaitmon.core import BACKEND
from gaitmon.sensors.diy import protocol as diy
from gaitmon.session import journal
from gaitmon.session.folder import JOURNAL_FILE
from gaitmon.session.meta import SensorInfo, SessionMeta
from gaitmon.session.recorder import SessionRecorder
from gaitmon.sim import SimConfig, simulate_session
from gaitmon.sensors import StreamSetup
from gaitmon.sources.replay import replay_session

RATE_HZ = 1000.0
PER_PACKET = 10
CONNECTION_INTERVAL_S = 0.0075


def notifications(minutes: float, seed: int = 0):
    """[(receive time s, role, payload)] in receive order, and the session length (s)."""
    cycle_s = 24.0  # one rep + walk back + 10 s recovery, as the simulator lays them out
    config = SimConfig.realistic(RATE_HZ, n_reps=max(1, round(minutes * 60 / cycle_s)), recovery_s=10.0)
    session = simulate_session("swing_plateau", seed=seed, config=config)
    rng = np.random.default_rng(seed)
    items = []
    for role, (t, x) in session.samples.items():
        n = len(t) // PER_PACKET * PER_PACKET
        firsts = np.arange(0, n, PER_PACKET)
        arrive = t[firsts + PER_PACKET - 1] + 0.001 + rng.uniform(0, CONNECTION_INTERVAL_S, len(firsts))
        arrive = np.maximum.accumulate(arrive)  # one link keeps its order
        for k, i in enumerate(firsts):
            payload = diy.encode_data(k, int(round(i * 1e6 / RATE_HZ)), x[i:i + PER_PACKET, :3],
                                      x[i:i + PER_PACKET, 3:])
            items.append((float(arrive[k]), role, payload))
    items.sort(key=lambda item: item[0])
    return items, float(session.samples["left"][0][-1])


class _Discard:
    """The live session's place when only the recorder is timed."""

    def on_state(self, *args, **kwargs):
        pass

    def on_configured(self, *args):
        pass

    def on_data(self, *args):
        return []

    def on_disconnected(self, *args):
        return []


def record(items, folder: Path) -> float:
    """Journal the notifications through the recorder; returns the seconds it took."""
    now = [0.0]
    meta = SessionMeta(athlete="bench", source="synthetic:bench_replay",
                       sensors={r: SensorInfo(r, family="gaitmon_diy", rate_hz=RATE_HZ) for r in ("left", "right")})
    recorder = SessionRecorder(_Discard(), folder, meta, lambda: now[0])
    setup = StreamSetup("gaitmon_diy", RATE_HZ, {"imu": diy.DATA_UUID})
    for role in ("left", "right"):
        recorder.on_configured(role, setup, 0.0)
    start = time.perf_counter()
    for host_t, role, payload in items:
        now[0] = host_t
        recorder.on_data(role, "imu", host_t, payload)
    recorder.close()
    return time.perf_counter() - start


def read_only(path: Path) -> tuple[float, int]:
    start = time.perf_counter()
    n = sum(1 for _ in journal.iter_records(path))
    return time.perf_counter() - start, n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=60.0, help="session length (default 60)")
    parser.add_argument("--repeat", type=int, default=1, help="replays to take the median of (default 1)")
    args = parser.parse_args()

    started = time.perf_counter()
    items, duration = notifications(args.minutes)
    print(f"event core: {BACKEND}; {duration / 60:.1f} min two-sensor {RATE_HZ:g} Hz session, "
          f"{len(items)} notifications (simulated + encoded in {time.perf_counter() - started:.0f} s)")
    hours = duration / 3600.0
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "session"
        record_s = record(items, folder)
        n_notifications = len(items)
        del items
        size = (folder / JOURNAL_FILE).stat().st_size
        print(f"journal: {size / 1e6 / hours:.1f} MB per hour; recorder: {record_s / hours:.1f} s per hour of data "
              f"({record_s / n_notifications * 1e6:.1f} µs per notification)")

        reads, replays, outputs = [], [], []
        for _ in range(args.repeat):
            seconds, n_records = read_only(folder / JOURNAL_FILE)
            reads.append(seconds)
            start = time.perf_counter()
            replayed = replay_session(folder)
            replays.append(time.perf_counter() - start)
            start = time.perf_counter()
            result = live_result(replayed.live, folder)
            result.traces = replayed.store.traces()
            write_session_outputs(Path(tmp) / "out", result, replayed.live, replayed.store.samples(), replayed.meta)
            outputs.append(time.perf_counter() - start)
        read_s, replay_s, output_s = (statistics.median(v) for v in (reads, replays, outputs))
        steps, reps = len(result.steps), len(result.balance.reps)
        print(f"read journal only ({n_records} records): {read_s / hours:6.1f} s per hour of data")
        print(f"full replay:                     {replay_s / hours:6.1f} s per hour of data = "
              f"{duration / replay_s:.0f}x real time; {replay_s / read_s:.1f}x the read-only baseline")
        print(f"outputs (tables + report.html):  {output_s:6.1f} s  ({steps} steps, {reps} reps, "
              f"{len(result.balance.flags)} flags)")
        print(f"median of {args.repeat} run(s); total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
