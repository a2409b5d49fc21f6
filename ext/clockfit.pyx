# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Compiled :class:`gaitmon.stream.timing.ClockFit`: the bucket ring and the refit in C.

Python twin and specification: ``ClockFit``, ``_lower_hull_line`` and ``_least_squares_line`` in
``gaitmon/stream/timing.py`` (read the docstrings there); this is the same algorithm statement for
statement, with the twin's numpy expressions written as loops in the same order (the all-pairs chord
minimum row by row, first minimum kept), so the two give the same line bit for bit (setup.py turns
off fused multiply-add). ``add_many`` is :meth:`add` of each point in turn (the twin updates buckets
in bulk between refits; its sums may differ in the last bit). ``tests/unit/test_timing.py`` holds
the two equal.
"""

from libc.math cimport INFINITY, copysign, fabs, floor, fmod, isfinite
from libc.string cimport memcpy

import numpy as np

cdef enum:
    HULL_BUCKETS = 64
    MIN_POINTS = 16

cdef long long NO_BUCKET = -(1LL << 62)


cdef inline double _floordiv(double x, double y) noexcept nogil:
    """Python's ``x // y`` for floats (CPython's float_floor_div)."""
    cdef double mod = fmod(x, y)
    cdef double div = (x - mod) / y
    cdef double floordiv
    if mod:
        if (y < 0) != (mod < 0):
            div -= 1.0
    if div:
        floordiv = floor(div)
        if div - floordiv > 0.5:
            floordiv += 1.0
    else:
        floordiv = copysign(0.0, x / y)
    return floordiv


cdef inline int _slot_of(long long b) noexcept nogil:
    """``b mod HULL_BUCKETS`` in [0, HULL_BUCKETS) (Python's %)."""
    cdef long long r = b % HULL_BUCKETS
    return <int>(r + HULL_BUCKETS if r < 0 else r)


cdef class ClockFit:
    """See ``gaitmon.stream.timing.ClockFit`` (the twin): same constructor, methods and attributes."""

    MIN_POINTS_FOR_SLOPE = MIN_POINTS


    cdef readonly double nominal_period_s, window_s, max_skew, refit_s
    cdef readonly bint envelope
    cdef readonly double slope
    cdef double _intercept
    cdef bint _has_line
    cdef double _width, _next_refit
    cdef long long _newest, _points
    cdef long long _bucket[HULL_BUCKETS]
    cdef long long _count[HULL_BUCKETS]
    cdef double _low[HULL_BUCKETS]
    cdef double _low_index[HULL_BUCKETS]
    cdef double _sum_index[HULL_BUCKETS]
    cdef double _sum_offset[HULL_BUCKETS]

    def __init__(self, double nominal_period_s, double window_s=20.0, double max_skew=0.01, bint envelope=True):
        self.nominal_period_s = nominal_period_s
        self.window_s = window_s
        self.max_skew = max_skew
        self.envelope = envelope
        self.refit_s = self.window_s / 20.0
        self._width = self.window_s / self.nominal_period_s / HULL_BUCKETS
        self.reset()

    @property
    def intercept(self):
        return self._intercept if self._has_line else None

    def reset(self) -> None:
        """Forget every point."""
        cdef int k
        for k in range(HULL_BUCKETS):
            self._bucket[k] = NO_BUCKET
            self._low[k] = INFINITY
            self._low_index[k] = 0.0
            self._count[k] = 0
            self._sum_index[k] = 0.0
            self._sum_offset[k] = 0.0
        self._newest = NO_BUCKET
        self._points = 0
        self._next_refit = -INFINITY
        self.slope = self.nominal_period_s
        self._has_line = False
        self._intercept = 0.0

    def add(self, double index, double host_t) -> None:
        """A packet whose last sample has ``index`` arrived at ``host_t``."""
        if not isfinite(index):
            raise ValueError(f"a clock fit's index must be finite, not {index}")
        self._add(index, host_t)

    def add_many(self, index, host_t):
        """:meth:`add` of each point in turn; returns ``(slope, intercept)`` after each point."""
        cdef const double[::1] x = np.ascontiguousarray(index, dtype=np.float64)
        cdef const double[::1] h = np.ascontiguousarray(host_t, dtype=np.float64)
        cdef Py_ssize_t n = x.shape[0], i
        if h.shape[0] != n:
            raise ValueError(f"index and host_t differ in length: {n} and {h.shape[0]}")
        for i in range(n):
            if not isfinite(x[i]):
                raise ValueError(f"a clock fit's index must be finite, not {x[i]} (point {i})")
        slopes, intercepts = np.empty(n), np.empty(n)
        cdef double[::1] s = slopes
        cdef double[::1] c = intercepts
        with nogil:
            for i in range(n):
                self._add(x[i], h[i])
                s[i] = self.slope
                c[i] = self._intercept
        return slopes, intercepts

    def copy(self) -> ClockFit:
        """An independent copy (to try points on)."""
        cdef ClockFit other = ClockFit.__new__(ClockFit)
        other.nominal_period_s, other.window_s, other.max_skew = self.nominal_period_s, self.window_s, self.max_skew
        other.refit_s, other.envelope, other.slope = self.refit_s, self.envelope, self.slope
        other._intercept, other._has_line, other._width = self._intercept, self._has_line, self._width
        other._next_refit, other._newest, other._points = self._next_refit, self._newest, self._points
        memcpy(other._bucket, self._bucket, sizeof(self._bucket))
        memcpy(other._count, self._count, sizeof(self._count))
        memcpy(other._low, self._low, sizeof(self._low))
        memcpy(other._low_index, self._low_index, sizeof(self._low_index))
        memcpy(other._sum_index, self._sum_index, sizeof(self._sum_index))
        memcpy(other._sum_offset, self._sum_offset, sizeof(self._sum_offset))
        return other

    def __call__(self, index):
        """Host time (s) of samples with these indices."""
        return self.intercept + self.slope * np.asarray(index, dtype=np.float64)

    # -- the twin's add, _slot, _advance and _refit ----------------------------------------------
    cdef void _add(self, double index, double host_t) noexcept nogil:
        cdef long long b = <long long>_floordiv(index, self._width)
        cdef int slot
        cdef double offset, candidate
        if b > self._newest:
            self._advance(b)
        elif b <= self._newest - HULL_BUCKETS:
            return  # older than the window
        slot = self._slot(b)
        offset = host_t - self.nominal_period_s * index
        if offset < self._low[slot]:
            self._low[slot] = offset
            self._low_index[slot] = index
        self._count[slot] += 1
        self._sum_index[slot] += index - <double>b * self._width
        self._sum_offset[slot] += offset
        self._points += 1
        if not self._has_line:
            self._intercept = host_t - self.slope * index
            self._has_line = True
        elif self._points < MIN_POINTS or host_t >= self._next_refit:
            self._refit(host_t)
        elif self.envelope:
            candidate = host_t - self.slope * index
            if candidate < self._intercept:
                self._intercept = candidate

    cdef int _slot(self, long long b) noexcept nogil:
        cdef int slot = _slot_of(b)
        if self._bucket[slot] != b:
            self._bucket[slot] = b
            self._low[slot] = INFINITY
            self._count[slot] = 0
            self._sum_index[slot] = 0.0
            self._sum_offset[slot] = 0.0
        return slot

    cdef void _advance(self, long long b) noexcept nogil:
        cdef long long k, start = self._newest if self._newest > b - HULL_BUCKETS else b - HULL_BUCKETS
        cdef int slot
        for k in range(start + 1, b + 1):
            slot = _slot_of(k)
            if self._bucket[slot] != NO_BUCKET and self._bucket[slot] <= b - HULL_BUCKETS:
                self._points -= self._count[slot]
                self._bucket[slot] = NO_BUCKET
                self._count[slot] = 0
        self._newest = b

    cdef void _refit(self, double host_t) noexcept nogil:
        cdef double index[HULL_BUCKETS]
        cdef double host[HULL_BUCKETS]
        cdef double counts[HULL_BUCKETS]
        cdef int slots[HULL_BUCKETS]
        cdef int n = 0, k, s
        cdef long long b, oldest = self._newest - HULL_BUCKETS
        cdef double total = 0.0, base = 0.0, sum_index = 0.0, weighted = 0.0, offset
        cdef double line_slope = 0.0, line_intercept = 0.0
        cdef bint line = False
        self._next_refit = host_t + self.refit_s
        for b in range(oldest + 1, self._newest + 1):  # bucket order
            s = _slot_of(b)
            if self._bucket[s] > oldest and self._count[s]:
                slots[n] = s
                counts[n] = <double>self._count[s]
                n += 1
        for k in range(n):
            total += counts[k]
        if self.envelope:
            for k in range(n):
                index[k] = self._low_index[slots[k]]
                host[k] = self._low[slots[k]] + self.nominal_period_s * index[k]
            if self._points >= MIN_POINTS and n >= 2:
                for k in range(n):
                    base += <double>self._bucket[slots[k]] * self._width * counts[k]
                    sum_index += self._sum_index[slots[k]]
                line = _lower_hull_line(index, host, n, (base + sum_index) / total, &line_slope, &line_intercept)
        else:
            for k in range(n):
                s = slots[k]
                index[k] = <double>self._bucket[s] * self._width + self._sum_index[s] / counts[k]
                host[k] = self._sum_offset[s] / counts[k] + self.nominal_period_s * index[k]
            if self._points >= MIN_POINTS:
                line = _least_squares_line(index, host, counts, n, &line_slope, &line_intercept)
        if line and fabs(line_slope / self.nominal_period_s - 1.0) < self.max_skew:
            self.slope = line_slope
            self._intercept = line_intercept
        elif self.envelope:
            for k in range(n):
                offset = host[k] - self.slope * index[k]
                if k == 0 or offset < self._intercept:
                    self._intercept = offset
        else:
            for k in range(n):
                weighted += (host[k] - self.slope * index[k]) * counts[k]
            self._intercept = weighted / total


cdef bint _lower_hull_line(const double* x, const double* y, int n, double mean,
                           double* slope_out, double* intercept_out) noexcept nogil:
    """The twin's ``_lower_hull_line`` (x strictly increasing): False where it returns None."""
    cdef double xs[HULL_BUCKETS]
    cdef double ys[HULL_BUCKETS]
    cdef double x0, y0, m, v, best = 0.0, xa, ya, xb, yb, slope
    cdef int k, i, j, a = 0, b = 0, bi = -1, bj = -1, on = -1
    if n < 2:
        return False
    x0 = x[0]
    y0 = y[0]
    for k in range(n):
        xs[k] = x[k] - x0
        ys[k] = y[k] - y0
    m = mean - x0
    if xs[n - 1] == xs[0]:
        return False
    if m <= xs[0] or m >= xs[n - 1]:
        if m <= xs[0]:  # the farthest of equal least slopes from the first point
            for k in range(n - 1):
                v = (ys[k + 1] - ys[0]) / (xs[k + 1] - xs[0])
                if k == 0 or v <= best:
                    best, j = v, k
            a, b = 0, j + 1
        else:  # the first of equal greatest slopes to the last point
            for k in range(n - 1):
                v = (ys[n - 1] - ys[k]) / (xs[n - 1] - xs[k])
                if k == 0 or v > best:
                    best, a = v, k
            b = n - 1
        if xs[a] == xs[b]:
            return False
        xa, ya, xb, yb = xs[a], ys[a], xs[b], ys[b]
    else:  # the lowest chord over m between a point left of it and one right of it (first in row order)
        for i in range(n):
            if not xs[i] < m:
                continue
            for j in range(n):
                if not xs[j] > m:
                    continue
                v = ys[i] + (ys[j] - ys[i]) * ((m - xs[i]) / (xs[j] - xs[i]))
                if bi < 0 or v < best:
                    best, bi, bj = v, i, j
        xa, ya, xb, yb = xs[bi], ys[bi], xs[bj], ys[bj]
        for k in range(n):
            if xs[k] == m:
                on = k
                break
        if on >= 0 and ys[on] <= best:  # a vertex right at the mean: the edge that ends there
            b = on
            for k in range(b):
                v = (ys[b] - ys[k]) / (xs[b] - xs[k])
                if k == 0 or v > best:
                    best, a = v, k
            xa, ya, xb, yb = xs[a], ys[a], xs[b], ys[b]
    slope = (yb - ya) / (xb - xa)
    slope_out[0] = slope
    intercept_out[0] = y0 + ya - slope * xa - slope * x0
    return True


cdef bint _least_squares_line(const double* x, const double* y, const double* weights, int n,
                              double* slope_out, double* intercept_out) noexcept nogil:
    """The twin's ``_least_squares_line``: False where it returns None."""
    cdef double total = 0.0, x0 = 0.0, y0 = 0.0, spread = 0.0, moment = 0.0, wi, dx, slope
    cdef int k
    for k in range(n):
        total += weights[k]
    for k in range(n):
        wi = weights[k] / total
        x0 += wi * x[k]
        y0 += wi * y[k]
    for k in range(n):
        wi = weights[k] / total
        dx = x[k] - x0
        spread += wi * (dx * dx)
        moment += wi * (dx * (y[k] - y0))
    if spread == 0:
        return False
    slope = moment / spread
    slope_out[0] = slope
    intercept_out[0] = y0 - slope * x0
    return True
