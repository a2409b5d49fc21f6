"""Throughput of one leg's streaming pipeline (projection + event core), one CPU core.

Data: a simulated 1 kHz shank stream (gaitmon.sim, realistic switches on, reps with walking
recovery), by default one hour long, as sensor-frame samples ``x[n, 6]`` float32 (what the
acquisition delivers). Measured in the same run, on the same samples, fed in 1-second blocks:

- **LegPipeline**: what live, replay and analysis run — the streamed axis estimate
  (``SagittalProjector.release``: lock, revisions) and the compiled kernel, which projects each
  sample in its loop (ω = gyro · axis, |a|) and hands the projection back (``LegPipeline.projected``);
- **kernel, known axis**: ``StepDetector`` alone with the recording's axis (what ``detect_events`` runs);
- **numpy projection**: ``SagittalProjector.feed``, the numpy projection the pipeline ran before the
  kernel projected (the old path paid it on top of the core, so it bounds the old pipeline's rate);
- **twin**: the pure-Python twin (the executable spec), timed on a slice because it is slow;
- **scipy offline**: a comparable offline pipeline on whole arrays — numpy projection on the
  recording's axis, zero-phase Butterworth low-pass (``sosfiltfilt``), ``find_peaks`` for mid-swing
  peaks, then toe-off and initial contact as the minima around each peak — i.e. what one would write
  with scipy instead of a kernel. Also timed without the projection (ω and |a| given), as before.

Each is timed ``--repeat`` times; the median wall time is quoted with the CPU time of that run
beside it, and ratios compare medians of the same run (these machines are noisy: trust ratios, not
absolute figures).

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
from gaitmon.sim import SimConfig, simulate_session
from gaitmon.stream.orientation import SagittalProjector, _project
from gaitmon.stream.pipeline import LegPipeline, recording_axis

RATE = 1000.0
BLOCK = int(RATE)  # 1 s blocks


def make_stream(minutes: float, seed: int = 0):
    """(t, x) of one leg, sensor frame, float32: simulated sessions concatenated up to the asked
    length, each re-mounted as the first (one athlete, one strap, for the whole stream)."""
    config = SimConfig.realistic(RATE, n_reps=8, recovery_s=60.0)
    parts_t, parts_x, offset, total, strap = [], [], 0.0, 0, None
    while total < minutes * 60 * RATE:
        session = simulate_session("balanced", seed=seed, config=config)
        t, x = session.samples["left"]
        mounting = np.asarray(session.mounting["left"], dtype=np.float64)
        strap = mounting if strap is None else strap
        rotation = strap @ mounting.T  # sensor frame of this session → that of the first
        x = np.hstack([x[:, :3] @ rotation.T, x[:, 3:] @ rotation.T]).astype(np.float32)
        parts_t.append(t - t[0] + offset)
        parts_x.append(x)
        offset = parts_t[-1][-1] + 1.0 / RATE
        total += len(t)
        seed += 1
    n = int(minutes * 60 * RATE)
    return np.concatenate(parts_t)[:n], np.concatenate(parts_x)[:n]


def run_pipeline(t, x) -> int:
    leg = LegPipeline("left", DetectorParams(sample_rate_hz=RATE))
    return sum(len(leg.feed(t[lo:lo + BLOCK], x[lo:lo + BLOCK])) for lo in range(0, len(t), BLOCK))


def run_kernel(kernel, t, x, axis) -> int:
    detector = StepDetector("left", DetectorParams(sample_rate_hz=RATE), kernel=kernel)
    return sum(len(detector.feed(t[lo:lo + BLOCK], x[lo:lo + BLOCK], axis)) for lo in range(0, len(t), BLOCK))


def run_numpy_projection(t, x) -> int:
    projector = SagittalProjector()
    return sum(len(projector.feed(t[lo:lo + BLOCK], x[lo:lo + BLOCK])[0]) for lo in range(0, len(t), BLOCK))


def project(x, axis):
    """Whole-array numpy projection: ω = gyro · axis, |a| (element-wise: no BLAS threads)."""
    return _project(x[:, 0], x, axis)[1:]


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


def timed(fn, repeat: int) -> tuple[float, float, object]:
    """Median wall time (s), median CPU time of this process (s), and the result."""
    walls, cpus, result = [], [], None
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0, help="stream length (default: one hour)")
    parser.add_argument("--twin-seconds", type=float, default=120.0, help="slice timed for the twin")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    print(f"event core backend: {core.BACKEND}")
    start = time.perf_counter()
    t, x = make_stream(args.minutes)
    n = len(t)
    axis = recording_axis(x)
    print(f"stream: {n:,} samples ({n / RATE / 60:.1f} min at {RATE:g} Hz, one leg, x {x.dtype}), "
          f"simulated in {time.perf_counter() - start:.1f} s; fed in {BLOCK}-sample (1 s) blocks")

    m = min(n, int(args.twin_seconds * RATE))
    rows = {
        "LegPipeline (streamed axis + kernel projection + core)": (n, timed(lambda: run_pipeline(t, x), args.repeat)),
        "kernel alone, known axis (StepDetector)": (n, timed(lambda: run_kernel(core.Kernel, t, x, axis), args.repeat)),
        "numpy projection alone (old path's SagittalProjector.feed)":
            (n, timed(lambda: run_numpy_projection(t, x), args.repeat)),
        f"python twin, known axis ({m / RATE:.0f} s slice)":
            (m, timed(lambda: run_kernel(TwinKernel, t[:m], x[:m], axis), 1 if m > 60_000 else args.repeat)),
        "scipy offline from x (numpy projection + sosfiltfilt + find_peaks + minima)":
            (n, timed(lambda: run_scipy_offline(t, *project(x, axis)), args.repeat)),
    }
    w, a = project(x, axis)
    rows["scipy offline on ω, |a| given (sosfiltfilt + find_peaks + minima)"] = (
        n, timed(lambda: run_scipy_offline(t, w, a), args.repeat))

    rate, cpu_rate = {}, {}
    print(f"{'M samples/s (median of ' + str(args.repeat) + ')':80s}    by wall   by CPU")
    for name, (count, (wall, cpu, result)) in rows.items():
        rate[name], cpu_rate[name] = count / wall, count / cpu
        print(f"{name:80s}: {count / wall / 1e6:8.2f} {count / cpu / 1e6:8.2f}  (wall {wall:.3f} s, CPU {cpu:.3f} s)")
    names = list(rows)
    pipeline = rate[names[0]]
    print(f"events: LegPipeline {rows[names[0]][1][2]}, kernel with the known axis {rows[names[1]][1][2]}")
    for label, other in (("scipy offline from x", names[4]), ("scipy offline on ω, |a| given", names[5]),
                         ("numpy projection alone", names[2])):
        print(f"ratio LegPipeline / {label:30s}: {pipeline / rate[other]:8.2f} x wall, "
              f"{cpu_rate[names[0]] / cpu_rate[other]:8.2f} x CPU")
    print(f"ratio kernel / twin                               : {rate[names[1]] / rate[names[3]]:8.1f} x wall")
    print(f"one hour of one leg at 1 kHz takes {3.6e6 / pipeline:.3f} s in LegPipeline "
          f"({3600 * pipeline / 3.6e6:,.0f} x real time)")


if __name__ == "__main__":
    main()
