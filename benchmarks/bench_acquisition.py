"""Throughput and per-notification latency of the live path, per sensor family.

Data: two emulated sensors of each family (``gaitmon.sources.virtual``) stream a simulated sprint
session (gaitmon.sim, realistic switches on) at the family's default rate through the real
acquisition code on a virtual clock; every notification is captured with its receive time and the
setup each sensor reported. Those bytes are then pushed again, timed, through what a live
notification callback runs: ``LiveSession.on_data`` = decode + timing (index, reorder buffer, clock
fit, gap marks) + orientation + the compiled event core.

Figures, per family (medians over ``--repeat`` runs; these machines are noisy, trust ratios):

- notifications/s and samples/s through the full path, and × real time;
- the same through **decode only** (the baseline measured in the same run) and the ratio;
- per-notification processing time of the full path, from one timed run: median, p99 and max (µs)
  of wall time (``perf_counter``) and of the thread's CPU time (``thread_time``, which a busy shared
  machine does not inflate). Target (issue #17): p99 ≤ 200 µs, no refit spikes (the clock fit's
  refit is a fixed ≤ 64-point job once per second of arrivals);
- the same percentiles (CPU) of decode + timing alone (``SensorFeed.feed``: the radio side of the
  path, without orientation and the core), where the clock fit's refits would show.

Run: ``python benchmarks/bench_acquisition.py [--reps 3] [--repeat 3] [--family witmotion]``
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from gaitmon.stream.live import LiveSession, SensorFeed
from gaitmon.sources.ble import acquire
from gaitmon.sensors import FAMILIES
from gaitmon.sources.virtual import DEVICES, emulated_pair
from gaitmon.sources.virtual.clock import run_virtual


class Capture:
    """A sink that keeps what the acquisition layer hands over: setups and raw notifications."""

    def __init__(self):
        self.setups = {}
        self.items = []

    def on_state(self, *args, **kwargs):
        pass

    def on_configured(self, role, setup, host_t):
        self.setups[role] = setup

    def on_data(self, role, stream, host_t, payload):
        self.items.append((host_t, role, stream, payload))

    def on_disconnected(self, role, host_t, cause="disconnected"):
        pass


def notifications(family: str, reps: int):
    """Captured [(receive time, role, stream, bytes)], the setups, the session length (s) and rate."""
    pair = emulated_pair(family, "balanced", seed=0, n_reps=reps)
    duration = float(pair.session.samples["left"][0][-1])
    capture = Capture()
    run_virtual(acquire(pair.addresses, capture, duration_s=duration, backends=pair.backends))
    return capture.items, capture.setups, duration, pair.devices["left"].nominal_rate_hz


def run_full(items, setups, timed: bool = False):
    """Seconds for all notifications; the session; per-notification (wall, CPU) seconds when ``timed``."""
    live = LiveSession("bench")
    for role, setup in setups.items():
        live.on_configured(role, setup, 0.0)
    walls, cpus = [], []
    clock, cpu = time.perf_counter, time.thread_time
    start = clock()
    for host_t, role, stream, data in items:
        if timed:
            t0, c0 = clock(), cpu()
            live.on_data(role, stream, host_t, data)
            c1, t1 = cpu(), clock()
            walls.append(t1 - t0)
            cpus.append(c1 - c0)
        else:
            live.on_data(role, stream, host_t, data)
    return clock() - start, live, (np.array(walls), np.array(cpus))


def run_acquisition_only(items, setups):
    """Per-notification CPU seconds of decode + timing (``SensorFeed.feed``), no core."""
    feeds = {role: SensorFeed(role, setup) for role, setup in setups.items()}
    cpu, cpus = time.thread_time, []
    for host_t, role, stream, data in items:
        c0 = cpu()
        feeds[role].feed(stream, host_t, data)
        cpus.append(cpu() - c0)
    return np.array(cpus)


def run_decode_only(items, setups):
    decoders = {role: FAMILIES[s.family].decoders(s) for role, s in setups.items()}
    start = time.perf_counter()
    for _, role, stream, data in items:
        decoders[role][stream].decode(data)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=3, help="sprint reps in the simulated session")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--family", action="append", choices=sorted(DEVICES),
                        help="only this family (repeatable; default: every family)")
    args = parser.parse_args()
    print(f"{'family':11s} {'rate':>5s} {'notif/s':>9s} {'samples/s':>10s} {'x real':>7s} "
          f"{'decode-only notif/s':>20s} {'full/decode':>11s}   per notification µs, wall p50/p99/max | CPU p50/p99/max"
          f" | decode+timing CPU p50/p99/max")
    for family in args.family or sorted(DEVICES):
        items, setups, duration, rate = notifications(family, args.reps)
        full = statistics.median(run_full(items, setups)[0] for _ in range(args.repeat))
        decode = statistics.median(run_decode_only(items, setups) for _ in range(args.repeat))
        _, live, costs = run_full(items, setups, timed=True)
        samples = sum(s.samples for s in live.health().values())
        wall, cpu = (np.percentile(c * 1e6, [50, 99, 100]) for c in costs)
        radio = np.percentile(run_acquisition_only(items, setups) * 1e6, [50, 99, 100])
        print(f"{family:11s} {rate:5.0f} {len(items) / full:9.0f} {samples / full:10.0f} {duration / full:7.0f} "
              f"{len(items) / decode:20.0f} {full / decode:11.1f}   "
              f"{wall[0]:6.1f} {wall[1]:6.1f} {wall[2]:7.0f} | {cpu[0]:6.1f} {cpu[1]:6.1f} {cpu[2]:7.0f} | "
              f"{radio[0]:6.1f} {radio[1]:6.1f} {radio[2]:7.0f}")
    print("(two sensors; one CPU core; no faults)")


if __name__ == "__main__":
    main()
