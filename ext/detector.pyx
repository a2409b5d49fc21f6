# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Compiled streaming gait-event kernel (one leg).

Python twin and specification: ``gaitmon/core/_twin.py``. The two must stay line-for-line the
same algorithm; ``tests/unit/test_core_twin.py`` holds their outputs equal. Read the twin for the
design; this file only adds C types.

The kernel takes sensor-frame samples ``x[n, 6]`` (float32 or float64) and the sagittal axis and
projects each sample in its loop (ω = gyro · axis, |a| = √(a·a), in float64, in the order of
``gaitmon.stream.orientation._dot3``/``_squared_norm``, so the values equal numpy's bit for bit:
``setup.py`` turns off FMA contraction). The loop runs without the GIL: events go to a C buffer
and become Python tuples after it.
"""

from cython cimport floating
from libc.math cimport exp, fabs, sqrt, INFINITY, NAN
from libc.stdlib cimport calloc, free, malloc, realloc

cdef enum:
    TO = 0
    MSW = 1
    IC = 2
    STANCE = 0
    SWING = 1
    LATE_SWING = 2
    SHANK = 0
    FOOT = 1
    GYRO = 0
    IMPACT = 1


ctypedef struct Event:
    int kind
    double t
    double value
    int rule


cdef class DetectorKernel:
    cdef double on_floor, on_fraction, peak_floor, peak_fraction, ref_weight, ref_decay_s
    cdef double msw_drop, max_swing_s, max_late_s, to_search_s, guard_s
    cdef double imp_floor, imp_fraction, imp_arm, min_rise, min_rise_fraction, max_gap_s
    cdef double ic_delay_s, to_delay_s, imp_window_s, imp_rate_floor, walk_fraction
    cdef double b0, b1, b2, a1, a2
    cdef int placement
    cdef long k, h, hs, capacity, mask
    # ring buffers (capacity samples each) and the events of the block being fed
    cdef double* buf_t
    cdef double* buf_w
    cdef double* buf_a
    cdef Event* events
    cdef Py_ssize_t n_events, cap_events
    cdef bint out_of_memory
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
    cdef long scan, zero_i
    cdef double t_zero

    def __cinit__(self):
        self.buf_t = self.buf_w = self.buf_a = NULL
        self.cap_events = 64
        self.events = <Event*> malloc(self.cap_events * sizeof(Event))
        if self.events == NULL:
            raise MemoryError()

    def __dealloc__(self):
        free(self.buf_t)
        free(self.buf_w)
        free(self.buf_a)
        free(self.events)

    def __init__(self, placement, settings, biquad, impact_span, to_halfwidth, slope_halfwidth, capacity):
        (_cutoff, self.on_floor, self.on_fraction, self.peak_floor, self.peak_fraction,
         self.ref_weight, self.ref_decay_s, self.msw_drop, self.max_swing_s, self.max_late_s,
         self.to_search_s, _to_smooth_s, self.guard_s, _span_s, self.imp_floor, self.imp_fraction,
         self.imp_arm, self.min_rise, self.min_rise_fraction, self.max_gap_s, _buffer_s,
         self.ic_delay_s, self.to_delay_s, self.imp_window_s, _slope_span_s, self.imp_rate_floor,
         self.walk_fraction) = settings
        self.placement = placement
        self.b0, self.b1, self.b2, self.a1, self.a2 = biquad
        self.k = impact_span
        self.h = to_halfwidth
        self.hs = slope_halfwidth
        self.capacity = capacity
        self.mask = capacity - 1
        free(self.buf_t)  # in case __init__ runs twice
        free(self.buf_w)
        free(self.buf_a)
        self.buf_t = <double*> calloc(capacity, sizeof(double))  # zeros, as the twin's
        self.buf_w = <double*> calloc(capacity, sizeof(double))
        self.buf_a = <double*> calloc(capacity, sizeof(double))
        if self.buf_t == NULL or self.buf_w == NULL or self.buf_a == NULL:
            raise MemoryError()
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

    cdef void _restart(self, double t_floor) noexcept nogil:
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
        self.scan = 0
        self.t_zero = NAN
        self.zero_i = 0
        self.armed = False
        self.armed_t = INFINITY
        self.contact_seen = False
        self.filter_primed = False

    cdef inline double _decayed(self, double ref, double t_ref, double t) noexcept nogil:
        if ref <= 0.0:
            return 0.0
        return ref * exp(-(t - t_ref) / self.ref_decay_s)

    cdef inline long _oldest(self) noexcept nogil:
        return self.n - self.capacity if self.n > self.capacity else 0

    cdef double _smoothed(self, long j) noexcept nogil:
        cdef long lo = max(j - self.h, self._oldest())
        cdef long hi = min(j + self.h, self.n - 1)
        cdef double total = 0.0
        cdef long q
        for q in range(lo, hi + 1):
            total += self.buf_w[q & self.mask]
        return total / (hi - lo + 1)

    cdef long _argmin_back(self, long i, double t_start) noexcept nogil:
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

    cdef inline double _slope(self, long j) noexcept nogil:
        cdef long a = max(j - self.hs, self._oldest())
        cdef long b = min(j + self.hs, self.n - 1)
        return (self.buf_w[b & self.mask] - self.buf_w[a & self.mask]) / (
            self.buf_t[b & self.mask] - self.buf_t[a & self.mask])

    cdef long _steepest_descent(self, long i_peak, double t_start, double* frac, bint* bounded) noexcept nogil:
        cdef long mask = self.mask
        cdef long lo = self._oldest()
        cdef double top = self.buf_w[i_peak & mask]
        cdef long q = i_peak, mn, mx, best, j
        cdef double wq, margin, best_slope, sj, s0, s2, curvature
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
        bounded[0] = False
        while q - 1 >= lo and self.buf_t[(q - 1) & mask] >= t_start:
            q -= 1
            wq = self.buf_w[q & mask]
            if wq > self.buf_w[mx & mask]:
                mx = q
            elif wq < self.buf_w[mx & mask] - margin:
                bounded[0] = True
                break
        best = mn
        best_slope = 0.0
        for j in range(mx, mn + 1):
            sj = self._slope(j)
            if sj < best_slope:
                best_slope = sj
                best = j
        if best_slope >= 0.0:
            frac[0] = NAN
            return mn
        frac[0] = 0.0
        if mx < best < mn:
            s0 = self._slope(best - 1)
            s2 = self._slope(best + 1)
            curvature = s0 - 2.0 * best_slope + s2
            if curvature > 0.0:
                frac[0] = max(-0.5, min(0.5, 0.5 * (s0 - s2) / curvature))
        return best

    cdef double _time_at(self, long j, double frac) noexcept nogil:
        cdef long a = max(j - 1, self._oldest())
        cdef long b = min(j + 1, self.n - 1)
        if b <= a:
            return self.buf_t[j & self.mask]
        return self.buf_t[j & self.mask] + frac * (self.buf_t[b & self.mask] - self.buf_t[a & self.mask]) / (b - a)

    cdef long _nearest(self, long j, double t) noexcept nogil:
        cdef long lo = self._oldest()
        while j - 1 >= lo and fabs(self.buf_t[(j - 1) & self.mask] - t) <= fabs(self.buf_t[j & self.mask] - t):
            j -= 1
        while j + 1 <= self.n - 1 and fabs(self.buf_t[(j + 1) & self.mask] - t) < fabs(self.buf_t[j & self.mask] - t):
            j += 1
        return j

    cdef void _scan_zero(self, long i) noexcept nogil:
        cdef long j = max(self.scan, max(self.peak_i + 1, self._oldest() + 1))
        cdef double w0, w1, t0
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

    cdef long _onset_nearest(self, long j) noexcept nogil:
        cdef double a0, a1, a2
        if j - 1 >= self._oldest() and j + 1 <= self.n - 1:
            a0 = self.buf_a[(j - 1) & self.mask]
            a1 = self.buf_a[j & self.mask]
            a2 = self.buf_a[(j + 1) & self.mask]
            if a1 - a0 > a2 - a1:
                return j - 1
        return j

    cdef long _half_rise_after(self, long i_min, long i_end) noexcept nogil:
        cdef double half = 0.5 * self.buf_w[i_min & self.mask]
        cdef long j = i_min
        while j < i_end and self.buf_w[j & self.mask] < half:
            j += 1
        return j

    cdef long _half_fall_before(self, long i_min, long i_start) noexcept nogil:
        cdef double half = 0.5 * self.buf_w[i_min & self.mask]
        cdef long j = i_min
        while j - 1 > i_start and self.buf_w[(j - 1) & self.mask] <= half:
            j -= 1
        return j

    cdef void _emit(self, int kind, double t, double value, int rule) noexcept nogil:
        """Append an event to the C buffer (grown as needed; a failed growth is raised after the loop)."""
        cdef Event* grown
        if self.n_events == self.cap_events:
            grown = <Event*> realloc(self.events, 2 * self.cap_events * sizeof(Event))
            if grown == NULL:
                self.out_of_memory = True
                return
            self.events = grown
            self.cap_events *= 2
        self.events[self.n_events].kind = kind
        self.events[self.n_events].t = t
        self.events[self.n_events].value = value
        self.events[self.n_events].rule = rule
        self.n_events += 1

    cdef inline void _event(self, int kind, long i) noexcept nogil:
        self._emit(kind, self.buf_t[i & self.mask], self.buf_w[i & self.mask], GYRO)

    def feed(self, const double[::1] t, const floating[:, ::1] x, axis, double[::1] omega, double[::1] amag):
        """Process one block of sensor-frame samples; returns a list of ``(kind, t, value, rule)``.

        ``t[n]`` s; ``x[n, 6]`` ax, ay, az (m/s²), gx, gy, gz (rad/s), float32 or float64; ``axis``
        the sagittal axis (3 floats, swing positive). ``omega[n]`` and ``amag[n]`` are filled with
        what the state machine saw: ω = gyro · axis (rad/s) and |a| (m/s²), in float64. Kinds: 0 TO,
        1 MSW, 2 IC; rules: 0 gyro, 1 impact.
        """
        cdef Py_ssize_t s, m = t.shape[0]
        cdef double ux = axis[0], uy = axis[1], uz = axis[2]
        cdef double gx, gy, gz, ax, ay, az
        cdef double ti, wi, ai, wf, ref, d
        cdef long i, slot, lo
        # Hot state in locals: stores into the ring buffers could alias double fields of self,
        # which would force the compiler to reload them every sample.
        cdef double z1 = self.z1, z2 = self.z2, last_t = self.last_t
        cdef double b0 = self.b0, b1 = self.b1, b2 = self.b2, a1 = self.a1, a2 = self.a2
        cdef double max_gap = self.max_gap_s
        cdef long mask = self.mask
        cdef long n = self.n
        cdef double* bt = self.buf_t
        cdef double* bw = self.buf_w
        cdef double* ba = self.buf_a
        if x.shape[0] != m or x.shape[1] != 6 or omega.shape[0] != m or amag.shape[0] != m:
            raise ValueError("need t[n], x[n, 6], omega[n] and amag[n]")
        self.n_events = 0
        self.out_of_memory = False
        with nogil:
            for s in range(m):
                ti = t[s]
                gx = x[s, 3]
                gy = x[s, 4]
                gz = x[s, 5]
                wi = gx * ux + gy * uy + gz * uz
                ax = x[s, 0]
                ay = x[s, 1]
                az = x[s, 2]
                ai = sqrt(ax * ax + ay * ay + az * az)
                omega[s] = wi
                amag[s] = ai

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
                        self._confirm_swing(i, ti)
                    elif ti - self.onset_t > self.max_swing_s:
                        self.state = STANCE

                else:
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
                        self._watch_onset(i, ti, wi, wf)
            self.z1 = z1
            self.z2 = z2
            self.last_t = last_t
        if self.out_of_memory:
            raise MemoryError("no memory for the events of this block")
        return [(self.events[s].kind, self.events[s].t, self.events[s].value, self.events[s].rule)
                for s in range(self.n_events)]

    cdef inline void _watch_onset(self, long i, double ti, double wi, double wf) noexcept nogil:
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

    cdef void _confirm_swing(self, long i, double ti) noexcept nogil:
        cdef double ref, t_start, frac, t_to
        cdef long i_to, j
        cdef bint report_to, bounded
        self.state = STANCE
        ref = self._decayed(self.ref_peak, self.t_ref_peak, ti)
        if self.peak_w < max(self.peak_floor, self.peak_fraction * ref):
            return
        t_start = max(self.onset_t - self.to_search_s, max(self.t_last_ic + self.guard_s, self.t_floor))
        # Toe-off is reported only if its search is bounded by what was seen (see the twin).
        report_to = self.contact_seen or self.armed_t <= self.onset_t - self.to_search_s
        self.contact_seen = False
        if self.placement == SHANK:
            j = self._steepest_descent(self.peak_i, t_start, &frac, &bounded)
            if report_to or bounded:
                if frac != frac:
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
        self.scan = self.peak_i + 1
        self.t_zero = NAN

    cdef bint _contact(self, long i, double ti, double wf, double ai) noexcept nogil:
        cdef long lo, j
        cdef double base, rise, t_ic
        if self.pending >= 0:
            self._emit_impact(self._onset_nearest(self.pending))
            self.pending = -1
            return True
        if self.placement == SHANK:
            if self.t_zero != self.t_zero:
                self._scan_zero(i)
                if self.t_zero != self.t_zero:
                    return False
            if ti > self.t_zero + self.imp_window_s:
                t_ic = self.t_zero + self.ic_delay_s
                j = self._nearest(self.zero_i, t_ic)
                self._emit_contact(t_ic, self.buf_w[j & self.mask], GYRO)
                return True
            lo = i - self.k
            if lo >= self._oldest():
                base = self.buf_a[lo & self.mask]
                rise = ai - base
                if (rise > self.imp_floor and rise > self.imp_rate_floor * (ti - self.buf_t[lo & self.mask])
                        and rise > self.imp_fraction * self._decayed(self.ref_imp, self.t_ref_imp, ti)):
                    j = lo + 1
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
            j = self.min_i
            if self.min_w < 0.0:
                j = self._half_fall_before(self.min_i, self.peak_i)
            self._emit_contact(self.buf_t[j & self.mask], self.buf_w[j & self.mask], GYRO)
            return True
        return False

    cdef inline void _emit_impact(self, long j) noexcept nogil:
        self._emit_contact(self.buf_t[j & self.mask], self.buf_w[j & self.mask], IMPACT)

    cdef inline void _emit_contact(self, double t, double value, int rule) noexcept nogil:
        self._emit(IC, t, value, rule)
        self.contact_seen = True
        self.t_last_ic = t
