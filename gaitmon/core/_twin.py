"""Pure-Python twin of ``ext/detector.pyx``: the executable specification of the event kernel.

Line for line the same algorithm as the compiled kernel (tests hold their outputs equal). Users
run the compiled one; this one is for reading, debugging and platforms without a compiler
(``GAITMON_PURE_PYTHON=1`` forces it).

The kernel takes one leg's sensor-frame samples ``x[n, 6]`` and the sagittal axis, projects each
sample as it comes — ``w = gyro · axis`` (rad/s, swing positive) and ``amag = |acc|`` (m/s²), in
float64, rounded as :func:`gaitmon.stream.orientation._dot3` and ``_squared_norm`` round — and runs
a per-sample state machine over them::

    STANCE ──smoothed w > onset threshold──▶ SWING ──w fell below half its peak──▶ LATE_SWING
       ▲                                       │ (emit TO + MSW if the swing is a real step)  │
       └───────── IC found (impact, or zero crossing + delay) / timeout ◀───────────────────┘

A ring buffer of the last ``buffer_s`` seconds of raw samples lets each event be placed on the
raw signal by a short look-back when the state machine confirms it. The machine only ever looks
at samples, never at block boundaries, so any split of the stream gives the same events.
"""

from __future__ import annotations

import math

import numpy as np

TO, MSW, IC = 0, 1, 2
GYRO, IMPACT = 0, 1  # which rule placed an event
STANCE, SWING, LATE_SWING = 0, 1, 2
SHANK, FOOT = 0, 1


class DetectorKernel:
    """One leg's streaming event kernel (see module docstring).

    Parameters
    ----------
    placement : int
        0 shank, 1 foot.
    settings : tuple of float
        The fields of :class:`~gaitmon.core._params.DetectorParams` after ``placement``.
    biquad : tuple of float
        ``(b0, b1, b2, a1, a2)`` of the smoothing low-pass (:func:`~gaitmon.core._params.butterworth_biquad`).
    impact_span : int
        ``k`` of the impact statistic, samples.
    to_halfwidth : int
        ``h``: the foot's toe-off minimum is located on a centred ``2h + 1``-sample moving average.
    slope_halfwidth : int
        ``hs``: dω/dt at sample j is the central difference over samples ``j ± hs``.
    capacity : int
        Ring-buffer length, a power of two.
    """

    def __init__(self, placement, settings, biquad, impact_span, to_halfwidth, slope_halfwidth, capacity):
        (
            self.smooth_cutoff_hz,
            self.on_floor,
            self.on_fraction,
            self.peak_floor,
            self.peak_fraction,
            self.ref_weight,
            self.ref_decay_s,
            self.msw_drop,
            self.max_swing_s,
            self.max_late_s,
            self.to_search_s,
            _to_smooth_s,
            self.guard_s,
            _impact_span_s,
            self.imp_floor,
            self.imp_fraction,
            self.imp_arm,
            self.min_rise,
            self.min_rise_fraction,
            self.max_gap_s,
            _buffer_s,
            self.ic_delay_s,
            self.to_delay_s,
            self.imp_window_s,
            _slope_span_s,
            self.imp_rate_floor,
            self.walk_fraction,
        ) = settings
        self.placement = int(placement)
        self.b0, self.b1, self.b2, self.a1, self.a2 = biquad
        self.k = int(impact_span)
        self.h = int(to_halfwidth)
        self.hs = int(slope_halfwidth)
        self.capacity = int(capacity)
        self.mask = self.capacity - 1
        self.buf_t = np.zeros(self.capacity)
        self.buf_w = np.zeros(self.capacity)
        self.buf_a = np.zeros(self.capacity)
        self.events = []  # the events of the block being fed: (kind, t, value, rule)
        self.reset()

    def reset(self):
        """Forget everything: filter, references, step in progress and history."""
        self.n = 0  # samples seen; index of the next sample in the ring
        self.z1 = 0.0
        self.z2 = 0.0
        self.ref_peak = 0.0
        self.t_ref_peak = 0.0
        self.ref_imp = 0.0
        self.t_ref_imp = 0.0
        self._restart(-math.inf)

    def _restart(self, t_floor):
        """Drop the step in progress; look-backs never reach before ``t_floor``."""
        self.state = STANCE
        self.t_floor = t_floor
        self.t_last_ic = -math.inf
        self.last_t = -math.inf
        self.onset_t = 0.0
        self.peak_w = 0.0
        self.peak_i = 0
        self.peak_f = 0.0
        self.late_start_t = 0.0
        self.min_w = 0.0
        self.min_i = 0
        self.min_f = 0.0
        self.imp_track = 0  # samples left in which to track the size of the impact just found
        self.imp_max = 0.0
        self.pending = -1  # impact onset waiting for its next sample (see _onset_nearest)
        self.scan = 0  # next index to examine for the downward zero crossing after mid-swing
        self.t_zero = math.nan  # time of that crossing (s), NaN until seen
        self.zero_i = 0  # index of the first sample at or below zero
        self.armed = False  # a swing may start only after ω was seen below the onset floor
        self.armed_t = math.inf  # when it was last armed
        self.contact_seen = False  # an initial contact was found since the last mid-swing
        self.filter_primed = False  # restart the smoothing on the first sample after a gap

    # ------------------------------------------------------------------ helpers
    def _decayed(self, ref, t_ref, t):
        if ref <= 0.0:
            return 0.0
        return ref * math.exp(-(t - t_ref) / self.ref_decay_s)

    def _oldest(self):
        """Ring index of the oldest sample still held."""
        return self.n - self.capacity if self.n > self.capacity else 0

    def _smoothed(self, j):
        """Centred (2h + 1)-sample mean of w at index j, over the samples held."""
        lo = max(j - self.h, self._oldest())
        hi = min(j + self.h, self.n - 1)
        total = 0.0
        for q in range(lo, hi + 1):
            total += self.buf_w[q & self.mask]
        return total / (hi - lo + 1)

    def _argmin_back(self, i, t_start):
        """Index of the smallest smoothed w among held samples with time ≥ t_start, up to i."""
        lo = self._oldest()
        best = i
        best_w = self._smoothed(i)
        j = i - 1
        while j >= lo and self.buf_t[j & self.mask] >= t_start:
            wj = self._smoothed(j)
            if wj <= best_w:  # ties: earliest sample
                best_w = wj
                best = j
            j -= 1
        return best

    def _slope(self, j):
        """dω/dt at index j (rad/s²): central difference over ``j ± hs``, within the held samples."""
        a = max(j - self.hs, self._oldest())
        b = min(j + self.hs, self.n - 1)
        return (self.buf_w[b & self.mask] - self.buf_w[a & self.mask]) / (
            self.buf_t[b & self.mask] - self.buf_t[a & self.mask])

    def _steepest_descent(self, i_peak, t_start):
        """Shank toe-off anchor: the steepest point of the late-stance descent of ω.

        Walks back from the swing peak ``i_peak`` (never before ``t_start``): down the swing rise
        to the early-swing minimum, then up the late-stance descent to the mid-stance hump; each
        walk ends once ω has turned back by ``walk_fraction`` of the swing's height above that
        minimum, so noise and small wiggles cannot stop it. Returns ``(j, frac, bounded)``: the index
        of the most negative dω/dt between hump and minimum, a sub-sample offset in [-0.5, 0.5] (parabola
        through the slopes at j - 1, j, j + 1; NaN when ω never fell, and then ``j`` is the
        minimum) and whether the hump was found (the walk turned, rather than reaching t_start).
        """
        mask = self.mask
        lo = self._oldest()
        top = self.buf_w[i_peak & mask]
        q = i_peak
        while q - 1 >= lo and self.buf_t[(q - 1) & mask] >= t_start and self.buf_w[(q - 1) & mask] > 0.3 * top:
            q -= 1
        mn = q
        while q - 1 >= lo and self.buf_t[(q - 1) & mask] >= t_start:
            q -= 1
            wq = self.buf_w[q & mask]
            if wq < self.buf_w[mn & mask]:
                mn = q
            elif wq > self.buf_w[mn & mask] + self.walk_fraction * (top - self.buf_w[mn & mask]):
                break
        margin = self.walk_fraction * (top - self.buf_w[mn & mask])
        q = mn
        mx = mn
        bounded = False
        while q - 1 >= lo and self.buf_t[(q - 1) & mask] >= t_start:
            q -= 1
            wq = self.buf_w[q & mask]
            if wq > self.buf_w[mx & mask]:
                mx = q
            elif wq < self.buf_w[mx & mask] - margin:
                bounded = True
                break
        best = mn
        best_slope = 0.0
        for j in range(mx, mn + 1):
            sj = self._slope(j)
            if sj < best_slope:
                best_slope = sj
                best = j
        if best_slope >= 0.0:
            return mn, math.nan, bounded
        frac = 0.0
        if mx < best < mn:
            s0 = self._slope(best - 1)
            s2 = self._slope(best + 1)
            curvature = s0 - 2.0 * best_slope + s2
            if curvature > 0.0:
                frac = max(-0.5, min(0.5, 0.5 * (s0 - s2) / curvature))
        return best, frac, bounded

    def _time_at(self, j, frac):
        """Time (s) ``frac`` of a sample interval after sample j (interval from its neighbours)."""
        a = max(j - 1, self._oldest())
        b = min(j + 1, self.n - 1)
        if b <= a:
            return self.buf_t[j & self.mask]
        return self.buf_t[j & self.mask] + frac * (self.buf_t[b & self.mask] - self.buf_t[a & self.mask]) / (b - a)

    def _nearest(self, j, t):
        """Index of the held sample nearest to time t, searching from index j."""
        lo = self._oldest()
        while j - 1 >= lo and abs(self.buf_t[(j - 1) & self.mask] - t) <= abs(self.buf_t[j & self.mask] - t):
            j -= 1
        while j + 1 <= self.n - 1 and abs(self.buf_t[(j + 1) & self.mask] - t) < abs(self.buf_t[j & self.mask] - t):
            j += 1
        return j

    def _scan_zero(self, i):
        """Look for the downward zero crossing of ω after mid-swing, up to index i."""
        j = max(self.scan, self.peak_i + 1, self._oldest() + 1)
        while j <= i:
            w1 = self.buf_w[j & self.mask]
            w0 = self.buf_w[(j - 1) & self.mask]
            if w1 <= 0.0 < w0:
                t0 = self.buf_t[(j - 1) & self.mask]
                self.t_zero = t0 + w0 / (w0 - w1) * (self.buf_t[j & self.mask] - t0)
                self.zero_i = j
                return
            j += 1
        self.scan = j

    def _onset_nearest(self, j):
        """The impact began between samples j-1 and j: keep the nearer one.

        An impact's rise decelerates (it heads for its peak), so if the interval (j-1, j] rose
        more than the next one the onset lay in the earlier half of it.
        """
        if j - 1 >= self._oldest() and j + 1 <= self.n - 1:
            a0 = self.buf_a[(j - 1) & self.mask]
            a1 = self.buf_a[j & self.mask]
            a2 = self.buf_a[(j + 1) & self.mask]
            if a1 - a0 > a2 - a1:
                return j - 1
        return j

    def _half_rise_after(self, i_min, i_end):
        """First index after the minimum i_min where w ≥ half the minimum (foot toe-off)."""
        half = 0.5 * self.buf_w[i_min & self.mask]
        j = i_min
        while j < i_end and self.buf_w[j & self.mask] < half:
            j += 1
        return j

    def _half_fall_before(self, i_min, i_start):
        """First index of the final descent below half the minimum (foot initial contact)."""
        half = 0.5 * self.buf_w[i_min & self.mask]
        j = i_min
        while j - 1 > i_start and self.buf_w[(j - 1) & self.mask] <= half:
            j -= 1
        return j

    def _emit(self, kind, t, value, rule):
        self.events.append((kind, float(t), float(value), rule))

    def _event(self, kind, i):
        self._emit(kind, self.buf_t[i & self.mask], self.buf_w[i & self.mask], GYRO)

    # ------------------------------------------------------------------ the loop
    def feed(self, t, x, axis, omega, amag):
        """Process one block of sensor-frame samples; returns a list of ``(kind, t, value, rule)``.

        ``t[n]`` s; ``x[n, 6]`` ax, ay, az (m/s²), gx, gy, gz (rad/s), float32 or float64; ``axis``
        the sagittal axis (3 floats, swing positive). ``omega[n]`` and ``amag[n]`` are filled with
        what the state machine saw: ω = gyro · axis (rad/s) and |a| (m/s²), in float64. Kinds: 0 TO,
        1 MSW, 2 IC; rules: 0 gyro, 1 impact.
        """
        m = len(t)
        if np.shape(x) != (m, 6) or len(omega) != m or len(amag) != m:
            raise ValueError("need t[n], x[n, 6], omega[n] and amag[n]")
        ux, uy, uz = (float(u) for u in axis)
        self.events = []
        for s in range(m):
            ti = float(t[s])
            gx, gy, gz = float(x[s, 3]), float(x[s, 4]), float(x[s, 5])
            wi = gx * ux + gy * uy + gz * uz
            ax, ay, az = float(x[s, 0]), float(x[s, 1]), float(x[s, 2])
            ai = math.sqrt(ax * ax + ay * ay + az * az)
            omega[s] = wi
            amag[s] = ai

            if ti - self.last_t > self.max_gap_s and self.last_t > -math.inf:
                self._restart(ti)
            self.last_t = ti

            if not self.filter_primed:  # start the filter at rest on the first value
                self.z1 = wi * (1.0 - self.b0)
                self.z2 = wi * (self.b2 - self.a2)
                self.filter_primed = True
            wf = self.b0 * wi + self.z1
            self.z1 = self.b1 * wi - self.a1 * wf + self.z2
            self.z2 = self.b2 * wi - self.a2 * wf

            i = self.n
            slot = i & self.mask
            self.buf_t[slot] = ti
            self.buf_w[slot] = wi
            self.buf_a[slot] = ai
            self.n += 1

            if self.imp_track > 0:  # size of the impact just found, for the impact reference
                lo = i - self.k
                if lo >= self._oldest():
                    d = ai - self.buf_a[lo & self.mask]
                    if d > self.imp_max:
                        self.imp_max = d
                self.imp_track -= 1
                if self.imp_track == 0:
                    ref = self._decayed(self.ref_imp, self.t_ref_imp, ti)
                    self.ref_imp = self.imp_max if ref <= 0.0 else (
                        (1.0 - self.ref_weight) * ref + self.ref_weight * self.imp_max)
                    self.t_ref_imp = ti

            if self.state == STANCE:
                self._watch_onset(i, ti, wi, wf)

            elif self.state == SWING:
                if wi > self.peak_w:
                    self.peak_w = wi
                    self.peak_i = i
                if wf > self.peak_f:
                    self.peak_f = wf
                if wf < self.msw_drop * self.peak_f:
                    self._confirm_swing(i, ti)
                elif ti - self.onset_t > self.max_swing_s:
                    self.state = STANCE

            else:  # LATE_SWING: wait for the initial contact
                if self.placement == FOOT:  # the post-swing minimum only matters to the foot rule
                    if wi < self.min_w:
                        self.min_w = wi
                        self.min_i = i
                    if wf < self.min_f:
                        self.min_f = wf
                if self._contact(i, ti, wf, ai):
                    self.state = STANCE
                elif ti - self.late_start_t > self.max_late_s:
                    self.state = STANCE
                    self.pending = -1
                elif self.placement == SHANK and self.pending < 0:
                    # No impact seen (hidden in a gap?) and the next swing is starting: the contact
                    # is missed rather than guessed; this swing is tracked as usual.
                    self._watch_onset(i, ti, wi, wf)
        return self.events

    def _watch_onset(self, i, ti, wi, wf):
        """Arm below the onset floor; start a swing when smoothed ω crosses the onset threshold."""
        if wf <= self.on_floor:
            if not self.armed:
                self.armed = True
                self.armed_t = ti
        elif self.armed:
            ref = self._decayed(self.ref_peak, self.t_ref_peak, ti)
            if wf > max(self.on_floor, self.on_fraction * ref):
                self.state = SWING
                self.armed = False
                self.onset_t = ti
                self.peak_w = wi
                self.peak_i = i
                self.peak_f = wf

    def _confirm_swing(self, i, ti):
        """Mid-swing confirmed: accept the swing as a step (emit TO, MSW) or drop it."""
        self.state = STANCE
        ref = self._decayed(self.ref_peak, self.t_ref_peak, ti)
        if self.peak_w < max(self.peak_floor, self.peak_fraction * ref):
            return
        t_start = max(self.onset_t - self.to_search_s, self.t_last_ic + self.guard_s, self.t_floor)
        # Toe-off is reported only if its search is bounded by what was seen: this stride's contact,
        # a leg quiet over the whole window (a start from standing) or, on the shank, the mid-stance
        # hump. After a gap or a missed contact the window may hold an unseen part of the stance:
        # no toe-off rather than a guessed one.
        report_to = self.contact_seen or self.armed_t <= self.onset_t - self.to_search_s
        self.contact_seen = False
        if self.placement == SHANK:
            j, frac, bounded = self._steepest_descent(self.peak_i, t_start)
            if report_to or bounded:
                if frac != frac:  # no descent: the minimum itself
                    self._event(TO, j)
                else:
                    t_to = self._time_at(j, frac) + self.to_delay_s
                    self._emit(TO, t_to, self.buf_w[self._nearest(j, t_to) & self.mask], GYRO)
        else:
            i_to = self._argmin_back(self.peak_i, t_start)
            if self.buf_w[i_to & self.mask] < 0.0:
                i_to = self._half_rise_after(i_to, self.peak_i)
            if report_to:
                self._event(TO, i_to)
        self._event(MSW, self.peak_i)
        self.ref_peak = self.peak_w if ref <= 0.0 else (
            (1.0 - self.ref_weight) * ref + self.ref_weight * self.peak_w)
        self.t_ref_peak = float(self.buf_t[self.peak_i & self.mask])
        self.state = LATE_SWING
        self.late_start_t = ti
        self.min_w = self.buf_w[i & self.mask]
        self.min_i = i
        self.min_f = self.peak_f
        self.scan = self.peak_i + 1
        self.t_zero = math.nan

    def _contact(self, i, ti, wf, ai):
        """Look for the initial contact at sample i; emit it and return True when found."""
        if self.pending >= 0:  # the impact found on the previous sample now has its next sample
            self._emit_impact(self._onset_nearest(self.pending))
            self.pending = -1
            return True
        if self.placement == SHANK:
            if self.t_zero != self.t_zero:
                self._scan_zero(i)
                if self.t_zero != self.t_zero:
                    return False
            if ti > self.t_zero + self.imp_window_s:
                # No impact within the window: the gyro rule places the contact.
                t_ic = self.t_zero + self.ic_delay_s
                j = self._nearest(self.zero_i, t_ic)
                self._emit_contact(t_ic, float(self.buf_w[j & self.mask]), GYRO)
                return True
            lo = i - self.k
            if lo >= self._oldest():
                base = self.buf_a[lo & self.mask]
                rise = ai - base
                if (rise > self.imp_floor and rise > self.imp_rate_floor * (ti - self.buf_t[lo & self.mask])
                        and rise > self.imp_fraction * self._decayed(self.ref_imp, self.t_ref_imp, ti)):
                    j = lo + 1  # onset: first sample that has risen a quarter of the way
                    while j < i and self.buf_a[j & self.mask] - base < 0.25 * rise:
                        j += 1
                    self.imp_track = self.k
                    self.imp_max = rise
                    if j < i:
                        self._emit_impact(self._onset_nearest(j))
                        return True
                    self.pending = j
            return False
        if (self.min_f < self.imp_arm * self.peak_f
                and wf > self.min_f + max(self.min_rise, self.min_rise_fraction * self.peak_f)):
            # Foot: the post-swing minimum has passed.
            j = self.min_i
            if self.min_w < 0.0:
                j = self._half_fall_before(self.min_i, self.peak_i)
            self._emit_contact(float(self.buf_t[j & self.mask]), float(self.buf_w[j & self.mask]), GYRO)
            return True
        return False

    def _emit_impact(self, j):
        self._emit_contact(float(self.buf_t[j & self.mask]), float(self.buf_w[j & self.mask]), IMPACT)

    def _emit_contact(self, t, value, rule):
        self._emit(IC, t, value, rule)
        self.contact_seen = True
        self.t_last_ic = float(t)
