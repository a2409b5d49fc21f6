"""Time stamps for live samples: device time or arrival order → sample indices → host clock, losses marked.

Every stream of every family is reduced to one number per sample, its **index** on the sensor's own
sample clock (sample *i* was taken at ``i / rate`` on the device's crystal):

* families with a device clock (Polar PMD: ns since 2000 of a frame's last sample; Movesense: ms of
  the first sample; gaitmon DIY profile: µs of the first sample) give the index as
  ``round((device_time − first_device_time) · rate)``, the clock unwrapped at its modulus;
* families with neither (WitMotion) count arrivals: losses are invisible in the data, and are
  *estimated* from the arrival rate over the last half second and, at reconnections, from the
  host-time gap (:class:`GapMark` ``exact=False``, ``SensorHealth.lost_exact`` False).

Device time is checked against the clock fit's prediction from the arrival: a packet whose
samples would have been taken after it arrived (or seconds before) holds a corrupt time stamp; it
is counted (``bad_device_time``) and skipped. Several such packets that agree with each other are
a device clock that was really reset (a reboot, time set): a new segment, continued where the
clock fit puts it.

A jump in the index is a loss, counted in samples and packets and marked as a :class:`GapMark` —
never papered over. Packets that arrive out of order within a small window are put back in order
(:class:`ReorderBuffer`); duplicates are dropped and counted.

Two streams of one sensor (Polar: acc and gyro frames, lost independently) are joined on their
indices. A sample that only one of them lost is kept, the missing channel filled across the hole
when it is short (:data:`MAX_FILL_S`), and counted (``SensorHealth.interpolated_samples``), not lost.

The index is mapped onto the host clock (seconds of the injected clock: ``loop.time()`` live, a
virtual clock in tests and replay) by :class:`ClockFit`, a running linear fit of each packet's
arrival time against the index of its last sample, as the Lab Streaming Layer maps remote clocks.
Its slope absorbs crystal drift; its intercept follows the **lower envelope** of the arrivals
(radio latency only ever delays a packet), so receive-time jitter averages out instead of biasing
the time stamps. Two sensors mapped this way are aligned to well under a millisecond once the fit
has a few seconds of packets, whatever their drift.

A recorded session can be fed many notifications at once (:meth:`SensorTimeline.push_batch`): runs
of packets in order are indexed and timed in numpy, with the clock fit seeing the same points on
the same cadence (:meth:`ClockFit.add_many`), and everything else goes through the per-packet logic,
so a batched replay gives what the live path gave.

Everything here is pure bookkeeping on numbers: no I/O, no clock reads, no bleak.
"""

from __future__ import annotations

import heapq
import math
import os
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from gaitmon.sensors.decoder import DATA, DecodedBatch, DecodedPacket
from gaitmon.sensors.family import StreamSpec


@dataclass(frozen=True)
class SampleBlock:
    """Consecutive samples of one sensor on the host clock.

    Attributes
    ----------
    sensor : str
        The sensor's name in this session (e.g. ``"left"``).
    t : ndarray (n,) float64
        Host time of each sample, s.
    x : ndarray (n, 6) float32
        ``ax, ay, az`` (m/s²), ``gx, gy, gz`` (rad/s) in the sensor's axes.
    index : ndarray (n,) int64
        The samples' indices on the sensor's sample clock (gaps show as jumps).
    """

    sensor: str
    t: np.ndarray
    x: np.ndarray
    index: np.ndarray


@dataclass(frozen=True)
class GapMark:
    """Samples that should have arrived and did not.

    Attributes
    ----------
    sensor : str
    t_start, t_end : float
        Host time of the last sample before the gap and the first after it, s.
    lost_samples : int
        Samples missing between them.
    lost_packets : int
        Notifications missing (lost samples over the samples per notification).
    cause : str
        ``"lost packets"``, ``"disconnected"``, ``"stalled"`` (the sensor stopped streaming while
        connected) or ``"device clock reset"``.
    exact : bool
        False when the counts are estimated from host time: families without counter or device
        time, and the gap over a device-clock reset.
    """

    sensor: str
    t_start: float
    t_end: float
    lost_samples: int
    lost_packets: int
    cause: str = "lost packets"
    exact: bool = True


class ClockFit:
    """Running linear map from a sample index to host time, fitted to packet arrivals.

    ``host ≈ intercept + slope · index``. Radio latency only ever adds delay, so the line is the
    edge of the **lower convex hull** of the recent arrivals that lies under their mean index — the
    linear-programming estimate of clock skew from one-way delays (Moon, Skelly & Towsley 1999,
    "Estimation and removal of clock skew from network delay measurements"). Its slope absorbs
    crystal drift; jitter above the latency floor does not bias it.

    The window is kept **incrementally**, as :data:`HULL_BUCKETS` buckets of index (each
    ``window_s / HULL_BUCKETS`` of nominal sample time) in a ring: per bucket the lowest arrival
    after removing the nominal slope (the lower hull's vertices are among those), the count and the
    mean index of its points. Adding a point updates one bucket (O(1)); buckets more than the window
    behind the newest index are forgotten. The line is refitted on the ≤ 64 bucket minima on a
    **fixed cadence of arrivals**: at every point while fewer than :attr:`MIN_POINTS_FOR_SLOPE` are
    in the window, then at the first point at least ``refit_s`` of host time after the last refit
    (``window_s / 20``: 1 s for the 20 s window). Between refits the intercept only ever moves down
    to a faster packet. The cadence depends on the arrivals alone, so feeding the points one by one
    (:meth:`add`, live) or many at once (:meth:`add_many`, a replay) gives the same line after every
    point.

    This class is the specification (``ClockFitTwin``); when it is built, ``ClockFit`` is the compiled
    kernel ``ext/clockfit.pyx``, the same algorithm statement for statement, giving the same line bit
    for bit (sums are taken term by term in bucket order in both): a refit there is a few µs instead
    of ~0.1 ms, which matters for the arrival-count fit of families without device time (a refit
    every 25 ms of arrivals).

    Parameters
    ----------
    nominal_period_s : float
        1 / nominal rate: the slope until enough points exist.
    window_s : float
        Length of history used for the slope, s of nominal sample time (indices × period).
    max_skew : float
        Largest relative departure of the slope from nominal that is believed: 1 % for a crystal.
        The fit of arrival times against arrival *counts* (a family without device time) has the
        loss fraction in its slope and allows more.
    envelope : bool
        False: a least-squares line (through the buckets' centroids, weighted by their counts)
        instead of the lower envelope, for points that carry no latency (already envelope estimates)
        but a rounding error of either sign.
    """

    MIN_POINTS_FOR_SLOPE = 16

    def __init__(self, nominal_period_s: float, window_s: float = 20.0, max_skew: float = 0.01,
                 envelope: bool = True):
        self.nominal_period_s = float(nominal_period_s)
        self.window_s = float(window_s)
        self.max_skew = float(max_skew)
        self.envelope = bool(envelope)
        self.refit_s = self.window_s / 20.0
        self._width = self.window_s / self.nominal_period_s / HULL_BUCKETS  # indices per bucket
        self.reset()

    def reset(self) -> None:
        """Forget every point (a new segment: e.g. a sensor without device time reconnected)."""
        k = HULL_BUCKETS  # the ring, slot = bucket number mod k (Python lists: scalar work per point)
        self._bucket = [_NO_BUCKET] * k  # bucket number held in each slot
        self._low = [math.inf] * k  # lowest host − nominal·index of the bucket, s
        self._low_index = [0.0] * k  # the index of that point
        self._count = [0] * k
        self._sum_index = [0.0] * k  # Σ (index − bucket's first index)
        self._sum_offset = [0.0] * k  # Σ (host − nominal·index), s (least squares)
        self._newest = _NO_BUCKET  # newest bucket number
        self._points = 0  # points in the window's buckets
        self._next_refit = -math.inf
        self.slope = self.nominal_period_s
        self.intercept: float | None = None

    # -- one point (live) ---------------------------------------------------------------------------
    def add(self, index: float, host_t: float) -> None:
        """A packet whose last sample has ``index`` arrived at ``host_t``."""
        index, host_t = float(index), float(host_t)
        b = int(index // self._width)
        if b > self._newest:
            self._advance(b)
        elif b <= self._newest - HULL_BUCKETS:
            return  # older than the window
        slot = self._slot(b)
        offset = host_t - self.nominal_period_s * index
        if offset < self._low[slot]:
            self._low[slot], self._low_index[slot] = offset, index
        self._count[slot] += 1
        self._sum_index[slot] += index - b * self._width
        self._sum_offset[slot] += offset
        self._points += 1
        if self.intercept is None:
            self.intercept = host_t - self.slope * index
        elif self._points < self.MIN_POINTS_FOR_SLOPE or host_t >= self._next_refit:
            self._refit(host_t)
        elif self.envelope:  # between refits only ever lower the envelope (a faster packet)
            self.intercept = min(self.intercept, host_t - self.slope * index)

    def _slot(self, b: int) -> int:
        """The ring slot of bucket ``b`` (emptied if it held an older bucket)."""
        slot = b % HULL_BUCKETS
        if self._bucket[slot] != b:
            self._bucket[slot], self._low[slot], self._count[slot] = b, math.inf, 0
            self._sum_index[slot] = self._sum_offset[slot] = 0.0
        return slot

    def _leaving(self, b: int) -> list[int]:
        """The ring slots whose buckets fall out of the window once bucket ``b`` is the newest."""
        slots = [k % HULL_BUCKETS for k in range(max(self._newest, b - HULL_BUCKETS) + 1, b + 1)]
        return [slot for slot in slots if self._bucket[slot] != _NO_BUCKET and self._bucket[slot] <= b - HULL_BUCKETS]

    def _advance(self, b: int) -> None:
        """Bucket ``b`` is the newest: forget the buckets that fall out of the window."""
        for slot in self._leaving(b):
            self._points -= self._count[slot]
            self._bucket[slot], self._count[slot] = _NO_BUCKET, 0
        self._newest = b

    def _points_after(self, b: int) -> int:
        """Points in the window once bucket ``b`` is there."""
        if b <= self._newest:
            return self._points
        return self._points - sum(self._count[slot] for slot in self._leaving(b))

    # -- many points (a replay) -------------------------------------------------------------------
    def add_many(self, index: np.ndarray, host_t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`add` of each point in turn; returns ``(slope, intercept)`` after each point.

        Indices must not decrease (a run of packets in order); the buckets are updated in bulk between
        refits, the intercept's lowering between them is a running minimum.
        """
        index = np.asarray(index, dtype=np.float64)
        host_t = np.asarray(host_t, dtype=np.float64)
        n = len(index)
        slopes, intercepts = np.empty(n), np.empty(n)
        reached = np.maximum.accumulate(host_t)  # a refit is due at the first point at or after its time
        i = 0
        while i < n:
            if self._refits_at(float(index[i]), float(host_t[i])):
                self.add(index[i], host_t[i])  # a refit (or the first point): one at a time
                slopes[i], intercepts[i] = self.slope, self.intercept
                i += 1
                continue
            # Points i .. j-1 arrive before the next refit is due: no refit among them.
            j = max(i + 1, int(np.searchsorted(reached, self._next_refit, side="left")))
            j = i + self._add_bulk(index[i:j], host_t[i:j])
            slopes[i:j] = self.slope
            if self.envelope:
                intercepts[i:j] = np.minimum(self.intercept, np.minimum.accumulate(host_t[i:j] - self.slope * index[i:j]))
                self.intercept = float(intercepts[j - 1])
            else:
                intercepts[i:j] = self.intercept
            i = j
        return slopes, intercepts

    def _refits_at(self, index: float, host_t: float) -> bool:
        """Whether :meth:`add` of this point would set the line (refit, or the first point), or
        ignore it (older than the window)."""
        if self.intercept is None or host_t >= self._next_refit:
            return True
        b = int(index // self._width)
        if b <= self._newest - HULL_BUCKETS:
            return True
        return self._points_after(b) + 1 < self.MIN_POINTS_FOR_SLOPE

    def _add_bulk(self, index: np.ndarray, host_t: np.ndarray) -> int:
        """The buckets' part of :meth:`add` for points of non-decreasing index, none of which refits
        before a new bucket; stops at a new bucket whose first point would refit (the window emptied).
        Returns the points taken."""
        buckets = (index // self._width).astype(np.int64)
        offsets = host_t - self.nominal_period_s * index
        starts = np.flatnonzero(_prepend(True, buckets[1:] != buckets[:-1]))
        ends = np.append(starts[1:], len(index))
        lowest = [s + int(np.argmin(offsets[s:e])) for s, e in zip(starts.tolist(), ends.tolist())]
        groups = zip(starts.tolist(), buckets[starts].tolist(), offsets[lowest].tolist(), index[lowest].tolist(),
                     (ends - starts).tolist(), np.add.reduceat(index - buckets * self._width, starts).tolist(),
                     np.add.reduceat(offsets, starts).tolist())
        for k, (s, b, low, low_index, count, sum_index, sum_offset) in enumerate(groups):
            if k and self._points_after(b) + 1 < self.MIN_POINTS_FOR_SLOPE:
                return s
            if b > self._newest:
                self._advance(b)
            slot = self._slot(b)
            if low < self._low[slot]:
                self._low[slot], self._low_index[slot] = low, low_index
            self._count[slot] += count
            self._sum_index[slot] += sum_index
            self._sum_offset[slot] += sum_offset
            self._points += count
        return len(index)

    # -- the line -----------------------------------------------------------------------------------
    def _refit(self, host_t: float) -> None:
        # Sums are taken one term after the other, in bucket order (as the compiled kernel does).
        self._next_refit = host_t + self.refit_s
        oldest = self._newest - HULL_BUCKETS
        slots = [b % HULL_BUCKETS for b in range(oldest + 1, self._newest + 1)]  # bucket order: no sort
        slots = [s for s in slots if self._bucket[s] > oldest and self._count[s]]
        counts = [float(self._count[s]) for s in slots]
        total = 0.0
        for c in counts:
            total += c
        line = None
        if self.envelope:
            index = [self._low_index[s] for s in slots]
            host = [self._low[s] + self.nominal_period_s * i for s, i in zip(slots, index)]
            if self._points >= self.MIN_POINTS_FOR_SLOPE and len(index) >= 2:
                base = sum_index = 0.0
                for s, c in zip(slots, counts):
                    base += self._bucket[s] * self._width * c
                    sum_index += self._sum_index[s]
                line = _lower_hull_line(np.array(index), np.array(host), (base + sum_index) / total)
        else:
            index = [self._bucket[s] * self._width + self._sum_index[s] / c for s, c in zip(slots, counts)]
            host = [self._sum_offset[s] / c + self.nominal_period_s * i for s, c, i in zip(slots, counts, index)]
            if self._points >= self.MIN_POINTS_FOR_SLOPE:
                line = _least_squares_line(index, host, counts)
        if line is not None and abs(line[0] / self.nominal_period_s - 1.0) < self.max_skew:
            self.slope, self.intercept = line
        elif self.envelope:
            self.intercept = min(h - self.slope * i for h, i in zip(host, index))
        else:
            weighted = 0.0
            for h, i, c in zip(host, index, counts):
                weighted += (h - self.slope * i) * c
            self.intercept = weighted / total

    def copy(self) -> ClockFit:
        """An independent copy (to try points on)."""
        other = object.__new__(type(self))
        other.__dict__ = {k: list(v) if isinstance(v, list) else v for k, v in self.__dict__.items()}
        return other

    def __call__(self, index: np.ndarray) -> np.ndarray:
        """Host time (s) of samples with these indices."""
        return self.intercept + self.slope * np.asarray(index, dtype=np.float64)


#: The pure-Python clock fit: the specification of the compiled one (``ext/clockfit.pyx``), which
#: :class:`ClockFit` is when it is built (``GAITMON_PURE_PYTHON=1`` forces the twin).
ClockFitTwin = ClockFit
if not os.environ.get("GAITMON_PURE_PYTHON"):
    try:
        from gaitmon.stream._clockfit import ClockFit  # noqa: F811
    except ImportError:  # a source checkout that was never built
        pass


@dataclass(order=True)
class _Pending:
    first: int
    seq: int
    n: int = field(compare=False)
    payload: object = field(compare=False)


class ReorderBuffer:
    """Holds the last ``depth`` packets of a stream so that swapped notifications are put back in order.

    ``push`` returns the packets released in index order. A packet whose samples were all released
    already is a duplicate (same first index as one seen) or late (it lost the race with its
    successor, whose gap was already marked); either way it is counted and dropped.
    """

    def __init__(self, depth: int = 2):
        self.depth = int(depth)
        self._heap: list[_Pending] = []
        self._seq = 0
        self.next_expected: int | None = None
        self.duplicates = 0
        self.late = 0
        self._pending_firsts: set[int] = set()
        self._released_firsts: deque[int] = deque(maxlen=64)

    def push(self, first: int, n: int, payload) -> tuple[bool, list[tuple[int, int, object]]]:
        """Add a packet of ``n`` samples starting at index ``first``.

        Returns ``(accepted, released)``: accepted is False for a duplicate or late packet (counted);
        released are ``(first, n, (payload, skip))`` in index order, ``skip`` leading samples
        already released by an overlapping packet.
        """
        if first in self._pending_firsts:
            self.duplicates += 1
            return False, []
        if self.next_expected is not None and first + n <= self.next_expected:
            if first in self._released_firsts:
                self.duplicates += 1
            else:
                self.late += 1
            return False, []
        self._seq += 1
        heapq.heappush(self._heap, _Pending(first, self._seq, n, payload))
        self._pending_firsts.add(first)
        return True, self._release(len(self._heap) - self.depth)

    def flush(self) -> list[tuple[int, int, object]]:
        """Release everything held (the stream paused: disconnect or end of session)."""
        return self._release(len(self._heap))

    def _release(self, count: int) -> list[tuple[int, int, object]]:
        out = []
        for _ in range(max(0, count)):
            item = heapq.heappop(self._heap)
            self._pending_firsts.discard(item.first)
            self._released_firsts.append(item.first)
            if self.next_expected is not None and item.first < self.next_expected:
                skip = self.next_expected - item.first  # overlaps what was released: keep the new part
                if skip >= item.n:
                    self.duplicates += 1
                    continue
                out.append((item.first + skip, item.n - skip, (item.payload, skip)))
            else:
                out.append((item.first, item.n, (item.payload, 0)))
            self.next_expected = item.first + item.n
        return out


#: Index buckets of :class:`ClockFit`'s window: the lower hull is taken over their lowest points.
HULL_BUCKETS = 64
_NO_BUCKET = -(1 << 62)


def _lower_hull_line(x: np.ndarray, y: np.ndarray, mean: float) -> tuple[float, float] | None:
    """(slope, intercept) of the lower-convex-hull edge of points (x, y) (x increasing, a few dozen)
    spanning ``mean`` (the mean index of every point of the window; the first or last edge when it
    lies outside the points).

    The lower hull at ``mean`` is the lowest of the chords between a point left of it and one right of
    it; the chord that attains it is the edge (all pairs at once: ≤ 32 × 32 for 64 buckets). A hull
    vertex right at ``mean`` takes the edge that ends there, as a scan along the hull finds it.
    """
    x0, y0 = float(x[0]), float(y[0])  # shift for precision: host times are ~1e5 s, indices up to ~1e7
    xs, ys = x - x0, y - y0
    m = float(mean) - x0
    if len(xs) < 2 or xs[-1] == xs[0]:
        return None
    if m <= xs[0] or m >= xs[-1]:  # outside (or at an end): the first edge (least slope from the first point) or the last
        if m <= xs[0]:
            slopes = (ys[1:] - ys[0]) / (xs[1:] - xs[0])
            j = len(slopes) - 1 - int(np.argmin(slopes[::-1]))  # the farthest of equal slopes, as a hull keeps
            a, b = 0, j + 1
        else:
            slopes = (ys[-1] - ys[:-1]) / (xs[-1] - xs[:-1])
            a, b = int(np.argmax(slopes)), len(xs) - 1
        if xs[a] == xs[b]:
            return None
        xa, ya, xb, yb = float(xs[a]), float(ys[a]), float(xs[b]), float(ys[b])
    else:
        left, right = xs < m, xs > m
        xl, yl, xr, yr = xs[left][:, None], ys[left][:, None], xs[right][None, :], ys[right][None, :]
        at_mean = yl + (yr - yl) * ((m - xl) / (xr - xl))
        i, j = np.unravel_index(int(np.argmin(at_mean)), at_mean.shape)
        xa, ya, xb, yb = float(xl[i, 0]), float(yl[i, 0]), float(xr[0, j]), float(yr[0, j])
        on = np.flatnonzero(xs == m)
        if len(on) and ys[on[0]] <= at_mean[i, j]:  # a vertex right at the mean: the edge that ends there
            b = int(on[0])
            a = int(np.argmax((ys[b] - ys[:b]) / (xs[b] - xs[:b])))
            xa, ya, xb, yb = float(xs[a]), float(ys[a]), float(xs[b]), float(ys[b])
    slope = (yb - ya) / (xb - xa)
    return slope, y0 + ya - slope * xa - slope * x0


def _least_squares_line(x: list[float], y: list[float], weights: list[float]) -> tuple[float, float] | None:
    """(slope, intercept) of the weighted least-squares line through points (x, y) (sums term by term)."""
    total = 0.0
    for w in weights:
        total += w
    w = [v / total for v in weights]
    x0 = y0 = 0.0  # centred for precision
    for wi, xi, yi in zip(w, x, y):
        x0 += wi * xi
        y0 += wi * yi
    spread = moment = 0.0
    for wi, xi, yi in zip(w, x, y):
        dx = xi - x0
        spread += wi * (dx * dx)
        moment += wi * (dx * (yi - y0))
    if spread == 0:
        return None
    slope = moment / spread
    return slope, y0 - slope * x0


def _unwrap(value: float, previous: float | None, modulus: float | None) -> float:
    """The representative of ``value`` (mod ``modulus``) nearest to ``previous``."""
    if modulus is None or previous is None:
        return value
    return value + modulus * round((previous - value) / modulus)


class _Stream:
    def __init__(self, spec: StreamSpec, reorder_depth: int):
        self.spec = spec
        self.buffer = ReorderBuffer(reorder_depth)
        self.last_device_time: float | None = None
        self.next_arrival = 0
        self.arrived = 0  # samples arrived in this connection (arrival-timed streams)
        self.samples_per_packet = 0
        self.lost_packets = 0
        self.released_to: int | None = None
        self.device_seen = False
        self.last_first: int | None = None


#: A packet whose device time puts its last sample more than this after its own arrival (on the
#: clock fit) is impossible: its time stamp is corrupt, s. Larger than the fit's error (drift is
#: fitted; jitter only delays), far smaller than a time-stamp bit flip that matters.
EARLY_TOLERANCE_S = 0.1
#: ... or more than this before it: no radio queue holds a packet that long, s.
LATE_TOLERANCE_S = 2.0
#: Impossible packets that agree with each other (their device times advance with host time) in a
#: row: the device clock itself was reset (sensor rebooted, time set), not a corrupt time stamp.
RESET_AFTER_PACKETS = 3
#: Longest hole of one of two joined streams (Polar's acc and gyro: separate notifications, lost
#: independently) that is filled, from the real sample before it to the real sample after it, s.
#: Polar sends a frame every 41 ms per stream: up to three lost in a row (125 ms) are filled, the
#: other channel being real throughout; longer holes lose their samples (the core breaks the stride
#: at 0.1 s without samples). Measured on 3-minute fault runs (5 % loss + 1 % corrupt, six seeds of
#: ``tests/integration/test_fault_runs.py``): with 0.1 s, a stream's three frames lost in a row (~4 a
#: run) cost 0–3 contacts and 0–6 toe-offs a run; with 0.13 s, no contact and no toe-off is lost to
#: them.
MAX_FILL_S = 0.13
#: Real samples of the channel on each side of a hole that its fill is fitted to.
FILL_SUPPORT = 4
#: Window of the arrival-count fit of families without device time (see :meth:`SensorTimeline._arrival_index`), s.
ARRIVAL_WINDOW_S = 0.5
#: Arrival-timed streams: how often the index anchor moves on while no loss is seen, s (crystal drift
#: of 200 ppm over it is 0.2 samples at 200 Hz, under the half sample that would count as a loss).
REANCHOR_S = 5.0


@dataclass
class SensorHealth:
    """What the acquisition layer can say about one sensor (host-time quantities in s)."""

    packets: int = 0
    samples: int = 0
    lost_samples: int = 0
    lost_packets: int = 0
    duplicates: int = 0
    late: int = 0
    gaps: int = 0
    effective_rate_hz: float = 0.0
    last_sample_t: float = float("nan")
    #: False when the lost counts are estimated from arrival times (no device time in the packets).
    lost_exact: bool = True
    #: Packets whose device time was impossible (a corrupt time stamp): not believed, skipped.
    bad_device_time: int = 0
    #: Samples handed on with one of two joined channels (Polar's acc or gyro) interpolated across
    #: a short hole of its stream (see :data:`MAX_FILL_S`); counted in ``samples``, not lost.
    interpolated_samples: int = 0


class SensorTimeline:
    """One sensor: decoded packets of its streams → in-order, host-timed :class:`SampleBlock` + gaps.

    Parameters
    ----------
    sensor : str
        Name used in blocks and gap marks.
    sample_rate_hz : float
        The rate the sensor was configured to (on its own clock).
    streams : dict
        stream key → :class:`StreamSpec`. Either one ``"imu"`` stream, or an ``"acc"`` and a
        ``"gyro"`` stream joined sample by sample on their indices (Polar PMD).
    reorder_depth : int
        Packets held per stream to undo swapped notifications (adds that many packets of latency).
    """

    def __init__(self, sensor: str, sample_rate_hz: float, streams: dict[str, StreamSpec],
                 reorder_depth: int = 2):
        channels = sorted(spec.channels for spec in streams.values())
        if channels not in (["imu"], ["acc", "gyro"]):
            raise ValueError(f"streams must be one 'imu' stream or an 'acc' and a 'gyro' stream, not {channels}")
        self.sensor = sensor
        self.rate = float(sample_rate_hz)
        self._streams = {key: _Stream(spec, reorder_depth) for key, spec in streams.items()}
        self._joined = len(streams) == 2
        # Joined streams: each channel's released real rows (indices, rows) not joined yet, after the
        # last few joined (the support of a hole's fill); every index below _joined_to is joined.
        self._held: dict[str, tuple[np.ndarray, np.ndarray]] = {"acc": (), "gyro": ()}
        self._frontier: dict[str, int | None] = {"acc": None, "gyro": None}
        self._keep_from(None)
        self._max_hole = int(MAX_FILL_S * self.rate)  # longest hole filled, sample periods between real samples
        self._joined_run_most = self.JOINED_RUN_MIN  # packets the next _joined_run looks at
        arrival_timed = all(spec.clock == "arrival" for spec in streams.values())
        # Arrival-timed streams feed it the arrival fit's send times (no latency left in them).
        self.clock = ClockFit(1.0 / self.rate, envelope=not arrival_timed)
        # Device time of sample index 0 lies in [lo, hi] (s): narrowed by every packet of a coarse clock.
        self._phase: tuple[float, float] | None = None
        self._suspects: list[tuple[str, np.ndarray, float, float]] = []  # (stream, rows, host_t, device_t)
        # Arrival-timed: host time against the count of samples arrived, and the (count, index) anchor.
        self._arrivals = ClockFit(1.0 / self.rate, window_s=ARRIVAL_WINDOW_S, max_skew=1.0)
        self._arrival_anchor: tuple[float, int] | None = None
        self._last_index: int | None = None
        self._last_t: float | None = None
        self._segment_break: str | None = None
        self._health = SensorHealth(lost_exact=not arrival_timed)
        self._rate_window: deque[tuple[float, int]] = deque()
        self._rate_count = 0

    # -- input -------------------------------------------------------------------------------------
    def push(self, stream: str, packet: DecodedPacket, host_t: float) -> tuple[list[SampleBlock], list[GapMark]]:
        """Feed one decoded data packet of ``stream`` that arrived at ``host_t``."""
        rows = _rows(self._streams[stream].spec.channels, packet)
        return self._push_rows(stream, rows, packet.device_time_s, host_t)

    def _push_rows(self, stream: str, rows: np.ndarray, device_time_s: float | None,
                   host_t: float) -> tuple[list[SampleBlock], list[GapMark]]:
        """:meth:`push` of a packet's rows ((n, 6) or (n, 3)) and its device time (None: none)."""
        st = self._streams[stream]
        if len(rows) == 0:
            return [], []
        if device_time_s is None:
            first, sent_t = self._arrival_index(st, len(rows), host_t)
            return self._accept(stream, first, rows, sent_t)
        device_t = _unwrap(device_time_s, st.last_device_time, st.spec.device_time_modulus_s)
        if self._plausible(device_t, host_t):
            self._health.bad_device_time += len(self._suspects)
            self._suspects.clear()
            return self._accept(stream, self._device_index(st, device_t, len(rows)), rows, host_t, device_t)
        self._suspects.append((stream, rows, host_t, device_t))
        if not self._device_clock_was_reset():
            return [], []
        return self._new_segment()

    def _accept(self, stream: str, first: int, rows: np.ndarray, host_t: float, device_t: float | None = None):
        st = self._streams[stream]
        n = len(rows)
        if device_t is not None:
            st.last_device_time = device_t if st.last_device_time is None else max(st.last_device_time, device_t)
            st.device_seen = True
        st.last_first = first
        self._health.packets += 1
        st.samples_per_packet = n
        accepted, released = st.buffer.push(first, n, rows)
        if accepted:
            self.clock.add(first + n - 1, host_t)
        return self._emit(stream, released)

    # -- input, many at once (a replay) ---------------------------------------------------------------
    def push_batch(self, stream: str, batch: DecodedBatch, host_t: np.ndarray) -> tuple[list[SampleBlock], list[GapMark]]:
        """Feed many notifications of one stream (a :class:`DecodedBatch`, arrival times ``host_t`` in s).

        Gives what :meth:`push` of each data notification in turn gives (the clock fit sees the same
        points on the same cadence: :meth:`ClockFit.add_many`), except that a clean run of packets
        comes out as one block. Clean runs — device time, the expected next indices, plausible
        times, nothing held out of order — are timed in numpy (:meth:`_clean_run`; a joined pair's,
        neither stream with a hole, are joined there too: :meth:`_joined_run`); every other packet
        goes through the per-packet logic.
        """
        return self.push_batches([(stream, batch, np.asarray(host_t, dtype=np.float64), None)])

    def push_batches(self, parts) -> tuple[list[SampleBlock], list[GapMark]]:
        """:meth:`push_batch` of the notifications of several streams of this sensor that arrived
        interleaved: ``parts`` is ``[(stream, batch, host_t, order)]``, ``order`` (N,) the arrival
        rank of each notification among all of them (None: one stream, in its own order)."""
        packets = [_batch_packets(self._streams[stream].spec.channels, batch, host_t) + (stream,)
                   for stream, batch, host_t, _ in parts]
        blocks, gaps = [], []
        if len(parts) == 1 and not self._joined:
            rows, starts, n, device_t, host, _, stream = packets[0]
            pos = 0
            while pos < len(n):
                taken = self._clean_run(stream, rows, starts, n, device_t, host, pos, blocks, gaps)
                if taken:
                    pos += taken
                    continue
                b, g = self._push_rows(stream, rows[starts[pos]:starts[pos] + n[pos]],
                                       None if device_t[pos] != device_t[pos] else float(device_t[pos]), float(host[pos]))
                blocks += b
                gaps += g
                pos += 1
            return blocks, gaps
        # Several streams (a joined pair), in arrival order: runs without a hole in either stream are
        # joined and timed in numpy (_joined_run), every other packet goes through the per-packet logic.
        keys = list(self._streams)
        order = np.concatenate([order[which] if order is not None else which
                                for (_, _, _, order), (*_, which, _) in zip(parts, packets)])
        by_arrival = np.argsort(order, kind="stable")  # ties: part then position, as the parts are listed
        part = np.concatenate([np.full(len(p[2]), k) for k, p in enumerate(packets)])[by_arrival]
        j = np.concatenate([np.arange(len(p[2])) for p in packets])[by_arrival]
        slot = np.array([keys.index(p[-1]) for p in packets], dtype=np.int64)[part]
        n, device_t, host = (np.concatenate([p[k] for p in packets])[by_arrival] for k in (2, 3, 4))
        one_part_each = len({p[-1] for p in packets}) == len(packets)
        pos = 0
        while pos < len(n):
            taken = one_part_each and self._joined_run(packets, slot, part, j, n, device_t, host, pos, blocks, gaps)
            if taken:
                pos += taken
                continue
            rows, starts, _, _, _, _, stream = packets[part[pos]]
            k = j[pos]
            b, g = self._push_rows(stream, rows[starts[k]:starts[k] + n[pos]],
                                   None if device_t[pos] != device_t[pos] else float(device_t[pos]), float(host[pos]))
            blocks += b
            gaps += g
            pos += 1
        return blocks, gaps

    #: Packets looked at per try of :meth:`_clean_run` (bounds the work wasted on a run cut short).
    CLEAN_RUN_MAX = 4096
    #: ... of :meth:`_joined_run` at least (it looks four times as far as its last run went).
    JOINED_RUN_MIN = 64

    def _clean_run(self, stream: str, rows: np.ndarray, starts: np.ndarray, n: np.ndarray, device_time: np.ndarray,
                   host: np.ndarray, pos: int, blocks: list, gaps: list) -> int:
        """Time the run of in-order packets from ``pos`` in numpy, exactly as :meth:`_push_rows` one by
        one would; returns the packets taken (0: packet ``pos`` is not in order, feed it alone).

        In order: indices (:meth:`_device_run`, :meth:`_arrival_run`) after the end of the packet
        before each (a jump is a loss: counted and marked as :meth:`_emit` and :meth:`_timed` do), and
        the reorder buffer holding only packets in order.
        """
        st = self._streams[stream]
        if self._suspects or self.clock.intercept is None or self._segment_break or self._last_index is None:
            return 0
        held = sorted(st.buffer._heap)
        end = self._last_index + 1  # the held packets: in order after what was released, none overlapping
        for item in held:
            if item.first < end:
                return 0
            end = item.first + item.n
        if device_time[pos] == device_time[pos]:
            run = self._device_run([st], np.zeros(len(n), dtype=np.int64), n, device_time, host, pos, [end])
        else:
            run = self._arrival_run(st, n, device_time, host, pos, end)
        if run is None:
            return 0
        first, size, slopes, intercepts = run
        self._release_run(st, held, first, size, rows, starts[pos:pos + len(first)], slopes, intercepts, blocks, gaps)
        return len(first)

    def _device_run(self, streams: list[_Stream], slot: np.ndarray, n, device_time, host, pos: int, ends: list[int],
                    contiguous: bool = False, most: int = CLEAN_RUN_MAX):
        """Indices of the packets from ``pos`` on that have device time, as :meth:`_device_index` gives
        them, up to the first one out of order or implausible (:meth:`_plausible`); the clock fit takes
        them, and each stream's state follows its last one. ``streams[slot[i]]`` is packet i's stream
        (they share the phase and the clock fit); ``ends[k]``: where stream k's next packet may start
        (the end of what it released and holds), and must start if ``contiguous`` (no loss); at most
        ``most`` packets. Returns ``(first, size, slope, intercept)`` (the fit after each), or None."""
        if self._phase is None or any(st.last_first is None or st.last_device_time is None for st in streams):
            return None
        stop = min(len(n), pos + most)
        missing = np.flatnonzero(np.isnan(device_time[pos:stop]))
        m = int(missing[0]) if len(missing) else stop - pos
        size = n[pos:pos + m]
        raw = device_time[pos:pos + m]
        which = slot[pos:pos + m]
        before = np.full(m, -1)  # the packet of the same stream before each (-1: before the run)
        for k in range(len(streams)):
            at = np.flatnonzero(which == k)
            before[at[1:]] = at[:-1]
        follows = before >= 0

        def previous(values: np.ndarray, initial) -> np.ndarray:
            """Each packet's stream's value of ``values`` at its packet before (``initial``: before the run)."""
            return np.where(follows, values[before], np.asarray(initial)[which])

        modulus = streams[0].spec.device_time_modulus_s
        if modulus is None:
            device_t = raw
        elif len(streams) == 1:  # _unwrap against the previous packet's (unwrapped) device time, packet by packet
            device_t = raw + modulus * (np.round((streams[0].last_device_time - raw[0]) / modulus)
                                        + _prepend(0.0, np.cumsum(np.round((raw[:-1] - raw[1:]) / modulus))))
        else:
            return None
        # Indices from the phase before the run, then checked against the phase each packet really sees.
        tick = np.array([st.spec.resolution_s + 1e-6 for st in streams])[which]
        lo0, hi0 = self._phase
        first = np.round((device_t + tick / 2 - (lo0 + hi0) / 2) * self.rate - (size - 1)).astype(np.int64)
        last = first + size - 1
        lo = np.maximum(lo0, np.maximum.accumulate(device_t - 1e-6 - last / self.rate))
        hi = np.minimum(hi0, np.minimum.accumulate(device_t + tick - last / self.rate))
        lo_before, hi_before = _prepend(lo0, lo[:-1]), _prepend(hi0, hi[:-1])
        estimate = (device_t + tick / 2 - (lo_before + hi_before) / 2) * self.rate - (size - 1)
        previous_first = previous(first, [st.last_first for st in streams])
        previous_size = previous(size, [st.samples_per_packet for st in streams])
        on_grid = previous_first + size * np.round((estimate - previous_first) / size)
        snapped = (size == previous_size) & (np.abs(on_grid - estimate) <= 0.5 + (hi_before - lo_before) * self.rate)
        index_ok = np.where(snapped, on_grid, np.round(estimate)) == first
        previous_end = previous(last + 1, ends)
        in_order = first == previous_end if contiguous else first >= previous_end
        newer = device_t > previous(device_t, [st.last_device_time for st in streams])
        bad = ~index_ok | ~in_order | (lo > hi) | ~newer
        if bad.any():
            m = int(np.argmax(bad))
            if m == 0:
                return None
        # Plausible times: the clock fit before each packet (the fit after the one before).
        trial = self.clock.copy()
        slopes, intercepts = trial.add_many(last[:m], host[pos:pos + m])
        centre = (device_t[:m] - (lo_before[:m] + hi_before[:m]) / 2) * self.rate
        waited = host[pos:pos + m] - (_prepend(self.clock.intercept, intercepts[:m - 1])
                                      + _prepend(self.clock.slope, slopes[:m - 1]) * centre)
        implausible = (waited < -EARLY_TOLERANCE_S) | (waited > LATE_TOLERANCE_S)
        if implausible.any():
            m = int(np.argmax(implausible))
            if m == 0:
                return None
            slopes, intercepts = self.clock.add_many(last[:m], host[pos:pos + m])
        else:
            self.clock = trial
        self._phase = (float(lo[m - 1]), float(hi[m - 1]))
        for k, st in enumerate(streams):
            at = np.flatnonzero(which[:m] == k)
            if len(at):
                st.last_device_time = max(st.last_device_time, float(device_t[at[-1]]))
                st.last_first, st.samples_per_packet = int(first[at[-1]]), int(size[at[-1]])
                st.device_seen = True
        return first[:m], size[:m], slopes, intercepts

    def _arrival_run(self, st: _Stream, n, device_time, host, pos: int, end: int):
        """Indices of the packets from ``pos`` on without device time, as :meth:`_arrival_index` gives
        them; the clock fit takes them at their send times. Returns ``(first, size, slope, intercept)``."""
        if self._arrivals.intercept is None or self._arrival_anchor is None:
            return None
        stop = min(len(n), pos + self.CLEAN_RUN_MAX)
        timed = np.flatnonzero(~np.isnan(device_time[pos:stop]))
        m = int(timed[0]) if len(timed) else stop - pos
        size = n[pos:pos + m]
        count = st.arrived + np.cumsum(size) - 1
        slopes, intercepts = self._arrivals.add_many(count, host[pos:pos + m])
        sent = (intercepts + slopes * count.astype(np.float64)).tolist()
        first = []
        anchor_t, anchor_index = self._arrival_anchor
        following = st.next_arrival
        for sent_t, k in zip(sent, size.tolist()):  # the anchor's moves: scalar, as in _arrival_index
            estimate = anchor_index + round((sent_t - anchor_t) * self.rate) - (k - 1)
            f = max(following, estimate)
            if estimate <= following and sent_t - anchor_t >= REANCHOR_S:
                anchor_t, anchor_index = sent_t, f + k - 1
            following = f + k
            first.append(f)
        first = np.array(first, dtype=np.int64)
        if first[0] < end:  # cannot be: arrival order is index order
            raise AssertionError("arrival-timed packets out of order")
        self._arrival_anchor = (anchor_t, anchor_index)
        st.next_arrival = following
        st.arrived += int(size.sum())
        slopes, intercepts = self.clock.add_many(first + size - 1, np.array(sent))
        return first, size, slopes, intercepts

    def _joined_run(self, packets: list, slot: np.ndarray, part: np.ndarray, j: np.ndarray, n: np.ndarray,
                    device_time: np.ndarray, host: np.ndarray, pos: int, blocks: list, gaps: list) -> int:
        """Join and time the run of packets of both joined streams from ``pos`` (arrival order: packet
        i is packet ``j[i]`` of ``packets[part[i]]``, of stream ``slot[i]``) in numpy, exactly as
        :meth:`_push_rows` of each in turn would, while neither stream has a hole (each packet starts
        where its stream's last one ended): every join is then of rows both channels have and none is
        filled (:meth:`_join`'s usual case). Returns the packets taken (0: feed packet ``pos`` alone).
        """
        if self._suspects or self.clock.intercept is None or self._segment_break or self._last_index is None:
            return 0
        joined_to = self._joined_to
        frontiers = list(self._frontier.values())
        if None in frontiers or min(frontiers) != joined_to or self._last_index != joined_to - 1:
            return 0
        streams = list(self._streams.values())
        held, ends = [], []
        for st in streams:  # each channel's rows from joined_to on released without a hole, the held packets next
            frontier = self._frontier[st.spec.channels]
            index = self._held[st.spec.channels][0]
            fresh = len(index) - int(np.searchsorted(index, joined_to))
            if (st.released_to != frontier or st.buffer.next_expected != frontier or fresh != frontier - joined_to
                    or (fresh and index[-1] != frontier - 1) or len(st.buffer._heap) > st.buffer.depth):
                return 0
            items = sorted(st.buffer._heap)
            end = frontier
            for item in items:
                if item.first != end:
                    return 0
                end += item.n
            held.append(items)
            ends.append(end)
        if self._phase is None or device_time[pos] != device_time[pos]:
            return 0
        # The first packet's index, roughly: after a hole (the usual reason a run stopped), no run to look for.
        tick = streams[slot[pos]].spec.resolution_s + 1e-6
        if round((device_time[pos] + tick / 2 - sum(self._phase) / 2) * self.rate - (n[pos] - 1)) != ends[slot[pos]]:
            return 0
        run = self._device_run(streams, slot, n, device_time, host, pos, ends, True, self._joined_run_most)
        if run is None:
            return 0
        first, size, slopes, intercepts = run
        m = len(first)
        # Holes end most runs after a few dozen packets (3 % of frames lost: ~15): look that far
        # ahead, not CLEAN_RUN_MAX, and further while runs reach the end.
        self._joined_run_most = min(self.CLEAN_RUN_MAX, max(self.JOINED_RUN_MIN, 4 * m))
        self._health.packets += m
        which = slot[pos:pos + m]
        limit = np.full(m, np.iinfo(np.int64).max)  # the lower frontier after each packet: joined below it
        channels = {}
        for k, st in enumerate(streams):
            channel = st.spec.channels
            index, rows = self._held[channel]
            frontier = self._frontier[channel]
            reached = np.full(m, frontier, dtype=np.int64)
            at = np.flatnonzero(which == k)
            if len(at):
                values, starts, *_ = packets[part[pos + at[0]]]
                starts = starts[j[pos + at]]
                out_first, out_size, pushed_at = _through_buffer(st.buffer, held[k], first[at], size[at], values, starts)
                if len(out_first):
                    run_out = len(out_first) - min(len(held[k]), len(out_first))  # run packets released
                    out = [item.payload for item in held[k][:len(out_first)]]
                    out += [values[a:a + b] for a, b in zip(starts[:run_out].tolist(), size[at[:run_out]].tolist())]
                    reached[at[pushed_at]] = out_first + out_size
                    index = np.concatenate([index, np.arange(frontier, out_first[-1] + out_size[-1])])
                    st.released_to = self._frontier[channel] = int(index[-1] + 1)
                    rows = np.concatenate([rows] + out)
            limit = np.minimum(limit, np.maximum.accumulate(reached))
            channels[channel] = (index, rows)
        before = _prepend(joined_to, limit[:-1])
        grew = np.flatnonzero(limit > before)
        joined = int(limit[-1])
        columns = []
        for channel in ("acc", "gyro"):
            index, rows = channels[channel]
            at = int(np.searchsorted(index, joined_to))
            columns.append(rows[at:at + joined - joined_to])
            keep = max(0, at + joined - joined_to - FILL_SUPPORT)  # as _keep_from
            self._held[channel] = (index[keep:], rows[keep:])
        self._joined_to = joined
        if len(grew):  # each join timed by the fit after the packet that let it happen; no gap between them
            b, g = self._timed_run(before[grew], (limit - before)[grew], np.hstack(columns), slopes[grew],
                                   intercepts[grew], np.full(len(grew), self._samples_per_packet()))
            blocks += b
            gaps += g
        return m

    def _release_run(self, st: _Stream, held: list, first: np.ndarray, size: np.ndarray, rows: np.ndarray,
                     starts: np.ndarray, slopes: np.ndarray, intercepts: np.ndarray, blocks: list, gaps: list) -> None:
        """:meth:`_accept` of a run of packets in order (their rows ``rows[starts[j]:starts[j] + size[j]]``,
        one after the other), the clock fit after each ``(slopes, intercepts)``."""
        m = len(first)
        buffer = st.buffer
        # Accepted: the stream's state after its last packet.
        st.last_first = int(first[-1])
        st.samples_per_packet = int(size[-1])
        self._health.packets += m
        out_first, out_size, pushed_at = _through_buffer(buffer, held, first, size, rows, starts)
        released, h = len(out_first), len(held)
        if released:
            run_out = released - min(h, released)  # run packets released
            x = [item.payload for item in held[:released]]
            if run_out:
                x.append(rows[starts[0]:starts[run_out - 1] + size[run_out - 1]])
            # Losses as _emit counts them (against the packet size of the push that released them).
            previous_end = _prepend(st.released_to, out_first[:-1] + out_size[:-1])
            jump = out_first - previous_end
            lost = jump > 0
            if lost.any():
                per_packet = size[pushed_at[lost]]
                st.lost_packets += int(np.maximum(1, np.round(jump[lost] / per_packet)).sum())
            st.released_to = buffer.next_expected
            b, g = self._timed_run(out_first, out_size, np.concatenate(x) if len(x) > 1 else x[0],
                                   slopes[pushed_at], intercepts[pushed_at], size[pushed_at])
            blocks += b
            gaps += g

    def _timed_run(self, first: np.ndarray, size: np.ndarray, x: np.ndarray, slopes: np.ndarray,
                   intercepts: np.ndarray, per_packet: np.ndarray) -> tuple[list[SampleBlock], list[GapMark]]:
        """:meth:`_timed` of released packets in order (``first`` index and ``size`` of each, their rows
        ``x`` one after the other), each timed by the clock fit it was released under; a jump between
        them is a loss (``per_packet``: the packet size its count uses): one block, and its gap marks."""
        ends = np.cumsum(size)
        begins = ends - size
        index = np.arange(len(x), dtype=np.int64) + np.repeat(first - begins, size)
        t = np.repeat(intercepts, size) + np.repeat(slopes, size) * index
        # The fit moves a little as arrivals come in: never let time run backwards (as _timed does,
        # packet by packet: a packet starting before the last one's end + a quarter period is lifted).
        step = 0.25 / self.rate
        last_t = self._last_t
        previous_t = _prepend(last_t if last_t is not None else -np.inf, t[ends[:-1] - 1])
        late = deque(np.flatnonzero(t[begins] < previous_t + step).tolist())
        while late:  # lifting a packet can only make the next one late
            k = late.popleft()
            floor = (t[begins[k] - 1] if k else last_t) + step
            if t[begins[k]] < floor:
                t[begins[k]:ends[k]] = np.maximum(t[begins[k]:ends[k]], floor + np.arange(size[k]) * step)
                if k + 1 < len(size) and (not late or late[0] != k + 1):
                    late.appendleft(k + 1)
        gaps = []
        exact = self._has_device_time()  # else the indices, and so the losses, are estimated
        lost = first - _prepend(self._last_index + 1, first[:-1] + size[:-1])
        for k in np.flatnonzero(lost > 0).tolist():
            count = int(lost[k])
            t_before = float(t[begins[k] - 1]) if k else float(last_t)
            gaps.append(GapMark(self.sensor, t_before, float(t[begins[k]]), count,
                                int(math.ceil(count / max(1, int(per_packet[k])))), "lost packets", exact))
            self._health.lost_samples += count
            self._health.gaps += 1
        self._last_index = int(index[-1])
        self._last_t = float(t[-1])
        self._health.last_sample_t = self._last_t
        self._health.samples += len(x)
        self._track_rates(t[ends - 1], size)
        return [SampleBlock(self.sensor, t, np.ascontiguousarray(x, dtype=np.float32), index)], gaps

    def _track_rates(self, t_last: np.ndarray, n: np.ndarray) -> None:
        """:meth:`_track_rate` of many blocks (increasing ``t_last``): only the last 5 s of them stay."""
        keep = int(np.searchsorted(t_last, t_last[-1] - 5.0, side="left"))
        self._rate_window.extend(zip(t_last[keep:].tolist(), n[keep:].tolist()))
        self._rate_count += int(n[keep:].sum())
        self._track_rate(float(t_last[-1]), 0)  # trims the window, sets the rate
        self._rate_window.pop()

    def disconnected(self, cause: str = "disconnected") -> tuple[list[SampleBlock], list[GapMark]]:
        """The stream broke (``cause``: the link dropped, or it stalled): release everything held
        back; the next samples start a gap marked with ``cause``."""
        self._health.bad_device_time += len(self._suspects)
        self._suspects.clear()
        blocks, gaps = self._flush()
        self._segment_break = cause
        return blocks, gaps

    def _flush(self) -> tuple[list[SampleBlock], list[GapMark]]:
        """Release every held packet. All streams' buffers first, then the join: a row held in the
        other stream's buffer is not lost."""
        blocks, gaps = [], []
        flushed = {key: st.buffer.flush() for key, st in self._streams.items()}
        for key, released in flushed.items():
            b, g = self._emit(key, released)
            blocks += b
            gaps += g
        if self._joined:
            b, g = self._timed(self._join(final=True))
            blocks += b
            gaps += g
        return blocks, gaps

    def reconnected(self, host_t: float) -> None:
        """The link is back at ``host_t``. Without device time, estimate the samples missed."""
        if self._has_device_time():
            return
        for st in self._streams.values():
            st.next_arrival += 0 if self._last_t is None else max(0, round((host_t - self._last_t) * self.rate) - 1)
            st.arrived = 0
        self.clock.reset()
        self._arrivals.reset()
        self._arrival_anchor = None

    # -- indices -----------------------------------------------------------------------------------
    def _arrival_index(self, st: _Stream, n: int, host_t: float) -> tuple[int, float]:
        """Index of a packet's first sample, for a family without device time or counter.

        The samples that arrived are counted, and their arrival times fitted against that count
        over the last second (:class:`ClockFit`: a lower envelope, so jitter does not enter): the
        fit's slope is one sample period stretched by the share of samples lost. The index runs
        at the nominal period along that fit, so the losses of the last second are spread over
        it — estimated, not seen — and the samples keep their true spacing (on average) for the
        event core. Arrival order is kept; a swap of two notifications cannot be seen.
        """
        count = st.arrived + n - 1
        st.arrived += n
        self._arrivals.add(count, host_t)
        sent_t = float(self._arrivals(count))
        if self._arrival_anchor is None:
            self._arrival_anchor = (sent_t, st.next_arrival + n - 1)
        anchor_t, anchor_index = self._arrival_anchor
        estimate = anchor_index + round((sent_t - anchor_t) * self.rate) - (n - 1)
        first = max(st.next_arrival, estimate)
        if estimate <= st.next_arrival and sent_t - anchor_t >= REANCHOR_S:
            # Nothing lost since the anchor: move it here, so the sensor's crystal error (up to a few
            # hundred ppm: a sample per 25 s at 200 Hz) is never taken for a loss.
            self._arrival_anchor = (sent_t, first + n - 1)
        st.next_arrival = first + n
        return first, sent_t

    def _plausible(self, device_t: float, host_t: float) -> bool:
        """Whether a packet's device time agrees with the clock fit's prediction from its arrival."""
        if self._phase is None or self.clock.intercept is None:
            return True
        last = (device_t - sum(self._phase) / 2) * self.rate
        waited = host_t - float(self.clock(last))
        return -EARLY_TOLERANCE_S <= waited <= LATE_TOLERANCE_S

    def _device_clock_was_reset(self) -> bool:
        """Whether the impossible packets held agree with each other: a new device clock."""
        if len(self._suspects) < RESET_AFTER_PACKETS:
            return False
        steps = zip(self._suspects, self._suspects[1:])
        return all(abs((b[3] - a[3]) - (b[2] - a[2])) <= EARLY_TOLERANCE_S for a, b in steps)

    def _device_index(self, st: _Stream, device_t: float, n: int) -> int:
        """Index of a packet's first sample from the device time of its last one.

        A coarse clock (Movesense: ms) states the time of a sample only to within its tick:
        the true time is in ``[device_t, device_t + tick)``. Each packet narrows the interval that
        holds the device time of index 0, so after a few packets every index is exact — also the
        first one after a reconnection, whatever its phase.
        """
        tick = st.spec.resolution_s + 1e-6  # + the µs rounding of the finer clocks
        if self._phase is None:
            self._phase = (device_t - 1e-6, device_t + tick)
        lo, hi = self._phase
        estimate = (device_t + tick / 2 - (lo + hi) / 2) * self.rate - (n - 1)
        first = round(estimate)
        if st.last_first is not None and n == st.samples_per_packet:
            # Packets of a stream hold the same number of samples: while the phase is still coarse,
            # the packet grid settles an index the clock alone leaves open.
            on_grid = st.last_first + n * round((estimate - st.last_first) / n)
            if abs(on_grid - estimate) <= 0.5 + (hi - lo) * self.rate:
                first = on_grid
        last = first + n - 1
        lo, hi = max(lo, device_t - 1e-6 - last / self.rate), min(hi, device_t + tick - last / self.rate)
        # An empty interval: the clock and the sample rate disagree a little; follow the clock.
        self._phase = (lo, hi) if lo <= hi else (device_t - 1e-6 - last / self.rate, device_t + tick - last / self.rate)
        return first

    def _new_segment(self) -> tuple[list[SampleBlock], list[GapMark]]:
        """The device clock was reset: re-anchor it where the clock fit puts the held packets, and feed them."""
        suspects, self._suspects = self._suspects, []
        blocks, gaps = self._flush()
        first_rows = len(suspects[0][1])
        # The index of the held packets' last samples from their arrival; the earliest arrival waited least.
        anchor = min(round((host_t - self.clock.intercept) / self.clock.slope) - round((device_t - suspects[0][3]) * self.rate)
                     for _, _, host_t, device_t in suspects)
        anchor = max(anchor, (self._last_index or 0) + first_rows)
        self._phase = (suspects[0][3] - 1e-6 - anchor / self.rate, suspects[0][3] + 1e-6 - anchor / self.rate)
        for st in self._streams.values():
            st.last_device_time = None
            st.last_first = None
        self._segment_break = "device clock reset"
        for stream, rows, host_t, device_t in suspects:
            st = self._streams[stream]
            b, g = self._accept(stream, self._device_index(st, device_t, len(rows)), rows, host_t, device_t)
            blocks += b
            gaps += g
        return blocks, gaps

    @property
    def health(self) -> SensorHealth:
        """Counts so far (per-stream totals are summed on read, not per packet)."""
        streams = self._streams.values()
        self._health.duplicates = sum(st.buffer.duplicates for st in streams)
        self._health.late = sum(st.buffer.late for st in streams)
        self._health.lost_packets = sum(st.lost_packets for st in streams)
        return self._health

    # -- output ------------------------------------------------------------------------------------
    def _emit(self, stream: str, released) -> tuple[list[SampleBlock], list[GapMark]]:
        st = self._streams[stream]
        runs = []
        for first, n, (rows, skip) in released:
            if st.released_to is not None and first > st.released_to:
                st.lost_packets += max(1, round((first - st.released_to) / st.samples_per_packet))
            st.released_to = first + n
            runs.append((first, rows[skip:]))
        if not self._joined:
            return self._timed(runs)
        if runs:
            channel = st.spec.channels
            index, rows = self._held[channel]
            self._held[channel] = (np.concatenate([index] + [np.arange(f, f + len(r)) for f, r in runs]),
                                   np.concatenate([rows] + [r for _, r in runs]))
            self._frontier[channel] = runs[-1][0] + len(runs[-1][1])
        return self._timed(self._join(final=False))

    def _join(self, final: bool) -> list[tuple[int, np.ndarray]]:
        """Pair acc and gyro rows with the same index, filling a channel across its short holes.

        A row whose other channel is missing is kept when that channel's hole is short
        (:data:`MAX_FILL_S`): its values there are filled (:func:`_fill_channel`) and the row is
        counted in ``SensorHealth.interpolated_samples``. Rows missing from both streams, or from one
        across a longer hole or the end of a connection, are lost.
        """
        if not final and None in self._frontier.values():
            return []
        # Both streams release in index order: below the lower frontier, a row missing from one
        # stream will never come, and each hole there ends at a row already released.
        limit = None if final else min(self._frontier.values())
        (ia, ra), (ig, rg) = self._held["acc"], self._held["gyro"]
        start = self._joined_to
        fresh_a = ia[(ia >= start) & (ia < limit)] if limit is not None else ia[ia >= start]
        fresh_g = ig[(ig >= start) & (ig < limit)] if limit is not None else ig[ig >= start]
        if np.array_equal(fresh_a, fresh_g):  # no hole in either (the usual case)
            wanted = fresh_a
            x = np.hstack([ra[np.searchsorted(ia, wanted)], rg[np.searchsorted(ig, wanted)]])
            filled = np.zeros(len(wanted), bool)
        else:
            wanted = np.union1d(fresh_a, fresh_g)
            if limit is not None:  # a hole is filled once the samples after it that the fill uses are known
                for channel, (index, _) in self._held.items():
                    after, _, hole = _locate(index, wanted, self._max_hole)
                    waiting = hole.copy()
                    waiting[hole] = index[after[hole]] + FILL_SUPPORT > self._frontier[channel]
                    if waiting.any():
                        limit = int(wanted[np.argmax(waiting)])
                        wanted = wanted[wanted < limit]
            columns, have, filled = [], np.ones(len(wanted), bool), np.zeros(len(wanted), bool)
            for index, rows in self._held.values():
                values, real, interpolated = _fill_channel(index, rows, wanted, self._max_hole)
                columns.append(values)
                have &= real | interpolated
                filled |= interpolated
            wanted, x, filled = wanted[have], np.hstack(columns)[have], filled[have]
        self._keep_from(limit)
        if len(wanted) == 0:
            return []
        self._health.interpolated_samples += int(np.count_nonzero(filled))
        # Split into runs of consecutive indices so that a gap inside is seen by _timed.
        breaks = np.flatnonzero(np.diff(wanted) != 1) + 1
        return [(int(i[0]), xx) for i, xx in zip(np.split(wanted, breaks), np.split(x, breaks))]

    def _keep_from(self, limit: int | None) -> None:
        """Everything below ``limit`` is joined: keep the rows from there on, and the last real rows
        before it (the support of a hole that starts there). ``None``: the connection ended."""
        if limit is None:
            self._held = {channel: (np.empty(0, np.int64), np.empty((0, 3))) for channel in self._held}
            self._frontier = {channel: None for channel in self._frontier}
            self._joined_to = -(1 << 62)
            return
        self._joined_to = limit
        for channel, (index, rows) in self._held.items():
            first = max(0, int(np.searchsorted(index, limit)) - FILL_SUPPORT)
            self._held[channel] = (index[first:], rows[first:])

    def _timed(self, runs) -> tuple[list[SampleBlock], list[GapMark]]:
        blocks, gaps = [], []
        for first, rows in runs:
            n = len(rows)
            index = np.arange(first, first + n, dtype=np.int64)
            t = self.clock(index)
            if self._last_t is not None:
                # The fit moves a little as arrivals come in: never let time run backwards.
                floor = self._last_t + 0.25 / self.rate
                if t[0] < floor:
                    t = np.maximum(t, floor + np.arange(n) * (0.25 / self.rate))
            if self._last_index is not None and (first != self._last_index + 1 or self._segment_break):
                cause = self._segment_break or "lost packets"
                exact = self._has_device_time() and cause != "device clock reset"
                if exact or cause == "lost packets":
                    lost = max(0, first - self._last_index - 1)
                else:  # a new segment of indices: estimate the loss from the host-time gap
                    lost = max(0, round((t[0] - self._last_t) * self.rate) - 1)
                if lost or cause != "lost packets":
                    per_packet = max(1, self._samples_per_packet())
                    gaps.append(GapMark(self.sensor, float(self._last_t), float(t[0]), int(lost),
                                        int(math.ceil(lost / per_packet)), cause, exact))
                    self._health.lost_samples += int(lost)
                    self._health.gaps += 1
            self._segment_break = None
            self._last_index = first + n - 1
            self._last_t = float(t[-1])
            self._health.last_sample_t = self._last_t
            self._health.samples += n
            self._track_rate(float(t[-1]), n)
            x = rows.astype(np.float32, copy=False)
            blocks.append(SampleBlock(self.sensor, t, np.ascontiguousarray(x), index))
        return blocks, gaps

    def _samples_per_packet(self) -> int:
        return min(st.samples_per_packet for st in self._streams.values())

    def _has_device_time(self) -> bool:
        return any(st.device_seen for st in self._streams.values())

    def _track_rate(self, t_last: float, n: int) -> None:
        self._rate_window.append((t_last, n))
        self._rate_count += n
        while t_last - self._rate_window[0][0] > 5.0:
            self._rate_count -= self._rate_window.popleft()[1]
        span = t_last - self._rate_window[0][0]
        if span > 0:  # samples after the window's first block, over the time they span
            self._health.effective_rate_hz = (self._rate_count - self._rate_window[0][1]) / span


def _locate(index: np.ndarray, wanted: np.ndarray, max_hole: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where ``wanted`` indices fall among a channel's real ones (``index``, increasing).

    Returns ``(after, real, hole)``: the position in ``index`` of the first real index at or after
    each wanted one; whether it is that index; whether it lies in a hole of at most ``max_hole``
    sample periods between two real indices (a fillable hole).
    """
    after = np.searchsorted(index, wanted)
    bounded = (after > 0) & (after < len(index))
    real = np.zeros(len(wanted), bool)
    real[after < len(index)] = index[after[after < len(index)]] == wanted[after < len(index)]
    hole = bounded & ~real
    hole[hole] = index[after[hole]] - index[after[hole] - 1] <= max_hole
    return after, real, hole


def _fill_channel(index: np.ndarray, rows: np.ndarray, wanted: np.ndarray,
                  max_hole: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One channel's values at the ``wanted`` indices: ``(values (m, 3), real, filled)``.

    ``index``/``rows`` are the channel's real samples in index order. An index in a fillable hole
    (:func:`_locate`) gets the cubic fitted by least squares to the real samples within
    :data:`FILL_SUPPORT` periods of the hole's two edges: it keeps the slope and bend on both
    sides, where a straight line flattens the curved fall of ω that times a toe-off. Values of
    indices neither real nor filled are meaningless (zero).
    """
    values = np.zeros((len(wanted), 3))
    after, real, filled = _locate(index, wanted, max_hole)
    values[real] = rows[after[real]]
    for hi in np.unique(after[filled]):
        lo = hi - 1
        near = np.flatnonzero(((index > index[lo] - FILL_SUPPORT) & (index <= index[lo]))
                              | ((index >= index[hi]) & (index < index[hi] + FILL_SUPPORT)))
        inside = np.flatnonzero(filled & (after == hi))
        coefficients = np.polyfit((index[near] - index[lo]).astype(np.float64), rows[near], min(3, len(near) - 1))
        values[inside] = np.polyval(coefficients, (wanted[inside] - index[lo]).astype(np.float64)[:, None])
    return values, real, filled


def _through_buffer(buffer: ReorderBuffer, held: list[_Pending], first: np.ndarray, size: np.ndarray,
                    rows: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:meth:`ReorderBuffer.push` of a run of packets in order (``first`` index and ``size`` of each,
    rows ``rows[starts[j]:starts[j] + size[j]]``) after the packets it holds (``held``, in order,
    at most its depth). Returns ``(first, size, pushed_at)`` of the packets released: held ones then
    run ones, in order, ``depth`` packets behind; item c is released by the push of run packet
    ``pushed_at[c]`` = c + depth − len(held)."""
    m, h, depth = len(first), len(held), buffer.depth
    released = max(0, h + m - depth)
    sequence_first = np.concatenate([np.array([item.first for item in held], dtype=np.int64), first])
    sequence_size = np.concatenate([np.array([item.n for item in held], dtype=np.int64), size])
    buffer._heap, buffer._pending_firsts = [], set()
    for c in range(released, h + m):
        payload = held[c].payload if c < h else rows[starts[c - h]:starts[c - h] + size[c - h]]
        buffer._seq += 1
        buffer._heap.append(_Pending(int(sequence_first[c]), buffer._seq, int(sequence_size[c]), payload))
        buffer._pending_firsts.add(int(sequence_first[c]))
    heapq.heapify(buffer._heap)
    out_first, out_size = sequence_first[:released], sequence_size[:released]
    if released:
        buffer._released_firsts.extend(out_first[-64:].tolist())
        buffer.next_expected = int(out_first[-1] + out_size[-1])
    return out_first, out_size, np.arange(released) + depth - h


def _rows(channels: str, packet: DecodedPacket) -> np.ndarray:
    """The packet's samples as rows: (n, 6) for an IMU stream, (n, 3) for an acc or gyro stream."""
    if channels == "imu":
        if packet.acc is None or packet.gyro is None or len(packet.acc) != len(packet.gyro):
            return np.empty((0, 6))
        return np.hstack([packet.acc, packet.gyro])
    values = packet.acc if channels == "acc" else packet.gyro
    return np.empty((0, 3)) if values is None else np.asarray(values, dtype=np.float64)


def _prepend(value, array: np.ndarray) -> np.ndarray:
    """``value`` then ``array`` (np.r_ without its parsing cost)."""
    out = np.empty(len(array) + 1, dtype=np.result_type(array, value))
    out[0] = value
    out[1:] = array
    return out


def _data_rows(channels: str, batch: DecodedBatch) -> np.ndarray:
    """Rows (samples) each notification of a batch gives the stream, as :func:`_rows` of its packet."""
    data = batch.kind == DATA
    if channels == "imu":
        if batch.acc is None or batch.gyro is None:
            return np.zeros(len(batch), dtype=np.int64)
        return np.where(data & (batch.acc_count == batch.gyro_count), batch.acc_count, 0)
    return np.where(data, batch.acc_count if channels == "acc" else batch.gyro_count, 0)


def _batch_packets(channels: str, batch: DecodedBatch, host_t: np.ndarray):
    """The notifications of a batch that give the stream samples: ``(rows, starts, n, device_t, host_t,
    which)`` — all their rows ((N, 6) or (N, 3)), each one's first row and row count, device time
    (NaN: none), arrival time and position in the batch."""
    n_all = _data_rows(channels, batch)
    which = np.flatnonzero(n_all)
    n = n_all[which]
    if channels == "imu":
        if len(which) and np.array_equal(batch.acc_count, batch.gyro_count):
            rows = np.hstack([batch.acc, batch.gyro])
            starts = (np.cumsum(batch.acc_count) - batch.acc_count)[which]
        else:  # some notification has acc and gyro rows that do not pair: take the ones that do
            acc_at = np.cumsum(batch.acc_count) - batch.acc_count
            gyro_at = np.cumsum(batch.gyro_count) - batch.gyro_count
            rows = np.concatenate([np.hstack([batch.acc[a:a + k], batch.gyro[g:g + k]])
                                   for a, g, k in zip(acc_at[which], gyro_at[which], n)] or [np.empty((0, 6))])
            starts = np.cumsum(n) - n
    else:
        values, counts = (batch.acc, batch.acc_count) if channels == "acc" else (batch.gyro, batch.gyro_count)
        rows = values if values is not None else np.empty((0, 3))
        starts = (np.cumsum(counts) - counts)[which]
    device_t = batch.device_time_s[which] if batch.device_time_s is not None else np.full(len(which), np.nan)
    return rows, starts, n, device_t, np.asarray(host_t, dtype=np.float64)[which], which
