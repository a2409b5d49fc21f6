"""The signal model: sagittal shank angular velocity ω(t) and the shank accelerometer, per leg.

Frame and signs
---------------
Everything here is in the canonical shank frame of :mod:`gaitmon.consts` (x up the shank, y forward,
z to the athlete's left), SI units. ``ω`` is the sagittal angular velocity, positive when the foot
swings forward; the gyro reads ``gz = −ω``. The shank angle ``θ`` is positive with the foot forward
of the knee; the world's "up" seen in the shank frame is ``(cos θ, sin θ, 0)``.

The stride anatomy (measured)
-----------------------------
On real treadmill running at 2–5 m/s with force-plate events (running_mocap, see ``docs/core.md``:
8 recordings of 3 runners, forefoot and rearfoot; virtual shank IMUs from motion capture), every
running stride of the sagittal shank ω has the same anatomy::

    MSW peak → steep fall through zero (t_zd) → IC → post-IC dip → mid-stance hump
             → late-stance descent, steepest at t_sd → TO → early-swing minimum ESmin → next MSW peak

Measured there (medians per recording): IC 11–24 ms after t_zd (ω at IC −1 … −4.7 rad/s); the
post-IC dip −5 … −10 rad/s, 30–60 ms after IC (11–23 % of the contact); the hump −0.4 … +0.3
rad/s; TO 25 ms before to 7 ms after the steepest point of the late-stance descent (slope −52 …
−196 rad/s²); ESmin −4.7 … −9.9 rad/s, 48–100 ms after TO (43–78 ms after t_sd, 7–11 % of the
stride). Within a runner the event offsets vary by 3–6 ms (SD); between runners by ~15 ms.

The model
---------
ω is a C¹ piecewise cubic Hermite curve through knots (time, value, slope). The timeline decides IC
and TO (the truth; they never move); the knots are placed around them so that the features land
where the stride's offsets say. ``δ_IC`` and ``δ_TO`` are drawn **per athlete** with a per-stride
jitter (:mod:`gaitmon.sim.athlete`, stored in ``SimulatedSession.athlete``), so no fixed offset
exists that a detector could be tuned to. Per running contact (``c`` = contact time, ``T`` =
stride time, fractions per athlete, see :mod:`gaitmon.sim.athlete`):

1. **Zero crossing** ``t_zd = IC − δ_IC`` (δ_IC ~ N(18, 5) ms per athlete, clipped to 5–35 ms): knot
   ``ω = 0`` with slope ``−F``, ``F = max(1.3 Ω/H₁, 1.3 |dip|/H₂)`` (``H₁``, ``H₂``: time from the
   MSW peak to ``t_zd`` and from ``t_zd`` to the dip), capped at 3× either mean slope so both
   neighbouring segments stay monotone. Measured: slope at t_zd 95–260 rad/s² and 1.3–2.8× the
   mean slope on either side, the fall steepest just after the crossing, MSW peak 103–120 ms before
   it. The model gives 150–360 rad/s² below 5.5 m/s (its swing peaks and dips there sit at the
   high end of the measured ones), 280–660 rad/s² sprinting, 30–80 rad/s² walking; ω at IC comes
   out at −2 … −8 rad/s below 5.5 m/s (measured −1 … −4.7), −3 … −11 rad/s sprinting and
   −0.3 … −1 rad/s walking.
2. **Post-IC dip** (local minimum, slope 0) at ``IC + f_dip c`` (f_dip 0.11–0.23: 30–60 ms on
   running contacts, compressed proportionally to 10–35 ms on sprint contacts of 85–160 ms).
3. **Mid-stance hump** (local maximum, slope 0) at ``t_sd − H_a``, ``H_a = max(f_hump c,
   (t_sd − TO) + 0.08 c)`` (the hump stays in stance), at most 60 % of the dip → t_sd span.
4. **Steepest late-stance descent** ``t_sd = TO − δ_TO`` (δ_TO ~ N(−13, 9) ms per athlete, clipped to
   −35 … +10 ms, i.e. TO usually before it), slope ``−S``; **ESmin** (slope 0) at ``t_sd + H_b``,
   ``H_b = f_es T`` (f_es 0.065–0.105: 43–78 ms at 2–5 m/s strides, 28–45 ms at sprint strides).
   Each of the two segments hump → t_sd → ESmin ends with a slope 1.5 times its mean slope
   (``S = 1.5 (hump − ESmin)/(H_a + H_b)``), so ``|dω/dt|`` grows monotonically up to ``t_sd`` and
   falls after it, with a smooth (C²) maximum there: ``t_sd`` *is* the steepest point of the
   descent, by construction.
5. **MSW peak** Ω (slope 0; the truth MSW, the maximum of the continuous ω) at
   ``ESmin + f_msw (next t_zd − ESmin)`` (f_msw 0.62–0.72; measured 0.65–0.71), then the next
   stride's fall.

Every segment is monotone (Hermite end slopes within the Fritsch–Carlson bound), so the dip, hump,
ESmin and MSW peak are the only extrema of a stride and the zero crossing before IC is unique.
Levels (:func:`gaitmon.sim.profile.stance_shape`, × the athlete's gains): running dip
``−clip(0.75 Ω − 0.5, 2, 11)``, hump ≈ 0 (sinking to −1.5 rad/s at sprint peaks), ESmin
``−clip(0.8 Ω − 1.2, 2, 12)`` rad/s.

**Walking** (recovery) follows the same knots in a milder form (modelled): post-swing minimum
≈ −1 rad/s at ``IC + 0.4 f_dip c`` (near IC), hump −0.45 rad/s at ``t_sd − max(0.5 f_hump c,
(t_sd − TO) + 0.08 c)``, ESmin ≈ −2.4 rad/s at ``t_sd + 0.25 f_es T`` (≈ 15–60 ms after TO: the
toe-off minimum of walking shank signals [AM02]), the same athlete offsets. A **standing start**
holds 0 and then descends within ≤ 60 ms into the steepest point at ``TO − δ_TO`` and ESmin. The
**last contact** of a walking bout has its zero crossing, IC and a dip 40 ms after IC, then relaxes
to 0 (zero slopes) and the leg stands.
**Standing**: ω = fidget only (sway + smooth weight shifts, |ω| < 1.5 rad/s, tapered to zero at the
ends of each standing spell).

Impacts
-------
The accelerometer keeps an **impact pulse** at IC (real shank IMUs show one, Purcell et al. 2006;
sprint IMU methods use it [ME25r][SC16][TUM21]): along +x a 35 Hz damped sine (τ = 7 ms, peak
~4.5 ms after IC; 2 g walking to ~9 g at top speed) tapered to zero by IC + 30 ms, with 25 %
braking shear along −y and 10 % along z. ω carries a smaller ringing from IC on (30 Hz, τ = 8 ms,
first lobe negative, 0.8 → 2.8 rad/s with speed, zero by IC + 25 ms): a ripple on the post-IC dip.
Both are scaled by the athlete's ``impact_scale`` (U(0.75, 1.25)); a **soft lander** (share
``SimConfig.soft_impact_share``: soft surface, loose strap) has scale 0 — no impact at all, and
IC must be found from ω.

Accelerometer
-------------
Specific force = world vertical ``g (1 + bounce)`` and forward ``F`` (stance only: the spring-mass
peak force minus body weight with a ``sin²(πu)`` profile, and a braking-then-propulsive
``−0.3 bounce sin(2πu) sin(πu)``; both start and end with zero slope, so without an impact no
few-millisecond feature marks IC) rotated by ``θ``, plus the swing/standing kinematics of a sensor
``r = 0.25 m`` below the knee (centripetal ``r ω²`` along +x, tangential ``r dω/dt`` along +y;
smoothly faded in over TO → MSW and out over the second half of MSW → IC, so neither event gets a
step). |a| thus has a smooth minimum near IC (measured: right at IC) and then loads over the
stance, plus the impact pulse.

Out of the sagittal plane the signals are small and smooth: ``gx = 0.10 ω`` and ``gy = −0.06 ω``
(long-axis and frontal rotation, without the impact ringing), ``az = 0.06 ay`` plus 10 % of the
impact pulse.

``θ = ∫ω dt`` (without the impact ringing, a vibration rather than a rotation of the shank) is
re-anchored to 0 at every IC and at the ends of every standing spell (linear drift removal) and
compressed per interval into −30° … +60°; ω amplitudes of a sprinting shank would otherwise
integrate to unphysical angles.

Modelled vs measured
--------------------
*Measured* (running_mocap, 2–5 m/s, 3 runners): the order of the features; the distributions of
δ_IC and δ_TO (from the runner medians) and the size of their per-stride jitter; the dip time as a
fraction of the contact; the hump level; the ESmin gap as a fraction of the stride; the MSW
position; the steepness of the fall through zero; the dip and ESmin levels at swing peaks of
7–12 rad/s. Caveat: those signals are derived from markers and low-passed at 15 Hz (no impact,
no high-frequency content), from three runners only.
*Modelled* (I), not measured: the Hermite shapes between the features; everything at sprint speeds
(contacts 85–160 ms, swing peaks 20–25 rad/s: offsets kept in ms, timing fractions scaled with the
contact or stride, levels capped); walking; the impact pulses, their sizes and the soft-lander
share; the accelerometer model; the out-of-plane signals.

References (keys as in the project's science notes): shank angular velocity in sprinting reaches
tens of rad/s [CH05]; the impact's axial acceleration spike marks contact in sprint IMU methods
(shank accelerometers [ME25r], ankle IMUs [SC16][TUM21]); Purcell B, Channells J, James D, Barrett R
(2006), Use of accelerometers for detecting foot-ground contact time during running, Proc. SPIE
6036. Amplitudes marked here without a citation are modelling choices (I).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..consts import STANDARD_GRAVITY as G
from ..events import GaitEvent
from .timeline import Contact, Push, Stand, Timeline

#: Segment roles (for the accelerometer).
R_STAND, R_STANCE, R_PUSH, R_SETTLE, R_RISE, R_FALL = 0, 1, 2, 3, 4, 5

#: Ratio of the end slope to the mean slope of the two segments around the steepest late-stance
#: point (1.5: |dω/dt| has a smooth maximum exactly at t_sd; ≤ 3 keeps a segment monotone).
STEEP_RATIO = 1.5
#: Same ratio for the fall through zero (measured 1.3–2.8 on either side of the crossing): preferred
#: value, and the largest one that keeps a segment monotone.
FALL_RATIO = 1.3
MAX_RATIO = 3.0
#: The hump stays at least this fraction of the contact before TO.
HUMP_LEAD = 0.08
#: The hump is placed at most this fraction of the way back from t_sd to the dip.
HUMP_MAX_SHARE = 0.6
#: Walking: dip time, hump lead and ESmin gap relative to the running fractions.
WALK_DIP_SCALE = 0.4
WALK_HUMP_SCALE = 0.5
WALK_ES_SCALE = 0.25
#: Standing start: longest descent from rest to the steepest point, s; stride used for its ESmin gap, s.
PUSH_DESCENT_S = 0.06
PUSH_STRIDE_S = 0.5
#: Last contact of a bout: dip after IC, s.
FINAL_DIP_S = 0.04
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
    """Knots of one leg's ω, the accelerometer's phase roles and the truth events they imply."""

    side: str
    kt: np.ndarray  # knot times, s (strictly increasing)
    kw: np.ndarray  # ω at the knots, rad/s
    km: np.ndarray  # dω/dt at the knots, rad/s²
    r_t0: np.ndarray  # role interval starts, s
    r_t1: np.ndarray  # role interval ends, s
    role: np.ndarray  # R_*
    bounce: np.ndarray  # stance bounce, g
    ic_t: np.ndarray  # IC times, s
    ic_gyro: np.ndarray  # ω impact ringing peak, rad/s
    ic_acc: np.ndarray  # acc impact peak, m/s²
    stands: list[Stand]
    events: list[GaitEvent]
    features: list[dict] = field(default_factory=list)  # one per contact / standing start


def hermite(t: np.ndarray, kt: np.ndarray, kw: np.ndarray, km: np.ndarray,
            derivative: bool = False) -> np.ndarray:
    """The C¹ piecewise cubic Hermite curve through knots ``(kt, kw, km)`` (or its derivative) at *t*."""
    t = np.asarray(t, dtype=float)
    j = np.clip(np.searchsorted(kt, t, side="right") - 1, 0, kt.size - 2)
    t0 = kt[j]
    h = kt[j + 1] - t0
    u = (t - t0) / h
    w0, w1, m0, m1 = kw[j], kw[j + 1], km[j] * h, km[j + 1] * h
    if derivative:
        return ((6.0 * u * u - 6.0 * u) * (w0 - w1) + (3.0 * u * u - 4.0 * u + 1.0) * m0
                + (3.0 * u * u - 2.0 * u) * m1) / h
    u2 = u * u
    u3 = u2 * u
    return ((2.0 * u3 - 3.0 * u2 + 1.0) * w0 + (u3 - 2.0 * u2 + u) * m0
            + (3.0 * u2 - 2.0 * u3) * w1 + (u3 - u2) * m1)


def _descent(t_start: float, w_start: float, t_sd: float, gap: float, w_es: float) -> list[tuple]:
    """Knots of a late-stance descent steepest at *t_sd*: start (slope 0), t_sd, ESmin (slope 0)."""
    h_a, h_b = t_sd - t_start, gap
    drop = w_start - w_es
    w_sd = w_start - drop * h_a / (h_a + h_b)
    slope = STEEP_RATIO * drop / (h_a + h_b)
    return [(t_start, w_start, 0.0), (t_sd, w_sd, -slope), (t_sd + gap, w_es, 0.0)]


def _fall_slope(peak: float, h1: float, dip: float, h2: float) -> float:
    """Slope magnitude at the zero crossing: steep, but both neighbouring segments monotone."""
    want = max(FALL_RATIO * peak / h1, FALL_RATIO * -dip / h2)
    return min(want, MAX_RATIO * peak / h1, MAX_RATIO * -dip / h2)


def leg_schedule(side: str, timeline: Timeline, impact_scale: float = 1.0) -> LegSchedule:
    """Turn the timeline of one leg into ω knots, accelerometer roles and truth events.

    The contacts and pushes must carry their per-stride shape (:func:`gaitmon.sim.athlete.assign_strides`).
    *impact_scale* multiplies both impact transients (0 = a soft lander). See the module docstring.
    """
    items: list[tuple[float, object]] = [(c.ic, c) for c in timeline.contacts if c.side == side]
    items += [(p.start, p) for p in timeline.pushes if p.side == side]
    items.sort(key=lambda it: it[0])
    contacts = [it for _, it in items if isinstance(it, Contact)]
    next_ic = {id(a): b.ic for a, b in zip(contacts, contacts[1:])}
    knots: list[tuple] = [(-_T_FAR, 0.0, 0.0)]
    roles: list[tuple] = []  # (t0, t1, role, bounce)
    events: list[GaitEvent] = []
    features: list[dict] = []
    ic_t, ic_gyro, ic_acc = [], [], []
    cursor = -_T_FAR
    pending: tuple[float, float] | None = None  # (TO, ESmin time) of the swing in progress
    msw_t = float("nan")
    for _, item in items:
        if isinstance(item, Push):
            p: Push = item
            if pending is not None:
                raise RuntimeError("simulator bug: standing start while the leg is in swing")
            roles.append((cursor, p.start, R_STAND, 0.0))
            roles.append((p.start, p.to, R_PUSH, p.bounce_g))
            t_sd = p.to - p.delta_to
            gap = p.es_gap_fraction * PUSH_STRIDE_S
            h_a = min(PUSH_DESCENT_S, 0.5 * (t_sd - p.start))
            desc = _descent(t_sd - h_a, 0.0, t_sd, gap, p.omega_es)
            knots.append((p.start, 0.0, 0.0))
            knots += desc
            events.append(GaitEvent(p.to, side, "TO", float("nan")))
            features.append(dict(side=side, start=True, ic_s=float("nan"), to_s=p.to, msw_s=float("nan"),
                                 zero_crossing_s=float("nan"), delta_ic_s=float("nan"), dip_s=float("nan"),
                                 hump_s=float("nan"), steepest_s=t_sd, delta_to_s=p.delta_to,
                                 es_min_s=t_sd + gap, steepest_slope_rad_s2=desc[1][2]))
            pending = (p.to, t_sd + gap)
            continue
        c: Contact = item
        if pending is None:
            raise RuntimeError("simulator bug: contact without a preceding swing")
        to_prev, es_prev = pending
        t_zd = c.ic - c.delta_ic
        msw_t = es_prev + c.msw_fraction * (t_zd - es_prev)
        roles.append((to_prev, msw_t, R_RISE, 0.0))
        roles.append((msw_t, c.ic, R_FALL, 0.0))
        if c.final:
            t_dip = c.ic + FINAL_DIP_S
        else:
            t_dip = c.ic + c.dip_fraction * c.contact * (WALK_DIP_SCALE if c.walking else 1.0)
        fall = _fall_slope(c.omega_peak, t_zd - msw_t, c.omega_dip, t_dip - t_zd)
        knots += [(msw_t, c.omega_peak, 0.0), (t_zd, 0.0, -fall), (t_dip, c.omega_dip, 0.0)]
        events.append(GaitEvent(msw_t, side, "MSW", c.omega_peak))
        events.append(GaitEvent(c.ic, side, "IC", float("nan")))
        ic_t.append(c.ic)
        ic_gyro.append(c.impact_gyro * impact_scale)
        ic_acc.append(c.impact_acc_g * G * impact_scale)
        row = dict(side=side, start=False, ic_s=c.ic, to_s=c.ic + c.contact, msw_s=msw_t,
                   zero_crossing_s=t_zd, delta_ic_s=c.delta_ic, dip_s=t_dip, hump_s=float("nan"),
                   steepest_s=float("nan"), delta_to_s=float("nan"), es_min_s=float("nan"),
                   steepest_slope_rad_s2=float("nan"))
        features.append(row)
        if c.final:
            roles.append((c.ic, c.ic + c.settle_s, R_SETTLE, c.bounce_g))
            knots.append((c.ic + c.settle_s, 0.0, 0.0))
            cursor = c.ic + c.settle_s
            pending = None
            continue
        stride = next_ic[id(c)] - c.ic
        t_sd = c.to - c.delta_to
        gap = c.es_gap_fraction * stride * (WALK_ES_SCALE if c.walking else 1.0)
        h_a = max(c.hump_fraction * c.contact * (WALK_HUMP_SCALE if c.walking else 1.0),
                  (t_sd - c.to) + HUMP_LEAD * c.contact)
        h_a = min(h_a, HUMP_MAX_SHARE * (t_sd - t_dip))
        desc = _descent(t_sd - h_a, c.omega_hump, t_sd, gap, c.omega_es)
        knots += desc
        roles.append((c.ic, c.to, R_STANCE, c.bounce_g))
        events.append(GaitEvent(c.to, side, "TO", float("nan")))
        row.update(hump_s=t_sd - h_a, steepest_s=t_sd, delta_to_s=c.delta_to, es_min_s=t_sd + gap,
                   steepest_slope_rad_s2=desc[1][2])
        pending = (c.to, t_sd + gap)
    if pending is not None:
        raise RuntimeError("simulator bug: session ends in swing")
    roles.append((cursor, _T_FAR, R_STAND, 0.0))
    knots.append((_T_FAR, 0.0, 0.0))
    kt, kw, km = (np.array(col, dtype=float) for col in zip(*knots))
    if not np.all(np.diff(kt) > 0) or not np.all(np.isfinite(kw)) or not np.all(np.isfinite(km)):
        bad = np.flatnonzero(~(np.diff(kt) > 0))
        raise RuntimeError(f"simulator bug: ω knots of the {side} leg out of order near t = "
                           f"{kt[bad[:3]] if bad.size else 'NaN'} s")
    # Event values: the continuous ω at TO and IC.
    ev_t = np.array([e.t for e in events])
    ev_w = hermite(ev_t, kt, kw, km)
    events = [e if e.kind == "MSW" else GaitEvent(e.t, e.side, e.kind, float(w))
              for e, w in zip(events, ev_w)]
    rt0, rt1, role, bounce = zip(*roles)
    return LegSchedule(
        side=side, kt=kt, kw=kw, km=km,
        r_t0=np.array(rt0), r_t1=np.array(rt1), role=np.array(role, dtype=np.int8), bounce=np.array(bounce),
        ic_t=np.array(ic_t), ic_gyro=np.array(ic_gyro), ic_acc=np.array(ic_acc),
        stands=[s for s in timeline.stands if s.side == side],
        events=events, features=features,
    )


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

    omega: np.ndarray  # sagittal ω incl. impact ringing and fidget, rad/s
    ch: np.ndarray  # (6, n) float64, channel-major: ax, ay, az (m/s²), gx, gy, gz (rad/s), canonical
    omega_smooth: np.ndarray | None = None  # ω without the impact ringing, rad/s


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
    omega_smooth = hermite(t, sched.kt, sched.kw, sched.km)
    if fidget_rng is not None:
        omega_smooth += fidget_omega(t, sched.stands, fidget_rng)
    omega = omega_smooth.copy()
    gi, gpulse = _impacts(t, sched.ic_t, sched.ic_gyro, GYRO_IMPACT)
    omega[gi] -= gpulse  # negative first lobe

    # Shank angle: integrate (without the impact ringing: a vibration, not a rotation of the shank),
    # remove drift between anchors, compress into [THETA_MIN, THETA_MAX].
    theta = _shank_angle(t, omega_smooth, sched)

    # Accelerometer roles: which phase each sample is in, and how far through it.
    seg = np.searchsorted(sched.r_t0, t, side="right") - 1
    t0, t1 = sched.r_t0[seg], sched.r_t1[seg]
    dur = t1 - t0
    u = np.clip((t - t0) / np.where(dur > 0, dur, 1.0), 0.0, 1.0)
    del t0, t1, dur
    role = sched.role[seg]

    # World-sagittal specific force in stance (vertical bounce, horizontal brake/propulsion); every
    # profile starts and ends with zero slope (no kink at IC or TO).
    bounce = sched.bounce[seg] * G
    vert = np.full_like(t, G)
    fwd = np.zeros_like(t)
    m = role == R_STANCE
    s1 = np.sin(np.pi * u[m])
    vert[m] += bounce[m] * s1 * s1
    fwd[m] -= 0.3 * bounce[m] * np.sin(2 * np.pi * u[m]) * s1
    m = role == R_PUSH
    s1 = np.sin(np.pi * u[m])
    vert[m] += bounce[m] * s1
    fwd[m] += 0.3 * bounce[m] * s1
    m = role == R_SETTLE
    s1 = np.sin(np.pi * u[m])
    vert[m] += bounce[m] * s1 * s1
    del bounce, s1
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
    del alpha, fade, role, u, seg

    ai, apulse = _impacts(t, sched.ic_t, sched.ic_acc, ACC_IMPACT)
    x[0, ai] += apulse
    x[1, ai] -= 0.25 * apulse
    np.multiply(x[1], 0.06, out=x[2])
    x[2, ai] += 0.10 * apulse
    np.multiply(omega_smooth, 0.10, out=x[3])
    np.multiply(omega_smooth, -0.06, out=x[4])
    np.negative(omega, out=x[5])
    return LegSignals(omega=omega, ch=x, omega_smooth=omega_smooth)


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
