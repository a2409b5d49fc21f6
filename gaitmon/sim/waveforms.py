"""The signal model: sagittal shank angular velocity ω(t) and the shank accelerometer, per leg.

Frame and signs
---------------
Everything here is in the canonical shank frame of :mod:`gaitmon.consts` (x up the shank, y forward,
z to the athlete's left), SI units. ``ω`` is the sagittal angular velocity, positive when the foot
swings forward; the gyro reads ``gz = −ω``. The shank angle ``θ`` is positive with the foot forward
of the knee; the world's "up" seen in the shank frame is ``(cos θ, sin θ, 0)``.

The contract (what the event detector relies on)
------------------------------------------------
ω is a continuous, piecewise-smooth function built stride by stride from the timeline:

1. **Stance [IC, TO]**: ``ω = ω_IC + (ω_TO − ω_IC) u^p`` (``u`` = fraction of the contact, ``p`` = 2
   running, 3 walking), i.e. a smooth monotone descent from the late-swing value at IC to the
   stride's **minimum exactly at TO**, plus a negative **impact transient** with onset exactly at
   IC: a 30 Hz damped sine (τ = 8 ms) whose first, negative lobe peaks ~5 ms after IC, tapered to
   exactly zero by IC + 25 ms. Peak 1–2 rad/s walking, 3–6 rad/s sprinting.
2. **Swing [TO, next IC]**: from ``ω_TO`` a steep rise ``1 − (1 − u)^2.2`` (slope largest right after
   TO, a kink against the gentler stance descent) to the mid-swing peak ``Ω`` at
   ``TO + min(φ (IC − TO), 0.2 s)`` (φ = 0.42 running, 0.45 walking) — the truth MSW, the maximum of the
   continuous ω — then a raised-cosine fall through zero to ``ω_IC`` (late-swing retraction,
   −2 … −4 rad/s sprinting, ≈ −0.6 walking) with zero slope at IC. ``ω_IC > ω_TO`` always.
3. A standing start is a push ``0 → ω_TO`` (``u²``) from the start signal to TO. The last contact
   of a walking bout relaxes ``ω_IC → 0`` (raised cosine) and the leg stands.
4. Standing: ω = fidget only (sway + smooth weight shifts, |ω| < 1.5 rad/s, tapered to zero at the
   ends of each standing spell).

Accelerometer: specific force = world vertical ``g (1 + bounce)`` and forward ``F`` (stance only:
half-sine vertical bounce of the spring-mass peak force minus body weight, braking-then-propulsive
horizontal force) rotated by ``θ``, plus the swing/standing kinematics of a sensor ``r = 0.25 m``
below the knee (centripetal ``r ω²`` along +x, tangential ``r dω/dt`` along +y; smoothly faded in
over the rise and out over the second half of the fall, so neither TO nor IC gets a step), plus the
**impact pulse** along +x at IC: a 35 Hz damped sine (τ = 7 ms, peak ~4.5 ms after IC, 2 g walking to
~9 g at top speed) tapered to zero by IC + 30 ms, with 25 % braking shear along −y and 10 % along z.
No other few-millisecond features exist.

Out of the sagittal plane the signals are small and smooth: ``gx = 0.10 ω`` and ``gy = −0.06 ω``
(long-axis and frontal rotation, without the impact transient), ``az = 0.06 ay`` plus 10 % of the
impact pulse.

``θ = ∫ω dt`` is re-anchored to 0 at every IC and at the ends of every standing spell (linear drift
removal) and compressed per interval into −30° … +60°; ω amplitudes of a sprinting shank would
otherwise integrate to unphysical angles.

References (keys as in the project's science notes): the shank sagittal gyro shows a large positive
mid-swing peak with IC and TO at the adjacent minima [AM02][BR]; on the foot, IC and TC sit at
pitch-rate minima within a mid-swing-to-mid-swing cycle [FA18]; the impact's axial acceleration
spike marks contact in sprint IMU methods (shank accelerometers [ME25r], ankle IMUs [SC16][TUM21]);
shank angular velocity in sprinting reaches tens of rad/s [CH05]. Amplitudes marked here without a
citation are modelling choices (I).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..consts import STANDARD_GRAVITY as G
from ..events import GaitEvent
from .timeline import Contact, Push, Stand, Timeline

#: Segment shapes: value = a + (b − a) S(u), u ∈ [0, 1].
CONST, POW, RISE, COS = 0, 1, 2, 3
#: Segment roles (for the accelerometer).
R_STAND, R_STANCE, R_PUSH, R_SETTLE, R_RISE, R_FALL = 0, 1, 2, 3, 4, 5

RISE_POWER = 2.2
#: Longest TO → MSW rise, s (keeps the TO kink sharp on the long jog-to-walk transition swing).
MAX_RISE_S = 0.2
STANCE_POWER_RUN = 2.0
STANCE_POWER_WALK = 3.0
PUSH_POWER = 2.0
#: Sensor distance below the knee, m.
SENSOR_RADIUS_M = 0.25
#: Shank-angle bounds, rad.
THETA_MIN = np.deg2rad(-30.0)
THETA_MAX = np.deg2rad(60.0)
#: Impact transients: frequency (Hz), decay (s), full-amplitude span and end of taper (s).
GYRO_IMPACT = (30.0, 0.008, 0.015, 0.025)
ACC_IMPACT = (35.0, 0.007, 0.020, 0.030)
#: Fidget taper at the ends of a standing spell, s.
FIDGET_TAPER_S = 0.4
_T_FAR = 1.0e12


def _damped_sine_peak(freq: float, tau: float) -> float:
    w = 2 * np.pi * freq
    t_peak = np.arctan(w * tau) / w
    return float(np.exp(-t_peak / tau) * np.sin(w * t_peak))


@dataclass
class LegSchedule:
    """Piecewise description of one leg's ω and the truth events it implies."""

    side: str
    t0: np.ndarray  # segment starts, s
    t1: np.ndarray  # segment ends, s
    shape: np.ndarray  # CONST | POW | RISE | COS
    role: np.ndarray  # R_*
    a: np.ndarray  # value at u = 0, rad/s
    b: np.ndarray  # value at u = 1, rad/s
    p: np.ndarray  # exponent for POW / RISE
    bounce: np.ndarray  # stance bounce, g
    ic_t: np.ndarray  # IC times, s
    ic_gyro: np.ndarray  # ω impact peak, rad/s
    ic_acc: np.ndarray  # acc impact peak, m/s²
    stands: list[Stand]
    events: list[GaitEvent]


def leg_schedule(side: str, timeline: Timeline) -> LegSchedule:
    """Turn the timeline of one leg into ω segments and truth events (see module docstring)."""
    items: list[tuple[float, object]] = [(c.ic, c) for c in timeline.contacts if c.side == side]
    items += [(p.start, p) for p in timeline.pushes if p.side == side]
    items.sort(key=lambda it: it[0])
    segs: list[tuple] = []  # (t0, t1, shape, role, a, b, p, bounce)
    events: list[GaitEvent] = []
    ic_t, ic_gyro, ic_acc = [], [], []
    cursor = -_T_FAR
    pending: tuple[float, float] | None = None
    for _, item in items:
        if isinstance(item, Push):
            if pending is not None:
                raise RuntimeError("simulator bug: standing start while the leg is in swing")
            segs.append((cursor, item.start, CONST, R_STAND, 0.0, 0.0, 1.0, 0.0))
            segs.append((item.start, item.to, POW, R_PUSH, 0.0, item.omega_to, PUSH_POWER, item.bounce_g))
            events.append(GaitEvent(item.to, side, "TO", item.omega_to))
            pending = (item.to, item.omega_to)
            continue
        c: Contact = item
        if pending is None:
            raise RuntimeError("simulator bug: contact without a preceding swing")
        to_prev, w_prev = pending
        t_msw = to_prev + min(c.msw_fraction * (c.ic - to_prev), MAX_RISE_S)
        segs.append((to_prev, t_msw, RISE, R_RISE, w_prev, c.omega_peak, RISE_POWER, 0.0))
        segs.append((t_msw, c.ic, COS, R_FALL, c.omega_peak, c.omega_ic, 1.0, 0.0))
        events.append(GaitEvent(t_msw, side, "MSW", c.omega_peak))
        events.append(GaitEvent(c.ic, side, "IC", c.omega_ic))
        ic_t.append(c.ic)
        ic_gyro.append(c.impact_gyro)
        ic_acc.append(c.impact_acc_g * G)
        if c.final:
            segs.append((c.ic, c.ic + c.settle_s, COS, R_SETTLE, c.omega_ic, 0.0, 1.0, c.bounce_g))
            cursor = c.ic + c.settle_s
            pending = None
        else:
            power = STANCE_POWER_WALK if c.walking else STANCE_POWER_RUN
            segs.append((c.ic, c.to, POW, R_STANCE, c.omega_ic, c.omega_to, power, c.bounce_g))
            events.append(GaitEvent(c.to, side, "TO", c.omega_to))
            pending = (c.to, c.omega_to)
    if pending is not None:
        raise RuntimeError("simulator bug: session ends in swing")
    segs.append((cursor, _T_FAR, CONST, R_STAND, 0.0, 0.0, 1.0, 0.0))
    cols = list(zip(*segs))
    return LegSchedule(
        side=side,
        t0=np.array(cols[0]), t1=np.array(cols[1]),
        shape=np.array(cols[2], dtype=np.int8), role=np.array(cols[3], dtype=np.int8),
        a=np.array(cols[4]), b=np.array(cols[5]), p=np.array(cols[6]), bounce=np.array(cols[7]),
        ic_t=np.array(ic_t), ic_gyro=np.array(ic_gyro), ic_acc=np.array(ic_acc),
        stands=[s for s in timeline.stands if s.side == side],
        events=events,
    )


def _shape(shape: np.ndarray, u: np.ndarray, p: np.ndarray) -> np.ndarray:
    """S(u) for every sample, by segment shape."""
    s = np.zeros_like(u)
    m = shape == POW
    s[m] = u[m] ** p[m]
    m = shape == RISE
    s[m] = 1.0 - (1.0 - u[m]) ** p[m]
    m = shape == COS
    s[m] = 0.5 * (1.0 - np.cos(np.pi * u[m]))
    return s


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def _impacts(t: np.ndarray, ic_t: np.ndarray, amp: np.ndarray,
             params: tuple) -> tuple[np.ndarray, np.ndarray]:
    """Indices of samples inside an impact window and the (positive-first) pulse there."""
    freq, tau, flat, end = params
    if ic_t.size == 0:
        return np.zeros(0, dtype=np.intp), np.zeros(0)
    j = np.searchsorted(ic_t, t, side="right") - 1
    dt = t - ic_t[np.maximum(j, 0)]
    idx = np.flatnonzero((j >= 0) & (dt < end))
    dt = dt[idx]
    taper = np.where(dt < flat, 1.0, 0.5 * (1.0 + np.cos(np.pi * (dt - flat) / (end - flat))))
    shape = np.exp(-dt / tau) * np.sin(2 * np.pi * freq * dt) * taper
    pulse = amp[j[idx]] / _damped_sine_peak(freq, tau) * shape
    return idx, pulse


def fidget_omega(t: np.ndarray, stands: list[Stand], rng: np.random.Generator) -> np.ndarray:
    """Standing sway and weight shifts (rad/s) on the sample times *t*; zero outside standing.

    Sway: three sinusoids (0.15–1.2 Hz, 0.03–0.10 rad/s each; smoothly down to ×0.3 while still at
    the start line).
    Weight shifts: one-period bumps ``sin(2πx) sin²(πx)`` of 0.5–1.0 s and 0.2–1.0 rad/s peak (shank
    tilt ≤ ~13°), one every ~1–3 s during the fidget part of a spell (integral zero: the shank
    returns to vertical).
    Each spell is tapered in and out over 0.4 s, so ω is exactly the gait model at its ends.
    """
    out = np.zeros_like(t)
    freqs = rng.uniform(0.15, 1.2, 3)
    amps = rng.uniform(0.03, 0.10, 3)
    bump_norm = 0.6495190525534194  # max of sin(2πx) sin²(πx)
    for st in stands:
        i0, i1 = np.searchsorted(t, [st.start, st.end])
        phases = rng.uniform(0.0, 2 * np.pi, 3)
        bumps = []
        tb = st.start + FIDGET_TAPER_S + rng.uniform(0.0, 1.0)
        while True:
            dur = rng.uniform(0.5, 1.0)
            if tb + dur > st.still_from - FIDGET_TAPER_S:
                break
            amp = min(rng.uniform(0.2, 1.0), 0.6 / dur)  # shank tilt of a shift ≤ ~13°
            bumps.append((tb, dur, rng.choice((-1.0, 1.0)) * amp))
            tb += dur + rng.uniform(0.3, 2.0)
        if i1 <= i0:
            continue
        ts = t[i0:i1]
        sway = sum(a * np.sin(2 * np.pi * f * ts + ph) for a, f, ph in zip(amps, freqs, phases))
        sway *= 1.0 - 0.7 * _smoothstep((ts - st.still_from) / 0.5 + 0.5)  # calm down at the line
        for tb, dur, amp in bumps:
            j0, j1 = np.searchsorted(ts, [tb, tb + dur])
            x = (ts[j0:j1] - tb) / dur
            sway[j0:j1] += amp / bump_norm * np.sin(2 * np.pi * x) * np.sin(np.pi * x) ** 2
        span = st.end - st.start
        taper = min(FIDGET_TAPER_S, span / 2.0) if span > 0 else 1.0
        w = _smoothstep((ts - st.start) / taper) * _smoothstep((st.end - ts) / taper)
        out[i0:i1] = sway * w
    return out


@dataclass
class LegSignals:
    """Canonical-frame, noise-free signals of one leg on its sample times."""

    omega: np.ndarray  # sagittal ω incl. impact transient and fidget, rad/s
    ch: np.ndarray  # (6, n) float64, channel-major: ax, ay, az (m/s²), gx, gy, gz (rad/s), canonical


def leg_signals(t: np.ndarray, sched: LegSchedule, fidget_rng: np.random.Generator | None) -> LegSignals:
    """Sample one leg's canonical IMU signals at times *t* (s, increasing, uniform spacing).

    Parameters
    ----------
    t : ndarray
        Sample times, s.
    sched : LegSchedule
        From :func:`leg_schedule`.
    fidget_rng : numpy.random.Generator or None
        Generator of the standing fidget; ``None`` = perfectly still standing.
    """
    seg = np.searchsorted(sched.t0, t, side="right") - 1
    t0, t1 = sched.t0[seg], sched.t1[seg]
    dur = t1 - t0
    u = np.clip((t - t0) / np.where(dur > 0, dur, 1.0), 0.0, 1.0)
    shape = sched.shape[seg]
    a = sched.a[seg]
    omega_smooth = a + (sched.b[seg] - a) * _shape(shape, u, sched.p[seg])
    del a
    if fidget_rng is not None:
        omega_smooth += fidget_omega(t, sched.stands, fidget_rng)
    omega = omega_smooth.copy()
    gi, gpulse = _impacts(t, sched.ic_t, sched.ic_gyro, GYRO_IMPACT)
    omega[gi] -= gpulse  # negative first lobe

    # Shank angle: integrate, remove drift between anchors, compress into [THETA_MIN, THETA_MAX].
    theta = _shank_angle(t, omega, sched)

    # World-sagittal specific force in stance (vertical bounce, horizontal brake/propulsion).
    role = sched.role[seg]
    bounce = sched.bounce[seg] * G
    vert = np.full_like(t, G)
    fwd = np.zeros_like(t)
    m = role == R_STANCE
    vert[m] += bounce[m] * np.sin(np.pi * u[m])
    fwd[m] -= 0.25 * bounce[m] * np.sin(2 * np.pi * u[m])
    m = role == R_PUSH
    vert[m] += bounce[m] * np.sin(np.pi * u[m])
    fwd[m] += 0.3 * bounce[m] * np.sin(np.pi * u[m])
    m = role == R_SETTLE
    vert[m] += bounce[m] * np.sin(np.pi * u[m])
    del bounce
    cos_t, sin_t = np.cos(theta), np.sin(theta)
    x = np.empty((6, t.size))
    x[0] = vert * cos_t - fwd * sin_t
    x[1] = vert * sin_t + fwd * cos_t
    del vert, fwd, cos_t, sin_t, theta

    # Kinematics of the sensor below the knee, faded in over the rise, out over the late fall.
    fade = np.zeros_like(t)
    m = role == R_RISE
    fade[m] = _smoothstep(u[m])
    m = role == R_FALL
    fade[m] = 1.0 - _smoothstep(2.0 * u[m] - 1.0)
    fade[role == R_STAND] = 1.0
    dt = (t[-1] - t[0]) / max(t.size - 1, 1)
    alpha = np.gradient(omega_smooth, dt) if t.size > 1 else np.zeros_like(t)
    x[0] += SENSOR_RADIUS_M * omega_smooth**2 * fade
    x[1] += SENSOR_RADIUS_M * alpha * fade
    del alpha, fade, role, u

    ai, apulse = _impacts(t, sched.ic_t, sched.ic_acc, ACC_IMPACT)
    x[0, ai] += apulse
    x[1, ai] -= 0.25 * apulse
    np.multiply(x[1], 0.06, out=x[2])
    x[2, ai] += 0.10 * apulse
    np.multiply(omega_smooth, 0.10, out=x[3])
    np.multiply(omega_smooth, -0.06, out=x[4])
    np.negative(omega, out=x[5])
    return LegSignals(omega=omega, ch=x)


def _shank_angle(t: np.ndarray, omega: np.ndarray, sched: LegSchedule) -> np.ndarray:
    """θ (rad): ∫ω dt re-anchored to 0 at ICs and standing-spell ends, bounded per interval."""
    n = t.size
    if n < 2:
        return np.zeros(n)
    raw = np.empty(n)
    raw[0] = 0.0
    np.cumsum(0.5 * (omega[1:] + omega[:-1]) * np.diff(t), out=raw[1:])
    anchors = np.concatenate([sched.ic_t, [s.start for s in sched.stands], [s.end for s in sched.stands],
                              [t[0], t[-1]]])
    anchors = np.unique(np.clip(anchors, t[0], t[-1]))
    theta = raw - np.interp(t, anchors, np.interp(anchors, t, raw))
    del raw
    starts = np.unique(np.searchsorted(t, anchors))
    starts = starts[starts < n]
    hi = np.maximum.reduceat(theta, starts)
    lo = np.minimum.reduceat(theta, starts)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.minimum(1.0, np.minimum(np.where(hi > THETA_MAX, THETA_MAX / hi, 1.0),
                                           np.where(lo < THETA_MIN, THETA_MIN / lo, 1.0)))
    counts = np.diff(np.append(starts, n))
    theta *= np.repeat(scale, counts)
    return theta
