"""Timing pieces on their own: the clock fit, the reorder buffer, and index unwrapping."""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gaitmon.sensors.decoder import DecodedPacket, MalformedPacket, batch_of_packets
from gaitmon.stream.timing import (ClockFit, ClockFitTwin, ReorderBuffer, SensorTimeline, StreamSpec,
                                   _least_squares_line, _lower_hull_line)

compiled_clock = pytest.mark.skipif(ClockFit is ClockFitTwin, reason="compiled clock fit not loaded")


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


def polar_like(rate: float, n: int, frames: int):
    """Acc and gyro frames of ``n`` samples (device time of the last one), and the signals sent."""
    t = np.arange(frames * n) / rate
    acc = np.stack([np.sin(2 * np.pi * 3 * t + k) for k in range(3)], axis=1)
    gyro = np.stack([5 * np.cos(2 * np.pi * 4 * t + k) for k in range(3)], axis=1)
    packets = []
    for k in range(frames):
        rows = slice(k * n, (k + 1) * n)
        device_t = 1000.0 + t[rows.stop - 1]
        packets.append(("acc", k, DecodedPacket(acc=acc[rows], device_time_s=device_t)))
        packets.append(("gyro", k, DecodedPacket(gyro=gyro[rows], device_time_s=device_t)))
    return np.hstack([acc, gyro]), packets


def join(rate: float, packets, order=None):
    timeline = SensorTimeline("left", rate, {"acc": StreamSpec("acc"), "gyro": StreamSpec("gyro")})
    blocks = []
    for stream, k, packet in (order or packets):
        blocks += timeline.push(stream, packet, 5.0 + packet.device_time_s - 1000.0 + 0.003)[0]
    blocks += timeline.disconnected()[0]
    return timeline.health, np.concatenate([b.index for b in blocks]), np.concatenate([b.x for b in blocks])


def test_a_channel_lost_over_a_short_hole_is_filled_and_counted_and_nothing_else_is_invented():
    rate, n = 416.0, 17  # Polar: a frame per stream every 41 ms
    sent, packets = polar_like(rate, n, 40)
    lost = {("gyro", 5), ("acc", 9), ("acc", 10), ("acc", 11),  # holes of 41 and 125 ms: filled
            ("acc", 20), ("acc", 21), ("acc", 22), ("acc", 23),  # 166 ms: its samples are lost
            ("acc", 30), ("gyro", 30)}  # both streams: lost
    health, index, x = join(rate, [p for p in packets if p[:2] not in lost])
    expected = np.setdiff1d(np.arange(40 * n), np.r_[np.arange(20 * n, 24 * n), np.arange(30 * n, 31 * n)])
    expected = expected - (n - 1)  # index 0 is the first packet's last sample
    assert np.array_equal(index, expected)
    assert health.lost_samples == 5 * n and health.interpolated_samples == 4 * n
    assert health.samples == len(index) == 35 * n
    number = index + n - 1
    truth = sent[number]
    gyro_hole, acc_hole = (number >= 5 * n) & (number < 6 * n), (number >= 9 * n) & (number < 12 * n)
    real = ~gyro_hole & ~acc_hole
    assert np.array_equal(x[real], truth[real].astype(np.float32))
    # The fill follows the swing: a straight line would be off by 0.68 rad/s (41 ms) and 0.6 m/s² (125 ms).
    assert np.abs(x[gyro_hole] - truth[gyro_hole]).max() < 0.05  # 4 Hz, ±5 rad/s
    assert np.abs(x[acc_hole] - truth[acc_hole]).max() < 0.1  # 3 Hz, ±1 m/s²


@pytest.mark.parametrize("rate, n", [(416.0, 17), (52.0, 2)])  # Polar's frames at 416 and 52 Hz
def test_the_fill_does_not_depend_on_which_stream_arrives_first(rate, n):
    _, packets = polar_like(rate, n, 40)
    kept = [p for p in packets if p[:2] not in {("gyro", 5), ("gyro", 6), ("acc", 14), ("acc", 30)}]
    acc, gyro = [p for p in kept if p[0] == "acc"], [p for p in kept if p[0] == "gyro"]
    reference = join(rate, kept)
    assert reference[0].interpolated_samples == 4 * n
    for order in (acc[:6] + gyro + acc[6:], gyro[:9] + acc + gyro[9:], acc + gyro, gyro + acc):
        health, index, x = join(rate, kept, order)
        assert np.array_equal(index, reference[1]) and np.array_equal(x, reference[2])
        assert health.interpolated_samples == reference[0].interpolated_samples


def polar_arrivals(rng: np.random.Generator, rate: float, n: int, frames: int, loss: float, both: float,
                   swap: float, repeat: float, corrupt: float = 0.0, reset_at: int | None = None):
    """Arrivals ``(host_t, stream, packet)`` of a Polar-like pair: acc and gyro frames lost
    independently (``loss`` each) or together (``both``), swapped with the next arrival, repeated,
    with one-sided receive jitter on a slightly fast crystal; a time stamp corrupt (``corrupt``), the
    device clock set back 500 s from frame ``reset_at`` on."""
    _, packets = polar_like(rate, n, frames)
    arrivals = []
    for k in range(frames):
        together = rng.uniform() < both
        for stream, _, packet in packets[2 * k:2 * k + 2]:
            if together or rng.uniform() < loss:
                continue
            host_t = 5.0 + (packet.device_time_s - 1000.0) * (1 + 80e-6) + 0.004 + rng.uniform(0, 0.02)
            if reset_at is not None and k >= reset_at:
                packet = dataclasses.replace(packet, device_time_s=packet.device_time_s - 500.0)
            if rng.uniform() < corrupt:
                packet = dataclasses.replace(packet, device_time_s=packet.device_time_s + 300.0)
            arrivals.append([host_t, stream, packet])
            if rng.uniform() < repeat:
                arrivals.append([host_t + 0.001, stream, packet])
    arrivals.sort(key=lambda a: a[0])
    for i in range(len(arrivals) - 1):
        if rng.uniform() < swap:
            arrivals[i][1:], arrivals[i + 1][1:] = arrivals[i + 1][1:], arrivals[i][1:]
    return [tuple(a) for a in arrivals]


def feed_pair(rate: float, arrivals, cuts=(), disconnect_at=(), batched: bool = False):
    """Blocks, gaps and health of a joined pair fed ``arrivals`` one by one (:meth:`SensorTimeline.push`)
    or in batches split at ``cuts`` (:meth:`SensorTimeline.push_batches`, each stream's notifications
    with their arrival ranks); disconnected before the arrivals in ``disconnect_at`` and at the end."""
    timeline = SensorTimeline("left", rate, {"acc": StreamSpec("acc", resolution_s=1e-9),
                                             "gyro": StreamSpec("gyro", resolution_s=1e-9)})
    blocks, gaps = [], []
    bounds = sorted({0, len(arrivals), *cuts, *disconnect_at})
    for a, b in zip(bounds[:-1], bounds[1:]):
        if a in disconnect_at:
            blocks_, gaps_ = timeline.disconnected()
            blocks, gaps = blocks + blocks_, gaps + gaps_
        chunk = arrivals[a:b]
        if batched:
            parts = []
            for stream in ("gyro", "acc"):
                mine = [k for k, (_, s, _) in enumerate(chunk) if s == stream]
                if mine:
                    table = {bytes([k % 256, k // 256]): chunk[k][2] for k in mine}
                    batch = batch_of_packets(_Table(table), list(table))
                    parts.append((stream, batch, np.array([chunk[k][0] for k in mine]), np.array(mine)))
            if parts:
                blocks_, gaps_ = timeline.push_batches(parts)
                blocks, gaps = blocks + blocks_, gaps + gaps_
        else:
            for host_t, stream, packet in chunk:
                blocks_, gaps_ = timeline.push(stream, packet, host_t)
                blocks, gaps = blocks + blocks_, gaps + gaps_
    blocks_, gaps_ = timeline.disconnected()
    return blocks + blocks_, gaps + gaps_, timeline


def assert_same_output(one, many):
    (blocks_1, gaps_1, timeline_1), (blocks_n, gaps_n, timeline_n) = one, many
    health_1, health_n = dataclasses.asdict(timeline_1.health), dataclasses.asdict(timeline_n.health)
    assert health_n == pytest.approx(health_1, rel=1e-12, nan_ok=True)  # floats: the rate's sums
    assert [(g.lost_samples, g.lost_packets, g.cause, g.exact) for g in gaps_n] == \
        [(g.lost_samples, g.lost_packets, g.cause, g.exact) for g in gaps_1]
    assert np.allclose([(g.t_start, g.t_end) for g in gaps_n], [(g.t_start, g.t_end) for g in gaps_1], rtol=0, atol=1e-9)
    if not blocks_1:
        assert not blocks_n
        return
    for field_ in ("index", "x"):
        assert np.array_equal(np.concatenate([getattr(b, field_) for b in blocks_n]),
                              np.concatenate([getattr(b, field_) for b in blocks_1]))
    t_1, t_n = np.concatenate([b.t for b in blocks_1]), np.concatenate([b.t for b in blocks_n])
    assert np.abs(t_n - t_1).max() < 1e-9


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**31), polar=st.sampled_from([(416.0, 17), (52.0, 2), (200.0, 9), (100.0, 1)]),
       loss=st.sampled_from([0.0, 0.01, 0.05, 0.2]), both=st.sampled_from([0.0, 0.01, 0.05]),
       swap=st.sampled_from([0.0, 0.02, 0.1]), repeat=st.sampled_from([0.0, 0.02]),
       corrupt=st.sampled_from([0.0, 0.01]), reset_at=st.none() | st.integers(50, 200),
       cuts=st.lists(st.integers(0, 500), max_size=6), disconnect_at=st.lists(st.integers(1, 500), max_size=2))
def test_a_joined_pair_in_batches_is_timed_and_joined_as_one_at_a_time(seed, polar, loss, both, swap, repeat, corrupt,
                                                                         reset_at, cuts, disconnect_at):
    """Any split into batches, whatever one channel or both lose, a corrupt time stamp or a device
    clock reset: the same samples (bit for bit), times, fills, gaps and counts as one by one."""
    rate, n = polar
    arrivals = polar_arrivals(np.random.default_rng(seed), rate, n, 250, loss, both, swap, repeat, corrupt, reset_at)
    cuts = [c for c in cuts if c < len(arrivals)]
    disconnect_at = {c for c in disconnect_at if c < len(arrivals)}
    assert_same_output(feed_pair(rate, arrivals, (), disconnect_at), feed_pair(rate, arrivals, cuts, disconnect_at, True))


def test_a_clean_stretch_of_a_joined_pair_is_timed_in_numpy(monkeypatch):
    """Neither stream losing a frame, the batched path joins the pair in numpy: only the first few
    packets (the clock fit and the join not started yet) go through the per-packet logic."""
    rate, n = 416.0, 17
    arrivals = polar_arrivals(np.random.default_rng(3), rate, n, 600, 0.0, 0.0, 0.0, 0.0)
    one = feed_pair(rate, arrivals)
    one_by_one = []
    push_rows = SensorTimeline._push_rows
    monkeypatch.setattr(SensorTimeline, "_push_rows", lambda self, *a: one_by_one.append(a) or push_rows(self, *a))
    many = feed_pair(rate, arrivals, cuts=[500], batched=True)
    assert_same_output(one, many)
    assert len(arrivals) == 1200 and len(one_by_one) <= 10
    assert len(many[0]) <= 20  # a block per batch, not per join


def test_clock_fit_fed_many_points_at_once_gives_the_line_of_one_at_a_time():
    rng = np.random.default_rng(1)
    index = np.arange(0, 60_000, 10).astype(float)
    index[3000:] += 7_000  # a jump past the window: it empties, the fit starts over
    host = 2.0 + index * (1e-3 * (1 - 150e-6)) + 0.002 + rng.uniform(0, 0.015, len(index))
    one = ClockFit(1 / 1000)
    lines = []
    for i, h in zip(index, host):
        one.add(i, h)
        lines.append((one.slope, one.intercept))
    many = ClockFit(1 / 1000)
    slopes, intercepts = [], []
    for chunk in np.array_split(np.arange(len(index)), [5, 17, 400, 2999, 3001, 4500]):
        s, c = many.add_many(index[chunk], host[chunk])
        slopes += list(s)
        intercepts += list(c)
    assert np.allclose(slopes, [s for s, _ in lines], rtol=1e-12, atol=0)
    assert np.allclose(intercepts, [c for _, c in lines], rtol=0, atol=1e-9)


class _Table:
    """A decoder of payloads that are keys of a table of packets (bytes → DecodedPacket)."""

    def __init__(self, packets):
        self.packets = packets

    def decode(self, data):
        packet = self.packets[data]
        if packet is None:
            raise MalformedPacket("broken")
        return packet


def faulty_stream(seed: int, rate: float, n: int, modulus: float | None, tick: float, count: int = 3000):
    """Packets of one IMU stream with device time (of the last sample; ``tick`` None: without) and
    their arrivals: drops, swaps, duplicates, a corrupt time stamp, a malformed packet, a device-clock reset."""
    rng = np.random.default_rng(seed)
    arrivals = []
    device0 = 12.345
    for k in range(count):
        if rng.uniform() < 0.02:
            continue  # lost
        last = (k + 1) * n - 1
        device_t = device0 + last / rate + (0 if k < 2000 else -500.0)  # the device clock reset at packet 2000
        device_t = np.floor(device_t / tick) * tick if tick else device_t  # (tick None: unused)
        if modulus:
            device_t %= modulus
        x = rng.normal(size=(n, 6))
        packet = DecodedPacket(acc=x[:, :3], gyro=x[:, 3:], device_time_s=None if tick is None else float(device_t))
        if tick is not None and rng.uniform() < 0.005:
            packet = DecodedPacket(acc=x[:, :3], gyro=x[:, 3:], device_time_s=float(device_t) + 300.0)  # corrupt
        arrive = 50.0 + last / rate * (1 + 100e-6) + 0.004 + rng.uniform(0, 0.02)  # a fast crystal
        arrivals.append([arrive, packet])
        if rng.uniform() < 0.01:
            arrivals.append([arrive + 0.001, packet])  # repeated
        if rng.uniform() < 0.003:
            arrivals.append([arrive + 0.001, None])  # malformed
    for i in range(len(arrivals) - 1):
        if rng.uniform() < 0.02:  # swapped with the next
            arrivals[i][1], arrivals[i + 1][1] = arrivals[i + 1][1], arrivals[i][1]
    return [(a, p) for a, p in arrivals]


@pytest.mark.parametrize("seed, rate, n, modulus, tick", [
    (0, 1000.0, 10, 2**32 / 1e6, 1e-6),  # gaitmon DIY: µs, wraps every 71 min
    (1, 208.0, 8, 2**32 / 1e3, 1e-3),  # Movesense: a ms clock
    (2, 1000.0, 10, 5.0, 1e-6),  # a clock that wraps often
    (3, 200.0, 1, None, None),  # WitMotion: no device time, timed by arrival
])
def test_a_batch_of_notifications_is_timed_as_one_at_a_time(seed, rate, n, modulus, tick):
    arrivals = faulty_stream(seed, rate, n, modulus, tick)
    spec = {"imu": StreamSpec("imu", clock="arrival")} if tick is None else \
        {"imu": StreamSpec("imu", device_time_modulus_s=modulus, resolution_s=tick if tick > 1e-6 else 0.0)}

    def run(batched: bool):
        timeline = SensorTimeline("left", rate, spec)
        blocks, gaps = [], []
        if batched:
            table = {bytes([k % 256, k // 256]): p for k, (_, p) in enumerate(arrivals)}
            payloads = list(table)
            host = np.array([a for a, _ in arrivals])
            for chunk in np.array_split(np.arange(len(arrivals)), [1, 300, 301, 1700, 2500]):
                batch = batch_of_packets(_Table(table), [payloads[i] for i in chunk])
                b, g = timeline.push_batch("imu", batch, host[chunk])
                blocks += b
                gaps += g
        else:
            for host_t, packet in arrivals:
                if packet is not None:
                    b, g = timeline.push("imu", packet, host_t)
                    blocks += b
                    gaps += g
        b, g = timeline.disconnected()
        return blocks + b, gaps + g, timeline.health

    (blocks_1, gaps_1, health_1), (blocks_n, gaps_n, health_n) = run(False), run(True)
    assert dataclasses.asdict(health_n) == pytest.approx(dataclasses.asdict(health_1), rel=1e-12)  # floats: the fit's sums
    assert [(g.lost_samples, g.lost_packets, g.cause, g.exact) for g in gaps_n] == \
        [(g.lost_samples, g.lost_packets, g.cause, g.exact) for g in gaps_1]
    assert np.allclose([(g.t_start, g.t_end) for g in gaps_n], [(g.t_start, g.t_end) for g in gaps_1], rtol=0, atol=1e-9)
    for field_ in ("index", "x"):
        assert np.array_equal(np.concatenate([getattr(b, field_) for b in blocks_n]),
                              np.concatenate([getattr(b, field_) for b in blocks_1]))
    t_1, t_n = np.concatenate([b.t for b in blocks_1]), np.concatenate([b.t for b in blocks_n])
    assert np.abs(t_n - t_1).max() < 1e-9
    assert len(blocks_n) < len(blocks_1) / 10  # runs in order come out as one block


def _hull_edge_by_scan(x, y, mean):
    """The lower hull by a monotone-chain scan, and its edge over ``mean`` (the first/last outside)."""
    hull = []
    for i in range(len(x)):
        while len(hull) >= 2:
            a, b = hull[-2], hull[-1]
            if (x[b] - x[a]) * (y[i] - y[a]) - (y[b] - y[a]) * (x[i] - x[a]) <= 0:
                hull.pop()
            else:
                break
        hull.append(i)
    k = min(max(int(np.searchsorted(x[hull], mean)), 1), len(hull) - 1)
    a, b = hull[k - 1], hull[k]
    slope = (y[b] - y[a]) / (x[b] - x[a])
    return slope, y[a] - slope * x[a]


@pytest.mark.parametrize("seed", range(40))
def test_the_hull_edge_over_the_mean_is_the_scan_s(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 65))
    x = np.unique(rng.choice(20_000, n, replace=False).astype(float))
    if len(x) < 2:
        return
    y = 3.0 + x * 1e-3 + rng.uniform(0, 0.02, len(x))
    for mean in (x.mean(), float(rng.uniform(x[0], x[-1])), x[0] - 5, x[-1] + 5, x[len(x) // 2], x[-1]):
        slope, intercept = _lower_hull_line(x, y, mean)
        expected = _hull_edge_by_scan(x, y, mean)
        assert slope == pytest.approx(expected[0], rel=1e-9) and intercept == pytest.approx(expected[1], abs=1e-9)


def test_compiled_clock_fit_is_loaded_in_a_built_checkout():
    if os.environ.get("GAITMON_PURE_PYTHON"):
        pytest.skip("pure-Python twin forced by GAITMON_PURE_PYTHON")
    assert ClockFit is not ClockFitTwin, "ext/clockfit.pyx did not build or import"


@st.composite
def arrivals(draw):
    """A fit's settings and its points: indices in order (packets of a few samples, losses, a jump
    past the window now and then), arrivals on a drifting clock with latency drawn from a few
    values (exact ties and collinear points) or uniform."""
    rate = draw(st.sampled_from([52.0, 100.0, 200.0, 208.0, 416.0, 1000.0]))
    window = draw(st.sampled_from([0.5, 2.0, 20.0]))
    envelope, max_skew = draw(st.booleans()), draw(st.sampled_from([0.01, 1.0]))
    n = draw(st.integers(1, 400))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    step = draw(st.integers(1, 20))
    gaps = rng.choice([0, 0, 0, 0, 0, 0, 0, 0, step, 5 * step, int(window * rate * 2)], size=n)
    index = float(draw(st.integers(-50, 10_000))) + np.cumsum(step + gaps).astype(float)
    if draw(st.booleans()):
        latency = rng.choice([0.0, 0.001, 0.002, 0.004], size=n)
    else:
        latency = rng.uniform(0, draw(st.sampled_from([0.0005, 0.02, 0.5])), n)
    drift = 1 + draw(st.sampled_from([0.0, 150e-6, -0.02]))
    host = draw(st.sampled_from([0.0, 5.0, 86_400.0])) + index / rate * drift + latency
    return (1 / rate, window, max_skew, envelope), index, host


@compiled_clock
@settings(max_examples=300, deadline=None)
@given(arrivals(), st.data())
def test_compiled_clock_fit_gives_its_twin_s_line_bit_for_bit(case, data):
    settings_, index, host = case
    twin, fast = ClockFitTwin(*settings_), ClockFit(*settings_)
    for i, h in zip(index, host):
        twin.add(i, h)
        fast.add(i, h)
        assert (fast.slope, fast.intercept) == (twin.slope, twin.intercept)
    # add_many is add of each point in turn, in any chunks; a copy goes on on its own.
    cuts = sorted(data.draw(st.lists(st.integers(0, len(index)), max_size=6)))
    many, lines = ClockFit(*settings_), []
    for chunk in np.split(np.arange(len(index)), cuts):
        lines += list(zip(*many.add_many(index[chunk], host[chunk])))
        if len(chunk):
            copy = many.copy()
            copy.add(index[chunk[-1]] + 1, host[chunk[-1]] - 1.0)
    one = ClockFit(*settings_)
    for k, (i, h) in enumerate(zip(index, host)):
        one.add(i, h)
        assert lines[k] == (one.slope, one.intercept)
    assert np.array_equal(one(index), many(index))


def _least_squares_line_numpy(x, y, weights):
    """The former ``_least_squares_line`` (numpy dot products, whose order of summation is BLAS's)."""
    w = weights / weights.sum()
    x0, y0 = float(w @ x), float(w @ y)
    dx = x - x0
    slope = float(w @ (dx * (y - y0))) / float(w @ (dx * dx))
    return slope, y0 - slope * x0


@settings(max_examples=200, deadline=None)
@given(st.integers(2, 64), st.integers(0, 2**32 - 1), st.booleans())
def test_least_squares_line_term_by_term_is_the_numpy_one_to_rounding(n, seed, regular):
    rng = np.random.default_rng(seed)
    x = np.arange(n) * 62.5 + 1e6 if regular else np.sort(rng.uniform(0, 1e6, n))
    y = 1e5 + x * 1e-3 + rng.uniform(0, 0.01, n)
    w = rng.integers(1, 40, n).astype(float)
    slope, intercept = _least_squares_line(x.tolist(), y.tolist(), w.tolist())
    expected_slope, expected_intercept = _least_squares_line_numpy(x, y, w)
    assert slope == pytest.approx(expected_slope, rel=1e-9)
    middle = float(np.median(x))  # compared where the points are (the intercept is far away at x = 0)
    assert intercept + slope * middle == pytest.approx(expected_intercept + expected_slope * middle, rel=0, abs=1e-9)
    assert _least_squares_line([5.0], [1.0], [3.0]) is None


@pytest.mark.parametrize("fit", [ClockFit, ClockFitTwin])
def test_a_clock_fit_refuses_an_index_that_is_not_a_number(fit):
    with pytest.raises(ValueError):
        fit(1 / 200).add(float("nan"), 1.0)


@compiled_clock
@pytest.mark.parametrize("seed", range(3))
def test_compiled_arrival_fit_gives_its_twin_s_line_bit_for_bit(seed):
    """The arrival-count fit of a WitMotion (one sample per notification at 200 Hz): a hull vertex often
    sits right at the mean index (the edge that ends there is taken)."""
    rng = np.random.default_rng(seed)
    index = np.arange(3000).astype(float)
    host = 7.0 + index / 200 * (1 - 0.01) + rng.uniform(0, 0.02, len(index))
    twin, fast = ClockFitTwin(1 / 200, window_s=0.5, max_skew=1.0), ClockFit(1 / 200, window_s=0.5, max_skew=1.0)
    for i, h in zip(index, host):
        twin.add(i, h)
        fast.add(i, h)
        assert (fast.slope, fast.intercept) == (twin.slope, twin.intercept)
