# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Compiled streaming gait-event kernel (one leg).

Python twin and specification: ``gaitmon/core/_twin.py``. The two must stay line-for-line the
same algorithm; ``tests/test_core_twin.py`` holds their outputs equal. Read the twin for the
design; this file only adds C types.
"""

from libc.math cimport exp, floor, INFINITY

cdef enum:
    TO = 0
    MSW = 1
    IC = 2
    STANCE = 0
    SWING = 1
    LATE_SWING = 2
    SHANK = 0
    FOOT = 1


cdef class DetectorKernel:
    cdef double on_floor, on_fraction, peak_floor, peak_fraction, ref_weight, ref_decay_s
    cdef double msw_drop, max_swing_s, max_late_s, to_search_s, guard_s
    cdef double imp_floor, imp_fraction, imp_arm, min_rise, min_rise_fraction, max_gap_s
    cdef double b0, b1, b2, a1, a2
    cdef int placement
    cdef long k, h, capacity, mask
    cdef double[::1] buf_t
    cdef double[::1] buf_w
    cdef double[::1] buf_a
    cdef object _buffers
    # streaming state
    cdef long n
    cdef double z1, z2
    cdef bint filter_primed, armed, contact_seen
    cdef double armed_t
    cdef double ref_peak, t_ref_peak, ref_imp, t_ref_imp
    cdef int state
    cdef double t_floor, t_last_ic, last_t, onset_t
    cdef double peak_w, peak_f, late_start_t, min_w, min_f
    cdef long peak_i, min_i
    cdef long imp_track
    cdef double imp_max
    cdef long pending

    def __init__(self, placement, settings, biquad, impact_span, to_halfwidth, capacity):
        (_cutoff, self.on_floor, self.on_fraction, self.peak_floor, self.peak_fraction,
         self.ref_weight, self.ref_decay_s, self.msw_drop, self.max_swing_s, self.max_late_s,
         self.to_search_s, _to_smooth_s, self.guard_s, _span_s, self.imp_floor, self.imp_fraction,
         self.imp_arm, self.min_rise, self.min_rise_fraction, self.max_gap_s, _buffer_s) = settings
        self.placement = placement
        self.b0, self.b1, self.b2, self.a1, self.a2 = biquad
        self.k = impact_span
        self.h = to_halfwidth
        self.capacity = capacity
        self.mask = capacity - 1
        import array
        self._buffers = [array.array("d", bytes(8 * capacity)) for _ in range(3)]
        self.buf_t = self._buffers[0]
        self.buf_w = self._buffers[1]
        self.buf_a = self._buffers[2]
        self.reset()

    def reset(self):
        """Forget everything: filter, references, step in progress and history."""
        self.n = 0
        self.z1 = 0.0
        self.z2 = 0.0
        self.ref_peak = 0.0
        self.t_ref_peak = 0.0
        self.ref_imp = 0.0
        self.t_ref_imp = 0.0
        self._restart(-INFINITY)

    cdef void _restart(self, double t_floor) noexcept:
        self.state = STANCE
        self.t_floor = t_floor
        self.t_last_ic = -INFINITY
        self.last_t = -INFINITY
        self.onset_t = 0.0
        self.peak_w = 0.0
        self.peak_i = 0
        self.peak_f = 0.0
        self.late_start_t = 0.0
        self.min_w = 0.0
        self.min_i = 0
        self.min_f = 0.0
        self.imp_track = 0
        self.imp_max = 0.0
        self.pending = -1
        self.armed = False
        self.armed_t = INFINITY
        self.contact_seen = False
        self.filter_primed = False

    cdef inline double _decayed(self, double ref, double t_ref, double t) noexcept:
        if ref <= 0.0:
            return 0.0
        return ref * exp(-(t - t_ref) / self.ref_decay_s)

    cdef inline long _oldest(self) noexcept:
        return self.n - self.capacity if self.n > self.capacity else 0

    cdef double _smoothed(self, long j) noexcept:
        cdef long lo = max(j - self.h, self._oldest())
        cdef long hi = min(j + self.h, self.n - 1)
        cdef double total = 0.0
        cdef long q
        for q in range(lo, hi + 1):
            total += self.buf_w[q & self.mask]
        return total / (hi - lo + 1)

    cdef long _argmin_back(self, long i, double t_start) noexcept:
        cdef long lo = self._oldest()
        cdef long best = i
        cdef double best_w = self._smoothed(i)
        cdef double wj
        cdef long j = i - 1
        while j >= lo and self.buf_t[j & self.mask] >= t_start:
            wj = self._smoothed(j)
            if wj <= best_w:
                best_w = wj
                best = j
            j -= 1
        return best

    cdef long _rise_start(self, long m, long i_peak) noexcept:
        cdef double level = self._smoothed(m)
        cdef double span = self.buf_w[i_peak & self.mask] - level
        cdef double low, high, x, y, slope, intercept
        cdef double sx = 0.0, sy = 0.0, sxx = 0.0, sxy = 0.0
        cdef long count = 0, j, offset, reach
        if span <= 0.0:
            return m
        low = level + 0.05 * span
        high = level + 0.3 * span
        j = m + 1
        while j < i_peak and self.buf_w[j & self.mask] < low:
            j += 1
        while j < i_peak and self.buf_w[j & self.mask] <= high:
            x = <double>(j - m)
            y = self.buf_w[j & self.mask]
            count += 1
            sx += x
            sy += y
            sxx += x * x
            sxy += x * y
            j += 1
        if count < 2:
            return m
        slope = (count * sxy - sx * sy) / (count * sxx - sx * sx)
        if slope <= 0.0:
            return m
        intercept = (sy - slope * sx) / count
        offset = <long>floor((level - intercept) / slope + 0.5)
        reach = self.h + 2
        return m + max(-reach, min(reach, offset))

    cdef long _onset_nearest(self, long j) noexcept:
        cdef double a0, a1, a2
        if j - 1 >= self._oldest() and j + 1 <= self.n - 1:
            a0 = self.buf_a[(j - 1) & self.mask]
            a1 = self.buf_a[j & self.mask]
            a2 = self.buf_a[(j + 1) & self.mask]
            if a1 - a0 > a2 - a1:
                return j - 1
        return j

    cdef long _half_rise_after(self, long i_min, long i_end) noexcept:
        cdef double half = 0.5 * self.buf_w[i_min & self.mask]
        cdef long j = i_min
        while j < i_end and self.buf_w[j & self.mask] < half:
            j += 1
        return j

    cdef long _half_fall_before(self, long i_min, long i_start) noexcept:
        cdef double half = 0.5 * self.buf_w[i_min & self.mask]
        cdef long j = i_min
        while j - 1 > i_start and self.buf_w[(j - 1) & self.mask] <= half:
            j -= 1
        return j

    cdef inline void _event(self, list out, int kind, long i):
        out.append((kind, self.buf_t[i & self.mask], self.buf_w[i & self.mask]))

    def feed(self, const double[::1] t, const double[::1] w, const double[::1] amag):
        """Process one block; returns a list of ``(kind, t, value)`` with kind 0 TO, 1 MSW, 2 IC."""
        cdef list out = []
        cdef Py_ssize_t s, m = t.shape[0]
        cdef double ti, wi, ai, wf, ref, d
        cdef long i, slot, lo
        # Hot state in locals: stores into the ring buffers could alias double fields of self,
        # which would force the compiler to reload them every sample.
        cdef double z1 = self.z1, z2 = self.z2, last_t = self.last_t
        cdef double b0 = self.b0, b1 = self.b1, b2 = self.b2, a1 = self.a1, a2 = self.a2
        cdef double max_gap = self.max_gap_s
        cdef long mask = self.mask
        cdef long n = self.n
        cdef double* bt = &self.buf_t[0]
        cdef double* bw = &self.buf_w[0]
        cdef double* ba = &self.buf_a[0]
        if w.shape[0] != m or amag.shape[0] != m:
            raise ValueError("t, w and amag must have the same length")
        for s in range(m):
            ti = t[s]
            wi = w[s]
            ai = amag[s]

            if ti - last_t > max_gap and last_t > -INFINITY:
                self._restart(ti)
            last_t = ti

            if not self.filter_primed:
                z1 = wi * (1.0 - b0)
                z2 = wi * (b2 - a2)
                self.filter_primed = True
            wf = b0 * wi + z1
            z1 = b1 * wi - a1 * wf + z2
            z2 = b2 * wi - a2 * wf

            i = n
            slot = i & mask
            bt[slot] = ti
            bw[slot] = wi
            ba[slot] = ai
            n += 1
            self.n = n

            if self.imp_track > 0:
                lo = i - self.k
                if lo >= self._oldest():
                    d = ai - self.buf_a[lo & self.mask]
                    if d > self.imp_max:
                        self.imp_max = d
                self.imp_track -= 1
                if self.imp_track == 0:
                    ref = self._decayed(self.ref_imp, self.t_ref_imp, ti)
                    if ref <= 0.0:
                        self.ref_imp = self.imp_max
                    else:
                        self.ref_imp = (1.0 - self.ref_weight) * ref + self.ref_weight * self.imp_max
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
                    self._confirm_swing(out, i, ti)
                elif ti - self.onset_t > self.max_swing_s:
                    self.state = STANCE

            else:
                if self.placement == FOOT:  # the post-swing minimum only matters to the foot rule
                    if wi < self.min_w:
                        self.min_w = wi
                        self.min_i = i
                    if wf < self.min_f:
                        self.min_f = wf
                if self._contact(out, i, ti, wf, ai):
                    self.state = STANCE
                elif ti - self.late_start_t > self.max_late_s:
                    self.state = STANCE
                    self.pending = -1
                elif self.placement == SHANK and self.pending < 0:
                    self._watch_onset(i, ti, wi, wf)
        self.z1 = z1
        self.z2 = z2
        self.last_t = last_t
        return out

    cdef inline void _watch_onset(self, long i, double ti, double wi, double wf) noexcept:
        cdef double ref
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

    cdef void _confirm_swing(self, list out, long i, double ti):
        cdef double ref, t_start
        cdef long i_to
        cdef bint report_to
        self.state = STANCE
        ref = self._decayed(self.ref_peak, self.t_ref_peak, ti)
        if self.peak_w < max(self.peak_floor, self.peak_fraction * ref):
            return
        t_start = max(self.onset_t - self.to_search_s, self.t_last_ic + self.guard_s)
        # Toe-off is reported only if this stride's contact was seen, or the leg was quiet for the
        # whole search window (a start from standing). Otherwise (after a gap, or a missed contact)
        # the window may hold an unseen contact's impact: no toe-off rather than a guessed one.
        report_to = self.contact_seen or self.armed_t <= self.onset_t - self.to_search_s
        self.contact_seen = False
        i_to = self._argmin_back(self.peak_i, t_start)
        if self.placement == FOOT and self.buf_w[i_to & self.mask] < 0.0:
            i_to = self._half_rise_after(i_to, self.peak_i)
        elif self.placement == SHANK:
            i_to = self._rise_start(i_to, self.peak_i)
        if report_to:
            self._event(out, TO, i_to)
        self._event(out, MSW, self.peak_i)
        if ref <= 0.0:
            self.ref_peak = self.peak_w
        else:
            self.ref_peak = (1.0 - self.ref_weight) * ref + self.ref_weight * self.peak_w
        self.t_ref_peak = self.buf_t[self.peak_i & self.mask]
        self.state = LATE_SWING
        self.late_start_t = ti
        self.min_w = self.buf_w[i & self.mask]
        self.min_i = i
        self.min_f = self.peak_f

    cdef bint _contact(self, list out, long i, double ti, double wf, double ai):
        cdef long lo, j
        cdef double base, rise
        if self.pending >= 0:
            self._emit_contact(out, self._onset_nearest(self.pending))
            self.pending = -1
            return True
        if self.placement == SHANK and wf < self.imp_arm * self.peak_f:
            lo = i - self.k
            if lo >= self._oldest():
                base = self.buf_a[lo & self.mask]
                rise = ai - base
                if rise > self.imp_floor and rise > self.imp_fraction * self._decayed(
                        self.ref_imp, self.t_ref_imp, ti):
                    j = lo + 1
                    while j < i and self.buf_a[j & self.mask] - base < 0.25 * rise:
                        j += 1
                    self.imp_track = self.k
                    self.imp_max = rise
                    if j < i:
                        self._emit_contact(out, self._onset_nearest(j))
                        return True
                    self.pending = j
                    return False
        if (self.placement == FOOT and self.min_f < self.imp_arm * self.peak_f
                and wf > self.min_f + max(self.min_rise, self.min_rise_fraction * self.peak_f)):
            j = self.min_i
            if self.min_w < 0.0:
                j = self._half_fall_before(self.min_i, self.peak_i)
            self._emit_contact(out, j)
            return True
        return False

    cdef inline void _emit_contact(self, list out, long j):
        self._event(out, IC, j)
        self.contact_seen = True
        self.t_last_ic = self.buf_t[j & self.mask]
