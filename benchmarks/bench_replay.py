"""Recording and headless replay of a long two-sensor 1 kHz session: seconds per hour, × real time, MB/h.

Data (synthetic): a ``gaitmon.sim`` sprint session (scenario ``swing_plateau``, realistic switches on,
1000 Hz, reps with 10 s recovery until ``--minutes`` are filled) packed into gaitmon-profile DIY
notifications of up to 10 samples — what a DIY board sends — with receive times one connection
event (7.5 ms) late at most. Each sample keeps its **real index on the board's clock** (from its
simulated time and the board's crystal): the samples the simulator drops (0.2 %, in runs of 1–5) are
missing from the notifications, and the device times say so, as a real board reports a loss; a
notification never spans a hole. The notifications are journalled by the real
:class:`~gaitmon.session.recorder.SessionRecorder` into a session folder (timed: the recording cost),
then the folder is replayed headless as fast as possible with the real replay (journal → decoders →
timing → orientation → compiled core → steps; batched, as ``gaitmon replay --headless`` does), and
the outputs are written as ``gaitmon replay --headless`` writes them (tables + HTML report).

Figures (medians over ``--repeat`` runs; these machines are noisy, trust the ratios):

- journal size per hour of recording (MB/h) and the recorder's cost (s per hour of data);
- baseline: reading the journal alone (every record framed and CRC-checked: ``read_frames``, what the
  batched replay reads; ``iter_records`` beside it), s per hour;
- full replay (batched): s per hour, × real time, and the ratio full ÷ read-only, CPU beside wall;
- writing the outputs (tables + report), s; replay + outputs end to end, and its ratio to read-only;
- with ``--compare``: the per-notification replay too (what a paced replay runs), and the largest
  difference of an event's time between the two.

Run: ``python benchmarks/bench_replay.py [--minutes 60] [--repeat 1] [--compare]``
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
    for side, (role, (t, x)) in enumerate(session.samples.items()):
        # The board's sample number: its crystal runs at the rate × (1 + error); dropped samples leave holes.
        true_rate = RATE_HZ * (1.0 + 1e-6 * config.clock_error_ppm[("left", "right").index(role)])
        index = np.round((t - t[0]) * true_rate).astype(np.int64)
        # Notifications of up to PER_PACKET consecutive samples, never across a hole.
        cuts = np.flatnonzero((np.diff(index) != 1) | (np.diff(index // PER_PACKET) != 0)) + 1
        firsts = np.r_[0, cuts]
        lasts = np.r_[cuts, len(index)] - 1
        arrive = t[lasts] + 0.001 + rng.uniform(0, CONNECTION_INTERVAL_S, len(firsts))
        arrive = np.maximum.accumulate(arrive)  # one link keeps its order
        for k, (i, j) in enumerate(zip(firsts.tolist(), (lasts + 1).tolist())):
            payload = diy.encode_data(k, int(round(index[i] * 1e6 / RATE_HZ)) & 0xFFFFFFFF, x[i:j, :3], x[i:j, 3:])
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


def read_only(path: Path) -> tuple[float, float, int]:
    """Seconds to read the journal alone: framed into arrays (what the batched replay reads) and
    record by record (what a paced replay reads); the records."""
    start = time.perf_counter()
    n = len(journal.read_frames(path))
    framed = time.perf_counter() - start
    start = time.perf_counter()
    sum(1 for _ in journal.iter_records(path))
    return framed, time.perf_counter() - start, n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=60.0, help="session length (default 60)")
    parser.add_argument("--repeat", type=int, default=1, help="replays to take the median of (default 1)")
    parser.add_argument("--compare", action="store_true", help="also time the per-notification replay")
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

        reads, record_reads, replays, cpus, outputs = [], [], [], [], []
        for _ in range(args.repeat):
            seconds, by_record, n_records = read_only(folder / JOURNAL_FILE)
            reads.append(seconds)
            record_reads.append(by_record)
            start, cpu = time.perf_counter(), time.process_time()
            replayed = replay_session(folder)
            replays.append(time.perf_counter() - start)
            cpus.append(time.process_time() - cpu)
            start = time.perf_counter()
            result = live_result(replayed.live, folder)
            result.traces = replayed.store.traces()
            write_session_outputs(Path(tmp) / "out", result, replayed.live, replayed.store.samples(), replayed.meta)
            outputs.append(time.perf_counter() - start)
        read_s, replay_s, cpu_s, output_s = (statistics.median(v) for v in (reads, replays, cpus, outputs))
        steps, reps = len(result.steps), len(result.balance.reps)
        health = replayed.live.health()
        lost = sum(s.lost_samples for s in health.values())
        print(f"read journal only ({n_records} records): {read_s / hours:6.1f} s per hour of data "
              f"(record by record: {statistics.median(record_reads) / hours:.1f} s)")
        print(f"full replay (batched):           {replay_s / hours:6.1f} s per hour of data (CPU {cpu_s / hours:.1f} s) = "
              f"{duration / replay_s:.0f}x real time; {replay_s / read_s:.1f}x the read-only baseline")
        print(f"outputs (tables + report.html):  {output_s:6.1f} s  ({steps} steps, {reps} reps, "
              f"{len(result.balance.flags)} flags; {lost} samples lost in "
              f"{sum(s.gaps for s in health.values())} gaps, as the boards' device times say)")
        total = replay_s + output_s
        print(f"replay + outputs, end to end:    {total / hours:6.1f} s per hour of data = "
              f"{total / read_s:.1f}x the read-only baseline")
        if args.compare:
            start, cpu = time.perf_counter(), time.process_time()
            one = replay_session(folder, batched=False, keep_samples=False)
            one_s, one_cpu = time.perf_counter() - start, time.process_time() - cpu
            a, b = sorted(one.live.events), sorted(replayed.live.events)
            same = [(e.side, e.kind) for e in a] == [(e.side, e.kind) for e in b]
            worst = max((abs(x.t - y.t) for x, y in zip(a, b)), default=0.0) if same else float("nan")
            print(f"per-notification replay:         {one_s / hours:6.1f} s per hour of data (CPU {one_cpu / hours:.1f} s); "
                  f"batched is {one_s / replay_s:.1f}x faster; {len(a)} vs {len(b)} events, "
                  f"largest time difference {worst * 1e3:.4f} ms")
        print(f"median of {args.repeat} run(s); total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
