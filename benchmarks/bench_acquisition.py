"""Throughput and per-notification latency of the live path, per sensor family.

Data: each family's emulated device (``gaitmon.sources.virtual.devices``) encodes a simulated
two-shank sprint session (gaitmon.sim, realistic switches on) into its exact notification bytes at
its default rate. Those bytes are then pushed, in send order with their send times as receive
times, through what a live notification callback runs: ``LiveSession.on_data`` = decode + timing
(index, reorder buffer, clock fit, gap marks) + orientation + the compiled event core.

Figures, per family (medians over ``--repeat`` runs; these machines are noisy, trust ratios):

- notifications/s and samples/s through the full path, and × real time;
- the same through **decode only** (the baseline measured in the same run) and the ratio;
- per-notification processing time of the full path: median and p99 (µs), from one timed run.

Run: ``python benchmarks/bench_acquisition.py [--reps 3] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from gaitmon.live import LiveSession
from gaitmon.sim import SimConfig, simulate_session
from gaitmon.sources.families import FAMILIES
from gaitmon.sources.virtual.devices import DEVICES


class _Air:
    """Just enough of VirtualAir for a device's frames(): sim time is 0."""

    def sim_time(self) -> float:
        return 0.0


def notifications(family: str, reps: int):
    """[(receive time s, role, stream, bytes)] of a two-sensor session, in time order, plus the setup."""
    device_type = DEVICES[family]
    rate = device_type.default_rate
    session = simulate_session("balanced", seed=0, config=SimConfig.realistic(rate, n_reps=reps, drop_rate=0.0))
    fam = FAMILIES[family]
    items = []
    setups = {}
    for role, (t, x) in session.samples.items():
        device = device_type("AA:BB", "x", t, x, rate)
        device.air = _Air()
        device.rate = rate  # what a start command sets on devices that track it
        device.ref = 99
        for frame in device.frames(0):
            stream = _stream_key(family, frame.data)
            items.append((frame.send_s, role, stream, frame.data))
        setups[role] = _setup(fam, rate)
    items.sort(key=lambda item: item[0])
    return items, setups, float(session.samples["left"][0][-1]), rate


def _stream_key(family: str, data: bytes) -> str:
    if family == "polar_pmd":
        from gaitmon.sources.families.polar import stream_of

        return stream_of(data)
    return "imu"


def _setup(fam, rate):
    from gaitmon.decoders import polar
    from gaitmon.sources.families import StreamSetup

    streams = {"acc": "", "gyro": ""} if fam.name == "polar_pmd" else {"imu": ""}
    settings = {"polar_pmd": {"acc_factor": 1.0, "gyro_factor": polar.VERITY_GYRO_FACTORS[2000]},
                "movesense": {"client_ref": 99}}.get(fam.name, {})
    return StreamSetup(fam.name, rate, streams, settings)


def run_full(items, setups, timed: bool = False):
    live = LiveSession("bench")
    for role, setup in setups.items():
        live.on_configured(role, setup, 0.0)
    costs = []
    clock = time.perf_counter
    start = clock()
    for host_t, role, stream, data in items:
        if timed:
            t0 = clock()
            live.on_data(role, stream, host_t, data)
            costs.append(clock() - t0)
        else:
            live.on_data(role, stream, host_t, data)
    return clock() - start, live, costs


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
    args = parser.parse_args()
    print(f"{'family':11s} {'rate':>5s} {'notif/s':>9s} {'samples/s':>10s} {'x real':>7s} "
          f"{'decode-only notif/s':>20s} {'full/decode':>11s} {'median µs':>10s} {'p99 µs':>7s}")
    for family in sorted(DEVICES):
        items, setups, duration, rate = notifications(family, args.reps)
        full = statistics.median(run_full(items, setups)[0] for _ in range(args.repeat))
        decode = statistics.median(run_decode_only(items, setups) for _ in range(args.repeat))
        _, live, costs = run_full(items, setups, timed=True)
        samples = sum(s.samples for s in live.health().values())
        costs_us = np.array(costs) * 1e6
        print(f"{family:11s} {rate:5.0f} {len(items) / full:9.0f} {samples / full:10.0f} {duration / full:7.0f} "
              f"{len(items) / decode:20.0f} {full / decode:11.1f} {np.median(costs_us):10.1f} "
              f"{np.percentile(costs_us, 99):7.1f}")
    print("(two sensors; one CPU core; receive time = send time, no faults)")


if __name__ == "__main__":
    main()
