"""Batched decoding and journal framing: notifications per second, batch against per notification.

Data (synthetic): ``--minutes`` of one sensor of each family as the emulated sensors send it
(``gaitmon/sources/virtual/devices.py``): gaitmon DIY 1 kHz, 10 samples per notification; Movesense
IMU6 416 Hz, 6 samples; Polar Verity ACC and GYRO 416 Hz, 17 samples per delta frame (one block each,
its bit width following the signal); WitMotion 200 Hz, one 20-byte packet per notification. The signal
is a few sines plus noise in SI units, so Polar's delta widths vary from frame to frame as on a shank.

Figures, each the median of ``--repeat`` runs, wall time and CPU time (these machines are noisy: trust
the ratios, measured in the same run):

- per family: notifications/s of :func:`~gaitmon.sensors.decoder.batch_of_packets` (``decode`` per
  notification, the baseline) and of ``decode_many`` (what ``decode_batch`` calls), and their ratio;
- the journal: a two-sensor DIY journal of ``--minutes`` read by ``iter_records`` (the baseline) and
  framed by ``read_frames`` (then split into runs, the payloads of each run taken), and their ratio.

Run: ``python benchmarks/bench_decode.py [--minutes 10] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from gaitmon.sensors.decoder import batch_of_packets
from gaitmon.sensors.diy import protocol as diy
from gaitmon.sensors.movesense import protocol as movesense
from gaitmon.sensors.polar import protocol as polar
from gaitmon.sensors.witmotion import protocol as witmotion
from gaitmon.session import journal


def signal(rate_hz: float, minutes: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(acc m/s², gyro rad/s), each (n, 3): sines at stride frequencies plus noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(minutes * 60 * rate_hz)) / rate_hz
    phase = rng.uniform(0, 2 * np.pi, 6)
    waves = np.stack([np.sin(2 * np.pi * f * t + p) for f, p in zip((2.2, 4.4, 1.1, 2.2, 6.6, 3.3), phase)], axis=1)
    noisy = waves + rng.normal(0, 0.05, waves.shape)
    return noisy[:, :3] * 30.0, noisy[:, 3:] * 10.0


def streams(minutes: float) -> dict[str, tuple[object, list[bytes]]]:
    """family → (a decoder, its notifications)."""
    out = {}
    acc, gyro = signal(1000.0, minutes)
    out["gaitmon_diy 1 kHz × 10"] = (diy.GaitmonProfileDecoder(1000.0), [
        diy.encode_data(k, k * 10_000, acc[i:i + 10], gyro[i:i + 10]) for k, i in enumerate(range(0, len(acc) - 9, 10))])
    acc, gyro = signal(416.0, minutes, 1)
    out["movesense 416 Hz × 6"] = (movesense.MovesenseDecoder(416.0, client_ref=99), [
        movesense.encode_imu6(99, int(i * 1000 // 416), acc[i:i + 6], gyro[i:i + 6]) for i in range(0, len(acc) - 5, 6)])
    stamps = 848_534_400 * 10**9 + np.arange(len(acc)) * round(1e9 / 416)
    acc_counts = polar.si_to_counts(acc, polar.ACC, polar.VERITY_ACC_FACTOR)
    gyro_counts = polar.si_to_counts(gyro, polar.GYRO, polar.VERITY_GYRO_FACTOR)
    starts = range(0, len(acc) - 16, 17)
    out["polar acc 416 Hz × 17"] = (polar.PolarPmdDecoder(polar.ACC, 416.0), [
        polar.encode_frame(polar.ACC, int(stamps[i + 16]), acc_counts[i:i + 17]) for i in starts])
    out["polar gyro 416 Hz × 17"] = (polar.PolarPmdDecoder(polar.GYRO, 416.0, factor=polar.VERITY_GYRO_FACTOR), [
        polar.encode_frame(polar.GYRO, int(stamps[i + 16]), gyro_counts[i:i + 17]) for i in starts])
    acc, gyro = signal(200.0, minutes, 2)
    out["witmotion 200 Hz × 1"] = (witmotion.WitMotionDecoder(200.0), [
        witmotion.encode_sample(a, g) for a, g in zip(acc, gyro)])
    return out


def timed(function, repeat: int) -> tuple[float, float]:
    """Median (wall s, CPU s) of ``repeat`` calls."""
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        function()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def fresh(decoder):
    """A decoder like ``decoder`` with no state (WitMotion keeps a reassembly buffer)."""
    return witmotion.WitMotionDecoder(200.0) if isinstance(decoder, witmotion.WitMotionDecoder) else decoder


def write_journal(path: Path, payloads: list[bytes]) -> int:
    """A two-channel journal of ``payloads`` (each sent by both sensors, 5 ms apart); returns its records."""
    writer = journal.JournalWriter(path)
    writer.append(journal.json_record(journal.SESSION, 0.0, {"session_id": "bench"}))
    for channel, role in enumerate(("left", "right")):
        writer.append(journal.channel_record(channel, role, "imu"))
    for k, payload in enumerate(payloads):
        for channel in (0, 1):
            writer.append(journal.data_record(channel, 0.01 * k + 0.005 * channel, payload))
        if k % 6000 == 5999:
            writer.append(journal.json_record(journal.STATE, 0.01 * k, {"role": "left", "state": "streaming"}))
    writer.close()
    return 3 + 2 * len(payloads) + len(payloads) // 6000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="stream length per family (default 10)")
    parser.add_argument("--repeat", type=int, default=3, help="runs to take the median of (default 3)")
    args = parser.parse_args()

    data = streams(args.minutes)
    print(f"{args.minutes:g} min per stream; median of {args.repeat}; notifications/s (wall) and µs CPU each")
    print(f"{'stream':<26}{'notifications':>14}{'per notification':>22}{'decode_many':>22}{'ratio wall':>12}{'ratio CPU':>11}")
    for name, (decoder, payloads) in data.items():
        check = fresh(decoder).decode_many(payloads)
        assert check.kind.tolist() == batch_of_packets(fresh(decoder), payloads).kind.tolist()
        base_wall, base_cpu = timed(lambda: batch_of_packets(fresh(decoder), payloads), args.repeat)
        many_wall, many_cpu = timed(lambda: fresh(decoder).decode_many(payloads), args.repeat)
        n = len(payloads)
        print(f"{name:<26}{n:>14}{n / base_wall:>12,.0f}/s {base_cpu / n * 1e6:>5.1f} µs"
              f"{n / many_wall:>12,.0f}/s {many_cpu / n * 1e6:>5.1f} µs{base_wall / many_wall:>11.1f}×"
              f"{base_cpu / many_cpu:>10.1f}×")

    payloads = data["gaitmon_diy 1 kHz × 10"][1]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "journal.gmj"
        records = write_journal(path, payloads)
        size = path.stat().st_size

        def iterate():
            assert sum(1 for _ in journal.iter_records(path)) == records

        def frame():
            frames = journal.read_frames(path)
            assert len(frames) == records
            for run in frames.runs():
                if isinstance(run, journal.DataRun):
                    run.payloads

        base_wall, base_cpu = timed(iterate, args.repeat)
        framed_wall, framed_cpu = timed(frame, args.repeat)
    print(f"journal: {records} records, {size / 1e6:.1f} MB (two DIY sensors, {args.minutes:g} min)")
    print(f"  iter_records           {base_wall:6.3f} s wall {base_cpu:6.3f} s CPU ({records / base_wall:,.0f} records/s)")
    print(f"  read_frames + runs     {framed_wall:6.3f} s wall {framed_cpu:6.3f} s CPU ({records / framed_wall:,.0f} records/s)")
    print(f"  ratio                  {base_wall / framed_wall:6.1f}× wall {base_cpu / framed_cpu:6.1f}× CPU")


if __name__ == "__main__":
    main()
