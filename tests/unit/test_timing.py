"""Timing pieces on their own: the clock fit, the reorder buffer, and index unwrapping."""

from __future__ import annotations

import numpy as np

from gaitmon.sensors.decoder import DecodedPacket
from gaitmon.stream.timing import ClockFit, ReorderBuffer, SensorTimeline, StreamSpec


def test_clock_fit_finds_drift_and_the_latency_floor_under_one_sided_jitter():
    rng = np.random.default_rng(0)
    period = 1 / 1000 * (1 + 200e-6)  # a fast crystal: 200 ppm
    fit = ClockFit(1 / 1000)
    index = np.arange(0, 30_000, 10)
    arrival = 5.0 + index * period + 0.003 + rng.uniform(0, 0.020, len(index))  # 3 ms floor + 20 ms jitter
    for i, h in zip(index, arrival):
        fit.add(i, h)
    assert abs(fit.slope / period - 1) < 20e-6
    predicted = fit(index[-1000:])
    truth = 5.0 + index[-1000:] * period + 0.003
    assert np.abs(predicted - truth).max() < 0.0005


def test_reorder_buffer_undoes_swaps_and_counts_duplicates_and_late_packets():
    buffer = ReorderBuffer(depth=2)
    released = []
    for first in (0, 20, 10, 10, 30, 40, 50):  # 10 and 20 swapped, 10 repeated
        released += [r[0] for r in buffer.push(first, 10, None)[1]]
    released += [r[0] for r in buffer.flush()]
    assert released == [0, 10, 20, 30, 40, 50]
    assert buffer.duplicates == 1 and buffer.late == 0
    assert buffer.push(25, 5, None)[0] is False and buffer.late == 1  # its slot was released already


def test_device_clock_wrap_is_unwrapped_and_losses_are_marked():
    rate, n, modulus = 1000.0, 10, 2**32 / 1e6
    timeline = SensorTimeline("left", rate, {"imu": StreamSpec("imu", device_time_modulus_s=modulus)})
    start_us = 2**32 - 50_000  # wraps 50 ms in
    blocks, gaps = [], []
    for k in range(20):
        if k == 12:
            continue  # lost
        last_us = (start_us + (k * n + n - 1) * 1000) % 2**32
        packet = DecodedPacket(acc=np.zeros((n, 3)), gyro=np.zeros((n, 3)), device_time_s=last_us / 1e6)
        b, g = timeline.push("imu", packet, 100.0 + k * 0.01 + 0.002)
        blocks += b
        gaps += g
    b, g = timeline.disconnected()
    blocks += b
    gaps += g
    index = np.concatenate([blk.index for blk in blocks])
    assert len(index) == 190 and np.all(np.diff(index)[np.diff(index) != 1] == 11)
    assert len(gaps) == 1  # a disconnection's gap is marked when samples resume
    assert gaps[0].lost_samples == 10 and gaps[0].lost_packets == 1 and gaps[0].exact
    t = np.concatenate([blk.t for blk in blocks])
    assert np.all(np.diff(t) > 0)
