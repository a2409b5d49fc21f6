"""Throughput of the streaming event core, one leg, one CPU core.

Data: a simulated 1 kHz shank stream (gaitmon.sim, realistic switches on, reps with walking
recovery), by default one hour long. Measured in the same run, on the same samples:

- **compiled**: the Cython kernel fed in 1-second blocks (as live acquisition would);
- **twin**: the pure-Python twin (the executable spec), timed on a slice because it is slow;
- **scipy offline**: a comparable offline pipeline — zero-phase Butterworth low-pass
  (``sosfiltfilt``), ``find_peaks`` for mid-swing peaks, then toe-off and initial contact as
  the minima around each peak — i.e. what one would write with scipy instead of a kernel.

Each is timed ``--repeat`` times; the median is quoted, and ratios compare medians of the same
run (these machines are noisy: trust ratios, not absolute figures).

Run: ``python benchmarks/bench_core.py [--minutes 60] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from scipy import signal

import gaitmon.core as core
from gaitmon.core import DetectorParams, StepDetector, TwinKernel
from gaitmon.stream.orientation import SagittalProjector
from gaitmon.sim import SimConfig, simulate_session

RATE = 1000.0


def make_stream(minutes: float, seed: int = 0):
    """(t, ω, |a|) of one leg: simulated sessions concatenated up to the asked length."""
    config = SimConfig.realistic(RATE, n_reps=8, recovery_s=60.0)
    parts_t, parts_w, parts_a, offset, total = [], [], [], 0.0, 0
    while total < minutes * 60 * RATE:
        session = simulate_session("balanced", seed=seed, config=config)
        t, w, a = SagittalProjector().feed(*session.samples["left"])
        parts_t.append(t - t[0] + offset)
        parts_w.append(w)
        parts_a.append(a)
        offset = parts_t[-1][-1] + 1.0 / RATE
        total += len(t)
        seed += 1
    n = int(minutes * 60 * RATE)
    return (np.concatenate(parts_t)[:n], np.concatenate(parts_w)[:n], np.concatenate(parts_a)[:n])


def run_kernel(kernel, t, w, a, block: int) -> int:
    detector = StepDetector("left", DetectorParams(sample_rate_hz=RATE), kernel=kernel)
    n_events = 0
    for lo in range(0, len(t), block):
        n_events += len(detector.feed(t[lo:lo + block], w[lo:lo + block], a[lo:lo + block]))
    return n_events


def run_scipy_offline(t, w, a) -> int:
    """Offline equivalent: filter, find swing peaks, place TO/IC at the minima around them."""
    sos = signal.butter(2, 15.0, btype="low", fs=RATE, output="sos")
    smooth = signal.sosfiltfilt(sos, w)
    peaks, _ = signal.find_peaks(smooth, height=2.0, distance=int(0.15 * RATE), prominence=1.5)
    window = int(0.4 * RATE)
    to = [max(p - window, 0) + np.argmin(w[max(p - window, 0):p + 1]) for p in peaks]
    k = 4  # impact statistic |a|[i] - |a|[i-k], as in the kernel
    rise = np.zeros_like(a)
    rise[k:] = a[k:] - a[:-k]
    impacts = np.flatnonzero(rise > 20.0)
    following = np.searchsorted(impacts, peaks)
    ic = impacts[following[following < len(impacts)]]
    return len(peaks) + len(to) + len(ic)


def timed(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0, help="stream length (default: one hour)")
    parser.add_argument("--twin-seconds", type=float, default=120.0, help="slice timed for the twin")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    print(f"event core backend: {core.BACKEND}")
    start = time.perf_counter()
    t, w, a = make_stream(args.minutes)
    n = len(t)
    print(f"stream: {n:,} samples ({n / RATE / 60:.1f} min at {RATE:g} Hz, one leg), "
          f"simulated in {time.perf_counter() - start:.1f} s")

    block = int(RATE)
    t_fast, n_events = timed(lambda: run_kernel(core.Kernel, t, w, a, block), args.repeat)
    m = min(n, int(args.twin_seconds * RATE))
    t_twin, _ = timed(lambda: run_kernel(TwinKernel, t[:m], w[:m], a[:m], block), 1 if m > 60_000 else args.repeat)
    t_scipy, _ = timed(lambda: run_scipy_offline(t, w, a), args.repeat)

    fast = n / t_fast
    twin = m / t_twin
    offline = n / t_scipy
    print(f"compiled kernel : {fast / 1e6:8.2f} M samples/s  (median of {args.repeat}, {n_events} events)")
    print(f"python twin     : {twin / 1e6:8.3f} M samples/s  (on a {m / RATE:.0f} s slice)")
    print(f"scipy offline   : {offline / 1e6:8.2f} M samples/s  (sosfiltfilt + find_peaks + minima)")
    print(f"ratio compiled / twin          : {fast / twin:8.1f} x")
    print(f"ratio compiled / scipy offline : {fast / offline:8.2f} x")
    print(f"one hour of one leg at 1 kHz takes {3.6e6 / fast:.3f} s in the compiled core "
          f"({3600 * fast / 3.6e6:,.0f} x real time)")


if __name__ == "__main__":
    main()
